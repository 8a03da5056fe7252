//! The verification report: one value per file, serialisable to JSON.
//!
//! Tools match on stable strings: the `verdict`, each `status`, and each finding's `code`
//! (`area.what`, e.g. `seal.signature_invalid`). Sentences are for people and may change.

use serde::Serialize;

use crate::c2pa::C2paReport;
pub use crate::format::{
    Declaration, DeclarationKind, ExplicitKind, ExplicitMark, WatermarkCheck, WatermarkFound,
};
use crate::label::LabelRecord;

pub use crate::findings::{Finding, Severity};

/// What the file is, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verdict {
    /// A label whose seal is valid, from a trusted key, and matches the content.
    LabeledIntact,
    /// A GB 45438 label without a seal: a claim nobody can check.
    LabeledUnsigned,
    /// A valid seal from a trusted key, but the content changed since labeling.
    Altered,
    /// A valid seal from a key the verifier does not trust (or outside its validity window).
    Untrusted,
    /// A seal whose signature does not verify: the label was edited or made up.
    Forged,
    /// Labels in the file contradict each other (two records, or watermark vs. label).
    Conflicting,
    /// No metadata label, but the watermark was found.
    WatermarkOnly,
    /// No GB 45438 label or watermark, but a C2PA manifest whose signature and hard binding
    /// verify declares the content AI-generated.
    C2paOnly,
    /// No metadata label or watermark, but an explicit (visible/audible) label was found.
    ExplicitOnly,
    /// No label of any kind.
    Unlabeled,
    /// The file could not be read.
    Error,
}

impl Verdict {
    /// Every verdict, most serious first within each exit class.
    pub const ALL: [Verdict; 11] = [
        Verdict::LabeledIntact,
        Verdict::LabeledUnsigned,
        Verdict::WatermarkOnly,
        Verdict::C2paOnly,
        Verdict::ExplicitOnly,
        Verdict::Unlabeled,
        Verdict::Conflicting,
        Verdict::Forged,
        Verdict::Untrusted,
        Verdict::Altered,
        Verdict::Error,
    ];

    /// The verdict's stable name, as in JSON (`labeled_intact`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::LabeledIntact => "labeled_intact",
            Verdict::LabeledUnsigned => "labeled_unsigned",
            Verdict::Altered => "altered",
            Verdict::Untrusted => "untrusted",
            Verdict::Forged => "forged",
            Verdict::Conflicting => "conflicting",
            Verdict::WatermarkOnly => "watermark_only",
            Verdict::C2paOnly => "c2pa_only",
            Verdict::ExplicitOnly => "explicit_only",
            Verdict::Unlabeled => "unlabeled",
            Verdict::Error => "error",
        }
    }

    /// A sentence for people.
    pub fn describe(self) -> &'static str {
        match self {
            Verdict::LabeledIntact => {
                "labeled as AI-generated; seal valid and trusted; content unchanged"
            }
            Verdict::LabeledUnsigned => {
                "labeled as AI-generated, but the label carries no seal to check"
            }
            Verdict::Altered => "labeled, but the content was altered after labeling",
            Verdict::Untrusted => "labeled with a valid seal from a key that is not trusted",
            Verdict::Forged => "label present but its seal does not verify (forged or edited)",
            Verdict::Conflicting => "the labels in this file contradict each other",
            Verdict::WatermarkOnly => {
                "metadata label missing, but the AI-generated watermark was found"
            }
            Verdict::C2paOnly => {
                "no GB 45438 label, but a sound C2PA manifest declares the content AI-generated"
            }
            Verdict::ExplicitOnly => "only an explicit (visible or audible) label was found",
            Verdict::Unlabeled => "no AI-generated label found",
            Verdict::Error => "the file could not be verified",
        }
    }

    /// The process exit code class: 0 intact, 1 not verifiably labeled, 2 bad label, 3 error.
    pub fn exit_class(self) -> u8 {
        match self {
            Verdict::LabeledIntact => 0,
            Verdict::LabeledUnsigned
            | Verdict::WatermarkOnly
            | Verdict::C2paOnly
            | Verdict::ExplicitOnly
            | Verdict::Unlabeled => 1,
            Verdict::Altered | Verdict::Untrusted | Verdict::Forged | Verdict::Conflicting => 2,
            Verdict::Error => 3,
        }
    }
}

