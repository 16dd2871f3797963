//! Market business calendars: a time zone, working hours, working weekdays and public holidays,
//! and the pure arithmetic of adding business time to an instant.
//!
//! Holidays are versioned data in the repository (`config/calendars/{ca,in,eu}.toml`), embedded
//! here as the built-in sets; `config/remit.toml` (`[sla.calendars.*]`) picks a set and the
//! regions of it that apply, and may add or remove dates.
//!
//! **Boundary rule.** A working day is the half-open interval `[open, close)` in local time.
//! Adding zero leaves the instant unchanged. Adding a positive amount returns the instant at
//! which that much working time has elapsed, so the result always lies in `(open, close]` of a
//! working day: when the time runs out exactly at a close, the result is that close (17:00),
//! not the next opening. Hence `add(add(t, a), b) == add(t, a + b)` for all non-negative `a`, `b`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::Deserialize;

/// The built-in holiday sets, by name: `ca`, `in`, `eu`.
pub const HOLIDAY_SETS: [(&str, &str); 3] = [
    ("ca", include_str!("../../../../config/calendars/ca.toml")),
    ("in", include_str!("../../../../config/calendars/in.toml")),
    ("eu", include_str!("../../../../config/calendars/eu.toml")),
];

/// One public holiday of a holiday file.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: String,
    /// The regions that observe it (`federal`, `QC`, `ON`, `national`, `target2`...).
    pub regions: Vec<String>,
    /// True when the date is an estimate (lunar festivals announced late).
    #[serde(default)]
    pub approximate: bool,
}

/// A holiday file (`config/calendars/*.toml`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidaySet {
    pub version: String,
    /// The years the file lists completely; outside them only weekends are known.
    pub years: Vec<i32>,
    pub holidays: Vec<Holiday>,
}

impl HolidaySet {
    /// Parses a holiday file.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// A built-in set by name (`ca`, `in`, `eu`).
    pub fn builtin(name: &str) -> Result<Self, String> {
        let (_, text) = HOLIDAY_SETS
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| format!("{name:?} is not a built-in holiday set (ca, in, eu)"))?;
        Self::parse(text)
    }
}

/// How a market's calendar is configured (`[sla.calendars.CA]` and so on).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    /// An IANA time zone name, e.g. `America/Toronto`.
    pub time_zone: String,
    /// Working hours in local time, `HH:MM-HH:MM`, opening before closing on the same day.
    pub hours: String,
    /// Working weekdays: `Mon`, `Tue`, ... `Sun`.
    pub weekdays: Vec<String>,
    /// The built-in holiday set (`ca`, `in`, `eu`), or `none`.
    pub holidays: String,
    /// The regions of the set whose holidays apply.
    pub regions: Vec<String>,
    /// Further non-working dates (`"YYYY-MM-DD"`), e.g. a corrected lunar festival.
    #[serde(default)]
    pub extra_holidays: Vec<NaiveDate>,
    /// Dates of the set to work after all (e.g. an approximation that proved wrong).
    #[serde(default)]
    pub removed_holidays: Vec<NaiveDate>,
}

impl CalendarSpec {
    fn new(tz: &str, set: &str, regions: &[&str]) -> Self {
        Self {
            time_zone: tz.into(),
            hours: "09:00-17:00".into(),
            weekdays: ["Mon", "Tue", "Wed", "Thu", "Fri"].map(String::from).to_vec(),
            holidays: set.into(),
            regions: regions.iter().map(|r| r.to_string()).collect(),
            extra_holidays: Vec::new(),
            removed_holidays: Vec::new(),
        }
    }

    /// Canada: Toronto time (the Montreal team's too), federal + Quebec holidays.
    pub fn canada() -> Self {
        Self::new("America/Toronto", "ca", &["federal", "QC"])
    }

    /// India: Kolkata time, the national bank holidays.
    pub fn india() -> Self {
        Self::new("Asia/Kolkata", "in", &["national"])
    }

    /// Euro area: Brussels time, the TARGET2 closing days.
    pub fn eu() -> Self {
        Self::new("Europe/Brussels", "eu", &["target2"])
    }
}

/// A market's business calendar, ready for arithmetic.
#[derive(Clone, Debug, PartialEq)]
pub struct BusinessCalendar {
    pub time_zone: Tz,
    pub open: NaiveTime,
    pub close: NaiveTime,
    /// Indexed by `Weekday::num_days_from_monday`.
    pub weekdays: [bool; 7],
    /// Non-working dates and their names.
    pub holidays: BTreeMap<NaiveDate, String>,
    /// The holiday file's version (with the overrides noted).
    pub version: String,
    /// The years the holiday file covers.
    pub years: Vec<i32>,
}

