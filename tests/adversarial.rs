//! Hostile and broken input: every case ends in a defined verdict or finding, never a panic, and
//! never as properly labeled.

mod common;

use aigcmark::format::{Format, WriteOptions};
use aigcmark::{LabelOptions, Limits, TrustStore, Verdict, VerifyOptions};
use common::{PRODUCER, demo_keys};

fn verify_with(bytes: &[u8], format: Format, trust: &TrustStore) -> aigcmark::Report {
    aigcmark::verify(bytes, format, &VerifyOptions::new(trust.clone()))
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
fn garbage(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn zero_length_and_garbage_never_verify_as_labeled() {
    let (_, trust) = demo_keys(1, PRODUCER);
    for format in Format::ALL {
        for (i, bytes) in [
            Vec::new(),
            garbage(1, 1),
            garbage(7, 2),
            garbage(4096, 3),
            garbage(100_000, 4),
        ]
        .into_iter()
        .enumerate()
        {
            let r = verify_with(&bytes, format, &trust);
            assert!(
                !matches!(r.verdict, Verdict::LabeledIntact | Verdict::LabeledUnsigned),
                "{format} garbage #{i}: {:?}",
                r.verdict
            );
        }
    }
}

#[test]
fn invalid_utf8_and_lone_surrogates_in_text() {
    let (_, trust) = demo_keys(1, PRODUCER);
    // A lone surrogate (U+D800) as WTF-8/CESU bytes, an overlong encoding, a stray continuation.
    for bytes in [
        &b"abc\xED\xA0\x80def"[..],
        b"\xC0\xAF",
        b"plain \x80 text",
        b"\xFF\xFE\x00a\x00",
    ] {
        let r = verify_with(bytes, Format::Text, &trust);
        assert_eq!(r.verdict, Verdict::Error, "{bytes:?}");
        assert!(r.has_finding("file.unreadable"));
    }
}

#[test]
fn deeply_nested_json_in_a_carrier_is_a_finding() {
    let (_, trust) = demo_keys(1, PRODUCER);
    let limits = Limits::default();
    let handler = aigcmark::formats::handler(Format::Text).unwrap();
    let deep = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
    let wrote = handler.write_label(
        b"some text",
        &deep,
        &WriteOptions {
            secondary_carriers: true,
            limits: &limits,
        },
    );
    if let Ok(bytes) = wrote {
        let r = verify_with(&bytes, Format::Text, &trust);
        assert_ne!(r.verdict, Verdict::LabeledIntact);
        assert!(r.has_finding("label.too_deep"), "{:?}", r.findings);
    }
}

#[test]
fn text_over_the_size_limit_is_refused_cleanly() {
    let (_, trust) = demo_keys(1, PRODUCER);
    let mut opts = VerifyOptions::new(trust);
    opts.limits.max_text_bytes = 1000;
    let r = aigcmark::verify(&vec![b'a'; 5000], Format::Text, &opts);
    assert_eq!(r.verdict, Verdict::Error);
}

#[test]
fn truncated_labeled_text_is_never_intact() {
    let (signer, trust) = demo_keys(1, PRODUCER);
    let text = "Generated paragraph one.\n\n生成的第二段。\n".repeat(3);
    let out = aigcmark::label(
        text.as_bytes(),
        Format::Text,
        &signer,
        &LabelOptions::new(PRODUCER),
    )
    .unwrap();
    for cut in (1..out.bytes.len()).step_by(7) {
        let r = verify_with(&out.bytes[..cut], Format::Text, &trust);
        assert_ne!(r.verdict, Verdict::LabeledIntact, "cut at {cut}");
    }
}
