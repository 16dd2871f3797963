use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;

use super::*;
use crate::ingest::{research_item, IngestConfig};
use crate::matching::alias::teach_alias;
use crate::matching::index::AccountIndex;
use crate::model::card::{test_card, test_key};
use crate::model::money::{Currency, Money};
use crate::model::payment::{PayerAccount, References};
use crate::ports::AliasMemory;
use crate::text::masking::RefText;

const A: &str = "378282246310005";
const B: &str = "371449635398431";
const BLOCKED: &str = "378734493671000";
const VA_CARD: &str = "343194875749118";
const RF_CARD: &str = "346671276842680";

fn acct(n: &str, market: Market, cur: Currency, status: AccountStatus) -> Account {
    Account {
        status,
        statement_balance: Decimal::new(125000, 2),
        minimum_due: Decimal::new(5000, 2),
        current_balance: Decimal::new(125000, 2),
        ..Account::new(&test_key(), &n.parse().unwrap(), market, cur, "Jean Tremblay")
    }
}

fn card(n: &str) -> CardRef {
    test_card(n)
}

fn dir() -> AccountIndex {
    let mut d = AccountIndex::new(test_key());
    let mut b = acct(B, Market::CA, Currency::CAD, AccountStatus::Active);
    b.holder_name = "Marie-Ève Côté".into();
    for a in [
        acct(A, Market::CA, Currency::CAD, AccountStatus::Active),
        b,
        acct(BLOCKED, Market::CA, Currency::CAD, AccountStatus::Blocked),
    ] {
        d.insert(&a).unwrap();
    }
    let mut va = acct(VA_CARD, Market::IN, Currency::INR, AccountStatus::Active);
    va.virtual_account = Some("AMEX0100012345".into());
    va.holder_name = "Ramesh Kumar".into();
    d.insert(&va).unwrap();
    let mut rf = acct(RF_CARD, Market::EU, Currency::EUR, AccountStatus::Active);
    rf.creditor_reference = Some("RF06AMX4412001".parse().unwrap());
    d.insert(&rf).unwrap();
    d
}

fn pay(market: Market, cur: Currency, refs: References) -> Payment {
    crate::model::payment::sample(market, Money::from_minor(1000, cur), refs)
}

fn cross(text: &str) -> References {
    References { cross_reference: Some(RefText::new(text)), ..References::default() }
}

fn free(text: &str) -> References {
    References { remittance: vec![RefText::new(text)], ..References::default() }
}

fn named(refs: References, name: &str) -> Payment {
    let mut p = pay(Market::CA, Currency::CAD, refs);
    p.payer_name = Some(name.into());
    p
}

fn run(p: &Payment, d: &AccountIndex) -> Decision {
    decide(p, d, &MatchPolicy::default()).unwrap()
}

fn decide_ca(text: &str) -> Decision {
    run(&pay(Market::CA, Currency::CAD, cross(text)), &dir())
}

fn has(d: &Decision, code: ReasonCode) -> bool {
    d.reasons.iter().any(|r| r.code == code)
}

/// `n` with digit `i` replaced by the next digit (a Luhn-invalid typo).
fn typo(n: &str, i: usize) -> String {
    let mut b = n.as_bytes().to_vec();
    b[i] = b'0' + (b[i] - b'0' + 1) % 10;
    String::from_utf8(b).unwrap()
}

fn swap(n: &str, i: usize) -> String {
    let mut b = n.as_bytes().to_vec();
    b.swap(i, i + 1);
    String::from_utf8(b).unwrap()
}

#[test]
fn applies_a_formatted_number_in_the_cross_reference() {
    let d = decide_ca("3782 822463 10005");
    assert_eq!(d.outcome, Outcome::Applied);
    assert!(d.confidence >= 0.95, "{}", d.confidence);
    assert!(d.reasons[0].text.contains("***********0005"), "{:?}", d.reasons);
    assert!(d.reasons[0].text.contains("[+2.0]"), "the weight is stated: {:?}", d.reasons);
}

#[test]
fn free_text_numbers_apply_too() {
    let d = run(&pay(Market::CA, Currency::CAD, free("card no. 3782-822463-10005 nov")), &dir());
    assert_eq!(d.outcome, Outcome::Applied);
}

