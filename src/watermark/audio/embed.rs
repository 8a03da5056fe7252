//! Embedding: keyed, envelope-shaped, informed modulation of the STFT magnitude of the mono mix
//! inside 450-4800 Hz, overlap-added in the time domain and given to each channel in proportion
//! to its local level.
//!
//! Pass 1 analyses every frame (20 ms hop, 40 ms sqrt-Hann window) and keeps the band spectrum and
//! the detector's log-power row. Pass 2 computes, per frame and group, what the detector would
//! read from the *host* and sets the group's strength so the marked result lands on the right side
//! with a margin (within bounds), then synthesises the mark by inverse FFT and overlap-add.

use realfft::RealFftPlanner;
use realfft::num_complex::Complex32;

use super::conv;
use super::features::{CLIP, FIRST_BIN, FW, TM, W, cell_values, log_row};
use super::layout::{BAND_LO_HZ, CELL_HZ, CELLS, GROUPS, Layout, PERIOD};
use super::{EmbedOptions, EmbedReport, WatermarkKey, WmError};

/// Cap of the per-bin relative gain (keeps valleys from being flipped).
const GMAX: f32 = 0.7;
/// Half-width in bins of the envelope smoother.
const ENV_HALF: usize = 3;
/// Bounds of the nominal relative strength against the spectral envelope.
const ALPHA_MIN: f32 = 0.01;
const ALPHA_MAX: f32 = 0.15;
/// Time-domain guard: |mark| <= GUARD x local host peak (1 ms blocks), so silence stays silent
/// and there is no pre-echo into quiet gaps.
const GUARD: f32 = 0.5;
/// Detector bin spacing in Hz.
const DET_BIN_HZ: f64 = 25.0;

pub(super) fn hop_for_rate(rate: u32) -> usize {
    ((rate as f64) / 50.0).round().max(1.0) as usize
}

struct Frame {
    spec: Vec<Complex32>, // native bins k_lo..=k_hi
    env: Vec<f32>,        // smoothed envelope magnitude per band bin
    logp: Vec<f32>,       // detector-grid log power (W)
}

