//! The canonical payment: every market's formats normalise into this one model.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Serialize, Serializer};

use crate::model::identifiers::{Iban, Ifsc, Utr};
use crate::model::ids::{FileId, PaymentKey};
use crate::model::money::Money;
use crate::text::masking::RefText;

/// The market whose ops team owns a payment, and whose rules and calendar apply.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, serde::Deserialize)]
pub enum Market {
    CA,
    IN,
    EU,
}

impl Market {
    pub const ALL: [Market; 3] = [Market::CA, Market::IN, Market::EU];

    pub fn code(&self) -> &'static str {
        match self {
            Market::CA => "CA",
            Market::IN => "IN",
            Market::EU => "EU",
        }
    }
}

impl std::str::FromStr for Market {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "CA" => Ok(Market::CA),
            "IN" => Ok(Market::IN),
            "EU" => Ok(Market::EU),
            other => Err(format!("unknown market {other:?} (expected CA, IN or EU)")),
        }
    }
}

impl fmt::Display for Market {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One value per market: thresholds, SLA hours and the like are set market by market. In a
/// configuration file the keys are the market codes `CA`, `IN` and `EU`, all three required.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerMarket<T> {
    #[serde(rename = "CA")]
    pub ca: T,
    #[serde(rename = "IN")]
    pub india: T,
    #[serde(rename = "EU")]
    pub eu: T,
}

impl<T> PerMarket<T> {
    /// A reference to the value for one market.
    pub fn get_ref(&self, market: Market) -> &T {
        match market {
            Market::CA => &self.ca,
            Market::IN => &self.india,
            Market::EU => &self.eu,
        }
    }
}

impl<T: Copy> PerMarket<T> {
    /// The value for one market.
    pub fn get(&self, market: Market) -> T {
        match market {
            Market::CA => self.ca,
            Market::IN => self.india,
            Market::EU => self.eu,
        }
    }
}

/// The file format a payment was read from.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFormat {
    Cpa005,
    /// ISO 20022 camt.052, the intraday account report.
    Camt052,
    Camt053,
    Camt054,
    Mt940,
    /// SWIFT MT942, the interim transaction report (intraday).
    Mt942,
    IndiaCsv,
    IndiaJson,
    /// Read with a declarative bank profile (`profiles/*.toml`).
    Profile,
}

impl SourceFormat {
    pub fn name(&self) -> &'static str {
        match self {
            SourceFormat::Cpa005 => "cpa005",
            SourceFormat::Camt052 => "camt052",
            SourceFormat::Camt053 => "camt053",
            SourceFormat::Camt054 => "camt054",
            SourceFormat::Mt940 => "mt940",
            SourceFormat::Mt942 => "mt942",
            SourceFormat::IndiaCsv => "india-csv",
            SourceFormat::IndiaJson => "india-json",
            SourceFormat::Profile => "profile",
        }
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Money moving to us (credit: a payment) or away from us (debit).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Credit,
    Debit,
}

/// The payer's account as the file names it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum PayerAccount {
    /// A validated IBAN.
    Iban(Iban),
    /// A Canadian account: institution, transit (branch) and account number.
    Canadian { institution: String, transit: String, account: String },
    /// An Indian remitter account, with its branch IFSC when given.
    Remitter { account: String, ifsc: Option<Ifsc> },
    /// Anything else, verbatim (for example an IBAN that failed its check, flagged in warnings).
    Other(String),
}

impl fmt::Display for PayerAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PayerAccount::Iban(i) => write!(f, "{i}"),
            PayerAccount::Canadian { institution, transit, account } => {
                write!(f, "{institution}-{transit}-{account}")
            }
            PayerAccount::Remitter { account, ifsc: Some(ifsc) } => write!(f, "{account}@{ifsc}"),
            PayerAccount::Remitter { account, ifsc: None } => f.write_str(account),
            PayerAccount::Other(s) => f.write_str(s),
        }
    }
}

impl Serialize for PayerAccount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::text::masking::mask_card_numbers(&self.to_string()))
    }
}

/// Every reference a file carries for a payment. Free text may hold card numbers, hence
/// `RefText`, which masks on every way out.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize)]
pub struct References {
    /// CPA-005 originator's cross-reference number (payers put their reference here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cross_reference: Option<RefText>,
    /// ISO 20022 end-to-end id ("NOTPROVIDED" is dropped by readers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_to_end_id: Option<RefText>,
    /// Structured creditor reference as sent (RF / SCOR, or proprietary).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creditor_reference: Option<RefText>,
    /// India virtual account number (the payer code is inside it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtual_account: Option<RefText>,
    /// India unique transaction reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utr: Option<Utr>,
    /// Free-text remittance lines, in file order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remittance: Vec<RefText>,
    /// Other named references (item trace number, servicer reference, sundry information...).
    /// Keys are almost always literals, so they cost no allocation per payment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<(Cow<'static, str>, RefText)>,
}