fn parse_weekday(s: &str) -> Option<Weekday> {
    Some(match s.to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tuesday" => Weekday::Tue,
        "wed" | "wednesday" => Weekday::Wed,
        "thu" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        _ => return None,
    })
}

impl BusinessCalendar {
    /// Builds a calendar from its configuration. Errors name the offending key relative to the
    /// spec (`time_zone: ...`), for the caller to prefix.
    pub fn from_spec(spec: &CalendarSpec) -> Result<Self, String> {
        let time_zone: Tz = spec
            .time_zone
            .parse()
            .map_err(|_| format!("time_zone: {:?} is not an IANA time zone", spec.time_zone))?;
        let bad_hours = || format!("hours: {:?} is not HH:MM-HH:MM with opening before closing", spec.hours);
        let (o, c) = spec.hours.split_once('-').ok_or_else(bad_hours)?;
        let open = NaiveTime::parse_from_str(o.trim(), "%H:%M").map_err(|_| bad_hours())?;
        let close = NaiveTime::parse_from_str(c.trim(), "%H:%M").map_err(|_| bad_hours())?;
        if open >= close {
            return Err(bad_hours());
        }
        let mut weekdays = [false; 7];
        for w in &spec.weekdays {
            let day =
                parse_weekday(w).ok_or_else(|| format!("weekdays: {w:?} is not a weekday (Mon..Sun)"))?;
            weekdays[day.num_days_from_monday() as usize] = true;
        }
        if !weekdays.iter().any(|w| *w) {
            return Err("weekdays: at least one working weekday is needed".into());
        }
        let mut holidays = BTreeMap::new();
        let (mut version, mut years) = ("none".to_string(), Vec::new());
        if spec.holidays != "none" {
            let set = HolidaySet::builtin(&spec.holidays).map_err(|e| format!("holidays: {e}"))?;
            let known: BTreeSet<&str> =
                set.holidays.iter().flat_map(|h| h.regions.iter().map(String::as_str)).collect();
            for r in &spec.regions {
                if !known.contains(r.as_str()) {
                    return Err(format!(
                        "regions: {r:?} is not a region of holiday set {:?} ({known:?})",
                        spec.holidays
                    ));
                }
            }
            for h in &set.holidays {
                if h.regions.iter().any(|r| spec.regions.contains(r)) {
                    holidays.insert(h.date, h.name.clone());
                }
            }
            version = format!("{} {}", spec.holidays, set.version);
            years = set.years;
        }
        for d in &spec.removed_holidays {
            if holidays.remove(d).is_none() {
                return Err(format!("removed_holidays: {d} is not a holiday of this calendar"));
            }
        }
        for d in &spec.extra_holidays {
            holidays.insert(*d, "extra holiday (configuration)".into());
        }
        if !spec.removed_holidays.is_empty() || !spec.extra_holidays.is_empty() {
            version.push_str(" + overrides");
        }
        Ok(Self { time_zone, open, close, weekdays, holidays, version, years })
    }

    /// True for a working weekday that is not a holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.weekdays[date.weekday().num_days_from_monday() as usize] && !self.holidays.contains_key(&date)
    }

    /// The holiday's name, if `date` is one.
    pub fn holiday(&self, date: NaiveDate) -> Option<&str> {
        self.holidays.get(&date).map(String::as_str)
    }

    /// The working interval `[open, close)` of a date, as instants, or `None` on a day off.
    pub fn working_interval(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.is_working_day(date).then(|| (self.instant(date, self.open), self.instant(date, self.close)))
    }

    /// True when the holiday file lists `date`'s year completely; outside the covered years only
    /// weekends are known, and the holiday file needs its next version.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.years.contains(&date.year())
    }

    /// True when `t` is inside working hours, `[open, close)` of a working day.
    pub fn is_working_time(&self, t: DateTime<Utc>) -> bool {
        let date = self.local_date(t);
        self.working_interval(date).is_some_and(|(o, c)| o <= t && t < c)
    }

    /// True when `t` is exactly the close of a working day.
    pub fn is_close(&self, t: DateTime<Utc>) -> bool {
        self.working_interval(self.local_date(t)).is_some_and(|(_, c)| c == t)
    }

    /// One working day's length (`close - open` on the wall clock).
    pub fn day_length(&self) -> Duration {
        self.close - self.open
    }

    /// The local date of an instant.
    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.time_zone).date_naive()
    }

    /// The instant of a local wall-clock time: the earlier of two in a fall-back overlap, the
    /// first existing minute after it in a spring-forward gap.
    fn instant(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let mut local: NaiveDateTime = date.and_time(time);
        for _ in 0..180 {
            match self.time_zone.from_local_datetime(&local) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
                LocalResult::None => local += Duration::minutes(1),
            }
        }
        // No zone skips three hours; fall back to reading the wall clock as UTC.
        Utc.from_utc_datetime(&local)
    }
}

