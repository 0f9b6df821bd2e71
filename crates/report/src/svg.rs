//! SVG rendering of plots with plotters (`SVGBackend::with_string`, no fonts needed).

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::document::{DecisionPlot, LinePlot, PlotPoint, Series};
use crate::error::ReportError;
use crate::format::fmt_num;
use crate::geometry::{Grid, Pt, Rect, clip_polygon, clip_polyline, finite_runs};

/// Size of every rendered SVG, in pixels (width, height).
pub const SVG_SIZE: (u32, u32) = (720, 480);

/// Series of a [`LinePlot`] with at most this many finite points also get a dot per point.
pub const MARKER_MAX_POINTS: usize = 30;

/// Series colours, cycled in order (Tableau 10).
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
const POSITIVE: RGBColor = RGBColor(31, 119, 180);
const NEGATIVE: RGBColor = RGBColor(214, 39, 40);
pub(crate) const FONT: &str = "sans-serif";

pub(crate) fn render_err<E: std::fmt::Display>(plot: &str) -> impl Fn(E) -> ReportError + '_ {
    move |e| ReportError::Render { plot: plot.to_string(), message: e.to_string() }
}

pub(crate) fn invalid(plot: &str, field: &'static str, expected: &'static str, got: String) -> ReportError {
    ReportError::InvalidPlot { plot: plot.to_string(), field, expected, got }
}

pub(crate) fn check_range(plot: &str, field: &'static str, r: (f64, f64)) -> Result<(), ReportError> {
    if r.0.is_finite() && r.1.is_finite() && r.0 < r.1 && (r.1 - r.0).is_finite() {
        Ok(())
    } else {
        Err(invalid(plot, field, "finite (lo, hi) with lo < hi", format!("({}, {})", fmt_num(r.0), fmt_num(r.1))))
    }
}

/// `(min, max)` of the finite values, widened when degenerate: empty → (0, 1);
/// a single value v → v ± 10% of |v| (± 1 for v = 0).
pub(crate) fn data_extent(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) =
        values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        (0.0, 1.0)
    } else if lo == hi {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - pad, hi + pad)
    } else {
        (lo, hi)
    }
}

/// Picks the legend corner whose 40%×35% box holds the fewest points (ties: upper right,
/// upper left, lower right, lower left).
fn legend_corner(points: impl Iterator<Item = Pt>, r: &Rect) -> SeriesLabelPosition {
    let (w, h) = ((r.x1 - r.x0) * 0.4, (r.y1 - r.y0) * 0.35);
    let mut counts = [0usize; 4];
    for p in points.filter(|p| r.contains(*p)) {
        let right = p.0 >= r.x1 - w;
        let left = p.0 <= r.x0 + w;
        let upper = p.1 >= r.y1 - h;
        let lower = p.1 <= r.y0 + h;
        for (k, hit) in [upper && right, upper && left, lower && right, lower && left].into_iter().enumerate() {
            counts[k] += usize::from(hit);
        }
    }
    let best = (0..4).min_by_key(|&k| (counts[k], k)).unwrap_or(0);
    match best {
        0 => SeriesLabelPosition::UpperRight,
        1 => SeriesLabelPosition::UpperLeft,
        2 => SeriesLabelPosition::LowerRight,
        _ => SeriesLabelPosition::LowerLeft,
    }
}

fn line_plot_rect(p: &LinePlot) -> Result<Rect, ReportError> {
    let xs = p.series.iter().flat_map(|s| {
        let band = s.band.iter().flatten().map(|b| b.0);
        s.points.iter().map(|q| q.0).chain(band)
    });
    let (x0, x1) = data_extent(xs);
    check_range(&p.title, "series (x extent)", (x0, x1))?;
    let (y0, y1) = match p.y_range {
        Some(r) => {
            check_range(&p.title, "y_range", r)?;
            r
        }
        None => {
            let ys = p.series.iter().flat_map(|s| {
                let band = s.band.iter().flatten().flat_map(|b| [b.1, b.2]);
                s.points.iter().map(|q| q.1).chain(band)
            });
            let (lo, hi) = data_extent(ys);
            let pad = (hi - lo) * 0.05;
            let r = (lo - pad, hi + pad);
            check_range(&p.title, "series (y extent)", r)?;
            r
        }
    };
    Ok(Rect { x0, x1, y0, y1 })
}

