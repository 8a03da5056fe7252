//! Robustness / quality / speed harness for the image watermark.
//!
//! `cargo run --release -p aigcmark-eval --bin wm_image_robustness`
//! Corpus: `$AIGCMARK_CORPUS` (default `$HOME/.cache/aigcmark-corpus/images`), every *.png/*.jpg
//! in its subfolders. Photos with short side >= 512 form the main set; every photo with short
//! side >= 256 is also downscaled to a 256-px short side for the small-image set.
//! Env: WM_LIMIT=n (first n photos only), WM_NO_CONVERT=1 (skip ImageMagick rows),
//! WM_FILTER=a,b (only photos whose path contains one of these), WM_TF=a,b (only transformations
//! whose name contains one of these), WM_VERBOSE=1 (print matching pilot bits of every trial).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use aigcmark::watermark::image::{
    EmbedOptions, WatermarkKey, detect, detect_best_effort, detect_dynamic, detect_full_search,
    embed_rgb, presence_threshold,
};
use image::imageops::{self, FilterType};
use image::{DynamicImage, RgbImage};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn gauss(&mut self) -> f64 {
        let u1 = self.unit().max(1e-300);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

fn jpeg(img: &RgbImage, q: u8) -> RgbImage {
    let mut buf = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, q);
    img.write_with_encoder(enc).expect("jpeg encode");
    image::load_from_memory(&buf)
        .expect("jpeg decode")
        .to_rgb8()
}

fn magick_jpeg(img: &RgbImage, q: u8, sampling: &str) -> Option<RgbImage> {
    let dir = std::env::temp_dir();
    let id = std::process::id();
    let src = dir.join(format!("wmimg-{id}.png"));
    let dst = dir.join(format!("wmimg-{id}.jpg"));
    img.save(&src).ok()?;
    let ok = Command::new("/usr/bin/convert")
        .arg(&src)
        .args(["-quality", &q.to_string(), "-sampling-factor", sampling])
        .arg(&dst)
        .status()
        .ok()?
        .success();
    let out = if ok {
        image::open(&dst).ok().map(|i| i.to_rgb8())
    } else {
        None
    };
    let _ = std::fs::remove_file(&src);
    let _ = std::fs::remove_file(&dst);
    out
}

/// In-process 4:2:0: chroma averaged over 2×2 blocks (BT.601 YCbCr), then JPEG 90 (image crate).
fn chroma420(img: &RgbImage) -> RgbImage {
    let (w, h) = img.dimensions();
    let mut out = img.clone();
    let ycc = |p: &image::Rgb<u8>| {
        let (r, g, b) = (p[0] as f32, p[1] as f32, p[2] as f32);
        (
            0.299 * r + 0.587 * g + 0.114 * b,
            -0.168736 * r - 0.331264 * g + 0.5 * b,
            0.5 * r - 0.418688 * g - 0.081312 * b,
        )
    };
    for by in (0..h).step_by(2) {
        for bx in (0..w).step_by(2) {
            let mut cb = 0.0;
            let mut cr = 0.0;
            let mut n = 0.0;
            for y in by..(by + 2).min(h) {
                for x in bx..(bx + 2).min(w) {
                    let (_, b, r) = ycc(img.get_pixel(x, y));
                    cb += b;
                    cr += r;
                    n += 1.0;
                }
            }
            cb /= n;
            cr /= n;
            for y in by..(by + 2).min(h) {
                for x in bx..(bx + 2).min(w) {
                    let (yy, _, _) = ycc(img.get_pixel(x, y));
                    let r = yy + 1.402 * cr;
                    let g = yy - 0.344136 * cb - 0.714136 * cr;
                    let b = yy + 1.772 * cb;
                    out.put_pixel(
                        x,
                        y,
                        image::Rgb([
                            r.round().clamp(0.0, 255.0) as u8,
                            g.round().clamp(0.0, 255.0) as u8,
                            b.round().clamp(0.0, 255.0) as u8,
                        ]),
                    );
                }
            }
        }
    }
    jpeg(&out, 90)
}

