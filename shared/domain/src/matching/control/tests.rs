use rust_decimal_macros::dec;

use super::*;
use crate::model::card::{test_card, test_key};
use crate::model::money::Currency;
use crate::model::payment::{Market, References};
use crate::text::masking::RefText;

const CONTROL: &str = "378734493671000";
const A: &str = "378282246310005";
const B: &str = "371449635398431";
const OTHER: &str = "346671276842680";

fn acct(n: &str, control: Option<&str>) -> Account {
    Account {
        statement_balance: dec!(1000),
        minimum_due: dec!(50),
        current_balance: dec!(1000),
        control_account: control.map(test_card),
        ..Account::new(&test_key(), &n.parse().unwrap(), Market::CA, Currency::CAD, "Acme Ltd")
    }
}

/// The test number whose card `c` is.
fn number_of(c: &CardRef) -> String {
    [CONTROL, A, B, OTHER].into_iter().find(|n| test_card(n) == *c).unwrap_or("?").to_string()
}

fn cards() -> Vec<Account> {
    vec![acct(A, Some(CONTROL)), acct(B, Some(CONTROL)), acct(OTHER, None)]
}

fn pay(cents: i64, remittance: &str) -> Payment {
    crate::model::payment::sample(
        Market::CA,
        Money::from_minor(cents, Currency::CAD),
        References {
            cross_reference: Some(RefText::new(CONTROL)),
            remittance: remittance.lines().map(RefText::new).collect(),
            ..References::default()
        },
    )
}

fn verdict(cents: i64, remittance: &str, accounts: &[Account]) -> Verdict {
    let p = pay(cents, remittance);
    judge(&p, &acct(CONTROL, None), &listed_cards(&p), accounts, &test_key())
}

fn lines(v: &Verdict) -> Vec<(String, Decimal)> {
    match v {
        Verdict::Split { lines, .. } => {
            lines.iter().map(|l| (number_of(&l.account), l.amount.amount())).collect()
        }
        other => panic!("expected a split, got {other:?}"),
    }
}

fn refused(v: &Verdict) -> String {
    match v {
        Verdict::Research(r) => {
            assert!(r.blocks(), "research reasons block");
            r.text.clone()
        }
        other => panic!("expected research, got {other:?}"),
    }
}

#[test]
fn reads_amounts_liberally_and_strictly() {
    for (raw, want) in [
        ("500", dec!(500)),
        ("500.00", dec!(500.00)),
        ("500,5", dec!(500.5)),
        ("1,250.00", dec!(1250.00)),
        ("1.250,00", dec!(1250.00)),
        ("1 250,00", dec!(1250.00)),
        ("1,250", dec!(1250)),
        ("12,500,000.10", dec!(12500000.10)),
        ("1,00,000.00", dec!(100000.00)),
    ] {
        assert_eq!(read_amount(raw), Ok(want), "{raw}");
    }
    for raw in ["1.250", "1,2,3", "1,250.000,00", "12,50,00", "1.2.3"] {
        assert!(read_amount(raw).is_err(), "{raw} must be refused");
    }
}

#[test]
fn a_list_on_one_line_splits() {
    let v = verdict(75000, "3782 822463 10005 500.00; 3714-496353-98431 250.00", &cards());
    assert_eq!(lines(&v), vec![(A.to_string(), dec!(500.00)), (B.to_string(), dec!(250.00))]);
    let Verdict::Split { reason, .. } = &v else { unreachable!() };
    assert_eq!(reason.code, ReasonCode::ControlSplit);
    assert!(!reason.blocks());
    assert!(reason.text.contains("***********0005 500.00 CAD"), "{}", reason.text);
    assert!(!reason.text.contains(A) && !reason.text.contains(CONTROL), "masked: {}", reason.text);
}

#[test]
fn lists_in_other_layouts_split_too() {
    for text in [
        "card 378282246310005 amount 500.00\ncard 371449635398431 amount 250.00",
        "Card: 3782-822463-10005, amount: CAD 500.00 | Card: 3714 496353 98431, amount: CAD 250",
        "378282246310005 = $500.00 / 371449635398431 = $250.00",
        "3782.822463.10005: 500,00 CAD\n3714.496353.98431: 250,00 CAD",
        "pour 378282246310005 montant 500,00 $; 371449635398431 montant 250,00 $",
        "378282246310005 500.00CAD 371449635398431 250.00CAD",
    ] {
        let v = verdict(75000, text, &cards());
        assert_eq!(lines(&v).len(), 2, "{text}: {v:?}");
    }
}

#[test]
fn the_control_may_take_a_line() {
    let v = verdict(75000, "378734493671000 100.00; 378282246310005 650.00", &cards());
    assert_eq!(lines(&v), vec![(CONTROL.to_string(), dec!(100.00)), (A.to_string(), dec!(650.00))]);
}

