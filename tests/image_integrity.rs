//! The image binding covers everything a viewer shows: bytes outside it are either proved inert
//! or make the file not intact. Damaged structures that pngcheck and decoders reject, data after
//! the end, frames and chunks inserted after labeling, and random insertions (proptest) whose
//! decoded pixels are compared with the original's.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use aigcmark::encode_image;
use aigcmark::{Format, Report, TrustStore, Verdict, VerifyOptions};
use common::{PRODUCER, corpus_file, run, tool};
use proptest::prelude::*;

struct Labeled {
    original: Vec<u8>,
    bytes: Vec<u8>,
    trust: TrustStore,
}

fn label(input: &[u8], format: Format) -> Labeled {
    let (signer, trust) = common::demo_keys(5, PRODUCER);
    let out = aigcmark::label(input, format, &signer, &common::metadata_only()).unwrap();
    Labeled {
        original: input.to_vec(),
        bytes: out.bytes,
        trust,
    }
}

fn verify(bytes: &[u8], format: Format, trust: &TrustStore) -> Report {
    aigcmark::verify(bytes, format, &VerifyOptions::new(trust.clone()))
}

fn codes(r: &Report) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.code).collect()
}

/// A small photograph, encoded as `format`, labeled (metadata only), made once per format.
fn sample(format: Format) -> &'static Labeled {
    static SAMPLES: OnceLock<Vec<(Format, Labeled)>> = OnceLock::new();
    let all = SAMPLES.get_or_init(|| {
        let photo = image::open(corpus_file("images/skimage/astronaut.png"))
            .unwrap()
            .resize(96, 96, image::imageops::FilterType::Triangle);
        [Format::Png, Format::Jpeg, Format::Webp]
            .into_iter()
            .map(|f| (f, label(&encode_image(&photo, f, 85).unwrap(), f)))
            .collect()
    });
    &all.iter().find(|(f, _)| *f == format).unwrap().1
}

fn pixels(bytes: &[u8]) -> Option<Vec<u8>> {
    image::load_from_memory(bytes)
        .ok()
        .map(|i| i.into_rgba8().into_raw())
}

// ---- PNG ----

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let mut h = flate2::Crc::new();
    h.update(&c[4..]);
    c.extend_from_slice(&h.sum().to_be_bytes());
    c
}

/// (start, end, type) of every chunk.
fn png_chunks(b: &[u8]) -> Vec<(usize, usize, [u8; 4])> {
    let mut v = Vec::new();
    let mut pos = 8;
    while pos + 12 <= b.len() {
        let len = u32::from_be_bytes(b[pos..pos + 4].try_into().unwrap()) as usize;
        let kind: [u8; 4] = b[pos + 4..pos + 8].try_into().unwrap();
        v.push((pos, pos + 12 + len, kind));
        pos += 12 + len;
    }
    v
}

fn insert(b: &[u8], at: usize, what: &[u8]) -> Vec<u8> {
    [&b[..at], what, &b[at..]].concat()
}

fn pngcheck_rejects(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    let out = Command::new(tool("pngcheck", "pngcheck"))
        .arg(&p)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!out.status.success(), "pngcheck accepts {name}: {text}");
    text
}

#[test]
fn png_that_pngcheck_rejects_is_never_intact() {
    let s = sample(Format::Png);
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.png");
    std::fs::write(&good, &s.bytes).unwrap();
    run(Command::new(tool("pngcheck", "pngcheck")).arg(&good));
    assert_eq!(
        verify(&s.bytes, Format::Png, &s.trust).verdict,
        Verdict::LabeledIntact
    );

    let chunks = png_chunks(&s.bytes);
    let idat = chunks.iter().find(|c| &c.2 == b"IDAT").unwrap();
    let iend = chunks.iter().find(|c| &c.2 == b"IEND").unwrap();
    let ihdr = chunks[0];

    // IDAT split in two with a text chunk between: same IDAT data, so the digest matches.
    let data = &s.bytes[idat.0 + 8..idat.1 - 4];
    let half = data.len() / 2;
    let split = [
        &s.bytes[..idat.0],
        &png_chunk(b"IDAT", &data[..half]),
        &png_chunk(b"tEXt", b"Comment\0between"),
        &png_chunk(b"IDAT", &data[half..]),
        &s.bytes[idat.1..],
    ]
    .concat();
    let mut bad_idat_crc = s.bytes.clone();
    bad_idat_crc[idat.1 - 1] ^= 0x55;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("split.png", split, "png.idat_split"),
        (
            "critical.png",
            insert(&s.bytes, idat.0, &png_chunk(b"ABCD", b"xyz")),
            "png.unknown_critical",
        ),
        (
            "idat-after-iend.png",
            [s.bytes.as_slice(), &png_chunk(b"IDAT", data)].concat(),
            "png.trailing_data",
        ),
        (
            "trailing.png",
            [s.bytes.as_slice(), b"more bytes after the end"].concat(),
            "png.trailing_data",
        ),
        (
            "two-ihdr.png",
            insert(&s.bytes, ihdr.1, &s.bytes[ihdr.0..ihdr.1]),
            "png.duplicate_ihdr",
        ),
        ("bad-idat-crc.png", bad_idat_crc, "png.bad_crc"),
        ("no-iend.png", s.bytes[..iend.0].to_vec(), "png.no_iend"),
    ];
    for (name, bytes, code) in cases {
        let said = pngcheck_rejects(dir.path(), name, &bytes);
        let report = verify(&bytes, Format::Png, &s.trust);
        assert_ne!(report.verdict, Verdict::LabeledIntact, "{name}: {said}");
        assert!(
            codes(&report).contains(&code),
            "{name}: {:?}",
            codes(&report)
        );
        // The label is still reported.
        assert!(report.label.is_some(), "{name}");
    }
}

