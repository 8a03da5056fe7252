//! Unit tests (fast in debug). Tests marked "corpus" need the real photographs and fail with a
//! clear message when they are missing (they never skip silently).

use image::imageops::{self, FilterType};
use image::{DynamicImage, RgbImage, RgbaImage};

use super::*;

const KEY: WatermarkKey = WatermarkKey(*b"unit-test-key-0123456789abcdefgh");
const PAYLOAD: [u8; 8] = [0xA5, 0x01, 0x7E, 0xFF, 0x00, 0x3C, 0x99, 0x42];

/// Deterministic textured test picture: smooth shading + blobs + fine pseudo-random texture.
fn synthetic(w: u32, h: u32, seed: u64) -> RgbImage {
    let mut s = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
    let mut rnd = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 40) as f32 / (1u64 << 24) as f32
    };
    let noise: Vec<f32> = (0..w * h).map(|_| rnd()).collect();
    RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let base = 110.0 + 60.0 * (6.0 * fx + 3.0 * fy).sin() + 30.0 * (17.0 * fx * fy).cos();
        let tex = 40.0 * (noise[(y * w + x) as usize] - 0.5) * (0.3 + fx);
        let v = base + tex;
        image::Rgb([
            (v + 10.0).clamp(0.0, 255.0) as u8,
            v.clamp(0.0, 255.0) as u8,
            (v * 0.8).clamp(0.0, 255.0) as u8,
        ])
    })
}