#[test]
fn no_list_applies_the_whole_payment_to_the_control() {
    for text in ["", "november statement", "for cards 378282246310005 and 371449635398431"] {
        match verdict(75000, text, &cards()) {
            Verdict::Whole(r) => {
                assert_eq!(r.code, ReasonCode::ControlSplit);
                assert!(!r.blocks());
                assert!(r.text.contains("applied to the control account"), "{}", r.text);
            }
            other => panic!("{text}: expected whole, got {other:?}"),
        }
    }
    match verdict(75000, "378734493671000 750.00", &cards()) {
        Verdict::Whole(r) => assert!(r.text.contains("control account alone"), "{}", r.text),
        other => panic!("expected whole, got {other:?}"),
    }
}

#[test]
fn a_list_that_does_not_check_out_goes_to_research() {
    let mut closed = acct(B, Some(CONTROL));
    closed.status = AccountStatus::Closed;
    let mut usd = acct(B, Some(CONTROL));
    usd.currency = Currency::USD;
    let mut other_control = acct(B, Some(OTHER));
    other_control.holder_name = "Other".into();
    let cases: Vec<(&str, Vec<Account>, &str)> = vec![
        ("378282246310005 500.00; 371449635398431 200.00", cards(), "add up to 700.00 CAD"),
        ("378282246310005 500.00; 371449635398431", cards(), "without an amount"),
        ("378282246310005 500.00; 346671276842680 250.00", cards(), "does not roll up"),
        ("378282246310005 500.00; 371449635398431 250.00", vec![acct(A, Some(CONTROL)), closed], "is closed"),
        ("378282246310005 500.00; 371449635398431 250.00", vec![acct(A, Some(CONTROL)), usd], "is in USD"),
        (
            "378282246310005 500.00; 371449635398431 250.00",
            vec![acct(A, Some(CONTROL)), other_control],
            "roll up",
        ),
        (
            "378282246310005 500.00; 371449635398431 250.00",
            vec![acct(A, Some(CONTROL))],
            "not in the directory",
        ),
        ("378282246310005 500.00; 371449635398431 USD 250.00", cards(), "in USD"),
        ("378282246310005 500.00; 378282246310005 250.00", cards(), "listed twice"),
        ("378282246310005 500.005; 371449635398431 250.00", cards(), "amount for card"),
        ("378282246310005 1.250; 371449635398431 250.00", cards(), "ambiguous"),
        ("378282246310005 750.00; 371449635398431 0.00", cards(), "not above zero"),
    ];
    for (text, accounts, why) in cases {
        let v = verdict(75000, text, &accounts);
        let r = refused(&v);
        assert!(r.contains(why), "{text}: {r}");
        assert!(!r.contains(A) && !r.contains(B), "masked: {r}");
    }
}

#[test]
fn too_many_lines_go_to_research() {
    let text: Vec<String> = (0..25).map(|_| "378282246310005 1.00".to_string()).collect();
    let r = refused(&verdict(2500, &text.join("; "), &cards()));
    assert!(r.contains("more than 24 lines"), "{r}");
}

#[test]
fn a_list_copied_into_two_fields_counts_once() {
    let mut p = pay(75000, "378282246310005 500.00; 371449635398431 250.00");
    p.references
        .other
        .push(("sundry".into(), RefText::new("378282246310005 500.00; 371449635398431 250.00")));
    let listed = listed_cards(&p);
    assert_eq!(listed.iter().filter(|l| l.amount.is_some()).count(), 2, "{listed:?}");
    assert_eq!(lines(&judge(&p, &acct(CONTROL, None), &listed, &cards(), &test_key())).len(), 2);
}

#[test]
fn dates_and_other_numbers_are_not_amounts() {
    let p = pay(75000, "378282246310005 2026-11-20; 371449635398431 INV2026");
    let listed = listed_cards(&p);
    assert!(listed.iter().all(|l| l.amount.is_none()), "{listed:?}");
    let p = pay(75000, "378282246310005 (Jean Tremblay) 500.00");
    assert!(listed_cards(&p).iter().all(|l| l.amount.is_none()), "a sentence is not glue");
}

#[test]
fn parsing_never_panics_on_odd_text() {
    for text in [
        "3",
        "37828224631000",
        "3782822463100051 5",
        "378282246310005 .",
        "378282246310005 1,",
        "é378282246310005 €5",
        "378282246310005 ₹1,00,000.00",
        "378282246310005 1 2",
    ] {
        let _ = listed_cards(&pay(100, text));
    }
    let long = "378282246310005 1.00 ".repeat(2000);
    assert!(listed_cards(&pay(100, &long)).len() <= MAX_LISTED);
}
