//! Band-limited resampler (Blackman-windowed sinc). Used by the detector to bring any input rate
//! down to the internal analysis rate, and to undo candidate speed changes. Rational ratios with a
//! small number of phases use a precomputed polyphase bank (fast path); others interpolate a finely
//! tabulated kernel.

const ZERO_CROSSINGS: usize = 8;
const TABLE_RES: usize = 512;
/// Accumulator lanes of the polyphase inner product.
const LANES: usize = 8;

/// Inner product of two equal-length slices whose length is a multiple of `LANES`, on `LANES`
/// independent accumulators (which the compiler vectorises).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    for (x, y) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum()
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn kernel(u: f64) -> f64 {
    // u in input-normalised sinc units; window spans |u| <= ZERO_CROSSINGS
    let z = ZERO_CROSSINGS as f64;
    if u.abs() >= z {
        return 0.0;
    }
    let s = if u.abs() < 1e-12 {
        1.0
    } else {
        (std::f64::consts::PI * u).sin() / (std::f64::consts::PI * u)
    };
    let x = (u / z + 1.0) * 0.5; // 0..1
    let w = 0.42 - 0.5 * (2.0 * std::f64::consts::PI * x).cos()
        + 0.08 * (4.0 * std::f64::consts::PI * x).cos();
    s * w
}

/// Resample `input` from `in_rate` to `out_rate`. `cutoff_hz` is the pass-band edge (<= both Nyquists).
/// `time_scale` > 1 reads the input faster (undoes a slow-down by that factor).
pub(super) fn resample(input: &[f32], in_rate: f64, out_rate: f64, cutoff_hz: f64) -> Vec<f32> {
    resample_with(input.len(), in_rate, out_rate, cutoff_hz, |start, buf| {
        buf.copy_from_slice(&input[start..start + buf.len()])
    })
}

/// Outputs computed per block of the polyphase path: the input they need is produced into a
/// small buffer by `fill`, so a signal derived from another (a down-mix) is never stored whole.
const BLOCK: usize = 4096;

/// [`resample`] of a signal of `len` samples that `fill(start, buf)` writes on demand (samples
/// `start..start + buf.len()`, always within `0..len`). The polyphase path asks for it block
/// by block; the general path asks for all of it at once.
pub(super) fn resample_with(
    len: usize,
    in_rate: f64,
    out_rate: f64,
    cutoff_hz: f64,
    mut fill: impl FnMut(usize, &mut [f32]),
) -> Vec<f32> {
    if len == 0 || in_rate.is_nan() || out_rate.is_nan() || in_rate <= 0.0 || out_rate <= 0.0 {
        return Vec::new();
    }
    let step = in_rate / out_rate; // input samples per output sample
    let out_len = ((len - 1) as f64 / step).floor() as usize + 1;
    let lambda = (2.0 * cutoff_hz / in_rate).min(1.0); // normalised cutoff in input samples
    let half = (ZERO_CROSSINGS as f64 / lambda).ceil() as isize;
    let taps = (2 * half + 1) as usize;

    // fast path: integer rates with a small number of phases
    let ir = in_rate.round();
    let or = out_rate.round();
    if (ir - in_rate).abs() < 1e-9 && (or - out_rate).abs() < 1e-9 {
        let g = gcd(ir as u64, or as u64);
        let up = (or as u64 / g) as usize; // phases
        let down = (ir as u64 / g) as usize;
        if up <= 2048 && up * taps <= 400_000 {
            // output n sits at input position n*down/up = base + phase/up. Each phase's kernel
            // is padded with zeros to a multiple of LANES taps so the inner product runs on
            // LANES independent accumulators (vectorised; the sum order differs from a scalar
            // loop by float rounding only).
            let padded = taps.div_ceil(LANES) * LANES;
            let mut bank = vec![0f32; up * padded];
            for p in 0..up {
                let frac = p as f64 / up as f64;
                for t in 0..taps {
                    let x = (t as isize - half) as f64 - frac;
                    bank[p * padded + t] = (lambda * kernel(lambda * x)) as f32;
                }
            }
            let mut out = Vec::with_capacity(out_len);
            let mut buf: Vec<f32> = Vec::new();
            let ilen = len as isize;
            for n0 in (0..out_len).step_by(BLOCK) {
                let n1 = (n0 + BLOCK).min(out_len);
                // input window of the block, zero outside the signal
                let lo = (n0 * down / up) as isize - half;
                let hi = ((n1 - 1) * down / up) as isize - half + padded as isize;
                buf.clear();
                buf.resize((hi - lo) as usize, 0.0);
                let (a, b) = (lo.max(0), hi.min(ilen));
                if a < b {
                    fill(a as usize, &mut buf[(a - lo) as usize..(b - lo) as usize]);
                }
                for n in n0..n1 {
                    let num = n * down;
                    let p = num % up;
                    let k = &bank[p * padded..(p + 1) * padded];
                    let start = ((num / up) as isize - half - lo) as usize;
                    out.push(dot(&buf[start..start + padded], k));
                }
            }
            return out;
        }
    }
    let mut whole = vec![0f32; len];
    fill(0, &mut whole);
    let input = &whole[..];

    // general path: tabulated kernel with linear interpolation
    let table: Vec<f32> = (0..=ZERO_CROSSINGS * TABLE_RES + 1)
        .map(|i| kernel(i as f64 / TABLE_RES as f64) as f32)
        .collect();
    let mut out = Vec::with_capacity(out_len);
    let len = len as isize;
    let lam = lambda as f32;
    for n in 0..out_len {
        let t = n as f64 * step;
        let c = t.floor() as isize;
        let frac = (t - c as f64) as f32;
        let mut a = 0f32;
        for j in -half..=half {
            let i = c + j;
            if i < 0 || i >= len {
                continue;
            }
            let u = (lam * (j as f32 - frac)).abs() * TABLE_RES as f32;
            let idx = u as usize;
            if idx + 1 >= table.len() {
                continue;
            }
            let f = u - idx as f32;
            let h = table[idx] + (table[idx + 1] - table[idx]) * f;
            a += input[i as usize] * h;
        }
        out.push(a * lam);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn tone_survives_decimation() {
        let fs = 44100.0;
        let x: Vec<f32> = (0..44100)
            .map(|i| (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / fs).sin() as f32)
            .collect();
        let y = resample(&x, fs, 8000.0, 3800.0);
        assert_eq!(y.len(), 8000);
        for (n, v) in y.iter().enumerate().skip(100).take(7000) {
            let e = (2.0 * std::f64::consts::PI * 1000.0 * n as f64 / 8000.0).sin() as f32;
            assert!((v - e).abs() < 0.01, "{n}: {v} vs {e}");
        }
        let y2 = resample(&x, 44100.0 * 1.0001, 8000.0, 3800.0);
        assert!(!y2.is_empty());
    }
}
