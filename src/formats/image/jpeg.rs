//! JPEG: the label in an XMP APP1 segment (and, as the image guide's Annex B shows, in EXIF
//! UserComment as `{"AIGC":{…}}`), written at the segment level.
//!
//! A new XMP segment goes after the leading APP0/APP1 run (JFIF, EXIF), where readers expect it;
//! an existing packet is merged into where it is. EXIF is merged without moving any existing
//! value (see `exif`); when that is not safe (a UserComment that holds something else, EXIF that
//! cannot be followed, a segment that would grow past 64 KiB) the EXIF carrier is not written and
//! the XMP label stands alone.
//!
//! Carriers follow [`CarrierChoice`]: XMP alone by default, the EXIF UserComment alone for
//! `AnnexB`, both for `Both`. A label already in the carrier not chosen is removed (the rest of
//! that XMP packet or EXIF kept), so a file never keeps a stale second copy.
//!
//! # What the binding leaves out, and why that is safe
//!
//! Only `APPn` and `COM` segments: decoders skip them by their length, and what they hold does
//! not reach the decoded pixels, except the documented colour gaps (ICC `APP2`, the Adobe `APP14`
//! transform flag) and EXIF Orientation. Everything else from `SOI` on is bound, and so are the
//! bytes after `EOI` (MPF secondary images, an appended second JPEG, any trailer): a viewer that
//! shows them, and tools that read them, see sealed bytes. A file the walk cannot read to `EOI`
//! is damaged (`jpeg.no_eoi`, `jpeg.bad_marker`, `jpeg.bad_length`: `Error` findings), and a
//! label is never sealed into one.

use crate::binding::ContentHasher;
use crate::error::{Error, Result};
use crate::findings::Finding;
use crate::format::{
    CarrierChoice, ContentEdits, Edited, ExplicitMark, Format, Handler, Scan, ScanOptions,
    WriteOptions,
};
use crate::limits::Limits;

use super::jpeg_segments::{self, APP0, APP1, SOS, Segment, Segments, push_segment};
use super::{JPEG_XMP_ID, exif, xmp};

pub struct Jpeg;

pub static JPEG: Jpeg = Jpeg;

const EXIF_ID: &[u8] = b"Exif\0\0";
const XMP_EXTENSION_ID: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";

fn is_xmp(s: &Segment, file: &[u8]) -> bool {
    s.marker == APP1 && s.body(file).starts_with(JPEG_XMP_ID)
}

fn is_exif(s: &Segment, file: &[u8]) -> bool {
    s.marker == APP1 && s.body(file).starts_with(EXIF_ID)
}

/// Width and height from the frame header (`SOFn`), or zeros.
fn frame_size(segments: &[Segment], file: &[u8]) -> (u32, u32) {
    segments
        .iter()
        .find(|s| matches!(s.marker, 0xC0..=0xCF) && !matches!(s.marker, 0xC4 | 0xC8 | 0xCC))
        .and_then(|s| s.body(file).get(1..5))
        .map_or((0, 0), |b| {
            (
                u32::from(u16::from_be_bytes([b[2], b[3]])),
                u32::from(u16::from_be_bytes([b[0], b[1]])),
            )
        })
}

/// The content digest: every segment that is not `APPn`/`COM`, as stored, then the bytes after
/// `EOI` (none in most files, so their digest is the segments' alone).
fn digest(parsed: &Segments, file: &[u8]) -> [u8; 32] {
    let mut h = ContentHasher::new();
    for s in parsed.segments.iter().filter(|s| !s.is_metadata()) {
        h.update(s.raw(file));
    }
    h.update(&file[parsed.trailer.clone()]);
    h.finish()
}

const APP11: u8 = 0xEB;

