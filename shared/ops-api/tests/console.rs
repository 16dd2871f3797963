//! The ops console page (`remit_ops_api::console`): served without a token, bilingual, and
//! calling only routes the OpenAPI document names.
//!
//! The page in a real browser (headless Debian chromium: claim, resolve, write-off, 403, French,
//! a screenshot; the workbench's search, keys and team view) is `tests/browser.rs`.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use remit_domain::Market;
use remit_ops_api::console::CONSOLE_HTML;
use remit_ops_api::{openapi_document, router, AppState, Caller, Role, Tokens};
use remit_store_sqlite::SqliteStore;
use serde_json::Value;
use tower::ServiceExt;

const CA: &str = "ca-analyst-token-0001";

fn app() -> Router {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let mut tokens = Tokens::new();
    tokens.insert(CA, Caller { analyst: "amelie.ca".into(), role: Role::Analyst, markets: vec![Market::CA] });
    router(AppState::new(store, tokens))
}

async fn get(app: &Router, uri: &str, token: Option<&str>) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut req = Request::get(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let resp = app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

/// The JSON of `<script type="application/json" id="{id}">`.
fn json_block(id: &str) -> Value {
    let open = format!("<script type=\"application/json\" id=\"{id}\">");
    let start = CONSOLE_HTML.find(&open).unwrap_or_else(|| panic!("no {id} block")) + open.len();
    let end = start + CONSOLE_HTML[start..].find("</script>").unwrap();
    serde_json::from_str(&CONSOLE_HTML[start..end]).unwrap_or_else(|e| panic!("{id}: {e}"))
}

/// The page's executable script (the one `<script>` without a type).
fn script() -> &'static str {
    let start = CONSOLE_HTML.find("<script>").unwrap() + "<script>".len();
    &CONSOLE_HTML[start..start + CONSOLE_HTML[start..].find("</script>").unwrap()]
}

/// Every `{prefix}KEY{end}` in `text`.
fn literals(text: &str, prefix: &str, end: char) -> BTreeSet<String> {
    text.split(prefix).skip(1).map(|r| r[..r.find(end).unwrap()].to_string()).collect()
}

