//! Image metadata labels (PNG, JPEG, WebP) on real photographs, checked with exiftool, pngcheck,
//! ImageMagick and the `image` crate.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use aigcmark::encode_image;
use aigcmark::format::{ScanOptions, WriteOptions};
use aigcmark::report::BindingStatus;
use aigcmark::{Format, LabelOptions, Limits, Report, TrustStore, Verdict, VerifyOptions};
use common::{PRODUCER, corpus_file, run, tool};

fn config() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/exiftool-tc260.config")
}

fn exiftool() -> PathBuf {
    tool("exiftool", "libimage-exiftool-perl")
}

struct Labeled {
    bytes: Vec<u8>,
    json: String,
    trust: TrustStore,
}

fn label(input: &[u8], format: Format) -> Labeled {
    label_with(input, format, aigcmark::format::CarrierChoice::Xmp)
}

/// Labels with the given carriers (`Both` for the tests of the Annex B forms).
fn label_with(input: &[u8], format: Format, carriers: aigcmark::format::CarrierChoice) -> Labeled {
    let (signer, trust) = common::demo_keys(3, PRODUCER);
    let mut opts = LabelOptions::new(PRODUCER);
    opts.watermark = false;
    opts.carriers = carriers;
    let out = aigcmark::label(input, format, &signer, &opts).expect("labeling works");
    assert_eq!(out.format, format);
    Labeled {
        bytes: out.bytes,
        json: out.record.to_json().unwrap(),
        trust,
    }
}

fn verify(bytes: &[u8], format: Format, trust: &TrustStore) -> Report {
    aigcmark::verify(bytes, format, &VerifyOptions::new(trust.clone()))
}

fn codes(r: &Report) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.code).collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// What ImageMagick decodes: raw RGBA bytes.
fn magick_pixels(path: &Path) -> Vec<u8> {
    let out = common::run_bytes(Command::new(common::convert()).arg(path).arg("rgba:-"));
    assert!(!out.is_empty());
    out
}

fn crate_pixels(bytes: &[u8]) -> Vec<u8> {
    image::load_from_memory(bytes)
        .unwrap()
        .into_rgba8()
        .into_raw()
}

/// A minimal ICC v2 display profile with a description, made here because no profile ships with
/// the tools.
fn icc_profile() -> Vec<u8> {
    let desc = b"aigcmark test profile\0";
    let mut tag = b"desc\0\0\0\0".to_vec();
    tag.extend_from_slice(&(desc.len() as u32).to_be_bytes());
    tag.extend_from_slice(desc);
    tag.extend_from_slice(&[0u8; 4 + 4 + 2 + 1 + 67]);
    let tag_offset = 128 + 4 + 12;
    let size = tag_offset + tag.len();
    let mut p = Vec::new();
    p.extend_from_slice(&(size as u32).to_be_bytes());
    p.extend_from_slice(b"none");
    p.extend_from_slice(&0x0210_0000u32.to_be_bytes());
    p.extend_from_slice(b"mntrRGB XYZ ");
    p.extend_from_slice(&[0u8; 12]);
    p.extend_from_slice(b"acsp");
    p.extend_from_slice(&[0u8; 4 + 4 + 4 + 4 + 8 + 4]);
    for v in [0x0000_F6D6u32, 0x0001_0000, 0x0000_D32D] {
        p.extend_from_slice(&v.to_be_bytes());
    }
    p.extend_from_slice(&[0u8; 4 + 16 + 28]);
    assert_eq!(p.len(), 128);
    p.extend_from_slice(&1u32.to_be_bytes());
    p.extend_from_slice(b"desc");
    p.extend_from_slice(&(tag_offset as u32).to_be_bytes());
    p.extend_from_slice(&(tag.len() as u32).to_be_bytes());
    p.extend_from_slice(&tag);
    p
}

/// A copy of a corpus file with camera EXIF tags and an ICC profile added by exiftool.
fn with_camera_metadata(dir: &Path, src: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::copy(src, &p).unwrap();
    let icc = write(dir, "profile.icc", &icc_profile());
    run(Command::new(exiftool())
        .args([
            "-q",
            "-overwrite_original",
            "-Make=TestCam",
            "-Model=TC-1",
            "-ExposureTime=1/250",
        ])
        .arg(format!("-ICC_Profile<={}", icc.display()))
        .arg(&p));
    p
}

