#![no_main]
use aigcmark::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    aigcmark::fuzzing::verify_as(Format::Jpeg, data);
});
