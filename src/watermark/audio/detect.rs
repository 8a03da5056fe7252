//! Detection: mono mix -> 16 kHz -> log-power STFT (sine window) at 8 sub-hop offsets ->
//! whitened cell features x reliability weights (product of the per-frame and per-cell weights
//! for the presence test, their mean for the payload, both times the valley ratio) -> folded modulo the period -> keyed
//! pilot test over every (offset, phase) -> payload: per-cell gains from the pilot, soft
//! Viterbi; then, if needed, the speed grid.

use realfft::RealFftPlanner;

use super::conv;
use super::embed::Sample;
use super::layout::{CELLS, Layout, PERIOD};
use super::resample::{resample, resample_with};
use super::stretch;
use super::{Detection, WmError};

pub(super) const DET_RATE: u32 = 16000;
pub(super) const HOP: usize = 320; // 20 ms
const N: usize = 2 * HOP; // 40 ms, 25 Hz bins
/// Sub-hop offsets searched at speed 1 (step HOP/SUB = 2.5 ms).
pub(super) const SUB: usize = 8;
/// Speed hypotheses besides 1 (input played faster by this factor, tempo and pitch together):
/// the grid `1 + SPEED_STEP * j` for `0 < |j| <= SPEED_J` (+-0.3 % steps up to +-6 %, 40
/// speeds). Each is undone by resampling and searched at `SUB_SPEED` offsets, but only the
/// best screened point (`stretch::screen_speed`) and its 4 grid neighbours are; the
/// false-positive bound counts the whole grid.
pub(super) const SPEED_STEP: f64 = 0.003;
pub(super) const SPEED_J: i32 = 20;
pub(super) const SUB_SPEED: usize = 2;
/// The speed search looks at the first SPEED_SECS seconds only (bounded cost).
const SPEED_SECS: usize = 20;
/// Frames kept unfolded for the tempo and pitch search: the first `SPEED_SECS` seconds.
pub(super) const HEAD_FRAMES: usize = SPEED_SECS * 50;
/// Trials of the speed grid (speeds other than 1).
pub(super) const SPEED_TRIALS: usize = 2 * SPEED_J as usize * SUB_SPEED * PERIOD;
/// Trials of a whole-file search: every (speed, offset, phase) combination of the whole grid,
/// and every (tempo or pitch, time origin, phase) one of the tempo and pitch grid.
#[cfg(test)]
pub(super) const TRIALS: usize = SUB * PERIOD + SPEED_TRIALS + stretch::TRIALS;
/// Shares of the false-positive budget of the speed-1 trials, the speed grid's and the tempo
/// and pitch grid's (weighted union bound, see the module documentation).
pub(super) const SPEED1_SHARE: f64 = 0.85;
pub(super) const SPEED_SHARE: f64 = 0.10;
pub(super) const STRETCH_SHARE: f64 = 0.05;
const _: () = assert!(SPEED1_SHARE + SPEED_SHARE + STRETCH_SHARE <= 1.0);

/// Full search: speed 1 at every offset; if that does not reach `FP_TARGET`, the coarse speed
/// grid on the first `SPEED_SECS` s, then the fine grid points around the best coarse speed.
/// Then, if still needed, the tempo and pitch grid (`stretch`).
/// Weighted union bound over all trials of the whole grid (searched or not): a speed-1 trial's
/// tail is multiplied by `SUB * PERIOD / SPEED1_SHARE`, a speed grid trial's by
/// `SPEED_TRIALS / SPEED_SHARE`, a tempo or pitch trial's by `stretch::TRIALS / STRETCH_SHARE`,
/// so the chance that any trial of an unmarked file reaches `FP_TARGET` is at most `FP_TARGET`
/// (the early exits and the skipped grid points only leave trials out, which cannot raise it).
pub(super) fn search_all(x: &[f32], layout: &Layout) -> Option<Detection> {
    search_found(x, layout).map(|f| f.det)
}

/// The first step of [`search_found`]: speed 1 at every sub-hop offset, with the same trial
/// count, so a candidate that passes here is exactly what the full search reports.
/// The unfolded features of the first `HEAD_FRAMES` frames of every offset it computed are
/// pushed to `kept`.
pub(super) fn search_speed1(x: &[f32], layout: &Layout, kept: &mut Vec<Frames>) -> Option<Found> {
    let trials = (SUB * PERIOD) as f64 / SPEED1_SHARE;
    let pre = search(x, layout, 1.0, &SPEED1_PRE, trials, Some(kept))?;
    if pre.z < PRE_Z {
        return Some(pre);
    }
    let rest: Vec<usize> = (0..SUB)
        .map(|o| o * HOP / SUB)
        .filter(|o| !SPEED1_PRE.contains(o))
        .collect();
    Some(better(
        pre,
        search(x, layout, 1.0, &rest, trials, Some(kept)),
    ))
}

