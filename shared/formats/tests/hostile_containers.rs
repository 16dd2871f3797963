//! Gzip and zip as banks and attackers send them (issue 17): files with several gzip members
//! and zip entries that start anywhere are read whole; what a wrapper expands to is bounded
//! (compression ratio, number of entries) and refused with `ParseError::Limit`. The files are
//! made by real tooling: flate2's gzip encoder and Python's `zipfile`.

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use flate2::write::GzEncoder;
use flate2::Compression;
use remit_domain::{FileId, Payment};
use remit_formats::{open, Format, ParseError, SourceContext};

fn ctx(name: &str) -> SourceContext {
    SourceContext { file_id: FileId::of_bytes(name.as_bytes()), file_name: name.into() }
}

/// The buffer `remit` reads files with: an entry that starts just before its end used to show
/// detection a few bytes only.
const CLI_BUFFER: usize = 256 * 1024;

fn open_all(name: &str, bytes: &[u8]) -> Result<(Format, Vec<Result<Payment, ParseError>>), ParseError> {
    let (format, stream) = open(ctx(name), BufReader::with_capacity(CLI_BUFFER, bytes))?;
    Ok((format, stream.collect()))
}

/// A camt.054 with `n` entries of 1.00 EUR.
fn camt(n: usize) -> String {
    let entry = r#"<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<ValDt><Dt>2026-11-20</Dt></ValDt></Ntry>
"#;
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>M1</MsgId></GrpHdr><Ntfctn><Id>N1</Id>
{}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>
"#,
        entry.repeat(n)
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// A scratch folder removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("remit-hostile-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a Python script with `zipfile`, the reference zip writer at hand on every test machine
/// (the test command needs Python already).
fn python(script: &str, dir: &Path) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .expect("python3 runs (it makes the zip files of these tests)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_gzip_of_several_members_is_read_whole() {
    let xml = camt(3);
    // `cat a.gz b.gz`: the first member holds only the start of the XML declaration.
    for cut in [1, 5, 20, 200] {
        let mut file = gzip(&xml.as_bytes()[..cut]);
        file.extend(gzip(&xml.as_bytes()[cut..]));
        let (format, results) = open_all("two.xml.gz", &file).unwrap_or_else(|e| panic!("cut {cut}: {e}"));
        assert_eq!(format, Format::Camt054);
        assert_eq!(results.into_iter().filter(|r| r.is_ok()).count(), 3, "cut {cut}");
    }
    // Three members, the middle one empty, as some tools write.
    let mut file = gzip(&xml.as_bytes()[..10]);
    file.extend(gzip(b""));
    file.extend(gzip(&xml.as_bytes()[10..]));
    let (_, results) = open_all("three.xml.gz", &file).unwrap();
    assert!(results.iter().all(Result::is_ok) && results.len() == 3);
}

#[test]
fn a_zip_entry_starting_just_before_a_buffer_boundary_is_detected() {
    let dir = Scratch::new("boundary");
    std::fs::write(dir.path().join("b.xml"), camt(2)).unwrap();
    // The first entry is sized so that the second entry's data starts `gap` bytes before the
    // end of the reader's first 256 KiB buffer; comments after the root pad it (each short).
    for gap in [1usize, 3, 9, 4000] {
        let script = format!(
            r#"
import zipfile
head = open("b.xml").read()
target = {CLI_BUFFER} - {gap}
size1 = target - 30 - len("a.xml") - 30 - len("b.xml")
pad = size1 - len(head)
body = head + ("<!-- padding -->\n" * (pad // 17)) + " " * (pad % 17)
assert len(body) == size1
with zipfile.ZipFile("x.zip", "w", zipfile.ZIP_STORED) as z:
    z.writestr("a.xml", body)
    z.writestr("b.xml", head)
with zipfile.ZipFile("x.zip") as z:
    info = z.infolist()[1]
raw = open("x.zip", "rb").read()
start = info.header_offset + 30 + int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little") \
    + int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
print(start)
"#
        );
        let start: usize = python(&script, dir.path()).trim().parse().unwrap();
        assert_eq!(start, CLI_BUFFER - gap, "the entry starts where the test means");
        let bytes = std::fs::read(dir.path().join("x.zip")).unwrap();
        let (format, results) = open_all("x.zip", &bytes).unwrap_or_else(|e| panic!("gap {gap}: {e}"));
        assert_eq!(format, Format::Camt054);
        let p: Vec<Payment> =
            results.into_iter().collect::<Result<_, _>>().unwrap_or_else(|e| panic!("gap {gap}: {e}"));
        assert_eq!(p.len(), 4, "gap {gap}");
        assert!(p[3].source.file.ends_with("x.zip!b.xml"));
    }
}

#[test]
fn deflated_zip_entries_from_real_tooling_read() {
    let dir = Scratch::new("deflated");
    std::fs::write(dir.path().join("a.xml"), camt(5)).unwrap();
    python(
        r#"
import zipfile
with zipfile.ZipFile("x.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("statements/", "")
    z.write("a.xml", "statements/a.xml")
    z.write("a.xml", "statements/b.xml")
"#,
        dir.path(),
    );
    let bytes = std::fs::read(dir.path().join("x.zip")).unwrap();
    let (_, results) = open_all("x.zip", &bytes).unwrap();
    assert_eq!(results.into_iter().collect::<Result<Vec<_>, _>>().unwrap().len(), 10);
}

#[test]
fn a_zip_of_too_many_entries_is_refused() {
    let dir = Scratch::new("entries");
    std::fs::write(dir.path().join("a.xml"), camt(1)).unwrap();
    python(
        r#"
import zipfile
with zipfile.ZipFile("x.zip", "w", zipfile.ZIP_DEFLATED) as z:
    for i in range(65):
        z.write("a.xml", "a%03d.xml" % i)
"#,
        dir.path(),
    );
    let bytes = std::fs::read(dir.path().join("x.zip")).unwrap();
    let (_, results) = open_all("x.zip", &bytes).unwrap();
    let e = results.into_iter().find_map(Result::err).expect("refused");
    assert!(matches!(&e, ParseError::Limit { what, .. } if what.contains("zip archive entries")), "{e}");
    assert!(e.to_string().contains("limit of 64"), "{e}");
}

/// A camt.054 whose one entry holds `bytes` of tiny skipped elements: legal, and a gzip of it
/// compresses about 1000 to 1.
fn gzip_bomb(bytes: usize) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    let xml = camt(1);
    let (head, tail) = xml.split_at(xml.find("</Ntry>").unwrap());
    gz.write_all(head.as_bytes()).unwrap();
    gz.write_all(b"<AddtlNtryInf>").unwrap();
    let block = "<a/>".repeat(16 * 1024);
    for _ in 0..bytes / block.len() {
        gz.write_all(block.as_bytes()).unwrap();
    }
    gz.write_all(b"</AddtlNtryInf>").unwrap();
    gz.write_all(tail.as_bytes()).unwrap();
    gz.finish().unwrap()
}

#[test]
fn a_gzip_past_the_compression_ratio_is_refused_while_reading() {
    let bomb = gzip_bomb(80 << 20);
    assert!(bomb.len() < 200 << 10, "{} bytes compressed", bomb.len());
    let (format, results) = open_all("bomb.xml.gz", &bomb).unwrap();
    assert_eq!(format, Format::Camt054);
    let e = results.into_iter().find_map(Result::err).expect("refused");
    assert!(matches!(&e, ParseError::Limit { what, .. } if what == "compression ratio"), "{e}");
    assert!(
        e.to_string().starts_with("bomb.xml.gz: file: compression ratio exceeds the limit of 200 to 1"),
        "{e}"
    );
}
