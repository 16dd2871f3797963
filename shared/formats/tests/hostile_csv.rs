//! Hostile CSV files (issue 17) through both CSV readers: the India e-collect MIS reader and the
//! profile CSV reader (with the shipped `in-ecollect-mis-a` profile). No panic, no unbounded
//! memory, nothing dropped or altered: each file is read in full or refused with its reason.

use std::io::{BufReader, Read};
use std::path::Path;

use remit_domain::{FileId, Payment};
use remit_formats::india::IndiaCsvReader;
use remit_formats::profile::Profile;
use remit_formats::{Location, ParseError, SourceContext};

fn ctx() -> SourceContext {
    SourceContext { file_id: FileId::of_bytes(b"hostile"), file_name: "hostile.csv".into() }
}

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Everything a reader yields for a file, errors included.
type Results = Vec<Result<Payment, ParseError>>;

/// A reader run on a whole file.
type Reader = fn(&[u8]) -> Results;

fn india(bytes: &[u8]) -> Vec<Result<Payment, ParseError>> {
    IndiaCsvReader::new(bytes, ctx()).collect()
}

fn profile() -> Profile {
    Profile::load(&root().join("profiles/in-ecollect-mis-a.toml")).unwrap()
}

fn by_profile(bytes: &[u8]) -> Vec<Result<Payment, ParseError>> {
    profile().open(ctx(), bytes).collect()
}

/// The error that ended a reading; panics if it read cleanly.
fn error(results: Vec<Result<Payment, ParseError>>) -> ParseError {
    match results.into_iter().find_map(Result::err) {
        Some(e) => e,
        None => panic!("expected an error"),
    }
}

fn payments(results: Vec<Result<Payment, ParseError>>) -> Vec<Payment> {
    results.into_iter().collect::<Result<_, _>>().unwrap_or_else(|e| panic!("{e}"))
}

/// The MIS-A header, the profile's column names (the India reader knows them as synonyms).
const HEADER: &str = "UTR No,Remitter Name,Credit Amount,Value Date,Narration";

/// A file with `HEADER` and the given rows, LF line ends.
fn mis(rows: &[&str]) -> Vec<u8> {
    let mut s = format!("{HEADER}\n");
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s.into_bytes()
}

fn both(bytes: &[u8]) -> [Vec<Result<Payment, ParseError>>; 2] {
    [india(bytes), by_profile(bytes)]
}

// ---- 1. totals that overflow ----------------------------------------------------------------

#[test]
fn two_amounts_near_the_largest_decimal_refuse_the_file_naming_the_amount() {
    // JPY keeps no decimals, so the largest `Decimal` is a valid yen amount: twice is too much.
    let max = "79228162514264337593543950335";
    let f = format!("UTR,Amount,Date,Currency\nA1,{max},01-11-2026,JPY\nA2,{max},01-11-2026,JPY\n");
    let r = india(f.as_bytes());
    assert!(r[0].is_ok(), "{:?}", r[0]);
    let e = error(r);
    let ParseError::Field { location, field, problem, .. } = &e else { panic!("{e}") };
    assert_eq!((location, field.as_str()), (&Location::Line { number: 3 }, "Amount"), "{e}");
    assert!(problem.contains("total"), "{e}");

    // In rupees the total overflows its cents first: Decimal would round them away.
    let big = "500000000000000000000000000.00";
    let e = error(india(
        mis(&[&format!("A1,X,{big},01/11/2026,"), &format!("A2,X,{big},01/11/2026,")]).as_slice(),
    ));
    assert!(matches!(&e, ParseError::Field { location: Location::Line { number: 3 }, .. }), "{e}");
    assert!(e.to_string().contains("total"), "{e}");
}

#[test]
fn a_profile_total_that_would_lose_its_cents_refuses_the_file() {
    // The profile reader takes at most 24 digits, so it takes many rows to overflow.
    let mut f = format!("{HEADER}\n");
    let rows = 79_230;
    for n in 0..rows {
        f.push_str(&format!("U{n},X,9999999999999999999999.99,01/11/2026,\n"));
    }
    let r = by_profile(f.as_bytes());
    let read = r.iter().filter(|p| p.is_ok()).count();
    assert!(read > 79_000 && read < rows, "{read}");
    let e = error(r);
    assert!(matches!(&e, ParseError::Field { field, .. } if field.contains("Credit Amount")), "{e}");
    assert!(e.to_string().contains("total"), "{e}");
}

