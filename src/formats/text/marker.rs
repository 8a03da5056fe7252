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

use crate::label::is_provider_code;

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
    check_parts(kind, &[payload])
}

/// [`check`] of a payload given in consecutive parts.
fn check_parts(kind: u8, parts: &[&[u8]]) -> [u8; CHECK] {
    let mut h = crc32fast::Hasher::new();
    h.update(&[kind]);
    for p in parts {
        h.update(p);
    }
    h.finalize().to_be_bytes()
}

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
    let flags = *p.first()?;
    let label = match flags & 3 {
        0 => return None,
        l => char::from(b'0' + l).to_string(),
    };
    let (paragraph, mut rest) = split_paragraph(p)?;
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

/// The frame at the start of `b` when its check holds: kind, payload and length.
fn frame_at(b: &[u8]) -> Option<(u8, &[u8], usize)> {
    if !b.starts_with(&MAGIC) {
        return None;
    }
    let kind = *b.get(2)?;
    let len = usize::from(u16::from_be_bytes([*b.get(3)?, *b.get(4)?]));
    let end = HEADER.checked_add(len)?;
    let payload = b.get(HEADER..end)?;
    let sum = b.get(end..end.checked_add(CHECK)?)?;
    (sum == check(kind, payload)).then_some((kind, payload, end + CHECK))
}

fn read_frame(b: &[u8], cache: &mut Cache) -> Option<(Frame, usize)> {
    let (kind, payload, used) = frame_at(b)?;
    let f = match kind {
        KIND_FULL => Frame::Full(std::str::from_utf8(payload).ok()?.to_string()),
        KIND_COMPACT => Frame::Compact(parse_compact(payload, cache)?),
        _ => return None,
    };
    Some((f, used))
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
    walk_runs(
        text,
        &mut Visit(|start, end, sel: &[u8]| {
            runs.push(Run {
                start,
                end,
                decoded: decode_with(sel, &mut cache),
            })
        }),
    );
    runs
}

/// What the markers of a text say, gathered without keeping every run: the form a verifier
/// needs, cheap for texts with thousands of paragraphs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Marker runs found.
    pub runs: usize,
    /// Runs that start like a marker but could not all be read.
    pub damaged: usize,
    /// Full records (Annex E JSON with the seal), in order.
    pub full: Vec<String>,
    /// Compact records by (Label, producer, ProduceID), in that order, with the paragraph
    /// numbers that carry each.
    pub fragments: Vec<(Compact, Vec<u32>)>,
    /// Byte ranges of runs that are selectors only, in order (the digest need not read them).
    pub glued: Vec<std::ops::Range<usize>>,
}

/// Reads every marker of `text` into a [`Summary`].
pub fn summarize(text: &str) -> Summary {
    summarize_with(text, true)
}

/// [`summarize`], with or without the shortcut for repeated compact frames.
fn summarize_with(text: &str, shortcut: bool) -> Summary {
    let mut s = Summarizer {
        shortcut,
        ..Default::default()
    };
    walk_runs(text, &mut s);
    let mut sum = s.sum;
    sum.fragments.sort_by(|(a, _), (b, _)| {
        (&a.label, &a.producer, &a.produce_id).cmp(&(&b.label, &b.producer, &b.produce_id))
    });
    sum
}

/// A compact frame's body (after the paragraph number) as a text spells it. Every paragraph's
/// marker repeats it, so later ones are compared as UTF-8 bytes, and only their header,
/// paragraph number and check are decoded.
struct KnownBody {
    flags: u8,
    /// The selectors' UTF-8 bytes and the values they carry.
    raw: Vec<u8>,
    body: Vec<u8>,
    /// Index in `Summary::fragments`.
    fragment: usize,
}

/// How many distinct compact bodies the fast path remembers.
const KNOWN_BODIES: usize = 8;

#[derive(Default)]
struct Summarizer {
    /// Whether [`Runs::fast`] reads repeated compact frames by comparison.
    shortcut: bool,
    sum: Summary,
    cache: Cache,
    /// The compact payload after its paragraph number, for each fragment.
    keys: Vec<Vec<u8>>,
    known: Vec<KnownBody>,
    head: Vec<u8>,
}

impl Summarizer {
    /// Counts a compact payload's paragraph under its fragment; its index, or `None` when the
    /// payload does not parse.
    fn add_compact(&mut self, payload: &[u8]) -> Option<usize> {
        let (paragraph, rest) = split_paragraph(payload)?;
        let flags = payload[0];
        let f = match self
            .keys
            .iter()
            .position(|k| k[0] == flags && k[1..] == *rest)
        {
            Some(f) => f,
            None => {
                let mut c = parse_compact(payload, &mut self.cache)?;
                c.paragraph = 0;
                let mut key = vec![flags];
                key.extend_from_slice(rest);
                self.keys.push(key);
                self.sum.fragments.push((c, Vec::new()));
                self.sum.fragments.len() - 1
            }
        };
        self.sum.fragments[f].1.push(paragraph);
        Some(f)
    }
}

