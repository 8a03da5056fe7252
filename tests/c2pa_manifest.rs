//! C2PA beside the GB 45438 label (issue #17), judged by c2pa-python (the reference SDK's Python
//! binding) as well as by our own verifier: every written format carries both labels and both
//! validate; a manifest added later keeps the GB label intact; moved, edited and malformed
//! manifests; other producers' manifests with and without a GB label; disagreement.
//!
//! c2pa-python runs through `AIGCMARK_PYTHON` (default `python3`); a python without the `c2pa`
//! module fails these tests with the install command.
#![cfg(feature = "c2pa")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use aigcmark::{
    C2paSigner, C2paStatus, Format, LabelOptions, Report, Severity, TestCertificates, Verdict,
    VerifyOptions,
};
use common::{PRODUCER, run, tool};
use serde_json::Value;

const AI: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";
const CAMERA: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture";

fn python() -> PathBuf {
    PathBuf::from(std::env::var_os("AIGCMARK_PYTHON").unwrap_or_else(|| "python3".into()))
}

fn tool_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/c2pa_tool.py")
}

/// Runs c2pa_tool.py; panics loudly when c2pa-python is missing.
fn c2pa_py(args: &[&str]) -> String {
    let out = Command::new(python())
        .arg(tool_script())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", python()));
    assert!(
        out.status.success(),
        "c2pa_tool.py {args:?} failed (set AIGCMARK_PYTHON to a python with c2pa-python): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn mime(format: Format) -> &'static str {
    match format {
        Format::Jpeg => "image/jpeg",
        Format::Png => "image/png",
        Format::Webp => "image/webp",
        Format::Wav => "audio/wav",
        Format::Mp3 => "audio/mpeg",
        _ => unreachable!(),
    }
}

/// The test chain, written once into a folder the python side reads.
struct Creds {
    certs: TestCertificates,
    dir: tempfile::TempDir,
}

impl Creds {
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
    fn signer(&self) -> C2paSigner {
        C2paSigner::from_pem(&self.certs.chain_pem, &self.certs.key_pem).unwrap()
    }
}

fn make_creds() -> Creds {
    let certs = aigcmark::c2pa_test_certificates().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &certs.ca_pem).unwrap();
    std::fs::write(dir.path().join("chain.pem"), &certs.chain_pem).unwrap();
    std::fs::write(dir.path().join("key.pem"), &certs.key_pem).unwrap();
    Creds { certs, dir }
}

/// Ours (the provider's), and another producer's (a platform or another AI service).
fn ours() -> &'static Creds {
    static C: OnceLock<Creds> = OnceLock::new();
    C.get_or_init(make_creds)
}
fn theirs() -> &'static Creds {
    static C: OnceLock<Creds> = OnceLock::new();
    C.get_or_init(make_creds)
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join(name),
    )
    .unwrap()
}

/// Small inputs of each written format, from the samples.
fn input(format: Format) -> Vec<u8> {
    match format {
        Format::Jpeg => sample("chelsea.jpg"),
        Format::Png => sample("coffee.png"),
        Format::Webp => {
            let img = image::load_from_memory(&sample("coffee.png")).unwrap();
            aigcmark::formats::image::encode_image(&img, Format::Webp, 90).unwrap()
        }
        Format::Wav => sample("speech.wav"),
        Format::Mp3 => {
            let dir = tempfile::tempdir().unwrap();
            let (wav, mp3) = (dir.path().join("in.wav"), dir.path().join("out.mp3"));
            std::fs::write(&wav, sample("speech.wav")).unwrap();
            run(Command::new(tool("lame", "lame"))
                .args(["--quiet", "-b", "64"])
                .arg(&wav)
                .arg(&mp3));
            std::fs::read(mp3).unwrap()
        }
        _ => unreachable!(),
    }
}

const WRITTEN: [Format; 5] = [
    Format::Jpeg,
    Format::Png,
    Format::Webp,
    Format::Wav,
    Format::Mp3,
];

fn keys() -> (aigcmark::Signer, aigcmark::TrustStore) {
    common::demo_keys(17, PRODUCER)
}

/// Labels with the GB label and, when `c2pa`, our manifest. The watermark goes into the images
/// (the C2PA manifest then names it); audio stays metadata-only so MP3 stays MP3.
fn label(format: Format, c2pa: bool) -> aigcmark::Labeled {
    let (signer, _) = keys();
    let mut o = LabelOptions::new(PRODUCER);
    o.watermark = matches!(format, Format::Jpeg | Format::Png);
    if c2pa {
        o.c2pa = Some(ours().signer());
    }
    aigcmark::label(&input(format), format, &signer, &o).unwrap()
}

