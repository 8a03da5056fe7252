//! Labeling (the provider) and propagation (the platform): the library's writing side.
//!
//! Labeling runs in a fixed order because each step depends on the one before: choose the
//! ProduceID; derive the watermark payload from it; let the format add the explicit label and the
//! watermark (the only steps that change the content); hash the content as it now is; seal; write
//! the record into the format's carriers without touching anything else.

use crate::error::{Error, Result};
use crate::findings::Finding;
use crate::format::{
    CarrierChoice, ContentEdits, Edited, ExplicitOptions, Format, Handler, ScanOptions,
    WriteOptions,
};
use crate::formats;
use crate::keys::Signer;
use crate::label::{LabelKind, LabelRecord, check_value};
use crate::limits::Limits;
use crate::seal::{self, Claims};
use crate::watermark::{Payload, WatermarkKey};

/// How to label.
#[derive(Debug, Clone)]
pub struct LabelOptions {
    /// The `Label` field: generated, possibly generated, or suspected (default generated).
    pub kind: LabelKind,
    /// `ContentProducer`: the provider's 27-character code (a name is allowed if it fits Annex E).
    pub content_producer: String,
    /// `ProduceID`; `None` makes a fresh unique one.
    pub produce_id: Option<String>,
    /// Add the explicit label, with these options.
    pub explicit: Option<ExplicitOptions>,
    /// Text and Markdown get the default explicit prompt even when `explicit` is `None`, as
    /// GB 45438 5.1 asks (default true); set false when the service shows the label in its own
    /// interface. Images and audio keep the explicit label opt-in.
    pub explicit_for_text: bool,
    /// Embed the watermark where the format has one (default on).
    pub watermark: bool,
    /// The key that fixes the watermark's patterns (default: the public key every verifier uses).
    pub watermark_key: WatermarkKey,
    /// Which metadata carriers images get (default XMP only: one label per file).
    pub carriers: CarrierChoice,
    /// Replace a label already in the input instead of refusing.
    pub replace: bool,
    /// JPEG quality when pixels must be re-encoded (default 92).
    pub jpeg_quality: u8,
    /// Signing time in Unix seconds; `None` is now.
    pub signed_at: Option<u64>,
    /// Resource limits for reading the input.
    pub limits: Limits,
    /// Also write a C2PA manifest (JPEG, PNG, WebP, WAV, MP3), signed by this signer, after the
    /// label and the watermark.
    #[cfg(feature = "c2pa")]
    pub c2pa: Option<crate::c2pa::sdk::C2paSigner>,
    /// Ask this RFC 3161 timestamp authority for a token over the seal's signature, after
    /// sealing and before writing: the token goes into the file's token carrier (see
    /// [`crate::timestamp::carried_in_file`]), or into [`Labeled::timestamp_token`] for formats
    /// without one. An authority that fails makes labeling fail.
    pub tsa: Option<crate::timestamp::TsaRequest>,
}

impl LabelOptions {
    /// Defaults: Label "1", fresh ProduceID, watermark on, XMP carrier only, the explicit prompt on
    /// text and Markdown only.
    pub fn new(content_producer: &str) -> Self {
        LabelOptions {
            kind: LabelKind::Generated,
            content_producer: content_producer.to_string(),
            produce_id: None,
            explicit: None,
            explicit_for_text: true,
            watermark: true,
            watermark_key: WatermarkKey::public_default(),
            carriers: CarrierChoice::Xmp,
            replace: false,
            jpeg_quality: 92,
            signed_at: None,
            limits: Limits::default(),
            #[cfg(feature = "c2pa")]
            c2pa: None,
            tsa: None,
        }
    }
}

/// A labeled file.
#[derive(Debug, Clone)]
pub struct Labeled {
    /// The output file.
    pub bytes: Vec<u8>,
    /// The output's format (differs from the input's when the content had to be re-encoded).
    pub format: Format,
    /// The label written, seal included.
    pub record: LabelRecord,
    /// The watermark id, when a watermark was embedded.
    pub watermark_id: Option<String>,
    /// What was done besides writing metadata (re-encoding, format change).
    pub notes: Vec<Finding>,
    /// The timestamp token (DER) when one was asked for ([`LabelOptions::tsa`]); it is also in
    /// `bytes` when the format carries it, else the caller keeps it beside the file.
    pub timestamp_token: Option<Vec<u8>>,
}

