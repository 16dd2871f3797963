//! Issue 15, "Done when": after the demo, no card-shaped number is in clear anywhere the
//! pipeline wrote (every table of the store, every file of the data directory) nor in what the
//! CLI printed (`demo`, `parse`, `ingest --json`, `queue list`/`show`). The scan is the one the
//! masking uses (`holds_card_number`: 13-19 digits with a network prefix, Luhn-valid or not, any
//! separators); it is first shown to catch what it is for.

mod support;

use remit::card_scan::{scan_data_dir, scan_sqlite};
use remit_domain::text::masking::holds_card_number;
use support::{remit, root};

#[test]
fn the_scan_catches_a_card_number_in_a_cell_or_a_file_luhn_valid_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("remit.sqlite");
    let conn = rusqlite::Connection::open(&db).unwrap();
    // The note: a card number written with dots, one digit off (Luhn-invalid).
    conn.execute_batch(
        "CREATE TABLE notes (id INTEGER, note TEXT); INSERT INTO notes VALUES (1, 'card 3726.018159.08301');",
    )
    .unwrap();
    drop(conn);
    assert_eq!(scan_sqlite(&db).unwrap(), vec!["notes.note (row 1)".to_string()]);
    std::fs::write(dir.path().join("report.csv"), "account,amount\n3782 822463 10006,1.00\n").unwrap();
    let found = scan_data_dir(dir.path()).unwrap();
    assert_eq!(found, vec!["remit.sqlite: notes.note (row 1)".to_string(), "report.csv".to_string()]);
    // Bank numbers that are not card-shaped stay out: an IBAN, a UTR, a CPA-005 trace number.
    std::fs::write(
        dir.path().join("report.csv"),
        "DE89370400440532013000 SBIN0000300000000123456789 UTIBR52026112100001234 000301234000000000001\n",
    )
    .unwrap();
    assert_eq!(scan_data_dir(dir.path()).unwrap().len(), 1, "the IBAN, UTR and trace number are not cards");
}

fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn after_the_demo_no_card_number_is_in_clear_in_the_store_the_files_or_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let demo = remit(&data, &["demo", "--samples", &root().join("samples").display().to_string()]);
    assert!(demo.status.success(), "{}", text(&demo));
    assert!(!holds_card_number(&text(&demo)), "the demo's output");
    let found = scan_data_dir(&data).unwrap();
    assert!(found.is_empty(), "card numbers in clear: {found:?}");
    // The store holds tokens: the accounts are there, by token and last four.
    let db = data.join("demo/remit.sqlite");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let card: String = conn.query_row("SELECT card FROM accounts LIMIT 1", [], |r| r.get(0)).unwrap();
    assert!(card.starts_with("ct:") && card.bytes().filter(u8::is_ascii_digit).count() == 4, "{card}");

    // What the CLI prints about the samples, which carry card numbers (some one digit off).
    let demo_dir = data.join("demo");
    for sample in [
        "ca/cpa005-rbc-20260315.txt",
        "in/india_ecollect_mis_20261121.csv",
        "eu/camt054-v02-sepa-credits.xml",
    ] {
        let path = root().join("samples").join(sample).display().to_string();
        for args in [vec!["parse", path.as_str()], vec!["ingest", "--json", path.as_str()]] {
            let out = remit(&demo_dir, &args);
            assert!(!holds_card_number(&text(&out)), "remit {args:?}");
        }
    }
    for market in ["CA", "IN", "EU"] {
        let out = remit(&demo_dir, &["queue", "list", "--market", market]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(!holds_card_number(&text(&out)), "queue list {market}");
        for id in String::from_utf8_lossy(&out.stdout).split_whitespace().filter(|w| w.starts_with("RQ-")) {
            let shown = remit(&demo_dir, &["queue", "show", id]);
            assert!(!holds_card_number(&text(&shown)), "queue show {id}");
        }
    }
    let found = scan_data_dir(&data).unwrap();
    assert!(found.is_empty(), "after parse, ingest and queue: {found:?}");
}
