//! The core's behaviour, end to end through the text format: every verdict, every sealed field,
//! copied labels, trust decisions and platform countersignatures.

mod common;

use aigcmark::format::{Format, WriteOptions};
use aigcmark::report::{BindingStatus, SignatureStatus};
use aigcmark::trust::{Role, TrustEntry};
use aigcmark::{
    LabelOptions, LabelRecord, Limits, PropagateOptions, Signer, TrustStore, Verdict, VerifyOptions,
};
use common::{PLATFORM, PRODUCER, demo_keys};

const TEXT: &str = "这是一段由模型写成的文字。\n\nThe model wrote this paragraph, too.\n";
const OTHER: &str = "A different text that nobody labeled.\n";

fn opts() -> LabelOptions {
    let mut o = LabelOptions::new(PRODUCER);
    o.produce_id = Some("demo-0001".into());
    o.signed_at = Some(1_790_000_000);
    // The core's tests rewrite the record into the bare text; the prompt is the text tests' part.
    o.explicit_for_text = false;
    o
}

fn verify(bytes: &[u8], trust: &TrustStore) -> aigcmark::Report {
    aigcmark::verify(bytes, Format::Text, &VerifyOptions::new(trust.clone()))
}

/// Writes `record` (as given, not re-sealed) into `content` through the format's own writer.
fn with_record(content: &[u8], record: &LabelRecord) -> Vec<u8> {
    let json = raw_json(record);
    write_raw(content, &json)
}

fn write_raw(content: &[u8], json: &str) -> Vec<u8> {
    let limits = Limits::default();
    aigcmark::formats::handler(Format::Text)
        .unwrap()
        .write_label(
            content,
            json,
            &WriteOptions {
                carriers: aigcmark::format::CarrierChoice::Both,
                limits: &limits,
            },
        )
        .unwrap()
}

/// The record as JSON without the writer's checks (so tests can write what a forger would).
fn raw_json(r: &LabelRecord) -> String {
    let fields: serde_json::Map<String, serde_json::Value> = r
        .fields()
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                serde_json::Value::String(v.unwrap_or("").to_string()),
            )
        })
        .collect();
    serde_json::to_string(&fields).unwrap()
}

fn labeled() -> (Signer, TrustStore, aigcmark::Labeled) {
    let (signer, trust) = demo_keys(1, PRODUCER);
    let out = aigcmark::label(TEXT.as_bytes(), Format::Text, &signer, &opts()).unwrap();
    (signer, trust, out)
}

