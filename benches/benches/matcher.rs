//! The matcher against a directory of 10 million accounts (issue 5): at least 200,000
//! payments per second on one core, with the directory's memory measured.
//!
//! `cargo bench -p remit-bench --bench matcher` builds `REMIT_BENCH_ACCOUNTS` (default
//! 10,000,000) synthetic accounts into a `remit_domain::AccountIndex`, reports build time, the
//! bytes the index accounts for and the process's resident-memory growth (`VmRSS` from
//! `/proc/self/status`), then matches `REMIT_BENCH_PAYMENTS` (default 1,000,000) payments of a
//! mixed workload on one thread and prints payments per second of wall time and per second of
//! the thread's CPU time (`/proc/thread-self/schedstat`), for the mix and per kind.
//!
//! Without `--bench` (under `cargo test --all-targets`) it runs 20,000 accounts and 6,000
//! payments and checks every kind's outcome: a smoke test.

use std::env;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use remit_bench::directory::{self, holder, market, number};
use remit_domain::matching::matcher::{decide, MatchPolicy};
use remit_domain::model::money::Money;
use remit_domain::{
    Account, AccountIndex, CardKey, CardRef, Direction, FileId, KeyBasis, Market, Outcome, Payment,
    Provenance, RefText, References, SourceFormat,
};
use rust_decimal::Decimal;

