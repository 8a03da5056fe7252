//! MP3 labels on files made by lame from the corpus, read back by ffprobe and ffmpeg.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use aigcmark::format::ScanOptions;
use aigcmark::formats::handler;
use aigcmark::{Format, Limits, Verdict, VerifyOptions};
use common::{
    PRODUCER, corpus_file, demo_keys, ffmpeg_s16le, metadata_only, run, survives_damage, tool,
};

fn lame(src: &Path, dst: &Path, extra: &[&str]) {
    run(Command::new(tool("lame", "lame"))
        .arg("--quiet")
        .args(extra)
        .arg(src)
        .arg(dst));
}

fn probe(path: &Path) -> String {
    run(Command::new(tool("ffprobe", "ffmpeg"))
        .args(["-v", "error", "-show_format"])
        .arg(path))
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn labeled_mp3_shows_the_tag_and_decodes_to_the_same_samples() {
    let dir = tempfile::tempdir().unwrap();
    let mp3 = dir.path().join("in.mp3");
    lame(
        &corpus_file("audio/asterisk/demo-instruct.wav"),
        &mp3,
        &["-b", "32"],
    );
    let input = std::fs::read(&mp3).unwrap();
    let (signer, trust) = demo_keys(11, PRODUCER);
    let out = aigcmark::label(&input, Format::Mp3, &signer, &metadata_only()).unwrap();
    assert!(
        out.bytes.starts_with(b"ID3\x04"),
        "a v2.4 tag is added when there is none"
    );
    let labeled = write(dir.path(), "labeled.mp3", &out.bytes);
    let p = probe(&labeled);
    assert!(p.contains("TAG:AIGC={\"Label\":\"1\""), "{p}");
    assert_eq!(ffmpeg_s16le(&labeled), ffmpeg_s16le(&mp3));
    assert!(
        out.bytes.ends_with(&input),
        "the MPEG frames follow the tag unchanged"
    );

    let vopts = VerifyOptions::new(trust);
    assert_eq!(
        aigcmark::verify(&out.bytes, Format::Mp3, &vopts).verdict,
        Verdict::LabeledIntact
    );

    // ffmpeg -c copy with a new title rewrites the tag and the Xing frame but copies the sound
    // frames: the binding holds.
    let edited = dir.path().join("edited.mp3");
    run(Command::new(tool("ffmpeg", "ffmpeg"))
        .args(["-v", "error", "-i"])
        .arg(&labeled)
        .args(["-c", "copy", "-metadata", "title=x"])
        .arg(&edited));
    let edited_bytes = std::fs::read(&edited).unwrap();
    assert!(probe(&edited).contains("TAG:title=x"));
    let r = aigcmark::verify(&edited_bytes, Format::Mp3, &vopts);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{r:?}");

    // One byte of sound changed: the binding breaks.
    let mut changed = out.bytes.clone();
    let at = changed.len() - 5000;
    changed[at] ^= 0x21;
    let r = aigcmark::verify(&changed, Format::Mp3, &vopts);
    assert!(r.has_finding("binding.mismatch"), "{r:?}");
}

#[test]
fn an_existing_v23_tag_keeps_its_version_and_frames() {
    let dir = tempfile::tempdir().unwrap();
    let mp3 = dir.path().join("in.mp3");
    lame(
        &corpus_file("audio/asterisk/vm-intro.wav"),
        &mp3,
        &[
            "--id3v2-only",
            "--tt",
            "Intro",
            "--ta",
            "Asterisk",
            "--tc",
            "keep me",
        ],
    );
    let input = std::fs::read(&mp3).unwrap();
    let major = input[3];
    let tags_before: Vec<String> = probe(&mp3)
        .lines()
        .filter(|l| l.starts_with("TAG:"))
        .map(str::to_string)
        .collect();
    assert!(tags_before.len() >= 3, "{tags_before:?}");
    let (signer, trust) = demo_keys(12, PRODUCER);
    let out = aigcmark::label(&input, Format::Mp3, &signer, &metadata_only()).unwrap();
    assert_eq!(out.bytes[3], major);
    let labeled = write(dir.path(), "labeled.mp3", &out.bytes);
    let p = probe(&labeled);
    for want in tags_before.iter().map(String::as_str).chain(["TAG:AIGC="]) {
        assert!(p.contains(want), "{want} missing: {p}");
    }
    // lame's COMM frame (which ffprobe cannot read) is still there, byte for byte.
    let comm = input.windows(4).position(|w| w == b"COMM").unwrap();
    assert!(out.bytes.windows(40).any(|w| w == &input[comm..comm + 40]));
    assert_eq!(ffmpeg_s16le(&labeled), ffmpeg_s16le(&mp3));

    // Relabeling replaces the frame: still one carrier.
    let mut o = metadata_only();
    o.replace = true;
    let again = aigcmark::label(&out.bytes, Format::Mp3, &signer, &o).unwrap();
    let scan = handler(Format::Mp3)
        .unwrap()
        .scan(
            &again.bytes,
            &ScanOptions {
                limits: &Limits::default(),
                watermark_key: None,
                explicit: true,
            },
        )
        .unwrap();
    assert_eq!(scan.carriers.len(), 1);
    assert_eq!(
        aigcmark::verify(&again.bytes, Format::Mp3, &VerifyOptions::new(trust)).verdict,
        Verdict::LabeledIntact
    );
}

#[test]
fn labels_in_comments_and_second_frames_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mp3 = dir.path().join("in.mp3");
    lame(&corpus_file("audio/asterisk/agent-pass.wav"), &mp3, &[]);
    let json = r#"{"Label":"1","ContentProducer":"001191000000MA00DEMO0X10000","ProduceID":"c1","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}"#;
    let with_comment = dir.path().join("comment.mp3");
    run(Command::new(tool("ffmpeg", "ffmpeg"))
        .args(["-v", "error", "-i"])
        .arg(&mp3)
        .args(["-c", "copy", "-metadata"])
        .arg(format!("comment={json}"))
        .arg(&with_comment));
    let bytes = std::fs::read(&with_comment).unwrap();
    let (_, trust) = demo_keys(13, PRODUCER);
    let r = aigcmark::verify(&bytes, Format::Mp3, &VerifyOptions::new(trust.clone()));
    assert!(r.has_finding("mp3.label_elsewhere"), "{r:?}");
    assert_eq!(r.verdict, Verdict::LabeledUnsigned);

    // ffmpeg -metadata AIGC=… writes TXXX:AIGC; labeling with `replace` replaces it, and the
    // comment-held label is removed too, so exactly one label remains.
    let with_txxx = dir.path().join("txxx.mp3");
    run(Command::new(tool("ffmpeg", "ffmpeg"))
        .args(["-v", "error", "-i"])
        .arg(&with_comment)
        .args(["-c", "copy", "-metadata"])
        .arg(format!("AIGC={json}"))
        .arg(&with_txxx));
    let bytes = std::fs::read(&with_txxx).unwrap();
    let r = aigcmark::verify(&bytes, Format::Mp3, &VerifyOptions::new(trust.clone()));
    assert!(r.has_finding("label.duplicate"), "{r:?}");
    let (signer, _) = demo_keys(13, PRODUCER);
    let mut o = metadata_only();
    o.replace = true;
    let out = aigcmark::label(&bytes, Format::Mp3, &signer, &o).unwrap();
    let r = aigcmark::verify(&out.bytes, Format::Mp3, &VerifyOptions::new(trust));
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{r:?}");
    assert!(!r.has_finding("label.duplicate"));
    assert!(!r.has_finding("mp3.label_elsewhere"));
}

