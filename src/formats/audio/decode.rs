//! Decoding compressed audio (MP3, FLAC, Ogg Vorbis, WAV) to interleaved `f32` with symphonia,
//! bounded by [`Limits::max_audio_seconds`].
//!
//! The detector only needs the first and last seconds of a file, so [`decode_head_tail`] decodes
//! the head, then seeks near the end when the container knows its length (coarse seek; it falls
//! back to decoding straight through when seeking fails), so verifying a long file does not cost a
//! full decode.

use std::collections::VecDeque;
use std::io::Cursor;

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::units::Time;

use crate::error::{Error, Result};
use crate::limits::Limits;

/// Interleaved samples and their layout; `start` is the time of the first frame in the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pcm {
    pub samples: Vec<f32>,
    pub rate: u32,
    pub channels: u16,
    /// Seconds from the start of the file to the first sample held.
    pub start: f64,
    /// Bits per sample of the source, when the codec says (FLAC, WAV).
    pub source_bits: Option<u32>,
}

impl Pcm {
    /// Frames (samples per channel) held.
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }
    /// Seconds held.
    pub fn seconds(&self) -> f64 {
        if self.rate == 0 {
            0.0
        } else {
            self.frames() as f64 / f64::from(self.rate)
        }
    }
}

struct Stream<'a> {
    reader: Box<dyn FormatReader + 'a>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    num_frames: Option<u64>,
    rate: Option<u32>,
    bits: Option<u32>,
}

fn sym(format: &'static str, e: SymError) -> Error {
    match e {
        SymError::LimitError(m) => Error::Limit(m.to_string()),
        SymError::Unsupported(m) => Error::Unsupported(format!("{format}: {m}")),
        other => Error::malformed(format, other.to_string()),
    }
}

fn open<'a>(input: &'a [u8], format: &'static str) -> Result<Stream<'a>> {
    let mss = MediaSourceStream::new(Box::new(Cursor::new(input)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(format);
    let reader = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| sym(format, e))?;
    let track = reader
        .default_track(TrackType::Audio)
        .ok_or_else(|| Error::malformed(format, "no audio track"))?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| Error::malformed(format, "no audio codec parameters"))?;
    let decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|e| sym(format, e))?;
    Ok(Stream {
        track_id: track.id,
        num_frames: track.num_frames,
        rate: params.sample_rate,
        bits: params.bits_per_sample,
        reader,
        decoder,
    })
}

/// Calls `sink` with each decoded buffer (interleaved, rate, channels) until the end, a hard
/// error, or `sink` returns false. Packets that fail to decode are skipped, as players do.
fn pump(
    s: &mut Stream<'_>,
    format: &'static str,
    mut sink: impl FnMut(&[f32], u32, u16) -> Result<bool>,
) -> Result<()> {
    let mut buf: Vec<f32> = Vec::new();
    loop {
        let packet = match s.reader.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(()),
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Ok(());
            }
            Err(SymError::ResetRequired) => return Ok(()),
            Err(e) => return Err(sym(format, e)),
        };
        if packet.track_id != s.track_id {
            continue;
        }
        match s.decoder.decode(&packet) {
            Ok(audio) => {
                let rate = audio.spec().rate();
                let channels = u16::try_from(audio.spec().channels().count()).unwrap_or(0);
                if channels == 0 || rate == 0 {
                    continue;
                }
                buf.resize(audio.samples_interleaved(), 0.0);
                audio.copy_to_slice_interleaved(&mut buf);
                if !sink(&buf, rate, channels)? {
                    return Ok(());
                }
            }
            Err(SymError::DecodeError(_)) => continue,
            Err(e) => return Err(sym(format, e)),
        }
    }
}

/// Decodes the whole stream; more than `limits.max_audio_seconds` is an error.
pub fn decode_all(input: &[u8], format: &'static str, limits: &Limits) -> Result<Pcm> {
    let mut s = open(input, format)?;
    let mut pcm = Pcm {
        source_bits: s.bits,
        ..Default::default()
    };
    pump(&mut s, format, |buf, rate, channels| {
        if pcm.rate == 0 {
            pcm.rate = rate;
            pcm.channels = channels;
        } else if pcm.rate != rate || pcm.channels != channels {
            return Err(Error::Unsupported(format!(
                "{format}: the sample rate or channel count changes mid-stream"
            )));
        }
        pcm.samples.extend_from_slice(buf);
        if pcm.seconds() > limits.max_audio_seconds {
            return Err(Error::Limit(format!(
                "the audio is longer than {} s",
                limits.max_audio_seconds
            )));
        }
        Ok(true)
    })?;
    if pcm.rate == 0 {
        return Err(Error::malformed(format, "no audio could be decoded"));
    }
    Ok(pcm)
}

