//! The RIFF chunk walker and writer, the one shared by every RIFF-based format (WAV, WebP).
//!
//! Written by hand because the crates that read RIFF (`hound`, `symphonia`, `riff`) either skip
//! the chunks they do not know or re-serialise the whole file; labeling must find one chunk,
//! replace or add it, and keep every other chunk byte for byte. Every length is checked: a chunk
//! that claims more bytes than the file holds, or more than [`Limits::max_chunk_bytes`], ends
//! the walk with a [`WalkEnd`] reason instead of a panic.
//!
//! Chunks are `id (4) ‖ size (u32 LE) ‖ body (size) ‖ pad byte when size is odd`.
//!
//! # Two views over one walk
//!
//! The formats disagree on what damage they accept, not on how chunks are laid out, so there is
//! one loop ([`walk`]) and two ways to use it:
//!
//! - **[`walk`] itself**, for formats that must read damaged files: WAV reads RF64, a `data`
//!   chunk a crashed recorder never sized ([`walk`]'s `allow_truncated_last`), nested `LIST`
//!   chunks, and turns each [`WalkEnd`] into its own `wav.…` finding.
//! - **[`parse`]**, for formats that refuse a broken chunk structure (WebP): the whole file
//!   (`RIFF` header, form type, chunk list) in one call, where a chunk over the limit or running
//!   past the data is an error, and the deviations readers tolerate (a RIFF size that disagrees
//!   with the file, bytes after the RIFF data, stray bytes, a last chunk without its pad byte)
//!   become findings under codes the caller chooses ([`Codes`]: `webp.riff_size`, …).
//!
//! Writing is likewise one set of primitives: [`write_chunk`] for a new chunk, [`copy_chunk`] for
//! a kept one (its bytes as stored, a missing pad byte added), [`fix_riff_size`]; [`write()`]
//! assembles a whole file from [`Piece`]s with them. A format that keeps trailing bytes or edits
//! a chunk in place (WAV) calls the primitives; one that rebuilds the chunk list (WebP) uses
//! [`write()`].

use crate::error::{Error, Result};
use crate::findings::Finding;
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
    /// The chunk as stored in `buf`: header, body and pad byte (when `buf` holds it).
    pub fn raw<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        buf.get(self.offset..self.end().min(buf.len()))
            .unwrap_or(&[])
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

/// Copies a chunk as found, with its pad byte (added when the source lacked it). `chunk` comes
/// from a walk of `buf`, so at most its pad byte lies past the end of `buf`.
pub fn copy_chunk(out: &mut Vec<u8>, buf: &[u8], chunk: &Chunk) {
    copy_raw(out, chunk.raw(buf));
}

/// Appends a chunk's stored bytes, adding the pad byte when they end without it (odd length).
fn copy_raw(out: &mut Vec<u8>, raw: &[u8]) {
    out.extend_from_slice(raw);
    if raw.len() % 2 == 1 {
        out.push(0);
    }
}

/// Finding codes for [`parse`], chosen by the caller so reports say `webp.riff_size` rather
/// than `riff.…`.
#[derive(Debug, Clone, Copy)]
pub struct Codes {
    /// The format named in [`Error::Malformed`] errors.
    pub format: &'static str,
    /// The RIFF size disagrees with the file length.
    pub size_mismatch: &'static str,
    /// Stray bytes where a chunk header should be, or a last chunk without its pad byte.
    pub truncated: &'static str,
    /// Bytes after the end the RIFF size declares.
    pub trailing: &'static str,
}

/// A whole RIFF file read by [`parse`]: its form type, its top-level chunks in file order, and
/// the tolerated deviations found.
#[derive(Debug, Clone)]
pub struct Riff {
    pub form: [u8; 4],
    pub chunks: Vec<Chunk>,
    /// End of the chunk area: the file length, or the declared RIFF end when bytes follow it.
    pub end: usize,
    pub findings: Vec<Finding>,
}

impl Riff {
    /// A chunk as stored, pad byte included when the chunk area holds it (a byte after the
    /// declared RIFF end is trailing data, never a pad byte).
    pub fn raw<'a>(&self, chunk: &Chunk, file: &'a [u8]) -> &'a [u8] {
        chunk.raw(file.get(..self.end).unwrap_or(file))
    }
}

/// Reads a `RIFF` file of form type `form` (RF64 is not accepted): every top-level chunk with
/// its offset, checked against the file and `limits.max_chunk_bytes` (every chunk is limited).
///
/// A chunk over the limit is an [`Error::Limit`], one running past the data an
/// [`Error::Malformed`]; tolerated deviations are findings under `codes`.
pub fn parse(input: &[u8], form: &[u8; 4], limits: &Limits, codes: Codes) -> Result<Riff> {
    let header = RiffHeader::parse(input, form, codes.format)
        .ok()
        .filter(|h| &h.magic == b"RIFF")
        .ok_or_else(|| Error::malformed(codes.format, "not a RIFF file of this type"))?;
    let mut findings = Vec::new();
    // As in `declared_end`, the chunk area ends at the declared end, clipped to the file; unlike
    // it, a declared size too small to hold the form type (under 4) means "to the end" too.
    let declared = u64::from(header.declared_size) + 8;
    let mut end = input.len();
    if declared != input.len() as u64 {
        findings.push(Finding::warning(
            codes.size_mismatch,
            format!(
                "the RIFF header says {declared} bytes, the file has {}",
                input.len()
            ),
        ));
        if declared < input.len() as u64 && declared >= 12 {
            end = declared as usize;
            findings.push(Finding::warning(
                codes.trailing,
                format!("{} bytes follow the RIFF data", input.len() - end),
            ));
        }
    }
    let w = walk(input, 12, end, limits, &[], false);
    let lossy = |id: &[u8; 4]| String::from_utf8_lossy(id).into_owned();
    match w.end {
        Some(WalkEnd::OverLimit { chunk }) => {
            return Err(Error::Limit(format!(
                "RIFF chunk {:?} is {} bytes, over the {}-byte limit",
                lossy(&chunk.id),
                chunk.size,
                limits.max_chunk_bytes
            )));
        }
        Some(WalkEnd::TruncatedBody { chunk, .. }) => {
            return Err(Error::malformed(
                codes.format,
                format!(
                    "chunk {:?} at offset {} runs past the end of the file",
                    lossy(&chunk.id),
                    chunk.offset
                ),
            ));
        }
        Some(WalkEnd::TruncatedHeader { offset }) => findings.push(stray(codes, end - offset)),
        None => {
            let covered = w.chunks.last().map_or(12, Chunk::end);
            if covered > end {
                // Only the last chunk can lack its pad byte: the walk ends there.
                let last = w.chunks.last().map_or([0; 4], |c| c.id);
                findings.push(Finding::info(
                    codes.truncated,
                    format!("the last chunk {:?} has no pad byte", lossy(&last)),
                ));
            } else if covered < end {
                // The walk accepts one zero byte silently; as a whole file, it is stray.
                findings.push(stray(codes, end - covered));
            }
        }
    }
    Ok(Riff {
        form: header.form,
        chunks: w.chunks,
        end,
        findings,
    })
}

