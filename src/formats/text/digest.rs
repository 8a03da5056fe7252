//! The content digest of text as a person reads it, computed incrementally in one pass.
//!
//! What goes in, in order:
//! 1. every variation selector and U+FEFF is dropped: the markers are made of them, and a
//!    selector picks a glyph variant, it does not change a word;
//! 2. whitespace runs become one space, except next to a character of a script written without
//!    spaces (Han, kana, CJK punctuation) or an emoji, where they vanish — the CSS Text rule for
//!    segment breaks, so re-wrapping Chinese never changes the digest; leading and trailing
//!    whitespace is dropped;
//! 3. NFKC: the text survives NFC and NFKC (full-width `，` and `,` read the same).
//!
//! [`reference_form`] is this definition written the obvious way; [`Digester`] computes the same
//! in one pass.
//!
//! Changing a word changes the digest; re-flowing paragraphs, CRLF/LF, trimming do not.
//!
//! Speed: NFKC through `unicode-normalization` costs far more than hashing, so text is cut into
//! segments at characters whose NFKC form is known here (`fast_form`: ASCII, CJK, kana, Hangul
//! syllables, full-width forms, common letters and emoji; canonical class 0, never the second half
//! of a composition), which never interact with what precedes them. Such characters are mapped on
//! the fly; a segment holding any other character is rolled back and normalised by the crate. Written by hand because the crate has no segment-wise incremental normaliser.

use unicode_normalization::UnicodeNormalization;

use crate::binding::ContentHasher;

use super::marker::is_selector;