/// The embedder's check: the speed-1 trial at sub-hop offset 0 alone, with the speed-1 trial
/// count. Offset 0 is where freshly marked audio has its frames (the mark's STFT starts at the
/// first sample), and it is one of the offsets the detector always computes first
/// (`SPEED1_PRE`), so when this trial passes, the detector's speed-1 step passes on the same
/// samples (its best `z` is at least this one's). One feature pass instead of eight.
pub(super) fn search_offset0(x: &[f32], layout: &Layout) -> Option<Found> {
    const _: () = assert!(SPEED1_PRE[0] == 0);
    search(
        x,
        layout,
        1.0,
        &[0],
        (SUB * PERIOD) as f64 / SPEED1_SHARE,
        None,
    )
}

/// The sub-hop offsets (samples) speed 1 tries first: 2 of the `SUB`, 10 ms apart.
const SPEED1_PRE: [usize; 2] = [0, HOP / 2];
/// Pre-screen level: a speed is searched at its remaining sub-hop offsets only when the first
/// ones reached this `z` (the pass needs 6.56, 7.20 or 7.43). Unmarked audio stops there (its best of
/// 232 phases is about 3), which is what makes detection on unmarked clips cheap; marked audio
/// loses a small part of its `z` at an offset 5 ms from the best one. Skipping trials can only
/// lower the false-positive probability: the bound still counts every trial of the grid.
pub(super) const PRE_Z: f64 = 4.0;

/// The candidate with the higher `z` (the first if the second is missing).
pub(super) fn better(a: Found, b: Option<Found>) -> Found {
    match b {
        Some(b) if b.z > a.z => b,
        _ => a,
    }
}

/// The winning candidate of a search with what the informed check needs: its folded features
/// and period phase.
pub(super) struct Found {
    pub det: Detection,
    pub z: f64,
    pub fd: Folded,
    pub phase: usize,
}

/// `search_all` keeping the winner's folded features.
pub(super) fn search_found(x: &[f32], layout: &Layout) -> Option<Found> {
    let trials_s = SPEED_TRIALS as f64 / SPEED_SHARE;
    let mut kept = Vec::new();
    let f1 = search_speed1(x, layout, &mut kept)?;
    if f1.det.false_positive_probability <= FP_TARGET {
        return Some(f1);
    }
    let mut best = f1;
    let head = &x[..x.len().min(SPEED_SECS * DET_RATE as usize)];
    let try_speed = |j: i32, best: &mut Found| {
        let s = 1.0 + SPEED_STEP * j as f64;
        // undo a speed-up by s: stretch by s (new rate DET_RATE * s, read as DET_RATE)
        let out_rate = (DET_RATE as f64 * s).round();
        let cutoff = 0.475 * DET_RATE as f64 * s.min(1.0);
        let y = resample(head, DET_RATE as f64, out_rate, cutoff);
        // one sub-hop offset first, the other only if that one passes the pre-screen
        let Some(f) = search(&y, layout, s as f32, &[0], trials_s, None) else {
            return;
        };
        let f = if f.z >= PRE_Z {
            better(
                f,
                search(&y, layout, s as f32, &[HOP / SUB_SPEED], trials_s, None),
            )
        } else {
            f
        };
        if f.det.false_positive_probability < best.det.false_positive_probability {
            *best = f;
        }
    };
    // the speed screen picks the grid point (if any) worth resampling for; then it and its
    // neighbours are tried exactly, all of them even after a pass: the best one (highest z) is
    // the most accurate speed, which the payload decoding needs
    let screened = stretch::screen(&stretch::screen_frames(kept), layout);
    if let Some(centre) = screened.speed() {
        for dj in [0, 1, -1, 2, -2] {
            let j = centre + dj;
            if j == 0 || j.abs() > SPEED_J {
                continue;
            }
            try_speed(j, &mut best);
        }
    }
    if best.det.false_positive_probability <= FP_TARGET {
        return Some(best);
    }
    let trials_t = stretch::TRIALS as f64 / STRETCH_SHARE;
    Some(stretch::search(head, layout, &screened, trials_t, best))
}
use super::features::{CLIP, FIRST_BIN, FW, NBINS, TM, W, cell_values, log_row, time_reference};
/// Quantile of the frames' in-band power (`frame_weights`) and of each cell's smoothed power
/// (`cell_weights`) taken as the background level.
const FLOOR_QUANTILE: f32 = 0.03;
/// Payload cell gains (`cell_gains`): pooled over +-GAIN_HALF cells, shrunk by GAIN_SHRINK
/// towards the all-cell gain.
const GAIN_HALF: usize = 5;
const GAIN_SHRINK: f64 = 0.5;
/// Exponent of the valley ratio in the cell weights (`valley_ratios`; measured on the payload:
/// 0.75 beats 0.5 and 1, all of them well above none).
const VALLEY_EXP: f32 = 0.75;
const _: () = assert!(
    VALLEY_EXP == 0.75,
    "valley_ratios computes x^0.75 with square roots"
);
/// Target false-positive probability per file (all trials included).
pub const FP_TARGET: f64 = 1e-6;

