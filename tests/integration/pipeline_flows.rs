//! The pipeline on synthetic payments: exactly-once, quarantine, control totals.

use std::fmt;
use std::io::Read;

use chrono::Utc;
use remit_domain::ingest::ChunkPlan;
use remit_domain::ingest::{
    self, Admitted, FileSource, Ingested, OpenError, Orchestrator, PaymentReader, ReadFailure, Routed,
};
use remit_domain::ingest::{FileMeta, FileReport, IngestConfig, IngestError, PaymentResult};
use remit_domain::model::money::Currency;
use remit_domain::ports::FileSummary;
use remit_domain::ports::{AccountDirectory, FileStatus, Ledger, ResearchQueue};
use remit_domain::{AccountStatus, FileId, Market, Outcome, Payment};
use remit_store_sqlite::{SqliteStore, Table};

use crate::fixtures::{account, payment, CARD_A, CARD_B, CARD_CLOSED};

/// What the synthetic reader says went wrong: a bad record, or a read of the bytes that failed.
#[derive(Debug, Clone)]
enum BadRecord {
    Content(&'static str),
    Read { source: bool, text: String },
}

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadRecord::Content(t) => f.write_str(t),
            BadRecord::Read { text, .. } => f.write_str(text),
        }
    }
}

impl std::error::Error for BadRecord {}

impl ReadFailure for BadRecord {
    fn source_failed(&self) -> bool {
        matches!(self, BadRecord::Read { source: true, .. })
    }
}

/// A file whose bytes are `bytes` (its identity is their hash) and whose reader yields `items`
/// once it has read every byte: the orchestrator's two passes over synthetic payments.
struct Synthetic {
    name: String,
    bytes: Vec<u8>,
    /// The source fails after this many bytes (a reset connection).
    fail_after: Option<usize>,
    items: Vec<Result<Payment, BadRecord>>,
}

impl Synthetic {
    fn new(file: FileId, items: Vec<Result<Payment, BadRecord>>) -> Self {
        Self {
            name: format!("file-{}", file.short()),
            bytes: file.to_hex().into_bytes(),
            fail_after: None,
            items,
        }
    }

    fn of(file: FileId, payments: &[Payment]) -> Self {
        Self::new(file, payments.iter().cloned().map(Ok).collect())
    }

    /// The id the orchestrator registers it under.
    fn id(&self) -> FileId {
        FileId::of_bytes(&self.bytes)
    }
}

/// Fails with a reset connection once its bytes are read.
struct Resets<'a>(&'a [u8]);

impl Read for Resets<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0.is_empty() {
            return Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset"));
        }
        self.0.read(buf)
    }
}

impl FileSource for Synthetic {
    fn name(&self) -> &str {
        &self.name
    }

    fn route_key(&self) -> &str {
        &self.name
    }

    fn open(&self) -> Result<Box<dyn Read + '_>, OpenError> {
        Ok(match self.fail_after {
            Some(n) => Box::new(Resets(&self.bytes[..n])),
            None => Box::new(&self.bytes[..]),
        })
    }
}

impl PaymentReader for Synthetic {
    type Error = BadRecord;

    fn read<'a>(
        &'a self,
        _: &str,
        _: FileId,
        _: &str,
        mut bytes: Box<dyn Read + 'a>,
    ) -> Result<Routed<'a, BadRecord>, BadRecord> {
        let mut all = Vec::new();
        if let Err(e) = bytes.read_to_end(&mut all) {
            let source = ingest::is_source_failure(&e);
            return Err(BadRecord::Read { source, text: e.to_string() });
        }
        Ok(Routed { route: "synthetic".into(), payments: Box::new(self.items.clone().into_iter()) })
    }
}

/// Ingests a synthetic file whole.
fn ingest_synthetic(
    s: &SqliteStore,
    file: &Synthetic,
    on_result: impl FnMut(&PaymentResult),
) -> Result<FileReport, IngestError> {
    let config = IngestConfig::default();
    let orchestrator = Orchestrator { store: s, reader: file, config: &config };
    match orchestrator.ingest(file, Utc::now(), None, on_result)? {
        Ingested::Done(report) | Ingested::AlreadyIngested { report, .. } => Ok(report),
        Ingested::Split { .. } => unreachable!("no chunk size given"),
    }
}

fn store() -> SqliteStore {
    let s = crate::fixtures::sqlite();
    s.put_account(&account(CARD_A, Market::CA, Currency::CAD)).unwrap();
    s.put_account(&account(CARD_B, Market::CA, Currency::USD)).unwrap();
    let mut closed = account(CARD_CLOSED, Market::CA, Currency::CAD);
    closed.status = AccountStatus::Closed;
    s.put_account(&closed).unwrap();
    s
}

