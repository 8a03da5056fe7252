//! Labeling a string, whole or as it streams (a chat answer arriving token by token).
//!
//! [`TextLabelStream::push`] returns what may be sent now: the prompt as soon as the start of the
//! text settles it (its first [`prompt::LANGUAGE_LETTERS`] letters, the start window simple
//! checkers read and its first line break or [`prompt::LINE_BREAK_BYTES`]; at most
//! [`prompt::HEAD_BYTES`]: the same start `label_str` decides on), the
//! text with a compact marker glued into each paragraph, less one held-back character (a
//! marker's place depends on the next one) and trailing whitespace. Text gets the default
//! prompt unless `LabelOptions::explicit_for_text` is off, as `aigcmark::label` does.
//! [`TextLabelStream::finish`] returns the tail: the full record, sealed over the digest computed
//! on the fly, and an end prompt. Work is O(n): each character is placed and hashed once
//! (normalisation segments are a few characters long).
//! [`label_str`] is the stream run over one string, so both give the same text.

use crate::error::{Error, Result};
use crate::format::{ExplicitOptions, Format, Handler, Placement, ScanOptions};
use crate::formats::text::digest::Digester;
use crate::formats::text::marker::{self, Compact, Frame};
use crate::formats::text::place::Placer;
use crate::formats::text::{self as text_format, prompt};
use crate::keys::Signer;
use crate::label::LabelRecord;
use crate::labeler::{LabelOptions, new_record, seal_record};
use crate::seal::Claims;

/// How much of the end of the text is kept to look for an end prompt already there (its 64
/// visible characters, with the markers that may sit among them).
const TAIL_KEEP: usize = 4096;

/// Labels a plain text held in memory, for services: the same visible text, content digest and
/// verification result as `aigcmark::label` on its bytes (markers may sit in other places).
/// Refuses a text that already carries a label unless `opts.replace` is set.
pub fn label_str(text: &str, signer: &Signer, opts: &LabelOptions) -> Result<String> {
    let scan = text_format::PLAIN.scan(
        text.as_bytes(),
        &ScanOptions {
            limits: &opts.limits,
            watermark_key: None,
            explicit: false,
        },
    )?;
    if !scan.carriers.is_empty() && !opts.replace {
        return Err(Error::Refused(
            "the input already carries a label; pass `replace` (--replace) to replace it".into(),
        ));
    }
    if prompt::is_blank(text) {
        return Err(text_format::empty_text());
    }
    let clean = marker::strip(text);
    let mut s = TextLabelStream::new(signer, opts)?;
    let mut out = s.push(&clean);
    out.push_str(&s.finish()?);
    Ok(out)
}

/// Labels text as it is produced. It holds its own handle on the signer (a clone: a local key's
/// bytes, or a shared handle on an external signer), so it can live as long as the answer streams.
pub struct TextLabelStream {
    signer: Signer,
    record: LabelRecord,
    signed_at: Option<u64>,
    max_bytes: u64,
    seen_bytes: u64,
    /// The prompt's words and where it goes; `None` for no prompt.
    prompt: Option<(Option<String>, Placement)>,
    /// The prompt as decided (once the start is settled), and whether that happened.
    words: Option<String>,
    started: bool,
    /// The words at the start: a compliant prompt the text had, or ours.
    start_words: Option<String>,
    /// Bytes of the body that belong to a start prompt the text already had.
    kept_start: usize,
    /// Body bytes fed so far, and whether anything visible came after a kept start prompt.
    fed: usize,
    after_kept: bool,
    /// Whether anything visible was fed.
    any_visible: bool,
    /// The text's line break, as its start shows it.
    line_break: &'static str,
    /// Text held until the start is settled.
    undecided: String,
    letters: usize,
    placer: Placer,
    digester: Digester,
    /// Whitespace held back (it may end the text, where the full record goes before it).
    pending_ws: String,
    /// The end of the text so far, to find an end prompt already written by the model.
    tail: String,
    last_visible: Option<char>,
    error: Option<Error>,
}

