//! Luminance extraction, box filters and the detector's working image.

/// Separable box mean with radius `r` (window 2r+1, shrinking at the borders).
pub(super) fn box_mean(src: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let mut tmp = vec![0f32; w * h];
    // horizontal
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        let out = &mut tmp[y * w..(y + 1) * w];
        let mut acc = 0f64;
        let mut lo = 0usize;
        let mut hi = 0usize; // window is [lo, hi)
        for (x, o) in out.iter_mut().enumerate() {
            let want_hi = (x + r + 1).min(w);
            let want_lo = x.saturating_sub(r);
            while hi < want_hi {
                acc += row[hi] as f64;
                hi += 1;
            }
            while lo < want_lo {
                acc -= row[lo] as f64;
                lo += 1;
            }
            *o = (acc / (hi - lo) as f64) as f32;
        }
    }
    // vertical
    let mut out = vec![0f32; w * h];
    let mut acc = vec![0f64; w];
    let mut lo = 0usize;
    let mut hi = 0usize;
    for y in 0..h {
        let want_hi = (y + r + 1).min(h);
        let want_lo = y.saturating_sub(r);
        while hi < want_hi {
            for (a, v) in acc.iter_mut().zip(&tmp[hi * w..(hi + 1) * w]) {
                *a += *v as f64;
            }
            hi += 1;
        }
        while lo < want_lo {
            for (a, v) in acc.iter_mut().zip(&tmp[lo * w..(lo + 1) * w]) {
                *a -= *v as f64;
            }
            lo += 1;
        }
        let n = (hi - lo) as f64;
        for (o, a) in out[y * w..(y + 1) * w].iter_mut().zip(&acc) {
            *o = (*a / n) as f32;
        }
    }
    out
}

/// Box-downsample the luma of an interleaved RGB(A) buffer by an integer factor `d`.
pub(super) fn downsampled_luma(
    buf: &[u8],
    w: usize,
    h: usize,
    ch: usize,
    d: usize,
) -> (Vec<f32>, usize, usize) {
    let (ow, oh) = (w / d, h / d);
    let mut out = vec![0f32; ow * oh];
    let mut rowacc = vec![0f32; ow];
    let inv = 1.0 / (d * d) as f32;
    for oy in 0..oh {
        rowacc.iter_mut().for_each(|v| *v = 0.0);
        for y in oy * d..oy * d + d {
            let row = &buf[y * w * ch..(y + 1) * w * ch];
            for (ox, acc) in rowacc.iter_mut().enumerate() {
                let mut s = 0f32;
                for p in row[ox * d * ch..(ox * d + d) * ch].chunks_exact(ch) {
                    s += 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32;
                }
                *acc += s;
            }
        }
        for (o, a) in out[oy * ow..(oy + 1) * ow].iter_mut().zip(&rowacc) {
            *o = a * inv;
        }
    }
    (out, ow, oh)
}

/// Detector pre-processing: remove the local mean (a crude whitening of the image's 1/f
/// spectrum), divide by the local RMS of the residual (so textured and flat regions, brightness
/// and contrast changes all weigh the same) and clip outliers (edges).
pub(super) fn whiten(y: &[f32], w: usize, h: usize) -> Vec<f32> {
    let m = box_mean(y, w, h, 2);
    let r: Vec<f32> = y.iter().zip(&m).map(|(a, b)| a - b).collect();
    let r2: Vec<f32> = r.iter().map(|v| v * v).collect();
    let e = box_mean(&r2, w, h, 4);
    r.iter()
        .zip(&e)
        .map(|(v, e2)| (v / (e2 + 0.25).sqrt()).clamp(-2.5, 2.5))
        .collect()
}