/// The band of a series as polygons (lo forward, hi backward), one per finite run, clipped.
fn band_polygons(s: &Series, r: &Rect) -> Vec<Vec<Pt>> {
    let Some(band) = &s.band else {
        return Vec::new();
    };
    band.split(|b| !(b.0.is_finite() && b.1.is_finite() && b.2.is_finite()))
        .filter(|run| run.len() >= 2)
        .map(|run| {
            let poly: Vec<Pt> = run.iter().map(|b| (b.0, b.1)).chain(run.iter().rev().map(|b| (b.0, b.2))).collect();
            clip_polygon(&poly, r)
        })
        .filter(|poly| poly.len() >= 3)
        .collect()
}

pub(crate) fn new_root(buf: &mut String) -> DrawingArea<SVGBackend<'_>, Shift> {
    SVGBackend::with_string(buf, SVG_SIZE).into_drawing_area()
}

pub(crate) fn render_lines(p: &LinePlot) -> Result<String, ReportError> {
    let rect = line_plot_rect(p)?;
    let err = render_err(&p.title);
    let fmt = |v: &f64| fmt_num(*v);
    let mut buf = String::new();
    {
        let root = new_root(&mut buf);
        root.fill(&WHITE).map_err(&err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&p.title, (FONT, 22))
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(rect.x0..rect.x1, rect.y0..rect.y1)
            .map_err(&err)?;
        chart
            .configure_mesh()
            .x_desc(p.x_label.as_str())
            .y_desc(p.y_label.as_str())
            .x_label_formatter(&fmt)
            .y_label_formatter(&fmt)
            .axis_desc_style((FONT, 16))
            .label_style((FONT, 13))
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(215, 215, 215))
            .draw()
            .map_err(&err)?;

        for (i, s) in p.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let bands = band_polygons(s, &rect);
            chart
                .draw_series(bands.into_iter().map(|poly| Polygon::new(poly, color.mix(0.2).filled())))
                .map_err(&err)?;
            let runs = finite_runs(&s.points);
            let pieces: Vec<Vec<Pt>> = runs.iter().flat_map(|r| clip_polyline(r, &rect)).collect();
            let anno = chart
                .draw_series(pieces.into_iter().map(|piece| PathElement::new(piece, color.stroke_width(2))))
                .map_err(&err)?;
            if !s.name.is_empty() {
                anno.label(s.name.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3)));
            }
            let finite: Vec<Pt> = runs.into_iter().flatten().collect();
            if finite.len() <= MARKER_MAX_POINTS {
                chart
                    .draw_series(
                        finite.into_iter().filter(|q| rect.contains(*q)).map(|q| Circle::new(q, 3, color.filled())),
                    )
                    .map_err(&err)?;
            }
        }
        if p.series.iter().any(|s| !s.name.is_empty()) {
            let all = p.series.iter().flat_map(|s| s.points.iter().copied());
            chart
                .configure_series_labels()
                .position(legend_corner(all, &rect))
                .label_font((FONT, 14))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(160, 160, 160))
                .draw()
                .map_err(&err)?;
        }
        root.present().map_err(&err)?;
    }
    Ok(buf)
}

fn decision_grid(p: &DecisionPlot, rect: Rect) -> Result<Option<Grid<'_>>, ReportError> {
    if p.grid.is_empty() {
        return Ok(None);
    }
    let ny = p.grid.len();
    let nx = p.grid[0].len();
    if ny < 2 || nx < 2 {
        return Err(invalid(&p.title, "grid", "empty or at least 2x2 values", format!("{ny} rows of {nx}")));
    }
    if let Some((iy, row)) = p.grid.iter().enumerate().find(|(_, r)| r.len() != nx) {
        return Err(invalid(
            &p.title,
            "grid",
            "rows of equal length",
            format!("row {iy} has {} values, row 0 has {nx}", row.len()),
        ));
    }
    Ok(Some(Grid { values: &p.grid, nx, ny, rect }))
}

fn valid_point(q: &PlotPoint, r: &Rect) -> bool {
    q.x.is_finite() && q.y.is_finite() && q.label.abs() > 0.0 && r.contains((q.x, q.y))
}

