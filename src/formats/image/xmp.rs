//! The XMP packet: finding the `TC260:AIGC` property, and merging a new one into a packet.
//!
//! The property is looked up by namespace (`http://www.tc260.org.cn/ns/AIGC/1.0/`), whatever
//! prefix the file binds to it, in element form (`<TC260:AIGC>json</TC260:AIGC>`) and in attribute
//! form (`TC260:AIGC="json"` on an `rdf:Description`). Real files also carry shapes the guide does
//! not show, and a reader must miss none of them while inventing no label:
//!
//! - an `AIGC` property outside the TC260 namespace (no prefix, or another namespace) whose value
//!   is JSON;
//! - the seven Annex E fields as separate properties (`<rdf:Description Label="1"
//!   ContentProducer="…" …/>`, unprefixed or in the TC260 namespace, as attributes or elements,
//!   or inside a `TC260:AIGC` struct), read as one record when `Label` and `ContentProducer` or
//!   `ProduceID` are there. `xmp:Label` (a colour label) is in another namespace and is not one.
//!
//! IPTC `Iptc4xmpExt:DigitalSourceType` is reported as a declaration (element, attribute or
//! `rdf:resource` form; full URI or bare code).
//!
//! Merging must keep every other property of a packet byte for byte, which a parse-and-reserialise
//! through an XML library would not, so the packet is tokenised here by hand (a small tokenizer
//! that records byte ranges): the old label and DigitalSourceType properties are cut out (with an
//! `rdf:Description` left empty by that) and one new `rdf:Description` holding both is put before
//! `</rdf:RDF>`. XMP allows several `rdf:Description` elements about the same resource.
//!
//! The tokenizer never expands entities beyond the five predefined ones and character references,
//! skips DOCTYPE declarations, and stops at [`Limits::max_nesting_depth`](crate::Limits).

use std::ops::Range;

use crate::error::{Error, Result};
use crate::findings::Finding;
use crate::format::{Carrier, CarrierKind, Declaration, DeclarationKind, Scan};
use crate::limits::Limits;

pub const TC260_NS: &str = "http://www.tc260.org.cn/ns/AIGC/1.0/";
pub const IPTC_EXT_NS: &str = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/";
pub const RDF_NS: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
pub const TRAINED_ALGORITHMIC_MEDIA: &str =
    "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";

/// The Annex E keys, in order.
const ANNEX_E_KEYS: [&str; 7] = crate::label::FIELD_NAMES;

/// A label property found in a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// The value, entities resolved (for the field form, the record rebuilt as JSON).
    pub value: String,
    /// True for the attribute form.
    pub attribute: bool,
    /// The prefix the file uses for the namespace.
    pub prefix: String,
    /// The namespace of the `AIGC` property (empty for none): the TC260 one unless noted.
    pub namespace: String,
    /// True when the record was rebuilt from separate field properties.
    pub fields: bool,
}

/// What the packet holds of interest to labeling.
#[derive(Debug, Clone, Default)]
struct Survey {
    labels: Vec<Property>,
    /// IPTC DigitalSourceType values.
    source_types: Vec<String>,
    /// Byte ranges to cut when merging (old label and DigitalSourceType properties).
    cut: Vec<Range<usize>>,
    /// `rdf:Description` elements that hold nothing but what may be cut.
    descriptions: Vec<Description>,
    /// Offset of the `</rdf:RDF>` end tag.
    rdf_end: Option<usize>,
}

/// An `rdf:Description` whose start tag carries no attribute besides `rdf:about`, namespace
/// declarations and what is cut: it goes when its content is cut away.
#[derive(Debug, Clone)]
struct Description {
    whole: Range<usize>,
    inner: Range<usize>,
}

