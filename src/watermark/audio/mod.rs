//! Inaudible, keyed audio watermark (64-bit payload) for AI-generated audio.
//!
//! (module documentation: see bottom of the scheme description, filled in below)

mod conv;
mod detect;
mod embed;
mod error;
mod features;
mod keystream;
mod layout;
mod resample;
mod stats;

pub use error::WmError;

pub use super::WatermarkKey;

/// Embedding options.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedOptions {
    /// Amplitude multiplier of the mark (1.0 = default). 2.0 is +6 dB mark power (more robust,
    /// SNR 6 dB lower), 0.5 is -6 dB.
    pub strength: f32,
    /// Mark-to-host SNR the embedder aims at for strength 1.0, in dB (default 31). The mark is
    /// rescaled within bounds to meet it; the achieved value is in [`EmbedReport::snr_db`].
    pub target_snr_db: f64,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        EmbedOptions {
            strength: 1.0,
            target_snr_db: 31.0,
        }
    }
}

/// What `embed` did.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedReport {
    /// Host-to-mark power ratio over all channels, in dB (infinite if nothing was added).
    pub snr_db: f64,
    /// Effective relative strength of the mark against the local spectral envelope.
    pub alpha: f32,
    /// Duration of the input.
    pub seconds: f64,
    /// How many whole payload periods (4.64 s each) the input holds.
    pub periods: f64,
}

/// A found watermark.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// The 64 data bits (error-corrected).
    pub payload: [u8; 8],
    /// Keyed pilot bits that matched, out of `compared_bits` (presence test).
    pub matching_bits: u32,
    pub compared_bits: u32,
    /// Probability that unmarked audio passes this test, every offset/phase/speed tried included.
    pub false_positive_probability: f64,
    /// Where the first whole period found starts, in seconds from the start of the input.
    pub start_seconds: f64,
    /// Speed factor of the input relative to the marked original (1.0 = unchanged).
    pub speed: f32,
}

pub(super) fn validate(len: usize, channels: usize, rate: u32) -> Result<(), WmError> {
    if channels == 0 {
        return Err(WmError::NoChannels);
    }
    if len % channels != 0 {
        return Err(WmError::RaggedBuffer { len, channels });
    }
    if !(8000..=192_000).contains(&rate) {
        return Err(WmError::UnsupportedSampleRate(rate));
    }
    Ok(())
}

/// Embed `payload` into interleaved float samples (nominal range -1..1) in place.
pub fn embed(
    samples: &mut [f32],
    channels: usize,
    sample_rate: u32,
    payload: &[u8; 8],
    key: &WatermarkKey,
    opts: &EmbedOptions,
) -> Result<EmbedReport, WmError> {
    embed::embed_f32(samples, channels, sample_rate, payload, key, opts)
}

/// Embed into interleaved 16-bit samples in place (rounded, clamped to the i16 range).
pub fn embed_i16(
    samples: &mut [i16],
    channels: usize,
    sample_rate: u32,
    payload: &[u8; 8],
    key: &WatermarkKey,
    opts: &EmbedOptions,
) -> Result<EmbedReport, WmError> {
    let mut f: Vec<f32> = samples.iter().map(|&s| s as f32 / 32768.0).collect();
    let report = embed::embed_f32(&mut f, channels, sample_rate, payload, key, opts)?;
    for (d, s) in samples.iter_mut().zip(f) {
        *d = (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
    }
    Ok(report)
}

/// Look for the mark. `Ok(None)` means "not found at the stated false-positive rate".
pub fn detect(
    samples: &[f32],
    channels: usize,
    sample_rate: u32,
    key: &WatermarkKey,
) -> Result<Option<Detection>, WmError> {
    Ok(detect_best(samples, channels, sample_rate, key)?
        .filter(|d| d.false_positive_probability <= detect::FP_TARGET))
}

/// Detection on 16-bit samples.
pub fn detect_i16(
    samples: &[i16],
    channels: usize,
    sample_rate: u32,
    key: &WatermarkKey,
) -> Result<Option<Detection>, WmError> {
    let f: Vec<f32> = samples.iter().map(|&s| s as f32 / 32768.0).collect();
    detect(&f, channels, sample_rate, key)
}

/// The best candidate alignment whatever its false-positive probability (for diagnostics and
/// evaluation; `detect` is this filtered at 1e-6).
pub fn detect_best(
    samples: &[f32],
    channels: usize,
    sample_rate: u32,
    key: &WatermarkKey,
) -> Result<Option<Detection>, WmError> {
    let x = detect::to_detection_rate(samples, channels, sample_rate)?;
    let layout = layout::Layout::new(&key.0);
    Ok(detect::search(&x, &layout, 1.0, 1))
}

pub(super) fn param(name: &str, default: f32) -> f32 {
    std::env::var(format!("WM_{name}"))
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
