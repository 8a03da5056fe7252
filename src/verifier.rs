//! Verification (what a file claims and whether the claim holds) and inspection (what is there).
//!
//! The format's scan gives carriers, digest, explicit labels and watermark; here the records are
//! parsed, duplicates compared, seals checked against the trust store, the binding compared, the
//! watermark matched against the label, and one [`Verdict`] chosen. Precedence, most serious
//! first: conflicting, forged, untrusted, altered, intact; without a label: watermark only,
//! explicit only, unlabeled.

use std::path::Path;

use serde::Serialize;

use crate::binding;
use crate::c2pa::{C2paReport, C2paStatus};
use crate::format::{
    CarrierKind, ExplicitMark, Format, Handler, Scan, ScanOptions, WatermarkCheck,
};
use crate::formats;
use crate::io::read_limited;
use crate::label::LabelRecord;
use crate::limits::Limits;
use crate::report::TimestampStatus;
use crate::report::{
    BindingReport, BindingStatus, Finding, PropagationReport, Report, Severity, SignatureReport,
    SignatureStatus, Verdict,
};
use crate::seal::{Seal, SealError};
use crate::timestamp::{self, TimestampReport, TsaTrust};
use crate::trust::{Role, TrustDecision, TrustStore, format_time};
use crate::watermark::{Payload, WatermarkKey, producer_tag};

/// How to verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The keys whose seals count, with their owners, roles and validity windows.
    pub trust: TrustStore,
    /// Look for the watermark with this key (default: the public aigcmark key); `None` skips it.
    pub watermark_key: Option<WatermarkKey>,
    /// Resource limits for reading the input.
    pub limits: Limits,
    /// Trust anchors (PEM certificates) for C2PA manifests; `None` trusts no C2PA signer (a
    /// sound manifest is then `untrusted`).
    pub c2pa_trust: Option<String>,
    /// Certificates trusted to issue RFC 3161 timestamp tokens; `None` trusts no authority (a
    /// token is then `untrusted` and the seal is judged by its own time, as without one).
    pub tsa_trust: Option<TsaTrust>,
    /// A timestamp token given beside the file (plain text and Markdown keep theirs in a
    /// sidecar, `OUT.tsr`); it takes the place of any token in the file.
    pub tsa_token: Option<Vec<u8>>,
}

impl VerifyOptions {
    /// Options with this trust store, the public watermark key and the default limits.
    pub fn new(trust: TrustStore) -> Self {
        VerifyOptions {
            trust,
            watermark_key: Some(WatermarkKey::public_default()),
            limits: Limits::default(),
            c2pa_trust: None,
            tsa_trust: None,
            tsa_token: None,
        }
    }
}

/// Verifies a file on disk; any failure to read it becomes a report with verdict `error`.
pub fn verify_file(path: &Path, opts: &VerifyOptions) -> Report {
    let shown = Some(path.display().to_string());
    let bytes = match read_limited(path, opts.limits.max_file_bytes) {
        Ok(b) => b,
        Err(e) => {
            return Report::error(
                shown,
                "unknown",
                Finding::error("file.unreadable", e.to_string()),
            );
        }
    };
    let head = &bytes[..bytes.len().min(64)];
    let Some(format) = Format::detect(Some(path), head) else {
        return Report::error(
            shown,
            "unknown",
            Finding::error(
                "file.unsupported",
                crate::format::unsupported_reason(Some(path), &bytes),
            ),
        );
    };
    let mut report = verify(&bytes, format, opts);
    report.path = shown;
    report
}

/// Looks for the watermark alone (no label checks): what `aigcmark watermark detect` does.
/// Formats without a watermark give [`WatermarkCheck::NotChecked`].
pub fn detect_watermark(
    input: &[u8],
    format: Format,
    key: &WatermarkKey,
    limits: &Limits,
) -> crate::error::Result<WatermarkCheck> {
    let scan = formats::handler(format)?.scan(
        input,
        &ScanOptions {
            limits,
            watermark_key: Some(key),
            explicit: true,
        },
    )?;
    Ok(scan.watermark.unwrap_or(WatermarkCheck::NotChecked))
}

/// Verifies content in memory.
pub fn verify(input: &[u8], format: Format, opts: &VerifyOptions) -> Report {
    let handler = match formats::handler(format) {
        Ok(h) => h,
        Err(e) => {
            return Report::error(
                None,
                format.name(),
                Finding::error("file.unsupported", e.to_string()),
            );
        }
    };
    let scan = match handler.scan(
        input,
        &ScanOptions {
            limits: &opts.limits,
            watermark_key: opts.watermark_key.as_ref(),
            explicit: true,
        },
    ) {
        Ok(s) => s,
        Err(e) => {
            return Report::error(
                None,
                format.name(),
                Finding::error("file.unreadable", e.to_string()),
            );
        }
    };
    Checker {
        input,
        format,
        handler,
        opts,
    }
    .run(scan)
}

struct Checker<'a> {
    input: &'a [u8],
    format: Format,
    handler: &'a dyn Handler,
    opts: &'a VerifyOptions,
}

/// The typed evidence a verdict is decided from (see [`decide`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Evidence {
    /// A GB 45438 label record was read.
    pub label: bool,
    /// Something in the file contradicts the label: carriers that differ, a watermark that names
    /// other content, a sealed record another reader could read differently.
    pub contradiction: bool,
    /// The provider's seal (`ReservedCode1`).
    pub provider: SignatureStatus,
    /// The provider's binding: the content is what it sealed.
    pub provider_binding: BindingStatus,
    /// The platform's countersignature is valid, trusted and covers the content as it is now.
    pub platform_vouches: bool,
    /// Some finding has error severity (a damaged container, an unreadable second carrier, bytes
    /// outside the binding a decoder could render, …).
    pub error_findings: bool,
    /// A watermark was detected.
    pub watermark: bool,
    /// An explicit label (prompt, visible mark, rhythm) was found.
    pub explicit: bool,
    /// What a C2PA manifest whose signature and hard binding verify says.
    pub c2pa: C2paFact,
}

