//! Revocation: `aigcmark trust revoke` retires a key from a time on; seals made before stay
//! trusted, seals made at or after it are untrusted.

mod common;

use std::process::Command;

use aigcmark::trust::parse_time;
use aigcmark::{Format, LabelOptions, TrustStore, Verdict, VerifyOptions};
use common::{PRODUCER, demo_keys};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_aigcmark"))
}

#[test]
fn revoke_edits_the_store_and_splits_old_from_new_seals() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (signer, trust) = demo_keys(11, PRODUCER);
    let store = d.join("trust.json");
    std::fs::write(&store, trust.to_json()).unwrap();

    let label_at = |when: &str| {
        let mut o = LabelOptions::new(PRODUCER);
        o.signed_at = Some(parse_time(when).unwrap());
        aigcmark::label(
            "A generated sentence.".as_bytes(),
            Format::Text,
            &signer,
            &o,
        )
        .unwrap()
        .bytes
    };
    let old = label_at("2026-01-10T00:00:00Z");
    let new = label_at("2026-03-10T00:00:00Z");

    let o = bin()
        .args([
            "trust",
            "revoke",
            &signer.key_id(),
            "--at",
            "2026-02-01T00:00:00Z",
        ])
        .args(["--reason", "key-leaked", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(&store).unwrap();
    assert!(
        text.contains("\"revoked_at\": \"2026-02-01T00:00:00Z\""),
        "{text}"
    );
    assert!(text.contains("\"reason\": \"key-leaked\""), "{text}");
    // No temporary file is left beside the store.
    assert_eq!(std::fs::read_dir(d).unwrap().count(), 1);

    let revoked = TrustStore::load(&store).unwrap();
    let verdict = |bytes: &[u8]| {
        aigcmark::verify(bytes, Format::Text, &VerifyOptions::new(revoked.clone())).verdict
    };
    assert_eq!(verdict(&old), Verdict::LabeledIntact);
    assert_eq!(verdict(&new), Verdict::Untrusted);
    let r = aigcmark::verify(&new, Format::Text, &VerifyOptions::new(revoked.clone()));
    assert!(r.has_finding("seal.key_revoked"), "{:?}", r.findings);
    assert!(r.has_finding("seal.time_self_claimed"), "{:?}", r.findings);
    let r = aigcmark::verify(&old, Format::Text, &VerifyOptions::new(revoked.clone()));
    assert!(!r.has_finding("seal.key_revoked"), "{:?}", r.findings);
    // Before the revocation both were trusted.
    assert_eq!(
        aigcmark::verify(&new, Format::Text, &VerifyOptions::new(trust)).verdict,
        Verdict::LabeledIntact
    );

    // An unknown key id or a bad time changes nothing and fails.
    for args in [
        ["0000000000000000", "2026-02-01T00:00:00Z"],
        [&signer.key_id(), "yesterday"],
    ] {
        let o = bin()
            .args(["trust", "revoke", args[0], "--at", args[1], "--store"])
            .arg(&store)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(3));
        assert_eq!(std::fs::read_to_string(&store).unwrap(), text);
    }
}