fn exif_tags(path: &Path) -> String {
    run(Command::new(exiftool())
        .args([
            "-s",
            "-s",
            "-s",
            "-Make",
            "-Model",
            "-ExposureTime",
            "-ProfileDescription",
        ])
        .arg(path))
}

/// The checks every labeled file must pass.
fn check_labeled_file(original: &Path, format: Format, ext: &str) {
    let dir = tempfile::tempdir().unwrap();
    let input = std::fs::read(original).unwrap();
    let out = label(&input, format);
    let labeled = write(dir.path(), &format!("labeled.{ext}"), &out.bytes);

    // exiftool shows the record, with the namespace declared and without.
    let tc260 = run(Command::new(exiftool())
        .arg("-config")
        .arg(config())
        .args(["-s", "-s", "-s", "-XMP-TC260:AIGC"])
        .arg(&labeled));
    assert_eq!(tc260.trim(), out.json);
    let plain = run(Command::new(exiftool())
        .args(["-s", "-XMP:all"])
        .arg(&labeled));
    assert!(
        plain.contains(&out.json),
        "exiftool -XMP:all does not show the label:\n{plain}"
    );
    assert!(plain.contains("trainedAlgorithmicMedia"), "{plain}");

    // Same pixels for ImageMagick and the image crate.
    assert_eq!(magick_pixels(original), magick_pixels(&labeled));
    assert_eq!(crate_pixels(&input), crate_pixels(&out.bytes));

    // The other metadata is still there.
    assert_eq!(exif_tags(original), exif_tags(&labeled));

    let report = verify(&out.bytes, format, &out.trust);
    assert_eq!(report.verdict, Verdict::LabeledIntact, "{report:#?}");
    assert_eq!(report.binding.status, BindingStatus::Match);

    // An edit of another XMP tag keeps the label and the binding.
    run(Command::new(exiftool())
        .args(["-q", "-overwrite_original", "-XMP-dc:Title=edited"])
        .arg(&labeled));
    let edited = std::fs::read(&labeled).unwrap();
    let report = verify(&edited, format, &out.trust);
    assert_eq!(
        report.verdict,
        Verdict::LabeledIntact,
        "after an XMP edit: {report:#?}"
    );
    assert_eq!(report.binding.status, BindingStatus::Match);

    // Stripping all metadata strips the label.
    run(Command::new(exiftool())
        .args(["-q", "-overwrite_original", "-all="])
        .arg(&labeled));
    let stripped = std::fs::read(&labeled).unwrap();
    assert_eq!(
        verify(&stripped, format, &out.trust).verdict,
        Verdict::Unlabeled
    );

    // The label moved onto content with one pixel changed: the binding breaks.
    let mut img = image::load_from_memory(&input).unwrap();
    let mut rgba = img.to_rgba8();
    let p = rgba.get_pixel_mut(10, 10);
    p.0[0] = p.0[0].wrapping_add(40);
    img = if img.color().has_alpha() {
        image::DynamicImage::ImageRgba8(rgba)
    } else {
        image::DynamicImage::ImageRgb8(image::DynamicImage::ImageRgba8(rgba).to_rgb8())
    };
    let changed = encode_image(&img, format, 95).unwrap();
    let limits = Limits::default();
    let handler = aigcmark::formats::handler(format).unwrap();
    let moved = handler
        .write_label(
            &changed,
            &out.json,
            &WriteOptions {
                carriers: aigcmark::format::CarrierChoice::Both,
                limits: &limits,
            },
        )
        .unwrap();
    let report = verify(&moved, format, &out.trust);
    assert_eq!(report.verdict, Verdict::Altered);
    assert!(codes(&report).contains(&"binding.mismatch"));
}

#[test]
fn png_label_survives_tools_and_binds_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let src = with_camera_metadata(
        dir.path(),
        &corpus_file("images/skimage/astronaut.png"),
        "in.png",
    );
    check_labeled_file(&src, Format::Png, "png");
}

#[test]
fn jpeg_label_survives_tools_and_binds_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let src = with_camera_metadata(dir.path(), &corpus_file("images/mate/Aqua.jpg"), "in.jpg");
    check_labeled_file(&src, Format::Jpeg, "jpg");
}

