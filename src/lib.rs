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
pub mod signer;
#[cfg(feature = "sm")]
pub mod sm;
pub mod timestamp;
pub mod trust;
mod util;
mod verifier;
pub mod watermark;

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
pub use signer::{CommandSigner, SignatureProvider};
pub use trust::TrustStore;
pub use verifier::{Inspection, VerifyOptions, inspect, verify, verify_file};
