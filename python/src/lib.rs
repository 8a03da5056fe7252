//! `aigcmark._native`: the Rust side of the Python package.
//!
//! Thin on purpose: every function here takes plain values (bytes, strings, numbers, one options
//! dict), releases the GIL around the library call and hands back bytes or the report's JSON
//! text, so that `Report.to_json()` is byte for byte what `aigcmark verify --jsonl` prints. The
//! keyword API, NumPy/Pillow conversion and docstrings live in `aigcmark/__init__.py`.
//! Library errors become the `aigcmark.*Error` classes defined in Python (`aigcmark._errors`),
//! with the CLI's messages; nothing here panics on caller input.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyType};

use aigcmark::CarrierChoice;
use aigcmark::text::TextLabelStream as RsStream;
use aigcmark::{
    Error as RsError, ExplicitOptions, Format, LabelKind, LabelOptions, Placement,
    PropagateOptions, Report, TrustStore as RsTrust, VerifyOptions,
};

// ---------------------------------------------------------------------------------------------
// Errors

/// Raises `aigcmark._errors.<name>(message)`; falls back to RuntimeError if the package is
/// not importable (the extension loaded on its own).
fn py_error(name: &str, message: String) -> PyErr {
    Python::with_gil(|py| {
        let class = py
            .import("aigcmark._errors")
            .and_then(|m| m.getattr(name))
            .and_then(|c| c.downcast_into::<PyType>().map_err(PyErr::from));
        match class {
            Ok(c) => PyErr::from_type(c, message),
            Err(_) => PyRuntimeError::new_err(message),
        }
    })
}

/// The exception class for a library error; the message is the CLI's (`aigcmark: {e}`).
fn to_py(e: RsError) -> PyErr {
    let name = match &e {
        RsError::Io { .. } => "IoError",
        RsError::Malformed { .. } => "MalformedError",
        RsError::Unsupported(_) => "UnsupportedError",
        RsError::Limit(_) => "LimitError",
        RsError::InvalidLabel(_) => "InvalidLabelError",
        RsError::Key(_) => "KeyFileError",
        RsError::Refused(_) => "RefusedError",
        _ => "Error",
    };
    py_error(name, e.to_string())
}

fn input_error(message: impl Into<String>) -> PyErr {
    py_error("InputError", message.into())
}

// ---------------------------------------------------------------------------------------------
// Keys and trust

/// A provider's or platform's secret signing key (Ed25519).
#[pyclass(frozen, module = "aigcmark._native")]
pub struct Signer {
    inner: Arc<aigcmark::Signer>,
}

