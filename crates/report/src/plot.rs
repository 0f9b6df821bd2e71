//! One entry point for every plot kind: [`render_svg`] hands each to its renderer (line and
//! decision plots in `svg`, heatmaps in `heatmap`, which share `svg`'s helpers).

use crate::document::Plot;
use crate::error::ReportError;
use crate::heatmap::render_heatmap;
use crate::svg::{render_decision, render_lines};

/// Renders a plot to an SVG document of [`SVG_SIZE`](crate::SVG_SIZE) pixels.
///
/// Output is a pure function of `plot` (plotters' SVG backend writes integer pixel coordinates
/// in drawing order; no ids, timestamps or fonts are involved). All tick labels go through
/// [`fmt_num`](crate::fmt_num). Non-finite data are skipped, never a panic: see [`LinePlot`](crate::LinePlot) and
/// [`DecisionPlot`](crate::DecisionPlot) for the exact rules. The legend goes in the corner holding the fewest
/// data points.
///
/// # Errors
/// [`ReportError::InvalidPlot`] for a non-finite or empty range, a data span that overflows,
/// a ragged / too small decision grid, or a heatmap whose values or annotations do not match
/// its labels, or whose categorical scale has no names or a colour count unequal to them; [`ReportError::Render`] if plotters fails.
pub fn render_svg(plot: &Plot) -> Result<String, ReportError> {
    match plot {
        Plot::Lines(p) => render_lines(p),
        Plot::Decision(p) => render_decision(p),
        Plot::Heatmap(p) => render_heatmap(p),
    }
}
