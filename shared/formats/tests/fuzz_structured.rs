//! Replays the structured fuzz targets' committed seeds (`fuzz/corpus/structured_<format>/`)
//! on the stable toolchain: the files they describe (`fuzz/src/structured.rs`, included here)
//! must read without a panic. And keeps the generator honest: its plain files read.

#[path = "../../../fuzz/src/structured.rs"]
mod structured;

use std::fs;
use std::path::Path;

use remit_domain::FileId;
use remit_formats::SourceContext;
use structured::Target;

#[test]
fn structured_corpus() {
    for (target, name) in Target::ALL {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus")
            .join(format!("structured_{name}"));
        let mut n = 0;
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let data = fs::read(entry.unwrap().path()).unwrap();
            structured::run(target, &data);
            n += 1;
        }
        assert!(n >= 8, "{} holds a seed per theme", dir.display());
    }
}

/// Inputs of the plain theme describe files that read whole, payments included: the targets
/// reach the totals and the records, not just the first line.
#[test]
fn plain_structured_files_read() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for (target, name) in Target::ALL {
        let (mut read, mut with_payments) = (0, 0);
        for _ in 0..200 {
            let mut data = vec![0u8];
            data.extend((0..256).map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            }));
            let (file, wrapped) = structured::file(target, &data);
            assert!(!wrapped, "plain files are not wrapped");
            let ctx = SourceContext { file_id: FileId::of_bytes(&file), file_name: "plain".into() };
            let format = match target {
                Target::Cpa005 => remit_formats::Format::Cpa005,
                Target::Camt054 => remit_formats::Format::Camt054,
                Target::Mt940 => remit_formats::Format::Mt940,
                Target::IndiaCsv => remit_formats::Format::IndiaCsv,
                Target::IndiaJson => remit_formats::Format::IndiaJson,
            };
            let results: Vec<_> = remit_formats::open_as(format, ctx, &file[..]).collect();
            if results.iter().all(|r| r.is_ok()) {
                read += 1;
                with_payments += usize::from(!results.is_empty());
            }
        }
        assert!(
            read >= 80 && with_payments >= 60,
            "{name}: {read} of 200 plain files read, {with_payments} with payments"
        );
    }
}
