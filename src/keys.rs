//! Signing keys: Ed25519, or SM2 (GB/T 32918, with the cargo feature `sm`), generated from the
//! operating system's randomness or read from key files a person can handle; or a key held
//! elsewhere (KMS, HSM, a signing command) behind [`crate::signer::SignatureProvider`], whose
//! every signature is checked before use. A stable short key id names each public key.
//!
//! The secret key file is PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), the form OpenSSL and most
//! tools read (`openssl pkey -in signing.key -pubout`). Public keys travel as base64url text in
//! trust stores and inside every seal, tagged with their algorithm ([`PublicKey`]): an SM2 key is
//! known without the `sm` feature (a store that lists one still loads, a seal by one is reported
//! as uncheckable), but only a build with `sm` can sign or verify with it.

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::signer::{Algorithm, CommandSigner, SignatureProvider};

/// A public key tagged with its algorithm (`aigcmark::PublicKey`).
///
/// Ed25519 keys are the 32-byte RFC 8032 encoding; SM2 keys the 65-byte uncompressed SEC1 point
/// (`04 ‖ x ‖ y`), as OpenSSL's SubjectPublicKeyInfo holds it. Dereferences to those bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum PublicKey {
    /// An Ed25519 public key.
    Ed25519([u8; 32]),
    /// An SM2 public key, SEC1 uncompressed.
    Sm2([u8; 65]),
}

impl From<[u8; 32]> for PublicKey {
    fn from(key: [u8; 32]) -> Self {
        PublicKey::Ed25519(key)
    }
}

impl From<&[u8; 32]> for PublicKey {
    fn from(key: &[u8; 32]) -> Self {
        PublicKey::Ed25519(*key)
    }
}

impl From<&PublicKey> for PublicKey {
    fn from(key: &PublicKey) -> Self {
        *key
    }
}

