//! Synchronisation: the periodic tile makes the autocorrelation of the whitened image peak on its
//! lattice. Unchanged or uniformly scaled and rotated, the lattice is square (a peak and its
//! perpendicular twin give scale and rotation); after a non-uniform resize or a shear it is
//! not, and two independent peaks near the image axes give the whole 2×2 map at once (Kutter's
//! self-reference). This uses the image only (never the key), so the candidate list is fixed
//! before any keyed comparison.

use std::sync::OnceLock;

use rustfft::num_complex::Complex32;

use super::fft2::Fft2;
use super::params::TILE;

/// Autocorrelation window (center crop, at most WIN²); the fft_n is zero padded so that all
/// searched lags are free of circular aliasing.
const WIN: usize = 256;
/// Rotations searched by the similarity lattice, degrees either side of the axes.
const MAX_ROT_DEG: f64 = 18.0;
/// Angle of each axis of the affine lattice from its image axis, degrees (rotation plus shear).
const MAX_AXIS_DEG: f64 = 22.0;
/// Longest period searched, as a fraction of the window's short side: a crop keeping 50 % of a
/// side has a period of half its short side (10 % margin; deeper crops are left to the scale
/// scan, and a longer period would need a larger transform).
const MAX_PERIOD: f64 = 0.55;
/// Rotations (degrees) and shears below these are taken as zero (see `Geometry::snapped`).
const SNAP_ROT_DEG: f64 = 0.03;
const SNAP_SHEAR: f64 = 0.0005;
/// Shortest period of an affine axis relative to the similarity search's.
const AXIS_MIN_PERIOD: f64 = 0.6;
/// Peaks kept per axis when pairing the affine lattice's axes.
const AXIS_PEAKS: usize = 3;

#[derive(Clone, Copy, Debug)]
pub(super) struct Geometry {
    /// Working-image pixels per tile cell along the tile's first axis.
    pub cell: f64,
    /// Rotation of the tile's first axis in the image, radians.
    pub theta: f64,
    /// Length of the tile's second axis relative to the first (1 = square cells; a resize by
    /// fx × fy of an unrotated mark gives fy / fx).
    pub aspect: f64,
    /// Shear: the second axis leans along the first by this fraction of a cell per cell.
    pub shear: f64,
}

impl Geometry {
    /// Square cells of `cell` pixels, rotated by `theta`.
    pub(super) fn similar(cell: f64, theta: f64) -> Self {
        Geometry {
            cell,
            theta,
            aspect: 1.0,
            shear: 0.0,
        }
    }

    /// From the image displacements of one tile cell along the tile's two axes (the columns of
    /// the tile → image map A = R(θ) · cell · [[1, shear], [0, aspect]]).
    fn from_axes(a: (f64, f64), b: (f64, f64)) -> Self {
        let cell = (a.0 * a.0 + a.1 * a.1).sqrt();
        let theta = a.1.atan2(a.0);
        let (c, s) = (theta.cos(), theta.sin());
        // R(−θ)·b / cell = (shear, aspect).
        Geometry {
            cell,
            theta,
            aspect: (-s * b.0 + c * b.1) / cell,
            shear: (c * b.0 + s * b.1) / cell,
        }
        .snapped()
    }

    /// Rotations and shears too small to move any pixel of the working image by a tenth of a
    /// cell are set to zero: the fold is then separable (several times cheaper).
    fn snapped(mut self) -> Self {
        if self.theta.abs() < SNAP_ROT_DEG.to_radians() {
            self.theta = 0.0;
        }
        if self.shear.abs() < SNAP_SHEAR {
            self.shear = 0.0;
        }
        self
    }

    /// Whether two geometries fold alike (the same lattice up to a fraction of a cell over the
    /// working image).
    fn close(&self, o: &Geometry) -> bool {
        (self.cell / o.cell - 1.0).abs() < 0.002
            && (self.aspect / o.aspect - 1.0).abs() < 0.002
            && (self.theta - o.theta).abs() < 0.1f64.to_radians()
            && (self.shear - o.shear).abs() < 0.002
    }

    /// Whether the tile axes are the image axes (the fold is then separable).
    pub(super) fn axis_aligned(&self) -> bool {
        self.theta == 0.0 && self.shear == 0.0
    }

