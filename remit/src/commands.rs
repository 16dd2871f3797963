//! The CLI's commands. Each writes its report to `out` and returns the process exit code.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::Utc;
use remit_domain::ingest::{FileReport, IngestConfig, IngestError, PaymentResult};
use remit_domain::ports::{FileStatus, ResearchQueue};
use remit_domain::{mask_card_numbers, Market, Outcome, Payment};
use remit_formats::profile::Profile;
use remit_formats::shown;
use remit_store_sqlite::SqliteStore;

use crate::local::{self, LocalFile, Source, SourceRouter};
use crate::objects::LocalObjects;
use remit_domain::ingest::ObjectFile;

/// Exit code when some input files were refused (quarantined) but the run itself worked.
const EXIT_FILES_REFUSED: u8 = 2;

/// A path or file name as the CLI prints it: control characters escaped and cut short
/// (`remit_formats::shown`), so that a name holding a newline or a terminal escape cannot forge
/// a line ("... completed") or recolour the terminal.
pub fn shown_path(path: &Path) -> String {
    shown(&path.display().to_string())
}

pub use remit_domain::text::shown::one_line;

/// A message about the file `name` (a reader's error, a quarantine reason), as printed: the
/// name in it shown short, the rest on one line.
pub fn about(name: &str, message: &str) -> String {
    let message = if name.is_empty() {
        message.to_string()
    } else {
        // Readers' errors quote the name already escaped (`one_line`); others quote it raw.
        message.replace(&one_line(name), &shown(name)).replace(name, &shown(name))
    };
    one_line(&message)
}

pub(crate) fn open_store(data_dir: &Path) -> Result<SqliteStore> {
    fs::create_dir_all(data_dir).with_context(|| format!("{}: cannot create", shown_path(data_dir)))?;
    Ok(SqliteStore::open(&data_dir.join("remit.sqlite"))?)
}

/// Files read with `profile` when one is given, else by detected format: the profile is
/// compiled once for the whole run.
fn router_for(profile: Option<&Path>) -> Result<SourceRouter> {
    Ok(match profile {
        Some(p) => SourceRouter::only(Source::Profile(Box::new(Profile::load(p)?))),
        None => SourceRouter::default(),
    })
}

