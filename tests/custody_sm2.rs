//! SM2/SM3 cross-checked with OpenSSL 3 both ways, and the published vectors in tests/data/sm2/.
#![cfg(feature = "sm")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use aigcmark::sm::{self, DIST_ID, Sm2Signer};
use common::{run, tool};

fn openssl() -> PathBuf {
    tool("openssl", "openssl")
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sm2")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(data(name)).unwrap()
}

#[test]
fn published_vectors() {
    let key = Sm2Signer::from_pem(&String::from_utf8(read("key.pem")).unwrap()).unwrap();
    let public = sm::public_key_from_pem(&String::from_utf8(read("pub.pem")).unwrap()).unwrap();
    assert_eq!(key.public_key(), public);
    let msg = read("message.bin");
    // OpenSSL's signature verifies in ours.
    assert!(sm::verify(&public, &msg, &read("openssl.sig.der")));
    let mut other = msg.clone();
    other[0] ^= 1;
    assert!(!sm::verify(&public, &other, &read("openssl.sig.der")));
    // Ours is deterministic: the published one is what we make.
    let ours = key.sign(&msg);
    if std::env::var_os("AIGCMARK_WRITE_SM2_VECTORS").is_some() {
        std::fs::write(data("aigcmark.sig"), ours).unwrap();
        std::fs::write(
            data("aigcmark.sig.der"),
            sm::signature_to_der(&ours).unwrap(),
        )
        .unwrap();
    }
    assert_eq!(ours.to_vec(), read("aigcmark.sig"));
    assert!(sm::verify(&public, &msg, &ours));
    // and OpenSSL accepts it.
    let out = run(Command::new(openssl())
        .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
        .arg(data("pub.pem"))
        .args(["-rawin", "-in"])
        .arg(data("message.bin"))
        .args([
            "-digest",
            "sm3",
            "-pkeyopt",
            &format!("distid:{DIST_ID}"),
            "-sigfile",
        ])
        .arg(data("aigcmark.sig.der")));
    assert!(out.contains("Signature Verified Successfully"), "{out}");
    // SM3 of the message, as `openssl dgst -sm3` computes it.
    let hex: String = ours.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex.len(), 128);
    let dgst = run(Command::new(openssl())
        .args(["dgst", "-sm3", "-r"])
        .arg(data("message.bin")));
    let want = dgst.split_whitespace().next().unwrap();
    let got: String = sm::sm3(&msg).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(got, want);
}

