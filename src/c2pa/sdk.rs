//! Writing and validating C2PA manifests with the reference implementation (`c2pa` crate,
//! native-Rust crypto, Ed25519), and the test certificate chain `keygen --c2pa` writes.
//!
//! The signer is a certificate chain plus a signing callback, so a key kept in an HSM or a
//! signing service plugs in without the private key ever reaching this process.

use std::io::Cursor;
use std::sync::{Arc, Mutex};

use ::c2pa::{Builder, CallbackSigner, Context, Reader, SigningAlg, ValidationState};
use serde_json::json;

use super::{
    C2paReport, C2paStatus, GB_ASSERTION, SoftBindingInfo, TRAINED_ALGORITHMIC_MEDIA, WATERMARK_ALG,
};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::keys::Signer;
use crate::label::LabelRecord;

/// The signing callback: the bytes to sign in, the 64-byte Ed25519 signature out.
pub type SignFn = dyn Fn(&[u8]) -> std::result::Result<Vec<u8>, String> + Send + Sync;

/// Who signs the C2PA manifest: a certificate chain (PEM, signing certificate first) and an
/// Ed25519 signing callback.
#[derive(Clone)]
pub struct C2paSigner {
    chain_pem: Vec<u8>,
    sign: Arc<SignFn>,
}

impl std::fmt::Debug for C2paSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("C2paSigner")
            .field("chain_pem_bytes", &self.chain_pem.len())
            .finish_non_exhaustive()
    }
}

impl C2paSigner {
    /// A signer from a certificate chain and a callback that signs with the certificate's key.
    pub fn new(chain_pem: impl Into<Vec<u8>>, sign: Arc<SignFn>) -> Result<Self> {
        let chain_pem = chain_pem.into();
        if !String::from_utf8_lossy(&chain_pem).contains("-----BEGIN CERTIFICATE-----") {
            return Err(Error::Key(
                "the C2PA certificate chain holds no PEM certificate".into(),
            ));
        }
        Ok(C2paSigner { chain_pem, sign })
    }

    /// A signer from a chain and a PKCS#8 Ed25519 private key, both PEM text.
    pub fn from_pem(chain_pem: &str, key_pem: &str) -> Result<Self> {
        let key = Signer::from_pem(key_pem)?;
        if key.algorithm() != crate::signer::Algorithm::Ed25519 {
            return Err(Error::Key(format!(
                "the C2PA signing key is {}; C2PA manifests are signed with Ed25519 here",
                key.algorithm().name()
            )));
        }
        Self::new(
            chain_pem.as_bytes().to_vec(),
            Arc::new(move |data: &[u8]| {
                key.sign(data)
                    .map(|s| s.to_vec())
                    .map_err(|e| e.to_string())
            }),
        )
    }

    /// A signer from chain and key files.
    pub fn load(chain: &std::path::Path, key: &std::path::Path) -> Result<Self> {
        let read = |p: &std::path::Path| {
            std::fs::read_to_string(p).map_err(|e| Error::io(p.to_path_buf(), e))
        };
        Self::from_pem(&read(chain)?, &read(key)?)
    }

    fn callback_signer(&self) -> CallbackSigner {
        let sign = Arc::clone(&self.sign);
        CallbackSigner::new(
            move |_ctx: *const (), data: &[u8]| {
                sign(data).map_err(|e| ::c2pa::Error::BadParam(format!("C2PA signing: {e}")))
            },
            SigningAlg::Ed25519,
            self.chain_pem.clone(),
        )
    }
}

/// The MIME type the c2pa crate knows a format by; `None` for formats it cannot embed into.
pub fn mime(format: Format) -> Option<&'static str> {
    Some(match format {
        Format::Jpeg => "image/jpeg",
        Format::Png => "image/png",
        Format::Webp => "image/webp",
        Format::Wav => "audio/wav",
        Format::Mp3 => "audio/mpeg",
        _ => return None,
    })
}

fn sdk_err(what: &str) -> impl Fn(::c2pa::Error) -> Error + '_ {
    move |e| Error::Refused(format!("C2PA {what}: {e}"))
}

fn context(anchors: Option<&str>, verify_after_sign: bool) -> Result<Context> {
    let mut settings = json!({
        // Offline: no OCSP responder and no remote manifest is ever fetched while verifying an
        // upload (the crate is built without an HTTP client; this says so in the settings too).
        "verify": {
            "verify_after_sign": verify_after_sign,
            "ocsp_fetch": false,
            "remote_manifest_fetch": false,
        },
        "builder": { "thumbnail": { "enabled": false } },
    });
    if let Some(pem) = anchors {
        settings["trust"] = json!({ "trust_anchors": pem });
    }
    Context::new()
        .with_settings(settings)
        .map_err(sdk_err("settings"))
}

