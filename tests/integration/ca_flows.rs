//! Canada-specific flows through the whole local pipeline: CPA-005 returns and reversals.

use std::path::{Path, PathBuf};

use chrono::Utc;
use remit::local;
use remit_domain::ingest::IngestConfig;
use remit_domain::ports::{AccountDirectory, ResearchQueue};
use remit_domain::{Market, Outcome};
use remit_store_sqlite::{SqliteStore, Table};
use rust_decimal::Decimal;

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples")
}

const ORIGINATOR: &str = "0003012345";
/// Active CAD accounts of `samples/accounts.csv`, as payers write them.
const CARD_8301: &str = "3726 018159 08301";
const CARD_1396: &str = "3466 131860 91396";
const TRACE_1: &str = "0003000110000000090001";
const TRACE_2: &str = "0003000110000000090002";

/// One 240-byte segment of a credit-family record (C, E, I): amount, its own trace number, the
/// payer's cross-reference, and for a return the original item's trace number (206-227) and
/// invalid data element id (230-240). The payer is the originator (short name 66-80, long name
/// 111-140, account for returns 170-190); we are the payee (20-40, 81-110).
fn seg(cents: u64, trace: &str, xref: &str, original: &str, invalid: &str) -> String {
    let mut s = format!(
        "450{cents:010}026120000300011{:<12}{trace:<22}000{:<15}{:<30}{:<30}{:<10}{xref:<19}{:<9}{:<12}",
        "0012345", "TREMBLAY JEAN", "AMERICAN EXPRESS CANADA", "Tremblay Jean", "", "081530012", "0423178"
    );
    s.push_str(&" ".repeat(205 - s.len()));
    s.push_str(&format!("{original:<22}  {invalid:<11}"));
    assert_eq!(s.len(), 240);
    s
}

/// A CPA-005 file of one detail record of type `kind`, with a trailer counting its segments as
/// credits (C and I both count there).
fn file(kind: char, file_no: &str, segs: &[(u64, String)]) -> Vec<u8> {
    let total: u64 = segs.iter().map(|(c, _)| c).sum();
    let body: String = segs.iter().map(|(_, s)| s.as_str()).collect();
    format!(
        "A000000001{ORIGINATOR}{file_no}02612000310{:<20}CAD\n\
         {kind}000000002{ORIGINATOR}{file_no}{body}\n\
         Z000000003{ORIGINATOR}{file_no}{:014}{:08}{total:014}{:08}{}\n",
        "",
        0,
        0,
        segs.len(),
        "0".repeat(44)
    )
    .into_bytes()
}

fn ingest(store: &SqliteStore, path: &Path) -> (bool, Vec<Outcome>) {
    let mut outcomes = Vec::new();
    let report = local::ingest_path(store, path, Utc::now(), &IngestConfig::default(), |r| {
        outcomes.push(r.decision.outcome)
    })
    .unwrap();
    assert!(report.summary.balances(), "{}: {:?}", path.display(), report.summary);
    (report.seen_before, outcomes)
}

fn balance(store: &SqliteStore, card: &str) -> Decimal {
    store.account(&crate::fixtures::card(&card.replace(' ', ""))).unwrap().unwrap().current_balance
}

