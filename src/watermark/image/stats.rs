//! Binomial tail bounds for the presence test.

/// ln P(X >= m) for X ~ Binomial(n, 1/2), exact (log-sum-exp over the tail).
pub(super) fn ln_binom_tail_half(n: u32, m: u32) -> f64 {
    if m == 0 {
        return 0.0;
    }
    if m > n {
        return f64::NEG_INFINITY;
    }
    // ln C(n, k) computed incrementally.
    let mut ln_c = vec![0f64; n as usize + 1];
    for k in 1..=n as usize {
        ln_c[k] = ln_c[k - 1] + ((n as usize - k + 1) as f64).ln() - (k as f64).ln();
    }
    let terms: Vec<f64> = (m as usize..=n as usize).map(|k| ln_c[k]).collect();
    let mx = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let s: f64 = terms.iter().map(|t| (t - mx).exp()).sum();
    mx + s.ln() - n as f64 * std::f64::consts::LN_2
}

/// Smallest m with trials · P(Binomial(n, 1/2) >= m) <= target.
pub(super) fn threshold(n: u32, trials: f64, target: f64) -> u32 {
    let goal = (target / trials).ln();
    (0..=n)
        .find(|&m| ln_binom_tail_half(n, m) <= goal)
        .unwrap_or(n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_spec_table() {
        // /work/shared/spec/robustness.md table, FPR 1e-6 column, single trial.
        assert_eq!(threshold(64, 1.0, 1e-6), 51);
        assert_eq!(threshold(128, 1.0, 1e-6), 92);
        assert_eq!(threshold(256, 1.0, 1e-6), 167);
        assert_eq!(threshold(256, 1.0, 1e-3), 154);
    }
}
