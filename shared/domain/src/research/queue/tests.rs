use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::model::ids::{FileId, PaymentKey};
use crate::model::money::{Currency, Money};
use crate::model::payment::Market;
use crate::ports::QueueFilter;

const CARD: &str = "378282246310005";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
}

pub(crate) fn item() -> ResearchItem {
    ResearchItem {
        id: "RQ-CA-1".into(),
        payment_key: PaymentKey::from_parts(&["CA", "bank", "T1"]),
        market: Market::CA,
        file_id: FileId::of_bytes(b"f"),
        bank_ref: "T1".into(),
        amount: Money::from_minor(12345, Currency::CAD),
        payer_name: Some("ACME".into()),
        payer_identities: vec![],
        reason_code: ReasonCode::NoReference,
        reasons: vec![],
        candidate: None,
        candidates: Vec::new(),
        confidence: 0.0,
        created_at: t0(),
        warn_at: t0() + Duration::hours(36),
        due_at: t0() + Duration::hours(48),
        status: ItemStatus::Open,
        claim: None,
        version: 0,
        disposition: None,
        linking_refs: vec![],
    }
}

fn until() -> DateTime<Utc> {
    QueuePolicy::default().claim_expiry(t0())
}

fn claimed_by(who: &str) -> ResearchItem {
    apply(&item(), who, &Action::Claim, t0(), until()).unwrap()
}

#[test]
fn claim_is_one_analyst_at_a_time_and_expires() {
    let c = claimed_by("ann");
    assert_eq!(c.version, 1);
    assert_eq!(c.claim.as_ref().unwrap().expires_at, t0() + Duration::minutes(30));
    let e = apply(&c, "bob", &Action::Claim, t0() + Duration::minutes(29), until()).unwrap_err();
    assert!(matches!(e, QueueError::ClaimedByOther { ref analyst, .. } if analyst == "ann"), "{e}");
    // The holder renews.
    assert!(apply(&c, "ann", &Action::Claim, t0() + Duration::minutes(10), until() + Duration::minutes(10))
        .is_ok());
    // Expired: another analyst may take it, and the first one can no longer act.
    let later = t0() + Duration::minutes(30);
    let b = apply(&c, "bob", &Action::Claim, later, later + Duration::minutes(30)).unwrap();
    assert_eq!(b.claim.unwrap().analyst, "bob");
    let e = apply(&c, "ann", &Action::Return("x".into()), later, later).unwrap_err();
    assert!(matches!(e, QueueError::NotClaimant { .. }), "{e}");
}

#[test]
fn only_the_claimant_acts() {
    let account = crate::model::card::test_card(CARD);
    let e = apply(&item(), "ann", &Action::Resolve(account), t0(), t0()).unwrap_err();
    assert!(matches!(e, QueueError::NotClaimant { .. }), "unclaimed: {e}");
    let c = claimed_by("ann");
    let e = apply(&c, "bob", &Action::Escalate("why".into()), t0(), t0()).unwrap_err();
    assert!(matches!(e, QueueError::ClaimedByOther { .. }), "{e}");
    let r = apply(&c, "ann", &Action::Resolve(account), t0(), t0()).unwrap();
    assert_eq!(r.status, ItemStatus::Resolved);
    assert!(r.claim.is_none());
    assert_eq!(r.disposition.as_ref().unwrap().account.as_ref(), Some(&account));
    // A closed item takes notes only.
    let e = apply(&r, "ann", &Action::Claim, t0(), until()).unwrap_err();
    assert!(matches!(e, QueueError::WrongState { status: "resolved", .. }), "{e}");
    assert!(apply(&r, "carl", &Action::Note("checked".into()), t0(), t0()).is_ok());
}

