//! Detection: working image → whitening → geometry hypotheses → fold → keyed correlation over
//! all cyclic offsets → pilot bit test → payload decoding.

use rustfft::num_complex::Complex32;

use super::ecc;
use super::embed::cell_size;
use super::fft2::{Fft2, transpose};
use super::fold::{FOLD, FoldScratch, fold, fold_grid};
use super::keyed::Layout;
use super::luma::{downsampled_ycc, downsampled_ycc_area, whiten};
use super::params::*;
use super::pattern::{band_response, pilot_correlator, sym};
use super::stats::{weighted_fpp, z_threshold};
use super::sync::{Geometry, candidates};
use super::{Detection, WatermarkKey, WmError};

/// Short side of the working image of images at least twice as large (see `detect_inner`).
const WORK_SIDE: u32 = 256;

struct Ctx<'a> {
    /// Whitened working image and its 2× box-downsampled copy (folds with cells ≥ 1.9 px use it).
    n: &'a [f32],
    w: usize,
    h: usize,
    n2: Vec<f32>,
    w2: usize,
    h2: usize,
    layout: &'a Layout,
    band: Vec<f32>,
    fft: Fft2,
    fft_fold: Fft2,
    fold_buf: Vec<f32>,
    fold_scratch: FoldScratch,
    phases: Vec<Vec<Complex32>>,
    /// `phases` times `corr` (the products the correlations need, once per detection), and the
    /// same transposed (`[kx][ky]`, for the coarse score), with `|corr|²` transposed.
    phase_corr: Vec<Vec<Complex32>>,
    phase_corr_t: Vec<Vec<Complex32>>,
    corr_pow_t: Vec<f32>,
    /// Buffers of the scan and the offset search, kept from one trial to the next.
    small: Vec<f32>,
    spec: Vec<Complex32>,
    spec_t: Vec<Complex32>,
    corr_buf: Vec<Complex32>,
    corr_out: Vec<Complex32>,
}

/// The scan folds the 2× downsampled working image from this cell size (in working pixels) on;
/// below it the mark's band would alias there.
const SCAN_HALF_MIN_CELL: f64 = 1.5;

/// Gate of the lattice trials: a candidate's full trial runs only when its coarse score
/// ([`Ctx::coarse_score`], the scan's statistic) reaches this many standard deviations
/// (unmarked content: ≈ 4.3 typical; marks the scan found: ≥ 6.7). Skipping trials can only
/// lower the false-positive bound; `detect_full_search` runs them all, so the robustness sweep
/// counts what the gate misses.
const LATTICE_GATE_Z: f32 = 4.5;

