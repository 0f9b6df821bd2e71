//! `floral svm train --train FILE [--test FILE] --kernel rbf --gamma G --c C [--eps E] [--json]`:
//! train a kernel SVM with the exact SMO solver (floral-svm) and report LIBSVM's figures.
//!
//! FILE is a path (LIBSVM/svmlight, optionally gzip, or CSV with a `label` column) or a shipped
//! sheet `name:sheet`. The JSON object has `objective` (½λᵀQ̃λ − 1ᵀλ, LIBSVM's `obj`), `bias`,
//! `rho` (= −bias), `n_sv`, `n_bounded_sv`, `iterations`, `status`, `seconds` (training only),
//! `test_accuracy` (with `--test`), `n_train`, `dim`, and the settings used.

use std::path::Path;
use std::time::Instant;

use anyhow::anyhow;
use floral_data::{Dataset, RawData, align_dims_checked, shipped};
use floral_svm::{Kernel, Linear, LinearParams, Poly, PolyParams, Rbf, RbfParams, Smo, SmoParams, SvmError, SvmModel};

use crate::{CliError, SvmPredictArgs, SvmTrainArgs};

pub(crate) fn load(spec: &str, role: &str) -> Result<RawData, CliError> {
    shipped::resolve(spec).map_err(|e| CliError::Input(anyhow!("cannot read {role} data `{spec}`: {e}")))
}

pub(crate) fn binary(raw: RawData, spec: &str, role: &str) -> Result<Dataset, CliError> {
    raw.into_binary(Path::new(spec))
        .map_err(|e| CliError::Input(anyhow!("{role} data `{spec}` is not a binary data set: {e}")))
}

/// Invalid parameters are the user's flags (exit 1); anything else is numerical (exit 2).
pub(crate) fn svm_error(e: SvmError, context: &str) -> CliError {
    match e {
        SvmError::InvalidParam { .. } => CliError::Input(anyhow!("{context}: {e}")),
        other => CliError::Internal(anyhow!("{context}: {other}")),
    }
}

fn kernel(a: &SvmTrainArgs, gamma: f64) -> Result<Box<dyn Kernel>, CliError> {
    build_kernel(&a.kernel, gamma, a.degree, a.coef0)
}

/// The kernel named by `--kernel` with its parameters (errors name the flags).
pub(crate) fn build_kernel(name: &str, gamma: f64, degree: u32, coef0: f64) -> Result<Box<dyn Kernel>, CliError> {
    let k: Result<Box<dyn Kernel>, SvmError> = match name {
        "linear" => Linear::new(LinearParams {}).map(|k| Box::new(k) as Box<dyn Kernel>),
        "rbf" => Rbf::new(RbfParams { gamma }).map(|k| Box::new(k) as Box<dyn Kernel>),
        "poly" => Poly::new(PolyParams { degree, gamma, coef0 }).map(|k| Box::new(k) as Box<dyn Kernel>),
        other => {
            return Err(CliError::Input(anyhow!("unknown kernel `{other}`; expected one of linear, rbf, poly")));
        }
    };
    k.map_err(|e| svm_error(e, "--kernel / --gamma / --degree / --coef0"))
}