/// The weighted cell features of the first frames of one sub-hop offset, kept unfolded for
/// the tempo and pitch search (`stretch`), which folds them along other time and frequency axes.
pub(super) struct Frames {
    /// sub-hop offset (samples) of frame 0
    pub offset: usize,
    /// per frame (from frame 0), `CELLS` presence features (`acc`'s terms), all 0 where the
    /// frame carries nothing or lies outside the range with a time reference
    pub a: Vec<f32>,
    /// the same for the payload features (`dacc`'s terms)
    pub d: Vec<f32>,
    /// per frame: it has features
    pub ok: Vec<bool>,
}

/// Folded features for one sub-hop offset.
pub(super) struct Folded {
    /// PERIOD * CELLS, weighted by `w_f * w_fc * r^VALLEY_EXP` (presence test)
    pub acc: Vec<f32>,
    /// PERIOD * CELLS, weighted by `(w_f + w_fc) / 2 * r^VALLEY_EXP` (payload decoding; `r` the
    /// valley ratio, `valley_ratios`)
    pub dacc: Vec<f32>,
    pub count: Vec<u32>,
    pub first_sample: usize,
}

/// Folded features of offset `offset`, and the unfolded features of its first `keep` frames.
fn features(
    x: &[f32],
    offset: usize,
    fft: &dyn realfft::RealToComplex<f32>,
    window: &[f32],
    keep: usize,
) -> Option<(Folded, Frames)> {
    if x.len() < offset + N {
        return None;
    }
    let nf = (x.len() - offset - N) / HOP + 1;
    if nf < 2 * TM + 1 {
        return None;
    }
    let b0 = FIRST_BIN - FW;
    let mut buf = fft.make_input_vec();
    let mut spec = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let mut logp = vec![0f32; nf * W];
    let mut fe = vec![0f32; nf];
    let mut cp = vec![0f32; nf * CELLS];
    let mut vr = vec![0f32; nf * CELLS];
    let mut prefix = vec![0f64; W + 1];
    for f in 0..nf {
        let s = offset + f * HOP;
        for i in 0..N {
            buf[i] = x[s + i] * window[i];
        }
        if fft
            .process_with_scratch(&mut buf, &mut spec, &mut scratch)
            .is_err()
        {
            return None;
        }
        let row = &mut logp[f * W..(f + 1) * W];
        for (k, r) in row.iter_mut().enumerate() {
            *r = spec[b0 + k].norm_sqr();
        }
        fe[f] = row.iter().sum();
        for (c, p) in cp[f * CELLS..(f + 1) * CELLS].iter_mut().enumerate() {
            *p = row[FW + 3 * c] + row[FW + 3 * c + 1] + row[FW + 3 * c + 2];
        }
        valley_ratios(row, &mut vr[f * CELLS..(f + 1) * CELLS], &mut prefix);
    }
    let mut acc = vec![0f32; PERIOD * CELLS];
    let mut dacc = vec![0f32; PERIOD * CELLS];
    let mut count = vec![0u32; PERIOD];
    let mut u = [0f32; CELLS];
    let fw = frame_weights(&fe);
    let cw = cell_weights(&cp, nf);
    for row in logp.chunks_exact_mut(W) {
        log_row(row);
    }
    let keep = keep.min(nf);
    let mut kept = Frames {
        offset,
        a: vec![0f32; keep * CELLS],
        d: vec![0f32; keep * CELLS],
        ok: vec![false; keep],
    };
    let mut refr = [0f32; W];
    let (mut ta, mut td) = ([0f32; CELLS], [0f32; CELLS]);
    for f in TM..nf - TM {
        time_reference(&logp, f, &mut refr);
        let rms = cell_values(&logp[f * W..(f + 1) * W], &refr, &mut u);
        if rms <= 1e-6 {
            continue;
        }
        let inv = 1.0 / rms;
        let q = f % PERIOD;
        let dst = &mut acc[q * CELLS..(q + 1) * CELLS];
        let dd = &mut dacc[q * CELLS..(q + 1) * CELLS];
        let wc = &cw[f * CELLS..(f + 1) * CELLS];
        let wf = fw[f];
        let vrf = &vr[f * CELLS..(f + 1) * CELLS];
        for c in 0..CELLS {
            let v = (u[c] * inv).clamp(-CLIP, CLIP);
            ta[c] = wc[c] * wf * vrf[c] * v;
            td[c] = 0.5 * (wc[c] + wf) * vrf[c] * v;
        }
        for c in 0..CELLS {
            dst[c] += ta[c];
            dd[c] += td[c];
        }
        if f < keep {
            kept.a[f * CELLS..(f + 1) * CELLS].copy_from_slice(&ta);
            kept.d[f * CELLS..(f + 1) * CELLS].copy_from_slice(&td);
            kept.ok[f] = true;
        }
        count[q] += 1;
    }
    Some((
        Folded {
            acc,
            dacc,
            count,
            first_sample: offset,
        },
        kept,
    ))
}

