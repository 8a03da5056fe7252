//! Embedding: keyed, envelope-shaped multiplicative modulation of the STFT of the mono mix inside
//! 450-7425 Hz, overlap-added in the time domain and given to each channel in proportion to its
//! local level.
//!
//! Steps: mono mix -> (44.1/48 kHz and up) half-band decimation to 22.05/24 kHz -> per frame
//! (20 ms hop, 40 ms sqrt-Hann window) the unit mark `s * min(env/|X|, RATIO_CAP) * X` per
//! band bin (`s` the cell's signed amplitude from `Layout::signs`), inverse FFT and overlap-add -> half-band interpolation back to the input rate ->
//! per channel level ratio and 1 ms guard limits -> one global strength solved so the guarded
//! mark meets the SNR target (per-block energy and peak make unclipped blocks exact without a
//! pass over the samples) -> add.

use realfft::RealFftPlanner;
use realfft::num_complex::Complex32;

use super::conv;
use super::layout::{BAND_LO_HZ, CELL_HZ, CELLS, Layout, PERIOD};
use super::{EmbedOptions, EmbedReport, WatermarkKey, WmError};

/// Cap of envelope/magnitude per bin: in spectral valleys the mark is at most RATIO_CAP x alpha
/// times the bin (alpha ~0.02-0.1, so valleys are changed by at most ~15-80 %).
const RATIO_CAP: f32 = 8.0;
/// Half-width in bins (25 Hz) of the envelope smoother: +-400 Hz, so the mark fills the valleys
/// between speech harmonics (capped by RATIO_CAP) instead of sitting only on the peaks.
const ENV_HALF: usize = 16;
/// Bounds of the nominal relative strength against the spectral envelope.
const ALPHA_MIN: f32 = 0.01;
const ALPHA_MAX: f32 = 0.15;
const ALPHA_START: f32 = 0.05;
/// Time-domain guard: |mark| <= GUARD x local host peak (1 ms blocks), so silence stays silent
/// and there is no pre-echo into quiet gaps.
const GUARD: f32 = 0.5;
/// Largest |x| of finite samples (integer max on the magnitude bits, which orders like the value
/// for non-negative floats and vectorises).
fn abs_max(it: impl Iterator<Item = f32>) -> f32 {
    f32::from_bits(it.fold(0u32, |m, v| m.max(v.to_bits() & 0x7fff_ffff)))
}

pub(super) fn hop_for_rate(rate: u32) -> usize {
    ((rate as f64) / 50.0).round().max(1.0) as usize
}

