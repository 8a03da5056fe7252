//! Unit tests. Synthetic hosts are harmonic "music" and a pulse-train "speech" with pauses; the
//! corpus tests read `$AIGCMARK_CORPUS/audio` (default `~/.cache/aigcmark-corpus/audio`) and FAIL
//! when it is missing.

use super::*;

const KEY: WatermarkKey = WatermarkKey([42u8; 32]);
const PAYLOAD: [u8; 8] = [0xA5, 0x01, 0x7E, 0x33, 0xC4, 0x99, 0x10, 0xEF];

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

/// Harmonic chords changing every 0.5 s over a quiet noise bed (mono).
fn music(rate: u32, secs: f64, seed: u64) -> Vec<f32> {
    let n = (rate as f64 * secs) as usize;
    let mut rng = Lcg(seed);
    let mut out = vec![0f32; n];
    let seg = rate as usize / 2;
    let roots = [110.0, 130.8, 146.8, 164.8, 196.0, 220.0, 246.9, 261.6];
    let mut lp = 0f32;
    for (s0, chunk) in out.chunks_mut(seg).enumerate() {
        let r = roots[(s0 * 5 + seed as usize) % roots.len()];
        let notes = [r, r * 1.26, r * 1.5, r * 2.0];
        for (i, v) in chunk.iter_mut().enumerate() {
            let t = (s0 * seg + i) as f64 / rate as f64;
            let env = (-((i as f64) / rate as f64) * 2.0).exp() as f32;
            let mut acc = 0f32;
            for (ni, f0) in notes.iter().enumerate() {
                for h in 1..24 {
                    let f = f0 * h as f64;
                    if f > rate as f64 * 0.45 {
                        break;
                    }
                    acc += ((2.0 * std::f64::consts::PI * f * t + ni as f64).sin() as f32)
                        / (h as f32 * 1.3);
                }
            }
            let nz = rng.next();
            lp = 0.7 * lp + 0.3 * nz;
            *v = 0.05 * acc * (0.3 + 0.7 * env) + 0.01 * nz + 0.02 * lp;
        }
    }
    out
}

/// Voiced pulse train through two formant resonators, 0.4 s syllables with 0.2 s exact-zero pauses.
fn speech(rate: u32, secs: f64, seed: u64) -> Vec<f32> {
    let n = (rate as f64 * secs) as usize;
    let mut rng = Lcg(seed);
    let mut out = vec![0f32; n];
    let (mut y1, mut y2, mut z1, mut z2) = (0f32, 0f32, 0f32, 0f32);
    let syl = (0.6 * rate as f64) as usize;
    let on = (0.4 * rate as f64) as usize;
    let mut phase = 0f64;
    for (i, o) in out.iter_mut().enumerate() {
        let k = i % syl;
        let s = i / syl;
        if k >= on {
            *o = 0.0;
            continue;
        }
        let f0 = 120.0 + 30.0 * ((s as f64) * 1.7).sin() + 20.0 * (k as f64 / on as f64);
        phase += f0 / rate as f64;
        let pulse = if phase >= 1.0 {
            phase -= 1.0;
            1.0
        } else {
            0.0
        };
        let x = pulse + 0.03 * rng.next();
        let res = |f: f64, bw: f64| {
            let r = (-std::f64::consts::PI * bw / rate as f64).exp();
            (
                2.0 * r * (2.0 * std::f64::consts::PI * f / rate as f64).cos(),
                -r * r,
            )
        };
        let (a1, a2) = res(500.0 + 200.0 * (s % 3) as f64, 80.0);
        let (b1, b2) = res(
            (1500.0 + 300.0 * (s % 4) as f64).min(rate as f64 * 0.4),
            120.0,
        );
        let y = x + a1 as f32 * y1 + a2 as f32 * y2;
        y2 = y1;
        y1 = y;
        let z = y + b1 as f32 * z1 + b2 as f32 * z2;
        z2 = z1;
        z1 = z;
        let env = (std::f64::consts::PI * k as f64 / on as f64).sin() as f32;
        *o = 0.02 * (y + 0.5 * z) * env;
    }
    out
}

