//! Fuzzes the profile-driven readers: a first byte picks a shipped profile, the rest is the
//! file; any bytes must give payments or an error, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    remit_fuzz::read_with_profile(data);
});
