//! One module per format, each implementing [`crate::format::Handler`], registered here.

pub mod image;
pub mod riff;
pub mod text;

use crate::error::{Error, Result};
use crate::format::{Format, Handler};

/// The handler for a format.
pub fn handler(format: Format) -> Result<&'static dyn Handler> {
    match format {
        Format::Text => Ok(&text::PLAIN),
        Format::Markdown => Ok(&text::MARKDOWN),
        Format::Png => Ok(&image::PNG),
        Format::Jpeg => Ok(&image::JPEG),
        Format::Webp => Ok(&image::WEBP),
        other => Err(Error::Unsupported(format!(
            "{other} files are not supported yet"
        ))),
    }
}
