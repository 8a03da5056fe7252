//! What the text binding keeps and what it tells apart (meaning, not code points), the Markdown
//! front matter as content, and the explicit prompt GB 45438 5.1 asks for: on by default, with
//! both elements, read only where it stands as a prompt, recorded as it is in the text.

mod common;
mod text_samples;

use std::process::Command;

use aigcmark::format::ExplicitKind;
use aigcmark::formats::text::marker;
use aigcmark::formats::text::prompt::{self, DEFAULT_EN, DEFAULT_ZH};
use aigcmark::text::{TextLabelStream, label_str};
use aigcmark::{
    ExplicitOptions, Format, LabelOptions, Placement, Report, TrustStore, Verdict, VerifyOptions,
};
use common::{PRODUCER, demo_keys};

fn options() -> LabelOptions {
    let mut o = LabelOptions::new(PRODUCER);
    o.produce_id = Some("compliance-1".into());
    o.signed_at = Some(1_780_000_000);
    o
}

fn with_prompt(placement: Placement, words: Option<&str>) -> LabelOptions {
    let mut o = options();
    o.explicit = Some(ExplicitOptions {
        placement: Some(placement),
        text: words.map(str::to_string),
        ..Default::default()
    });
    o
}

fn label_as(text: &str, format: Format, opts: &LabelOptions) -> (String, TrustStore) {
    let (signer, trust) = demo_keys(13, PRODUCER);
    let out = aigcmark::label(text.as_bytes(), format, &signer, opts).unwrap();
    (String::from_utf8(out.bytes).unwrap(), trust)
}

fn verify_as(text: &str, format: Format, trust: &TrustStore) -> Report {
    aigcmark::verify(text.as_bytes(), format, &VerifyOptions::new(trust.clone()))
}

