//! Detection: mono mix -> 16 kHz -> log-power STFT (sine window) at 8 sub-hop offsets ->
//! whitened cell features x reliability weights (mean of the per-frame and per-cell weights for
//! the presence test, per frame for the payload) -> folded modulo the period -> keyed pilot test over every (offset,
//! phase) -> soft Viterbi; then, if needed, the speed grid.

use realfft::RealFftPlanner;

use super::conv;
use super::layout::{CELLS, Layout, PERIOD, PILOT_PER_FRAME};
use super::resample::resample;
use super::{Detection, WmError};

pub(super) const DET_RATE: u32 = 16000;
const HOP: usize = 320; // 20 ms
const N: usize = 2 * HOP; // 40 ms, 25 Hz bins
/// Sub-hop offsets searched at speed 1 (step HOP/SUB = 2.5 ms).
pub(super) const SUB: usize = 8;
/// Speed hypotheses besides 1 (input played faster by this factor, tempo and pitch together):
/// the grid `1 + SPEED_STEP * j` for `0 < |j| <= SPEED_J` (+-0.3 % steps up to +-6 %, 40
/// speeds). Each is undone by resampling and searched at `SUB_SPEED` offsets. Only every
/// `SPEED_COARSE`-th grid point is always searched (+-1.2 % steps); then the 4 grid points
/// nearest to the best coarse one (or to speed 1) are; the false-positive bound counts the
/// whole grid.
pub(super) const SPEED_STEP: f64 = 0.003;
pub(super) const SPEED_J: i32 = 20;
const SPEED_COARSE: i32 = 4;
pub(super) const SUB_SPEED: usize = 2;
/// The speed search looks at the first SPEED_SECS seconds only (bounded cost).
const SPEED_SECS: usize = 20;
/// Trials of a whole-file search: every (speed, offset, phase) combination of the whole grid.
#[cfg(test)]
pub(super) const TRIALS: usize = (SUB + 2 * SPEED_J as usize * SUB_SPEED) * PERIOD;
/// Share of the false-positive budget given to the speed-1 trials; the other speeds share the
/// rest (weighted union bound, see the module documentation).
pub(super) const SPEED1_SHARE: f64 = 0.9;

/// Full search: speed 1 at every offset; if that does not reach `FP_TARGET`, the coarse speed
/// grid on the first `SPEED_SECS` s, then the fine grid points around the best coarse speed.
/// Weighted union bound over all trials of the whole grid (searched or not): a speed-1 trial's
/// tail is multiplied by `SUB * PERIOD / SPEED1_SHARE`, any other trial's by
/// `2 * SPEED_J * SUB_SPEED * PERIOD / (1 - SPEED1_SHARE)`, so the chance that any trial of an
/// unmarked file reaches `FP_TARGET` is at most `FP_TARGET` (the early exits and the skipped
/// grid points only leave trials out, which cannot raise it).
pub(super) fn search_all(x: &[f32], layout: &Layout) -> Option<Detection> {
    let trials1 = (SUB * PERIOD) as f64 / SPEED1_SHARE;
    let trials_s = (2 * SPEED_J as usize * SUB_SPEED * PERIOD) as f64 / (1.0 - SPEED1_SHARE);
    let (d1, z1) = search(x, layout, 1.0, SUB, trials1)?;
    if d1.false_positive_probability <= FP_TARGET {
        return Some(d1);
    }
    let mut best = d1;
    let head = &x[..x.len().min(SPEED_SECS * DET_RATE as usize)];
    // best z per grid index (speed 1 = index 0 with its own z)
    let mut best_j = (0i32, z1);
    let try_speed = |j: i32, best: &mut Detection, best_j: &mut (i32, f64)| -> bool {
        let s = 1.0 + SPEED_STEP * j as f64;
        // undo a speed-up by s: stretch by s (new rate DET_RATE * s, read as DET_RATE)
        let out_rate = (DET_RATE as f64 * s).round();
        let cutoff = 0.475 * DET_RATE as f64 * s.min(1.0);
        let y = resample(head, DET_RATE as f64, out_rate, cutoff);
        let Some((d, z)) = search(&y, layout, s as f32, SUB_SPEED, trials_s) else {
            return false;
        };
        if z > best_j.1 {
            *best_j = (j, z);
        }
        if d.false_positive_probability < best.false_positive_probability {
            *best = d;
        }
        best.false_positive_probability <= FP_TARGET
    };
    for k in 1..=SPEED_J / SPEED_COARSE {
        for j in [k * SPEED_COARSE, -k * SPEED_COARSE] {
            if try_speed(j, &mut best, &mut best_j) {
                return Some(best);
            }
        }
    }
    let centre = best_j.0;
    for dj in [1, -1, 2, -2] {
        let j = centre + dj;
        if j == 0 || j.abs() > SPEED_J {
            continue;
        }
        if try_speed(j, &mut best, &mut best_j) {
            break;
        }
    }
    Some(best)
}
use super::features::{CLIP, FIRST_BIN, FW, TM, W, cell_values, log_row, time_reference};
/// Quantile of the frames' in-band power (`frame_weights`) and of each cell's smoothed power
/// (`cell_weights`) taken as the background level.
const FLOOR_QUANTILE: f32 = 0.03;
/// Target false-positive probability per file (all trials included).
pub const FP_TARGET: f64 = 1e-6;

/// Folded features for one sub-hop offset.
struct Folded {
    /// PERIOD * CELLS, cell-weighted (presence test)
    acc: Vec<f32>,
    /// PERIOD * CELLS, frame-weighted (payload decoding)
    dacc: Vec<f32>,
    count: Vec<u32>,
    first_sample: usize,
}

