//! Markdown rendering of a [`Document`].

use crate::document::{Block, Cell, Document, Figure, Table};
use crate::format::fmt_fixed;
use crate::format::fmt_num;

/// Renders a document as GitHub-flavoured Markdown. A pure function of `doc`.
///
/// Layout: `# title`, then each block separated by one blank line, ending with a single `\n`.
/// - `Heading` → `#`×level (level clamped to 1..=6) and the text on one line;
/// - `Paragraph` → the text verbatim (it is inline Markdown);
/// - `List` → `- item` lines, continuation lines indented by two spaces;
/// - `Code` → a fenced block whose fence is longer than any backtick run in the text;
/// - `Table` → optional `*caption*` line, then a pipe table (see [`Table`] for column count and
///   alignment); cells: `Num` via [`fmt_num`], `Int` exact, `MeanStd` as `"m ± s"` (both via
///   [`fmt_num`]), `Missing` as `—`, `Text` with `|` escaped;
/// - `Figure` → `![caption](file)` with `[`, `]` and `\` in the caption escaped.
///
/// ```
/// use floral_report::{Block, Document, render_markdown};
/// let doc = Document::new("Run").with(Block::Paragraph("Done.".into()));
/// assert_eq!(render_markdown(&doc), "# Run\n\nDone.\n");
/// ```
pub fn render_markdown(doc: &Document) -> String {
    let mut parts = Vec::with_capacity(doc.blocks.len() + 1);
    parts.push(format!("# {}", one_line(&doc.title)));
    for block in &doc.blocks {
        parts.push(render_block(block));
    }
    let mut out = parts.join("\n\n");
    out.push('\n');
    out
}

fn render_block(block: &Block) -> String {
    match block {
        Block::Heading { level, text } => {
            let n = usize::from((*level).clamp(1, 6));
            format!("{} {}", "#".repeat(n), one_line(text))
        }
        Block::Paragraph(text) => text.trim_end().to_string(),
        Block::List(items) => items
            .iter()
            .map(|item| format!("- {}", item.trim_end().replace('\n', "\n  ")))
            .collect::<Vec<_>>()
            .join("\n"),
        Block::Code { lang, text } => {
            let fence = "`".repeat(longest_backtick_run(text).max(2) + 1);
            let body = text.trim_end_matches('\n');
            format!("{fence}{}\n{body}\n{fence}", one_line(lang))
        }
        Block::Table(table) => render_table(table),
        Block::Figure(fig) => render_figure(fig),
    }
}

fn render_figure(fig: &Figure) -> String {
    let mut alt = String::with_capacity(fig.caption.len());
    for c in one_line(&fig.caption).chars() {
        if matches!(c, '[' | ']' | '\\') {
            alt.push('\\');
        }
        alt.push(c);
    }
    format!("![{alt}]({})", fig.file)
}

fn render_table(table: &Table) -> String {
    let ncols = table.rows.iter().map(Vec::len).chain(std::iter::once(table.headers.len())).max().unwrap_or(0).max(1);
    let mut lines = Vec::with_capacity(table.rows.len() + 3);
    if let Some(caption) = &table.caption {
        lines.push(format!("*{}*", one_line(caption)));
        lines.push(String::new());
    }
    let header: Vec<String> =
        (0..ncols).map(|j| table.headers.get(j).map_or_else(String::new, |h| escape_cell(h))).collect();
    lines.push(table_row(&header));
    let align: Vec<String> =
        (0..ncols).map(|j| if is_numeric_column(table, j) { "---:".to_string() } else { "---".to_string() }).collect();
    lines.push(table_row(&align));
    for row in &table.rows {
        let cells: Vec<String> = (0..ncols).map(|j| row.get(j).map_or_else(String::new, render_cell)).collect();
        lines.push(table_row(&cells));
    }
    lines.join("\n")
}

fn table_row(cells: &[String]) -> String {
    format!("| {} |", cells.join(" | "))
}

/// True if every cell of column `j` is numeric or missing and at least one is numeric.
fn is_numeric_column(table: &Table, j: usize) -> bool {
    let mut any = false;
    for row in &table.rows {
        match row.get(j) {
            Some(
                Cell::Num(_) | Cell::Int(_) | Cell::MeanStd { .. } | Cell::Fixed { .. } | Cell::MeanStdFixed { .. },
            ) => any = true,
            Some(Cell::Missing) | None => {}
            Some(Cell::Text(_)) => return false,
        }
    }
    any
}

/// Renders one cell's content (escaped for a pipe table).
pub(crate) fn render_cell(cell: &Cell) -> String {
    match cell {
        Cell::Text(s) => escape_cell(s),
        Cell::Num(v) => fmt_num(*v),
        Cell::Int(v) => v.to_string(),
        Cell::MeanStd { mean, std } => format!("{} ± {}", fmt_num(*mean), fmt_num(*std)),
        Cell::Fixed { value, decimals } => fmt_fixed(*value, *decimals),
        Cell::MeanStdFixed { mean, std, decimals } => {
            format!("{} ± {}", fmt_fixed(*mean, *decimals), fmt_fixed(*std, *decimals))
        }
        Cell::Missing => "—".to_string(),
    }
}

fn escape_cell(s: &str) -> String {
    one_line(s).replace('|', "\\|")
}

/// Collapses line breaks (`\r\n`, `\n`, `\r`) into single spaces and trims the ends.
fn one_line(s: &str) -> String {
    s.split(['\n', '\r']).map(str::trim).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ")
}

fn longest_backtick_run(s: &str) -> usize {
    let mut best = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_collapses_breaks() {
        assert_eq!(one_line("a\r\nb\n\nc "), "a b c");
        assert_eq!(one_line(""), "");
    }

    #[test]
    fn backtick_runs() {
        assert_eq!(longest_backtick_run("no ticks"), 0);
        assert_eq!(longest_backtick_run("a ``` b ` c"), 3);
    }

    #[test]
    fn code_fence_outgrows_content() {
        let b = Block::Code { lang: "md".into(), text: "````\nx\n".into() };
        assert_eq!(render_block(&b), "`````md\n````\nx\n`````");
    }

    #[test]
    fn numeric_column_detection() {
        let t = Table {
            caption: None,
            headers: vec!["a".into(), "b".into(), "c".into()],
            rows: vec![
                vec![Cell::Text("x".into()), Cell::Num(1.0), Cell::Missing],
                vec![Cell::Text("y".into()), Cell::Missing],
            ],
        };
        assert!(!is_numeric_column(&t, 0));
        assert!(is_numeric_column(&t, 1));
        assert!(!is_numeric_column(&t, 2));
    }

    #[test]
    fn figure_caption_is_escaped() {
        let f = Figure {
            file: "a.svg".into(),
            caption: "acc [test]\nset".into(),
            plot: crate::Plot::Lines(crate::LinePlot {
                title: String::new(),
                x_label: String::new(),
                y_label: String::new(),
                series: vec![],
                y_range: None,
            }),
        };
        assert_eq!(render_figure(&f), "![acc \\[test\\] set](a.svg)");
    }
}
