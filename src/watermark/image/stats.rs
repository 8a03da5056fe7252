//! Tail bounds for the presence test.

/// ln P(X >= m) for X ~ Binomial(n, 1/2), exact (log-sum-exp over the tail). Used by the tests
/// to check the weighted bound against the exact sign test.
#[cfg(test)]
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
#[cfg(test)]
pub(super) fn threshold(n: u32, trials: f64, target: f64) -> u32 {
    let goal = (target / trials).ln();
    (0..=n)
        .find(|&m| ln_binom_tail_half(n, m) <= goal)
        .unwrap_or(n + 1)
}

/// Pinelis' constant: for a Rademacher sum S = Σ a_i ε_i with Σ a_i² = 1,
/// P(S ≥ x) ≤ (2e³/9) · P(Z ≥ x), Z standard normal (I. Pinelis, Ann. Statist. 22 (1994)
/// 357–368; Bentkus & Dzindzalieta, Bernoulli 21 (2015) 1231–1237 sharpen the constant to
/// ≈ 3.18, so this one is conservative).
const PINELIS_C: f64 = 2.0 * 20.085_536_923_187_668 / 9.0;

/// Upper tail of the standard normal, P(Z ≥ x), for x ≥ 3 (Laplace's continued fraction,
/// relative error < 1e-12 there). Returns 1 below 3 (only used as an upper bound).
fn normal_tail(x: f64) -> f64 {
    if x < 3.0 {
        return 1.0;
    }
    let mut f = x;
    for k in (1..=80).rev() {
        f = x + k as f64 / f;
    }
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt() / f
}

/// Bound on P(z ≥ t) for one trial of the weighted presence statistic z = Σ w·s / √(Σ w²)
/// (s = ±1 fair, independent signs; weights independent of the signs): the smaller of
/// Hoeffding's exp(−t²/2) and Pinelis' (2e³/9)·P(Z ≥ t).
pub(super) fn weighted_tail(t: f64) -> f64 {
    if t <= 0.0 {
        return 1.0;
    }
    (-0.5 * t * t)
        .exp()
        .min(PINELIS_C * normal_tail(t))
        .min(1.0)
}

/// Smallest z (to 1e-6) with trials · [`weighted_tail`](z) ≤ target.
pub(super) fn z_threshold(trials: f64, target: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 40.0f64);
    while hi - lo > 1e-7 {
        let mid = 0.5 * (lo + hi);
        if trials * weighted_tail(mid) <= target {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// Union bound for a weighted score `z` over `trials` trials.
pub(super) fn weighted_fpp(z: f64, trials: f64) -> f64 {
    (trials * weighted_tail(z)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_spec_table() {
        // Smallest k with P(Bin(n, 1/2) >= k) <= FPR, one trial (the usual presence-test table).
        assert_eq!(threshold(64, 1.0, 1e-6), 51);
        assert_eq!(threshold(128, 1.0, 1e-6), 92);
        assert_eq!(threshold(256, 1.0, 1e-6), 167);
        assert_eq!(threshold(256, 1.0, 1e-3), 154);
    }

    #[test]
    fn weighted_threshold() {
        // Normal tail against reference values.
        for (x, q) in [
            (3.0, 1.349_898_031_630_094_6e-3),
            (5.0, 2.866_515_718_791_939e-7),
            (7.5, 3.190_891_672_910_919e-14),
        ] {
            assert!((normal_tail(x) / q - 1.0).abs() < 1e-9, "Q({x})");
        }
        // The bound is never below the exact binomial tail for equal weights.
        for m in 129..=256u32 {
            let zm = (2.0 * m as f64 - 256.0) / 16.0;
            assert!(weighted_tail(zm) >= ln_binom_tail_half(256, m).exp());
        }
        let z = z_threshold(7_864_320.0, 1e-6);
        assert!(7_864_320.0 * weighted_tail(z) <= 1e-6);
        assert!(7_864_320.0 * weighted_tail(z - 1e-4) > 1e-6);
    }
}
