//! How do I label an image my model just made, in memory?
//!
//! `cargo run --example label_png_in_memory`: draws a small image, encodes it as PNG, labels it
//! (metadata label, seal, watermark) with the bundled demo key and checks the result.

use std::path::Path;

use aigcmark::{Format, LabelOptions, Signer, TrustStore, Verdict, VerifyOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // What a generator hands over: pixels.
    let img = image::RgbImage::from_fn(512, 384, |x, y| {
        image::Rgb([(x / 2) as u8, (y / 2) as u8, ((x + y) / 4) as u8])
    });
    let png = aigcmark::encode_image(&img.into(), Format::Png, 92)?;

    let signer = Signer::load(Path::new("samples/demo-key/signing.key"))?;
    let opts = LabelOptions::new("001191000000MA00DEMO0X10000");
    let labeled = aigcmark::label(&png, Format::Png, &signer, &opts)?;
    println!(
        "labeled PNG: {} bytes, ProduceID {}, watermark {}",
        labeled.bytes.len(),
        labeled.record.produce_id.as_deref().unwrap_or("-"),
        labeled.watermark_id.as_deref().unwrap_or("none")
    );

    let trust = TrustStore::load(Path::new("samples/demo-trust.json"))?;
    let report = aigcmark::verify(&labeled.bytes, Format::Png, &VerifyOptions::new(trust));
    println!(
        "verify: {} ({})",
        report.verdict.as_str(),
        report.headline()
    );
    assert_eq!(report.verdict, Verdict::LabeledIntact);
    Ok(())
}
