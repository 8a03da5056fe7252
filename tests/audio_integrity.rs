//! The audio bindings cover everything a player plays. Each attack is built from a genuinely
//! labeled file; ffmpeg shows that it really plays differently, and verification must not call
//! it intact. Each benign edit (a well-formed tag, an unknown chunk) plays the same and stays
//! intact. Property tests insert random bytes anywhere: a file still called intact must decode
//! to the same samples.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use aigcmark::formats::audio::decode;
use aigcmark::label::{LabelKind, LabelRecord};
use aigcmark::seal::{Claims, seal_provider};
use aigcmark::{Format, Limits, Report, Verdict, VerifyOptions};
use common::{PRODUCER, corpus_file, demo_keys, ffmpeg_s16le, metadata_only, run, tool};
use proptest::prelude::*;

fn vopts(seed: u8) -> VerifyOptions {
    let (_, trust) = demo_keys(seed, PRODUCER);
    let mut v = VerifyOptions::new(trust);
    v.watermark_key = None;
    v
}

fn verify(bytes: &[u8], format: Format) -> Report {
    aigcmark::verify(bytes, format, &vopts(40))
}

fn label(bytes: &[u8], format: Format) -> Vec<u8> {
    let (signer, _) = demo_keys(40, PRODUCER);
    aigcmark::label(bytes, format, &signer, &metadata_only())
        .unwrap()
        .bytes
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn ext(format: Format) -> &'static str {
    match format {
        Format::Mp3 => "mp3",
        Format::Wav => "wav",
        Format::Flac => "flac",
        _ => "ogg",
    }
}

/// The attack plays differently from the labeled file (ffmpeg) and is not intact.
fn assert_caught(labeled: &[u8], attack: &[u8], format: Format, what: &str) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let e = ext(format);
    let a = ffmpeg_s16le(&write(dir.path(), &format!("a.{e}"), labeled));
    let b = ffmpeg_s16le(&write(dir.path(), &format!("b.{e}"), attack));
    assert_ne!(a, b, "{what}: the attack should play differently");
    let r = verify(attack, format);
    assert_ne!(r.verdict, Verdict::LabeledIntact, "{what}: {r:?}");
    r
}

/// The edit plays the same (ffmpeg) and stays intact.
fn assert_benign(labeled: &[u8], edited: &[u8], format: Format, what: &str) {
    let dir = tempfile::tempdir().unwrap();
    let e = ext(format);
    let a = ffmpeg_s16le(&write(dir.path(), &format!("a.{e}"), labeled));
    let b = ffmpeg_s16le(&write(dir.path(), &format!("b.{e}"), edited));
    assert_eq!(a, b, "{what}: should play the same");
    let r = verify(edited, format);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{what}: {r:?}");
}

// ---- MP3 -------------------------------------------------------------------------------------

fn lame(wav: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.mp3");
    run(Command::new(tool("lame", "lame"))
        .args(["--quiet", "-b", "32"])
        .arg(corpus_file(wav))
        .arg(&out));
    std::fs::read(out).unwrap()
}

/// A labeled MP3 (about 3 s) and the frames of another one, to smuggle in.
fn mp3s() -> &'static (Vec<u8>, Vec<u8>) {
    static F: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    F.get_or_init(|| {
        let labeled = label(&lame("audio/asterisk/vm-intro.wav"), Format::Mp3);
        let other = lame("audio/asterisk/agent-pass.wav");
        let at = other.windows(2).position(|w| w == [0xFF, 0xE3]).unwrap();
        (labeled, other[at..].to_vec())
    })
}

fn syncsafe(n: usize) -> [u8; 4] {
    [
        (n >> 21) as u8 & 127,
        (n >> 14) as u8 & 127,
        (n >> 7) as u8 & 127,
        n as u8 & 127,
    ]
}

fn id3_frame(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    [&id[..], &syncsafe(body.len()), &[0, 0], body].concat()
}

/// An ID3v2.4 tag around `body`, with a `3DI` footer when `footer`.
fn id3_tag(body: &[u8], footer: bool) -> Vec<u8> {
    let flags = if footer { 0x10 } else { 0 };
    let mut t = [&b"ID3\x04\x00"[..], &[flags], &syncsafe(body.len()), body].concat();
    if footer {
        t.extend_from_slice(&[&b"3DI\x04\x00"[..], &[flags], &syncsafe(body.len())].concat());
    }
    t
}

