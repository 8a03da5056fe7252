//! Folding: every working pixel is mapped into tile coordinates under a geometry hypothesis and
//! accumulated (bilinear splat) into one FOLD×FOLD sum at half-cell resolution (FOLD = 2·TILE,
//! so the splat hardly blurs and half-cell phases can be recovered exactly later). This adds up all copies of the tile the
//! image (or crop) holds, so the correlation afterwards costs the same for any image size.

use super::params::TILE;
use super::sync::Geometry;

pub(super) const FOLD: usize = 2 * TILE;

/// Buffers of the separable fold, kept from one fold to the next (a detection folds about a
/// hundred times).
#[derive(Default)]
pub(super) struct FoldScratch {
    acc: Vec<f32>,
    acc_t: Vec<f32>,
    out_t: Vec<f32>,
}

/// Fold at half-cell resolution into `out` (FOLD×FOLD).
pub(super) fn fold(
    n: &[f32],
    w: usize,
    h: usize,
    geo: &Geometry,
    flip: bool,
    out: &mut [f32],
    scratch: &mut FoldScratch,
) {
    debug_assert_eq!(out.len(), FOLD * FOLD);
    fold_grid(n, w, h, geo, flip, out, scratch);
}

/// Fold into a `grid`×`grid` sum covering one tile (`out` holds grid² bins, grid = TILE or FOLD,
/// a power of two).
/// Axis-aligned hypotheses (the size prior, its mirror, the scale scan, non-uniform resizes:
/// most trials, and all of them on most unmarked images) take the separable path [`fold_axes`].
pub(super) fn fold_grid(
    n: &[f32],
    w: usize,
    h: usize,
    geo: &Geometry,
    flip: bool,
    out: &mut [f32],
    scratch: &mut FoldScratch,
) {
    let grid = out.len().isqrt();
    debug_assert_eq!(grid * grid, out.len());
    let per_bin = TILE as f64 / grid as f64;
    if geo.axis_aligned() {
        let cx = geo.cell * per_bin;
        fold_axes(n, w, h, (cx, cx * geo.aspect), flip, out, scratch);
    } else {
        out.iter_mut().for_each(|v| *v = 0.0);
        fold_general(n, w, h, geo, flip, out, grid);
    }
}

/// The general (rotated, sheared) fold: four scattered adds per pixel. `out` must be zeroed.
fn fold_general(
    n: &[f32],
    w: usize,
    h: usize,
    geo: &Geometry,
    flip: bool,
    out: &mut [f32],
    grid: usize,
) {
    // The grid is a compile-time constant inside, so the masked bin indices need no bounds
    // checks (four per pixel in the detector's hottest loop).
    match grid {
        TILE => fold_general_g::<TILE>(n, w, h, geo, flip, out),
        FOLD => fold_general_g::<FOLD>(n, w, h, geo, flip, out),
        _ => unreachable!("fold grids are TILE or FOLD"),
    }
}