pub(crate) fn render_decision(p: &DecisionPlot) -> Result<String, ReportError> {
    check_range(&p.title, "x_range", p.x_range)?;
    check_range(&p.title, "y_range", p.y_range)?;
    let rect = Rect { x0: p.x_range.0, x1: p.x_range.1, y0: p.y_range.0, y1: p.y_range.1 };
    let grid = decision_grid(p, rect)?;
    let err = render_err(&p.title);
    let fmt = |v: &f64| fmt_num(*v);
    let points: Vec<&PlotPoint> = p.points.iter().filter(|q| valid_point(q, &rect)).collect();
    let mut buf = String::new();
    {
        let root = new_root(&mut buf);
        root.fill(&WHITE).map_err(&err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&p.title, (FONT, 22))
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(rect.x0..rect.x1, rect.y0..rect.y1)
            .map_err(&err)?;
        let mut mesh = chart.configure_mesh();
        mesh.x_label_formatter(&fmt)
            .y_label_formatter(&fmt)
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 15))
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(215, 215, 215));
        if !p.x_label.is_empty() {
            mesh.x_desc(p.x_label.as_str());
        }
        if !p.y_label.is_empty() {
            mesh.y_desc(p.y_label.as_str());
        }
        mesh.draw().map_err(&err)?;

        let mut has_contour = false;
        if let Some(g) = grid {
            let runs = g.sign_runs();
            chart
                .draw_series(runs.into_iter().map(|(iy, a, b, positive)| {
                    let color = if positive { POSITIVE } else { NEGATIVE };
                    Rectangle::new(
                        [(g.x_boundary(a), g.y_boundary(iy)), (g.x_boundary(b), g.y_boundary(iy + 1))],
                        color.mix(0.13).filled(),
                    )
                }))
                .map_err(&err)?;
            let contour = g.zero_contour();
            if !contour.is_empty() {
                has_contour = true;
                chart
                    .draw_series(contour.into_iter().map(|line| PathElement::new(line, BLACK.stroke_width(2))))
                    .map_err(&err)?
                    .label("f = 0")
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], BLACK.stroke_width(2)));
            }
        }

        for (positive, color, name) in [(true, POSITIVE, "y = +1"), (false, NEGATIVE, "y = -1")] {
            let class: Vec<Pt> = points.iter().filter(|q| (q.label > 0.0) == positive).map(|q| (q.x, q.y)).collect();
            if class.is_empty() {
                continue;
            }
            chart
                .draw_series(class.into_iter().map(|q| Circle::new(q, 4, color.mix(0.9).filled())))
                .map_err(&err)?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 11, y), 4, color.filled()));
        }
        let marked: Vec<Pt> = points.iter().filter(|q| q.highlighted).map(|q| (q.x, q.y)).collect();
        if !marked.is_empty() {
            chart
                .draw_series(marked.into_iter().map(|q| Circle::new(q, 8, BLACK.stroke_width(2))))
                .map_err(&err)?
                .label(if p.highlight_label.is_empty() { "highlighted" } else { p.highlight_label.as_str() })
                .legend(|(x, y)| Circle::new((x + 11, y), 6, BLACK.stroke_width(2)));
        }
        if has_contour || !points.is_empty() {
            chart
                .configure_series_labels()
                .position(legend_corner(points.iter().map(|q| (q.x, q.y)), &rect))
                .label_font((FONT, 14))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(160, 160, 160))
                .draw()
                .map_err(&err)?;
        }
        root.present().map_err(&err)?;
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extent_rules() {
        assert_eq!(data_extent([].into_iter()), (0.0, 1.0));
        assert_eq!(data_extent([f64::NAN, f64::INFINITY].into_iter()), (0.0, 1.0));
        assert_eq!(data_extent([0.0].into_iter()), (-1.0, 1.0));
        assert_eq!(data_extent([10.0, 10.0].into_iter()), (9.0, 11.0));
        assert_eq!(data_extent([3.0, f64::NAN, -2.0].into_iter()), (-2.0, 3.0));
    }

    #[test]
    fn legend_avoids_crowded_corner() {
        let r = Rect { x0: 0.0, x1: 10.0, y0: 0.0, y1: 1.0 };
        // Accuracy-like curve near the top: both upper corners are crowded.
        let pts = (0..=10).map(|i| (f64::from(i), 0.95));
        assert!(matches!(legend_corner(pts, &r), SeriesLabelPosition::LowerRight));
        let none = std::iter::empty();
        assert!(matches!(legend_corner(none, &r), SeriesLabelPosition::UpperRight));
    }

    #[test]
    fn range_check_rejects_bad_ranges() {
        assert!(check_range("t", "y_range", (0.0, 1.0)).is_ok());
        for bad in [(1.0, 1.0), (1.0, 0.0), (f64::NAN, 1.0), (0.0, f64::INFINITY), (-f64::MAX, f64::MAX)] {
            let e = check_range("t", "y_range", bad).unwrap_err();
            assert!(matches!(e, ReportError::InvalidPlot { field: "y_range", .. }), "{bad:?}");
        }
    }
}
