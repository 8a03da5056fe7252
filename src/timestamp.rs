//! Trusted time (RFC 3161): a timestamp authority (TSA) vouches that a seal's signature existed at
//! a time, so a label can be judged by its key's validity window and revocation long after the
//! key expired, without believing the time the signer wrote into the seal.
//!
//! - [`request_der`] builds a `TimeStampReq` over SHA-256 of the seal's raw signature (a nonce,
//!   `certReq` true so the token carries the TSA's certificate);
//! - [`request`] sends it by HTTP POST (`application/timestamp-query`) and returns the token (the
//!   `TimeStampToken`, a CMS `ContentInfo`) from a granted response. The client is a small
//!   blocking HTTP/1.1 client over `std::net::TcpStream`: `http://` only (a TSA's answer is
//!   signed, so transport security adds little), `Content-Length` or chunked bodies, 1 MiB
//!   limit, timeouts on connect, read and write;
//! - [`check`] verifies a token against a [`TsaTrust`] (certificates from a PEM file): the
//!   message imprint is SHA-256 of *this* signature, the signed attributes carry the digest of the
//!   `TSTInfo`, the signer's certificate (from the token) has the `timeStamping` extended key
//!   usage, was valid at the token's time and chains (at most 4 links) to a trusted certificate,
//!   and every signature on the way verifies. ECDSA P-256 (SHA-256) and Ed25519 signatures are
//!   checked; RSA is reported as unsupported, not guessed at.
//!
//! [`compare_times`] says whether the seal's own `t=` is far from the token's time.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use der::asn1::{BitString, GeneralizedTime, Int, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Sequence};
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::Certificate;

use crate::error::{Error, Result};
use crate::format::Format;
use crate::limits::Limits;
pub use crate::report::{TimestampReport, TimestampStatus};

const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const OID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const OID_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const OID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const OID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const OID_KP_TIMESTAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

/// The most a TSA's answer may be.
const MAX_RESPONSE: usize = 1 << 20;
/// The longest chain from the TSA's certificate to a trusted one.
const MAX_CHAIN: usize = 4;
/// How far the seal's own time may be from the token's before it is reported.
pub const MAX_SEAL_TOKEN_SKEW_SECS: u64 = 10 * 60;

#[derive(Sequence)]
struct AlgorithmIdentifier {
    algorithm: ObjectIdentifier,
    #[asn1(optional = "true")]
    parameters: Option<der::asn1::Null>,
}

#[derive(Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifier,
    hashed_message: OctetString,
}

#[derive(Sequence)]
struct TimeStampReq {
    version: u8,
    message_imprint: MessageImprint,
    nonce: u64,
    cert_req: bool,
}

#[derive(Sequence)]
struct PkiStatusInfo {
    status: u32,
    #[asn1(optional = "true")]
    status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    fail_info: Option<BitString>,
}

#[derive(Sequence)]
struct TimeStampResp {
    status: PkiStatusInfo,
    #[asn1(optional = "true")]
    token: Option<der::Any>,
}

#[derive(Sequence)]
struct Accuracy {
    #[asn1(optional = "true")]
    seconds: Option<u64>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    millis: Option<u16>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    micros: Option<u16>,
}

#[derive(Sequence)]
struct TstInfo {
    version: u8,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: GeneralizedTime,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    ordering: bool,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<der::Any>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<x509_cert::ext::Extensions>,
}

/// A `TimeStampReq` (DER) over SHA-256 of `signature`, with `nonce`.
pub fn request_der(signature: &[u8], nonce: u64) -> Result<Vec<u8>> {
    let req = TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifier {
                algorithm: OID_SHA256,
                parameters: Some(der::asn1::Null),
            },
            hashed_message: OctetString::new(Sha256::digest(signature).to_vec())
                .map_err(der_err)?,
        },
        nonce,
        cert_req: true,
    };
    req.to_der().map_err(der_err)
}

fn der_err(e: der::Error) -> Error {
    Error::malformed("RFC 3161", e.to_string())
}