impl std::ops::Deref for PublicKey {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for PublicKey {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq<[u8; 32]> for PublicKey {
    fn eq(&self, other: &[u8; 32]) -> bool {
        matches!(self, PublicKey::Ed25519(k) if k == other)
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PublicKey({}, {})",
            self.algorithm().name(),
            self.encode()
        )
    }
}

impl PublicKey {
    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Ed25519(_) => Algorithm::Ed25519,
            PublicKey::Sm2(_) => Algorithm::Sm2,
        }
    }

    /// The raw key bytes (32 for Ed25519, 65 for SM2).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            PublicKey::Ed25519(k) => k,
            PublicKey::Sm2(k) => k,
        }
    }

    /// The Ed25519 key, when it is one.
    pub fn as_ed25519(&self) -> Option<[u8; 32]> {
        match self {
            PublicKey::Ed25519(k) => Some(*k),
            PublicKey::Sm2(_) => None,
        }
    }

    /// The short id (16 hex digits): for Ed25519 [`key_id`]; for SM2 the first 8 bytes of
    /// SHA-256(`"aigcmark/key-id/sm2\0"` ‖ point), a domain of its own.
    pub fn key_id(&self) -> String {
        match self {
            PublicKey::Ed25519(k) => key_id(k),
            PublicKey::Sm2(k) => {
                let mut h = Sha256::new();
                h.update(b"aigcmark/key-id/sm2\0");
                h.update(k);
                crate::util::hex(&h.finalize()[..8])
            }
        }
    }

    /// The key as base64url without padding (43 characters for Ed25519, 87 for SM2).
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.as_bytes())
    }

    /// Decodes a key of `algorithm` written by [`PublicKey::encode`] and checks it. An SM2 key is
    /// checked to be a curve point when the `sm` feature is built, for shape only otherwise.
    pub fn decode(algorithm: Algorithm, text: &str) -> Result<Self> {
        match algorithm {
            Algorithm::Ed25519 => decode_public_key(text).map(PublicKey::Ed25519),
            Algorithm::Sm2 => {
                let bytes = URL_SAFE_NO_PAD
                    .decode(text.trim().trim_end_matches('='))
                    .map_err(|e| Error::Key(format!("public key is not base64url: {e}")))?;
                Self::sm2_from_sec1(&bytes)
            }
        }
    }

    /// An SM2 key from its 65-byte uncompressed SEC1 encoding.
    pub fn sm2_from_sec1(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; 65] = bytes.try_into().map_err(|_| {
            Error::Key("an SM2 public key is a 65-byte uncompressed point (04 ‖ x ‖ y)".into())
        })?;
        if arr[0] != 4 {
            return Err(Error::Key(
                "an SM2 public key must be an uncompressed point (first byte 04)".into(),
            ));
        }
        #[cfg(feature = "sm")]
        if crate::sm::public_key_to_pem(&arr).is_err() {
            return Err(Error::Key(
                "not a valid SM2 public key (not a curve point)".into(),
            ));
        }
        Ok(PublicKey::Sm2(arr))
    }

    /// Checks `signature` over `message` (raw, 64 bytes: Ed25519 `R ‖ S`, SM2 `r ‖ s`). Always
    /// false for an SM2 key in a build without the `sm` feature.
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        match self {
            PublicKey::Ed25519(k) => verify_signature(k, message, signature),
            #[cfg(feature = "sm")]
            PublicKey::Sm2(k) => crate::sm::verify(k, message, signature),
            #[cfg(not(feature = "sm"))]
            PublicKey::Sm2(_) => false,
        }
    }

    /// True when this build can check signatures by this key (SM2 needs the `sm` feature).
    pub fn is_supported(&self) -> bool {
        self.algorithm().is_supported()
    }

    /// The key as SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn to_pem(&self) -> Result<String> {
        match self {
            PublicKey::Ed25519(k) => {
                use ed25519_dalek::pkcs8::EncodePublicKey;
                VerifyingKey::from_bytes(k)
                    .map_err(|_| Error::Key("not a valid Ed25519 public key".into()))?
                    .to_public_key_pem(LineEnding::LF)
                    .map_err(|e| Error::Key(format!("cannot encode the public key: {e}")))
            }
            #[cfg(feature = "sm")]
            PublicKey::Sm2(k) => crate::sm::public_key_to_pem(k),
            #[cfg(not(feature = "sm"))]
            PublicKey::Sm2(_) => Err(sm_unsupported()),
        }
    }

    /// Reads a public key from SubjectPublicKeyInfo PEM, Ed25519 or SM2 (the latter needs the
    /// `sm` feature).
    pub fn from_pem(pem: &str) -> Result<Self> {
        public_key_from_pem(pem)
    }
}

/// The error for SM2 work in a build without the `sm` feature.
#[cfg(not(feature = "sm"))]
fn sm_unsupported() -> Error {
    Error::Key(
        "this is an SM2 key; this build of aigcmark has no SM2 support (cargo feature `sm`)".into(),
    )
}

/// True when `pem` is a PKCS#8 or SubjectPublicKeyInfo of an SM2 key: its DER names the SM2
/// curve (OID 1.2.156.10197.1.301). Used to pick the reader and to explain refusals.
fn pem_names_sm2(pem: &str) -> bool {
    const SM2_CURVE_OID: &[u8] = &[0x06, 0x08, 0x2A, 0x81, 0x1C, 0xCF, 0x55, 0x01, 0x82, 0x2D];
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.trim().chars())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .is_ok_and(|der| der.windows(SM2_CURVE_OID.len()).any(|w| w == SM2_CURVE_OID))
}

/// The short id of a public key: the first 8 bytes of SHA-256(`"aigcmark/key-id\0"` ‖ key),
/// as 16 lowercase hex digits.
pub fn key_id(public_key: &[u8; 32]) -> String {
    let mut h = Sha256::new();
    h.update(b"aigcmark/key-id\0");
    h.update(public_key);
    crate::util::hex(&h.finalize()[..8])
}