    /// The smallest of the two cell sides, pixels.
    pub(super) fn min_cell(&self) -> f64 {
        self.cell * self.aspect.min(1.0)
    }

    /// The same geometry with every length multiplied by `f`.
    pub(super) fn scaled(&self, f: f64) -> Self {
        Geometry {
            cell: self.cell * f,
            ..*self
        }
    }

    /// Image → tile map (cells per pixel): `[[m00, m01], [m10, m11]]` = A⁻¹.
    pub(super) fn inverse(&self) -> [[f64; 2]; 2] {
        let (c, s) = (self.theta.cos(), self.theta.sin());
        let k = self.shear / self.aspect;
        let ic = 1.0 / self.cell;
        [
            [(c + k * s) * ic, (s - k * c) * ic],
            [-s / self.aspect * ic, c / self.aspect * ic],
        ]
    }
}

/// Up to `k` similarity candidates (square lattice: scale and rotation), then up to `k_aff`
/// affine ones (two independent axes: aspect change, shear), each list best first.
pub(super) fn candidates(
    n: &[f32],
    w: usize,
    h: usize,
    k: usize,
    k_aff: usize,
) -> (Vec<Geometry>, Vec<Geometry>) {
    // Large working images (crops of big photos: tile up to half the short side) are halved so
    // the window spans the whole short side and so at least two periods.
    if w.min(h) > 300 {
        let (half, hw, hh) = super::detect::half(n, w, h);
        let (g, a) = candidates_at(&half, hw, hh, k, k_aff, 24.0);
        let x2 = |v: Vec<Geometry>| v.into_iter().map(|c| c.scaled(2.0)).collect();
        (x2(g), x2(a))
    } else {
        candidates_at(n, w, h, k, k_aff, 48.0)
    }
}

