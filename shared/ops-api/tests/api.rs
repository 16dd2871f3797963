//! The ops API driven in-process (`tower::ServiceExt::oneshot`, no network) over an in-memory
//! SQLite store seeded with the sample accounts and the CA, IN and EU sample files.

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use chrono::Utc;
use http_body_util::BodyExt;
use remit_domain::ports::AccountDirectory;
use remit_domain::ports::Ledger;
use remit_domain::AccountNumber;
use remit_ops_api::{router, AppState, Caller, OpsApi, Role, Tokens};
use remit_store_sqlite::{SqliteStore, Table};
use serde_json::{json, Value};
use tower::ServiceExt;

const CA: &str = "ca-analyst-token-0001";
const CA2: &str = "ca-analyst-token-0002";
const CA_LEAD: &str = "ca-lead-token-000001";
const IN: &str = "in-analyst-token-0001";
const BOSS: &str = "leadership-token-0001";
const BOSS2: &str = "leadership-token-0002";

/// A CAD card, active, in the directory (Marie-Ève Côté).
const CAD_CARD: &str = "346613186091396";

struct App {
    router: Router,
    /// The same router behind the idempotency layer and access log, as both listeners serve it.
    api: OpsApi,
    store: Arc<SqliteStore>,
}

fn app() -> App {
    app_with(|s| s)
}

/// The app over a state `tune` adjusts (a clock, a policy).
fn app_with(tune: impl FnOnce(AppState) -> AppState) -> App {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples");
    remit::local::import_accounts(&*store, &samples.join("accounts.csv")).unwrap();
    for f in [
        "ca/cpa005-rbc-20260315.txt",
        "in/india_ecollect_mis_20261121.csv",
        "eu/camt054-v02-sepa-credits.xml",
    ] {
        remit::local::ingest_path(&*store, &samples.join(f), Utc::now(), &Default::default(), |_| {})
            .unwrap();
    }
    let caller = |analyst: &str, role, markets: &[remit_domain::Market]| Caller {
        analyst: analyst.into(),
        role,
        markets: markets.to_vec(),
    };
    use remit_domain::Market::{CA as MCA, IN as MIN};
    let mut tokens = Tokens::new();
    tokens.insert(CA, caller("amelie.ca", Role::Analyst, &[MCA]));
    tokens.insert(CA2, caller("bruno.ca", Role::Analyst, &[MCA]));
    tokens.insert(CA_LEAD, caller("chloe.lead", Role::Lead, &[MCA]));
    tokens.insert(IN, caller("priya.in", Role::Analyst, &[MIN]));
    tokens.insert(BOSS, caller("dana.vp", Role::Leadership, &[]));
    tokens.insert(BOSS2, caller("erin.vp", Role::Leadership, &[]));
    let state = tune(AppState::new(store.clone(), tokens));
    App { router: router(state.clone()), api: OpsApi::new(state), store }
}

impl App {
    async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        let resp = self.router.clone().oneshot(req.body(body).unwrap()).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        // Issue 15: no card-shaped number in any answer, Luhn-valid or not, however written.
        assert!(
            !remit_domain::text::masking::holds_card_number(&text),
            "a card number in clear in {uri}: {text}"
        );
        for card in [CAD_CARD, "372601815908301", "349960308246284", "372527601895552"] {
            assert!(!text.contains(card), "unmasked card number in {uri}: {text}");
        }
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn get(&self, uri: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call(Method::GET, uri, token, None).await
    }

