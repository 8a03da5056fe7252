//! Text labeling and verification throughput on 1 MB of multilingual prose, against a plain
//! scan (UTF-8 validation and a character count) measured in the same run: of the text, and of
//! the labeled text `verify` reads (the markers of short paragraphs make it about 2.5 times as
//! long). Throughput is counted on the unlabeled text for every function.

use std::hint::black_box;

use aigcmark::text::label_str;
use aigcmark::trust::Role;
use aigcmark::{
    ExplicitOptions, Format, LabelOptions, Placement, Signer, TrustStore, Verdict, VerifyOptions,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "../tests/text_samples/mod.rs"]
mod text_samples;

const PRODUCER: &str = "001191000000MA00DEMO0X10000";

/// About 1 MB of paragraphs from every sample, numbered so no two are the same.
fn corpus() -> String {
    let mut s = String::with_capacity(1 << 20);
    let mut i = 0u32;
    while s.len() < 1 << 20 {
        for (_, t) in text_samples::ALL {
            s.push_str(&format!("§{i} "));
            s.push_str(t);
            s.push('\n');
            i += 1;
        }
    }
    s
}

fn bench(c: &mut Criterion) {
    let text = corpus();
    let signer = Signer::from_seed(&[5; 32]);
    let mut opts = LabelOptions::new(PRODUCER);
    opts.explicit = Some(ExplicitOptions {
        placement: Some(Placement::Start),
        ..Default::default()
    });
    let labeled = label_str(&text, &signer, &opts).unwrap();
    let mut trust = TrustStore::new();
    trust
        .add(TrustStore::entry_for(
            &signer.public_key(),
            PRODUCER,
            Role::Any,
        ))
        .unwrap();
    let vopts = VerifyOptions::new(trust);
    assert_eq!(
        aigcmark::verify(labeled.as_bytes(), Format::Text, &vopts).verdict,
        Verdict::LabeledIntact
    );

    let mut g = c.benchmark_group("text_1MB");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("plain_scan", |b| {
        b.iter(|| {
            std::str::from_utf8(black_box(text.as_bytes()))
                .unwrap()
                .chars()
                .count()
        })
    });
    g.bench_function("plain_scan_labeled", |b| {
        b.iter(|| {
            std::str::from_utf8(black_box(labeled.as_bytes()))
                .unwrap()
                .chars()
                .count()
        })
    });
    g.bench_function("digest", |b| {
        b.iter(|| aigcmark::formats::text::digest::digest(black_box(&text)))
    });
    g.bench_function("label_str", |b| {
        b.iter(|| label_str(black_box(&text), &signer, &opts).unwrap())
    });
    g.bench_function("verify", |b| {
        b.iter(|| aigcmark::verify(black_box(labeled.as_bytes()), Format::Text, &vopts).verdict)
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
