//! Synchronisation: the periodic tile makes the autocorrelation of the whitened image peak on a
//! lattice spanned by two orthogonal vectors of length = tile period. Their length gives the
//! scale, their angle the rotation. This uses the image only (never the key), so the candidate
//! list is fixed before any keyed comparison.

use rustfft::num_complex::Complex32;

use super::fft2::Fft2;
use super::params::TILE;

/// Autocorrelation window (center crop, at most WIN²); the fft_n is zero padded so that all
/// searched lags are free of circular aliasing.
const WIN: usize = 256;
/// Rotations searched, degrees either side of the axes.
const MAX_ROT_DEG: f64 = 12.0;

#[derive(Clone, Copy, Debug)]
pub(super) struct Geometry {
    /// Working-image pixels per tile cell.
    pub cell: f64,
    /// Rotation of the tile axes in the image, radians.
    pub theta: f64,
}

pub(super) fn candidates(n: &[f32], w: usize, h: usize, k: usize) -> Vec<Geometry> {
    // Large working images (crops of big photos: tile up to half the short side) are halved so
    // the window spans the whole short side and so at least two periods.
    if w.min(h) > 300 {
        let (half, hw, hh) = super::detect::half(n, w, h);
        let mut g = candidates_at(&half, hw, hh, k, 24.0);
        for c in g.iter_mut() {
            c.cell *= 2.0;
        }
        g
    } else {
        candidates_at(n, w, h, k, 48.0)
    }
}

fn candidates_at(n: &[f32], w: usize, h: usize, k: usize, l_lo: f64) -> Vec<Geometry> {
    let cw = w.min(WIN);
    let chh = h.min(WIN);
    let (x0, y0) = ((w - cw) / 2, (h - chh) / 2);
    // Longest period searched: a crop keeping 50 % of a side has a period of half its short
    // side (10 % margin).
    let l_hi = 0.55 * cw.min(chh) as f64;
    if l_hi <= l_lo {
        return Vec::new();
    }
    let need = cw.max(chh) + l_hi.ceil() as usize + 2;
    let fft_n = [64usize, 96, 128, 160, 192, 256, 320, 384, 400, 448, 512]
        .into_iter()
        .find(|&s| s >= need)
        .unwrap_or(512);
    let mut buf = vec![Complex32::new(0.0, 0.0); fft_n * fft_n];
    let mut mean = 0f64;
    for y in 0..chh {
        for x in 0..cw {
            mean += n[(y0 + y) * w + x0 + x] as f64;
        }
    }
    let mean = (mean / (cw * chh) as f64) as f32;
    for y in 0..chh {
        for x in 0..cw {
            buf[y * fft_n + x].re = n[(y0 + y) * w + x0 + x] - mean;
        }
    }
    let mut fft = Fft2::new(fft_n, fft_n);
    // Rows from chh on are zero padding: their row transforms are skipped.
    fft.forward_top_rows(&mut buf, chh);
    // Spectral whitening: divide the power spectrum by its radial mean (natural images are
    // roughly isotropic 1/f², the tile's lattice is a comb of spikes that stays), and keep only
    // the band the mark can occupy (cell ≥ 0.8 px, ≤ 0.35 cycles/cell; very low frequencies
    // carry image content only).
    let nb = fft_n / 2 + 1;
    let mut rsum = vec![0f64; nb];
    let mut rcnt = vec![0u32; nb];
    // Distance of a frequency index from 0 on the circle, per axis (precomputed once).
    let fold: Vec<f64> = (0..fft_n)
        .map(|k| {
            let k = k as f64;
            if k > fft_n as f64 / 2.0 {
                fft_n as f64 - k
            } else {
                k
            }
        })
        .collect();
    let radius = |i: usize| -> f64 {
        let (kx, ky) = (fold[i % fft_n], fold[i / fft_n]);
        (kx * kx + ky * ky).sqrt()
    };
    for (i, v) in buf.iter_mut().enumerate() {
        let p = v.norm_sqr();
        *v = Complex32::new(p, 0.0);
        let r = radius(i).round() as usize;
        if r < nb {
            rsum[r] += p as f64;
            rcnt[r] += 1;
        }
    }
    let f_lo = 0.012 * fft_n as f64;
    let f_hi = 0.45 * fft_n as f64;
    for (i, v) in buf.iter_mut().enumerate() {
        let rf = radius(i);
        let r = rf.round() as usize;
        v.re = if r < nb && rf >= f_lo && rf <= f_hi && rsum[r] > 0.0 {
            (v.re as f64 / (rsum[r] / rcnt[r] as f64)) as f32
        } else {
            0.0
        };
    }
    // The autocorrelation of a real window is even (a(−v) = a(v)): only lags with x ≥ 0 are
    // read (negative ones through the symmetry), so only those output columns are computed.
    let vx_hi = l_hi.ceil() as i64;
    fft.inverse_first_cols(&mut buf, vx_hi as usize + 3);
    let a = |vx: i64, vy: i64| -> f32 {
        let (vx, vy) = if vx < 0 { (-vx, -vy) } else { (vx, vy) };
        let ov = (cw as i64 - vx.abs()) * (chh as i64 - vy.abs());
        if ov <= 0 {
            return 0.0;
        }
        let ix = vx.rem_euclid(fft_n as i64) as usize;
        let iy = vy.rem_euclid(fft_n as i64) as usize;
        buf[iy * fft_n + ix].re / ov as f32
    };
    let tan = MAX_ROT_DEG.to_radians().tan();
    let score = |vx: i64, vy: i64| a(vx, vy) + a(-vy, vx);
    // Collect local maxima of the score in the search region.
    let mut peaks: Vec<(f32, i64, i64)> = Vec::new();
    for vx in (l_lo.floor() as i64)..=vx_hi {
        let vy_max = (vx as f64 * tan).ceil() as i64;
        for vy in -vy_max..=vy_max {
            let len = ((vx * vx + vy * vy) as f64).sqrt();
            if len < l_lo || len > l_hi {
                continue;
            }
            let s = score(vx, vy);
            let mut is_max = true;
            'nb: for dy in -1..=1 {
                for dx in -1..=1 {
                    if (dx, dy) != (0, 0) && score(vx + dx, vy + dy) > s {
                        is_max = false;
                        break 'nb;
                    }
                }
            }
            if is_max {
                peaks.push((s, vx, vy));
            }
        }
    }
    peaks.sort_by(|p, q| q.0.total_cmp(&p.0));
    let sub = |vx: i64, vy: i64| -> (f64, f64) {
        let c = a(vx, vy) as f64;
        let fit = |m: f64, p: f64| {
            let den = m - 2.0 * c + p;
            if den < 0.0 {
                (0.5 * (m - p) / den).clamp(-0.5, 0.5)
            } else {
                0.0
            }
        };
        (
            vx as f64 + fit(a(vx - 1, vy) as f64, a(vx + 1, vy) as f64),
            vy as f64 + fit(a(vx, vy - 1) as f64, a(vx, vy + 1) as f64),
        )
    };
    peaks
        .into_iter()
        .take(k)
        .map(|(_, vx, vy)| {
            let (ax, ay) = sub(vx, vy);
            let (bx, by) = sub(-vy, vx); // perpendicular peak; rotate back by -90°
            let (ux, uy) = ((ax + by) / 2.0, (ay - bx) / 2.0);
            let len = (ux * ux + uy * uy).sqrt();
            Geometry {
                cell: len / TILE as f64,
                theta: uy.atan2(ux),
            }
        })
        .collect()
}
