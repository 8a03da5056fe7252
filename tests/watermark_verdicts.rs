//! The watermark through the whole path: labeled files carry it, verify finds it and checks it
//! against the seal, and it still says "AI-generated, producer X, content Y" after the metadata
//! is stripped and the file re-encoded by third-party tools.

mod common;

use std::process::Command;

use aigcmark::format::{Format, WatermarkCheck, WatermarkFound};
use aigcmark::{LabelOptions, Report, TrustStore, Verdict, VerifyOptions};
use common::{PRODUCER, corpus_file, demo_keys, run};

fn verify(bytes: &[u8], format: Format, trust: &TrustStore) -> Report {
    aigcmark::verify(bytes, format, &VerifyOptions::new(trust.clone()))
}

fn found(r: &Report) -> &WatermarkFound {
    match &r.watermark {
        WatermarkCheck::Detected(w) => w,
        other => panic!("no watermark: {other:?}\n{r:#?}"),
    }
}

fn opts(id: &str) -> LabelOptions {
    let mut o = LabelOptions::new(PRODUCER);
    o.produce_id = Some(id.into());
    o
}

#[test]
fn image_watermark_agrees_with_the_label_and_outlives_it() {
    let (signer, trust) = demo_keys(21, PRODUCER);
    let input = std::fs::read(corpus_file("images/mate/Dune.jpg")).unwrap();
    let out = aigcmark::label(&input, Format::Jpeg, &signer, &opts("img-1")).unwrap();
    let id = out
        .watermark_id
        .clone()
        .expect("JPEG output carries the watermark");
    let r = verify(&out.bytes, Format::Jpeg, &trust);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{r:#?}");
    let w = found(&r);
    assert_eq!(w.payload.id(), id);
    assert_eq!(w.agrees_with_label, Some(true));
    assert!(w.false_positive_probability <= 1e-6);
    let payload = w.payload;
    assert!(payload.matches_label(PRODUCER, "img-1"));
    assert!(
        payload.tag_made_by(&signer.seed()),
        "the key holder can prove the mark"
    );

    // Metadata stripped and the image re-encoded as JPEG 75 by ImageMagick.
    let dir = tempfile::tempdir().unwrap();
    let labeled = dir.path().join("l.jpg");
    std::fs::write(&labeled, &out.bytes).unwrap();
    let jpg = dir.path().join("s.jpg");
    run(Command::new(common::convert())
        .arg(&labeled)
        .args(["-strip", "-quality", "75"])
        .arg(&jpg));
    let stripped = std::fs::read(&jpg).unwrap();
    let r = verify(&stripped, Format::Jpeg, &trust);
    assert_eq!(r.verdict, Verdict::WatermarkOnly, "{r:#?}");
    assert_eq!(found(&r).payload.id(), id);
    assert!(
        r.has_finding("watermark.producer"),
        "the producer is named from the trust store"
    );

    // The unmarked original: no watermark.
    let r = verify(&input, Format::Jpeg, &trust);
    assert_eq!(r.watermark, WatermarkCheck::Absent);
    assert_eq!(r.verdict, Verdict::Unlabeled);
}

#[test]
fn a_label_moved_onto_another_watermarked_image_conflicts() {
    let (signer, trust) = demo_keys(22, PRODUCER);
    let input = std::fs::read(corpus_file("images/skimage/coffee.png")).unwrap();
    let a = aigcmark::label(&input, Format::Png, &signer, &opts("a")).unwrap();
    let b = aigcmark::label(&input, Format::Png, &signer, &opts("b")).unwrap();
    // b's pixels with a's label.
    let handler = aigcmark::formats::handler(Format::Png).unwrap();
    let limits = aigcmark::Limits::default();
    let moved = handler
        .write_label(
            &b.bytes,
            &a.record.to_json().unwrap(),
            &aigcmark::format::WriteOptions {
                carriers: aigcmark::format::CarrierChoice::Both,
                limits: &limits,
            },
        )
        .unwrap();
    let r = verify(&moved, Format::Png, &trust);
    assert_eq!(r.verdict, Verdict::Conflicting, "{r:#?}");
    assert!(r.has_finding("watermark.mismatch"));
    assert!(r.has_finding("binding.mismatch"));
    assert_eq!(found(&r).agrees_with_label, Some(false));
}

/// `a`'s label on `b`'s pixels (both PNGs of the same picture).
fn moved_label(a: &aigcmark::Labeled, b: &aigcmark::Labeled) -> Vec<u8> {
    let handler = aigcmark::formats::handler(Format::Png).unwrap();
    let limits = aigcmark::Limits::default();
    handler
        .write_label(
            &b.bytes,
            &a.record.to_json().unwrap(),
            &aigcmark::format::WriteOptions {
                carriers: aigcmark::format::CarrierChoice::Both,
                limits: &limits,
            },
        )
        .unwrap()
}

#[test]
fn another_producers_mark_conflicts_only_when_that_producer_is_known() {
    // A mark whose producer tag names nobody this verifier knows is what a payload misread
    // from a weakened mark looks like (its tag is then random bits): the file is altered, and
    // the report says why it is not called a contradiction. A trusted producer's mark under
    // another producer's label is a contradiction.
    const OTHER: &str = "001191000000MA00DEMO0X30000";
    let (signer, trust) = demo_keys(23, PRODUCER);
    let (other_signer, other_trust) = demo_keys(24, OTHER);
    let input = std::fs::read(corpus_file("images/skimage/coffee.png")).unwrap();
    let a = aigcmark::label(&input, Format::Png, &signer, &opts("a")).unwrap();
    let mut o = LabelOptions::new(OTHER);
    o.produce_id = Some("b".into());
    let b = aigcmark::label(&input, Format::Png, &other_signer, &o).unwrap();
    let moved = moved_label(&a, &b);

    let r = verify(&moved, Format::Png, &trust);
    assert_eq!(r.verdict, Verdict::Altered, "{r:#?}");
    assert!(r.has_finding("watermark.unidentified"), "{r:#?}");
    assert!(!r.has_finding("watermark.mismatch"));
    assert_eq!(found(&r).agrees_with_label, Some(false));

    let mut both = trust.clone();
    both.merge(other_trust).unwrap();
    let r = verify(&moved, Format::Png, &both);
    assert_eq!(r.verdict, Verdict::Conflicting, "{r:#?}");
    assert!(r.has_finding("watermark.mismatch"));
    assert!(!r.has_finding("watermark.unidentified"));
}

#[test]
fn audio_watermark_outlives_mp3_and_the_metadata() {
    let (signer, trust) = demo_keys(23, PRODUCER);
    // Music from a FLAC loop, decoded to WAV by ffmpeg as a generation service would hand it over.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.wav");
    run(Command::new(common::tool("ffmpeg", "ffmpeg"))
        .args(["-loglevel", "error", "-i"])
        .arg(corpus_file("audio/scsynth/loop_amen_full.flac"))
        .arg(&src));
    let input = std::fs::read(&src).unwrap();
    let out = aigcmark::label(&input, Format::Wav, &signer, &opts("music-1")).unwrap();
    let id = out
        .watermark_id
        .clone()
        .expect("WAV output carries the watermark");
    let r = verify(&out.bytes, Format::Wav, &trust);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{r:#?}");
    assert_eq!(found(&r).payload.id(), id);
    assert_eq!(found(&r).agrees_with_label, Some(true));

    let wav = dir.path().join("l.wav");
    std::fs::write(&wav, &out.bytes).unwrap();
    let mp3 = dir.path().join("l.mp3");
    run(Command::new(common::tool("lame", "lame"))
        .args(["--quiet", "-b", "128"])
        .arg(&wav)
        .arg(&mp3));
    let r = verify(&std::fs::read(&mp3).unwrap(), Format::Mp3, &trust);
    assert_eq!(r.verdict, Verdict::WatermarkOnly, "{r:#?}");
    assert_eq!(found(&r).payload.id(), id);

    let r = verify(&input, Format::Wav, &trust);
    assert_eq!(r.watermark, WatermarkCheck::Absent);
}

#[test]
fn watermark_command_embeds_and_detects() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_aigcmark");
    let src = corpus_file("images/skimage/chelsea.png");
    let out = dir.path().join("m.png");
    let o = Command::new(bin)
        .args(["watermark", "embed"])
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .args(["--payload", "0123456789abcdef"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new(bin)
        .args(["watermark", "detect"])
        .arg(&out)
        .arg(&src)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("found: payload 0123456789abcdef"), "{text}");
    assert!(text.contains("not found"), "{text}");
    assert_eq!(
        o.status.code(),
        Some(1),
        "the worst file (unmarked) decides"
    );
}
