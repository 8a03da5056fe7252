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

// ---- The token in the file, and what verify makes of it ----

use aigcmark::{Severity, Verdict, VerifyOptions};

/// A small file of `format` made by ImageMagick or ffmpeg in `dir`.
fn sample(dir: &Path, format: Format) -> Vec<u8> {
    let name = format!("sample.{}", format.name().replace("jpeg", "jpg"));
    let path = dir.join(&name);
    let ffmpeg = || {
        let mut c = Command::new(tool("ffmpeg", "ffmpeg"));
        c.args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg("sine=frequency=440:duration=1")
            .args(["-ar", "16000", "-ac", "1"]);
        c
    };
    match format {
        Format::Png | Format::Jpeg | Format::Webp => {
            run(Command::new(common::convert())
                .args(["-size", "48x32", "gradient:red-blue"])
                .arg(&path));
        }
        Format::Wav => {
            run(ffmpeg().arg(&path));
        }
        Format::Mp3 => {
            run(ffmpeg()
                .args(["-c:a", "libmp3lame", "-b:a", "32k"])
                .arg(&path));
        }
        Format::Flac => {
            run(ffmpeg().arg(&path));
        }
        _ => unreachable!(),
    }
    std::fs::read(&path).unwrap()
}

const CARRIED: [Format; 6] = [
    Format::Png,
    Format::Jpeg,
    Format::Webp,
    Format::Wav,
    Format::Mp3,
    Format::Flac,
];

fn label_with_tsa(
    input: &[u8],
    format: Format,
    url: &str,
    seed: u8,
    signed_at: Option<u64>,
) -> aigcmark::Labeled {
    let (signer, _) = demo_keys(seed, PRODUCER);
    let mut o = common::metadata_only();
    o.signed_at = signed_at;
    o.tsa = Some(aigcmark::TsaRequest::new(url));
    aigcmark::label(input, format, &signer, &o).unwrap()
}

fn vopts(seed: u8, tsa: Option<&Path>) -> VerifyOptions {
    let mut o = VerifyOptions::new(demo_keys(seed, PRODUCER).1);
    o.watermark_key = None;
    o.tsa_trust = tsa.map(trust);
    o
}

fn codes(r: &aigcmark::Report) -> Vec<(&'static str, Severity)> {
    r.findings.iter().map(|f| (f.code, f.severity)).collect()
}

#[test]
fn the_token_travels_in_each_format_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = d.join("good");
    make_authority(&good, "Test TSA");
    let url = serve(&good);
    for format in CARRIED {
        let input = sample(d, format);
        let t0 = now();
        let out = label_with_tsa(&input, format, &url, 31, None);
        assert_eq!(out.format, format);
        let token = out.timestamp_token.clone().expect("a token");
        assert_eq!(
            timestamp::find_token(format, &out.bytes, &aigcmark::Limits::default()).unwrap(),
            Some(token.clone()),
            "{format}"
        );

        let r = aigcmark::verify(&out.bytes, format, &vopts(31, Some(&good)));
        assert_eq!(
            r.verdict,
            Verdict::LabeledIntact,
            "{format}: {:#?}",
            r.findings
        );
        let ts = r.timestamp.as_ref().expect("a timestamp report");
        assert_eq!(ts.status, TimestampStatus::Valid, "{format}: {ts:?}");
        assert!(ts.authority.as_deref().unwrap().contains("Test TSA"));
        let at = aigcmark::trust::parse_time(ts.time.as_deref().unwrap()).unwrap();
        assert!(at.abs_diff(t0) < 60, "{format}: token time {at}, now {t0}");
        assert!(
            r.findings.iter().all(|f| f.severity < Severity::Warning),
            "{format}: {:#?}",
            r.findings
        );
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["timestamp"]["status"], "valid", "{format}");

        // Other readers: exiftool still reads the label; ffmpeg and sox decode the same sound.
        let path = d.join(format!("labeled.{}", format.name().replace("jpeg", "jpg")));
        std::fs::write(&path, &out.bytes).unwrap();
        let orig = d.join(format!("sample.{}", format.name().replace("jpeg", "jpg")));
        match format {
            Format::Png | Format::Jpeg | Format::Webp => {
                let aigc = run(Command::new(tool("exiftool", "libimage-exiftool-perl"))
                    .args(["-s", "-s", "-s", "-XMP-TC260:AIGC"])
                    .arg(&path));
                assert!(aigc.contains(PRODUCER), "{format}: exiftool read {aigc:?}");
                // The image decodes to the same pixels.
                let px = |p: &Path| {
                    common::run_bytes(Command::new(common::convert()).arg(p).arg("rgba:-"))
                };
                assert_eq!(px(&path), px(&orig), "{format}");
            }
            _ => {
                assert_eq!(
                    common::ffmpeg_s16le(&path),
                    common::ffmpeg_s16le(&orig),
                    "{format}"
                );
                if format != Format::Mp3 {
                    let sox = |p: &Path| {
                        common::run_bytes(
                            Command::new(tool("sox", "sox"))
                                .arg(p)
                                .args(["-t", "raw", "-e", "signed", "-b", "16", "-"]),
                        )
                    };
                    assert_eq!(sox(&path), sox(&orig), "{format}");
                }
            }
        }

        // Without a token the report has no timestamp field at all.
        let plain = aigcmark::verify(
            &timestamp::embed_token(format, &out.bytes, None, &aigcmark::Limits::default())
                .unwrap(),
            format,
            &vopts(31, Some(&good)),
        );
        assert_eq!(plain.verdict, Verdict::LabeledIntact, "{format}");
        assert!(plain.timestamp.is_none());
        assert!(
            serde_json::to_value(&plain)
                .unwrap()
                .get("timestamp")
                .is_none()
        );
    }
}

