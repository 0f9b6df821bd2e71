//! The registry: the one place that maps RON spec variants to boxed trait objects (defences,
//! in-game attackers, projectors, offline poisoners). Adding a method or an attack is a new
//! file in its crate plus one arm here (see CONTRIBUTING.md).

use std::path::Path;
use std::sync::Arc;

use floral_attack::{
    Alfa, AlfaTilt, KnnAwareFlips, LabelSheet, LearnerFactory, Lfa, LookAhead, LookAheadPoisoner, MarginFlips,
    NoAttack, Poisoner, RandomFlips, RandomTopK, RelaxedLookAhead, TopLambdaFlips, ZeroSum,
};
use floral_data::{FloralRng, NamedStream, Split, named_stream};
use floral_defense::{
    AttackerFactory, ConfidentLearning, Curie, Defence, FloralDefence, FloralFitParams, FloralLearner, KLid,
    LabelSanitisation, LnSvm, SvmDefence, SvmDefenceParams, TrustedSvm,
};
use floral_game::{Attacker, Budget, GameError, GameParams, OutputRule};
use floral_projection::Projector;

use crate::ExperimentError;
use crate::spec::{
    AttackerSpec, DataSpec, DefenceSpec, ExperimentSpec, FloralSpec, OfflineAttack, PoisonSpec, ProjectorSpec,
};

fn invalid(path: &Path, field: impl Into<String>, expected: impl Into<String>, got: impl ToString) -> ExperimentError {
    ExperimentError::invalid(path, field, expected, got)
}

/// The name of a poison level as shown in reports.
pub fn poison_name(p: &PoisonSpec) -> String {
    match p {
        PoisonSpec::Clean => "clean".into(),
        PoisonSpec::Sheet(s) => s.clone(),
        PoisonSpec::RandomFlips { fraction } => format!("random {}%", floral_report::fmt_num(100.0 * fraction)),
        PoisonSpec::Attack { fraction, attack } => {
            format!("{} {}%", attack_name(attack), floral_report::fmt_num(100.0 * fraction))
        }
    }
}

/// The short name of an offline attack in reports.
pub fn attack_name(a: &OfflineAttack) -> String {
    match a {
        OfflineAttack::Random => "random".into(),
        OfflineAttack::Margin(p) => match p.order {
            floral_attack::MarginOrder::FarFirst => "margin-far".into(),
            floral_attack::MarginOrder::NearestFirst => "margin-near".into(),
        },
        OfflineAttack::TopLambda(_) => "top-λ".into(),
        OfflineAttack::Alfa(_) => "alfa".into(),
        OfflineAttack::AlfaTilt(_) => "alfa-tilt".into(),
        OfflineAttack::Lfa(_) => "lfa".into(),
        OfflineAttack::LookAheadFloral { attack, .. } => format!("look-ahead h={}", attack.horizon),
        OfflineAttack::KnnAware(_) => "knn-aware".into(),
    }
}

/// The poisoner an offline attack spec names (one arm per attack).
///
/// # Errors
/// [`ExperimentError::Invalid`] naming `field` when the attack rejects its parameters.
pub fn offline_attack(path: &Path, field: &str, a: &OfflineAttack) -> Result<Arc<dyn Poisoner>, ExperimentError> {
    let bad = |e: floral_attack::AttackError| invalid(path, field, "valid attack parameters", e);
    Ok(match a {
        OfflineAttack::Random => Arc::new(RandomFlips),
        OfflineAttack::Margin(p) => Arc::new(MarginFlips::new(p.clone()).map_err(bad)?),
        OfflineAttack::TopLambda(p) => Arc::new(TopLambdaFlips::new(p.clone()).map_err(bad)?),
        OfflineAttack::Alfa(p) => Arc::new(Alfa::new(p.clone()).map_err(bad)?),
        OfflineAttack::AlfaTilt(p) => Arc::new(AlfaTilt::new(p.clone()).map_err(bad)?),
        OfflineAttack::Lfa(p) => Arc::new(Lfa::new(p.clone()).map_err(bad)?),
        OfflineAttack::LookAheadFloral { learner, attack } => {
            FloralLearner::new(learner.clone(), Arc::new(floral_projection::ExactProjector::default()))
                .map_err(|e| invalid(path, format!("{field}.learner"), "valid FLORAL learner parameters", e))?;
            let learner = learner.clone();
            let factory: LearnerFactory = Arc::new(move || {
                let l = FloralLearner::new(learner.clone(), Arc::new(floral_projection::ExactProjector::default()))
                    .map_err(|e| GameError::player("floral", e))?;
                Ok(Box::new(l) as Box<dyn floral_game::Learner>)
            });
            Arc::new(LookAheadPoisoner::new(attack.clone(), factory).map_err(bad)?)
        }
        OfflineAttack::KnnAware(p) => Arc::new(KnnAwareFlips::new(p.clone()).map_err(bad)?),
    })
}

