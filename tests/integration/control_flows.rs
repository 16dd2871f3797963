//! Corporate control accounts through the pipeline: a split posts one line per card, exactly
//! once, and reverses every line once; a list that does not add up goes to research; a payment
//! to a control account without a list goes to the control account.

use chrono::{TimeZone, Utc};
use remit_domain::ingest::{process_payment, IngestConfig, PaymentResult};
use remit_domain::model::money::Currency;
use remit_domain::ports::{AccountDirectory, Ledger, ResearchQueue};
use remit_domain::{FileId, Market, Outcome, Payment, ReasonCode, RefText};
use remit_store_sqlite::{SqliteStore, Table};
use rust_decimal::Decimal;

use crate::fixtures::{account, payment, CARD_A, CARD_B};

/// The control account (a valid number the fixtures do not use).
const CONTROL: &str = "378734493671000";
/// Another company's card, under no control account.
const OUTSIDER: &str = "346671276842680";

fn store() -> SqliteStore {
    let s = crate::fixtures::sqlite();
    let mut control = account(CONTROL, Market::CA, Currency::CAD);
    control.holder_name = "Acme Construction Ltd".into();
    s.put_account(&control).unwrap();
    for (n, holder) in [(CARD_A, "Jean Tremblay"), (CARD_B, "Marie-Ève Côté")] {
        let mut card = account(n, Market::CA, Currency::CAD);
        card.holder_name = holder.into();
        card.control_account = Some(crate::fixtures::card(CONTROL));
        s.put_account(&card).unwrap();
    }
    s.put_account(&account(OUTSIDER, Market::CA, Currency::CAD)).unwrap();
    s
}

/// A payment from Acme to `reference` with `remittance` lines and a linking reference.
fn acme(bank_ref: &str, cents: i64, reference: &str, remittance: &[&str]) -> Payment {
    let mut p = payment(bank_ref, cents, reference, FileId::of_bytes(b"control"), 1);
    p.payer_name = Some("ACME CONSTRUCTION LTD".into());
    p.references.remittance = remittance.iter().map(|t| RefText::new(*t)).collect();
    p.references.other.push(("customer_ref".into(), RefText::new(format!("ACME-{bank_ref}"))));
    p
}

fn run(s: &SqliteStore, p: &Payment) -> PaymentResult {
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
    process_payment(s, p, now, &IngestConfig::default()).unwrap()
}

fn balance(s: &SqliteStore, n: &str) -> Decimal {
    s.account(&crate::fixtures::card(n)).unwrap().unwrap().current_balance
}

fn posted(s: &SqliteStore, n: &str) -> Decimal {
    s.posted_total(&crate::fixtures::card(n)).unwrap()
}

#[test]
fn a_listed_split_posts_each_card_once_and_reverses_every_line_once() {
    let s = store();
    let p = acme("C1", 75000, CONTROL, &["3782 822463 10005 500.00; 3714-496353-98431 250.00"]);
    let r = run(&s, &p);
    assert_eq!(r.decision.outcome, Outcome::Applied, "{:?}", r.decision.reasons);
    assert_eq!(r.decision.account, Some(crate::fixtures::card(CONTROL)));
    assert_eq!(r.decision.splits.len(), 2);
    assert!(!r.decision.reasons.iter().any(|x| x.code == ReasonCode::Ambiguous), "not rivals");
    assert!(r.decision.reasons.iter().any(|x| x.code == ReasonCode::ControlSplit));
    assert_eq!(s.count(Table::Ledger).unwrap(), 1);
    assert_eq!(s.count(Table::LedgerLines).unwrap(), 2, "two ledger lines");
    assert_eq!(balance(&s, CARD_A), Decimal::new(50000, 2), "card A moved by 500.00");
    assert_eq!(balance(&s, CARD_B), Decimal::new(75000, 2), "card B moved by 250.00");
    assert_eq!(balance(&s, CONTROL), Decimal::new(100000, 2), "the control account does not move");
    assert_eq!(
        (posted(&s, CARD_A), posted(&s, CARD_B), posted(&s, CONTROL)),
        (Decimal::new(50000, 2), Decimal::new(25000, 2), Decimal::ZERO)
    );

    // The JSON line the CLI prints: the usual fields, plus `splits` with masked numbers.
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["decision"], "applied");
    assert_eq!(json["account"], "***********1000");
    assert_eq!(json["splits"][0]["account"], "***********0005");
    assert_eq!(json["splits"][0]["amount"], "500.00");
    assert_eq!(json["splits"][1]["currency"], "CAD");
    let text = json.to_string();
    assert!(!text.contains(CARD_A) && !text.contains(CARD_B) && !text.contains(CONTROL), "{text}");

    // A replay is a duplicate and posts nothing.
    let again = run(&s, &p);
    assert_eq!(again.decision.outcome, Outcome::Duplicate);
    assert!(serde_json::to_value(&again).unwrap().get("splits").is_none(), "no splits on a duplicate");
    assert_eq!(s.count(Table::LedgerLines).unwrap(), 2);
    assert_eq!(balance(&s, CARD_A), Decimal::new(50000, 2));

    // A reversal of the split reverses both lines, once.
    let mut reversal = acme("C1R", 75000, CONTROL, &[]);
    reversal.reversal = true;
    reversal.references.other = vec![("customer_ref".into(), RefText::new("ACME-C1"))];
    let rv = run(&s, &reversal);
    assert_eq!(rv.decision.outcome, Outcome::Reversed, "{:?}", rv.decision.reasons);
    assert_eq!(rv.decision.splits.len(), 2, "the reversal shows the lines it reversed");
    assert!(rv.decision.reasons[0].text.contains("every line"), "{:?}", rv.decision.reasons);
    for n in [CARD_A, CARD_B, CONTROL] {
        assert_eq!(balance(&s, n), Decimal::new(100000, 2), "restored once");
        assert_eq!(posted(&s, n), Decimal::ZERO);
    }
    assert_eq!(run(&s, &reversal).decision.outcome, Outcome::Duplicate, "the reversal replayed");
    let mut second = reversal.clone();
    second.bank_ref = "C1R-2".into();
    let r2 = run(&s, &second);
    assert_eq!(r2.decision.outcome, Outcome::Research, "a second reversal of the same posting");
    assert_eq!(balance(&s, CARD_A), Decimal::new(100000, 2), "still restored once");
}

