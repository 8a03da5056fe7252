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
