//! India-specific flows through the whole local pipeline: retried deliveries of one UTR.

use std::path::{Path, PathBuf};

use chrono::Utc;
use remit::local;
use remit_domain::ingest::IngestConfig;
use remit_domain::ports::AccountDirectory;
use remit_domain::Outcome;
use remit_store_sqlite::{SqliteStore, Table};

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples")
}

/// The MIS CSV's first row: 45,000.00 to virtual account AMEX0100012345 (card ending 9118).
const UTR: &str = "HDFCN26325012345";

/// A push alert for `utr`, as a bank's retry may send it: its own sequence number and timestamp,
/// its own layout.
fn alert(utr: &str, sequence: &str, time: &str, indent: &str) -> String {
    format!(
        "{{\"GenericCorporateAlertRequest\": [\n{indent}{{\n\
         {indent}{indent}\"Alert Sequence No\": \"{sequence}\",\n\
         {indent}{indent}\"Virtual Account\": \"AMEX0100012345\",\n\
         {indent}{indent}\"Debit Credit\": \"C\",\n\
         {indent}{indent}\"Mnemonic Code\": \"NEFT\",\n\
         {indent}{indent}\"Transaction Amount\": \"45000.00\",\n\
         {indent}{indent}\"Transaction Description\": \"NEFT-{utr}-PRIYA VENKATARAMAN\",\n\
         {indent}{indent}\"Value Date\": \"21-11-2026 {time}\",\n\
         {indent}{indent}\"Remitter Name\": \"Priya Venkataraman\",\n\
         {indent}{indent}\"Remitter Account\": \"50100234567890\",\n\
         {indent}{indent}\"Remitter IFSC\": \"HDFC0001234\",\n\
         {indent}{indent}\"User Reference Number\": \"{utr}\"\n\
         {indent}}}\n]}}\n"
    )
}

fn ingest(store: &SqliteStore, path: &Path) -> (bool, Vec<(String, Outcome)>) {
    let mut outcomes = Vec::new();
    let report = local::ingest_path(store, path, Utc::now(), &IngestConfig::default(), |r| {
        outcomes.push((r.bank_ref.clone(), r.decision.outcome))
    })
    .unwrap();
    (report.seen_before, outcomes)
}

/// The same UTR from a retrying bank is one payment: posted from the MIS CSV, then a JSON alert
/// for it (another format, another file), the alert re-sent with other bytes (sequence number,
/// timestamp, whitespace) and once with the UTR lower-cased: all duplicates, nothing posts again.
#[test]
fn the_same_utr_in_a_csv_and_in_retried_json_alerts_posts_once() {
    let store = crate::fixtures::sqlite();
    local::import_accounts(&store, &samples().join("accounts.csv")).unwrap();
    let card = crate::fixtures::card("343194875749118");

    let (_, outcomes) = ingest(&store, &samples().join("in/india_ecollect_mis_20261121.csv"));
    assert!(outcomes.contains(&(UTR.to_string(), Outcome::Applied)), "{outcomes:?}");
    let ledger = store.count(Table::Ledger).unwrap();
    let balance = store.account(&card).unwrap().unwrap().current_balance;

    let dir = tempfile::tempdir().unwrap();
    let deliveries = [
        ("alert.json", alert(UTR, "000000200001", "10:42:17", "  ")),
        ("alert-retry.json", alert(UTR, "000000200417", "10:57:03", "\t")),
        ("alert-retry-2.json", alert(&UTR.to_ascii_lowercase(), "000000200999", "11:12:40", "    ")),
    ];
    for (name, text) in deliveries {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let (seen, outcomes) = ingest(&store, &path);
        assert!(!seen, "{name}: different bytes, a different file");
        assert_eq!(outcomes, [(UTR.to_string(), Outcome::Duplicate)], "{name}");
    }
    assert_eq!(store.count(Table::Ledger).unwrap(), ledger, "nothing posted twice");
    assert_eq!(store.account(&card).unwrap().unwrap().current_balance, balance);
}

/// A bank's MIS read by the native reader, then the same day's MIS of an onboarded bank read
/// with its profile (`profiles/in-ecollect-mis-a.toml`): every UTR already posted is a
/// duplicate, whichever reader carried it first.
#[test]
fn a_utr_read_natively_and_then_through_a_profile_posts_once() {
    let store = crate::fixtures::sqlite();
    local::import_accounts(&store, &samples().join("accounts.csv")).unwrap();
    let (_, first) = ingest(&store, &samples().join("in/india_ecollect_mis_20261121.csv"));
    let ledger = store.count(Table::Ledger).unwrap();

    let profile =
        remit_formats::profile::Profile::load(&samples().join("../profiles/in-ecollect-mis-a.toml")).unwrap();
    let router = local::SourceRouter::only(local::Source::Profile(Box::new(profile)));
    let path = samples().join("in/mis/in-ecollect-mis-a-20261121.csv");
    let mut second = Vec::new();
    local::ingest(
        &store,
        &local::LocalFile::new(&path),
        &router,
        Utc::now(),
        &IngestConfig::default(),
        |r| second.push((r.bank_ref.clone(), r.decision.outcome)),
    )
    .unwrap();

    let repeated: Vec<_> = second.iter().filter(|(utr, _)| first.iter().any(|(u, _)| u == utr)).collect();
    assert!(repeated.len() >= 3, "the samples share UTRs: {second:?}");
    assert!(repeated.iter().all(|(_, o)| *o == Outcome::Duplicate), "{repeated:?}");
    let new_applied = second.iter().filter(|(_, o)| *o == Outcome::Applied).count() as u64;
    assert_eq!(store.count(Table::Ledger).unwrap(), ledger + new_applied);
}
