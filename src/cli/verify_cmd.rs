//! `aigcmark verify` and `aigcmark inspect`: reports for people and for tools.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use aigcmark::batch::{self, Order, Summary};
use aigcmark::report::WatermarkCheck;
use aigcmark::report::{BindingStatus, Severity, SignatureReport, SignatureStatus};
use aigcmark::{Error, Format, Limits, Report, TrustStore, VerifyOptions};

use super::EXIT_ERROR;
use super::label_cmd::{input_format, read_input};

#[derive(Args)]
pub struct VerifyArgs {
    /// Files or folders to verify; `-` reads a list of paths from standard input, one a line.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Trust store (from `aigcmark keygen`, or a list of providers' keys); a folder means every
    /// `*.json` in it; given more than once, the stores are merged.
    #[arg(long)]
    trust: Vec<PathBuf>,
    /// Print all reports as one JSON array.
    #[arg(long, conflicts_with = "jsonl")]
    json: bool,
    /// Print one JSON report per line as files finish (for large batches).
    #[arg(long)]
    jsonl: bool,
    /// Verify the files below folders.
    #[arg(short, long)]
    recursive: bool,
    /// Threads to use (default: all cores).
    #[arg(long, default_value_t = 0)]
    jobs: usize,
    /// Report order: as given (stable) or as files finish.
    #[arg(long, value_enum, default_value_t = OrderArg::Input)]
    order: OrderArg,
    /// Also show informational findings in the detailed report.
    #[arg(short, long)]
    verbose: bool,
    /// One line per file instead of the detailed report.
    #[arg(long)]
    brief: bool,
    /// Do not look for watermarks (faster on large images and audio).
    #[arg(long)]
    no_watermark: bool,
    /// Resource limits as a JSON object (fields of `Limits`, e.g. '{"max_pixels":50000000}').
    #[arg(long)]
    limits: Option<String>,
    /// C2PA trust anchors (PEM certificates; e.g. the `c2pa-ca.pem` of `keygen --c2pa`); given
    /// more than once, all are trusted. Without it a sound C2PA manifest is `untrusted`.
    #[cfg(feature = "c2pa")]
    #[arg(long)]
    c2pa_trust: Vec<PathBuf>,
    /// Certificates (PEM) trusted to issue RFC 3161 timestamp tokens. A valid token from them
    /// makes the key's validity window and revocation judged at the token's time.
    #[arg(long, value_name = "CERTS.pem")]
    tsa_trust: Option<PathBuf>,
    /// A timestamp token (DER, the `OUT.tsr` that `label --tsa` writes for plain text and
    /// Markdown) for the one file verified; it takes the place of any token in the file.
    #[arg(long, value_name = "FILE")]
    tsa_token: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum OrderArg {
    Input,
    Completion,
}

pub fn verify(a: VerifyArgs) -> Result<u8, Error> {
    let mut trust = TrustStore::new();
    for p in &a.trust {
        trust.merge(TrustStore::load_path(p)?)?;
    }
    let mut opts = VerifyOptions::new(trust);
    #[cfg(feature = "c2pa")]
    if !a.c2pa_trust.is_empty() {
        let mut pem = String::new();
        for p in &a.c2pa_trust {
            let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
            if !text.contains("-----BEGIN CERTIFICATE-----") {
                return Err(Error::Refused(format!(
                    "--c2pa-trust {}: no PEM certificate in it",
                    p.display()
                )));
            }
            pem.push_str(&text);
            pem.push('\n');
        }
        opts.c2pa_trust = Some(pem);
    }
    if a.no_watermark {
        opts.watermark_key = None;
    }
    if let Some(p) = &a.tsa_trust {
        opts.tsa_trust = Some(aigcmark::timestamp::TsaTrust::load(p)?);
    }
    if let Some(p) = &a.tsa_token {
        opts.tsa_token = Some(aigcmark::io::read_limited(
            p,
            aigcmark::timestamp::MAX_TOKEN as u64,
        )?);
    }
    if let Some(l) = &a.limits {
        opts.limits = Limits::from_json(l)?;
    }
    let mut args = Vec::new();
    for f in &a.files {
        if f == Path::new("-") {
            for line in std::io::stdin().lock().lines() {
                let line = line.map_err(|e| Error::io("standard input", e))?;
                if !line.trim().is_empty() {
                    args.push(PathBuf::from(line.trim_end_matches(['\r', '\n'])));
                }
            }
        } else {
            args.push(f.clone());
        }
    }
    let paths =
        batch::collect_paths(&args, a.recursive).map_err(|e| Error::Refused(e.to_string()))?;
    if opts.tsa_token.is_some() && paths.len() != 1 {
        return Err(Error::Refused(
            "--tsa-token belongs to one file; verify that file alone".into(),
        ));
    }
    let order = match a.order {
        OrderArg::Input => Order::Input,
        OrderArg::Completion => Order::Completion,
    };
    let bulk = paths.len() > 1;
    let progress = (bulk && std::io::stderr().is_terminal()).then(|| {
        let pb = indicatif::ProgressBar::new(paths.len() as u64);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} files, {per_sec}, eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        pb
    });
    let mut stdout = Output::new();
    let mut all = Vec::new();
    let summary = batch::verify_many(&paths, &opts, a.jobs, order, |r| {
        if let Some(pb) = &progress {
            pb.inc(1);
        }
        if a.jsonl {
            let mut line = serde_json::to_vec(&r).unwrap_or_default();
            line.push(b'\n');
            stdout.write(&line);
        } else if a.json {
            all.push(r);
        } else {
            let text = if a.brief {
                one_line(&r)
            } else {
                detailed(&r, a.verbose)
            };
            match &progress {
                Some(pb) => pb.suspend(|| stdout.write(text.as_bytes())),
                None => stdout.write(text.as_bytes()),
            }
        }
    });
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    if a.json {
        let mut text = serde_json::to_vec_pretty(&all).unwrap_or_default();
        text.push(b'\n');
        stdout.write(&text);
    }
    stdout.flush();
    if bulk {
        eprint!("{}", summary_text(&summary));
    }
    Ok(summary.exit_class)
}

