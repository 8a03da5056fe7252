//! Metadata-only labeling and verification of PNG and JPEG photographs, against plainly decoding
//! the same file in the same run (the baseline). Target: each at most a tenth of a decode.
//! `verify + watermark` adds the watermark search verify does by default (a decode and a
//! detection), for comparison.
//!
//! Run: `cargo bench --bench image_label -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use image::imageops::FilterType;

use aigcmark::encode_image;
use aigcmark::{Format, LabelOptions, Signer, TrustStore, VerifyOptions};

#[path = "../tests/common/mod.rs"]
mod common;

fn bench(c: &mut Criterion) {
    let photo =
        image::open(common::corpus_file("images/mate/Aqua.jpg")).expect("the corpus photo decodes");
    let signer = Signer::from_seed(&[9; 32]);
    let mut trust = TrustStore::new();
    trust
        .add(TrustStore::entry_for(
            &signer.public_key(),
            common::PRODUCER,
            aigcmark::trust::Role::Any,
        ))
        .unwrap();
    let mut opts = LabelOptions::new(common::PRODUCER);
    opts.watermark = false;
    let with_watermark = VerifyOptions::new(trust);
    let mut verify_opts = with_watermark.clone();
    verify_opts.watermark_key = None;

    for (w, h) in [(1024u32, 640u32), (2560, 1600)] {
        let img = photo.resize_exact(w, h, FilterType::Triangle);
        for format in [Format::Jpeg, Format::Png] {
            let bytes = encode_image(&img, format, 92).unwrap();
            let labeled = aigcmark::label(&bytes, format, &signer, &opts)
                .unwrap()
                .bytes;
            let mut g = c.benchmark_group(format!("{format}-{w}x{h}"));
            g.sample_size(10);
            g.bench_function("decode (baseline)", |b| {
                b.iter(|| image::load_from_memory(black_box(&bytes)).unwrap())
            });
            g.bench_function("label", |b| {
                b.iter(|| aigcmark::label(black_box(&bytes), format, &signer, &opts).unwrap())
            });
            g.bench_function("verify", |b| {
                b.iter(|| aigcmark::verify(black_box(&labeled), format, &verify_opts))
            });
            g.bench_function("verify + watermark", |b| {
                b.iter(|| aigcmark::verify(black_box(&labeled), format, &with_watermark))
            });
            g.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
