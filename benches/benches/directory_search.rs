//! The analyst's directory search on SQLite (issue 16): a holder-name search reads one page of
//! the name index, so its latency must not grow with the directory. Target: median under 50 ms
//! over 1,000,000 accounts.
//!
//! `cargo bench -p remit-bench --bench directory_search` puts `REMIT_BENCH_ACCOUNTS` (default
//! 1,000,000) synthetic accounts into a `SqliteStore` in a temporary directory with
//! `SqliteStore::put_accounts` (10,000 accounts per transaction: the rows `put_account` writes,
//! one commit per batch; `REMIT_BENCH_PUT_ONE_BY_ONE=1` loads with `put_account`, one transaction
//! per account, as `remit accounts import` does), reports the load time and
//! the database's size, then runs `REMIT_BENCH_SEARCHES` (default 1,000) searches
//! `DirectorySearch::search_accounts(market, HolderName(key), None, 20)` for the names of a
//! spread sample of the accounts (the payer's spelling, `NormalName::lookup_key`), and prints
//! the median, p99 and maximum latency of the first page and of the page after it.
//!
//! Without `--bench` (under `cargo test --all-targets`) it loads 5,000 accounts and checks that
//! every search finds accounts of its market under that name: a smoke test.

use std::env;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use remit_bench::directory::{account, holder, market};
use remit_domain::ports::{AccountDirectory, AccountIndexKey, DirectorySearch};
use remit_domain::text::names::{holder_name_keys, NormalName};
use remit_store_sqlite::{SqliteStore, Table};

/// Accounts per load transaction (`SqliteStore::put_accounts`).
const BATCH: usize = 10_000;

/// Results per page, as the workbench asks.
const PAGE: usize = 20;

/// The value at quantile `q` of sorted durations, in ms.
fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() -> ExitCode {
    let bench = env::args().any(|a| a == "--bench");
    let env_n = |k: &str, d: u64| env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let (accounts, searches) = if bench {
        (env_n("REMIT_BENCH_ACCOUNTS", 1_000_000), env_n("REMIT_BENCH_SEARCHES", 1_000))
    } else {
        (5_000, 200)
    };

    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("remit.sqlite");
    let store = SqliteStore::open(&path).expect("open the store");
    let key = store.card_key().clone();
    // `put_account` commits once per account (about 1,800 accounts/s here at 1M: nine minutes);
    // `SqliteStore::put_accounts` writes the same rows, 10,000 accounts per transaction.
    let one_by_one = env::var("REMIT_BENCH_PUT_ONE_BY_ONE").is_ok_and(|v| v == "1");
    let t = Instant::now();
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..accounts {
        let a = account(i, &key);
        if one_by_one {
            store.put_account(&a).expect("put account");
            continue;
        }
        batch.push(a);
        if batch.len() == BATCH || i + 1 == accounts {
            store.put_accounts(&batch).expect("put accounts");
            batch.clear();
        }
    }
    let load = t.elapsed().as_secs_f64();
    let how = if one_by_one { "put_account" } else { "put_accounts, 10,000 per transaction" };
    let name_rows = store.count(Table::AccountNameKeys).expect("count");
    let bytes: u64 = std::fs::read_dir(dir.path())
        .map(|d| d.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
        .unwrap_or(0);
    println!(
        "directory: {accounts} accounts put in {load:.1} s ({:.0} accounts/s, {how}), {name_rows} \
         name-index rows, {:.0} MiB on disk (database, WAL and key file)",
        accounts as f64 / load,
        bytes as f64 / 1048576.0
    );

    // A spread sample of the accounts: each search is for one of their names, as the payer
    // wrote it (the key `NormalName::lookup_key` gives, e.g. the last name first).
    let step = (accounts / searches).max(1);
    let mut first = Vec::with_capacity(searches as usize);
    let mut next = Vec::with_capacity(searches as usize);
    let mut found_total = 0usize;
    let mut failures = 0;
    for k in 0..searches.min(accounts) {
        let i = k * step + (k % step.max(1));
        let i = i.min(accounts - 1);
        let (m, name) = (market(i), holder(i));
        let written = name.split_whitespace().rev().collect::<Vec<_>>().join(" ").to_uppercase();
        let Some(lookup) = NormalName::new(&written).lookup_key() else { continue };
        let search = AccountIndexKey::HolderName(lookup.clone());
        let t = Instant::now();
        let page = store.search_accounts(m, &search, None, PAGE).expect("search");
        first.push(t.elapsed());
        found_total += page.len();
        let ok = !page.is_empty()
            && page.iter().all(|a| a.market == m && holder_name_keys(&a.holder_name).contains(&lookup));
        if !ok {
            failures += 1;
            eprintln!("search {k}: {} accounts, not all of {m:?} under {lookup:?}", page.len());
        }
        if page.len() == PAGE {
            let t = Instant::now();
            let more = store.search_accounts(m, &search, page.last().map(|a| &a.card), PAGE).expect("search");
            next.push(t.elapsed());
            if more.iter().any(|a| page.iter().any(|b| b.card == a.card)) {
                failures += 1;
                eprintln!("search {k}: the next page repeats an account");
            }
        }
    }
    first.sort();
    next.sort();
    println!(
        "holder-name search, first page of {PAGE}: {} searches, median {:.3} ms, p99 {:.3} ms, max {:.3} ms \
         ({:.1} accounts per page)",
        first.len(),
        quantile_ms(&first, 0.5),
        quantile_ms(&first, 0.99),
        quantile_ms(&first, 1.0),
        found_total as f64 / first.len().max(1) as f64
    );
    if !next.is_empty() {
        println!(
            "holder-name search, the page after: {} searches, median {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            next.len(),
            quantile_ms(&next, 0.5),
            quantile_ms(&next, 0.99),
            quantile_ms(&next, 1.0)
        );
    }
    let median = quantile_ms(&first, 0.5);
    if failures > 0 {
        eprintln!("{failures} searches returned what they should not");
        return ExitCode::FAILURE;
    }
    if bench && median >= 50.0 {
        eprintln!("median {median:.3} ms: above the 50 ms target");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
