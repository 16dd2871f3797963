//! Issue 17 through the `remit` binary: names shown safely, logs without colours off a
//! terminal, the per-market ceiling on one amount, and any bytes read without a panic under a
//! memory limit.

use std::path::Path;
use std::process::{Output, Stdio};

mod support;
use support::root;

fn remit(data_dir: &Path, args: &[&str]) -> Output {
    support::command(data_dir)
        .args(args)
        .env("REMIT_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .expect("remit runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A name that, printed raw, ends the summary line and forges a "completed" one in red.
const FORGED: &str = "in/mis.csv\nfile forged.csv [000000000000]: completed\u{1b}[31m";

/// The India sample's header and first row, its amount replaced, with a matching total row.
fn india_csv(amount: &str) -> Vec<u8> {
    let sample = std::fs::read_to_string(root().join("samples/in/india_ecollect_mis_20261121.csv")).unwrap();
    let mut lines = sample.lines();
    let header = lines.next().unwrap();
    let row = lines.next().unwrap().replace("\"45,000.00\"", &format!("\"{amount}\""));
    assert!(row.contains(amount), "the sample's first row holds 45,000.00: {row}");
    format!("{header}\n{row}\nTotal,,,,,,\"{amount}\",,,\n").into_bytes()
}

/// No line of the output starts with the forged text, none holds a raw escape, and the name
/// appears escaped on the summary line.
fn assert_one_escaped_line(out: &str, what: &str) {
    assert!(!out.contains('\u{1b}'), "{what}: a raw escape: {out:?}");
    assert!(!out.lines().any(|l| l.starts_with("file forged.csv")), "{what}: a forged line: {out:?}");
}

/// Issue 17: file names were printed raw in the ingest summary, errors and logs, so a name
/// holding a newline and a terminal escape forged a "completed" line.
#[test]
fn ingest_prints_a_hostile_file_name_as_one_escaped_line() {
    let dir = tempfile::tempdir().unwrap();
    let name = dir.path().join(FORGED);
    std::fs::create_dir_all(name.parent().unwrap()).unwrap();

    // A good file: completed, its summary line names it escaped.
    std::fs::write(&name, india_csv("45,000.00")).unwrap();
    let o = remit(dir.path(), &["ingest", name.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert_one_escaped_line(&out, "summary");
    assert_one_escaped_line(&text(&o.stderr), "logs");
    let summary: Vec<&str> = out.lines().filter(|l| l.starts_with("file ")).collect();
    assert_eq!(summary.len(), 1, "{out}");
    assert!(
        summary[0].contains("mis.csv\\nfile forged.csv [000000000000]: completed\\u{1b}[31m")
            && summary[0].ends_with(": completed"),
        "{out}"
    );

    // A refused one: the reason quotes the name, on the same terms.
    std::fs::write(&name, india_csv("4x5.00")).unwrap();
    let o = remit(dir.path(), &["ingest", name.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert_one_escaped_line(&out, "quarantine summary");
    assert_one_escaped_line(&text(&o.stderr), "quarantine logs");
    assert!(out.lines().any(|l| l.starts_with("  refused: ") && l.contains("\\n")), "{out}");

    // `parse` names the file in its error the same way.
    let o = remit(dir.path(), &["parse", name.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert_one_escaped_line(&err, "parse error");
    assert_eq!(err.lines().count(), 1, "{err}");

    // A name the program cannot open at all.
    let missing = format!("{}.missing", name.display());
    let o = remit(dir.path(), &["ingest", &missing]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert_one_escaped_line(&err, "open error");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// Issue 17: ingest logs sent ANSI colours to a pipe (a log file, CloudWatch).
#[test]
fn logs_carry_no_colours_off_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mis.csv");
    std::fs::write(&file, india_csv("45,000.00")).unwrap();
    let o = remit(dir.path(), &["ingest", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("file ingested"), "info logs are on: {err}");
    assert!(!o.stderr.contains(&0x1b), "stderr is a pipe: {err:?}");
}

/// Issue 17: an amount larger than any real payment was accepted and queued for research; it
/// is an error of the file (`[limits] max_payment`): quarantined naming record and amount,
/// exit 2, nothing posted.
#[test]
fn ingest_refuses_a_file_with_an_amount_above_the_markets_maximum() {
    let dir = tempfile::tempdir().unwrap();
    assert!(remit(
        dir.path(),
        &["accounts", "import", root().join("samples/accounts.csv").to_str().unwrap()]
    )
    .status
    .success());
    let file = dir.path().join("mis-big.csv");
    std::fs::write(&file, india_csv("20000000000.00")).unwrap();
    let o = remit(dir.path(), &["ingest", "--json", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty(), "no decision: {}", text(&o.stdout));
    let err = text(&o.stderr);
    assert!(err.contains("quarantined"), "{err}");
    assert!(
        err.contains("record 2: field amount: 20000000000.00 INR is above the largest single payment")
            && err.contains("limits.max_payment"),
        "{err}"
    );
    let o = remit(dir.path(), &["queue", "list", "--json"]);
    assert!(o.status.success() && o.stdout.is_empty(), "nothing queued: {}", text(&o.stdout));

    // At the maximum, the payment is read (and goes to research: above the matching ceiling).
    let file = dir.path().join("mis-max.csv");
    std::fs::write(&file, india_csv("10000000000.00")).unwrap();
    let o = remit(dir.path(), &["ingest", "--json", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("\"research\""), "{}", text(&o.stdout));

    // A configuration can lower it, per market.
    let config = dir.path().join("low.toml");
    std::fs::write(&config, "[limits]\nmax_payment = { CA = \"1e10\", IN = \"1e7\", EU = \"1e10\" }\n")
        .unwrap();
    let file = dir.path().join("mis-low.csv");
    std::fs::write(&file, india_csv("10000001.00")).unwrap();
    let o = remit(dir.path(), &["--config", config.to_str().unwrap(), "ingest", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("10000001.00 INR is above"), "{}", text(&o.stdout));
}

/// Issue 17: `remit queue show` printed notes and file fields raw, so a note holding a newline
/// and a terminal escape forged a line of the item (here an audit entry) and coloured the rest.
#[test]
fn queue_show_prints_a_hostile_note_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let path = |p: &str| root().join(p).to_str().unwrap().to_string();
    assert!(remit(dir.path(), &["accounts", "import", &path("samples/accounts.csv")]).status.success());
    assert!(remit(dir.path(), &["ingest", &path("samples/ca/cpa005-rbc-20260315.txt")]).status.success());
    let o = remit(dir.path(), &["queue", "list", "--market", "CA", "--json"]);
    let first = text(&o.stdout).lines().next().map(str::to_string).expect("an item");
    let item: serde_json::Value = serde_json::from_str(&first).unwrap();
    let id = item["id"].as_str().unwrap();
    let note = "called\n  #9 forged entry: resolved by ann\u{1b}[31m";
    assert!(remit(dir.path(), &["queue", "note", id, "--as", "bob", note]).status.success());
    let o = remit(dir.path(), &["queue", "show", id]);
    let out = text(&o.stdout);
    assert!(o.status.success() && out.contains("called\\n"), "{out}");
    assert_one_escaped_line(&out, "queue show");
    assert!(!out.lines().any(|l| l.starts_with("  #9 forged")), "{out}");
}