// ---- 2. amounts that cannot keep the currency's decimals --------------------------------------

#[test]
fn an_amount_that_cannot_keep_its_decimals_is_refused() {
    for amount in ["1234567890123456789012345678", "79228162514264337593543950335.49"] {
        let e = error(india(mis(&[&format!("A1,X,{amount},01/11/2026,")]).as_slice()));
        let ParseError::Field { location, field, problem, .. } = &e else { panic!("{e}") };
        assert_eq!((location, field.as_str()), (&Location::Line { number: 2 }, "Credit Amount"));
        // Read whole, it cannot keep its paise; or it has more digits than a decimal holds.
        assert!(problem.contains("2 decimals") || problem.contains("more digits than an amount"), "{e}");
    }
    // The largest amount that keeps its paise is read as it is.
    let ok = payments(india(&mis(&["A1,X,792281625142643375935439503.35,01/11/2026,"])));
    assert_eq!(ok[0].amount.amount().to_string(), "792281625142643375935439503.35");
}

// ---- 3. line ends ---------------------------------------------------------------------------

/// The sample with its CRLF line ends replaced by `end`.
fn with_line_ends(sample: &str, end: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(root().join(sample)).unwrap();
    text.replace("\r\n", "\n").replace('\n', end).into_bytes()
}

fn summary(ps: &[Payment]) -> Vec<(String, String, u64)> {
    ps.iter().map(|p| (p.bank_ref.clone(), p.amount.amount().to_string(), p.source.record)).collect()
}

#[test]
fn lf_crlf_and_cr_only_files_read_the_same_payments() {
    let cases: [(&str, Reader, usize); 2] = [
        ("samples/in/india_ecollect_mis_20261121.csv", india, 7),
        ("samples/in/mis/in-ecollect-mis-a-20261121.csv", by_profile, 6),
    ];
    for (sample, read, count) in cases {
        let crlf = summary(&payments(read(&with_line_ends(sample, "\r\n"))));
        assert_eq!(crlf.len(), count, "{sample}");
        for end in ["\n", "\r"] {
            let other = summary(&payments(read(&with_line_ends(sample, end))));
            assert_eq!(other, crlf, "{sample} with {end:?} line ends");
        }
    }
}

#[test]
fn a_header_row_that_swallowed_the_data_is_refused() {
    // Unicode line separators are no line end: the header would hold every row.
    let f = format!("{HEADER}\u{2028}A1,X,100.00,01/11/2026,\u{2028}A2,X,5.00,01/11/2026,\u{2028}");
    for r in both(f.as_bytes()) {
        let e = error(r);
        assert!(matches!(&e, ParseError::Structure { location: Location::Line { number: 1 }, .. }), "{e}");
        assert!(e.to_string().contains("line ends"), "{e}");
    }
}

#[test]
fn data_after_the_header_that_yields_no_payment_is_refused() {
    // Rows of whitespace other than spaces and tabs are skipped as blank, but they are bytes
    // of data: with no payment read, the file is not "completed with 0 payments".
    for (name, r) in
        [("india", india(&mis(&["\u{a0}", "\x0c"]))), ("profile", by_profile(&mis(&["\x0c", "\x0c"])))]
    {
        let e = error(r);
        assert!(matches!(&e, ParseError::Structure { location: Location::File, .. }), "{name}: {e}");
        assert!(e.to_string().contains("no payment row was read"), "{name}: {e}");
    }
    // A header and blank lines only is an empty day, not a loss.
    for r in both(&mis(&["", "  ,\t,", "\"\",\"\""])) {
        assert!(payments(r).is_empty());
    }
}

// ---- 4. bounded memory: line and field limits, blank lines ----------------------------------

#[test]
fn a_line_past_the_limit_is_refused_naming_it() {
    let long = "9".repeat(70_000);
    for r in both(&mis(&["A1,X,1.00,01/11/2026,", &format!("A2,X,1.00,01/11/2026,{long}")])) {
        let e = error(r);
        let ParseError::Limit { location, what, limit, .. } = &e else { panic!("{e}") };
        assert_eq!(
            (location, what.as_str(), limit.as_str()),
            (&Location::Line { number: 3 }, "line length", "65536 bytes")
        );
    }
}