#[pymethods]
impl Signer {
    /// Loads a PKCS#8 PEM key file (as written by `aigcmark keygen`).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let s = py
            .allow_threads(|| aigcmark::Signer::load(&path))
            .map_err(to_py)?;
        Ok(Signer { inner: Arc::new(s) })
    }

    /// A key from PKCS#8 PEM text.
    #[staticmethod]
    fn from_pem(pem: &str) -> PyResult<Self> {
        let s = aigcmark::Signer::from_pem(pem).map_err(to_py)?;
        Ok(Signer { inner: Arc::new(s) })
    }

    /// A signer whose secret key stays outside this process: `command` runs under `sh -c`,
    /// reads the message on its standard input and writes the signature on its standard output,
    /// as `aigcmark label --sign-command CMD --public-key PUB.pem` does. Every signature is
    /// checked against `public_key` (Ed25519 or SM2; PEM text or bytes, or a PEM file's path)
    /// before anything is written; `timeout` is in seconds per signature.
    #[staticmethod]
    #[pyo3(signature = (command, public_key, timeout = 30.0))]
    fn from_command(command: &str, public_key: &Bound<'_, PyAny>, timeout: f64) -> PyResult<Self> {
        if !(timeout.is_finite() && timeout > 0.0) {
            return Err(input_error(format!(
                "timeout {timeout} must be a positive number of seconds"
            )));
        }
        let (pem, what) = if let Ok(text) = public_key.extract::<String>()
            && text.contains("-----BEGIN")
        {
            (text, "public_key".to_string())
        } else if let Ok(bytes) = public_key.downcast::<PyBytes>() {
            let text = String::from_utf8_lossy(bytes.as_bytes()).into_owned();
            (text, "public_key".to_string())
        } else {
            let path: PathBuf = public_key.extract().map_err(|_| {
                input_error("public_key must be PEM text, PEM bytes or a file path")
            })?;
            let bytes = aigcmark::io::read_limited(&path, 1 << 20).map_err(to_py)?;
            (
                String::from_utf8_lossy(&bytes).into_owned(),
                path.display().to_string(),
            )
        };
        let public_key = aigcmark::keys::public_key_from_pem(&pem)
            .map_err(|e| to_py(RsError::Key(format!("{what}: {e}"))))?;
        let provider = aigcmark::CommandSigner::new(command)
            .with_algorithm(public_key.algorithm())
            .with_timeout(std::time::Duration::from_secs_f64(timeout.min(86_400.0)));
        let s = aigcmark::Signer::external(public_key, provider).map_err(to_py)?;
        Ok(Signer { inner: Arc::new(s) })
    }

    /// A fresh random key (for tests; services load theirs).
    #[staticmethod]
    fn generate() -> Self {
        Signer {
            inner: Arc::new(aigcmark::Signer::generate()),
        }
    }

    /// The key as PKCS#8 PEM text (secret: store it like a password).
    fn to_pem(&self) -> PyResult<String> {
        self.inner.to_pem().map_err(to_py)
    }

    /// The key id verifiers see in reports.
    #[getter]
    fn key_id(&self) -> String {
        self.inner.key_id()
    }

    /// The 32-byte Ed25519 public key.
    #[getter]
    fn public_key<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.public_key())
    }

    fn __repr__(&self) -> String {
        format!("Signer(key_id={:?})", self.inner.key_id())
    }
}

/// The keys a verifier trusts, each for one owner (provider or platform code) and role.
#[pyclass(frozen, module = "aigcmark._native")]
pub struct TrustStore {
    inner: Arc<RsTrust>,
}

fn parse_role(role: &str) -> PyResult<aigcmark::trust::Role> {
    use aigcmark::trust::Role;
    match role {
        "provider" => Ok(Role::Provider),
        "platform" => Ok(Role::Platform),
        "any" => Ok(Role::Any),
        other => Err(input_error(format!(
            "role {other:?} is not one of provider, platform, any"
        ))),
    }
}

#[pymethods]
impl TrustStore {
    /// An empty store (trusts nothing).
    #[new]
    fn new() -> Self {
        TrustStore {
            inner: Arc::new(RsTrust::new()),
        }
    }

    /// Loads a trust store file, or every `*.json` in a folder (as `verify --trust`).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let t = py
            .allow_threads(|| RsTrust::load_path(&path))
            .map_err(to_py)?;
        Ok(TrustStore { inner: Arc::new(t) })
    }

    /// A store from its JSON text.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        let t = RsTrust::from_json(text).map_err(to_py)?;
        Ok(TrustStore { inner: Arc::new(t) })
    }

    /// A new store holding this store's keys and `signer`'s public key for `owner`.
    #[pyo3(signature = (signer, owner, role = "any"))]
    fn with_key(&self, signer: &Signer, owner: &str, role: &str) -> PyResult<Self> {
        let mut t = (*self.inner).clone();
        let entry = RsTrust::entry_for(&signer.inner.public_key(), owner, parse_role(role)?);
        t.add(entry).map_err(to_py)?;
        Ok(TrustStore { inner: Arc::new(t) })
    }

    /// A new store holding the keys of both.
    fn merged(&self, other: &TrustStore) -> PyResult<Self> {
        let mut t = (*self.inner).clone();
        t.merge((*other.inner).clone()).map_err(to_py)?;
        Ok(TrustStore { inner: Arc::new(t) })
    }

    /// The store as JSON text (the format of `trust.json`).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    fn __len__(&self) -> usize {
        self.inner.entries().count()
    }

    /// Pickles as its JSON, so a store can be shipped to Dask, Ray or Spark workers.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let ctor = slf.get_type().getattr("from_json")?;
        Ok((ctor, (slf.get().inner.to_json(),)))
    }

    fn __repr__(&self) -> String {
        format!("TrustStore({} keys)", self.inner.entries().count())
    }
}

