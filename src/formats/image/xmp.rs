//! The XMP packet: finding the `TC260:AIGC` property, and merging a new one into a packet.
//!
//! The property is looked up by namespace (`http://www.tc260.org.cn/ns/AIGC/1.0/`), whatever
//! prefix the file binds to it, in element form (`<TC260:AIGC>json</TC260:AIGC>`) and in attribute
//! form (`TC260:AIGC="json"` on an `rdf:Description`). Merging must keep every other property of
//! a packet byte for byte, which a parse-and-reserialise through an XML library would not, so the
//! packet is tokenised here by hand (a small tokenizer that records byte ranges): the old TC260 and
//! DigitalSourceType properties are cut out and one new `rdf:Description` holding both is put
//! before `</rdf:RDF>`. XMP allows several `rdf:Description` elements about the same resource.
//!
//! The tokenizer never expands entities beyond the five predefined ones and character references,
//! skips DOCTYPE declarations, and stops at [`Limits::max_nesting_depth`](crate::Limits).

use std::ops::Range;

use crate::error::{Error, Result};

pub const TC260_NS: &str = "http://www.tc260.org.cn/ns/AIGC/1.0/";
pub const IPTC_EXT_NS: &str = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/";
pub const RDF_NS: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
pub const TRAINED_ALGORITHMIC_MEDIA: &str =
    "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";

/// A `TC260:AIGC` property found in a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// The value, entities resolved.
    pub value: String,
    /// True for the attribute form.
    pub attribute: bool,
    /// The prefix the file uses for the namespace.
    pub prefix: String,
}

/// What the packet holds of interest to labeling.
#[derive(Debug, Clone, Default)]
struct Survey {
    labels: Vec<Property>,
    /// Byte ranges to cut when merging (old TC260:AIGC and DigitalSourceType properties).
    cut: Vec<Range<usize>>,
    /// Offset of the `</rdf:RDF>` end tag.
    rdf_end: Option<usize>,
}

/// Finds every `TC260:AIGC` property in a packet.
pub fn find_labels(packet: &str, max_depth: usize) -> Result<Vec<Property>> {
    Ok(survey(packet, max_depth)?.labels)
}

/// Returns `packet` (or a new packet when `None`) with exactly one `TC260:AIGC` property holding
/// `label_json` and one DigitalSourceType saying trained algorithmic media.
pub fn merge(packet: Option<&str>, label_json: &str, max_depth: usize) -> Result<String> {
    let Some(packet) = packet else {
        return Ok(new_packet(label_json));
    };
    let s = survey(packet, max_depth)?;
    let rdf_end = s.rdf_end.ok_or_else(|| {
        Error::malformed(
            "xmp",
            "the existing XMP packet has no rdf:RDF element to merge into",
        )
    })?;
    let mut cut = s.cut;
    cut.sort_by_key(|r| r.start);
    let mut out = String::with_capacity(packet.len() + label_json.len() + 400);
    let mut last = 0;
    let mut inserted = false;
    for r in cut
        .iter()
        .chain(std::iter::once(&(packet.len()..packet.len())))
    {
        if r.start < last {
            continue; // nested inside a range already cut
        }
        if !inserted && rdf_end <= r.start && rdf_end >= last {
            out.push_str(&packet[last..rdf_end]);
            out.push_str(&description(label_json));
            last = rdf_end;
            inserted = true;
        }
        out.push_str(&packet[last..r.start]);
        last = r.end;
    }
    if !inserted {
        return Err(bad(
            "the existing XMP packet's rdf:RDF element cannot be merged into",
        ));
    }
    Ok(out)
}

/// Returns `packet` without its TC260:AIGC and DigitalSourceType properties, or `None` when it
/// holds no TC260:AIGC property.
pub fn strip(packet: &str, max_depth: usize) -> Result<Option<String>> {
    let s = survey(packet, max_depth)?;
    if s.labels.is_empty() {
        return Ok(None);
    }
    let mut cut = s.cut;
    cut.sort_by_key(|r| r.start);
    let mut out = String::with_capacity(packet.len());
    let mut last = 0;
    for r in &cut {
        if r.start >= last {
            out.push_str(&packet[last..r.start]);
            last = r.end;
        }
    }
    out.push_str(&packet[last..]);
    Ok(Some(out))
}

