//! Criterion benchmarks (single thread): embed into 1024×1024, detect unchanged, detect after
//! resize 0.5, after crop 80 % (centred) and 60 % (off-centre), after resize 0.5 + crop 80 %,
//! detect in the unmarked image (full search), and plain PNG decode of the same image as a
//! baseline.
//! Uses corpus photo mate/Garden.jpg (resized/cropped to 1024×1024); falls back to a synthetic
//! textured picture with a warning when the corpus is missing.

use std::hint::black_box;

use aigcmark::watermark::image::{EmbedOptions, WatermarkKey, detect, embed_rgb};
use criterion::{Criterion, criterion_group, criterion_main};
use image::RgbImage;
use image::imageops::{self, FilterType};

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
}

criterion_group!(wm, benches);
criterion_main!(wm);
