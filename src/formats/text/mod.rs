//! Plain text and Markdown: the label travels inside the text.
//!
//! Text has no metadata container, so everything rides in the characters (Markdown adds the text
//! guide's `AIGC:` front matter). Layout, edge to edge:
//!
//! ```text
//! edge | prompt | ¶1 …word⟨compact⟩ … | ¶2 …，⟨compact⟩ … | … last word⟨full record⟩ | prompt | edge
//! ```
//!
//! - the explicit prompt ([`prompt`]) is the very first (or last) visible thing, inside the
//!   64-character window simple checkers read; invisible data never sits between it and the edge;
//! - every paragraph carries a compact marker (Label, producer, content id, paragraph number)
//!   glued to its first safe base character ([`place`]), so a paragraph copied alone still says
//!   who made it;
//! - the full Annex E record with its seal is written once, right after the body's last visible
//!   character and before an end prompt: a stream knows the seal only at its end ([`crate::text`]);
//! - markers are variation selectors ([`marker`]); the content digest ([`digest`]) reads the text
//!   as a person does (markers dropped, whitespace folded, width folded, NFC, prompt included);
//!   in Markdown the front matter other than the `AIGC` entry is bound too ([`front_matter::bound`]).
//!
//! Text gets the explicit prompt by default (`LabelOptions::explicit_for_text`); an empty text is
//! refused, there is nothing to label.

pub mod digest;
pub mod front_matter;
pub mod marker;
pub mod place;
pub mod prompt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, Result};
use crate::findings::Finding;
use crate::format::{
    Carrier, CarrierKind, ContentEdits, Edited, ExplicitKind, ExplicitMark, ExplicitOptions,
    Format, Handler, Placement, Scan, ScanOptions, WriteOptions,
};
use crate::label::LabelRecord;
use crate::limits::Limits;

use marker::{Compact, Frame};

/// Plain text or Markdown.
pub struct Text {
    format: Format,
}

pub static PLAIN: Text = Text {
    format: Format::Text,
};
pub static MARKDOWN: Text = Text {
    format: Format::Markdown,
};

fn as_text<'a>(input: &'a [u8], limits: &Limits) -> Result<&'a str> {
    if input.len() as u64 > limits.max_text_bytes {
        return Err(Error::Limit(format!(
            "text is {} bytes, over the {}-byte limit",
            input.len(),
            limits.max_text_bytes
        )));
    }
    // SIMD validation first (several times faster on non-ASCII text); the standard library's
    // only to say where the error is.
    simdutf8::basic::from_utf8(input).or_else(|_| {
        std::str::from_utf8(input).map_err(|e| Error::malformed("text", format!("not UTF-8: {e}")))
    })
}

impl Text {
    fn markdown(&self) -> bool {
        self.format == Format::Markdown
    }

    /// Splits off Markdown front matter: (head, body). Plain text is all body.
    fn split<'a>(&self, text: &'a str) -> (&'a str, &'a str) {
        match self.markdown().then(|| front_matter::find(text)).flatten() {
            Some(fm) => text.split_at(fm.body),
            None => ("", text),
        }
    }
}

/// The seal's `ex=` record of the prompts in the text: `start,<words>`, `end,<words>`,
/// `both,<words>` or, when the two differ, `both,<start words>,<end words>`; words in base64url.
pub(crate) fn explicit_record(placement: Placement, start: &str, end: &str) -> String {
    let b = |w: &str| URL_SAFE_NO_PAD.encode(w.as_bytes());
    match placement {
        Placement::End => format!("end,{}", b(end)),
        Placement::Both if start != end => format!("both,{},{}", b(start), b(end)),
        Placement::Both => format!("both,{}", b(start)),
        _ => format!("start,{}", b(start)),
    }
}

/// The refusal for a text with nothing to read.
pub(crate) fn empty_text() -> Error {
    Error::Refused("the text is empty; nothing to label".into())
}

/// The placement a text prompt may have.
pub(crate) fn text_placement(opts: &ExplicitOptions) -> Result<Placement> {
    match opts.placement.unwrap_or(Placement::Start) {
        p @ (Placement::Start | Placement::End | Placement::Both) => Ok(p),
        other => Err(Error::Unsupported(format!(
            "a text prompt goes at the start, the end or both, not {}",
            other.name()
        ))),
    }
}

