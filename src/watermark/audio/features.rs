//! The detector's per-cell feature.
//!
//! Feature of cell c in frame f: sum over its 3 bins (25 Hz each) of
//! `d(k) - mean(d(k-4..k+4) without k)`, where `d(k) = L_f(k) - (L_{f-2}(k) + L_{f+2}(k)) / 2` and
//! `L` is log power. Time differencing removes steady tones, frequency differencing removes the
//! spectral envelope; what is left is the fine structure that the mark modulates.

use super::layout::CELLS;

/// First analysed bin (25 Hz bins): 450 Hz.
pub(super) const FIRST_BIN: usize = 18;
pub(super) const NBINS: usize = CELLS * 3;
/// Frequency-whitening half width (bins) = margin computed around the band.
pub(super) const FW: usize = 4;
/// Width of a log-power row (band plus margins).
pub(super) const W: usize = NBINS + 2 * FW;
/// Time-whitening distance in frames (no shared samples with the centre frame).
pub(super) const TM: usize = 2;
/// Per-cell clip (in units of the frame's feature rms).
pub(super) const CLIP: f32 = 2.5;

/// Power -> log power with a floor relative to the row mean (so codec-zeroed bins stay bounded).
pub(super) fn log_row(row: &mut [f32]) {
    let mean = row.iter().sum::<f32>() / row.len().max(1) as f32;
    let floor = mean * 1e-3 + 1e-14;
    for r in row.iter_mut() {
        *r = (*r + floor).ln();
    }
}

/// Cell features of the centre row `c0` given rows `a` (f-TM) and `b` (f+TM). Writes `u` and
/// returns the rms of `u` (0 if the frame carries nothing).
pub(super) fn cell_values(c0: &[f32], a: &[f32], b: &[f32], u: &mut [f32; CELLS]) -> f32 {
    let mut d = [0f32; W];
    for k in 0..W {
        d[k] = c0[k] - 0.5 * (a[k] + b[k]);
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