/// Asks the TSA at `url` (`http://host[:port]/path`) for a token over `signature`; returns the
/// token's DER. A rejection, a token over something else, or a wrong nonce is an error.
pub fn request(url: &str, signature: &[u8], timeout: Duration) -> Result<Vec<u8>> {
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| Error::Refused(format!("no randomness: {e}")))?;
    let nonce = u64::from_be_bytes(nonce) >> 1;
    let body = http_post(url, &request_der(signature, nonce)?, timeout)?;
    let token = token_from_response(&body).map_err(|e| match e {
        Error::Refused(m) => Error::Refused(format!("{url}: {m}")),
        other => other,
    })?;
    let info = tst_info(&token)?;
    if info.message_imprint.hashed_message.as_bytes() != Sha256::digest(signature).as_slice() {
        return Err(Error::Refused(format!(
            "{url} answered with a token over another message"
        )));
    }
    let echoed = info.nonce.as_ref().and_then(|n| n.to_der().ok());
    if echoed != Some(nonce.to_der().map_err(der_err)?) {
        return Err(Error::Refused(format!(
            "{url} answered with a token for another request (nonce differs)"
        )));
    }
    Ok(token)
}

/// The `TimeStampToken` of a `TimeStampResp`, when the status is granted (0) or granted with
/// modifications (1).
pub fn token_from_response(der: &[u8]) -> Result<Vec<u8>> {
    let resp = TimeStampResp::from_der(der).map_err(der_err)?;
    if resp.status.status > 1 {
        let why = resp
            .status
            .status_string
            .map(|v| v.join("; "))
            .unwrap_or_default();
        return Err(Error::Refused(format!(
            "the timestamp authority refused (status {}{}{})",
            resp.status.status,
            if why.is_empty() { "" } else { ": " },
            why
        )));
    }
    let token = resp.token.ok_or_else(|| {
        Error::Refused("the timestamp authority granted but sent no token".into())
    })?;
    token.to_der().map_err(der_err)
}

fn signed_data(token: &[u8]) -> Result<cms::signed_data::SignedData> {
    let ci = cms::content_info::ContentInfo::from_der(token).map_err(der_err)?;
    if ci.content_type != OID_SIGNED_DATA {
        return Err(Error::malformed(
            "RFC 3161",
            "the token is not CMS SignedData",
        ));
    }
    ci.content
        .decode_as::<cms::signed_data::SignedData>()
        .map_err(der_err)
}

fn tst_bytes(sd: &cms::signed_data::SignedData) -> Result<Vec<u8>> {
    if sd.encap_content_info.econtent_type != OID_TST_INFO {
        return Err(Error::malformed(
            "RFC 3161",
            "the token does not hold a TSTInfo",
        ));
    }
    let any = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| Error::malformed("RFC 3161", "the token holds no TSTInfo"))?;
    let octets = any.decode_as::<OctetString>().map_err(der_err)?;
    Ok(octets.as_bytes().to_vec())
}

fn tst_info(token: &[u8]) -> Result<TstInfo> {
    let sd = signed_data(token)?;
    TstInfo::from_der(&tst_bytes(&sd)?).map_err(der_err)
}

/// Certificates a verifier trusts to issue (or be) timestamp authorities.
#[derive(Debug, Clone, Default)]
pub struct TsaTrust {
    certs: Vec<Certificate>,
}

impl TsaTrust {
    /// Reads every certificate of a PEM file (`-----BEGIN CERTIFICATE-----` blocks).
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        let certs = Certificate::load_pem_chain(pem)
            .map_err(|e| Error::Key(format!("not a PEM certificate file: {e}")))?;
        if certs.is_empty() {
            return Err(Error::Key("the file holds no certificate".into()));
        }
        Ok(TsaTrust { certs })
    }

    /// Reads a PEM file of trusted certificates.
    pub fn load(path: &std::path::Path) -> Result<Self> {
        let bytes = crate::io::read_limited(path, 4 << 20)?;
        Self::from_pem(&bytes).map_err(|e| match e {
            Error::Key(m) => Error::Key(format!("{}: {m}", path.display())),
            other => other,
        })
    }
}

/// Verifies `token` as vouching for `signature` (the seal's raw signature bytes).
pub fn check(token: &[u8], signature: &[u8], trust: &TsaTrust) -> TimestampReport {
    match check_inner(token, signature, trust) {
        Ok(r) => r,
        Err(e) => TimestampReport {
            status: TimestampStatus::Invalid,
            time: None,
            authority: None,
            message: Some(e.to_string()),
        },
    }
}