fn resize(img: &RgbImage, f: f64) -> RgbImage {
    let (w, h) = img.dimensions();
    let nw = ((w as f64 * f).round() as u32).max(1);
    let nh = ((h as f64 * f).round() as u32).max(1);
    imageops::resize(img, nw, nh, FilterType::CatmullRom)
}

fn resize_xy(img: &RgbImage, fx: f64, fy: f64) -> RgbImage {
    let (w, h) = img.dimensions();
    let nw = ((w as f64 * fx).round() as u32).max(1);
    let nh = ((h as f64 * fy).round() as u32).max(1);
    imageops::resize(img, nw, nh, FilterType::CatmullRom)
}

/// A corner, chosen by the seed: (0 or 1, 0 or 1) as fractions of the free margin.
fn corner(seed: u64) -> (f64, f64) {
    let mut r = Rng(seed ^ 0xc0);
    let k = r.next();
    ((k & 1) as f64, ((k >> 1) & 1) as f64)
}

/// Any position, chosen by the seed (fractions of the free margin).
fn anywhere(seed: u64) -> (f64, f64) {
    let mut r = Rng(seed ^ 0xa7);
    (
        (r.next() % 1001) as f64 / 1000.0,
        (r.next() % 1001) as f64 / 1000.0,
    )
}

/// Crop keeping `keep` of each side, placed at `pos` (fractions of the free margin).
fn crop_at(img: &RgbImage, keep: f64, pos: (f64, f64)) -> RgbImage {
    let (w, h) = img.dimensions();
    let (cw, ch) = (
        ((w as f64 * keep).round() as u32).max(1),
        ((h as f64 * keep).round() as u32).max(1),
    );
    let x0 = ((w - cw) as f64 * pos.0).round() as u32;
    let y0 = ((h - ch) as f64 * pos.1).round() as u32;
    imageops::crop_imm(img, x0, y0, cw, ch).to_image()
}

/// Rotation by `deg`, then the largest centred crop of the same aspect free of blank corners.
fn rotate_cropped(img: &RgbImage, deg: f64) -> RgbImage {
    let (w, h) = img.dimensions();
    let (c, s) = (deg.to_radians().cos(), deg.to_radians().sin().abs());
    let a = w.max(h) as f64 / w.min(h) as f64;
    crop(&rotate(img, deg), 1.0 / (c + s * a), true)
}

/// Mild perspective (keystone): the output is the projective image of a trapezoid of the source
/// whose top side keeps the middle `1 - 2·inset` of the width and whose bottom side is the full
/// width (as if photographed tilted back); bilinear sampling, no blank areas.
fn perspective(img: &RgbImage, inset: f64) -> RgbImage {
    let (w, h) = img.dimensions();
    // Unit square (u, v) -> source quad, closed form (Heckbert 1989).
    let (x0, y0, x1, y1, x2, y2, x3, y3) = (inset, 0.0, 1.0 - inset, 0.0, 1.0, 1.0, 0.0, 1.0);
    let (dx1, dx2, dx3) = (x1 - x2, x3 - x2, x0 - x1 + x2 - x3);
    let (dy1, dy2, dy3) = (y1 - y2, y3 - y2, y0 - y1 + y2 - y3);
    let den = dx1 * dy2 - dx2 * dy1;
    let g = (dx3 * dy2 - dx2 * dy3) / den;
    let hh = (dx1 * dy3 - dx3 * dy1) / den;
    let (a, b, c) = (x1 - x0 + g * x1, x3 - x0 + hh * x3, x0);
    let (d, e, f) = (y1 - y0 + g * y1, y3 - y0 + hh * y3, y0);
    let mut o = RgbImage::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let (u, v) = ((x as f64 + 0.5) / w as f64, (y as f64 + 0.5) / h as f64);
            let q = g * u + hh * v + 1.0;
            let sx = ((a * u + b * v + c) / q * w as f64 - 0.5).clamp(0.0, (w - 1) as f64);
            let sy = ((d * u + e * v + f) / q * h as f64 - 0.5).clamp(0.0, (h - 1) as f64);
            let (xa, ya) = (sx.floor() as u32, sy.floor() as u32);
            let (xb, yb) = ((xa + 1).min(w - 1), (ya + 1).min(h - 1));
            let (fx, fy) = (sx - xa as f64, sy - ya as f64);
            let mut px = [0u8; 3];
            for (k, p) in px.iter_mut().enumerate() {
                let v = img.get_pixel(xa, ya)[k] as f64 * (1.0 - fx) * (1.0 - fy)
                    + img.get_pixel(xb, ya)[k] as f64 * fx * (1.0 - fy)
                    + img.get_pixel(xa, yb)[k] as f64 * (1.0 - fx) * fy
                    + img.get_pixel(xb, yb)[k] as f64 * fx * fy;
                *p = v.round() as u8;
            }
            o.put_pixel(x, y, image::Rgb(px));
        }
    }
    o
}

