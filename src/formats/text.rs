//! Plain text and Markdown: the label travels inside the text as invisible characters.
//!
//! The record is appended as one run of Unicode variation selectors after a U+FEFF, one selector
//! per byte (the C2PA text approach: 0–15 → U+FE00–FE0F, 16–255 → U+E0100–E01EF), framed as
//! `AIGC` ‖ 4-byte big-endian length ‖ JSON. The content digest is SHA-256 of the text in NFC
//! with every such run removed and whitespace runs folded to one space, so reflowing or changing
//! line endings keeps the binding and changing a word breaks it.

use unicode_normalization::UnicodeNormalization;

use crate::binding::ContentHasher;
use crate::error::{Error, Result};
use crate::format::{Carrier, Format, Handler, Scan, ScanOptions, WriteOptions};
use crate::report::Finding;

/// Plain UTF-8 text.
pub struct Text {
    format: Format,
}

pub static PLAIN: Text = Text {
    format: Format::Text,
};
pub static MARKDOWN: Text = Text {
    format: Format::Markdown,
};

const MAGIC: &[u8; 4] = b"AIGC";
const BOM: char = '\u{FEFF}';

fn selector(byte: u8) -> char {
    let cp = if byte < 16 {
        0xFE00 + u32::from(byte)
    } else {
        0xE0100 + u32::from(byte - 16)
    };
    char::from_u32(cp).expect("variation selectors are valid scalar values")
}

fn selector_value(c: char) -> Option<u8> {
    match c as u32 {
        cp @ 0xFE00..=0xFE0F => Some((cp - 0xFE00) as u8),
        cp @ 0xE0100..=0xE01EF => Some((cp - 0xE0100 + 16) as u8),
        _ => None,
    }
}

/// A marker run found in text: its byte range and decoded bytes.
struct Run {
    start: usize,
    end: usize,
    bytes: Vec<u8>,
}

fn marker_runs(text: &str) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if c != BOM {
            continue;
        }
        let mut bytes = Vec::new();
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = iter.peek() {
            match selector_value(d) {
                Some(b) => {
                    bytes.push(b);
                    end = j + d.len_utf8();
                    iter.next();
                }
                None => break,
            }
        }
        if bytes.starts_with(MAGIC) {
            runs.push(Run { start: i, end, bytes });
        }
    }
    runs
}

/// The text without marker runs.
fn strip_markers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for r in marker_runs(text) {
        out.push_str(&text[last..r.start]);
        last = r.end;
    }
    out.push_str(&text[last..]);
    out
}

/// The content digest: NFC, markers removed, whitespace runs folded, ends trimmed.
pub fn content_digest(text: &str) -> [u8; 32] {
    let stripped = strip_markers(text);
    let mut h = ContentHasher::new();
    let mut buf = [0u8; 4];
    let mut pending_space = false;
    let mut started = false;
    for c in stripped.nfc() {
        if c.is_whitespace() {
            pending_space = started;
            continue;
        }
        if pending_space {
            h.update(b" ");
            pending_space = false;
        }
        started = true;
        h.update(c.encode_utf8(&mut buf).as_bytes());
    }
    h.finish()
}

fn as_text(input: &[u8]) -> Result<&str> {
    std::str::from_utf8(input).map_err(|e| Error::malformed("text", format!("not UTF-8: {e}")))
}

impl Handler for Text {
    fn format(&self) -> Format {
        self.format
    }

    fn scan(&self, input: &[u8], opts: &ScanOptions<'_>) -> Result<Scan> {
        if input.len() as u64 > opts.limits.max_text_bytes {
            return Err(Error::Limit(format!(
                "text is {} bytes, over the {}-byte limit",
                input.len(),
                opts.limits.max_text_bytes
            )));
        }
        let text = as_text(input)?;
        let mut scan = Scan {
            digest: Some(content_digest(text)),
            ..Default::default()
        };
        for run in marker_runs(text) {
            let body = &run.bytes[MAGIC.len()..];
            let record = body.get(..4).and_then(|len| {
                let n = u32::from_be_bytes(len.try_into().ok()?) as usize;
                body.get(4..4 + n)
            });
            match record.map(std::str::from_utf8) {
                Some(Ok(json)) => scan.carriers.push(Carrier {
                    location: "invisible marker at the end".into(),
                    value: json.to_string(),
                }),
                _ => scan.findings.push(Finding::warning(
                    "text.marker_damaged",
                    "an invisible label marker is present but damaged",
                )),
            }
        }
        Ok(scan)
    }

    fn write_label(&self, input: &[u8], label_json: &str, _opts: &WriteOptions<'_>) -> Result<Vec<u8>> {
        let text = strip_markers(as_text(input)?);
        let len = u32::try_from(label_json.len())
            .map_err(|_| Error::InvalidLabel("label record too long".into()))?;
        let mut out = String::with_capacity(text.len() + 4 * label_json.len() + 64);
        out.push_str(&text);
        out.push(BOM);
        for &b in MAGIC.iter().chain(&len.to_be_bytes()).chain(label_json.as_bytes()) {
            out.push(selector(b));
        }
        Ok(out.into_bytes())
    }
}