/// Reads `n` selectors glued together from `bytes[j..]` into `out`; where they end.
fn read_glued(bytes: &[u8], mut j: usize, n: usize, out: &mut Vec<u8>) -> Option<usize> {
    for _ in 0..n {
        let (v, len) = selector_at(bytes, j)?;
        out.push(v);
        j += len;
    }
    Some(j)
}

impl Runs for Summarizer {
    /// A whole compact frame at `i` with nothing glued to it, the marker of every paragraph.
    fn fast(&mut self, bytes: &[u8], i: usize) -> Option<usize> {
        if !self.shortcut {
            return None;
        }
        let mut head = std::mem::take(&mut self.head);
        head.clear();
        let end = self.glued_compact(bytes, i, &mut head);
        self.head = head;
        end
    }

    fn visit(&mut self, _: usize, _: usize, sel: &[u8]) {
        self.sum.runs += 1;
        let mut damaged = false;
        let mut i = 0;
        while i < sel.len() {
            let Some((kind, payload, used)) = frame_at(&sel[i..]) else {
                damaged = true;
                match sel[i + 1..].windows(2).position(|w| w == MAGIC) {
                    Some(p) => {
                        i += 1 + p;
                        continue;
                    }
                    None => break,
                }
            };
            i += used;
            match kind {
                KIND_FULL => match std::str::from_utf8(payload) {
                    Ok(json) => self.sum.full.push(json.to_string()),
                    Err(_) => damaged = true,
                },
                KIND_COMPACT => damaged |= self.add_compact(payload).is_none(),
                _ => damaged = true,
            }
        }
        if damaged {
            self.sum.damaged += 1;
        }
    }
}

impl Summarizer {
    fn glued_compact(&mut self, bytes: &[u8], i: usize, head: &mut Vec<u8>) -> Option<usize> {
        // Magic, kind, length, flags, then the paragraph number (LEB128, at most 5 bytes).
        let mut j = read_glued(bytes, i, HEADER + 1, head)?;
        if head[..2] != MAGIC || head[2] != KIND_COMPACT {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([head[3], head[4]]));
        let flags = head[HEADER];
        loop {
            j = read_glued(bytes, j, 1, head)?;
            if head.last().is_some_and(|&b| b & 0x80 == 0) {
                break;
            }
            if head.len() == HEADER + 6 {
                return None;
            }
        }
        let lead_end = head.len();
        let body_len = len.checked_sub(lead_end - HEADER)?;
        let found = self.known.iter().position(|k| {
            k.flags == flags && k.body.len() == body_len && bytes[j..].starts_with(&k.raw)
        });
        let mut learned = Vec::new();
        let body_end = match found {
            Some(k) => j + self.known[k].raw.len(),
            None => read_glued(bytes, j, body_len, &mut learned)?,
        };
        // The check follows the header in `head`.
        let end = read_glued(bytes, body_end, CHECK, head)?;
        // Alone in its run: another frame, or the text's own selectors, glued after it take
        // the general path.
        if selector_at(bytes, end).is_some() {
            return None;
        }
        let (lead, sum) = head[HEADER..].split_at(lead_end - HEADER);
        let body = found.map_or(&learned[..], |k| &self.known[k].body[..]);
        if check_parts(KIND_COMPACT, &[lead, body])[..] != *sum {
            return None;
        }
        match found {
            Some(k) => {
                let (paragraph, _) = split_paragraph(lead)?;
                let f = self.known[k].fragment;
                self.sum.fragments[f].1.push(paragraph);
            }
            None => {
                let mut payload = lead.to_vec();
                payload.extend_from_slice(&learned);
                let fragment = self.add_compact(&payload)?;
                if self.known.len() < KNOWN_BODIES {
                    self.known.push(KnownBody {
                        flags,
                        raw: bytes[j..body_end].to_vec(),
                        body: learned,
                        fragment,
                    });
                }
            }
        }
        self.sum.runs += 1;
        self.sum.glued.push(i..end);
        Some(end)
    }
}

/// What [`walk_runs`] tells about the runs it finds.
trait Runs {
    /// Reads the run at `i` (a selector) by a shortcut, if it can: where the run ends.
    fn fast(&mut self, _bytes: &[u8], _i: usize) -> Option<usize> {
        None
    }
    /// A run: its byte range and the values of its selectors.
    fn visit(&mut self, start: usize, end: usize, sel: &[u8]);
}

