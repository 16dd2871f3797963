//! `remit`: the local runner and ops CLI on the embedded SQLite store.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use remit::commands;
use remit_domain::ports::ItemStatus;
use remit_domain::Market;

#[derive(Parser)]
#[command(name = "remit", version, about = "Remittance ingestion: parse, match, post and queue payments")]
struct Cli {
    /// Data directory of the embedded store.
    #[arg(long, global = true, env = "REMIT_DATA_DIR", default_value = "remit-data")]
    data_dir: PathBuf,
    /// Pipeline configuration (matching thresholds, ceilings, SLAs), e.g. `config/remit.toml`;
    /// the shipped defaults without one.
    #[arg(long, global = true, env = "REMIT_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print every payment of the files as one JSON object per line.
    Parse {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Read the files with this bank profile (TOML) instead of detecting the format.
        #[arg(long)]
        profile: Option<PathBuf>,
    },
    /// Bank profiles: declarative layouts of bank files.
    Profiles {
        #[command(subcommand)]
        command: ProfilesCommand,
    },
    /// Manage the card account directory.
    Accounts {
        #[command(subcommand)]
        command: AccountsCommand,
    },
    /// Run the whole pipeline on files: parse, match, post or queue.
    Ingest {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// One decision object per payment per line.
        #[arg(long)]
        json: bool,
        /// Routing rules (`profiles/routing.toml`) that pick each file's reader from its key,
        /// the path as given (run from the drop folder for S3-style keys), and its first bytes.
        #[arg(long)]
        routing: Option<PathBuf>,
    },
    /// Research queues.
    Queue {
        #[command(subcommand)]
        command: QueueCommand,
    },
    /// SLA alerts and the leadership digest.
    Sla {
        #[command(subcommand)]
        command: SlaCommand,
    },
    /// Reports for accounting.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Load the sample accounts and files into a fresh data directory and ingest them.
    Demo {
        /// Folder holding accounts.csv and ca/, in/, eu/ sample files.
        #[arg(long)]
        samples: Option<PathBuf>,
    },
    /// Write a large synthetic file of a format, for benchmarks.
    Generate {
        /// cpa005, camt054, mt940, india-csv, india-json, or profile:PATH for a shipped
        /// profile with a generator (ca-billpay-remittance, in-ecollect-mis-a).
        #[arg(long)]
        format: String,
        /// Number of payments.
        #[arg(long)]
        payments: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        out: PathBuf,
    },
    /// Parse files without storing anything and report throughput and peak memory.
    Bench {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Read the files with this bank profile.
        #[arg(long)]
        profile: Option<PathBuf>,
    },
    /// Matching quality: generate a labelled workload, or score a run of one.
    Eval(remit::eval::EvalArgs),
    /// Serve the ops API (JSON, OpenAPI at /api/openapi.json) until Ctrl-C.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Token file (TOML `[[token]]` tables: token or sha256, analyst, role, markets).
        #[arg(long, env = "REMIT_TOKENS")]
        tokens: PathBuf,
        /// Milliseconds a connection may take to send a request's headers (or stay idle
        /// between requests) before it is closed.
        #[arg(
            long,
            env = "REMIT_SERVE_HEADER_TIMEOUT_MS",
            default_value_t = remit::serve::DEFAULT_HEADER_TIMEOUT_MS,
            value_parser = clap::value_parser!(u64).range(1..=600_000)
        )]
        header_timeout_ms: u64,
        /// Connections served at once; more wait until one closes.
        #[arg(
            long,
            env = "REMIT_SERVE_MAX_CONNECTIONS",
            default_value_t = remit::serve::DEFAULT_MAX_CONNECTIONS,
            value_parser = clap::value_parser!(u32).range(1..=10_000)
        )]
        max_connections: u32,
    },
}

