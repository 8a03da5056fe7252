//! Markdown front matter: the text guide's `AIGC:` mapping in the YAML block at the head.
//!
//! Written as the guide shows it, the seven Annex E keys as double-quoted strings:
//!
//! ```yaml
//! ---
//! title: kept as it was
//! AIGC:
//!   Label: "1"
//!   ContentProducer: "001191000000MA00DEMO0X10000"
//!   …
//! ---
//! ```
//!
//! The user's YAML is edited as text, never re-serialised: an existing top-level `AIGC` entry
//! (with its indented lines) is replaced, every other line is kept byte for byte. Reading is
//! tolerant: the block form, a flow mapping `AIGC: {"Label": "1", …}`, or a JSON string. Values
//! in Annex E's character set need no YAML escaping beyond `\"`, so a full YAML parser is not
//! needed for what is written; what others write is read line by line and reported when odd.
//!
//! The rest of the front matter is content: a title or description is shown by every site
//! generator, so [`bound`] gives it to the digest, less the `AIGC` entry the label itself
//! writes (so writing or replacing the label keeps the digest, and a document without front
//! matter reads the same as one whose front matter holds only the label).

use serde_json::{Map, Value};

use crate::findings::Finding;
use crate::label::{FIELD_NAMES, LabelRecord};

/// The front matter's place in a Markdown text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// Byte range of the YAML between the fences.
    pub yaml: (usize, usize),
    /// Where the body starts (after the closing fence's line).
    pub body: usize,
}

/// Finds a front matter block: `---` on the first line, closed by `---` or `...`.
pub fn find(text: &str) -> Option<Block> {
    let start = if text.starts_with('\u{FEFF}') { 3 } else { 0 };
    let rest = &text[start..];
    let first_end = rest.find('\n')?;
    if rest[..first_end].trim_end() != "---" {
        return None;
    }
    let yaml_start = start + first_end + 1;
    let mut pos = yaml_start;
    for line in text[yaml_start..].split_inclusive('\n') {
        let t = line.trim_end();
        if t == "---" || t == "..." {
            return Some(Block {
                yaml: (yaml_start, pos),
                body: pos + line.len(),
            });
        }
        pos += line.len();
    }
    None
}

/// Byte range of the top-level `AIGC` entry (its key line and indented continuation lines).
fn aigc_entry(yaml: &str) -> Option<(usize, usize)> {
    let mut pos = 0;
    let mut found: Option<usize> = None;
    for line in yaml.split_inclusive('\n') {
        let here = pos;
        pos += line.len();
        match found {
            None => {
                let key = line.split(':').next().unwrap_or("").trim_end();
                let key = key.trim_matches(|c| c == '"' || c == '\'');
                if !line.starts_with([' ', '\t'])
                    && line.contains(':')
                    && key.eq_ignore_ascii_case("AIGC")
                {
                    found = Some(here);
                }
            }
            Some(s) => {
                if !(line.starts_with([' ', '\t']) || line.trim().is_empty()) {
                    return Some((s, here));
                }
            }
        }
    }
    found.map(|s| (s, yaml.len()))
}

