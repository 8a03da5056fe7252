//! WAV (RIFF/WAVE; RF64 read-only): the label is a top-level `AIGC` chunk holding the bare JSON.
//!
//! Writing replaces the first `AIGC` chunk in place (dropping duplicates) or appends one after
//! the last chunk, so the `data` chunk never moves; every other chunk (`LIST`, `bext`, `id3 `,
//! `cue `, …) is copied byte for byte, and the RIFF size is fixed up. Labels other tools put in
//! `LIST/INFO` (an `AIGC` sub-chunk, or JSON in `ICMT` as `ffmpeg -metadata comment=` writes it)
//! or in an `id3 ` chunk (`TXXX:AIGC`) are read, reported, and removed when a label is written,
//! so the file ends up with exactly one.
//!
//! A label in an XMP `_PMX` chunk (`TC260:AIGC`) or in a lower-case `aigc` chunk is read too
//! (the latter with a warning) and replaced when a label is written.
//!
//! Content binding: SHA-256 of the `fmt ` chunk body followed by the `data` chunk body (pad
//! byte excluded). Those bytes are the sound; every other chunk is description, which is left
//! out only because decoders provably skip it: a second `fmt ` or `data` (ffmpeg plays the last
//! `data`), a chunk that holds sound some decoder presents (`LIST/wavl`, `slnt`, `SMV0`, `XMA2`),
//! a `data` chunk of size 0 with bytes after it (ffmpeg plays them), sizes that lie, bytes after
//! the RIFF size, a missing or inconsistent RF64 `ds64`: each is an error finding, so the file
//! is never intact. Known description chunks are accepted silently, unknown chunk types with a
//! warning (ffmpeg, sox, libsndfile and browsers skip them by their size).
//! The scan still reports the labels of a damaged file (a truncated or lying `data` chunk, no
//! `data` at all) with an error finding; only a file whose RIFF header is unreadable, or that
//! holds neither sound nor a label, is an error.

use crate::binding::ContentHasher;
use crate::error::{Error, Result};
use crate::findings::Finding;
use crate::format::{
    CarrierKind, ContentEdits, Edited, ExplicitMark, Format, Handler, Scan, ScanOptions,
    WriteOptions,
};
use crate::limits::Limits;

use super::audio::decode::Pcm;
use super::audio::wav_pcm::WavFmt;
use super::audio::{self, SCAN_SECONDS, rhythm};
use super::id3v2;
use super::image::xmp;
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
    /// RF64 deviations found while laying the file out.
    findings: Vec<Finding>,
}

fn layout(input: &[u8], limits: &Limits) -> Result<Layout> {
    let mut findings = Vec::new();
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
        let u64_at = |b: &[u8], at: usize| {
            b.get(at..at + 8)
                .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
        };
        let riff_size = ds64.and_then(|b| u64_at(b, 0));
        let real = ds64.and_then(|b| u64_at(b, 8));
        match riff_size {
            None => findings.push(Finding::error(
                "wav.rf64",
                "an RF64 file without a ds64 chunk first: the sizes of its chunks are unknown",
            )),
            Some(n) if n.checked_add(8) != Some(input.len() as u64) => {
                findings.push(Finding::error(
                    "wav.riff_size",
                    format!(
                        "the ds64 chunk declares a {} byte file, the file has {}",
                        n.saturating_add(8),
                        input.len()
                    ),
                ))
            }
            Some(_) => {}
        }
        if let (Some(real), Some(pos)) = (real, w.chunks.iter().position(|c| &c.id == b"data")) {
            let data = w.chunks[pos];
            let available = input.len().saturating_sub(data.body_start());
            if real > available as u64 {
                findings.push(Finding::error(
                    "wav.truncated",
                    format!(
                        "the ds64 chunk declares {real} bytes of data but only {available} remain"
                    ),
                ));
            }
            let size = usize::try_from(real).unwrap_or(usize::MAX).min(available);
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
        findings,
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
        // The chunks after it are not seen, so nothing proves them inert.
        WalkEnd::OverLimit { .. } => Finding::error("wav.chunk_over_limit", end.describe()),
        _ => Finding::error("wav.truncated", end.describe()),
    }
}

