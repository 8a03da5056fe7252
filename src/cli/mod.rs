//! Command-line parsing and dispatch. Exit codes (documented in the README):
//! 0 every file labeled and intact; 1 some file not verifiably labeled; 2 some label forged,
//! altered, untrusted or conflicting; 3 usage or I/O error.

mod label_cmd;
mod trust_cmd;
mod verify_cmd;
mod watermark_cmd;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use aigcmark::CarrierChoice;
use aigcmark::{Error, Format, Placement};

pub const EXIT_OK: u8 = 0;
pub const EXIT_ERROR: u8 = 3;

#[derive(Parser)]
#[command(
    name = "aigcmark",
    version,
    about = "Signed AI-generated labels (GB 45438, EU AI Act) for text, images and audio"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make a signing key (DIR/signing.key) and a trust store holding its public key (DIR/trust.json).
    Keygen {
        /// Folder to write into (created if missing; existing keys are never overwritten).
        #[cfg_attr(feature = "c2pa", arg(long, required_unless_present = "c2pa"))]
        #[cfg_attr(not(feature = "c2pa"), arg(long, required = true))]
        out: Option<PathBuf>,
        /// The provider (or platform) code the key belongs to, recorded in the trust store as
        /// the key's owner: verify trusts the key only for labels that name this code.
        #[cfg_attr(feature = "c2pa", arg(long, required_unless_present = "c2pa"))]
        #[cfg_attr(not(feature = "c2pa"), arg(long, required = true))]
        producer: Option<String>,
        /// What the key may sign.
        #[arg(long, value_enum, default_value_t = RoleArg::Any)]
        role: RoleArg,
        /// The key's algorithm: ed25519, or sm2 (GB/T 32918 with SM3; the key file is what
        /// `openssl genpkey -algorithm SM2` writes; needs a build with the `sm` feature).
        #[arg(long, value_enum, default_value_t = AlgArg::Ed25519)]
        alg: AlgArg,
        /// Also (or only) write a TEST ONLY C2PA certificate chain into DIR: c2pa-ca.pem (the
        /// trust anchor for `verify --c2pa-trust`), c2pa-chain.pem and c2pa-signing.key (for
        /// `label --c2pa-cert/--c2pa-key`).
        #[cfg(feature = "c2pa")]
        #[arg(long, value_name = "DIR")]
        c2pa: Option<PathBuf>,
    },
    /// Label a file as AI-generated: metadata label, seal, watermark, optional explicit label.
    Label(label_cmd::LabelArgs),
    /// Verify files: what they claim and whether the claim holds.
    Verify(verify_cmd::VerifyArgs),
    /// Show the labels in a file as found, without trust decisions.
    Inspect {
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Add a platform's ContentPropagator, PropagateID and countersignature to a labeled file.
    Propagate(label_cmd::PropagateArgs),
    /// The invisible watermark on its own (exit code of detect: 0 found, 1 not found, 3 error).
    #[command(subcommand)]
    Watermark(watermark_cmd::WatermarkCommand),
    /// Edit a trust store (revoke a key).
    #[command(subcommand)]
    Trust(trust_cmd::TrustCommand),
}

#[derive(Clone, Copy, ValueEnum)]
enum AlgArg {
    Ed25519,
    Sm2,
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Provider,
    Platform,
    Any,
}

/// The format, when the file name and content do not say it (stdin).
#[derive(Args, Clone)]
pub struct FormatArg {
    /// Treat the input as this format (text, markdown, png, jpeg, webp, wav, mp3, flac, ogg).
    #[arg(long = "format", value_parser = parse_format)]
    pub format: Option<Format>,
}