/// Sub-cell phases tried for every offset (in cells): the fold is at half-cell resolution and its
/// band-limited spectrum is shifted exactly.
const SUBS: [(f32, f32); 4] = [(0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (0.5, 0.5)];

#[derive(Clone)]
struct Outcome {
    geo: Geometry,
    flip: bool,
    matches: u32,
    /// Normalised weighted pilot score (the presence statistic), see [`presence_score`].
    z: f32,
    offset: (usize, usize),
    soft: Vec<f32>,
}

impl Ctx<'_> {
    /// Scale scan: [`Ctx::coarse_score`] at `cell`, unrotated, unflipped.
    fn scan_score(&mut self, cell: f64) -> (f32, f32) {
        self.coarse_score(&Geometry::similar(cell, 0.0), false)
    }

    /// Normalised pilot correlation over the whole band (max over offsets and phases) of the
    /// spectrally whitened cell-resolution fold at `geo`, and the same maximum in units of its
    /// standard deviation under random phases (≈ 4.3 for unmarked content). Ranks the scan's
    /// scales and gates the lattice trials; never decides presence.
    fn coarse_score(&mut self, geo: &Geometry, flip: bool) -> (f32, f32) {
        // Cell-resolution fold: the coarser splat blurs mark and texture alike (whitened below).
        let s = &mut self.fold_scratch;
        if geo.min_cell() >= SCAN_HALF_MIN_CELL && self.w2 >= 32 && self.h2 >= 32 {
            let g = geo.scaled(0.5);
            fold_grid(&self.n2, self.w2, self.h2, &g, flip, &mut self.small, s);
        } else {
            fold_grid(self.n, self.w, self.h, geo, flip, &mut self.small, s);
        }
        for (c, &v) in self.spec.iter_mut().zip(&self.small) {
            *c = Complex32::new(v, 0.0);
        }
        // The spectrum stays transposed (`[kx][ky]`): the band and the prewhitening are symmetric
        // under transposition, the correlator tables are stored transposed, and only the
        // maximum of the correlation is wanted, wherever it lies.
        let spec = &mut self.spec_t;
        self.fft.forward_t(&mut self.spec, spec);
        whiten_spectrum(spec, &self.band);
        let norm: f32 = spec
            .iter()
            .zip(&self.band)
            .map(|(v, g)| v.norm_sqr() * g * g)
            .sum::<f32>()
            .sqrt();
        let sd: f32 = spec
            .iter()
            .zip(&self.corr_pow_t)
            .map(|(v, w)| v.norm_sqr() * w)
            .sum::<f32>()
            .sqrt();
        if norm <= 0.0 || sd <= 0.0 {
            return (0.0, 0.0);
        }
        let mut best = f32::NEG_INFINITY;
        let (c, out) = (&mut self.corr_buf, &mut self.corr_out);
        for pair in self.phase_corr_t.chunks_exact(2) {
            // Two phases per inverse transform (see `pack_pair`): real part, imaginary part.
            pack_pair(c, spec, &pair[0], &pair[1]);
            self.fft.inverse_t(c, out);
            // Eight running maxima side by side (one chain of 4096 dependent maxima was the
            // scan's critical path); the maximum of a set does not depend on the order.
            let mut lanes = [f32::NEG_INFINITY; 8];
            for ch in out.chunks_exact(4) {
                for (l, v) in lanes.chunks_exact_mut(2).zip(ch) {
                    l[0] = l[0].max(v.re);
                    l[1] = l[1].max(v.im);
                }
            }
            best = lanes.iter().fold(best, |m, &v| m.max(v));
        }
        (best / norm, best / sd)
    }

    /// FFT of the half-cell fold, low-passed onto the TILE×TILE cell grid.
    fn fold_spectrum(&mut self) -> Vec<Complex32> {
        let mut big: Vec<Complex32> = self
            .fold_buf
            .iter()
            .map(|&v| Complex32::new(v, 0.0))
            .collect();
        let half = TILE / 2;
        // Only the columns of the kept low frequencies are transformed.
        self.fft_fold
            .forward_cols(&mut big, &[0..half, FOLD - half..FOLD]);
        let mut spec = vec![Complex32::new(0.0, 0.0); CELLS];
        for ky in 0..TILE {
            let sy = if ky < half { ky } else { ky + FOLD - TILE };
            for kx in 0..TILE {
                let sx = if kx < half { kx } else { kx + FOLD - TILE };
                spec[ky * TILE + kx] = big[sy * FOLD + sx];
            }
        }
        spec
    }

    fn trial(&mut self, geo: Geometry, flip: bool) -> Outcome {
        if geo.min_cell() >= 1.9 && self.w2 >= 32 && self.h2 >= 32 {
            let g = geo.scaled(0.5);
            let s = &mut self.fold_scratch;
            fold(&self.n2, self.w2, self.h2, &g, flip, &mut self.fold_buf, s);
        } else {
            let s = &mut self.fold_scratch;
            fold(self.n, self.w, self.h, &geo, flip, &mut self.fold_buf, s);
        }
        let mut spec = self.fold_spectrum();
        whiten_spectrum(&mut spec, &self.band);
        let (mut best, mut bi, mut bsub) = (f32::NEG_INFINITY, 0usize, 0usize);
        let phases = &self.phases;
        let shift = |si: usize, out: &mut [Complex32]| {
            for ((o, s), p) in out.iter_mut().zip(&spec).zip(&phases[si]) {
                *o = s * p;
            }
        };
        for si in (0..SUBS.len()).step_by(2) {
            // Phases si and si + 1 in one inverse transform (see `pack_pair`).
            let c = &mut self.corr_buf;
            let pc = &self.phase_corr;
            pack_pair(c, &spec, &pc[si], &pc[si + 1]);
            self.fft.inverse(c);
            let parts: [fn(&Complex32) -> f32; 2] = [|v| v.re, |v| v.im];
            for (k, part) in parts.iter().enumerate() {
                for (i, v) in c.iter().enumerate() {
                    if part(v) > best {
                        best = part(v);
                        bi = i;
                        bsub = si + k;
                    }
                }
            }
        }
        let (ox, oy) = (bi % TILE, bi / TILE);
        let mut fh = vec![Complex32::new(0.0, 0.0); CELLS];
        shift(bsub, &mut fh);
        for (v, &g) in fh.iter_mut().zip(&self.band) {
            *v *= g;
        }
        self.fft.inverse(&mut fh);
        let mut soft = vec![0f32; PILOT_BITS + CODE_BITS];
        for cy in 0..TILE {
            let gy = (cy + oy) % TILE;
            for cx in 0..TILE {
                let cidx = cy * TILE + cx;
                let g = fh[gy * TILE + (cx + ox) % TILE].re;
                soft[self.layout.bit_of_cell[cidx] as usize] += g * self.layout.chip[cidx];
            }
        }
        let matches = (0..PILOT_BITS)
            .filter(|&b| soft[b] * sym(self.layout.pilot[b]) > 0.0)
            .count() as u32;
        let z = presence_score(&soft[..PILOT_BITS], &self.layout.pilot);
        Outcome {
            geo,
            flip,
            matches,
            z,
            offset: (ox, oy),
            soft,
        }
    }
}

