//! PNG: the label in an `iTXt XML:com.adobe.xmp` chunk before `IDAT` (and, as the image guide's
//! Annex B shows, a `tEXt AIGC` chunk holding the bare record), written at the chunk level.
//!
//! Reading accepts the label in `tEXt`, `zTXt` and `iTXt` (compressed or not) under the keyword
//! `AIGC` or inside XMP, and in an `eXIf` UserComment; every placement that deviates from the
//! guide is a `png.…` finding.
//!
//! Carriers follow [`crate::format::CarrierChoice`]: XMP alone by default, `tEXt AIGC` alone for
//! `AnnexB`, both for `Both`; a label in the carrier not chosen (and one in `eXIf`, which PNG's
//! guide does not use) is removed, so no stale copy stays behind. What the walk checks, and why a
//! damaged file is never intact, is in `png_chunks`.

use std::io::Read;

use crate::binding::ContentHasher;
use crate::error::{Error, Result};
use crate::findings::Finding;
use crate::format::{
    CarrierKind, ContentEdits, Edited, ExplicitMark, Format, Handler, Scan, ScanOptions,
    WriteOptions,
};
use crate::limits::Limits;

use super::png_chunks::{self, Chunk, push_chunk};
use super::{PNG_XMP_KEYWORD, exif, xmp};

pub struct Png;

pub static PNG: Png = Png;

/// Where a C2PA manifest store lives in PNG (a `caBX` chunk of JUMBF boxes).
const CABX: &str = "PNG caBX chunk";

/// Chunks whose data defines the decoded pixels (besides `IDAT`).
const BOUND: [&[u8; 4]; 6] = [b"IHDR", b"PLTE", b"tRNS", b"acTL", b"fcTL", b"fdAT"];

/// A text chunk, decoded.
struct Text {
    keyword: String,
    /// `None` when the text could not be decompressed within the limits.
    text: std::result::Result<String, String>,
    compressed: bool,
}

fn inflate(data: &[u8], limit: u64) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(data)
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| format!("cannot be decompressed: {e}"))?;
    if out.len() as u64 > limit {
        return Err(format!("expands to more than {limit} bytes; not read"));
    }
    Ok(out)
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Decodes a `tEXt`, `zTXt` or `iTXt` chunk whose keyword is `AIGC` or the XMP keyword; `None`
/// for other chunks (which are never decompressed) and for damaged ones.
fn text_chunk(c: &Chunk, file: &[u8], limits: &Limits) -> Option<Text> {
    if !(c.is(b"tEXt") || c.is(b"zTXt") || c.is(b"iTXt")) {
        return None;
    }
    let body = c.body(file);
    let nul = body.iter().position(|&b| b == 0)?;
    let keyword = latin1(&body[..nul]);
    if keyword != PNG_XMP_KEYWORD && !is_label_keyword(&keyword) {
        return None;
    }
    let rest = &body[nul + 1..];
    match &c.kind {
        b"tEXt" => Some(Text {
            keyword,
            text: Ok(latin1(rest)),
            compressed: false,
        }),
        b"zTXt" => Some(Text {
            keyword,
            text: rest
                .split_first()
                .ok_or_else(|| "is empty".to_string())
                .and_then(|(_, data)| inflate(data, limits.max_decompressed_metadata))
                .map(|b| latin1(&b)),
            compressed: true,
        }),
        b"iTXt" => {
            let (&flag, rest) = rest.split_first()?;
            let (_, rest) = rest.split_first()?;
            let lang = rest.iter().position(|&b| b == 0)?;
            let rest = &rest[lang + 1..];
            let tk = rest.iter().position(|&b| b == 0)?;
            let data = &rest[tk + 1..];
            let text = if flag == 1 {
                inflate(data, limits.max_decompressed_metadata)
            } else {
                Ok(data.to_vec())
            };
            Some(Text {
                keyword,
                text: text.map(|b| String::from_utf8_lossy(&b).into_owned()),
                compressed: flag == 1,
            })
        }
        _ => None,
    }
}

