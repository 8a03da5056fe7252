//! Content binding: the SHA-256 digest of what a person sees or hears, label carriers excluded.
//!
//! Each format defines which bytes go in (see the README's table); this module only holds the
//! shared pieces, so every format hashes and encodes the same way.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// An incremental content digest.
#[derive(Clone, Default)]
pub struct ContentHasher(Sha256);

impl ContentHasher {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// SHA-256 of one byte string.
pub fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// A digest as reports and seals show it (base64url, no padding).
pub fn encode(digest: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(digest)
}
