//! EU readers against public peers, side by side in one run (issue 3).
//!
//! Run through `scripts/bench-eu`, which generates the inputs and sets:
//!
//! - `REMIT_BENCH_CAMT054`: a camt.054.001.08 file (>= 10 MB)
//! - `REMIT_BENCH_MT940`: an MT940 file (~10 MB); `REMIT_BENCH_MT940_BIG`: one ~10x larger;
//!   `REMIT_BENCH_MT940_SMALL`: one ~1 MB (the `mt940` crate whole-file vs per-statement note)
//! - `REMIT_BENCH_PYTHON` and `REMIT_BENCH_PY_MT940`: the interpreter with the `mt-940` package
//!   and `benches/py/mt940_parse.py` (optional: without them the Python column is left out)
//! - `REMIT_BENCH_SECONDS` (default 2): time budget per reader; the readers of one input run
//!   round-robin until the budget is spent (at least `REMIT_BENCH_MIN_RUNS`, default 3, at most
//!   `REMIT_BENCH_MAX_RUNS`, default 7) and the median is taken (the first round is a warm-up,
//!   dropped when there are 4 or more).
//!
//! Every reader starts from the path of a file in the page cache and ends with a payment count;
//! counts are compared so that a peer that stops early cannot pass as fast.

use std::env;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use remit_domain::FileId;
use remit_formats::{Format, SourceContext};

/// The read buffer our CLI uses (`remit/src/local.rs`).
const BUFFER: usize = 256 * 1024;

struct Sample {
    payments: u64,
    secs: f64,
    runs: usize,
}

/// Seconds per reader, least and most runs.
fn budget() -> (f64, usize, usize) {
    let secs = env::var("REMIT_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let min = env::var("REMIT_BENCH_MIN_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let max = env::var("REMIT_BENCH_MAX_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(7);
    (secs, min, max)
}

type Job<'a> = Box<dyn FnMut() -> Result<u64, String> + 'a>;

/// Readers of one input, measured round-robin (ours, peer, peer, ours, ...) so that the load
/// of the shared machine falls on all of them alike.
struct Group<'a> {
    jobs: Vec<(&'static str, &'static str, &'static str, &'a Path, Job<'a>)>,
}

impl<'a> Group<'a> {
    fn new() -> Self {
        Self { jobs: Vec::new() }
    }

    /// Adds a reader; its row will be the group's base row plus the returned offset.
    fn add(
        &mut self,
        input: &'static str,
        reader: &'static str,
        unit: &'static str,
        path: &'a Path,
        f: impl FnMut() -> Result<u64, String> + 'a,
    ) -> usize {
        self.jobs.push((input, reader, unit, path, Box::new(f)));
        self.jobs.len() - 1
    }

    /// Runs rounds until the budget (per reader) is spent, at least `REMIT_BENCH_MIN_RUNS` (3)
    /// and at most `REMIT_BENCH_MAX_RUNS` (7); the first round is a warm-up, dropped when there
    /// are 4 or more.
    /// Adds one row per reader with its median; returns the index of the first row.
    fn run(mut self, rows: &mut Vec<Row>) -> Result<usize, String> {
        let (budget, min_runs, max_runs) = budget();
        let budget = budget * self.jobs.len() as f64;
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); self.jobs.len()];
        let mut counts = vec![0u64; self.jobs.len()];
        let all = Instant::now();
        let mut round = 0;
        while round < max_runs.max(min_runs).max(1) {
            for (i, (input, reader, _, _, f)) in self.jobs.iter_mut().enumerate() {
                if round == 0 {
                    eprintln!("  {input}: {reader} ...");
                }
                let t = Instant::now();
                counts[i] = f()?;
                times[i].push(t.elapsed().as_secs_f64());
            }
            round += 1;
            if round >= min_runs && all.elapsed().as_secs_f64() >= budget {
                break;
            }
        }
        let base = rows.len();
        for ((input, reader, unit, path, _), (mut t, payments)) in
            self.jobs.into_iter().zip(times.into_iter().zip(counts))
        {
            if t.len() >= 4 {
                t.remove(0);
            }
            t.sort_by(f64::total_cmp);
            let sample = Sample { payments, secs: t[t.len() / 2], runs: t.len() };
            rows.push(Row { input, reader, mb: mb(path)?, sample, unit });
        }
        Ok(base)
    }
}