pub(super) fn to_detection_rate<S: Sample>(
    samples: &[S],
    channels: usize,
    rate: u32,
) -> Result<Vec<f32>, WmError> {
    super::validate(samples.len(), channels, rate)?;
    if !S::all_finite(samples) {
        return Err(WmError::NonFinite);
    }
    let len = samples.len() / channels;
    let inv_c = 1.0 / channels as f32;
    // the down-mix of frames `start..start + buf.len()`
    let mix = |start: usize, buf: &mut [f32]| {
        let frames =
            samples[start * channels..(start + buf.len()) * channels].chunks_exact(channels);
        if channels == 1 {
            for (m, v) in buf.iter_mut().zip(&samples[start..]) {
                *m = v.get();
            }
        } else if channels == 2 {
            for (m, c) in buf.iter_mut().zip(frames) {
                *m = (c[0].get() + c[1].get()) * inv_c;
            }
        } else {
            for (m, c) in buf.iter_mut().zip(frames) {
                *m = c.iter().map(|v| v.get()).sum::<f32>() * inv_c;
            }
        }
    };
    let cutoff = 0.475 * rate.min(DET_RATE) as f64;
    Ok(if rate == DET_RATE {
        let mut mono = vec![0f32; len];
        mix(0, &mut mono);
        mono
    } else {
        // mixed block by block as the resampler asks: the mix is never stored at the input rate
        resample_with(len, rate as f64, DET_RATE as f64, cutoff, mix)
    })
}

/// Search the given sub-hop offsets (in samples) and all phases of `x` (16 kHz, already brought
/// back to speed 1 by undoing `speed`). The reported false-positive probability is the Hoeffding
/// tail times `trials` (the trial count of this group divided by its share of the budget).
/// Returns the best candidate whatever its probability. The unfolded features of the first
/// `HEAD_FRAMES` frames of every offset are pushed to `kept` if given.
pub(super) fn search(
    x: &[f32],
    layout: &Layout,
    speed: f32,
    offsets: &[usize],
    trials: f64,
    mut kept: Option<&mut Vec<Frames>>,
) -> Option<Found> {
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(N);
    let window: Vec<f32> = (0..N)
        .map(|i| (std::f32::consts::PI * i as f32 / N as f32).sin())
        .collect();
    let corr = correlator(layout);
    let mut best: Option<(usize, f64, Folded)> = None;
    for &o in offsets {
        let keep = if kept.is_some() { HEAD_FRAMES } else { 0 };
        let Some((fd, frames)) = features(x, o, fft.as_ref(), &window, keep) else {
            continue;
        };
        if let Some(k) = kept.as_deref_mut() {
            k.push(frames);
        }
        if let Some((phase, z)) = best_phase(corr, &fd)
            && best.as_ref().is_none_or(|(_, bz, _)| z > *bz)
        {
            best = Some((phase, z, fd));
        }
    }
    let (phase, z, fd) = best?;
    let f0 = (PERIOD - phase) % PERIOD;
    let start = (fd.first_sample + f0 * HOP) as f64 / DET_RATE as f64 / speed as f64;
    Some(finish(fd, layout, phase, z, trials, speed, start))
}

/// The unfolded features of the first `HEAD_FRAMES` frames of `x` at the given sub-hop offsets.
pub(super) fn head_frames(x: &[f32], offsets: &[usize]) -> Vec<Frames> {
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(N);
    let window: Vec<f32> = (0..N)
        .map(|i| (std::f32::consts::PI * i as f32 / N as f32).sin())
        .collect();
    let head = &x[..x.len().min(HEAD_FRAMES * HOP + N)];
    offsets
        .iter()
        .filter_map(|&o| features(head, o, fft.as_ref(), &window, HEAD_FRAMES).map(|f| f.1))
        .collect()
}

/// The layout's phase correlator (built on first use).
pub(super) fn correlator(layout: &Layout) -> &PhaseCorrelator {
    layout
        .correlator
        .get_or_init(|| PhaseCorrelator::new(layout))
}

/// The best period phase of folded features and its `z` (`None` if no frame was folded).
pub(super) fn best_phase(corr: &PhaseCorrelator, fd: &Folded) -> Option<(usize, f64)> {
    if fd.count.iter().all(|&c| c == 0) {
        return None;
    }
    // z = S / sqrt(sum a_i^2) at every phase: the correlation and the bound's variance term
    // (chip-free), both circular correlations over the period computed by FFT
    let (s, s2) = corr.correlate(&fd.acc);
    let mut local: Option<(usize, f64)> = None;
    for (phase, (&s, &s2)) in s.iter().zip(&s2).enumerate() {
        let z = if s2 > 0.0 { s / s2.sqrt() } else { 0.0 };
        if local.is_none_or(|(_, bz)| z > bz) {
            local = Some((phase, z));
        }
    }
    local
}

/// The candidate at `phase` of `fd` with score `z`: its false-positive probability (Hoeffding
/// tail times `trials`) and its decoded payload.
pub(super) fn finish(
    fd: Folded,
    layout: &Layout,
    phase: usize,
    z: f64,
    trials: f64,
    speed: f32,
    start_seconds: f64,
) -> Found {
    let compared = fd.count.iter().filter(|&&c| c > 0).count();
    let matches = pilot_matches(&fd, layout, phase);
    // Hoeffding: P(S >= z * sqrt(sum a^2)) <= exp(-z^2 / 2) for i.i.d. fair chips, any content
    let tail = if z > 0.0 { (-0.5 * z * z).exp() } else { 1.0 };
    let fpp = (tail * trials).min(1.0);
    // decode the payload at the winning alignment
    let gw = cell_gains(&fd, layout, phase);
    let soft = payload_soft(&fd, layout, phase, &gw);
    let payload = conv::decode(&soft);
    Found {
        det: Detection {
            payload,
            matching_bits: matches as u32,
            compared_bits: compared as u32,
            false_positive_probability: fpp,
            start_seconds,
            speed,
        },
        z,
        fd,
        phase,
    }
}

