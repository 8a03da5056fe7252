//! Detector fingerprint: the best-effort detection (every number the search reports) on real
//! photographs, unmarked and marked, at common shapes and after a few geometric edits. Two
//! builds that print the same lines make the same decisions; used to show that a speed change
//! leaves every result bit-identical (`diff` the outputs of the two builds).
use aigcmark::watermark::image::{
    EmbedOptions, WatermarkKey, detect, detect_best_effort, embed_rgb,
};
use image::RgbImage;
use image::imageops::{self, FilterType};

fn main() {
    let root = std::env::var("AIGCMARK_CORPUS").unwrap_or_else(|_| {
        format!(
            "{}/.cache/aigcmark-corpus/images",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let key = WatermarkKey([7; 32]);
    let photos = [
        "mate/Garden.jpg",
        "plasma/Kite.jpg",
        "mate/Dune.jpg",
        "skimage/astronaut.png",
        "skimage/coffee.png",
    ];
    for p in photos {
        let Ok(img) = image::open(format!("{root}/{p}")) else {
            eprintln!("skipping {p} (not in the corpus)");
            continue;
        };
        let src = img.to_rgb8();
        for (w, h) in [(1024u32, 640u32), (1920, 1080), (600, 400), (300, 200)] {
            let img = imageops::resize(&src, w, h, FilterType::Triangle);
            let mut marked = img.clone();
            embed_rgb(&mut marked, &[9; 8], &key, &EmbedOptions::default()).unwrap();
            let (mw, mh) = (w * 6 / 10, h * 6 / 10);
            let cases: Vec<(&str, RgbImage)> = vec![
                ("unmarked", img.clone()),
                ("unmarked-mirror", imageops::flip_horizontal(&img)),
                ("marked", marked.clone()),
                (
                    "crop60",
                    imageops::crop_imm(&marked, w - mw, h / 10, mw, mh).to_image(),
                ),
                (
                    "squeeze",
                    imageops::resize(&marked, w * 8 / 10, h * 6 / 10, FilterType::CatmullRom),
                ),
                ("mirror", imageops::flip_horizontal(&marked)),
                ("rot90", imageops::rotate90(&marked)),
            ];
            for (name, im) in cases {
                println!(
                    "{p} {w}x{h} {name}: {:?} | {:?}",
                    detect(&im, &key).map(|d| d.is_some()),
                    detect_best_effort(&im, &key)
                );
            }
        }
    }
}
