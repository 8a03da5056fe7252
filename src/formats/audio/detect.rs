//! Finds the "AI" rhythm (`·- ··`) in any audio: ours or anyone's that keeps Morse timing, any
//! tone from 300 to 3000 Hz, any unit from 40 to 200 ms, any sample rate, after lossy
//! compression; and nothing else, since a rhythm found is reported as an explicit label the file
//! carries (a false one is a false claim).
//!
//! How: a short-time spectrum (20 ms Hann window, 5 ms hop) gives, for every frequency bin in
//! the band, a narrowband energy envelope and its share of the frame's energy. Per bin, frames
//! where a pure tone dominates are grouped into tone runs (hysteresis on that share), and each
//! run is trimmed to where its level stays within 6 dB of its peak, which measures a tone's
//! length independently of the window. Four runs in a row are a candidate when they roughly
//! match the pattern (dash 2–4.5 dots, gaps 0.4–2.2 dots, nothing at that frequency for 1.5
//! units on either side, so a longer Morse word or a repeating figure does not count) and each
//! tone holds on average at least 80% of the signal's energy. A candidate is a rhythm only when
//! it is also what a deliberate signal looks like (`Spectra::confirm`): Morse proportions to a
//! quarter unit, the four tones within 3 dB, each tone's level steady (2 dB) and its frequency
//! fixed (4 Hz or 0.3%), and the gaps and surroundings quiet, 15 dB below the tones at their
//! frequency and 10 dB over the whole spectrum. Each check alone rejects every speech and music
//! candidate measured over 4.9 hours (`eval/rhythm_false_positives.sh`, at the files' own
//! rates and at 44.1 kHz) with a wide margin, while the inserted rhythm passes all of them after
//! MP3 at 64 kbit/s and resampling (the constants below give the measured values). A rhythm
//! mixed over loud content is not reported: the standard's rhythm is a signal of its own.

use realfft::RealFftPlanner;

/// One rhythm found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RhythmHit {
    /// Seconds from the start of the samples given, first tone's start to last tone's end.
    pub start: f64,
    pub end: f64,
    /// Tone frequency, Hz (to the resolution of the analysis, about 50 Hz).
    pub frequency: f64,
    /// The estimated Morse unit, seconds.
    pub unit: f64,
    /// The smallest share of the signal's energy the tone holds in any of the four tones
    /// (1.0 for a pure tone over silence).
    pub purity: f32,
}

const WINDOW_SECS: f64 = 0.020;
const HOP_SECS: f64 = 0.005;
const BAND: (f64, f64) = (300.0, 3000.0);
/// Share of the frame's energy a tone must have to start a run, and to keep it going.
const ON_SHARE: f32 = 0.45;
const OFF_SHARE: f32 = 0.25;
/// Mean share each of the four tones must hold: a deliberate tone dominates its moment (0.99
/// for ours, after MP3 and resampling too), while speech harmonics that happen to fall into the
/// rhythm measured at most 0.71 over hours of speech and music
/// (`eval/rhythm_false_positives.sh`).
const MIN_PURITY: f32 = 0.8;
/// Timing against Morse proportions, in units (the unit from the first and last tone centres,
/// 10 units apart): the two inner tone centres within a quarter unit of 3.5 and 8.5, the dash
/// 2 ± 0.5 units longer than the dots, each dot within 0.3 units of their mean. Ours measures
/// at most 0.02, 0.07 and 0.04 after MP3 and resampling.
const MAX_CENTRE_ERR: f64 = 0.25;
const MAX_DASH_ERR: f64 = 0.5;
const MAX_DOT_ERR: f64 = 0.3;
/// The four tones within 3 dB of each other (ours: 0.1 dB).
const MAX_LEVEL_SPREAD_DB: f32 = 3.0;
/// A steady level through each tone's middle: at most 2 dB of ripple (ours: 0.9 dB after MP3;
/// speech and music candidates 2.4 dB and more).
const MAX_RIPPLE_DB: f32 = 2.0;
/// One frequency throughout: the peak wanders by at most 4 Hz or 0.3 % (ours: under 0.1 Hz;
/// speech harmonics and played notes 7 Hz and more, mostly tens).
const MAX_FREQ_SPREAD_HZ: f64 = 4.0;
const MAX_FREQ_SPREAD: f64 = 0.003;
/// Between the tones and 1.5 units around them, the tone's band at least 15 dB and the whole
/// spectrum at least 10 dB below the weakest tone (ours: −20 and −19 dB or lower; speech and
/// music candidates −6 and +2 dB or higher): a rhythm is set off by silence.
const MAX_GAP_TONE_DB: f32 = -15.0;
const MAX_GAP_ALL_DB: f32 = -10.0;
/// Quietest tone considered: −50 dBFS.
const FLOOR: f32 = 1e-5;

