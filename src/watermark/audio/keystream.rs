//! Key-derived pseudo-random stream: HMAC-SHA256(key, label) seeds a xoshiro256** generator.
//! The stream is public knowledge for anyone holding the detection key; it only has to look random
//! to the host signal and be reproducible.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub(super) struct KeyStream {
    s: [u64; 4],
}

impl KeyStream {
    pub(super) fn new(key: &[u8; 32], label: &[u8]) -> Self {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
        mac.update(b"aigcmark/audio-wm/v1/");
        mac.update(label);
        let out = mac.finalize().into_bytes();
        let mut s = [0u64; 4];
        for (i, w) in s.iter_mut().enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(&out[i * 8..i * 8 + 8]);
            *w = u64::from_le_bytes(b);
        }
        if s.iter().all(|&w| w == 0) {
            s[0] = 0x9E37_79B9_7F4A_7C15;
        }
        KeyStream { s }
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform integer in `0..n` (n > 0), by rejection so there is no modulo bias.
    pub(super) fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        let zone = u64::MAX - (u64::MAX % n) - 1;
        loop {
            let v = self.next_u64();
            if v <= zone {
                return (v % n) as usize;
            }
        }
    }

    pub(super) fn sign(&mut self) -> f32 {
        if self.next_u64() >> 63 == 1 {
            1.0
        } else {
            -1.0
        }
    }

    pub(super) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}
