//! The trust store: which public keys a verifier trusts, whose they are, and when.
//!
//! A JSON file a person can read and edit:
//!
//! ```json
//! {"aigcmark_trust_store": 1,
//!  "keys": [{"key_id": "3f9a2c7d1b4e5a60",
//!            "public_key": "<base64url, 43 characters>",
//!            "owner": "001191000000MA00DEMO0X10000",
//!            "role": "provider",
//!            "not_before": "2025-09-01T00:00:00Z",
//!            "not_after": null,
//!            "comment": "Acme image service, production key 2025"}]}
//! ```
//!
//! An SM2 key's entry says so with `"alg": "sm2"` (its `public_key` is then the 65-byte
//! uncompressed point, 87 characters); an entry without `alg` is Ed25519, so stores written
//! before SM2 load unchanged and Ed25519 entries are written without the field.
//!
//! `role` is `provider` (may seal `ReservedCode1`), `platform` (may countersign `ReservedCode2`)
//! or `any` (the default). The validity window, when given, is checked against the seal's signing
//! time. A trusted key that seals a label naming another producer is not trusted for that label.
//!
//! An entry may carry `"revoked_at"` (RFC 3339) and `"reason"`: a key that leaked is retired
//! without making older labels look forged. A seal made at or after `revoked_at` is untrusted,
//! one made before stays trusted. "Made" is the time a timestamp authority vouches for when the
//! seal carries a token; otherwise it is the seal's own `t=`, which the key's holder (or thief)
//! wrote, so the verifier says so. Revocation wins over merging: when any store lists the key as
//! revoked, it is revoked, whatever another store says (`aigcmark trust revoke` edits a store).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::keys::PublicKey;
use crate::signer::Algorithm;

/// What a key may sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Role {
    /// A provider: may seal `ReservedCode1` for its own ContentProducer.
    Provider,
    /// A platform: may countersign `ReservedCode2` for its own ContentPropagator.
    Platform,
    #[default]
    /// Either role.
    Any,
}

/// One trusted key. Unknown fields are refused: a misspelled `notAfter` would otherwise leave a
/// key trusted forever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustEntry {
    /// The key id (16 hex digits), checked against the public key.
    pub key_id: String,
    /// The key's algorithm (`ed25519` when absent; not written for Ed25519).
    #[serde(default, skip_serializing_if = "Algorithm::is_ed25519")]
    pub alg: Algorithm,
    /// The public key, base64url (Ed25519: 32 bytes; SM2: the 65-byte uncompressed point).
    pub public_key: String,
    /// The provider code or name (for platforms, the propagator code or name) the key belongs to.
    pub owner: String,
    #[serde(default)]
    /// What the key may sign.
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Seals before this time (RFC 3339) are not trusted.
    pub not_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Seals after this time (RFC 3339) are not trusted.
    pub not_after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Free text for people.
    pub comment: Option<String>,
    /// When the key was revoked (RFC 3339): seals made from then on are untrusted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// Why it was revoked (free text, for reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A key's revocation, as [`TrustStore::revocation`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The key's owner.
    pub owner: String,
    /// Unix seconds.
    pub revoked_at: u64,
    /// Why it was revoked, for people.
    pub reason: Option<String>,
}

#[derive(Debug, Clone)]
struct Loaded {
    entry: TrustEntry,
    public_key: PublicKey,
    not_before: Option<u64>,
    not_after: Option<u64>,
    revoked_at: Option<u64>,
}

/// A set of trusted keys.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    keys: Vec<Loaded>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    aigcmark_trust_store: u32,
    keys: Vec<TrustEntry>,
}

/// The trust decision for one seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustDecision {
    /// The key is trusted for this use; its owner.
    Trusted {
        /// The key's owner.
        owner: String,
    },
    /// The key is not in the store.
    Unknown,
    /// The key is in the store but the signing time is outside its validity window.
    OutsideWindow {
        /// The key's owner.
        owner: String,
    },
    /// The key is in the store for another role (a platform key sealing as provider, say).
    WrongRole {
        /// The key's owner.
        owner: String,
    },
    /// The key is trusted, but for another owner than the label names.
    WrongOwner {
        /// The key's owner.
        owner: String,
        /// The owner the label names.
        claimed: String,
    },
    /// The key was revoked at or before the signing time.
    Revoked(Revocation),
}

impl TrustStore {
    /// An empty store: every key is unknown.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a trust store file's text.
    pub fn from_json(text: &str) -> Result<Self> {
        let form: FileForm = serde_json::from_str(text)
            .map_err(|e| Error::Key(format!("not a valid trust store: {e}")))?;
        if form.aigcmark_trust_store != 1 {
            return Err(Error::Key(format!(
                "trust store version {} is not supported (expected 1)",
                form.aigcmark_trust_store
            )));
        }
        let mut store = TrustStore::new();
        for entry in form.keys {
            store.add(entry)?;
        }
        Ok(store)
    }