fn stray(codes: Codes, n: usize) -> Finding {
    Finding::warning(
        codes.truncated,
        format!("{n} stray bytes at the end of the RIFF data"),
    )
}

/// A chunk to write: either bytes copied from a file (a chunk's [`Chunk::raw`] or
/// [`Riff::raw`]), or a new id and body.
pub enum Piece<'a> {
    Raw(&'a [u8]),
    New([u8; 4], &'a [u8]),
}

/// Writes a `RIFF` file of form type `form` from pieces, padding odd-sized chunks.
pub fn write(form: &[u8; 4], pieces: &[Piece<'_>]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF\0\0\0\0");
    out.extend_from_slice(form);
    for p in pieces {
        match p {
            Piece::Raw(bytes) => copy_raw(&mut out, bytes),
            Piece::New(id, body) => write_chunk(&mut out, id, body)?,
        }
    }
    fix_riff_size(&mut out)?;
    Ok(out)
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

    const CODES: Codes = Codes {
        format: "test",
        size_mismatch: "t.size",
        truncated: "t.trunc",
        trailing: "t.trail",
    };

    #[test]
    fn round_trips_and_pads() {
        let file = write(
            b"TEST",
            &[Piece::New(*b"abcd", b"xyz"), Piece::New(*b"efgh", b"")],
        )
        .unwrap();
        assert_eq!(file.len(), 12 + 8 + 4 + 8);
        let riff = parse(&file, b"TEST", &Limits::default(), CODES).unwrap();
        assert!(riff.findings.is_empty());
        assert_eq!(riff.chunks.len(), 2);
        assert_eq!(riff.chunks[0].body(&file), b"xyz");
        assert_eq!(riff.raw(&riff.chunks[0], &file).len(), 12);
        let again = write(
            b"TEST",
            &riff
                .chunks
                .iter()
                .map(|c| Piece::Raw(riff.raw(c, &file)))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        assert_eq!(again, file);
    }

    #[test]
    fn damaged_input_is_an_error_not_a_panic() {
        let file = write(b"TEST", &[Piece::New(*b"abcd", b"xyz")]).unwrap();
        for cut in 0..file.len() {
            let _ = parse(&file[..cut], b"TEST", &Limits::default(), CODES);
        }
        let mut big = file.clone();
        big[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            parse(&big, b"TEST", &Limits::default(), CODES),
            Err(Error::Limit(_))
        ));
        let mut long = file.clone();
        long[16] = 9;
        assert!(matches!(
            parse(&long, b"TEST", &Limits::default(), CODES),
            Err(Error::Malformed { .. })
        ));
        assert!(parse(&file, b"WEBP", &Limits::default(), CODES).is_err());
    }

    #[test]
    fn tolerated_deviations_are_findings() {
        let codes = |file: &[u8]| -> Vec<&'static str> {
            parse(file, b"TEST", &Limits::default(), CODES)
                .unwrap()
                .findings
                .iter()
                .map(|f| f.code)
                .collect()
        };
        let file = write(b"TEST", &[Piece::New(*b"abcd", b"xyz")]).unwrap();

        // The last chunk without its pad byte: a finding, and written back padded.
        let unpadded = &file[..file.len() - 1];
        assert_eq!(codes(unpadded), ["t.size", "t.trunc"]);
        let riff = parse(unpadded, b"TEST", &Limits::default(), CODES).unwrap();
        let again = write(b"TEST", &[Piece::Raw(riff.raw(&riff.chunks[0], unpadded))]).unwrap();
        assert_eq!(again, file);

        // Stray bytes after the last chunk, one zero byte included.
        for n in [1, 3] {
            let mut stray = file.clone();
            stray.resize(file.len() + n, 0);
            fix_riff_size(&mut stray).unwrap();
            assert_eq!(codes(&stray), ["t.trunc"], "{n} stray bytes");
        }

        // Bytes after the declared end are trailing data, never a pad byte.
        let mut trailing = unpadded.to_vec();
        fix_riff_size(&mut trailing).unwrap();
        trailing.extend_from_slice(b"junk");
        assert_eq!(codes(&trailing), ["t.size", "t.trail", "t.trunc"]);
        let riff = parse(&trailing, b"TEST", &Limits::default(), CODES).unwrap();
        assert_eq!(riff.raw(&riff.chunks[0], &trailing), &file[12..23]);
    }
}