pub(super) fn embed_f32(
    samples: &mut [f32],
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
    if samples.iter().any(|v| !v.is_finite()) {
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

    // mono mix
    let mut mid = vec![0f32; len];
    let inv_c = 1.0 / channels as f32;
    for (i, m) in mid.iter_mut().enumerate() {
        *m = samples[i * channels..(i + 1) * channels]
            .iter()
            .sum::<f32>()
            * inv_c;
    }

    let layout = Layout::new(&key.0);
    let coded = conv::encode(payload);
    let signs = layout.signs(&coded);

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
    // native bin of each detector-grid bin (identical for rates that are multiples of 50 Hz)
    let det_bins: Vec<usize> = (0..W)
        .map(|j| (((FIRST_BIN - FW + j) as f64 * DET_BIN_HZ / bin_hz).round()) as usize)
        .collect();
    let env_lo = k_lo.saturating_sub(ENV_HALF);
    let env_hi = (k_hi + ENV_HALF).min(nyq_bin);

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

    // ---- pass 1: analysis
    let nframes = len.div_ceil(hop) + 1; // frame index fi = f + 1, f from -1
    let mut frames: Vec<Option<Frame>> = Vec::with_capacity(nframes);
    let mut host_spec_e = 0f64;
    let mut mark_spec_e = 0f64; // at alpha = 1, beta = 1 (uncapped)
    for fi in 0..nframes {
        let start = (fi as isize - 1) * hop as isize;
        let mut energy = 0f32;
        for (i, t) in tbuf.iter_mut().enumerate() {
            let p = start + i as isize;
            *t = if p >= 0 && (p as usize) < len {
                mid[p as usize] * window[i]
            } else {
                0.0
            };
            energy += *t * *t;
        }
        if energy <= 1e-20
            || fwd
                .process_with_scratch(&mut tbuf, &mut spec, &mut scratch_f)
                .is_err()
        {
            frames.push(None);
            continue;
        }
        host_spec_e += energy as f64;
        prefix[0] = 0.0;
        for k in env_lo..=env_hi {
            prefix[k - env_lo + 1] = prefix[k - env_lo] + spec[k].norm_sqr() as f64;
        }
        let mut env = Vec::with_capacity(k_hi - k_lo + 1);
        for k in k_lo..=k_hi {
            let a = k.saturating_sub(ENV_HALF).max(env_lo);
            let b = (k + ENV_HALF).min(env_hi);
            let e2 = (prefix[b - env_lo + 1] - prefix[a - env_lo]) / (b - a + 1) as f64;
            env.push(e2.sqrt() as f32);
            mark_spec_e += e2; // |alpha * env|^2 summed (x2 for the negative half, as energy)
        }
        let mut logp: Vec<f32> = det_bins
            .iter()
            .map(|&k| if k < nyq_bin { spec[k].norm_sqr() } else { 0.0 })
            .collect();
        log_row(&mut logp);
        frames.push(Some(Frame {
            spec: spec[k_lo..=k_hi].to_vec(),
            env,
            logp,
        }));
    }
    if host_spec_e <= 0.0 || mark_spec_e <= 0.0 {
        return Ok(EmbedReport {
            snr_db: f64::INFINITY,
            alpha: 0.0,
            seconds,
            periods,
        });
    }
    // Parseval: time energy of a windowed frame = (2 * sum over half spectrum) / n (DC aside)
    // (the synthesis window halves it on average)
    let mark_e_unit = mark_spec_e / n as f64;
    let allowed = host_spec_e / 10f64.powf(target_snr_db / 10.0);
    let mut alpha = ((allowed / mark_e_unit).sqrt() as f32).clamp(ALPHA_MIN, ALPHA_MAX);

    // ---- pass 2a: informed strengths per (frame, group)
    let tau = super::param("TAU", 1.0);
    let bmin = super::param("BMIN", 0.4);
    let bmax = super::param("BMAX", 2.5);
    let kappa = super::param("KAPPA", 0.5);
    let informed = super::param("INFORMED", 0.0) > 0.5;
    let mut betas = vec![1f32; nframes * GROUPS];
    let mut u = [0f32; CELLS];
    for _iter in 0..2 {
        let mut e_pred = 0f64;
        for fi in 0..nframes {
            let Some(fr) = &frames[fi] else { continue };
            let f = fi as isize - 1;
            let row = f.rem_euclid(PERIOD as isize) as usize * CELLS;
            // host feature as the detector will see it
            let pa = if fi >= TM {
                frames[fi - TM].as_ref().map(|x| &x.logp[..])
            } else {
                None
            };
            let pb = frames
                .get(fi + TM)
                .and_then(|x| x.as_ref())
                .map(|x| &x.logp[..]);
            let (Some(pa), Some(pb)) = (pa, pb) else {
                continue;
            };
            let rms = cell_values(&fr.logp, pa, pb, &mut u);
            let mut h = [0f32; GROUPS];
            let mut gain = [0f32; GROUPS];
            let mut cnt = [0f32; GROUPS];
            for (j, k) in (k_lo..=k_hi).enumerate() {
                let c = cell_of[j];
                let mag = fr.spec[j].norm();
                if mag > 1e-12 {
                    let g = (alpha * fr.env[j] / mag).min(GMAX);
                    gain[layout.cells[row + c].group as usize] += 2.0 * g;
                }
                let _ = k;
            }
            if rms > 1e-6 {
                for c in 0..CELLS {
                    let g = layout.cells[row + c].group as usize;
                    h[g] += signs[row + c] * (u[c] / rms).clamp(-CLIP, CLIP);
                    cnt[g] += 1.0;
                }
            }
            for g in 0..GROUPS {
                let b = if !informed || rms <= 1e-6 || gain[g] <= 0.0 {
                    1.0
                } else {
                    let gn = kappa * gain[g] / rms; // feature gain per unit beta
                    ((tau * cnt[g].sqrt() - h[g]) / gn).clamp(bmin, bmax)
                };
                betas[fi * GROUPS + g] = b;
            }
            for (j, _) in (k_lo..=k_hi).enumerate() {
                let c = cell_of[j];
                let b = betas[fi * GROUPS + layout.cells[row + c].group as usize];
                let mag = fr.spec[j].norm();
                if mag > 1e-12 {
                    let g = (b * alpha * fr.env[j] / mag).min(GMAX);
                    e_pred += (g * mag) as f64 * (g * mag) as f64;
                }
            }
        }
        let e_pred = e_pred / n as f64;
        if e_pred <= 0.0 {
            break;
        }
        let corr = ((allowed / e_pred).sqrt() as f32).clamp(0.5, 2.0);
        alpha = (alpha * corr).clamp(ALPHA_MIN, ALPHA_MAX);
    }

    // ---- pass 2b: synthesis
    let mut mark = vec![0f32; len];
    let norm = 1.0 / n as f32;
    for fi in 0..nframes {
        let Some(fr) = &frames[fi] else { continue };
        let f = fi as isize - 1;
        let row = f.rem_euclid(PERIOD as isize) as usize * CELLS;
        mspec.iter_mut().for_each(|c| *c = Complex32::new(0.0, 0.0));
        for (j, k) in (k_lo..=k_hi).enumerate() {
            let c = cell_of[j];
            let cell = layout.cells[row + c];
            let mag = fr.spec[j].norm();
            if mag <= 1e-12 {
                continue;
            }
            let b = betas[fi * GROUPS + cell.group as usize];
            let g = (b * alpha * fr.env[j] / mag).min(GMAX);
            mspec[k] = fr.spec[j] * (g * signs[row + c]);
        }
        if inv
            .process_with_scratch(&mut mspec, &mut tbuf, &mut scratch_i)
            .is_err()
        {
            continue;
        }
        let start = f * hop as isize;
        for (i, t) in tbuf.iter().enumerate() {
            let p = start + i as isize;
            if p >= 0 && (p as usize) < len {
                mark[p as usize] += t * window[i] * norm;
            }
        }
    }
    drop(frames);

    // per-channel level ratio per hop block so each channel's mark follows its own level and the
    // down-mix carries exactly `mark`
    let nblocks = len.div_ceil(hop);
    let mut ratios: Vec<Vec<f32>> = Vec::with_capacity(channels);
    for ch in 0..channels {
        if channels == 1 {
            ratios.push(vec![1.0; nblocks]);
            break;
        }
        let mut r = vec![0f32; nblocks];
        for (b, rv) in r.iter_mut().enumerate() {
            let (s, e) = (b * hop, ((b + 1) * hop).min(len));
            let mut ec = 0f64;
            let mut em = 0f64;
            for i in s..e {
                let x = samples[i * channels + ch] as f64;
                ec += x * x;
                em += (mid[i] as f64) * (mid[i] as f64);
            }
            *rv = if em > 1e-24 {
                ((ec / em).sqrt() as f32).min(4.0)
            } else {
                0.0
            };
        }
        ratios.push(r);
    }
    let host_e: f64 = samples.iter().map(|v| (*v as f64) * (*v as f64)).sum();
    let blk = ((rate as f64) / 1000.0).round().max(4.0) as usize;
    let nblk = len.div_ceil(blk);
    let mut peaks = vec![0f32; nblk * channels];
    for ch in 0..channels {
        for b in 0..nblk {
            let mut m = 0f32;
            for i in b * blk..((b + 1) * blk).min(len) {
                m = m.max(samples[i * channels + ch].abs());
            }
            peaks[ch * nblk + b] = m;
        }
    }
    let guarded = |scale: f32, ch: usize, b: usize, i: usize| -> f32 {
        let pk = &peaks[ch * nblk..(ch + 1) * nblk];
        let lo = if b > 0 { pk[b - 1] } else { 0.0 };
        let hi = if b + 1 < nblk { pk[b + 1] } else { 0.0 };
        let lim = GUARD * pk[b].max(lo).max(hi);
        (mark[i] * scale * ratios[ch][i / hop]).clamp(-lim, lim)
    };
    // measure the guarded mark and rescale it onto the SNR target (two corrections; the guard
    // makes the energy slightly sub-linear in the scale)
    let allowed_total = host_e / 10f64.powf(target_snr_db / 10.0);
    let mut scale = 1f32;
    for _ in 0..2 {
        let mut mark_e = 0f64;
        for ch in 0..channels {
            for i in 0..len {
                let v = guarded(scale, ch, i / blk, i);
                mark_e += (v as f64) * (v as f64);
            }
        }
        if mark_e <= 0.0 {
            break;
        }
        scale = (scale * (allowed_total / mark_e).sqrt() as f32).min(ALPHA_MAX / alpha.max(1e-9));
    }
    let mut added_e = 0f64;
    for ch in 0..channels {
        for i in 0..len {
            let v = guarded(scale, ch, i / blk, i);
            samples[i * channels + ch] += v;
            added_e += (v as f64) * (v as f64);
        }
    }
    let snr_db = if added_e > 0.0 {
        10.0 * (host_e / added_e).log10()
    } else {
        f64::INFINITY
    };
    Ok(EmbedReport {
        snr_db,
        alpha: alpha * scale,
        seconds,
        periods,
    })
}