/// Frames whose pilot correlation is positive at `phase` (reported as `matching_bits`).
fn pilot_matches(fd: &Folded, layout: &Layout, phase: usize) -> usize {
    (0..PERIOD)
        .filter(|&p| {
            let q = (p + PERIOD - phase) % PERIOD;
            fd.count[q] > 0
                && layout.pilots[p]
                    .iter()
                    .map(|&(c, chip)| chip * fd.acc[q * CELLS + c as usize])
                    .sum::<f32>()
                    > 0.0
        })
        .count()
}

/// The pilot test at every period phase at once. For phase `φ` the statistic is
/// `S(φ) = sum_q sum_c A[q][c] K[q + φ][c]` (`A` the folded presence features, `K` the pilot
/// chips, 0 off the pilot cells, indices modulo the period) and its variance term
/// `S2(φ) = sum_q sum_c A[q][c]^2 I[q + φ][c]` (`I` = 1 on the pilot cells): per cell a circular
/// cross-correlation along the period, so one real FFT of every cell's column, a product with
/// the key's precomputed spectra summed over the cells, and one inverse FFT give all 232 phases
/// (the same sums as the direct loop, to float rounding; f64 throughout).
pub(super) struct PhaseCorrelator {
    fwd: std::sync::Arc<dyn realfft::RealToComplex<f64>>,
    inv: std::sync::Arc<dyn realfft::ComplexToReal<f64>>,
    /// per cell, the spectra of its chip column and of its pilot indicator column
    chips: Vec<Vec<realfft::num_complex::Complex64>>,
    ind: Vec<Vec<realfft::num_complex::Complex64>>,
}

impl PhaseCorrelator {
    fn new(layout: &Layout) -> Self {
        let mut planner = RealFftPlanner::<f64>::new();
        let fwd = planner.plan_fft_forward(PERIOD);
        let inv = planner.plan_fft_inverse(PERIOD);
        let mut kc = vec![vec![0f64; PERIOD]; CELLS];
        let mut ic = vec![vec![0f64; PERIOD]; CELLS];
        for (p, pl) in layout.pilots.iter().enumerate() {
            for &(c, chip) in pl {
                kc[c as usize][p] = f64::from(chip);
                ic[c as usize][p] = 1.0;
            }
        }
        let spectrum = |mut col: Vec<f64>| {
            let mut out = fwd.make_output_vec();
            // lengths are the plan's own: cannot fail
            let _ = fwd.process(&mut col, &mut out);
            out
        };
        let chips = kc.into_iter().map(spectrum).collect();
        let ind = ic.into_iter().map(spectrum).collect();
        PhaseCorrelator {
            fwd,
            inv,
            chips,
            ind,
        }
    }

    /// `(S, S2)` at every phase for the folded features `acc` (`PERIOD x CELLS`).
    pub(super) fn correlate(&self, acc: &[f32]) -> (Vec<f64>, Vec<f64>) {
        use realfft::num_complex::Complex64;
        let bins = PERIOD / 2 + 1;
        let mut xs = vec![Complex64::new(0.0, 0.0); bins];
        let mut xs2 = vec![Complex64::new(0.0, 0.0); bins];
        let mut col = vec![0f64; PERIOD];
        let mut col2 = vec![0f64; PERIOD];
        let mut spec = self.fwd.make_output_vec();
        let mut spec2 = self.fwd.make_output_vec();
        let mut scratch = self.fwd.make_scratch_vec();
        for c in 0..CELLS {
            for (q, (v, v2)) in col.iter_mut().zip(&mut col2).enumerate() {
                let a = f64::from(acc[q * CELLS + c]);
                *v = a;
                *v2 = a * a;
            }
            let _ = self
                .fwd
                .process_with_scratch(&mut col, &mut spec, &mut scratch);
            let _ = self
                .fwd
                .process_with_scratch(&mut col2, &mut spec2, &mut scratch);
            // correlation: conj(A) * K
            for (((x, x2), (a, a2)), (k, i)) in xs
                .iter_mut()
                .zip(&mut xs2)
                .zip(spec.iter().zip(&spec2))
                .zip(self.chips[c].iter().zip(&self.ind[c]))
            {
                *x += a.conj() * k;
                *x2 += a2.conj() * i;
            }
        }
        // a real signal's spectrum: the DC and Nyquist bins are real
        for v in [&mut xs, &mut xs2] {
            v[0].im = 0.0;
            v[bins - 1].im = 0.0;
        }
        let mut s = vec![0f64; PERIOD];
        let mut s2 = vec![0f64; PERIOD];
        let mut iscratch = self.inv.make_scratch_vec();
        let _ = self
            .inv
            .process_with_scratch(&mut xs, &mut s, &mut iscratch);
        let _ = self
            .inv
            .process_with_scratch(&mut xs2, &mut s2, &mut iscratch);
        let norm = 1.0 / PERIOD as f64;
        s.iter_mut().for_each(|v| *v *= norm);
        s2.iter_mut().for_each(|v| *v *= norm);
        (s, s2)
    }

