//! Issue 17 through `remit ingest`, for the text readers (MT940, CPA-005, India JSON, JSON and
//! fixed-width profiles): a hostile file is quarantined with its reason, the run exits 2, and
//! nothing is posted or queued.

use std::path::Path;
use std::process::Output;

mod support;
use support::root;

/// `remit --data-dir DATA ARGS`, run from `cwd` (keys for routing are paths as given).
fn remit(cwd: &Path, args: &[&str]) -> Output {
    support::remit_in(cwd, &cwd.join("data"), args)
}

/// Ingests `name` (written under `dir` with `bytes`) and checks the refusal: exit 2, the file
/// quarantined for a reason holding every part of `reason`, nothing posted, nothing queued.
fn refused(dir: &Path, name: &str, bytes: &[u8], extra: &[&str], reason: &[&str]) {
    let file = dir.join(name);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, bytes).unwrap();
    let accounts = root().join("samples/accounts.csv");
    assert!(remit(dir, &["accounts", "import", accounts.to_str().unwrap()]).status.success());
    let mut args = vec!["ingest"];
    args.extend_from_slice(extra);
    args.push(name);
    let o = remit(dir, &args);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{out}{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("quarantined"), "{out}");
    for part in reason {
        assert!(out.contains(part), "{part:?} not in: {out}");
    }
    assert!(out.len() < 2000, "the reason is cut, not quoted whole: {} bytes", out.len());
    let report = remit(dir, &["report", "daily"]);
    let report = String::from_utf8_lossy(&report.stdout);
    assert!(report.contains("quarantined, nothing posted"), "{report}");
    let queue = remit(dir, &["queue", "list", "--json"]);
    assert!(queue.status.success());
    assert!(queue.stdout.is_empty(), "nothing queued: {}", String::from_utf8_lossy(&queue.stdout));
}

const MT940_HEAD: &str = ":20:A\r\n:25:NL91ABNA0417164300\r\n:28C:1/1\r\n:60F:C260301EUR100,00\r\n";

#[test]
fn mt940_a_nul_inside_an_amount_is_quarantined_not_read_as_a_clean_amount() {
    let dir = tempfile::tempdir().unwrap();
    let f =
        format!("{MT940_HEAD}:61:260301C1\x0000,00NTRFNONREF\r\n:86:X\r\n:62F:C260301EUR1100,00\r\n-\r\n");
    refused(dir.path(), "nul.sta", f.as_bytes(), &[], &["line 5", ":61: text", "control character 0x00"]);
}

#[test]
fn mt940_an_86_line_past_the_limit_is_quarantined_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let f = format!(
        "{MT940_HEAD}:61:260301C1,00NTRFNONREF\r\n:86:{}\r\n:62F:C260301EUR101,00\r\n-\r\n",
        "A".repeat(2 << 20)
    );
    refused(
        dir.path(),
        "long.sta",
        f.as_bytes(),
        &[],
        &["line 6", "line length in field :86:", "65536 bytes"],
    );
}

#[test]
fn cpa005_a_nul_inside_a_payer_name_is_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = std::fs::read(root().join("samples/ca/cpa005-rbc-20260315.txt")).unwrap();
    let nl: Vec<usize> = f.iter().enumerate().filter(|(_, &b)| b == b'\n').map(|(i, _)| i).collect();
    f[nl[1] + 1 + 24 + 110 + 3] = 0; // inside the first credit's originator long name
    refused(dir.path(), "nul.cpa", &f, &[], &["originator's long name", "control character 0x00"]);
}

fn alert(extra: &str) -> String {
    format!(
        r#"{{"GenericCorporateAlertRequest":[{{"User Reference Number":"632512345678","Transaction Amount":"10","Value Date":"21-11-2026","Virtual Account":"AMEX0100012345"{extra}}}]}}"#
    )
}

#[test]
fn india_json_an_escaped_nul_is_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    let f = alert(r#","Remitter Name":"Ravi\u0000Kumar""#);
    refused(dir.path(), "nul.json", f.as_bytes(), &[], &["Remitter Name", "control character 0x00"]);
}

#[test]
fn india_json_a_string_past_the_limit_is_quarantined_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let f = alert(&format!(r#","Remitter Name":"{}""#, "A".repeat(2 << 20)));
    refused(
        dir.path(),
        "long.json",
        f.as_bytes(),
        &[],
        &["Remitter Name", "string or member name length", "65536"],
    );
}

#[test]
fn json_profile_an_escaped_nul_is_quarantined() {
    // Routed to the push-alert profile by its key and content (profiles/routing.toml).
    let dir = tempfile::tempdir().unwrap();
    let routing = root().join("profiles/routing.toml");
    let f = alert(r#","Remitter":{"Name":"Priya\u001b[2JV"}"#);
    refused(
        dir.path(),
        "in/alerts/esc.json",
        f.as_bytes(),
        &["--routing", routing.to_str().unwrap()],
        &["Remitter.Name", "control character 0x1B"],
    );
}

const FIXED: &str = include_str!("../../shared/formats/tests/data/hostile-fixed.toml");

/// A routing file in `dir` sending `fixed/` to the test profile.
fn fixed_routing(dir: &Path) -> String {
    std::fs::write(dir.join("hostile-fixed.toml"), FIXED).unwrap();
    let routing = dir.join("routing.toml");
    std::fs::write(&routing, "[[route]]\nprefix = \"fixed/\"\nprofile = \"hostile-fixed.toml\"\n").unwrap();
    routing.display().to_string()
}

fn fixed_record(amount: &str, n: usize, name: &str) -> String {
    format!("{amount:>024}20260316{:<12}{name:<26}\n", format!("T{n}"))
}

#[test]
fn fixed_width_profile_a_nul_inside_a_name_is_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    let routing = fixed_routing(dir.path());
    let f = fixed_record("100", 1, "Tremblay\0Jean");
    refused(
        dir.path(),
        "fixed/nul.txt",
        f.as_bytes(),
        &["--routing", &routing],
        &["payer_name", "control character 0x00"],
    );
}

#[test]
fn fixed_width_profile_a_sum_past_decimal_is_quarantined_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let routing = fixed_routing(dir.path());
    let max = "9".repeat(24);
    let f: String = (0..80_000).map(|n| fixed_record(&max, n, "X")).collect();
    refused(
        dir.path(),
        "fixed/big.txt",
        f.as_bytes(),
        &["--routing", &routing],
        // The market's largest single payment refuses the file at its first record; the
        // reader's exact sum (record 79229 overflows) is tested in
        // shared/formats/tests/hostile_text.rs.
        &["record 1", "amount", "limits.max_payment"],
    );
}