fn check_inner(token: &[u8], signature: &[u8], trust: &TsaTrust) -> Result<TimestampReport> {
    let sd = signed_data(token)?;
    let tst = tst_bytes(&sd)?;
    let info = TstInfo::from_der(&tst).map_err(der_err)?;
    let gen_time = info.gen_time.to_unix_duration().as_secs();
    let mut report = TimestampReport {
        status: TimestampStatus::Valid,
        time: Some(crate::trust::format_time(gen_time)),
        authority: None,
        message: None,
    };
    let imprint_ok = match hash_by(&info.message_imprint.hash_algorithm.algorithm, signature) {
        Some(h) => h == info.message_imprint.hashed_message.as_bytes(),
        None => false,
    };
    let [si] = sd.signer_infos.0.as_slice() else {
        return Err(Error::malformed(
            "RFC 3161",
            "the token has not exactly one signer",
        ));
    };
    let certs: Vec<&Certificate> = sd
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|c| match c {
            cms::cert::CertificateChoices::Certificate(c) => Some(c),
            _ => None,
        })
        .chain(trust.certs.iter())
        .collect();
    let signer = certs
        .iter()
        .copied()
        .find(|c| identifies(&si.sid, c))
        .ok_or_else(|| {
            Error::malformed(
                "RFC 3161",
                "the token's signer certificate is not in the token",
            )
        })?;
    report.authority = Some(signer.tbs_certificate().subject().to_string());

    // The signed attributes: content type TSTInfo, and the digest of the TSTInfo.
    let attrs = si.signed_attrs.as_ref().ok_or_else(|| {
        Error::malformed("RFC 3161", "the token's signer has no signed attributes")
    })?;
    let digest = hash_by(&si.digest_alg.oid, &tst)
        .ok_or_else(|| Error::malformed("RFC 3161", "unsupported digest algorithm"))?;
    let mut digest_ok = false;
    let mut type_ok = false;
    for a in attrs.iter() {
        let Some(v) = a.values.iter().next() else {
            continue;
        };
        if a.oid == OID_MESSAGE_DIGEST {
            digest_ok = v
                .decode_as::<OctetString>()
                .is_ok_and(|o| o.as_bytes() == digest.as_slice());
        } else if a.oid == OID_CONTENT_TYPE {
            type_ok = v
                .decode_as::<ObjectIdentifier>()
                .is_ok_and(|o| o == OID_TST_INFO);
        }
    }
    if !digest_ok || !type_ok {
        return Ok(report.with(
            TimestampStatus::Invalid,
            "the token's signed attributes do not match its TSTInfo",
        ));
    }
    let signed = attrs.to_der().map_err(der_err)?;
    let spki = signer.tbs_certificate().subject_public_key_info();
    match verify_sig(
        &spki.to_der().map_err(der_err)?,
        &si.signature_algorithm.oid,
        &si.digest_alg.oid,
        &signed,
        si.signature.as_bytes(),
    ) {
        Ok(true) => {}
        Ok(false) => {
            return Ok(report.with(
                TimestampStatus::Invalid,
                "the token's signature does not verify",
            ));
        }
        Err(why) => return Ok(report.with(TimestampStatus::Invalid, &why)),
    }
    if !imprint_ok {
        return Ok(report.with(
            TimestampStatus::Mismatch,
            "the token vouches for another signature than this seal's",
        ));
    }
    if !has_timestamping_eku(signer) {
        return Ok(report.with(
            TimestampStatus::Untrusted,
            "the token's signer certificate is not for timestamping (no timeStamping key usage)",
        ));
    }
    if !valid_at(signer, gen_time) {
        return Ok(report.with(
            TimestampStatus::Untrusted,
            "the token's signer certificate was not valid at the token's time",
        ));
    }
    if !chains_to_trust(signer, &certs, trust, gen_time) {
        return Ok(report.with(
            TimestampStatus::Untrusted,
            "the token's authority does not chain to a trusted certificate (--tsa-trust)",
        ));
    }
    Ok(report)
}

impl TimestampReport {
    fn with(mut self, status: TimestampStatus, message: &str) -> Self {
        self.status = status;
        self.message = Some(message.to_string());
        self
    }
}

/// What labeling asks a timestamp authority for (`LabelOptions::tsa`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsaRequest {
    /// The authority's `http://host[:port]/path`.
    pub url: String,
    /// Timeout for connecting, sending and receiving.
    pub timeout: Duration,
}

impl TsaRequest {
    /// A request to `url` with a 30-second timeout.
    pub fn new(url: &str) -> Self {
        TsaRequest {
            url: url.to_string(),
            timeout: Duration::from_secs(30),
        }
    }
}

