//! The watermark's payload and keys, shared by the image and audio watermarks.
//!
//! A watermark carries 64 bits: who made the content, which content it is, and a keyed tag.
//!
//! | bits | field | how it is derived |
//! |---|---|---|
//! | 16 | producer tag | first 2 bytes of SHA-256(`"aigcmark/producer\0"` ‖ ContentProducer) |
//! | 32 | content tag | first 4 bytes of SHA-256(`"aigcmark/content\0"` ‖ ProduceID) |
//! | 16 | keyed tag | first 2 bytes of HMAC-SHA-256(tag key, `"aigcmark/wm-tag\0"` ‖ the 6 bytes above) |
//!
//! The tag key is SHA-256(`"aigcmark/wm-tag-key\0"` ‖ the signing key's 32-byte seed), so only the
//! holder of the signing key can make or prove a tag, and no second secret has to be managed.
//! The two public tags let any verifier check a found mark against a label (`ProduceID`,
//! `ContentProducer`) or name the producer from a trust store.
//!
//! Detection needs only the public [`WatermarkKey`], which fixes the keyed patterns. One well-known
//! key ([`WatermarkKey::public_default`]) lets every verifier find every aigcmark watermark with a
//! single search, which keeps the false-positive budget to one key.

pub mod audio;
pub mod image;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The key that fixes the watermark's keyed patterns; public for detection.
#[derive(Clone, PartialEq, Eq)]
pub struct WatermarkKey(pub [u8; 32]);

impl WatermarkKey {
    /// The well-known detection key every aigcmark verifier uses by default.
    pub fn public_default() -> Self {
        WatermarkKey(Sha256::digest(b"aigcmark public watermark detection key v1").into())
    }
}

impl std::fmt::Debug for WatermarkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WatermarkKey({:02x}{:02x}..)", self.0[0], self.0[1])
    }
}

/// The 64-bit watermark payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Payload(pub [u8; 8]);

impl Payload {
    /// Builds the payload for a label; `signing_seed` is the provider's Ed25519 secret seed.
    pub fn new(content_producer: &str, produce_id: &str, signing_seed: &[u8; 32]) -> Self {
        let mut p = [0u8; 8];
        p[..2].copy_from_slice(&producer_tag(content_producer));
        p[2..6].copy_from_slice(&content_tag(produce_id));
        let tag = keyed_tag(signing_seed, &p[..6]);
        p[6..].copy_from_slice(&tag);
        Payload(p)
    }

    /// The payload as 16 lowercase hex digits: the watermark id recorded in the seal.
    pub fn id(&self) -> String {
        hex(&self.0)
    }

    /// Parses a watermark id.
    pub fn from_id(id: &str) -> Option<Self> {
        if id.len() != 16 {
            return None;
        }
        let mut p = [0u8; 8];
        for (i, b) in p.iter_mut().enumerate() {
            *b = u8::from_str_radix(id.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Payload(p))
    }

    /// The 16-bit public producer tag.
    pub fn producer_tag(&self) -> [u8; 2] {
        [self.0[0], self.0[1]]
    }
    /// The 32-bit public content tag.
    pub fn content_tag(&self) -> [u8; 4] {
        [self.0[2], self.0[3], self.0[4], self.0[5]]
    }

    /// True when the label's producer and ProduceID give this payload's public tags.
    pub fn matches_label(&self, content_producer: &str, produce_id: &str) -> bool {
        self.producer_tag() == producer_tag(content_producer)
            && self.content_tag() == content_tag(produce_id)
    }

    /// True when the keyed tag was made with this signing key: the key holder's proof.
    pub fn tag_made_by(&self, signing_seed: &[u8; 32]) -> bool {
        keyed_tag(signing_seed, &self.0[..6]) == [self.0[6], self.0[7]]
    }
}

impl std::fmt::Display for Payload {
    /// The payload's id: 16 lowercase hex digits.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id())
    }
}

/// The 16-bit public tag of a producer code or name.
pub fn producer_tag(content_producer: &str) -> [u8; 2] {
    let h = tagged_hash(b"aigcmark/producer\0", content_producer.as_bytes());
    [h[0], h[1]]
}

/// The 32-bit public tag of a ProduceID.
pub fn content_tag(produce_id: &str) -> [u8; 4] {
    let h = tagged_hash(b"aigcmark/content\0", produce_id.as_bytes());
    [h[0], h[1], h[2], h[3]]
}

fn keyed_tag(signing_seed: &[u8; 32], public_part: &[u8]) -> [u8; 2] {
    let key = tagged_hash(b"aigcmark/wm-tag-key\0", signing_seed);
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(b"aigcmark/wm-tag\0");
    mac.update(public_part);
    let out = mac.finalize().into_bytes();
    [out[0], out[1]]
}

fn tagged_hash(tag: &[u8], data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(tag);
    h.update(data);
    h.finalize().into()
}

pub(crate) use crate::util::hex;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips_and_binds_its_parts() {
        let seed = [7u8; 32];
        let p = Payload::new("001191000000MA00DEMO0X10000", "abc123", &seed);
        assert_eq!(Payload::from_id(&p.id()), Some(p));
        assert!(p.matches_label("001191000000MA00DEMO0X10000", "abc123"));
        assert!(!p.matches_label("001191000000MA00DEMO0X10000", "abc124"));
        assert!(p.tag_made_by(&seed));
        assert!(!p.tag_made_by(&[8u8; 32]));
        assert_eq!(Payload::from_id("zz"), None);
        assert_eq!(Payload::from_id("0123456789abcdeg"), None);
    }
}