/// Makes DIR/signing.key and DIR/trust.json exactly as `aigcmark keygen` does; returns
/// (key_id, key_path, trust_path).
#[pyfunction]
#[pyo3(signature = (out, producer, role = "any", alg = "ed25519"))]
fn keygen(
    py: Python<'_>,
    out: PathBuf,
    producer: String,
    role: &str,
    alg: &str,
) -> PyResult<(String, String, String)> {
    let role = parse_role(role)?;
    let alg = match alg.to_ascii_lowercase().as_str() {
        "ed25519" => aigcmark::SignatureAlgorithm::Ed25519,
        "sm2" => aigcmark::SignatureAlgorithm::Sm2,
        other => {
            return Err(input_error(format!(
                "alg {other:?} is not one of ed25519, sm2"
            )));
        }
    };
    let k = py
        .allow_threads(move || aigcmark::keygen(&out, &producer, role, alg))
        .map_err(to_py)?;
    Ok((
        k.key_id,
        k.key_path.display().to_string(),
        k.trust_path.display().to_string(),
    ))
}

/// Writes a TEST ONLY C2PA certificate chain into `out`; returns (ca, chain, key) paths.
#[pyfunction]
fn keygen_c2pa(py: Python<'_>, out: PathBuf) -> PyResult<(String, String, String)> {
    let f = py
        .allow_threads(move || aigcmark::keygen_c2pa(&out))
        .map_err(to_py)?;
    Ok((
        f.ca_path.display().to_string(),
        f.chain_path.display().to_string(),
        f.key_path.display().to_string(),
    ))
}

// ---------------------------------------------------------------------------------------------
// Options, as the CLI builds them

fn parse_format(name: &str) -> PyResult<Format> {
    let s = name.to_ascii_lowercase();
    Format::from_name(&s)
        .or_else(|| Format::from_path(Path::new(&format!("x.{s}"))))
        .ok_or_else(|| {
            py_error(
                "UnsupportedError",
                format!(
                    "unknown format {s:?} (text, markdown, png, jpeg, webp, wav, mp3, flac, ogg)"
                ),
            )
        })
}

/// The format: forced, or detected from the name (when there is one) and the first bytes.
fn input_format(name: Option<&Path>, bytes: &[u8], forced: Option<&str>) -> PyResult<Format> {
    if let Some(f) = forced {
        return parse_format(f);
    }
    Format::detect(name, &bytes[..bytes.len().min(64)]).ok_or_else(|| {
        to_py(RsError::Unsupported(format!(
            "{}: {}",
            name.map(|p| p.display().to_string())
                .unwrap_or_else(|| "data".into()),
            aigcmark::unsupported_reason(name, bytes)
        )))
    })
}

fn parse_carrier(c: &str) -> PyResult<CarrierChoice> {
    match c {
        "xmp" => Ok(CarrierChoice::Xmp),
        "annex-b" | "annex_b" => Ok(CarrierChoice::AnnexB),
        "both" => Ok(CarrierChoice::Both),
        other => Err(input_error(format!(
            "carrier {other:?} is not one of xmp, annex-b, both"
        ))),
    }
}

fn parse_placement(p: &str) -> PyResult<Placement> {
    Ok(match p.replace('_', "-").as_str() {
        "start" => Placement::Start,
        "end" => Placement::End,
        "both" => Placement::Both,
        "top-left" => Placement::TopLeft,
        "top-right" => Placement::TopRight,
        "bottom-left" => Placement::BottomLeft,
        "bottom-right" => Placement::BottomRight,
        other => {
            return Err(input_error(format!(
                "position {other:?} is not one of start, end, both, top-left, top-right, \
                 bottom-left, bottom-right"
            )));
        }
    })
}

/// The label options the Python layer passes (every key always present).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct LabelArgs {
    producer: String,
    produce_id: Option<String>,
    label: String,
    explicit: Option<bool>,
    explicit_text: Option<String>,
    position: Option<String>,
    size: Option<f32>,
    watermark: bool,
    carrier: String,
    replace: bool,
    quality: i64,
    signed_at: Option<u64>,
    tsa: Option<String>,
    c2pa_cert: Option<String>,
    c2pa_key: Option<String>,
}

