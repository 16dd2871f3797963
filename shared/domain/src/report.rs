//! The daily control report per market, for accounting (issue 6): per file received that day,
//! records and totals as read (the `FileSummary` the pipeline recorded on completion), as applied,
//! queued, reversed (returns), duplicate and rejected, and whether they reconcile:
//! read = applied + queued + reversed + duplicate + rejected, in count and per currency.
//!
//! What happened to the queued payments afterwards is followed too: of the queued, how many (and
//! how much) analysts have since applied, returned to the remitter or written off, and how many are
//! still open; the four always add up to the queued figures.
//!
//! "As read" equals the file's own control totals: a file whose trailer or batch totals disagree
//! with its records is quarantined before anything posts, and listed here as such.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::model::payment::Market;
use crate::ports::{FileLog, FileRecord, FileStatus, ItemStatus, QueueOps, ResearchItem, StoreError};
use crate::text::masking::mask_card_numbers;
use crate::text::shown::one_line;

/// Files read per report at most (one day of one market is far less).
pub const MAX_FILES: usize = 10_000;

/// One line of the report: a file and one of its currencies (a file without payments, or
/// quarantined, has one line with no currency).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ControlLine {
    pub market: Option<Market>,
    pub file: String,
    pub file_id: String,
    pub received_at: DateTime<Utc>,
    pub status: FileStatus,
    pub currency: Option<String>,
    /// Counts are per file (all currencies).
    pub records: u64,
    pub applied_count: u64,
    pub queued_count: u64,
    pub reversed_count: u64,
    pub duplicate_count: u64,
    pub rejected_count: u64,
    /// Records kept with a warning (each went to a person), and examples of why.
    pub warned_count: u64,
    pub warnings: Vec<String>,
    /// Lines of zero amount the file carried: no payments, counted apart.
    pub zero_amount_count: u64,
    /// Amounts in `currency`: credits and debits as read.
    pub read_total: Decimal,
    pub credits: Decimal,
    pub debits: Decimal,
    pub applied: Decimal,
    pub queued: Decimal,
    pub reversed: Decimal,
    pub duplicate: Decimal,
    pub rejected: Decimal,
    /// The queued payments as they stand now (counts per file, amounts in `currency`): applied
    /// by an analyst, returned to the remitter, written off to suspense, still being researched.
    pub since_applied_count: u64,
    pub since_returned_count: u64,
    pub since_written_off_count: u64,
    pub still_open_count: u64,
    pub since_applied: Decimal,
    pub since_returned: Decimal,
    pub since_written_off: Decimal,
    pub still_open: Decimal,
    /// read_total minus the outcomes; zero when it reconciles.
    pub difference: Decimal,
    pub reconciles: bool,
    /// Why a line does not reconcile, or the quarantine reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The report of one market's day.
#[derive(Clone, Debug, Serialize)]
pub struct DailyControlReport {
    pub market: Market,
    pub date: NaiveDate,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub lines: Vec<ControlLine>,
}

impl DailyControlReport {
    /// True when every line reconciles.
    pub fn reconciles(&self) -> bool {
        self.lines.iter().all(|l| l.reconciles)
    }
}

/// The instants a local day spans in `tz`: [midnight, next midnight).
pub fn local_day(tz: chrono_tz::Tz, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = |d: NaiveDate| {
        let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
        tz.from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
    };
    (start(date), start(date.succ_opt().unwrap_or(date)))
}

/// The instants a UTC day spans.
pub fn utc_day(date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    local_day(chrono_tz::UTC, date)
}

/// A file as the report names it: its name without the directories it was read from (issue 15:
/// the report showed server paths), `/` or `\` separated; an S3 key keeps only its last part.
pub fn file_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().filter(|n| !n.is_empty()).unwrap_or(name)
}

/// `text` with the file's name as it was read (the path, as is or escaped on one line) replaced
/// by `file_name`: readers' and quarantine messages quote it.
fn without_path(text: &str, name: &str) -> String {
    let short = file_name(name);
    if short == name {
        return text.to_string();
    }
    text.replace(&one_line(name), &one_line(short)).replace(name, short)
}

