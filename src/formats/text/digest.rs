//! The content digest of text as a person reads it, computed incrementally in one pass.
//!
//! What goes in, in order:
//! 1. every variation selector and U+FEFF is dropped: the markers are made of them, and a
//!    selector picks a glyph variant, it does not change a word;
//! 2. whitespace runs become one space, except next to a character of a script written without
//!    spaces (Han, kana, CJK punctuation) or an emoji, where they vanish — the CSS Text rule for
//!    segment breaks, so re-wrapping Chinese never changes the digest; leading and trailing
//!    whitespace is dropped;
//! 3. width folding ([`width_fold`]): a character whose Unicode compatibility mapping is tagged
//!    `<wide>` or `<narrow>` becomes that mapping — full-width ASCII `ＡＢＣ１２３，` is `ABC123,`,
//!    half-width katakana `ｶﾞ` is `ガ`, half-width Hangul, `￥` `￡` and the ideographic space;
//! 4. NFC, so composed and decomposed accents (NFC/NFD) read the same, and so do the canonical
//!    singletons (CJK compatibility ideographs, the Kelvin and Ångström signs).
//!
//! Not NFKC: its other compatibility mappings fold characters whose meaning differs, so they
//! stay distinct here, case by case:
//!
//! | kept distinct | why |
//! |---|---|
//! | superscripts, subscripts (`10²` / `102`, `2⁵` / `25`, `H₂O`) | exponents and indices are numbers of their own |
//! | circled and parenthesised forms (`①` / `1`, `⑴`, `㈱`) | list enumerators and abbreviations, not digits |
//! | vulgar fractions (`½` / `1/2`: NFKC gives `1⁄2` anyway) | a quantity, written otherwise |
//! | mathematical alphanumerics, font variants (`𝐀`, `ℌ`) | distinct symbols in mathematics |
//! | squared and compat forms (`㎏`, `Ⅳ`, `µ`, `ſ`, `™`) | units, numerals and signs a reader may tell apart |
//! | ligatures (`ﬁ` / `fi`) | rare in generated text; a tool that unfolds them did change it |
//! | Arabic presentation forms, vertical and small forms | legacy glyph codes: a change of code is reported |
//!
//! Width is only presentation (the same letter in a CJK cell), which is why it alone is folded.
//! A tool that applies NFKC to a text holding any of the kept forms changes its digest: the text
//! then reads differently, and saying so is better than a false "intact".
//!
//! [`reference_form`] is this definition written the obvious way; [`Digester`] computes the same
//! in one pass.
//!
//! Changing a word changes the digest; re-flowing paragraphs, CRLF/LF, trimming do not.
//!
//! Speed: NFC through `unicode-normalization` costs far more than hashing, so text is cut into
//! segments at characters whose form is known here (`fast_form`: every BMP character with
//! canonical class 0 that the NFC quick check passes and width folding leaves alone, looked up
//! in a two-bit table built once from the crate; width forms, mapped; emoji and CJK above the
//! BMP), which never interact with what precedes them. Such characters are mapped on the fly,
//! runs of them are copied as slices (ASCII eight bytes at a time, two- and three-byte
//! characters classed from their bytes), marks that never compose (Hebrew points, Arabic
//! harakat, virama, Thai marks) pass when they are in canonical order, and marker runs are
//! skipped eight bytes at a time, or jumped over when the caller has read them already. A
//! segment holding any other character is rolled back and normalised by the crate. Written by
//! hand because the crate has no segment-wise incremental normaliser; `reference_form` is the
//! definition the tests hold it to.

use unicode_normalization::UnicodeNormalization;

use crate::binding::ContentHasher;

use super::marker::{is_selector, two_selectors};

/// True for characters that are dropped before normalisation.
pub fn is_ignored(c: char) -> bool {
    c == '\u{FEFF}' || is_selector(c)
}

