//! WebP: the label in an `XMP ` chunk, with the `VP8X` XMP flag set, written at the chunk level.
//!
//! A simple-format file (a lone `VP8 ` or `VP8L` chunk) cannot hold metadata, so it is turned
//! into the extended format by adding a `VP8X` chunk whose canvas size is read from the VP8/VP8L
//! bitstream header; the image chunk itself is kept byte for byte. Chunk order follows the
//! container spec: `VP8X`, `ICCP`, `ANIM`, image data, `EXIF`, `XMP `, then unknown chunks.

use crate::binding::ContentHasher;
use crate::error::{Error, Result};
use crate::format::{
    ContentEdits, Edited, ExplicitMark, Format, Handler, Scan, ScanOptions, WriteOptions,
};
use crate::limits::Limits;
use crate::report::Finding;

use super::{exif, xmp};
use crate::formats::riff::{self, Chunk, Piece, Riff};

pub struct Webp;

pub static WEBP: Webp = Webp;

const CODES: riff::Codes = riff::Codes {
    format: "webp",
    size_mismatch: "webp.riff_size",
    truncated: "webp.truncated",
    trailing: "webp.trailing_data",
};

const FLAG_ICC: u8 = 0x20;
const FLAG_ALPHA: u8 = 0x10;
const FLAG_EXIF: u8 = 0x08;
const FLAG_XMP: u8 = 0x04;
const FLAG_ANIMATION: u8 = 0x02;

/// Chunks whose bodies define the decoded pixels.
const BOUND: [&[u8; 4]; 5] = [b"VP8 ", b"VP8L", b"ALPH", b"ANIM", b"ANMF"];
const IMAGE: [&[u8; 4]; 4] = [b"VP8 ", b"VP8L", b"ALPH", b"ANMF"];

fn parse(input: &[u8], limits: &Limits) -> Result<Riff> {
    riff::parse(input, b"WEBP", limits, CODES)
}

fn digest(riff: &Riff, file: &[u8]) -> [u8; 32] {
    let mut h = ContentHasher::new();
    for c in riff.chunks.iter().filter(|c| BOUND.contains(&&c.id)) {
        h.update(&c.id);
        h.update(&(c.size as u32).to_le_bytes());
        h.update(c.body(file));
    }
    h.finish()
}

/// Canvas size and whether there is alpha, from a simple-format image chunk.
fn bitstream_size(c: &Chunk, file: &[u8]) -> Result<(u32, u32, bool)> {
    let b = c.body(file);
    match &c.id {
        b"VP8 " => {
            if b.len() < 10 || b[3..6] != [0x9D, 0x01, 0x2A] {
                return Err(Error::malformed("webp", "the VP8 frame header is damaged"));
            }
            let w = u32::from(u16::from_le_bytes([b[6], b[7]]) & 0x3FFF);
            let h = u32::from(u16::from_le_bytes([b[8], b[9]]) & 0x3FFF);
            Ok((w, h, false))
        }
        b"VP8L" => {
            if b.len() < 5 || b[0] != 0x2F {
                return Err(Error::malformed("webp", "the VP8L header is damaged"));
            }
            let bits = u32::from_le_bytes([b[1], b[2], b[3], b[4]]);
            Ok((
                (bits & 0x3FFF) + 1,
                ((bits >> 14) & 0x3FFF) + 1,
                (bits >> 28) & 1 == 1,
            ))
        }
        _ => Err(Error::malformed("webp", "no VP8 or VP8L image chunk")),
    }
}

fn vp8x_body(flags: u8, width: u32, height: u32) -> Result<Vec<u8>> {
    if width == 0 || height == 0 || width > 1 << 24 || height > 1 << 24 {
        return Err(Error::malformed(
            "webp",
            format!("canvas size {width}×{height} is invalid"),
        ));
    }
    let mut b = vec![flags, 0, 0, 0];
    b.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    b.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    Ok(b)
}

impl Handler for Webp {
    fn format(&self) -> Format {
        Format::Webp
    }