/// The control lines of one file record, the file named by `file_name`.
pub fn lines_of(f: &FileRecord) -> Vec<ControlLine> {
    let mut lines = lines_named(f);
    for l in &mut lines {
        l.file = mask_card_numbers(file_name(&f.name));
        l.note = l.note.take().map(|n| without_path(&n, &f.name));
        l.warnings = l.warnings.iter().map(|w| without_path(w, &f.name)).collect();
    }
    lines
}

/// The control lines of one file record, as recorded.
fn lines_named(f: &FileRecord) -> Vec<ControlLine> {
    let base = |market: Option<Market>| ControlLine {
        market,
        file: String::new(),
        file_id: f.id.to_hex(),
        received_at: f.received_at,
        status: f.status,
        currency: None,
        records: 0,
        applied_count: 0,
        queued_count: 0,
        reversed_count: 0,
        duplicate_count: 0,
        rejected_count: 0,
        warned_count: 0,
        warnings: Vec::new(),
        zero_amount_count: 0,
        read_total: Decimal::ZERO,
        credits: Decimal::ZERO,
        debits: Decimal::ZERO,
        applied: Decimal::ZERO,
        queued: Decimal::ZERO,
        reversed: Decimal::ZERO,
        duplicate: Decimal::ZERO,
        rejected: Decimal::ZERO,
        since_applied_count: 0,
        since_returned_count: 0,
        since_written_off_count: 0,
        still_open_count: 0,
        since_applied: Decimal::ZERO,
        since_returned: Decimal::ZERO,
        since_written_off: Decimal::ZERO,
        still_open: Decimal::ZERO,
        difference: Decimal::ZERO,
        reconciles: true,
        note: None,
    };
    let Some(s) = f.summary.as_ref().filter(|_| f.status == FileStatus::Completed) else {
        let mut l = base(f.summary.as_ref().and_then(|s| s.market));
        match f.status {
            FileStatus::Quarantined => {
                l.note = Some(format!(
                    "quarantined, nothing posted: {}",
                    mask_card_numbers(f.reason.as_deref().unwrap_or("no reason recorded"))
                ));
            }
            _ => {
                l.reconciles = false;
                l.note = Some("still processing: no control summary recorded".into());
            }
        }
        return vec![l];
    };
    let counted = s.applied + s.queued + s.reversed + s.duplicates + s.rejected;
    let count_note =
        (counted != s.payments).then(|| format!("{} records read, {counted} accounted for", s.payments));
    let with_counts = |mut l: ControlLine| {
        l.records = s.payments;
        l.applied_count = s.applied;
        l.queued_count = s.queued;
        l.reversed_count = s.reversed;
        l.duplicate_count = s.duplicates;
        l.rejected_count = s.rejected;
        l.warned_count = s.warned;
        l.zero_amount_count = s.zero_amount;
        l.warnings = s.warnings.clone();
        l
    };
    if s.totals.is_empty() {
        let mut l = with_counts(base(s.market));
        l.reconciles = count_note.is_none();
        l.note = count_note;
        return vec![l];
    }
    s.totals
        .iter()
        .map(|(cur, t)| {
            let mut l = with_counts(base(s.market));
            l.currency = Some(cur.clone());
            l.credits = t.credits;
            l.debits = t.debits;
            l.read_total = t.credits + t.debits;
            l.applied = t.applied;
            l.queued = t.queued;
            l.reversed = t.reversed;
            l.duplicate = t.duplicate;
            l.rejected = t.rejected;
            l.difference = l.read_total - (t.applied + t.queued + t.reversed + t.duplicate + t.rejected);
            let amount_note = (!l.difference.is_zero())
                .then(|| format!("{cur}: read and outcomes differ by {}", l.difference));
            l.reconciles = count_note.is_none() && amount_note.is_none();
            l.note = match (&count_note, amount_note) {
                (Some(c), Some(a)) => Some(format!("{c}; {a}")),
                (Some(c), None) => Some(c.clone()),
                (None, a) => a,
            };
            l
        })
        .collect()
}