/// `packet` with `by` bytes less of the padding writers leave between `</x:xmpmeta>` and the
/// trailer, so that it can be edited in place (XMP Part 1, 7.3.2); `None` when there is not that
/// much padding. The packet's meaning is unchanged.
pub fn shrink_padding(packet: &str, by: usize) -> Option<String> {
    let meta_end = packet.rfind("</x:xmpmeta>")? + "</x:xmpmeta>".len();
    let trailer = meta_end + packet[meta_end..].find("<?xpacket end=")?;
    let padding = &packet[meta_end..trailer];
    if !padding.bytes().all(|b| b.is_ascii_whitespace()) || padding.len() < by + 1 {
        return None;
    }
    // The padding's start is kept: it begins with the line break after the element.
    let keep = padding.len() - by;
    let mut out = String::with_capacity(packet.len() - by);
    out.push_str(&packet[..meta_end + keep]);
    out.push_str(&packet[trailer..]);
    Some(out)
}

/// A complete packet holding only the label.
pub fn new_packet(label_json: &str) -> String {
    format!(
        "<?xpacket begin=\"\u{FEFF}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
         <x:xmpmeta xmlns:x=\"adobe:ns:meta/\" x:xmptk=\"aigcmark\">\n\
         <rdf:RDF xmlns:rdf=\"{RDF_NS}\">\n{}\n</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>",
        description(label_json)
    )
}

fn description(label_json: &str) -> String {
    format!(
        "<rdf:Description rdf:about=\"\" xmlns:TC260=\"{TC260_NS}\" xmlns:Iptc4xmpExt=\"{IPTC_EXT_NS}\">\
         <TC260:AIGC>{}</TC260:AIGC>\
         <Iptc4xmpExt:DigitalSourceType>{TRAINED_ALGORITHMIC_MEDIA}</Iptc4xmpExt:DigitalSourceType>\
         </rdf:Description>",
        escape(label_json)
    )
}

