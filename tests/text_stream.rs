//! Labeling as text streams in (a chat answer token by token), and the properties of the marker
//! codec and of labeling that hold for any text.

mod common;
mod text_samples;

use aigcmark::formats::text::marker::{self, Compact, Frame};
use aigcmark::formats::text::prompt::{DEFAULT_EN, DEFAULT_ZH};
use aigcmark::formats::text::{TextLabelStream, digest, label_str};
use aigcmark::{
    ExplicitOptions, Format, LabelOptions, Placement, TrustStore, Verdict, VerifyOptions,
};
use common::{PRODUCER, demo_keys};
use proptest::prelude::*;
use text_samples::ALL;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

fn options(placement: Option<Placement>, words: Option<&str>) -> LabelOptions {
    let mut o = LabelOptions::new(PRODUCER);
    o.produce_id = Some("stream-0001".into());
    o.signed_at = Some(1_780_000_000);
    o.explicit = placement.map(|p| ExplicitOptions {
        placement: Some(p),
        text: words.map(str::to_string),
        ..Default::default()
    });
    o
}

fn verify(text: &str, trust: &TrustStore) -> aigcmark::Report {
    aigcmark::verify(
        text.as_bytes(),
        Format::Text,
        &VerifyOptions::new(trust.clone()),
    )
}

/// Splits `text` into pieces of `n` characters, as a model's tokens arrive.
fn tokens(text: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(n).map(|c| c.iter().collect()).collect()
}

#[test]
fn streamed_output_is_label_str_output() {
    let (signer, trust) = demo_keys(9, PRODUCER);
    for (name, text) in ALL {
        for (placement, words) in [
            (Some(Placement::Start), Some("本回答由人工智能生成")),
            (Some(Placement::Both), Some(DEFAULT_EN)),
            (Some(Placement::End), None),
            // The default: the prompt at the start, in the language the text's start settles.
            (None, None),
        ] {
            let opts = options(placement, words);
            let whole = label_str(text, &signer, &opts).unwrap();
            for n in [1, 2, 3, 7, 64] {
                let mut s = TextLabelStream::new(&signer, &opts).unwrap();
                let mut out = String::new();
                for t in tokens(text, n) {
                    out.push_str(&s.push(&t));
                }
                out.push_str(&s.finish().unwrap());
                let r = verify(&out, &trust);
                assert_eq!(
                    r.verdict,
                    Verdict::LabeledIntact,
                    "{name} {placement:?} n={n}: {:#?}",
                    r.findings
                );
                assert_eq!(out, whole, "{name} {placement:?} n={n}");
            }
        }
    }
}

#[test]
fn the_prompt_goes_out_at_once_and_markers_as_paragraphs_complete() {
    let (signer, _) = demo_keys(9, PRODUCER);
    let mut s = TextLabelStream::new(&signer, &options(Some(Placement::Start), None)).unwrap();
    assert_eq!(s.push("人工智能"), "", "the language is not known yet");
    // The start settles at the 64th letter, with the 64 characters simple checkers read.
    let opening = "正在改变我们写作的方式，许多人用它起草邮件、总结会议记录，甚至创作诗歌与小说。\
                   越来越多的公司把它接入客服系统，学生也用它准备考试与论文，编辑用它校对稿件，\
                   记者用它整理采访。";
    let first = s.push(opening);
    assert!(
        first.starts_with(&format!("{DEFAULT_ZH}\n人工智能正")),
        "{first:?}"
    );
    let mut sent = first;
    sent.push_str(&s.push("\n\n"));
    assert!(
        sent.contains("，\u{E0131}"),
        "paragraph 1's marker is sent before the text ends"
    );
    sent.push_str(&s.push("然而，生成式模型也会犯错，它们可能编造引文。因此"));
    // Marker runs start with U+E0131 after a visible character (the byte may recur inside).
    let runs = sent
        .chars()
        .zip(sent.chars().skip(1))
        .filter(|&(a, b)| b == '\u{E0131}' && !marker::is_selector(a))
        .count();
    assert_eq!(runs, 2, "one marker per paragraph so far");
    let tail = s.finish().unwrap();
    assert!(
        tail.chars().filter(|c| marker::is_selector(*c)).count() > 300,
        "the sealed record comes at the end"
    );
}

#[test]
fn a_stream_refuses_a_nonconforming_prompt() {
    let (signer, _) = demo_keys(9, PRODUCER);
    assert!(
        TextLabelStream::new(
            &signer,
            &options(Some(Placement::Start), Some("Made with care"))
        )
        .is_err()
    );
    assert!(TextLabelStream::new(&signer, &options(Some(Placement::TopLeft), None)).is_err());
}

