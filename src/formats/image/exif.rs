//! EXIF (a TIFF structure): reading a label from UserComment or ImageDescription, and writing
//! UserComment, the image guide's Annex B secondary carrier.
//!
//! A text is a label when it is JSON with a key holding `AIGC` (`{"AIGC":{…}}`, as Annex B shows),
//! or a damaged text that still reads as such; a UserComment is free text for everyone else, so a
//! comment that merely mentions AIGC, or JSON under other keys (a bare record included: the key
//! naming the label is the `AIGC` key), is not a label. UserComment belongs in the Exif IFD;
//! writers that put it in IFD0 are read too.
//!
//! Written by hand because the EXIF crates either only read or rewrite the whole structure (and
//! drop what they do not model, such as maker notes). Merging here never moves an existing value:
//! a new Exif IFD (the old entries, UserComment added, replaced or removed) and the new value are
//! appended at the end of the TIFF data and IFD0's pointer is changed to it, so every offset in the
//! file, maker notes included, stays valid. When IFD0 itself changes (a label removed from it, the
//! Exif IFD pointer added), IFD0 is copied to the end. The old IFDs are left in place,
//! unreferenced.

use crate::error::{Error, Result};
use crate::findings::Finding;
use crate::format::{Carrier, CarrierKind, Scan};

const TAG_IMAGE_DESCRIPTION: u16 = 0x010E;
const TAG_EXIF_IFD: u16 = 0x8769;
const TAG_USER_COMMENT: u16 = 0x9286;
const TYPE_ASCII: u16 = 2;
const TYPE_LONG: u16 = 4;
const TYPE_UNDEFINED: u16 = 7;
/// Most entries an IFD may have before it is taken for garbage.
const MAX_ENTRIES: usize = 4096;

/// The character-code prefix of an ASCII UserComment.
pub const ASCII_PREFIX: &[u8; 8] = b"ASCII\0\0\0";

/// A label-looking text found in EXIF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// `UserComment`, `UserComment (IFD0)` or `ImageDescription`.
    pub tag: &'static str,
    pub value: String,
}

/// What an EXIF text is, for labeling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// A label record (possibly damaged; the core reports how).
    Label,
    /// JSON shaped like an Annex E record but without the `AIGC` key: not read as a label.
    BareRecord,
    /// Free text that mentions AIGC: not a label.
    Mention,
    /// Anything else.
    Other,
}

/// Classifies an EXIF text (see the module comment).
pub fn classify(text: &str) -> Text {
    let t = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    let mentions = t.to_ascii_uppercase().contains("AIGC");
    let aigc_key = |k: &String| k.to_ascii_uppercase().contains("AIGC");
    match serde_json::from_str::<serde_json::Value>(t) {
        Ok(serde_json::Value::Object(m)) if m.keys().any(aigc_key) => Text::Label,
        Ok(serde_json::Value::Object(m))
            if m.keys().any(|k| k.eq_ignore_ascii_case("Label"))
                && m.keys().any(|k| {
                    k.eq_ignore_ascii_case("ContentProducer") || k.eq_ignore_ascii_case("ProduceID")
                }) =>
        {
            Text::BareRecord
        }
        // JSON encoded twice: `"{\"AIGC\":…}"`.
        Ok(serde_json::Value::String(inner)) if inner.trim_start().starts_with('{') => {
            match classify(&inner) {
                Text::Other => Text::Other,
                c => c,
            }
        }
        Ok(_) if mentions => Text::Mention,
        Ok(_) => Text::Other,
        // Damaged JSON that still names the key: a damaged label, for the core to report.
        Err(_) if t.starts_with('{') && t.contains("\"AIGC\"") => Text::Label,
        Err(_) if mentions => Text::Mention,
        Err(_) => Text::Other,
    }
}

#[derive(Clone, Copy)]
struct Tiff<'a> {
    data: &'a [u8],
    big: bool,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    /// The 4 value-or-offset bytes, as stored.
    raw: [u8; 4],
}

