//! Re-encoding after a pixel edit, keeping what the original had.
//!
//! The visible label and the watermark are drawn on an 8-bit RGB(A) working copy (that is what
//! the font renderer and the watermark work on); the change is then carried back to the
//! original's own sample layout ([`Work`]): an 8-bit image takes the working copy as it is, a
//! 16-bit one gets the 8-bit change scaled up (×257) on its own samples, so what was not touched
//! keeps its full precision; grey stays grey when every edited pixel is still grey (both edits
//! are grey: the mark moves R, G and B alike, the plate is black and white).
//!
//! The new image data then goes into the original container ([`splice_png`], [`splice_jpeg`])
//! rather than the original's metadata into a fresh file: every other chunk or segment stays
//! where it was, byte for byte, and only what describes the old image data is adapted (a PNG
//! `bKGD` to the new colour type) or left out with a note (a palette that no longer applies, a
//! JPEG MPF index whose offsets would point into the wrong bytes, a CMYK ICC profile on what is
//! now RGB).

use image::{DynamicImage, ImageBuffer, Luma, LumaA, Pixel, Rgb, Rgba};

use crate::error::{Error, Result};
use crate::findings::Finding;
use crate::limits::Limits;

use super::Canvas;
use super::jpeg_segments::{self, APP0, APP2, SOI};
use super::png_chunks::{self, Chunk};

/// The sample layout of the original, as far as the output keeps it.
enum Source {
    /// 8-bit RGB(A): the working copy is the output.
    Colour8,
    /// 8-bit grey (with alpha when the canvas has it).
    Grey8,
    /// 16-bit: the original, to which the 8-bit change is added at full precision.
    Deep(DynamicImage),
    /// Anything else (floating point): kept at 8 bits, with a note.
    Other,
}

/// The image being edited: the 8-bit working copy the edits draw on, and what is needed to
/// carry the change back to the original's layout.
pub(super) struct Work {
    pub canvas: Canvas,
    source: Source,
}

/// A 16-bit sample as the 8-bit working copy sees it (rounded; 65535 ↦ 255).
fn to8(v: u16) -> u8 {
    ((u32::from(v) + 128) / 257) as u8
}

/// `v` moved by the 8-bit change `new - old`, scaled to 16 bits.
fn moved(v: u16, old: u8, new: u8) -> u16 {
    (i32::from(v) + 257 * (i32::from(new) - i32::from(old))).clamp(0, 65535) as u16
}

fn deep_canvas<P>(img: &ImageBuffer<P, Vec<u16>>, alpha: bool) -> Canvas
where
    P: Pixel<Subpixel = u16>,
{
    let (w, h) = img.dimensions();
    let rgba = |p: &P| -> [u8; 4] {
        let c = p.channels();
        match c.len() {
            1 => [to8(c[0]), to8(c[0]), to8(c[0]), 255],
            2 => [to8(c[0]), to8(c[0]), to8(c[0]), to8(c[1])],
            3 => [to8(c[0]), to8(c[1]), to8(c[2]), 255],
            _ => [to8(c[0]), to8(c[1]), to8(c[2]), to8(c[3])],
        }
    };
    if alpha {
        Canvas::Rgba(ImageBuffer::from_fn(w, h, |x, y| {
            Rgba(rgba(img.get_pixel(x, y)))
        }))
    } else {
        Canvas::Rgb(ImageBuffer::from_fn(w, h, |x, y| {
            let [r, g, b, _] = rgba(img.get_pixel(x, y));
            Rgb([r, g, b])
        }))
    }
}

impl Work {
    pub fn new(img: DynamicImage) -> Work {
        let alpha = img.color().has_alpha();
        match img {
            DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => Work {
                canvas: Canvas::from_image(img),
                source: Source::Colour8,
            },
            DynamicImage::ImageLuma8(_) | DynamicImage::ImageLumaA8(_) => Work {
                canvas: Canvas::from_image(img),
                source: Source::Grey8,
            },
            DynamicImage::ImageLuma16(ref i) => Work {
                canvas: deep_canvas(i, alpha),
                source: Source::Deep(img),
            },
            DynamicImage::ImageLumaA16(ref i) => Work {
                canvas: deep_canvas(i, alpha),
                source: Source::Deep(img),
            },
            DynamicImage::ImageRgb16(ref i) => Work {
                canvas: deep_canvas(i, alpha),
                source: Source::Deep(img),
            },
            DynamicImage::ImageRgba16(ref i) => Work {
                canvas: deep_canvas(i, alpha),
                source: Source::Deep(img),
            },
            other => Work {
                canvas: Canvas::from_image(other),
                source: Source::Other,
            },
        }
    }