/// The mark at unit strength for a mono signal of `len` samples at `rate`: per STFT bin in the
/// band `s * min(env/|X|, RATIO_CAP) * X` (`s` the cell's signed amplitude), overlap-added.
/// The signal is read a hop at a time, in order, through `fill(start, buf)` (samples
/// `start..start + buf.len()`, all inside `0..len`), so it need not be stored. The result has
/// `pad` zeros on each side (what [`FullRate`] interpolates from).
fn unit_mark(
    len: usize,
    rate: u32,
    signs: &[f32],
    pad: usize,
    mut fill: impl FnMut(usize, &mut [f32]),
) -> Result<Vec<f32>, WmError> {
    let hop = hop_for_rate(rate);
    let n = 2 * hop;
    // bin -> cell map at this rate
    let bin_hz = rate as f64 / n as f64;
    let nyq_bin = n / 2;
    let mut k_lo = usize::MAX;
    let mut k_hi = 0usize;
    for k in 0..=nyq_bin {
        let f = k as f64 * bin_hz;
        if f >= BAND_LO_HZ && f < BAND_LO_HZ + CELL_HZ * CELLS as f64 && k < nyq_bin {
            k_lo = k_lo.min(k);
            k_hi = k_hi.max(k);
        }
    }
    if k_lo > k_hi {
        return Err(WmError::UnsupportedSampleRate(rate));
    }
    let cell_of: Vec<usize> = (k_lo..=k_hi)
        .map(|k| (((k as f64 * bin_hz) - BAND_LO_HZ) / CELL_HZ).floor() as usize)
        .collect();
    let env_half = ENV_HALF;
    let env_lo = k_lo.saturating_sub(env_half);
    let env_hi = (k_hi + env_half).min(nyq_bin);

    let window: Vec<f32> = (0..n)
        .map(|i| (std::f32::consts::PI * i as f32 / n as f32).sin())
        .collect();
    let mut planner = RealFftPlanner::<f32>::new();
    let fwd = planner.plan_fft_forward(n);
    let inv = planner.plan_fft_inverse(n);
    let mut tbuf = fwd.make_input_vec();
    let mut spec = fwd.make_output_vec();
    let mut mspec = inv.make_input_vec();
    let mut scratch_f = fwd.make_scratch_vec();
    let mut scratch_i = inv.make_scratch_vec();
    let mut prefix = vec![0f64; env_hi - env_lo + 2];
    // per band bin: envelope window as prefix indices [a, b) and 1 / its width
    let env_span: Vec<(usize, usize)> = (k_lo..=k_hi)
        .map(|k| {
            (
                k.saturating_sub(env_half).max(env_lo) - env_lo,
                (k + env_half).min(env_hi) - env_lo + 1,
            )
        })
        .collect();
    let env_inv: Vec<f32> = env_span
        .iter()
        .map(|&(a, b)| 1.0 / (b - a) as f32)
        .collect();

    // The mark at unit strength: per bin  s * min(env/|X|, RATIO_CAP) * X, i.e. magnitude
    // |s| * env (env the local spectral envelope) with the host's phase, exactly linear in alpha.
    let mut mark = vec![0f32; len + 2 * pad];
    let norm = 1.0 / n as f32;
    let nframes = len.div_ceil(hop);
    // the frame's samples (zero outside the signal): its first half is the previous frame's
    // second half, its second half is read
    let mut cur = vec![0f32; n];
    for f in -1..nframes as isize {
        let start = f * hop as isize;
        let interior = start >= 0 && start as usize + n <= len;
        cur.copy_within(hop.., 0);
        let next = (start + hop as isize) as usize;
        let (new, end) = (&mut cur[hop..], (next + hop).min(len));
        new.fill(0.0);
        if next < end {
            fill(next, &mut new[..end - next]);
        }
        for ((t, &x), &w) in tbuf.iter_mut().zip(&cur).zip(&window) {
            *t = x * w;
        }
        let energy: f32 = tbuf.iter().map(|t| t * t).sum();
        if energy <= 1e-20
            || fwd
                .process_with_scratch(&mut tbuf, &mut spec, &mut scratch_f)
                .is_err()
        {
            continue;
        }
        prefix[0] = 0.0;
        for k in env_lo..=env_hi {
            prefix[k - env_lo + 1] = prefix[k - env_lo] + spec[k].norm_sqr() as f64;
        }
        let row = &signs[f.rem_euclid(PERIOD as isize) as usize * CELLS..][..CELLS];
        mspec.iter_mut().for_each(|c| *c = Complex32::new(0.0, 0.0));
        for ((((&x, &cell), m), &(a, b)), &iw) in spec[k_lo..=k_hi]
            .iter()
            .zip(&cell_of)
            .zip(&mut mspec[k_lo..=k_hi])
            .zip(&env_span)
            .zip(&env_inv)
        {
            let env = ((prefix[b] - prefix[a]) as f32 * iw).sqrt();
            let mag = x.norm_sqr().sqrt();
            if mag <= 1e-12 * env.max(1e-30) || mag == 0.0 {
                continue;
            }
            let g = (env / mag).min(RATIO_CAP);
            *m = x * (g * row[cell]);
        }
        if inv
            .process_with_scratch(&mut mspec, &mut tbuf, &mut scratch_i)
            .is_err()
        {
            continue;
        }
        if interior {
            let s = start as usize + pad;
            for ((m, &t), &w) in mark[s..s + n].iter_mut().zip(&tbuf).zip(&window) {
                *m += t * w * norm;
            }
        } else {
            for (i, t) in tbuf.iter().enumerate() {
                let p = start + i as isize;
                if p >= 0 && (p as usize) < len {
                    mark[p as usize + pad] += t * window[i] * norm;
                }
            }
        }
    }

    Ok(mark)
}

