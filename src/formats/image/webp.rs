//! WebP: the label in an `XMP ` chunk, with the `VP8X` XMP flag set, written at the chunk level.
//!
//! A simple-format file (a lone `VP8 ` or `VP8L` chunk) cannot hold metadata, so it is turned
//! into the extended format by adding a `VP8X` chunk whose canvas size is read from the VP8/VP8L
//! bitstream header; the image chunk itself is kept byte for byte. Chunk order follows the
//! container spec: `VP8X`, `ICCP`, `ANIM`, image data, `EXIF`, `XMP `, then unknown chunks.
//! WebP has one carrier: whatever [`crate::format::CarrierChoice`] says, the label goes into XMP
//! (and a label found in the `EXIF` chunk is removed, so no stale copy stays behind).
//!
//! # What the binding covers, and why the rest is safe
//!
//! The image chunks (`VP8 `, `VP8L`, `ALPH`, `ANIM`, `ANMF`) and, from `VP8X`, the canvas size and
//! the alpha and animation flags: they decide what is shown (a still image whose canvas disagrees
//! with its frame is refused by libwebp; an animation is composed on the canvas). The other `VP8X`
//! flags say which metadata chunks exist and change when metadata is added, so they stay out. A
//! simple-format file has no `VP8X`; its canvas and flags are read from the bitstream, the same
//! values the `VP8X` written with the label holds, so labeling keeps the digest. Unknown chunks
//! are ignored by decoders (the container spec requires it) once a `VP8X` is there; a file whose
//! structure decoders would read differently (bytes after the RIFF size, a RIFF size that lies, a
//! `VP8X` that is not first, a chunk before the image in a simple file) is damaged: an `Error`
//! finding, and a label is never sealed into one.

use crate::binding::ContentHasher;
use crate::error::{Error, Result};
use crate::findings::{Finding, Severity};
use crate::format::{
    ContentEdits, Edited, ExplicitMark, Format, Handler, Scan, ScanOptions, WriteOptions,
};
use crate::limits::Limits;

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

/// A chunk runs past the end of the file: the walk stopped there.
const TRUNCATED_WALK: &str = "webp.truncated_chunk";

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

/// Reads the file for scanning: the chunks and every structural deviation, the ones that make
/// decoders read the file differently from this walk as `Error` findings. A chunk running past the
/// end (a truncated file) is kept, clipped, so a label before it is still read.
fn read(input: &[u8], limits: &Limits) -> Result<Riff> {
    let mut riff = match parse(input, limits) {
        Ok(r) => r,
        Err(Error::Malformed { reason, .. }) if input.len() >= 12 => {
            let w = riff::walk(input, 12, input.len(), limits, &[], true);
            let mut chunks = w.chunks;
            // The clipped last chunk is not read: its bytes are not all there.
            chunks.retain(|c| c.body_end() <= input.len());
            Riff {
                form: *b"WEBP",
                chunks,
                end: input.len(),
                findings: vec![Finding::error(TRUNCATED_WALK, reason)],
            }
        }
        Err(e) => return Err(e),
    };
    let declared = u64::from(u32::from_le_bytes([input[4], input[5], input[6], input[7]])) + 8;
    let missing_pad_only = declared == input.len() as u64 + 1
        && riff
            .findings
            .iter()
            .any(|f| f.code == CODES.truncated && f.severity == Severity::Info);
    for f in &mut riff.findings {
        let structural = [CODES.size_mismatch, CODES.trailing, CODES.truncated].contains(&f.code);
        if structural && f.severity == Severity::Warning && !missing_pad_only {
            f.severity = Severity::Error;
            f.message
                .push_str("; decoders may read the file differently");
        }
    }
    let chunks = &riff.chunks;
    let vp8x_at: Vec<usize> = chunks
        .iter()
        .enumerate()
        .filter(|(_, c)| &c.id == b"VP8X")
        .map(|(i, _)| i)
        .collect();
    if vp8x_at.iter().any(|&i| i != 0) {
        riff.findings.push(Finding::error(
            "webp.vp8x_misplaced",
            "a VP8X chunk that is not the first chunk; decoders ignore it or refuse the file",
        ));
    }
    if vp8x_at.is_empty()
        && chunks
            .first()
            .is_some_and(|c| &c.id != b"VP8 " && &c.id != b"VP8L")
    {
        riff.findings.push(Finding::error(
            "webp.chunk_before_image",
            format!(
                "a simple-format file (no VP8X) whose first chunk is {:?}; decoders refuse it",
                chunks[0].name()
            ),
        ));
    }
    if let Some(vp8x) = chunks.first().filter(|c| &c.id == b"VP8X") {
        let b = vp8x.body(input);
        let still = b.first().is_some_and(|f| f & FLAG_ANIMATION == 0);
        let frame = chunks
            .iter()
            .find(|c| &c.id == b"VP8 " || &c.id == b"VP8L")
            .and_then(|c| bitstream_size(c, input).ok());
        if b.len() < 10 {
            riff.findings.push(Finding::error(
                "webp.vp8x_short",
                "the VP8X chunk is shorter than 10 bytes",
            ));
        } else if still
            && let Some((w, h, _)) = frame
            && canvas_size(b) != (w, h)
        {
            let (cw, ch) = canvas_size(b);
            riff.findings.push(Finding::error(
                "webp.canvas_mismatch",
                format!("the VP8X canvas is {cw}×{ch}, the image {w}×{h}; decoders refuse it"),
            ));
        }
    }
    Ok(riff)
}

/// The canvas size a `VP8X` body (at least 10 bytes) declares.
fn canvas_size(b: &[u8]) -> (u32, u32) {
    let dim = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], 0]) + 1;
    (dim(4), dim(7))
}

