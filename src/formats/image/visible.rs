//! The visible label (GB 45438 5.2): a prompt such as `AI生成` drawn in a corner, white on a
//! translucent dark plate so it reads on any background, its text at least 5% of the image's
//! shortest side high. The font is a small subset of WenQuanYi Micro Hei bundled in
//! `assets/fonts/` (see the README there), drawn with `ab_glyph`.
//!
//! The seal records where the label is and what it looked like, as text of allowed characters:
//! `<corner>.<x>.<y>.<w>.<h>.<hash>.<text>` — the plate's rectangle in pixels, a 64-bit hash of
//! its luma on an 8×8 grid (each bit: cell brighter than the mean of the cells) in hex, and the
//! prompt's UTF-8 in hex. A verifier recomputes the hash on the decoded image; a recompressed
//! JPEG flips a few bits at most, a covered or cropped corner flips many. No OCR is involved.

use ab_glyph::{Font, FontRef, Glyph, PxScale, Rect, ScaleFont, point};
use image::DynamicImage;

use crate::error::{Error, Result};
use crate::format::{ExplicitKind, ExplicitMark, ExplicitOptions, Placement};

use super::Canvas;

static FONT: &[u8] = include_bytes!("../../../assets/fonts/wqy-microhei-subset.ttf");

/// The prompt drawn when none is given: both elements of GB 45438 5.2 ("AI", "generated").
pub const DEFAULT_TEXT: &str = "AI生成";
/// The smallest text height, as a fraction of the shortest side.
pub const MIN_SIZE: f32 = 0.05;
/// The largest text height accepted, as a fraction of the shortest side.
pub const MAX_SIZE: f32 = 0.5;
/// The longest prompt, in characters.
const MAX_CHARS: usize = 32;
const GRID: u32 = 8;

/// The label as the seal records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub placement: Placement,
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    pub hash: u64,
    pub text: String,
}

fn corner_code(p: Placement) -> &'static str {
    match p {
        Placement::TopLeft => "tl",
        Placement::TopRight => "tr",
        Placement::BottomLeft => "bl",
        _ => "br",
    }
}

impl Record {
    /// The seal's `ex=` text.
    pub fn encode(&self) -> String {
        let text_hex = crate::watermark::hex(self.text.as_bytes());
        format!(
            "{}.{}.{}.{}.{}.{:016x}.{text_hex}",
            corner_code(self.placement),
            self.x,
            self.y,
            self.w,
            self.h,
            self.hash
        )
    }

    /// Reads an `ex=` text; `None` when it is not an image label record.
    pub fn parse(s: &str) -> Option<Self> {
        let parts: Vec<&str> = s.split('.').collect();
        let [corner, x, y, w, h, hash, text] = parts.as_slice() else {
            return None;
        };
        let placement = match *corner {
            "tl" => Placement::TopLeft,
            "tr" => Placement::TopRight,
            "bl" => Placement::BottomLeft,
            "br" => Placement::BottomRight,
            _ => return None,
        };
        let bytes: Option<Vec<u8>> = (0..text.len())
            .step_by(2)
            .map(|i| {
                text.get(i..i + 2)
                    .and_then(|b| u8::from_str_radix(b, 16).ok())
            })
            .collect();
        Some(Record {
            placement,
            x: x.parse().ok()?,
            y: y.parse().ok()?,
            w: w.parse().ok()?,
            h: h.parse().ok()?,
            hash: u64::from_str_radix(hash, 16).ok()?,
            text: String::from_utf8(bytes?).ok()?,
        })
    }

    /// True when the decoded image still shows the label as recorded.
    pub fn matches(&self, img: &DynamicImage) -> bool {
        let rgb = img.to_rgb8();
        let Some(now) = grid_hash(
            rgb.width(),
            rgb.height(),
            self.x,
            self.y,
            self.w,
            self.h,
            |x, y| {
                let p = rgb.get_pixel(x, y).0;
                [p[0], p[1], p[2]]
            },
        ) else {
            return false;
        };
        let ones = self.hash.count_ones();
        let tolerance = 12.min(ones / 2).min((64 - ones) / 2);
        (now ^ self.hash).count_ones() <= tolerance
    }