fn python_normalize(form: &str, input: &str) -> String {
    let out = common::pipe(
        Command::new(common::tool("python3", "python3")).args([
            "-c",
            &format!(
                "import sys, unicodedata\nsys.stdout.write(unicodedata.normalize('{form}', \
                 sys.stdin.read()))"
            ),
        ]),
        input.as_bytes(),
    );
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// A change NFKC would hide but a reader sees is `altered`; width, NFC/NFD and CRLF are not.
#[test]
fn meaning_is_bound_width_is_not() {
    let text = "剂量为 10² mg，每日 2⁵ 次，见注释①，约 ½ 片。型号 ＡＢＣ１２３。\n\n\
                Take 10² mg, 2⁵ times (note ①), about ½ tablet; model ＡＢＣ１２３.\n";
    let (out, trust) = label_as(text, Format::Text, &options());
    assert_eq!(
        verify_as(&out, Format::Text, &trust).verdict,
        Verdict::LabeledIntact
    );
    for (from, to) in [("10²", "102"), ("2⁵", "25"), ("①", "1"), ("½", "1/2")] {
        let changed = out.replace(from, to);
        assert_ne!(changed, out);
        let r = verify_as(&changed, Format::Text, &trust);
        assert_eq!(r.verdict, Verdict::Altered, "{from} → {to}");
        assert!(r.has_finding("binding.mismatch"));
    }
    // NFKC by a tool does the same: it is a change of meaning.
    let r = verify_as(&python_normalize("NFKC", &out), Format::Text, &trust);
    assert_eq!(r.verdict, Verdict::Altered);
    // Width, composition and line endings are not.
    for (how, same) in [
        ("ascii", out.replace("ＡＢＣ１２３", "ABC123")),
        ("nfd", python_normalize("NFD", &out)),
        (
            "nfc",
            python_normalize("NFC", &python_normalize("NFD", &out)),
        ),
        ("crlf", out.replace('\n', "\r\n")),
    ] {
        let r = verify_as(&same, Format::Text, &trust);
        assert_eq!(
            r.verdict,
            Verdict::LabeledIntact,
            "{how}: {:#?}",
            r.findings
        );
    }
}

#[test]
fn markdown_front_matter_is_content_but_the_label_is_not() {
    let doc = "---\ntitle: \"Tide tables\"\ndescription: When the sea comes in\n---\n\
               The tide rises twice a day, and falls twice.\n";
    let (out, trust) = label_as(doc, Format::Markdown, &options());
    let r = verify_as(&out, Format::Markdown, &trust);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{:#?}", r.findings);
    for (from, to) in [
        ("title: \"Tide tables\"", "title: \"Storm tables\""),
        ("When the sea comes in", "When the sea goes out"),
        ("description:", "summary:"),
        ("\nAIGC:", "\ndraft: true\nAIGC:"),
    ] {
        let changed = out.replacen(from, to, 1);
        assert_ne!(changed, out, "{from}");
        let r = verify_as(&changed, Format::Markdown, &trust);
        assert_eq!(r.verdict, Verdict::Altered, "{from} → {to}");
    }
    // CRLF and trailing spaces in the front matter keep it.
    let crlf = out.replace('\n', "\r\n");
    assert_eq!(
        verify_as(&crlf, Format::Markdown, &trust).verdict,
        Verdict::LabeledIntact
    );
    let trailing = out.replacen("comes in\n", "comes in  \n", 1);
    assert_eq!(
        verify_as(&trailing, Format::Markdown, &trust).verdict,
        Verdict::LabeledIntact
    );
    // Writing the label (the AIGC entry) never changes the digest: relabeling replaces the
    // entry, and the new seal binds the same content.
    let mut again = options();
    again.replace = true;
    again.produce_id = Some("compliance-2".into());
    let (twice, _) = label_as(&out, Format::Markdown, &again);
    let first = verify_as(&out, Format::Markdown, &trust);
    let second = verify_as(&twice, Format::Markdown, &trust);
    assert_eq!(
        second.verdict,
        Verdict::LabeledIntact,
        "{:#?}",
        second.findings
    );
    assert_eq!(first.binding.computed, second.binding.computed);
}

#[test]
fn text_gets_a_compliant_prompt_by_default() {
    for (text, want) in [
        (text_samples::CHINESE, DEFAULT_ZH),
        (text_samples::ENGLISH, DEFAULT_EN),
    ] {
        for format in [Format::Text, Format::Markdown] {
            let (out, trust) = label_as(text, format, &options());
            let body = match format {
                Format::Markdown => &out[out.find("\n---\n").unwrap() + 5..],
                _ => &out[..],
            };
            assert!(body.starts_with(want), "{format:?}: {body:?}");
            assert!(prompt::check_prompt_elements(want).is_ok());
            let r = verify_as(&out, format, &trust);
            assert_eq!(r.verdict, Verdict::LabeledIntact, "{:#?}", r.findings);
            assert!(
                r.explicit
                    .iter()
                    .any(|m| m.location == "start" && m.intact == Some(true))
            );
        }
    }
    // A service that shows the label in its own interface turns it off.
    let mut off = options();
    off.explicit_for_text = false;
    let (out, _) = label_as(text_samples::ENGLISH, Format::Text, &off);
    assert!(out.starts_with("The lighthouse"));
    // The stream does as `label` does.
    let (signer, _) = demo_keys(13, PRODUCER);
    let streamed = label_str(text_samples::ENGLISH, &signer, &options()).unwrap();
    assert!(streamed.starts_with(&format!("{DEFAULT_EN}\n")));
}

#[test]
fn a_prompt_without_both_elements_is_refused() {
    let (signer, _) = demo_keys(13, PRODUCER);
    for words in ["[AI-generated]", "Generated by AI", "本内容由机器生成"] {
        let o = with_prompt(Placement::Start, Some(words));
        let e = aigcmark::label(b"Some text.", Format::Text, &signer, &o).unwrap_err();
        assert!(
            matches!(e, aigcmark::Error::Refused(_)) && e.to_string().contains("element"),
            "{words}: {e}"
        );
        assert!(TextLabelStream::new(&signer, &o).is_err());
    }
    // Both elements, but not shaped as a prompt: refused too, with what to do.
    let o = with_prompt(Placement::Start, Some("人工智能生成内容的治理"));
    let e = aigcmark::label(b"Some text.", Format::Text, &signer, &o).unwrap_err();
    assert!(e.to_string().contains("brackets"), "{e}");
    // A compliant one of the caller's is written as given.
    let o = with_prompt(Placement::Start, Some("本回答由人工智能生成"));
    let out = aigcmark::label("正文。".as_bytes(), Format::Text, &signer, &o).unwrap();
    assert!(
        String::from_utf8(out.bytes)
            .unwrap()
            .starts_with("本回答由人工智能生成\n")
    );
}

/// An ordinary sentence that opens with both elements is not a prompt: the label adds one, and
/// what the seal records is what the text shows.
#[test]
fn an_ordinary_sentence_is_not_taken_for_a_prompt() {
    let text = "人工智能生成的文本越来越多，如何识别它们成为新的问题。研究者提出了多种方法。\n\n\
                第二段讨论水印与元数据。\n";
    let (out, trust) = label_as(text, Format::Text, &options());
    assert!(out.starts_with("【AI生成】\n人工智能生成的文本"), "{out:?}");
    let r = verify_as(&out, Format::Text, &trust);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{:#?}", r.findings);
    let start: Vec<_> = r
        .explicit
        .iter()
        .filter(|m| m.location == "start")
        .collect();
    assert_eq!(start.len(), 1);
    assert_eq!(start[0].text.as_deref(), Some("【AI生成】"));
    assert_eq!(start[0].intact, Some(true));
    // Unlabeled, the sentence alone is no explicit label.
    let r = verify_as(text, Format::Text, &TrustStore::new());
    assert_eq!(r.verdict, Verdict::Unlabeled, "{:?}", r.explicit);
}

/// A compliant prompt the text already has is kept, and the seal records its words; a changed
/// prompt is reported.
#[test]
fn a_kept_prompt_is_recorded_as_it_is() {
    let text = "本内容由人工智能生成\n\n潮汐每天涨落两次，请查阅当地的潮汐表。\n";
    let (out, trust) = label_as(text, Format::Text, &with_prompt(Placement::Both, None));
    assert_eq!(out.matches("本内容由人工智能生成").count(), 1, "{out:?}");
    assert!(marker::strip(&out).trim_end().ends_with(DEFAULT_ZH));
    let r = verify_as(&out, Format::Text, &trust);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{:#?}", r.findings);
    let words: Vec<_> = r
        .explicit
        .iter()
        .filter(|m| m.intact == Some(true))
        .map(|m| (m.location.as_str(), m.text.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        words,
        [("start", "本内容由人工智能生成"), ("end", DEFAULT_ZH)]
    );
    let (signer, _) = demo_keys(13, PRODUCER);
    let streamed = label_str(text, &signer, &with_prompt(Placement::Both, None)).unwrap();
    assert_eq!(marker::strip(&streamed), marker::strip(&out));
    // An English-only prompt lacks "生成": ours is added before it.
    let (out, _) = label_as(
        "Generated by AI\n\nThe tide rises twice a day.\n",
        Format::Text,
        &options(),
    );
    assert!(
        out.starts_with(&format!("{DEFAULT_EN}\nGenerated by AI\n")),
        "{out:?}"
    );
}

#[test]
fn english_and_chinese_prompts_of_others_are_read() {
    for (text, loc, words) in [
        (
            "AI-generated content\n\nThe body.",
            "start",
            "AI-generated content",
        ),
        (
            "The body.\n\nThis content is AI-generated.",
            "end",
            "This content is AI-generated.",
        ),
        ("Created with AI\nThe body.", "start", "Created with AI"),
        ("The body.\nMade with AI", "end", "Made with AI"),
        (
            "Part one.\n\nAI generated\n\nPart two.",
            "middle",
            "AI generated",
        ),
        ("(Generated by AI) The body.", "start", "(Generated by AI)"),
        ("正文。\n\n由AI生成", "end", "由AI生成"),
        (
            "【本回答由AI生成，仅供参考】正文。",
            "start",
            "【本回答由AI生成，仅供参考】",
        ),
    ] {
        let r = verify_as(text, Format::Text, &TrustStore::new());
        assert_eq!(r.verdict, Verdict::ExplicitOnly, "{text}");
        let m = r.explicit.iter().find(|m| m.location == loc);
        assert_eq!(
            m.and_then(|m| m.text.as_deref()),
            Some(words),
            "{text}: {:?}",
            r.explicit
        );
        assert_eq!(m.unwrap().kind, ExplicitKind::TextPrompt);
    }
    for text in [
        "AI-generated images are everywhere now, and so are questions about them.",
        "We made with AI researchers a new benchmark.\n\nIt is hard.",
    ] {
        let r = verify_as(text, Format::Text, &TrustStore::new());
        assert_eq!(r.verdict, Verdict::Unlabeled, "{text}: {:?}", r.explicit);
    }
}

#[test]
fn a_bom_stays_first() {
    let text = "\u{FEFF}The tide rises twice a day, and falls twice.\n";
    let (out, trust) = label_as(text, Format::Text, &options());
    assert!(
        out.starts_with(&format!("\u{FEFF}{DEFAULT_EN}\nThe tide")),
        "{out:?}"
    );
    let r = verify_as(&out, Format::Text, &trust);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{:#?}", r.findings);
    assert!(r.explicit.iter().any(|m| m.intact == Some(true)));
    let (signer, _) = demo_keys(13, PRODUCER);
    let streamed = label_str(text, &signer, &options()).unwrap();
    assert!(streamed.starts_with(&format!("\u{FEFF}{DEFAULT_EN}\n")));
}

#[test]
fn crlf_text_keeps_its_line_breaks_and_paragraphs() {
    let text = text_samples::ENGLISH.replace('\n', "\r\n");
    for placement in [Placement::Start, Placement::Both] {
        let (out, trust) = label_as(&text, Format::Text, &with_prompt(placement, None));
        assert!(out.starts_with(&format!("{DEFAULT_EN}\r\nThe")), "{out:?}");
        let visible = marker::strip(&out);
        assert!(
            !visible.replace("\r\n", "").contains('\n'),
            "only CRLF line breaks: {visible:?}"
        );
        let r = verify_as(&out, Format::Text, &trust);
        assert_eq!(r.verdict, Verdict::LabeledIntact, "{:#?}", r.findings);
        // Every paragraph (blank CRLF lines between them) carries its own marker.
        let fragment = r
            .findings
            .iter()
            .find(|f| f.code == "text.fragment")
            .unwrap();
        assert!(
            fragment.message.starts_with("paragraphs 1, 2, 3 "),
            "{}",
            fragment.message
        );
        let (signer, _) = demo_keys(13, PRODUCER);
        let streamed = label_str(&text, &signer, &with_prompt(placement, None)).unwrap();
        assert_eq!(marker::strip(&streamed), visible);
    }
}

#[test]
fn an_empty_text_is_refused() {
    let (signer, _) = demo_keys(13, PRODUCER);
    for text in ["", "   \n\n\t", "\u{FEFF}\n"] {
        for format in [Format::Text, Format::Markdown] {
            let e = aigcmark::label(text.as_bytes(), format, &signer, &options()).unwrap_err();
            assert!(
                e.to_string().contains("the text is empty"),
                "{format:?}: {e}"
            );
        }
        let e = label_str(text, &signer, &options()).unwrap_err();
        assert!(e.to_string().contains("the text is empty"), "{e}");
        let s = TextLabelStream::new(&signer, &options()).unwrap();
        assert!(s.finish().is_err());
    }
    let e = aigcmark::label(
        b"---\ntitle: x\n---\n\n",
        Format::Markdown,
        &signer,
        &options(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("the text is empty"), "{e}");
}

/// Width folding is exactly Unicode's `<wide>` and `<narrow>` mappings, as the system's own
/// Unicode tables (Python's `unicodedata`) give them: no other character is folded.
#[test]
fn width_folding_is_the_unicode_wide_and_narrow_mappings() {
    use aigcmark::formats::text::digest::width_fold;
    let out = common::pipe(
        Command::new(common::tool("python3", "python3")).args([
            "-c",
            "import unicodedata\nfor cp in range(0x110000):\n    d = unicodedata.decomposition(chr(cp)).split()\n    if d and d[0] in ('<wide>', '<narrow>'):\n        print(cp, int(d[1], 16))",
        ]),
        b"",
    );
    assert!(out.status.success());
    let mut tagged = std::collections::HashMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let (a, b) = line.split_once(' ').unwrap();
        tagged.insert(a.parse::<u32>().unwrap(), b.parse::<u32>().unwrap());
    }
    assert!(tagged.len() > 200, "{} mappings", tagged.len());
    for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
        let want = tagged.get(&(c as u32)).map_or(c as u32, |&m| m);
        assert_eq!(width_fold(c) as u32, want, "U+{:04X}", c as u32);
    }
}
