//! One conformance suite for every store adapter: the ports' contract, written once. Each
//! adapter gets a `mod` below that hands the suite a fresh store.

use chrono::{Duration, TimeZone, Utc};
use remit_domain::matching::payer::duplicate_fingerprint;
use remit_domain::model::money::Currency;
use remit_domain::ports::FileSummary;
use remit_domain::ports::{
    AccountIndexKey, AlertKind, Alias, AuditAction, AuditEntry, FileRecord, FileRegistration, FileStatus,
    ItemChange, ItemStatus, LastFour, PayerCursor, PayerPayment, PaymentState, Posting, QueueCursor,
    QueueFilter, Receipt, ResearchItem, Reversal, Store, StoreError, Transition, MAX_AUDIT_PAGE,
    MAX_POSTING_LINES,
};
use remit_domain::research::queue::{self, Action, QueueError, QueuePolicy};
use remit_domain::{Decision, FileId, Market, Money, Outcome, Reason, ReasonCode, SplitLine};
use rust_decimal::Decimal;

use crate::fixtures::{account, payment, CARD_A, CARD_B, CARD_CLOSED};

pub(crate) fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
}

fn decision(outcome: Outcome) -> Decision {
    Decision {
        outcome,
        account: None,
        confidence: 0.5,
        reasons: vec![Reason::new(ReasonCode::NoReference, "test")],
        splits: Vec::new(),
        candidates: Vec::new(),
    }
}

fn item(store_key: &remit_domain::PaymentKey, id: &str, market: Market, due_hours: i64) -> ResearchItem {
    ResearchItem {
        id: id.into(),
        payment_key: store_key.clone(),
        market,
        file_id: FileId::of_bytes(b"f"),
        bank_ref: id.into(),
        amount: Money::from_minor(100, Currency::CAD),
        payer_name: Some("Côté".into()),
        payer_identities: vec!["name:EU:cote".into()],
        reason_code: ReasonCode::NoReference,
        reasons: vec![Reason::new(ReasonCode::NoReference, "no reference")],
        candidate: Some(crate::fixtures::card(CARD_A)),
        candidates: Vec::new(),
        confidence: 0.0,
        created_at: now(),
        warn_at: now() + Duration::minutes(due_hours * 45),
        due_at: now() + Duration::hours(due_hours),
        status: ItemStatus::Open,
        claim: None,
        version: 0,
        disposition: None,
        linking_refs: vec![format!("CA|bank|e2e:{id}")],
    }
}

fn posting_to_card_a(p: &remit_domain::Payment) -> Posting {
    Posting {
        payment_key: p.key(),
        account: crate::fixtures::card(CARD_A),
        amount: p.amount,
        lines: Vec::new(),
        file_id: p.source.file_id,
        posted_at: now(),
        decision: decision(Outcome::Applied),
        references: vec![format!("CA|bank|e2e:{}", p.bank_ref)],
    }
}

/// Runs every contract check against stores made by `new_store`.
pub fn run_all<S: Store>(new_store: impl Fn() -> S) {
    accounts_by_key_and_index(&new_store());
    files_register_once(&new_store());
    payments_receive_once(&new_store());
    posting_is_exactly_once(&new_store());
    enqueue_is_exactly_once_and_ordered(&new_store());
    decisions_exclude_each_other(&new_store());
    reversal_is_exactly_once(&new_store());
    accounts_by_last_digits_and_control(&new_store());
    aliases_are_learned_per_identity_and_account(&new_store());
    forget_alias_deletes_only_what_that_resolution_taught(&new_store());
    accounts_by_holder_name_key_in_their_market(&new_store());
    an_account_put_again_under_a_new_name_moves_in_the_name_index(&new_store());
    similar_payments_by_fingerprint_and_date(&new_store());
    split_posting_is_all_lines_once(&new_store());
    split_posting_that_breaks_its_contract_writes_nothing(&new_store());
    split_reversal_reverses_every_line_once(&new_store());
    queue_claims_are_one_at_a_time_and_expire(&new_store());
    queue_changes_are_versioned_and_audited_in_order(&new_store());
    audit_trail_is_whole_past_a_thousand_entries(&new_store());
    queue_notes_are_limited_per_item_and_per_analyst(&new_store());
    queue_resolve_posts_once_and_teaches(&new_store());
    queue_resolve_refuses_a_wrong_account(&new_store());
    queue_write_off_needs_a_second_person(&new_store());
    queue_resolve_above_the_limit_waits_for_a_second_person(&new_store());
    queue_lists_by_due_time_with_filters(&new_store());
    sla_alerts_are_pending_until_marked_once(&new_store());
    files_are_listed_by_time_received(&new_store());
    idempotency_records_follow_the_protocol(&new_store());
    idempotent_runs_repeat_nothing(&new_store());
    directory_search_finds_by_every_index_in_its_market(&new_store());
    directory_search_pages_go_on_after_an_account(&new_store());
    payer_history_is_newest_first_in_pages(&new_store());
    ledger_entry_by_payment_key(&new_store());
    open_page_follows_the_due_order_by_cursor(&new_store());
    closed_between_reads_a_window_oldest_first(&new_store());
    research_item_candidates_round_trip(&new_store());
    crate::sla_sweep::run_all(&new_store);
    crate::payer_flows::run_all(&new_store);
}

