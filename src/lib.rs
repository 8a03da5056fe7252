//! aigcmark puts signed "AI-generated" labels into text, images and audio, and checks them.
//!
//! One call labels what a generation service produced ([`label()`]); one call tells a verifier what
//! a file claims and whether the claim holds ([`verify`]). A label is the GB 45438-2025 Annex E
//! metadata record, sealed with Ed25519 ([`seal`]) and bound to the content by a digest
//! ([`binding`]); a watermark and an explicit label carry it where metadata is lost.
//!
//! ```
//! use aigcmark::{Format, LabelOptions, Signer, TrustStore, VerifyOptions, Verdict};
//! use aigcmark::trust::Role;
//!
//! let signer = Signer::generate();
//! let opts = LabelOptions::new("001191000000MA00DEMO0X10000");
//! let out = aigcmark::label("A poem about the sea.".as_bytes(), Format::Text, &signer, &opts).unwrap();
//!
//! let mut trust = TrustStore::new();
//! trust.add(TrustStore::entry_for(&signer.public_key(), "001191000000MA00DEMO0X10000", Role::Provider)).unwrap();
//! let report = aigcmark::verify(&out.bytes, Format::Text, &VerifyOptions::new(trust));
//! assert_eq!(report.verdict, Verdict::LabeledIntact);
//! ```
#![forbid(unsafe_code)]

pub mod batch;
pub mod binding;
mod c2pa;
pub mod error;
pub mod findings;
pub mod format;
pub mod formats;
#[doc(hidden)]
pub mod fuzzing;
pub mod io;
pub mod keys;
pub mod label;
mod labeler;
pub mod limits;
pub mod report;
pub mod seal;
pub mod trust;
mod util;
mod verifier;
pub mod watermark;

/// Adds a signed C2PA manifest to labeled bytes (what `label` does with `LabelOptions::c2pa`).
#[cfg(feature = "c2pa")]
pub use self::c2pa::sdk::embed as c2pa_embed;
/// Reads and validates a file's C2PA manifest (what `verify` reports under `c2pa`).
#[cfg(feature = "c2pa")]
pub use self::c2pa::sdk::read as c2pa_read;
/// A fresh TEST ONLY C2PA certificate chain (what `keygen --c2pa` writes).
#[cfg(feature = "c2pa")]
pub use self::c2pa::sdk::test_certificates as c2pa_test_certificates;
#[cfg(feature = "c2pa")]
pub use self::c2pa::sdk::{C2paSigner, TestCertificates};
/// C2PA Content Credentials beside the GB label: the report field and, with feature `c2pa`,
/// signing and the test certificate chain.
pub use self::c2pa::{C2paReport, C2paStatus, SoftBindingInfo};
pub use error::{Error, Result};
pub use format::{ExplicitOptions, Format, Placement};
/// The PCM API for speech and music services: label samples before your own encoder.
pub use formats::audio;
/// Labeling text in memory and as it streams (a chat response token by token).
pub use formats::text;
pub use keys::Signer;
pub use label::{LabelKind, LabelRecord};
pub use labeler::{LabelOptions, Labeled, PropagateOptions, label, propagate};
pub use limits::Limits;
pub use report::{Finding, Report, Severity, Verdict};
pub use trust::TrustStore;
pub use verifier::{Inspection, VerifyOptions, inspect, verify, verify_file};
