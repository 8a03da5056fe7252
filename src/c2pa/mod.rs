//! C2PA Content Credentials beside the GB 45438 label (issue #17).
//!
//! Outside China, platforms look for C2PA manifests; a provider serving both markets writes both.
//! The order keeps both valid: the GB label and the watermark are written first, then the
//! manifest, whose hard binding covers the final bytes; the GB binding leaves the manifest store
//! out (JPEG `APP11`, PNG `caBX`, WebP/WAV `C2PA` chunk, MP3 ID3 `GEOB`), so a manifest added
//! later by a platform keeps the GB label intact.
//!
//! This module is always built: the report types, and the store check every format runs (a store
//! left outside the binding must be well-formed JUMBF, or it would be a hiding place). Writing
//! and validating manifests needs the `c2pa` cargo feature (the reference implementation, with
//! native-Rust crypto), in [`sdk`].

use serde::Serialize;

use crate::format::{Declaration, DeclarationKind, Scan};
use crate::label::LabelRecord;
use crate::report::Finding;

#[cfg(feature = "c2pa")]
pub mod sdk;

/// The label of the assertion that carries the GB 45438 label's fields in our manifests.
#[cfg_attr(not(feature = "c2pa"), allow(dead_code))]
pub const GB_ASSERTION: &str = "cn.gb45438.aigc";
/// The soft-binding algorithm name of aigcmark's watermark (not on the C2PA soft-binding list).
pub const WATERMARK_ALG: &str = "io.github.aigcmark.watermark.1";
/// IPTC's "created by a trained model" source type, the one GB labels with `Label` 1 map to.
#[cfg_attr(not(feature = "c2pa"), allow(dead_code))]
pub const TRAINED_ALGORITHMIC_MEDIA: &str =
    "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";

/// Whether a C2PA manifest was found, and what validating it gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum C2paStatus {
    /// Well-formed, the signature and the hard binding verify, and the signer chains to a trust
    /// anchor.
    Valid,
    /// Well-formed and cryptographically sound, but the signer is not trusted.
    Untrusted,
    /// The manifest is damaged, its signature fails, or it does not bind this content.
    Invalid,
    /// No manifest store in the file.
    Absent,
    /// A store is there but this build cannot validate it (built without the `c2pa` feature).
    NotChecked,
}

/// One soft binding a manifest names (a watermark or fingerprint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SoftBindingInfo {
    /// The soft-binding algorithm's name.
    pub alg: String,
    /// The values it binds (for ours, the payload in hex).
    pub values: Vec<String>,
}

/// The `c2pa` field of a report: the active manifest, as validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct C2paReport {
    /// Whether the manifest validates and its signer is trusted.
    pub status: C2paStatus,
    /// The signing certificate's subject (`CN=…, O=…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The software that made the claim.
    pub claim_generator: Option<String>,
    /// The `digitalSourceType` of the `c2pa.created` (or first) action that has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digital_source_type: Option<String>,
    /// The action names, in order (`c2pa.created`, `c2pa.watermarked`, …).
    pub actions: Vec<String>,
    /// Soft bindings (watermarks) the manifest names.
    pub soft_bindings: Vec<SoftBindingInfo>,
    /// `ContentProducer` and `ProduceID` from our GB assertion, when the manifest has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_producer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The ProduceID in our GB 45438 assertion, when there is one.
    pub produce_id: Option<String>,
    /// Same producer and ProduceID as the GB label, and an AI source type exactly when the
    /// label's `Label` is 1/2/3; null when there is no GB label or nothing to compare.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agrees_with_label: Option<bool>,
    /// Whether a soft binding naming aigcmark's watermark holds the detected payload; null when
    /// either is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agrees_with_watermark: Option<bool>,
    /// The validator's failure codes (`assertion.dataHash.mismatch`, `signingCredential.untrusted`, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub validation_codes: Vec<String>,
}

impl C2paReport {
    /// The report for a file without a manifest store.
    pub fn absent() -> Self {
        C2paReport::with_status(C2paStatus::Absent)
    }

    pub(crate) fn with_status(status: C2paStatus) -> Self {
        C2paReport {
            status,
            signer: None,
            claim_generator: None,
            digital_source_type: None,
            actions: Vec::new(),
            soft_bindings: Vec::new(),
            content_producer: None,
            produce_id: None,
            agrees_with_label: None,
            agrees_with_watermark: None,
            validation_codes: Vec::new(),
        }
    }