fn file_payments(file: FileId) -> Vec<Payment> {
    vec![
        payment("T1", 10000, "3782 822463 10005", file, 2),
        payment("T2", 2000, "no reference here", file, 2),
        payment("T3", 3000, "3714-496353-98431", file, 3),
        payment("T4", 4000, CARD_CLOSED, file, 3),
    ]
}

fn run(
    s: &SqliteStore,
    file: FileId,
    payments: Vec<Payment>,
) -> (remit_domain::ingest::FileReport, Vec<Outcome>) {
    let mut outcomes = Vec::new();
    let report =
        ingest_synthetic(s, &Synthetic::of(file, &payments), |r| outcomes.push(r.decision.outcome)).unwrap();
    (report, outcomes)
}

#[test]
fn applies_confident_matches_and_queues_the_rest() {
    let s = store();
    let file = FileId::of_bytes(b"one");
    let (report, outcomes) = run(&s, file, file_payments(file));
    assert_eq!(outcomes, vec![Outcome::Applied, Outcome::Research, Outcome::Research, Outcome::Research]);
    assert_eq!(report.summary.applied, 1);
    assert_eq!(report.summary.queued, 3);
    assert!(report.summary.balances());
    let queue = s.open_items(Market::CA, 10).unwrap();
    let codes: Vec<_> = queue.iter().map(|i| format!("{:?}", i.reason_code)).collect();
    // No reference, and the payer's name is that of every test holder: namesakes, not a match.
    assert!(codes.contains(&"Ambiguous".to_string()), "{codes:?}");
    assert!(codes.contains(&"CurrencyMismatch".to_string()), "{codes:?}");
    assert!(codes.contains(&"AccountClosed".to_string()), "{codes:?}");
}

#[test]
fn the_same_file_twice_posts_nothing_the_second_time() {
    let s = store();
    let file = FileId::of_bytes(b"one");
    run(&s, file, file_payments(file));
    let ledger_before = s.count(Table::Ledger).unwrap();
    let (report, outcomes) = run(&s, file, file_payments(file));
    assert!(report.seen_before);
    assert!(outcomes.iter().all(|o| *o == Outcome::Duplicate), "{outcomes:?}");
    assert_eq!(s.count(Table::Ledger).unwrap(), ledger_before);
    assert_eq!(s.count(Table::ResearchItems).unwrap(), 3);
    assert_eq!(s.posted_total(&crate::fixtures::card(CARD_A)).unwrap(), rust_decimal::Decimal::new(10000, 2));
}

#[test]
fn the_same_payment_in_another_file_is_a_duplicate() {
    let s = store();
    let f1 = FileId::of_bytes(b"one");
    let f2 = FileId::of_bytes(b"two");
    run(&s, f1, vec![payment("T1", 10000, CARD_A, f1, 2)]);
    let (_, outcomes) =
        run(&s, f2, vec![payment("T1", 10000, CARD_A, f2, 7), payment("T9", 500, CARD_A, f2, 8)]);
    assert_eq!(outcomes, vec![Outcome::Duplicate, Outcome::Applied]);
    assert_eq!(s.count(Table::Ledger).unwrap(), 2);
}

#[test]
fn a_bad_file_is_quarantined_and_posts_nothing() {
    let s = store();
    let file = FileId::of_bytes(b"bad");
    let good = payment("T1", 10000, CARD_A, file, 2);
    let items =
        vec![Ok(good), Err(BadRecord::Content("bad.txt: file: trailer says 2 credits, file holds 1"))];
    let report =
        ingest_synthetic(&s, &Synthetic::new(file, items), |_| panic!("no payment may be processed"))
            .unwrap();
    assert_eq!(report.status, FileStatus::Quarantined);
    assert!(report.reason.unwrap().contains("trailer says 2 credits"));
    assert_eq!(s.count(Table::Ledger).unwrap(), 0);
    assert_eq!(s.count(Table::Payments).unwrap(), 0);
}

#[test]
fn a_resumed_run_finishes_what_a_crash_left() {
    // A crash after receive_payment but before the decision leaves the payment `received`:
    // the next delivery decides it, once.
    let s = store();
    let file = FileId::of_bytes(b"one");
    let p = payment("T1", 10000, CARD_A, file, 2);
    remit_domain::ports::PaymentLog::receive_payment(&s, &p, Utc::now()).unwrap();
    let (_, outcomes) = run(&s, file, vec![p.clone()]);
    assert_eq!(outcomes, vec![Outcome::Applied]);
    // Delivered again in other bytes (the same bytes are answered from the file's record).
    let (_, outcomes) = run(&s, FileId::of_bytes(b"one, re-sent"), vec![p]);
    assert_eq!(outcomes, vec![Outcome::Duplicate]);
}

