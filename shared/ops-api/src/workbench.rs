//! The analyst's workbench routes (issue 16): ranked candidates on an item, directory search
//! within the caller's markets, the payer's earlier payments, and the team view. Every answer is
//! masked like the rest of the API; a search is rate-limited per analyst like a resolve.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use remit_domain::mask_card_numbers;
use remit_domain::model::account::Account;
use remit_domain::ports::{LedgerEntry, ResearchItem};
use remit_domain::research::history::{payer_history, HISTORY};
use remit_domain::research::search::{search, SearchBy, SearchError, PAGE};
use remit_domain::research::team::team_view;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{
    blocking, ok, query_number, readable_item, readable_market, ApiError, ApiStore, AppState, Caller,
};

/// An account's figures as the workbench shows them next to a candidate or a search result.
fn account_view(a: &Account) -> Value {
    json!({
        "holder_name": a.holder_name,
        "status": a.status,
        "currency": a.currency.code(),
        "statement_balance": a.statement_balance,
        "minimum_due": a.minimum_due,
        "current_balance": a.current_balance,
    })
}

/// The item's candidates (`ResearchItem::offered_candidates`), best first, each with its
/// account's figures (`null` when the account has left the directory).
pub(crate) fn candidates_view(store: &dyn ApiStore, item: &ResearchItem) -> Result<Vec<Value>, ApiError> {
    let list = item.offered_candidates();
    let cards: Vec<_> = list.iter().map(|c| c.account).collect();
    let accounts = store.accounts(&cards)?;
    Ok(list
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let account = accounts.iter().find(|a| a.card == c.account && a.market == item.market);
            json!({
                "rank": i + 1,
                "account": c.account,
                "account_ref": c.account.stored(),
                "confidence": c.confidence,
                "evidence": c.evidence,
                "not_applied": c.not_applied,
                "details": account.map(account_view),
            })
        })
        .collect())
}

/// The posting the item's payment made, if it was posted (an analyst's resolve, or a reversal's
/// original): the card masked and how the card platform names the account.
pub(crate) fn posting_view(entry: Option<LedgerEntry>) -> Value {
    match entry {
        None => Value::Null,
        Some(e) => json!({
            "account": e.account,
            "amount": e.amount.amount(),
            "currency": e.amount.currency().code(),
            "reversed": e.reversed_by.is_some(),
        }),
    }
}

/// What alias memory knows of the item's payer identities: each identity's learned accounts.
pub(crate) fn aliases_view(store: &dyn ApiStore, item: &ResearchItem) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::new();
    for identity in &item.payer_identities {
        for a in store.aliases_for(identity)? {
            out.push(json!({
                "identity": mask_card_numbers(&a.identity),
                "account": a.account,
                "learned_by": a.learned_by,
                "learned_at": a.learned_at,
                "resolution": a.resolution,
            }));
        }
    }
    Ok(out)
}

/// Query of `GET /api/search/{market}`.
#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    /// What the analyst typed.
    pub q: Option<String>,
    /// `auto` (default), `name`, `last-digits`, `amount`, `virtual-account`, `creditor-reference`.
    pub by: Option<String>,
    /// The previous page's `next`.
    pub after: Option<String>,
    pub limit: Option<String>,
}

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::Store(s) => s.into(),
            SearchError::Invalid(m) => ApiError::bad_request(m),
        }
    }
}

/// `GET /api/search/{market}`: the market's accounts answering the search, best first, paged.
pub(crate) async fn search_accounts(
    State(state): State<AppState>,
    caller: Caller,
    Path(market): Path<String>,
    Query(q): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    let market = readable_market(&caller, &market, "directory")?;
    let text = q.q.unwrap_or_default();
    if text.trim().is_empty() {
        return Err(ApiError::bad_request("q: type a name, last digits, an amount or a reference".into()));
    }
    let by: SearchBy = q.by.as_deref().unwrap_or("auto").parse().map_err(ApiError::bad_request)?;
    let limit = query_number("limit", q.limit.as_deref(), PAGE.0 as u64)? as usize;
    if let Err(wait) = state.search_limit.check(&caller.analyst, (state.clock)()) {
        let per_minute = state.policy.searches_per_minute;
        let what = format!("{}: more than {per_minute} searches in a minute", caller.analyst);
        return Err(ApiError::rate_limited(&what, wait));
    }
    let store = state.store.clone();
    let page = blocking(move || {
        let after = q.after.as_deref().filter(|a| !a.is_empty());
        Ok(search(&*store, market, by, &text, after, limit)?)
    })
    .await?;
    let results: Vec<Value> = page
        .results
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let mut v = account_view(&h.account);
            v["rank"] = json!(i + 1);
            v["account"] = json!(h.account.card);
            v["account_ref"] = json!(h.account_ref);
            v["matched_by"] = json!(h.matched_by);
            v["score"] = json!(h.score);
            v["virtual_account"] = json!(h.account.virtual_account);
            v["creditor_reference"] = json!(h.account.creditor_reference);
            v
        })
        .collect();
    Ok(ok(json!({ "market": market, "by": page.by, "results": results, "next": page.next })))
}

/// Query of `GET /api/items/{id}/history`.
#[derive(Debug, Default, Deserialize)]
pub struct HistoryQuery {
    pub limit: Option<String>,
}

/// `GET /api/items/{id}/history`: the payer's earlier payments and where they went.
pub(crate) async fn item_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, ApiError> {
    let limit = query_number("limit", q.limit.as_deref(), HISTORY.0 as u64)? as usize;
    let store = state.store.clone();
    blocking(move || {
        let item = readable_item(&*store, &caller, &id)?;
        let entries = payer_history(&*store, &item, limit)?;
        // Only the markets the caller reads: a payer's name may have paid elsewhere too.
        let entries: Vec<_> = entries.into_iter().filter(|e| caller.can_read(e.payment.market)).collect();
        Ok(ok(json!({ "item": item.id, "identities": item.payer_identities.len(), "payments": entries })))
    })
    .await
}

/// `GET /api/team/{market}`: open items by reason and SLA state, claims, and the day's work.
pub(crate) async fn team(
    State(state): State<AppState>,
    caller: Caller,
    Path(market): Path<String>,
) -> Result<Response, ApiError> {
    let market = readable_market(&caller, &market, "team view")?;
    let now = (state.clock)();
    let tz = state.sla.calendar(market).time_zone;
    let today = now.with_timezone(&tz).date_naive();
    let (day_start, _) = remit_domain::report::local_day(tz, today);
    let store = state.store.clone();
    let view = blocking(move || Ok(team_view(&*store, market, now, day_start.min(now))?)).await?;
    let mut v = serde_json::to_value(&view).unwrap_or(Value::Null);
    v["day"] = json!(today.to_string());
    Ok(ok(v))
}