    fn scan(&self, input: &[u8], opts: &ScanOptions<'_>) -> Result<Scan> {
        let riff = parse(input, opts.limits)?;
        let mut scan = Scan {
            findings: riff.findings.clone(),
            ..Default::default()
        };
        let flags = riff
            .chunks
            .iter()
            .find(|c| &c.id == b"VP8X")
            .and_then(|c| c.body(input).first().copied());
        let mut xmp_chunks = 0;
        for c in &riff.chunks {
            match &c.id {
                b"XMP " => {
                    xmp_chunks += 1;
                    super::scan_xmp(c.body(input), "WebP XMP chunk", opts.limits, &mut scan);
                }
                b"EXIF" => super::scan_exif(c.body(input), "WebP EXIF chunk", &mut scan),
                _ => {}
            }
        }
        let has = |id: &[u8; 4]| riff.chunks.iter().any(|c| &c.id == id);
        match flags {
            None if has(b"XMP ") || has(b"EXIF") => scan.findings.push(Finding::warning(
                "webp.no_vp8x",
                "metadata chunks in a simple-format file (no VP8X chunk); readers may ignore them",
            )),
            Some(f) if has(b"XMP ") && f & FLAG_XMP == 0 => scan.findings.push(Finding::warning(
                "webp.xmp_flag_missing",
                "an XMP chunk is present but the VP8X XMP flag is not set",
            )),
            Some(f) if !has(b"XMP ") && f & FLAG_XMP != 0 => scan.findings.push(Finding::info(
                "webp.xmp_flag_without_chunk",
                "the VP8X XMP flag is set but there is no XMP chunk",
            )),
            _ => {}
        }
        if xmp_chunks > 1 {
            scan.findings.push(Finding::warning(
                "webp.xmp_duplicate",
                format!("{xmp_chunks} XMP chunks; a file should have one"),
            ));
        }
        if !riff.chunks.iter().any(|c| IMAGE.contains(&&c.id)) {
            scan.findings.push(Finding::error(
                "webp.no_image",
                "the file has no image data",
            ));
        }
        scan.digest = Some(digest(&riff, input));
        scan.watermark = super::look_for_watermark(input, Format::Webp, opts);
        Ok(scan)
    }

    fn write_label(
        &self,
        input: &[u8],
        label_json: &str,
        opts: &WriteOptions<'_>,
    ) -> Result<Vec<u8>> {
        let limits = opts.limits;
        let riff = parse(input, limits)?;
        let chunks = &riff.chunks;
        let xmp_at = chunks.iter().position(|c| &c.id == b"XMP ");
        let packet = match xmp_at {
            Some(i) => {
                let old = String::from_utf8_lossy(chunks[i].body(input));
                xmp::merge(Some(&old), label_json, limits.max_nesting_depth)
                    .unwrap_or_else(|_| xmp::new_packet(label_json))
            }
            None => xmp::new_packet(label_json),
        };
        // An EXIF chunk that already holds a label gets the new one.
        let exif_body = chunks.iter().find(|c| &c.id == b"EXIF").and_then(|c| {
            let body = c.body(input);
            let tiff = exif::tiff_data(body);
            let prefix = &body[..body.len() - tiff.len()];
            exif::find_labels(tiff)
                .ok()
                .filter(|f| !f.is_empty())
                .and_then(|_| {
                    exif::with_user_comment(Some(tiff), &super::wrapped(label_json), (0, 0)).ok()
                })
                .map(|t| [prefix, &t].concat())
        });

        let vp8x: Vec<u8> = match chunks.iter().find(|c| &c.id == b"VP8X") {
            Some(c) => {
                let mut b = c.body(input).to_vec();
                if b.len() < 10 {
                    return Err(Error::malformed("webp", "the VP8X chunk is too short"));
                }
                b[0] |= FLAG_XMP;
                b
            }
            None => {
                let image = chunks
                    .iter()
                    .find(|c| &c.id == b"VP8 " || &c.id == b"VP8L")
                    .ok_or_else(|| Error::malformed("webp", "no VP8 or VP8L image chunk"))?;
                let (w, h, alpha) = bitstream_size(image, input)?;
                let has = |id: &[u8; 4]| chunks.iter().any(|c| &c.id == id);
                let mut flags = FLAG_XMP;
                if alpha || has(b"ALPH") {
                    flags |= FLAG_ALPHA;
                }
                if has(b"EXIF") {
                    flags |= FLAG_EXIF;
                }
                if has(b"ICCP") {
                    flags |= FLAG_ICC;
                }
                if has(b"ANIM") {
                    flags |= FLAG_ANIMATION;
                }
                vp8x_body(flags, w, h)?
            }
        };

        // The new XMP goes where the old one was, else after EXIF, else after the image data.
        let after = xmp_at.or_else(|| {
            chunks
                .iter()
                .rposition(|c| &c.id == b"EXIF" || IMAGE.contains(&&c.id))
        });
        let mut pieces = vec![Piece::New(*b"VP8X", &vp8x)];
        for (i, c) in chunks.iter().enumerate() {
            match &c.id {
                b"VP8X" | b"XMP " => {}
                b"EXIF" if exif_body.is_some() => {
                    if let Some(b) = &exif_body {
                        pieces.push(Piece::New(*b"EXIF", b));
                    }
                }
                _ => pieces.push(Piece::Raw(riff.raw(c, input))),
            }
            if Some(i) == after {
                pieces.push(Piece::New(*b"XMP ", packet.as_bytes()));
            }
        }
        if after.is_none() {
            pieces.push(Piece::New(*b"XMP ", packet.as_bytes()));
        }
        riff::write(b"WEBP", &pieces)
    }