pub(crate) fn train(a: &SvmTrainArgs) -> Result<(), CliError> {
    let mut train_raw = load(&a.train, "training")?;
    let dim_train = train_raw.dim();
    let mut test_raw = match &a.test {
        Some(spec) => Some(load(spec, "test")?),
        None => None,
    };
    if let (Some(t), Some(spec)) = (test_raw.as_mut(), &a.test) {
        align_dims_checked(&mut train_raw, Path::new(&a.train), t, Path::new(spec), a.pad_features)
            .map_err(|e| CliError::Input(anyhow!("{e}")))?;
    }
    let train = binary(train_raw, &a.train, "training")?;
    let test = match (test_raw, &a.test) {
        (Some(raw), Some(spec)) => Some(binary(raw, spec, "test")?),
        _ => None,
    };
    // LIBSVM's default γ = 1/d, d the number of features of the training file.
    let gamma = match a.gamma {
        Some(g) => g,
        None if dim_train > 0 => 1.0 / dim_train as f64,
        None => {
            return Err(CliError::Input(anyhow!(
                "training data `{}` has no features, so the default γ = 1/d is undefined; pass --gamma",
                a.train
            )));
        }
    };
    let kernel = kernel(a, gamma)?;
    let mut smo = Smo::new(SmoParams {
        eps: a.eps,
        max_iter: a.max_iter,
        shrinking: !a.no_shrinking,
        cache_mb: a.cache_mb,
        dense_limit_mb: a.dense_limit_mb,
        dense_min_dim: a.dense_min_dim,
        ..SmoParams::default()
    })
    .map_err(|e| svm_error(e, "solver settings"))?;

    let start = Instant::now();
    let model =
        smo.fit(kernel.as_ref(), &train, a.c).map_err(|e| svm_error(e, &format!("training on `{}`", a.train)))?;
    let seconds = start.elapsed().as_secs_f64();

    let test_accuracy = test.as_ref().map(|t| model.accuracy(t));
    let train_accuracy = model.accuracy(&train);
    if let Some(out) = &a.model_out {
        let text = model.to_libsvm_model().map_err(|e| svm_error(e, "--model-out"))?;
        floral_experiment::report::write_text_atomic(out, &text)
            .map_err(|e| CliError::Input(anyhow!("--model-out: {e}")))?;
    }
    let objective = model.objective().unwrap_or(f64::NAN);
    let status = model.status().map_or("unknown", |s| s.as_str());
    let n_bounded = model.n_bounded_sv().unwrap_or(0);
    let iterations = model.iterations().unwrap_or(0);
    let storage = if smo.uses_dense_gram(train.n(), train.dim()) { "dense" } else { "rows" };
    let bias = model.bias();
    let rho = if bias == 0.0 { 0.0 } else { -bias };

    if a.json {
        let mut obj = serde_json::json!({
            "train": a.train,
            "kernel": kernel.name(),
            "gamma": gamma,
            "c": a.c,
            "eps": a.eps,
            "objective": objective,
            "bias": bias,
            "rho": rho,
            "n_sv": model.n_sv(),
            "n_bounded_sv": n_bounded,
            "iterations": iterations,
            "status": status,
            "seconds": seconds,
            "n_train": train.n(),
            "train_accuracy": train_accuracy,
            "dim": train.dim(),
            "gram": storage,
        });
        if let (Some(acc), Some(spec), Some(map)) = (test_accuracy, &a.test, obj.as_object_mut()) {
            map.insert("test".into(), serde_json::json!(spec));
            map.insert("test_accuracy".into(), serde_json::json!(acc));
            map.insert("n_test".into(), serde_json::json!(test.as_ref().map_or(0, Dataset::n)));
        }
        println!("{obj}");
    } else {
        println!(
            "trained {} SVM on `{}`: n = {}, d = {}, γ = {gamma}, C = {}",
            kernel.name(),
            a.train,
            train.n(),
            train.dim(),
            a.c
        );
        println!("  SMO {status} after {iterations} iterations in {seconds:.3} s ({storage} Gram)");
        println!("  obj = {objective:.6}, rho = {rho:.6}");
        println!("  nSV = {}, nBSV = {n_bounded}", model.n_sv());
        println!("  training accuracy: {:.4} %", 100.0 * train_accuracy);
        if let Some(out) = &a.model_out {
            println!("  model written to {} (LIBSVM format)", out.display());
        }
        if let (Some(acc), Some(spec)) = (test_accuracy, &a.test) {
            println!("  test accuracy on `{spec}`: {:.4} %", 100.0 * acc);
        }
    }
    Ok(())
}

pub(crate) fn predict(a: &SvmPredictArgs) -> Result<(), CliError> {
    let text =
        floral_data::read_text_file(&a.model).map_err(|e| CliError::Input(anyhow!("cannot read --model: {e}")))?;
    let mut raw = load(&a.test, "test")?;
    let model = SvmModel::from_libsvm_model(&text, &a.model, raw.dim()).map_err(|e| CliError::Input(anyhow!("{e}")))?;
    let width = model.support_vectors().ncols();
    if raw.dim() < width {
        // A LIBSVM file omits trailing zero features.
        floral_data::pad_features(&mut raw, width).map_err(|e| CliError::Input(anyhow!("{e}")))?;
    }
    let test = binary(raw, &a.test, "test")?;
    let pred = model.predict(test.x());
    let correct = pred.iter().zip(test.y().as_slice()).filter(|(p, y)| p == y).count();
    let accuracy = correct as f64 / test.n().max(1) as f64;
    if let Some(out) = &a.out {
        let mut s = String::with_capacity(3 * pred.len());
        for p in &pred {
            s.push_str(if *p > 0.0 { "1\n" } else { "-1\n" });
        }
        floral_experiment::report::write_text_atomic(out, &s).map_err(|e| CliError::Input(anyhow!("--out: {e}")))?;
    }
    if a.json {
        println!(
            "{}",
            serde_json::json!({ "model": a.model, "test": a.test, "n_test": test.n(), "accuracy": accuracy, "n_sv": model.n_sv() })
        );
    } else {
        println!("Accuracy = {:.4} % ({correct}/{}) on `{}`", 100.0 * accuracy, test.n(), a.test);
    }
    Ok(())
}