impl Survey {
    /// The ranges to cut, with every `rdf:Description` the cuts leave empty.
    fn cuts(&self, packet: &str) -> Vec<Range<usize>> {
        let mut cut = self.cut.clone();
        for d in &self.descriptions {
            let inside: Vec<&Range<usize>> = self
                .cut
                .iter()
                .filter(|r| r.start >= d.whole.start && r.end <= d.whole.end)
                .collect();
            if inside.is_empty() {
                continue;
            }
            let empty = (d.inner.start..d.inner.end).all(|i| {
                inside.iter().any(|r| r.contains(&i)) || packet.as_bytes()[i].is_ascii_whitespace()
            });
            if empty {
                cut.push(d.whole.clone());
            }
        }
        cut.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        cut
    }
}

/// Reads the labels and DigitalSourceType declarations of an XMP packet into `scan`.
pub fn scan_into(packet: &[u8], location: &str, limits: &Limits, scan: &mut Scan) {
    let text = String::from_utf8_lossy(packet);
    let s = match survey(&text, limits.max_nesting_depth) {
        Ok(s) => s,
        Err(e) => {
            scan.findings.push(Finding::warning(
                "xmp.unreadable",
                format!("the XMP packet in {location} cannot be read: {e}"),
            ));
            return;
        }
    };
    if s.labels.len() > 1 {
        scan.findings.push(Finding::warning(
            "xmp.duplicate_property",
            format!(
                "the XMP packet in {location} holds the AIGC label {} times",
                s.labels.len()
            ),
        ));
    }
    for p in s.labels {
        let name = if p.prefix.is_empty() {
            "AIGC".to_string()
        } else {
            format!("{}:AIGC", p.prefix)
        };
        let where_ = if p.fields {
            scan.findings.push(Finding::info(
                "xmp.field_form",
                format!(
                    "the label's fields are separate XMP properties in {location}; read as one \
                     record"
                ),
            ));
            format!("XMP Annex E fields ({location})")
        } else if p.namespace != TC260_NS {
            scan.findings.push(Finding::warning(
                "xmp.namespace",
                format!(
                    "the AIGC property in {location} is {}, not in the TC260 namespace {TC260_NS}",
                    if p.namespace.is_empty() {
                        "in no namespace".to_string()
                    } else {
                        format!("in the namespace {}", p.namespace)
                    }
                ),
            ));
            format!("XMP {name} ({location})")
        } else {
            if p.prefix != "TC260" {
                scan.findings.push(Finding::info(
                    "xmp.prefix",
                    format!(
                        "the TC260 namespace is bound to the prefix {:?} in {location}",
                        p.prefix
                    ),
                ));
            }
            format!("XMP {name} ({location})")
        };
        if p.attribute && !p.fields {
            scan.findings.push(Finding::info(
                "xmp.attribute_form",
                format!("the AIGC label is written as an attribute in {location}"),
            ));
        }
        scan.carriers.push(Carrier {
            location: where_,
            value: p.value,
            kind: CarrierKind::Metadata,
        });
    }
    for v in s.source_types {
        scan.declarations.push(Declaration {
            kind: DeclarationKind::IptcDigitalSourceType,
            ai_generated: is_ai_source_type(&v),
            value: v,
            location: format!("XMP Iptc4xmpExt:DigitalSourceType ({location})"),
        });
    }
}

