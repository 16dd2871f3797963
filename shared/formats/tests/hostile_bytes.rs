//! Issue 17's property: any byte string through `remit_formats::open` gives payments or an
//! error, never a panic, and memory stays bounded. The properties run in a child process under
//! an address-space limit (`ulimit -v`, i.e. `setrlimit(RLIMIT_AS)`): a reader that holds a
//! whole line, field or decompressed file fails to allocate there and the child dies, which
//! the parent reports with the input it was reading. A memory bound, not a timed assertion.
//!
//! Inputs: arbitrary bytes; near-valid files from the structured fuzz generator
//! (`fuzz/src/structured.rs`); the committed fuzz seeds spliced with hostile bytes; and
//! compression bombs of the issue's shapes (blank-line runs, one long line, one long field,
//! XML text without a tag), each many times the limit.

#[allow(dead_code)]
#[path = "../../../fuzz/src/structured.rs"]
mod structured;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use remit_domain::FileId;
use remit_formats::limits::shown_bytes;
use remit_formats::SourceContext;

/// The child's address space: the test binary's own (under 24 MB with one malloc arena) plus
/// the 64 MB a reader may hold at most (a bounded window and one bounded record hold far less),
/// with as much again to spare.
const ADDRESS_SPACE_KB: u64 = 128 * 1024;

/// A child still running after this long is stuck (an allocation failing inside a lock can
/// deadlock instead of aborting): it is killed and the test fails. Not a speed check: the
/// whole child takes about a minute in a debug build.
const STUCK: std::time::Duration = std::time::Duration::from_secs(20 * 60);

/// Set in the child: where it writes each input before reading it.
const LAST_INPUT: &str = "REMIT_HOSTILE_LAST_INPUT";

/// Reads `data` to the end through format detection, as the pipeline's validation pass does.
fn read_to_end(data: &[u8]) {
    if let Ok(path) = std::env::var(LAST_INPUT) {
        // Kept for the parent: an allocation failure aborts the child before it can say which.
        let _ = std::fs::write(path, data);
    }
    let ctx = SourceContext { file_id: FileId::of_bytes(data), file_name: "hostile".into() };
    if let Ok((_, stream)) = remit_formats::open(ctx, data) {
        stream.for_each(drop);
    }
}

/// Every committed fuzz seed, read once.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(|| {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
        let mut files: Vec<PathBuf> = Vec::new();
        for dir in std::fs::read_dir(&corpus).unwrap().map(|d| d.unwrap().path()) {
            files.extend(std::fs::read_dir(&dir).unwrap().map(|f| f.unwrap().path()));
        }
        files.sort();
        files.iter().map(|f| std::fs::read(f).unwrap()).collect()
    })
}

/// Runs the `child_` tests of this binary in a child process under the memory limit, and fails
/// with the child's report when it fails, panics or dies.
#[test]
fn any_bytes_read_without_panic_within_bounded_memory() {
    let last = std::env::temp_dir().join(format!("remit-hostile-input-{}", std::process::id()));
    let exe = std::env::current_exe().unwrap();
    let stdout = last.with_extension("stdout");
    let stderr = last.with_extension("stderr");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v \"$1\" || exit 97; shift; exec \"$@\"")
        .arg("sh")
        .arg(ADDRESS_SPACE_KB.to_string())
        .arg(&exe)
        .args(["child_", "--ignored", "--test-threads=1", "--nocapture"])
        .env(LAST_INPUT, &last)
        // glibc reserves 64 MB of address space per malloc arena: one is enough here.
        .env("MALLOC_ARENA_MAX", "1")
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > STUCK {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    let (out, err) = (read(&stdout), read(&stderr));
    let input = std::fs::read(&last).unwrap_or_default();
    if status.is_some_and(|s| s.success()) {
        for f in [&last, &stdout, &stderr] {
            let _ = std::fs::remove_file(f);
        }
        assert!(out.contains("4 passed"), "the child ran every property: {out}");
        return;
    }
    let status = status.map_or_else(|| format!("stuck after {STUCK:?}, killed"), |s| s.to_string());
    let tail: Vec<&str> = err.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect();
    panic!(
        "the child failed ({status}) under a {ADDRESS_SPACE_KB} kB address-space limit; last input {} bytes \
         ({}), kept at {}:\n{out}\n{}",
        input.len(),
        shown_bytes(&input),
        last.display(),
        tail.join("\n")
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any bytes at all.
    #[test]
    #[ignore = "run by any_bytes_read_without_panic_within_bounded_memory, under its memory limit"]
    fn child_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        read_to_end(&data);
    }

    /// Near-valid files of every format: big amounts, long fields, CR ends, controls, nesting.
    #[test]
    #[ignore = "run by any_bytes_read_without_panic_within_bounded_memory, under its memory limit"]
    fn child_structured_files(target in 0..structured::Target::ALL.len(), data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let (file, _) = structured::file(structured::Target::ALL[target].0, &data);
        read_to_end(&file);
    }

    /// A committed seed with hostile bytes spliced in: a control character, a CR, a digit run.
    #[test]
    #[ignore = "run by any_bytes_read_without_panic_within_bounded_memory, under its memory limit"]
    fn child_spliced_seeds(
        pick in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        cut in 0usize..64,
        insert in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..16),
            Just(b"\0".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"\x1b[31m".to_vec()),
            Just(b"79228162514264337593543950335".to_vec()),
            Just(b"9".repeat(70_000)),
        ],
    ) {
        let seeds = seeds();
        let seed = &seeds[pick.index(seeds.len())];
        let at = at.index(seed.len() + 1);
        let mut data = seed[..at].to_vec();
        data.extend_from_slice(&insert);
        data.extend_from_slice(&seed[(at + cut).min(seed.len())..]);
        read_to_end(&data);
    }
}