#[test]
fn a_damaged_idat_crc_renders_differently() {
    // libpng (ImageMagick) refuses a file whose IDAT CRC is wrong, although its bytes are bound.
    let s = sample(Format::Png);
    let chunks = png_chunks(&s.bytes);
    let idat = chunks.iter().find(|c| &c.2 == b"IDAT").unwrap();
    let mut bad = s.bytes.clone();
    bad[idat.1 - 2] ^= 0x01;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.png");
    std::fs::write(&p, &bad).unwrap();
    let out = Command::new(common::convert())
        .arg(&p)
        .arg("rgba:-")
        .output()
        .unwrap();
    let g = dir.path().join("good.png");
    std::fs::write(&g, &s.bytes).unwrap();
    let good = common::run_bytes(Command::new(common::convert()).arg(&g).arg("rgba:-"));
    assert!(
        !out.status.success() || out.stdout != good,
        "ImageMagick shows a PNG with a bad IDAT CRC as the sealed one"
    );
    assert_ne!(
        verify(&bad, Format::Png, &s.trust).verdict,
        Verdict::LabeledIntact
    );
}

#[test]
fn apng_frames_cannot_ride_along() {
    let dir = tempfile::tempdir().unwrap();
    let apng = dir.path().join("anim.png");
    run(Command::new(tool("ffmpeg", "ffmpeg"))
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=48x32:rate=4",
            "-frames:v",
            "3",
            "-plays",
            "0",
            "-f",
            "apng",
        ])
        .arg(&apng));
    let input = std::fs::read(&apng).unwrap();
    let s = label(&input, Format::Png);
    assert_eq!(
        verify(&s.bytes, Format::Png, &s.trust).verdict,
        Verdict::LabeledIntact
    );
    let chunks = png_chunks(&s.bytes);
    let iend = chunks.iter().find(|c| &c.2 == b"IEND").unwrap();
    let fctl = chunks.iter().rev().find(|c| &c.2 == b"fcTL").unwrap();
    let fdat = chunks.iter().rev().find(|c| &c.2 == b"fdAT").unwrap();
    // One more frame (a copy of the last one) before IEND, and a lone fcTL.
    let frame = [&s.bytes[fctl.0..fctl.1], &s.bytes[fdat.0..fdat.1]].concat();
    for extra in [frame, s.bytes[fctl.0..fctl.1].to_vec()] {
        let attacked = insert(&s.bytes, iend.0, &extra);
        let report = verify(&attacked, Format::Png, &s.trust);
        assert_eq!(report.verdict, Verdict::Altered, "{:?}", codes(&report));
    }
}

// ---- JPEG ----

#[test]
fn jpeg_bytes_after_eoi_are_bound() {
    let s = sample(Format::Jpeg);
    let other = encode_image(
        &image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
            96,
            96,
            image::Rgb([255, 0, 0]),
        )),
        Format::Jpeg,
        90,
    )
    .unwrap();
    // A second complete JPEG after EOI (what MPF viewers and some galleries show).
    let appended = [s.bytes.as_slice(), &other].concat();
    let report = verify(&appended, Format::Jpeg, &s.trust);
    assert_eq!(report.verdict, Verdict::Altered, "{:?}", codes(&report));
    assert!(codes(&report).contains(&"binding.mismatch"));

    // A file labeled with a trailer keeps it, bound: intact as labeled, altered when it changes,
    // and intact after exiftool edits other metadata.
    let t = label(&[s.original.as_slice(), &other].concat(), Format::Jpeg);
    assert!(t.bytes.ends_with(&other));
    assert_eq!(
        verify(&t.bytes, Format::Jpeg, &t.trust).verdict,
        Verdict::LabeledIntact
    );
    let mut changed = t.bytes.clone();
    let last = changed.len() - 10;
    changed[last] ^= 0x20;
    assert_eq!(
        verify(&changed, Format::Jpeg, &t.trust).verdict,
        Verdict::Altered
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.jpg");
    std::fs::write(&p, &t.bytes).unwrap();
    run(Command::new(tool("exiftool", "libimage-exiftool-perl"))
        .args([
            "-q",
            "-q",
            "-overwrite_original",
            "-Artist=x",
            "-XMP-dc:Title=t",
        ])
        .arg(&p));
    let edited = std::fs::read(&p).unwrap();
    assert_ne!(edited, t.bytes);
    let report = verify(&edited, Format::Jpeg, &t.trust);
    assert_eq!(
        report.verdict,
        Verdict::LabeledIntact,
        "{:?}",
        codes(&report)
    );
}