/// Two credits post; a returned-credit (I) file naming the first one's item trace number undoes
/// exactly that posting, once: the same return file again, or the same return re-sent in a new
/// file, moves nothing, and a return whose original we never posted goes to research.
#[test]
fn a_returned_cpa005_credit_reverses_exactly_its_posting_once() {
    let store = crate::fixtures::sqlite();
    local::import_accounts(&store, &samples().join("accounts.csv")).unwrap();
    let dir = tempfile::tempdir().unwrap();

    let credits = dir.path().join("credits.txt");
    let segs =
        [(25000, seg(25000, TRACE_1, CARD_8301, "", "")), (7550, seg(7550, TRACE_2, CARD_1396, "", ""))];
    std::fs::write(&credits, file('C', "0201", &segs)).unwrap();
    assert_eq!(ingest(&store, &credits).1, [Outcome::Applied, Outcome::Applied]);
    let (before_8301, before_1396) = (balance(&store, CARD_8301), balance(&store, CARD_1396));

    // The return carries no card number: only the original trace number links it.
    let returns = dir.path().join("returns.txt");
    let segs = [
        (25000, seg(25000, "0003000110000000095001", "", TRACE_1, "00000000903")),
        (1000, seg(1000, "0003000110000000095002", "", "0003000110000000099999", "")),
    ];
    std::fs::write(&returns, file('I', "0202", &segs)).unwrap();
    assert_eq!(ingest(&store, &returns).1, [Outcome::Reversed, Outcome::Research]);
    assert_eq!(balance(&store, CARD_8301) - before_8301, Decimal::new(25000, 2), "250.00 back on the card");
    assert_eq!(balance(&store, CARD_1396), before_1396, "the other posting stands");
    assert_eq!(store.count(Table::Reversals).unwrap(), 1);
    let reasons = crate::fixtures::open_reason_texts(&store, Market::CA);
    assert!(reasons.iter().any(|r| r.contains("match nothing we posted")), "{reasons:?}");

    // The same return file delivered again.
    let (seen, outcomes) = ingest(&store, &returns);
    assert!(seen);
    assert!(outcomes.iter().all(|o| *o == Outcome::Duplicate), "{outcomes:?}");
    // The same returned item re-sent in another file (new file creation number, new bytes).
    let resent = dir.path().join("returns-resent.txt");
    std::fs::write(&resent, file('I', "0203", &segs[..1])).unwrap();
    let (seen, outcomes) = ingest(&store, &resent);
    assert!(!seen, "different bytes, different file");
    assert_eq!(outcomes, [Outcome::Duplicate]);

    assert_eq!(store.count(Table::Reversals).unwrap(), 1);
    assert_eq!(balance(&store, CARD_8301) - before_8301, Decimal::new(25000, 2));
}

/// A credit reversal (E) from the originator undoes the credit the same way; a second, different
/// reversal of an already reversed posting goes to research rather than undoing it twice.
#[test]
fn a_cpa005_credit_reversal_undoes_the_credit_and_not_twice() {
    let store = crate::fixtures::sqlite();
    local::import_accounts(&store, &samples().join("accounts.csv")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let credits = dir.path().join("credits.txt");
    std::fs::write(&credits, file('C', "0301", &[(7550, seg(7550, TRACE_2, CARD_1396, "", ""))])).unwrap();
    assert_eq!(ingest(&store, &credits).1, [Outcome::Applied]);
    let before = balance(&store, CARD_1396);

    // E totals have a trailer field of their own (69-90): write the file by hand.
    let e_file = |trace: &str, file_no: &str| {
        let mut bytes = file('E', file_no, &[(7550, seg(7550, trace, "", TRACE_2, ""))]);
        let text = String::from_utf8(bytes.clone()).unwrap();
        let z = text.rfind('Z').unwrap();
        // Move the one item from the credit totals (47-68) to the E totals (69-90).
        let fixed = format!("{}{:014}{:08}{:014}{:08}", &text[z..z + 46], 0, 0, 7550, 1);
        bytes.truncate(z);
        bytes.extend_from_slice(fixed.as_bytes());
        bytes.extend_from_slice(b"\n");
        bytes
    };
    let reversal = dir.path().join("reversal.txt");
    std::fs::write(&reversal, e_file("0003000110000000096001", "0302")).unwrap();
    assert_eq!(ingest(&store, &reversal).1, [Outcome::Reversed]);
    assert_eq!(balance(&store, CARD_1396) - before, Decimal::new(7550, 2));

    let another = dir.path().join("reversal-2.txt");
    std::fs::write(&another, e_file("0003000110000000096002", "0303")).unwrap();
    assert_eq!(ingest(&store, &another).1, [Outcome::Research]);
    assert_eq!(store.count(Table::Reversals).unwrap(), 1);
    assert_eq!(balance(&store, CARD_1396) - before, Decimal::new(7550, 2));
}

/// French accents from a Windows-1252 bill-payment file (read with its bank profile) reach the
/// research queue intact: what the Quebec analyst reads is the payer's own name.
#[test]
fn accents_from_a_windows_1252_bill_payment_file_reach_the_queue() {
    let store = crate::fixtures::sqlite();
    local::import_accounts(&store, &samples().join("accounts.csv")).unwrap();
    let profile =
        remit_formats::profile::Profile::load(&samples().join("../profiles/ca-billpay-remittance.toml"))
            .unwrap();
    let path = samples().join("ca/billpay/ca-billpay-remittance-20260316.txt");
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.contains(&0xEE), "î as one Windows-1252 byte");
    local::ingest(
        &store,
        &local::LocalFile::new(&path),
        &local::SourceRouter::only(local::Source::Profile(Box::new(profile))),
        Utc::now(),
        &IngestConfig::default(),
        |_| {},
    )
    .unwrap();
    let names: Vec<String> =
        store.open_items(Market::CA, 100).unwrap().into_iter().filter_map(|i| i.payer_name).collect();
    assert!(names.iter().any(|n| n == "Benoît Gagné"), "{names:?}");
    assert!(names.iter().all(|n| !n.contains('\u{FFFD}')), "{names:?}");
}