#[test]
fn formatted_4_6_5_in_free_text_with_words_around() {
    for text in [
        "Payment for Amex card 3782 822463 10005 - thank you",
        "AMEX:3782.822463.10005/NOV",
        "acct 3782 - 822463 - 10005",
        "INV 2026-11 card 378282246310005",
    ] {
        let d = run(&pay(Market::CA, Currency::CAD, free(text)), &dir());
        assert_eq!(d.outcome, Outcome::Applied, "{text}: {:?}", d.reasons);
        assert_eq!(d.account.unwrap(), card(A));
    }
}

#[test]
fn two_accounts_are_ambiguous() {
    let d = decide_ca("378282246310005 / 371449635398431");
    assert_eq!(d.outcome, Outcome::Research);
    assert!(has(&d, ReasonCode::Ambiguous));
    assert!(d.account.is_none());
    let d = decide_ca("378282246310005 371449635398431");
    assert!(has(&d, ReasonCode::Ambiguous), "two whole groups in one run: {:?}", d.reasons);
}

/// One number in the structured field and another in free text, the payer's name and the amount
/// agreeing with the first: still two accounts named, so a person decides (it may be a split).
#[test]
fn a_second_account_named_in_free_text_makes_it_ambiguous_whatever_agrees() {
    let mut refs = cross("378282246310005");
    refs.other.push(("sundry".into(), RefText::new("also 371449635398431")));
    let d = run(&named(refs, "Jean Tremblay"), &dir());
    assert_eq!(d.outcome, Outcome::Research, "{:?}", d.reasons);
    assert!(has(&d, ReasonCode::Ambiguous), "{:?}", d.reasons);
}

/// An RF reference printed in groups of four and copied so into free text still finds its account.
#[test]
fn rf_reference_in_groups_of_four_in_free_text() {
    let d = run(&pay(Market::EU, Currency::EUR, free("Ref RF06 AMX4 4120 01 nov")), &dir());
    assert_eq!(d.outcome, Outcome::Applied, "{:?}", d.reasons);
    assert_eq!(d.account.unwrap(), card(RF_CARD));
}

/// "RF66 AMX0 0401 0295" also reads as the valid RF66AMX00401 (check digits match by chance,
/// one time in 97): the reading on an account wins, the other is no "unknown reference".
#[test]
fn a_chance_valid_shorter_reading_of_a_grouped_rf_does_not_block() {
    let mut d = dir();
    let mut a = acct("340000123456781", Market::EU, Currency::EUR, AccountStatus::Active);
    a.creditor_reference = Some("RF66AMX004010295".parse().unwrap());
    d.insert(&a).unwrap();
    assert!("RF66AMX00401".parse::<crate::model::identifiers::CreditorReference>().is_ok());
    let p = pay(Market::EU, Currency::EUR, free("Ref RF66 AMX0 0401 0295"));
    let decision = run(&p, &d);
    assert_eq!(decision.outcome, Outcome::Applied, "{:?}", decision.reasons);
}

/// A company pays for the holder (camt `Dbtr` the company, `UltmtDbtr` the holder): the number
/// in free text and the ultimate debtor's name agree, so it applies.
#[test]
fn the_ultimate_debtors_name_counts_when_a_company_pays() {
    let mut refs = free("Carta 3782-822463-10005 saldo ottobre");
    refs.other.push(("ultimate_debtor".into(), RefText::new("Jean Tremblay")));
    let d = run(&named(refs.clone(), "Rossi Costruzioni S.r.l."), &dir());
    assert_eq!(d.outcome, Outcome::Applied, "{:?}", d.reasons);
    assert!(d.reasons.iter().any(|r| r.text.contains("ultimate debtor's name agrees")), "{:?}", d.reasons);
    refs.other.clear();
    let d = run(&named(refs, "Rossi Costruzioni S.r.l."), &dir());
    assert_eq!(d.outcome, Outcome::Research, "without it the names differ: {:?}", d.reasons);
}

