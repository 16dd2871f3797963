//! Fuzzes the MT940 reader as routed for an MT942 interim report (floor limits, report time,
//! number and sum of entries): any bytes must give payments or an error, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    remit_fuzz::read_to_end(Some(remit_formats::Format::Mt942), data);
});
