//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the readers on the stable
//! toolchain: every seed and every crash the fuzzers ever found must read without a panic.

use std::fs;
use std::path::Path;

use remit_domain::FileId;
use remit_formats::{Format, SourceContext};

fn replay(target: &str, format: Option<Format>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut n = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let data = fs::read(&path).unwrap();
        let ctx =
            SourceContext { file_id: FileId::of_bytes(&data), file_name: path.display().to_string().into() };
        match format {
            Some(f) => remit_formats::open_as(f, ctx, &data[..]).for_each(drop),
            None => {
                if let Ok((_, s)) = remit_formats::open(ctx, &data[..]) {
                    s.for_each(drop)
                }
            }
        }
        n += 1;
    }
    assert!(n > 0, "{} holds no seeds", dir.display());
}

#[test]
fn cpa005_corpus() {
    replay("cpa005", Some(Format::Cpa005));
}

#[test]
fn camt054_corpus() {
    replay("camt054", Some(Format::Camt054));
}

#[test]
fn india_csv_corpus() {
    replay("india_csv", Some(Format::IndiaCsv));
}

#[test]
fn india_json_corpus() {
    replay("india_json", Some(Format::IndiaJson));
}

#[test]
fn mt940_corpus() {
    replay("mt940", Some(Format::Mt940));
}

#[test]
fn mt942_corpus() {
    replay("mt942", Some(Format::Mt942));
}

#[test]
fn detect_corpus() {
    replay("detect", None);
}

/// The profile target's seeds: the first byte picks a shipped profile (as `fuzz/src/lib.rs`).
#[test]
fn profile_corpus() {
    let profiles =
        ["ca-billpay-remittance", "ca-eft80", "in-ecollect-mis-a", "in-ecollect-mis-b", "in-push-alert"].map(
            |name| {
                let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../profiles/{name}.toml"));
                remit_formats::profile::Profile::load(&path).unwrap()
            },
        );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/profile");
    let mut n = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let data = fs::read(entry.unwrap().path()).unwrap();
        let Some((&pick, file)) = data.split_first() else { continue };
        let ctx = SourceContext { file_id: FileId::of_bytes(file), file_name: "seed".into() };
        profiles[usize::from(pick) % profiles.len()].open(ctx, file).for_each(drop);
        n += 1;
    }
    assert!(n >= 5, "{} holds the five sample seeds", dir.display());
}
