//! The audible "AI" rhythm: no false alarms on real speech and music, the PCM API, and the
//! explicit label on compressed input.

mod common;

use std::process::Command;

use aigcmark::audio::{add_rhythm, detect_rhythm, label_pcm_i16};
use aigcmark::formats::audio::decode::decode_all;
use aigcmark::{ExplicitOptions, Format, LabelOptions, Limits, Placement, Verdict, VerifyOptions};
use common::{PRODUCER, corpus, corpus_file, demo_keys, run, tool};

fn opts() -> LabelOptions {
    let mut o = LabelOptions::new(PRODUCER);
    o.watermark = false;
    o
}

#[test]
fn no_rhythm_in_twenty_minutes_of_unlabeled_speech_and_music() {
    let mut seconds = 0.0;
    let mut files = 0;
    for sub in ["asterisk", "alsa", "espeak", "scsynth"] {
        let mut entries: Vec<_> = std::fs::read_dir(corpus().join("audio").join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let format = match p.extension().and_then(|e| e.to_str()) {
                Some("flac") => "flac",
                Some("wav") => "wav",
                _ => continue,
            };
            let pcm = decode_all(&std::fs::read(&p).unwrap(), format, &Limits::default()).unwrap();
            seconds += pcm.seconds();
            files += 1;
            let hits = detect_rhythm(&pcm.samples, pcm.rate, pcm.channels);
            assert!(hits.is_empty(), "false rhythm in {}: {hits:?}", p.display());
        }
    }
    assert!(
        seconds >= 600.0,
        "only {seconds:.0} s of corpus audio in {files} files"
    );
}

#[test]
fn pcm_api_labels_samples_and_adds_a_findable_rhythm() {
    let pcm = decode_all(
        &std::fs::read(corpus_file("audio/espeak/cmn.wav")).unwrap(),
        "wav",
        &Limits::default(),
    )
    .unwrap();
    let mut samples = pcm.samples.clone();
    let placed = add_rhythm(&mut samples, pcm.rate, pcm.channels, Placement::End).unwrap();
    let hits = detect_rhythm(&samples, pcm.rate, pcm.channels);
    assert_eq!(hits.len(), 1);
    assert!(
        (hits[0].start - placed[0].start).abs() < 0.02
            && (hits[0].end - placed[0].end).abs() < 0.02
    );
    assert!((hits[0].frequency - 1000.0).abs() < 60.0);

    let i16s: Vec<i16> = pcm
        .samples
        .iter()
        .map(|&x| (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect();
    let (signer, trust) = demo_keys(31, PRODUCER);
    let mut o = opts();
    o.explicit = Some(ExplicitOptions::default());
    let out = label_pcm_i16(&i16s, pcm.rate, pcm.channels, &signer, &o).unwrap();
    assert_eq!(out.format, Format::Wav);
    let r = aigcmark::verify(&out.bytes, Format::Wav, &VerifyOptions::new(trust));
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{r:?}");
    assert_eq!(r.explicit.len(), 1);
    assert_eq!(r.explicit[0].intact, Some(true));
    assert!(label_pcm_i16(&i16s[..3], 8000, 2, &signer, &o).is_err());
}

#[test]
fn explicit_label_on_flac_and_mp3_comes_back_as_wav() {
    let dir = tempfile::tempdir().unwrap();
    let mp3 = dir.path().join("a.mp3");
    run(Command::new(tool("lame", "lame"))
        .args(["--quiet", "-b", "96"])
        .arg(corpus_file("audio/alsa/Front_Center.wav"))
        .arg(&mp3));
    let (signer, trust) = demo_keys(32, PRODUCER);
    let mut o = opts();
    o.explicit = Some(ExplicitOptions {
        placement: Some(Placement::Start),
        ..Default::default()
    });
    for (bytes, format) in [
        (
            std::fs::read(corpus_file("audio/scsynth/ambi_piano.flac")).unwrap(),
            Format::Flac,
        ),
        (std::fs::read(&mp3).unwrap(), Format::Mp3),
    ] {
        let out = aigcmark::label(&bytes, format, &signer, &o).unwrap();
        assert_eq!(out.format, Format::Wav);
        assert!(out.notes.iter().any(|n| n.code == "audio.reencoded_wav"));
        let r = aigcmark::verify(&out.bytes, Format::Wav, &VerifyOptions::new(trust.clone()));
        assert_eq!(r.verdict, Verdict::LabeledIntact, "{format}: {r:?}");
        assert_eq!(r.explicit.len(), 1, "{format}: {:?}", r.explicit);
        assert_eq!(r.explicit[0].intact, Some(true));
    }
    // Placements an audio file cannot have are refused.
    o.explicit = Some(ExplicitOptions {
        placement: Some(Placement::TopLeft),
        ..Default::default()
    });
    assert!(aigcmark::label(&std::fs::read(&mp3).unwrap(), Format::Mp3, &signer, &o).is_err());
}
