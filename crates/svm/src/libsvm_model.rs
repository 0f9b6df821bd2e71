//! LIBSVM's model file format for binary C-SVC models: [`SvmModel::to_libsvm_model`] and
//! [`SvmModel::from_libsvm_model`].
//!
//! A model file is a header (`svm_type c_svc`, `kernel_type`, kernel parameters, `nr_class 2`,
//! `total_sv`, `rho`, `label`, `nr_sv`) followed by `SV` and one line per support vector:
//! its coefficient α_j = λ_j y_j, then `index:value` pairs of its non-zero features (1-based).
//! LIBSVM's decision value is dec(x) = Σ_j α_j k(x_j, x) − rho and it predicts `label[0]` when
//! dec(x) > 0, `label[1]` otherwise. floral's f(x) = Σ_j α_j k(x_j, x) + b predicts +1 when
//! f(x) ≥ 0; we write `label 1 -1` and rho = −b, so the two agree except where dec(x) is exactly 0.
//! Numbers are written in Rust's shortest round-trip form, so reading a written model gives
//! back the same bits.

use std::path::Path;
use std::sync::Arc;

use faer::{Col, Mat};

use crate::{Kernel, LibsvmKernel, Linear, LinearParams, Poly, PolyParams, Rbf, RbfParams, SvmError, SvmModel};

fn bad(path: &Path, line: usize, what: impl Into<String>) -> SvmError {
    SvmError::ModelFile { path: path.to_path_buf(), line, message: what.into() }
}

impl SvmModel {
    /// The model in LIBSVM's model file format (see the module docs). Support vectors of class
    /// +1 come first, as LIBSVM orders them.
    ///
    /// # Errors
    /// [`SvmError::InvalidParam`] when the kernel has no LIBSVM name.
    pub fn to_libsvm_model(&self) -> Result<String, SvmError> {
        let kernel = self.kernel().libsvm().ok_or_else(|| SvmError::InvalidParam {
            field: "kernel",
            expected: "a LIBSVM kernel (linear, rbf, polynomial)",
            got: self.kernel().name().to_string(),
        })?;
        let coef = self.coefficients();
        let sv = self.support_vectors();
        let pos: Vec<usize> = (0..coef.nrows()).filter(|&r| coef[r] > 0.0).collect();
        let neg: Vec<usize> = (0..coef.nrows()).filter(|&r| coef[r] <= 0.0).collect();
        let mut out = String::from("svm_type c_svc\n");
        match kernel {
            LibsvmKernel::Linear => out.push_str("kernel_type linear\n"),
            LibsvmKernel::Rbf { gamma } => out.push_str(&format!("kernel_type rbf\ngamma {gamma:?}\n")),
            LibsvmKernel::Poly { degree, gamma, coef0 } => {
                out.push_str(&format!("kernel_type polynomial\ndegree {degree}\ngamma {gamma:?}\ncoef0 {coef0:?}\n"))
            }
        }
        let rho = -self.bias();
        let rho = if rho == 0.0 { 0.0 } else { rho };
        out.push_str(&format!(
            "nr_class 2\ntotal_sv {}\nrho {rho:?}\nlabel 1 -1\nnr_sv {} {}\nSV\n",
            coef.nrows(),
            pos.len(),
            neg.len()
        ));
        for r in pos.into_iter().chain(neg) {
            out.push_str(&format!("{:?}", coef[r]));
            for k in 0..sv.ncols() {
                let v = sv[(r, k)];
                if v != 0.0 {
                    out.push_str(&format!(" {}:{v:?}", k + 1));
                }
            }
            out.push_str(" \n");
        }
        Ok(out)
    }

