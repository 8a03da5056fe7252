//! Both labels on a 1024×640 JPEG (metadata only), against c2pa-python signing the same file in
//! the same run; and verify with a C2PA manifest against verify without one. Targets (issue #17):
//! labeling with both at most c2pa-python's signing; verify with both at most twice verify
//! without C2PA.
//!
//! The c2pa-python side runs `tests/c2pa_tool.py bench` once per sample through criterion's
//! `iter_custom`: the script signs N times in memory and reports its own elapsed time, so
//! Python's start-up is not counted. It needs `AIGCMARK_PYTHON` to name a python with
//! c2pa-python (default `python3`).
//!
//! Run: `cargo bench --features c2pa --bench c2pa -- --warm-up-time 1 --measurement-time 5`

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use image::imageops::FilterType;

use aigcmark::formats::image::encode_image;
use aigcmark::{C2paSigner, Format, LabelOptions, Signer, TrustStore, VerifyOptions};

const PRODUCER: &str = "001191000000MA00DEMO0X10000";

fn bench(c: &mut Criterion) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let photo = image::open(root.join("samples/coffee.png")).expect("the sample decodes");
    let jpeg = encode_image(
        &photo.resize_exact(1024, 640, FilterType::Triangle),
        Format::Jpeg,
        92,
    )
    .unwrap();

    let signer = Signer::from_seed(&[9; 32]);
    let mut trust = TrustStore::new();
    trust
        .add(TrustStore::entry_for(
            &signer.public_key(),
            PRODUCER,
            aigcmark::trust::Role::Any,
        ))
        .unwrap();
    let certs = aigcmark::c2pa_test_certificates().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (chain, key, input) = (
        dir.path().join("chain.pem"),
        dir.path().join("key.pem"),
        dir.path().join("in.jpg"),
    );
    std::fs::write(&chain, &certs.chain_pem).unwrap();
    std::fs::write(&key, &certs.key_pem).unwrap();
    std::fs::write(&input, &jpeg).unwrap();

    let mut gb = LabelOptions::new(PRODUCER);
    gb.watermark = false;
    let mut both = gb.clone();
    both.c2pa = Some(C2paSigner::from_pem(&certs.chain_pem, &certs.key_pem).unwrap());

    let mut g = c.benchmark_group("sign-jpeg-1024x640");
    g.sample_size(20);
    g.bench_function("c2pa-python sign (baseline)", |b| {
        b.iter_custom(|iters| {
            let python = std::env::var_os("AIGCMARK_PYTHON").unwrap_or_else(|| "python3".into());
            let out = Command::new(python)
                .arg(root.join("tests/c2pa_tool.py"))
                .args(["bench", "image/jpeg"])
                .arg(&input)
                .arg(&chain)
                .arg(&key)
                .arg(iters.to_string())
                .output()
                .expect("python runs");
            assert!(
                out.status.success(),
                "c2pa_tool.py bench failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let mean: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
            Duration::from_secs_f64(mean * iters as f64)
        })
    });
    g.bench_function("aigcmark GB label only", |b| {
        b.iter(|| aigcmark::label(black_box(&jpeg), Format::Jpeg, &signer, &gb).unwrap())
    });
    g.bench_function("aigcmark GB label + C2PA", |b| {
        b.iter(|| aigcmark::label(black_box(&jpeg), Format::Jpeg, &signer, &both).unwrap())
    });
    g.finish();

    // Metadata only, then the default verify (watermark search on) of the same photo labeled
    // with its watermark, as a provider's output is: what a platform pays per upload.
    let mut opts = VerifyOptions::new(trust);
    opts.c2pa_trust = Some(certs.ca_pem.clone());
    for (group, watermark) in [
        ("verify-jpeg-1024x640", false),
        ("verify-default-jpeg-1024x640", true),
    ] {
        let (mut gb, mut both) = (gb.clone(), both.clone());
        gb.watermark = watermark;
        both.watermark = watermark;
        let labeled = |o: &LabelOptions| aigcmark::label(&jpeg, Format::Jpeg, &signer, o).unwrap();
        let (gb_only, with_c2pa) = (labeled(&gb).bytes, labeled(&both).bytes);
        opts.watermark_key = watermark.then(aigcmark::watermark::WatermarkKey::public_default);
        let mut g = c.benchmark_group(group);
        g.sample_size(20);
        g.bench_function("without C2PA (baseline)", |b| {
            b.iter(|| aigcmark::verify(black_box(&gb_only), Format::Jpeg, &opts))
        });
        g.bench_function("with C2PA", |b| {
            b.iter(|| aigcmark::verify(black_box(&with_c2pa), Format::Jpeg, &opts))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
