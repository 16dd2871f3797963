//! Alias memory as analysts teach it: a resolution teaches the payer's identities for the
//! account it applied to, and a reversal of that posting unlearns them.

use chrono::{DateTime, Utc};

use crate::model::card::CardRef;
use crate::model::payment::Market;
use crate::ports::{
    research_item_id, Alias, AliasMemory, ItemStatus, LedgerEntry, ResearchItem, Store, StoreError,
};

/// Teaches alias memory what an analyst's resolution says: the payer of `item` pays `account`.
/// Every payer identity of the item (its account, then its name) is learned, so that the next
/// payment from the same payer carries "learned from resolution ..." evidence for `account`.
/// Idempotent: teaching the same resolution again replaces the same aliases.
pub fn teach_alias<S: AliasMemory + ?Sized>(
    store: &S,
    item: &ResearchItem,
    account: &CardRef,
    analyst: &str,
    at: DateTime<Utc>,
) -> Result<Vec<Alias>, StoreError> {
    let mut learned = Vec::new();
    for identity in &item.payer_identities {
        let alias = Alias {
            identity: identity.clone(),
            account: *account,
            learned_at: at,
            learned_by: analyst.to_string(),
            resolution: item.id.clone(),
        };
        store.learn_alias(&alias)?;
        learned.push(alias);
    }
    tracing::info!(
        item = %item.id, account = %account, analyst, identities = learned.len(), "alias learned"
    );
    Ok(learned)
}

/// A posting an analyst made from a research item was reversed or returned: what that
/// resolution taught alias memory is forgotten (an alias a later resolution taught again stays).
pub fn unlearn_resolution<S: Store + ?Sized>(
    store: &S,
    market: Market,
    original: &LedgerEntry,
) -> Result<usize, StoreError> {
    let id = research_item_id(market, &original.payment_key);
    let Some(item) = store.item(&id)? else { return Ok(0) };
    let resolved_here = item.disposition.as_ref().and_then(|d| d.account.as_ref()) == Some(&original.account);
    if item.status != ItemStatus::Resolved || !resolved_here {
        return Ok(0);
    }
    for identity in &item.payer_identities {
        store.forget_alias(identity, &original.account, &item.id)?;
    }
    tracing::info!(item = %item.id, identities = item.payer_identities.len(), "alias unlearned: posting reversed");
    Ok(item.payer_identities.len())
}
