//! Shared test helpers: the real-content corpus and third-party tools.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The corpus folder filled by `scripts/fetch-corpus.sh`. Panics with instructions when missing:
/// tests on real content never skip themselves.
pub fn corpus() -> PathBuf {
    let dir = std::env::var_os("AIGCMARK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
                });
            cache.join("aigcmark-corpus")
        });
    assert!(
        dir.join("images").is_dir() && dir.join("audio").is_dir(),
        "the test corpus is missing at {}: run scripts/fetch-corpus.sh first",
        dir.display()
    );
    dir
}

/// A file from the corpus, e.g. `corpus_file("images/skimage/astronaut.png")`.
pub fn corpus_file(rel: &str) -> PathBuf {
    let p = corpus().join(rel);
    assert!(
        p.is_file(),
        "{} is missing: run scripts/fetch-corpus.sh",
        p.display()
    );
    p
}

/// A third-party program; panics with the package to install when it is not there.
pub fn tool(name: &str, debian_package: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/local/bin", "/bin"] {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} is missing: apt-get install {debian_package}");
}

/// ImageMagick's convert (the real one in /usr/bin, not a stand-in earlier on PATH).
pub fn convert() -> PathBuf {
    let p = PathBuf::from("/usr/bin/convert");
    assert!(
        p.is_file(),
        "/usr/bin/convert is missing: apt-get install imagemagick"
    );
    p
}

/// Runs a command and returns stdout; panics with stderr on failure.
pub fn run(cmd: &mut Command) -> String {
    String::from_utf8_lossy(&run_bytes(cmd)).into_owned()
}

/// Runs a command and returns its stdout bytes; panics with stderr on failure.
pub fn run_bytes(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A signer with a fixed seed and a trust store holding it for `producer`.
pub fn demo_keys(seed: u8, producer: &str) -> (aigcmark::Signer, aigcmark::TrustStore) {
    let signer = aigcmark::Signer::from_seed(&[seed; 32]);
    let mut trust = aigcmark::TrustStore::new();
    trust
        .add(aigcmark::TrustStore::entry_for(
            &signer.public_key(),
            producer,
            aigcmark::trust::Role::Any,
        ))
        .unwrap();
    (signer, trust)
}

pub const PRODUCER: &str = "001191000000MA00DEMO0X10000";
pub const PLATFORM: &str = "001191000000MA00DEMO0X20000";

/// Label options for the format tests: no watermark, so the content stays byte for byte.
pub fn metadata_only() -> aigcmark::LabelOptions {
    let mut o = aigcmark::LabelOptions::new(PRODUCER);
    o.watermark = false;
    o
}

/// The samples ffmpeg decodes from `path`, as 16-bit little-endian bytes.
pub fn ffmpeg_s16le(path: &Path) -> Vec<u8> {
    run_bytes(
        Command::new(tool("ffmpeg", "ffmpeg"))
            .args(["-v", "error", "-i"])
            .arg(path)
            .args(["-f", "s16le", "-"]),
    )
}

/// Runs `cmd` with `input` on its standard input and returns what it printed.
pub fn pipe(cmd: &mut Command, input: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Verifies and labels again `labeled` cut short at about `cuts` places, and copies of it with
/// `flips` pseudo-random bytes (from `seed`) overwritten within its first `span` bytes: every
/// call must return, with a report or an error, and never panic.
pub fn survives_damage(
    labeled: &[u8],
    format: aigcmark::Format,
    signer: &aigcmark::Signer,
    vopts: &aigcmark::VerifyOptions,
    (cuts, flips, span): (usize, usize, usize),
    seed: u32,
) {
    let mut x = seed;
    for cut in (0..labeled.len()).step_by((labeled.len() / cuts).max(1)) {
        let _ = aigcmark::verify(&labeled[..cut], format, vopts);
        let mut bad = labeled.to_vec();
        for _ in 0..flips {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let i = (x as usize >> 3) % bad.len().min(span);
            bad[i] = (x >> 24) as u8;
        }
        let last = bad.len() - 1;
        bad[cut.min(last)] ^= 0xff;
        let _ = aigcmark::verify(&bad, format, vopts);
        let _ = aigcmark::label(&bad, format, signer, &metadata_only());
    }
}