impl References {
    /// Every piece of text a payer may have written a reference into, structured first.
    pub fn texts(&self) -> impl Iterator<Item = &RefText> {
        self.cross_reference
            .iter()
            .chain(self.end_to_end_id.iter())
            .chain(self.creditor_reference.iter())
            .chain(self.remittance.iter())
            .chain(self.other.iter().map(|(_, v)| v))
    }
}

/// Where in which file a payment came from.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Provenance {
    /// SHA-256 of the file's bytes.
    pub file_id: FileId,
    /// The name the file arrived under (object key or path), shared by all its payments.
    pub file: Arc<str>,
    /// 1-based record (fixed-width), line (CSV) or element ordinal (XML/JSON).
    pub record: u64,
    /// Byte offset of the record in the file, when known.
    pub offset: u64,
    /// Position within the record (CPA-005 segment, camt `TxDtls`), 1-based; 0 when single.
    pub position: u32,
}

/// What a payment's identity is built from.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyBasis {
    /// The bank's reference is unique per source bank (CPA trace number, UTR).
    BankReference,
    /// The bank may reuse references: file id plus position make the key.
    FilePosition,
    /// A bank statement or interim report line (MT940, MT942): the account and the line's
    /// identity in the `statement_line` reference make the key. The identity is the bank's
    /// reference with the line's date, mark and amount when the line has one (the same in the
    /// intraday MT942 and the evening MT940), else the statement's number, opening date and the
    /// line's place. A statement re-sent in a new file (new `:20:`, other line ends) is then
    /// the same lines.
    StatementLine,
}

/// The `references.other` kind that holds a `KeyBasis::StatementLine` payment's identity.
pub const STATEMENT_LINE: &str = "statement_line";

/// The `references.other` kind that holds the identity an MT940 line was keyed by before
/// lines were keyed by the bank's reference: `Payment::earlier_key` looks it up, so a statement
/// posted before that change and re-sent after it posts nothing twice.
pub const EARLIER_STATEMENT_LINE: &str = "statement_line_v1";

/// One payment, normalised. Amount is always positive; `direction` and `reversal` carry sign.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Payment {
    pub market: Market,
    pub format: SourceFormat,
    /// The sending institution or originator, part of the payment's key; shared by the payments
    /// of a file or statement.
    pub source_bank: Arc<str>,
    /// The bank's own reference for this payment.
    #[serde(serialize_with = "crate::text::masking::serialize_masked")]
    pub bank_ref: String,
    #[serde(skip)]
    pub key_basis: KeyBasis,
    #[serde(flatten)]
    pub amount: Money,
    pub direction: Direction,
    pub reversal: bool,
    pub value_date: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking_date: Option<NaiveDate>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::text::masking::serialize_masked_opt"
    )]
    pub payer_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payer_account: Option<PayerAccount>,
    pub references: References,
    pub source: Provenance,
    /// Problems that do not reject the file but must reach a person (bad counterparty IBAN...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl fmt::Debug for Payment {
    /// The masked serialized form: a `?payment` in a log line must not leak a card number that a
    /// payer typed into a name or reference field.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match serde_json::to_string(self) {
            Ok(json) => write!(f, "Payment{json}"),
            Err(_) => write!(f, "Payment({})", self.key()),
        }
    }
}

/// The CPA-005 item trace number of the item a payment is or undoes (see `LINKING_REFERENCE_KINDS`).
pub const ITEM_TRACE: &str = "item_trace";

/// The `references.other` kind holding the logical record type a payment was read from (CPA-005
/// `C`, `D`, `E`, `F`, `I`, `J`): which party is the payer depends on it.
pub const RECORD_TYPE: &str = "record_type";

/// Reference kinds that identify a payment across its original and its reversal or return.
/// Readers put these names in `References::other`.
pub const LINKING_REFERENCE_KINDS: [&str; 6] =
    ["tx_id", "instr_id", "uetr", "mandate_id", "customer_ref", ITEM_TRACE];

