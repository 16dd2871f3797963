//! Per-analyst rate limits (issue 15): resolve looks a card number up, so a script that guesses
//! numbers must be slowed to a person's pace.
//!
//! The window is in memory, per process: every Lambda instance and every `remit serve` counts on
//! its own, so with N warm instances an analyst may get up to N times the rate. That still turns
//! a guess-in-100-tries into hours, and needs no table written on every request.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// At most `per_minute` attempts per analyst in any sliding minute.
#[derive(Debug)]
pub struct RateLimit {
    per_minute: usize,
    /// Each analyst's attempts in the last minute, oldest first.
    seen: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

impl RateLimit {
    /// A limit of `per_minute` attempts (at least one).
    pub fn per_minute(per_minute: u32) -> Self {
        Self { per_minute: per_minute.max(1) as usize, seen: Mutex::new(HashMap::new()) }
    }

    /// Counts an attempt by `analyst` at `now`, or refuses it with the seconds until the oldest
    /// attempt of the window leaves it (a refused attempt is not counted: waiting is enough).
    pub fn check(&self, analyst: &str, now: DateTime<Utc>) -> Result<(), u64> {
        let window = Duration::minutes(1);
        // A poisoned lock only means another request panicked mid-count: the counts stand.
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        // Forget analysts whose window has emptied, so the map holds only the last minute's.
        seen.retain(|_, times| {
            while times.front().is_some_and(|t| *t + window <= now) {
                times.pop_front();
            }
            !times.is_empty()
        });
        let times = seen.entry(analyst.to_string()).or_default();
        if times.len() >= self.per_minute {
            let oldest = times.front().copied().unwrap_or(now);
            let wait = (oldest + window - now).num_milliseconds().max(0) as u64;
            return Err(wait.div_ceil(1000).max(1));
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn counts_per_analyst_over_a_sliding_minute() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let at = |ms: i64| t0 + Duration::milliseconds(ms);
        let limit = RateLimit::per_minute(3);
        for ms in [0, 10_000, 20_000] {
            assert_eq!(limit.check("ann", at(ms)), Ok(()));
        }
        assert_eq!(limit.check("ann", at(30_000)), Err(30));
        assert_eq!(limit.check("ann", at(59_500)), Err(1));
        assert_eq!(limit.check("bob", at(30_000)), Ok(()), "a window each");
        assert_eq!(limit.check("ann", at(60_000)), Ok(()), "the first attempt left the window");
        assert_eq!(limit.check("ann", at(60_001)), Err(10));
    }
}
