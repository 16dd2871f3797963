//! The matching-quality evaluation harness (issue 5): a generator that writes a labelled
//! workload for every market in its real file formats, and a scorer that runs the whole
//! pipeline on it in a fresh store and counts what went right and wrong.
//!
//! `labels.jsonl` holds one line per payment: the truth about it. Its `account` is the real
//! card number of the synthetic directory (test data); the console output masks every number.

pub mod files;
pub mod score;
pub mod workload;

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, TimeZone, Utc};
use clap::{Args, Subcommand};
use remit_domain::ingest::IngestConfig;
use remit_domain::matching::payer::identities;
use remit_domain::model::ids::FileId;
use remit_domain::model::money::Currency;
use remit_domain::ports::AccountDirectory;
use remit_domain::ports::{AliasMemory, FileStatus};
use remit_domain::research::queue;
use remit_domain::{
    AccountNumber, Direction, KeyBasis, Market, Money, Outcome, PayerAccount, Payment, Provenance,
    SourceFormat,
};
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
    /// A return or reversal that must undo the posting to the labelled account.
    Reversed,
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
    /// The corporate paying (`CA/corporate-1`): its first and next files are compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_group: Option<String>,
    /// The runner resolves this payment's research item to `account` as an analyst would,
    /// before it ingests the next file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resolve: bool,
    /// What must happen instead when `own.CA.collect_debits` is on (PAD files we originate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_collecting: Option<Expected>,
}