fn stereo(m: &[f32]) -> Vec<f32> {
    let mut s = Vec::with_capacity(m.len() * 2);
    for (i, v) in m.iter().enumerate() {
        s.push(*v);
        s.push(*v * 0.8 + 0.002 * ((i as f32) * 0.001).sin());
    }
    s
}

fn snr_db(orig: &[f32], marked: &[f32]) -> f64 {
    let s: f64 = orig.iter().map(|v| (*v as f64).powi(2)).sum();
    let e: f64 = orig
        .iter()
        .zip(marked)
        .map(|(a, b)| ((*a - *b) as f64).powi(2))
        .sum();
    10.0 * (s / e).log10()
}

fn assert_found(x: &[f32], ch: usize, rate: u32, what: &str) -> Detection {
    let d = detect(x, ch, rate, &KEY)
        .expect("detect")
        .unwrap_or_else(|| {
            let b = detect_best(x, ch, rate, &KEY).unwrap();
            panic!("{what}: not detected (best candidate {:?})", b)
        });
    assert_eq!(d.payload, PAYLOAD, "{what}: payload");
    assert!(d.false_positive_probability <= 1e-6);
    d
}

fn marked(host: &[f32], ch: usize, rate: u32) -> Vec<f32> {
    let mut x = host.to_vec();
    let r = embed(&mut x, ch, rate, &PAYLOAD, &KEY, &EmbedOptions::default()).unwrap();
    assert!(r.snr_db >= 30.0, "snr {}", r.snr_db);
    x
}

#[test]
fn roundtrip_44k_stereo_music() {
    let host = stereo(&music(44100, 10.0, 1));
    let x = marked(&host, 2, 44100);
    let s = snr_db(&host, &x);
    assert!(s >= 30.0, "snr {s}");
    let d = assert_found(&x, 2, 44100, "44.1k stereo");
    assert!(d.start_seconds < 4.7, "start {}", d.start_seconds);
    assert_eq!(d.speed, 1.0);
}

#[test]
fn speed_change_plus_minus_5_percent_is_found() {
    let rate = 22050u32;
    let host = music(rate, 14.0, 9);
    let x = marked(&host, 1, rate);
    for speed in [1.05f64, 0.95] {
        // played `speed` times faster (tempo and pitch), kept at the same sample rate
        let y = super::resample::resample(
            &x,
            rate as f64 * speed,
            rate as f64,
            0.45 * rate as f64 * speed.min(1.0),
        );
        let d = assert_found(&y, 1, rate, &format!("speed {speed}"));
        // the fine grid points next to the passing coarse one are searched too and the best
        // is kept: the reported speed is the grid point nearest to the true one (0.15 % apart)
        assert!(
            (d.speed as f64 - speed).abs() < 0.0016,
            "speed {} vs {speed}",
            d.speed
        );
    }
    // the reported probability counts every speed, offset and phase
    assert_eq!(super::detect::TRIALS, (8 + 40 * 2 + 102 * 2) * 232);
}

/// Time-stretch by overlap-add of 50 ms Hann-squared grains, 12.5 ms apart at the output and
/// `12.5 ms * tempo` apart at the input: tempo changed, pitch kept, phases smeared (no waveform
/// alignment, cruder than WSOLA).
fn ola_tempo(x: &[f32], rate: u32, tempo: f64) -> Vec<f32> {
    let g = (0.05 * rate as f64) as usize;
    let hop = g / 4;
    let out_len = (x.len() as f64 / tempo) as usize;
    let win: Vec<f32> = (0..g)
        .map(|i| (std::f32::consts::PI * i as f32 / g as f32).sin().powi(2))
        .collect();
    let mut y = vec![0f32; out_len + g];
    let mut wsum = vec![0f32; out_len + g];
    for o in (0..out_len).step_by(hop) {
        let s = (o as f64 * tempo) as usize;
        if s + g > x.len() {
            break;
        }
        for i in 0..g {
            y[o + i] += win[i] * x[s + i];
            wsum[o + i] += win[i];
        }
    }
    y.truncate(out_len);
    for (v, w) in y.iter_mut().zip(&wsum) {
        *v = if *w > 1e-3 { *v / w } else { 0.0 };
    }
    y
}