#[test]
fn cross_check_with_openssl_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run(Command::new(openssl()).current_dir(d).args([
        "genpkey",
        "-algorithm",
        "SM2",
        "-out",
        "k.pem",
    ]));
    run(Command::new(openssl())
        .current_dir(d)
        .args(["pkey", "-in", "k.pem", "-pubout", "-out", "p.pem"]));
    let msg = b"a label record sealed with SM2".to_vec();
    std::fs::write(d.join("m.bin"), &msg).unwrap();
    let distid = format!("distid:{DIST_ID}");

    // OpenSSL signs, we verify.
    run(Command::new(openssl())
        .current_dir(d)
        .args([
            "pkeyutl", "-sign", "-inkey", "k.pem", "-rawin", "-in", "m.bin",
        ])
        .args(["-digest", "sm3", "-pkeyopt", &distid, "-out", "o.sig"]));
    let public =
        sm::public_key_from_pem(&std::fs::read_to_string(d.join("p.pem")).unwrap()).unwrap();
    assert!(sm::verify(
        &public,
        &msg,
        &std::fs::read(d.join("o.sig")).unwrap()
    ));

    // We sign with the same key, OpenSSL verifies.
    let key = Sm2Signer::from_pem(&std::fs::read_to_string(d.join("k.pem")).unwrap()).unwrap();
    let sig = key.sign(&msg);
    std::fs::write(d.join("a.sig"), sm::signature_to_der(&sig).unwrap()).unwrap();
    let out = run(Command::new(openssl())
        .current_dir(d)
        .args([
            "pkeyutl", "-verify", "-pubin", "-inkey", "p.pem", "-rawin", "-in", "m.bin",
        ])
        .args(["-digest", "sm3", "-pkeyopt", &distid, "-sigfile", "a.sig"]));
    assert!(out.contains("Signature Verified Successfully"), "{out}");
    // With another distinguishing identifier OpenSSL refuses it: the identifier is bound.
    let o = Command::new(openssl())
        .current_dir(d)
        .args([
            "pkeyutl", "-verify", "-pubin", "-inkey", "p.pem", "-rawin", "-in", "m.bin",
        ])
        .args([
            "-digest",
            "sm3",
            "-pkeyopt",
            "distid:1234567812345679",
            "-sigfile",
            "a.sig",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
}

// ---- SM2 seals (issue #19): AM2 seals cross-checked with OpenSSL, every family, attacks. ----

use aigcmark::format::Format;
use aigcmark::seal::{Claims, Seal, SealError, seal_provider};
use aigcmark::trust::Role;
use aigcmark::{LabelKind, LabelRecord, Signer, TrustStore, Verdict, VerifyOptions};

fn published_signer() -> Signer {
    Signer::from_pem(&String::from_utf8(read("key.pem")).unwrap()).unwrap()
}

fn trust(signer: &Signer) -> TrustStore {
    let mut t = TrustStore::new();
    t.add(TrustStore::entry_for(
        &signer.public_key(),
        common::PRODUCER,
        Role::Any,
    ))
    .unwrap();
    t
}

/// The provider message of a seal, rebuilt from the documented format (README, seal section).
fn provider_message(record: &LabelRecord, seal_text: &str) -> Vec<u8> {
    let header = &seal_text[..seal_text.rfind(";s=").unwrap()];
    let mut m = b"AIGCMARK-SEAL-1\0".to_vec();
    for f in [&record.label, &record.content_producer, &record.produce_id] {
        m.extend_from_slice(f.as_deref().unwrap_or("").as_bytes());
        m.push(0);
    }
    m.extend_from_slice(header.as_bytes());
    m
}

fn sample_record() -> (LabelRecord, Claims) {
    let record = LabelRecord::new(LabelKind::Generated, common::PRODUCER, "sm2-vector-1");
    let claims = Claims {
        format: Format::Text,
        content_digest: [0x5a; 32],
        signed_at: 1_790_000_000,
        watermark_id: None,
        explicit: None,
    };
    (record, claims)
}

#[test]
fn sm2_seal_verifies_in_openssl_and_is_a_published_vector() {
    let signer = published_signer();
    assert_eq!(signer.algorithm(), aigcmark::SignatureAlgorithm::Sm2);
    let (mut record, claims) = sample_record();
    let text = seal_provider(&signer, &record, &claims).unwrap();
    assert!(text.starts_with("AM2;k="), "{text}");
    assert!(text.len() < 300, "{}", text.len());
    assert!(text.chars().all(aigcmark::label::is_allowed_char), "{text}");
    let message = provider_message(&record, &text);
    let seal = Seal::parse(&text).unwrap();
    record.reserved_code1 = Some(text.clone());
    assert!(seal.verify_provider(&record));
    if std::env::var_os("AIGCMARK_WRITE_SM2_VECTORS").is_some() {
        std::fs::write(data("seal.txt"), format!("{text}\n")).unwrap();
        std::fs::write(data("seal-message.bin"), &message).unwrap();
        std::fs::write(
            data("seal.sig.der"),
            sm::signature_to_der(&seal.signature).unwrap(),
        )
        .unwrap();
    }
    // Deterministic: the published seal is what we make, over the published message.
    assert_eq!(format!("{text}\n").as_bytes(), read("seal.txt"));
    assert_eq!(message, read("seal-message.bin"));
    let out = run(Command::new(openssl())
        .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
        .arg(data("pub.pem"))
        .args(["-rawin", "-in"])
        .arg(data("seal-message.bin"))
        .args(["-digest", "sm3", "-pkeyopt"])
        .arg(format!("distid:{DIST_ID}"))
        .arg("-sigfile")
        .arg(data("seal.sig.der")));
    assert!(out.contains("Signature Verified Successfully"), "{out}");

    // OpenSSL signs the same message; its (randomized, DER) signature put into the seal verifies.
    let dir = tempfile::tempdir().unwrap();
    let sig_path = dir.path().join("o.sig");
    run(Command::new(openssl())
        .args(["pkeyutl", "-sign", "-inkey"])
        .arg(data("key.pem"))
        .args(["-rawin", "-in"])
        .arg(data("seal-message.bin"))
        .args(["-digest", "sm3", "-pkeyopt"])
        .arg(format!("distid:{DIST_ID}"))
        .arg("-out")
        .arg(&sig_path));
    let der = std::fs::read(&sig_path).unwrap();
    let raw = sm::signature_to_raw(&der).unwrap();
    let header = &text[..text.rfind(";s=").unwrap()];
    let theirs = format!("{header};s={}", base64url(&raw));
    let seal = Seal::parse(&theirs).unwrap();
    assert!(seal.verify_provider(&record));
}

fn base64url(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

#[test]
fn wrong_keys_and_algorithm_confusion_are_refused() {
    let signer = published_signer();
    let (mut record, claims) = sample_record();
    let text = seal_provider(&signer, &record, &claims).unwrap();
    record.reserved_code1 = Some(text.clone());
    // A changed field breaks the SM2 signature.
    let mut changed = record.clone();
    changed.produce_id = Some("sm2-vector-2".into());
    assert!(!Seal::parse(&text).unwrap().verify_provider(&changed));
    // An Ed25519 seal relabelled as SM2 has a key of the wrong length: damaged.
    let ed = Signer::from_seed(&[3u8; 32]);
    let ed_text = seal_provider(&ed, &record, &claims).unwrap();
    assert!(ed_text.starts_with("AM1;"));
    assert!(matches!(
        Seal::parse(&ed_text.replacen("AM1;", "AM2;", 1)),
        Err(SealError::Malformed(_))
    ));
    assert!(matches!(
        Seal::parse(&text.replacen("AM2;", "AM1;", 1)),
        Err(SealError::Malformed(_))
    ));
    // An Ed25519 signature under an SM2 key (same length, 64 bytes) does not verify.
    let ed_sig = &ed_text[ed_text.rfind(";s=").unwrap()..];
    let forged = format!("{}{ed_sig}", &text[..text.rfind(";s=").unwrap()]);
    assert!(!Seal::parse(&forged).unwrap().verify_provider(&record));
    // A trust store entry keeps its algorithm: a JSON round trip, and an SM2 point marked
    // Ed25519 is refused.
    let store = trust(&signer);
    let json = store.to_json();
    assert!(json.contains("\"alg\": \"sm2\""), "{json}");
    assert!(TrustStore::from_json(&json).is_ok());
    assert!(TrustStore::from_json(&json.replace("\"alg\": \"sm2\",", "")).is_err());
    let ed_json = trust(&ed).to_json();
    assert!(
        !ed_json.contains("alg"),
        "Ed25519 entries stay as before: {ed_json}"
    );
}

/// A small PNG, a short WAV and a text: each labeled with the published SM2 key.
fn family_inputs() -> Vec<(Format, Vec<u8>)> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 90])
    });
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let mut wav = std::io::Cursor::new(Vec::new());
    {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::new(&mut wav, spec).unwrap();
        for i in 0..16_000 {
            let v = ((i as f32) * 0.05).sin() * 8000.0;
            w.write_sample(v as i16).unwrap();
        }
        w.finalize().unwrap();
    }
    vec![
        (
            Format::Text,
            "A short poem about the sea, written by a model."
                .as_bytes()
                .to_vec(),
        ),
        (Format::Png, png),
        (Format::Wav, wav.into_inner()),
    ]
}