/// [`Runs`] from a closure.
struct Visit<F>(F);

impl<F: FnMut(usize, usize, &[u8])> Runs for Visit<F> {
    fn visit(&mut self, start: usize, end: usize, sel: &[u8]) {
        (self.0)(start, end, sel)
    }
}

/// The paragraph number of a compact payload and the bytes after it.
fn split_paragraph(p: &[u8]) -> Option<(u32, &[u8])> {
    let mut rest = p.get(1..)?;
    let mut paragraph = 0u32;
    for shift in (0..35).step_by(7) {
        let (&b, r) = rest.split_first()?;
        rest = r;
        paragraph |= u32::from(b & 0x7F).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some((paragraph, rest));
        }
    }
    None
}

/// Tells `runs` of every marker run in `text`: its byte range and selector values.
///
/// A run is read across whitespace only inside a frame (its header says how long it is): a
/// complete frame ends the run unless another frame follows right after it, so the text's own
/// whitespace and selectors after a marker are never taken into it.
fn walk_runs(text: &str, runs: &mut impl Runs) {
    let bytes = text.as_bytes();
    let mut sel: Vec<u8> = Vec::with_capacity(256);
    // Where stretches of selectors four bytes apart start (selector index, byte offset): the
    // offset of every selector follows from them. And the selectors whitespace came before.
    let mut stretches: Vec<(usize, usize)> = Vec::with_capacity(16);
    let mut gaps: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        // A frame starts with the magic, U+E0131 (F3 A0 84 B1): runs are looked for from F3,
        // which text other than markers hardly has (U+C0000 and above). Selectors of U+FE00–FE0F
        // before the magic are the text's own and not part of the run.
        let Some(p) = memchr::memchr(0xF3, &bytes[i..]) else {
            break;
        };
        i += p;
        if selector_at(bytes, i).is_none() {
            i += 1;
            continue;
        }
        if let Some(end) = runs.fast(bytes, i) {
            i = end;
            continue;
        }
        sel.clear();
        stretches.clear();
        gaps.clear();
        let mut j = i;
        let mut gap = false;
        while j < bytes.len() {
            if gap {
                gaps.push(sel.len());
                gap = false;
            }
            // The selectors of U+E0100–E01EF, most of every marker, decoded four or two at a
            // time.
            if two_selectors(bytes, j).is_some() {
                stretches.push((sel.len(), j));
                while let (Some(x), Some(y)) =
                    (two_selectors(bytes, j), two_selectors(bytes, j + 8))
                {
                    sel.extend_from_slice(&[
                        lane_value(x as u32),
                        lane_value((x >> 32) as u32),
                        lane_value(y as u32),
                        lane_value((y >> 32) as u32),
                    ]);
                    j += 16;
                }
                if let Some(x) = two_selectors(bytes, j) {
                    sel.extend_from_slice(&[lane_value(x as u32), lane_value((x >> 32) as u32)]);
                    j += 8;
                }
            }
            match selector_at(bytes, j) {
                Some((v, n)) => {
                    stretches.push((sel.len(), j));
                    sel.push(v);
                    j += n;
                }
                None if bytes
                    .get(j)
                    .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) =>
                {
                    gap = true;
                    j += 1;
                }
                None => break,
            }
        }
        // The byte offset of selector `n` and the end of selector `n`.
        let offset = |n: usize| {
            let (first, at) = stretches[stretches.partition_point(|&(k, _)| k <= n) - 1];
            at + 4 * (n - first)
        };
        let end_of = |n: usize| {
            let o = offset(n);
            o + selector_len(bytes[o])
        };
        let greedy_end = sel.len().checked_sub(1).map_or(j, end_of);
        // The magic may follow the text's own selectors (an emoji's U+FE0F, an IVS).
        let Some(k) = sel.windows(2).take(4).position(|w| w == MAGIC) else {
            i = greedy_end;
            continue;
        };
        let used = frames_len(&sel[k..], |n| gaps.binary_search(&(k + n)).is_ok());
        // The run ends with its last whole frame; what follows is read again. A damaged frame
        // takes the run as far as it goes.
        let (stop, end) = match used.checked_sub(1) {
            Some(u) => (k + used, end_of(k + u)),
            None => (sel.len(), greedy_end),
        };
        let start_at = offset(k);
        let start = if text[..start_at].ends_with('\u{FEFF}') {
            start_at - 3
        } else {
            start_at
        };
        runs.visit(start, end, &sel[k..stop]);
        i = end.max(i + 1);
    }
}