/// State of a seal (provider's `ReservedCode1` or platform's `ReservedCode2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SignatureStatus {
    /// The seal verifies and its key is trusted for this use.
    Valid,
    /// The seal is damaged or its signature does not verify.
    Invalid,
    /// The signature verifies, but the key is not trusted for this use (unknown, outside its window, revoked, another role or owner).
    Untrusted,
    /// There is no seal.
    Absent,
}

/// State of an RFC 3161 timestamp token over the provider's seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimestampStatus {
    /// Signed by a trusted authority, over this seal's signature.
    Valid,
    /// Damaged, or its signature does not verify.
    Invalid,
    /// Well signed, but over another signature than this seal's.
    Mismatch,
    /// Well signed, by an authority that does not chain to a trusted certificate.
    Untrusted,
    /// No token.
    Absent,
}

/// The `timestamp` field of a report: what a timestamp authority vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimestampReport {
    /// Whether the token holds and covers this seal.
    pub status: TimestampStatus,
    /// The time the authority vouches for (RFC 3339, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// The authority's certificate subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// Why a token is not valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The check of one seal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignatureReport {
    /// Whether the seal verifies and its key is trusted.
    pub status: SignatureStatus,
    /// Short id of the signing key (hex), when a seal was parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Who the trust store says the key belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Signing time from the seal (RFC 3339, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<String>,
}

impl SignatureReport {
    /// The part of a report for a label without a seal.
    pub fn absent() -> Self {
        SignatureReport {
            status: SignatureStatus::Absent,
            key_id: None,
            owner: None,
            signed_at: None,
        }
    }
}

/// State of the content binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum BindingStatus {
    /// The content's digest is the sealed one.
    Match,
    /// The content changed since sealing.
    Mismatch,
    /// There is no seal to compare with.
    Absent,
}

/// The content binding check: the sealed digest against the one computed now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BindingReport {
    /// Whether the content still matches the sealed digest.
    pub status: BindingStatus,
    /// Digest recorded in the seal (base64url).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sealed: Option<String>,
    /// Digest of the content as it is now (base64url).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computed: Option<String>,
}

/// The platform countersignature, when present.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropagationReport {
    /// The platform's countersignature (`ReservedCode2`).
    pub signature: SignatureReport,
    /// Whether the content still matches what the platform sealed.
    pub binding: BindingReport,
}

/// Everything verify found out about one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The file's path, when verified from a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `png`, `jpeg`, `webp`, `wav`, `mp3`, `flac`, `ogg`, `text`, `markdown`, or `unknown`.
    pub format: String,
    /// What the file is, in one word; see [`Verdict`].
    pub verdict: Verdict,
    /// The label fields found, keyed by their Annex E names; null when none.
    pub label: Option<LabelRecord>,
    /// The provider's seal (`ReservedCode1`).
    pub signature: SignatureReport,
    /// The RFC 3161 timestamp token over the provider's seal, when the file (or the caller)
    /// gives one; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<TimestampReport>,
    /// Whether the content still matches what the provider sealed.
    pub binding: BindingReport,
    /// The platform's countersignature (`ReservedCode2`), when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagation: Option<PropagationReport>,
    /// The watermark search's result, and whether it agrees with the label.
    pub watermark: WatermarkCheck,
    /// Explicit (visible or audible) labels found.
    pub explicit: Vec<ExplicitMark>,
    /// Other AI declarations found (IPTC DigitalSourceType, a C2PA manifest).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub declarations: Vec<Declaration>,
    /// The C2PA manifest, as validated (`absent` when the file has none).
    pub c2pa: C2paReport,
    /// Everything noticed, with stable codes (see [`crate::findings`]).
    pub findings: Vec<Finding>,
}

