//! The document model: what a report says, independent of how it is rendered.

use serde::{Deserialize, Serialize};

/// A report: a title and a flat sequence of blocks, rendered in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Rendered as the level-1 heading `# title`.
    pub title: String,
    /// The body, in order.
    pub blocks: Vec<Block>,
}

impl Document {
    /// An empty document with the given title.
    pub fn new(title: impl Into<String>) -> Self {
        Self { title: title.into(), blocks: Vec::new() }
    }

    /// Appends a block (builder style).
    #[must_use]
    pub fn with(mut self, block: Block) -> Self {
        self.blocks.push(block);
        self
    }

    /// Appends a block.
    pub fn push(&mut self, block: Block) {
        self.blocks.push(block);
    }

    /// The figures of the document, in order.
    pub fn figures(&self) -> impl Iterator<Item = &Figure> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Figure(f) => Some(f),
            _ => None,
        })
    }
}

/// One block of a [`Document`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Block {
    /// A heading; `level` is clamped to 1..=6 (`#` … `######`). Line breaks become spaces.
    Heading {
        /// Markdown heading level (1 = `#`).
        level: u8,
        /// Heading text (inline Markdown).
        text: String,
    },
    /// A paragraph of inline Markdown, emitted verbatim. Numbers in it should come from
    /// [`fmt_num`](crate::fmt_num).
    Paragraph(String),
    /// A bulleted list (`- item`); each item is inline Markdown, continuation lines are indented.
    List(Vec<String>),
    /// A fenced code block; the fence is longer than any backtick run in `text`.
    Code {
        /// Info string after the opening fence (`"ron"`, `"text"`, or empty).
        lang: String,
        /// The code, verbatim.
        text: String,
    },
    /// A table.
    Table(Table),
    /// A figure: rendered to SVG by [`render_svg`](crate::render_svg) and linked from Markdown.
    Figure(Figure),
}

/// A GitHub-Markdown table.
///
/// The number of columns is the maximum of `headers.len()` and every row's length; short rows
/// and the header are padded with empty cells. A column whose cells are all numeric
/// ([`Cell::Num`], [`Cell::Int`], [`Cell::MeanStd`], or [`Cell::Missing`], with at least one
/// non-missing) is right-aligned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Optional caption, rendered as an italic line above the table.
    pub caption: Option<String>,
    /// Column headers (plain text; `|` is escaped).
    pub headers: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<Cell>>,
}

/// One table cell. Floats are formatted by [`fmt_num`](crate::fmt_num).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Cell {
    /// Plain text; `|` is escaped and line breaks become spaces.
    Text(String),
    /// A float, printed with [`fmt_num`](crate::fmt_num).
    Num(f64),
    /// An integer, printed exactly.
    Int(i64),
    /// A mean and standard deviation, printed `"0.9123 ± 0.0051"`.
    MeanStd {
        /// The mean.
        mean: f64,
        /// The standard deviation.
        std: f64,
    },
    /// A float with a fixed number of decimals (`0.967`), for columns whose values should line
    /// up; printed with [`fmt_fixed`](crate::fmt_fixed).
    Fixed {
        /// The value.
        value: f64,
        /// Decimals after the point.
        decimals: u8,
    },
    /// A mean and standard deviation with a fixed number of decimals (`0.967 ± 0.006`).
    MeanStdFixed {
        /// The mean.
        mean: f64,
        /// The standard deviation.
        std: f64,
        /// Decimals after the point, for both.
        decimals: u8,
    },
    /// No value; printed as an em dash `—`.
    Missing,
}

impl From<f64> for Cell {
    fn from(v: f64) -> Self {
        Cell::Num(v)
    }
}

impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Int(v)
    }
}

impl From<usize> for Cell {
    /// Converts to [`Cell::Int`]; a value beyond `i64::MAX` (impossible in practice) becomes
    /// [`Cell::Text`] with its decimal digits, so nothing is lost.
    fn from(v: usize) -> Self {
        i64::try_from(v).map_or_else(|_| Cell::Text(v.to_string()), Cell::Int)
    }
}

