//! ID3v2 tags (v2.2 read, v2.3 and v2.4 read and write), as far as labeling needs them.
//!
//! Written by hand because no maintained crate edits frames without re-serialising the whole
//! tag: `id3` and `lofty` parse every frame into their own model and write the tag back from it,
//! which converts text encodings, drops frames they do not understand and rewrites the others.
//! Here a tag is a list of raw frames: the `TXXX:AIGC` frame is replaced or added and every other
//! frame is copied byte for byte.
//!
//! Reading handles what real files carry: tag-level unsynchronisation (v2.3), per-frame
//! unsynchronisation and data-length indicators (v2.4), extended headers, footers, padding, and
//! the iTunes habit of writing v2.4 frame sizes as plain big-endian integers.

use crate::error::{Error, Result};
use crate::findings::Finding;
use crate::limits::Limits;

/// Flags in the tag header.
const FLAG_UNSYNC: u8 = 0x80;
const FLAG_EXTENDED: u8 = 0x40;
const FLAG_FOOTER: u8 = 0x10;

/// The description of the frame that holds the label.
pub const AIGC_DESCRIPTION: &str = "AIGC";

/// One frame as stored in the tag (after tag-level unsynchronisation is undone).
#[derive(Debug, Clone)]
pub struct Frame {
    /// `TXXX`, `COMM`, … (three characters in v2.2).
    pub id: String,
    /// Header and body, as stored.
    pub raw: Vec<u8>,
    /// The body with per-frame unsynchronisation and the data-length indicator removed; `None`
    /// for a compressed or encrypted frame.
    pub body: Option<Vec<u8>>,
}

/// One ID3v2 tag.
#[derive(Debug, Clone)]
pub struct Tag {
    /// Offset of the `ID3` header in the file.
    pub offset: usize,
    /// Total length: header, extended header, frames, padding and footer.
    pub len: usize,
    pub major: u8,
    pub revision: u8,
    pub flags: u8,
    pub frames: Vec<Frame>,
    /// Bytes the frames area had (frames + padding) in the tag as found.
    pub frames_area: usize,
    /// True when every byte of the frames area is a well-formed frame or zero padding: then the
    /// tag is fully accounted for and nothing else can hide in it.
    pub complete: bool,
}

/// A syncsafe integer (7 bits per byte); `None` when a byte has its top bit set.
fn syncsafe(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &x| {
        (x < 0x80).then_some((acc << 7) | u32::from(x))
    })
}

fn to_syncsafe(n: u32) -> Result<[u8; 4]> {
    if n >= 1 << 28 {
        return Err(Error::Limit("an ID3v2 tag cannot exceed 256 MiB".into()));
    }
    Ok([
        (n >> 21) as u8 & 0x7F,
        (n >> 14) as u8 & 0x7F,
        (n >> 7) as u8 & 0x7F,
        n as u8 & 0x7F,
    ])
}

/// Undoes unsynchronisation: every `FF 00` becomes `FF`.
fn deunsync(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut prev_ff = false;
    for &x in b {
        if prev_ff && x == 0 {
            prev_ff = false;
            continue;
        }
        out.push(x);
        prev_ff = x == 0xFF;
    }
    out
}

/// The total length of the tag whose header starts at `buf[offset]`, if one does.
pub fn tag_len_at(buf: &[u8], offset: usize) -> Option<usize> {
    let h = buf.get(offset..offset.checked_add(10)?)?;
    if &h[..3] != b"ID3" || h[3] == 0xFF || h[4] == 0xFF {
        return None;
    }
    let size = syncsafe(&h[6..10])? as usize;
    let footer = if h[3] >= 4 && h[5] & FLAG_FOOTER != 0 {
        10
    } else {
        0
    };
    Some(10 + size + footer)
}

/// The offset of a v2.4 tag appended before `end` (found by its `3DI` footer), if any.
pub fn appended_tag_before(buf: &[u8], end: usize) -> Option<usize> {
    let f = buf.get(end.checked_sub(10)?..end)?;
    if &f[..3] != b"3DI" || f[3] != 4 {
        return None;
    }
    let size = syncsafe(&f[6..10])? as usize;
    let start = end.checked_sub(20 + size)?;
    (tag_len_at(buf, start) == Some(end - start)).then_some(start)
}