/// Encodes a public key for trust stores and seals (base64url, no padding: 43 characters).
pub fn encode_public_key(public_key: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(public_key)
}

/// Decodes a public key written by [`encode_public_key`] and checks it is a valid curve point.
pub fn decode_public_key(text: &str) -> Result<[u8; 32]> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim().trim_end_matches('='))
        .map_err(|e| Error::Key(format!("public key is not base64url: {e}")))?;
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| Error::Key("an Ed25519 public key is 32 bytes".into()))?;
    VerifyingKey::from_bytes(&arr)
        .map_err(|_| Error::Key("not a valid Ed25519 public key".into()))?;
    Ok(arr)
}

/// Checks an Ed25519 signature (strict: rejects small-order keys and malleable signatures).
pub fn verify_signature(public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    let Ok(vk) = VerifyingKey::from_bytes(public_key) else {
        return false;
    };
    vk.verify_strict(message, &Signature::from_bytes(signature))
        .is_ok()
}

/// A provider's or platform's signing key: a local Ed25519 or SM2 key, or an external signer with
/// the public key it must sign for.
#[derive(Clone)]
pub struct Signer {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Local(SigningKey),
    #[cfg(feature = "sm")]
    LocalSm2(Arc<crate::sm::Sm2Signer>),
    External {
        public_key: PublicKey,
        provider: Arc<dyn SignatureProvider>,
        /// Derived once from the provider's signature over a fixed message (see [`Signer::seed`]).
        seed: [u8; 32],
    },
}

/// The message an external signer signs once so that its key yields a secret for the
/// watermark's keyed tag (a domain of its own: it can never be taken for a seal).
const WATERMARK_SEED_DOMAIN: &[u8] = b"AIGCMARK-WATERMARK-SEED-1\0";

impl Signer {
    /// A new key from the operating system's randomness.
    pub fn generate() -> Self {
        let key = SigningKey::generate(&mut rand_core::UnwrapErr(getrandom::SysRng));
        Signer::local(key)
    }

    /// A new key of `algorithm` from the operating system's randomness (SM2 needs the `sm`
    /// feature).
    pub fn generate_with(algorithm: Algorithm) -> Result<Self> {
        match algorithm {
            Algorithm::Ed25519 => Ok(Self::generate()),
            #[cfg(feature = "sm")]
            Algorithm::Sm2 => Ok(Signer {
                inner: Inner::LocalSm2(Arc::new(crate::sm::Sm2Signer::generate()?)),
            }),
            #[cfg(not(feature = "sm"))]
            Algorithm::Sm2 => Err(sm_unsupported()),
        }
    }

