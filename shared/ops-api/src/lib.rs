//! The ops API (issue 6): one axum router over the research queues, JSON in and out, with an
//! OpenAPI document at `/api/openapi.json`. The router holds no listener and no runtime of its
//! own: `remit serve` serves it on a TCP socket, and `lambda_http` can serve it unchanged.
//!
//! The ops console (`console`), an HTML page at `/` and `/console`, calls this API from the
//! browser with the token the analyst pastes in.
//!
//! Every request but the OpenAPI document and the console page carries
//! `Authorization: Bearer <token>` (`auth`); every read and change is scoped to the caller's
//! markets:
//!
//! | role         | reads             | changes                                                   |
//! |--------------|-------------------|-----------------------------------------------------------|
//! | `analyst`    | their markets     | claim, release, resolve, return, escalate, write-off, note |
//! | `lead`       | their markets     | as an analyst, and approve or reject write-offs            |
//! | `leadership` | every market      | notes only                                                 |
//!
//! Another market's queue or item is `403` (the item's existence is not hidden: ids are not secret,
//! payment data is). The queue's rules themselves (one claim at a time, four eyes...) are the
//! domain's (`remit_domain::research::queue`), exactly as the CLI applies them. Card numbers are
//! masked in every response: the domain's types serialize masked, and each body is passed through
//! `mask_card_numbers` once more before it leaves. Every request through `OpsApi` leaves one line
//! in the access log (`access`).

// The OpenAPI document is one `json!` literal, deeper than the default limit.
#![recursion_limit = "256"]

pub mod access;
pub mod auth;
pub mod console;
pub mod idempotent;
mod openapi;
pub mod rate;
mod workbench;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use chrono::{DateTime, Utc};
use remit_domain::model::card::CardRef;
use remit_domain::ports::{active_claim, AuditAction, AuditEntry, QueueFilter};
use remit_domain::ports::{ItemStatus, ResearchItem, Store, StoreError};
use remit_domain::report;
use remit_domain::research::queue::{self, Action, QueueError, QueuePolicy};
use remit_domain::research::sla::SlaPolicy;
use remit_domain::{mask_card_numbers, AccountNumber, Market, ReasonCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use access::{masked_card, CardLookup, ErrorCode};
pub use auth::{Caller, Role, Tokens};
pub use openapi::openapi_document;
use rate::RateLimit;

/// A store the API can share across requests and threads.
pub trait ApiStore: Store + Send + Sync {}

impl<T: Store + Send + Sync + ?Sized> ApiStore for T {}

/// The clock requests are judged by (claims, audit times).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Everything the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn ApiStore>,
    pub tokens: Arc<Tokens>,
    pub clock: Clock,
    pub policy: QueuePolicy,
    /// The markets' calendars: the daily report covers a market's local day.
    pub sla: Arc<SlaPolicy>,
    /// Resolves per analyst per minute (`policy.resolves_per_minute`), counted in this process.
    pub resolve_limit: Arc<RateLimit>,
    /// Directory searches per analyst per minute (`policy.searches_per_minute`).
    pub search_limit: Arc<RateLimit>,
}

impl AppState {
    /// State with the wall clock and the default queue policy.
    pub fn new(store: Arc<dyn ApiStore>, tokens: Tokens) -> Self {
        Self {
            store,
            tokens: Arc::new(tokens),
            clock: Arc::new(Utc::now),
            resolve_limit: Arc::new(RateLimit::per_minute(QueuePolicy::default().resolves_per_minute)),
            search_limit: Arc::new(RateLimit::per_minute(QueuePolicy::default().searches_per_minute)),
            policy: QueuePolicy::default(),
            sla: Arc::new(SlaPolicy::default()),
        }
    }

    /// The same state with the configured SLA policy (its calendars set each market's day).
    pub fn with_sla(mut self, sla: SlaPolicy) -> Self {
        self.sla = Arc::new(sla);
        self
    }

