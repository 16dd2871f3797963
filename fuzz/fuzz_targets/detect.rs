//! Fuzzes detection (and zip/gzip unwrapping) plus whichever reader it picks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    remit_fuzz::read_to_end(None, data);
});
