//! `aigcmark watermark embed` / `detect`: the watermark on its own, without a metadata label.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use aigcmark::report::WatermarkCheck;
use aigcmark::watermark::{Payload, WatermarkKey};
use aigcmark::{Error, Format, Limits, Signer};

use super::label_cmd::{input_format, read_input};
use super::{EXIT_OK, FormatArg};

#[derive(Subcommand)]
pub enum WatermarkCommand {
    /// Embed a watermark into an image or a recording.
    Embed(EmbedArgs),
    /// Look for the watermark in files.
    Detect {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct EmbedArgs {
    input: PathBuf,
    #[arg(short = 'o', long = "out")]
    output: PathBuf,
    /// The payload as 16 hex digits; or give --key, --producer and --produce-id to derive it.
    #[arg(long, conflicts_with_all = ["key", "producer", "produce_id"])]
    payload: Option<String>,
    /// The provider's secret key (for the payload's keyed tag).
    #[arg(long, requires_all = ["producer", "produce_id"])]
    key: Option<PathBuf>,
    #[arg(long)]
    producer: Option<String>,
    #[arg(long)]
    produce_id: Option<String>,
    /// JPEG quality when writing JPEG.
    #[arg(long, default_value_t = 92, value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: u8,
    /// Overwrite OUT if it exists.
    #[arg(long)]
    overwrite: bool,
    #[command(flatten)]
    format: FormatArg,
}

pub fn run(cmd: WatermarkCommand) -> Result<u8, Error> {
    match cmd {
        WatermarkCommand::Embed(a) => embed(a),
        WatermarkCommand::Detect { files, json } => detect(&files, json),
    }
}

fn embed(a: EmbedArgs) -> Result<u8, Error> {
    let payload = match (&a.payload, &a.key) {
        (Some(hex), _) => Payload::from_id(&hex.to_ascii_lowercase())
            .ok_or_else(|| Error::Refused("--payload must be 16 hex digits".into()))?,
        (None, Some(key)) => {
            let signer = Signer::load(key)?;
            Payload::new(
                a.producer.as_deref().unwrap_or(""),
                a.produce_id.as_deref().unwrap_or(""),
                &signer.seed(),
            )
        }
        (None, None) => {
            return Err(Error::Refused(
                "give --payload, or --key with --producer and --produce-id".into(),
            ));
        }
    };
    if a.output.exists() && !a.overwrite {
        return Err(Error::Refused(format!(
            "{} exists; pass --overwrite to replace it",
            a.output.display()
        )));
    }
    let input = read_input(&a.input)?;
    let format = input_format(&a.input, &input, a.format.format)?;
    // Marked compressed audio comes back as WAV: refuse a name that says otherwise before the
    // work, as `label` does.
    let named = Format::from_path(&a.output);
    if matches!(format, Format::Mp3 | Format::Flac | Format::Ogg)
        && named.is_some_and(|n| n != Format::Wav)
    {
        return Err(wrong_name(Format::Wav, &a.output));
    }
    let key = WatermarkKey::public_default();
    let edited = aigcmark::embed_watermark_owned(
        input,
        format,
        payload,
        &key,
        a.quality,
        &Limits::default(),
    )?;
    if named.is_some_and(|n| n != edited.format) {
        return Err(wrong_name(edited.format, &a.output));
    }
    for note in &edited.notes {
        eprintln!("note: {}", note.message);
    }
    aigcmark::io::write_atomic(&a.output, &edited.bytes)?;
    println!(
        "{}: watermark {} ({})",
        a.output.display(),
        payload.id(),
        edited.format
    );
    Ok(EXIT_OK)
}

/// The refusal for an output name whose extension is not the format written (the words
/// `label` uses).
fn wrong_name(actual: Format, output: &Path) -> Error {
    let ext = match actual {
        Format::Jpeg => "jpg",
        Format::Text => "txt",
        Format::Markdown => "md",
        other => other.name(),
    };
    Error::Refused(format!(
        "the watermarked file is {actual}, but {} names {}; choose an output name ending in .{ext}",
        output.display(),
        Format::from_path(output).map_or("another format", |f| f.name()),
    ))
}

fn detect(files: &[PathBuf], json: bool) -> Result<u8, Error> {
    let limits = Limits::default();
    let key = WatermarkKey::public_default();
    let mut worst = 0u8;
    let mut all = Vec::new();
    for f in files {
        let check = detect_one(f, &limits, &key);
        let (code, text) = match &check {
            Ok(WatermarkCheck::Detected(d)) => (
                0,
                format!(
                    "found: payload {} (producer tag {}, content tag {}), {}/{} keyed bits, false-positive probability {:.1e}, {}",
                    d.payload,
                    hex(&d.producer_tag),
                    hex(&d.content_tag),
                    d.matching_bits,
                    d.compared_bits,
                    d.false_positive_probability,
                    d.location.as_deref().unwrap_or("")
                ),
            ),
            Ok(WatermarkCheck::Absent) => (1, "not found".to_string()),
            Ok(WatermarkCheck::NotChecked) => (1, "this format carries no watermark".to_string()),
            Ok(_) => (1, "unrecognised result".to_string()),
            Err(e) => (3, format!("error: {e}")),
        };
        worst = worst.max(code);
        if json {
            all.push(serde_json::json!({
                "path": f.display().to_string(),
                "watermark": check.as_ref().ok(),
                "error": check.as_ref().err().map(|e| e.to_string()),
            }));
        } else {
            println!("{}: {text}", f.display());
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&all).unwrap_or_default());
    }
    Ok(worst)
}

fn detect_one(path: &Path, limits: &Limits, key: &WatermarkKey) -> Result<WatermarkCheck, Error> {
    let input = read_input(path)?;
    let format = input_format(path, &input, None)?;
    aigcmark::detect_watermark(&input, format, key, limits)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