/// Labels `input` as AI-generated content and seals the label with `signer`.
pub fn label(
    input: &[u8],
    format: Format,
    signer: &Signer,
    opts: &LabelOptions,
) -> Result<Labeled> {
    label_input(Input::Borrowed(input), format, signer, opts)
}

/// [`label`] on bytes the caller gives up, with the same result: a 16-bit WAV then has its
/// samples watermarked where they lie and its label appended, without a second copy of the
/// file (the copy [`label`] must make of bytes it only borrows). Other formats and cases label
/// as [`label`] does. The bytes are gone on error.
pub fn label_owned(
    input: Vec<u8>,
    format: Format,
    signer: &Signer,
    opts: &LabelOptions,
) -> Result<Labeled> {
    label_input(Input::Owned(input), format, signer, opts)
}

/// The input to labeling: bytes to copy where they change, or bytes to change in place.
enum Input<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
}

/// The content after editing: new bytes, or the input as it was.
enum Content<'a> {
    Changed(Vec<u8>),
    Same(Input<'a>),
}

impl<'a> Input<'a> {
    fn bytes(&self) -> &[u8] {
        match self {
            Input::Borrowed(b) => b,
            Input::Owned(v) => v,
        }
    }

    /// [`Handler::edit_content`], in place when the input is owned and the format can; the
    /// content is taken out of the returned `Edited`.
    fn edit(
        self,
        handler: &dyn Handler,
        edits: &ContentEdits<'_>,
    ) -> Result<(Edited, Content<'a>)> {
        let (mut edited, back) = match self {
            Input::Borrowed(b) => {
                let e = handler.edit_content(b, edits)?;
                let back = e.bytes.is_none().then_some(Input::Borrowed(b));
                (e, back)
            }
            Input::Owned(v) => {
                let (e, back) = handler.edit_content_owned(v, edits)?;
                (e, back.map(Input::Owned))
            }
        };
        let content = match (edited.bytes.take(), back) {
            (Some(changed), _) => Content::Changed(changed),
            (None, Some(same)) => Content::Same(same),
            (None, None) => {
                return Err(Error::Unsupported(format!(
                    "the {} handler returned neither new content nor the input",
                    edited.format
                )));
            }
        };
        Ok((edited, content))
    }
}