    /// True when every pixel of the working copy is grey (R = G = B).
    fn canvas_is_grey(&self) -> bool {
        match &self.canvas {
            Canvas::Rgb(i) => i.pixels().all(|p| p[0] == p[1] && p[1] == p[2]),
            Canvas::Rgba(i) => i.pixels().all(|p| p[0] == p[1] && p[1] == p[2]),
        }
    }

    /// The edited image in the original's layout (or as close as the edit allows; `notes` says
    /// where it is not).
    pub fn finish(self, notes: &mut Vec<Finding>) -> DynamicImage {
        let grey = self.canvas_is_grey();
        match self.source {
            Source::Colour8 => self.canvas.into_image(),
            Source::Grey8 if grey => match self.canvas {
                Canvas::Rgb(i) => {
                    DynamicImage::ImageLuma8(ImageBuffer::from_fn(i.width(), i.height(), |x, y| {
                        Luma([i.get_pixel(x, y)[0]])
                    }))
                }
                Canvas::Rgba(i) => DynamicImage::ImageLumaA8(ImageBuffer::from_fn(
                    i.width(),
                    i.height(),
                    |x, y| {
                        let p = i.get_pixel(x, y);
                        LumaA([p[0], p[3]])
                    },
                )),
            },
            Source::Grey8 => {
                notes.push(Finding::info(
                    "image.colour_type_changed",
                    "the grey image got coloured pixels; it was re-encoded in colour",
                ));
                self.canvas.into_image()
            }
            Source::Deep(orig) => deep_finish(orig, self.canvas, grey, notes),
            Source::Other => {
                notes.push(Finding::info(
                    "image.bit_depth_reduced",
                    "the image had floating-point samples; it was re-encoded with 8 bits a channel",
                ));
                self.canvas.into_image()
            }
        }
    }
}

/// Adds the change the working copy shows (against the original rounded to 8 bits) to the
/// 16-bit original, keeping it grey when the edit allows.
fn deep_finish(
    orig: DynamicImage,
    canvas: Canvas,
    grey: bool,
    notes: &mut Vec<Finding>,
) -> DynamicImage {
    // The 8-bit value (R, G, B, A) of the working copy at a pixel.
    let at = |x: u32, y: u32| -> [u8; 4] {
        match &canvas {
            Canvas::Rgb(i) => {
                let p = i.get_pixel(x, y);
                [p[0], p[1], p[2], 255]
            }
            Canvas::Rgba(i) => i.get_pixel(x, y).0,
        }
    };
    let orig_grey = matches!(
        orig,
        DynamicImage::ImageLuma16(_) | DynamicImage::ImageLumaA16(_)
    );
    if orig_grey && !grey {
        notes.push(Finding::info(
            "image.colour_type_changed",
            "the grey image got coloured pixels; it was re-encoded in colour (16 bits a channel)",
        ));
    }
    match orig {
        DynamicImage::ImageLuma16(mut i) if grey => {
            for (x, y, p) in i.enumerate_pixels_mut() {
                let n = at(x, y);
                p[0] = moved(p[0], to8(p[0]), n[0]);
            }
            DynamicImage::ImageLuma16(i)
        }
        DynamicImage::ImageLumaA16(mut i) if grey => {
            for (x, y, p) in i.enumerate_pixels_mut() {
                let n = at(x, y);
                p[0] = moved(p[0], to8(p[0]), n[0]);
                p[1] = moved(p[1], to8(p[1]), n[3]);
            }
            DynamicImage::ImageLumaA16(i)
        }
        o @ (DynamicImage::ImageRgba16(_) | DynamicImage::ImageLumaA16(_)) => {
            let mut i = o.into_rgba16();
            for (x, y, p) in i.enumerate_pixels_mut() {
                let n = at(x, y);
                for c in 0..4 {
                    p[c] = moved(p[c], to8(p[c]), n[c]);
                }
            }
            DynamicImage::ImageRgba16(i)
        }
        o => {
            let mut i = o.into_rgb16();
            for (x, y, p) in i.enumerate_pixels_mut() {
                let n = at(x, y);
                for c in 0..3 {
                    p[c] = moved(p[c], to8(p[c]), n[c]);
                }
            }
            DynamicImage::ImageRgb16(i)
        }
    }
}