#[test]
fn sm2_sealed_files_of_each_family_round_trip() {
    let signer = published_signer();
    let store = trust(&signer);
    let other = Signer::generate_with(aigcmark::SignatureAlgorithm::Sm2).unwrap();
    for (format, input) in family_inputs() {
        let out = aigcmark::label(&input, format, &signer, &common::metadata_only()).unwrap();
        let rc1 = out.record.reserved_code1.clone().unwrap();
        assert!(rc1.starts_with("AM2;"), "{format:?}: {rc1}");
        if format == Format::Text && std::env::var_os("AIGCMARK_WRITE_SM2_VECTORS").is_some() {
            std::fs::write(data("labeled.txt"), &out.bytes).unwrap();
            std::fs::write(data("trust.json"), store.to_json()).unwrap();
        }
        let report = aigcmark::verify(&out.bytes, format, &VerifyOptions::new(store.clone()));
        assert_eq!(
            report.verdict,
            Verdict::LabeledIntact,
            "{format:?}: {report:?}"
        );
        // Under a store trusting another SM2 key: untrusted.
        let report = aigcmark::verify(&out.bytes, format, &VerifyOptions::new(trust(&other)));
        assert_eq!(report.verdict, Verdict::Untrusted, "{format:?}");
        // The sealed label with other content: not intact.
        let mut tampered = out.bytes.clone();
        let at = match format {
            Format::Text => 2,
            _ => tampered.len() - 40,
        };
        tampered[at] ^= 0x01;
        let report = aigcmark::verify(&tampered, format, &VerifyOptions::new(store.clone()));
        assert_ne!(
            report.verdict,
            Verdict::LabeledIntact,
            "{format:?}: {report:?}"
        );
    }
}

