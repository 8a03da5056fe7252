//! FLAC: the label is a Vorbis comment `AIGC=<json>` in the VORBIS_COMMENT block.
//!
//! Writing changes that one block (creating it after STREAMINFO when there is none) and keeps
//! every other block byte for byte. When the block grows or shrinks, the difference is taken
//! from (or given to) the PADDING block so the audio frames stay where they were; only when there
//! is no padding, or not enough, is the metadata section rewritten at a new length (with 1 KiB
//! of fresh padding for the next edit).
//!
//! Content binding: SHA-256 of the STREAMINFO body followed by every byte after the last
//! metadata block (the audio frames, and whatever else follows them: junk, a second `fLaC`
//! stream), an ID3v1 tag at the very end excluded when it holds no frame sync code. STREAMINFO
//! is in because it says how the frames decode (sample rate, channels, bit depth) and holds the
//! MD5 of the decoded samples; the other blocks (padding, seek table, comments, pictures, cue
//! sheet, application data, unknown types) are description that decoders skip by its size and
//! tag editors change freely. An ID3v2 tag before `fLaC` is skipped by its size too (ffmpeg,
//! libFLAC). A file whose metadata is cut short still has its labels reported, with an error.

use std::borrow::Cow;

use crate::binding::ContentHasher;
use crate::error::{Error, Result};
use crate::findings::Finding;
use crate::format::{
    Carrier, CarrierKind, ContentEdits, Edited, ExplicitMark, Format, Handler, Scan, ScanOptions,
    WriteOptions,
};
use crate::limits::Limits;

use super::audio;
use super::id3v2;
use super::vorbis_comment::Comments;

/// The FLAC handler.
pub struct Flac;

pub static FLAC: Flac = Flac;

const STREAMINFO: u8 = 0;
const PADDING: u8 = 1;
const VORBIS_COMMENT: u8 = 4;
const MAX_BLOCK: usize = (1 << 24) - 1;
const FRESH_PADDING: usize = 1024;

#[derive(Debug, Clone, Copy)]
struct Block {
    kind: u8,
    /// Offset of the 4-byte block header.
    offset: usize,
    len: usize,
}

impl Block {
    fn body<'a>(&self, input: &'a [u8]) -> &'a [u8] {
        &input[self.offset + 4..self.offset + 4 + self.len]
    }
}

struct Layout {
    /// Offset of `fLaC` (after a leading ID3v2 tag, which some taggers add).
    magic: usize,
    blocks: Vec<Block>,
    /// Offset of the first audio frame.
    frames: usize,
    /// End of the audio frames (an ID3v1 tag excluded).
    end: usize,
}

