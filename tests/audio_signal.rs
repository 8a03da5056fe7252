//! The audio signal side makes no false claims: a watermark is sealed (`wm=`) only when it is
//! really in the samples, `watermark embed` never writes WAV bytes under a compressed-audio
//! name, and the rhythm detector does not hear the "AI" rhythm in speech that fooled it before.

mod common;

use std::process::Command;

use aigcmark::audio::{add_rhythm, detect_rhythm, label_pcm_i16, wav_from_i16};
use aigcmark::format::WatermarkCheck;
use aigcmark::formats::audio::decode::decode_all;
use aigcmark::{Format, LabelOptions, Limits, Placement, Verdict, VerifyOptions};
use common::{PRODUCER, corpus_file, demo_keys, run, tool};

fn i16s(x: &[f32]) -> Vec<i16> {
    x.iter()
        .map(|&v| (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

/// Labels with the watermark asked for and checks that nothing claims it: no `wm=` in the
/// seal, and verification intact without a `watermark.missing` warning.
fn labeled_without_watermark_claim(bytes: &[u8], format: Format, what: &str) -> aigcmark::Labeled {
    let (signer, trust) = demo_keys(41, PRODUCER);
    let opts = LabelOptions::new(PRODUCER);
    assert!(opts.watermark, "the watermark is asked for by default");
    let out = aigcmark::label(bytes, format, &signer, &opts).unwrap();
    assert_eq!(out.watermark_id, None, "{what}: {:?}", out.notes);
    let seal = out.record.reserved_code1.clone().unwrap();
    assert!(!seal.contains(";wm="), "{what}: {seal}");
    let r = aigcmark::verify(&out.bytes, out.format, &VerifyOptions::new(trust));
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{what}: {r:?}");
    assert!(!r.has_finding("watermark.missing"), "{what}: {r:?}");
    assert!(
        !r.findings
            .iter()
            .any(|f| f.severity != aigcmark::Severity::Info),
        "{what}: {:?}",
        r.findings
    );
    assert!(matches!(r.watermark, WatermarkCheck::Absent), "{what}");
    out
}

#[test]
fn short_or_silent_audio_is_sealed_without_a_watermark() {
    let speech = decode_all(
        &std::fs::read(corpus_file("audio/asterisk/demo-echotest.wav")).unwrap(),
        "wav",
        &Limits::default(),
    )
    .unwrap();
    assert_eq!((speech.rate, speech.channels), (8000, 1));
    let (signer, trust) = demo_keys(41, PRODUCER);

    // One second of speech, and ten seconds of digital silence, as PCM from a service.
    let one_second = i16s(&speech.samples[..8000]);
    let silence = vec![0i16; 10 * 16000];
    for (samples, rate, what) in [
        (&one_second, 8000, "1 s of speech"),
        (&silence, 16000, "10 s of silence"),
    ] {
        let wav = wav_from_i16(samples, rate, 1).unwrap();
        labeled_without_watermark_claim(&wav, Format::Wav, what);
        let out = label_pcm_i16(samples, rate, 1, &signer, &LabelOptions::new(PRODUCER)).unwrap();
        assert_eq!(out.watermark_id, None, "{what}");
    }

    // The same 1 s clip as FLAC: the label goes into the FLAC as it is (nothing to re-encode
    // for), and a note says why there is no watermark.
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("one.wav");
    std::fs::write(&wav, wav_from_i16(&one_second, 8000, 1).unwrap()).unwrap();
    let flac = dir.path().join("one.flac");
    run(Command::new(tool("flac", "flac"))
        .args(["-s", "-f", "-o"])
        .arg(&flac)
        .arg(&wav));
    let out = labeled_without_watermark_claim(&std::fs::read(&flac).unwrap(), Format::Flac, "flac");
    assert_eq!(out.format, Format::Flac);
    let note = out
        .notes
        .iter()
        .find(|n| n.code == "watermark.not_embedded")
        .unwrap_or_else(|| panic!("{:?}", out.notes));
    assert!(note.message.contains("1.00 s"), "{}", note.message);

    // Control: ten seconds of the same speech do get the watermark, and verification finds it.
    let ten = i16s(&speech.samples[..10 * 8000]);
    let out = label_pcm_i16(&ten, 8000, 1, &signer, &LabelOptions::new(PRODUCER)).unwrap();
    let id = out
        .watermark_id
        .clone()
        .expect("10 s of speech is watermarked");
    assert!(
        out.record
            .reserved_code1
            .as_deref()
            .unwrap()
            .contains(&format!(";wm={id}"))
    );
    let r = aigcmark::verify(&out.bytes, Format::Wav, &VerifyOptions::new(trust));
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{r:?}");
    assert!(matches!(r.watermark, WatermarkCheck::Detected(_)), "{r:?}");
}

#[test]
fn watermark_embed_refuses_wav_bytes_under_an_mp3_name() {
    let dir = tempfile::tempdir().unwrap();
    let mp3 = dir.path().join("in.mp3");
    run(Command::new(tool("lame", "lame"))
        .args(["--quiet", "-b", "96"])
        .arg(corpus_file("audio/asterisk/demo-echotest.wav"))
        .arg(&mp3));
    let embed = |out: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_aigcmark"))
            .args(["watermark", "embed"])
            .arg(&mp3)
            .arg("-o")
            .arg(out)
            .args(["--payload", "0123456789abcdef"])
            .output()
            .unwrap()
    };
    for name in ["out.mp3", "out.flac"] {
        let out = dir.path().join(name);
        let o = embed(&out);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{name}: {stderr}");
        assert!(
            stderr.contains("choose an output name ending in .wav"),
            "{name}: {stderr}"
        );
        assert!(!out.exists(), "{name} was written");
    }
    // Named .wav it is written, as WAV, and carries the mark.
    let out = dir.path().join("out.wav");
    let o = embed(&out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..4], b"RIFF");
    let o = Command::new(env!("CARGO_BIN_EXE_aigcmark"))
        .args(["watermark", "detect"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("payload 0123456789abcdef"), "{stdout}");
}

#[test]
fn watermark_embed_says_why_a_short_clip_gets_none() {
    let dir = tempfile::tempdir().unwrap();
    let speech = decode_all(
        &std::fs::read(corpus_file("audio/asterisk/demo-echotest.wav")).unwrap(),
        "wav",
        &Limits::default(),
    )
    .unwrap();
    let wav = dir.path().join("short.wav");
    std::fs::write(
        &wav,
        wav_from_i16(&i16s(&speech.samples[..16000]), 8000, 1).unwrap(),
    )
    .unwrap();
    let out = dir.path().join("marked.wav");
    let o = Command::new(env!("CARGO_BIN_EXE_aigcmark"))
        .args(["watermark", "embed"])
        .arg(&wav)
        .arg("-o")
        .arg(&out)
        .args(["--payload", "0123456789abcdef"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{stderr}");
    assert!(stderr.contains("no watermark"), "{stderr}");
    assert!(stderr.contains("4.64 s"), "{stderr}");
    assert!(!out.exists());
}

/// The telephone prompt that an earlier detector heard a rhythm in (6.73–7.37 s, a 400 Hz
/// harmonic of the voice, purity 0.71) once resampled to 22.05 or 44.1 kHz; our own rhythm
/// added to the same audio is still found there.
#[test]
fn no_rhythm_in_the_speech_that_fooled_the_detector() {
    let dir = tempfile::tempdir().unwrap();
    let src = corpus_file("audio/asterisk/demo-instruct.wav");
    for rate in ["22050", "44100"] {
        let wav = dir.path().join(format!("{rate}.wav"));
        run(Command::new(tool("sox", "sox"))
            .arg("-V1")
            .arg(&src)
            .args(["-c", "2", "-r", rate])
            .arg(&wav));
        let pcm = decode_all(&std::fs::read(&wav).unwrap(), "wav", &Limits::default()).unwrap();
        let head = &pcm.samples[..(12 * pcm.rate * 2) as usize];
        let hits = detect_rhythm(head, pcm.rate, pcm.channels);
        assert!(hits.is_empty(), "{rate}: {hits:?}");

        let mut labeled = head.to_vec();
        let placed = add_rhythm(&mut labeled, pcm.rate, pcm.channels, Placement::Both).unwrap();
        let hits = detect_rhythm(&labeled, pcm.rate, pcm.channels);
        assert_eq!(hits.len(), 2, "{rate}: {hits:?}");
        for (h, p) in hits.iter().zip(&placed) {
            assert!((h.start - p.start).abs() < 0.02, "{h:?} {p:?}");
            assert!((h.frequency - 1000.0).abs() < 5.0, "{h:?}");
        }
    }
}
