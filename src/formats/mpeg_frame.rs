//! MPEG audio frame headers (MPEG-1, -2 and 2.5, layers I–III): enough to find where the audio
//! frames start, tell the Xing/Info/VBRI header frame from sound, and check that a sync word is
//! a real frame (its successor is one too). Symphonia parses these internally but does not
//! expose byte offsets, which the content binding needs.

/// One parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Frame length in bytes, header included.
    pub len: usize,
    pub mpeg1: bool,
    pub layer: u8,
    pub mono: bool,
    pub sample_rate: u32,
}

const BITRATES_V1: [[u16; 14]; 3] = [
    [
        32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
    ],
    [
        32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
    ],
    [
        32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ],
];
const BITRATES_V2: [[u16; 14]; 2] = [
    [
        32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
    ],
    [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
];

/// Parses the 4-byte header at `b[0..4]`; `None` for anything that is not a valid header
/// (free-format frames included: they cannot be measured from the header).
pub fn parse(b: &[u8]) -> Option<FrameHeader> {
    let h = b.get(..4)?;
    if h[0] != 0xFF || h[1] & 0xE0 != 0xE0 {
        return None;
    }
    let version = (h[1] >> 3) & 3; // 0: 2.5, 2: 2, 3: 1
    let layer_bits = (h[1] >> 1) & 3; // 1: III, 2: II, 3: I
    let br_idx = usize::from(h[2] >> 4);
    let sr_idx = usize::from((h[2] >> 2) & 3);
    if version == 1 || layer_bits == 0 || br_idx == 0 || br_idx == 15 || sr_idx == 3 {
        return None;
    }
    let layer = 4 - layer_bits; // 1, 2 or 3
    let mpeg1 = version == 3;
    let kbps = u32::from(if mpeg1 {
        BITRATES_V1[usize::from(layer - 1)][br_idx - 1]
    } else {
        BITRATES_V2[usize::from(layer != 1)][br_idx - 1]
    });
    let base = [44100u32, 48000, 32000][sr_idx];
    let sample_rate = match version {
        3 => base,
        2 => base / 2,
        _ => base / 4,
    };
    let pad = u32::from((h[2] >> 1) & 1);
    let len = match layer {
        1 => (12 * kbps * 1000 / sample_rate + pad) * 4,
        3 if !mpeg1 => 72 * kbps * 1000 / sample_rate + pad,
        _ => 144 * kbps * 1000 / sample_rate + pad,
    } as usize;
    Some(FrameHeader {
        len,
        mpeg1,
        layer,
        mono: h[3] >> 6 == 3,
        sample_rate,
    })
}

/// The first offset in `b[from..]` where a frame starts that is followed by another frame (or
/// by the end of the region): a sync word in the middle of tag junk is not taken for audio.
pub fn first_frame(b: &[u8], from: usize) -> Option<(usize, FrameHeader)> {
    let mut pos = from;
    while pos + 4 <= b.len() {
        if b[pos] == 0xFF
            && let Some(h) = parse(&b[pos..])
        {
            let next = pos + h.len;
            if next == b.len() || parse(b.get(next..).unwrap_or(&[])).is_some() {
                return Some((pos, h));
            }
        }
        pos += 1;
    }
    None
}

/// True when a decoder could sync on MPEG audio somewhere in `b`: a frame chain (see
/// [`first_frame`]), or a single frame that fits in `b` and has the same MPEG version, layer and
/// sample rate as `stream` (the file's audio), which a decoder already in sync accepts.
pub fn could_sync(b: &[u8], stream: Option<&FrameHeader>) -> bool {
    if first_frame(b, 0).is_some() {
        return true;
    }
    let Some(s) = stream else { return false };
    (0..b.len()).any(|p| {
        b[p] == 0xFF
            && parse(&b[p..]).is_some_and(|h| {
                (h.mpeg1, h.layer, h.sample_rate) == (s.mpeg1, s.layer, s.sample_rate)
                    && p + h.len <= b.len()
            })
    })
}

/// True when the frame at `b[0..]` is a Xing/Info/VBRI header frame (stream facts, no sound).
pub fn is_info_frame(b: &[u8], h: &FrameHeader) -> bool {
    if h.layer != 3 {
        return false;
    }
    let side = match (h.mpeg1, h.mono) {
        (true, false) => 32,
        (true, true) | (false, false) => 17,
        (false, true) => 9,
    };
    let xing = b.get(4 + side..8 + side);
    matches!(xing, Some(b"Xing") | Some(b"Info")) || b.get(36..40) == Some(b"VBRI")
}

/// The LAME extension's encoder delay and padding (3 bytes: 12 bits each) in the Xing/Info
/// frame at `b[0..]`, when it has one (`LAME` or ffmpeg's `Lavf`). Decoders trim that many
/// samples from the start and end, so these bytes change what plays.
pub fn gapless(b: &[u8], h: &FrameHeader) -> Option<[u8; 3]> {
    if h.layer != 3 {
        return None;
    }
    let side = match (h.mpeg1, h.mono) {
        (true, false) => 32,
        (true, true) | (false, false) => 17,
        (false, true) => 9,
    };
    let frame = b.get(..h.len)?;
    let x = 4 + side;
    if !matches!(frame.get(x..x + 4), Some(b"Xing") | Some(b"Info")) {
        return None;
    }
    let flags = frame.get(x + 7).copied()?;
    let mut o = x + 8;
    for (bit, n) in [(1u8, 4usize), (2, 4), (4, 100), (8, 4)] {
        if flags & bit != 0 {
            o += n;
        }
    }
    if !matches!(frame.get(o..o + 4), Some(b"LAME") | Some(b"Lavf")) {
        return None;
    }
    frame.get(o + 21..o + 24)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_common_frames() {
        // MPEG-1 layer III, 128 kbps, 44.1 kHz, no padding: 417 bytes.
        assert_eq!(parse(&[0xFF, 0xFB, 0x90, 0x00]).unwrap().len, 417);
        // MPEG-2 layer III, 64 kbps, 22.05 kHz: 208 bytes.
        assert_eq!(parse(&[0xFF, 0xF3, 0x80, 0xC0]).unwrap().len, 208);
        assert!(parse(&[0xFF, 0xFB, 0xF0, 0x00]).is_none());
    }

    #[test]
    fn finds_frames_a_decoder_could_sync_on() {
        let h = [0xFF, 0xF3, 0x80, 0xC0];
        let mut two = h.to_vec();
        two.resize(208, 0x55);
        two.extend_from_slice(&h);
        two.resize(416, 0x55);
        let mut junk = vec![1u8; 50];
        junk.extend_from_slice(&two);
        junk.extend_from_slice(&[2; 50]);
        assert!(could_sync(&junk, None), "a chain of two frames");
        let one = [&[1u8; 50][..], &two[..208], &[2; 50]].concat();
        assert!(!could_sync(&one, None), "one frame followed by junk");
        let stream = parse(&h);
        assert!(
            could_sync(&one, stream.as_ref()),
            "one frame like the stream's"
        );
        // A UTF-16 byte order mark parses as an MPEG-1 layer I header: not like a layer III stream.
        assert!(!could_sync(b"\xFF\xFET\x00i\x00t\x00", stream.as_ref()));
    }
}
