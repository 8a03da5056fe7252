//! A generic RIFF chunk walker and writer, shared by every RIFF-based format (WAV, WebP).
//!
//! Written by hand because the crates that read RIFF (`hound`, `symphonia`, `riff`) either skip
//! the chunks they do not know or re-serialise the whole file; labeling must find one chunk,
//! replace or add it, and keep every other chunk byte for byte. Every length is checked: a chunk
//! that claims more bytes than the file holds, or more than [`Limits::max_chunk_bytes`], ends
//! the walk with a [`WalkEnd`] reason instead of a panic.
//!
//! Chunks are `id (4) ‖ size (u32 LE) ‖ body (size) ‖ pad byte when size is odd`.

use crate::error::{Error, Result};
use crate::limits::Limits;

/// One chunk as found: where it starts and how long its body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    pub id: [u8; 4],
    /// Offset of the chunk header (the id) in the buffer walked.
    pub offset: usize,
    /// Body length as declared (without the pad byte).
    pub size: usize,
}

impl Chunk {
    /// Offset of the body.
    pub fn body_start(&self) -> usize {
        self.offset + 8
    }
    /// Offset just past the body (pad byte excluded).
    pub fn body_end(&self) -> usize {
        self.offset + 8 + self.size
    }
    /// The body in `buf` (the buffer that was walked).
    pub fn body<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        buf.get(self.body_start()..self.body_end()).unwrap_or(&[])
    }
    /// Offset just past the chunk, pad byte included (may be one past the buffer when the final
    /// pad byte is missing, which many writers do).
    pub fn end(&self) -> usize {
        self.body_end() + (self.size & 1)
    }
    /// The id as text, for messages (`"LIST"`, `"id3 "`).
    pub fn name(&self) -> String {
        self.id
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '?'
                }
            })
            .collect()
    }
}

/// Why a walk stopped before the end of its range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalkEnd {
    /// Fewer than 8 bytes were left: a truncated header (or trailing junk).
    TruncatedHeader { offset: usize },
    /// A chunk declares a body longer than the bytes left.
    TruncatedBody { chunk: Chunk, available: usize },
    /// A chunk is larger than the configured limit.
    OverLimit { chunk: Chunk },
}

impl WalkEnd {
    /// A sentence for a finding.
    pub fn describe(&self) -> String {
        match self {
            WalkEnd::TruncatedHeader { offset } => {
                format!("stray bytes at offset {offset} where a chunk header should be")
            }
            WalkEnd::TruncatedBody { chunk, available } => format!(
                "chunk '{}' at offset {} declares {} bytes but only {available} remain",
                chunk.name(),
                chunk.offset,
                chunk.size
            ),
            WalkEnd::OverLimit { chunk } => format!(
                "chunk '{}' at offset {} is {} bytes, over the chunk size limit",
                chunk.name(),
                chunk.offset,
                chunk.size
            ),
        }
    }
}

/// The chunks in `buf[start..end]`, in order, and why the walk stopped early (if it did).
///
/// A chunk whose declared body runs past `end` is still returned when `allow_truncated_last` is
/// set (with `size` clipped to the bytes present), so a reader can use a `data` chunk whose size
/// a crashed recorder never fixed up; the [`WalkEnd`] reports it either way.
#[derive(Debug, Clone)]
pub struct Walk {
    pub chunks: Vec<Chunk>,
    pub end: Option<WalkEnd>,
}

/// Walks the chunks in `buf[start..end]`. Chunks whose id is in `unlimited` (the bulk content,
/// such as WAV `data`) are bounded by the buffer only, not by `limits.max_chunk_bytes`.
pub fn walk(
    buf: &[u8],
    start: usize,
    end: usize,
    limits: &Limits,
    unlimited: &[&[u8; 4]],
    allow_truncated_last: bool,
) -> Walk {
    let end = end.min(buf.len());
    let mut chunks = Vec::new();
    let mut pos = start;
    while pos < end {
        let Some(header) = buf.get(pos..pos + 8).filter(|_| pos + 8 <= end) else {
            // A single missing pad byte at the very end is common and harmless.
            let stray = &buf[pos..end];
            if stray.iter().all(|&b| b == 0) && stray.len() == 1 {
                return Walk { chunks, end: None };
            }
            return Walk {
                chunks,
                end: Some(WalkEnd::TruncatedHeader { offset: pos }),
            };
        };
        let id = [header[0], header[1], header[2], header[3]];
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let chunk = Chunk {
            id,
            offset: pos,
            size,
        };
        if size as u64 > limits.max_chunk_bytes && !unlimited.contains(&&id) {
            return Walk {
                chunks,
                end: Some(WalkEnd::OverLimit { chunk }),
            };
        }
        let available = end - (pos + 8);
        if size > available {
            if allow_truncated_last {
                chunks.push(Chunk {
                    size: available,
                    ..chunk
                });
            }
            return Walk {
                chunks,
                end: Some(WalkEnd::TruncatedBody { chunk, available }),
            };
        }
        chunks.push(chunk);
        pos = chunk.end();
    }
    Walk { chunks, end: None }
}

