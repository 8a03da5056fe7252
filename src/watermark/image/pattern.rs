//! The keyed tile pattern: ±1 chips modulated by pilot and code bits, band-pass filtered on the
//! 64×64 torus (so the tile repeats seamlessly) and normalised to unit RMS.

use rustfft::num_complex::Complex32;

use super::fft2::Fft2;
use super::keyed::Layout;
use super::params::{BAND_HI, BAND_LO, CELLS, PILOT_BITS, TAPER, TILE};

/// Radial band-pass response on the TILE×TILE frequency grid (real, symmetric), tilted: the
/// amplitude rises in proportion to the frequency (f / BAND_HI), so more of the mark's power sits
/// where image texture (≈ 1/f amplitude spectrum) is weakest. Embedding and detection use the same
/// response, so the detector's correlation stays matched to the mark.
pub(super) fn band_response() -> Vec<f32> {
    let mut h = vec![0f32; CELLS];
    for ky in 0..TILE {
        let fy = if ky < TILE / 2 {
            ky as f64
        } else {
            ky as f64 - TILE as f64
        } / TILE as f64;
        for kx in 0..TILE {
            let fx = if kx < TILE / 2 {
                kx as f64
            } else {
                kx as f64 - TILE as f64
            } / TILE as f64;
            let f = (fx * fx + fy * fy).sqrt();
            let ramp = |d: f64| -> f64 {
                // 0 at d<=-TAPER, 1 at d>=0, raised cosine in between.
                if d >= 0.0 {
                    1.0
                } else if d <= -TAPER {
                    0.0
                } else {
                    0.5 * (1.0 + (std::f64::consts::PI * d / TAPER).cos())
                }
            };
            let v = ramp(f - BAND_LO).min(ramp(BAND_HI - f)) * f / BAND_HI;
            h[ky * TILE + kx] = v as f32;
        }
    }
    h
}

/// Signed symbol (+1 for bit 0, −1 for bit 1).
#[inline]
pub(super) fn sym(bit: u8) -> f32 {
    if bit == 0 { 1.0 } else { -1.0 }
}

/// The embedded tile for a given set of code bits (unit RMS, row-major TILE×TILE).
pub(super) fn tile_pattern(layout: &Layout, code: &[u8]) -> Vec<f32> {
    let mut buf: Vec<Complex32> = (0..CELLS)
        .map(|c| {
            let b = layout.bit_of_cell[c] as usize;
            let bit = if b < PILOT_BITS {
                layout.pilot[b]
            } else {
                code[b - PILOT_BITS]
            };
            Complex32::new(layout.chip[c] * sym(bit), 0.0)
        })
        .collect();
    let h = band_response();
    let mut fft = Fft2::new(TILE, TILE);
    fft.forward(&mut buf);
    for (v, &g) in buf.iter_mut().zip(&h) {
        *v *= g;
    }
    fft.inverse(&mut buf);
    let mut p: Vec<f32> = buf.iter().map(|c| c.re).collect();
    let rms = (p.iter().map(|v| (*v as f64) * (*v as f64)).sum::<f64>() / CELLS as f64).sqrt();
    if rms > 0.0 {
        for v in p.iter_mut() {
            *v = (*v as f64 / rms) as f32;
        }
    }
    p
}

/// Pilot template in the frequency domain, pre-multiplied by the band response and conjugated:
/// IFFT(FFT(fold) · W) is the circular cross-correlation of the band-passed fold with the pilot
/// chips at every cyclic offset.
pub(super) fn pilot_correlator(layout: &Layout, h: &[f32], fft: &mut Fft2) -> Vec<Complex32> {
    let mut q: Vec<Complex32> = (0..CELLS)
        .map(|c| {
            let b = layout.bit_of_cell[c] as usize;
            let v = if b < PILOT_BITS {
                layout.chip[c] * sym(layout.pilot[b])
            } else {
                0.0
            };
            Complex32::new(v, 0.0)
        })
        .collect();
    fft.forward(&mut q);
    q.iter().zip(h).map(|(v, &g)| v.conj() * g).collect()
}
