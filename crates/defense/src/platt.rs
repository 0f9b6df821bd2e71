//! Platt scaling (Platt 1999, "Probabilistic outputs for support vector machines"; the
//! numerically stable form of Lin, Lin, Weng 2007): a sigmoid P(y = +1 | f) = 1/(1 + exp(A·f + B))
//! fitted to SVM decision values by L-BFGS (argmin).

use std::sync::atomic::{AtomicUsize, Ordering};

use argmin::core::{CostFunction, Error as ArgminError, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;

use crate::DefenseError;

/// A fitted Platt sigmoid P(y = +1 | f) = 1/(1 + exp(A·f + B)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Platt {
    /// Slope A (negative when larger decision values mean +1).
    pub a: f64,
    /// Offset B.
    pub b: f64,
}

/// Evaluations of the cost or gradient allowed in one fit. argmin runs each line search without
/// an iteration limit; once the iterates are so close to the optimum that cost decreases are
/// below rounding, a line search could go on for ever. Past this budget the cost returns an
/// error, which ends the line search and L-BFGS with its last accepted iterate.
const MAX_EVALS: usize = 5_000;

/// Platt's cost over decision values `f` (already divided by `scale`) and targets `t`.
struct PlattCost<'a> {
    f: &'a [f64],
    t: &'a [f64],
    evals: AtomicUsize,
}

impl PlattCost<'_> {
    /// F(A, B) = Σ_i t_i z_i + ln(1 + e^{−z_i}), z_i = A f_i + B (the cross-entropy of the
    /// targets t_i against p_i = 1/(1 + e^{z_i})), in the overflow-free form
    /// (t_i − 1) z_i + ln(1 + e^{z_i}) for z_i < 0.
    fn value(&self, a: f64, b: f64) -> f64 {
        self.f
            .iter()
            .zip(self.t)
            .map(|(&f, &t)| {
                let z = a * f + b;
                if z >= 0.0 { t * z + (-z).exp().ln_1p() } else { (t - 1.0) * z + z.exp().ln_1p() }
            })
            .sum()
    }

    /// ∇F = (Σ_i (t_i − p_i) f_i, Σ_i (t_i − p_i)) with p_i = 1/(1 + e^{z_i}).
    fn grad(&self, a: f64, b: f64) -> [f64; 2] {
        let mut g = [0.0; 2];
        for (&f, &t) in self.f.iter().zip(self.t) {
            let d = t - sigmoid_neg(a * f + b);
            g[0] += d * f;
            g[1] += d;
        }
        g
    }
}

/// 1/(1 + e^{z}) without overflow.
fn sigmoid_neg(z: f64) -> f64 {
    if z >= 0.0 {
        let e = (-z).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + z.exp())
    }
}

impl PlattCost<'_> {
    /// Count one evaluation; an error once [`MAX_EVALS`] are spent.
    fn spend(&self) -> Result<(), ArgminError> {
        if self.evals.fetch_add(1, Ordering::Relaxed) < MAX_EVALS {
            Ok(())
        } else {
            Err(ArgminError::msg("evaluation budget spent"))
        }
    }
}

impl CostFunction for PlattCost<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, p: &Self::Param) -> Result<f64, ArgminError> {
        self.spend()?;
        Ok(self.value(p[0], p[1]))
    }
}

impl Gradient for PlattCost<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, p: &Self::Param) -> Result<Vec<f64>, ArgminError> {
        self.spend()?;
        Ok(self.grad(p[0], p[1]).to_vec())
    }
}

/// Minimise Platt's cost from `start` by argmin's L-BFGS (memory 5, Moré–Thuente line search)
/// until the gradient norm is below `tol_grad`, a cost change below `tol_cost`, `max_iters`
/// iterations or the evaluation budget; returns the last accepted iterate.
fn minimise(
    cost: PlattCost<'_>,
    start: Vec<f64>,
    tol_grad: f64,
    tol_cost: f64,
    max_iters: u64,
) -> Result<[f64; 2], DefenseError> {
    let fail = |e: ArgminError| DefenseError::Input(format!("Platt fit: the optimiser failed: {e}"));
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 5)
        .with_tolerance_grad(tol_grad)
        .map_err(fail)?
        .with_tolerance_cost(tol_cost)
        .map_err(fail)?;
    let res = Executor::new(cost, solver).configure(|s| s.param(start).max_iters(max_iters)).run().map_err(fail)?;
    // The last iterate is the one the gradient test accepted (the best-cost record can lag it
    // by a rounding-level cost difference).
    let p = res.state().get_param().or(res.state().get_best_param()).cloned().unwrap_or_default();
    match p.as_slice() {
        [a, b] if a.is_finite() && b.is_finite() => Ok([*a, *b]),
        _ => Err(DefenseError::Input(format!("Platt fit: no finite optimum (got {p:?})"))),
    }
}

