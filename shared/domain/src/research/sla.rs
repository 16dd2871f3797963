//! Research SLAs: business time per market and blocking reason, counted on the market's
//! business calendar (`crate::research::calendar`), with a warning before the breach.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::model::decision::ReasonCode;
use crate::model::payment::{Market, PerMarket};
use crate::research::calendar::{add_business_time, BusinessCalendar, CalendarSpec};

/// An amount of business time: whole business days (each one working day of the market's
/// calendar, `close - open`) plus hours and minutes. Written `"2d"`, `"4h"`, `"90m"`, `"1d4h"`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Deserialize)]
#[serde(try_from = "String")]
pub struct BusinessDuration {
    pub days: u32,
    pub minutes: u32,
}

impl BusinessDuration {
    pub const fn days(days: u32) -> Self {
        Self { days, minutes: 0 }
    }

    pub const fn hours(hours: u32) -> Self {
        Self { days: 0, minutes: hours * 60 }
    }

    pub fn is_zero(&self) -> bool {
        self.days == 0 && self.minutes == 0
    }

    /// The working time it stands for on a calendar.
    pub fn on(&self, calendar: &BusinessCalendar) -> Duration {
        calendar.day_length() * self.days as i32 + Duration::minutes(self.minutes as i64)
    }
}

impl TryFrom<String> for BusinessDuration {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl std::str::FromStr for BusinessDuration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a business duration like \"2d\", \"4h\", \"90m\" or \"1d4h\"");
        let (mut days, mut minutes, mut number, mut any) = (0u32, 0u32, String::new(), false);
        for c in s.trim().chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let n: u32 = number.parse().map_err(|_| bad())?;
            number.clear();
            match c {
                'd' => days = days.checked_add(n).ok_or_else(bad)?,
                'h' => minutes = n.checked_mul(60).and_then(|m| minutes.checked_add(m)).ok_or_else(bad)?,
                'm' => minutes = minutes.checked_add(n).ok_or_else(bad)?,
                _ => return Err(bad()),
            }
            any = true;
        }
        if !number.is_empty() || !any {
            return Err(bad());
        }
        Ok(Self { days, minutes })
    }
}

impl fmt::Display for BusinessDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, m) = (self.minutes / 60, self.minutes % 60);
        let mut out = String::new();
        if self.days > 0 {
            out += &format!("{}d", self.days);
        }
        if h > 0 {
            out += &format!("{h}h");
        }
        if m > 0 || out.is_empty() {
            out += &format!("{m}m");
        }
        f.write_str(&out)
    }
}

/// The calendar of each market (`[sla.calendars.CA]`, ...). Unlike `PerMarket`, a market left
/// out keeps its built-in calendar, so one market can be overridden alone.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketCalendars {
    #[serde(rename = "CA", default = "CalendarSpec::canada")]
    pub ca: CalendarSpec,
    #[serde(rename = "IN", default = "CalendarSpec::india")]
    pub india: CalendarSpec,
    #[serde(rename = "EU", default = "CalendarSpec::eu")]
    pub eu: CalendarSpec,
}

impl Default for MarketCalendars {
    fn default() -> Self {
        Self { ca: CalendarSpec::canada(), india: CalendarSpec::india(), eu: CalendarSpec::eu() }
    }
}

impl MarketCalendars {
    pub fn get_ref(&self, market: Market) -> &CalendarSpec {
        match market {
            Market::CA => &self.ca,
            Market::IN => &self.india,
            Market::EU => &self.eu,
        }
    }
}

/// When a research item should raise a warning, and when it breaches its SLA.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SlaDeadlines {
    pub warn_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
}

/// How long a market's ops team has to resolve a research item, by the reason that blocked it,
/// in business time on the market's calendar (`[sla]` in `config/remit.toml`).
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlaPolicy {
    /// The SLA of a reason without its own entry.
    pub default: PerMarket<BusinessDuration>,
    /// SLAs by blocking reason code (`ambiguous`, `account-closed`, ...).
    pub reasons: BTreeMap<ReasonCode, PerMarket<BusinessDuration>>,
    /// The warning comes when this percentage of the SLA's business time has elapsed, 1 to 100.
    pub warn_percent: u8,
    /// Each market's business calendar.
    pub calendars: MarketCalendars,
    #[serde(skip)]
    compiled: OnceLock<PerMarket<Arc<BusinessCalendar>>>,
}

impl fmt::Debug for SlaPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlaPolicy")
            .field("default", &self.default)
            .field("reasons", &self.reasons)
            .field("warn_percent", &self.warn_percent)
            .field("calendars", &self.calendars)
            .finish()
    }
}