fn candidates_at(
    n: &[f32],
    w: usize,
    h: usize,
    k: usize,
    k_aff: usize,
    l_lo: f64,
) -> (Vec<Geometry>, Vec<Geometry>) {
    let cw = w.min(WIN);
    let chh = h.min(WIN);
    let (x0, y0) = ((w - cw) / 2, (h - chh) / 2);
    // Longest period searched (deep crops, see MAX_PERIOD).
    let l_hi = MAX_PERIOD * cw.min(chh) as f64;
    if l_hi <= l_lo {
        return (Vec::new(), Vec::new());
    }
    let need = cw.max(chh) + l_hi.ceil() as usize + 2;
    let fft_n = FFT_SIZES.into_iter().find(|&s| s >= need).unwrap_or(512);
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
    let ring = rings(fft_n);
    for (v, &r) in buf.iter_mut().zip(ring) {
        let p = v.norm_sqr();
        *v = Complex32::new(p, 0.0);
        if r != u32::MAX {
            rsum[r as usize] += p as f64;
            rcnt[r as usize] += 1;
        }
    }
    let inv: Vec<f32> = rsum
        .iter()
        .zip(&rcnt)
        .map(|(&s, &c)| if s > 0.0 { (c as f64 / s) as f32 } else { 0.0 })
        .collect();
    for (v, &r) in buf.iter_mut().zip(ring) {
        v.re = if r != u32::MAX {
            v.re * inv[r as usize]
        } else {
            0.0
        };
    }
    // The autocorrelation of a real window is even (a(−v) = a(v)): only lags with x ≥ 0 are
    // read (negative ones through the symmetry), so only those output columns are computed.
    let vx_hi = l_hi.ceil() as i64;
    fft.inverse_first_cols(&mut buf, vx_hi as usize + 3);
    // Tables of every lag the searches below read (|vx|, |vy| ≤ r): the mean product a(v)
    // and its significance a(v)·√overlap (see the affine search).
    let r = vx_hi + 2;
    let side = (2 * r + 1) as usize;
    let mut tab_a = vec![0f32; side * side];
    let mut tab_s = vec![0f32; side * side];
    for vy in -r..=r {
        for vx in 0..=r {
            let ov = (cw as i64 - vx) * (chh as i64 - vy.abs());
            if ov <= 0 {
                continue;
            }
            let ix = vx as usize;
            let iy = vy.rem_euclid(fft_n as i64) as usize;
            let m = buf[iy * fft_n + ix].re / ov as f32;
            let sg = m * (ov as f32).sqrt();
            for (x, y) in [(vx, vy), (-vx, -vy)] {
                let i = (y + r) as usize * side + (x + r) as usize;
                tab_a[i] = m;
                tab_s[i] = sg;
            }
        }
    }
    let at = |t: &[f32], vx: i64, vy: i64| -> f32 {
        if vx.abs() > r || vy.abs() > r {
            return 0.0;
        }
        t[(vy + r) as usize * side + (vx + r) as usize]
    };
    let a = |vx: i64, vy: i64| at(&tab_a, vx, vy);
    let tan = MAX_ROT_DEG.to_radians().tan();
    let score = |vx: i64, vy: i64| a(vx, vy) + a(-vy, vx);
    // The k strongest local maxima of the score in the search region.
    let mut peaks = TopK::new(k);
    for vx in (l_lo.floor() as i64)..=vx_hi {
        let vy_max = (vx as f64 * tan).ceil() as i64;
        for vy in -vy_max..=vy_max {
            let len = ((vx * vx + vy * vy) as f64).sqrt();
            if len < l_lo || len > l_hi {
                continue;
            }
            let s = score(vx, vy);
            if peaks.admits(s) && is_local_max(&score, vx, vy, s) {
                peaks.insert((s, vx, vy));
            }
        }
    }
    let peaks = peaks.0;
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
    let similar = peaks
        .into_iter()
        .map(|(_, vx, vy)| {
            let (ax, ay) = sub(vx, vy);
            let (bx, by) = sub(-vy, vx); // perpendicular peak; rotate back by -90°
            let (ux, uy) = ((ax + by) / 2.0, (ay - bx) / 2.0);
            let len = (ux * ux + uy * uy).sqrt();
            Geometry::similar(len / TILE as f64, uy.atan2(ux)).snapped()
        })
        .collect::<Vec<_>>();
    // Affine lattice: the strongest local maxima of the autocorrelation near each image axis,
    // independently (first axis: x ≥ 0 within MAX_AXIS_DEG of +x; second: y > 0 within
    // MAX_AXIS_DEG of +y), paired by the sum of their peaks. Two axes give the whole 2×2 map
    // (non-uniform resize, shear, rotation) at once.
    // Peaks are ranked by their significance, the mean product times √overlap (the noise of a
    // mean over fewer pixels is larger: ranked by the mean, multiples of the period, with less
    // overlap, would win by their noise).
    let tan_a = MAX_AXIS_DEG.to_radians().tan();
    let sig = |vx: i64, vy: i64| at(&tab_s, vx, vy);
    let mut ax_peaks = TopK::new(AXIS_PEAKS);
    let mut by_peaks = TopK::new(AXIS_PEAKS);
    // One axis may be shortened (a squeeze to 0.6 of a width while the short side, which sets
    // the working scale, kept 0.9): shorter periods than the similarity search's are searched.
    let l_lo_aff = AXIS_MIN_PERIOD * l_lo;
    for along in (l_lo_aff.floor() as i64)..=vx_hi {
        let across = (along as f64 * tan_a).ceil() as i64;
        for t in -across..=across {
            let len = ((along * along + t * t) as f64).sqrt();
            if len < l_lo_aff || len > l_hi {
                continue;
            }
            let s = sig(along, t);
            if ax_peaks.admits(s) && is_local_max(&sig, along, t, s) {
                ax_peaks.insert((s, along, t));
            }
            let s = sig(t, along);
            if by_peaks.admits(s) && is_local_max(&sig, t, along, s) {
                by_peaks.insert((s, t, along));
            }
        }
    }
    let (ax_peaks, by_peaks) = (ax_peaks.0, by_peaks.0);
    type Lag = (i64, i64);
    let mut pairs: Vec<(f32, Lag, Lag)> = Vec::new();
    for &(sa, ax, ay) in &ax_peaks {
        for &(sb, bx, by) in &by_peaks {
            pairs.push((sa + sb, (ax, ay), (bx, by)));
        }
    }
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0));
    let t = TILE as f64;
    // The best k_aff pairs; one that folds like a similarity candidate is not tried again.
    let affine = pairs
        .into_iter()
        .take(k_aff)
        .map(|(_, (ax, ay), (bx, by))| {
            let (ax, ay) = sub(ax, ay);
            let (bx, by) = sub(bx, by);
            Geometry::from_axes((ax / t, ay / t), (bx / t, by / t))
        })
        .filter(|g| !similar.iter().any(|s| s.close(g)))
        .collect();
    (similar, affine)
}

