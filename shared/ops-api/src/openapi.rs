//! The OpenAPI 3.1 document of the ops API, written by hand next to the router (a test checks
//! that it names every route the router serves, and only those).

use serde_json::{json, Value};

/// Every route: (path, method, operation id, summary, request body schema if any).
pub(crate) const ROUTES: &[(&str, &str, &str, &str, Option<&str>)] = &[
    ("/api/openapi.json", "get", "openapi", "This document (no token needed).", None),
    ("/api/me", "get", "me", "The caller: analyst id, role, markets worked and markets read.", None),
    (
        "/api/queues/{market}/items",
        "get",
        "listItems",
        "A market's research queue, earliest due first, filtered.",
        None,
    ),
    (
        "/api/items/{id}",
        "get",
        "showItem",
        "One item: the payment (masked), reasons, candidate, and its audit trail: every action, whatever the notes, with the latest 50 notes (`notes_total` counts them all; the audit route pages through every entry).",
        None,
    ),
    (
        "/api/items/{id}/audit",
        "get",
        "auditTrail",
        "The item's whole audit trail, oldest first, one page at a time: the entries after `after` (a `seq`), at most `limit`; `next_after` is the `after` of the next page (null on the last).",
        None,
    ),
    (
        "/api/items/{id}/claim",
        "post",
        "claim",
        "Claim the item (one analyst at a time; the claim expires; the holder renews).",
        None,
    ),
    (
        "/api/reports/{market}/daily",
        "get",
        "dailyReport",
        "The market's daily control report for accounting: per file and currency, as read, applied, queued (and what became of the queued since), reversed, duplicate and rejected, and whether it reconciles.",
        None,
    ),
    ("/api/items/{id}/release", "post", "release", "Give the caller's claim up.", None),
    (
        "/api/items/{id}/history",
        "get",
        "payerHistory",
        "The item payer's earlier payments (under its account, IBAN, remitter or name), newest first, and where each went: applied to which card (masked), queued to which item, decided by whom. Only payments in markets the caller reads.",
        None,
    ),
    (
        "/api/search/{market}",
        "get",
        "searchAccounts",
        "Search the market's card directory: by holder name (accents, word order, titles and initials as the matcher reads them), last four or five digits, an amount equal to a statement balance or minimum due, a virtual account or an RF reference. Ranked, paged (`next` is the `after` of the next page), cards masked; `account_ref` names a result to resolve to. Each query reads one index, never the whole directory. Limited per analyst per minute.",
        None,
    ),
    (
        "/api/team/{market}",
        "get",
        "teamView",
        "The market's team view: open items by reason and by SLA state (on track, warning, breached), the oldest open items, every current claim, and what each analyst closed since the market's local midnight.",
        None,
    ),
    (
        "/api/items/{id}/resolve",
        "post",
        "resolve",
        "Apply the payment to a card account (posts exactly once; teaches the payer's alias). Resolving again to the same account changes nothing (`changed: false`). Each resolve is a card lookup: logged (the card masked) and limited per analyst per minute. Above the market's four-eyes limit nothing posts yet: the item waits as `resolve-pending` for a lead's approval.",
        Some("ResolveRequest"),
    ),
    (
        "/api/items/{id}/return",
        "post",
        "returnItem",
        "Return the payment to the remitter.",
        Some("ReasonRequest"),
    ),
    ("/api/items/{id}/escalate", "post", "escalate", "Escalate an open item.", Some("ReasonRequest")),
    (
        "/api/items/{id}/notes",
        "post",
        "addNote",
        "Add a note (anyone who reads the market, leadership included).",
        Some("NoteRequest"),
    ),
    (
        "/api/items/{id}/write-off",
        "post",
        "requestWriteOff",
        "Request a write-off to the market's suspense account (a lead approves).",
        Some("ReasonRequest"),
    ),
    (
        "/api/items/{id}/write-off/approve",
        "post",
        "approveWriteOff",
        "Approve a pending write-off (a lead of the market other than the requester).",
        None,
    ),
    (
        "/api/items/{id}/write-off/reject",
        "post",
        "rejectWriteOff",
        "Reject a pending write-off: the item goes back to the queue (a lead of the market other than the requester).",
        Some("ReasonRequest"),
    ),
    (
        "/api/items/{id}/resolve/approve",
        "post",
        "approveResolve",
        "Approve a resolve above the market's four-eyes limit (queue.second_person_above): it posts now, once, and alias memory learns the payer (a lead of the market other than the analyst who resolved).",
        None,
    ),
    (
        "/api/items/{id}/resolve/reject",
        "post",
        "rejectResolve",
        "Reject a resolve above the four-eyes limit: nothing posted, the item goes back to the queue (a lead of the market other than the analyst who resolved).",
        Some("ReasonRequest"),
    ),
];

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn operation(path: &str, method: &str, id: &str, summary: &str, request: Option<&str>) -> Value {
    let mut params = Vec::new();
    if path.contains("{market}") {
        params.push(json!({
            "name": "market", "in": "path", "required": true,
            "schema": { "type": "string", "enum": ["CA", "IN", "EU"] }
        }));
    }
    if id == "dailyReport" {
        params.push(json!({
            "name": "date", "in": "query", "required": false,
            "schema": { "type": "string", "format": "date" },
            "description": "The market's local day (YYYY-MM-DD); today in the market by default."
        }));
    }
    if id == "listItems" {
        for (name, schema, description) in [
            ("status", json!({"type": "string"}), "Comma-separated statuses (open, escalated, write-off-pending, resolved, returned, written-off); default: the active ones."),
            ("reason", json!({"type": "string"}), "A reason code, e.g. no-reference, ambiguous, unknown-account."),
            ("claimed_by", json!({"type": "string"}), "Items whose unexpired claim this analyst holds."),
            ("due_before", json!({"type": "string", "format": "date-time"}), "Items due before this instant (RFC 3339)."),
            ("limit", json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 100}), "At most this many items."),
        ] {
            params.push(json!({ "name": name, "in": "query", "required": false, "schema": schema, "description": description }));
        }
    }
    if id == "auditTrail" {
        for (name, schema, description) in [
            (
                "after",
                json!({"type": "integer", "minimum": 0, "default": 0}),
                "The `seq` of the last entry already read (0 for the first page).",
            ),
            (
                "limit",
                json!({"type": "integer", "minimum": 1, "maximum": 500, "default": 100}),
                "At most this many entries.",
            ),
        ] {
            params.push(json!({ "name": name, "in": "query", "required": false, "schema": schema, "description": description }));
        }
    }
    if id == "searchAccounts" {
        for (name, required, schema, description) in [
            ("q", true, json!({"type": "string"}), "What the analyst typed."),
            ("by", false, json!({"type": "string", "enum": ["auto", "name", "last-digits", "amount", "virtual-account", "creditor-reference"], "default": "auto"}), "How to read `q`; `auto` decides from its shape (RF reference, four or five digits, an amount with decimals, letters and digits, else a name)."),
            ("after", false, json!({"type": "string"}), "The previous page's `next`."),
            ("limit", false, json!({"type": "integer", "minimum": 1, "maximum": 50, "default": 20}), "At most this many results."),
        ] {
            params.push(json!({ "name": name, "in": "query", "required": required, "schema": schema, "description": description }));
        }
    }
    if id == "payerHistory" {
        params.push(json!({
            "name": "limit", "in": "query", "required": false,
            "schema": { "type": "integer", "minimum": 1, "maximum": 100, "default": 20 },
            "description": "At most this many payments."
        }));
    }
    if path.contains("{id}") {
        params.push(json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }));
    }
    let ok_schema = match id {
        "openapi" => json!({ "type": "object" }),
        "me" => json!({ "$ref": "#/components/schemas/Caller" }),
        "listItems" => json!({ "$ref": "#/components/schemas/ItemList" }),
        "showItem" => json!({ "$ref": "#/components/schemas/ItemDetail" }),
        "auditTrail" => json!({ "$ref": "#/components/schemas/AuditPage" }),
        "dailyReport" => json!({ "$ref": "#/components/schemas/DailyReport" }),
        "searchAccounts" => json!({ "$ref": "#/components/schemas/SearchPage" }),
        "payerHistory" => json!({ "$ref": "#/components/schemas/PayerHistory" }),
        "teamView" => json!({ "$ref": "#/components/schemas/TeamView" }),
        _ => json!({ "$ref": "#/components/schemas/ChangeResult" }),
    };
    let mut responses = json!({
        "200": { "description": "OK", "content": { "application/json": { "schema": ok_schema } } }
    });
    let r = responses.as_object_mut().expect("object");
    if id != "openapi" {
        r.insert("401".into(), error("No token, or an unknown one."));
    }
    if path.contains("{market}") || path.contains("{id}") {
        r.insert(
            "403".into(),
            error("The queue's or item's market is not one the caller may read (or, for a change, work)."),
        );
        r.insert("404".into(), error("No such item or market."));
    }
    if method == "post"
        || matches!(id, "listItems" | "dailyReport" | "auditTrail" | "searchAccounts" | "payerHistory")
    {
        r.insert("400".into(), error("A malformed request (body, query, account number, empty text)."));
    }
    if method == "post" {
        r.insert(
            "409".into(),
            error("Claimed by another analyst, no current claim held, or a concurrent change (retry)."),
        );
        r.insert(
            "422".into(),
            error("The queue's rules refuse the change (item status, four eyes, account not applicable, the item's or the caller's notes at their limit: `too-many-notes`)."),
        );
    }
    if id == "searchAccounts" {
        r.insert(
            "429".into(),
            error("More searches in a minute than an analyst may ask for (`rate-limited`); `Retry-After` says in how many seconds to ask again."),
        );
    }
    if id == "resolve" {
        r.insert(
            "429".into(),
            error("More resolves in a minute than an analyst may ask for (`rate-limited`); `Retry-After` says in how many seconds to ask again."),
        );
    }
    let mut op = json!({
        "operationId": id,
        "summary": summary,
        "parameters": params,
        "responses": responses,
    });
    if id == "openapi" {
        op["security"] = json!([]);
    }
    if let Some(schema) = request {
        op["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } }
        });
    }
    let _ = path;
    op
}