/// `LabelOptions` as `aigcmark label` builds them from the same options.
fn label_options(a: LabelArgs) -> PyResult<LabelOptions> {
    let mut opts = LabelOptions::new(&a.producer);
    opts.kind = LabelKind::from_code(&a.label)
        .ok_or_else(|| input_error(format!("label {:?} is not one of 1, 2, 3", a.label)))?;
    opts.produce_id = a.produce_id;
    opts.watermark = a.watermark;
    opts.carriers = parse_carrier(&a.carrier)?;
    opts.replace = a.replace;
    opts.jpeg_quality = u8::try_from(a.quality)
        .ok()
        .filter(|q| (1..=100).contains(q))
        .ok_or_else(|| input_error(format!("quality {} is outside 1–100", a.quality)))?;
    opts.signed_at = a.signed_at;
    opts.tsa = a.tsa.as_deref().map(aigcmark::timestamp::TsaRequest::new);
    opts.c2pa = match (&a.c2pa_cert, &a.c2pa_key) {
        (Some(chain), Some(key)) => {
            Some(aigcmark::C2paSigner::from_pem(chain, key).map_err(to_py)?)
        }
        (None, None) => None,
        _ => {
            return Err(input_error(
                "c2pa_cert and c2pa_key go together (the chain and its signing key)",
            ));
        }
    };
    let detail = a.explicit_text.is_some() || a.position.is_some() || a.size.is_some();
    if a.explicit == Some(false) && detail {
        return Err(input_error(
            "explicit=False (--no-explicit) cannot be combined with explicit_text, position or size",
        ));
    }
    opts.explicit_for_text = a.explicit != Some(false);
    if let Some(size) = a.size
        && !(0.05..=0.5).contains(&size)
    {
        return Err(to_py(RsError::Refused(format!(
            "--size {size} is outside 0.05–0.5: GB 45438 5.2 asks for text at least 5% of the \
             image's shortest side"
        ))));
    }
    if a.explicit == Some(true) || detail {
        opts.explicit = Some(ExplicitOptions {
            text: a.explicit_text,
            placement: a.position.as_deref().map(parse_placement).transpose()?,
            size: a.size,
        });
    }
    Ok(opts)
}

type LabelOut<'py> = (
    Bound<'py, PyBytes>,
    &'static str,
    String,
    Option<String>,
    Vec<String>,
    Option<Bound<'py, PyBytes>>,
);

fn labeled_out(py: Python<'_>, out: aigcmark::Labeled) -> LabelOut<'_> {
    (
        PyBytes::new(py, &out.bytes),
        out.format.name(),
        out.record.produce_id.clone().unwrap_or_default(),
        out.watermark_id,
        out.notes.into_iter().map(|n| n.message).collect(),
        out.timestamp_token.map(|t| PyBytes::new(py, &t)),
    )
}

fn nonempty(data: &[u8]) -> PyResult<()> {
    if data.is_empty() {
        return Err(to_py(RsError::Refused("the input is empty".into())));
    }
    Ok(())
}

/// Labels `data`; returns (bytes, format, produce_id, watermark_id, notes).
#[pyfunction]
#[pyo3(signature = (data, signer, args, format = None))]
fn label<'py>(
    py: Python<'py>,
    data: &[u8],
    signer: &Signer,
    args: LabelArgs,
    format: Option<&str>,
) -> PyResult<LabelOut<'py>> {
    nonempty(data)?;
    let format = input_format(None, data, format)?;
    let opts = label_options(args)?;
    let s = &signer.inner;
    let out = py
        .allow_threads(|| aigcmark::label(data, format, s, &opts))
        .map_err(to_py)?;
    Ok(labeled_out(py, out))
}

