//! WAV (RIFF/WAVE; RF64 read-only): the label is a top-level `AIGC` chunk holding the bare JSON.
//!
//! Writing replaces the first `AIGC` chunk in place (dropping duplicates) or appends one after
//! the last chunk, so the `data` chunk never moves; every other chunk (`LIST`, `bext`, `id3 `,
//! `cue `, …) is copied byte for byte, and the RIFF size is fixed up. Labels other tools put in
//! `LIST/INFO` (an `AIGC` sub-chunk, or JSON in `ICMT` as `ffmpeg -metadata comment=` writes it)
//! or in an `id3 ` chunk (`TXXX:AIGC`) are read, reported, and removed when a label is written,
//! so the file ends up with exactly one.
//!
//! Content binding: SHA-256 of the `fmt ` chunk body followed by the `data` chunk body (pad
//! byte excluded). Those bytes are the sound; every other chunk is description.

use crate::binding::ContentHasher;
use crate::error::{Error, Result};
use crate::format::{
    ContentEdits, Edited, ExplicitMark, Format, Handler, Scan, ScanOptions, WriteOptions,
};
use crate::limits::Limits;
use crate::report::Finding;

use super::audio::decode::Pcm;
use super::audio::wav_pcm::WavFmt;
use super::audio::{self, SCAN_SECONDS, rhythm};
use super::id3v2;
use super::riff::{self, Chunk, RiffHeader, WalkEnd};
use crate::format::Carrier;

/// The WAV handler.
pub struct Wav;

pub static WAV: Wav = Wav;

const AIGC: &[u8; 4] = b"AIGC";

/// The chunk layout of a WAV file.
struct Layout {
    header: RiffHeader,
    riff_end: usize,
    chunks: Vec<Chunk>,
    walk_end: Option<WalkEnd>,
    fmt: Option<Chunk>,
    data: Option<Chunk>,
}

fn layout(input: &[u8], limits: &Limits) -> Result<Layout> {
    let header = RiffHeader::parse(input, b"WAVE", "wav")?;
    let riff_end = header.declared_end(input.len());
    let mut w = riff::walk(input, 12, riff_end, limits, &[b"data"], true);
    if &header.magic == b"RF64" {
        // ds64 carries the real data size; the data chunk's own size field says 0xFFFFFFFF.
        let ds64 = w
            .chunks
            .first()
            .filter(|c| &c.id == b"ds64")
            .map(|c| c.body(input));
        let real = ds64
            .and_then(|b| b.get(8..16))
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
        if let (Some(real), Some(pos)) = (real, w.chunks.iter().position(|c| &c.id == b"data")) {
            let data = w.chunks[pos];
            let size = usize::try_from(real)
                .unwrap_or(usize::MAX)
                .min(input.len().saturating_sub(data.body_start()));
            let fixed = Chunk { size, ..data };
            let rest = riff::walk(input, fixed.end(), riff_end, limits, &[], false);
            w.chunks.truncate(pos);
            w.chunks.push(fixed);
            w.chunks.extend(rest.chunks);
            w.end = rest.end;
        }
    }
    let fmt = w.chunks.iter().find(|c| &c.id == b"fmt ").copied();
    let data = w.chunks.iter().find(|c| &c.id == b"data").copied();
    Ok(Layout {
        header,
        riff_end,
        chunks: w.chunks,
        walk_end: w.end,
        fmt,
        data,
    })
}

fn text_of(body: &[u8]) -> String {
    let end = body.iter().position(|&b| b == 0).unwrap_or(body.len());
    String::from_utf8_lossy(&body[..end]).into_owned()
}

/// True for a `LIST` chunk of form `INFO`.
fn is_info(input: &[u8], c: &Chunk) -> bool {
    &c.id == b"LIST" && c.body(input).starts_with(b"INFO")
}

fn is_id3(c: &Chunk) -> bool {
    &c.id == b"id3 " || &c.id == b"ID3 "
}

/// The INFO sub-chunks of a `LIST/INFO` chunk that hold a label.
fn info_labels(input: &[u8], list: &Chunk, limits: &Limits) -> (Vec<(Chunk, String)>, Vec<Chunk>) {
    let w = riff::walk(
        input,
        list.body_start() + 4,
        list.body_end(),
        limits,
        &[],
        false,
    );
    let labels = w
        .chunks
        .iter()
        .filter_map(|s| {
            let text = text_of(s.body(input));
            (&s.id == AIGC || audio::looks_like_label(&text)).then_some((*s, text))
        })
        .collect();
    (labels, w.chunks)
}