    /// Read a binary C-SVC model in LIBSVM's format (`path` names it in errors). Features beyond
    /// the largest index of any support vector are zero; `dim` (at least that index) sets the
    /// feature count the model expects.
    ///
    /// # Errors
    /// [`SvmError::ModelFile`] naming the file, the line and what was expected: an `svm_type`
    /// other than `c_svc`, a class count other than 2, labels other than {+1, −1}, an unknown
    /// kernel, a malformed number or `index:value` pair, or counts that do not add up.
    pub fn from_libsvm_model(text: &str, path: &Path, dim: usize) -> Result<SvmModel, SvmError> {
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
        let (mut kernel_type, mut gamma, mut degree, mut coef0) = (None, None, 3u32, 0.0f64);
        let (mut total, mut rho, mut labels) = (None, None, None);
        let num = |line: usize, key: &str, v: &str| -> Result<f64, SvmError> {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| bad(path, line, format!("`{key}` expects a finite number, got `{v}`")))
        };
        let mut last_line = 0;
        loop {
            let Some((line, l)) = lines.next() else {
                return Err(bad(path, last_line, "the header ends without an `SV` line"));
            };
            last_line = line;
            if l.is_empty() {
                continue;
            }
            if l == "SV" {
                break;
            }
            let (key, rest) = l.split_once(' ').unwrap_or((l, ""));
            let rest = rest.trim();
            match key {
                "svm_type" if rest != "c_svc" => {
                    return Err(bad(path, line, format!("svm_type c_svc (binary classification), got `{rest}`")));
                }
                "svm_type" => {}
                "kernel_type" => kernel_type = Some((line, rest.to_string())),
                "gamma" => gamma = Some(num(line, key, rest)?),
                "coef0" => coef0 = num(line, key, rest)?,
                "degree" => {
                    degree = rest
                        .parse()
                        .map_err(|_| bad(path, line, format!("`degree` expects a positive integer, got `{rest}`")))?
                }
                "nr_class" if rest != "2" => {
                    return Err(bad(path, line, format!("nr_class 2 (a binary model), got `{rest}`")));
                }
                "nr_class" => {}
                "total_sv" => {
                    total = Some(
                        rest.parse::<usize>()
                            .map_err(|_| bad(path, line, format!("`total_sv` expects a count, got `{rest}`")))?,
                    )
                }
                "rho" => rho = Some(num(line, key, rest)?),
                "label" => {
                    let l: Vec<&str> = rest.split_whitespace().collect();
                    labels = Some(match l.as_slice() {
                        ["1", "-1"] | ["+1", "-1"] => 1.0,
                        ["-1", "1"] | ["-1", "+1"] => -1.0,
                        _ => return Err(bad(path, line, format!("`label 1 -1` or `label -1 1`, got `{rest}`"))),
                    });
                }
                // Counts per class, probability outputs: not needed for prediction.
                "nr_sv" | "probA" | "probB" => {}
                _ => return Err(bad(path, line, format!("a LIBSVM model header key, got `{key}`"))),
            }
        }
        let (kline, kname) = kernel_type.ok_or_else(|| bad(path, last_line, "a `kernel_type` line"))?;
        let need_gamma = || gamma.ok_or_else(|| bad(path, kline, "a `gamma` line for this kernel"));
        let kernel: Arc<dyn Kernel> = match kname.as_str() {
            "linear" => Arc::new(Linear::new(LinearParams::default())?),
            "rbf" => Arc::new(Rbf::new(RbfParams { gamma: need_gamma()? })?),
            "polynomial" => Arc::new(Poly::new(PolyParams { degree, gamma: need_gamma()?, coef0 })?),
            other => return Err(bad(path, kline, format!("kernel_type linear, rbf or polynomial, got `{other}`"))),
        };
        let rho = rho.ok_or_else(|| bad(path, last_line, "a `rho` line"))?;
        let sign = labels.ok_or_else(|| bad(path, last_line, "a `label` line"))?;
        let mut coef = Vec::new();
        let mut rows: Vec<Vec<(usize, f64)>> = Vec::new();
        let mut width = dim;
        for (line, l) in lines {
            if l.is_empty() {
                continue;
            }
            let mut it = l.split_whitespace();
            let c = it.next().unwrap_or("");
            coef.push(num(line, "coefficient", c)?);
            let mut row = Vec::new();
            for tok in it {
                let (i, v) =
                    tok.split_once(':').ok_or_else(|| bad(path, line, format!("`index:value`, got `{tok}`")))?;
                let i: usize = i
                    .parse()
                    .ok()
                    .filter(|&i| i >= 1)
                    .ok_or_else(|| bad(path, line, format!("a feature index ≥ 1, got `{i}`")))?;
                row.push((i - 1, num(line, "feature value", v)?));
                width = width.max(i);
            }
            rows.push(row);
        }
        if let Some(t) = total {
            if t != coef.len() {
                return Err(bad(path, last_line, format!("total_sv {t} support vectors, found {}", coef.len())));
            }
        }
        let mut sv = Mat::zeros(coef.len(), width);
        for (r, row) in rows.iter().enumerate() {
            for &(k, v) in row {
                sv[(r, k)] = v;
            }
        }
        // label order (−1, +1) means dec > 0 predicts −1: f = −dec.
        let coef = Col::from_fn(coef.len(), |r| sign * coef[r]);
        let bias = -sign * rho;
        Ok(SvmModel::from_parts(kernel, sv, coef, if bias == 0.0 { 0.0 } else { bias }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use floral_data::{Dataset, Labels};

    fn model() -> SvmModel {
        let x = Mat::from_fn(8, 3, |i, j| if j == 2 { 0.0 } else { ((i * 5 + j * 3) % 7) as f64 / 3.0 - 1.0 });
        let y = Labels::from_signs((0..8).map(|i| (i * 5) % 7 > 3));
        let train = Dataset::new(x, y).unwrap();
        crate::Smo::new(crate::SmoParams::default())
            .unwrap()
            .fit(&Rbf::new(RbfParams { gamma: 0.7 }).unwrap(), &train, 2.0)
            .unwrap()
    }

    #[test]
    fn a_written_model_reads_back_with_the_same_decision_values() {
        let m = model();
        let text = m.to_libsvm_model().unwrap();
        assert!(text.starts_with("svm_type c_svc\nkernel_type rbf\ngamma 0.7\n"), "{text}");
        let back = SvmModel::from_libsvm_model(&text, Path::new("m"), 3).unwrap();
        let x = Mat::from_fn(5, 3, |i, j| (i as f64 - 2.0) / 2.0 + j as f64 * 0.1);
        let (a, b) = (m.decision_function(x.as_ref()), back.decision_function(x.as_ref()));
        for (u, v) in a.iter().zip(&b) {
            assert!((u - v).abs() <= 1e-12 * (1.0 + u.abs()), "{u} vs {v}");
        }
        assert_eq!(back.to_libsvm_model().unwrap().lines().count(), text.lines().count());
    }

    #[test]
    fn bad_files_name_the_line_and_what_was_expected() {
        let text = model().to_libsvm_model().unwrap();
        let e = SvmModel::from_libsvm_model(&text.replace("c_svc", "nu_svc"), Path::new("m.model"), 3)
            .unwrap_err()
            .to_string();
        assert!(e.contains("m.model:1") && e.contains("c_svc"), "{e}");
        let e = SvmModel::from_libsvm_model(&text.replace("label 1 -1", "label 3 7"), Path::new("m"), 3)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`label 1 -1`"), "{e}");
        let e = SvmModel::from_libsvm_model(&text.replace("SV\n", ""), Path::new("m"), 3).unwrap_err().to_string();
        assert!(e.contains("header key") || e.contains("SV"), "{e}");
        let broken = format!("{text}0.5 1:x\n");
        let e = SvmModel::from_libsvm_model(&broken, Path::new("m"), 3).unwrap_err().to_string();
        assert!(e.contains("feature value") || e.contains("total_sv"), "{e}");
    }
}
