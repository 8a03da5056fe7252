//! Embedding: luminance-only additive tiled pattern with local-activity (texture) masking.

use super::ecc;
use super::keyed::Layout;
use super::luma::box_mean;
use super::params::{CELL_DIVISOR, MIN_EMBED_SIDE, PAYLOAD_BITS, TILE};
use super::pattern::tile_pattern;
use super::{EmbedOptions, EmbedReport, WatermarkKey, WmError};

/// Mark RMS (8-bit levels) aimed for at strength 1.0 (≈ 39.9 dB PSNR before rounding).
const TARGET_RMS: f64 = 2.6;
/// Mask = local luma standard deviation, capped here (edges do not get more than texture).
const MASK_CAP: f32 = 20.0;
/// The mark never exceeds this fraction of the local standard deviation (RMS), so flat regions
/// get (almost) nothing.
const MAX_GAIN: f64 = 0.45;
/// Dense texture (an RMS texture mask of DENSE_LO…DENSE_HI levels and above, i.e. most of the
/// image is busy) hides a stronger mark: the target RMS rises by up to DENSE_BOOST (≈ 38.2 dB
/// instead of 39.9 dB). Flat areas are still bounded by MAX_GAIN × their local deviation.
const DENSE_LO: f64 = 12.0;
const DENSE_HI: f64 = 18.0;
const DENSE_BOOST: f64 = 0.2;
/// Small images are viewed at (or near) full size, and every pixel of the mark shows: the target
/// RMS is SMALL_FACTOR times lower at a short side of SMALL_LO px and below, rising linearly to
/// the full target at SMALL_HI px (≈ +0.26 dB PSNR at 256 px).
const SMALL_LO: f64 = 256.0;
const SMALL_HI: f64 = 512.0;
const SMALL_FACTOR: f64 = 0.97;

pub(super) fn cell_size(w: u32, h: u32) -> f64 {
    (w.min(h) as f64 / CELL_DIVISOR).max(1.0)
}

/// Bilinear sampling positions along one axis: (i0, i1, frac) in tile cells.
fn axis_taps(n: usize, cell: f64) -> Vec<(usize, usize, f32)> {
    (0..n)
        .map(|x| {
            let u = (x as f64 + 0.5) / cell - 0.5;
            let f = u.floor();
            let i0 = (f as i64).rem_euclid(TILE as i64) as usize;
            ((i0), (i0 + 1) % TILE, (u - f) as f32)
        })
        .collect()
}

