//! The keyed time-frequency layout of one period of the mark.
//!
//! One period is `PERIOD` hop frames (20 ms each) x `CELLS` frequency cells (75 Hz each, 450-7425 Hz).
//! In every frame the cells are split (by the key) into one pilot group of `PILOT_PER_FRAME` cells
//! and `DATA_GROUPS` data groups; each data group carries one coded bit (each coded bit gets 8-9
//! groups spread over the period). Every cell has a key-derived chip (+1/-1) that whitens what is
//! embedded, so the embedded pattern looks random whatever the payload. Pilot cells are embedded
//! at `PILOT_GAIN` times the data cells' amplitude.

use super::conv::CODED_BITS;
use super::keystream::KeyStream;

/// Hop frames per period (20 ms each): 4.64 s, so any 5 s excerpt holds a whole period.
pub(super) const PERIOD: usize = 232;
/// Frequency cells per frame.
pub(super) const CELLS: usize = 93;
pub(super) const BAND_LO_HZ: f64 = 450.0;
pub(super) const CELL_HZ: f64 = 75.0;
pub(super) const PILOT_PER_FRAME: usize = 29;
pub(super) const DATA_GROUPS: usize = 8;
/// Amplitude of the pilot cells relative to the data cells. At the same total mark power the
/// pilot (presence test) gets (29 x 1.96) / (29 x 1.96 + 64) = 47 % of it instead of 31 %:
/// `z^2` of the presence test x1.51, the data cells' energy x0.77.
pub(super) const PILOT_GAIN: f32 = 1.4;

#[derive(Clone, Copy)]
pub(super) struct Cell {
    pub chip: f32,
    /// coded bit index, or -1 for a pilot cell
    pub coded: i16,
    /// group within the frame: 0 = pilot, 1.. = data
    pub group: u8,
}

pub(super) struct Layout {
    pub cells: Vec<Cell>, // PERIOD * CELLS, row-major by frame
    /// per frame, the indices (0..CELLS) of pilot cells with their chips
    pub pilots: Vec<[(u8, f32); PILOT_PER_FRAME]>,
    /// The detector's FFT form of the pilot (built on first use, once per key).
    pub correlator: std::sync::OnceLock<super::detect::PhaseCorrelator>,
}

impl Layout {
    pub(super) fn new(key: &[u8; 32]) -> Self {
        let mut ks = KeyStream::new(key, b"layout");
        let mut cells = Vec::with_capacity(PERIOD * CELLS);
        let mut pilots = Vec::with_capacity(PERIOD);
        for _ in 0..PERIOD {
            let mut idx: Vec<u8> = (0..CELLS as u8).collect();
            ks.shuffle(&mut idx);
            let mut group = [0u8; CELLS];
            let per = (CELLS - PILOT_PER_FRAME) / DATA_GROUPS;
            for (r, &i) in idx.iter().enumerate() {
                group[i as usize] = if r < PILOT_PER_FRAME {
                    0
                } else {
                    (1 + ((r - PILOT_PER_FRAME) / per).min(DATA_GROUPS - 1)) as u8
                };
            }
            let mut pl = [(0u8, 0f32); PILOT_PER_FRAME];
            let mut np = 0;
            for (c, &g) in group.iter().enumerate() {
                let chip = ks.sign();
                if g == 0 {
                    pl[np] = (c as u8, chip);
                    np += 1;
                }
                cells.push(Cell {
                    chip,
                    coded: -1,
                    group: g,
                });
            }
            pilots.push(pl);
        }
        let mut slots: Vec<usize> = (0..PERIOD * DATA_GROUPS).collect();
        ks.shuffle(&mut slots);
        let mut bit_of_slot = vec![0i16; PERIOD * DATA_GROUPS];
        for (i, &s) in slots.iter().enumerate() {
            bit_of_slot[s] = (i % CODED_BITS) as i16;
        }
        for f in 0..PERIOD {
            for c in 0..CELLS {
                let cell = &mut cells[f * CELLS + c];
                if cell.group > 0 {
                    cell.coded = bit_of_slot[f * DATA_GROUPS + cell.group as usize - 1];
                }
            }
        }
        Layout {
            cells,
            pilots,
            correlator: std::sync::OnceLock::new(),
        }
    }

    /// Embedded amplitude of every cell for a given coded word: `+-PILOT_GAIN` (pilot cells,
    /// the chip) or +-1 (data cells, chip times the coded bit's sign).
    pub(super) fn signs(&self, coded: &[bool]) -> Vec<f32> {
        self.cells
            .iter()
            .map(|c| {
                if c.coded < 0 {
                    c.chip * PILOT_GAIN
                } else if coded[c.coded as usize] {
                    c.chip
                } else {
                    -c.chip
                }
            })
            .collect()
    }
}
