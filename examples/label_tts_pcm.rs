//! How do I label speech from a TTS engine before my own encoder?
//!
//! `cargo run --example label_tts_pcm`: labels 6 s of synthetic 16-bit PCM (what a TTS engine
//! returns) and gets a WAV back with the metadata label, the seal and the watermark; the audible
//! Morse "AI" rhythm is added at the start.

use std::path::Path;

use aigcmark::format::{ExplicitOptions, Format, Placement};
use aigcmark::{LabelOptions, Signer, TrustStore, Verdict, VerifyOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rate = 22_050;
    // A voiced, syllable-like signal: a 140 Hz buzz with formants, switched on and off.
    let samples: Vec<i16> = (0..rate * 6)
        .map(|i| {
            let t = i as f32 / rate as f32;
            let on = ((t * 3.0).fract() < 0.7) as i32 as f32;
            let v = (t * 140.0 * std::f32::consts::TAU).sin() * 0.5
                + (t * 700.0 * std::f32::consts::TAU).sin() * 0.3
                + (t * 1_200.0 * std::f32::consts::TAU).sin() * 0.2;
            (v * on * 9_000.0) as i16
        })
        .collect();

    let signer = Signer::load(Path::new("samples/demo-key/signing.key"))?;
    let mut opts = LabelOptions::new("001191000000MA00DEMO0X10000");
    opts.explicit = Some(ExplicitOptions {
        placement: Some(Placement::Start),
        ..Default::default()
    });
    let labeled = aigcmark::audio::label_pcm_i16(&samples, rate as u32, 1, &signer, &opts)?;
    for note in &labeled.notes {
        println!("note: {}", note.message);
    }

    let trust = TrustStore::load(Path::new("samples/demo-trust.json"))?;
    let report = aigcmark::verify(&labeled.bytes, Format::Wav, &VerifyOptions::new(trust));
    println!(
        "{} bytes of WAV: {}; watermark {}; explicit {:?}",
        labeled.bytes.len(),
        report.verdict.as_str(),
        labeled.watermark_id.as_deref().unwrap_or("none"),
        report
            .explicit
            .iter()
            .map(|m| m.location.as_str())
            .collect::<Vec<_>>()
    );
    assert_eq!(report.verdict, Verdict::LabeledIntact);
    Ok(())
}
