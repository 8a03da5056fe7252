//! The PNG chunk walker, written by hand: the `png` crate decodes pixels but neither lists
//! chunks with their offsets nor writes a file back byte for byte, which labeling needs.
//!
//! Every length is checked against the input and [`Limits::max_chunk_bytes`]; a bad CRC is a
//! finding (`png.bad_crc`), not a failure, so a reader still sees what the file claims. The CRCs
//! of `IDAT`/`fdAT` are not checked: those bytes are covered by the content binding, which any
//! damage to them breaks, and skipping them keeps verification far cheaper than a decode.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::report::Finding;

pub const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

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
}

/// The chunks of a PNG file, and what was odd about them.
#[derive(Debug, Clone)]
pub struct Chunks {
    pub chunks: Vec<Chunk>,
    /// Bytes after `IEND`, kept as they are when writing.
    pub trailer: Range<usize>,
    pub findings: Vec<Finding>,
}

/// Lists the chunks of a PNG file, checking their CRCs.
pub fn parse(input: &[u8], limits: &Limits) -> Result<Chunks> {
    parse_with(input, limits, true)
}

/// Lists the chunks; `check_crc` false skips the CRC checks (for writing, which copies chunks as
/// they are and reports nothing).
pub fn parse_with(input: &[u8], limits: &Limits, check_crc: bool) -> Result<Chunks> {
    if !input.starts_with(SIGNATURE) {
        return Err(Error::malformed("png", "no PNG signature"));
    }
    let mut findings = Vec::new();
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut pos = SIGNATURE.len();
    let mut seen_iend = false;
    while pos < input.len() {
        let Some(head) = input.get(pos..pos + 8) else {
            return Err(Error::malformed(
                "png",
                format!("truncated chunk header at offset {pos}"),
            ));
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let kind = [head[4], head[5], head[6], head[7]];
        if len > 0x7FFF_FFFF {
            return Err(Error::malformed(
                "png",
                format!("chunk length {len} at offset {pos} is invalid"),
            ));
        }
        if u64::from(len) > limits.max_chunk_bytes {
            return Err(Error::Limit(format!(
                "PNG chunk {} is {len} bytes, over the {}-byte limit",
                String::from_utf8_lossy(&kind),
                limits.max_chunk_bytes
            )));
        }
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(Error::malformed(
                "png",
                format!("invalid chunk type at offset {pos}"),
            ));
        }
        let data_start = pos + 8;
        let data_end = data_start + len as usize;
        let end = data_end + 4;
        let Some(crc_bytes) = input.get(data_end..end) else {
            return Err(Error::malformed(
                "png",
                format!(
                    "chunk {} at offset {pos} is truncated",
                    String::from_utf8_lossy(&kind)
                ),
            ));
        };
        let stored = u32::from_be_bytes([crc_bytes[0], crc_bytes[1], crc_bytes[2], crc_bytes[3]]);
        let image_data = &kind == b"IDAT" || &kind == b"fdAT";
        if check_crc && !image_data && crc32(&input[pos + 4..data_end]) != stored {
            findings.push(Finding::error(
                "png.bad_crc",
                format!(
                    "chunk {} at offset {pos} has a bad CRC",
                    String::from_utf8_lossy(&kind)
                ),
            ));
        }
        chunks.push(Chunk {
            kind,
            offset: pos,
            data: data_start..data_end,
            end,
        });
        pos = end;
        if &kind == b"IEND" {
            seen_iend = true;
            break;
        }
    }
    if !seen_iend {
        return Err(Error::malformed(
            "png",
            "no IEND chunk: the file is truncated",
        ));
    }
    if chunks.first().is_none_or(|c| !c.is(b"IHDR")) {
        return Err(Error::malformed("png", "the first chunk is not IHDR"));
    }
    if pos < input.len() {
        findings.push(Finding::info(
            "png.trailing_data",
            format!("{} bytes follow IEND", input.len() - pos),
        ));
    }
    Ok(Chunks {
        chunks,
        trailer: pos..input.len(),
        findings,
    })
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