fn parse_format(s: &str) -> Result<Format, String> {
    let s = s.to_ascii_lowercase();
    Format::from_name(&s)
        .or_else(|| Format::from_path(std::path::Path::new(&format!("x.{s}"))))
        .ok_or_else(|| format!("unknown format {s:?}"))
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PlacementArg {
    Start,
    End,
    Both,
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
}

impl From<PlacementArg> for Placement {
    fn from(p: PlacementArg) -> Self {
        match p {
            PlacementArg::Start => Placement::Start,
            PlacementArg::End => Placement::End,
            PlacementArg::Both => Placement::Both,
            PlacementArg::TopLeft => Placement::TopLeft,
            PlacementArg::TopRight => Placement::TopRight,
            PlacementArg::BottomLeft => Placement::BottomLeft,
            PlacementArg::BottomRight => Placement::BottomRight,
        }
    }
}

/// `--carrier`: which image metadata carriers to write.
#[derive(Clone, Copy, ValueEnum)]
pub enum CarrierArg {
    Xmp,
    AnnexB,
    Both,
}

impl From<CarrierArg> for CarrierChoice {
    fn from(c: CarrierArg) -> Self {
        match c {
            CarrierArg::Xmp => CarrierChoice::Xmp,
            CarrierArg::AnnexB => CarrierChoice::AnnexB,
            CarrierArg::Both => CarrierChoice::Both,
        }
    }
}

/// Parses the command line and runs it; returns the exit code.
pub fn run() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
        }
    };
    let result = match cli.command {
        Command::Keygen {
            out,
            producer,
            role,
            alg,
            #[cfg(feature = "c2pa")]
            c2pa,
        } => {
            #[cfg(feature = "c2pa")]
            let done = c2pa.as_deref().map(keygen_c2pa).transpose();
            #[cfg(not(feature = "c2pa"))]
            let done: Result<Option<u8>, Error> = Ok(None);
            match (done, out, producer) {
                (Err(e), _, _) => Err(e),
                (Ok(_), Some(out), Some(producer)) => keygen(&out, &producer, role, alg),
                (Ok(Some(code)), None, None) => Ok(code),
                _ => Err(Error::Refused(
                    "keygen needs both --out and --producer (or only --c2pa DIR)".into(),
                )),
            }
        }
        Command::Label(args) => label_cmd::label(args),
        Command::Propagate(args) => label_cmd::propagate(args),
        Command::Verify(args) => verify_cmd::verify(args),
        Command::Inspect { file, json, format } => verify_cmd::inspect(&file, json, format.format),
        Command::Watermark(cmd) => watermark_cmd::run(cmd),
        Command::Trust(cmd) => trust_cmd::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("aigcmark: {e}");
            EXIT_ERROR
        }
    }
}

fn keygen(out: &std::path::Path, producer: &str, role: RoleArg, alg: AlgArg) -> Result<u8, Error> {
    use aigcmark::trust::Role;
    let role = match role {
        RoleArg::Provider => Role::Provider,
        RoleArg::Platform => Role::Platform,
        RoleArg::Any => Role::Any,
    };
    let alg = match alg {
        AlgArg::Ed25519 => aigcmark::SignatureAlgorithm::Ed25519,
        AlgArg::Sm2 => aigcmark::SignatureAlgorithm::Sm2,
    };
    let k = aigcmark::keygen(out, producer, role, alg)?;
    println!("key id     {}", k.key_id);
    if !k.algorithm.is_ed25519() {
        println!("algorithm  {}", k.algorithm.name());
    }
    println!("owner      {}", k.owner);
    println!(
        "secret key {} (keep it secret; readable by you only)",
        k.key_path.display()
    );
    println!(
        "trust      {} (give this to verifiers)",
        k.trust_path.display()
    );
    Ok(EXIT_OK)
}

/// `keygen --c2pa DIR`: a TEST ONLY CA, a signing certificate it issued, and the signing key.
#[cfg(feature = "c2pa")]
fn keygen_c2pa(dir: &std::path::Path) -> Result<u8, Error> {
    let f = aigcmark::keygen_c2pa(dir)?;
    println!("C2PA TEST ONLY certificates (never use them outside tests and demos):");
    println!("trust anchor {} (verify --c2pa-trust)", f.ca_path.display());
    println!(
        "chain        {} (label --c2pa-cert)",
        f.chain_path.display()
    );
    println!("signing key  {} (label --c2pa-key)", f.key_path.display());
    Ok(EXIT_OK)
}