#[test]
fn a_token_that_does_not_hold_is_reported_and_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (good, other) = (d.join("good"), d.join("other"));
    make_authority(&good, "Test TSA");
    make_authority(&other, "Other TSA");
    let url = serve(&good);
    let limits = aigcmark::Limits::default();
    for format in [Format::Png, Format::Wav, Format::Mp3] {
        let input = sample(d, format);
        let a = label_with_tsa(&input, format, &url, 32, None);
        let b = label_with_tsa(&input, format, &url, 32, None);

        // B's token moved into A: over another signature.
        let moved = timestamp::embed_token(format, &a.bytes, b.timestamp_token.as_deref(), &limits)
            .unwrap();
        let r = aigcmark::verify(&moved, format, &vopts(32, Some(&good)));
        assert_eq!(
            r.timestamp.as_ref().unwrap().status,
            TimestampStatus::Mismatch
        );
        assert!(codes(&r).contains(&("timestamp.mismatch", Severity::Warning)));
        // A genuine seal does not fail for what was added beside it.
        assert_eq!(r.verdict, Verdict::LabeledIntact, "{format}");

        // An authority the verifier does not trust; and no trusted authority at all.
        let r = aigcmark::verify(&a.bytes, format, &vopts(32, Some(&other)));
        assert_eq!(
            r.timestamp.as_ref().unwrap().status,
            TimestampStatus::Untrusted
        );
        assert!(codes(&r).contains(&("timestamp.untrusted", Severity::Warning)));
        assert_eq!(r.verdict, Verdict::LabeledIntact);
        let r = aigcmark::verify(&a.bytes, format, &vopts(32, None));
        assert_eq!(
            r.timestamp.as_ref().unwrap().status,
            TimestampStatus::Untrusted
        );
        assert!(codes(&r).contains(&("timestamp.untrusted", Severity::Info)));
        assert_eq!(r.verdict, Verdict::LabeledIntact);

        // A damaged token.
        let mut bad = a.timestamp_token.clone().unwrap();
        let n = bad.len() - 20;
        bad[n] ^= 0x40;
        let damaged = timestamp::embed_token(format, &a.bytes, Some(&bad), &limits).unwrap();
        let r = aigcmark::verify(&damaged, format, &vopts(32, Some(&good)));
        assert_eq!(
            r.timestamp.as_ref().unwrap().status,
            TimestampStatus::Invalid
        );
        assert!(codes(&r).contains(&("timestamp.malformed", Severity::Warning)));
        assert_eq!(r.verdict, Verdict::LabeledIntact);
    }
}

