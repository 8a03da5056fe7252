//! Small 2-D FFT helper on top of rustfft (row-major buffers, unnormalised transforms).

use std::sync::Arc;

use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

pub(super) struct Fft2 {
    pub w: usize,
    pub h: usize,
    row_f: Arc<dyn Fft<f32>>,
    row_i: Arc<dyn Fft<f32>>,
    col_f: Arc<dyn Fft<f32>>,
    col_i: Arc<dyn Fft<f32>>,
    col: Vec<Complex32>,
    scratch: Vec<Complex32>,
}

impl Fft2 {
    pub(super) fn new(w: usize, h: usize) -> Self {
        let mut p = FftPlanner::<f32>::new();
        let row_f = p.plan_fft_forward(w);
        let row_i = p.plan_fft_inverse(w);
        let col_f = p.plan_fft_forward(h);
        let col_i = p.plan_fft_inverse(h);
        let s = [
            row_f.get_inplace_scratch_len(),
            row_i.get_inplace_scratch_len(),
            col_f.get_inplace_scratch_len(),
            col_i.get_inplace_scratch_len(),
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        Fft2 {
            w,
            h,
            row_f,
            row_i,
            col_f,
            col_i,
            col: vec![Complex32::new(0.0, 0.0); h],
            scratch: vec![Complex32::new(0.0, 0.0); s],
        }
    }

    pub(super) fn forward(&mut self, data: &mut [Complex32]) {
        self.run(data, true);
    }

    pub(super) fn inverse(&mut self, data: &mut [Complex32]) {
        self.run(data, false);
    }

    /// Forward transform of data whose rows from `rows` on are all zero (their row transforms
    /// are skipped).
    pub(super) fn forward_top_rows(&mut self, data: &mut [Complex32], rows: usize) {
        let w = self.w;
        debug_assert_eq!(data.len(), w * self.h);
        self.row_f
            .process_with_scratch(&mut data[..rows * w], &mut self.scratch);
        self.cols_range(data, 0, w, true);
    }

    /// Forward transform that computes only the output columns in `keep` (all rows, then those
    /// columns' transforms); the other columns are left holding intermediate values. Every
    /// computed value is the one [`Fft2::forward`] gives.
    pub(super) fn forward_cols(&mut self, data: &mut [Complex32], keep: &[std::ops::Range<usize>]) {
        let w = self.w;
        debug_assert_eq!(data.len(), w * self.h);
        self.row_f.process_with_scratch(data, &mut self.scratch);
        for k in keep {
            self.cols_range(data, k.start, k.end.min(w), true);
        }
    }

    /// Inverse transform that computes only the first `cols` output columns (rows first, then
    /// the needed columns); the other columns are left holding intermediate values.
    pub(super) fn inverse_first_cols(&mut self, data: &mut [Complex32], cols: usize) {
        let w = self.w;
        debug_assert_eq!(data.len(), w * self.h);
        self.row_i.process_with_scratch(data, &mut self.scratch);
        self.cols_range(data, 0, cols.min(w), false);
    }

    /// Forward transform of `data` (row-major, h rows of w) into `out` in transposed layout
    /// (`out[kx * h + ky]`): row transforms, one blocked transpose, then the column transforms as
    /// contiguous rows of `out`. Saves the two strided copies per batch of the column transforms
    /// for callers that do not need the usual layout (`data` is overwritten).
    pub(super) fn forward_t(&mut self, data: &mut [Complex32], out: &mut [Complex32]) {
        let (w, h) = (self.w, self.h);
        self.row_f.process_with_scratch(data, &mut self.scratch);
        transpose(data, out, w, h);
        self.col_f.process_with_scratch(out, &mut self.scratch);
    }

    /// Inverse of a spectrum in transposed layout (`data[kx * h + ky]`, as [`Fft2::forward_t`]
    /// gives it) into `out` in the usual layout (`out[y * w + x]`); `data` is overwritten.
    pub(super) fn inverse_t(&mut self, data: &mut [Complex32], out: &mut [Complex32]) {
        let (w, h) = (self.w, self.h);
        self.col_i.process_with_scratch(data, &mut self.scratch);
        transpose(data, out, h, w);
        self.row_i.process_with_scratch(out, &mut self.scratch);
    }

    fn run(&mut self, data: &mut [Complex32], fwd: bool) {
        let w = self.w;
        debug_assert_eq!(data.len(), w * self.h);
        if fwd {
            self.row_f.process_with_scratch(data, &mut self.scratch);
            self.cols(data, true);
        } else {
            self.cols(data, false);
            self.row_i.process_with_scratch(data, &mut self.scratch);
        }
    }

    fn cols(&mut self, data: &mut [Complex32], fwd: bool) {
        let w = self.w;
        self.cols_range(data, 0, w, fwd);
    }

    /// Column transforms of columns `from..to`.
    fn cols_range(&mut self, data: &mut [Complex32], from: usize, to: usize, fwd: bool) {
        // Columns are gathered in batches of B (contiguous reads per row), transformed in one
        // batched call (every 1-D transform is the one a single call gives), scattered back.
        const B: usize = 16;
        let (w, h) = (self.w, self.h);
        if self.col.len() < B * h {
            self.col.resize(B * h, Complex32::new(0.0, 0.0));
        }
        let mut x0 = from;
        while x0 < to {
            let nb = B.min(to - x0);
            for y in 0..h {
                let src = &data[y * w + x0..y * w + x0 + nb];
                for (j, v) in src.iter().enumerate() {
                    self.col[j * h + y] = *v;
                }
            }
            let cols = &mut self.col[..nb * h];
            if fwd {
                self.col_f.process_with_scratch(cols, &mut self.scratch);
            } else {
                self.col_i.process_with_scratch(cols, &mut self.scratch);
            }
            for y in 0..h {
                let dst = &mut data[y * w + x0..y * w + x0 + nb];
                for (j, v) in dst.iter_mut().enumerate() {
                    *v = self.col[j * h + y];
                }
            }
            x0 += nb;
        }
    }
}

/// `dst[x * h + y] = src[y * w + x]` (src: h rows of w), in 8×8 blocks so that both sides stay
/// in a few cache lines.
pub(super) fn transpose(src: &[Complex32], dst: &mut [Complex32], w: usize, h: usize) {
    const T: usize = 8;
    debug_assert!(src.len() == w * h && dst.len() == w * h);
    for y0 in (0..h).step_by(T) {
        let y1 = (y0 + T).min(h);
        for x0 in (0..w).step_by(T) {
            let x1 = (x0 + T).min(w);
            for x in x0..x1 {
                let d = &mut dst[x * h + y0..x * h + y1];
                for (y, v) in (y0..y1).zip(d.iter_mut()) {
                    *v = src[y * w + x];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The transposed-layout transforms give the usual transforms, transposed.
    #[test]
    fn transposed_layout_matches() {
        let (w, h) = (16usize, 8usize);
        let x: Vec<Complex32> = (0..w * h)
            .map(|i| Complex32::new(((i * 37) % 11) as f32 - 5.0, ((i * 13) % 7) as f32))
            .collect();
        let mut f = Fft2::new(w, h);
        let mut a = x.clone();
        f.forward(&mut a);
        let (mut b, mut bt) = (x.clone(), vec![Complex32::new(0.0, 0.0); w * h]);
        f.forward_t(&mut b, &mut bt);
        for ky in 0..h {
            for kx in 0..w {
                assert!((a[ky * w + kx] - bt[kx * h + ky]).norm() < 1e-3);
            }
        }
        let mut back = vec![Complex32::new(0.0, 0.0); w * h];
        f.inverse_t(&mut bt, &mut back);
        for (u, v) in back.iter().zip(&x) {
            assert!((u / (w * h) as f32 - v).norm() < 1e-4);
        }
    }
}
