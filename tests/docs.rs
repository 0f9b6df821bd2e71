//! Every RON example in the docs parses and checks, and the field reference names
//! every field and variant of the experiment format.

use std::path::Path;

use floral::experiment::convergence::{CompareSpec, ConvergenceSpec, EtaGrid};
use floral::experiment::multiclass::{MulticlassPoison, MulticlassSpec};

use floral::experiment::spec::{
    AttackerSpec, BaselineSpec, DataSpec, DefenceSpec, ExperimentSpec, FloralSpec, KernelSpec, MethodSpec,
    OfflineAttack, PoisonSpec, ProjectorSpec, TuneSpec,
};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The ```ron blocks of a Markdown file.
fn ron_blocks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        match (&mut cur, line.trim_start()) {
            (None, l) if l.starts_with("```ron") => cur = Some(String::new()),
            (Some(b), l) if l.starts_with("```") => {
                out.push(std::mem::take(b));
                cur = None;
            }
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            _ => {}
        }
    }
    out
}

#[test]
fn every_ron_example_in_the_docs_parses_and_checks() {
    let mut n = 0;
    for doc in ["README.md", "docs/experiments.md", "CONTRIBUTING.md"] {
        let path = root().join(doc);
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, block) in ron_blocks(&text).iter().enumerate() {
            let src = root().join(format!("{doc}#ron{i}"));
            // Any kind (`Experiment(...)`, or a study kind): parsed and checked by its loader.
            floral::experiment::load_study(block, &src).unwrap_or_else(|e| panic!("{doc} block {i}: {e}"));
            n += 1;
        }
    }
    assert!(n >= 1, "no RON example found");
    // The experiment crate's module example too.
    let spec_rs = std::fs::read_to_string(root().join("crates/experiment/src/spec.rs")).unwrap();
    let example: String = spec_rs
        .lines()
        .skip_while(|l| !l.starts_with("//! ```text"))
        .skip(1)
        .take_while(|l| !l.starts_with("//! ```"))
        .map(|l| format!("{}\n", l.trim_start_matches("//!").strip_prefix(' ').unwrap_or("")))
        .collect();
    assert!(!example.is_empty());
    let spec = floral::experiment::parse(&example, Path::new("spec.rs")).unwrap();
    floral::experiment::check(spec, Path::new("spec.rs")).unwrap();
}

