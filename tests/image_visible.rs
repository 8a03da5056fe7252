//! The visible label on images: drawn legibly, recorded in the seal, checked again on verify.

mod common;

use std::process::Command;

use aigcmark::encode_image;
use aigcmark::format::{ExplicitKind, WriteOptions};
use aigcmark::seal::Seal;
use aigcmark::{
    ExplicitOptions, Format, LabelOptions, Limits, Placement, Report, TrustStore, Verdict,
    VerifyOptions,
};
use common::{PRODUCER, corpus_file, run, tool};

struct Out {
    bytes: Vec<u8>,
    json: String,
    explicit: String,
    trust: TrustStore,
    labeled: aigcmark::Labeled,
}

fn label_visible(input: &[u8], format: Format, explicit: ExplicitOptions, watermark: bool) -> Out {
    let (signer, trust) = common::demo_keys(5, PRODUCER);
    let mut opts = LabelOptions::new(PRODUCER);
    opts.watermark = watermark;
    opts.explicit = Some(explicit);
    let labeled = aigcmark::label(input, format, &signer, &opts).expect("labeling works");
    let seal = Seal::parse(labeled.record.reserved_code1.as_deref().unwrap()).unwrap();
    Out {
        bytes: labeled.bytes.clone(),
        json: labeled.record.to_json().unwrap(),
        explicit: seal
            .explicit
            .clone()
            .expect("the seal records the visible label"),
        trust,
        labeled,
    }
}

fn verify(bytes: &[u8], format: Format, trust: &TrustStore) -> Report {
    aigcmark::verify(bytes, format, &VerifyOptions::new(trust.clone()))
}

/// The rectangle recorded in `ex=`: corner, x, y, w, h.
fn rect(ex: &str) -> (String, u32, u32, u32, u32) {
    let p: Vec<&str> = ex.split('.').collect();
    (
        p[0].to_string(),
        p[1].parse().unwrap(),
        p[2].parse().unwrap(),
        p[3].parse().unwrap(),
        p[4].parse().unwrap(),
    )
}

#[test]
fn png_label_is_drawn_large_enough_and_verified() {
    let input = std::fs::read(corpus_file("images/skimage/astronaut.png")).unwrap();
    let out = label_visible(&input, Format::Png, ExplicitOptions::default(), false);
    let (corner, x, y, w, h) = rect(&out.explicit);
    assert_eq!(corner, "br");
    let img = image::load_from_memory(&out.bytes).unwrap().to_rgb8();
    let (iw, ih) = img.dimensions();
    assert!(
        x + w < iw && y + h < ih && x > iw / 2 && y > ih / 2,
        "bottom-right: {}",
        out.explicit
    );

    // White text rows inside the plate span at least 5% of the shortest side.
    let rows: Vec<u32> = (y..y + h)
        .filter(|&r| (x..x + w).any(|c| img.get_pixel(c, r).0.iter().all(|&v| v > 230)))
        .collect();
    let text_h = rows.last().unwrap() - rows.first().unwrap() + 1;
    assert!(
        text_h as f32 >= 0.05 * iw.min(ih) as f32,
        "text {text_h}px high in a {iw}×{ih} image"
    );
    // The plate darkens the corner; outside it the pixels are the input's.
    let orig = image::load_from_memory(&input).unwrap().to_rgb8();
    for c in x..x + w {
        for (now, was) in img
            .get_pixel(c, y + 1)
            .0
            .iter()
            .zip(orig.get_pixel(c, y + 1).0)
        {
            assert!(
                (f32::from(*now) - f32::from(was) * 0.4).abs() <= 1.0,
                "plate at ({c}, {})",
                y + 1
            );
        }
    }
    assert_eq!(img.get_pixel(5, 5), orig.get_pixel(5, 5));

    let report = verify(&out.bytes, Format::Png, &out.trust);
    assert_eq!(report.verdict, Verdict::LabeledIntact, "{report:#?}");
    assert_eq!(report.explicit.len(), 1);
    let mark = &report.explicit[0];
    assert_eq!(mark.kind, ExplicitKind::VisibleMark);
    assert_eq!(mark.text.as_deref(), Some("AI生成"));
    assert_eq!(mark.location, "bottom-right");
    assert_eq!(mark.intact, Some(true));
    assert!(
        out.labeled
            .notes
            .iter()
            .any(|n| n.code == "image.reencoded")
    );
    let check =
        run(Command::new(tool("pngcheck", "pngcheck")).arg(write_tmp(&out.bytes, "png").path()));
    assert!(check.contains("OK"), "{check}");

    // Covering the corner with another colour removes the label.
    let mut covered = image::load_from_memory(&out.bytes).unwrap().to_rgb8();
    for r in y..y + h {
        for c in x..x + w {
            covered.put_pixel(c, r, image::Rgb([200, 180, 40]));
        }
    }
    let covered = encode_image(&image::DynamicImage::ImageRgb8(covered), Format::Png, 90).unwrap();
    let limits = Limits::default();
    let covered = aigcmark::formats::handler(Format::Png)
        .unwrap()
        .write_label(
            &covered,
            &out.json,
            &WriteOptions {
                carriers: aigcmark::format::CarrierChoice::Both,
                limits: &limits,
            },
        )
        .unwrap();
    let report = verify(&covered, Format::Png, &out.trust);
    assert_eq!(report.explicit[0].intact, Some(false), "{report:#?}");
    assert!(report.findings.iter().any(|f| f.code == "explicit.removed"));
    assert_eq!(report.verdict, Verdict::Altered);
}