fn idempotency_records_follow_the_protocol<S: Store>(s: &S) {
    use remit_domain::ports::InvocationStart::{Completed, InProgress, Started};
    let at = |m: i64| now() + Duration::minutes(m);
    let day = at(24 * 60);
    assert_eq!(s.begin_invocation("ingest:a", now(), at(15), day).unwrap(), Started);
    // A duplicate delivery while the first runs: refused until the first one's deadline.
    assert_eq!(s.begin_invocation("ingest:a", at(1), at(16), day).unwrap(), InProgress { until: at(15) });
    s.complete_invocation("ingest:a", r#"{"applied":3}"#, day).unwrap();
    let done = Completed { result: r#"{"applied":3}"#.into() };
    assert_eq!(s.begin_invocation("ingest:a", at(2), at(17), day).unwrap(), done);
    assert_eq!(s.begin_invocation("ingest:a", at(60), at(75), day).unwrap(), done, "kept until it expires");
    // Expired: the key runs again (DynamoDB's TTL deletes late, so expiry is checked on read).
    let later = day + Duration::days(1);
    assert_eq!(s.begin_invocation("ingest:a", day, day + Duration::minutes(15), later).unwrap(), Started);
    // A crashed invocation (never completed) frees the key at its deadline.
    assert_eq!(s.begin_invocation("ingest:b", now(), at(15), day).unwrap(), Started);
    assert_eq!(s.begin_invocation("ingest:b", at(14), at(29), day).unwrap(), InProgress { until: at(15) });
    assert_eq!(s.begin_invocation("ingest:b", at(15), at(30), day).unwrap(), Started, "taken over");
    // A failed run abandons its record: the retry runs at once.
    s.abandon_invocation("ingest:b").unwrap();
    assert_eq!(s.begin_invocation("ingest:b", at(16), at(31), day).unwrap(), Started);
    // Abandoning never removes a completed record.
    s.complete_invocation("ingest:b", "1", day).unwrap();
    s.abandon_invocation("ingest:b").unwrap();
    assert_eq!(
        s.begin_invocation("ingest:b", at(17), at(32), day).unwrap(),
        Completed { result: "1".into() }
    );
}

fn idempotent_runs_repeat_nothing<S: Store>(s: &S) {
    use remit_domain::idempotency::{run_once, IdempotencyError, IdempotencyKey, DEFAULT_RECORD_TTL};
    let deadline = now() + Duration::minutes(15);
    let runs = std::cell::Cell::new(0);
    let op = || -> Result<u32, String> {
        runs.set(runs.get() + 1);
        Ok(41 + runs.get())
    };
    assert_eq!(
        run_once(s, &IdempotencyKey::sweep("1"), now(), deadline, DEFAULT_RECORD_TTL, op).unwrap(),
        42
    );
    assert_eq!(
        run_once(s, &IdempotencyKey::sweep("1"), now(), deadline, DEFAULT_RECORD_TTL, op).unwrap(),
        42,
        "saved answer"
    );
    assert_eq!(runs.get(), 1, "the operation ran once");
    let failed = run_once(s, &IdempotencyKey::sweep("2"), now(), deadline, DEFAULT_RECORD_TTL, || {
        Err::<u32, _>("boom".to_string())
    });
    assert!(matches!(failed, Err(IdempotencyError::Operation(ref e)) if e == "boom"));
    assert_eq!(
        run_once(s, &IdempotencyKey::sweep("2"), now(), deadline, DEFAULT_RECORD_TTL, op).unwrap(),
        43,
        "retry runs"
    );
}

fn sla_alerts_are_pending_until_marked_once<S: Store>(s: &S) {
    // a: warn at +3h, due at +4h; b: warn at +6h, due at +8h; c: due at +2h but closed.
    let a = queued(s, "SA", "RQ-CA-a", 4);
    let b = queued(s, "SB", "RQ-CA-b", 8);
    let c = queued(s, "SC", "RQ-CA-c", 2);
    queue::claim(s, &c.id, "ann", now(), &QueuePolicy::default()).unwrap();
    act(s, &c.id, "ann", &Action::Return("not ours".into()), now()).unwrap();
    let ids = |v: Vec<ResearchItem>| v.into_iter().map(|i| i.id).collect::<Vec<_>>();
    let at = |h: i64| now() + Duration::hours(h);
    assert!(s.pending_alerts(Market::CA, AlertKind::Warning, now(), 100).unwrap().is_empty());
    assert_eq!(ids(s.pending_alerts(Market::CA, AlertKind::Warning, at(3), 100).unwrap()), ["RQ-CA-a"]);
    assert!(s.pending_alerts(Market::CA, AlertKind::Breach, at(3), 100).unwrap().is_empty());
    assert_eq!(
        ids(s.pending_alerts(Market::CA, AlertKind::Breach, at(9), 100).unwrap()),
        ["RQ-CA-a", "RQ-CA-b"]
    );
    assert_eq!(ids(s.pending_alerts(Market::CA, AlertKind::Breach, at(9), 1).unwrap()), ["RQ-CA-a"]);
    assert!(s.pending_alerts(Market::IN, AlertKind::Breach, at(9), 100).unwrap().is_empty());
    // The mark is set once: the first call wins, later ones (another sweep) get false.
    assert!(s.mark_alerted(&a.id, AlertKind::Breach, at(9)).unwrap());
    assert!(!s.mark_alerted(&a.id, AlertKind::Breach, at(10)).unwrap());
    assert_eq!(ids(s.pending_alerts(Market::CA, AlertKind::Breach, at(9), 100).unwrap()), ["RQ-CA-b"]);
    // Warning and breach are separate marks.
    assert_eq!(
        ids(s.pending_alerts(Market::CA, AlertKind::Warning, at(9), 100).unwrap()),
        ["RQ-CA-a", "RQ-CA-b"]
    );
    assert!(s.mark_alerted(&a.id, AlertKind::Warning, at(9)).unwrap());
    // Closed and unknown items are never marked; marking changes no version.
    assert!(!s.mark_alerted(&c.id, AlertKind::Breach, at(9)).unwrap());
    assert!(!s.mark_alerted("RQ-CA-nope", AlertKind::Breach, at(9)).unwrap());
    assert_eq!(s.item(&a.id).unwrap().unwrap().version, 0);
    assert_eq!(s.item(&b.id).unwrap().unwrap().version, 0);
}

fn files_are_listed_by_time_received<S: Store>(s: &S) {
    let rec = |bytes: &[u8], name: &str, minutes: i64| FileRecord {
        id: FileId::of_bytes(bytes),
        name: name.into(),
        size: bytes.len() as u64,
        received_at: now() + Duration::minutes(minutes),
        status: FileStatus::Processing,
        reason: None,
        summary: None,
    };
    for (b, n, m) in [(&b"x"[..], "x", 30), (b"y", "y", -30), (b"z", "z", 24 * 60)] {
        s.register_file(&rec(b, n, m)).unwrap();
    }
    let summary = FileSummary { payments: 1, applied: 1, market: Some(Market::CA), ..FileSummary::default() };
    s.complete_file(&FileId::of_bytes(b"x"), &summary).unwrap();
    let names = |from: i64, to: i64| {
        s.files_received(now() + Duration::minutes(from), now() + Duration::minutes(to), 100)
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(-60, 60), ["y", "x"], "oldest first, end excluded");
    assert_eq!(names(30, 24 * 60), ["x"]);
    assert!(names(-120, -60).is_empty());
    let x = s.files_received(now(), now() + Duration::hours(1), 10).unwrap().remove(0);
    assert_eq!(x.summary.and_then(|s| s.market), Some(Market::CA));
    assert_eq!(s.files_received(now() - Duration::days(1), now() + Duration::days(2), 2).unwrap().len(), 2);
}

/// `queue::act` under the default queue policy.
pub(crate) fn act<S: Store>(
    s: &S,
    id: &str,
    who: &str,
    action: &Action,
    at: chrono::DateTime<Utc>,
) -> Result<queue::Done, QueueError> {
    queue::act(s, id, who, action, at, &QueuePolicy::default())
}

/// A queued CA payment of 1.00 CAD (research item `id`, due in `due_hours`), card A in the
/// directory.
pub(crate) fn queued<S: Store>(s: &S, bank_ref: &str, id: &str, due_hours: i64) -> ResearchItem {
    if s.account(&crate::fixtures::card(CARD_A)).unwrap().is_none() {
        s.put_account(&account(CARD_A, Market::CA, Currency::CAD)).unwrap();
    }
    let p = payment(bank_ref, 100, "", FileId::of_bytes(b"f"), 1);
    s.receive_payment(&p, now()).unwrap();
    let it = item(&p.key(), id, Market::CA, due_hours);
    assert_eq!(s.enqueue(&it).unwrap(), Transition::Done);
    it
}

fn queue_claims_are_one_at_a_time_and_expire<S: Store>(s: &S) {
    let it = queued(s, "QC1", "RQ-CA-c1", 4);
    let policy = QueuePolicy::default();
    let ann = queue::claim(s, &it.id, "ann", now(), &policy).unwrap().item;
    assert_eq!(ann.claim.as_ref().map(|c| c.analyst.as_str()), Some("ann"));
    assert_eq!(ann.version, 1);
    let e = queue::claim(s, &it.id, "bob", now() + Duration::minutes(5), &policy).unwrap_err();
    assert!(matches!(e, QueueError::ClaimedByOther { ref analyst, .. } if analyst == "ann"), "{e}");
    // The port itself refuses, whatever the caller checked.
    let audit = s.audit_trail(&it.id).unwrap()[0].clone();
    let forged = AuditEntry { actor: "bob".into(), ..audit };
    let later = now() + Duration::minutes(5);
    assert!(matches!(
        s.claim(&it.id, "bob", later, later + Duration::minutes(30), &forged),
        Err(StoreError::Conflict(_))
    ));
    // Expired: bob may take it.
    let bob = queue::claim(s, &it.id, "bob", now() + Duration::minutes(31), &policy).unwrap().item;
    assert_eq!(bob.claim.unwrap().analyst, "bob");
    let e = act(s, &it.id, "ann", &Action::Escalate("x".into()), now() + Duration::minutes(32));
    assert!(matches!(e, Err(QueueError::ClaimedByOther { .. })));
    let trail = s.audit_trail(&it.id).unwrap();
    let who: Vec<(&str, u64)> = trail.iter().map(|e| (e.actor.as_str(), e.seq)).collect();
    assert_eq!(who, vec![("ann", 1), ("bob", 2)]);
}

fn queue_changes_are_versioned_and_audited_in_order<S: Store>(s: &S) {
    let it = queued(s, "QV1", "RQ-CA-v1", 4);
    queue::claim(s, &it.id, "ann", now(), &QueuePolicy::default()).unwrap();
    act(s, &it.id, "carl", &Action::Note("called the bank, card 3782 822463 10005".into()), now()).unwrap();
    let current = s.item(&it.id).unwrap().unwrap();
    assert_eq!(current.version, 2);
    // A change prepared against an old version loses.
    let after =
        queue::apply(&current, "ann", &Action::Escalate("unknown payer".into()), now(), now()).unwrap();
    let audit = queue::audit_entry(&current, &after, "ann", &Action::Escalate("unknown payer".into()), now());
    let stale = ItemChange {
        expected_version: 1,
        after: ResearchItem { version: 2, ..after.clone() },
        audit: audit.clone(),
        posting: None,
    };
    assert!(matches!(s.transition(&stale), Err(StoreError::Conflict(_))));
    let done = s
        .transition(&ItemChange { expected_version: 2, after, audit: audit.clone(), posting: None })
        .unwrap();
    assert_eq!((done.status, done.version, done.claim.is_none()), (ItemStatus::Escalated, 3, true));
    assert!(
        matches!(
            s.transition(&ItemChange { expected_version: 2, after: done.clone(), audit, posting: None }),
            Err(StoreError::Conflict(_))
        ),
        "the same version twice"
    );
    assert!(s.open_items(Market::CA, 10).unwrap().iter().any(|i| i.id == it.id), "escalated stays queued");
    let trail = s.audit_trail(&it.id).unwrap();
    let steps: Vec<(u64, &str, AuditAction)> =
        trail.iter().map(|e| (e.seq, e.actor.as_str(), e.action)).collect();
    assert_eq!(
        steps,
        vec![
            (1, "ann", AuditAction::Claim),
            (2, "carl", AuditAction::Note),
            (3, "ann", AuditAction::Escalate)
        ]
    );
    assert_eq!((trail[0].before.status.as_str(), trail[0].before.claimed_by.as_deref()), ("open", None));
    assert_eq!(trail[0].after.claimed_by.as_deref(), Some("ann"));
    assert_eq!((trail[2].before.status.as_str(), trail[2].after.status.as_str()), ("open", "escalated"));
    assert_eq!(trail[2].after.reason.as_deref(), Some("unknown payer"));
    let notes = s.notes(&it.id).unwrap();
    assert_eq!(notes.len(), 1);
    assert!(notes[0].note.as_deref().unwrap().ends_with("***********0005"), "masked: {:?}", notes[0].note);
    assert!(s.audit_trail("RQ-CA-none").unwrap().is_empty());
}

/// Issue 15: the trail read stopped at 1,000 entries (`LIMIT 1000`, `MAX_AUDIT`), so notes could
/// hide a later claim or resolve. The whole trail is read, page by page.
fn audit_trail_is_whole_past_a_thousand_entries<S: Store>(s: &S) {
    let it = queued(s, "QA1", "RQ-CA-a1", 4);
    let mut current = s.item(&it.id).unwrap().unwrap();
    // Written through the port (the queue's rules would refuse this many notes).
    for i in 0..1001 {
        let note = Action::Note(format!("note {i}"));
        let after = queue::apply(&current, "carl", &note, now(), now()).unwrap();
        let audit = queue::audit_entry(&current, &after, "carl", &note, now());
        let change = ItemChange { expected_version: current.version, after, audit, posting: None };
        current = s.transition(&change).unwrap();
    }
    queue::claim(s, &it.id, "ann", now(), &QueuePolicy::default()).unwrap();
    let trail = s.audit_trail(&it.id).unwrap();
    let seqs: Vec<u64> = trail.iter().map(|e| e.seq).collect();
    assert_eq!(seqs.len(), 1002, "the trail stops at {:?}", seqs.last());
    assert_eq!(seqs, (1..=1002).collect::<Vec<u64>>());
    assert_eq!((trail[1001].actor.as_str(), trail[1001].action), ("ann", AuditAction::Claim));
    // A page: the entries after a seq, oldest first, at most the limit asked (capped).
    let seqs = |after: u64, limit: usize| -> Vec<u64> {
        s.audit_page(&it.id, after, limit).unwrap().iter().map(|e| e.seq).collect()
    };
    assert_eq!(seqs(0, 3), [1, 2, 3]);
    assert_eq!(seqs(998, 3), [999, 1000, 1001]);
    assert_eq!(seqs(1000, 10), [1001, 1002]);
    assert!(seqs(1002, 10).is_empty());
    assert_eq!(seqs(0, 5000).len(), MAX_AUDIT_PAGE);
    assert!(s.audit_page("RQ-CA-none", 0, 10).unwrap().is_empty());
}

/// Notes are limited per item and per analyst (`QueuePolicy`); other actions are not.
fn queue_notes_are_limited_per_item_and_per_analyst<S: Store>(s: &S) {
    let it = queued(s, "QN1", "RQ-CA-n1", 4);
    let policy = QueuePolicy { max_notes_per_item: 3, max_notes_per_analyst: 2, ..QueuePolicy::default() };
    let note = |who: &str| queue::act(s, &it.id, who, &Action::Note(format!("from {who}")), now(), &policy);
    note("ann").unwrap();
    note("ann").unwrap();
    let e = note("ann").unwrap_err();
    assert!(matches!(e, QueueError::NoteLimit { .. }), "{e}");
    assert!(e.to_string().contains("ann wrote 2 notes on it"), "{e}");
    note("bob").unwrap();
    let e = note("carl").unwrap_err();
    assert!(e.to_string().contains("it holds 3 notes"), "{e}");
    // The item still takes every other action.
    queue::claim(s, &it.id, "carl", now(), &policy).unwrap();
    queue::act(s, &it.id, "carl", &Action::Escalate("no payer".into()), now(), &policy).unwrap();
    let actions: Vec<AuditAction> = s.audit_trail(&it.id).unwrap().iter().map(|e| e.action).collect();
    assert_eq!(actions.len(), 5);
    assert_eq!(actions[3..], [AuditAction::Claim, AuditAction::Escalate]);
}

/// Issue 15: a resolve above the market's limit posts nothing and teaches nothing until a second
/// person approves; the approval posts once and teaches the payer as the first analyst resolved.
fn queue_resolve_above_the_limit_waits_for_a_second_person<S: Store>(s: &S) {
    let it = queued(s, "QF1", "RQ-CA-f1", 4);
    let card = crate::fixtures::card(CARD_A);
    // The payment is 1.00 CAD: a limit of 0.50 makes it a four-eyes resolve.
    let mut policy = QueuePolicy::default();
    policy.second_person_above.ca = Decimal::new(50, 2);
    queue::claim(s, &it.id, "ann", now(), &policy).unwrap();
    let asked = queue::resolve_by_applying(s, &it.id, &card, "ann", now(), &policy).unwrap();
    assert_eq!(asked.item.status, ItemStatus::ResolvePending);
    assert_eq!(s.posted_total(&card).unwrap(), Decimal::ZERO, "nothing posted before the approval");
    assert!(s.aliases_for("name:EU:cote").unwrap().is_empty(), "nothing taught before the approval");
    assert!(s.open_items(Market::CA, 10).unwrap().iter().any(|i| i.id == it.id), "it stays in the queue");
    let again = queue::resolve_by_applying(s, &it.id, &card, "ann", now(), &policy).unwrap();
    assert!(!again.changed, "a double click asks once");
    let e = queue::approve_resolve(s, &it.id, "ann", now()).unwrap_err();
    assert!(matches!(e, QueueError::FourEyes { .. }), "not the analyst who resolved: {e}");
    // Rejected: back to the queue, nothing posted; resolved again and approved: posted once.
    queue::act(s, &it.id, "bob", &Action::RejectResolve("wrong card".into()), now(), &policy).unwrap();
    assert_eq!(s.item(&it.id).unwrap().unwrap().status, ItemStatus::Open);
    queue::claim(s, &it.id, "ann", now(), &policy).unwrap();
    queue::resolve_by_applying(s, &it.id, &card, "ann", now(), &policy).unwrap();
    let approved = queue::approve_resolve(s, &it.id, "bob", now()).unwrap();
    assert!(approved.changed);
    assert_eq!(approved.item.status, ItemStatus::Resolved);
    let d = approved.item.disposition.clone().unwrap();
    assert_eq!((d.by.as_str(), d.approved_by.as_deref(), d.account), ("ann", Some("bob"), Some(card)));
    assert!(!queue::approve_resolve(s, &it.id, "bob", now()).unwrap().changed, "a retry posts nothing");
    assert_eq!(s.posted_total(&card).unwrap(), Decimal::new(100, 2), "posted once");
    let aliases = s.aliases_for("name:EU:cote").unwrap();
    assert_eq!(aliases.len(), 1, "taught when final");
    assert_eq!(aliases[0].learned_by, "ann");
    let actions: Vec<AuditAction> = s.audit_trail(&it.id).unwrap().iter().map(|e| e.action).collect();
    use AuditAction::*;
    assert_eq!(actions, vec![Claim, RequestResolve, RejectResolve, Claim, RequestResolve, ApproveResolve]);
    // Below the limit (the default), one analyst is enough.
    let small = queued(s, "QF2", "RQ-CA-f2", 4);
    queue::claim(s, &small.id, "ann", now(), &QueuePolicy::default()).unwrap();
    let done =
        queue::resolve_by_applying(s, &small.id, &card, "ann", now(), &QueuePolicy::default()).unwrap();
    assert_eq!(done.item.status, ItemStatus::Resolved);
}

fn queue_resolve_posts_once_and_teaches<S: Store>(s: &S) {
    let it = queued(s, "QR1", "RQ-CA-r1", 4);
    let card = crate::fixtures::card(CARD_A);
    let e = queue::resolve_by_applying(s, &it.id, &card, "ann", now(), &QueuePolicy::default()).unwrap_err();
    assert!(matches!(e, QueueError::NotClaimant { .. }), "claim first: {e}");
    queue::claim(s, &it.id, "ann", now(), &QueuePolicy::default()).unwrap();
    let first = queue::resolve_by_applying(s, &it.id, &card, "ann", now(), &QueuePolicy::default()).unwrap();
    assert!(first.changed);
    assert_eq!(first.item.status, ItemStatus::Resolved);
    let again = queue::resolve_by_applying(s, &it.id, &card, "ann", now(), &QueuePolicy::default()).unwrap();
    assert!(!again.changed, "a double click posts nothing");
    assert_eq!(s.posted_total(&card).unwrap(), Decimal::new(100, 2), "posted once");
    assert_eq!(balance(s, CARD_A), Decimal::new(100000 - 100, 2));
    assert_eq!(s.payment_state(&it.payment_key).unwrap(), Some(PaymentState::Applied));
    assert!(
        s.open_items(Market::CA, 10).unwrap().iter().all(|i| i.id != it.id),
        "closed items leave the queue"
    );
    let aliases = s.aliases_for("name:EU:cote").unwrap();
    assert_eq!(aliases.len(), 1, "the payer's identity is learned");
    assert_eq!((aliases[0].learned_by.as_str(), aliases[0].resolution.as_str()), ("ann", it.id.as_str()));
    let trail = s.audit_trail(&it.id).unwrap();
    assert_eq!(trail.len(), 2, "claim and resolve, nothing for the replay");
    assert_eq!(trail[1].action, AuditAction::Resolve);
    assert_eq!(trail[1].after.account.as_deref(), Some(card.masked().as_str()));
    let entries = s.entries_by_reference(&format!("CA|bank|e2e:{}", it.id)).unwrap();
    assert_eq!(entries.len(), 1, "a later reversal finds the analyst's posting");
    // The posting names the account for the card platform: the directory gave no account id,
    // so the token (never the number).
    assert_eq!(entries[0].account_id, Some(card.stored()));
    assert_eq!((entries[0].payment_key.clone(), entries[0].amount), (it.payment_key.clone(), it.amount));
    // Resolving to another account afterwards is refused.
    let other = crate::fixtures::card(CARD_B);
    assert!(matches!(
        queue::resolve_by_applying(s, &it.id, &other, "ann", now(), &QueuePolicy::default()),
        Err(QueueError::WrongState { .. })
    ));
    // The store refuses a posting for a payment already posted, and writes nothing.
    let it2 = queued(s, "QR2", "RQ-CA-r2", 4);
    s.transition(&claim_change(s, &it2.id, "ann")).unwrap();
    let current = s.item(&it2.id).unwrap().unwrap();
    let after = queue::apply(&current, "ann", &Action::Resolve(card), now(), now()).unwrap();
    let audit = queue::audit_entry(&current, &after, "ann", &Action::Resolve(card), now());
    let wrong = Posting {
        payment_key: it.payment_key.clone(),
        ..posting_to_card_a(&payment("QR2", 100, "", FileId::of_bytes(b"f"), 1))
    };
    assert!(s
        .transition(&ItemChange { expected_version: current.version, after, audit, posting: Some(wrong) })
        .is_err());
    assert_eq!(s.item(&it2.id).unwrap().unwrap().status, ItemStatus::Open, "nothing written");
    assert_eq!(s.audit_trail(&it2.id).unwrap().len(), 1);
}

/// A claim written through `transition` (the port allows any checked change).
fn claim_change<S: Store>(s: &S, id: &str, analyst: &str) -> ItemChange {
    let current = s.item(id).unwrap().unwrap();
    let until = now() + Duration::minutes(30);
    let after = queue::apply(&current, analyst, &Action::Claim, now(), until).unwrap();
    let audit = queue::audit_entry(&current, &after, analyst, &Action::Claim, now());
    ItemChange { expected_version: current.version, after, audit, posting: None }
}

fn queue_resolve_refuses_a_wrong_account<S: Store>(s: &S) {
    let it = queued(s, "QW1", "RQ-CA-w1", 4);
    queue::claim(s, &it.id, "ann", now(), &QueuePolicy::default()).unwrap();
    let mut closed = account(CARD_CLOSED, Market::CA, Currency::CAD);
    closed.status = remit_domain::AccountStatus::Closed;
    s.put_account(&closed).unwrap();
    s.put_account(&account(CARD_B, Market::EU, Currency::EUR)).unwrap();
    // Issue 15: another market's card and a card that does not exist get one answer (the
    // caller may not learn what exists outside its markets).
    let here = "no such account in the CA directory";
    for (n, why) in [(CARD_CLOSED, "closed"), (CARD_B, here), ("340000000000009", here)] {
        let e = queue::resolve_by_applying(
            s,
            &it.id,
            &crate::fixtures::card(n),
            "ann",
            now(),
            &QueuePolicy::default(),
        )
        .unwrap_err();
        assert!(matches!(e, QueueError::Account { .. }) && e.to_string().contains(why), "{e}");
        assert!(!e.to_string().contains(n), "masked: {e}");
        assert!(!e.to_string().contains("EU"), "nothing of another market: {e}");
    }
    assert_eq!(s.item(&it.id).unwrap().unwrap().status, ItemStatus::Open);
    assert_eq!(s.payment_state(&it.payment_key).unwrap(), Some(PaymentState::Queued));
    // A debit is never applied as a payment.
    let p = payment("QW2", 100, "", FileId::of_bytes(b"f"), 2);
    s.receive_payment(&p, now()).unwrap();
    let debit = ResearchItem { reason_code: ReasonCode::Debit, ..item(&p.key(), "RQ-CA-w2", Market::CA, 4) };
    s.enqueue(&debit).unwrap();
    queue::claim(s, &debit.id, "ann", now(), &QueuePolicy::default()).unwrap();
    let e = queue::resolve_by_applying(
        s,
        &debit.id,
        &crate::fixtures::card(CARD_A),
        "ann",
        now(),
        &QueuePolicy::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("debit"), "{e}");
    assert_eq!(s.posted_total(&crate::fixtures::card(CARD_A)).unwrap(), Decimal::ZERO);
}

fn queue_write_off_needs_a_second_person<S: Store>(s: &S) {
    let it = queued(s, "QX1", "RQ-CA-x1", 4);
    queue::claim(s, &it.id, "ann", now(), &QueuePolicy::default()).unwrap();
    act(s, &it.id, "ann", &Action::RequestWriteOff("no payer, 1.00".into()), now()).unwrap();
    let e = act(s, &it.id, "ann", &Action::ApproveWriteOff, now()).unwrap_err();
    assert!(matches!(e, QueueError::FourEyes { .. }), "{e}");
    let done = act(s, &it.id, "bob", &Action::ApproveWriteOff, now()).unwrap().item;
    assert_eq!(done.status, ItemStatus::WrittenOff);
    let d = done.disposition.unwrap();
    assert_eq!((d.by.as_str(), d.approved_by.as_deref()), ("ann", Some("bob")));
    assert_eq!(
        s.posted_total(&crate::fixtures::card(CARD_A)).unwrap(),
        Decimal::ZERO,
        "nothing posted to a card"
    );
    let trail = s.audit_trail(&it.id).unwrap();
    assert_eq!(trail.last().unwrap().action, AuditAction::ApproveWriteOff);
    assert!(trail.last().unwrap().note.as_deref().unwrap().contains("suspense"));
    // Returned items are closed too, with nothing posted.
    let r = queued(s, "QX2", "RQ-CA-x2", 4);
    queue::claim(s, &r.id, "ann", now(), &QueuePolicy::default()).unwrap();
    let ret =
        act(s, &r.id, "ann", &Action::Return("account closed, returned to payer".into()), now()).unwrap();
    assert_eq!(ret.item.status, ItemStatus::Returned);
    assert!(matches!(
        act(s, &r.id, "ann", &Action::Escalate("x".into()), now()),
        Err(QueueError::WrongState { .. })
    ));
}

fn queue_lists_by_due_time_with_filters<S: Store>(s: &S) {
    let late = queued(s, "QL1", "RQ-CA-l1", 48);
    let early = queued(s, "QL2", "RQ-CA-l2", 2);
    let mid = queued(s, "QL3", "RQ-CA-l3", 10);
    let ids = |f: &QueueFilter| -> Vec<String> {
        s.list(Market::CA, f, 10).unwrap().into_iter().map(|i| i.id).collect()
    };
    let all = QueueFilter { now: Some(now()), ..QueueFilter::default() };
    assert_eq!(ids(&all), vec![early.id.clone(), mid.id.clone(), late.id.clone()]);
    assert!(s.list(Market::EU, &all, 10).unwrap().is_empty(), "one market");
    assert_eq!(s.list(Market::CA, &all, 2).unwrap().len(), 2, "limit honoured");
    queue::claim(s, &mid.id, "ann", now(), &QueuePolicy::default()).unwrap();
    let mine = QueueFilter { claimed_by: Some("ann".into()), ..all.clone() };
    assert_eq!(ids(&mine), vec![mid.id.clone()]);
    let soon = QueueFilter { due_before: Some(now() + Duration::hours(12)), ..all.clone() };
    assert_eq!(ids(&soon), vec![early.id.clone(), mid.id.clone()]);
    let reason = QueueFilter { reason: Some(ReasonCode::Ambiguous), ..all.clone() };
    assert!(ids(&reason).is_empty());
    queue::resolve_by_applying(
        s,
        &mid.id,
        &crate::fixtures::card(CARD_A),
        "ann",
        now(),
        &QueuePolicy::default(),
    )
    .unwrap();
    assert_eq!(ids(&all), vec![early.id.clone(), late.id.clone()], "resolved items leave the active list");
    let resolved = QueueFilter { statuses: vec![ItemStatus::Resolved], ..all.clone() };
    assert_eq!(ids(&resolved), vec![mid.id.clone()]);
    assert!(s.item("RQ-CA-missing").unwrap().is_none());
}

/// Control account CARD_CLOSED (active here) with cards A and B under it.
fn control_group<S: Store>(s: &S) {
    let mut control = account(CARD_CLOSED, Market::CA, Currency::CAD);
    control.holder_name = "Acme Ltd".into();
    s.put_account(&control).unwrap();
    for n in [CARD_A, CARD_B] {
        let mut card = account(n, Market::CA, Currency::CAD);
        card.control_account = Some(crate::fixtures::card(CARD_CLOSED));
        s.put_account(&card).unwrap();
    }
}

fn split_posting(p: &remit_domain::Payment, lines: &[(&str, i64)]) -> Posting {
    let lines: Vec<SplitLine> = lines
        .iter()
        .map(|(n, cents)| SplitLine {
            account: crate::fixtures::card(n),
            amount: Money::from_minor(*cents, Currency::CAD),
        })
        .collect();
    let mut d = decision(Outcome::Applied);
    d.splits = lines.clone();
    Posting {
        payment_key: p.key(),
        account: crate::fixtures::card(CARD_CLOSED),
        amount: p.amount,
        lines,
        file_id: p.source.file_id,
        posted_at: now(),
        decision: d,
        references: vec![format!("CA|bank|e2e:{}", p.bank_ref)],
    }
}

fn balance<S: Store>(s: &S, n: &str) -> Decimal {
    s.account(&crate::fixtures::card(n)).unwrap().unwrap().current_balance
}

fn split_posting_is_all_lines_once<S: Store>(s: &S) {
    control_group(s);
    let p = payment("S1", 75000, CARD_CLOSED, FileId::of_bytes(b"f"), 1);
    s.receive_payment(&p, now()).unwrap();
    let posting = split_posting(&p, &[(CARD_A, 50000), (CARD_B, 25000)]);
    assert_eq!(s.post(&posting).unwrap(), Transition::Done);
    assert_eq!(s.post(&posting).unwrap(), Transition::AlreadyDone, "a replay posts nothing");
    assert_eq!(balance(s, CARD_A), Decimal::new(50000, 2), "card A reduced once");
    assert_eq!(balance(s, CARD_B), Decimal::new(75000, 2), "card B reduced once");
    assert_eq!(balance(s, CARD_CLOSED), Decimal::new(100000, 2), "the control's balance does not move");
    assert_eq!(s.posted_total(&crate::fixtures::card(CARD_A)).unwrap(), Decimal::new(50000, 2));
    assert_eq!(s.posted_total(&crate::fixtures::card(CARD_B)).unwrap(), Decimal::new(25000, 2));
    assert_eq!(s.posted_total(&crate::fixtures::card(CARD_CLOSED)).unwrap(), Decimal::ZERO);
    assert_eq!(s.payment_state(&p.key()).unwrap(), Some(PaymentState::Applied));
    let entries = s.entries_by_reference("CA|bank|e2e:S1").unwrap();
    assert_eq!(entries.len(), 1, "one entry per payment");
    assert_eq!(entries[0].lines, posting.lines, "the lines come back in order");
    assert_eq!(entries[0].amount, p.amount);
}

fn split_posting_that_breaks_its_contract_writes_nothing<S: Store>(s: &S) {
    control_group(s);
    let p = payment("S2", 75000, CARD_CLOSED, FileId::of_bytes(b"f"), 1);
    s.receive_payment(&p, now()).unwrap();
    let short = split_posting(&p, &[(CARD_A, 50000), (CARD_B, 24999)]);
    assert!(matches!(s.post(&short), Err(StoreError::Conflict(_))), "lines must add up");
    let twice = split_posting(&p, &[(CARD_A, 50000), (CARD_A, 25000)]);
    assert!(matches!(s.post(&twice), Err(StoreError::Conflict(_))), "one line per account");
    let mut other_currency = split_posting(&p, &[(CARD_A, 50000), (CARD_B, 25000)]);
    other_currency.lines[1].amount = Money::from_minor(25000, Currency::USD);
    assert!(matches!(s.post(&other_currency), Err(StoreError::Conflict(_))), "one currency");
    let many: Vec<(&str, i64)> = (0..25).map(|_| (CARD_A, 3000)).collect();
    assert!(s.post(&split_posting(&p, &many)).is_err(), "at most MAX_POSTING_LINES lines");
    // A line to an account the directory does not hold fails the whole transaction.
    let mut unknown = split_posting(&p, &[(CARD_A, 50000), (CARD_B, 25000)]);
    unknown.lines[1].account = crate::fixtures::card("340000000000009");
    assert!(s.post(&unknown).is_err(), "an unknown card fails the posting");
    assert_eq!(balance(s, CARD_A), Decimal::new(100000, 2), "no line posted: all or none");
    assert_eq!(s.payment_state(&p.key()).unwrap(), Some(PaymentState::Received));
    assert!(s.entries_by_reference("CA|bank|e2e:S2").unwrap().is_empty());
    // The payment can still be posted properly afterwards.
    assert_eq!(s.post(&split_posting(&p, &[(CARD_A, 50000), (CARD_B, 25000)])).unwrap(), Transition::Done);
    assert_eq!(s.posted_total(&crate::fixtures::card(CARD_A)).unwrap(), Decimal::new(50000, 2));
    assert_eq!(MAX_POSTING_LINES, 24);
}

fn split_reversal_reverses_every_line_once<S: Store>(s: &S) {
    control_group(s);
    let original = payment("S3", 75000, CARD_CLOSED, FileId::of_bytes(b"f"), 1);
    s.receive_payment(&original, now()).unwrap();
    assert_eq!(
        s.post(&split_posting(&original, &[(CARD_A, 50000), (CARD_B, 25000)])).unwrap(),
        Transition::Done
    );
    let (first, second) = reverse_twice_then_a_rival(s, &original, CARD_CLOSED, "SV", 75000);
    for n in [CARD_A, CARD_B, CARD_CLOSED] {
        assert_eq!(balance(s, n), Decimal::new(100000, 2), "every line restored once");
        assert_eq!(s.posted_total(&crate::fixtures::card(n)).unwrap(), Decimal::ZERO);
    }
    let entry = &s.entries_by_reference("CA|bank|e2e:S3").unwrap()[0];
    assert_eq!(entry.reversed_by, Some(first.key()));
    assert_eq!(entry.lines.len(), 2);
    assert_eq!(s.payment_state(&second.key()).unwrap(), Some(PaymentState::Received));
}

fn accounts_by_last_digits_and_control<S: Store>(s: &S) {
    let a = account(CARD_A, Market::CA, Currency::CAD);
    let mut b = account(CARD_B, Market::CA, Currency::CAD);
    b.control_account = Some(crate::fixtures::card(CARD_A));
    s.put_account(&a).unwrap();
    s.put_account(&b).unwrap();
    assert_eq!(
        s.accounts_by_last_digits(Market::CA, &crate::fixtures::key().last_five(Market::CA, "10005"))
            .unwrap(),
        vec![a.clone()]
    );
    assert!(
        s.accounts_by_last_digits(Market::EU, &crate::fixtures::key().last_five(Market::EU, "10005"))
            .unwrap()
            .is_empty(),
        "per market"
    );
    assert!(s
        .accounts_by_last_digits(Market::CA, &crate::fixtures::key().last_five(Market::CA, "00005"))
        .unwrap()
        .is_empty());
    assert_eq!(s.accounts_by_control_account(&crate::fixtures::card(CARD_A)).unwrap(), vec![b.clone()]);
    assert!(s.accounts_by_control_account(&crate::fixtures::card(CARD_B)).unwrap().is_empty());
    let both = s.accounts(&[
        crate::fixtures::card(CARD_A),
        crate::fixtures::card(CARD_CLOSED),
        crate::fixtures::card(CARD_B),
    ]);
    assert_eq!(both.unwrap().len(), 2, "batch get leaves missing ones out");
}

fn aliases_are_learned_per_identity_and_account<S: Store>(s: &S) {
    let alias = |account: &str, by: &str| Alias {
        identity: "acct:CA:001-12345-7654321".into(),
        account: crate::fixtures::card(account),
        learned_at: now(),
        learned_by: by.into(),
        resolution: "RQ-CA-1".into(),
    };
    assert!(s.aliases_for("acct:CA:001-12345-7654321").unwrap().is_empty());
    s.learn_alias(&alias(CARD_A, "ann")).unwrap();
    s.learn_alias(&alias(CARD_A, "bob")).unwrap();
    let got = s.aliases_for("acct:CA:001-12345-7654321").unwrap();
    assert_eq!(got, vec![alias(CARD_A, "bob")], "same pair replaced");
    s.learn_alias(&alias(CARD_B, "ann")).unwrap();
    assert_eq!(s.aliases_for("acct:CA:001-12345-7654321").unwrap().len(), 2);
    assert!(s.aliases_for("name:CA:jean tremblay").unwrap().is_empty());
}

fn forget_alias_deletes_only_what_that_resolution_taught<S: Store>(s: &S) {
    let identity = "name:CA:jean tremblay";
    let alias = |account: &str, resolution: &str| Alias {
        identity: identity.into(),
        account: crate::fixtures::card(account),
        learned_at: now(),
        learned_by: "ann".into(),
        resolution: resolution.into(),
    };
    s.learn_alias(&alias(CARD_A, "RQ-CA-1")).unwrap();
    s.learn_alias(&alias(CARD_B, "RQ-CA-1")).unwrap();
    s.forget_alias(identity, &crate::fixtures::card(CARD_A), "RQ-CA-9").unwrap();
    assert_eq!(s.aliases_for(identity).unwrap().len(), 2, "another resolution's alias stays");
    s.forget_alias(identity, &crate::fixtures::card(CARD_A), "RQ-CA-1").unwrap();
    assert_eq!(s.aliases_for(identity).unwrap(), vec![alias(CARD_B, "RQ-CA-1")], "only that account's");
    // A later resolution taught the pair again: reversing the first one leaves it.
    s.learn_alias(&alias(CARD_B, "RQ-CA-2")).unwrap();
    s.forget_alias(identity, &crate::fixtures::card(CARD_B), "RQ-CA-1").unwrap();
    assert_eq!(s.aliases_for(identity).unwrap(), vec![alias(CARD_B, "RQ-CA-2")]);
    // What is not there: no error.
    s.forget_alias(identity, &crate::fixtures::card(CARD_A), "RQ-CA-1").unwrap();
    s.forget_alias("name:CA:nobody", &crate::fixtures::card(CARD_A), "RQ-CA-1").unwrap();
    s.forget_alias(identity, &crate::fixtures::card(CARD_B), "RQ-CA-2").unwrap();
    assert!(s.aliases_for(identity).unwrap().is_empty());
}

/// A valid card number (37, the twelve digits of `body`, check digit).
fn card(body: u64) -> String {
    let mut digits = vec![3u8, 7];
    digits.extend(format!("{body:012}").bytes().map(|b| b - b'0'));
    digits.push(remit_domain::text::luhn::luhn_check_digit(&digits));
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

fn holder(number: &str, market: Market, name: &str) -> remit_domain::Account {
    let currency = match market {
        Market::CA => Currency::CAD,
        Market::IN => Currency::INR,
        Market::EU => Currency::EUR,
    };
    remit_domain::Account { holder_name: name.into(), ..account(number, market, currency) }
}

/// The account numbers a holder-name lookup of the payer's name `payer` finds.
fn by_name<S: Store>(s: &S, market: Market, payer: &str) -> Vec<String> {
    let key = remit_domain::text::names::NormalName::new(payer).lookup_key().unwrap();
    by_key(s, market, &key)
}

fn by_key<S: Store>(s: &S, market: Market, key: &str) -> Vec<String> {
    let found = s.accounts_by_holder_name(market, key, remit_domain::ports::MAX_INDEX_RESULTS).unwrap();
    // The test numbers of the cards found (the stores know tokens), sorted: an index returns
    // them in token order, which says nothing about the numbers.
    let mut numbers: Vec<String> = found
        .iter()
        .map(|a| (1..=99).map(card).find(|n| crate::fixtures::card(n) == a.card).unwrap_or_default())
        .collect();
    numbers.sort();
    numbers
}

fn accounts_by_holder_name_key_in_their_market<S: Store>(s: &S) {
    let (one, twin, titled, abroad, other) = (card(1), card(2), card(3), card(4), card(5));
    s.put_account(&holder(&one, Market::CA, "Jean-Pierre Côté")).unwrap();
    s.put_account(&holder(&twin, Market::CA, "Jean-Pierre Côté")).unwrap();
    let mut closed = holder(&titled, Market::CA, "M. JEAN PIERRE COTE");
    closed.status = remit_domain::AccountStatus::Closed;
    s.put_account(&closed).unwrap();
    s.put_account(&holder(&abroad, Market::EU, "Jean-Pierre Côté")).unwrap();
    s.put_account(&holder(&other, Market::CA, "Marie Tremblay")).unwrap();
    let mut all = vec![one.clone(), twin.clone(), titled.clone()];
    all.sort();
    // Accents, word order, case and honorifics make the same key; twins and closed accounts
    // are all found.
    for payer in ["Jean Pierre Côté", "COTE JEAN-PIERRE", "Mr Jean-Pierre Cote", "M. Jean Pierre COTE"] {
        assert_eq!(by_name(s, Market::CA, payer), all, "{payer}");
    }
    assert_eq!(by_key(s, Market::CA, "cote jean pierre"), all, "the full key");
    for payer in ["J.P. Côté", "J P COTE"] {
        assert_eq!(by_name(s, Market::CA, payer), all, "initials: {payer}");
    }
    assert_eq!(by_name(s, Market::EU, "Jean-Pierre Côté"), vec![abroad], "per market");
    assert!(by_name(s, Market::IN, "Jean-Pierre Côté").is_empty(), "per market");
    assert_eq!(by_name(s, Market::CA, "TREMBLAY MARIE"), vec![other.clone()]);
    assert!(by_name(s, Market::CA, "Marie Côté").is_empty());
    assert!(by_key(s, Market::CA, "").is_empty());
    let found = s
        .accounts_by_holder_name(Market::CA, "cote jean pierre", remit_domain::ports::MAX_INDEX_RESULTS)
        .unwrap();
    assert_eq!(
        found.iter().find(|a| a.card == crate::fixtures::card(&titled)).unwrap(),
        &closed,
        "whole accounts"
    );
}

fn an_account_put_again_under_a_new_name_moves_in_the_name_index<S: Store>(s: &S) {
    let (one, twin) = (card(11), card(12));
    let first = holder(&one, Market::CA, "Jean Tremblay");
    s.put_account(&first).unwrap();
    s.put_account(&holder(&twin, Market::CA, "Jean Tremblay")).unwrap();
    s.put_account(&first).unwrap();
    let mut both = vec![one.clone(), twin.clone()];
    both.sort();
    assert_eq!(by_key(s, Market::CA, "jean tremblay"), both, "put again: once");
    let renamed = holder(&one, Market::CA, "Marie-Ève Côté");
    s.put_account(&renamed).unwrap();
    assert_eq!(by_name(s, Market::CA, "COTE MARIE EVE"), vec![one.clone()], "the new key");
    assert_eq!(by_name(s, Market::CA, "M.E. COTE"), vec![one.clone()], "the new initials key");
    assert_eq!(by_key(s, Market::CA, "jean tremblay"), vec![twin.clone()], "not under the old key");
    assert_eq!(by_key(s, Market::CA, "j tremblay"), vec![twin.clone()], "nor the old initials key");
    assert_eq!(
        s.accounts_by_holder_name(Market::CA, "cote eve marie", remit_domain::ports::MAX_INDEX_RESULTS)
            .unwrap(),
        vec![renamed]
    );
    // Another market: the old market's keys go too.
    let moved = holder(&one, Market::EU, "Marie-Ève Côté");
    s.put_account(&moved).unwrap();
    assert!(by_name(s, Market::CA, "Marie-Ève Côté").is_empty());
    assert_eq!(
        s.accounts_by_holder_name(Market::EU, "cote eve marie", remit_domain::ports::MAX_INDEX_RESULTS)
            .unwrap(),
        vec![moved]
    );
}

fn similar_payments_by_fingerprint_and_date<S: Store>(s: &S) {
    let f = FileId::of_bytes(b"dup");
    let p1 = payment("D1", 4200, CARD_A, f, 1);
    let mut p2 = payment("D2", 4200, CARD_A, f, 2);
    p2.value_date = p1.value_date + Duration::days(2);
    let other_amount = payment("D3", 4300, CARD_A, f, 3);
    for p in [&p1, &p2, &other_amount] {
        s.receive_payment(p, now()).unwrap();
    }
    let fp = duplicate_fingerprint(&p1).unwrap();
    let d = p1.value_date;
    let got = s.similar_payments(&fp, d - Duration::days(3), d + Duration::days(3)).unwrap();
    let keys: Vec<_> =
        got.iter().map(|x| (x.payment_key.clone(), x.bank_ref.as_str(), x.value_date)).collect();
    assert_eq!(keys, vec![(p1.key(), "D1", p1.value_date), (p2.key(), "D2", p2.value_date)]);
    assert_eq!(s.similar_payments(&fp, d, d).unwrap().len(), 1, "date range honoured");
    assert!(s.similar_payments("acct:nobody|1|CAD", d, d).unwrap().is_empty());
}

/// Two reversals of `original` (references `{tag}1`, `{tag}2`): the first reverses it, the
/// same one again is already done, and the second finds it reversed already. Returns both.
fn reverse_twice_then_a_rival<S: Store>(
    s: &S,
    original: &remit_domain::Payment,
    account: &str,
    tag: &str,
    cents: i64,
) -> (remit_domain::Payment, remit_domain::Payment) {
    let first = payment(&format!("{tag}1"), cents, account, FileId::of_bytes(b"g"), 1);
    let second = payment(&format!("{tag}2"), cents, account, FileId::of_bytes(b"g"), 2);
    for p in [&first, &second] {
        s.receive_payment(p, now()).unwrap();
    }
    let reversal = |p: &remit_domain::Payment| Reversal {
        payment_key: p.key(),
        original: original.key(),
        account: crate::fixtures::card(account),
        amount: p.amount,
        file_id: p.source.file_id,
        reversed_at: now(),
        decision: decision(Outcome::Reversed),
        follow_up: None,
    };
    assert_eq!(s.reverse(&reversal(&first)).unwrap(), Transition::Done);
    assert_eq!(s.reverse(&reversal(&first)).unwrap(), Transition::AlreadyDone);
    assert_eq!(s.reverse(&reversal(&second)).unwrap(), Transition::AlreadyDone, "one reversal per posting");
    (first, second)
}

fn reversal_is_exactly_once<S: Store>(s: &S) {
    // The directory's account id names the account in the posting (issue 15).
    let a = remit_domain::Account {
        account_id: Some("ACC-77".into()),
        ..account(CARD_A, Market::CA, Currency::CAD)
    };
    s.put_account(&a).unwrap();
    let original = payment("R1", 2500, CARD_A, FileId::of_bytes(b"f"), 1);
    s.receive_payment(&original, now()).unwrap();
    assert_eq!(s.post(&posting_to_card_a(&original)).unwrap(), Transition::Done);
    let entries = s.entries_by_reference("CA|bank|e2e:R1").unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].account_id.as_deref(), Some("ACC-77"));
    assert_eq!(entries[0].payment_key, original.key());
    assert_eq!(entries[0].amount, original.amount);
    assert!(entries[0].reversed_by.is_none());
    assert!(s.entries_by_reference("CA|bank|e2e:nothing").unwrap().is_empty());

    let (first, second) = reverse_twice_then_a_rival(s, &original, CARD_A, "RV", 2500);
    assert_eq!(
        s.payment_state(&second.key()).unwrap(),
        Some(PaymentState::Received),
        "the loser is untouched"
    );
    assert_eq!(s.payment_state(&first.key()).unwrap(), Some(PaymentState::Applied));
    let acct = s.account(&crate::fixtures::card(CARD_A)).unwrap().unwrap();
    assert_eq!(acct.current_balance, Decimal::new(100000, 2), "balance restored once");
    assert_eq!(s.posted_total(&crate::fixtures::card(CARD_A)).unwrap(), Decimal::ZERO);
    assert_eq!(s.entries_by_reference("CA|bank|e2e:R1").unwrap()[0].reversed_by, Some(first.key()));
}

fn accounts_by_key_and_index<S: Store>(s: &S) {
    let mut a = account(CARD_A, Market::IN, Currency::INR);
    a.virtual_account = Some("AMEX0100012345".into());
    let mut b = account(CARD_B, Market::EU, Currency::EUR);
    b.creditor_reference = Some("RF18539007547034".parse().unwrap());
    b.holder_name = "Sophie Müller".into();
    s.put_account(&a).unwrap();
    s.put_account(&b).unwrap();
    assert_eq!(s.account(&crate::fixtures::card(CARD_A)).unwrap().unwrap(), a);
    assert_eq!(s.accounts_by_virtual_account("AMEX0100012345").unwrap(), vec![a.clone()]);
    assert!(s.accounts_by_virtual_account("AMEX0100099999").unwrap().is_empty());
    let rf = "RF18539007547034".parse().unwrap();
    assert_eq!(s.accounts_by_creditor_reference(&rf).unwrap(), vec![b.clone()], "accents survive");
    // A second account with the same virtual account: the index returns both.
    let mut c = account(crate::fixtures::CARD_CLOSED, Market::IN, Currency::INR);
    c.virtual_account = Some("AMEX0100012345".into());
    s.put_account(&c).unwrap();
    assert_eq!(s.accounts_by_virtual_account("AMEX0100012345").unwrap().len(), 2);
}

fn files_register_once<S: Store>(s: &S) {
    let id = FileId::of_bytes(b"file");
    let rec = FileRecord {
        id,
        name: "a.txt".into(),
        size: 4,
        received_at: now(),
        status: FileStatus::Processing,
        reason: None,
        summary: None,
    };
    assert!(matches!(s.register_file(&rec).unwrap(), FileRegistration::New));
    let renamed = FileRecord { name: "b.txt".into(), ..rec.clone() };
    match s.register_file(&renamed).unwrap() {
        FileRegistration::Seen(f) => assert_eq!(f.name, "a.txt", "first name kept"),
        other => panic!("expected Seen, got {other:?}"),
    }
    let summary = FileSummary { payments: 3, applied: 1, queued: 2, ..FileSummary::default() };
    s.complete_file(&id, &summary).unwrap();
    let f = s.file(&id).unwrap().unwrap();
    assert_eq!(f.status, FileStatus::Completed);
    assert_eq!(f.summary.unwrap(), summary);
    let replay = FileSummary { payments: 3, duplicates: 3, ..FileSummary::default() };
    s.complete_file(&id, &replay).unwrap();
    assert_eq!(s.file(&id).unwrap().unwrap().summary.unwrap(), summary, "the first summary stays");
    s.quarantine_file(&id, "trailer says 6 credits, file holds 5").unwrap();
    let f = s.file(&id).unwrap().unwrap();
    assert_eq!(
        (f.status, f.reason.as_deref()),
        (FileStatus::Quarantined, Some("trailer says 6 credits, file holds 5"))
    );
    assert!(s.file(&FileId::of_bytes(b"other")).unwrap().is_none());
}

fn payments_receive_once<S: Store>(s: &S) {
    let file = FileId::of_bytes(b"f1");
    let p = payment("T1", 1000, CARD_A, file, 2);
    assert!(matches!(s.receive_payment(&p, now()).unwrap(), Receipt::New));
    let again = payment("T1", 1000, CARD_A, FileId::of_bytes(b"f2"), 9);
    match s.receive_payment(&again, now()).unwrap() {
        Receipt::Seen { state, first_file } => {
            assert_eq!(state, PaymentState::Received);
            assert_eq!(first_file, file);
        }
        Receipt::New => panic!("same key must be seen"),
    }
    assert_eq!(s.payment_state(&p.key()).unwrap(), Some(PaymentState::Received));
    assert_eq!(s.reject_payment(&p.key(), &decision(Outcome::Rejected), now()).unwrap(), Transition::Done);
    assert_eq!(
        s.reject_payment(&p.key(), &decision(Outcome::Rejected), now()).unwrap(),
        Transition::AlreadyDone
    );
    assert_eq!(s.payment_state(&p.key()).unwrap(), Some(PaymentState::Rejected));
}

fn posting_is_exactly_once<S: Store>(s: &S) {
    s.put_account(&account(CARD_A, Market::CA, Currency::CAD)).unwrap();
    let p = payment("T2", 12345, CARD_A, FileId::of_bytes(b"f"), 2);
    s.receive_payment(&p, now()).unwrap();
    let posting = posting_to_card_a(&p);
    assert_eq!(s.post(&posting).unwrap(), Transition::Done);
    assert_eq!(s.post(&posting).unwrap(), Transition::AlreadyDone);
    let acct = s.account(&crate::fixtures::card(CARD_A)).unwrap().unwrap();
    assert_eq!(acct.current_balance, Decimal::new(100000 - 12345, 2), "balance reduced once");
    assert_eq!(s.posted_total(&crate::fixtures::card(CARD_A)).unwrap(), Decimal::new(12345, 2));
    assert_eq!(s.payment_state(&p.key()).unwrap(), Some(PaymentState::Applied));
}

fn enqueue_is_exactly_once_and_ordered<S: Store>(s: &S) {
    let f = FileId::of_bytes(b"f");
    let (p1, p2, p3) = (payment("Q1", 1, "", f, 1), payment("Q2", 2, "", f, 2), payment("Q3", 3, "", f, 3));
    for p in [&p1, &p2, &p3] {
        s.receive_payment(p, now()).unwrap();
    }
    let mut late = item(&p1.key(), "RQ-CA-late", Market::CA, 48);
    // Warns before the early item does: the queue is still ordered by due time.
    late.warn_at = now() + Duration::minutes(30);
    let early = item(&p2.key(), "RQ-CA-early", Market::CA, 2);
    let eu = item(&p3.key(), "RQ-EU-x", Market::EU, 1);
    assert_eq!(s.enqueue(&late).unwrap(), Transition::Done);
    assert_eq!(s.enqueue(&late).unwrap(), Transition::AlreadyDone);
    assert_eq!(s.enqueue(&early).unwrap(), Transition::Done);
    assert_eq!(s.enqueue(&eu).unwrap(), Transition::Done);
    let ca: Vec<String> = s.open_items(Market::CA, 10).unwrap().into_iter().map(|i| i.id).collect();
    assert_eq!(ca, vec!["RQ-CA-early", "RQ-CA-late"], "earliest due first, one market only");
    let got = &s.open_items(Market::EU, 10).unwrap()[0];
    assert_eq!(got.payer_name.as_deref(), Some("Côté"));
    assert_eq!((got.warn_at, got.due_at), (eu.warn_at, eu.due_at), "SLA times kept to the microsecond");
    let ca_items = s.open_items(Market::CA, 10).unwrap();
    assert_eq!(ca_items[1].warn_at, late.warn_at);
    assert_eq!(got.candidate, Some(crate::fixtures::card(CARD_A)));
    assert_eq!(s.open_items(Market::CA, 1).unwrap().len(), 1, "limit honoured");
    assert_eq!(s.payment_state(&p1.key()).unwrap(), Some(PaymentState::Queued));
}

fn decisions_exclude_each_other<S: Store>(s: &S) {
    s.put_account(&account(CARD_A, Market::CA, Currency::CAD)).unwrap();
    let p = payment("X1", 500, CARD_A, FileId::of_bytes(b"f"), 1);
    s.receive_payment(&p, now()).unwrap();
    let posting = posting_to_card_a(&p);
    assert_eq!(s.post(&posting).unwrap(), Transition::Done);
    // A concurrent run that decided "research" must not queue a posted payment.
    assert_eq!(s.enqueue(&item(&p.key(), "RQ-CA-race", Market::CA, 1)).unwrap(), Transition::AlreadyDone);
    assert!(s.open_items(Market::CA, 10).unwrap().iter().all(|i| i.id != "RQ-CA-race"));
    assert_eq!(
        s.reject_payment(&p.key(), &decision(Outcome::Rejected), now()).unwrap(),
        Transition::AlreadyDone
    );
    // And a queued payment cannot be posted.
    let q = payment("X2", 700, CARD_A, FileId::of_bytes(b"f"), 2);
    s.receive_payment(&q, now()).unwrap();
    assert_eq!(s.enqueue(&item(&q.key(), "RQ-CA-q", Market::CA, 1)).unwrap(), Transition::Done);
    let posting = posting_to_card_a(&q);
    assert_eq!(s.post(&posting).unwrap(), Transition::AlreadyDone);
    assert_eq!(s.posted_total(&crate::fixtures::card(CARD_A)).unwrap(), Decimal::new(500, 2));
}

/// Two processes race, each with its own store from `open` on the data `setup` writes: one
/// claim wins, and two resolves of the same item (a double click on two screens) post once.
fn racing_claims_and_resolves<S: Store>(setup: &S, open: impl Fn() -> S + Sync) {
    let it = queued(setup, "RACE1", "RQ-CA-race1", 4);
    let card = crate::fixtures::card(CARD_A);
    // Each thread opens its store, waits for the other, then acts: what each one returned.
    let race = |act: &(dyn Fn(&S) -> bool + Sync)| -> Vec<bool> {
        let barrier = std::sync::Barrier::new(2);
        std::thread::scope(|sc| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    let (open, barrier) = (&open, &barrier);
                    sc.spawn(move || {
                        let s = open();
                        barrier.wait();
                        act(&s)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    };
    for round in 0..5 {
        let id = format!("RQ-CA-race-{round}");
        queued(setup, &format!("RACE-{round}"), &id, 4);
        let who = std::sync::atomic::AtomicUsize::new(0);
        let results = race(&|s: &S| {
            let analyst = ["ann", "bob"][who.fetch_add(1, std::sync::atomic::Ordering::SeqCst) % 2];
            queue::claim(s, &id, analyst, now(), &QueuePolicy::default()).is_ok()
        });
        assert_eq!(results.iter().filter(|ok| **ok).count(), 1, "one claim wins: {results:?}");
    }
    queue::claim(setup, &it.id, "ann", now(), &QueuePolicy::default()).unwrap();
    let changed = race(&|s: &S| {
        queue::resolve_by_applying(s, &it.id, &card, "ann", now(), &QueuePolicy::default()).unwrap().changed
    });
    assert_eq!(changed.iter().filter(|c| **c).count(), 1, "one resolve changes: {changed:?}");
    assert_eq!(setup.posted_total(&card).unwrap(), Decimal::new(100, 2), "posted once");
    assert_eq!(setup.audit_trail(&it.id).unwrap().len(), 2);
}

/// Two processes put one account again and again under two names: whichever put lands last,
/// every key of the stored name finds the account and no key of the other name does.
fn racing_puts_of_one_account_keep_its_name_keys<S: Store>(setup: &S, open: impl Fn() -> S + Sync) {
    let number = card(21);
    let names = ["Jean-Pierre Côté", "Marie Tremblay"];
    setup.put_account(&holder(&number, Market::CA, names[0])).unwrap();
    let barrier = std::sync::Barrier::new(2);
    std::thread::scope(|sc| {
        for name in names {
            let (open, barrier, number) = (&open, &barrier, &number);
            sc.spawn(move || {
                let s = open();
                barrier.wait();
                for _ in 0..10 {
                    // A store may give up on a contended put with a retryable error.
                    match s.put_account(&holder(number, Market::CA, name)) {
                        Ok(()) => {}
                        Err(e) => assert!(e.is_retryable(), "{e}"),
                    }
                }
            });
        }
    });
    let stored = setup.account(&crate::fixtures::card(&number)).unwrap().unwrap().holder_name;
    for name in names {
        for key in remit_domain::text::names::holder_name_keys(name) {
            let found = by_key(setup, Market::CA, &key).contains(&number);
            assert_eq!(found, name == stored, "{key} (stored: {stored})");
        }
    }
}

// ---- Issue 16: the workbench's ports ----------------------------------------------------------

/// The test number of an account a search found (the stores know tokens).
fn number_of(a: &remit_domain::Account, numbers: &[String]) -> String {
    numbers.iter().find(|n| crate::fixtures::card(n) == a.card).cloned().unwrap_or_default()
}

/// The test numbers of the accounts a search finds, in the order found; each in `market`.
fn search<S: Store>(
    s: &S,
    market: Market,
    key: &AccountIndexKey,
    numbers: &[String],
    limit: usize,
) -> Vec<String> {
    let found = s.search_accounts(market, key, None, limit).unwrap();
    assert!(found.iter().all(|a| a.market == market), "{key:?}: another market's account");
    found.iter().map(|a| number_of(a, numbers)).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Bodies for `card` whose numbers end in `end` (four or five digits; the check digit last).
fn bodies_ending(end: &str) -> impl Iterator<Item = u64> + '_ {
    let (head, check) = end.split_at(end.len() - 1);
    let step = 10u64.pow(head.len() as u32);
    let head: u64 = head.parse().unwrap();
    (0..100_000).map(move |k| k * step + head).filter(move |b| card(*b).ends_with(check))
}

fn directory_search_finds_by_every_index_in_its_market<S: Store>(s: &S) {
    let dec = |t: &str| t.parse::<Decimal>().unwrap();
    let mut numbers = Vec::new();
    let mut put = |body: u64, market: Market, name: &str, edit: &dyn Fn(&mut remit_domain::Account)| {
        let n = card(body);
        let mut a = holder(&n, market, name);
        edit(&mut a);
        s.put_account(&a).unwrap();
        numbers.push(n.clone());
        n
    };
    // Holder name: twins, a closed namesake, namesakes abroad.
    let jp1 = put(201, Market::CA, "Jean-Pierre Côté", &|_| {});
    let jp2 = put(202, Market::CA, "Jean-Pierre Côté", &|_| {});
    let jp3 =
        put(203, Market::CA, "M. JEAN PIERRE COTE", &|a| a.status = remit_domain::AccountStatus::Closed);
    put(204, Market::IN, "Jean-Pierre Côté", &|_| {});
    put(205, Market::EU, "Jean-Pierre Côté", &|_| {});
    // Last five digits 12345, in CA and in IN.
    let mut twelve_345 = bodies_ending("12345");
    let five = put(twelve_345.next().unwrap(), Market::CA, "Ann Lee", &|_| {});
    let five_in = put(twelve_345.next().unwrap(), Market::IN, "Ann Lee", &|_| {});
    assert!(five.ends_with("12345") && five_in.ends_with("12345"));
    // Balances and minimum dues at another scale; the same amounts in IN.
    let bal = put(301, Market::CA, "Bob Roy", &|a| {
        a.statement_balance = dec("120.50");
        a.minimum_due = dec("35.00");
    });
    put(302, Market::CA, "Bob Roy", &|a| {
        a.statement_balance = dec("120.51");
        a.minimum_due = dec("35.01");
    });
    put(303, Market::IN, "Bob Roy", &|a| {
        a.statement_balance = dec("120.50");
        a.minimum_due = dec("35.00");
    });
    // A virtual account and an RF reference, each also on an account of another market.
    let va = put(401, Market::IN, "Ravi Kumar", &|a| a.virtual_account = Some("AMEX0100077777".into()));
    put(402, Market::CA, "Ravi Kumar", &|a| a.virtual_account = Some("AMEX0100077777".into()));
    let rf: remit_domain::CreditorReference = "RF18539007547034".parse().unwrap();
    let eu = put(501, Market::EU, "Sophie Müller", &|a| a.creditor_reference = Some(rf.clone()));
    put(502, Market::CA, "Sophie Müller", &|a| a.creditor_reference = Some(rf.clone()));
    // Last four: one CA account, and an IN account with the same last four digits.
    let four = put(601, Market::CA, "Li Wei", &|_| {});
    let last4 = four[four.len() - 4..].to_string();
    let twin = bodies_ending(&last4).find(|b| *b != 601).unwrap();
    let four_in = put(twin, Market::IN, "Li Wei", &|_| {});
    assert!(four_in.ends_with(&last4) && four_in != four);

    let all = |key: AccountIndexKey| sorted(search(s, Market::CA, &key, &numbers, 100));
    // Accents, word order, case and honorifics: one key; accounts of every status.
    let jp = sorted(vec![jp1.clone(), jp2.clone(), jp3.clone()]);
    for payer in ["COTE JEAN-PIERRE", "Jean Pierre Côté", "M. Jean Pierre COTE"] {
        let key = remit_domain::text::names::NormalName::new(payer).lookup_key().unwrap();
        assert!(remit_domain::text::names::holder_name_keys("Jean-Pierre Côté").contains(&key), "{payer}");
        assert_eq!(all(AccountIndexKey::HolderName(key)), jp, "{payer}");
    }
    assert!(all(AccountIndexKey::HolderName("cote marie".into())).is_empty());
    assert!(all(AccountIndexKey::HolderName(String::new())).is_empty());
    let four_key = |l: &str| AccountIndexKey::LastFour(LastFour::parse(l).unwrap());
    assert_eq!(all(four_key(&last4)), vec![four.clone()], "last four, in the market only");
    let five_key = |m: Market| AccountIndexKey::LastFive(s.card_key().last_five(m, "12345"));
    assert_eq!(all(five_key(Market::CA)), vec![five.clone()], "last five");
    assert!(all(five_key(Market::EU)).is_empty(), "another market's tag");
    assert_eq!(search(s, Market::IN, &five_key(Market::IN), &numbers, 10), vec![five_in.clone()]);
    assert_eq!(search(s, Market::IN, &four_key(&last4), &numbers, 10), vec![four_in.clone()]);
    for amount in ["120.5", "120.50", "120.500"] {
        assert_eq!(all(AccountIndexKey::StatementBalance(dec(amount))), vec![bal.clone()], "{amount}");
    }
    assert!(all(AccountIndexKey::StatementBalance(dec("120.49"))).is_empty());
    for amount in ["35", "35.0", "35.00"] {
        assert_eq!(all(AccountIndexKey::MinimumDue(dec(amount))), vec![bal.clone()], "{amount}");
    }
    let in_search = |key: AccountIndexKey| search(s, Market::IN, &key, &numbers, 100);
    assert_eq!(in_search(AccountIndexKey::VirtualAccount("AMEX0100077777".into())), vec![va.clone()]);
    assert!(in_search(AccountIndexKey::VirtualAccount("AMEX0100000000".into())).is_empty());
    assert_eq!(in_search(AccountIndexKey::StatementBalance(dec("120.5"))).len(), 1, "IN's own");
    assert_eq!(
        search(s, Market::EU, &AccountIndexKey::CreditorReference(rf.clone()), &numbers, 100),
        vec![eu.clone()]
    );
    assert!(search(s, Market::IN, &AccountIndexKey::CreditorReference(rf.clone()), &numbers, 100).is_empty());
    // Whole accounts, as put.
    let found = s.search_accounts(Market::CA, &four_key(&last4), None, 10).unwrap();
    assert_eq!(found[0], s.account(&crate::fixtures::card(&four)).unwrap().unwrap());
    // A posting moves the current balance only: the account stays under its statement balance.
    let p = payment("DS1", 2000, &bal, FileId::of_bytes(b"ds"), 1);
    s.receive_payment(&p, now()).unwrap();
    let posting = Posting { account: crate::fixtures::card(&bal), ..posting_to_card_a(&p) };
    assert_eq!(s.post(&posting).unwrap(), Transition::Done);
    let after =
        s.search_accounts(Market::CA, &AccountIndexKey::StatementBalance(dec("120.5")), None, 10).unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].current_balance, Decimal::new(98000, 2), "posted");
    assert_eq!(all(AccountIndexKey::MinimumDue(dec("35"))), vec![bal.clone()]);
}

/// Every page of a search (`limit` each, the next after the last account of the one before).
fn search_pages<S: Store>(
    s: &S,
    market: Market,
    key: &AccountIndexKey,
    limit: usize,
) -> Vec<Vec<remit_domain::CardRef>> {
    let mut pages = Vec::new();
    let mut after: Option<remit_domain::CardRef> = None;
    loop {
        let page = s.search_accounts(market, key, after.as_ref(), limit).unwrap();
        assert!(page.iter().all(|a| a.market == market), "{key:?}: another market");
        let cards: Vec<_> = page.iter().map(|a| a.card).collect();
        let short = cards.len() < limit;
        after = cards.last().copied();
        pages.push(cards);
        if short || pages.len() > 20 {
            return pages;
        }
    }
}

fn directory_search_pages_go_on_after_an_account<S: Store>(s: &S) {
    let mut same_name = Vec::new();
    for body in 701..708 {
        let n = card(body);
        let mut a = holder(&n, Market::CA, "Marie Tremblay");
        a.statement_balance = Decimal::new(4200, 2);
        a.virtual_account = Some("AMEX0100055555".into());
        s.put_account(&a).unwrap();
        same_name.push(crate::fixtures::card(&n));
    }
    // The same name, balance and virtual account in another market: never on a CA page.
    for body in 708..710 {
        let mut a = holder(&card(body), Market::IN, "Marie Tremblay");
        a.statement_balance = Decimal::new(4200, 2);
        a.virtual_account = Some("AMEX0100055555".into());
        s.put_account(&a).unwrap();
    }
    same_name.sort();
    let keys = [
        AccountIndexKey::HolderName("marie tremblay".into()),
        AccountIndexKey::StatementBalance(Decimal::new(42, 0)),
        AccountIndexKey::VirtualAccount("AMEX0100055555".into()),
    ];
    for key in &keys {
        let pages = search_pages(s, Market::CA, key, 3);
        let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![3, 3, 1], "{key:?}");
        let mut all: Vec<_> = pages.into_iter().flatten().collect();
        all.sort();
        all.dedup();
        assert_eq!(all, same_name, "{key:?}: every account once");
        // A page of exactly the rest, then an empty one.
        let sizes: Vec<usize> = search_pages(s, Market::CA, key, 7).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![7, 0], "{key:?}");
    }
    // The holder-name index's own order is the card's: pages come in that order.
    let pages = search_pages(s, Market::CA, &keys[0], 3);
    assert_eq!(pages.into_iter().flatten().collect::<Vec<_>>(), same_name, "card order");
    assert_eq!(s.search_accounts(Market::CA, &keys[0], None, 0).unwrap().len(), 0);
    assert_eq!(search_pages(s, Market::IN, &keys[1], 10)[0].len(), 2, "IN's two");
}