/// The `VP8X` flags a file without one gets: from the bitstream and the chunks present.
fn derived_flags(chunks: &[Chunk], alpha: bool) -> u8 {
    let has = |id: &[u8; 4]| chunks.iter().any(|c| &c.id == id);
    let mut flags = 0;
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
    flags
}

/// The rendering part of `VP8X` as the digest binds it: alpha and animation flags, then the
/// canvas width and height less one (3 bytes each, little-endian), from `VP8X` when it is the
/// first chunk, else derived from the image as the `VP8X` written with a label would say.
fn bound_canvas(riff: &Riff, file: &[u8]) -> Option<[u8; 7]> {
    let body = match riff.chunks.first() {
        Some(c) if &c.id == b"VP8X" => c.body(file).get(..10)?.to_vec(),
        _ => {
            let image = riff
                .chunks
                .iter()
                .find(|c| &c.id == b"VP8 " || &c.id == b"VP8L")?;
            let (w, h, alpha) = bitstream_size(image, file).ok()?;
            vp8x_body(derived_flags(&riff.chunks, alpha), w, h).ok()?
        }
    };
    Some([
        body[0] & (FLAG_ALPHA | FLAG_ANIMATION),
        body[4],
        body[5],
        body[6],
        body[7],
        body[8],
        body[9],
    ])
}

fn digest(riff: &Riff, file: &[u8]) -> [u8; 32] {
    let mut h = ContentHasher::new();
    if let Some(canvas) = bound_canvas(riff, file) {
        h.update(b"VP8X");
        h.update(&canvas);
    }
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
        let riff = read(input, opts.limits)?;
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
                // Left out of the binding; a manifest only when well-formed JUMBF.
                b"C2PA" => crate::c2pa::note_store(&mut scan, "WebP C2PA chunk", c.body(input)),
                _ => {}
            }
        }
        // A truncated file is reported when it holds a label; without one, it is unreadable.
        if scan.carriers.is_empty()
            && let Some(f) = scan.findings.iter().find(|f| f.code == TRUNCATED_WALK)
        {
            return Err(Error::malformed("webp", f.message.clone()));
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
        super::watermark_into(&mut scan, input, Format::Webp, opts);
        Ok(scan)
    }

    fn write_label(
        &self,
        input: &[u8],
        label_json: &str,
        opts: &WriteOptions<'_>,
    ) -> Result<Vec<u8>> {
        let limits = opts.limits;
        let riff = read(input, limits)?;
        if let Some(f) = riff.findings.iter().find(|f| f.severity == Severity::Error) {
            return Err(Error::malformed(
                "webp",
                format!(
                    "the file is damaged ({}: {}); a label sealed into it could never verify",
                    f.code, f.message
                ),
            ));
        }
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
        // An EXIF chunk that holds a label loses it: XMP is WebP's one carrier.
        let exif_body = match chunks.iter().find(|c| &c.id == b"EXIF") {
            Some(c) => {
                let body = c.body(input);
                let tiff = exif::tiff_data(body);
                let prefix = &body[..body.len() - tiff.len()];
                if exif::find_labels(tiff).is_ok_and(|f| !f.is_empty()) {
                    Some([prefix, &exif::without_labels(tiff)?].concat())
                } else {
                    None
                }
            }
            None => None,
        };

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
                vp8x_body(derived_flags(chunks, alpha) | FLAG_XMP, w, h)?
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
        super::edit_content(Format::Webp, input, edits)
    }

    fn check_explicit(&self, input: &[u8], record: &str, limits: &Limits) -> Vec<ExplicitMark> {
        super::check_explicit_marks(Format::Webp, input, record, limits)
    }
}

/// Puts the original's `ICCP`, `EXIF` and `XMP ` chunks into a freshly encoded WebP, turning it
/// into the extended format with the matching flags.
pub(super) fn carry_metadata(original: &[u8], encoded: &[u8], limits: &Limits) -> Result<Vec<u8>> {
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

/// The RIFF chunk that carries an RFC 3161 timestamp token (DER) beside the label: an unknown
/// chunk to decoders (the container specification makes them skip it), outside the binding.
pub(crate) const TSA_CHUNK: &[u8; 4] = b"AITS";

/// The timestamp token in an `AITS` chunk, if any.
pub(crate) fn tsa_token(input: &[u8], limits: &Limits) -> Result<Option<Vec<u8>>> {
    let riff = parse(input, limits)?;
    Ok(riff
        .chunks
        .iter()
        .find(|c| &c.id == TSA_CHUNK)
        .map(|c| c.body(input).to_vec()))
}

/// `input` with its `AITS` chunks replaced by one holding `token` (at the end, after the
/// label's XMP chunk), or removed when `token` is `None`.
pub(crate) fn with_tsa_token(
    input: &[u8],
    token: Option<&[u8]>,
    limits: &Limits,
) -> Result<Vec<u8>> {
    let riff = read(input, limits)?;
    if let Some(f) = riff.findings.iter().find(|f| f.severity == Severity::Error) {
        return Err(Error::malformed("webp", f.message.clone()));
    }
    if riff.chunks.first().is_none_or(|c| &c.id != b"VP8X") {
        return Err(Error::Unsupported(
            "a timestamp token goes only into an extended (VP8X) WebP file, as a labeled one is"
                .into(),
        ));
    }
    let mut pieces: Vec<Piece<'_>> = riff
        .chunks
        .iter()
        .filter(|c| &c.id != TSA_CHUNK)
        .map(|c| Piece::Raw(riff.raw(c, input)))
        .collect();
    if let Some(t) = token {
        pieces.push(Piece::New(*TSA_CHUNK, t));
    }
    riff::write(b"WEBP", &pieces)
}