fn corpus_photo(rel: &str) -> RgbImage {
    let root = std::env::var("AIGCMARK_CORPUS").unwrap_or_else(|_| {
        format!(
            "{}/.cache/aigcmark-corpus/images",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let path = std::path::Path::new(&root).join(rel);
    match image::open(&path) {
        Ok(i) => i.to_rgb8(),
        Err(e) => panic!(
            "corpus photo {} is missing or unreadable ({e}). Fetch the corpus with \
             scripts/fetch-corpus.sh or point AIGCMARK_CORPUS at it.",
            path.display()
        ),
    }
}

fn jpeg(img: &RgbImage, q: u8) -> RgbImage {
    let mut buf = Vec::new();
    img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut buf, q,
    ))
    .unwrap();
    image::load_from_memory(&buf).unwrap().to_rgb8()
}

fn marked(img: &RgbImage) -> RgbImage {
    let mut m = img.clone();
    let rep = embed_rgb(&mut m, &PAYLOAD, &KEY, &EmbedOptions::default()).unwrap();
    assert!(rep.psnr_db > 38.0, "PSNR {}", rep.psnr_db);
    m
}

fn assert_found(img: &RgbImage, what: &str) -> Detection {
    let d = detect(img, &KEY)
        .unwrap()
        .unwrap_or_else(|| panic!("{what}: mark not found"));
    assert_eq!(d.payload, PAYLOAD, "{what}: payload");
    assert!(
        d.false_positive_probability <= 1e-6,
        "{what}: fpp {}",
        d.false_positive_probability
    );
    assert_eq!(d.compared_bits, 256);
    d
}

#[test]
fn threshold_is_earned() {
    let (m, n) = presence_threshold();
    assert_eq!(n, 9_535_488.0);
    let z = presence_z_threshold();
    assert!(n * stats::weighted_tail(z) <= 1e-6);
    assert!(n * stats::weighted_tail(z - 1e-3) > 1e-6);
    assert!((7.4..7.6).contains(&z), "z threshold {z}");
    // Equal weights: m matching bits give z = (2m − 256)/16.
    assert_eq!(m, 189);
    assert!((2.0 * m as f64 - 256.0) / 16.0 >= z && (2.0 * (m - 1) as f64 - 256.0) / 16.0 < z);
    // Never looser than the exact binomial test over the same trials.
    assert!(m >= stats::threshold(256, n, 1e-6));
}

#[test]
fn roundtrip_synthetic() {
    let img = synthetic(512, 384, 1);
    let m = marked(&img);
    let d = assert_found(&m, "unchanged");
    assert!((d.scale - 1.0).abs() < 0.01 && d.rotation_deg.abs() < 0.5 && !d.flipped);
}

#[test]
fn wrong_key_and_unmarked_not_detected() {
    let img = synthetic(512, 384, 2);
    assert_eq!(detect(&img, &KEY).unwrap(), None, "unmarked synthetic");
    let m = marked(&img);
    assert_eq!(
        detect(&m, &WatermarkKey([9; 32])).unwrap(),
        None,
        "wrong key"
    );
}

#[test]
fn pure_noise_not_detected() {
    let mut s = 12345u32;
    let img = RgbImage::from_fn(400, 300, |_, _| {
        s = s.wrapping_mul(1664525).wrapping_add(1013904223);
        let v = (s >> 24) as u8;
        image::Rgb([v, v.wrapping_mul(3), v ^ 0x55])
    });
    assert_eq!(detect(&img, &KEY).unwrap(), None);
}

#[test]
fn rgba_alpha_untouched_and_detected() {
    let rgb = synthetic(300, 300, 3);
    let mut rgba = RgbaImage::from_fn(300, 300, |x, y| {
        let p = rgb.get_pixel(x, y);
        image::Rgba([p[0], p[1], p[2], (x ^ y) as u8])
    });
    let before = rgba.clone();
    embed_rgba(&mut rgba, &PAYLOAD, &KEY, &EmbedOptions::default()).unwrap();
    assert!(
        rgba.pixels()
            .zip(before.pixels())
            .all(|(a, b)| a[3] == b[3]),
        "alpha changed"
    );
    let d = detect_dynamic(&DynamicImage::ImageRgba8(rgba), &KEY)
        .unwrap()
        .expect("found");
    assert_eq!(d.payload, PAYLOAD);
}

#[test]
fn tiny_and_degenerate_inputs() {
    let too_small = |w, h| {
        let mut i = RgbImage::new(w, h);
        assert!(matches!(
            embed_rgb(&mut i, &PAYLOAD, &KEY, &EmbedOptions::default()),
            Err(WmError::ImageTooSmall { .. })
        ));
    };
    too_small(1, 1);
    too_small(127, 4000);
    too_small(4000, 3);
    assert!(matches!(
        detect(&RgbImage::new(1, 1), &KEY),
        Err(WmError::ImageTooSmall { .. })
    ));
    assert!(matches!(
        detect(&RgbImage::new(5000, 10), &KEY),
        Err(WmError::ImageTooSmall { .. })
    ));
    let mut ok = synthetic(200, 200, 4);
    for s in [0.0, -1.0, f32::NAN, f32::INFINITY, 11.0] {
        assert!(matches!(
            embed_rgb(&mut ok, &PAYLOAD, &KEY, &EmbedOptions { strength: s }),
            Err(WmError::InvalidStrength(_))
        ));
    }
    // All-black, all-white and extreme aspect ratios: no panic, nothing found.
    let mut black = RgbImage::new(300, 300);
    embed_rgb(&mut black, &PAYLOAD, &KEY, &EmbedOptions::default()).unwrap();
    assert_eq!(detect(&black, &KEY).unwrap(), None);
    let white = RgbImage::from_pixel(256, 700, image::Rgb([255, 255, 255]));
    assert_eq!(detect(&white, &KEY).unwrap(), None);
    for (w, h) in [(3000, 130), (130, 3000), (64, 64), (65, 2000)] {
        let mut img = synthetic(w, h, 5);
        if w.min(h) >= 128 {
            embed_rgb(&mut img, &PAYLOAD, &KEY, &EmbedOptions::default()).unwrap();
        }
        let _ = detect(&img, &KEY).unwrap();
    }
}

#[test]
fn small_256_image_carries_mark() {
    let m = marked(&synthetic(256, 256, 6));
    assert_found(&m, "256 px");
}

// ---- real photograph (corpus) ----

#[test]
fn corpus_photo_roundtrip_jpeg_resize_crop() {
    let photo = corpus_photo("skimage/astronaut.png");
    let m = marked(&photo);
    assert_found(&m, "unchanged");
    assert_found(&jpeg(&m, 75), "jpeg 75");
    let half = imageops::resize(&m, m.width() / 2, m.height() / 2, FilterType::CatmullRom);
    assert_found(&half, "resize 0.5");
    let (w, h) = m.dimensions();
    let crop = imageops::crop_imm(&m, w / 10, h / 4, w * 6 / 10, h * 6 / 10).to_image();
    let d = assert_found(&crop, "crop 60%");
    assert!((d.scale - 1.0 / 0.6).abs() < 0.05, "crop scale {}", d.scale);
}

#[test]
fn corpus_unmarked_photo_not_detected() {
    let photo = corpus_photo("skimage/astronaut.png");
    assert_eq!(detect(&photo, &KEY).unwrap(), None, "unmarked photo");
    assert_eq!(
        detect(&jpeg(&photo, 75), &KEY).unwrap(),
        None,
        "unmarked photo, jpeg 75"
    );
}

/// Rotation by `deg` about the centre (bilinear), then the largest centred crop of the same
/// aspect free of blank corners.
fn rotate_cropped(img: &RgbImage, deg: f64) -> RgbImage {
    let (w, h) = img.dimensions();
    let (c, s) = (deg.to_radians().cos(), deg.to_radians().sin());
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    let rot = RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
        let sx = (c * dx + s * dy + cx - 0.5).clamp(0.0, (w - 1) as f64);
        let sy = (-s * dx + c * dy + cy - 0.5).clamp(0.0, (h - 1) as f64);
        let (x0, y0) = (sx.floor() as u32, sy.floor() as u32);
        let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
        let (fx, fy) = (sx - x0 as f64, sy - y0 as f64);
        let px = |x, y, k| img.get_pixel(x, y)[k] as f64;
        image::Rgb(std::array::from_fn(|k| {
            (px(x0, y0, k) * (1.0 - fx) * (1.0 - fy)
                + px(x1, y0, k) * fx * (1.0 - fy)
                + px(x0, y1, k) * (1.0 - fx) * fy
                + px(x1, y1, k) * fx * fy)
                .round() as u8
        }))
    });
    let a = w.max(h) as f64 / w.min(h) as f64;
    let keep = 1.0 / (c + s.abs() * a);
    let (kw, kh) = (
        (w as f64 * keep).round() as u32,
        (h as f64 * keep).round() as u32,
    );
    imageops::crop_imm(&rot, (w - kw) / 2, (h - kh) / 2, kw, kh).to_image()
}