/// The OpenAPI 3.1 document.
pub fn openapi_document() -> Value {
    let mut paths = serde_json::Map::new();
    for (path, method, id, summary, request) in ROUTES {
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = operation(path, method, id, summary, *request);
    }
    let text = |d: &str| json!({ "type": "string", "description": d });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "remit ops API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Research queues per market (CA, IN, EU). Every request but this document needs `Authorization: Bearer <token>`. Analysts and leads read and work their own markets' queues; leads also approve or reject write-offs; leadership reads every market and may only add notes. Card numbers are masked in every response."
        },
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": { "type": "string", "description": "unauthorized, forbidden, not-found, bad-request, invalid, claimed-by-other, not-claimant, concurrent-change, conflict, wrong-state, four-eyes, account-refused, too-many-notes, rate-limited, unavailable, internal" },
                        "message": text("What happened, for people (card numbers masked).")
                    }
                },
                "ResolveRequest": {
                    "type": "object", "additionalProperties": false,
                    "description": "Exactly one of the three.",
                    "properties": {
                        "account": text("The full card account number (15 digits, Luhn-valid); never echoed unmasked."),
                        "account_ref": text("An account the workbench showed (a candidate's or a search result's `account_ref`)."),
                        "candidate": { "type": "integer", "minimum": 1, "description": "The item's candidate of this rank (1 for the best)." }
                    }
                },
                "Candidate": {
                    "type": "object",
                    "description": "An account the matcher considered, best first.",
                    "properties": {
                        "rank": { "type": "integer" },
                        "account": text("The card, masked."),
                        "account_ref": text("Names this account in a resolve."),
                        "confidence": { "type": "number" },
                        "evidence": { "type": "array", "items": { "$ref": "#/components/schemas/Reason" } },
                        "not_applied": { "$ref": "#/components/schemas/Reason" },
                        "details": { "type": ["object", "null"], "description": "holder_name, status, currency, statement_balance, minimum_due, current_balance; null when the account left the directory." }
                    }
                },
                "SearchPage": {
                    "type": "object",
                    "properties": {
                        "market": { "type": "string" },
                        "by": { "type": "string" },
                        "results": { "type": "array", "items": { "type": "object", "description": "rank, account (masked), account_ref, matched_by, score, holder_name, status, currency, statement_balance, minimum_due, current_balance, virtual_account, creditor_reference." } },
                        "next": { "type": ["string", "null"], "description": "`after` of the next page; null on the last." }
                    }
                },
                "PayerHistory": {
                    "type": "object",
                    "properties": {
                        "item": { "type": "string" },
                        "identities": { "type": "integer" },
                        "payments": { "type": "array", "items": { "type": "object", "description": "identity, payment_key, market, received_at, amount, currency, bank_ref, file_id, state, applied_to (masked), item, item_status, decided_by, approved_by." } }
                    }
                },
                "TeamView": {
                    "type": "object",
                    "properties": {
                        "market": { "type": "string" },
                        "day": { "type": "string", "format": "date" },
                        "at": { "type": "string", "format": "date-time" },
                        "open": { "type": "object", "description": "on_track, warning, breached." },
                        "by_reason": { "type": "array", "items": { "type": "object", "description": "reason, on_track, warning, breached, oldest." } },
                        "oldest": { "type": "array", "items": { "type": "object" } },
                        "claims": { "type": "array", "items": { "type": "object", "description": "id, claimed_by, claim_until, reason, amount, sla." } },
                        "closed_today": { "type": "array", "items": { "type": "object", "description": "analyst, resolved, returned, written_off." } },
                        "truncated": { "type": "boolean" }
                    }
                },
                "ReasonRequest": {
                    "type": "object", "required": ["reason"], "additionalProperties": false,
                    "properties": { "reason": text("Why (1 to 2000 characters; card numbers are masked when stored).") }
                },
                "NoteRequest": {
                    "type": "object", "required": ["text"], "additionalProperties": false,
                    "properties": { "text": text("The note (1 to 2000 characters; card numbers are masked when stored).") }
                },
                "Caller": {
                    "type": "object",
                    "properties": {
                        "analyst": { "type": "string" },
                        "role": { "type": "string", "enum": ["analyst", "lead", "leadership"] },
                        "markets": { "type": "array", "items": { "type": "string" } },
                        "reads": { "type": "array", "items": { "type": "string" } }
                    }
                },
                "Item": {
                    "type": "object",
                    "description": "A research item. Account numbers appear masked (`***********1234`).",
                    "properties": {
                        "id": { "type": "string" },
                        "payment_key": { "type": "string" },
                        "market": { "type": "string", "enum": ["CA", "IN", "EU"] },
                        "file_id": { "type": "string" },
                        "bank_ref": { "type": "string" },
                        "amount": { "type": "string" },
                        "currency": { "type": "string" },
                        "payer_name": { "type": ["string", "null"] },
                        "reason_code": { "type": "string" },
                        "reasons": { "type": "array", "items": { "$ref": "#/components/schemas/Reason" } },
                        "candidate": { "type": ["string", "null"] },
                        "confidence": { "type": "number" },
                        "created_at": { "type": "string", "format": "date-time" },
                        "warn_at": { "type": "string", "format": "date-time" },
                        "due_at": { "type": "string", "format": "date-time" },
                        "status": { "type": "string", "enum": ["open", "resolved", "returned", "escalated", "write-off-pending", "written-off"] },
                        "claim": { "type": ["object", "null"], "description": "The last claim, possibly expired." },
                        "active_claim": { "type": ["object", "null"], "description": "The claim that holds now, if any." },
                        "overdue": { "type": "boolean" },
                        "version": { "type": "integer" },
                        "disposition": { "type": ["object", "null"] }
                    }
                },
                "Reason": {
                    "type": "object",
                    "properties": { "code": { "type": "string" }, "text": { "type": "string" } }
                },
                "AuditEntry": {
                    "type": "object",
                    "properties": {
                        "item": { "type": "string" },
                        "seq": { "type": "integer" },
                        "at": { "type": "string", "format": "date-time" },
                        "actor": { "type": "string" },
                        "action": { "type": "string", "enum": ["claim", "release", "resolve", "return", "escalate", "request-write-off", "approve-write-off", "reject-write-off", "note"] },
                        "before": { "type": "object" },
                        "after": { "type": "object" },
                        "note": { "type": "string" }
                    }
                },
                "ItemList": {
                    "type": "object",
                    "properties": {
                        "market": { "type": "string" },
                        "count": { "type": "integer" },
                        "items": { "type": "array", "items": { "$ref": "#/components/schemas/Item" } }
                    }
                },
                "ItemDetail": {
                    "type": "object",
                    "properties": {
                        "item": { "$ref": "#/components/schemas/Item" },
                        "payment_state": { "type": "string", "enum": ["received", "applied", "queued", "rejected", "unknown"] },
                        "candidate": { "type": ["string", "null"] },
                        "candidates": { "type": "array", "items": { "$ref": "#/components/schemas/Candidate" } },
                        "posting": { "type": ["object", "null"], "description": "The posting the payment made, if any: account (masked), amount, currency, reversed." },
                        "aliases": { "type": "array", "items": { "type": "object", "description": "What alias memory learned for the payer: identity, account (masked), learned_by, learned_at, resolution." } },
                        "reasons": { "type": "array", "items": { "$ref": "#/components/schemas/Reason" } },
                        "notes": { "type": "array", "description": "The latest 50 notes, oldest first.", "items": { "$ref": "#/components/schemas/AuditEntry" } },
                        "notes_total": { "type": "integer", "description": "How many notes the item holds." },
                        "audit": { "type": "array", "description": "Every entry of the trail but notes older than the latest 50: every action is always here.", "items": { "$ref": "#/components/schemas/AuditEntry" } },
                        "audit_complete": { "type": "boolean", "description": "False when older notes are left out (`GET /api/items/{id}/audit` pages through them)." },
                        "can_act": { "type": "boolean", "description": "Whether the caller may change the item (notes aside)." }
                    }
                },
                "AuditPage": {
                    "type": "object",
                    "properties": {
                        "item": { "type": "string" },
                        "entries": { "type": "array", "items": { "$ref": "#/components/schemas/AuditEntry" } },
                        "next_after": { "type": ["integer", "null"], "description": "`after` of the next page; null on the last." }
                    }
                },
                "DailyReport": {
                    "type": "object",
                    "properties": {
                        "market": { "type": "string" },
                        "date": { "type": "string", "format": "date" },
                        "from": { "type": "string", "format": "date-time" },
                        "to": { "type": "string", "format": "date-time" },
                        "reconciles": { "type": "boolean", "description": "True when every line reconciles." },
                        "lines": { "type": "array", "items": { "$ref": "#/components/schemas/ControlLine" } }
                    }
                },
                "ControlLine": {
                    "type": "object",
                    "description": "One file and currency. Counts are per file; amounts are exact decimals as strings, in `currency`. read_total = applied + queued + reversed + duplicate + rejected when `reconciles`; queued = since_applied + since_returned + since_written_off + still_open.",
                    "properties": {
                        "file": { "type": "string" },
                        "file_id": { "type": "string" },
                        "received_at": { "type": "string", "format": "date-time" },
                        "status": { "type": "string", "enum": ["processing", "completed", "quarantined"] },
                        "currency": { "type": ["string", "null"] },
                        "records": { "type": "integer" },
                        "read_total": { "type": "string" },
                        "applied": { "type": "string" },
                        "queued": { "type": "string" },
                        "reversed": { "type": "string" },
                        "duplicate": { "type": "string" },
                        "rejected": { "type": "string" },
                        "since_applied": { "type": "string" },
                        "since_returned": { "type": "string" },
                        "since_written_off": { "type": "string" },
                        "still_open": { "type": "string" },
                        "difference": { "type": "string" },
                        "reconciles": { "type": "boolean" },
                        "note": { "type": "string" }
                    }
                },
                "ChangeResult": {
                    "type": "object",
                    "properties": {
                        "item": { "$ref": "#/components/schemas/Item" },
                        "changed": { "type": "boolean", "description": "False when the same change had already happened (a retry)." }
                    }
                }
            }
        }
    })
}
