//! The pure payment domain: what a payment is, how it is matched, and how a file is ingested,
//! written against small store ports so that SQLite and DynamoDB can serve it alike.
//!
//! Modules by concept, each depending only on those listed before it (the test
//! `tests/layering.rs` keeps it so):
//!
//! - `text`: masking of card numbers, input made safe to echo, names, the Luhn check;
//! - `model`: what a payment and an account are (`Payment`, `Money`, identifiers, decisions);
//! - `ports`: the store ports and the vocabulary they carry (file summaries, audit entries,
//!   posting limits);
//! - `idempotency`: the protocol every handler runs its effects under;
//! - `report`: the daily control report;
//! - `matching`: the matcher, payer and own identities, control accounts, alias memory;
//! - `research`: the research queues, SLAs and their calendars, the SLA sweeper;
//! - `ingest`: the orchestrator and the pipeline it runs.

pub mod idempotency;
pub mod ingest;
pub mod matching;
pub mod model;
pub mod ports;
pub mod report;
pub mod research;
pub mod text;

pub use matching::index::AccountIndex;
pub use model::account::{Account, AccountStatus};
pub use model::card::{CardKey, CardKeyError, CardRef, LastFive};
pub use model::decision::{Decision, Outcome, Reason, ReasonCode, SplitLine};
pub use model::identifiers::{AccountNumber, CreditorReference, Iban, Ifsc, Utr, UtrClass};
pub use model::ids::{FileId, PaymentKey};
pub use model::money::{Money, MoneyError};
pub use model::payment::{
    Direction, KeyBasis, Market, PayerAccount, Payment, PerMarket, Provenance, References, SourceFormat,
    EARLIER_STATEMENT_LINE, ITEM_TRACE, RECORD_TYPE, STATEMENT_LINE,
};
pub use text::masking::{mask_card_numbers, RefText};