    /// The same state judged by another clock (tests, replays).
    pub fn with_clock(mut self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The same state under another queue policy (claim duration, note limits, resolve rate).
    pub fn with_policy(mut self, policy: QueuePolicy) -> Self {
        self.resolve_limit = Arc::new(RateLimit::per_minute(policy.resolves_per_minute));
        self.search_limit = Arc::new(RateLimit::per_minute(policy.searches_per_minute));
        self.policy = policy;
        self
    }
}

pub use idempotent::OpsApi;

/// The ops API router (no listener: serve it with `axum::serve` or `lambda_http`, through
/// `OpsApi` for idempotent retries).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(console::console_page))
        .route("/console", get(console::console_page))
        .route("/api/openapi.json", get(openapi_json))
        .route("/api/me", get(me))
        .route("/api/queues/{market}/items", get(list_items))
        .route("/api/items/{id}", get(show_item))
        .route("/api/items/{id}/audit", get(audit_page))
        .route("/api/items/{id}/history", get(workbench::item_history))
        .route("/api/search/{market}", get(workbench::search_accounts))
        .route("/api/team/{market}", get(workbench::team))
        .route("/api/reports/{market}/daily", get(daily_report))
        .route("/api/items/{id}/claim", item_action(Needs::Worker, |_: Empty| Ok(Op::Claim)))
        .route(
            "/api/items/{id}/release",
            item_action(Needs::Worker, |_: Empty| Ok(Op::Other(Action::Release))),
        )
        .route("/api/items/{id}/resolve", item_action(Needs::Worker, resolve_op))
        .route(
            "/api/items/{id}/return",
            item_action(Needs::Worker, |r: ReasonBody| Ok(Op::Other(Action::Return(r.reason)))),
        )
        .route(
            "/api/items/{id}/escalate",
            item_action(Needs::Worker, |r: ReasonBody| Ok(Op::Other(Action::Escalate(r.reason)))),
        )
        .route(
            "/api/items/{id}/notes",
            item_action(Needs::Reader, |r: NoteBody| Ok(Op::Other(Action::Note(r.text)))),
        )
        .route(
            "/api/items/{id}/write-off",
            item_action(Needs::Worker, |r: ReasonBody| Ok(Op::Other(Action::RequestWriteOff(r.reason)))),
        )
        .route(
            "/api/items/{id}/write-off/approve",
            item_action(Needs::Lead, |_: Empty| Ok(Op::Other(Action::ApproveWriteOff))),
        )
        .route(
            "/api/items/{id}/write-off/reject",
            item_action(Needs::Lead, |r: ReasonBody| Ok(Op::Other(Action::RejectWriteOff(r.reason)))),
        )
        .route("/api/items/{id}/resolve/approve", item_action(Needs::Lead, |_: Empty| Ok(Op::ApproveResolve)))
        .route(
            "/api/items/{id}/resolve/reject",
            item_action(Needs::Lead, |r: ReasonBody| Ok(Op::Other(Action::RejectResolve(r.reason)))),
        )
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such route".into()) })
        .with_state(state)
        .layer(axum::middleware::map_response(no_store))
}

/// Every answer may carry payment data (masked, but still the cardholder's): never kept by a
/// cache or a browser, never content-sniffed into something else (issue 15, PCI DSS 3).
async fn no_store(mut response: Response) -> Response {
    no_store_headers(response.headers_mut());
    response
}

/// Sets `Cache-Control: no-store` and `X-Content-Type-Options: nosniff` (for answers made
/// outside the router too: the Lambda's replayed and refused requests).
pub fn no_store_headers(headers: &mut header::HeaderMap) {
    headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, header::HeaderValue::from_static("nosniff"));
}

/// An error as the API answers it: a status and `{"error": code, "message": text}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds to wait before asking again (`Retry-After`), for a rate limit.
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: String) -> Self {
        Self { status, code, message, retry_after: None }
    }

    /// 429: `what` asked for too often; `Retry-After` says when it may be asked again.
    fn rate_limited(what: &str, seconds: u64) -> Self {
        let message = format!("{what}; retry in {seconds} s");
        Self {
            retry_after: Some(seconds),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", message)
        }
    }

    fn bad_request(message: String) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", message)
    }

    fn forbidden(message: String) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.code, "message": self.message });
        let mut r = masked_json(self.status, &body);
        r.extensions_mut().insert(ErrorCode(self.code));
        if let Some(s) = self.retry_after {
            r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(s));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        r
    }
}