/// Half-band low-pass taps at odd offsets 1, 3, .., 2*HB_TAPS-1 (centre tap 1/2, even taps 0):
/// Blackman-windowed sinc, unit DC gain; flat (-0.01 dB) to 7.8 kHz and >= 58 dB down from
/// 14.2 kHz at 44.1 kHz.
const HB_TAPS: usize = 8;

fn halfband() -> [f32; HB_TAPS] {
    let l = (2 * HB_TAPS + 1) as f64;
    let mut h = [0f64; HB_TAPS];
    for (i, v) in h.iter_mut().enumerate() {
        let j = (2 * i + 1) as f64;
        let x = std::f64::consts::PI * j / 2.0;
        let w = 0.42
            + 0.5 * (std::f64::consts::PI * j / l).cos()
            + 0.08 * (2.0 * std::f64::consts::PI * j / l).cos();
        *v = 0.5 * x.sin() / x * w;
    }
    let s: f64 = h.iter().sum();
    h.map(|v| (v * 0.25 / s) as f32)
}

/// Outputs computed per pass of the polyphase filters (keeps the working set in cache).
const FIR_CHUNK: usize = 4096;

/// `out[m] += sum_i h[i] * (p[m + P - 1 - i] + p[m + P + i])` for a zero-padded phase `p`
/// (`P = HB_TAPS` zeros each side), in cache-sized chunks (vectorises).
fn symmetric_fir(out: &mut [f32], p: &[f32], h: &[f32; HB_TAPS], gain: f32) {
    for (ci, o) in out.chunks_mut(FIR_CHUNK).enumerate() {
        let base = ci * FIR_CHUNK;
        let n = o.len();
        for (i, &hi) in h.iter().enumerate() {
            let g = hi * gain;
            let a = &p[base + HB_TAPS - 1 - i..][..n];
            let b = &p[base + HB_TAPS + i..][..n];
            for ((o, &u), &v) in o.iter_mut().zip(a).zip(b) {
                *o += g * (u + v);
            }
        }
    }
}

/// Low-pass and keep every other sample (length `ceil(len / 2)`). Polyphase: the even samples
/// pass with weight 1/2 (centre tap), the odd ones through the symmetric taps.
fn half_down(x: &[f32]) -> Vec<f32> {
    half_down_parts(
        x.len(),
        x.iter().step_by(2).copied(),
        x.iter().skip(1).step_by(2).copied(),
    )
}

/// [`half_down`] of a signal of `len` samples given as its even and its odd samples (so a
/// down-mix can be decimated without being stored at the full rate).
fn half_down_parts(
    len: usize,
    even: impl Iterator<Item = f32>,
    odd_samples: impl Iterator<Item = f32>,
) -> Vec<f32> {
    let h = halfband();
    let mut out: Vec<f32> = even.map(|v| 0.5 * v).collect();
    let mut odd = vec![0f32; len / 2 + 2 * HB_TAPS];
    for (o, v) in odd[HB_TAPS..].iter_mut().zip(odd_samples) {
        *o = v;
    }
    debug_assert_eq!(out.len(), len.div_ceil(2));
    symmetric_fir(&mut out, &odd, &h, 1.0);
    out
}

/// Insert a sample between every two and low-pass (gain 2 to keep the level), `out_len` samples
/// (`out_len <= 2 * z.len()`).
fn half_up(z: &[f32], out_len: usize) -> Vec<f32> {
    let h = halfband();
    let mut zp = vec![0f32; z.len() + 2 * HB_TAPS];
    zp[HB_TAPS..HB_TAPS + z.len()].copy_from_slice(z);
    // odd outputs: out[2m + 1] = 2 sum_i h_i (z[m - i] + z[m + 1 + i])
    let mut odd = vec![0f32; out_len / 2];
    symmetric_fir(&mut odd, &zp[1..], &h, 2.0);
    let mut out = vec![0f32; out_len];
    for (m, pair) in out.chunks_mut(2).enumerate() {
        pair[0] = z[m];
        if pair.len() == 2 {
            pair[1] = odd[m];
        }
    }
    out
}