/// An APE v2 tag footer, with `items` before it and a header when `header`.
fn ape_tag(items: &[u8], count: u32, header: bool) -> Vec<u8> {
    let part = |flags: u32| {
        [
            &b"APETAGEX"[..],
            &2000u32.to_le_bytes(),
            &(items.len() as u32 + 32).to_le_bytes(),
            &count.to_le_bytes(),
            &flags.to_le_bytes(),
            &[0; 8],
        ]
        .concat()
    };
    let flags = if header { 1 << 31 } else { 0 };
    let mut t = if header {
        part(flags | 1 << 29)
    } else {
        Vec::new()
    };
    t.extend_from_slice(items);
    t.extend_from_slice(&part(flags));
    t
}

fn first_frame(b: &[u8]) -> usize {
    let tag = 10
        + b[6..10]
            .iter()
            .fold(0usize, |a, &x| (a << 7) | usize::from(x));
    tag + b[tag..].iter().position(|&x| x == 0xFF).unwrap()
}

#[test]
fn mp3_audio_hidden_in_tags_or_before_the_first_frame_is_caught() {
    let (labeled, extra) = mp3s();
    assert_eq!(verify(labeled, Format::Mp3).verdict, Verdict::LabeledIntact);
    let cat = |parts: &[&[u8]]| parts.concat();

    // Frames inside an appended ID3v2.4 tag: as raw bytes, and wrapped in a valid PRIV frame.
    let raw = cat(&[labeled, &id3_tag(extra, true)]);
    assert_caught(labeled, &raw, Format::Mp3, "frames in an appended tag");
    let priv_frame = id3_frame(b"PRIV", &cat(&[b"x\0", extra]));
    let wrapped = cat(&[labeled, &id3_tag(&priv_frame, true)]);
    let r = assert_caught(labeled, &wrapped, Format::Mp3, "frames in a PRIV frame");
    assert!(r.has_finding("mp3.tag_bound"), "{r:?}");

    // A bare APE footer whose size covers frames.
    let ape = cat(&[labeled, extra, &ape_tag(&[], 0, false)[..]]);
    let ape = {
        // The footer's size claims the frames as its items.
        let mut a = ape;
        let n = a.len();
        a[n - 20..n - 16].copy_from_slice(&(extra.len() as u32 + 32).to_le_bytes());
        a
    };
    assert_caught(
        labeled,
        &ape,
        Format::Mp3,
        "frames behind a bare APE footer",
    );

    // Frames after the tag, before the first frame, separated by junk.
    let at = first_frame(labeled);
    let prepended = cat(&[&labeled[..at], extra, &[0x55; 40], &labeled[at..]]);
    assert_caught(
        labeled,
        &prepended,
        Format::Mp3,
        "frames before the first frame",
    );

    // Junk between the tag and the Xing/Info frame: ffmpeg then plays that frame and trims
    // no encoder delay.
    let junk = cat(&[&labeled[..at], &[0; 7], &labeled[at..]]);
    assert_caught(labeled, &junk, Format::Mp3, "junk before the Info frame");

    // The LAME tag's encoder delay and padding in the (unbound) Info frame: decoders trim by them.
    let lame_at = labeled.windows(4).position(|w| w == b"LAME").unwrap();
    let mut trimmed = labeled.clone();
    trimmed[lame_at + 21..lame_at + 24].copy_from_slice(&[0, 0, 0xFF]);
    assert_caught(
        labeled,
        &trimmed,
        Format::Mp3,
        "other encoder delay and padding",
    );

    // An ID3v2 tag with frames in it, in the middle of the audio.
    let mid = labeled.len() / 2;
    let middle = cat(&[
        &labeled[..mid],
        &id3_tag(&priv_frame, false),
        &labeled[mid..],
    ]);
    assert_caught(labeled, &middle, Format::Mp3, "a tag in the middle");

    // Frames in the leading tag after its frames (decoders skip the tag by its size, but the
    // tag is not accounted for): an error.
    let frames_end = 10 + labeled[10..at].iter().rposition(|&b| b != 0).unwrap() + 1;
    let body = cat(&[&labeled[10..frames_end], &[0; 16], &extra[..1200], &[0; 64]]);
    let hidden = cat(&[&id3_tag(&body, false), &labeled[at..]]);
    let r = verify(&hidden, Format::Mp3);
    assert!(r.has_finding("mp3.unbound_audio"), "{r:?}");
    assert_ne!(r.verdict, Verdict::LabeledIntact);
}