/// The `<narrow>` mappings of U+FF61–FF9F: half-width CJK punctuation and katakana (the
/// last two are the voiced sound marks, which combine with the kana before them).
const HALF_WIDTH_KANA: [u16; 63] = [
    0x3002, 0x300C, 0x300D, 0x3001, 0x30FB, 0x30F2, 0x30A1, 0x30A3, 0x30A5, 0x30A7, 0x30A9, 0x30E3,
    0x30E5, 0x30E7, 0x30C3, 0x30FC, 0x30A2, 0x30A4, 0x30A6, 0x30A8, 0x30AA, 0x30AB, 0x30AD, 0x30AF,
    0x30B1, 0x30B3, 0x30B5, 0x30B7, 0x30B9, 0x30BB, 0x30BD, 0x30BF, 0x30C1, 0x30C4, 0x30C6, 0x30C8,
    0x30CA, 0x30CB, 0x30CC, 0x30CD, 0x30CE, 0x30CF, 0x30D2, 0x30D5, 0x30D8, 0x30DB, 0x30DE, 0x30DF,
    0x30E0, 0x30E1, 0x30E2, 0x30E4, 0x30E6, 0x30E8, 0x30E9, 0x30EA, 0x30EB, 0x30EC, 0x30ED, 0x30EF,
    0x30F3, 0x3099, 0x309A,
];

/// The character `c` is when its width is set aside: Unicode's `<wide>` and `<narrow>`
/// compatibility mappings, one level (U+3000 and U+FF01–FFEE); every other character is itself.
pub fn width_fold(c: char) -> char {
    let cp = c as u32;
    if cp < 0x3000 {
        return c;
    }
    let m = match cp {
        0x3000 => 0x20,
        0xFF01..=0xFF5E => cp - 0xFEE0,
        0xFF5F => 0x2985,
        0xFF60 => 0x2986,
        0xFF61..=0xFF9F => u32::from(HALF_WIDTH_KANA[(cp - 0xFF61) as usize]),
        // Half-width Hangul: the compatibility jamo.
        0xFFA0 => 0x3164,
        0xFFA1..=0xFFBE => cp - 0xCE70,
        0xFFC2..=0xFFC7 => cp - 0xCE73,
        0xFFCA..=0xFFCF => cp - 0xCE75,
        0xFFD2..=0xFFD7 => cp - 0xCE77,
        0xFFDA..=0xFFDC => cp - 0xCE79,
        0xFFE0 => 0xA2,
        0xFFE1 => 0xA3,
        0xFFE2 => 0xAC,
        0xFFE3 => 0xAF,
        0xFFE4 => 0xA6,
        0xFFE5 => 0xA5,
        0xFFE6 => 0x20A9,
        0xFFE8 => 0x2502,
        0xFFE9..=0xFFEC => cp - 0xFFE9 + 0x2190,
        0xFFED => 0x25A0,
        0xFFEE => 0x25CB,
        _ => return c,
    };
    char::from_u32(m).unwrap_or(c)
}

/// The form of `s` the digest compares, without the whitespace folding: width folded, NFC.
pub fn fold_chars(s: &str) -> String {
    s.chars().map(width_fold).nfc().collect()
}

/// True for a character of a script written without spaces between words, or an emoji.
///
/// The class is the same before and after NFKC (so NFKC cannot change how whitespace folds):
/// full-width forms of ASCII are left out, as they normalise to ASCII.
pub fn is_spaceless(c: char) -> bool {
    matches!(c as u32,
        0x2600..=0x27BF      // symbols and dingbats used as emoji
        | 0x2E80..=0x2FDF    // CJK radicals
        | 0x3000..=0x303F    // CJK symbols and punctuation
        | 0x3040..=0x30FF    // kana
        | 0x3100..=0x312F    // bopomofo
        | 0x31F0..=0x31FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF
        | 0xFF61..=0xFF9F    // half-width kana
        | 0x1F1E6..=0x1F1FF  // regional indicators (flags)
        | 0x1F300..=0x1F64F
        | 0x1F680..=0x1F6FF
        | 0x1F900..=0x1FAFF
        | 0x20000..=0x3FFFF)
}

/// The form of `c` (width folded, NFC) when it is known without the normaliser: `c` has
/// canonical class 0 and its form never composes with what precedes it, so a segment may start
/// at `c`. In the BMP that is every character the NFC quick check passes ([`bmp_table`]), plus
/// the width forms, mapped here (not the half-width voiced sound marks, which combine); above
/// it, emoji and CJK ideographs. `None` sends the segment `c` is in to the slow path.
fn fast_form(c: char) -> Option<char> {
    let cp = c as u32;
    if cp < 0x80 {
        return Some(c);
    }
    if cp < 0x1_0000 {
        if bmp_class(cp) != SLOW {
            return Some(c);
        }
        let m = width_fold(c);
        return (m != c && is_stable(c)).then_some(m);
    }
    match cp {
        0x1F1E6..=0x1F1FF | 0x1F300..=0x1F64F | 0x1F680..=0x1F6FF | 0x1F900..=0x1FAFF => Some(c),
        0x20000..=0x2A6DF | 0x2A700..=0x2EBEF | 0x30000..=0x3134F => Some(c),
        _ => None,
    }
}

