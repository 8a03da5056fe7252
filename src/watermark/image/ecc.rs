//! Convolutional code, constraint length 7, rate 1/3 (generators 133, 171, 165 octal), zero
//! tail, soft-decision Viterbi decoding. 64 data bits -> 210 code bits.

use super::params::{CODE_BITS, CODE_K, PAYLOAD_BITS};

const GENS: [u32; 3] = [0o133, 0o171, 0o165];
const STATES: usize = 1 << (CODE_K - 1);

#[inline]
fn outputs(reg: u32) -> [u8; 3] {
    [
        ((reg & GENS[0]).count_ones() & 1) as u8,
        ((reg & GENS[1]).count_ones() & 1) as u8,
        ((reg & GENS[2]).count_ones() & 1) as u8,
    ]
}

pub(super) fn encode(bits: &[u8; PAYLOAD_BITS]) -> Vec<u8> {
    let mut out = Vec::with_capacity(CODE_BITS);
    let mut reg = 0u32;
    for b in bits
        .iter()
        .map(|&b| b as u32 & 1)
        .chain(std::iter::repeat_n(0, CODE_K - 1))
    {
        reg = ((reg << 1) | b) & ((1 << CODE_K) - 1);
        out.extend_from_slice(&outputs(reg));
    }
    out
}

/// `soft[i] > 0` means code bit i is more likely 0. Returns the most likely data bits.
pub(super) fn decode(soft: &[f32]) -> [u8; PAYLOAD_BITS] {
    let steps = PAYLOAD_BITS + CODE_K - 1;
    let mut metric = [f32::NEG_INFINITY; STATES];
    metric[0] = 0.0;
    let mut decisions = vec![[0u8; STATES]; steps];
    for t in 0..steps {
        let s = &soft[3 * t..3 * t + 3];
        let mut next = [f32::NEG_INFINITY; STATES];
        for (prev, &pm) in metric.iter().enumerate() {
            if pm == f32::NEG_INFINITY {
                continue;
            }
            let max_b = if t < PAYLOAD_BITS { 2 } else { 1 };
            for b in 0..max_b {
                let reg = ((prev as u32) << 1) | b as u32;
                let o = outputs(reg);
                let bm: f32 = (0..3).map(|j| if o[j] == 0 { s[j] } else { -s[j] }).sum();
                let ns = (reg as usize) & (STATES - 1);
                let m = pm + bm;
                if m > next[ns] {
                    next[ns] = m;
                    // remember the bit shifted out (prev's MSB) to recover prev from ns
                    decisions[t][ns] = ((prev >> (CODE_K - 2)) & 1) as u8;
                }
            }
        }
        metric = next;
    }
    // trace back from state 0
    let mut state = 0usize;
    let mut bits = [0u8; PAYLOAD_BITS];
    for t in (0..steps).rev() {
        let b = (state & 1) as u8;
        if t < PAYLOAD_BITS {
            bits[t] = b;
        }
        let msb = decisions[t][state] as usize;
        state = (state >> 1) | (msb << (CODE_K - 2));
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_with_errors() {
        let mut bits = [0u8; 64];
        for (i, b) in bits.iter_mut().enumerate() {
            *b = ((i * 7 + 3) % 5 % 2) as u8;
        }
        let code = encode(&bits);
        assert_eq!(code.len(), CODE_BITS);
        let mut soft: Vec<f32> = code
            .iter()
            .map(|&c| if c == 0 { 1.0 } else { -1.0 })
            .collect();
        for i in (0..soft.len()).step_by(9) {
            soft[i] = -soft[i] * 0.5; // ~11 % flipped
        }
        assert_eq!(decode(&soft), bits);
    }
}