#[test]
fn an_endless_line_is_refused_without_being_read_whole() {
    // An endless reader: buffering the line would never return.
    let endless = || BufReader::new(HEADER.as_bytes().chain(&b"\nA1,X,"[..]).chain(std::io::repeat(b'7')));
    let r: Vec<_> = IndiaCsvReader::new(endless(), ctx()).collect();
    assert!(matches!(error(r), ParseError::Limit { location: Location::Line { number: 2 }, .. }));
    let r: Vec<_> = profile().open(ctx(), endless()).collect();
    assert!(matches!(error(r), ParseError::Limit { location: Location::Line { number: 2 }, .. }));
    // An endless quoted field spanning endless lines is a record past the limit.
    let quoted = || BufReader::new(HEADER.as_bytes().chain(&b"\nA1,\""[..]).chain(std::io::repeat(b'\r')));
    let e = error(IndiaCsvReader::new(quoted(), ctx()).collect());
    assert!(e.to_string().contains("record length"), "{e}");
}

#[test]
fn millions_of_blank_lines_cost_nothing_and_keep_line_numbers() {
    let mut f = format!("{HEADER}\n").into_bytes();
    f.extend(std::iter::repeat_n(b'\n', 2_000_000));
    f.extend_from_slice(b"\r\r\nA1,X,1.00,01/11/2026,\r");
    for r in both(&f) {
        let ps = payments(r);
        assert_eq!(ps[0].source.record, 2_000_004);
        assert_eq!(ps[0].source.offset, (f.len() - b"A1,X,1.00,01/11/2026,\r".len()) as u64);
    }
}

// ---- 5. control characters ------------------------------------------------------------------

#[test]
fn control_characters_are_errors_of_their_field_never_deleted() {
    let cases = [
        ("A\u{0}1,X,1.00,01/11/2026,", "UTR No", "U+0000"),
        ("A1,Priya\u{1b}[31m,1.00,01/11/2026,", "Remitter Name", "U+001B"),
        ("A1,X,1.00,01/11/2026,card\u{0}payment", "Narration", "U+0000"),
        ("A1,X,1.00\u{7},01/11/2026,", "Credit Amount", ""),
    ];
    for (row, column, what) in cases {
        for r in both(&mis(&["A0,X,1.00,01/11/2026,", row])) {
            let e = error(r);
            let ParseError::Field { location, field, problem, .. } = &e else { panic!("{e}") };
            assert_eq!(location, &Location::Line { number: 3 }, "{e}");
            assert!(field.contains(column), "{row:?}: {e}");
            assert!(problem.contains(what), "{row:?}: {e}");
            assert!(!e.to_string().chars().any(|c| c.is_control()), "shown escaped: {e:?}");
        }
    }
    // Tabs and quoted line breaks in free text are text, kept as written.
    for r in both(&mis(&["A1,Priya\tV,1.00,01/11/2026,\"two\r\nlines\tand a tab\""])) {
        let p = &payments(r)[0];
        assert_eq!(p.payer_name.as_deref(), Some("Priya\tV"));
        assert_eq!(p.references.remittance[0].expose(), "two\r\nlines\tand a tab");
    }
}

// ---- 6. errors quote input through `shown` -----------------------------------------------------

#[test]
fn errors_quote_at_most_a_short_escaped_part_of_the_input() {
    let huge = "1".repeat(60_000);
    let long_name = "N".repeat(60_000);
    let files = [
        mis(&[&format!("A1,X,{huge}x,01/11/2026,")]),
        mis(&[&format!("A1,X,1.00,{huge},")]),
        mis(&[&format!("{huge}-,X,1.00,01/11/2026,")]),
        format!("Sr No,{long_name},Remitter Name\n1,2,3\n").into_bytes(),
    ];
    for f in &files {
        for r in both(f) {
            let e = error(r).to_string();
            assert!(e.len() < 600, "{} bytes: {}", e.len(), &e[..200]);
        }
    }
}

/// Issue 17: `rust_decimal`'s parser recursed per character, so an amount of 60,000 leading
/// zeros (inside the field limit) aborted the process on a stack overflow.
#[test]
fn an_amount_of_many_leading_zeros_reads_without_overflowing_the_stack() {
    let row = format!("UTR000000000001,Ravi Kumar,{}5000.00,20-11-2026,VA CARD", "0".repeat(60_000));
    let ps = payments(india(&mis(&[&row])));
    assert_eq!(ps[0].amount.amount().to_string(), "5000.00");
}
