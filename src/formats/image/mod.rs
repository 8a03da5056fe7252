//! PNG, JPEG and WebP: the label in XMP (and the image guide's Annex B secondary carriers), the
//! content binding over the compressed image data, and the visible label.
//!
//! Each container has its own walker (`png_chunks`, `jpeg_segments`, [`crate::formats::riff`]) and
//! handler (`png`, `jpeg`, `webp`); what they share lives here: reading XMP and EXIF carriers into
//! a [`Scan`], decoding under [`Limits`], encoding ([`encode_image`]) and the pixel pipeline of
//! [`Handler::edit_content`](crate::format::Handler::edit_content): decode → visible label →
//! watermark → re-encode in the original's layout, done once and only when a pixel changes, the
//! new image data put back into the original container (`reencode`).
//!
//! # Content binding
//!
//! The digest covers the *compressed* image data, the bytes that define the decoded pixels, and
//! nothing else: no decode is needed (verification stays far cheaper than decoding), any change to
//! the pixels changes it, and editing any metadata (XMP, EXIF, ICC, text chunks, comments) with a
//! tool such as exiftool keeps it. A re-encode changes it even when it is lossless, which is right
//! for a signature: the sealed bytes are the ones the provider produced. Exactly, per format
//! (SHA-256 over the concatenation, in file order):
//!
//! - **PNG**: for each of `IHDR`, `PLTE`, `tRNS`, `acTL`, `fcTL`, `fdAT`: the chunk type, its
//!   length (4 bytes, big-endian) and its data; for the `IDAT` chunks, once at the first: `IDAT`,
//!   the total length of all `IDAT` data (8 bytes, big-endian) and that data (the zlib stream), so
//!   splitting `IDAT` differently keeps the binding. Colour chunks (`gAMA`, `cHRM`, `sRGB`,
//!   `iCCP`) are left out with the rest of the metadata.
//! - **JPEG**: every segment from `SOI` to `EOI` that is not `APP0`–`APP15` or `COM`, as stored
//!   (marker, length, payload, and after `SOS` the entropy-coded data): `DQT`, `DHT`, `SOFn`,
//!   `DRI`, `SOS`, `DAC`, `DNL`, `EOI`; then every byte after `EOI` (MPF secondary images, an
//!   appended JPEG). (The Adobe `APP14` colour-transform flag is an `APPn` and is left out.)
//! - **WebP**: `VP8X`, then the alpha and animation flags and the canvas size (from `VP8X`, or
//!   derived from the bitstream when there is none: 7 bytes); then for each of `VP8 `, `VP8L`,
//!   `ALPH`, `ANIM`, `ANMF`: the chunk id, its length (4 bytes, little-endian) and its body. The
//!   other `VP8X` flags are left out: they change when metadata is added.
//!
//! Bytes outside the binding are only ever ones decoders skip; a structure they would read
//! differently (bad CRCs, unknown critical chunks, data after `IEND` or the RIFF size, a walk that
//! cannot reach the end) is an `Error` finding, so such a file is never intact.

mod exif;
mod jpeg;
mod jpeg_segments;
mod png;
mod png_chunks;
mod reencode;
mod visible;
mod webp;

/// The timestamp-token carriers, for `crate::timestamp`.
pub(crate) mod tsa {
    pub(crate) use super::jpeg::{tsa_token as jpeg, with_tsa_token as with_jpeg};
    pub(crate) use super::png::{tsa_token as png, with_tsa_token as with_png};
    pub(crate) use super::webp::{tsa_token as webp, with_tsa_token as with_webp};
}
pub mod xmp;

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, RgbImage, RgbaImage};

use crate::error::{Error, Result};
use crate::findings::Finding;
use crate::format::{
    ContentEdits, Edited, ExplicitMark, Format, Scan, ScanOptions, WatermarkCheck,
};
use crate::limits::Limits;
use crate::watermark::WatermarkKey;

pub use jpeg::JPEG;
pub use png::PNG;
pub use webp::WEBP;