fn layout(input: &[u8], limits: &Limits, findings: &mut Vec<Finding>) -> Result<Layout> {
    let magic = match id3v2::tag_len_at(input, 0) {
        Some(len) => {
            findings.push(Finding::warning(
                "flac.id3_prefix",
                "an ID3v2 tag precedes the FLAC stream; FLAC readers may not see it",
            ));
            len
        }
        None => 0,
    };
    if input.get(magic..magic + 4) != Some(b"fLaC") {
        return Err(Error::malformed("flac", "no fLaC marker"));
    }
    let mut pos = magic + 4;
    let mut blocks = Vec::new();
    let mut total = 0u64;
    let mut damaged = None;
    loop {
        let Some(h) = input.get(pos..pos + 4) else {
            damaged = Some("the metadata blocks run past the end of the file".to_string());
            break;
        };
        let last = h[0] & 0x80 != 0;
        let kind = h[0] & 0x7F;
        let len = u32::from_be_bytes([0, h[1], h[2], h[3]]) as usize;
        if pos + 4 + len > input.len() {
            damaged = Some(format!(
                "metadata block {kind} at offset {pos} declares {len} bytes, past the end of the file"
            ));
            break;
        }
        if kind == 127 {
            damaged = Some(format!(
                "invalid metadata block type 127 at offset {pos} (a frame where a block should be?)"
            ));
            break;
        }
        total += len as u64;
        if total > limits.max_chunk_bytes {
            return Err(Error::Limit(
                "the FLAC metadata is larger than the chunk size limit".into(),
            ));
        }
        blocks.push(Block {
            kind,
            offset: pos,
            len,
        });
        pos += 4 + len;
        if last {
            break;
        }
    }
    if blocks.first().map(|b| (b.kind, b.len)) != Some((STREAMINFO, 34)) {
        return Err(Error::malformed(
            "flac",
            "the first metadata block is not a 34-byte STREAMINFO",
        ));
    }
    if let Some(why) = damaged {
        // The blocks read so far (the label among them, usually) are still reported.
        findings.push(Finding::error("flac.truncated", why));
        pos = input.len();
    }
    let unknown: Vec<String> = blocks
        .iter()
        .filter(|b| b.kind > 6)
        .map(|b| b.kind.to_string())
        .collect();
    if !unknown.is_empty() {
        findings.push(Finding::info(
            "flac.unknown_block",
            format!(
                "metadata blocks of unknown type {} (decoders skip metadata blocks by their size)",
                unknown.join(", ")
            ),
        ));
    }
    if blocks.iter().skip(1).any(|b| b.kind == STREAMINFO) {
        findings.push(Finding::warning(
            "flac.second_streaminfo",
            "a second STREAMINFO block (decoders use the first, which is bound)",
        ));
    }
    let mut end = input.len();
    // An ID3v1 tag is left out only when no FLAC frame can hide in it (no frame sync code).
    if end >= pos + 128 && &input[end - 128..end - 125] == b"TAG" {
        let tag = &input[end - 128..end];
        if tag.windows(2).any(|w| w[0] == 0xFF && w[1] & 0xFE == 0xF8) {
            findings.push(Finding::warning(
                "flac.tag_bound",
                "the ID3v1 tag at the end holds a FLAC frame sync code; it is bound with the audio",
            ));
        } else {
            end -= 128;
            findings.push(Finding::info(
                "flac.id3v1",
                "an ID3v1 tag follows the FLAC stream",
            ));
        }
    }
    Ok(Layout {
        magic,
        blocks,
        frames: pos,
        end,
    })
}

fn block_header(out: &mut Vec<u8>, kind: u8, last: bool, len: usize) -> Result<()> {
    if len > MAX_BLOCK {
        return Err(Error::Limit(
            "a FLAC metadata block cannot exceed 16 MiB".into(),
        ));
    }
    let l = (len as u32).to_be_bytes();
    out.extend_from_slice(&[kind | if last { 0x80 } else { 0 }, l[1], l[2], l[3]]);
    Ok(())
}

impl Handler for Flac {
    fn format(&self) -> Format {
        Format::Flac
    }