fn payer_history_is_newest_first_in_pages<S: Store>(s: &S) {
    use remit_domain::matching::payer::identities;
    let f = FileId::of_bytes(b"payer");
    let p1 = payment("PH1", 1000, "", f, 1);
    let mut p2 = payment("PH2", 2000, "", f, 2);
    p2.bank_ref = format!("PH2 card {CARD_B}");
    let p3 = payment("PH3", 3000, "", f, 3);
    let mut other = payment("PH4", 4000, "", f, 4);
    other.payer_name = Some("Someone Else".into());
    let times = [now() - Duration::hours(2), now() - Duration::hours(1), now(), now()];
    for (p, at) in [&p1, &p2, &p3, &other].into_iter().zip(times) {
        assert!(matches!(s.receive_payment(p, at).unwrap(), Receipt::New));
    }
    // Received again (another file): not a payment of the payer again.
    assert!(matches!(s.receive_payment(&p1, now()).unwrap(), Receipt::Seen { .. }));
    let ids = identities(&p1);
    assert!(!ids.is_empty());
    let identity = ids[0].key();
    let keys = |v: &[PayerPayment]| v.iter().map(|x| x.payment_key.clone()).collect::<Vec<_>>();
    let all = s.payments_by_payer(&identity, None, 10).unwrap();
    assert_eq!(keys(&all), vec![p3.key(), p2.key(), p1.key()], "newest first, once each");
    let first = s.payments_by_payer(&identity, None, 2).unwrap();
    assert_eq!(keys(&first), vec![p3.key(), p2.key()]);
    let cursor = PayerCursor { received_at: first[1].received_at, payment_key: first[1].payment_key.clone() };
    assert_eq!(keys(&s.payments_by_payer(&identity, Some(&cursor), 2).unwrap()), vec![p1.key()]);
    let p2_row = &all[1];
    assert_eq!(
        (p2_row.identity.as_str(), p2_row.market, p2_row.received_at, p2_row.amount, p2_row.file_id),
        (identity.as_str(), Market::CA, times[1], p2.amount, f)
    );
    assert!(p2_row.bank_ref.starts_with("PH2 card ") && !p2_row.bank_ref.contains(CARD_B), "stored masked");
    let other_id = identities(&other)[0].key();
    assert_eq!(keys(&s.payments_by_payer(&other_id, None, 10).unwrap()), vec![other.key()]);
    assert!(s.payments_by_payer("name:CA:nobody", None, 10).unwrap().is_empty());
}

