//! Runs the watermark detectors on decoded content for a format handler and turns what they
//! return into the report's [`WatermarkCheck`]. The detectors themselves (`crate::watermark`)
//! know nothing of reports or formats.

use crate::format::{WatermarkCheck, WatermarkFound};
use crate::watermark::{self, Payload, WatermarkKey};

/// Looks for the image watermark; an image too small to carry one reports it absent.
pub(crate) fn check_image(img: &::image::DynamicImage, key: &WatermarkKey) -> WatermarkCheck {
    match watermark::image::detect_dynamic(img, key) {
        Ok(Some(d)) => WatermarkCheck::Detected(WatermarkFound::new(
            Payload(d.payload),
            d.matching_bits,
            d.compared_bits,
            d.false_positive_probability,
            format!(
                "scale {:.2}, rotation {:.1}°, grid offset ({}, {}){}",
                d.scale,
                d.rotation_deg,
                d.offset.0,
                d.offset.1,
                if d.flipped { ", mirrored" } else { "" }
            ),
        )),
        Ok(None) | Err(_) => WatermarkCheck::Absent,
    }
}

/// Looks for the audio watermark in interleaved samples.
pub(crate) fn check_audio(
    samples: &[f32],
    channels: usize,
    sample_rate: u32,
    key: &WatermarkKey,
) -> WatermarkCheck {
    match watermark::audio::detect(samples, channels, sample_rate, key) {
        Ok(Some(d)) => WatermarkCheck::Detected(WatermarkFound::new(
            Payload(d.payload),
            d.matching_bits,
            d.compared_bits,
            d.false_positive_probability,
            format!(
                "from {:.2} s{}",
                d.start_seconds,
                if (d.speed - 1.0).abs() > 0.001 {
                    format!(", speed {:.3}", d.speed)
                } else {
                    String::new()
                }
            ),
        )),
        Ok(None) | Err(_) => WatermarkCheck::Absent,
    }
}