pub fn inspect(file: &Path, json: bool, forced: Option<Format>) -> Result<u8, Error> {
    let bytes = read_input(file)?;
    let format = input_format(file, &bytes, forced)?;
    let limits = Limits::default();
    let key = aigcmark::watermark::WatermarkKey::public_default();
    let found = aigcmark::inspect(&bytes, format, &limits, Some(&key))?;
    let mut out = Output::new();
    if json {
        let mut text = serde_json::to_vec_pretty(&found).unwrap_or_default();
        text.push(b'\n');
        out.write(&text);
        out.flush();
        return Ok(0);
    }
    let mut lines: Vec<String> = vec![format!(
        "{}: {}",
        super::label_cmd::shown(file),
        found.format
    )];
    if found.carriers.is_empty() {
        lines.push("  no metadata label".into());
    }
    for c in &found.carriers {
        lines.push(format!("  {}:", c.location));
        lines.push(format!("    raw   {}", c.raw));
        match &c.label {
            Some(l) => {
                for (name, value) in l.fields() {
                    if let Some(v) = value {
                        lines.push(format!("    {name:<17} {v}"));
                    }
                }
            }
            None => lines.push("    (not a readable label)".into()),
        }
        for f in &c.findings {
            lines.push(format!("    {:?} {}: {}", f.severity, f.code, f.message));
        }
    }
    if let Some(d) = &found.content_digest {
        lines.push(format!("  content digest {d}"));
    }
    for m in &found.explicit {
        lines.push(format!("  explicit {:?} at {}", m.kind, m.location));
    }
    lines.push(format!("  watermark {}", watermark_text(&found.watermark)));
    for d in &found.declarations {
        lines.push(format!(
            "  declaration {:?} {} ({})",
            d.kind, d.value, d.location
        ));
    }
    for f in &found.findings {
        lines.push(format!("  {:?} {}: {}", f.severity, f.code, f.message));
    }
    for l in lines {
        out.write(clean(&l).as_bytes());
        out.write(b"\n");
    }
    out.flush();
    Ok(0)
}

/// Standard output that ends quietly when the reader goes away (`verify … | head -1`): after a
/// broken pipe nothing more is written, and nothing panics.
struct Output {
    out: std::io::StdoutLock<'static>,
    closed: bool,
}

impl Output {
    fn new() -> Self {
        Output {
            out: std::io::stdout().lock(),
            closed: false,
        }
    }
    fn write(&mut self, bytes: &[u8]) {
        if !self.closed && self.out.write_all(bytes).is_err() {
            self.closed = true;
        }
    }
    fn flush(&mut self) {
        if !self.closed && self.out.flush().is_err() {
            self.closed = true;
        }
    }
}

/// Text from a file (its name, label values, messages quoting it) made safe to print: control
/// characters, line and paragraph separators and bidirectional overrides are shown escaped, so
/// a name or value cannot fake report lines or reorder what a terminal shows.
pub fn clean(s: &str) -> String {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
    };
    if !s.chars().any(unsafe_char) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn one_line(r: &Report) -> String {
    format!(
        "{}: {} ({})\n",
        clean(r.path.as_deref().unwrap_or("-")),
        r.verdict.as_str(),
        clean(&r.headline())
    )
}