#[test]
fn mp3_well_formed_trailing_tags_stay_intact() {
    let (labeled, _) = mp3s();
    let text = id3_frame(b"TIT2", b"\x03title");
    let tag = id3_tag(&[&text[..], &[0; 64]].concat(), true);
    assert_benign(
        labeled,
        &[labeled, &tag[..]].concat(),
        Format::Mp3,
        "appended ID3v2",
    );
    let mut v1 = b"TAG".to_vec();
    v1.extend_from_slice(b"A title");
    v1.resize(128, 0);
    assert_benign(labeled, &[labeled, &v1[..]].concat(), Format::Mp3, "ID3v1");
    let item = [&5u32.to_le_bytes()[..], &[0; 4], b"Title\0", b"hello"].concat();
    let ape = ape_tag(&item, 1, true);
    let with_ape = [labeled, &ape[..], &v1[..]].concat();
    assert_benign(labeled, &with_ape, Format::Mp3, "APE and ID3v1");
    // An APE tag whose item hides frames is bound: not intact.
    let (_, extra) = mp3s();
    let item = [
        &(extra.len() as u32).to_le_bytes()[..],
        &[0; 4],
        b"Cover\0",
        extra,
    ]
    .concat();
    let r = verify(
        &[labeled, &ape_tag(&item, 1, true)[..]].concat(),
        Format::Mp3,
    );
    assert!(r.has_finding("mp3.tag_bound"), "{r:?}");
    assert_ne!(r.verdict, Verdict::LabeledIntact);
}

// ---- WAV -------------------------------------------------------------------------------------

fn wav_labeled() -> &'static Vec<u8> {
    static F: OnceLock<Vec<u8>> = OnceLock::new();
    F.get_or_init(|| {
        label(
            &std::fs::read(corpus_file("audio/asterisk/vm-intro.wav")).unwrap(),
            Format::Wav,
        )
    })
}

fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut c = [&id[..], &(body.len() as u32).to_le_bytes(), body].concat();
    if body.len() % 2 == 1 {
        c.push(0);
    }
    c
}

fn fix_riff(mut b: Vec<u8>) -> Vec<u8> {
    let n = (b.len() - 8) as u32;
    b[4..8].copy_from_slice(&n.to_le_bytes());
    b
}

/// Offset of the first chunk with this id.
fn find_chunk(b: &[u8], id: &[u8; 4]) -> usize {
    let mut pos = 12;
    while &b[pos..pos + 4] != id {
        let size = u32::from_le_bytes(b[pos + 4..pos + 8].try_into().unwrap()) as usize;
        pos += 8 + size + (size & 1);
    }
    pos
}

fn chunk_ids(b: &[u8]) -> Vec<[u8; 4]> {
    let mut ids = Vec::new();
    let mut pos = 12;
    while pos + 8 <= b.len() {
        ids.push(b[pos..pos + 4].try_into().unwrap());
        let size = u32::from_le_bytes(b[pos + 4..pos + 8].try_into().unwrap()) as usize;
        pos += 8 + size + (size & 1);
    }
    ids
}

fn other_sound() -> Vec<u8> {
    let w = std::fs::read(corpus_file("audio/asterisk/agent-pass.wav")).unwrap();
    let d = find_chunk(&w, b"data");
    let size = u32::from_le_bytes(w[d + 4..d + 8].try_into().unwrap()) as usize;
    w[d + 8..d + 8 + size].to_vec()
}