fn verify(bytes: &[u8], format: Format, anchors: Option<&Creds>) -> Report {
    let (_, trust) = keys();
    let mut o = VerifyOptions::new(trust);
    o.c2pa_trust = anchors.map(|c| c.certs.ca_pem.clone());
    aigcmark::verify(bytes, format, &o)
}

/// c2pa-python's reading of `bytes`: (validation state, failure codes, active manifest).
fn py_read(bytes: &[u8], format: Format, anchors: Option<&Creds>) -> (String, Vec<String>, Value) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f");
    std::fs::write(&p, bytes).unwrap();
    let p = p.display().to_string();
    let mut args = vec!["read", mime(format), p.as_str()];
    let ca = anchors.map(|c| c.path("ca.pem"));
    if let Some(ca) = &ca {
        args.push(ca);
    }
    let v: Value = serde_json::from_str(c2pa_py(&args).trim()).unwrap();
    let failures = v["failures"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str().map(str::to_string))
        .collect();
    (
        v["state"].as_str().unwrap_or("").to_string(),
        failures,
        v["active"].clone(),
    )
}

/// A manifest made by c2pa-python (another producer) on `bytes`.
fn py_sign(bytes: &[u8], format: Format, who: &Creds, source_type: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (i, o) = (dir.path().join("in"), dir.path().join("out"));
    std::fs::write(&i, bytes).unwrap();
    c2pa_py(&[
        "sign",
        mime(format),
        &i.display().to_string(),
        &o.display().to_string(),
        &who.path("chain.pem"),
        &who.path("key.pem"),
        source_type,
    ]);
    std::fs::read(o).unwrap()
}

fn codes(r: &Report) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.code).collect()
}

#[test]
fn every_written_format_carries_both_labels_and_c2pa_python_validates_ours() {
    for format in WRITTEN {
        let out = label(format, true);
        assert_eq!(out.format, format);

        // Our verifier: the GB label intact, the manifest sound and agreeing.
        let r = verify(&out.bytes, format, None);
        assert_eq!(
            r.verdict,
            Verdict::LabeledIntact,
            "{format}: {:?}",
            codes(&r)
        );
        assert_eq!(
            r.c2pa.status,
            C2paStatus::Untrusted,
            "{format}: {:?}",
            r.c2pa
        );
        assert_eq!(r.c2pa.agrees_with_label, Some(true), "{format}");
        assert_eq!(r.c2pa.digital_source_type.as_deref(), Some(AI));
        assert_eq!(r.c2pa.produce_id, out.record.produce_id, "{format}");
        assert!(r.c2pa.signer.as_deref().unwrap().contains("TEST ONLY"));
        let trusted = verify(&out.bytes, format, Some(ours()));
        assert_eq!(trusted.verdict, Verdict::LabeledIntact, "{format}");
        assert_eq!(
            trusted.c2pa.status,
            C2paStatus::Valid,
            "{format}: {:?}",
            trusted.c2pa
        );
        if let Some(id) = &out.watermark_id {
            assert!(r.c2pa.actions.iter().any(|a| a == "c2pa.watermarked"));
            assert_eq!(r.c2pa.soft_bindings[0].values, vec![id.clone()]);
            assert_eq!(r.c2pa.agrees_with_watermark, Some(true), "{format}");
        }

        // c2pa-python: only the signer is untrusted; with our CA as anchor, fully valid.
        let (state, failures, active) = py_read(&out.bytes, format, None);
        assert_eq!(failures, vec!["signingCredential.untrusted"], "{format}");
        assert_eq!(state, "Valid", "{format}");
        let (state, failures, _) = py_read(&out.bytes, format, Some(ours()));
        assert!(failures.is_empty(), "{format}: {failures:?}");
        assert_eq!(state, "Trusted", "{format}");
        let gb = active["assertions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["label"] == "cn.gb45438.aigc")
            .unwrap_or_else(|| panic!("{format}: no GB assertion in {active}"));
        assert_eq!(
            gb["data"]["ProduceID"].as_str(),
            out.record.produce_id.as_deref()
        );
        assert_eq!(gb["data"]["ContentProducer"], PRODUCER);
    }
}

#[test]
fn exiftool_still_reads_the_gb_label_beside_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/exiftool-tc260.config");
    for format in [Format::Jpeg, Format::Png, Format::Webp] {
        let out = label(format, true);
        let p = dir.path().join(format!("x.{}", format.name()));
        std::fs::write(&p, &out.bytes).unwrap();
        let json = run(Command::new(tool("exiftool", "libimage-exiftool-perl"))
            .arg("-config")
            .arg(&config)
            .args(["-s", "-s", "-s", "-XMP-TC260:AIGC"])
            .arg(&p));
        let v: Value = serde_json::from_str(json.trim()).unwrap();
        assert_eq!(v["ProduceID"].as_str(), out.record.produce_id.as_deref());
    }
}

