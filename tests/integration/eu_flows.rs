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

/// A bank regenerates a notification (new message id and timestamp, so new bytes and a new file
/// id): its bookings carry the same servicer references and must not post again.
#[test]
fn a_regenerated_camt054_posts_nothing_twice() {
    let store = SqliteStore::in_memory().unwrap();
    local::import_accounts(&store, &samples().join("accounts.csv")).unwrap();
    let original = samples().join("eu/camt054-v08-batch.xml");
    let text = std::fs::read_to_string(&original).unwrap();
    let regenerated =
        text.replace("CBK20261122-0003", "CBK20261122-0003-RESENT").replace("18:05:00", "21:40:00");
    assert_ne!(text, regenerated);
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("camt054-resent.xml");
    std::fs::write(&copy, regenerated).unwrap();

    let config = IngestConfig::default();
    let first = local::ingest_path(&store, &original, Utc::now(), &config, |_| {}).unwrap();
    assert!(first.summary.applied > 0);
    let ledger = store.count(Table::Ledger).unwrap();
    let mut outcomes = Vec::new();
    let second =
        local::ingest_path(&store, &copy, Utc::now(), &config, |r| outcomes.push(r.decision.outcome))
            .unwrap();
    assert!(!second.seen_before, "different bytes, different file");
    assert!(outcomes.iter().all(|o| *o == Outcome::Duplicate), "{outcomes:?}");
    assert_eq!(store.count(Table::Ledger).unwrap(), ledger);
}
