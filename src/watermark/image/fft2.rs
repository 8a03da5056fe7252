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