/// A RIFF file's outer header: `RIFF`/`RF64` ‖ size ‖ form type (`WAVE`, `WEBP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiffHeader {
    /// `*b"RIFF"` or `*b"RF64"`.
    pub magic: [u8; 4],
    /// The declared size (bytes after the first 8), as stored.
    pub declared_size: u32,
    pub form: [u8; 4],
}

impl RiffHeader {
    /// Reads the 12-byte header, requiring the given form type.
    pub fn parse(buf: &[u8], form: &[u8; 4], format: &'static str) -> Result<RiffHeader> {
        let h = buf
            .get(..12)
            .ok_or_else(|| Error::malformed(format, "shorter than a RIFF header"))?;
        let magic = [h[0], h[1], h[2], h[3]];
        if &magic != b"RIFF" && &magic != b"RF64" {
            return Err(Error::malformed(format, "no RIFF header"));
        }
        if &h[8..12] != form {
            return Err(Error::malformed(
                format,
                format!(
                    "RIFF form type is {:?}, not {:?}",
                    String::from_utf8_lossy(&h[8..12]),
                    String::from_utf8_lossy(form)
                ),
            ));
        }
        Ok(RiffHeader {
            magic,
            declared_size: u32::from_le_bytes([h[4], h[5], h[6], h[7]]),
            form: [h[8], h[9], h[10], h[11]],
        })
    }

    /// The end of the chunk area the header declares, clipped to the buffer (RF64 and a size of
    /// `0xFFFFFFFF` or 0 mean "to the end").
    pub fn declared_end(&self, buf_len: usize) -> usize {
        if &self.magic == b"RF64" || self.declared_size == u32::MAX || self.declared_size == 0 {
            return buf_len;
        }
        (self.declared_size as usize).saturating_add(8).min(buf_len)
    }
}

/// Appends one chunk (header, body, pad byte) to `out`.
pub fn write_chunk(out: &mut Vec<u8>, id: &[u8; 4], body: &[u8]) -> Result<()> {
    let size = u32::try_from(body.len())
        .map_err(|_| Error::Limit("a RIFF chunk cannot exceed 4 GiB".into()))?;
    out.extend_from_slice(id);
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(body);
    if body.len() % 2 == 1 {
        out.push(0);
    }
    Ok(())
}

/// Sets the RIFF size field of a complete file in `out` (everything after the first 8 bytes).
pub fn fix_riff_size(out: &mut [u8]) -> Result<()> {
    let size = out
        .len()
        .checked_sub(8)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| Error::Limit("a RIFF file cannot exceed 4 GiB".into()))?;
    if let Some(field) = out.get_mut(4..8) {
        field.copy_from_slice(&size.to_le_bytes());
    }
    Ok(())
}

/// Copies a chunk as found, with its pad byte (added when the source lacked it).
pub fn copy_chunk(out: &mut Vec<u8>, buf: &[u8], chunk: &Chunk) {
    let end = chunk.end().min(buf.len());
    out.extend_from_slice(&buf[chunk.offset..end]);
    if end < chunk.end() {
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_pads_and_stops_on_lies() {
        let mut b = Vec::new();
        write_chunk(&mut b, b"abcd", b"xyz").unwrap();
        write_chunk(&mut b, b"efgh", b"").unwrap();
        assert_eq!(b.len(), 8 + 4 + 8);
        let w = walk(&b, 0, b.len(), &Limits::default(), &[], false);
        assert_eq!(w.chunks.len(), 2);
        assert_eq!(w.chunks[0].body(&b), b"xyz");
        assert_eq!(w.end, None);

        let mut lying = b.clone();
        lying[4] = 200;
        let w = walk(&lying, 0, lying.len(), &Limits::default(), &[], true);
        assert!(matches!(w.end, Some(WalkEnd::TruncatedBody { .. })));
        assert_eq!(w.chunks[0].size, lying.len() - 8);

        let mut huge = b.clone();
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        let w = walk(&huge, 0, huge.len(), &Limits::default(), &[], false);
        assert!(matches!(w.end, Some(WalkEnd::OverLimit { .. })));
        assert!(w.chunks.is_empty());
    }
}
