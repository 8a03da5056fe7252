//! The audible "AI" rhythm detector on hours of real speech and music.
//!
//! Run through `eval/rhythm_false_positives.sh`, which fetches the corpus (speech and music
//! from several packages) into `$AIGCMARK_CORPUS/rhythm/<source>/` and then calls
//! `cargo run --release -p aigcmark-eval --bin rhythm_false_positives -- <dir> [--sample N] [--no-true]`.
//!
//! Prints, per source and in total: files, hours, rhythms detected in the unlabeled audio (every
//! one is a false claim of an explicit label) and detections per hour; then, on rhythm-labeled
//! copies of a sample of the same files (every `k`-th file of each source, up to `--sample N`,
//! default 12, the rhythm at the start and at the end), how many of the inserted rhythms are
//! found plain, after `lame -b 64` and after `sox rate 16k` / `rate 22050`. Needs lame and sox for
//! the second part.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use aigcmark::audio::{add_rhythm, detect_rhythm, encode_wav_int};
use aigcmark::format::ScanOptions;
use aigcmark::formats::audio::decode::{Pcm, decode_all};
use aigcmark::watermark::audio::{EmbedOptions, WatermarkKey, embed};
use aigcmark::{Format, Limits, Placement};
use rayon::prelude::*;

fn format_of(p: &Path) -> Option<&'static str> {
    match p.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "wav" => Some("wav"),
        "mp3" => Some("mp3"),
        "flac" => Some("flac"),
        "ogg" => Some("ogg"),
        _ => None,
    }
}

fn decode(p: &Path) -> Option<Pcm> {
    let bytes = std::fs::read(p).ok()?;
    match decode_all(&bytes, format_of(p)?, &Limits::default()) {
        Ok(pcm) if pcm.frames() > 0 => Some(pcm),
        Ok(_) => None,
        Err(e) => {
            eprintln!("skipped {}: {e}", p.display());
            None
        }
    }
}

struct FileResult {
    seconds: f64,
    hits: Vec<String>,
}

/// The transformations the labeled copies go through, as program + arguments (`IN`/`OUT`
/// replaced by paths); the output is always decoded back from `OUT`.
const TRANSFORMS: [(&str, &str, &[&str]); 4] = [
    ("plain", "", &[]),
    ("mp3 64k", "lame", &["--quiet", "-b", "64", "IN", "OUT.mp3"]),
    ("sox 16k", "sox", &["IN", "-r", "16000", "OUT.wav"]),
    ("sox 22050", "sox", &["IN", "-r", "22050", "OUT.wav"]),
];

