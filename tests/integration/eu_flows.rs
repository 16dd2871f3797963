//! EU-specific flows through the whole local pipeline.

use std::path::Path;

use chrono::Utc;
use remit::local;
use remit_domain::ingest::IngestConfig;
use remit_domain::Outcome;
use remit_store_sqlite::Table;

fn samples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples")
}

/// Ingests the sample `original`, then `resent` (its bytes as a bank sends them again, so a new
/// file id): every payment of the second file must be a duplicate and the ledger must not move.
fn assert_resent_posts_nothing_twice(original: &str, resent: impl FnOnce(Vec<u8>) -> Vec<u8>) {
    let store = crate::fixtures::sqlite();
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

/// Issue 13 changed an MT940 line's key from its place in the statement to the bank's
/// reference (so the intraday MT942's copy is the same payment). A statement posted under the
/// old key and re-sent after the change must post nothing twice: the pipeline looks the old key
/// up too (`Payment::earlier_key`).
#[test]
fn a_statement_posted_under_the_earlier_key_posts_nothing_twice_when_re_sent() {
    use remit_domain::ingest::process_payment;
    use remit_domain::{EARLIER_STATEMENT_LINE, STATEMENT_LINE};
    let store = crate::fixtures::sqlite();
    local::import_accounts(&store, &samples().join("accounts.csv")).unwrap();
    let file = samples().join("eu/mt940-abn-two-statements.sta");
    let bytes = std::fs::read(&file).unwrap();
    let ctx = remit_formats::SourceContext {
        file_id: remit_domain::FileId::of_bytes(&bytes),
        file_name: "abn.sta".into(),
    };
    let payments: Vec<_> = remit_formats::open_as(remit_formats::Format::Mt940, ctx, &bytes[..])
        .collect::<Result<_, _>>()
        .unwrap();
    let config = IngestConfig::default();
    let now = Utc::now();
    // As the reader keyed them before: the place-based identity in `statement_line`.
    let mut applied = 0;
    for p in &payments {
        let mut old = p.clone();
        let place = old.references.other.iter().find(|(k, _)| k == EARLIER_STATEMENT_LINE).unwrap().1.clone();
        old.references.other.retain(|(k, _)| k != EARLIER_STATEMENT_LINE && k != STATEMENT_LINE);
        old.references.other.push((STATEMENT_LINE.into(), place));
        assert_ne!(old.key(), p.key());
        assert_eq!(Some(old.key()), p.earlier_key());
        if process_payment(&store, &old, now, &config).unwrap().decision.outcome == Outcome::Applied {
            applied += 1;
        }
    }
    assert!(applied > 0);
    let ledger = store.count(Table::Ledger).unwrap();
    for p in &payments {
        let r = process_payment(&store, p, now, &config).unwrap();
        assert_eq!(r.decision.outcome, Outcome::Duplicate, "{:?}", r.decision.reasons);
    }
    assert_eq!(store.count(Table::Ledger).unwrap(), ledger);
}