impl TextLabelStream {
    /// A stream for plain text labeled with `opts` (kind, producer, ProduceID, explicit prompt,
    /// signing time, limits; watermark and carrier options do not apply to text). A timestamp
    /// request ([`LabelOptions::tsa`]) is refused: the seal is made at the end of the stream, and a
    /// caller that needs a token labels the finished text with [`crate::label`].
    pub fn new(signer: &Signer, opts: &LabelOptions) -> Result<Self> {
        if opts.tsa.is_some() {
            return Err(Error::Refused(
                "a streamed text gets no timestamp token: label the finished text with `label` \
                 and a TSA instead"
                    .into(),
            ));
        }
        let record = new_record(opts)?;
        let produce_id = record.produce_id.clone().unwrap_or_default();
        let default =
            (opts.explicit.is_none() && opts.explicit_for_text).then(ExplicitOptions::default);
        let prompt = match opts.explicit.as_ref().or(default.as_ref()) {
            Some(ex) => {
                let placement = text_format::text_placement(ex)?;
                if let Some(t) = &ex.text {
                    text_format::prompt_words(ex, t)?;
                }
                Some((ex.text.as_ref().map(|t| t.trim().to_string()), placement))
            }
            None => None,
        };
        let template = Compact {
            label: opts.kind.code().to_string(),
            producer: opts.content_producer.clone(),
            produce_id,
            paragraph: 0,
        };
        Ok(TextLabelStream {
            signer: signer.clone(),
            record,
            signed_at: opts.signed_at,
            max_bytes: opts.limits.max_text_bytes,
            seen_bytes: 0,
            prompt,
            words: None,
            started: false,
            start_words: None,
            kept_start: 0,
            fed: 0,
            after_kept: false,
            any_visible: false,
            line_break: "\n",
            undecided: String::new(),
            letters: 0,
            placer: Placer::new(Some(template), false),
            digester: Digester::new(),
            pending_ws: String::new(),
            tail: String::new(),
            last_visible: None,
            error: None,
        })
    }

    /// The label's ProduceID (fresh unless the options gave one).
    pub fn produce_id(&self) -> &str {
        self.record.produce_id.as_deref().unwrap_or("")
    }

    /// Adds generated text; returns what to send now.
    pub fn push(&mut self, text: &str) -> String {
        let mut out = String::new();
        self.seen_bytes = self.seen_bytes.saturating_add(text.len() as u64);
        if self.seen_bytes > self.max_bytes {
            if self.error.is_none() {
                self.error = Some(Error::Limit(format!(
                    "the stream passed the {}-byte text limit",
                    self.max_bytes
                )));
            }
            return out;
        }
        if !self.started {
            self.undecided.push_str(text);
            // Counted only as far as the choice needs.
            let wanted = prompt::LANGUAGE_LETTERS.saturating_sub(self.letters);
            self.letters += text
                .chars()
                .filter(|c| c.is_alphabetic())
                .take(wanted)
                .count();
            let held = &self.undecided;
            let settled = (held.len() >= prompt::HEAD_BYTES
                && prompt::head(held).len() < held.len())
                || (self.letters >= prompt::LANGUAGE_LETTERS
                    && prompt::start_window_end(held) < held.len()
                    && (held.len() > prompt::LINE_BREAK_BYTES || held.contains('\n')));
            if !settled {
                return out;
            }
            let held = std::mem::take(&mut self.undecided);
            let from = self.start(&held, &mut out);
            self.body(&held[from..], &mut out);
        } else {
            self.body(text, &mut out);
        }
        out
    }

    /// Chooses the prompt and writes the start one (after a BOM, which stays first). Returns how
    /// much of `head` was written here (the BOM).
    fn start(&mut self, head: &str, out: &mut String) -> usize {
        self.started = true;
        self.line_break = prompt::line_break(head);
        let Some((words, placement)) = &self.prompt else {
            return 0;
        };
        let words = words
            .clone()
            .unwrap_or_else(|| prompt::default_for(head).to_string());
        let mut from = 0;
        if matches!(placement, Placement::Start | Placement::Both) {
            match text_format::compliant(prompt::at_start(head)) {
                Some(f) => {
                    self.kept_start = f.end;
                    self.start_words = Some(f.text);
                }
                None => {
                    if head.starts_with('\u{FEFF}') {
                        out.push('\u{FEFF}');
                        from = '\u{FEFF}'.len_utf8();
                    }
                    let mut p = words.clone();
                    p.push_str(text_format::separator(false, self.line_break));
                    self.digester.update(&p);
                    out.push_str(&p);
                    self.start_words = Some(words.clone());
                }
            }
        }
        self.words = Some(words);
        from
    }

