//! How do I check an upload I hold in memory?
//!
//! `cargo run --example verify_bytes [FILE]`: verifies a file's bytes (default: the bundled
//! sample photo, labeled first) against the demo trust store and prints the JSON report.

use std::path::Path;

use aigcmark::{Format, LabelOptions, Signer, TrustStore, VerifyOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (bytes, format) = match std::env::args().nth(1) {
        Some(path) => {
            let bytes = std::fs::read(&path)?;
            let format = Format::detect(Some(Path::new(&path)), &bytes[..bytes.len().min(64)])
                .ok_or("not a format aigcmark reads")?;
            (bytes, format)
        }
        None => {
            let photo = std::fs::read("samples/chelsea.jpg")?;
            let signer = Signer::load(Path::new("samples/demo-key/signing.key"))?;
            let mut opts = LabelOptions::new("001191000000MA00DEMO0X10000");
            opts.watermark = false;
            let labeled = aigcmark::label(&photo, Format::Jpeg, &signer, &opts)?;
            (labeled.bytes, Format::Jpeg)
        }
    };
    let trust = TrustStore::load(Path::new("samples/demo-trust.json"))?;
    let mut opts = VerifyOptions::new(trust);
    opts.watermark_key = None; // metadata only: the fast check an upload path runs first
    let report = aigcmark::verify(&bytes, format, &opts);
    println!("{}", serde_json::to_string_pretty(&report)?);
    // The exit class a platform acts on: 0 intact, 1 not verifiably labeled, 2 bad, 3 error.
    std::process::exit(i32::from(report.verdict.exit_class()));
}
