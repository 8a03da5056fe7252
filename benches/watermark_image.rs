//! Criterion benchmarks (single thread): embed into 1024×1024, detect unchanged, detect after
//! resize 0.5, after crop 80 % (centred) and 60 % (off-centre), after resize 0.5 + crop 80 %,
//! detect in the unmarked image (full search), and plain PNG decode of the same image as a
//! baseline; then unmarked detection at 1024×640, 1600×1200, 1536×1024 and 1920×1080 (each
//! against the PNG decode of that image).
//! Uses corpus photo mate/Garden.jpg (resized/cropped to 1024×1024); falls back to a synthetic
//! textured picture with a warning when the corpus is missing.

use std::hint::black_box;

use aigcmark::watermark::image::{EmbedOptions, WatermarkKey, detect, embed_rgb};
use criterion::{Criterion, criterion_group, criterion_main};
use image::RgbImage;
use image::imageops::{self, FilterType};

/// The corpus photograph at full size (2560×1600), when present.
fn photo() -> Option<RgbImage> {
    let root = std::env::var("AIGCMARK_CORPUS").unwrap_or_else(|_| {
        format!(
            "{}/.cache/aigcmark-corpus/images",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    image::open(format!("{root}/mate/Garden.jpg"))
        .ok()
        .map(|i| i.to_rgb8())
}

fn source() -> RgbImage {
    let root = std::env::var("AIGCMARK_CORPUS").unwrap_or_else(|_| {
        format!(
            "{}/.cache/aigcmark-corpus/images",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    match image::open(format!("{root}/mate/Garden.jpg")) {
        Ok(img) => {
            let img = imageops::resize(&img.to_rgb8(), 1280, 1024, FilterType::Triangle);
            imageops::crop_imm(&img, 128, 0, 1024, 1024).to_image()
        }
        Err(e) => {
            eprintln!("WARNING: corpus photo missing ({e}); benchmarking a synthetic image");
            RgbImage::from_fn(1024, 1024, |x, y| {
                let v = ((x * 7 + y * 13) % 97 + (x * y) % 31) as u8;
                image::Rgb([v, v / 2 + 60, 200 - v])
            })
        }
    }
}

fn benches(c: &mut Criterion) {
    let key = WatermarkKey([7; 32]);
    let img = source();
    let mut marked = img.clone();
    embed_rgb(
        &mut marked,
        &[1, 2, 3, 4, 5, 6, 7, 8],
        &key,
        &EmbedOptions::default(),
    )
    .unwrap();
    let half = imageops::resize(&marked, 512, 512, FilterType::CatmullRom);
    let cropped = imageops::crop_imm(&half, 51, 51, 410, 410).to_image();
    let crop80 = imageops::crop_imm(&marked, 102, 102, 819, 819).to_image();
    let crop60 = imageops::crop_imm(&marked, 368, 82, 614, 614).to_image();
    assert!(detect(&marked, &key).unwrap().is_some());
    assert!(detect(&half, &key).unwrap().is_some());
    assert!(detect(&cropped, &key).unwrap().is_some());
    assert!(detect(&crop80, &key).unwrap().is_some());
    assert!(detect(&crop60, &key).unwrap().is_some());
    let mut png = Vec::new();
    marked
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();

    let mut g = c.benchmark_group("wm_image_1024");
    g.sample_size(30);
    let mut work = img.clone();
    g.bench_function("embed_1024x1024", |b| {
        b.iter(|| {
            work.copy_from_slice(&img);
            embed_rgb(
                black_box(&mut work),
                &[1; 8],
                &key,
                &EmbedOptions::default(),
            )
            .unwrap()
        })
    });
    g.bench_function("detect_unchanged_1024x1024", |b| {
        b.iter(|| detect(black_box(&marked), &key).unwrap())
    });
    g.bench_function("detect_resize0.5", |b| {
        b.iter(|| detect(black_box(&half), &key).unwrap())
    });
    g.bench_function("detect_crop80_centred", |b| {
        b.iter(|| detect(black_box(&crop80), &key).unwrap())
    });
    g.bench_function("detect_crop60_offcentre", |b| {
        b.iter(|| detect(black_box(&crop60), &key).unwrap())
    });
    g.bench_function("detect_resize0.5_crop80", |b| {
        b.iter(|| detect(black_box(&cropped), &key).unwrap())
    });
    g.bench_function("detect_unmarked_1024x1024", |b| {
        b.iter(|| detect(black_box(&img), &key).unwrap())
    });
    g.bench_function("baseline_png_decode_1024x1024", |b| {
        b.iter(|| {
            image::load_from_memory_with_format(black_box(&png), image::ImageFormat::Png).unwrap()
        })
    });
    g.finish();

    // Unmarked detection (the common case at upload) on photographs of common shapes: 16:10,
    // 4:3, 3:2, 16:9. Time should follow the pixel count smoothly (the working image has a
    // 256-px short side whatever the shape), against a PNG decode of the same image as the
    // baseline.
    let mut g = c.benchmark_group("wm_image_shapes");
    g.sample_size(20);
    let full = photo().unwrap_or_else(|| img.clone());
    for (w, h) in [(1024u32, 640u32), (1600, 1200), (1536, 1024), (1920, 1080)] {
        let (sw, sh) = full.dimensions();
        let s = (w as f64 / sw as f64).max(h as f64 / sh as f64);
        let (rw, rh) = (
            ((sw as f64 * s).ceil() as u32).max(w),
            ((sh as f64 * s).ceil() as u32).max(h),
        );
        let r = imageops::resize(&full, rw, rh, FilterType::Triangle);
        let shaped = imageops::crop_imm(&r, (rw - w) / 2, (rh - h) / 2, w, h).to_image();
        let mut png = Vec::new();
        shaped
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        g.bench_function(format!("detect_unmarked_{w}x{h}"), |b| {
            b.iter(|| detect(black_box(&shaped), &key).unwrap())
        });
        g.bench_function(format!("baseline_png_decode_{w}x{h}"), |b| {
            b.iter(|| {
                image::load_from_memory_with_format(black_box(&png), image::ImageFormat::Png)
                    .unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(wm, benches);
criterion_main!(wm);
