//! The audible label of GB 45438 5.3: the rhythm "short long short short" (Morse `·- ··`, "AI")
//! as a tone sequence inserted before and/or after the content.
//!
//! Inserted, not mixed: a tone over speech or music is harder to hear and changes the content
//! itself, while silence-padded tones before (or after) it keep every original sample and sound
//! like the deliberate signal they are. The defaults follow Morse timing at about 13 words a
//! minute: a 1 kHz sine, dot 90 ms, dash 3 dots, element gap 1 dot, letter gap 3 dots, 8 ms
//! raised-cosine fades (no clicks), at −12 dBFS, with 400 ms of silence between the rhythm and
//! the content.

use crate::error::{Error, Result};
use crate::format::Placement;

/// How the rhythm sounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RhythmSpec {
    /// Tone frequency in Hz (lowered to a quarter of the sample rate when that is less).
    pub frequency: f32,
    /// The Morse unit (a dot) in seconds.
    pub unit: f32,
    /// Peak amplitude (0.25 ≈ −12 dBFS).
    pub amplitude: f32,
    /// Raised-cosine fade in and out of each tone, seconds.
    pub fade: f32,
    /// Silence between the rhythm and the content, seconds.
    pub gap: f32,
    /// Silence before the rhythm at the start (and after it at the end), seconds.
    pub margin: f32,
}

impl Default for RhythmSpec {
    fn default() -> Self {
        RhythmSpec {
            frequency: 1000.0,
            unit: 0.09,
            amplitude: 0.25,
            fade: 0.008,
            gap: 0.4,
            margin: 0.05,
        }
    }
}

/// Tone (true) and silence (false) lengths in units: `·` gap `−` letter-gap `·` gap `·`.
pub const PATTERN: [(bool, u32); 7] = [
    (true, 1),
    (false, 1),
    (true, 3),
    (false, 3),
    (true, 1),
    (false, 1),
    (true, 1),
];

/// Units the pattern lasts (11).
pub fn pattern_units() -> u32 {
    PATTERN.iter().map(|&(_, n)| n).sum()
}

/// The tone sequence alone, mono, at `rate`.
pub fn tones(rate: u32, spec: &RhythmSpec) -> Vec<f32> {
    let r = rate as f32;
    let freq = spec.frequency.min(r / 4.0);
    let unit = (spec.unit * r).round() as usize;
    let fade = ((spec.fade * r).round() as usize).min(unit / 2);
    let mut out = Vec::with_capacity(unit * pattern_units() as usize);
    for &(on, n) in &PATTERN {
        let len = unit * n as usize;
        if !on {
            out.resize(out.len() + len, 0.0);
            continue;
        }
        for i in 0..len {
            let env = if i < fade {
                0.5 - 0.5 * (std::f32::consts::PI * i as f32 / fade as f32).cos()
            } else if len - i <= fade {
                0.5 - 0.5 * (std::f32::consts::PI * (len - i) as f32 / fade as f32).cos()
            } else {
                1.0
            };
            let phase = 2.0 * std::f32::consts::PI * freq * i as f32 / r;
            out.push(spec.amplitude * env * phase.sin());
        }
    }
    out
}

/// Where the rhythm went, in seconds from the start of the output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inserted {
    pub start: f64,
    pub end: f64,
}

