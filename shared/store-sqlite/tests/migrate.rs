//! A data directory created before a column existed opens and reads.

use remit_domain::ports::ResearchQueue;
use remit_domain::Market;
use remit_store_sqlite::SqliteStore;

#[test]
fn research_items_without_warn_at_are_migrated_and_warn_at_their_due_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE research_items (
                id TEXT PRIMARY KEY, payment_key TEXT NOT NULL UNIQUE, market TEXT NOT NULL,
                file_id TEXT NOT NULL, bank_ref TEXT NOT NULL, amount TEXT NOT NULL,
                currency TEXT NOT NULL, payer_name TEXT, reason_code TEXT NOT NULL,
                reasons TEXT NOT NULL, candidate TEXT, confidence REAL NOT NULL,
                created_at TEXT NOT NULL, due_at TEXT NOT NULL, status TEXT NOT NULL,
                open_market TEXT, payer_identities TEXT);",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO research_items VALUES ('RQ-CA-old', 'CA|bank|old', 'CA', ?1, 'OLD', '1.00', 'CAD',
             NULL, 'no-reference', '[]', NULL, 0.0, '2026-04-02T20:00:00.000000Z',
             '2026-04-07T20:00:00.000000Z', 'open', 'CA', NULL)",
            [remit_domain::FileId::of_bytes(b"old").to_hex()],
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let items = store.open_items(Market::CA, 10).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].warn_at, items[0].due_at, "no earlier warning invented for old rows");
    drop(store);
    SqliteStore::open(&path).expect("opening again is a no-op");
}