/// The XMP packet identifier of a JPEG APP1 segment.
pub const JPEG_XMP_ID: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
/// The PNG text keyword for XMP.
pub const PNG_XMP_KEYWORD: &str = "XML:com.adobe.xmp";

/// Encodes an image as PNG (in its own layout: grey, alpha and 16 bits are kept), JPEG (grey or
/// YCbCr, at `jpeg_quality`, 1–100) or lossless WebP (8-bit RGB or RGBA), for a service that holds
/// pixels and wants to label them: encode with this, then call [`crate::label()`].
///
/// ```
/// use aigcmark::{Format, LabelOptions, Signer};
/// use aigcmark::encode_image;
///
/// let pixels = image::RgbImage::from_pixel(64, 48, image::Rgb([200, 120, 40]));
/// let png = encode_image(&image::DynamicImage::ImageRgb8(pixels), Format::Png, 92).unwrap();
/// let mut opts = LabelOptions::new("001191440300708461136T1XGW3");
/// opts.watermark = false;
/// let out = aigcmark::label(&png, Format::Png, &Signer::generate(), &opts).unwrap();
/// assert!(out.bytes.windows(4).any(|w| w == b"iTXt"));
/// ```
pub fn encode_image(img: &DynamicImage, format: Format, jpeg_quality: u8) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let err = |e: image::ImageError| {
        Error::Unsupported(format!("cannot encode the image as {format}: {e}"))
    };
    match format {
        // The layout is the image's own (grey, alpha, 16 bits stay); zlib at its default level.
        Format::Png => img
            .write_with_encoder(image::codecs::png::PngEncoder::new_with_quality(
                &mut out,
                image::codecs::png::CompressionType::Default,
                image::codecs::png::FilterType::Adaptive,
            ))
            .map_err(err)?,
        Format::Jpeg => {
            let q = jpeg_quality.clamp(1, 100);
            let pixels = if img.color().has_color() {
                DynamicImage::ImageRgb8(img.to_rgb8())
            } else {
                DynamicImage::ImageLuma8(img.to_luma8())
            };
            pixels
                .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
                    &mut out, q,
                ))
                .map_err(err)?
        }
        Format::Webp => {
            let img = if img.color().has_alpha() {
                DynamicImage::ImageRgba8(img.to_rgba8())
            } else {
                DynamicImage::ImageRgb8(img.to_rgb8())
            };
            img.write_with_encoder(image::codecs::webp::WebPEncoder::new_lossless(&mut out))
                .map_err(err)?
        }
        other => {
            return Err(Error::Unsupported(format!(
                "{other} is not an image format"
            )));
        }
    }
    Ok(out)
}

fn image_format(format: Format) -> Result<ImageFormat> {
    match format {
        Format::Png => Ok(ImageFormat::Png),
        Format::Jpeg => Ok(ImageFormat::Jpeg),
        Format::Webp => Ok(ImageFormat::WebP),
        other => Err(Error::Unsupported(format!(
            "{other} is not an image format"
        ))),
    }
}

/// Decodes an image as it is meant to be shown (EXIF orientation applied), refusing one over
/// [`Limits::max_pixels`] before allocating it.
pub fn decode(input: &[u8], format: Format, limits: &Limits) -> Result<DynamicImage> {
    Ok(decode_oriented(input, format, limits)?.0)
}

/// [`decode`], and the orientation that was applied.
fn decode_oriented(
    input: &[u8],
    format: Format,
    limits: &Limits,
) -> Result<(DynamicImage, Orientation)> {
    let fmt = image_format(format)?;
    let bad = |e: image::ImageError| match e {
        image::ImageError::Limits(l) => Error::Limit(format!("decoding the image: {l}")),
        e => Error::malformed(format.name(), e.to_string()),
    };
    let (w, h) = header_size(input, format)?;
    let pixels = check_pixels(w, h, limits)?;
    let mut reader = image::ImageReader::with_format(Cursor::new(input), fmt);
    let mut l = image::Limits::default();
    // 16-bit RGBA is 8 bytes a pixel; leave room for the decoder's own buffers.
    l.max_alloc = Some(pixels.saturating_mul(16).saturating_add(64 << 20));
    reader.limits(l);
    let mut decoder = reader.into_decoder().map_err(bad)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(bad)?;
    img.apply_orientation(orientation);
    Ok((img, orientation))
}

