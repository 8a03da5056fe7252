//! RFC 3161 timestamps against a real authority: OpenSSL's `ts -reply` behind a small HTTP server
//! this test starts on 127.0.0.1 (no network).

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use aigcmark::seal::Seal;
use aigcmark::timestamp::{self, TimestampStatus, TsaTrust};
use aigcmark::{Format, LabelOptions};
use common::{PRODUCER, demo_keys, run, tool};

fn openssl() -> PathBuf {
    tool("openssl", "openssl")
}

const TS_CONFIG: &str = "\
[ tsa_config ]
serial = ./serial
crypto_device = builtin
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
signer_digest = sha256
[ tsa_ext ]
extendedKeyUsage = critical,timeStamping
basicConstraints = CA:FALSE
";

/// A root CA and a timestamping certificate it issued (P-256), in `dir`.
fn make_authority(dir: &Path, name: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("ts.cnf"), TS_CONFIG).unwrap();
    std::fs::write(dir.join("serial"), "01\n").unwrap();
    let o = || {
        let mut c = Command::new(openssl());
        c.current_dir(dir);
        c
    };
    run(o()
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args([
            "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650", "-subj",
        ])
        .arg(format!("/CN={name} Root")));
    run(o()
        .args([
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .args(["-keyout", "tsa.key", "-out", "tsa.csr", "-subj"])
        .arg(format!("/CN={name}")));
    run(o()
        .args([
            "x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        ])
        .args([
            "-CAcreateserial",
            "-out",
            "tsa.pem",
            "-days",
            "3650",
            "-extfile",
            "ts.cnf",
        ])
        .args(["-extensions", "tsa_ext"]));
}

/// Serves `openssl ts -reply` over HTTP for the authority in `dir`; returns its URL.
fn serve(dir: &Path) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/tsa", listener.local_addr().unwrap());
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body = loop {
                let k = s.read(&mut chunk).unwrap_or(0);
                if k == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..k]);
                let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    break Some(buf[end + 4..end + 4 + len].to_vec());
                }
            };
            let Some(body) = body else { continue };
            let q = dir.join(format!("q{n}.der"));
            let r = dir.join(format!("r{n}.der"));
            std::fs::write(&q, body).unwrap();
            let ok = Command::new(openssl())
                .current_dir(&dir)
                .args([
                    "ts",
                    "-reply",
                    "-config",
                    "ts.cnf",
                    "-section",
                    "tsa_config",
                ])
                .args(["-inkey", "tsa.key", "-signer", "tsa.pem", "-queryfile"])
                .arg(&q)
                .arg("-out")
                .arg(&r)
                .output()
                .is_ok_and(|o| o.status.success());
            let reply = if ok {
                std::fs::read(&r).unwrap()
            } else {
                Vec::new()
            };
            let status = if ok { "200 OK" } else { "500 Error" };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Type: application/timestamp-reply\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                reply.len()
            );
            let _ = s.write_all(&reply);
        }
    });
    url
}

