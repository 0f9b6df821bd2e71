//! The head and tail every study report shares: title, question, setup (the command that
//! reproduces the report, the content hash, the data sizes and what one test point is worth,
//! the kind's own setup, the seeds and what every ± varies over, the budgets), and the canonical
//! study file at the end. A kind fills a [`ReportFrame`]; the frame writes the blocks the same
//! way for every kind.

use std::path::Path;

use floral_report::{Block, Document, fmt_num};

use super::StudyHeader;

/// The sizes of the data a report's numbers come from.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSizes {
    /// Training points.
    pub train: usize,
    /// Validation points (0: no validation split).
    pub validation: usize,
    /// Test points (clean labels).
    pub test: usize,
    /// Features per point.
    pub features: usize,
    /// Where the sizes hold, e.g. `per seed` or `for seed 1`.
    pub scope: String,
    /// More about the data (its source, the poisoned count, …), appended as its own sentence.
    pub note: Option<String>,
}

/// A study report's shared head and tail. The kind's body goes between [`ReportFrame::document`]
/// and [`ReportFrame::close`].
#[derive(Debug, Clone)]
pub struct ReportFrame<'a> {
    /// The report's title (e.g. `floral convergence study: convergence_moon`).
    pub title: String,
    /// The study's name, source, canonical text and hash.
    pub header: StudyHeader<'a>,
    /// The study file's free-text description.
    pub description: &'a str,
    /// The question the report answers (None: the description says it).
    pub question: Option<String>,
    /// What the content hash covers besides the canonical study file (e.g. data files).
    pub hash_covers: Option<String>,
    /// The data sizes.
    pub data: DataSizes,
    /// The kind's own setup items (learner, attacker, grid, …), between the data and the seeds.
    pub setup: Vec<String>,
    /// The seeds.
    pub seeds: &'a [u64],
    /// What every ± in the report varies over (a sentence or more).
    pub varies: String,
    /// Each method's validation budget and trusted data (a sentence or more).
    pub budgets: String,
}

/// The command that reproduces a report from its study file: `floral run` and the file as
/// `<its directory's name>/<file name>` (so the report does not depend on where the checkout
/// lives). The built-in quickstart is `experiments/quickstart.ron` (bare `floral run` runs it),
/// so its report names that file either way.
pub fn reproduce_command(source: &Path) -> String {
    if source.to_string_lossy().starts_with("<built-in") {
        return "floral run experiments/quickstart.ron".into();
    }
    let file = source.file_name().map_or_else(String::new, |f| f.to_string_lossy().into_owned());
    match source.parent().and_then(Path::file_name) {
        Some(dir) => format!("floral run {}/{file}", dir.to_string_lossy()),
        None => format!("floral run {file}"),
    }
}

/// What a content hash covers besides the study file: the data files it reads, each with its
/// role, path and sha256 (None when it reads none).
pub fn hashed_data_files(files: &[crate::plan::DataFile]) -> Option<String> {
    (!files.is_empty()).then(|| {
        format!(
            "the data files: {}",
            files.iter().map(|d| format!("{} `{}` sha256 {}", d.role, d.path, d.sha256)).collect::<Vec<_>>().join(", ")
        )
    })
}