/// PNG colour type and bit depth, from `IHDR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PngType {
    colour: u8,
    depth: u8,
}

fn png_type(chunks: &[Chunk], file: &[u8]) -> Result<PngType> {
    chunks
        .iter()
        .find(|c| c.is(b"IHDR"))
        .and_then(|c| c.body(file).get(8..10))
        .map(|b| PngType {
            depth: b[0],
            colour: b[1],
        })
        .ok_or_else(|| Error::malformed("png", "no IHDR chunk"))
}

/// Chunks kept as they are whatever the new colour type: colour space, physical size, time,
/// text, EXIF, suggested palettes, offsets and scale, stereo layout, C2PA store.
const KEPT: [&[u8; 4]; 18] = [
    b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"cICP", b"mDCv", b"cLLi", b"pHYs", b"sPLT", b"tIME",
    b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"oFFs", b"sCAL", b"sTER", b"caBX",
];

/// Chunks whose content is written in the old colour type or bit depth, kept only when the new
/// image has the same ones.
const TYPED: [&[u8; 4]; 6] = [b"tRNS", b"sBIT", b"pCAL", b"acTL", b"fcTL", b"fdAT"];

/// The `bKGD` colour of the original, rewritten for the new colour type and bit depth; `None`
/// when it cannot be (a colour background for a grey image, a damaged chunk).
fn convert_bkgd(body: &[u8], old: PngType, plte: Option<&[u8]>, new: PngType) -> Option<Vec<u8>> {
    if old == new {
        return Some(body.to_vec());
    }
    let u16be = |o: usize| {
        body.get(o..o + 2)
            .map(|b| u32::from(u16::from_be_bytes([b[0], b[1]])))
    };
    let old_max = (1u32 << old.depth.min(16)) - 1;
    let (rgb, max) = match old.colour {
        3 => {
            let i = usize::from(*body.first()?);
            let p = plte?.get(3 * i..3 * i + 3)?;
            ([p[0], p[1], p[2]].map(u32::from), 255)
        }
        0 | 4 => {
            let g = u16be(0)?.min(old_max);
            ([g, g, g], old_max)
        }
        2 | 6 => (
            [u16be(0)?, u16be(2)?, u16be(4)?].map(|v| v.min(old_max)),
            old_max,
        ),
        _ => return None,
    };
    let new_max = (1u32 << new.depth.min(16)) - 1;
    let scale = |v: u32| (v * new_max + max / 2) / max.max(1);
    match new.colour {
        0 | 4 if rgb[0] == rgb[1] && rgb[1] == rgb[2] => {
            Some((scale(rgb[0]) as u16).to_be_bytes().to_vec())
        }
        2 | 6 => Some(
            rgb.iter()
                .flat_map(|&v| (scale(v) as u16).to_be_bytes())
                .collect(),
        ),
        _ => None,
    }
}

/// Notes the chunks or segments left out, when there are any.
fn note_dropped(notes: &mut Vec<Finding>, dropped: &[String]) {
    if !dropped.is_empty() {
        notes.push(Finding::info(
            "image.metadata_dropped",
            format!(
                "left out of the re-encoded image, as they describe the old image data: {}",
                dropped.join("; ")
            ),
        ));
    }
}