    /// The algorithm this signer signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.public_key().algorithm()
    }

    fn local(key: SigningKey) -> Self {
        Signer {
            inner: Inner::Local(key),
        }
    }

    /// A signer whose secret key stays with `provider` (a KMS, an HSM, a signing service);
    /// `public_key` is the key it must sign for (an Ed25519 `[u8; 32]` or a [`PublicKey`]); the
    /// provider must declare the same algorithm ([`SignatureProvider::algorithm`]).
    ///
    /// The provider is asked once here, to sign a fixed message from which the watermark's keyed
    /// tag secret is derived; that signature and every later one are checked against
    /// `public_key`, so a provider that signs with another key, or returns anything but a valid
    /// signature, fails with [`Error::Key`] before anything is written.
    pub fn external(
        public_key: impl Into<PublicKey>,
        provider: impl SignatureProvider + 'static,
    ) -> Result<Self> {
        let public_key: PublicKey = public_key.into();
        PublicKey::decode(public_key.algorithm(), &public_key.encode())?;
        if !public_key.is_supported() {
            return Err(Error::Key(format!(
                "this build cannot check {} signatures (cargo feature `sm`)",
                public_key.algorithm().name()
            )));
        }
        let provider: Arc<dyn SignatureProvider> = Arc::new(provider);
        if provider.algorithm() != public_key.algorithm() {
            return Err(Error::Key(format!(
                "{} signs with {}; this key is {}",
                provider.describe(),
                provider.algorithm().name(),
                public_key.algorithm().name()
            )));
        }
        let sig =
            checked_external_signature(&public_key, provider.as_ref(), WATERMARK_SEED_DOMAIN)?;
        let mut h = Sha256::new();
        h.update(WATERMARK_SEED_DOMAIN);
        h.update(sig);
        let seed: [u8; 32] = h.finalize().into();
        Ok(Signer {
            inner: Inner::External {
                public_key,
                provider,
                seed,
            },
        })
    }

    /// A signer that runs `sh -c command` for every signature (message on standard input, the
    /// signature on standard output, 30-second timeout), for the Ed25519 or SM2 public key in
    /// `public_key_pem` (SubjectPublicKeyInfo PEM, as `openssl pkey -pubout` writes). Ed25519
    /// signatures are raw (64 bytes); SM2 ones raw `r ‖ s` or DER, as `openssl pkeyutl` prints.
    pub fn from_command(command: &str, public_key_pem: &str) -> Result<Self> {
        let public_key = public_key_from_pem(public_key_pem)?;
        Self::external(
            public_key,
            CommandSigner::new(command).with_algorithm(public_key.algorithm()),
        )
    }

    /// True when the secret key is held outside this process.
    pub fn is_external(&self) -> bool {
        matches!(self.inner, Inner::External { .. })
    }

    /// A key from its 32-byte seed (tests and reproducible demos).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Signer::local(SigningKey::from_bytes(seed))
    }

    /// Reads a PKCS#8 PEM secret key: Ed25519, or SM2 as `openssl genpkey -algorithm SM2`
    /// writes it (SM2 needs the `sm` feature).
    pub fn from_pem(pem: &str) -> Result<Self> {
        if !pem.contains("-----BEGIN PRIVATE KEY-----") {
            let what = if pem.contains("-----BEGIN PUBLIC KEY-----") {
                "a public key, not the secret key"
            } else if pem.contains("-----BEGIN ") {
                "a PEM file of another kind"
            } else {
                "not a PEM file"
            };
            return Err(Error::Key(format!(
                "{what}; expected an Ed25519 secret key (-----BEGIN PRIVATE KEY-----, PKCS#8), \
                 as `aigcmark keygen` writes"
            )));
        }
        if pem_names_sm2(pem) {
            #[cfg(feature = "sm")]
            return Ok(Signer {
                inner: Inner::LocalSm2(Arc::new(crate::sm::Sm2Signer::from_pem(pem)?)),
            });
            #[cfg(not(feature = "sm"))]
            return Err(sm_unsupported());
        }
        let key = SigningKey::from_pkcs8_pem(pem)
            .map_err(|e| Error::Key(format!("not an Ed25519 PKCS#8 PEM private key: {e}")))?;
        Ok(Signer::local(key))
    }

    /// Reads a key file written by [`Signer::save`].
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = crate::io::read_limited(path, 1 << 20)?;
        let text = String::from_utf8_lossy(&bytes);
        Self::from_pem(&text).map_err(|e| match e {
            Error::Key(why) => Error::Key(format!("{}: {why}", path.display())),
            other => other,
        })
    }

    /// The PKCS#8 PEM text of the secret key (a local key only).
    pub fn to_pem(&self) -> Result<String> {
        let key = match &self.inner {
            Inner::Local(key) => key,
            #[cfg(feature = "sm")]
            Inner::LocalSm2(key) => return key.to_pem(),
            Inner::External { .. } => {
                return Err(Error::Key(
                    "the secret key is held by an external signer; there is nothing to write"
                        .into(),
                ));
            }
        };
        // PKCS#8 v1 (no embedded public key): the form OpenSSL 3.0 and most tools read.
        let pair = ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: key.to_bytes(),
            public_key: None,
        };
        let pem = pair
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::Key(format!("cannot encode the key: {e}")))?;
        Ok(pem.to_string())
    }

    /// Writes the secret key, readable by its owner only (mode 0600 on Unix); refuses to
    /// overwrite an existing file.
    pub fn save(&self, path: &Path) -> Result<()> {
        if path.exists() {
            return Err(Error::Refused(format!(
                "{} exists; refusing to overwrite a key",
                path.display()
            )));
        }
        crate::io::write_atomic_private(path, self.to_pem()?.as_bytes())
    }

    /// The public key, tagged with its algorithm.
    pub fn public_key(&self) -> PublicKey {
        match &self.inner {
            Inner::Local(key) => PublicKey::Ed25519(key.verifying_key().to_bytes()),
            #[cfg(feature = "sm")]
            Inner::LocalSm2(key) => PublicKey::Sm2(key.public_key_point()),
            Inner::External { public_key, .. } => *public_key,
        }
    }

    /// The public key as SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn public_key_pem(&self) -> Result<String> {
        self.public_key().to_pem()
    }

    /// The short id of the public key ([`PublicKey::key_id`]).
    pub fn key_id(&self) -> String {
        self.public_key().key_id()
    }

    /// The 32-byte secret the watermark's keyed tag is derived from: a local Ed25519 key's secret
    /// seed; a local SM2 key's SHA-256(domain ‖ secret scalar); for an external signer, SHA-256
    /// of its (never published) signature over a fixed message. Ed25519 signatures are
    /// deterministic, so the same external key gives the same tags wherever it is held; an SM2
    /// signer that draws a random nonce per signature (OpenSSL does) gives other tags each time
    /// it is set up.
    pub fn seed(&self) -> [u8; 32] {
        match &self.inner {
            Inner::Local(key) => key.to_bytes(),
            #[cfg(feature = "sm")]
            Inner::LocalSm2(key) => key.watermark_seed(),
            Inner::External { seed, .. } => *seed,
        }
    }

    /// Signs `message` (raw 64 bytes: Ed25519 `R ‖ S`, SM2 `r ‖ s`). An external signer's answer
    /// is checked against the public key first: a signature that does not verify is an error,
    /// never a seal.
    pub fn sign(&self, message: &[u8]) -> Result<[u8; 64]> {
        match &self.inner {
            Inner::Local(key) => Ok(key.sign(message).to_bytes()),
            #[cfg(feature = "sm")]
            Inner::LocalSm2(key) => Ok(key.sign(message)),
            Inner::External {
                public_key,
                provider,
                ..
            } => checked_external_signature(public_key, provider.as_ref(), message),
        }
    }
}