impl<'a> Tiff<'a> {
    fn new(data: &'a [u8]) -> Result<Self> {
        let big = match data.get(..4) {
            Some(b"MM\0*") => true,
            Some(b"II*\0") => false,
            _ => return Err(Error::malformed("exif", "no TIFF header")),
        };
        Ok(Tiff { data, big })
    }
    fn u16(&self, at: usize) -> Option<u16> {
        let b = self.data.get(at..at.checked_add(2)?)?;
        Some(if self.big {
            u16::from_be_bytes([b[0], b[1]])
        } else {
            u16::from_le_bytes([b[0], b[1]])
        })
    }
    fn u32(&self, at: usize) -> Option<u32> {
        let b = self.data.get(at..at.checked_add(4)?)?;
        let a = [b[0], b[1], b[2], b[3]];
        Some(if self.big {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }
    /// The value-or-offset field of an entry read as an offset.
    fn offset(&self, e: &Entry) -> usize {
        (if self.big {
            u32::from_be_bytes(e.raw)
        } else {
            u32::from_le_bytes(e.raw)
        }) as usize
    }
    fn ifd0(&self) -> Option<usize> {
        self.u32(4).map(|o| o as usize)
    }
    /// The entries of the IFD at `at`, and its next-IFD offset.
    fn entries(&self, at: usize) -> Option<(Vec<Entry>, u32)> {
        let n = usize::from(self.u16(at)?);
        if n > MAX_ENTRIES {
            return None;
        }
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let e = at + 2 + 12 * i;
            let raw = self.data.get(e + 8..e + 12)?;
            out.push(Entry {
                tag: self.u16(e)?,
                kind: self.u16(e + 2)?,
                count: self.u32(e + 4)?,
                raw: [raw[0], raw[1], raw[2], raw[3]],
            });
        }
        let next = self.u32(at + 2 + 12 * n)?;
        Some((out, next))
    }
    /// The bytes of an ASCII or UNDEFINED entry's value.
    fn bytes(&self, e: &Entry) -> Option<&'a [u8]> {
        let len = e.count as usize;
        if len <= 4 {
            let off = self.data.len(); // inline values are not worth reading for labels
            return self.data.get(off..off);
        }
        let off = if self.big {
            u32::from_be_bytes(e.raw)
        } else {
            u32::from_le_bytes(e.raw)
        } as usize;
        self.data.get(off..off.checked_add(len)?)
    }
}

/// Strips a JPEG/WebP `Exif\0\0` prefix when there is one.
pub fn tiff_data(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"Exif\0\0").unwrap_or(body)
}

fn looks_like_label(s: &str) -> bool {
    classify(s) == Text::Label
}