/// The reading context for `anchors`, built once and shared: parsing the settings (and the
/// anchors in them) cost about a tenth of a read. A few trust configurations are kept (a
/// process verifies under one or two); the oldest is dropped beyond that.
fn read_context(anchors: Option<&str>) -> Result<Arc<Context>> {
    static CACHE: Mutex<Vec<(Option<String>, Arc<Context>)>> = Mutex::new(Vec::new());
    const KEEP: usize = 4;
    if let Some((_, ctx)) = CACHE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|(a, _)| a.as_deref() == anchors)
    {
        return Ok(Arc::clone(ctx));
    }
    let ctx = context(anchors, false)?.into_shared();
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= KEEP {
        cache.remove(0);
    }
    cache.push((anchors.map(str::to_string), Arc::clone(&ctx)));
    Ok(ctx)
}

/// Adds a signed manifest to a labeled file: `c2pa.created` with the IPTC
/// `trainedAlgorithmicMedia` source type, the GB label's producer and ProduceID in a
/// [`GB_ASSERTION`] assertion, and, when the watermark was embedded, `c2pa.watermarked` with a
/// soft binding naming it. The manifest's hard binding covers the bytes as they are.
pub fn embed(
    bytes: &[u8],
    format: Format,
    record: &LabelRecord,
    watermark_id: Option<&str>,
    signer: &C2paSigner,
) -> Result<Vec<u8>> {
    let mime = mime(format).ok_or_else(|| {
        Error::Unsupported(format!(
            "C2PA manifests are written into JPEG, PNG, WebP, WAV and MP3, not {format}"
        ))
    })?;
    let ctx = context(None, false)?;
    let mut builder = Builder::from_context(ctx)
        .with_definition(json!({
            "claim_generator_info": [{
                "name": "aigcmark",
                "version": env!("CARGO_PKG_VERSION"),
            }],
            "format": mime,
        }))
        .map_err(sdk_err("manifest"))?;
    let agent = json!({ "name": "aigcmark", "version": env!("CARGO_PKG_VERSION") });
    builder
        .add_action(json!({
            "action": "c2pa.created",
            "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
            "softwareAgent": agent,
        }))
        .map_err(sdk_err("action"))?;
    let mut gb = json!({
        "standard": "GB 45438-2025",
        "Label": record.label.clone().unwrap_or_default(),
        "ContentProducer": record.content_producer.clone().unwrap_or_default(),
        "ProduceID": record.produce_id.clone().unwrap_or_default(),
    });
    if let Some(id) = watermark_id {
        gb["watermark"] = json!(id);
        builder
            .add_action(json!({
                "action": "c2pa.watermarked",
                "softwareAgent": agent,
                "parameters": { "description": "aigcmark invisible watermark (GB 45438 implicit label)" },
            }))
            .map_err(sdk_err("action"))?;
        builder
            .add_assertion(
                "c2pa.soft-binding",
                &json!({
                    "alg": WATERMARK_ALG,
                    "blocks": [{ "scope": {}, "value": id }],
                    "name": "aigcmark watermark payload (64-bit id, hex)",
                }),
            )
            .map_err(sdk_err("soft binding"))?;
    }
    builder
        .add_assertion_json(GB_ASSERTION, &gb)
        .map_err(sdk_err("GB assertion"))?;
    let mut src = Cursor::new(bytes);
    let mut dst = Cursor::new(Vec::with_capacity(bytes.len() + 32 * 1024));
    builder
        .sign(&signer.callback_signer(), mime, &mut src, &mut dst)
        .map_err(sdk_err("signing"))?;
    Ok(dst.into_inner())
}

/// Reads and validates the active manifest of `bytes`; `anchors` are the trust anchors (PEM).
/// A file without a store, or in a format the crate does not read, is `absent`.
pub fn read(bytes: &[u8], format: Format, anchors: Option<&str>) -> C2paReport {
    let Some(mime) = mime(format) else {
        return C2paReport::absent();
    };
    let ctx = match read_context(anchors) {
        Ok(c) => c,
        Err(e) => {
            let mut r = C2paReport::with_status(C2paStatus::Invalid);
            r.validation_codes.push(e.to_string());
            return r;
        }
    };
    let reader = match Reader::from_shared_context(&ctx).with_stream(mime, Cursor::new(bytes)) {
        Ok(r) => r,
        Err(::c2pa::Error::JumbfNotFound) | Err(::c2pa::Error::ProvenanceMissing) => {
            return C2paReport::absent();
        }
        Err(e) => {
            let mut r = C2paReport::with_status(C2paStatus::Invalid);
            r.validation_codes.push(format!("read error: {e}"));
            return r;
        }
    };
    let mut report = C2paReport::with_status(match reader.validation_state() {
        ValidationState::Trusted => C2paStatus::Valid,
        ValidationState::Valid => C2paStatus::Untrusted,
        _ => C2paStatus::Invalid,
    });
    if let Some(results) = reader.validation_results()
        && let Some(active) = results.active_manifest()
    {
        report.validation_codes = active
            .failure()
            .iter()
            .map(|s| s.code().to_string())
            .collect();
    } else if let Some(status) = reader.validation_status() {
        report.validation_codes = status.iter().map(|s| s.code().to_string()).collect();
    }
    let Some(m) = reader.active_manifest() else {
        return report;
    };
    if let Some(si) = m.signature_info() {
        let mut parts = Vec::new();
        if let Some(cn) = &si.common_name {
            parts.push(format!("CN={cn}"));
        }
        if let Some(o) = &si.issuer {
            parts.push(format!("O={o}"));
        }
        report.signer = (!parts.is_empty()).then(|| parts.join(", "));
    }
    report.claim_generator = m
        .claim_generator_info
        .as_ref()
        .and_then(|v| v.first())
        .map(|g| match &g.version {
            Some(v) => format!("{} {v}", g.name),
            None => g.name.clone(),
        })
        .or_else(|| m.claim_generator().map(str::to_string));
    for a in m.assertions() {
        let Ok(v) = a.value() else { continue };
        let label = a.label();
        if label.starts_with("c2pa.actions") {
            for act in v["actions"].as_array().into_iter().flatten() {
                if let Some(name) = act["action"].as_str() {
                    report.actions.push(name.to_string());
                }
                if let Some(dst) = act["digitalSourceType"].as_str()
                    && (report.digital_source_type.is_none()
                        || act["action"].as_str() == Some("c2pa.created"))
                {
                    report.digital_source_type = Some(dst.to_string());
                }
            }
        } else if label.starts_with("c2pa.soft-binding") {
            report.soft_bindings.push(SoftBindingInfo {
                alg: v["alg"].as_str().unwrap_or("").to_string(),
                values: v["blocks"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|b| b["value"].as_str().map(str::to_string))
                    .collect(),
            });
        } else if label == GB_ASSERTION {
            let s = |k: &str| v[k].as_str().map(str::to_string);
            report.content_producer = s("ContentProducer");
            report.produce_id = s("ProduceID");
        }
    }
    report
}