impl Payment {
    /// References that a later reversal or return of this payment will carry too, scoped by
    /// market and source bank so that two banks' references never collide. Placeholders such as
    /// `NOTPROVIDED` and `NONREF` are not references. A CPA-005 item trace number is scoped by
    /// market alone: it starts with the institution and transit that issued it, so it is unique
    /// nationally, and a return may arrive in a file under another originator id.
    pub fn linking_refs(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut add = |kind: &str, value: &str| {
            let v = value.trim();
            if v.is_empty() || v.eq_ignore_ascii_case("NOTPROVIDED") || v.eq_ignore_ascii_case("NONREF") {
                return;
            }
            let scope = if kind == ITEM_TRACE { "" } else { self.source_bank.trim() };
            let key = format!("{}|{scope}|{kind}:{v}", self.market.code());
            if !out.contains(&key) {
                out.push(key);
            }
        };
        if let Some(e2e) = &self.references.end_to_end_id {
            add("e2e", e2e.expose());
        }
        for (k, v) in &self.references.other {
            if LINKING_REFERENCE_KINDS.contains(&k.as_ref()) {
                add(k, v.expose());
            }
        }
        out
    }

    /// The key this payment had under an earlier keying rule (`EARLIER_STATEMENT_LINE`), if
    /// that differs from `key`: the pipeline treats a payment decided under it as this one.
    pub fn earlier_key(&self) -> Option<PaymentKey> {
        let (_, line) = self.references.other.iter().find(|(k, _)| k == EARLIER_STATEMENT_LINE)?;
        Some(self.statement_line_key(line.expose()))
    }

    fn statement_line_key(&self, line: &str) -> PaymentKey {
        PaymentKey::from_parts(&[
            self.market.code(),
            &self.source_bank,
            line,
            if self.reversal { "R" } else { "" },
        ])
    }

    /// The deterministic identity that makes posting exactly-once.
    pub fn key(&self) -> PaymentKey {
        match self.key_basis {
            KeyBasis::BankReference => PaymentKey::from_parts(&[
                self.market.code(),
                &self.source_bank,
                &self.bank_ref,
                if self.reversal { "R" } else { "" },
            ]),
            KeyBasis::FilePosition => PaymentKey::from_parts(&[
                self.market.code(),
                &self.source_bank,
                &self.source.file_id.to_hex(),
                &self.source.record.to_string(),
                &self.source.position.to_string(),
            ]),
            KeyBasis::StatementLine => {
                let line = self.references.other.iter().find(|(k, _)| k == STATEMENT_LINE);
                self.statement_line_key(line.map_or("", |(_, v)| v.expose()))
            }
        }
    }
}

/// A credit of `amount` in `market` carrying `references`, for unit tests of the domain.
#[cfg(test)]
pub(crate) fn sample(market: Market, amount: Money, references: References) -> Payment {
    Payment {
        market,
        format: SourceFormat::Cpa005,
        source_bank: "B".into(),
        bank_ref: "R".into(),
        key_basis: KeyBasis::BankReference,
        amount,
        direction: Direction::Credit,
        reversal: false,
        value_date: NaiveDate::from_ymd_opt(2026, 1, 2).expect("a valid date"),
        booking_date: None,
        payer_name: None,
        payer_account: None,
        references,
        source: Provenance {
            file_id: FileId::of_bytes(b""),
            file: "f".into(),
            record: 1,
            offset: 0,
            position: 0,
        },
        warnings: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::money::Currency;

    #[test]
    fn serialization_masks_cards_in_every_text_field() {
        let card = "371449635398431";
        let mut p = sample(
            Market::CA,
            Money::from_minor(100, Currency::CAD),
            References {
                cross_reference: Some(card.into()),
                remittance: vec![format!("card {card}").into()],
                other: vec![("sundry".into(), card.into())],
                ..References::default()
            },
        );
        p.bank_ref = card.into();
        p.payer_name = Some(format!("JEAN {card}"));
        p.payer_account = Some(PayerAccount::Other(card.into()));
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains(card), "{json}");
        assert!(!serde_json::to_string(&p.key()).unwrap().contains(card));
        assert!(!format!("{p:?}").contains("3714496353"), "Debug masks references");
    }

    #[test]
    fn item_trace_links_across_originators_other_references_do_not() {
        let refs = References {
            other: vec![
                (ITEM_TRACE.into(), "0003000110000000000001".into()),
                ("customer_ref".into(), "C-1".into()),
            ],
            ..References::default()
        };
        let a = sample(Market::CA, Money::from_minor(100, Currency::CAD), refs);
        let mut b = a.clone();
        b.source_bank = "another originator".into();
        assert_eq!(a.linking_refs(), ["CA||item_trace:0003000110000000000001", "CA|B|customer_ref:C-1"]);
        assert_eq!(a.linking_refs()[0], b.linking_refs()[0]);
        assert_ne!(a.linking_refs()[1], b.linking_refs()[1]);
    }
}
