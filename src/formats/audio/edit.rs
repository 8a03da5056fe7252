//! The content-editing pipeline shared by the compressed formats, and the explicit-label checks
//! shared by all audio formats.
//!
//! Editing decodes once, inserts the rhythm, hands the samples to the watermark hook, and
//! encodes once, as WAV: there is no well-kept pure-Rust MP3 encoder, and `flacenc` (the one FLAC
//! encoder) would add a second, heavy dependency for a path services rarely take (they label PCM
//! before their own encoder; see [`super::pcm`]). The note in [`Edited::notes`] says so.

use crate::error::{Error, Result};
use crate::findings::Finding;
use crate::format::{
    ContentEdits, Edited, ExplicitKind, ExplicitMark, Format, Placement, ScanOptions,
    WatermarkCheck,
};
use crate::watermark::WatermarkKey;

use super::decode::{Pcm, decode_all};
use super::detect::{RhythmHit, detect};
use super::rhythm::{self, RhythmSpec};
use super::{location, pcm};

/// The placement asked for, when an explicit label is requested (default: start).
pub(crate) fn rhythm_request(edits: &ContentEdits<'_>) -> Result<Option<Placement>> {
    let Some(ex) = edits.explicit else {
        return Ok(None);
    };
    if ex.text.is_some() {
        return Err(Error::Unsupported(
            "a spoken audio prompt is not generated; leave the text empty to add the \"AI\" rhythm"
                .into(),
        ));
    }
    Ok(Some(ex.placement.unwrap_or(Placement::Start)))
}

/// The watermark step: embeds `payload` into interleaved samples, or says why the mark is not
/// there, worded for [`not_embedded`], so that a seal records `wm=` only for a real mark. The mark is claimed only when the detector's own speed-1 search reads the
/// payload back from the marked samples at its usual threshold, so a file labeled this way never
/// has its verification warn that the recorded watermark is missing. Audio shorter than one
/// period is left untouched; audio that got some mark but not enough keeps that inaudible,
/// unclaimed remainder.
pub(crate) fn embed_watermark(
    samples: &mut [f32],
    channels: u16,
    rate: u32,
    key: &WatermarkKey,
    payload: [u8; 8],
) -> std::result::Result<(), String> {
    embed_watermark_into(Marked::F32(samples), channels, rate, key, payload)
}

/// Samples the watermark step marks in place: floats, or the 16-bit little-endian PCM bytes of
/// a WAV `data` chunk (marked where they lie in the output file).
pub(crate) enum Marked<'a> {
    F32(&'a mut [f32]),
    Pcm16le(&'a mut [u8]),
}

/// [`embed_watermark`] for either kind of samples.
pub(crate) fn embed_watermark_into(
    mut samples: Marked<'_>,
    channels: u16,
    rate: u32,
    key: &WatermarkKey,
    payload: [u8; 8],
) -> std::result::Result<(), String> {
    use crate::watermark::audio as wm;
    let ch = usize::from(channels.max(1));
    let count = match &samples {
        Marked::F32(s) => s.len(),
        Marked::Pcm16le(b) => b.len() / 2,
    };
    let seconds = if rate == 0 {
        0.0
    } else {
        (count / ch) as f64 / f64::from(rate)
    };
    if seconds < wm::PERIOD_SECONDS {
        return Err(format!(
            "the audio lasts {seconds:.2} s, and the watermark needs at least {:.2} s (one whole \
             period)",
            wm::PERIOD_SECONDS
        ));
    }
    let opts = wm::EmbedOptions::default();
    let ch = usize::from(channels);
    let report = match &mut samples {
        Marked::F32(s) => wm::embed(s, ch, rate, &payload, key, &opts),
        Marked::Pcm16le(b) => wm::embed_pcm16le(b, ch, rate, &payload, key, &opts),
    }
    .map_err(|e| format!("the watermark cannot be embedded: {e}"))?;
    if !report.holds_a_period() {
        return Err(format!(
            "only {:.2} s of the {seconds:.2} s carry sound the watermark can follow, and it \
             needs {:.2} s (one whole period)",
            report.marked_seconds(),
            wm::PERIOD_SECONDS
        ));
    }
    let confirmed = match &samples {
        Marked::F32(s) => wm::confirm(s, ch, rate, key, &payload),
        Marked::Pcm16le(b) => wm::confirm_pcm16le(b, ch, rate, key, &payload),
    };
    match confirmed {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!(
            "the watermark was added to {:.2} s of sound but cannot be read back with the \
             required confidence (the sound is too sparse or too quiet)",
            report.marked_seconds()
        )),
        Err(e) => Err(format!("the watermark could not be checked: {e}")),
    }
}

/// The note for a watermark that was asked for but is not there (so not sealed).
pub(crate) fn not_embedded(reason: &str) -> Finding {
    Finding::info(
        "watermark.not_embedded",
        format!("no watermark is recorded in the seal: {reason}"),
    )
}

/// Looks for the watermark when asked to: decodes the whole file (bounded by
/// `Limits::max_audio_seconds`). Audio that cannot be decoded has its watermark reported absent;
/// the scan reports the damage elsewhere.
pub(crate) fn look_for_watermark(
    input: &[u8],
    format: Format,
    opts: &ScanOptions<'_>,
) -> Option<WatermarkCheck> {
    let key = opts.watermark_key?;
    Some(match decode_all(input, format.name(), opts.limits) {
        Ok(pcm) => crate::formats::watermark_search::check_audio(
            &pcm.samples,
            usize::from(pcm.channels),
            pcm.rate,
            key,
        ),
        Err(_) => WatermarkCheck::Absent,
    })
}

