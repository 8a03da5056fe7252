//! Resource limits for untrusted input, as one value the caller can change.
//!
//! Every parser takes a `&Limits`. A file over a limit is reported with a clear finding or
//! [`crate::Error::Limit`], never by running out of memory or time.

use serde::{Deserialize, Serialize};

/// Bounds applied while reading any input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest input read at all, in bytes.
    pub max_file_bytes: u64,
    /// Largest image decoded, in pixels (width × height).
    pub max_pixels: u64,
    /// Largest single chunk, segment, box or frame accepted, in bytes.
    pub max_chunk_bytes: u64,
    /// Largest size a compressed metadata chunk may expand to, in bytes.
    pub max_decompressed_metadata: u64,
    /// Largest text accepted, in bytes.
    pub max_text_bytes: u64,
    /// Longest audio decoded, in seconds.
    pub max_audio_seconds: f64,
    /// Deepest nesting accepted in XMP and JSON.
    pub max_nesting_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 2 << 30,
            max_pixels: 100_000_000,
            max_chunk_bytes: 256 << 20,
            max_decompressed_metadata: 8 << 20,
            max_text_bytes: 256 << 20,
            max_audio_seconds: 4.0 * 3600.0,
            max_nesting_depth: 64,
        }
    }
}