#[test]
fn blocked_unknown_and_missing_go_to_research() {
    assert_eq!(decide_ca("378734493671000").blocker().unwrap().code, ReasonCode::AccountBlocked);
    assert_eq!(decide_ca("340000000000009").blocker().unwrap().code, ReasonCode::UnknownAccount);
    assert_eq!(decide_ca("INV 2026-11").blocker().unwrap().code, ReasonCode::NoReference);
    let d = decide_ca("378282246310006");
    assert_eq!(d.outcome, Outcome::Research, "a typo alone is not enough");
    assert_eq!(d.blocker().unwrap().code, ReasonCode::LowConfidence);
    assert_eq!(d.account.unwrap(), card(A), "but it is the candidate");
}

#[test]
fn currency_and_direction_block() {
    let p = pay(Market::CA, Currency::USD, cross(A));
    assert_eq!(run(&p, &dir()).blocker().unwrap().code, ReasonCode::CurrencyMismatch);
    let mut p = pay(Market::CA, Currency::CAD, cross(A));
    p.direction = Direction::Debit;
    assert_eq!(run(&p, &dir()).blocker().unwrap().code, ReasonCode::Debit);
    let mut p = pay(Market::CA, Currency::CAD, cross(A));
    p.warnings.push("batch total disagrees".into());
    assert_eq!(run(&p, &dir()).outcome, Outcome::Research);
}

#[test]
fn virtual_account_and_rf_reference() {
    let refs = References { virtual_account: Some(RefText::new("AMEX0100012345")), ..References::default() };
    assert_eq!(run(&pay(Market::IN, Currency::INR, refs), &dir()).outcome, Outcome::Applied);
    let refs =
        References { creditor_reference: Some(RefText::new("RF06 AMX4 4120 01")), ..References::default() };
    let d = run(&pay(Market::EU, Currency::EUR, refs), &dir());
    assert_eq!(d.outcome, Outcome::Applied, "{:?}", d.reasons);
    let d = run(&pay(Market::EU, Currency::EUR, free("Payment RF06AMX4412001 thanks")), &dir());
    assert_eq!(d.outcome, Outcome::Applied);
}

#[test]
fn not_booked_is_rejected() {
    let mut refs = cross(A);
    refs.other.push(("status".into(), RefText::new("PDNG")));
    assert_eq!(run(&pay(Market::CA, Currency::CAD, refs), &dir()).outcome, Outcome::Rejected);
}

#[test]
fn a_market_threshold_above_the_evidence_sends_to_research() {
    let policy = MatchPolicy {
        thresholds: PerMarket { ca: 0.995, ..MatchPolicy::default().thresholds },
        ..MatchPolicy::default()
    };
    let d = decide(&pay(Market::CA, Currency::CAD, cross(A)), &dir(), &policy).unwrap();
    assert_eq!(d.blocker().unwrap().code, ReasonCode::LowConfidence);
}

#[test]
fn one_wrong_digit_with_an_agreeing_name_applies() {
    for i in [2, 7, 14] {
        let d = run(&named(cross(&typo(A, i)), "TREMBLAY JEAN"), &dir());
        assert_eq!(d.outcome, Outcome::Applied, "position {i}: {:?}", d.reasons);
        assert_eq!(d.account.unwrap(), card(A));
        assert!(d.reasons.iter().any(|r| r.text.contains("one edit away")));
    }
    // The name disagrees: the typo stays a candidate for research.
    let d = run(&named(cross(&typo(A, 7)), "ACME HOLDINGS"), &dir());
    assert_eq!(d.outcome, Outcome::Research);
    assert_eq!(d.account.unwrap(), card(A));
}

#[test]
fn two_adjacent_digits_swapped_with_an_agreeing_name_applies() {
    let t = swap(A, 3); // 3782... -> 3788...
    assert_ne!(t, A);
    assert!(t.parse::<AccountNumber>().is_err(), "the swap breaks the check digit");
    let d = run(&named(free(&format!("card {t}")), "Jean Tremblay"), &dir());
    assert_eq!(d.outcome, Outcome::Applied, "{:?}", d.reasons);
}