#[test]
fn tempo_and_pitch_changes_are_found() {
    let rate = 22050u32;
    let host = music(rate, 14.0, 9);
    let x = marked(&host, 1, rate);
    for tempo in [1.05f64, 0.95, 1.1] {
        let y = ola_tempo(&x, rate, tempo);
        let d = detect(&y, 1, rate, &KEY).unwrap();
        let d = d.unwrap_or_else(|| panic!("tempo {tempo}: not detected"));
        // reported as the tempo grid point nearest to the true one (0.15 % apart), or the one
        // next to it
        assert!(
            (d.speed as f64 - tempo).abs() < 0.0046,
            "tempo {} vs {tempo}",
            d.speed
        );
    }
    for pitch in [1.03f64, 0.97, 1.05] {
        // frequencies x pitch, duration kept: stretch by pitch, then play pitch times faster
        let y = ola_tempo(&x, rate, 1.0 / pitch);
        let y = super::resample::resample(
            &y,
            rate as f64 * pitch,
            rate as f64,
            0.45 * rate as f64 * pitch.min(1.0),
        );
        let d = detect(&y, 1, rate, &KEY).unwrap();
        assert!(d.is_some(), "pitch {pitch}: not detected");
    }
    // the reported probability counts the tempo and pitch grid too
    assert_eq!(
        super::stretch::TRIALS,
        (2 * 34 + 2 * 17) * 2 * 232,
        "tempo and pitch trials"
    );
}

#[test]
fn roundtrip_mono_8k_16k_22k() {
    for (rate, seed) in [(8000u32, 2u64), (16000, 3), (22050, 4)] {
        let host = music(rate, 10.0, seed);
        let x = marked(&host, 1, rate);
        assert_found(&x, 1, rate, &format!("{rate} Hz mono"));
    }
}

#[test]
fn survives_resample_cut_excerpt_noise() {
    let host = music(44100, 12.0, 5);
    let x = marked(&host, 1, 44100);
    // resample to 16 kHz (kept)
    let r16 = resample::resample(&x, 44100.0, 16000.0, 7600.0);
    assert_found(&r16, 1, 16000, "resampled to 16 kHz");
    // first 1.3 s cut
    let cut = &x[(1.3 * 44100.0) as usize..];
    assert_found(cut, 1, 44100, "1.3 s cut");
    // 5 s excerpt from the middle (not period-aligned)
    let a = (3.37 * 44100.0) as usize;
    assert_found(&x[a..a + 5 * 44100], 1, 44100, "5 s excerpt");
    // white noise at 30 dB SNR
    let p = x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32;
    let sd = (p / 1000.0).sqrt() * 3f32.sqrt();
    let mut rng = Lcg(9);
    let noisy: Vec<f32> = x.iter().map(|v| v + sd * rng.next()).collect();
    assert_found(&noisy, 1, 44100, "noise 30 dB");
}

#[test]
fn speech_like_roundtrip_and_silence_stays_silent() {
    let host = speech(16000, 20.0, 7);
    let x = marked(&host, 1, 16000);
    for (i, (h, m)) in host.iter().zip(&x).enumerate() {
        if *h == 0.0 {
            // pauses are exact zeros in the host; the mark must not fill them
            let near = host[i.saturating_sub(20)..(i + 20).min(host.len())]
                .iter()
                .any(|v| *v != 0.0);
            if !near {
                assert_eq!(*m, 0.0, "sample {i} in a pause was changed");
            }
        }
    }
    assert_found(&x, 1, 16000, "speech-like 16k");
}

#[test]
fn silence_everywhere_is_untouched_and_not_detected() {
    let mut x = vec![0f32; 44100 * 6];
    let r = embed(&mut x, 2, 22050, &PAYLOAD, &KEY, &EmbedOptions::default()).unwrap();
    assert!(x.iter().all(|v| *v == 0.0));
    assert!(r.snr_db.is_infinite());
    assert!(detect(&x, 2, 22050, &KEY).unwrap().is_none());
}

#[test]
fn no_detection_on_unmarked_noise_or_wrong_key() {
    let host = music(44100, 10.0, 11);
    assert!(
        detect(&host, 1, 44100, &KEY).unwrap().is_none(),
        "unmarked music"
    );
    let sp = speech(22050, 8.0, 12);
    assert!(
        detect(&sp, 1, 22050, &KEY).unwrap().is_none(),
        "unmarked speech"
    );
    let mut rng = Lcg(13);
    let noise: Vec<f32> = (0..44100 * 8).map(|_| 0.1 * rng.next()).collect();
    assert!(
        detect(&noise, 1, 44100, &KEY).unwrap().is_none(),
        "white noise"
    );
    let x = marked(&host, 1, 44100);
    let other = WatermarkKey([43u8; 32]);
    assert!(detect(&x, 1, 44100, &other).unwrap().is_none(), "wrong key");
}

