//! The invisible marker codec: bytes as Unicode variation selectors, framed and checked.
//!
//! One selector per byte, as C2PA does for text (0–15 → U+FE00–FE0F, 16–255 → U+E0100–E01EF).
//! Variation selectors are the best carrier text offers: they are Default_Ignorable (no glyph, no
//! width), grapheme `Extend` (a run glued to a base character stays inside that character's
//! cluster, so cursor movement, selection and counting are unchanged), untouched by NFC and NFKC,
//! and not whitespace (so trimming and re-wrapping keep them). Two bytes per character would need
//! 65,536 such code points; there are 256, so one byte per selector is the ceiling.
//!
//! Every frame starts with the magic `AM` (both bytes ≥ 16, so the first selector after the base
//! is U+E0131). That matters: only the first selector after a base can form a variation sequence,
//! and U+E01xx sequences are registered only for CJK ideographs, which are never used as bases
//! (see `place`). The frame, written by hand because no crate does this:
//!
//! ```text
//! "AM" ‖ kind ('F' full record, 'C' compact record) ‖ length (u16 BE) ‖ payload ‖ check (4 bytes)
//! ```
//!
//! `check` is the CRC-32 of kind ‖ payload: it tells a damaged marker from a marker, not a
//! forgery from a label (the seal does that). A compact record carries what a
//! paragraph copied alone must still say: Label, ContentProducer, ProduceID and the paragraph's
//! ordinal, packed (a provider code in base 36, a hex ProduceID two digits to a byte): 47
//! selectors, about 190 bytes of UTF-8, for the usual 27-character code and 32-digit id.

const MAGIC: [u8; 2] = *b"AM";
const KIND_FULL: u8 = b'F';
const KIND_COMPACT: u8 = b'C';
const HEADER: usize = 5;
const CHECK: usize = 4;
/// The longest payload a frame holds.
pub const MAX_PAYLOAD: usize = u16::MAX as usize;

/// The selector that carries `byte`.
pub fn selector(byte: u8) -> char {
    let cp = if byte < 16 {
        0xFE00 + u32::from(byte)
    } else {
        0xE0100 + u32::from(byte - 16)
    };
    char::from_u32(cp).unwrap_or('\u{FE00}')
}

/// The byte a selector carries, if `c` is one.
pub fn selector_value(c: char) -> Option<u8> {
    match c as u32 {
        cp @ 0xFE00..=0xFE0F => u8::try_from(cp - 0xFE00).ok(),
        cp @ 0xE0100..=0xE01EF => u8::try_from(cp - 0xE0100 + 16).ok(),
        _ => None,
    }
}

/// True for a variation selector of either block.
pub fn is_selector(c: char) -> bool {
    selector_value(c).is_some()
}

/// A compact record: what every paragraph carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compact {
    /// Annex E `Label` ("1", "2" or "3").
    pub label: String,
    pub producer: String,
    pub produce_id: String,
    /// 1-based paragraph number in the labeled text.
    pub paragraph: u32,
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The full Annex E JSON with its seal.
    Full(String),
    Compact(Compact),
}

fn frame(kind: u8, payload: &[u8]) -> Option<Vec<u8>> {
    let len = u16::try_from(payload.len()).ok()?;
    let mut out = Vec::with_capacity(HEADER + payload.len() + CHECK);
    out.extend_from_slice(&MAGIC);
    out.push(kind);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&check(kind, payload));
    Some(out)
}

/// CRC-32 (IEEE) of kind ‖ payload: a damage check, cheap enough for thousands of markers.
fn check(kind: u8, payload: &[u8]) -> [u8; CHECK] {
    let mut crc = !0u32;
    for &b in std::iter::once(&kind).chain(payload) {
        crc = CRC_TABLE[usize::from((crc as u8) ^ b)] ^ (crc >> 8);
    }
    (!crc).to_be_bytes()
}

const CRC_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// Encodes a frame as selectors; `None` when the payload is too long for a frame.
pub fn encode(f: &Frame) -> Option<String> {
    let bytes = match f {
        Frame::Full(json) => frame(KIND_FULL, json.as_bytes())?,
        Frame::Compact(c) => frame(KIND_COMPACT, &compact_payload(c)?)?,
    };
    Some(bytes.into_iter().map(selector).collect())
}

