//! Times audio watermark detection on one raw file, in process (no decoding), for before/after
//! CPU-time comparisons of the detector: `perf stat -e task-clock wm_audio_time FILE.f32 CH RATE`.
//! `FILE.f32`: interleaved float samples, little-endian (e.g. `sox in.wav -e floating-point -b 32 out.f32`,
//! raw). Prints whether the mark of the robustness harness's key was found.
//! `wm_audio_time FILE.f32 CH RATE --embed OUT.f32` marks the file with that key instead.

use aigcmark::watermark::audio::{EmbedOptions, WatermarkKey, detect, embed};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: wm_audio_time FILE.f32 CHANNELS RATE");
        std::process::exit(2);
    }
    let bytes = std::fs::read(&args[1]).expect("read");
    let s: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let ch: usize = args[2].parse().expect("channels");
    let rate: u32 = args[3].parse().expect("rate");
    let key = WatermarkKey(*b"aigcmark-audio-robustness-key-01");
    if args.get(4).is_some_and(|a| a == "--embed") {
        let mut s = s;
        let payload = *b"\x01\x23\x45\x67\x89\xab\xcd\xef";
        embed(&mut s, ch, rate, &payload, &key, &EmbedOptions::default()).expect("embed");
        let out: Vec<u8> = s.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(&args[5], out).expect("write");
        return;
    }
    match detect(&s, ch, rate, &key) {
        Ok(Some(d)) => println!(
            "found: p {:.1e}, speed {:.3}, start {:.2}",
            d.false_positive_probability, d.speed, d.start_seconds
        ),
        Ok(None) => println!("not found"),
        Err(e) => println!("error: {e}"),
    }
}
