//! The JPEG segment walker, written by hand: decoders skip metadata segments and no crate lists
//! segments with their offsets and entropy-coded data so that a file can be written back byte
//! for byte with one APP1 segment added or replaced.
//!
//! A segment is a marker (`FF xx`) with, for most markers, a two-byte length. After `SOS` the
//! entropy-coded data runs to the next marker that is not a restart marker (`FFD0`–`FFD7`) or a
//! stuffed `FF00`; it is kept with its `SOS` segment as the segment's `scan` range.
//!
//! Bytes after `EOI` are kept as the trailer: camera files put further images there (MPF, APP2),
//! and the content binding covers them (see `jpeg`).

use std::ops::Range;

use crate::error::{Error, Result};
use crate::findings::{Finding, Severity};
use crate::limits::Limits;

pub const SOI: u8 = 0xD8;
pub const EOI: u8 = 0xD9;
pub const SOS: u8 = 0xDA;
pub const APP0: u8 = 0xE0;
pub const APP1: u8 = 0xE1;
pub const APP2: u8 = 0xE2;
pub const APP15: u8 = 0xEF;
pub const COM: u8 = 0xFE;

/// One segment as found.
#[derive(Debug, Clone)]
pub struct Segment {
    pub marker: u8,
    /// Offset of the `FF` that starts the marker.
    pub offset: usize,
    /// The payload after the length field (empty for markers without one).
    pub data: Range<usize>,
    /// End of the segment, including the entropy-coded data after an `SOS`.
    pub end: usize,
}

impl Segment {
    pub fn raw<'a>(&self, file: &'a [u8]) -> &'a [u8] {
        &file[self.offset..self.end]
    }
    pub fn body<'a>(&self, file: &'a [u8]) -> &'a [u8] {
        &file[self.data.clone()]
    }
    /// APPn or COM: segments that hold metadata rather than define pixels.
    pub fn is_metadata(&self) -> bool {
        (APP0..=APP15).contains(&self.marker) || self.marker == COM
    }
}

/// The segments of a JPEG file from `SOI` to `EOI`, and the bytes after it.
#[derive(Debug, Clone)]
pub struct Segments {
    pub segments: Vec<Segment>,
    /// Bytes after `EOI` (empty when the walk stopped on damage before it).
    pub trailer: Range<usize>,
    pub findings: Vec<Finding>,
}

impl Segments {
    /// The first `Error` finding: the file is damaged, and a label must not be sealed into it.
    pub fn damage(&self) -> Option<&Finding> {
        self.findings.iter().find(|f| f.severity == Severity::Error)
    }
}

fn has_length(marker: u8) -> bool {
    !matches!(marker, SOI | EOI | 0x01 | 0xD0..=0xD7)
}

/// Lists the segments of a JPEG file.
///
/// Fails only when the input is not JPEG at all or a segment is over the limit. Damage (the file
/// ending before `EOI`, bytes where a marker should be, a length that lies) ends the walk with an
/// `Error` finding and the segments read so far, so a label before the damage is still reported.
pub fn parse(input: &[u8], limits: &Limits) -> Result<Segments> {
    if input.len() < 4 || input[0] != 0xFF || input[1] != SOI {
        return Err(Error::malformed("jpeg", "no SOI marker"));
    }
    let mut findings = Vec::new();
    let mut segments = vec![Segment {
        marker: SOI,
        offset: 0,
        data: 2..2,
        end: 2,
    }];
    let mut pos = 2usize;
    let mut damaged = |code: &'static str, msg: String| findings.push(Finding::error(code, msg));
    let complete = loop {
        // Fill bytes (FF FF …) may precede a marker.
        let Some(&b) = input.get(pos) else {
            damaged("jpeg.no_eoi", "the file ends before EOI".into());
            break false;
        };
        if b != 0xFF {
            damaged(
                "jpeg.bad_marker",
                format!("expected a marker at offset {pos}: the rest of the file is not read"),
            );
            break false;
        }
        let start = pos;
        while input.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = input.get(pos) else {
            damaged("jpeg.no_eoi", "the file ends inside a marker".into());
            break false;
        };
        pos += 1;
        if !has_length(marker) {
            segments.push(Segment {
                marker,
                offset: start,
                data: pos..pos,
                end: pos,
            });
            if marker == EOI {
                break true;
            }
            continue;
        }
        let Some(len) = input.get(pos..pos + 2) else {
            damaged(
                "jpeg.no_eoi",
                "the file ends inside a segment length".into(),
            );
            break false;
        };
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        if len < 2 {
            damaged(
                "jpeg.bad_length",
                format!("segment length {len} at offset {start}"),
            );
            break false;
        }
        if len as u64 > limits.max_chunk_bytes {
            return Err(Error::Limit(format!(
                "JPEG segment of {len} bytes is over the limit"
            )));
        }
        let data = pos + 2..pos + len;
        if data.end > input.len() {
            damaged(
                "jpeg.no_eoi",
                format!("segment FF{marker:02X} at offset {start} runs past the end of the file"),
            );
            break false;
        }
        let mut end = data.end;
        if marker == SOS {
            match scan_end(input, end) {
                Some(e) => end = e,
                None => {
                    segments.push(Segment {
                        marker,
                        offset: start,
                        data,
                        end: input.len(),
                    });
                    pos = input.len();
                    damaged(
                        "jpeg.no_eoi",
                        "the scan data runs to the end of the file without EOI".into(),
                    );
                    break false;
                }
            }
        }
        segments.push(Segment {
            marker,
            offset: start,
            data,
            end,
        });
        pos = end;
    };
    if complete && pos < input.len() {
        findings.push(Finding::info(
            "jpeg.trailing_data",
            format!(
                "{} bytes follow EOI; the seal binds them with the image data",
                input.len() - pos
            ),
        ));
    }
    let trailer = if complete {
        pos..input.len()
    } else {
        input.len()..input.len()
    };
    Ok(Segments {
        segments,
        trailer,
        findings,
    })
}

/// The end of the entropy-coded data that starts at `pos`: the offset of the next real marker;
/// `None` when the file ends first.
fn scan_end(input: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        pos += input
            .get(pos..)
            .and_then(|rest| memchr::memchr(0xFF, rest))?;
        match input.get(pos + 1)? {
            0x00 | 0xD0..=0xD7 => pos += 2,
            0xFF => pos += 1,
            _ => return Some(pos),
        }
    }
}

/// Appends a segment with a length field to `out`; fails when the payload is over 65,533 bytes.
pub fn push_segment(out: &mut Vec<u8>, marker: u8, payload: &[u8]) -> Result<()> {
    let len = u16::try_from(payload.len() + 2).map_err(|_| {
        Error::Limit(format!(
            "a JPEG segment holds at most 65533 bytes, not {}",
            payload.len()
        ))
    })?;
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    Ok(())
}