#[test]
fn a_manifest_added_later_keeps_the_gb_label_intact() {
    for format in WRITTEN {
        let labeled = label(format, false);
        let platform = py_sign(&labeled.bytes, format, theirs(), AI);
        let r = verify(&platform, format, None);
        assert_eq!(
            r.verdict,
            Verdict::LabeledIntact,
            "{format}: {:?}",
            codes(&r)
        );
        assert_eq!(
            r.c2pa.status,
            C2paStatus::Untrusted,
            "{format}: {:?}",
            r.c2pa
        );
        assert_eq!(
            r.c2pa.claim_generator.as_deref(),
            Some("c2pa-python test producer 1.0")
        );
        assert_eq!(r.c2pa.agrees_with_label, Some(true), "{format}");
        let (_, failures, _) = py_read(&platform, format, Some(theirs()));
        assert!(failures.is_empty(), "{format}: {failures:?}");
    }
}

#[test]
fn other_producers_manifest_without_a_gb_label() {
    for format in [Format::Png, Format::Wav] {
        let plain = input(format);
        let ai = py_sign(&plain, format, theirs(), AI);
        let r = verify(&ai, format, Some(theirs()));
        assert_eq!(r.verdict, Verdict::C2paOnly, "{format}: {:?}", codes(&r));
        assert_eq!(r.c2pa.status, C2paStatus::Valid);
        assert!(r.declarations.iter().any(|d| d.ai_generated));
        assert!(codes(&r).contains(&"declaration.ai_generated"));

        let camera = py_sign(&plain, format, theirs(), CAMERA);
        let r = verify(&camera, format, Some(theirs()));
        assert_eq!(r.verdict, Verdict::Unlabeled, "{format}");
        assert_eq!(r.c2pa.status, C2paStatus::Valid);
    }
}

#[test]
fn a_manifest_that_disagrees_with_the_gb_label_is_conflicting() {
    // Another producer's manifest saying "camera" on a file labeled AI-generated.
    let labeled = label(Format::Png, false);
    let camera = py_sign(&labeled.bytes, Format::Png, theirs(), CAMERA);
    let r = verify(&camera, Format::Png, None);
    assert_eq!(r.verdict, Verdict::Conflicting, "{:?}", codes(&r));
    assert_eq!(r.c2pa.agrees_with_label, Some(false));
    assert!(codes(&r).contains(&"c2pa.disagrees"));

    // Our own manifest format naming another ProduceID.
    let (signer, _) = keys();
    let mut o = LabelOptions::new(PRODUCER);
    o.watermark = false;
    let a = aigcmark::label(&input(Format::Jpeg), Format::Jpeg, &signer, &o).unwrap();
    let mut other = a.record.clone();
    other.produce_id = Some("someoneelse".into());
    let forged =
        aigcmark::c2pa_embed(&a.bytes, Format::Jpeg, &other, None, &ours().signer()).unwrap();
    let r = verify(&forged, Format::Jpeg, Some(ours()));
    assert_eq!(r.c2pa.status, C2paStatus::Valid);
    assert_eq!(r.verdict, Verdict::Conflicting, "{:?}", codes(&r));
}

/// The segments of a JPEG that are APP11 (the C2PA store), as (start, end).
fn app11_segments(jpeg: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF && jpeg[i + 1] != 0xDA {
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        if jpeg[i + 1] == 0xEB {
            out.push((i, i + 2 + len));
        }
        i += 2 + len;
    }
    out
}

#[test]
fn a_moved_manifest_is_invalid_and_the_gb_label_is_judged_alone() {
    let a = label(Format::Jpeg, true);
    let b = label(Format::Jpeg, false);
    let segs = app11_segments(&a.bytes);
    assert!(!segs.is_empty());
    let store: Vec<u8> = segs
        .iter()
        .flat_map(|&(s, e)| a.bytes[s..e].to_vec())
        .collect();
    let moved = [&b.bytes[..2], &store, &b.bytes[2..]].concat();

    let r = verify(&moved, Format::Jpeg, Some(ours()));
    assert_eq!(r.c2pa.status, C2paStatus::Invalid, "{:?}", r.c2pa);
    assert!(codes(&r).contains(&"c2pa.invalid"));
    // B's own GB label is untouched: the foreign manifest cannot make it fail.
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{:?}", codes(&r));
    let (state, failures, _) = py_read(&moved, Format::Jpeg, Some(ours()));
    assert_eq!(state, "Invalid");
    assert!(
        failures.iter().any(|f| f.contains("dataHash.mismatch")),
        "{failures:?}"
    );
}