impl Label {
    /// What must happen to the payment in a run that collects PAD debits or not.
    pub fn expected_in(&self, collecting: bool) -> Expected {
        match self.expected_collecting {
            Some(e) if collecting => e,
            _ => self.expected,
        }
    }
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

/// The workload's card numbers by their token under `key` (the first column of its accounts CSV).
fn numbers_by_card(
    path: &Path,
    key: &remit_domain::CardKey,
) -> Result<HashMap<remit_domain::CardRef, String>> {
    let mut csv = csv::Reader::from_path(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let mut out = HashMap::new();
    for row in csv.records() {
        let row = row?;
        let number: AccountNumber =
            row.get(0).unwrap_or("").parse().map_err(|e| anyhow::anyhow!("accounts.csv: {e}"))?;
        out.insert(key.card(&number), number.expose().to_string());
    }
    Ok(out)
}

/// Scores the workload in `dir` with the shipped matching configuration.
pub fn run(dir: &Path) -> Result<Report> {
    run_with(dir, &IngestConfig::default())
}

/// The analyst the runner resolves research items as.
pub const ANALYST: &str = "eval-analyst";

/// Scores the workload in `dir` with `config` (to see what a threshold change does); when
/// `config` does not collect PAD debits, runs it a second time with `own.CA.collect_debits` on
/// (`Report::collect_debits_run`).
pub fn run_with(dir: &Path, config: &IngestConfig) -> Result<Report> {
    let mut report = run_once(dir, config)?;
    if !config.own.ca.collect_debits {
        let mut collecting = config.clone();
        collecting.own.ca.collect_debits = true;
        report.collect_debits_run = Some(Box::new(run_once(dir, &collecting)?));
    }
    Ok(report)
}

/// Ingests `dir`'s accounts and files into a fresh embedded store, the way `remit ingest`
/// does, resolving research items between files as an analyst would (labels marked
/// `resolve`), and scores every decision against the labels.
pub fn run_once(dir: &Path, config: &IngestConfig) -> Result<Report> {
    let labels = read_labels(&dir.join("labels.jsonl"))?;
    let manifest: Manifest = serde_json::from_slice(
        &fs::read(dir.join("manifest.json"))
            .with_context(|| format!("{}: no manifest.json", dir.display()))?,
    )?;
    let data = tempfile::tempdir()?;
    let store = SqliteStore::open(&data.path().join("remit.sqlite"))?;
    local::import_accounts(&store, &dir.join("accounts.csv"))?;
    // The store knows cards by token; the labels (this harness's own synthetic accounts) by
    // number. Decisions are scored, and digested, by number, as before tokens.
    let numbers = numbers_by_card(&dir.join("accounts.csv"), store.card_key())?;
    // A fixed clock: SLA due times do not change what is scored, and runs stay comparable.
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).single().unwrap_or_else(Utc::now);
    let mut observed = Vec::new();
    let mut quarantined = Vec::new();
    // Research items by (market, bank reference), for the analyst.
    let mut queued: HashMap<(String, String), String> = HashMap::new();
    let mut to_resolve: Vec<&Label> = labels.iter().filter(|l| l.resolve).collect();
    let (mut resolutions, mut refusals) = (0u64, Vec::new());
    for file in &manifest.files {
        let path = dir.join(file);
        let report = local::ingest_path(&store, &path, now, config, |r| {
            let market = r.market.code().to_string();
            if let Some(item) = &r.queue_item {
                queued.insert((market.clone(), r.bank_ref.clone()), item.clone());
            }
            observed.push(Observed {
                file: file.clone(),
                market,
                bank_ref: r.bank_ref.clone(),
                outcome: r.decision.outcome.as_str().to_string(),
                account: match r.decision.outcome {
                    Outcome::Applied | Outcome::Reversed => {
                        r.decision.account.as_ref().and_then(|a| numbers.get(a).cloned())
                    }
                    _ => None,
                },
                candidates: r
                    .decision
                    .candidates
                    .iter()
                    .map(|c| numbers.get(&c.account).cloned().unwrap_or_else(|| c.account.masked()))
                    .collect(),
            });
        })?;
        if report.status == FileStatus::Quarantined {
            quarantined.push(format!("{file}: {}", report.reason.unwrap_or_default()));
        }
        // The analyst works the queue before the next file arrives.
        to_resolve.retain(|label| {
            let Some(item) = queued.get(&(label.market.clone(), label.bank_ref.clone())) else {
                return true;
            };
            match resolve(&store, item, label, now, config) {
                Ok(()) => resolutions += 1,
                Err(e) => refusals.push(format!("{} ({}): {e:#}", label.id, label.scenario)),
            }
            false
        });
    }
    // A payment the analyst should have resolved never reached the queue: the scenario did not
    // happen as written (its decision is scored too).
    for label in to_resolve {
        refusals.push(format!("{} ({}): never queued for research", label.id, label.scenario));
    }
    let mut report = score::score_run(&labels, &observed, quarantined, config.own.ca.collect_debits);
    report.resolutions = resolutions;
    report.resolution_refusals = refusals;
    report.own_identity_aliases = own_identity_aliases(&store)?;
    report.settle_gates();
    Ok(report)
}

/// Claims research item `item` and resolves it by applying its payment to the label's account,
/// with the queue operations `remit queue claim` and `remit queue resolve` use (the resolution
/// teaches alias memory the payer).
fn resolve(
    store: &SqliteStore,
    item: &str,
    label: &Label,
    now: DateTime<Utc>,
    config: &IngestConfig,
) -> Result<()> {
    let account: AccountNumber = label
        .account
        .as_deref()
        .context("no account in the label")?
        .parse()
        .map_err(|e| anyhow::anyhow!("label account: {e}"))?;
    queue::claim(store, item, ANALYST, now, &config.queue)?;
    queue::resolve_by_applying(store, item, &store.card_key().card(&account), ANALYST, now, &config.queue)?;
    Ok(())
}

/// The alias-memory keys (`PayerIdentity::key`) our own identities, as the evaluation's files
/// write them, would be learned under: our names and our account in Canada.
pub fn own_identity_keys() -> Vec<String> {
    let us = files::Ours::ca();
    let ours =
        PayerAccount::Canadian { institution: us.institution, transit: us.transit, account: us.account };
    let mut keys = Vec::new();
    for name in [files::OUR_NAME, files::OUR_SHORT_NAME] {
        let p = Payment {
            market: Market::CA,
            format: SourceFormat::Cpa005,
            source_bank: "own".into(),
            bank_ref: "own".into(),
            key_basis: KeyBasis::BankReference,
            amount: Money::from_minor(100, Currency::CAD),
            direction: Direction::Credit,
            reversal: false,
            value_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default(),
            booking_date: None,
            payer_name: Some(name.into()),
            payer_account: Some(ours.clone()),
            references: Default::default(),
            source: Provenance {
                file_id: FileId::of_bytes(b""),
                file: "".into(),
                record: 0,
                offset: 0,
                position: 0,
            },
            warnings: Vec::new(),
        };
        for id in identities(&p) {
            if !keys.contains(&id.key()) {
                keys.push(id.key());
            }
        }
    }
    keys
}

/// How many aliases alias memory holds for our own identities.
fn own_identity_aliases(store: &SqliteStore) -> Result<u64> {
    let mut n = 0;
    for key in own_identity_keys() {
        n += store.aliases_for(&key)?.len() as u64;
    }
    Ok(n)
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