/// What a top-level chunk is to a decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// `fmt ` and `data`: bound.
    Sound,
    /// Sound or pictures some decoder presents that the binding does not cover: a `LIST/wavl`
    /// or `slnt` (the old RIFF way to store samples), ffmpeg's `SMV0` video, an `XMA2` format.
    Renders,
    /// Description no decoder presents as sound.
    Inert,
    /// A chunk type this reader does not know; ffmpeg, sox, libsndfile and browsers skip every
    /// chunk but the ones above by its size.
    Unknown,
}

/// Chunk types known to carry description only (metadata, markers, filler, the label).
const INERT: &[&[u8; 4]] = &[
    b"LIST", b"bext", b"id3 ", b"ID3 ", b"AIGC", b"aigc", b"iXML", b"cue ", b"JUNK", b"junk",
    b"PAD ", b"FLLR", b"fact", b"smpl", b"inst", b"_PMX", b"axml", b"cart", b"acid", b"plst",
    b"DISP", b"PEAK", b"levl", b"umid", b"minf", b"elm1", b"regn", b"ovwf", b"ResU", b"chna",
    b"dbmd", b"afsp", b"SyLp", b"MD5 ", b"labl", b"note", b"ltxt", b"olym", b"ds64",
    // An RFC 3161 timestamp token over the seal (`TSA_CHUNK`).
    b"AITS",
    // A C2PA manifest store, accepted only when well-formed JUMBF (see the scan).
    b"C2PA",
];

fn role(input: &[u8], c: &Chunk) -> Role {
    match &c.id {
        b"fmt " | b"data" => Role::Sound,
        b"SMV0" | b"slnt" | b"XMA2" => Role::Renders,
        b"LIST" if c.body(input).starts_with(b"wavl") => Role::Renders,
        id if INERT.contains(&id) => Role::Inert,
        _ => Role::Unknown,
    }
}

/// The label in an XMP `_PMX` chunk (`TC260:AIGC`), if any.
fn pmx_labels(input: &[u8], c: &Chunk, limits: &Limits) -> Result<Vec<String>> {
    let text = String::from_utf8_lossy(c.body(input));
    let packet = text.trim_end_matches('\0');
    Ok(xmp::find_labels(packet, limits.max_nesting_depth)?
        .into_iter()
        .map(|p| p.value)
        .collect())
}

