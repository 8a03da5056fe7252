//! MP3: the label is an ID3v2 `TXXX` frame with description `AIGC` (see [`super::id3v2`]).
//!
//! Writing replaces the frame in the leading tag (v2.3 or v2.4, keeping the tag's version and
//! every other frame), removes label frames from any further tag, or adds a v2.4 tag when there
//! is none. Labels other tools wrote elsewhere (`TXXX:comment` from `ffmpeg -metadata comment=`,
//! a `COMM` frame) are read, reported and removed on writing, so one label remains. The MPEG
//! frames are never touched.
//!
//! Content binding: SHA-256 of the bytes from the first MPEG audio frame to the end of the
//! stream, where the stream ends before a trailing ID3v1 `TAG`, an APE tag, or an appended
//! ID3v2 tag (`3DI` footer). Excluded as well: leading ID3v2 tags, junk before the first frame,
//! and a Xing/Info/VBRI header frame right after the tags, because taggers (`ffmpeg -c copy`
//! among them) rewrite that frame's encoder string and seek table while copying the sound frames
//! as they are (behind junk, decoders play it as a frame: then it is bound). Its LAME
//! extension's encoder delay and padding are bound, though (prefixed `LAME gapless` when not
//! zero): decoders trim that many samples at both ends, and `ffmpeg -c copy` keeps them.
//!
//! Only bytes proved inert are left out, because ffmpeg decodes whatever frames it finds from
//! the first one to the end of the file: a trailing tag is excluded only when it is well formed
//! throughout (ID3v2: every frame valid and zero padding; APE: header, footer and items agree)
//! and holds nothing a decoder could sync on; otherwise it is bound with the audio. Leading tags
//! are skipped by decoders by their declared size; one that hides a run of frames in bytes that
//! are not tag frames is an error. Junk before the first frame holds no run of frames (that is
//! how the first frame is found, as ffmpeg's demuxer finds it); an ID3v2 tag, a second Xing
//! frame or junk between frames lies inside the bound region.

use crate::binding::ContentHasher;
use crate::error::{Error, Result};
use crate::findings::Finding;
use crate::format::{
    Carrier, CarrierKind, ContentEdits, Edited, ExplicitMark, Format, Handler, Scan, ScanOptions,
    WriteOptions,
};
use crate::limits::Limits;

use super::audio::{self, SCAN_SECONDS, decode};
use super::{id3v2, mpeg_frame};

/// The MP3 handler.
pub struct Mp3;

pub static MP3: Mp3 = Mp3;

/// Where the parts of an MP3 file are.
struct Layout {
    /// Leading ID3v2 tags, in order.
    tags: Vec<id3v2::Tag>,
    /// An ID3v2 tag appended at the end, if any.
    appended: Option<id3v2::Tag>,
    /// Start and end of the bytes bound (audio frames, info frame excluded); `None` when the
    /// file holds no MPEG audio frame.
    audio: Option<(usize, usize)>,
    /// The encoder delay and padding of the excluded Info frame, when not zero.
    gapless: Option<[u8; 3]>,
}

/// The APE tag (v1 or v2) that ends at `end`, when it is well formed: a footer, an optional
/// header that agrees with it, and items that fill the space between exactly. Returns its start.
fn ape_tag_before(input: &[u8], end: usize) -> Option<usize> {
    let u32_at = |b: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    let f = input.get(end.checked_sub(32)?..end)?;
    let (version, size, count, flags) = (
        u32_at(f, 8)?,
        u32_at(f, 12)? as usize,
        u32_at(f, 16)?,
        u32_at(f, 20)?,
    );
    if &f[..8] != b"APETAGEX"
        || !matches!(version, 1000 | 2000)
        || flags & (1 << 29) != 0
        || f[24..].iter().any(|&b| b != 0)
    {
        return None;
    }
    let items_end = end - 32;
    let items_start = items_end.checked_sub(size.checked_sub(32)?)?;
    let items = &input[items_start..items_end];
    let mut pos = 0usize;
    for _ in 0..count {
        let len = u32_at(items, pos)? as usize;
        let key_start = pos.checked_add(8)?;
        let key_len = items.get(key_start..)?.iter().position(|&b| b == 0)?;
        let key = &items[key_start..key_start + key_len];
        if !(2..=255).contains(&key_len) || key.iter().any(|&c| !(0x20..=0x7E).contains(&c)) {
            return None;
        }
        pos = (key_start + key_len + 1).checked_add(len)?;
        if pos > items.len() {
            return None;
        }
    }
    if pos != items.len() {
        return None;
    }
    if flags & (1 << 31) == 0 {
        return Some(items_start);
    }
    let start = items_start.checked_sub(32)?;
    let h = &input[start..items_start];
    let agrees = &h[..8] == b"APETAGEX"
        && u32_at(h, 12)? as usize == size
        && u32_at(h, 16)? == count
        && u32_at(h, 20)? & (1 << 29) != 0;
    agrees.then_some(start)
}

