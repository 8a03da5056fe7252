//! Labeling audio that is still samples in memory: what a text-to-speech or music service has
//! before its own encoder.
//!
//! [`label_pcm_i16`] and [`label_pcm_f32`] write a WAV and label it through [`crate::label()`],
//! so the result is exactly what labeling a WAV file gives. [`add_rhythm`] inserts the audible
//! "AI" rhythm into the samples for a service that encodes them itself (and labels the encoded
//! file afterwards); [`detect_rhythm`] finds it again.

use crate::error::Result;
use crate::format::{Format, Placement};
use crate::formats::audio::pcm::check_layout;
use crate::keys::Signer;
use crate::labeler::{LabelOptions, Labeled, label};

pub use crate::formats::audio::detect::{RhythmHit, detect as detect_rhythm};
pub use crate::formats::audio::pcm::{encode_wav_int, wav_from_f32, wav_from_i16};
pub use crate::formats::audio::rhythm::{Inserted, RhythmSpec};

/// Labels interleaved 16-bit samples: a labeled WAV (with the rhythm when `opts.explicit` asks).
pub fn label_pcm_i16(
    samples: &[i16],
    rate: u32,
    channels: u16,
    signer: &Signer,
    opts: &LabelOptions,
) -> Result<Labeled> {
    label(
        &wav_from_i16(samples, rate, channels)?,
        Format::Wav,
        signer,
        opts,
    )
}

/// Labels interleaved `f32` samples: a labeled 32-bit float WAV.
pub fn label_pcm_f32(
    samples: &[f32],
    rate: u32,
    channels: u16,
    signer: &Signer,
    opts: &LabelOptions,
) -> Result<Labeled> {
    label(
        &wav_from_f32(samples, rate, channels)?,
        Format::Wav,
        signer,
        opts,
    )
}

/// Inserts the audible "AI" rhythm (default sound) into interleaved samples at the start, the
/// end or both; returns where it went, in seconds.
pub fn add_rhythm(
    samples: &mut Vec<f32>,
    rate: u32,
    channels: u16,
    placement: Placement,
) -> Result<Vec<Inserted>> {
    check_layout(samples.len(), rate, channels)?;
    crate::formats::audio::rhythm::insert(
        samples,
        rate,
        channels,
        placement,
        &RhythmSpec::default(),
    )
}
