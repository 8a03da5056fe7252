//! Forward error correction: rate-1/3 convolutional code, constraint length 9 (generators 557, 663,
//! 711 octal, free distance 18), terminated with 8 zero tail bits, decoded by soft-decision
//! Viterbi (256 states). 64 data bits + 8 tail bits -> 216 coded bits.

pub(super) const DATA_BITS: usize = 64;
const K: usize = 9;
const TAIL: usize = K - 1;
pub(super) const CODED_BITS: usize = (DATA_BITS + TAIL) * 3;
const POLYS: [u32; 3] = [0o557, 0o663, 0o711];
const STATES: usize = 1 << (K - 1);

fn outputs(reg: u32) -> [bool; 3] {
    [
        (reg & POLYS[0]).count_ones() & 1 == 1,
        (reg & POLYS[1]).count_ones() & 1 == 1,
        (reg & POLYS[2]).count_ones() & 1 == 1,
    ]
}

pub(super) fn payload_bits(payload: &[u8; 8]) -> [bool; DATA_BITS] {
    let mut bits = [false; DATA_BITS];
    for (i, b) in bits.iter_mut().enumerate() {
        *b = (payload[i / 8] >> (7 - i % 8)) & 1 == 1;
    }
    bits
}

pub(super) fn encode(payload: &[u8; 8]) -> Vec<bool> {
    let bits = payload_bits(payload);
    let mut out = Vec::with_capacity(CODED_BITS);
    let mut state: u32 = 0;
    for i in 0..DATA_BITS + TAIL {
        let b = bits.get(i).map_or(0, |&v| u32::from(v));
        let reg = (b << (K - 1)) | state;
        out.extend_from_slice(&outputs(reg));
        state = reg >> 1;
    }
    out
}

/// `soft[i] > 0` favours coded bit i = 1; magnitude is confidence.
pub(super) fn decode(soft: &[f32]) -> [u8; 8] {
    debug_assert_eq!(soft.len(), CODED_BITS);
    let steps = DATA_BITS + TAIL;
    let neg = f32::NEG_INFINITY;
    let mut metric = vec![neg; STATES];
    metric[0] = 0.0;
    let mut decisions = vec![0u8; steps * STATES]; // chosen input bit per (step, next state) via predecessor
    let mut prev_state = vec![0u8; steps * STATES];
    let mut next = vec![neg; STATES];
    for t in 0..steps {
        next.iter_mut().for_each(|m| *m = neg);
        let y = &soft[t * 3..t * 3 + 3];
        let max_b = if t < DATA_BITS { 1 } else { 0 };
        for (s, &m) in metric.iter().enumerate() {
            if m == neg {
                continue;
            }
            for b in 0..=max_b {
                let reg = ((b as u32) << (K - 1)) | s as u32;
                let o = outputs(reg);
                let mut bm = 0.0f32;
                for k in 0..3 {
                    bm += if o[k] { y[k] } else { -y[k] };
                }
                let ns = (reg >> 1) as usize;
                let cand = m + bm;
                if cand > next[ns] {
                    next[ns] = cand;
                    decisions[t * STATES + ns] = b as u8;
                    prev_state[t * STATES + ns] = s as u8;
                }
            }
        }
        std::mem::swap(&mut metric, &mut next);
    }
    // terminated: end in state 0
    let mut s = 0usize;
    let mut bits = [false; DATA_BITS + TAIL];
    for t in (0..steps).rev() {
        bits[t] = decisions[t * STATES + s] == 1;
        s = prev_state[t * STATES + s] as usize;
    }
    let mut out = [0u8; 8];
    for i in 0..DATA_BITS {
        if bits[i] {
            out[i / 8] |= 1 << (7 - i % 8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_with_errors() {
        let p = [0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67];
        let c = encode(&p);
        assert_eq!(c.len(), CODED_BITS);
        let mut soft: Vec<f32> = c.iter().map(|&b| if b { 1.0 } else { -1.0 }).collect();
        for i in (0..CODED_BITS).step_by(17) {
            soft[i] = -soft[i];
        }
        assert_eq!(decode(&soft), p);
    }
}