/// [`bmp_table`] classes: not its own form (or whitespace, or ignored), its own form in a spaced
/// script, its own form in a script without spaces.
const SLOW: u8 = 0;
const SPACED: u8 = 1;
const SPACELESS: u8 = 2;

/// For U+0000–FFFF, two bits each (16 KiB, built once): whether the character is its own form
/// (width folding leaves it, NFC quick check Yes) and starts a segment ([`is_stable`]), is not
/// whitespace nor ignored, and if so whether its script is written without spaces.
fn bmp_table() -> &'static [u8; 0x4000] {
    static TABLE: std::sync::OnceLock<[u8; 0x4000]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [0u8; 0x4000];
        for cp in 0..0x1_0000u32 {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            if c.is_whitespace() || is_ignored(c) || width_fold(c) != c || !is_stable(c) {
                continue;
            }
            let class = if is_spaceless(c) { SPACELESS } else { SPACED };
            t[(cp >> 2) as usize] |= class << ((cp & 3) * 2);
        }
        t
    })
}

/// The [`bmp_table`] class of a BMP code point.
fn bmp_class(cp: u32) -> u8 {
    let cp = cp as usize & 0xFFFF;
    (bmp_table()[cp >> 2] >> ((cp & 3) * 2)) & 3
}

/// The canonical class of a combining mark that NFC leaves as it is and never composes with
/// what precedes it (Hebrew points, Arabic harakat, Devanagari virama, Thai vowel and tone marks,
/// Cyrillic titlos): such a mark only needs to be in canonical order, no class below the one
/// before it. Other marks (Latin diacritics, the nukta, hamza above) go to the normaliser.
fn mark_class(c: char) -> Option<u8> {
    let known = matches!(c as u32,
        0x483..=0x487
        | 0x591..=0x5BD | 0x5BF | 0x5C1 | 0x5C2 | 0x5C4 | 0x5C5 | 0x5C7
        | 0x610..=0x61A | 0x64B..=0x652 | 0x656..=0x65F | 0x670
        | 0x6D6..=0x6DC | 0x6DF..=0x6E4 | 0x6E7 | 0x6E8 | 0x6EA..=0x6ED
        | 0x94D | 0x951..=0x954
        | 0xE38..=0xE3A | 0xE48..=0xE4B);
    known.then(|| unicode_normalization::char::canonical_combining_class(c))
}

/// [`two_byte_table`]: a character the fast path does not take.
const NOT_FAST: u8 = u8::MAX;

/// For U+0000–07FF: 0 for a letter that is its own form and not whitespace, the class of a mark
/// [`mark_class`] takes, else [`NOT_FAST`]. Built once from those two functions.
fn two_byte_table() -> &'static [u8; 0x800] {
    static TABLE: std::sync::OnceLock<[u8; 0x800]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [NOT_FAST; 0x800];
        for (cp, v) in t.iter_mut().enumerate() {
            let Some(c) = char::from_u32(cp as u32) else {
                continue;
            };
            if !c.is_whitespace() && fast_form(c) == Some(c) && !is_spaceless(c) {
                *v = 0;
            } else if let Some(k) = mark_class(c).filter(|&k| k > 0 && k != NOT_FAST) {
                *v = k;
            }
        }
        t
    })
}

/// The [`bmp_table`] class of the three-byte character at `bytes[j..]` (lead byte E0–EF), or
/// `None` when it is cut short.
fn three_byte_class(bytes: &[u8], j: usize) -> Option<u8> {
    let &[a, b, c] = bytes.get(j..j.checked_add(3)?)? else {
        return None;
    };
    let cp = (u32::from(a & 0x0F) << 12) | (u32::from(b & 0x3F) << 6) | u32::from(c & 0x3F);
    Some(bmp_class(cp))
}

/// The ASCII form of the full-width character at `bytes[j..]` (U+FF01–FF5E, `EF BC 81` –
/// `EF BD 9E`), which width folding maps to U+0021–007E.
fn full_width_ascii(bytes: &[u8], j: usize) -> Option<u8> {
    match bytes.get(j..j.checked_add(3)?)? {
        [0xEF, 0xBC, c @ 0x81..=0xBF] => Some(c - 0x60),
        [0xEF, 0xBD, c @ 0x80..=0x9E] => Some(c - 0x20),
        _ => None,
    }
}