    /// The spectra of every cell's column of the folded features `acc` (`PERIOD x CELLS`):
    /// `CELLS` rows of `PERIOD / 2 + 1` bins, for [`Self::correlate_chips_mapped`].
    pub(super) fn column_spectra(&self, acc: &[f32]) -> Vec<realfft::num_complex::Complex64> {
        let bins = PERIOD / 2 + 1;
        let mut out = Vec::with_capacity(CELLS * bins);
        let mut col = vec![0f64; PERIOD];
        let mut spec = self.fwd.make_output_vec();
        let mut scratch = self.fwd.make_scratch_vec();
        for c in 0..CELLS {
            for (q, v) in col.iter_mut().enumerate() {
                *v = f64::from(acc[q * CELLS + c]);
            }
            let _ = self
                .fwd
                .process_with_scratch(&mut col, &mut spec, &mut scratch);
            out.extend_from_slice(&spec);
        }
        out
    }

    /// `S` alone at every phase (for screening) for the features whose cell `c` is
    /// `(1 - w) A[i] + w A[i + 1]`, `(i, w) = map[c]` (`i == CELLS`: zero; `A[CELLS]` = 0),
    /// given the column spectra of `A` ([`Self::column_spectra`]). The FFT along the period
    /// commutes with a map across the cells, so one set of spectra serves every pitch factor.
    pub(super) fn correlate_chips_mapped(
        &self,
        spectra: &[realfft::num_complex::Complex64],
        map: &[(usize, f32); CELLS],
    ) -> Vec<f64> {
        use realfft::num_complex::Complex64;
        let bins = PERIOD / 2 + 1;
        let mut xs = vec![Complex64::new(0.0, 0.0); bins];
        let col = |i: usize| &spectra[i * bins..(i + 1) * bins];
        for (&(i, w), k) in map.iter().zip(&self.chips) {
            if i >= CELLS {
                continue;
            }
            let (w0, w1) = (1.0 - f64::from(w), f64::from(w));
            if w == 0.0 || i + 1 == CELLS {
                for ((x, a), k) in xs.iter_mut().zip(col(i)).zip(k) {
                    *x += a.conj() * k * w0;
                }
            } else {
                for (((x, a), b), k) in xs.iter_mut().zip(col(i)).zip(col(i + 1)).zip(k) {
                    *x += (a * w0 + b * w1).conj() * k;
                }
            }
        }
        xs[0].im = 0.0;
        xs[bins - 1].im = 0.0;
        let mut s = vec![0f64; PERIOD];
        let mut iscratch = self.inv.make_scratch_vec();
        let _ = self
            .inv
            .process_with_scratch(&mut xs, &mut s, &mut iscratch);
        let norm = 1.0 / PERIOD as f64;
        s.iter_mut().for_each(|v| *v *= norm);
        s
    }
}

/// Informed check of an expected code word at the found alignment: `(z, agreement)` with
/// `z = T / sqrt(sum x_i^2)`, `T = sum_i e_i x_i` over every folded data cell `i`, `x_i` the
/// cell's payload soft value (`g_c * a_i`, as for the Viterbi decoder) and `e_i` the amplitude
/// sign the expected code word gives the cell (chip times the coded bit's sign), and
/// `agreement` the fraction of the coded bits whose soft value has the expected sign.
/// The alignment and the gains `g_c` come from the audio and the pilot chips only, never from
/// the data chips, which is what the bound in `detect_expected` needs.
pub(super) fn expected_score(found: &Found, layout: &Layout, coded: &[bool]) -> (f64, f64) {
    let (fd, phase) = (&found.fd, found.phase);
    let gw = cell_gains(fd, layout, phase);
    let mut t = 0f64;
    let mut t2 = 0f64;
    for_each_data_cell(fd, layout, phase, &gw, |bit, chip, x| {
        let e = if coded[bit] { chip } else { -chip };
        t += (e * x) as f64;
        t2 += (x as f64) * (x as f64);
    });
    let soft = payload_soft(fd, layout, phase, &gw);
    let agree = soft
        .iter()
        .zip(coded)
        .filter(|&(&v, &b)| (v > 0.0) == b && v != 0.0)
        .count();
    let z = if t2 > 0.0 { t / t2.sqrt() } else { 0.0 };
    (z, agree as f64 / coded.len() as f64)
}

/// Soft values of the coded bits at `phase`: `sum g_c * chip * a` over each bit's data cells.
fn payload_soft(fd: &Folded, layout: &Layout, phase: usize, gw: &[f32; CELLS]) -> Vec<f32> {
    let mut soft = vec![0f32; conv::CODED_BITS];
    for_each_data_cell(fd, layout, phase, gw, |bit, chip, x| soft[bit] += chip * x);
    soft
}