#[test]
fn a_typo_one_edit_from_two_active_accounts_is_ambiguous() {
    // Twin accounts: both one edit away from the same mistyped number.
    let t = typo(A, 9);
    let twin = one_edit_neighbours(&digits15(&t)).into_iter().find(|n| n.expose() != A).unwrap();
    let mut d = dir();
    d.insert(&acct(twin.expose(), Market::CA, Currency::CAD, AccountStatus::Active)).unwrap();
    let dec = run(&named(cross(&t), "Jean Tremblay"), &d);
    assert_eq!(dec.outcome, Outcome::Research);
    assert!(has(&dec, ReasonCode::Ambiguous), "{:?}", dec.reasons);
    // Issue 16: neither twin is evidence, both are offered to the analyst, with the reason.
    let listed: Vec<CardRef> = dec.candidates.iter().map(|c| c.account).collect();
    assert_eq!(listed.len(), 2, "{:?}", dec.candidates);
    assert!(listed.contains(&card(A)) && listed.contains(&test_card(twin.expose())), "{listed:?}");
    assert!(dec
        .candidates
        .iter()
        .all(|c| c.not_applied.code == ReasonCode::Ambiguous && c.confidence == 0.0));
    // A closed twin does not count: only active accounts compete.
    let mut d = dir();
    d.insert(&acct(twin.expose(), Market::CA, Currency::CAD, AccountStatus::Closed)).unwrap();
    assert_eq!(run(&named(cross(&t), "Jean Tremblay"), &d).outcome, Outcome::Applied);
}

fn digits15(s: &str) -> [u8; 15] {
    let mut d = [0u8; 15];
    for (i, b) in s.bytes().enumerate() {
        d[i] = b - b'0';
    }
    d
}

#[test]
fn last_five_digits_with_an_agreeing_name() {
    for text in ["card ending 10005", "XXXX-XXXXXX-10005", "Amex ***********10005", "last 5 digits 10005"] {
        let d = run(&named(free(text), "Mr Jean TREMBLAY"), &dir());
        assert_eq!(d.outcome, Outcome::Applied, "{text}: {:?}", d.reasons);
        assert_eq!(d.account.unwrap(), card(A));
    }
    let d = run(&named(free("card ending 10005"), "Paul Lefebvre"), &dir());
    assert_eq!(d.outcome, Outcome::Research, "the name must agree");
    assert!(d.account.is_none());
    let d = run(&named(free("invoice 10005"), "Jean Tremblay"), &dir());
    assert_eq!(d.outcome, Outcome::Research, "{:?}", d.reasons);
    assert!(
        !d.reasons.iter().any(|r| r.text.contains("last five digits")),
        "a bare five-digit number is not a card's last digits: {:?}",
        d.reasons
    );
}

#[test]
fn accents_and_word_order_agree() {
    let d = run(&named(cross(&typo(B, 4)), "COTE MARIE-EVE"), &dir());
    assert_eq!(d.outcome, Outcome::Applied, "{:?}", d.reasons);
    assert!(d.reasons.iter().any(|r| r.code == ReasonCode::NameEvidence && r.text.contains("agrees")));
}

#[test]
fn honorifics_do_not_disturb_names() {
    for name in ["Mr. Jean Tremblay", "M. TREMBLAY Jean", "Dr Jean Tremblay", "Herr Jean Tremblay"] {
        let d = run(&named(cross(&typo(A, 3)), name), &dir());
        assert_eq!(d.outcome, Outcome::Applied, "{name}: {:?}", d.reasons);
    }
}

#[test]
fn amount_equal_to_the_minimum_due_raises_confidence() {
    let mut p = named(cross(&typo(A, 6)), "ACME LTD");
    let without = run(&p, &dir());
    p.amount = Money::from_minor(5000, Currency::CAD);
    let with = run(&p, &dir());
    assert!(with.confidence > without.confidence, "{} vs {}", with.confidence, without.confidence);
    assert!(with
        .reasons
        .iter()
        .any(|r| r.code == ReasonCode::AmountEvidence && r.text.contains("minimum due")));
    p.amount = Money::from_minor(125000, Currency::CAD);
    let balance = run(&p, &dir());
    assert!(balance.reasons.iter().any(|r| r.text.contains("statement balance")));
}

#[test]
fn the_market_ceiling_blocks() {
    let mut p = pay(Market::CA, Currency::CAD, cross(A));
    p.amount = Money::from_minor(5_000_001, Currency::CAD);
    let d = run(&p, &dir());
    assert_eq!(d.outcome, Outcome::Research);
    assert_eq!(d.blocker().unwrap().code, ReasonCode::AmountAboveCeiling);
    let policy = MatchPolicy {
        amount_ceilings: PerMarket { ca: Decimal::new(100_000, 0), ..MatchPolicy::default().amount_ceilings },
        ..MatchPolicy::default()
    };
    assert_eq!(decide(&p, &dir(), &policy).unwrap().outcome, Outcome::Applied);
}