fn crop(img: &RgbImage, keep: f64, centred: bool) -> RgbImage {
    let (w, h) = img.dimensions();
    let (cw, ch) = (
        (w as f64 * keep).round() as u32,
        (h as f64 * keep).round() as u32,
    );
    let (x0, y0) = if centred {
        ((w - cw) / 2, (h - ch) / 2)
    } else {
        ((w - cw) * 9 / 10, (h - ch) / 5)
    };
    imageops::crop_imm(img, x0, y0, cw, ch).to_image()
}

fn map_px(img: &RgbImage, f: impl Fn(f32) -> f32) -> RgbImage {
    let mut o = img.clone();
    for v in o.iter_mut() {
        *v = f(*v as f32).round().clamp(0.0, 255.0) as u8;
    }
    o
}

fn contrast(img: &RgbImage, k: f32) -> RgbImage {
    let n = (img.width() * img.height()) as f64;
    let mean = img
        .pixels()
        .map(|p| 0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64)
        .sum::<f64>()
        / n;
    let m = mean as f32;
    map_px(img, |v| m + (v - m) * k)
}

fn noise(img: &RgbImage, sigma: f64, seed: u64) -> RgbImage {
    let mut rng = Rng(seed);
    let mut o = img.clone();
    for v in o.iter_mut() {
        *v = (*v as f64 + rng.gauss() * sigma).round().clamp(0.0, 255.0) as u8;
    }
    o
}

fn gray(img: &RgbImage) -> RgbImage {
    DynamicImage::ImageLuma8(DynamicImage::ImageRgb8(img.clone()).to_luma8()).to_rgb8()
}

fn rotate(img: &RgbImage, deg: f64) -> RgbImage {
    let (w, h) = img.dimensions();
    let (c, s) = (deg.to_radians().cos(), deg.to_radians().sin());
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    let mut o = RgbImage::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
            let sx = c * dx + s * dy + cx - 0.5;
            let sy = -s * dx + c * dy + cy - 0.5;
            if sx < 0.0 || sy < 0.0 || sx > (w - 1) as f64 || sy > (h - 1) as f64 {
                continue;
            }
            let (x0, y0) = (sx.floor() as u32, sy.floor() as u32);
            let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
            let (fx, fy) = (sx - x0 as f64, sy - y0 as f64);
            let mut px = [0u8; 3];
            for (k, p) in px.iter_mut().enumerate() {
                let v = img.get_pixel(x0, y0)[k] as f64 * (1.0 - fx) * (1.0 - fy)
                    + img.get_pixel(x1, y0)[k] as f64 * fx * (1.0 - fy)
                    + img.get_pixel(x0, y1)[k] as f64 * (1.0 - fx) * fy
                    + img.get_pixel(x1, y1)[k] as f64 * fx * fy;
                *p = v.round() as u8;
            }
            o.put_pixel(x, y, image::Rgb(px));
        }
    }
    o
}