/// The orientation that undoes `o` (flips and the transposes undo themselves).
fn inverse(o: Orientation) -> Orientation {
    match o {
        Orientation::Rotate90 => Orientation::Rotate270,
        Orientation::Rotate270 => Orientation::Rotate90,
        other => other,
    }
}

/// Reads the labels and other AI declarations of an XMP packet into `scan`.
fn scan_xmp(packet: &[u8], location: &str, limits: &Limits, scan: &mut Scan) {
    xmp::scan_into(packet, location, limits, scan);
}

/// Reads labels in EXIF UserComment / ImageDescription into `scan`.
fn scan_exif(body: &[u8], location: &str, scan: &mut Scan) {
    exif::scan_into(body, location, scan);
}

/// The label record wrapped as the image guide's Annex B shows it for EXIF: `{"AIGC":{…}}`.
fn wrapped(label_json: &str) -> String {
    format!("{{\"AIGC\":{label_json}}}")
}

/// The pixels being edited, in the layout the output keeps.
pub enum Canvas {
    Rgb(RgbImage),
    Rgba(RgbaImage),
}

impl Canvas {
    fn from_image(img: DynamicImage) -> Self {
        if img.color().has_alpha() {
            Canvas::Rgba(img.into_rgba8())
        } else {
            Canvas::Rgb(img.into_rgb8())
        }
    }
    fn into_image(self) -> DynamicImage {
        match self {
            Canvas::Rgb(i) => DynamicImage::ImageRgb8(i),
            Canvas::Rgba(i) => DynamicImage::ImageRgba8(i),
        }
    }
}

/// The watermark step of the pixel pipeline, on the pixels as shown (alpha untouched).
fn embed_watermark(
    canvas: &mut Canvas,
    key: &WatermarkKey,
    payload: [u8; 8],
) -> std::result::Result<crate::watermark::image::EmbedReport, crate::watermark::image::WmError> {
    let opts = crate::watermark::image::EmbedOptions::default();
    match canvas {
        Canvas::Rgb(img) => crate::watermark::image::embed_rgb(img, &payload, key, &opts),
        Canvas::Rgba(img) => crate::watermark::image::embed_rgba(img, &payload, key, &opts),
    }
}

/// Looks for the watermark in the image as shown, when asked to, into `scan`: an image over
/// [`Limits::max_pixels`] is not searched (`NotChecked`, finding `watermark.not_checked`); one
/// that cannot be decoded has its watermark reported absent (the scan reports the damage
/// elsewhere).
pub(super) fn watermark_into(
    scan: &mut Scan,
    input: &[u8],
    format: Format,
    opts: &ScanOptions<'_>,
) {
    let Some(key) = opts.watermark_key else {
        return;
    };
    scan.watermark = Some(match decode_oriented(input, format, opts.limits) {
        Ok((img, _)) => crate::formats::watermark_search::check_image(&img, key),
        Err(Error::Limit(why)) => {
            scan.findings.push(Finding::warning(
                "watermark.not_checked",
                format!("the watermark was not looked for: {why}"),
            ));
            WatermarkCheck::NotChecked
        }
        Err(_) => WatermarkCheck::Absent,
    });
}

/// [`watermark_into`] without the finding.
#[cfg(test)]
fn look_for_watermark(
    input: &[u8],
    format: Format,
    opts: &ScanOptions<'_>,
) -> Option<WatermarkCheck> {
    let mut scan = Scan::default();
    watermark_into(&mut scan, input, format, opts);
    scan.watermark
}

