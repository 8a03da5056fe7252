//! Image readers miss no real label and invent none: the shapes real files carry (XMP fields as
//! separate properties, unprefixed attributes, UserComment in IFD0), what is not a label (JSON
//! without the AIGC key, free text), other AI declarations (IPTC DigitalSourceType, C2PA), and the
//! carriers written for each `CarrierChoice`, checked with exiftool.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use aigcmark::encode_image;
use aigcmark::format::{CarrierChoice, DeclarationKind, ScanOptions};
use aigcmark::{
    Format, LabelOptions, Limits, Report, Severity, TrustStore, Verdict, VerifyOptions,
};
use common::{PLATFORM, PRODUCER, corpus_file, run, tool};

fn exiftool() -> PathBuf {
    tool("exiftool", "libimage-exiftool-perl")
}

fn config() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/exiftool-tc260.config")
}

fn photo(format: Format) -> Vec<u8> {
    let img = image::open(corpus_file("images/skimage/coffee.png"))
        .unwrap()
        .resize(120, 80, image::imageops::FilterType::Triangle);
    encode_image(&img, format, 88).unwrap()
}

fn options(carriers: CarrierChoice) -> LabelOptions {
    let mut o = common::metadata_only();
    o.carriers = carriers;
    o.replace = true;
    o
}

fn label_with(input: &[u8], format: Format, carriers: CarrierChoice) -> aigcmark::Labeled {
    let (signer, _) = common::demo_keys(9, PRODUCER);
    aigcmark::label(input, format, &signer, &options(carriers)).unwrap()
}

fn trust() -> TrustStore {
    common::demo_keys(9, PRODUCER).1
}

fn verify(bytes: &[u8], format: Format) -> Report {
    aigcmark::verify(bytes, format, &VerifyOptions::new(trust()))
}

fn codes(r: &Report) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.code).collect()
}

fn carriers(bytes: &[u8], format: Format) -> Vec<String> {
    aigcmark::formats::handler(format)
        .unwrap()
        .scan(
            bytes,
            &ScanOptions {
                limits: &Limits::default(),
                watermark_key: None,
                explicit: true,
            },
        )
        .unwrap()
        .carriers
        .into_iter()
        .map(|c| c.location)
        .collect()
}

fn ext(format: Format) -> &'static str {
    match format {
        Format::Png => "png",
        Format::Jpeg => "jpg",
        _ => "webp",
    }
}

/// Runs exiftool with `args` on a copy of `bytes` and returns the result.
fn exiftool_edit(dir: &Path, bytes: &[u8], format: Format, args: &[String]) -> Vec<u8> {
    let p = dir.join(format!("edit.{}", ext(format)));
    std::fs::write(&p, bytes).unwrap();
    run(Command::new(exiftool())
        .args(["-q", "-q", "-overwrite_original"])
        .args(args)
        .arg(&p));
    std::fs::read(&p).unwrap()
}

fn exif_read(dir: &Path, bytes: &[u8], format: Format, args: &[&str]) -> String {
    let p = dir.join(format!("read.{}", ext(format)));
    std::fs::write(&p, bytes).unwrap();
    run(Command::new(exiftool())
        .arg("-config")
        .arg(config())
        .args(["-s", "-s", "-s"])
        .args(args)
        .arg(&p))
}

const FORMATS: [Format; 3] = [Format::Png, Format::Jpeg, Format::Webp];

#[test]
fn xmp_fields_as_separate_properties_are_read_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    for format in FORMATS {
        let out = label_with(&photo(format), format, CarrierChoice::Xmp);
        let r = &out.record;
        let field = |v: &Option<String>| v.clone().unwrap_or_default();
        // The shape some providers write: unprefixed attributes on rdf:Description.
        let packet = format!(
            "<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?>\n\
             <x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF \
             xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>\
             <rdf:Description rdf:about='' Label='{}' ContentProducer='{}' ProduceID='{}' \
             ReservedCode1='{}' ContentPropagator='' PropagateID='' ReservedCode2=''/>\
             </rdf:RDF></x:xmpmeta>\n<?xpacket end='w'?>",
            field(&r.label),
            field(&r.content_producer),
            field(&r.produce_id),
            field(&r.reserved_code1),
        );
        let xmp = dir.path().join("fields.xmp");
        std::fs::write(&xmp, &packet).unwrap();
        let bytes = exiftool_edit(
            dir.path(),
            &out.bytes,
            format,
            &[format!("-xmp<={}", xmp.display())],
        );
        let report = verify(&bytes, format);
        assert_eq!(
            report.verdict,
            Verdict::LabeledIntact,
            "{format}: {:?}",
            codes(&report)
        );
        assert!(codes(&report).contains(&"xmp.field_form"), "{format}");
        assert_eq!(report.label.as_ref(), Some(&out.record));
        // Relabeling replaces the field form: one label remains.
        let again = label_with(&bytes, format, CarrierChoice::Xmp);
        assert_eq!(carriers(&again.bytes, format).len(), 1, "{format}");
    }
}