pub(super) fn detect_buf(
    buf: &[u8],
    w: u32,
    h: u32,
    ch: usize,
    key: &WatermarkKey,
) -> Result<Option<Detection>, WmError> {
    detect_inner(buf, w, h, ch, key, false, false)
}

pub(super) fn detect_inner(
    buf: &[u8],
    w: u32,
    h: u32,
    ch: usize,
    key: &WatermarkKey,
    report_best: bool,
    full_search: bool,
) -> Result<Option<Detection>, WmError> {
    if w.min(h) < MIN_DETECT_SIDE {
        return Err(WmError::ImageTooSmall {
            width: w,
            height: h,
            min_side: MIN_DETECT_SIDE,
        });
    }
    // Working image: an image whose short side is at least 2·WORK_SIDE is brought to a short
    // side of exactly WORK_SIDE (area averaging; one cell of an unchanged marked image = one
    // working pixel), so the cost follows the pixel count, not the accident of an integer
    // factor (1024×640 used to be worked on at 512×320, 1024×1024 at 256×256). Smaller images
    // (often crops or downscaled copies, where every pixel of the mark counts: a 60 % crop of a
    // densely textured 512-px photo is found at full size, not at 256 px) are used as they are.
    let short = w.min(h) as f64;
    let d = if short >= 2.0 * WORK_SIDE as f64 {
        short / WORK_SIDE as f64
    } else {
        1.0
    };
    let (planes, ww, wh) = if d.fract() == 0.0 {
        downsampled_ycc(buf, w as usize, h as usize, ch, d as usize)
    } else {
        downsampled_ycc_area(buf, w as usize, h as usize, ch, d)
    };
    let n = whiten(&planes, ww, wh);
    drop(planes);
    let layout = Layout::new(&key.0);
    let band = band_response();
    let mut fft = Fft2::new(TILE, TILE);
    let corr = pilot_correlator(&layout, &band, &mut fft);
    let (n2, w2, h2) = half(&n, ww, wh);
    let phases = phase_tables();
    let phase_corr: Vec<Vec<Complex32>> = phases
        .iter()
        .map(|p| p.iter().zip(&corr).map(|(p, c)| p * c).collect())
        .collect();
    let transposed = |v: &[Complex32]| {
        let mut t = vec![Complex32::new(0.0, 0.0); CELLS];
        transpose(v, &mut t, TILE, TILE);
        t
    };
    let phase_corr_t = phase_corr.iter().map(|p| transposed(p)).collect();
    let corr_pow_t = transposed(&corr).iter().map(|v| v.norm_sqr()).collect();
    debug_assert!((0..CELLS).all(|i| band[i] == band[(i % TILE) * TILE + i / TILE]));
    let mut ctx = Ctx {
        n: &n,
        w: ww,
        h: wh,
        n2,
        w2,
        h2,
        layout: &layout,
        band,
        fft,
        fold_buf: vec![0f32; FOLD * FOLD],
        fft_fold: Fft2::new(FOLD, FOLD),
        fold_scratch: FoldScratch::default(),
        phases,
        phase_corr,
        phase_corr_t,
        corr_pow_t,
        small: vec![0f32; CELLS],
        spec: vec![Complex32::new(0.0, 0.0); CELLS],
        spec_t: vec![Complex32::new(0.0, 0.0); CELLS],
        corr_buf: vec![Complex32::new(0.0, 0.0); CELLS],
        corr_out: vec![Complex32::new(0.0, 0.0); CELLS],
    };
    let zthr = z_threshold(TRIALS, TARGET_FPR) as f32;
    let mut search = Search { best: None, zthr };

    // Hypothesis 0: the image has the geometry it was marked with (unchanged, recompressed,
    // resized, recoloured): tile = a quarter of the short side, no rotation.
    let prior = Geometry::similar(cell_size(w, h) / d, 0.0);
    search.run(&mut ctx, prior, false);
    if !search.found() {
        // Horizontal flip of the unchanged geometry.
        search.run(&mut ctx, prior, true);
    }
    if !search.found() {
        // Geometry from the autocorrelation lattice: square lattices (crop, rotation), then two
        // independent axes (aspect change, shear; unflipped only: mirroring and squeezing
        // together are rare), then the square lattices mirrored.
        let (geos, affine) = candidates(&n, ww, wh, SYNC_CANDIDATES, AFFINE_CANDIDATES);
        let hyps = geos.iter().map(|g| (g, false));
        let hyps = hyps.chain(affine.iter().map(|g| (g, false)));
        for (g, flip) in hyps.chain(geos.iter().map(|g| (g, true))) {
            // Gate: a lattice candidate gets its full trial only when the cheap coarse score of
            // its geometry reaches LATTICE_GATE_Z (most unmarked images run none).
            if !full_search && ctx.coarse_score(g, flip).1 < LATTICE_GATE_Z {
                continue;
            }
            if search.run(&mut ctx, *g, flip) {
                break;
            }
        }
    }
    if !search.found() && search.best.as_ref().is_some_and(|b| b.z >= REFINE_MIN_Z) {
        // Local refinement around the best hypothesis so far, when it stands out of the noise.
        let center = search.best.clone().expect("prior was tried");
        'refine: for ds in [-1.0, 0.0, 1.0] {
            for dr in [-1.0, 0.0, 1.0] {
                if ds == 0.0 && dr == 0.0 {
                    continue;
                }
                let g = Geometry {
                    cell: center.geo.cell * (1.0 + ds * REFINE_SCALE_STEP),
                    theta: center.geo.theta + (dr * REFINE_ROT_STEP_DEG).to_radians(),
                    ..center.geo
                };
                if search.run(&mut ctx, g, center.flip) {
                    break 'refine;
                }
            }
        }
    }
    if !search.found() {
        // Scale scan for crops the lattice did not reveal: cell sizes from SCAN_MIN times the
        // prior in SCAN_STEPS steps of SCAN_STEP. A scale whose scan correlation stands out
        // (≥ SCAN_EARLY_Z standard deviations) gets its full trials at once (at most
        // SCAN_KEEP such scales); otherwise the SCAN_KEEP best-ranked scales get them after the
        // scan. Full trials are at the fine scales SCAN_FINE, nearest first.
        let fine_trials = |search: &mut Search, ctx: &mut Ctx, i: usize, c: f64| -> bool {
            // Past the 1 % steps the steps are SCAN_WIDE_STEP: so are the fine offsets.
            let k = if i < SCAN_STEPS {
                1.0
            } else {
                (SCAN_WIDE_STEP - 1.0) / (SCAN_STEP - 1.0)
            };
            for f in SCAN_FINE {
                let g = Geometry::similar(c * (1.0 + k * f), 0.0);
                if search.run(ctx, g, false) {
                    return true;
                }
            }
            false
        };
        let mut scan: Vec<(f32, usize, f32)> = Vec::with_capacity(SCAN_STEPS);
        let mut done: Vec<usize> = Vec::new();
        // Images smaller than 256 px may be downscaled copies (cell < 1 px, while the prior
        // assumes they were marked at this size): the scan then starts from the cell size of a
        // downscaled copy, short side / 256.
        let natural = w.min(h) as f64 / CELL_DIVISOR / d;
        let base = prior.cell.min(natural);
        let scale = |i: usize| {
            let wide = i.saturating_sub(SCAN_STEPS - 1) as i32;
            base * SCAN_MIN * SCAN_STEP.powi(i as i32 - wide) * SCAN_WIDE_STEP.powi(wide)
        };
        for i in 0..SCAN_STEPS + SCAN_WIDE_STEPS {
            let (score, z) = ctx.scan_score(scale(i));
            scan.push((score, i, z));
            if z >= SCAN_EARLY_Z && done.len() < SCAN_KEEP {
                done.push(i);
                if fine_trials(&mut search, &mut ctx, i, scale(i)) {
                    break;
                }
            }
        }
        if !search.found() {
            // Early reject: a best-ranked scale gets its full trials only when its scan
            // correlation reaches SCAN_REST_MIN_Z (unmarked content: ≈ 4.8 median, 5.2 at the
            // 95th percentile). Skipping trials can only lower the false-positive bound.
            scan.sort_by(|a, b| b.0.total_cmp(&a.0));
            let rest: Vec<usize> = scan
                .iter()
                .filter(|s| full_search || s.2 >= SCAN_REST_MIN_Z)
                .map(|s| s.1)
                .filter(|i| !done.contains(i))
                .take(SCAN_KEEP - done.len())
                .collect();
            for i in rest {
                if fine_trials(&mut search, &mut ctx, i, scale(i)) {
                    break;
                }
            }
        }
    }
    let best = search.best.expect("prior was tried");
    if best.z < zthr && !report_best {
        return Ok(None);
    }
    // Payload only: when the geometry was searched, polish it (hill-climb in scale, then
    // rotation) and decode from the best polished trial. The presence test above is final; these
    // trials never decide presence, and the reported bits/probability are those of the test.
    let searched = best.geo.cell != prior.cell
        || !best.geo.axis_aligned()
        || best.geo.aspect != 1.0
        || best.flip;
    let geo_best = if best.z >= zthr && best.z < POLISH_MAX_Z && searched {
        polish(&mut ctx, best.clone())
    } else {
        best.clone()
    };
    let pbits = ecc::decode(&geo_best.soft[PILOT_BITS..]);
    let mut payload = [0u8; 8];
    for i in 0..PAYLOAD_BITS {
        payload[i / 8] |= (pbits[i] ^ layout.payload_mask[i]) << (7 - i % 8);
    }
    let fpp = weighted_fpp(best.z as f64, TRIALS);
    let cell_px = geo_best.geo.cell * d;
    Ok(Some(Detection {
        payload,
        matching_bits: best.matches,
        compared_bits: PILOT_BITS as u32,
        false_positive_probability: fpp,
        scale: (geo_best.geo.cell / prior.cell) as f32,
        rotation_deg: geo_best.geo.theta.to_degrees() as f32,
        offset: (
            (geo_best.offset.0 as f64 * cell_px).round() as i32,
            (geo_best.offset.1 as f64 * cell_px).round() as i32,
        ),
        flipped: geo_best.flip,
    }))
}

