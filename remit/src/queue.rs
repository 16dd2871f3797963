//! `remit queue ...`: the research queue from the command line (issue 6). Every output masks
//! card numbers; refusals (claimed by another analyst, four eyes...) exit non-zero with the reason.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, Result};
use chrono::{DateTime, Utc};
use remit_domain::ports::AccountDirectory;
use remit_domain::ports::{active_claim, AuditAction, AuditEntry, ItemSnapshot, QueueFilter};
use remit_domain::ports::{ItemStatus, PaymentLog, QueueOps, ResearchItem};
use remit_domain::research::queue::{self, Action, Done, QueuePolicy};
use remit_domain::{mask_card_numbers, AccountNumber, Market, ReasonCode};

use crate::commands::{one_line, open_store};

/// What `queue list` shows.
pub struct ListArgs {
    pub market: Option<Market>,
    pub statuses: Vec<ItemStatus>,
    pub reason: Option<String>,
    pub claimed_by: Option<String>,
    pub due_before: Option<String>,
    pub json: bool,
    pub limit: usize,
}

/// Parses an instant given on the command line (RFC 3339).
pub fn parse_instant(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| anyhow!("{s:?} is not an RFC 3339 instant (e.g. 2026-11-21T12:00:00Z)"))
}

fn parse_reason(s: &str) -> Result<ReasonCode> {
    serde_json::from_value(serde_json::Value::String(s.trim().to_ascii_lowercase()))
        .map_err(|_| anyhow!("unknown reason code {s:?} (e.g. no-reference, ambiguous, unknown-account)"))
}

