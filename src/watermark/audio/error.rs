//! Error type of the audio watermark.

/// Why an embed or detect call was refused. Bad input never panics; it ends up here.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WmError {
    /// `channels` was 0.
    #[error("channel count must be at least 1")]
    NoChannels,
    /// The sample buffer length is not a multiple of the channel count.
    #[error("sample buffer length {len} is not a multiple of {channels} channels")]
    RaggedBuffer {
        /// Samples given.
        len: usize,
        /// Channels said.
        channels: usize,
    },
    /// Sample rate outside the supported range.
    #[error("sample rate {0} Hz is outside the supported range 8000..=192000 Hz")]
    UnsupportedSampleRate(u32),
    /// A sample was NaN or infinite.
    #[error("input contains a non-finite sample (NaN or infinity)")]
    NonFinite,
    /// Not enough audio to carry any part of the mark.
    #[error("audio too short: {got_seconds:.3} s, at least {need_seconds:.3} s needed")]
    TooShort {
        /// Seconds given.
        got_seconds: f64,
        /// Seconds needed.
        need_seconds: f64,
    },
    /// The requested strength is not a positive finite number.
    #[error("embedding strength must be finite and > 0 (got {0})")]
    BadStrength(f32),
}
