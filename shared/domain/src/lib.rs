//! The pure payment domain: what a payment is, how it is matched, and how a file is ingested,
//! written against small store ports so that SQLite and DynamoDB can serve it alike.

pub mod account;
pub mod calendar;
pub mod chunks;
pub mod control;
pub mod decision;
pub mod idempotency;
pub mod identifiers;
pub mod ids;
pub mod index;
pub mod ingest;
pub mod masking;
pub mod matcher;
pub mod money;
pub mod names;
pub mod own;
pub mod payer;
pub mod payment;
pub mod pipeline;
pub mod ports;
pub mod queue;
pub mod report;
pub mod shown;
pub mod sla;
pub mod sweeper;

pub use account::{Account, AccountStatus};
pub use decision::{Decision, Outcome, Reason, ReasonCode, SplitLine};

pub use identifiers::{AccountNumber, CreditorReference, Iban, Ifsc, Utr, UtrClass};
pub use ids::{FileId, PaymentKey};
pub use index::AccountIndex;
pub use masking::{mask_card_numbers, RefText};
pub use money::{Money, MoneyError};
pub use payment::{
    Direction, KeyBasis, Market, PayerAccount, Payment, PerMarket, Provenance, References, SourceFormat,
    EARLIER_STATEMENT_LINE, ITEM_TRACE, RECORD_TYPE, STATEMENT_LINE,
};