/// Calls `visit(coded bit, chip, g_c * a)` for every folded data cell at `phase`.
fn for_each_data_cell(
    fd: &Folded,
    layout: &Layout,
    phase: usize,
    gw: &[f32; CELLS],
    mut visit: impl FnMut(usize, f32, f32),
) {
    for p in 0..PERIOD {
        let q = (p + PERIOD - phase) % PERIOD;
        if fd.count[q] == 0 {
            continue;
        }
        let cells = &layout.cells[p * CELLS..(p + 1) * CELLS];
        let row = &fd.dacc[q * CELLS..(q + 1) * CELLS];
        for ((cell, &g), &a) in cells.iter().zip(gw).zip(row) {
            if cell.coded >= 0 {
                visit(cell.coded as usize, cell.chip, g * a);
            }
        }
    }
}

/// Half-width in bins of the envelope the embedder shapes the mark with (+-400 Hz).
const ENV_HALF: usize = 16;
/// Cap of envelope / magnitude, as in the embedder.
const RATIO_CAP: f32 = 8.0;

/// Per-cell payload weight from one frame's power row (`W` bins): the mean over the cell's 3
/// bins of `min(env / |Y|, RATIO_CAP)`, `env` the rms over +-`ENV_HALF` bins (within the row).
/// The embedder adds `alpha * min(env / |X|, RATIO_CAP) * X` per bin, so the mark's relative
/// change of a bin, hence of its log power, is proportional to this ratio: deep between the
/// host's harmonics the mark changes the log power most (maximal-ratio weight, raised to
/// `VALLEY_EXP`, for the presence test and the payload). A function of the audio only, so the
/// presence bound holds with it.
fn valley_ratios(row: &[f32], out: &mut [f32], prefix: &mut [f64]) {
    for k in 0..W {
        prefix[k + 1] = prefix[k] + row[k] as f64;
    }
    // per band bin: the envelope, then min(sqrt(env / p), cap) in a plain loop over the bins
    // (vectorised; p = 0 gives the cap), then the cells
    let mut r = [0f32; NBINS];
    for (j, e) in r.iter_mut().enumerate() {
        let k = FW + j;
        let (a, b) = (k.saturating_sub(ENV_HALF), (k + ENV_HALF + 1).min(W));
        *e = ((prefix[b] - prefix[a]) * INV_WIDTH[k]) as f32;
    }
    for (e, &p) in r.iter_mut().zip(&row[FW..FW + NBINS]) {
        *e = (*e / p).sqrt().min(RATIO_CAP);
    }
    for (o, c) in out.iter_mut().zip(r.chunks_exact(3)) {
        // x^0.75 = sqrt(x) * sqrt(sqrt(x)): two square roots instead of a powf
        let s = ((c[0] + c[1] + c[2]) / 3.0).sqrt();
        *o = s * s.sqrt();
    }
}

/// `1 / (number of bins in the +-ENV_HALF window around bin k, clipped to the row)`.
const INV_WIDTH: [f64; W] = {
    let mut t = [0f64; W];
    let mut k = 0;
    while k < W {
        let a = k.saturating_sub(ENV_HALF);
        let b = if k + ENV_HALF + 1 < W {
            k + ENV_HALF + 1
        } else {
            W
        };
        t[k] = 1.0 / (b - a) as f64;
        k += 1;
    }
    t
};

/// Frame reliability weights: `max(0, 1 - floor / e_f)` where `e_f` is the frame's in-band power
/// and `floor` the `FLOOR_QUANTILE` quantile of it over the file's non-silent frames (the level
/// of a stationary background such as added noise). Frames at the background level carry
/// little of the mark and get little weight. A function of the audio only.
fn frame_weights(fe: &[f32]) -> Vec<f32> {
    let mut v: Vec<f32> = fe.iter().copied().filter(|&e| e > 0.0).collect();
    if v.is_empty() {
        return vec![0.0; fe.len()];
    }
    let k = ((v.len() as f32 * FLOOR_QUANTILE) as usize).min(v.len() - 1);
    let (_, floor, _) = v.select_nth_unstable_by(k, f32::total_cmp);
    let floor = *floor;
    fe.iter()
        .map(|&e| {
            if e > 0.0 {
                (1.0 - floor / e).max(0.0)
            } else {
                0.0
            }
        })
        .collect()
}