/// The end of the audio: before the tags at the end of the file (an ID3v1 tag, an APE tag, an
/// appended ID3v2 tag), each left out only when it is proved inert: well formed throughout and
/// holding nothing a decoder could sync on as audio (ffmpeg decodes straight through them, so
/// audio frames hidden inside one would play). A tag that is not is bound with the audio.
fn audio_end(
    input: &[u8],
    from: usize,
    stream: &mpeg_frame::FrameHeader,
    limits: &Limits,
    findings: &mut Vec<Finding>,
) -> Result<(usize, Option<id3v2::Tag>)> {
    let mut end = input.len();
    let inert = |region: &[u8]| !mpeg_frame::could_sync(region, Some(stream));
    let bound = |findings: &mut Vec<Finding>, what: &str, why: &str| {
        findings.push(Finding::warning(
            "mp3.tag_bound",
            format!("the {what} at the end {why}; it is bound with the audio"),
        ));
    };
    if end >= from + 128 && &input[end - 128..end - 125] == b"TAG" {
        if !inert(&input[end - 128..end]) {
            bound(
                findings,
                "ID3v1 tag",
                "holds bytes a decoder could take for audio frames",
            );
            return Ok((end, None));
        }
        end -= 128;
        findings.push(Finding::info(
            "mp3.id3v1",
            "an ID3v1 tag is at the end (it cannot hold a label)",
        ));
    }
    if end >= from + 32 && &input[end - 32..end - 24] == b"APETAGEX" {
        match ape_tag_before(input, end).filter(|&s| s >= from) {
            Some(start) if inert(&input[start..end]) => {
                end = start;
                findings.push(Finding::info("mp3.ape_tag", "an APE tag is at the end"));
            }
            Some(_) => {
                bound(
                    findings,
                    "APE tag",
                    "holds bytes a decoder could take for audio frames",
                );
                return Ok((end, None));
            }
            None => {
                bound(
                    findings,
                    "APE tag footer",
                    "does not head a well-formed APE tag",
                );
                return Ok((end, None));
            }
        }
    }
    let Some(at) = id3v2::appended_tag_before(input, end).filter(|&s| s >= from) else {
        return Ok((end, None));
    };
    let tag = id3v2::parse(input, at, limits, findings)?;
    if !tag.complete {
        bound(
            findings,
            "appended ID3v2 tag",
            "holds bytes that are neither frames nor zero padding",
        );
        return Ok((end, None));
    }
    if !inert(&input[at..end]) {
        bound(
            findings,
            "appended ID3v2 tag",
            "holds bytes a decoder could take for audio frames",
        );
        return Ok((end, None));
    }
    Ok((at, Some(tag)))
}

fn layout(input: &[u8], limits: &Limits, findings: &mut Vec<Finding>) -> Result<Layout> {
    let mut tags = Vec::new();
    let mut pos = 0;
    while let Some(len) = id3v2::tag_len_at(input, pos) {
        if pos + len > input.len() {
            return Err(Error::malformed(
                "mp3",
                format!(
                    "the ID3v2 tag at offset {pos} declares {len} bytes, more than the file holds"
                ),
            ));
        }
        let tag = id3v2::parse(input, pos, limits, findings)?;
        if !tag.complete {
            // Decoders skip a leading tag by its declared size, so its bytes never play there;
            // a decoder that knows no ID3v2 would still sync on a run of frames.
            if mpeg_frame::could_sync(&input[pos..pos + len], None) {
                findings.push(Finding::error(
                    "mp3.unbound_audio",
                    format!("the ID3v2 tag at offset {pos} hides MPEG audio frames in bytes that are neither tag frames nor zero padding"),
                ));
            } else {
                findings.push(Finding::warning(
                    "mp3.id3_unparsed",
                    format!("the ID3v2 tag at offset {pos} holds bytes that are neither tag frames nor zero padding"),
                ));
            }
        }
        tags.push(tag);
        pos += len;
    }
    if tags.len() > 1 {
        findings.push(Finding::info(
            "mp3.id3_multiple",
            format!("{} ID3v2 tags at the start of the file", tags.len()),
        ));
    }
    let Some((first, h)) = mpeg_frame::first_frame(input, pos) else {
        return Ok(Layout {
            tags,
            appended: None,
            audio: None,
            gapless: None,
        });
    };
    let (end, appended) = audio_end(input, first, &h, limits, findings)?;
    // Bytes before the first run of frames hold no frame a decoder syncs on (ffmpeg's demuxer
    // looks for a frame followed by another, as `first_frame` does).
    if first > pos {
        let junk = &input[pos..first];
        if junk.iter().all(|&b| b == 0) {
            findings.push(Finding::info(
                "mp3.padding_before_audio",
                format!(
                    "{} zero bytes between the tag and the first audio frame",
                    junk.len()
                ),
            ));
        } else {
            findings.push(Finding::warning(
                "mp3.junk_before_audio",
                format!(
                    "{} bytes that are not audio frames precede the first frame (decoders skip them)",
                    junk.len()
                ),
            ));
        }
    }
    // The Xing/Info frame is a header only where decoders look for one, right after the tags:
    // behind junk, ffmpeg decodes it as a (silent) frame and skips no encoder delay, so then it
    // is bound like any frame.
    let info = first == pos && mpeg_frame::is_info_frame(&input[first..], &h);
    let start = if info {
        (first + h.len).min(end)
    } else {
        first
    };
    let gapless = info
        .then(|| mpeg_frame::gapless(&input[first..], &h))
        .flatten()
        .filter(|g| g != &[0; 3]);
    Ok(Layout {
        tags,
        appended,
        audio: Some((start, end.max(start))),
        gapless,
    })
}