#[test]
fn cards_of_one_control_listed_without_the_control_split_too() {
    let s = store();
    let p = acme("C2", 75000, "card 378282246310005 amount 500.00", &["card 371449635398431 amount 250.00"]);
    let r = run(&s, &p);
    assert_eq!(r.decision.outcome, Outcome::Applied, "{:?}", r.decision.reasons);
    assert_eq!(r.decision.splits.len(), 2);
    assert_eq!(balance(&s, CONTROL), Decimal::new(100000, 2));
    assert_eq!(posted(&s, CARD_A) + posted(&s, CARD_B), Decimal::new(75000, 2));
}

#[test]
fn a_list_that_does_not_add_up_goes_to_research_and_posts_nothing() {
    let s = store();
    let p = acme("C3", 75000, CONTROL, &["3782 822463 10005 500.00; 3714-496353-98431 200.00"]);
    let r = run(&s, &p);
    assert_eq!(r.decision.outcome, Outcome::Research);
    let blocker = r.decision.blocker().unwrap();
    assert_eq!(blocker.code, ReasonCode::ControlSplitInvalid);
    assert!(blocker.text.contains("add up to 700.00 CAD"), "{}", blocker.text);
    assert!(r.decision.splits.is_empty());
    assert_eq!(s.count(Table::Ledger).unwrap(), 0);
    let item = &s.open_items(Market::CA, 10).unwrap()[0];
    assert_eq!(item.reason_code, ReasonCode::ControlSplitInvalid);
    assert_eq!(item.candidate, Some(crate::fixtures::card(CONTROL)));

    // A listed card of another company: research too, never the control account.
    let p = acme("C4", 75000, CONTROL, &["3782 822463 10005 500.00; 3466 712768 42680 250.00"]);
    let r = run(&s, &p);
    assert_eq!(r.decision.outcome, Outcome::Research);
    assert_eq!(s.count(Table::Ledger).unwrap(), 0);
}

#[test]
fn a_payment_to_a_control_without_a_list_goes_to_the_control() {
    let s = store();
    let r = run(&s, &acme("C5", 75000, "3787 344936 71000", &["November corporate statement"]));
    assert_eq!(r.decision.outcome, Outcome::Applied, "{:?}", r.decision.reasons);
    assert_eq!(r.decision.account, Some(crate::fixtures::card(CONTROL)));
    assert!(r.decision.splits.is_empty());
    let why = r.decision.reasons.iter().find(|x| x.code == ReasonCode::ControlSplit).unwrap();
    assert!(why.text.contains("lists no cards with amounts"), "{}", why.text);
    assert_eq!(balance(&s, CONTROL), Decimal::new(25000, 2));
    assert_eq!(balance(&s, CARD_A), Decimal::new(100000, 2));
    assert!(serde_json::to_value(&r).unwrap().get("splits").is_none(), "JSON unchanged without splits");
}

#[test]
fn a_card_alone_is_matched_as_any_card_and_strangers_stay_rivals() {
    let s = store();
    let r = run(&s, &acme("C6", 12000, CARD_A, &[]));
    assert_eq!(r.decision.outcome, Outcome::Applied);
    assert_eq!(r.decision.account, Some(crate::fixtures::card(CARD_A)));
    assert!(!r.decision.reasons.iter().any(|x| x.code == ReasonCode::ControlSplit));
    // A card of the group named with a card outside it, no amounts: ambiguous as before.
    let r = run(&s, &acme("C7", 12000, CARD_A, &["also 346671276842680"]));
    assert_eq!(r.decision.outcome, Outcome::Research);
    assert!(r.decision.reasons.iter().any(|x| x.code == ReasonCode::Ambiguous), "{:?}", r.decision.reasons);
}