/// Steps of the payload polish: relative scale, rotation (degrees), and steps per direction.
const POLISH_SCALE_STEP: f64 = 0.0025;
const POLISH_ROT_STEP_DEG: f64 = 0.1;
const POLISH_MAX_STEPS: usize = 6;
/// Above this weighted score the payload decodes reliably without polishing.
const POLISH_MAX_Z: f32 = 11.0;

/// Hill-climb of the weighted pilot score in scale, then rotation, then (for an affine
/// geometry) aspect, from a detected geometry.
fn polish(ctx: &mut Ctx, start: Outcome) -> Outcome {
    let mut cur = start;
    let dims = if cur.geo.aspect != 1.0 || cur.geo.shear != 0.0 {
        3
    } else {
        2
    };
    for dim in 0..dims {
        for dir in [1.0, -1.0] {
            for _ in 0..POLISH_MAX_STEPS {
                let mut g = cur.geo;
                match dim {
                    0 => g.cell *= 1.0 + dir * POLISH_SCALE_STEP,
                    1 => g.theta += (dir * POLISH_ROT_STEP_DEG).to_radians(),
                    _ => g.aspect *= 1.0 + dir * POLISH_SCALE_STEP,
                }
                let o = ctx.trial(g, cur.flip);
                if o.z > cur.z {
                    cur = o;
                } else {
                    break;
                }
            }
        }
    }
    cur
}

