//! Every finding code a report can carry, with its severity and what it means: the stable list
//! that tools match on (as c2pa-rs keeps its validation codes). Codes are `area.what`; the
//! sentence in a finding is for people and may change, the code does not.
//!
//! `tests/finding_codes.rs` holds this table to the source (every code used is listed here with
//! the severities it is used with, and every code listed is used) and to `docs/findings.md`,
//! which is generated from it.

use serde::Serialize;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// Worth knowing; the label still counts.
    Info,
    /// A deviation from the standard that readers tolerate.
    Warning,
    /// The label cannot be relied on.
    Error,
}

/// One observation about a file: a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The stable code (`area.what`), listed in [`FINDING_CODES`].
    pub code: &'static str,
    /// How serious it is; any [`Severity::Error`] rules out `labeled_intact`.
    pub severity: Severity,
    /// A sentence for people; may change between releases.
    pub message: String,
}

impl Finding {
    /// A finding with `code` (which must be in [`FINDING_CODES`]) at `severity`.
    pub fn new(code: &'static str, severity: Severity, message: impl Into<String>) -> Self {
        Finding {
            code,
            severity,
            message: message.into(),
        }
    }
    /// An [`Severity::Info`] finding.
    pub fn info(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Info, message)
    }
    /// A [`Severity::Warning`] finding.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, message)
    }
    /// A [`Severity::Error`] finding.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, message)
    }
}

/// One finding code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingCode {
    /// The stable code, `area.what`.
    pub code: &'static str,
    /// The severities it is reported with (a platform's seal problems are warnings, the
    /// provider's errors).
    pub severities: &'static [Severity],
    /// What it means, in a sentence (`…` stands for the details a finding fills in).
    pub meaning: &'static str,
}

const fn code(
    code: &'static str,
    severities: &'static [Severity],
    meaning: &'static str,
) -> FindingCode {
    FindingCode {
        code,
        severities,
        meaning,
    }
}