/// Asks `provider` to sign and checks the answer against `public_key`. An SM2 answer may be raw
/// `r ‖ s` or DER (OpenSSL's form); it is normalised to raw.
fn checked_external_signature(
    public_key: &PublicKey,
    provider: &dyn SignatureProvider,
    message: &[u8],
) -> Result<[u8; 64]> {
    let answer = provider.sign(message)?;
    let raw: Option<[u8; 64]> = match public_key.algorithm() {
        Algorithm::Ed25519 => answer.as_slice().try_into().ok(),
        #[cfg(feature = "sm")]
        Algorithm::Sm2 => crate::sm::signature_to_raw(&answer),
        #[cfg(not(feature = "sm"))]
        Algorithm::Sm2 => None,
    };
    let sig = raw.ok_or_else(|| {
        Error::Key(format!(
            "{} returned {} bytes, not {}; nothing was signed",
            provider.describe(),
            answer.len(),
            match public_key.algorithm() {
                Algorithm::Ed25519 => "a 64-byte Ed25519 signature",
                Algorithm::Sm2 => "an SM2 signature (raw 64-byte r ‖ s, or DER)",
            }
        ))
    })?;
    if !public_key.verify(message, &sig) {
        return Err(Error::Key(format!(
            "{} returned a signature that does not verify under public key {}: it signs with \
             another key or is broken; nothing was signed",
            provider.describe(),
            public_key.key_id()
        )));
    }
    Ok(sig)
}

