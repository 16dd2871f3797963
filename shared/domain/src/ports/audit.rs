//! The audit trail of research items: what each change records (who, when, what, before and
//! after), and the change a store writes with it in one transaction.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ports::{Posting, ResearchItem, StoreError};

/// What an audit entry records (stored as its kebab-case name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditAction {
    Claim,
    Release,
    Resolve,
    Return,
    Escalate,
    RequestWriteOff,
    ApproveWriteOff,
    RejectWriteOff,
    /// A resolve above the four-eyes limit, waiting for a second person.
    RequestResolve,
    ApproveResolve,
    RejectResolve,
    Note,
}

impl AuditAction {
    /// Every action, in the order of the enum.
    pub const ALL: [AuditAction; 12] = {
        use AuditAction::*;
        [
            Claim,
            Release,
            Resolve,
            Return,
            Escalate,
            RequestWriteOff,
            ApproveWriteOff,
            RejectWriteOff,
            RequestResolve,
            ApproveResolve,
            RejectResolve,
            Note,
        ]
    };

    pub fn as_str(&self) -> &'static str {
        match self {
            AuditAction::Claim => "claim",
            AuditAction::Release => "release",
            AuditAction::Resolve => "resolve",
            AuditAction::Return => "return",
            AuditAction::Escalate => "escalate",
            AuditAction::RequestWriteOff => "request-write-off",
            AuditAction::ApproveWriteOff => "approve-write-off",
            AuditAction::RejectWriteOff => "reject-write-off",
            AuditAction::RequestResolve => "request-resolve",
            AuditAction::ApproveResolve => "approve-resolve",
            AuditAction::RejectResolve => "reject-resolve",
            AuditAction::Note => "note",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// An item's state as the audit trail keeps it, before and after a change. Card numbers masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemSnapshot {
    pub status: String,
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_expires_at: Option<DateTime<Utc>>,
    /// The account applied to, masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
}

impl ItemSnapshot {
    pub fn of(item: &ResearchItem) -> Self {
        let d = item.disposition.as_ref();
        Self {
            status: item.status.as_str().to_string(),
            version: item.version,
            claimed_by: item.claim.as_ref().map(|c| c.analyst.clone()),
            claim_expires_at: item.claim.as_ref().map(|c| c.expires_at),
            account: d.and_then(|d| d.account.as_ref()).map(|a| a.masked()),
            reason: d.and_then(|d| d.reason.clone()),
            approved_by: d.and_then(|d| d.approved_by.clone()),
        }
    }
}

/// One line of an item's append-only audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub item: String,
    /// Position in the item's trail: the item's version after the change (set by the store).
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: AuditAction,
    pub before: ItemSnapshot,
    pub after: ItemSnapshot,
    /// The analyst's words (note, reason), card numbers masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A change to write: conditional on `expected_version`, with its audit entry and, for a
/// resolution, the posting, all in one transaction (`QueueOps::transition`).
#[derive(Clone, Debug)]
pub struct ItemChange {
    pub expected_version: u64,
    pub after: ResearchItem,
    pub audit: AuditEntry,
    pub posting: Option<Posting>,
}

/// The claim port's precondition, the same for every store: the audit entry a claim appends is
/// a claim of that very item (anything else is a caller's bug, refused before any write).
pub fn check_claim_entry(id: &str, audit: &AuditEntry) -> Result<(), StoreError> {
    if audit.action != AuditAction::Claim || audit.item != id {
        return Err(StoreError::Conflict("a claim's audit entry must be a claim of the same item".into()));
    }
    Ok(())
}
