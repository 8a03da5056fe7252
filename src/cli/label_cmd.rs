//! `aigcmark label` and `aigcmark propagate`: read, label, write atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use aigcmark::{Error, ExplicitOptions, Format, LabelKind, LabelOptions, PropagateOptions, Signer};

use super::{CarrierArg, EXIT_OK, FormatArg, PlacementArg};

#[derive(Args)]
pub struct LabelArgs {
    /// The file to label (`-` for standard input).
    input: PathBuf,
    /// Where to write the labeled file (`-` for standard output).
    #[arg(short = 'o', long = "out")]
    output: PathBuf,
    /// The provider's secret key (PKCS#8 PEM, from `aigcmark keygen`).
    #[arg(
        long,
        required_unless_present = "sign_command",
        conflicts_with = "sign_command"
    )]
    key: Option<PathBuf>,
    #[command(flatten)]
    external: ExternalSignerArgs,
    /// ContentProducer: the provider's 27-character code (or a name without spaces).
    #[arg(long)]
    producer: String,
    /// ProduceID: the provider's id for this content (default: a fresh unique id).
    #[arg(long)]
    produce_id: Option<String>,
    /// Label: 1 AI-generated, 2 possibly, 3 suspected.
    #[arg(long = "label", default_value = "1", value_parser = ["1", "2", "3"])]
    kind: String,
    /// Add the explicit label to images and audio too (a visible corner mark, an audible
    /// rhythm); text and Markdown get their prompt without asking.
    #[arg(long)]
    explicit: bool,
    /// No explicit prompt on text and Markdown (when the service shows the label in its own
    /// interface).
    #[arg(long, conflicts_with_all = ["explicit", "explicit_text", "position", "size"])]
    no_explicit: bool,
    /// Words of the explicit label (text and images); must hold an "AI" element (人工智能 or AI)
    /// and a "generated" element (生成 or 合成). Implies --explicit.
    #[arg(long)]
    explicit_text: Option<String>,
    /// Where the explicit label goes: start/end/both (text, audio) or a corner (images).
    /// Implies --explicit.
    #[arg(long, value_enum)]
    position: Option<PlacementArg>,
    /// Image label text height as a fraction of the shortest side (at least 0.05, GB 45438
    /// 5.2). Implies --explicit.
    #[arg(long)]
    size: Option<f32>,
    /// Do not embed the watermark.
    #[arg(long)]
    no_watermark: bool,
    /// Image metadata carriers: `xmp` (default; one label per file, as strict checkers want),
    /// `annex-b` (PNG tEXt AIGC / JPEG EXIF UserComment) or `both`.
    #[arg(long, value_enum, default_value = "xmp")]
    carrier: CarrierArg,
    /// Replace a label already in the input.
    #[arg(long)]
    replace: bool,
    /// JPEG quality when pixels must be re-encoded.
    #[arg(long, default_value_t = 92, value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: u8,
    /// Overwrite OUT if it exists, even when it is the input.
    #[arg(long)]
    overwrite: bool,
    /// Ask this RFC 3161 timestamp authority (http:// URL) for a token over the seal's
    /// signature. Images and audio carry it in the file, beside the label; plain text and
    /// Markdown get it beside the output as OUT.tsr (DER, `openssl ts -verify -token_in` reads
    /// it; `verify --tsa-token` too). Without a token the seal's time is the signer's own claim.
    #[arg(long, value_name = "URL")]
    tsa: Option<String>,
    /// Also write a C2PA manifest (JPEG, PNG, WebP, WAV, MP3) signed with this certificate
    /// chain (PEM, signing certificate first; `keygen --c2pa` makes a test one).
    #[cfg(feature = "c2pa")]
    #[arg(long, requires = "c2pa_key")]
    c2pa_cert: Option<PathBuf>,
    /// The C2PA signing certificate's Ed25519 private key (PKCS#8 PEM).
    #[cfg(feature = "c2pa")]
    #[arg(long, requires = "c2pa_cert")]
    c2pa_key: Option<PathBuf>,
    #[command(flatten)]
    format: FormatArg,
}

/// Signing with a key held elsewhere (KMS, HSM, a signing service) instead of `--key`.
#[derive(Args)]
pub struct ExternalSignerArgs {
    /// Sign by running `sh -c CMD`: the message to sign on its standard input, the signature on
    /// its standard output (Ed25519: raw 64 bytes; SM2: raw r‖s or DER, as `openssl pkeyutl
    /// -sign` prints). Every signature is checked against --public-key; a failing, slow or lying
    /// command writes nothing.
    #[arg(long, value_name = "CMD", requires = "public_key")]
    sign_command: Option<String>,
    /// The Ed25519 or SM2 public key (PEM, `openssl pkey -pubout`) the signing command signs for.
    #[arg(long, value_name = "PUB.pem", requires = "sign_command")]
    public_key: Option<PathBuf>,
    /// Seconds the signing command may take per signature.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 30,
        requires = "sign_command"
    )]
    sign_timeout: u64,
}

