//! Damaged images never make the image handlers panic: random truncations and byte changes of
//! labeled PNG, JPEG and WebP files go through scan, write_label and check_explicit.

mod common;

use std::sync::OnceLock;

use aigcmark::encode_image;
use aigcmark::format::{ScanOptions, WriteOptions};
use aigcmark::{ExplicitOptions, Format, LabelOptions, Limits};
use proptest::prelude::*;

struct Sample {
    format: Format,
    bytes: Vec<u8>,
    explicit: String,
}

/// Small labeled images (with a visible label) made once from the corpus.
fn samples() -> &'static [Sample] {
    static SAMPLES: OnceLock<Vec<Sample>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let photo = image::open(common::corpus_file("images/skimage/astronaut.png"))
            .unwrap()
            .resize(160, 160, image::imageops::FilterType::Triangle);
        let (signer, _) = common::demo_keys(7, common::PRODUCER);
        let mut opts = LabelOptions::new(common::PRODUCER);
        opts.watermark = false;
        opts.explicit = Some(ExplicitOptions::default());
        [Format::Png, Format::Jpeg, Format::Webp]
            .into_iter()
            .map(|format| {
                let bytes = encode_image(&photo, format, 85).unwrap();
                let out = aigcmark::label(&bytes, format, &signer, &opts).unwrap();
                let seal =
                    aigcmark::seal::Seal::parse(out.record.reserved_code1.as_deref().unwrap())
                        .unwrap();
                Sample {
                    format,
                    bytes: out.bytes,
                    explicit: seal.explicit.unwrap(),
                }
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn damaged_images_never_panic(
        which in 0usize..3,
        cut in 0.0f64..1.2,
        changes in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..8),
    ) {
        let s = &samples()[which];
        let mut bytes = s.bytes.clone();
        for (at, v) in changes {
            let i = ((bytes.len() as f64) * at) as usize;
            if let Some(b) = bytes.get_mut(i) {
                *b = v;
            }
        }
        let keep = ((bytes.len() as f64) * cut) as usize;
        bytes.truncate(keep);
        let limits = Limits::default();
        let handler = aigcmark::formats::handler(s.format).unwrap();
        let _ = handler.scan(&bytes, &ScanOptions { limits: &limits, watermark_key: None, explicit: true });
        let _ = handler.write_label(&bytes, "{\"Label\":\"1\"}", &WriteOptions { carriers: aigcmark::format::CarrierChoice::Both, limits: &limits });
        let _ = handler.check_explicit(&bytes, &s.explicit, &limits);
    }
}
