//! Tempo and pitch search: time-stretch (tempo changed, pitch kept) and pitch shift (pitch
//! changed, tempo kept) decouple the axes the speed search moves together. Neither needs new
//! spectra: the unfolded cell features of the first `HEAD_FRAMES` frames are re-folded under a
//! hypothesis. A tempo `t` (input played `t` times faster) puts the original frame `j` at input
//! time `t0 + j * HOP / t`, read from the nearest computed frame (the sub-hop offsets form a
//! grid of frames 10 ms apart, 2.5 ms when refined); a pitch factor `p` puts the original
//! cell `c` (centre `(6.5 + c) * 75` Hz) at input cell `(6.5 + c) * p - 6.5`, read by linear
//! interpolation between the two nearest cells. The features are log-power, so the phase
//! smearing of a WSOLA or phase-vocoder stretch does not matter; their time jitter (a few ms)
//! costs part of `z`.
//!
//! Grid: tempo `1 + TEMPO_STEP * j`, `0 < |j| <= TEMPO_J` (+-10.2 %, 0.3 % steps) at pitch 1,
//! and pitch `1 + PITCH_STEP * j`, `0 < |j| <= PITCH_J` (+-5.1 %, 86 cents) at tempo 1; each at
//! `T0S` time origins `HOP / T0S` apart, on the 2.5 ms frame grid: `TRIALS` trials with the
//! period phases. Search: every tempo point and every second pitch point (then the two next to
//! the best) are screened on the 10 ms grid (the two offsets the speed-1 step always computes)
//! with an approximate variance term; if the best screened score reaches `SCREEN_Z`, the 8
//! sub-hop offsets of the head are computed afresh and that hypothesis and its 2 line
//! neighbours are searched on the 2.5 ms grid. Only those refined statistics (fixed functions
//! of the audio) can be reported as a detection; otherwise the search reports nothing new, so
//! the bound counts the refined grid.

use super::detect::{
    DET_RATE, Folded, Found, Frames, HOP, SUB, best_phase, correlator, finish, head_frames,
};
use super::layout::{BAND_LO_HZ, CELL_HZ, CELLS, Layout, PERIOD, PILOT_PER_FRAME};

pub(super) const TEMPO_STEP: f64 = 0.003;
pub(super) const TEMPO_J: i32 = 34;
pub(super) const PITCH_STEP: f64 = 0.003;
pub(super) const PITCH_J: i32 = 17;
/// Screening level: the best screened hypothesis is refined only if it reaches this (the pass
/// needs 7.43; the refined `z` is about 10 % above the screened one). Unmarked audio, whose
/// best of about 40000 screened statistics is about 4, stops there.
const SCREEN_Z: f64 = 5.0;
/// Time origins per hypothesis, `HOP / T0S` apart.
pub(super) const T0S: usize = 2;
/// Trials of the refined tempo and pitch grid (hypothesis x time origin x period phase).
pub(super) const TRIALS: usize = 2 * (TEMPO_J + PITCH_J) as usize * T0S * PERIOD;

/// A hypothesis: the input is the original played `tempo` times faster with its frequencies
/// multiplied by `pitch`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Hyp {
    tempo: f64,
    pitch: f64,
}

/// Line 0 (tempo) or 1 (pitch), grid index.
fn hyp(line: usize, j: i32) -> Hyp {
    if line == 0 {
        Hyp {
            tempo: 1.0 + TEMPO_STEP * j as f64,
            pitch: 1.0,
        }
    } else {
        Hyp {
            tempo: 1.0,
            pitch: 1.0 + PITCH_STEP * j as f64,
        }
    }
}

const LINE_J: [i32; 2] = [TEMPO_J, PITCH_J];

