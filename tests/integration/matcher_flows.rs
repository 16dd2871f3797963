//! The matcher through the pipeline and the SQLite store: alias teaching and duplicate suspicion.

use chrono::{Duration, TimeZone, Utc};
use remit_domain::ingest::{process_payment, IngestConfig};
use remit_domain::matching::alias::teach_alias;
use remit_domain::model::money::Currency;
use remit_domain::ports::{AccountDirectory, Ledger, ResearchQueue};
use remit_domain::{FileId, Market, Outcome, PayerAccount, ReasonCode};

use crate::fixtures::{account, payment, CARD_A};

/// CARD_A with its eighth digit mistyped: Luhn-invalid, one edit from CARD_A only.
const TYPO_OF_A: &str = "378282236310005";

#[test]
fn resolving_an_item_teaches_the_payer_and_the_next_payment_applies() {
    let s = crate::fixtures::sqlite();
    s.put_account(&account(CARD_A, Market::CA, Currency::CAD)).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
    let config = IngestConfig::default();
    let payer = |bank_ref: &str, cents: i64, record: u64| {
        let mut p = payment(bank_ref, cents, TYPO_OF_A, FileId::of_bytes(b"f"), record);
        p.payer_name = Some("ACME PAYROLL SERVICES".into());
        p.payer_account = Some(PayerAccount::Canadian {
            institution: "001".into(),
            transit: "12345".into(),
            account: "7654321".into(),
        });
        p
    };

    let first = payer("T1", 12345, 1);
    let r = process_payment(&s, &first, now, &config).unwrap();
    assert_eq!(r.decision.outcome, Outcome::Research, "{:?}", r.decision.reasons);
    let item = s.open_items(Market::CA, 10).unwrap().into_iter().next().unwrap();
    assert_eq!(item.payer_identities.len(), 2, "account and name kept on the item");

    // The analyst resolves the item to CARD_A (issue 6 calls this from the ops queue).
    let learned = teach_alias(&s, &item, &crate::fixtures::card(CARD_A), "analyst-7", now).unwrap();
    assert_eq!(learned.len(), 2);

    let mut next = payer("T2", 20000, 2);
    next.value_date += Duration::days(30);
    let r = process_payment(&s, &next, now, &config).unwrap();
    assert_eq!(r.decision.outcome, Outcome::Applied, "{:?}", r.decision.reasons);
    assert!(r
        .decision
        .reasons
        .iter()
        .any(|x| x.text.starts_with(&format!("learned from resolution {}", item.id))));
    assert_eq!(s.posted_total(&crate::fixtures::card(CARD_A)).unwrap(), rust_decimal::Decimal::new(20000, 2));
}

#[test]
fn the_same_payer_amount_and_date_under_another_reference_is_held() {
    let s = crate::fixtures::sqlite();
    s.put_account(&account(CARD_A, Market::CA, Currency::CAD)).unwrap();
    let now = Utc::now();
    let config = IngestConfig::default();
    let first = payment("T1", 7500, CARD_A, FileId::of_bytes(b"f1"), 1);
    let second = payment("T9", 7500, CARD_A, FileId::of_bytes(b"f2"), 1);
    assert_eq!(process_payment(&s, &first, now, &config).unwrap().decision.outcome, Outcome::Applied);
    let r = process_payment(&s, &second, now, &config).unwrap();
    assert_eq!(r.decision.outcome, Outcome::Research);
    assert_eq!(r.decision.blocker().unwrap().code, ReasonCode::DuplicateSuspected);
    assert!(r.decision.blocker().unwrap().text.contains("T1"));
    // The first delivery again is a duplicate by key, not a suspicion.
    assert_eq!(process_payment(&s, &first, now, &config).unwrap().decision.outcome, Outcome::Duplicate);
}

/// Issue 6 end to end on the pipeline: a payment queued by the matcher, claimed and resolved
/// through the queue (posted once, alias taught, audited), the payer's next payment applied on
/// the learned alias, and a later reversal finding the analyst's posting.
#[test]
fn a_queue_resolution_posts_once_teaches_and_can_be_reversed() {
    use remit_domain::ports::AuditAction;
    use remit_domain::ports::{PaymentLog, PaymentState, QueueOps};
    use remit_domain::research::queue::{self, QueuePolicy};

    let s = crate::fixtures::sqlite();
    s.put_account(&account(CARD_A, Market::CA, Currency::CAD)).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
    let config = IngestConfig::default();
    let mut first = payment("Q1", 12345, TYPO_OF_A, FileId::of_bytes(b"f"), 1);
    first.payer_name = Some("ACME PAYROLL SERVICES".into());
    first.references.end_to_end_id = Some("E2E-Q1".into());
    assert_eq!(process_payment(&s, &first, now, &config).unwrap().decision.outcome, Outcome::Research);
    let item = s.open_items(Market::CA, 10).unwrap().into_iter().next().unwrap();

    queue::claim(&s, &item.id, "analyst-7", now, &QueuePolicy::default()).unwrap();
    let card = crate::fixtures::card(CARD_A);
    let done =
        queue::resolve_by_applying(&s, &item.id, &card, "analyst-7", now, &QueuePolicy::default()).unwrap();
    assert!(done.changed);
    assert!(
        !queue::resolve_by_applying(&s, &item.id, &card, "analyst-7", now, &QueuePolicy::default())
            .unwrap()
            .changed
    );
    assert_eq!(s.posted_total(&card).unwrap(), rust_decimal::Decimal::new(12345, 2), "posted once");
    assert_eq!(s.payment_state(&first.key()).unwrap(), Some(PaymentState::Applied));
    let trail = s.audit_trail(&item.id).unwrap();
    assert_eq!(
        trail.iter().map(|e| e.action).collect::<Vec<_>>(),
        vec![AuditAction::Claim, AuditAction::Resolve]
    );

    let mut next = payment("Q2", 5000, TYPO_OF_A, FileId::of_bytes(b"g"), 1);
    next.payer_name = Some("ACME PAYROLL SERVICES".into());
    next.value_date += Duration::days(30);
    let r = process_payment(&s, &next, now, &config).unwrap();
    assert_eq!(r.decision.outcome, Outcome::Applied, "{:?}", r.decision.reasons);

    let mut reversal = payment("Q1-R", 12345, "", FileId::of_bytes(b"h"), 1);
    reversal.references.end_to_end_id = Some("E2E-Q1".into());
    reversal.reversal = true;
    reversal.direction = remit_domain::Direction::Debit;
    let r = process_payment(&s, &reversal, now, &config).unwrap();
    assert_eq!(r.decision.outcome, Outcome::Reversed, "{:?}", r.decision.reasons);
    assert_eq!(s.posted_total(&card).unwrap(), rust_decimal::Decimal::new(5000, 2));
}
