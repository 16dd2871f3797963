//! Research SLAs. For now a fixed number of hours per market; business calendars come later.

use chrono::{DateTime, Duration, Utc};

use crate::payment::{Market, PerMarket};

/// How long a market's ops team has to resolve a research item, in hours.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlaPolicy {
    pub hours: PerMarket<i64>,
}

impl Default for SlaPolicy {
    /// India resolves within a day (e-collect refunds are expected T+1); Canada and EU in two.
    fn default() -> Self {
        Self { hours: PerMarket { ca: 48, india: 24, eu: 48 } }
    }
}

impl SlaPolicy {
    /// When an item created at `created` must be resolved.
    pub fn due_at(&self, market: Market, created: DateTime<Utc>) -> DateTime<Utc> {
        created + Duration::hours(self.hours.get(market))
    }
}