#[derive(Debug, Clone, Copy)]
struct Run {
    start: f64,
    end: f64,
    peak: f32,
    /// Mean energy share over the run.
    share: f32,
}

/// Finds every occurrence of the rhythm in interleaved samples.
pub fn detect(samples: &[f32], rate: u32, channels: u16) -> Vec<RhythmHit> {
    let ch = usize::from(channels.max(1));
    if rate < 1000 {
        return Vec::new();
    }
    let mono: Vec<f32> = samples
        .chunks_exact(ch)
        .map(|f| f.iter().sum::<f32>() / ch as f32)
        .collect();
    // Nothing above 3 kHz matters: low-pass and decimate to about 7–8 kHz first, which makes
    // the spectra several times cheaper at 44.1 and 48 kHz.
    let factor = (rate / 7000).max(1) as usize;
    let mono = decimate(&mono, factor);
    let r = f64::from(rate) / factor as f64;
    let win = ((WINDOW_SECS * r).round() as usize).max(16);
    let hop = ((HOP_SECS * r).round() as usize).max(1);
    if mono.len() < win {
        return Vec::new();
    }
    let k_lo = ((BAND.0 * win as f64 / r).floor() as usize).max(2);
    let k_hi = ((BAND.1.min(0.45 * r) * win as f64 / r).ceil() as usize).min(win / 2 - 1);
    if k_hi <= k_lo {
        return Vec::new();
    }
    let nb = k_hi - k_lo + 1;
    let frames = (mono.len() - win) / hop + 1;
    // A full-scale sine's power summed over three Hann bins.
    let reference = 1.5 * (win as f32 / 4.0).powi(2);

    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(win);
    let hann: Vec<f32> = (0..win)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / win as f32).cos())
        .collect();
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let mut power = vec![0f32; win / 2 + 1];
    // Per frame: the power of every bin from k_lo - 2 to k_hi + 2 (relative to a full-scale
    // sine) and the frame's total power. A tone's level in bin k is the sum over k-1..=k+1.
    let nw = nb + 4;
    let mut pw = vec![0f32; frames * nw];
    let mut tot = vec![0f32; frames];
    for t in 0..frames {
        let seg = &mono[t * hop..t * hop + win];
        for ((x, &s), &w) in input.iter_mut().zip(seg).zip(&hann) {
            *x = s * w;
        }
        if fft
            .process_with_scratch(&mut input, &mut spectrum, &mut scratch)
            .is_err()
        {
            return Vec::new();
        }
        for (p, c) in power.iter_mut().zip(&spectrum) {
            *p = c.norm_sqr() / reference;
        }
        tot[t] = power[1..].iter().sum::<f32>() + f32::MIN_POSITIVE;
        for (j, p) in pw[t * nw..(t + 1) * nw].iter_mut().enumerate() {
            *p = power[(k_lo + j).saturating_sub(2)];
        }
    }
    let spec = Spectra {
        pw: &pw,
        tot: &tot,
        nw,
        bin_hz: r / win as f64,
        k_lo,
    };

    let time = |frame: usize| (frame * hop) as f64 / r + WINDOW_SECS.min(win as f64 / r) / 2.0;
    let mut hits: Vec<(RhythmHit, f32)> = Vec::new();
    let frame_of = |secs: f64| ((secs - win as f64 / r / 2.0) * r / hop as f64).round();
    for b in 0..nb {
        let runs = tone_runs(
            frames,
            |t| (spec.level(t, b), spec.level(t, b) / spec.tot[t]),
            &time,
            hop as f64 / r,
        );
        let freq = (k_lo + b) as f64 * r / win as f64;
        for (hit, strength, i) in match_pattern(&runs, freq) {
            let f = |secs: f64| frame_of(secs).clamp(0.0, (frames - 1) as f64) as usize;
            if let Some(hit) = spec.confirm(hit, b, &runs[i..i + 4], f, win as f64 / r) {
                hits.push((hit, strength));
            }
        }
    }
    // The same rhythm shows in neighbouring bins: keep the strongest of overlapping hits.
    hits.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut kept: Vec<RhythmHit> = Vec::new();
    for (h, _) in hits {
        if !kept.iter().any(|k| h.start < k.end && k.start < h.end) {
            kept.push(h);
        }
    }
    kept.sort_by(|a, b| a.start.total_cmp(&b.start));
    kept
}

