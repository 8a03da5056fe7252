//! Entry points shared by the fuzz targets (`fuzz/`) and the regression tests that replay what
//! the fuzzers found (`tests/fuzz_regressions.rs`), so both exercise exactly the same code.
//!
//! Each function must never panic, whatever the bytes; where a property must hold (a label
//! written is a label read; no input is trusted without a trusted key) it asserts it.

use crate::format::{Format, ScanOptions, WriteOptions};
use crate::label::LabelRecord;
use crate::limits::Limits;
use crate::report::Verdict;
use crate::seal::Seal;
use crate::trust::TrustStore;
use crate::verifier::{VerifyOptions, verify};
use crate::watermark::WatermarkKey;

/// Limits small enough that a fuzzer's input can reach every one of them.
pub fn small_limits() -> Limits {
    Limits {
        max_file_bytes: 1 << 20,
        max_pixels: 1 << 20,
        max_chunk_bytes: 1 << 18,
        max_decompressed_metadata: 1 << 16,
        max_text_bytes: 1 << 20,
        max_audio_seconds: 30.0,
        max_nesting_depth: 32,
    }
}

/// The label JSON parser, and the writer on whatever it read.
pub fn label_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = LabelRecord::parse(text, 32);
    if let Some(record) = parsed.record
        && let Ok(json) = record.to_json()
    {
        let again = LabelRecord::parse(&json, 32).record;
        assert_eq!(
            again.as_ref(),
            Some(&record),
            "written label reads back the same"
        );
    }
}

/// The seal parser and signature check.
pub fn seal(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(seal) = Seal::parse(text) {
        let record = LabelRecord::default();
        assert!(!seal.verify_provider(&record) || seal.header().len() < text.len());
        let _ = seal.verify_platform(&record);
        let _ = seal.key_id();
    }
}

/// The trust store parser.
pub fn trust_store(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(store) = TrustStore::from_json(text) {
        let again = TrustStore::from_json(&store.to_json()).expect("a store we wrote reads back");
        assert_eq!(again.entries().count(), store.entries().count());
    }
}

/// Verification of arbitrary bytes as `format`. With an empty trust store nothing may come out
/// as properly labeled.
pub fn verify_as(format: Format, data: &[u8]) {
    let mut opts = VerifyOptions::new(TrustStore::new());
    opts.limits = small_limits();
    opts.watermark_key = Some(WatermarkKey::public_default());
    let report = verify(data, format, &opts);
    assert_ne!(
        report.verdict,
        Verdict::LabeledIntact,
        "trusted without a trusted key"
    );
    let _ = serde_json::to_string(&report).expect("reports serialise");
    let _ = crate::verifier::inspect(data, format, &opts.limits, None);
}

/// Writing a label into arbitrary bytes of `format`: when the writer accepts the input, the
/// label must read back from its output; writing into bytes given up (in place where the format
/// can) gives the same result.
pub fn write_then_read(format: Format, data: &[u8]) {
    const JSON: &str = r#"{"Label":"1","ContentProducer":"001191000000MA00DEMO0X10000","ProduceID":"fuzz","ReservedCode1":"","ContentPropagator":"","PropagateID":"","ReservedCode2":""}"#;
    let Ok(handler) = crate::formats::handler(format) else {
        return;
    };
    let limits = small_limits();
    let opts = WriteOptions {
        carriers: crate::format::CarrierChoice::Both,
        limits: &limits,
    };
    let written = handler.write_label(data, JSON, &opts);
    let owned = handler.write_label_owned(data.to_vec(), JSON, &opts);
    assert_eq!(
        written.as_ref().ok(),
        owned.as_ref().ok(),
        "a label written into {format} bytes given up is the label written into borrowed ones"
    );
    let Ok(out) = written else {
        return;
    };
    let scan = handler
        .scan(
            &out,
            &ScanOptions {
                limits: &limits,
                watermark_key: None,
                explicit: true,
            },
        )
        .expect("a file we wrote scans");
    assert!(
        scan.carriers
            .iter()
            .any(|c| LabelRecord::parse(&c.value, 32)
                .record
                .and_then(|r| r.produce_id)
                .as_deref()
                == Some("fuzz")),
        "the label written into a {format} file reads back"
    );
}

/// The formats [`insert_into_labeled`] covers: those whose labeled base file can be made in
/// memory and whose decoded content can be compared here.
pub const INSERT_FORMATS: [Format; 4] = [Format::Png, Format::Jpeg, Format::Webp, Format::Wav];

/// A labeled file, the store that trusts its key, and what a decoder shows of it.
type Base = (Vec<u8>, TrustStore, Vec<u8>);

