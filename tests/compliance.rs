//! The default output of every written format, and the `--explicit` output, passes strict
//! GB 45438 checking (`shared/spec/labeling-rules.md`): exactly one metadata label, as found by a
//! third-party reader where one exists (exiftool; a RIFF walk for WAV's own chunk), holding the
//! seven Annex E keys in order, every value a string of the allowed characters; and explicit
//! labels that carry both an "AI" and a "generated" element.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{PRODUCER, corpus_file, run, tool};

const KEYS: [&str; 7] = [
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
];

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_aigcmark"))
}

/// Labels found by exiftool: every tag value that parses as a JSON object holding `Label` (bare,
/// or wrapped under a key containing AIGC).
fn exiftool_labels(path: &Path) -> Vec<String> {
    let out = run(Command::new(tool("exiftool", "libimage-exiftool-perl"))
        .args(["-j", "-a", "-u", "-G1"])
        .arg(path));
    let tags: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut found = Vec::new();
    for (_, v) in tags[0].as_object().unwrap() {
        let Some(s) = v.as_str() else { continue };
        let s = s.trim_start_matches("(AIGC) ");
        if let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(s)
            && (m.contains_key("Label") || m.keys().any(|k| k.contains("AIGC")))
        {
            found.push(s.to_string());
        }
    }
    found
}

/// The bodies of top-level RIFF chunks named `AIGC` (the WAV carrier).
fn riff_labels(bytes: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        let body = &bytes[at + 8..(at + 8 + len).min(bytes.len())];
        if id.eq_ignore_ascii_case(b"AIGC") {
            found.push(String::from_utf8_lossy(body).into_owned());
        }
        at += 8 + len + (len & 1);
    }
    found
}