/// Width and height as the header gives them (before any EXIF orientation).
fn header_size(input: &[u8], format: Format) -> Result<(u32, u32)> {
    image::ImageReader::with_format(Cursor::new(input), image_format(format)?)
        .into_dimensions()
        .map_err(|e| Error::malformed(format.name(), e.to_string()))
}

/// The pixel count, or the limit error when it is over [`Limits::max_pixels`].
fn check_pixels(w: u32, h: u32, limits: &Limits) -> Result<u64> {
    let pixels = u64::from(w) * u64::from(h);
    if pixels > limits.max_pixels {
        return Err(Error::Limit(format!(
            "the image is {w}×{h} = {pixels} pixels, over the {}-pixel limit",
            limits.max_pixels
        )));
    }
    Ok(pixels)
}

/// Why the watermark cannot go into this file, before anything is decoded: too small, or
/// animated (only one frame would carry it, and re-encoding would drop the animation).
fn watermark_obstacle(
    format: Format,
    input: &[u8],
    (w, h): (u32, u32),
    limits: &Limits,
) -> Result<Option<String>> {
    let min = crate::watermark::image::min_embed_side();
    if w.min(h) < min {
        return Ok(Some(format!(
            "the image ({w}×{h}) is smaller than {min} px on its short side"
        )));
    }
    let animated = match format {
        Format::Png => png_chunks::parse(input, limits)?
            .chunks
            .iter()
            .any(|c| c.is(b"acTL")),
        Format::Webp => crate::formats::riff::parse(input, b"WEBP", limits, WEBP_CODES)?
            .chunks
            .iter()
            .any(|c| &c.id == b"ANIM" || &c.id == b"ANMF"),
        _ => false,
    };
    Ok(animated.then(|| {
        "the image is animated: one frame would carry the watermark and re-encoding would drop \
         the animation"
            .to_string()
    }))
}

/// Finding codes for reading a WebP here (the handler reports the container's deviations).
const WEBP_CODES: crate::formats::riff::Codes = crate::formats::riff::Codes {
    format: "webp",
    size_mismatch: "webp.riff_size",
    truncated: "webp.truncated",
    trailing: "webp.trailing_data",
};