impl Default for SlaPolicy {
    /// Two business days in Canada and the EU, one in India (e-collect refunds are expected
    /// T+1); ambiguous candidates one day, closed or blocked accounts two, high value four hours.
    fn default() -> Self {
        let all = |d| PerMarket { ca: d, india: d, eu: d };
        let reasons = BTreeMap::from([
            (ReasonCode::Ambiguous, all(BusinessDuration::days(1))),
            (ReasonCode::AccountClosed, all(BusinessDuration::days(2))),
            (ReasonCode::AccountBlocked, all(BusinessDuration::days(2))),
            (ReasonCode::AmountAboveCeiling, all(BusinessDuration::hours(4))),
        ]);
        Self {
            default: PerMarket {
                ca: BusinessDuration::days(2),
                india: BusinessDuration::days(1),
                eu: BusinessDuration::days(2),
            },
            reasons,
            warn_percent: 75,
            calendars: MarketCalendars::default(),
            compiled: OnceLock::new(),
        }
    }
}

impl SlaPolicy {
    /// Refuses values no run should start with, naming the key under `sla.`.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=100).contains(&self.warn_percent) {
            return Err(format!("sla.warn_percent: {} is not 1 to 100", self.warn_percent));
        }
        for market in Market::ALL {
            BusinessCalendar::from_spec(self.calendars.get_ref(market))
                .map_err(|e| format!("sla.calendars.{market}.{e}"))?;
            if self.default.get(market).is_zero() {
                return Err(format!("sla.default.{market}: must be positive"));
            }
            for (code, per_market) in &self.reasons {
                if per_market.get(market).is_zero() {
                    return Err(format!("sla.reasons.{}.{market}: must be positive", reason_key(*code)));
                }
            }
        }
        Ok(())
    }

    /// A market's business calendar. A calendar that does not build (a configuration that
    /// skipped `validate`) falls back to the built-in one for the market, with a warning.
    pub fn calendar(&self, market: Market) -> &BusinessCalendar {
        let compiled = self.compiled.get_or_init(|| {
            let build = |market: Market, fallback: fn() -> CalendarSpec| {
                let spec = self.calendars.get_ref(market);
                Arc::new(BusinessCalendar::from_spec(spec).unwrap_or_else(|e| {
                    tracing::warn!(%market, error = %e, "invalid calendar configuration: using the built-in one");
                    BusinessCalendar::from_spec(&fallback()).expect("built-in calendars build")
                }))
            };
            PerMarket {
                ca: build(Market::CA, CalendarSpec::canada),
                india: build(Market::IN, CalendarSpec::india),
                eu: build(Market::EU, CalendarSpec::eu),
            }
        });
        compiled.get_ref(market)
    }

    /// The SLA for a market and blocking reason.
    pub fn sla(&self, market: Market, reason: ReasonCode) -> BusinessDuration {
        self.reasons.get(&reason).map(|p| p.get(market)).unwrap_or_else(|| self.default.get(market))
    }

    /// When an item created at `created`, blocked by `reason`, warns and breaches.
    pub fn deadlines(&self, market: Market, reason: ReasonCode, created: DateTime<Utc>) -> SlaDeadlines {
        let calendar = self.calendar(market);
        if !calendar.covers(calendar.local_date(created)) {
            tracing::debug!(%market, version = %calendar.version, "holidays not listed for this year: weekends only");
        }
        let total = self.sla(market, reason).on(calendar);
        let warn_seconds = (total.num_seconds() * i64::from(self.warn_percent) + 50) / 100;
        SlaDeadlines {
            warn_at: add_business_time(calendar, created, Duration::seconds(warn_seconds)),
            due_at: add_business_time(calendar, created, total),
        }
    }

    /// When an item created at `created`, blocked by `reason`, must be resolved.
    pub fn due_at(&self, market: Market, reason: ReasonCode, created: DateTime<Utc>) -> DateTime<Utc> {
        self.deadlines(market, reason, created).due_at
    }
}

