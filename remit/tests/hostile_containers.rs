//! Hostile files through `remit ingest` (issue 17, containers and camt): a gzip bomb and a camt
//! whose totals overflow are quarantined with the reason (exit 2, nothing posted); a FIFO and
//! a link to `/dev/zero` are refused at once with a clear message; gzip of several members and
//! zip entries anywhere in the archive read as the valid files they are.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::remit;

/// `remit` with a deadline: a run still going after `limit` is killed and the test fails.
fn remit_within(data_dir: &Path, args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_remit"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("remit runs");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("remit {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Ingests `file` with `--json`: the file is quarantined with `reason`, exit 2, no decision.
fn assert_quarantined(data_dir: &Path, file: &Path, reason: &str) {
    let o = remit(data_dir, &["ingest", "--json", &file.display().to_string()]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(2), "{all}");
    assert!(all.contains("quarantined") && all.contains(reason), "{all}");
    assert!(o.stdout.is_empty(), "nothing posted: {}", String::from_utf8_lossy(&o.stdout));
}

/// A camt.054 whose entries are `amounts` in `ccy`, all booked credits.
fn camt(ccy: &str, amounts: &[&str], padding: &str) -> String {
    let entries: String = amounts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            format!(
                r#"<Ntry><Amt Ccy="{ccy}">{a}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<ValDt><Dt>2026-11-20</Dt></ValDt><AcctSvcrRef>R{i}</AcctSvcrRef>{padding}</Ntry>
"#
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>M1</MsgId></GrpHdr><Ntfctn><Id>N1</Id>
<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
{entries}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>
"#
    )
}

/// `gzip -c`, fed from `write` through a pipe (a bomb never lands on disk uncompressed).
fn gzip_to(out: &Path, write: impl FnOnce(&mut dyn Write)) {
    let file = std::fs::File::create(out).unwrap();
    let mut child = Command::new("gzip")
        .args(["-c", "-9"])
        .stdin(Stdio::piped())
        .stdout(file)
        .spawn()
        .expect("gzip runs");
    write(child.stdin.as_mut().unwrap());
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_gzip_bomb_is_quarantined_for_its_compression_ratio() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.xml.gz");
    let xml = camt("EUR", &["1.00"], "");
    let (head, tail) = xml.split_at(xml.find("</Ntry>").unwrap());
    gzip_to(&bomb, |w| {
        w.write_all(head.as_bytes()).unwrap();
        w.write_all(b"<AddtlNtryInf>").unwrap();
        let block = "<a/>".repeat(16 * 1024);
        for _ in 0..(80 << 20) / block.len() {
            w.write_all(block.as_bytes()).unwrap();
        }
        w.write_all(b"</AddtlNtryInf>").unwrap();
        w.write_all(tail.as_bytes()).unwrap();
    });
    assert_quarantined(&dir.path().join("data"), &bomb, "compression ratio exceeds the limit of 200 to 1");
}

#[test]
fn camt_totals_that_overflow_are_quarantined_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("overflow.xml");
    let max = "79228162514264337593543950335";
    std::fs::write(&file, camt("JPY", &[max, max], "")).unwrap();
    // The market's largest single payment (`limits.max_payment`) refuses it first; the
    // reader's own overflow check is tested in shared/formats/tests/hostile_xml.rs.
    assert_quarantined(&dir.path().join("data"), &file, "limits.max_payment");
    // 79 octillion EUR cannot keep its cents: refused, not queued.
    std::fs::write(&file, camt("EUR", &[max], "")).unwrap();
    assert_quarantined(&dir.path().join("data2"), &file, "too large to keep the 2 decimals");
}

#[test]
fn camt_markup_past_its_bounds_is_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("attrs.xml");
    let attrs: String = (0..100_000).map(|i| format!(" a{i}=\"\"")).collect();
    std::fs::write(
        &file,
        camt("EUR", &["1"], "").replace("<Amt Ccy=\"EUR\">", &format!("<Amt Ccy=\"EUR\"{attrs}>")),
    )
    .unwrap();
    assert_quarantined(&dir.path().join("data"), &file, "XML tag length exceeds the limit of 16384");
    let file = dir.path().join("nul.xml");
    let nul = camt("EUR", &["1"], "").replace("<AcctSvcrRef>R0", "<AcctSvcrRef>R\u{0}0");
    std::fs::write(&file, nul).unwrap();
    assert_quarantined(&dir.path().join("data2"), &file, "control character U+0000");
}

