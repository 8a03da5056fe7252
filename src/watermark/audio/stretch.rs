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
//! period phases. Search: every tempo and pitch point, and every point of the detector's speed
//! grid (tempo and pitch both moved), is screened on the 10 ms grid (the two offsets the
//! speed-1 step always computes) with an approximate variance term (`screen`); the screen
//! decides whether `detect` resamples for a speed at all, and if the best screened tempo or
//! pitch reaches `SCREEN_Z`, the 8 sub-hop offsets of the head are computed afresh and that
//! hypothesis and its 2 line neighbours are searched on the 2.5 ms grid. Only those refined
//! statistics (fixed functions of the audio) can be reported as a detection; otherwise the
//! search reports nothing new, so the bound counts the refined grid.

use super::detect::{
    DET_RATE, Folded, Found, Frames, HOP, SPEED_J, SPEED_STEP, SUB, best_phase, correlator, finish,
    head_frames,
};
use super::layout::{BAND_LO_HZ, CELL_HZ, CELLS, Layout, PERIOD, PILOT_PER_FRAME};

pub(super) const TEMPO_STEP: f64 = 0.003;
pub(super) const TEMPO_J: i32 = 34;
pub(super) const PITCH_STEP: f64 = 0.003;
pub(super) const PITCH_J: i32 = 17;
/// Screening level: the best screened hypothesis of a line is searched exactly only if it
/// reaches this (the pass needs 7.20 for a speed, 7.43 for a tempo or pitch; the exact `z` is
/// about 10 % above the screened one). Unmarked audio stops there: on the first 20 s of the 22
/// corpus items of at least 5 s the best screened tempo, pitch and speed were 3.8-4.9, 3.4-4.4
/// and 3.7-4.6 (131 776 screened statistics per file); marked ones changed by sox (speed
/// +-5 %, tempo +8 %, pitch +70 cents) scored 9.8-15.6 on their line.
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

/// Line 0 (tempo), 1 (pitch) or 2 (speed: both, the speed grid of `detect`), grid index.
fn hyp(line: usize, j: i32) -> Hyp {
    match line {
        0 => Hyp {
            tempo: 1.0 + TEMPO_STEP * j as f64,
            pitch: 1.0,
        },
        1 => Hyp {
            tempo: 1.0,
            pitch: 1.0 + PITCH_STEP * j as f64,
        },
        _ => {
            let s = 1.0 + SPEED_STEP * j as f64;
            Hyp { tempo: s, pitch: s }
        }
    }
}

const LINE_J: [i32; 2] = [TEMPO_J, PITCH_J];

/// Original cell `c` <- input cells `(i, i + 1)` with weights `(1 - w, w)`, `(i, w) = map[c]`,
/// under a pitch factor (`i == CELLS`: outside the band, zero).
fn cell_map(pitch: f64) -> [(usize, f32); CELLS] {
    let lo = BAND_LO_HZ / CELL_HZ + 0.5;
    std::array::from_fn(|c| {
        let pos = (c as f64 + lo) * pitch - lo;
        if pos < 0.0 || pos > (CELLS - 1) as f64 {
            (CELLS, 0.0)
        } else {
            let i = (pos.floor() as usize).min(CELLS - 1);
            (i, (pos - i as f64) as f32)
        }
    })
}