#[test]
fn labeled_and_intact() {
    let (signer, trust, out) = labeled();
    let r = verify(&out.bytes, &trust);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{r:#?}");
    assert_eq!(r.signature.status, SignatureStatus::Valid);
    assert_eq!(
        r.signature.key_id.as_deref(),
        Some(signer.key_id().as_str())
    );
    assert_eq!(r.signature.owner.as_deref(), Some(PRODUCER));
    assert_eq!(r.binding.status, BindingStatus::Match);
    let label = r.label.unwrap();
    assert_eq!(label.label.as_deref(), Some("1"));
    assert_eq!(label.produce_id.as_deref(), Some("demo-0001"));
    assert!(label.reserved_code1.unwrap().starts_with("AM1;"));
}

#[test]
fn unlabeled_content() {
    let (_, trust) = demo_keys(1, PRODUCER);
    let r = verify(OTHER.as_bytes(), &trust);
    assert_eq!(r.verdict, Verdict::Unlabeled);
    assert!(r.label.is_none());
    assert_eq!(r.signature.status, SignatureStatus::Absent);
}

#[test]
fn altered_content_breaks_the_binding() {
    let (_, trust, out) = labeled();
    let text = String::from_utf8(out.bytes)
        .unwrap()
        .replace("paragraph", "sentence");
    let r = verify(text.as_bytes(), &trust);
    assert_eq!(r.verdict, Verdict::Altered, "{r:#?}");
    assert_eq!(r.signature.status, SignatureStatus::Valid);
    assert_eq!(r.binding.status, BindingStatus::Mismatch);
    assert!(r.has_finding("binding.mismatch"));
}

#[test]
fn label_copied_onto_other_content_is_caught() {
    let (_, trust, out) = labeled();
    let copied = with_record(OTHER.as_bytes(), &out.record);
    let r = verify(&copied, &trust);
    assert_eq!(r.verdict, Verdict::Altered);
    assert_eq!(r.binding.status, BindingStatus::Mismatch);
    assert_eq!(
        r.signature.status,
        SignatureStatus::Valid,
        "the seal itself is genuine"
    );
}

#[test]
fn label_moved_to_another_format_is_caught() {
    let (_, trust, out) = labeled();
    let r = aigcmark::verify(&out.bytes, Format::Markdown, &VerifyOptions::new(trust));
    assert_eq!(r.verdict, Verdict::Altered);
    assert!(r.has_finding("binding.format_mismatch"));
}

#[test]
fn every_sealed_field_changed_by_one_character_invalidates_the_seal() {
    let (_, trust, out) = labeled();
    let unlabeled = |r: &LabelRecord| with_record(TEXT.as_bytes(), r);
    let one_char = |s: &str, at: usize| -> String {
        let mut b = s.as_bytes().to_vec();
        b[at] = if b[at] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).unwrap()
    };
    // The label fields the seal protects.
    let mut cases: Vec<(String, LabelRecord)> = Vec::new();
    for (name, edit) in [
        (
            "Label",
            &(|r: &mut LabelRecord| r.label = Some("2".into())) as &dyn Fn(&mut LabelRecord),
        ),
        ("ContentProducer", &|r: &mut LabelRecord| {
            r.content_producer = Some(r.content_producer.as_deref().unwrap().replacen('0', "1", 1))
        }),
        ("ProduceID", &|r: &mut LabelRecord| {
            r.produce_id = Some("demo-0002".into())
        }),
    ] {
        let mut r = out.record.clone();
        edit(&mut r);
        cases.push((name.to_string(), r));
    }
    // Each field inside the seal: key, time, format, digest.
    let rc1 = out.record.reserved_code1.clone().unwrap();
    for field in ["k=", "t=", "f=", "cd="] {
        let at = rc1.find(field).unwrap() + field.len();
        let mut r = out.record.clone();
        r.reserved_code1 = Some(one_char(&rc1, at));
        cases.push((format!("ReservedCode1 {field}"), r));
    }
    for (name, record) in cases {
        let r = verify(&unlabeled(&record), &trust);
        assert!(
            matches!(r.verdict, Verdict::Forged),
            "{name}: expected forged, got {:?} ({:?})",
            r.verdict,
            r.findings
        );
        assert_ne!(r.signature.status, SignatureStatus::Valid, "{name}");
    }
}

#[test]
fn key_missing_from_trust_store_is_untrusted() {
    let (_, _, out) = labeled();
    let (_, other_trust) = demo_keys(2, PRODUCER);
    for trust in [TrustStore::new(), other_trust] {
        let r = verify(&out.bytes, &trust);
        assert_eq!(r.verdict, Verdict::Untrusted);
        assert_eq!(r.signature.status, SignatureStatus::Untrusted);
        assert!(r.has_finding("seal.key_unknown"));
        assert_eq!(r.binding.status, BindingStatus::Match);
    }
}

#[test]
fn key_outside_its_validity_window_is_untrusted() {
    let (signer, _, out) = labeled();
    let mut entry: TrustEntry =
        TrustStore::entry_for(&signer.public_key(), PRODUCER, Role::Provider);
    entry.not_before = Some("2027-01-01T00:00:00Z".into());
    let mut trust = TrustStore::new();
    trust.add(entry).unwrap();
    let r = verify(&out.bytes, &trust);
    assert_eq!(r.verdict, Verdict::Untrusted);
    assert!(r.has_finding("seal.key_outside_validity"));
}

#[test]
fn trusted_key_cannot_speak_for_another_producer() {
    let (signer, trust) = demo_keys(1, PRODUCER);
    let mut o = opts();
    o.content_producer = "001191000000MA00OTHER010000".into();
    let out = aigcmark::label(TEXT.as_bytes(), Format::Text, &signer, &o).unwrap();
    let r = verify(&out.bytes, &trust);
    assert_eq!(r.verdict, Verdict::Untrusted);
    assert!(r.has_finding("seal.producer_mismatch"));
}

#[test]
fn unsigned_label_is_reported_as_such() {
    let (_, trust) = demo_keys(1, PRODUCER);
    let record = LabelRecord::new(aigcmark::LabelKind::Generated, PRODUCER, "x-1");
    let r = verify(&with_record(TEXT.as_bytes(), &record), &trust);
    assert_eq!(r.verdict, Verdict::LabeledUnsigned);
    assert!(r.has_finding("seal.absent"));
}