#[test]
fn truncated_jpeg_still_reports_its_label() {
    let s = sample(Format::Jpeg);
    for cut in [s.bytes.len() - 2, s.bytes.len() - 40] {
        let report = verify(&s.bytes[..cut], Format::Jpeg, &s.trust);
        assert!(report.label.is_some(), "cut at {cut}");
        assert_ne!(report.verdict, Verdict::LabeledIntact);
        assert!(
            codes(&report).contains(&"jpeg.no_eoi"),
            "{:?}",
            codes(&report)
        );
    }
}

// ---- WebP ----

fn webp_chunks(b: &[u8]) -> Vec<(usize, usize, [u8; 4])> {
    let mut v = Vec::new();
    let mut pos = 12;
    while pos + 8 <= b.len() {
        let len = u32::from_le_bytes(b[pos + 4..pos + 8].try_into().unwrap()) as usize;
        let id: [u8; 4] = b[pos..pos + 4].try_into().unwrap();
        let end = (pos + 8 + len + (len & 1)).min(b.len());
        v.push((pos, end, id));
        pos = end;
    }
    v
}

fn fix_riff(mut b: Vec<u8>) -> Vec<u8> {
    let n = (b.len() - 8) as u32;
    b[4..8].copy_from_slice(&n.to_le_bytes());
    b
}

#[test]
fn webp_canvas_flags_and_trailing_data_are_not_free() {
    let s = sample(Format::Webp);
    let chunks = webp_chunks(&s.bytes);
    assert_eq!(&chunks[0].2, b"VP8X");
    let vp8x = chunks[0].0 + 8;

    // A larger canvas: libwebp (ImageMagick) refuses the still image, or shows another size.
    let mut canvas = s.bytes.clone();
    canvas[vp8x + 4] = canvas[vp8x + 4].wrapping_add(16);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("canvas.webp");
    std::fs::write(&p, &canvas).unwrap();
    let decoded = Command::new(common::convert())
        .arg(&p)
        .arg("rgba:-")
        .output()
        .unwrap();
    assert!(
        !decoded.status.success() || decoded.stdout.len() != 96 * 96 * 4,
        "the canvas change does not change what libwebp shows"
    );
    let report = verify(&canvas, Format::Webp, &s.trust);
    assert_ne!(report.verdict, Verdict::LabeledIntact);
    assert!(
        codes(&report).contains(&"binding.mismatch"),
        "{:?}",
        codes(&report)
    );

    // The animation and alpha flags are bound; the metadata flags are not.
    for (bit, bound) in [(0x02u8, true), (0x10, true), (0x08, false), (0x20, false)] {
        let mut b = s.bytes.clone();
        b[vp8x] ^= bit;
        let report = verify(&b, Format::Webp, &s.trust);
        assert_eq!(
            report.binding.status == aigcmark::report::BindingStatus::Mismatch,
            bound,
            "flag {bit:#x}"
        );
    }

    // Bytes after the RIFF data.
    let trailing = [s.bytes.as_slice(), b"RIFF\0\0\0\0WEBPVP8 "].concat();
    let report = verify(&trailing, Format::Webp, &s.trust);
    assert_ne!(report.verdict, Verdict::LabeledIntact);
    assert!(codes(&report).contains(&"webp.trailing_data"));

    // A truncated file whose label comes before the cut still reports it.
    let mut with_tail = s.bytes.clone();
    with_tail.extend_from_slice(b"ZZZZ\x20\0\0\0");
    with_tail.extend_from_slice(&[7; 10]);
    let with_tail = fix_riff(with_tail);
    let report = verify(&with_tail, Format::Webp, &s.trust);
    assert!(report.label.is_some());
    assert_ne!(report.verdict, Verdict::LabeledIntact);

    // exiftool edits of other metadata keep the file intact.
    let p = dir.path().join("edit.webp");
    std::fs::write(&p, &s.bytes).unwrap();
    run(Command::new(tool("exiftool", "libimage-exiftool-perl"))
        .args([
            "-q",
            "-q",
            "-overwrite_original",
            "-Artist=x",
            "-XMP-dc:Title=t",
        ])
        .arg(&p));
    let edited = std::fs::read(&p).unwrap();
    let report = verify(&edited, Format::Webp, &s.trust);
    assert_eq!(
        report.verdict,
        Verdict::LabeledIntact,
        "{:?}",
        codes(&report)
    );
}

