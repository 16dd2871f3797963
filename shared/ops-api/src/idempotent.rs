//! The ops API with idempotent retries, as both listeners serve it (the Lambda behind API
//! Gateway, `remit serve` on a local socket).
//!
//! Idempotent retries: a changing request (`POST`, `PUT`, `PATCH`, `DELETE`) that carries an
//! `Idempotency-Key` header runs once under `run_once`, keyed by a hash of the caller's
//! `Authorization` header, the method, the path and query, the key and the body; a retry of the
//! same request (a client that lost the answer) gets the first answer back instead of running
//! again. Answers of 500 and above, and 429 (a rate limit: later, the same request may pass), are
//! not kept, so a retry after a failure runs again. Without
//! the header a request goes straight to the router (queue actions are conditional on the
//! item's version anyway, so a blind retry is refused with 409 rather than applied twice).
//!
//! Every request answered here leaves one line in the access log (`crate::access`), a replay too
//! (marked `replayed`: it looks nothing up again).

use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Body};
use axum::http::{header, HeaderValue, Method, Request, Response, StatusCode};
use axum::Router;
use chrono::{DateTime, Utc};
use remit_domain::idempotency::{run_once, IdempotencyError, IdempotencyKey, DEFAULT_RECORD_TTL};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

use crate::access::{Access, ErrorCode, Facts};
use crate::{router, ApiStore, AppState, Clock, Tokens};

/// The header naming a retry-safe request.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Largest request body read (the API's bodies are a few hundred bytes).
pub const MAX_BODY: usize = 1024 * 1024;

/// The router and what the idempotency layer needs, built once per cold start.
#[derive(Clone)]
pub struct OpsApi {
    router: Router,
    store: Arc<dyn ApiStore>,
    clock: Clock,
    /// Who a request is from, for the access log.
    tokens: Arc<Tokens>,
}

/// A response as kept for a retry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct SavedResponse {
    status: u16,
    content_type: Option<String>,
    /// `Retry-After`, when the answer says to wait (absent from records kept before it was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<String>,
    body: String,
}

impl SavedResponse {
    async fn read(response: Response<Body>) -> Result<Self, Self> {
        let status = response.status().as_u16();
        let text = |name| {
            response.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::to_string)
        };
        let (content_type, retry_after) = (text(header::CONTENT_TYPE), text(header::RETRY_AFTER));
        let bytes = to_bytes(response.into_body(), MAX_BODY).await.map_err(|_| {
            Self::error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "response body unreadable")
        })?;
        let body = String::from_utf8(bytes.to_vec()).map_err(|_| {
            Self::error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "response body is not text")
        })?;
        Ok(Self { status, content_type, retry_after, body })
    }

    fn into_response(self) -> Response<Body> {
        let mut r = Response::new(Body::from(self.body));
        *r.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        for (name, value) in
            [(header::CONTENT_TYPE, self.content_type), (header::RETRY_AFTER, self.retry_after)]
        {
            if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                r.headers_mut().insert(name, v);
            }
        }
        crate::no_store_headers(r.headers_mut());
        r
    }
}

impl SavedResponse {
    /// An answer in the API's error shape: `{"error": code, "message": text}`.
    fn error(status: StatusCode, code: &str, message: &str) -> Self {
        Self {
            status: status.as_u16(),
            content_type: Some("application/json".into()),
            retry_after: None,
            body: serde_json::json!({ "error": code, "message": message }).to_string(),
        }
    }
}

/// An error answer in the API's shape.
fn error(status: StatusCode, code: &'static str, message: &str) -> Response<Body> {
    let mut r = SavedResponse::error(status, code, message).into_response();
    r.extensions_mut().insert(ErrorCode(code));
    r
}

impl OpsApi {
    /// The router over `state`.
    pub fn new(state: AppState) -> Self {
        let store = state.store.clone();
        let clock: Clock = state.clock.clone();
        let tokens = state.tokens.clone();
        Self { router: router(state), store, clock, tokens }
    }

