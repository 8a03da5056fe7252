//! Robustness harness for the audio watermark on the real corpus.
//!
//! `cargo run --release -p aigcmark-eval --bin wm_audio_robustness [-- --quick] [--only NAME,NAME] [--no-fp]`
//! `--quick`: 44.1 kHz stereo variants only, false-positive check on unchanged files only.
//! `--no-fp`: skip the false-positive checks (unmarked files, wrong key) for fast iteration.
//! Each item's line shows, per transformation, `<mark><index>:<matching>/<compared>(<-log10 p>)`
//! with mark `D` (detected, payload exact), `d` (detected), `.` (missed); after the table every
//! transformation that missed items lists them with their -log10 p (detection needs >= 6), or
//! only counts them when more than 10 were missed.
//! Corpus: `$AIGCMARK_CORPUS/audio` (default `$HOME/.cache/aigcmark-corpus/audio`).
//! Needs ffmpeg and sox on PATH for codecs, filters and speed changes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use aigcmark::watermark::audio::{
    EmbedOptions, WatermarkKey, detect, detect_best, detect_expected, embed,
};

#[derive(Clone)]
struct Audio {
    s: Vec<f32>,
    ch: usize,
    rate: u32,
}

impl Audio {
    fn secs(&self) -> f64 {
        self.s.len() as f64 / self.ch as f64 / self.rate as f64
    }
    fn slice_secs(&self, start: f64, dur: f64) -> Option<Audio> {
        let a = (start * self.rate as f64).round() as usize;
        let b = a + (dur * self.rate as f64).round() as usize;
        if b * self.ch > self.s.len() {
            return None;
        }
        Some(Audio {
            s: self.s[a * self.ch..b * self.ch].to_vec(),
            ch: self.ch,
            rate: self.rate,
        })
    }
}