    pub fn mark(&self, intact: bool) -> ExplicitMark {
        ExplicitMark {
            kind: ExplicitKind::VisibleMark,
            text: Some(self.text.clone()),
            location: self.placement.name().to_string(),
            intact: Some(intact),
        }
    }
}

/// The 64-bit luma hash of a rectangle; `None` when it does not fit the image or is too small.
fn grid_hash(
    width: u32,
    height: u32,
    x0: u32,
    y0: u32,
    w: u32,
    h: u32,
    pixel: impl Fn(u32, u32) -> [u8; 3],
) -> Option<u64> {
    if w < GRID || h < GRID || x0.checked_add(w)? > width || y0.checked_add(h)? > height {
        return None;
    }
    let mut cells = [0f64; (GRID * GRID) as usize];
    for gy in 0..GRID {
        for gx in 0..GRID {
            let (xa, xb) = (x0 + gx * w / GRID, x0 + (gx + 1) * w / GRID);
            let (ya, yb) = (y0 + gy * h / GRID, y0 + (gy + 1) * h / GRID);
            let mut sum = 0u64;
            for y in ya..yb {
                for x in xa..xb {
                    let [r, g, b] = pixel(x, y);
                    sum += 299 * u64::from(r) + 587 * u64::from(g) + 114 * u64::from(b);
                }
            }
            let n = u64::from((xb - xa) * (yb - ya)).max(1);
            cells[(gy * GRID + gx) as usize] = sum as f64 / n as f64;
        }
    }
    let mean = cells.iter().sum::<f64>() / cells.len() as f64;
    Some(cells.iter().enumerate().fold(
        0u64,
        |acc, (i, &c)| if c > mean { acc | 1 << i } else { acc },
    ))
}

fn font() -> Result<FontRef<'static>> {
    FontRef::try_from_slice(FONT)
        .map_err(|e| Error::Unsupported(format!("the bundled font cannot be read: {e}")))
}

/// Lays the text out at `scale`; returns the glyphs and the union of their ink boxes.
fn layout(font: &FontRef<'_>, text: &str, scale: PxScale) -> (Vec<Glyph>, Option<Rect>) {
    let scaled = font.as_scaled(scale);
    let mut x = 0.0;
    let mut glyphs = Vec::new();
    let mut bounds: Option<Rect> = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        let g = id.with_scale_and_position(scale, point(x, scaled.ascent()));
        x += scaled.h_advance(id);
        if let Some(o) = font.outline_glyph(g.clone()) {
            let b = o.px_bounds();
            bounds = Some(match bounds {
                None => b,
                Some(u) => Rect {
                    min: point(u.min.x.min(b.min.x), u.min.y.min(b.min.y)),
                    max: point(u.max.x.max(b.max.x), u.max.y.max(b.max.y)),
                },
            });
        }
        glyphs.push(g);
    }
    (glyphs, bounds)
}