/// How many selectors the whole frames at the start of `sel` take: frames follow one another
/// with no whitespace between them (`gap_before(n)`: whitespace came before selector `n`). 0
/// when even the first frame is incomplete.
fn frames_len(sel: &[u8], gap_before: impl Fn(usize) -> bool) -> usize {
    let mut n = 0;
    while sel[n..].starts_with(&MAGIC) {
        let (Some(&hi), Some(&lo)) = (sel.get(n + 3), sel.get(n + 4)) else {
            break;
        };
        let total = HEADER + usize::from(u16::from_be_bytes([hi, lo])) + CHECK;
        if n + total > sel.len() {
            break;
        }
        n += total;
        // Another frame only when it starts right here, glued to this one.
        if n >= sel.len() || gap_before(n) {
            break;
        }
    }
    n
}

/// Eight bytes at `bytes[j..]` holding two selectors of U+E0100–E01EF (`F3 A0 84..87 80..BF`,
/// not past `F3 A0 87 AF`), as a little-endian word: markers are mostly these, and checking two
/// at once with masks is several times faster than decoding characters.
pub fn two_selectors(bytes: &[u8], j: usize) -> Option<u64> {
    const MASK: u64 = 0xC0FC_FFFF_C0FC_FFFF;
    const WANT: u64 = 0x8084_A0F3_8084_A0F3;
    let word: [u8; 8] = bytes.get(j..j.checked_add(8)?)?.try_into().ok()?;
    let x = u64::from_le_bytes(word);
    if x & MASK != WANT {
        return None;
    }
    // Past U+E01EF: third byte 87 (low bits 11) and fourth byte B0–BF (bits 4 and 5 set).
    let z = (x >> 16) & (x >> 28);
    (z & (z >> 1) & 0x0000_0001_0000_0001 == 0).then_some(x)
}

/// The byte carried by one selector lane of [`two_selectors`].
fn lane_value(lane: u32) -> u8 {
    let v = ((lane >> 10) & 0xC0) | ((lane >> 24) & 0x3F);
    // At most 0xEF by the check in `two_selectors`.
    u8::try_from(v + 16).unwrap_or(u8::MAX)
}

/// The UTF-8 length of the selector whose first byte is `b`.
fn selector_len(b: u8) -> usize {
    if b == 0xF3 { 4 } else { 3 }
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
    fn shortcut_reads_what_the_decoder_reads() {
        use crate::text::label_str;
        let signer = crate::Signer::from_seed(&[3; 32]);
        let text: String = (0..300)
            .map(|i| format!("Paragraph {i}: 段落，内容。\n\n"))
            .collect();
        let labeled = label_str(
            &text,
            &signer,
            &crate::LabelOptions::new("001191000000MA00DEMO0X10000"),
        )
        .unwrap();
        let other = label_str(
            "Another text.\n\nFrom elsewhere.",
            &signer,
            &crate::LabelOptions::new("OTHER-PRODUCER"),
        )
        .unwrap();
        let c = |paragraph| {
            encode(&Frame::Compact(Compact {
                label: "1".into(),
                producer: "P".into(),
                produce_id: "abcd".into(),
                paragraph,
            }))
            .unwrap()
        };
        let sel: Vec<(usize, char)> = labeled
            .char_indices()
            .filter(|&(_, ch)| is_selector(ch))
            .collect();
        // A selector is 3 (U+FE0x) or 4 (U+E01xx) bytes, depending on the random ProduceID.
        let (mid, mid_ch) = sel[sel.len() / 2];
        let mut damaged = labeled.clone();
        damaged.replace_range(mid..mid + mid_ch.len_utf8(), "\u{E0150}");
        let mut wrapped = labeled.clone();
        wrapped.insert(sel[60].0, '\n');
        let variants = [
            labeled.clone(),
            damaged,
            wrapped,
            format!("{labeled}\n\n{other}"),
            format!("{other}\n{labeled}"),
            format!("word{}{} next", c(1), c(2)),
            format!("word{}\u{FE0F} next{}", c(1), c(3)),
            format!("❤\u{FE0F}{} x", c(200)),
        ];
        for (n, v) in variants.iter().enumerate() {
            let mut fast = summarize_with(v, true);
            for r in std::mem::take(&mut fast.glued) {
                assert!(v[r].chars().all(is_selector), "variant {n}");
            }
            assert_eq!(fast, summarize_with(v, false), "variant {n}");
            assert!(fast.runs > 0, "variant {n}");
        }
        let plain = summarize(&variants[0]);
        assert_eq!(plain.fragments[0].1.len(), 300);
        assert_eq!(plain.glued.len(), 300);
        assert_eq!(summarize(&variants[1]).damaged, 1);
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
