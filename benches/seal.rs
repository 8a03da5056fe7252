//! Sealing and verifying the label record alone (no file I/O, no content hashing).
//!
//! `cargo bench --bench seal`; with the `sm` feature (on by default) also the SM2 rows: the same
//! provider message signed and verified with SM2/SM3 instead of Ed25519.

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
    // The raw signature operations on a seal-sized message (about 200 bytes), both algorithms.
    let message = json.as_bytes();
    let sig = signer.sign(message).unwrap();
    c.bench_function("ed25519: sign seal message", |b| {
        b.iter(|| black_box(signer.sign(black_box(message)).unwrap()))
    });
    let pk = signer.public_key();
    c.bench_function("ed25519: verify seal message", |b| {
        b.iter(|| assert!(pk.verify(black_box(message), &sig)))
    });
    #[cfg(feature = "sm")]
    {
        // The same record sealed (AM2) and verified with SM2 instead of Ed25519.
        let sm2 = Signer::generate_with(aigcmark::SignatureAlgorithm::Sm2).unwrap();
        c.bench_function("seal sm2: sign + serialise record", |b| {
            b.iter(|| {
                let mut r = record.clone();
                r.reserved_code1 = Some(seal_provider(&sm2, black_box(&r), &claims).unwrap());
                black_box(r.to_json().unwrap())
            })
        });
        let mut r = record.clone();
        r.reserved_code1 = Some(seal_provider(&sm2, &r, &claims).unwrap());
        let json2 = r.to_json().unwrap();
        c.bench_function(
            "verify sm2: parse record + parse seal + check signature",
            |b| {
                b.iter(|| {
                    let parsed = LabelRecord::parse(black_box(&json2), 64).record.unwrap();
                    let seal = Seal::parse(parsed.reserved_code1.as_deref().unwrap()).unwrap();
                    assert!(seal.verify_provider(&parsed));
                })
            },
        );
        use aigcmark::sm;
        let key = sm::Sm2Signer::generate().unwrap();
        let public = key.public_key();
        let sig = key.sign(message);
        c.bench_function("sm2: sign seal message", |b| {
            b.iter(|| black_box(key.sign(black_box(message))))
        });
        c.bench_function("sm2: verify seal message", |b| {
            b.iter(|| assert!(sm::verify(&public, black_box(message), &sig)))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
