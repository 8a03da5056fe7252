//! Images are re-encoded only when a pixel really changes, and then keep what they had: bit
//! depth, grey, alpha, and the chunks and segments other programs put there (checked with
//! pngcheck, exiftool and ImageMagick on files those programs made). An image too large for the
//! limits is refused with the limit, not reported as missing its watermark.

mod common;

use std::process::Command;

use aigcmark::format::{ScanOptions, WatermarkCheck};
use aigcmark::seal::Seal;
use aigcmark::{
    Error, ExplicitOptions, Format, LabelOptions, Labeled, Limits, TrustStore, Verdict,
    VerifyOptions,
};
use common::{PRODUCER, convert, corpus_file, run, tool};
use tempfile::NamedTempFile;

fn tmp(bytes: &[u8], ext: &str) -> NamedTempFile {
    let f = tempfile::Builder::new()
        .suffix(&format!(".{ext}"))
        .tempfile()
        .unwrap();
    std::fs::write(f.path(), bytes).unwrap();
    f
}

/// Runs ImageMagick with `args` and the output `out.<ext>` last; returns the file made.
fn magick(args: &[&str], ext: &str) -> Vec<u8> {
    let out = tempfile::Builder::new()
        .suffix(&format!(".{ext}"))
        .tempfile()
        .unwrap();
    run(Command::new(convert()).args(args).arg(out.path()));
    std::fs::read(out.path()).unwrap()
}

fn pngcheck_v(bytes: &[u8]) -> String {
    let f = tmp(bytes, "png");
    run(Command::new(tool("pngcheck", "pngcheck"))
        .arg("-v")
        .arg(f.path()))
}

/// exiftool's tags as `[Group] Tag: value` lines.
fn exiftool(bytes: &[u8], ext: &str) -> String {
    let f = tmp(bytes, ext);
    run(Command::new(tool("exiftool", "libimage-exiftool-perl"))
        .args(["-a", "-G1", "-s", "-s"])
        .arg(f.path()))
}

fn label(input: &[u8], format: Format, explicit: bool, limits: Limits) -> (Labeled, TrustStore) {
    let (signer, trust) = common::demo_keys(9, PRODUCER);
    let mut opts = LabelOptions::new(PRODUCER);
    opts.explicit = explicit.then(ExplicitOptions::default);
    opts.limits = limits;
    let labeled = aigcmark::label(input, format, &signer, &opts).expect("labeling works");
    (labeled, trust)
}

fn verdict(bytes: &[u8], format: Format, trust: &TrustStore) -> aigcmark::Report {
    aigcmark::verify(bytes, format, &VerifyOptions::new(trust.clone()))
}

/// The content digest the format binds (what defines the pixels).
fn digest(bytes: &[u8], format: Format) -> [u8; 32] {
    let limits = Limits::default();
    aigcmark::formats::handler(format)
        .unwrap()
        .scan(
            bytes,
            &ScanOptions {
                limits: &limits,
                watermark_key: None,
                explicit: true,
            },
        )
        .unwrap()
        .digest
        .unwrap()
}

fn seal_wm(labeled: &Labeled) -> Option<String> {
    Seal::parse(labeled.record.reserved_code1.as_deref().unwrap())
        .unwrap()
        .watermark_id
}

fn has_note(labeled: &Labeled, code: &str) -> bool {
    labeled.notes.iter().any(|n| n.code == code)
}

#[test]
fn too_small_for_the_watermark_keeps_every_byte_of_the_image() {
    // A 16-bit PNG with a background colour and a density, 100×80: too small for the mark.
    let png = magick(
        &[
            "-size",
            "100x80",
            "gradient:red-blue",
            "-depth",
            "16",
            "-background",
            "#336699",
            "-density",
            "72",
        ],
        "png",
    );
    assert!(pngcheck_v(&png).contains("48-bit RGB"));
    let (labeled, trust) = label(&png, Format::Png, false, Limits::default());
    assert!(
        has_note(&labeled, "watermark.not_embedded"),
        "{:?}",
        labeled.notes
    );
    assert!(!has_note(&labeled, "image.reencoded"));
    assert_eq!(labeled.watermark_id, None);
    assert_eq!(seal_wm(&labeled), None, "the seal has no wm=");
    assert_eq!(
        digest(&labeled.bytes, Format::Png),
        digest(&png, Format::Png)
    );
    let check = pngcheck_v(&labeled.bytes);
    for want in ["48-bit RGB", "bKGD", "pHYs", "gAMA", "cHRM", "No errors"] {
        assert!(check.contains(want), "{want} missing:\n{check}");
    }
    assert_eq!(
        verdict(&labeled.bytes, Format::Png, &trust).verdict,
        Verdict::LabeledIntact
    );

    // The same for a JPEG: no recompression (every non-metadata segment is the input's).
    let jpeg = magick(&["-size", "120x90", "plasma:", "-quality", "70"], "jpg");
    let (labeled, trust) = label(&jpeg, Format::Jpeg, false, Limits::default());
    assert!(has_note(&labeled, "watermark.not_embedded"));
    assert_eq!(labeled.watermark_id, None);
    assert_eq!(
        digest(&labeled.bytes, Format::Jpeg),
        digest(&jpeg, Format::Jpeg)
    );
    assert_eq!(
        verdict(&labeled.bytes, Format::Jpeg, &trust).verdict,
        Verdict::LabeledIntact
    );
}