// ---- Random insertions: inert (same pixels) or not intact ----

/// Either the verifier says the file is not intact, or the `image` crate decodes the same pixels
/// as the labeled original.
fn inert_or_not_intact(format: Format, attacked: &[u8]) -> Result<(), TestCaseError> {
    let s = sample(format);
    let report = verify(attacked, format, &s.trust);
    if report.verdict == Verdict::LabeledIntact {
        let want = pixels(&s.bytes).unwrap();
        prop_assert_eq!(
            pixels(attacked),
            Some(want),
            "{} intact but decodes differently: {:?}",
            format,
            codes(&report)
        );
    }
    Ok(())
}

fn chunk_type() -> impl Strategy<Value = [u8; 4]> {
    prop_oneof![
        proptest::sample::select(vec![
            *b"IDAT", *b"IHDR", *b"PLTE", *b"tRNS", *b"IEND", *b"fcTL", *b"fdAT", *b"acTL",
            *b"tEXt", *b"gAMA", *b"bKGD", *b"pHYs", *b"sBIT", *b"caBX", *b"ABCD", *b"prVt",
        ]),
        proptest::array::uniform4(b'a'..=b'z'),
        proptest::array::uniform4(b'A'..=b'Z'),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn png_random_chunk(kind in chunk_type(), data in proptest::collection::vec(any::<u8>(), 0..40),
                        at in any::<prop::sample::Index>(), good_crc in prop::bool::weighted(0.8)) {
        let s = sample(Format::Png);
        let chunks = png_chunks(&s.bytes);
        let mut places: Vec<usize> = chunks.iter().map(|c| c.0).collect();
        places.push(s.bytes.len());
        let mut c = png_chunk(&kind, &data);
        if !good_crc {
            let n = c.len();
            c[n - 1] ^= 1;
        }
        inert_or_not_intact(Format::Png, &insert(&s.bytes, *at.get(&places), &c))?;
    }

    #[test]
    fn jpeg_random_segment(marker in prop_oneof![0xC0u8..=0xFE, Just(0x01u8)],
                           data in proptest::collection::vec(any::<u8>(), 0..40),
                           at in any::<prop::sample::Index>()) {
        let s = sample(Format::Jpeg);
        // Segment boundaries: after SOI and before every following marker up to the first SOS.
        let b = &s.bytes;
        let mut places = vec![2usize];
        let mut pos = 2;
        while b[pos] == 0xFF && b[pos + 1] != 0xDA {
            let len = u16::from_be_bytes([b[pos + 2], b[pos + 3]]) as usize;
            pos += 2 + len;
            places.push(pos);
        }
        places.push(b.len());
        let mut seg = vec![0xFF, marker];
        if !matches!(marker, 0x01 | 0xD0..=0xD9) {
            seg.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
        }
        seg.extend_from_slice(&data);
        inert_or_not_intact(Format::Jpeg, &insert(b, *at.get(&places), &seg))?;
    }

    #[test]
    fn webp_random_chunk(id in prop_oneof![
                             proptest::sample::select(vec![
                                 *b"VP8 ", *b"VP8L", *b"VP8X", *b"ALPH", *b"ANIM", *b"ANMF",
                                 *b"ICCP", *b"EXIF", *b"XMP ", *b"C2PA",
                             ]),
                             proptest::array::uniform4(b'A'..=b'z'),
                         ],
                         data in proptest::collection::vec(any::<u8>(), 0..40),
                         at in any::<prop::sample::Index>(), fix_size in prop::bool::weighted(0.8)) {
        let s = sample(Format::Webp);
        let mut places: Vec<usize> = webp_chunks(&s.bytes).iter().map(|c| c.0).collect();
        places.push(s.bytes.len());
        let mut c = id.to_vec();
        c.extend_from_slice(&(data.len() as u32).to_le_bytes());
        c.extend_from_slice(&data);
        if data.len() % 2 == 1 {
            c.push(0);
        }
        let mut attacked = insert(&s.bytes, *at.get(&places), &c);
        if fix_size {
            attacked = fix_riff(attacked);
        }
        inert_or_not_intact(Format::Webp, &attacked)?;
    }
}
