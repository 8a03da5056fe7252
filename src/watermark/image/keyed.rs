//! Key-derived material: a counter-mode HMAC-SHA256 stream per purpose label, and the tile layout
//! (which cell carries which bit, its ±1 chip, the pilot bits and the payload whitening mask).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::params::{CELLS, CODE_BITS, PILOT_BITS, TILE};

/// Deterministic byte stream: HMAC-SHA256(key, "aigcmark/image-wm/v1/" || label || counter).
pub(super) struct KeyStream {
    mac: Hmac<Sha256>,
    label: &'static [u8],
    counter: u64,
    buf: [u8; 32],
    pos: usize,
}

impl KeyStream {
    pub(super) fn new(key: &[u8; 32], label: &'static [u8]) -> Self {
        let mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts 32-byte keys");
        KeyStream {
            mac,
            label,
            counter: 0,
            buf: [0; 32],
            pos: 32,
        }
    }

    fn refill(&mut self) {
        let mut m = self.mac.clone();
        m.update(b"aigcmark/image-wm/v1/");
        m.update(self.label);
        m.update(&self.counter.to_le_bytes());
        self.buf.copy_from_slice(&m.finalize().into_bytes());
        self.counter += 1;
        self.pos = 0;
    }

    pub(super) fn byte(&mut self) -> u8 {
        if self.pos == 32 {
            self.refill();
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        b
    }

    pub(super) fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    pub(super) fn bit(&mut self) -> u8 {
        self.byte() & 1
    }

    /// Uniform in 0..n (rejection sampling, no modulo bias).
    pub(super) fn below(&mut self, n: u32) -> u32 {
        let zone = u32::MAX - (u32::MAX % n);
        loop {
            let v = self.u32();
            if v < zone {
                return v % n;
            }
        }
    }
}

/// Everything keyed about the tile. Pilot bits, chips/layout and the payload mask come from
/// independent labels, so under the null hypothesis the pilot bits are independent fair coins
/// given everything the detector computes before comparing them.
pub(super) struct Layout {
    /// ±1 chip per cell (row-major, TILE×TILE).
    pub chip: Vec<f32>,
    /// Bit index per cell: 0..PILOT_BITS are pilot bits, PILOT_BITS.. are code bits.
    pub bit_of_cell: Vec<u16>,
    /// Keyed pilot bit values (0/1).
    pub pilot: [u8; PILOT_BITS],
    /// Keyed whitening mask XORed onto the 64 payload bits before encoding.
    pub payload_mask: [u8; 64],
}

impl Layout {
    pub(super) fn new(key: &[u8; 32]) -> Self {
        let mut ks = KeyStream::new(key, b"layout");
        // Keyed permutation of the cells (Fisher-Yates).
        let mut perm: Vec<u16> = (0..CELLS as u16).collect();
        for i in (1..CELLS).rev() {
            let j = ks.below(i as u32 + 1) as usize;
            perm.swap(i, j);
        }
        // Half of the cells carry pilot bits, half carry code bits, interleaved round-robin over
        // the permuted order so every bit is spread over the whole tile.
        let mut bit_of_cell = vec![0u16; CELLS];
        for (rank, &cell) in perm.iter().enumerate() {
            let b = if rank % 2 == 0 {
                (rank / 2) % PILOT_BITS
            } else {
                PILOT_BITS + (rank / 2) % CODE_BITS
            };
            bit_of_cell[cell as usize] = b as u16;
        }
        let mut cs = KeyStream::new(key, b"chips");
        let chip = (0..CELLS)
            .map(|_| if cs.bit() == 0 { 1.0 } else { -1.0 })
            .collect();
        let mut ps = KeyStream::new(key, b"pilot");
        let mut pilot = [0u8; PILOT_BITS];
        for p in pilot.iter_mut() {
            *p = ps.bit();
        }
        let mut ms = KeyStream::new(key, b"payload-mask");
        let mut payload_mask = [0u8; 64];
        for m in payload_mask.iter_mut() {
            *m = ms.bit();
        }
        debug_assert_eq!(TILE * TILE, CELLS);
        Layout {
            chip,
            bit_of_cell,
            pilot,
            payload_mask,
        }
    }
}