fn fold_general_g<const G: usize>(
    n: &[f32],
    w: usize,
    h: usize,
    geo: &Geometry,
    flip: bool,
    out: &mut [f32],
) {
    let grid = G;
    let out: &mut [[f32; G]; G] = out
        .as_chunks_mut::<G>()
        .0
        .try_into()
        .expect("out holds grid × grid bins");
    // Image → bin coordinates.
    let bins = grid as f64 / TILE as f64;
    let m = geo.inverse().map(|r| r.map(|v| v * bins));
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    let fx = if flip { -1.0 } else { 1.0 };
    let t = grid as f64;
    let mask = grid - 1;
    // Tile coordinates are kept positive (offset by 4 tiles) so truncation is floor, and
    // re-anchored in f64 every 64 pixels so f32 increments never drift.
    let anchor = |x: usize, py: f64| -> (f32, f32) {
        let px = fx * (x as f64 + 0.5 - cx);
        (
            ((px * m[0][0] + py * m[0][1]).rem_euclid(t) + 4.0 * t) as f32,
            ((px * m[1][0] + py * m[1][1]).rem_euclid(t) + 4.0 * t) as f32,
        )
    };
    let (du, dv) = ((fx * m[0][0]) as f32, (fx * m[1][0]) as f32);
    // Rows y and y + h/2 are splatted side by side: neighbouring pixels of one row share bins, so
    // a single row is a chain of dependent read-modify-writes; two distant rows rarely share
    // bins and their chains overlap.
    let splat = |out: &mut [[f32; G]; G], uf: f32, vf: f32, val: f32| {
        // 0 < uf, vf < 2^24: truncation == floor, and i32 ↔ f32 are the cheapest casts
        let (iu, iv) = (uf as i32, vf as i32);
        let au = uf - iu as f32;
        let av = vf - iv as f32;
        let (u0, v0) = (iu as usize & mask, iv as usize & mask);
        let (u1, v1) = ((u0 + 1) & mask, (v0 + 1) & mask);
        let a1 = val * au;
        let a0 = val - a1;
        out[v0][u0] += a0 * (1.0 - av);
        out[v0][u1] += a1 * (1.0 - av);
        out[v1][u0] += a0 * av;
        out[v1][u1] += a1 * av;
    };
    let hh = h / 2;
    let pairs = (0..hh).map(|y| (y, Some(y + hh)));
    let odd = (h % 2 == 1).then_some((h - 1, None));
    for (ya, yb) in pairs.chain(odd) {
        let (pa, pb) = (ya as f64 + 0.5 - cy, yb.map(|y| y as f64 + 0.5 - cy));
        let ra = &n[ya * w..(ya + 1) * w];
        let rb = yb.map(|y| &n[y * w..(y + 1) * w]);
        for x0 in (0..w).step_by(64) {
            let x1 = (x0 + 64).min(w);
            let (mut ua, mut va) = anchor(x0, pa);
            match (rb, pb) {
                (Some(rb), Some(pb)) => {
                    let (mut ub, mut vb) = anchor(x0, pb);
                    for (&a, &b) in ra[x0..x1].iter().zip(&rb[x0..x1]) {
                        splat(out, ua, va, a);
                        splat(out, ub, vb, b);
                        ua += du;
                        va += dv;
                        ub += du;
                        vb += dv;
                    }
                }
                _ => {
                    for &a in &ra[x0..x1] {
                        splat(out, ua, va, a);
                        ua += du;
                        va += dv;
                    }
                }
            }
        }
    }
}

/// Bilinear taps of one axis: for every pixel index, the two bins it splats into and its weights.
fn taps(len: usize, centre: f64, sign: f64, cell: f64, grid: usize) -> Vec<(u32, u32, f32, f32)> {
    let t = grid as f64;
    let mask = grid - 1;
    (0..len)
        .map(|i| {
            let u = (sign * (i as f64 + 0.5 - centre) / cell).rem_euclid(t);
            let f = u.floor();
            let a = (u - f) as f32;
            let u0 = (f as usize) & mask;
            (u0 as u32, ((u0 + 1) & mask) as u32, 1.0 - a, a)
        })
        .collect()
}