/// Best-so-far of the hypotheses tried; stops the search at the first one that passes.
struct Search {
    best: Option<Outcome>,
    zthr: f32,
}

impl Search {
    fn found(&self) -> bool {
        self.best.as_ref().is_some_and(|b| b.z >= self.zthr)
    }

    /// Runs one hypothesis; returns whether the presence test has now passed.
    fn run(&mut self, ctx: &mut Ctx, geo: Geometry, flip: bool) -> bool {
        let o = ctx.trial(geo, flip);
        if self.best.as_ref().is_none_or(|b| o.z > b.z) {
            self.best = Some(o);
        }
        self.found()
    }
}

/// Clip of the per-bit weights, in units of the RMS soft value of the pilot bits.
const WEIGHT_CLIP: f32 = 2.0;

/// Presence statistic of one trial: z = Σ_b w_b·s_b / √(Σ_b w_b²) over the pilot bits, with
/// s_b = +1 where the sign of the soft value agrees with the keyed pilot bit (−1 otherwise) and
/// w_b = min(|soft_b|, WEIGHT_CLIP · RMS). The magnitudes depend on the image, chips and layout
/// only; under the null the pilot signs are independent fair coins, so given the weights the sum
/// is a weighted Rademacher sum and P(z ≥ t) ≤ exp(−t²/2) (Hoeffding).
fn presence_score(soft: &[f32], pilot: &[u8]) -> f32 {
    let rms = (soft.iter().map(|v| v * v).sum::<f32>() / soft.len().max(1) as f32).sqrt();
    let clip = WEIGHT_CLIP * rms;
    let (mut num, mut den) = (0f64, 0f64);
    for (&v, &p) in soft.iter().zip(pilot) {
        let w = v.abs().min(clip) as f64;
        if v * sym(p) > 0.0 {
            num += w;
        } else {
            num -= w;
        }
        den += w * w;
    }
    if den > 0.0 {
        (num / den.sqrt()) as f32
    } else {
        0.0
    }
}