#[test]
fn webp_lossy_and_lossless_get_an_extended_header() {
    let dir = tempfile::tempdir().unwrap();
    for (name, args) in [
        ("lossy.webp", &["-quality", "80"][..]),
        ("lossless.webp", &["-define", "webp:lossless=true"][..]),
    ] {
        let p = dir.path().join(name);
        run(Command::new(common::convert())
            .arg(corpus_file("images/skimage/coffee.png"))
            .args(args)
            .arg(&p));
        let input = std::fs::read(&p).unwrap();
        let out = label(&input, Format::Webp);
        assert_eq!(&out.bytes[12..16], b"VP8X", "{name}");
        assert_eq!(out.bytes[20] & 0x04, 0x04, "XMP flag in {name}");
        let labeled = write(dir.path(), &format!("labeled-{name}"), &out.bytes);
        let tc260 = run(Command::new(exiftool())
            .arg("-config")
            .arg(config())
            .args(["-s", "-s", "-s", "-XMP-TC260:AIGC"])
            .arg(&labeled));
        assert_eq!(tc260.trim(), out.json, "{name}");
        let warnings = run(Command::new(exiftool())
            .args(["-validate", "-warning", "-s", "-s", "-s"])
            .arg(&labeled));
        assert!(
            !warnings.to_lowercase().contains("error"),
            "{name}: {warnings}"
        );
        assert_eq!(magick_pixels(&p), magick_pixels(&labeled), "{name}");
        assert_eq!(crate_pixels(&input), crate_pixels(&out.bytes), "{name}");
        let ffprobe = run(Command::new(tool("ffprobe", "ffmpeg"))
            .args([
                "-v",
                "error",
                "-show_entries",
                "stream=width,height",
                "-of",
                "csv=p=0",
            ])
            .arg(&labeled));
        let img = image::load_from_memory(&input).unwrap();
        assert_eq!(
            ffprobe.trim(),
            format!("{},{}", img.width(), img.height()),
            "{name}"
        );
        assert_eq!(
            verify(&out.bytes, Format::Webp, &out.trust).verdict,
            Verdict::LabeledIntact
        );
    }
}

#[test]
fn pngcheck_accepts_the_labeled_png_and_other_chunks_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let input = std::fs::read(corpus_file("images/skimage/chelsea.png")).unwrap();
    let out = label_with(&input, Format::Png, aigcmark::format::CarrierChoice::Both);
    let p = write(dir.path(), "l.png", &out.bytes);
    let check = run(Command::new(tool("pngcheck", "pngcheck")).arg("-v").arg(&p));
    assert!(check.contains("No errors"), "{check}");
    let itxt = check.find("iTXt").expect("an iTXt chunk");
    let text = check.find("tEXt").expect("a tEXt chunk");
    let idat = check.find("IDAT").unwrap();
    assert!(
        itxt < idat && text < idat,
        "label chunks go before IDAT:\n{check}"
    );
    // Every chunk of the input is in the output, byte for byte and in order.
    let chunks = |b: &[u8]| -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        let mut pos = 8;
        while pos + 12 <= b.len() {
            let len = u32::from_be_bytes(b[pos..pos + 4].try_into().unwrap()) as usize;
            v.push(b[pos..pos + 12 + len].to_vec());
            pos += 12 + len;
        }
        v
    };
    let mut out_chunks = chunks(&out.bytes).into_iter();
    let is_xmp = |c: &[u8]| c[8..].starts_with(b"XML:com.adobe.xmp\0");
    for c in chunks(&input).into_iter().filter(|c| !is_xmp(c)) {
        assert!(
            out_chunks.any(|o| o == c),
            "chunk {:?} lost",
            String::from_utf8_lossy(&c[4..8])
        );
    }
    // The guide's secondary carrier: tEXt AIGC with the same record.
    let scan = aigcmark::formats::handler(Format::Png)
        .unwrap()
        .scan(
            &out.bytes,
            &ScanOptions {
                limits: &Limits::default(),
                watermark_key: None,
                explicit: true,
            },
        )
        .unwrap();
    let locations: Vec<&str> = scan.carriers.iter().map(|c| c.location.as_str()).collect();
    assert_eq!(
        locations,
        [
            "XMP TC260:AIGC (PNG iTXt XML:com.adobe.xmp)",
            "PNG tEXt AIGC"
        ]
    );
    assert!(scan.carriers.iter().all(|c| c.value == out.json));
}

