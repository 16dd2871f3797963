//! The `remit` binary as a user runs it: exit codes, messages, output lines.

mod support;

use std::process::Output;

use support::{remit, root};

fn path(rel: &str) -> String {
    root().join(rel).display().to_string()
}

fn stdout_lines(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(o.stdout.clone()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn parse_prints_one_json_object_per_payment() {
    let dir = tempfile::tempdir().unwrap();
    let o = remit(dir.path(), &["parse", &path("samples/ca/cpa005-rbc-20260315.txt")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = stdout_lines(&o);
    assert_eq!(lines.len(), 7);
    for key in [
        "market",
        "format",
        "bank_ref",
        "amount",
        "currency",
        "direction",
        "reversal",
        "value_date",
        "references",
        "source",
    ] {
        assert!(lines[0].get(key).is_some(), "missing {key}: {}", lines[0]);
    }
    assert!(lines[0]["amount"].is_string(), "amounts are decimal strings");
    assert!(lines[0]["source"]["file"].is_string() && lines[0]["source"]["record"].is_u64());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!text.contains("372601815908301"), "card numbers are masked");
}

/// Writes `text` at 1-based position `from` of `record`, as the standard numbers positions.
fn put(record: &mut [u8], from: usize, text: &[u8]) {
    record[from - 1..from - 1 + text.len()].copy_from_slice(text);
}

/// A CPA-005 credit file written from the standard's field definitions, not with the crate's
/// generators: a client (the originator) pays our card, so we are the payee.
fn standard_credit_file() -> Vec<u8> {
    let mut a = vec![b' '; 1464];
    put(&mut a, 1, b"A"); // 1 logical record type
    put(&mut a, 2, b"000000001"); // 2-10 logical record count
    put(&mut a, 11, b"0002654321"); // 11-20 originator's id
    put(&mut a, 21, b"0007"); // 21-24 file creation no.
    put(&mut a, 25, b"026074"); // 25-30 creation date 0YYDDD
    put(&mut a, 31, b"00310"); // 31-35 destination data centre
    put(&mut a, 56, b"CAD"); // 56-58 currency code

    let mut c = vec![b' '; 1464];
    put(&mut c, 1, b"C"); // 1 logical record type: credit
    put(&mut c, 2, b"000000002"); // 2-10 logical record count
    put(&mut c, 11, b"00026543210007"); // 11-24 originator's id + file creation no.
    let seg = 24; // segment 1: segment position p is record position 24 + p
    put(&mut c, seg + 1, b"450"); // 1-3 transaction type
    put(&mut c, seg + 4, b"0000150000"); // 4-13 amount, cents
    put(&mut c, seg + 14, b"026073"); // 14-19 date funds to be available, 0YYDDD
    put(&mut c, seg + 20, b"000100012"); // 20-28 institution id of the payee (credit): us
    put(&mut c, seg + 29, b"5550001"); // 29-40 payee account no.: ours
    put(&mut c, seg + 41, b"0002000120000000000001"); // 41-62 item trace no.
    put(&mut c, seg + 63, b"000"); // 63-65 stored transaction type
    put(&mut c, seg + 66, b"GAGNON HLDGS"); // 66-80 originator's short name
    put(&mut c, seg + 81, b"AMERICAN EXPRESS CANADA"); // 81-110 payee name (credit)
    put(&mut c, seg + 111, b"GAGNON HOLDINGS INC"); // 111-140 originator's long name
    put(&mut c, seg + 151, b"349482199351818"); // 151-169 originator's cross-reference no.
    put(&mut c, seg + 170, b"000300011"); // 170-178 institution id for returns
    put(&mut c, seg + 179, b"1234567"); // 179-190 account no. for returns

    let mut z = vec![b' '; 1464];
    put(&mut z, 1, b"Z"); // 1 logical record type
    put(&mut z, 2, b"000000003"); // 2-10 logical record count, A and Z included
    put(&mut z, 11, b"00026543210007"); // 11-24 originator's id + file creation no.
    put(&mut z, 25, b"0000000000000000000000"); // 25-38 value, 39-46 number of debits
    put(&mut z, 47, b"0000000015000000000001"); // 47-60 value, 61-68 number of credits
    put(&mut z, 69, &[b'0'; 44]); // 69-112 E and F totals

    [a, c, z].join(&b"\r\n"[..])
}

/// `remit parse` names the originator of a credit as its payer, not the payee (us).
#[test]
fn parse_names_the_originator_of_a_cpa005_credit_as_its_payer() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("credit.cpa");
    std::fs::write(&file, standard_credit_file()).unwrap();
    let o = remit(dir.path(), &["parse", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = stdout_lines(&o);
    assert_eq!(lines.len(), 1);
    let p = &lines[0];
    assert_eq!(p["payer_name"], "GAGNON HOLDINGS INC", "{p}");
    assert_eq!(p["payer_account"], "003-00011-1234567", "{p}");
    let other = |key: &str| {
        p["references"]["other"].as_array().unwrap().iter().find(|kv| kv[0] == key).map(|kv| kv[1].clone())
    };
    assert_eq!(other("record_type"), Some("C".into()));
    assert_eq!(other("payee_name"), Some("AMERICAN EXPRESS CANADA".into()));
    assert_eq!(other("payee_account"), Some("001-00012/5550001".into()));
}

#[test]
fn parse_of_a_bad_file_names_file_record_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let o = remit(dir.path(), &["parse", &path("samples/bad/cpa005-altered-amount.txt")]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cpa005-altered-amount.txt") && err.contains("record") && err.contains("trailer"),
        "{err}"
    );
}

/// The moov CO14821 file: 11 payments, 5 debits totalling 201.65; its six credits hold
/// 1601.46 while its trailer claims 722.20, so the file is refused after the last record.
#[test]
fn parse_moov_co14821() {
    let file = root().join("../shared/corpus/ca/cpa005-moov/CO14821.txt");
    if !file.exists() {
        eprintln!("corpus absent ({}): skipping", file.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let o = remit(dir.path(), &["parse", file.to_str().unwrap()]);
    let lines = stdout_lines(&o);
    assert_eq!(lines.len(), 11);
    let sum = |dir: &str| -> rust_decimal::Decimal {
        lines
            .iter()
            .filter(|l| l["direction"] == dir)
            .map(|l| l["amount"].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap())
            .sum()
    };
    assert_eq!(lines.iter().filter(|l| l["direction"] == "credit").count(), 6);
    assert_eq!(lines.iter().filter(|l| l["direction"] == "debit").count(), 5);
    assert_eq!(sum("debit").to_string(), "201.65");
    assert_eq!(sum("credit").to_string(), "1601.46");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("trailer says 6 credits totalling 722.20, file holds 6 totalling 1601.46"), "{err}");
}

#[test]
fn ingest_twice_posts_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    assert!(remit(dir.path(), &["accounts", "import", &path("samples/accounts.csv")]).status.success());
    let file = path("samples/ca/cpa005-rbc-20260315.txt");
    let first = remit(dir.path(), &["ingest", "--json", &file]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let first = stdout_lines(&first);
    assert!(first
        .iter()
        .any(|d| d["decision"] == "applied" && d["account"].as_str().unwrap().ends_with("8301")));
    assert!(first
        .iter()
        .any(|d| d["decision"] == "research" && d["queue_item"].is_string() && d["due_at"].is_string()));
    assert!(first
        .iter()
        .filter(|d| d["decision"] == "research")
        .all(|d| d["warn_at"].as_str().unwrap() < d["due_at"].as_str().unwrap()));
    for d in &first {
        assert!(d["confidence"].as_f64().is_some_and(|c| (0.0..=1.0).contains(&c)));
        assert!(d["reasons"].is_array());
    }
    // Issue 14: the same bytes are recognised by the first read and answered from the first
    // ingest (as the Lambda always did): no payment is decided again, so no decision lines.
    let second = remit(dir.path(), &["ingest", "--json", &file]);
    let told = String::from_utf8_lossy(&second.stderr).to_string();
    let second = stdout_lines(&second);
    assert!(second.iter().all(|d| d["decision"] == "duplicate"), "{second:?}");
    assert!(second.is_empty() && told.contains("not ingested again: the same bytes as"), "{told}");
    let summary = remit(dir.path(), &["ingest", &file]);
    let text = String::from_utf8_lossy(&summary.stdout);
    assert!(text.contains("seen before") && text.contains("applied 0"), "{text}");
}

#[test]
fn ingest_of_a_bad_file_exits_2_and_quarantines() {
    let dir = tempfile::tempdir().unwrap();
    let o = remit(dir.path(), &["ingest", &path("samples/bad/cpa005-altered-amount.txt")]);
    assert_eq!(o.status.code(), Some(2));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("quarantined") && text.contains("trailer says"), "{text}");
}

/// Issue 15: the daily report showed server file paths (the path a file was ingested by, as its
/// name and inside a quarantine reason). It shows the file's name only.
#[test]
fn the_daily_report_shows_no_server_path() {
    let dir = tempfile::tempdir().unwrap();
    remit(dir.path(), &["accounts", "import", &path("samples/accounts.csv")]);
    remit(dir.path(), &["ingest", &path("samples/ca/cpa005-rbc-20260315.txt")]);
    remit(dir.path(), &["ingest", &path("samples/bad/cpa005-altered-amount.txt")]);
    for args in [&["report", "daily"][..], &["report", "daily", "--csv"]] {
        let o = remit(dir.path(), args);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("cpa005-rbc-20260315.txt"), "{text}");
        assert!(text.contains("cpa005-altered-amount.txt") && text.contains("trailer says"), "{text}");
        assert!(!text.contains("samples/") && !text.contains(&path("")), "a server path in: {text}");
    }
}

#[test]
fn queue_list_shows_items_by_market() {
    let dir = tempfile::tempdir().unwrap();
    remit(dir.path(), &["accounts", "import", &path("samples/accounts.csv")]);
    remit(dir.path(), &["ingest", &path("samples/ca/cpa005-rbc-20260315.txt")]);
    let o = remit(dir.path(), &["queue", "list", "--market", "CA", "--json"]);
    assert!(o.status.success());
    let items = stdout_lines(&o);
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i["market"] == "CA"));
    let dues: Vec<&str> = items.iter().map(|i| i["due_at"].as_str().unwrap()).collect();
    let mut sorted = dues.clone();
    sorted.sort();
    assert_eq!(dues, sorted, "earliest due first");
}