/// The defence a baseline spec names (one arm per defence).
///
/// # Errors
/// [`ExperimentError::Invalid`] naming `field` when the defence rejects its parameters.
pub fn baseline(path: &Path, field: &str, d: &DefenceSpec) -> Result<Arc<dyn Defence>, ExperimentError> {
    let bad = |e: floral_defense::DefenseError| invalid(path, field, "valid defence parameters", e);
    Ok(match d {
        DefenceSpec::TrustedSvm(p) => Arc::new(TrustedSvm::new(p.clone()).map_err(bad)?),
        DefenceSpec::LnSvm(p) => Arc::new(LnSvm::new(p.clone()).map_err(bad)?),
        DefenceSpec::Curie(p) => Arc::new(Curie::new(p.clone()).map_err(bad)?),
        DefenceSpec::LabelSanitisation(p) => Arc::new(LabelSanitisation::new(p.clone()).map_err(bad)?),
        DefenceSpec::KLid(p) => Arc::new(KLid::new(p.clone()).map_err(bad)?),
        DefenceSpec::ConfidentLearning(p) => Arc::new(ConfidentLearning::new(p.clone()).map_err(bad)?),
    })
}

/// Build the projector a spec names.
///
/// # Errors
/// [`ExperimentError::Run`] when the projector rejects its parameters.
pub fn projector(p: &ProjectorSpec) -> Result<Arc<dyn Projector>, ExperimentError> {
    projector_raw(p).map_err(|e| ExperimentError::Run { what: "projector".into(), message: e.to_string() })
}

/// [`projector`] for a spec at `field` of the file `path`: the projector's own parameter check,
/// reported as an input error naming `field.<parameter>`.
///
/// # Errors
/// [`ExperimentError::Invalid`].
pub fn projector_at(path: &Path, field: &str, p: &ProjectorSpec) -> Result<Arc<dyn Projector>, ExperimentError> {
    projector_raw(p).map_err(|e| match e {
        floral_projection::ProjError::InvalidParam { field: f, expected, got } => {
            invalid(path, format!("{field}.{f}"), expected, got)
        }
        e => invalid(path, field, "valid projector parameters", e),
    })
}

fn projector_raw(p: &ProjectorSpec) -> Result<Arc<dyn Projector>, floral_projection::ProjError> {
    Ok(match *p {
        ProjectorSpec::Exact => Arc::new(floral_projection::ExactProjector::default()),
        ProjectorSpec::FixedPoint { tol, max_iter, finish_exact } => {
            let params = floral_projection::FixedPointParams { tol, max_iter, finish_exact };
            Arc::new(floral_projection::FixedPointProjector::new(params)?)
        }
    })
}