/// Canonical class 0 and NFC quick check Yes, for the character and its width-folded form:
/// nothing before it composes or reorders with it.
fn is_stable(c: char) -> bool {
    let starter = |c: char| {
        unicode_normalization::char::canonical_combining_class(c) == 0
            && unicode_normalization::is_nfc_quick(std::iter::once(c))
                == unicode_normalization::IsNormalized::Yes
    };
    starter(c) && starter(width_fold(c))
}

/// Whitespace folding and the output buffer (state is `Copy` so a segment can be rolled back).
#[derive(Clone, Copy)]
struct Fold {
    pending_space: bool,
    /// Whether the last character written came from a script without spaces; `None` before the
    /// first. Taken from the source character: full-width `：` reads as `:` but is still CJK.
    prev_spaceless: Option<bool>,
}

/// The open segment: where it starts in the text and in the output, the fold state before it,
/// and whether it holds a character only the crate can normalise.
#[derive(Clone, Copy)]
struct Segment {
    start: usize,
    out: usize,
    fold: Fold,
    slow: bool,
}

/// The length of the ignored character at `bytes[i..]` (a variation selector or U+FEFF), read
/// from its UTF-8 bytes without decoding.
fn ignored_len(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i..i + 3)? {
        [0xEF, 0xB8, 0x80..=0x8F] | [0xEF, 0xBB, 0xBF] => Some(3),
        // U+E0100–E01EF: F3 A0 84 80 – F3 A0 87 AF.
        [0xF3, 0xA0, 0x84..=0x86] => bytes.get(i + 3).map(|_| 4),
        [0xF3, 0xA0, 0x87] => bytes.get(i + 3).filter(|&&b| b <= 0xAF).map(|_| 4),
        _ => None,
    }
}

/// The end of the ASCII words starting at `bytes[j]` (a printable character other than space):
/// printable characters and single spaces between them, which fold to themselves. Checks eight
/// bytes at a time; most English text goes through here.
fn ascii_words_end(bytes: &[u8], j: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut k = j;
    // Whether the byte before `k` is a space.
    let mut after_space = false;
    while let Some(chunk) = bytes.get(k..k + 8) {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let x = u64::from_le_bytes(word);
        // Any byte below 0x20, or above 0x7E.
        let below = x.wrapping_sub(0x20 * ONES) & !x & HIGH;
        let above = (x.wrapping_add(ONES) | x) & HIGH;
        // The spaces, exactly (no carry crosses a byte): two in a row need folding.
        let y = x ^ (0x20 * ONES);
        let spaces = !(((y & !HIGH) + !HIGH) | y) & HIGH;
        let double = spaces & (spaces >> 8) != 0 || (after_space && spaces & 0x80 != 0);
        if below | above != 0 || double {
            break;
        }
        after_space = spaces >> 63 != 0;
        k += 8;
    }
    while let Some(&b) = bytes.get(k) {
        if !(0x20..0x7F).contains(&b) || (b == b' ' && bytes[k - 1] == b' ') {
            break;
        }
        k += 1;
    }
    // Not a space at the end: it folds with what follows.
    while k > j + 1 && bytes[k - 1] == b' ' {
        k -= 1;
    }
    k
}

/// Skips the run of ignored characters at `bytes[j..]`: a marker is hundreds of selectors of
/// U+E0100–E01EF, checked here eight bytes at a time.
fn skip_selectors(bytes: &[u8], mut j: usize) -> usize {
    loop {
        while two_selectors(bytes, j).is_some() {
            j += 8;
        }
        match ignored_len(bytes, j) {
            Some(n) => j += n,
            None => return j,
        }
    }
}

/// Computes the digest of text fed in pieces.
pub struct Digester {
    hasher: ContentHasher,
    out: Vec<u8>,
    fold: Fold,
    /// Text not yet processed (the last, possibly incomplete, segment).
    carry: String,
    scratch: String,
    /// Canonical class of the last character written by the fast path.
    last_class: u8,
    /// Byte ranges of the text that are runs of ignored characters, known beforehand (the
    /// markers [`super::marker::summarize`] read), in order, and the next one to look at.
    skips: Vec<std::ops::Range<usize>>,
    next_skip: usize,
}

impl Default for Digester {
    fn default() -> Self {
        Self::new()
    }
}

