//! Entry points shared by the fuzz targets (`fuzz/`) and the regression tests that replay what
//! the fuzzers found (`tests/fuzz_regressions.rs`), so both exercise exactly the same code.
//!
//! Each function must never panic, whatever the bytes; where a property must hold (a label
//! written is a label read; no input is trusted without a trusted key) it asserts it.

use crate::format::{Format, ScanOptions, WriteOptions};
use crate::label::LabelRecord;
use crate::limits::Limits;
use crate::report::Verdict;
use crate::seal::Seal;
use crate::trust::TrustStore;
use crate::verifier::{VerifyOptions, verify};
use crate::watermark::WatermarkKey;

/// Limits small enough that a fuzzer's input can reach every one of them.
pub fn small_limits() -> Limits {
    Limits {
        max_file_bytes: 1 << 20,
        max_pixels: 1 << 20,
        max_chunk_bytes: 1 << 18,
        max_decompressed_metadata: 1 << 16,
        max_text_bytes: 1 << 20,
        max_audio_seconds: 30.0,
        max_nesting_depth: 32,
    }
}

/// The label JSON parser, and the writer on whatever it read.
pub fn label_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = LabelRecord::parse(text, 32);
    if let Some(record) = parsed.record
        && let Ok(json) = record.to_json()
    {
        let again = LabelRecord::parse(&json, 32).record;
        assert_eq!(
            again.as_ref(),
            Some(&record),
            "written label reads back the same"
        );
    }
}

/// The seal parser and signature check.
pub fn seal(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(seal) = Seal::parse(text) {
        let record = LabelRecord::default();
        assert!(!seal.verify_provider(&record) || seal.header().len() < text.len());
        let _ = seal.verify_platform(&record);
        let _ = seal.key_id();
    }
}

/// The trust store parser.
pub fn trust_store(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(store) = TrustStore::from_json(text) {
        let again = TrustStore::from_json(&store.to_json()).expect("a store we wrote reads back");
        assert_eq!(again.entries().count(), store.entries().count());
    }
}

/// Verification of arbitrary bytes as `format`. With an empty trust store nothing may come out
/// as properly labeled.
pub fn verify_as(format: Format, data: &[u8]) {
    let mut opts = VerifyOptions::new(TrustStore::new());
    opts.limits = small_limits();
    opts.watermark_key = Some(WatermarkKey::public_default());
    let report = verify(data, format, &opts);
    assert_ne!(
        report.verdict,
        Verdict::LabeledIntact,
        "trusted without a trusted key"
    );
    let _ = serde_json::to_string(&report).expect("reports serialise");
    let _ = crate::verifier::inspect(data, format, &opts.limits, None);
}

/// Writing a label into arbitrary bytes of `format`: when the writer accepts the input, the
/// label must read back from its output.
pub fn write_then_read(format: Format, data: &[u8]) {
    const JSON: &str = r#"{"Label":"1","ContentProducer":"001191000000MA00DEMO0X10000","ProduceID":"fuzz","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}"#;
    let Ok(handler) = crate::formats::handler(format) else {
        return;
    };
    let limits = small_limits();
    let Ok(out) = handler.write_label(
        data,
        JSON,
        &WriteOptions {
            carriers: crate::format::CarrierChoice::Both,
            limits: &limits,
        },
    ) else {
        return;
    };
    let scan = handler
        .scan(
            &out,
            &ScanOptions {
                limits: &limits,
                watermark_key: None,
            },
        )
        .expect("a file we wrote scans");
    assert!(
        scan.carriers
            .iter()
            .any(|c| LabelRecord::parse(&c.value, 32)
                .record
                .and_then(|r| r.produce_id)
                .as_deref()
                == Some("fuzz")),
        "the label written into a {format} file reads back"
    );
}

/// Picks a format from the first byte, for targets that cover them all.
pub fn format_from_byte(b: u8) -> Format {
    Format::ALL[usize::from(b) % Format::ALL.len()]
}