/// The shared `edit_content`, done once for both edits: decode, draw the visible label, embed
/// the watermark, re-encode in the same format and layout (bit depth, grey, alpha) and put the
/// new image data into the original container (PNG, JPEG: [`reencode`]; WebP: its own copier
/// of the metadata chunks, `webp::carry_metadata`).
///
/// Nothing is decoded or re-encoded when no pixel changes: no edit asked for, a watermark that
/// cannot go in (too small, animated: note `watermark.not_embedded`), or one that changed no
/// pixel (a flat image); the file then keeps its bytes and only its metadata is written.
fn edit_content(format: Format, input: &[u8], edits: &ContentEdits<'_>) -> Result<Edited> {
    let mut notes = Vec::new();
    let unchanged = |notes| Edited {
        bytes: None,
        format,
        explicit_record: None,
        watermarked: false,
        notes,
    };
    let mut watermark = edits.watermark;
    if edits.explicit.is_none() && watermark.is_none() {
        return Ok(unchanged(notes));
    }
    let (w, h) = header_size(input, format)?;
    if watermark.is_some()
        && let Some(why) = watermark_obstacle(format, input, (w, h), edits.limits)?
    {
        notes.push(Finding::info(
            "watermark.not_embedded",
            format!("no watermark was embedded: {why}"),
        ));
        watermark = None;
    }
    if edits.explicit.is_none() && watermark.is_none() {
        return Ok(unchanged(notes));
    }
    check_pixels(w, h, edits.limits).map_err(|e| match e {
        Error::Limit(why) => Error::Limit(format!(
            "{why}; the watermark and a visible label need the pixels decoded: without them \
             (`--no-watermark`) the metadata label alone can be written"
        )),
        e => e,
    })?;
    // Edited as the image is shown, then turned back so the original EXIF orientation still holds.
    let (img, orientation) = decode_oriented(input, format, edits.limits)?;
    let mut work = reencode::Work::new(img);
    let explicit_record = match edits.explicit {
        Some(opts) => Some(visible::draw(&mut work.canvas, opts)?),
        None => None,
    };
    let watermarked = match watermark {
        Some((key, payload)) => match embed_watermark(&mut work.canvas, key, payload) {
            Ok(report) if report.psnr_db.is_finite() => true,
            Ok(_) => {
                notes.push(Finding::info(
                    "watermark.not_embedded",
                    "no watermark was embedded: the image is flat, without texture to carry it",
                ));
                false
            }
            Err(e) => {
                notes.push(Finding::info(
                    "watermark.not_embedded",
                    format!("no watermark was embedded: {e}"),
                ));
                false
            }
        },
        None => false,
    };
    if explicit_record.is_none() && !watermarked {
        return Ok(unchanged(notes));
    }
    let mut img = work.finish(&mut notes);
    img.apply_orientation(inverse(orientation));
    let encoded = encode_image(&img, format, edits.jpeg_quality)?;
    let bytes = match format {
        Format::Png => reencode::splice_png(input, &encoded, edits.limits, &mut notes)?,
        Format::Jpeg => reencode::splice_jpeg(input, &encoded, edits.limits, &mut notes)?,
        _ => webp::carry_metadata(input, &encoded, edits.limits)?,
    };
    notes.push(Finding::info(
        "image.reencoded",
        match format {
            Format::Jpeg => format!(
                "the pixels changed; the image was re-encoded as JPEG at quality {}",
                edits.jpeg_quality
            ),
            Format::Webp => "the pixels changed; the image was re-encoded as lossless WebP".into(),
            _ => "the pixels changed; the image was re-encoded losslessly".into(),
        },
    ));
    Ok(Edited {
        bytes: Some(bytes),
        format,
        explicit_record,
        watermarked,
        notes,
    })
}

/// The shared `check_explicit`: the one visible mark a seal records.
fn check_explicit_marks(
    format: Format,
    input: &[u8],
    record: &str,
    limits: &Limits,
) -> Vec<ExplicitMark> {
    check_explicit(format, input, record, limits)
        .into_iter()
        .collect()
}

fn check_explicit(
    format: Format,
    input: &[u8],
    record: &str,
    limits: &Limits,
) -> Option<ExplicitMark> {
    let rec = visible::Record::parse(record)?;
    // Over the pixel limit the label is not looked at: neither intact nor removed.
    let intact = match decode(input, format, limits) {
        Ok(img) => Some(rec.matches(&img)),
        Err(Error::Limit(_)) => None,
        Err(_) => Some(false),
    };
    let mut mark = rec.mark(intact.unwrap_or(false));
    mark.intact = intact;
    Some(mark)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermark_search_over_the_pixel_limit_is_not_checked_with_a_finding() {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(400, 300, image::Rgb([9, 9, 9])));
        let png = encode_image(&img, Format::Png, 90).unwrap();
        let key = WatermarkKey::public_default();
        let limits = Limits {
            max_pixels: 100_000,
            ..Limits::default()
        };
        let opts = ScanOptions {
            limits: &limits,
            watermark_key: Some(&key),
            explicit: true,
        };
        let mut scan = Scan::default();
        watermark_into(&mut scan, &png, Format::Png, &opts);
        assert_eq!(scan.watermark, Some(WatermarkCheck::NotChecked));
        let f = scan
            .findings
            .iter()
            .find(|f| f.code == "watermark.not_checked")
            .expect("a finding names the limit");
        assert!(f.message.contains("100000-pixel limit"), "{}", f.message);
        // Within the limit it is searched (and not found in a flat image).
        let limits = Limits::default();
        let opts = ScanOptions {
            limits: &limits,
            watermark_key: Some(&key),
            explicit: true,
        };
        assert_eq!(
            look_for_watermark(&png, Format::Png, &opts),
            Some(WatermarkCheck::Absent)
        );
    }
}