impl Platt {
    /// Fit A, B to decision values `f` and labels `y` (±1) by minimising Platt's regularised
    /// cross-entropy Σ_i t_i z_i + ln(1 + e^{−z_i}), z_i = A f_i + B, with Platt's targets
    /// t_i = (N₊ + 1)/(N₊ + 2) for y_i = +1 and t_i = 1/(N₋ + 2) for y_i = −1 (N₊, N₋ the class
    /// counts), from Platt's start A = 0, B = ln((N₋ + 1)/(N₊ + 1)). The problem is convex;
    /// argmin's L-BFGS (memory 5, Moré–Thuente line search) solves it on f/s with
    /// s = max_i |f_i| (A = A'/s: the optimum is unchanged, the conditioning better), to a
    /// gradient norm ≤ 1e-10·n, a cost change below f64::EPSILON, 1,000 iterations or 5,000
    /// evaluations (then the last accepted iterate: near the optimum the cost's rounding hides
    /// further decrease, and argmin's line search has no limit of its own).
    ///
    /// # Errors
    /// [`DefenseError::InvalidInput`] naming `values` when the lengths differ, a value is not
    /// finite or the set is empty; [`DefenseError::Input`] if the optimiser fails or returns a
    /// non-finite point.
    pub fn fit(f: &[f64], y: &[f64]) -> Result<Platt, DefenseError> {
        let bad = |got: String| DefenseError::InvalidInput {
            field: "values",
            expected: "as many finite decision values as labels, at least one",
            got,
        };
        if f.len() != y.len() || f.is_empty() {
            return Err(bad(format!("{} values and {} labels", f.len(), y.len())));
        }
        if let Some(i) = f.iter().position(|v| !v.is_finite()) {
            return Err(bad(format!("value {i} is {}", f[i])));
        }
        let n_pos = y.iter().filter(|&&v| v > 0.0).count() as f64;
        let n_neg = y.len() as f64 - n_pos;
        let (t_pos, t_neg) = ((n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0));
        let t: Vec<f64> = y.iter().map(|&v| if v > 0.0 { t_pos } else { t_neg }).collect();
        let scale = f.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let scale = if scale > 0.0 { scale } else { 1.0 };
        let fs: Vec<f64> = f.iter().map(|v| v / scale).collect();
        let cost = PlattCost { f: &fs, t: &t, evals: AtomicUsize::new(0) };
        let start = vec![0.0, ((n_neg + 1.0) / (n_pos + 1.0)).ln()];
        let [a, b] = minimise(cost, start, 1e-10 * f.len() as f64, f64::EPSILON, 1000)?;
        Ok(Platt { a: a / scale, b })
    }

    /// P(y = +1 | f) = 1/(1 + exp(A·f + B)).
    pub fn probability(&self, f: f64) -> f64 {
        sigmoid_neg(self.a * f + self.b)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_fit_is_a_stationary_point_of_platts_cost() {
        let f = [-2.0, -1.5, -0.3, 0.2, 0.4, 1.0, 1.7, -0.1, 0.8, 2.2];
        let y = [-1.0, -1.0, -1.0, -1.0, 1.0, 1.0, 1.0, 1.0, -1.0, 1.0];
        let p = Platt::fit(&f, &y).unwrap();
        assert!(p.a < 0.0);
        let t: Vec<f64> = y.iter().map(|&v| if v > 0.0 { 6.0 / 7.0 } else { 1.0 / 7.0 }).collect();
        let cost = PlattCost { f: &f, t: &t, evals: AtomicUsize::new(0) };
        let g = cost.grad(p.a, p.b);
        assert!(g[0].abs() < 1e-8 && g[1].abs() < 1e-8, "{g:?}");
        // Any step away raises the cost.
        let c0 = cost.value(p.a, p.b);
        for (da, db) in [(1e-3, 0.0), (-1e-3, 0.0), (0.0, 1e-3), (0.0, -1e-3)] {
            assert!(cost.value(p.a + da, p.b + db) > c0);
        }
        // Probabilities rise with f and stay in (0, 1) far out.
        assert!(p.probability(2.0) > p.probability(-2.0));
        assert!(p.probability(1e6) <= 1.0 && p.probability(-1e6) >= 0.0);
    }

    #[test]
    fn the_evaluation_budget_ends_a_run_whose_tolerances_cannot_be_met() {
        // Tolerances of 0 cannot be met in floating point: near the optimum the cost's
        // rounding hides every decrease and argmin's line search would search for ever. The
        // budget ends it at the last accepted iterate, a stationary point.
        let f: Vec<f64> =
            (0..400).map(|i| ((i * 37 % 101) as f64 / 50.0 - 1.0) + if i % 2 == 0 { 0.8 } else { -0.8 }).collect();
        let t: Vec<f64> = (0..400).map(|i| if i % 2 == 0 { 201.0 / 202.0 } else { 1.0 / 202.0 }).collect();
        let cost = PlattCost { f: &f, t: &t, evals: AtomicUsize::new(0) };
        let [a, b] = minimise(cost, vec![0.0, 0.0], 0.0, 0.0, u64::MAX).unwrap();
        let check = PlattCost { f: &f, t: &t, evals: AtomicUsize::new(0) };
        let g = check.grad(a, b);
        assert!(g[0].abs() < 1e-6 && g[1].abs() < 1e-6, "{g:?}");
    }

    #[test]
    fn bad_inputs_are_errors_naming_values() {
        let e = Platt::fit(&[1.0], &[1.0, -1.0]).unwrap_err().to_string();
        assert!(e.contains("`values`"), "{e}");
        let e = Platt::fit(&[f64::NAN, 1.0], &[1.0, -1.0]).unwrap_err().to_string();
        assert!(e.contains("`values`"), "{e}");
        assert!(Platt::fit(&[], &[]).is_err());
    }
}