#[test]
fn foreign_reserved_code_is_not_a_forgery() {
    let (_, trust) = demo_keys(1, PRODUCER);
    let mut record = LabelRecord::new(aigcmark::LabelKind::Generated, PRODUCER, "x-1");
    record.reserved_code1 = Some("5d41402abc4b2a76b9719d911017c592aabbccdd".into());
    let r = verify(&with_record(TEXT.as_bytes(), &record), &trust);
    assert_eq!(r.verdict, Verdict::LabeledUnsigned);
    assert!(r.has_finding("seal.foreign"));
}

#[test]
fn damaged_seal_is_forged() {
    let (_, trust, out) = labeled();
    let mut record = out.record.clone();
    record.reserved_code1 = Some("AM1;k=abc;s=def".into());
    let r = verify(&with_record(TEXT.as_bytes(), &record), &trust);
    assert_eq!(r.verdict, Verdict::Forged);
    assert!(r.has_finding("seal.malformed"));
}

#[test]
fn platform_countersign_keeps_the_provider_seal() {
    let (_, mut trust, out) = labeled();
    let platform = Signer::from_seed(&[9u8; 32]);
    trust
        .add(TrustStore::entry_for(
            &platform.public_key(),
            PLATFORM,
            Role::Platform,
        ))
        .unwrap();
    let mut p = PropagateOptions::new(PLATFORM);
    p.propagate_id = Some("video-77".into());
    let prop = aigcmark::propagate(&out.bytes, Format::Text, &platform, &p).unwrap();
    let r = verify(&prop.bytes, &trust);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{r:#?}");
    assert_eq!(r.signature.status, SignatureStatus::Valid);
    let pr = r.propagation.as_ref().unwrap();
    assert_eq!(pr.signature.status, SignatureStatus::Valid);
    assert_eq!(pr.binding.status, BindingStatus::Match);
    let label = r.label.unwrap();
    assert_eq!(label.content_propagator.as_deref(), Some(PLATFORM));
    assert_eq!(label.propagate_id.as_deref(), Some("video-77"));
    assert_eq!(
        label.reserved_code1, out.record.reserved_code1,
        "provider seal kept as is"
    );

    // The platform's fields are bound by its countersignature: an edit breaks it, which is
    // reported, but cannot undo the provider's valid label (anyone could otherwise make any
    // genuine file fail by adding junk).
    let mut edited = prop.record.clone();
    edited.propagate_id = Some("video-78".into());
    let r = verify(&with_record(TEXT.as_bytes(), &edited), &trust);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{r:#?}");
    assert_eq!(
        r.signature.status,
        SignatureStatus::Valid,
        "provider seal untouched"
    );
    assert_eq!(
        r.propagation.as_ref().unwrap().signature.status,
        SignatureStatus::Invalid
    );
    assert!(
        r.findings.iter().any(
            |f| f.code == "seal.signature_invalid" && f.severity == aigcmark::Severity::Warning
        )
    );

    // A platform countersignature from an unknown key is reported as untrusted; the provider's
    // label still stands.
    let r = verify(&prop.bytes, &demo_keys(1, PRODUCER).1);
    assert_eq!(r.verdict, Verdict::LabeledIntact);
    assert_eq!(
        r.propagation.as_ref().unwrap().signature.status,
        SignatureStatus::Untrusted
    );
    assert!(r.has_finding("seal.key_unknown"));

    // Junk in ReservedCode2, or a propagator without a countersignature: the same.
    let mut junk = out.record.clone();
    junk.reserved_code2 = Some("AM1;junk".into());
    let r = verify(&with_record(TEXT.as_bytes(), &junk), &trust);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{r:#?}");
    assert!(r.has_finding("seal.malformed"));
    let mut bare = out.record.clone();
    bare.content_propagator = Some(PLATFORM.into());
    let r = verify(&with_record(TEXT.as_bytes(), &bare), &trust);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{r:#?}");
    assert!(r.has_finding("propagation.unvouched"));

    // Content changed and only an untrusted platform vouches for the new content: altered.
    let changed = with_record("Different text entirely.".as_bytes(), &prop.record);
    let r = verify(&changed, &demo_keys(1, PRODUCER).1);
    assert_eq!(r.verdict, Verdict::Altered, "{r:#?}");
}

#[test]
fn relabeling_needs_replace_and_bad_values_are_refused() {
    let (signer, _, out) = labeled();
    let err = aigcmark::label(&out.bytes, Format::Text, &signer, &opts()).unwrap_err();
    assert!(matches!(err, aigcmark::Error::Refused(_)), "{err}");
    let mut o = opts();
    o.replace = true;
    assert!(aigcmark::label(&out.bytes, Format::Text, &signer, &o).is_ok());
    let mut o = opts();
    o.content_producer = "Acme AI".into();
    assert!(matches!(
        aigcmark::label(TEXT.as_bytes(), Format::Text, &signer, &o),
        Err(aigcmark::Error::InvalidLabel(_))
    ));
    assert!(aigcmark::label(&[0xff, 0xfe, 0x00], Format::Text, &signer, &opts()).is_err());
}

#[test]
fn fresh_produce_ids_are_unique() {
    let (signer, _) = demo_keys(1, PRODUCER);
    let mut o = opts();
    o.produce_id = None;
    let a = aigcmark::label(TEXT.as_bytes(), Format::Text, &signer, &o).unwrap();
    let b = aigcmark::label(TEXT.as_bytes(), Format::Text, &signer, &o).unwrap();
    assert_ne!(a.record.produce_id, b.record.produce_id);
}

#[test]
fn real_world_label_variants_are_read_with_findings() {
    let (_, trust) = demo_keys(1, PRODUCER);
    let variants = [
        (
            r#"{"AIGC":{"Label":"1","ContentProducer":"001191000000MA00DEMO0X10000","ProduceID":"a"}}"#,
            "label.wrapped",
        ),
        (
            r#"{"Label":"1","ContentProducer":"001191000000MA00DEMO0X10000","ProduceId":"a"}"#,
            "label.key_misspelled",
        ),
        (
            r#"{"Label":"AIGC","ContentProducer":"001191000000MA00DEMO0X10000","ProduceID":"a"}"#,
            "label.label_value",
        ),
        (
            r#"{"Label":1,"ContentProducer":"001191000000MA00DEMO0X10000","ProduceID":42}"#,
            "label.value_not_string",
        ),
    ];
    for (json, code) in variants {
        let r = verify(&write_raw(TEXT.as_bytes(), json), &trust);
        assert_eq!(r.verdict, Verdict::LabeledUnsigned, "{json}");
        assert!(r.has_finding(code), "{json}: {:?}", r.findings);
        assert_eq!(
            r.label
                .unwrap()
                .produce_id
                .as_deref()
                .map(|p| p == "a" || p == "42"),
            Some(true)
        );
    }
}

#[test]
fn report_serialises_with_the_documented_fields() {
    let (_, trust, out) = labeled();
    let v = serde_json::to_value(verify(&out.bytes, &trust)).unwrap();
    for key in [
        "format",
        "verdict",
        "label",
        "signature",
        "binding",
        "watermark",
        "explicit",
        "findings",
    ] {
        assert!(v.get(key).is_some(), "{key} missing in {v}");
    }
    assert_eq!(v["verdict"], "labeled_intact");
    assert_eq!(v["signature"]["status"], "valid");
    assert_eq!(v["binding"]["status"], "match");
    assert_eq!(v["label"]["ProduceID"], "demo-0001");
    let unl = serde_json::to_value(verify(OTHER.as_bytes(), &trust)).unwrap();
    assert!(unl["label"].is_null());
}

/// The sealed record's JSON with `edit` applied to its text.
fn sealed_json_with(edit: impl Fn(&str) -> String) -> (TrustStore, Vec<u8>) {
    let (_, trust, out) = labeled();
    let json = edit(&raw_json(&out.record));
    (trust, write_raw(TEXT.as_bytes(), &json))
}

#[test]
fn a_sealed_label_another_reader_could_read_differently_is_conflicting() {
    let (trust, genuine) = sealed_json_with(|j| j.to_string());
    assert_eq!(verify(&genuine, &trust).verdict, Verdict::LabeledIntact);
    type Edit = Box<dyn Fn(&str) -> String>;
    let cases: [(&str, Edit); 6] = [
        // An exact duplicate: serde_json keeps the last, another parser the first.
        (
            "duplicate Label",
            Box::new(|j: &str| j.replacen("{", "{\"Label\":\"3\",", 1)),
        ),
        (
            "duplicate ContentProducer after the sealed one",
            Box::new(|j: &str| {
                j.replacen(
                    "}",
                    ",\"ContentProducer\":\"001191000000MA00EVIL0X10000\"}",
                    1,
                )
            }),
        ),
        (
            "a key differing only in case",
            Box::new(|j: &str| {
                j.replacen(
                    "}",
                    ",\"contentproducer\":\"001191000000MA00EVIL0X10000\"}",
                    1,
                )
            }),
        ),
        (
            "an unknown key",
            Box::new(|j: &str| j.replacen("}", ",\"Producer\":\"EVIL\"}", 1)),
        ),
        (
            "a missing key",
            Box::new(|j: &str| j.replacen(",\"PropagateID\":\"\"", "", 1)),
        ),
        (
            "a second key beside the AIGC wrapper",
            Box::new(|j: &str| format!("{{\"AIGC\":{j},\"Label\":\"3\"}}")),
        ),
    ];
    for (what, edit) in cases {
        let (trust, bytes) = sealed_json_with(edit);
        let r = verify(&bytes, &trust);
        assert_eq!(r.verdict, Verdict::Conflicting, "{what}: {r:#?}");
        assert!(r.has_finding("label.ambiguous"), "{what}");
    }
    // The wrapped form alone is fine (the EXIF carrier writes it).
    let (trust, bytes) = sealed_json_with(|j| format!("{{\"AIGC\":{j}}}"));
    assert_eq!(verify(&bytes, &trust).verdict, Verdict::LabeledIntact);
    // Unsealed labels are read tolerantly, with findings.
    let r = verify(
        &write_raw(
            TEXT.as_bytes(),
            r#"{"Label":"1","label":"2","ContentProducer":"001191000000MA00DEMO0X10000","ProduceID":"a"}"#,
        ),
        &trust,
    );
    assert_eq!(r.verdict, Verdict::LabeledUnsigned);
    assert!(r.has_finding("label.duplicate_key"));
    // So are labels whose ReservedCode1 holds another scheme (a vendor's hash): four keys are
    // fine there.
    let r = verify(
        &write_raw(
            TEXT.as_bytes(),
            r#"{"Label":"1","ContentProducer":"001191000000MA00DEMO0X10000","ProduceID":"a","ReservedCode1":"3f786850e387550fdab836ed7e6dc881de23001b"}"#,
        ),
        &trust,
    );
    assert_eq!(r.verdict, Verdict::LabeledUnsigned, "{r:#?}");
    assert!(!r.has_finding("label.ambiguous"));
}

#[test]
fn a_seal_dated_in_the_future_is_not_trusted() {
    let (signer, trust) = demo_keys(1, PRODUCER);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for (ahead, want) in [
        (120, Verdict::LabeledIntact),
        (3_600, Verdict::Untrusted),
        (86_400 * 365, Verdict::Untrusted),
    ] {
        let mut o = opts();
        o.signed_at = Some(now + ahead);
        let out = aigcmark::label(TEXT.as_bytes(), Format::Text, &signer, &o).unwrap();
        let r = verify(&out.bytes, &trust);
        assert_eq!(r.verdict, want, "{ahead} s ahead");
        assert_eq!(r.has_finding("seal.future_time"), ahead > 600);
    }
}

#[test]
fn the_headline_follows_the_label_value() {
    let (signer, trust) = demo_keys(1, PRODUCER);
    let mut o = opts();
    o.kind = aigcmark::LabelKind::Possibly;
    let out = aigcmark::label(TEXT.as_bytes(), Format::Text, &signer, &o).unwrap();
    let r = verify(&out.bytes, &trust);
    assert_eq!(r.verdict, Verdict::LabeledIntact);
    assert!(
        r.headline().starts_with("labeled as possibly AI-generated"),
        "{}",
        r.headline()
    );
    let r = verify(
        &write_raw(
            TEXT.as_bytes(),
            r#"{"Label":"AIGC","ContentProducer":"001191000000MA00DEMO0X10000","ProduceID":"a"}"#,
        ),
        &trust,
    );
    assert!(
        !r.headline().contains("labeled as AI-generated"),
        "{}",
        r.headline()
    );
    assert!(r.headline().contains("\"AIGC\""), "{}", r.headline());
}
