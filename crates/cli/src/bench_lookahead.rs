//! `floral bench lookahead`: the cost of a look-ahead attacker's round as a multiple of a plain
//! FLORAL round (randomized top-k attack + one learner step), per horizon h, candidate pool and
//! search, measured in one process on the shipped Moon file (train_adv_10, n = 500); and, on the
//! same state, the objective each attacker's flips reach (the continuous relaxation against the
//! discrete searches).

use std::sync::Arc;
use std::time::Instant;

use anyhow::anyhow;
use faer::Col;
use floral_experiment::attack::{
    EvalSet, LookAhead, LookAheadObjective, LookAheadParams, LookAheadSearch, RandomTopK, RandomTopKParams,
    RelaxedLookAhead, RelaxedLookAheadParams, score_flips,
};
use floral_experiment::data::{FloralRng, Labels, Stream, Streams, shipped, stream};
use floral_experiment::defense::{FloralLearner, FloralParams, Init, Schedule};
use floral_experiment::game::{Attacker, Budget, GameParams, Learner, NoObserver, RoundView, play};
use floral_experiment::projection::ExactProjector;
use floral_experiment::svm::{Gram, Rbf, RbfParams, SignedGram};

use crate::{BenchLookaheadArgs, CliError};

struct Row {
    attacker: String,
    h: usize,
    pool: usize,
    seconds: f64,
    ratio: f64,
    simulations: usize,
    objective: f64,
    random_objective: f64,
}

pub(crate) fn run(a: &BenchLookaheadArgs) -> Result<(), CliError> {
    let internal = |e: &dyn std::fmt::Display| CliError::Internal(anyhow!("{e}"));
    if a.reps == 0 {
        return Err(CliError::Input(anyhow!("--reps: expected >= 1, got 0")));
    }
    let k = 10;
    let (q, clean, learner) = state(k)?;
    let round = 101;

    // One round: the attack from the state, the flips applied, one learner step on a fork.
    let one_round = |att: &mut dyn Attacker, rng: &mut FloralRng| -> Result<(f64, Vec<usize>), CliError> {
        let t = Instant::now();
        let mut f = Col::zeros(0);
        let view = RoundView::new(round, &learner, &q, &clean, Budget { k }, &mut f);
        let flips = att.attack(&view, rng).map_err(|e| internal(&e))?;
        let mut qq = q.clone();
        qq.set_labels(&clean.apply(&flips).map_err(|e| internal(&e))?).map_err(|e| internal(&e))?;
        let mut l = learner.fork();
        l.step(round, &qq, rng).map_err(|e| internal(&e))?;
        Ok((t.elapsed().as_secs_f64(), flips.indices().to_vec()))
    };
    let objective = |flips: &[usize], h: usize| -> Result<f64, CliError> {
        let mut f = Col::zeros(0);
        let view = RoundView::new(round, &learner, &q, &clean, Budget { k }, &mut f);
        let fs = floral_experiment::data::FlipSet::new(flips.to_vec(), clean.len()).map_err(|e| internal(&e))?;
        let s = score_flips(
            &view,
            &fs,
            h,
            &EvalSet::Train(&clean),
            LookAheadObjective::Hinge,
            &mut stream(0, Stream::Attacker),
        )
        .map_err(|e| internal(&e))?;
        Ok(s.primary)
    };
    let time = |make: &dyn Fn() -> Result<Box<dyn Attacker>, CliError>| -> Result<(f64, Vec<usize>), CliError> {
        let mut best = f64::INFINITY;
        let mut flips = Vec::new();
        for _ in 0..a.reps {
            let mut att = make()?;
            let (s, f) = one_round(att.as_mut(), &mut stream(7, Stream::Attacker))?;
            best = best.min(s);
            flips = f;
        }
        Ok((best, flips))
    };
    // Baseline: a plain FLORAL round (many repetitions: it is short).
    let mut base = f64::INFINITY;
    let mut base_flips = Vec::new();
    for _ in 0..(20 * a.reps) {
        let mut att =
            RandomTopK::new(RandomTopKParams { k, pool: Some(2 * k), sv_threshold: 1e-5 }).map_err(|e| internal(&e))?;
        let (s, f) = one_round(&mut att, &mut stream(7, Stream::Attacker))?;
        base = base.min(s);
        base_flips = f;
    }
    let mut rows = vec![Row {
        attacker: "random_top_k (plain FLORAL round)".into(),
        h: 0,
        pool: 2 * k,
        seconds: base,
        ratio: 1.0,
        simulations: 0,
        objective: objective(&base_flips, 1)?,
        random_objective: objective(&base_flips, 1)?,
    }];
    let configs = look_ahead_configs(k);
    for (name, h, pool, search) in configs {
        let p = LookAheadParams { k, pool: Some(pool), horizon: h, search, ..LookAheadParams::default() };
        let sims = {
            let mut la = LookAhead::new(p.clone()).map_err(|e| internal(&e))?;
            one_round(&mut la, &mut stream(7, Stream::Attacker))?;
            la.simulations()
        };
        let (s, f) = time(&|| Ok(Box::new(LookAhead::new(p.clone()).map_err(|e| internal(&e))?) as Box<dyn Attacker>))?;
        rows.push(Row {
            attacker: format!("look_ahead {name}"),
            h,
            pool,
            seconds: s,
            ratio: s / base,
            simulations: sims,
            objective: objective(&f, h)?,
            random_objective: objective(&base_flips, h)?,
        });
    }
    for h in [1usize, 2, 4] {
        let p = RelaxedLookAheadParams { k, pool: Some(2 * k), horizon: h, ..RelaxedLookAheadParams::default() };
        let (s, f) =
            time(&|| Ok(Box::new(RelaxedLookAhead::new(p.clone()).map_err(|e| internal(&e))?) as Box<dyn Attacker>))?;
        rows.push(Row {
            attacker: "relaxed_look_ahead (10 L-BFGS iterations)".into(),
            h,
            pool: 2 * k,
            seconds: s,
            ratio: s / base,
            simulations: 0,
            objective: objective(&f, h)?,
            random_objective: objective(&base_flips, h)?,
        });
    }
    print_rows(&rows, a.json, clean.len(), k, round, a.reps);
    Ok(())
}