/// Round two (issue #18): a non-uniform resize is found through the affine lattice (two
/// independent axes), and the found geometry is the squeeze.
#[test]
fn corpus_photo_non_uniform_resize() {
    let m = marked(&corpus_photo("skimage/astronaut.png"));
    let (w, h) = m.dimensions();
    for (fx, fy) in [(0.8, 0.6), (0.6, 0.9)] {
        let nw = (w as f64 * fx).round() as u32;
        let nh = (h as f64 * fy).round() as u32;
        let r = imageops::resize(&m, nw, nh, FilterType::CatmullRom);
        let d = assert_found(&r, &format!("resize {fx} × {fy}"));
        assert!(!d.flipped);
    }
    // The unmarked photograph squeezed alike: nothing.
    let photo = corpus_photo("skimage/astronaut.png");
    let r = imageops::resize(&photo, w * 8 / 10, h * 6 / 10, FilterType::CatmullRom);
    assert_eq!(detect(&r, &KEY).unwrap(), None, "unmarked, squeezed");
}

/// Deep crops (40 % of each side from a corner, 35 % off-centre) are found by the widened
/// scale scan; rotation by 15° (cropped) by the similarity lattice.
#[test]
fn corpus_photo_deep_crop_and_rotation() {
    let m = marked(&corpus_photo("skimage/astronaut.png"));
    let (w, h) = m.dimensions();
    let c40 = imageops::crop_imm(&m, w - w * 4 / 10, 0, w * 4 / 10, h * 4 / 10).to_image();
    let d = assert_found(&c40, "crop 40% corner");
    // Relative to the prior of a 204-px image (cells of at least 1 px): 2 px / 1 px.
    assert!((d.scale - 2.0).abs() < 0.05, "crop 40% scale {}", d.scale);
    let c35 = imageops::crop_imm(&m, w / 5, h / 2, w * 35 / 100, h * 35 / 100).to_image();
    assert_found(&c35, "crop 35%");
    let r15 = rotate_cropped(&m, 15.0);
    let d = assert_found(&r15, "rotation 15° cropped");
    assert!(
        (d.rotation_deg.abs() - 15.0).abs() < 1.0,
        "rotation {}",
        d.rotation_deg
    );
}
