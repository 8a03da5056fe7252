//! Luminance extraction, box filters and the detector's working image.

/// Separable box mean with radius `r` (window 2r+1, shrinking at the borders).
/// The horizontal pass runs eight rows side by side (independent running sums, so the adds of
/// one row do not wait on each other); both passes multiply by the reciprocal window size.
pub(super) fn box_mean(src: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let mut tmp = vec![0f32; w * h];
    // Window [lo, hi) of every column, and the reciprocal of its size.
    let win: Vec<(usize, usize, f64)> = (0..w)
        .map(|x| {
            let (lo, hi) = (x.saturating_sub(r), (x + r + 1).min(w));
            (lo, hi, 1.0 / (hi - lo) as f64)
        })
        .collect();
    // Horizontal: eight rows side by side (a fixed count, so the compiler unrolls the rows),
    // then the remaining rows one at a time (the same sums per row either way).
    const R: usize = 8;
    let full = h / R * R;
    for y in (0..full).step_by(R) {
        box_rows::<R>(src, w, y, &win, &mut tmp);
    }
    for y in full..h {
        box_rows::<1>(src, w, y, &win, &mut tmp);
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
        let inv = 1.0 / (hi - lo) as f64;
        for (o, a) in out[y * w..(y + 1) * w].iter_mut().zip(&acc) {
            *o = (*a * inv) as f32;
        }
    }
    out
}

/// Horizontal running-sum box mean of the `N` rows from `y` into `tmp` (`win`: window and
/// reciprocal size per column).
fn box_rows<const N: usize>(
    src: &[f32],
    w: usize,
    y: usize,
    win: &[(usize, usize, f64)],
    tmp: &mut [f32],
) {
    let rows: [&[f32]; N] = std::array::from_fn(|k| &src[(y + k) * w..(y + k + 1) * w]);
    let mut out: [&mut [f32]; N] = {
        let mut it = tmp[y * w..(y + N) * w].chunks_exact_mut(w);
        std::array::from_fn(|_| it.next().expect("N rows"))
    };
    let mut acc = [0f64; N];
    let (mut lo, mut hi) = (0usize, 0usize);
    for (x, &(want_lo, want_hi, inv)) in win.iter().enumerate() {
        while hi < want_hi {
            for (a, r) in acc.iter_mut().zip(&rows) {
                *a += r[hi] as f64;
            }
            hi += 1;
        }
        while lo < want_lo {
            for (a, r) in acc.iter_mut().zip(&rows) {
                *a -= r[lo] as f64;
            }
            lo += 1;
        }
        for (a, o) in acc.iter().zip(out.iter_mut()) {
            o[x] = (a * inv) as f32;
        }
    }
}

/// Box-downsample an interleaved RGB(A) buffer by an integer factor `d` into BT.601 luma Y and
/// the colour differences B − Y and R − Y.
pub(super) fn downsampled_ycc(
    buf: &[u8],
    w: usize,
    h: usize,
    ch: usize,
    d: usize,
) -> ([Vec<f32>; 3], usize, usize) {
    let (ow, oh) = (w / d, h / d);
    let mut out = [
        vec![0f32; ow * oh],
        vec![0f32; ow * oh],
        vec![0f32; ow * oh],
    ];
    // Integer sums of R, G, B per block (exact), converted once per output pixel.
    let mut acc = vec![[0u32; 3]; ow];
    let inv = 1.0 / (d * d) as f32;
    for oy in 0..oh {
        acc.iter_mut().for_each(|v| *v = [0; 3]);
        for y in oy * d..oy * d + d {
            let row = &buf[y * w * ch..(y + 1) * w * ch];
            for (a, blk) in acc.iter_mut().zip(row.chunks_exact(d * ch)) {
                for p in blk.chunks_exact(ch) {
                    a[0] += p[0] as u32;
                    a[1] += p[1] as u32;
                    a[2] += p[2] as u32;
                }
            }
        }
        for (ox, a) in acc.iter().enumerate() {
            let (r, g, b) = (a[0] as f32 * inv, a[1] as f32 * inv, a[2] as f32 * inv);
            let l = 0.299 * r + 0.587 * g + 0.114 * b;
            let i = oy * ow + ox;
            out[0][i] = l;
            out[1][i] = b - l;
            out[2][i] = r - l;
        }
    }
    (out, ow, oh)
}

