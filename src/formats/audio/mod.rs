//! What the audio formats share: decoding to PCM, the audible "AI" rhythm and its detector, the
//! content-editing pipeline (decode → rhythm → watermark → encode), and WAV writing from samples.
//!
//! The containers themselves live beside this module (`wav`, `mp3`, `flac`, `ogg`); each finds
//! its carriers and content bytes and calls in here for anything that needs samples.

pub mod decode;
pub mod detect;
mod edit;
pub mod pcm;
pub mod rhythm;
pub mod wav_pcm;

pub(crate) use edit::{
    Marked, check_recorded, edit_by_decoding, embed_watermark, embed_watermark_into,
    explicit_marks, look_for_watermark, not_embedded, rhythm_request, scan_samples,
};

/// Seconds at each end of a file that `scan` searches for the rhythm.
pub const SCAN_SECONDS: f64 = 10.0;

/// A time range as reports show it: `0.05s-1.04s`.
pub fn location(start: f64, end: f64) -> String {
    format!("{start:.2}s-{end:.2}s")
}

/// True for text that looks like an AIGC label record (a JSON object naming `Label` or `AIGC`),
/// used for carriers other tools fill with free text (INFO `ICMT`, ID3 `COMM`).
pub(crate) fn looks_like_label(text: &str) -> bool {
    text.contains('{') && (text.contains("\"Label\"") || text.contains("AIGC"))
}