    async fn post(&self, uri: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, uri, token, Some(body)).await
    }

    /// The id of the first item of `market`'s queue with this reason code.
    async fn item(&self, market: &str, reason: &str) -> String {
        let (s, v) = self.get(&format!("/api/queues/{market}/items?reason={reason}"), Some(BOSS)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["items"][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no {reason} item in {market}: {v}"))
            .to_string()
    }
}

#[tokio::test]
async fn a_canada_analyst_gets_403_on_indias_queue_and_items() {
    let app = app();
    let (s, v) = app.get("/api/queues/IN/items", Some(CA)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["error"], "forbidden");

    let in_item = app.item("IN", "unknown-account").await;
    let (s, _) = app.get(&format!("/api/items/{in_item}"), Some(CA)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = app.post(&format!("/api/items/{in_item}/claim"), Some(CA), json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = app.post(&format!("/api/items/{in_item}/notes"), Some(CA), json!({"text": "mine?"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    // Nothing was written: no claim, no audit entry.
    let (_, v) = app.get(&format!("/api/items/{in_item}"), Some(IN)).await;
    assert_eq!(v["item"]["version"], 0);
    assert_eq!(v["audit"].as_array().unwrap().len(), 0);
    assert!(v["item"]["active_claim"].is_null());

    // Their own queue reads fine, and India's analyst reads India's.
    let (s, v) = app.get("/api/queues/CA/items", Some(CA)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        v["count"].as_u64().unwrap() > 0
            && v["items"].as_array().unwrap().iter().all(|i| i["market"] == "CA")
    );
    let (s, _) = app.get("/api/queues/IN/items", Some(IN)).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.get("/api/queues/CA/items", Some(IN)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn leadership_reads_every_market_and_only_notes() {
    let app = app();
    for m in ["CA", "IN", "EU"] {
        let (s, v) = app.get(&format!("/api/queues/{m}/items"), Some(BOSS)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(v["count"].as_u64().unwrap() > 0, "{m}: {v}");
    }
    let in_item = app.item("IN", "unknown-account").await;
    let (s, v) = app.get(&format!("/api/items/{in_item}"), Some(BOSS)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["can_act"], false);
    let (s, _) = app.post(&format!("/api/items/{in_item}/claim"), Some(BOSS), json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = app
        .post(&format!("/api/items/{in_item}/notes"), Some(BOSS), json!({"text": "why is this old?"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = app.get(&format!("/api/items/{in_item}"), Some(IN)).await;
    assert_eq!(v["notes"][0]["actor"], "dana.vp");
    let (s, v) = app.get("/api/me", Some(BOSS)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["reads"], json!(["CA", "IN", "EU"]));
}

#[tokio::test]
async fn no_token_or_a_bad_one_is_401() {
    let app = app();
    let (s, v) = app.get("/api/queues/CA/items", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["error"], "unauthorized");
    let (s, _) = app.get("/api/queues/CA/items", Some("not-a-token-at-all")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = app.post("/api/items/RQ-CA-x/claim", None, json!({})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let req = Request::get("/api/queues/CA/items").header("authorization", format!("Basic {CA}"));
    let resp = app.router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn claim_then_resolve_posts_once_and_the_audit_trail_shows_both() {
    let app = app();
    let id = app.item("CA", "no-reference").await;
    let card = app.store.card_key().card(&CAD_CARD.parse::<AccountNumber>().unwrap());
    let ledger = app.store.count(Table::Ledger).unwrap();
    let posted = app.store.posted_total(&card).unwrap();

    // Resolving without a claim is refused; claiming works; another analyst cannot claim it.
    let (s, v) = app.post(&format!("/api/items/{id}/resolve"), Some(CA), json!({"account": CAD_CARD})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"], "not-claimant");
    let (s, v) = app.post(&format!("/api/items/{id}/claim"), Some(CA), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["item"]["active_claim"]["analyst"], "amelie.ca");
    let (s, v) = app.post(&format!("/api/items/{id}/claim"), Some(CA2), json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"], "claimed-by-other");

    let (s, v) = app.post(&format!("/api/items/{id}/resolve"), Some(CA), json!({"account": CAD_CARD})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["item"]["status"], "resolved");
    assert_eq!(v["changed"], true);
    assert_eq!(v["item"]["disposition"]["account"], "***********1396");
    assert_eq!(app.store.count(Table::Ledger).unwrap(), ledger + 1);

    // A retry (double click) posts nothing more; another account is refused.
    let (s, v) = app.post(&format!("/api/items/{id}/resolve"), Some(CA), json!({"account": CAD_CARD})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["changed"], false);
    let (s, v) =
        app.post(&format!("/api/items/{id}/resolve"), Some(CA), json!({"account": "372601815908301"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"], "wrong-state");
    assert_eq!(app.store.count(Table::Ledger).unwrap(), ledger + 1);
    assert_eq!(app.store.posted_total(&card).unwrap(), posted + rust_decimal::Decimal::new(4217, 2));

    let (s, v) = app.get(&format!("/api/items/{id}"), Some(CA2)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["payment_state"], "applied");
    let actions: Vec<&str> =
        v["audit"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["claim", "resolve"]);
    assert_eq!(v["audit"][1]["after"]["account"], "***********1396");
}

#[tokio::test]
async fn refusals_map_to_status_codes() {
    let app = app();
    let (s, v) = app.get("/api/items/RQ-CA-000000000000", Some(CA)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (s, _) = app.get("/api/queues/XX/items", Some(CA)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = app.get("/api/queues/CA/items?status=bogus", Some(CA)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    // A debit cannot be applied to a card: the domain refuses (422), naming why.
    let debit = app.item("CA", "debit").await;
    app.post(&format!("/api/items/{debit}/claim"), Some(CA), json!({})).await;
    let (s, v) =
        app.post(&format!("/api/items/{debit}/resolve"), Some(CA), json!({"account": CAD_CARD})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"], "account-refused");
    // A bad account number or body is 400, the number masked in the message.
    let (s, v) = app.post(&format!("/api/items/{debit}/resolve"), Some(CA), json!({"account": "1234"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, _) = app.post(&format!("/api/items/{debit}/return"), Some(CA), json!({"why": "x"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v) = app.post(&format!("/api/items/{debit}/return"), Some(CA), json!({"reason": " "})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    // Filters: claimed_by finds the claimed debit.
    let (_, v) = app.get("/api/queues/CA/items?claimed_by=amelie.ca", Some(CA)).await;
    assert_eq!(v["count"], 1);
    assert_eq!(v["items"][0]["id"], debit.as_str());
    let (s, v) =
        app.post(&format!("/api/items/{debit}/return"), Some(CA), json!({"reason": "a debit"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["item"]["status"], "returned");
    let (_, v) = app.get("/api/queues/CA/items?status=returned", Some(CA)).await;
    assert_eq!(v["items"][0]["id"], debit.as_str());
}

#[tokio::test]
async fn write_offs_need_a_lead_other_than_the_requester() {
    let app = app();
    let id = app.item("CA", "account-closed").await;
    let base = format!("/api/items/{id}");
    assert_eq!(app.post(&format!("{base}/claim"), Some(CA), json!({})).await.0, StatusCode::OK);
    let (s, v) =
        app.post(&format!("{base}/write-off"), Some(CA), json!({"reason": "closed, unreachable"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["item"]["status"], "write-off-pending");
    // An analyst (even another one) does not approve; a lead does.
    assert_eq!(
        app.post(&format!("{base}/write-off/approve"), Some(CA2), json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, v) = app.post(&format!("{base}/write-off/approve"), Some(CA_LEAD), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["item"]["status"], "written-off");
    assert_eq!(v["item"]["disposition"]["approved_by"], "chloe.lead");
    let (s, v) = app.post(&format!("{base}/write-off/reject"), Some(CA_LEAD), json!({"reason": "no"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    // Escalate and release on another item.
    let other = app.item("CA", "no-reference").await;
    app.post(&format!("/api/items/{other}/claim"), Some(CA2), json!({})).await;
    assert_eq!(
        app.post(&format!("/api/items/{other}/release"), Some(CA2), json!({})).await.0,
        StatusCode::OK
    );
    app.post(&format!("/api/items/{other}/claim"), Some(CA), json!({})).await;
    let (s, v) =
        app.post(&format!("/api/items/{other}/escalate"), Some(CA), json!({"reason": "payer unknown"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["item"]["status"], "escalated");
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let app = app();
    let (s, doc) = app.get("/api/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let expected = [
        ("/api/openapi.json", "get"),
        ("/api/me", "get"),
        ("/api/queues/{market}/items", "get"),
        ("/api/items/{id}", "get"),
        ("/api/items/{id}/audit", "get"),
        ("/api/reports/{market}/daily", "get"),
        ("/api/items/{id}/claim", "post"),
        ("/api/items/{id}/release", "post"),
        ("/api/items/{id}/resolve", "post"),
        ("/api/items/{id}/return", "post"),
        ("/api/items/{id}/escalate", "post"),
        ("/api/items/{id}/notes", "post"),
        ("/api/items/{id}/write-off", "post"),
        ("/api/items/{id}/write-off/approve", "post"),
        ("/api/items/{id}/write-off/reject", "post"),
        ("/api/items/{id}/resolve/approve", "post"),
        ("/api/items/{id}/resolve/reject", "post"),
        ("/api/items/{id}/history", "get"),
        ("/api/search/{market}", "get"),
        ("/api/team/{market}", "get"),
    ];
    let paths = doc["paths"].as_object().unwrap();
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(documented, expected.len());
    for (path, method) in expected {
        assert!(paths[path][method].is_object(), "{method} {path} not documented");
        // And the router serves it (the fallback answers "no such route").
        let uri = path.replace("{market}", "CA").replace("{id}", "RQ-CA-000000000000");
        let m = if method == "get" { Method::GET } else { Method::POST };
        let (_, v) = app.call(m, &uri, Some(CA), Some(json!({}))).await;
        assert_ne!(v["message"], "no such route", "{method} {path}");
    }
    // Every $ref resolves.
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &r[..r.find('"').unwrap()];
        assert!(doc["components"]["schemas"][name].is_object(), "{name}");
    }
    let (_, v) = app.get("/api/nope", Some(CA)).await;
    assert_eq!(v["message"], "no such route");
}

#[test]
fn the_example_token_file_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/tokens.example.toml");
    let tokens = Tokens::load(&path).unwrap();
    assert_eq!(tokens.len(), 4);
    let boss = tokens.authenticate("example-leadership-token").unwrap();
    assert_eq!(boss.role, Role::Leadership);
    assert!(tokens.authenticate("example-ca-analyst-tokeN").is_none());
}

/// The daily control report through the API: scoped like the queues, reconciling, and following
/// each queued payment to what an analyst made of it (applied since, returned since, still open).
#[tokio::test]
async fn the_daily_report_follows_queued_payments_to_their_outcome() {
    let app = app();
    let today = Utc::now().with_timezone(&chrono_tz::America::Toronto).date_naive();
    let uri = format!("/api/reports/CA/daily?date={today}");
    let (s, v) = app.get("/api/reports/IN/daily", Some(CA)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = app.get("/api/reports/CA/daily?date=21-11-2026", Some(CA)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    let (s, before) = app.get(&uri, Some(CA)).await;
    assert_eq!(s, StatusCode::OK, "{before}");
    assert_eq!(before["reconciles"], true, "{before}");
    let line =
        |v: &Value| v["lines"].as_array().unwrap().iter().find(|l| l["currency"] == "CAD").unwrap().clone();
    let l0 = line(&before);
    assert!(l0["queued_count"].as_u64().unwrap() >= 2, "{l0}");
    assert_eq!(l0["still_open_count"], l0["queued_count"]);
    assert_eq!(l0["still_open"], l0["queued"]);

    let resolved = app.item("CA", "no-reference").await;
    let (_, v) = app.get("/api/queues/CA/items", Some(CA)).await;
    let returned =
        v["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).find(|&id| id != resolved);
    let returned = returned.expect("a second CA item").to_string();
    app.post(&format!("/api/items/{resolved}/claim"), Some(CA), json!({})).await;
    let (s, v) =
        app.post(&format!("/api/items/{resolved}/resolve"), Some(CA), json!({"account": CAD_CARD})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    app.post(&format!("/api/items/{returned}/claim"), Some(CA), json!({})).await;
    let (s, v) =
        app.post(&format!("/api/items/{returned}/return"), Some(CA), json!({"reason": "not our card"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let (_, after) = app.get(&uri, Some(BOSS)).await;
    assert_eq!(after["reconciles"], true, "{after}");
    let l1 = line(&after);
    assert_eq!(l1["queued_count"], l0["queued_count"], "the file's own figures do not move");
    assert_eq!(l1["since_applied_count"], 1, "{l1}");
    assert_eq!(l1["since_returned_count"], 1, "{l1}");
    assert_eq!(l1["still_open_count"].as_u64().unwrap() + 2, l0["queued_count"].as_u64().unwrap());
    let dec = |k: &str| l1[k].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap();
    assert_eq!(
        dec("since_applied") + dec("since_returned") + dec("since_written_off") + dec("still_open"),
        dec("queued")
    );
}

/// Issue 15: responses carrying payment data had no `Cache-Control: no-store` and no
/// `X-Content-Type-Options: nosniff`. Every answer has both: data, errors, the console page.
#[tokio::test]
async fn every_response_is_no_store_and_nosniff() {
    let app = app();
    let cases: [(&str, Option<&str>); 5] = [
        ("/api/queues/CA/items", Some(CA)),
        ("/api/queues/CA/items", None),
        ("/api/queues/IN/items", Some(CA)),
        ("/api/nowhere", Some(CA)),
        ("/", None),
    ];
    for (uri, token) in cases {
        let mut req = Request::get(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let resp = app.router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        let h = resp.headers();
        assert_eq!(
            h.get("cache-control").map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{uri} {}",
            resp.status()
        );
        assert_eq!(h.get("x-content-type-options").map(|v| v.to_str().unwrap()), Some("nosniff"), "{uri}");
    }
}

/// Issue 15: resolve on a resolved item was an oracle: 200 for the right card, an error for any
/// other, without a claim. Anyone but the resolver's own retry now gets one answer whatever the
/// card; and a card of another market answers as one that does not exist.
#[tokio::test]
async fn resolve_tells_nothing_about_which_card_or_what_exists_elsewhere() {
    let app = app();
    let id = app.item("CA", "no-reference").await;
    app.post(&format!("/api/items/{id}/claim"), Some(CA), json!({})).await;
    let (s, v) = app.post(&format!("/api/items/{id}/resolve"), Some(CA), json!({"account": CAD_CARD})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let resolve = |card: &'static str| {
        let app = &app;
        let id = id.clone();
        async move { app.post(&format!("/api/items/{id}/resolve"), Some(CA2), json!({"account": card})).await }
    };
    let right = resolve(CAD_CARD).await;
    let wrong = resolve("372601815908301").await;
    assert_eq!(right.0, wrong.0, "{right:?} {wrong:?}");
    assert_eq!(right.1["error"], wrong.1["error"]);
    assert_eq!(
        right.1["message"].as_str().unwrap().replace("***********1396", "X"),
        wrong.1["message"].as_str().unwrap().replace("***********8301", "X"),
    );

    // Another market's card and a card that does not exist: one answer.
    let (_, list) = app.get("/api/queues/CA/items", Some(BOSS)).await;
    let payment = |i: &&Value| !matches!(i["reason_code"].as_str(), Some("debit" | "reversal"));
    let items = list["items"].as_array().unwrap();
    let open = items
        .iter()
        .find(payment)
        .and_then(|i| i["id"].as_str())
        .expect("an open CA payment item")
        .to_string();
    app.post(&format!("/api/items/{open}/claim"), Some(CA2), json!({})).await;
    let india = "343194875749118";
    let (s1, v1) =
        app.post(&format!("/api/items/{open}/resolve"), Some(CA2), json!({"account": india})).await;
    let (s2, v2) = app
        .post(&format!("/api/items/{open}/resolve"), Some(CA2), json!({"account": "340000000000009"}))
        .await;
    assert_eq!((s1, v1["error"].clone()), (s2, v2["error"].clone()));
    assert_eq!(
        v1["message"].as_str().unwrap().replace("***********9118", "X"),
        v2["message"].as_str().unwrap().replace("***********0009", "X"),
        "{v1} {v2}"
    );
    assert!(v2["message"].as_str().unwrap().contains("no such account in the CA directory"), "{v2}");
}

/// Issue 15: anyone who reads a market (leadership included) could post 1,000 notes and push a
/// later claim or resolve out of the item view (the trail stopped at 1,000 entries). Notes are
/// now limited per item and per person, and the view shows every action whatever the notes.
#[tokio::test]
async fn a_thousand_notes_then_a_resolve_and_the_resolve_is_visible() {
    let app = app();
    let id = app.item("CA", "no-reference").await;
    let notes = format!("/api/items/{id}/notes");
    let mut refused = Vec::new();
    for i in 0..1000 {
        let (s, v) = app.post(&notes, Some(BOSS), json!({ "text": format!("note {i}") })).await;
        if s != StatusCode::OK {
            refused.push((s, v));
        }
    }
    // Everyone else who reads CA writes up to their own limit, until the item is full.
    for token in [CA2, CA_LEAD, CA, BOSS2] {
        for i in 0..50 {
            let (s, v) = app.post(&notes, Some(token), json!({ "text": format!("mine {i}") })).await;
            if s != StatusCode::OK {
                refused.push((s, v));
            }
        }
    }
    let (s, v) = app.post(&format!("/api/items/{id}/claim"), Some(CA), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = app.post(&format!("/api/items/{id}/resolve"), Some(CA), json!({"account": CAD_CARD})).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let (s, view) = app.get(&format!("/api/items/{id}"), Some(CA2)).await;
    assert_eq!(s, StatusCode::OK);
    let audit = view["audit"].as_array().unwrap();
    let actions: Vec<&str> =
        audit.iter().map(|e| e["action"].as_str().unwrap()).filter(|a| *a != "note").collect();
    assert_eq!(actions, ["claim", "resolve"], "the resolve is not in the item view");
    assert_eq!(view["item"]["status"], "resolved");

    // 1,200 notes asked for: 50 from leadership's first reader, 50 each from the next three,
    // then the item is full; every other one refused, saying why.
    assert_eq!(refused.len(), 1200 - 200, "{:?}", refused.first());
    assert!(refused
        .iter()
        .all(|(s, v)| *s == StatusCode::UNPROCESSABLE_ENTITY && v["error"] == "too-many-notes"));
    let (_, first) = &refused[0];
    assert!(first["message"].as_str().unwrap().contains("dana.vp wrote 50 notes"), "{first}");
    let (_, last) = refused.last().unwrap();
    assert!(last["message"].as_str().unwrap().contains("holds 200 notes"), "{last}");
    // The view: every action, the latest notes, and how many there are in all.
    assert_eq!(view["notes_total"], 200);
    assert_eq!(view["notes"].as_array().unwrap().len(), 50);
    assert_eq!(view["notes"][49]["note"], "mine 49");
    assert_eq!(view["audit_complete"], false);

    // The whole trail, page by page.
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let (s, page) = app.get(&format!("/api/items/{id}/audit?after={after}&limit=64"), Some(BOSS)).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        seen.extend(page["entries"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()));
        match page["next_after"].as_u64() {
            Some(n) => after = n,
            None => break,
        }
    }
    assert_eq!(seen, (1..=202).collect::<Vec<u64>>());
    let (s, _) = app.get(&format!("/api/items/{id}/audit"), Some(IN)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = app.get(&format!("/api/items/{id}/audit?after=x"), Some(CA)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}

/// A `tracing` writer into a buffer shared with the test.
#[derive(Clone, Default)]
struct LogBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl LogBuffer {
    /// The access log's lines so far.
    fn access_lines(&self) -> Vec<String> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines().filter(|l| l.contains("remit::access")).map(str::to_string).collect()
    }
}

impl App {
    /// A request through `OpsApi` (as `remit serve` and the Lambda answer it): status and body.
    async fn handle(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri).header("content-type", "application/json");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let deadline = Utc::now() + chrono::Duration::minutes(1);
        let resp = self.api.handle(req.body(Body::from(body.to_string())).unwrap(), deadline).await;
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}

/// Issue 15 (PCI DSS 10.2): 401s, 403s and card lookups left no log line. Every request through
/// `OpsApi` leaves one on the `remit::access` target: who, method, route template, item or
/// market, status; a resolve is marked as a card lookup with the card masked to its last four.
/// (Multi-threaded, as the idempotency layer needs; the test's own thread still runs `handle`,
/// so the thread's subscriber sees its lines.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_a_401_and_a_card_lookup_each_leave_an_access_log_line() {
    let app = app();
    let log = LogBuffer::default();
    let subscriber = tracing_subscriber::fmt().with_writer(log.clone()).with_ansi(false).finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (s, _) = app.handle(Method::GET, "/api/queues/IN/items", Some(CA), Value::Null).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let lines = log.access_lines();
    assert_eq!(lines.len(), 1, "no access log line for a 403: {lines:?}");
    let l = &lines[0];
    for part in ["amelie.ca", "GET", "/api/queues/{market}/items", "IN", "status=403", "forbidden"] {
        assert!(l.contains(part), "{part} not in {l}");
    }

    let (s, _) = app.handle(Method::GET, "/api/me", None, Value::Null).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = app.handle(Method::GET, "/api/me", Some("a-token-nobody-has"), Value::Null).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let lines = log.access_lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[1..].iter().all(|l| l.contains("anonymous") && l.contains("status=401")), "{lines:?}");

    // A card lookup: the card masked to its last four, whatever the answer.
    let id = app.item("CA", "no-reference").await;
    app.handle(Method::POST, &format!("/api/items/{id}/claim"), Some(CA), json!({})).await;
    let (s, v) = app
        .handle(Method::POST, &format!("/api/items/{id}/resolve"), Some(CA), json!({"account": CAD_CARD}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let lines = log.access_lines();
    let l = lines.last().unwrap();
    for part in [
        "amelie.ca",
        "POST",
        "/api/items/{id}/resolve",
        id.as_str(),
        "status=200",
        "card_lookup=true",
        "1396",
    ] {
        assert!(l.contains(part), "{part} not in {l}");
    }
    // A card number in the path is masked; the raw path is never logged.
    let (s, _) = app.handle(Method::GET, "/api/items/3726%20018159%2008301", Some(CA), Value::Null).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let all = log.access_lines().join("\n");
    assert!(all.contains("/api/items/{id}"), "{all}");
    assert_eq!(remit_domain::mask_card_numbers(&all), all, "a card number in the access log: {all}");
    assert!(!all.contains("%20"), "{all}");

    // A retry with the same Idempotency-Key is answered from the first run: logged as a replay.
    let other = app.item("CA", "account-closed").await;
    for _ in 0..2 {
        let req = Request::post(format!("/api/items/{other}/claim"))
            .header("authorization", format!("Bearer {CA}"))
            .header("idempotency-key", "claim-once")
            .body(Body::empty())
            .unwrap();
        let resp = app.api.handle(req, Utc::now() + chrono::Duration::minutes(1)).await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let lines = log.access_lines();
    let [first, replay] = &lines[lines.len() - 2..] else { unreachable!() };
    assert!(first.contains("/api/items/{id}/claim") && first.contains("replayed=false"), "{first}");
    assert!(replay.contains("/api/items/{id}/claim") && replay.contains("replayed=true"), "{replay}");
    assert!(replay.contains("status=200") && replay.contains("amelie.ca"), "{replay}");
}

/// Issue 15: resolve answered as fast as anyone asked (a card guessed in 100 tries). Each analyst
/// gets `queue.resolves_per_minute` resolves a minute; past it 429 with Retry-After.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolves_past_the_rate_are_429_with_retry_after() {
    let t0 = Utc::now();
    let clock = Arc::new(std::sync::Mutex::new(t0));
    let c = clock.clone();
    let app = app_with(move |s| s.with_clock(move || *c.lock().unwrap()));
    let id = app.item("CA", "no-reference").await;
    let resolve = format!("/api/items/{id}/resolve");
    // Not claimed: each attempt is refused by the queue's rules, and each counts.
    for _ in 0..30 {
        let (s, v) = app.post(&resolve, Some(CA), json!({"account": "372601815908301"})).await;
        assert_eq!(s, StatusCode::CONFLICT, "{v}");
    }
    let req = Request::post(&resolve)
        .header("authorization", format!("Bearer {CA}"))
        .header("content-type", "application/json")
        .body(Body::from(json!({"account": CAD_CARD}).to_string()))
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "the 31st resolve in a minute");
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["error"], "rate-limited");
    // Through the idempotency layer: Retry-After kept, and the 429 not saved for a retry.
    let retried = || {
        let req = Request::post(&resolve)
            .header("authorization", format!("Bearer {CA}"))
            .header("idempotency-key", "resolve-1")
            .body(Body::from(json!({"account": CAD_CARD}).to_string()))
            .unwrap();
        app.api.handle(req, Utc::now() + chrono::Duration::minutes(1))
    };
    let resp = retried().await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
    // Another analyst has a window of their own; the first gets one again a minute later.
    let (s, _) = app.post(&resolve, Some(CA2), json!({"account": CAD_CARD})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    *clock.lock().unwrap() = t0 + chrono::Duration::seconds(61);
    let again = retried().await.into_body().collect().await.unwrap().to_bytes();
    let again: Value = serde_json::from_slice(&again).unwrap();
    assert_eq!(again["error"], "not-claimant", "the same key runs again: {again}");
    let (s, v) = app.post(&resolve, Some(CA), json!({"account": CAD_CARD})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
}

/// Issue 15: the daily report showed server file paths. It names each file by its file name.
#[tokio::test]
async fn the_daily_report_shows_file_names_not_server_paths() {
    let app = app();
    let today = Utc::now().with_timezone(&chrono_tz::America::Toronto).date_naive();
    let (s, v) = app.get(&format!("/api/reports/CA/daily?date={today}"), Some(CA)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let files: Vec<&str> =
        v["lines"].as_array().unwrap().iter().map(|l| l["file"].as_str().unwrap()).collect();
    assert!(files.contains(&"cpa005-rbc-20260315.txt"), "{files:?}");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().parent().unwrap();
    let text = v.to_string();
    assert!(!text.contains(root.to_str().unwrap()) && !text.contains("samples/"), "{text}");
}

/// Issue 15: above the market's limit a resolve waits for a lead other than the analyst; only
/// the approval posts.
#[tokio::test]
async fn a_resolve_above_the_limit_posts_only_when_a_lead_approves() {
    let app = app_with(|s| {
        let mut policy = remit_domain::research::queue::QueuePolicy::default();
        policy.second_person_above.ca = rust_decimal::Decimal::new(1, 0);
        s.with_policy(policy)
    });
    let id = app.item("CA", "no-reference").await;
    let card = app.store.card_key().card(&CAD_CARD.parse::<AccountNumber>().unwrap());
    let posted = app.store.posted_total(&card).unwrap();
    let (s, v) = app.post(&format!("/api/items/{id}/claim"), Some(CA), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = app.post(&format!("/api/items/{id}/resolve"), Some(CA), json!({"account": CAD_CARD})).await;
    assert_eq!((s, v["item"]["status"].as_str()), (StatusCode::OK, Some("resolve-pending")), "{v}");
    assert_eq!(app.store.posted_total(&card).unwrap(), posted, "nothing posted yet");
    // Another analyst is no lead; the lead approves.
    let (s, v) = app.post(&format!("/api/items/{id}/resolve/approve"), Some(CA2), json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = app.post(&format!("/api/items/{id}/resolve/approve"), Some(CA_LEAD), json!({})).await;
    assert_eq!((s, v["item"]["status"].as_str()), (StatusCode::OK, Some("resolved")), "{v}");
    assert_eq!(v["item"]["disposition"]["approved_by"], "chloe.lead");
    assert!(app.store.posted_total(&card).unwrap() > posted, "posted at the approval");
    let (s, v) = app.get("/api/openapi.json", Some(CA)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["paths"]["/api/items/{id}/resolve/approve"].is_object(), "documented");
}

// ---- issue 16: the analyst's workbench ----

/// A Luhn-valid 15-digit number from a 14-digit stem (the test's own namesakes' cards).
fn luhn_card(stem: &str) -> String {
    let digits: Vec<u8> = stem.bytes().map(|b| b - b'0').collect();
    format!("{stem}{}", remit_domain::text::luhn::luhn_check_digit(&digits))
}

/// Every CA item of the queue, with its candidate (masked) and confidence, for the tests below.
async fn ca_items(app: &App) -> Vec<Value> {
    let (s, v) = app.get("/api/queues/CA/items", Some(CA)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_item_lists_its_candidates_with_each_accounts_figures_and_why_not() {
    let app = app();
    let items = ca_items(&app).await;
    let with = items.iter().find(|i| !i["candidate"].is_null()).expect("a CA item with a candidate");
    let id = with["id"].as_str().unwrap();
    let (s, v) = app.get(&format!("/api/items/{id}"), Some(CA)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let c = &v["candidates"][0];
    assert_eq!(c["rank"], 1, "{v}");
    assert_eq!(c["account"], with["candidate"], "the best candidate is the item's candidate");
    assert!(c["account_ref"].as_str().unwrap().starts_with("ct:"), "{c}");
    assert!(c["not_applied"]["code"].is_string() && c["not_applied"]["text"].is_string(), "{c}");
    assert!(c["evidence"].is_array(), "{c}");
    let d = &c["details"];
    for field in ["holder_name", "status", "currency", "statement_balance", "minimum_due"] {
        assert!(!d[field].is_null(), "{field} missing: {c}");
    }
    assert!(v["posting"].is_null(), "nothing posted yet: {v}");
}

#[tokio::test]
async fn resolve_to_a_candidate_by_rank_or_to_an_account_the_workbench_showed() {
    let app = app();
    // The payer's name alone points at Marie-Ève Côté's active CAD card: queued with it as the
    // candidate (the samples' items with candidates are all refused: closed, debit, currency).
    let id = queue_unreferenced(&app, "RANK-0001", 4500, Utc::now());
    let id = id.as_str();
    let (_, with) = app.get(&format!("/api/items/{id}"), Some(CA)).await;
    let with = &with["item"];
    assert_eq!(with["candidate"], "***********1396", "{with}");
    let ledger = app.store.count(Table::Ledger).unwrap();
    let (s, v) = app.post(&format!("/api/items/{id}/claim"), Some(CA), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, before) = app.get(&format!("/api/items/{id}"), Some(CA)).await;
    let account_ref = before["candidates"][0]["account_ref"].as_str().unwrap().to_string();

    // Exactly one way of naming the account; a rank past the list is a 400.
    let resolve = format!("/api/items/{id}/resolve");
    let (s, v) = app.post(&resolve, Some(CA), json!({"candidate": 1, "account_ref": account_ref})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = app.post(&resolve, Some(CA), json!({"candidate": 99})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = app.post(&resolve, Some(CA), json!({"account_ref": "ct:forged:1234"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    let (s, v) = app.post(&resolve, Some(CA), json!({"candidate": 1})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["changed"], true);
    assert_eq!(app.store.count(Table::Ledger).unwrap(), ledger + 1);
    // The same account by its ref: a retry, nothing posted twice.
    let (s, v) = app.post(&resolve, Some(CA), json!({"account_ref": account_ref})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["changed"], false);
    assert_eq!(app.store.count(Table::Ledger).unwrap(), ledger + 1);

    let (_, after) = app.get(&format!("/api/items/{id}"), Some(CA)).await;
    assert_eq!(after["posting"]["account"], with["candidate"], "{after}");
    assert_eq!(after["payment_state"], "applied");
    let actions: Vec<&str> =
        after["audit"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["claim", "resolve"]);
}

#[tokio::test]
async fn search_finds_accounts_by_each_kind_within_the_callers_markets() {
    let app = app();
    let search =
        |market: &str, q: &str, by: &str| format!("/api/search/{market}?q={}&by={by}", q.replace(' ', "%20"));
    let first = |v: &Value| (v["results"][0]["account"].clone(), v["results"].as_array().unwrap().len());

    // A holder's name, written as payers write it: word order, accents, title, initials.
    for q in ["TREMBLAY JEAN", "Mr. Jean Tremblay", "J Tremblay"] {
        let (s, v) = app.get(&search("CA", q, "auto"), Some(CA)).await;
        assert_eq!(s, StatusCode::OK, "{q}: {v}");
        assert_eq!(v["by"], "name", "{v}");
        assert_eq!(first(&v), (json!("***********8301"), 1), "{q}: {v}");
        assert_eq!(v["results"][0]["statement_balance"], "1250.00", "{v}");
        assert_eq!(v["results"][0]["holder_name"], "Jean Tremblay");
    }
    let (_, v) = app.get(&search("CA", "cote marie-eve", "name"), Some(CA)).await;
    assert_eq!(first(&v).0, json!("***********1396"), "accents folded: {v}");
    // Last four, last five (a keyed tag, not the digits), an amount at any scale.
    let (_, v) = app.get(&search("CA", "1396", "auto"), Some(CA)).await;
    assert_eq!((v["by"].clone(), first(&v)), (json!("last-digits"), (json!("***********1396"), 1)), "{v}");
    let (_, v) = app.get(&search("CA", "08301", "last-digits"), Some(CA)).await;
    assert_eq!(first(&v), (json!("***********8301"), 1), "{v}");
    let (_, v) = app.get(&search("CA", "310.45", "auto"), Some(CA)).await;
    assert_eq!((v["by"].clone(), first(&v).0), (json!("amount"), json!("***********1396")), "{v}");
    assert_eq!(v["results"][0]["matched_by"], "statement balance");
    let (_, v) = app.get(&search("CA", "25", "amount"), Some(CA)).await;
    assert_eq!(first(&v).0, json!("***********1396"), "minimum due 25.00: {v}");
    assert_eq!(v["results"][0]["matched_by"], "minimum due");
    // A closed account whose balance and minimum due are both 0.00 is shown once.
    let (_, v) = app.get(&search("CA", "0.00", "amount"), Some(CA)).await;
    assert_eq!(v["results"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["results"][0]["status"], "closed");
    // India's virtual account; the EU's RF reference (leadership reads every market).
    let (_, v) = app.get(&search("IN", "AMEX0100012345", "auto"), Some(IN)).await;
    assert_eq!(
        (v["by"].clone(), v["results"][0]["holder_name"].clone()),
        (json!("virtual-account"), json!("Priya Venkataraman")),
        "{v}"
    );
    let (_, v) = app.get(&search("EU", "RF06 AMX4 4120 01", "auto"), Some(BOSS)).await;
    assert_eq!(v["results"][0]["holder_name"], "Sophie Müller", "{v}");

    // Another market's directory is 403; a name of another market is not found in one's own.
    let (s, v) = app.get(&search("IN", "Priya Venkataraman", "name"), Some(CA)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = app.get(&search("CA", "Priya Venkataraman", "name"), Some(CA)).await;
    assert_eq!((s, v["results"].as_array().unwrap().len()), (StatusCode::OK, 0), "{v}");
    // Text that is not what `by` says is a 400 naming it.
    let (s, v) = app.get(&search("CA", "12", "last-digits"), Some(CA)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = app.get("/api/search/CA?q=", Some(CA)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}

#[tokio::test]
async fn search_pages_through_namesakes_without_repeating_one() {
    let app = app();
    let key = app.store.card_key().clone();
    for i in 0..7 {
        let number: AccountNumber = luhn_card(&format!("37999900000{i:03}")).parse().unwrap();
        let mut a = remit_domain::Account::new(
            &key,
            &number,
            remit_domain::Market::CA,
            remit_domain::model::money::Currency::CAD,
            "Jean Tremblay",
        );
        a.statement_balance = rust_decimal::Decimal::new(1000 + i, 2);
        app.store.put_account(&a).unwrap();
    }
    let mut seen: Vec<String> = Vec::new();
    let mut after = String::new();
    let mut pages = 0;
    loop {
        let (s, v) =
            app.get(&format!("/api/search/CA?q=Jean%20Tremblay&limit=3&after={after}"), Some(CA)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        pages += 1;
        for r in v["results"].as_array().unwrap() {
            let r = r["account_ref"].as_str().unwrap().to_string();
            assert!(!seen.contains(&r), "shown twice across pages");
            seen.push(r);
        }
        match v["next"].as_str() {
            Some(n) => after = n.replace(':', "%3A"),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(seen.len(), 8, "the sample's Jean Tremblay and seven namesakes");
    assert!(pages >= 3, "{pages} pages of three");
    // Pages of four end exactly where the full-name lookup does: the initials lookups after it
    // hold only the same eight, so there is no next page rather than an empty one.
    let (_, v) = app.get("/api/search/CA?q=Jean%20Tremblay&limit=4", Some(CA)).await;
    let next = v["next"].as_str().expect("a second page").replace(':', "%3A");
    let (_, v) = app.get(&format!("/api/search/CA?q=Jean%20Tremblay&limit=4&after={next}"), Some(CA)).await;
    assert_eq!(v["results"].as_array().unwrap().len(), 4, "{v}");
    assert!(v["next"].is_null(), "nothing follows the last namesake: {v}");
}

#[tokio::test]
async fn searches_past_the_rate_are_429() {
    let policy = remit_domain::research::queue::QueuePolicy { searches_per_minute: 2, ..Default::default() };
    let app = app_with(move |s| s.with_policy(policy));
    for _ in 0..2 {
        let (s, v) = app.get("/api/search/CA?q=1396", Some(CA)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let (s, v) = app.get("/api/search/CA?q=1396", Some(CA)).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert_eq!(v["error"], "rate-limited");
}

/// A CA payment with no reference at all from one payer (name and bank account), queued.
fn queue_unreferenced(app: &App, bank_ref: &str, cents: i64, received: chrono::DateTime<Utc>) -> String {
    use remit_domain::model::money::Currency;
    use remit_domain::model::payment::PayerAccount;
    use remit_domain::{
        Direction, FileId, KeyBasis, Market, Money, Payment, Provenance, References, SourceFormat,
    };
    let payment = Payment {
        market: Market::CA,
        format: SourceFormat::Cpa005,
        source_bank: "0000000610".into(),
        bank_ref: bank_ref.into(),
        key_basis: KeyBasis::BankReference,
        amount: Money::from_minor(cents, Currency::CAD),
        direction: Direction::Credit,
        reversal: false,
        value_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        booking_date: None,
        payer_name: Some("COTE MARIE EVE".into()),
        payer_account: Some(PayerAccount::Canadian {
            institution: "003".into(),
            transit: "00011".into(),
            account: "7654321".into(),
        }),
        references: References::default(),
        source: Provenance {
            file_id: FileId::of_bytes(bank_ref.as_bytes()),
            file: format!("{bank_ref}.txt").into(),
            record: 1,
            offset: 0,
            position: 1,
        },
        warnings: Vec::new(),
    };
    let done =
        remit_domain::ingest::process_payment(&*app.store, &payment, received, &Default::default()).unwrap();
    done.queue_item.expect("no reference: queued")
}

#[tokio::test]
async fn payer_history_shows_where_the_payers_earlier_payments_went() {
    let app = app();
    let t0 = Utc::now() - chrono::Duration::hours(2);
    let first = queue_unreferenced(&app, "HIST-0001", 4500, t0);
    let second = queue_unreferenced(&app, "HIST-0002", 5100, t0 + chrono::Duration::hours(1));
    app.post(&format!("/api/items/{first}/claim"), Some(CA), json!({})).await;
    let (s, v) =
        app.post(&format!("/api/items/{first}/resolve"), Some(CA), json!({"account": CAD_CARD})).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let (s, v) = app.get(&format!("/api/items/{second}/history"), Some(CA)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The sample CA file's payment from the same name (applied automatically, newer) and the
    // earlier one of this payer, found under its account and its name but shown once.
    let payments = v["payments"].as_array().unwrap();
    let ours: Vec<&Value> = payments.iter().filter(|p| p["bank_ref"] == "HIST-0001").collect();
    assert_eq!(ours.len(), 1, "found under the account and the name, shown once: {v}");
    let times: Vec<&str> = payments.iter().map(|p| p["received_at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");
    let p = ours[0];
    assert_eq!(p["amount"], "45.00");
    assert_eq!(p["state"], "applied");
    assert_eq!(p["applied_to"], "***********1396");
    assert_eq!(p["item"], first.as_str());
    assert_eq!(p["item_status"], "resolved");
    assert_eq!(p["decided_by"], "amelie.ca");
    let automatic = payments.iter().find(|p| p["bank_ref"] != "HIST-0001").expect("the sample's payment");
    assert_eq!((&automatic["state"], &automatic["decided_by"]), (&json!("applied"), &Value::Null), "{v}");
    // The first item's history holds the second, newer, still queued.
    let (_, v) = app.get(&format!("/api/items/{first}/history"), Some(CA)).await;
    let second_entry =
        v["payments"].as_array().unwrap().iter().find(|p| p["bank_ref"] == "HIST-0002").cloned();
    let second_entry = second_entry.unwrap_or_else(|| panic!("the newer payment: {v}"));
    assert_eq!(second_entry["state"], "queued");
    assert!(second_entry["applied_to"].is_null());
    assert_eq!(second_entry["item_status"], "open");

    let in_item = app.item("IN", "unknown-account").await;
    let (s, v) = app.get(&format!("/api/items/{in_item}/history"), Some(CA)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
}

#[tokio::test]
async fn the_team_view_counts_the_queue_and_each_analysts_day() {
    let app = app();
    let items = ca_items(&app).await;
    let (s, v) = app.get("/api/team/CA", Some(CA)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let open = &v["open"];
    let total = open["on_track"].as_u64().unwrap()
        + open["warning"].as_u64().unwrap()
        + open["breached"].as_u64().unwrap();
    assert_eq!(total as usize, items.len(), "{v}");
    let by_reason: u64 = v["by_reason"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["on_track"].as_u64().unwrap() + r["warning"].as_u64().unwrap() + r["breached"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(by_reason, total);
    assert_eq!(v["claims"].as_array().unwrap().len(), 0);
    assert_eq!(v["closed_today"].as_array().unwrap().len(), 0);

    let id = app.item("CA", "no-reference").await;
    app.post(&format!("/api/items/{id}/claim"), Some(CA), json!({})).await;
    let (_, v) = app.get("/api/team/CA", Some(CA_LEAD)).await;
    assert_eq!(v["claims"][0]["id"], id.as_str(), "{v}");
    assert_eq!(v["claims"][0]["claimed_by"], "amelie.ca");
    let (s, v) = app.post(&format!("/api/items/{id}/resolve"), Some(CA), json!({"account": CAD_CARD})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = app.get("/api/team/CA", Some(BOSS)).await;
    assert_eq!(
        v["closed_today"],
        json!([{"analyst": "amelie.ca", "resolved": 1, "returned": 0, "written_off": 0}]),
        "{v}"
    );
    assert_eq!(v["claims"].as_array().unwrap().len(), 0, "a resolved item holds no claim in the view");

    let (s, v) = app.get("/api/team/IN", Some(CA)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    for m in ["CA", "IN", "EU"] {
        let (s, v) = app.get(&format!("/api/team/{m}"), Some(BOSS)).await;
        assert_eq!(s, StatusCode::OK, "leadership sees {m}: {v}");
    }
}
