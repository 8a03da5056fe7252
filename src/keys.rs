//! Ed25519 keys: generation from the operating system's randomness, a stable short key id, and
//! key files a person can handle.
//!
//! The secret key file is PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), the form OpenSSL and most
//! tools read (`openssl pkey -in signing.key -pubout`). Public keys travel as base64url text in
//! trust stores and inside every seal.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

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

/// A provider's or platform's signing key.
pub struct Signer {
    key: SigningKey,
}

impl Signer {
    /// A new key from the operating system's randomness.
    pub fn generate() -> Self {
        let key = SigningKey::generate(&mut rand_core::UnwrapErr(getrandom::SysRng));
        Signer { key }
    }

    /// A key from its 32-byte seed (tests and reproducible demos).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Signer {
            key: SigningKey::from_bytes(seed),
        }
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
        Ok(Signer { key })
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

    /// The PKCS#8 PEM text of the secret key.
    pub fn to_pem(&self) -> Result<String> {
        // PKCS#8 v1 (no embedded public key): the form OpenSSL 3.0 and most tools read.
        let pair = ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: self.key.to_bytes(),
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
        self.key.verifying_key().to_bytes()
    }

    pub fn key_id(&self) -> String {
        key_id(&self.public_key())
    }

    /// The 32-byte secret seed (used to derive the watermark's keyed tag).
    pub fn seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer(key_id={})", self.key_id())
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
        let sig = s.sign(b"hello");
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
}