/// The front matter as the digest binds it: every line of the YAML except the top-level `AIGC`
/// entry, each without trailing whitespace (CRLF, trimming editors), blank lines left out,
/// width folded and in NFC; `None` when nothing is left (no front matter, or only the label).
/// The fences are not content: `---` or `...` close the block alike.
pub fn bound(text: &str) -> Option<String> {
    let fm = find(text)?;
    let yaml = text.get(fm.yaml.0..fm.yaml.1)?;
    let (s, e) = aigc_entry(yaml).unwrap_or((yaml.len(), yaml.len()));
    let mut out = String::new();
    for part in [&yaml[..s], &yaml[e..]] {
        for line in part.lines() {
            let line = line.trim_end();
            if line.is_empty() {
                continue;
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    (!out.is_empty()).then(|| super::digest::fold_chars(&out))
}

/// The `AIGC:` block for a record, with a trailing newline.
pub fn render(record: &LabelRecord) -> String {
    let mut s = String::from("AIGC:\n");
    for (name, value) in record.fields() {
        s.push_str("  ");
        s.push_str(name);
        s.push_str(": \"");
        for c in value.unwrap_or("").chars() {
            if c == '"' || c == '\\' {
                s.push('\\');
            }
            s.push(c);
        }
        s.push_str("\"\n");
    }
    s
}

/// `text` with the front matter's `AIGC` entry set to `record`, everything else kept.
pub fn write(text: &str, record: &LabelRecord) -> String {
    let block = render(record);
    let Some(fm) = find(text) else {
        let mut out = String::with_capacity(text.len() + block.len() + 8);
        out.push_str("---\n");
        out.push_str(&block);
        out.push_str("---\n");
        out.push_str(text);
        return out;
    };
    let yaml = &text[fm.yaml.0..fm.yaml.1];
    let mut out = String::with_capacity(text.len() + block.len());
    match aigc_entry(yaml) {
        Some((s, e)) => {
            out.push_str(&text[..fm.yaml.0 + s]);
            out.push_str(&block);
            out.push_str(&text[fm.yaml.0 + e..]);
        }
        None => {
            out.push_str(&text[..fm.yaml.1]);
            if !yaml.is_empty() && !yaml.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&block);
            out.push_str(&text[fm.yaml.1..]);
        }
    }
    out
}

/// Unquotes a YAML scalar (double-quoted with escapes, single-quoted, or plain).
fn scalar(s: &str) -> String {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        let mut out = String::with_capacity(inner.len());
        let mut esc = false;
        for c in inner.chars() {
            if esc {
                out.push(c);
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else {
                out.push(c);
            }
        }
        return out;
    }
    if let Some(inner) = s.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        return inner.replace("''", "'");
    }
    // A plain scalar ends at a comment.
    s.split(" #").next().unwrap_or("").trim().to_string()
}

/// Reads the `AIGC` entry as JSON text for the core, with findings on how it was written.
pub fn read(text: &str, findings: &mut Vec<Finding>) -> Option<String> {
    let fm = find(text)?;
    let yaml = &text[fm.yaml.0..fm.yaml.1];
    let (s, e) = aigc_entry(yaml)?;
    let entry = &yaml[s..e];
    let (_, inline) = entry.split_once(':')?;
    let first_line = inline.lines().next().unwrap_or("").trim();
    if first_line.starts_with('{') {
        findings.push(Finding::info(
            "markdown.front_matter_flow",
            "the front matter's AIGC entry is a flow mapping",
        ));
        let flow: String = inline.lines().map(str::trim).collect::<Vec<_>>().join(" ");
        if serde_json::from_str::<Value>(&flow).is_ok() {
            return Some(flow);
        }
        return Some(flow_to_json(&flow));
    }
    if !first_line.is_empty() {
        findings.push(Finding::warning(
            "markdown.front_matter_string",
            "the front matter's AIGC entry is a string holding the label, not a mapping",
        ));
        return Some(scalar(first_line));
    }
    let mut map = Map::new();
    for line in inline.lines().skip(1) {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = t.split_once(':') {
            map.insert(scalar(k), Value::String(scalar(v)));
        }
    }
    Some(Value::Object(map).to_string())
}

/// A YAML flow mapping with plain or quoted keys and values, as JSON.
fn flow_to_json(flow: &str) -> String {
    let inner = flow.trim().trim_start_matches('{').trim_end_matches('}');
    let mut map = Map::new();
    for part in inner.split(',') {
        if let Some((k, v)) = part.split_once(':') {
            let key = scalar(k);
            if FIELD_NAMES.iter().any(|f| f.eq_ignore_ascii_case(&key)) || !key.is_empty() {
                map.insert(key, Value::String(scalar(v)));
            }
        }
    }
    Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> LabelRecord {
        LabelRecord::new(
            crate::LabelKind::Generated,
            "001191000000MA00DEMO0X10000",
            "id-1",
        )
    }

    #[test]
    fn written_and_read_back() {
        let text = "---\ntitle: \"Hello\"\ntags: [a, b]\n---\n# Body\n";
        let out = write(text, &record());
        assert!(out.starts_with("---\ntitle: \"Hello\"\ntags: [a, b]\nAIGC:\n  Label: \"1\"\n"));
        assert!(out.ends_with("---\n# Body\n"));
        let json = read(&out, &mut Vec::new()).unwrap();
        let r = LabelRecord::parse(&json, 64).record.unwrap();
        assert_eq!(r.produce_id.as_deref(), Some("id-1"));
        // Replacing keeps the rest.
        let mut r2 = record();
        r2.produce_id = Some("id-2".into());
        let again = write(&out, &r2);
        assert_eq!(again.matches("AIGC:").count(), 1);
        assert!(again.contains("id-2") && !again.contains("id-1"));
        assert!(again.contains("tags: [a, b]\n"));
    }

    #[test]
    fn tolerant_reading() {
        let flow = "---\nAIGC: {Label: \"1\", ContentProducer: 'X', ProduceID: abc}\n---\nbody";
        let r = LabelRecord::parse(&read(flow, &mut Vec::new()).unwrap(), 64)
            .record
            .unwrap();
        assert_eq!(r.content_producer.as_deref(), Some("X"));
        let json =
            "---\nAIGC: '{\"Label\":\"1\",\"ContentProducer\":\"Y\",\"ProduceID\":\"z\"}'\n---\n";
        let r = LabelRecord::parse(&read(json, &mut Vec::new()).unwrap(), 64)
            .record
            .unwrap();
        assert_eq!(r.content_producer.as_deref(), Some("Y"));
        assert!(read("no front matter", &mut Vec::new()).is_none());
    }
}