/// The metadata labels `aigcmark inspect` finds (text carries its label inside the text, where
/// no third-party reader looks). A Markdown file's metadata label is its front matter; the copy
/// its body carries invisibly travels with the text and is not a second metadata label.
fn inspected_labels(path: &Path) -> Vec<String> {
    let out = bin()
        .args(["inspect", "--json"])
        .arg(path)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let markdown = path.extension().is_some_and(|e| e == "md");
    v["carriers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !markdown || c["location"] == "front matter AIGC")
        .map(|c| c["raw"].as_str().unwrap().to_string())
        .collect()
}

/// Strict checking of one label record.
fn check_strict(what: &str, json: &str) {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{what}: {e}"));
    let obj = v.as_object().unwrap();
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(
        keys, KEYS,
        "{what}: the seven Annex E keys, in order: {json}"
    );
    for (k, v) in obj {
        let s = v
            .as_str()
            .unwrap_or_else(|| panic!("{what}: {k} is not a string"));
        assert!(
            s.chars()
                .all(|c| matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E' | '"')),
            "{what}: {k} = {s:?} is outside the allowed characters"
        );
    }
    assert_eq!(obj["Label"], "1", "{what}");
    assert_eq!(obj["ContentProducer"], PRODUCER, "{what}");
}

/// True when `s` holds an "AI" element and a "generated" element (GB 45438 5.1).
fn has_both_elements(s: &str) -> bool {
    (s.contains("人工智能") || s.contains("AI")) && (s.contains("生成") || s.contains("合成"))
}

struct Case {
    name: &'static str,
    input: PathBuf,
    /// Output extension for the default run and the --explicit run.
    out_ext: &'static str,
    explicit_ext: &'static str,
}

fn cases(dir: &Path) -> Vec<Case> {
    let wav = corpus_file("audio/asterisk/demo-congrats.wav");
    let mp3 = dir.join("in.mp3");
    run(Command::new(tool("lame", "lame"))
        .args(["--quiet", "-b", "128"])
        .arg(&wav)
        .arg(&mp3));
    let flac = dir.join("in.flac");
    run(Command::new(tool("flac", "flac"))
        .args(["--silent", "-f", "-o"])
        .arg(&flac)
        .arg(&wav));
    let webp = dir.join("in.webp");
    run(Command::new(common::convert())
        .arg(corpus_file("images/skimage/coffee.png"))
        .args(["-define", "webp:lossless=true"])
        .arg(&webp));
    let zh = dir.join("zh.txt");
    std::fs::write(
        &zh,
        "春天来了，河边的柳树发了新芽。\n\n孩子们在田野里放风筝，笑声传得很远。\n",
    )
    .unwrap();
    let en = dir.join("en.txt");
    std::fs::write(
        &en,
        "The river was high after the rain.\n\nChildren flew kites over the fields all afternoon.\n",
    )
    .unwrap();
    let md = dir.join("note.md");
    std::fs::write(
        &md,
        "---\ntitle: Spring\n---\n\n# Spring\n\nThe willows are green again.\n",
    )
    .unwrap();
    vec![
        Case {
            name: "text zh",
            input: zh,
            out_ext: "txt",
            explicit_ext: "txt",
        },
        Case {
            name: "text en",
            input: en,
            out_ext: "txt",
            explicit_ext: "txt",
        },
        Case {
            name: "markdown",
            input: md,
            out_ext: "md",
            explicit_ext: "md",
        },
        Case {
            name: "png",
            input: corpus_file("images/skimage/chelsea.png"),
            out_ext: "png",
            explicit_ext: "png",
        },
        Case {
            name: "jpeg",
            input: corpus_file("images/skimage/rocket.jpg"),
            out_ext: "jpg",
            explicit_ext: "jpg",
        },
        Case {
            name: "webp",
            input: webp,
            out_ext: "webp",
            explicit_ext: "webp",
        },
        Case {
            name: "wav",
            input: wav,
            out_ext: "wav",
            explicit_ext: "wav",
        },
        Case {
            name: "mp3",
            input: mp3,
            out_ext: "mp3",
            explicit_ext: "wav",
        },
        Case {
            name: "flac",
            input: flac,
            out_ext: "flac",
            explicit_ext: "wav",
        },
    ]
}

#[test]
fn default_and_explicit_output_of_every_format_passes_strict_checking() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let o = bin()
        .args(["keygen", "--producer", PRODUCER, "--out"])
        .arg(&keys)
        .output()
        .unwrap();
    assert!(o.status.success());
    for case in cases(dir.path()) {
        for explicit in [false, true] {
            let what = format!("{}{}", case.name, if explicit { " --explicit" } else { "" });
            let ext = if explicit {
                case.explicit_ext
            } else {
                case.out_ext
            };
            let out = dir
                .path()
                .join(format!("{}-{explicit}.{ext}", case.name.replace(' ', "-")));
            let mut cmd = bin();
            cmd.arg("label")
                .arg(&case.input)
                .arg("-o")
                .arg(&out)
                .arg("--key")
                .arg(keys.join("signing.key"))
                .args(["--producer", PRODUCER]);
            if explicit {
                cmd.arg("--explicit");
            }
            let o = cmd.output().unwrap();
            assert!(
                o.status.success(),
                "{what}: {}",
                String::from_utf8_lossy(&o.stderr)
            );

            // Exactly one label, found by a reader that is not ours where one exists.
            let bytes = std::fs::read(&out).unwrap();
            let labels = match ext {
                "txt" | "md" => inspected_labels(&out),
                "wav" => {
                    let mut l = riff_labels(&bytes);
                    l.extend(exiftool_labels(&out));
                    l
                }
                _ => exiftool_labels(&out),
            };
            assert_eq!(
                labels.len(),
                1,
                "{what}: exactly one label, found {labels:#?}"
            );
            check_strict(&what, &labels[0]);

            // The verdict and the explicit label.
            let o = bin()
                .args(["verify", "--json", "--no-watermark", "--trust"])
                .arg(keys.join("trust.json"))
                .arg(&out)
                .output()
                .unwrap();
            let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            let report = &report[0];
            assert_eq!(report["verdict"], "labeled_intact", "{what}: {report:#}");
            let marks = report["explicit"].as_array().unwrap();
            let text_format = matches!(ext, "txt" | "md");
            if text_format || explicit {
                assert!(!marks.is_empty(), "{what}: an explicit label: {report:#}");
            }
            if text_format {
                // The prompt sits within the first or last 64 characters and holds both elements.
                let text = String::from_utf8(bytes.clone()).unwrap();
                // A Markdown prompt follows the front matter.
                let text = match text
                    .strip_prefix("---\n")
                    .and_then(|t| t.split_once("\n---\n"))
                {
                    Some((_, body)) => body.to_string(),
                    None => text,
                };
                let visible: String = text
                    .chars()
                    .filter(|c| !matches!(*c as u32, 0xFE00..=0xFE0F | 0xE0100..=0xE01EF | 0xFEFF))
                    .collect();
                let head: String = visible.chars().take(64).collect();
                let tail: String = visible
                    .chars()
                    .rev()
                    .take(64)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                assert!(
                    has_both_elements(&head) || has_both_elements(&tail),
                    "{what}: the prompt lacks an AI or a generated element:\n{visible}"
                );
            }
            for m in marks {
                if let Some(t) = m["text"].as_str() {
                    assert!(has_both_elements(t), "{what}: explicit text {t:?}");
                }
            }
        }
    }
}
