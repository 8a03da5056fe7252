//! Ed25519 keys: generation from the operating system's randomness, a stable short key id, and
//! key files a person can handle; or a key held elsewhere (KMS, HSM, a signing command) behind
//! [`crate::signer::SignatureProvider`], whose every signature is checked before use.
//!
//! The secret key file is PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), the form OpenSSL and most
//! tools read (`openssl pkey -in signing.key -pubout`). Public keys travel as base64url text in
//! trust stores and inside every seal.

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

/// A provider's or platform's signing key: a local Ed25519 key, or an external signer with the
/// public key it must sign for.
#[derive(Clone)]
pub struct Signer {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Local(SigningKey),
    External {
        public_key: [u8; 32],
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

    fn local(key: SigningKey) -> Self {
        Signer {
            inner: Inner::Local(key),
        }
    }

    /// A signer whose secret key stays with `provider` (a KMS, an HSM, a signing service);
    /// `public_key` is the Ed25519 key it must sign for.
    ///
    /// The provider is asked once here, to sign a fixed message from which the watermark's keyed
    /// tag secret is derived; that signature and every later one are checked against
    /// `public_key`, so a provider that signs with another key, or returns anything but a valid
    /// signature, fails with [`Error::Key`] before anything is written.
    pub fn external(
        public_key: [u8; 32],
        provider: impl SignatureProvider + 'static,
    ) -> Result<Self> {
        decode_public_key(&encode_public_key(&public_key))?;
        let provider: Arc<dyn SignatureProvider> = Arc::new(provider);
        if provider.algorithm() != Algorithm::Ed25519 {
            return Err(Error::Key(format!(
                "{} signs with {:?}; this key is Ed25519",
                provider.describe(),
                provider.algorithm()
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
    /// raw 64-byte signature on standard output, 30-second timeout), for the Ed25519 public key
    /// in `public_key_pem` (SubjectPublicKeyInfo PEM, as `openssl pkey -pubout` writes).
    pub fn from_command(command: &str, public_key_pem: &str) -> Result<Self> {
        Self::external(
            public_key_from_pem(public_key_pem)?,
            CommandSigner::new(command),
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

    /// Reads a PKCS#8 PEM secret key.
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
        let Inner::Local(key) = &self.inner else {
            return Err(Error::Key(
                "the secret key is held by an external signer; there is nothing to write".into(),
            ));
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

    pub fn public_key(&self) -> [u8; 32] {
        match &self.inner {
            Inner::Local(key) => key.verifying_key().to_bytes(),
            Inner::External { public_key, .. } => *public_key,
        }
    }

    /// The public key as SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn public_key_pem(&self) -> Result<String> {
        use ed25519_dalek::pkcs8::EncodePublicKey;
        VerifyingKey::from_bytes(&self.public_key())
            .map_err(|_| Error::Key("not a valid Ed25519 public key".into()))?
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| Error::Key(format!("cannot encode the public key: {e}")))
    }

    pub fn key_id(&self) -> String {
        key_id(&self.public_key())
    }

    /// The 32-byte secret the watermark's keyed tag is derived from: a local key's secret seed;
    /// for an external signer, SHA-256 of its (deterministic, never published) Ed25519 signature
    /// over a fixed message, so the same key gives the same tags wherever it is held.
    pub fn seed(&self) -> [u8; 32] {
        match &self.inner {
            Inner::Local(key) => key.to_bytes(),
            Inner::External { seed, .. } => *seed,
        }
    }

    /// Signs `message`. An external signer's answer is checked against the public key first: a
    /// signature that does not verify is an error, never a seal.
    pub fn sign(&self, message: &[u8]) -> Result<[u8; 64]> {
        match &self.inner {
            Inner::Local(key) => Ok(key.sign(message).to_bytes()),
            Inner::External {
                public_key,
                provider,
                ..
            } => checked_external_signature(public_key, provider.as_ref(), message),
        }
    }
}

/// Asks `provider` to sign and checks the answer against `public_key`.
fn checked_external_signature(
    public_key: &[u8; 32],
    provider: &dyn SignatureProvider,
    message: &[u8],
) -> Result<[u8; 64]> {
    let sig = provider.sign(message)?;
    let sig: [u8; 64] = sig.as_slice().try_into().map_err(|_| {
        Error::Key(format!(
            "{} returned {} bytes, not a 64-byte Ed25519 signature; nothing was signed",
            provider.describe(),
            sig.len()
        ))
    })?;
    if !verify_signature(public_key, message, &sig) {
        return Err(Error::Key(format!(
            "{} returned a signature that does not verify under public key {}: it signs with \
             another key or is broken; nothing was signed",
            provider.describe(),
            key_id(public_key)
        )));
    }
    Ok(sig)
}

/// Reads an Ed25519 public key from SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`).
pub fn public_key_from_pem(pem: &str) -> Result<[u8; 32]> {
    use ed25519_dalek::pkcs8::DecodePublicKey;
    if !pem.contains("-----BEGIN PUBLIC KEY-----") {
        let what = if pem.contains("-----BEGIN PRIVATE KEY-----") {
            "a secret key; give the public key (openssl pkey -in KEY -pubout)"
        } else {
            "not a public key PEM file"
        };
        return Err(Error::Key(format!(
            "{what}; expected an Ed25519 public key (-----BEGIN PUBLIC KEY-----)"
        )));
    }
    let vk = VerifyingKey::from_public_key_pem(pem)
        .map_err(|e| Error::Key(format!("not an Ed25519 public key: {e}")))?;
    Ok(vk.to_bytes())
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
        assert!(verify_signature(&s.public_key(), b"hello", &sig));
        assert!(!verify_signature(&s.public_key(), b"hellO", &sig));
        assert_ne!(Signer::generate().public_key(), s.public_key());
    }

    #[test]
    fn key_ids_are_stable_and_short() {
        let s = Signer::from_seed(&[1u8; 32]);
        assert_eq!(s.key_id().len(), 16);
        assert_eq!(s.key_id(), Signer::from_seed(&[1u8; 32]).key_id());
        let enc = encode_public_key(&s.public_key());
        assert_eq!(enc.len(), 43);
        assert_eq!(decode_public_key(&enc).unwrap(), s.public_key());
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
        assert!(verify_signature(&inner.public_key(), b"msg", &sig));
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
