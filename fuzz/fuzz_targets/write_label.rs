#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((&b, rest)) = data.split_first() {
        aigcmark::fuzzing::write_then_read(aigcmark::fuzzing::format_from_byte(b), rest);
    }
});