#[test]
fn openssl_sign_command_seals_a_file_that_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run(Command::new(openssl()).current_dir(d).args([
        "genpkey",
        "-algorithm",
        "SM2",
        "-out",
        "k.pem",
    ]));
    run(Command::new(openssl())
        .current_dir(d)
        .args(["pkey", "-in", "k.pem", "-pubout", "-out", "p.pem"]));
    // `pkeyutl -rawin` cannot read a pipe: the wrapper writes the message to a file first. It
    // prints OpenSSL's DER signature as is.
    let script = d.join("sign.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nset -e\nt=$(mktemp)\ntrap 'rm -f \"$t\"' EXIT\ncat > \"$t\"\n\
             {} pkeyutl -sign -inkey '{}' -rawin -in \"$t\" -digest sm3 -pkeyopt distid:{DIST_ID}\n",
            openssl().display(),
            d.join("k.pem").display()
        ),
    )
    .unwrap();
    let pem = std::fs::read_to_string(d.join("p.pem")).unwrap();
    let signer = Signer::from_command(&format!("sh '{}'", script.display()), &pem).unwrap();
    assert!(signer.is_external());
    assert_eq!(signer.algorithm(), aigcmark::SignatureAlgorithm::Sm2);
    let out = aigcmark::label(
        "A poem about the sea.".as_bytes(),
        Format::Text,
        &signer,
        &common::metadata_only(),
    )
    .unwrap();
    let report = aigcmark::verify(
        &out.bytes,
        Format::Text,
        &VerifyOptions::new(trust(&signer)),
    );
    assert_eq!(report.verdict, Verdict::LabeledIntact, "{report:?}");
    // A command that signs with another SM2 key is refused before anything is written.
    let local = Signer::generate_with(aigcmark::SignatureAlgorithm::Sm2).unwrap();
    let wrong = local.public_key_pem().unwrap();
    let err = Signer::from_command(&format!("sh '{}'", script.display()), &wrong)
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not verify"), "{err}");
}

#[test]
fn cli_keygen_sm2_label_verify() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bin = env!("CARGO_BIN_EXE_aigcmark");
    let s = |p: &str| d.join(p).display().to_string();
    let ok = |args: &[&str]| {
        let o = Command::new(bin).args(args).output().unwrap();
        (
            o.status.code().unwrap(),
            String::from_utf8_lossy(&o.stdout).to_string(),
        )
    };
    let (code, out) = ok(&[
        "keygen",
        "--alg",
        "sm2",
        "--out",
        &s("keys"),
        "--producer",
        common::PRODUCER,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("algorithm  sm2"), "{out}");
    let key = std::fs::read_to_string(d.join("keys/signing.key")).unwrap();
    // OpenSSL reads the key file as SM2.
    let text = run(Command::new(openssl())
        .args(["pkey", "-noout", "-text", "-in"])
        .arg(d.join("keys/signing.key")));
    assert!(text.contains("SM2"), "{text}");
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    let trust_json = std::fs::read_to_string(d.join("keys/trust.json")).unwrap();
    assert!(trust_json.contains("\"alg\": \"sm2\""), "{trust_json}");
    std::fs::write(d.join("in.txt"), "A poem about the sea, by a model.").unwrap();
    let (code, out) = ok(&[
        "label",
        &s("in.txt"),
        "-o",
        &s("out.txt"),
        "--key",
        &s("keys/signing.key"),
        "--producer",
        common::PRODUCER,
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = ok(&["verify", &s("out.txt"), "--trust", &s("keys/trust.json")]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn published_labeled_file_verifies() {
    let store = TrustStore::load(&data("trust.json")).unwrap();
    let report = aigcmark::verify(
        &read("labeled.txt"),
        Format::Text,
        &VerifyOptions::new(store),
    );
    assert_eq!(report.verdict, Verdict::LabeledIntact, "{report:?}");
}