/// The ID3v2 tag inside an `id3 ` chunk, if it parses.
fn id3_tag(
    input: &[u8],
    c: &Chunk,
    limits: &Limits,
    findings: &mut Vec<Finding>,
) -> Option<id3v2::Tag> {
    match id3v2::parse(c.body(input), 0, limits, findings) {
        Ok(t) => Some(t),
        Err(e) => {
            findings.push(Finding::warning(
                "wav.id3_damaged",
                format!("the '{}' chunk holds no readable ID3v2 tag: {e}", c.name()),
            ));
            None
        }
    }
}

fn walk_finding(end: &WalkEnd) -> Finding {
    match end {
        WalkEnd::OverLimit { .. } => Finding::warning("wav.chunk_over_limit", end.describe()),
        _ => Finding::error("wav.truncated", end.describe()),
    }
}

/// Samples from the first and last seconds of the data chunk.
fn windows(input: &[u8], fmt: &WavFmt, data: &Chunk) -> Vec<Pcm> {
    let body = data.body(input);
    let align = usize::from(fmt.block_align.max(1));
    let frames = body.len() / align;
    let per = (SCAN_SECONDS * f64::from(fmt.rate)) as usize;
    let pcm = |from: usize, to: usize| Pcm {
        samples: fmt.decode(&body[from * align..to * align]),
        rate: fmt.rate,
        channels: fmt.channels,
        start: from as f64 / f64::from(fmt.rate),
        source_bits: Some(u32::from(fmt.bits)),
    };
    if frames <= 2 * per {
        return vec![pcm(0, frames)];
    }
    vec![pcm(0, per), pcm(frames - per, frames)]
}

fn sample_layout(input: &[u8], l: &Layout, limits: &Limits) -> Result<(WavFmt, Chunk)> {
    let fmt = l
        .fmt
        .ok_or_else(|| Error::malformed("wav", "no fmt chunk"))?;
    let data = l
        .data
        .ok_or_else(|| Error::malformed("wav", "no data chunk"))?;
    let f = WavFmt::parse(fmt.body(input))?;
    f.check()?;
    let secs = data.size as f64 / f64::from(f.block_align.max(1)) / f64::from(f.rate.max(1));
    if secs > limits.max_audio_seconds {
        return Err(Error::Limit(format!(
            "the audio is {secs:.0} s, over the {} s limit",
            limits.max_audio_seconds
        )));
    }
    Ok((f, data))
}

/// Rebuilds the file: `AIGC` chunks become `aigc` (first) or disappear, label-bearing INFO
/// sub-chunks and `TXXX:AIGC` frames in `id3 ` chunks are removed, `data` may be replaced.
fn rebuild(
    input: &[u8],
    l: &Layout,
    aigc: Option<&[u8]>,
    new_data: Option<(&[u8], u32)>,
    limits: &Limits,
) -> Result<Vec<u8>> {
    if &l.header.magic == b"RF64" {
        return Err(Error::Unsupported(
            "writing into RF64 files is not supported".into(),
        ));
    }
    if let Some(end) = &l.walk_end {
        return Err(Error::malformed(
            "wav",
            format!("{}; repair the file before labeling it", end.describe()),
        ));
    }
    let mut out = Vec::with_capacity(input.len() + aigc.map_or(0, <[u8]>::len) + 16);
    out.extend_from_slice(&input[..12]);
    let mut placed = false;
    for c in &l.chunks {
        if &c.id == AIGC {
            if let (false, Some(json)) = (placed, aigc) {
                riff::write_chunk(&mut out, AIGC, json)?;
                placed = true;
            }
        } else if &c.id == b"data" && new_data.is_some() {
            riff::write_chunk(&mut out, b"data", new_data.map_or(&[][..], |d| d.0))?;
        } else if &c.id == b"fact" && new_data.is_some() && c.size >= 4 {
            let mut body = c.body(input).to_vec();
            body[..4].copy_from_slice(&new_data.map_or(0, |d| d.1).to_le_bytes());
            riff::write_chunk(&mut out, b"fact", &body)?;
        } else if aigc.is_some() && is_info(input, c) {
            let (labels, subs) = info_labels(input, c, limits);
            if labels.is_empty() {
                riff::copy_chunk(&mut out, input, c);
                continue;
            }
            let mut body = b"INFO".to_vec();
            for s in subs.iter().filter(|s| !labels.iter().any(|(l, _)| l == *s)) {
                riff::copy_chunk(&mut body, input, s);
            }
            if body.len() > 4 {
                riff::write_chunk(&mut out, b"LIST", &body)?;
            }
        } else if aigc.is_some() && is_id3(c) {
            let mut ignored = Vec::new();
            match id3_tag(input, c, limits, &mut ignored) {
                Some(tag) if tag.frames.iter().any(id3v2::Frame::holds_label) => {
                    let mut body = id3v2::rewrite(&tag, None)?;
                    body.extend_from_slice(c.body(input).get(tag.len..).unwrap_or(&[]));
                    riff::write_chunk(&mut out, &c.id, &body)?;
                }
                _ => riff::copy_chunk(&mut out, input, c),
            }
        } else {
            riff::copy_chunk(&mut out, input, c);
        }
    }
    if let (false, Some(json)) = (placed, aigc) {
        riff::write_chunk(&mut out, AIGC, json)?;
    }
    riff::fix_riff_size(&mut out)?;
    out.extend_from_slice(input.get(l.riff_end..).unwrap_or(&[]));
    Ok(out)
}

