//! floral-report: a deterministic document model rendered to Markdown and SVG, written
//! atomically. Generic: it knows nothing about games or SVMs; `floral-experiment` builds the
//! [`Document`].
//!
//! Document model ([`document`](Document) types):
//! - [`Document`]: a title and a list of [`Block`]s: [`Block::Heading`], [`Block::Paragraph`],
//!   [`Block::List`], [`Block::Code`], [`Block::Table`] ([`Table`] of [`Cell`]s:
//!   text, float, integer, mean ± std, missing) and [`Block::Figure`] ([`Figure`]).
//! - [`Plot`]: [`LinePlot`] (one [`Series`] per curve, optional ± band) or [`DecisionPlot`]
//!   (decision values on a grid, the f = 0 contour by marching squares, and [`PlotPoint`]s,
//!   some highlighted), or [`HeatmapPlot`] (labelled cells coloured by a continuous or
//!   categorical [`ColorScale`] with a legend, missing cells, per-cell text, and an optional
//!   [`HeatmapOverlay`] line such as a predicted boundary).
//!
//! Rendering and writing:
//! - [`fmt_num`]: the single float formatter (4 significant digits, `%.4g`-like, −0 → `0`).
//! - [`render_markdown`]: `Document` → GitHub Markdown (pure).
//! - [`render_svg`]: `Plot` → SVG text via plotters' `SVGBackend::with_string`,
//!   [`SVG_SIZE`] pixels, no fonts needed, byte-identical across runs.
//! - [`write_report`]: renders everything first, then writes `report.md`, `results.json`
//!   (keys sorted) and the figures' SVGs through temp-file + rename; returns [`ReportFiles`].
//! - [`ReportError`]: the crate's error type.
//!
//! Determinism: output is a pure function of the `Document` (and the results `Value`): no
//! timestamps, paths, durations or thread counts are added, every float in Markdown and in
//! tick labels goes through [`fmt_num`], and maps are emitted in sorted key order.
//!
//! ```
//! use floral_report::{
//!     Block, Cell, Document, Figure, LinePlot, Plot, Series, Table, fmt_num, render_markdown,
//!     render_svg,
//! };
//! let plot = Plot::Lines(LinePlot {
//!     title: "Accuracy".into(),
//!     x_label: "round".into(),
//!     y_label: "test accuracy".into(),
//!     series: vec![Series {
//!         name: "FLORAL".into(),
//!         points: vec![(0.0, 0.9), (1.0, 0.93), (2.0, 0.95)],
//!         band: None,
//!     }],
//!     y_range: Some((0.0, 1.0)),
//! });
//! let doc = Document::new("Quickstart")
//!     .with(Block::Table(Table {
//!         caption: None,
//!         headers: vec!["method".into(), "accuracy".into()],
//!         rows: vec![vec![Cell::from("FLORAL"), Cell::MeanStd { mean: 0.95, std: 0.0123 }]],
//!     }))
//!     .with(Block::Figure(Figure { file: "acc.svg".into(), caption: "Accuracy".into(), plot }));
//! let md = render_markdown(&doc);
//! assert!(md.starts_with("# Quickstart\n"));
//! assert!(md.contains("| FLORAL | 0.95 ± 0.0123 |"));
//! assert!(md.contains("![Accuracy](acc.svg)"));
//! let Block::Figure(fig) = &doc.blocks[1] else { unreachable!() };
//! let svg = render_svg(&fig.plot).unwrap();
//! assert!(svg.starts_with("<svg") && svg.contains("FLORAL"));
//! assert_eq!(fmt_num(-0.0), "0");
//! ```

mod document;
mod error;
mod format;
mod geometry;
mod heatmap;
mod markdown;
mod plot;
mod svg;
mod write;

pub use document::{
    Block, Cell, ColorScale, DecisionPlot, Document, Figure, HeatmapOverlay, HeatmapPlot, LinePlot, Plot, PlotPoint,
    Series, Table,
};
pub use error::ReportError;
pub use format::{SIGNIFICANT_DIGITS, fmt_fixed, fmt_num};
pub use markdown::render_markdown;
pub use plot::render_svg;
pub use svg::{MARKER_MAX_POINTS, SVG_SIZE};
pub use write::{
    JSON_FILE, MARKDOWN_FILE, ReportFiles, canonical_json, validate_figure_name, write_report, write_text_atomic,
};
