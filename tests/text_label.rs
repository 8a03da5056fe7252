//! Plain text labels: what survives (normalisation, line endings, trimming, re-wrapping by real
//! tools), what is reported when it does not (a changed word, stripped markers, a paragraph
//! copied alone), and that labeling never changes what the text looks like.

mod common;
mod text_samples;

use std::process::Command;

use aigcmark::format::ExplicitKind;
use aigcmark::formats::text::prompt::{self, DEFAULT_EN, DEFAULT_ZH};
use aigcmark::text::label_str;
use aigcmark::{
    ExplicitOptions, Format, LabelOptions, Placement, Report, TrustStore, Verdict, VerifyOptions,
};
use common::{PRODUCER, demo_keys};
use text_samples::ALL;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

const ID: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

fn options(explicit: Option<Placement>) -> LabelOptions {
    let mut o = LabelOptions::new(PRODUCER);
    o.produce_id = Some(ID.into());
    o.signed_at = Some(1_780_000_000);
    // No prompt unless asked: these tests are about the markers and the binding.
    o.explicit_for_text = explicit.is_some();
    o.explicit = explicit.map(|p| ExplicitOptions {
        placement: Some(p),
        ..Default::default()
    });
    o
}

fn label(text: &str, explicit: Option<Placement>) -> (String, TrustStore) {
    let (signer, trust) = demo_keys(7, PRODUCER);
    let out = aigcmark::label(text.as_bytes(), Format::Text, &signer, &options(explicit)).unwrap();
    (String::from_utf8(out.bytes).unwrap(), trust)
}

fn verify(text: &str, trust: &TrustStore) -> Report {
    aigcmark::verify(
        text.as_bytes(),
        Format::Text,
        &VerifyOptions::new(trust.clone()),
    )
}