/// What a sound C2PA manifest (signature and hard binding verified, trusted or not) says about
/// the file, as one typed fact for [`decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum C2paFact {
    /// No sound manifest, or one that makes no AI statement and names no label or watermark.
    Silent,
    /// It declares the content AI-generated and agrees with the GB label and watermark found.
    DeclaresAi,
    /// It disagrees with the GB label (producer, ProduceID, AI or not) or the watermark.
    Disagrees,
}

/// The verdict, from the evidence; the README's precedence table, most serious first:
/// conflicting, forged, untrusted, (unsigned), altered, intact; without a label: watermark
/// only, C2PA only, explicit only, unlabeled. A sound C2PA manifest that disagrees with the
/// label or the watermark makes the file conflicting. `labeled_intact` needs a valid, trusted provider seal, content
/// vouched for (by the provider's binding, or a trusted platform's after a platform re-encode)
/// and no error finding at all. A platform's countersignature can only add the vouching; an
/// untrusted or broken one is reported, never held against the provider's label.
pub(crate) fn decide(e: &Evidence) -> Verdict {
    if !e.label {
        return if e.watermark {
            Verdict::WatermarkOnly
        } else if e.c2pa == C2paFact::DeclaresAi {
            Verdict::C2paOnly
        } else if e.explicit {
            Verdict::ExplicitOnly
        } else {
            Verdict::Unlabeled
        };
    }
    if e.contradiction || e.c2pa == C2paFact::Disagrees {
        return Verdict::Conflicting;
    }
    match e.provider {
        SignatureStatus::Invalid => return Verdict::Forged,
        SignatureStatus::Untrusted => return Verdict::Untrusted,
        SignatureStatus::Absent => return Verdict::LabeledUnsigned,
        SignatureStatus::Valid => {}
    }
    let vouched = e.provider_binding == BindingStatus::Match || e.platform_vouches;
    if vouched && !e.error_findings {
        Verdict::LabeledIntact
    } else {
        Verdict::Altered
    }
}

/// How far in the future a seal's signing time may lie (clock skew between the signer and the
/// verifier). Beyond it the time is not believed, and a key's `not_after` could not retire a
/// stolen key whose thief dates seals ahead, so the seal is untrusted.
pub const MAX_CLOCK_SKEW_SECS: u64 = 600;