/// The signer `--key` or `--sign-command`/`--public-key` name.
fn load_signer(key: Option<&Path>, ext: &ExternalSignerArgs) -> Result<Signer, Error> {
    match (key, &ext.sign_command, &ext.public_key) {
        (Some(key), None, _) => Signer::load(key),
        (None, Some(cmd), Some(public)) => {
            let pem = aigcmark::io::read_limited(public, 1 << 20)?;
            let public_key = aigcmark::keys::public_key_from_pem(&String::from_utf8_lossy(&pem))
                .map_err(|e| Error::Key(format!("{}: {e}", public.display())))?;
            let provider = aigcmark::CommandSigner::new(cmd)
                .with_algorithm(public_key.algorithm())
                .with_timeout(std::time::Duration::from_secs(ext.sign_timeout.max(1)));
            Signer::external(public_key, provider)
        }
        _ => Err(Error::Refused(
            "give either --key, or --sign-command with --public-key".into(),
        )),
    }
}

#[derive(Args)]
pub struct PropagateArgs {
    /// The labeled file (`-` for standard input).
    input: PathBuf,
    /// Where to write (`-` for standard output).
    #[arg(short = 'o', long = "out")]
    output: PathBuf,
    /// The platform's secret key.
    #[arg(
        long,
        required_unless_present = "sign_command",
        conflicts_with = "sign_command"
    )]
    key: Option<PathBuf>,
    #[command(flatten)]
    external: ExternalSignerArgs,
    /// ContentPropagator: the platform's code (or a name without spaces).
    #[arg(long)]
    propagator: String,
    /// PropagateID (default: a fresh unique id).
    #[arg(long)]
    propagate_id: Option<String>,
    /// Image metadata carriers: `xmp` (default), `annex-b` or `both`.
    #[arg(long, value_enum, default_value = "xmp")]
    carrier: CarrierArg,
    /// Replace another platform's propagation (ContentPropagator, PropagateID, ReservedCode2).
    #[arg(long)]
    replace: bool,
    /// Overwrite OUT if it exists, even when it is the input.
    #[arg(long)]
    overwrite: bool,
    #[command(flatten)]
    format: FormatArg,
}

pub fn label(a: LabelArgs) -> Result<u8, Error> {
    let signer = load_signer(a.key.as_deref(), &a.external)?;
    check_output(&a.input, &a.output, a.overwrite)?;
    let input = read_input(&a.input)?;
    let format = input_format(&a.input, &input, a.format.format)?;
    let mut opts = LabelOptions::new(&a.producer);
    #[cfg(feature = "c2pa")]
    if let (Some(cert), Some(key)) = (&a.c2pa_cert, &a.c2pa_key) {
        opts.c2pa = Some(aigcmark::C2paSigner::load(cert, key)?);
    }
    opts.kind = LabelKind::from_code(&a.kind).unwrap_or(LabelKind::Generated);
    opts.produce_id = a.produce_id;
    opts.watermark = !a.no_watermark;
    opts.carriers = a.carrier.into();
    opts.replace = a.replace;
    opts.jpeg_quality = a.quality;
    opts.explicit_for_text = !a.no_explicit;
    if let Some(size) = a.size
        && !(0.05..=0.5).contains(&size)
    {
        return Err(Error::Refused(format!(
            "--size {size} is outside 0.05–0.5: GB 45438 5.2 asks for text at least 5% of the \
             image's shortest side"
        )));
    }
    if a.explicit || a.explicit_text.is_some() || a.position.is_some() || a.size.is_some() {
        opts.explicit = Some(ExplicitOptions {
            text: a.explicit_text,
            placement: a.position.map(Into::into),
            size: a.size,
        });
    }
    // Compressed audio is watermarked by decoding it and writing WAV; when the output's name asks
    // for the input's compressed format, label the metadata only and say so.
    let named = (a.output != Path::new("-"))
        .then(|| Format::from_path(&a.output))
        .flatten();
    if opts.watermark
        && matches!(format, Format::Mp3 | Format::Flac | Format::Ogg)
        && named == Some(format)
    {
        opts.watermark = false;
        eprintln!(
            "note: {format} output: no watermark (it needs the audio re-encoded; name the output .wav \
             to get one, or pass --no-watermark to silence this note)"
        );
    }
    if let Some(url) = &a.tsa {
        // The token is asked for inside labeling, before anything is written: a TSA that
        // fails leaves no output.
        if a.output == Path::new("-") && !aigcmark::timestamp::carried_in_file(format) {
            return Err(Error::Refused(format!(
                "--tsa writes OUT.tsr beside a {format} output; give a file name, not -"
            )));
        }
        opts.tsa = Some(aigcmark::timestamp::TsaRequest::new(url));
    }
    let out = aigcmark::label_owned(input, format, &signer, &opts)?;
    for note in &out.notes {
        eprintln!("note: {}", note.message);
    }
    if let Some(named) = named
        && !same_family(named, out.format)
    {
        return Err(Error::Refused(format!(
            "the labeled file is {}, but {} names {named}; choose an output name ending in .{}",
            out.format,
            a.output.display(),
            extension(out.format)
        )));
    }
    write_output(&a.output, &out.bytes)?;
    if let Some(token) = &out.timestamp_token {
        if aigcmark::timestamp::carried_in_file(out.format) {
            println!("{}: timestamp token in the file", a.output.display());
        } else {
            let mut name = a.output.clone().into_os_string();
            name.push(".tsr");
            aigcmark::io::write_atomic(Path::new(&name), token)?;
            println!("{}: timestamp token", Path::new(&name).display());
        }
    }
    if a.output != Path::new("-") {
        println!(
            "{}: labeled ({}), ProduceID {}{}",
            a.output.display(),
            out.format,
            out.record.produce_id.as_deref().unwrap_or(""),
            out.watermark_id
                .as_deref()
                .map(|w| format!(", watermark {w}"))
                .unwrap_or_default()
        );
    }
    Ok(EXIT_OK)
}