/// Safety stop: a calendar has at least one working weekday, so business time always ends
/// within a few days per business day; no SLA spans more than this many calendar days.
const MAX_DAYS: i64 = 366 * 20;

/// Adds `amount` of working time to `start` (see the module's boundary rule). Zero or a
/// negative amount returns `start` unchanged.
pub fn add_business_time(cal: &BusinessCalendar, start: DateTime<Utc>, amount: Duration) -> DateTime<Utc> {
    if amount <= Duration::zero() {
        return start;
    }
    let mut remaining = amount;
    let mut date = cal.local_date(start);
    for _ in 0..MAX_DAYS {
        if let Some((open, close)) = cal.working_interval(date) {
            let from = open.max(start);
            if from < close {
                let available = close - from;
                if remaining <= available {
                    return from + remaining;
                }
                remaining -= available;
            }
        }
        match date.succ_opt() {
            Some(d) => date = d,
            None => break,
        }
    }
    start + amount
}

/// Adds whole business hours.
pub fn add_business_hours(cal: &BusinessCalendar, start: DateTime<Utc>, hours: i64) -> DateTime<Utc> {
    add_business_time(cal, start, Duration::hours(hours))
}

/// Adds business minutes.
pub fn add_business_minutes(cal: &BusinessCalendar, start: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    add_business_time(cal, start, Duration::minutes(minutes))
}