#[test]
fn duplicate_suspicion_blocks() {
    let d = dir();
    let mut first = named(cross(A), "Jean Tremblay");
    first.bank_ref = "TRACE-1".into();
    d.remember_payment(&first);
    let mut again = first.clone();
    again.bank_ref = "TRACE-2".into();
    again.value_date = first.value_date + chrono::Duration::days(2);
    d.remember_payment(&again);
    let dec = run(&again, &d);
    assert_eq!(dec.outcome, Outcome::Research);
    assert_eq!(dec.blocker().unwrap().code, ReasonCode::DuplicateSuspected);
    assert!(dec.blocker().unwrap().text.contains("TRACE-1"), "{:?}", dec.reasons);
    // Outside the window, or another amount: no suspicion.
    let mut later = again.clone();
    later.bank_ref = "TRACE-3".into();
    later.value_date = first.value_date + chrono::Duration::days(9);
    assert_eq!(run(&later, &d).outcome, Outcome::Applied);
    let mut other = again.clone();
    other.bank_ref = "TRACE-4".into();
    other.amount = Money::from_minor(1001, Currency::CAD);
    assert_eq!(run(&other, &d).outcome, Outcome::Applied);
}

#[test]
fn teaching_an_alias_makes_the_next_payment_from_that_payer_match() {
    let d = dir();
    let mut p = named(cross(&typo(A, 8)), "ACME PAYROLL SERVICES");
    p.payer_account = Some(PayerAccount::Canadian {
        institution: "001".into(),
        transit: "12345".into(),
        account: "7654321".into(),
    });
    let first = run(&p, &d);
    assert_eq!(first.outcome, Outcome::Research, "typo and a name that disagrees");
    let at = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap();
    let config = IngestConfig::default();
    let item = research_item(&p, &p.key(), &first, at, &config);
    let sla = config.sla.deadlines(Market::CA, item.reason_code, at);
    assert_eq!((item.warn_at, item.due_at), (sla.warn_at, sla.due_at), "the reason's SLA on the CA calendar");
    assert!(at < item.warn_at && item.warn_at < item.due_at);
    let learned = teach_alias(&d, &item, &card(A), "analyst-7", at).unwrap();
    assert_eq!(learned.len(), 2, "account and name");
    assert_eq!(d.aliases_for(&learned[0].identity).unwrap().len(), 1);

    let mut next = p.clone();
    next.bank_ref = "NEXT".into();
    next.amount = Money::from_minor(2000, Currency::CAD);
    let d2 = run(&next, &d);
    assert_eq!(d2.outcome, Outcome::Applied, "{:?}", d2.reasons);
    assert!(
        d2.reasons.iter().any(|r| r.text.starts_with("learned from resolution RQ-CA-")),
        "{:?}",
        d2.reasons
    );
}

#[test]
fn reasons_never_show_a_card_number() {
    let t = typo(A, 7);
    let mut p = named(free(&format!("{t} and {B} and {A}")), "Jean Tremblay");
    p.payer_account = Some(PayerAccount::Other(A.into()));
    let d = run(&p, &dir());
    let all = serde_json::to_string(&d).unwrap();
    for secret in [A, B, t.as_str(), "3782822463", "3714496353"] {
        assert!(!all.contains(secret), "{secret} in {all}");
    }
}