/// Encodes raw 8-bit pixels (rows of `channels` bytes per pixel: 1 grey, 3 RGB, 4 RGBA) as
/// `format` and labels the file.
#[pyfunction]
#[pyo3(signature = (pixels, width, height, channels, format, signer, args))]
#[allow(clippy::too_many_arguments)]
fn label_image<'py>(
    py: Python<'py>,
    pixels: &[u8],
    width: u32,
    height: u32,
    channels: u8,
    format: &str,
    signer: &Signer,
    args: LabelArgs,
) -> PyResult<LabelOut<'py>> {
    let format = parse_format(format)?;
    if !matches!(format, Format::Png | Format::Jpeg | Format::Webp) {
        return Err(input_error(format!(
            "label_image writes png, jpeg or webp, not {format}"
        )));
    }
    let expected = (width as u64)
        .checked_mul(height as u64)
        .and_then(|n| n.checked_mul(u64::from(channels)));
    if width == 0 || height == 0 || expected != Some(pixels.len() as u64) {
        return Err(input_error(format!(
            "{} bytes of pixels do not make a {width}×{height} image with {channels} channels",
            pixels.len()
        )));
    }
    let opts = label_options(args)?;
    let max_pixels = opts.limits.max_pixels;
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(to_py(RsError::Limit(format!(
            "{width}×{height} is more than max_pixels {max_pixels}"
        ))));
    }
    let s = &signer.inner;
    let out = py
        .allow_threads(|| -> Result<aigcmark::Labeled, RsError> {
            let file = encode_image(pixels, width, height, channels, format, opts.jpeg_quality)?;
            aigcmark::label(&file, format, s, &opts)
        })
        .map_err(to_py)?;
    Ok(labeled_out(py, out))
}

fn encode_image(
    pixels: &[u8],
    width: u32,
    height: u32,
    channels: u8,
    format: Format,
    quality: u8,
) -> Result<Vec<u8>, RsError> {
    use image::{DynamicImage, ImageBuffer};
    let bad = || RsError::Refused("pixel buffer does not match its size".into());
    let img = match channels {
        1 => DynamicImage::ImageLuma8(
            ImageBuffer::from_raw(width, height, pixels.to_vec()).ok_or_else(bad)?,
        ),
        3 => DynamicImage::ImageRgb8(
            ImageBuffer::from_raw(width, height, pixels.to_vec()).ok_or_else(bad)?,
        ),
        4 => DynamicImage::ImageRgba8(
            ImageBuffer::from_raw(width, height, pixels.to_vec()).ok_or_else(bad)?,
        ),
        n => {
            return Err(RsError::Refused(format!(
                "{n} channels: give 1 (grey), 3 (RGB) or 4 (RGBA)"
            )));
        }
    };
    aigcmark::encode_image(&img, format, quality)
}

/// Labels interleaved PCM samples given as native-endian bytes of `dtype` ("int16" or
/// "float32"); returns a labeled WAV.
#[pyfunction]
#[pyo3(signature = (samples, dtype, rate, channels, signer, args))]
fn label_pcm<'py>(
    py: Python<'py>,
    samples: &[u8],
    dtype: &str,
    rate: u32,
    channels: u16,
    signer: &Signer,
    args: LabelArgs,
) -> PyResult<LabelOut<'py>> {
    if samples.is_empty() {
        return Err(input_error("no samples"));
    }
    let opts = label_options(args)?;
    let s = &signer.inner;
    let out = match dtype {
        "int16" => {
            if !samples.len().is_multiple_of(2) {
                return Err(input_error(
                    "int16 samples must be a whole number of 2 bytes",
                ));
            }
            py.allow_threads(|| {
                let v: Vec<i16> = samples
                    .chunks_exact(2)
                    .map(|c| i16::from_ne_bytes([c[0], c[1]]))
                    .collect();
                aigcmark::audio::label_pcm_i16(&v, rate, channels, s, &opts)
            })
        }
        "float32" => {
            if !samples.len().is_multiple_of(4) {
                return Err(input_error(
                    "float32 samples must be a whole number of 4 bytes",
                ));
            }
            py.allow_threads(|| {
                let v: Vec<f32> = samples
                    .chunks_exact(4)
                    .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                aigcmark::audio::label_pcm_f32(&v, rate, channels, s, &opts)
            })
        }
        other => {
            return Err(input_error(format!(
                "samples of dtype {other}: give int16 or float32"
            )));
        }
    }
    .map_err(to_py)?;
    Ok(labeled_out(py, out))
}