/// `out = spec·a + i·spec·b` (a, b: phase ramps times the pilot correlator), whose inverse
/// transform holds the correlation at phase a in its real part and at phase b in its imaginary
/// part (half the transforms of one per phase). Exact up to rounding: the fold is real, so its
/// spectrum is Hermitian; so are the correlator (a real template times the radial band) and the
/// phase ramps wherever the band is non-zero (everywhere but the Nyquist lines), so each product
/// alone transforms to a real correlation.
fn pack_pair(out: &mut [Complex32], spec: &[Complex32], a: &[Complex32], b: &[Complex32]) {
    for (((o, s), a), b) in out.iter_mut().zip(spec).zip(a).zip(b) {
        let (x, y) = (s * a, s * b);
        *o = Complex32::new(x.re - y.im, x.im + y.re);
    }
}

/// Radius (in frequency bins) of the local power average used by [`whiten_spectrum`].
const SPEC_SMOOTH: usize = 2;
/// Floor of the whitening power, relative to the mean in-band power.
/// (In band: band response above IN_BAND; the tilted response is ≈ 0.23 at BAND_LO.)
const SPEC_FLOOR: f64 = 0.1;
const IN_BAND: f32 = 0.05;

/// Spectral prewhitening of a folded tile (TILE×TILE spectrum): every coefficient is divided by
/// the square root of the power averaged over its (2·SPEC_SMOOTH+1)² neighbourhood on the torus
/// (plus a floor of SPEC_FLOOR × the mean in-band power).
/// Folded image texture is far from white (1/f slope, and periodic textures such as brick put
/// strong peaks in the band); the mark is white across its band, so this brings the correlation
/// close to a matched filter in coloured noise. Uses the fold only, never the key.
pub(super) fn whiten_spectrum(spec: &mut [Complex32], band: &[f32]) {
    // Fixed-size working arrays (on the stack: this runs about a hundred times per detection).
    let mut p = [0f32; CELLS];
    for (p, v) in p.iter_mut().zip(spec.iter()) {
        *p = v.norm_sqr();
    }
    // Neighbour indices on the torus (direct sums: a running sum would cancel catastrophically
    // next to the strong low frequencies).
    let nb: [[usize; 2 * SPEC_SMOOTH + 1]; TILE] =
        std::array::from_fn(|k| std::array::from_fn(|d| (k + TILE + d - SPEC_SMOOTH) % TILE));
    // Separable box sum on the torus: rows, then columns.
    // Each row is padded with its wrapped neighbours so the five taps are contiguous slices
    // (vectorised; the same sums in the same order as the wrapped indices).
    const S: usize = SPEC_SMOOTH;
    const _: () = assert!(S == 2, "the row sum below spells out five taps");
    let mut tmp = [0f32; CELLS];
    let mut pad = [0f32; TILE + 2 * S];
    for (trow, prow) in tmp.chunks_exact_mut(TILE).zip(p.chunks_exact(TILE)) {
        pad[..S].copy_from_slice(&prow[TILE - S..]);
        pad[S..S + TILE].copy_from_slice(prow);
        pad[S + TILE..].copy_from_slice(&prow[..S]);
        for (k, t) in trow.iter_mut().enumerate() {
            let win = &pad[k..k + 2 * S + 1];
            *t = win[0] + win[1] + win[2] + win[3] + win[4];
        }
    }
    let mut q = [0f32; CELLS];
    for (ky, iy) in nb.iter().enumerate() {
        let qrow = &mut q[ky * TILE..(ky + 1) * TILE];
        for &y in iy {
            for (a, &v) in qrow.iter_mut().zip(&tmp[y * TILE..(y + 1) * TILE]) {
                *a += v;
            }
        }
    }
    // Floor: a fraction of the mean in-band power, so frequencies that hold (almost) nothing
    // (blurred or downscaled away) are attenuated, not amplified to full weight.
    let (mut band_sum, mut band_n) = (0f64, 0usize);
    for (&a, &g) in q.iter().zip(band) {
        if g > IN_BAND {
            band_sum += a as f64;
            band_n += 1;
        }
    }
    let floor = (SPEC_FLOOR * band_sum / band_n.max(1) as f64) as f32 + f32::MIN_POSITIVE;
    for (v, &a) in spec.iter_mut().zip(&q) {
        *v /= (a + floor).sqrt();
    }
}