/// Every code, sorted.
pub const FINDING_CODES: &[FindingCode] = &[
    code(
        "audio.reencoded_wav",
        &[Severity::Info],
        "the … audio was decoded and written as …-bit PCM WAV to add the audible label or the watermark; encode it again with your own encoder if you need …",
    ),
    code(
        "binding.changed_by_platform",
        &[Severity::Info],
        "the content changed after the provider sealed it, and the platform's valid countersignature covers the content as it is now",
    ),
    code(
        "binding.mismatch",
        &[Severity::Info, Severity::Error],
        "the content differs from the content that was sealed (info when a trusted platform's \
         countersignature covers the content as it is now)",
    ),
    code(
        "c2pa.disagrees",
        &[Severity::Error],
        "a C2PA manifest whose signature and hard binding verify disagrees with the GB label (producer, ProduceID, or an AI source type exactly when Label is 1/2/3) or with the watermark found: the file is conflicting",
    ),
    code(
        "c2pa.invalid",
        &[Severity::Warning],
        "the C2PA manifest does not validate (…: damaged, moved from another file or edited); the GB 45438 label is judged on its own",
    ),
    code(
        "c2pa.not_checked",
        &[Severity::Info],
        "a C2PA manifest store is present; this build has no C2PA validation (built without the c2pa feature)",
    ),
    code(
        "c2pa.not_written",
        &[Severity::Warning],
        "no C2PA manifest written: C2PA is written into JPEG, PNG, WebP, WAV and MP3, not …",
    ),
    code(
        "c2pa.store_malformed",
        &[Severity::Error],
        "a C2PA manifest store (JPEG APP11, PNG caBX, WebP/WAV C2PA chunk, MP3 ID3 GEOB) is not well-formed JUMBF; it lies outside the content binding, so its bytes are not proved inert",
    ),
    code(
        "c2pa.untrusted",
        &[Severity::Info],
        "the C2PA manifest is sound but its signer (…) is not among the C2PA trust anchors (--c2pa-trust)",
    ),
    code(
        "exif.image_description",
        &[Severity::Info],
        "a label is stored in EXIF ImageDescription (…)",
    ),
    code(
        "exif.mentions_aigc",
        &[Severity::Info],
        "EXIF … (…) mentions AIGC but is not a label record",
    ),
    code(
        "exif.record_without_aigc_key",
        &[Severity::Warning],
        "EXIF … (…) holds JSON shaped like a label record but without the AIGC key; it is not read as a label",
    ),
    code(
        "exif.unreadable",
        &[Severity::Warning],
        "the EXIF data in … cannot be read: …",
    ),
    code(
        "exif.user_comment_in_ifd0",
        &[Severity::Info],
        "the label's UserComment is in IFD0 rather than the Exif IFD (…)",
    ),
    code(
        "explicit.absent",
        &[Severity::Info],
        "no explicit (visible or audible) label was found; GB 45438 asks for one where the content is shown to people, unless the service shows it in its interface",
    ),
    code(
        "explicit.not_checked",
        &[Severity::Info],
        "the seal records an explicit label this format cannot check",
    ),
    code(
        "explicit.removed",
        &[Severity::Error],
        "the explicit label recorded in the seal (…) is no longer intact",
    ),
    code(
        "file.damaged",
        &[Severity::Error],
        "the content digest matches, but the file's structure was damaged or changed after labeling (see the findings above)",
    ),
    code(
        "file.unreadable",
        &[Severity::Error],
        "the file could not be read or parsed at all",
    ),
    code(
        "file.unsupported",
        &[Severity::Error],
        "the file is not a format aigcmark reads (empty, PDF, ZIP, …)",
    ),
    code(
        "flac.duplicate_aigc",
        &[Severity::Warning],
        "… AIGC comments; a file should hold one",
    ),
    code(
        "flac.duplicate_vorbis_comment",
        &[Severity::Warning],
        "… VORBIS_COMMENT blocks; FLAC allows one",
    ),
    code(
        "flac.id3_prefix",
        &[Severity::Warning],
        "an ID3v2 tag precedes the FLAC stream; FLAC readers may not see it",
    ),
    code(
        "flac.id3v1",
        &[Severity::Info],
        "an ID3v1 tag follows the FLAC stream",
    ),
    code(
        "flac.second_streaminfo",
        &[Severity::Warning],
        "a second STREAMINFO block (decoders use the first, which is bound)",
    ),
    code(
        "flac.tag_bound",
        &[Severity::Warning],
        "the ID3v1 tag at the end holds a FLAC frame sync code; it is bound with the audio",
    ),
    code(
        "flac.truncated",
        &[Severity::Error],
        "the FLAC metadata section is cut short or damaged",
    ),
    code(
        "flac.unknown_block",
        &[Severity::Info],
        "metadata blocks of unknown type … (decoders skip metadata blocks by their size)",
    ),
    code(
        "flac.vorbis_comment_damaged",
        &[Severity::Warning],
        "the Vorbis comment block cannot be read",
    ),
    code(
        "image.bit_depth_reduced",
        &[Severity::Info],
        "the image had floating-point samples; it was re-encoded with 8 bits a channel",
    ),
    code(
        "image.colour_type_changed",
        &[Severity::Info],
        "the grey image got coloured pixels; it was re-encoded in colour",
    ),
    code(
        "image.metadata_dropped",
        &[Severity::Info],
        "left out of the re-encoded image, as they describe the old image data: …",
    ),
    code(
        "image.reencoded",
        &[Severity::Info],
        "the image was decoded and re-encoded to change its pixels",
    ),
    code(
        "jpeg.exif_duplicate",
        &[Severity::Warning],
        "… EXIF segments; a file should have one",
    ),
    code(
        "jpeg.extended_xmp",
        &[Severity::Info],
        "the file has extended XMP; labels are read from the main packet only",
    ),
    code(
        "jpeg.no_scan",
        &[Severity::Error],
        "the file has no image data (SOS)",
    ),
    code(
        "jpeg.trailing_data",
        &[Severity::Info],
        "… bytes follow EOI; the seal binds them with the image data",
    ),
    code(
        "jpeg.xmp_after_scan",
        &[Severity::Warning],
        "the XMP segment comes after the image data",
    ),
    code(
        "jpeg.xmp_duplicate",
        &[Severity::Warning],
        "… XMP segments; a file should have one",
    ),
    code(
        "label.ambiguous",
        &[Severity::Error],
        "a sealed label must hold exactly the seven Annex E keys, each once, as strings; this one does not (…), so another reader may see another label than the one sealed",
    ),
    code(
        "label.conflict",
        &[Severity::Error],
        "… carriers hold labels that differ",
    ),
    code(
        "label.double_encoded",
        &[Severity::Warning],
        "the label JSON was encoded twice (a JSON string holding JSON)",
    ),
    code(
        "label.duplicate",
        &[Severity::Warning],
        "… carriers hold the same label; GB 45438 checkers expect exactly one",
    ),
    code(
        "label.duplicate_key",
        &[Severity::Warning],
        "… appears more than once; the last one is used",
    ),
    code(
        "label.empty",
        &[Severity::Error],
        "the label carrier is empty",
    ),
    code(
        "label.in_text_copy",
        &[Severity::Info],
        "the front matter label is repeated invisibly in the body, as written",
    ),
    code(
        "label.key_misspelled",
        &[Severity::Warning],
        "key … read as …",
    ),
    code(
        "label.key_order",
        &[Severity::Info],
        "the keys are not in Annex E order",
    ),
    code(
        "label.label_value",
        &[Severity::Warning],
        "Label is …; Annex E allows \"1\", \"2\" or \"3\"",
    ),
    code(
        "label.missing_label",
        &[Severity::Error],
        "the Label field is missing",
    ),
    code(
        "label.missing_produce_id",
        &[Severity::Warning],
        "the ProduceID field is missing",
    ),
    code(
        "label.missing_producer",
        &[Severity::Warning],
        "the ContentProducer field is missing",
    ),
    code(
        "label.mixed_forms",
        &[Severity::Error],
        "the label object holds Annex E fields and also a wrapped label under an AIGC key: readers disagree about which one is the label",
    ),
    code(
        "label.not_json",
        &[Severity::Error],
        "the label is not valid JSON: …",
    ),
    code(
        "label.not_object",
        &[Severity::Error],
        "the label JSON is not an object",
    ),
    code(
        "label.producer_not_code",
        &[Severity::Info],
        "ContentProducer … is a name, not a 27-character provider code",
    ),
    code(
        "label.propagator_not_code",
        &[Severity::Info],
        "ContentPropagator … is a name, not a 27-character code",
    ),
    code(
        "label.too_deep",
        &[Severity::Error],
        "the label JSON nests deeper than … levels; not read",
    ),
    code(
        "label.unknown_key",
        &[Severity::Warning],
        "unknown key … in the label",
    ),
    code(
        "label.value_charset",
        &[Severity::Warning],
        "… contains …, outside the characters Annex E allows",
    ),
    code(
        "label.value_not_string",
        &[Severity::Warning],
        "… is the number …, not a string",
    ),
    code(
        "label.wrapped",
        &[Severity::Info],
        "the label uses the wrapped form …}",
    ),
    code(
        "label.wrapper_key",
        &[Severity::Warning],
        "the label is wrapped under … rather than \"AIGC\"",
    ),
    code(
        "markdown.front_matter_flow",
        &[Severity::Info],
        "the front matter's AIGC entry is a flow mapping",
    ),
    code(
        "markdown.front_matter_string",
        &[Severity::Warning],
        "the front matter's AIGC entry is a string holding the label, not a mapping",
    ),
    code("mp3.ape_tag", &[Severity::Info], "an APE tag is at the end"),
    code(
        "mp3.description_case",
        &[Severity::Warning],
        "the label frame's description is …, not \"AIGC\"",
    ),
    code(
        "mp3.duplicate_aigc",
        &[Severity::Warning],
        "… TXXX:AIGC frames; a file should hold one",
    ),
    code(
        "mp3.id3_damaged",
        &[Severity::Warning],
        "an ID3v2 frame at tag offset … has an invalid id; the rest of the tag is skipped",
    ),
    code(
        "mp3.id3_multiple",
        &[Severity::Info],
        "… ID3v2 tags at the start of the file",
    ),
    code(
        "mp3.id3_unparsed",
        &[Severity::Warning],
        "the ID3v2 tag at offset … holds bytes that are neither tag frames nor zero padding",
    ),
    code(
        "mp3.id3v1",
        &[Severity::Info],
        "an ID3v1 tag is at the end (it cannot hold a label)",
    ),
    code(
        "mp3.junk_before_audio",
        &[Severity::Warning],
        "… bytes that are not audio frames precede the first frame (decoders skip them)",
    ),
    code(
        "mp3.label_elsewhere",
        &[Severity::Info],
        "a label is stored in the ID3v2 frame … rather than TXXX:AIGC",
    ),
    code(
        "mp3.no_audio",
        &[Severity::Error],
        "no MPEG audio frames found: the file holds no sound to bind",
    ),
    code(
        "mp3.padding_before_audio",
        &[Severity::Info],
        "… zero bytes between the tag and the first audio frame",
    ),
    code(
        "mp3.tag_bound",
        &[Severity::Warning],
        "the … at the end …; it is bound with the audio",
    ),
    code(
        "mp3.unbound_audio",
        &[Severity::Error],
        "the ID3v2 tag at offset … hides MPEG audio frames in bytes that are neither tag frames nor zero padding",
    ),
    code(
        "ogg.codec_unknown",
        &[Severity::Info],
        "stream …: not Ogg Vorbis or Opus; no comment header read, every packet bound",
    ),
    code(
        "ogg.comment_damaged",
        &[Severity::Warning],
        "the Vorbis/Opus comment header cannot be read",
    ),
    code(
        "ogg.damaged",
        &[Severity::Error],
        "… bytes at offset … are not an Ogg page",
    ),
    code(
        "ogg.duplicate_aigc",
        &[Severity::Warning],
        "… AIGC comments; a file should hold one",
    ),
    code(
        "ogg.multiple_streams",
        &[Severity::Info],
        "… logical streams (chained or multiplexed); all of them are bound",
    ),
    code(
        "ogg.trailing_junk",
        &[Severity::Warning],
        "… bytes after the last Ogg page are not a page (decoders ignore them)",
    ),
    code(
        "ogg.truncated",
        &[Severity::Error],
        "the last Ogg page is truncated",
    ),
    code(
        "png.keyword_case",
        &[Severity::Warning],
        "the label keyword is …, not \"AIGC\"",
    ),
    code(
        "png.label_chunk_type",
        &[Severity::Info],
        "the AIGC label is in a … chunk rather than tEXt",
    ),
    code("png.metadata_unreadable", &[Severity::Warning], "… … …"),
    code(
        "png.no_idat",
        &[Severity::Error],
        "the file has no image data (IDAT)",
    ),
    code(
        "png.no_iend",
        &[Severity::Error],
        "the file has no IEND chunk: it is truncated",
    ),
    code(
        "png.trailing_data",
        &[Severity::Error],
        "… bytes follow IEND; they are not part of the image and not bound by the seal",
    ),
    code(
        "png.xmp_after_idat",
        &[Severity::Warning],
        "the XMP chunk comes after IDAT; the guide puts it before",
    ),
    code(
        "png.xmp_chunk_type",
        &[Severity::Warning],
        "the XMP packet is in a … chunk rather than iTXt",
    ),
    code(
        "png.xmp_compressed",
        &[Severity::Warning],
        "the XMP packet is compressed; the guide writes it uncompressed",
    ),
    code(
        "png.xmp_duplicate",
        &[Severity::Warning],
        "… XMP chunks; a file should have one",
    ),
    code(
        "propagation.binding_mismatch",
        &[Severity::Warning],
        "the content differs from the content the platform countersigned",
    ),
    code(
        "propagation.replaced",
        &[Severity::Info],
        "replaced the propagation of …",
    ),
    code(
        "propagation.unvouched",
        &[Severity::Warning],
        "the label names a ContentPropagator or PropagateID, but no platform countersignature (ReservedCode2) vouches for them",
    ),
    code(
        "seal.absent",
        &[Severity::Warning],
        "the label has no …: nothing binds it to this content",
    ),
    code(
        "seal.algorithm_unsupported",
        &[Severity::Warning, Severity::Error],
        "the seal is signed with an algorithm this build cannot check (SM2 without the cargo feature `sm`); not verified (error for ReservedCode1, warning for ReservedCode2)",
    ),
    code(
        "seal.foreign",
        &[Severity::Info],
        "… holds data in a scheme aigcmark does not know; not checked",
    ),
    code(
        "seal.future_time",
        &[Severity::Warning, Severity::Error],
        "the seal is dated more than the clock-skew allowance ahead (error for ReservedCode1, warning for ReservedCode2)",
    ),
    code(
        "seal.key_outside_validity",
        &[Severity::Warning, Severity::Error],
        "the key was not valid at the seal's signing time (error for ReservedCode1, warning for ReservedCode2)",
    ),
    code(
        "seal.key_revoked",
        &[Severity::Warning, Severity::Error],
        "the key was revoked at or before the seal's signing time (error for ReservedCode1, warning for ReservedCode2)",
    ),
    code(
        "seal.key_unknown",
        &[Severity::Warning, Severity::Error],
        "the seal is valid but its key is not in the trust store (error for ReservedCode1, warning for ReservedCode2)",
    ),
    code(
        "seal.key_wrong_role",
        &[Severity::Warning, Severity::Error],
        "the key is trusted for another role (error for ReservedCode1, warning for ReservedCode2)",
    ),
    code(
        "seal.malformed",
        &[Severity::Warning, Severity::Error],
        "the seal field is damaged (error for ReservedCode1, warning for ReservedCode2)",
    ),
    code(
        "seal.producer_mismatch",
        &[Severity::Warning, Severity::Error],
        "the key belongs to another owner than the label names (error for ReservedCode1, warning for ReservedCode2)",
    ),
    code(
        "seal.signature_invalid",
        &[Severity::Warning, Severity::Error],
        "the seal does not match the label: a sealed field was changed (error for ReservedCode1, warning for ReservedCode2)",
    ),
    code(
        "seal.time_self_claimed",
        &[Severity::Info],
        "the signing time a revocation is judged by is the signer's own claim; no timestamp authority vouches for it",
    ),
    code(
        "text.fragment",
        &[Severity::Info],
        "… carr… producer …, content id …",
    ),
    code(
        "text.fragment_mismatch",
        &[Severity::Warning],
        "… name producer …, content id …, unlike the sealed record: the text mixes parts of different labeled texts",
    ),
    code(
        "text.marker_absent",
        &[Severity::Warning],
        "no invisible marker in the text: it was removed (NFKC_Casefold or a tool that strips default-ignorable characters) or never written; only what is visible remains",
    ),
    code(
        "text.marker_damaged",
        &[Severity::Warning],
        "… invisible marker(s) are present but damaged",
    ),
    code(
        "text.partial_copy",
        &[Severity::Info],
        "only per-paragraph markers were found, not the sealed record: this is part of a labeled text; the label it names cannot be checked against the seal",
    ),
    code(
        "timestamp.malformed",
        &[Severity::Warning],
        "the timestamp token cannot be read or its signature does not verify; it is ignored",
    ),
    code(
        "timestamp.mismatch",
        &[Severity::Warning],
        "the timestamp token vouches for another signature than this seal's; it is ignored",
    ),
    code(
        "timestamp.time_far",
        &[Severity::Warning],
        "the seal's own time is far from the time the timestamp authority vouches for",
    ),
    code(
        "timestamp.untrusted",
        &[Severity::Info, Severity::Warning],
        "the timestamp token's authority is not trusted (info when no authority is trusted at all, warning otherwise); it is ignored",
    ),
    code(
        "watermark.mismatch",
        &[Severity::Error],
        "the watermark (…) does not agree with the sealed label",
    ),
    code(
        "watermark.misread",
        &[Severity::Warning],
        "the watermark was read as …, not the sealed …; the content is unchanged since sealing, so the payload was misread",
    ),
    code(
        "watermark.missing",
        &[Severity::Warning],
        "the seal records watermark …, but it was not found in the content",
    ),
    code(
        "watermark.not_checked",
        &[Severity::Warning],
        "the watermark was not looked for: …",
    ),
    code(
        "watermark.not_embedded",
        &[Severity::Info],
        "no watermark is recorded in the seal: …",
    ),
    code(
        "watermark.payload_errors",
        &[Severity::Info],
        "the watermark's payload was read with … of 64 bits in error; it still identifies the sealed watermark …",
    ),
    code(
        "watermark.producer",
        &[Severity::Info],
        "the watermark's producer tag matches trusted producer …",
    ),
    code(
        "watermark.unidentified",
        &[Severity::Warning],
        "the watermark was read as …, which is neither the sealed … nor a mark of any producer this verifier trusts; a mark too weakened to read its payload gives this, so it is not taken as another content's mark",
    ),
    code(
        "wav.aigc_lowercase",
        &[Severity::Warning],
        "the label chunk's id is 'aigc' in lower case; the rules name it 'AIGC' (RIFF ids are case-sensitive)",
    ),
    code(
        "wav.chunk_over_limit",
        &[Severity::Error],
        "a chunk is larger than the configured limit; what follows it is not seen",
    ),
    code(
        "wav.data_size_zero",
        &[Severity::Error],
        "the data chunk declares 0 bytes but more follows: ffmpeg plays the rest of the file as sound",
    ),
    code(
        "wav.duplicate_aigc",
        &[Severity::Warning],
        "… RIFF AIGC chunks; a file should hold one",
    ),
    code(
        "wav.duplicate_data",
        &[Severity::Error],
        "… fmt and … data chunks; decoders disagree on which one plays",
    ),
    code(
        "wav.id3_damaged",
        &[Severity::Warning],
        "the '…' chunk holds no readable ID3v2 tag: …",
    ),
    code(
        "wav.label_in_id3",
        &[Severity::Info],
        "a label is stored in the '…' chunk (ID3v2 …) rather than a RIFF AIGC chunk",
    ),
    code(
        "wav.label_in_info",
        &[Severity::Info],
        "a label is stored in the LIST/INFO '…' sub-chunk rather than a RIFF AIGC chunk",
    ),
    code(
        "wav.no_audio",
        &[Severity::Error],
        "no … chunk: the file holds no sound to bind",
    ),
    code(
        "wav.rf64",
        &[Severity::Error],
        "an RF64 file without a ds64 chunk first: the sizes of its chunks are unknown",
    ),
    code(
        "wav.riff_size",
        &[Severity::Error],
        "the ds64 chunk declares a … byte file, the file has …",
    ),
    code(
        "wav.samples_not_read",
        &[Severity::Info],
        "the audible label was not looked for: …",
    ),
    code(
        "wav.truncated",
        &[Severity::Error],
        "the WAV file ends before its chunks do",
    ),
    code(
        "wav.unbound_audio",
        &[Severity::Error],
        "a '…' chunk at offset … holds sound or pictures a decoder may present, outside the bound fmt and data chunks",
    ),
    code(
        "wav.unknown_chunk",
        &[Severity::Warning],
        "chunks of unknown type, not bound (decoders skip them): …",
    ),
    code(
        "wav.xmp_damaged",
        &[Severity::Warning],
        "the _PMX chunk holds no readable XMP: …",
    ),
    code(
        "webp.canvas_mismatch",
        &[Severity::Error],
        "the VP8X canvas is …×…, the image …×…; decoders refuse it",
    ),
    code(
        "webp.chunk_before_image",
        &[Severity::Error],
        "a simple-format file (no VP8X) whose first chunk is …; decoders refuse it",
    ),
    code(
        "webp.no_image",
        &[Severity::Error],
        "the file has no image data",
    ),
    code(
        "webp.no_vp8x",
        &[Severity::Warning],
        "metadata chunks in a simple-format file (no VP8X chunk); readers may ignore them",
    ),
    code(
        "webp.vp8x_misplaced",
        &[Severity::Error],
        "a VP8X chunk that is not the first chunk; decoders ignore it or refuse the file",
    ),
    code(
        "webp.vp8x_short",
        &[Severity::Error],
        "the VP8X chunk is shorter than 10 bytes",
    ),
    code(
        "webp.xmp_duplicate",
        &[Severity::Warning],
        "… XMP chunks; a file should have one",
    ),
    code(
        "webp.xmp_flag_missing",
        &[Severity::Warning],
        "an XMP chunk is present but the VP8X XMP flag is not set",
    ),
    code(
        "webp.xmp_flag_without_chunk",
        &[Severity::Info],
        "the VP8X XMP flag is set but there is no XMP chunk",
    ),
    code(
        "xmp.attribute_form",
        &[Severity::Info],
        "the AIGC label is written as an attribute in …",
    ),
    code(
        "xmp.duplicate_property",
        &[Severity::Warning],
        "the XMP packet in … holds the AIGC label … times",
    ),
    code(
        "xmp.field_form",
        &[Severity::Info],
        "the label's fields are separate XMP properties in …; read as one record",
    ),
    code(
        "xmp.namespace",
        &[Severity::Warning],
        "the AIGC property in … is …, not in the TC260 namespace …",
    ),
    code(
        "xmp.prefix",
        &[Severity::Info],
        "the TC260 namespace is bound to the prefix … in …",
    ),
    code(
        "xmp.unreadable",
        &[Severity::Warning],
        "the XMP packet in … cannot be read: …",
    ),
];