/// Fold `frames` under `h` from time origin `t0` (samples); the payload features only if
/// `payload`.
fn fold(frames: &[Frames], h: Hyp, t0: f64, payload: bool) -> Folded {
    let mut acc = vec![0f32; PERIOD * CELLS];
    let mut dacc = vec![0f32; if payload { PERIOD * CELLS } else { 0 }];
    let mut count = vec![0u32; PERIOD];
    // original cell c <- input cells (i, i + 1) with weights (1 - w, w)
    let lo = BAND_LO_HZ / CELL_HZ + 0.5;
    let map: Vec<(usize, f32)> = (0..CELLS)
        .map(|c| {
            let pos = (c as f64 + lo) * h.pitch - lo;
            if pos < 0.0 || pos > (CELLS - 1) as f64 {
                (CELLS, 0.0)
            } else {
                let i = (pos.floor() as usize).min(CELLS - 1);
                (i, (pos - i as f64) as f32)
            }
        })
        .collect();
    let identity = h.pitch == 1.0;
    let remap = |src: &[f32], dst: &mut [f32]| {
        if identity {
            for (d, s) in dst.iter_mut().zip(src) {
                *d += s;
            }
            return;
        }
        for (d, &(i, w)) in dst.iter_mut().zip(&map) {
            if i < CELLS {
                let b = if i + 1 < CELLS { src[i + 1] } else { 0.0 };
                *d += (1.0 - w) * src[i] + w * b;
            }
        }
    };
    let last = frames
        .iter()
        .map(|fr| fr.offset + fr.ok.len().saturating_sub(1) * HOP)
        .max()
        .unwrap_or(0) as f64;
    let step = HOP as f64 / h.tempo;
    let mut j = 0usize;
    loop {
        let t = t0 + j as f64 * step;
        if t > last + HOP as f64 {
            break;
        }
        let mut pick = None;
        let mut bd = f64::MAX;
        for (i, fr) in frames.iter().enumerate() {
            let f = ((t - fr.offset as f64) / HOP as f64).round();
            if f < 0.0 || f as usize >= fr.ok.len() {
                continue;
            }
            let d = (fr.offset as f64 + f * HOP as f64 - t).abs();
            if d < bd {
                bd = d;
                pick = Some((i, f as usize));
            }
        }
        if let Some((i, f)) = pick
            && frames[i].ok[f]
        {
            let q = j % PERIOD;
            let fr = &frames[i];
            remap(
                &fr.a[f * CELLS..(f + 1) * CELLS],
                &mut acc[q * CELLS..(q + 1) * CELLS],
            );
            if payload {
                remap(
                    &fr.d[f * CELLS..(f + 1) * CELLS],
                    &mut dacc[q * CELLS..(q + 1) * CELLS],
                );
            }
            count[q] += 1;
        }
        j += 1;
    }
    Folded {
        acc,
        dacc,
        count,
        first_sample: 0,
    }
}

/// Best `(z, t0, phase)` of `h` over the time origins `t0s`.
fn score(frames: &[Frames], layout: &Layout, h: Hyp, t0s: &[f64]) -> Option<(f64, f64, usize)> {
    let corr = correlator(layout);
    let mut best: Option<(f64, f64, usize)> = None;
    for &t0 in t0s {
        let fd = fold(frames, h, t0, false);
        if let Some((phase, z)) = best_phase(corr, &fd)
            && best.is_none_or(|b| z > b.0)
        {
            best = Some((z, t0, phase));
        }
    }
    best
}

/// Screening score of `h`: the best over `t0s` and the phases of `S / sqrt(share * sum A^2)`,
/// `share` the pilot cells' share of the cells (the variance term of every phase approximated by
/// that of an average phase: half the correlation work). Only selects what is refined.
fn screen_score(frames: &[Frames], layout: &Layout, h: Hyp, t0s: &[f64]) -> f64 {
    let corr = correlator(layout);
    let share = PILOT_PER_FRAME as f64 / CELLS as f64;
    let mut best = f64::MIN;
    for &t0 in t0s {
        let fd = fold(frames, h, t0, false);
        let v: f64 = fd.acc.iter().map(|&a| f64::from(a) * f64::from(a)).sum();
        if v <= 0.0 {
            continue;
        }
        let norm = 1.0 / (share * v).sqrt();
        let top = corr
            .correlate_chips(&fd.acc)
            .into_iter()
            .fold(f64::MIN, f64::max);
        best = best.max(top * norm);
    }
    best
}

