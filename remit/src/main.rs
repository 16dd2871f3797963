//! `remit`: the local runner and ops CLI on the embedded SQLite store.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use remit::commands;
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
    /// Open research items, earliest due first.
    List {
        #[arg(long)]
        market: Option<Market>,
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("REMIT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let mut out = std::io::stdout().lock();
    let config = match remit::local::load_config(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("remit: {e:#}");
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
        Command::Queue { command: QueueCommand::List { market, json, limit } } => {
            commands::queue_list(&cli.data_dir, market, json, limit, &mut out)
        }
        Command::Demo { samples } => commands::demo(&cli.data_dir, &config, samples.as_deref(), &mut out),
        Command::Generate { format, payments, seed, out: path } => {
            commands::generate(&format, payments, seed, &path, &mut out)
        }
        Command::Bench { files, profile } => commands::bench(&files, profile.as_deref(), &mut out),
        Command::Eval(args) => remit::eval::command(args, &config, &mut out),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("remit: {}", remit_domain::mask_card_numbers(&format!("{e:#}")));
            ExitCode::FAILURE
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
