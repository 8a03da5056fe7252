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
#![warn(missing_docs)]

// The facade: what a user names. Everything else is private and may change in any release.
pub mod audio;
pub mod batch;
pub mod findings;
pub mod io;
pub mod report;
pub mod seal;
#[cfg(feature = "sm")]
pub mod sm;
pub mod text;
pub mod timestamp;
pub mod trust;
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
pub use format::{CarrierChoice, ExplicitOptions, Format, Placement, unsupported_reason};
pub use formats::image::encode_image;
#[cfg(feature = "c2pa")]
pub use keygen::{C2paTestFiles, keygen_c2pa};
pub use keygen::{KeyFiles, keygen};
pub use keys::PublicKey;
pub use keys::Signer;
pub use label::{LabelKind, LabelRecord, check_value as check_label_value};
pub use labeler::{
    LabelOptions, Labeled, PropagateOptions, Watermarked, embed_watermark, embed_watermark_owned,
    label, label_owned, propagate,
};
pub use limits::Limits;
pub use report::{Finding, Report, Severity, Verdict};
pub use signer::{Algorithm as SignatureAlgorithm, CommandSigner, SignatureProvider};
pub use timestamp::{TimestampReport, TimestampStatus, TsaRequest, TsaTrust};
pub use trust::TrustStore;
pub use verifier::{
    InspectedCarrier, Inspection, VerifyOptions, detect_watermark, inspect, verify, verify_file,
};

mod c2pa;
mod error;
mod keygen;
mod labeler;
mod limits;
mod signer;
mod util;
mod verifier;

// Not part of the API and without a stability promise: the parsers and building blocks behind
// the facade, hidden from the documentation and reachable only so that this repository's
// integration tests, fuzz targets and `eval` harnesses can test them from outside.
#[doc(hidden)]
pub mod binding;
#[doc(hidden)]
pub mod format;
#[doc(hidden)]
pub mod formats;
#[doc(hidden)]
pub mod fuzzing;
#[doc(hidden)]
pub mod keys;
#[doc(hidden)]
pub mod label;
