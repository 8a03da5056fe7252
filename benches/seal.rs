//! Sealing and verifying the label record alone (no file I/O, no content hashing).
//!
//! `cargo bench --bench seal`

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

use aigcmark::format::Format;
use aigcmark::seal::{Claims, Seal, seal_provider};
use aigcmark::{LabelKind, LabelRecord, Signer};

fn bench(c: &mut Criterion) {
    let signer = Signer::from_seed(&[1u8; 32]);
    let mut record = LabelRecord::new(
        LabelKind::Generated,
        "001191000000MA00DEMO0X10000",
        "0123456789abcdef0123456789abcdef",
    );
    let claims = Claims {
        format: Format::Png,
        content_digest: [7u8; 32],
        signed_at: 1_790_000_000,
        watermark_id: Some("0123456789abcdef".into()),
        explicit: None,
    };
    c.bench_function("seal: sign + serialise record", |b| {
        b.iter(|| {
            let mut r = record.clone();
            r.reserved_code1 = Some(seal_provider(&signer, black_box(&r), &claims).unwrap());
            black_box(r.to_json().unwrap())
        })
    });
    record.reserved_code1 = Some(seal_provider(&signer, &record, &claims).unwrap());
    let json = record.to_json().unwrap();
    c.bench_function("verify: parse record + parse seal + check signature", |b| {
        b.iter(|| {
            let parsed = LabelRecord::parse(black_box(&json), 64).record.unwrap();
            let seal = Seal::parse(parsed.reserved_code1.as_deref().unwrap()).unwrap();
            assert!(seal.verify_provider(&parsed));
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