/// Area-average taps of a downsampling by `f` ≥ 1 along one axis: (source index, output index,
/// weight), ordered by output then source index; the weights of an output sum to 1.
fn area_taps(n_out: usize, f: f64) -> Vec<(usize, usize, f32)> {
    let mut taps = Vec::with_capacity(n_out * (f.ceil() as usize + 1));
    for o in 0..n_out {
        let (lo, hi) = (o as f64 * f, (o + 1) as f64 * f);
        let mut s = lo.floor() as usize;
        while (s as f64) < hi {
            let wgt = (hi.min(s as f64 + 1.0) - lo.max(s as f64)) / f;
            if wgt > 0.0 {
                taps.push((s, o, wgt as f32));
            }
            s += 1;
        }
    }
    taps
}

/// [`downsampled_ycc`] by a fractional factor `f` ≥ 1 (area averaging): the working image of
/// every image at least 512 px on its short side then has a short side of exactly 256 px, so
/// the detector's cost follows the aspect ratio, not the accident of an integer factor
/// (1024×640 used to be worked on at 512×320, 1024×1024 at 256×256).
pub(super) fn downsampled_ycc_area(
    buf: &[u8],
    w: usize,
    h: usize,
    ch: usize,
    f: f64,
) -> ([Vec<f32>; 3], usize, usize) {
    let ow = ((w as f64 / f).floor() as usize).max(1);
    let oh = ((h as f64 / f).floor() as usize).max(1);
    let (xt, yt) = (area_taps(ow, f), area_taps(oh, f));
    // The taps of every output column, as a range of `xt` (taps are ordered by output column).
    let mut xr = vec![(0usize, 0usize); ow];
    for (i, &(_, ox, _)) in xt.iter().enumerate() {
        if xr[ox].1 == 0 {
            xr[ox].0 = i;
        }
        xr[ox].1 = i + 1;
    }
    let mut out = [
        vec![0f32; ow * oh],
        vec![0f32; ow * oh],
        vec![0f32; ow * oh],
    ];
    let mut rows = vec![0f32; w * 3];
    let mut cols = vec![0f32; ow * 3];
    let mut t = 0;
    for oy in 0..oh {
        rows.iter_mut().for_each(|v| *v = 0.0);
        while t < yt.len() && yt[t].1 == oy {
            let (sy, _, wy) = yt[t];
            let src = &buf[sy * w * ch..(sy + 1) * w * ch];
            if ch == 3 {
                // RGB: the row is accumulated as one flat, vectorisable run (the same products).
                for (a, &p) in rows.iter_mut().zip(src) {
                    *a += p as f32 * wy;
                }
            } else {
                for (a, p) in rows.chunks_exact_mut(3).zip(src.chunks_exact(ch)) {
                    a[0] += p[0] as f32 * wy;
                    a[1] += p[1] as f32 * wy;
                    a[2] += p[2] as f32 * wy;
                }
            }
            t += 1;
        }
        // Each output column's sums are accumulated in registers, in tap order (the same sums
        // as accumulating in `cols`, without a store-to-load chain through memory per tap).
        for (c, &(t0, t1)) in cols.chunks_exact_mut(3).zip(&xr) {
            let mut a = [0f32; 3];
            for &(sx, _, wx) in &xt[t0..t1] {
                let r = &rows[sx * 3..sx * 3 + 3];
                a[0] += r[0] * wx;
                a[1] += r[1] * wx;
                a[2] += r[2] * wx;
            }
            c.copy_from_slice(&a);
        }
        for (ox, c) in cols.chunks_exact(3).enumerate() {
            let l = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
            let i = oy * ow + ox;
            out[0][i] = l;
            out[1][i] = c[2] - l;
            out[2][i] = c[0] - l;
        }
    }
    (out, ow, oh)
}

/// Radius of the local mean removed from every plane (window 2r+1 working pixels).
const MEAN_RADIUS: usize = 2;
/// Radius of the window of the local luma-on-colour regression.
const COLOUR_RADIUS: usize = 8;
/// Ridge term added to the colour residual (co)variances (levels²): faint or noisy colour texture
/// (grey images, JPEG chroma noise) predicts nothing and is left out.
const COLOUR_RIDGE: f32 = 0.5;
/// Radius of the local RMS normalisation, and the clip of the normalised residual.
const RMS_RADIUS: usize = 4;
const CLIP: f32 = 2.5;