/// The first argument of every `t("...")` call (not `onSubmit("...")`).
fn t_calls(script: &str) -> BTreeSet<String> {
    script
        .match_indices("t(\"")
        .filter(|(i, _)| !script[..*i].ends_with(|c: char| c.is_ascii_alphanumeric() || "_$.".contains(c)))
        .map(|(i, m)| {
            let rest = &script[i + m.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

#[tokio::test]
async fn the_page_is_served_without_a_token_and_the_api_still_needs_one() {
    let app = app();
    for uri in ["/", "/console"] {
        let (s, h, body) = get(&app, uri, None).await;
        assert_eq!(s, StatusCode::OK, "{uri}");
        assert!(h[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
        assert_eq!(body, CONSOLE_HTML);
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("connect-src 'self'") && csp.contains("script-src 'sha256-"), "{csp}");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
    let (s, _, body) = get(&app, "/api/me", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
    let (s, _, body) = get(&app, "/api/queues/CA/items", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
    let (s, _, body) = get(&app, "/api/me", Some(CA)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // The console reads the markets to show as tabs from `reads`.
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["reads"], serde_json::json!(["CA"]));
}

#[test]
fn every_string_is_in_english_and_french() {
    let dict = json_block("i18n");
    let keys = |lang: &str| -> BTreeSet<String> {
        let d = dict[lang].as_object().unwrap_or_else(|| panic!("no {lang} dictionary"));
        for (k, v) in d {
            assert!(v.as_str().is_some_and(|s| !s.trim().is_empty()), "{lang}.{k} is empty");
        }
        d.keys().cloned().collect()
    };
    let (en, fr) = (keys("en"), keys("fr"));
    assert_eq!(en.symmetric_difference(&fr).collect::<Vec<_>>(), Vec::<&String>::new());
    for k in [
        "sign_in",
        "claim",
        "release",
        "resolve",
        "return",
        "escalate",
        "request_write_off",
        "approve_write_off",
        "reject_write_off",
        "add_note",
        "audit",
        "sla_late",
    ] {
        assert!(en.contains(k), "{k}");
        assert_ne!(dict["en"][k], dict["fr"][k], "{k} is not translated");
    }
    assert_eq!(dict["fr"]["resolve"], "Résoudre");

    // Every key the page uses is in the dictionaries: data-i18n attributes, t("...") calls,
    // and the keys made from API values (statuses, SLA states, roles, audit actions).
    let mut used = literals(CONSOLE_HTML, "data-i18n=\"", '"');
    // `t("status_" + item.status)` and the like: keys made from API values, expanded below.
    let (prefixes, keys): (BTreeSet<String>, BTreeSet<String>) =
        t_calls(script()).into_iter().partition(|k| k.ends_with('_'));
    assert_eq!(prefixes, ["acct_", "act_", "pay_", "role_", "sla_", "status_"].map(String::from).into());
    used.extend(keys);
    let doc = openapi_document();
    let enum_of = |schema: &str, field: &str| -> Vec<String> {
        doc["components"]["schemas"][schema]["properties"][field]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema}.{field}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    used.extend(enum_of("Item", "status").into_iter().map(|s| format!("status_{s}")));
    used.extend(enum_of("AuditEntry", "action").into_iter().map(|s| format!("act_{s}")));
    used.extend(enum_of("ItemDetail", "payment_state").into_iter().map(|s| format!("pay_{s}")));
    used.extend(enum_of("Caller", "role").into_iter().map(|s| format!("role_{s}")));
    used.extend(["ok", "warn", "late", "closed"].map(|s| format!("sla_{s}")));
    // An account's status as the directory gives it (workbench candidates and search results).
    used.extend(["active", "closed", "blocked"].map(|s| format!("acct_{s}")));
    let routes = json_block("api-routes");
    used.extend(
        routes
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| !["me", "queue", "item"].contains(&k.as_str()))
            .map(|k| format!("act_{k}")),
    );
    for k in &used {
        assert!(en.contains(k), "the page uses {k:?}, missing from the dictionaries");
    }
    assert!(used.len() > 60, "{}", used.len());

    // A toggle for each language, and the default from the browser's language.
    assert!(CONSOLE_HTML.contains("data-lang=\"en\"") && CONSOLE_HTML.contains("data-lang=\"fr\""));
    assert!(script().contains("navigator.language"));
    assert!(script().contains("document.documentElement.lang = state.lang"));
}

#[test]
fn every_api_call_of_the_page_is_a_documented_route() {
    let routes = json_block("api-routes");
    let doc = openapi_document();
    let routes = routes.as_object().unwrap();
    for (name, route) in routes {
        let (method, path) = (route[0].as_str().unwrap(), route[1].as_str().unwrap());
        assert!(
            doc["paths"][path][method.to_ascii_lowercase()].is_object(),
            "{name}: {method} {path} is not in the OpenAPI document"
        );
    }
    for action in [
        "me",
        "queue",
        "item",
        "claim",
        "release",
        "resolve",
        "return",
        "escalate",
        "note",
        "request-write-off",
        "approve-write-off",
        "reject-write-off",
    ] {
        assert!(routes.contains_key(action), "{action}");
    }
    // The script builds no API path of its own: every call goes through the table above.
    assert!(!script().contains("/api/"), "an API path written in the script");
    assert!(script().contains("fetch(path + query, init)"));
    assert_eq!(script().matches("fetch(").count(), 1);
}

#[test]
fn the_page_keeps_data_out_of_html_and_the_token_in_session_storage() {
    let s = script();
    // API data is rendered as text, never parsed as HTML.
    for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("] {
        assert!(!s.contains(sink), "{sink}");
    }
    assert!(s.contains("sessionStorage") && !s.contains("localStorage"));
    assert!(!CONSOLE_HTML.contains(" onclick=") && !CONSOLE_HTML.contains(" style="));
    // No card number in the page itself.
    let digits = CONSOLE_HTML.as_bytes().split(|b| !b.is_ascii_digit()).map(<[u8]>::len).max().unwrap();
    assert!(digits < 12, "a {digits}-digit number in the page");
}

/// Issue 16: the workbench's keys are shown on the page and each one is handled; a number key
/// only selects (Enter confirms), and the workbench calls documented routes.
#[test]
fn the_workbench_keys_are_shown_and_a_number_only_selects() {
    let start = CONSOLE_HTML.find("<ul id=\"keys\"").expect("a keys legend");
    let legend = &CONSOLE_HTML[start..start + CONSOLE_HTML[start..].find("</ul>").unwrap()];
    for key in ["c", "n", "1", "9", "Enter", "a", "/", "t", "Esc"] {
        assert!(legend.contains(&format!("<kbd>{key}</kbd>")), "the legend does not show {key}");
    }
    for label in [
        "key_claim",
        "key_next",
        "key_pick",
        "key_confirm",
        "key_note",
        "key_search",
        "key_team",
        "key_cancel",
        "keys_money",
    ] {
        assert!(legend.contains(&format!("data-i18n=\"{label}\"")), "{label}");
    }
    let dict = json_block("i18n");
    for k in ["keys_money", "key_pick", "key_confirm", "view_team", "search", "col_balance", "team_closed"] {
        assert_ne!(dict["en"][k], dict["fr"][k], "{k} is not translated");
    }

    let s = script();
    let handler = &s[s.find("function onKey(ev)").expect("a key handler")..];
    let handler = &handler[..handler.find("\n  }\n").unwrap()];
    for case in
        ["case \"c\":", "case \"n\":", "case \"a\":", "case \"/\":", "case \"t\":", "\"Escape\"", "\"Enter\""]
    {
        assert!(handler.contains(case), "the handler lacks {case}");
    }
    // Typing in a field is never a shortcut.
    assert!(handler.contains("if (typingIn(target))"));
    // 1-9 select; the resolve is made on Enter only.
    let digits = &handler[handler.find("/^[1-9]$/").expect("keys 1-9")..];
    let digits = &digits[..digits.find("return;").unwrap()];
    assert!(digits.contains("pick(") && !digits.contains("resolve"), "{digits}");
    assert_eq!(handler.matches("resolveTo(").count(), 1, "one resolve, on Enter");
    // A workbench resolve names the account by the API's token, never by a number.
    assert!(s.contains("act(\"resolve\", { account_ref: target.ref })"));

    let routes = json_block("api-routes");
    for (name, path) in [
        ("search", "/api/search/{market}"),
        ("history", "/api/items/{id}/history"),
        ("team", "/api/team/{market}"),
    ] {
        assert_eq!(routes[name], serde_json::json!(["GET", path]), "{name}");
    }
}
