//! Bulk verification benchmark: labels real files from the corpus into a folder of a few thousand
//! mixed files (every third one left unlabeled, some altered), then verifies the folder on one
//! thread and on all cores, and prints files per second, the speed-up, and peak memory.
//!
//! `cargo run --release -p aigcmark-eval --bin bulk_verify -- [FILES] [--no-watermark]`
//! (run `scripts/fetch-corpus.sh` first)

use std::path::PathBuf;
use std::time::Instant;

use aigcmark::batch::{Order, collect_paths, verify_many};
use aigcmark::format::Format;
use aigcmark::trust::Role;
use aigcmark::{LabelOptions, Signer, TrustStore, VerifyOptions};

const PRODUCER: &str = "001191000000MA00DEMO0X10000";

fn corpus() -> PathBuf {
    std::env::var_os("AIGCMARK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/aigcmark-corpus")
        })
}

fn sources() -> Vec<(PathBuf, Format)> {
    let mut out = Vec::new();
    for sub in [
        "images/skimage",
        "images/mate",
        "audio/asterisk",
        "audio/scsynth",
        "audio/espeak",
    ] {
        let Ok(rd) = std::fs::read_dir(corpus().join(sub)) else {
            continue;
        };
        let mut files: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for p in files {
            if let Some(f) = Format::from_path(&p)
                && aigcmark::formats::handler(f).is_ok()
            {
                out.push((p, f));
            }
        }
    }
    for i in 0..20 {
        let p = std::env::temp_dir().join(format!("aigcmark-bulk-src-{i}.txt"));
        let text =
            format!("Paragraph {i} of generated text.\n\n第{i}段生成的文字。\n").repeat(20 + i);
        std::fs::write(&p, text).unwrap();
        out.push((p, Format::Text));
    }
    out
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(3000);
    let watermark = !args.iter().any(|a| a == "--no-watermark");
    if let Some(i) = args.iter().position(|a| a == "--verify-only") {
        return verify_only(std::path::Path::new(&args[i + 1]), watermark);
    }
    let signer = Signer::from_seed(&[1u8; 32]);
    let mut trust = TrustStore::new();
    trust
        .add(TrustStore::entry_for(
            &signer.public_key(),
            PRODUCER,
            Role::Any,
        ))
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let srcs = sources();
    assert!(!srcs.is_empty(), "no corpus: run scripts/fetch-corpus.sh");
    let t = Instant::now();
    let mut bytes_total = 0u64;
    // Label each source once (with the watermark, as a provider would), then copy.
    let mut prepared = Vec::new();
    for (p, f) in &srcs {
        let input = std::fs::read(p).unwrap();
        let mut o = LabelOptions::new(PRODUCER);
        o.watermark = watermark;
        let labeled = aigcmark::label(&input, *f, &signer, &o).ok();
        prepared.push((
            input,
            labeled,
            p.extension().unwrap().to_string_lossy().into_owned(),
        ));
    }
    for i in 0..count {
        let (input, labeled, ext) = &prepared[i % prepared.len()];
        let bytes: &[u8] = match (i % 3, labeled) {
            (0, _) | (_, None) => input,
            (_, Some(l)) => &l.bytes,
        };
        let path = dir.path().join(format!("{:05}.{ext}", i));
        std::fs::write(&path, bytes).unwrap();
        bytes_total += bytes.len() as u64;
    }
    println!(
        "prepared {count} files ({:.0} MiB, {} distinct sources) in {:.1} s",
        bytes_total as f64 / 1048576.0,
        srcs.len(),
        t.elapsed().as_secs_f64()
    );
    drop(prepared);
    // Verify in a fresh process, so its peak memory is the verifier's alone.
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--verify-only")
        .arg(dir.path())
        .args(if watermark {
            None
        } else {
            Some("--no-watermark")
        })
        .status()
        .unwrap();
    assert!(status.success());
}

fn verify_only(dir: &std::path::Path, watermark: bool) {
    let signer = Signer::from_seed(&[1u8; 32]);
    let mut trust = TrustStore::new();
    trust
        .add(TrustStore::entry_for(
            &signer.public_key(),
            PRODUCER,
            Role::Any,
        ))
        .unwrap();
    let paths = collect_paths(&[dir.to_path_buf()], true).unwrap();
    let mut opts = VerifyOptions::new(trust);
    if !watermark {
        opts.watermark_key = None;
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut rates = Vec::new();
    for threads in [1, cores] {
        let s = verify_many(&paths, &opts, threads, Order::Input, drop);
        println!(
            "{threads} thread(s): {} files in {:.2} s = {:.0} files/s; verdicts {:?}",
            s.files, s.seconds, s.files_per_second, s.by_verdict
        );
        rates.push(s.files_per_second);
    }
    println!("speed-up on {cores} cores: {:.2}x", rates[1] / rates[0]);
    println!(
        "peak resident memory of the verifying process: {:.0} MiB",
        peak_rss_mib()
    );
}