fn is_packable_hex(s: &str) -> bool {
    !s.is_empty()
        && s.len().is_multiple_of(2)
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

const FLAG_HEX_ID: u8 = 1 << 2;
const FLAG_CODE: u8 = 1 << 3;
/// A provider code (27 of `0-9A-Z`) packed in base 36 fits 18 bytes (36^27 < 2^144).
const CODE_LEN: usize = 27;
const CODE_BYTES: usize = 18;

fn is_provider_code(s: &str) -> bool {
    s.len() == CODE_LEN
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

fn pack_code(s: &str) -> [u8; CODE_BYTES] {
    let mut n = [0u8; CODE_BYTES];
    for b in s.bytes() {
        let mut carry = u32::from(if b.is_ascii_digit() {
            b - b'0'
        } else {
            b - b'A' + 10
        });
        for limb in n.iter_mut().rev() {
            let x = u32::from(*limb) * 36 + carry;
            *limb = (x & 0xFF) as u8;
            carry = x >> 8;
        }
    }
    n
}

fn unpack_code(packed: &[u8]) -> Option<String> {
    let mut n: [u8; CODE_BYTES] = packed.try_into().ok()?;
    let mut digits = [0u8; CODE_LEN];
    for d in digits.iter_mut().rev() {
        let mut rem = 0u32;
        for limb in n.iter_mut() {
            let x = (rem << 8) | u32::from(*limb);
            *limb = (x / 36) as u8;
            rem = x % 36;
        }
        *d = if rem < 10 {
            b'0' + rem as u8
        } else {
            b'A' + (rem - 10) as u8
        };
    }
    if n.iter().any(|&b| b != 0) {
        return None;
    }
    String::from_utf8(digits.to_vec()).ok()
}

/// Compact payload: flags (bits 0–1 the Label 1–3, bit 2 hex ProduceID, bit 3 provider code),
/// paragraph (LEB128), producer (18 packed bytes, or length ‖ bytes), ProduceID (length ‖ bytes,
/// hex packed two digits to a byte).
fn compact_payload(c: &Compact) -> Option<Vec<u8>> {
    let mut p = Vec::with_capacity(48);
    let label = match c.label.as_str() {
        "1" => 1,
        "2" => 2,
        "3" => 3,
        _ => return None,
    };
    let hex = is_packable_hex(&c.produce_id);
    let code = is_provider_code(&c.producer);
    p.push(label | if hex { FLAG_HEX_ID } else { 0 } | if code { FLAG_CODE } else { 0 });
    let mut n = c.paragraph;
    loop {
        let byte = (n & 0x7F) as u8;
        n >>= 7;
        if n == 0 {
            p.push(byte);
            break;
        }
        p.push(byte | 0x80);
    }
    if code {
        // Every paragraph's marker packs the same code: remember the last one.
        thread_local! {
            static LAST: std::cell::RefCell<Option<(String, [u8; CODE_BYTES])>> =
                const { std::cell::RefCell::new(None) };
        }
        let packed = LAST.with(|last| {
            let mut last = last.borrow_mut();
            match &*last {
                Some((code, packed)) if *code == c.producer => *packed,
                _ => {
                    let packed = pack_code(&c.producer);
                    *last = Some((c.producer.clone(), packed));
                    packed
                }
            }
        });
        p.extend_from_slice(&packed);
    } else {
        p.push(u8::try_from(c.producer.len()).ok()?);
        p.extend_from_slice(c.producer.as_bytes());
    }
    if hex {
        let packed: Vec<u8> = c
            .produce_id
            .as_bytes()
            .chunks(2)
            .map(|pair| (hex_val(pair[0]) << 4) | hex_val(pair.get(1).copied().unwrap_or(b'0')))
            .collect();
        p.push(u8::try_from(packed.len()).ok()?);
        p.extend_from_slice(&packed);
    } else {
        p.push(u8::try_from(c.produce_id.len()).ok()?);
        p.extend_from_slice(c.produce_id.as_bytes());
    }
    Some(p)
}

fn hex_val(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => 0,
    }
}

fn parse_compact(p: &[u8], cache: &mut Cache) -> Option<Compact> {
    let (&flags, mut rest) = p.split_first()?;
    let label = match flags & 3 {
        0 => return None,
        l => char::from(b'0' + l).to_string(),
    };
    let mut paragraph = 0u32;
    for shift in (0..35).step_by(7) {
        let (&b, r) = rest.split_first()?;
        rest = r;
        paragraph |= u32::from(b & 0x7F).checked_shl(shift)?;
        if b & 0x80 == 0 {
            break;
        }
    }
    let producer = if flags & FLAG_CODE != 0 {
        let packed: [u8; CODE_BYTES] = rest.get(..CODE_BYTES)?.try_into().ok()?;
        rest = rest.get(CODE_BYTES..)?;
        match &cache.code {
            Some((p, code)) if *p == packed => code.clone(),
            _ => {
                let code = unpack_code(&packed)?;
                cache.code = Some((packed, code.clone()));
                code
            }
        }
    } else {
        let (&plen, r) = rest.split_first()?;
        let producer = std::str::from_utf8(r.get(..usize::from(plen))?)
            .ok()?
            .to_string();
        rest = r.get(usize::from(plen)..)?;
        producer
    };
    let (&ilen, rest) = rest.split_first()?;
    let id = rest.get(..usize::from(ilen))?;
    if rest.len() != usize::from(ilen) {
        return None;
    }
    let produce_id = if flags & FLAG_HEX_ID != 0 {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(id.len() * 2);
        for &b in id {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 15)]));
        }
        s
    } else {
        std::str::from_utf8(id).ok()?.to_string()
    };
    Some(Compact {
        label,
        producer,
        produce_id,
        paragraph,
    })
}