/// A stored sample the embedder reads as `f32` (nominal -1..1) and adds the mark to: `f32`
/// itself, or 16-bit PCM (`i16`, or the two little-endian bytes of a WAV `data` chunk, so a
/// file's samples are marked where they lie, without a float copy of the whole file).
pub(super) trait Sample: Copy {
    /// The value, nominal range -1..1.
    fn get(self) -> f32;
    /// Adds `d` (rounded and clamped to the storage's range).
    fn add(&mut self, d: f32);
    /// True if every value is finite (integer storage always is).
    fn all_finite(s: &[Self]) -> bool;
    /// The samples themselves when they are stored as `f32`.
    fn as_f32(_: &[Self]) -> Option<&[f32]> {
        None
    }
}

impl Sample for f32 {
    #[inline]
    fn get(self) -> f32 {
        self
    }
    #[inline]
    fn add(&mut self, d: f32) {
        *self += d;
    }
    fn all_finite(s: &[Self]) -> bool {
        super::all_finite(s)
    }
    fn as_f32(s: &[Self]) -> Option<&[f32]> {
        Some(s)
    }
}

/// `v + d * 32768` rounded half away from zero (in f64: exact for these magnitudes, as
/// `f64::round`, without a libm call) and clamped to the i16 range.
#[inline]
fn add_i16(v: i16, d: f32) -> i16 {
    let y = f64::from(v) + f64::from(d) * 32768.0;
    ((y + 0.5f64.copysign(y)) as i32).clamp(-32768, 32767) as i16
}

impl Sample for i16 {
    #[inline]
    fn get(self) -> f32 {
        f32::from(self) / 32768.0
    }
    #[inline]
    fn add(&mut self, d: f32) {
        *self = add_i16(*self, d);
    }
    fn all_finite(_: &[Self]) -> bool {
        true
    }
}

impl Sample for [u8; 2] {
    #[inline]
    fn get(self) -> f32 {
        f32::from(i16::from_le_bytes(self)) / 32768.0
    }
    #[inline]
    fn add(&mut self, d: f32) {
        *self = add_i16(i16::from_le_bytes(*self), d).to_le_bytes();
    }
    fn all_finite(_: &[Self]) -> bool {
        true
    }
}

/// 1 ms blocks whose mark is interpolated at once in the passes over the samples.
const GROUP: usize = 64;

/// Odd samples interpolated per pass of [`FullRate::at`] (longer stretches take several).
const ODD_MAX: usize = 64;

/// The mark at the input rate, read a stretch at a time: either stored at that rate, or one
/// half-band interpolation step above what is stored, computed for the samples asked for
/// (the values [`half_up`] gives: the same taps in the same order).
struct FullRate {
    /// the stored mark, with `HB_TAPS` zeros on each side when interpolated
    z: Vec<f32>,
    up: bool,
    g: [f32; HB_TAPS],
}

impl FullRate {
    fn new(mark: Vec<f32>, up: bool) -> Self {
        let z = if up {
            let mut zp = vec![0f32; mark.len() + 2 * HB_TAPS];
            zp[HB_TAPS..HB_TAPS + mark.len()].copy_from_slice(&mark);
            zp
        } else {
            mark
        };
        Self::padded(z, up)
    }

    /// From a mark that already has its `HB_TAPS` zeros on each side when `up`.
    fn padded(z: Vec<f32>, up: bool) -> Self {
        FullRate {
            z,
            up,
            g: halfband().map(|h| h * 2.0),
        }
    }