#[test]
fn a_flat_image_is_not_reencoded_for_a_mark_that_changes_nothing() {
    let png = magick(&["-size", "300x200", "xc:#808080"], "png");
    let (labeled, _) = label(&png, Format::Png, false, Limits::default());
    assert!(has_note(&labeled, "watermark.not_embedded"));
    assert_eq!(labeled.watermark_id, None);
    assert_eq!(
        digest(&labeled.bytes, Format::Png),
        digest(&png, Format::Png)
    );
}

/// Pixels of `a` and `b` (16-bit RGB) differ by a multiple of 257: the 8-bit change was added
/// to the 16-bit samples, whose low-order part is kept.
fn low_bits_kept(a: &image::ImageBuffer<image::Rgb<u16>, Vec<u16>>, b: &[u16]) -> f64 {
    let n = a.as_raw().len();
    let kept = a
        .as_raw()
        .iter()
        .zip(b)
        .filter(|(x, y)| (i32::from(**x) - i32::from(**y)) % 257 == 0)
        .count();
    kept as f64 / n as f64
}

#[test]
fn sixteen_bit_png_stays_sixteen_bit_with_its_chunks() {
    let png = magick(
        &[
            "-size",
            "320x240",
            "gradient:orange-navy",
            "-attenuate",
            "0.6",
            "+noise",
            "Gaussian",
            "-depth",
            "16",
            "-background",
            "#336699",
            "-density",
            "118",
            "-units",
            "PixelsPerCentimeter",
            "-set",
            "comment",
            "made for a test",
        ],
        "png",
    );
    let before = pngcheck_v(&png);
    assert!(
        before.contains("48-bit RGB") && before.contains("bKGD"),
        "{before}"
    );
    let (labeled, trust) = label(&png, Format::Png, true, Limits::default());
    assert!(labeled.watermark_id.is_some(), "{:?}", labeled.notes);
    assert!(has_note(&labeled, "image.reencoded"));
    assert!(!has_note(&labeled, "image.bit_depth_reduced"));
    let check = pngcheck_v(&labeled.bytes);
    for want in [
        "48-bit RGB",
        "red = 0x3333, green = 0x6666, blue = 0x9999",
        "pHYs",
        "11800x11800 pixels/meter",
        "gAMA",
        "cHRM",
        "tIME",
        "keyword: comment",
        "keyword: date:create",
        "No errors",
    ] {
        assert!(check.contains(want), "{want} missing:\n{check}");
    }
    // The change went in at 16 bits: the samples moved by whole 8-bit steps, keeping the low
    // byte the input had (a round trip through 8 bits would keep almost none).
    let orig = image::load_from_memory(&png).unwrap().to_rgb16();
    let out = image::load_from_memory(&labeled.bytes).unwrap();
    assert!(matches!(out, image::DynamicImage::ImageRgb16(_)));
    let out = out.to_rgb16();
    assert_ne!(out.as_raw(), orig.as_raw(), "pixels changed");
    let kept = low_bits_kept(&out, orig.as_raw());
    assert!(kept > 0.99, "{kept}");

    let report = verdict(&labeled.bytes, Format::Png, &trust);
    assert_eq!(report.verdict, Verdict::LabeledIntact, "{report:#?}");
    assert!(matches!(report.watermark, WatermarkCheck::Detected(_)));
    assert_eq!(report.explicit[0].intact, Some(true));
}