/// Fills in what became of a file's queued payments from its research items (`items`, every item
/// the file sent to research). Items the summary did not count as queued cannot be told apart
/// here; a file whose items and queued count disagree gets a note and does not reconcile.
pub fn follow_queued(lines: &mut [ControlLine], items: &[ResearchItem]) {
    let mut counts = [0u64; 4];
    // A rejected direct debit's item follows a payment counted as reversed, not queued.
    for item in
        items.iter().filter(|i| i.reason_code != crate::model::decision::ReasonCode::RejectedDirectDebit)
    {
        let slot = outcome_slot(item.status);
        counts[slot] += 1;
        let cur = item.amount.currency().code();
        if let Some(l) = lines.iter_mut().find(|l| l.currency.as_deref() == Some(cur)) {
            let amount = item.amount.amount();
            match slot {
                0 => l.since_applied += amount,
                1 => l.since_returned += amount,
                2 => l.since_written_off += amount,
                _ => l.still_open += amount,
            }
        }
    }
    for l in lines.iter_mut() {
        [l.since_applied_count, l.since_returned_count, l.since_written_off_count, l.still_open_count] =
            counts;
        let followed = counts.iter().sum::<u64>();
        let amounts = l.since_applied + l.since_returned + l.since_written_off + l.still_open;
        if followed != l.queued_count || (l.currency.is_some() && amounts != l.queued) {
            l.reconciles = false;
            let n =
                format!("{} queued, {followed} research item(s) found ({amounts} in them)", l.queued_count);
            l.note = Some(match l.note.take() {
                Some(prev) => format!("{prev}; {n}"),
                None => n,
            });
        }
    }
}

/// Where a research item's outcome is counted: applied, returned, written off, still open.
fn outcome_slot(status: ItemStatus) -> usize {
    match status {
        ItemStatus::Resolved => 0,
        ItemStatus::Returned => 1,
        ItemStatus::WrittenOff => 2,
        ItemStatus::Open
        | ItemStatus::Escalated
        | ItemStatus::WriteOffPending
        | ItemStatus::ResolvePending => 3,
    }
}

/// The research items one file may have (a file's queued count is far below).
pub const MAX_ITEMS_PER_FILE: usize = 1_000_000;

/// The daily control report of `market` for the local `date` (in `tz`, the market's time zone):
/// the files received that day whose payments are the market's. Files with no market recorded
/// (quarantined before any payment was read, or from before the market was recorded) are listed
/// by `unassigned`.
pub fn daily<S: FileLog + QueueOps + ?Sized>(
    store: &S,
    market: Market,
    tz: chrono_tz::Tz,
    date: NaiveDate,
) -> Result<DailyControlReport, StoreError> {
    let (from, to) = local_day(tz, date);
    let files = store.files_received(from, to, MAX_FILES)?;
    let mut lines = Vec::new();
    for f in files.iter().filter(|f| f.summary.as_ref().and_then(|s| s.market) == Some(market)) {
        let mut of_file = lines_of(f);
        if f.status == FileStatus::Completed {
            follow_queued(&mut of_file, &store.items_of_file(&f.id, MAX_ITEMS_PER_FILE)?);
        }
        lines.extend(of_file);
    }
    Ok(DailyControlReport { market, date, from, to, lines })
}

