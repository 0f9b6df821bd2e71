//! SVG rendering of a [`HeatmapPlot`]: labelled cells, a colour legend on the right, per-cell
//! text and an overlay line.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::document::{ColorScale, HeatmapPlot};
use crate::error::ReportError;
use crate::format::fmt_num;
use crate::geometry::{Pt, Rect, clip_polyline, finite_runs};
use crate::svg::{FONT, PALETTE, SVG_SIZE, check_range, data_extent, invalid, new_root, render_err};

/// Width of the legend panel on the right, in pixels.
const LEGEND_WIDTH: u32 = 170;
/// Colour of a missing cell.
const MISSING: RGBColor = RGBColor(225, 225, 225);
/// Anchors of the viridis colour map at 0, 1/8, …, 1 (matplotlib's values, rounded).
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

/// The colour of t ∈ [0, 1] on the viridis map: linear interpolation between the two nearest
/// anchors, c = a_i + (8t − i)(a_{i+1} − a_i), i = ⌊8t⌋ (t clamped to [0, 1]; NaN → 0).
pub(crate) fn viridis(t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let s = t * 8.0;
    let i = (s.floor() as usize).min(7);
    let f = s - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |x: u8, y: u8| (f64::from(x) + f * (f64::from(y) - f64::from(x))).round().clamp(0.0, 255.0) as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Black on light colours, white on dark ones (luma 0.299r + 0.587g + 0.114b against 140).
fn text_color(c: RGBColor) -> RGBColor {
    let luma = 0.299 * f64::from(c.0) + 0.587 * f64::from(c.1) + 0.114 * f64::from(c.2);
    if luma > 140.0 { BLACK } else { WHITE }
}

/// The validated colouring of one plot.
enum Coloring {
    Continuous { lo: f64, hi: f64 },
    Categorical { colors: Vec<RGBColor> },
}

impl Coloring {
    /// The cell colour of `v`, None for a missing cell.
    fn color(&self, v: f64) -> Option<RGBColor> {
        if !v.is_finite() {
            return None;
        }
        match self {
            Coloring::Continuous { lo, hi } => Some(viridis((v - lo) / (hi - lo))),
            Coloring::Categorical { colors } => {
                let i = v.round();
                (i == v && i >= 0.0 && (i as usize) < colors.len()).then(|| colors[i as usize])
            }
        }
    }
}

fn check_shape(p: &HeatmapPlot) -> Result<(), ReportError> {
    let (nr, nc) = (p.rows.len(), p.columns.len());
    if nr == 0 || nc == 0 {
        return Err(invalid(&p.title, "rows/columns", "at least one row and one column", format!("{nr} x {nc}")));
    }
    if p.values.len() != nr {
        return Err(invalid(&p.title, "values", "one row of values per row label", format!("{} rows", p.values.len())));
    }
    if let Some((r, row)) = p.values.iter().enumerate().find(|(_, row)| row.len() != nc) {
        return Err(invalid(
            &p.title,
            "values",
            "one value per column label in every row",
            format!("row {r} has {} values for {nc} columns", row.len()),
        ));
    }
    if !p.annotations.is_empty() {
        if p.annotations.len() != nr {
            return Err(invalid(
                &p.title,
                "annotations",
                "empty, or the shape of values",
                format!("{} rows for {nr}", p.annotations.len()),
            ));
        }
        if let Some((r, row)) = p.annotations.iter().enumerate().find(|(_, row)| row.len() != nc) {
            return Err(invalid(
                &p.title,
                "annotations",
                "empty, or the shape of values",
                format!("row {r} has {} entries for {nc} columns", row.len()),
            ));
        }
    }
    Ok(())
}

fn coloring(p: &HeatmapPlot) -> Result<Coloring, ReportError> {
    match &p.scale {
        ColorScale::Continuous { range, .. } => {
            let (lo, hi) = match *range {
                Some(r) => r,
                None => data_extent(p.values.iter().flatten().copied()),
            };
            check_range(&p.title, "scale.range", (lo, hi))?;
            Ok(Coloring::Continuous { lo, hi })
        }
        ColorScale::Categorical { names, colors } => {
            if names.is_empty() {
                return Err(invalid(&p.title, "scale.names", "at least one category", "none".into()));
            }
            if !colors.is_empty() && colors.len() != names.len() {
                return Err(invalid(
                    &p.title,
                    "scale.colors",
                    "empty, or one colour per category name",
                    format!("{} colours for {} names", colors.len(), names.len()),
                ));
            }
            let colors = if colors.is_empty() {
                (0..names.len()).map(|i| PALETTE[i % PALETTE.len()]).collect()
            } else {
                colors.iter().map(|&(r, g, b)| RGBColor(r, g, b)).collect()
            };
            Ok(Coloring::Categorical { colors })
        }
    }
}

/// Maps cell coordinates (x from the left edge, y from the top edge) to chart coordinates
/// (y up from the bottom edge).
fn to_chart(p: Pt, nr: f64) -> Pt {
    (p.0, nr - p.1)
}

pub(crate) fn render_heatmap(p: &HeatmapPlot) -> Result<String, ReportError> {
    check_shape(p)?;
    let coloring = coloring(p)?;
    let err = render_err(&p.title);
    let (nr, nc) = (p.rows.len(), p.columns.len());
    let (fr, fc) = (nr as f64, nc as f64);
    let rect = Rect { x0: 0.0, x1: fc, y0: 0.0, y1: fr };
    let any_missing = p.values.iter().flatten().any(|&v| coloring.color(v).is_none());
    let row_chars = p.rows.iter().map(|r| r.chars().count()).max().unwrap_or(0);
    let y_area =
        u32::try_from(row_chars * 7 + if p.y_label.is_empty() { 16 } else { 40 }).unwrap_or(220).clamp(40, 220);
    let overlay: Vec<Vec<Pt>> = p
        .overlay
        .iter()
        .flat_map(|o| {
            let pts: Vec<Pt> = o.points.iter().map(|&q| to_chart(q, fr)).collect();
            finite_runs(&pts).into_iter().flat_map(|run| clip_polyline(&run, &rect)).collect::<Vec<_>>()
        })
        .collect();

    let mut buf = String::new();
    {
        let root = new_root(&mut buf);
        root.fill(&WHITE).map_err(&err)?;
        let (main, side) = root.split_horizontally(SVG_SIZE.0 - LEGEND_WIDTH);
        let mut chart = ChartBuilder::on(&main)
            .caption(&p.title, (FONT, 22))
            .margin(14)
            .x_label_area_size(if p.x_label.is_empty() { 30 } else { 52 })
            .y_label_area_size(y_area)
            .build_cartesian_2d(0.0..fc, 0.0..fr)
            .map_err(&err)?;
        let mut mesh = chart.configure_mesh();
        mesh.disable_mesh().x_labels(0).y_labels(0).axis_desc_style((FONT, 16));
        if !p.x_label.is_empty() {
            mesh.x_desc(p.x_label.as_str());
        }
        if !p.y_label.is_empty() {
            mesh.y_desc(p.y_label.as_str());
        }
        mesh.draw().map_err(&err)?;

        // Cells, then thin white separators.
        let mut cells = Vec::with_capacity(nr * nc);
        for (r, row) in p.values.iter().enumerate() {
            for (c, &v) in row.iter().enumerate() {
                let color = coloring.color(v).unwrap_or(MISSING);
                let (x0, y1) = to_chart((c as f64, r as f64), fr);
                cells.push(((x0, y1 - 1.0), (x0 + 1.0, y1), color));
            }
        }
        chart.draw_series(cells.iter().map(|&(a, b, color)| Rectangle::new([a, b], color.filled()))).map_err(&err)?;
        chart
            .draw_series(cells.iter().map(|&(a, b, _)| Rectangle::new([a, b], WHITE.stroke_width(1))))
            .map_err(&err)?;

        // Column and row labels at the cell centres.
        let label = |h: HPos, v: VPos| TextStyle::from((FONT, 13).into_font()).pos(Pos::new(h, v));
        chart
            .draw_series(p.columns.iter().enumerate().map(|(c, s)| {
                EmptyElement::at((c as f64 + 0.5, 0.0)) + Text::new(s.clone(), (0, 6), label(HPos::Center, VPos::Top))
            }))
            .map_err(&err)?;
        chart
            .draw_series(p.rows.iter().enumerate().map(|(r, s)| {
                EmptyElement::at((0.0, fr - r as f64 - 0.5))
                    + Text::new(s.clone(), (-6, 0), label(HPos::Right, VPos::Center))
            }))
            .map_err(&err)?;

        // Annotations, sized to fit the cells.
        if !p.annotations.is_empty() {
            let (w, h) = main.dim_in_pixel();
            let cell_w = f64::from(w.saturating_sub(y_area + 28)) / fc;
            let cell_h = f64::from(h.saturating_sub(110)) / fr;
            let chars = p.annotations.iter().flatten().map(|a| a.chars().count()).max().unwrap_or(1).max(1) as f64;
            let size = (cell_h * 0.45).min(cell_w / (0.62 * chars)).clamp(8.0, 14.0).round();
            let mut texts = Vec::new();
            for (r, row) in p.annotations.iter().enumerate() {
                for (c, a) in row.iter().enumerate().filter(|(_, a)| !a.is_empty()) {
                    let fill = coloring.color(p.values[r][c]).unwrap_or(MISSING);
                    let style = TextStyle {
                        font: (FONT, size).into_font(),
                        color: text_color(fill).to_backend_color(),
                        pos: Pos::new(HPos::Center, VPos::Center),
                    };
                    texts.push(Text::new(a.clone(), (c as f64 + 0.5, fr - r as f64 - 0.5), style));
                }
            }
            chart.draw_series(texts).map_err(&err)?;
        }

        // The overlay: a white casing under a black line, so it shows on any cell colour.
        if !overlay.is_empty() {
            chart
                .draw_series(overlay.iter().map(|l| PathElement::new(l.clone(), WHITE.stroke_width(5))))
                .map_err(&err)?;
            chart
                .draw_series(overlay.iter().map(|l| PathElement::new(l.clone(), BLACK.stroke_width(2))))
                .map_err(&err)?;
        }

        draw_legend(&side, p, &coloring, any_missing, !overlay.is_empty()).map_err(&err)?;
        root.present().map_err(&err)?;
    }
    Ok(buf)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// The legend panel: the colour bar or the category swatches, then "missing" and the overlay.
fn draw_legend(
    side: &Area<'_>,
    p: &HeatmapPlot,
    coloring: &Coloring,
    missing: bool,
    overlay: bool,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let text = |s: &str, x: i32, y: i32, v: VPos| {
        Text::new(s.to_string(), (x, y), TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Left, v)))
    };
    let mut y = 60;
    match (&p.scale, coloring) {
        (ColorScale::Continuous { label, .. }, Coloring::Continuous { lo, hi }) => {
            if !label.is_empty() {
                side.draw(&text(label, 8, y - 14, VPos::Center))?;
            }
            let (top, bottom, strips) = (y, 360, 64);
            let step = f64::from(bottom - top) / f64::from(strips);
            for s in 0..strips {
                let t = 1.0 - (f64::from(s) + 0.5) / f64::from(strips);
                let y0 = top + (f64::from(s) * step).round() as i32;
                let y1 = top + (f64::from(s + 1) * step).round() as i32;
                side.draw(&Rectangle::new([(10, y0), (30, y1)], viridis(t).filled()))?;
            }
            side.draw(&Rectangle::new([(10, top), (30, bottom)], RGBColor(120, 120, 120).stroke_width(1)))?;
            for (frac, v) in [(0.0, *hi), (0.5, 0.5 * (lo + hi)), (1.0, *lo)] {
                let ty = top + (frac * f64::from(bottom - top)).round() as i32;
                side.draw(&PathElement::new(vec![(30, ty), (35, ty)], BLACK.stroke_width(1)))?;
                side.draw(&text(&fmt_num(v), 38, ty, VPos::Center))?;
            }
            y = bottom + 28;
        }
        (ColorScale::Categorical { names, .. }, Coloring::Categorical { colors }) => {
            for (name, &color) in names.iter().zip(colors) {
                side.draw(&Rectangle::new([(10, y - 7), (24, y + 7)], color.filled()))?;
                side.draw(&text(name, 30, y, VPos::Center))?;
                y += 24;
            }
        }
        _ => {}
    }
    if missing {
        side.draw(&Rectangle::new([(10, y - 7), (24, y + 7)], MISSING.filled()))?;
        side.draw(&text("missing", 30, y, VPos::Center))?;
        y += 24;
    }
    if let Some(o) = p.overlay.as_ref().filter(|o| overlay && !o.name.is_empty()) {
        side.draw(&PathElement::new(vec![(6, y), (28, y)], WHITE.stroke_width(5)))?;
        side.draw(&PathElement::new(vec![(6, y), (28, y)], BLACK.stroke_width(2)))?;
        side.draw(&text(&o.name, 32, y, VPos::Center))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends_and_clamps() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(-3.0), viridis(0.0));
        assert_eq!(viridis(7.0), viridis(1.0));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        assert_eq!(viridis(0.5), RGBColor(33, 144, 141));
        // Halfway between the first two anchors.
        assert_eq!(viridis(1.0 / 16.0), RGBColor(70, 23, 103));
    }

    #[test]
    fn text_contrasts_with_the_cell() {
        assert_eq!(text_color(viridis(0.0)), WHITE);
        assert_eq!(text_color(viridis(1.0)), BLACK);
        assert_eq!(text_color(MISSING), BLACK);
    }

    #[test]
    fn categorical_values_must_be_category_indices() {
        let c = Coloring::Categorical { colors: vec![RED, GREEN] };
        assert_eq!(c.color(0.0), Some(RED));
        assert_eq!(c.color(1.0), Some(GREEN));
        for bad in [2.0, -1.0, 0.5, f64::NAN, f64::INFINITY] {
            assert_eq!(c.color(bad), None, "{bad}");
        }
        let c = Coloring::Continuous { lo: 0.0, hi: 2.0 };
        assert_eq!(c.color(1.0), Some(viridis(0.5)));
        assert_eq!(c.color(9.0), Some(viridis(1.0)));
        assert_eq!(c.color(f64::NAN), None);
    }
}