/// A spec that uses every field and every variant, serialised: the names the reference must
/// carry.
fn every_name() -> Vec<String> {
    let floral = |tune| FloralSpec {
        name: "f".into(),
        learner: floral::defense::FloralParams::reference(),
        projector: ProjectorSpec::FixedPoint { tol: 1e-21, max_iter: 1000, finish_exact: true },
        attacker: AttackerSpec::RandomTopK(floral::attack::RandomTopKParams::default()),
        solver: floral::defense::Solver::Extragradient { respond: true },
        rounds: 10,
        unattacked_rounds: 0,
        average_last: 5,
        tune,
    };
    let tune = TuneSpec {
        eta: vec![0.1],
        schedule: vec![
            floral::defense::Schedule::Constant,
            floral::defense::Schedule::StepDecay { every: 1, factor: 0.5 },
            floral::defense::Schedule::InverseSqrt,
        ],
        init: vec![floral::defense::Init::Zero, floral::defense::Init::Svm],
        output: vec![
            floral::game::OutputRule::Last,
            floral::game::OutputRule::Average { last: 2 },
            floral::game::OutputRule::BestValidation,
        ],
        k_pool: vec![(1, 2)],
        rounds: vec![3],
    };
    let mut learner_free = floral(Some(tune));
    learner_free.learner.bias = floral::defense::BiasChoice::FreeSupportVectors;
    let specs = [
        ExperimentSpec {
            name: "x".into(),
            description: String::new(),
            seeds: vec![1],
            data: DataSpec::Moons { n: 10, noise: 0.1, validation_fraction: 0.1, test_fraction: 0.1 },
            poison: vec![
                PoisonSpec::Clean,
                PoisonSpec::Sheet("s".into()),
                PoisonSpec::RandomFlips { fraction: 0.1 },
                PoisonSpec::Attack { fraction: 0.1, attack: OfflineAttack::Random },
                PoisonSpec::Attack {
                    fraction: 0.1,
                    attack: OfflineAttack::Margin(floral::attack::MarginFlipsParams {
                        order: floral::attack::MarginOrder::NearestFirst,
                        ..Default::default()
                    }),
                },
                PoisonSpec::Attack { fraction: 0.1, attack: OfflineAttack::Margin(Default::default()) },
                PoisonSpec::Attack { fraction: 0.1, attack: OfflineAttack::TopLambda(Default::default()) },
                PoisonSpec::Attack { fraction: 0.1, attack: OfflineAttack::Alfa(Default::default()) },
                PoisonSpec::Attack { fraction: 0.1, attack: OfflineAttack::AlfaTilt(Default::default()) },
                PoisonSpec::Attack {
                    fraction: 0.1,
                    attack: OfflineAttack::Lfa(floral::attack::LfaParams {
                        loss: floral::attack::LfaLoss::Hinge,
                        candidates: Some(3),
                        ..Default::default()
                    }),
                },
                PoisonSpec::Attack { fraction: 0.1, attack: OfflineAttack::Lfa(Default::default()) },
                PoisonSpec::Attack {
                    fraction: 0.1,
                    attack: OfflineAttack::LookAheadFloral {
                        learner: floral::defense::FloralParams::reference(),
                        attack: floral::attack::LookAheadPoisonParams {
                            search: floral::attack::LookAheadSearch::Beam { width: 2 },
                            objective: floral::attack::LookAheadObjective::Error,
                            data: floral::attack::AttackerData::Train,
                            ..Default::default()
                        },
                    },
                },
                PoisonSpec::Attack {
                    fraction: 0.1,
                    attack: OfflineAttack::LookAheadFloral {
                        learner: floral::defense::FloralParams::reference(),
                        attack: floral::attack::LookAheadPoisonParams {
                            search: floral::attack::LookAheadSearch::Greedy,
                            ..Default::default()
                        },
                    },
                },
                PoisonSpec::Attack { fraction: 0.1, attack: OfflineAttack::KnnAware(Default::default()) },
            ],
            kernel: KernelSpec::Linear,
            methods: vec![
                MethodSpec::Floral(Box::new(learner_free)),
                MethodSpec::Floral(Box::new(FloralSpec {
                    attacker: AttackerSpec::None,
                    projector: ProjectorSpec::Exact,
                    solver: floral::defense::Solver::Optimistic,
                    ..floral(None)
                })),
                MethodSpec::Svm { name: "s".into(), c: 1.0, c_grid: vec![], gamma_grid: vec![0.5] },
                MethodSpec::Floral(Box::new(FloralSpec {
                    attacker: AttackerSpec::ZeroSum(floral::attack::ZeroSumParams {
                        k: 1,
                        objective: floral::attack::ZeroSumObjective::Dual,
                    }),
                    ..floral(None)
                })),
                MethodSpec::Floral(Box::new(FloralSpec {
                    attacker: AttackerSpec::ZeroSum(Default::default()),
                    ..floral(None)
                })),
                MethodSpec::Floral(Box::new(FloralSpec {
                    attacker: AttackerSpec::LookAhead(Default::default()),
                    ..floral(None)
                })),
                MethodSpec::Floral(Box::new(FloralSpec {
                    attacker: AttackerSpec::RelaxedLookAhead(Default::default()),
                    ..floral(None)
                })),
                MethodSpec::Baseline(BaselineSpec {
                    name: "t".into(),
                    defence: DefenceSpec::TrustedSvm(floral::defense::TrustedSvmParams {
                        c: 1.0,
                        pool: floral::defense::TrustedPool::Trusted,
                    }),
                }),
                MethodSpec::Baseline(BaselineSpec {
                    name: "u".into(),
                    defence: DefenceSpec::TrustedSvm(floral::defense::TrustedSvmParams {
                        c: 1.0,
                        pool: floral::defense::TrustedPool::TrainAndTrusted,
                    }),
                }),
                MethodSpec::Baseline(BaselineSpec {
                    name: "v".into(),
                    defence: DefenceSpec::LnSvm(Default::default()),
                }),
                MethodSpec::Baseline(BaselineSpec {
                    name: "w".into(),
                    defence: DefenceSpec::Curie(Default::default()),
                }),
                MethodSpec::Baseline(BaselineSpec {
                    name: "x".into(),
                    defence: DefenceSpec::LabelSanitisation(Default::default()),
                }),
                MethodSpec::Baseline(BaselineSpec { name: "y".into(), defence: DefenceSpec::KLid(Default::default()) }),
                MethodSpec::Baseline(BaselineSpec {
                    name: "y2".into(),
                    defence: DefenceSpec::KLid(floral::defense::KLidParams {
                        weighting: floral::defense::KLidWeighting::ScaledRatio,
                        ..Default::default()
                    }),
                }),
                MethodSpec::Baseline(BaselineSpec {
                    name: "z".into(),
                    defence: DefenceSpec::ConfidentLearning(Default::default()),
                }),
                MethodSpec::Baseline(BaselineSpec {
                    name: "z2".into(),
                    defence: DefenceSpec::ConfidentLearning(floral::defense::ConfidentLearningParams {
                        action: floral::defense::CleanAction::Relabel,
                        ..Default::default()
                    }),
                }),
            ],
            record_every: 1,
            decision_plots: true,
        },
        ExperimentSpec {
            name: "y".into(),
            description: String::new(),
            seeds: vec![1],
            data: DataSpec::Shipped { name: "n".into(), validation_fraction: 0.0, resplit: true },
            poison: vec![],
            kernel: KernelSpec::Rbf { gamma: 1.0 },
            methods: vec![],
            record_every: 1,
            decision_plots: true,
        },
        ExperimentSpec {
            name: "g".into(),
            description: String::new(),
            seeds: vec![1],
            data: DataSpec::GaussianMixture {
                n: 10,
                d: 2,
                params: Default::default(),
                validation_fraction: 0.1,
                test_fraction: 0.1,
            },
            poison: vec![],
            kernel: KernelSpec::Linear,
            methods: vec![],
            record_every: 1,
            decision_plots: true,
        },
        ExperimentSpec {
            name: "e".into(),
            description: String::new(),
            seeds: vec![1],
            data: DataSpec::Embeddings {
                train: "a".into(),
                train_labels: Some("b".into()),
                test: "c".into(),
                test_labels: None,
                validation_fraction: 0.0,
                standardize: false,
            },
            poison: vec![],
            kernel: KernelSpec::Linear,
            methods: vec![],
            record_every: 1,
            decision_plots: true,
        },
        ExperimentSpec {
            name: "z".into(),
            description: String::new(),
            seeds: vec![1],
            data: DataSpec::Files {
                train: "a".into(),
                validation: None,
                test: "b".into(),
                standardize: false,
                pad_features: false,
            },
            poison: vec![],
            kernel: KernelSpec::Poly { degree: 2, gamma: 1.0, coef0: 0.0 },
            methods: vec![],
            record_every: 1,
            decision_plots: true,
        },
    ];
    let pretty = || ron::ser::PrettyConfig::new().struct_names(true);
    let mut texts: Vec<String> = specs.iter().map(|s| ron::ser::to_string_pretty(s, pretty()).unwrap()).collect();
    // The `Multiclass(...)` study kind, every field and variant.
    for new_class in [floral::attack::NewClass::MostConfusable, floral::attack::NewClass::Uniform] {
        let m = MulticlassSpec {
            name: "m".into(),
            description: String::new(),
            seeds: vec![1],
            train: "a".into(),
            test: "b".into(),
            train_points: Some(10),
            kernel: KernelSpec::Linear,
            c: 1.0,
            poison: vec![
                MulticlassPoison::Clean,
                MulticlassPoison::Random { fraction: 0.1 },
                MulticlassPoison::Targeted { fraction: 0.1, pairs: vec![(7, 1)] },
            ],
            floral: floral::defense::MulticlassFloralParams {
                learner: floral::defense::FloralParams::reference(),
                rounds: 1,
                k: 1,
                average_last: 1,
                tol: None,
            },
            attacker_pool: None,
            attacker_new_class: new_class,
        };
        texts.push(ron::ser::to_string_pretty(&m, pretty()).unwrap());
    }
    let convergence = ConvergenceSpec {
        name: "c".into(),
        description: String::new(),
        seeds: vec![1],
        data: DataSpec::Moons { n: 10, noise: 0.1, validation_fraction: 0.1, test_fraction: 0.1 },
        poison: PoisonSpec::Clean,
        kernel: KernelSpec::Linear,
        c: 1.0,
        init: floral::defense::Init::Zero,
        eta: EtaGrid::KernelBound(vec![1.0]),
        attackers: vec![(1, 2)],
        rounds: 10,
        unattacked_rounds: 0,
        tail: 5,
        spread_tol: 0.01,
        diverge_cosine: -0.5,
        monitor_every: 5,
        compare: CompareSpec {
            eta: vec![1.0],
            attacker: (1, 2),
            average_last: 5,
            schedules: vec![floral::defense::Schedule::InverseSqrt],
            solvers: vec![floral::defense::Solver::Optimistic],
        },
    };
    let absolute = ConvergenceSpec { eta: EtaGrid::Absolute(vec![0.1]), ..convergence.clone() };
    for c in [convergence, absolute] {
        texts.push(ron::ser::to_string_pretty(&c, pretty()).unwrap());
    }
    // The trusted-set-size study's own fields.
    let study = floral::experiment::trusted_size::TrustedSizeSpec {
        name: "t".into(),
        description: String::new(),
        seeds: vec![1],
        data: DataSpec::Moons { n: 10, noise: 0.1, validation_fraction: 0.1, test_fraction: 0.1 },
        poison: vec![],
        kernel: KernelSpec::Linear,
        methods: vec![],
        sizes: vec![5],
        trusted_c: Some(1.0),
        record_every: 1,
    };
    texts.push(ron::ser::to_string_pretty(&study, pretty()).unwrap());
    let influence = floral::experiment::influence::InfluenceSpec {
        name: "i".into(),
        description: String::new(),
        seeds: vec![1],
        data: DataSpec::Shipped { name: "n".into(), validation_fraction: 0.2, resplit: false },
        poison: vec![PoisonSpec::Clean],
        kernel: KernelSpec::Linear,
        c: 1.0,
        floral: floral(None),
        rounds: vec![1],
        top_b: vec![1],
        sample: Some(2),
        bootstrap: 10,
        warm_start: true,
    };
    texts.push(ron::ser::to_string_pretty(&influence, pretty()).unwrap());
    let mut names = std::collections::BTreeSet::new();
    for text in &texts {
        // Field names (`ident:`) and variant / struct names (`Ident(` or a bare `Ident`).
        let mut word = String::new();
        for c in text.chars().chain(std::iter::once(' ')) {
            if c.is_ascii_alphanumeric() || c == '_' {
                word.push(c);
            } else {
                if !word.is_empty()
                    && !word.starts_with(|d: char| d.is_ascii_digit())
                    && (c == ':' || c == '(' || word.chars().next().is_some_and(|f| f.is_ascii_uppercase()))
                {
                    names.insert(word.clone());
                }
                word.clear();
            }
        }
    }
    names
        .into_iter()
        .filter(|n| {
            !n.ends_with("Params")
                && !n.ends_with("Spec")
                && !["Some", "Experiment", "Convergence"].contains(&n.as_str())
        })
        .collect()
}

