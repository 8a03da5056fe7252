//! SM2 signatures and SM3 digests (GB/T 32918.2, GB/T 32905), behind the cargo feature `sm`, for
//! platforms that expect the national algorithms beside or instead of Ed25519.
//!
//! SM2 signs `SM3(Z_A ‖ M)`, where `Z_A` hashes the signer's distinguishing identifier and
//! public key; aigcmark uses the default identifier [`DIST_ID`] `1234567812345678`, which OpenSSL
//! must be given explicitly (`-pkeyopt distid:1234567812345678`, with `-digest sm3` or `-rawin`).
//! Signatures are written raw (`r ‖ s`, 64 bytes) and read raw or DER (OpenSSL's form). Signing
//! is deterministic (RFC 6979 nonces over SM3), so the published test vectors in
//! `tests/data/sm2/` are reproducible.
//!
//! Keys: PKCS#8 PEM as `openssl genpkey -algorithm SM2` writes it; public keys as SEC1 bytes
//! (65, uncompressed) or SubjectPublicKeyInfo PEM.

use sm2::dsa::signature::{Signer as _, Verifier as _};
use sm2::elliptic_curve::sec1::ToSec1Point as _;
use sm2::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, LineEnding};

use crate::error::{Error, Result};

/// The default SM2 distinguishing identifier (GB/T 35276).
pub const DIST_ID: &str = "1234567812345678";

/// SM3 of `data`.
pub fn sm3(data: &[u8]) -> [u8; 32] {
    use sm3::Digest;
    sm3::Sm3::digest(data).into()
}

/// An SM2 secret key.
pub struct Sm2Signer {
    key: sm2::dsa::SigningKey,
}

impl Sm2Signer {
    /// A new key from the operating system's randomness.
    pub fn generate() -> Result<Self> {
        for _ in 0..16 {
            let mut b = [0u8; 32];
            getrandom::fill(&mut b).map_err(|e| Error::Key(format!("no randomness: {e}")))?;
            if let Ok(key) = sm2::dsa::SigningKey::from_slice(DIST_ID, &b) {
                return Ok(Sm2Signer { key });
            }
        }
        Err(Error::Key("cannot make an SM2 key".into()))
    }

    /// Reads a PKCS#8 PEM secret key (`openssl genpkey -algorithm SM2`).
    pub fn from_pem(pem: &str) -> Result<Self> {
        let sk = sm2::SecretKey::from_pkcs8_pem(pem)
            .map_err(|e| Error::Key(format!("not an SM2 PKCS#8 PEM private key: {e}")))?;
        let key = sm2::dsa::SigningKey::new(DIST_ID, &sk)
            .map_err(|e| Error::Key(format!("not a usable SM2 key: {e}")))?;
        Ok(Sm2Signer { key })
    }

    /// The PKCS#8 PEM text of the secret key.
    pub fn to_pem(&self) -> Result<String> {
        let sk = sm2::SecretKey::from_slice(&self.key.to_bytes())
            .map_err(|e| Error::Key(format!("cannot encode the key: {e}")))?;
        Ok(sk
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::Key(format!("cannot encode the key: {e}")))?
            .to_string())
    }

    /// The public key, SEC1 uncompressed (65 bytes).
    pub fn public_key(&self) -> Vec<u8> {
        self.public_key_point().to_vec()
    }

    /// The public key as the fixed-size uncompressed point `04 ‖ x ‖ y`.
    pub fn public_key_point(&self) -> [u8; 65] {
        let point = self.key.verifying_key().as_affine().to_sec1_point(false);
        let mut out = [0u8; 65];
        out.copy_from_slice(point.as_bytes());
        out
    }

    /// The secret the watermark's keyed tag is derived from: SHA-256 over a domain of its own and
    /// the secret scalar (never the scalar itself).
    pub fn watermark_seed(&self) -> [u8; 32] {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(b"AIGCMARK-WATERMARK-SEED-SM2-1\0");
        h.update(self.key.to_bytes());
        h.finalize().into()
    }

    /// Signs `message` (SM3 with Z_A of [`DIST_ID`]); raw `r ‖ s`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let sig: sm2::dsa::Signature = self.key.sign(message);
        sig.to_bytes().into()
    }
}