/// True for characters that are dropped before normalisation.
pub fn is_ignored(c: char) -> bool {
    c == '\u{FEFF}' || is_selector(c)
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

/// The NFKC form of `c` when this module knows it without tables: `c` has canonical class 0, its
/// form never composes with what precedes it, so a segment may start at `c`. `None` sends the
/// segment `c` is in to the slow path.
fn fast_form(c: char) -> Option<char> {
    let cp = c as u32;
    Some(match cp {
        0..=0x7F => c,
        0xC0..=0xFF => c,
        0x391..=0x3A9 | 0x3B1..=0x3C9 => c,
        0x410..=0x44F => c,
        0x5D0..=0x5EA => c,
        0x621..=0x63A | 0x641..=0x64A => c,
        0x2013 | 0x2014 | 0x2018 | 0x2019 | 0x201C | 0x201D | 0x2022 | 0x200D => c,
        0x2600..=0x27BF => c,
        0x3000 => ' ',
        0x3001..=0x3029 => c,
        0x3041..=0x3096 | 0x30A1..=0x30FA | 0x30FC => c,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF => c,
        0xAC00..=0xD7A3 => c,
        0xFF01..=0xFF5E => char::from_u32(cp - 0xFEE0)?,
        0x1F1E6..=0x1F1FF | 0x1F300..=0x1F64F | 0x1F680..=0x1F6FF | 0x1F900..=0x1FAFF => c,
        _ => return None,
    })
}

/// Canonical class 0 and NFKC quick check Yes: nothing before it composes or reorders with it.
fn is_stable(c: char) -> bool {
    unicode_normalization::char::canonical_combining_class(c) == 0
        && unicode_normalization::is_nfkc_quick(std::iter::once(c))
            == unicode_normalization::IsNormalized::Yes
}

/// Whitespace folding and the output buffer (state is `Copy` so a segment can be rolled back).
#[derive(Clone, Copy)]
struct Fold {
    pending_space: bool,
    /// Whether the last character written came from a script without spaces; `None` before the
    /// first. Taken from the source character: full-width `：` reads as `:` but is still CJK.
    prev_spaceless: Option<bool>,
}

/// Computes the digest of text fed in pieces.
pub struct Digester {
    hasher: ContentHasher,
    out: Vec<u8>,
    fold: Fold,
    /// Text not yet processed (the last, possibly incomplete, segment).
    carry: String,
    scratch: String,
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
        }
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
        let mut seg_start = 0usize;
        let mut seg_out = self.out.len();
        let mut seg_fold = self.fold;
        let mut seg_slow = false;
        let mut i = 0usize;
        while i < bytes.len() {
            let b = bytes[i];
            // A selector of U+E0100–E01EF (F3 A0 84..87 xx), the bulk of every marker: skipped
            // without decoding.
            if b == 0xF3
                && bytes.get(i + 1) == Some(&0xA0)
                && bytes.get(i + 2).is_some_and(|b| (0x84..=0x87).contains(b))
                && i + 4 <= bytes.len()
            {
                i += 4;
                continue;
            }
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
            if is_ignored(c) {
                i += n;
                continue;
            }
            match fast_form(c) {
                // Whitespace stays in the segment: folding may drop it, and what follows may
                // then combine with what preceded it.
                Some(m) if m.is_whitespace() => {
                    if !seg_slow {
                        Self::emit(&mut self.out, &mut self.fold, m, false);
                    }
                }
                // A character with a known form never interacts with what precedes it: a new
                // segment starts here.
                Some(m) => {
                    if seg_slow {
                        self.slow(text, seg_start, i, seg_out, seg_fold);
                        seg_slow = false;
                    }
                    if self.out.len() > (1 << 15) {
                        self.hasher.update(&self.out);
                        self.out.clear();
                    }
                    // A run of characters that are their own form is copied as it is; only its
                    // last character starts a segment (a combining mark after it belongs to it).
                    let mut last = i;
                    let mut j = i + n;
                    if m == c {
                        while j < bytes.len() {
                            let b = bytes[j];
                            if (0x21..0x7F).contains(&b) {
                                last = j;
                                j += 1;
                                continue;
                            }
                            // One space between two characters of spaced scripts folds to
                            // itself.
                            if b == b' '
                                && bytes.get(last..j).is_some_and(|prev| {
                                    std::str::from_utf8(prev)
                                        .ok()
                                        .and_then(|p| p.chars().next())
                                        .is_some_and(|p| {
                                            p.len_utf8() == j - last && !is_spaceless(p)
                                        })
                                })
                                && text
                                    .get(j + 1..)
                                    .and_then(|t| t.chars().next())
                                    .is_some_and(|n| {
                                        !n.is_whitespace()
                                            && !is_spaceless(n)
                                            && fast_form(n) == Some(n)
                                    })
                            {
                                j += 1;
                                continue;
                            }
                            if b < 0x80 {
                                break;
                            }
                            // CJK unified ideographs U+4E00–9FFF (E4 B8 80 – E9 BF BF).
                            if (b == 0xE4 && bytes.get(j + 1).is_some_and(|&n| n >= 0xB8))
                                || (0xE5..=0xE9).contains(&b)
                            {
                                if j + 3 > bytes.len() {
                                    break;
                                }
                                last = j;
                                j += 3;
                                continue;
                            }
                            let Some(d) = text.get(j..).and_then(|s| s.chars().next()) else {
                                break;
                            };
                            if d.is_whitespace() || fast_form(d) != Some(d) {
                                break;
                            }
                            last = j;
                            j += d.len_utf8();
                        }
                    }
                    if last > i {
                        Self::emit(&mut self.out, &mut self.fold, c, is_spaceless(c));
                        self.out.extend_from_slice(&bytes[i + n..last]);
                        let before_last = text[..last].chars().next_back();
                        self.fold = Fold {
                            pending_space: false,
                            prev_spaceless: before_last.map(is_spaceless),
                        };
                        seg_start = last;
                        seg_out = self.out.len();
                        seg_fold = self.fold;
                        if let Some(lc) = text[last..].chars().next() {
                            Self::emit(&mut self.out, &mut self.fold, lc, is_spaceless(lc));
                        }
                        i = j;
                        continue;
                    }
                    seg_start = i;
                    seg_out = self.out.len();
                    seg_fold = self.fold;
                    Self::emit(&mut self.out, &mut self.fold, m, is_spaceless(c));
                }
                None => {
                    // Long runs of other scripts (Thai, Devanagari): cut at a character that is
                    // stable under NFKC so a streamed segment stays short.
                    if seg_slow && i - seg_start > 1024 && is_stable(c) {
                        self.slow(text, seg_start, i, seg_out, seg_fold);
                        seg_start = i;
                        seg_out = self.out.len();
                        seg_fold = self.fold;
                    }
                    seg_slow = true;
                }
            }
            i += n;
        }
        if last {
            if seg_slow {
                self.slow(text, seg_start, bytes.len(), seg_out, seg_fold);
            }
            bytes.len()
        } else {
            // The last segment may continue in the next piece: undo it and keep it.
            self.out.truncate(seg_out);
            self.fold = seg_fold;
            seg_start
        }
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
        for c in folded.nfkc() {
            self.out
                .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        self.scratch = folded;
    }
}

/// The digest of a whole text.
pub fn digest(text: &str) -> [u8; 32] {
    let mut d = Digester::new();
    d.update(text);
    d.finish()
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
    String::from_utf8(out).unwrap_or_default().nfkc().collect()
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
            "e\u{301}te\u{301} A\u{30A} ﬁne x² ①",
            "Ｅ\u{301} か\u{3099} 가\u{11A8} \u{2026}",
            "مرحبا بالعالم שלום עולם",
            "👨\u{200D}👩\u{200D}👧 🇨🇳 ☺\u{FE0F} 葛\u{E0100}城",
            "  \u{3000}leading and trailing\t\n",
        ] {
            check(t);
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
