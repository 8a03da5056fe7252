//! The JPEG segment walker, written by hand: decoders skip metadata segments and no crate lists
//! segments with their offsets and entropy-coded data so that a file can be written back byte
//! for byte with one APP1 segment added or replaced.
//!
//! A segment is a marker (`FF xx`) with, for most markers, a two-byte length. After `SOS` the
//! entropy-coded data runs to the next marker that is not a restart marker (`FFD0`–`FFD7`) or a
//! stuffed `FF00`; it is kept with its `SOS` segment as the segment's `scan` range.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::report::Finding;

pub const SOI: u8 = 0xD8;
pub const EOI: u8 = 0xD9;
pub const SOS: u8 = 0xDA;
pub const APP0: u8 = 0xE0;
pub const APP1: u8 = 0xE1;
pub const APP2: u8 = 0xE2;
pub const APP13: u8 = 0xED;
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
    pub trailer: Range<usize>,
    pub findings: Vec<Finding>,
}

fn has_length(marker: u8) -> bool {
    !matches!(marker, SOI | EOI | 0x01 | 0xD0..=0xD7)
}

/// Lists the segments of a JPEG file.
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
    loop {
        // Fill bytes (FF FF …) may precede a marker.
        let Some(&b) = input.get(pos) else {
            return Err(Error::malformed("jpeg", "the file ends before EOI"));
        };
        if b != 0xFF {
            return Err(Error::malformed(
                "jpeg",
                format!("expected a marker at offset {pos}"),
            ));
        }
        let start = pos;
        while input.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = input.get(pos) else {
            return Err(Error::malformed("jpeg", "the file ends inside a marker"));
        };
        pos += 1;
        if marker == EOI {
            segments.push(Segment {
                marker,
                offset: start,
                data: pos..pos,
                end: pos,
            });
            break;
        }
        if !has_length(marker) {
            segments.push(Segment {
                marker,
                offset: start,
                data: pos..pos,
                end: pos,
            });
            continue;
        }
        let Some(len) = input.get(pos..pos + 2) else {
            return Err(Error::malformed(
                "jpeg",
                "the file ends inside a segment length",
            ));
        };
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        if len < 2 {
            return Err(Error::malformed(
                "jpeg",
                format!("segment length {len} at offset {start}"),
            ));
        }
        if len as u64 > limits.max_chunk_bytes {
            return Err(Error::Limit(format!(
                "JPEG segment of {len} bytes is over the limit"
            )));
        }
        let data = pos + 2..pos + len;
        if data.end > input.len() {
            return Err(Error::malformed(
                "jpeg",
                format!("segment FF{marker:02X} at offset {start} runs past the end of the file"),
            ));
        }
        let mut end = data.end;
        if marker == SOS {
            end = scan_end(input, end)?;
        }
        segments.push(Segment {
            marker,
            offset: start,
            data,
            end,
        });
        pos = end;
    }
    if pos < input.len() {
        findings.push(Finding::info(
            "jpeg.trailing_data",
            format!("{} bytes follow EOI", input.len() - pos),
        ));
    }
    Ok(Segments {
        segments,
        trailer: pos..input.len(),
        findings,
    })
}

/// The end of the entropy-coded data that starts at `pos`: the offset of the next real marker.
fn scan_end(input: &[u8], mut pos: usize) -> Result<usize> {
    loop {
        let Some(i) = input.get(pos..).and_then(|rest| memchr::memchr(0xFF, rest)) else {
            return Err(Error::malformed(
                "jpeg",
                "the scan data runs to the end of the file without EOI",
            ));
        };
        pos += i;
        match input.get(pos + 1) {
            None => {
                return Err(Error::malformed(
                    "jpeg",
                    "the file ends inside the scan data",
                ));
            }
            Some(0x00) | Some(0xD0..=0xD7) => pos += 2,
            Some(0xFF) => pos += 1,
            Some(_) => return Ok(pos),
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