fn trust(dir: &Path) -> TsaTrust {
    TsaTrust::load(&dir.join("ca.pem")).unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A labeled text sealed at `signed_at`, and its seal.
fn sealed(signed_at: u64) -> (Vec<u8>, Seal) {
    let (signer, _) = demo_keys(21, PRODUCER);
    let mut o = LabelOptions::new(PRODUCER);
    o.signed_at = Some(signed_at);
    let out =
        aigcmark::label("Words a model wrote.".as_bytes(), Format::Text, &signer, &o).unwrap();
    let seal = Seal::parse(out.record.reserved_code1.as_deref().unwrap()).unwrap();
    (out.bytes, seal)
}

#[test]
fn tokens_from_a_real_authority() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    let other = dir.path().join("other");
    make_authority(&good, "Test TSA");
    make_authority(&other, "Other TSA");
    let url = serve(&good);

    let t0 = now();
    let (_, seal) = sealed(t0);
    let token = timestamp::request(&url, &seal.signature, Duration::from_secs(20)).unwrap();

    // Good token: trusted authority, over this signature, at about now.
    let r = timestamp::check(&token, &seal.signature, &trust(&good));
    assert_eq!(r.status, TimestampStatus::Valid, "{r:?}");
    assert!(
        r.authority.as_deref().unwrap().contains("Test TSA"),
        "{r:?}"
    );
    let at = timestamp::token_time(&token).unwrap();
    assert!(at.abs_diff(t0) < 120, "token time {at}, now {t0}");
    assert_eq!(timestamp::compare_times(seal.signed_at, at), None);
    // OpenSSL agrees that the token vouches for this signature.
    std::fs::write(dir.path().join("sig.bin"), seal.signature).unwrap();
    std::fs::write(dir.path().join("token.der"), &token).unwrap();
    let out = run(Command::new(openssl())
        .current_dir(dir.path())
        .args([
            "ts",
            "-verify",
            "-data",
            "sig.bin",
            "-in",
            "token.der",
            "-token_in",
        ])
        .args(["-CAfile", "good/ca.pem", "-untrusted", "good/tsa.pem"]));
    assert!(out.contains("Verification: OK"), "{out}");

    // A token over another signature (another seal's).
    let (_, other_seal) = sealed(t0 + 1);
    let r = timestamp::check(&token, &other_seal.signature, &trust(&good));
    assert_eq!(r.status, TimestampStatus::Mismatch, "{r:?}");

    // An authority that does not chain to the trusted certificates.
    let r = timestamp::check(&token, &seal.signature, &trust(&other));
    assert_eq!(r.status, TimestampStatus::Untrusted, "{r:?}");

    // A damaged token: every flipped byte of the signed part makes it invalid (or not parse).
    let mut bad = token.clone();
    let i = bad.len() - 10;
    bad[i] ^= 1;
    let r = timestamp::check(&bad, &seal.signature, &trust(&good));
    assert_eq!(r.status, TimestampStatus::Invalid, "{r:?}");
    let r = timestamp::check(b"not a token", &seal.signature, &trust(&good));
    assert_eq!(r.status, TimestampStatus::Invalid, "{r:?}");
}

#[test]
fn a_backdated_seal_is_caught_by_the_token_time() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    make_authority(&good, "Test TSA");
    let url = serve(&good);

    // A thief of a key revoked yesterday writes a seal dated two days ago.
    let t0 = now();
    let (signer, mut store) = demo_keys(21, PRODUCER);
    store
        .revoke(
            &signer.key_id(),
            &aigcmark::trust::format_time(t0 - 86_400),
            Some("leaked"),
        )
        .unwrap();
    let (_, seal) = sealed(t0 - 2 * 86_400);
    let token = timestamp::request(&url, &seal.signature, Duration::from_secs(20)).unwrap();
    let r = timestamp::check(&token, &seal.signature, &trust(&good));
    assert_eq!(r.status, TimestampStatus::Valid, "{r:?}");
    let at = timestamp::token_time(&token).unwrap();
    // The sealed time is far from the token's: reported.
    let skew = timestamp::compare_times(seal.signed_at, at).unwrap();
    assert!(skew >= 2 * 86_400 - 120, "{skew}");
    // By the seal's own claim the key was not yet revoked; by the token's time it was.
    assert_eq!(store.revocation(&seal.public_key, seal.signed_at), None);
    assert!(store.revocation(&seal.public_key, at).is_some());
}

#[test]
fn cli_label_with_tsa_writes_a_token_openssl_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = d.join("good");
    make_authority(&good, "Test TSA");
    let url = serve(&good);
    let (signer, _) = demo_keys(22, PRODUCER);
    signer.save(&d.join("signing.key")).unwrap();
    std::fs::write(d.join("in.txt"), "A generated line.\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_aigcmark"))
        .current_dir(d)
        .args(["label", "in.txt", "-o", "out.txt", "--key", "signing.key"])
        .args(["--producer", PRODUCER, "--tsa", &url])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let token = std::fs::read(d.join("out.txt.tsr")).unwrap();
    let text = std::fs::read_to_string(d.join("out.txt")).unwrap();
    let report = aigcmark::verify(
        text.as_bytes(),
        Format::Text,
        &aigcmark::VerifyOptions::new(demo_keys(22, PRODUCER).1),
    );
    let seal = Seal::parse(report.label.unwrap().reserved_code1.as_deref().unwrap()).unwrap();
    let r = timestamp::check(&token, &seal.signature, &trust(&good));
    assert_eq!(r.status, TimestampStatus::Valid, "{r:?}");

    // A TSA that is not there: clear error, no output.
    let o = Command::new(env!("CARGO_BIN_EXE_aigcmark"))
        .current_dir(d)
        .args(["label", "in.txt", "-o", "out2.txt", "--key", "signing.key"])
        .args(["--producer", PRODUCER, "--tsa", "http://127.0.0.1:9/tsa"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(!d.join("out2.txt").exists());
    assert!(!d.join("out2.txt.tsr").exists());
}