/// The working time between two instants (zero when `to <= from`): how much of an SLA has
/// been used, for the sweeper and the console.
pub fn business_time_between(cal: &BusinessCalendar, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    let mut total = Duration::zero();
    if to <= from {
        return total;
    }
    let last = cal.local_date(to);
    let mut date = cal.local_date(from);
    while date <= last {
        if let Some((open, close)) = cal.working_interval(date) {
            let (a, b) = (open.max(from), close.min(to));
            if a < b {
                total += b - a;
            }
        }
        match date.succ_opt() {
            Some(d) => date = d,
            None => break,
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cal(spec: CalendarSpec) -> BusinessCalendar {
        BusinessCalendar::from_spec(&spec).unwrap()
    }

    /// A local wall-clock time in the calendar's zone, as UTC.
    fn local(c: &BusinessCalendar, s: &str) -> DateTime<Utc> {
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        c.time_zone.from_local_datetime(&naive).single().unwrap().with_timezone(&Utc)
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn builtin_sets_parse_and_name_their_versions() {
        for (name, _) in HOLIDAY_SETS {
            let set = HolidaySet::builtin(name).unwrap();
            assert!(!set.version.is_empty() && !set.holidays.is_empty(), "{name}");
            for h in &set.holidays {
                assert!(set.years.contains(&h.date.year()), "{name} {h:?} outside its years");
            }
        }
        for spec in [CalendarSpec::canada(), CalendarSpec::india(), CalendarSpec::eu()] {
            cal(spec);
        }
        assert!(HolidaySet::builtin("us").is_err());
        let ca = cal(CalendarSpec::canada());
        assert!(ca.covers(NaiveDate::from_ymd_opt(2027, 6, 1).unwrap()));
        assert!(!ca.covers(NaiveDate::from_ymd_opt(2028, 1, 3).unwrap()), "2028 needs the next file");
    }

    #[test]
    fn canada_is_federal_plus_quebec() {
        let ca = cal(CalendarSpec::canada());
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        for day in ["2026-04-03", "2026-06-24", "2026-09-30", "2026-11-11", "2026-12-28", "2027-12-27"] {
            assert!(!ca.is_working_day(d(day)), "{day} is a holiday");
        }
        // Ontario-only days and Easter Monday are worked.
        for day in ["2026-02-16", "2026-08-03", "2026-04-06", "2027-03-29"] {
            assert!(ca.is_working_day(d(day)), "{day} is worked");
        }
        let on = cal(CalendarSpec { regions: vec!["federal".into(), "ON".into()], ..CalendarSpec::canada() });
        assert!(!on.is_working_day(d("2026-08-03")) && on.is_working_day(d("2026-06-24")));
        let eu = cal(CalendarSpec::eu());
        assert!(!eu.is_working_day(d("2026-04-06")), "TARGET2 closes on Easter Monday");
    }

    #[test]
    fn good_friday_and_the_weekend_are_skipped() {
        let ca = cal(CalendarSpec::canada());
        // Thursday 16:00, 4 business hours: one hour on Thursday, Good Friday and the weekend
        // off, three hours on Monday (Easter Monday is worked in the federal + Quebec set).
        let due = add_business_hours(&ca, local(&ca, "2026-04-02 16:00"), 4);
        assert_eq!(due, local(&ca, "2026-04-06 12:00"));
        // TARGET2 also closes on Easter Monday: Tuesday in Brussels.
        let eu = cal(CalendarSpec::eu());
        assert_eq!(
            add_business_hours(&eu, local(&eu, "2026-04-02 16:00"), 4),
            local(&eu, "2026-04-07 12:00")
        );
        // India closes on Good Friday only.
        let india = cal(CalendarSpec::india());
        assert_eq!(
            add_business_hours(&india, local(&india, "2026-04-02 16:00"), 4),
            local(&india, "2026-04-06 12:00")
        );
    }

    #[test]
    fn across_toronto_dst_changes() {
        let ca = cal(CalendarSpec::canada());
        // Friday 6 March 15:00 EST (20:00 UTC) + 8h: 2h Friday, then Monday 9 March 09:00 EDT
        // (13:00 UTC) + 6h = 15:00 EDT = 19:00 UTC. Wall-clock hours, not UTC offsets, count.
        assert_eq!(add_business_hours(&ca, utc("2026-03-06T20:00:00Z"), 8), utc("2026-03-09T19:00:00Z"));
        // Fall back on Sunday 1 November: Friday 30 October 15:00 EDT (19:00 UTC) + 8h lands on
        // Monday 2 November 15:00 EST = 20:00 UTC.
        assert_eq!(add_business_hours(&ca, utc("2026-10-30T19:00:00Z"), 8), utc("2026-11-02T20:00:00Z"));
        // The elapsed business time across the change is exactly what was added.
        assert_eq!(
            business_time_between(&ca, utc("2026-03-06T20:00:00Z"), utc("2026-03-09T19:00:00Z")),
            Duration::hours(8)
        );
    }

    #[test]
    fn across_brussels_dst_changes() {
        let eu = cal(CalendarSpec::eu());
        // Spring forward on Sunday 29 March: Friday 27 March 13:00 CET (12:00 UTC) + 1 business
        // day (8h) = Monday 30 March 13:00 CEST = 11:00 UTC.
        assert_eq!(add_business_hours(&eu, utc("2026-03-27T12:00:00Z"), 8), utc("2026-03-30T11:00:00Z"));
        // Fall back on Sunday 25 October: Friday 23 October 13:00 CEST (11:00 UTC) + 8h =
        // Monday 26 October 13:00 CET = 12:00 UTC.
        assert_eq!(add_business_hours(&eu, utc("2026-10-23T11:00:00Z"), 8), utc("2026-10-26T12:00:00Z"));
    }

    #[test]
    fn a_zone_without_dst_and_a_shift_through_a_24h_clock() {
        // A calendar whose working day spans the 2:00 change sees the short and the long day.
        let every_day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].map(String::from).to_vec();
        let spec =
            CalendarSpec { hours: "00:00-23:59".into(), weekdays: every_day, ..CalendarSpec::canada() };
        let c = cal(spec);
        let len = |y, m, d| c.working_interval(NaiveDate::from_ymd_opt(y, m, d).unwrap()).map(|(o, c)| c - o);
        assert_eq!(len(2026, 3, 7), Some(Duration::minutes(23 * 60 + 59)));
        assert_eq!(len(2026, 3, 8), Some(Duration::minutes(22 * 60 + 59)), "spring forward");
        assert_eq!(len(2026, 11, 1), Some(Duration::minutes(24 * 60 + 59)), "fall back");
        let india = cal(CalendarSpec::india());
        assert_eq!(
            add_business_minutes(&india, local(&india, "2026-01-23 16:30"), 60),
            local(&india, "2026-01-27 09:30"),
            "Friday 16:30 + 1h: Republic Day Monday is skipped"
        );
    }

    #[test]
    fn starting_outside_working_hours() {
        let ca = cal(CalendarSpec::canada());
        // Before opening: counts from 09:00.
        assert_eq!(
            add_business_hours(&ca, local(&ca, "2026-05-12 06:30"), 2),
            local(&ca, "2026-05-12 11:00")
        );
        // After closing: counts from the next opening.
        assert_eq!(
            add_business_hours(&ca, local(&ca, "2026-05-12 19:00"), 2),
            local(&ca, "2026-05-13 11:00")
        );
        // On a Saturday before Victoria Day: Tuesday.
        assert_eq!(
            add_business_hours(&ca, local(&ca, "2026-05-16 10:00"), 1),
            local(&ca, "2026-05-19 10:00")
        );
        // Zero is the identity, even outside hours.
        let sat = local(&ca, "2026-05-16 10:00");
        assert_eq!(add_business_hours(&ca, sat, 0), sat);
    }

    #[test]
    fn boundary_rule_lands_on_the_close_not_the_next_opening() {
        let ca = cal(CalendarSpec::canada());
        let fri = local(&ca, "2026-05-15 09:00");
        let close = local(&ca, "2026-05-15 17:00");
        assert_eq!(add_business_hours(&ca, fri, 8), close);
        assert!(ca.is_close(close) && !ca.is_working_time(close));
        // One more minute is past the weekend and Victoria Day.
        assert_eq!(add_business_minutes(&ca, fri, 8 * 60 + 1), local(&ca, "2026-05-19 09:01"));
        // Starting at a close counts from the next opening.
        assert_eq!(add_business_minutes(&ca, close, 1), local(&ca, "2026-05-19 09:01"));
    }

    #[test]
    fn overrides_add_and_remove_holidays_and_weekdays() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let spec = CalendarSpec {
            weekdays: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].map(String::from).to_vec(),
            extra_holidays: vec![d("2026-03-20")],
            removed_holidays: vec![d("2026-03-21")],
            ..CalendarSpec::india()
        };
        let india = cal(spec);
        assert!(india.is_working_day(d("2026-03-21")), "a working Saturday once Id moved");
        assert!(!india.is_working_day(d("2026-03-20")));
        assert!(india.version.ends_with("+ overrides"));
        let bad = |spec: CalendarSpec| BusinessCalendar::from_spec(&spec).unwrap_err();
        assert!(bad(CalendarSpec { time_zone: "Mars/Olympus".into(), ..CalendarSpec::eu() })
            .starts_with("time_zone"));
        assert!(bad(CalendarSpec { hours: "17:00-09:00".into(), ..CalendarSpec::eu() }).starts_with("hours"));
        assert!(bad(CalendarSpec { weekdays: vec![], ..CalendarSpec::eu() }).starts_with("weekdays"));
        assert!(bad(CalendarSpec { regions: vec!["QC".into()], ..CalendarSpec::eu() }).starts_with("regions"));
        assert!(bad(CalendarSpec { holidays: "us".into(), ..CalendarSpec::eu() }).starts_with("holidays"));
        assert!(bad(CalendarSpec { removed_holidays: vec![d("2026-07-14")], ..CalendarSpec::eu() })
            .starts_with("removed_holidays"));
    }

    fn calendars() -> impl Strategy<Value = BusinessCalendar> {
        prop_oneof![Just(CalendarSpec::canada()), Just(CalendarSpec::india()), Just(CalendarSpec::eu())]
            .prop_map(cal)
    }

    /// Any instant from late 2025 to early 2028, to the minute.
    fn instants() -> impl Strategy<Value = DateTime<Utc>> {
        (0i64..(800 * 24 * 60)).prop_map(|m| utc("2025-12-01T00:00:00Z") + Duration::minutes(m))
    }

    proptest! {
        #[test]
        fn adding_is_monotone_additive_and_lands_in_hours(
            c in calendars(), start in instants(), a in 0i64..(40 * 60), b in 0i64..(40 * 60),
        ) {
            let end_a = add_business_minutes(&c, start, a);
            let end = add_business_minutes(&c, start, a + b);
            prop_assert!(end_a >= start && end >= end_a);
            prop_assert_eq!(add_business_minutes(&c, end_a, b), end);
            prop_assert_eq!(business_time_between(&c, start, end), Duration::minutes(a + b));
            if a > 0 {
                let day = c.local_date(end_a);
                prop_assert!(c.is_working_day(day), "{} lands on a day off", end_a);
                prop_assert!(c.holiday(day).is_none());
                prop_assert!(c.is_working_time(end_a) || c.is_close(end_a), "{} outside hours", end_a);
                // The rule's other half: the result is never an opening (it would be a close).
                let (open, _) = c.working_interval(day).unwrap();
                prop_assert!(end_a > open);
            }
        }
    }
}
