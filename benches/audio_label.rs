//! Metadata-only labeling and verification of a 60 s 44.1 kHz stereo WAV and MP3, against
//! decoding the same file with symphonia in the same run (the baseline the figures are quoted
//! against). The files are built once from corpus audio (in-process for WAV, lame for MP3).

use std::path::PathBuf;
use std::process::Command;

use aigcmark::audio::{detect_rhythm, encode_wav_int};
use aigcmark::formats::audio::decode::decode_all;
use aigcmark::{Format, LabelOptions, Limits, Signer, TrustStore, VerifyOptions};
use criterion::{Criterion, criterion_group, criterion_main};

fn corpus() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let dir = std::env::var_os("AIGCMARK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".cache/aigcmark-corpus"));
    assert!(
        dir.join("audio").is_dir(),
        "run scripts/fetch-corpus.sh first"
    );
    dir
}

/// 60 s of 44.1 kHz stereo music: the scsynth loops, one after another, repeated.
fn music_wav() -> Vec<u8> {
    let dir = corpus().join("audio/scsynth");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "flac"))
        .collect();
    names.sort();
    let mut stereo = Vec::new();
    'fill: loop {
        for p in &names {
            let pcm = decode_all(&std::fs::read(p).unwrap(), "flac", &Limits::default()).unwrap();
            assert_eq!(pcm.rate, 44100);
            for frame in pcm.samples.chunks(usize::from(pcm.channels)) {
                let (l, r) = (frame[0], *frame.last().unwrap());
                stereo.extend_from_slice(&[l, r]);
                if stereo.len() >= 2 * 44100 * 60 {
                    break 'fill;
                }
            }
        }
    }
    encode_wav_int(&stereo, 44100, 2, 16).unwrap()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let wav = music_wav();
    let wav_path = dir.path().join("music.wav");
    std::fs::write(&wav_path, &wav).unwrap();
    let mp3_path = dir.path().join("music.mp3");
    let st = Command::new("lame")
        .args(["--quiet", "-b", "192"])
        .arg(&wav_path)
        .arg(&mp3_path)
        .status()
        .unwrap();
    assert!(st.success());
    let mp3 = std::fs::read(&mp3_path).unwrap();

    let signer = Signer::from_seed(&[9; 32]);
    let mut trust = TrustStore::new();
    trust
        .add(TrustStore::entry_for(
            &signer.public_key(),
            "001191000000MA00DEMO0X10000",
            aigcmark::trust::Role::Any,
        ))
        .unwrap();
    let mut opts = LabelOptions::new("001191000000MA00DEMO0X10000");
    opts.watermark = false;
    opts.signed_at = Some(1_780_000_000);
    let with_watermark = VerifyOptions::new(trust);
    let mut vopts = with_watermark.clone();
    vopts.watermark_key = None;
    let limits = Limits::default();

    for (name, bytes, format) in [("wav", &wav, Format::Wav), ("mp3", &mp3, Format::Mp3)] {
        let labeled = aigcmark::label(bytes, format, &signer, &opts)
            .unwrap()
            .bytes;
        assert_eq!(
            aigcmark::verify(&labeled, format, &vopts).verdict,
            aigcmark::Verdict::LabeledIntact
        );
        let mut g = c.benchmark_group(format!("audio_60s_{name}"));
        g.sample_size(10);
        g.bench_function("decode_baseline", |b| {
            b.iter(|| decode_all(bytes, format.name(), &limits).unwrap())
        });
        g.bench_function("label", |b| {
            b.iter(|| aigcmark::label(bytes, format, &signer, &opts).unwrap())
        });
        g.bench_function("verify", |b| {
            b.iter(|| aigcmark::verify(&labeled, format, &vopts))
        });
        g.bench_function("verify + watermark", |b| {
            b.iter(|| aigcmark::verify(&labeled, format, &with_watermark))
        });
        // Where the time goes: the content digest alone, and the rhythm search (two 10 s windows).
        g.bench_function("part_sha256_whole_file", |b| {
            b.iter(|| aigcmark::binding::digest(bytes))
        });
        if format == Format::Wav {
            let pcm = decode_all(bytes, "wav", &limits).unwrap();
            let ten = 10 * 44100 * 2;
            let ends = [&pcm.samples[..ten], &pcm.samples[pcm.samples.len() - ten..]];
            g.bench_function("part_rhythm_search_2x10s", |b| {
                b.iter(|| ends.map(|w| detect_rhythm(w, 44100, 2)))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
