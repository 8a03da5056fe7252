//! The seal: an Ed25519 or SM2 signature that binds a label to its content, stored as compact
//! text in `ReservedCode1` (the provider's) or `ReservedCode2` (a platform's countersignature).
//!
//! Text form (every character inside the Annex E set; about 230 characters, 275 with SM2):
//!
//! ```text
//! AM1;k=<public key>;t=<unix seconds>;f=<format>;cd=<content digest>[;wm=<watermark id>][;ex=<explicit>];s=<signature>
//! ```
//!
//! The version prefix names the signature algorithm: `AM1` Ed25519 (`k` 32 bytes, `s` the raw
//! 64-byte `R ‖ S`), `AM2` SM2 (GB/T 32918.2 over SM3, distinguishing identifier
//! `1234567812345678`; `k` the 65-byte uncompressed point, `s` the raw 64-byte `r ‖ s`, not DER).
//! Everything else is the same in both, the content digest included (SHA-256: it is what every
//! format's binding computes, before the seal is read). The prefix is signed with the rest, so a
//! seal cannot be moved to the other algorithm, and a key of the wrong length for its prefix is
//! a damaged seal.
//!
//! `k`, `cd` and `s` are base64url without padding (32 or 65, 32 and 64 bytes); `t` is decimal; `f` is
//! the format's name (`png`, `text`, …); `wm` is 16 hex digits; `ex` is the format's record of an
//! explicit label. Fields other than `s` may be added later: readers keep unknown fields, which
//! are covered by the signature like the rest. The *header* is the text before `;s=`.
//!
//! The signed message is the header together with the label fields it protects, NUL-separated
//! (Annex E values cannot contain NUL, so the split is unambiguous):
//!
//! - provider: `"AIGCMARK-SEAL-1\0" Label \0 ContentProducer \0 ProduceID \0 header`
//! - platform: `"AIGCMARK-COUNTERSIGN-1\0" Label \0 ContentProducer \0 ProduceID \0
//!   ReservedCode1 \0 ContentPropagator \0 PropagateID \0 header`
//!
//! Missing fields are empty strings. The platform signs the provider's whole seal, so it vouches
//! for it without being able to change it, and the provider's seal stays valid because nothing it
//! covers changes. The key id is derived from `k` ([`crate::keys::key_id`]); carrying the public
//! key lets a verifier tell a wrong signature from a right signature by an unknown key.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, Result};
use crate::format::Format;
use crate::keys::{PublicKey, Signer};
use crate::label::LabelRecord;
use crate::signer::Algorithm;

/// The version prefix: Ed25519 signatures, SHA-256 content digests.
pub const PREFIX: &str = "AM1";

/// The version prefix of SM2 seals: SM2/SM3 signatures, SHA-256 content digests.
pub const PREFIX_SM2: &str = "AM2";

/// The version prefix for seals by `algorithm`.
pub fn prefix_for(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::Ed25519 => PREFIX,
        Algorithm::Sm2 => PREFIX_SM2,
    }
}

const PROVIDER_DOMAIN: &[u8] = b"AIGCMARK-SEAL-1\0";
const PLATFORM_DOMAIN: &[u8] = b"AIGCMARK-COUNTERSIGN-1\0";

/// What a seal states besides the label fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The format the content was bound as.
    pub format: Format,
    /// The content digest (SHA-256 over what the format binds).
    pub content_digest: [u8; 32],
    /// Unix seconds.
    pub signed_at: u64,
    /// The watermark id embedded in the content, when there is one.
    pub watermark_id: Option<String>,
    /// The explicit label added, as the format records it (allowed characters only).
    pub explicit: Option<String>,
}

/// A parsed seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    /// The signer's public key (its algorithm is the seal's: `AM1` Ed25519, `AM2` SM2).
    pub public_key: PublicKey,
    /// Signing time, Unix seconds (the signer's own claim).
    pub signed_at: u64,
    /// The `f=` field as written (a format name; unknown names are kept).
    pub format: String,
    /// The content digest sealed.
    pub content_digest: [u8; 32],
    /// The watermark id sealed, when there is one.
    pub watermark_id: Option<String>,
    /// The explicit label sealed, when there is one.
    pub explicit: Option<String>,
    /// Fields this version does not know, in order; signed like the rest.
    pub unknown: Vec<(String, String)>,
    /// The raw signature over the record and these claims (Ed25519 `R ‖ S`, SM2 `r ‖ s`).
    pub signature: [u8; 64],
    header: String,
}

/// Why a seal could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealError {
    /// Not an aigcmark seal at all (another provider's hash or scheme): nothing to check.
    Foreign,
    /// An aigcmark seal that is damaged.
    Malformed(String),
}

impl Seal {
    /// The key id ([`PublicKey::key_id`]).
    pub fn key_id(&self) -> String {
        self.public_key.key_id()
    }

    /// The signature algorithm, from the version prefix.
    pub fn algorithm(&self) -> Algorithm {
        self.public_key.algorithm()
    }

