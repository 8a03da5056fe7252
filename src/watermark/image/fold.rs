//! Folding: every working pixel is mapped into tile coordinates under a geometry hypothesis and
//! accumulated (bilinear splat) into one FOLD×FOLD sum at half-cell resolution (FOLD = 2·TILE,
//! so the splat hardly blurs and half-cell phases can be recovered exactly later). This adds up all copies of the tile the
//! image (or crop) holds, so the correlation afterwards costs the same for any image size.

use super::params::TILE;

pub(super) const FOLD: usize = 2 * TILE;

/// Fold at half-cell resolution into `out` (FOLD×FOLD).
pub(super) fn fold(
    n: &[f32],
    w: usize,
    h: usize,
    cell: f64,
    theta: f64,
    flip: bool,
    out: &mut [f32],
) {
    fold_grid(n, w, h, cell, theta, flip, out, FOLD);
}

/// Fold into a `grid`×`grid` sum covering one tile (grid = TILE or FOLD, a power of two).
#[allow(clippy::too_many_arguments)]
pub(super) fn fold_grid(
    n: &[f32],
    w: usize,
    h: usize,
    cell: f64,
    theta: f64,
    flip: bool,
    out: &mut [f32],
    grid: usize,
) {
    out.iter_mut().for_each(|v| *v = 0.0);
    let cell = cell * TILE as f64 / grid as f64; // pixels per bin
    let (c, s) = (theta.cos() / cell, theta.sin() / cell);
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    let fx = if flip { -1.0 } else { 1.0 };
    let t = grid as f64;
    let mask = grid - 1;
    // Tile coordinates are kept positive (offset by 4 tiles) so truncation is floor, and
    // re-anchored in f64 every 64 pixels so f32 increments never drift.
    let anchor = |x: usize, py: f64| -> (f32, f32) {
        let px = fx * (x as f64 + 0.5 - cx);
        (
            ((px * c + py * s).rem_euclid(t) + 4.0 * t) as f32,
            ((-px * s + py * c).rem_euclid(t) + 4.0 * t) as f32,
        )
    };
    let (du, dv) = ((fx * c) as f32, (-fx * s) as f32);
    for y in 0..h {
        let py = y as f64 + 0.5 - cy;
        let row = &n[y * w..(y + 1) * w];
        for (x0, chunk) in row.chunks(64).enumerate() {
            let (mut uf, mut vf) = anchor(x0 * 64, py);
            for &val in chunk {
                let iu = uf as u32 as usize; // uf > 0: truncation == floor
                let iv = vf as u32 as usize;
                let au = uf - iu as f32;
                let av = vf - iv as f32;
                let (u0, v0) = (iu & mask, iv & mask);
                let (u1, v1) = ((u0 + 1) & mask, (v0 + 1) & mask);
                let a1 = val * au;
                let a0 = val - a1;
                out[v0 * grid + u0] += a0 * (1.0 - av);
                out[v0 * grid + u1] += a1 * (1.0 - av);
                out[v1 * grid + u0] += a0 * av;
                out[v1 * grid + u1] += a1 * av;
                uf += du;
                vf += dv;
            }
        }
    }
}
