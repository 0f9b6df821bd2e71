//! Public contract of floral-report: the float formatter, Markdown (insta snapshot), SVG
//! rendering and atomic report writing.

use std::fs;
use std::path::PathBuf;

use floral_report::{
    Block, Cell, ColorScale, DecisionPlot, Document, Figure, HeatmapOverlay, HeatmapPlot, LinePlot, Plot, PlotPoint,
    ReportError, Series, Table, fmt_num, render_markdown, render_svg, write_report,
};
use proptest::prelude::*;

// ---------------------------------------------------------------- fmt_num

#[test]
fn fmt_num_edge_cases() {
    let cases = [
        (-0.0, "0"),
        (0.0, "0"),
        (1e-9, "1e-9"),
        (-1e-9, "-1e-9"),
        (123456.7, "1.235e5"),
        (0.96666, "0.9667"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
        (1.0, "1"),
        (0.5, "0.5"),
        (0.0051, "0.0051"),
        (0.9123, "0.9123"),
        (-2.5, "-2.5"),
        (1234.0, "1234"),
        (9999.0, "9999"),
        (9999.6, "1e4"), // rounding carries into the exponent that decides the notation
        (10000.0, "1e4"),
        (0.0001234, "0.0001234"),
        (0.00001234, "1.234e-5"),
        (1.0005e-300, "1e-300"),
        (5e-324, "4.941e-324"),
        (f64::MAX, "1.798e308"),
        (1234.5, "1234"), // exact tie: round half to even
        (1235.5, "1236"),
    ];
    for (v, want) in cases {
        assert_eq!(fmt_num(v), want, "fmt_num({v:e})");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Parsing the output gives back v to within half a unit in the 4th significant digit,
    /// and the text has at most 4 significant digits, no "-0" and no trailing fraction zeros.
    #[test]
    fn fmt_num_round_trips_to_4_digits(v in prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL) {
        let s = fmt_num(v);
        let back: f64 = s.parse().unwrap();
        prop_assert!(((back - v) / v).abs() <= 5.0001e-4, "{v:e} -> {s}");
        let mantissa = s.split('e').next().unwrap();
        prop_assert!(!mantissa.contains('.') || !mantissa.ends_with('0'), "{s}");
        let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        prop_assert!(digits.trim_start_matches('0').trim_end_matches('0').len() <= 4, "{s}");
        prop_assert_eq!(fmt_num(-v), s.strip_prefix('-').map_or_else(|| format!("-{s}"), str::to_string));
    }
}

// ---------------------------------------------------------------- fixtures

fn line_plot() -> LinePlot {
    let mean: Vec<(f64, f64)> =
        (0..=20).map(|r| (f64::from(r), 0.7 + 0.25 * (1.0 - (-f64::from(r) / 5.0).exp()))).collect();
    LinePlot {
        title: "Test accuracy vs round".into(),
        x_label: "round".into(),
        y_label: "accuracy".into(),
        series: vec![
            Series {
                name: "FLORAL".into(),
                band: Some(mean.iter().map(|&(x, y)| (x, y - 0.03, y + 0.03)).collect()),
                points: mean.clone(),
            },
            Series {
                name: "SVM (no defence)".into(),
                points: mean.iter().map(|&(x, y)| (x, 1.6 - y)).collect(),
                band: None,
            },
        ],
        y_range: Some((0.5, 1.0)),
    }
}

fn decision_plot() -> DecisionPlot {
    let n = 41;
    let at = |i: usize| -2.0 + 4.0 * i as f64 / (n - 1) as f64;
    let grid = (0..n).map(|iy| (0..n).map(|ix| 1.0 - at(ix).powi(2) - 0.5 * at(iy).powi(2)).collect()).collect();
    let mut points = Vec::new();
    for k in 0..24 {
        let t = f64::from(k) * 0.26;
        let r = if k % 2 == 0 { 0.5 } else { 1.7 };
        points.push(PlotPoint {
            x: r * t.cos(),
            y: r * t.sin(),
            label: if k % 2 == 0 { 1.0 } else { -1.0 },
            highlighted: k % 7 == 0,
        });
    }
    DecisionPlot {
        title: "Decision boundary after 200 rounds".into(),
        x_range: (-2.0, 2.0),
        y_range: (-2.0, 2.0),
        grid,
        points,
        x_label: String::new(),
        y_label: String::new(),
        highlight_label: String::new(),
    }
}

fn every_block_document() -> Document {
    Document::new("Quickstart report")
        .with(Block::Heading { level: 2, text: "Setup".into() })
        .with(Block::Paragraph("Moons data, RBF kernel, `FLORAL` learner against a **random top-k** attacker.".into()))
        .with(Block::List(vec!["seed: 7".into(), "rounds: 200\ncontinued on a second line".into()]))
        .with(Block::Code { lang: "ron".into(), text: "Experiment(name: \"quickstart\", seed: 7)\n".into() })
        .with(Block::Table(Table {
            caption: Some("Accuracy over 5 seeds".into()),
            headers: vec!["method".into(), "accuracy".into(), "rounds".into(), "gap".into()],
            rows: vec![
                vec![
                    Cell::from("FLORAL"),
                    Cell::MeanStd { mean: 0.91234, std: 0.00514 },
                    Cell::Int(200),
                    Cell::Num(-0.0),
                ],
                vec![
                    Cell::from("SVM | plain"),
                    Cell::MeanStd { mean: 0.8, std: f64::NAN },
                    Cell::Missing,
                    Cell::Num(123456.7),
                ],
                vec![Cell::from("short row")],
            ],
        }))
        .with(Block::Heading { level: 9, text: "Plots".into() })
        .with(Block::Figure(Figure {
            file: "accuracy_vs_round.svg".into(),
            caption: "Test accuracy [mean ± std]".into(),
            plot: Plot::Lines(line_plot()),
        }))
}

// ---------------------------------------------------------------- Markdown

#[test]
fn markdown_every_block_kind() {
    let md = render_markdown(&every_block_document());
    insta::assert_snapshot!("markdown_every_block_kind", md);
}

#[test]
fn markdown_is_pure() {
    let doc = every_block_document();
    assert_eq!(render_markdown(&doc), render_markdown(&doc.clone()));
}

// ---------------------------------------------------------------- SVG

/// plotters writes each text as `<text …>\n{text}\n</text>`.
fn has_text(svg: &str, text: &str) -> bool {
    svg.contains(&format!(">\n{text}\n</text>"))
}

fn assert_svg_shell(svg: &str) {
    assert!(svg.starts_with("<svg"), "starts with <svg: {}", &svg[..svg.len().min(80)]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains(r#"width="720""#) && svg.contains(r#"height="480""#));
    // Balanced tags, roughly: every opened <text> closes.
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
}

#[test]
fn line_svg_has_labels_legend_and_is_reproducible() {
    let plot = Plot::Lines(line_plot());
    let a = render_svg(&plot).unwrap();
    let b = render_svg(&plot).unwrap();
    assert_eq!(a, b, "two renders differ");
    assert_svg_shell(&a);
    for text in ["Test accuracy vs round", "round", "accuracy", "FLORAL", "SVM (no defence)"] {
        assert!(has_text(&a, text), "missing {text}");
    }
    // Tick labels come from fmt_num: 0.5..1.0 ticks print as e.g. "0.6", never "0.60".
    assert!(has_text(&a, "0.6"), "tick 0.6 missing");
    assert!(!has_text(&a, "0.60"));
    // Band drawn as a translucent polygon.
    assert!(a.contains("<polygon"));
}

#[test]
fn decision_svg_has_contour_points_legend_and_is_reproducible() {
    let plot = Plot::Decision(decision_plot());
    let a = render_svg(&plot).unwrap();
    assert_eq!(a, render_svg(&plot).unwrap());
    assert_svg_shell(&a);
    for text in ["Decision boundary after 200 rounds", "f = 0", "y = +1", "y = -1", "highlighted"] {
        assert!(has_text(&a, text), "missing {text}");
    }
    // 24 points + 4 highlighted rings + legend glyphs.
    assert!(a.matches("<circle").count() >= 28);
}

#[test]
fn degenerate_line_plots_render() {
    let base = LinePlot { title: "t".into(), x_label: "x".into(), y_label: "y".into(), series: vec![], y_range: None };
    let single = Series { name: "one".into(), points: vec![(3.0, 0.5)], band: None };
    let nasty = Series {
        name: "nasty".into(),
        points: vec![(0.0, f64::NAN), (1.0, 1.0), (f64::INFINITY, 2.0), (2.0, 3.0), (3.0, 2.0)],
        band: Some(vec![(0.0, 0.0, f64::NAN), (1.0, 0.5, 1.5), (2.0, 2.5, 3.5), (3.0, 1.0, 3.0)]),
    };
    let all_nan = Series {
        name: "all NaN".into(),
        points: vec![(f64::NAN, f64::NAN); 3],
        band: Some(vec![(f64::NAN, 0.0, 1.0)]),
    };
    let huge = Series { name: String::new(), points: vec![(0.0, -1e300), (1.0, 1e300)], band: None };
    let variants = [
        base.clone(),
        LinePlot { series: vec![single.clone()], ..base.clone() },
        LinePlot { series: vec![nasty.clone()], ..base.clone() },
        LinePlot { series: vec![all_nan], ..base.clone() },
        LinePlot { series: vec![huge], ..base.clone() },
        LinePlot { series: vec![nasty, single], y_range: Some((1.2, 2.2)), ..base.clone() },
    ];
    for (i, p) in variants.into_iter().enumerate() {
        let svg = render_svg(&Plot::Lines(p)).unwrap_or_else(|e| panic!("variant {i}: {e}"));
        assert_svg_shell(&svg);
    }
    // A single point is still visible as a marker.
    let svg = render_svg(&Plot::Lines(LinePlot { series: vec![single_point()], ..base })).unwrap();
    assert!(svg.contains("<circle"));
}

fn single_point() -> Series {
    Series { name: "p".into(), points: vec![(1.0, 1.0)], band: None }
}

#[test]
fn clipped_lines_stay_inside_the_plot_area() {
    // Everything far outside y_range: no line, band or marker of the series may be drawn
    // (plotters itself does not clip), only its legend glyph (stroke width 3).
    let p = LinePlot {
        title: "clip".into(),
        x_label: "x".into(),
        y_label: "y".into(),
        series: vec![Series {
            name: "out".into(),
            points: (0..20).map(|i| (f64::from(i), 100.0)).collect(),
            band: Some((0..20).map(|i| (f64::from(i), 50.0, 150.0)).collect()),
        }],
        y_range: Some((0.0, 1.0)),
    };
    let svg = render_svg(&Plot::Lines(p.clone())).unwrap();
    assert!(has_text(&svg, "out"));
    assert!(!svg.contains(r##"stroke="#1F77B4" stroke-width="2""##), "line drawn");
    assert!(!svg.contains("<polygon"), "band drawn");
    assert!(!svg.contains("<circle"), "markers drawn");
    // Rising through the top edge: the line is drawn up to the top of the plot area and no
    // further. The y axis is the first black polyline, "x,top x,bottom".
    let mut half = p;
    half.series[0].points = (0..20).map(|i| (f64::from(i), f64::from(i) / 10.0)).collect();
    let svg = render_svg(&Plot::Lines(half)).unwrap();
    let points_of = |line: &str| -> Vec<(i32, i32)> {
        let list = line.split("points=\"").nth(1).unwrap().split('"').next().unwrap();
        list.split_whitespace()
            .map(|pt| {
                let (x, y) = pt.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect()
    };
    let axis = svg.lines().find(|l| l.starts_with("<polyline") && l.contains(r##"stroke="#000000""##)).unwrap();
    let top = points_of(axis).iter().map(|p| p.1).min().unwrap();
    let line = svg.lines().find(|l| l.contains(r##"stroke="#1F77B4" stroke-width="2""##)).expect("clipped line drawn");
    let ys: Vec<i32> = points_of(line).iter().map(|p| p.1).collect();
    assert!(ys.len() >= 2);
    assert_eq!(ys.iter().min(), Some(&top), "line ends exactly at the top edge");
}

#[test]
fn invalid_plots_are_errors_not_panics() {
    let mut lp = line_plot();
    lp.y_range = Some((1.0, f64::NAN));
    assert!(matches!(render_svg(&Plot::Lines(lp)), Err(ReportError::InvalidPlot { field: "y_range", .. })));
    let mut dp = decision_plot();
    dp.x_range = (1.0, 1.0);
    assert!(matches!(render_svg(&Plot::Decision(dp)), Err(ReportError::InvalidPlot { field: "x_range", .. })));
    let mut dp = decision_plot();
    dp.grid[3].pop();
    let err = render_svg(&Plot::Decision(dp)).unwrap_err();
    assert!(err.to_string().contains("row 3"), "{err}");
    let mut dp = decision_plot();
    dp.grid = vec![vec![1.0, 2.0]];
    assert!(matches!(render_svg(&Plot::Decision(dp)), Err(ReportError::InvalidPlot { field: "grid", .. })));
}

#[test]
fn degenerate_decision_plots_render() {
    let mut no_grid = decision_plot();
    no_grid.grid.clear();
    let mut weird = decision_plot();
    weird.grid[5][5] = f64::NAN;
    weird.grid[6][6] = f64::INFINITY;
    weird.points.push(PlotPoint { x: f64::NAN, y: 0.0, label: 1.0, highlighted: true });
    weird.points.push(PlotPoint { x: 0.0, y: 0.0, label: 0.0, highlighted: false });
    weird.points.push(PlotPoint { x: 9.0, y: 0.0, label: 1.0, highlighted: false });
    let mut one_sign = decision_plot();
    one_sign.grid = vec![vec![1.0; 3]; 3];
    one_sign.points.clear();
    for p in [no_grid, weird, one_sign] {
        assert_svg_shell(&render_svg(&Plot::Decision(p)).unwrap());
    }
}

// ---------------------------------------------------------------- write_report

/// A fresh, unique directory under the system temp dir (removed at the end of each test).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("floral-report-test-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

#[allow(clippy::unwrap_used)] // test helper
fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn write_report_writes_all_files() {
    let dir = scratch("writes").join("nested/deeper");
    let mut doc = every_block_document();
    doc.push(Block::Figure(Figure {
        file: "decision.svg".into(),
        caption: "Decision boundary".into(),
        plot: Plot::Decision(decision_plot()),
    }));
    let results = serde_json::json!({"zeta": 1.5, "alpha": {"b": [1, 2], "a": null}});
    let files = write_report(&dir, &doc, &results).unwrap();
    assert_eq!(files.markdown, dir.join("report.md"));
    assert_eq!(files.json, dir.join("results.json"));
    assert_eq!(files.figures, vec![dir.join("accuracy_vs_round.svg"), dir.join("decision.svg")]);
    assert_eq!(listing(&dir), ["accuracy_vs_round.svg", "decision.svg", "report.md", "results.json"]);
    assert_eq!(fs::read_to_string(&files.markdown).unwrap(), render_markdown(&doc));
    assert_eq!(
        fs::read_to_string(&files.json).unwrap(),
        "{\n  \"alpha\": {\n    \"a\": null,\n    \"b\": [\n      1,\n      2\n    ]\n  },\n  \"zeta\": 1.5\n}\n"
    );
    let Block::Figure(fig) = &doc.blocks[6] else { panic!("block 6 is the line figure") };
    assert_eq!(fs::read_to_string(&files.figures[0]).unwrap(), render_svg(&fig.plot).unwrap());
    // Rewriting the same report gives byte-identical files.
    let before: Vec<Vec<u8>> = listing(&dir).iter().map(|n| fs::read(dir.join(n)).unwrap()).collect();
    write_report(&dir, &doc, &results).unwrap();
    let after: Vec<Vec<u8>> = listing(&dir).iter().map(|n| fs::read(dir.join(n)).unwrap()).collect();
    assert_eq!(before, after);
    fs::remove_dir_all(dir.parent().unwrap().parent().unwrap()).unwrap();
}

#[test]
fn failed_render_leaves_previous_report_intact() {
    let dir = scratch("intact");
    let good = every_block_document();
    let results = serde_json::json!({"ok": true});
    write_report(&dir, &good, &results).unwrap();
    let old_md = fs::read(dir.join("report.md")).unwrap();
    let old_json = fs::read(dir.join("results.json")).unwrap();
    let old_list = listing(&dir);

    let bad_figure = |file: &str, plot: Plot| {
        let mut d = Document::new("replacement");
        d.push(Block::Paragraph("new text".into()));
        d.push(Block::Figure(Figure { file: file.into(), caption: "c".into(), plot }));
        d
    };
    let lines = || Plot::Lines(line_plot());
    let mut broken = line_plot();
    broken.y_range = Some((2.0, 1.0));
    type Expect = fn(&ReportError) -> bool;
    let attempts: Vec<(Document, Expect)> = vec![
        (bad_figure("../escape.svg", lines()), |e| matches!(e, ReportError::InvalidFigureName { .. })),
        (bad_figure("sub/dir.svg", lines()), |e| matches!(e, ReportError::InvalidFigureName { .. })),
        (bad_figure("ok.svg", Plot::Lines(broken)), |e| matches!(e, ReportError::InvalidPlot { .. })),
        (
            bad_figure("accuracy_vs_round.svg", lines()).with(Block::Figure(Figure {
                file: "accuracy_vs_round.svg".into(),
                caption: "again".into(),
                plot: lines(),
            })),
            |e| matches!(e, ReportError::DuplicateFigure { .. }),
        ),
    ];
    for (doc, is_expected) in attempts {
        let err = write_report(&dir, &doc, &serde_json::json!({"ok": false})).unwrap_err();
        assert!(is_expected(&err), "unexpected error {err}");
        assert_eq!(fs::read(dir.join("report.md")).unwrap(), old_md);
        assert_eq!(fs::read(dir.join("results.json")).unwrap(), old_json);
        assert_eq!(listing(&dir), old_list, "no file added, removed or left behind");
    }
    assert!(!dir.parent().unwrap().join("escape.svg").exists());
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn io_error_names_the_path() {
    let base = scratch("io");
    fs::create_dir_all(&base).unwrap();
    let file = base.join("not_a_dir");
    fs::write(&file, b"x").unwrap();
    let err = write_report(&file.join("report"), &Document::new("t"), &serde_json::json!({})).unwrap_err();
    match &err {
        ReportError::Io { path, .. } => assert_eq!(path, &file.join("report")),
        other => panic!("expected Io, got {other}"),
    }
    assert!(err.to_string().contains("not_a_dir"), "{err}");
    fs::remove_dir_all(&base).unwrap();
}

// ---------------------------------------------------------------- heatmap

/// A phase-diagram-like heatmap: 3 categories, a missing cell, annotations and a boundary.
fn heatmap_plot() -> HeatmapPlot {
    HeatmapPlot {
        title: "Regime by step size and pool".into(),
        x_label: "step size η (× 2/λ_max(K))".into(),
        y_label: "attacker (k, B)".into(),
        columns: ["0.5", "1", "2", "4", "8"].map(String::from).to_vec(),
        rows: ["k=5, B=25", "k=10, B=50", "k=25, B=100"].map(String::from).to_vec(),
        values: vec![vec![0.0, 0.0, 1.0, 2.0, 2.0], vec![0.0, 1.0, f64::NAN, 2.0, 2.0], vec![0.0, 1.0, 1.0, 1.0, 2.0]],
        scale: ColorScale::Categorical {
            names: ["converges", "cycles", "diverges"].map(String::from).to_vec(),
            colors: vec![(44, 160, 44), (255, 187, 120), (214, 39, 40)],
        },
        annotations: vec![
            ["0.1", "0.2", "1.5", "9.8", "12"].map(String::from).to_vec(),
            ["0.1", "0.4", "", "8.5", "11"].map(String::from).to_vec(),
            ["0.3", "1.1", "2.4", "5", "10"].map(String::from).to_vec(),
        ],
        overlay: Some(HeatmapOverlay { name: "η = 2/μ_max".into(), points: vec![(2.6, -1.0), (2.6, 4.0)] }),
    }
}

fn confusion_plot() -> HeatmapPlot {
    HeatmapPlot {
        title: "Confusion matrix".into(),
        x_label: "predicted".into(),
        y_label: "true".into(),
        columns: ["a", "b"].map(String::from).to_vec(),
        rows: ["a", "b"].map(String::from).to_vec(),
        values: vec![vec![40.0, 2.0], vec![5.0, 53.0]],
        scale: ColorScale::Continuous { label: "count".into(), range: None },
        annotations: vec![],
        overlay: None,
    }
}

#[test]
fn heatmap_svg_snapshot() {
    let svg = render_svg(&Plot::Heatmap(Box::new(heatmap_plot()))).unwrap();
    assert_eq!(svg, render_svg(&Plot::Heatmap(Box::new(heatmap_plot()))).unwrap(), "two renders differ");
    assert_svg_shell(&svg);
    for text in [
        "Regime by step size and pool",
        "attacker (k, B)",
        "k=10, B=50",
        "0.5",
        "converges",
        "cycles",
        "diverges",
        "missing",
        "η = 2/μ_max",
        "9.8",
    ] {
        assert!(has_text(&svg, text), "missing {text}");
    }
    // The missing cell is grey, the categories carry their colours, the empty annotation is
    // not written.
    assert!(svg.contains(r##"fill="#E1E1E1""##));
    assert!(svg.contains(r##"fill="#2CA02C""##) && svg.contains(r##"fill="#D62728""##));
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
    insta::assert_snapshot!("heatmap_categorical", svg);
}

#[test]
fn heatmap_continuous_has_a_colour_bar() {
    let svg = render_svg(&Plot::Heatmap(Box::new(confusion_plot()))).unwrap();
    assert_svg_shell(&svg);
    // Ticks at lo, mid, hi of the data extent, and the bar's title.
    for text in ["count", "2", "27.5", "53", "predicted", "true"] {
        assert!(has_text(&svg, text), "missing {text}");
    }
    // Extremes at the ends of viridis; no "missing" entry when nothing is missing.
    assert!(svg.contains(r##"fill="#FDE725""##) && svg.contains(r##"fill="#440154""##));
    assert!(!has_text(&svg, "missing"));
    insta::assert_snapshot!("heatmap_continuous", svg);
}

#[test]
fn heatmap_overlay_is_clipped_and_breaks_at_nan() {
    let mut p = heatmap_plot();
    p.overlay = Some(HeatmapOverlay { name: String::new(), points: vec![(-5.0, -5.0), (9.0, 9.0)] });
    let svg = render_svg(&Plot::Heatmap(Box::new(p.clone()))).unwrap();
    // Black 2-px overlay segments: one piece only, and no legend entry without a name.
    assert_eq!(svg.matches(r##"stroke="#000000" stroke-width="2""##).count(), 1);
    p.overlay = Some(HeatmapOverlay {
        name: "x".into(),
        points: vec![(0.5, 0.5), (1.5, 1.5), (f64::NAN, 0.0), (2.5, 0.5), (3.5, 1.5)],
    });
    let svg = render_svg(&Plot::Heatmap(Box::new(p.clone()))).unwrap();
    assert_eq!(svg.matches(r##"stroke="#000000" stroke-width="2""##).count(), 3, "two pieces and the legend line");
    p.overlay = Some(HeatmapOverlay { name: "outside".into(), points: vec![(10.0, 0.0), (10.0, 3.0)] });
    let svg = render_svg(&Plot::Heatmap(Box::new(p))).unwrap();
    assert!(!has_text(&svg, "outside"), "an overlay that is not drawn gets no legend entry");
}

#[test]
fn invalid_heatmaps_are_errors_not_panics() {
    let field = |p: HeatmapPlot| match render_svg(&Plot::Heatmap(Box::new(p))) {
        Err(ReportError::InvalidPlot { field, .. }) => field,
        other => panic!("expected InvalidPlot, got {other:?}"),
    };
    let mut p = heatmap_plot();
    p.values[1].pop();
    assert_eq!(field(p), "values");
    let mut p = heatmap_plot();
    p.values.pop();
    assert_eq!(field(p), "values");
    let mut p = heatmap_plot();
    p.annotations[2].push("x".into());
    assert_eq!(field(p), "annotations");
    let mut p = heatmap_plot();
    p.rows.clear();
    p.values.clear();
    assert_eq!(field(p), "rows/columns");
    let mut p = heatmap_plot();
    p.scale = ColorScale::Categorical { names: vec![], colors: vec![] };
    assert_eq!(field(p), "scale.names");
    let mut p = heatmap_plot();
    p.scale = ColorScale::Categorical { names: vec!["a".into(), "b".into()], colors: vec![(0, 0, 0)] };
    assert_eq!(field(p), "scale.colors");
    let mut p = confusion_plot();
    p.scale = ColorScale::Continuous { label: String::new(), range: Some((1.0, 1.0)) };
    assert_eq!(field(p), "scale.range");
}

#[test]
fn degenerate_heatmaps_render() {
    let one = HeatmapPlot {
        title: "one".into(),
        x_label: String::new(),
        y_label: String::new(),
        columns: vec!["c".into()],
        rows: vec!["r".into()],
        values: vec![vec![f64::NAN]],
        scale: ColorScale::Continuous { label: String::new(), range: None },
        annotations: vec![],
        overlay: None,
    };
    let constant = HeatmapPlot { values: vec![vec![3.0]], ..one.clone() };
    let mut default_palette = heatmap_plot();
    default_palette.scale = ColorScale::Categorical { names: vec!["a".into()], colors: vec![] };
    for p in [one, constant, default_palette] {
        assert_svg_shell(&render_svg(&Plot::Heatmap(Box::new(p))).unwrap());
    }
}