fn label_input(
    input: Input<'_>,
    format: Format,
    signer: &Signer,
    opts: &LabelOptions,
) -> Result<Labeled> {
    let mut record = new_record(opts)?;
    let produce_id = record.produce_id.clone().unwrap_or_default();
    let handler = formats::handler(format)?;
    let scan_opts = ScanOptions {
        limits: &opts.limits,
        watermark_key: None,
        explicit: false,
    };
    let first = handler.scan(input.bytes(), &scan_opts)?;
    if !opts.replace && !first.carriers.is_empty() {
        return Err(Error::Refused(
            "the input already carries a label; relabeling replaces it only when asked \
             (--replace, LabelOptions::replace)"
                .into(),
        ));
    }

    let payload = Payload::new(&opts.content_producer, &produce_id, &signer.seed());
    let text_default = ExplicitOptions::default();
    let explicit = opts.explicit.as_ref().or_else(|| {
        (opts.explicit_for_text && matches!(format, Format::Text | Format::Markdown))
            .then_some(&text_default)
    });
    if let Some(words) = explicit.and_then(|e| e.text.as_deref())
        && matches!(format, Format::Png | Format::Jpeg | Format::Webp)
    {
        // GB 45438 5.2: the visible label holds both elements, as the text prompt does (the
        // text format checks its own prompt, with its shape).
        crate::formats::text::prompt::check_prompt_elements(words)?;
    }
    let edits = ContentEdits {
        explicit,
        watermark: opts.watermark.then_some((&opts.watermark_key, payload.0)),
        jpeg_quality: opts.jpeg_quality,
        limits: &opts.limits,
    };
    let (edited, content) = input.edit(handler, &edits)?;
    let handler = formats::handler(edited.format)?;
    // The first scan's digest still holds when the content was not changed.
    let digest = match &content {
        Content::Changed(changed) => handler.scan(changed, &scan_opts)?.digest,
        Content::Same(_) => first.digest,
    }
    .ok_or_else(|| Error::Unsupported(format!("{} content cannot be bound", edited.format)))?;

    let watermark_id = edited.watermarked.then(|| payload.id());
    seal_record(
        signer,
        &mut record,
        Claims {
            format: edited.format,
            content_digest: digest,
            signed_at: opts.signed_at.unwrap_or_else(crate::util::unix_now),
            watermark_id: watermark_id.clone(),
            explicit: edited.explicit_record.clone(),
        },
    )?;
    let json = record.to_json()?;
    let write = WriteOptions {
        carriers: opts.carriers,
        limits: &opts.limits,
    };
    let bytes = match content {
        Content::Changed(bytes) | Content::Same(Input::Owned(bytes)) => {
            handler.write_label_owned(bytes, &json, &write)?
        }
        Content::Same(Input::Borrowed(input)) => handler.write_label(input, &json, &write)?,
    };
    // The timestamp token over the new seal, in the file before a C2PA manifest binds it; a
    // replaced label's old token (over the old seal) goes.
    let (bytes, timestamp_token) = timestamp_into(bytes, edited.format, &record, opts)?;
    #[allow(unused_mut)]
    let mut notes = edited.notes;
    // Last: the C2PA manifest, whose hard binding covers the bytes as they now are (the GB
    // binding leaves its store out, so the label stays intact).
    #[cfg(feature = "c2pa")]
    let bytes = match &opts.c2pa {
        Some(c2pa_signer) if crate::c2pa::sdk::mime(edited.format).is_some() => {
            crate::c2pa::sdk::embed(
                &bytes,
                edited.format,
                &record,
                watermark_id.as_deref(),
                c2pa_signer,
            )?
        }
        Some(_) => {
            notes.push(Finding::warning(
                "c2pa.not_written",
                format!(
                    "no C2PA manifest written: C2PA is written into JPEG, PNG, WebP, WAV and \
                     MP3, not {}",
                    edited.format
                ),
            ));
            bytes
        }
        None => bytes,
    };
    Ok(Labeled {
        bytes,
        format: edited.format,
        record,
        watermark_id,
        notes,
        timestamp_token,
    })
}

/// Asks [`LabelOptions::tsa`] for a token over the provider's seal in `record` and puts it into
/// `bytes` where the format carries one; returns the bytes and the token.
fn timestamp_into(
    bytes: Vec<u8>,
    format: Format,
    record: &LabelRecord,
    opts: &LabelOptions,
) -> Result<(Vec<u8>, Option<Vec<u8>>)> {
    use crate::timestamp;
    let in_file = timestamp::carried_in_file(format);
    let Some(req) = &opts.tsa else {
        return Ok(if opts.replace && in_file {
            (
                timestamp::embed_token(format, &bytes, None, &opts.limits)?,
                None,
            )
        } else {
            (bytes, None)
        });
    };
    let seal = crate::seal::Seal::parse(record.reserved_code1.as_deref().unwrap_or(""))
        .map_err(|_| Error::Refused("the new seal cannot be read back".into()))?;
    let token = timestamp::request(&req.url, &seal.signature, req.timeout)?;
    let bytes = if in_file {
        timestamp::embed_token(format, &bytes, Some(&token), &opts.limits)?
    } else {
        bytes
    };
    Ok((bytes, Some(token)))
}