/// `remit parse`: every payment as one JSON object per line; errors name file, place, field.
/// With a profile, the files are read with it rather than by detected format.
pub fn parse(files: &[PathBuf], profile: Option<&Path>, out: &mut impl Write) -> Result<ExitCode> {
    let router = router_for(profile)?;
    let mut failed = false;
    for path in files {
        let meta = local::file_meta(path)?;
        let file = LocalFile::new(path);
        let stream = match local::open_payments(&file, &meta, &router) {
            Ok((_, s)) => s,
            Err(e) => {
                eprintln!("remit: {}", about(&meta.name, &e.to_string()));
                failed = true;
                continue;
            }
        };
        for payment in stream {
            match payment {
                Ok(p) => {
                    serde_json::to_writer(&mut *out, &p)?;
                    out.write_all(b"\n")?;
                }
                Err(e) => {
                    eprintln!("remit: {}", about(&meta.name, &e.to_string()));
                    failed = true;
                    break;
                }
            }
        }
    }
    out.flush()?;
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// `remit accounts import`.
pub fn import_accounts(data_dir: &Path, file: &Path, out: &mut impl Write) -> Result<ExitCode> {
    let store = open_store(data_dir)?;
    let n = local::import_accounts(&store, file)?;
    writeln!(out, "imported {n} accounts from {}", shown_path(file))?;
    Ok(ExitCode::SUCCESS)
}

/// `remit ingest`: the whole pipeline; a summary per file always, decisions with `--json`.
pub fn ingest(
    data_dir: &Path,
    config: &IngestConfig,
    files: &[PathBuf],
    json: bool,
    routing: Option<&Path>,
    out: &mut impl Write,
) -> Result<ExitCode> {
    let store = open_store(data_dir)?;
    // Routing and the profiles it names are compiled once for the run.
    let router = SourceRouter::load_or_detect(routing)?;
    let mut refused = false;
    for path in files {
        let file = LocalFile::new(path);
        let mut write_err = None;
        let report = match local::ingest(&store, &file, &router, Utc::now(), config, |r| {
            if json {
                if let Err(e) = write_decision(out, r) {
                    write_err.get_or_insert(e);
                }
            }
        }) {
            Ok(report) => report,
            // A file that cannot be read at all (not a regular file, past the size limit, gone)
            // has no identity to quarantine under: said on stderr, and the other files go on.
            Err(
                e @ (IngestError::Gone { .. } | IngestError::Refused { .. } | IngestError::TooLarge { .. }),
            ) => {
                eprintln!("remit: {}", one_line(&remit_domain::mask_card_numbers(&e.to_string())));
                refused = true;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(e) = write_err {
            return Err(e);
        }
        refused |= report.status == FileStatus::Quarantined;
        if json {
            // Keep stdout to decision lines only; the summary goes to the person.
            eprint!("{}", summary_text(&report));
        } else {
            write!(out, "{}", summary_text(&report))?;
        }
    }
    out.flush()?;
    Ok(if refused { ExitCode::from(EXIT_FILES_REFUSED) } else { ExitCode::SUCCESS })
}

fn write_decision(out: &mut impl Write, r: &PaymentResult) -> Result<()> {
    serde_json::to_writer(&mut *out, r)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// A person's summary of one file: counts, and sums per currency. The file's name (and the
/// reason, which quotes it) are shown escaped: one line each, whatever the name holds.
pub fn summary_text(report: &FileReport) -> String {
    let mut s = String::new();
    let seen = if report.seen_before { " (seen before)" } else { "" };
    s.push_str(&format!(
        "file {} [{}]{seen}: {}\n",
        shown(&report.file),
        report.file_id.short(),
        report.status.as_str()
    ));
    match (&report.reason, report.status) {
        (Some(reason), FileStatus::Quarantined) => {
            s.push_str(&format!("  refused: {}\n", about(&report.file, reason)));
            return s;
        }
        (Some(reason), _) => s.push_str(&format!("  not ingested again: {}\n", about(&report.file, reason))),
        (None, _) => {}
    }
    let m = &report.summary;
    s.push_str(&format!(
        "  payments {}: applied {}, queued {}, duplicates {}, rejected {}, reversed {}\n",
        m.payments, m.applied, m.queued, m.duplicates, m.rejected, m.reversed
    ));
    for (cur, t) in &m.totals {
        s.push_str(&format!(
            "  {cur}: credits {} ({}), debits {} ({}); applied {}, queued {}, duplicate {}, rejected {}, reversed {}\n",
            t.credits,
            t.credit_count,
            t.debits,
            t.debit_count,
            t.applied,
            t.queued,
            t.duplicate,
            t.rejected,
            t.reversed
        ));
    }
    if m.zero_amount > 0 {
        s.push_str(&format!("  lines of zero amount, kept out of the payments: {}\n", m.zero_amount));
    }
    if m.warned > 0 {
        s.push_str(&format!(
            "  kept with a warning of their record, sent to research: {} ({})\n",
            m.warned,
            m.warnings.join("; ")
        ));
    }
    s
}

/// Writes the open items of one market (or all), earliest due first.
fn print_queues(
    store: &SqliteStore,
    market: Option<Market>,
    json: bool,
    limit: usize,
    out: &mut impl Write,
) -> Result<()> {
    let markets: Vec<Market> = market.map(|m| vec![m]).unwrap_or_else(|| Market::ALL.to_vec());
    for m in markets {
        let items = store.open_items(m, limit)?;
        if json {
            for item in &items {
                serde_json::to_writer(&mut *out, item)?;
                out.write_all(b"\n")?;
            }
            continue;
        }
        writeln!(out, "{m} research queue: {} open", items.len())?;
        for i in &items {
            writeln!(
                out,
                "  {}  due {}  {:>12} {}  {:<28} {:<16} {}",
                i.id,
                i.due_at.format("%Y-%m-%d %H:%M UTC"),
                i.amount.amount(),
                i.amount.currency().code(),
                truncate(&one_line(&mask_card_numbers(i.payer_name.as_deref().unwrap_or("-"))), 28),
                serde_json::to_value(i.reason_code)?.as_str().unwrap_or("-"),
                i.candidate.as_ref().map(|c| c.masked()).unwrap_or_else(|| "-".into()),
            )?;
        }
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// Where the sample files are: the flag, else `./samples`, else the source tree's.
fn samples_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    let local = PathBuf::from("samples");
    if local.join("accounts.csv").exists() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples")
}

/// `remit demo`: a fresh store, the sample accounts, every market's sample files, twice.
pub fn demo(
    data_dir: &Path,
    config: &IngestConfig,
    samples: Option<&Path>,
    out: &mut impl Write,
) -> Result<ExitCode> {
    let samples = samples_dir(samples);
    let dir = data_dir.join("demo");
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("{}: cannot clear", shown_path(&dir)))?;
    }
    let store = open_store(&dir)?;
    let n = local::import_accounts(&store, &samples.join("accounts.csv"))?;
    writeln!(out, "remit demo: {n} accounts loaded into a fresh store at {}\n", shown_path(&dir))?;
    let now = Utc::now();
    // Files route as they would in the landing bucket: the key is the path under samples/.
    let routing_file = samples.join("../profiles/routing.toml");
    let router =
        SourceRouter::load_or_detect(Some(&routing_file).filter(|f| f.exists()).map(|f| f.as_path()))?;
    // The samples folder stands for the landing bucket, as in the handler tests.
    let bucket =
        LocalObjects::new(&samples).with_context(|| format!("{}: cannot open", shown_path(&samples)))?;

    let markets = [("ca", Market::CA, "Canada"), ("in", Market::IN, "India"), ("eu", Market::EU, "EU")];
    let mut all_files = Vec::new();
    for (folder, market, title) in markets {
        let files = local::drops(&bucket, &format!("{folder}/"))?;
        if files.is_empty() {
            bail!("no sample files in {}", shown_path(&samples.join(folder)));
        }
        writeln!(out, "== {title} ({market}) ==")?;
        for object in &files {
            let file = ObjectFile { objects: &bucket, object };
            let mut lines = Vec::new();
            let report = local::ingest(&store, &file, &router, now, config, |r| lines.push(demo_line(r)))?;
            write!(out, "{}", summary_text(&report))?;
            for l in lines {
                writeln!(out, "    {l}")?;
            }
        }
        all_files.extend(files);
        writeln!(out)?;
    }

    writeln!(out, "== Same files delivered again (at-least-once delivery) ==")?;
    // Each is recognised by its bytes (one read) and answered from its first ingest.
    let mut by_outcome: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut again = 0;
    for object in &all_files {
        let file = ObjectFile { objects: &bucket, object };
        let report = local::ingest(&store, &file, &router, now, config, |r| {
            *by_outcome.entry(r.decision.outcome.as_str()).or_default() += 1;
        })?;
        again += u64::from(report.seen_before && report.reason.is_some());
    }
    let mut text: Vec<String> =
        vec![format!("already ingested {again} (recognised by their bytes, nothing posted)")];
    text.extend(by_outcome.iter().map(|(k, v)| format!("{k} {v}")));
    writeln!(out, "  {} files again: {}\n", all_files.len(), text.join(", "))?;

    let bad = local::drops(&bucket, "bad/")?;
    if !bad.is_empty() {
        writeln!(out, "== Malformed files (quarantined, nothing posted) ==")?;
        for object in &bad {
            let file = ObjectFile { objects: &bucket, object };
            let report = local::ingest(&store, &file, &router, now, config, |_| {})?;
            write!(out, "{}", summary_text(&report))?;
        }
        writeln!(out)?;
    }

    writeln!(out, "== Research queues ==")?;
    print_queues(&store, None, false, 20, out)?;
    Ok(ExitCode::SUCCESS)
}

fn demo_line(r: &PaymentResult) -> String {
    let who = match (&r.decision.outcome, &r.decision.account) {
        (Outcome::Applied | Outcome::Reversed, Some(a)) => format!("-> {}", a.masked()),
        _ => String::new(),
    };
    let why = r.decision.blocker().or(r.decision.reasons.first()).map(|x| x.text.clone()).unwrap_or_default();
    // Reasons and references quote the file's text: one line, whatever it holds.
    one_line(&mask_card_numbers(&format!(
        "{:<9} {:>12} {} {:<6} {:<24} conf {:.2} {who} {why}",
        r.decision.outcome.as_str(),
        r.amount.amount(),
        r.amount.currency().code(),
        match r.direction {
            remit_domain::Direction::Credit => "credit",
            remit_domain::Direction::Debit => "debit",
        },
        truncate(&r.bank_ref, 24),
        r.decision.confidence,
    )))
}

/// `remit generate`: a large synthetic file for benchmarks.
pub fn generate(
    format: &str,
    payments: u64,
    seed: u64,
    path: &Path,
    out: &mut impl Write,
) -> Result<ExitCode> {
    let profile = format.strip_prefix("profile:").map(|p| Profile::load(Path::new(p))).transpose()?;
    let f = fs::File::create(path).with_context(|| format!("{}: cannot create", shown_path(path)))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    match &profile {
        Some(p) => remit_formats::profile::generate::write(p, &mut w, payments, seed)?,
        None => remit_formats::generate(format, &mut w, payments, seed)?,
    }
    w.flush()?;
    let size = fs::metadata(path)?.len();
    writeln!(
        out,
        "wrote {payments} {} payments to {} ({:.1} MB)",
        shown(format),
        shown_path(path),
        size as f64 / 1e6
    )?;
    Ok(ExitCode::SUCCESS)
}

/// One payment as `profiles check` shows it: masked, one line.
fn check_line(p: &Payment) -> String {
    let mut s = format!(
        "  record {:>3}: {} {} {:<6} {} ref {:?}",
        p.source.record,
        p.amount.amount(),
        p.amount.currency().code(),
        match p.direction {
            remit_domain::Direction::Credit => "credit",
            remit_domain::Direction::Debit => "debit",
        },
        p.value_date,
        p.bank_ref,
    );
    if let Some(n) = &p.payer_name {
        s.push_str(&format!(" payer {n:?}"));
    }
    if let Some(a) = &p.payer_account {
        s.push_str(&format!(" account {a}"));
    }
    let r = &p.references;
    if let Some(x) = &r.cross_reference {
        s.push_str(&format!(" account_reference {:?}", x.expose()));
    }
    if let Some(x) = &r.virtual_account {
        s.push_str(&format!(" virtual_account {}", x.expose()));
    }
    for (k, v) in &r.other {
        s.push_str(&format!(" {k}={:?}", v.expose()));
    }
    for w in &p.warnings {
        s.push_str(&format!(" [warning: {w}]"));
    }
    one_line(&mask_card_numbers(&s))
}

/// `remit profiles check`: the profile's summary, its first records as read from the sample,
/// then the whole sample validated (control totals included). Non-zero exit on any error.
pub fn profiles_check(
    profile: &Path,
    sample: &Path,
    records: usize,
    out: &mut impl Write,
) -> Result<ExitCode> {
    let profile = match Profile::load(profile) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("remit: {}", about(&profile.display().to_string(), &e.to_string()));
            return Ok(ExitCode::FAILURE);
        }
    };
    write!(out, "{}", profile.summary())?;
    let meta = local::file_meta(sample)?;
    writeln!(out, "sample {}:", shown(&meta.name))?;
    let plan = &profile.plan;
    let controlled = plan.trailer.is_some() || plan.csv.as_ref().is_some_and(|c| !c.total_row.is_empty());
    let router = SourceRouter::only(Source::Profile(Box::new(profile)));
    let file = LocalFile::new(sample);
    let stream = match local::open_payments(&file, &meta, &router) {
        Ok((_, s)) => s,
        Err(e) => {
            eprintln!("remit: {}", about(&meta.name, &e.to_string()));
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut n = 0u64;
    let mut totals: BTreeMap<&'static str, rust_decimal::Decimal> = BTreeMap::new();
    for p in stream {
        match p {
            Ok(p) => {
                if (n as usize) < records {
                    writeln!(out, "{}", check_line(&p))?;
                }
                n += 1;
                let total = totals.entry(p.amount.currency().code()).or_default();
                // Two amounts near the top of a decimal must not panic the check.
                let Some(sum) = total.checked_add(p.amount.amount()) else {
                    out.flush()?;
                    eprintln!(
                        "remit: {}: record {}: the {} total overflows",
                        shown(&meta.name),
                        p.source.record,
                        p.amount.currency().code()
                    );
                    writeln!(out, "FAILED after {n} records")?;
                    return Ok(ExitCode::FAILURE);
                };
                *total = sum;
            }
            Err(e) => {
                out.flush()?;
                eprintln!("remit: {}", about(&meta.name, &e.to_string()));
                writeln!(out, "FAILED after {n} records")?;
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    let sums: Vec<String> = totals.iter().map(|(c, t)| format!("{t} {c}")).collect();
    let agree = if controlled { ", control totals agree" } else { "" };
    writeln!(out, "OK: {n} records read, total {}{agree}", sums.join(", "))?;
    Ok(ExitCode::SUCCESS)
}

/// CPU time this thread has run, in nanoseconds (Linux), for `bench`: the per-core rate holds
/// even when other processes share the machine's cores.
fn thread_cpu_ns() -> Option<u64> {
    let stat = fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Peak resident memory of this process, in kB (Linux), for `bench`.
fn peak_rss_kb() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `remit bench`: parse only, no store; throughput and peak memory. With a profile, the files
/// are read with it.
pub fn bench(files: &[PathBuf], profile: Option<&Path>, out: &mut impl Write) -> Result<ExitCode> {
    let router = router_for(profile)?;
    for path in files {
        let meta = local::file_meta(path)?;
        let file = LocalFile::new(path);
        let start = Instant::now();
        let cpu_start = thread_cpu_ns();
        let (format, stream) = local::open_payments(&file, &meta, &router)?;
        let mut n = 0u64;
        for p in stream {
            p?;
            n += 1;
        }
        let secs = start.elapsed().as_secs_f64();
        let cpu = match (cpu_start, thread_cpu_ns()) {
            (Some(a), Some(b)) if b > a => {
                let cpu = (b - a) as f64 / 1e9;
                format!(", cpu {cpu:.3} s: {:.0} payments/s per core", n as f64 / cpu)
            }
            _ => String::new(),
        };
        writeln!(
            out,
            "{}: {} {:.1} MB, {n} payments in {secs:.3} s: {:.1} MB/s, {:.0} payments/s{cpu}, peak RSS {} kB",
            shown_path(path),
            format,
            meta.size as f64 / 1e6,
            meta.size as f64 / 1e6 / secs,
            n as f64 / secs,
            peak_rss_kb().map(|k| k.to_string()).unwrap_or_else(|| "?".into()),
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
