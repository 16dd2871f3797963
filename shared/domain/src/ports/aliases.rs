//! Alias memory: payer identities taught by analysts' resolutions.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::card::CardRef;
use crate::ports::StoreError;

/// What an analyst taught: payments from this payer identity are for this account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alias {
    /// A payer identity key (`crate::matching::payer::PayerIdentity::key`): `iban:...`, `acct:...`,
    /// `name:...`.
    pub identity: String,
    pub account: CardRef,
    pub learned_at: DateTime<Utc>,
    /// Who resolved the item (analyst id).
    pub learned_by: String,
    /// The research item (or other resolution) it was learned from.
    pub resolution: String,
}

/// Alias memory: payer identities learned from resolutions. Keyed by identity, then account
/// (a DynamoDB item per pair), so learning the same pair again replaces it.
pub trait AliasMemory {
    /// Puts the alias (identity, account), replacing an earlier one for the same pair.
    fn learn_alias(&self, alias: &Alias) -> Result<(), StoreError>;
    /// Query on the identity: every account learned for it, at most `MAX_INDEX_RESULTS`.
    fn aliases_for(&self, identity: &str) -> Result<Vec<Alias>, StoreError>;
    /// Deletes the alias (identity, account) when it was learned from `resolution` (a
    /// conditional delete): a reversed resolution unlearns what it taught, and an alias a later
    /// resolution taught again stays. Deleting what is not there is not an error.
    fn forget_alias(&self, identity: &str, account: &CardRef, resolution: &str) -> Result<(), StoreError>;
}