fn open(path: &Path) -> Result<BufReader<File>, String> {
    File::open(path)
        .map(|f| BufReader::with_capacity(BUFFER, f))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Our streaming reader, exactly as `remit bench` drives it (the file id is not hashed here).
fn ours(format: Format, path: &Path) -> Result<u64, String> {
    let ctx = SourceContext { file_id: FileId::of_bytes(b""), file_name: path.display().to_string().into() };
    let mut n = 0;
    for p in remit_formats::open_as(format, ctx, open(path)?) {
        p.map_err(|e| e.to_string())?;
        n += 1;
    }
    Ok(n)
}

/// The floor: quick-xml's event loop over the same buffered file, nothing else.
fn bare_scan(path: &Path) -> Result<u64, String> {
    let mut reader = quick_xml::Reader::from_reader(open(path)?);
    let mut buf = Vec::new();
    let mut events = 0;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => events += 1,
            Err(e) => return Err(e.to_string()),
        }
        buf.clear();
    }
    Ok(events)
}

/// `sepa::parse_camt054_with_limits` on the whole file read into a string. Its default limits
/// (32 MB input, 250,000 elements, 16 MB of text) refuse a 10 MB file, so they are lifted.
/// One payment per `TxDtls`, or the entry itself when it has none: our reader's unit.
fn sepa_camt054(path: &Path) -> Result<u64, String> {
    let xml = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let limits = sepa::ParseLimits {
        input_bytes: usize::MAX,
        nodes: usize::MAX,
        total_text_bytes: usize::MAX,
        total_attribute_bytes: usize::MAX,
        ..Default::default()
    };
    let doc = sepa::camt054::parse_camt054_with_limits(&xml, limits).map_err(|e| e.to_string())?;
    Ok(doc.notifications.iter().flat_map(|n| n.entries.iter()).map(|e| e.details.len().max(1) as u64).sum())
}

/// The `mt940` crate the way its README suggests for real bank files: `sanitizers::sanitize`,
/// then `parse_mt940`. `per_statement`: split after each `-` line and sanitize each statement
/// alone, because `sanitize` on a whole multi-statement file is quadratic in its lines (its
/// passes look lines up in `Vec`s and re-skip from the top for every `:86:`); the 1 MB group
/// shows the difference.
fn mt940_crate(path: &Path, per_statement: bool) -> Result<u64, String> {
    // The crate takes `&str`; real files (and ours) carry Latin-1 names, so decode the way a
    // caller of the crate would have to, and count that as the crate's cost.
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let count = |s: &str| -> Result<u64, String> {
        let messages = mt940::parse_mt940(&mt940::sanitizers::sanitize(s)).map_err(|e| e.to_string())?;
        Ok(messages.iter().map(|m| m.statement_lines.len() as u64).sum())
    };
    if !per_statement {
        return count(&text);
    }
    let mut n = 0;
    for stmt in text.split_inclusive("\n-\r\n").flat_map(|s| s.split_inclusive("\n-\n")) {
        if !stmt.trim().is_empty() {
            n += count(stmt)?;
        }
    }
    Ok(n)
}