/// A label chunk that a later edit left behind a `data` chunk whose size lies: the bytes the
/// walk could not reach are searched (their last MiB) for an `AIGC` chunk holding JSON.
fn recover_label(input: &[u8], from: usize) -> Option<(usize, String)> {
    let start = from.max(input.len().saturating_sub(1 << 20));
    let tail = input.get(start..)?;
    tail.windows(9).enumerate().rev().find_map(|(i, w)| {
        if !(w.starts_with(AIGC) || w.starts_with(b"aigc")) || w[8] != b'{' {
            return None;
        }
        let size = u32::from_le_bytes([w[4], w[5], w[6], w[7]]) as usize;
        let body = tail.get(i + 8..(i + 8).checked_add(size)?)?;
        Some((start + i, text_of(body)))
    })
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

/// True when [`rebuild`] copies every chunk of `input` as it is (and, with a `label`, appends
/// the `AIGC` chunk): a well-formed RIFF/WAVE file whose chunks tile it to its end, pad bytes
/// included, none of which is a label chunk or, with a `label`, may hold a label.
fn rebuilds_unchanged(input: &[u8], l: &Layout, limits: &Limits, label: bool) -> bool {
    if &l.header.magic != b"RIFF" || l.walk_end.is_some() || l.riff_end != input.len() {
        return false;
    }
    let mut at = 12;
    l.chunks.iter().all(|c| {
        let kept = c.offset == at
            && c.end() <= input.len()
            && &c.id != AIGC
            && !(label
                && (matches!(&c.id, b"aigc" | b"_PMX")
                    || is_id3(c)
                    || (is_info(input, c) && !info_labels(input, c, limits).0.is_empty())));
        at = c.end();
        kept
    }) && at == input.len()
}

/// Room kept after an edited file for the label written next (so it is written in place).
const LABEL_ROOM: usize = 4096;

/// 16-bit integer PCM with whole 2-byte samples: what is marked where it lies.
fn is_pcm16(f: &WavFmt) -> bool {
    (f.tag, f.bits) == (1, 16) && usize::from(f.block_align) == 2 * usize::from(f.channels)
}

/// `bytes` with the `frames` 16-bit frames at `at` marked, as an edit that says whether the mark
/// holds (and why not when it does not).
fn marked_pcm16(
    mut bytes: Vec<u8>,
    at: usize,
    frames: usize,
    f: &WavFmt,
    key: &crate::watermark::WatermarkKey,
    payload: [u8; 8],
) -> Result<Edited> {
    let pcm = bytes
        .get_mut(at..at + frames * usize::from(f.block_align))
        .ok_or_else(|| Error::malformed("wav", "the data chunk moved"))?;
    let marked = audio::embed_watermark_into(
        audio::Marked::Pcm16le(pcm),
        f.channels,
        f.rate,
        key,
        payload,
    );
    Ok(Edited {
        bytes: Some(bytes),
        format: Format::Wav,
        explicit_record: None,
        watermarked: marked.is_ok(),
        notes: marked
            .err()
            .map(|why| audio::not_embedded(&why))
            .into_iter()
            .collect(),
    })
}

/// Rebuilds the file. With a label: the first `AIGC` (or `aigc`) chunk becomes the new `AIGC`
/// chunk and the others disappear, as do label-bearing INFO sub-chunks, `TXXX:AIGC` frames in
/// `id3 ` chunks and the `TC260:AIGC` property of a `_PMX` XMP packet. `data` may be replaced.
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
    // room for the label that follows an edit, so that writing it in place does not move the file
    let room = aigc.map_or(LABEL_ROOM, <[u8]>::len);
    let mut out = Vec::with_capacity(input.len() + room + 16);
    out.extend_from_slice(&input[..12]);
    let mut placed = false;
    for c in &l.chunks {
        if &c.id == AIGC || (aigc.is_some() && &c.id == b"aigc") {
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
        } else if aigc.is_some() && &c.id == b"_PMX" {
            let text = String::from_utf8_lossy(c.body(input));
            match xmp::strip(text.trim_end_matches('\0'), limits.max_nesting_depth) {
                Ok(Some(packet)) => riff::write_chunk(&mut out, b"_PMX", packet.as_bytes())?,
                _ => riff::copy_chunk(&mut out, input, c),
            }
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
        scan.findings.extend(l.findings.iter().cloned());
        let mut aigc_chunks = 0;
        let (mut fmts, mut datas, mut unknown) = (0, 0, Vec::new());
        for c in &l.chunks {
            match role(input, c) {
                Role::Sound if &c.id == b"fmt " => fmts += 1,
                Role::Sound => datas += 1,
                Role::Renders => scan.findings.push(Finding::error(
                    "wav.unbound_audio",
                    format!(
                        "a '{}' chunk at offset {} holds sound or pictures a decoder may present, outside the bound fmt and data chunks",
                        c.name(),
                        c.offset
                    ),
                )),
                Role::Unknown => unknown.push(c.name()),
                Role::Inert => {}
            }
            if &c.id == AIGC || &c.id == b"aigc" {
                aigc_chunks += 1;
                if &c.id == b"aigc" {
                    scan.findings.push(Finding::warning(
                        "wav.aigc_lowercase",
                        "the label chunk's id is 'aigc' in lower case; the rules name it 'AIGC' (RIFF ids are case-sensitive)",
                    ));
                }
                scan.carriers.push(Carrier {
                    location: format!("RIFF {} chunk", c.name()),
                    value: text_of(c.body(input)),
                    kind: CarrierKind::Metadata,
                });
            } else if &c.id == b"C2PA" {
                crate::c2pa::note_store(&mut scan, "RIFF C2PA chunk", c.body(input));
            } else if &c.id == b"_PMX" {
                match pmx_labels(input, c, limits) {
                    Ok(values) => {
                        for value in values {
                            scan.carriers.push(Carrier {
                                location: "RIFF _PMX XMP TC260:AIGC".into(),
                                value,
                                kind: CarrierKind::Metadata,
                            });
                        }
                    }
                    Err(e) => scan.findings.push(Finding::warning(
                        "wav.xmp_damaged",
                        format!("the _PMX chunk holds no readable XMP: {e}"),
                    )),
                }
            } else if is_info(input, c) {
                for (s, text) in info_labels(input, c, limits).0 {
                    scan.findings.push(Finding::info(
                        "wav.label_in_info",
                        format!("a label is stored in the LIST/INFO '{}' sub-chunk rather than a RIFF AIGC chunk", s.name()),
                    ));
                    scan.carriers.push(Carrier {
                        location: format!("LIST/INFO {}", s.name().trim_end()),
                        value: text,
                        kind: CarrierKind::Metadata,
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
                        kind: CarrierKind::Metadata,
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
        // ffmpeg takes the last `data` chunk it meets (sox the first) and the first `fmt `: a
        // second one of either plays differently from what the binding covers.
        if fmts > 1 || datas > 1 {
            scan.findings.push(Finding::error(
                "wav.duplicate_data",
                format!("{fmts} fmt and {datas} data chunks; decoders disagree on which one plays"),
            ));
        }
        if !unknown.is_empty() {
            scan.findings.push(Finding::warning(
                "wav.unknown_chunk",
                format!(
                    "chunks of unknown type, not bound (decoders skip them): {}",
                    unknown.join(", ")
                ),
            ));
        }
        if let (Some(WalkEnd::TruncatedBody { chunk, .. }), 0) = (&l.walk_end, aigc_chunks)
            && let Some((at, value)) = recover_label(input, chunk.body_start())
        {
            scan.carriers.push(Carrier {
                location: format!("RIFF AIGC chunk at offset {at}, inside a chunk whose size lies"),
                value,
                kind: CarrierKind::Metadata,
            });
        }
        let (Some(fmt), Some(data)) = (l.fmt, l.data) else {
            let missing = if l.fmt.is_none() { "fmt" } else { "data" };
            if scan.carriers.is_empty() {
                return Err(Error::malformed("wav", format!("no {missing} chunk")));
            }
            scan.findings.push(Finding::error(
                "wav.no_audio",
                format!("no {missing} chunk: the file holds no sound to bind"),
            ));
            return Ok(scan);
        };
        // ffmpeg plays everything after a `data` chunk of size 0 as sound.
        if data.size == 0 && data.end() < input.len() {
            scan.findings.push(Finding::error(
                "wav.data_size_zero",
                "the data chunk declares 0 bytes but more follows: ffmpeg plays the rest of the file as sound",
            ));
        }
        let mut h = ContentHasher::new();
        h.update(fmt.body(input));
        h.update(data.body(input));
        scan.digest = Some(h.finish());
        if opts.explicit {
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

    fn write_label_owned(
        &self,
        mut input: Vec<u8>,
        label_json: &str,
        opts: &WriteOptions<'_>,
    ) -> Result<Vec<u8>> {
        let l = layout(&input, opts.limits)?;
        if !rebuilds_unchanged(&input, &l, opts.limits, true) {
            return self.write_label(&input, label_json, opts);
        }
        riff::write_chunk(&mut input, AIGC, label_json.as_bytes())?;
        riff::fix_riff_size(&mut input)?;
        Ok(input)
    }

    fn edit_content_owned(
        &self,
        mut input: Vec<u8>,
        edits: &ContentEdits<'_>,
    ) -> Result<(Edited, Option<Vec<u8>>)> {
        let l = layout(&input, edits.limits)?;
        if let (Some((key, payload)), None) = (edits.watermark, audio::rhythm_request(edits)?)
            && rebuilds_unchanged(&input, &l, edits.limits, false)
        {
            let (f, data) = sample_layout(&input, &l, edits.limits)?;
            if is_pcm16(&f) {
                // what `edit_content` does in its copy, done in `input` (which is that copy)
                riff::fix_riff_size(&mut input)?;
                input.reserve(LABEL_ROOM);
                let frames = data.body(&input).len() / usize::from(f.block_align);
                let at = data.body_start();
                return Ok((marked_pcm16(input, at, frames, &f, key, payload)?, None));
            }
        }
        let edited = self.edit_content(&input, edits)?;
        let back = edited.bytes.is_none().then_some(input);
        Ok((edited, back))
    }

    fn edit_content(&self, input: &[u8], edits: &ContentEdits<'_>) -> Result<Edited> {
        let placement = audio::rhythm_request(edits)?;
        let mut notes = Vec::new();
        let wants_watermark = edits.watermark.is_some();
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
        if let (Some((key, payload)), None) = (edits.watermark, placement)
            && is_pcm16(&f)
        {
            // 16-bit PCM, the mark alone: the file is copied once and its samples are marked
            // where they lie in the copy (no float copy of the audio, no second copy of the file)
            let bytes = rebuild(input, &l, None, None, edits.limits)?;
            let out = layout(&bytes, edits.limits)?;
            let at = out
                .data
                .map(|d| d.body_start())
                .ok_or_else(|| Error::malformed("wav", "no data chunk"))?;
            return marked_pcm16(bytes, at, frames, &f, key, payload);
        }
        let new_body = if let (Some((key, payload)), true) = (edits.watermark, wants_watermark) {
            // Watermarking changes every sample: decode, mark, add the rhythm, encode. The
            // rhythm goes in after the mark so that the mark's noise never touches its tones and
            // gaps (it broke the rhythm's detection for some payloads).
            let mut samples = f.decode(body);
            watermarked =
                match audio::embed_watermark(&mut samples, f.channels, f.rate, key, payload) {
                    Ok(()) => true,
                    Err(why) => {
                        notes.push(audio::not_embedded(&why));
                        false
                    }
                };
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
            if samples.len() * usize::from(f.block_align) / usize::from(f.channels)
                == frames * align
            {
                // same length: the new samples go straight into the rebuilt file's data chunk
                return self.rebuilt_with(input, edits, &f, &samples, record, watermarked, notes);
            }
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
    /// The file with its `data` body replaced by `samples` in layout `f`, of the same length:
    /// the file is copied once and the samples are encoded in place (no second copy of the
    /// audio).
    #[allow(clippy::too_many_arguments)]
    fn rebuilt_with(
        &self,
        input: &[u8],
        edits: &ContentEdits<'_>,
        f: &WavFmt,
        samples: &[f32],
        explicit_record: Option<String>,
        watermarked: bool,
        notes: Vec<Finding>,
    ) -> Result<Edited> {
        let l = layout(input, edits.limits)?;
        let mut bytes = rebuild(input, &l, None, None, edits.limits)?;
        let out = layout(&bytes, edits.limits)?;
        let data = out
            .data
            .ok_or_else(|| Error::malformed("wav", "no data chunk"))?;
        let body = data.body_start()
            ..data.body_start()
                + samples.len() * usize::from(f.block_align) / usize::from(f.channels);
        let dst = bytes
            .get_mut(body)
            .ok_or_else(|| Error::malformed("wav", "the data chunk moved"))?;
        f.encode_into(samples, dst);
        Ok(Edited {
            bytes: Some(bytes),
            format: Format::Wav,
            explicit_record,
            watermarked,
            notes,
        })
    }

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

/// The chunk that carries an RFC 3161 timestamp token (DER) beside the label's `AIGC` chunk:
/// description only (listed in `INERT`), outside the binding.
pub(crate) const TSA_CHUNK: &[u8; 4] = b"AITS";

/// The timestamp token in an `AITS` chunk, if any.
pub(crate) fn tsa_token(input: &[u8], limits: &Limits) -> Result<Option<Vec<u8>>> {
    let l = layout(input, limits)?;
    Ok(l.chunks
        .iter()
        .find(|c| &c.id == TSA_CHUNK)
        .map(|c| c.body(input).to_vec()))
}

/// `input` with its `AITS` chunks replaced by one holding `token` (appended after the last
/// chunk, so `data` never moves), or removed when `token` is `None`.
pub(crate) fn with_tsa_token(
    input: &[u8],
    token: Option<&[u8]>,
    limits: &Limits,
) -> Result<Vec<u8>> {
    let l = layout(input, limits)?;
    if &l.header.magic == b"RF64" {
        return Err(Error::Unsupported(
            "writing into RF64 files is not supported".into(),
        ));
    }
    if let Some(end) = &l.walk_end {
        return Err(Error::malformed("wav", end.describe()));
    }
    let mut out = Vec::with_capacity(input.len() + token.map_or(0, <[u8]>::len) + 16);
    out.extend_from_slice(&input[..12]);
    for c in l.chunks.iter().filter(|c| &c.id != TSA_CHUNK) {
        riff::copy_chunk(&mut out, input, c);
    }
    if let Some(t) = token {
        riff::write_chunk(&mut out, TSA_CHUNK, t)?;
    }
    riff::fix_riff_size(&mut out)?;
    out.extend_from_slice(input.get(l.riff_end..).unwrap_or(&[]));
    Ok(out)
}