/// The sample-level part of a compressed format's scan, decoding once: the audible label in the
/// first and last [`super::SCAN_SECONDS`], or, when the watermark is looked for (which needs the
/// whole file decoded anyway), the label anywhere and the watermark from the same samples.
/// Nothing is decoded when neither is asked for (labeling). `not_read` is the format's finding code for audio that cannot be decoded.
pub(crate) fn scan_samples(
    input: &[u8],
    format: Format,
    not_read: &'static str,
    opts: &ScanOptions<'_>,
    scan: &mut crate::format::Scan,
) {
    if let Some(key) = opts.watermark_key {
        match decode_all(input, format.name(), opts.limits) {
            Ok(pcm) => {
                if opts.explicit {
                    scan.explicit = explicit_marks(&[&pcm]);
                }
                scan.watermark = Some(crate::formats::watermark_search::check_audio(
                    &pcm.samples,
                    usize::from(pcm.channels),
                    pcm.rate,
                    key,
                ));
            }
            Err(e) => {
                scan.findings.push(Finding::info(
                    not_read,
                    format!("the audible label and the watermark were not looked for: {e}"),
                ));
                scan.watermark = Some(WatermarkCheck::Absent);
            }
        }
        return;
    }
    if !opts.explicit {
        return;
    }
    match super::decode::decode_head_tail(input, format.name(), super::SCAN_SECONDS, opts.limits) {
        Ok((head, tail)) => {
            let wins: Vec<_> = std::iter::once(&head).chain(tail.as_ref()).collect();
            scan.explicit = explicit_marks(&wins);
        }
        Err(e) => scan.findings.push(Finding::info(
            not_read,
            format!("the audible label was not looked for: {e}"),
        )),
    }
}

/// `edit_content` for formats that must be decoded: decode → watermark → rhythm → WAV.
pub(crate) fn edit_by_decoding(
    input: &[u8],
    format: Format,
    edits: &ContentEdits<'_>,
) -> Result<Edited> {
    let placement = rhythm_request(edits)?;
    let mut notes = Vec::new();
    if placement.is_none() && edits.watermark.is_none() {
        return Ok(Edited {
            bytes: None,
            format,
            explicit_record: None,
            watermarked: false,
            notes,
        });
    }
    let mut pcm: Pcm = decode_all(input, format.name(), edits.limits)?;
    // The mark first, then the rhythm: the mark's noise must not touch the rhythm's tones and
    // gaps.
    let watermarked = match edits.watermark {
        Some((key, payload)) => {
            match embed_watermark(&mut pcm.samples, pcm.channels, pcm.rate, key, payload) {
                Ok(()) => true,
                Err(why) => {
                    notes.push(not_embedded(&why));
                    false
                }
            }
        }
        None => false,
    };
    let mut record = None;
    if let Some(p) = placement {
        let placed = rhythm::insert(
            &mut pcm.samples,
            pcm.rate,
            pcm.channels,
            p,
            &RhythmSpec::default(),
        )?;
        record = Some(rhythm::record(p, &placed));
    }
    if placement.is_none() && !watermarked {
        return Ok(Edited {
            bytes: None,
            format,
            explicit_record: None,
            watermarked,
            notes,
        });
    }
    let bits = if pcm.source_bits.is_some_and(|b| b > 16) {
        24
    } else {
        16
    };
    let bytes = pcm::encode_wav_int(&pcm.samples, pcm.rate, pcm.channels, bits)?;
    notes.push(Finding::info(
        "audio.reencoded_wav",
        format!(
            "the {format} audio was decoded and written as {bits}-bit PCM WAV to add the audible \
             label or the watermark; encode it again with your own encoder if you need {format}"
        ),
    ));
    Ok(Edited {
        bytes: Some(bytes),
        format: Format::Wav,
        explicit_record: record,
        watermarked,
        notes,
    })
}

fn mark(h: &RhythmHit, offset: f64, intact: Option<bool>) -> ExplicitMark {
    ExplicitMark {
        kind: ExplicitKind::AudibleRhythm,
        text: None,
        location: location(offset + h.start, offset + h.end),
        intact,
    }
}

/// The rhythms found in the windows a scan decodes (head and tail), without duplicates.
pub(crate) fn explicit_marks(windows: &[&Pcm]) -> Vec<ExplicitMark> {
    let mut found: Vec<(f64, f64)> = Vec::new();
    let mut marks = Vec::new();
    for w in windows {
        for h in detect(&w.samples, w.rate, w.channels) {
            let (s, e) = (w.start + h.start, w.start + h.end);
            if found.iter().any(|&(a, b)| s < b && a < e) {
                continue;
            }
            found.push((s, e));
            marks.push(mark(&h, w.start, None));
        }
    }
    marks
}

/// Checks the rhythm a seal records (`morse.<placement>.<ms>-<ms>…`) against the windows given
/// (which must cover the recorded ranges). `None` when the record is not one of ours.
pub(crate) fn check_recorded(record: &str, windows: &[&Pcm]) -> Vec<ExplicitMark> {
    let Some(ranges) = rhythm::parse_record(record) else {
        return Vec::new();
    };
    ranges
        .iter()
        .map(|&(a, b)| {
            windows
                .iter()
                .find_map(|w| {
                    detect(&w.samples, w.rate, w.channels)
                        .into_iter()
                        .find(|h| {
                            let (s, e) = (w.start + h.start, w.start + h.end);
                            (s - a).abs() < 0.1 && (e - b).abs() < 0.1
                        })
                        .map(|h| mark(&h, w.start, Some(true)))
                })
                .unwrap_or_else(|| ExplicitMark {
                    kind: ExplicitKind::AudibleRhythm,
                    text: None,
                    location: location(a, b),
                    intact: Some(false),
                })
        })
        .collect()
}
