//! The contract between the core and the format modules.
//!
//! Bytes come in; a format's [`Handler`] finds the label carriers, computes the content binding
//! digest, looks for explicit labels and the watermark ([`Handler::scan`]); it changes the content
//! when asked to ([`Handler::edit_content`]: explicit label, watermark) and writes the label record
//! back at the byte level ([`Handler::write_label`]). The core parses the record, checks the seal
//! against the trust store and writes the report; it never looks inside a container itself.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::findings::Finding;
use crate::limits::Limits;
use crate::watermark::{Payload, WatermarkKey};

/// A file format aigcmark knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Format {
    Text,
    Markdown,
    Png,
    Jpeg,
    Webp,
    Wav,
    Mp3,
    Flac,
    Ogg,
}

impl Format {
    /// Every format, in a stable order.
    pub const ALL: [Format; 9] = [
        Format::Text,
        Format::Markdown,
        Format::Png,
        Format::Jpeg,
        Format::Webp,
        Format::Wav,
        Format::Mp3,
        Format::Flac,
        Format::Ogg,
    ];

    /// The short name used in reports and in the seal's `f=` field.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "markdown",
            Format::Png => "png",
            Format::Jpeg => "jpeg",
            Format::Webp => "webp",
            Format::Wav => "wav",
            Format::Mp3 => "mp3",
            Format::Flac => "flac",
            Format::Ogg => "ogg",
        }
    }

    /// Whether files of this format can show or play an explicit label of their own (a visible
    /// mark, an audible rhythm); text carries its prompt in the words.
    pub fn can_carry_explicit_mark(self) -> bool {
        matches!(
            self,
            Format::Png
                | Format::Jpeg
                | Format::Webp
                | Format::Wav
                | Format::Mp3
                | Format::Flac
                | Format::Ogg
        )
    }

    /// The inverse of [`Format::name`].
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The format a file name's extension says.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "txt" | "text" => Format::Text,
            "md" | "markdown" => Format::Markdown,
            "png" => Format::Png,
            "jpg" | "jpeg" => Format::Jpeg,
            "webp" => Format::Webp,
            "wav" | "wave" => Format::Wav,
            "mp3" => Format::Mp3,
            "flac" => Format::Flac,
            "ogg" | "oga" | "opus" => Format::Ogg,
            _ => return None,
        })
    }

    /// The format the first bytes say (magic numbers); `None` for anything else, text included.
    pub fn sniff(head: &[u8]) -> Option<Format> {
        let starts = |m: &[u8]| head.starts_with(m);
        if starts(b"\x89PNG\r\n\x1a\n") {
            Some(Format::Png)
        } else if starts(b"\xFF\xD8\xFF") {
            Some(Format::Jpeg)
        } else if head.len() >= 12 && starts(b"RIFF") && &head[8..12] == b"WEBP" {
            Some(Format::Webp)
        } else if head.len() >= 12
            && (starts(b"RIFF") || starts(b"RF64"))
            && &head[8..12] == b"WAVE"
        {
            Some(Format::Wav)
        } else if starts(b"fLaC") {
            Some(Format::Flac)
        } else if starts(b"OggS") {
            Some(Format::Ogg)
        } else if starts(b"ID3") || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) {
            Some(Format::Mp3)
        } else {
            None
        }
    }

    /// The format of a file: its content's magic first, then its extension, then text when the
    /// bytes are UTF-8. A mismatch between magic and extension resolves to the magic; a file
    /// whose magic names a format aigcmark does not read (PDF, ZIP, MP4, …) is never text.
    pub fn detect(path: Option<&Path>, head: &[u8]) -> Option<Format> {
        if let Some(f) = Format::sniff(head) {
            return Some(f);
        }
        if head.is_empty() || foreign_kind(head).is_some() {
            return None;
        }
        match path.and_then(Format::from_path) {
            Some(f @ (Format::Text | Format::Markdown)) => Some(f),
            Some(_) => None,
            // The head may end inside a character: only an invalid sequence says "not text".
            None if std::str::from_utf8(head)
                .map_or_else(|e| e.error_len().is_none(), |_| true) =>
            {
                Some(Format::Text)
            }
            None => None,
        }
    }
}