/// The first stage of every labeling (files, streamed text, PCM): the record with the
/// producer and ProduceID checked against Annex E, the ProduceID fresh unless one was given.
pub(crate) fn new_record(opts: &LabelOptions) -> Result<LabelRecord> {
    check_value("ContentProducer", &opts.content_producer)?;
    if opts.content_producer.is_empty() {
        return Err(Error::InvalidLabel("ContentProducer is required".into()));
    }
    let produce_id = match &opts.produce_id {
        Some(id) if id.is_empty() => return Err(Error::InvalidLabel("ProduceID is empty".into())),
        Some(id) => id.clone(),
        None => fresh_id(),
    };
    check_value("ProduceID", &produce_id)?;
    Ok(LabelRecord::new(
        opts.kind,
        &opts.content_producer,
        &produce_id,
    ))
}

/// The last stage before writing: seals `record` over the content as `claims` describe it.
pub(crate) fn seal_record(signer: &Signer, record: &mut LabelRecord, claims: Claims) -> Result<()> {
    record.reserved_code1 = Some(seal::seal_provider(signer, record, &claims)?);
    Ok(())
}

/// A file that carries the watermark alone, without a metadata label.
#[derive(Debug, Clone)]
pub struct Watermarked {
    /// The output file.
    pub bytes: Vec<u8>,
    /// The output's format (marked MP3, FLAC and Ogg come back as WAV).
    pub format: Format,
    /// What was done besides marking (re-encoding, format change).
    pub notes: Vec<Finding>,
}

/// Embeds the watermark `payload` into an image or a recording without writing a label (for a
/// service that labels elsewhere, or to mark content before it is edited further). Refuses when
/// nothing could be embedded: a format without a watermark, an image too small, audio shorter
/// than one watermark period.
pub fn embed_watermark(
    input: &[u8],
    format: Format,
    payload: Payload,
    key: &WatermarkKey,
    jpeg_quality: u8,
    limits: &Limits,
) -> Result<Watermarked> {
    embed_watermark_input(
        Input::Borrowed(input),
        format,
        payload,
        key,
        jpeg_quality,
        limits,
    )
}

/// [`embed_watermark`] on bytes the caller gives up, with the same result: a 16-bit WAV has its
/// samples marked where they lie, without a copy of the file (see [`label_owned`]).
pub fn embed_watermark_owned(
    input: Vec<u8>,
    format: Format,
    payload: Payload,
    key: &WatermarkKey,
    jpeg_quality: u8,
    limits: &Limits,
) -> Result<Watermarked> {
    embed_watermark_input(
        Input::Owned(input),
        format,
        payload,
        key,
        jpeg_quality,
        limits,
    )
}

fn embed_watermark_input(
    input: Input<'_>,
    format: Format,
    payload: Payload,
    key: &WatermarkKey,
    jpeg_quality: u8,
    limits: &Limits,
) -> Result<Watermarked> {
    let edits = ContentEdits {
        explicit: None,
        watermark: Some((key, payload.0)),
        jpeg_quality,
        limits,
    };
    let handler = formats::handler(format)?;
    let (edited, content) = input.edit(handler, &edits)?;
    if !edited.watermarked {
        let audio = matches!(
            format,
            Format::Wav | Format::Mp3 | Format::Flac | Format::Ogg
        );
        return Err(
            match edited
                .notes
                .iter()
                .find(|n| n.code == "watermark.not_embedded")
            {
                Some(n) => Error::Refused(n.message.clone()),
                None if audio => Error::Refused(format!(
                    "no watermark was embedded: the audio needs at least {:.2} s of sound (one \
                     whole period) to hold it",
                    crate::watermark::audio::PERIOD_SECONDS
                )),
                None => Error::Unsupported(format!("{format} files carry no watermark")),
            },
        );
    }
    Ok(Watermarked {
        bytes: match content {
            Content::Changed(bytes) | Content::Same(Input::Owned(bytes)) => bytes,
            Content::Same(Input::Borrowed(input)) => input.to_vec(),
        },
        format: edited.format,
        notes: edited.notes,
    })
}

