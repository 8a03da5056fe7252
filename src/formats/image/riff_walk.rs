//! A RIFF chunk walker, written by hand because it is twenty lines and every RIFF format (WebP,
//! WAV) needs the same one: list the top-level chunks of a `RIFF` file with their offsets, and
//! write a file back from raw chunks.
//!
//! Reading checks every length against the input and [`Limits::max_chunk_bytes`] and never
//! panics; deviations that readers tolerate (a RIFF size that disagrees with the file, a missing
//! pad byte at the end, trailing bytes) come back as [`Finding`]s with codes under the caller's
//! area (`webp.…`, `wav.…`). Writing copies each kept chunk's bytes as they were.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::report::Finding;

/// One top-level chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub id: [u8; 4],
    /// Offset of the chunk header (the id) in the file.
    pub offset: usize,
    /// The chunk body, as a range of the file.
    pub data: Range<usize>,
    /// End of the chunk including its pad byte (when present in the file).
    pub end: usize,
}

impl Chunk {
    /// The chunk's bytes as stored: header, body and pad byte.
    pub fn raw<'a>(&self, file: &'a [u8]) -> &'a [u8] {
        &file[self.offset..self.end]
    }

    /// The chunk body.
    pub fn body<'a>(&self, file: &'a [u8]) -> &'a [u8] {
        &file[self.data.clone()]
    }

    /// The id as text, for messages.
    pub fn name(&self) -> String {
        String::from_utf8_lossy(&self.id).into_owned()
    }
}

/// A parsed RIFF file: its form type (`WEBP`, `WAVE`) and its top-level chunks in file order.
#[derive(Debug, Clone)]
pub struct Riff {
    pub form: [u8; 4],
    pub chunks: Vec<Chunk>,
    pub findings: Vec<Finding>,
}

/// Finding codes, chosen by the caller so reports say `webp.riff_size` rather than `riff.…`.
#[derive(Debug, Clone, Copy)]
pub struct Codes {
    pub format: &'static str,
    pub size_mismatch: &'static str,
    pub truncated: &'static str,
    pub trailing: &'static str,
}

/// Walks the chunks of `input`, which must start with `RIFF` and the form type `form`.
pub fn parse(input: &[u8], form: &[u8; 4], limits: &Limits, codes: Codes) -> Result<Riff> {
    if input.len() < 12 || &input[..4] != b"RIFF" || &input[8..12] != form {
        return Err(Error::malformed(
            codes.format,
            "not a RIFF file of this type",
        ));
    }
    let mut findings = Vec::new();
    let declared = u32::from_le_bytes([input[4], input[5], input[6], input[7]]) as u64 + 8;
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
    let mut chunks = Vec::new();
    let mut pos = 12usize;
    while pos < end {
        let Some(header) = input.get(pos..pos + 8).filter(|_| pos + 8 <= end) else {
            findings.push(Finding::warning(
                codes.truncated,
                format!("{} stray bytes at the end of the RIFF data", end - pos),
            ));
            break;
        };
        let id = [header[0], header[1], header[2], header[3]];
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as u64;
        if size > limits.max_chunk_bytes {
            return Err(Error::Limit(format!(
                "RIFF chunk {:?} is {size} bytes, over the {}-byte limit",
                String::from_utf8_lossy(&id),
                limits.max_chunk_bytes
            )));
        }
        let data_start = pos + 8;
        let data_end = data_start as u64 + size;
        if data_end > end as u64 {
            return Err(Error::malformed(
                codes.format,
                format!(
                    "chunk {:?} at offset {pos} runs past the end of the file",
                    String::from_utf8_lossy(&id)
                ),
            ));
        }
        let data_end = data_end as usize;
        let mut chunk_end = data_end;
        if size % 2 == 1 {
            if data_end < end {
                chunk_end += 1;
            } else {
                findings.push(Finding::info(
                    codes.truncated,
                    format!(
                        "the last chunk {:?} has no pad byte",
                        String::from_utf8_lossy(&id)
                    ),
                ));
            }
        }
        chunks.push(Chunk {
            id,
            offset: pos,
            data: data_start..data_end,
            end: chunk_end,
        });
        pos = chunk_end;
    }
    Ok(Riff {
        form: *form,
        chunks,
        findings,
    })
}

/// A chunk to write: either bytes copied from the original file, or a new id and body.
pub enum Piece<'a> {
    Raw(&'a [u8]),
    New([u8; 4], &'a [u8]),
}

/// Writes a RIFF file of form `form` from pieces, padding new odd-sized bodies.
pub fn write(form: &[u8; 4], pieces: &[Piece<'_>]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF\0\0\0\0");
    out.extend_from_slice(form);
    for p in pieces {
        match p {
            Piece::Raw(bytes) => {
                out.extend_from_slice(bytes);
                if bytes.len() % 2 == 1 {
                    out.push(0);
                }
            }
            Piece::New(id, body) => {
                let len = u32::try_from(body.len())
                    .map_err(|_| Error::Limit("RIFF chunk over 4 GiB".into()))?;
                out.extend_from_slice(id);
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(body);
                if body.len() % 2 == 1 {
                    out.push(0);
                }
            }
        }
    }
    let size =
        u32::try_from(out.len() - 8).map_err(|_| Error::Limit("RIFF file over 4 GiB".into()))?;
    out[4..8].copy_from_slice(&size.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(riff.chunks[0].raw(&file).len(), 12);
        let again = write(
            b"TEST",
            &riff
                .chunks
                .iter()
                .map(|c| Piece::Raw(c.raw(&file)))
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
        assert!(parse(&big, b"TEST", &Limits::default(), CODES).is_err());
    }
}