    /// Whether the manifest's source type says the content was made by AI.
    pub fn declares_ai(&self) -> bool {
        self.digital_source_type
            .as_deref()
            .is_some_and(is_ai_source_type)
    }

    /// The manifest was signed and binds this content (trusted or not): its statements are the
    /// signer's, about these bytes.
    pub fn sound(&self) -> bool {
        matches!(self.status, C2paStatus::Valid | C2paStatus::Untrusted)
    }
}

/// An IPTC digital source type that means AI made (part of) the content.
pub fn is_ai_source_type(uri: &str) -> bool {
    let tail = uri.rsplit('/').next().unwrap_or(uri);
    matches!(
        tail,
        "trainedAlgorithmicMedia"
            | "compositeWithTrainedAlgorithmicMedia"
            | "algorithmicallyEnhanced"
            | "compositeSynthetic"
            | "algorithmicMedia"
    )
}

/// Compares a manifest with the GB label: same producer and ProduceID when the manifest carries
/// our assertion, and an AI source type exactly when `Label` is 1, 2 or 3. `None` when the
/// manifest states neither.
pub fn agrees_with_label(c: &C2paReport, record: &LabelRecord) -> Option<bool> {
    let mut verdict = None;
    if c.content_producer.is_some() || c.produce_id.is_some() {
        verdict = Some(
            c.content_producer == record.content_producer && c.produce_id == record.produce_id,
        );
    }
    if c.digital_source_type.is_some() {
        let ai_label = matches!(record.label.as_deref(), Some("1" | "2" | "3"));
        verdict = Some(verdict.unwrap_or(true) && (c.declares_ai() == ai_label));
    }
    verdict
}

/// Whether the manifest's soft binding for aigcmark's watermark names `payload`; `None` when
/// the manifest names no such soft binding.
pub fn agrees_with_watermark(c: &C2paReport, payload: &str) -> Option<bool> {
    let ours: Vec<&String> = c
        .soft_bindings
        .iter()
        .filter(|s| s.alg == WATERMARK_ALG)
        .flat_map(|s| &s.values)
        .collect();
    (!ours.is_empty()).then(|| ours.iter().any(|v| v.eq_ignore_ascii_case(payload)))
}

/// Nesting depth a manifest store may have (store → manifest → assertion store → assertion,
/// plus ingredients' stores); deeper is treated as malformed.
const MAX_JUMBF_DEPTH: usize = 16;

/// Checks that `store` is one well-formed JUMBF superbox labeled `c2pa`: every box's size adds up
/// exactly, every superbox starts with a description box, nothing trails. A store that passes
/// holds only boxes C2PA readers parse (and the manifest's own signature covers); one that does
/// not could hide anything, so the formats flag it.
pub fn check_store(store: &[u8]) -> Result<(), String> {
    let (label, end) = superbox(store, 0, 0)?;
    if label != "c2pa" {
        return Err(format!(
            "the outer JUMBF box is labeled {label:?}, not \"c2pa\""
        ));
    }
    if end != store.len() {
        return Err(format!(
            "{} bytes follow the manifest store",
            store.len() - end
        ));
    }
    Ok(())
}

/// One box header at `at`: (type, payload start, box end).
fn box_at(buf: &[u8], at: usize, limit: usize) -> Result<([u8; 4], usize, usize), String> {
    let h = buf
        .get(at..at.checked_add(8).ok_or("box offset overflows")?)
        .filter(|_| at + 8 <= limit)
        .ok_or("a JUMBF box header is cut short")?;
    let lbox = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
    let tbox = [h[4], h[5], h[6], h[7]];
    let (payload, end) = match lbox {
        0 => (at + 8, limit),
        1 => {
            let x = buf
                .get(at + 8..at + 16)
                .filter(|_| at + 16 <= limit)
                .ok_or("a JUMBF extended box size is cut short")?;
            let xl = u64::from_be_bytes(x.try_into().map_err(|_| "bad XLBox")?);
            let xl = usize::try_from(xl).map_err(|_| "a JUMBF box size is too large")?;
            if xl < 16 {
                return Err("a JUMBF extended box size is below its header".into());
            }
            (
                at + 16,
                at.checked_add(xl).ok_or("a JUMBF box size overflows")?,
            )
        }
        2..=7 => return Err(format!("a JUMBF box size of {lbox} is below its header")),
        n => (
            at + 8,
            at.checked_add(n).ok_or("a JUMBF box size overflows")?,
        ),
    };
    if end > limit {
        return Err(format!(
            "a JUMBF {} box runs {} bytes past its container",
            String::from_utf8_lossy(&tbox),
            end - limit
        ));
    }
    Ok((tbox, payload, end))
}

