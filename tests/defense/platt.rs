//! Platt scaling against scikit-learn's sigmoid calibration on the same decision values
//! (reference numbers in `fixtures/platt_sklearn.txt`, produced once by
//! `fixtures/platt_sklearn.py`; the tests do not run Python).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use floral_defense::Platt;

struct Case {
    name: String,
    a: f64,
    b: f64,
    f: Vec<f64>,
    y: Vec<f64>,
    p: Vec<f64>,
}

fn cases() -> Vec<Case> {
    let mut out: Vec<Case> = Vec::new();
    for line in include_str!("fixtures/platt_sklearn.txt").lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let w: Vec<&str> = line.split_whitespace().collect();
        if w[0] == "case" {
            out.push(Case {
                name: w[1].into(),
                a: w[2].parse().unwrap(),
                b: w[3].parse().unwrap(),
                f: vec![],
                y: vec![],
                p: vec![],
            });
        } else {
            let c = out.last_mut().unwrap();
            c.f.push(w[0].parse().unwrap());
            c.y.push(w[1].parse().unwrap());
            c.p.push(w[2].parse().unwrap());
        }
    }
    out
}

#[test]
fn platt_fit_matches_scikit_learn_sigmoid_calibration() {
    let cases = cases();
    assert_eq!(
        cases.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["noisy", "large", "separable", "imbalanced"]
    );
    for c in &cases {
        assert!(c.f.len() >= 12 && c.f.len() == c.y.len() && c.f.len() == c.p.len());
        let fit = Platt::fit(&c.f, &c.y).unwrap();
        let dp = c.f.iter().zip(&c.p).map(|(&f, &p)| (fit.probability(f) - p).abs()).fold(0.0, f64::max);
        let (da, db) = ((fit.a - c.a).abs(), (fit.b - c.b).abs());
        eprintln!(
            "{}: A {} (sklearn {}), B {} (sklearn {}); |ΔA| {da:.2e}, |ΔB| {db:.2e}, max |Δp| {dp:.2e}",
            c.name, fit.a, c.a, fit.b, c.b
        );
        // scikit-learn stops L-BFGS-B at a projected gradient of 1e-6; ours goes to 1e-10·n.
        assert!(da <= 1e-6 * c.a.abs().max(1.0), "{}: A {} vs {}", c.name, fit.a, c.a);
        assert!(db <= 1e-6 * c.b.abs().max(1.0), "{}: B {} vs {}", c.name, fit.b, c.b);
        assert!(dp <= 1e-7, "{}: max |Δp| {dp}", c.name);
    }
}
