//! Stratified train / validation / test splitting.

use rand::seq::SliceRandom;

use crate::{DataError, Dataset, FloralRng, Split};

/// Splits `data` class by class into train, validation and test.
///
/// For each class c (−1 first, then +1) with n_c points: its indices are shuffled with `rng`,
/// the first n_test,c = round(test_fraction · n_c) go to test, the next
/// n_val,c = round(validation_fraction · n_c) to validation and the rest to train (`round` is
/// half away from zero). Since both fractions sum to less than 1, n_test,c + n_val,c ≤ n_c.
/// Within each part the points keep their order in `data`. `validation` is `None` when
/// `validation_fraction` is 0, and `train_clean` is the training labels.
///
/// # Errors
/// [`DataError::InvalidParam`] when a fraction is negative or not finite, when
/// `test_fraction` is 0 (the test set is never empty), when the fractions sum to 1 or more, or
/// when with these sizes the train, test, or a requested validation part would get no point.
pub fn stratified_split(
    data: &Dataset,
    validation_fraction: f64,
    test_fraction: f64,
    rng: &mut FloralRng,
) -> Result<Split, DataError> {
    for (field, f) in [("validation_fraction", validation_fraction), ("test_fraction", test_fraction)] {
        if !(f.is_finite() && (0.0..1.0).contains(&f)) {
            return Err(DataError::InvalidParam { field, expected: "a fraction in [0, 1)", got: f.to_string() });
        }
    }
    if test_fraction == 0.0 {
        return Err(DataError::InvalidParam {
            field: "test_fraction",
            expected: "a fraction in (0, 1): the test set is never empty",
            got: test_fraction.to_string(),
        });
    }
    if validation_fraction + test_fraction >= 1.0 {
        return Err(DataError::InvalidParam {
            field: "validation_fraction + test_fraction",
            expected: "a sum below 1, leaving points to train on",
            got: (validation_fraction + test_fraction).to_string(),
        });
    }
    let y = data.y().as_slice();
    let (mut train, mut val, mut test) = (Vec::new(), Vec::new(), Vec::new());
    for class in [-1.0, 1.0] {
        let mut idx: Vec<usize> = (0..y.len()).filter(|&i| y[i] == class).collect();
        idx.shuffle(rng);
        let n_c = idx.len();
        let n_test = ((test_fraction * n_c as f64).round() as usize).min(n_c);
        let n_val = ((validation_fraction * n_c as f64).round() as usize).min(n_c - n_test);
        test.extend_from_slice(&idx[..n_test]);
        val.extend_from_slice(&idx[n_test..n_test + n_val]);
        train.extend_from_slice(&idx[n_test + n_val..]);
    }
    let n = data.n().to_string();
    for (part, field, wanted) in [
        (&train, "validation_fraction + test_fraction", true),
        (&test, "test_fraction", true),
        (&val, "validation_fraction", validation_fraction > 0.0),
    ] {
        if wanted && part.is_empty() {
            return Err(DataError::InvalidParam {
                field,
                expected: "fractions that leave at least one point in train, test and a requested validation set",
                got: format!("{field} gives an empty part for n = {n}"),
            });
        }
    }
    for part in [&mut train, &mut val, &mut test] {
        part.sort_unstable();
    }
    let train = data.select(&train);
    Ok(Split {
        train_clean: Some(train.y().clone()),
        validation: (validation_fraction > 0.0).then(|| data.select(&val)),
        test: data.select(&test),
        train,
    })
}