    /// Reads a trust store file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_json(&text).map_err(|e| match e {
            Error::Key(why) => Error::Key(format!("{}: {why}", path.display())),
            other => other,
        })
    }

    /// Reads a trust store file, or every `*.json` file of a folder (merged, in name order).
    pub fn load_path(path: &Path) -> Result<Self> {
        if !path.is_dir() {
            return Self::load(path);
        }
        let mut files: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| Error::io(path, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(Error::Key(format!(
                "{}: the folder holds no trust store (*.json)",
                path.display()
            )));
        }
        let mut store = TrustStore::new();
        for f in files {
            store.merge(Self::load(&f)?)?;
        }
        Ok(store)
    }

    /// Adds every entry of `other`; an entry already present (same key, owner, role and window)
    /// is kept once. A key listed under two owners is refused, as in [`TrustStore::add`].
    pub fn merge(&mut self, other: TrustStore) -> Result<()> {
        for l in other.keys {
            if self
                .keys
                .iter()
                .any(|k| k.public_key == l.public_key && same_grant(&k.entry, &l.entry))
            {
                continue;
            }
            self.add(l.entry)?;
        }
        Ok(())
    }

    /// Adds an entry, checking its key, key id and dates.
    pub fn add(&mut self, entry: TrustEntry) -> Result<()> {
        let public_key = PublicKey::decode(entry.alg, &entry.public_key)?;
        let derived = public_key.key_id();
        if !entry.key_id.eq_ignore_ascii_case(&derived) {
            return Err(Error::Key(format!(
                "key_id {} does not match its public key (expected {derived})",
                entry.key_id
            )));
        }
        let date = |d: &Option<String>| -> Result<Option<u64>> {
            d.as_deref().map(parse_time).transpose()
        };
        let not_before = date(&entry.not_before)?;
        let not_after = date(&entry.not_after)?;
        let revoked_at = date(&entry.revoked_at)?;
        if entry.reason.is_some() && revoked_at.is_none() {
            return Err(Error::Key(format!(
                "key {}: a reason without revoked_at revokes nothing",
                entry.key_id
            )));
        }
        if let (Some(nb), Some(na)) = (not_before, not_after)
            && na < nb
        {
            return Err(Error::Key(format!(
                "key {}: not_after is before not_before",
                entry.key_id
            )));
        }
        if let Some(other) = self
            .keys
            .iter()
            .find(|k| k.public_key == public_key && k.entry.owner != entry.owner)
        {
            return Err(Error::Key(format!(
                "key {} is listed under two owners ({} and {}); a key belongs to one owner",
                entry.key_id, other.entry.owner, entry.owner
            )));
        }
        self.keys.push(Loaded {
            entry,
            public_key,
            not_before,
            not_after,
            revoked_at,
        });
        Ok(())
    }

    /// Marks every entry of `key_id` revoked from `at` (RFC 3339) on, with an optional reason;
    /// returns how many entries changed. An earlier revocation already recorded is kept (the
    /// key cannot be un-revoked by revoking it later). Refuses an unknown key id.
    pub fn revoke(&mut self, key_id: &str, at: &str, reason: Option<&str>) -> Result<usize> {
        let when = parse_time(at)?;
        let mut n = 0;
        for k in self
            .keys
            .iter_mut()
            .filter(|k| k.entry.key_id.eq_ignore_ascii_case(key_id))
        {
            if k.revoked_at.is_none_or(|r| when < r) {
                k.revoked_at = Some(when);
                k.entry.revoked_at = Some(format_time(when));
                k.entry.reason = reason.map(str::to_string);
            }
            n += 1;
        }
        if n == 0 {
            return Err(Error::Key(format!(
                "key {key_id} is not in the store; nothing revoked"
            )));
        }
        Ok(n)
    }

    /// The revocation that applies to a seal by `public_key` made at `at`: the earliest
    /// `revoked_at` over every entry of the key, when `at` is at or after it.
    pub fn revocation<K: Into<PublicKey> + Copy>(
        &self,
        public_key: &K,
        at: u64,
    ) -> Option<Revocation> {
        let public_key = &(*public_key).into();
        self.keys
            .iter()
            .filter(|k| &k.public_key == public_key)
            .filter_map(|k| k.revoked_at.map(|r| (r, k)))
            .min_by_key(|(r, _)| *r)
            .filter(|(r, _)| at >= *r)
            .map(|(r, k)| Revocation {
                owner: k.entry.owner.clone(),
                revoked_at: r,
                reason: k.entry.reason.clone(),
            })
    }

    /// An entry for a key (an Ed25519 `[u8; 32]` or a [`PublicKey`]), ready to add or save.
    pub fn entry_for<K: Into<PublicKey> + Copy>(
        public_key: &K,
        owner: &str,
        role: Role,
    ) -> TrustEntry {
        let public_key: PublicKey = (*public_key).into();
        TrustEntry {
            key_id: public_key.key_id(),
            alg: public_key.algorithm(),
            public_key: public_key.encode(),
            owner: owner.to_string(),
            role,
            not_before: None,
            not_after: None,
            comment: None,
            revoked_at: None,
            reason: None,
        }
    }

    /// Every entry, in the order loaded.
    pub fn entries(&self) -> impl Iterator<Item = &TrustEntry> {
        self.keys.iter().map(|l| &l.entry)
    }

    /// True when the store trusts no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The store as pretty JSON.
    pub fn to_json(&self) -> String {
        let form = FileForm {
            aigcmark_trust_store: 1,
            keys: self.entries().cloned().collect(),
        };
        serde_json::to_string_pretty(&form).expect("trust store serialises") + "\n"
    }

    /// Decides whether a seal by `public_key`, made at `signed_at` in `role` for a label naming
    /// `claimed_owner`, is trusted. A seal made at or after the key's revocation is
    /// [`TrustDecision::OutsideWindow`] (revocation ends the window; [`TrustStore::revocation`]
    /// says when and why).
    pub fn decide<K: Into<PublicKey> + Copy>(
        &self,
        public_key: &K,
        role: Role,
        signed_at: u64,
        claimed_owner: Option<&str>,
    ) -> TrustDecision {
        let public_key = &(*public_key).into();
        if let Some(r) = self.revocation(public_key, signed_at) {
            return TrustDecision::Revoked(r);
        }
        let mut found = None;
        for k in self.keys.iter().filter(|k| &k.public_key == public_key) {
            let owner = k.entry.owner.clone();
            let decision = if k.entry.role != Role::Any && k.entry.role != role {
                TrustDecision::WrongRole { owner }
            } else if k.not_before.is_some_and(|nb| signed_at < nb)
                || k.not_after.is_some_and(|na| signed_at > na)
            {
                TrustDecision::OutsideWindow { owner }
            } else if let Some(claimed) = claimed_owner.filter(|c| *c != owner) {
                TrustDecision::WrongOwner {
                    owner,
                    claimed: claimed.to_string(),
                }
            } else {
                return TrustDecision::Trusted { owner };
            };
            found.get_or_insert(decision);
        }
        found.unwrap_or(TrustDecision::Unknown)
    }

    /// The owner of a key, whatever the decision.
    pub fn owner_of<K: Into<PublicKey> + Copy>(&self, public_key: &K) -> Option<&str> {
        let public_key = &(*public_key).into();
        self.keys
            .iter()
            .find(|k| &k.public_key == public_key)
            .map(|k| k.entry.owner.as_str())
    }
}

