//! The matching-quality evaluation harness (issue 5): a generator that writes a labelled
//! workload for every market in its real file formats, and a scorer that runs the whole
//! pipeline on it in a fresh store and counts what went right and wrong.
//!
//! `labels.jsonl` holds one line per payment: the truth about it. Its `account` is the real
//! card number of the synthetic directory (test data); the console output masks every number.

pub mod files;
pub mod score;
pub mod workload;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use chrono::{TimeZone, Utc};
use clap::{Args, Subcommand};
use remit_domain::pipeline::IngestConfig;
use remit_domain::ports::FileStatus;
use remit_domain::Outcome;
use remit_store_sqlite::SqliteStore;
use serde::{Deserialize, Serialize};

pub use score::{score, Counts, Observed, Report};

use crate::local;

/// What must happen to a payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expected {
    /// Must be applied, to exactly the labelled account.
    Apply,
    /// Must not be applied.
    Research,
    /// Applying to the labelled account is fine, so is research; another account is a
    /// misapplication.
    Either,
}

/// The truth about one payment of the workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Label {
    pub id: String,
    /// `CA`, `IN` or `EU`.
    pub market: String,
    pub scenario: String,
    /// The first file delivering it.
    pub file: String,
    /// Every delivery, in ingest order (a re-delivered payment is listed more than once).
    pub deliveries: Vec<String>,
    /// The bank's reference, as the reader reports it (CPA-005 item trace, UTR, camt
    /// `AcctSvcrRef`): the join key with the decisions, with the market.
    pub bank_ref: String,
    /// The payer's card account, when it is ours.
    pub account: Option<String>,
    pub expected: Expected,
    /// The references point to two or more accounts: never to be applied.
    #[serde(default)]
    pub ambiguous: bool,
    pub amount: String,
    pub currency: String,
}

/// `manifest.json`: how the workload was made and the order its files are ingested in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub seed: u64,
    pub payments: usize,
    pub accounts: usize,
    pub files: Vec<String>,
}

pub const DEFAULT_PAYMENTS: usize = 3000;
pub const DEFAULT_SEED: u64 = 1;

/// Writes the workload into `dir`: `accounts.csv`, the market files, `labels.jsonl`, and
/// `manifest.json`. Same payments and seed, same bytes.
pub fn generate(dir: &Path, payments: usize, seed: u64) -> Result<Manifest> {
    if payments < 3 {
        bail!("the workload needs at least 3 payments (one per market)");
    }
    fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let w = workload::build(payments, seed);
    let order = files::write_all(dir, &w, seed)?;
    let mut labels = String::new();
    for p in &w.payments {
        labels.push_str(&serde_json::to_string(&p.label())?);
        labels.push('\n');
    }
    fs::write(dir.join("labels.jsonl"), labels)?;
    let manifest = Manifest { seed, payments, accounts: w.accounts.len(), files: order };
    fs::write(dir.join("manifest.json"), serde_json::to_string_pretty(&manifest)? + "\n")?;
    Ok(manifest)
}

/// Reads `labels.jsonl`.
pub fn read_labels(path: &Path) -> Result<Vec<Label>> {
    let f = fs::File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str(&line).with_context(|| format!("{} line {}", path.display(), i + 1))?);
    }
    Ok(out)
}

/// Ingests `dir`'s accounts and files into a fresh embedded store, the way `remit ingest`
/// does, and scores every decision against the labels.
/// Scores the workload in `dir` with the shipped matching configuration.
pub fn run(dir: &Path) -> Result<Report> {
    run_with(dir, &IngestConfig::default())
}

/// Scores the workload in `dir` with `config` (to see what a threshold change does).
pub fn run_with(dir: &Path, config: &IngestConfig) -> Result<Report> {
    let labels = read_labels(&dir.join("labels.jsonl"))?;
    let manifest: Manifest = serde_json::from_slice(
        &fs::read(dir.join("manifest.json"))
            .with_context(|| format!("{}: no manifest.json", dir.display()))?,
    )?;
    let data = tempfile::tempdir()?;
    let store = SqliteStore::open(&data.path().join("remit.sqlite"))?;
    local::import_accounts(&store, &dir.join("accounts.csv"))?;
    // A fixed clock: SLA due times do not change what is scored, and runs stay comparable.
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).single().unwrap_or_else(Utc::now);
    let mut observed = Vec::new();
    let mut quarantined = Vec::new();
    for file in &manifest.files {
        let path = dir.join(file);
        let report = local::ingest_path(&store, &path, now, config, |r| {
            observed.push(Observed {
                file: file.clone(),
                market: r.market.code().to_string(),
                bank_ref: r.bank_ref.clone(),
                outcome: r.decision.outcome.as_str().to_string(),
                account: match r.decision.outcome {
                    Outcome::Applied => r.decision.account.as_ref().map(|a| a.expose().to_string()),
                    _ => None,
                },
            });
        })?;
        if report.status == FileStatus::Quarantined {
            quarantined.push(format!("{file}: {}", report.reason.unwrap_or_default()));
        }
    }
    Ok(score(&labels, &observed, quarantined))
}

/// `remit eval`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct EvalArgs {
    #[command(subcommand)]
    command: Option<EvalCommand>,
    /// With no subcommand: generate this many payments into a temporary folder and run them.
    #[arg(long, default_value_t = DEFAULT_PAYMENTS)]
    payments: usize,
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand, Debug)]
enum EvalCommand {
    /// Write a labelled workload (accounts.csv, files per market, labels.jsonl) into a folder.
    Generate {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = DEFAULT_PAYMENTS)]
        payments: usize,
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
    },
    /// Ingest a workload into a fresh store and score the decisions; exits 1 when anything was
    /// misapplied, applied while ambiguous or blocked, posted twice, or lost.
    Run {
        dir: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

/// Runs `remit eval`.
pub fn command(args: EvalArgs, config: &IngestConfig, out: &mut impl Write) -> Result<ExitCode> {
    match args.command {
        Some(EvalCommand::Generate { out: dir, payments, seed }) => {
            let m = generate(&dir, payments, seed)?;
            writeln!(
                out,
                "wrote {} labelled payments (seed {}) and {} accounts to {}: {}",
                m.payments,
                m.seed,
                m.accounts,
                dir.display(),
                m.files.join(", ")
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Some(EvalCommand::Run { dir, json }) => report(&run_with(&dir, config)?, json, out),
        None => {
            let dir = tempfile::tempdir()?;
            generate(dir.path(), args.payments, args.seed)?;
            if !args.json {
                writeln!(out, "workload: {} payments, seed {}\n", args.payments, args.seed)?;
            }
            report(&run_with(dir.path(), config)?, args.json, out)
        }
    }
}

fn report(r: &Report, json: bool, out: &mut impl Write) -> Result<ExitCode> {
    if json {
        serde_json::to_writer_pretty(&mut *out, r)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", score::render(r))?;
    }
    out.flush()?;
    Ok(if r.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