#[test]
fn exif_user_comment_labels_and_what_is_not_one() {
    let dir = tempfile::tempdir().unwrap();
    let input = photo(Format::Jpeg);
    let out = label_with(&input, Format::Jpeg, CarrierChoice::Xmp);
    let wrapped = format!("{{\"AIGC\":{}}}", out.record.to_json().unwrap());

    // UserComment in IFD0, where some writers put it: a big-endian TIFF made here.
    let mut value = b"ASCII\0\0\0".to_vec();
    value.extend_from_slice(wrapped.as_bytes());
    let mut tiff = b"MM\0*".to_vec();
    tiff.extend_from_slice(&8u32.to_be_bytes());
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&0x9286u16.to_be_bytes());
    tiff.extend_from_slice(&7u16.to_be_bytes());
    tiff.extend_from_slice(&(value.len() as u32).to_be_bytes());
    tiff.extend_from_slice(&26u32.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(&value);
    let payload = [b"Exif\0\0".as_slice(), &tiff].concat();
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    app1.extend_from_slice(&payload);
    let ifd0 = [&input[..2], &app1, &input[2..]].concat();
    let report = verify(&ifd0, Format::Jpeg);
    assert_eq!(
        report.verdict,
        Verdict::LabeledIntact,
        "{:?}",
        codes(&report)
    );
    assert!(codes(&report).contains(&"exif.user_comment_in_ifd0"));

    // JSON without an AIGC key, and free text that mentions AIGC: no label, no error.
    for (comment, code) in [
        (
            r#"{"prompt":"a cup of coffee","Label":"photo","seed":42}"#,
            None,
        ),
        (
            r#"{"Label":"1","ContentProducer":"someone"}"#,
            Some("exif.record_without_aigc_key"),
        ),
        (
            "Edited with an AIGC-capable app",
            Some("exif.mentions_aigc"),
        ),
    ] {
        let bytes = exiftool_edit(
            dir.path(),
            &input,
            Format::Jpeg,
            &[format!("-UserComment={comment}")],
        );
        let report = verify(&bytes, Format::Jpeg);
        assert_eq!(report.verdict, Verdict::Unlabeled, "{comment}");
        assert!(report.label.is_none());
        assert!(
            report
                .findings
                .iter()
                .all(|f| f.severity != Severity::Error),
            "{comment}: {:?}",
            codes(&report)
        );
        if let Some(code) = code {
            assert!(
                codes(&report).contains(&code),
                "{comment}: {:?}",
                codes(&report)
            );
        }
        // Labeling such a file keeps the comment (it is not a label to replace).
        let labeled = label_with(&bytes, Format::Jpeg, CarrierChoice::Both);
        let uc = exif_read(dir.path(), &labeled.bytes, Format::Jpeg, &["-UserComment"]);
        assert_eq!(uc.trim(), comment);
    }
}