impl Checker<'_> {
    /// One file, in the order of the README's precedence table: the carriers, the provider's
    /// seal and binding, the watermark, the platform's countersignature, the explicit label;
    /// then [`decide`] on what they showed.
    fn run(&self, scan: Scan) -> Report {
        let mut findings = scan.findings;
        let records = parse_carriers(
            &scan.carriers,
            self.opts.limits.max_nesting_depth,
            &mut findings,
        );
        let mut contradiction = self.check_carriers(&scan.carriers, &records, &mut findings);
        let computed = scan.digest;
        let mut watermark = scan.watermark.unwrap_or(WatermarkCheck::NotChecked);
        let mut explicit = scan.explicit;
        let mut report = Report {
            path: None,
            format: self.format.name().to_string(),
            verdict: Verdict::Unlabeled,
            label: records.first().map(|r| r.0.clone()),
            signature: SignatureReport::absent(),
            timestamp: None,
            binding: unbound(computed),
            propagation: None,
            watermark: WatermarkCheck::NotChecked,
            explicit: Vec::new(),
            declarations: scan.declarations,
            c2pa: C2paReport::absent(),
            findings: Vec::new(),
        };

        report.c2pa = self.read_c2pa(&mut report.declarations);
        let Some((record, _, _)) = records.first() else {
            if let WatermarkCheck::Detected(found) = &watermark {
                self.name_watermark_producer(found.producer_tag, &mut findings);
            }
            self.note_declarations(&report.declarations, &mut findings);
            let c2pa = if report.c2pa.sound() && report.c2pa.declares_ai() {
                C2paFact::DeclaresAi
            } else {
                C2paFact::Silent
            };
            report.verdict = decide(&Evidence {
                label: false,
                contradiction: false,
                provider: SignatureStatus::Absent,
                provider_binding: BindingStatus::Absent,
                platform_vouches: false,
                error_findings: false,
                watermark: matches!(watermark, WatermarkCheck::Detected(_)),
                explicit: !explicit.is_empty(),
                c2pa,
            });
            report.watermark = watermark;
            report.explicit = explicit;
            report.findings = findings;
            return report;
        };

        // The provider's seal.
        let provider = record.reserved_code1.as_deref().map(Seal::parse);
        let vouched_at = match &provider {
            Some(Ok(seal)) => {
                let (stamp, at) = self.check_timestamp(seal, &mut findings);
                report.timestamp = stamp;
                at
            }
            _ => None,
        };
        let (signature, seal) =
            self.check_seal(provider, record, Role::Provider, vouched_at, &mut findings);
        report.signature = signature;
        if let Some(seal) = &seal {
            report.binding = self.check_binding(seal, computed, "binding", &mut findings);
            if let Some(ex) = &seal.explicit {
                self.check_sealed_explicit(ex, &mut explicit, &mut findings);
            }
        }
        contradiction |= self.check_watermark(
            &mut watermark,
            seal.as_ref(),
            record,
            report.binding.status,
            &mut findings,
        );
        let (propagation, platform_vouches) =
            self.check_propagation(record, computed, &mut findings);
        report.propagation = propagation;
        if platform_vouches
            && report.signature.status == SignatureStatus::Valid
            && report.binding.status != BindingStatus::Match
        {
            // The platform's re-encode explains the provider's binding mismatch: it is not an
            // error any more, only a fact worth knowing.
            for f in findings.iter_mut().filter(|f| f.code == "binding.mismatch") {
                f.severity = Severity::Info;
            }
            findings.push(Finding::info(
                "binding.changed_by_platform",
                "the content changed after the provider sealed it, and the platform's valid \
                 countersignature covers the content as it is now",
            ));
        }
        if self.format.can_carry_explicit_mark() && explicit.is_empty() {
            findings.push(Finding::info(
                "explicit.absent",
                "no explicit (visible or audible) label was found; GB 45438 asks for one where \
                 the content is shown to people, unless the service shows it in its interface",
            ));
        }

        let c2pa = self.judge_c2pa(&mut report.c2pa, record, &watermark, &mut findings);
        let evidence = Evidence {
            label: true,
            contradiction,
            provider: report.signature.status,
            provider_binding: report.binding.status,
            platform_vouches,
            error_findings: findings.iter().any(|f| f.severity == Severity::Error),
            watermark: matches!(watermark, WatermarkCheck::Detected(_)),
            explicit: !explicit.is_empty(),
            c2pa,
        };
        report.verdict = decide(&evidence);
        if report.verdict == Verdict::Altered && evidence.provider_binding == BindingStatus::Match {
            findings.push(Finding::error(
                "file.damaged",
                "the content digest matches, but the file's structure was damaged or changed \
                 after labeling (see the findings above)",
            ));
        }
        report.watermark = watermark;
        report.explicit = explicit;
        report.findings = findings;
        report
    }

    /// How many labels the file holds and whether they agree; a sealed record not in strict
    /// form. Returns whether the carriers contradict each other.
    fn check_carriers(
        &self,
        carriers: &[crate::format::Carrier],
        records: &[(LabelRecord, Vec<String>, bool)],
        findings: &mut Vec<Finding>,
    ) -> bool {
        let mut contradiction = false;
        // Markdown carries its front matter label and the same record invisibly in the body (so
        // the label survives a copy of the text alone): one metadata label, by design.
        let metadata_carriers = carriers
            .iter()
            .filter(|c| c.kind == CarrierKind::Metadata)
            .count();
        if records.len() > 1 {
            let same = records.iter().all(|r| r.0 == records[0].0);
            if same && metadata_carriers <= 1 {
                findings.push(Finding::info(
                    "label.in_text_copy",
                    "the front matter label is repeated invisibly in the body, as written",
                ));
            } else if same {
                findings.push(Finding::warning(
                    "label.duplicate",
                    format!(
                        "{} carriers hold the same label; GB 45438 checkers expect exactly one",
                        records.len()
                    ),
                ));
            } else {
                contradiction = true;
                findings.push(Finding::error(
                    "label.conflict",
                    format!("{} carriers hold labels that differ", records.len()),
                ));
            }
        }
        for (record, strict, mixed) in records {
            // Sealed in this scheme: a foreign scheme's ReservedCode (another vendor's hash)
            // keeps the tolerant reading.
            let ours = |rc: &Option<String>| {
                rc.as_deref()
                    .is_some_and(|v| !matches!(Seal::parse(v), Err(SealError::Foreign)))
            };
            let sealed = ours(&record.reserved_code1) || ours(&record.reserved_code2);
            if (sealed || *mixed) && !strict.is_empty() {
                contradiction = true;
                findings.push(Finding::error(
                    "label.ambiguous",
                    format!(
                        "a sealed label must hold exactly the seven Annex E keys, each once, as \
                         strings; this one does not ({}), so another reader may see another \
                         label than the one sealed",
                        strict.join("; ")
                    ),
                ));
            }
        }
        contradiction
    }

    /// The watermark against the label: a found mark that disagrees with a sealed label
    /// contradicts it (unless the content is exactly what was sealed: then it was misread; or
    /// its producer tag names no producer known here: then its payload was misread from a weak
    /// mark); a recorded mark that is missing is worth a warning. Returns whether they
    /// contradict.
    fn check_watermark(
        &self,
        watermark: &mut WatermarkCheck,
        seal: Option<&Seal>,
        record: &LabelRecord,
        binding: BindingStatus,
        findings: &mut Vec<Finding>,
    ) -> bool {
        let sealed_id = seal.and_then(|s| s.watermark_id.as_deref());
        match watermark {
            WatermarkCheck::Detected(found) => {
                let agrees = self.watermark_agrees(found, sealed_id, record, findings);
                found.agrees_with_label = Some(agrees);
                if seal.is_none() || agrees {
                    return false;
                }
                if binding == BindingStatus::Match {
                    // The content is exactly what was sealed, so the mark in it is the sealed
                    // one: a different reading is a read error, not a contradiction.
                    findings.push(Finding::warning(
                        "watermark.misread",
                        format!(
                            "the watermark was read as {}, not the sealed {}; the content is \
                             unchanged since sealing, so the payload was misread",
                            found.payload.id(),
                            sealed_id.unwrap_or("(none)")
                        ),
                    ));
                    return false;
                }
                if !self.names_known_producer(found.producer_tag, record) {
                    // A payload read from a weak mark (a deep crop, strong compression) can be
                    // wrong in most bits; its producer tag is then 16 random bits, which name
                    // none of the few producers a verifier knows (odds ~k/65 536). Another
                    // producer's real mark names its producer: only that is a contradiction.
                    findings.push(Finding::warning(
                        "watermark.unidentified",
                        format!(
                            "the watermark was read as {}, which is neither the sealed {} nor \
                             a mark of any producer this verifier trusts; a mark too weakened to \
                             read its payload gives this, so it is not taken as another \
                             content's mark",
                            found.payload.id(),
                            sealed_id.unwrap_or("(none)")
                        ),
                    ));
                    return false;
                }
                findings.push(Finding::error(
                    "watermark.mismatch",
                    format!(
                        "the watermark ({}) does not agree with the sealed label",
                        found.payload.id()
                    ),
                ));
                true
            }
            WatermarkCheck::Absent => {
                if let Some(id) = sealed_id {
                    findings.push(Finding::warning(
                        "watermark.missing",
                        format!(
                            "the seal records watermark {id}, but it was not found in the content"
                        ),
                    ));
                }
                false
            }
            _ => false,
        }
    }

    /// The platform's countersignature: it can vouch for content a platform re-encoded; an
    /// untrusted or broken one is reported and changes nothing about the provider's label.
    /// Returns the report part and whether the platform vouches for the content as it is.
    fn check_propagation(
        &self,
        record: &LabelRecord,
        computed: Option<[u8; 32]>,
        findings: &mut Vec<Finding>,
    ) -> (Option<PropagationReport>, bool) {
        let Some(rc2) = record.reserved_code2.as_deref() else {
            if record.content_propagator.is_some() || record.propagate_id.is_some() {
                findings.push(Finding::warning(
                    "propagation.unvouched",
                    "the label names a ContentPropagator or PropagateID, but no platform \
                     countersignature (ReservedCode2) vouches for them",
                ));
            }
            return (None, false);
        };
        let (signature, seal) = self.check_seal(
            Some(Seal::parse(rc2)),
            record,
            Role::Platform,
            None,
            findings,
        );
        let binding = match &seal {
            Some(s) => self.check_binding(s, computed, "propagation.binding", findings),
            None => unbound(computed),
        };
        let vouches =
            signature.status == SignatureStatus::Valid && binding.status == BindingStatus::Match;
        (Some(PropagationReport { signature, binding }), vouches)
    }

    /// Compares the explicit label the seal records with the content.
    fn check_sealed_explicit(
        &self,
        record: &str,
        explicit: &mut Vec<ExplicitMark>,
        findings: &mut Vec<Finding>,
    ) {
        let marks = self
            .handler
            .check_explicit(self.input, record, &self.opts.limits);
        if marks.is_empty() {
            findings.push(Finding::info(
                "explicit.not_checked",
                "the seal records an explicit label this format cannot check",
            ));
        }
        for mark in marks {
            if mark.intact.is_none() {
                findings.push(Finding::info(
                    "explicit.not_checked",
                    format!(
                        "the explicit label recorded in the seal ({}) could not be checked",
                        mark.location
                    ),
                ));
            }
            if mark.intact == Some(false) {
                findings.push(Finding::error(
                    "explicit.removed",
                    format!(
                        "the explicit label recorded in the seal ({}) is no longer intact",
                        mark.location
                    ),
                ));
            }
            explicit.retain(|m| m.kind != mark.kind || m.location != mark.location);
            explicit.push(mark);
        }
    }

    /// Whether a found watermark agrees with the label: with the sealed id when there is one
    /// (a few misread bits allowed), else with the tags of the label's producer and ProduceID.
    fn watermark_agrees(
        &self,
        found: &crate::format::WatermarkFound,
        sealed_id: Option<&str>,
        record: &LabelRecord,
        findings: &mut Vec<Finding>,
    ) -> bool {
        match sealed_id {
            Some(id) => {
                match Payload::from_id(id).map(|sealed| payload_distance(sealed, found.payload)) {
                    Some(0) => true,
                    Some(d) if d <= MAX_PAYLOAD_ERRORS => {
                        findings.push(Finding::info(
                            "watermark.payload_errors",
                            format!(
                                "the watermark's payload was read with {d} of 64 bits in error; \
                             it still identifies the sealed watermark {id}"
                            ),
                        ));
                        true
                    }
                    _ => false,
                }
            }
            None => found.payload.matches_label(
                record.content_producer.as_deref().unwrap_or(""),
                record.produce_id.as_deref().unwrap_or(""),
            ),
        }
    }

    /// Validates the C2PA manifest when the scan found a store (the crate is not run on files
    /// without one, so verifying them costs nothing more); fills the C2PA declarations' values.
    fn read_c2pa(&self, declarations: &mut [crate::format::Declaration]) -> C2paReport {
        let present = declarations
            .iter()
            .any(|d| d.kind == crate::format::DeclarationKind::C2paManifest);
        if !present {
            return C2paReport::absent();
        }
        #[cfg(feature = "c2pa")]
        let c2pa = crate::c2pa::sdk::read(self.input, self.format, self.opts.c2pa_trust.as_deref());
        #[cfg(not(feature = "c2pa"))]
        let c2pa = C2paReport::with_status(C2paStatus::NotChecked);
        for d in declarations
            .iter_mut()
            .filter(|d| d.kind == crate::format::DeclarationKind::C2paManifest)
        {
            d.value = c2pa.digital_source_type.clone().unwrap_or_default();
            d.ai_generated = c2pa.sound() && c2pa.declares_ai();
        }
        c2pa
    }

    /// Compares a manifest with the GB label and the watermark: a sound manifest that
    /// disagrees makes the file conflicting; a broken or untrusted one is reported and changes
    /// nothing about the GB label (nobody can make a genuine file fail by adding one).
    fn judge_c2pa(
        &self,
        c2pa: &mut C2paReport,
        record: &LabelRecord,
        watermark: &WatermarkCheck,
        findings: &mut Vec<Finding>,
    ) -> C2paFact {
        if c2pa.status == C2paStatus::Absent {
            return C2paFact::Silent;
        }
        c2pa.agrees_with_label = crate::c2pa::agrees_with_label(c2pa, record);
        if let WatermarkCheck::Detected(found) = watermark {
            c2pa.agrees_with_watermark =
                crate::c2pa::agrees_with_watermark(c2pa, &found.payload.id());
        }
        match c2pa.status {
            C2paStatus::Invalid => {
                findings.push(Finding::warning(
                    "c2pa.invalid",
                    format!(
                        "the C2PA manifest does not validate ({}); the GB 45438 label is judged \
                         on its own",
                        if c2pa.validation_codes.is_empty() {
                            "no reason given".to_string()
                        } else {
                            c2pa.validation_codes.join(", ")
                        }
                    ),
                ));
                return C2paFact::Silent;
            }
            C2paStatus::NotChecked => {
                findings.push(Finding::info(
                    "c2pa.not_checked",
                    "a C2PA manifest store is present; this build has no C2PA validation",
                ));
                return C2paFact::Silent;
            }
            C2paStatus::Untrusted => findings.push(Finding::info(
                "c2pa.untrusted",
                format!(
                    "the C2PA manifest is sound but its signer ({}) is not among the C2PA trust \
                     anchors (--c2pa-trust)",
                    c2pa.signer.as_deref().unwrap_or("unnamed")
                ),
            )),
            _ => {}
        }
        let mut disagree = Vec::new();
        if c2pa.agrees_with_label == Some(false) {
            disagree.push(format!(
                "the GB label (Label {}, producer {}, ProduceID {})",
                record.label.as_deref().unwrap_or(""),
                record.content_producer.as_deref().unwrap_or(""),
                record.produce_id.as_deref().unwrap_or("")
            ));
        }
        if c2pa.agrees_with_watermark == Some(false) {
            disagree.push("the watermark found".to_string());
        }
        if !disagree.is_empty() {
            findings.push(Finding::error(
                "c2pa.disagrees",
                format!(
                    "the C2PA manifest (source type {}, producer {}, ProduceID {}) disagrees \
                     with {}",
                    c2pa.digital_source_type.as_deref().unwrap_or("none"),
                    c2pa.content_producer.as_deref().unwrap_or("none"),
                    c2pa.produce_id.as_deref().unwrap_or("none"),
                    disagree.join(" and ")
                ),
            ));
            C2paFact::Disagrees
        } else if c2pa.declares_ai() {
            C2paFact::DeclaresAi
        } else {
            C2paFact::Silent
        }
    }

    /// Other AI declarations in a file without a GB 45438 label.
    fn note_declarations(
        &self,
        declarations: &[crate::format::Declaration],
        findings: &mut Vec<Finding>,
    ) {
        for d in declarations {
            let what = match d.kind {
                crate::format::DeclarationKind::IptcDigitalSourceType => {
                    format!("IPTC DigitalSourceType {}", d.value)
                }
                crate::format::DeclarationKind::C2paManifest if d.value.is_empty() => {
                    "a C2PA manifest".to_string()
                }
                crate::format::DeclarationKind::C2paManifest => {
                    format!("a C2PA manifest with digitalSourceType {}", d.value)
                }
            };
            let (code, message) = if d.ai_generated {
                (
                    "declaration.ai_generated",
                    format!(
                        "no GB 45438 label, but the file declares itself AI-generated: {what} \
                         ({})",
                        d.location
                    ),
                )
            } else {
                (
                    "declaration.other",
                    format!(
                        "no GB 45438 label; the file carries {what} ({})",
                        d.location
                    ),
                )
            };
            findings.push(Finding::warning(code, message));
        }
    }

    /// The timestamp token over the provider's seal (given beside the file, else in its token
    /// carrier): its report, and the time it vouches for when it is valid, trusted and over
    /// this seal. A token that is not is reported and ignored: the seal is then judged by its
    /// own time, as without one, so a token can neither make a genuine seal fail nor rescue a
    /// revoked key.
    fn check_timestamp(
        &self,
        seal: &Seal,
        findings: &mut Vec<Finding>,
    ) -> (Option<TimestampReport>, Option<u64>) {
        let found = match &self.opts.tsa_token {
            Some(t) => Ok(Some(t.clone())),
            None => timestamp::find_token(self.format, self.input, &self.opts.limits),
        };
        let token = match found {
            Ok(None) => return (None, None),
            Ok(Some(t)) => t,
            Err(e) => {
                findings.push(Finding::warning(
                    "timestamp.malformed",
                    format!("the timestamp token cannot be read ({e}); it is ignored"),
                ));
                let r = TimestampReport {
                    status: TimestampStatus::Invalid,
                    time: None,
                    authority: None,
                    message: Some(e.to_string()),
                };
                return (Some(r), None);
            }
        };
        let empty = TsaTrust::default();
        let trust = self.opts.tsa_trust.as_ref().unwrap_or(&empty);
        let r = timestamp::check(&token, &seal.signature, trust);
        let why = r.message.clone().unwrap_or_default();
        let ignored = "it is ignored, and the seal is judged by its own time";
        match r.status {
            TimestampStatus::Valid => {
                let at = timestamp::token_time(&token).ok();
                if let Some(at) = at
                    && let Some(d) = timestamp::compare_times(seal.signed_at, at)
                {
                    findings.push(Finding::warning(
                        "timestamp.time_far",
                        format!(
                            "the seal says it was made at {}, {d} s from the time a timestamp \
                             authority vouches for ({}); the key is judged at the authority's time",
                            format_time(seal.signed_at),
                            format_time(at)
                        ),
                    ));
                }
                return (Some(r), at);
            }
            TimestampStatus::Mismatch => findings.push(Finding::warning(
                "timestamp.mismatch",
                format!(
                    "the timestamp token vouches for another signature than this seal's (taken \
                     from another file?); {ignored}"
                ),
            )),
            TimestampStatus::Untrusted if self.opts.tsa_trust.is_none() => {
                findings.push(Finding::info(
                    "timestamp.untrusted",
                    format!(
                        "the file carries a timestamp token, but no timestamp authority is \
                         trusted (--tsa-trust); {ignored}"
                    ),
                ))
            }
            TimestampStatus::Untrusted => findings.push(Finding::warning(
                "timestamp.untrusted",
                format!("the timestamp token is not from a trusted authority ({why}); {ignored}"),
            )),
            TimestampStatus::Invalid | TimestampStatus::Absent => findings.push(Finding::warning(
                "timestamp.malformed",
                format!("the timestamp token is damaged ({why}); {ignored}"),
            )),
        }
        (Some(r), None)
    }

    fn check_seal(
        &self,
        parsed: Option<Result<Seal, SealError>>,
        record: &LabelRecord,
        role: Role,
        vouched_at: Option<u64>,
        findings: &mut Vec<Finding>,
    ) -> (SignatureReport, Option<Seal>) {
        let field = if role == Role::Provider {
            "ReservedCode1"
        } else {
            "ReservedCode2"
        };
        // A platform's seal problems never undo the provider's label: they are warnings.
        let bad = if role == Role::Provider {
            Severity::Error
        } else {
            Severity::Warning
        };
        let seal = match parsed {
            None => {
                findings.push(Finding::warning(
                    "seal.absent",
                    format!("the label has no {field}: nothing binds it to this content"),
                ));
                return (SignatureReport::absent(), None);
            }
            Some(Err(SealError::Foreign)) => {
                findings.push(Finding::info(
                    "seal.foreign",
                    format!("{field} holds data in a scheme aigcmark does not know; not checked"),
                ));
                return (SignatureReport::absent(), None);
            }
            Some(Err(SealError::Malformed(why))) => {
                findings.push(Finding::new(
                    "seal.malformed",
                    bad,
                    format!("{field} is damaged: {why}"),
                ));
                let mut r = SignatureReport::absent();
                r.status = SignatureStatus::Invalid;
                return (r, None);
            }
            Some(Ok(seal)) => seal,
        };
        let mut report = SignatureReport {
            status: SignatureStatus::Valid,
            key_id: Some(seal.key_id()),
            owner: self
                .opts
                .trust
                .owner_of(&seal.public_key)
                .map(str::to_string),
            signed_at: Some(format_time(seal.signed_at)),
        };
        if !seal.public_key.is_supported() {
            // Neither confirmed nor refuted: untrusted, never intact, never called forged.
            report.status = SignatureStatus::Untrusted;
            findings.push(Finding::new(
                "seal.algorithm_unsupported",
                bad,
                format!(
                    "{field} is signed with {} by key {}, which this build of aigcmark cannot \
                     check (built without the cargo feature `sm`): the seal is not verified",
                    seal.algorithm().name(),
                    seal.key_id()
                ),
            ));
            return (report, Some(seal));
        }
        let ok = match role {
            Role::Platform => seal.verify_platform(record),
            _ => seal.verify_provider(record),
        };
        if !ok {
            report.status = SignatureStatus::Invalid;
            findings.push(Finding::new(
                "seal.signature_invalid",
                bad,
                format!(
                    "the signature in {field} does not match the label: a sealed field was changed"
                ),
            ));
            return (report, Some(seal));
        }
        let claimed = match role {
            Role::Platform => record.content_propagator.as_deref(),
            _ => record.content_producer.as_deref(),
        };
        let untrusted = |code: &'static str, msg: String, findings: &mut Vec<Finding>| {
            findings.push(Finding::new(code, bad, msg));
            SignatureStatus::Untrusted
        };
        // The time the key is judged at: a trusted timestamp token's, else the seal's own.
        let at = vouched_at.unwrap_or(seal.signed_at);
        report.status = match self.opts.trust.decide(&seal.public_key, role, at, claimed) {
            TrustDecision::Trusted { .. } => {
                if vouched_at.is_none()
                    && let Some(r) = self.opts.trust.revocation(&seal.public_key, u64::MAX)
                {
                    // A revoked key's seal that says it predates the revocation: only the
                    // signer says so.
                    findings.push(Finding::info(
                        "seal.time_self_claimed",
                        format!(
                            "key {} was revoked at {}; this seal's signing time {} is the \
                                 signer's own claim; no timestamp authority vouches for it",
                            seal.key_id(),
                            format_time(r.revoked_at),
                            format_time(seal.signed_at)
                        ),
                    ));
                }
                SignatureStatus::Valid
            }
            TrustDecision::Unknown => untrusted(
                "seal.key_unknown",
                format!(
                    "{field} is validly signed by key {}, which is not in the trust store",
                    seal.key_id()
                ),
                findings,
            ),
            TrustDecision::OutsideWindow { owner } => untrusted(
                "seal.key_outside_validity",
                format!(
                    "key {} ({owner}) was not valid at the signing time {}{}",
                    seal.key_id(),
                    format_time(at),
                    if vouched_at.is_some() {
                        " (vouched for by a timestamp authority)"
                    } else {
                        ""
                    }
                ),
                findings,
            ),
            TrustDecision::Revoked(r) => {
                // Without a trusted timestamp token the sealed time is the signer's own
                // claim, and a thief's seal may claim any time before the revocation.
                if vouched_at.is_none() {
                    findings.push(Finding::info(
                        "seal.time_self_claimed",
                        format!(
                            "the signing time {} is the signer's own claim; no timestamp \
                                 authority vouches for it",
                            format_time(seal.signed_at)
                        ),
                    ));
                }
                untrusted(
                    "seal.key_revoked",
                    format!(
                        "key {} ({}) was revoked at {}{}; {} {}",
                        seal.key_id(),
                        r.owner,
                        format_time(r.revoked_at),
                        r.reason
                            .as_deref()
                            .map(|why| format!(" ({why})"))
                            .unwrap_or_default(),
                        if vouched_at.is_some() {
                            "a timestamp authority first vouches for this seal at"
                        } else {
                            "this seal says it was made at"
                        },
                        format_time(at)
                    ),
                    findings,
                )
            }
            TrustDecision::WrongRole { owner } => untrusted(
                "seal.key_wrong_role",
                format!(
                    "key {} ({owner}) is not trusted to sign {field}",
                    seal.key_id()
                ),
                findings,
            ),
            TrustDecision::WrongOwner { owner, claimed } => untrusted(
                "seal.producer_mismatch",
                format!(
                    "key {} belongs to {owner}, but the label names {claimed}",
                    seal.key_id()
                ),
                findings,
            ),
        };
        if report.status == SignatureStatus::Valid
            && seal.signed_at > crate::util::unix_now().saturating_add(MAX_CLOCK_SKEW_SECS)
        {
            report.status = untrusted(
                "seal.future_time",
                format!(
                    "{field} is dated {}, in the future (more than {} minutes ahead of this \
                     clock): the signing time cannot be believed, so the key's validity \
                     window cannot be checked",
                    format_time(seal.signed_at),
                    MAX_CLOCK_SKEW_SECS / 60
                ),
                findings,
            );
        }
        (report, Some(seal))
    }

    fn check_binding(
        &self,
        seal: &Seal,
        computed: Option<[u8; 32]>,
        area: &str,
        findings: &mut Vec<Finding>,
    ) -> BindingReport {
        let mut report = BindingReport {
            status: BindingStatus::Mismatch,
            sealed: Some(binding::encode(&seal.content_digest)),
            computed: computed.as_ref().map(binding::encode),
        };
        if seal.format != self.format.name() {
            findings.push(Finding::new(
                if area == "binding" {
                    "binding.format_mismatch"
                } else {
                    "propagation.format_mismatch"
                },
                if area == "binding" {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                format!(
                    "the seal was made for a {} file, this is {}",
                    seal.format, self.format
                ),
            ));
        } else if computed == Some(seal.content_digest) {
            report.status = BindingStatus::Match;
        } else if computed.is_none() {
            report.status = BindingStatus::Absent;
        }
        if report.status == BindingStatus::Mismatch {
            if area == "binding" {
                findings.push(Finding::error(
                    "binding.mismatch",
                    "the content differs from the content that was sealed",
                ));
            } else {
                findings.push(Finding::warning(
                    "propagation.binding_mismatch",
                    "the content differs from the content the platform countersigned",
                ));
            }
        }
        report
    }

    /// Whether a read producer tag is the label's producer's or a trusted owner's.
    fn names_known_producer(&self, tag: [u8; 2], record: &LabelRecord) -> bool {
        record
            .content_producer
            .as_deref()
            .is_some_and(|p| producer_tag(p) == tag)
            || self
                .opts
                .trust
                .entries()
                .any(|e| producer_tag(&e.owner) == tag)
    }

    fn name_watermark_producer(&self, tag: [u8; 2], findings: &mut Vec<Finding>) {
        for e in self.opts.trust.entries() {
            if producer_tag(&e.owner) == tag {
                findings.push(Finding::info(
                    "watermark.producer",
                    format!(
                        "the watermark's producer tag matches trusted producer {}",
                        e.owner
                    ),
                ));
            }
        }
    }
}

