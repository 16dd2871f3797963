//! The card account directory port, as the matcher and the ingest read it.

use rust_decimal::Decimal;

use crate::model::account::Account;
use crate::model::card::{CardKey, CardRef, LastFive};
use crate::model::identifiers::CreditorReference;
use crate::model::payment::Market;
use crate::ports::StoreError;

/// The card account directory. Virtual accounts and RF references are sparse indexes, so
/// lookups by them may return several accounts (the matcher calls that ambiguous). Cards are
/// keyed by their token under the directory's `CardKey`: a number read from a payment or typed
/// by an analyst is looked up as `card_key().card(&number)`.
pub trait AccountDirectory {
    /// The secret the directory's tokens and last-five tags were made with. The directory and
    /// its key are one: a token means nothing under another key.
    fn card_key(&self) -> &CardKey;
    /// Creates or replaces an account (directory loads).
    fn put_account(&self, account: &Account) -> Result<(), StoreError>;
    /// Key lookup by the card's token.
    fn account(&self, card: &CardRef) -> Result<Option<Account>, StoreError>;
    /// Index lookup by India virtual account number.
    fn accounts_by_virtual_account(&self, va: &str) -> Result<Vec<Account>, StoreError>;
    /// Index lookup by EU RF creditor reference.
    fn accounts_by_creditor_reference(&self, rf: &CreditorReference) -> Result<Vec<Account>, StoreError>;
    /// Index lookup by the last-five tag (`CardKey::last_five`) of a market and the last five
    /// digits a payer wrote ("ending 10005"). At most `MAX_INDEX_RESULTS` accounts.
    fn accounts_by_last_digits(&self, market: Market, last5: &LastFive) -> Result<Vec<Account>, StoreError>;
    /// `accounts_by_last_digits`, keeping the accounts whose holder name `keep` accepts. `keep`
    /// sees the holder's name and its initials (`crate::text::names::initials`) and must depend on
    /// nothing else: an index that knows its names may ask once per distinct name and filter
    /// before building any account.
    fn accounts_by_last_digits_where(
        &self,
        market: Market,
        last5: &LastFive,
        keep: &mut dyn FnMut(&str, u32) -> bool,
    ) -> Result<Vec<Account>, StoreError> {
        let mut found = self.accounts_by_last_digits(market, last5)?;
        found.retain(|a| keep(&a.holder_name, crate::text::names::initials(&a.holder_name)));
        Ok(found)
    }
    /// Index lookup by market and holder-name key (`crate::text::names::holder_name_keys` writes an
    /// account's keys, `NormalName::lookup_key` makes a payer's): accounts of every status whose
    /// holder name has that key, at most `limit` (and `MAX_INDEX_RESULTS`). The matcher only
    /// needs to know whether the name is unique, so it asks for a handful, never a whole surname.
    fn accounts_by_holder_name(
        &self,
        market: Market,
        name_key: &str,
        limit: usize,
    ) -> Result<Vec<Account>, StoreError>;
    /// Index lookup: the cards that roll up to a corporate control account.
    fn accounts_by_control_account(&self, control: &CardRef) -> Result<Vec<Account>, StoreError>;
    /// Key lookups of several accounts at once (DynamoDB BatchGetItem); missing ones are left out.
    fn accounts(&self, cards: &[CardRef]) -> Result<Vec<Account>, StoreError> {
        let mut out = Vec::with_capacity(cards.len());
        for n in cards {
            out.extend(self.account(n)?);
        }
        Ok(out)
    }
}

/// One index of the directory and the value an analyst's search looks up in it (issue 16).
/// Each is a query on an index both stores declare, never a scan:
///
/// | key | SQLite | DynamoDB |
/// |---|---|---|
/// | `HolderName` | `account_name_keys` (market, name_key, card) | table `account-names`, partition `market_name` |
/// | `LastFour` | `accounts_by_last4` (market, last4, card) | GSI `by-market-last-four` on `market_last_four` |
/// | `LastFive` | `accounts_by_last5_tag` (market, last5) | GSI `by-market-last-five` on `market_last_five` |
/// | `StatementBalance` | `accounts_by_balance` (market, balance_key, card) | GSI `by-market-balance` on `market_balance` |
/// | `MinimumDue` | `accounts_by_minimum_due` (market, min_due_key, card) | GSI `by-market-minimum-due` on `market_minimum_due` |
/// | `VirtualAccount` | `accounts_by_va` | GSI `by-virtual-account` |
/// | `CreditorReference` | `accounts_by_rf` | GSI `by-creditor-reference` |
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountIndexKey {
    /// A holder-name index key (`crate::text::names::holder_name_keys` writes them).
    HolderName(String),
    /// The last four digits (`CardRef::last4`).
    LastFour(LastFour),
    /// The keyed tag of the market and last five digits.
    LastFive(LastFive),
    /// The statement balance, any scale (`amount_key`).
    StatementBalance(Decimal),
    /// The minimum due, any scale (`amount_key`).
    MinimumDue(Decimal),
    VirtualAccount(String),
    CreditorReference(CreditorReference),
}

/// Four ASCII digits: the end of a card number a screen may show and a search may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastFour([u8; 4]);

impl LastFour {
    /// Four digits, nothing else (`None` otherwise).
    pub fn parse(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        (b.len() == 4 && b.iter().all(u8::is_ascii_digit)).then(|| Self([b[0], b[1], b[2], b[3]]))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("0000")
    }
}

/// The form an amount is indexed under, whatever its scale: `120.50` and `120.5` are one key.
pub fn amount_key(amount: Decimal) -> String {
    amount.normalize().to_string()
}

/// Directory search for the analyst's workbench (issue 16): one page of one index of one
/// market's accounts. Only the stores implement it (the matcher's in-memory index does not).
pub trait DirectorySearch {
    /// Query on the index `key` names, within `market`: at most `limit` accounts (capped at
    /// `MAX_INDEX_RESULTS`) after the account `after` in the index's own order (`None`: from the
    /// start). A page shorter than `limit` is the last one. Accounts of every status.
    fn search_accounts(
        &self,
        market: Market,
        key: &AccountIndexKey,
        after: Option<&CardRef>,
        limit: usize,
    ) -> Result<Vec<Account>, StoreError>;
}

/// Index lookups return at most this many items (one DynamoDB query page, kept small).
pub const MAX_INDEX_RESULTS: usize = 100;