#[test]
fn grey_png_stays_grey_and_alpha_stays() {
    // 16-bit grey.
    let png = magick(
        &[
            "-size",
            "256x256",
            "plasma:",
            "-colorspace",
            "Gray",
            "-depth",
            "16",
            "-background",
            "gray40",
        ],
        "png",
    );
    assert!(pngcheck_v(&png).contains("16-bit grayscale"));
    let (labeled, trust) = label(&png, Format::Png, true, Limits::default());
    assert!(labeled.watermark_id.is_some());
    let check = pngcheck_v(&labeled.bytes);
    assert!(check.contains("16-bit grayscale"), "{check}");
    assert!(
        check.contains("bKGD") && check.contains("No errors"),
        "{check}"
    );
    assert_eq!(
        verdict(&labeled.bytes, Format::Png, &trust).verdict,
        Verdict::LabeledIntact
    );

    // 8-bit RGBA: the alpha channel is kept.
    let png = magick(
        &[
            "-size",
            "256x200",
            "plasma:",
            "-alpha",
            "set",
            "-channel",
            "A",
            "-evaluate",
            "set",
            "70%",
            "+channel",
            "-depth",
            "8",
        ],
        "png",
    );
    assert!(pngcheck_v(&png).contains("32-bit RGB+alpha"));
    let (labeled, _) = label(&png, Format::Png, false, Limits::default());
    assert!(labeled.watermark_id.is_some());
    let check = pngcheck_v(&labeled.bytes);
    assert!(check.contains("32-bit RGB+alpha"), "{check}");
    let out = image::load_from_memory(&labeled.bytes).unwrap().to_rgba8();
    assert!(out.pixels().all(|p| p[3] == 179), "alpha kept");
}

/// `png` with a chunk `kind` holding `body` inserted after the first `after` chunk.
fn with_chunk_after(png: &[u8], after: &[u8; 4], kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut pos = 8;
    loop {
        let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        let this = &png[pos + 4..pos + 8];
        pos += 12 + len;
        if this == after {
            break;
        }
    }
    let mut chunk = (body.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(body);
    chunk.extend_from_slice(&crc32fast::hash(&chunk[4..]).to_be_bytes());
    [&png[..pos], &chunk, &png[pos..]].concat()
}

#[test]
fn palette_png_becomes_truecolour_with_its_background_converted() {
    let out = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    run(Command::new(convert())
        .args([
            "-size",
            "200x160",
            "plasma:",
            "-colors",
            "64",
            "-background",
            "#204080",
        ])
        .arg(format!("PNG8:{}", out.path().display())));
    // ImageMagick writes no bKGD for a palette image: add one (palette entry 3) after PLTE.
    let png = with_chunk_after(&std::fs::read(out.path()).unwrap(), b"PLTE", b"bKGD", &[3]);
    let before = pngcheck_v(&png);
    assert!(
        before.contains("8-bit palette") && before.contains("index = 3"),
        "{before}"
    );
    let (labeled, trust) = label(&png, Format::Png, false, Limits::default());
    assert!(labeled.watermark_id.is_some());
    assert!(has_note(&labeled, "image.colour_type_changed"));
    let check = pngcheck_v(&labeled.bytes);
    assert!(
        check.contains("24-bit RGB") || check.contains("32-bit RGB+alpha"),
        "{check}"
    );
    assert!(
        check.contains("bKGD") && check.contains("No errors"),
        "{check}"
    );
    assert!(!check.contains("PLTE"), "{check}");
    let plte = &png[png.windows(4).position(|w| w == b"PLTE").unwrap() + 4..][9..12];
    let want = format!(
        "red = 0x{:04x}, green = 0x{:04x}, blue = 0x{:04x}",
        plte[0], plte[1], plte[2]
    );
    assert!(check.contains(&want), "{want} not in\n{check}");
    assert_eq!(
        verdict(&labeled.bytes, Format::Png, &trust).verdict,
        Verdict::LabeledIntact
    );
}

#[test]
fn jpeg_keeps_its_segments() {
    let input = tmp(
        &std::fs::read(corpus_file("images/plasma/Kite.jpg")).unwrap(),
        "jpg",
    );
    run(Command::new(tool("exiftool", "libimage-exiftool-perl"))
        .args([
            "-q",
            "-overwrite_original",
            "-Artist=Test Artist",
            "-Comment=a comment",
            "-JFIF:XResolution=300",
            "-JFIF:YResolution=300",
            "-JFIF:ResolutionUnit=inches",
            "-IPTC:Keywords=kite",
        ])
        .arg(input.path()));
    let jpeg = std::fs::read(input.path()).unwrap();
    let before = exiftool(&jpeg, "jpg");
    assert!(before.contains("ICC_Profile"), "{before}");
    let (labeled, trust) = label(&jpeg, Format::Jpeg, true, Limits::default());
    assert!(labeled.watermark_id.is_some());
    let after = exiftool(&labeled.bytes, "jpg");
    for want in [
        "[IFD0] Artist: Test Artist",
        "[File] Comment: a comment",
        "[JFIF] XResolution: 300",
        "[JFIF] ResolutionUnit: inches",
        "[IPTC] Keywords: kite",
        "[ICC_Profile] ProfileDescription:",
        "[IFD0] Make: OLYMPUS IMAGING CORP.",
    ] {
        assert!(before.contains(want), "{want} not in the input:\n{before}");
        assert!(after.contains(want), "{want} lost:\n{after}");
    }
    let report = verdict(&labeled.bytes, Format::Jpeg, &trust);
    assert_eq!(report.verdict, Verdict::LabeledIntact, "{report:#?}");
}

#[test]
fn grey_jpeg_stays_grey() {
    let jpeg = magick(
        &[
            "-size",
            "320x240",
            "plasma:",
            "-colorspace",
            "Gray",
            "-quality",
            "90",
        ],
        "jpg",
    );
    assert!(exiftool(&jpeg, "jpg").contains("ColorComponents: 1"));
    let (labeled, trust) = label(&jpeg, Format::Jpeg, true, Limits::default());
    assert!(labeled.watermark_id.is_some());
    assert!(exiftool(&labeled.bytes, "jpg").contains("ColorComponents: 1"));
    assert_eq!(
        verdict(&labeled.bytes, Format::Jpeg, &trust).verdict,
        Verdict::LabeledIntact
    );
}

#[test]
fn animated_png_keeps_its_animation() {
    let out = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    run(Command::new(tool("ffmpeg", "ffmpeg"))
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=200x150:rate=4",
            "-t",
            "1",
            "-plays",
            "0",
            "-f",
            "apng",
        ])
        .arg(out.path()));
    let png = std::fs::read(out.path()).unwrap();
    assert!(pngcheck_v(&png).contains("acTL"));
    let (labeled, _) = label(&png, Format::Png, false, Limits::default());
    assert!(has_note(&labeled, "watermark.not_embedded"));
    assert_eq!(labeled.watermark_id, None);
    assert_eq!(
        digest(&labeled.bytes, Format::Png),
        digest(&png, Format::Png)
    );
    let check = pngcheck_v(&labeled.bytes);
    assert!(check.contains("acTL") && check.contains("fdAT"), "{check}");
}