/// Adds a platform's propagation; returns (bytes, format, propagate_id, None, notes).
#[pyfunction]
#[pyo3(signature = (data, signer, propagator, propagate_id = None, carrier = "xmp", replace = false, format = None))]
#[allow(clippy::too_many_arguments)]
fn propagate<'py>(
    py: Python<'py>,
    data: &[u8],
    signer: &Signer,
    propagator: &str,
    propagate_id: Option<String>,
    carrier: &str,
    replace: bool,
    format: Option<&str>,
) -> PyResult<LabelOut<'py>> {
    nonempty(data)?;
    let format = input_format(None, data, format)?;
    let mut opts = PropagateOptions::new(propagator);
    opts.propagate_id = propagate_id;
    opts.carriers = parse_carrier(carrier)?;
    opts.replace = replace;
    let s = &signer.inner;
    let out = py
        .allow_threads(|| aigcmark::propagate(data, format, s, &opts))
        .map_err(to_py)?;
    Ok((
        PyBytes::new(py, &out.bytes),
        out.format.name(),
        out.record.propagate_id.clone().unwrap_or_default(),
        None,
        out.notes.into_iter().map(|n| n.message).collect(),
        None,
    ))
}

// ---------------------------------------------------------------------------------------------
// Verification

/// The verify options beyond trust and watermark, as PEM/DER bytes the Python layer read
/// (`verify --c2pa-trust`, `--tsa-trust`, `--tsa-token`) and the `--limits` JSON; every key
/// always present.
#[derive(FromPyObject, Default)]
#[pyo3(from_item_all)]
struct VerifyExtra {
    c2pa_trust: Option<String>,
    tsa_trust: Option<Vec<u8>>,
    tsa_token: Option<Vec<u8>>,
    limits: Option<String>,
}

fn verify_options(
    trust: &TrustStore,
    watermark: bool,
    extra: Option<VerifyExtra>,
) -> PyResult<VerifyOptions> {
    let mut opts = VerifyOptions::new((*trust.inner).clone());
    if !watermark {
        opts.watermark_key = None;
    }
    let extra = extra.unwrap_or_default();
    if let Some(pem) = extra.c2pa_trust {
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            return Err(input_error("c2pa_trust: no PEM certificate in it"));
        }
        opts.c2pa_trust = Some(pem);
    }
    if let Some(pem) = extra.tsa_trust {
        opts.tsa_trust = Some(aigcmark::timestamp::TsaTrust::from_pem(&pem).map_err(to_py)?);
    }
    opts.tsa_token = extra.tsa_token;
    if let Some(json) = extra.limits {
        opts.limits = aigcmark::Limits::from_json(&json).map_err(to_py)?;
    }
    Ok(opts)
}

fn report_json(r: &Report) -> String {
    serde_json::to_string(r).unwrap_or_default()
}

/// The report as the CLI's JSON line, and its verdict (so that `Report.verdict` needs no parse).
fn report_out(r: &Report) -> (String, &'static str) {
    (report_json(r), r.verdict.as_str())
}

/// Verifies bytes; returns the report as the CLI's JSON line and its verdict.
#[pyfunction]
#[pyo3(signature = (data, trust, watermark = true, format = None, extra = None))]
fn verify_bytes(
    py: Python<'_>,
    data: &[u8],
    trust: &TrustStore,
    watermark: bool,
    format: Option<&str>,
    extra: Option<VerifyExtra>,
) -> PyResult<(String, &'static str)> {
    nonempty(data)?;
    let format = input_format(None, data, format)?;
    let opts = verify_options(trust, watermark, extra)?;
    Ok(py.allow_threads(|| report_out(&aigcmark::verify(data, format, &opts))))
}

/// Verifies a file as `aigcmark verify --jsonl FILE` does (unreadable files give an `error`
/// report, not an exception).
#[pyfunction]
#[pyo3(signature = (path, trust, watermark = true, format = None, extra = None))]
fn verify_path(
    py: Python<'_>,
    path: PathBuf,
    trust: &TrustStore,
    watermark: bool,
    format: Option<&str>,
    extra: Option<VerifyExtra>,
) -> PyResult<(String, &'static str)> {
    let forced = format.map(parse_format).transpose()?;
    let opts = verify_options(trust, watermark, extra)?;
    Ok(py.allow_threads(|| {
        let report = match forced {
            None => aigcmark::verify_file(&path, &opts),
            Some(f) => match aigcmark::io::read_limited(&path, opts.limits.max_file_bytes) {
                Ok(bytes) => {
                    let mut r = aigcmark::verify(&bytes, f, &opts);
                    r.path = Some(path.display().to_string());
                    r
                }
                Err(_) => aigcmark::verify_file(&path, &opts),
            },
        };
        report_out(&report)
    }))
}