#[test]
fn the_token_time_judges_revocation_and_a_far_sealed_time_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (good, other) = (d.join("good"), d.join("other"));
    make_authority(&good, "Test TSA");
    make_authority(&other, "Other TSA");
    let url = serve(&good);
    let other_url = serve(&other);
    let input = sample(d, Format::Png);
    let t0 = now();
    let (signer, _) = demo_keys(33, PRODUCER);
    let revoked_at = |at: u64| {
        let mut o = vopts(33, Some(&good));
        o.trust
            .revoke(
                &signer.key_id(),
                &aigcmark::trust::format_time(at),
                Some("leaked"),
            )
            .unwrap();
        o
    };

    // A thief of a key revoked yesterday dates the seal two days back.
    let stolen = label_with_tsa(&input, Format::Png, &url, 33, Some(t0 - 2 * 86_400));
    let r = aigcmark::verify(&stolen.bytes, Format::Png, &revoked_at(t0 - 86_400));
    assert_eq!(r.verdict, Verdict::Untrusted, "{:#?}", r.findings);
    let c = codes(&r);
    assert!(c.contains(&("seal.key_revoked", Severity::Error)), "{c:?}");
    assert!(
        c.contains(&("timestamp.time_far", Severity::Warning)),
        "{c:?}"
    );
    assert!(
        !c.iter().any(|(code, _)| *code == "seal.time_self_claimed"),
        "{c:?}"
    );
    // Without the trusted token the seal's own claim would have passed (as before tokens),
    // said to be only the signer's word.
    let bare = timestamp::embed_token(
        Format::Png,
        &stolen.bytes,
        None,
        &aigcmark::Limits::default(),
    )
    .unwrap();
    let r = aigcmark::verify(&bare, Format::Png, &revoked_at(t0 - 86_400));
    assert_eq!(r.verdict, Verdict::LabeledIntact);
    assert!(codes(&r).contains(&("seal.time_self_claimed", Severity::Info)));

    // A seal made now with a key revoked yesterday, and a token from an authority the
    // verifier does not trust: the token does not rescue the key.
    let late = label_with_tsa(&input, Format::Png, &other_url, 33, None);
    let r = aigcmark::verify(&late.bytes, Format::Png, &revoked_at(t0 - 86_400));
    assert_eq!(
        r.timestamp.as_ref().unwrap().status,
        TimestampStatus::Untrusted
    );
    assert_eq!(r.verdict, Verdict::Untrusted);

    // A key revoked after the token's time: the seal stays trusted, on the authority's word.
    let honest = label_with_tsa(&input, Format::Png, &url, 33, None);
    let r = aigcmark::verify(&honest.bytes, Format::Png, &revoked_at(t0 + 3600));
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{:#?}", r.findings);
    assert_eq!(r.timestamp.as_ref().unwrap().status, TimestampStatus::Valid);
    assert!(
        !codes(&r)
            .iter()
            .any(|(c, _)| *c == "seal.time_self_claimed")
    );
    // Revoked before the token's time: untrusted, even though the seal's own time is fine.
    let r = aigcmark::verify(&honest.bytes, Format::Png, &revoked_at(t0 - 60));
    assert_eq!(r.verdict, Verdict::Untrusted);
}

#[test]
fn cli_carries_the_token_in_images_and_beside_text_and_propagate_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = d.join("good");
    make_authority(&good, "Test TSA");
    let url = serve(&good);
    let (signer, store) = demo_keys(34, PRODUCER);
    signer.save(&d.join("signing.key")).unwrap();
    std::fs::write(d.join("trust.json"), store.to_json()).unwrap();
    std::fs::write(d.join("in.png"), sample(d, Format::Png)).unwrap();
    let bin = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_aigcmark"));
        c.current_dir(d);
        c
    };
    run(bin()
        .args(["label", "in.png", "-o", "out.png", "--key", "signing.key"])
        .args(["--producer", PRODUCER, "--no-watermark", "--tsa", &url]));
    assert!(!d.join("out.png.tsr").exists());
    let verify = |file: &str, extra: &[&str]| -> serde_json::Value {
        let o = bin()
            .args([
                "verify",
                "--json",
                "--no-watermark",
                "--trust",
                "trust.json",
            ])
            .args(["--tsa-trust", "good/ca.pem", file])
            .args(extra)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v[0].clone()
    };
    let v = verify("out.png", &[]);
    assert_eq!(v["verdict"], "labeled_intact", "{v:#}");
    assert_eq!(v["timestamp"]["status"], "valid", "{v:#}");

    // A platform's countersignature keeps the provider's token.
    let (platform, _) = demo_keys(35, common::PLATFORM);
    platform.save(&d.join("platform.key")).unwrap();
    run(bin()
        .args([
            "propagate",
            "out.png",
            "-o",
            "prop.png",
            "--key",
            "platform.key",
        ])
        .args(["--propagator", common::PLATFORM]));
    let v = verify("prop.png", &[]);
    assert_eq!(v["timestamp"]["status"], "valid", "{v:#}");

    // Plain text: the token goes beside the file, and verify reads it from there.
    std::fs::write(d.join("in.txt"), "A generated line.\n").unwrap();
    run(bin()
        .args(["label", "in.txt", "-o", "out.txt", "--key", "signing.key"])
        .args(["--producer", PRODUCER, "--tsa", &url]));
    let v = verify("out.txt", &["--tsa-token", "out.txt.tsr"]);
    assert_eq!(v["verdict"], "labeled_intact", "{v:#}");
    assert_eq!(v["timestamp"]["status"], "valid", "{v:#}");
    let v = verify("out.txt", &[]);
    assert!(v.get("timestamp").is_none(), "{v:#}");
}
