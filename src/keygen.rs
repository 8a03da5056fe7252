//! A new signing key and the trust store that vouches for it: the one implementation behind
//! `aigcmark keygen` and the Python package's `keygen`.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::keys::Signer;
use crate::signer::Algorithm;
use crate::trust::{Role, TrustStore, format_time};

/// What [`keygen`] wrote.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KeyFiles {
    /// The key id (16 hex digits), as reports show it.
    pub key_id: String,
    /// The key's signature algorithm.
    pub algorithm: Algorithm,
    /// The provider (or platform) code the key speaks for.
    pub owner: String,
    /// The secret key: `DIR/signing.key`, PKCS#8 PEM, readable by its owner only.
    pub key_path: PathBuf,
    /// The trust store with the public key: `DIR/trust.json`, for verifiers.
    pub trust_path: PathBuf,
}

/// Makes a key for `producer` in `dir` (created if missing): `signing.key` and a `trust.json`
/// naming the key's owner and `role`, valid from now. Refuses to overwrite either file, and an
/// empty or malformed producer code.
pub fn keygen(dir: &Path, producer: &str, role: Role, algorithm: Algorithm) -> Result<KeyFiles> {
    crate::label::check_value("--producer", producer)?;
    if producer.is_empty() {
        return Err(Error::Refused(
            "--producer is empty: give the provider (or platform) code the key belongs to".into(),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let key_path = dir.join("signing.key");
    let trust_path = dir.join("trust.json");
    for p in [&key_path, &trust_path] {
        if p.exists() {
            return Err(Error::Refused(format!(
                "{} exists; refusing to overwrite",
                p.display()
            )));
        }
    }
    let signer = Signer::generate_with(algorithm)?;
    let mut store = TrustStore::new();
    let mut entry = TrustStore::entry_for(&signer.public_key(), producer, role);
    entry.not_before = Some(format_time(crate::util::unix_now()));
    store.add(entry)?;
    signer.save(&key_path)?;
    crate::io::write_atomic(&trust_path, store.to_json().as_bytes())?;
    Ok(KeyFiles {
        key_id: signer.key_id(),
        algorithm: signer.algorithm(),
        owner: producer.to_string(),
        key_path,
        trust_path,
    })
}

/// What [`keygen_c2pa`] wrote: a TEST ONLY C2PA certificate chain.
#[cfg(feature = "c2pa")]
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct C2paTestFiles {
    /// `DIR/c2pa-ca.pem`: the test CA, the trust anchor for `verify --c2pa-trust`.
    pub ca_path: PathBuf,
    /// `DIR/c2pa-chain.pem`: the signing certificate and the CA (`label --c2pa-cert`).
    pub chain_path: PathBuf,
    /// `DIR/c2pa-signing.key`: the signing key, readable by its owner only (`label --c2pa-key`).
    pub key_path: PathBuf,
}

/// Writes a fresh TEST ONLY C2PA certificate chain into `dir` (created if missing), as
/// `aigcmark keygen --c2pa DIR` does; refuses to overwrite any of the three files.
#[cfg(feature = "c2pa")]
pub fn keygen_c2pa(dir: &Path) -> Result<C2paTestFiles> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let files = C2paTestFiles {
        ca_path: dir.join("c2pa-ca.pem"),
        chain_path: dir.join("c2pa-chain.pem"),
        key_path: dir.join("c2pa-signing.key"),
    };
    for p in [&files.ca_path, &files.chain_path, &files.key_path] {
        if p.exists() {
            return Err(Error::Refused(format!(
                "{} exists; refusing to overwrite",
                p.display()
            )));
        }
    }
    let certs = crate::c2pa::sdk::test_certificates()?;
    crate::io::write_atomic(&files.ca_path, certs.ca_pem.as_bytes())?;
    crate::io::write_atomic(&files.chain_path, certs.chain_pem.as_bytes())?;
    crate::io::write_atomic_private(&files.key_path, certs.key_pem.as_bytes())?;
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRODUCER: &str = "001191000000MA00DEMO0X10000";

    #[test]
    fn writes_a_key_and_a_store_that_trusts_it_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let k = keygen(dir.path(), PRODUCER, Role::Provider, Algorithm::Ed25519).unwrap();
        let signer = Signer::load(&k.key_path).unwrap();
        assert_eq!(signer.key_id(), k.key_id);
        let store = TrustStore::load(&k.trust_path).unwrap();
        assert_eq!(store.owner_of(&signer.public_key()), Some(PRODUCER));
        let before = std::fs::read(&k.key_path).unwrap();
        let again = keygen(dir.path(), PRODUCER, Role::Provider, Algorithm::Ed25519);
        assert!(matches!(again, Err(Error::Refused(m)) if m.contains("refusing to overwrite")));
        assert_eq!(std::fs::read(&k.key_path).unwrap(), before);
    }

    #[test]
    fn refuses_a_bad_producer_before_writing_anything() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("keys");
        for bad in ["", "has space", "逗号"] {
            assert!(
                keygen(&sub, bad, Role::Any, Algorithm::Ed25519).is_err(),
                "{bad:?}"
            );
        }
        assert!(!sub.join("signing.key").exists());
    }
}
