//! Fuzzes the india_csv reader: any bytes must give payments or an error, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    remit_fuzz::read_to_end(Some(remit_formats::Format::IndiaCsv), data);
});