/// A credit carrying end-to-end id `e2e`, and its reversal (money back out, same reference).
fn credit_and_reversal(file: FileId, e2e: &str, cents: i64) -> (Payment, Payment) {
    let mut credit = payment(&format!("C-{e2e}"), cents, CARD_A, file, 1);
    credit.references.end_to_end_id = Some(e2e.into());
    let mut reversal = payment(&format!("R-{e2e}"), cents, "", file, 2);
    reversal.references.end_to_end_id = Some(e2e.into());
    reversal.reversal = true;
    reversal.direction = remit_domain::Direction::Debit;
    (credit, reversal)
}

#[test]
fn a_reversal_undoes_its_posting_exactly_once() {
    let s = store();
    let f1 = FileId::of_bytes(b"credits");
    let (credit, reversal) = credit_and_reversal(f1, "E2E-77", 10000);
    let (_, outcomes) = run(&s, f1, vec![credit]);
    assert_eq!(outcomes, vec![Outcome::Applied]);
    let before = s.account(&crate::fixtures::card(CARD_A)).unwrap().unwrap().current_balance;

    let f2 = FileId::of_bytes(b"reversals");
    let (report, outcomes) = run(&s, f2, vec![reversal.clone()]);
    assert_eq!(outcomes, vec![Outcome::Reversed]);
    assert_eq!(report.summary.reversed, 1);
    assert!(report.summary.balances());
    let after = s.account(&crate::fixtures::card(CARD_A)).unwrap().unwrap().current_balance;
    assert_eq!(after - before, rust_decimal::Decimal::new(10000, 2));
    assert_eq!(s.posted_total(&crate::fixtures::card(CARD_A)).unwrap(), rust_decimal::Decimal::ZERO);

    // The same reversal delivered again (in other bytes): a duplicate, nothing moves.
    let (_, outcomes) = run(&s, FileId::of_bytes(b"reversals, re-sent"), vec![reversal.clone()]);
    assert_eq!(outcomes, vec![Outcome::Duplicate]);
    // A second, different reversal of the same posting: research, not a second undo.
    let mut other = reversal;
    other.bank_ref = "R-second".into();
    let (_, outcomes) = run(&s, FileId::of_bytes(b"again"), vec![other]);
    assert_eq!(outcomes, vec![Outcome::Research]);
    assert_eq!(s.count(Table::Reversals).unwrap(), 1);
    assert_eq!(s.account(&crate::fixtures::card(CARD_A)).unwrap().unwrap().current_balance, after);
}

#[test]
fn a_reversal_of_nothing_we_posted_goes_to_research() {
    let s = store();
    let file = FileId::of_bytes(b"orphans");
    let (credit, orphan) = credit_and_reversal(file, "E2E-1", 10000);
    let (_, wrong_amount) = credit_and_reversal(file, "E2E-1", 9999);
    let mut wrong_amount = wrong_amount;
    wrong_amount.bank_ref = "R-wrong-amount".into();
    let mut orphan = orphan;
    orphan.references.end_to_end_id = Some("E2E-UNKNOWN".into());
    let (_, outcomes) = run(&s, file, vec![credit, orphan, wrong_amount]);
    assert_eq!(outcomes, vec![Outcome::Applied, Outcome::Research, Outcome::Research]);
    let reasons = crate::fixtures::open_reason_texts(&s, Market::CA);
    assert!(reasons.iter().any(|r| r.contains("match nothing we posted")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("other amounts")), "{reasons:?}");
    assert_eq!(s.count(Table::Reversals).unwrap(), 0);
}

#[test]
fn a_credit_and_its_reversal_in_one_file() {
    let s = store();
    let file = FileId::of_bytes(b"both");
    let (credit, reversal) = credit_and_reversal(file, "E2E-9", 5000);
    let (report, outcomes) = run(&s, file, vec![credit, reversal]);
    assert_eq!(outcomes, vec![Outcome::Applied, Outcome::Reversed]);
    assert!(report.summary.balances());
    assert_eq!(s.posted_total(&crate::fixtures::card(CARD_A)).unwrap(), rust_decimal::Decimal::ZERO);
}