/// 2× box downsampling.
pub(super) fn half(n: &[f32], w: usize, h: usize) -> (Vec<f32>, usize, usize) {
    let (hw, hh) = (w / 2, h / 2);
    let mut out = vec![0f32; hw * hh];
    for y in 0..hh {
        let (r0, r1) = (
            &n[2 * y * w..2 * y * w + w],
            &n[(2 * y + 1) * w..(2 * y + 1) * w + w],
        );
        for (x, o) in out[y * hw..(y + 1) * hw].iter_mut().enumerate() {
            *o = 0.25 * (r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1]);
        }
    }
    (out, hw, hh)
}

/// Phase ramps of the half-cell shifts in SUBS (computed once per detection).
fn phase_tables() -> Vec<Vec<Complex32>> {
    let half = TILE / 2;
    let signed = |k: usize| -> f32 {
        if k < half {
            k as f32
        } else {
            k as f32 - TILE as f32
        }
    };
    SUBS.iter()
        .map(|sub| {
            (0..CELLS)
                .map(|i| {
                    let (kx, ky) = (i % TILE, i / TILE);
                    let ph = 2.0 * std::f32::consts::PI * (signed(kx) * sub.0 + signed(ky) * sub.1)
                        / TILE as f32;
                    Complex32::new(ph.cos(), ph.sin())
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two phases per inverse transform, on a transposed spectrum, give the correlation maxima of
    /// one plain inverse transform per phase (the Hermitian argument of `pack_pair`, and the
    /// transposition symmetry of the band and the prewhitening the coarse score relies on).
    #[test]
    fn packed_transposed_correlation_matches_plain() {
        let layout = Layout::new(&[3; 32]);
        let band = band_response();
        let mut fft = Fft2::new(TILE, TILE);
        let corr = pilot_correlator(&layout, &band, &mut fft);
        let phases = phase_tables();
        let fold: Vec<Complex32> = (0..CELLS)
            .map(|i| Complex32::new((((i * 7919) % 1013) as f32 / 506.0) - 1.0, 0.0))
            .collect();
        let mut spec = fold.clone();
        fft.forward(&mut spec);
        whiten_spectrum(&mut spec, &band);
        let plain: Vec<f32> = phases
            .iter()
            .map(|p| {
                let mut c: Vec<Complex32> = (0..CELLS).map(|k| spec[k] * p[k] * corr[k]).collect();
                fft.inverse(&mut c);
                c.iter().map(|v| v.re).fold(f32::NEG_INFINITY, f32::max)
            })
            .collect();
        let (mut src, mut spec_t) = (fold, vec![Complex32::new(0.0, 0.0); CELLS]);
        fft.forward_t(&mut src, &mut spec_t);
        whiten_spectrum(&mut spec_t, &band);
        let t = |v: &[Complex32]| {
            let mut o = vec![Complex32::new(0.0, 0.0); CELLS];
            transpose(v, &mut o, TILE, TILE);
            o
        };
        let pc: Vec<Vec<Complex32>> = phases
            .iter()
            .map(|p| t(&p.iter().zip(&corr).map(|(p, c)| p * c).collect::<Vec<_>>()))
            .collect();
        let scale = plain.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(scale > 0.0);
        for pair in 0..2 {
            let mut c = vec![Complex32::new(0.0, 0.0); CELLS];
            let mut out = c.clone();
            pack_pair(&mut c, &spec_t, &pc[2 * pair], &pc[2 * pair + 1]);
            fft.inverse_t(&mut c, &mut out);
            let re = out.iter().map(|v| v.re).fold(f32::NEG_INFINITY, f32::max);
            let im = out.iter().map(|v| v.im).fold(f32::NEG_INFINITY, f32::max);
            assert!(
                (re - plain[2 * pair]).abs() < 1e-4 * scale,
                "{re} vs {}",
                plain[2 * pair]
            );
            assert!((im - plain[2 * pair + 1]).abs() < 1e-4 * scale, "{im}");
        }
    }
}
