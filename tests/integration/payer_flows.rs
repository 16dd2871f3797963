//! Payer identity through the pipeline, on every store (called from the conformance suite):
//! one analyst resolution must not poison a corporate payer's next file, our own name and
//! account are never learned, and a reversed resolution unlearns what it taught.

use chrono::{Duration, TimeZone, Utc};
use remit_domain::ingest::{process_payment, IngestConfig};
use remit_domain::matching::payer::PayerIdentity;
use remit_domain::model::money::Currency;
use remit_domain::ports::Store;
use remit_domain::research::queue::{self, QueuePolicy};
use remit_domain::{FileId, Market, Outcome, PayerAccount, Payment};

use crate::fixtures::{account, payment};

/// Ten Luhn-valid card numbers of the CA directory, each with its own holder.
const CARDS: [&str; 10] = [
    "378282246310005",
    "371449635398431",
    "378734493671000",
    "343194875749118",
    "346671276842680",
    "340000000000009",
    "370000000000002",
    "341111111111111",
    "343434343434343",
    "371111111111114",
];

pub fn run_all<S: Store>(new_store: &impl Fn() -> S) {
    a_corporates_next_file_applies_as_the_first_did_after_one_resolution(&new_store());
    our_own_name_and_account_are_never_learned(&new_store());
    a_reversed_resolution_unlearns_what_it_taught(&new_store());
}

fn directory<S: Store>(s: &S) {
    for (i, n) in CARDS.iter().enumerate() {
        let mut a = account(n, Market::CA, Currency::CAD);
        a.holder_name = format!("Employee{} Number{}", (b'A' + i as u8) as char, i);
        s.put_account(&a).unwrap();
    }
}

/// A credit from Gagnon Holdings' account, as the CPA-005 reader reads a credit's originator.
fn from_corporate(bank_ref: &str, cents: i64, reference: &str, file: &[u8], record: u64) -> Payment {
    let mut p = payment(bank_ref, cents, reference, FileId::of_bytes(file), record);
    p.payer_name = Some("GAGNON HOLDINGS INC".into());
    p.payer_account = Some(PayerAccount::Canadian {
        institution: "815".into(),
        transit: "30001".into(),
        account: "4455667".into(),
    });
    p
}

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
}

fn a_corporates_next_file_applies_as_the_first_did_after_one_resolution<S: Store>(s: &S) {
    directory(s);
    let config = IngestConfig::default();
    // File 1: the corporate pays every card, the same allowance to each, plus one payment
    // without any reference.
    let mut applied_first = 0;
    for (i, card) in CARDS.iter().enumerate() {
        let p = from_corporate(&format!("F1-{i}"), 50_000, card, b"file-1", i as u64 + 1);
        let r = process_payment(s, &p, at(), &config).unwrap();
        if r.decision.outcome == Outcome::Applied {
            applied_first += 1;
        }
    }
    assert_eq!(applied_first, CARDS.len(), "clean references from one payer, one amount: all applied");
    let lost = from_corporate("F1-X", 12_345, "", b"file-1", 99);
    assert_eq!(process_payment(s, &lost, at(), &config).unwrap().decision.outcome, Outcome::Research);
    let item = s.open_items(Market::CA, 10).unwrap().into_iter().find(|i| i.bank_ref == "F1-X").unwrap();
    // One analyst resolution: the corporate's payment was for the first card.
    let card = crate::fixtures::card(CARDS[0]);
    resolve_as_analyst(s, &item.id, &card);
    // File 2, a month later: the same corporate, clean references again.
    let later = at() + Duration::days(30);
    let mut applied_next = 0;
    for (i, card) in CARDS.iter().enumerate() {
        let mut p = from_corporate(&format!("F2-{i}"), 50_000, card, b"file-2", i as u64 + 1);
        p.value_date += Duration::days(30);
        let r = process_payment(s, &p, later, &config).unwrap();
        if r.decision.outcome == Outcome::Applied {
            assert_eq!(r.decision.account, Some(crate::fixtures::card(card)), "{:?}", r.decision.reasons);
            applied_next += 1;
        }
    }
    assert_eq!(applied_next, applied_first, "one resolution did not poison the payer");
}