impl From<QueueError> for ApiError {
    fn from(e: QueueError) -> Self {
        let e = match e {
            QueueError::Store(s) => return s.into(),
            e => e,
        };
        let (status, code) = match &e {
            QueueError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found"),
            QueueError::ClaimedByOther { .. } => (StatusCode::CONFLICT, "claimed-by-other"),
            QueueError::NotClaimant { .. } => (StatusCode::CONFLICT, "not-claimant"),
            QueueError::Concurrent(_) => (StatusCode::CONFLICT, "concurrent-change"),
            QueueError::WrongState { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "wrong-state"),
            QueueError::FourEyes { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "four-eyes"),
            QueueError::Account { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "account-refused"),
            QueueError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
            QueueError::NoteLimit { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "too-many-notes"),
            QueueError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %mask_card_numbers(&e.to_string()), "store error");
        match e {
            StoreError::Unavailable(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the store is unavailable; retry".into(),
            ),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            StoreError::Corrupt(_) => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error".into())
            }
        }
    }
}

/// A JSON response whose text has every card number masked.
fn masked_json(status: StatusCode, body: &Value) -> Response {
    let text = mask_card_numbers(&body.to_string());
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

fn ok(body: Value) -> Response {
    masked_json(StatusCode::OK, &body)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m.to_string());
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("an Authorization: Bearer <token> header is required"))?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))?;
        state.tokens.authenticate(token).cloned().ok_or_else(|| unauthorized("unknown token"))
    }
}

/// Runs store work off the async workers (the ports are synchronous).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "handler task failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error".into())
    })?
}

/// The market named in the path, if the caller may read it (`403` naming what they work if not).
fn readable_market(caller: &Caller, market: &str, what: &str) -> Result<Market, ApiError> {
    let market = parse_market(market)?;
    if !caller.can_read(market) {
        return Err(ApiError::forbidden(format!(
            "{} works {}, not the {market} {what}",
            caller.analyst,
            markets_text(&caller.markets)
        )));
    }
    Ok(market)
}

fn parse_market(s: &str) -> Result<Market, ApiError> {
    s.parse::<Market>().map_err(|e| ApiError::new(StatusCode::NOT_FOUND, "not-found", e))
}

/// The item, when the caller may read its market.
fn readable_item(store: &dyn ApiStore, caller: &Caller, id: &str) -> Result<ResearchItem, ApiError> {
    let item = store.item(id)?.ok_or_else(|| QueueError::NotFound(mask_card_numbers(id)))?;
    if !caller.can_read(item.market) {
        return Err(ApiError::forbidden(format!(
            "{} works {}; research item {} is in the {} queue",
            caller.analyst,
            markets_text(&caller.markets),
            item.id,
            item.market
        )));
    }
    Ok(item)
}

fn markets_text(markets: &[Market]) -> String {
    let v: Vec<&str> = markets.iter().map(|m| m.code()).collect();
    if v.is_empty() {
        "no market".into()
    } else {
        v.join(", ")
    }
}

/// An item view: the item (masked), whether its claim holds now, and the payment's state.
fn item_view(item: &ResearchItem, now: DateTime<Utc>) -> Value {
    let claim = active_claim(item, now).map(|c| json!({ "analyst": c.analyst, "expires_at": c.expires_at }));
    let mut v = serde_json::to_value(item).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("active_claim".into(), claim.unwrap_or(Value::Null));
        o.insert("overdue".into(), Value::Bool(item.status.is_active() && item.due_at <= now));
    }
    v
}

async fn openapi_json() -> Response {
    ok(openapi_document())
}

async fn me(caller: Caller) -> Response {
    let readable: Vec<&str> = caller.readable_markets().iter().map(|m| m.code()).collect();
    ok(
        json!({ "analyst": caller.analyst, "role": caller.role, "markets": caller.markets, "reads": readable }),
    )
}

/// Query of `GET /api/reports/{market}/daily`.
#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    /// The market's local day, `YYYY-MM-DD`; today there by default.
    pub date: Option<String>,
}