#[test]
fn the_field_reference_names_every_field_and_variant() {
    let doc = std::fs::read_to_string(root().join("docs/experiments.md")).unwrap();
    // Identifiers inside code spans (`…`) and code blocks: the names the page documents.
    let mut code = std::collections::BTreeSet::new();
    for (i, part) in doc.split('`').enumerate() {
        if i % 2 == 1 || part.contains("Experiment(") {
            for w in part.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                code.insert(w.to_string());
            }
        }
    }
    let missing: Vec<String> = every_name().into_iter().filter(|n| !code.contains(n)).collect();
    assert!(missing.is_empty(), "docs/experiments.md does not mention: {missing:?}");
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() && p.file_name().is_some_and(|n| n != "target") {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_path_and_item_contributing_names_exists() {
    let text = std::fs::read_to_string(root().join("CONTRIBUTING.md")).unwrap();
    let prose: String = text.split("```").step_by(2).collect::<Vec<_>>().join(" ");
    let mut files = Vec::new();
    for d in ["crates", "src", "tests"] {
        rust_files(&root().join(d), &mut files);
    }
    let sources: Vec<String> = files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect();
    let defines = |name: &str| {
        let forms = ["fn ", "struct ", "enum ", "trait ", "mod ", "type ", "const ", "macro_rules! "];
        sources.iter().any(|s| forms.iter().any(|f| s.contains(&format!("{f}{name}"))))
    };
    let (mut paths, mut items) = (0, 0);
    for tok in prose.split('`').skip(1).step_by(2) {
        if tok.contains(['<', ' ', '*', '(']) {
            continue;
        }
        let is_path = ["crates/", "tests/", "docs/", "proofs/", "experiments/", "reports/", "src/"]
            .iter()
            .any(|p| tok.starts_with(p));
        if is_path {
            assert!(root().join(tok).exists(), "CONTRIBUTING.md names `{tok}`, which does not exist");
            paths += 1;
        } else if tok.contains("::") && tok.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            let last = tok.rsplit("::").next().unwrap();
            let first = tok.split("::").next().unwrap();
            assert!(defines(last), "CONTRIBUTING.md names `{tok}`: no definition of `{last}` found");
            assert!(
                first.starts_with("floral")
                    || defines(first)
                    || files.iter().any(|f| f.file_stem().is_some_and(|s| s == first)),
                "CONTRIBUTING.md names `{tok}`: no module `{first}` found"
            );
            items += 1;
        }
    }
    assert!(paths >= 10 && items >= 5, "only {paths} paths and {items} items checked");
}