pub fn propagate(a: PropagateArgs) -> Result<u8, Error> {
    let signer = load_signer(a.key.as_deref(), &a.external)?;
    check_output(&a.input, &a.output, a.overwrite)?;
    let input = read_input(&a.input)?;
    let format = input_format(&a.input, &input, a.format.format)?;
    let mut opts = PropagateOptions::new(&a.propagator);
    opts.propagate_id = a.propagate_id;
    opts.carriers = a.carrier.into();
    opts.replace = a.replace;
    let out = aigcmark::propagate(&input, format, &signer, &opts)?;
    for note in &out.notes {
        eprintln!("note: {}", note.message);
    }
    write_output(&a.output, &out.bytes)?;
    if a.output != Path::new("-") {
        println!(
            "{}: countersigned by {}, PropagateID {}",
            a.output.display(),
            a.propagator,
            out.record.propagate_id.as_deref().unwrap_or("")
        );
    }
    Ok(EXIT_OK)
}

/// Refuses to overwrite anything, the input above all, unless `--overwrite`.
fn check_output(input: &Path, output: &Path, overwrite: bool) -> Result<(), Error> {
    if output == Path::new("-") || overwrite || !output.exists() {
        return Ok(());
    }
    let same = input != Path::new("-")
        && matches!((input.canonicalize(), output.canonicalize()), (Ok(a), Ok(b)) if a == b);
    Err(Error::Refused(format!(
        "{} {}; pass --overwrite to replace it",
        output.display(),
        if same { "is the input" } else { "exists" }
    )))
}

pub fn read_input(path: &Path) -> Result<Vec<u8>, Error> {
    let max = aigcmark::Limits::default().max_file_bytes;
    let bytes = if path == Path::new("-") {
        aigcmark::io::read_bounded(std::io::stdin().lock(), max, "standard input")?
    } else {
        aigcmark::io::read_limited(path, max)?
    };
    if bytes.is_empty() {
        return Err(Error::Refused(format!("{} is empty", shown(path))));
    }
    Ok(bytes)
}

/// A path for messages (`standard input` for `-`).
pub fn shown(path: &Path) -> String {
    if path == Path::new("-") {
        "standard input".into()
    } else {
        path.display().to_string()
    }
}

pub fn input_format(path: &Path, bytes: &[u8], forced: Option<Format>) -> Result<Format, Error> {
    if let Some(f) = forced {
        return Ok(f);
    }
    let named = (path != Path::new("-")).then_some(path);
    Format::detect(named, &bytes[..bytes.len().min(64)]).ok_or_else(|| {
        Error::Unsupported(format!(
            "{}: {}",
            shown(path),
            aigcmark::unsupported_reason(named, bytes)
        ))
    })
}

fn write_output(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(bytes)
            .and_then(|()| out.flush())
            .map_err(|e| Error::io("<stdout>", e));
    }
    aigcmark::io::write_atomic(path, bytes)
}

/// Text and Markdown may be named either way; other formats must match their name.
fn same_family(named: Format, actual: Format) -> bool {
    named == actual
        || matches!(
            (named, actual),
            (Format::Text, Format::Markdown) | (Format::Markdown, Format::Text)
        )
}

fn extension(format: Format) -> &'static str {
    match format {
        Format::Text => "txt",
        Format::Markdown => "md",
        Format::Jpeg => "jpg",
        other => other.name(),
    }
}
