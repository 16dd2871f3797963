//! Every market's sample files through the whole local pipeline, twice, plus the malformed one.

use std::path::{Path, PathBuf};

use remit::local::{LocalFile, SourceRouter};
use remit::objects::LocalObjects;

use chrono::Utc;
use remit::local;
use remit_domain::ingest::IngestConfig;
use remit_domain::ports::{FileStatus, ResearchQueue};
use remit_domain::{Market, Outcome};
use remit_store_sqlite::{SqliteStore, Table};

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples")
}

/// The samples as the landing bucket holds them, routed by `profiles/routing.toml` as `remit demo`
/// routes them (bank-profile files sit under their S3 prefixes).
/// The samples folder as the local bucket.
fn bucket() -> LocalObjects {
    LocalObjects::new(samples()).unwrap()
}

fn router() -> SourceRouter {
    SourceRouter::load(&samples().join("../profiles/routing.toml")).unwrap()
}

/// The files dropped under `folder`, as local files routed by their key.
fn files(folder: &str) -> Vec<LocalFile> {
    let root = samples();
    let v: Vec<LocalFile> = local::drops(&bucket(), &format!("{folder}/"))
        .unwrap()
        .iter()
        .map(|o| LocalFile::under(&root, &root.join(&o.key)))
        .collect();
    assert!(!v.is_empty(), "no samples in {folder}");
    v
}

fn ingest(
    store: &SqliteStore,
    file: &LocalFile,
    config: &IngestConfig,
    on_result: impl FnMut(&remit_domain::ingest::PaymentResult),
) -> remit_domain::ingest::FileReport {
    local::ingest(store, file, &router(), Utc::now(), config, on_result).unwrap()
}

fn loaded_store() -> SqliteStore {
    let store = crate::fixtures::sqlite();
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
        for file in files(folder) {
            let path = file.path();
            let report = ingest(&store, &file, &config, |r| {
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
        for file in files(folder) {
            let path = file.path();
            let report = ingest(&store, &file, &config, |r| {
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
    for file in files("bad") {
        let path = file.path();
        let report = local::ingest_path(&store, path, Utc::now(), &IngestConfig::default(), |_| {
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

/// A local file that counts how often it is opened.
struct Counted(LocalFile, std::cell::Cell<u32>);

impl remit_domain::ingest::FileSource for Counted {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn route_key(&self) -> &str {
        self.0.route_key()
    }

    fn open(&self) -> Result<Box<dyn std::io::Read + '_>, remit_domain::ingest::OpenError> {
        self.1.set(self.1.get() + 1);
        self.0.open()
    }
}

/// Issue 14: `remit ingest` reads each file at most twice (hash, route and validate in the
/// first read; process in the second); the same bytes again once; a bad file once.
#[test]
fn the_cli_reads_each_file_at_most_twice() {
    use remit_domain::ingest::FileSource;
    let store = loaded_store();
    let config = IngestConfig::default();
    for folder in ["ca", "in", "eu"] {
        for file in files(folder) {
            let counted = Counted(file, std::cell::Cell::new(0));
            let report = local::ingest(&store, &counted, &router(), Utc::now(), &config, |_| {}).unwrap();
            assert_eq!(report.status, FileStatus::Completed, "{}", counted.name());
            assert_eq!(counted.1.get(), 2, "{}", counted.name());
            counted.1.set(0);
            local::ingest(&store, &counted, &router(), Utc::now(), &config, |_| {}).unwrap();
            assert_eq!(counted.1.get(), 1, "{} again", counted.name());
        }
    }
    for file in files("bad") {
        let counted = Counted(file, std::cell::Cell::new(0));
        let report = local::ingest(&store, &counted, &router(), Utc::now(), &config, |_| {}).unwrap();
        assert_eq!(report.status, FileStatus::Quarantined);
        assert_eq!(counted.1.get(), 1, "{}", counted.name());
    }
}