/// A small labeled file of `format` (no watermark, so it is made fast).
fn labeled_base(format: Format) -> &'static Base {
    use std::sync::OnceLock;
    static BASES: OnceLock<Vec<(Format, Base)>> = OnceLock::new();
    let bases = BASES.get_or_init(|| {
        let signer = crate::keys::Signer::from_seed(&[7u8; 32]);
        let producer = "001191000000MA00FUZZ0X10000";
        let mut trust = TrustStore::new();
        trust
            .add(TrustStore::entry_for(
                &signer.public_key(),
                producer,
                crate::trust::Role::Any,
            ))
            .expect("a fresh key is added");
        let mut opts = crate::LabelOptions::new(producer);
        opts.watermark = false;
        opts.produce_id = Some("fuzz-base".into());
        opts.signed_at = Some(1_790_000_000);
        INSERT_FORMATS
            .iter()
            .map(|&f| {
                let content = match f {
                    Format::Wav => {
                        let samples: Vec<i16> = (0..8000)
                            .map(|i| ((i as f32 * 0.07).sin() * 8000.0) as i16)
                            .collect();
                        crate::formats::audio::pcm::wav_from_i16(&samples, 8000, 1)
                            .expect("a WAV is written")
                    }
                    _ => {
                        let img = image::RgbImage::from_fn(40, 30, |x, y| {
                            image::Rgb([(x * 6) as u8, (y * 8) as u8, 120])
                        });
                        crate::formats::image::encode_image(
                            &image::DynamicImage::ImageRgb8(img),
                            f,
                            90,
                        )
                        .expect("an image is encoded")
                    }
                };
                let labeled = crate::label(&content, f, &signer, &opts)
                    .expect("the base file is labeled")
                    .bytes;
                let shown = rendered(f, &labeled).expect("the base file decodes");
                (f, (labeled, trust.clone(), shown))
            })
            .collect()
    });
    &bases
        .iter()
        .find(|(f, _)| *f == format)
        .expect("a base for every insert format")
        .1
}

/// What a decoder presents of `bytes`: the pixels (RGBA8 with the size) or the samples.
fn rendered(format: Format, bytes: &[u8]) -> Option<Vec<u8>> {
    match format {
        Format::Wav => {
            let pcm =
                crate::formats::audio::decode::decode_all(bytes, "wav", &small_limits()).ok()?;
            let mut out = pcm.rate.to_le_bytes().to_vec();
            out.extend_from_slice(&pcm.channels.to_le_bytes());
            out.extend(pcm.samples.iter().flat_map(|s| s.to_le_bytes()));
            Some(out)
        }
        _ => {
            let f = match format {
                Format::Png => image::ImageFormat::Png,
                Format::Jpeg => image::ImageFormat::Jpeg,
                _ => image::ImageFormat::WebP,
            };
            let img = image::load_from_memory_with_format(bytes, f)
                .ok()?
                .to_rgba8();
            let mut out = img.width().to_le_bytes().to_vec();
            out.extend_from_slice(&img.height().to_le_bytes());
            out.extend_from_slice(img.as_raw());
            Some(out)
        }
    }
}

/// Bytes inserted anywhere into a labeled file: either the file is no longer `labeled_intact`,
/// or the inserted bytes are inert (a decoder shows exactly what was sealed). `data` is the
/// format (first byte), the position (next four bytes, modulo the length) and the bytes.
pub fn insert_into_labeled(data: &[u8]) {
    let [f, p0, p1, p2, p3, insert @ ..] = data else {
        return;
    };
    let format = INSERT_FORMATS[usize::from(*f) % INSERT_FORMATS.len()];
    let (base, trust, shown) = labeled_base(format);
    let at = u32::from_le_bytes([*p0, *p1, *p2, *p3]) as usize % (base.len() + 1);
    let mut bytes = base[..at].to_vec();
    bytes.extend_from_slice(insert);
    bytes.extend_from_slice(&base[at..]);
    let mut opts = VerifyOptions::new(trust.clone());
    opts.limits = small_limits();
    opts.watermark_key = None;
    let report = verify(&bytes, format, &opts);
    if report.verdict == Verdict::LabeledIntact {
        assert_eq!(
            rendered(format, &bytes).as_ref(),
            Some(shown),
            "{format}: {} bytes inserted at {at} change what a decoder shows, yet the file \
             verifies as intact",
            insert.len()
        );
    }
}

/// Picks a format from the first byte, for targets that cover them all.
pub fn format_from_byte(b: u8) -> Format {
    Format::ALL[usize::from(b) % Format::ALL.len()]
}
