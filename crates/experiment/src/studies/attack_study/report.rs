//! The attack study's report: the embedded experiment's report, the question, the budgets, the
//! answer computed from the measured numbers, and the limits.

use floral_report::{Block, Cell, Document, Table, fmt_num};

use super::flips::FlipMargins;
use super::spec::{AnswerSpec, Comparison};
use super::{AttackStudy, method_name};
use crate::frame::StudyOutput;
use crate::render::SummaryRow;

/// The summary row of `method` at `poison`: FLORAL rows are `name (rule)`, others `name`.
fn find<'a>(rows: &'a [SummaryRow], method: &str, rule: &str, poison: &str) -> Option<&'a SummaryRow> {
    let with_rule = format!("{method} ({rule})");
    rows.iter().find(|r| r.poison == poison && (r.method == method || r.method == with_rule))
}

impl AttackStudy {
    fn formulations(
        &self,
        rows: &[SummaryRow],
        flips: &[FlipMargins],
        doc: &mut Document,
    ) -> (Vec<String>, serde_json::Value) {
        let AnswerSpec::Formulations { rule, stackelberg, zero_sum, svm } = &self.spec.answer else {
            return (Vec::new(), serde_json::Value::Null);
        };
        let levels = &self.plan.poison_names;
        let mut answer = Vec::new();
        let mut json = serde_json::Map::new();
        let mut table = Table {
            caption: Some(format!(
                "Mean test accuracy difference, Stackelberg FLORAL ({rule}) minus the other method, per poison level; \
                 in brackets the larger of the two methods' standard deviations over seeds."
            )),
            headers: std::iter::once("poison".to_string())
                .chain(zero_sum.iter().cloned().chain(std::iter::once(svm.to_string())).map(|m| format!("vs {m}")))
                .collect(),
            rows: Vec::new(),
        };
        let others: Vec<String> = zero_sum.iter().cloned().chain(std::iter::once(svm.to_string())).collect();
        let mut diffs: Vec<Vec<(String, f64, f64)>> = vec![Vec::new(); others.len()];
        for l in levels {
            let Some(s) = find(rows, stackelberg, rule, l) else { continue };
            let mut cells = vec![Cell::Text(l.clone())];
            for (j, o) in others.iter().enumerate() {
                match find(rows, o, rule, l) {
                    Some(r) => {
                        let d = s.test_accuracy_mean - r.test_accuracy_mean;
                        let sd = s.test_accuracy_std.max(r.test_accuracy_std);
                        diffs[j].push((l.clone(), d, sd));
                        cells.push(Cell::Text(format!("{} ({})", fmt_num(d), fmt_num(sd))));
                    }
                    None => cells.push(Cell::Text("—".into())),
                }
            }
            table.rows.push(cells);
        }
        doc.push(Block::Table(table));
        let mut parts = Vec::new();
        for (j, o) in others.iter().enumerate() {
            let d = &diffs[j];
            if d.is_empty() {
                continue;
            }
            let wins = d.iter().filter(|x| x.1 > 0.0).count();
            let clear = d.iter().filter(|x| x.1.abs() > x.2).count();
            let mean = d.iter().map(|x| x.1).sum::<f64>() / d.len() as f64;
            let lo = d.iter().min_by(|a, b| a.1.total_cmp(&b.1)).map(|x| (x.0.clone(), x.1)).unwrap_or_default();
            let hi = d.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map(|x| (x.0.clone(), x.1)).unwrap_or_default();
            parts.push(format!(
                "than {o} at {wins} of {} poison levels (mean difference {}, from {} at {} to {} at {}; larger than the seeds' standard deviation at {clear} of {})",
                d.len(),
                fmt_num(mean),
                fmt_num(lo.1),
                lo.0,
                fmt_num(hi.1),
                hi.0,
                d.len()
            ));
            json.insert(
                format!("stackelberg_minus_{o}"),
                serde_json::json!({"wins": wins, "levels": d.len(), "mean": mean, "clear": clear}),
            );
        }
        answer.push(format!(
            "FLORAL trained against the Stackelberg (randomized top-k) attacker, `{rule}` output, had higher mean robust accuracy {}.",
            parts.join("; ")
        ));
        // The same count for the other output rules (the table has them all).
        let prefix = format!("{stackelberg} (");
        let mut rules: Vec<String> = Vec::new();
        for r in rows {
            if let Some(x) = r.method.strip_prefix(&prefix).and_then(|x| x.strip_suffix(')')) {
                if x != rule && !rules.iter().any(|y| y == x) {
                    rules.push(x.to_string());
                }
            }
        }
        let mut other = Vec::new();
        for z in zero_sum {
            for r in &rules {
                let (mut wins, mut total) = (0, 0);
                for l in levels {
                    if let (Some(a), Some(b)) = (find(rows, stackelberg, r, l), find(rows, z, r, l)) {
                        total += 1;
                        if a.test_accuracy_mean > b.test_accuracy_mean {
                            wins += 1;
                        }
                    }
                }
                other.push(format!("`{r}` vs {z}: {wins} of {total}"));
            }
        }
        if !other.is_empty() {
            answer.push(format!(
                "With the other output rules (same rule on both sides), the Stackelberg-trained FLORAL was higher at: {} levels.",
                other.join(", ")
            ));
        }
        self.flip_section(flips, doc, &mut json, &mut answer);
        (answer, serde_json::Value::Object(json))
    }

