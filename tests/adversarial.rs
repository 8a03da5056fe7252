//! Hostile and broken input: every case ends in a defined verdict or finding, never a panic, and
//! never as properly labeled.

mod common;

use aigcmark::format::{Format, WriteOptions};
use aigcmark::{LabelOptions, Limits, TrustStore, Verdict, VerifyOptions};
use common::{PRODUCER, demo_keys};

fn verify_with(bytes: &[u8], format: Format, trust: &TrustStore) -> aigcmark::Report {
    aigcmark::verify(bytes, format, &VerifyOptions::new(trust.clone()))
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
fn garbage(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn zero_length_and_garbage_never_verify_as_labeled() {
    let (_, trust) = demo_keys(1, PRODUCER);
    for format in Format::ALL {
        for (i, bytes) in [
            Vec::new(),
            garbage(1, 1),
            garbage(7, 2),
            garbage(4096, 3),
            garbage(100_000, 4),
        ]
        .into_iter()
        .enumerate()
        {
            let r = verify_with(&bytes, format, &trust);
            assert!(
                !matches!(r.verdict, Verdict::LabeledIntact | Verdict::LabeledUnsigned),
                "{format} garbage #{i}: {:?}",
                r.verdict
            );
        }
    }
}

#[test]
fn invalid_utf8_and_lone_surrogates_in_text() {
    let (_, trust) = demo_keys(1, PRODUCER);
    // A lone surrogate (U+D800) as WTF-8/CESU bytes, an overlong encoding, a stray continuation.
    for bytes in [
        &b"abc\xED\xA0\x80def"[..],
        b"\xC0\xAF",
        b"plain \x80 text",
        b"\xFF\xFE\x00a\x00",
    ] {
        let r = verify_with(bytes, Format::Text, &trust);
        assert_eq!(r.verdict, Verdict::Error, "{bytes:?}");
        assert!(r.has_finding("file.unreadable"));
    }
}

#[test]
fn deeply_nested_json_in_a_carrier_is_a_finding() {
    let (_, trust) = demo_keys(1, PRODUCER);
    let limits = Limits::default();
    let handler = aigcmark::formats::handler(Format::Text).unwrap();
    let deep = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
    let wrote = handler.write_label(
        b"some text",
        &deep,
        &WriteOptions {
            carriers: aigcmark::format::CarrierChoice::Both,
            limits: &limits,
        },
    );
    if let Ok(bytes) = wrote {
        let r = verify_with(&bytes, Format::Text, &trust);
        assert_ne!(r.verdict, Verdict::LabeledIntact);
        assert!(r.has_finding("label.too_deep"), "{:?}", r.findings);
    }
}

#[test]
fn text_over_the_size_limit_is_refused_cleanly() {
    let (_, trust) = demo_keys(1, PRODUCER);
    let mut opts = VerifyOptions::new(trust);
    opts.limits.max_text_bytes = 1000;
    let r = aigcmark::verify(&vec![b'a'; 5000], Format::Text, &opts);
    assert_eq!(r.verdict, Verdict::Error);
}

#[test]
fn truncated_labeled_text_is_never_intact() {
    let (signer, trust) = demo_keys(1, PRODUCER);
    let text = "Generated paragraph one.\n\n生成的第二段。\n".repeat(3);
    let out = aigcmark::label(
        text.as_bytes(),
        Format::Text,
        &signer,
        &LabelOptions::new(PRODUCER),
    )
    .unwrap();
    for cut in (1..out.bytes.len()).step_by(7) {
        // Cutting only trailing whitespace changes nothing a reader sees.
        if out.bytes[cut..].iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let r = verify_with(&out.bytes[..cut], Format::Text, &trust);
        assert_ne!(r.verdict, Verdict::LabeledIntact, "cut at {cut}");
    }
}

/// A real labeled file of each binary format (metadata only, to keep the test fast).
fn labeled_samples() -> Vec<(Format, Vec<u8>)> {
    let (signer, _) = demo_keys(1, PRODUCER);
    let mut opts = LabelOptions::new(PRODUCER);
    opts.watermark = false;
    let mut out = Vec::new();
    for (format, rel) in [
        (Format::Png, "images/skimage/coffee.png"),
        (Format::Jpeg, "images/mate/Dune.jpg"),
        (Format::Wav, "audio/espeak/en.wav"),
        (Format::Flac, "audio/scsynth/guit_em9.flac"),
    ] {
        let input = std::fs::read(common::corpus_file(rel)).unwrap();
        let l = aigcmark::label(&input, format, &signer, &opts).unwrap();
        out.push((format, l.bytes));
    }
    // WebP and MP3 made from the corpus in-process / by lame.
    let png = std::fs::read(common::corpus_file("images/skimage/chelsea.png")).unwrap();
    let webp =
        aigcmark::encode_image(&image::load_from_memory(&png).unwrap(), Format::Webp, 90).unwrap();
    out.push((
        Format::Webp,
        aigcmark::label(&webp, Format::Webp, &signer, &opts)
            .unwrap()
            .bytes,
    ));
    let dir = tempfile::tempdir().unwrap();
    let mp3 = dir.path().join("a.mp3");
    common::run(
        std::process::Command::new(common::tool("lame", "lame"))
            .args(["--quiet", "-b", "64"])
            .arg(common::corpus_file("audio/espeak/en.wav"))
            .arg(&mp3),
    );
    let mp3 = std::fs::read(&mp3).unwrap();
    out.push((
        Format::Mp3,
        aigcmark::label(&mp3, Format::Mp3, &signer, &opts)
            .unwrap()
            .bytes,
    ));
    out
}

#[test]
fn truncated_labeled_files_of_every_format_are_never_intact() {
    let (_, trust) = demo_keys(1, PRODUCER);
    let mut opts = VerifyOptions::new(trust.clone());
    opts.watermark_key = None;
    for (format, bytes) in labeled_samples() {
        let r = aigcmark::verify(&bytes, format, &opts);
        assert_eq!(
            r.verdict,
            Verdict::LabeledIntact,
            "{format} sample itself: {:?}",
            r.findings
        );
        let len = bytes.len();
        let cuts = [
            1,
            8,
            12,
            40,
            len / 3,
            len / 2,
            len - len / 10,
            len - 3,
            len - 1,
        ];
        for cut in cuts.into_iter().filter(|&c| c > 0 && c < len) {
            let r = aigcmark::verify(&bytes[..cut], format, &opts);
            assert_ne!(
                r.verdict,
                Verdict::LabeledIntact,
                "{format} cut at {cut} of {len}"
            );
        }
        // A flipped byte in the middle of the content.
        let mut flipped = bytes.clone();
        flipped[len * 3 / 4] ^= 0x55;
        let r = aigcmark::verify(&flipped, format, &opts);
        assert_ne!(
            r.verdict,
            Verdict::LabeledIntact,
            "{format} with a flipped byte"
        );
    }
}

#[test]
fn jpeg_without_eoi_and_png_with_a_bad_crc() {
    let (_, trust) = demo_keys(1, PRODUCER);
    let samples = labeled_samples();
    let jpeg = &samples.iter().find(|(f, _)| *f == Format::Jpeg).unwrap().1;
    assert_eq!(&jpeg[jpeg.len() - 2..], b"\xFF\xD9");
    let r = verify_with(&jpeg[..jpeg.len() - 2], Format::Jpeg, &trust);
    assert_ne!(r.verdict, Verdict::LabeledIntact, "{:?}", r.findings);
    let png = &samples.iter().find(|(f, _)| *f == Format::Png).unwrap().1;
    // Corrupt the CRC of the IHDR chunk (bytes 29..33).
    let mut bad = png.clone();
    bad[30] ^= 0xFF;
    let r = verify_with(&bad, Format::Png, &trust);
    assert_ne!(r.verdict, Verdict::LabeledIntact);
    assert!(!r.findings.is_empty());
}

#[test]
fn wav_whose_chunk_sizes_lie() {
    let (_, trust) = demo_keys(1, PRODUCER);
    let samples = labeled_samples();
    let wav = &samples.iter().find(|(f, _)| *f == Format::Wav).unwrap().1;
    for (at, value) in [(4usize, u32::MAX), (4, 0), (16, u32::MAX), (16, 1)] {
        let mut bad = wav.clone();
        bad[at..at + 4].copy_from_slice(&value.to_le_bytes());
        let r = verify_with(&bad, Format::Wav, &trust);
        assert_ne!(r.verdict, Verdict::LabeledIntact, "size at {at} = {value}");
    }
}

#[test]
fn compressed_metadata_bomb_and_deeply_nested_xmp() {
    let (_, trust) = demo_keys(1, PRODUCER);
    let png = std::fs::read(common::corpus_file("images/skimage/coffee.png")).unwrap();
    // A zTXt "AIGC" chunk that inflates to 1 GiB of zeros (about 1 MB compressed).
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        std::io::Write::write_all(&mut z, &zeros).unwrap();
    }
    let compressed = z.finish().unwrap();
    let mut body = b"AIGC\0\0".to_vec();
    body.extend_from_slice(&compressed);
    let bomb = insert_png_chunk(&png, b"zTXt", &body);
    let t = std::time::Instant::now();
    let r = verify_with(&bomb, Format::Png, &trust);
    assert!(t.elapsed().as_secs() < 20, "bounded work");
    assert_ne!(r.verdict, Verdict::LabeledIntact);
    assert!(r.has_finding("png.metadata_unreadable"), "{:?}", r.findings);

    // XMP nested 100 000 elements deep, holding a TC260 property at the bottom.
    let mut xmp = String::from(
        r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/">"#,
    );
    xmp.push_str(&"<a>".repeat(100_000));
    xmp.push_str(r#"<TC260:AIGC>{"Label":"1","ContentProducer":"x","ProduceID":"y"}</TC260:AIGC>"#);
    xmp.push_str(&"</a>".repeat(100_000));
    xmp.push_str("</rdf:Description></rdf:RDF></x:xmpmeta>");
    let mut body = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
    body.extend_from_slice(xmp.as_bytes());
    let deep = insert_png_chunk(&png, b"iTXt", &body);
    let r = verify_with(&deep, Format::Png, &trust);
    assert_ne!(r.verdict, Verdict::LabeledIntact);
}

/// Inserts a chunk right after IHDR, with a correct CRC.
fn insert_png_chunk(png: &[u8], kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let at = 8 + 8 + 13 + 4;
    let mut out = png[..at].to_vec();
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(body);
    out.extend_from_slice(&crc_input);
    out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    out.extend_from_slice(&png[at..]);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG chunk: length, type, data, CRC.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let mut h = crc32fast::Hasher::new();
    h.update(kind);
    h.update(data);
    c.extend_from_slice(&h.finalize().to_be_bytes());
    c
}

#[test]
fn an_unreadable_second_label_carrier_rules_out_intact() {
    let (signer, trust) = demo_keys(1, PRODUCER);
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 90]));
    let png =
        aigcmark::encode_image(&image::DynamicImage::ImageRgb8(img), Format::Png, 90).unwrap();
    let mut opts = LabelOptions::new(PRODUCER);
    opts.watermark = false;
    let out = aigcmark::label(&png, Format::Png, &signer, &opts).unwrap();
    assert_eq!(
        verify_with(&out.bytes, Format::Png, &trust).verdict,
        Verdict::LabeledIntact
    );
    // A second carrier the parser cannot read, just before IEND: the content digest still
    // matches, yet the file was changed after labeling and carries an error finding.
    let iend = out.bytes.len() - 12;
    let mut bytes = out.bytes[..iend].to_vec();
    bytes.extend(png_chunk(b"tEXt", b"AIGC\0{\"Label\":\"1\",oops"));
    bytes.extend_from_slice(&out.bytes[iend..]);
    let r = verify_with(&bytes, Format::Png, &trust);
    assert!(
        r.findings
            .iter()
            .any(|f| f.severity == aigcmark::Severity::Error),
        "{r:#?}"
    );
    assert_eq!(r.binding.status, aigcmark::report::BindingStatus::Match);
    assert_eq!(r.verdict, Verdict::Altered, "{r:#?}");
}