impl From<&str> for Cell {
    fn from(v: &str) -> Self {
        Cell::Text(v.to_string())
    }
}

impl From<String> for Cell {
    fn from(v: String) -> Self {
        Cell::Text(v)
    }
}

/// A figure: a plot written as `file` next to `report.md`, linked as `![caption](file)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// Bare file name such as `"accuracy_vs_round.svg"`: ASCII letters, digits, `-`, `_`, `.`,
    /// ending in `.svg`, not starting with `.`, without `..`; checked by
    /// [`write_report`](crate::write_report).
    pub file: String,
    /// Caption, used as the image's alt text.
    pub caption: String,
    /// What to draw.
    pub plot: Plot,
}

/// A plot, rendered by [`render_svg`](crate::render_svg).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Plot {
    /// Curves against a common x axis (e.g. accuracy vs round), with optional bands.
    Lines(LinePlot),
    /// A 2-D classifier's decision regions, its f = 0 contour and the training points.
    Decision(DecisionPlot),
    /// A grid of coloured cells with row and column labels (phase diagrams, confusion matrices).
    Heatmap(Box<HeatmapPlot>),
}

impl Plot {
    /// The plot's title.
    pub fn title(&self) -> &str {
        match self {
            Plot::Lines(p) => &p.title,
            Plot::Decision(p) => &p.title,
            Plot::Heatmap(p) => &p.title,
        }
    }
}

/// Line plot: one line (plus optional shaded band) per series, legend from series names.
///
/// Points with a non-finite coordinate are skipped and break the line there (the line is drawn
/// as separate pieces); band triples with a non-finite entry are skipped the same way. Axis
/// ranges span the finite data (y padded by 5%), unless `y_range` is given, in which case lines
/// and bands are clipped to it. An empty series list or a single point still renders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinePlot {
    /// Plot title (drawn above the chart).
    pub title: String,
    /// x-axis description.
    pub x_label: String,
    /// y-axis description.
    pub y_label: String,
    /// The curves, drawn in order with a fixed colour cycle.
    pub series: Vec<Series>,
    /// Fixed y range `(lo, hi)`, finite with `lo < hi`; `None` = fit the data.
    pub y_range: Option<(f64, f64)>,
}

/// One curve of a [`LinePlot`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Legend entry (an empty name gets no legend entry).
    pub name: String,
    /// `(x, y)` points, joined in the given order.
    pub points: Vec<(f64, f64)>,
    /// Optional band `(x, lo, hi)`, e.g. mean ± std, shaded in the series colour.
    pub band: Option<Vec<(f64, f64, f64)>>,
}

/// Decision-region plot of a 2-D classifier.
///
/// `grid[iy][ix]` is the decision value f at
/// `x = x0 + ix·(x1 − x0)/(nx − 1)`, `y = y0 + iy·(y1 − y0)/(ny − 1)`, where
/// `(x0, x1) = x_range`, `(y0, y1) = y_range`. The grid is either empty (only points are drawn)
/// or rectangular with at least 2×2 values. Regions with f ≥ 0 are shaded light blue, f < 0
/// light red, and the f = 0 contour is traced by marching squares with linear interpolation.
/// Non-finite grid values leave their cells unshaded and without contour. Points with
/// non-finite coordinates or label (or label 0), or outside the ranges, are skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionPlot {
    /// Plot title.
    pub title: String,
    /// x range `(x0, x1)`, finite with `x0 < x1`.
    pub x_range: (f64, f64),
    /// y range `(y0, y1)`, finite with `y0 < y1`.
    pub y_range: (f64, f64),
    /// Decision values on a regular grid, row-major by y: `grid[iy][ix]`.
    pub grid: Vec<Vec<f64>>,
    /// The points to scatter on top.
    pub points: Vec<PlotPoint>,
    /// x-axis label ("" for none).
    #[serde(default)]
    pub x_label: String,
    /// y-axis label ("" for none).
    #[serde(default)]
    pub y_label: String,
    /// Legend entry of the highlighted points (e.g. "poisoned label"); "highlighted" when empty.
    #[serde(default)]
    pub highlight_label: String,
}