fn ledger_entry_by_payment_key<S: Store>(s: &S) {
    let a = remit_domain::Account {
        account_id: Some("ACC-9".into()),
        ..account(CARD_A, Market::CA, Currency::CAD)
    };
    s.put_account(&a).unwrap();
    let p = payment("LE1", 2500, CARD_A, FileId::of_bytes(b"le"), 1);
    s.receive_payment(&p, now()).unwrap();
    assert!(s.entry(&p.key()).unwrap().is_none(), "not posted yet");
    assert_eq!(s.post(&posting_to_card_a(&p)).unwrap(), Transition::Done);
    let e = s.entry(&p.key()).unwrap().unwrap();
    assert_eq!(
        (e.payment_key.clone(), e.account, e.amount, e.account_id.as_deref(), e.reversed_by.clone()),
        (p.key(), crate::fixtures::card(CARD_A), p.amount, Some("ACC-9"), None)
    );
    assert!(e.lines.is_empty());
    // A split: its lines, in order.
    control_group(s);
    let split = payment("LE2", 75000, CARD_CLOSED, FileId::of_bytes(b"le"), 2);
    s.receive_payment(&split, now()).unwrap();
    let posting = split_posting(&split, &[(CARD_A, 50000), (CARD_B, 25000)]);
    assert_eq!(s.post(&posting).unwrap(), Transition::Done);
    assert_eq!(s.entry(&split.key()).unwrap().unwrap().lines, posting.lines);
    assert!(s.entry(&payment("LE3", 1, "", FileId::of_bytes(b"le"), 3).key()).unwrap().is_none());
}