#[test]
fn wav_sound_outside_the_bound_chunks_is_caught() {
    let labeled = wav_labeled();
    let sound = other_sound();
    // A second data chunk after the label: ffmpeg plays it instead of the first.
    let second = fix_riff([&labeled[..], &chunk(b"data", &sound)].concat());
    let r = assert_caught(labeled, &second, Format::Wav, "a second data chunk");
    assert!(r.has_finding("wav.duplicate_data"), "{r:?}");
    // The same after the end the RIFF size declares.
    let trailing = [&labeled[..], &chunk(b"data", &sound)].concat();
    let r = assert_caught(
        labeled,
        &trailing,
        Format::Wav,
        "a data chunk past the RIFF end",
    );
    assert!(r.has_finding("wav.riff_size"), "{r:?}");
    // A data chunk of size 0: ffmpeg plays the rest of the file.
    let d = find_chunk(labeled, b"data");
    let size = u32::from_le_bytes(labeled[d + 4..d + 8].try_into().unwrap()) as usize;
    let zero = fix_riff(
        [
            &labeled[..d],
            &chunk(b"data", &[]),
            &chunk(b"JUNK", &labeled[d + 8..d + 8 + size]),
            &labeled[d + 8 + size..],
        ]
        .concat(),
    );
    let r = assert_caught(labeled, &zero, Format::Wav, "an empty data chunk");
    assert!(r.has_finding("wav.data_size_zero"), "{r:?}");
    // Chunks that hold sound or pictures for some decoder: errors.
    for id in [b"SMV0", b"slnt"] {
        let r = verify(
            &fix_riff([&labeled[..], &chunk(id, &sound[..64])].concat()),
            Format::Wav,
        );
        assert!(r.has_finding("wav.unbound_audio"), "{r:?}");
        assert_ne!(r.verdict, Verdict::LabeledIntact);
    }
    let wavl = [&b"wavl"[..], &chunk(b"data", &sound)].concat();
    let r = verify(
        &fix_riff([&labeled[..], &chunk(b"LIST", &wavl)].concat()),
        Format::Wav,
    );
    assert!(r.has_finding("wav.unbound_audio"), "{r:?}");
}

#[test]
fn wav_description_chunks_stay_intact() {
    let labeled = wav_labeled();
    let edited = fix_riff(
        [
            &labeled[..],
            &chunk(b"JUNK", &[0x5A; 33]),
            &chunk(b"zzzz", b"unknown to every decoder"),
            &chunk(b"LIST", b"INFOIART\x02\0\0\0x\0"),
        ]
        .concat(),
    );
    assert_benign(labeled, &edited, Format::Wav, "description chunks");
    let r = verify(&edited, Format::Wav);
    assert!(r.has_finding("wav.unknown_chunk"), "{r:?}");
}

/// The labeled WAV with its `AIGC` chunk replaced by `id` holding `body(json)`.
fn move_label(labeled: &[u8], id: &[u8; 4], body: impl Fn(&str) -> Vec<u8>) -> Vec<u8> {
    let at = find_chunk(labeled, b"AIGC");
    let size = u32::from_le_bytes(labeled[at + 4..at + 8].try_into().unwrap()) as usize;
    let json = std::str::from_utf8(&labeled[at + 8..at + 8 + size]).unwrap();
    let end = at + 8 + size + (size & 1);
    fix_riff([&labeled[..at], &chunk(id, &body(json)), &labeled[end..]].concat())
}

#[test]
fn wav_labels_in_xmp_and_lowercase_chunks_are_read_and_replaced() {
    let labeled = wav_labeled();
    let pmx = move_label(labeled, b"_PMX", |json| {
        aigcmark::formats::image::xmp::new_packet(json).into_bytes()
    });
    let r = verify(&pmx, Format::Wav);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{r:?}");
    let lower = move_label(labeled, b"aigc", |json| json.as_bytes().to_vec());
    let r = verify(&lower, Format::Wav);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{r:?}");
    assert!(r.has_finding("wav.aigc_lowercase"), "{r:?}");

    // Relabeling either leaves exactly one label, in an AIGC chunk.
    let (signer, _) = demo_keys(40, PRODUCER);
    let mut o = metadata_only();
    o.replace = true;
    for file in [&pmx, &lower] {
        let again = aigcmark::label(file, Format::Wav, &signer, &o)
            .unwrap()
            .bytes;
        let r = verify(&again, Format::Wav);
        assert_eq!(r.verdict, Verdict::LabeledIntact, "{r:?}");
        assert!(!r.has_finding("label.duplicate"), "{r:?}");
        assert_eq!(
            chunk_ids(&again).iter().filter(|id| id == &b"AIGC").count(),
            1
        );
        assert!(!again.windows(10).any(|w| w == b"TC260:AIGC"));
    }
}

