//! The GB 45438-2025 Annex E metadata label: seven fields, written strictly, read tolerantly.
//!
//! Writing: the bare object in Annex E key order, no spaces, every value checked against the
//! allowed characters (GB 18030 0x21, 0x23–0x5B, 0x5D–0x7E, plus the escape `\"`); absent optional
//! fields are written as empty strings, as the standard's example does.
//!
//! Reading: whatever real files carry. The bare and the `{"AIGC":{…}}` wrapped form, JSON encoded
//! twice, keys in another case or misspelled, numbers instead of strings, `"Label":"AIGC"`: each is
//! read as well as it can be and reported as a [`Finding`], never as a failure.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::findings::Finding;

/// Annex E field names, in order.
pub const FIELD_NAMES: [&str; 7] = [
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
];

/// The content attribute of `Label`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LabelKind {
    /// "1": AI-generated.
    Generated,
    /// "2": possibly AI-generated.
    Possibly,
    /// "3": suspected AI-generated.
    Suspected,
}

impl LabelKind {
    pub fn code(self) -> &'static str {
        match self {
            LabelKind::Generated => "1",
            LabelKind::Possibly => "2",
            LabelKind::Suspected => "3",
        }
    }
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "1" => Some(LabelKind::Generated),
            "2" => Some(LabelKind::Possibly),
            "3" => Some(LabelKind::Suspected),
            _ => None,
        }
    }
    pub fn describe(self) -> &'static str {
        match self {
            LabelKind::Generated => "AI-generated",
            LabelKind::Possibly => "possibly AI-generated",
            LabelKind::Suspected => "suspected AI-generated",
        }
    }
}

/// One Annex E record. Every field is optional on reading; [`LabelRecord::to_json`] checks them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LabelRecord {
    #[serde(rename = "Label")]
    pub label: Option<String>,
    #[serde(rename = "ContentProducer")]
    pub content_producer: Option<String>,
    #[serde(rename = "ProduceID")]
    pub produce_id: Option<String>,
    #[serde(rename = "ReservedCode1")]
    pub reserved_code1: Option<String>,
    #[serde(rename = "ContentPropagator")]
    pub content_propagator: Option<String>,
    #[serde(rename = "PropagateID")]
    pub propagate_id: Option<String>,
    #[serde(rename = "ReservedCode2")]
    pub reserved_code2: Option<String>,
}

/// True for a character Annex E allows in a value (a `"` is allowed as the escape `\"`).
pub fn is_allowed_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E' | '"')
}

/// Checks a value against the Annex E character set.
pub fn check_value(field: &str, value: &str) -> Result<()> {
    match value.chars().find(|&c| !is_allowed_char(c)) {
        None => Ok(()),
        Some(c) => Err(Error::InvalidLabel(format!(
            "{field} contains {c:?}, which GB 45438 Annex E does not allow \
             (printable ASCII without space or backslash); use a provider code rather than a name"
        ))),
    }
}