fn our_own_name_and_account_are_never_learned<S: Store>(s: &S) {
    directory(s);
    let config = IngestConfig::default();
    // A credit whose payer fields hold the payee's (ours), as a misread CPA-005 credit would.
    let mut p = payment("OWN-1", 7_700, "", FileId::of_bytes(b"own"), 1);
    p.payer_name = Some("AMERICAN EXPRESS CANADA".into());
    p.payer_account = Some(PayerAccount::Canadian {
        institution: "003".into(),
        transit: "00011".into(),
        account: "1000017".into(),
    });
    let ours: Vec<String> =
        remit_domain::matching::payer::identities(&p).iter().map(PayerIdentity::key).collect();
    assert_eq!(ours.len(), 2);
    let r = process_payment(s, &p, at(), &config).unwrap();
    assert_eq!(r.decision.outcome, Outcome::Research);
    assert!(r.decision.reasons.iter().any(|x| x.text.contains("our own name")), "{:?}", r.decision.reasons);
    let item = s.open_items(Market::CA, 10).unwrap().into_iter().find(|i| i.bank_ref == "OWN-1").unwrap();
    assert!(item.payer_identities.is_empty(), "{:?}", item.payer_identities);
    let card = crate::fixtures::card(CARDS[1]);
    resolve_as_analyst(s, &item.id, &card);
    for key in &ours {
        assert!(s.aliases_for(key).unwrap().is_empty(), "{key} learned");
    }
    // And two cards paid the same amount on the same day "by us" are not duplicates.
    let mut q = p.clone();
    q.bank_ref = "OWN-2".into();
    q.references.cross_reference = Some(CARDS[2].into());
    let mut r2 = q.clone();
    r2.bank_ref = "OWN-3".into();
    r2.references.cross_reference = Some(CARDS[3].into());
    assert_eq!(process_payment(s, &q, at(), &config).unwrap().decision.outcome, Outcome::Applied);
    let r = process_payment(s, &r2, at(), &config).unwrap();
    assert_eq!(r.decision.outcome, Outcome::Applied, "{:?}", r.decision.reasons);
}

fn a_reversed_resolution_unlearns_what_it_taught<S: Store>(s: &S) {
    directory(s);
    let config = IngestConfig::default();
    let mut p = from_corporate("U1", 4_200, "", b"u", 1);
    p.references.end_to_end_id = Some("E2E-U1".into());
    process_payment(s, &p, at(), &config).unwrap();
    let item = s.open_items(Market::CA, 10).unwrap().into_iter().find(|i| i.bank_ref == "U1").unwrap();
    let card = crate::fixtures::card(CARDS[4]);
    resolve_as_analyst(s, &item.id, &card);
    let ids: Vec<String> =
        remit_domain::matching::payer::identities(&p).iter().map(PayerIdentity::key).collect();
    assert!(ids.iter().all(|k| s.aliases_for(k).unwrap().len() == 1), "taught");
    let mut reversal = from_corporate("U1-R", 4_200, "", b"u-r", 1);
    reversal.references.end_to_end_id = Some("E2E-U1".into());
    reversal.reversal = true;
    reversal.direction = remit_domain::Direction::Debit;
    let r = process_payment(s, &reversal, at(), &config).unwrap();
    assert_eq!(r.decision.outcome, Outcome::Reversed, "{:?}", r.decision.reasons);
    for k in &ids {
        assert!(s.aliases_for(k).unwrap().is_empty(), "{k} still learned after the reversal");
    }
}

/// An analyst claims the item and resolves it to `card` (below the four-eyes limit).
fn resolve_as_analyst<S: Store>(s: &S, id: &str, card: &remit_domain::CardRef) {
    queue::claim(s, id, "analyst-7", at(), &QueuePolicy::default()).unwrap();
    queue::resolve_by_applying(s, id, card, "analyst-7", at(), &QueuePolicy::default()).unwrap();
}