fn ingest_with(store: &SqliteStore, path: &Path, config: &IngestConfig) -> Vec<remit_domain::Decision> {
    let mut decisions = Vec::new();
    let report =
        local::ingest_path(store, path, Utc::now(), config, |r| decisions.push(r.decision.clone())).unwrap();
    assert!(report.summary.balances(), "{}: {:?}", path.display(), report.summary);
    decisions
}

/// A pre-authorized debit file we originate (samples/pad/, originator 0003099001, ours in the
/// configuration): off by default its debits go to research; with `own.CA.collect_debits` they
/// are collections posted to the cross-referenced cards, and the returned debit (J) reverses its
/// collection once and opens a "rejected direct debit" item so the team can call the cardmember.
#[test]
fn a_pad_file_we_originate_collects_only_when_configured_and_its_returns_reverse_once() {
    let pad = samples().join("pad/cpa005-pad-collections-20260320.txt");
    let back = samples().join("pad/cpa005-pad-returns-20260327.txt");

    let off = crate::fixtures::sqlite();
    local::import_accounts(&off, &samples().join("accounts.csv")).unwrap();
    let before = balance(&off, CARD_1396);
    let d = ingest_with(&off, &pad, &IngestConfig::default());
    assert!(d.iter().all(|d| d.outcome == Outcome::Research), "{d:?}");
    let debit =
        |d: &remit_domain::Decision| d.reasons.iter().any(|r| r.code == remit_domain::ReasonCode::Debit);
    assert!(d.iter().all(debit), "{d:?}");
    let d = ingest_with(&off, &back, &IngestConfig::default());
    assert_eq!(d[0].outcome, Outcome::Research, "nothing was collected, nothing to reverse");
    assert_eq!(balance(&off, CARD_1396), before);

    let mut config = IngestConfig::default();
    config.own.ca.collect_debits = true;
    let on = crate::fixtures::sqlite();
    local::import_accounts(&on, &samples().join("accounts.csv")).unwrap();
    let before = balance(&on, CARD_1396);
    let d = ingest_with(&on, &pad, &config);
    let outcomes: Vec<Outcome> = d.iter().map(|d| d.outcome).collect();
    // The third card of the file is closed in the directory: a collection for it waits for a person.
    assert_eq!(outcomes, [Outcome::Applied, Outcome::Applied, Outcome::Research], "{d:?}");
    assert!(d[2].reasons.iter().any(|r| r.code == remit_domain::ReasonCode::AccountClosed));
    assert_eq!(before - balance(&on, CARD_1396), Decimal::new(7550, 2), "75.50 collected");
    let d = ingest_with(&on, &back, &config);
    assert_eq!(d[0].outcome, Outcome::Reversed, "{d:?}");
    assert_eq!(balance(&on, CARD_1396), before, "the collection is undone");
    let items = on.open_items(Market::CA, 10).unwrap();
    let rdd: Vec<_> =
        items.iter().filter(|i| i.reason_code == remit_domain::ReasonCode::RejectedDirectDebit).collect();
    assert_eq!(rdd.len(), 1, "{items:?}");
    assert!(rdd[0].reasons[0].text.contains("contact the cardmember"), "{:?}", rdd[0].reasons);
    assert!(rdd[0].reasons[0].text.contains("***********1396"), "{:?}", rdd[0].reasons);
    // The same returns file again: nothing moves, no second item (issue 14: the same bytes are
    // answered from the first ingest, so no payment is decided again at all).
    let d = ingest_with(&on, &back, &config);
    assert!(d.iter().all(|d| d.outcome == Outcome::Duplicate), "{d:?}");
    assert_eq!(balance(&on, CARD_1396), before);
    assert_eq!(on.open_items(Market::CA, 10).unwrap().len(), items.len());
}
