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
    total += replay("insert_labeled", fuzzing::insert_into_labeled);
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

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
    /// A random run of bytes (often shaped like a chunk or segment) inserted anywhere in a
    /// labeled PNG, JPEG, WebP or WAV: either inert, or the file is no longer intact.
    #[test]
    fn bytes_inserted_anywhere_are_inert_or_break_intact(
        format in 0u8..4,
        at in proptest::prelude::any::<u32>(),
        kind in proptest::prelude::prop::sample::select(vec![
            *b"IDAT", *b"tEXt", *b"fdAT", *b"VP8 ", *b"data", *b"LIST", *b"\xFF\xDA\x00\x08", *b"\xFF\xD8\xFF\xE1"
        ]),
        body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        framed in proptest::prelude::any::<bool>(),
    ) {
        let mut data = vec![format];
        data.extend_from_slice(&at.to_le_bytes());
        if framed {
            // Shaped like a chunk: a length, a type, the body.
            data.extend_from_slice(&(body.len() as u32).to_be_bytes());
            data.extend_from_slice(&kind);
        }
        data.extend_from_slice(&body);
        fuzzing::insert_into_labeled(&data);
    }
}