fn valid_frame_id(id: &[u8]) -> bool {
    id.iter()
        .all(|&c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Parses the tag at `buf[offset]`; deviations go to `findings`.
pub fn parse(
    buf: &[u8],
    offset: usize,
    limits: &Limits,
    findings: &mut Vec<Finding>,
) -> Result<Tag> {
    let len = tag_len_at(buf, offset)
        .ok_or_else(|| Error::malformed("mp3", "damaged ID3v2 tag header"))?;
    let h = &buf[offset..offset + 10];
    let (major, revision, flags) = (h[3], h[4], h[5]);
    if !(2..=4).contains(&major) {
        return Err(Error::Unsupported(format!(
            "ID3v2.{major} tags are not supported"
        )));
    }
    if len as u64 > limits.max_chunk_bytes {
        return Err(Error::Limit(format!(
            "the ID3v2 tag is {len} bytes, over the chunk size limit"
        )));
    }
    let footer = if major >= 4 && flags & FLAG_FOOTER != 0 {
        10
    } else {
        0
    };
    let body_end = offset + len - footer;
    let Some(stored) = buf.get(offset + 10..body_end) else {
        return Err(Error::malformed(
            "mp3",
            format!(
                "the ID3v2 tag declares {len} bytes but the file has {}",
                buf.len().saturating_sub(offset)
            ),
        ));
    };
    let body: Vec<u8> = if flags & FLAG_UNSYNC != 0 && major <= 3 {
        deunsync(stored)
    } else {
        stored.to_vec()
    };
    let mut pos = 0usize;
    if flags & FLAG_EXTENDED != 0 && major >= 3 {
        let ext = body
            .get(..4)
            .ok_or_else(|| Error::malformed("mp3", "truncated ID3v2 extended header"))?;
        let ext_len = if major == 3 {
            u32::from_be_bytes([ext[0], ext[1], ext[2], ext[3]]) as usize + 4
        } else {
            syncsafe(ext)
                .ok_or_else(|| Error::malformed("mp3", "damaged ID3v2 extended header size"))?
                as usize
        };
        if ext_len > body.len() {
            return Err(Error::malformed(
                "mp3",
                "the ID3v2 extended header runs past the tag",
            ));
        }
        pos = ext_len;
    }
    let frames_area = body.len() - pos;
    let (id_len, head_len) = if major == 2 { (3, 6) } else { (4, 10) };
    let mut frames = Vec::new();
    let mut complete = true;
    while pos < body.len() {
        if body[pos] == 0 {
            break; // padding
        }
        let Some(fh) = body.get(pos..pos + head_len) else {
            complete = false;
            break;
        };
        if !valid_frame_id(&fh[..id_len]) {
            findings.push(Finding::warning(
                "mp3.id3_damaged",
                format!("an ID3v2 frame at tag offset {pos} has an invalid id; the rest of the tag is skipped"),
            ));
            complete = false;
            break;
        }
        let size = match major {
            2 => u32::from_be_bytes([0, fh[3], fh[4], fh[5]]) as usize,
            3 => u32::from_be_bytes([fh[4], fh[5], fh[6], fh[7]]) as usize,
            _ => frame_size_v24(&body, pos, &fh[4..8]),
        };
        let end = pos + head_len + size;
        if end > body.len() {
            findings.push(Finding::warning(
                "mp3.id3_damaged",
                format!(
                    "ID3v2 frame {} declares {size} bytes, past the end of the tag; the rest of the tag is skipped",
                    String::from_utf8_lossy(&fh[..id_len])
                ),
            ));
            complete = false;
            break;
        }
        let raw = body[pos..end].to_vec();
        let decoded = frame_body(major, fh, &body[pos + head_len..end]);
        frames.push(Frame {
            id: String::from_utf8_lossy(&fh[..id_len]).into_owned(),
            raw,
            body: decoded,
        });
        pos = end;
    }
    // What follows the last frame must be padding: zero bytes only.
    if body
        .get(pos..)
        .is_some_and(|rest| rest.iter().any(|&b| b != 0))
    {
        complete = false;
    }
    Ok(Tag {
        offset,
        len,
        major,
        revision,
        flags,
        frames,
        frames_area,
        complete,
    })
}

/// A v2.4 frame size: syncsafe as the standard says, or plain big-endian as iTunes writes it,
/// whichever lands on a plausible next frame.
fn frame_size_v24(body: &[u8], pos: usize, size_bytes: &[u8]) -> usize {
    let plain =
        u32::from_be_bytes([size_bytes[0], size_bytes[1], size_bytes[2], size_bytes[3]]) as usize;
    let Some(safe) = syncsafe(size_bytes).map(|n| n as usize) else {
        return plain;
    };
    if safe == plain {
        return safe;
    }
    let plausible = |size: usize| {
        let next = pos + 10 + size;
        next == body.len()
            || body.get(next).is_some_and(|&b| b == 0)
            || body.get(next..next + 4).is_some_and(valid_frame_id)
    };
    if !plausible(safe) && plausible(plain) {
        plain
    } else {
        safe
    }
}

/// The frame body with per-frame encodings undone; `None` when compressed or encrypted.
fn frame_body(major: u8, header: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    match major {
        2 => Some(data.to_vec()),
        3 => {
            let f = header[9];
            if f & 0xC0 != 0 {
                return None; // compressed or encrypted
            }
            let skip = if f & 0x20 != 0 { 1 } else { 0 };
            data.get(skip..).map(<[u8]>::to_vec)
        }
        _ => {
            let f = header[9];
            if f & 0x0C != 0 {
                return None;
            }
            let mut skip = 0;
            if f & 0x40 != 0 {
                skip += 1;
            }
            if f & 0x01 != 0 {
                skip += 4;
            }
            let d = data.get(skip..)?;
            Some(if f & 0x02 != 0 {
                deunsync(d)
            } else {
                d.to_vec()
            })
        }
    }
}

/// Decodes text in one of the four ID3v2 encodings, up to a terminator; returns the text and
/// the bytes consumed (terminator included).
fn decode_text(enc: u8, b: &[u8]) -> (String, usize) {
    match enc {
        1 | 2 => {
            let mut units = Vec::new();
            let mut i = 0;
            let mut big = enc == 2;
            if enc == 1 && b.len() >= 2 {
                match (b[0], b[1]) {
                    (0xFE, 0xFF) => {
                        big = true;
                        i = 2;
                    }
                    (0xFF, 0xFE) => i = 2,
                    _ => {}
                }
            }
            while i + 1 < b.len() {
                let u = if big {
                    u16::from_be_bytes([b[i], b[i + 1]])
                } else {
                    u16::from_le_bytes([b[i], b[i + 1]])
                };
                i += 2;
                if u == 0 {
                    return (String::from_utf16_lossy(&units), i);
                }
                units.push(u);
            }
            (String::from_utf16_lossy(&units), b.len())
        }
        _ => {
            let end = b.iter().position(|&x| x == 0).unwrap_or(b.len());
            let text = if enc == 3 {
                String::from_utf8_lossy(&b[..end]).into_owned()
            } else {
                b[..end].iter().map(|&c| c as char).collect()
            };
            (text, (end + 1).min(b.len()))
        }
    }
}

/// A user text frame's (or comment frame's) description and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFrame {
    pub description: String,
    pub value: String,
}

/// Reads a `TXXX`/`TXX` body: encoding, description, value.
pub fn parse_txxx(body: &[u8]) -> Option<TextFrame> {
    let (&enc, rest) = body.split_first()?;
    if enc > 3 {
        return None;
    }
    let (description, used) = decode_text(enc, rest);
    let (value, _) = decode_text(enc, rest.get(used..).unwrap_or(&[]));
    Some(TextFrame { description, value })
}

/// Reads a `COMM`/`COM` body: encoding, language, description, text.
pub fn parse_comm(body: &[u8]) -> Option<TextFrame> {
    let (&enc, rest) = body.split_first()?;
    if enc > 3 {
        return None;
    }
    let rest = rest.get(3..)?;
    let (description, used) = decode_text(enc, rest);
    let (value, _) = decode_text(enc, rest.get(used..).unwrap_or(&[]));
    Some(TextFrame { description, value })
}

impl Frame {
    /// The description and value of a `TXXX` frame.
    pub fn txxx(&self) -> Option<TextFrame> {
        if self.id != "TXXX" && self.id != "TXX" {
            return None;
        }
        parse_txxx(self.body.as_deref()?)
    }
    /// True for the frame that holds the label (`TXXX` with description `AIGC`, any case).
    pub fn is_aigc(&self) -> bool {
        self.txxx()
            .is_some_and(|t| t.description.eq_ignore_ascii_case(AIGC_DESCRIPTION))
    }

    /// A label stored where other tools put it: a user text frame under another description
    /// (`ffmpeg -metadata comment=` writes `TXXX:comment`) or a comment frame, whose text is an
    /// AIGC record.
    pub fn label_elsewhere(&self) -> Option<TextFrame> {
        let t = match self.id.as_str() {
            "TXXX" | "TXX" => self.txxx()?,
            "COMM" | "COM" => parse_comm(self.body.as_deref()?)?,
            _ => return None,
        };
        let named = t.description.eq_ignore_ascii_case(AIGC_DESCRIPTION);
        let is_txxx_aigc = named && self.id.starts_with("TX");
        (!is_txxx_aigc && (named || crate::formats::audio::looks_like_label(&t.value))).then_some(t)
    }

    /// True for any frame that carries a label (replaced or removed when a label is written).
    pub fn holds_label(&self) -> bool {
        self.is_aigc() || self.label_elsewhere().is_some()
    }
}

/// A `TXXX` frame for a tag of version `major`, ISO-8859-1 (the label is ASCII) in v2.3 and
/// UTF-8 in v2.4.
pub fn txxx_frame(major: u8, description: &str, value: &str) -> Result<Vec<u8>> {
    let enc = if major >= 4 { 3u8 } else { 0u8 };
    if enc == 0 && !(description.is_ascii() && value.is_ascii()) {
        return Err(Error::InvalidLabel(
            "an ID3v2.3 TXXX frame here holds ASCII text only".into(),
        ));
    }
    let mut body = vec![enc];
    body.extend_from_slice(description.as_bytes());
    body.push(0);
    body.extend_from_slice(value.as_bytes());
    let size =
        u32::try_from(body.len()).map_err(|_| Error::Limit("ID3v2 frame too large".into()))?;
    let mut out = b"TXXX".to_vec();
    if major >= 4 {
        out.extend_from_slice(&to_syncsafe(size)?);
    } else {
        out.extend_from_slice(&size.to_be_bytes());
    }
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Padding added when a tag has to grow, so the next edit does not move the audio again.
const GROW_PADDING: usize = 512;

/// Writes `tag` back with every frame that holds a label removed and `new_frame` (if any) in
/// place of the first one (or appended). Other frames are copied as stored; the extended header (whose CRC
/// would no longer hold) and tag-level unsynchronisation are dropped; the padding keeps the tag's
/// size when the frames still fit, so the audio does not move.
pub fn rewrite(tag: &Tag, new_frame: Option<&[u8]>) -> Result<Vec<u8>> {
    rewrite_replacing(tag, Frame::holds_label, new_frame)
}

/// [`rewrite`] for any kind of frame: every frame `replaced` picks is removed, and `new_frame`
/// (if any) takes the place of the first one (or is appended).
pub fn rewrite_replacing(
    tag: &Tag,
    replaced: impl Fn(&Frame) -> bool,
    new_frame: Option<&[u8]>,
) -> Result<Vec<u8>> {
    if tag.major == 2 {
        return Err(Error::Unsupported(
            "writing into an ID3v2.2 tag is not supported".into(),
        ));
    }
    let mut frames = Vec::new();
    let mut placed = false;
    for f in &tag.frames {
        if replaced(f) {
            if let (false, Some(nf)) = (placed, new_frame) {
                frames.extend_from_slice(nf);
                placed = true;
            }
            continue;
        }
        frames.extend_from_slice(&f.raw);
    }
    if let (false, Some(nf)) = (placed, new_frame) {
        frames.extend_from_slice(nf);
    }
    let footer = tag.major >= 4 && tag.flags & FLAG_FOOTER != 0;
    let padding = if footer {
        0
    } else if frames.len() <= tag.frames_area {
        tag.frames_area - frames.len()
    } else {
        GROW_PADDING
    };
    Ok(assemble(
        tag.major,
        tag.revision,
        tag.flags & (FLAG_FOOTER | 0x20),
        &frames,
        padding,
    ))
}

/// A new v2.4 tag holding one frame.
pub fn new_tag(frame: &[u8]) -> Vec<u8> {
    assemble(4, 0, 0, frame, GROW_PADDING)
}

fn assemble(major: u8, revision: u8, flags: u8, frames: &[u8], padding: usize) -> Vec<u8> {
    let size = (frames.len() + padding) as u32;
    let ss = to_syncsafe(size).unwrap_or([0x7F; 4]);
    let mut out = Vec::with_capacity(20 + frames.len() + padding);
    out.extend_from_slice(b"ID3");
    out.extend_from_slice(&[major, revision, flags]);
    out.extend_from_slice(&ss);
    out.extend_from_slice(frames);
    out.resize(out.len() + padding, 0);
    if flags & FLAG_FOOTER != 0 {
        out.extend_from_slice(b"3DI");
        out.extend_from_slice(&[major, revision, flags]);
        out.extend_from_slice(&ss);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txxx_round_trips_in_both_versions_and_keeps_other_frames() {
        for major in [3u8, 4] {
            let mut frames = b"TIT2".to_vec();
            let title = b"\x03Song";
            if major == 4 {
                frames.extend_from_slice(&to_syncsafe(title.len() as u32).unwrap());
            } else {
                frames.extend_from_slice(&(title.len() as u32).to_be_bytes());
            }
            frames.extend_from_slice(&[0, 0]);
            frames.extend_from_slice(title);
            let tag_bytes = assemble(major, 0, 0, &frames, 20);
            let mut f = Vec::new();
            let tag = parse(&tag_bytes, 0, &Limits::default(), &mut f).unwrap();
            let nf = txxx_frame(major, "AIGC", "{\"Label\":\"1\"}").unwrap();
            let out = rewrite(&tag, Some(&nf)).unwrap();
            let again = parse(&out, 0, &Limits::default(), &mut f).unwrap();
            assert_eq!(again.frames.len(), 2);
            assert_eq!(again.frames[0].raw, tag.frames[0].raw);
            assert!(again.frames[1].is_aigc());
            assert_eq!(again.frames[1].txxx().unwrap().value, "{\"Label\":\"1\"}");
            assert!(f.is_empty());
        }
    }

    #[test]
    fn reads_extended_headers_footers_and_unsynchronised_frames() {
        // v2.4: extended header (6 bytes), one unsynchronised TXXX frame, footer.
        let value = [b'{', 0xFF, 0x00, 0xE0, b'}'];
        let body = [&[0u8][..], b"AIGC\0", &value].concat();
        let mut frame = b"TXXX".to_vec();
        frame.extend_from_slice(&to_syncsafe(body.len() as u32).unwrap());
        frame.extend_from_slice(&[0, 0x02]);
        frame.extend_from_slice(&body);
        let ext = [0u8, 0, 0, 6, 1, 0];
        let size = to_syncsafe((ext.len() + frame.len()) as u32).unwrap();
        let mut tag = [
            &b"ID3\x04\x00"[..],
            &[FLAG_EXTENDED | FLAG_FOOTER],
            &size,
            &ext,
            &frame,
        ]
        .concat();
        tag.extend_from_slice(
            &[&b"3DI\x04\x00"[..], &[FLAG_EXTENDED | FLAG_FOOTER], &size].concat(),
        );
        let mut f = Vec::new();
        let t = parse(&tag, 0, &Limits::default(), &mut f).unwrap();
        assert_eq!(t.len, tag.len());
        assert_eq!(t.frames[0].txxx().unwrap().value, "{\u{ff}\u{e0}}");
        assert_eq!(appended_tag_before(&tag, tag.len()), Some(0));
        // Rewriting drops the extended header and keeps the footer.
        let nf = txxx_frame(4, "AIGC", "x").unwrap();
        let out = rewrite(&t, Some(&nf)).unwrap();
        assert_eq!(out[5], FLAG_FOOTER);
        assert!(out[out.len() - 10..].starts_with(b"3DI\x04"));
        let again = parse(&out, 0, &Limits::default(), &mut f).unwrap();
        assert_eq!(again.frames.len(), 1);
        assert!(f.is_empty());
    }

    #[test]
    fn reads_utf16_and_unsynchronised_tags() {
        let body = [
            &[1u8, 0xFF, 0xFE][..],
            &[b'A', 0, b'I', 0, b'G', 0, b'C', 0, 0, 0],
            &[0xFF, 0xFE, b'x', 0],
        ]
        .concat();
        let t = parse_txxx(&body).unwrap();
        assert_eq!((t.description.as_str(), t.value.as_str()), ("AIGC", "x"));
        assert_eq!(deunsync(&[0xFF, 0x00, 0xE0, 0x01]), vec![0xFF, 0xE0, 0x01]);
    }
}