fn tmpdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("wm_audio_rob_{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_raw(a: &Audio, p: &Path) {
    let mut b = Vec::with_capacity(a.s.len() * 4);
    for v in &a.s {
        b.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(p, b).unwrap();
}

fn read_raw(p: &Path, ch: usize, rate: u32) -> Audio {
    let b = std::fs::read(p).unwrap();
    let s = b
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Audio { s, ch, rate }
}

fn run(cmd: &mut Command) -> bool {
    match cmd.output() {
        Ok(o) if o.status.success() => true,
        Ok(o) => {
            eprintln!(
                "command failed: {:?}: {}",
                cmd,
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
            false
        }
        Err(e) => {
            eprintln!("cannot run {:?}: {e}", cmd);
            false
        }
    }
}

/// Decode any file to float at the given channels/rate (None = keep native).
fn load(path: &Path, ch: Option<usize>, rate: Option<u32>) -> Option<Audio> {
    let (nch, nrate) = probe(path)?;
    let ch = ch.unwrap_or(nch);
    let rate = rate.unwrap_or(nrate);
    let out = tmpdir().join("load.f32");
    let mut c = Command::new("ffmpeg");
    c.args(["-v", "error", "-y", "-i"]).arg(path).args([
        "-ac",
        &ch.to_string(),
        "-ar",
        &rate.to_string(),
    ]);
    if rate != nrate {
        c.args(["-af", "aresample=resampler=soxr"]);
    }
    c.args(["-f", "f32le"]).arg(&out);
    if !run(&mut c) {
        return None;
    }
    Some(read_raw(&out, ch, rate))
}

fn probe(path: &Path) -> Option<(usize, u32)> {
    let o = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=channels,sample_rate",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .ok()?;
    let t = String::from_utf8_lossy(&o.stdout);
    let mut it = t.trim().split(',');
    let rate: u32 = it.next()?.trim().parse().ok()?;
    let ch: usize = it.next()?.trim().parse().ok()?;
    Some((ch, rate))
}

/// Encode with ffmpeg args, decode back to float at `out_rate` (None = same rate).
fn ffmpeg_codec(a: &Audio, enc: &[&str], ext: &str, out_rate: Option<u32>) -> Option<Audio> {
    let d = tmpdir();
    let inp = d.join("in.f32");
    let mid = d.join(format!("mid.{ext}"));
    let out = d.join("out.f32");
    write_raw(a, &inp);
    let mut c = Command::new("ffmpeg");
    c.args([
        "-v",
        "error",
        "-y",
        "-f",
        "f32le",
        "-ar",
        &a.rate.to_string(),
        "-ac",
        &a.ch.to_string(),
        "-i",
    ])
    .arg(&inp)
    .args(enc)
    .arg(&mid);
    if !run(&mut c) {
        return None;
    }
    let rate = out_rate.unwrap_or(a.rate);
    let mut c = Command::new("ffmpeg");
    c.args(["-v", "error", "-y", "-i"])
        .arg(&mid)
        .args([
            "-ac",
            &a.ch.to_string(),
            "-ar",
            &rate.to_string(),
            "-f",
            "f32le",
        ])
        .arg(&out);
    if !run(&mut c) {
        return None;
    }
    let mut r = read_raw(&out, a.ch, rate);
    // encoder delay/padding: keep length comparable
    let want = (a.s.len() as f64 * rate as f64 / a.rate as f64) as usize / a.ch * a.ch;
    r.s.truncate(want.max(a.ch));
    Some(r)
}

/// sox effect chain on raw float, output at `out_rate` (None = same).
fn sox(a: &Audio, effects: &[&str], out_rate: Option<u32>) -> Option<Audio> {
    let d = tmpdir();
    let inp = d.join("sin.f32");
    let out = d.join("sout.f32");
    write_raw(a, &inp);
    let rate = out_rate.unwrap_or(a.rate);
    let fmt = |c: &mut Command, r: u32| {
        c.args([
            "-t",
            "raw",
            "-e",
            "floating-point",
            "-b",
            "32",
            "-c",
            &a.ch.to_string(),
            "-r",
            &r.to_string(),
        ]);
    };
    let mut c = Command::new("sox");
    c.arg("-D");
    fmt(&mut c, a.rate);
    c.arg(&inp);
    fmt(&mut c, rate);
    c.arg(&out).args(effects);
    if !run(&mut c) {
        return None;
    }
    Some(read_raw(&out, a.ch, rate))
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut z = self.0;
        z = (z ^ (z >> 33)).wrapping_mul(0xff51afd7ed558ccd);
        z ^ (z >> 33)
    }
    fn gauss(&mut self) -> f64 {
        let u1 = ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let u2 = ((self.next() >> 11) as f64) / (1u64 << 53) as f64;
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

fn add_noise(a: &Audio, snr_db: f64, rng: &mut Rng) -> Audio {
    let p = a.s.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / a.s.len().max(1) as f64;
    let sd = (p / 10f64.powf(snr_db / 10.0)).sqrt();
    Audio {
        s: a.s.iter().map(|v| v + (sd * rng.gauss()) as f32).collect(),
        ..a.clone()
    }
}

fn transforms() -> Vec<&'static str> {
    vec![
        "unchanged",
        "mp3 320k",
        "mp3 128k",
        "aac 128k",
        "resample 16k",
        "resample 22.05k->44.1k",
        "noise 30dB",
        "volume x0.5",
        "volume x1.8 clip",
        "low-pass 5k",
        "high-pass 500",
        "cut first 1.3s",
        "excerpt 10s",
        "stereo->mono",
        "mp3 64k",
        "opus 64k",
        "ogg vorbis q3",
        "noise 20dB",
        "echo 0.1s 0.3",
        "mp3 128k + aac 96k",
        "band-pass 300-8000",
        "excerpt 5s",
        "speed +5%",
        "speed -5%",
        "excerpt 3s",
        "excerpt 2s",
        "time-stretch +5%",
        "time-stretch -5%",
        "time-stretch +10%",
        "pitch +50c",
        "pitch -50c",
        "pitch +5%",
        "noise 15dB",
        "excerpt 3s any",
        "excerpt 2s any",
    ]
}

fn apply(name: &str, a: &Audio, rng: &mut Rng) -> Option<Audio> {
    let mid_ex = |d: f64| {
        if a.secs() < d {
            None
        } else {
            a.slice_secs((a.secs() - d) * 0.5, d)
        }
    };
    match name {
        "unchanged" => Some(a.clone()),
        "mp3 320k" => ffmpeg_codec(a, &["-c:a", "libmp3lame", "-b:a", "320k"], "mp3", None),
        "mp3 128k" => ffmpeg_codec(a, &["-c:a", "libmp3lame", "-b:a", "128k"], "mp3", None),
        "mp3 64k" => ffmpeg_codec(a, &["-c:a", "libmp3lame", "-b:a", "64k"], "mp3", None),
        "aac 128k" => ffmpeg_codec(a, &["-c:a", "aac", "-b:a", "128k"], "m4a", None),
        "opus 64k" => ffmpeg_codec(a, &["-c:a", "libopus", "-b:a", "64k"], "opus", None),
        "ogg vorbis q3" => ffmpeg_codec(a, &["-c:a", "libvorbis", "-q:a", "3"], "ogg", None),
        "mp3 128k + aac 96k" => {
            let m = ffmpeg_codec(a, &["-c:a", "libmp3lame", "-b:a", "128k"], "mp3", None)?;
            ffmpeg_codec(&m, &["-c:a", "aac", "-b:a", "96k"], "m4a", None)
        }
        "resample 16k" => sox(a, &["rate", "-v", "16000"], Some(16000)),
        "resample 22.05k->44.1k" => {
            let m = sox(a, &["rate", "-v", "22050"], Some(22050))?;
            sox(&m, &["rate", "-v", &a.rate.to_string()], Some(a.rate))
        }
        "noise 30dB" => Some(add_noise(a, 30.0, rng)),
        "noise 20dB" => Some(add_noise(a, 20.0, rng)),
        "volume x0.5" => Some(Audio {
            s: a.s.iter().map(|v| v * 0.5).collect(),
            ..a.clone()
        }),
        "volume x1.8 clip" => Some(Audio {
            s: a.s.iter().map(|v| (v * 1.8).clamp(-1.0, 1.0)).collect(),
            ..a.clone()
        }),
        "low-pass 5k" => sox(a, &["sinc", "-5000"], None),
        "high-pass 500" => sox(a, &["sinc", "500"], None),
        "band-pass 300-8000" => sox(a, &["sinc", "300-8000"], None),
        "cut first 1.3s" => a.slice_secs(1.3, a.secs() - 1.3),
        "excerpt 10s" => mid_ex(10.0),
        "excerpt 5s" => mid_ex(5.0),
        "excerpt 3s" => mid_ex(3.0),
        "excerpt 2s" => mid_ex(2.0),
        "echo 0.1s 0.3" => {
            let d = (0.1 * a.rate as f64).round() as usize * a.ch;
            let mut s = a.s.clone();
            for (v, &x) in s[d.min(a.s.len())..].iter_mut().zip(&a.s) {
                *v += 0.3 * x;
            }
            Some(Audio { s, ..a.clone() })
        }
        "stereo->mono" => {
            if a.ch < 2 {
                return None;
            }
            let s =
                a.s.chunks_exact(a.ch)
                    .map(|f| f.iter().sum::<f32>() / a.ch as f32)
                    .collect();
            Some(Audio {
                s,
                ch: 1,
                rate: a.rate,
            })
        }
        "speed +5%" => sox(
            a,
            &["speed", "1.05", "rate", "-v", &a.rate.to_string()],
            None,
        ),
        "speed -5%" => sox(
            a,
            &["speed", "0.95", "rate", "-v", &a.rate.to_string()],
            None,
        ),
        "time-stretch +5%" => sox(a, &["tempo", "1.05"], None),
        "time-stretch -5%" => sox(a, &["tempo", "0.95"], None),
        "time-stretch +10%" => sox(a, &["tempo", "1.10"], None),
        "pitch +50c" => sox(a, &["pitch", "50"], None),
        "pitch -50c" => sox(a, &["pitch", "-50"], None),
        // +84 cents: frequencies x1.05
        "pitch +5%" => sox(a, &["pitch", "84"], None),
        // the rows below draw from their own generator, seeded by the item's length, so the
        // older rows see the same payloads and noise as before they were added
        "noise 15dB" => Some(add_noise(a, 15.0, &mut Rng(a.s.len() as u64 ^ 0x15db))),
        // a random start anywhere in the file
        "excerpt 3s any" | "excerpt 2s any" => {
            let d = if name == "excerpt 3s any" { 3.0 } else { 2.0 };
            if a.secs() < d {
                return None;
            }
            let mut r = Rng(a.s.len() as u64 ^ (d as u64) << 32);
            let u = (r.next() >> 11) as f64 / (1u64 << 53) as f64;
            a.slice_secs((a.secs() - d) * u, d)
        }
        _ => None,
    }
}

#[derive(Default, Clone)]
struct Row {
    n: usize,
    /// --informed: items where `detect_expected` agrees with the embedded payload
    informed: usize,
    det: usize,
    exact: usize,
    bits_ok: usize,
    bits_n: usize,
    fp: usize,
    fp_n: usize,
    /// -log10 of the best candidate's false-positive probability, per item
    score: Vec<f64>,
    /// items not detected: (item label, -log10 p)
    missed: Vec<(String, f64)>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let no_fp = args.iter().any(|a| a == "--no-fp");
    let informed = args.iter().any(|a| a == "--informed");
    let mut informed_fp = 0;
    let only: Option<Vec<String>> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.split(',').map(|x| x.to_string()).collect());
    let max_secs: f64 = std::env::var("WM_MAX_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20.0);
    let corpus = std::env::var("AIGCMARK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/aigcmark-corpus")
        });
    let adir = corpus.join("audio");
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for sub in ["scsynth", "asterisk", "espeak", "alsa", "asc"] {
        if let Ok(rd) = std::fs::read_dir(adir.join(sub)) {
            let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
            v.sort();
            for p in v {
                let ext = p
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("")
                    .to_lowercase();
                if ["wav", "flac", "mp3", "ogg"].contains(&ext.as_str()) {
                    files.push((
                        format!("{sub}/{}", p.file_name().unwrap().to_string_lossy()),
                        p,
                    ));
                }
            }
        }
    }
    if files.is_empty() {
        eprintln!(
            "no corpus audio under {} (run scripts/fetch-corpus.sh or set AIGCMARK_CORPUS)",
            adir.display()
        );
        std::process::exit(2);
    }
    let key = WatermarkKey(*b"aigcmark-audio-robustness-key-01");
    let other_key = WatermarkKey(*b"aigcmark-audio-robustness-key-02");
    let opts = EmbedOptions::default();
    let mut rng = Rng(0x5eed);
    let names: Vec<&str> = transforms()
        .into_iter()
        .filter(|n| only.as_ref().is_none_or(|o| o.iter().any(|x| x == n)))
        .collect();
    let mut rows: Vec<Row> = vec![Row::default(); names.len()];
    let mut snrs = Vec::new();
    let (mut emb_t, mut emb_a, mut det_t, mut det_a) = (0f64, 0f64, 0f64, 0f64);
    let mut wrong_key_fp = 0;
    let mut items = 0;
    for (label, path) in &files {
        let Some((_, nrate)) = probe(path) else {
            continue;
        };
        // variants: 44.1 kHz stereo always; native rate mono for non-44.1k sources
        let mut variants: Vec<(String, Option<usize>, Option<u32>)> =
            vec![("44.1k/2ch".into(), Some(2), Some(44100))];
        if nrate != 44100 && !quick {
            variants.push((format!("{}k/1ch", nrate as f64 / 1000.0), Some(1), None));
        }
        for (vname, ch, rate) in variants {
            let Some(mut orig) = load(path, ch, rate) else {
                continue;
            };
            if orig.secs() < 5.0 {
                continue;
            }
            if orig.secs() > max_secs {
                orig = orig.slice_secs(0.0, max_secs).unwrap();
            }
            items += 1;
            let mut payload = [0u8; 8];
            payload.copy_from_slice(&rng.next().to_le_bytes());
            let mut marked = orig.clone();
            let t0 = Instant::now();
            let rep = match embed(&mut marked.s, marked.ch, marked.rate, &payload, &key, &opts) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{label}: embed error {e}");
                    continue;
                }
            };
            emb_t += t0.elapsed().as_secs_f64();
            emb_a += orig.secs();
            snrs.push(rep.snr_db);
            let mut line = format!(
                "{label:40} {vname:10} {:5.1}s snr {:5.1} dB a={:.3} |",
                orig.secs(),
                rep.snr_db,
                rep.alpha
            );
            for (ti, tn) in names.iter().enumerate() {
                let Some(tm) = apply(tn, &marked, &mut rng) else {
                    continue;
                };
                let t0 = Instant::now();
                let best = detect_best(&tm.s, tm.ch, tm.rate, &key).ok().flatten();
                if *tn == "unchanged" {
                    det_t += t0.elapsed().as_secs_f64();
                    det_a += tm.secs();
                }
                let r = &mut rows[ti];
                r.n += 1;
                if informed {
                    if let Ok(Some(c)) = detect_expected(&tm.s, tm.ch, tm.rate, &key, &payload) {
                        r.informed += usize::from(c.agrees);
                    }
                    if *tn == "unchanged"
                        && let Ok(Some(c)) =
                            detect_expected(&orig.s, orig.ch, orig.rate, &key, &payload)
                    {
                        informed_fp += usize::from(c.agrees);
                    }
                }
                let mut mark = '.';
                let lgp = best
                    .as_ref()
                    .map_or(0.0, |b| -b.false_positive_probability.max(1e-300).log10());
                r.score.push(lgp);
                if best
                    .as_ref()
                    .is_none_or(|b| b.false_positive_probability > 1e-6)
                {
                    r.missed.push((format!("{label} {vname}"), lgp));
                }
                if let Some(b) = &best {
                    let ok = (0..64)
                        .filter(|&i| (b.payload[i / 8] ^ payload[i / 8]) >> (7 - i % 8) & 1 == 0)
                        .count();
                    r.bits_ok += ok;
                    r.bits_n += 64;
                    if b.false_positive_probability <= 1e-6 {
                        r.det += 1;
                        mark = 'd';
                        if ok == 64 {
                            r.exact += 1;
                            mark = 'D';
                        }
                    }
                    line += &format!(
                        " {}{}:{}/{}({:.1})",
                        mark, ti, b.matching_bits, b.compared_bits, lgp
                    );
                }
                // false positives: unmarked original through the same transformation (with
                // --no-fp the noise rows still draw their noise, so the marked items see the
                // same noise as in a full run)
                if (!no_fp || tn.starts_with("noise"))
                    && (!quick || *tn == "unchanged")
                    && let Some(tu) = apply(tn, &orig, &mut rng)
                {
                    if no_fp {
                        continue;
                    }
                    r.fp_n += 1;
                    if let Ok(Some(_)) = detect(&tu.s, tu.ch, tu.rate, &key) {
                        r.fp += 1;
                        line += " FP!";
                    }
                }
                if *tn == "unchanged"
                    && !no_fp
                    && let Ok(Some(_)) = detect(&tm.s, tm.ch, tm.rate, &other_key)
                {
                    wrong_key_fp += 1;
                }
            }
            println!("{line}");
        }
    }
    println!();
    println!(
        "{} items (corpus files >= 5 s, at most {max_secs} s each), key-only detection, FP target 1e-6",
        items
    );
    println!(
        "{:28} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "transformation", "detected", "payload", "bit acc", "false pos", "med -lgp"
    );
    for (ti, tn) in names.iter().enumerate() {
        let r = &rows[ti];
        if r.n == 0 {
            continue;
        }
        let mut sc = r.score.clone();
        sc.sort_by(f64::total_cmp);
        let med = sc.get(sc.len() / 2).copied().unwrap_or(0.0);
        println!(
            "{:28} {:>8.1}% {:>8.1}% {:>8.1}% {:>5}/{:<4} {:>9.1}",
            tn,
            100.0 * r.det as f64 / r.n as f64,
            100.0 * r.exact as f64 / r.n as f64,
            if r.bits_n > 0 {
                100.0 * r.bits_ok as f64 / r.bits_n as f64
            } else {
                0.0
            },
            r.fp,
            r.fp_n,
            med
        );
    }
    if informed {
        println!("informed check (detect_expected with the embedded payload), agrees:");
        for (ti, tn) in names.iter().enumerate() {
            let r = &rows[ti];
            if r.n > 0 {
                println!(
                    "    {:28} {:>8.1}%",
                    tn,
                    100.0 * r.informed as f64 / r.n as f64
                );
            }
        }
        println!("    informed agreements on unmarked originals: {informed_fp}/{items}");
    }
    for (ti, tn) in names.iter().enumerate() {
        let r = &rows[ti];
        if r.missed.is_empty() {
            continue;
        }
        if r.missed.len() > 10 {
            println!("missed by {tn}: {} of {} items", r.missed.len(), r.n);
            continue;
        }
        println!("missed by {tn}:");
        for (item, lgp) in &r.missed {
            println!("    {item:52} -lgp {lgp:5.1}");
        }
    }
    let mean = snrs.iter().sum::<f64>() / snrs.len().max(1) as f64;
    let min = snrs.iter().cloned().fold(f64::INFINITY, f64::min);
    println!("wrong-key detections on marked files: {wrong_key_fp}/{items}");
    println!("SNR mean {mean:.1} dB, min {min:.1} dB");
    println!(
        "embed speed {:.0}x real time, detect speed {:.0}x real time (single thread, unchanged files)",
        emb_a / emb_t.max(1e-9),
        det_a / det_t.max(1e-9)
    );
    let _ = std::fs::remove_dir_all(tmpdir());
}
