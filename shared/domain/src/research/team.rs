//! The team view (issue 16): one market's queue at a glance for its leads and leadership. Open
//! items by reason and by SLA state (on track, warning, breached), the oldest first, who holds
//! which claim, and what each analyst closed today (the market's local day).
//!
//! Read from two indexes both stores keep: the sparse open index (market, due time) page by page,
//! and the closed index (market, disposition time) over the day. At most `MAX_TEAM_ITEMS` of
//! each are read; `truncated` says when a queue is longer.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::decision::ReasonCode;
use crate::model::money::Money;
use crate::model::payment::Market;
use crate::ports::{active_claim, ItemStatus, QueueCursor, QueueOps, ResearchItem, StoreError};

/// At most this many open items, and this many closed ones, are read for one market's view.
pub const MAX_TEAM_ITEMS: usize = 5_000;

/// Oldest items listed.
pub const OLDEST_SHOWN: usize = 20;

/// Where an open item stands against its SLA at the view's instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SlaState {
    OnTrack,
    /// Past the warning point (`ResearchItem::warn_at`).
    Warning,
    /// Past the due time.
    Breached,
}

impl SlaState {
    /// The state of `item` at `now`.
    pub fn of(item: &ResearchItem, now: DateTime<Utc>) -> Self {
        if now >= item.due_at {
            Self::Breached
        } else if now >= item.warn_at {
            Self::Warning
        } else {
            Self::OnTrack
        }
    }
}

/// Counts of open items by SLA state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SlaCounts {
    pub on_track: usize,
    pub warning: usize,
    pub breached: usize,
}

impl SlaCounts {
    fn add(&mut self, s: SlaState) {
        match s {
            SlaState::OnTrack => self.on_track += 1,
            SlaState::Warning => self.warning += 1,
            SlaState::Breached => self.breached += 1,
        }
    }
}

/// Open items of one reason.
#[derive(Clone, Debug, Serialize)]
pub struct ReasonRow {
    pub reason: ReasonCode,
    #[serde(flatten)]
    pub counts: SlaCounts,
    /// When the oldest of them came in.
    pub oldest: DateTime<Utc>,
}

/// An open item as the team view lists it.
#[derive(Clone, Debug, Serialize)]
pub struct OpenRow {
    pub id: String,
    pub reason: ReasonCode,
    pub status: ItemStatus,
    #[serde(flatten)]
    pub amount: Money,
    pub created_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub sla: SlaState,
    /// The analyst holding a current claim, if any.
    pub claimed_by: Option<String>,
    pub claim_until: Option<DateTime<Utc>>,
}

/// What one analyst closed today.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AnalystDay {
    pub analyst: String,
    pub resolved: usize,
    pub returned: usize,
    pub written_off: usize,
}

/// One market's team view.
#[derive(Clone, Debug, Serialize)]
pub struct TeamView {
    pub market: Market,
    pub at: DateTime<Utc>,
    pub open: SlaCounts,
    pub by_reason: Vec<ReasonRow>,
    /// The oldest open items (by arrival), at most `OLDEST_SHOWN`.
    pub oldest: Vec<OpenRow>,
    /// Every current claim, soonest to expire first.
    pub claims: Vec<OpenRow>,
    /// What each analyst closed since the market's local midnight, most resolved first.
    pub closed_today: Vec<AnalystDay>,
    /// True when the queue or the day held more than `MAX_TEAM_ITEMS` items (counts are then
    /// of the first ones read).
    pub truncated: bool,
}

fn row(item: &ResearchItem, now: DateTime<Utc>) -> OpenRow {
    let claim = active_claim(item, now);
    OpenRow {
        id: item.id.clone(),
        reason: item.reason_code,
        status: item.status,
        amount: item.amount,
        created_at: item.created_at,
        due_at: item.due_at,
        sla: SlaState::of(item, now),
        claimed_by: claim.map(|c| c.analyst.clone()),
        claim_until: claim.map(|c| c.expires_at),
    }
}