/// A raw `r ‖ s` signature as DER (`SEQUENCE { r INTEGER, s INTEGER }`), the form OpenSSL reads.
pub fn signature_to_der(raw: &[u8; 64]) -> Result<Vec<u8>> {
    let sig = sm2::dsa::Signature::from_slice(raw)
        .map_err(|_| Error::Key("not an SM2 signature".into()))?;
    Ok(sm2::dsa::DerSignature::from(sig).as_ref().to_vec())
}

/// A signature as raw `r ‖ s`, from raw (64 bytes) or DER; `None` when it is neither.
pub fn signature_to_raw(sig: &[u8]) -> Option<[u8; 64]> {
    let sig = if sig.len() == 64 {
        sm2::dsa::Signature::from_slice(sig).ok()?
    } else {
        decode_der(sig)?
    };
    Some(sig.to_bytes().into())
}

/// An SM2 public key (SEC1 bytes) as SubjectPublicKeyInfo PEM; fails when it is not a point on
/// the curve.
pub fn public_key_to_pem(sec1: &[u8]) -> Result<String> {
    use sm2::pkcs8::EncodePublicKey;
    let pk = sm2::PublicKey::from_sec1_bytes(sec1)
        .map_err(|_| Error::Key("not a valid SM2 public key".into()))?;
    pk.to_public_key_pem(LineEnding::LF)
        .map_err(|e| Error::Key(format!("cannot encode the public key: {e}")))
}

/// Reads an SM2 public key from SubjectPublicKeyInfo PEM; returns its SEC1 bytes.
pub fn public_key_from_pem(pem: &str) -> Result<Vec<u8>> {
    let pk = sm2::PublicKey::from_public_key_pem(pem)
        .map_err(|e| Error::Key(format!("not an SM2 public key: {e}")))?;
    Ok(pk.to_sec1_point(false).as_bytes().to_vec())
}

/// Checks an SM2 signature, raw (`r ‖ s`, 64 bytes) or DER, by the SEC1 `public_key`.
pub fn verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Ok(vk) = sm2::dsa::VerifyingKey::from_sec1_bytes(DIST_ID, public_key) else {
        return false;
    };
    let sig = if signature.len() == 64 {
        sm2::dsa::Signature::from_slice(signature).ok()
    } else {
        decode_der(signature)
    };
    let Some(sig) = sig else { return false };
    vk.verify(message, &sig).is_ok()
}

fn decode_der(der_sig: &[u8]) -> Option<sm2::dsa::Signature> {
    use der::Decode;
    let mut seq = der::SliceReader::new(der_sig).ok()?;
    let (r, s) = der::Reader::sequence(&mut seq, |r| {
        let a = der::asn1::UintRef::decode(r)?;
        let b = der::asn1::UintRef::decode(r)?;
        Ok::<_, der::Error>((a.as_bytes().to_vec(), b.as_bytes().to_vec()))
    })
    .ok()?;
    if !der::Reader::is_finished(&seq) || r.len() > 32 || s.len() > 32 {
        return None;
    }
    let mut raw = [0u8; 64];
    raw[32 - r.len()..32].copy_from_slice(&r);
    raw[64 - s.len()..].copy_from_slice(&s);
    sm2::dsa::Signature::from_slice(&raw).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sm3_standard_vector() {
        // GB/T 32905 example 1: SM3("abc").
        assert_eq!(
            crate::util::hex(&sm3(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    #[test]
    fn sign_verify_round_trip() {
        let k = Sm2Signer::generate().unwrap();
        let sig = k.sign(b"hello");
        assert!(verify(&k.public_key(), b"hello", &sig));
        assert!(!verify(&k.public_key(), b"hellO", &sig));
        assert_eq!(sig, k.sign(b"hello"), "deterministic");
        let again = Sm2Signer::from_pem(&k.to_pem().unwrap()).unwrap();
        assert_eq!(again.public_key(), k.public_key());
    }
}