/// Checks a caller's prompt: one line of at most [`prompt::PROMPT_CHARS`] characters, both
/// elements of GB 45438 5.1 ([`prompt::check_prompt_elements`]), and read back as a prompt.
pub fn check_caller_prompt(words: &str) -> Result<()> {
    let t = words.trim();
    if t.is_empty() || t.chars().count() > prompt::PROMPT_CHARS || t.contains(['\n', '\r']) {
        return Err(Error::Refused(format!(
            "the prompt must be one line of at most {} characters",
            prompt::PROMPT_CHARS
        )));
    }
    prompt::check_prompt_elements(t)?;
    if !prompt::reads_as_prompt(t) {
        return Err(Error::Refused(format!(
            "the prompt {t:?} would not be read as one: put it in brackets (【…】 or […]) or \
             begin it with a phrase such as \"本内容由人工智能生成\""
        )));
    }
    Ok(())
}

/// The prompt's words: the caller's (checked) or the default for the text's script.
pub(crate) fn prompt_words(opts: &ExplicitOptions, body: &str) -> Result<String> {
    match &opts.text {
        Some(t) => {
            check_caller_prompt(t)?;
            Ok(t.trim().to_string())
        }
        None => Ok(prompt::default_for(body).to_string()),
    }
}

/// The separator between a prompt and the body, in the text's own line breaks.
pub(crate) fn separator(markdown: bool, line_break: &'static str) -> &'static str {
    match (markdown, line_break) {
        (true, "\r\n") => "\r\n\r\n",
        (true, _) => "\n\n",
        (false, lb) => lb,
    }
}

/// A prompt already in the text that may stand for ours: it holds both elements.
pub(crate) fn compliant(found: Option<prompt::Found>) -> Option<prompt::Found> {
    found.filter(|f| prompt::check_prompt_elements(&f.text).is_ok())
}

/// Adds the prompt to `body` where `placement` asks; a compliant prompt already in place is
/// kept, not repeated. A BOM stays first. Returns the text and the words now at its start and
/// its end (for the seal's record).
fn add_prompt(
    body: &str,
    words: &str,
    placement: Placement,
    markdown: bool,
) -> (String, String, String) {
    let line_break = prompt::line_break(body);
    let sep = separator(markdown, line_break);
    let want_start = matches!(placement, Placement::Start | Placement::Both);
    let want_end = matches!(placement, Placement::End | Placement::Both);
    let have_start = want_start
        .then(|| compliant(prompt::at_start(body)))
        .flatten();
    let have_end = want_end
        .then(|| compliant(prompt::at_end(body)))
        .flatten()
        .filter(|e| have_start.as_ref().is_none_or(|s| e.start >= s.end));
    let (start, end) = (
        want_start && have_start.is_none(),
        want_end && have_end.is_none(),
    );
    let mut out = String::with_capacity(body.len() + 2 * (words.len() + sep.len()));
    let bom = if body.starts_with('\u{FEFF}') {
        "\u{FEFF}"
    } else {
        ""
    };
    out.push_str(bom);
    let mut rest = &body[bom.len()..];
    if start {
        out.push_str(words);
        out.push_str(sep);
        rest = rest.trim_start_matches(['\n', '\r']);
    }
    if end {
        let content = rest.trim_end();
        out.push_str(content);
        if !content.is_empty() || start {
            out.push_str(sep);
        }
        out.push_str(words);
        if rest[content.len()..].contains('\n') {
            out.push_str(line_break);
        }
    } else {
        out.push_str(rest);
    }
    let start_words = have_start.map_or_else(|| words.to_string(), |f| f.text);
    let end_words = have_end.map_or_else(|| words.to_string(), |f| f.text);
    (out, start_words, end_words)
}

/// The compact record for a label's JSON, when it has the fields one needs.
fn compact_for(label_json: &str) -> Option<Compact> {
    let rec = LabelRecord::parse(label_json, 64).record?;
    Some(Compact {
        label: rec.label?,
        producer: rec.content_producer?,
        produce_id: rec.produce_id?,
        paragraph: 0,
    })
}

/// True when the full record may be glued to `c`, the last visible character of the body.
pub(crate) fn is_tail_base(c: char, last_word: &str) -> bool {
    let punct = matches!(
        c,
        '.' | '!'
            | '?'
            | ')'
            | '"'
            | '\''
            | '”'
            | '’'
            | '」'
            | '』'
            | '】'
            | '）'
            | '。'
            | '！'
            | '？'
    );
    let letter = c.is_alphabetic() && !prompt_is_ideograph(c) && (c as u32) < 0x650;
    let url = last_word.contains("://") || last_word.starts_with("www.");
    (punct || letter) && !url
}

fn prompt_is_ideograph(c: char) -> bool {
    digest::is_spaceless(c)
}

/// Writes the markers into a body: compact markers per paragraph, the full record at the end
/// of the visible body, before an end prompt. Prompts are passed through untouched.
fn mark_body(body: &str, label_json: &str, markdown: bool) -> Result<String> {
    let run = marker::encode(&Frame::Full(label_json.to_string()))
        .ok_or_else(|| Error::InvalidLabel("label record too long for a text marker".into()))?;
    let clean = marker::strip(body);
    let start = prompt::at_start(&clean);
    let end = prompt::at_end(&clean).filter(|e| start.as_ref().is_none_or(|s| e.start >= s.end));
    let lo = start.as_ref().map_or(0, |s| s.end);
    let hi = end.as_ref().map_or(clean.len(), |e| e.start);
    let middle = clean.get(lo..hi).unwrap_or("");
    let content = middle.trim_end();
    let trailing = &middle[content.len()..];

    let mut out = String::with_capacity(clean.len() + run.len() + clean.len() / 2);
    out.push_str(&clean[..lo]);
    let mut placer = place::Placer::new(compact_for(label_json), markdown);
    placer.push(content, &mut out);
    placer.finish(&mut out);
    let last_word = content.rsplit(char::is_whitespace).next().unwrap_or("");
    let glued_compact = placer.marked_last();
    let base = content
        .chars()
        .next_back()
        .filter(|&c| glued_compact || is_tail_base(c, last_word));
    match base {
        Some(_) => out.push_str(&run),
        None if trailing.is_empty() && end.is_some() => {
            // An end prompt glued to the body: a space would be read, U+FEFF is not.
            let glued_cjk = content
                .chars()
                .next_back()
                .is_some_and(digest::is_spaceless)
                || clean[hi..].chars().next().is_some_and(digest::is_spaceless);
            out.push(if glued_cjk { ' ' } else { '\u{FEFF}' });
            out.push_str(&run);
        }
        None => out.push_str(&place::full_record_tail(content.chars().next_back(), &run)),
    }
    out.push_str(trailing);
    out.push_str(&clean[hi..]);
    Ok(out)
}

impl Handler for Text {
    fn format(&self) -> Format {
        self.format
    }

    fn scan(&self, input: &[u8], opts: &ScanOptions<'_>) -> Result<Scan> {
        let text = as_text(input, opts.limits)?;
        let (head, body) = self.split(text);
        let mut summary = marker::summarize(body);
        let mut content = digest::digest_skipping(body, std::mem::take(&mut summary.glued));
        if self.markdown()
            && let Some(front) = front_matter::bound(text)
        {
            content = digest::with_front_matter(&front, &content);
        }
        let mut scan = Scan {
            digest: Some(content),
            ..Default::default()
        };
        let mut front = false;
        if self.markdown()
            && !head.is_empty()
            && let Some(json) = front_matter::read(text, &mut scan.findings)
        {
            scan.carriers.push(Carrier {
                location: "front matter AIGC".into(),
                value: json,
                kind: CarrierKind::Metadata,
            });
            front = true;
        }
        read_markers(body, summary, &mut scan, front);
        Ok(scan)
    }

    fn write_label(
        &self,
        input: &[u8],
        label_json: &str,
        opts: &WriteOptions<'_>,
    ) -> Result<Vec<u8>> {
        let text = as_text(input, opts.limits)?;
        let (head, body) = self.split(text);
        let marked = mark_body(body, label_json, self.markdown())?;
        if !self.markdown() {
            return Ok(marked.into_bytes());
        }
        let record = LabelRecord::parse(label_json, opts.limits.max_nesting_depth)
            .record
            .ok_or_else(|| Error::InvalidLabel("the label record is not readable JSON".into()))?;
        let mut whole = String::with_capacity(head.len() + marked.len());
        whole.push_str(head);
        whole.push_str(&marked);
        Ok(front_matter::write(&whole, &record).into_bytes())
    }

    fn edit_content(&self, input: &[u8], edits: &ContentEdits<'_>) -> Result<Edited> {
        // Text has no watermark: the invisible marker in every paragraph does that job.
        let notes = Vec::new();
        let text = as_text(input, edits.limits)?;
        let (head, body) = self.split(text);
        if prompt::is_blank(body) {
            return Err(empty_text());
        }
        let Some(ex) = edits.explicit else {
            return Ok(Edited {
                bytes: None,
                format: self.format,
                explicit_record: None,
                watermarked: false,
                notes,
            });
        };
        let placement = text_placement(ex)?;
        let words = prompt_words(ex, body)?;
        let clean = marker::strip(body);
        let (with_prompt, start, end) = add_prompt(&clean, &words, placement, self.markdown());
        let mut out = String::with_capacity(head.len() + with_prompt.len());
        out.push_str(head);
        out.push_str(&with_prompt);
        Ok(Edited {
            bytes: Some(out.into_bytes()),
            format: self.format,
            explicit_record: Some(explicit_record(placement, &start, &end)),
            watermarked: false,
            notes,
        })
    }

    fn check_explicit(&self, input: &[u8], record: &str, limits: &Limits) -> Vec<ExplicitMark> {
        if let Some(marks) = self.check_edges(input, record) {
            return marks;
        }
        let Ok(text) = as_text(input, limits) else {
            return Vec::new();
        };
        let (_, body) = self.split(text);
        check_prompt(body, body, record).unwrap_or_default()
    }
}

/// How much of each end of a long text [`Text::check_edges`] reads.
const EDGE: usize = 1 << 16;

/// The longest prefix of `b` that is UTF-8 (a character cut at the end is left out).
fn utf8_prefix(b: &[u8]) -> Option<&str> {
    match simdutf8::compat::from_utf8(b) {
        Ok(s) => Some(s),
        Err(e) if e.error_len().is_none() => simdutf8::basic::from_utf8(&b[..e.valid_up_to()]).ok(),
        Err(_) => None,
    }
}

/// The longest suffix of `b` that is UTF-8 and starts at a character.
fn utf8_suffix(b: &[u8]) -> Option<&str> {
    let skip = b.iter().take(3).take_while(|&&x| x & 0xC0 == 0x80).count();
    simdutf8::basic::from_utf8(&b[skip..]).ok()
}

impl Text {
    /// Checks the recorded prompt reading only both ends of a long text: the prompt sits within
    /// 64 visible characters of an edge. `None` when the ends do not settle it (a short text,
    /// long front matter, an edge padded with markers): the caller reads the whole text.
    fn check_edges(&self, input: &[u8], record: &str) -> Option<Vec<ExplicitMark>> {
        if input.len() <= 4 * EDGE {
            return None;
        }
        let head = utf8_prefix(&input[..EDGE])?;
        let tail = utf8_suffix(&input[input.len() - EDGE..])?;
        let body = if self.markdown() {
            match front_matter::find(head) {
                Some(fm) => &head[fm.body..],
                None if head.trim_start_matches('\u{FEFF}').starts_with("---") => return None,
                None => head,
            }
        } else {
            head
        };
        let settled =
            prompt::start_window_end(body) < body.len() && prompt::end_window_start(tail) > 0;
        settled.then(|| check_prompt(body, tail, record).unwrap_or_default())
    }
}

/// Checks a recorded prompt (`ex=` record): one mark per recorded place, intact when a prompt
/// with the recorded words is still there. `head` is the body or its beginning, `tail` the body
/// or its end.
fn check_prompt(head: &str, tail: &str, record: &str) -> Option<Vec<ExplicitMark>> {
    let mut parts = record.split(',');
    let place = parts.next()?;
    let decode = |b: &str| String::from_utf8(URL_SAFE_NO_PAD.decode(b).ok()?).ok();
    let start_words = decode(parts.next()?)?;
    let end_words = match parts.next() {
        Some(b) => decode(b)?,
        None => start_words.clone(),
    };
    let places: &[&str] = match place {
        "start" => &["start"],
        "end" => &["end"],
        "both" => &["start", "end"],
        _ => return None,
    };
    Some(
        places
            .iter()
            .map(|&at| {
                let (words, there) = if at == "start" {
                    (&start_words, prompt::at_start(head))
                } else {
                    (&end_words, prompt::at_end(tail))
                };
                ExplicitMark {
                    kind: ExplicitKind::TextPrompt,
                    text: Some(words.clone()),
                    location: at.to_string(),
                    intact: Some(there.is_some_and(|f| prompt::same_words(&f.text, words))),
                }
            })
            .collect(),
    )
}

/// Reads markers and prompts from a body into `scan`.
fn read_markers(
    body: &str,
    summary: marker::Summary,
    scan: &mut Scan,
    has_front_matter_label: bool,
) {
    let marker::Summary {
        runs,
        damaged,
        full,
        fragments,
        ..
    } = summary;
    if damaged > 0 {
        scan.findings.push(Finding::warning(
            "text.marker_damaged",
            format!("{damaged} invisible marker(s) are present but damaged"),
        ));
    }
    for json in &full {
        scan.carriers.push(Carrier {
            location: "invisible marker (full record)".into(),
            value: json.clone(),
            kind: if has_front_matter_label {
                CarrierKind::InTextCopy
            } else {
                CarrierKind::Metadata
            },
        });
    }
    for f in prompt::detect(body) {
        scan.explicit.push(ExplicitMark {
            kind: ExplicitKind::TextPrompt,
            text: Some(f.text),
            location: f.location.to_string(),
            intact: None,
        });
    }
    if runs == 0 && (!scan.explicit.is_empty() || has_front_matter_label) {
        scan.findings.push(Finding::warning(
            "text.marker_absent",
            "no invisible marker in the text: it was removed (NFKC_Casefold or a tool that strips \
             default-ignorable characters) or never written; only what is visible remains",
        ));
    }
    let sealed: Vec<(String, String)> = full
        .iter()
        .filter_map(|j| LabelRecord::parse(j, 64).record)
        .map(|r| {
            (
                r.content_producer.unwrap_or_default(),
                r.produce_id.unwrap_or_default(),
            )
        })
        .collect();
    for (c, paragraphs) in &fragments {
        let (label, producer, id) = (&c.label, &c.producer, &c.produce_id);
        let list = paragraph_list(paragraphs);
        scan.findings.push(Finding::info(
            "text.fragment",
            format!(
                "{list} carr{} producer {producer}, content id {id}",
                if paragraphs.len() == 1 { "ies" } else { "y" }
            ),
        ));
        if !sealed.is_empty() && !sealed.iter().any(|(p, i)| p == producer && i == id) {
            scan.findings.push(Finding::warning(
                "text.fragment_mismatch",
                format!(
                    "{list} name producer {producer}, content id {id}, unlike the sealed record: \
                         the text mixes parts of different labeled texts"
                ),
            ));
        }
        if full.is_empty() && !has_front_matter_label {
            let mut rec = LabelRecord::new(crate::LabelKind::Generated, producer, id);
            rec.label = Some(label.clone());
            let value = rec.to_json().unwrap_or_else(|_| {
                serde_json::json!({"Label": label, "ContentProducer": producer, "ProduceID": id}).to_string()
            });
            scan.carriers.push(Carrier {
                location: format!("paragraph fragment ({list})"),
                value,
                kind: CarrierKind::Metadata,
            });
        }
    }
    if full.is_empty() && !has_front_matter_label && !fragments.is_empty() {
        scan.findings.push(Finding::info(
            "text.partial_copy",
            "only per-paragraph markers were found, not the sealed record: this is part of a \
             labeled text; the label it names cannot be checked against the seal",
        ));
    }
}

/// "paragraph 3" or "paragraphs 1, 2, 5 …".
fn paragraph_list(p: &[u32]) -> String {
    let mut v = p.to_vec();
    // In order already when read from one text.
    if !v.is_sorted() {
        v.sort_unstable();
    }
    v.dedup();
    let shown: Vec<String> = v.iter().take(8).map(u32::to_string).collect();
    let more = if v.len() > 8 {
        format!(" and {} more", v.len() - 8)
    } else {
        String::new()
    };
    if v.len() == 1 {
        format!("paragraph {}", shown.join(""))
    } else {
        format!("paragraphs {}{more}", shown.join(", "))
    }
}
