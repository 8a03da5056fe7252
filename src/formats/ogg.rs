//! Ogg Vorbis and Ogg Opus, read-only: the label is a Vorbis comment `AIGC=<json>` in the
//! comment header packet.
//!
//! Pages are parsed by hand and every logical stream's packets reassembled (every length
//! checked; page CRCs are not verified, since a label reader should still read a damaged page's
//! neighbours). Writing is not supported: a grown comment header must be re-paged, which moves
//! every following page and changes its sequence number and CRC; that is a remuxer's job.
//!
//! Content binding: SHA-256 over the packets of every logical stream, in the order of each
//! stream's first page, except each Vorbis/Opus stream's comment header; each packet as its length
//! (u64 little-endian) and bytes, each stream after the first preceded by `u64::MAX`. So the
//! identification header (rate, channels), the Vorbis setup header (codebooks), every audio
//! packet, and every chained (`cat a.ogg b.ogg`, which players play on) or multiplexed stream
//! are bound; a single-stream file's digest is its stream's, as before. Packets rather than
//! pages, because a tag editor that changes the comment re-pages the stream (new page boundaries,
//! sequence numbers, CRCs) while the packets stay the same. Junk between pages (ffmpeg resyncs
//! on the next `OggS`) and a truncated page are errors.

use crate::binding::ContentHasher;
use crate::error::{Error, Result};
use crate::findings::Finding;
use crate::format::{
    Carrier, CarrierKind, ExplicitMark, Format, Handler, Scan, ScanOptions, WriteOptions,
};
use crate::limits::Limits;

use super::audio;
use super::vorbis_comment::Comments;

/// The Ogg handler.
pub struct Ogg;

pub static OGG: Ogg = Ogg;

/// One logical stream: its packets in order.
struct Stream {
    serial: u32,
    packets: Vec<Vec<u8>>,
    /// A packet still being assembled (continued on the next page).
    current: Vec<u8>,
}

impl Stream {
    /// The comment header packet's body (after its magic), for Vorbis and Opus.
    fn comment(&self) -> Option<&[u8]> {
        let (first, second) = (self.packets.first()?, self.packets.get(1)?);
        if first.starts_with(b"\x01vorbis") {
            second.strip_prefix(b"\x03vorbis")
        } else if first.starts_with(b"OpusHead") {
            second.strip_prefix(b"OpusTags")
        } else {
            None
        }
    }
}

/// Every logical stream in the file, multiplexed or chained, in the order of its first page.
/// A page whose header flag says "beginning of stream" starts a new stream even when its serial
/// number was used before (`cat a.ogg a.ogg`).
fn streams(input: &[u8], limits: &Limits, findings: &mut Vec<Finding>) -> Result<Vec<Stream>> {
    let mut pos = 0;
    let mut streams: Vec<Stream> = Vec::new();
    while pos < input.len() {
        let Some(h) = input
            .get(pos..pos + 27)
            .filter(|h| &h[..4] == b"OggS" && h[4] == 0)
        else {
            // ffmpeg resyncs on the next capture pattern: pages after junk still play.
            let next = input[pos + 1..]
                .windows(4)
                .position(|w| w == b"OggS")
                .map(|i| pos + 1 + i);
            match next {
                Some(at) => {
                    findings.push(Finding::error(
                        "ogg.damaged",
                        format!("{} bytes at offset {pos} are not an Ogg page", at - pos),
                    ));
                    pos = at;
                    continue;
                }
                None => {
                    findings.push(Finding::warning(
                        "ogg.trailing_junk",
                        format!(
                            "{} bytes after the last Ogg page are not a page (decoders ignore them)",
                            input.len() - pos
                        ),
                    ));
                    break;
                }
            }
        };
        let nsegs = usize::from(h[26]);
        let Some(lacing) = input.get(pos + 27..pos + 27 + nsegs) else {
            findings.push(Finding::error(
                "ogg.truncated",
                "the last Ogg page is truncated",
            ));
            break;
        };
        let body_len: usize = lacing.iter().map(|&l| usize::from(l)).sum();
        let body_start = pos + 27 + nsegs;
        let Some(body) = input.get(body_start..body_start + body_len) else {
            findings.push(Finding::error(
                "ogg.truncated",
                "the last Ogg page is truncated",
            ));
            break;
        };
        let page_serial = u32::from_le_bytes([h[14], h[15], h[16], h[17]]);
        let bos = h[5] & 0x02 != 0;
        pos = body_start + body_len;
        let idx = match streams.iter().rposition(|s| s.serial == page_serial) {
            Some(i) if !bos => i,
            _ => {
                streams.push(Stream {
                    serial: page_serial,
                    packets: Vec::new(),
                    current: Vec::new(),
                });
                streams.len() - 1
            }
        };
        let stream = &mut streams[idx];
        let mut at = 0;
        for &l in lacing {
            stream
                .current
                .extend_from_slice(&body[at..at + usize::from(l)]);
            at += usize::from(l);
            if stream.current.len() as u64 > limits.max_chunk_bytes {
                return Err(Error::Limit(
                    "an Ogg packet is larger than the chunk size limit".into(),
                ));
            }
            if l < 255 {
                let packet = std::mem::take(&mut stream.current);
                stream.packets.push(packet);
            }
        }
    }
    for s in &mut streams {
        // A packet left unfinished at the end is bound as it is.
        if !s.current.is_empty() {
            let packet = std::mem::take(&mut s.current);
            s.packets.push(packet);
        }
    }
    if streams.len() > 1 {
        findings.push(Finding::info(
            "ogg.multiple_streams",
            format!(
                "{} logical streams (chained or multiplexed); all of them are bound",
                streams.len()
            ),
        ));
    }
    if streams.first().is_none_or(|s| s.packets.is_empty()) {
        return Err(Error::malformed(
            "ogg",
            "no complete packet in the first logical stream",
        ));
    }
    Ok(streams)
}