fn write_tmp(bytes: &[u8], ext: &str) -> tempfile::NamedTempFile {
    let f = tempfile::Builder::new()
        .suffix(&format!(".{ext}"))
        .tempfile()
        .unwrap();
    std::fs::write(f.path(), bytes).unwrap();
    f
}

#[test]
fn jpeg_label_keeps_metadata_and_survives_recompression() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.jpg");
    std::fs::copy(corpus_file("images/mate/Garden.jpg"), &src).unwrap();
    let exiftool = tool("exiftool", "libimage-exiftool-perl");
    run(Command::new(&exiftool)
        .args(["-q", "-overwrite_original", "-Make=TestCam", "-Model=TC-1"])
        .arg(&src));
    let input = std::fs::read(&src).unwrap();
    let explicit = ExplicitOptions {
        text: Some("人工智能生成".into()),
        placement: Some(Placement::TopLeft),
        size: Some(0.08),
    };
    let out = label_visible(&input, Format::Jpeg, explicit, false);
    assert!(out.explicit.starts_with("tl."), "{}", out.explicit);
    let report = verify(&out.bytes, Format::Jpeg, &out.trust);
    assert_eq!(report.verdict, Verdict::LabeledIntact, "{report:#?}");
    assert_eq!(report.explicit[0].intact, Some(true));
    assert_eq!(report.explicit[0].location, "top-left");
    assert_eq!(report.explicit[0].text.as_deref(), Some("人工智能生成"));

    // The camera tags were carried into the re-encoded file.
    let labeled = dir.path().join("l.jpg");
    std::fs::write(&labeled, &out.bytes).unwrap();
    let tags = run(Command::new(&exiftool)
        .args(["-s", "-s", "-s", "-Make", "-Model"])
        .arg(&labeled));
    assert_eq!(tags, "TestCam\nTC-1\n");

    // Recompressed by ImageMagick at quality 75: the label is still seen as intact.
    let recompressed = dir.path().join("r.jpg");
    run(Command::new(common::convert())
        .arg(&labeled)
        .args(["-quality", "75"])
        .arg(&recompressed));
    let handler = aigcmark::formats::handler(Format::Jpeg).unwrap();
    let mark = handler
        .check_explicit(
            &std::fs::read(&recompressed).unwrap(),
            &out.explicit,
            &Limits::default(),
        )
        .pop()
        .unwrap();
    assert_eq!(mark.intact, Some(true));
}