/// Formats aigcmark does not read, by their magic, so that they are named in errors and never
/// taken for text.
fn foreign_kind(head: &[u8]) -> Option<&'static str> {
    let starts = |m: &[u8]| head.starts_with(m);
    Some(if starts(b"%PDF-") {
        "a PDF document"
    } else if starts(b"PK\x03\x04") {
        "a ZIP archive (DOCX, XLSX, EPUB, …)"
    } else if head.len() >= 12 && &head[4..8] == b"ftyp" {
        "an MP4/MOV/HEIF file"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "a GIF image"
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        "a TIFF image"
    } else if starts(b"\x1a\x45\xdf\xa3") {
        "a Matroska/WebM file"
    } else if starts(b"\0\0\0\x0cjP  ") {
        "a JPEG 2000 image"
    } else if head.len() >= 12 && starts(b"RIFF") && &head[8..12] == b"AVI " {
        "an AVI file"
    } else {
        return None;
    })
}

/// Why a file is not one aigcmark reads, for an error message.
pub fn unsupported_reason(path: Option<&Path>, bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "the file is empty".into();
    }
    if let Some(kind) = foreign_kind(bytes) {
        return format!("{kind}, which aigcmark does not read");
    }
    match path.and_then(|p| p.extension()).and_then(|e| e.to_str()) {
        Some(ext) => format!(
            "not a format aigcmark reads (the content is not text and its magic bytes name no \
             supported format; the name says .{ext}; use --format to say which)"
        ),
        None => "not a format aigcmark reads (use --format to say which)".into(),
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One place in a file that holds a label record, as found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Carrier {
    /// Where it was, for people: e.g. `XMP TC260:AIGC (APP1)`, `tEXt AIGC`, `RIFF AIGC chunk`.
    pub location: String,
    /// The record's text as stored (JSON, possibly wrapped or deviating; the core parses it).
    pub value: String,
    /// A metadata carrier, or a copy of the label kept inside the content.
    #[serde(skip)]
    pub kind: CarrierKind,
}

/// What a label carrier is to the standard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CarrierKind {
    /// The file's implicit label: GB 45438 checkers expect exactly one.
    #[default]
    Metadata,
    /// The metadata label repeated inside the content, so that it survives a copy of the content
    /// alone (Markdown's invisible markers beside its front matter label). Not a second label.
    InTextCopy,
}

/// What kind of explicit label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExplicitKind {
    /// A text prompt such as `【AI生成】`.
    TextPrompt,
    /// A visible mark drawn on an image.
    VisibleMark,
    /// The audible Morse "AI" rhythm.
    AudibleRhythm,
}

/// An explicit label found in the content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExplicitMark {
    pub kind: ExplicitKind,
    /// The prompt's words, when it is text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Where it is: `start`, `end`, `bottom-right`, `0.00s-1.20s`, …
    pub location: String,
    /// For a label recorded in the seal: whether it is still there unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intact: Option<bool>,
}

/// A watermark found in the content. Typed until it is serialised: the payload and its two
/// public tags appear in JSON as lowercase hex.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatermarkFound {
    /// The 64-bit payload.
    #[serde(serialize_with = "hex_payload")]
    pub payload: Payload,
    /// Its public parts, decoded (see [`Payload`]); the keyed tag is not shown.
    #[serde(serialize_with = "hex_bytes")]
    pub producer_tag: [u8; 2],
    #[serde(serialize_with = "hex_bytes")]
    pub content_tag: [u8; 4],
    /// Keyed bits that matched in the presence test, out of `compared_bits`.
    pub matching_bits: u32,
    pub compared_bits: u32,
    /// Probability that unmarked content gives a detection this strong, all searches included.
    pub false_positive_probability: f64,
    /// Where or how it was found (offset, scale, time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Whether it agrees with the sealed label's watermark id (null when there is no label).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agrees_with_label: Option<bool>,
}

impl WatermarkFound {
    /// A detection of `payload`, its tags filled in.
    pub fn new(
        payload: Payload,
        matching_bits: u32,
        compared_bits: u32,
        false_positive_probability: f64,
        location: String,
    ) -> Self {
        WatermarkFound {
            producer_tag: payload.producer_tag(),
            content_tag: payload.content_tag(),
            payload,
            matching_bits,
            compared_bits,
            false_positive_probability,
            location: Some(location),
            agrees_with_label: None,
        }
    }
}