fn rf(i: u64) -> String {
    let reference = format!("AMX{i:010}");
    let rearranged = format!("{reference}RF00");
    let mut rem = 0u32;
    for c in rearranged.chars() {
        let v = c.to_digit(36).unwrap();
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    format!("RF{:02}{reference}", 98 - rem)
}

/// The bench's card key: the directory holds tokens, as in production (issue 15).
fn key() -> CardKey {
    CardKey::from_secret(&[42u8; 32]).expect("32 bytes")
}

/// The shared synthetic account, with India's virtual account and the EU's RF reference.
fn account(i: u64, key: &CardKey) -> Account {
    let m = market(i);
    Account {
        virtual_account: (m == Market::IN).then(|| format!("AMEX01{i:010}")),
        creditor_reference: (m == Market::EU).then(|| rf(i).parse().expect("valid RF")),
        ..directory::account(i, key)
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// This thread's time on CPU so far, in ns (Linux: first field of `/proc/thread-self/schedstat`).
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// One measured pass over some payments.
#[derive(Default)]
struct Pass {
    n: u64,
    applied: u64,
    wrong: u64,
    wall: f64,
    cpu: Option<f64>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Clean,
    Formatted,
    Typo,
    Transposed,
    LastFive,
    NameOnly,
    VirtualAccount,
    Rf,
}

const KINDS: [(Kind, u32); 8] = [
    (Kind::Clean, 30),
    (Kind::Formatted, 15),
    (Kind::Typo, 10),
    (Kind::Transposed, 5),
    (Kind::LastFive, 10),
    (Kind::NameOnly, 5),
    (Kind::VirtualAccount, 15),
    (Kind::Rf, 10),
];

fn kind_of(j: u64) -> Kind {
    let mut r = (j * 37 % 100) as u32;
    for (k, share) in KINDS {
        if r < share {
            return k;
        }
        r -= share;
    }
    Kind::Clean
}

/// A payment of `kind` for account `i` (of the right market for VA and RF kinds).
fn payment(kind: Kind, i: u64, j: u64, file: &Arc<str>) -> Payment {
    let a = account(i, &key());
    let n = number(i);
    let mut refs = References::default();
    let mut name = Some(holder(i));
    match kind {
        Kind::Clean => refs.cross_reference = Some(RefText::new(n.clone())),
        Kind::Formatted => {
            refs.remittance =
                vec![RefText::new(format!("Payment card {} {} {} thanks", &n[..4], &n[4..10], &n[10..]))]
        }
        Kind::Typo => {
            let mut b = n.into_bytes();
            b[8] = b'0' + (b[8] - b'0' + 3) % 10;
            refs.cross_reference = Some(RefText::new(String::from_utf8(b).unwrap()));
            // Names as banks send them: upper case, family name first.
            let h = holder(i);
            let (f, l) = h.split_once(' ').expect("two words");
            name = Some(format!("{} {}", l.to_uppercase(), f.to_uppercase()));
        }
        Kind::Transposed => {
            let mut b = n.into_bytes();
            let k = (3..13).find(|&k| b[k] != b[k + 1]).unwrap_or(3);
            b.swap(k, k + 1);
            refs.remittance = vec![RefText::new(String::from_utf8(b).unwrap())];
        }
        Kind::LastFive => refs.remittance = vec![RefText::new(format!("AMEX XXXX-XXXXXX-{}", &n[10..]))],
        Kind::NameOnly => refs.remittance = vec![RefText::new("monthly payment")],
        Kind::VirtualAccount => refs.virtual_account = a.virtual_account.clone().map(RefText::new),
        Kind::Rf => refs.creditor_reference = a.creditor_reference.as_ref().map(|r| RefText::new(r.as_str())),
    }
    Payment {
        market: a.market,
        format: SourceFormat::Camt054,
        source_bank: "BANK".into(),
        bank_ref: format!("B{j}"),
        key_basis: KeyBasis::BankReference,
        amount: Money::new(Decimal::new(((j * 31) % 90_000) as i64 + 100, 2), a.currency).unwrap(),
        direction: Direction::Credit,
        reversal: false,
        value_date: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        booking_date: None,
        payer_name: name,
        payer_account: None,
        references: refs,
        source: Provenance {
            file_id: FileId::of_bytes(b"bench"),
            file: file.clone(),
            record: j,
            offset: 0,
            position: 0,
        },
        warnings: Vec::new(),
    }
}

/// Which account a payment of this kind is for: VA kinds need India, RF kinds the EU.
fn account_for(kind: Kind, j: u64, accounts: u64) -> u64 {
    let mut i = (j.wrapping_mul(2_654_435_761)) % accounts;
    let want = match kind {
        Kind::VirtualAccount => Some(Market::IN),
        Kind::Rf => Some(Market::EU),
        _ => None,
    };
    while want.is_some_and(|m| market(i) != m) || i.is_multiple_of(97) {
        i = (i + 1) % accounts;
    }
    i
}

fn main() -> ExitCode {
    let bench = env::args().any(|a| a == "--bench");
    let env_n = |k: &str, d: u64| env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let (accounts, payments) = if bench {
        (env_n("REMIT_BENCH_ACCOUNTS", 10_000_000), env_n("REMIT_BENCH_PAYMENTS", 1_000_000))
    } else {
        (20_000, 6_000)
    };

    let rss0 = rss_kib();
    let t = Instant::now();
    let key = key();
    let mut index = AccountIndex::with_capacity(key.clone(), accounts as usize);
    for i in 0..accounts {
        index.insert(&account(i, &key)).expect("insert");
    }
    let build = t.elapsed().as_secs_f64();
    let rss1 = rss_kib();
    println!(
        "directory: {accounts} accounts built in {build:.2} s ({:.0} accounts/s); index holds {:.1} MiB \
         ({:.1} B/account); RSS grew {:.1} MiB",
        accounts as f64 / build,
        index.bytes() as f64 / 1048576.0,
        index.bytes() as f64 / accounts as f64,
        (rss1.saturating_sub(rss0)) as f64 / 1024.0
    );

    let file: Arc<str> = "bench".into();
    let work: Vec<(Kind, CardRef, Payment)> = (0..payments)
        .map(|j| {
            let kind = kind_of(j);
            let i = account_for(kind, j, accounts);
            (kind, key.card(&number(i).parse().expect("valid")), payment(kind, i, j, &file))
        })
        .collect();
    let policy = MatchPolicy::default();

    // Warm-up pass, then the measured mix (every payment in generation order), then each kind
    // on its own. Wall time and the matching thread's CPU time (the machine is shared: CPU
    // seconds are what one core gives the matcher).
    let warm = work.len().min(10_000);
    for (_, _, p) in &work[..warm] {
        std::hint::black_box(decide(p, &index, &policy).unwrap());
    }
    let run = |items: &mut dyn Iterator<Item = &(Kind, CardRef, Payment)>| -> Pass {
        let mut pass = Pass::default();
        let cpu0 = thread_cpu_ns();
        let t = Instant::now();
        for (_, expected, p) in items {
            let d = decide(p, &index, &policy).unwrap();
            pass.n += 1;
            if d.outcome == Outcome::Applied {
                pass.applied += 1;
                if d.account.as_ref() != Some(expected) {
                    pass.wrong += 1;
                }
            }
        }
        pass.wall = t.elapsed().as_secs_f64();
        pass.cpu = match (cpu0, thread_cpu_ns()) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a) as f64 / 1e9),
            _ => None,
        };
        pass
    };
    let mix = run(&mut work.iter());
    let per_kind: Vec<(Kind, Pass)> =
        KINDS.iter().map(|&(k, _)| (k, run(&mut work.iter().filter(|w| w.0 == k)))).collect();
    let per_cpu = |p: &Pass| p.cpu.map_or("n/a".to_string(), |c| format!("{:.0}", p.n as f64 / c));
    println!(
        "matching: {} payments on one thread in {:.3} s wall ({:.0} payments/s), {} s on CPU \
         ({} payments per CPU-second)",
        mix.n,
        mix.wall,
        mix.n as f64 / mix.wall,
        mix.cpu.map_or("n/a".to_string(), |c| format!("{c:.3}")),
        per_cpu(&mix)
    );
    println!("| kind | payments | applied | payments/s (wall) | payments per CPU-second |");
    println!("|---|---:|---:|---:|---:|");
    for (k, p) in &per_kind {
        println!("| {k:?} | {} | {} | {:.0} | {} |", p.n, p.applied, p.n as f64 / p.wall, per_cpu(p));
    }
    println!("| mix | {} | {} | {:.0} | {} |", mix.n, mix.applied, mix.n as f64 / mix.wall, per_cpu(&mix));
    let wrong = mix.wrong + per_kind.iter().map(|(_, p)| p.wrong).sum::<u64>();
    println!("misapplied: {wrong}");
    // Every decision in full (outcome, account, confidence, reasons), hashed: the same digest
    // before and after a change to the matcher means no decision changed.
    let mut digest = std::collections::hash_map::DefaultHasher::new();
    for (_, _, p) in &work {
        use std::hash::{Hash, Hasher};
        let d = decide(p, &index, &policy).unwrap();
        d.outcome.as_str().hash(&mut digest);
        // The card's masked form: the digest shows no number (before tokens it hashed the number).
        d.account.as_ref().map(CardRef::masked).hash(&mut digest);
        d.confidence.to_bits().hash(&mut digest);
        for r in &d.reasons {
            r.code.hash(&mut digest);
            r.text.hash(&mut digest);
        }
        digest.write_u8(0xff);
    }
    println!("decisions digest: {:016x}", std::hash::Hasher::finish(&digest));

    // Expectations that hold for this generator: every clean, formatted, VA and RF payment and
    // every typo with an agreeing name applies; name-only never does; nothing is misapplied.
    let mut failed = Vec::new();
    if wrong > 0 {
        failed.push(format!("{wrong} misapplied"));
    }
    let mix_applied: u64 = per_kind.iter().map(|(_, p)| p.applied).sum();
    if mix_applied != mix.applied {
        failed.push(format!("the mix applied {} but the kinds alone {mix_applied}", mix.applied));
    }
    for (k, p) in &per_kind {
        let (n, applied) = (&p.n, &p.applied);
        let expect_all = matches!(k, Kind::Clean | Kind::Formatted | Kind::VirtualAccount | Kind::Rf);
        if expect_all && applied != n {
            failed.push(format!("{k:?}: {applied} of {n} applied"));
        }
        if *k == Kind::NameOnly && *applied > 0 {
            failed.push(format!("name-only applied {applied}"));
        }
        if matches!(k, Kind::Typo) && (*applied as f64) < 0.8 * *n as f64 {
            failed.push(format!("{k:?}: only {applied} of {n} applied"));
        }
    }
    let rate = mix.cpu.map_or(mix.n as f64 / mix.wall, |c| mix.n as f64 / c);
    if bench && rate < 200_000.0 {
        println!("below the 200,000 payments per CPU-second target");
    }
    if failed.is_empty() {
        println!("matcher {}: all checks passed", if bench { "bench" } else { "smoke" });
        ExitCode::SUCCESS
    } else {
        eprintln!("matcher: {}", failed.join("; "));
        ExitCode::FAILURE
    }
}