/// A reason code as written in configuration (`account-closed`).
fn reason_key(code: ReasonCode) -> String {
    serde_json::to_value(code).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDateTime, TimeZone};

    fn toronto(s: &str) -> DateTime<Utc> {
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        chrono_tz::America::Toronto.from_local_datetime(&naive).single().unwrap().with_timezone(&Utc)
    }

    #[test]
    fn durations_parse_and_print() {
        assert_eq!("2d".parse(), Ok(BusinessDuration::days(2)));
        assert_eq!("4h".parse(), Ok(BusinessDuration::hours(4)));
        assert_eq!("1d4h30m".parse(), Ok(BusinessDuration { days: 1, minutes: 270 }));
        for bad in ["", "4", "h", "2w", "-1d", "1.5h"] {
            assert!(bad.parse::<BusinessDuration>().is_err(), "{bad:?}");
        }
        assert_eq!(BusinessDuration { days: 1, minutes: 270 }.to_string(), "1d4h30m");
        assert_eq!(BusinessDuration::days(0).to_string(), "0m");
    }

    #[test]
    fn reasons_have_their_own_slas_and_others_the_default() {
        let p = SlaPolicy::default();
        let created = toronto("2026-04-02 16:00"); // Thursday before Good Friday
                                                   // High value: 4 business hours, warning at 3.
        let d = p.deadlines(Market::CA, ReasonCode::AmountAboveCeiling, created);
        assert_eq!(d.due_at, toronto("2026-04-06 12:00"));
        assert_eq!(d.warn_at, toronto("2026-04-06 11:00"));
        // Ambiguous: one business day (8h): Monday 16:00; warning after 6h, Monday 14:00.
        let d = p.deadlines(Market::CA, ReasonCode::Ambiguous, created);
        assert_eq!((d.warn_at, d.due_at), (toronto("2026-04-06 14:00"), toronto("2026-04-06 16:00")));
        // Closed account: two business days, Tuesday 16:00.
        assert_eq!(p.due_at(Market::CA, ReasonCode::AccountClosed, created), toronto("2026-04-07 16:00"));
        // Anything else: the market's default, two days in Canada.
        assert_eq!(p.due_at(Market::CA, ReasonCode::NoReference, created), toronto("2026-04-07 16:00"));
        assert_eq!(p.sla(Market::IN, ReasonCode::NoReference), BusinessDuration::days(1));
    }

    #[test]
    fn across_a_dst_change_and_a_holiday() {
        let p = SlaPolicy::default();
        // Friday 30 October 2026 15:00 EDT, two business days: clocks fall back on Sunday,
        // Monday and Tuesday are worked; due Tuesday 3 November 15:00 EST (20:00 UTC).
        let created = toronto("2026-10-30 15:00");
        let d = p.deadlines(Market::CA, ReasonCode::NoReference, created);
        assert_eq!(d.due_at, toronto("2026-11-03 15:00"));
        assert_eq!(d.due_at.to_rfc3339(), "2026-11-03T20:00:00+00:00");
        // 75% of 16h = 12h: Friday 2h, Monday 8h, Tuesday 2h -> Tuesday 11:00.
        assert_eq!(d.warn_at, toronto("2026-11-03 11:00"));
        // Tuesday 10 November, 2 days: Remembrance Day (federal) on Wednesday is skipped.
        assert_eq!(
            p.due_at(Market::CA, ReasonCode::NoReference, toronto("2026-11-10 10:00")),
            toronto("2026-11-13 10:00")
        );
    }

    #[test]
    fn validation_names_the_key() {
        let err = |f: &dyn Fn(&mut SlaPolicy)| {
            let mut p = SlaPolicy::default();
            f(&mut p);
            p.validate().unwrap_err()
        };
        assert!(SlaPolicy::default().validate().is_ok());
        assert!(err(&|p| p.warn_percent = 150).starts_with("sla.warn_percent"));
        assert!(err(&|p| p.default.india = BusinessDuration::days(0)).starts_with("sla.default.IN"));
        assert!(err(&|p| {
            p.reasons.get_mut(&ReasonCode::AccountClosed).unwrap().eu = BusinessDuration::days(0);
        })
        .starts_with("sla.reasons.account-closed.EU"));
        assert!(err(&|p| p.calendars.ca.time_zone = "Canada/Quebec City".into())
            .starts_with("sla.calendars.CA.time_zone"));
    }

    #[test]
    fn one_market_can_be_overridden_from_configuration() {
        let text = r#"
            [sla]
            warn_percent = 50
            [sla.reasons]
            duplicate-suspected = { CA = "3h", IN = "3h", EU = "3h" }
            [sla.calendars.IN]
            time_zone = "Asia/Kolkata"
            hours = "10:00-18:00"
            weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
            holidays = "in"
            regions = ["national"]
            removed_holidays = ["2026-03-21"]
            extra_holidays = ["2026-03-20"]
        "#;
        let config: crate::ingest::IngestConfig = toml::from_str(text).unwrap();
        config.validate().unwrap();
        let p = &config.sla;
        assert_eq!(p.calendars.ca, CalendarSpec::canada(), "markets left out keep their calendar");
        assert_eq!(p.sla(Market::EU, ReasonCode::DuplicateSuspected), BusinessDuration::hours(3));
        assert_eq!(p.reasons.len(), 1, "the table replaces the built-in reasons");
        let kolkata = |s: &str| {
            let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
            chrono_tz::Asia::Kolkata.from_local_datetime(&naive).single().unwrap().with_timezone(&Utc)
        };
        // Thursday 19 March 17:00, 1 day (8h of 10:00-18:00): 1h Thursday, Friday 20 off (Id
        // moved there), Saturday 21 worked: due Saturday 17:00; warning at half, Saturday 13:00.
        let d = p.deadlines(Market::IN, ReasonCode::NoReference, kolkata("2026-03-19 17:00"));
        assert_eq!((d.warn_at, d.due_at), (kolkata("2026-03-21 13:00"), kolkata("2026-03-21 17:00")));
        let unknown: Result<crate::ingest::IngestConfig, _> = toml::from_str("[sla]\nhours = 3\n");
        assert!(unknown.unwrap_err().to_string().contains("hours"));
    }

    #[test]
    fn an_unvalidated_bad_calendar_falls_back_to_the_builtin() {
        let mut p = SlaPolicy::default();
        p.calendars.eu.hours = "nonsense".into();
        assert_eq!(p.calendar(Market::EU).time_zone, chrono_tz::Europe::Brussels);
    }
}