/// Detector pre-processing of the working planes (Y, B−Y, R−Y): remove the local mean of each (a
/// crude whitening of the image's 1/f spectrum), cancel the part of the luma residual that the
/// colour residuals predict, divide by the local RMS of what is left (so textured and flat
/// regions, brightness and contrast changes all weigh the same) and clip outliers (edges).
///
/// Colour cancellation: the mark is added to R, G and B alike, so it lives in luma only and is
/// uncorrelated with the colour-difference planes, while shading of coloured texture (foliage,
/// sand, brick, skin) moves luma and colour together. The luma residual is regressed locally
/// (ridge least squares over a (2·COLOUR_RADIUS+1)² window) on the two colour residuals and the
/// prediction is subtracted: much of the host texture goes, the mark stays. Grey images are
/// unaffected. Uses the image only, never the key.
pub(super) fn whiten(p: &[Vec<f32>; 3], w: usize, h: usize) -> Vec<f32> {
    let residual = |c: &[f32]| -> Vec<f32> {
        let m = box_mean(c, w, h, MEAN_RADIUS);
        c.iter().zip(&m).map(|(a, b)| a - b).collect()
    };
    let ry = residual(&p[0]);
    // Grey images (R = G = B everywhere) have no colour texture: nothing to cancel.
    let grey = p[1].iter().chain(p[2].iter()).all(|v| v.abs() < 0.01);
    let out = if grey {
        ry
    } else {
        cancel_colour(&ry, &residual(&p[1]), &residual(&p[2]), w, h)
    };
    let r2: Vec<f32> = out.iter().map(|v| v * v).collect();
    let e = box_mean(&r2, w, h, RMS_RADIUS);
    out.iter()
        .zip(&e)
        .map(|(v, e2)| (v / (e2 + 0.25).sqrt()).clamp(-CLIP, CLIP))
        .collect()
}

/// Luma residual minus its local ridge least-squares prediction from the colour residuals.
fn cancel_colour(ry: &[f32], rb: &[f32], rr: &[f32], w: usize, h: usize) -> Vec<f32> {
    let prod = |a: &[f32], b: &[f32]| -> Vec<f32> {
        let v: Vec<f32> = a.iter().zip(b).map(|(x, y)| x * y).collect();
        box_mean(&v, w, h, COLOUR_RADIUS)
    };
    let (syb, syr) = (prod(ry, rb), prod(ry, rr));
    let (sbb, srr, sbr) = (prod(rb, rb), prod(rr, rr), prod(rb, rr));
    let mut out = vec![0f32; w * h];
    for i in 0..w * h {
        let (a, b, c) = (sbb[i] + COLOUR_RIDGE, srr[i] + COLOUR_RIDGE, sbr[i]);
        let det = a * b - c * c;
        let (kb, kr) = if det > 1e-6 {
            (
                (syb[i] * b - syr[i] * c) / det,
                (syr[i] * a - syb[i] * c) / det,
            )
        } else {
            (0.0, 0.0)
        };
        out[i] = ry[i] - kb * rb[i] - kr * rr[i];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The box mean equals the direct window average (borders shrink the window).
    #[test]
    fn box_mean_matches_direct() {
        for (w, h, r) in [(37usize, 29usize, 2usize), (10, 7, 8), (5, 9, 1)] {
            let src: Vec<f32> = (0..w * h)
                .map(|i| ((i * 7919) % 251) as f32 - 125.0)
                .collect();
            let m = box_mean(&src, w, h, r);
            for y in 0..h {
                for x in 0..w {
                    let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
                    let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
                    let mut s = 0f64;
                    for yy in y0..y1 {
                        for xx in x0..x1 {
                            s += src[yy * w + xx] as f64;
                        }
                    }
                    let d = s / ((x1 - x0) * (y1 - y0)) as f64;
                    assert!((m[y * w + x] as f64 - d).abs() < 1e-3, "{x},{y}");
                }
            }
        }
    }

    /// Area averaging by an integer factor is the block mean; a fractional factor keeps the mean
    /// level and gives a short side of exactly `short / f` pixels.
    #[test]
    fn area_downsampling() {
        let (w, h, ch) = (37usize, 29usize, 3usize);
        let buf: Vec<u8> = (0..w * h * ch).map(|i| ((i * 131) % 251) as u8).collect();
        let (a, aw, ah) = downsampled_ycc(&buf, w, h, ch, 3);
        let (b, bw, bh) = downsampled_ycc_area(&buf, w, h, ch, 3.0);
        assert_eq!((aw, ah), (bw, bh));
        for (pa, pb) in a.iter().zip(&b) {
            for (x, y) in pa.iter().zip(pb) {
                assert!((x - y).abs() < 1e-3, "{x} vs {y}");
            }
        }
        let flat = vec![100u8; 300 * 200 * 4];
        let (c, cw, chh) = downsampled_ycc_area(&flat, 300, 200, 4, 200.0 / 128.0);
        assert_eq!((cw, chh), (192, 128));
        assert!(c[0].iter().all(|v| (v - 100.0).abs() < 1e-3));
        assert!(c[1].iter().chain(&c[2]).all(|v| v.abs() < 1e-3));
    }
}