/// The short-time power spectra the runs were found in.
struct Spectra<'a> {
    /// Per frame, the power of bins `k_lo - 2 ..= k_hi + 2`.
    pw: &'a [f32],
    /// Per frame, the total power.
    tot: &'a [f32],
    nw: usize,
    bin_hz: f64,
    k_lo: usize,
}

impl Spectra<'_> {
    /// The tone level in band bin `b` (power summed over three bins).
    fn level(&self, t: usize, b: usize) -> f32 {
        let row = &self.pw[t * self.nw..];
        row[b + 1] + row[b + 2] + row[b + 3]
    }

    /// The frequency of the strongest bin near band bin `b`, refined by a parabola through the
    /// log powers around it.
    fn peak_hz(&self, t: usize, b: usize) -> f64 {
        let row = &self.pw[t * self.nw..(t + 1) * self.nw];
        let j = (b + 1..=b + 3)
            .max_by(|&x, &y| row[x].total_cmp(&row[y]))
            .unwrap_or(b + 2);
        let ln = |i: usize| f64::from(row[i].max(1e-20)).ln();
        let (a, m, c) = (ln(j - 1), ln(j), ln(j + 1));
        let den = a - 2.0 * m + c;
        let d = if den < 0.0 {
            (0.5 * (a - c) / den).clamp(-0.5, 0.5)
        } else {
            0.0
        };
        ((self.k_lo + j) as f64 - 2.0 + d) * self.bin_hz
    }

    /// The checks a run match must also pass to be a deliberate rhythm (see the module
    /// documentation): Morse timing, steady level and frequency, silence between the tones.
    fn confirm(
        &self,
        hit: RhythmHit,
        b: usize,
        r: &[Run],
        frame: impl Fn(f64) -> usize,
        win: f64,
    ) -> Option<RhythmHit> {
        let centre = |x: &Run| (x.start + x.end) / 2.0;
        let dur = |x: &Run| x.end - x.start;
        let u = (centre(&r[3]) - centre(&r[0])) / 10.0;
        // Timing: tone centres at 0.5, 3.5, 8.5 and 10.5 units; the dash two units longer than
        // the dots (a difference, so the trimming of both ends cancels); the dots alike.
        let centre_err = [3.0, 8.0]
            .iter()
            .zip([&r[1], &r[2]])
            .map(|(n, x)| ((centre(x) - centre(&r[0])) / u - n).abs())
            .fold(0f64, f64::max);
        let dots = [dur(&r[0]), dur(&r[2]), dur(&r[3])];
        let dot = dots.iter().sum::<f64>() / 3.0;
        let dash_err = ((dur(&r[1]) - dot) / u - 2.0).abs();
        let dot_err = dots
            .iter()
            .map(|d| (d - dot).abs() / u)
            .fold(0f64, f64::max);
        // Level and frequency over the steady middle of each tone (half a window in from the
        // run's ends).
        let mut tone_levels = Vec::with_capacity(4);
        let mut flat = 0f32;
        let mut freqs = Vec::new();
        for x in r {
            let (a, z) = (frame(x.start + win / 2.0), frame(x.end - win / 2.0));
            let (a, z) = if a <= z {
                (a, z)
            } else {
                (frame(centre(x)), frame(centre(x)))
            };
            let lv: Vec<f32> = (a..=z).map(|t| self.level(t, b)).collect();
            let (lo, hi) = lv
                .iter()
                .fold((f32::MAX, 0f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            flat = flat.max(hi / lo.max(1e-30));
            tone_levels.push(lv.iter().sum::<f32>() / lv.len() as f32);
            freqs.extend((a..=z).map(|t| self.peak_hz(t, b)));
        }
        let (lmin, lmax) = tone_levels
            .iter()
            .fold((f32::MAX, 0f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let (fmin, fmax) = freqs
            .iter()
            .fold((f64::MAX, 0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let f_mean = freqs.iter().sum::<f64>() / freqs.len() as f64;
        // Between the tones and 1.5 units around them: the tone's frequency and the whole
        // spectrum quiet (the middle of each gap, half a window in from the tones).
        let mut quiet_tone = 0f32;
        let mut quiet_all = 0f32;
        let mut spans = vec![
            (r[0].start - 1.5 * u, r[0].start),
            (r[3].end, r[3].end + 1.5 * u),
        ];
        spans.extend(r.windows(2).map(|w| (w[0].end, w[1].start)));
        for (s, e) in spans {
            let (a, z) = (frame(s + win / 2.0), frame(e - win / 2.0));
            let (a, z) = if a <= z {
                (a, z)
            } else {
                (frame((s + e) / 2.0), frame((s + e) / 2.0))
            };
            for t in a..=z {
                quiet_tone = quiet_tone.max(self.level(t, b));
                quiet_all = quiet_all.max(self.tot[t]);
            }
        }
        let db = |x: f32| 10.0 * x.max(1e-30).log10();
        let accepted = centre_err <= MAX_CENTRE_ERR
            && dash_err <= MAX_DASH_ERR
            && dot_err <= MAX_DOT_ERR
            && db(lmax / lmin) <= MAX_LEVEL_SPREAD_DB
            && db(flat) <= MAX_RIPPLE_DB
            && fmax - fmin <= MAX_FREQ_SPREAD_HZ.max(MAX_FREQ_SPREAD * f_mean)
            && db(quiet_tone / lmin) <= MAX_GAP_TONE_DB
            && db(quiet_all / lmin) <= MAX_GAP_ALL_DB;
        if !accepted {
            return None;
        }
        Some(RhythmHit {
            frequency: f_mean,
            unit: u,
            ..hit
        })
    }
}

/// Low-pass filters (Hann-windowed sinc, cutoff at 0.45 of the new sample rate) and keeps every
/// `factor`-th sample.
fn decimate(x: &[f32], factor: usize) -> Vec<f32> {
    if factor <= 1 {
        return x.to_vec();
    }
    let half = 4 * factor;
    let cutoff = 0.45 / factor as f32; // cycles per input sample
    let taps: Vec<f32> = (0..=2 * half)
        .map(|i| {
            let n = i as f32 - half as f32;
            let sinc = if n == 0.0 {
                2.0 * cutoff
            } else {
                (2.0 * std::f32::consts::PI * cutoff * n).sin() / (std::f32::consts::PI * n)
            };
            let w = 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / (2 * half) as f32).cos();
            sinc * w
        })
        .collect();
    let gain: f32 = taps.iter().sum();
    let taps: Vec<f32> = taps.iter().map(|t| t / gain).collect();
    (0..x.len() / factor)
        .map(|o| {
            let c = o * factor;
            let lo = c.saturating_sub(half);
            let hi = (c + half).min(x.len() - 1);
            let t = &taps[lo + half - c..=hi + half - c];
            // Four partial sums so the compiler can vectorise the dot product.
            let mut acc = [0f32; 4];
            let (xs, ts) = (x[lo..=hi].chunks_exact(4), t.chunks_exact(4));
            let (xr, tr) = (xs.remainder(), ts.remainder());
            for (a, b) in xs.zip(ts) {
                for k in 0..4 {
                    acc[k] += a[k] * b[k];
                }
            }
            acc.iter().sum::<f32>() + xr.iter().zip(tr).map(|(a, b)| a * b).sum::<f32>()
        })
        .collect()
}

/// Tone runs in one bin: hysteresis on the energy share, then trimmed to −6 dB of each run's peak.
fn tone_runs(
    frames: usize,
    at: impl Fn(usize) -> (f32, f32),
    time: &impl Fn(usize) -> f64,
    hop: f64,
) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut t = 0;
    while t < frames {
        let (lv, sh) = at(t);
        if !(sh >= ON_SHARE && lv >= FLOOR) {
            t += 1;
            continue;
        }
        let a = t;
        while t < frames {
            let (lv, sh) = at(t);
            if sh < OFF_SHARE || lv < FLOOR / 4.0 {
                break;
            }
            t += 1;
        }
        let b = t; // [a, b)
        let peak = (a..b).map(|i| at(i).0).fold(0f32, f32::max);
        // Split the coarse run where the level dips more than 6 dB below its peak.
        let mut i = a;
        while i < b {
            if at(i).0 < peak / 4.0 {
                i += 1;
                continue;
            }
            let s = i;
            while i < b && at(i).0 >= peak / 4.0 {
                i += 1;
            }
            let sub_peak = (s..i).map(|j| at(j).0).fold(0f32, f32::max);
            let share = (s..i).map(|j| at(j).1).sum::<f32>() / (i - s) as f32;
            runs.push(Run {
                start: time(s) - hop / 2.0,
                end: time(i - 1) + hop / 2.0,
                peak: sub_peak,
                share,
            });
        }
    }
    runs
}

/// Every place where four runs make `·- ··`, with a strength for ranking and the index of the
/// first run.
fn match_pattern(runs: &[Run], freq: f64) -> Vec<(RhythmHit, f32, usize)> {
    let mut out = Vec::new();
    if runs.len() < 4 {
        return out;
    }
    for i in 0..=runs.len() - 4 {
        let r = &runs[i..i + 4];
        let d: Vec<f64> = r.iter().map(|x| x.end - x.start).collect();
        let dot = (d[0] + d[2] + d[3]) / 3.0;
        if !(0.030..=0.250).contains(&dot) {
            continue;
        }
        if [d[0], d[2], d[3]]
            .iter()
            .any(|&x| x < 0.6 * dot || x > 1.5 * dot)
        {
            continue;
        }
        let dash = d[1] / dot;
        if !(2.0..=4.5).contains(&dash) {
            continue;
        }
        let g = [
            r[1].start - r[0].end,
            r[2].start - r[1].end,
            r[3].start - r[2].end,
        ];
        if !(0.4 * dot..=2.2 * dot).contains(&g[0])
            || !(0.4 * dot..=2.2 * dot).contains(&g[2])
            || !(0.4 * dot..=4.5 * dot).contains(&g[1])
        {
            continue;
        }
        let (lo, hi) = r.iter().fold((f32::MAX, 0f32), |(lo, hi), x| {
            (lo.min(x.peak), hi.max(x.peak))
        });
        if hi > 6.3 * lo {
            continue;
        }
        let quiet_before = i == 0 || runs[i - 1].end <= r[0].start - 1.5 * dot;
        let quiet_after = runs
            .get(i + 4)
            .is_none_or(|n| n.start >= r[3].end + 1.5 * dot);
        if !(quiet_before && quiet_after) {
            continue;
        }
        let purity = r.iter().map(|x| x.share).fold(1f32, f32::min);
        if purity < MIN_PURITY {
            continue;
        }
        let hit = RhythmHit {
            start: r[0].start,
            end: r[3].end,
            frequency: freq,
            unit: dot,
            purity,
        };
        out.push((hit, lo, i));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Placement;
    use crate::formats::audio::rhythm::{RhythmSpec, insert};

    #[test]
    fn finds_its_own_rhythm_at_several_rates_and_units() {
        for (rate, unit, freq) in [
            (8000u32, 0.09f32, 1000.0f32),
            (44100, 0.05, 440.0),
            (16000, 0.18, 2500.0),
            (8000, 0.04, 3000.0),
            (48000, 0.2, 300.0),
            (22050, 0.12, 700.0),
        ] {
            let mut s = vec![0f32; rate as usize];
            let spec = RhythmSpec {
                unit,
                frequency: freq,
                ..Default::default()
            };
            let placed = insert(&mut s, rate, 1, Placement::Both, &spec).unwrap();
            let hits = detect(&s, rate, 1);
            assert_eq!(hits.len(), 2, "rate {rate} unit {unit}: {hits:?}");
            for (h, p) in hits.iter().zip(&placed) {
                assert!(
                    (h.start - p.start).abs() < 0.02 && (h.end - p.end).abs() < 0.02,
                    "{h:?} vs {p:?}"
                );
                assert!((h.unit - f64::from(unit)).abs() < 0.02);
            }
        }
    }

    #[test]
    fn ignores_other_morse_and_steady_tones() {
        let rate = 8000;
        let tone = |secs: f32| -> Vec<f32> {
            (0..(secs * rate as f32) as usize)
                .map(|i| 0.3 * (i as f32 * 0.7).sin())
                .collect()
        };
        let silence = |secs: f32| vec![0f32; (secs * rate as f32) as usize];
        // "·-···" (a longer sequence containing ·-··) and a steady tone.
        let mut s = Vec::new();
        for (on, len) in [
            (true, 1.0),
            (false, 1.0),
            (true, 3.0),
            (false, 1.0),
            (true, 1.0),
            (false, 1.0),
            (true, 1.0),
            (false, 1.0),
            (true, 1.0),
        ] {
            s.extend(if on {
                tone(0.08 * len)
            } else {
                silence(0.08 * len)
            });
        }
        s.extend(silence(1.0));
        s.extend(tone(2.0));
        assert!(detect(&s, rate, 1).is_empty());
    }
}
