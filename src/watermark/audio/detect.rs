//! Detection: mono mix -> 16 kHz -> log-power STFT at 8 sub-hop offsets -> whitened cell features
//! -> folded modulo the period -> keyed pilot test over every (offset, phase) -> soft Viterbi.

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
/// +-1.2 % steps up to +-6 %. Each is undone by resampling and searched at `SUB_SPEED` offsets.
pub(super) const SPEEDS: [f64; 10] = [
    1.012, 0.988, 1.024, 0.976, 1.036, 0.964, 1.048, 0.952, 1.06, 0.94,
];
pub(super) const SUB_SPEED: usize = 2;
/// The speed search looks at the first SPEED_SECS seconds only (bounded cost).
const SPEED_SECS: usize = 20;
/// Trials of a whole-file search: every (speed, offset, phase) combination.
#[cfg(test)]
pub(super) const TRIALS: usize = (SUB + SPEEDS.len() * SUB_SPEED) * PERIOD;
/// Share of the false-positive budget given to the speed-1 trials; the other speeds share the
/// rest (weighted union bound, see the module documentation).
pub(super) const SPEED1_SHARE: f64 = 0.9;

/// Full search: speed 1 at every offset; if that does not reach `FP_TARGET`, every other speed
/// hypothesis on the first `SPEED_SECS` s. Weighted union bound over all trials: a speed-1
/// trial's tail is multiplied by `SUB * PERIOD / SPEED1_SHARE`, any other trial's by
/// `SPEEDS.len() * SUB_SPEED * PERIOD / (1 - SPEED1_SHARE)`, so the chance that any trial of an
/// unmarked file reaches `FP_TARGET` is at most `FP_TARGET` (the early exit only skips trials,
/// which cannot raise it).
pub(super) fn search_all(x: &[f32], layout: &Layout) -> Option<Detection> {
    let trials1 = (SUB * PERIOD) as f64 / SPEED1_SHARE;
    let trials_s = (SPEEDS.len() * SUB_SPEED * PERIOD) as f64 / (1.0 - SPEED1_SHARE);
    let mut best = search(x, layout, 1.0, SUB, trials1);
    if best
        .as_ref()
        .is_some_and(|d| d.false_positive_probability <= FP_TARGET)
    {
        return best;
    }
    let head = &x[..x.len().min(SPEED_SECS * DET_RATE as usize)];
    for &s in &SPEEDS {
        // undo a speed-up by s: stretch by s (new rate DET_RATE * s, read as DET_RATE)
        let out_rate = (DET_RATE as f64 * s).round();
        let cutoff = 0.475 * DET_RATE as f64 * s.min(1.0);
        let y = resample(head, DET_RATE as f64, out_rate, cutoff);
        if let Some(d) = search(&y, layout, s as f32, SUB_SPEED, trials_s)
            && best
                .as_ref()
                .is_none_or(|b| d.false_positive_probability < b.false_positive_probability)
        {
            let found = d.false_positive_probability <= FP_TARGET;
            best = Some(d);
            if found {
                break;
            }
        }
    }
    best
}
use super::features::{CLIP, FIRST_BIN, FW, TM, W, cell_values, log_row};
/// Target false-positive probability per file (all trials included).
pub const FP_TARGET: f64 = 1e-6;

/// Folded features for one sub-hop offset.
struct Folded {
    acc: Vec<f32>, // PERIOD * CELLS
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
        log_row(row);
    }
    let mut acc = vec![0f32; PERIOD * CELLS];
    let mut count = vec![0u32; PERIOD];
    let mut u = [0f32; CELLS];
    for f in TM..nf - TM {
        let (r0, ra, rb) = (
            &logp[f * W..(f + 1) * W],
            &logp[(f - TM) * W..(f - TM + 1) * W],
            &logp[(f + TM) * W..(f + TM + 1) * W],
        );
        let rms = cell_values(r0, ra, rb, &mut u);
        if rms <= 1e-6 {
            continue;
        }
        let inv = 1.0 / rms;
        let q = f % PERIOD;
        let dst = &mut acc[q * CELLS..(q + 1) * CELLS];
        for c in 0..CELLS {
            dst[c] += (u[c] * inv).clamp(-CLIP, CLIP);
        }
        count[q] += 1;
    }
    Some(Folded {
        acc,
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
    if samples.iter().any(|v| !v.is_finite()) {
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
) -> Option<Detection> {
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(N);
    let window: Vec<f32> = (0..N)
        .map(|i| (std::f32::consts::PI * i as f32 / N as f32).sin().powi(2))
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
                soft[cell.coded as usize] += cell.chip * fd.acc[q * CELLS + c];
            }
        }
    }
    let payload = conv::decode(&soft);
    let f0 = (PERIOD - t.phase) % PERIOD;
    let start = (fd.first_sample + f0 * HOP) as f64 / DET_RATE as f64 / speed as f64;
    Some(Detection {
        payload,
        matching_bits: t.matches as u32,
        compared_bits: compared as u32,
        false_positive_probability: fpp,
        start_seconds: start,
        speed,
    })
}