/// Whether an APP11 segment starts a C2PA manifest store: a JPEG XT box (`JP`, instance, sequence
/// number 1) whose JUMBF superbox is labeled `c2pa`.
fn is_c2pa_start(s: &Segment, file: &[u8]) -> bool {
    let b = s.body(file);
    s.marker == APP11
        && b.starts_with(b"JP")
        && b.get(4..8) == Some(&[0, 0, 0, 1])
        && b.get(8..b.len().min(80))
            .is_some_and(|h| memchr::memmem::find(h, b"jumb").is_some())
        && b.get(8..b.len().min(120))
            .is_some_and(|h| memchr::memmem::find(h, b"c2pa").is_some())
}

impl Handler for Jpeg {
    fn format(&self) -> Format {
        Format::Jpeg
    }

    fn scan(&self, input: &[u8], opts: &ScanOptions<'_>) -> Result<Scan> {
        let parsed = jpeg_segments::parse(input, opts.limits)?;
        let mut scan = Scan {
            findings: parsed.findings.clone(),
            ..Default::default()
        };
        let mut xmp_segments = 0;
        let mut exif_segments = 0;
        let mut after_scan = false;
        for s in &parsed.segments {
            if s.marker == SOS {
                after_scan = true;
            }
            let body = s.body(input);
            if is_xmp(s, input) {
                xmp_segments += 1;
                if after_scan {
                    scan.findings.push(Finding::warning(
                        "jpeg.xmp_after_scan",
                        "the XMP segment comes after the image data",
                    ));
                }
                super::scan_xmp(
                    &body[JPEG_XMP_ID.len()..],
                    "JPEG APP1",
                    opts.limits,
                    &mut scan,
                );
            } else if is_exif(s, input) {
                exif_segments += 1;
                super::scan_exif(body, "JPEG APP1", &mut scan);
            } else if s.marker == APP1 && body.starts_with(XMP_EXTENSION_ID) {
                scan.findings.push(Finding::info(
                    "jpeg.extended_xmp",
                    "the file has extended XMP; labels are read from the main packet only",
                ));
            }
        }
        if xmp_segments > 1 {
            scan.findings.push(Finding::warning(
                "jpeg.xmp_duplicate",
                format!("{xmp_segments} XMP segments; a file should have one"),
            ));
        }
        if exif_segments > 1 {
            scan.findings.push(Finding::warning(
                "jpeg.exif_duplicate",
                format!("{exif_segments} EXIF segments; a file should have one"),
            ));
        }
        if !parsed.segments.iter().any(|s| s.marker == SOS) {
            scan.findings.push(Finding::error(
                "jpeg.no_scan",
                "the file has no image data (SOS)",
            ));
        }
        // A file the walk could not read to EOI is reported when it holds a label; without
        // one, it is unreadable.
        if scan.carriers.is_empty()
            && let Some(f) = parsed.damage()
        {
            return Err(Error::malformed("jpeg", f.message.clone()));
        }
        if parsed.segments.iter().any(|s| is_c2pa_start(s, input)) {
            // The store is left out of the binding with the other APPn segments; it must be
            // well-formed JUMBF to count as a manifest rather than a hiding place.
            let app11 = parsed
                .segments
                .iter()
                .filter(|s| s.marker == APP11)
                .map(|s| s.body(input));
            match crate::c2pa::jpeg_xt_store(app11) {
                Some(store) => crate::c2pa::note_store(&mut scan, "JUMBF (APP11)", &store),
                None => scan.findings.push(Finding::error(
                    "c2pa.store_malformed",
                    "the C2PA manifest store's APP11 segments are out of sequence; they lie \
                     outside the content binding, so their bytes are not proved inert",
                )),
            }
        }
        scan.digest = Some(digest(&parsed, input));
        super::watermark_into(&mut scan, input, Format::Jpeg, opts);
        Ok(scan)
    }