/// Axis-aligned fold (`cell` = pixels per bin along x and y; writes every bin of `out`), separably: the bilinear weight of a pixel is (row weight) × (column weight),
/// so rows are first summed into `grid` bin rows (contiguous, vectorised), then the columns of
/// those `grid` rows are splatted. Same sums as the general path up to rounding, at a fraction
/// of its cost (`grid`·`w` scattered adds instead of 4 per pixel).
fn fold_axes(
    n: &[f32],
    w: usize,
    h: usize,
    cell: (f64, f64),
    flip: bool,
    out: &mut [f32],
    scratch: &mut FoldScratch,
) {
    let grid = out.len().isqrt();
    let fx = if flip { -1.0 } else { 1.0 };
    let cols = taps(w, w as f64 / 2.0, fx, cell.0, grid);
    let rows = taps(h, h as f64 / 2.0, 1.0, cell.1, grid);
    let acc = &mut scratch.acc;
    acc.clear();
    acc.resize(grid * w, 0.0);
    for (y, &(v0, v1, b0, b1)) in rows.iter().enumerate() {
        let row = &n[y * w..(y + 1) * w];
        for (a, &v) in acc[v0 as usize * w..(v0 as usize + 1) * w]
            .iter_mut()
            .zip(row)
        {
            *a += v * b0;
        }
        for (a, &v) in acc[v1 as usize * w..(v1 as usize + 1) * w]
            .iter_mut()
            .zip(row)
        {
            *a += v * b1;
        }
    }
    // Column splat, vectorised over bin rows: `acc` is transposed (one column of bin rows per
    // pixel column, contiguous), every pixel column is added with its two weights to two
    // contiguous columns of the transposed output, and that is transposed back. Every bin adds
    // the same products in the same (pixel) order as a direct scatter, so the sums are
    // bit-identical; a direct scatter chains stores and reloads of one bin (neighbouring pixels
    // share their bins), which made it the detector's hottest loop.
    const VB: usize = 8;
    // Every element of `acc_t` is written below.
    let acc_t = &mut scratch.acc_t;
    acc_t.resize(w * grid, 0.0);
    for vb in (0..grid).step_by(VB) {
        let rows: [&[f32]; VB] = std::array::from_fn(|k| &acc[(vb + k) * w..(vb + k + 1) * w]);
        for (x, dst) in acc_t.chunks_exact_mut(grid).enumerate() {
            for (k, d) in dst[vb..vb + VB].iter_mut().enumerate() {
                *d = rows[k][x];
            }
        }
    }
    let out_t = &mut scratch.out_t;
    out_t.clear();
    out_t.resize(grid * grid, 0.0);
    for (src, &(u0, u1, a0, a1)) in acc_t.chunks_exact(grid).zip(&cols) {
        for (u, wgt) in [(u0, a0), (u1, a1)] {
            let dst = &mut out_t[u as usize * grid..(u as usize + 1) * grid];
            for (o, &a) in dst.iter_mut().zip(src) {
                *o += a * wgt;
            }
        }
    }
    for (u, col) in out_t.chunks_exact(grid).enumerate() {
        for (v, &val) in col.iter().enumerate() {
            out[v * grid + u] = val;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The separable path gives the sums of the general one (axis-aligned, flipped or not, square
    /// cells or not).
    #[test]
    fn separable_fold_matches_general() {
        let (w, h) = (203usize, 150usize);
        let n: Vec<f32> = (0..w * h)
            .map(|i| (((i * 7919) % 1013) as f32 / 506.0) - 1.0)
            .collect();
        for (grid, cell, aspect, flip) in [
            (TILE, 1.37, 1.0, false),
            (FOLD, 0.91, 1.0, true),
            (TILE, 2.6, 1.0, true),
            (FOLD, 1.2, 0.73, false),
            (TILE, 0.8, 1.4, true),
        ] {
            let geo = Geometry {
                aspect,
                ..Geometry::similar(cell, 0.0)
            };
            let mut a = vec![0f32; grid * grid];
            let mut b = vec![0f32; grid * grid];
            fold_grid(&n, w, h, &geo, flip, &mut a, &mut FoldScratch::default());
            fold_general(&n, w, h, &geo, flip, &mut b, grid);
            let scale = b.iter().map(|v| v.abs()).fold(0f32, f32::max);
            assert!(scale > 0.0);
            for (x, y) in a.iter().zip(&b) {
                // The general path steps its coordinates in f32 (≈ 1e-3 of a bin).
                assert!((x - y).abs() <= 3e-3 * scale, "{x} vs {y}");
            }
        }
    }
}