/// The label carriers in one tag, and a C2PA manifest store in a `GEOB` frame (inside the tag,
/// so outside the binding: it must be well-formed JUMBF).
fn carriers_in(tag: &id3v2::Tag, where_: &str, scan: &mut Scan) {
    for f in &tag.frames {
        if f.id == "GEOB"
            && let Some(store) = f.body.as_deref().and_then(crate::c2pa::geob_store)
        {
            crate::c2pa::note_store(scan, &format!("ID3v2.{} GEOB{where_}", tag.major), store);
            continue;
        }
        if f.is_aigc() {
            let Some(t) = f.txxx() else { continue };
            if t.description != id3v2::AIGC_DESCRIPTION {
                scan.findings.push(Finding::warning(
                    "mp3.description_case",
                    format!(
                        "the label frame's description is {:?}, not \"AIGC\"",
                        t.description
                    ),
                ));
            }
            scan.carriers.push(Carrier {
                location: format!("ID3v2.{} TXXX:AIGC{where_}", tag.major),
                value: t.value,
                kind: CarrierKind::Metadata,
            });
        } else if let Some(t) = f.label_elsewhere() {
            let frame = format!("{}:{}", f.id, t.description);
            scan.findings.push(Finding::info(
                "mp3.label_elsewhere",
                format!("a label is stored in the ID3v2 frame {frame} rather than TXXX:AIGC"),
            ));
            scan.carriers.push(Carrier {
                location: format!("ID3v2.{} {frame}{where_}", tag.major),
                value: t.value,
                kind: CarrierKind::Metadata,
            });
        }
    }
}

impl Handler for Mp3 {
    fn format(&self) -> Format {
        Format::Mp3
    }

    fn scan(&self, input: &[u8], opts: &ScanOptions<'_>) -> Result<Scan> {
        let mut scan = Scan::default();
        let l = layout(input, opts.limits, &mut scan.findings)?;
        for (i, tag) in l.tags.iter().enumerate() {
            let where_ = if i == 0 {
                String::new()
            } else {
                format!(" (tag {})", i + 1)
            };
            carriers_in(tag, &where_, &mut scan);
        }
        if let Some(tag) = &l.appended {
            carriers_in(tag, " (appended tag)", &mut scan);
        }
        let aigc = scan
            .carriers
            .iter()
            .filter(|c| c.location.contains("TXXX"))
            .count();
        if aigc > 1 {
            scan.findings.push(Finding::warning(
                "mp3.duplicate_aigc",
                format!("{aigc} TXXX:AIGC frames; a file should hold one"),
            ));
        }
        match l.audio {
            Some((start, end)) => {
                let mut h = ContentHasher::new();
                if let Some(g) = l.gapless {
                    // Before the frames, which start with a sync byte, so it cannot be confused.
                    h.update(b"LAME gapless");
                    h.update(&g);
                }
                h.update(&input[start..end]);
                scan.digest = Some(h.finish());
            }
            None => scan.findings.push(Finding::error(
                "mp3.no_audio",
                "no MPEG audio frames found: the file holds no sound to bind",
            )),
        }
        audio::scan_samples(input, Format::Mp3, "mp3.samples_not_read", opts, &mut scan);
        Ok(scan)
    }