/// Each shipped profile with its sample: the pairs `remit profiles check` must accept.
const SHIPPED: [(&str, &str, usize); 5] = [
    ("ca-billpay-remittance.toml", "ca/billpay/ca-billpay-remittance-20260316.txt", 8),
    ("ca-eft80.toml", "ca/eft80/ca-eft80-20260316.dat", 5),
    ("in-ecollect-mis-a.toml", "in/mis/in-ecollect-mis-a-20261121.csv", 6),
    ("in-ecollect-mis-b.toml", "in/mis/in-ecollect-mis-b-20261121.txt", 5),
    ("in-push-alert.toml", "in/alerts/in-push-alert-20261121.json", 4),
];

#[test]
fn profiles_check_accepts_every_shipped_profile_with_its_sample() {
    let dir = tempfile::tempdir().unwrap();
    for (profile, sample, count) in SHIPPED {
        let o = remit(
            dir.path(),
            &[
                "profiles",
                "check",
                &path(&format!("profiles/{profile}")),
                &path(&format!("samples/{sample}")),
                "--records",
                "3",
            ],
        );
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{profile}: {out}{}", String::from_utf8_lossy(&o.stderr));
        assert!(out.contains(&format!("OK: {count} records read")), "{out}");
        assert_eq!(out.lines().filter(|l| l.trim_start().starts_with("record ")).count(), 3, "{out}");
        assert!(!out.contains("372601815908301"), "card numbers are masked: {out}");
    }
}

