//! How do I verify a folder of uploads on all cores?
//!
//! `cargo run --example verify_folder [FOLDER]` (default `samples/`): lists the files aigcmark
//! reads, verifies them with `batch::verify_many` and prints one line per file and a summary.

use std::path::{Path, PathBuf};

use aigcmark::batch::{Order, collect_paths, verify_many};
use aigcmark::{TrustStore, VerifyOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folder = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "samples".into()));
    let paths = collect_paths(&[folder], true)?;
    let trust = TrustStore::load(Path::new("samples/demo-trust.json"))?;
    let opts = VerifyOptions::new(trust);
    // 0 threads: all cores. Reports arrive in input order as they finish.
    let summary = verify_many(&paths, &opts, 0, Order::Input, |report| {
        println!(
            "{}: {}",
            report.path.as_deref().unwrap_or("-"),
            report.verdict.as_str()
        );
    });
    println!(
        "{} files in {:.2} s; verdicts {:?}",
        summary.files, summary.seconds, summary.by_verdict
    );
    Ok(())
}