impl Handler for Ogg {
    fn format(&self) -> Format {
        Format::Ogg
    }

    fn scan(&self, input: &[u8], opts: &ScanOptions<'_>) -> Result<Scan> {
        if !input.starts_with(b"OggS") {
            return Err(Error::malformed("ogg", "no OggS capture pattern"));
        }
        let mut scan = Scan::default();
        let streams = streams(input, opts.limits, &mut scan.findings)?;
        let mut h = ContentHasher::new();
        for (n, stream) in streams.iter().enumerate() {
            let where_ = if n == 0 {
                String::new()
            } else {
                format!(" (stream {})", n + 1)
            };
            let comment = stream.comment();
            match comment {
                Some(body) => match Comments::parse(body, "ogg", opts.limits) {
                    Ok(c) => {
                        for (_, v) in c.aigc_values() {
                            scan.carriers.push(Carrier {
                                location: format!("Vorbis comment AIGC{where_}"),
                                value: v,
                                kind: CarrierKind::Metadata,
                            });
                        }
                    }
                    Err(e) => scan
                        .findings
                        .push(Finding::warning("ogg.comment_damaged", e.to_string())),
                },
                None => scan.findings.push(Finding::info(
                    "ogg.codec_unknown",
                    format!("stream {}: not Ogg Vorbis or Opus; no comment header read, every packet bound", n + 1),
                )),
            }
            // Streams after the first are set apart by a length no packet can have.
            if n > 0 {
                h.update(&u64::MAX.to_le_bytes());
            }
            for (i, p) in stream.packets.iter().enumerate() {
                if i == 1 && comment.is_some() {
                    continue;
                }
                h.update(&(p.len() as u64).to_le_bytes());
                h.update(p);
            }
        }
        if scan.carriers.len() > 1 {
            scan.findings.push(Finding::warning(
                "ogg.duplicate_aigc",
                format!(
                    "{} AIGC comments; a file should hold one",
                    scan.carriers.len()
                ),
            ));
        }
        scan.digest = Some(h.finish());
        audio::scan_samples(input, Format::Ogg, "ogg.samples_not_read", opts, &mut scan);
        Ok(scan)
    }

    fn write_label(
        &self,
        _input: &[u8],
        _label_json: &str,
        _opts: &WriteOptions<'_>,
    ) -> Result<Vec<u8>> {
        Err(Error::Unsupported(
            "writing labels into Ogg files is not supported; label the audio as WAV or FLAC before encoding it to Ogg".into(),
        ))
    }

    fn check_explicit(&self, input: &[u8], record: &str, limits: &Limits) -> Vec<ExplicitMark> {
        super::mp3::compressed_check(input, "ogg", record, limits)
    }
}