#[test]
fn existing_xmp_is_merged_not_duplicated() {
    let dir = tempfile::tempdir().unwrap();
    for (src, ext, format) in [
        ("images/skimage/astronaut.png", "png", Format::Png),
        ("images/mate/Dune.jpg", "jpg", Format::Jpeg),
    ] {
        let p = dir.path().join(format!("in.{ext}"));
        std::fs::copy(corpus_file(src), &p).unwrap();
        run(Command::new(exiftool())
            .args([
                "-q",
                "-overwrite_original",
                "-XMP-dc:Title=Sea and sky",
                "-XMP-dc:Creator=Someone",
            ])
            .arg(&p));
        let input = std::fs::read(&p).unwrap();
        let out = label(&input, format);
        let l = write(dir.path(), &format!("l.{ext}"), &out.bytes);
        let xmp = run(Command::new(exiftool())
            .arg("-config")
            .arg(config())
            .args(["-a", "-s", "-s", "-XMP:all"])
            .arg(&l));
        assert!(
            xmp.contains("Title: Sea and sky") && xmp.contains("Creator: Someone"),
            "{xmp}"
        );
        assert!(xmp.contains(&format!("AIGC: {}", out.json)), "{xmp}");
        let packets = out.bytes.windows(9).filter(|w| w == b"<x:xmpmeta").count()
            + out.bytes.windows(10).filter(|w| w == b"<x:xmpmeta").count();
        assert_eq!(packets, 1, "one XMP packet in {ext}");
        // Labeling again with replace keeps one label.
        let (signer, trust) = common::demo_keys(3, PRODUCER);
        let mut opts = LabelOptions::new(PRODUCER);
        opts.watermark = false;
        opts.replace = true;
        let again = aigcmark::label(&out.bytes, format, &signer, &opts).unwrap();
        let report = verify(&again.bytes, format, &trust);
        assert_eq!(report.verdict, Verdict::LabeledIntact, "{report:#?}");
        assert!(!codes(&report).contains(&"label.conflict"));
    }
}

#[test]
fn a_full_jpeg_xmp_segment_gives_up_padding_for_the_label() {
    let dir = tempfile::tempdir().unwrap();
    let jpeg = std::fs::read(corpus_file("images/mate/Dune.jpg")).unwrap();
    // A packet 300 bytes short of the segment's limit: a long description and 4 KB of padding,
    // as editors leave for editing in place.
    let head = "<?xpacket begin=\"\u{FEFF}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
        <x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF \
        xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description rdf:about=\"\" \
        xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:description><rdf:Alt>\
        <rdf:li xml:lang=\"x-default\">";
    let tail = "</rdf:li></rdf:Alt></dc:description></rdf:Description></rdf:RDF></x:xmpmeta>\n";
    let trailer = "<?xpacket end=\"w\"?>";
    let padding = format!("{}\n", " ".repeat(99)).repeat(40);
    let room = 65533 - 29 - 300;
    let words =
        "dunes ".repeat((room - head.len() - tail.len() - padding.len() - trailer.len()) / 6);
    let packet = format!("{head}{words}{tail}{padding}{trailer}");
    assert!(packet.len() <= room);
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&u16::try_from(2 + 29 + packet.len()).unwrap().to_be_bytes());
    segment.extend_from_slice(b"http://ns.adobe.com/xap/1.0/\0");
    segment.extend_from_slice(packet.as_bytes());
    let input = [&jpeg[..2], &segment, &jpeg[2..]].concat();
    let original = write(dir.path(), "full.jpg", &input);
    let before = run(Command::new(exiftool())
        .args(["-s", "-s", "-s", "-XMP-dc:Description"])
        .arg(&original));
    assert!(before.trim().starts_with("dunes dunes"));

    let out = label(&input, Format::Jpeg);
    let l = write(dir.path(), "l.jpg", &out.bytes);
    let tc260 = run(Command::new(exiftool())
        .arg("-config")
        .arg(config())
        .args(["-s", "-s", "-s", "-XMP-TC260:AIGC"])
        .arg(&l));
    assert_eq!(tc260.trim(), out.json);
    let after = run(Command::new(exiftool())
        .args(["-s", "-s", "-s", "-XMP-dc:Description"])
        .arg(&l));
    assert_eq!(after, before);
    assert_eq!(
        verify(&out.bytes, Format::Jpeg, &out.trust).verdict,
        Verdict::LabeledIntact
    );

    // Without padding there is no room: a clear error, nothing written.
    let tight = format!("{head}{words}{}{tail}{trailer}", "dunes ".repeat(600));
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&u16::try_from(2 + 29 + tight.len()).unwrap().to_be_bytes());
    segment.extend_from_slice(b"http://ns.adobe.com/xap/1.0/\0");
    segment.extend_from_slice(tight.as_bytes());
    let input = [&jpeg[..2], &segment, &jpeg[2..]].concat();
    let (signer, _) = common::demo_keys(3, PRODUCER);
    let err = aigcmark::label(&input, Format::Jpeg, &signer, &common::metadata_only()).unwrap_err();
    assert!(err.to_string().contains("padding"), "{err}");
}