/// Per (frame, cell) weights `max(0, 1 - floor_c / e)` with `e` the cell's power smoothed over
/// +-1 frame and +-1 cell (27 bin-frames: a 3 % quantile of the raw 3-bin power is biased low
/// by its chi-square spread) and `floor_c` the `FLOOR_QUANTILE` quantile of that over the
/// frames with power. A function of the audio only (the presence bound needs nothing more).
fn cell_weights(cp: &[f32], nf: usize) -> Vec<f32> {
    // separable box sum: +-1 cell within each frame, then +-1 frame
    let mut h = vec![0f32; nf * CELLS];
    for (hr, cr) in h.chunks_exact_mut(CELLS).zip(cp.chunks_exact(CELLS)) {
        for (c, h) in hr.iter_mut().enumerate() {
            let (c0, c1) = (c.saturating_sub(1), (c + 1).min(CELLS - 1));
            *h = cr[c0..=c1].iter().sum();
        }
    }
    let mut sp = vec![0f32; nf * CELLS];
    for f in 0..nf {
        let (f0, f1) = (f.saturating_sub(1), (f + 1).min(nf - 1));
        for c in 0..CELLS {
            let (c0, c1) = (c.saturating_sub(1), (c + 1).min(CELLS - 1));
            let mut a = 0f32;
            for g in f0..=f1 {
                a += h[g * CELLS + c];
            }
            sp[f * CELLS + c] = a / ((f1 - f0 + 1) * (c1 - c0 + 1)) as f32;
        }
    }
    let mut v = Vec::with_capacity(nf);
    let mut w = vec![0f32; nf * CELLS];
    for c in 0..CELLS {
        v.clear();
        v.extend((0..nf).map(|f| sp[f * CELLS + c]).filter(|&e| e > 0.0));
        if v.is_empty() {
            continue;
        }
        let k = ((v.len() as f32 * FLOOR_QUANTILE) as usize).min(v.len() - 1);
        let (_, fl, _) = v.select_nth_unstable_by(k, f32::total_cmp);
        let fl = *fl;
        for f in 0..nf {
            let e = sp[f * CELLS + c];
            if e > 0.0 {
                w[f * CELLS + c] = (1.0 - fl / e).max(0.0);
            }
        }
    }
    w
}

/// Payload weights per frequency cell (maximal-ratio combining): the mark's response in cell `c`
/// estimated from the pilot cells at the found alignment, `g_c = sum chip * a / sum a^2` over
/// the folded frames (`a` the payload features), shrunk half-way towards the all-cell value and
/// pooled over +-`GAIN_HALF` cells, clamped at 0. Cells the mark does not reach (above 4 kHz in
/// telephone audio, bands removed by a codec, cells drowned in noise) then count little in the
/// soft decisions. Uses the key, so it only serves the payload, never the presence test.
fn cell_gains(fd: &Folded, layout: &Layout, phase: usize) -> [f32; CELLS] {
    let mut g = [0f64; CELLS];
    let mut v = [0f64; CELLS];
    for p in 0..PERIOD {
        let q = (p + PERIOD - phase) % PERIOD;
        if fd.count[q] == 0 {
            continue;
        }
        for c in 0..CELLS {
            let cell = layout.cells[p * CELLS + c];
            let a = fd.dacc[q * CELLS + c] as f64;
            v[c] += a * a;
            if cell.coded < 0 {
                g[c] += cell.chip as f64 * a;
            }
        }
    }
    let gbar = g.iter().sum::<f64>() / v.iter().sum::<f64>().max(1e-30);
    for (gc, &vc) in g.iter_mut().zip(&v) {
        *gc = (1.0 - GAIN_SHRINK) * *gc + GAIN_SHRINK * gbar * vc;
    }
    let mut out = [0f32; CELLS];
    for (c, o) in out.iter_mut().enumerate() {
        let (c0, c1) = (c.saturating_sub(GAIN_HALF), (c + GAIN_HALF).min(CELLS - 1));
        let gs: f64 = g[c0..=c1].iter().sum();
        let vs: f64 = v[c0..=c1].iter().sum();
        *o = if vs > 0.0 {
            (gs / vs).max(0.0) as f32
        } else {
            0.0
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Folded payload features where only the cells below `reach` carry the mark (as in
    /// telephone audio, where nothing is above 4 kHz) plus noise everywhere.
    fn folded(layout: &Layout, reach: usize) -> Folded {
        let mut s = 12345u64;
        let mut noise = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        };
        let mut dacc = vec![0f32; PERIOD * CELLS];
        for f in 0..PERIOD {
            for c in 0..CELLS {
                let cell = layout.cells[f * CELLS + c];
                let mark = if c < reach { 0.5 * cell.chip } else { 0.0 };
                dacc[f * CELLS + c] = mark + noise();
            }
        }
        Folded {
            acc: dacc.clone(),
            dacc,
            count: vec![1; PERIOD],
            first_sample: 0,
        }
    }

    #[test]
    fn payload_cell_gains_follow_the_mark() {
        let layout = Layout::new(&[7u8; 32]);
        let g = cell_gains(&folded(&layout, 45), &layout, 0);
        assert!(g.iter().all(|&v| v >= 0.0 && v.is_finite()));
        let lo = g[..40].iter().sum::<f32>() / 40.0;
        let hi = g[50..].iter().sum::<f32>() / (CELLS - 50) as f32;
        // shrinkage keeps half of the all-cell gain everywhere; the marked cells get more
        assert!(lo > 2.0 * hi, "marked cells {lo}, unmarked {hi}");
        assert!(hi > 0.0);
        // a mark everywhere: flat gains
        let g = cell_gains(&folded(&layout, CELLS), &layout, 0);
        let (mn, mx) = g
            .iter()
            .fold((f32::MAX, 0f32), |(a, b), &v| (a.min(v), b.max(v)));
        assert!(mx < 1.5 * mn, "flat mark: gains {mn}..{mx}");
    }
}