#[test]
fn return_and_escalate_need_a_reason_and_escalated_items_are_worked_again() {
    let c = claimed_by("ann");
    assert!(matches!(
        apply(&c, "ann", &Action::Return("  ".into()), t0(), t0()),
        Err(QueueError::Invalid(_))
    ));
    let esc = apply(&c, "ann", &Action::Escalate("payer unknown".into()), t0(), t0()).unwrap();
    assert_eq!((esc.status, esc.claim.is_none()), (ItemStatus::Escalated, true));
    let senior = apply(&esc, "sue", &Action::Claim, t0(), until()).unwrap();
    let e = apply(&senior, "sue", &Action::Escalate("again".into()), t0(), t0()).unwrap_err();
    assert!(matches!(e, QueueError::WrongState { .. }));
    let ret =
        apply(&senior, "sue", &Action::Return("card 3782 822463 10005 closed".into()), t0(), t0()).unwrap();
    assert_eq!(ret.status, ItemStatus::Returned);
    let reason = ret.disposition.unwrap().reason.unwrap();
    assert!(!reason.contains("822463"), "card numbers masked: {reason}");
}

#[test]
fn write_off_needs_a_second_person() {
    let c = claimed_by("ann");
    let p = apply(&c, "ann", &Action::RequestWriteOff("unidentifiable, 1 CAD".into()), t0(), t0()).unwrap();
    assert_eq!(p.status, ItemStatus::WriteOffPending);
    let e = apply(&p, "ann", &Action::ApproveWriteOff, t0(), t0()).unwrap_err();
    assert!(matches!(e, QueueError::FourEyes { ref requester, .. } if requester == "ann"), "{e}");
    assert!(matches!(
        apply(&p, "ann", &Action::RejectWriteOff("no".into()), t0(), t0()),
        Err(QueueError::FourEyes { .. })
    ));
    let e = apply(&p, "ann", &Action::Resolve(crate::model::card::test_card(CARD)), t0(), t0()).unwrap_err();
    assert!(matches!(e, QueueError::NotClaimant { .. } | QueueError::WrongState { .. }), "{e}");
    let w = apply(&p, "bob", &Action::ApproveWriteOff, t0(), t0()).unwrap();
    assert_eq!(w.status, ItemStatus::WrittenOff);
    assert_eq!(w.disposition.as_ref().unwrap().approved_by.as_deref(), Some("bob"));
    let audit = audit_entry(&p, &w, "bob", &Action::ApproveWriteOff, t0());
    assert_eq!(
        (audit.before.status.as_str(), audit.after.status.as_str()),
        ("write-off-pending", "written-off")
    );
    assert!(audit.note.unwrap().contains("suspense"));
    // Rejected: back to the queue.
    let back = apply(&p, "bob", &Action::RejectWriteOff("find the payer".into()), t0(), t0()).unwrap();
    assert_eq!((back.status, back.disposition.is_none()), (ItemStatus::Open, true));
}

#[test]
fn analyst_ids_and_texts_are_checked() {
    for bad in ["", "a b", "x\n", &"a".repeat(65), CARD] {
        assert!(matches!(apply(&item(), bad, &Action::Claim, t0(), until()), Err(QueueError::Invalid(_))));
    }
    let long = "x".repeat(MAX_TEXT + 1);
    assert!(matches!(apply(&item(), "ann", &Action::Note(long), t0(), t0()), Err(QueueError::Invalid(_))));
}

#[test]
fn audit_snapshots_mask_accounts_and_carry_versions() {
    let c = claimed_by("ann");
    let r = apply(&c, "ann", &Action::Resolve(crate::model::card::test_card(CARD)), t0(), t0()).unwrap();
    let a = audit_entry(&c, &r, "ann", &Action::Resolve(crate::model::card::test_card(CARD)), t0());
    assert_eq!((a.seq, a.before.version, a.after.version), (2, 1, 2));
    assert_eq!(a.before.claimed_by.as_deref(), Some("ann"));
    let json = serde_json::to_string(&a).unwrap();
    assert!(!json.contains(CARD) && json.contains("0005"), "{json}");
    let back: AuditEntry = serde_json::from_str(&json).unwrap();
    assert_eq!(back, a);
}