    fn scan(&self, input: &[u8], opts: &ScanOptions<'_>) -> Result<Scan> {
        let mut scan = Scan::default();
        let l = layout(input, opts.limits, &mut scan.findings)?;
        if l.magic > 0 {
            let mut ignored = Vec::new();
            if let Ok(tag) = id3v2::parse(input, 0, opts.limits, &mut ignored) {
                for t in tag
                    .frames
                    .iter()
                    .filter(|f| f.is_aigc())
                    .filter_map(id3v2::Frame::txxx)
                {
                    scan.carriers.push(Carrier {
                        location: "ID3v2 TXXX:AIGC before fLaC".into(),
                        value: t.value,
                        kind: CarrierKind::Metadata,
                    });
                }
            }
        }
        let comment_blocks: Vec<&Block> = l
            .blocks
            .iter()
            .filter(|b| b.kind == VORBIS_COMMENT)
            .collect();
        if comment_blocks.len() > 1 {
            scan.findings.push(Finding::warning(
                "flac.duplicate_vorbis_comment",
                format!(
                    "{} VORBIS_COMMENT blocks; FLAC allows one",
                    comment_blocks.len()
                ),
            ));
        }
        let mut count = 0;
        for b in comment_blocks {
            match Comments::parse(b.body(input), "flac", opts.limits) {
                Ok(c) => {
                    for (_, v) in c.aigc_values() {
                        count += 1;
                        scan.carriers.push(Carrier {
                            location: "VORBIS_COMMENT AIGC".into(),
                            value: v,
                            kind: CarrierKind::Metadata,
                        });
                    }
                }
                Err(e) => scan.findings.push(Finding::warning(
                    "flac.vorbis_comment_damaged",
                    e.to_string(),
                )),
            }
        }
        if count > 1 {
            scan.findings.push(Finding::warning(
                "flac.duplicate_aigc",
                format!("{count} AIGC comments; a file should hold one"),
            ));
        }
        let mut h = ContentHasher::new();
        h.update(l.blocks[0].body(input));
        h.update(&input[l.frames..l.end.max(l.frames)]);
        scan.digest = Some(h.finish());
        audio::scan_samples(
            input,
            Format::Flac,
            "flac.samples_not_read",
            opts,
            &mut scan,
        );
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
        if let Some(f) = findings.iter().find(|f| f.code == "flac.truncated") {
            return Err(Error::malformed(
                "flac",
                format!("{}; repair the file before labeling it", f.message),
            ));
        }
        // The new comment block body: the first VORBIS_COMMENT with AIGC set, or a fresh one.
        let first_vc = l.blocks.iter().position(|b| b.kind == VORBIS_COMMENT);
        let mut comments = match first_vc {
            Some(i) => Comments::parse(l.blocks[i].body(input), "flac", opts.limits)?,
            None => Comments {
                vendor: b"aigcmark".to_vec(),
                entries: Vec::new(),
                trailing: Vec::new(),
            },
        };
        comments.set_aigc(label_json);
        let vc_body = comments.to_bytes()?;

        // Blocks in order, with their new bodies; padding is sized afterwards.
        enum Part<'a> {
            Raw(u8, Cow<'a, [u8]>),
            Padding,
        }
        let mut parts: Vec<Part<'_>> = Vec::new();
        let mut seen_padding = false;
        for (i, b) in l.blocks.iter().enumerate() {
            match b.kind {
                VORBIS_COMMENT if Some(i) == first_vc => {
                    parts.push(Part::Raw(VORBIS_COMMENT, Cow::Borrowed(&vc_body)))
                }
                VORBIS_COMMENT => {
                    // A second comment block: keep it without its AIGC entries.
                    let mut c = Comments::parse(b.body(input), "flac", opts.limits)?;
                    if c.aigc_values().is_empty() {
                        parts.push(Part::Raw(b.kind, Cow::Borrowed(b.body(input))));
                    } else {
                        c.entries.retain(|e| !Comments::is_aigc(e));
                        parts.push(Part::Raw(VORBIS_COMMENT, Cow::Owned(c.to_bytes()?)));
                    }
                }
                PADDING if !seen_padding => {
                    seen_padding = true;
                    parts.push(Part::Padding);
                }
                PADDING => {} // merged into the first padding block
                _ => parts.push(Part::Raw(b.kind, Cow::Borrowed(b.body(input)))),
            }
            if i == 0 && first_vc.is_none() {
                parts.push(Part::Raw(VORBIS_COMMENT, Cow::Borrowed(&vc_body)));
            }
        }
        let fixed: usize = parts
            .iter()
            .map(|p| {
                if let Part::Raw(_, b) = p {
                    4 + b.len()
                } else {
                    0
                }
            })
            .sum();
        let old_meta = l.frames - (l.magic + 4);
        // Padding that keeps the frames in place when the blocks fit, fresh padding otherwise.
        let padding = match old_meta.checked_sub(fixed + 4) {
            Some(p) if p <= MAX_BLOCK => p,
            _ => FRESH_PADDING,
        };
        if !seen_padding && fixed != old_meta {
            parts.push(Part::Padding);
        }
        let mut out = Vec::with_capacity(input.len() + vc_body.len() + FRESH_PADDING);
        out.extend_from_slice(&input[..l.magic + 4]);
        let n = parts.len();
        for (i, p) in parts.iter().enumerate() {
            let last = i + 1 == n;
            match p {
                Part::Raw(kind, body) => {
                    block_header(&mut out, *kind, last, body.len())?;
                    out.extend_from_slice(body);
                }
                Part::Padding => {
                    block_header(&mut out, PADDING, last, padding)?;
                    out.resize(out.len() + padding, 0);
                }
            }
        }
        out.extend_from_slice(&input[l.frames..]);
        Ok(out)
    }