    fn body(&mut self, text: &str, out: &mut String) {
        let text = if self.placer.held().is_none() && self.last_visible.is_none() {
            // Nothing emitted yet: blank lines before the first word are dropped after a prompt.
            if out.is_empty() || out == "\u{FEFF}" {
                text
            } else {
                text.trim_start_matches(['\n', '\r'])
            }
        } else {
            text
        };
        let visible = |t: &str| !prompt::is_blank(t);
        if !self.any_visible {
            self.any_visible = visible(text);
        }
        if self.kept_start > 0 && !self.after_kept {
            let skip = self.kept_start.saturating_sub(self.fed).min(text.len());
            self.after_kept = text.get(skip..).is_some_and(visible);
        }
        self.fed = self.fed.saturating_add(text.len());
        let content = text.trim_end();
        if content.is_empty() {
            self.pending_ws.push_str(text);
            return;
        }
        let mut feed = std::mem::take(&mut self.pending_ws);
        feed.push_str(content);
        self.pending_ws.push_str(&text[content.len()..]);
        self.digester.update(&feed);
        let before = out.len();
        self.placer.push(&feed, out);
        self.remember(&out[before..]);
        if let Some(c) = feed.chars().next_back() {
            self.last_visible = Some(c);
        }
    }

    fn remember(&mut self, emitted: &str) {
        let mut from = emitted.len().saturating_sub(TAIL_KEEP);
        while !emitted.is_char_boundary(from) {
            from += 1;
        }
        self.tail.push_str(&emitted[from..]);
        if self.tail.len() > 2 * TAIL_KEEP {
            let mut cut = self.tail.len() - TAIL_KEEP;
            while !self.tail.is_char_boundary(cut) {
                cut += 1;
            }
            self.tail.drain(..cut);
        }
    }

    /// Ends the text: returns the tail to send (the held character, the sealed full record and
    /// the end prompt).
    pub fn finish(mut self) -> Result<String> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let mut out = String::new();
        if !self.started {
            let held = std::mem::take(&mut self.undecided);
            let from = self.start(&held, &mut out);
            self.body(&held[from..], &mut out);
        }
        if !self.any_visible {
            return Err(text_format::empty_text());
        }
        let before = out.len();
        self.placer.finish(&mut out);
        self.remember(&out[before..]);
        let glued_compact = self.placer.marked_last();
        // What follows the full record: held whitespace, then an end prompt.
        let mut after = String::new();
        let (end_prompt, placement) = match (&self.words, &self.prompt) {
            (Some(w), Some((_, p))) => (Some(w.clone()), Some(*p)),
            _ => (None, None),
        };
        // The words at the end: a compliant prompt the text ends with (not the start prompt
        // itself), or ours, added.
        let (mut end_words, mut add_end) = (None, None);
        if let (Some(w), Some(Placement::End | Placement::Both)) = (&end_prompt, placement) {
            let mut seen = self.tail.clone();
            seen.push_str(&self.pending_ws);
            let had = text_format::compliant(prompt::at_end(&seen))
                .filter(|_| self.kept_start == 0 || self.after_kept);
            match had {
                Some(f) => end_words = Some(f.text),
                None => (end_words, add_end) = (Some(w.clone()), Some(w.clone())),
            }
        }
        let pending = std::mem::take(&mut self.pending_ws);
        match &add_end {
            Some(w) => {
                if self.last_visible.is_some() || !self.tail.is_empty() {
                    after.push_str(text_format::separator(false, self.line_break));
                }
                after.push_str(w);
                if pending.contains('\n') {
                    after.push_str(self.line_break);
                }
            }
            None => after.push_str(&pending),
        }
        let base_ok = glued_compact
            || self
                .last_visible
                .is_some_and(|c| text_format::is_tail_base(c, last_word(&self.tail)));
        // Without a base, a space: invisible, and dropped by the digest before a line break or
        // at the end.
        let before_run = if base_ok { "" } else { " " };
        self.digester.update(before_run);
        self.digester.update(&after);
        let digest = self.digester.finish();
        let explicit = placement.map(|p| {
            text_format::explicit_record(
                p,
                self.start_words.as_deref().unwrap_or(""),
                end_words.as_deref().unwrap_or(""),
            )
        });
        let mut record = self.record.clone();
        seal_record(
            &self.signer,
            &mut record,
            Claims {
                format: Format::Text,
                content_digest: digest,
                signed_at: self.signed_at.unwrap_or_else(crate::util::unix_now),
                watermark_id: None,
                explicit,
            },
        )?;
        let json = record.to_json()?;
        let run = marker::encode(&Frame::Full(json))
            .ok_or_else(|| Error::InvalidLabel("label record too long for a text marker".into()))?;
        out.push_str(before_run);
        out.push_str(&run);
        out.push_str(&after);
        Ok(out)
    }
}

/// The last whitespace-separated word of `s`.
fn last_word(s: &str) -> &str {
    s.trim_end()
        .rsplit(char::is_whitespace)
        .next()
        .unwrap_or("")
}