#[test]
fn filters() {
    let mut f = QueueFilter { now: Some(t0()), ..QueueFilter::default() };
    assert!(f.accepts(&item()) && f.active_only());
    f.claimed_by = Some("ann".into());
    assert!(!f.accepts(&item()) && f.accepts(&claimed_by("ann")));
    f.now = Some(t0() + Duration::hours(1));
    assert!(!f.accepts(&claimed_by("ann")), "an expired claim is no claim");
    let f = QueueFilter { due_before: Some(t0() + Duration::hours(1)), ..QueueFilter::default() };
    assert!(!f.accepts(&item()));
    let f = QueueFilter { statuses: vec![ItemStatus::Resolved], ..QueueFilter::default() };
    assert!(!f.accepts(&item()) && !f.active_only());
}

#[test]
fn the_policy_refuses_limits_of_zero_or_past_their_bound() {
    assert!(QueuePolicy::default().validate().is_ok());
    let bad = |p: QueuePolicy| p.validate().unwrap_err();
    let d = QueuePolicy::default;
    assert!(bad(QueuePolicy { max_notes_per_item: 0, ..d() }).contains("queue.max_notes_per_item"));
    let e = bad(QueuePolicy { max_notes_per_item: 10, max_notes_per_analyst: 11, ..d() });
    assert!(e.contains("queue.max_notes_per_analyst: 11 is not between 1 and 10"), "{e}");
    assert!(bad(QueuePolicy { resolves_per_minute: 0, ..d() }).contains("queue.resolves_per_minute"));
}

#[test]
fn a_resolve_above_the_limit_waits_for_another_person() {
    let card = crate::model::card::test_card(CARD);
    let c = claimed_by("ann");
    let p = apply(&c, "ann", &Action::RequestResolve(card), t0(), t0()).unwrap();
    assert_eq!(p.status, ItemStatus::ResolvePending);
    assert!(p.status.is_active(), "it stays in the market's queue");
    assert_eq!(p.disposition.as_ref().and_then(|d| d.account), Some(card));
    let e = apply(&p, "ann", &Action::ApproveResolve, t0(), t0()).unwrap_err();
    assert!(matches!(e, QueueError::FourEyes { what: "resolve", .. }), "{e}");
    assert!(e.to_string().contains("the resolve was requested by ann"), "{e}");
    let e = apply(&p, "ann", &Action::Resolve(card), t0(), t0()).unwrap_err();
    assert!(matches!(e, QueueError::NotClaimant { .. } | QueueError::WrongState { .. }), "{e}");
    let r = apply(&p, "bob", &Action::ApproveResolve, t0(), t0()).unwrap();
    assert_eq!(r.status, ItemStatus::Resolved);
    assert_eq!(r.disposition.as_ref().unwrap().approved_by.as_deref(), Some("bob"));
    let back = apply(&p, "bob", &Action::RejectResolve("not this card".into()), t0(), t0()).unwrap();
    assert_eq!((back.status, back.disposition), (ItemStatus::Open, None));
    let note = audit_entry(&c, &p, "ann", &Action::RequestResolve(card), t0()).note.unwrap();
    assert!(note.contains("four-eyes limit"), "{note}");
    let mut policy = QueuePolicy::default();
    assert_eq!(
        policy.second_person_above.get(crate::model::payment::Market::CA),
        rust_decimal::Decimal::new(10_000, 0)
    );
    policy.second_person_above.eu = rust_decimal::Decimal::new(-1, 0);
    assert!(policy.validate().unwrap_err().contains("second_person_above"));
}

/// Issue 16: an item queued before candidates were kept still offers its one candidate, with
/// the reason that blocked it; an item with candidates offers them as they are.
#[test]
fn an_item_from_before_candidates_offers_its_one_candidate() {
    let card = crate::model::card::test_card(CARD);
    let mut old = item();
    old.candidate = Some(card);
    old.confidence = 0.7;
    old.reasons = vec![
        Reason::new(ReasonCode::NameEvidence, "payer name agrees"),
        Reason::new(ReasonCode::LowConfidence, "below the threshold"),
    ];
    let offered = old.offered_candidates();
    assert_eq!(offered.len(), 1);
    assert_eq!((offered[0].account, offered[0].confidence), (card, 0.7));
    assert_eq!(offered[0].not_applied.code, ReasonCode::LowConfidence);
    assert_eq!(offered[0].evidence.len(), 1);
    assert!(item().offered_candidates().is_empty(), "no candidate at all");
}
