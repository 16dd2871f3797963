//! Builders for accounts and payments, so each test states only what matters to it.

use chrono::NaiveDate;
use remit_domain::model::money::Currency;
use remit_domain::{
    Account, AccountNumber, CardKey, CardRef, Direction, FileId, KeyBasis, Market, Money, Payment,
    Provenance, RefText, References, SourceFormat,
};
use rust_decimal::Decimal;

pub const CARD_A: &str = "378282246310005";
pub const CARD_B: &str = "371449635398431";
pub const CARD_CLOSED: &str = "378734493671000";

/// The card key every store of these tests is opened with: tests compare tokens.
pub fn key() -> CardKey {
    CardKey::from_secret(&[5u8; 32]).unwrap()
}

/// The card of a test number under `key()`.
pub fn card(number: &str) -> CardRef {
    key().card(&number.parse::<AccountNumber>().unwrap())
}

/// An in-memory SQLite store under `key()`.
pub fn sqlite() -> remit_store_sqlite::SqliteStore {
    remit_store_sqlite::SqliteStore::in_memory_with_key(key()).unwrap()
}

pub fn account(number: &str, market: Market, currency: Currency) -> Account {
    Account {
        statement_balance: Decimal::new(100000, 2),
        minimum_due: Decimal::new(5000, 2),
        current_balance: Decimal::new(100000, 2),
        ..Account::new(&key(), &number.parse().unwrap(), market, currency, "Jean Tremblay")
    }
}

/// A CAD credit from bank "0000000610" whose cross-reference holds `reference`.
pub fn payment(bank_ref: &str, cents: i64, reference: &str, file: FileId, record: u64) -> Payment {
    Payment {
        market: Market::CA,
        format: SourceFormat::Cpa005,
        source_bank: "0000000610".into(),
        bank_ref: bank_ref.into(),
        key_basis: KeyBasis::BankReference,
        amount: Money::from_minor(cents, Currency::CAD),
        direction: Direction::Credit,
        reversal: false,
        value_date: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        booking_date: None,
        payer_name: Some("TREMBLAY JEAN".into()),
        payer_account: None,
        references: References { cross_reference: Some(RefText::new(reference)), ..References::default() },
        source: Provenance { file_id: file, file: "test.txt".into(), record, offset: 0, position: 1 },
        warnings: Vec::new(),
    }
}

/// The reason texts of a market's open research items, for asserting why things were queued.
pub fn open_reason_texts(store: &impl remit_domain::ports::ResearchQueue, market: Market) -> Vec<String> {
    store
        .open_items(market, 100)
        .unwrap()
        .iter()
        .flat_map(|i| i.reasons.iter().map(|r| r.text.clone()))
        .collect()
}