/// Draws the label on `canvas` and returns the seal's record of it.
pub fn draw(canvas: &mut Canvas, opts: &ExplicitOptions) -> Result<String> {
    let text = opts.text.as_deref().unwrap_or(DEFAULT_TEXT).trim();
    if text.is_empty() || text.chars().count() > MAX_CHARS {
        return Err(Error::Unsupported(format!(
            "a visible label needs 1 to {MAX_CHARS} characters"
        )));
    }
    let placement = match opts.placement {
        None => Placement::BottomRight,
        Some(
            p @ (Placement::TopLeft
            | Placement::TopRight
            | Placement::BottomLeft
            | Placement::BottomRight),
        ) => p,
        Some(p) => {
            return Err(Error::Unsupported(format!(
                "an image label goes in a corner, not at {:?}",
                p.name()
            )));
        }
    };
    let font = font()?;
    if let Some(c) = text.chars().find(|&c| c != ' ' && font.glyph_id(c).0 == 0) {
        return Err(Error::Unsupported(format!(
            "the bundled font has no glyph for {c:?}; use ASCII letters and digits with 人工智能生成合成内容由"
        )));
    }
    let (width, height) = match canvas {
        Canvas::Rgb(i) => i.dimensions(),
        Canvas::Rgba(i) => i.dimensions(),
    };
    let short = width.min(height) as f32;
    let size = opts.size.unwrap_or(MIN_SIZE).clamp(MIN_SIZE, MAX_SIZE);
    let target = (short * size).ceil().max(8.0);

    // Scale so that the ink (not the em box) is at least `target` pixels high.
    let (_, probe) = layout(&font, text, PxScale::from(100.0));
    let probe_h = probe.map_or(0.0, |b| b.height());
    if probe_h <= 0.0 {
        return Err(Error::Unsupported(
            "the label text has no visible glyphs".into(),
        ));
    }
    let scale = PxScale::from(100.0 * target / probe_h + 1.0);
    let (glyphs, ink) = layout(&font, text, scale);
    let ink =
        ink.ok_or_else(|| Error::Unsupported("the label text has no visible glyphs".into()))?;
    let pad = (target * 0.35).ceil();
    let plate_w = (ink.width() + 2.0 * pad).ceil() as u32;
    let plate_h = (ink.height() + 2.0 * pad).ceil() as u32;
    let margin = (short * 0.02).round() as u32;
    let fits = |plate: u32, side: u32| plate.checked_add(2 * margin).is_some_and(|n| n <= side);
    if !fits(plate_w, width) || !fits(plate_h, height) {
        return Err(Error::Unsupported(format!(
            "the label ({plate_w}×{plate_h} pixels) does not fit the {width}×{height} image"
        )));
    }
    let x0 = match placement {
        Placement::TopLeft | Placement::BottomLeft => margin,
        _ => width - margin - plate_w,
    };
    let y0 = match placement {
        Placement::TopLeft | Placement::TopRight => margin,
        _ => height - margin - plate_h,
    };

    // The plate: black at 60% over the image.
    let mut blend = |x: u32, y: u32, rgb: u8, a: f32| match canvas {
        Canvas::Rgb(i) => {
            let p = i.get_pixel_mut(x, y);
            for c in &mut p.0 {
                *c = (f32::from(*c) * (1.0 - a) + f32::from(rgb) * a).round() as u8;
            }
        }
        Canvas::Rgba(i) => {
            let p = i.get_pixel_mut(x, y);
            for c in &mut p.0[..3] {
                *c = (f32::from(*c) * (1.0 - a) + f32::from(rgb) * a).round() as u8;
            }
            p.0[3] = (f32::from(p.0[3]) * (1.0 - a) + 255.0 * a).round() as u8;
        }
    };
    for y in y0..y0 + plate_h {
        for x in x0..x0 + plate_w {
            blend(x, y, 0, 0.6);
        }
    }
    // The text: white, anti-aliased.
    let dx = x0 as f32 + pad - ink.min.x;
    let dy = y0 as f32 + pad - ink.min.y;
    for g in glyphs {
        let mut g = g;
        g.position = point(g.position.x + dx, g.position.y + dy);
        if let Some(o) = font.outline_glyph(g) {
            let b = o.px_bounds();
            o.draw(|gx, gy, cov| {
                let x = b.min.x as i64 + i64::from(gx);
                let y = b.min.y as i64 + i64::from(gy);
                if x >= i64::from(x0)
                    && y >= i64::from(y0)
                    && x < i64::from(x0 + plate_w)
                    && y < i64::from(y0 + plate_h)
                {
                    blend(x as u32, y as u32, 255, cov.clamp(0.0, 1.0));
                }
            });
        }
    }

    let hash = match canvas {
        Canvas::Rgb(i) => grid_hash(width, height, x0, y0, plate_w, plate_h, |x, y| {
            i.get_pixel(x, y).0
        }),
        Canvas::Rgba(i) => grid_hash(width, height, x0, y0, plate_w, plate_h, |x, y| {
            let p = i.get_pixel(x, y).0;
            [p[0], p[1], p[2]]
        }),
    }
    .ok_or_else(|| Error::Unsupported("the image is too small for a visible label".into()))?;
    Ok(Record {
        placement,
        x: x0,
        y: y0,
        w: plate_w,
        h: plate_h,
        hash,
        text: text.to_string(),
    }
    .encode())
}
