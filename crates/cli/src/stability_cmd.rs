//! `floral stability --train FILE --kernel rbf --gamma G --c C --eta E [--at svm|zero|FILE]
//! [--json]`: the local stability of the learner's map T(λ) = Π_{S(ỹ)}(λ − η(Q̃λ − 1)) on the
//! training labels at one point (docs/method.md §8, `proofs/stability.md`), through
//! floral-stability's analytic Jacobian.
//!
//! Printed: λ_max(K) and the label-independent bound 2/λ_max(K); the free set |F| of T(λ); μ_max
//! of P Q̃_FF P and the critical step 2/μ_max; the spectral radius of J = P(I − ηQ̃_FF)P on
//! range(P); the verdict. The JSON object has at least `lambda_max_k`, `eta_bound`, `free`,
//! `mu_max`, `spectral_radius`, `verdict` (plus `critical_eta`, `mu_min`, `min_margin`,
//! `fixed_point_residual`, `verdict_reason`, the settings, and `smo_status` for `--at svm`).
//!
//! Exit codes: 1 for bad input (a flag out of range, an unreadable data file, a `--at` file
//! whose line is not a finite number or whose count is not n: the message names file:line),
//! 2 for a numerical failure (an eigenvalue iteration that does not converge).

use anyhow::anyhow;
use faer::Col;
use floral_projection::{Bounds, ExactProjector};
use floral_stability::{AnalyticJacobian, AnalyticParams, StabilityAnalyzer, StabilityError};
use floral_svm::{Gram, PgdMap, SignedGram, Smo, SmoParams};

use crate::svm_cmd::{binary, build_kernel, load, svm_error};
use crate::{CliError, StabilityArgs};

fn positive(flag: &str, v: f64) -> Result<(), CliError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(CliError::Input(anyhow!("{flag}: expected a finite number > 0, got {v}")))
    }
}

fn stability_error(e: StabilityError, context: &str) -> CliError {
    match e {
        StabilityError::InvalidParam { .. } => CliError::Input(anyhow!("{context}: {e}")),
        other => CliError::Internal(anyhow!("{context}: {other}")),
    }
}

/// Read a `--at` file: one finite number per line (blank lines and `#` lines skipped), exactly
/// `n` of them. Errors name `file:line`.
fn read_point(path: &str, n: usize, train: &str) -> Result<Col<f64>, CliError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| CliError::Input(anyhow!("--at: cannot read `{path}`: {e}")))?;
    let mut values = Vec::with_capacity(n);
    for (k, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let lineno = k + 1;
        if values.len() == n {
            return Err(CliError::Input(anyhow!(
                "{path}:{lineno}: more than n = {n} values (one λ_i per training point of `{train}`)"
            )));
        }
        let v: f64 = t.parse().map_err(|_| {
            CliError::Input(anyhow!("{path}:{lineno}: `{t}` is not a number (expected one λ_i per line)"))
        })?;
        if !v.is_finite() {
            return Err(CliError::Input(anyhow!("{path}:{lineno}: λ_i must be finite, got `{t}`")));
        }
        values.push(v);
    }
    if values.len() != n {
        return Err(CliError::Input(anyhow!(
            "{path}: expected n = {n} values (one λ_i per training point of `{train}`), found {}",
            values.len()
        )));
    }
    Ok(Col::from_fn(n, |i| values[i]))
}

