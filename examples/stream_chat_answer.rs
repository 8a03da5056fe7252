//! How do I label a chat answer while it streams?
//!
//! `cargo run --example stream_chat_answer`: feeds an answer token by token through
//! `TextLabelStream`, sends what it returns, and checks that the streamed bytes are exactly what
//! labeling the whole text at once gives.

use std::path::Path;

use aigcmark::text::{TextLabelStream, label_str};
use aigcmark::{LabelOptions, Signer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let signer = Signer::load(Path::new("samples/demo-key/signing.key"))?;
    let mut opts = LabelOptions::new("001191000000MA00DEMO0X10000");
    opts.produce_id = Some("chat-0001".into());
    opts.signed_at = Some(1_790_000_000);
    let answer = "Tides come from the Moon's pull on the oceans.\n\n\
                  The Sun adds a smaller pull; together they make spring and neap tides.\n";

    let mut stream = TextLabelStream::new(&signer, &opts)?;
    let mut sent = String::new();
    for token in answer.split_inclusive(' ') {
        // In a service: write this to the client now.
        sent.push_str(&stream.push(token));
    }
    sent.push_str(&stream.finish()?);

    let whole = label_str(answer, &signer, &opts)?;
    assert_eq!(
        sent, whole,
        "streaming gives the same bytes as labeling the whole text"
    );
    println!(
        "{}",
        sent.chars()
            .filter(|c| !is_invisible(*c))
            .collect::<String>()
    );
    println!(
        "({} characters sent, the label travels invisibly in them)",
        sent.chars().count()
    );
    Ok(())
}

fn is_invisible(c: char) -> bool {
    matches!(c as u32, 0xFE00..=0xFE0F | 0xE0100..=0xE01EF | 0xFEFF)
}
