//! Ogg Vorbis and Ogg Opus, read-only: the label is a Vorbis comment `AIGC=<json>` in the
//! comment header packet.
//!
//! Pages are parsed by hand and the first logical stream's packets reassembled (every length
//! checked; page CRCs are not verified, since a label reader should still read a damaged page's
//! neighbours). Writing is not supported: a grown comment header must be re-paged, which moves
//! every following page and changes its sequence number and CRC; that is a remuxer's job.
//!
//! Content binding: SHA-256 over the stream's packets except the comment header, each as its
//! length (u64 little-endian) and bytes: the identification header (rate, channels), the Vorbis
//! setup header (codebooks) and every audio packet. Packets rather than pages, because a tag
//! editor that changes the comment re-pages the stream (new page boundaries, sequence numbers,
//! CRCs) while the packets stay the same.

use crate::binding::ContentHasher;
use crate::error::{Error, Result};
use crate::format::{Carrier, ExplicitMark, Format, Handler, Scan, ScanOptions, WriteOptions};
use crate::limits::Limits;
use crate::report::Finding;

use super::audio;
use super::vorbis_comment::Comments;

/// The Ogg handler.
pub struct Ogg;

pub static OGG: Ogg = Ogg;

/// The first logical stream's packets, in order.
fn packets(input: &[u8], limits: &Limits, findings: &mut Vec<Finding>) -> Result<Vec<Vec<u8>>> {
    let mut pos = 0;
    let mut serial = None;
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    let mut other_streams = false;
    while pos < input.len() {
        let Some(h) = input.get(pos..pos + 27).filter(|h| &h[..4] == b"OggS") else {
            findings.push(Finding::error(
                "ogg.damaged",
                format!("no Ogg page at offset {pos}; the rest is ignored"),
            ));
            break;
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
        pos = body_start + body_len;
        if *serial.get_or_insert(page_serial) != page_serial {
            other_streams = true;
            continue;
        }
        let mut at = 0;
        for &l in lacing {
            current.extend_from_slice(&body[at..at + usize::from(l)]);
            at += usize::from(l);
            if current.len() as u64 > limits.max_chunk_bytes {
                return Err(Error::Limit(
                    "an Ogg packet is larger than the chunk size limit".into(),
                ));
            }
            if l < 255 {
                out.push(std::mem::take(&mut current));
            }
        }
    }
    if other_streams {
        findings.push(Finding::info(
            "ogg.multiple_streams",
            "the file holds more than one logical stream; only the first is read",
        ));
    }
    if out.is_empty() {
        return Err(Error::malformed(
            "ogg",
            "no complete packet in the first logical stream",
        ));
    }
    Ok(out)
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
        let packets = packets(input, opts.limits, &mut scan.findings)?;
        let comment = packets.get(1).and_then(|p| {
            if packets[0].starts_with(b"\x01vorbis") {
                p.strip_prefix(b"\x03vorbis")
            } else if packets[0].starts_with(b"OpusHead") {
                p.strip_prefix(b"OpusTags")
            } else {
                None
            }
        });
        match comment {
            Some(body) => match Comments::parse(body, "ogg", opts.limits) {
                Ok(c) => {
                    let values = c.aigc_values();
                    if values.len() > 1 {
                        scan.findings.push(Finding::warning(
                            "ogg.duplicate_aigc",
                            format!("{} AIGC comments; a file should hold one", values.len()),
                        ));
                    }
                    for (_, v) in values {
                        scan.carriers.push(Carrier {
                            location: "Vorbis comment AIGC".into(),
                            value: v,
                        });
                    }
                }
                Err(e) => scan
                    .findings
                    .push(Finding::warning("ogg.comment_damaged", e.to_string())),
            },
            None => scan.findings.push(Finding::info(
                "ogg.codec_unknown",
                "not Ogg Vorbis or Opus; no comment header read",
            )),
        }
        let mut h = ContentHasher::new();
        for (i, p) in packets.iter().enumerate() {
            if i == 1 && comment.is_some() {
                continue;
            }
            h.update(&(p.len() as u64).to_le_bytes());
            h.update(p);
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