/// `remit queue list`: items of one market (or all), earliest due first, filtered.
pub fn list(data_dir: &Path, args: &ListArgs, out: &mut impl Write) -> Result<ExitCode> {
    let store = open_store(data_dir)?;
    let filter = QueueFilter {
        statuses: args.statuses.clone(),
        reason: args.reason.as_deref().map(parse_reason).transpose()?,
        claimed_by: args.claimed_by.clone(),
        due_before: args.due_before.as_deref().map(parse_instant).transpose()?,
        now: Some(Utc::now()),
    };
    let markets: Vec<Market> = args.market.map(|m| vec![m]).unwrap_or_else(|| Market::ALL.to_vec());
    let now = Utc::now();
    for m in markets {
        let items = store.list(m, &filter, args.limit)?;
        if args.json {
            for item in &items {
                serde_json::to_writer(&mut *out, item)?;
                out.write_all(b"\n")?;
            }
            continue;
        }
        writeln!(out, "{m} research queue: {} item(s)", items.len())?;
        for i in &items {
            let claim = active_claim(i, now).map(|c| format!("claimed by {}", c.analyst));
            writeln!(
                out,
                "{}",
                mask_card_numbers(&format!(
                    "  {}  due {}  {:>12} {}  {:<17} {:<28} {:<16} {}  {}",
                    i.id,
                    i.due_at.format("%Y-%m-%d %H:%M UTC"),
                    i.amount.amount(),
                    i.amount.currency().code(),
                    i.status.as_str(),
                    truncate(&one_line(i.payer_name.as_deref().unwrap_or("-")), 28),
                    reason_code(i.reason_code),
                    i.candidate.as_ref().map(|c| c.masked()).unwrap_or_else(|| "-".into()),
                    claim.unwrap_or_default(),
                ))
                .trim_end()
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn reason_code(c: ReasonCode) -> String {
    serde_json::to_value(c).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// `remit queue show ID`: the item, its payment (masked), reasons, notes and audit trail.
pub fn show(data_dir: &Path, id: &str, json: bool, out: &mut impl Write) -> Result<ExitCode> {
    let store = open_store(data_dir)?;
    let item = store.item(id)?.ok_or_else(|| anyhow!("research item {} not found", mask_card_numbers(id)))?;
    let trail = store.audit_trail(id)?;
    let payment_state = store.payment_state(&item.payment_key)?.map(|s| s.as_str()).unwrap_or("unknown");
    if json {
        let v = serde_json::json!({
            "item": item,
            "payment_state": payment_state,
            "audit": trail,
        });
        serde_json::to_writer(&mut *out, &v)?;
        out.write_all(b"\n")?;
        return Ok(ExitCode::SUCCESS);
    }
    let text = show_text(&item, payment_state, &trail, Utc::now());
    write!(out, "{}", mask_card_numbers(&text))?;
    Ok(ExitCode::SUCCESS)
}

fn show_text(item: &ResearchItem, payment_state: &str, trail: &[AuditEntry], now: DateTime<Utc>) -> String {
    let mut s = String::new();
    // One line per call: whatever a file or a note put in a field (a newline, a terminal
    // escape) is shown escaped, so it cannot forge a line or recolour the terminal.
    let mut line = |l: String| {
        s.push_str(&one_line(&l));
        s.push('\n');
    };
    line(format!("research item {} ({} queue), version {}", item.id, item.market, item.version));
    line(format!("  status:     {}", item.status.as_str()));
    match active_claim(item, now) {
        Some(c) => {
            line(format!("  claimed by: {} until {}", c.analyst, c.expires_at.format("%Y-%m-%d %H:%M UTC")))
        }
        None => line("  claimed by: -".into()),
    }
    line(format!(
        "  created:    {}   due: {}",
        item.created_at.format("%Y-%m-%d %H:%M UTC"),
        item.due_at.format("%Y-%m-%d %H:%M UTC")
    ));
    line(format!("  payment:    {} ({}), {}", item.payment_key, payment_state, item.amount));
    line(format!("  bank ref:   {}", item.bank_ref));
    line(format!("  payer:      {}", item.payer_name.as_deref().unwrap_or("-")));
    line(format!("  file:       {}", item.file_id.short()));
    line(format!(
        "  candidate:  {} (confidence {:.2})",
        item.candidate.as_ref().map(|c| c.masked()).unwrap_or_else(|| "-".into()),
        item.confidence
    ));
    // Issue 16: every account the matcher considered, best first, and what kept it back.
    for (i, c) in item.candidates.iter().enumerate() {
        line(format!(
            "    {}. {} (confidence {:.2}): not applied: [{}] {}",
            i + 1,
            c.account.masked(),
            c.confidence,
            reason_code(c.not_applied.code),
            c.not_applied.text
        ));
    }
    line(format!("  reason:     {}", reason_code(item.reason_code)));
    for r in &item.reasons {
        line(format!("    - [{}] {}", reason_code(r.code), r.text));
    }
    if let Some(d) = &item.disposition {
        let mut what = format!("  decided:    by {} at {}", d.by, d.at.format("%Y-%m-%d %H:%M UTC"));
        if let Some(a) = &d.account {
            what.push_str(&format!(", applied to {}", a.masked()));
        }
        if let Some(r) = &d.reason {
            what.push_str(&format!(": {r}"));
        }
        if let Some(a) = &d.approved_by {
            what.push_str(&format!(" (approved by {a})"));
        }
        line(what);
    }
    let notes: Vec<&AuditEntry> = trail.iter().filter(|e| e.action == AuditAction::Note).collect();
    line(format!("notes ({}):", notes.len()));
    for n in notes {
        line(format!(
            "  {} {}: {}",
            n.at.format("%Y-%m-%d %H:%M UTC"),
            n.actor,
            n.note.as_deref().unwrap_or("")
        ));
    }
    line(format!("audit trail ({}):", trail.len()));
    for e in trail {
        let snap = |x: &ItemSnapshot| {
            let mut t = x.status.clone();
            if let Some(c) = &x.claimed_by {
                t.push_str(&format!(" claimed:{c}"));
            }
            if let Some(a) = &x.account {
                t.push_str(&format!(" account:{a}"));
            }
            t
        };
        let mut l = format!(
            "  #{} {} {} {}: {} -> {}",
            e.seq,
            e.at.format("%Y-%m-%d %H:%M:%S UTC"),
            e.actor,
            e.action.as_str(),
            snap(&e.before),
            snap(&e.after)
        );
        if let Some(n) = &e.note {
            l.push_str(&format!(" ({n})"));
        }
        line(l);
    }
    s
}

/// What an analyst does from the command line.
pub enum Op {
    Claim,
    Resolve {
        account: String,
    },
    /// A second person approves a resolve above the market's four-eyes limit (it posts then).
    ApproveResolve,
    Other(Action),
}

/// `remit queue claim|release|resolve|approve-resolve|reject-resolve|return|escalate|note|
/// write-off|approve-write-off|reject-write-off`: one change, checked by the queue's rules and `policy` (claim duration, note
/// limits), recorded in the audit trail.
pub fn act(
    data_dir: &Path,
    id: &str,
    analyst: &str,
    op: Op,
    policy: &QueuePolicy,
    out: &mut impl Write,
) -> Result<ExitCode> {
    let store = open_store(data_dir)?;
    let now = Utc::now();
    let done: Done = match op {
        Op::Claim => queue::claim(&store, id, analyst, now, policy)?,
        Op::Resolve { account } => {
            let account: AccountNumber =
                account.parse().map_err(|e| anyhow!("--account {}: {e}", mask_card_numbers(&account)))?;
            queue::resolve_by_applying(&store, id, &store.card_key().card(&account), analyst, now, policy)?
        }
        Op::ApproveResolve => queue::approve_resolve(&store, id, analyst, now)?,
        Op::Other(action) => queue::act(&store, id, analyst, &action, now, policy)?,
    };
    let item = &done.item;
    let mut msg = format!("{}: {}", item.id, item.status.as_str());
    if let Some(c) = active_claim(item, now) {
        msg.push_str(&format!(
            ", claimed by {} until {}",
            c.analyst,
            c.expires_at.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    if let Some(d) = &item.disposition {
        if let Some(a) = &d.account {
            msg.push_str(&format!(", {} applied to {}", item.amount, a.masked()));
        }
    }
    if !done.changed {
        msg.push_str(" (already done: nothing changed)");
    }
    writeln!(out, "{}", mask_card_numbers(&msg))?;
    Ok(ExitCode::SUCCESS)
}