/// The state every attacker is timed from: the Moon file's 10 % sheet, FLORAL (C = 10,
/// η = 5e-3) after 100 rounds against randomized top-k with budget `k`.
fn state(k: usize) -> Result<(SignedGram, Labels, FloralLearner), CliError> {
    let internal = |e: &dyn std::fmt::Display| CliError::Internal(anyhow!("{e}"));
    let split = shipped::moon_floral("train_adv_10").map_err(|e| internal(&e))?;
    let kernel = Rbf::new(RbfParams { gamma: 0.5 }).map_err(|e| internal(&e))?;
    let gram = Arc::new(Gram::new(&kernel, split.train.x()));
    let clean = split.train.y().clone();
    let mut q = SignedGram::new(gram, &clean).map_err(|e| internal(&e))?;
    let params = FloralParams {
        c: 10.0,
        eta: 5e-3,
        schedule: Schedule::Constant,
        init: Init::Zero,
        ..FloralParams::reference()
    };
    // The state: 100 rounds of FLORAL against randomized top-k.
    let mut learner = FloralLearner::new(params, Arc::new(ExactProjector::default())).map_err(|e| internal(&e))?;
    let mut rtk =
        RandomTopK::new(RandomTopKParams { k, pool: Some(2 * k), sv_threshold: 1e-5 }).map_err(|e| internal(&e))?;
    let game = GameParams::new(100, k, 1);
    play(&game, &mut q, &clean, &mut rtk, &mut learner, &mut Streams::new(1), &mut NoObserver)
        .map_err(|e| internal(&e))?;
    Ok((q, clean, learner))
}

/// The look-ahead settings timed: singles over pools k, 2k and 4k, and a greedy search over 2k,
/// at horizons 1, 2 and 4.
fn look_ahead_configs(k: usize) -> Vec<(&'static str, usize, usize, LookAheadSearch)> {
    let mut configs = Vec::new();
    for h in [1usize, 2, 4] {
        for pool in [k, 2 * k, 4 * k] {
            configs.push(("singles", h, pool, LookAheadSearch::Singles));
        }
        configs.push(("greedy", h, 2 * k, LookAheadSearch::Greedy));
    }
    configs
}

/// The rows as JSON or as a table with its legend.
fn print_rows(rows: &[Row], json: bool, n: usize, k: usize, round: usize, reps: usize) {
    if json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({"attacker": r.attacker, "h": r.h, "pool": r.pool, "seconds": r.seconds,
                    "ratio_to_plain_round": r.ratio, "simulations": r.simulations, "hinge_after_h": r.objective,
                    "random_top_k_hinge_after_h": r.random_objective})
            })
            .collect();
        println!("{}", serde_json::json!({"n": n, "k": k, "state_round": round, "rows": v}));
        return;
    }
    println!(
        "Moon train_adv_10 (n = {}), FLORAL C = 10, η = 5e-3, state after 100 rounds, k = {k}; minimum of {} repetitions.",
        n, reps
    );
    println!("A round = the attack + one learner step. 'hinge after h' = the clean-label training hinge loss of the");
    println!("learner after h steps on the played flips (the look-ahead objective; higher hurts more).");
    println!(
        "{:<44} {:>2} {:>5} {:>12} {:>10} {:>6} {:>14} {:>14}",
        "attacker", "h", "pool", "seconds", "× plain", "sims", "hinge after h", "random top-k"
    );
    for r in rows {
        println!(
            "{:<44} {:>2} {:>5} {:>12.6} {:>10.1} {:>6} {:>14.6} {:>14.6}",
            r.attacker, r.h, r.pool, r.seconds, r.ratio, r.simulations, r.objective, r.random_objective
        );
    }
    println!("('random top-k': the hinge after h steps of the plain round's flips, from the same state)");
}