#[test]
fn profiles_check_refuses_a_profile_whose_positions_are_off_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(path("profiles/ca-eft80.toml"))
        .unwrap()
        .replace("start = 3, end = 12, type = \"amount\"", "start = 4, end = 13, type = \"amount\"");
    let profile = dir.path().join("eft80-shifted.toml");
    std::fs::write(&profile, text).unwrap();
    let o = remit(
        dir.path(),
        &["profiles", "check", profile.to_str().unwrap(), &path("samples/ca/eft80/ca-eft80-20260316.dat")],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    // Shifted right, the amounts still read as digits (the date's first digit joins them): the
    // trailer's control total catches it, naming both figures.
    assert!(
        err.contains("record 7")
            && err.contains("control total mismatch")
            && err.contains("says 21730.55 but"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("FAILED after 5 records"));

    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "[profile]\nname = \"x\"\n").unwrap();
    let o = remit(
        dir.path(),
        &["profiles", "check", broken.to_str().unwrap(), &path("samples/ca/eft80/ca-eft80-20260316.dat")],
    );
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("broken.toml"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn parse_with_a_profile_and_generate_for_a_profile() {
    let dir = tempfile::tempdir().unwrap();
    let o = remit(
        dir.path(),
        &[
            "parse",
            "--profile",
            &path("profiles/in-ecollect-mis-a.toml"),
            &path("samples/in/mis/in-ecollect-mis-a-20261121.csv"),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = stdout_lines(&o);
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[1]["amount"], "123456.78");
    assert_eq!(lines[1]["format"], "profile");

    let big = dir.path().join("billpay.txt");
    let spec = format!("profile:{}", path("profiles/ca-billpay-remittance.toml"));
    let o = remit(dir.path(), &["generate", "--format", &spec, "--payments", "5000", big.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = remit(
        dir.path(),
        &["bench", "--profile", &path("profiles/ca-billpay-remittance.toml"), big.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("5000 payments"));
}

/// A bill-payment file has no native reader: content detection refuses it, while routing
/// (`profiles/routing.toml`, here by content since the key is a local path) reads it with the
/// bank's profile and posts it.
#[test]
fn ingest_with_routing_reads_a_file_with_its_bank_profile() {
    let dir = tempfile::tempdir().unwrap();
    assert!(remit(dir.path(), &["accounts", "import", &path("samples/accounts.csv")]).status.success());
    let file = path("samples/ca/billpay/ca-billpay-remittance-20260316.txt");
    let detected = remit(dir.path(), &["ingest", &file]);
    assert_eq!(detected.status.code(), Some(2), "quarantined without a profile");
    assert!(String::from_utf8_lossy(&detected.stdout).contains("quarantined"));

    let other = tempfile::tempdir().unwrap();
    assert!(remit(other.path(), &["accounts", "import", &path("samples/accounts.csv")]).status.success());
    let routed =
        remit(other.path(), &["ingest", "--json", "--routing", &path("profiles/routing.toml"), &file]);
    assert!(routed.status.success(), "{}", String::from_utf8_lossy(&routed.stderr));
    let lines = stdout_lines(&routed);
    assert_eq!(lines.len(), 8);
    assert_eq!(lines.iter().filter(|d| d["decision"] == "applied").count(), 5);
}

/// The shipped configuration is the built-in default, and a run reads it; a threshold above what
/// the evidence gives sends the same payments to research; a bad value is refused by its key.
#[test]
fn config_file_sets_thresholds_and_is_checked() {
    let shipped = remit::local::load_config(Some(&root().join("config/remit.toml"))).unwrap();
    let builtin = remit_domain::ingest::IngestConfig::default();
    assert_eq!(format!("{shipped:?}"), format!("{builtin:?}"));

    let file = path("samples/ca/cpa005-rbc-20260315.txt");
    let decisions = |config: &str| {
        let dir = tempfile::tempdir().unwrap();
        assert!(remit(dir.path(), &["accounts", "import", &path("samples/accounts.csv")]).status.success());
        let o = remit(dir.path(), &["--config", config, "ingest", "--json", &file]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        stdout_lines(&o).iter().filter(|d| d["decision"] == "applied").count()
    };
    assert_eq!(decisions(&path("config/remit.toml")), 3);
    let dir = tempfile::tempdir().unwrap();
    let strict = dir.path().join("strict.toml");
    std::fs::write(&strict, "[matching]\nthresholds = { CA = 0.9999, IN = 0.95, EU = 0.95 }\n").unwrap();
    assert_eq!(decisions(strict.to_str().unwrap()), 0, "nothing reaches 0.9999");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[matching]\nthresholds = { CA = 1.5, IN = 0.95, EU = 0.95 }\n").unwrap();
    let o = remit(dir.path(), &["--config", bad.to_str().unwrap(), "queue", "list"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("matching.thresholds.CA"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The research queue from the command line: list, claim (one analyst at a time), note,
/// resolve by applying (posted once, visible with its audit trail), return and escalate.
#[test]
fn queue_claim_resolve_and_audit() {
    let dir = tempfile::tempdir().unwrap();
    remit(dir.path(), &["accounts", "import", &path("samples/accounts.csv")]);
    remit(dir.path(), &["ingest", &path("samples/ca/cpa005-rbc-20260315.txt")]);
    let items = stdout_lines(&remit(dir.path(), &["queue", "list", "--market", "CA", "--json"]));
    let id_of = |code: &str| -> String {
        items.iter().find(|i| i["reason_code"] == code).unwrap()["id"].as_str().unwrap().to_string()
    };
    let id = id_of("no-reference");
    let card = "346613186091396";
    let ok = |args: &[&str]| -> String {
        let o = remit(dir.path(), args);
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };

    // Claimed by ann: bob can neither claim nor act.
    let o = remit(dir.path(), &["queue", "claim", &id, "--as", "ann", "--minutes", "0"]);
    assert!(!o.status.success(), "a claim lasts at least a minute");
    let claimed = ok(&["queue", "claim", &id, "--as", "ann"]);
    assert!(claimed.contains("claimed by ann"), "{claimed}");
    let o = remit(dir.path(), &["queue", "claim", &id, "--as", "bob"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("claimed by ann"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = remit(dir.path(), &["queue", "resolve", &id, "--account", card, "--as", "bob"]);
    assert!(!o.status.success());
    let mine = stdout_lines(&remit(dir.path(), &["queue", "list", "--claimed-by", "ann", "--json"]));
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["claim"]["analyst"], "ann");

    ok(&["queue", "note", &id, "--as", "bob", "payer called: card 3466 131860 91396"]);
    let resolved = ok(&["queue", "resolve", &id, "--account", card, "--as", "ann"]);
    assert!(
        resolved.contains("resolved") && resolved.contains("42.17 CAD applied to ***********1396"),
        "{resolved}"
    );
    assert!(!resolved.contains(card), "masked: {resolved}");
    let again = ok(&["queue", "resolve", &id, "--account", card, "--as", "ann"]);
    assert!(again.contains("already done"), "a second resolve posts nothing: {again}");

    let shown = stdout_lines(&remit(dir.path(), &["queue", "show", &id, "--json"]));
    let v = &shown[0];
    assert_eq!(v["item"]["status"], "resolved");
    assert_eq!(v["payment_state"], "applied", "the posting");
    assert_eq!(v["item"]["disposition"]["account"], "***********1396");
    let actions: Vec<&str> =
        v["audit"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["claim", "note", "resolve"]);
    assert_eq!(v["audit"][2]["before"]["status"], "open");
    assert_eq!(v["audit"][2]["after"]["status"], "resolved");
    let text = ok(&["queue", "show", &id]);
    assert!(text.contains("audit trail (3)") && text.contains("ann resolve"), "{text}");
    assert!(text.contains("notes (1)") && text.contains("bob: payer called"), "{text}");
    assert!(!text.contains(card) && !text.contains("3466 131860 91396"), "masked: {text}");
    let list = ok(&["queue", "list", "--market", "CA"]);
    assert!(!list.contains(&id), "resolved items leave the queue");
    let done = stdout_lines(&remit(dir.path(), &["queue", "list", "--status", "resolved", "--json"]));
    assert_eq!(done.len(), 1);

    // Return and escalate record the reason; a closed item refuses further work.
    let other = id_of("account-closed");
    ok(&["queue", "claim", &other, "--as", "ann"]);
    assert!(ok(&["queue", "escalate", &other, "--as", "ann", "--reason", "closed account, ask the holder"])
        .contains("escalated"));
    ok(&["queue", "claim", &other, "--as", "sue"]);
    assert!(
        ok(&["queue", "return", &other, "--as", "sue", "--reason", "account closed"]).contains("returned")
    );
    let o = remit(dir.path(), &["queue", "claim", &other, "--as", "ann"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("returned"));
}

#[test]
fn queue_write_off_needs_a_second_person() {
    let dir = tempfile::tempdir().unwrap();
    remit(dir.path(), &["accounts", "import", &path("samples/accounts.csv")]);
    remit(dir.path(), &["ingest", &path("samples/ca/cpa005-rbc-20260315.txt")]);
    let items = stdout_lines(&remit(dir.path(), &["queue", "list", "--market", "CA", "--json"]));
    let id = items[0]["id"].as_str().unwrap();
    assert!(remit(dir.path(), &["queue", "claim", id, "--as", "ann"]).status.success());
    assert!(remit(dir.path(), &["queue", "write-off", id, "--as", "ann", "--reason", "untraceable"])
        .status
        .success());
    let o = remit(dir.path(), &["queue", "approve-write-off", id, "--as", "ann"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("second person"));
    let o = remit(dir.path(), &["queue", "approve-write-off", id, "--as", "bob"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("written-off"));
}

/// A loopback webhook receiver: keeps each body POSTed to it and answers `status`.
fn webhook_receiver(status: u16) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::sync::{Arc, Mutex};
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/hooks/sla", listener.local_addr().unwrap());
    let keep = got.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let app = axum::Router::new().route(
                "/hooks/sla",
                axum::routing::post(move |body: String| {
                    keep.lock().unwrap().push(body);
                    async move { axum::http::StatusCode::from_u16(status).unwrap() }
                }),
            );
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    (url, got)
}

/// `remit sla sweep --webhook URL`: each alert reaches the webhook once, as the same JSON the
/// alerts file keeps, and a webhook that refuses makes the sweep fail loudly.
#[test]
fn sla_sweep_posts_each_alert_to_the_webhook_once() {
    let dir = tempfile::tempdir().unwrap();
    remit(dir.path(), &["accounts", "import", &path("samples/accounts.csv")]);
    remit(dir.path(), &["ingest", &path("samples/ca/cpa005-rbc-20260315.txt")]);
    let (url, got) = webhook_receiver(204);
    let late = "2026-12-31T00:00:00Z";
    let o = remit(dir.path(), &["sla", "sweep", "--now", late, "--webhook", &url]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let file = std::fs::read_to_string(dir.path().join("alerts.jsonl")).unwrap();
    let posted = got.lock().unwrap().clone();
    assert!(!posted.is_empty());
    assert_eq!(posted, file.lines().map(str::to_string).collect::<Vec<_>>());
    for body in &posted {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!((v["type"].as_str(), v["kind"].as_str()), (Some("sla-alert"), Some("breach")), "{body}");
    }
    let again = remit(dir.path(), &["sla", "sweep", "--now", late, "--webhook", &url]);
    assert!(again.status.success());
    assert_eq!(got.lock().unwrap().len(), posted.len(), "a second sweep raises nothing again");

    // Another data dir, a webhook answering 500: the sweep exits 1 and names the webhook.
    let dir = tempfile::tempdir().unwrap();
    remit(dir.path(), &["accounts", "import", &path("samples/accounts.csv")]);
    remit(dir.path(), &["ingest", &path("samples/ca/cpa005-rbc-20260315.txt")]);
    let (url, _) = webhook_receiver(500);
    let o = remit(dir.path(), &["sla", "sweep", "--now", late, "--webhook", &url]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("FAILED") && text.contains("webhook"), "{text}");
}
