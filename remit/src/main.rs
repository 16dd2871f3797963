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
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print every payment of the files as one JSON object per line.
    Parse {
        #[arg(required = true)]
        files: Vec<PathBuf>,
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
        /// cpa005, camt054, india-csv or india-json.
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
    let result = match cli.command {
        Command::Parse { files } => commands::parse(&files, &mut out),
        Command::Accounts { command: AccountsCommand::Import { file } } => {
            commands::import_accounts(&cli.data_dir, &file, &mut out)
        }
        Command::Ingest { files, json } => commands::ingest(&cli.data_dir, &files, json, &mut out),
        Command::Queue { command: QueueCommand::List { market, json, limit } } => {
            commands::queue_list(&cli.data_dir, market, json, limit, &mut out)
        }
        Command::Demo { samples } => commands::demo(&cli.data_dir, samples.as_deref(), &mut out),
        Command::Generate { format, payments, seed, out: path } => {
            commands::generate(&format, payments, seed, &path, &mut out)
        }
        Command::Bench { files } => commands::bench(&files, &mut out),
        Command::Eval(args) => remit::eval::command(args, &mut out),
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