/// An attacker factory for parameters `p` that `build` validates once here (a bad parameter is
/// an error before any game starts) and again, infallibly in practice, for every fresh game;
/// the game's budget is k.
fn checked_factory<P, A>(
    p: &P,
    k: usize,
    name: &'static str,
    build: fn(P) -> Result<A, floral_attack::AttackError>,
) -> Result<(AttackerFactory, Budget), floral_attack::AttackError>
where
    P: Clone + Send + Sync + 'static,
    A: Attacker + 'static,
{
    build(p.clone())?;
    let p = p.clone();
    let f: AttackerFactory = Arc::new(move || {
        let a = build(p.clone()).map_err(|e| GameError::player(name, e))?;
        Ok(Box::new(a) as Box<dyn Attacker>)
    });
    Ok((f, Budget { k }))
}

/// The in-game attacker a spec names, as a factory (one fresh attacker per game), and the
/// game's budget, defined here once: the attacker reads it from its round view.
///
/// # Errors
/// [`ExperimentError::Run`] when the attacker rejects its parameters.
pub fn attacker(a: &AttackerSpec) -> Result<(AttackerFactory, Budget), ExperimentError> {
    attacker_raw(a).map_err(|e| ExperimentError::Run { what: "attacker".into(), message: e.to_string() })
}

/// [`attacker`] for a spec at `field` of the file `path`: the attacker's own parameter check,
/// reported as an input error naming `field.<parameter>`.
///
/// # Errors
/// [`ExperimentError::Invalid`].
pub fn attacker_at(path: &Path, field: &str, a: &AttackerSpec) -> Result<(AttackerFactory, Budget), ExperimentError> {
    attacker_raw(a).map_err(|e| match e {
        floral_attack::AttackError::InvalidParam { field: f, expected, got } => {
            invalid(path, format!("{field}.{f}"), expected, got)
        }
        e => invalid(path, field, "valid attacker parameters", e),
    })
}

fn attacker_raw(a: &AttackerSpec) -> Result<(AttackerFactory, Budget), floral_attack::AttackError> {
    Ok(match a {
        AttackerSpec::RandomTopK(p) => checked_factory(p, p.k, "random_top_k", RandomTopK::new)?,
        AttackerSpec::ZeroSum(p) => checked_factory(p, p.k, "zero_sum", ZeroSum::new)?,
        AttackerSpec::LookAhead(p) => checked_factory(p, p.k, "look_ahead", LookAhead::new)?,
        AttackerSpec::RelaxedLookAhead(p) => checked_factory(p, p.k, "relaxed_look_ahead", RelaxedLookAhead::new)?,
        AttackerSpec::None => {
            let f: AttackerFactory = Arc::new(|| Ok(Box::new(NoAttack) as Box<dyn Attacker>));
            (f, Budget { k: 0 })
        }
    })
}

/// A FLORAL setting's game parameters: its rounds, its attacker's budget, its unattacked rounds,
/// and the game defaults ([`GameParams::new`]).
pub fn floral_game_params(f: &FloralSpec, budget: Budget) -> GameParams {
    GameParams::new(f.rounds, budget.k, f.unattacked_rounds)
}

/// One FLORAL game assembled from its spec, for a kind that plays it directly (a replay, a
/// study of λ): a fresh attacker, the learner on the spec's projector, and the game parameters.
pub struct FloralGame {
    /// The in-game attacker.
    pub attacker: Box<dyn Attacker>,
    /// The learner.
    pub learner: FloralLearner,
    /// The game parameters ([`floral_game_params`]).
    pub params: GameParams,
}

/// Assemble [`FloralGame`] from a FLORAL spec, the registry's one way to build its players.
///
/// # Errors
/// [`ExperimentError::Run`] naming `what` for parameters the learner, projector or attacker
/// reject.
pub fn floral_game(f: &FloralSpec, what: &str) -> Result<FloralGame, ExperimentError> {
    let fail = |e: &dyn std::fmt::Display| ExperimentError::Run { what: what.to_string(), message: e.to_string() };
    let (factory, budget) = attacker(&f.attacker)?;
    let attacker = factory().map_err(|e| fail(&e))?;
    let learner = FloralLearner::new(f.learner.clone(), projector(&f.projector)?).map_err(|e| fail(&e))?;
    Ok(FloralGame { attacker, learner, params: floral_game_params(f, budget) })
}