/// The original PNG with its image data (`IHDR`, `IDAT`) replaced by that of `encoded`: every
/// other chunk stays in place, `bKGD` is rewritten for a new colour type, and chunks written for
/// the old colour type or depth (`PLTE` of a palette image, `tRNS`, `sBIT`, `hIST`) or over the
/// old bytes (`dSIG`, unknown chunks not marked safe to copy, bytes after `IEND`) are left out.
pub(super) fn splice_png(
    original: &[u8],
    encoded: &[u8],
    limits: &Limits,
    notes: &mut Vec<Finding>,
) -> Result<Vec<u8>> {
    let old = png_chunks::parse(original, limits)?;
    let new = png_chunks::parse(encoded, limits)?;
    let (old_t, new_t) = (
        png_type(&old.chunks, original)?,
        png_type(&new.chunks, encoded)?,
    );
    let same = old_t == new_t;
    if !same {
        notes.push(Finding::info(
            "image.colour_type_changed",
            format!(
                "the PNG was {} at {} bits; it was re-encoded as {} at {} bits",
                colour_name(old_t.colour),
                old_t.depth,
                colour_name(new_t.colour),
                new_t.depth
            ),
        ));
    }
    let plte = old
        .chunks
        .iter()
        .find(|c| c.is(b"PLTE"))
        .map(|c| c.body(original));
    // A palette stays as a suggested palette only for a truecolour image that stays truecolour.
    let keep_plte = old_t.colour != 3 && matches!(new_t.colour, 2 | 6);
    let new_pixels: Vec<&Chunk> = new
        .chunks
        .iter()
        .filter(|c| c.is(b"PLTE") || c.is(b"tRNS") || c.is(b"IDAT"))
        .collect();
    let mut out = Vec::with_capacity(encoded.len() + original.len() / 4);
    out.extend_from_slice(png_chunks::SIGNATURE);
    let mut dropped = Vec::new();
    let mut idat_written = false;
    for c in &old.chunks {
        let name = String::from_utf8_lossy(&c.kind).into_owned();
        let raw = c.raw(original);
        match &c.kind {
            b"IHDR" => {
                let ihdr = new
                    .chunks
                    .iter()
                    .find(|n| n.is(b"IHDR"))
                    .ok_or_else(|| Error::malformed("png", "the encoder wrote no IHDR"))?;
                out.extend_from_slice(ihdr.raw(encoded));
            }
            b"IDAT" => {
                if !idat_written {
                    for n in &new_pixels {
                        out.extend_from_slice(n.raw(encoded));
                    }
                    idat_written = true;
                }
            }
            b"IEND" => {
                if !idat_written {
                    return Err(Error::malformed("png", "no IDAT chunk"));
                }
                out.extend_from_slice(raw);
            }
            b"PLTE" | b"hIST" if keep_plte => out.extend_from_slice(raw),
            b"PLTE" | b"hIST" => dropped.push(format!("{name} (the palette no longer applies)")),
            b"bKGD" => match convert_bkgd(c.body(original), old_t, plte, new_t) {
                Some(body) => png_chunks::push_chunk(&mut out, b"bKGD", &body)?,
                None => dropped.push("bKGD (cannot be written for the new colour type)".into()),
            },
            k if TYPED.contains(&k) => {
                if same {
                    out.extend_from_slice(raw);
                } else if k == b"tRNS" && matches!(new_t.colour, 4 | 6) {
                    // The transparency was decoded into the alpha channel the new image has.
                } else {
                    dropped.push(format!("{name} (written for the old colour type)"));
                }
            }
            k if KEPT.contains(&k) => out.extend_from_slice(raw),
            // Unknown ancillary chunks marked safe to copy (lower-case fourth letter) survive an
            // edit of the image data; the others, and critical ones, may not.
            k if k[0] & 0x20 != 0 && k[3] & 0x20 != 0 && k != b"dSIG" => out.extend_from_slice(raw),
            _ => dropped.push(format!("{name} (depends on the old image data)")),
        }
    }
    if old.findings.iter().any(|f| f.code == "png.trailing_data") {
        dropped.push("the bytes after IEND".to_string());
    }
    note_dropped(notes, &dropped);
    Ok(out)
}

fn colour_name(colour: u8) -> &'static str {
    match colour {
        0 => "grey",
        2 => "RGB",
        3 => "palette",
        4 => "grey with alpha",
        6 => "RGBA",
        _ => "an unknown colour type",
    }
}

/// Number of colour components in the original's frame header, when there is one.
fn jpeg_components(segments: &[jpeg_segments::Segment], file: &[u8]) -> Option<u8> {
    segments
        .iter()
        .find(|s| matches!(s.marker, 0xC0..=0xCF) && !matches!(s.marker, 0xC4 | 0xC8 | 0xCC))
        .and_then(|s| s.body(file).get(5).copied())
}

