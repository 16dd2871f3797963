//! Builders for accounts and payments, so each test states only what matters to it.

use chrono::NaiveDate;
use remit_domain::model::money::Currency;
use remit_domain::{
    Account, AccountStatus, Direction, FileId, KeyBasis, Market, Money, Payment, Provenance, RefText,
    References, SourceFormat,
};
use rust_decimal::Decimal;

pub const CARD_A: &str = "378282246310005";
pub const CARD_B: &str = "371449635398431";
pub const CARD_CLOSED: &str = "378734493671000";

pub fn account(number: &str, market: Market, currency: Currency) -> Account {
    Account {
        number: number.parse().unwrap(),
        market,
        currency,
        holder_name: "Jean Tremblay".into(),
        status: AccountStatus::Active,
        statement_balance: Decimal::new(100000, 2),
        minimum_due: Decimal::new(5000, 2),
        current_balance: Decimal::new(100000, 2),
        virtual_account: None,
        creditor_reference: None,
        control_account: None,
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