/// A `jumb` superbox at `at`: its label and its end.
fn superbox(buf: &[u8], at: usize, depth: usize) -> Result<(String, usize), String> {
    if depth > MAX_JUMBF_DEPTH {
        return Err("the JUMBF boxes nest too deeply".into());
    }
    let (t, payload, end) = box_at(buf, at, buf.len())?;
    if &t != b"jumb" {
        return Err(format!(
            "expected a JUMBF superbox, found a {:?} box",
            String::from_utf8_lossy(&t)
        ));
    }
    // The description box: UUID (16), toggles (1), label if toggles&2 (NUL-terminated), id if
    // toggles&4 (4), signature if toggles&8 (32), then an optional private box.
    let (dt, dp, de) = box_at(buf, payload, end)?;
    if &dt != b"jumd" {
        return Err("a JUMBF superbox does not start with its description box".into());
    }
    let d = &buf[dp..de];
    let toggles = *d.get(16).ok_or("a JUMBF description box is cut short")?;
    let mut p = 17;
    let mut label = String::new();
    if toggles & 0x02 != 0 {
        let n = memchr::memchr(0, &d[p..]).ok_or("a JUMBF label is not terminated")?;
        label = String::from_utf8_lossy(&d[p..p + n]).into_owned();
        p += n + 1;
    }
    if toggles & 0x04 != 0 {
        p += 4;
    }
    if toggles & 0x08 != 0 {
        p += 32;
    }
    if p < d.len() {
        // A private box: one whole box, nothing after it.
        let (_, _, pe) = box_at(d, p, d.len())?;
        p = pe;
    }
    if p != d.len() {
        return Err("a JUMBF description box holds stray bytes".into());
    }
    let mut pos = de;
    while pos < end {
        let (ct, _, ce) = box_at(buf, pos, end)?;
        if &ct == b"jumb" {
            let (_, se) = superbox(&buf[..end], pos, depth + 1)?;
            pos = se;
        } else {
            pos = ce;
        }
    }
    Ok((label, end))
}

/// Records a C2PA manifest store a format found outside its binding: a declaration when it is
/// well-formed JUMBF, an error finding (the file cannot be intact) when it is not.
pub(crate) fn note_store(scan: &mut Scan, location: &str, store: &[u8]) {
    match check_store(store) {
        Ok(()) => {
            if !scan
                .declarations
                .iter()
                .any(|d| d.kind == DeclarationKind::C2paManifest && d.location == location)
            {
                scan.declarations.push(Declaration {
                    kind: DeclarationKind::C2paManifest,
                    value: String::new(),
                    location: location.to_string(),
                    ai_generated: false,
                });
            }
        }
        Err(why) => scan.findings.push(Finding::error(
            "c2pa.store_malformed",
            format!(
                "the C2PA manifest store ({location}) is not well-formed JUMBF ({why}); it lies \
                 outside the content binding, so its bytes are not proved inert"
            ),
        )),
    }
}

/// The manifest store in an ID3v2 `GEOB` frame body whose MIME type is C2PA's; `None` for any
/// other encapsulated object.
pub fn geob_store(body: &[u8]) -> Option<&[u8]> {
    let enc = *body.first()?;
    let rest = &body[1..];
    let mime_end = memchr::memchr(0, rest)?;
    let mime = &rest[..mime_end];
    if mime != b"application/c2pa" && mime != b"application/x-c2pa-manifest-store" {
        return None;
    }
    let mut rest = &rest[mime_end + 1..];
    // File name and description, each terminated in the frame's text encoding.
    for _ in 0..2 {
        let n = if enc == 1 || enc == 2 {
            rest.chunks_exact(2).position(|c| c == [0, 0])? * 2 + 2
        } else {
            memchr::memchr(0, rest)? + 1
        };
        rest = &rest[n..];
    }
    Some(rest)
}

