//! EU-specific flows through the whole local pipeline.

use std::path::Path;

use chrono::Utc;
use remit::local;
use remit_domain::pipeline::IngestConfig;
use remit_domain::Outcome;
use remit_store_sqlite::{SqliteStore, Table};

fn samples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples")
}

/// Ingests the sample `original`, then `resent` (its bytes as a bank sends them again, so a new
/// file id): every payment of the second file must be a duplicate and the ledger must not move.
fn assert_resent_posts_nothing_twice(original: &str, resent: impl FnOnce(Vec<u8>) -> Vec<u8>) {
    let store = SqliteStore::in_memory().unwrap();
    local::import_accounts(&store, &samples().join("accounts.csv")).unwrap();
    let original = samples().join(original);
    let bytes = std::fs::read(&original).unwrap();
    let again = resent(bytes.clone());
    assert_ne!(bytes, again);
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("resent");
    std::fs::write(&copy, again).unwrap();

    let config = IngestConfig::default();
    let first = local::ingest_path(&store, &original, Utc::now(), &config, |_| {}).unwrap();
    assert!(first.summary.applied > 0);
    let ledger = store.count(Table::Ledger).unwrap();
    let mut outcomes = Vec::new();
    let second =
        local::ingest_path(&store, &copy, Utc::now(), &config, |r| outcomes.push(r.decision.outcome))
            .unwrap();
    assert!(!second.seen_before, "different bytes, different file");
    assert_eq!(outcomes.len() as u64, first.summary.payments);
    assert!(outcomes.iter().all(|o| *o == Outcome::Duplicate), "{outcomes:?}");
    assert_eq!(store.count(Table::Ledger).unwrap(), ledger);
}

/// A bank sends yesterday's MT940 statements again in a new file (new transmission reference,
/// LF instead of CRLF): nothing posts twice.
#[test]
fn a_re_sent_mt940_statement_posts_nothing_twice() {
    assert_resent_posts_nothing_twice("eu/mt940-abn-two-statements.sta", |bytes| {
        // Latin-1 bytes stay as they are: drop the CRs and rename the first transmission.
        let lf: Vec<u8> = bytes.into_iter().filter(|&b| b != b'\r').collect();
        let at = lf.windows(5).position(|w| w == b":20:A").unwrap() + 4;
        [&lf[..at], b"RESENT-", &lf[at..]].concat()
    });
}

/// A bank regenerates a notification (new message id and timestamp, so new bytes and a new file
/// id): its bookings carry the same servicer references and must not post again.
#[test]
fn a_regenerated_camt054_posts_nothing_twice() {
    assert_resent_posts_nothing_twice("eu/camt054-v08-batch.xml", |bytes| {
        let text = String::from_utf8(bytes).unwrap();
        text.replace("CBK20261122-0003", "CBK20261122-0003-RESENT")
            .replace("18:05:00", "21:40:00")
            .into_bytes()
    });
}