/// One point of a [`DecisionPlot`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlotPoint {
    /// x coordinate.
    pub x: f64,
    /// y coordinate.
    pub y: f64,
    /// Class label: `> 0` is drawn as +1 (blue), `< 0` as −1 (red).
    pub label: f64,
    /// Drawn with an extra black ring (e.g. a poisoned / flipped point).
    pub highlighted: bool,
}

/// Heatmap: a grid of cells, `values[row][col]`, coloured by a [`ColorScale`] with a legend
/// beside the plot, rows drawn top to bottom in order and columns left to right, each labelled
/// at its centre.
///
/// A non-finite value is a missing cell: drawn light grey, with a "missing" legend entry. With
/// a categorical scale, a value that is not an integer in `0..names.len()` is missing too.
/// `annotations`, when not empty, has the shape of `values` and its text is written at the
/// centre of each cell (black or white, whichever contrasts with the cell; an empty string
/// writes nothing). The optional [`HeatmapOverlay`] is a polyline in cell coordinates, clipped
/// to the grid. The grid must have at least one row and one column, `rows.len()` rows of
/// `columns.len()` values each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeatmapPlot {
    /// Plot title.
    pub title: String,
    /// x-axis description (under the column labels; "" for none).
    pub x_label: String,
    /// y-axis description (beside the row labels; "" for none).
    pub y_label: String,
    /// Column labels, left to right.
    pub columns: Vec<String>,
    /// Row labels, top to bottom.
    pub rows: Vec<String>,
    /// Cell values, `values[row][col]`; non-finite = missing.
    pub values: Vec<Vec<f64>>,
    /// How values map to colours.
    pub scale: ColorScale,
    /// Per-cell text, `annotations[row][col]`; empty = no annotations.
    #[serde(default)]
    pub annotations: Vec<Vec<String>>,
    /// A line drawn over the cells (e.g. a predicted boundary).
    #[serde(default)]
    pub overlay: Option<HeatmapOverlay>,
}

/// The colour scale of a [`HeatmapPlot`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ColorScale {
    /// A sequential colour map (viridis: dark purple at `lo`, yellow at `hi`), values outside
    /// the range clamped to its ends; the legend is a colour bar with ticks at lo, mid and hi.
    Continuous {
        /// The colour bar's title ("" for none).
        label: String,
        /// `(lo, hi)`, finite with lo < hi; None = the extent of the finite values (a single
        /// value v is widened to v ± 10 % of |v|, or ± 1 for 0).
        range: Option<(f64, f64)>,
    },
    /// Categories: the value i (an integer) is category `names[i]`; the legend lists each name
    /// with its swatch.
    Categorical {
        /// Category names, in legend order (at least one).
        names: Vec<String>,
        /// RGB colour per category; empty = a fixed palette (Tableau 10, cycled). When given,
        /// there is one colour per name.
        colors: Vec<(u8, u8, u8)>,
    },
}

/// A polyline over a [`HeatmapPlot`], in cell coordinates: x runs from 0 (left edge of column
/// 0) to `columns.len()` (right edge of the last column), y from 0 (top edge of row 0) to
/// `rows.len()` (bottom edge of the last row); the centre of cell (r, c) is (c + 0.5, r + 0.5).
/// Points with a non-finite coordinate break the line; parts outside the grid are clipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeatmapOverlay {
    /// Legend entry ("" for none).
    pub name: String,
    /// The points, joined in order.
    pub points: Vec<(f64, f64)>,
}