/// The original's metadata segments (`APPn`, `COM`) in their order, followed by the encoder's
/// image data (tables, frame, scans). The encoder's `JFIF` header is replaced by the original's
/// (density included) or left out when the original had none; left out with a note are the
/// Adobe `APP14` (its colour-transform flag describes the old encoding), an `MPF` index (its
/// offsets point into the old file), a CMYK original's ICC profile (the image is now RGB), and
/// the bytes after `EOI` (secondary images of the old picture).
pub(super) fn splice_jpeg(
    original: &[u8],
    encoded: &[u8],
    limits: &Limits,
    notes: &mut Vec<Finding>,
) -> Result<Vec<u8>> {
    let old = jpeg_segments::parse(original, limits)?;
    let new = jpeg_segments::parse(encoded, limits)?;
    let cmyk = jpeg_components(&old.segments, original) == Some(4);
    let mut out = Vec::with_capacity(encoded.len() + original.len() / 4);
    out.extend_from_slice(&[0xFF, SOI]);
    let mut dropped = Vec::new();
    for s in old.segments.iter().filter(|s| s.is_metadata()) {
        let body = s.body(original);
        if s.marker == 0xEE && body.starts_with(b"Adobe") {
            continue;
        }
        if s.marker == APP2 && body.starts_with(b"MPF\0") {
            dropped.push("APP2 MPF (its offsets point into the old file)".to_string());
            continue;
        }
        if cmyk && s.marker == APP2 && body.starts_with(b"ICC_PROFILE\0") {
            dropped.push("APP2 ICC profile (a CMYK profile; the image is now RGB)".to_string());
            continue;
        }
        out.extend_from_slice(s.raw(original));
    }
    if cmyk {
        notes.push(Finding::info(
            "image.colour_type_changed",
            "the CMYK JPEG was re-encoded as RGB (YCbCr)",
        ));
    }
    for s in &new.segments {
        if s.marker == SOI || (s.marker == APP0 && s.body(encoded).starts_with(b"JFIF\0")) {
            continue;
        }
        out.extend_from_slice(s.raw(encoded));
    }
    if !old.trailer.is_empty() {
        dropped.push(format!(
            "{} bytes after EOI (secondary images of the old picture)",
            old.trailer.len()
        ));
    }
    note_dropped(notes, &dropped);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_bit_change_is_scaled_and_keeps_the_low_bits() {
        assert_eq!(to8(0), 0);
        assert_eq!(to8(65535), 255);
        assert_eq!(to8(257 * 100 + 128), 100);
        assert_eq!(moved(257 * 100 + 5, 100, 102), 257 * 102 + 5);
        assert_eq!(moved(3, 0, 0), 3);
        assert_eq!(moved(65530, 255, 250), 65530 - 5 * 257);
        assert_eq!(moved(100, 0, 1), 357);
        assert_eq!(moved(65500, 255, 255), 65500);
    }

    #[test]
    fn background_follows_the_colour_type() {
        let grey2 = PngType {
            colour: 0,
            depth: 2,
        };
        let grey8 = PngType {
            colour: 0,
            depth: 8,
        };
        let rgb8 = PngType {
            colour: 2,
            depth: 8,
        };
        let pal = PngType {
            colour: 3,
            depth: 8,
        };
        // A 2-bit grey level 2 of 3 is 170 of 255.
        assert_eq!(
            convert_bkgd(&[0, 2], grey2, None, grey8),
            Some(vec![0, 170])
        );
        assert_eq!(
            convert_bkgd(&[1], pal, Some(&[0, 0, 0, 10, 20, 30]), rgb8),
            Some(vec![0, 10, 0, 20, 0, 30])
        );
        // A palette index past the palette, and a colour background for a grey image.
        assert_eq!(convert_bkgd(&[5], pal, Some(&[0, 0, 0]), rgb8), None);
        assert_eq!(convert_bkgd(&[0, 1, 0, 2, 0, 3], rgb8, None, grey8), None);
        assert_eq!(convert_bkgd(&[0, 7], grey8, None, grey8), Some(vec![0, 7]));
    }
}