async fn daily_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(market): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let market = readable_market(&caller, &market, "report")?;
    let tz = state.sla.calendar(market).time_zone;
    let date = match q.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| ApiError::bad_request(format!("date: {d:?} is not YYYY-MM-DD")))?,
        None => (state.clock)().with_timezone(&tz).date_naive(),
    };
    let store = state.store.clone();
    let report = blocking(move || Ok(report::daily(&*store, market, tz, date)?)).await?;
    let mut v = serde_json::to_value(&report).unwrap_or(Value::Null);
    v["reconciles"] = Value::Bool(report.reconciles());
    Ok(ok(v))
}

/// Query of `GET /api/queues/{market}/items`.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// Comma-separated statuses (default: the active ones).
    pub status: Option<String>,
    pub reason: Option<String>,
    pub claimed_by: Option<String>,
    /// RFC 3339.
    pub due_before: Option<String>,
    pub limit: Option<usize>,
}

fn parse_reason(s: &str) -> Result<ReasonCode, ApiError> {
    serde_json::from_value(Value::String(s.trim().to_ascii_lowercase()))
        .map_err(|_| ApiError::bad_request(format!("reason: unknown reason code {:?}", mask_card_numbers(s))))
}

async fn list_items(
    State(state): State<AppState>,
    caller: Caller,
    Path(market): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let market = readable_market(&caller, &market, "queue")?;
    let now = (state.clock)();
    let mut statuses = Vec::new();
    for s in q.status.iter().flat_map(|s| s.split(',')).filter(|s| !s.trim().is_empty()) {
        statuses.push(s.parse::<ItemStatus>().map_err(|e| ApiError::bad_request(format!("status: {e}")))?);
    }
    let due_before = q
        .due_before
        .as_deref()
        .map(|s| {
            DateTime::parse_from_rfc3339(s.trim())
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| ApiError::bad_request(format!("due_before: {s:?} is not an RFC 3339 instant")))
        })
        .transpose()?;
    let filter = QueueFilter {
        statuses,
        reason: q.reason.as_deref().map(parse_reason).transpose()?,
        claimed_by: q.claimed_by.clone(),
        due_before,
        now: Some(now),
    };
    let limit = q.limit.unwrap_or(100).clamp(1, remit_domain::ports::MAX_INDEX_RESULTS);
    let store = state.store.clone();
    let items = blocking(move || Ok(store.list(market, &filter, limit)?)).await?;
    let items: Vec<Value> = items.iter().map(|i| item_view(i, now)).collect();
    Ok(ok(json!({ "market": market, "count": items.len(), "items": items })))
}

/// Notes an item view shows: the latest ones (`GET /api/items/{id}/audit` pages through all).
pub const VIEW_NOTES: usize = 50;

/// What an item view shows of a trail: every entry but the notes older than the latest
/// `VIEW_NOTES` (issue 15: notes must never push an action out of sight), and how many notes
/// there are in all.
fn view_trail(trail: Vec<AuditEntry>) -> (Vec<AuditEntry>, usize) {
    let notes = trail.iter().filter(|e| e.action == AuditAction::Note).count();
    let mut older = notes.saturating_sub(VIEW_NOTES);
    let shown = trail
        .into_iter()
        .filter(|e| {
            let hidden = e.action == AuditAction::Note && older > 0;
            older -= usize::from(hidden);
            !hidden
        })
        .collect();
    (shown, notes)
}

async fn show_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let now = (state.clock)();
    let store = state.store.clone();
    blocking(move || {
        let item = readable_item(&*store, &caller, &id)?;
        let (audit, notes_total) = view_trail(store.audit_trail(&item.id)?);
        let notes: Vec<_> = audit.iter().filter(|e| e.action == AuditAction::Note).collect();
        let payment_state = store.payment_state(&item.payment_key)?.map(|s| s.as_str()).unwrap_or("unknown");
        let candidates = workbench::candidates_view(&*store, &item)?;
        let posting = workbench::posting_view(store.entry(&item.payment_key)?);
        let aliases = workbench::aliases_view(&*store, &item)?;
        Ok(ok(json!({
            "item": item_view(&item, now),
            "payment_state": payment_state,
            "candidate": item.candidate,
            "candidates": candidates,
            "posting": posting,
            "aliases": aliases,
            "reasons": item.reasons,
            "notes": notes,
            "notes_total": notes_total,
            "audit": audit,
            "audit_complete": notes.len() == notes_total,
            "can_act": caller.can_act(item.market),
        })))
    })
    .await
}