    fn write_label(
        &self,
        input: &[u8],
        label_json: &str,
        opts: &WriteOptions<'_>,
    ) -> Result<Vec<u8>> {
        let mut findings = Vec::new();
        let l = layout(input, opts.limits, &mut findings)?;
        if l.audio.is_none() {
            return Err(Error::malformed("mp3", "no MPEG audio frames found"));
        }
        let mut out = Vec::with_capacity(input.len() + label_json.len() + 600);
        let mut pos = 0;
        match l.tags.first() {
            None => out.extend_from_slice(&id3v2::new_tag(&id3v2::txxx_frame(
                4,
                id3v2::AIGC_DESCRIPTION,
                label_json,
            )?)),
            Some(first) => {
                let frame = id3v2::txxx_frame(first.major, id3v2::AIGC_DESCRIPTION, label_json)?;
                out.extend_from_slice(&id3v2::rewrite(first, Some(&frame))?);
                pos = first.offset + first.len;
                for tag in &l.tags[1..] {
                    if tag.frames.iter().any(id3v2::Frame::holds_label) {
                        out.extend_from_slice(&id3v2::rewrite(tag, None)?);
                    } else {
                        out.extend_from_slice(&input[tag.offset..tag.offset + tag.len]);
                    }
                    pos = tag.offset + tag.len;
                }
            }
        }
        match &l.appended {
            Some(tag) if tag.frames.iter().any(id3v2::Frame::holds_label) => {
                out.extend_from_slice(&input[pos..tag.offset]);
                out.extend_from_slice(&id3v2::rewrite(tag, None)?);
                out.extend_from_slice(&input[tag.offset + tag.len..]);
            }
            _ => out.extend_from_slice(&input[pos..]),
        }
        Ok(out)
    }

    fn edit_content(&self, input: &[u8], edits: &ContentEdits<'_>) -> Result<Edited> {
        audio::edit_by_decoding(input, Format::Mp3, edits)
    }

    fn check_explicit(&self, input: &[u8], record: &str, limits: &Limits) -> Vec<ExplicitMark> {
        compressed_check(input, "mp3", record, limits)
    }
}

/// `check_explicit` for formats decoded with symphonia: the scan's windows, or the whole file
/// when a recorded range lies outside them.
pub(crate) fn compressed_check(
    input: &[u8],
    format: &'static str,
    record: &str,
    limits: &Limits,
) -> Vec<ExplicitMark> {
    let Some(ranges) = audio::rhythm::parse_record(record) else {
        return Vec::new();
    };
    let Ok((head, tail)) = decode::decode_head_tail(input, format, SCAN_SECONDS, limits) else {
        return Vec::new();
    };
    let wins: Vec<_> = std::iter::once(&head).chain(tail.as_ref()).collect();
    let covered = ranges.iter().all(|&(a, b)| {
        wins.iter()
            .any(|w| w.start <= a && w.start + w.seconds() >= b)
    });
    if covered {
        return audio::check_recorded(record, &wins);
    }
    match decode::decode_all(input, format, limits) {
        Ok(all) => audio::check_recorded(record, &[&all]),
        Err(_) => Vec::new(),
    }
}

/// The `TXXX` description that carries an RFC 3161 timestamp token (base64) beside the label's
/// `TXXX:AIGC` frame in the leading ID3v2 tag, which the binding leaves out.
pub(crate) const TSA_DESCRIPTION: &str = "AIGC_TSA";

fn is_tsa(f: &id3v2::Frame) -> bool {
    f.txxx()
        .is_some_and(|t| t.description.eq_ignore_ascii_case(TSA_DESCRIPTION))
}

/// The timestamp token in a leading tag's `TXXX:AIGC_TSA` frame, if any.
pub(crate) fn tsa_token(input: &[u8], limits: &Limits) -> Result<Option<Vec<u8>>> {
    let l = layout(input, limits, &mut Vec::new())?;
    for tag in &l.tags {
        if let Some(t) = tag
            .frames
            .iter()
            .filter(|f| is_tsa(f))
            .find_map(|f| f.txxx())
        {
            return crate::timestamp::token_from_text(&t.value).map(Some);
        }
    }
    Ok(None)
}

/// `input` with the first leading tag's `TXXX:AIGC_TSA` frames replaced by one holding `token`,
/// or removed when `token` is `None`. The label's tag must be there.
pub(crate) fn with_tsa_token(
    input: &[u8],
    token: Option<&[u8]>,
    limits: &Limits,
) -> Result<Vec<u8>> {
    let l = layout(input, limits, &mut Vec::new())?;
    let first = l
        .tags
        .first()
        .ok_or_else(|| Error::malformed("mp3", "no ID3v2 tag holds the label"))?;
    let frame = match token {
        Some(t) => Some(id3v2::txxx_frame(
            first.major,
            TSA_DESCRIPTION,
            &crate::timestamp::token_to_text(t),
        )?),
        None => None,
    };
    let mut out = Vec::with_capacity(input.len() + frame.as_ref().map_or(0, Vec::len) + 16);
    out.extend_from_slice(&input[..first.offset]);
    out.extend_from_slice(&id3v2::rewrite_replacing(first, is_tsa, frame.as_deref())?);
    out.extend_from_slice(&input[first.offset + first.len..]);
    Ok(out)
}