pub(super) fn embed_buf(
    buf: &mut [u8],
    w: u32,
    h: u32,
    ch: usize,
    payload: &[u8; 8],
    key: &WatermarkKey,
    opts: &EmbedOptions,
) -> Result<EmbedReport, WmError> {
    if w.min(h) < MIN_EMBED_SIDE {
        return Err(WmError::ImageTooSmall {
            width: w,
            height: h,
            min_side: MIN_EMBED_SIDE,
        });
    }
    if !(opts.strength.is_finite() && opts.strength > 0.0 && opts.strength <= 10.0) {
        return Err(WmError::InvalidStrength(opts.strength));
    }
    let (wu, hu) = (w as usize, h as usize);
    let layout = Layout::new(&key.0);
    let mut bits = [0u8; PAYLOAD_BITS];
    for (i, b) in bits.iter_mut().enumerate() {
        *b = ((payload[i / 8] >> (7 - i % 8)) & 1) ^ layout.payload_mask[i];
    }
    let code = ecc::encode(&bits);
    let pat = tile_pattern(&layout, &code);

    let cell = cell_size(w, h);
    // Texture mask: local luma standard deviation over a window of about ±cell pixels, from exact
    // per-block moments (blocks of q×q pixels) box-filtered on the block grid.
    // q = cell/2 rounded (not floored: with floor, cells of 3–4 px took 1-px blocks, so a
    // 1536×960 image cost more than a 1920×1080 one).
    let q = ((cell / 2.0).round() as usize).max(1);
    let (bw, bh) = (wu.div_ceil(q), hu.div_ceil(q));
    let mut s1 = vec![0f32; bw * bh];
    let mut s2 = vec![0f32; bw * bh];
    let mut cnt = vec![0f32; bw * bh];
    let bx: Vec<usize> = (0..wu).map(|x| x / q).collect();
    for yy in 0..hu {
        let row = &buf[yy * wu * ch..(yy + 1) * wu * ch];
        let b0 = (yy / q) * bw;
        for (&bxx, p) in bx.iter().zip(row.chunks_exact(ch)) {
            let l = 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32;
            let bi = b0 + bxx;
            s1[bi] += l;
            s2[bi] += l * l;
            cnt[bi] += 1.0;
        }
    }
    for ((a, b), c) in s1.iter_mut().zip(s2.iter_mut()).zip(&cnt) {
        *a /= c;
        *b /= c;
    }
    let rb = ((cell / q as f64).round() as usize).max(2);
    let m1 = box_mean(&s1, bw, bh, rb);
    let m2 = box_mean(&s2, bw, bh, rb);
    let mask: Vec<f32> = m1
        .iter()
        .zip(&m2)
        .map(|(a, b)| (b - a * a).max(0.0).sqrt().min(MASK_CAP))
        .collect();
    drop((s1, s2, cnt, m1, m2));
    let xt = axis_taps(wu, cell);
    let yt = axis_taps(hu, cell);

    // mp = mask × pattern, and its energy.
    let mut mp = vec![0f32; wu * hu];
    let mut energy = 0f64;
    let mut mask_energy = 0f64;
    for yy in 0..hu {
        let (r0, r1, fy) = yt[yy];
        let mut ri = [0f32; TILE];
        for (k, r) in ri.iter_mut().enumerate() {
            let (a, b) = (pat[r0 * TILE + k], pat[r1 * TILE + k]);
            *r = a + (b - a) * fy;
        }
        let mrow = &mask[(yy / q) * bw..(yy / q + 1) * bw];
        let mut e_row = 0f32;
        let mut me_row = 0f32;
        for ((o, &bxx), &(c0, c1, fx)) in mp[yy * wu..(yy + 1) * wu].iter_mut().zip(&bx).zip(&xt) {
            let m = mrow[bxx];
            let v = m * (ri[c0] + (ri[c1] - ri[c0]) * fx);
            *o = v;
            e_row += v * v;
            me_row += m * m;
        }
        energy += e_row as f64;
        mask_energy += me_row as f64;
    }
    let n = (wu * hu) as f64;
    let rms = (energy / n).sqrt();
    let mask_rms = (mask_energy / n).sqrt();
    let dense = ((mask_rms - DENSE_LO) / (DENSE_HI - DENSE_LO)).clamp(0.0, 1.0);
    let small = ((w.min(h) as f64 - SMALL_LO) / (SMALL_HI - SMALL_LO)).clamp(0.0, 1.0);
    let size_factor = SMALL_FACTOR + (1.0 - SMALL_FACTOR) * small;
    let target = TARGET_RMS * (1.0 + DENSE_BOOST * dense) * size_factor;
    let gain = if rms > 1e-9 {
        (target / rms).min(MAX_GAIN)
    } else {
        0.0
    } * opts.strength as f64;
    let g = gain as f32;

    let mut sq_err = 0u64;
    for (px, &v) in buf.chunks_exact_mut(ch).zip(&mp) {
        let d = g * v + 0.5;
        let mut e2 = 0u32;
        for c in px.iter_mut().take(3) {
            let old = *c;
            let new = (old as f32 + d).clamp(0.0, 255.0) as u8; // round half up
            *c = new;
            let e = new.abs_diff(old) as u32;
            e2 += e * e;
        }
        sq_err += e2 as u64;
    }
    let sq_err = sq_err as f64;
    let mse = sq_err / (3.0 * n);
    let psnr_db = if mse > 0.0 {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    } else {
        f64::INFINITY
    };
    Ok(EmbedReport {
        psnr_db,
        cell_px: cell as f32,
        tile_px: (cell * TILE as f64) as f32,
        mark_rms: (gain * rms) as f32,
        mean_mask: mask_rms as f32,
    })
}
