//! Fuzzes the mt940 reader: any bytes must give payments or an error, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let ctx = remit_formats::SourceContext {
        file_id: remit_domain::FileId::of_bytes(data),
        file_name: "fuzz".into(),
    };
    for _ in remit_formats::open_as(remit_formats::Format::Mt940, ctx, data) {}
});