/// A head window, a tail window (absent when the file is short enough for the head to hold it
/// all), both at most `secs` long. Stops with an error past `limits.max_audio_seconds`.
pub fn decode_head_tail(
    input: &[u8],
    format: &'static str,
    secs: f64,
    limits: &Limits,
) -> Result<(Pcm, Option<Pcm>)> {
    let mut s = open(input, format)?;
    let known_secs = match (s.num_frames, s.rate) {
        (Some(n), Some(r)) if r > 0 => Some(n as f64 / f64::from(r)),
        _ => None,
    };
    if let Some(total) = known_secs.filter(|&t| t > 2.0 * secs + 5.0) {
        if total > limits.max_audio_seconds {
            return Err(Error::Limit(format!(
                "the audio is longer than {} s",
                limits.max_audio_seconds
            )));
        }
        let (head, _) = collect(&mut s, format, secs, 0.0, None, limits)?;
        let target = total - secs - 1.0;
        let seeked = Time::try_from_secs_f64(target).and_then(|time| {
            s.reader
                .seek(
                    SeekMode::Coarse,
                    SeekTo::Time {
                        time,
                        track_id: Some(s.track_id),
                    },
                )
                .ok()
        });
        if let Some(to) = seeked {
            s.decoder.reset();
            let tb = s
                .reader
                .tracks()
                .iter()
                .find(|t| t.id == s.track_id)
                .and_then(|t| t.time_base);
            let at = tb
                .and_then(|tb| tb.calc_time(to.actual_ts))
                .map(|t| t.as_secs_f64())
                .unwrap_or(target);
            let (tail, _) = collect(&mut s, format, f64::INFINITY, at, Some(secs), limits)?;
            return Ok((head, (tail.frames() > 0).then_some(tail)));
        }
        s = open(input, format)?;
    }
    // Length unknown or seeking failed: decode straight through, keeping both ends.
    let (head, consumed) = collect(&mut s, format, secs, 0.0, None, limits)?;
    let (tail, _) = collect(&mut s, format, f64::INFINITY, consumed, Some(secs), limits)?;
    Ok((head, (tail.frames() > 0).then_some(tail)))
}

/// Decodes from the stream's current position: keeps the first `take` seconds, or (with
/// `keep_last`) decodes to the end keeping only the last seconds. `at` is the current time.
/// Returns the samples and the time reached (what was decoded, kept or not).
fn collect(
    s: &mut Stream<'_>,
    format: &'static str,
    take: f64,
    at: f64,
    keep_last: Option<f64>,
    limits: &Limits,
) -> Result<(Pcm, f64)> {
    let mut ring: VecDeque<f32> = VecDeque::new();
    let mut rate = 0u32;
    let mut channels = 0u16;
    let mut decoded = 0u64;
    let mut dropped = 0u64;
    pump(s, format, |buf, r, c| {
        if rate == 0 {
            (rate, channels) = (r, c);
        } else if (r, c) != (rate, channels) {
            return Ok(false);
        }
        let ch = usize::from(c);
        decoded += (buf.len() / ch) as u64;
        ring.extend(buf.iter().copied());
        let limit_secs = keep_last.unwrap_or(take);
        let cap = (limit_secs * f64::from(r)) as usize * ch;
        if ring.len() > cap {
            let extra = ring.len() - cap;
            if keep_last.is_some() {
                ring.drain(..extra);
                dropped += (extra / ch) as u64;
            } else {
                ring.truncate(cap);
                return Ok(false);
            }
        }
        if at + decoded as f64 / f64::from(r) > limits.max_audio_seconds {
            return Err(Error::Limit(format!(
                "the audio is longer than {} s",
                limits.max_audio_seconds
            )));
        }
        Ok(true)
    })?;
    if rate == 0 && at == 0.0 {
        return Err(Error::malformed(format, "no audio could be decoded"));
    }
    let secs_of = |frames: u64| {
        if rate > 0 {
            frames as f64 / f64::from(rate)
        } else {
            0.0
        }
    };
    let pcm = Pcm {
        samples: ring.into(),
        rate,
        channels,
        start: at + secs_of(dropped),
        source_bits: s.bits,
    };
    Ok((pcm, at + secs_of(decoded)))
}