/// A test certificate chain: a CA and an Ed25519 signing certificate it issued, both named
/// "TEST ONLY", and the signing key. Nothing here is trustworthy outside tests and demos.
#[derive(Debug, Clone)]
pub struct TestCertificates {
    /// The CA certificate: the trust anchor (`verify --c2pa-trust`).
    pub ca_pem: String,
    /// The signing certificate (the chain `label --c2pa-cert` takes; the CA stays out of it).
    pub chain_pem: String,
    /// The signing certificate's PKCS#8 private key.
    pub key_pem: String,
}

/// An Ed25519 key as rcgen wants it (rcgen's own crypto backends are not built).
struct RcgenKey {
    signer: Signer,
    public: [u8; 32],
}

impl rcgen::PublicKeyData for RcgenKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ED25519
    }
}

impl rcgen::SigningKey for RcgenKey {
    fn sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        self.signer
            .sign(msg)
            .map(|s| s.to_vec())
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

/// Makes a fresh [`TestCertificates`] (valid for ten years from now).
pub fn test_certificates() -> Result<TestCertificates> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyUsagePurpose,
    };
    let err = |e: rcgen::Error| Error::Key(format!("cannot make the test certificates: {e}"));
    // From a day back (a verifier whose clock lags still sees them valid), for ten years.
    let now = time::OffsetDateTime::now_utc();
    let key = |signer: Signer| RcgenKey {
        public: signer
            .public_key()
            .as_ed25519()
            .expect("Signer::generate makes Ed25519 keys"),
        signer,
    };
    let ca_key = key(Signer::generate());
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca.distinguished_name = rcgen::DistinguishedName::new();
    ca.distinguished_name
        .push(DnType::CommonName, "aigcmark TEST ONLY C2PA root CA");
    ca.distinguished_name
        .push(DnType::OrganizationName, "aigcmark TEST ONLY");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = now - time::Duration::days(1);
    ca.not_after = now + time::Duration::days(3650);
    ca.serial_number = Some(rcgen::SerialNumber::from(random_serial()));
    let ca_cert = ca.self_signed(&ca_key).map_err(err)?;

    let ee_signer = Signer::generate();
    let key_pem = ee_signer.to_pem()?;
    let ee_key = key(ee_signer);
    let mut ee = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ee.distinguished_name = rcgen::DistinguishedName::new();
    ee.distinguished_name
        .push(DnType::CommonName, "aigcmark TEST ONLY C2PA signer");
    ee.distinguished_name
        .push(DnType::OrganizationName, "aigcmark TEST ONLY");
    ee.is_ca = IsCa::ExplicitNoCa;
    ee.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    ee.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
    ee.use_authority_key_identifier_extension = true;
    ee.not_before = ca.not_before;
    ee.not_after = ca.not_after;
    ee.serial_number = Some(rcgen::SerialNumber::from(random_serial()));
    let issuer = Issuer::new(ca, &ca_key);
    let ee_cert = ee.signed_by(&ee_key, &issuer).map_err(err)?;
    Ok(TestCertificates {
        ca_pem: ca_cert.pem(),
        chain_pem: ee_cert.pem(),
        key_pem,
    })
}

fn random_serial() -> Vec<u8> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the operating system's random source is available");
    // A positive INTEGER without a leading zero byte.
    b[0] = (b[0] & 0x7f) | 0x01;
    b.to_vec()
}