    /// Samples `s..t` of the mark at the input rate (in `buf`).
    fn at<'a>(&self, s: usize, t: usize, buf: &'a mut Vec<f32>) -> &'a [f32] {
        buf.clear();
        if !self.up {
            buf.extend_from_slice(&self.z[s..t]);
            return buf;
        }
        let zp = &self.z;
        // the odd samples of the stretch first, tap by tap (a loop over m that vectorises),
        // then interleaved with the even ones: out[2m + 1] = 2 sum_i h_i (z[m - i] + z[m + 1 + i])
        let (m0, m1) = (s / 2, t.div_ceil(2));
        let mut odd = [0f32; ODD_MAX];
        for c in (m0..m1).step_by(ODD_MAX) {
            let n = (m1 - c).min(ODD_MAX);
            let odd = &mut odd[..n];
            odd.fill(0.0);
            for (i, &g) in self.g.iter().enumerate() {
                let a = &zp[c + HB_TAPS - i..][..n];
                let b = &zp[c + HB_TAPS + 1 + i..][..n];
                for ((o, &u), &v) in odd.iter_mut().zip(a).zip(b) {
                    *o += g * (u + v);
                }
            }
            let lo = (2 * c).max(s);
            let hi = (2 * (c + n)).min(t);
            buf.extend((lo..hi).map(|k| {
                if k % 2 == 0 {
                    zp[HB_TAPS + k / 2]
                } else {
                    odd[k / 2 - c]
                }
            }));
        }
        buf
    }
}