#[test]
fn other_ai_declarations_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let jpeg = photo(Format::Jpeg);
    for (value, ai) in [
        (
            "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
            true,
        ),
        ("compositeWithTrainedAlgorithmicMedia", true),
        (
            "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia",
            false,
        ),
        (
            "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
            false,
        ),
    ] {
        for format in [Format::Jpeg, Format::Png] {
            let input = if format == Format::Jpeg {
                jpeg.clone()
            } else {
                photo(Format::Png)
            };
            let bytes = exiftool_edit(
                dir.path(),
                &input,
                format,
                &[format!("-XMP-iptcExt:DigitalSourceType={value}")],
            );
            let report = verify(&bytes, format);
            assert_eq!(report.verdict, Verdict::Unlabeled);
            assert_eq!(report.declarations.len(), 1, "{format} {value}");
            let d = &report.declarations[0];
            assert_eq!(d.kind, DeclarationKind::IptcDigitalSourceType);
            assert_eq!(d.value, value);
            assert_eq!(d.ai_generated, ai, "{value}");
        }
    }
    // Our own label declares trained algorithmic media beside it.
    let out = label_with(&jpeg, Format::Jpeg, CarrierChoice::Xmp);
    let report = verify(&out.bytes, Format::Jpeg);
    assert!(
        report
            .declarations
            .iter()
            .any(|d| d.kind == DeclarationKind::IptcDigitalSourceType && d.ai_generated)
    );

    // A C2PA manifest store: JUMBF in JPEG APP11, PNG caBX, WebP C2PA.
    let mut jumbf = Vec::new();
    let jumd_body = [
        b"jumd".as_slice(),
        b"c2pa\x00\x11\x00\x10\x80\x00\x00\xaa\x00\x38\x9b\x71",
        &[0x03],
        b"c2pa\0",
    ]
    .concat();
    jumbf.extend_from_slice(&((jumd_body.len() + 4 + 8) as u32).to_be_bytes());
    jumbf.extend_from_slice(b"jumb");
    jumbf.extend_from_slice(&((jumd_body.len() + 4) as u32).to_be_bytes());
    jumbf.extend_from_slice(&jumd_body);
    let mut app11 = vec![0xFF, 0xEB];
    let payload = [b"JP\x00\x01\x00\x00\x00\x01".as_slice(), &jumbf].concat();
    app11.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    app11.extend_from_slice(&payload);
    let with_c2pa = [&jpeg[..2], &app11, &jpeg[2..]].concat();

    let png = photo(Format::Png);
    let mut cabx = (jumbf.len() as u32).to_be_bytes().to_vec();
    cabx.extend_from_slice(b"caBX");
    cabx.extend_from_slice(&jumbf);
    let mut h = flate2::Crc::new();
    h.update(&cabx[4..]);
    cabx.extend_from_slice(&h.sum().to_be_bytes());
    let png_c2pa = [&png[..33], &cabx, &png[33..]].concat();

    let webp = label_with(&photo(Format::Webp), Format::Webp, CarrierChoice::Xmp).bytes;
    let mut chunk = b"C2PA".to_vec();
    chunk.extend_from_slice(&(jumbf.len() as u32).to_le_bytes());
    chunk.extend_from_slice(&jumbf);
    let mut webp_c2pa = [webp.as_slice(), &chunk].concat();
    let n = (webp_c2pa.len() - 8) as u32;
    webp_c2pa[4..8].copy_from_slice(&n.to_le_bytes());

    for (bytes, format) in [
        (with_c2pa, Format::Jpeg),
        (png_c2pa, Format::Png),
        (webp_c2pa, Format::Webp),
    ] {
        let report = verify(&bytes, format);
        let c2pa: Vec<_> = report
            .declarations
            .iter()
            .filter(|d| d.kind == DeclarationKind::C2paManifest)
            .collect();
        assert_eq!(c2pa.len(), 1, "{format}: {:?}", report.declarations);
        assert!(
            report
                .findings
                .iter()
                .all(|f| f.severity != Severity::Error)
        );
    }
}

#[test]
fn default_output_is_strictly_one_label_of_seven_keys() {
    let dir = tempfile::tempdir().unwrap();
    for format in FORMATS {
        let (signer, _) = common::demo_keys(9, PRODUCER);
        let out =
            aigcmark::label(&photo(format), format, &signer, &common::metadata_only()).unwrap();
        assert_eq!(carriers(&out.bytes, format).len(), 1, "{format}");
        let json = exif_read(dir.path(), &out.bytes, format, &["-XMP-TC260:AIGC"]);
        let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "Label",
                "ContentProducer",
                "ProduceID",
                "ReservedCode1",
                "ContentPropagator",
                "PropagateID",
                "ReservedCode2"
            ],
            "{format}"
        );
        assert_eq!(json.trim(), out.record.to_json().unwrap());
        // No Annex B copy: no tEXt AIGC, no UserComment.
        let other = exif_read(
            dir.path(),
            &out.bytes,
            format,
            &["-UserComment", "-PNG:AIGC"],
        );
        assert!(other.trim().is_empty(), "{format}: {other}");
        let report = verify(&out.bytes, format);
        assert_eq!(report.verdict, Verdict::LabeledIntact);
        assert!(!codes(&report).contains(&"label.duplicate"));
    }
}