/// Found rhythms out of inserted ones, per transformation.
fn true_detections(pcm: &Pcm, tmp: &Path, tag: &str) -> [(u32, u32); 4] {
    let mut samples = pcm.samples.clone();
    let mut out = [(0u32, 0u32); 4];
    let Ok(placed) = add_rhythm(&mut samples, pcm.rate, pcm.channels, Placement::Both) else {
        return out;
    };
    let wav = tmp.join(format!("{tag}.wav"));
    let Ok(bytes) = encode_wav_int(&samples, pcm.rate, pcm.channels, 16) else {
        return out;
    };
    std::fs::write(&wav, bytes).unwrap();
    for (i, (_, prog, args)) in TRANSFORMS.iter().enumerate() {
        let decoded = if prog.is_empty() {
            decode(&wav)
        } else {
            let mut target = PathBuf::new();
            let args: Vec<String> = args
                .iter()
                .map(|a| match *a {
                    "IN" => wav.display().to_string(),
                    a if a.starts_with("OUT") => {
                        target = tmp.join(format!("{tag}-{i}{}", &a[3..]));
                        target.display().to_string()
                    }
                    a => a.to_string(),
                })
                .collect();
            let ok = Command::new(prog)
                .args(&args)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                eprintln!("{prog} failed on {}", wav.display());
                continue;
            }
            let d = decode(&target);
            let _ = std::fs::remove_file(&target);
            d
        };
        let Some(d) = decoded else { continue };
        let hits = detect_rhythm(&d.samples, d.rate, d.channels);
        for p in &placed {
            out[i].1 += 1;
            if hits
                .iter()
                .any(|h| (h.start - p.start).abs() < 0.1 && (h.end - p.end).abs() < 0.1)
            {
                out[i].0 += 1;
            }
        }
    }
    let _ = std::fs::remove_file(&wav);
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(
        args.first()
            .expect("usage: rhythm_false_positives DIR [--sample N] [--no-true]"),
    );
    let sample = args
        .iter()
        .position(|a| a == "--sample")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(12);
    let with_true = !args.iter().any(|a| a == "--no-true");
    let watermarked = args.iter().any(|a| a == "--watermarked");
    let at_rate = args
        .iter()
        .position(|a| a == "--at")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse::<u32>().ok());
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    sources.sort();
    let tmp = tempfile_dir();
    let started = Instant::now();

    println!(
        "{:<16} {:>6} {:>7} {:>6} {:>8}",
        "source", "files", "hours", "false", "per hour"
    );
    let (mut total_s, mut total_hits, mut total_files) = (0.0, 0usize, 0usize);
    let mut true_rows = Vec::new();
    for src in &sources {
        let name = src.file_name().unwrap().to_string_lossy().into_owned();
        let mut files: Vec<PathBuf> = std::fs::read_dir(src)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| format_of(p).is_some())
            .collect();
        files.sort();
        let results: Vec<FileResult> = files
            .par_iter()
            .filter_map(|p| {
                let mut pcm = match at_rate {
                    Some(rate) => resampled(p, rate)?,
                    None => decode(p)?,
                };
                if watermarked {
                    let _ = embed(
                        &mut pcm.samples,
                        usize::from(pcm.channels),
                        pcm.rate,
                        &[0x5a; 8],
                        &WatermarkKey::public_default(),
                        &EmbedOptions::default(),
                    );
                }
                let name = p.file_name().unwrap().to_string_lossy();
                let mut hits: Vec<(f64, f64, String)> =
                    detect_rhythm(&pcm.samples, pcm.rate, pcm.channels)
                        .iter()
                        .map(|h| {
                            (
                                h.start,
                                h.end,
                                format!(
                                    "{name} {:.2}s-{:.2}s {:.0} Hz unit {:.3}s purity {:.2}",
                                    h.start, h.end, h.frequency, h.unit, h.purity
                                ),
                            )
                        })
                        .collect();
                // What `verify` sees without the watermark search: the format's scan, which
                // decodes the first and last 10 s.
                let scanned = if at_rate.is_none() && !watermarked {
                    scan_marks(p)
                } else {
                    Vec::new()
                };
                for (at, what) in scanned {
                    let (a, b) = parse_location(&at);
                    if !hits.iter().any(|&(s, e, _)| a < e && s < b) {
                        hits.push((a, b, format!("{name} {at} (scan) {what}")));
                    }
                }
                Some(FileResult {
                    seconds: pcm.seconds(),
                    hits: hits.into_iter().map(|h| h.2).collect(),
                })
            })
            .collect();
        let secs: f64 = results.iter().map(|r| r.seconds).sum();
        let hits: Vec<&String> = results.iter().flat_map(|r| &r.hits).collect();
        println!(
            "{:<16} {:>6} {:>7.2} {:>6} {:>8.2}",
            name,
            results.len(),
            secs / 3600.0,
            hits.len(),
            hits.len() as f64 / (secs / 3600.0).max(1e-9)
        );
        for h in &hits {
            println!("    false rhythm: {h}");
        }
        total_s += secs;
        total_hits += hits.len();
        total_files += results.len();

        if with_true && sample > 0 && !files.is_empty() {
            let step = files.len().div_ceil(sample).max(1);
            let picked: Vec<&PathBuf> = files.iter().step_by(step).take(sample).collect();
            let counts: Vec<[(u32, u32); 4]> = picked
                .par_iter()
                .enumerate()
                .filter_map(|(i, p)| {
                    let pcm = decode(p)?;
                    Some(true_detections(&pcm, &tmp, &format!("{name}-{i}")))
                })
                .collect();
            let mut sum = [(0u32, 0u32); 4];
            for c in &counts {
                for (s, x) in sum.iter_mut().zip(c) {
                    s.0 += x.0;
                    s.1 += x.1;
                }
            }
            true_rows.push((name, counts.len(), sum));
        }
    }
    println!(
        "{:<16} {:>6} {:>7.2} {:>6} {:>8.2}",
        "total",
        total_files,
        total_s / 3600.0,
        total_hits,
        total_hits as f64 / (total_s / 3600.0).max(1e-9)
    );

    if with_true {
        println!();
        println!("rhythms found on labeled copies (start and end of each sampled file):");
        print!("{:<16} {:>6}", "source", "files");
        for (t, _, _) in TRANSFORMS {
            print!(" {t:>12}");
        }
        println!();
        let mut all = [(0u32, 0u32); 4];
        for (name, n, sum) in &true_rows {
            print!("{name:<16} {n:>6}");
            for (i, (found, of)) in sum.iter().enumerate() {
                print!(" {:>12}", format!("{found}/{of}"));
                all[i].0 += found;
                all[i].1 += of;
            }
            println!();
        }
        print!("{:<16} {:>6}", "total", "");
        for (found, of) in all {
            print!(
                " {:>12}",
                format!("{:.1}%", 100.0 * f64::from(found) / f64::from(of.max(1)))
            );
        }
        println!();
    }
    let _ = std::fs::remove_dir_all(&tmp);
    eprintln!("{:.0} s", started.elapsed().as_secs_f64());
}

/// The file as sox resamples it to `rate`, stereo (what a service at 44.1 kHz would hold).
fn resampled(p: &Path, rate: u32) -> Option<Pcm> {
    let out = Command::new("sox")
        .args(["-V1"])
        .arg(p)
        .args(["-t", "f32", "-c", "2", "-r", &rate.to_string(), "-"])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("sox failed on {}", p.display());
        return None;
    }
    let samples: Vec<f32> = out
        .stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Some(Pcm {
        samples,
        rate,
        channels: 2,
        ..Default::default()
    })
}

/// The explicit marks a format's scan reports (location, kind).
fn scan_marks(p: &Path) -> Vec<(String, String)> {
    let Some(format) = Format::from_path(p) else {
        return Vec::new();
    };
    let Ok(bytes) = std::fs::read(p) else {
        return Vec::new();
    };
    let limits = Limits::default();
    let opts = ScanOptions {
        limits: &limits,
        watermark_key: None,
        explicit: true,
    };
    aigcmark::formats::handler(format)
        .and_then(|h| h.scan(&bytes, &opts))
        .map(|scan| {
            scan.explicit
                .iter()
                .map(|m| (m.location.clone(), format!("{:?}", m.kind)))
                .collect()
        })
        .unwrap_or_default()
}

/// `1.25s-2.50s` as seconds.
fn parse_location(at: &str) -> (f64, f64) {
    let num = |t: &str| t.trim_end_matches('s').parse::<f64>().unwrap_or(0.0);
    at.split_once('-')
        .map(|(a, b)| (num(a), num(b)))
        .unwrap_or((0.0, 0.0))
}

fn tempfile_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("rhythm_fp_{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