/// Python's `mt-940`, timed as a whole process (interpreter start and import included).
fn python_mt940(python: &str, script: &str, path: &Path) -> Result<u64, String> {
    let out = Command::new(python).arg(script).arg(path).output().map_err(|e| format!("{python}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{script}: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or(format!("{script}: bad output {stdout:?}"))
}

fn python_startup(python: &str) -> Result<u64, String> {
    let ok = Command::new(python).args(["-c", "import mt940"]).status().map_err(|e| e.to_string())?.success();
    ok.then_some(0).ok_or("python cannot import mt940".into())
}

struct Row {
    input: &'static str,
    reader: &'static str,
    mb: f64,
    sample: Sample,
    /// A payment count, or (bare scan) a count of XML events.
    unit: &'static str,
}

impl Row {
    fn mbps(&self) -> f64 {
        self.mb / self.sample.secs
    }
}

fn mb(path: &Path) -> Result<f64, String> {
    std::fs::metadata(path).map(|m| m.len() as f64 / 1e6).map_err(|e| format!("{}: {e}", path.display()))
}

fn path_var(name: &str) -> Option<PathBuf> {
    env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "FAIL"
    }
}

fn run() -> Result<bool, String> {
    let camt = path_var("REMIT_BENCH_CAMT054");
    let mt = path_var("REMIT_BENCH_MT940");
    let mt_big = path_var("REMIT_BENCH_MT940_BIG");
    let mt_small = path_var("REMIT_BENCH_MT940_SMALL");
    if camt.is_none() && mt.is_none() {
        return Err(
            "no inputs: set REMIT_BENCH_CAMT054 and/or REMIT_BENCH_MT940 (scripts/bench-eu does)".into()
        );
    }
    let python = env::var("REMIT_BENCH_PYTHON").ok().zip(env::var("REMIT_BENCH_PY_MT940").ok());

    let mut rows: Vec<Row> = Vec::new();
    let mut verdicts: Vec<String> = Vec::new();
    let mut all_ok = true;

    if let Some(path) = &camt {
        let input = "camt.054 10 MB";
        let mut g = Group::new();
        let o = g.add(input, "ours (remit-formats)", "payments", path, || ours(Format::Camt054, path));
        let s = g.add(input, "sepa 0.9 parse_camt054", "payments", path, || sepa_camt054(path));
        let b = g.add(input, "quick-xml 0.37 bare event scan", "events", path, || bare_scan(path));
        let base = g.run(&mut rows)?;
        let (o, s, b) = (&rows[base + o], &rows[base + s], &rows[base + b]);
        let counts_ok = o.sample.payments == s.sample.payments && o.sample.payments > 0;
        all_ok &= counts_ok;
        verdicts.push(format!(
            "{} payment counts: ours {}, sepa {}",
            verdict(counts_ok),
            o.sample.payments,
            s.sample.payments
        ));
        let vs_sepa = o.mbps() / s.mbps();
        let vs_bare = o.mbps() / b.mbps();
        let big_enough = o.mb >= 10.0;
        all_ok &= vs_sepa >= 6.0 && vs_bare >= 0.5 && big_enough;
        verdicts.push(format!(
            "{} camt.054: ours is {vs_sepa:.1}x sepa's speed (target >= 6x) on a {:.1} MB file (target >= 10 MB)",
            verdict(vs_sepa >= 6.0 && big_enough),
            o.mb
        ));
        verdicts.push(format!(
            "{} camt.054: ours is {vs_bare:.2}x the bare quick-xml scan's speed (target >= 0.5x)",
            verdict(vs_bare >= 0.5)
        ));
    }

    if let Some(path) = &mt {
        // Ours on both sizes in one group (the linearity check), then the slow peers in another.
        let input = "MT940 10 MB";
        let mut g = Group::new();
        let o = g.add(input, "ours (remit-formats)", "payments", path, || ours(Format::Mt940, path));
        let ob = mt_big.as_ref().map(|big| {
            g.add("MT940 100 MB", "ours (remit-formats)", "payments", big, || ours(Format::Mt940, big))
        });
        let base = g.run(&mut rows)?;
        let (o, ob) = (base + o, ob.map(|b| base + b));
        let mut g = Group::new();
        let c = g.add(input, "mt940 1.1 crate, sanitize + parse per statement", "payments", path, || {
            mt940_crate(path, true)
        });
        let p = python.as_ref().map(|(py, script)| {
            g.add(input, "Python startup + import mt940 only", "-", path, || python_startup(py));
            g.add(input, "Python mt-940 (whole process)", "payments", path, || python_mt940(py, script, path))
        });
        let base = g.run(&mut rows)?;
        let (c, p) = (base + c, p.map(|p| base + p));
        if let Some(small) = &mt_small {
            let mut g = Group::new();
            let input = "MT940 1 MB";
            let a =
                g.add(input, "mt940 1.1 crate, sanitize + parse per statement", "payments", small, || {
                    mt940_crate(small, true)
                });
            let w = g.add(input, "mt940 1.1 crate, sanitize + parse whole file", "payments", small, || {
                mt940_crate(small, false)
            });
            let base = g.run(&mut rows)?;
            let (a, w) = (&rows[base + a], &rows[base + w]);
            verdicts.push(format!(
                "note mt940 crate: sanitizing the whole {:.1} MB file at once is {:.1}x slower than per statement",
                w.mb,
                w.sample.secs / a.sample.secs
            ));
        }
        let ours_n = rows[o].sample.payments;
        let peer_n = rows[c].sample.payments;
        if let Some(p) = p {
            let py_n = rows[p].sample.payments;
            let ok = py_n == peer_n;
            all_ok &= ok;
            verdicts.push(format!(
                "{} MT940 peers agree: mt940 crate {peer_n}, Python {py_n} payments",
                verdict(ok)
            ));
        }
        if ours_n == 0 {
            all_ok = false;
            verdicts.push("n/a  our MT940 reader yielded 0 payments — not yet implemented".into());
        } else {
            let ok = ours_n == peer_n;
            all_ok &= ok;
            verdicts
                .push(format!("{} MT940 payment counts: ours {ours_n}, mt940 crate {peer_n}", verdict(ok)));
            if let Some(p) = p {
                let r = rows[o].mbps() / rows[p].mbps();
                all_ok &= r >= 50.0;
                verdicts.push(format!(
                    "{} MT940: ours is {r:.0}x Python mt-940's speed (whole process; target >= 50x)",
                    verdict(r >= 50.0)
                ));
            }
            if let Some(ob) = ob {
                let (small, big) = (&rows[o], &rows[ob]);
                // Time per MB on the big file over time per MB on the small one: 1.0 is linear.
                let growth = (big.sample.secs / big.mb) / (small.sample.secs / small.mb);
                let ok = growth <= 1.25 && big.sample.payments > small.sample.payments;
                all_ok &= ok;
                verdicts.push(format!(
                    "{} MT940: time per MB at {:.0} MB is {growth:.2}x that at {:.0} MB (linear = 1.0; target <= 1.25)",
                    verdict(ok),
                    big.mb,
                    small.mb
                ));
            }
        }
    }

    println!();
    println!("| input | reader | MB | count | median s | runs | MB/s | ours ÷ this (speed) |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let ours = rows.iter().find(|o| o.input == r.input && o.reader.starts_with("ours"));
        let ratio = match ours {
            _ if r.unit == "-" => "".to_string(),
            Some(o) if o.sample.payments == 0 => "n/a (ours: 0 payments)".into(),
            Some(o) if !std::ptr::eq(o, r) => format!("{:.2}x", o.mbps() / r.mbps()),
            _ => "".into(),
        };
        let count = if r.unit == "-" { "-".to_string() } else { format!("{} {}", r.sample.payments, r.unit) };
        let mbps = if r.unit == "-" || r.sample.payments == 0 {
            "-".to_string()
        } else {
            format!("{:.1}", r.mbps())
        };
        let size = if r.unit == "-" { "-".to_string() } else { format!("{:.1}", r.mb) };
        println!(
            "| {} | {} | {size} | {count} | {:.3} | {} | {mbps} | {ratio} |",
            r.input, r.reader, r.sample.secs, r.sample.runs
        );
    }
    println!();
    for v in &verdicts {
        println!("{v}");
    }
    Ok(all_ok)
}

/// Without `--bench` (that is, under `cargo test --all-targets`): every Rust reader once on
/// small generated inputs, and their counts checked, so the harness itself stays tested.
fn smoke() -> Result<(), String> {
    const N: u64 = 300;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let camt = dir.path().join("smoke.camt054.xml");
    let mt = dir.path().join("smoke.sta");
    let write = |path: &Path, f: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        let mut v = Vec::new();
        f(&mut v).and_then(|()| std::fs::write(path, v)).map_err(|e| e.to_string())
    };
    write(&camt, &|v| remit_formats::generate("camt054", v, N, 1))?;
    write(&mt, &|v| remit_bench::write_mt940(v, N, 1))?;
    let checks: [(&str, u64, bool); 6] = [
        ("ours camt.054", ours(Format::Camt054, &camt)?, false),
        ("sepa camt.054", sepa_camt054(&camt)?, false),
        ("mt940 crate per statement", mt940_crate(&mt, true)?, false),
        ("mt940 crate whole file", mt940_crate(&mt, false)?, false),
        ("ours MT940", ours(Format::Mt940, &mt)?, true),
        ("bare scan (events, not payments)", bare_scan(&camt)?.min(N), false),
    ];
    let mut failed = 0;
    for (name, got, stub_ok) in checks {
        let ok = got == N || (stub_ok && got == 0);
        failed += usize::from(!ok);
        let note = if got == 0 && ok { " (reader not yet implemented)" } else { "" };
        println!("{} {name}: {got} of {N}{note}", verdict(ok));
    }
    println!("eu_readers smoke: {} passed, {failed} failed", checks.len() - failed);
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} smoke checks failed"))
    }
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it.
    if !env::args().any(|a| a == "--bench") {
        return match smoke() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("eu_readers: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match run() {
        Ok(true) => {
            println!("\nall criteria met");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            println!("\nsome criteria not met (see above)");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("eu_readers: {e}");
            ExitCode::FAILURE
        }
    }
}