/// The manifest store spread over JPEG `APP11` segments (JPEG XT boxes): the payloads of the
/// segments of box instance `en`, in sequence order, each after its repeated box header. `None`
/// when the segments do not form one store.
pub fn jpeg_xt_store<'a>(payloads: impl IntoIterator<Item = &'a [u8]>) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut instance = None;
    let mut seq = 0u32;
    for p in payloads {
        // CI "JP", En (2), Z (4), then the box header (LBox, TBox, [XLBox]).
        if p.len() < 16 || &p[..2] != b"JP" {
            continue;
        }
        let en = u16::from_be_bytes([p[2], p[3]]);
        let z = u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
        let box_type = &p[12..16];
        if box_type != b"jumb" {
            continue;
        }
        match instance {
            None => instance = Some(en),
            Some(i) if i != en => continue,
            _ => {}
        }
        seq = seq.checked_add(1)?;
        if z != seq {
            return None;
        }
        let lbox = u32::from_be_bytes([p[8], p[9], p[10], p[11]]);
        let header = if lbox == 1 { 16 } else { 8 };
        if seq == 1 {
            out.extend_from_slice(p.get(8..)?);
        } else {
            out.extend_from_slice(p.get(8 + header..)?);
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(t: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut v = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(t);
        v.extend_from_slice(payload);
        v
    }

    fn superbox_labeled(label: &str, children: &[Vec<u8>]) -> Vec<u8> {
        let mut d = vec![0u8; 16];
        d.push(0x03);
        d.extend_from_slice(label.as_bytes());
        d.push(0);
        let mut payload = bx(b"jumd", &d);
        for c in children {
            payload.extend_from_slice(c);
        }
        bx(b"jumb", &payload)
    }

    #[test]
    fn a_store_of_nested_superboxes_is_well_formed() {
        let claim = superbox_labeled("c2pa.claim", &[bx(b"cbor", b"\xa0")]);
        let manifest = superbox_labeled("urn:c2pa:1", &[claim]);
        let store = superbox_labeled("c2pa", &[manifest]);
        assert_eq!(check_store(&store), Ok(()));
    }

    #[test]
    fn stray_bytes_sizes_and_labels_are_caught() {
        let store = superbox_labeled("c2pa", &[bx(b"json", b"{}")]);
        let mut trailing = store.clone();
        trailing.extend_from_slice(b"hidden");
        assert!(check_store(&trailing).is_err());
        let mut long = store.clone();
        long[3] += 4;
        assert!(check_store(&long).is_err());
        assert!(check_store(&superbox_labeled("xyz", &[])).is_err());
        assert!(check_store(b"").is_err());
        assert!(check_store(&bx(b"json", b"{}")).is_err());
        // A content box whose size runs past its superbox.
        let mut inner = superbox_labeled("c2pa", &[bx(b"json", b"{}")]);
        let n = inner.len();
        inner[n - 10 + 3] = 200;
        assert!(check_store(&inner).is_err());
    }

    #[test]
    fn geob_and_app11_stores_are_extracted() {
        let mut geob = vec![0u8];
        geob.extend_from_slice(b"application/c2pa\0c2pa\0c2pa manifest store\0STORE");
        assert_eq!(geob_store(&geob), Some(&b"STORE"[..]));
        let mut other = vec![0u8];
        other.extend_from_slice(b"image/png\0a\0b\0DATA");
        assert_eq!(geob_store(&other), None);

        let store = superbox_labeled("c2pa", &[bx(b"json", &[7u8; 40])]);
        let (a, b) = store.split_at(30);
        let seg = |z: u32, body: &[u8]| {
            let mut p = b"JP\x00\x01".to_vec();
            p.extend_from_slice(&z.to_be_bytes());
            if z > 1 {
                p.extend_from_slice(&store[..8]);
            }
            p.extend_from_slice(body);
            p
        };
        let (s1, s2) = (seg(1, a), seg(2, b));
        assert_eq!(jpeg_xt_store([&s1[..], &s2[..]]), Some(store.clone()));
        assert_eq!(jpeg_xt_store([&s2[..], &s1[..]]), None);
    }
}