#[derive(Subcommand)]
enum SlaCommand {
    /// Raise each SLA warning and breach due now, once (overlapping sweeps are safe).
    Sweep {
        /// The sweep's instant (RFC 3339); now by default.
        #[arg(long)]
        now: Option<String>,
        #[command(flatten)]
        to: AlertArgs,
        #[arg(long)]
        json: bool,
    },
    /// Each market's queue digest (open items, ageing, breaches, top reasons), printed and
    /// published to the alerts file.
    Digest {
        #[arg(long)]
        market: Option<Market>,
        #[arg(long)]
        now: Option<String>,
        #[command(flatten)]
        to: AlertArgs,
        #[arg(long)]
        json: bool,
        /// Print only; publish nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Where SLA alerts and digests are published (`remit::sla::LocalAlerts`).
#[derive(clap::Args)]
struct AlertArgs {
    /// JSON-lines file the notices are appended to (default: alerts.jsonl in the data dir).
    #[arg(long)]
    alerts: Option<PathBuf>,
    /// Also POST each notice as JSON to this URL.
    #[arg(long, env = "REMIT_ALERT_WEBHOOK")]
    webhook: Option<String>,
}

impl AlertArgs {
    fn sink(&self, data_dir: &Path) -> remit::sla::LocalAlerts {
        remit::sla::LocalAlerts::new(data_dir, self.alerts.as_deref(), self.webhook.as_deref())
    }
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Per file received that day: read, applied, queued, reversed, duplicate, rejected, and
    /// whether they reconcile (exit code 1 when one does not).
    Daily {
        /// The day (YYYY-MM-DD) in each market's time zone; today by default.
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        #[arg(long)]
        market: Option<Market>,
        #[arg(long)]
        csv: bool,
    },
}

#[derive(Subcommand)]
enum AccountsCommand {
    /// Import accounts from a CSV with the directory header.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum ProfilesCommand {
    /// Validate a profile against a sample file and show the first records as they are read.
    Check {
        profile: PathBuf,
        sample: PathBuf,
        /// How many records to show.
        #[arg(long, default_value_t = 5)]
        records: usize,
    },
}

#[derive(Subcommand)]
enum QueueCommand {
    /// Research items, earliest due first (active ones unless --status says otherwise).
    List {
        #[arg(long)]
        market: Option<Market>,
        /// open, escalated, write-off-pending, resolved, returned, written-off (repeatable).
        #[arg(long)]
        status: Vec<ItemStatus>,
        /// A reason code, e.g. no-reference, ambiguous, unknown-account.
        #[arg(long)]
        reason: Option<String>,
        /// Items currently claimed by this analyst.
        #[arg(long)]
        claimed_by: Option<String>,
        /// Items due before this instant (RFC 3339).
        #[arg(long)]
        due_before: Option<String>,
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// One item: the payment (masked), reasons, notes and the audit trail.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Claim an item: only you may act on it until the claim expires.
    Claim {
        id: String,
        #[arg(long = "as", value_name = "ANALYST")]
        analyst: String,
        /// How long the claim lasts (default: `queue.claim_minutes` of the configuration, 30).
        #[arg(long)]
        minutes: Option<i64>,
    },
    /// Give a claim up.
    Release {
        id: String,
        #[arg(long = "as", value_name = "ANALYST")]
        analyst: String,
    },
    /// Apply the payment to a card account (posts it once) and teach the payer's alias.
    Resolve {
        id: String,
        #[arg(long)]
        account: String,
        #[arg(long = "as", value_name = "ANALYST")]
        analyst: String,
    },
    /// Return the payment to the remitter (nothing posts to a card).
    Return {
        id: String,
        #[arg(long = "as", value_name = "ANALYST")]
        analyst: String,
        #[arg(long)]
        reason: String,
    },
    /// Escalate the item (a senior analyst claims it next).
    Escalate {
        id: String,
        #[arg(long = "as", value_name = "ANALYST")]
        analyst: String,
        #[arg(long)]
        reason: String,
    },
    /// Add a note (anyone, any time).
    Note {
        id: String,
        #[arg(long = "as", value_name = "ANALYST")]
        analyst: String,
        text: String,
    },
    /// Request a write-off to suspense (a second person approves).
    WriteOff {
        id: String,
        #[arg(long = "as", value_name = "ANALYST")]
        analyst: String,
        #[arg(long)]
        reason: String,
    },
    /// Approve a write-off someone else requested.
    ApproveWriteOff {
        id: String,
        #[arg(long = "as", value_name = "ANALYST")]
        analyst: String,
    },
    /// Reject a write-off someone else requested: the item goes back to the queue.
    RejectWriteOff {
        id: String,
        #[arg(long = "as", value_name = "ANALYST")]
        analyst: String,
        #[arg(long)]
        reason: String,
    },
    /// Approve a resolve someone else made above the market's four-eyes limit: it posts now.
    ApproveResolve {
        id: String,
        #[arg(long = "as", value_name = "ANALYST")]
        analyst: String,
    },
    /// Reject a resolve someone else made above the limit: the item goes back to the queue.
    RejectResolve {
        id: String,
        #[arg(long = "as", value_name = "ANALYST")]
        analyst: String,
        #[arg(long)]
        reason: String,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("REMIT_LOG")
                // Warnings, and `remit serve`'s access log (one line per API request).
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,remit::access=info")),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal: a log file or a pipe gets plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let mut out = std::io::stdout().lock();
    let config = match remit::local::load_config(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("remit: {}", commands::one_line(&format!("{e:#}")));
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Parse { files, profile } => commands::parse(&files, profile.as_deref(), &mut out),
        Command::Profiles { command: ProfilesCommand::Check { profile, sample, records } } => {
            commands::profiles_check(&profile, &sample, records, &mut out)
        }
        Command::Accounts { command: AccountsCommand::Import { file } } => {
            commands::import_accounts(&cli.data_dir, &file, &mut out)
        }
        Command::Ingest { files, json, routing } => {
            commands::ingest(&cli.data_dir, &config, &files, json, routing.as_deref(), &mut out)
        }
        Command::Queue { command } => queue_command(&cli.data_dir, &config, command, &mut out),
        Command::Sla { command } => sla_command(&cli.data_dir, command, &mut out),
        Command::Report { command: ReportCommand::Daily { date, market, csv } } => {
            remit::report::daily(&cli.data_dir, &config, date, market, csv, &mut out)
        }
        Command::Demo { samples } => commands::demo(&cli.data_dir, &config, samples.as_deref(), &mut out),
        Command::Generate { format, payments, seed, out: path } => {
            commands::generate(&format, payments, seed, &path, &mut out)
        }
        Command::Bench { files, profile } => commands::bench(&files, profile.as_deref(), &mut out),
        Command::Eval(args) => remit::eval::command(args, &config, &mut out),
        Command::Serve { addr, tokens, header_timeout_ms, max_connections } => {
            let limits = remit::serve::Limits {
                header_timeout: std::time::Duration::from_millis(header_timeout_ms),
                max_connections: max_connections as usize,
            };
            remit::serve::serve(&cli.data_dir, &config, addr, &tokens, limits, &mut out)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, whatever names or input the error quotes.
            eprintln!("remit: {}", commands::one_line(&remit_domain::mask_card_numbers(&format!("{e:#}"))));
            ExitCode::FAILURE
        }
    }
}

fn queue_command(
    data_dir: &Path,
    config: &remit_domain::ingest::IngestConfig,
    command: QueueCommand,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    use remit::queue::{act, Op};
    use remit_domain::research::queue::Action;
    match command {
        QueueCommand::List { market, status, reason, claimed_by, due_before, json, limit } => {
            let args = remit::queue::ListArgs {
                market,
                statuses: status,
                reason,
                claimed_by,
                due_before,
                json,
                limit,
            };
            remit::queue::list(data_dir, &args, out)
        }
        QueueCommand::Show { id, json } => remit::queue::show(data_dir, &id, json, out),
        QueueCommand::Claim { id, analyst, minutes } => {
            let policy = remit_domain::research::queue::QueuePolicy {
                claim_minutes: minutes.unwrap_or(config.queue.claim_minutes),
                ..config.queue.clone()
            };
            policy.validate().map_err(|e| anyhow::anyhow!("--minutes: {e}"))?;
            act(data_dir, &id, &analyst, Op::Claim, &policy, out)
        }
        QueueCommand::Release { id, analyst } => {
            act(data_dir, &id, &analyst, Op::Other(Action::Release), &config.queue, out)
        }
        QueueCommand::Resolve { id, account, analyst } => {
            act(data_dir, &id, &analyst, Op::Resolve { account }, &config.queue, out)
        }
        QueueCommand::Return { id, analyst, reason } => {
            act(data_dir, &id, &analyst, Op::Other(Action::Return(reason)), &config.queue, out)
        }
        QueueCommand::Escalate { id, analyst, reason } => {
            act(data_dir, &id, &analyst, Op::Other(Action::Escalate(reason)), &config.queue, out)
        }
        QueueCommand::Note { id, analyst, text } => {
            act(data_dir, &id, &analyst, Op::Other(Action::Note(text)), &config.queue, out)
        }
        QueueCommand::WriteOff { id, analyst, reason } => {
            act(data_dir, &id, &analyst, Op::Other(Action::RequestWriteOff(reason)), &config.queue, out)
        }
        QueueCommand::ApproveWriteOff { id, analyst } => {
            act(data_dir, &id, &analyst, Op::Other(Action::ApproveWriteOff), &config.queue, out)
        }
        QueueCommand::RejectWriteOff { id, analyst, reason } => {
            act(data_dir, &id, &analyst, Op::Other(Action::RejectWriteOff(reason)), &config.queue, out)
        }
        QueueCommand::ApproveResolve { id, analyst } => {
            act(data_dir, &id, &analyst, Op::ApproveResolve, &config.queue, out)
        }
        QueueCommand::RejectResolve { id, analyst, reason } => {
            act(data_dir, &id, &analyst, Op::Other(Action::RejectResolve(reason)), &config.queue, out)
        }
    }
}

fn sla_command(data_dir: &Path, command: SlaCommand, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let instant = |s: Option<String>| s.as_deref().map(remit::queue::parse_instant).transpose();
    match command {
        SlaCommand::Sweep { now, to, json } => {
            remit::sla::sweep(data_dir, instant(now)?, &to.sink(data_dir), json, out)
        }
        SlaCommand::Digest { market, now, to, json, dry_run } => {
            remit::sla::digest(data_dir, market, instant(now)?, &to.sink(data_dir), json, dry_run, out)
        }
    }
}

/// A closed stdout (`remit parse | head`) is the reader's choice, not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}
