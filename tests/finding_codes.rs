//! The finding registry (`src/findings.rs`) against the source and the docs: every code the
//! source reports is registered with the severity it is reported with, every registered code is
//! used, and `docs/findings.md` is the registry's table.

use std::collections::BTreeMap;
use std::path::Path;

use aigcmark::Severity;
use aigcmark::findings::{FINDING_CODES, lookup, markdown_table};

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The string literal at the start of `s` (after whitespace), if there is one.
fn leading_literal(s: &str) -> Option<&str> {
    let s = s.trim_start().strip_prefix('"')?;
    Some(&s[..s.find('"')?])
}

/// Every `Finding::error("code"` (and warning, info, new) in the source, with the severity
/// when the call names it (`None` for `Finding::new` with a computed severity).
fn used_codes() -> BTreeMap<String, Vec<Option<Severity>>> {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut used: BTreeMap<String, Vec<Option<Severity>>> = BTreeMap::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (call, sev) in [
            ("Finding::error(", Some(Severity::Error)),
            ("Finding::warning(", Some(Severity::Warning)),
            ("Finding::info(", Some(Severity::Info)),
            ("Finding::new(", None),
        ] {
            for (at, _) in text.match_indices(call) {
                let rest = &text[at + call.len()..];
                let Some(code) = leading_literal(rest) else {
                    continue;
                };
                let sev = sev.or_else(|| {
                    let after = rest[rest.find(',')? + 1..].trim_start();
                    [
                        ("Severity::Error", Severity::Error),
                        ("Severity::Warning", Severity::Warning),
                        ("Severity::Info", Severity::Info),
                    ]
                    .into_iter()
                    .find(|(name, _)| after.starts_with(name))
                    .map(|(_, s)| s)
                });
                used.entry(code.to_string()).or_default().push(sev);
            }
        }
    }
    used
}

#[test]
fn every_code_in_the_source_is_registered_with_its_severity() {
    let used = used_codes();
    assert!(used.len() > 100, "the scan found {} codes", used.len());
    for (code, sevs) in &used {
        let entry = lookup(code).unwrap_or_else(|| panic!("{code} is not in FINDING_CODES"));
        for s in sevs.iter().flatten() {
            assert!(
                entry.severities.contains(s),
                "{code} is reported as {s:?}, not registered so"
            );
        }
    }
}

#[test]
fn every_registered_code_is_used() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let source: String = files
        .iter()
        .filter(|f| !f.ends_with("findings.rs"))
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    for c in FINDING_CODES {
        assert!(
            source.contains(&format!("\"{}\"", c.code)),
            "{} is registered but never reported",
            c.code
        );
        assert!(
            !c.severities.is_empty() && !c.meaning.is_empty(),
            "{}",
            c.code
        );
    }
}

#[test]
fn the_docs_list_is_the_registry() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/findings.md");
    let want = markdown_table();
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have != want && std::env::var_os("AIGCMARK_WRITE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    assert!(
        have == want,
        "docs/findings.md is out of date: run `AIGCMARK_WRITE_DOCS=1 cargo test --test finding_codes`"
    );
}
