//! The research queues (`ResearchQueue`) and their operations (`QueueOps`). Research items are
//! keyed by id; `open-by-due` (sparse: `open_market` is set while the item is active) and
//! `by-market-due` order a market's items by due time, `by-file` finds a file's items. Every
//! change is conditional on the item's version and appends its audit entry (item, seq) with
//! `attribute_not_exists` in the same transaction; nothing updates or deletes an audit entry.
//! `closed-by-market` (sparse: `closed_market` and `closed_sort` are set by the change that
//! closes the item, on the item's own update) orders a market's closed items by disposition time.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use remit_domain::model::decision::Candidate;
use remit_domain::ports::{
    AuditAction, AuditEntry, Claim, Disposition, ItemChange, ItemStatus, PaymentState, QueueCursor,
    QueueFilter, QueueOps, ResearchItem, ResearchQueue, StoreError, Transition, MAX_AUDIT_PAGE,
    MAX_INDEX_RESULTS,
};
use remit_domain::{CardRef, Decision, FileId, Market, PaymentKey, ReasonCode};

use crate::calls::{Expr, Query, Role, Transaction, Write, PAGE};
use crate::codec::{corrupt, dec, item, json, num, s, sort_key, strings, ts, Item, Read};
use crate::tables::index;
use crate::DynamoStore;

/// Attempts at a claim whose item changed between the read and the write (a note, say).
const CLAIM_ATTEMPTS: usize = 5;

pub(crate) fn item_key(id: &str) -> Item {
    item([("id", Some(s(id)))])
}

/// A disposition as stored: the account in full (the store holds card numbers; nothing it
/// returns prints them unmasked). The same JSON as the SQLite store's.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredDisposition {
    by: String,
    at: DateTime<Utc>,
    account: Option<String>,
    reason: Option<String>,
    approved_by: Option<String>,
}

fn disposition_json(d: &Disposition) -> Result<String, StoreError> {
    json(&StoredDisposition {
        by: d.by.clone(),
        at: d.at,
        account: d.account.as_ref().map(|a| a.stored().to_string()),
        reason: d.reason.clone(),
        approved_by: d.approved_by.clone(),
    })
}

fn read_disposition(r: &Read<'_>) -> Result<Option<Disposition>, StoreError> {
    if r.opt_s("disposition")?.is_none() {
        return Ok(None);
    }
    let d: StoredDisposition = r.json("disposition")?;
    Ok(Some(Disposition {
        by: d.by,
        at: d.at,
        account: match d.account {
            Some(a) => {
                Some(CardRef::from_stored(&a).map_err(|_| {
                    StoreError::Corrupt("disposition account: not an account (masked)".into())
                })?)
            }
            None => None,
        },
        reason: d.reason,
        approved_by: d.approved_by,
    }))
}

/// The closed index's sort key of an item (`None` while it is active): its disposition time and id.
fn closed_sort(it: &ResearchItem) -> Option<String> {
    it.closed_at().map(|at| sort_key(at, &it.id))
}