/// A FLORAL setting as a defence; `output` restricts it to one output rule (a tuning grid's
/// point), None hands out every rule.
///
/// # Errors
/// [`ExperimentError::Run`] for parameters the learner, projector or attacker reject.
pub fn floral(
    f: &FloralSpec,
    output: Option<OutputRule>,
    record_every: usize,
) -> Result<Arc<dyn Defence>, ExperimentError> {
    let (factory, budget) = attacker(&f.attacker)?;
    let average_last = match output {
        Some(OutputRule::Average { last }) => last,
        _ => f.average_last,
    }
    .min(f.rounds);
    let fit = FloralFitParams {
        game: floral_game_params(f, budget),
        record_every,
        average_last,
        rules: output.map(|r| vec![r]).unwrap_or_default(),
        solver: f.solver,
    };
    let d = FloralDefence::new(f.learner.clone(), fit, projector(&f.projector)?, factory)
        .map_err(|e| ExperimentError::Run { what: format!("FLORAL `{}`", f.name), message: e.to_string() })?;
    Ok(Arc::new(d))
}

/// The plain SVM with bound C as a defence.
///
/// # Errors
/// [`ExperimentError::Run`] for an invalid C.
pub fn svm(c: f64) -> Result<Arc<dyn Defence>, ExperimentError> {
    let d = SvmDefence::new(SvmDefenceParams { c })
        .map_err(|e| ExperimentError::Run { what: "svm".into(), message: e.to_string() })?;
    Ok(Arc::new(d))
}

/// How a poison level's budget is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PoisonBudget {
    /// round(fraction · n) flips.
    Fraction(f64),
    /// Exactly this many flips.
    Exact(usize),
}

impl PoisonBudget {
    /// The number of flips for a training set of n points.
    pub fn flips(&self, n: usize) -> usize {
        match *self {
            PoisonBudget::Fraction(f) => ((f * n as f64).round() as usize).min(n),
            PoisonBudget::Exact(m) => m.min(n),
        }
    }
}

/// A checked poison level: clean labels, or a poisoner with its budget.
#[derive(Debug, Clone)]
pub struct PlannedPoison {
    /// The level's name in reports.
    pub name: String,
    /// The offline attack (None: clean labels).
    pub poisoner: Option<(Arc<dyn Poisoner>, PoisonBudget)>,
}

/// The rng an offline poisoner draws from for a seed: a stream of its own, so the data draw is
/// unchanged by adding a poison level.
pub fn poison_rng(seed: u64) -> FloralRng {
    named_stream(seed, NamedStream::Poison)
}