/// True for a 27-character provider code (TC260-PG-20252A): digits and capital letters.
pub fn is_provider_code(s: &str) -> bool {
    s.len() == 27
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

impl LabelRecord {
    /// A new provider record.
    pub fn new(kind: LabelKind, content_producer: &str, produce_id: &str) -> Self {
        LabelRecord {
            label: Some(kind.code().to_string()),
            content_producer: Some(content_producer.to_string()),
            produce_id: Some(produce_id.to_string()),
            ..Default::default()
        }
    }

    /// The fields in Annex E order.
    pub fn fields(&self) -> [(&'static str, Option<&str>); 7] {
        [
            (FIELD_NAMES[0], self.label.as_deref()),
            (FIELD_NAMES[1], self.content_producer.as_deref()),
            (FIELD_NAMES[2], self.produce_id.as_deref()),
            (FIELD_NAMES[3], self.reserved_code1.as_deref()),
            (FIELD_NAMES[4], self.content_propagator.as_deref()),
            (FIELD_NAMES[5], self.propagate_id.as_deref()),
            (FIELD_NAMES[6], self.reserved_code2.as_deref()),
        ]
    }

    fn field_mut(&mut self, index: usize) -> &mut Option<String> {
        match index {
            0 => &mut self.label,
            1 => &mut self.content_producer,
            2 => &mut self.produce_id,
            3 => &mut self.reserved_code1,
            4 => &mut self.content_propagator,
            5 => &mut self.propagate_id,
            _ => &mut self.reserved_code2,
        }
    }

    /// The content attribute, when `Label` holds a valid code.
    pub fn kind(&self) -> Option<LabelKind> {
        self.label.as_deref().and_then(LabelKind::from_code)
    }

    /// The bare Annex E JSON: keys in order, no spaces, all seven present. Fails when a value is
    /// outside the allowed characters or `Label` is not "1", "2" or "3".
    pub fn to_json(&self) -> Result<String> {
        let label = self.label.as_deref().unwrap_or("");
        if LabelKind::from_code(label).is_none() {
            return Err(Error::InvalidLabel(format!(
                "Label must be \"1\", \"2\" or \"3\", not {label:?}"
            )));
        }
        if self.content_producer.as_deref().unwrap_or("").is_empty() {
            return Err(Error::InvalidLabel("ContentProducer is required".into()));
        }
        let mut out = String::with_capacity(256);
        out.push('{');
        for (i, (name, value)) in self.fields().into_iter().enumerate() {
            let value = value.unwrap_or("");
            check_value(name, value)?;
            if i > 0 {
                out.push(',');
            }
            out.push('"');
            out.push_str(name);
            out.push_str("\":\"");
            for c in value.chars() {
                if c == '"' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        }
        out.push('}');
        Ok(out)
    }

    /// The wrapped form `{"AIGC":{…}}` (used where the carrier has no key of its own, such as
    /// EXIF UserComment).
    pub fn to_wrapped_json(&self) -> Result<String> {
        Ok(format!("{{\"AIGC\":{}}}", self.to_json()?))
    }

    /// Reads a record from a carrier's text, reporting every deviation.
    pub fn parse(text: &str, max_depth: usize) -> Parsed {
        let mut findings = Vec::new();
        let mut strict = Vec::new();
        let mut mixed_forms = false;
        let fail = |findings: Vec<Finding>| Parsed {
            record: None,
            findings,
            strict: Vec::new(),
            mixed_forms: false,
        };
        let trimmed = text.trim_matches(|c: char| c.is_whitespace() || c == '\0');
        if trimmed.is_empty() {
            findings.push(Finding::error("label.empty", "the label carrier is empty"));
            return fail(findings);
        }
        if json_depth(trimmed) > max_depth {
            findings.push(Finding::error(
                "label.too_deep",
                format!("the label JSON nests deeper than {max_depth} levels; not read"),
            ));
            return fail(findings);
        }
        let mut value: Json = match serde_json::from_str(trimmed) {
            Ok(v) => v,
            Err(e) => {
                findings.push(Finding::error(
                    "label.not_json",
                    format!("the label is not valid JSON: {e}"),
                ));
                return fail(findings);
            }
        };
        // JSON inside a JSON string, once or twice.
        for _ in 0..2 {
            if let Json::String(inner) = &value {
                match serde_json::from_str::<Json>(inner) {
                    Ok(v @ Json::Object(_)) if json_depth(inner) <= max_depth => {
                        findings.push(Finding::warning(
                            "label.double_encoded",
                            "the label JSON was encoded twice (a JSON string holding JSON)",
                        ));
                        strict.push("the label is a JSON string holding JSON".to_string());
                        value = v;
                    }
                    _ => break,
                }
            }
        }
        let Json::Object(mut map) = value else {
            findings.push(Finding::error(
                "label.not_object",
                "the label JSON is not an object",
            ));
            return fail(findings);
        };
        // Both forms at once: readers that look for the wrapper and readers that take the bare
        // fields see two different labels.
        let has_fields = map.iter().any(|(k, _)| match_field(k).is_some());
        if has_fields
            && map.iter().any(|(k, v)| {
                k.to_ascii_uppercase().contains("AIGC")
                    && matches!(v, Json::Object(_) | Json::String(_))
            })
        {
            findings.push(Finding::error(
                "label.mixed_forms",
                "the label object holds Annex E fields and also a wrapped label under an AIGC \
                 key: readers disagree about which one is the label",
            ));
            strict.push("bare fields beside a wrapped label".into());
            mixed_forms = true;
        }
        // Wrapped form: a key containing "AIGC" holding the object (or a string of it).
        if !map.iter().any(|(k, _)| field_index(k).is_some()) {
            let wrapper = map
                .iter()
                .position(|(k, _)| k.to_ascii_uppercase().contains("AIGC"));
            if let Some(at) = wrapper {
                if map.len() > 1 {
                    strict.push(format!(
                        "the wrapper object holds {} keys besides {:?}",
                        map.len() - 1,
                        map[at].0
                    ));
                }
                let (key, inner) = map.swap_remove(at);
                let inner = match inner {
                    Json::String(s) => match serde_json::from_str::<Json>(&s) {
                        Ok(v) => {
                            findings.push(Finding::warning(
                                "label.double_encoded",
                                format!("the {key:?} wrapper holds the label as a JSON string"),
                            ));
                            strict.push("the wrapper holds the label as a JSON string".into());
                            v
                        }
                        Err(_) => Json::String(s),
                    },
                    v => v,
                };
                if key != "AIGC" {
                    findings.push(Finding::warning(
                        "label.wrapper_key",
                        format!("the label is wrapped under {key:?} rather than \"AIGC\""),
                    ));
                    strict.push(format!("the wrapper key is {key:?}, not \"AIGC\""));
                }
                findings.push(Finding::info(
                    "label.wrapped",
                    "the label uses the wrapped form {\"AIGC\":{…}}",
                ));
                match inner {
                    Json::Object(m) => map = m,
                    _ => {
                        findings.push(Finding::error(
                            "label.not_object",
                            format!("the {key:?} wrapper does not hold an object"),
                        ));
                        return fail(findings);
                    }
                }
            }
        }
        let mut record = LabelRecord::default();
        let mut order = Vec::new();
        let mut seen = [false; 7];
        for (key, v) in map {
            let Some((index, exact)) = match_field(&key) else {
                findings.push(Finding::warning(
                    "label.unknown_key",
                    format!("unknown key {key:?} in the label"),
                ));
                strict.push(format!("unknown key {key:?}"));
                continue;
            };
            let name = FIELD_NAMES[index];
            if !exact {
                findings.push(Finding::warning(
                    "label.key_misspelled",
                    format!("key {key:?} read as {name:?}"),
                ));
                strict.push(format!("key {key:?} is not exactly {name:?}"));
            }
            if std::mem::replace(&mut seen[index], true) {
                findings.push(Finding::warning(
                    "label.duplicate_key",
                    format!("{name} appears more than once; the last one is used"),
                ));
                strict.push(format!("{name} appears more than once"));
            }
            let value = match v {
                Json::String(s) => s,
                Json::Number(n) => {
                    findings.push(Finding::warning(
                        "label.value_not_string",
                        format!("{name} is the number {n}, not a string"),
                    ));
                    strict.push(format!("{name} is not a string"));
                    n.to_string()
                }
                Json::Bool(b) => {
                    findings.push(Finding::warning(
                        "label.value_not_string",
                        format!("{name} is the boolean {b}, not a string"),
                    ));
                    strict.push(format!("{name} is not a string"));
                    b.to_string()
                }
                Json::Null => {
                    strict.push(format!("{name} is null, not a string"));
                    continue;
                }
                other => {
                    findings.push(Finding::warning(
                        "label.value_not_string",
                        format!(
                            "{name} holds a JSON {}, not a string; ignored",
                            other.kind()
                        ),
                    ));
                    strict.push(format!("{name} is not a string"));
                    continue;
                }
            };
            if let Some(c) = value.chars().find(|&c| !is_allowed_char(c)) {
                findings.push(Finding::warning(
                    "label.value_charset",
                    format!("{name} contains {c:?}, outside the characters Annex E allows"),
                ));
            }
            order.push(index);
            *record.field_mut(index) = if value.is_empty() { None } else { Some(value) };
        }
        for (i, name) in FIELD_NAMES.iter().enumerate() {
            if !seen[i] {
                strict.push(format!("{name} is missing"));
            }
        }
        if order.windows(2).any(|w| w[0] > w[1]) {
            findings.push(Finding::info(
                "label.key_order",
                "the keys are not in Annex E order",
            ));
        }
        match record.label.as_deref() {
            None => findings.push(Finding::error(
                "label.missing_label",
                "the Label field is missing",
            )),
            Some(l) if LabelKind::from_code(l).is_none() => findings.push(Finding::warning(
                "label.label_value",
                format!("Label is {l:?}; Annex E allows \"1\", \"2\" or \"3\""),
            )),
            Some(_) => {}
        }
        match record.content_producer.as_deref() {
            None => findings.push(Finding::warning(
                "label.missing_producer",
                "the ContentProducer field is missing",
            )),
            Some(p) if !is_provider_code(p) => findings.push(Finding::info(
                "label.producer_not_code",
                format!("ContentProducer {p:?} is a name, not a 27-character provider code"),
            )),
            Some(_) => {}
        }
        if record.produce_id.is_none() {
            findings.push(Finding::warning(
                "label.missing_produce_id",
                "the ProduceID field is missing",
            ));
        }
        if let Some(p) = record.content_propagator.as_deref()
            && !is_provider_code(p)
        {
            findings.push(Finding::info(
                "label.propagator_not_code",
                format!("ContentPropagator {p:?} is a name, not a 27-character code"),
            ));
        }
        Parsed {
            record: Some(record),
            findings,
            strict,
            mixed_forms,
        }
    }
}

/// The outcome of [`LabelRecord::parse`].
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// `None` when nothing usable was found.
    pub record: Option<LabelRecord>,
    pub findings: Vec<Finding>,
    /// Why the record is not in the strict form a sealed label must have (exactly the seven
    /// Annex E keys, each once, spelled exactly, every value a string, bare or under one `AIGC`
    /// wrapper): empty when it is. Another reader could take a tolerated deviation (a duplicate
    /// key, a key in another case) to mean another producer or Label than the one sealed, so the
    /// verifier treats a sealed record with any of these as conflicting.
    pub strict: Vec<String>,
    /// The object holds Annex E fields and also a wrapped label under an `AIGC` key: readers
    /// disagree about which one is the label, sealed or not.
    pub mixed_forms: bool,
}

/// A JSON value that keeps every object member in order, duplicates included: `serde_json`
/// merges duplicate keys while parsing, before any check could see them.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn kind(&self) -> &'static str {
        match self {
            Json::Array(_) => "array",
            Json::Object(_) => "object",
            _ => "value",
        }
    }
}

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Json, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> std::result::Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, b: bool) -> std::result::Result<Json, E> {
                Ok(Json::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> std::result::Result<Json, E> {
                Ok(Json::Number(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> std::result::Result<Json, E> {
                Ok(Json::Number(n.into()))
            }
            fn visit_f64<E>(self, n: f64) -> std::result::Result<Json, E> {
                Ok(serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number))
            }
            fn visit_str<E>(self, s: &str) -> std::result::Result<Json, E> {
                Ok(Json::String(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> std::result::Result<Json, E> {
                Ok(Json::String(s))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(v) = seq.next_element()? {
                    items.push(v);
                }
                Ok(Json::Array(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Json, A::Error> {
                let mut members = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Json>()? {
                    members.push((k, v));
                }
                Ok(Json::Object(members))
            }
        }
        d.deserialize_any(V)
    }
}

fn field_index(key: &str) -> Option<usize> {
    FIELD_NAMES.iter().position(|n| *n == key)
}

/// Finds the field a key means: exactly, ignoring case and separators, or within a small edit
/// distance of the normalised name (`ContentProduce`, `ProducerID`, `Reservedcode1`, …).
fn match_field(key: &str) -> Option<(usize, bool)> {
    if let Some(i) = field_index(key) {
        return Some((i, true));
    }
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let k = norm(key);
    if k.is_empty() {
        return None;
    }
    let mut best: Option<(usize, usize)> = None;
    for (i, name) in FIELD_NAMES.iter().enumerate() {
        let d = edit_distance(&k, &norm(name));
        if d <= 2 && best.is_none_or(|(_, bd)| d < bd) {
            best = Some((i, d));
        }
    }
    best.map(|(i, _)| (i, false))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 2 || a.len() > 64 || b.len() > 64 {
        return usize::MAX;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The deepest nesting of `[`/`{` outside strings: checked before parsing, so hostile input
/// cannot drive a recursive parser deep.
pub fn json_depth(text: &str) -> usize {
    let (mut depth, mut max, mut in_str, mut esc) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(p: &Parsed) -> Vec<&'static str> {
        p.findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn writes_annex_e_order_without_spaces() {
        let mut r = LabelRecord::new(LabelKind::Generated, "001191000000MA00DEMO0X10000", "id-1");
        r.reserved_code1 = Some("AM1;x".into());
        assert_eq!(
            r.to_json().unwrap(),
            r#"{"Label":"1","ContentProducer":"001191000000MA00DEMO0X10000","ProduceID":"id-1","ReservedCode1":"AM1;x","ContentPropagator":"","PropagateID":"","ReservedCode2":""}"#
        );
    }

    #[test]
    fn writer_rejects_values_outside_the_charset_and_bad_labels() {
        let r = LabelRecord::new(LabelKind::Generated, "Acme AI", "1");
        assert!(matches!(r.to_json(), Err(Error::InvalidLabel(_))));
        let r = LabelRecord::new(LabelKind::Generated, "某公司", "1");
        assert!(r.to_json().is_err());
        let mut r = LabelRecord::new(LabelKind::Generated, "Acme", "1");
        r.label = Some("AIGC".into());
        assert!(r.to_json().is_err());
    }

    #[test]
    fn quote_is_written_as_escape_and_read_back() {
        let r = LabelRecord::new(LabelKind::Possibly, "Acme", "a\"b");
        let json = r.to_json().unwrap();
        assert!(json.contains(r#""ProduceID":"a\"b""#));
        assert_eq!(LabelRecord::parse(&json, 64).record.unwrap(), r);
    }

    #[test]
    fn reads_bare_and_wrapped_forms() {
        let bare =
            r#"{"Label":"1","ContentProducer":"001191000000MA00DEMO0X10000","ProduceID":"x"}"#;
        let p = LabelRecord::parse(bare, 64);
        assert_eq!(
            p.record.as_ref().unwrap().kind(),
            Some(LabelKind::Generated)
        );
        assert!(codes(&p).is_empty(), "{:?}", p.findings);
        let wrapped = format!("{{\"AIGC\":{bare}}}");
        let p2 = LabelRecord::parse(&wrapped, 64);
        assert_eq!(p2.record, p.record);
        assert_eq!(codes(&p2), vec!["label.wrapped"]);
    }

    #[test]
    fn reports_real_world_deviations() {
        let p = LabelRecord::parse(
            r#"{"AIGC":{"Label":"AIGC","ContentProducer":"Acme","ProduceId":12345,"ReservedCode1":"","Foo":"x"}}"#,
            64,
        );
        let r = p.record.clone().unwrap();
        assert_eq!(r.label.as_deref(), Some("AIGC"));
        assert_eq!(r.produce_id.as_deref(), Some("12345"));
        assert_eq!(r.reserved_code1, None);
        let c = codes(&p);
        for want in [
            "label.wrapped",
            "label.key_misspelled",
            "label.value_not_string",
            "label.unknown_key",
            "label.label_value",
            "label.producer_not_code",
        ] {
            assert!(c.contains(&want), "{want} missing from {c:?}");
        }
    }

    #[test]
    fn reads_double_encoded_json() {
        let inner = r#"{"Label":"1","ContentProducer":"Acme","ProduceID":"7"}"#;
        let twice = serde_json::to_string(inner).unwrap();
        let p = LabelRecord::parse(&twice, 64);
        assert_eq!(p.record.as_ref().unwrap().produce_id.as_deref(), Some("7"));
        assert!(codes(&p).contains(&"label.double_encoded"));
        let wrapped_string = format!("{{\"AIGC\":{twice}}}");
        let p = LabelRecord::parse(&wrapped_string, 64);
        assert_eq!(p.record.unwrap().produce_id.as_deref(), Some("7"));
    }

    #[test]
    fn garbage_and_deep_nesting_are_findings_not_failures() {
        for bad in ["", "not json", "[1,2]", "\"x\"", "{\"AIGC\":5}"] {
            let p = LabelRecord::parse(bad, 64);
            assert!(p.record.is_none(), "{bad}");
            assert!(!p.findings.is_empty());
        }
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let p = LabelRecord::parse(&deep, 64);
        assert_eq!(codes(&p), vec!["label.too_deep"]);
    }

    #[test]
    fn provider_codes() {
        assert!(is_provider_code("001191000000MA00DEMO0X10000"));
        assert!(!is_provider_code("001191000000ma00demo0x10000"));
        assert!(!is_provider_code("Acme"));
    }
}
