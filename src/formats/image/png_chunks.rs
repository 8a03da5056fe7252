//! The PNG chunk walker, written by hand: the `png` crate decodes pixels but neither lists
//! chunks with their offsets nor writes a file back byte for byte, which labeling needs.
//!
//! Every length is checked against the input and [`Limits::max_chunk_bytes`]. The walk never
//! gives up on damage it can step over: a label in a damaged file is still a label to report.
//! What a decoder would refuse or read differently from this walk is an `Error` finding, because
//! the content binding only covers chunk *data*, and a structure decoders reject (a bad CRC, even
//! on `IDAT`; a critical chunk they do not know; `IDAT` split by another chunk; a second `IHDR`;
//! bytes after `IEND`; a missing `IEND`) changes what a viewer shows without changing the digest.
//! These are the checks `pngcheck` makes. Checking every CRC costs a pass of CRC-32 over the file,
//! far less than the SHA-256 the binding already needs.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::findings::{Finding, Severity};
use crate::limits::Limits;

pub const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// The critical chunks of PNG (the first letter of a chunk type is uppercase when a decoder must
/// understand it; one it does not know makes it stop).
const CRITICAL: [&[u8; 4]; 4] = [b"IHDR", b"PLTE", b"IDAT", b"IEND"];

/// The codes of damage that stops the walk before `IEND`.
pub const STOPS: [&str; 4] = [
    "png.truncated",
    "png.bad_chunk_type",
    "png.bad_length",
    "png.no_iend",
];

/// One chunk as found.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub kind: [u8; 4],
    /// Offset of the length field.
    pub offset: usize,
    pub data: Range<usize>,
    /// End of the CRC.
    pub end: usize,
}

impl Chunk {
    pub fn raw<'a>(&self, file: &'a [u8]) -> &'a [u8] {
        &file[self.offset..self.end]
    }
    pub fn body<'a>(&self, file: &'a [u8]) -> &'a [u8] {
        &file[self.data.clone()]
    }
    pub fn is(&self, kind: &[u8; 4]) -> bool {
        &self.kind == kind
    }
    fn name(&self) -> String {
        String::from_utf8_lossy(&self.kind).into_owned()
    }
}

/// The chunks of a PNG file, and what was odd about them.
#[derive(Debug, Clone)]
pub struct Chunks {
    /// Every complete chunk, in file order, up to `IEND` or the first damage the walk cannot
    /// step over.
    pub chunks: Vec<Chunk>,
    pub findings: Vec<Finding>,
}

impl Chunks {
    /// The first `Error` finding: the file is damaged, and a label must not be sealed into it.
    pub fn damage(&self) -> Option<&Finding> {
        self.findings.iter().find(|f| f.severity == Severity::Error)
    }
}

