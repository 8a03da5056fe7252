#[path = "../tests/text_samples/mod.rs"]
mod text_samples;
use aigcmark::formats::text::{digest, marker, prompt};
use std::time::Instant;
fn main() {
    for (name, t) in text_samples::ALL {
        let mut s = String::new();
        while s.len() < 1 << 20 {
            s.push_str(t);
        }
        let t0 = Instant::now();
        let _ = digest::digest(&s);
        let d = t0.elapsed();
        let t0 = Instant::now();
        let r = marker::find_runs(&s).len();
        let f = t0.elapsed();
        let t0 = Instant::now();
        let p = prompt::detect(&s).len();
        let pd = t0.elapsed();
        println!("{name}: digest {d:?} runs {f:?} ({r}) detect {pd:?} ({p})");
    }
}