impl Digester {
    pub fn new() -> Self {
        Digester {
            hasher: ContentHasher::new(),
            out: Vec::with_capacity(1 << 16),
            fold: Fold {
                pending_space: false,
                prev_spaceless: None,
            },
            carry: String::new(),
            scratch: String::new(),
            last_class: 0,
            skips: Vec::new(),
            next_skip: 0,
        }
    }

    /// Skips the ignored characters from `bytes[j..]` (the first `n` bytes long): a known run
    /// starting here is jumped over, anything else is checked.
    fn skip_from(&mut self, bytes: &[u8], j: usize, n: usize) -> usize {
        while let Some(r) = self.skips.get(self.next_skip) {
            if r.start > j {
                break;
            }
            self.next_skip += 1;
            if r.start == j && r.end <= bytes.len() {
                return skip_selectors(bytes, r.end);
            }
        }
        skip_selectors(bytes, j + n)
    }

    /// Adds text; pieces may split anywhere between characters.
    pub fn update(&mut self, text: &str) {
        if self.carry.is_empty() {
            let used = self.process(text, false);
            self.carry.push_str(&text[used..]);
        } else {
            let mut carry = std::mem::take(&mut self.carry);
            carry.push_str(text);
            let used = self.process(&carry, false);
            carry.drain(..used);
            self.carry = carry;
        }
    }

    /// The digest of everything fed.
    pub fn finish(mut self) -> [u8; 32] {
        let carry = std::mem::take(&mut self.carry);
        self.process(&carry, true);
        self.hasher.update(&self.out);
        self.hasher.finish()
    }