/// Reads an Ed25519 or SM2 public key from SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC
/// KEY-----`, as `openssl pkey -pubout` writes). SM2 keys need the `sm` feature.
pub fn public_key_from_pem(pem: &str) -> Result<PublicKey> {
    use ed25519_dalek::pkcs8::DecodePublicKey;
    if !pem.contains("-----BEGIN PUBLIC KEY-----") {
        let what = if pem.contains("-----BEGIN PRIVATE KEY-----") {
            "a secret key; give the public key (openssl pkey -in KEY -pubout)"
        } else {
            "not a public key PEM file"
        };
        return Err(Error::Key(format!(
            "{what}; expected an Ed25519 or SM2 public key (-----BEGIN PUBLIC KEY-----)"
        )));
    }
    if pem_names_sm2(pem) {
        #[cfg(feature = "sm")]
        return PublicKey::sm2_from_sec1(&crate::sm::public_key_from_pem(pem)?);
        #[cfg(not(feature = "sm"))]
        return Err(sm_unsupported());
    }
    let vk = VerifyingKey::from_public_key_pem(pem)
        .map_err(|e| Error::Key(format!("not an Ed25519 or SM2 public key: {e}")))?;
    Ok(PublicKey::Ed25519(vk.to_bytes()))
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.is_external() {
            "external"
        } else {
            "local"
        };
        write!(f, "Signer(key_id={}, {kind})", self.key_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip_and_signatures() {
        let s = Signer::generate();
        let pem = s.to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let t = Signer::from_pem(&pem).unwrap();
        assert_eq!(s.public_key(), t.public_key());
        let sig = s.sign(b"hello").unwrap();
        assert!(s.public_key().verify(b"hello", &sig));
        assert!(!s.public_key().verify(b"hellO", &sig));
        assert_ne!(Signer::generate().public_key(), s.public_key());
    }

    #[test]
    fn key_ids_are_stable_and_short() {
        let s = Signer::from_seed(&[1u8; 32]);
        assert_eq!(s.key_id().len(), 16);
        assert_eq!(s.key_id(), Signer::from_seed(&[1u8; 32]).key_id());
        let enc = s.public_key().encode();
        assert_eq!(enc.len(), 43);
        assert_eq!(s.public_key(), decode_public_key(&enc).unwrap());
        assert!(decode_public_key("abc").is_err());
        assert!(Signer::from_pem("garbage").is_err());
    }

    #[test]
    fn external_signers_are_checked() {
        let inner = Signer::from_seed(&[8u8; 32]);
        let held = inner.clone();
        let ext = Signer::external(inner.public_key(), move |m: &[u8]| {
            held.sign(m).map(|s| s.to_vec())
        })
        .unwrap();
        assert!(ext.is_external());
        assert_eq!(ext.key_id(), inner.key_id());
        let sig = ext.sign(b"msg").unwrap();
        assert!(inner.public_key().verify(b"msg", &sig));
        assert_ne!(
            ext.seed(),
            inner.seed(),
            "the external seed is derived, not the key"
        );
        assert!(ext.to_pem().is_err());

        // A provider holding another key is refused at once.
        let other = Signer::from_seed(&[9u8; 32]);
        let err = Signer::external(inner.public_key(), move |m: &[u8]| {
            other.sign(m).map(|s| s.to_vec())
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("does not verify"), "{err}");
        let err = Signer::external(inner.public_key(), |_: &[u8]| Ok(vec![0u8; 10]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("10 bytes"), "{err}");
        let pem = inner.public_key_pem().unwrap();
        assert_eq!(public_key_from_pem(&pem).unwrap(), inner.public_key());
        assert!(public_key_from_pem(&inner.to_pem().unwrap()).is_err());
    }
}