proptest::proptest! {
    /// Two accounts supported by the same evidence are never applied, whatever the evidence.
    #[test]
    fn equal_support_is_never_applied(
        kind in 0..4u8,
        name in proptest::sample::select(vec!["Jean Tremblay", "TREMBLAY JEAN", "Mr J Tremblay", "ACME"]),
        amount in proptest::sample::select(vec![1000i64, 5000, 125000]),
        structured in proptest::bool::ANY,
    ) {
        let mut d = AccountIndex::new(test_key());
        let mut a = acct(A, Market::CA, Currency::CAD, AccountStatus::Active);
        let mut b = acct(B, Market::CA, Currency::CAD, AccountStatus::Active);
        if kind == 1 {
            a.virtual_account = Some("VA1".into());
            b.virtual_account = Some("VA1".into());
        }
        let t = typo(A, 9);
        if kind == 3 {
            let twin = one_edit_neighbours(&digits15(&t)).into_iter().find(|n| n.expose() != A).unwrap();
            b = acct(twin.expose(), Market::CA, Currency::CAD, AccountStatus::Active);
        }
        d.insert(&a).unwrap();
        d.insert(&b).unwrap();
        let text = match kind {
            0 | 2 => format!("{A} {B}"),
            3 => t.clone(),
            _ => String::new(),
        };
        let refs = if structured { cross(&text) } else { free(&text) };
        let mut p = named(refs, name);
        p.amount = Money::from_minor(amount, Currency::CAD);
        if kind == 1 {
            p.references.virtual_account = Some(RefText::new("VA1"));
        }
        if kind == 2 {
            for n in [a.card, b.card] {
                d.learn_alias(&crate::ports::Alias {
                    identity: crate::matching::payer::identities(&p)[0].key(),
                    account: n,
                    learned_at: Utc::now(),
                    learned_by: "x".into(),
                    resolution: "r".into(),
                }).unwrap();
            }
        }
        let dec = run(&p, &d);
        proptest::prop_assert_ne!(dec.outcome, Outcome::Applied, "{:?}", dec.reasons);
        proptest::prop_assert!(dec.confidence <= 0.5 || dec.account.is_none());
    }
}

fn learn(d: &AccountIndex, identity: &str, account: &str, resolution: &str) {
    d.learn_alias(&crate::ports::Alias {
        identity: identity.into(),
        account: card(account),
        learned_at: Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap(),
        learned_by: "analyst-7".into(),
        resolution: resolution.into(),
    })
    .unwrap();
}

fn corporate(refs: References) -> Payment {
    let mut p = named(refs, "GAGNON HOLDINGS INC");
    p.payer_account = Some(PayerAccount::Canadian {
        institution: "003".into(),
        transit: "00011".into(),
        account: "4455667".into(),
    });
    p
}

#[test]
fn a_learned_payer_never_opposes_the_payments_own_reference() {
    // One resolution taught: this corporate pays A. Its next payment names B outright.
    let d = dir();
    let p = corporate(cross(B));
    let before = run(&p, &d);
    for id in crate::matching::payer::identities(&p) {
        learn(&d, &id.key(), A, "RQ-CA-1");
    }
    let after = run(&p, &d);
    assert_eq!(after.outcome, before.outcome, "{:?}", after.reasons);
    assert_eq!(after.outcome, Outcome::Applied, "{:?}", after.reasons);
    assert_eq!(after.account, Some(card(B)));
    assert!(
        after.reasons.iter().any(|r| r.text.contains("never opposes a reference")),
        "{:?}",
        after.reasons
    );
    // With no reference of its own, the single account it paid is evidence enough.
    let alone = run(&corporate(References::default()), &d);
    assert_eq!(alone.outcome, Outcome::Applied, "{:?}", alone.reasons);
    assert_eq!(alone.account, Some(card(A)));
}

#[test]
fn a_shared_payer_corroborates_and_never_applies_alone() {
    let d = dir();
    let p = corporate(cross(B));
    for id in crate::matching::payer::identities(&p) {
        learn(&d, &id.key(), A, "RQ-CA-1");
        learn(&d, &id.key(), B, "RQ-CA-2");
    }
    let with_ref = run(&p, &d);
    assert_eq!(with_ref.outcome, Outcome::Applied, "{:?}", with_ref.reasons);
    assert_eq!(with_ref.account, Some(card(B)));
    assert!(
        with_ref.reasons.iter().any(|r| r.text.contains("shared payer corroborating")),
        "{:?}",
        with_ref.reasons
    );
    let alone = run(&corporate(References::default()), &d);
    assert_eq!(alone.outcome, Outcome::Research, "{:?}", alone.reasons);
    assert!(alone.reasons.iter().any(|r| r.text.contains("a shared payer")), "{:?}", alone.reasons);
    // A typo of A from the shared payer: corroborated, not opposed, and not enough alone.
    let typo_a = run(&corporate(cross(&typo(A, 8))), &d);
    assert_ne!(typo_a.account, Some(card(B)), "{:?}", typo_a.reasons);
}

