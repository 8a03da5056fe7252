//! Embed and detect on 60 s of 44.1 kHz stereo (real music from the corpus when available:
//! the longest asterisk music file decoded and resampled by ffmpeg; synthetic otherwise).
//! `cargo bench --bench watermark_audio`; the real-time multiple is printed before the criterion output
//! (criterion's own time per iteration divided into 60 s gives the same figure).
//!
//! Group `wm_audio_wav_60s`: what `aigcmark watermark embed` does between reading and writing
//! the file (`aigcmark::embed_watermark` on the bytes of a 60 s 44.1 kHz stereo 16-bit WAV:
//! parse, mark, confirm, the output file's bytes; `embed_watermark_owned`, which the command
//! uses, marks the bytes it is given), against a plain read and write of the same WAV in the
//! same run (hound: every sample read, then written into a new WAV in memory).

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use aigcmark::watermark::Payload;
use aigcmark::watermark::audio::{EmbedOptions, WatermarkKey, detect, embed};
use aigcmark::{Format, Limits};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const SECS: f64 = 60.0;
const RATE: u32 = 44100;

fn load_music() -> (Vec<f32>, String) {
    let base = std::env::var("AIGCMARK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/aigcmark-corpus")
        });
    for rel in [
        "audio/asterisk/macroform-the_simplicity.wav",
        "audio/asterisk/reno_project-system.wav",
        "audio/asterisk/macroform-cold_day.wav",
    ] {
        let p = base.join(rel);
        if !p.exists() {
            continue;
        }
        let out = Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&p)
            .args(["-t", "60", "-ac", "2", "-ar", "44100", "-f", "f32le", "-"])
            .output();
        if let Ok(o) = out
            && o.status.success()
            && o.stdout.len() >= (SECS as usize * RATE as usize * 2 * 4)
        {
            let s = o
                .stdout
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            return (s, rel.to_string());
        }
    }
    let n = (SECS * RATE as f64) as usize;
    let mut s = Vec::with_capacity(2 * n);
    let mut seed = 1u64;
    for i in 0..n {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        let t = i as f64 / RATE as f64;
        let v = (0.1 * (2.0 * std::f64::consts::PI * 220.0 * t).sin()
            + 0.05 * (2.0 * std::f64::consts::PI * 1330.0 * t).sin()) as f32
            + 0.01 * ((seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5);
        s.push(v);
        s.push(v * 0.9);
    }
    (s, "synthetic".into())
}

fn bench(c: &mut Criterion) {
    let (host, what) = load_music();
    let key = WatermarkKey([7u8; 32]);
    let payload = [1, 2, 3, 4, 5, 6, 7, 8];
    let opts = EmbedOptions::default();
    let mut marked = host.clone();
    embed(&mut marked, 2, RATE, &payload, &key, &opts).unwrap();
    // quick real-time figures (best of 3, single thread)
    let mut best_e = f64::MAX;
    let mut best_d = f64::MAX;
    for _ in 0..3 {
        let mut x = host.clone();
        let t = Instant::now();
        embed(&mut x, 2, RATE, &payload, &key, &opts).unwrap();
        best_e = best_e.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let d = detect(&marked, 2, RATE, &key).unwrap();
        best_d = best_d.min(t.elapsed().as_secs_f64());
        assert!(d.is_some(), "bench input not detected");
    }
    println!("input: 60 s 44.1 kHz stereo ({what})");
    println!("embed  {:.3} s -> {:.0}x real time", best_e, SECS / best_e);
    println!("detect {:.3} s -> {:.0}x real time", best_d, SECS / best_d);

    let mut g = c.benchmark_group("wm_audio_60s_44k1_stereo");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("embed", |b| {
        b.iter_batched_ref(
            || host.clone(),
            |x| embed(black_box(x), 2, RATE, &payload, &key, &opts).unwrap(),
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_function("detect", |b| {
        b.iter(|| detect(black_box(&marked), 2, RATE, &key).unwrap())
    });
    g.finish();
}

/// The music as a 16-bit PCM WAV file's bytes.
fn wav_i16(host: &[f32]) -> Vec<u8> {
    aigcmark::audio::encode_wav_int(host, RATE, 2, 16).expect("a WAV")
}

/// The baseline: every sample of the WAV read (hound) and written into a new WAV in memory.
fn plain_read_write(wav: &[u8]) -> Vec<u8> {
    let mut r = hound::WavReader::new(std::io::Cursor::new(wav)).expect("a WAV");
    let spec = r.spec();
    let samples: Vec<i16> = r.samples::<i16>().map(|s| s.expect("a sample")).collect();
    aigcmark::audio::wav_from_i16(&samples, spec.sample_rate, spec.channels).expect("a WAV")
}

fn bench_wav(c: &mut Criterion) {
    let (host, what) = load_music();
    let wav = wav_i16(&host);
    drop(host);
    let key = WatermarkKey::public_default();
    let payload = Payload::from_id("0123456789abcdef").expect("16 hex digits");
    let embed_wav = |w: &[u8]| {
        aigcmark::embed_watermark(w, Format::Wav, payload, &key, 92, &Limits::default())
            .expect("marked")
    };
    assert_eq!(embed_wav(&wav).bytes.len(), wav.len());
    println!(
        "input: 60 s 44.1 kHz stereo 16-bit WAV, {} bytes ({what})",
        wav.len()
    );
    let mut g = c.benchmark_group("wm_audio_wav_60s");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(6))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("baseline_read_write", |b| {
        b.iter(|| plain_read_write(black_box(&wav)))
    });
    g.bench_function("embed_watermark", |b| b.iter(|| embed_wav(black_box(&wav))));
    // what the command now does: the bytes read are marked in place (the clone is set up
    // outside the timing)
    g.bench_function("embed_watermark_owned", |b| {
        b.iter_batched(
            || wav.clone(),
            |w| {
                aigcmark::embed_watermark_owned(
                    w,
                    Format::Wav,
                    payload,
                    &key,
                    92,
                    &Limits::default(),
                )
                .expect("marked")
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench, bench_wav);
criterion_main!(benches);