/// Entries per page of `GET /api/items/{id}/audit` by default, and at most.
const AUDIT_PAGE: (u64, u64) = (100, 500);

/// Query of `GET /api/items/{id}/audit`: numbers kept as text, so that a bad one is answered in
/// the API's own error shape.
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    /// The `seq` of the last entry already read (0, the default, for the first page).
    pub after: Option<String>,
    /// Entries per page (1 to 500, 100 by default).
    pub limit: Option<String>,
}

/// A whole number from the query, `default` when absent (400 naming the parameter if not one).
fn query_number(name: &str, value: Option<&str>, default: u64) -> Result<u64, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| ApiError::bad_request(format!("{name}: not a whole number"))),
    }
}

/// One page of an item's whole audit trail, oldest first, and where the next page starts.
async fn audit_page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let after = query_number("after", q.after.as_deref(), 0)?;
    let (default, max) = AUDIT_PAGE;
    let limit = query_number("limit", q.limit.as_deref(), default)?.clamp(1, max) as usize;
    let store = state.store.clone();
    blocking(move || {
        let item = readable_item(&*store, &caller, &id)?;
        // One more than asked: whether a next page exists, without an empty last request.
        let mut entries = store.audit_page(&item.id, after, limit + 1)?;
        let more = entries.len() > limit;
        entries.truncate(limit);
        let next = entries.last().map(|e| e.seq).filter(|_| more);
        Ok(ok(json!({ "item": item.id, "entries": entries, "next_after": next })))
    })
    .await
}

/// What a change needs beyond reading the item.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Needs {
    /// Analyst or lead of the item's market.
    Worker,
    /// A lead of the item's market.
    Lead,
    /// Anyone who reads the market (leadership included).
    Reader,
}

enum Op {
    Claim,
    Resolve(AccountNumber),
    /// Resolve to an account the workbench showed: a candidate or a search result, named by
    /// its token (`CardRef::stored`), or the item's candidate by rank.
    ResolveTo(ResolveTarget),
    /// A lead approves a resolve above the market's four-eyes limit (it posts then).
    ApproveResolve,
    Other(Action),
}

/// Checks the caller may make the change on the item, then makes it with the domain's
/// operation (the same the CLI uses) and answers the item as it is afterwards.
async fn change(
    state: AppState,
    caller: Caller,
    id: String,
    op: Op,
    needs: Needs,
) -> Result<Response, ApiError> {
    let now = (state.clock)();
    let store = state.store.clone();
    let policy = state.policy.clone();
    blocking(move || {
        let item = readable_item(&*store, &caller, &id)?;
        let allowed = match needs {
            Needs::Reader => true,
            Needs::Worker => caller.can_act(item.market),
            Needs::Lead => caller.can_act(item.market) && caller.role == Role::Lead,
        };
        if !allowed {
            let what = match needs {
                Needs::Lead => {
                    "only a lead of the market approves or rejects a write-off or a resolve above the four-eyes limit"
                }
                _ if caller.role == Role::Leadership => {
                    "leadership reads every queue and adds notes; it changes no item"
                }
                _ => "not a market the caller works",
            };
            return Err(ApiError::forbidden(format!("{}: {what} ({} queue)", caller.analyst, item.market)));
        }
        let s = &*store;
        let done = match &op {
            Op::Claim => queue::claim(s, &item.id, &caller.analyst, now, &policy)?,
            Op::Resolve(account) => {
                let card = s.card_key().card(account);
                queue::resolve_by_applying(s, &item.id, &card, &caller.analyst, now, &policy)?
            }
            Op::ResolveTo(target) => {
                let card = match target {
                    ResolveTarget::Ref(card) => *card,
                    ResolveTarget::Candidate(rank) => candidate_by_rank(&item, *rank)?,
                };
                queue::resolve_by_applying(s, &item.id, &card, &caller.analyst, now, &policy)?
            }
            Op::ApproveResolve => queue::approve_resolve(s, &item.id, &caller.analyst, now)?,
            Op::Other(action) => queue::act(s, &item.id, &caller.analyst, action, now, &policy)?,
        };
        Ok(ok(json!({ "item": item_view(&done.item, now), "changed": done.changed })))
    })
    .await
}

