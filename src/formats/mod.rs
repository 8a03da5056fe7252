//! One module per format, each implementing [`crate::format::Handler`], registered here.

pub mod audio;
pub mod flac;
pub mod id3v2;
pub mod image;
pub mod mp3;
pub mod mpeg_frame;
pub mod ogg;
pub mod riff;
pub mod text;
pub mod vorbis_comment;
mod watermark_search;
pub mod wav;

use crate::error::Result;
use crate::format::{Format, Handler};

/// The handler for a format.
pub fn handler(format: Format) -> Result<&'static dyn Handler> {
    match format {
        Format::Text => Ok(&text::PLAIN),
        Format::Markdown => Ok(&text::MARKDOWN),
        Format::Wav => Ok(&wav::WAV),
        Format::Mp3 => Ok(&mp3::MP3),
        Format::Flac => Ok(&flac::FLAC),
        Format::Ogg => Ok(&ogg::OGG),
        Format::Png => Ok(&image::PNG),
        Format::Jpeg => Ok(&image::JPEG),
        Format::Webp => Ok(&image::WEBP),
    }
}