/// What one run of selectors held.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decoded {
    pub frames: Vec<Frame>,
    /// True when the run starts like a marker but some of it could not be read.
    pub damaged: bool,
}

/// True when a run of selector bytes is one of ours (it starts with the magic).
pub fn is_marker_run(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// The last provider code unpacked: every paragraph's marker repeats it.
#[derive(Default)]
struct Cache {
    code: Option<([u8; CODE_BYTES], String)>,
}

/// Decodes every frame in a run of selector bytes.
pub fn decode(bytes: &[u8]) -> Decoded {
    decode_with(bytes, &mut Cache::default())
}

fn decode_with(bytes: &[u8], cache: &mut Cache) -> Decoded {
    let mut out = Decoded::default();
    let mut i = 0;
    while i < bytes.len() {
        match read_frame(&bytes[i..], cache) {
            Some((f, used)) => {
                out.frames.push(f);
                i += used;
            }
            None => {
                out.damaged = true;
                // Resynchronise on the next magic.
                match bytes[i + 1..].windows(2).position(|w| w == MAGIC) {
                    Some(p) => i += 1 + p,
                    None => break,
                }
            }
        }
    }
    out
}

fn read_frame(b: &[u8], cache: &mut Cache) -> Option<(Frame, usize)> {
    if !b.starts_with(&MAGIC) {
        return None;
    }
    let kind = *b.get(2)?;
    let len = usize::from(u16::from_be_bytes([*b.get(3)?, *b.get(4)?]));
    let end = HEADER.checked_add(len)?;
    let payload = b.get(HEADER..end)?;
    let sum = b.get(end..end.checked_add(CHECK)?)?;
    if sum != check(kind, payload) {
        return None;
    }
    let f = match kind {
        KIND_FULL => Frame::Full(std::str::from_utf8(payload).ok()?.to_string()),
        KIND_COMPACT => Frame::Compact(parse_compact(payload, cache)?),
        _ => return None,
    };
    Some((f, end + CHECK))
}

/// A run of selectors that is one of ours, as found in a text.
#[derive(Debug, Clone)]
pub struct Run {
    /// Byte range in the text (a U+FEFF anchor right before the run included).
    pub start: usize,
    pub end: usize,
    pub decoded: Decoded,
}

/// Finds every marker run in `text`, in order. A run may be cut by whitespace (a tool that wraps
/// lines by counting code points puts line breaks anywhere): it is read across the cut.
pub fn find_runs(text: &str) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut cache = Cache::default();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Selectors are U+FE00–FE0F (EF B8 80–8F) and U+E0100–E01EF (F3 A0 84 80 – F3 A0 87 AF).
        // Skip 16 bytes at a time while none can start a selector (a vectorisable test).
        while let Some(chunk) = bytes.get(i..i + 16) {
            if chunk.iter().fold(false, |any, &b| any | (b >= 0xEF)) {
                break;
            }
            i += 16;
        }
        let Some(&b) = bytes.get(i) else { break };
        if b != 0xEF && b != 0xF3 {
            i += 1;
            continue;
        }
        let mut sel = Vec::with_capacity(64);
        // Byte offset of each selector, to start the run at the magic when the text's own
        // selector (an emoji's U+FE0F, an IVS) comes first.
        let mut offsets = Vec::new();
        let mut end = i;
        let mut j = i;
        while j < bytes.len() {
            match selector_at(bytes, j) {
                Some((v, n)) => {
                    if offsets.len() < 5 {
                        offsets.push(j);
                    }
                    sel.push(v);
                    j += n;
                    end = j;
                }
                // A line breaker that counts code points may cut a run: read across the cut.
                None if !sel.is_empty() && matches!(bytes[j], b' ' | b'\t' | b'\r' | b'\n') => {
                    j += 1
                }
                None => break,
            }
        }
        if sel.is_empty() {
            i += 1;
            continue;
        }
        if let Some(k) = sel.windows(2).take(4).position(|w| w == MAGIC) {
            let at = offsets.get(k).copied().unwrap_or(i);
            let start = if text[..at].ends_with('\u{FEFF}') {
                at - 3
            } else {
                at
            };
            runs.push(Run {
                start,
                end,
                decoded: decode_with(&sel[k..], &mut cache),
            });
        }
        i = end;
    }
    runs
}