/// Files received in `from..to` whose market is not recorded (quarantined ones, mostly).
pub fn unassigned<S: FileLog + ?Sized>(
    store: &S,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<ControlLine>, StoreError> {
    let files = store.files_received(from, to, MAX_FILES)?;
    Ok(files
        .iter()
        .filter(|f| f.summary.as_ref().and_then(|s| s.market).is_none())
        .flat_map(lines_of)
        .collect())
}

/// The CSV header of `csv_row`.
pub const CSV_HEADER: [&str; 35] = [
    "date",
    "market",
    "file",
    "file_id",
    "received_at",
    "status",
    "currency",
    "records",
    "applied_count",
    "queued_count",
    "reversed_count",
    "duplicate_count",
    "rejected_count",
    "read_total",
    "credits",
    "debits",
    "applied",
    "queued",
    "reversed",
    "duplicate",
    "rejected",
    "since_applied_count",
    "since_returned_count",
    "since_written_off_count",
    "still_open_count",
    "since_applied",
    "since_returned",
    "since_written_off",
    "still_open",
    "difference",
    "reconciles",
    "note",
    "warned_count",
    "warnings",
    "zero_amount_count",
];

/// One CSV record of a line (fields unquoted: the caller's CSV writer quotes).
pub fn csv_row(date: NaiveDate, l: &ControlLine) -> Vec<String> {
    vec![
        date.to_string(),
        l.market.map(|m| m.code().to_string()).unwrap_or_default(),
        l.file.clone(),
        l.file_id.clone(),
        l.received_at.to_rfc3339(),
        l.status.as_str().to_string(),
        l.currency.clone().unwrap_or_default(),
        l.records.to_string(),
        l.applied_count.to_string(),
        l.queued_count.to_string(),
        l.reversed_count.to_string(),
        l.duplicate_count.to_string(),
        l.rejected_count.to_string(),
        l.read_total.to_string(),
        l.credits.to_string(),
        l.debits.to_string(),
        l.applied.to_string(),
        l.queued.to_string(),
        l.reversed.to_string(),
        l.duplicate.to_string(),
        l.rejected.to_string(),
        l.since_applied_count.to_string(),
        l.since_returned_count.to_string(),
        l.since_written_off_count.to_string(),
        l.still_open_count.to_string(),
        l.since_applied.to_string(),
        l.since_returned.to_string(),
        l.since_written_off.to_string(),
        l.still_open.to_string(),
        l.difference.to_string(),
        if l.reconciles { "yes" } else { "NO" }.to_string(),
        l.note.clone().unwrap_or_default(),
        l.warned_count.to_string(),
        l.warnings.join("; "),
        l.zero_amount_count.to_string(),
    ]
}

/// The report as a text table.
pub fn text(date: NaiveDate, market: &str, lines: &[ControlLine]) -> String {
    let mut s = format!("Daily control report {market} {date}: {} line(s)\n", lines.len());
    s += &format!(
        "  {:<34} {:<11} {:<3} {:>4} {:>13} {:>13} {:>13} {:>13} {:>13} {:>13} {:>13}  {}\n",
        "file",
        "status",
        "cur",
        "recs",
        "read",
        "applied",
        "queued",
        "q:ap/rt/wo/op",
        "reversed",
        "duplicate",
        "rejected",
        "ok"
    );
    for l in lines {
        let name: String = if l.file.chars().count() > 34 {
            l.file.chars().take(33).collect::<String>() + "…"
        } else {
            l.file.clone()
        };
        s += &format!(
            "  {:<34} {:<11} {:<3} {:>4} {:>13} {:>13} {:>13} {:>13} {:>13} {:>13} {:>13}  {}{}\n",
            name,
            l.status.as_str(),
            l.currency.as_deref().unwrap_or("-"),
            l.records,
            l.read_total,
            l.applied,
            l.queued,
            format!(
                "{}/{}/{}/{}",
                l.since_applied_count, l.since_returned_count, l.since_written_off_count, l.still_open_count
            ),
            l.reversed,
            l.duplicate,
            l.rejected,
            if l.reconciles { "yes" } else { "NO" },
            l.note.as_deref().map(|n| format!("  {n}")).unwrap_or_default()
        );
        if l.zero_amount_count > 0 {
            s += &format!(
                "    {} line(s) of zero amount, kept out of the payments (they move no money)\n",
                l.zero_amount_count
            );
        }
        if l.warned_count > 0 {
            s += &format!(
                "    {} record(s) kept with a warning, each sent to research: {}\n",
                l.warned_count,
                l.warnings.join("; ")
            );
        }
    }
    mask_card_numbers(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_named_without_their_directories() {
        assert_eq!(file_name("/srv/remit/drop/ca/cpa005-rbc.txt"), "cpa005-rbc.txt");
        assert_eq!(file_name("ca/cpa005/rbc.txt"), "rbc.txt");
        assert_eq!(file_name(r"C:\drop\in\mis.csv"), "mis.csv");
        assert_eq!(file_name("plain.txt"), "plain.txt");
        assert_eq!(file_name("odd/"), "odd/");
        let reason = "/srv/remit/drop/x.txt: record 4: trailer says 6";
        assert_eq!(without_path(reason, "/srv/remit/drop/x.txt"), "x.txt: record 4: trailer says 6");
        let escaped = one_line("/srv/a\nb.txt");
        assert_eq!(without_path(&format!("{escaped}: bad"), "/srv/a\nb.txt"), one_line("a\nb.txt: bad"));
    }
}