    fn write_label(
        &self,
        input: &[u8],
        label_json: &str,
        opts: &WriteOptions<'_>,
    ) -> Result<Vec<u8>> {
        let limits = opts.limits;
        let parsed = jpeg_segments::parse(input, limits)?;
        if let Some(f) = parsed.damage() {
            return Err(Error::malformed(
                "jpeg",
                format!(
                    "the file is damaged ({}: {}); a label sealed into it could never verify",
                    f.code, f.message
                ),
            ));
        }
        let segs = &parsed.segments;
        let packet_of =
            |s: &Segment| String::from_utf8_lossy(&s.body(input)[JPEG_XMP_ID.len()..]).into_owned();

        // The XMP packet to merge into: the first one that can be read.
        let mut xmp_at = None;
        let mut packet = None;
        let xmp_segments = segs.iter().enumerate().filter(|(_, s)| is_xmp(s, input));
        for (i, s) in xmp_segments.filter(|_| opts.carriers.xmp()) {
            if let Ok(m) = xmp::merge(Some(&packet_of(s)), label_json, limits.max_nesting_depth) {
                xmp_at = Some(i);
                packet = Some(m);
                break;
            }
        }
        let mut packet = packet.unwrap_or_else(|| xmp::new_packet(label_json));
        // An APP1 segment holds 65533 bytes. A packet the label pushes over that gives up some
        // of its padding; moving properties to extended XMP is not done.
        let room = 65533 - JPEG_XMP_ID.len();
        if packet.len() > room {
            packet = xmp::shrink_padding(&packet, packet.len() - room).ok_or_else(|| {
                Error::Limit(format!(
                    "the XMP packet with the label is {} bytes, over the {room} a JPEG segment \
                     holds, and has too little padding to give up; extended XMP is not written",
                    packet.len()
                ))
            })?;
        }
        let mut xmp_payload = JPEG_XMP_ID.to_vec();
        xmp_payload.extend_from_slice(packet.as_bytes());

        let exif_at = segs.iter().position(|s| is_exif(s, input));
        let wrapped = super::wrapped(label_json);
        let new_exif = exif_segment(
            exif_at.map(|i| &segs[i].body(input)[EXIF_ID.len()..]),
            &wrapped,
            frame_size(segs, input),
            opts.carriers,
        )?;

        // Where new segments go: after SOI and the leading APP0/APP1 run.
        let insert_at = segs
            .iter()
            .enumerate()
            .skip(1)
            .find(|(_, s)| s.marker != APP0 && s.marker != APP1)
            .map_or(segs.len(), |(i, _)| i);

        let mut out = Vec::with_capacity(input.len() + xmp_payload.len() + wrapped.len() + 64);
        for (i, s) in segs.iter().enumerate() {
            if i == insert_at {
                if exif_at.is_none()
                    && let Some(e) = &new_exif
                {
                    push_segment(&mut out, APP1, e)?;
                }
                if opts.carriers.xmp() && xmp_at.is_none() {
                    push_segment(&mut out, APP1, &xmp_payload)?;
                }
            }
            if Some(i) == xmp_at {
                push_segment(&mut out, APP1, &xmp_payload)?;
            } else if Some(i) == exif_at && new_exif.is_some() {
                if let Some(e) = &new_exif {
                    push_segment(&mut out, APP1, e)?;
                }
            } else if is_xmp(s, input) {
                // Another XMP packet: keep it, without its TC260 property.
                match xmp::strip(&packet_of(s), limits.max_nesting_depth) {
                    Ok(Some(stripped)) => {
                        push_segment(&mut out, APP1, &[JPEG_XMP_ID, stripped.as_bytes()].concat())?
                    }
                    _ => out.extend_from_slice(s.raw(input)),
                }
            } else {
                out.extend_from_slice(s.raw(input));
            }
        }
        out.extend_from_slice(&input[parsed.trailer.clone()]);
        Ok(out)
    }

    fn edit_content(&self, input: &[u8], edits: &ContentEdits<'_>) -> Result<Edited> {
        super::edit_content(Format::Jpeg, input, edits)
    }

    fn check_explicit(&self, input: &[u8], record: &str, limits: &Limits) -> Vec<ExplicitMark> {
        super::check_explicit_marks(Format::Jpeg, input, record, limits)
    }
}