#[test]
fn damaged_mp3_gives_findings_or_errors_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let mp3 = dir.path().join("in.mp3");
    lame(
        &corpus_file("audio/asterisk/conf-onlyperson.wav"),
        &mp3,
        &["--tt", "t"],
    );
    let (signer, trust) = demo_keys(14, PRODUCER);
    let labeled = aigcmark::label(
        &std::fs::read(&mp3).unwrap(),
        Format::Mp3,
        &signer,
        &metadata_only(),
    )
    .unwrap()
    .bytes;
    let vopts = VerifyOptions::new(trust);
    // A tag that claims more than the file holds.
    let mut lying = labeled.clone();
    lying[6..10].copy_from_slice(&[0x7f, 0x7f, 0x7f, 0x7f]);
    assert_eq!(
        aigcmark::verify(&lying, Format::Mp3, &vopts).verdict,
        Verdict::Error
    );
    // A frame inside the tag that lies about its size.
    let mut frame_lie = labeled.clone();
    frame_lie[14..18].copy_from_slice(&[0x7f, 0x7f, 0x7f, 0x7f]);
    let r = aigcmark::verify(&frame_lie, Format::Mp3, &vopts);
    assert!(r.has_finding("mp3.id3_damaged"), "{r:?}");
    survives_damage(&labeled, Format::Mp3, &signer, &vopts, (61, 6, 4000), 99);
}