/// What `aigcmark inspect --json` shows, as compact JSON.
#[pyfunction]
#[pyo3(signature = (data, format = None, name = None))]
fn inspect(
    py: Python<'_>,
    data: &[u8],
    format: Option<&str>,
    name: Option<PathBuf>,
) -> PyResult<String> {
    nonempty(data)?;
    let format = input_format(name.as_deref(), data, format)?;
    py.allow_threads(|| {
        let limits = aigcmark::Limits::default();
        let key = aigcmark::watermark::WatermarkKey::public_default();
        aigcmark::inspect(data, format, &limits, Some(&key))
            .map(|found| serde_json::to_string(&found).unwrap_or_default())
    })
    .map_err(to_py)
}

/// Reports from a background batch: `__next__` waits with the GIL released.
#[pyclass(module = "aigcmark._native")]
pub struct VerifyMany {
    rx: Arc<Mutex<mpsc::Receiver<Msg>>>,
    summary: Option<String>,
    done: bool,
}

enum Msg {
    Report(String),
    Done(String),
}

#[pymethods]
impl VerifyMany {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> Option<String> {
        if self.done {
            return None;
        }
        let rx = Arc::clone(&self.rx);
        let msg = py.allow_threads(move || rx.lock().ok().and_then(|r| r.recv().ok()));
        match msg {
            Some(Msg::Report(r)) => Some(r),
            Some(Msg::Done(s)) => {
                self.summary = Some(s);
                self.done = true;
                None
            }
            None => {
                self.done = true;
                None
            }
        }
    }

    /// The batch summary as JSON (files, by_verdict, by_format, seconds, files_per_second,
    /// exit_class), once the iterator is exhausted.
    #[getter]
    fn summary(&self) -> Option<String> {
        self.summary.clone()
    }
}

