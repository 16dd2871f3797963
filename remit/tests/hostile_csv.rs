//! Hostile CSV files (issue 17) through `remit ingest`, for the India e-collect MIS reader and
//! the profile CSV reader: a file that cannot be read whole and exactly is quarantined with its
//! reason (exit 2) and nothing of it is posted or queued; a valid file with unusual line ends
//! is read in full.

mod support;

use std::process::Output;

use support::{remit_in, root};

/// A data directory with the sample accounts, and a drop folder.
struct Run {
    data: tempfile::TempDir,
    drop: tempfile::TempDir,
}

impl Run {
    fn new() -> Self {
        let run = Run { data: tempfile::tempdir().unwrap(), drop: tempfile::tempdir().unwrap() };
        let accounts = root().join("samples/accounts.csv");
        assert!(run.remit(&["accounts", "import", accounts.to_str().unwrap()]).status.success());
        run
    }

    fn remit(&self, args: &[&str]) -> Output {
        remit_in(self.drop.path(), self.data.path(), args)
    }

    /// Writes `bytes` at `key` in the drop folder.
    fn put(&self, key: &str, bytes: &[u8]) -> String {
        let path = self.drop.path().join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        key.to_string()
    }

    /// Ingests `key` (with the shipped routing, so `in/mis/` files get their bank profile).
    fn ingest(&self, key: &str) -> Output {
        let routing = root().join("profiles/routing.toml");
        self.remit(&["ingest", "--json", "--routing", routing.to_str().unwrap(), key])
    }

    /// Asserts that `key` was quarantined for `reason`, with nothing posted or queued.
    fn assert_quarantined(&self, key: &str, reason: &str) {
        let o = self.ingest(key);
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(2), "{stdout}{}", String::from_utf8_lossy(&o.stderr));
        assert!(stdout.trim().is_empty(), "no decision for a quarantined file: {stdout}");
        let report = self.remit(&["report", "daily", "--csv"]);
        let report = String::from_utf8_lossy(&report.stdout);
        // The report names a file without its directories (`in/mis/long.csv` is `long.csv`).
        let name = format!(",{},", key.rsplit('/').next().unwrap_or(key));
        let line = report.lines().find(|l| l.contains(&name) && l.contains(reason));
        let line = line.unwrap_or_else(|| panic!("{report}"));
        assert!(line.contains(",quarantined,"), "{line}");
        assert!(line.contains("nothing posted") && line.contains(reason), "{line}");
        let queue = self.remit(&["queue", "list", "--json"]);
        assert!(String::from_utf8_lossy(&queue.stdout).trim().is_empty(), "nothing queued");
    }
}

fn sample(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap()
}

#[test]
fn an_india_csv_whose_total_overflows_is_quarantined_not_a_crash() {
    let run = Run::new();
    let max = "79228162514264337593543950335";
    let f = format!("UTR,Amount,Date,Currency\nA1,{max},01-11-2026,JPY\nA2,{max},01-11-2026,JPY\n");
    let key = run.put("overflow.csv", f.as_bytes());
    // The market's largest single payment (`limits.max_payment`) refuses it before the total
    // overflows; the reader's checked total is tested in shared/formats/tests/hostile_csv.rs.
    run.assert_quarantined(&key, "limits.max_payment");
}

#[test]
fn an_india_csv_amount_that_cannot_keep_its_paise_is_quarantined() {
    let run = Run::new();
    let f = "UTR,Amount,Date\nA1,1234567890123456789012345678,01-11-2026\n";
    let key = run.put("paise.csv", f.as_bytes());
    run.assert_quarantined(
        &key,
        "line 2: field Amount: amount 1234567890123456789012345678 is too large to keep the 2 decimals",
    );
}

#[test]
fn cr_only_files_are_read_in_full_by_both_readers() {
    let run = Run::new();
    for (rel, key, count) in [
        ("samples/in/india_ecollect_mis_20261121.csv", "mac-india.csv", 7),
        ("samples/in/mis/in-ecollect-mis-a-20261121.csv", "in/mis/mac-mis-a.csv", 6),
    ] {
        let cr = sample(rel).replace("\r\n", "\r");
        let key = run.put(key, cr.as_bytes());
        let o = run.ingest(&key);
        assert!(
            o.status.success(),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let decisions = String::from_utf8_lossy(&o.stdout).lines().count();
        assert_eq!(decisions, count, "{key}: every payment read");
    }
}

#[test]
fn control_characters_in_a_field_quarantine_the_file() {
    let run = Run::new();
    let india =
        sample("samples/in/india_ecollect_mis_20261121.csv").replace("Rajesh Kumar", "Rajesh\u{0}Kumar");
    let key = run.put("nul.csv", india.as_bytes());
    run.assert_quarantined(&key, "field Remitter Name: holds the control character U+0000");
    let mis =
        sample("samples/in/mis/in-ecollect-mis-a-20261121.csv").replace("Amex bill", "Amex\u{1b}[2J bill");
    let key = run.put("in/mis/esc.csv", mis.as_bytes());
    run.assert_quarantined(&key, "holds the control character U+001B");
}

#[test]
fn a_line_past_the_limit_quarantines_the_file_naming_the_line() {
    let run = Run::new();
    let long = "x".repeat(70_000);
    let india = format!("UTR,Amount,Date,Narration\nA1,1.00,01-11-2026,{long}\n");
    let key = run.put("long.csv", india.as_bytes());
    run.assert_quarantined(&key, "line 2: line length exceeds the limit of 65536 bytes");
    let mis = sample("samples/in/mis/in-ecollect-mis-a-20261121.csv").replace("Amex bill", &long);
    let key = run.put("in/mis/long.csv", mis.as_bytes());
    run.assert_quarantined(&key, "line 4: line length exceeds the limit of 65536 bytes");
}