/// Runs a Python snippet (the system's own Unicode tables) over `input` on stdin.
fn python(code: &str, input: &str) -> String {
    let py = common::tool("python3", "python3");
    let out = common::pipe(
        Command::new(py).args([
            "-c",
            &format!("import sys, unicodedata, textwrap\ns = sys.stdin.read()\n{code}"),
        ]),
        input.as_bytes(),
    );
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn fmt(width: &str, input: &str) -> String {
    let out = common::pipe(
        Command::new(common::tool("fmt", "coreutils")).args(["-w", width]),
        input.as_bytes(),
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Removes every Default_Ignorable_Code_Point, as NFKC_Casefold and "clean text" tools do.
const STRIP_IGNORABLE: &str = r#"
def ignorable(c):
    o = ord(c)
    return (o == 0xAD or o == 0x34F or o == 0x61C or 0x115F <= o <= 0x1160 or 0x17B4 <= o <= 0x17B5
        or 0x180B <= o <= 0x180F or 0x200B <= o <= 0x200F or 0x202A <= o <= 0x202E
        or 0x2060 <= o <= 0x206F or o == 0x3164 or 0xFE00 <= o <= 0xFE0F or o == 0xFEFF
        or o == 0xFFA0 or 0xFFF0 <= o <= 0xFFF8 or 0x1BCA0 <= o <= 0x1BCA3
        or 0x1D173 <= o <= 0x1D17A or 0xE0000 <= o <= 0xE0FFF)
sys.stdout.write(''.join(c for c in s if not ignorable(c)))
"#;

#[test]
fn labeled_text_verifies_and_shows_its_prompt() {
    for (name, text) in ALL {
        let (out, trust) = label(text, Some(Placement::Start));
        let r = verify(&out, &trust);
        assert_eq!(
            r.verdict,
            Verdict::LabeledIntact,
            "{name}: {:#?}",
            r.findings
        );
        let start = r.explicit.iter().find(|m| m.location == "start").unwrap();
        assert_eq!(start.kind, ExplicitKind::TextPrompt);
        assert_eq!(start.intact, Some(true), "{name}");
        let want = prompt::default_for(text);
        match name {
            "chinese" | "mixed" => assert_eq!(want, DEFAULT_ZH, "{name}"),
            "english" | "rtl" => assert_eq!(want, DEFAULT_EN, "{name}"),
            _ => {}
        }
        assert!(
            out.starts_with(want),
            "{name}: prompt first, nothing before it"
        );
        let head: String = out.chars().take(64).collect();
        assert!(
            head.starts_with(&format!("{want}\n")),
            "{name}: the prompt is within the first 64 code points"
        );
        assert_eq!(r.label.as_ref().unwrap().produce_id.as_deref(), Some(ID));
        // Every paragraph carries a compact marker.
        assert!(r.has_finding("text.fragment"), "{name}");
    }
}

#[test]
fn end_prompt_is_the_last_visible_thing() {
    let (out, trust) = label(text_samples::ENGLISH, Some(Placement::End));
    assert!(out.trim_end().ends_with(DEFAULT_EN));
    // Simple checkers read the last 64 code points: the whole prompt is there, nothing after it.
    let tail: String = out
        .trim_end()
        .chars()
        .rev()
        .take(64)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert!(tail.ends_with(&format!("\n{DEFAULT_EN}")), "{tail:?}");
    let r = verify(&out, &trust);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{:#?}", r.findings);
    assert!(
        r.explicit
            .iter()
            .any(|m| m.location == "end" && m.intact == Some(true))
    );
}

#[test]
fn survives_normalisation_line_endings_trimming_and_rewrapping() {
    for (name, text) in ALL {
        let (out, trust) = label(text, Some(Placement::Both));
        let variants = [
            (
                "nfc",
                python("sys.stdout.write(unicodedata.normalize('NFC', s))", &out),
            ),
            (
                // The samples hold no compatibility characters but width forms, which the
                // digest folds too: NFKC changes nothing they read.
                "nfkc",
                python("sys.stdout.write(unicodedata.normalize('NFKC', s))", &out),
            ),
            (
                "nfd",
                python("sys.stdout.write(unicodedata.normalize('NFD', s))", &out),
            ),
            ("crlf", out.replace('\n', "\r\n")),
            ("trim", format!("  {}\n\n", out.trim())),
            ("fmt", fmt("50", &out)),
            (
                "joined",
                out.split("\n\n")
                    .map(|p| p.replace('\n', " "))
                    .collect::<Vec<_>>()
                    .join("\n\n"),
            ),
            (
                "textwrap",
                python(
                    "sys.stdout.write('\\n\\n'.join(textwrap.fill(p, width=30, break_long_words=False) for p in s.split('\\n\\n')))",
                    &out,
                ),
            ),
            (
                // Counting code points, selectors included, and cutting inside long "words"
                // (all of Chinese; English words with a marker glued on): cuts land inside runs.
                "textwrap-cut",
                python(
                    "sys.stdout.write('\\n\\n'.join(textwrap.fill(p, width=30, break_on_hyphens=False) for p in s.split('\\n\\n')))",
                    &if name == "english" {
                        out.replace("https://example.org/lighthouse/log.html", "x")
                    } else {
                        out.clone()
                    },
                ),
            ),
        ];
        for (how, changed) in variants {
            let r = verify(&changed, &trust);
            if how == "textwrap-cut" && name == "english" {
                // The URL was replaced before wrapping (a cut inside it would be a real change).
                assert_eq!(r.verdict, Verdict::Altered);
                continue;
            }
            assert_eq!(
                r.verdict,
                Verdict::LabeledIntact,
                "{name} after {how}: {:#?}",
                r.findings
            );
        }
    }
}

#[test]
fn a_changed_word_is_altered() {
    let cases = [
        (text_samples::ENGLISH, "forty years", "fifty years"),
        (text_samples::CHINESE, "编造引文", "引用原文"),
        (text_samples::RTL, "ثلاثة", "أربعة"),
        (text_samples::MARKS, "Cafe\u{301}", "The\u{301}"),
    ];
    for (text, from, to) in cases {
        let (out, trust) = label(text, Some(Placement::Start));
        assert!(out.contains(from));
        let r = verify(&out.replacen(from, to, 1), &trust);
        assert_eq!(r.verdict, Verdict::Altered, "{from} → {to}");
        assert!(r.has_finding("binding.mismatch"));
    }
}

#[test]
fn stripped_markers_leave_the_prompt_and_say_so() {
    for (name, text) in ALL {
        let (out, trust) = label(text, Some(Placement::Start));
        for (how, code) in [
            ("default-ignorables", STRIP_IGNORABLE.to_string()),
            (
                "nfkc-casefold",
                format!(
                    "{}\ns = unicodedata.normalize('NFKC', s.casefold())",
                    STRIP_IGNORABLE.replace("sys.stdout.write", "s = ")
                ),
            ),
        ] {
            let code = if how == "nfkc-casefold" {
                format!("{code}\nsys.stdout.write(s)")
            } else {
                code
            };
            let stripped = python(&code, &out);
            assert!(
                !stripped
                    .chars()
                    .any(|c| ('\u{E0100}'..='\u{E01EF}').contains(&c))
            );
            let r = verify(&stripped, &trust);
            assert_eq!(
                r.verdict,
                Verdict::ExplicitOnly,
                "{name} {how}: {:#?}",
                r.findings
            );
            assert!(r.has_finding("text.marker_absent"), "{name} {how}");
            assert!(
                r.explicit.iter().any(|m| m.location == "start"),
                "{name} {how}"
            );
        }
    }
}

#[test]
fn a_paragraph_copied_alone_names_producer_and_content() {
    for (name, text) in ALL {
        let (out, trust) = label(text, Some(Placement::Start));
        let paragraphs: Vec<&str> = out.split("\n\n").collect();
        assert!(paragraphs.len() >= 3, "{name}");
        let second = paragraphs[1];
        let r = verify(second, &trust);
        assert_eq!(
            r.verdict,
            Verdict::LabeledUnsigned,
            "{name}: {:#?}",
            r.findings
        );
        let l = r.label.as_ref().unwrap();
        assert_eq!(l.content_producer.as_deref(), Some(PRODUCER));
        assert_eq!(l.produce_id.as_deref(), Some(ID));
        assert!(
            r.findings
                .iter()
                .any(|f| f.code == "text.fragment" && f.message.contains("paragraph 2")),
            "{name}: {:#?}",
            r.findings
        );
        assert!(r.has_finding("text.partial_copy"));
    }
}

/// Lines of a text, widths as a terminal would show them.
fn widths(text: &str) -> Vec<usize> {
    text.lines().map(UnicodeWidthStr::width).collect()
}

fn strip_markers(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(*c as u32, 0xE0100..=0xE01EF | 0xFE00..=0xFE0F | 0xFEFF))
        .collect()
}

#[test]
fn labeling_never_changes_how_the_text_looks() {
    let (signer, _) = demo_keys(7, PRODUCER);
    for (name, text) in ALL {
        let out = label_str(text, &signer, &options(None)).unwrap();
        assert!(out.len() > text.len() + 400, "{name}: markers were written");
        // Only our selectors were added: removing them gives the text back (the original's own
        // selectors, IVS and emoji VS16, are compared as they are).
        let ours: String = {
            let mut s = String::new();
            let mut prev_ours = false;
            for c in out.chars() {
                let sel = matches!(c as u32, 0xE0100..=0xE01EF | 0xFE00..=0xFE0F);
                if sel && (prev_ours || c == '\u{E0131}') {
                    prev_ours = true;
                    continue;
                }
                prev_ours = false;
                s.push(c);
            }
            s
        };
        assert_eq!(ours, text, "{name}");
        assert_eq!(widths(&out), widths(text), "{name}: line widths");
        assert_eq!(
            out.graphemes(true).count(),
            text.graphemes(true).count(),
            "{name}: grapheme clusters"
        );
        assert_eq!(strip_markers(&out).lines().count(), text.lines().count());
    }
}

#[test]
fn with_a_prompt_only_the_prompt_is_added() {
    for (name, text) in ALL {
        let (out, _) = label(text, Some(Placement::Start));
        let (prompt_line, body) = out.split_once('\n').unwrap();
        assert!(
            prompt_line == DEFAULT_ZH || prompt_line == DEFAULT_EN,
            "{name}: {prompt_line:?}"
        );
        assert_eq!(widths(body), widths(text), "{name}");
        assert_eq!(
            body.graphemes(true).count(),
            text.graphemes(true).count(),
            "{name}"
        );
    }
}

#[test]
fn label_str_and_label_agree() {
    let (signer, trust) = demo_keys(7, PRODUCER);
    for (name, text) in ALL {
        let s = label_str(text, &signer, &options(Some(Placement::Start))).unwrap();
        let r = verify(&s, &trust);
        assert_eq!(
            r.verdict,
            Verdict::LabeledIntact,
            "{name}: {:#?}",
            r.findings
        );
        let (f, _) = label(text, Some(Placement::Start));
        assert_eq!(
            strip_markers(&s),
            strip_markers(&f),
            "{name}: same visible text"
        );
        assert_eq!(
            verify(&f, &trust).binding.computed,
            r.binding.computed,
            "{name}: same content digest"
        );
    }
}

#[test]
fn relabeling_needs_replace_and_then_replaces() {
    let (signer, trust) = demo_keys(7, PRODUCER);
    let once = label_str(
        text_samples::ENGLISH,
        &signer,
        &options(Some(Placement::Start)),
    )
    .unwrap();
    assert!(label_str(&once, &signer, &options(Some(Placement::Start))).is_err());
    let mut o = options(Some(Placement::Start));
    o.replace = true;
    o.produce_id = Some("second".into());
    let twice = label_str(&once, &signer, &o).unwrap();
    assert_eq!(
        twice.matches(DEFAULT_EN).count(),
        1,
        "the prompt is not repeated"
    );
    let r = verify(&twice, &trust);
    assert_eq!(r.verdict, Verdict::LabeledIntact, "{:#?}", r.findings);
    assert_eq!(
        r.label.as_ref().unwrap().produce_id.as_deref(),
        Some("second")
    );
    assert!(!r.has_finding("text.fragment_mismatch"));
}

#[test]
fn other_conforming_prompts_are_found() {
    for (text, loc) in [
        ("本内容由人工智能生成\n\n一段正文。", "start"),
        ("一段正文。\n\nAI合成", "end"),
        ("Generated by AI\n\nSome body text.", "start"),
        ("First part.\n\n由AI生成\n\nSecond part.", "middle"),
    ] {
        let r = aigcmark::verify(
            text.as_bytes(),
            Format::Text,
            &VerifyOptions::new(TrustStore::new()),
        );
        assert_eq!(r.verdict, Verdict::ExplicitOnly, "{text}");
        assert!(
            r.explicit.iter().any(|m| m.location == loc),
            "{text}: {:?}",
            r.explicit
        );
    }
    let plain = aigcmark::verify(
        b"An essay about the weather.",
        Format::Text,
        &VerifyOptions::new(TrustStore::new()),
    );
    assert_eq!(plain.verdict, Verdict::Unlabeled);
    assert!(!plain.has_finding("text.marker_absent"));
}

#[test]
fn a_removed_prompt_is_reported() {
    let (out, trust) = label(text_samples::CHINESE, Some(Placement::Start));
    let without = out.strip_prefix("【AI生成】\n").unwrap();
    let r = verify(without, &trust);
    assert_eq!(
        r.verdict,
        Verdict::Altered,
        "the prompt is part of what was sealed"
    );
    assert!(r.has_finding("explicit.removed"), "{:#?}", r.findings);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let (signer, trust) = demo_keys(7, PRODUCER);
    let r = aigcmark::verify(b"caf\xC3", Format::Text, &VerifyOptions::new(trust.clone()));
    assert_eq!(r.verdict, Verdict::Error);
    let mut o = options(Some(Placement::Start));
    o.limits.max_text_bytes = 100;
    assert!(matches!(
        aigcmark::label(text_samples::ENGLISH.as_bytes(), Format::Text, &signer, &o),
        Err(aigcmark::Error::Limit(_))
    ));
    assert!(matches!(
        label_str(text_samples::ENGLISH, &signer, &o),
        Err(aigcmark::Error::Limit(_))
    ));
    // A damaged marker is reported, and the text still reads.
    let (out, _) = label(text_samples::ENGLISH, None);
    let at = out.rfind('\u{E0112}').unwrap();
    let damaged = format!("{}\u{E0113}{}", &out[..at], &out[at + 4..]);
    let r = verify(&damaged, &trust);
    assert!(r.has_finding("text.marker_damaged"), "{:#?}", r.findings);
    // Custom wording must conform.
    let mut bad = options(Some(Placement::Start));
    bad.explicit.as_mut().unwrap().text = Some("Written with care".into());
    assert!(aigcmark::label(b"Hello there.", Format::Text, &signer, &bad).is_err());
}

/// A long text's prompts are checked from its ends alone; the answer is the one the whole text
/// gives, also when markers pad an edge beyond what the ends hold.
#[test]
fn long_text_prompts_are_checked_at_the_edges() {
    use aigcmark::format::Handler;
    use aigcmark::formats::text::PLAIN;
    let limits = aigcmark::Limits::default();
    let record = |place: &str, words: &str| {
        use base64::Engine as _;
        format!(
            "{place},{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(words)
        )
    };
    let body = ALL.iter().map(|(_, t)| *t).collect::<String>().repeat(300);
    assert!(body.len() > 300_000);
    let intact = |text: &str| -> Vec<(String, Option<bool>)> {
        PLAIN
            .check_explicit(text.as_bytes(), &record("both", "【AI生成】"), &limits)
            .into_iter()
            .map(|m| (m.location, m.intact))
            .collect()
    };
    let both = format!("【AI生成】\n{body}\n【AI生成】\n");
    assert_eq!(
        intact(&both),
        [("start".into(), Some(true)), ("end".into(), Some(true))]
    );
    let start_only = format!("【AI生成】\n{body}\n");
    assert_eq!(
        intact(&start_only),
        [("start".into(), Some(true)), ("end".into(), Some(false))]
    );
    // 100 000 selectors before the prompt: more than the edge holds, so the whole text is read.
    let padded = format!(
        "{}【AI生成】\n{body}\n【AI生成】",
        "\u{E0131}".repeat(100_000)
    );
    assert_eq!(
        intact(&padded),
        [("start".into(), Some(true)), ("end".into(), Some(true))]
    );
}