/// The EXIF segment payload to write, given the TIFF data of the existing one (if any): with the
/// label as UserComment when the choice includes Annex B, else without any label it held; `None`
/// when the existing segment stays as it is (or, with none, when none is needed).
///
/// With `Both`, EXIF that cannot take the comment (a UserComment that holds something else, a
/// segment that would outgrow 64 KiB) is left without it and the XMP label stands alone; with
/// `AnnexB`, where it is the only carrier, that is an error.
fn exif_segment(
    existing: Option<&[u8]>,
    wrapped: &str,
    size: (u32, u32),
    carriers: CarrierChoice,
) -> Result<Option<Vec<u8>>> {
    let has_label = existing.is_some_and(|t| exif::find_labels(t).is_ok_and(|f| !f.is_empty()));
    let fits = |t: Vec<u8>| {
        let p = [EXIF_ID, &t].concat();
        if p.len() <= 65533 {
            Ok(p)
        } else {
            Err(Error::Limit(
                "the EXIF segment with the label would be over 64 KiB".into(),
            ))
        }
    };
    if carriers.annex_b() {
        let written = exif::with_user_comment(existing, wrapped, size).and_then(fits);
        return match (written, carriers) {
            (Ok(p), _) => Ok(Some(p)),
            (Err(e), CarrierChoice::AnnexB) => Err(Error::Refused(format!(
                "the label cannot go into EXIF UserComment ({e}); write it as XMP instead"
            ))),
            (Err(_), _) if has_label => existing
                .map(|t| exif::without_labels(t).and_then(fits))
                .transpose(),
            (Err(_), _) => Ok(None),
        };
    }
    match existing {
        Some(t) if has_label => exif::without_labels(t).and_then(fits).map(Some),
        _ => Ok(None),
    }
}

/// The identifier that starts the `APP15` segment carrying an RFC 3161 timestamp token (DER)
/// beside the label: an `APPn` segment, which decoders skip by its length and the binding
/// leaves out like every other.
pub(crate) const TSA_ID: &[u8] = b"AIGC-TSA\0";

fn is_tsa(s: &Segment, file: &[u8]) -> bool {
    s.marker == jpeg_segments::APP15 && s.body(file).starts_with(TSA_ID)
}

/// The timestamp token in an `APP15 AIGC-TSA` segment, if any.
pub(crate) fn tsa_token(input: &[u8], limits: &Limits) -> Result<Option<Vec<u8>>> {
    let parsed = jpeg_segments::parse(input, limits)?;
    Ok(parsed
        .segments
        .iter()
        .find(|s| is_tsa(s, input))
        .map(|s| s.body(input)[TSA_ID.len()..].to_vec()))
}

/// `input` with its `APP15 AIGC-TSA` segments replaced by one holding `token` (after the leading
/// `APP0`/`APP1` run, where the label's XMP is), or removed when `token` is `None`.
pub(crate) fn with_tsa_token(
    input: &[u8],
    token: Option<&[u8]>,
    limits: &Limits,
) -> Result<Vec<u8>> {
    let parsed = jpeg_segments::parse(input, limits)?;
    if let Some(f) = parsed.damage() {
        return Err(Error::malformed("jpeg", f.message.clone()));
    }
    let segs = &parsed.segments;
    let insert_at = segs
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, s)| s.marker != APP0 && s.marker != APP1)
        .map_or(segs.len(), |(i, _)| i);
    let mut out = Vec::with_capacity(input.len() + token.map_or(0, <[u8]>::len) + 16);
    for (i, s) in segs.iter().enumerate() {
        if i == insert_at
            && let Some(t) = token
        {
            push_segment(&mut out, jpeg_segments::APP15, &[TSA_ID, t].concat())?;
        }
        if !is_tsa(s, input) {
            out.extend_from_slice(s.raw(input));
        }
    }
    out.extend_from_slice(&input[parsed.trailer.clone()]);
    Ok(out)
}