/// How a platform propagates.
#[derive(Debug, Clone)]
pub struct PropagateOptions {
    /// `ContentPropagator`: the platform's code or name.
    pub content_propagator: String,
    /// `PropagateID`; `None` makes a fresh unique one.
    pub propagate_id: Option<String>,
    /// Which metadata carriers images get (default XMP only).
    pub carriers: CarrierChoice,
    /// Replace another platform's countersignature already in the label instead of refusing.
    pub replace: bool,
    /// Signing time in Unix seconds; `None` is now.
    pub signed_at: Option<u64>,
    /// Resource limits for reading the input.
    pub limits: Limits,
}

impl PropagateOptions {
    /// Options for `content_propagator` (a platform's code or name): fresh PropagateID, XMP carrier.
    pub fn new(content_propagator: &str) -> Self {
        PropagateOptions {
            content_propagator: content_propagator.to_string(),
            propagate_id: None,
            carriers: CarrierChoice::Xmp,
            replace: false,
            signed_at: None,
            limits: Limits::default(),
        }
    }
}

/// Adds a platform's `ContentPropagator`, `PropagateID` and countersignature (`ReservedCode2`) to
/// a labeled file, keeping the provider's fields and seal as they are.
pub fn propagate(
    input: &[u8],
    format: Format,
    signer: &Signer,
    opts: &PropagateOptions,
) -> Result<Labeled> {
    check_value("ContentPropagator", &opts.content_propagator)?;
    if opts.content_propagator.is_empty() {
        return Err(Error::InvalidLabel("ContentPropagator is required".into()));
    }
    let propagate_id = opts.propagate_id.clone().unwrap_or_else(fresh_id);
    check_value("PropagateID", &propagate_id)?;
    let handler = formats::handler(format)?;
    let scan = handler.scan(
        input,
        &ScanOptions {
            limits: &opts.limits,
            watermark_key: None,
            explicit: false,
        },
    )?;
    let carrier = scan.carriers.first().ok_or_else(|| {
        Error::Refused("the input carries no label to propagate; the provider labels first".into())
    })?;
    let mut record = LabelRecord::parse(&carrier.value, opts.limits.max_nesting_depth)
        .record
        .ok_or_else(|| Error::Refused("the input's label cannot be read; not propagated".into()))?;
    if record.kind().is_none() {
        return Err(Error::Refused(format!(
            "the input's Label is {:?}, not \"1\", \"2\" or \"3\"; not propagated",
            record.label.as_deref().unwrap_or("")
        )));
    }
    let digest = scan
        .digest
        .ok_or_else(|| Error::Unsupported(format!("{format} content cannot be bound")))?;
    let mut notes = Vec::new();
    if record.reserved_code2.is_some()
        || record.content_propagator.is_some()
        || record.propagate_id.is_some()
    {
        let before = format!(
            "{} (PropagateID {})",
            record
                .content_propagator
                .as_deref()
                .unwrap_or("an unnamed platform"),
            record.propagate_id.as_deref().unwrap_or("none")
        );
        if !opts.replace {
            return Err(Error::Refused(format!(
                "the label already carries the propagation of {before}; a label holds one \
                 platform's countersignature, so adding yours replaces it: pass --replace \
                 (PropagateOptions::replace) to do so"
            )));
        }
        notes.push(Finding::info(
            "propagation.replaced",
            format!("replaced the propagation of {before}"),
        ));
    }
    record.content_propagator = Some(opts.content_propagator.clone());
    record.propagate_id = Some(propagate_id);
    record.reserved_code2 = None;
    let claims = Claims {
        format,
        content_digest: digest,
        signed_at: opts.signed_at.unwrap_or_else(crate::util::unix_now),
        watermark_id: None,
        explicit: None,
    };
    record.reserved_code2 = Some(seal::seal_platform(signer, &record, &claims)?);
    let json = record.to_json()?;
    let bytes = handler.write_label(
        input,
        &json,
        &WriteOptions {
            carriers: opts.carriers,
            limits: &opts.limits,
        },
    )?;
    Ok(Labeled {
        bytes,
        format,
        record,
        watermark_id: None,
        notes,
        timestamp_token: None,
    })
}

/// A fresh identifier: 128 random bits as 32 lowercase hex digits.
pub fn fresh_id() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the operating system's random source is available");
    crate::util::hex(&b)
}