fn open_page_follows_the_due_order_by_cursor<S: Store>(s: &S) {
    // Due in 5, 1, 3, 3 (a tie: by id), 8 hours; one resolved, one in EU.
    let mut ids = Vec::new();
    for (i, hours) in [5, 1, 3, 3, 8].into_iter().enumerate() {
        ids.push(queued(s, &format!("OP{i}"), &format!("RQ-CA-op{i}"), hours).id);
    }
    let done = queued(s, "OPX", "RQ-CA-opx", 2);
    queue::claim(s, &done.id, "ann", now(), &QueuePolicy::default()).unwrap();
    queue::resolve_by_applying(
        s,
        &done.id,
        &crate::fixtures::card(CARD_A),
        "ann",
        now(),
        &QueuePolicy::default(),
    )
    .unwrap();
    let eu = payment("OPE", 100, "", FileId::of_bytes(b"f"), 9);
    s.receive_payment(&eu, now()).unwrap();
    assert_eq!(s.enqueue(&item(&eu.key(), "RQ-EU-op", Market::EU, 1)).unwrap(), Transition::Done);
    let want = ["RQ-CA-op1", "RQ-CA-op2", "RQ-CA-op3", "RQ-CA-op0", "RQ-CA-op4"];
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut after: Option<QueueCursor> = None;
    loop {
        let page = s.open_page(Market::CA, after.as_ref(), 2).unwrap();
        after = page.last().map(QueueCursor::due);
        let short = page.len() < 2;
        pages.push(page.into_iter().map(|i| i.id).collect());
        if short || pages.len() > 5 {
            break;
        }
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2, 1]);
    assert_eq!(pages.concat(), want, "earliest due first, ties by id, open items only");
    let eu_page = s.open_page(Market::EU, None, 10).unwrap();
    assert_eq!(eu_page.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["RQ-EU-op"]);
}

