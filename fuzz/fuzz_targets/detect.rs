//! Fuzzes detection plus whichever reader it picks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let ctx = remit_formats::SourceContext {
        file_id: remit_domain::FileId::of_bytes(data),
        file_name: "fuzz".into(),
    };
    if let Ok((_, stream)) = remit_formats::open(ctx, data) {
        for _ in stream {}
    }
});