/// `mkfifo` (coreutils), or the test fails saying so.
fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(ok.success());
}

#[test]
fn a_fifo_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("drop.xml");
    mkfifo(&fifo);
    for command in ["ingest", "parse"] {
        let o = remit_within(
            &dir.path().join("data"),
            &[command, &fifo.display().to_string()],
            Duration::from_secs(30),
        );
        let all = text(&o);
        assert!(!o.status.success(), "{all}");
        assert!(all.contains("not a regular file (a FIFO)"), "{command}: {all}");
    }
    // Beside good files, `ingest` refuses the FIFO (exit 2, files refused) and goes on.
    let sample = support::root().join("samples/in/india_ecollect_mis_20261121.csv");
    let o = remit_within(
        &dir.path().join("data"),
        &["ingest", &fifo.display().to_string(), &sample.display().to_string()],
        Duration::from_secs(30),
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(2), "{all}");
    assert!(all.contains("not a regular file (a FIFO)") && all.contains("completed"), "{all}");
}

#[test]
fn a_link_to_dev_zero_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("zero.xml");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let o = remit_within(
        &dir.path().join("data"),
        &["ingest", &link.display().to_string()],
        Duration::from_secs(30),
    );
    let all = text(&o);
    assert!(!o.status.success(), "{all}");
    assert!(all.contains("not a regular file (a device)"), "{all}");
    // A directory named as a file, likewise.
    let o = remit_within(
        &dir.path().join("data"),
        &["ingest", &dir.path().display().to_string()],
        Duration::from_secs(30),
    );
    assert!(text(&o).contains("not a regular file (a directory)"), "{}", text(&o));
    // A link to a regular file reads as the file.
    let real = dir.path().join("real.xml");
    std::fs::write(&real, camt("EUR", &["1.00"], "")).unwrap();
    let linked = dir.path().join("linked.xml");
    std::os::unix::fs::symlink(&real, &linked).unwrap();
    let o = remit(&dir.path().join("data"), &["parse", &linked.display().to_string()]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn a_gzip_of_two_members_ingests_whole() {
    let dir = tempfile::tempdir().unwrap();
    let xml = camt("EUR", &["1.00", "2.00", "3.00"], "");
    let (a, b) = xml.split_at(12);
    let (ga, gb) = (dir.path().join("a.gz"), dir.path().join("b.gz"));
    gzip_to(&ga, |w| w.write_all(a.as_bytes()).unwrap());
    gzip_to(&gb, |w| w.write_all(b.as_bytes()).unwrap());
    // cat a.gz b.gz > both.xml.gz
    let mut both = std::fs::read(&ga).unwrap();
    both.extend(std::fs::read(&gb).unwrap());
    let file = dir.path().join("both.xml.gz");
    std::fs::write(&file, both).unwrap();
    let o = remit(&dir.path().join("data"), &["ingest", &file.display().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("payments 3"), "{}", text(&o));
}

#[test]
fn a_zip_entry_at_the_read_buffers_end_ingests() {
    let dir = tempfile::tempdir().unwrap();
    let second = camt("EUR", &["5.00"], "");
    std::fs::write(dir.path().join("b.xml"), &second).unwrap();
    // remit reads files through a 256 KiB buffer: the second entry's data starts 2 bytes
    // before its end. Comments after the first document's root pad it to size.
    let script = r#"
import zipfile
head = open("b.xml").read().replace("R0", "R1")
size1 = 262144 - 2 - 30 - len("a.xml") - 30 - len("b.xml")
pad = size1 - len(head)
body = head + ("<!-- padding -->\n" * (pad // 17)) + " " * (pad % 17)
with zipfile.ZipFile("x.zip", "w", zipfile.ZIP_STORED) as z:
    z.writestr("a.xml", body)
    z.write("b.xml", "b.xml")
"#;
    let o =
        Command::new("python3").arg("-c").arg(script).current_dir(dir.path()).output().expect("python3 runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let file = dir.path().join("x.zip");
    let o = remit(&dir.path().join("data"), &["ingest", &file.display().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("payments 2"), "{}", text(&o));
}