type Tf = (
    &'static str,
    f64,
    Box<dyn Fn(&RgbImage, u64) -> Option<RgbImage>>,
);

/// (name, required rate, transform). Transforms returning None are not applicable to the image.
fn transforms(small: bool) -> Vec<Tf> {
    let mut v: Vec<Tf> = vec![
        ("unchanged", 0.99, Box::new(|i, _| Some(i.clone()))),
        ("jpeg90", 0.99, Box::new(|i, _| Some(jpeg(i, 90)))),
        ("jpeg75", 0.99, Box::new(|i, _| Some(jpeg(i, 75)))),
        ("jpeg50", 0.99, Box::new(|i, _| Some(jpeg(i, 50)))),
        ("jpeg30", 0.95, Box::new(|i, _| Some(jpeg(i, 30)))),
        (
            "chroma420+jpeg90 (in-process)",
            0.99,
            Box::new(|i, _| Some(chroma420(i))),
        ),
    ];
    if std::env::var_os("WM_NO_CONVERT").is_none() && Path::new("/usr/bin/convert").exists() {
        v.push((
            "magick jpeg75 (4:2:0)",
            0.99,
            Box::new(|i, _| magick_jpeg(i, 75, "4:2:0")),
        ));
        v.push((
            "magick jpeg90 4:2:0",
            0.99,
            Box::new(|i, _| magick_jpeg(i, 90, "4:2:0")),
        ));
    }
    v.extend::<Vec<Tf>>(vec![
        ("resize0.75", 0.99, Box::new(|i, _| Some(resize(i, 0.75)))),
        ("resize0.5", 0.99, Box::new(|i, _| Some(resize(i, 0.5)))),
        (
            "brightness0.7",
            0.99,
            Box::new(|i, _| Some(map_px(i, |v| v * 0.7))),
        ),
        (
            "brightness1.3",
            0.99,
            Box::new(|i, _| Some(map_px(i, |v| v * 1.3))),
        ),
        ("contrast1.3", 0.99, Box::new(|i, _| Some(contrast(i, 1.3)))),
        ("noise5", 0.99, Box::new(|i, s| Some(noise(i, 5.0, s)))),
        ("blur1", 0.99, Box::new(|i, _| Some(imageops::blur(i, 1.0)))),
        ("grayscale", 0.99, Box::new(|i, _| Some(gray(i)))),
        (
            "resize0.9+jpeg85",
            0.99,
            Box::new(|i, _| Some(jpeg(&resize(i, 0.9), 85))),
        ),
        (
            "crop80 centred",
            0.95,
            Box::new(|i, _| Some(crop(i, 0.8, true))),
        ),
        (
            "crop80 off-centre",
            0.95,
            Box::new(|i, _| Some(crop(i, 0.8, false))),
        ),
        (
            "crop60 centred",
            0.95,
            Box::new(|i, _| Some(crop(i, 0.6, true))),
        ),
        (
            "crop60 off-centre",
            0.95,
            Box::new(|i, _| Some(crop(i, 0.6, false))),
        ),
        ("noise10", 0.95, Box::new(|i, s| Some(noise(i, 10.0, s)))),
        ("blur2", 0.95, Box::new(|i, _| Some(imageops::blur(i, 2.0)))),
        (
            "jpeg75+resize0.5+crop80",
            0.95,
            Box::new(|i, _| Some(crop(&resize(&jpeg(i, 75), 0.5), 0.8, true))),
        ),
        (
            "resize0.25 (src>=1024)",
            0.95,
            Box::new(|i, _| {
                if i.width().min(i.height()) >= 1024 {
                    Some(resize(i, 0.25))
                } else {
                    None
                }
            }),
        ),
        ("rotate2", 0.80, Box::new(|i, _| Some(rotate(i, 2.0)))),
        (
            "rotate10 (report only)",
            0.0,
            Box::new(|i, _| Some(rotate(i, 10.0))),
        ),
        (
            "hflip",
            0.80,
            Box::new(|i, _| Some(imageops::flip_horizontal(i))),
        ),
    ]);
    // Round two (issue #18), report only until they hold: non-uniform resizing, deep crops,
    // larger rotations (cropped to remove the blank corners), combinations.
    v.extend::<Vec<Tf>>(vec![
        (
            "r2 resize 0.8w x 0.6h",
            0.0,
            Box::new(|i, _| Some(resize_xy(i, 0.8, 0.6))),
        ),
        (
            "r2 resize 0.6w x 0.9h",
            0.0,
            Box::new(|i, _| Some(resize_xy(i, 0.6, 0.9))),
        ),
        (
            "r2 crop40 corner",
            0.0,
            Box::new(|i, s| Some(crop_at(i, 0.4, corner(s)))),
        ),
        (
            "r2 crop35 anywhere",
            0.0,
            Box::new(|i, s| Some(crop_at(i, 0.35, anywhere(s)))),
        ),
        (
            "r2 rotate10+crop",
            0.0,
            Box::new(|i, _| Some(rotate_cropped(i, 10.0))),
        ),
        (
            "r2 rotate15+crop",
            0.0,
            Box::new(|i, _| Some(rotate_cropped(i, 15.0))),
        ),
        (
            "r2 rotate10+crop+jpeg70",
            0.0,
            Box::new(|i, _| Some(jpeg(&rotate_cropped(i, 10.0), 70))),
        ),
        (
            "r2 perspective (keystone 8%)",
            0.0,
            Box::new(|i, _| Some(perspective(i, 0.04))),
        ),
        (
            "r2 jpeg50+resize0.5+crop60",
            0.0,
            Box::new(|i, _| Some(crop(&resize(&jpeg(i, 50), 0.5), 0.6, true))),
        ),
    ]);
    if small {
        // 256-px images: geometric shrinking below 256 px is out of scope.
        v.retain(|(n, _, _)| {
            !n.starts_with("resize0.5")
                && !n.starts_with("resize0.25")
                && !n.starts_with("jpeg75+resize")
        });
    }
    v
}