fn hex_payload<S: serde::Serializer>(p: &Payload, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&p.id())
}

fn hex_bytes<S: serde::Serializer>(b: &[u8], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&crate::util::hex(b))
}

/// Outcome of looking for the watermark.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum WatermarkCheck {
    /// The format has no watermark, or looking was switched off.
    NotChecked,
    Absent,
    Detected(WatermarkFound),
}

/// Everything a handler reads from a file in one pass.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// Every label carrier found, in file order.
    pub carriers: Vec<Carrier>,
    /// SHA-256 of the content as the format defines it, label carriers excluded.
    pub digest: Option<[u8; 32]>,
    /// Explicit labels found in the content.
    pub explicit: Vec<ExplicitMark>,
    pub watermark: Option<WatermarkCheck>,
    /// Deviations found in the container (duplicates, odd placements, damage).
    pub findings: Vec<Finding>,
    /// AI declarations other than the GB 45438 label (IPTC DigitalSourceType, a C2PA manifest).
    pub declarations: Vec<Declaration>,
}

/// What kind of other AI declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeclarationKind {
    /// IPTC `Iptc4xmpExt:DigitalSourceType` (XMP).
    IptcDigitalSourceType,
    /// A C2PA manifest store (JUMBF) is present; its content is not validated here.
    C2paManifest,
}

/// An AI declaration that is not a GB 45438 label, as found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Declaration {
    pub kind: DeclarationKind,
    /// The declared value (e.g. the DigitalSourceType URI); empty when there is none to show.
    pub value: String,
    /// Where it was, for people: e.g. `XMP (APP1)`, `JUMBF (APP11)`, `caBX chunk`.
    pub location: String,
    /// True when the value says the content was made by AI (a `trainedAlgorithmicMedia` or
    /// `compositeWithTrainedAlgorithmicMedia` source type; a C2PA manifest's presence is `false`
    /// until its assertions are read).
    pub ai_generated: bool,
}

/// How to read.
#[derive(Debug, Clone, Copy)]
pub struct ScanOptions<'a> {
    pub limits: &'a Limits,
    /// Look for the watermark with this key; `None` skips watermark detection.
    pub watermark_key: Option<&'a WatermarkKey>,
    /// Look for explicit labels that need the samples decoded (the audible rhythm). Labeling
    /// turns it off: it needs only the carriers and the digest.
    pub explicit: bool,
}

/// Where an explicit label goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Placement {
    Start,
    End,
    Both,
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
}

impl Placement {
    pub fn name(self) -> &'static str {
        match self {
            Placement::Start => "start",
            Placement::End => "end",
            Placement::Both => "both",
            Placement::TopLeft => "top-left",
            Placement::TopRight => "top-right",
            Placement::BottomLeft => "bottom-left",
            Placement::BottomRight => "bottom-right",
        }
    }
}

/// What explicit label to add; each format fills in its own defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExplicitOptions {
    /// The words (text and image labels); `None` picks the format's default.
    pub text: Option<String>,
    /// Where; `None` picks the format's default.
    pub placement: Option<Placement>,
    /// Size: for images the text height as a fraction of the shortest side (at least 0.05).
    pub size: Option<f32>,
}

/// Changes to the content requested before sealing.
#[derive(Debug, Clone, Copy)]
pub struct ContentEdits<'a> {
    pub explicit: Option<&'a ExplicitOptions>,
    /// Embed this 64-bit payload with this key, where the format has a watermark.
    pub watermark: Option<(&'a WatermarkKey, [u8; 8])>,
    /// JPEG quality used when pixels must be re-encoded as JPEG (1–100).
    pub jpeg_quality: u8,
    pub limits: &'a Limits,
}

/// The content after [`Handler::edit_content`].
#[derive(Debug, Clone)]
pub struct Edited {
    /// The new bytes, or `None` when nothing had to change.
    pub bytes: Option<Vec<u8>>,
    /// The format of the new bytes (an MP3 that is watermarked comes back as WAV, say).
    pub format: Format,
    /// What the seal records about the explicit label (`ex=` field), allowed-character text.
    pub explicit_record: Option<String>,
    /// True when the watermark payload was embedded.
    pub watermarked: bool,
    /// What the caller should know (re-encoded, format changed, …).
    pub notes: Vec<Finding>,
}

