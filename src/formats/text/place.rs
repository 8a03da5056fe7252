//! Where the invisible markers go: after which characters a run of selectors is harmless.
//!
//! A run is glued to a *base* character and becomes part of its grapheme cluster; it must not
//! change how that cluster looks. So a base is a character that
//! - is its own grapheme cluster (the next character is not a combining mark, ZWJ or selector;
//!   checked with `unicode-segmentation` on the pair),
//! - has no variation sequence the run's first selector (U+E0131) could form: never a CJK
//!   ideograph (U+E01xx are ideographic variation selectors), an emoji, a digit, `#` or `*`
//!   (emoji keycap bases),
//! - and is not in the middle of anything a program reads: the last letter of a word made only of
//!   letters and followed by whitespace (so never inside a URL, a number or an identifier with
//!   punctuation), or CJK punctuation such as `，。！？：；」』】）`.
//!
//! Each paragraph (text after a blank line) gets a compact marker at its first base after
//! [`MIN_CHARS`] visible characters, and again every [`REPEAT_CHARS`] characters in long paragraphs, so a paragraph copied alone still says
//! who made it. In Markdown, fenced and indented code, inline code and HTML blocks get none.
//! The decision for a character needs the next one, so the placer holds back one character; this
//! is what lets the same code label a whole string and a stream.

use unicode_normalization::char::is_combining_mark;
use unicode_segmentation::UnicodeSegmentation;

use super::marker::{self, Compact, Frame};

/// A long paragraph carries its compact marker again after this many characters.
pub const REPEAT_CHARS: usize = 1000;
/// A paragraph gets its marker after this many visible characters: headings, list items and
/// one-word lines are too short to be worth ~190 bytes each.
pub const MIN_CHARS: usize = 16;

/// True for a letter after which a selector run is harmless: alphabetic, not a combining mark,
/// and not of a script with registered variation sequences (CJK, Myanmar, Mongolian, Phags-pa,
/// Manichaean, Egyptian) or written without spaces.
pub fn is_safe_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    let cp = c as u32;
    // The range tests first: CJK text would otherwise spend its time in the Unicode tables.
    !super::digest::is_spaceless(c)
        && !matches!(cp,
            0x1000..=0x109F | 0x1800..=0x18AF | 0xA840..=0xA87F | 0xAA60..=0xAA7F
            | 0x10AC0..=0x10AFF | 0x13000..=0x1345F | 0x1F000..=0x1FAFF)
        && c.is_alphabetic()
        && !is_combining_mark(c)
}

/// True for a letter or a mark inside a word (a word of these is "plain").
fn is_word_char(c: char) -> bool {
    match c as u32 {
        0..=0x7F => c.is_ascii_alphabetic(),
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7A3 => true,
        _ => c.is_alphabetic() || is_combining_mark(c),
    }
}

/// CJK punctuation that closes a clause: a base in text without spaces.
fn is_safe_cjk_punct(c: char) -> bool {
    matches!(
        c as u32,
        0x3001
            | 0x3002
            | 0x300D
            | 0x300F
            | 0x3011
            | 0xFF01
            | 0xFF09
            | 0xFF0C
            | 0xFF1A
            | 0xFF1B
            | 0xFF1F
    )
}

/// True when `base` followed by `next` are two grapheme clusters.
fn cluster_ends(base: char, next: Option<char>) -> bool {
    let Some(next) = next else { return true };
    let mut pair = String::with_capacity(8);
    pair.push(base);
    pair.push(next);
    pair.graphemes(true).nth(1).is_some()
}

/// Places compact markers in text fed in pieces.
pub struct Placer {
    markdown: bool,
    template: Option<Compact>,
    held: Option<char>,
    paragraph: u32,
    newlines: u32,
    at_line_start: bool,
    line_indent: usize,
    line_head: String,
    in_fence: bool,
    skip_paragraph: bool,
    backticks: u32,
    word_plain: bool,
    need: bool,
    since_marker: usize,
    /// How many compact markers were written.
    pub written: usize,
    /// Whether a marker was written right after the last character emitted.
    marked_last: bool,
}

impl Placer {
    /// A placer writing `template` (its paragraph number is filled in); `None` writes nothing.
    pub fn new(template: Option<Compact>, markdown: bool) -> Self {
        Placer {
            markdown,
            template,
            held: None,
            paragraph: 0,
            newlines: 0,
            at_line_start: true,
            line_indent: 0,
            line_head: String::new(),
            in_fence: false,
            skip_paragraph: false,
            backticks: 0,
            word_plain: true,
            need: false,
            since_marker: 0,
            written: 0,
            marked_last: false,
        }
    }

    /// Feeds text; appends to `out` what can be emitted now.
    pub fn push(&mut self, text: &str, out: &mut String) {
        for c in text.chars() {
            if let Some(prev) = self.held.replace(c) {
                self.commit(prev, Some(c), out);
            }
        }
    }

    /// Emits the held-back character.
    pub fn finish(&mut self, out: &mut String) {
        if let Some(prev) = self.held.take() {
            self.commit(prev, None, out);
        }
    }