/// Parses a JSON body (an empty body is `{}`), answering 400 with the reason.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("request body: {}", mask_card_numbers(&e.to_string()))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

/// The body of a resolve: exactly one of the card number typed (`account`), an account the
/// workbench showed (`account_ref`, its token), or the item's candidate by rank (`candidate`,
/// 1 for the best).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveBody {
    account: Option<String>,
    account_ref: Option<String>,
    candidate: Option<usize>,
}

enum ResolveTarget {
    Ref(CardRef),
    Candidate(usize),
}

/// The item's candidate of rank `rank` (1 for the best), as the item view numbers them.
fn candidate_by_rank(item: &ResearchItem, rank: usize) -> Result<CardRef, ApiError> {
    let offered = item.offered_candidates();
    rank.checked_sub(1).and_then(|i| offered.get(i)).map(|c| c.account).ok_or_else(|| {
        ApiError::bad_request(format!("candidate: item {} has {} candidates", item.id, offered.len()))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    text: String,
}

/// The JSON body of a POST route on an item.
trait ItemBody: DeserializeOwned + Send + 'static {
    /// The card number the request looks up, if it does (resolve).
    fn card(&self) -> Option<&str> {
        None
    }

    /// Whether the request resolves (counted against the resolve rate, logged as a lookup).
    fn resolves(&self) -> bool {
        false
    }

    /// The card a resolve names other than by number (a workbench token), masked for the log.
    fn shown_card(&self) -> Option<String> {
        None
    }
}

impl ItemBody for Empty {}
impl ItemBody for ReasonBody {}
impl ItemBody for NoteBody {}

impl ItemBody for ResolveBody {
    fn card(&self) -> Option<&str> {
        self.account.as_deref()
    }

    fn resolves(&self) -> bool {
        true
    }

    fn shown_card(&self) -> Option<String> {
        self.account_ref.as_deref().and_then(|r| CardRef::from_stored(r).ok()).map(|c| c.masked())
    }
}

/// A POST route on an item: its JSON body read as `B` (400 if it is not), turned into the
/// operation, then `change` with what the caller needs to be allowed. A card lookup counts
/// against the caller's resolve rate (429 past it) and is left (masked) on the answer for the
/// access log, whatever the answer.
fn item_action<B: ItemBody>(needs: Needs, op: fn(B) -> Result<Op, ApiError>) -> MethodRouter<AppState> {
    post(move |State(s): State<AppState>, c: Caller, Path(id): Path<String>, b: Bytes| async move {
        let body = match body::<B>(&b) {
            Ok(body) => body,
            Err(e) => return e.into_response(),
        };
        let card = body.card().map(masked_card).or_else(|| body.shown_card()).map(CardLookup);
        let limited = match body.resolves() {
            true => s.resolve_limit.check(&c.analyst, (s.clock)()).err(),
            false => None,
        };
        let per_minute = s.policy.resolves_per_minute;
        let mut response = match (limited, op(body)) {
            (Some(wait), _) => {
                let what = format!("{}: more than {per_minute} resolves in a minute", c.analyst);
                ApiError::rate_limited(&what, wait).into_response()
            }
            (None, Ok(op)) => change(s, c, id, op, needs).await.into_response(),
            (None, Err(e)) => e.into_response(),
        };
        if let Some(card) = card {
            response.extensions_mut().insert(card);
        }
        response
    })
}

fn resolve_op(r: ResolveBody) -> Result<Op, ApiError> {
    match (r.account, r.account_ref, r.candidate) {
        (Some(raw), None, None) => {
            let account: AccountNumber = raw
                .parse()
                .map_err(|e| ApiError::bad_request(format!("account {}: {e}", mask_card_numbers(&raw))))?;
            Ok(Op::Resolve(account))
        }
        (None, Some(r), None) => {
            let card = CardRef::from_stored(r.trim()).map_err(|_| {
                ApiError::bad_request("account_ref: not an account the workbench showed".into())
            })?;
            Ok(Op::ResolveTo(ResolveTarget::Ref(card)))
        }
        (None, None, Some(rank)) => Ok(Op::ResolveTo(ResolveTarget::Candidate(rank))),
        _ => Err(ApiError::bad_request(
            "resolve: give exactly one of account (the card number), account_ref or candidate".into(),
        )),
    }
}