fn features(
    x: &[f32],
    offset: usize,
    fft: &dyn realfft::RealToComplex<f32>,
    window: &[f32],
) -> Option<Folded> {
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
        log_row(row);
    }
    let mut acc = vec![0f32; PERIOD * CELLS];
    let mut dacc = vec![0f32; PERIOD * CELLS];
    let mut count = vec![0u32; PERIOD];
    let mut u = [0f32; CELLS];
    let fw = frame_weights(&fe);
    let cw = cell_weights(&cp, nf);
    let mut refr = [0f32; W];
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
        for c in 0..CELLS {
            let v = (u[c] * inv).clamp(-CLIP, CLIP);
            dst[c] += 0.5 * (wc[c] + wf) * v;
            dd[c] += wf * v;
        }
        count[q] += 1;
    }
    Some(Folded {
        acc,
        dacc,
        count,
        first_sample: offset,
    })
}

struct Trial {
    phase: usize,
    z: f64,
    matches: usize,
}

pub(super) fn to_detection_rate(
    samples: &[f32],
    channels: usize,
    rate: u32,
) -> Result<Vec<f32>, WmError> {
    super::validate(samples.len(), channels, rate)?;
    if !super::all_finite(samples) {
        return Err(WmError::NonFinite);
    }
    let len = samples.len() / channels;
    let mut mono = vec![0f32; len];
    let inv_c = 1.0 / channels as f32;
    for (i, m) in mono.iter_mut().enumerate() {
        *m = samples[i * channels..(i + 1) * channels]
            .iter()
            .sum::<f32>()
            * inv_c;
    }
    let cutoff = 0.475 * rate.min(DET_RATE) as f64;
    Ok(if rate == DET_RATE {
        mono
    } else {
        resample(&mono, rate as f64, DET_RATE as f64, cutoff)
    })
}

/// Search `subs` sub-hop offsets (step HOP/subs) and all phases of `x` (16 kHz, already brought
/// back to speed 1 by undoing `speed`). The reported false-positive probability is the Hoeffding
/// tail times `trials` (the trial count of this group divided by its share of the budget).
/// Returns the best candidate whatever its probability.
pub(super) fn search(
    x: &[f32],
    layout: &Layout,
    speed: f32,
    subs: usize,
    trials: f64,
) -> Option<(Detection, f64)> {
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(N);
    let window: Vec<f32> = (0..N)
        .map(|i| (std::f32::consts::PI * i as f32 / N as f32).sin())
        .collect();
    let mut best: Option<(Trial, Folded, usize)> = None;
    for o in 0..subs {
        let Some(fd) = features(x, o * HOP / subs, fft.as_ref(), &window) else {
            continue;
        };
        let compared = fd.count.iter().filter(|&&c| c > 0).count();
        if compared == 0 {
            continue;
        }
        // z = S / sqrt(sum a_i^2): the correlation and the bound's variance term (chip-free)
        let mut local: Option<Trial> = None;
        for phase in 0..PERIOD {
            let mut s = 0f64;
            let mut s2 = 0f64;
            let mut m = 0usize;
            for p in 0..PERIOD {
                let q = (p + PERIOD - phase) % PERIOD;
                if fd.count[q] == 0 {
                    continue;
                }
                let row = &fd.acc[q * CELLS..(q + 1) * CELLS];
                let mut cs = 0f32;
                let mut c2 = 0f32;
                for &(c, chip) in &layout.pilots[p][..PILOT_PER_FRAME] {
                    let v = row[c as usize];
                    cs += chip * v;
                    c2 += v * v;
                }
                if cs > 0.0 {
                    m += 1;
                }
                s += cs as f64;
                s2 += c2 as f64;
            }
            let z = if s2 > 0.0 { s / s2.sqrt() } else { 0.0 };
            if local.as_ref().is_none_or(|t| z > t.z) {
                local = Some(Trial {
                    phase,
                    z,
                    matches: m,
                });
            }
        }
        if let Some(t) = local
            && best.as_ref().is_none_or(|(b, _, _)| t.z > b.z)
        {
            best = Some((t, fd, compared));
        }
    }
    let (t, fd, compared) = best?;
    // Hoeffding: P(S >= z * sqrt(sum a^2)) <= exp(-z^2 / 2) for i.i.d. fair chips, any content
    let tail = if t.z > 0.0 {
        (-0.5 * t.z * t.z).exp()
    } else {
        1.0
    };
    let fpp = (tail * trials).min(1.0);
    // decode the payload at the winning alignment
    let mut soft = vec![0f32; conv::CODED_BITS];
    for p in 0..PERIOD {
        let q = (p + PERIOD - t.phase) % PERIOD;
        if fd.count[q] == 0 {
            continue;
        }
        for c in 0..CELLS {
            let cell = layout.cells[p * CELLS + c];
            if cell.coded >= 0 {
                soft[cell.coded as usize] += cell.chip * fd.dacc[q * CELLS + c];
            }
        }
    }
    let payload = conv::decode(&soft);
    let f0 = (PERIOD - t.phase) % PERIOD;
    let start = (fd.first_sample + f0 * HOP) as f64 / DET_RATE as f64 / speed as f64;
    Some((
        Detection {
            payload,
            matching_bits: t.matches as u32,
            compared_bits: compared as u32,
            false_positive_probability: fpp,
            start_seconds: start,
            speed,
        },
        t.z,
    ))
}

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
    let mut sp = vec![0f32; nf * CELLS];
    for f in 0..nf {
        let (f0, f1) = (f.saturating_sub(1), (f + 1).min(nf - 1));
        for c in 0..CELLS {
            let (c0, c1) = (c.saturating_sub(1), (c + 1).min(CELLS - 1));
            let mut a = 0f32;
            for g in f0..=f1 {
                for d in c0..=c1 {
                    a += cp[g * CELLS + d];
                }
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