/// Starts verifying `paths` on `jobs` threads (0: all cores); reports arrive as they finish
/// (`order="completion"`) or in the input's order (`order="input"`).
#[pyfunction]
#[pyo3(signature = (paths, trust, jobs = 0, watermark = true, order = "completion", extra = None))]
fn verify_many(
    paths: Vec<PathBuf>,
    trust: &TrustStore,
    jobs: usize,
    watermark: bool,
    order: &str,
    extra: Option<VerifyExtra>,
) -> PyResult<VerifyMany> {
    use aigcmark::batch::Order;
    let order = match order {
        "completion" => Order::Completion,
        "input" => Order::Input,
        other => {
            return Err(input_error(format!(
                "order {other:?} is not one of completion, input"
            )));
        }
    };
    let opts = verify_options(trust, watermark, extra)?;
    let (tx, rx) = mpsc::sync_channel::<Msg>(256);
    std::thread::Builder::new()
        .name("aigcmark-verify-many".into())
        .spawn(move || {
            let mut open = true;
            let summary = aigcmark::batch::verify_many_until(&paths, &opts, jobs, order, |r| {
                // Once the Python iterator is gone, the batch stops: no file is started after.
                if tx.send(Msg::Report(report_json(&r))).is_err() {
                    open = false;
                    return std::ops::ControlFlow::Break(());
                }
                std::ops::ControlFlow::Continue(())
            });
            if open {
                let _ = tx.send(Msg::Done(
                    serde_json::to_string(&summary).unwrap_or_default(),
                ));
            }
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a thread: {e}")))?;
    Ok(VerifyMany {
        rx: Arc::new(Mutex::new(rx)),
        summary: None,
        done: false,
    })
}

/// Expands folders into the files below them whose names say a format aigcmark reads (sorted),
/// as `aigcmark verify -r` does; plain files are kept as given.
#[pyfunction]
#[pyo3(signature = (paths, recursive = true))]
fn collect_paths(py: Python<'_>, paths: Vec<PathBuf>, recursive: bool) -> PyResult<Vec<String>> {
    let found = py
        .allow_threads(|| aigcmark::batch::collect_paths(&paths, recursive))
        .map_err(|e| to_py(RsError::Refused(e.to_string())))?;
    Ok(found.iter().map(|p| p.display().to_string()).collect())
}

/// For the benchmark: `aigcmark::verify` on `data` `n` times in Rust alone (no Python between
/// calls); returns the seconds taken. The baseline for the Python call's overhead.
#[pyfunction]
#[pyo3(signature = (data, trust, n, watermark = false, format = None))]
fn _bench_verify_rust(
    py: Python<'_>,
    data: &[u8],
    trust: &TrustStore,
    n: usize,
    watermark: bool,
    format: Option<&str>,
) -> PyResult<f64> {
    nonempty(data)?;
    let format = input_format(None, data, format)?;
    py.allow_threads(|| {
        let start = std::time::Instant::now();
        for _ in 0..n {
            // As the Python call does: options built, report made and serialised.
            let opts = verify_options(trust, watermark, None)?;
            std::hint::black_box(report_json(&aigcmark::verify(data, format, &opts)));
        }
        Ok(start.elapsed().as_secs_f64())
    })
}

// ---------------------------------------------------------------------------------------------
// Streaming text

/// Labels a chat answer as it streams: `push` returns what may be sent now, `finish` the tail.
#[pyclass(module = "aigcmark._native")]
pub struct TextLabelStream {
    /// `None` once finished.
    stream: Option<RsStream>,
    produce_id: String,
}

#[pymethods]
impl TextLabelStream {
    #[new]
    fn new(signer: &Signer, args: LabelArgs) -> PyResult<Self> {
        let opts = label_options(args)?;
        let stream = RsStream::new(&signer.inner, &opts).map_err(to_py)?;
        let produce_id = stream.produce_id().to_string();
        Ok(TextLabelStream {
            stream: Some(stream),
            produce_id,
        })
    }

    /// Adds generated text; returns what to send now.
    fn push(&mut self, py: Python<'_>, text: &str) -> PyResult<String> {
        let stream = self
            .stream
            .as_mut()
            .ok_or_else(|| to_py(RsError::Refused("the stream is finished".into())))?;
        Ok(py.allow_threads(|| stream.push(text)))
    }

    /// Ends the text; returns the rest to send (the sealed record and the end prompt).
    fn finish(&mut self, py: Python<'_>) -> PyResult<String> {
        let stream = self
            .stream
            .take()
            .ok_or_else(|| to_py(RsError::Refused("the stream is finished".into())))?;
        py.allow_threads(move || stream.finish()).map_err(to_py)
    }

    /// The label's ProduceID.
    #[getter]
    fn produce_id(&self) -> String {
        self.produce_id.clone()
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // The verdicts' exit classes, from the library (one table, for Report and the cluster
    // summary alike).
    let exit = pyo3::types::PyDict::new(m.py());
    for v in aigcmark::Verdict::ALL {
        exit.set_item(v.as_str(), v.exit_class())?;
    }
    m.add("EXIT_CLASSES", exit)?;
    m.add_class::<Signer>()?;
    m.add_class::<TrustStore>()?;
    m.add_class::<TextLabelStream>()?;
    m.add_class::<VerifyMany>()?;
    m.add_function(wrap_pyfunction!(keygen, m)?)?;
    m.add_function(wrap_pyfunction!(keygen_c2pa, m)?)?;
    m.add_function(wrap_pyfunction!(label, m)?)?;
    m.add_function(wrap_pyfunction!(label_image, m)?)?;
    m.add_function(wrap_pyfunction!(label_pcm, m)?)?;
    m.add_function(wrap_pyfunction!(propagate, m)?)?;
    m.add_function(wrap_pyfunction!(verify_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(verify_path, m)?)?;
    m.add_function(wrap_pyfunction!(inspect, m)?)?;
    m.add_function(wrap_pyfunction!(verify_many, m)?)?;
    m.add_function(wrap_pyfunction!(collect_paths, m)?)?;
    m.add_function(wrap_pyfunction!(_bench_verify_rust, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
