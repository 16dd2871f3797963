//! Research SLAs. For now a fixed number of hours per market; business calendars come later.

use chrono::{DateTime, Duration, Utc};

use crate::payment::Market;

/// How long a market's ops team has to resolve a research item.
#[derive(Clone, Debug)]
pub struct SlaPolicy {
    pub ca_hours: i64,
    pub in_hours: i64,
    pub eu_hours: i64,
}

impl Default for SlaPolicy {
    /// India resolves within a day (e-collect refunds are expected T+1); Canada and EU in two.
    fn default() -> Self {
        Self { ca_hours: 48, in_hours: 24, eu_hours: 48 }
    }
}

impl SlaPolicy {
    /// When an item created at `created` must be resolved.
    pub fn due_at(&self, market: Market, created: DateTime<Utc>) -> DateTime<Utc> {
        let hours = match market {
            Market::CA => self.ca_hours,
            Market::IN => self.in_hours,
            Market::EU => self.eu_hours,
        };
        created + Duration::hours(hours)
    }
}