/// Entity-escapes text for element content or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// Resolves the predefined entities and character references; unknown entities stay as written.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(semi) = rest.find(';').filter(|&j| j <= 12) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..semi];
        let c = match name {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

struct Attr {
    name: String,
    value: String,
    /// From the whitespace before the name to the closing quote.
    span: Range<usize>,
}

struct Open {
    prefix_ns: Vec<(String, String)>,
    /// Which property element this is, and where its start tag began.
    property: Option<(PropKind, usize, String)>,
    text: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PropKind {
    Label,
    SourceType,
    Rdf,
    Other,
}

fn classify(ns: Option<&str>, local: &str) -> PropKind {
    match (ns, local) {
        (Some(TC260_NS), "AIGC") => PropKind::Label,
        (Some(IPTC_EXT_NS), "DigitalSourceType") => PropKind::SourceType,
        (Some(RDF_NS), "RDF") => PropKind::Rdf,
        _ => PropKind::Other,
    }
}

fn resolve<'a>(stack: &'a [Open], extra: &'a [(String, String)], prefix: &str) -> Option<&'a str> {
    extra
        .iter()
        .rev()
        .chain(stack.iter().rev().flat_map(|o| o.prefix_ns.iter().rev()))
        .find(|(p, _)| p == prefix)
        .map(|(_, ns)| ns.as_str())
}

fn split_name(name: &str) -> (&str, &str) {
    match name.split_once(':') {
        Some((p, l)) => (p, l),
        None => ("", name),
    }
}

fn bad(reason: impl Into<String>) -> Error {
    Error::malformed("xmp", reason)
}

fn survey(packet: &str, max_depth: usize) -> Result<Survey> {
    let mut out = Survey::default();
    let mut stack: Vec<Open> = Vec::new();
    let mut pos = 0;
    let b = packet.as_bytes();
    while pos < b.len() {
        let Some(lt) = packet[pos..].find('<').map(|i| pos + i) else {
            break;
        };
        if lt > pos
            && let Some(label) = label_text(&mut stack)
        {
            label.push_str(&unescape(&packet[pos..lt]));
        }
        let rest = &packet[lt..];
        if rest.starts_with("<!--") {
            pos = lt
                + rest
                    .find("-->")
                    .ok_or_else(|| bad("unterminated comment"))?
                + 3;
        } else if let Some(cdata) = rest.strip_prefix("<![CDATA[") {
            let end = cdata
                .find("]]>")
                .ok_or_else(|| bad("unterminated CDATA section"))?;
            if let Some(label) = label_text(&mut stack) {
                label.push_str(&cdata[..end]);
            }
            pos = lt + 9 + end + 3;
        } else if rest.starts_with("<?") {
            pos = lt
                + rest
                    .find("?>")
                    .ok_or_else(|| bad("unterminated processing instruction"))?
                + 2;
        } else if rest.starts_with("<!") {
            pos = lt
                + rest
                    .find('>')
                    .ok_or_else(|| bad("unterminated declaration"))?
                + 1;
        } else if let Some(end_tag) = rest.strip_prefix("</") {
            let gt = end_tag
                .find('>')
                .ok_or_else(|| bad("unterminated end tag"))?;
            let name = end_tag[..gt].trim();
            let end = lt + 2 + gt + 1;
            let open = stack
                .pop()
                .ok_or_else(|| bad(format!("unexpected </{name}>")))?;
            if let Some((kind, start, prefix)) = open.property {
                match kind {
                    PropKind::Label => {
                        out.labels.push(Property {
                            value: open.text.trim().to_string(),
                            attribute: false,
                            prefix,
                        });
                        out.cut.push(start..end);
                    }
                    PropKind::SourceType => out.cut.push(start..end),
                    PropKind::Rdf => out.rdf_end = out.rdf_end.or(Some(lt)),
                    PropKind::Other => {}
                }
            }
            pos = end;
        } else {
            let (tag_end, self_closing) = tag_end(packet, lt)?;
            let inner = &packet[lt + 1..if self_closing {
                tag_end - 2
            } else {
                tag_end - 1
            }];
            let name_len = inner
                .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
                .unwrap_or(inner.len());
            let name = &inner[..name_len];
            if name.is_empty() {
                return Err(bad(format!("empty tag name at offset {lt}")));
            }
            let attrs = attributes(packet, lt + 1 + name_len, lt + 1 + inner.len())?;
            let decls: Vec<(String, String)> = attrs
                .iter()
                .filter_map(|a| {
                    if a.name == "xmlns" {
                        Some((String::new(), a.value.clone()))
                    } else {
                        a.name
                            .strip_prefix("xmlns:")
                            .map(|p| (p.to_string(), a.value.clone()))
                    }
                })
                .collect();
            for a in &attrs {
                let (p, local) = split_name(&a.name);
                if p.is_empty() || p == "xmlns" {
                    continue;
                }
                match classify(resolve(&stack, &decls, p), local) {
                    PropKind::Label => {
                        out.labels.push(Property {
                            value: a.value.trim().to_string(),
                            attribute: true,
                            prefix: p.to_string(),
                        });
                        out.cut.push(a.span.clone());
                    }
                    PropKind::SourceType => out.cut.push(a.span.clone()),
                    _ => {}
                }
            }
            let (p, local) = split_name(name);
            let kind = classify(resolve(&stack, &decls, p), local);
            if self_closing {
                if kind == PropKind::Label || kind == PropKind::SourceType {
                    out.cut.push(lt..tag_end);
                }
                if kind == PropKind::Label {
                    out.labels.push(Property {
                        value: String::new(),
                        attribute: false,
                        prefix: p.to_string(),
                    });
                }
            } else {
                if stack.len() >= max_depth {
                    return Err(Error::Limit(format!(
                        "XMP nests deeper than {max_depth} levels"
                    )));
                }
                stack.push(Open {
                    prefix_ns: decls,
                    property: Some((kind, lt, p.to_string())),
                    text: String::new(),
                });
            }
            pos = tag_end;
        }
    }
    Ok(out)
}

/// The text of the innermost open `TC260:AIGC` element: its descendants' text belongs to it.
fn label_text(stack: &mut [Open]) -> Option<&mut String> {
    stack
        .iter_mut()
        .rev()
        .find(|o| o.property.as_ref().is_some_and(|p| p.0 == PropKind::Label))
        .map(|o| &mut o.text)
}

/// The end (one past `>`) of the start tag at `lt`, and whether it is self-closing.
fn tag_end(packet: &str, lt: usize) -> Result<(usize, bool)> {
    let b = packet.as_bytes();
    let mut quote = None;
    let mut i = lt + 1;
    while let Some(&c) = b.get(i) {
        match (quote, c) {
            (None, b'"' | b'\'') => quote = Some(c),
            (Some(q), _) if q == c => quote = None,
            (None, b'>') => return Ok((i + 1, i > lt + 1 && b[i - 1] == b'/')),
            _ => {}
        }
        i += 1;
    }
    Err(bad(format!("unterminated tag at offset {lt}")))
}

/// Parses the attributes in `packet[from..to]`.
fn attributes(packet: &str, from: usize, to: usize) -> Result<Vec<Attr>> {
    let b = packet.as_bytes();
    let mut attrs = Vec::new();
    let mut i = from;
    loop {
        let ws_start = i;
        while i < to && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= to {
            break;
        }
        let name_start = i;
        while i < to && !b[i].is_ascii_whitespace() && b[i] != b'=' {
            i += 1;
        }
        let name = &packet[name_start..i];
        while i < to && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= to || b[i] != b'=' {
            return Err(bad(format!("attribute {name} has no value")));
        }
        i += 1;
        while i < to && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let Some(&q) = b.get(i).filter(|&&q| i < to && (q == b'"' || q == b'\'')) else {
            return Err(bad(format!("attribute {name} is not quoted")));
        };
        let v_start = i + 1;
        let v_len = packet[v_start..to]
            .find(q as char)
            .ok_or_else(|| bad(format!("attribute {name} is not terminated")))?;
        i = v_start + v_len + 1;
        attrs.push(Attr {
            name: name.to_string(),
            value: unescape(&packet[v_start..v_start + v_len]),
            span: ws_start..i,
        });
    }
    Ok(attrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = r#"{"Label":"1","ContentProducer":"x"}"#;

    #[test]
    fn new_packet_round_trips() {
        let p = new_packet(JSON);
        let found = find_labels(&p, 64).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].value, JSON);
        assert!(!found[0].attribute);
    }

    #[test]
    fn reads_attribute_form_with_any_prefix() {
        let p = format!(
            "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='{RDF_NS}'>\
             <rdf:Description rdf:about='' xmlns:aigc='{TC260_NS}' aigc:AIGC='{}'/></rdf:RDF></x:xmpmeta>",
            escape(JSON)
        );
        let found = find_labels(&p, 64).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].value, JSON);
        assert!(found[0].attribute);
        assert_eq!(found[0].prefix, "aigc");
    }

    #[test]
    fn merge_replaces_and_keeps_the_rest() {
        let p = format!(
            "<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?><x:xmpmeta xmlns:x='adobe:ns:meta/'>\
             <rdf:RDF xmlns:rdf='{RDF_NS}'><rdf:Description rdf:about='' \
             xmlns:dc='http://purl.org/dc/elements/1.1/' xmlns:T='{TC260_NS}' T:AIGC='old'>\
             <dc:title><rdf:Alt><rdf:li xml:lang='x-default'>Sea &amp; sky</rdf:li></rdf:Alt></dc:title>\
             </rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end='w'?>"
        );
        let merged = merge(Some(&p), JSON, 64).unwrap();
        assert!(
            merged
                .contains("<dc:title><rdf:Alt><rdf:li xml:lang='x-default'>Sea &amp; sky</rdf:li>")
        );
        assert!(!merged.contains("'old'"));
        let found = find_labels(&merged, 64).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].value, JSON);
        let twice = merge(Some(&merged), JSON, 64).unwrap();
        assert_eq!(find_labels(&twice, 64).unwrap().len(), 1);
        assert_eq!(twice.matches("DigitalSourceType>").count(), 2);
    }

    #[test]
    fn padding_shrinks_and_nothing_else() {
        let packet = format!(
            "<?xpacket begin=\"\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?><x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\
             </x:xmpmeta>\n{}\n<?xpacket end=\"w\"?>",
            " ".repeat(100)
        );
        let small = shrink_padding(&packet, 60).unwrap();
        assert_eq!(small.len(), packet.len() - 60);
        let kept = format!("</x:xmpmeta>\n{}<?xpacket end=\"w\"?>", " ".repeat(41));
        assert!(small.ends_with(&kept), "{small:?}");
        assert_eq!(
            small.replace([' ', '\n'], ""),
            packet.replace([' ', '\n'], "")
        );
        assert!(shrink_padding(&packet, 102).is_none());
        assert!(shrink_padding(&new_packet("{}"), 1).is_none());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for s in [
            "<",
            "<a",
            "<a b>",
            "<a b='x>",
            "</a>",
            "<a><!--",
            "<![CDATA[",
            "<a\u{e9} b='\u{e9}'>",
        ] {
            let _ = find_labels(s, 64);
            let _ = merge(Some(s), JSON, 64);
        }
        let deep = "<a>".repeat(100);
        assert!(find_labels(&deep, 64).is_err());
    }
}