impl Handler for Wav {
    fn format(&self) -> Format {
        Format::Wav
    }

    fn scan(&self, input: &[u8], opts: &ScanOptions<'_>) -> Result<Scan> {
        let limits = opts.limits;
        let l = layout(input, limits)?;
        let mut scan = Scan::default();
        if let Some(end) = &l.walk_end {
            scan.findings.push(walk_finding(end));
        }
        if &l.header.magic == b"RIFF" && l.header.declared_end(usize::MAX) != input.len() {
            scan.findings.push(Finding::error(
                "wav.riff_size",
                format!(
                    "the RIFF header declares {} bytes, the file has {}",
                    u64::from(l.header.declared_size) + 8,
                    input.len()
                ),
            ));
        }
        let mut aigc_chunks = 0;
        for c in &l.chunks {
            if &c.id == AIGC {
                aigc_chunks += 1;
                scan.carriers.push(Carrier {
                    location: "RIFF AIGC chunk".into(),
                    value: text_of(c.body(input)),
                });
            } else if is_info(input, c) {
                for (s, text) in info_labels(input, c, limits).0 {
                    scan.findings.push(Finding::info(
                        "wav.label_in_info",
                        format!("a label is stored in the LIST/INFO '{}' sub-chunk rather than a RIFF AIGC chunk", s.name()),
                    ));
                    scan.carriers.push(Carrier {
                        location: format!("LIST/INFO {}", s.name().trim_end()),
                        value: text,
                    });
                }
            } else if is_id3(c)
                && let Some(tag) = id3_tag(input, c, limits, &mut scan.findings)
            {
                for f in &tag.frames {
                    let (frame, text) = if f.is_aigc() {
                        ("TXXX:AIGC".to_string(), f.txxx().map(|t| t.value))
                    } else {
                        match f.label_elsewhere() {
                            Some(t) => (format!("{}:{}", f.id, t.description), Some(t.value)),
                            None => continue,
                        }
                    };
                    let Some(text) = text else { continue };
                    scan.findings.push(Finding::info(
                        "wav.label_in_id3",
                        format!(
                            "a label is stored in the '{}' chunk (ID3v2 {frame}) rather than a RIFF AIGC chunk",
                            c.name()
                        ),
                    ));
                    scan.carriers.push(Carrier {
                        location: format!("{} chunk {frame}", c.name().trim_end()),
                        value: text,
                    });
                }
            }
        }
        if aigc_chunks > 1 {
            scan.findings.push(Finding::warning(
                "wav.duplicate_aigc",
                format!("{aigc_chunks} RIFF AIGC chunks; a file should hold one"),
            ));
        }
        let fmt = l
            .fmt
            .ok_or_else(|| Error::malformed("wav", "no fmt chunk"))?;
        let data = l
            .data
            .ok_or_else(|| Error::malformed("wav", "no data chunk"))?;
        let mut h = ContentHasher::new();
        h.update(fmt.body(input));
        h.update(data.body(input));
        scan.digest = Some(h.finish());
        match sample_layout(input, &l, limits) {
            Ok((f, data)) => {
                let w = windows(input, &f, &data);
                scan.explicit = audio::explicit_marks(&w.iter().collect::<Vec<_>>());
            }
            Err(e) => scan.findings.push(Finding::info(
                "wav.samples_not_read",
                format!("the audible label was not looked for: {e}"),
            )),
        }
        scan.watermark = audio::look_for_watermark(input, Format::Wav, opts);
        Ok(scan)
    }