// ---- Reading what other writers produce ----

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let mut h = flate2::Crc::new();
    h.update(&c[4..]);
    c.extend_from_slice(&h.sum().to_be_bytes());
    c
}

/// The PNG with `chunks` inserted after IHDR.
fn png_with(input: &[u8], chunks: &[Vec<u8>]) -> Vec<u8> {
    let ihdr_end = 8 + 12 + 13;
    let mut out = input[..ihdr_end].to_vec();
    for c in chunks {
        out.extend_from_slice(c);
    }
    out.extend_from_slice(&input[ihdr_end..]);
    out
}

fn zlib(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

fn sealed_record() -> (String, TrustStore, Vec<u8>) {
    // A record sealed for this image; its carriers are dropped and the record put back by hand.
    let input = std::fs::read(corpus_file("images/skimage/camera.png")).unwrap();
    let out = label(&input, Format::Png);
    (out.json, out.trust, input)
}

#[test]
fn reads_attribute_form_compressed_and_text_carriers() {
    let (json, trust, input) = sealed_record();
    let attr_packet = format!(
        "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>\
         <rdf:Description rdf:about='' xmlns:aigc='http://www.tc260.org.cn/ns/AIGC/1.0/' aigc:AIGC=\"{}\"/>\
         </rdf:RDF></x:xmpmeta>",
        escape(&json)
    );
    let mut itxt_compressed = b"XML:com.adobe.xmp\0\x01\x00\0\0".to_vec();
    itxt_compressed.extend_from_slice(&zlib(attr_packet.as_bytes()));
    let mut ztxt = b"AIGC\0\0".to_vec();
    ztxt.extend_from_slice(&zlib(json.as_bytes()));
    let text = [b"AIGC\0".as_slice(), json.as_bytes()].concat();

    type Case<'a> = (&'a str, Vec<Vec<u8>>, &'a [&'a str]);
    let cases: Vec<Case> = vec![
        (
            "compressed attribute-form XMP",
            vec![png_chunk(b"iTXt", &itxt_compressed)],
            &["png.xmp_compressed", "xmp.attribute_form", "xmp.prefix"],
        ),
        (
            "zTXt AIGC",
            vec![png_chunk(b"zTXt", &ztxt)],
            &["png.label_chunk_type"],
        ),
        ("tEXt AIGC only", vec![png_chunk(b"tEXt", &text)], &[]),
    ];
    for (what, chunks, expected) in cases {
        let file = png_with(&input, &chunks);
        let report = verify(&file, Format::Png, &trust);
        assert_eq!(
            report.verdict,
            Verdict::LabeledIntact,
            "{what}: {report:#?}"
        );
        for code in expected {
            assert!(
                codes(&report).contains(code),
                "{what}: no {code} in {:?}",
                codes(&report)
            );
        }
    }

    // Decompression stops at the configured limit.
    let mut small = VerifyOptions::new(trust.clone());
    small.limits.max_decompressed_metadata = 64;
    let file = png_with(&input, &[png_chunk(b"zTXt", &ztxt)]);
    let report = aigcmark::verify(&file, Format::Png, &small);
    assert_eq!(report.verdict, Verdict::Unlabeled);
    assert!(
        codes(&report).contains(&"png.metadata_unreadable"),
        "{:?}",
        codes(&report)
    );

    // XMP after IDAT is read, with a finding.
    let plain_xmp = format!(
        "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>\
         <rdf:Description rdf:about='' xmlns:TC260='http://www.tc260.org.cn/ns/AIGC/1.0/'><TC260:AIGC>{}</TC260:AIGC>\
         </rdf:Description></rdf:RDF></x:xmpmeta>",
        escape(&json)
    );
    let iend = input.len() - 12;
    let mut late = input[..iend].to_vec();
    late.extend_from_slice(&png_chunk(
        b"iTXt",
        &[
            b"XML:com.adobe.xmp\0\0\0\0\0".as_slice(),
            plain_xmp.as_bytes(),
        ]
        .concat(),
    ));
    late.extend_from_slice(&input[iend..]);
    let report = verify(&late, Format::Png, &trust);
    assert_eq!(report.verdict, Verdict::LabeledIntact);
    assert!(codes(&report).contains(&"png.xmp_after_idat"));

    // Two carriers that differ: conflicting.
    let other = json.replacen("\"Label\":\"1\"", "\"Label\":\"2\"", 1);
    let file = png_with(
        &input,
        &[
            png_chunk(b"tEXt", &text),
            png_chunk(b"tEXt", &[b"AIGC\0".as_slice(), other.as_bytes()].concat()),
        ],
    );
    let report = verify(&file, Format::Png, &trust);
    assert_eq!(report.verdict, Verdict::Conflicting);
    assert!(codes(&report).contains(&"label.conflict"));

    // A damaged CRC is a finding.
    let mut bad = png_with(&input, &[png_chunk(b"tEXt", &text)]);
    bad[8 + 25 + 8 + 2] ^= 0x01;
    let report = verify(&bad, Format::Png, &trust);
    assert!(
        codes(&report).contains(&"png.bad_crc"),
        "{:?}",
        codes(&report)
    );
}