fn closed_between_reads_a_window_oldest_first<S: Store>(s: &S) {
    let at = |minutes: i64| now() + Duration::minutes(minutes);
    let policy = QueuePolicy::default();
    // Closed at +60 (returned), +120 (resolved), +120 (returned: a tie, by id), +180, +300.
    let close = |n: usize, minutes: i64, resolve: bool| {
        let it = queued(s, &format!("CB{n}"), &format!("RQ-CA-cb{n}"), 24);
        queue::claim(s, &it.id, "ann", at(minutes), &policy).unwrap();
        if resolve {
            queue::resolve_by_applying(
                s,
                &it.id,
                &crate::fixtures::card(CARD_A),
                "ann",
                at(minutes),
                &policy,
            )
            .unwrap();
        } else {
            act(s, &it.id, "ann", &Action::Return("not ours".into()), at(minutes)).unwrap();
        }
        let closed = s.item(&it.id).unwrap().unwrap();
        assert_eq!(closed.closed_at(), Some(at(minutes)), "{}", it.id);
        it.id
    };
    close(1, 60, false);
    close(3, 120, false);
    close(2, 120, true);
    close(4, 180, false);
    close(5, 300, false);
    // Still active: escalated, and a write-off waiting for its second person.
    let open = queued(s, "CB6", "RQ-CA-cb6", 24);
    queue::claim(s, &open.id, "ann", at(90), &policy).unwrap();
    act(s, &open.id, "ann", &Action::Escalate("senior".into()), at(90)).unwrap();
    let pending = queued(s, "CB7", "RQ-CA-cb7", 24);
    queue::claim(s, &pending.id, "ann", at(100), &policy).unwrap();
    act(s, &pending.id, "ann", &Action::RequestWriteOff("small".into()), at(100)).unwrap();
    let ids = |v: Vec<ResearchItem>| v.into_iter().map(|i| i.id).collect::<Vec<_>>();
    // [from, to): the start included, the end excluded.
    assert_eq!(
        ids(s.closed_between(Market::CA, at(60), at(300), None, 10).unwrap()),
        ["RQ-CA-cb1", "RQ-CA-cb2", "RQ-CA-cb3", "RQ-CA-cb4"]
    );
    assert_eq!(ids(s.closed_between(Market::CA, at(61), at(301), None, 10).unwrap()).len(), 4);
    assert!(s.closed_between(Market::CA, at(0), at(60), None, 10).unwrap().is_empty());
    assert!(s.closed_between(Market::EU, at(0), at(600), None, 10).unwrap().is_empty());
    assert!(s.closed_between(Market::CA, at(300), at(60), None, 10).unwrap().is_empty(), "reversed window");
    // Pages of 2 by the closed cursor.
    let first = s.closed_between(Market::CA, at(0), at(600), None, 2).unwrap();
    let cursor = QueueCursor::closed(first.last().unwrap()).unwrap();
    assert_eq!(ids(first), ["RQ-CA-cb1", "RQ-CA-cb2"]);
    let second = s.closed_between(Market::CA, at(0), at(600), Some(&cursor), 2).unwrap();
    let cursor = QueueCursor::closed(second.last().unwrap()).unwrap();
    assert_eq!(ids(second), ["RQ-CA-cb3", "RQ-CA-cb4"]);
    assert_eq!(ids(s.closed_between(Market::CA, at(0), at(600), Some(&cursor), 2).unwrap()), ["RQ-CA-cb5"]);
    // A cursor before the window starts: the window's start decides.
    let early = QueueCursor { at: at(0), id: "RQ-CA-cb0".into() };
    assert_eq!(ids(s.closed_between(Market::CA, at(120), at(600), Some(&early), 1).unwrap()), ["RQ-CA-cb2"]);
    assert!(QueueCursor::closed(&s.item(&open.id).unwrap().unwrap()).is_none(), "escalated is open");
}

