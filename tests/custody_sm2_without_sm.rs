//! A build without the `sm` feature meets an SM2-sealed file: the seal is reported as uncheckable
//! here (untrusted, an error finding), never `labeled_intact`, never a panic, and a trust store
//! listing an SM2 key still loads.
#![cfg(not(feature = "sm"))]

use std::path::Path;

use aigcmark::format::Format;
use aigcmark::{TrustStore, Verdict, VerifyOptions};

#[test]
fn sm2_seal_is_unverifiable_without_the_feature() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sm2");
    let store = TrustStore::load(&dir.join("trust.json")).unwrap();
    let bytes = std::fs::read(dir.join("labeled.txt")).unwrap();
    let report = aigcmark::verify(&bytes, Format::Text, &VerifyOptions::new(store));
    assert_eq!(report.verdict, Verdict::Untrusted, "{report:?}");
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.code == "seal.algorithm_unsupported"
                && f.severity == aigcmark::Severity::Error),
        "{report:?}"
    );
    let pem = std::fs::read_to_string(dir.join("key.pem")).unwrap();
    let err = aigcmark::Signer::from_pem(&pem).unwrap_err().to_string();
    assert!(err.contains("`sm`"), "{err}");
}
