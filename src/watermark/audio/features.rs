//! The detector's per-cell feature.
//!
//! Feature of cell c in frame f: sum over its 3 bins (25 Hz each) of
//! `d(k) - mean(d(k-9..k+9) without k)`, where
//! `d(k) = L_f(k) - 0.35 (L_{f-1}(k) + L_{f+1}(k)) - 0.15 (L_{f-2}(k) + L_{f+2}(k))` and
//! `L` is log power. Time differencing removes steady tones, frequency differencing removes the
//! spectral envelope; what is left is the fine structure that the mark modulates.

use super::layout::CELLS;

/// First analysed bin (25 Hz bins): 450 Hz.
pub(super) const FIRST_BIN: usize = 18;
pub(super) const NBINS: usize = CELLS * 3;
/// Frequency-whitening half width (bins) = margin computed around the band.
pub(super) const FW: usize = 9;
/// Width of a log-power row (band plus margins).
pub(super) const W: usize = NBINS + 2 * FW;
/// Time-whitening reach in frames: the reference is a weighted mean of frames f-2..f+2.
pub(super) const TM: usize = 2;
/// Weight of each of the two nearest frames (f-1, f+1) in the time reference; frames f-2 and f+2
/// get `0.5 - NEAR_W` each. The nearest frames overlap the centre one by half (their host fine
/// structure is closest) but carry independent mark signs.
const NEAR_W: f32 = 0.35;
/// Per-cell clip (in units of the frame's feature rms).
pub(super) const CLIP: f32 = 3.5;

/// Power -> log power with a floor relative to the row mean (so codec-zeroed bins stay bounded).
pub(super) fn log_row(row: &mut [f32]) {
    let mean = row.iter().sum::<f32>() / row.len().max(1) as f32;
    let floor = mean * 1e-3 + 1e-14;
    for r in row.iter_mut() {
        *r = ln_pos(*r + floor);
    }
}

/// Natural log of a positive, normal, finite `x` (the floor above keeps every input so),
/// branch-free so a row vectorises (libm's `logf` is a call per bin): `x = 2^e m` with
/// `m` in [0.707, 1.414), `ln m = 2 atanh(t)`, `t = (m - 1) / (m + 1)`, `|t| <= 0.172`, by its
/// series to `t^9` (truncation below 4e-9; about 2 ulp against `f32::ln`).
#[inline]
pub(super) fn ln_pos(x: f32) -> f32 {
    let bits = x.to_bits();
    // mantissa scaled into [1, 2), then halved when above sqrt(2) with the exponent raised
    let m1 = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let big = m1 > std::f32::consts::SQRT_2;
    let m = if big { 0.5 * m1 } else { m1 };
    let e = ((bits >> 23) & 0xff) as i32 - 127 + i32::from(big);
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let p = 1.0 + t2 * (1.0 / 3.0 + t2 * (1.0 / 5.0 + t2 * (1.0 / 7.0 + t2 * (1.0 / 9.0))));
    e as f32 * std::f32::consts::LN_2 + 2.0 * t * p
}

#[cfg(test)]
#[test]
fn ln_pos_matches_ln() {
    let mut x = 1e-14f32;
    while x < 1e12 {
        let (a, b) = (ln_pos(x), x.ln());
        assert!((a - b).abs() <= 4e-6 * b.abs().max(1.0), "{x}: {a} vs {b}");
        x *= 1.0137;
    }
}

/// Time reference of frame `f` in `logp` (rows of width `W`; needs `TM <= f < frames - TM`).
pub(super) fn time_reference(logp: &[f32], f: usize, out: &mut [f32; W]) {
    let row = |g: usize| &logp[g * W..(g + 1) * W];
    let (a1, b1, a2, b2) = (row(f - 1), row(f + 1), row(f - 2), row(f + 2));
    let far_w = 0.5 - NEAR_W;
    for (k, o) in out.iter_mut().enumerate() {
        *o = NEAR_W * (a1[k] + b1[k]) + far_w * (a2[k] + b2[k]);
    }
}

/// Cell features of the centre row `c0` given its time reference `r`. Writes `u` and returns the
/// rms of `u` (0 if the frame carries nothing).
pub(super) fn cell_values(c0: &[f32], r: &[f32; W], u: &mut [f32; CELLS]) -> f32 {
    let mut d = [0f32; W];
    for k in 0..W {
        d[k] = c0[k] - r[k];
    }
    let mut win: f32 = d[..2 * FW + 1].iter().sum();
    let mut ss = 0f32;
    for (c, uc) in u.iter_mut().enumerate() {
        let mut s = 0f32;
        for j in 0..3 {
            let k = FW + c * 3 + j;
            if k > FW {
                win += d[k + FW] - d[k - FW - 1];
            }
            s += d[k] - (win - d[k]) / (2 * FW) as f32;
        }
        *uc = s;
        ss += s * s;
    }
    (ss / CELLS as f32).sqrt()
}