/// Reads every page of an index (at most `MAX_TEAM_ITEMS` items); true when it held more.
fn read_all(
    mut page: impl FnMut(Option<&QueueCursor>) -> Result<Vec<ResearchItem>, StoreError>,
    cursor_of: fn(&ResearchItem) -> Option<QueueCursor>,
) -> Result<(Vec<ResearchItem>, bool), StoreError> {
    let mut all: Vec<ResearchItem> = Vec::new();
    let mut after: Option<QueueCursor> = None;
    loop {
        let got = page(after.as_ref())?;
        let next = got.last().and_then(cursor_of);
        let full = got.len() == crate::ports::MAX_INDEX_RESULTS;
        all.extend(got);
        if all.len() >= MAX_TEAM_ITEMS {
            all.truncate(MAX_TEAM_ITEMS);
            return Ok((all, true));
        }
        // A page that does not move on (a store's bug) ends the read rather than looping.
        if !full || next.is_none() || next == after {
            return Ok((all, false));
        }
        after = next;
    }
}

/// The team view of `market` at `now`; the day closed items are counted over starts at
/// `day_start` (the market's local midnight).
pub fn team_view<S: QueueOps + ?Sized>(
    store: &S,
    market: Market,
    now: DateTime<Utc>,
    day_start: DateTime<Utc>,
) -> Result<TeamView, StoreError> {
    let page = crate::ports::MAX_INDEX_RESULTS;
    let (open, more_open) =
        read_all(|after| store.open_page(market, after, page), |i| Some(QueueCursor::due(i)))?;
    let (closed, more_closed) =
        read_all(|after| store.closed_between(market, day_start, now, after, page), QueueCursor::closed)?;

    let mut counts = SlaCounts::default();
    let mut by_reason: BTreeMap<ReasonCode, ReasonRow> = BTreeMap::new();
    for item in &open {
        let s = SlaState::of(item, now);
        counts.add(s);
        let r = by_reason.entry(item.reason_code).or_insert_with(|| ReasonRow {
            reason: item.reason_code,
            counts: SlaCounts::default(),
            oldest: item.created_at,
        });
        r.counts.add(s);
        r.oldest = r.oldest.min(item.created_at);
    }
    let mut by_reason: Vec<ReasonRow> = by_reason.into_values().collect();
    by_reason.sort_by_key(|r| r.oldest);

    let mut oldest: Vec<&ResearchItem> = open.iter().collect();
    oldest.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
    let oldest = oldest.into_iter().take(OLDEST_SHOWN).map(|i| row(i, now)).collect();

    let mut claims: Vec<OpenRow> =
        open.iter().filter(|i| active_claim(i, now).is_some()).map(|i| row(i, now)).collect();
    claims.sort_by(|a, b| a.claim_until.cmp(&b.claim_until).then_with(|| a.id.cmp(&b.id)));

    let mut days: BTreeMap<String, AnalystDay> = BTreeMap::new();
    for item in &closed {
        let Some(d) = item.disposition.as_ref() else { continue };
        let day = days
            .entry(d.by.clone())
            .or_insert_with(|| AnalystDay { analyst: d.by.clone(), ..AnalystDay::default() });
        match item.status {
            ItemStatus::Resolved => day.resolved += 1,
            ItemStatus::Returned => day.returned += 1,
            ItemStatus::WrittenOff => day.written_off += 1,
            _ => {}
        }
    }
    let mut closed_today: Vec<AnalystDay> = days.into_values().collect();
    closed_today.sort_by(|a, b| b.resolved.cmp(&a.resolved).then_with(|| a.analyst.cmp(&b.analyst)));

    Ok(TeamView {
        market,
        at: now,
        open: counts,
        by_reason,
        oldest,
        claims,
        closed_today,
        truncated: more_open || more_closed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn sla_state_turns_at_the_warning_point_and_at_the_due_time() {
        let mut item = crate::research::queue::tests::item();
        let t0 = item.created_at;
        item.warn_at = t0 + Duration::hours(4);
        item.due_at = t0 + Duration::hours(8);
        assert_eq!(SlaState::of(&item, t0), SlaState::OnTrack);
        assert_eq!(SlaState::of(&item, t0 + Duration::hours(4)), SlaState::Warning);
        assert_eq!(SlaState::of(&item, t0 + Duration::hours(8)), SlaState::Breached);
    }
}
