//! Markdown: the `AIGC:` front matter, the body labeled like plain text, code left alone.

mod common;

use aigcmark::formats::text::marker;
use aigcmark::formats::text::prompt::DEFAULT_EN;
use aigcmark::{
    ExplicitOptions, Format, LabelOptions, Placement, Report, TrustStore, Verdict, VerifyOptions,
};
use common::{PRODUCER, demo_keys};

const DOC: &str = "---\ntitle: \"Tide tables\"\ntags: [sea, 潮汐]\ndate: 2026-05-01\n---\n# Tide tables\n\nThe tide rises twice a day. See [the almanac](https://example.org/almanac) for times.\n\n```rust\nfn main() { println!(\"high water\"); }\n```\n\n    indented code stays as it is\n\n<div class=\"note\">HTML block</div>\n\n潮汐每天涨落两次，请查阅 `tide --today` 的输出。\n";

fn options() -> LabelOptions {
    let mut o = LabelOptions::new(PRODUCER);
    o.produce_id = Some("md-0001".into());
    o.signed_at = Some(1_780_000_000);
    o.explicit = Some(ExplicitOptions {
        placement: Some(Placement::Start),
        ..Default::default()
    });
    o
}

fn label(doc: &str) -> (String, TrustStore) {
    let (signer, trust) = demo_keys(11, PRODUCER);
    let out = aigcmark::label(doc.as_bytes(), Format::Markdown, &signer, &options()).unwrap();
    (String::from_utf8(out.bytes).unwrap(), trust)
}

fn verify(doc: &str, trust: &TrustStore) -> Report {
    aigcmark::verify(
        doc.as_bytes(),
        Format::Markdown,
        &VerifyOptions::new(trust.clone()),
    )
}

#[test]
fn front_matter_is_written_and_the_rest_kept() {
    let (out, trust) = label(DOC);
    assert!(
        out.starts_with("---\ntitle: \"Tide tables\"\ntags: [sea, 潮汐]\ndate: 2026-05-01\nAIGC:\n  Label: \"1\"\n  ContentProducer: \"001191000000MA00DEMO0X10000\"\n  ProduceID: \"md-0001\"\n  ReservedCode1: \"AM1;"),
        "{out}"
    );
    let body = &out[out.find("\n---\n").unwrap() + 5..];
    assert!(
        body.starts_with(&format!("{DEFAULT_EN}\n\n# Tide")),
        "the prompt goes after the front matter: {body:?}"
    );
    let r = verify(&out, &trust);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{:#?}", r.findings);
    assert!(
        r.has_finding("label.in_text_copy") && !r.has_finding("label.duplicate"),
        "front matter and invisible marker hold the same record, by design, not as a duplicate"
    );
    assert!(
        r.explicit
            .iter()
            .any(|m| m.location == "start" && m.intact == Some(true))
    );
}

#[test]
fn code_and_html_get_no_markers() {
    let (out, _) = label(DOC);
    for block in [
        "```rust\nfn main() { println!(\"high water\"); }\n```",
        "    indented code stays as it is",
        "<div class=\"note\">HTML block</div>",
        "`tide --today`",
        "(https://example.org/almanac)",
    ] {
        assert!(out.contains(block), "{block} was changed");
    }
    // The prose paragraphs do carry markers.
    assert!(
        out.contains("twice\u{E0131}")
            || out.contains("tide\u{E0131}")
            || out.contains("The\u{E0131}"),
        "{out}"
    );
    assert!(out.contains("输出。\u{E0131}"), "{out}");
}

#[test]
fn either_carrier_alone_is_enough() {
    let (out, trust) = label(DOC);
    // Front matter removed (a site generator that drops unknown YAML): the body still carries
    // the label, but the title went with it, and the title is content.
    let end = out.find("\n---\n").unwrap() + 5;
    let r = verify(&out[end..], &trust);
    assert_eq!(r.verdict, Verdict::Altered, "{:#?}", r.findings);
    assert!(r.has_finding("binding.mismatch"));
    assert!(r.label.is_some(), "the body's markers still name the label");
    // A document whose front matter holds only the label: removing it loses nothing.
    let (bare, _) = label("The tide rises twice a day, and falls twice.\n");
    let end = bare.find("\n---\n").unwrap() + 5;
    let r = verify(&bare[end..], &trust);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{:#?}", r.findings);
    // Invisible markers removed: the front matter carries it, and the digest covers the body.
    let stripped = marker::strip(&out);
    let r = verify(&stripped, &trust);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{:#?}", r.findings);
    // A changed word in the body.
    let changed = out.replacen("twice", "three times", 1);
    assert_eq!(verify(&changed, &trust).verdict, Verdict::Altered);
}

#[test]
fn relabeling_replaces_the_aigc_entry() {
    let (once, trust) = label(DOC);
    let (signer, _) = demo_keys(11, PRODUCER);
    let mut o = options();
    o.replace = true;
    o.produce_id = Some("md-0002".into());
    let twice = String::from_utf8(
        aigcmark::label(once.as_bytes(), Format::Markdown, &signer, &o)
            .unwrap()
            .bytes,
    )
    .unwrap();
    assert_eq!(twice.matches("AIGC:").count(), 1);
    assert_eq!(twice.matches(DEFAULT_EN).count(), 1);
    let r = verify(&twice, &trust);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{:#?}", r.findings);
    assert_eq!(
        r.label.as_ref().unwrap().produce_id.as_deref(),
        Some("md-0002")
    );
}

#[test]
fn other_writers_front_matter_is_read() {
    let trust = TrustStore::new();
    for doc in [
        "---\nAIGC: {\"Label\": \"1\", \"ContentProducer\": \"ACME\", \"ProduceID\": \"x-1\"}\n---\nBody.\n",
        "---\nAIGC: '{\"Label\":\"1\",\"ContentProducer\":\"ACME\",\"ProduceID\":\"x-1\"}'\n---\nBody.\n",
        "---\nAIGC:\n  Label: 1\n  ContentProducer: ACME\n  ProduceID: 'x-1'\n---\nBody.\n",
    ] {
        let r = verify(doc, &trust);
        assert_eq!(
            r.verdict,
            Verdict::LabeledUnsigned,
            "{doc}: {:#?}",
            r.findings
        );
        let l = r.label.unwrap();
        assert_eq!(l.content_producer.as_deref(), Some("ACME"));
        assert_eq!(l.produce_id.as_deref(), Some("x-1"));
    }
}

#[test]
fn a_document_without_front_matter_gets_one() {
    let (out, trust) = label("Just a note.\n");
    assert!(out.starts_with("---\nAIGC:\n  Label: \"1\"\n"));
    assert_eq!(verify(&out, &trust).verdict, Verdict::LabeledIntact);
}
