//! FLAC labels on the corpus's scsynth recordings, read back by ffprobe, flac and metaflac; and
//! Ogg Vorbis labels written by vorbiscomment, read.

mod common;

use std::process::Command;

use aigcmark::format::ScanOptions;
use aigcmark::formats::handler;
use aigcmark::{Format, Limits, Verdict, VerifyOptions};
use common::{
    PRODUCER, corpus_file, demo_keys, ffmpeg_s16le, metadata_only, run, survives_damage, tool,
};

/// Offset of the first audio frame: after the last metadata block.
fn frames_offset(b: &[u8]) -> usize {
    let mut pos = 4;
    loop {
        let last = b[pos] & 0x80 != 0;
        let len = u32::from_be_bytes([0, b[pos + 1], b[pos + 2], b[pos + 3]]) as usize;
        pos += 4 + len;
        if last {
            return pos;
        }
    }
}

#[test]
fn labeled_flac_keeps_its_frames_in_place_and_its_samples() {
    let dir = tempfile::tempdir().unwrap();
    let src = corpus_file("audio/scsynth/loop_amen_full.flac");
    let input = std::fs::read(&src).unwrap();
    let (signer, trust) = demo_keys(21, PRODUCER);
    let out = aigcmark::label(&input, Format::Flac, &signer, &metadata_only()).unwrap();
    let labeled = dir.path().join("labeled.flac");
    std::fs::write(&labeled, &out.bytes).unwrap();

    let probe = run(Command::new(tool("ffprobe", "ffmpeg"))
        .args(["-v", "error", "-show_format"])
        .arg(&labeled));
    assert!(probe.contains("TAG:AIGC={\"Label\":\"1\""), "{probe}");
    let tags = run(Command::new(tool("metaflac", "flac"))
        .arg("--export-tags-to=-")
        .arg(&labeled));
    assert!(tags.contains("AIGC={"), "{tags}");
    run(Command::new(tool("flac", "flac"))
        .args(["-s", "-t"])
        .arg(&labeled)); // MD5 of samples checks
    assert_eq!(ffmpeg_s16le(&labeled), ffmpeg_s16le(&src));
    let (a, b) = (frames_offset(&input), frames_offset(&out.bytes));
    assert_eq!(
        &out.bytes[b..],
        &input[a..],
        "the audio frames are copied unchanged"
    );
    if has_padding(&input) {
        assert_eq!(a, b, "padding absorbed the new comment");
    }

    let vopts = VerifyOptions::new(trust);
    assert_eq!(
        aigcmark::verify(&out.bytes, Format::Flac, &vopts).verdict,
        Verdict::LabeledIntact
    );

    // metaflac edits tags without touching STREAMINFO or the frames: the binding holds.
    run(Command::new(tool("metaflac", "flac"))
        .args(["--set-tag=TITLE=Amen", "--add-padding=4096"])
        .arg(&labeled));
    let r = aigcmark::verify(&std::fs::read(&labeled).unwrap(), Format::Flac, &vopts);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{r:?}");

    // ffmpeg -c copy remuxes FLAC but keeps STREAMINFO, the frames and the AIGC comment.
    let remuxed = dir.path().join("remuxed.flac");
    run(Command::new(tool("ffmpeg", "ffmpeg"))
        .args(["-v", "error", "-i"])
        .arg(&labeled)
        .args(["-c", "copy", "-metadata", "title=y"])
        .arg(&remuxed));
    let r = aigcmark::verify(&std::fs::read(&remuxed).unwrap(), Format::Flac, &vopts);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{r:?}");

    // A second AIGC comment that disagrees: conflicting.
    run(Command::new(tool("metaflac", "flac"))
        .arg("--set-tag=AIGC={\"Label\":\"1\",\"ContentProducer\":\"OTHER\",\"ProduceID\":\"z\"}")
        .arg(&labeled));
    let r = aigcmark::verify(&std::fs::read(&labeled).unwrap(), Format::Flac, &vopts);
    assert_eq!(r.verdict, Verdict::Conflicting, "{r:?}");
    assert!(r.has_finding("flac.duplicate_aigc"));

    // A changed frame byte breaks the binding.
    let mut changed = out.bytes.clone();
    let at = changed.len() - 777;
    changed[at] ^= 0x10;
    assert!(aigcmark::verify(&changed, Format::Flac, &vopts).has_finding("binding.mismatch"));
}

