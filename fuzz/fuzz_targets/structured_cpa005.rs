//! Fuzzes the cpa005 reader with near-valid files built from the input
//! (`remit_fuzz::structured`): big amounts, long fields, CR endings, controls, deep nesting,
//! gzip; any file must give payments or an error, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    remit_fuzz::structured::run(remit_fuzz::structured::Target::Cpa005, data);
});
