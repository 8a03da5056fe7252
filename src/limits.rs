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

impl Limits {
    /// Limits from a JSON object of some of the fields (the others keep their defaults), as
    /// `verify --limits` takes them; an unknown field or a wrong type is refused, naming the
    /// fields.
    pub fn from_json(text: &str) -> crate::Result<Limits> {
        serde_json::from_str::<Limits>(text).map_err(|e| {
            crate::Error::Refused(format!(
                "--limits is not a valid limits object ({e}); its fields are max_file_bytes, \
                 max_pixels, max_chunk_bytes, max_decompressed_metadata, max_text_bytes, \
                 max_audio_seconds, max_nesting_depth"
            ))
        })
    }
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
