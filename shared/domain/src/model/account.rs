//! Card accounts as the directory knows them.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::model::card::{CardKey, CardRef, LastFive};
use crate::model::identifiers::{AccountNumber, CreditorReference};
use crate::model::money::Currency;
use crate::model::payment::Market;

/// Whether an account may receive automatic postings.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    Active,
    Closed,
    Blocked,
}

impl std::str::FromStr for AccountStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "active" => Ok(Self::Active),
            "closed" => Ok(Self::Closed),
            "blocked" => Ok(Self::Blocked),
            other => Err(format!("unknown status {other:?} (expected active, closed or blocked)")),
        }
    }
}

impl AccountStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Closed => "closed",
            Self::Blocked => "blocked",
        }
    }
}

/// A card account in the directory, named by its token: the directory holds no card number.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Account {
    /// The card at rest: keyed token and last four digits (`crate::model::card`).
    pub card: CardRef,
    /// The keyed tag of the market and last five digits, for a payer who wrote only those.
    /// `None` in an account read from the in-memory index, which keeps the tag only as the
    /// account's bucket (reading it back would cost the matcher a cache miss per account).
    #[serde(skip)]
    pub last_five: Option<LastFive>,
    /// How the card platform names the account when we post to it: the directory's opaque
    /// `account_id` column; `None`: the card's stored token (`posting_id`).
    pub account_id: Option<String>,
    pub market: Market,
    pub currency: Currency,
    pub holder_name: String,
    pub status: AccountStatus,
    /// Balance on the last statement; payments reduce the current balance.
    pub statement_balance: Decimal,
    pub minimum_due: Decimal,
    /// Current balance: the statement balance less what we have posted since.
    pub current_balance: Decimal,
    /// India: the virtual account number payers send to.
    pub virtual_account: Option<String>,
    /// EU: the RF creditor reference printed on the statement.
    pub creditor_reference: Option<CreditorReference>,
    /// Corporate: the control account this card rolls up to.
    pub control_account: Option<CardRef>,
}

impl Account {
    /// How postings name the account to the card platform: its `account_id`, else its token.
    pub fn posting_id(&self) -> String {
        self.account_id.clone().unwrap_or_else(|| self.card.stored())
    }

    /// An active account of `number` tokenised under `key`: no balance, no index keys, no
    /// account id (generators and tests; the directory import reads every field).
    pub fn new(
        key: &CardKey,
        number: &AccountNumber,
        market: Market,
        currency: Currency,
        holder: &str,
    ) -> Self {
        let card = key.card(number);
        Self {
            card,
            last_five: Some(key.last_five_of(market, number)),
            account_id: None,
            market,
            currency,
            holder_name: holder.to_string(),
            status: AccountStatus::Active,
            statement_balance: Decimal::ZERO,
            minimum_due: Decimal::ZERO,
            current_balance: Decimal::ZERO,
            virtual_account: None,
            creditor_reference: None,
            control_account: None,
        }
    }
}