    fn write_label(
        &self,
        input: &[u8],
        label_json: &str,
        opts: &WriteOptions<'_>,
    ) -> Result<Vec<u8>> {
        let l = layout(input, opts.limits)?;
        if l.fmt.is_none() || l.data.is_none() {
            return Err(Error::malformed("wav", "no fmt or data chunk"));
        }
        rebuild(input, &l, Some(label_json.as_bytes()), None, opts.limits)
    }

    fn edit_content(&self, input: &[u8], edits: &ContentEdits<'_>) -> Result<Edited> {
        let placement = audio::rhythm_request(edits)?;
        let mut notes = Vec::new();
        let wants_watermark = audio::WATERMARK_AVAILABLE && edits.watermark.is_some();
        if edits.watermark.is_some() && !wants_watermark {
            notes.push(Finding::info(
                "audio.watermark_unavailable",
                "the audio watermark is not available yet; none was embedded",
            ));
        }
        if placement.is_none() && !wants_watermark {
            return Ok(Edited {
                bytes: None,
                format: Format::Wav,
                explicit_record: None,
                watermarked: false,
                notes,
            });
        }
        let l = layout(input, edits.limits)?;
        let (f, data) = sample_layout(input, &l, edits.limits)?;
        let body = data.body(input);
        let align = usize::from(f.block_align);
        let frames = body.len() / align;
        let mut record = None;
        let mut watermarked = false;
        let new_body = if let (Some((key, payload)), true) = (edits.watermark, wants_watermark) {
            // Watermarking changes every sample: decode, add the rhythm, mark, encode.
            let mut samples = f.decode(body);
            if let Some(p) = placement {
                let placed = rhythm::insert(
                    &mut samples,
                    f.rate,
                    f.channels,
                    p,
                    &rhythm::RhythmSpec::default(),
                )?;
                record = Some(rhythm::record(p, &placed));
            }
            watermarked = audio::watermark_hook(&mut samples, f.channels, f.rate, key, payload);
            f.encode(&samples)
        } else {
            // The rhythm alone: encode only the new samples and keep the original bytes as they are.
            let p = placement.unwrap_or(crate::format::Placement::Start);
            let (before, after, placed) = rhythm::blocks(
                f.rate,
                f.channels,
                frames,
                p,
                &rhythm::RhythmSpec::default(),
            )?;
            record = Some(rhythm::record(p, &placed));
            let mut b = f.encode(&before);
            b.extend_from_slice(&body[..frames * align]);
            b.extend_from_slice(&f.encode(&after));
            b
        };
        let total_frames = u32::try_from(new_body.len() / align).unwrap_or(u32::MAX);
        let bytes = rebuild(
            input,
            &l,
            None,
            Some((&new_body, total_frames)),
            edits.limits,
        )?;
        Ok(Edited {
            bytes: Some(bytes),
            format: Format::Wav,
            explicit_record: record,
            watermarked,
            notes,
        })
    }

    fn check_explicit(&self, input: &[u8], record: &str, limits: &Limits) -> Vec<ExplicitMark> {
        self.recorded_marks(input, record, limits)
            .unwrap_or_default()
    }
}

impl Wav {
    fn recorded_marks(
        &self,
        input: &[u8],
        record: &str,
        limits: &Limits,
    ) -> Option<Vec<ExplicitMark>> {
        let ranges = rhythm::parse_record(record)?;
        let l = layout(input, limits).ok()?;
        let (f, data) = sample_layout(input, &l, limits).ok()?;
        let body = data.body(input);
        let align = usize::from(f.block_align);
        let frames = body.len() / align;
        // The windows scan looks at (so the marks agree), plus one around any range outside them.
        let mut wins = windows(input, &f, &data);
        for &(a, b) in &ranges {
            if wins
                .iter()
                .any(|w| w.start <= a && w.start + w.seconds() >= b)
            {
                continue;
            }
            let from = (((a - 1.0).max(0.0)) * f64::from(f.rate)) as usize;
            let to = (((b + 1.0) * f64::from(f.rate)) as usize).min(frames);
            let from = from.min(to);
            wins.push(Pcm {
                samples: f.decode(&body[from * align..to * align]),
                rate: f.rate,
                channels: f.channels,
                start: from as f64 / f64::from(f.rate),
                source_bits: None,
            });
        }
        Some(audio::check_recorded(
            record,
            &wins.iter().collect::<Vec<_>>(),
        ))
    }
}