#[test]
fn an_edited_manifest_is_invalid() {
    let a = label(Format::Jpeg, true);
    let id = a.record.produce_id.clone().unwrap();
    let at = memchr::memmem::find(&a.bytes, id.as_bytes()).expect("ProduceID in the manifest");
    // The first copy is in the manifest (APP11 comes before the XMP's APP1 in the output? find
    // the one inside an APP11 segment).
    let inside = app11_segments(&a.bytes)
        .iter()
        .any(|&(s, e)| (s..e).contains(&at));
    let at = if inside {
        at
    } else {
        let (s, e) = app11_segments(&a.bytes)[0];
        s + memchr::memmem::find(&a.bytes[s..e], id.as_bytes()).unwrap()
    };
    let mut edited = a.bytes.clone();
    edited[at] = if edited[at] == b'0' { b'1' } else { b'0' };

    let r = verify(&edited, Format::Jpeg, Some(ours()));
    assert_eq!(r.c2pa.status, C2paStatus::Invalid, "{:?}", r.c2pa);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{:?}", codes(&r));
    let (state, failures, _) = py_read(&edited, Format::Jpeg, Some(ours()));
    assert_eq!(state, "Invalid", "{failures:?}");
}

#[test]
fn a_store_that_is_not_jumbf_is_not_a_hiding_place() {
    let labeled = label(Format::Png, false);
    // A caBX chunk holding anything but well-formed JUMBF, before IEND.
    let junk = b"not a manifest store, but pixels could hide here".to_vec();
    let mut chunk = (junk.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(b"caBX");
    chunk.extend_from_slice(&junk);
    let mut h = flate2::Crc::new();
    h.update(&chunk[4..]);
    chunk.extend_from_slice(&h.sum().to_be_bytes());
    let end = labeled.bytes.len() - 12;
    let bytes = [&labeled.bytes[..end], &chunk, &labeled.bytes[end..]].concat();
    let r = verify(&bytes, Format::Png, None);
    assert_ne!(r.verdict, Verdict::LabeledIntact);
    assert!(
        r.findings
            .iter()
            .any(|f| f.code == "c2pa.store_malformed" && f.severity == Severity::Error)
    );

    // The same in a WAV C2PA chunk.
    let wav = label(Format::Wav, false).bytes;
    let mut c = b"C2PA".to_vec();
    c.extend_from_slice(&(junk.len() as u32).to_le_bytes());
    c.extend_from_slice(&junk);
    let mut bytes = [wav.as_slice(), &c].concat();
    let n = (bytes.len() - 8) as u32;
    bytes[4..8].copy_from_slice(&n.to_le_bytes());
    let r = verify(&bytes, Format::Wav, None);
    assert_ne!(r.verdict, Verdict::LabeledIntact);
    assert!(codes(&r).contains(&"c2pa.store_malformed"));
}

#[test]
fn formats_without_c2pa_get_a_note() {
    let (signer, _) = keys();
    let mut o = LabelOptions::new(PRODUCER);
    o.c2pa = Some(ours().signer());
    let out = aigcmark::label(b"A poem.", Format::Text, &signer, &o).unwrap();
    assert!(out.notes.iter().any(|n| n.code == "c2pa.not_written"));
}

#[test]
fn the_command_line_writes_and_reads_both() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bin = env!("CARGO_BIN_EXE_aigcmark");
    run(Command::new(bin)
        .args(["keygen", "--out"])
        .arg(d.join("keys"))
        .args(["--producer", PRODUCER, "--c2pa"])
        .arg(d.join("c2pa")));
    for f in ["c2pa-ca.pem", "c2pa-chain.pem", "c2pa-signing.key"] {
        assert!(d.join("c2pa").join(f).is_file(), "{f}");
    }
    std::fs::write(d.join("in.jpg"), sample("chelsea.jpg")).unwrap();
    run(Command::new(bin)
        .arg("label")
        .arg(d.join("in.jpg"))
        .arg("-o")
        .arg(d.join("out.jpg"))
        .arg("--key")
        .arg(d.join("keys/signing.key"))
        .args(["--producer", PRODUCER, "--no-watermark", "--c2pa-cert"])
        .arg(d.join("c2pa/c2pa-chain.pem"))
        .arg("--c2pa-key")
        .arg(d.join("c2pa/c2pa-signing.key")));
    let out = Command::new(bin)
        .arg("verify")
        .arg(d.join("out.jpg"))
        .arg("--trust")
        .arg(d.join("keys/trust.json"))
        .arg("--c2pa-trust")
        .arg(d.join("c2pa/c2pa-ca.pem"))
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["verdict"], "labeled_intact");
    assert_eq!(v[0]["c2pa"]["status"], "valid");
    assert_eq!(v[0]["c2pa"]["agrees_with_label"], true);
}