    /// The text before `;s=`, exactly as signed.
    pub fn header(&self) -> &str {
        &self.header
    }

    /// Parses a `ReservedCode1`/`ReservedCode2` value.
    pub fn parse(text: &str) -> std::result::Result<Seal, SealError> {
        let bad = |m: &str| SealError::Malformed(m.to_string());
        let algorithm = if text.starts_with("AM1;") {
            Algorithm::Ed25519
        } else if text.starts_with("AM2;") {
            Algorithm::Sm2
        } else {
            return Err(SealError::Foreign);
        };
        let sig_at = text.rfind(";s=").ok_or_else(|| bad("no signature field"))?;
        let prefix = prefix_for(algorithm);
        let header = &text[..sig_at];
        let signature: [u8; 64] = decode_b64(&text[sig_at + 3..], "signature")?;
        let (mut k, mut t, mut f, mut cd, mut wm, mut ex) = (None, None, None, None, None, None);
        let mut unknown = Vec::new();
        let fields = header
            .get(prefix.len() + 1..)
            .filter(|f| !f.is_empty())
            .ok_or_else(|| bad("no fields before the signature"))?;
        for field in fields.split(';') {
            let (name, value) = field
                .split_once('=')
                .ok_or_else(|| bad("a field without '='"))?;
            let slot = match name {
                "k" => &mut k,
                "t" => &mut t,
                "f" => &mut f,
                "cd" => &mut cd,
                "wm" => &mut wm,
                "ex" => &mut ex,
                "s" => return Err(bad("signature field not last")),
                _ => {
                    unknown.push((name.to_string(), value.to_string()));
                    continue;
                }
            };
            if slot.replace(value).is_some() {
                return Err(SealError::Malformed(format!("field {name} appears twice")));
            }
        }
        let k = k.ok_or_else(|| bad("no key field k"))?;
        let public_key = match algorithm {
            Algorithm::Ed25519 => PublicKey::Ed25519(decode_b64(k, "key")?),
            Algorithm::Sm2 => PublicKey::Sm2(decode_b64::<65>(k, "SM2 key").and_then(|p| {
                if p[0] == 4 {
                    Ok(p)
                } else {
                    Err(bad("SM2 key is not an uncompressed point"))
                }
            })?),
        };
        let signed_at = t
            .ok_or_else(|| bad("no time field t"))?
            .parse::<u64>()
            .map_err(|_| bad("time field t is not a number"))?;
        let format = f.ok_or_else(|| bad("no format field f"))?.to_string();
        let content_digest: [u8; 32] = decode_b64(
            cd.ok_or_else(|| bad("no content digest field cd"))?,
            "content digest",
        )?;
        if let Some(w) = wm
            && (w.len() != 16 || !w.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(bad("watermark id wm is not 16 hex digits"));
        }
        Ok(Seal {
            public_key,
            signed_at,
            format,
            content_digest,
            watermark_id: wm.map(str::to_string),
            explicit: ex.map(str::to_string),
            unknown,
            signature,
            header: header.to_string(),
        })
    }

    /// Checks the provider's signature over `record`'s protected fields.
    ///
    /// Always false for an SM2 seal in a build without the `sm` feature
    /// ([`PublicKey::is_supported`] tells that case apart).
    pub fn verify_provider(&self, record: &LabelRecord) -> bool {
        self.public_key
            .verify(&provider_message(record, &self.header), &self.signature)
    }

    /// Checks a platform countersignature over `record`'s protected fields.
    pub fn verify_platform(&self, record: &LabelRecord) -> bool {
        self.public_key
            .verify(&platform_message(record, &self.header), &self.signature)
    }
}

/// Makes the provider's seal for `record` (its `Label`, `ContentProducer` and `ProduceID`).
pub fn seal_provider(signer: &Signer, record: &LabelRecord, claims: &Claims) -> Result<String> {
    let header = header(signer, claims)?;
    let sig = signer.sign(&provider_message(record, &header))?;
    Ok(format!("{header};s={}", URL_SAFE_NO_PAD.encode(sig)))
}

/// Makes a platform's countersignature for `record` (which already holds the provider's seal,
/// `ContentPropagator` and `PropagateID`).
pub fn seal_platform(signer: &Signer, record: &LabelRecord, claims: &Claims) -> Result<String> {
    let header = header(signer, claims)?;
    let sig = signer.sign(&platform_message(record, &header))?;
    Ok(format!("{header};s={}", URL_SAFE_NO_PAD.encode(sig)))
}

fn header(signer: &Signer, c: &Claims) -> Result<String> {
    let public_key = signer.public_key();
    let mut h = format!(
        "{};k={};t={};f={};cd={}",
        prefix_for(public_key.algorithm()),
        public_key.encode(),
        c.signed_at,
        c.format.name(),
        URL_SAFE_NO_PAD.encode(c.content_digest)
    );
    if let Some(w) = &c.watermark_id {
        if w.len() != 16 || !w.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::InvalidLabel(
                "watermark id must be 16 hex digits".into(),
            ));
        }
        h.push_str(";wm=");
        h.push_str(w);
    }
    if let Some(e) = &c.explicit {
        if e.is_empty()
            || !e
                .chars()
                .all(|ch| crate::label::is_allowed_char(ch) && ch != ';' && ch != '"')
        {
            return Err(Error::InvalidLabel(format!(
                "explicit record {e:?} has characters a seal cannot hold"
            )));
        }
        h.push_str(";ex=");
        h.push_str(e);
    }
    Ok(h)
}