#[test]
fn name_and_exact_balance_apply_only_for_a_unique_active_holder() {
    let d = dir();
    // A's holder is Jean Tremblay (statement balance 1,250.00, minimum 50.00); the blocked
    // namesake does not count against an active holder.
    let mut p = named(References::default(), "TREMBLAY JEAN");
    p.amount = Money::from_minor(125_000, Currency::CAD);
    let d1 = run(&p, &d);
    assert_eq!(d1.outcome, Outcome::Applied, "{:?}", d1.reasons);
    assert_eq!(d1.account, Some(card(A)));
    p.amount = Money::from_minor(5_000, Currency::CAD);
    assert_eq!(run(&p, &d).outcome, Outcome::Applied, "the minimum due");
    p.amount = Money::from_minor(4_999, Currency::CAD);
    let other = run(&p, &d);
    assert_eq!(other.outcome, Outcome::Research);
    assert!(has(&other, ReasonCode::InsufficientEvidence), "{:?}", other.reasons);
    // A second active Jean Tremblay: a name that is not unique identifies nobody.
    let mut d2 = dir();
    let mut twin = acct("343434343434343", Market::CA, Currency::CAD, AccountStatus::Active);
    twin.statement_balance = Decimal::new(99_900, 2);
    twin.current_balance = twin.statement_balance;
    twin.minimum_due = Decimal::new(1_000, 2);
    d2.insert(&twin).unwrap();
    p.amount = Money::from_minor(125_000, Currency::CAD);
    let shared = run(&p, &d2);
    assert_eq!(shared.outcome, Outcome::Research, "{:?}", shared.reasons);
    assert!(has(&shared, ReasonCode::Ambiguous), "{:?}", shared.reasons);
    // Another market's namesake is not a candidate.
    let mut eu = pay(Market::EU, Currency::EUR, References::default());
    eu.payer_name = Some("Jean Tremblay".into());
    eu.amount = Money::from_minor(125_000, Currency::EUR);
    assert_ne!(run(&eu, &d).account, Some(card(A)));
}

/// Issue 16: research carries every account considered, best first, each with its own evidence
/// and why it was not applied; an applied payment carries none.
#[test]
fn research_lists_every_candidate_with_its_evidence_and_why_not() {
    let d = decide_ca("378282246310005 / 371449635398431");
    assert_eq!(d.candidates.len(), 2, "{:?}", d.candidates);
    let cards: Vec<CardRef> = d.candidates.iter().map(|c| c.account).collect();
    assert!(cards.contains(&card(A)) && cards.contains(&card(B)), "{cards:?}");
    for c in &d.candidates {
        assert_eq!(c.not_applied.code, ReasonCode::Ambiguous, "{c:?}");
        assert!(!c.evidence.is_empty(), "each its own evidence: {c:?}");
        assert!(c.evidence.iter().all(|r| r.text.contains(c.account.last4())), "{c:?}");
        assert!((0.0..=1.0).contains(&c.confidence));
    }
    // A blocked account named alone: one candidate, not applied because it is blocked.
    let d = decide_ca("378734493671000");
    assert_eq!(d.candidates.len(), 1);
    assert_eq!(d.candidates[0].not_applied.code, ReasonCode::AccountBlocked);
    assert!(decide_ca("3782 822463 10005").candidates.is_empty(), "applied: no candidates");
}

/// Issue 16: the last five digits with somebody else's name are no evidence, but the cards that
/// end so are listed for the analyst, after nothing else, with why they were not applied.
#[test]
fn cards_ending_in_the_last_five_written_are_listed_when_the_name_disagrees() {
    let p = named(cross("CARD ENDING 10005"), "Somebody Else");
    let dec = run(&p, &dir());
    assert_eq!(dec.outcome, Outcome::Research);
    assert_eq!(dec.candidates.len(), 1, "{:?}", dec.candidates);
    assert_eq!(dec.candidates[0].account, card(A));
    assert_eq!(dec.candidates[0].not_applied.code, ReasonCode::InsufficientEvidence);
    assert!(dec.candidates[0].evidence.is_empty());
}