#[test]
fn carriers_follow_the_choice_and_leave_no_stale_copy() {
    let dir = tempfile::tempdir().unwrap();
    for format in [Format::Png, Format::Jpeg] {
        // Start from a file with other XMP and a label in both carriers.
        let titled = exiftool_edit(
            dir.path(),
            &photo(format),
            format,
            &["-XMP-dc:Title=kept title".to_string()],
        );
        let both = label_with(&titled, format, CarrierChoice::Both);
        assert_eq!(carriers(&both.bytes, format).len(), 2, "{format}");

        // XMP only: the Annex B copy goes.
        let xmp = label_with(&both.bytes, format, CarrierChoice::Xmp);
        let locs = carriers(&xmp.bytes, format);
        assert_eq!(locs.len(), 1, "{format}: {locs:?}");
        assert!(locs[0].starts_with("XMP"), "{locs:?}");
        let annex = exif_read(
            dir.path(),
            &xmp.bytes,
            format,
            &["-UserComment", "-PNG:AIGC"],
        );
        assert!(annex.trim().is_empty(), "{format}: {annex}");

        // Annex B only: the XMP label goes, the rest of the XMP stays.
        let b = label_with(&both.bytes, format, CarrierChoice::AnnexB);
        let locs = carriers(&b.bytes, format);
        assert_eq!(locs.len(), 1, "{format}: {locs:?}");
        assert!(!locs[0].starts_with("XMP"), "{locs:?}");
        let xmp_tags = exif_read(
            dir.path(),
            &b.bytes,
            format,
            &["-XMP-TC260:AIGC", "-XMP-dc:Title"],
        );
        assert_eq!(xmp_tags.trim(), "kept title", "{format}");
        let report = verify(&b.bytes, format);
        assert_eq!(
            report.verdict,
            Verdict::LabeledIntact,
            "{:?}",
            codes(&report)
        );
        assert_eq!(report.label.as_ref(), Some(&b.record));
    }
    // WebP has one carrier: Annex B is still XMP.
    let w = label_with(&photo(Format::Webp), Format::Webp, CarrierChoice::AnnexB);
    let locs = carriers(&w.bytes, Format::Webp);
    assert_eq!(locs.len(), 1);
    assert!(locs[0].starts_with("XMP"));
}

#[test]
fn propagating_twice_leaves_one_description() {
    let platform = aigcmark::Signer::from_seed(&[4; 32]);
    for format in FORMATS {
        let mut bytes = label_with(&photo(format), format, CarrierChoice::Xmp).bytes;
        for _ in 0..2 {
            let mut opts = aigcmark::PropagateOptions::new(PLATFORM);
            opts.replace = true;
            bytes = aigcmark::propagate(&bytes, format, &platform, &opts)
                .unwrap()
                .bytes;
        }
        let text = String::from_utf8_lossy(&bytes);
        assert_eq!(text.matches("<rdf:Description").count(), 1, "{format}");
        assert_eq!(carriers(&bytes, format).len(), 1);
    }
}

#[test]
fn a_truncated_png_still_reports_its_label() {
    let out = label_with(&photo(Format::Png), Format::Png, CarrierChoice::Xmp);
    let cut = out.bytes.len() - 200;
    let report = verify(&out.bytes[..cut], Format::Png);
    assert!(report.label.is_some());
    assert_ne!(report.verdict, Verdict::LabeledIntact);
    assert!(
        codes(&report).contains(&"png.truncated"),
        "{:?}",
        codes(&report)
    );
    let inspected =
        aigcmark::inspect(&out.bytes[..cut], Format::Png, &Limits::default(), None).unwrap();
    assert_eq!(inspected.carriers.len(), 1);
}