fn provider_message(r: &LabelRecord, header: &str) -> Vec<u8> {
    message(
        PROVIDER_DOMAIN,
        &[
            r.label.as_deref(),
            r.content_producer.as_deref(),
            r.produce_id.as_deref(),
        ],
        header,
    )
}

fn platform_message(r: &LabelRecord, header: &str) -> Vec<u8> {
    message(
        PLATFORM_DOMAIN,
        &[
            r.label.as_deref(),
            r.content_producer.as_deref(),
            r.produce_id.as_deref(),
            r.reserved_code1.as_deref(),
            r.content_propagator.as_deref(),
            r.propagate_id.as_deref(),
        ],
        header,
    )
}

fn message(domain: &[u8], fields: &[Option<&str>], header: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(domain.len() + header.len() + 256);
    m.extend_from_slice(domain);
    for f in fields {
        m.extend_from_slice(f.unwrap_or("").as_bytes());
        m.push(0);
    }
    m.extend_from_slice(header.as_bytes());
    m
}

fn decode_b64<const N: usize>(text: &str, what: &str) -> std::result::Result<[u8; N], SealError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| SealError::Malformed(format!("{what} is not base64url")))?;
    bytes
        .try_into()
        .map_err(|_| SealError::Malformed(format!("{what} has the wrong length")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::{LabelKind, is_allowed_char};

    fn sample() -> (Signer, LabelRecord, Claims) {
        let signer = Signer::from_seed(&[3u8; 32]);
        let record = LabelRecord::new(LabelKind::Generated, "001191000000MA00DEMO0X10000", "p-1");
        let claims = Claims {
            format: Format::Png,
            content_digest: [9u8; 32],
            signed_at: 1_764_390_000,
            watermark_id: Some("0123456789abcdef".into()),
            explicit: Some("br,0.8,0.9,0.2,0.1".into()),
        };
        (signer, record, claims)
    }

    #[test]
    fn seal_is_compact_allowed_text_and_verifies() {
        let (signer, mut record, claims) = sample();
        let text = seal_provider(&signer, &record, &claims).unwrap();
        assert!(text.len() < 300, "{}", text.len());
        assert!(text.chars().all(is_allowed_char));
        record.reserved_code1 = Some(text.clone());
        let seal = Seal::parse(&text).unwrap();
        assert_eq!(seal.content_digest, claims.content_digest);
        assert_eq!(seal.watermark_id, claims.watermark_id);
        assert_eq!(seal.key_id(), signer.key_id());
        assert!(seal.verify_provider(&record));
        record.produce_id = Some("p-2".into());
        assert!(!seal.verify_provider(&record));
    }

    #[test]
    fn every_character_of_the_header_is_bound() {
        let (signer, record, claims) = sample();
        let text = seal_provider(&signer, &record, &claims).unwrap();
        let sig_at = text.rfind(";s=").unwrap();
        for i in PREFIX.len() + 1..sig_at {
            let mut bytes = text.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).unwrap();
            if let Ok(seal) = Seal::parse(&changed) {
                assert!(
                    !seal.verify_provider(&record),
                    "byte {i} not bound: {changed}"
                );
            }
        }
    }

    #[test]
    fn foreign_and_damaged_seals() {
        assert_eq!(Seal::parse("a1b2c3"), Err(SealError::Foreign));
        assert_eq!(Seal::parse("AM10"), Err(SealError::Foreign));
        for bad in [
            "AM1;",
            "AM1;k=x;s=y",
            "AM1;t=1;s=AAAA",
            "AM1;k=;t=;f=;cd=;s=",
        ] {
            assert!(
                matches!(Seal::parse(bad), Err(SealError::Malformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn countersignature_keeps_provider_seal() {
        let (provider, mut record, claims) = sample();
        record.reserved_code1 = Some(seal_provider(&provider, &record, &claims).unwrap());
        record.content_propagator = Some("001191000000MA00DEMO0X20000".into());
        record.propagate_id = Some("v-9".into());
        let platform = Signer::from_seed(&[4u8; 32]);
        let rc2 = seal_platform(&platform, &record, &claims).unwrap();
        record.reserved_code2 = Some(rc2.clone());
        let p = Seal::parse(record.reserved_code1.as_deref().unwrap()).unwrap();
        assert!(p.verify_provider(&record));
        let c = Seal::parse(&rc2).unwrap();
        assert!(c.verify_platform(&record));
        assert!(!c.verify_provider(&record), "domains are separate");
        record.propagate_id = Some("v-8".into());
        assert!(!c.verify_platform(&record));
    }
}