/// The interleaved blocks that go before and after content of `content_frames` frames (either
/// may be empty), and where the tone sequences are in the result.
pub fn blocks(
    rate: u32,
    channels: u16,
    content_frames: usize,
    placement: Placement,
    spec: &RhythmSpec,
) -> Result<(Vec<f32>, Vec<f32>, Vec<Inserted>)> {
    if rate == 0 || channels == 0 {
        return Err(Error::malformed(
            "audio",
            "sample rate and channel count must not be zero",
        ));
    }
    let (start, end) = match placement {
        Placement::Start => (true, false),
        Placement::End => (false, true),
        Placement::Both => (true, true),
        other => {
            return Err(Error::Unsupported(format!(
                "the audible label goes at the start, the end or both, not {}",
                other.name()
            )));
        }
    };
    let ch = usize::from(channels);
    let t = tones(rate, spec);
    let secs = |frames: usize| frames as f64 / f64::from(rate);
    let margin = (spec.margin * rate as f32).round() as usize;
    let gap = (spec.gap * rate as f32).round() as usize;
    let interleave = |mono: &[f32], out: &mut Vec<f32>| {
        for &x in mono {
            out.extend(std::iter::repeat_n(x, ch));
        }
    };
    let mut placed = Vec::new();
    let (mut before, mut after) = (Vec::new(), Vec::new());
    if start {
        before.resize(margin * ch, 0.0);
        interleave(&t, &mut before);
        before.resize(before.len() + gap * ch, 0.0);
        placed.push(Inserted {
            start: secs(margin),
            end: secs(margin + t.len()),
        });
    }
    if end {
        let at = before.len() / ch + content_frames + gap;
        after.resize(gap * ch, 0.0);
        interleave(&t, &mut after);
        after.resize(after.len() + margin * ch, 0.0);
        placed.push(Inserted {
            start: secs(at),
            end: secs(at + t.len()),
        });
    }
    Ok((before, after, placed))
}

/// Inserts the rhythm into interleaved `samples` at the start, the end or both; returns where
/// the tone sequences are in the result.
pub fn insert(
    samples: &mut Vec<f32>,
    rate: u32,
    channels: u16,
    placement: Placement,
    spec: &RhythmSpec,
) -> Result<Vec<Inserted>> {
    let ch = usize::from(channels.max(1));
    let frames = samples.len() / ch;
    let (before, after, placed) = blocks(rate, channels, frames, placement, spec)?;
    let mut out = before;
    out.reserve(frames * ch + after.len());
    out.extend_from_slice(&samples[..frames * ch]);
    out.extend_from_slice(&after);
    *samples = out;
    Ok(placed)
}

/// The seal's `ex=` text for inserted rhythms: `morse.<placement>.<start>-<end>[.<start>-<end>]`
/// with times in whole milliseconds (only characters Annex E allows).
pub fn record(placement: Placement, placed: &[Inserted]) -> String {
    let mut s = format!("morse.{}", placement.name());
    for p in placed {
        s.push_str(&format!(
            ".{}-{}",
            (p.start * 1000.0).round() as u64,
            (p.end * 1000.0).round() as u64
        ));
    }
    s
}

/// Parses [`record`]'s text into its time ranges (seconds); `None` for anything else.
pub fn parse_record(text: &str) -> Option<Vec<(f64, f64)>> {
    let mut parts = text.split('.');
    if parts.next()? != "morse" {
        return None;
    }
    parts.next()?;
    let ranges: Option<Vec<_>> = parts
        .map(|p| {
            let (a, b) = p.split_once('-')?;
            let (a, b) = (a.parse::<u64>().ok()?, b.parse::<u64>().ok()?);
            (a < b).then_some((a as f64 / 1000.0, b as f64 / 1000.0))
        })
        .collect();
    ranges.filter(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_around_the_content_and_records_where() {
        let mut s = vec![0.5f32; 2 * 8000];
        let placed = insert(&mut s, 8000, 2, Placement::Both, &RhythmSpec::default()).unwrap();
        assert_eq!(placed.len(), 2);
        assert!((placed[0].end - placed[0].start - 0.99).abs() < 1e-3);
        let rec = record(Placement::Both, &placed);
        assert_eq!(parse_record(&rec).unwrap().len(), 2);
        assert!(rec.chars().all(crate::label::is_allowed_char));
        assert!(parse_record("morse.start.5-3").is_none());
        assert!(insert(&mut s, 8000, 2, Placement::TopLeft, &RhythmSpec::default()).is_err());
    }
}