/// The largest token a file's carrier may hold (real tokens are a few kilobytes).
pub const MAX_TOKEN: usize = 32 << 10;

/// Whether files of `format` carry a token in the file (elsewhere: plain text and Markdown
/// keep it in a sidecar file; Ogg is not labeled).
pub fn carried_in_file(format: Format) -> bool {
    matches!(
        format,
        Format::Png | Format::Jpeg | Format::Webp | Format::Wav | Format::Mp3 | Format::Flac
    )
}

/// A token as text, for carriers that hold text (PNG `tEXt`, ID3 `TXXX`, Vorbis comments):
/// standard base64.
pub fn token_to_text(token: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(token)
}

/// The inverse of [`token_to_text`]; text that is not base64, or too long, is an error.
pub fn token_from_text(text: &str) -> Result<Vec<u8>> {
    use base64::Engine;
    if text.len() > MAX_TOKEN * 4 / 3 + 4 {
        return Err(Error::malformed(
            "RFC 3161",
            "the token carrier is too large",
        ));
    }
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| Error::malformed("RFC 3161", format!("the token carrier is not base64: {e}")))
}

/// `input` (a labeled file of `format`) with `token` in the format's token carrier (see
/// `docs/binding.md`), replacing any token there; `None` removes it. The carrier lies outside
/// the content binding, so the label stays intact.
pub fn embed_token(
    format: Format,
    input: &[u8],
    token: Option<&[u8]>,
    limits: &Limits,
) -> Result<Vec<u8>> {
    if token.is_some_and(|t| t.len() > MAX_TOKEN) {
        return Err(Error::Limit(format!(
            "a timestamp token of more than {MAX_TOKEN} bytes is not stored"
        )));
    }
    use crate::formats::{flac, image, mp3, wav};
    match format {
        Format::Png => image::tsa::with_png(input, token, limits),
        Format::Jpeg => image::tsa::with_jpeg(input, token, limits),
        Format::Webp => image::tsa::with_webp(input, token, limits),
        Format::Wav => wav::with_tsa_token(input, token, limits),
        Format::Mp3 => mp3::with_tsa_token(input, token, limits),
        Format::Flac => flac::with_tsa_token(input, token, limits),
        _ if token.is_none() => Ok(input.to_vec()),
        _ => Err(Error::Unsupported(format!(
            "{format} files carry no timestamp token; keep it in a sidecar file"
        ))),
    }
}

/// The token in `input`'s token carrier, if any; a carrier that cannot be read is an error.
pub fn find_token(format: Format, input: &[u8], limits: &Limits) -> Result<Option<Vec<u8>>> {
    use crate::formats::{flac, image, mp3, wav};
    let token = match format {
        Format::Png => image::tsa::png(input, limits),
        Format::Jpeg => image::tsa::jpeg(input, limits),
        Format::Webp => image::tsa::webp(input, limits),
        Format::Wav => wav::tsa_token(input, limits),
        Format::Mp3 => mp3::tsa_token(input, limits),
        Format::Flac => flac::tsa_token(input, limits),
        _ => Ok(None),
    }?;
    if token.as_ref().is_some_and(|t| t.len() > MAX_TOKEN) {
        return Err(Error::malformed(
            "RFC 3161",
            "the token carrier is too large",
        ));
    }
    Ok(token)
}

/// The time a token vouches for (Unix seconds), without checking anything else.
pub fn token_time(token: &[u8]) -> Result<u64> {
    Ok(tst_info(token)?.gen_time.to_unix_duration().as_secs())
}

/// `Some(difference)` when the seal's own time is more than [`MAX_SEAL_TOKEN_SKEW_SECS`] away
/// from the token's: the signer's clock (or claim) disagrees with the authority's.
pub fn compare_times(sealed_at: u64, token_at: u64) -> Option<u64> {
    let d = sealed_at.abs_diff(token_at);
    (d > MAX_SEAL_TOKEN_SKEW_SECS).then_some(d)
}

fn hash_by(oid: &ObjectIdentifier, data: &[u8]) -> Option<Vec<u8>> {
    Some(if *oid == OID_SHA256 {
        Sha256::digest(data).to_vec()
    } else if *oid == OID_SHA384 {
        Sha384::digest(data).to_vec()
    } else if *oid == OID_SHA512 {
        Sha512::digest(data).to_vec()
    } else {
        return None;
    })
}

