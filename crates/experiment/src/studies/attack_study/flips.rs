//! Where each formulation's flips lie: FLORAL's games replayed with a recording attacker, every
//! flip placed by the margin y_i f(x_i) of an exact SVM on the same labels.

use std::sync::Arc;

use faer::Col;
use floral_data::{FlipSet, FloralRng, Streams};
use floral_game::{Attacker, GameError, NoObserver, RoundView};
use floral_report::{Block, Cell, Document, Figure, LinePlot, Plot, Series, Table, fmt_num};
use floral_svm::{BiasRule, Bounds, Gram, SignedGram, Smo, SmoParams};

use super::{AttackStudy, floral_spec};
use crate::ExperimentError;
use crate::run::ExperimentGroup;

/// Records what the wrapped attacker plays.
#[derive(Debug)]
struct Record {
    inner: Box<dyn Attacker>,
    flips: Vec<FlipSet>,
}

impl Attacker for Record {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn attack(&mut self, v: &RoundView<'_>, r: &mut FloralRng) -> Result<FlipSet, GameError> {
        let f = self.inner.attack(v, r)?;
        self.flips.push(f.clone());
        Ok(f)
    }
}

/// Flip margins of one formulation: the clean SVM margin y_i f(x_i) of every flip of every round.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FlipMargins {
    method: String,
    margins: Vec<f64>,
}

fn pct(x: f64) -> String {
    format!("{}%", fmt_num(100.0 * x))
}