    fn edit_content(&self, input: &[u8], edits: &ContentEdits<'_>) -> Result<Edited> {
        audio::edit_by_decoding(input, Format::Flac, edits)
    }

    fn check_explicit(&self, input: &[u8], record: &str, limits: &Limits) -> Vec<ExplicitMark> {
        super::mp3::compressed_check(input, "flac", record, limits)
    }
}

/// The Vorbis comment key that carries an RFC 3161 timestamp token (base64) beside the label's
/// `AIGC` entry; comment blocks are outside the binding.
pub(crate) const TSA_KEY: &str = "AIGC_TSA";

/// The timestamp token in the first Vorbis comment block, if any.
pub(crate) fn tsa_token(input: &[u8], limits: &Limits) -> Result<Option<Vec<u8>>> {
    let l = layout(input, limits, &mut Vec::new())?;
    for b in l.blocks.iter().filter(|b| b.kind == VORBIS_COMMENT) {
        let c = Comments::parse(b.body(input), "flac", limits)?;
        if let Some(v) = c.value_of(TSA_KEY) {
            return crate::timestamp::token_from_text(&String::from_utf8_lossy(v)).map(Some);
        }
    }
    Ok(None)
}

/// `input` with the token entry of every Vorbis comment block replaced: one `AIGC_TSA` entry in
/// the first block when `token` is given, none otherwise. The first padding block gives up the
/// room the entry takes when it can, so the frames usually stay where they were.
pub(crate) fn with_tsa_token(
    input: &[u8],
    token: Option<&[u8]>,
    limits: &Limits,
) -> Result<Vec<u8>> {
    let mut findings = Vec::new();
    let l = layout(input, limits, &mut findings)?;
    if let Some(f) = findings.iter().find(|f| f.code == "flac.truncated") {
        return Err(Error::malformed("flac", f.message.clone()));
    }
    let first_vc = l
        .blocks
        .iter()
        .position(|b| b.kind == VORBIS_COMMENT)
        .ok_or_else(|| Error::malformed("flac", "no Vorbis comment block holds the label"))?;
    let text = token.map(crate::timestamp::token_to_text);
    let mut bodies: Vec<(u8, Vec<u8>)> = Vec::with_capacity(l.blocks.len());
    for (i, b) in l.blocks.iter().enumerate() {
        if b.kind == VORBIS_COMMENT {
            let mut c = Comments::parse(b.body(input), "flac", limits)?;
            c.set_value(TSA_KEY, if i == first_vc { text.as_deref() } else { None });
            bodies.push((b.kind, c.to_bytes()?));
        } else {
            bodies.push((b.kind, b.body(input).to_vec()));
        }
    }
    let old: usize = l.blocks.iter().map(|b| 4 + b.len).sum();
    let new: usize = bodies.iter().map(|(_, b)| 4 + b.len()).sum();
    if new > old
        && let Some((_, pad)) = bodies.iter_mut().find(|(k, _)| *k == PADDING)
    {
        let keep = pad.len().saturating_sub(new - old);
        pad.truncate(keep);
    } else if new < old
        && let Some((_, pad)) = bodies.iter_mut().find(|(k, _)| *k == PADDING)
    {
        pad.resize(pad.len() + (old - new), 0);
    }
    let mut out = Vec::with_capacity(input.len() + text.as_ref().map_or(0, String::len) + 16);
    out.extend_from_slice(&input[..l.magic + 4]);
    let n = bodies.len();
    for (i, (kind, body)) in bodies.iter().enumerate() {
        block_header(&mut out, *kind, i + 1 == n, body.len())?;
        out.extend_from_slice(body);
    }
    out.extend_from_slice(&input[l.frames..]);
    Ok(out)
}