/// Fold `frames` under `h` from time origin `t0` (samples); the payload features only if
/// `payload`.
fn fold(frames: &[Frames], h: Hyp, t0: f64, payload: bool) -> Folded {
    let mut acc = vec![0f32; PERIOD * CELLS];
    let mut dacc = vec![0f32; if payload { PERIOD * CELLS } else { 0 }];
    let mut count = vec![0u32; PERIOD];
    let map = cell_map(h.pitch);
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

/// The screens' frames: those of offsets 0 and HOP / 2 (a 10 ms grid) among the frames the
/// speed-1 step kept (it always computes these two).
pub(super) fn screen_frames(kept: Vec<Frames>) -> Vec<Frames> {
    kept.into_iter()
        .filter(|f| f.offset == 0 || f.offset == HOP / 2)
        .collect()
}

/// Time origins of the screens.
const T0_SCREEN: [f64; 2] = [0.0, (HOP / 2) as f64];

/// Best screened score and grid index of each line: tempo, pitch and speed (tempo and pitch
/// both `1 + SPEED_STEP * j`, the speed grid of `detect`).
pub(super) struct Screened {
    top: [(f64, i32); 3],
}

impl Screened {
    /// The speed grid index worth resampling for, if its screened score reaches `SCREEN_Z`
    /// (only then can an exact speed trial near it pass); unmarked audio needs none.
    pub(super) fn speed(&self) -> Option<i32> {
        let (z, j) = self.top[2];
        (z >= SCREEN_Z).then_some(j)
    }
}

const _: () = assert!(SPEED_STEP == TEMPO_STEP && SPEED_J <= TEMPO_J);

/// The screen of every point of the tempo, pitch and speed lines, scored by
/// `S / sqrt(share * sum A^2)` at its best time origin and phase (`share` the pilot cells'
/// share of the cells: the variance term of every phase approximated by that of an average
/// phase). A hypothesis of pitch `p` and tempo `t` folds to the tempo-`t` fold with its cells
/// mapped (`cell_map(p)`, the same linear map for every frame), and the FFT along the period
/// commutes with that map: each tempo's fold and column spectra (the tempo line, tempo 1 for
/// the pitch line, tempo `s` for speed `s`) serve all of its pitch factors. Only selects what
/// is refined.
pub(super) fn screen(frames: &[Frames], layout: &Layout) -> Screened {
    let corr = correlator(layout);
    let share = PILOT_PER_FRAME as f64 / CELLS as f64;
    let mut top = [(f64::MIN, 0i32); 3];
    if frames.is_empty() {
        return Screened { top };
    }
    let identity = cell_map(1.0);
    let pitch_maps: Vec<(i32, [(usize, f32); CELLS])> = (1..=PITCH_J)
        .flat_map(|j| [j, -j])
        .map(|j| (j, cell_map(hyp(1, j).pitch)))
        .collect();
    // speed maps indexed by j + SPEED_J
    let speed_maps: Vec<[(usize, f32); CELLS]> = (-SPEED_J..=SPEED_J)
        .map(|j| cell_map(hyp(2, j).pitch))
        .collect();
    let mut consider = |line: usize, j: i32, z: f64| {
        if z > top[line].0 {
            top[line] = (z, j);
        }
    };
    for t0 in T0_SCREEN {
        for jt in -TEMPO_J..=TEMPO_J {
            let fd = fold(frames, hyp(0, jt), t0, false);
            let spectra = corr.column_spectra(&fd.acc);
            let gram = ColumnGram::new(&fd.acc);
            let rate = |map: &[(usize, f32); CELLS]| {
                let v = gram.mapped_energy(map);
                if v <= 0.0 {
                    return f64::MIN;
                }
                let s = corr.correlate_chips_mapped(&spectra, map);
                s.into_iter().fold(f64::MIN, f64::max) / (share * v).sqrt()
            };
            if jt == 0 {
                for (j, map) in &pitch_maps {
                    consider(1, *j, rate(map));
                }
                continue;
            }
            consider(0, jt, rate(&identity));
            if jt.abs() <= SPEED_J {
                consider(2, jt, rate(&speed_maps[(jt + SPEED_J) as usize]));
            }
        }
    }
    Screened { top }
}

/// Per cell `i` of folded features `A` (`PERIOD x CELLS`): `sum A_i^2` and `sum A_i A_{i+1}`
/// over the period, from which the energy of any cell map follows in `CELLS` steps.
struct ColumnGram {
    sq: [f64; CELLS],
    cross: [f64; CELLS],
}

impl ColumnGram {
    fn new(acc: &[f32]) -> Self {
        let (mut sq, mut cross) = ([0f32; CELLS], [0f32; CELLS]);
        for row in acc.chunks_exact(CELLS) {
            for (s, &a) in sq.iter_mut().zip(row) {
                *s += a * a;
            }
            for ((x, &a), &b) in cross.iter_mut().zip(row).zip(&row[1..]) {
                *x += a * b;
            }
        }
        ColumnGram {
            sq: sq.map(f64::from),
            cross: cross.map(f64::from),
        }
    }

    /// `sum A'^2` of the features with their cells mapped by `map`,
    /// `A'_c = (1 - w) A_i + w A_{i+1}`.
    fn mapped_energy(&self, map: &[(usize, f32); CELLS]) -> f64 {
        map.iter()
            .filter(|&&(i, _)| i < CELLS)
            .map(|&(i, w)| {
                let (w0, w1) = (1.0 - f64::from(w), f64::from(w));
                let mut e = w0 * w0 * self.sq[i];
                if i + 1 < CELLS {
                    e += 2.0 * w0 * w1 * self.cross[i] + w1 * w1 * self.sq[i + 1];
                }
                e
            })
            .sum()
    }
}

/// The tempo and pitch search on `head` (the first `HEAD_FRAMES` frames' worth of 16 kHz
/// audio) given the screen (`screen`); returns `best` unless a candidate of this search has a
/// lower false-positive probability. `trials` is the multiplicity of every trial outside
/// speed 1 (see the module documentation of the scheme).
pub(super) fn search(
    head: &[f32],
    layout: &Layout,
    screened: &Screened,
    trials: f64,
    best: Found,
) -> Found {
    // the better of the tempo and pitch lines' best screened points
    let [t, p, _] = screened.top;
    let top = if p.0 > t.0 {
        (p.0, 1, p.1)
    } else {
        (t.0, 0, t.1)
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The screen's shortcut (the tempo fold's column spectra and column sums, mapped across
    /// the cells) gives the correlation and energy of the fold under the full hypothesis.
    #[test]
    fn mapped_spectra_match_the_pitch_fold() {
        let mut s = 99u64;
        let mut noise = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        };
        let n = 700;
        let frames: Vec<Frames> = [0, HOP / 2]
            .into_iter()
            .map(|offset| Frames {
                offset,
                a: (0..n * CELLS).map(|_| noise()).collect(),
                d: Vec::new(),
                ok: (0..n).map(|f| f % 37 != 5).collect(),
            })
            .collect();
        let layout = Layout::new(&[3u8; 32]);
        let corr = correlator(&layout);
        for (line, j) in [(2, 13), (2, -20), (1, 17), (1, -9)] {
            let h = hyp(line, j);
            let tempo_only = fold(&frames, Hyp { pitch: 1.0, ..h }, 0.0, false);
            let full = fold(&frames, h, 0.0, false);
            let map = cell_map(h.pitch);
            let s = corr.correlate_chips_mapped(&corr.column_spectra(&tempo_only.acc), &map);
            let (s_ref, _) = corr.correlate(&full.acc);
            let scale = s_ref.iter().fold(0f64, |m, v| m.max(v.abs()));
            for (a, b) in s.iter().zip(&s_ref) {
                assert!((a - b).abs() <= 1e-4 * scale, "{line} {j}: {a} vs {b}");
            }
            let e = ColumnGram::new(&tempo_only.acc).mapped_energy(&map);
            let e_ref: f64 = full.acc.iter().map(|&a| f64::from(a) * f64::from(a)).sum();
            assert!(
                (e - e_ref).abs() <= 1e-4 * e_ref,
                "{line} {j}: {e} vs {e_ref}"
            );
        }
    }
}