/// The entry for `code`, if it is one.
pub fn lookup(code: &str) -> Option<&'static FindingCode> {
    FINDING_CODES
        .binary_search_by(|c| c.code.cmp(code))
        .ok()
        .map(|i| &FINDING_CODES[i])
}

/// `docs/findings.md`, as generated from [`FINDING_CODES`].
pub fn markdown_table() -> String {
    let mut s = String::from(
        "# Finding codes\n\nGenerated from `src/findings.rs` (`FINDING_CODES`); \
         `tests/finding_codes.rs` keeps both in step with the source.\n\n\
         | code | severity | meaning |\n|---|---|---|\n",
    );
    for c in FINDING_CODES {
        let sev: Vec<&str> = c
            .severities
            .iter()
            .map(|s| match s {
                Severity::Info => "info",
                Severity::Warning => "warning",
                Severity::Error => "error",
            })
            .collect();
        s.push_str(&format!(
            "| `{}` | {} | {} |\n",
            c.code,
            sev.join(", "),
            c.meaning.replace('|', "\\|")
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn sorted_unique_and_found() {
        for w in super::FINDING_CODES.windows(2) {
            assert!(w[0].code < w[1].code, "{} / {}", w[0].code, w[1].code);
        }
        assert!(super::lookup("binding.mismatch").is_some());
        assert!(super::lookup("no.such_code").is_none());
    }
}