fn has_padding(b: &[u8]) -> bool {
    let mut pos = 4;
    loop {
        if b[pos] & 0x7f == 1 {
            return true;
        }
        let last = b[pos] & 0x80 != 0;
        pos += 4 + u32::from_be_bytes([0, b[pos + 1], b[pos + 2], b[pos + 3]]) as usize;
        if last {
            return false;
        }
    }
}

#[test]
fn without_padding_or_comments_the_metadata_is_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("bare.flac");
    std::fs::copy(corpus_file("audio/scsynth/guit_em9.flac"), &bare).unwrap();
    run(Command::new(tool("metaflac", "flac"))
        .args([
            "--remove",
            "--block-type=VORBIS_COMMENT,PADDING",
            "--dont-use-padding",
        ])
        .arg(&bare));
    let input = std::fs::read(&bare).unwrap();
    assert!(!has_padding(&input));
    let (signer, trust) = demo_keys(22, PRODUCER);
    let out = aigcmark::label(&input, Format::Flac, &signer, &metadata_only()).unwrap();
    let labeled = dir.path().join("labeled.flac");
    std::fs::write(&labeled, &out.bytes).unwrap();
    run(Command::new(tool("flac", "flac"))
        .args(["-s", "-t"])
        .arg(&labeled));
    let listed = run(Command::new(tool("metaflac", "flac"))
        .arg("--list")
        .arg(&labeled));
    assert!(
        listed.contains("VORBIS_COMMENT") && listed.contains("AIGC="),
        "{listed}"
    );
    assert_eq!(ffmpeg_s16le(&labeled), ffmpeg_s16le(&bare));
    assert_eq!(
        aigcmark::verify(&out.bytes, Format::Flac, &VerifyOptions::new(trust)).verdict,
        Verdict::LabeledIntact
    );
}

#[test]
fn damaged_flac_gives_findings_or_errors_never_panics() {
    let input = std::fs::read(corpus_file("audio/scsynth/elec_chime.flac")).unwrap();
    let (signer, trust) = demo_keys(23, PRODUCER);
    let labeled = aigcmark::label(&input, Format::Flac, &signer, &metadata_only())
        .unwrap()
        .bytes;
    let vopts = VerifyOptions::new(trust);
    let mut lying = labeled.clone();
    lying[5..8].copy_from_slice(&[0xff, 0xff, 0xff]);
    assert_eq!(
        aigcmark::verify(&lying, Format::Flac, &vopts).verdict,
        Verdict::Error
    );
    survives_damage(&labeled, Format::Flac, &signer, &vopts, (61, 6, 2000), 7);
}

#[test]
fn ogg_vorbis_labels_are_read_and_bound_to_the_packets() {
    let dir = tempfile::tempdir().unwrap();
    let ogg = dir.path().join("a.ogg");
    run(Command::new(tool("oggenc", "vorbis-tools"))
        .args(["-Q", "-q", "2", "-o"])
        .arg(&ogg)
        .arg(corpus_file("audio/espeak/en.wav")));
    let json = r#"{"Label":"1","ContentProducer":"001191000000MA00DEMO0X10000","ProduceID":"o1"}"#;
    run(Command::new(tool("vorbiscomment", "vorbis-tools"))
        .args(["-a", "-t"])
        .arg(format!("AIGC={json}"))
        .arg(&ogg));
    let h = handler(Format::Ogg).unwrap();
    let limits = Limits::default();
    let so = ScanOptions {
        limits: &limits,
        watermark_key: None,
        explicit: true,
    };
    let first = h.scan(&std::fs::read(&ogg).unwrap(), &so).unwrap();
    assert_eq!(first.carriers.len(), 1);
    assert_eq!(first.carriers[0].value, json);
    // A long new comment re-pages the stream; the packet digest stays.
    let long = "x".repeat(6000);
    run(Command::new(tool("vorbiscomment", "vorbis-tools"))
        .args(["-a", "-t"])
        .arg(format!("TITLE={long}"))
        .arg(&ogg));
    let second = h.scan(&std::fs::read(&ogg).unwrap(), &so).unwrap();
    assert_eq!(second.digest, first.digest);
    assert_eq!(second.carriers.len(), 1);
    // Writing into Ogg is refused with a clear error.
    let (signer, _) = demo_keys(24, PRODUCER);
    let mut o = metadata_only();
    o.replace = true;
    assert!(matches!(
        aigcmark::label(&std::fs::read(&ogg).unwrap(), Format::Ogg, &signer, &o),
        Err(aigcmark::Error::Unsupported(_))
    ));
}
