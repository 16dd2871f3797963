//! Payer history for the analyst's workbench (issue 16): the earlier payments of an item's payer
//! identities (account, IBAN, remitter, name) and where each one went: applied to which card
//! (masked), queued and resolved by whom, or rejected. Newest first.

use serde::Serialize;

use crate::model::card::CardRef;
use crate::ports::{
    research_item_id, ItemStatus, Ledger, PayerPayment, PayerPayments, PaymentLog, PaymentState, QueueOps,
    ResearchItem, StoreError,
};

/// Entries shown per item by default, and at most.
pub const HISTORY: (usize, usize) = (20, 100);

/// One earlier payment of the payer and what became of it.
#[derive(Clone, Debug, Serialize)]
pub struct HistoryEntry {
    #[serde(flatten)]
    pub payment: PayerPayment,
    /// `received`, `applied`, `queued` or `rejected` (`None`: not in the payment log).
    pub state: Option<PaymentState>,
    /// The card it was posted to (masked when serialized), automatically or by an analyst.
    pub applied_to: Option<CardRef>,
    /// The research item it went to, if it was queued.
    pub item: Option<String>,
    pub item_status: Option<ItemStatus>,
    /// Who decided the item (resolved, returned, escalated...), and who approved it.
    pub decided_by: Option<String>,
    pub approved_by: Option<String>,
}

/// The earlier payments of `item`'s payer, newest first, at most `limit` (the item's own payment
/// left out). Every identity is read (most specific first) and the payments merged: a payment
/// found under the payer's account and under the name is shown once.
pub fn payer_history<S>(store: &S, item: &ResearchItem, limit: usize) -> Result<Vec<HistoryEntry>, StoreError>
where
    S: PayerPayments + PaymentLog + Ledger + QueueOps + ?Sized,
{
    let limit = limit.clamp(1, HISTORY.1);
    let mut found: Vec<PayerPayment> = Vec::new();
    for identity in &item.payer_identities {
        for p in store.payments_by_payer(identity, None, limit + 1)? {
            if p.payment_key != item.payment_key && !found.iter().any(|f| f.payment_key == p.payment_key) {
                found.push(p);
            }
        }
    }
    found.sort_by(|a, b| b.received_at.cmp(&a.received_at).then_with(|| b.payment_key.cmp(&a.payment_key)));
    found.truncate(limit);
    found.into_iter().map(|p| where_it_went(store, p)).collect()
}

fn where_it_went<S>(store: &S, payment: PayerPayment) -> Result<HistoryEntry, StoreError>
where
    S: PaymentLog + Ledger + QueueOps + ?Sized,
{
    let state = store.payment_state(&payment.payment_key)?;
    let applied_to = match state {
        Some(PaymentState::Applied | PaymentState::Queued) => {
            store.entry(&payment.payment_key)?.map(|e| e.account)
        }
        _ => None,
    };
    // A payment an analyst resolved is applied now; its item says who.
    let queued = match state {
        Some(PaymentState::Applied | PaymentState::Queued) => {
            store.item(&research_item_id(payment.market, &payment.payment_key))?
        }
        _ => None,
    };
    let d = queued.as_ref().and_then(|i| i.disposition.as_ref());
    Ok(HistoryEntry {
        state,
        applied_to,
        item: queued.as_ref().map(|i| i.id.clone()),
        item_status: queued.as_ref().map(|i| i.status),
        decided_by: d.map(|d| d.by.clone()),
        approved_by: d.and_then(|d| d.approved_by.clone()),
        payment,
    })
}