    fn emit(out: &mut Vec<u8>, fold: &mut Fold, c: char, spaceless: bool) {
        if c.is_whitespace() {
            fold.pending_space = fold.prev_spaceless.is_some();
            return;
        }
        if fold.pending_space {
            fold.pending_space = false;
            if fold.prev_spaceless == Some(false) && !spaceless {
                out.push(b' ');
            }
        }
        fold.prev_spaceless = Some(spaceless);
        if c.is_ascii() {
            out.push(c as u8);
        } else {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }

    /// Processes whole segments of `text`; returns how many bytes were consumed. With `last`, the
    /// final segment is processed too.
    fn process(&mut self, text: &str, last: bool) -> usize {
        let bytes = text.as_bytes();
        let mut seg = Segment {
            start: 0,
            out: self.out.len(),
            fold: self.fold,
            slow: false,
        };
        let mut i = 0usize;
        while i < bytes.len() {
            // Selectors and U+FEFF, the bulk of every marker: skipped without decoding.
            if let Some(n) = ignored_len(bytes, i) {
                i = self.skip_from(bytes, i, n);
                continue;
            }
            let b = bytes[i];
            let (c, n) = if b < 0x80 {
                (char::from(b), 1)
            } else {
                match text.get(i..).and_then(|s| s.chars().next()) {
                    Some(c) => (c, c.len_utf8()),
                    None => {
                        i += 1;
                        continue;
                    }
                }
            };
            match fast_form(c) {
                // Whitespace stays in the segment: folding may drop it, and what follows may
                // then combine with what preceded it.
                Some(m) if m.is_whitespace() => {
                    if !seg.slow {
                        Self::emit(&mut self.out, &mut self.fold, m, false);
                        self.last_class = 0;
                    }
                }
                // A character with a known form never interacts with what precedes it: a new
                // segment starts here.
                Some(m) => {
                    if seg.slow {
                        self.slow(text, seg.start, i, seg.out, seg.fold);
                    }
                    if self.out.len() > (1 << 15) {
                        self.hasher.update(&self.out);
                        self.out.clear();
                    }
                    seg = Segment {
                        start: i,
                        out: self.out.len(),
                        fold: self.fold,
                        slow: false,
                    };
                    let spaceless = is_spaceless(c);
                    Self::emit(&mut self.out, &mut self.fold, m, spaceless);
                    self.last_class = 0;
                    i += n;
                    if m == c {
                        let (end, moved) = self.copy_run(text, i, spaceless);
                        if let Some(s) = moved {
                            seg = s;
                        }
                        i = end;
                    }
                    continue;
                }
                None if !seg.slow && mark_class(c).is_some_and(|k| k >= self.last_class) => {
                    Self::emit(&mut self.out, &mut self.fold, c, false);
                    self.last_class = mark_class(c).unwrap_or(0);
                }
                None => {
                    // Long runs of other scripts: cut at a character that is
                    // stable under the normalisation so a streamed segment stays short.
                    if seg.slow && i - seg.start > 1024 && is_stable(c) {
                        self.slow(text, seg.start, i, seg.out, seg.fold);
                        seg = Segment {
                            start: i,
                            out: self.out.len(),
                            fold: self.fold,
                            slow: true,
                        };
                    }
                    seg.slow = true;
                }
            }
            i += n;
        }
        if last {
            if seg.slow {
                self.slow(text, seg.start, bytes.len(), seg.out, seg.fold);
            }
            bytes.len()
        } else {
            // The last segment may continue in the next piece: undo it and keep it.
            self.out.truncate(seg.out);
            self.fold = seg.fold;
            self.last_class = 0;
            seg.start
        }
    }

    /// Copies the characters from `j` on that are their own form, folding the whitespace
    /// between them, right after one such character of class `prev_spaceless`; stops before
    /// anything else. Returns where it stopped and, when it copied a character, the segment that
    /// starts at the last one (a combining mark after it would belong to it).
    ///
    /// This is the hot loop: ASCII words, CJK ideographs and marker selectors are recognised
    /// from their bytes, and bytes that pass unchanged are copied in slices.
    fn copy_run(
        &mut self,
        text: &str,
        mut j: usize,
        mut prev_spaceless: bool,
    ) -> (usize, Option<Segment>) {
        let bytes = text.as_bytes();
        let first = j;
        let is_space = |b: u8| matches!(b, b'\t'..=b'\r' | b' ');
        // `bytes[from..j]` pass unchanged and are not written yet.
        let mut from = j;
        // The last character copied: its start, its place in `out`, the class before it.
        let mut last: Option<(usize, usize, bool)> = None;
        while let Some(&b) = bytes.get(j) {
            if (0x21..0x7F).contains(&b) {
                let s = j;
                j = ascii_words_end(bytes, j);
                let before = if j - s > 1 { false } else { prev_spaceless };
                last = Some((j - 1, self.out.len() + (j - 1 - from), before));
                prev_spaceless = false;
                continue;
            }
            if is_space(b) {
                let mut end = j + 1;
                while bytes.get(end).is_some_and(|&b| is_space(b)) {
                    end += 1;
                }
                if !prev_spaceless {
                    // One space before a character of a spaced script, none before a
                    // spaceless one; anything else is left to the caller.
                    let next = match bytes.get(end) {
                        Some(&n) if (0x21..0x7F).contains(&n) => Some(false),
                        Some(&n) if n >= 0x80 && ignored_len(bytes, end).is_none() => text
                            .get(end..)
                            .and_then(|t| t.chars().next())
                            .filter(|&d| !d.is_whitespace() && fast_form(d) == Some(d))
                            .map(is_spaceless),
                        _ => None,
                    };
                    match next {
                        None => break,
                        Some(false) if end == j + 1 && b == b' ' => {
                            j = end;
                            continue;
                        }
                        Some(spaceless) => {
                            self.out.extend_from_slice(&bytes[from..j]);
                            if !spaceless {
                                self.out.push(b' ');
                            }
                        }
                    }
                } else {
                    // Whitespace after a character of a spaceless script is dropped.
                    self.out.extend_from_slice(&bytes[from..j]);
                }
                j = end;
                from = j;
                continue;
            }
            if b < 0x80 {
                break;
            }
            if let Some(n) = ignored_len(bytes, j) {
                self.out.extend_from_slice(&bytes[from..j]);
                j = self.skip_from(bytes, j, n);
                from = j;
                continue;
            }
            // Two-byte characters (Latin-1 to Thaana) by table, as many in a row as there are:
            // letters of their own form go on; marks in canonical order go on without starting
            // a segment.
            if (0xC2..=0xDF).contains(&b) {
                let table = two_byte_table();
                let (mut k, mut class) = (j, self.last_class);
                let mut letter = None;
                while let [lead @ 0xC2..=0xDF, b2, ..] = bytes[k..] {
                    let cp = (usize::from(lead & 0x1F) << 6) | usize::from(b2 & 0x3F);
                    match table[cp] {
                        0 => {
                            letter = Some((k, prev_spaceless));
                            class = 0;
                        }
                        NOT_FAST => break,
                        m if m >= class => class = m,
                        _ => break,
                    }
                    prev_spaceless = false;
                    k += 2;
                }
                if let Some((at, before)) = letter {
                    last = Some((at, self.out.len() + (at - from), before));
                }
                self.last_class = class;
                if k == j {
                    break;
                }
                j = k;
                continue;
            }
            // Three-byte characters (CJK, kana, Hangul, punctuation) by table, as many in a row
            // as there are; only the last one's place and the class before it are kept.
            let (n, spaceless) = if (0xE0..=0xEF).contains(&b) {
                let (mut k, mut before, mut cur) = (j, prev_spaceless, prev_spaceless);
                while bytes.get(k).is_some_and(|b| (0xE0..=0xEF).contains(b)) {
                    let spaceless = match three_byte_class(bytes, k) {
                        Some(SPACED) => false,
                        Some(SPACELESS) => true,
                        _ => break,
                    };
                    (before, cur) = (cur, spaceless);
                    k += 3;
                }
                if k > j {
                    last = Some((k - 3, self.out.len() + (k - 3 - from), before));
                    prev_spaceless = cur;
                    self.last_class = 0;
                    j = k;
                    continue;
                }
                match full_width_ascii(bytes, j) {
                    Some(a) => {
                        self.out.extend_from_slice(&bytes[from..j]);
                        last = Some((j, self.out.len(), prev_spaceless));
                        self.out.push(a);
                        prev_spaceless = false;
                        self.last_class = 0;
                        j += 3;
                        from = j;
                        continue;
                    }
                    None => break,
                }
            } else {
                match text.get(j..).and_then(|t| t.chars().next()) {
                    Some(d) if !d.is_whitespace() && fast_form(d) == Some(d) => {
                        (d.len_utf8(), is_spaceless(d))
                    }
                    _ => break,
                }
            };
            last = Some((j, self.out.len() + (j - from), prev_spaceless));
            prev_spaceless = spaceless;
            self.last_class = 0;
            j += n;
        }
        self.out.extend_from_slice(&bytes[from..j]);
        if j > first {
            self.fold = Fold {
                pending_space: false,
                prev_spaceless: Some(prev_spaceless),
            };
        }
        let moved = last.map(|(start, out, before)| Segment {
            start,
            out,
            fold: Fold {
                pending_space: false,
                prev_spaceless: Some(before),
            },
            slow: false,
        });
        (j, moved)
    }

    /// Rolls back to the segment's start and normalises it with the crate.
    fn slow(&mut self, text: &str, start: usize, end: usize, out_len: usize, fold: Fold) {
        self.out.truncate(out_len);
        self.fold = fold;
        let Some(seg) = text.get(start..end) else {
            return;
        };
        let mut folded = std::mem::take(&mut self.scratch).into_bytes();
        folded.clear();
        for c in seg.chars().filter(|&c| !is_ignored(c)) {
            Self::emit(&mut folded, &mut self.fold, c, is_spaceless(c));
        }
        let folded = String::from_utf8(folded).unwrap_or_default();
        let mut buf = [0u8; 4];
        for c in folded.chars().map(width_fold).nfc() {
            self.out
                .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        self.scratch = folded;
    }
}

/// The digest of a whole text.
pub fn digest(text: &str) -> [u8; 32] {
    digest_skipping(text, Vec::new())
}

/// The digest of a whole text in which `skips` are runs of ignored characters, in order (the
/// byte ranges of markers already read): the same digest, without looking at them again.
pub(crate) fn digest_skipping(text: &str, skips: Vec<std::ops::Range<usize>>) -> [u8; 32] {
    debug_assert!(skips.windows(2).all(|w| w[0].end <= w[1].start));
    debug_assert!(skips.iter().all(|r| {
        text.get(r.clone())
            .is_some_and(|run| run.chars().all(is_ignored))
    }));
    let mut d = Digester::new();
    d.skips = skips;
    d.process(text, true);
    d.hasher.update(&d.out);
    d.hasher.finish()
}

/// The digest of a Markdown text whose front matter holds more than the label: the front
/// matter as [`super::front_matter::bound`] gives it, length-prefixed, then the body's digest.
pub fn with_front_matter(front: &str, body: &[u8; 32]) -> [u8; 32] {
    let mut h = ContentHasher::new();
    h.update(b"aigcmark/markdown-front-matter\0");
    h.update(&(front.len() as u64).to_be_bytes());
    h.update(front.as_bytes());
    h.update(body);
    h.finish()
}

/// The text exactly as the digest sees it (the slow, obvious way); for tests and explanations.
pub fn reference_form(text: &str) -> String {
    let kept: String = text.chars().filter(|&c| !is_ignored(c)).collect();
    let mut out = Vec::new();
    let mut fold = Fold {
        pending_space: false,
        prev_spaceless: None,
    };
    for c in kept.chars() {
        Digester::emit(&mut out, &mut fold, c, is_spaceless(c));
    }
    fold_chars(&String::from_utf8(out).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) {
        let want = crate::binding::digest(reference_form(text).as_bytes());
        assert_eq!(digest(text), want, "{text:?}");
        // Any split into two pieces gives the same digest.
        for (i, _) in text.char_indices() {
            let mut d = Digester::new();
            d.update(&text[..i]);
            d.update(&text[i..]);
            assert_eq!(d.finish(), want, "{text:?} split at {i}");
        }
    }

    #[test]
    fn fast_and_slow_paths_agree() {
        for t in [
            "Hello, world.\r\n\r\nSecond  paragraph ",
            "人工智能生成的文本，包含全角标点！还有ＡＢＣ。",
            "e\u{301}te\u{301} A\u{30A} ﬁne x² ① ½ 𝐀 ㎏",
            "Ｅ\u{301} か\u{3099} 가\u{11A8} \u{2026}",
            "ｶﾞ ﾊﾟ ﾡﾢ ￡￣ ｶ\u{301}ﾞ ⅳ\u{FF9E} \u{FFE9}\u{FF9F}",
            "مرحبا بالعالم שלום עולם",
            "👨\u{200D}👩\u{200D}👧 🇨🇳 ☺\u{FE0F} 葛\u{E0100}城",
            "  \u{3000}leading and trailing\t\n",
        ] {
            check(t);
        }
    }

    #[test]
    fn full_width_ascii_from_bytes() {
        for c in (0xFF00..=0xFF60).filter_map(char::from_u32) {
            let s = c.to_string();
            let want = fast_form(c).filter(|_| (0xFF01..=0xFF5E).contains(&(c as u32)));
            assert_eq!(
                full_width_ascii(s.as_bytes(), 0).map(char::from),
                want,
                "{c}"
            );
        }
    }

    /// The fast path's forms are the definition's, on every code point.
    #[test]
    fn fast_forms_are_starters_of_the_definition() {
        use unicode_normalization::{IsNormalized, char::canonical_combining_class, is_nfc_quick};
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            let Some(m) = fast_form(c) else { continue };
            assert_eq!(
                fold_chars(&c.to_string()),
                m.to_string(),
                "U+{:04X}",
                c as u32
            );
            for x in [c, m] {
                assert_eq!(canonical_combining_class(x), 0, "U+{:04X}", c as u32);
                assert_ne!(
                    is_nfc_quick(std::iter::once(x)),
                    IsNormalized::Maybe,
                    "U+{:04X} may compose with what precedes it",
                    c as u32
                );
            }
        }
    }

    #[test]
    fn width_folds_and_meaning_stays() {
        // Width is presentation.
        assert_eq!(digest("ＡＢＣ１２３"), digest("ABC123"));
        assert_eq!(digest("ｶﾞｷﾞ ﾊﾟﾝ"), digest("ガギ パン"));
        assert_eq!(digest("￥100"), digest("¥100"));
        assert_eq!(digest("e\u{301}te\u{301}"), digest("été"));
        // Meaning is not.
        for (a, b) in [
            ("10² mg", "102 mg"),
            ("2⁵", "25"),
            ("H₂O", "H2O"),
            ("①", "1"),
            ("½", "1/2"),
            ("½", "1\u{2044}2"),
            ("𝐀", "A"),
            ("Ⅳ", "IV"),
            ("㎏", "kg"),
        ] {
            assert_ne!(digest(a), digest(b), "{a} / {b}");
            check(a);
        }
    }

    #[test]
    fn reading_is_what_counts() {
        assert_eq!(digest("a b\r\nc"), digest(" a\n b   c \n"));
        assert_eq!(digest("中文\n文本"), digest("中文文本"));
        assert_eq!(digest("中文，文本"), digest("中文,文本"));
        assert_eq!(digest("中文：\nEnglish"), digest("中文:\nEnglish"));
        assert_ne!(digest("a b c"), digest("a bc"));
        assert_ne!(digest("the cat"), digest("the bat"));
    }
}
