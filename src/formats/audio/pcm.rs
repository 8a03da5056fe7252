//! WAV files made from samples in memory (with `hound`): for the PCM front end
//! ([`crate::audio`]) and for the audio edit pipeline's re-encoding.

use std::io::Cursor;

use crate::error::{Error, Result};

pub(crate) fn check_layout(len: usize, rate: u32, channels: u16) -> Result<()> {
    if rate == 0 || channels == 0 {
        return Err(Error::InvalidLabel(
            "the sample rate and channel count must not be zero".into(),
        ));
    }
    if !len.is_multiple_of(usize::from(channels)) {
        return Err(Error::InvalidLabel(format!(
            "{len} samples do not divide into {channels} channels"
        )));
    }
    Ok(())
}

fn hound_err(e: hound::Error) -> Error {
    Error::malformed("wav", e.to_string())
}

/// A WAV of interleaved samples in the given layout; `write` writes the samples.
fn write_wav(
    len: usize,
    rate: u32,
    channels: u16,
    bits: u16,
    sample_format: hound::SampleFormat,
    write: impl FnOnce(&mut hound::WavWriter<&mut Cursor<Vec<u8>>>) -> hound::Result<()>,
) -> Result<Vec<u8>> {
    check_layout(len, rate, channels)?;
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format,
    };
    let mut out = Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut out, spec).map_err(hound_err)?;
    write(&mut w).map_err(hound_err)?;
    w.finalize().map_err(hound_err)?;
    Ok(out.into_inner())
}

/// A 16- or 24-bit integer PCM WAV of interleaved `f32` samples (rounded, clipped).
pub fn encode_wav_int(samples: &[f32], rate: u32, channels: u16, bits: u16) -> Result<Vec<u8>> {
    let scale = f64::from(1u32 << (bits - 1));
    write_wav(
        samples.len(),
        rate,
        channels,
        bits,
        hound::SampleFormat::Int,
        |w| {
            for &x in samples {
                let x = if x.is_finite() { f64::from(x) } else { 0.0 };
                w.write_sample((x * scale).round().clamp(-scale, scale - 1.0) as i32)?;
            }
            Ok(())
        },
    )
}

/// A 16-bit PCM WAV of interleaved samples.
pub fn wav_from_i16(samples: &[i16], rate: u32, channels: u16) -> Result<Vec<u8>> {
    write_wav(
        samples.len(),
        rate,
        channels,
        16,
        hound::SampleFormat::Int,
        |w| {
            let mut w16 = w.get_i16_writer(samples.len() as u32);
            for &s in samples {
                w16.write_sample(s);
            }
            w16.flush()
        },
    )
}

/// A 32-bit float WAV of interleaved samples.
pub fn wav_from_f32(samples: &[f32], rate: u32, channels: u16) -> Result<Vec<u8>> {
    write_wav(
        samples.len(),
        rate,
        channels,
        32,
        hound::SampleFormat::Float,
        |w| samples.iter().try_for_each(|&s| w.write_sample(s)),
    )
}