/// A multilingual alphabet for generated texts: letters, CJK, punctuation, whitespace, emoji
/// with ZWJ and modifiers, combining marks, RTL, a variation selector of the text's own.
fn alphabet() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "a",
        "b",
        "Z",
        "é",
        "e\u{301}",
        "ß",
        " ",
        "  ",
        "\n",
        "\n\n",
        "\r\n",
        "\t",
        ".",
        ",",
        "!",
        "?",
        "1",
        "#",
        "*",
        "://",
        "www.",
        "中",
        "文",
        "，",
        "。",
        "：",
        "「",
        "」",
        "か",
        "\u{3099}",
        "한",
        "👍",
        "🏽",
        "\u{200D}",
        "👩",
        "🇨",
        "🇳",
        "❤\u{FE0F}",
        "葛\u{E0100}",
        "م",
        "ر",
        "ש",
        "ל",
        "\u{64B}",
        "न",
        "\u{94D}",
        "Ａ",
        "\u{3000}",
        "ﬁ",
        "²",
        "\u{AD}",
        "\u{301}",
        "\u{FEFF}",
        "\u{FE0F}",
        "\u{E0131}",
        "\u{E01EF}",
        "\u{E01F0}",
        "Ω",
        "ж",
        "\u{A0}",
        "\t\n ",
        "\u{64E}",
        "\u{651}",
        "\u{651}\u{64E}",
        "\u{653}",
        "\u{654}",
        "ا",
        "و",
        "\u{5B8}",
        "\u{5BC}",
        "\u{5C1}",
        "\u{5F3}",
        "\u{93C}",
        "\u{928}",
        "\u{93F}",
        "\u{958}",
        "\u{E01}",
        "§",
        "©",
        "\u{15D}",
        "\u{1C5}",
        "\u{1100}",
        "\u{1161}",
        "\u{11A8}",
        "가",
        "，",
        "。",
        "ｶ",
        "\u{212B}",
        "\u{1F71}",
        "\u{344}",
        "\u{2F800}",
        "\u{20000}",
        "  ",
        "x  y",
        "\u{E48}",
        "\u{E38}",
        "\u{E33}",
        "\u{483}",
        "\u{475}",
        "\u{30F}",
        "①",
        "½",
        "⁵",
        "₂",
        "𝐀",
        "㎏",
        "ﾞ",
        "ﾟ",
        "ﾊ",
        "ﾡ",
        "￡",
        "￣",
        "｡",
        "１",
    ]);
    prop::collection::vec(pieces, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn marker_codec_round_trips(
        producer in "[0-9A-Z]{1,40}",
        id in "[!#-\\[\\]-~]{1,60}",
        hex in "[0-9a-f]{2,64}",
        paragraph in any::<u32>(),
        json in "\\PC{0,300}",
    ) {
        let hex = if hex.len() % 2 == 1 { format!("{hex}0") } else { hex };
        for produce_id in [id, hex] {
            let c = Compact { label: "1".into(), producer: producer.clone(), produce_id, paragraph };
            for f in [Frame::Compact(c), Frame::Full(json.clone())] {
                let run = marker::encode(&f).unwrap();
                prop_assert!(run.chars().all(marker::is_selector));
                let text = format!("word{run} next");
                let runs = marker::find_runs(&text);
                prop_assert_eq!(runs.len(), 1);
                prop_assert_eq!(&runs[0].decoded.frames, &vec![f]);
                prop_assert_eq!(marker::strip(&text), "word next");
            }
        }
    }

    #[test]
    fn labeling_never_changes_the_visible_text(text in alphabet()) {
        let (signer, _) = demo_keys(9, PRODUCER);
        let mut opts = options(None, None);
        opts.explicit_for_text = false;
        let blank = text.chars().all(|c| c.is_whitespace() || marker::is_selector(c) || c == '\u{FEFF}');
        let out = label_str(&text, &signer, &opts);
        if blank {
            prop_assert!(out.is_err(), "an empty text is refused");
            return Ok(());
        }
        let out = out.unwrap();
        let back = marker::strip(&out);
        // The full record needs a base; without one a space goes before the trailing whitespace.
        let content = text.trim_end();
        let spaced = format!("{content} {}", &text[content.len()..]);
        prop_assert!(back == text || back == spaced, "{:?} → {:?}", text, back);
        if back == text {
            prop_assert_eq!(out.graphemes(true).count(), text.graphemes(true).count());
            let w = |s: &str| s.lines().map(UnicodeWidthStr::width).collect::<Vec<_>>();
            prop_assert_eq!(w(&out), w(&text));
        }
        // And it verifies.
        let (_, trust) = demo_keys(9, PRODUCER);
        prop_assert_eq!(verify(&out, &trust).verdict, Verdict::LabeledIntact);
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn one_pass_digest_is_the_definition(text in alphabet(), cut in 0usize..200) {
        let want = aigcmark::binding::digest(digest::reference_form(&text).as_bytes());
        prop_assert_eq!(digest::digest(&text), want);
        let mut at = cut.min(text.len());
        while !text.is_char_boundary(at) { at -= 1; }
        let mut d = digest::Digester::new();
        d.update(&text[..at]);
        d.update(&text[at..]);
        prop_assert_eq!(d.finish(), want);
    }
}