fn is_label_keyword(k: &str) -> bool {
    k.eq_ignore_ascii_case("AIGC")
}

/// The content digest (see the module comment of `formats::image`).
fn digest(chunks: &[Chunk], file: &[u8]) -> [u8; 32] {
    let mut h = ContentHasher::new();
    let idat_total: u64 = chunks
        .iter()
        .filter(|c| c.is(b"IDAT"))
        .map(|c| c.data.len() as u64)
        .sum();
    let mut idat_started = false;
    for c in chunks {
        if c.is(b"IDAT") {
            if !idat_started {
                h.update(b"IDAT");
                h.update(&idat_total.to_be_bytes());
                idat_started = true;
            }
            h.update(c.body(file));
        } else if BOUND.contains(&&c.kind) {
            h.update(&c.kind);
            h.update(&(c.data.len() as u32).to_be_bytes());
            h.update(c.body(file));
        }
    }
    h.finish()
}

/// An `iTXt` chunk body: keyword, uncompressed, no language, no translated keyword.
fn itxt_body(keyword: &str, text: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(keyword.len() + text.len() + 5);
    body.extend_from_slice(keyword.as_bytes());
    body.extend_from_slice(&[0, 0, 0, 0, 0]);
    body.extend_from_slice(text.as_bytes());
    body
}

impl Handler for Png {
    fn format(&self) -> Format {
        Format::Png
    }

    fn scan(&self, input: &[u8], opts: &ScanOptions<'_>) -> Result<Scan> {
        let parsed = png_chunks::parse(input, opts.limits)?;
        let mut scan = Scan {
            findings: parsed.findings,
            ..Default::default()
        };
        let mut after_idat = false;
        let mut xmp_packets = 0;
        for c in &parsed.chunks {
            if c.is(b"IDAT") {
                after_idat = true;
                continue;
            }
            if c.is(b"eXIf") {
                super::scan_exif(c.body(input), "PNG eXIf", &mut scan);
                continue;
            }
            if c.is(b"caBX") {
                // Left out of the binding (ancillary); a manifest only when well-formed JUMBF.
                crate::c2pa::note_store(&mut scan, CABX, c.body(input));
                continue;
            }
            let Some(t) = text_chunk(c, input, opts.limits) else {
                continue;
            };
            let kind = String::from_utf8_lossy(&c.kind).into_owned();
            let is_xmp = t.keyword == PNG_XMP_KEYWORD;
            if !is_xmp && !is_label_keyword(&t.keyword) {
                continue;
            }
            let text = match t.text {
                Ok(text) => text,
                Err(why) => {
                    scan.findings.push(Finding::warning(
                        "png.metadata_unreadable",
                        format!("{kind} {} {why}", t.keyword),
                    ));
                    continue;
                }
            };
            if is_xmp {
                xmp_packets += 1;
                if after_idat {
                    scan.findings.push(Finding::warning(
                        "png.xmp_after_idat",
                        "the XMP chunk comes after IDAT; the guide puts it before",
                    ));
                }
                if t.compressed {
                    scan.findings.push(Finding::warning(
                        "png.xmp_compressed",
                        "the XMP packet is compressed; the guide writes it uncompressed",
                    ));
                }
                if &c.kind != b"iTXt" {
                    scan.findings.push(Finding::warning(
                        "png.xmp_chunk_type",
                        format!("the XMP packet is in a {kind} chunk rather than iTXt"),
                    ));
                }
                super::scan_xmp(
                    text.as_bytes(),
                    &format!("PNG {kind} {PNG_XMP_KEYWORD}"),
                    opts.limits,
                    &mut scan,
                );
            } else {
                if t.keyword != "AIGC" {
                    scan.findings.push(Finding::warning(
                        "png.keyword_case",
                        format!("the label keyword is {:?}, not \"AIGC\"", t.keyword),
                    ));
                }
                if &c.kind != b"tEXt" {
                    scan.findings.push(Finding::info(
                        "png.label_chunk_type",
                        format!("the AIGC label is in a {kind} chunk rather than tEXt"),
                    ));
                }
                scan.carriers.push(crate::format::Carrier {
                    location: format!("PNG {kind} {}", t.keyword),
                    value: text,
                    kind: CarrierKind::Metadata,
                });
            }
        }
        if xmp_packets > 1 {
            scan.findings.push(Finding::warning(
                "png.xmp_duplicate",
                format!("{xmp_packets} XMP chunks; a file should have one"),
            ));
        }
        if !parsed.chunks.iter().any(|c| c.is(b"IDAT")) {
            scan.findings.push(Finding::error(
                "png.no_idat",
                "the file has no image data (IDAT)",
            ));
        }
        // A file the walk could not read to IEND is reported when it holds a label; without
        // one, it is unreadable.
        if scan.carriers.is_empty()
            && let Some(f) = scan
                .findings
                .iter()
                .find(|f| png_chunks::STOPS.contains(&f.code))
        {
            return Err(Error::malformed("png", f.message.clone()));
        }
        scan.digest = Some(digest(&parsed.chunks, input));
        super::watermark_into(&mut scan, input, Format::Png, opts);
        Ok(scan)
    }