#[test]
fn i16_roundtrip() {
    let host: Vec<i16> = music(16000, 10.0, 21)
        .iter()
        .map(|v| (v * 32767.0) as i16)
        .collect();
    let mut x = host.clone();
    embed_i16(&mut x, 1, 16000, &PAYLOAD, &KEY, &EmbedOptions::default()).unwrap();
    let d = detect_i16(&x, 1, 16000, &KEY).unwrap().expect("detected");
    assert_eq!(d.payload, PAYLOAD);
}

#[test]
fn degenerate_inputs_do_not_panic() {
    let o = EmbedOptions::default();
    let mut empty: Vec<f32> = vec![];
    assert!(embed(&mut empty, 1, 44100, &PAYLOAD, &KEY, &o).is_err());
    assert!(matches!(detect(&empty, 1, 44100, &KEY), Ok(None) | Err(_)));
    let mut one = vec![0.5f32];
    assert!(embed(&mut one, 1, 44100, &PAYLOAD, &KEY, &o).is_err());
    assert!(matches!(detect(&one, 1, 44100, &KEY), Ok(None) | Err(_)));
    let mut x = vec![0.1f32; 1000];
    assert_eq!(
        embed(&mut x, 0, 44100, &PAYLOAD, &KEY, &o),
        Err(WmError::NoChannels)
    );
    assert!(detect(&x, 0, 44100, &KEY).is_err());
    assert!(matches!(
        embed(&mut x, 3, 44100, &PAYLOAD, &KEY, &o),
        Err(WmError::RaggedBuffer { .. })
    ));
    assert!(embed(&mut x, 1, 0, &PAYLOAD, &KEY, &o).is_err());
    assert!(embed(&mut x, 1, 4_000_000_000, &PAYLOAD, &KEY, &o).is_err());
    assert!(detect(&x, 1, u32::MAX, &KEY).is_err());
    let mut nan = vec![0.1f32; 10000];
    nan[500] = f32::NAN;
    assert_eq!(
        embed(&mut nan, 1, 16000, &PAYLOAD, &KEY, &o),
        Err(WmError::NonFinite)
    );
    assert!(detect(&nan, 1, 16000, &KEY).is_err());
    for bad in [f32::INFINITY, f32::NEG_INFINITY, -f32::NAN] {
        let mut v = vec![0.1f32; 10000];
        v[9999] = bad;
        assert_eq!(
            embed(&mut v, 1, 16000, &PAYLOAD, &KEY, &o),
            Err(WmError::NonFinite)
        );
        assert!(detect(&v, 1, 16000, &KEY).is_err());
    }
    assert!(super::all_finite(&[f32::MAX, -f32::MAX, 0.0, -0.0]));
    let bad = EmbedOptions {
        strength: f32::NAN,
        ..Default::default()
    };
    let mut y = music(16000, 1.0, 3);
    assert!(embed(&mut y, 1, 16000, &PAYLOAD, &KEY, &bad).is_err());
    // short but valid, many channels, high rate: no panic, no detection
    let mut z = vec![0.01f32; 6 * 96000 / 10];
    assert!(embed(&mut z, 6, 96000, &PAYLOAD, &KEY, &o).is_ok());
    assert!(detect(&z, 6, 96000, &KEY).unwrap().is_none());
    let mut huge_vals = vec![1e30f32; 16000];
    let _ = embed(&mut huge_vals, 1, 16000, &PAYLOAD, &KEY, &o);
    let _ = detect(&huge_vals, 1, 16000, &KEY);
    // odd lengths and rates
    for len in [2usize, 319, 320, 321, 641, 5000] {
        let mut v: Vec<f32> = (0..len)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
            .collect();
        let _ = embed(&mut v, 1, 8000, &PAYLOAD, &KEY, &o);
        let _ = detect(&v, 1, 8000, &KEY);
        let _ = detect(&v, 1, 44099, &KEY);
    }
}