pub(super) fn embed_f32<S: Sample>(
    samples: &mut [S],
    channels: usize,
    rate: u32,
    payload: &[u8; 8],
    key: &WatermarkKey,
    opts: &EmbedOptions,
) -> Result<EmbedReport, WmError> {
    super::validate(samples.len(), channels, rate)?;
    if !(opts.strength.is_finite() && opts.strength > 0.0) {
        return Err(WmError::BadStrength(opts.strength));
    }
    if !opts.target_snr_db.is_finite() {
        return Err(WmError::BadStrength(opts.target_snr_db as f32));
    }
    if !S::all_finite(samples) {
        return Err(WmError::NonFinite);
    }
    let len = samples.len() / channels;
    let hop = hop_for_rate(rate);
    let n = 2 * hop;
    if len < n {
        return Err(WmError::TooShort {
            got_seconds: len as f64 / rate as f64,
            need_seconds: n as f64 / rate as f64,
        });
    }
    let target_snr_db = opts.target_snr_db - 20.0 * opts.strength.log10() as f64;
    let periods = len as f64 / (hop * PERIOD) as f64;
    let seconds = len as f64 / rate as f64;

    // mono mix; stereo at 44.1/48 kHz is decimated straight from the interleaved samples below
    // (the mix is never stored at the full rate)
    let inv_c = 1.0 / channels as f32;
    let fused = channels == 2 && rate.is_multiple_of(100) && rate >= 44_100;
    let mid: Vec<f32> = match channels {
        _ if fused => Vec::new(),
        1 => Vec::new(),
        2 => samples
            .chunks_exact(2)
            .map(|c| (c[0].get() + c[1].get()) * inv_c)
            .collect(),
        _ => samples
            .chunks_exact(channels)
            .map(|c| c.iter().map(|v| v.get()).sum::<f32>() * inv_c)
            .collect(),
    };
    // mono input is read in place when stored as f32, else converted once
    let converted: Vec<f32> = match S::as_f32(samples) {
        None if channels == 1 => samples.iter().map(|v| v.get()).collect(),
        _ => Vec::new(),
    };
    let mono: &[f32] = match (channels, S::as_f32(samples)) {
        (1, Some(s)) => s,
        (1, None) => &converted,
        _ => &mid,
    };

    let layout = Layout::new(&key.0);
    let coded = conv::encode(payload);
    let signs = layout.signs(&coded);

    // The unit mark is computed on the mono mix brought down by half-band decimation to
    // 22.05 / 24 kHz (the band ends at 7.4 kHz), then interpolated back: half the FFT work.
    let halves = |r: u32| r.is_multiple_of(100) && r >= 44_100;
    let mark = if fused && !halves(rate / 2) {
        // one step, stereo: decimated from the interleaved samples a hop at a time, as
        // `half_down_parts` would (the mix is stored at no rate)
        let mix = |fr: usize| (samples[2 * fr].get() + samples[2 * fr + 1].get()) * inv_c;
        let (h, odd_count) = (halfband(), len / 2);
        let mut odd = Vec::new();
        let mark = unit_mark(len.div_ceil(2), rate / 2, &signs, HB_TAPS, |a, buf| {
            // odd samples a - HB_TAPS .. a + buf.len() + HB_TAPS, zero outside the signal
            odd.clear();
            odd.extend(
                (0..buf.len() + 2 * HB_TAPS).map(|k| match (a + k).checked_sub(HB_TAPS) {
                    Some(q) if q < odd_count => mix(2 * q + 1),
                    _ => 0.0,
                }),
            );
            for (j, o) in buf.iter_mut().enumerate() {
                *o = 0.5 * mix(2 * (a + j));
            }
            symmetric_fir(buf, &odd, &h, 1.0);
        })?;
        FullRate::padded(mark, true)
    } else {
        let mut lens = vec![len];
        let mut srate = rate;
        let mut low: Option<Vec<f32>> = None;
        if fused {
            let mix = |c: &[S]| (c[0].get() + c[1].get()) * inv_c;
            let frames = samples.chunks_exact(2);
            let d = half_down_parts(
                len,
                frames.clone().step_by(2).map(mix),
                frames.skip(1).step_by(2).map(mix),
            );
            lens.push(d.len());
            low = Some(d);
            srate /= 2;
        }
        while halves(srate) {
            let d = half_down(low.as_deref().unwrap_or(mono));
            lens.push(d.len());
            low = Some(d);
            srate /= 2;
        }
        let x = low.as_deref().unwrap_or(mono);
        // padded for `FullRate` when one interpolation step is left
        let pad = if lens.len() == 2 { HB_TAPS } else { 0 };
        let mut mark = unit_mark(x.len(), srate, &signs, pad, |a, buf| {
            buf.copy_from_slice(&x[a..a + buf.len()]);
        })?;
        drop(low);
        if lens.len() > 2 {
            // all interpolation steps but the last one here; the last one as the samples are
            // visited (the mark is never stored at the input rate)
            for w in lens.windows(2).skip(1).rev() {
                mark = half_up(&mark, w[0]);
            }
            FullRate::new(mark, true)
        } else {
            FullRate::padded(mark, lens.len() == 2)
        }
    };

    // Per-channel level ratio per hop block, so each channel's mark follows its own level and the
    // down-mix carries exactly `mark`; host energy; guard limit of every 1 ms block.
    let nblocks = len.div_ceil(hop);
    let blk = ((rate as f64) / 1000.0).round().max(4.0) as usize;
    let nblk = len.div_ceil(blk);
    // energy of the mono mix per hop block (stereo: in the pass below)
    let mut mid_e: Vec<f32> = match channels {
        1 => Vec::new(),
        2 => vec![0f32; nblocks],
        _ => mid
            .chunks(hop)
            .map(|c| c.iter().map(|v| v * v).sum())
            .collect(),
    };
    // one pass over the samples: per channel, energy of every hop block and peak of every 1 ms
    // block (blocks never straddle a hop boundary's channel order: both are whole frames)
    let mut host_e = 0f64;
    let mut ch_e = vec![0f32; channels * nblocks];
    let mut peaks = vec![0u32; channels * nblk];
    for (h, c) in samples.chunks(hop * channels).enumerate() {
        let e = &mut ch_e[h * channels..(h + 1) * channels];
        if channels == 2 {
            // local accumulators (a store per sample otherwise)
            let (mut e0, mut e1, mut em) = (0f32, 0f32, 0f32);
            for fr in c.chunks_exact(2) {
                let (a, b) = (fr[0].get(), fr[1].get());
                e0 += a * a;
                e1 += b * b;
                let m = (a + b) * inv_c;
                em += m * m;
            }
            e[0] = e0;
            e[1] = e1;
            mid_e[h] = em;
        } else {
            for fr in c.chunks_exact(channels) {
                for (e, &v) in e.iter_mut().zip(fr) {
                    *e += v.get() * v.get();
                }
            }
        }
        host_e += e.iter().map(|&v| v as f64).sum::<f64>();
    }
    for (b, c) in samples.chunks(blk * channels).enumerate() {
        let pk = &mut peaks[b * channels..(b + 1) * channels];
        if channels == 2 {
            let (mut m0, mut m1) = (0u32, 0u32);
            for fr in c.chunks_exact(2) {
                m0 = m0.max(fr[0].get().to_bits() & 0x7fff_ffff);
                m1 = m1.max(fr[1].get().to_bits() & 0x7fff_ffff);
            }
            pk[0] = m0;
            pk[1] = m1;
        } else {
            for fr in c.chunks_exact(channels) {
                for (m, &v) in pk.iter_mut().zip(fr) {
                    *m = (*m).max(v.get().to_bits() & 0x7fff_ffff);
                }
            }
        }
    }
    let mut ratios: Vec<Vec<f32>> = Vec::with_capacity(channels);
    let mut lims: Vec<Vec<f32>> = Vec::with_capacity(channels);
    for ch in 0..channels {
        if channels == 1 {
            ratios.push(vec![1.0; nblocks]);
        } else {
            ratios.push(
                mid_e
                    .iter()
                    .enumerate()
                    .map(|(h, &em)| {
                        if em > 1e-24 {
                            (ch_e[h * channels + ch] / em).sqrt().min(4.0)
                        } else {
                            0.0
                        }
                    })
                    .collect(),
            );
        }
        let pk = |b: usize| f32::from_bits(peaks[b * channels + ch]);
        let lim: Vec<f32> = (0..nblk)
            .map(|b| {
                let lo = if b > 0 { pk(b - 1) } else { 0.0 };
                let hi = if b + 1 < nblk { pk(b + 1) } else { 0.0 };
                GUARD * pk(b).max(lo).max(hi)
            })
            .collect();
        lims.push(lim);
    }
    // The unit mark of channel `ch` in 1 ms block `b` is `mark * ratio` where the ratio changes at
    // most once inside the block (blocks are shorter than a hop): visit it as at most two runs.
    let runs = |ch: usize, b: usize| {
        let (s, e) = (b * blk, ((b + 1) * blk).min(len));
        let h = s / hop;
        let mid_end = ((h + 1) * hop).clamp(s, e);
        let r = &ratios[ch];
        [
            (s, mid_end, r[h]),
            (mid_end, e, if mid_end < e { r[h + 1] } else { 0.0 }),
        ]
    };
    // per (channel, block): energy and peak of the unit mark, so a block that the guard does not
    // clip scales exactly with the strength; the two runs' energy and peak are channel-free
    // (the mark is interpolated a group of blocks at a time: the values do not depend on the
    // stretch asked for)
    let groups = (0..nblk).step_by(GROUP).map(|g| (g, (g + GROUP).min(nblk)));
    let stretch = |(b0, b1): (usize, usize), buf: &mut Vec<f32>| {
        let s = b0 * blk;
        mark.at(s, (b1 * blk).min(len), buf);
        s
    };
    let mut run_ep = vec![[0f32; 4]; nblk];
    let mut seg_buf = Vec::with_capacity(GROUP * blk);
    for g in groups.clone() {
        let base = stretch(g, &mut seg_buf);
        for (b, ep) in run_ep[g.0..g.1].iter_mut().enumerate() {
            for (j, (s, t, _)) in runs(0, g.0 + b).into_iter().enumerate() {
                let seg = &seg_buf[s - base..t - base];
                ep[2 * j] = seg.iter().map(|v| v * v).sum::<f32>();
                ep[2 * j + 1] = abs_max(seg.iter().copied());
            }
        }
    }
    let mut blk_e = vec![0f32; channels * nblk];
    let mut blk_m = vec![0f32; channels * nblk];
    for ch in 0..channels {
        for (b, ep) in run_ep.iter().enumerate() {
            let [(_, _, g0), (_, _, g1)] = runs(ch, b);
            blk_e[ch * nblk + b] = g0 * g0 * ep[0] + g1 * g1 * ep[2];
            blk_m[ch * nblk + b] = (g0 * ep[1]).max(g1 * ep[3]);
        }
    }
    let guarded_energy = |scale: f32| -> f64 {
        let mut buf = Vec::with_capacity(blk);
        let mut e = 0f64;
        for ch in 0..channels {
            for b in 0..nblk {
                let l = lims[ch][b];
                if blk_m[ch * nblk + b] * scale <= l {
                    e += (blk_e[ch * nblk + b] * scale * scale) as f64;
                    continue;
                }
                let mut eb = 0f32;
                for (s, t, g) in runs(ch, b) {
                    for v in mark.at(s, t, &mut buf) {
                        let w = (v * g * scale).clamp(-l, l);
                        eb += w * w;
                    }
                }
                e += eb as f64;
            }
        }
        e
    };
    // rescale the guarded mark onto the SNR target (two corrections; the guard makes the
    // energy slightly sub-linear in the scale)
    let allowed_total = host_e / 10f64.powf(target_snr_db / 10.0);
    let mut scale = ALPHA_START;
    for _ in 0..2 {
        let mark_e = guarded_energy(scale);
        if mark_e <= 0.0 {
            break;
        }
        scale = (scale * (allowed_total / mark_e).sqrt() as f32).clamp(ALPHA_MIN, ALPHA_MAX);
    }
    // the energy added per (channel, block), summed in that order below
    let mut added = vec![0f32; channels * nblk];
    // hop frames (20 ms) that received some of the mark in some channel
    let mut marked = vec![false; nblocks];
    for g in groups {
        let base = stretch(g, &mut seg_buf);
        for ch in 0..channels {
            for b in g.0..g.1 {
                let l = lims[ch][b];
                if blk_e[ch * nblk + b] > 0.0 && l > 0.0 {
                    marked[(b * blk / hop).min(nblocks - 1)] = true;
                }
                let unclipped = blk_m[ch * nblk + b] * scale <= l;
                let mut eb = 0f32;
                for (s, t, g) in runs(ch, b) {
                    let gs = g * scale;
                    let pairs = seg_buf[s - base..t - base]
                        .iter()
                        .zip(samples[s * channels..t * channels].chunks_exact_mut(channels));
                    if unclipped {
                        // not clipped by the guard: plain scaled add, energy known
                        for (v, x) in pairs {
                            x[ch].add(v * gs);
                        }
                    } else {
                        for (v, x) in pairs {
                            let w = (v * gs).clamp(-l, l);
                            x[ch].add(w);
                            eb += w * w;
                        }
                    }
                }
                added[ch * nblk + b] = if unclipped {
                    blk_e[ch * nblk + b] * scale * scale
                } else {
                    eb
                };
            }
        }
    }
    let added_e = added.iter().fold(0f64, |e, &v| e + v as f64);
    let snr_db = if added_e > 0.0 {
        10.0 * (host_e / added_e).log10()
    } else {
        f64::INFINITY
    };
    Ok(EmbedReport {
        snr_db,
        alpha: scale,
        seconds,
        periods,
        marked_frames: marked.iter().filter(|&&m| m).count(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The interpolation done as the samples are visited is `half_up`'s, value for value,
    /// whatever stretches it is asked for.
    #[test]
    fn full_rate_stretches_equal_half_up() {
        let z: Vec<f32> = (0..1001)
            .map(|i| ((i * 7919) % 263) as f32 / 131.0 - 1.0)
            .collect();
        for len in [2001, 2002] {
            let whole = half_up(&z, len);
            let fr = FullRate::new(z.clone(), true);
            let mut buf = Vec::new();
            for (s, t) in [
                (0, len),
                (0, 1),
                (1, 2),
                (3, 200),
                (17, 18),
                (len - 45, len),
            ] {
                assert_eq!(fr.at(s, t, &mut buf), &whole[s..t], "{len}: {s}..{t}");
            }
        }
        let plain = FullRate::new(z.clone(), false);
        assert_eq!(plain.at(5, 9, &mut Vec::new()), &z[5..9]);
    }

    #[test]
    fn sixteen_bit_samples_add_with_rounding_and_clamping() {
        let mut v = [1000i16, -1000, 32760, -32760];
        for (x, d) in v
            .iter_mut()
            .zip([0.5f32 / 32768.0, -0.5 / 32768.0, 1.0, -1.0])
        {
            x.add(d);
        }
        assert_eq!(v, [1001, -1001, 32767, -32768]);
        let mut b = 1000i16.to_le_bytes();
        b.add(2.0 / 32768.0);
        assert_eq!(i16::from_le_bytes(b), 1002);
        assert_eq!(b.get(), 1002.0 / 32768.0);
    }
}