/// Gzip of `member` repeated `times`, as that many gzip members (a multi-member file): tiny
/// when `member` is a run of one byte, `times` megabytes once decompressed.
fn bomb(head: &[u8], fill: u8, megabytes: usize, tail: &[u8]) -> Vec<u8> {
    let gz = |data: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    let run = gz(&vec![fill; 1 << 20]);
    let mut out = gz(head);
    for _ in 0..megabytes {
        out.extend_from_slice(&run);
    }
    out.extend(gz(tail));
    out
}

/// Compression bombs of the issue's shapes, each 48 MB once decompressed (below the
/// decompression allowance, so that the line and field limits must do the bounding).
#[test]
#[ignore = "run by any_bytes_read_without_panic_within_bounded_memory, under its memory limit"]
fn child_bombs() {
    let csv_header = b"Sr No,UTR No,Virtual Account No,Remitter Name,Remitter A/c No,Remitter IFSC,\
Amount (INR),Txn Date,Mode,Narration\n";
    let mut csv_row = csv_header.to_vec();
    csv_row.extend_from_slice(
        b"1,HDFCN26325012345,AMEX0100012345,Priya,50100234567890,HDFC0001234,\"1.00\",21-11-2026,NEFT,",
    );
    let mt940 = b":20:STARTUMSE\r\n:25:10020030/1234567\r\n:28C:00001/001\r\n:60F:C261120EUR1000,00\r\n\
:61:2611201120CR150,00NTRFNONREF//B1\r\n:86:";
    let camt = b"<?xml version=\"1.0\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08\">\
<BkToCstmrDbtCdtNtfctn><Ntfctn><Ntry><Amt Ccy=\"EUR\">1.00</Amt><AddtlNtryInf>";
    let json = b"{\"GenericCorporateAlertRequest\": [{\"Remitter Name\": \"";
    let cases: [(&str, &[u8], u8, &[u8]); 6] = [
        (
            "blank lines after a CSV header",
            csv_header,
            b'\n',
            b"1,X,Y,Z,1,HDFC0001234,\"1.00\",21-11-2026,NEFT,x\n",
        ),
        ("one CSV line", &csv_row, b'a', b"\n"),
        ("one MT940 :86: field", mt940, b'X', b"\r\n:62F:C261120EUR1150,00\r\n-\r\n"),
        (
            "camt text without a tag",
            camt,
            b'x',
            b"</AddtlNtryInf></Ntry></Ntfctn></BkToCstmrDbtCdtNtfctn></Document>",
        ),
        ("one JSON string", json, b'a', b"\"}]}"),
        ("a CPA-005 record without a line end", b"A000000001000301234500420260740031", b' ', b""),
    ];
    // `REMIT_HOSTILE_BOMB=json` runs only the bombs whose description holds that text.
    let only = std::env::var("REMIT_HOSTILE_BOMB").unwrap_or_default();
    for (what, head, fill, tail) in cases.into_iter().filter(|c| c.0.contains(&only)) {
        eprintln!("bomb: {what}");
        read_to_end(&bomb(head, fill, 48, tail));
    }
}