/// A read that breaks off (a reset connection) is not the file's fault: nothing is posted, the
/// file is not quarantined (not even registered: its identity is unknown), and the retry
/// ingests it whole. Bad content still quarantines. The source's failure is told by the
/// reader's error (`ReadFailure`), which the orchestrator's tap marks.
#[test]
fn a_broken_read_is_retried_not_quarantined() {
    use remit_domain::ports::FileRegistry;
    let s = store();
    let file = FileId::of_bytes(b"broken read");
    let mut broken = Synthetic::of(file, &file_payments(file));
    broken.fail_after = Some(10);
    let err = ingest_synthetic(&s, &broken, |_| {}).unwrap_err();
    assert!(matches!(err, IngestError::Unreadable { .. }) && err.is_retryable(), "{err}");
    assert!(s.file(&broken.id()).unwrap().is_none(), "not registered, not quarantined");
    assert_eq!(s.count(Table::Ledger).unwrap(), 0, "nothing posted");
    broken.fail_after = None;
    let r = ingest_synthetic(&s, &broken, |_| {}).unwrap();
    assert_eq!(r.status, FileStatus::Completed);

    let bad = FileId::of_bytes(b"bad bytes");
    let invalid =
        Synthetic::new(bad, vec![Err(BadRecord::Read { source: false, text: "invalid gzip".into() })]);
    let r = ingest_synthetic(&s, &invalid, |_| {}).unwrap();
    assert_eq!(r.status, FileStatus::Quarantined);
}

/// Runs a file's payments the way the chunk worker does: admitted whole by the orchestrator,
/// then each chunk of `size` from a fresh read, the summaries added up.
fn run_in_chunks(s: &SqliteStore, file: FileId, payments: &[Payment], size: u64) -> FileSummary {
    let now = Utc::now();
    let config = IngestConfig::default();
    let source = Synthetic::of(file, payments);
    let orchestrator = Orchestrator { store: s, reader: &source, config: &config };
    let (admitted, plan) = match orchestrator.ingest(&source, now, Some(size), |_| {}).unwrap() {
        Ingested::Split { file, plan } => (file, plan),
        // A file no larger than one chunk is processed whole.
        Ingested::Done(report) => return report.summary,
        other => panic!("{other:?}"),
    };
    let parts: Vec<FileSummary> = plan
        .iter()
        .map(|c| orchestrator.process_chunk(&source, &admitted, &plan, &c, now).unwrap())
        .collect();
    orchestrator.complete_parts(&admitted.meta, admitted.seen_before, &parts).unwrap().summary
}

#[test]
fn a_file_processed_in_chunks_gives_the_whole_run_summary() {
    let file = FileId::of_bytes(b"one");
    let mut payments = file_payments(file);
    payments.push(payment("T5", 700, CARD_A, file, 4));
    let whole = store();
    let (report, _) = run(&whole, file, payments.clone());
    for size in [1, 2, 3, 5] {
        let split = store();
        let sum = run_in_chunks(&split, file, &payments, size);
        assert_eq!(sum, report.summary, "chunks of {size}");
        assert_eq!(split.count(Table::Ledger).unwrap(), whole.count(Table::Ledger).unwrap());
        assert_eq!(split.count(Table::ResearchItems).unwrap(), whole.count(Table::ResearchItems).unwrap());
        assert_eq!(
            split.posted_total(&crate::fixtures::card(CARD_A)).unwrap(),
            whole.posted_total(&crate::fixtures::card(CARD_A)).unwrap()
        );
    }
}

#[test]
fn a_chunk_whose_stream_ends_early_or_overruns_is_unstable() {
    let s = store();
    let file = FileId::of_bytes(b"one");
    let source = Synthetic::of(file, &file_payments(file));
    let meta = FileMeta { id: source.id(), name: "f".into(), size: 1 };
    let config = IngestConfig::default();
    let orchestrator = Orchestrator { store: &s, reader: &source, config: &config };
    let admitted =
        |payments| Admitted { meta: meta.clone(), payments, seen_before: false, route: "synthetic".into() };
    let chunk = |plan: &ChunkPlan, i| plan.chunk(i).unwrap();
    // The plan says five payments; the stream holds four: the last chunk cannot finish.
    let plan = ChunkPlan::new(5, 2);
    let err =
        orchestrator.process_chunk(&source, &admitted(5), &plan, &chunk(&plan, 2), Utc::now()).unwrap_err();
    assert!(matches!(err, IngestError::Unstable { .. }), "{err}");
    // The plan says three; the stream holds four: the last chunk sees one too many.
    let plan = ChunkPlan::new(3, 2);
    let err =
        orchestrator.process_chunk(&source, &admitted(3), &plan, &chunk(&plan, 1), Utc::now()).unwrap_err();
    assert!(matches!(err, IngestError::Unstable { .. }), "{err}");
    // A range from another plan is refused before anything runs.
    let other = remit_domain::ingest::Chunk { index: 0, first: 1, count: 2 };
    assert!(orchestrator.process_chunk(&source, &admitted(3), &plan, &other, Utc::now()).is_err());
}