fn research_item_candidates_round_trip<S: Store>(s: &S) {
    use remit_domain::model::decision::Candidate;
    let p = payment("RC1", 100, "", FileId::of_bytes(b"f"), 1);
    s.receive_payment(&p, now()).unwrap();
    let candidates = vec![
        Candidate {
            account: crate::fixtures::card(CARD_A),
            confidence: 0.75,
            evidence: vec![
                Reason::new(ReasonCode::NameEvidence, "name matches"),
                Reason::new(ReasonCode::NoReference, "no reference"),
            ],
            not_applied: Reason::new(ReasonCode::Ambiguous, "two accounts"),
        },
        Candidate {
            account: crate::fixtures::card(CARD_B),
            confidence: 0.5,
            evidence: Vec::new(),
            not_applied: Reason::new(ReasonCode::Ambiguous, "two accounts"),
        },
    ];
    let it = ResearchItem { candidates: candidates.clone(), ..item(&p.key(), "RQ-CA-rc1", Market::CA, 4) };
    assert_eq!(s.enqueue(&it).unwrap(), Transition::Done);
    assert_eq!(s.item(&it.id).unwrap().unwrap().candidates, candidates, "best first, as given");
    // Kept through changes, and read by every listing.
    queue::claim(s, &it.id, "ann", now(), &QueuePolicy::default()).unwrap();
    assert_eq!(s.item(&it.id).unwrap().unwrap().candidates, candidates);
    let listed = s.open_page(Market::CA, None, 10).unwrap();
    assert_eq!(listed.iter().find(|i| i.id == it.id).unwrap().candidates, candidates);
    // None: an empty list.
    let q = payment("RC2", 100, "", FileId::of_bytes(b"f"), 2);
    s.receive_payment(&q, now()).unwrap();
    assert_eq!(s.enqueue(&item(&q.key(), "RQ-CA-rc2", Market::CA, 4)).unwrap(), Transition::Done);
    assert!(s.item("RQ-CA-rc2").unwrap().unwrap().candidates.is_empty());
}