    /// The last character fed, not yet emitted.
    pub fn held(&self) -> Option<char> {
        self.held
    }

    /// True when the last character emitted carries a marker (so another run may follow it).
    pub fn marked_last(&self) -> bool {
        self.marked_last
    }

    fn commit(&mut self, c: char, next: Option<char>, out: &mut String) {
        out.push(c);
        self.marked_last = false;
        if c == '\n' {
            self.newlines += 1;
            self.at_line_start = true;
            self.line_indent = 0;
            self.line_head.clear();
            self.word_plain = true;
            return;
        }
        if c.is_whitespace() {
            if self.at_line_start {
                self.line_indent += if c == '\t' { 4 } else { 1 };
            }
            self.word_plain = true;
            return;
        }
        if self.paragraph == 0 || self.newlines >= 2 {
            self.paragraph = self.paragraph.saturating_add(1);
            self.need = true;
            self.since_marker = 0;
            self.backticks = 0;
            self.skip_paragraph =
                self.markdown && (self.line_indent >= 4 || c == '<') && !self.in_fence;
        }
        self.newlines = 0;
        if self.at_line_start {
            self.at_line_start = false;
        }
        if self.markdown && self.line_head.len() < 3 {
            self.line_head.push(c);
            if self.line_indent < 4 && (self.line_head == "```" || self.line_head == "~~~") {
                self.in_fence = !self.in_fence;
            }
        }
        if c == '`' {
            self.backticks = self.backticks.wrapping_add(1);
        }
        self.since_marker = self.since_marker.saturating_add(1);
        if self.since_marker > REPEAT_CHARS {
            self.need = true;
        }
        let long_enough = self.since_marker >= MIN_CHARS;
        // Word plainness is tracked only while a marker is wanted (the Unicode tables cost):
        // a word already under way when the need arises counts as not plain.
        if !self.need {
            self.word_plain = false;
            return;
        }
        self.word_plain = self.word_plain && is_word_char(c);
        let plain = self.word_plain && is_safe_letter(c);
        if !self.need || !long_enough || self.template.is_none() {
            return;
        }
        if self.markdown && (self.in_fence || self.skip_paragraph || self.backticks % 2 == 1) {
            return;
        }
        let word_end = plain && next.is_none_or(char::is_whitespace);
        // After CJK punctuation, only where a line break cut into the run would not be read
        // (before whitespace or another spaceless character).
        let cjk = is_safe_cjk_punct(c)
            && next.is_none_or(|n| n.is_whitespace() || super::digest::is_spaceless(n));
        if (word_end || cjk) && cluster_ends(c, next) {
            if let Some(t) = &mut self.template {
                t.paragraph = self.paragraph;
                if let Some(run) = marker::encode(&Frame::Compact(t.clone())) {
                    out.push_str(&run);
                    self.written += 1;
                    self.marked_last = true;
                }
            }
            self.need = false;
            self.since_marker = 0;
        }
    }
}

/// A base for the full record at the end of a body: the run is appended after a space, which
/// is invisible and digest-neutral at the end of a line; the space is left out when the body
/// already ends in one.
pub fn full_record_tail(body_end: Option<char>, run: &str) -> String {
    let mut s = String::with_capacity(run.len() + 1);
    if body_end != Some(' ') {
        s.push(' ');
    }
    s.push_str(run);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_agree_with_the_unicode_tables() {
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            assert_eq!(
                is_word_char(c),
                c.is_alphabetic() || is_combining_mark(c),
                "U+{:04X}",
                c as u32
            );
        }
    }

    fn template() -> Compact {
        Compact {
            label: "1".into(),
            producer: "P".into(),
            produce_id: "ab".into(),
            paragraph: 0,
        }
    }

    fn place(text: &str, markdown: bool) -> String {
        let mut p = Placer::new(Some(template()), markdown);
        let mut out = String::new();
        p.push(text, &mut out);
        p.finish(&mut out);
        out
    }

    #[test]
    fn bases_are_ends_of_plain_words_and_cjk_punctuation() {
        let out = place(
            "Visit http://x.com today\n\n第一段没有空格也很长的句子，然后继续。",
            false,
        );
        let visible: String = out.chars().filter(|c| !marker::is_selector(*c)).collect();
        assert_eq!(
            visible,
            "Visit http://x.com today\n\n第一段没有空格也很长的句子，然后继续。"
        );
        assert!(
            out.contains("today\u{E0131}"),
            "after {MIN_CHARS} characters: {out:?}"
        );
        assert!(out.contains("。\u{E0131}"), "{out:?}");
        assert!(!out.contains("com\u{E0131}"));
    }

    #[test]
    fn markdown_code_is_left_alone() {
        let out = place(
            "```\ncode here\n```\n\n    indented code\n\n`inline code` text",
            true,
        );
        let at = out.find('\u{E0131}').unwrap();
        assert!(
            out[..at].ends_with("` text") || out[..at].ends_with("text"),
            "{out:?}"
        );
    }
}