impl AttackStudy {
    /// Replay formulation `m`'s FLORAL game on the first poison level's training set of the
    /// first seed (from `group`, which holds that seed), recording its flips, and measure them by
    /// the margin y_i f(x_i) of an exact SVM (SMO, the Stackelberg method's C, LIBSVM's bias)
    /// trained on that level's labels.
    pub(super) fn flip_margins(&self, group: &ExperimentGroup, m: &str) -> Result<FlipMargins, ExperimentError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| ExperimentError::Run {
            what: format!("flip-location replay: {what}"),
            message: e.to_string(),
        };
        let split = group.split(0, 0).ok_or_else(|| fail("split", &"the first seed's split is not in its group"))?;
        let train = &split.train;
        let gram = Arc::new(Gram::new(self.plan.kernel.as_ref(), train.x()));
        let first = self.replayed().first().and_then(|s| floral_spec(&self.spec.experiment, s).cloned());
        let (Some(first), Some(f)) = (first, floral_spec(&self.spec.experiment, m)) else {
            return Err(fail("method", &format!("{m} is not a FLORAL method")));
        };
        let c = first.learner.c;
        let q = SignedGram::new(gram.clone(), train.y()).map_err(|e| fail("gram", &e))?;
        let sol = Smo::new(SmoParams::default()).and_then(|mut s| s.solve(&q, Bounds::Uniform(c), None));
        let sol = sol.map_err(|e| fail("reference SVM", &e))?;
        let b = floral_svm::bias(BiasRule::FreeSupportVectors, &q, sol.lambda.as_ref(), Bounds::Uniform(c));
        let mut ql = Col::zeros(train.n());
        q.matvec_into(sol.lambda.as_ref(), ql.as_mut());
        let y = train.y().as_slice();
        let margin: Vec<f64> = (0..train.n()).map(|i| ql[i] + y[i] * b).collect();
        {
            let crate::registry::FloralGame { attacker, mut learner, params } =
                crate::registry::floral_game(f, &format!("flip-location replay of {m}"))?;
            let mut rec = Record { inner: attacker, flips: Vec::new() };
            let mut qg = SignedGram::new(gram.clone(), train.y()).map_err(|e| fail("gram", &e))?;
            let seed = self.spec.experiment.seeds.first().copied().unwrap_or(0);
            floral_game::play(
                &params,
                &mut qg,
                train.y(),
                &mut rec,
                &mut learner,
                &mut Streams::new(seed),
                &mut NoObserver,
            )
            .map_err(|e| fail("game", &e))?;
            let margins = rec.flips.iter().flat_map(|fs| fs.indices().iter().map(|&i| margin[i])).collect();
            Ok(FlipMargins { method: m.to_string(), margins })
        }
    }

    /// The "Where the flips lie" section: each formulation's flips placed by a clean SVM's
    /// margin y_i f(x_i) (table, histogram, one answer sentence, numbers in `json`).
    pub(super) fn flip_section(
        &self,
        fm: &[FlipMargins],
        doc: &mut Document,
        json: &mut serde_json::Map<String, serde_json::Value>,
        answer: &mut Vec<String>,
    ) {
        let levels = &self.plan.poison_names;
        if !fm.is_empty() {
            doc.push(Block::Heading { level: 2, text: "Where the flips lie".into() });
            doc.push(Block::Paragraph(format!(
                "Each formulation's FLORAL game replayed on the `{}` training labels of seed {} (as in the table); every flip of every round is placed by its margin y_i f(x_i) under an exact SVM trained on those labels (the Stackelberg method's C). Margin < 0: misclassified by that SVM; 0–1: inside the margin band; > 1: far on the correct side.",
                levels.first().cloned().unwrap_or_default(),
                self.spec.experiment.seeds.first().copied().unwrap_or(0)
            )));
            let mut t = Table {
                caption: Some("Flips by clean-SVM margin (all rounds).".into()),
                headers: vec![
                    "method".into(),
                    "flips".into(),
                    "mean margin".into(),
                    "margin < 0".into(),
                    "0 ≤ margin ≤ 1".into(),
                    "margin > 1".into(),
                ],
                rows: Vec::new(),
            };
            let mut series = Vec::new();
            let mut summary = Vec::new();
            for f in fm {
                let n = f.margins.len().max(1) as f64;
                let mean = f.margins.iter().sum::<f64>() / n;
                let neg = f.margins.iter().filter(|&&m| m < 0.0).count() as f64 / n;
                let far = f.margins.iter().filter(|&&m| m > 1.0).count() as f64 / n;
                t.rows.push(vec![
                    Cell::Text(f.method.clone()),
                    Cell::Int(f.margins.len() as i64),
                    Cell::Num(mean),
                    Cell::Text(pct(neg)),
                    Cell::Text(pct(1.0 - neg - far)),
                    Cell::Text(pct(far)),
                ]);
                summary.push(format!("{} {} (beyond margin 1: {})", f.method, fmt_num(mean), pct(far)));
                json.insert(
                    format!("flip_margin_{}", f.method),
                    serde_json::json!({"flips": f.margins.len(), "mean": mean, "negative": neg, "far": far}),
                );
                // Histogram, bins of width 0.25 on [−2, 4], the ends collecting the tails.
                let bins = 24;
                let mut h = vec![0.0; bins];
                for &m in &f.margins {
                    let b = (((m + 2.0) / 0.25).floor().max(0.0) as usize).min(bins - 1);
                    h[b] += 1.0 / n;
                }
                series.push(Series {
                    name: f.method.clone(),
                    points: (0..bins).map(|b| (-2.0 + 0.25 * (b as f64 + 0.5), h[b])).collect(),
                    band: None,
                });
            }
            doc.push(Block::Table(t));
            doc.push(Block::Figure(Figure {
                file: "flip_margins.svg".into(),
                caption: "Share of each formulation's flips by the clean SVM's margin y f(x) (bins of 0.25; the end bins hold the tails)".into(),
                plot: Plot::Lines(LinePlot {
                    title: "Where the flips lie relative to the boundary".into(),
                    x_label: "margin y f(x) under an SVM on the level's labels".into(),
                    y_label: "share of flips".into(),
                    series,
                    y_range: None,
                }),
            }));
            answer.push(format!(
                "Mean margin of the flipped points under that SVM (all rounds, one seed): {}.",
                summary.join(", ")
            ));
        }
    }
}
