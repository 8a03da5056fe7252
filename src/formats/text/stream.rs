//! Labeling a string, whole or as it streams (a chat answer arriving token by token).
//!
//! [`TextLabelStream::push`] returns what may be sent now: the prompt as soon as the script is
//! known (at the first letters), the text with a compact marker glued into each paragraph, less
//! one held-back character (a marker's place depends on the next one) and trailing whitespace.
//! [`TextLabelStream::finish`] returns the tail: the full record, sealed over the digest computed
//! on the fly, and an end prompt. Work is O(n): each character is placed and hashed once
//! (normalisation segments are a few characters long, see [`super::digest`]).
//! [`label_str`] is the stream run over one string, so both give the same text.

use crate::error::{Error, Result};
use crate::format::{Format, Handler, Placement, ScanOptions};
use crate::keys::Signer;
use crate::label::{LabelRecord, check_value};
use crate::labeler::{LabelOptions, fresh_id};
use crate::seal::{self, Claims};

use super::digest::Digester;
use super::marker::{self, Compact, Frame};
use super::place::Placer;
use super::prompt;

/// Letters seen before the default prompt's language is chosen.
const LETTERS_TO_CHOOSE: usize = 8;
/// How much of the end of the text is kept to look for an end prompt already there.
const TAIL_KEEP: usize = 1024;

/// Labels a plain text held in memory, for services: the same visible text, content digest and
/// verification result as `aigcmark::label` on its bytes (markers may sit in other places).
/// Refuses a text that already carries a label unless `opts.replace` is set.
pub fn label_str(text: &str, signer: &Signer, opts: &LabelOptions) -> Result<String> {
    let scan = super::PLAIN.scan(
        text.as_bytes(),
        &ScanOptions {
            limits: &opts.limits,
            watermark_key: None,
        },
    )?;
    if !scan.carriers.is_empty() && !opts.replace {
        return Err(Error::Refused(
            "the input already carries a label; pass `replace` (--replace) to replace it".into(),
        ));
    }
    let clean = marker::strip(text);
    let mut s = TextLabelStream::new(signer, opts)?;
    let mut out = s.push(&clean);
    out.push_str(&s.finish()?);
    Ok(out)
}

/// Labels text as it is produced.
pub struct TextLabelStream<'a> {
    signer: &'a Signer,
    record: LabelRecord,
    signed_at: Option<u64>,
    max_bytes: u64,
    seen_bytes: u64,
    /// The prompt's words and where it goes; `None` for no prompt.
    prompt: Option<(Option<String>, Placement)>,
    /// The prompt as decided (after the first letters), and whether the start one was written.
    words: Option<String>,
    started: bool,
    /// Text held until the prompt's language is known.
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

impl<'a> TextLabelStream<'a> {
    /// A stream for plain text labeled with `opts` (kind, producer, ProduceID, explicit prompt,
    /// signing time, limits; watermark and carrier options do not apply to text).
    pub fn new(signer: &'a Signer, opts: &LabelOptions) -> Result<Self> {
        check_value("ContentProducer", &opts.content_producer)?;
        if opts.content_producer.is_empty() {
            return Err(Error::InvalidLabel("ContentProducer is required".into()));
        }
        let produce_id = match &opts.produce_id {
            Some(id) if id.is_empty() => {
                return Err(Error::InvalidLabel("ProduceID is empty".into()));
            }
            Some(id) => id.clone(),
            None => fresh_id(),
        };
        check_value("ProduceID", &produce_id)?;
        let record = LabelRecord::new(opts.kind, &opts.content_producer, &produce_id);
        let prompt = match &opts.explicit {
            Some(ex) => {
                let placement = super::text_placement(ex)?;
                if let Some(t) = &ex.text {
                    super::prompt_words(ex, t)?;
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
            signer,
            record,
            signed_at: opts.signed_at,
            max_bytes: opts.limits.max_text_bytes,
            seen_bytes: 0,
            prompt,
            words: None,
            started: false,
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
            let wanted = LETTERS_TO_CHOOSE.saturating_sub(self.letters);
            self.letters += text
                .chars()
                .filter(|c| c.is_alphabetic())
                .take(wanted)
                .count();
            if self.letters < LETTERS_TO_CHOOSE {
                return out;
            }
            let held = std::mem::take(&mut self.undecided);
            self.start(&held, &mut out);
            self.body(&held, &mut out);
        } else {
            self.body(text, &mut out);
        }
        out
    }

    /// Chooses the prompt and writes the start one.
    fn start(&mut self, head: &str, out: &mut String) {
        self.started = true;
        let Some((words, placement)) = &self.prompt else {
            return;
        };
        let words = words
            .clone()
            .unwrap_or_else(|| prompt::default_for(head).to_string());
        if matches!(placement, Placement::Start | Placement::Both)
            && prompt::at_start(head).is_none()
        {
            let mut p = words.clone();
            p.push_str(super::separator(false));
            self.digester.update(&p);
            out.push_str(&p);
        }
        self.words = Some(words);
    }

    fn body(&mut self, text: &str, out: &mut String) {
        let text = if self.placer.held().is_none() && self.last_visible.is_none() {
            // Nothing emitted yet: blank lines before the first word are dropped after a prompt.
            if out.is_empty() {
                text
            } else {
                text.trim_start_matches(['\n', '\r'])
            }
        } else {
            text
        };
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
            self.start(&held, &mut out);
            self.body(&held, &mut out);
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
        let mut end_words = None;
        if let (Some(w), Some(Placement::End | Placement::Both)) = (&end_prompt, placement) {
            let mut seen = self.tail.clone();
            seen.push_str(&self.pending_ws);
            if prompt::at_end(&seen).is_none() {
                end_words = Some(w.clone());
            }
        }
        let pending = std::mem::take(&mut self.pending_ws);
        match &end_words {
            Some(w) => {
                if self.last_visible.is_some() || !self.tail.is_empty() {
                    after.push_str(super::separator(false));
                }
                after.push_str(w);
                if pending.contains('\n') {
                    after.push('\n');
                }
            }
            None => after.push_str(&pending),
        }
        let base_ok = glued_compact
            || self
                .last_visible
                .is_some_and(|c| super::is_tail_base(c, last_word(&self.tail)));
        // Without a base, a space: invisible, and dropped by the digest before a line break or
        // at the end.
        let before_run = if base_ok { "" } else { " " };
        self.digester.update(before_run);
        self.digester.update(&after);
        let digest = self.digester.finish();
        let explicit = match (&end_prompt, placement) {
            (Some(w), Some(p)) => Some(super::explicit_record(p, w)),
            _ => None,
        };
        let claims = Claims {
            format: Format::Text,
            content_digest: digest,
            signed_at: self.signed_at.unwrap_or_else(now),
            watermark_id: None,
            explicit,
        };
        let mut record = self.record.clone();
        record.reserved_code1 = Some(seal::seal_provider(self.signer, &record, &claims)?);
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

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
