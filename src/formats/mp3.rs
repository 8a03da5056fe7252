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
//! and a Xing/Info/VBRI header frame, because taggers (`ffmpeg -c copy` among them) rewrite that
//! frame's encoder string and seek table while copying the sound frames as they are.

use crate::binding::ContentHasher;
use crate::error::{Error, Result};
use crate::format::{
    Carrier, ContentEdits, Edited, ExplicitMark, Format, Handler, Scan, ScanOptions, WriteOptions,
};
use crate::limits::Limits;
use crate::report::Finding;

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
    /// Start and end of the bytes bound (audio frames, info frame excluded).
    audio: (usize, usize),
}

/// The end of the audio: before an ID3v1 tag, an APE tag and an appended ID3v2 tag.
fn audio_end(input: &[u8], findings: &mut Vec<Finding>) -> (usize, Option<usize>) {
    let mut end = input.len();
    if end >= 128 && &input[end - 128..end - 125] == b"TAG" {
        end -= 128;
        findings.push(Finding::info(
            "mp3.id3v1",
            "an ID3v1 tag is at the end (it cannot hold a label)",
        ));
    }
    if end >= 32 && &input[end - 32..end - 24] == b"APETAGEX" {
        let f = &input[end - 32..end];
        let size = u32::from_le_bytes([f[12], f[13], f[14], f[15]]) as usize;
        let header = if f[23] & 0x80 != 0 { 32 } else { 0 };
        if let Some(start) = end.checked_sub(size + header) {
            end = start;
            findings.push(Finding::info("mp3.ape_tag", "an APE tag is at the end"));
        }
    }
    let appended = id3v2::appended_tag_before(input, end);
    if let Some(start) = appended {
        end = start;
    }
    (end, appended)
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
        tags.push(id3v2::parse(input, pos, limits, findings)?);
        pos += len;
    }
    if tags.len() > 1 {
        findings.push(Finding::info(
            "mp3.id3_multiple",
            format!("{} ID3v2 tags at the start of the file", tags.len()),
        ));
    }
    let (end, appended_at) = audio_end(input, findings);
    let appended = match appended_at {
        Some(at) if at >= pos => Some(id3v2::parse(input, at, limits, findings)?),
        _ => None,
    };
    let region = input.get(..end.max(pos)).unwrap_or(input);
    let (first, h) = mpeg_frame::first_frame(region, pos)
        .ok_or_else(|| Error::malformed("mp3", "no MPEG audio frames found"))?;
    if first > pos {
        findings.push(Finding::info(
            "mp3.junk_before_audio",
            format!(
                "{} bytes between the tag and the first audio frame",
                first - pos
            ),
        ));
    }
    let start = if mpeg_frame::is_info_frame(&input[first..], &h) {
        (first + h.len).min(end)
    } else {
        first
    };
    Ok(Layout {
        tags,
        appended,
        audio: (start, end.max(start)),
    })
}

/// The label carriers in one tag.
fn carriers_in(tag: &id3v2::Tag, where_: &str, scan: &mut Scan) {
    for f in &tag.frames {
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
        let mut h = ContentHasher::new();
        h.update(&input[l.audio.0..l.audio.1]);
        scan.digest = Some(h.finish());
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