#[test]
fn damaged_wav_still_reports_its_label() {
    let labeled = wav_labeled();
    // The data chunk claims more than the file holds: the label behind it is still found.
    let mut lying = labeled.clone();
    let d = find_chunk(&lying, b"data");
    lying[d + 4..d + 8].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
    let r = verify(&lying, Format::Wav);
    assert!(r.label.is_some(), "{r:?}");
    assert!(r.has_finding("wav.truncated"), "{r:?}");
    assert_eq!(r.verdict, Verdict::Altered, "{r:?}");
    // No data chunk at all, but a label.
    let no_data = move_label(labeled, b"AIGC", |json| json.as_bytes().to_vec());
    let no_data = fix_riff([&no_data[..d], &no_data[find_chunk(&no_data, b"AIGC")..]].concat());
    let r = verify(&no_data, Format::Wav);
    assert!(r.label.is_some(), "{r:?}");
    assert!(r.has_finding("wav.no_audio"), "{r:?}");
    assert_ne!(r.verdict, Verdict::LabeledIntact);
    assert_ne!(r.verdict, Verdict::Error);
}

// ---- Ogg -------------------------------------------------------------------------------------

fn oggenc(wav: &str, dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    run(Command::new(tool("oggenc", "vorbis-tools"))
        .args(["-Q", "-q", "2", "-o"])
        .arg(&out)
        .arg(corpus_file(wav)));
    out
}

/// An Ogg Vorbis file with a sealed label (aigcmark does not write Ogg; vorbiscomment does).
fn sealed_ogg(dir: &Path) -> Vec<u8> {
    let ogg = oggenc("audio/asterisk/vm-intro.wav", dir, "a.ogg");
    let bytes = std::fs::read(&ogg).unwrap();
    let h = aigcmark::formats::handler(Format::Ogg).unwrap();
    let limits = Limits::default();
    let scan = h
        .scan(
            &bytes,
            &aigcmark::format::ScanOptions {
                limits: &limits,
                watermark_key: None,
                explicit: true,
            },
        )
        .unwrap();
    let (signer, _) = demo_keys(40, PRODUCER);
    let mut record = LabelRecord::new(LabelKind::Generated, PRODUCER, "ogg1");
    let claims = Claims {
        format: Format::Ogg,
        content_digest: scan.digest.unwrap(),
        signed_at: 1_790_000_000,
        watermark_id: None,
        explicit: None,
    };
    record.reserved_code1 = Some(seal_provider(&signer, &record, &claims).unwrap());
    run(Command::new(tool("vorbiscomment", "vorbis-tools"))
        .args(["-a", "-t"])
        .arg(format!("AIGC={}", record.to_json().unwrap()))
        .arg(&ogg));
    std::fs::read(&ogg).unwrap()
}

#[test]
fn ogg_chained_streams_are_bound() {
    let dir = tempfile::tempdir().unwrap();
    let labeled = sealed_ogg(dir.path());
    assert_eq!(
        verify(&labeled, Format::Ogg).verdict,
        Verdict::LabeledIntact
    );
    let other =
        std::fs::read(oggenc("audio/asterisk/agent-pass.wav", dir.path(), "b.ogg")).unwrap();
    // `cat a.ogg b.ogg`: players play on into the second stream.
    let chained = [&labeled[..], &other].concat();
    let r = assert_caught(&labeled, &chained, Format::Ogg, "a chained stream");
    assert!(r.has_finding("binding.mismatch"), "{r:?}");
    // The same stream twice (same serial number).
    let twice = [&labeled[..], &labeled].concat();
    assert_caught(
        &labeled,
        &twice,
        Format::Ogg,
        "the stream chained to itself",
    );
    // Junk between the pages: ffmpeg resyncs on the next page.
    let junk = [&labeled[..], b"JUNKJUNK", &other].concat();
    let r = assert_caught(&labeled, &junk, Format::Ogg, "junk and a stream");
    assert!(r.has_finding("ogg.damaged"), "{r:?}");
}

// ---- FLAC ------------------------------------------------------------------------------------

fn flac_labeled() -> &'static Vec<u8> {
    static F: OnceLock<Vec<u8>> = OnceLock::new();
    F.get_or_init(|| {
        label(
            &std::fs::read(corpus_file("audio/scsynth/elec_chime.flac")).unwrap(),
            Format::Flac,
        )
    })
}