fn detailed(r: &Report, verbose: bool) -> String {
    let mut s = one_line(r);
    let mut line = |k: &str, v: String| s.push_str(&format!("  {k:<10} {v}\n"));
    if let Some(l) = &r.label {
        let kind = l
            .kind()
            .map(|k| k.describe())
            .unwrap_or("unrecognised Label value");
        line(
            "label",
            clean(&format!(
                "Label={} ({kind}), ContentProducer={}, ProduceID={}",
                l.label.as_deref().unwrap_or("-"),
                l.content_producer.as_deref().unwrap_or("-"),
                l.produce_id.as_deref().unwrap_or("-")
            )),
        );
        line("seal", signature_text(&r.signature));
        if let Some(t) = &r.timestamp {
            let status = serde_json::to_value(t.status).unwrap_or_default();
            line(
                "timestamp",
                clean(&format!(
                    "{}{}{}{}",
                    status.as_str().unwrap_or("?"),
                    t.time
                        .as_deref()
                        .map(|at| format!(", {at}"))
                        .unwrap_or_default(),
                    t.authority
                        .as_deref()
                        .map(|a| format!(", by {a}"))
                        .unwrap_or_default(),
                    t.message
                        .as_deref()
                        .map(|m| format!(" ({m})"))
                        .unwrap_or_default()
                )),
            );
        }
        line("binding", binding_text(r.binding.status));
        if let Some(p) = &r.propagation {
            line(
                "platform",
                clean(&format!(
                    "{}, PropagateID {}; seal {}; binding {}",
                    l.content_propagator.as_deref().unwrap_or("-"),
                    l.propagate_id.as_deref().unwrap_or("-"),
                    signature_text(&p.signature),
                    binding_text(p.binding.status)
                )),
            );
        }
    }
    line("watermark", watermark_text(&r.watermark));
    if r.c2pa.status != aigcmark::C2paStatus::Absent {
        line("c2pa", clean(&c2pa_text(&r.c2pa)));
    }
    if r.explicit.is_empty() {
        line("explicit", "none found".into());
    }
    for m in &r.explicit {
        let intact = match m.intact {
            Some(true) => ", intact",
            Some(false) => ", NOT intact",
            None => "",
        };
        let text = m
            .text
            .as_deref()
            .map(|t| format!(" {t:?}"))
            .unwrap_or_default();
        line(
            "explicit",
            clean(&format!("{:?}{text} at {}{intact}", m.kind, m.location)),
        );
    }
    for f in r
        .findings
        .iter()
        .filter(|f| verbose || f.severity > Severity::Info)
    {
        s.push_str(&format!(
            "  {:<10} {}: {}\n",
            format!("{:?}", f.severity).to_lowercase(),
            f.code,
            clean(&f.message)
        ));
    }
    s
}

fn signature_text(sig: &SignatureReport) -> String {
    let status = match sig.status {
        SignatureStatus::Valid => "valid",
        SignatureStatus::Invalid => "INVALID",
        SignatureStatus::Untrusted => "valid signature, key NOT trusted",
        SignatureStatus::Absent => "absent",
        _ => "unrecognised status",
    };
    let mut t = status.to_string();
    if let Some(k) = &sig.key_id {
        t.push_str(&format!(", key {k}"));
    }
    if let Some(o) = &sig.owner {
        t.push_str(&format!(" ({o})"));
    }
    if let Some(at) = &sig.signed_at {
        t.push_str(&format!(", signed {at}"));
    }
    t
}

fn binding_text(b: BindingStatus) -> String {
    match b {
        BindingStatus::Match => "content unchanged since sealing".into(),
        BindingStatus::Mismatch => "content CHANGED since sealing".into(),
        BindingStatus::Absent => "nothing to compare".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// The C2PA manifest in one line: status, signer, source type, agreement.
fn c2pa_text(c: &aigcmark::C2paReport) -> String {
    let status = serde_json::to_value(c.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let mut parts = vec![status];
    if let Some(s) = &c.signer {
        parts.push(format!("signed by {s}"));
    }
    if let Some(g) = &c.claim_generator {
        parts.push(format!("made with {g}"));
    }
    if let Some(d) = &c.digital_source_type {
        parts.push(format!("source {}", d.rsplit('/').next().unwrap_or(d)));
    }
    match c.agrees_with_label {
        Some(true) => parts.push("agrees with the label".into()),
        Some(false) => parts.push("DISAGREES with the label".into()),
        None => {}
    }
    match c.agrees_with_watermark {
        Some(true) => parts.push("agrees with the watermark".into()),
        Some(false) => parts.push("DISAGREES with the watermark".into()),
        None => {}
    }
    parts.join("; ")
}

fn watermark_text(w: &WatermarkCheck) -> String {
    match w {
        WatermarkCheck::NotChecked => "not checked".into(),
        WatermarkCheck::Absent => "not found".into(),
        WatermarkCheck::Detected(f) => format!(
            "found: payload {} ({}/{} keyed bits, false-positive probability {:.1e}){}",
            f.payload,
            f.matching_bits,
            f.compared_bits,
            f.false_positive_probability,
            match f.agrees_with_label {
                Some(true) => ", agrees with the label",
                Some(false) => ", DISAGREES with the label",
                None => "",
            }
        ),
        _ => "unrecognised result".into(),
    }
}

fn summary_text(s: &Summary) -> String {
    let join = |m: &std::collections::BTreeMap<String, usize>| {
        m.iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut t = format!(
        "{} files in {:.2} s ({:.0} files/s)\n  verdicts: {}\n  formats:  {}\n",
        s.files,
        s.seconds,
        s.files_per_second,
        join(&s.by_verdict),
        join(&s.by_format)
    );
    if s.exit_class == EXIT_ERROR {
        t.push_str("  some files could not be verified\n");
    }
    t
}