pub(crate) fn run(a: &StabilityArgs) -> Result<(), CliError> {
    positive("--c", a.c)?;
    positive("--eta", a.eta)?;
    positive("--eps", a.eps)?;
    let raw = load(&a.train, "training")?;
    let dim = raw.dim();
    let train = binary(raw, &a.train, "training")?;
    let gamma = match a.gamma {
        Some(g) => g,
        None if dim > 0 => 1.0 / dim as f64,
        None => {
            return Err(CliError::Input(anyhow!(
                "training data `{}` has no features, so the default γ = 1/d is undefined; pass --gamma",
                a.train
            )));
        }
    };
    let kernel = build_kernel(&a.kernel, gamma, a.degree, a.coef0)?;
    let analyzer = AnalyticJacobian::new(AnalyticParams { tol: a.tol, kernel_bound: true })
        .map_err(|e| stability_error(e, "--tol"))?;
    let n = train.n();
    let gram = Gram::new(kernel.as_ref(), train.x());
    let q = SignedGram::new(gram, train.y()).map_err(|e| svm_error(e, "training labels"))?;
    let bounds = Bounds::Uniform(a.c);

    let mut smo_status = None;
    let lambda = match a.at.as_str() {
        "svm" => {
            let sol = Smo::new(SmoParams { eps: a.eps, ..SmoParams::default() })
                .map_err(|e| svm_error(e, "--eps"))?
                .solve(&q, bounds, None)
                .map_err(|e| svm_error(e, &format!("SMO on `{}`", a.train)))?;
            smo_status = Some((sol.status.as_str(), sol.iterations));
            sol.lambda
        }
        "zero" => Col::zeros(n),
        path => read_point(path, n, &a.train)?,
    };

    let projector = ExactProjector::default();
    let map = PgdMap::new(&q, a.eta, bounds, &projector).map_err(|e| svm_error(e, "--eta / --c"))?;
    let r = analyzer.analyze(&map, lambda.as_ref()).map_err(|e| stability_error(e, "stability analysis"))?;

    if a.json {
        let mut obj = serde_json::json!({
            "train": a.train,
            "kernel": kernel.name(),
            "gamma": gamma,
            "c": a.c,
            "eta": a.eta,
            "at": a.at,
            "n": n,
            "lambda_max_k": r.lambda_max_k,
            "eta_bound": r.eta_bound,
            "free": r.free,
            "at_lower": r.at_lower,
            "at_upper": r.at_upper,
            "mu_max": r.mu_max,
            "mu_min": r.mu_min,
            "critical_eta": r.critical_eta,
            "spectral_radius": r.spectral_radius,
            "min_margin": r.min_margin,
            "fixed_point_residual": r.fixed_point_residual,
            "verdict": r.verdict.as_str(),
            "verdict_reason": r.verdict.reason().map(|x| x.to_string()),
        });
        if let (Some((status, iterations)), Some(m)) = (smo_status, obj.as_object_mut()) {
            m.insert("smo_status".into(), serde_json::json!(status));
            m.insert("smo_iterations".into(), serde_json::json!(iterations));
        }
        println!("{obj}");
    } else {
        let opt = |v: Option<f64>| v.map_or_else(|| "none".to_string(), |x| format!("{x:.9e}"));
        println!(
            "stability of T(λ) = Π(λ − η(Q̃λ − 1)) on `{}`: n = {n}, d = {}, {} γ = {gamma}, C = {}, η = {}",
            a.train,
            train.dim(),
            kernel.name(),
            a.c,
            a.eta
        );
        match smo_status {
            Some((status, it)) => println!("  at: the SVM solution (SMO {status} after {it} iterations)"),
            None => println!("  at: {}", a.at),
        }
        println!("  ‖T(λ) − λ‖∞ = {:.3e} (0 at a fixed point)", r.fixed_point_residual);
        println!("  λ_max(K) = {}, label-independent bound 2/λ_max(K) = {}", opt(r.lambda_max_k), opt(r.eta_bound));
        println!(
            "  free set |F| = {} (at 0: {}, at C: {}), min margin {:.3e}",
            r.free, r.at_lower, r.at_upper, r.min_margin
        );
        println!(
            "  μ_max(P Q̃_FF P) = {:.9e}, critical step 2/μ_max = {}, μ_min on range(P) = {}",
            r.mu_max,
            opt(r.critical_eta),
            opt(r.mu_min)
        );
        println!("  spectral radius of J = P(I − ηQ̃_FF)P on range(P) = {:.12}", r.spectral_radius);
        println!("  verdict: {}", r.verdict);
    }
    Ok(())
}