/// The tempo and pitch search on `head` (the first `HEAD_FRAMES` frames' worth of 16 kHz
/// audio) given the frames the speed-1 step kept; returns `best` unless a candidate of this
/// search has a lower false-positive probability. `trials` is the multiplicity of every trial
/// outside speed 1 (see the module documentation of the scheme).
pub(super) fn search(
    head: &[f32],
    layout: &Layout,
    kept: Vec<Frames>,
    trials: f64,
    best: Found,
) -> Found {
    // the screen: frames of offsets 0 and HOP / 2 (10 ms grid), time origins 0 and HOP / 2
    let screen: Vec<Frames> = kept
        .into_iter()
        .filter(|f| f.offset == 0 || f.offset == HOP / 2)
        .collect();
    if screen.is_empty() {
        return best;
    }
    let t0_screen = [0.0, (HOP / 2) as f64];
    // (z, line, j) of the best screened hypothesis: every tempo grid point (a tempo 0.3 % off
    // drifts by 3 frames over 20 s), every second pitch grid point and the two next to the
    // best one (a pitch 0.3 % off moves the top cell by 22 Hz, under a third of a cell)
    let mut top = (f64::MIN, 0usize, 0i32);
    for j in (1..=TEMPO_J).flat_map(|j| [j, -j]) {
        let z = screen_score(&screen, layout, hyp(0, j), &t0_screen);
        if z > top.0 {
            top = (z, 0, j);
        }
    }
    let mut pitch_top = (f64::MIN, 0i32);
    for j in (1..=PITCH_J / 2).flat_map(|k| [2 * k, -2 * k]) {
        let z = screen_score(&screen, layout, hyp(1, j), &t0_screen);
        if z > pitch_top.0 {
            pitch_top = (z, j);
        }
    }
    for j in [pitch_top.1 + 1, pitch_top.1 - 1] {
        if j != 0 && j.abs() <= PITCH_J {
            let z = screen_score(&screen, layout, hyp(1, j), &t0_screen);
            if z > pitch_top.0 {
                pitch_top = (z, j);
            }
        }
    }
    if pitch_top.0 > top.0 {
        top = (pitch_top.0, 1, pitch_top.1);
    }
    let (z, line, centre) = top;
    if z < SCREEN_Z {
        // cannot pass (the threshold is far above SCREEN_Z): nothing to refine
        return best;
    }
    // refine on the 2.5 ms grid at every time origin
    let offsets: Vec<usize> = (0..SUB).map(|o| o * HOP / SUB).collect();
    let fine = head_frames(head, &offsets);
    let t0s: Vec<f64> = (0..T0S).map(|k| (k * HOP / T0S) as f64).collect();
    let mut win: Option<(f64, f64, usize, Hyp)> = None;
    for dj in [0, 1, -1] {
        let j = centre + dj;
        if j == 0 || j.abs() > LINE_J[line] {
            continue;
        }
        let h = hyp(line, j);
        if let Some((z, t0, phase)) = score(&fine, layout, h, &t0s)
            && win.is_none_or(|w| z > w.0)
        {
            win = Some((z, t0, phase, h));
        }
    }
    let Some((z, t0, phase, h)) = win else {
        return best;
    };
    let fd = fold(&fine, h, t0, true);
    let f0 = (PERIOD - phase) % PERIOD;
    let start = (t0 + f0 as f64 * HOP as f64 / h.tempo) / DET_RATE as f64;
    let f = finish(fd, layout, phase, z, trials, h.tempo as f32, start);
    if f.det.false_positive_probability < best.det.false_positive_probability {
        f
    } else {
        best
    }
}