#[test]
fn flac_bytes_after_the_frames_are_bound() {
    let labeled = flac_labeled();
    assert_eq!(
        verify(labeled, Format::Flac).verdict,
        Verdict::LabeledIntact
    );
    // A second stream appended.
    let other = std::fs::read(corpus_file("audio/scsynth/guit_em9.flac")).unwrap();
    let r = verify(&[&labeled[..], &other].concat(), Format::Flac);
    assert!(r.has_finding("binding.mismatch"), "{r:?}");
    // An ID3v1 tag is left out, unless it holds a frame sync code.
    let mut v1 = b"TAG".to_vec();
    v1.extend_from_slice(b"A title");
    v1.resize(128, 0);
    assert_benign(
        labeled,
        &[&labeled[..], &v1].concat(),
        Format::Flac,
        "ID3v1",
    );
    v1[40..42].copy_from_slice(&[0xFF, 0xF8]);
    let r = verify(&[&labeled[..], &v1].concat(), Format::Flac);
    assert!(r.has_finding("flac.tag_bound"), "{r:?}");
    assert_ne!(r.verdict, Verdict::LabeledIntact);
    // Cut inside the metadata (after the comment): the label is still reported.
    let vc = labeled.windows(5).position(|w| w == b"AIGC=").unwrap();
    let cut = &labeled[..vc + 2000.min(labeled.len() - vc - 1)];
    let r = verify(cut, Format::Flac);
    assert!(r.label.is_some(), "{r:?}");
    assert!(r.has_finding("flac.truncated"), "{r:?}");
    assert_eq!(r.verdict, Verdict::Altered, "{r:?}");
}

// ---- Inserted bytes anywhere -----------------------------------------------------------------

fn samples(bytes: &[u8], format: Format) -> Option<Vec<f32>> {
    decode::decode_all(bytes, ext(format), &Limits::default())
        .ok()
        .map(|p| p.samples)
}

/// Inserting `run` at `at` either leaves a file that is not intact, or one that decodes the same.
fn check_insertion(
    labeled: &[u8],
    format: Format,
    at: usize,
    run: &[u8],
) -> Result<(), TestCaseError> {
    let at = at % (labeled.len() + 1);
    let mutated = [&labeled[..at], run, &labeled[at..]].concat();
    let r = verify(&mutated, format);
    if r.verdict == Verdict::LabeledIntact {
        prop_assert_eq!(
            samples(&mutated, format),
            samples(labeled, format),
            "intact after inserting {} bytes at {}",
            run.len(),
            at
        );
    }
    Ok(())
}

/// Runs of random bytes, and runs that look like the container's own structures.
fn runs(format: Format) -> impl Strategy<Value = Vec<u8>> {
    let structured: Vec<Vec<u8>> = match format {
        Format::Wav => vec![
            chunk(b"data", &[7; 40]),
            chunk(b"JUNK", &[1; 9]),
            chunk(b"fmt ", &[0; 16]),
        ],
        Format::Mp3 => vec![
            id3_tag(&id3_frame(b"TIT2", b"\x03x"), true),
            mp3s().1[..600].to_vec(),
        ],
        Format::Flac => vec![vec![0xFF, 0xF8, 0x69, 0x08, 0, 0, 0]],
        _ => vec![b"OggS\0\x02".to_vec()],
    };
    prop_oneof![
        prop::collection::vec(any::<u8>(), 1..200),
        prop::sample::select(structured),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn wav_insertions(at in any::<usize>(), run in runs(Format::Wav)) {
        check_insertion(wav_labeled(), Format::Wav, at, &run)?;
    }

    #[test]
    fn mp3_insertions(at in any::<usize>(), run in runs(Format::Mp3)) {
        check_insertion(&mp3s().0, Format::Mp3, at, &run)?;
    }

    #[test]
    fn flac_insertions(at in any::<usize>(), run in runs(Format::Flac)) {
        check_insertion(flac_labeled(), Format::Flac, at, &run)?;
    }

    #[test]
    fn ogg_insertions(at in any::<usize>(), run in runs(Format::Ogg)) {
        static F: OnceLock<Vec<u8>> = OnceLock::new();
        let labeled = F.get_or_init(|| sealed_ogg(tempfile::tempdir().unwrap().path()));
        check_insertion(labeled, Format::Ogg, at, &run)?;
    }
}