    fn adaptive(
        &self,
        rows: &[SummaryRow],
        doc: &mut Document,
        rule: &str,
        comparisons: &[Comparison],
    ) -> (Vec<String>, serde_json::Value) {
        let methods: Vec<String> = self.spec.experiment.methods.iter().map(|m| method_name(m).to_string()).collect();
        let mut table = Table {
            caption: Some(format!(
                "Robust accuracy under the adaptive attack minus the lowest robust accuracy under the oblivious attacks of the same budget (FLORAL: `{rule}` output); negative: the adaptive attack hurts more. In brackets the adaptive level's accuracy ± std."
            )),
            headers: std::iter::once("defence".to_string())
                .chain(comparisons.iter().map(|c| c.adaptive.clone()))
                .collect(),
            rows: Vec::new(),
        };
        let mut per_method: Vec<(String, Vec<f64>)> = Vec::new();
        let mut worst: Option<(String, String, f64, String)> = None;
        let mut json = serde_json::Map::new();
        for m in &methods {
            let mut cells = vec![Cell::Text(m.clone())];
            let mut ds = Vec::new();
            for c in comparisons {
                let a = find(rows, m, rule, &c.adaptive);
                let obl = c
                    .oblivious
                    .iter()
                    .filter_map(|o| find(rows, m, rule, o).map(|r| (o.clone(), r.test_accuracy_mean)))
                    .min_by(|a, b| a.1.total_cmp(&b.1));
                match (a, obl) {
                    (Some(a), Some((oname, oacc))) => {
                        let d = a.test_accuracy_mean - oacc;
                        ds.push(d);
                        cells.push(Cell::Text(format!(
                            "{} ({} ± {})",
                            fmt_num(d),
                            fmt_num(a.test_accuracy_mean),
                            fmt_num(if a.test_accuracy_std < 1e-12 { 0.0 } else { a.test_accuracy_std })
                        )));
                        if worst.as_ref().is_none_or(|w| d < w.2) {
                            worst = Some((m.clone(), c.adaptive.clone(), d, oname));
                        }
                        json.insert(
                            format!("{m} | {}", c.adaptive),
                            serde_json::json!({"delta": d, "strongest_oblivious": oacc}),
                        );
                    }
                    _ => cells.push(Cell::Text("—".into())),
                }
            }
            table.rows.push(cells);
            if !ds.is_empty() {
                per_method.push((m.clone(), ds));
            }
        }
        doc.push(Block::Table(table));
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let mut answer = Vec::new();
        // Loss relative to clean labels: clean accuracy minus robust accuracy, averaged over the
        // adaptive settings, for the adaptive attack and for the strongest oblivious attack.
        let mut losses = Vec::new();
        for m in &methods {
            let Some(clean) = find(rows, m, rule, "clean") else { continue };
            let (mut la, mut lo) = (Vec::new(), Vec::new());
            for c in comparisons {
                let a = find(rows, m, rule, &c.adaptive);
                let o = c
                    .oblivious
                    .iter()
                    .filter_map(|o| find(rows, m, rule, o).map(|r| r.test_accuracy_mean))
                    .min_by(|a, b| a.total_cmp(b));
                if let (Some(a), Some(o)) = (a, o) {
                    la.push(clean.test_accuracy_mean - a.test_accuracy_mean);
                    lo.push(clean.test_accuracy_mean - o);
                }
            }
            if !la.is_empty() {
                losses.push(format!("{m} {} vs {}", fmt_num(mean(&la)), fmt_num(mean(&lo))));
            }
        }
        if !losses.is_empty() {
            answer.push(format!(
                "Averaged over the {} adaptive settings, robust accuracy lost against clean training labels (`{rule}` output for FLORAL) under the defence-aware attack vs under the strongest oblivious attack of the same budget: {}.",
                comparisons.len(),
                losses.join(", ")
            ));
        }
        let pairs: usize = per_method.iter().map(|(_, d)| d.len()).sum();
        let worse = per_method.iter().flat_map(|(_, d)| d.iter()).filter(|&&d| d < 0.0).count();
        match worst {
            Some((m, a, d, o)) if d < 0.0 => answer.push(format!(
                "The adaptive attack was more damaging than every oblivious attack of its budget in {worse} of {pairs} (defence, setting) pairs; the largest excess loss was {} for {m} under `{a}` (strongest oblivious attack there: `{o}`).",
                fmt_num(-d)
            )),
            _ => answer.push(format!(
                "The adaptive attack was more damaging than every oblivious attack of its budget in {worse} of {pairs} (defence, setting) pairs."
            )),
        }
        if let (Some(best), Some(least)) = (
            per_method.iter().max_by(|a, b| mean(&a.1).total_cmp(&mean(&b.1))),
            per_method.iter().min_by(|a, b| mean(&a.1).total_cmp(&mean(&b.1))),
        ) {
            answer.push(format!(
                "Adaptive minus strongest oblivious accuracy, averaged over the settings, ranged from {} ({}) to {} ({}).",
                fmt_num(mean(&least.1)),
                least.0,
                fmt_num(mean(&best.1)),
                best.0
            ));
        }
        (answer, serde_json::Value::Object(json))
    }