#[test]
fn webp_keeps_its_metadata_chunks() {
    let webp = magick(
        &[
            "-size",
            "256x192",
            "plasma:",
            "-define",
            "webp:lossless=true",
        ],
        "webp",
    );
    let f = tmp(&webp, "webp");
    run(Command::new(tool("exiftool", "libimage-exiftool-perl"))
        .args(["-q", "-overwrite_original", "-Artist=Webp Artist"])
        .arg(f.path()));
    let webp = std::fs::read(f.path()).unwrap();
    let (labeled, trust) = label(&webp, Format::Webp, false, Limits::default());
    assert!(labeled.watermark_id.is_some());
    assert!(exiftool(&labeled.bytes, "webp").contains("Artist: Webp Artist"));
    assert_eq!(
        verdict(&labeled.bytes, Format::Webp, &trust).verdict,
        Verdict::LabeledIntact
    );
}

#[test]
fn over_the_pixel_limit_is_the_limit_not_a_missing_watermark() {
    let png = std::fs::read(corpus_file("images/skimage/astronaut.png")).unwrap();
    let small = Limits {
        max_pixels: 100_000,
        ..Limits::default()
    };
    let (signer, trust) = common::demo_keys(9, PRODUCER);
    let mut opts = LabelOptions::new(PRODUCER);
    opts.limits = small.clone();
    match aigcmark::label(&png, Format::Png, &signer, &opts) {
        Err(Error::Limit(why)) => assert!(why.contains("100000-pixel limit"), "{why}"),
        other => panic!("expected the limit error, got {:?}", other.map(|l| l.notes)),
    }
    // Labeled within the default limits, verified with the small one: the search is skipped.
    let (labeled, _) = label(&png, Format::Png, false, Limits::default());
    assert!(labeled.watermark_id.is_some());
    let mut vopts = VerifyOptions::new(trust.clone());
    vopts.limits = small;
    let report = aigcmark::verify(&labeled.bytes, Format::Png, &vopts);
    assert_eq!(report.watermark, WatermarkCheck::NotChecked, "{report:#?}");
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.code == "watermark.missing"),
        "{report:#?}"
    );
    assert_eq!(report.verdict, Verdict::LabeledIntact, "{report:#?}");

    // A visible label is not called removed when the image is over the limit: it was not looked at.
    let (labeled, _) = label(&png, Format::Png, true, Limits::default());
    let report = aigcmark::verify(&labeled.bytes, Format::Png, &vopts);
    assert!(
        !report.findings.iter().any(|f| f.code == "explicit.removed"),
        "{report:#?}"
    );
    assert_eq!(report.explicit[0].intact, None, "{report:#?}");
}