/// The binding part of a report when there is no seal to compare with.
fn unbound(computed: Option<[u8; 32]>) -> BindingReport {
    BindingReport {
        status: BindingStatus::Absent,
        sealed: None,
        computed: computed.as_ref().map(binding::encode),
    }
}

/// Bit errors a read payload may have and still count as the sealed watermark id. Another mark
/// (a label moved onto other content) shares at most the 16-bit producer tag, so its other 48
/// bits match the sealed id's like coin flips: P(Bin(48, ½) ≤ 7) = 3.1e-7, within the 1e-6
/// budget the watermarks' presence tests use.
const MAX_PAYLOAD_ERRORS: u32 = 7;

/// Bits in which two watermark ids differ.
fn payload_distance(a: Payload, b: Payload) -> u32 {
    a.0.iter().zip(b.0).map(|(x, y)| (x ^ y).count_ones()).sum()
}

/// Every carrier's record, with the reasons it is not in strict form and whether it mixes the
/// bare and the wrapped form.
fn parse_carriers(
    carriers: &[crate::format::Carrier],
    max_depth: usize,
    findings: &mut Vec<Finding>,
) -> Vec<(LabelRecord, Vec<String>, bool)> {
    let mut records = Vec::new();
    for c in carriers {
        let parsed = LabelRecord::parse(&c.value, max_depth);
        for mut f in parsed.findings {
            f.message = format!("{}: {}", c.location, f.message);
            if !findings.contains(&f) {
                findings.push(f);
            }
        }
        if let Some(r) = parsed.record {
            records.push((r, parsed.strict, parsed.mixed_forms));
        }
    }
    records
}