    /// The report from the experiment's results and the formulations' stored flip replays.
    pub(super) fn render(&self, ran: &crate::Executed, flips: &[FlipMargins]) -> StudyOutput {
        let rows = crate::summary(&self.plan, &ran.results);
        let mut frame = crate::render::report_frame(
            &self.plan,
            format!("floral attack study: {}", self.plan.spec.name),
            format!(
                "Every ± in this report: {} {}",
                self.spec.variation,
                crate::evaluation::variation_text(&self.plan)
            ),
        );
        frame.header = crate::frame::Kind::header(self);
        frame.question = Some(self.spec.question.clone());
        frame.budgets = format!("{} {}", self.spec.budgets.join(" "), frame.budgets);
        let mut doc = frame.document();
        doc.push(Block::Heading { level: 2, text: "Comparison".into() });
        let (answer, extra) = match &self.spec.answer {
            AnswerSpec::Formulations { .. } => self.formulations(&rows, flips, &mut doc),
            AnswerSpec::Adaptive { rule, comparisons } => self.adaptive(&rows, &mut doc, rule, comparisons),
        };
        doc.blocks.extend(crate::render::document_body(&self.plan, ran));
        doc.push(Block::Heading { level: 2, text: "Answer".into() });
        doc.push(Block::Paragraph(answer.join(" ")));
        doc.push(Block::Heading { level: 2, text: "Limits".into() });
        doc.push(Block::List(self.spec.limits.clone()));
        frame.close(&mut doc);
        let mut results = crate::results_json(&self.plan, ran);
        if let Some(o) = results.as_object_mut() {
            o.insert("answer".into(), serde_json::json!({"text": answer, "numbers": extra}));
        }
        let summary = rows
            .iter()
            .map(|r| {
                format!(
                    "{:<28} {:<22} test accuracy {} ± {}",
                    r.method,
                    r.poison,
                    fmt_num(r.test_accuracy_mean),
                    fmt_num(r.test_accuracy_std)
                )
            })
            .chain(answer.iter().cloned())
            .collect();
        StudyOutput { document: doc, results, summary, warnings: ran.step_warnings(&self.plan) }
    }
}