#[test]
fn ninety_six_khz_and_odd_rate_roundtrip() {
    let host = music(96000, 8.0, 31);
    let x = marked(&host, 1, 96000);
    assert_found(&x, 1, 96000, "96 kHz");
}

fn corpus_audio() -> std::path::PathBuf {
    let base = std::env::var("AIGCMARK_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/aigcmark-corpus")
        });
    base.join("audio")
}

fn read_corpus_wav(rel: &str) -> (Vec<f32>, usize, u32) {
    let p = corpus_audio().join(rel);
    let r = hound::WavReader::open(&p).unwrap_or_else(|e| {
        panic!(
            "corpus file {} missing ({e}); run scripts/fetch-corpus.sh or set AIGCMARK_CORPUS",
            p.display()
        )
    });
    let spec = r.spec();
    let s: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            r.into_samples::<i32>()
                .map(|v| v.unwrap() as f32 * scale)
                .collect()
        }
        hound::SampleFormat::Float => r.into_samples::<f32>().map(|v| v.unwrap()).collect(),
    };
    (s, spec.channels as usize, spec.sample_rate)
}

#[test]
fn corpus_speech_8k_and_tts_22k() {
    for rel in ["asterisk/demo-congrats.wav", "espeak/cmn.wav"] {
        let (host, ch, rate) = read_corpus_wav(rel);
        let x = marked(&host, ch, rate);
        assert_found(&x, ch, rate, rel);
        assert!(
            detect(&host, ch, rate, &KEY).unwrap().is_none(),
            "{rel}: false positive on the original"
        );
    }
}

#[test]
fn pilot_cells_carry_the_pilot_gain() {
    use super::layout::{CELLS, Layout, PERIOD, PILOT_GAIN, PILOT_PER_FRAME};
    let layout = Layout::new(&KEY.0);
    let coded: Vec<bool> = (0..super::conv::CODED_BITS).map(|i| i % 3 == 0).collect();
    let signs = layout.signs(&coded);
    assert_eq!(signs.len(), PERIOD * CELLS);
    for f in 0..PERIOD {
        let row = &signs[f * CELLS..(f + 1) * CELLS];
        let pilots = row.iter().filter(|v| v.abs() == PILOT_GAIN).count();
        let data = row.iter().filter(|v| v.abs() == 1.0).count();
        assert_eq!((pilots, data), (PILOT_PER_FRAME, CELLS - PILOT_PER_FRAME));
        for &(c, chip) in &layout.pilots[f] {
            assert_eq!(row[c as usize], chip * PILOT_GAIN);
        }
    }
}

#[test]
fn informed_check_of_the_expected_payload() {
    let host = music(44100, 10.0, 21);
    let x = marked(&host, 1, 44100);
    let c = detect_expected(&x, 1, 44100, &KEY, &PAYLOAD)
        .unwrap()
        .expect("candidate");
    assert!(c.agrees && c.decoded_matches, "{c:?}");
    assert!(c.false_agreement_probability <= 1e-6 && c.z > 5.26);
    assert!(c.coded_bit_agreement > 0.9, "{c:?}");
    // the decision of `detect` is unchanged
    assert_eq!(
        Some(c.detection.clone()),
        detect(&x, 1, 44100, &KEY).unwrap()
    );
    // another payload: high z (most coded bits agree) but not the decoded one
    let mut other = PAYLOAD;
    other[3] ^= 0x10;
    let c = detect_expected(&x, 1, 44100, &KEY, &other)
        .unwrap()
        .unwrap();
    assert!(!c.agrees && !c.decoded_matches, "{c:?}");
    assert!(c.coded_bit_agreement < 0.95, "{c:?}");
    // unmarked audio and a wrong key: no agreement
    let c = detect_expected(&host, 1, 44100, &KEY, &PAYLOAD)
        .unwrap()
        .unwrap();
    assert!(!c.agrees && c.false_agreement_probability > 1e-6, "{c:?}");
    let c = detect_expected(&x, 1, 44100, &WatermarkKey([43u8; 32]), &PAYLOAD)
        .unwrap()
        .unwrap();
    assert!(!c.agrees && c.false_agreement_probability > 1e-6, "{c:?}");
}