/// Whether an IPTC DigitalSourceType (full URI or bare code) says the content was made by
/// generative AI. The IPTC vocabulary defines `trainedAlgorithmicMedia` ("created by algorithm
/// using a model derived from sampled content") and `compositeWithTrainedAlgorithmicMedia` (a
/// composite that includes such elements) as the AI-generated ones; `algorithmicMedia` is
/// "created purely by an algorithm not based on any sampled training data" (procedural, not
/// generative AI), and `compositeSynthetic`/`algorithmicallyEnhanced` do not say AI either.
pub fn is_ai_source_type(value: &str) -> bool {
    let code = value
        .trim()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("");
    code.eq_ignore_ascii_case("trainedAlgorithmicMedia")
        || code.eq_ignore_ascii_case("compositeWithTrainedAlgorithmicMedia")
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
    let cut = s.cuts(packet);
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

/// Returns `packet` without its label and DigitalSourceType properties, or `None` when it holds
/// no label.
pub fn strip(packet: &str, max_depth: usize) -> Result<Option<String>> {
    let s = survey(packet, max_depth)?;
    if s.labels.is_empty() {
        return Ok(None);
    }
    let cut = s.cuts(packet);
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

/// An element being read.
struct Open {
    prefix_ns: Vec<(String, String)>,
    kind: PropKind,
    /// Where its start tag began, and the prefix of its name.
    start: usize,
    prefix: String,
    /// The namespace of its name (empty for none).
    ns: String,
    /// Its text (for the kinds that keep it).
    text: String,
    /// Annex E fields found as its attributes or child elements, and their ranges.
    fields: Fields,
    /// How many labels were found before it opened.
    labels_before: usize,
    /// For an `rdf:Description`: the end of its start tag, and whether that tag carries an
    /// attribute that is neither `rdf:about`, a namespace declaration nor cut.
    description: Option<(usize, bool)>,
}

/// Annex E fields stored as separate properties.
#[derive(Default)]
struct Fields {
    values: Vec<(&'static str, String)>,
    spans: Vec<Range<usize>>,
    any_attribute: bool,
}

impl Fields {
    fn add(&mut self, key: &'static str, value: String, span: Range<usize>) {
        if !self.values.iter().any(|(k, _)| *k == key) {
            self.values.push((key, value.trim().to_string()));
        }
        self.spans.push(span);
    }
    /// A record when the fields make one: `Label` and who made it or its id.
    fn record(&self) -> Option<String> {
        let has = |k: &str| self.values.iter().any(|(key, _)| *key == k);
        if !(has("Label") && (has("ContentProducer") || has("ProduceID"))) {
            return None;
        }
        let mut out = String::from("{");
        for key in ANNEX_E_KEYS {
            if let Some((_, v)) = self.values.iter().find(|(k, _)| *k == key) {
                if out.len() > 1 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).unwrap_or_default());
                out.push(':');
                out.push_str(&serde_json::to_string(v).unwrap_or_default());
            }
        }
        out.push('}');
        Some(out)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PropKind {
    Label,
    /// `AIGC` outside the TC260 namespace.
    OtherLabel,
    /// One of the Annex E keys, unprefixed or in the TC260 namespace.
    Field(&'static str),
    SourceType,
    Rdf,
    Description,
    Other,
}

impl PropKind {
    /// Whether the element's text is kept.
    fn keeps_text(self) -> bool {
        matches!(
            self,
            PropKind::Label | PropKind::OtherLabel | PropKind::Field(_) | PropKind::SourceType
        )
    }
}

fn classify(ns: Option<&str>, local: &str) -> PropKind {
    let plain = matches!(ns, None | Some("") | Some(TC260_NS));
    match (ns, local) {
        (Some(TC260_NS), "AIGC") => PropKind::Label,
        (_, "AIGC") => PropKind::OtherLabel,
        (Some(IPTC_EXT_NS), "DigitalSourceType") => PropKind::SourceType,
        (Some(RDF_NS), "RDF") => PropKind::Rdf,
        (Some(RDF_NS), "Description") => PropKind::Description,
        _ if plain => ANNEX_E_KEYS
            .iter()
            .find(|k| k.eq_ignore_ascii_case(local))
            .map_or(PropKind::Other, |k| PropKind::Field(k)),
        _ => PropKind::Other,
    }
}

/// Whether a value found under `AIGC` outside the TC260 namespace is a record (JSON), not some
/// other use of the name.
fn json_like(value: &str) -> bool {
    let v = value.trim_start();
    v.starts_with('{') || v.starts_with("\"{")
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

impl Survey {
    /// A label property, cut from the packet when merging.
    fn label(
        &mut self,
        value: String,
        attribute: bool,
        prefix: &str,
        ns: &str,
        span: Range<usize>,
    ) {
        self.labels.push(Property {
            value,
            attribute,
            prefix: prefix.to_string(),
            namespace: ns.to_string(),
            fields: false,
        });
        self.cut.push(span);
    }
    /// Closes an element's field set: a record when the fields make one.
    fn fields(&mut self, f: &Fields) -> bool {
        let Some(value) = f.record() else {
            return false;
        };
        self.labels.push(Property {
            value,
            attribute: f.any_attribute,
            prefix: String::new(),
            namespace: TC260_NS.to_string(),
            fields: true,
        });
        self.cut.extend(f.spans.iter().cloned());
        true
    }
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
            && let Some(text) = kept_text(&mut stack)
        {
            text.push_str(&unescape(&packet[pos..lt]));
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
            if let Some(text) = kept_text(&mut stack) {
                text.push_str(&cdata[..end]);
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
            close(&mut out, &mut stack, open, lt, end);
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
            let (p, local) = split_name(name);
            let ns = resolve(&stack, &decls, p).map(str::to_string);
            let kind = classify(ns.as_deref(), local);
            let mut fields = Fields::default();
            let mut other_attrs = false;
            let mut resource = None;
            for a in &attrs {
                let (ap, alocal) = split_name(&a.name);
                if ap == "xmlns" || a.name == "xmlns" {
                    continue;
                }
                // An unprefixed attribute is in no namespace (not the default one).
                let ans = if ap.is_empty() {
                    None
                } else {
                    resolve(&stack, &decls, ap)
                };
                match classify(ans, alocal) {
                    PropKind::Label => out.label(
                        a.value.trim().to_string(),
                        true,
                        ap,
                        TC260_NS,
                        a.span.clone(),
                    ),
                    PropKind::OtherLabel if json_like(&a.value) => out.label(
                        a.value.trim().to_string(),
                        true,
                        ap,
                        ans.unwrap_or(""),
                        a.span.clone(),
                    ),
                    PropKind::SourceType => {
                        out.source_types.push(a.value.trim().to_string());
                        out.cut.push(a.span.clone());
                    }
                    PropKind::Field(key) => {
                        fields.add(key, a.value.clone(), a.span.clone());
                        fields.any_attribute = true;
                    }
                    _ if ans == Some(RDF_NS) && alocal == "resource" => {
                        resource = Some(a.value.trim().to_string());
                        other_attrs = true;
                    }
                    _ if ans == Some(RDF_NS) && alocal == "about" => {}
                    _ => other_attrs = true,
                }
            }
            let mut open = Open {
                prefix_ns: decls,
                kind,
                start: lt,
                prefix: p.to_string(),
                ns: ns.unwrap_or_default(),
                text: String::new(),
                fields,
                labels_before: out.labels.len(),
                description: (kind == PropKind::Description).then_some((tag_end, other_attrs)),
            };
            if self_closing {
                if let Some(r) = resource {
                    open.text = r;
                }
                close(&mut out, &mut stack, open, tag_end, tag_end);
            } else {
                if stack.len() >= max_depth {
                    return Err(Error::Limit(format!(
                        "XMP nests deeper than {max_depth} levels"
                    )));
                }
                stack.push(open);
            }
            pos = tag_end;
        }
    }
    Ok(out)
}

/// Ends the element `open`, whose end tag spans `end_tag..end` (equal for a self-closing one).
fn close(out: &mut Survey, stack: &mut [Open], open: Open, end_tag: usize, end: usize) {
    let whole = open.start..end;
    let from_fields = !matches!(open.kind, PropKind::Field(_)) && out.fields(&open.fields);
    // A struct whose inner description made the record has nothing left to read.
    let inner_label = out.labels.len() > open.labels_before + usize::from(from_fields);
    match open.kind {
        PropKind::Label => {
            let read_inside = from_fields || (inner_label && open.text.trim().is_empty());
            if !read_inside {
                out.label(
                    open.text.trim().to_string(),
                    false,
                    &open.prefix,
                    TC260_NS,
                    whole,
                );
            } else {
                out.cut.push(whole);
            }
        }
        PropKind::OtherLabel if !from_fields && json_like(&open.text) => out.label(
            open.text.trim().to_string(),
            false,
            &open.prefix,
            &open.ns,
            whole,
        ),
        PropKind::SourceType => {
            out.source_types.push(open.text.trim().to_string());
            out.cut.push(whole);
        }
        PropKind::Field(key) => {
            if let Some(parent) = stack.last_mut() {
                parent.fields.add(key, open.text, whole);
            }
        }
        PropKind::Rdf => out.rdf_end = out.rdf_end.or(Some(end_tag)),
        PropKind::Description => {
            if let Some((tag_end, other_attrs)) = open.description {
                let unread_fields = !from_fields && !open.fields.spans.is_empty();
                if !other_attrs && !unread_fields {
                    out.descriptions.push(Description {
                        whole,
                        inner: tag_end.min(end_tag)..end_tag,
                    });
                }
            }
        }
        _ => {}
    }
}

/// The text buffer of the innermost open element that keeps its text: descendants' text belongs
/// to it.
fn kept_text(stack: &mut [Open]) -> Option<&mut String> {
    stack
        .iter_mut()
        .rev()
        .find(|o| o.kind.keeps_text())
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

    fn packet(body: &str) -> String {
        format!(
            "<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?><x:xmpmeta xmlns:x='adobe:ns:meta/'>\
             <rdf:RDF xmlns:rdf='{RDF_NS}'>{body}</rdf:RDF></x:xmpmeta><?xpacket end='w'?>"
        )
    }

    #[test]
    fn reads_the_fields_as_separate_properties() {
        // Unprefixed attributes, as some providers write them.
        let p = packet(
            "<rdf:Description rdf:about='' Label='1' ContentProducer='001191000000MA00DEMO0X10000' \
             ProduceID='abc' ReservedCode1='AM1;x'/>",
        );
        let found = find_labels(&p, 64).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].fields);
        assert_eq!(
            found[0].value,
            r#"{"Label":"1","ContentProducer":"001191000000MA00DEMO0X10000","ProduceID":"abc","ReservedCode1":"AM1;x"}"#
        );
        // Elements in the TC260 namespace, and a TC260:AIGC struct.
        let p = packet(&format!(
            "<rdf:Description rdf:about='' xmlns:TC260='{TC260_NS}'><TC260:Label>1</TC260:Label>\
             <TC260:ProduceID>abc</TC260:ProduceID></rdf:Description>"
        ));
        assert_eq!(
            find_labels(&p, 64).unwrap()[0].value,
            r#"{"Label":"1","ProduceID":"abc"}"#
        );
        let p = packet(&format!(
            "<rdf:Description rdf:about='' xmlns:TC260='{TC260_NS}'>\
             <TC260:AIGC rdf:parseType='Resource'><TC260:Label>2</TC260:Label>\
             <TC260:ContentProducer>x</TC260:ContentProducer></TC260:AIGC></rdf:Description>"
        ));
        let found = find_labels(&p, 64).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].value, r#"{"Label":"2","ContentProducer":"x"}"#);
        // Merging replaces the field form: one label remains.
        let merged = merge(Some(&p), JSON, 64).unwrap();
        let found = find_labels(&merged, 64).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].value, JSON);
    }

    #[test]
    fn invents_no_label() {
        // xmp:Label is a colour label; a lone unprefixed Label is not a record; an AIGC
        // property in another namespace that is not JSON is something else.
        for body in [
            "<rdf:Description rdf:about='' xmlns:xmp='http://ns.adobe.com/xap/1.0/' \
             xmp:Label='Red' xmp:CreatorTool='x'/>",
            "<rdf:Description rdf:about='' Label='1'/>",
            "<rdf:Description rdf:about='' xmlns:o='http://example.com/o/' o:AIGC='true'/>",
            "<rdf:Description rdf:about='' xmlns:xmp='http://ns.adobe.com/xap/1.0/'>\
             <xmp:Label>Red</xmp:Label><xmp:Rating>3</xmp:Rating></rdf:Description>",
        ] {
            assert!(find_labels(&packet(body), 64).unwrap().is_empty(), "{body}");
        }
    }

    #[test]
    fn reads_aigc_outside_the_namespace() {
        let p = packet(&format!(
            "<rdf:Description rdf:about='' AIGC='{}'/>",
            escape(JSON)
        ));
        let found = find_labels(&p, 64).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].value, JSON);
        assert_eq!(found[0].namespace, "");
        let mut scan = Scan::default();
        scan_into(p.as_bytes(), "test", &Limits::default(), &mut scan);
        assert_eq!(scan.carriers.len(), 1);
        assert!(scan.findings.iter().any(|f| f.code == "xmp.namespace"));
    }

    #[test]
    fn reports_digital_source_type_in_every_form() {
        let cases = [
            (
                format!(
                    "<rdf:Description rdf:about='' xmlns:Iptc4xmpExt='{IPTC_EXT_NS}'>\
                     <Iptc4xmpExt:DigitalSourceType>{TRAINED_ALGORITHMIC_MEDIA}\
                     </Iptc4xmpExt:DigitalSourceType></rdf:Description>"
                ),
                true,
            ),
            (
                format!(
                    "<rdf:Description rdf:about='' xmlns:I='{IPTC_EXT_NS}' \
                     I:DigitalSourceType='compositeWithTrainedAlgorithmicMedia'/>"
                ),
                true,
            ),
            (
                format!(
                    "<rdf:Description rdf:about='' xmlns:I='{IPTC_EXT_NS}'>\
                     <I:DigitalSourceType rdf:resource='http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia'/>\
                     </rdf:Description>"
                ),
                false,
            ),
            (
                format!(
                    "<rdf:Description rdf:about='' xmlns:I='{IPTC_EXT_NS}' \
                     I:DigitalSourceType='http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture'/>"
                ),
                false,
            ),
        ];
        for (body, ai) in cases {
            let mut scan = Scan::default();
            scan_into(
                packet(&body).as_bytes(),
                "test",
                &Limits::default(),
                &mut scan,
            );
            assert_eq!(scan.declarations.len(), 1, "{body}");
            let d = &scan.declarations[0];
            assert_eq!(d.kind, DeclarationKind::IptcDigitalSourceType);
            assert_eq!(d.ai_generated, ai, "{body}");
            assert!(!d.value.is_empty());
            assert!(scan.carriers.is_empty());
        }
    }

    #[test]
    fn merging_again_leaves_no_empty_description() {
        let mut p = new_packet(JSON);
        for _ in 0..3 {
            p = merge(Some(&p), JSON, 64).unwrap();
        }
        assert_eq!(p.matches("<rdf:Description").count(), 1, "{p}");
        // A description holding something else stays.
        let other = packet(&format!(
            "<rdf:Description rdf:about='' xmlns:dc='http://purl.org/dc/elements/1.1/' \
             xmlns:TC260='{TC260_NS}' TC260:AIGC='old'><dc:format>image/png</dc:format>\
             </rdf:Description>"
        ));
        let merged = merge(Some(&other), JSON, 64).unwrap();
        assert_eq!(merged.matches("<rdf:Description").count(), 2, "{merged}");
        assert!(merged.contains("<dc:format>image/png</dc:format>"));
        // Stripping the label leaves no empty description either.
        let stripped = strip(&new_packet(JSON), 64).unwrap().unwrap();
        assert!(!stripped.contains("rdf:Description"), "{stripped}");
    }
}