fn identifies(sid: &cms::signed_data::SignerIdentifier, cert: &Certificate) -> bool {
    use cms::signed_data::SignerIdentifier;
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            ias.issuer == *cert.tbs_certificate().issuer()
                && ias.serial_number == *cert.tbs_certificate().serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => cert
            .tbs_certificate()
            .get_extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>()
            .ok()
            .flatten()
            .is_some_and(|(_, k)| k.0 == ski.0),
    }
}

fn has_timestamping_eku(cert: &Certificate) -> bool {
    cert.tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
        .filter(|e| e.extn_id == OID_EKU)
        .any(|e| {
            Vec::<ObjectIdentifier>::from_der(e.extn_value.as_bytes())
                .is_ok_and(|v| v.contains(&OID_KP_TIMESTAMPING))
        })
}

fn valid_at(cert: &Certificate, at: u64) -> bool {
    let v = cert.tbs_certificate().validity();
    v.not_before.to_unix_duration().as_secs() <= at
        && at <= v.not_after.to_unix_duration().as_secs()
}

/// True when `cert` is a trusted certificate, or is signed by one through at most
/// [`MAX_CHAIN`] certificates each valid at `at` (intermediates must be CAs).
fn chains_to_trust(cert: &Certificate, pool: &[&Certificate], trust: &TsaTrust, at: u64) -> bool {
    let mut current = cert;
    for _ in 0..=MAX_CHAIN {
        if trust.certs.iter().any(|t| t == current) {
            return true;
        }
        let issuer_name = current.tbs_certificate().issuer();
        // A trusted issuer first, then an intermediate from the token.
        let trusted_issuer = trust
            .certs
            .iter()
            .find(|t| t.tbs_certificate().subject() == issuer_name && signed_by(current, t));
        if trusted_issuer.is_some() {
            return true;
        }
        let Some(next) = pool.iter().copied().find(|c| {
            c.tbs_certificate().subject() == issuer_name
                && *c != current
                && is_ca(c)
                && valid_at(c, at)
                && signed_by(current, c)
        }) else {
            return false;
        };
        current = next;
    }
    false
}

fn is_ca(cert: &Certificate) -> bool {
    cert.tbs_certificate()
        .get_extension::<x509_cert::ext::pkix::BasicConstraints>()
        .ok()
        .flatten()
        .is_some_and(|(_, bc)| bc.ca)
}

fn signed_by(cert: &Certificate, issuer: &Certificate) -> bool {
    let Ok(tbs) = cert.tbs_certificate().to_der() else {
        return false;
    };
    let Ok(spki) = issuer.tbs_certificate().subject_public_key_info().to_der() else {
        return false;
    };
    let Some(sig) = cert.signature().as_bytes() else {
        return false;
    };
    let alg = &cert.signature_algorithm().oid;
    verify_sig(&spki, alg, &OID_SHA256, &tbs, sig).unwrap_or(false)
}

/// Checks `sig` over `msg` by the key in `spki_der`. `Err` names an algorithm not supported.
fn verify_sig(
    spki_der: &[u8],
    sig_alg: &ObjectIdentifier,
    digest_alg: &ObjectIdentifier,
    msg: &[u8],
    sig: &[u8],
) -> std::result::Result<bool, String> {
    let spki = spki::SubjectPublicKeyInfoRef::from_der(spki_der).map_err(|e| e.to_string())?;
    let key_alg = spki.algorithm.oid;
    let key = spki.subject_public_key.raw_bytes();
    if key_alg == OID_ED25519 {
        let Ok(key) = <[u8; 32]>::try_from(key) else {
            return Ok(false);
        };
        let Ok(sig) = <[u8; 64]>::try_from(sig) else {
            return Ok(false);
        };
        return Ok(crate::keys::verify_signature(&key, msg, &sig));
    }
    if key_alg == OID_EC_PUBLIC_KEY
        && (*sig_alg == OID_ECDSA_SHA256
            || (*sig_alg == OID_EC_PUBLIC_KEY && *digest_alg == OID_SHA256))
    {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        let Ok(vk) = p256::ecdsa::VerifyingKey::from_sec1_bytes(key) else {
            return Err(
                "the authority's key is not a P-256 key (only P-256 ECDSA, Ed25519 are checked)"
                    .into(),
            );
        };
        let Ok(sig) = p256::ecdsa::Signature::from_der(sig) else {
            return Ok(false);
        };
        let h = Sha256::digest(msg);
        return Ok(vk.verify_prehash(&h, &sig).is_ok());
    }
    Err(format!(
        "the token is signed with {sig_alg} by a {key_alg} key; only ECDSA P-256 with SHA-256 and \
         Ed25519 are checked"
    ))
}

