//! Replays every input kept under `fuzz/regressions/<target>/` (what the fuzzers found, and seeds)
//! through the same entry point as its fuzz target. Runs in every `cargo test`.

use std::path::Path;

use aigcmark::format::Format;
use aigcmark::fuzzing;

fn replay(target: &str, f: impl Fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut n = 0;
    for e in entries {
        let p = e.unwrap().path();
        let data = std::fs::read(&p).unwrap();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&data)));
        assert!(result.is_ok(), "fuzz regression {} panicked", p.display());
        n += 1;
    }
    n
}

#[test]
fn fuzz_regressions_replay_cleanly() {
    let mut total = 0;
    total += replay("label_json", fuzzing::label_json);
    total += replay("seal", fuzzing::seal);
    total += replay("trust_store", fuzzing::trust_store);
    for (name, format) in [
        ("text", Format::Text),
        ("markdown", Format::Markdown),
        ("png", Format::Png),
        ("jpeg", Format::Jpeg),
        ("webp", Format::Webp),
        ("wav", Format::Wav),
        ("mp3", Format::Mp3),
        ("flac", Format::Flac),
        ("ogg", Format::Ogg),
    ] {
        total += replay(name, |d| fuzzing::verify_as(format, d));
    }
    total += replay("write_label", |d| {
        if let Some((&b, rest)) = d.split_first() {
            fuzzing::write_then_read(fuzzing::format_from_byte(b), rest);
        }
    });
    assert!(
        total > 0,
        "no regression inputs found under fuzz/regressions"
    );
}