/// Which metadata carriers an image label goes into. Strict GB 45438 checkers want exactly one
/// label per file, so the default is XMP alone; the image guide's Annex B forms (PNG `tEXt AIGC`,
/// JPEG EXIF UserComment) are written only when asked. Formats with a single carrier ignore it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CarrierChoice {
    /// XMP `TC260:AIGC` only (the default).
    #[default]
    Xmp,
    /// The Annex B form only (PNG `tEXt AIGC`, JPEG EXIF UserComment; XMP elsewhere).
    AnnexB,
    /// Both: two identical labels, which strict checkers report.
    Both,
}

impl CarrierChoice {
    /// The name used on the command line: `xmp`, `annex-b`, `both`.
    pub fn name(self) -> &'static str {
        match self {
            CarrierChoice::Xmp => "xmp",
            CarrierChoice::AnnexB => "annex-b",
            CarrierChoice::Both => "both",
        }
    }
    /// True when XMP is written.
    pub fn xmp(self) -> bool {
        self != CarrierChoice::AnnexB
    }
    /// True when the Annex B form is written.
    pub fn annex_b(self) -> bool {
        self != CarrierChoice::Xmp
    }
}

/// How to write the label record.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions<'a> {
    /// Which carriers to write (images; other formats have one).
    pub carriers: CarrierChoice,
    pub limits: &'a Limits,
}

/// One format's reader and writer.
pub trait Handler: Send + Sync {
    fn format(&self) -> Format;

    /// Reads carriers, content digest, explicit labels and (when a key is given) the watermark.
    fn scan(&self, input: &[u8], opts: &ScanOptions<'_>) -> Result<Scan>;

    /// Returns `input` with exactly one label record, `label_json`, in every carrier this format
    /// writes; carriers already present are replaced, everything else is kept byte for byte.
    fn write_label(
        &self,
        input: &[u8],
        label_json: &str,
        opts: &WriteOptions<'_>,
    ) -> Result<Vec<u8>>;

    /// [`Handler::write_label`] on bytes the caller gives up (what [`Handler::edit_content`]
    /// returned): a format that can add its label without moving anything writes it into them
    /// instead of copying the file once more. The result is the same; the default copies.
    fn write_label_owned(
        &self,
        input: Vec<u8>,
        label_json: &str,
        opts: &WriteOptions<'_>,
    ) -> Result<Vec<u8>> {
        self.write_label(&input, label_json, opts)
    }

    /// [`Handler::edit_content`] on bytes the caller gives up, with `input` given back when
    /// nothing had to change (`Edited::bytes` is `None`). A format that can edit in place does so
    /// (and returns the edited `input` as the new bytes) instead of copying the file; the default
    /// copies.
    fn edit_content_owned(
        &self,
        input: Vec<u8>,
        edits: &ContentEdits<'_>,
    ) -> Result<(Edited, Option<Vec<u8>>)> {
        let edited = self.edit_content(&input, edits)?;
        let back = edited.bytes.is_none().then_some(input);
        Ok((edited, back))
    }

    /// Adds the explicit label and/or the watermark. The default handles neither.
    fn edit_content(&self, _input: &[u8], edits: &ContentEdits<'_>) -> Result<Edited> {
        if edits.explicit.is_some() {
            return Err(Error::Unsupported(format!(
                "explicit labels for {} are not supported",
                self.format()
            )));
        }
        Ok(Edited {
            bytes: None,
            format: self.format(),
            explicit_record: None,
            watermarked: false,
            notes: Vec::new(),
        })
    }

    /// Checks an explicit label recorded in the seal (`ex=` text) against the content now: one
    /// mark per place the record names (an audible label at both ends is two marks).
    fn check_explicit(&self, _input: &[u8], _record: &str, _limits: &Limits) -> Vec<ExplicitMark> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_told_by_a_head_that_cuts_a_character() {
        let zh = "生成式人工智能的内容标识办法".repeat(4);
        let head = &zh.as_bytes()[..64];
        assert!(
            std::str::from_utf8(head).is_err(),
            "the head must cut a character"
        );
        assert_eq!(Format::detect(None, head), Some(Format::Text));
        // An invalid byte inside the head still says "not text".
        let mut bad = head.to_vec();
        bad[10] = 0xFF;
        assert_eq!(Format::detect(None, &bad), None);
    }
}