    fn edit_content(&self, input: &[u8], edits: &ContentEdits<'_>) -> Result<Edited> {
        if edits.explicit.is_some()
            && parse(input, edits.limits)?
                .chunks
                .iter()
                .any(|c| &c.id == b"ANIM")
        {
            return Err(Error::Unsupported(
                "a visible label on an animated WebP would drop the animation; label it without one".into(),
            ));
        }
        super::edit_content(Format::Webp, input, edits, carry_metadata)
    }

    fn check_explicit(&self, input: &[u8], record: &str, limits: &Limits) -> Vec<ExplicitMark> {
        super::check_explicit_marks(Format::Webp, input, record, limits)
    }
}

/// Puts the original's `ICCP`, `EXIF` and `XMP ` chunks into a freshly encoded WebP, turning it
/// into the extended format with the matching flags.
fn carry_metadata(original: &[u8], encoded: &[u8], limits: &Limits) -> Result<Vec<u8>> {
    let old = parse(original, limits)?;
    let new = parse(encoded, limits)?;
    let find = |id: &[u8; 4]| {
        old.chunks
            .iter()
            .find(|c| &c.id == id)
            .map(|c| c.body(original))
    };
    let (icc, exif_chunk, xmp_chunk) = (find(b"ICCP"), find(b"EXIF"), find(b"XMP "));
    if icc.is_none() && exif_chunk.is_none() && xmp_chunk.is_none() {
        return Ok(encoded.to_vec());
    }
    let image: Vec<&Chunk> = new
        .chunks
        .iter()
        .filter(|c| IMAGE.contains(&&c.id))
        .collect();
    let first = image
        .first()
        .ok_or_else(|| Error::malformed("webp", "the encoder wrote no image"))?;
    let (w, h, mut alpha) = match new.chunks.iter().find(|c| &c.id == b"VP8X") {
        Some(c) => {
            let b = c.body(encoded);
            let dim = |o: usize| {
                b.get(o..o + 3)
                    .map(|d| u32::from_le_bytes([d[0], d[1], d[2], 0]) + 1)
            };
            (
                dim(4).unwrap_or(1),
                dim(7).unwrap_or(1),
                b.first().is_some_and(|f| f & FLAG_ALPHA != 0),
            )
        }
        None => bitstream_size(first, encoded)?,
    };
    alpha |= new.chunks.iter().any(|c| &c.id == b"ALPH");
    let mut flags = 0;
    if alpha {
        flags |= FLAG_ALPHA;
    }
    if icc.is_some() {
        flags |= FLAG_ICC;
    }
    if exif_chunk.is_some() {
        flags |= FLAG_EXIF;
    }
    if xmp_chunk.is_some() {
        flags |= FLAG_XMP;
    }
    let vp8x = vp8x_body(flags, w, h)?;
    let mut pieces = vec![Piece::New(*b"VP8X", &vp8x)];
    if let Some(b) = icc {
        pieces.push(Piece::New(*b"ICCP", b));
    }
    pieces.extend(image.iter().map(|c| Piece::Raw(new.raw(c, encoded))));
    if let Some(b) = exif_chunk {
        pieces.push(Piece::New(*b"EXIF", b));
    }
    if let Some(b) = xmp_chunk {
        pieces.push(Piece::New(*b"XMP ", b));
    }
    riff::write(b"WEBP", &pieces)
}
