//! Detection: working image → whitening → geometry hypotheses → fold → keyed correlation over
//! all cyclic offsets → pilot bit test → payload decoding.

use rustfft::num_complex::Complex32;

use super::ecc;
use super::embed::cell_size;
use super::fft2::Fft2;
use super::fold::fold;
use super::keyed::Layout;
use super::luma::{downsampled_luma, whiten};
use super::params::*;
use super::pattern::{band_response, pilot_correlator, sym};
use super::stats::{ln_binom_tail_half, threshold};
use super::sync::{Geometry, candidates};
use super::{Detection, WatermarkKey, WmError};

/// Short side of the working image is brought into [WORK_SIDE, 2·WORK_SIDE) by box averaging.
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
    corr: Vec<Complex32>,
    fft: Fft2,
    fold_buf: Vec<f32>,
}

#[derive(Clone)]
struct Outcome {
    geo: Geometry,
    flip: bool,
    matches: u32,
    offset: (usize, usize),
    soft: Vec<f32>,
}

impl Ctx<'_> {
    fn trial(&mut self, geo: Geometry, flip: bool) -> Outcome {
        if geo.cell >= 1.9 && self.w2 >= 32 && self.h2 >= 32 {
            fold(
                &self.n2,
                self.w2,
                self.h2,
                geo.cell / 2.0,
                geo.theta,
                flip,
                &mut self.fold_buf,
            );
        } else {
            fold(
                self.n,
                self.w,
                self.h,
                geo.cell,
                geo.theta,
                flip,
                &mut self.fold_buf,
            );
        }
        let mut fh: Vec<Complex32> = self
            .fold_buf
            .iter()
            .map(|&v| Complex32::new(v, 0.0))
            .collect();
        self.fft.forward(&mut fh);
        let mut c: Vec<Complex32> = fh.iter().zip(&self.corr).map(|(a, b)| a * b).collect();
        self.fft.inverse(&mut c);
        let (mut best, mut bi) = (f32::NEG_INFINITY, 0usize);
        for (i, v) in c.iter().enumerate() {
            if v.re > best {
                best = v.re;
                bi = i;
            }
        }
        let (ox, oy) = (bi % TILE, bi / TILE);
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
        Outcome {
            geo,
            flip,
            matches,
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
    if w.min(h) < MIN_DETECT_SIDE {
        return Err(WmError::ImageTooSmall {
            width: w,
            height: h,
            min_side: MIN_DETECT_SIDE,
        });
    }
    let d = (w.min(h) / WORK_SIDE).max(1) as usize;
    let (y, ww, wh) = downsampled_luma(buf, w as usize, h as usize, ch, d);
    let n = whiten(&y, ww, wh);
    drop(y);
    let layout = Layout::new(&key.0);
    let band = band_response();
    let mut fft = Fft2::new(TILE, TILE);
    let corr = pilot_correlator(&layout, &band, &mut fft);
    let (n2, w2, h2) = half(&n, ww, wh);
    let mut ctx = Ctx {
        n: &n,
        w: ww,
        h: wh,
        n2,
        w2,
        h2,
        layout: &layout,
        band,
        corr,
        fft,
        fold_buf: vec![0f32; CELLS],
    };
    let thr = threshold(PILOT_BITS as u32, TRIALS, TARGET_FPR);

    // Hypothesis 0: the image has the geometry it was marked with (unchanged, recompressed,
    // resized, recoloured): tile = a quarter of the short side, no rotation.
    let prior = Geometry {
        cell: cell_size(w, h) / d as f64,
        theta: 0.0,
    };
    let mut best = ctx.trial(prior, false);
    if best.matches < thr {
        // Geometry from the autocorrelation lattice (crop, rotation), plus flips.
        let mut geos = vec![prior];
        geos.extend(candidates(&n, ww, wh, SYNC_CANDIDATES));
        for (i, g) in geos.iter().enumerate() {
            for flip in [false, true] {
                if i == 0 && !flip {
                    continue;
                }
                let o = ctx.trial(*g, flip);
                if o.matches > best.matches {
                    best = o;
                }
            }
        }
        // Local refinement around the best hypothesis.
        let center = best.clone();
        for ds in [-1.0, 0.0, 1.0] {
            for dr in [-1.0, 0.0, 1.0] {
                if ds == 0.0 && dr == 0.0 {
                    continue;
                }
                let g = Geometry {
                    cell: center.geo.cell * (1.0 + ds * REFINE_SCALE_STEP),
                    theta: center.geo.theta + (dr * REFINE_ROT_STEP_DEG).to_radians(),
                };
                let o = ctx.trial(g, center.flip);
                if o.matches > best.matches {
                    best = o;
                }
            }
        }
    }
    if best.matches < thr {
        return Ok(None);
    }
    let pbits = ecc::decode(&best.soft[PILOT_BITS..]);
    let mut payload = [0u8; 8];
    for i in 0..PAYLOAD_BITS {
        payload[i / 8] |= (pbits[i] ^ layout.payload_mask[i]) << (7 - i % 8);
    }
    let fpp = (TRIALS * ln_binom_tail_half(PILOT_BITS as u32, best.matches).exp()).min(1.0);
    let cell_px = best.geo.cell * d as f64;
    Ok(Some(Detection {
        payload,
        matching_bits: best.matches,
        compared_bits: PILOT_BITS as u32,
        false_positive_probability: fpp,
        scale: (best.geo.cell / prior.cell) as f32,
        rotation_deg: best.geo.theta.to_degrees() as f32,
        offset: (
            (best.offset.0 as f64 * cell_px).round() as i32,
            (best.offset.1 as f64 * cell_px).round() as i32,
        ),
        flipped: best.flip,
    }))
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