impl ReportFrame<'_> {
    /// The data item: sizes, scope, note, and what one test point is worth (1/n_test).
    fn data_item(&self) -> String {
        let d = &self.data;
        let validation = if d.validation > 0 { format!("{} validation, ", d.validation) } else { String::new() };
        let mut s = format!(
            "Data: {} training, {validation}{} test points (clean labels), {} features, {}.",
            d.train, d.test, d.features, d.scope
        );
        if let Some(n) = &d.note {
            s.push(' ');
            s.push_str(n);
        }
        if d.test > 0 {
            s.push_str(&format!(
                " One test point is worth {} of test accuracy (1/{}): smaller differences are not resolved.",
                fmt_num(1.0 / d.test as f64),
                d.test
            ));
        }
        s
    }

    /// The Setup list.
    pub fn setup_items(&self) -> Vec<String> {
        let mut items = vec![format!(
            "Reproduce: `{}` (floral {}); content hash `{}` (sha256 of the canonical study file at the end of this report{}).",
            reproduce_command(self.header.source),
            env!("CARGO_PKG_VERSION"),
            self.header.hash,
            self.hash_covers.as_deref().map_or_else(String::new, |c| format!(" and of {c}"))
        )];
        items.push(self.data_item());
        items.extend(self.setup.iter().cloned());
        items.push(format!(
            "Seeds: {} ({}). {}",
            self.seeds.len(),
            self.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
            self.varies
        ));
        items.push(format!("Budgets: {}", self.budgets));
        items
    }

    /// The report's head: title, description, question and the Setup section.
    pub fn document(&self) -> Document {
        let mut doc = Document::new(self.title.clone());
        if !self.description.is_empty() {
            doc.push(Block::Paragraph(self.description.to_string()));
        }
        if let Some(q) = &self.question {
            doc.push(Block::Paragraph(format!("**Question.** {q}")));
        }
        doc.push(Block::Heading { level: 2, text: "Setup".into() });
        doc.push(Block::List(self.setup_items()));
        doc
    }

    /// The report's tail: the canonical study file the hash is taken of.
    pub fn close(&self, doc: &mut Document) {
        doc.push(Block::Heading { level: 2, text: "Study file".into() });
        doc.push(Block::Paragraph(format!(
            "The canonical form of the study file (content hash `{}`); `{}` on it reproduces this report.",
            self.header.hash,
            reproduce_command(self.header.source)
        )));
        doc.push(Block::Code { lang: "ron".into(), text: self.header.canonical.to_string() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(test: usize) -> ReportFrame<'static> {
        ReportFrame {
            title: "floral study: x".into(),
            header: StudyHeader {
                name: "x",
                source: Path::new("/home/someone/floral/experiments/x.ron"),
                canonical: "Experiment(name: \"x\")",
                hash: "abc",
            },
            description: "A description.",
            question: Some("Does it?".into()),
            hash_covers: None,
            data: DataSizes { train: 10, validation: 0, test, features: 2, scope: "per seed".into(), note: None },
            setup: vec!["Learner: C = 1.".into()],
            seeds: &[1, 2],
            varies: "Every ± varies over the seeds.".into(),
            budgets: "none.".into(),
        }
    }

    #[test]
    fn the_command_names_the_study_file_by_its_directory_not_the_checkout() {
        assert_eq!(reproduce_command(Path::new("/a/b/experiments/x.ron")), "floral run experiments/x.ron");
        assert_eq!(reproduce_command(Path::new("experiments/x.ron")), "floral run experiments/x.ron");
        assert_eq!(reproduce_command(Path::new("x.ron")), "floral run x.ron");
        assert_eq!(reproduce_command(Path::new("<built-in quickstart>")), "floral run experiments/quickstart.ron");
    }

    #[test]
    fn the_setup_states_test_size_and_what_one_test_point_is_worth() {
        let items = frame(400).setup_items();
        assert!(items[0].starts_with("Reproduce: `floral run experiments/x.ron`"), "{}", items[0]);
        assert!(items[0].contains("`abc`"));
        assert!(
            items[1].contains("400 test points") && items[1].contains("worth 0.0025 of test accuracy (1/400)"),
            "{}",
            items[1]
        );
        assert!(!items[1].contains("validation"), "no validation split, none stated: {}", items[1]);
        assert_eq!(items[2], "Learner: C = 1.");
        assert_eq!(items[3], "Seeds: 2 (1, 2). Every ± varies over the seeds.");
        assert_eq!(items[4], "Budgets: none.");
        let f = frame(0);
        assert!(!f.setup_items()[1].contains("worth"), "no test set, no worth");
    }

    #[test]
    fn the_head_and_tail_frame_the_body() {
        let f = frame(90);
        let mut doc = f.document();
        f.close(&mut doc);
        let md = floral_report::render_markdown(&doc);
        let (q, s, tail) = (md.find("**Question.** Does it?"), md.find("## Setup"), md.find("## Study file"));
        assert!(q.is_some() && s.is_some() && tail.is_some(), "{md}");
        assert!(q < s && s < tail, "{md}");
        assert!(md.trim_end().ends_with("```"), "the canonical study file closes the report: {md}");
        assert!(md.contains("Experiment(name: \"x\")"));
    }
}