/// POSTs `body` as `application/timestamp-query` and returns the response body of a 200 answer.
fn http_post(url: &str, body: &[u8], timeout: Duration) -> Result<Vec<u8>> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        Error::Refused(format!(
            "{url}: only http:// timestamp authorities are supported (the answer is signed)"
        ))
    })?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains(['@', ' ']) || path.contains([' ', '\r', '\n']) {
        return Err(Error::Refused(format!("{url}: not a usable http:// URL")));
    }
    let host_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        && !authority.ends_with(']')
    {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let net = |e: std::io::Error| Error::io(url, e);
    let addr = host_port
        .to_socket_addrs()
        .map_err(net)?
        .next()
        .ok_or_else(|| Error::Refused(format!("{url}: the host has no address")))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(net)?;
    stream.set_read_timeout(Some(timeout)).map_err(net)?;
    stream.set_write_timeout(Some(timeout)).map_err(net)?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/timestamp-query\r\n\
         Accept: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\
         User-Agent: aigcmark\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).map_err(net)?;
    stream.write_all(body).map_err(net)?;
    stream.flush().map_err(net)?;
    let mut raw = Vec::new();
    stream
        .take(MAX_RESPONSE as u64 + 64 * 1024)
        .read_to_end(&mut raw)
        .map_err(net)?;
    parse_http_response(&raw).map_err(|m| Error::Refused(format!("{url}: {m}")))
}

fn parse_http_response(raw: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let end = memchr::memmem::find(raw, b"\r\n\r\n").ok_or("not an HTTP response")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| "an HTTP header is not text")?;
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("");
    let code = status.split(' ').nth(1).unwrap_or("");
    if !status.starts_with("HTTP/1.") || code != "200" {
        return Err(format!("the timestamp authority answered {status:?}"));
    }
    let mut length = None;
    let mut chunked = false;
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let v = v.trim();
        if k.eq_ignore_ascii_case("content-length") {
            length = Some(v.parse::<usize>().map_err(|_| "a bad Content-Length")?);
        } else if k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
    }
    let body = &raw[end + 4..];
    let body = if chunked {
        dechunk(body)?
    } else if let Some(n) = length {
        body.get(..n)
            .ok_or("the answer is shorter than its Content-Length")?
            .to_vec()
    } else {
        body.to_vec()
    };
    if body.len() > MAX_RESPONSE {
        return Err("the answer is over 1 MiB".into());
    }
    Ok(body)
}

fn dechunk(mut b: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let eol = memchr::memmem::find(b, b"\r\n").ok_or("a bad chunked body")?;
        let size = std::str::from_utf8(&b[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
            .ok_or("a bad chunk size")?;
        b = &b[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        let data = b.get(..size).ok_or("a truncated chunk")?;
        out.extend_from_slice(data);
        if out.len() > MAX_RESPONSE {
            return Err("the answer is over 1 MiB".into());
        }
        b = b.get(size + 2..).ok_or("a truncated chunk")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_der_with_sha256_imprint() {
        let der = request_der(&[1u8; 64], 42).unwrap();
        let req = TimeStampReq::from_der(&der).unwrap();
        assert_eq!(req.version, 1);
        assert_eq!(req.message_imprint.hash_algorithm.algorithm, OID_SHA256);
        assert_eq!(
            req.message_imprint.hashed_message.as_bytes(),
            Sha256::digest([1u8; 64]).as_slice()
        );
        assert!(req.cert_req);
    }

    #[test]
    fn http_answers() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef";
        assert_eq!(parse_http_response(ok).unwrap(), b"abc");
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n";
        assert_eq!(parse_http_response(chunked).unwrap(), b"abc");
        assert!(parse_http_response(b"HTTP/1.1 500 Oops\r\n\r\n").is_err());
        assert!(parse_http_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab").is_err());
        assert!(parse_http_response(b"garbage").is_err());
        assert!(token_from_response(b"\x30\x03\x02\x01\x02").is_err());
        assert_eq!(compare_times(1000, 1000 + 600), None);
        assert_eq!(compare_times(1000, 1000 + 601), Some(601));
    }
}