/// What a file holds, without trust decisions.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// The format it was read as.
    pub format: Format,
    /// Every label carrier found, in file order.
    pub carriers: Vec<InspectedCarrier>,
    /// The content digest as computed now (base64url).
    pub content_digest: Option<String>,
    /// Explicit labels found.
    pub explicit: Vec<ExplicitMark>,
    /// The watermark search's result.
    pub watermark: WatermarkCheck,
    /// Other AI declarations (IPTC DigitalSourceType, a C2PA manifest).
    pub declarations: Vec<crate::format::Declaration>,
    /// What was noticed while reading.
    pub findings: Vec<Finding>,
}

/// One carrier, raw and parsed.
#[derive(Debug, Clone, Serialize)]
pub struct InspectedCarrier {
    /// Where the carrier sits, for people (`XMP (APP1)`, `RIFF AIGC chunk`, …).
    pub location: String,
    /// The carrier's text as stored.
    pub raw: String,
    /// The record parsed from it, when it parses.
    pub label: Option<LabelRecord>,
    /// What was noticed while reading.
    pub findings: Vec<Finding>,
}

/// Lists the labels in `input` as found: every carrier, raw and parsed, no trust decisions.
pub fn inspect(
    input: &[u8],
    format: Format,
    limits: &Limits,
    watermark_key: Option<&WatermarkKey>,
) -> crate::Result<Inspection> {
    let handler = formats::handler(format)?;
    let scan = handler.scan(
        input,
        &ScanOptions {
            limits,
            watermark_key,
            explicit: true,
        },
    )?;
    let carriers = scan
        .carriers
        .iter()
        .map(|c| {
            let parsed = LabelRecord::parse(&c.value, limits.max_nesting_depth);
            InspectedCarrier {
                location: c.location.clone(),
                raw: c.value.clone(),
                label: parsed.record,
                findings: parsed.findings,
            }
        })
        .collect();
    Ok(Inspection {
        format,
        carriers,
        content_digest: scan.digest.as_ref().map(binding::encode),
        explicit: scan.explicit,
        watermark: scan.watermark.unwrap_or(WatermarkCheck::NotChecked),
        declarations: scan.declarations,
        findings: scan.findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGS: [SignatureStatus; 4] = [
        SignatureStatus::Valid,
        SignatureStatus::Invalid,
        SignatureStatus::Untrusted,
        SignatureStatus::Absent,
    ];
    const BINDINGS: [BindingStatus; 3] = [
        BindingStatus::Match,
        BindingStatus::Mismatch,
        BindingStatus::Absent,
    ];

    const C2PA: [C2paFact; 3] = [C2paFact::Silent, C2paFact::DeclaresAi, C2paFact::Disagrees];

    /// Every combination of the evidence, checked against the README's precedence table.
    #[test]
    fn verdict_follows_the_precedence_table() {
        let mut intact = 0;
        for label in [false, true] {
            for contradiction in [false, true] {
                for provider in SIGS {
                    for provider_binding in BINDINGS {
                        for platform_vouches in [false, true] {
                            for error_findings in [false, true] {
                                for watermark in [false, true] {
                                    for explicit in [false, true] {
                                        for c2pa in C2PA {
                                            let e = Evidence {
                                                label,
                                                contradiction,
                                                provider,
                                                provider_binding,
                                                platform_vouches,
                                                error_findings,
                                                watermark,
                                                explicit,
                                                c2pa,
                                            };
                                            let want = expected(&e);
                                            assert_eq!(decide(&e), want, "{e:?}");
                                            if want == Verdict::LabeledIntact {
                                                intact += 1;
                                                // Intact only from a valid seal, vouched
                                                // content, no error finding and no C2PA
                                                // manifest that disagrees.
                                                assert!(label && !contradiction && !error_findings);
                                                assert_ne!(c2pa, C2paFact::Disagrees);
                                                assert_eq!(provider, SignatureStatus::Valid);
                                            }
                                            if want == Verdict::C2paOnly {
                                                assert!(!label && !watermark);
                                                assert_eq!(c2pa, C2paFact::DeclaresAi);
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Match or platform-vouched, times watermark x explicit, times a silent or agreeing
        // manifest.
        assert_eq!(intact, (3 + 1) * 4 * 2);
    }

    /// The README's table, written out independently of `decide`.
    fn expected(e: &Evidence) -> Verdict {
        if !e.label {
            if e.watermark {
                Verdict::WatermarkOnly
            } else if e.c2pa == C2paFact::DeclaresAi {
                Verdict::C2paOnly
            } else if e.explicit {
                Verdict::ExplicitOnly
            } else {
                Verdict::Unlabeled
            }
        } else if e.contradiction || e.c2pa == C2paFact::Disagrees {
            Verdict::Conflicting
        } else if e.provider == SignatureStatus::Invalid {
            Verdict::Forged
        } else if e.provider == SignatureStatus::Untrusted {
            Verdict::Untrusted
        } else if e.provider == SignatureStatus::Absent {
            Verdict::LabeledUnsigned
        } else if e.error_findings {
            Verdict::Altered
        } else if e.provider_binding == BindingStatus::Match || e.platform_vouches {
            Verdict::LabeledIntact
        } else {
            Verdict::Altered
        }
    }
}
