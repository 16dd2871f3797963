//! Every market's sample files through the whole local pipeline, twice, plus the malformed one.

use std::path::{Path, PathBuf};

use chrono::Utc;
use remit::local;
use remit_domain::pipeline::IngestConfig;
use remit_domain::ports::{FileStatus, ResearchQueue};
use remit_domain::{Market, Outcome};
use remit_formats::profile::Routing;
use remit_store_sqlite::{SqliteStore, Table};

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples")
}

/// The samples as the landing bucket holds them, routed by `profiles/routing.toml` as `remit demo`
/// routes them (bank-profile files sit under their S3 prefixes).
fn drops() -> local::DropFolder {
    let routing = Routing::load(&samples().join("../profiles/routing.toml")).unwrap();
    local::DropFolder::new(&samples(), Some(routing))
}

fn files(folder: &str) -> Vec<PathBuf> {
    let v = drops().files(folder);
    assert!(!v.is_empty(), "no samples in {folder}");
    v
}

fn ingest(
    store: &SqliteStore,
    path: &Path,
    config: &IngestConfig,
    on_result: impl FnMut(&remit_domain::pipeline::PaymentResult),
) -> remit_domain::pipeline::FileReport {
    let source = drops().source(path).unwrap();
    local::ingest_source(store, path, &source, Utc::now(), config, on_result).unwrap()
}

fn loaded_store() -> SqliteStore {
    let store = SqliteStore::in_memory().unwrap();
    let n = local::import_accounts(&store, &samples().join("accounts.csv")).unwrap();
    assert_eq!(n, 14);
    store
}

#[test]
fn every_market_applies_and_queues_and_replays_post_nothing() {
    let store = loaded_store();
    let config = IngestConfig::default();
    for (folder, market) in [("ca", Market::CA), ("in", Market::IN), ("eu", Market::EU)] {
        let mut outcomes = Vec::new();
        for path in files(folder) {
            let report = ingest(&store, &path, &config, |r| {
                assert_eq!(r.market, market);
                outcomes.push(r.decision.outcome);
            });
            assert_eq!(report.status, FileStatus::Completed, "{}: {:?}", path.display(), report.reason);
            assert!(report.summary.balances(), "{}: {:?}", path.display(), report.summary);
        }
        assert!(outcomes.contains(&Outcome::Applied), "{folder}: {outcomes:?}");
        assert!(outcomes.contains(&Outcome::Research), "{folder}: {outcomes:?}");
        if market != Market::IN {
            // camt054-v08-reversal.xml recalls a credit of camt054-v08-batch.xml;
            // cpa005-returns-20260318.txt returns a credit of cpa005-rbc-20260315.txt.
            assert!(outcomes.contains(&Outcome::Reversed), "{folder}: {outcomes:?}");
        }
        let queued = outcomes.iter().filter(|o| **o == Outcome::Research).count();
        assert_eq!(
            store.open_items(market, 1000).unwrap().len(),
            queued,
            "{folder}: one item per queued payment"
        );
    }

    let ledger = store.count(Table::Ledger).unwrap();
    let items = store.count(Table::ResearchItems).unwrap();
    for folder in ["ca", "in", "eu"] {
        for path in files(folder) {
            let report = ingest(&store, &path, &config, |r| {
                assert_eq!(r.decision.outcome, Outcome::Duplicate, "{}", path.display());
            });
            assert!(report.seen_before);
        }
    }
    assert_eq!(store.count(Table::Ledger).unwrap(), ledger, "replays post nothing");
    assert_eq!(store.count(Table::ResearchItems).unwrap(), items, "replays queue nothing");
}

#[test]
fn a_malformed_file_is_quarantined_with_a_specific_reason() {
    let store = loaded_store();
    for path in files("bad") {
        let report = local::ingest_path(&store, &path, Utc::now(), &IngestConfig::default(), |_| {
            panic!("nothing may be processed from a bad file")
        })
        .unwrap();
        assert_eq!(report.status, FileStatus::Quarantined);
        let reason = report.reason.unwrap();
        assert!(reason.contains(path.file_name().unwrap().to_str().unwrap()), "names the file: {reason}");
    }
    assert_eq!(store.count(Table::Ledger).unwrap(), 0);
    assert_eq!(store.count(Table::Payments).unwrap(), 0);
}