/// Decodes a UserComment: its 8-byte character code, then the text.
fn user_comment_text(bytes: &[u8], big: bool) -> String {
    let (code, text) = bytes.split_at(bytes.len().min(8));
    let s = if code == b"UNICODE\0" {
        let units: Vec<u16> = text
            .chunks_exact(2)
            .map(|c| {
                if big {
                    u16::from_be_bytes([c[0], c[1]])
                } else {
                    u16::from_le_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16_lossy(&units)
    } else if code == ASCII_PREFIX || code == [0u8; 8] || code == b"JIS\0\0\0\0\0" {
        String::from_utf8_lossy(text).into_owned()
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    };
    s.trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .to_string()
}

/// Every text of interest in EXIF: ImageDescription and UserComment in IFD0, UserComment in the
/// Exif IFD, each with how it classifies.
pub fn texts(tiff: &[u8]) -> Result<Vec<(Found, Text)>> {
    let t = Tiff::new(tiff)?;
    let ifd0 = t
        .ifd0()
        .ok_or_else(|| Error::malformed("exif", "truncated TIFF header"))?;
    let (entries, _) = t
        .entries(ifd0)
        .ok_or_else(|| Error::malformed("exif", "IFD0 runs past the end"))?;
    let mut found = Vec::new();
    let mut push = |tag: &'static str, value: String| {
        let class = classify(&value);
        found.push((Found { tag, value }, class));
    };
    for e in &entries {
        if e.tag == TAG_IMAGE_DESCRIPTION
            && e.kind == TYPE_ASCII
            && let Some(b) = t.bytes(e)
        {
            push(
                "ImageDescription",
                String::from_utf8_lossy(b)
                    .trim_matches(['\0', ' '])
                    .to_string(),
            );
        }
        if e.tag == TAG_USER_COMMENT
            && let Some(b) = t.bytes(e)
        {
            push("UserComment (IFD0)", user_comment_text(b, t.big));
        }
    }
    if let Some(ptr) = entries.iter().find(|e| e.tag == TAG_EXIF_IFD) {
        let (exif, _) = t
            .entries(t.offset(ptr))
            .ok_or_else(|| Error::malformed("exif", "the Exif IFD runs past the end"))?;
        for e in exif.iter().filter(|e| e.tag == TAG_USER_COMMENT) {
            if let Some(b) = t.bytes(e) {
                push("UserComment", user_comment_text(b, t.big));
            }
        }
    }
    Ok(found)
}

/// Finds label records in EXIF UserComment and ImageDescription.
pub fn find_labels(tiff: &[u8]) -> Result<Vec<Found>> {
    Ok(texts(tiff)?
        .into_iter()
        .filter(|(_, c)| *c == Text::Label)
        .map(|(f, _)| f)
        .collect())
}

/// Reads the labels of EXIF data (a JPEG/WebP body with its `Exif\0\0` prefix, or bare TIFF)
/// into `scan`, with a finding for each text that looks like a label but is not read as one.
pub fn scan_into(body: &[u8], location: &str, scan: &mut Scan) {
    let found = match texts(tiff_data(body)) {
        Ok(found) => found,
        Err(e) => {
            scan.findings.push(Finding::warning(
                "exif.unreadable",
                format!("the EXIF data in {location} cannot be read: {e}"),
            ));
            return;
        }
    };
    for (f, class) in found {
        match class {
            Text::Label => {
                match f.tag {
                    "ImageDescription" => scan.findings.push(Finding::info(
                        "exif.image_description",
                        format!("a label is stored in EXIF ImageDescription ({location})"),
                    )),
                    "UserComment (IFD0)" => scan.findings.push(Finding::info(
                        "exif.user_comment_in_ifd0",
                        format!(
                            "the label's UserComment is in IFD0 rather than the Exif IFD ({location})"
                        ),
                    )),
                    _ => {}
                }
                scan.carriers.push(Carrier {
                    location: format!("EXIF {} ({location})", f.tag),
                    value: f.value,
                    kind: CarrierKind::Metadata,
                });
            }
            Text::BareRecord => scan.findings.push(Finding::warning(
                "exif.record_without_aigc_key",
                format!(
                    "EXIF {} ({location}) holds JSON shaped like a label record but without the \
                     AIGC key; it is not read as a label",
                    f.tag
                ),
            )),
            Text::Mention => scan.findings.push(Finding::info(
                "exif.mentions_aigc",
                format!(
                    "EXIF {} ({location}) mentions AIGC but is not a label record",
                    f.tag
                ),
            )),
            Text::Other => {}
        }
    }
}

struct Writer {
    out: Vec<u8>,
    big: bool,
}

impl Writer {
    fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
    fn align(&mut self) {
        if self.out.len() % 2 == 1 {
            self.out.push(0);
        }
    }
    fn offset(&self) -> Result<u32> {
        u32::try_from(self.out.len()).map_err(|_| Error::Limit("EXIF data over 4 GiB".into()))
    }
    fn value(&self, v: u32) -> [u8; 4] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    /// Appends an IFD with `entries` (sorted by tag) and `next`; returns its offset.
    fn ifd(&mut self, entries: &mut [Entry], next: u32) -> Result<u32> {
        entries.sort_by_key(|e| e.tag);
        self.align();
        let at = self.offset()?;
        let n = u16::try_from(entries.len())
            .map_err(|_| Error::Limit("too many EXIF entries".into()))?;
        self.u16(n);
        for e in entries.iter() {
            self.u16(e.tag);
            self.u16(e.kind);
            self.u32(e.count);
            self.out.extend_from_slice(&e.raw);
        }
        self.u32(next);
        Ok(at)
    }
}

/// Returns EXIF (TIFF) data holding `comment` as UserComment (`ASCII\0\0\0` + text), made from
/// `existing` when given, else new with the tags EXIF requires (`size` is the image's width and
/// height, for PixelX/YDimension). Labels elsewhere in the EXIF (ImageDescription, a UserComment
/// in IFD0) are removed, so one remains. Refuses ([`Error::Refused`]) to overwrite a UserComment
/// that holds something other than a label, and fails on EXIF it cannot follow.
pub fn with_user_comment(
    existing: Option<&[u8]>,
    comment: &str,
    size: (u32, u32),
) -> Result<Vec<u8>> {
    let mut value = ASCII_PREFIX.to_vec();
    value.extend_from_slice(comment.as_bytes());
    match existing {
        None => {
            let count = u32::try_from(value.len())
                .map_err(|_| Error::Limit("UserComment too long".into()))?;
            Ok(fresh(&value, count, size))
        }
        Some(existing) => rebuild(existing, Some(&value)),
    }
}

/// Returns `existing` without any label (UserComment or ImageDescription holding one), or
/// unchanged when it holds none.
pub fn without_labels(existing: &[u8]) -> Result<Vec<u8>> {
    rebuild(existing, None)
}

/// The shared rewrite: every label entry goes; `comment` (a complete UserComment value), when
/// given, becomes the Exif IFD's UserComment.
fn rebuild(existing: &[u8], comment: Option<&[u8]>) -> Result<Vec<u8>> {
    let t = Tiff::new(existing)?;
    let ifd0 = t
        .ifd0()
        .ok_or_else(|| Error::malformed("exif", "truncated TIFF header"))?;
    let (mut entries0, next0) = t
        .entries(ifd0)
        .ok_or_else(|| Error::malformed("exif", "IFD0 runs past the end"))?;
    let is_label = |e: &Entry| {
        matches!(e.tag, TAG_USER_COMMENT | TAG_IMAGE_DESCRIPTION)
            && t.bytes(e).is_some_and(|b| {
                let text = if e.tag == TAG_USER_COMMENT {
                    user_comment_text(b, t.big)
                } else {
                    String::from_utf8_lossy(b).into_owned()
                };
                looks_like_label(&text)
            })
    };
    let ptr_index = entries0.iter().position(|e| e.tag == TAG_EXIF_IFD);
    let mut exif_entries = match ptr_index {
        Some(i) => {
            t.entries(t.offset(&entries0[i]))
                .ok_or_else(|| Error::malformed("exif", "the Exif IFD runs past the end"))?
                .0
        }
        None => Vec::new(),
    };
    if comment.is_some()
        && let Some(old) = exif_entries.iter().find(|e| e.tag == TAG_USER_COMMENT)
    {
        let text = t
            .bytes(old)
            .map(|b| user_comment_text(b, t.big))
            .unwrap_or_default();
        if !text.is_empty() && !looks_like_label(&text) {
            return Err(Error::Refused(
                "the EXIF UserComment holds a comment that is not a label; it is left as it is"
                    .into(),
            ));
        }
    }
    let ifd0_labels = entries0.iter().filter(|e| is_label(e)).count();
    let exif_labels = exif_entries.iter().filter(|e| is_label(e)).count();
    if comment.is_none() && ifd0_labels == 0 && exif_labels == 0 {
        return Ok(existing.to_vec());
    }

    let mut w = Writer {
        out: existing.to_vec(),
        big: t.big,
    };
    // The Exif IFD is rewritten when it gains a comment or loses a label.
    let new_exif_at = if comment.is_some() || exif_labels > 0 {
        exif_entries.retain(|e| e.tag != TAG_USER_COMMENT);
        if let Some(value) = comment {
            let count = u32::try_from(value.len())
                .map_err(|_| Error::Limit("UserComment too long".into()))?;
            w.align();
            let value_at = w.offset()?;
            w.out.extend_from_slice(value);
            exif_entries.push(Entry {
                tag: TAG_USER_COMMENT,
                kind: TYPE_UNDEFINED,
                count,
                raw: w.value(value_at),
            });
        }
        Some(w.ifd(&mut exif_entries, 0)?)
    } else {
        None
    };
    match (ptr_index, new_exif_at) {
        // Only the pointer changes: patch it in place.
        (Some(i), Some(at)) if ifd0_labels == 0 => {
            let slot = ifd0 + 2 + 12 * i + 8;
            let ptr = w.value(at);
            w.out[slot..slot + 4].copy_from_slice(&ptr);
        }
        _ => {
            entries0.retain(|e| !is_label(e));
            if let Some(at) = new_exif_at {
                entries0.retain(|e| e.tag != TAG_EXIF_IFD);
                entries0.push(Entry {
                    tag: TAG_EXIF_IFD,
                    kind: TYPE_LONG,
                    count: 1,
                    raw: w.value(at),
                });
            }
            let new_ifd0 = w.ifd(&mut entries0, next0)?;
            let head = w.value(new_ifd0);
            w.out[4..8].copy_from_slice(&head);
        }
    }
    Ok(w.out)
}

/// New big-endian EXIF: IFD0 (resolution 72 dpi, YCbCr centred, Exif IFD pointer), the Exif IFD
/// (version 2.32, components YCbCr, UserComment, FlashPix 1.0, sRGB, pixel size), then values.
fn fresh(user_comment: &[u8], count: u32, (width, height): (u32, u32)) -> Vec<u8> {
    const TYPE_SHORT: u16 = 3;
    const TYPE_RATIONAL: u16 = 5;
    let short = |v: u16| [(v >> 8) as u8, v as u8, 0, 0];
    let (ifd0, exif_ifd): (u32, u32) = (8, 8 + 2 + 12 * 5 + 4);
    let values: u32 = exif_ifd + 2 + 12 * 7 + 4;
    let (x_res, y_res, comment_at) = (values, values + 8, values + 16);
    let e = |tag, kind, count, raw| Entry {
        tag,
        kind,
        count,
        raw,
    };
    let mut w = Writer {
        out: b"MM\0*".to_vec(),
        big: true,
    };
    w.u32(ifd0);
    let mut entries0 = [
        e(0x011A, TYPE_RATIONAL, 1, x_res.to_be_bytes()),
        e(0x011B, TYPE_RATIONAL, 1, y_res.to_be_bytes()),
        e(0x0128, TYPE_SHORT, 1, short(2)),
        e(0x0213, TYPE_SHORT, 1, short(1)),
        e(TAG_EXIF_IFD, TYPE_LONG, 1, exif_ifd.to_be_bytes()),
    ];
    let mut exif = [
        e(0x9000, TYPE_UNDEFINED, 4, *b"0232"),
        e(0x9101, TYPE_UNDEFINED, 4, [1, 2, 3, 0]),
        e(
            TAG_USER_COMMENT,
            TYPE_UNDEFINED,
            count,
            comment_at.to_be_bytes(),
        ),
        e(0xA000, TYPE_UNDEFINED, 4, *b"0100"),
        e(0xA001, TYPE_SHORT, 1, short(1)),
        e(0xA002, TYPE_LONG, 1, width.to_be_bytes()),
        e(0xA003, TYPE_LONG, 1, height.to_be_bytes()),
    ];
    // A small fixed layout: the offsets above always fit.
    let _ = w.ifd(&mut entries0, 0);
    let _ = w.ifd(&mut exif, 0);
    for v in [72u32, 1, 72, 1] {
        w.u32(v);
    }
    w.out.extend_from_slice(user_comment);
    w.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_reads_and_replaces() {
        let a = with_user_comment(None, r#"{"AIGC":{"Label":"1"}}"#, (8, 8)).unwrap();
        let found = find_labels(&a).unwrap();
        assert_eq!(
            found,
            vec![Found {
                tag: "UserComment",
                value: r#"{"AIGC":{"Label":"1"}}"#.into()
            }]
        );
        let b = with_user_comment(Some(&a), r#"{"AIGC":{"Label":"2"}}"#, (8, 8)).unwrap();
        let found = find_labels(&b).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].value, r#"{"AIGC":{"Label":"2"}}"#);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let a = with_user_comment(None, r#"{"AIGC":{"Label":"1"}}"#, (8, 8)).unwrap();
        for cut in 0..a.len() {
            let _ = find_labels(&a[..cut]);
            let _ = with_user_comment(Some(&a[..cut]), "x", (8, 8));
        }
        let mut b = a.clone();
        b[8] = 0xFF;
        let _ = find_labels(&b);
        let _ = with_user_comment(Some(&b), "x", (8, 8));
    }

    #[test]
    fn only_json_under_an_aigc_key_is_a_label() {
        assert_eq!(classify(r#"{"AIGC":{"Label":"1"}}"#), Text::Label);
        assert_eq!(classify(r#"ASCII {"aigc_label":{}}"#), Text::Mention);
        assert_eq!(classify(r#"{"AIGC":{"Label":"1""#), Text::Label);
        assert_eq!(classify(r#""{\"AIGC\":{}}""#), Text::Label);
        assert_eq!(
            classify(r#"{"Label":"1","ContentProducer":"x"}"#),
            Text::BareRecord
        );
        assert_eq!(classify(r#"{"prompt":"a cat","Label":"cat"}"#), Text::Other);
        assert_eq!(classify("made with AIGC tools"), Text::Mention);
        assert_eq!(classify("holiday 2024"), Text::Other);
    }

    /// Big-endian TIFF with one IFD0 entry: `tag` as UNDEFINED holding `value`.
    fn ifd0_with(tag: u16, value: &[u8]) -> Vec<u8> {
        let mut t = b"MM\0*".to_vec();
        t.extend_from_slice(&8u32.to_be_bytes());
        t.extend_from_slice(&1u16.to_be_bytes());
        t.extend_from_slice(&tag.to_be_bytes());
        t.extend_from_slice(&TYPE_UNDEFINED.to_be_bytes());
        t.extend_from_slice(&(value.len() as u32).to_be_bytes());
        t.extend_from_slice(&26u32.to_be_bytes());
        t.extend_from_slice(&0u32.to_be_bytes());
        t.extend_from_slice(value);
        t
    }

    #[test]
    fn user_comment_in_ifd0_is_read_and_replaced() {
        let label = r#"{"AIGC":{"Label":"1"}}"#;
        let t = ifd0_with(TAG_USER_COMMENT, &[ASCII_PREFIX, label.as_bytes()].concat());
        assert_eq!(
            find_labels(&t).unwrap(),
            vec![Found {
                tag: "UserComment (IFD0)",
                value: label.into()
            }]
        );
        let b = with_user_comment(Some(&t), r#"{"AIGC":{"Label":"2"}}"#, (1, 1)).unwrap();
        let found = find_labels(&b).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].tag, "UserComment");
        assert!(found[0].value.contains("\"2\""));
        let none = without_labels(&b).unwrap();
        assert!(find_labels(&none).unwrap().is_empty());
        // Free text is left alone, and not overwritten.
        let free = ifd0_with(TAG_USER_COMMENT, b"ASCII\0\0\0holiday");
        assert_eq!(without_labels(&free).unwrap(), free);
    }
}