#[test]
fn reads_exif_user_comment_written_by_exiftool() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("in.jpg");
    std::fs::copy(corpus_file("images/mate/LadyBird.jpg"), &p).unwrap();
    let input = std::fs::read(&p).unwrap();
    let out = label_with(&input, Format::Jpeg, aigcmark::format::CarrierChoice::Both);
    let wrapped = format!("{{\"AIGC\":{}}}", out.json);
    // exiftool writes the label into UserComment only, on the unlabeled file.
    run(Command::new(exiftool())
        .args(["-q", "-overwrite_original"])
        .arg(format!("-UserComment={wrapped}"))
        .arg(&p));
    let file = std::fs::read(&p).unwrap();
    let report = verify(&file, Format::Jpeg, &out.trust);
    assert_eq!(report.verdict, Verdict::LabeledIntact, "{report:#?}");
    assert!(codes(&report).contains(&"label.wrapped"));

    // Our EXIF UserComment reads back through exiftool, identical to the XMP record.
    let l = write(dir.path(), "l.jpg", &out.bytes);
    let uc = run(Command::new(exiftool())
        .args(["-s", "-s", "-s", "-UserComment"])
        .arg(&l));
    assert_eq!(uc.trim(), wrapped);

    // ImageDescription variant.
    let p2 = dir.path().join("desc.jpg");
    std::fs::write(&p2, &input).unwrap();
    run(Command::new(exiftool())
        .args(["-q", "-overwrite_original"])
        .arg(format!("-ImageDescription={wrapped}"))
        .arg(&p2));
    let report = verify(&std::fs::read(&p2).unwrap(), Format::Jpeg, &out.trust);
    assert_eq!(report.verdict, Verdict::LabeledIntact);
    assert!(codes(&report).contains(&"exif.image_description"));
    // Relabeling replaces that label too: one label remains.
    let (signer, _) = common::demo_keys(3, PRODUCER);
    let mut opts = LabelOptions::new(PRODUCER);
    opts.watermark = false;
    opts.replace = true;
    let again =
        aigcmark::label(&std::fs::read(&p2).unwrap(), Format::Jpeg, &signer, &opts).unwrap();
    let report = verify(&again.bytes, Format::Jpeg, &out.trust);
    assert_eq!(report.verdict, Verdict::LabeledIntact, "{report:#?}");
    assert!(!codes(&report).contains(&"exif.image_description"));

    // EXIF and XMP that differ: conflicting.
    let l2 = write(dir.path(), "l2.jpg", &out.bytes);
    let other = wrapped.replacen("\"Label\":\"1\"", "\"Label\":\"3\"", 1);
    run(Command::new(exiftool())
        .args(["-q", "-overwrite_original"])
        .arg(format!("-UserComment={other}"))
        .arg(&l2));
    let report = verify(&std::fs::read(&l2).unwrap(), Format::Jpeg, &out.trust);
    assert_eq!(report.verdict, Verdict::Conflicting);
}