impl Report {
    /// A report for a file that could not be read at all.
    pub fn error(path: Option<String>, format: &str, finding: Finding) -> Self {
        Report {
            path,
            format: format.to_string(),
            verdict: Verdict::Error,
            label: None,
            signature: SignatureReport::absent(),
            timestamp: None,
            binding: BindingReport {
                status: BindingStatus::Absent,
                sealed: None,
                computed: None,
            },
            propagation: None,
            watermark: WatermarkCheck::NotChecked,
            explicit: Vec::new(),
            declarations: Vec::new(),
            c2pa: C2paReport::absent(),
            findings: vec![finding],
        }
    }

    /// The verdict in a sentence for people, following what the label claims: `Label` "2" is
    /// "possibly AI-generated", a `Label` outside "1"/"2"/"3" is named as such, and a file with
    /// only another AI declaration (IPTC, C2PA) says so instead of "no label".
    pub fn headline(&self) -> String {
        use crate::format::DeclarationKind;
        let claim = match self.label.as_ref().map(|l| (l.kind(), l.label.as_deref())) {
            Some((Some(kind), _)) => format!("labeled as {}", kind.describe()),
            Some((None, Some(v))) => format!(
                "labeled with Label {v:?}, which GB 45438 does not define (\"1\", \"2\" or \"3\")"
            ),
            Some((None, None)) => "labeled without a Label value".to_string(),
            None => String::new(),
        };
        match self.verdict {
            Verdict::LabeledIntact => {
                format!("{claim}; seal valid and trusted; content unchanged")
            }
            Verdict::LabeledUnsigned => {
                format!("{claim}, but the label carries no seal to check")
            }
            Verdict::Altered => format!("{claim}, but the content was altered after labeling"),
            Verdict::Untrusted => {
                format!("{claim}, with a valid seal from a key that is not trusted")
            }
            Verdict::Unlabeled => {
                let ai = self.declarations.iter().find(|d| d.ai_generated);
                let c2pa = self
                    .declarations
                    .iter()
                    .any(|d| d.kind == DeclarationKind::C2paManifest);
                match (ai, c2pa) {
                    (Some(d), _) => format!(
                        "no GB 45438 label, but declared AI-generated by {}",
                        match d.kind {
                            DeclarationKind::IptcDigitalSourceType => "IPTC DigitalSourceType",
                            DeclarationKind::C2paManifest => "a C2PA manifest",
                        }
                    ),
                    (None, true) => {
                        "no GB 45438 label; a C2PA manifest is present (not validated)".into()
                    }
                    (None, false) => self.verdict.describe().to_string(),
                }
            }
            v => v.describe().to_string(),
        }
    }

    /// True when any finding has the given code.
    pub fn has_finding(&self, code: &str) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }
}

#[cfg(test)]
mod verdict_tests {
    use super::Verdict;

    #[test]
    fn all_lists_every_verdict_once() {
        // No wildcard: a new verdict does not compile here until it has a number, and a number
        // past the end of `ALL` fails below until `ALL` lists it.
        let number = |v: Verdict| match v {
            Verdict::LabeledIntact => 0,
            Verdict::LabeledUnsigned => 1,
            Verdict::Altered => 2,
            Verdict::Untrusted => 3,
            Verdict::Forged => 4,
            Verdict::Conflicting => 5,
            Verdict::WatermarkOnly => 6,
            Verdict::C2paOnly => 7,
            Verdict::ExplicitOnly => 8,
            Verdict::Unlabeled => 9,
            Verdict::Error => 10,
        };
        let mut seen = [false; Verdict::ALL.len()];
        for v in Verdict::ALL {
            assert!(
                !std::mem::replace(&mut seen[number(v)], true),
                "{v:?} twice"
            );
        }
        assert!(seen.iter().all(|&s| s));
    }
}