/// Transform sizes of the autocorrelation (the first one holding the window and its lags).
const FFT_SIZES: [usize; 11] = [64, 96, 128, 160, 192, 256, 320, 384, 400, 448, 512];

/// Per frequency of an `fft_n`² transform: the rounded radius, or u32::MAX outside the kept
/// band. Depends on the size only, so it is computed once per size (one square root per
/// frequency) and kept for the life of the process.
fn rings(fft_n: usize) -> &'static [u32] {
    static CACHE: [OnceLock<Vec<u32>>; FFT_SIZES.len()] =
        [const { OnceLock::new() }; FFT_SIZES.len()];
    let i = FFT_SIZES
        .iter()
        .position(|&s| s == fft_n)
        .expect("one of the transform sizes");
    CACHE[i].get_or_init(|| {
        let nb = fft_n / 2 + 1;
        // Distance of a frequency index from 0 on the circle, per axis.
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
        let f_lo = 0.012 * fft_n as f64;
        let f_hi = 0.45 * fft_n as f64;
        let mut ring = vec![0u32; fft_n * fft_n];
        for (ky, row) in ring.chunks_exact_mut(fft_n).enumerate() {
            let ky2 = fold[ky] * fold[ky];
            for (kx, r) in row.iter_mut().enumerate() {
                let rf = (fold[kx] * fold[kx] + ky2).sqrt();
                let ri = (rf + 0.5) as usize; // round half up (rf ≥ 0)
                *r = if ri < nb && rf >= f_lo && rf <= f_hi {
                    ri as u32
                } else {
                    u32::MAX
                };
            }
        }
        ring
    })
}

/// Whether `f` at (vx, vy), worth `s`, is not exceeded by any of its 8 neighbours.
fn is_local_max(f: &impl Fn(i64, i64) -> f32, vx: i64, vy: i64, s: f32) -> bool {
    (-1..=1).all(|dy| (-1..=1).all(|dx| (dx, dy) == (0, 0) || f(vx + dx, vy + dy) <= s))
}

/// The k largest (score, vx, vy), best first (the neighbourhood test runs only for values that
/// would enter the list).
struct TopK(Vec<(f32, i64, i64)>, usize);

impl TopK {
    fn new(k: usize) -> Self {
        TopK(Vec::with_capacity(k + 1), k)
    }

    fn admits(&self, s: f32) -> bool {
        self.1 > 0 && (self.0.len() < self.1 || self.0.last().is_some_and(|l| s > l.0))
    }

    fn insert(&mut self, p: (f32, i64, i64)) {
        let at = self.0.partition_point(|q| q.0 >= p.0);
        self.0.insert(at, p);
        self.0.truncate(self.1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The image → tile map is the inverse of the tile → image map the axes describe, and a
    /// lattice read back from its axes gives the geometry again.
    #[test]
    fn affine_geometry_roundtrip() {
        let g = Geometry {
            cell: 1.7,
            theta: 0.2,
            aspect: 0.75,
            shear: 0.1,
        };
        let (c, s) = (g.theta.cos(), g.theta.sin());
        // Columns of A = R(θ) · cell · [[1, shear], [0, aspect]].
        let a = (g.cell * c, g.cell * s);
        let b = (
            g.cell * (c * g.shear - s * g.aspect),
            g.cell * (s * g.shear + c * g.aspect),
        );
        let m = g.inverse();
        for (col, want) in [(a, (1.0, 0.0)), (b, (0.0, 1.0))] {
            let u = m[0][0] * col.0 + m[0][1] * col.1;
            let v = m[1][0] * col.0 + m[1][1] * col.1;
            assert!((u - want.0).abs() < 1e-12 && (v - want.1).abs() < 1e-12);
        }
        let h = Geometry::from_axes(a, b);
        assert!(h.close(&g), "{h:?}");
        // Square unrotated cells are axis-aligned (separable fold).
        assert!(Geometry::from_axes((2.0, 0.0), (0.0, 1.5)).axis_aligned());
    }
}