#[test]
fn damaged_input_is_an_error_or_a_finding_never_a_panic() {
    let png = std::fs::read(corpus_file("images/skimage/coffee.png")).unwrap();
    let jpg = std::fs::read(corpus_file("images/mate/Wood.jpg")).unwrap();
    let webp = encode_image(&image::load_from_memory(&png).unwrap(), Format::Webp, 90).unwrap();
    let trust = TrustStore::new();
    // The container walk is what is tested here; the watermark search (the costly part) runs
    // on every tenth damaged copy only.
    let check = |b: &[u8], format: Format, n: usize| {
        let mut opts = VerifyOptions::new(trust.clone());
        if !n.is_multiple_of(10) {
            opts.watermark_key = None;
        }
        aigcmark::verify(b, format, &opts)
    };
    for (bytes, format) in [
        (&png, Format::Png),
        (&jpg, Format::Jpeg),
        (&webp, Format::Webp),
    ] {
        let labeled = label(bytes, format).bytes;
        let step = (labeled.len() / 300).max(1);
        for (n, cut) in (0..labeled.len())
            .step_by(step)
            .chain([1, 2, 3, 9, 13, 30, 100, 1000])
            .enumerate()
        {
            let cut = cut.min(labeled.len());
            let report = check(&labeled[..cut], format, n);
            assert_ne!(
                report.verdict,
                Verdict::LabeledIntact,
                "{format} cut at {cut}"
            );
        }
        // Bytes flipped in the metadata area.
        for (n, i) in (8..labeled.len().min(3000)).step_by(7).enumerate() {
            let mut b = labeled.clone();
            b[i] ^= 0xA5;
            let _ = check(&b, format, n);
            let _ = aigcmark::formats::handler(format).unwrap().write_label(
                &b,
                "{}",
                &WriteOptions {
                    carriers: aigcmark::format::CarrierChoice::Both,
                    limits: &Limits::default(),
                },
            );
        }
        let garbage: Vec<u8> = (0..5000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let mut g = labeled[..16].to_vec();
        g.extend_from_slice(&garbage);
        assert_eq!(
            verify(&g, format, &trust).verdict,
            Verdict::Error,
            "{format} garbage"
        );
    }
}

#[test]
fn exif_user_comment_is_added_or_merged_and_exiftool_validates_it() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = encode_image(
        &image::open(corpus_file("images/skimage/chelsea.png")).unwrap(),
        Format::Jpeg,
        90,
    )
    .unwrap();
    let with_exif = std::fs::read(with_camera_metadata(
        dir.path(),
        &corpus_file("images/mate/Storm.jpg"),
        "cam.jpg",
    ))
    .unwrap();
    let validate = |p: &Path| {
        run(Command::new(exiftool())
            .args(["-validate", "-warning", "-a", "-s", "-s", "-s"])
            .arg(p))
    };
    for (name, input) in [("no-exif.jpg", fresh), ("camera.jpg", with_exif)] {
        let before = validate(&write(dir.path(), &format!("before-{name}"), &input));
        let out = label_with(&input, Format::Jpeg, aigcmark::format::CarrierChoice::Both);
        let p = write(dir.path(), name, &out.bytes);
        let uc = run(Command::new(exiftool())
            .args(["-s", "-s", "-s", "-UserComment"])
            .arg(&p));
        assert_eq!(uc.trim(), format!("{{\"AIGC\":{}}}", out.json), "{name}");
        // exiftool's validation finds nothing the input did not already have.
        assert_eq!(validate(&p), before, "{name}");
        assert_eq!(
            verify(&out.bytes, Format::Jpeg, &out.trust).verdict,
            Verdict::LabeledIntact
        );
    }
    assert!(exif_tags(&dir.path().join("camera.jpg")).contains("TestCam"));
}