    fn write_label(
        &self,
        input: &[u8],
        label_json: &str,
        opts: &WriteOptions<'_>,
    ) -> Result<Vec<u8>> {
        let limits = opts.limits;
        let parsed = png_chunks::parse(input, limits)?;
        if let Some(f) = parsed.damage() {
            return Err(Error::malformed(
                "png",
                format!(
                    "the file is damaged ({}: {}); a label sealed into it could never verify",
                    f.code, f.message
                ),
            ));
        }
        let first_idat = parsed
            .chunks
            .iter()
            .position(|c| c.is(b"IDAT"))
            .ok_or_else(|| Error::malformed("png", "no IDAT chunk"))?;
        // The XMP packet to merge into: the first one before IDAT that can be read.
        let mut xmp_at = None;
        let mut merged = None;
        if opts.carriers.xmp() {
            for (i, c) in parsed.chunks.iter().enumerate().take(first_idat) {
                if let Some(Text {
                    keyword,
                    text: Ok(text),
                    ..
                }) = text_chunk(c, input, limits)
                    && keyword == PNG_XMP_KEYWORD
                    && c.is(b"iTXt")
                    && let Ok(m) = xmp::merge(Some(&text), label_json, limits.max_nesting_depth)
                {
                    xmp_at = Some(i);
                    merged = Some(m);
                    break;
                }
            }
        }
        let packet = match merged {
            Some(m) => m,
            None => xmp::new_packet(label_json),
        };
        let mut out = Vec::with_capacity(input.len() + packet.len() + label_json.len() + 64);
        out.extend_from_slice(png_chunks::SIGNATURE);
        for (i, c) in parsed.chunks.iter().enumerate() {
            if i == first_idat {
                if opts.carriers.xmp() && xmp_at.is_none() {
                    push_chunk(&mut out, b"iTXt", &itxt_body(PNG_XMP_KEYWORD, &packet))?;
                }
                if opts.carriers.annex_b() {
                    let mut body = b"AIGC\0".to_vec();
                    body.extend_from_slice(label_json.as_bytes());
                    push_chunk(&mut out, b"tEXt", &body)?;
                }
            }
            if Some(i) == xmp_at {
                push_chunk(&mut out, b"iTXt", &itxt_body(PNG_XMP_KEYWORD, &packet))?;
                continue;
            }
            if c.is(b"eXIf") {
                // PNG's carriers are XMP and tEXt: a label in eXIf would be a stale second copy.
                let tiff = c.body(input);
                if exif::find_labels(tiff).is_ok_and(|f| !f.is_empty()) {
                    push_chunk(&mut out, b"eXIf", &exif::without_labels(tiff)?)?;
                    continue;
                }
            }
            match text_chunk(c, input, limits) {
                // Old label carriers go; the new ones are written before IDAT.
                Some(t) if is_label_keyword(&t.keyword) => continue,
                Some(Text {
                    keyword,
                    text: Ok(text),
                    ..
                }) if keyword == PNG_XMP_KEYWORD => {
                    // Another XMP packet: keep it, without its TC260 property.
                    match xmp::strip(&text, limits.max_nesting_depth) {
                        Ok(Some(stripped)) => {
                            push_chunk(&mut out, b"iTXt", &itxt_body(PNG_XMP_KEYWORD, &stripped))?
                        }
                        _ => out.extend_from_slice(c.raw(input)),
                    }
                }
                _ => out.extend_from_slice(c.raw(input)),
            }
        }
        Ok(out)
    }

