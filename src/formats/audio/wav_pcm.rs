//! WAV sample layouts: the `fmt ` chunk, and converting between the `data` chunk's bytes and
//! `f32` for the layouts aigcmark reads and writes (integer PCM of 8 to 32 bits in any container
//! size, 32- and 64-bit float, plain or WAVE_FORMAT_EXTENSIBLE).
//!
//! Done by hand rather than through `hound` because scanning needs only the first and last
//! seconds of a possibly large `data` chunk, and splicing the rhythm into an existing file needs
//! its exact layout (container size, valid bits) reproduced for the new samples alone.

use crate::error::{Error, Result};

/// The parts of `fmt ` that say how samples are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavFmt {
    /// 1 integer PCM, 3 IEEE float (after resolving WAVE_FORMAT_EXTENSIBLE), anything else unsupported.
    pub tag: u16,
    pub channels: u16,
    pub rate: u32,
    pub block_align: u16,
    /// Significant bits per sample.
    pub bits: u16,
}

impl WavFmt {
    pub fn parse(body: &[u8]) -> Result<WavFmt> {
        let b = body
            .get(..16)
            .ok_or_else(|| Error::malformed("wav", "the fmt chunk is shorter than 16 bytes"))?;
        let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let mut tag = u16_at(0);
        let mut bits = u16_at(14);
        if tag == 0xFFFE
            && let Some(ext) = body.get(18..26)
        {
            let valid = u16::from_le_bytes([ext[0], ext[1]]);
            if valid != 0 {
                bits = valid;
            }
            tag = u16::from_le_bytes([ext[6], ext[7]]);
        }
        Ok(WavFmt {
            tag,
            channels: u16_at(2),
            rate: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            block_align: u16_at(12),
            bits,
        })
    }

    /// Bytes per sample in the container.
    fn width(&self) -> usize {
        usize::from(self.block_align) / usize::from(self.channels.max(1))
    }

    /// Whether samples in this layout can be read and written.
    pub fn check(&self) -> Result<()> {
        let w = self.width();
        let ok = self.channels > 0
            && self.rate > 0
            && w * usize::from(self.channels) == usize::from(self.block_align)
            && match self.tag {
                1 => (1..=4).contains(&w) && self.bits > 0 && usize::from(self.bits) <= 8 * w,
                3 => w == 4 || w == 8,
                _ => false,
            };
        if ok {
            Ok(())
        } else {
            Err(Error::Unsupported(format!(
                "WAV samples in format {:#06x}, {} bits in {} bytes, {} channels are not supported",
                self.tag, self.bits, w, self.channels
            )))
        }
    }

    /// Converts whole frames of `data` to interleaved `f32`.
    pub fn decode(&self, data: &[u8]) -> Vec<f32> {
        let w = self.width();
        if w == 0 {
            return Vec::new();
        }
        let usable =
            data.len() / usize::from(self.block_align.max(1)) * usize::from(self.block_align);
        data[..usable]
            .chunks_exact(w)
            .map(|s| match (self.tag, w) {
                (3, 4) => f32::from_le_bytes([s[0], s[1], s[2], s[3]]),
                (3, _) => {
                    f64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]) as f32
                }
                (_, 1) => (f32::from(s[0]) - 128.0) / 128.0,
                _ => {
                    let mut v = [0u8; 4];
                    v[4 - w..].copy_from_slice(s);
                    (i32::from_le_bytes(v) as f64 / 2147483648.0) as f32
                }
            })
            .collect()
    }

    /// Converts interleaved `f32` to this layout (rounded, clipped).
    pub fn encode(&self, samples: &[f32]) -> Vec<u8> {
        let w = self.width();
        let mut out = Vec::with_capacity(samples.len() * w);
        for &x in samples {
            let x = if x.is_finite() {
                x.clamp(-1.0, 1.0)
            } else {
                0.0
            };
            match (self.tag, w) {
                (3, 4) => out.extend_from_slice(&x.to_le_bytes()),
                (3, _) => out.extend_from_slice(&f64::from(x).to_le_bytes()),
                (_, 1) => out.push((f64::from(x) * 128.0 + 128.0).round().clamp(0.0, 255.0) as u8),
                _ => {
                    let bits = u32::from(self.bits).min(8 * w as u32);
                    let scale = f64::from(1u32 << (bits - 1));
                    let v = (f64::from(x) * scale).round().clamp(-scale, scale - 1.0) as i64;
                    // Left-justified: the significant bits at the top of the container.
                    let v = (v << (32 - bits)) as i32;
                    out.extend_from_slice(&v.to_le_bytes()[4 - w..]);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_layouts_round_trip() {
        for (bits, align) in [(8u16, 1u16), (16, 2), (24, 3), (20, 3), (24, 4)] {
            let f = WavFmt {
                tag: 1,
                channels: 1,
                rate: 8000,
                block_align: align,
                bits,
            };
            f.check().unwrap();
            let x = [0.0f32, 0.5, -0.5, -1.0];
            let back = f.decode(&f.encode(&x));
            for (a, b) in x.iter().zip(&back) {
                assert!((a - b).abs() < 1.0 / 64.0, "{bits}/{align}: {a} {b}");
            }
            assert_eq!(f.encode(&back), f.encode(&x));
        }
    }
}