#[test]
fn webp_label_is_lossless_and_carries_the_watermark_when_asked() {
    let png = std::fs::read(corpus_file("images/skimage/coffee.png")).unwrap();
    let webp = encode_image(&image::load_from_memory(&png).unwrap(), Format::Webp, 90).unwrap();
    let explicit = ExplicitOptions {
        placement: Some(Placement::BottomLeft),
        ..Default::default()
    };
    // The visible label alone: lossless, so outside the label the pixels are the input's.
    let out = label_visible(&webp, Format::Webp, explicit.clone(), false);
    assert!(out.labeled.watermark_id.is_none());
    let report = verify(&out.bytes, Format::Webp, &out.trust);
    assert_eq!(report.verdict, Verdict::LabeledIntact, "{report:#?}");
    assert_eq!(report.explicit[0].intact, Some(true));
    let a = image::load_from_memory(&webp).unwrap().to_rgb8();
    let b = image::load_from_memory(&out.bytes).unwrap().to_rgb8();
    assert_eq!(a.get_pixel(a.width() - 1, 0), b.get_pixel(b.width() - 1, 0));

    // With the watermark: one pass draws both, and verify finds the mark agreeing with the seal.
    let out = label_visible(&webp, Format::Webp, explicit, true);
    let id = out.labeled.watermark_id.clone().expect("watermarked");
    let report = verify(&out.bytes, Format::Webp, &out.trust);
    assert_eq!(report.verdict, Verdict::LabeledIntact, "{report:#?}");
    assert_eq!(report.explicit[0].intact, Some(true));
    match &report.watermark {
        aigcmark::format::WatermarkCheck::Detected(w) => {
            assert_eq!(w.payload.id(), id);
            assert_eq!(w.agrees_with_label, Some(true));
        }
        other => panic!("watermark not found: {other:?}"),
    }
}

#[test]
fn unlabeled_images_report_no_explicit_label_and_bad_text_is_refused() {
    let input = std::fs::read(corpus_file("images/skimage/camera.png")).unwrap();
    let report = verify(&input, Format::Png, &TrustStore::new());
    assert_eq!(report.verdict, Verdict::Unlabeled);
    assert!(report.explicit.is_empty());

    let (signer, _) = common::demo_keys(5, PRODUCER);
    let mut opts = LabelOptions::new(PRODUCER);
    opts.watermark = false;
    opts.explicit = Some(ExplicitOptions {
        text: Some("機器生成".into()),
        ..Default::default()
    });
    assert!(aigcmark::label(&input, Format::Png, &signer, &opts).is_err());
    opts.explicit = Some(ExplicitOptions {
        placement: Some(Placement::Start),
        ..Default::default()
    });
    assert!(aigcmark::label(&input, Format::Png, &signer, &opts).is_err());
    // A long prompt at a large size does not fit: an error, not a panic.
    opts.explicit = Some(ExplicitOptions {
        text: Some("AI生成合成内容AI生成合成内容AI生成合成内容".into()),
        size: Some(f32::INFINITY),
        ..Default::default()
    });
    assert!(aigcmark::label(&input, Format::Png, &signer, &opts).is_err());
}

#[test]
fn rotated_jpeg_gets_the_label_in_the_corner_it_is_shown_in() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.jpg");
    std::fs::copy(corpus_file("images/mate/Blinds.jpg"), &src).unwrap();
    // Stored landscape, shown portrait (rotated 90° clockwise).
    run(Command::new(tool("exiftool", "libimage-exiftool-perl"))
        .args(["-q", "-overwrite_original", "-Orientation#=6"])
        .arg(&src));
    let input = std::fs::read(&src).unwrap();
    let out = label_visible(&input, Format::Jpeg, ExplicitOptions::default(), false);
    let (_, x, y, w, h) = rect(&out.explicit);
    let labeled = dir.path().join("l.jpg");
    std::fs::write(&labeled, &out.bytes).unwrap();
    // ImageMagick, turning the image as viewers do, shows the plate at the bottom right.
    let shown = dir.path().join("shown.png");
    run(Command::new(common::convert())
        .arg(&labeled)
        .arg("-auto-orient")
        .arg(&shown));
    let shown = image::open(&shown).unwrap().to_rgb8();
    let (sw, sh) = shown.dimensions();
    assert!(sh > sw, "shown portrait");
    assert!(
        x + w <= sw && y + h <= sh && x > sw / 2 && y > sh / 2,
        "{} in {sw}×{sh}",
        out.explicit
    );
    let dark = |px: &image::Rgb<u8>| px.0.iter().map(|&v| u32::from(v)).sum::<u32>() < 3 * 110;
    assert!(dark(shown.get_pixel(x + 2, y + 2)) && dark(shown.get_pixel(x + w - 3, y + h - 3)));
    let report = verify(&out.bytes, Format::Jpeg, &out.trust);
    assert_eq!(report.explicit[0].intact, Some(true), "{report:#?}");
    let o = run(Command::new(tool("exiftool", "libimage-exiftool-perl"))
        .args(["-s", "-s", "-s", "-n", "-Orientation"])
        .arg(&labeled));
    assert_eq!(o.trim(), "6");
}