    /// Answers one request and logs it (`crate::access`); `deadline` is the invocation's (an
    /// idempotent request holds its key until then).
    pub async fn handle(&self, request: Request<Body>, deadline: DateTime<Utc>) -> Response<Body> {
        let access = Access::of(request.method(), request.uri().path(), request.headers(), &self.tokens);
        let (response, replayed) = self.answer(request, deadline).await;
        access.log(&response, replayed);
        response
    }

    /// The answer, and whether it is a replay of an earlier run's.
    async fn answer(&self, request: Request<Body>, deadline: DateTime<Utc>) -> (Response<Body>, bool) {
        let changes = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let Some(idem) = request.headers().get(IDEMPOTENCY_KEY).cloned().filter(|_| changes) else {
            return (self.router.clone().oneshot(request).await.unwrap_or_else(|e| match e {}), false);
        };
        let idem = match idem.to_str() {
            Ok(k) if !k.is_empty() && k.len() <= 128 => k.to_string(),
            _ => {
                let message = "Idempotency-Key must be 1 to 128 visible characters";
                return (error(StatusCode::BAD_REQUEST, "bad-request", message), false);
            }
        };
        let (parts, body) = request.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
            return (error(StatusCode::PAYLOAD_TOO_LARGE, "too-large", "request body too large"), false);
        };
        let mut h = Sha256::new();
        let auth = parts.headers.get(header::AUTHORIZATION).map(|v| v.as_bytes()).unwrap_or_default();
        let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or_default();
        for part in [auth, parts.method.as_str().as_bytes(), path.as_bytes(), idem.as_bytes(), &bytes[..]] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        let key = IdempotencyKey::ops_request(&h.finalize());

        let (router, store, now) = (self.router.clone(), self.store.clone(), (self.clock)());
        // The router's own handlers run on this runtime (multi-threaded, as `#[tokio::main]`
        // builds it: a current-thread runtime's handle cannot drive I/O from another thread).
        let runtime = tokio::runtime::Handle::current();
        // What the access log needs of the router's answer, when the router runs (not a replay).
        let facts: Arc<Mutex<Option<Facts>>> = Arc::default();
        let noted = facts.clone();
        let ran = tokio::task::spawn_blocking(move || {
            run_once(&*store, &key, now, deadline, DEFAULT_RECORD_TTL, || {
                let request = Request::from_parts(parts, Body::from(bytes));
                let response = runtime.block_on(router.oneshot(request)).unwrap_or_else(|e| match e {});
                *noted.lock().unwrap_or_else(|p| p.into_inner()) = Some(Facts::of(&response));
                let saved = runtime.block_on(SavedResponse::read(response)).map_err(Failed)?;
                if saved.status >= 500 || saved.status == StatusCode::TOO_MANY_REQUESTS.as_u16() {
                    return Err(Failed(saved));
                }
                Ok(saved)
            })
        })
        .await;
        let facts = facts.lock().unwrap_or_else(|p| p.into_inner()).take();
        let (saved, replayed) = match ran {
            Ok(Ok(saved)) => (saved, facts.is_none()),
            Ok(Err(IdempotencyError::Operation(Failed(response)))) => (response, false),
            Ok(Err(IdempotencyError::InProgress { .. })) => {
                let message = "a request with this Idempotency-Key is still running; retry later";
                return (error(StatusCode::CONFLICT, "in-progress", message), false);
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "idempotency record");
                let message = "store unavailable, retry later";
                return (error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message), false);
            }
            Err(e) => {
                tracing::error!(error = %e, "ops API task failed");
                return (error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error"), false);
            }
        };
        let mut response = saved.into_response();
        if let Some(facts) = facts {
            facts.put(&mut response);
        }
        (response, replayed)
    }
}

/// A response not worth keeping (a server error): returned as is, and the key freed.
struct Failed(SavedResponse);

impl std::fmt::Debug for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Failed({})", self.0.status)
    }
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "answered {}", self.0.status)
    }
}
