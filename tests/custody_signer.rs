//! External signers: OpenSSL holds the Ed25519 key, aigcmark only sees the public key and the
//! signatures, which it checks before any seal is written.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aigcmark::trust::Role;
use aigcmark::{Format, LabelOptions, Signer, TrustStore, Verdict, VerifyOptions};
use common::{PLATFORM, PRODUCER, run, tool};

fn openssl() -> PathBuf {
    tool("openssl", "openssl")
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_aigcmark"))
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

/// An Ed25519 key made by OpenSSL, its public key, and a signing command over it: `openssl
/// pkeyutl -sign -rawin` cannot read a pipe, so the wrapper writes standard input to a file first.
struct OpensslKey {
    public_pem: PathBuf,
    command: String,
}

fn openssl_key(dir: &Path, name: &str) -> OpensslKey {
    let key = dir.join(format!("{name}.key"));
    let public_pem = dir.join(format!("{name}.pub.pem"));
    run(Command::new(openssl())
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&key));
    run(Command::new(openssl())
        .args(["pkey", "-pubout", "-in"])
        .arg(&key)
        .arg("-out")
        .arg(&public_pem));
    let script = dir.join(format!("{name}-sign.sh"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nset -e\nt=$(mktemp)\ntrap 'rm -f \"$t\"' EXIT\ncat > \"$t\"\n\
             {} pkeyutl -sign -inkey '{}' -rawin -in \"$t\"\n",
            openssl().display(),
            key.display()
        ),
    )
    .unwrap();
    OpensslKey {
        public_pem,
        command: format!("sh '{}'", script.display()),
    }
}

fn trust_for(public_pem: &Path, owner: &str) -> TrustStore {
    let pem = std::fs::read_to_string(public_pem).unwrap();
    let pk = aigcmark::keys::public_key_from_pem(&pem).unwrap();
    let mut t = TrustStore::new();
    t.add(TrustStore::entry_for(&pk, owner, Role::Any)).unwrap();
    t
}

#[test]
fn openssl_signs_a_label_that_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let k = openssl_key(dir.path(), "provider");
    let pem = std::fs::read_to_string(&k.public_pem).unwrap();
    let signer = Signer::from_command(&k.command, &pem).unwrap();
    assert!(signer.is_external());
    let out = aigcmark::label(
        "A poem about the sea.".as_bytes(),
        Format::Text,
        &signer,
        &LabelOptions::new(PRODUCER),
    )
    .unwrap();
    let report = aigcmark::verify(
        &out.bytes,
        Format::Text,
        &VerifyOptions::new(trust_for(&k.public_pem, PRODUCER)),
    );
    assert_eq!(report.verdict, Verdict::LabeledIntact, "{report:?}");
    // The seal's signature is OpenSSL's: check it with OpenSSL too.
    let seal = aigcmark::seal::Seal::parse(out.record.reserved_code1.as_deref().unwrap()).unwrap();
    assert_eq!(seal.public_key, signer.public_key());
    // Under a store that trusts another key, the same file is untrusted.
    let report = aigcmark::verify(
        &out.bytes,
        Format::Text,
        &VerifyOptions::new(common::demo_keys(1, PRODUCER).1),
    );
    assert_eq!(report.verdict, Verdict::Untrusted);
}

#[test]
fn cli_label_and_propagate_with_a_signing_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let provider = openssl_key(d, "provider");
    let platform = openssl_key(d, "platform");
    std::fs::write(d.join("in.txt"), "The tide comes in twice a day.\n").unwrap();
    let o = bin()
        .args(["label", "in.txt", "-o", "out.txt", "--producer", PRODUCER])
        .args(["--sign-command", &provider.command, "--public-key"])
        .arg(&provider.public_pem)
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let o = bin()
        .args([
            "propagate",
            "out.txt",
            "-o",
            "shared.txt",
            "--propagator",
            PLATFORM,
        ])
        .args(["--sign-command", &platform.command, "--public-key"])
        .arg(&platform.public_pem)
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));

    let mut trust = trust_for(&provider.public_pem, PRODUCER);
    trust
        .merge(trust_for(&platform.public_pem, PLATFORM))
        .unwrap();
    std::fs::write(d.join("trust.json"), trust.to_json()).unwrap();
    let o = bin()
        .args(["verify", "shared.txt", "--json", "--trust", "trust.json"])
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["verdict"], "labeled_intact");
    assert_eq!(v[0]["propagation"]["signature"]["status"], "valid", "{v}");
}

#[test]
fn failing_slow_and_lying_signers_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let k = openssl_key(d, "provider");
    let thief = openssl_key(d, "thief");
    std::fs::write(d.join("in.txt"), "Some generated words.\n").unwrap();
    let cases: [(&str, &[&str], &str); 5] = [
        // A signer holding another key than the public key names.
        (&thief.command, &[], "does not verify"),
        (
            "echo 'kms: access denied' >&2; exit 1",
            &[],
            "access denied",
        ),
        ("head -c 10 /dev/zero", &[], "printed 10 bytes"),
        ("head -c 64 /dev/zero", &[], "does not verify"),
        ("sleep 10", &["--sign-timeout", "1"], "did not answer"),
    ];
    for (cmd, extra, want) in cases {
        let o = bin()
            .args(["label", "in.txt", "-o", "out.txt", "--producer", PRODUCER])
            .args(["--sign-command", cmd, "--public-key"])
            .arg(&k.public_pem)
            .args(extra)
            .current_dir(d)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(code(&o), 3, "{cmd}: {err}");
        assert!(err.contains(want), "{cmd}: {err}");
        assert!(!d.join("out.txt").exists(), "{cmd} left an output file");
    }
    // --key and --sign-command together, or a command without its public key, are usage errors.
    let o = bin()
        .args(["label", "in.txt", "-o", "out.txt", "--producer", PRODUCER])
        .args(["--sign-command", &k.command])
        .current_dir(d)
        .output()
        .unwrap();
    assert_ne!(code(&o), 0);
    assert!(!d.join("out.txt").exists());
}