/// True when two entries grant the same thing (the comment aside).
fn same_grant(a: &TrustEntry, b: &TrustEntry) -> bool {
    a.owner == b.owner
        && a.role == b.role
        && a.not_before == b.not_before
        && a.not_after == b.not_after
        && a.revoked_at == b.revoked_at
}

/// RFC 3339 (UTC, `Z`) to Unix seconds.
pub fn parse_time(text: &str) -> Result<u64> {
    let t = humantime::parse_rfc3339_weak(text)
        .map_err(|e| Error::Key(format!("{text:?} is not an RFC 3339 time: {e}")))?;
    Ok(t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0))
}

/// Unix seconds to RFC 3339 (UTC, `Z`).
pub fn format_time(secs: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.min(253_402_300_799));
    humantime::format_rfc3339_seconds(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Signer;

    #[test]
    fn decisions() {
        let s = Signer::from_seed(&[5u8; 32]);
        let mut e = TrustStore::entry_for(&s.public_key(), "ACME", Role::Provider);
        e.not_before = Some("2025-09-01T00:00:00Z".into());
        e.not_after = Some("2027-01-01T00:00:00Z".into());
        let mut store = TrustStore::new();
        store.add(e).unwrap();
        let t = parse_time("2026-06-01T00:00:00Z").unwrap();
        let pk = s.public_key();
        assert_eq!(
            store.decide(&pk, Role::Provider, t, Some("ACME")),
            TrustDecision::Trusted {
                owner: "ACME".into()
            }
        );
        assert!(matches!(
            store.decide(&pk, Role::Provider, 0, None),
            TrustDecision::OutsideWindow { .. }
        ));
        assert!(matches!(
            store.decide(&pk, Role::Platform, t, None),
            TrustDecision::WrongRole { .. }
        ));
        assert!(matches!(
            store.decide(&pk, Role::Provider, t, Some("EVIL")),
            TrustDecision::WrongOwner { .. }
        ));
        let other = Signer::from_seed(&[6u8; 32]).public_key();
        assert_eq!(
            store.decide(&other, Role::Provider, t, None),
            TrustDecision::Unknown
        );
    }

    #[test]
    fn file_round_trip_and_rejections() {
        let s = Signer::from_seed(&[5u8; 32]);
        let mut store = TrustStore::new();
        store
            .add(TrustStore::entry_for(&s.public_key(), "ACME", Role::Any))
            .unwrap();
        let again = TrustStore::from_json(&store.to_json()).unwrap();
        assert_eq!(again.entries().count(), 1);
        let mut bad = TrustStore::entry_for(&s.public_key(), "ACME", Role::Any);
        bad.key_id = "0000000000000000".into();
        assert!(TrustStore::new().add(bad).is_err());
        assert!(TrustStore::from_json("{}").is_err());
        assert!(TrustStore::from_json(r#"{"aigcmark_trust_store":2,"keys":[]}"#).is_err());
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn unknown_fields_and_two_owners_are_refused() {
        let s = Signer::from_seed(&[5u8; 32]);
        let e = TrustStore::entry_for(&s.public_key(), "ACME", Role::Any);
        let mut v = serde_json::to_value(&e).unwrap();
        v["notAfter"] = "2026-01-01T00:00:00Z".into();
        let text = format!(r#"{{"aigcmark_trust_store":1,"keys":[{v}]}}"#);
        let err = TrustStore::from_json(&text).unwrap_err().to_string();
        assert!(err.contains("notAfter"), "{err}");
        let extra = r#"{"aigcmark_trust_store":1,"keys":[],"key":[]}"#;
        assert!(TrustStore::from_json(extra).is_err());

        let mut store = TrustStore::new();
        store.add(e.clone()).unwrap();
        let err = store
            .add(TrustStore::entry_for(&s.public_key(), "EVIL", Role::Any))
            .unwrap_err()
            .to_string();
        assert!(err.contains("two owners"), "{err}");
        // Merging a store that repeats the same grant keeps it once.
        let mut again = TrustStore::new();
        again.add(e).unwrap();
        store.merge(again).unwrap();
        assert_eq!(store.entries().count(), 1);
    }

    #[test]
    fn revocation_retires_later_seals_only() {
        let s = Signer::from_seed(&[5u8; 32]);
        let pk = s.public_key();
        let mut store = TrustStore::new();
        store
            .add(TrustStore::entry_for(&pk, "ACME", Role::Any))
            .unwrap();
        let before = parse_time("2026-01-01T00:00:00Z").unwrap();
        let after = parse_time("2026-03-01T00:00:00Z").unwrap();
        assert!(
            store
                .revoke("0000000000000000", "2026-02-01T00:00:00Z", None)
                .is_err()
        );
        assert_eq!(
            store
                .revoke(
                    &s.key_id().to_uppercase(),
                    "2026-02-01T00:00:00Z",
                    Some("leaked")
                )
                .unwrap(),
            1
        );
        assert!(matches!(
            store.decide(&pk, Role::Provider, before, Some("ACME")),
            TrustDecision::Trusted { .. }
        ));
        assert!(matches!(
            store.decide(&pk, Role::Provider, after, Some("ACME")),
            TrustDecision::Revoked(_)
        ));
        let r = store.revocation(&pk, after).unwrap();
        assert_eq!(r.reason.as_deref(), Some("leaked"));
        assert_eq!(store.revocation(&pk, before), None);
        // A later revocation does not move an earlier one.
        store
            .revoke(&s.key_id(), "2026-06-01T00:00:00Z", None)
            .unwrap();
        assert!(store.revocation(&pk, after).is_some());

        // The file keeps it, and a store that still trusts the key cannot undo it by merging.
        let text = store.to_json();
        assert!(
            text.contains("\"revoked_at\": \"2026-02-01T00:00:00Z\""),
            "{text}"
        );
        let mut merged = TrustStore::new();
        merged
            .add(TrustStore::entry_for(&pk, "ACME", Role::Any))
            .unwrap();
        merged.merge(TrustStore::from_json(&text).unwrap()).unwrap();
        assert!(matches!(
            merged.decide(&pk, Role::Provider, after, Some("ACME")),
            TrustDecision::Revoked(_)
        ));
        let mut e = TrustStore::entry_for(&pk, "ACME", Role::Any);
        e.reason = Some("no date".into());
        assert!(TrustStore::new().add(e).is_err());
    }
}