/// Lists the chunks of a PNG file and checks its structure as a decoder would.
///
/// Fails only when the input is not PNG at all or a chunk is over the limit; every kind of damage
/// is an `Error` finding (codes `png.…`).
pub fn parse(input: &[u8], limits: &Limits) -> Result<Chunks> {
    if !input.starts_with(SIGNATURE) {
        return Err(Error::malformed("png", "no PNG signature"));
    }
    let mut findings = Vec::new();
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut pos = SIGNATURE.len();
    let mut seen_iend = false;
    let mut damaged = |code: &'static str, msg: String| findings.push(Finding::error(code, msg));
    while pos < input.len() {
        let Some(head) = input.get(pos..pos + 8) else {
            damaged(
                "png.truncated",
                format!("the file ends inside a chunk header at offset {pos}"),
            );
            break;
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let kind = [head[4], head[5], head[6], head[7]];
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            damaged(
                "png.bad_chunk_type",
                format!("invalid chunk type at offset {pos}: the rest of the file is not read"),
            );
            break;
        }
        if len > 0x7FFF_FFFF {
            damaged(
                "png.bad_length",
                format!("chunk length {len} at offset {pos} is invalid"),
            );
            break;
        }
        if u64::from(len) > limits.max_chunk_bytes {
            return Err(Error::Limit(format!(
                "PNG chunk {} is {len} bytes, over the {}-byte limit",
                String::from_utf8_lossy(&kind),
                limits.max_chunk_bytes
            )));
        }
        let data_start = pos + 8;
        let data_end = data_start + len as usize;
        let end = data_end + 4;
        let Some(crc_bytes) = input.get(data_end..end) else {
            damaged(
                "png.truncated",
                format!(
                    "chunk {} at offset {pos} is truncated",
                    String::from_utf8_lossy(&kind)
                ),
            );
            break;
        };
        let chunk = Chunk {
            kind,
            offset: pos,
            data: data_start..data_end,
            end,
        };
        let stored = u32::from_be_bytes([crc_bytes[0], crc_bytes[1], crc_bytes[2], crc_bytes[3]]);
        if crc32(&input[pos + 4..data_end]) != stored {
            damaged(
                "png.bad_crc",
                format!(
                    "chunk {} at offset {pos} has a bad CRC; decoders reject it",
                    chunk.name()
                ),
            );
        }
        check_chunk(&chunks, &chunk, &mut damaged);
        chunks.push(chunk);
        pos = end;
        if &kind == b"IEND" {
            seen_iend = true;
            break;
        }
    }
    let walk_stopped = findings.iter().any(|f| STOPS.contains(&f.code));
    if !seen_iend && !walk_stopped {
        findings.push(Finding::error(
            "png.no_iend",
            "the file has no IEND chunk: it is truncated",
        ));
    }
    if seen_iend && pos < input.len() {
        findings.push(Finding::error(
            "png.trailing_data",
            format!(
                "{} bytes follow IEND; they are not part of the image and not bound by the seal",
                input.len() - pos
            ),
        ));
    }
    Ok(Chunks { chunks, findings })
}

/// The ordering and naming rules a decoder enforces, for `c` coming after `before`.
fn check_chunk(before: &[Chunk], c: &Chunk, damaged: &mut impl FnMut(&'static str, String)) {
    let name = c.name();
    if before.is_empty() && !c.is(b"IHDR") {
        damaged(
            "png.first_not_ihdr",
            format!("the first chunk is {name}, not IHDR"),
        );
    }
    if c.is(b"IHDR") && !before.is_empty() {
        damaged(
            "png.duplicate_ihdr",
            format!("a second IHDR chunk at offset {}", c.offset),
        );
    }
    if c.kind[0].is_ascii_uppercase() && !CRITICAL.contains(&&c.kind) {
        damaged(
            "png.unknown_critical",
            format!(
                "chunk {name} at offset {} is critical (uppercase first letter) and unknown; \
                 decoders refuse the file",
                c.offset
            ),
        );
    }
    if c.kind[2].is_ascii_lowercase() {
        damaged(
            "png.reserved_bit",
            format!(
                "chunk {name} at offset {} has the reserved bit set (lowercase third letter)",
                c.offset
            ),
        );
    }
    if c.is(b"IDAT")
        && let Some(last_idat) = before.iter().rposition(|b| b.is(b"IDAT"))
        && last_idat + 1 != before.len()
    {
        damaged(
            "png.idat_split",
            format!(
                "IDAT at offset {} follows a {} chunk after earlier IDAT data; IDAT chunks must \
                 be consecutive",
                c.offset,
                before[before.len() - 1].name()
            ),
        );
    }
}

/// Appends a complete chunk (length, type, data, CRC) to `out`.
pub fn push_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) -> Result<()> {
    let len = u32::try_from(data.len())
        .ok()
        .filter(|&l| l <= 0x7FFF_FFFF)
        .ok_or_else(|| Error::Limit("PNG chunk over 2 GiB".into()))?;
    out.extend_from_slice(&len.to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
    Ok(())
}

/// CRC-32 as PNG defines it (ISO 3309, the same as zlib's).
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut h = flate2::Crc::new();
    h.update(bytes);
    h.sum()
}