/// Check a poison spec and build its level; `clean` holds the clean splits per seed.
///
/// # Errors
/// [`ExperimentError::Invalid`] naming the field, or [`ExperimentError::Data`] for a sheet that
/// cannot be loaded.
pub fn poison_level(
    path: &Path,
    spec: &ExperimentSpec,
    index: usize,
    p: &PoisonSpec,
    clean: &[Split],
) -> Result<PlannedPoison, ExperimentError> {
    let name = poison_name(p);
    let field = |f: &str| format!("poison[{index}]{f}");
    Ok(match p {
        PoisonSpec::Clean => PlannedPoison { name, poisoner: None },
        PoisonSpec::Sheet(sheet) => match &spec.data {
            DataSpec::Shipped { name: data, resplit: true, .. } if data == "moon_floral_seed42" => {
                return Err(invalid(
                    path,
                    field(""),
                    "no Sheet(...) level with data.resplit: true (a sheet flips the authors' fixed training split; \
                     use Attack(...) levels, or resplit: false)",
                    format!("Sheet({sheet:?})"),
                ));
            }
            DataSpec::Shipped { name: data, .. } if data == "moon_floral_seed42" => {
                let s = floral_data::shipped::moon_floral(sheet)
                    .map_err(|source| ExperimentError::Data { path: path.to_path_buf(), source })?;
                let ls = LabelSheet::new(sheet.clone(), s.train.y().clone());
                let budget = match clean.first() {
                    Some(c) => ls
                        .budget(c.train.y())
                        .map_err(|e| invalid(path, field(""), "a sheet over the clean training points", e))?,
                    None => 0,
                };
                PlannedPoison { name, poisoner: Some((Arc::new(ls), PoisonBudget::Exact(budget))) }
            }
            _ => {
                return Err(invalid(
                    path,
                    field(""),
                    "Sheet(...) only with data: Shipped(name: \"moon_floral_seed42\")",
                    format!("Sheet({sheet:?})"),
                ));
            }
        },
        PoisonSpec::RandomFlips { fraction } => {
            if !(fraction.is_finite() && (0.0..1.0).contains(fraction)) {
                return Err(invalid(
                    path,
                    field(".fraction"),
                    "a number in [0, 1) (the share of training labels flipped)",
                    fraction,
                ));
            }
            PlannedPoison { name, poisoner: Some((Arc::new(RandomFlips), PoisonBudget::Fraction(*fraction))) }
        }
        PoisonSpec::Attack { fraction, attack } => {
            if !(fraction.is_finite() && (0.0..1.0).contains(fraction)) {
                return Err(invalid(
                    path,
                    field(".fraction"),
                    "a number in [0, 1) (the share of training labels flipped)",
                    fraction,
                ));
            }
            let poisoner = offline_attack(path, &field(".attack"), attack)?;
            if let OfflineAttack::LookAheadFloral { attack: a, .. } = attack {
                if a.data == floral_attack::AttackerData::Validation && clean.iter().any(|c| c.validation.is_none()) {
                    return Err(invalid(
                        path,
                        field(".attack.attack.data"),
                        "Train, or a data set with a validation split",
                        "Validation",
                    ));
                }
            }
            PlannedPoison { name, poisoner: Some((poisoner, PoisonBudget::Fraction(*fraction))) }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn solver_in_ron_picks_the_learner() {
        let floral = |name: &str, solver: &str| {
            format!(
                "Floral((name: \"{name}\", learner: (c: 1.0, eta: 0.05, schedule: Constant), solver: {solver}, \
                 attacker: RandomTopK((k: 2, pool: Some(6))), rounds: 30))"
            )
        };
        let text = format!(
            "Experiment(name: \"s\", seeds: [3], data: Moons(n: 80, noise: 0.2, validation_fraction: 0.2, \
             test_fraction: 0.25), poison: [Clean], kernel: Rbf(gamma: 1.0), decision_plots: false, methods: [{}, {}, \
             {}, {}, {}])",
            floral("default", "Pgd").replace("solver: Pgd, ", ""),
            floral("pgd", "Pgd"),
            floral("eg", "Extragradient(respond: true)"),
            floral("eg-fixed", "Extragradient(respond: false)"),
            floral("og", "Optimistic"),
        );
        let plan = crate::check(crate::parse(&text, Path::new("s.ron")).unwrap(), Path::new("s.ron")).unwrap();
        let ran = crate::execute(&plan, &|_| {}).unwrap();
        let trace = |m: &str| -> Vec<f64> {
            let r = ran.results.iter().find(|r| r.method == m).unwrap();
            r.trace.iter().map(|t| t.scores.train.hinge).collect()
        };
        // Leaving the field out is Pgd, bit for bit; every other solver plays another game.
        assert_eq!(trace("default"), trace("pgd"));
        for other in ["eg", "eg-fixed", "og"] {
            assert_eq!(trace(other).len(), 30);
            assert_ne!(trace(other), trace("pgd"), "{other} played the PGD game");
        }
        assert_ne!(trace("eg"), trace("eg-fixed"), "the responder changes the extragradient game");
        let bad = text.replace("Optimistic", "Momentum");
        let e = crate::parse(&bad, Path::new("s.ron")).unwrap_err().to_string();
        assert!(e.contains("s.ron") && e.contains("Momentum"), "{e}");
    }
}