/// The selector encoded at `bytes[j..]`: its value and length, read from the UTF-8 bytes
/// (U+FE00–FE0F are EF B8 80–8F, U+E0100–E01EF are F3 A0 84 80 – F3 A0 87 AF).
fn selector_at(bytes: &[u8], j: usize) -> Option<(u8, usize)> {
    match bytes.get(j..j + 3)? {
        [0xEF, 0xB8, b @ 0x80..=0x8F] => Some((b - 0x80, 3)),
        [0xF3, 0xA0, b @ 0x84..=0x87] => {
            let last = *bytes.get(j + 3)?;
            let cp = (u32::from(b & 0x3F) << 6) | u32::from(last & 0x3F);
            u8::try_from(cp.checked_sub(0x100)? + 16)
                .ok()
                .map(|v| (v, 4))
        }
        _ => None,
    }
}

/// `text` without its marker runs.
pub fn strip(text: &str) -> String {
    let runs = find_runs(text);
    if runs.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for r in runs {
        out.push_str(&text[last..r.start]);
        last = r.end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let c = Compact {
            label: "1".into(),
            producer: "001191000000MA00DEMO0X10000".into(),
            produce_id: "0123456789abcdef0123456789abcdef".into(),
            paragraph: 7,
        };
        for f in [Frame::Full("{\"Label\":\"1\"}".into()), Frame::Compact(c)] {
            let s = encode(&f).unwrap();
            assert!(s.starts_with('\u{E0131}'));
            let bytes: Vec<u8> = s.chars().map(|c| selector_value(c).unwrap()).collect();
            assert_eq!(decode(&bytes).frames, vec![f]);
        }
    }

    #[test]
    fn damage_is_reported() {
        let s = encode(&Frame::Full("{}".into())).unwrap();
        let mut bytes: Vec<u8> = s.chars().map(|c| selector_value(c).unwrap()).collect();
        let n = bytes.len();
        bytes[n - 1] ^= 1;
        let d = decode(&bytes);
        assert!(d.frames.is_empty() && d.damaged);
    }
}