mod sqlite {
    use remit_store_sqlite::SqliteStore;

    #[test]
    fn racing_puts_of_one_account_across_connections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("race.sqlite");
        let setup = SqliteStore::open(&path).unwrap();
        super::racing_puts_of_one_account_keep_its_name_keys(&setup, || SqliteStore::open(&path).unwrap());
    }

    #[test]
    fn sqlite_store_conforms() {
        super::run_all(crate::fixtures::sqlite);
    }

    /// Two processes (two connections to one file) race: one claim wins, and two resolves of
    /// the same item (a double click on two screens) post once.
    #[test]
    fn racing_claims_and_resolves_across_connections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("race.sqlite");
        let setup = SqliteStore::open(&path).unwrap();
        super::racing_claims_and_resolves(&setup, || SqliteStore::open(&path).unwrap());
    }
}

/// The DynamoDB store on the AWS emulator (moto) that `scripts/test` starts: each store gets its
/// own tables (a unique name prefix), so tests run in parallel on one emulator.
pub(crate) mod dynamodb {
    use std::path::Path;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use remit_domain::ingest::IngestConfig;
    use remit_domain::ports::AccountDirectory;
    use remit_store_dynamodb::{local_client, DynamoStore, TableNames};

    /// The emulator's endpoint; the tests fail (never skip) without it.
    pub(crate) fn endpoint() -> String {
        match std::env::var("REMIT_TEST_AWS_ENDPOINT") {
            Ok(e) if !e.trim().is_empty() => e,
            _ => panic!(
                "REMIT_TEST_AWS_ENDPOINT is not set: the DynamoDB store tests need the AWS emulator. \
                 Run scripts/test (it starts the emulator on loopback and sets the variable), or start \
                 `.venv/bin/python scripts/moto_server.py -H 127.0.0.1 -p 5555` and set \
                 REMIT_TEST_AWS_ENDPOINT=http://127.0.0.1:5555"
            ),
        }
    }

    /// A table-name prefix no other test (or earlier run on the same emulator) uses.
    pub(crate) fn fresh_names() -> TableNames {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        TableNames::with_prefix(&format!("t{}-{nanos}-{n}-", std::process::id()))
    }

    /// A store on `names` (another store on the same tables is another process).
    pub(crate) fn store_on(names: &TableNames) -> DynamoStore {
        DynamoStore::new(local_client(&endpoint()), names.clone(), crate::fixtures::key()).unwrap()
    }

    /// A store on tables of its own, created.
    pub(crate) fn fresh_store() -> DynamoStore {
        let s = store_on(&fresh_names());
        s.create_tables().unwrap();
        s
    }

    #[test]
    fn dynamodb_store_conforms() {
        super::run_all(fresh_store);
    }

    /// Two processes (two stores on the same tables) race: one claim wins, and two resolves of
    /// the same item (a double click on two screens) post once.
    #[test]
    fn racing_claims_and_resolves_across_stores() {
        let names = fresh_names();
        let setup = store_on(&names);
        setup.create_tables().unwrap();
        super::racing_claims_and_resolves(&setup, || store_on(&names));
    }

    #[test]
    fn racing_puts_of_one_account_across_stores() {
        let names = fresh_names();
        let setup = store_on(&names);
        setup.create_tables().unwrap();
        super::racing_puts_of_one_account_keep_its_name_keys(&setup, || store_on(&names));
    }

    /// As in a Lambda: the store built inside the runtime (it takes the runtime's handle) and
    /// called from `spawn_blocking`.
    #[test]
    fn a_lambda_builds_the_store_in_its_runtime_and_calls_it_from_blocking_tasks() {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let card = account(CARD_A, Market::CA, Currency::CAD);
        let found = rt.block_on(async {
            let store = std::sync::Arc::new(store_on(&fresh_names()));
            let (s, card) = (store.clone(), card.clone());
            tokio::task::spawn_blocking(move || {
                s.create_tables().unwrap();
                s.put_account(&card).unwrap();
                s.account(&card.card).unwrap()
            })
            .await
            .unwrap()
        });
        assert_eq!(found, Some(card));
    }

    /// `put_account` writes the account and one item per holder-name key it lacks, and deletes
    /// those of its old name: 1 + 4 plain writes for a first put, 1 when the name is unchanged,
    /// one transaction when it changes. The figures
    /// for the sample directory are printed for BENCHMARKS
    /// (`cargo test -p remit-tests --test integration holder_name_index -- --nocapture`).
    #[test]
    fn holder_name_index_writes_per_account_put() {
        let s = fresh_store();
        let writes = |f: &dyn Fn()| {
            let before = s.writes();
            f();
            s.writes().since(before)
        };
        let jp = holder(&card(1), Market::CA, "Jean-Pierre Côté");
        let w = writes(&|| s.put_account(&jp).unwrap());
        assert_eq!((w.items, w.transactional_items), (5, 0), "the account and its 4 keys");
        assert_eq!(writes(&|| s.put_account(&jp).unwrap()).items, 1, "the same name: the account alone");
        let renamed = holder(&card(1), Market::CA, "Marie Côté");
        let w = writes(&|| s.put_account(&renamed).unwrap());
        assert_eq!((w.items, w.transactional_items), (8, 8), "one transaction: 3 keys put, 4 deleted");
        let one_word = holder(&card(2), Market::CA, "Cher");
        assert_eq!(writes(&|| s.put_account(&one_word).unwrap()).items, 1, "a one-word name has no key");

        let accounts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/accounts.csv");
        let d = fresh_store();
        let before = d.writes();
        let n = remit::local::import_accounts(&d, &accounts).unwrap();
        let w = d.writes().since(before);
        let lite = crate::fixtures::sqlite();
        remit::local::import_accounts(&lite, &accounts).unwrap();
        let rows = lite.count(remit_store_sqlite::Table::AccountNameKeys).unwrap();
        println!(
            "samples/accounts.csv: {n} accounts; DynamoDB: {} items written ({:.2} per account put, \
             {} write request units); SQLite: {rows} account_name_keys rows ({:.2} per account)",
            w.items,
            w.items as f64 / n as f64,
            w.request_units(),
            rows as f64 / n as f64
        );
        assert_eq!(w.items, n + rows, "one write per account and per name key, on both stores alike");
    }

    /// An index item that names an account under a name it no longer has (what a put that
    /// failed half-way leaves behind) finds nothing. Made here by a put through a store whose
    /// accounts table is another one: it writes the name item, not the account.
    #[test]
    fn a_name_item_left_behind_finds_nothing() {
        let names = fresh_names();
        let s = store_on(&names);
        s.create_tables().unwrap();
        let jean = holder(&card(1), Market::CA, "Jean Tremblay");
        s.put_account(&jean).unwrap();
        let elsewhere = fresh_names();
        store_on(&elsewhere).create_tables().unwrap();
        let half = store_on(&TableNames { accounts: elsewhere.accounts.clone(), ..names.clone() });
        half.put_account(&holder(&card(1), Market::CA, "Marie Côté")).unwrap();
        assert!(s
            .accounts_by_holder_name(Market::CA, "cote marie", remit_domain::ports::MAX_INDEX_RESULTS)
            .unwrap()
            .is_empty());
        assert_eq!(
            s.accounts_by_holder_name(Market::CA, "jean tremblay", remit_domain::ports::MAX_INDEX_RESULTS)
                .unwrap(),
            vec![jean]
        );
    }

    /// A store with a runtime of its own may be dropped in async code (it does not wait for it).
    #[test]
    fn a_store_with_its_own_runtime_may_be_dropped_in_async_code() {
        let store = fresh_store();
        assert!(store.account(&crate::fixtures::card(CARD_A)).unwrap().is_none());
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async move { drop(store) });
    }

    /// Missing tables are not worth retrying; an unreachable endpoint is. Card numbers masked.
    #[test]
    fn failures_are_store_errors_retryable_only_when_worth_it() {
        let missing = store_on(&fresh_names());
        let e = missing.account(&crate::fixtures::card(CARD_A)).unwrap_err();
        assert!(matches!(e, StoreError::Corrupt(_)), "{e}");
        let nowhere =
            DynamoStore::new(local_client("http://127.0.0.1:9"), fresh_names(), crate::fixtures::key())
                .unwrap();
        let e = nowhere.account(&crate::fixtures::card(CARD_A)).unwrap_err();
        assert!(e.is_retryable(), "{e}");
        assert!(!e.to_string().contains(CARD_A), "masked: {e}");
    }

    /// The CA sample file into a DynamoDB store (directory loaded first): the same outcome as
    /// SQLite's, and the write requests each applied payment costs, printed for BENCHMARKS
    /// (`cargo test -p remit-tests ca_sample -- --nocapture`).
    #[test]
    fn ca_sample_write_requests_per_applied_payment() {
        let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples");
        let (accounts, file) = (samples.join("accounts.csv"), samples.join("ca/cpa005-rbc-20260315.txt"));
        let config = IngestConfig::default();
        let s = fresh_store();
        remit::local::import_accounts(&s, &accounts).unwrap();
        let before = s.writes();
        // Each payment's writes: the counter between one result and the next (the first
        // payment's share holds the file's registration, the last result is followed by the
        // file's completion).
        let mut mark = before;
        let mut per_payment: Vec<(Outcome, remit_store_dynamodb::WriteCount)> = Vec::new();
        let report = remit::local::ingest_path(&s, &file, now(), &config, |r| {
            let w = s.writes();
            per_payment.push((r.decision.outcome, w.since(mark)));
            mark = w;
        })
        .unwrap();
        let w = s.writes().since(before);

        let lite = crate::fixtures::sqlite();
        remit::local::import_accounts(&lite, &accounts).unwrap();
        let expected = remit::local::ingest_path(&lite, &file, now(), &config, |_| {}).unwrap();
        assert_eq!(report.summary, expected.summary, "the same decisions as on SQLite");

        let applied = report.summary.applied;
        assert!(applied > 0, "{:?}", report.summary);
        println!(
            "CA sample on DynamoDB: {} payments, {applied} applied, {} queued; whole file: {} items \
             written ({} in transactions) = {:.2} items, {:.2} write request units per applied payment",
            report.summary.payments,
            report.summary.queued,
            w.items,
            w.transactional_items,
            w.items as f64 / applied as f64,
            w.request_units() as f64 / applied as f64,
        );
        // The first payment also registered the file: leave it out of the per-outcome figures.
        for outcome in [Outcome::Applied, Outcome::Research] {
            let of: Vec<_> =
                per_payment.iter().skip(1).filter(|(o, _)| *o == outcome).map(|(_, w)| *w).collect();
            if of.is_empty() {
                continue;
            }
            let n = of.len() as f64;
            let items: u64 = of.iter().map(|w| w.items).sum();
            let units: u64 = of.iter().map(|w| w.request_units()).sum();
            println!(
                "  per {} payment ({} measured): {:.2} items, {:.2} write request units",
                outcome.as_str(),
                of.len(),
                items as f64 / n,
                units as f64 / n
            );
        }
        let applied_items: Vec<u64> = per_payment
            .iter()
            .skip(1)
            .filter(|(o, _)| *o == Outcome::Applied)
            .map(|(_, w)| w.items)
            .collect();
        // 6, and since issue 16 one payer-history item per payer identity (account, name: 2 at
        // most), plain writes at receipt.
        assert!(
            applied_items.iter().all(|n| *n <= 6 + 2),
            "an applied payment writes at most 8 items: {applied_items:?}"
        );
        // A replay of the same bytes posts nothing, and writes no more than the registration.
        let before = s.writes();
        let replay = remit::local::ingest_path(&s, &file, now(), &config, |_| {}).unwrap();
        assert_eq!(replay.summary.applied, 0, "{:?}", replay.summary);
        println!("replay: {} items written", s.writes().since(before).items);
    }
}
