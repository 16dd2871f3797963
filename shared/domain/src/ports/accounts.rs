//! The card account directory port, as the matcher and the ingest read it.

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

/// Index lookups return at most this many items (one DynamoDB query page, kept small).
pub const MAX_INDEX_RESULTS: usize = 100;
