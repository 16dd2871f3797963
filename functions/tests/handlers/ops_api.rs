//! The ops API function: the router as `remit serve` serves it, and idempotent retries.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use remit_domain::ports::{QueueOps, ResearchQueue};
use remit_domain::Market;
use remit_functions::ops_api::{tokens_from_text, OpsApi};
use remit_functions::settings::ChunkOrder;
use remit_ops_api::AppState;

use crate::support::{cpa005, deadline, now, s3_event, Env};

const TOKEN: &str = "ca-analyst-token-0123456789";

fn api() -> (Env, OpsApi, String) {
    let env = Env::new(1000, ChunkOrder::Sequential);
    env.objects.drop_file("ca/cpa005/mixed.txt", &cpa005(30));
    env.app.ingest_event(&s3_event("ca/cpa005/mixed.txt", None, "01"), deadline()).unwrap();
    let item = env.store.open_items(Market::CA, 1).unwrap().remove(0).id;
    let tokens = tokens_from_text(&format!(
        "[[token]]\ntoken = \"{TOKEN}\"\nanalyst = \"amelie.ca\"\nrole = \"analyst\"\nmarkets = [\"CA\"]\n"
    ))
    .unwrap();
    let store: Arc<dyn remit_ops_api::ApiStore> = env.store.clone();
    let api = OpsApi::new(AppState::new(store, tokens).with_clock(now));
    (env, api, item)
}

fn post(path: &str, key: Option<&str>) -> Request<Body> {
    let mut r = Request::post(path).header("authorization", format!("Bearer {TOKEN}"));
    if let Some(k) = key {
        r = r.header("idempotency-key", k);
    }
    r.body(Body::empty()).unwrap()
}

async fn text(r: axum::http::Response<Body>) -> (StatusCode, String) {
    let status = r.status();
    let body = to_bytes(r.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retried_request_with_an_idempotency_key_gets_the_first_answer() {
    let (env, api, item) = api();
    let path = format!("/api/items/{item}/claim");
    let first = text(api.handle(post(&path, Some("retry-1")), deadline()).await).await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    let again = text(api.handle(post(&path, Some("retry-1")), deadline()).await).await;
    assert_eq!(again, first);
    assert_eq!(env.store.audit_trail(&item).unwrap().len(), 1, "claimed once");

    // Another key is another request: it runs (a second claim by the same analyst).
    let other = text(api.handle(post(&path, Some("retry-2")), deadline()).await).await;
    assert_eq!(other.0, StatusCode::OK, "{}", other.1);
    assert_eq!(env.store.audit_trail(&item).unwrap().len(), 2);

    // A bad key is refused before anything runs.
    let long = "k".repeat(200);
    assert_eq!(text(api.handle(post(&path, Some(&long)), deadline()).await).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_and_unkeyed_requests_go_straight_to_the_router() {
    let (_env, api, _) = api();
    let doc = api.handle(Request::get("/api/openapi.json").body(Body::empty()).unwrap(), deadline()).await;
    assert_eq!(doc.status(), StatusCode::OK);
    let me = text(api.handle(post("/api/me", None), deadline()).await).await;
    assert_eq!(me.0, StatusCode::METHOD_NOT_ALLOWED);
    let unauthenticated =
        Request::post("/api/items/x/claim").header("idempotency-key", "a").body(Body::empty()).unwrap();
    let (status, body) = text(api.handle(unauthenticated, deadline()).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[test]
fn an_empty_token_table_is_refused() {
    assert!(tokens_from_text("").is_err());
    assert!(tokens_from_text(
        "[[token]]\ntoken = \"short\"\nanalyst = \"a\"\nrole = \"analyst\"\nmarkets = [\"CA\"]\n"
    )
    .is_err());
}

/// Issue 15: the Lambda's own answers (a replayed keyed request, a refused key) are no-store
/// and nosniff like the router's.
#[tokio::test(flavor = "multi_thread")]
async fn replayed_and_refused_answers_are_no_store_and_nosniff() {
    let (_env, api, item) = api();
    let path = format!("/api/items/{item}/claim");
    let long = "k".repeat(200);
    for key in ["retry-1", "retry-1", long.as_str()] {
        let r = api.handle(post(&path, Some(key)), deadline()).await;
        assert_eq!(r.headers().get("cache-control").unwrap(), "no-store", "{key}");
        assert_eq!(r.headers().get("x-content-type-options").unwrap(), "nosniff", "{key}");
    }
}
