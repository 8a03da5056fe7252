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
        // the common layouts without a match per sample (the values are the general path's)
        match (self.tag, w) {
            (1, 2) => {
                return data[..usable]
                    .chunks_exact(2)
                    .map(|s| f32::from(i16::from_le_bytes([s[0], s[1]])) / 32768.0)
                    .collect();
            }
            (3, 4) => {
                return data[..usable]
                    .chunks_exact(4)
                    .map(|s| f32::from_le_bytes([s[0], s[1], s[2], s[3]]))
                    .collect();
            }
            _ => {}
        }
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
        let mut out = vec![0u8; samples.len() * self.width()];
        self.encode_into(samples, &mut out);
        out
    }

    /// [`WavFmt::encode`] into `out` (`samples.len()` times the sample width), e.g. straight
    /// into the `data` chunk of a file being written.
    pub fn encode_into(&self, samples: &[f32], out: &mut [u8]) {
        let w = self.width();
        if w == 0 {
            return;
        }
        if self.tag == 1 && w == 2 && self.bits == 16 {
            // 16-bit: round half away from zero in f64 (exact for these magnitudes, the value
            // `f64::round` gives) without a libm call per sample
            for (o, &x) in out.chunks_exact_mut(2).zip(samples) {
                let x = if x.is_finite() {
                    x.clamp(-1.0, 1.0)
                } else {
                    0.0
                };
                let y = f64::from(x) * 32768.0;
                let v = ((y + 0.5f64.copysign(y)) as i32).clamp(-32768, 32767) as i16;
                o.copy_from_slice(&v.to_le_bytes());
            }
            return;
        }
        for (o, &x) in out.chunks_exact_mut(w).zip(samples) {
            let x = if x.is_finite() {
                x.clamp(-1.0, 1.0)
            } else {
                0.0
            };
            match (self.tag, w) {
                (3, 4) => o.copy_from_slice(&x.to_le_bytes()),
                (3, _) => o.copy_from_slice(&f64::from(x).to_le_bytes()),
                (_, 1) => o[0] = (f64::from(x) * 128.0 + 128.0).round().clamp(0.0, 255.0) as u8,
                _ => {
                    let bits = u32::from(self.bits).min(8 * w as u32);
                    let scale = f64::from(1u32 << (bits - 1));
                    let v = (f64::from(x) * scale).round().clamp(-scale, scale - 1.0) as i64;
                    // Left-justified: the significant bits at the top of the container.
                    let v = (v << (32 - bits)) as i32;
                    o.copy_from_slice(&v.to_le_bytes()[4 - w..]);
                }
            }
        }
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

    #[test]
    fn sixteen_bit_fast_path_rounds_as_f64_round() {
        let f = WavFmt {
            tag: 1,
            channels: 1,
            rate: 8000,
            block_align: 2,
            bits: 16,
        };
        let mut x: Vec<f32> = (-70000..70000).map(|i| i as f32 / 65536.0).collect();
        x.extend([
            1.5,
            -1.5,
            f32::NAN,
            f32::INFINITY,
            0.499_999_97 / 32768.0,
            -0.5 / 32768.0,
        ]);
        let enc = f.encode(&x);
        for (i, &v) in x.iter().enumerate() {
            let v = if v.is_finite() {
                v.clamp(-1.0, 1.0)
            } else {
                0.0
            };
            let want = (f64::from(v) * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
            assert_eq!(
                i16::from_le_bytes([enc[2 * i], enc[2 * i + 1]]),
                want,
                "{v}"
            );
        }
        // decoding is exact
        for (d, b) in f.decode(&enc).iter().zip(enc.chunks_exact(2)) {
            assert_eq!(*d, f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0);
        }
    }
}
