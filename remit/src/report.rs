//! `remit report daily`: the daily control report per market for accounting, as a text table or
//! CSV (`remit_domain::report`). Exit code 1 when a file does not reconcile.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use chrono::{NaiveDate, Utc};
use remit_domain::ingest::IngestConfig;
use remit_domain::report::{self, ControlLine};
use remit_domain::{mask_card_numbers, Market};

use crate::commands::{about, one_line, open_store};
use remit_formats::shown;

/// One CSV field, quoted when it needs to be (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_line(fields: &[String]) -> String {
    fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",")
}

/// The report's lines per market for `date` (each market's local day; today in the market when
/// not given), and the files of no market (quarantined) received that UTC day when every market
/// is asked for.
pub fn daily_lines(
    data_dir: &Path,
    config: &IngestConfig,
    date: Option<NaiveDate>,
    market: Option<Market>,
) -> Result<Vec<(NaiveDate, String, Vec<ControlLine>)>> {
    let store = open_store(data_dir)?;
    let markets: Vec<Market> = market.map(|m| vec![m]).unwrap_or_else(|| Market::ALL.to_vec());
    let mut out = Vec::new();
    for m in markets {
        let tz = config.sla.calendar(m).time_zone;
        let day = date.unwrap_or_else(|| Utc::now().with_timezone(&tz).date_naive());
        let r = report::daily(&store, m, tz, day)?;
        out.push((day, m.code().to_string(), r.lines));
    }
    if market.is_none() {
        let day = date.unwrap_or_else(|| Utc::now().date_naive());
        let (from, to) = report::utc_day(day);
        let lines = report::unassigned(&store, from, to)?;
        if !lines.is_empty() {
            out.push((day, "no market (UTC day)".to_string(), lines));
        }
    }
    Ok(out)
}

/// A line as printed: the file's name (and the note, which may quote it) on one line, control
/// characters escaped; in the table the name is also cut short (`shown`), in CSV kept whole.
fn printable(line: &ControlLine, short: bool) -> ControlLine {
    let mut l = line.clone();
    l.note = l.note.as_deref().map(|n| about(&line.file, n));
    l.file = if short { shown(&line.file) } else { one_line(&line.file) };
    l
}

/// `remit report daily [--date D] [--market M] [--csv]`.
pub fn daily(
    data_dir: &Path,
    config: &IngestConfig,
    date: Option<NaiveDate>,
    market: Option<Market>,
    csv: bool,
    out: &mut impl Write,
) -> Result<ExitCode> {
    let sections = daily_lines(data_dir, config, date, market)?;
    let mut ok = true;
    if csv {
        let header: Vec<String> = report::CSV_HEADER.iter().map(|h| h.to_string()).collect();
        writeln!(out, "{}", csv_line(&header))?;
    }
    for (day, name, lines) in &sections {
        ok &= lines.iter().all(|l| l.reconciles);
        if csv {
            for l in lines {
                writeln!(
                    out,
                    "{}",
                    mask_card_numbers(&csv_line(&report::csv_row(*day, &printable(l, false))))
                )?;
            }
        } else {
            let lines: Vec<ControlLine> = lines.iter().map(|l| printable(l, true)).collect();
            write!(out, "{}", report::text(*day, name, &lines))?;
        }
    }
    if !csv {
        writeln!(
            out,
            "{}",
            if ok {
                "Every file reconciles: read = applied + queued + reversed + duplicate + rejected."
            } else {
                "Some files do NOT reconcile: see the lines marked NO."
            }
        )?;
    }
    out.flush()?;
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("a"), "a");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