fn psnr(a: &RgbImage, b: &RgbImage) -> f64 {
    let mse = a
        .iter()
        .zip(b.iter())
        .map(|(x, y)| (*x as f64 - *y as f64).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

fn corpus() -> Vec<PathBuf> {
    let root = std::env::var_os("AIGCMARK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/aigcmark-corpus/images")
        });
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(d) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if matches!(
                p.extension()
                    .and_then(|e| e.to_str())
                    .map(|e| e.to_ascii_lowercase())
                    .as_deref(),
                Some("png" | "jpg" | "jpeg")
            ) {
                files.push(p);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        eprintln!(
            "no images under {} (run scripts/fetch-corpus.sh)",
            root.display()
        );
        std::process::exit(2);
    }
    files
}

#[derive(Default)]
struct Row {
    tried: u32,
    detected: u32,
    bit_acc_sum: f64,
    fp_tried: u32,
    fp: u32,
    required: f64,
    fails: Vec<String>,
    /// Misses that the search without early rejects finds.
    early_miss: u32,
}

fn main() {
    let key = WatermarkKey(*b"aigcmark-image-wm-robustness-key");
    let (thr, trials) = presence_threshold();
    println!(
        "presence threshold: {thr}/256 pilot bits, {trials} trials counted (union bound), target FPR 1e-6"
    );
    let limit: usize = std::env::var("WM_LIMIT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    let mut sets: Vec<(String, RgbImage, bool)> = Vec::new();
    let list = |var: &str| -> Vec<String> {
        std::env::var(var)
            .map(|v| {
                v.split(',')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    let (photo_filter, tf_filter) = (list("WM_FILTER"), list("WM_TF"));
    let verbose = std::env::var_os("WM_VERBOSE").is_some();
    let keep = |f: &[String], s: &str| f.is_empty() || f.iter().any(|x| s.contains(x.as_str()));
    for p in corpus()
        .into_iter()
        .filter(|p| keep(&photo_filter, &p.to_string_lossy()))
        .take(limit)
    {
        let Ok(img) = image::open(&p) else {
            eprintln!("skip unreadable {}", p.display());
            continue;
        };
        let img = img.to_rgb8();
        let name = format!(
            "{}/{}",
            p.parent()
                .and_then(|d| d.file_name())
                .unwrap_or_default()
                .to_string_lossy(),
            p.file_name().unwrap_or_default().to_string_lossy()
        );
        let short = img.width().min(img.height());
        if short >= 256 {
            let f = 256.0 / short as f64;
            let small = if short == 256 {
                img.clone()
            } else {
                resize(&img, f)
            };
            sets.push((format!("{name}@256"), small, true));
        }
        if short >= 512 {
            sets.push((name, img, false));
        }
    }
    let mut rows: BTreeMap<(bool, usize), (String, Row)> = BTreeMap::new();
    let mut psnrs: Vec<(bool, f64, String)> = Vec::new();
    let mut times: BTreeMap<String, (u32, f64, f64)> = BTreeMap::new();
    let mut rng = Rng(0x5eed);
    for (idx, (name, orig, small)) in sets.iter().enumerate() {
        let mut payload = [0u8; 8];
        for b in payload.iter_mut() {
            *b = rng.next() as u8;
        }
        let mut marked = orig.clone();
        let t0 = Instant::now();
        let rep = match embed_rgb(&mut marked, &payload, &key, &EmbedOptions::default()) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{name}: embed error {e}");
                continue;
            }
        };
        let embed_ms = t0.elapsed().as_secs_f64() * 1e3;
        let t1 = Instant::now();
        let _ = detect(&marked, &key);
        let detect_ms = t1.elapsed().as_secs_f64() * 1e3;
        let mp = (orig.width() * orig.height()) as f64 / 1e6;
        let bucket = if mp < 0.1 {
            "<0.1 MP (256 px)"
        } else if mp < 0.5 {
            "0.1-0.5 MP"
        } else if mp < 1.5 {
            "0.5-1.5 MP"
        } else if mp < 3.5 {
            "1.5-3.5 MP"
        } else {
            ">=3.5 MP"
        };
        let t = times.entry(bucket.to_string()).or_default();
        t.0 += 1;
        t.1 += embed_ms;
        t.2 += detect_ms;
        let p = psnr(orig, &marked);
        psnrs.push((*small, p, name.clone()));
        eprintln!(
            "[{}/{}] {name} {}x{} psnr {p:.2} dB (mark rms {:.2}, mask rms {:.1}) embed {embed_ms:.1} ms detect {detect_ms:.1} ms",
            idx + 1,
            sets.len(),
            orig.width(),
            orig.height(),
            rep.mark_rms,
            rep.mean_mask
        );
        for (ti, (tname, req, f)) in transforms(*small).iter().enumerate() {
            if !keep(&tf_filter, tname) {
                continue;
            }
            let seed = 1000 + idx as u64 * 100 + ti as u64;
            let Some(att) = f(&marked, seed) else {
                continue;
            };
            let row = &mut rows
                .entry((*small, ti))
                .or_insert_with(|| {
                    (
                        tname.to_string(),
                        Row {
                            required: *req,
                            ..Default::default()
                        },
                    )
                })
                .1;
            row.tried += 1;
            if verbose {
                let t = Instant::now();
                let b = detect_best_effort(&att, &key).ok().flatten();
                eprintln!(
                    "    {tname}: {} bits, scale {:.4}, {:.1} ms",
                    b.as_ref().map_or(0, |d| d.matching_bits),
                    b.as_ref().map_or(0.0, |d| d.scale),
                    t.elapsed().as_secs_f64() * 1e3
                );
            }
            let att_copy = att.clone();
            match detect_dynamic(&DynamicImage::ImageRgb8(att), &key) {
                Ok(Some(d)) => {
                    row.detected += 1;
                    let same: u32 = d
                        .payload
                        .iter()
                        .zip(&payload)
                        .map(|(a, b)| 8 - (a ^ b).count_ones())
                        .sum();
                    row.bit_acc_sum += same as f64 / 64.0;
                    if same < 64 {
                        eprintln!(
                            "    payload errors {name} {tname}: {}/64 bits wrong ({}/256 pilot bits, scale {:.4})",
                            64 - same,
                            d.matching_bits,
                            d.scale
                        );
                    }
                }
                Ok(None) => {
                    row.bit_acc_sum += 0.5;
                    row.fails.push(name.clone());
                    // What the early rejects cost: the search without them.
                    if let Ok(Some(_)) = detect_full_search(&att_copy, &key) {
                        row.early_miss += 1;
                        eprintln!("    EARLY-REJECT MISS {name} {tname}");
                    }
                }
                Err(e) => {
                    row.bit_acc_sum += 0.5;
                    row.fails.push(format!("{name}({e})"))
                }
            }
            // false positives: the unmarked original through the same transformation
            if let Some(un) = f(orig, seed) {
                row.fp_tried += 1;
                if let Ok(Some(d)) = detect(&un, &key) {
                    row.fp += 1;
                    eprintln!("FALSE POSITIVE {name} {tname}: {}/256", d.matching_bits);
                }
            }
        }
    }
    for small in [false, true] {
        println!();
        println!(
            "{}",
            if small {
                "## Small images (short side downscaled to 256 px)"
            } else {
                "## Photos, short side >= 512 px"
            }
        );
        println!(
            "| transformation | required | detected | rate | bit accuracy | false positives (unmarked) | early-reject misses |"
        );
        println!("|---|---|---|---|---|---|---|");
        for ((s, _), (name, r)) in rows.iter() {
            if *s != small {
                continue;
            }
            let rate = r.detected as f64 / r.tried.max(1) as f64;
            let flag = if rate + 1e-9 >= r.required {
                ""
            } else {
                " **below target**"
            };
            println!(
                "| {name} | {:.0}% | {}/{} | {:.1}%{flag} | {:.4} | {}/{} | {} |",
                r.required * 100.0,
                r.detected,
                r.tried,
                rate * 100.0,
                r.bit_acc_sum / r.tried.max(1) as f64,
                r.fp,
                r.fp_tried,
                r.early_miss
            );
        }
        let ps: Vec<f64> = psnrs.iter().filter(|p| p.0 == small).map(|p| p.1).collect();
        if !ps.is_empty() {
            let mn = psnrs
                .iter()
                .filter(|p| p.0 == small)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|p| p.2.clone())
                .unwrap_or_default();
            println!(
                "\nPSNR: mean {:.2} dB, min {:.2} dB ({mn}), n = {}",
                ps.iter().sum::<f64>() / ps.len() as f64,
                ps.iter().cloned().fold(f64::INFINITY, f64::min),
                ps.len()
            );
        }
        for ((s, _), (name, r)) in rows.iter() {
            if *s == small && !r.fails.is_empty() {
                println!("  missed [{name}]: {}", r.fails.join(", "));
            }
        }
    }
    println!("\n| image size | n | embed ms (mean) | detect unchanged ms (mean) |");
    println!("|---|---|---|---|");
    for (b, (n, e, d)) in &times {
        println!(
            "| {b} | {n} | {:.1} | {:.1} |",
            e / *n as f64,
            d / *n as f64
        );
    }
}
