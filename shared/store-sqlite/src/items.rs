//! Research item rows as written: their columns and the insert both the research queue and
//! the ledger (a reversal's follow-up item) make inside their transactions.

use remit_domain::model::decision::Candidate;
use remit_domain::ports::{ResearchItem, StoreError};
use rusqlite::params;

use crate::codec::{json, ts};
use crate::error::db;

/// The columns an item is written with.
pub(crate) const ITEM_COLUMNS: &str =
    "id, payment_key, market, file_id, bank_ref, amount, currency, payer_name, \
     reason_code, reasons, candidate, confidence, created_at, due_at, status, payer_identities, warn_at, \
     candidates";

/// Puts a research item if absent; false when it exists.
pub(crate) fn insert_item(tx: &rusqlite::Transaction<'_>, item: &ResearchItem) -> Result<bool, StoreError> {
    let code = serde_json::to_value(item.reason_code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let status = item.status.as_str();
    let open_market = item.status.is_active().then(|| item.market.code());
    let closed_at = item.closed_at();
    let inserted = tx
        .execute(
            &format!(
                "INSERT INTO research_items ({ITEM_COLUMNS}, open_market, linking_refs, closed_market, closed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)
                 ON CONFLICT DO NOTHING"
            ),
            params![
                item.id,
                item.payment_key.as_str(),
                item.market.code(),
                item.file_id.to_hex(),
                item.bank_ref,
                item.amount.amount().to_string(),
                item.amount.currency().code(),
                item.payer_name,
                code,
                json(&item.reasons)?,
                item.candidate.as_ref().map(|c| c.stored().to_string()),
                item.confidence,
                ts(item.created_at),
                ts(item.due_at),
                status,
                json(&item.payer_identities)?,
                ts(item.warn_at),
                (!item.candidates.is_empty()).then(|| Candidate::stored_list(&item.candidates)),
                open_market,
                json(&item.linking_refs)?,
                closed_at.map(|_| item.market.code()),
                closed_at.map(ts),
            ],
        )
        .map_err(db)?;
    Ok(inserted > 0)
}
