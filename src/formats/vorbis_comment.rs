//! Vorbis comments (`KEY=value` lists), as FLAC's VORBIS_COMMENT block and the Ogg Vorbis and
//! Opus comment headers store them.
//!
//! Written by hand: the structure is four lines of little-endian lengths, and labeling must keep
//! every other comment byte for byte, which the tag crates (re-serialising from their own model)
//! do not promise.

use crate::error::{Error, Result};
use crate::limits::Limits;

/// The key of the label comment.
pub const AIGC_KEY: &str = "AIGC";

/// A parsed comment list; every entry is kept as its raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comments {
    pub vendor: Vec<u8>,
    pub entries: Vec<Vec<u8>>,
    /// Bytes after the list (Vorbis puts a framing bit there); kept as found.
    pub trailing: Vec<u8>,
}

fn read_u32(b: &[u8], pos: usize) -> Option<usize> {
    let s = b.get(pos..pos.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

impl Comments {
    /// Parses a comment list; every length is checked against the bytes present.
    pub fn parse(b: &[u8], format: &'static str, limits: &Limits) -> Result<Comments> {
        let bad = |what: &str| Error::malformed(format, format!("Vorbis comment: {what}"));
        let vlen = read_u32(b, 0).ok_or_else(|| bad("truncated vendor length"))?;
        let vendor = b
            .get(4..4 + vlen.min(b.len()))
            .filter(|v| v.len() == vlen)
            .ok_or_else(|| bad("vendor string runs past the block"))?;
        let mut pos = 4 + vlen;
        let count = read_u32(b, pos).ok_or_else(|| bad("truncated comment count"))?;
        pos += 4;
        // Each entry takes at least 4 bytes, which bounds a lying count.
        if count > b.len().saturating_sub(pos) / 4 {
            return Err(bad("the comment count is larger than the block can hold"));
        }
        let mut entries = Vec::with_capacity(count);
        let mut total = 0u64;
        for i in 0..count {
            let len = read_u32(b, pos)
                .ok_or_else(|| bad(&format!("comment {i} has a truncated length")))?;
            pos += 4;
            let e = b
                .get(pos..pos.saturating_add(len))
                .filter(|e| e.len() == len)
                .ok_or_else(|| bad(&format!("comment {i} runs past the block")))?;
            total += len as u64;
            if total > limits.max_decompressed_metadata {
                return Err(Error::Limit(
                    "Vorbis comments larger than the metadata limit".into(),
                ));
            }
            entries.push(e.to_vec());
            pos += len;
        }
        Ok(Comments {
            vendor: vendor.to_vec(),
            entries,
            trailing: b.get(pos..).unwrap_or(&[]).to_vec(),
        })
    }

    /// The key of an entry (before `=`), when it has one.
    pub fn key(entry: &[u8]) -> Option<&[u8]> {
        entry.iter().position(|&c| c == b'=').map(|i| &entry[..i])
    }

    /// True for an entry whose key is `AIGC` (any case, as Vorbis keys are case-insensitive).
    pub fn is_aigc(entry: &[u8]) -> bool {
        Self::key(entry).is_some_and(|k| k.eq_ignore_ascii_case(AIGC_KEY.as_bytes()))
    }

    /// Values of the `AIGC` entries (lossy UTF-8) with their index.
    pub fn aigc_values(&self) -> Vec<(usize, String)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| Self::is_aigc(e))
            .map(|(i, e)| {
                (
                    i,
                    String::from_utf8_lossy(&e[AIGC_KEY.len() + 1..]).into_owned(),
                )
            })
            .collect()
    }

    /// Replaces the first `AIGC` entry with `AIGC=<json>` and removes the others (or appends one).
    pub fn set_aigc(&mut self, json: &str) {
        let new = format!("{AIGC_KEY}={json}").into_bytes();
        let mut placed = false;
        self.entries.retain_mut(|e| {
            if !Self::is_aigc(e) {
                return true;
            }
            if placed {
                return false;
            }
            *e = new.clone();
            placed = true;
            true
        });
        if !placed {
            self.entries.push(new);
        }
    }

    /// The value of the first entry whose key is `key` (any case).
    pub fn value_of(&self, key: &str) -> Option<&[u8]> {
        self.entries.iter().find_map(|e| {
            Self::key(e)
                .filter(|k| k.eq_ignore_ascii_case(key.as_bytes()))
                .map(|k| &e[k.len() + 1..])
        })
    }

    /// Removes every entry whose key is `key` (any case), then appends `key=value` when given.
    pub fn set_value(&mut self, key: &str, value: Option<&str>) {
        self.entries
            .retain(|e| !Self::key(e).is_some_and(|k| k.eq_ignore_ascii_case(key.as_bytes())));
        if let Some(v) = value {
            self.entries.push(format!("{key}={v}").into_bytes());
        }
    }

    /// Serialises the list (with the trailing bytes as found).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let len32 = |n: usize| {
            u32::try_from(n).map_err(|_| Error::Limit("Vorbis comment too large".into()))
        };
        let mut out = Vec::new();
        out.extend_from_slice(&len32(self.vendor.len())?.to_le_bytes());
        out.extend_from_slice(&self.vendor);
        out.extend_from_slice(&len32(self.entries.len())?.to_le_bytes());
        for e in &self.entries {
            out.extend_from_slice(&len32(e.len())?.to_le_bytes());
            out.extend_from_slice(e);
        }
        out.extend_from_slice(&self.trailing);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_first_label_and_keeps_the_rest() {
        let mut c = Comments {
            vendor: b"v".to_vec(),
            entries: vec![
                b"TITLE=x".to_vec(),
                b"aigc=old".to_vec(),
                b"AIGC=dup".to_vec(),
            ],
            trailing: vec![],
        };
        c.set_aigc("{}");
        assert_eq!(c.entries, vec![b"TITLE=x".to_vec(), b"AIGC={}".to_vec()]);
        let b = c.to_bytes().unwrap();
        assert_eq!(Comments::parse(&b, "flac", &Limits::default()).unwrap(), c);
        let mut lying = b.clone();
        lying[5] = 0xFF;
        assert!(Comments::parse(&lying, "flac", &Limits::default()).is_err());
    }
}