#[test]
fn a_platform_countersigns_a_labeled_image() {
    let input = std::fs::read(corpus_file("images/mate/YellowFlower.jpg")).unwrap();
    let out = label(&input, Format::Jpeg);
    let platform = aigcmark::Signer::from_seed(&[4; 32]);
    let mut trust = out.trust.clone();
    trust
        .add(TrustStore::entry_for(
            &platform.public_key(),
            common::PLATFORM,
            aigcmark::trust::Role::Platform,
        ))
        .unwrap();
    let opts = aigcmark::PropagateOptions::new(common::PLATFORM);
    let propagated = aigcmark::propagate(&out.bytes, Format::Jpeg, &platform, &opts).unwrap();
    let report = verify(&propagated.bytes, Format::Jpeg, &trust);
    assert_eq!(report.verdict, Verdict::LabeledIntact, "{report:#?}");
    let propagation = report.propagation.expect("the countersignature is checked");
    assert_eq!(propagation.binding.status, BindingStatus::Match);
    assert!(!codes(&verify(&propagated.bytes, Format::Jpeg, &trust)).contains(&"label.conflict"));
}

#[test]
fn secondary_carriers_can_be_switched_off() {
    let (signer, trust) = common::demo_keys(3, PRODUCER);
    let mut opts = LabelOptions::new(PRODUCER);
    opts.watermark = false;
    opts.carriers = aigcmark::format::CarrierChoice::Xmp;
    let limits = Limits::default();
    for (src, format) in [
        ("images/skimage/brick.png", Format::Png),
        ("images/mate/Wood.jpg", Format::Jpeg),
    ] {
        let input = std::fs::read(corpus_file(src)).unwrap();
        let out = aigcmark::label(&input, format, &signer, &opts).unwrap();
        let scan = aigcmark::formats::handler(format)
            .unwrap()
            .scan(
                &out.bytes,
                &ScanOptions {
                    limits: &limits,
                    watermark_key: None,
                    explicit: true,
                },
            )
            .unwrap();
        assert_eq!(scan.carriers.len(), 1, "{format}: {:?}", scan.carriers);
        assert!(scan.carriers[0].location.starts_with("XMP TC260:AIGC"));
        assert_eq!(
            verify(&out.bytes, format, &trust).verdict,
            Verdict::LabeledIntact
        );
    }
}

#[test]
fn webp_flag_deviation_is_reported_and_limits_hold() {
    let png = std::fs::read(corpus_file("images/skimage/coffee.png")).unwrap();
    let webp = encode_image(&image::load_from_memory(&png).unwrap(), Format::Webp, 90).unwrap();
    let out = label(&webp, Format::Webp);
    let mut unflagged = out.bytes.clone();
    unflagged[20] &= !0x04;
    let report = verify(&unflagged, Format::Webp, &out.trust);
    assert_eq!(report.verdict, Verdict::LabeledIntact);
    assert!(codes(&report).contains(&"webp.xmp_flag_missing"));

    // Decoding for the visible label respects the pixel limit.
    let (signer, _) = common::demo_keys(3, PRODUCER);
    let mut opts = LabelOptions::new(PRODUCER);
    opts.watermark = false;
    opts.explicit = Some(aigcmark::ExplicitOptions::default());
    opts.limits.max_pixels = 10_000;
    let err = aigcmark::label(&png, Format::Png, &signer, &opts).unwrap_err();
    assert!(matches!(err, aigcmark::Error::Limit(_)), "{err}");
    // A chunk over the chunk limit is refused.
    opts.explicit = None;
    opts.limits.max_chunk_bytes = 1000;
    assert!(matches!(
        aigcmark::label(&png, Format::Png, &signer, &opts),
        Err(aigcmark::Error::Limit(_))
    ));
}
