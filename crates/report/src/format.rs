//! The single float formatter used by every number that reaches a report.

/// Number of significant digits printed by [`fmt_num`].
pub const SIGNIFICANT_DIGITS: usize = 4;

/// Formats a float with [`SIGNIFICANT_DIGITS`] (4) significant digits, like C's `%.4g`.
///
/// Rules, in order:
/// - `NaN` → `"NaN"`, `+∞` → `"inf"`, `−∞` → `"-inf"`;
/// - `0.0` and `−0.0` → `"0"` (a negative zero never prints its sign);
/// - otherwise the value is rounded (round-half-even on the exact binary value, as Rust's
///   formatter does) to 4 significant digits, giving `m × 10^e` with `1 ≤ |m| < 10`;
///   if `e < −4` or `e ≥ 4` it prints in scientific notation `"{m}e{e}"` (`1.235e5`, `1e-9`),
///   otherwise in positional notation (`0.9667`, `12.5`, `0.0001235`);
/// - trailing zeros after the decimal point, and a trailing point, are removed
///   (`0.5`, `1`, `2.5e-7`), so `0.0051` stays `0.0051`.
///
/// The output depends only on the bits of `v`: Rust's float formatting is exact and does not
/// depend on the platform or locale.
///
/// ```
/// use floral_report::fmt_num;
/// assert_eq!(fmt_num(0.96666), "0.9667");
/// assert_eq!(fmt_num(123456.7), "1.235e5");
/// assert_eq!(fmt_num(-0.0), "0");
/// ```
pub fn fmt_num(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    // `{:.3e}` rounds correctly to 4 significant digits and reports the exponent *after*
    // rounding (9.9996 → "1.000e1"), which is what decides the notation.
    let sci = format!("{:.*e}", SIGNIFICANT_DIGITS - 1, v);
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    let sig = SIGNIFICANT_DIGITS as i32;
    if exp < -4 || exp >= sig {
        format!("{}e{}", trim_fraction_zeros(mantissa), exp)
    } else {
        // Positional with `sig - 1 - exp` decimals rounds at the same digit as above.
        let decimals = usize::try_from(sig - 1 - exp).unwrap_or(0);
        trim_fraction_zeros(&format!("{v:.decimals$}")).to_string()
    }
}

/// Formats a float with exactly `decimals` digits after the point (`fmt_fixed(0.96666, 3)` =
/// `"0.967"`, rounding half to even on the exact binary value), for table columns that must line
/// up. NaN and infinities print as in [`fmt_num`]; a value that rounds to zero prints without a
/// sign (`-0.0001` with 3 decimals → `"0.000"`).
///
/// ```
/// use floral_report::fmt_fixed;
/// assert_eq!(fmt_fixed(0.96666, 3), "0.967");
/// assert_eq!(fmt_fixed(0.0, 3), "0.000");
/// assert_eq!(fmt_fixed(-0.0001, 3), "0.000");
/// assert_eq!(fmt_fixed(12.0, 1), "12.0");
/// ```
pub fn fmt_fixed(v: f64, decimals: u8) -> String {
    if !v.is_finite() {
        return fmt_num(v);
    }
    let d = usize::from(decimals);
    let s = format!("{v:.d$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') { s[1..].to_string() } else { s }
}

/// Removes trailing zeros after a decimal point, then a trailing point: "1.2300" → "1.23",
/// "2.000" → "2", "100" → "100" (no point: unchanged).
fn trim_fraction_zeros(s: &str) -> &str {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { s }
}

#[cfg(test)]
mod tests {
    use super::trim_fraction_zeros;

    #[test]
    fn trim_keeps_integer_zeros() {
        assert_eq!(trim_fraction_zeros("100"), "100");
        assert_eq!(trim_fraction_zeros("100.0"), "100");
        assert_eq!(trim_fraction_zeros("1.2300"), "1.23");
        assert_eq!(trim_fraction_zeros("-0.0500"), "-0.05");
        assert_eq!(trim_fraction_zeros("7"), "7");
    }
}