fn reason_code_text(code: ReasonCode) -> String {
    serde_json::to_value(code).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// A new item as `enqueue` writes it: no claim, no disposition, version 0 (as the SQLite store,
/// whatever the caller's item says), in the pending-alert indexes while active.
pub(crate) fn new_item(it: &ResearchItem) -> Result<Item, StoreError> {
    if !it.confidence.is_finite() {
        return Err(StoreError::Conflict(format!("research item {}: confidence is not a number", it.id)));
    }
    let market = it.market.code();
    let active = it.status.is_active();
    Ok(item([
        ("id", Some(s(&it.id))),
        ("payment_key", Some(s(it.payment_key.as_str()))),
        ("market", Some(s(market))),
        ("file_id", Some(s(it.file_id.to_hex()))),
        ("bank_ref", Some(s(&it.bank_ref))),
        ("amount", Some(dec(it.amount.amount()))),
        ("currency", Some(s(it.amount.currency().code()))),
        ("payer_name", it.payer_name.as_deref().map(s)),
        ("payer_identities", Some(strings(&it.payer_identities))),
        ("reason_code", Some(s(reason_code_text(it.reason_code)))),
        ("reasons", Some(s(json(&it.reasons)?))),
        ("candidate", it.candidate.as_ref().map(|c| s(c.stored()))),
        // Absent: none (`Candidate::stored_list`, the same JSON as the SQLite store's column).
        ("candidates", (!it.candidates.is_empty()).then(|| s(Candidate::stored_list(&it.candidates)))),
        ("confidence", Some(aws_sdk_dynamodb::types::AttributeValue::N(it.confidence.to_string()))),
        ("created_at", Some(s(ts(it.created_at)))),
        ("warn_at", Some(s(ts(it.warn_at)))),
        ("due_at", Some(s(ts(it.due_at)))),
        ("warn_sort", Some(s(sort_key(it.warn_at, &it.id)))),
        ("due_sort", Some(s(sort_key(it.due_at, &it.id)))),
        ("status", Some(s(it.status.as_str()))),
        ("version", Some(num(0))),
        ("linking_refs", Some(strings(&it.linking_refs))),
        ("open_market", active.then(|| s(market))),
        ("warn_pending", active.then(|| s(market))),
        ("breach_pending", active.then(|| s(market))),
        ("closed_market", it.closed_at().map(|_| s(market))),
        ("closed_sort", closed_sort(it).map(s)),
    ]))
}

/// A research item read back.
pub(crate) fn item_from(it: &Item) -> Result<ResearchItem, StoreError> {
    let r = Read::new(it, "research item");
    let market = r.s("market")?;
    let file_id = r.s("file_id")?;
    let code = r.s("reason_code")?;
    let status = r.s("status")?;
    Ok(ResearchItem {
        id: r.string("id")?,
        payment_key: PaymentKey::from_stored(r.string("payment_key")?),
        market: Market::from_str(market).map_err(|_| corrupt("market", market))?,
        file_id: FileId::from_str(file_id).map_err(|_| corrupt("file id", file_id))?,
        bank_ref: r.string("bank_ref")?,
        amount: r.money("amount", "currency")?,
        payer_name: r.opt_string("payer_name")?,
        payer_identities: r.strings("payer_identities")?,
        reason_code: serde_json::from_value(serde_json::Value::String(code.to_string()))
            .map_err(|_| corrupt("reason code", code))?,
        reasons: r.json("reasons")?,
        candidate: r.opt_account("candidate")?,
        candidates: match r.opt_s("candidates")? {
            Some(text) => Candidate::from_stored_list(text).ok_or_else(|| {
                StoreError::Corrupt("research item candidates: not the JSON expected".into())
            })?,
            None => Vec::new(),
        },
        confidence: r.f64("confidence")?,
        created_at: r.ts("created_at")?,
        warn_at: r.ts("warn_at")?,
        due_at: r.ts("due_at")?,
        status: ItemStatus::parse(status).ok_or_else(|| corrupt("item status", status))?,
        claim: match (r.opt_string("claimed_by")?, r.opt_ts("claim_expires_at")?) {
            (Some(analyst), Some(expires_at)) => Some(Claim { analyst, expires_at }),
            _ => None,
        },
        version: r.u64("version")?,
        disposition: read_disposition(&r)?,
        linking_refs: r.strings("linking_refs")?,
    })
}

fn audit_item(a: &AuditEntry, seq: u64) -> Result<Item, StoreError> {
    Ok(item([
        ("item", Some(s(&a.item))),
        ("seq", Some(num(seq))),
        ("at", Some(s(ts(a.at)))),
        ("actor", Some(s(&a.actor))),
        ("action", Some(s(a.action.as_str()))),
        ("before", Some(s(json(&a.before)?))),
        ("after", Some(s(json(&a.after)?))),
        ("note", a.note.as_deref().map(s)),
    ]))
}

fn audit_from(it: &Item) -> Result<AuditEntry, StoreError> {
    let r = Read::new(it, "audit entry");
    let action = r.s("action")?;
    Ok(AuditEntry {
        item: r.string("item")?,
        seq: r.u64("seq")?,
        at: r.ts("at")?,
        actor: r.string("actor")?,
        action: AuditAction::parse(action).ok_or_else(|| corrupt("audit action", action))?,
        before: r.json("before")?,
        after: r.json("after")?,
        note: r.opt_string("note")?,
    })
}

/// An update expression built from SET and REMOVE clauses.
#[derive(Default)]
struct Changes {
    set: Vec<String>,
    remove: Vec<&'static str>,
    expr: Vec<(String, aws_sdk_dynamodb::types::AttributeValue)>,
}

impl Changes {
    /// `attr` set to `v`, or removed when `v` is none.
    fn put(&mut self, attr: &'static str, v: Option<aws_sdk_dynamodb::types::AttributeValue>) {
        match v {
            Some(v) => {
                self.set.push(format!("#{attr} = :{attr}"));
                self.expr.push((format!(":{attr}"), v));
            }
            None => self.remove.push(attr),
        }
    }

    fn into_expr(self) -> Expr {
        let mut text = String::new();
        if !self.set.is_empty() {
            text.push_str("SET ");
            text.push_str(&self.set.join(", "));
        }
        if !self.remove.is_empty() {
            let removed: Vec<String> = self.remove.iter().map(|a| format!("#{a}")).collect();
            text.push_str(&format!(" REMOVE {}", removed.join(", ")));
        }
        let mut e = Expr::new(text.trim().to_string());
        e.values = self.expr;
        e
    }
}

impl DynamoStore {
    /// An item and its stored attributes (the pending-alert marks are not in `ResearchItem`).
    fn stored_item(&self, id: &str) -> Result<Option<(ResearchItem, Item)>, StoreError> {
        match self.get("research item", &self.tables.research_items, item_key(id))? {
            Some(raw) => Ok(Some((item_from(&raw)?, raw))),
            None => Ok(None),
        }
    }

    fn audit_put(&self, a: &AuditEntry, seq: u64) -> Result<Write, StoreError> {
        Ok(Write::Put {
            table: self.tables.research_audit.clone(),
            item: audit_item(a, seq)?,
            cond: Some(Expr::new("attribute_not_exists(#item)")),
        })
    }

    /// Items of a research item index partition, in index order, up to `limit`.
    fn items_by(
        &self,
        index: &str,
        attr: &str,
        value: &str,
        limit: usize,
    ) -> Result<Vec<ResearchItem>, StoreError> {
        let q = Query {
            table: &self.tables.research_items,
            index: Some(index),
            key: Expr::new(format!("#{attr} = :v")).value(":v", s(value)),
            consistent: false,
        };
        self.query("research items", &q, limit)?.iter().map(item_from).collect()
    }
}

impl ResearchQueue for DynamoStore {
    fn enqueue(&self, it: &ResearchItem) -> Result<Transition, StoreError> {
        let decision = Decision {
            outcome: remit_domain::Outcome::Research,
            account: it.candidate,
            confidence: it.confidence,
            reasons: it.reasons.clone(),
            splits: Vec::new(),
            candidates: Vec::new(),
        };
        let mut tx = Transaction::default();
        let cond = Some(Expr::new("attribute_not_exists(#id)"));
        tx.add(
            Role::Item,
            Write::Put { table: self.tables.research_items.clone(), item: new_item(it)?, cond },
        );
        let (from, to) = (PaymentState::Received, PaymentState::Queued);
        tx.add(Role::Payment, self.advance_payment(&it.payment_key, from, to, &decision, it.created_at)?);
        // The item exists, or the payment was decided otherwise: a duplicate, not an error.
        Ok(match self.transact("enqueue", tx)? {
            Ok(()) => Transition::Done,
            Err(_) => Transition::AlreadyDone,
        })
    }

    fn open_items(&self, market: Market, limit: usize) -> Result<Vec<ResearchItem>, StoreError> {
        self.items_by(index::OPEN_BY_DUE, "open_market", market.code(), limit)
    }
}

impl QueueOps for DynamoStore {
    fn item(&self, id: &str) -> Result<Option<ResearchItem>, StoreError> {
        Ok(self.stored_item(id)?.map(|(it, _)| it))
    }

    fn list(
        &self,
        market: Market,
        filter: &QueueFilter,
        limit: usize,
    ) -> Result<Vec<ResearchItem>, StoreError> {
        let limit = limit.min(MAX_INDEX_RESULTS);
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        // The sparse open index when only active items are wanted; the filter applies to what
        // the query returns, as a filter expression would (a due-before bound narrows the range).
        let (index, attr) = if filter.active_only() {
            (index::OPEN_BY_DUE, "open_market")
        } else {
            (index::BY_MARKET_DUE, "market")
        };
        let mut text = format!("#{attr} = :m");
        if filter.due_before.is_some() {
            text.push_str(" AND #due_sort < :before");
        }
        let mut key = Expr::new(text).value(":m", s(market.code()));
        if let Some(before) = filter.due_before {
            key = key.value(":before", s(ts(before)));
        }
        let q = Query { table: &self.tables.research_items, index: Some(index), key, consistent: false };
        self.query_each("queue list", &q, PAGE, |raw| {
            let it = item_from(&raw)?;
            if filter.accepts(&it) {
                out.push(it);
            }
            Ok(out.len() < limit)
        })?;
        Ok(out)
    }

    fn claim(
        &self,
        id: &str,
        analyst: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<ResearchItem, StoreError> {
        remit_domain::ports::check_claim_entry(id, audit)?;
        let refused = || StoreError::Conflict(format!("research item {id} is not claimable"));
        for _ in 0..CLAIM_ATTEMPTS {
            let Some((mut it, _)) = self.stored_item(id)? else { return Err(refused()) };
            let free = it.claim.as_ref().is_none_or(|c| c.analyst == analyst || c.expires_at <= now);
            if !it.status.is_active() || !free {
                return Err(refused());
            }
            // Conditional on the version read: the item is as judged claimable above.
            let version = it.version + 1;
            let mut tx = Transaction::default();
            tx.add(
                Role::Item,
                Write::Update {
                    table: self.tables.research_items.clone(),
                    key: item_key(id),
                    update: Expr::new("SET #claimed_by = :a, #claim_expires_at = :e, #version = :new")
                        .value(":a", s(analyst))
                        .value(":e", s(ts(expires_at)))
                        .value(":new", num(version)),
                    cond: Some(Expr::new("#version = :v").value(":v", num(it.version))),
                },
            );
            tx.add(Role::Audit, self.audit_put(audit, version)?);
            match self.transact("claim", tx)? {
                Ok(()) => {
                    it.claim = Some(Claim { analyst: analyst.to_string(), expires_at });
                    it.version = version;
                    return Ok(it);
                }
                Err(failed) if failed.contains(&Role::Audit) => {
                    return Err(StoreError::Conflict(format!("audit entry {version} of {id} exists")))
                }
                // The item changed since it was read: judge it again.
                Err(_) => continue,
            }
        }
        Err(StoreError::Conflict(format!("research item {id} keeps changing; claim again")))
    }

    fn transition(&self, c: &ItemChange) -> Result<ResearchItem, StoreError> {
        let a = &c.after;
        if a.version != c.expected_version + 1 || c.audit.item != a.id {
            return Err(StoreError::Conflict(format!("research item {}: inconsistent change", a.id)));
        }
        if let Some(p) = &c.posting {
            p.check_lines()?;
            if p.payment_key != a.payment_key {
                return Err(StoreError::Conflict(format!(
                    "research item {}: posting of another payment",
                    a.id
                )));
            }
        }
        let stale = || {
            StoreError::Conflict(format!("research item {} is not at version {}", a.id, c.expected_version))
        };
        let Some((mut stored, raw)) = self.stored_item(&a.id)? else { return Err(stale()) };
        if stored.version != c.expected_version {
            return Err(stale());
        }
        let market = stored.market.code();
        let mut ch = Changes::default();
        ch.put("status", Some(s(a.status.as_str())));
        ch.put("version", Some(num(a.version)));
        ch.put("claimed_by", a.claim.as_ref().map(|c| s(&c.analyst)));
        ch.put("claim_expires_at", a.claim.as_ref().map(|c| s(ts(c.expires_at))));
        ch.put("disposition", a.disposition.as_ref().map(disposition_json).transpose()?.map(s));
        if a.status.is_active() {
            ch.put("open_market", Some(s(market)));
            if !stored.status.is_active() {
                // Reopened (no domain action does this): pending again, unless already alerted.
                let r = Read::new(&raw, "research item");
                if r.opt_s("warn_notified_at")?.is_none() {
                    ch.put("warn_pending", Some(s(market)));
                }
                if r.opt_s("breach_notified_at")?.is_none() {
                    ch.put("breach_pending", Some(s(market)));
                }
            }
        } else {
            // Closed: out of the queue and of the pending-alert indexes.
            ch.put("open_market", None);
            ch.put("warn_pending", None);
            ch.put("breach_pending", None);
        }
        // The closed index (issue 16): on this same update, no extra action (a resolve's
        // transaction is near DynamoDB's limit).
        ch.put("closed_market", a.closed_at().map(|_| s(market)));
        ch.put("closed_sort", closed_sort(a).map(s));
        let mut tx = Transaction::default();
        tx.add(
            Role::Item,
            Write::Update {
                table: self.tables.research_items.clone(),
                key: item_key(&a.id),
                update: ch.into_expr(),
                cond: Some(Expr::new("#version = :expected").value(":expected", num(c.expected_version))),
            },
        );
        tx.add(Role::Audit, self.audit_put(&c.audit, a.version)?);
        if let Some(p) = &c.posting {
            tx.extend(self.posting_actions(p, PaymentState::Queued)?);
        }
        match self.transact("queue transition", tx)? {
            Ok(()) => {
                stored.status = a.status;
                stored.claim = a.claim.clone();
                stored.disposition = a.disposition.clone();
                stored.version = a.version;
                Ok(stored)
            }
            Err(failed) => Err(if failed.contains(&Role::Item) {
                stale()
            } else if failed.contains(&Role::Audit) {
                StoreError::Conflict(format!("audit entry {} of {} exists", a.version, a.id))
            } else if failed.contains(&Role::Entry) || failed.contains(&Role::Payment) {
                StoreError::Conflict(format!(
                    "payment {} is already posted or no longer queued",
                    a.payment_key
                ))
            } else {
                StoreError::Conflict(format!("research item {}: the account is not in the directory", a.id))
            }),
        }
    }

    fn items_of_file(&self, file: &FileId, limit: usize) -> Result<Vec<ResearchItem>, StoreError> {
        self.items_by(index::BY_FILE, "file_id", &file.to_hex(), limit)
    }

    fn open_page(
        &self,
        market: Market,
        after: Option<&QueueCursor>,
        limit: usize,
    ) -> Result<Vec<ResearchItem>, StoreError> {
        let key = match after {
            None => Expr::new("#open_market = :m").value(":m", s(market.code())),
            Some(c) => Expr::new("#open_market = :m AND #due_sort > :after")
                .value(":m", s(market.code()))
                .value(":after", s(sort_key(c.at, &c.id))),
        };
        let q = Query {
            table: &self.tables.research_items,
            index: Some(index::OPEN_BY_DUE),
            key,
            consistent: false,
        };
        self.query("open page", &q, limit.min(MAX_INDEX_RESULTS))?.iter().map(item_from).collect()
    }

    /// `closed_sort` between the window's start and its end (every key at `to` sorts after
    /// `ts(to)`, every key at `from` after `ts(from)`), from the cursor on, the cursor's own item
    /// passed over (BETWEEN includes its bound).
    fn closed_between(
        &self,
        market: Market,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: Option<&QueueCursor>,
        limit: usize,
    ) -> Result<Vec<ResearchItem>, StoreError> {
        let limit = limit.min(MAX_INDEX_RESULTS);
        let cursor = after.map(|c| sort_key(c.at, &c.id));
        let low = match &cursor {
            Some(c) if *c > ts(from) => c.clone(),
            _ => ts(from),
        };
        let high = ts(to);
        let mut out = Vec::new();
        if limit == 0 || low >= high {
            return Ok(out);
        }
        let key = Expr::new("#closed_market = :m AND #closed_sort BETWEEN :low AND :high")
            .value(":m", s(market.code()))
            .value(":low", s(low))
            .value(":high", s(high));
        let q = Query {
            table: &self.tables.research_items,
            index: Some(index::CLOSED_BY_MARKET),
            key,
            consistent: false,
        };
        self.query_each("closed between", &q, limit + 1, |raw| {
            if cursor.is_some() && Read::new(&raw, "research item").opt_s("closed_sort")? == cursor.as_deref()
            {
                return Ok(true);
            }
            out.push(item_from(&raw)?);
            Ok(out.len() < limit)
        })?;
        Ok(out)
    }

    fn audit_page(&self, id: &str, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let q = Query {
            table: &self.tables.research_audit,
            index: None,
            key: Expr::new("#item = :i AND #seq > :after").value(":i", s(id)).value(":after", num(after)),
            consistent: true,
        };
        self.query("audit trail", &q, limit.min(MAX_AUDIT_PAGE))?.iter().map(audit_from).collect()
    }
}