    fn edit_content(&self, input: &[u8], edits: &ContentEdits<'_>) -> Result<Edited> {
        if edits.explicit.is_some()
            && png_chunks::parse(input, edits.limits)?
                .chunks
                .iter()
                .any(|c| c.is(b"acTL"))
        {
            return Err(Error::Unsupported(
                "a visible label on an animated PNG would drop the animation; label it without one"
                    .into(),
            ));
        }
        super::edit_content(Format::Png, input, edits)
    }

    fn check_explicit(&self, input: &[u8], record: &str, limits: &Limits) -> Vec<ExplicitMark> {
        super::check_explicit_marks(Format::Png, input, record, limits)
    }
}

/// The keyword of the `tEXt` chunk that carries an RFC 3161 timestamp token (base64) beside the
/// label: ancillary, outside the binding like every text chunk, and never read as a label.
pub(crate) const TSA_KEYWORD: &str = "AIGC-TSA";

/// The timestamp token in a `tEXt AIGC-TSA` chunk, if any; a damaged one is an error.
pub(crate) fn tsa_token(input: &[u8], limits: &Limits) -> Result<Option<Vec<u8>>> {
    let parsed = png_chunks::parse(input, limits)?;
    for c in parsed.chunks.iter().filter(|c| c.is(b"tEXt")) {
        let body = c.body(input);
        if let Some(text) = body
            .strip_prefix(TSA_KEYWORD.as_bytes())
            .and_then(|r| r.strip_prefix(b"\0"))
        {
            return crate::timestamp::token_from_text(&latin1(text)).map(Some);
        }
    }
    Ok(None)
}

/// `input` with its `tEXt AIGC-TSA` chunks replaced by one holding `token` (placed before the
/// first `IDAT`, beside the label), or removed when `token` is `None`.
pub(crate) fn with_tsa_token(
    input: &[u8],
    token: Option<&[u8]>,
    limits: &Limits,
) -> Result<Vec<u8>> {
    let parsed = png_chunks::parse(input, limits)?;
    if let Some(f) = parsed.damage() {
        return Err(Error::malformed("png", f.message.clone()));
    }
    let is_token = |c: &Chunk| {
        c.is(b"tEXt") && {
            let b = c.body(input);
            b.starts_with(TSA_KEYWORD.as_bytes()) && b.get(TSA_KEYWORD.len()) == Some(&0)
        }
    };
    let mut out = Vec::with_capacity(input.len() + token.map_or(0, |t| t.len() * 4 / 3 + 32));
    out.extend_from_slice(png_chunks::SIGNATURE);
    let mut placed = token.is_none();
    for c in &parsed.chunks {
        if c.is(b"IDAT") && !placed {
            let mut body = format!("{TSA_KEYWORD}\0").into_bytes();
            body.extend_from_slice(
                crate::timestamp::token_to_text(token.unwrap_or_default()).as_bytes(),
            );
            push_chunk(&mut out, b"tEXt", &body)?;
            placed = true;
        }
        if !is_token(c) {
            out.extend_from_slice(c.raw(input));
        }
    }
    if !placed {
        return Err(Error::malformed("png", "no IDAT chunk"));
    }
    Ok(out)
}
