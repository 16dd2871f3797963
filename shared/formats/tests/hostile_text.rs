//! Issue 17, the text readers (MT940, India JSON, JSON and fixed-width profiles, CPA-005) fed
//! hostile files through their public API: a value far past its bound is refused by name after
//! a bounded read (never buffered whole), a control character is an error of its field, sums
//! near `Decimal::MAX` refuse the file instead of panicking, and no message quotes more than
//! `shown()` gives.

use std::cell::Cell;
use std::io::{self, BufReader, Read};
use std::rc::Rc;

use remit_domain::{FileId, Payment};
use remit_formats::profile::Profile;
use remit_formats::{open_as, Format, Limits, Location, ParseError, SourceContext};

fn ctx(name: &str) -> SourceContext {
    SourceContext { file_id: FileId::of_bytes(name.as_bytes()), file_name: name.into() }
}

/// A reader that counts the bytes it hands out.
struct Counting<R> {
    inner: R,
    read: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

/// `head`, then `len` copies of `fill`, then `tail`, made as they are read (a file of any size
/// without holding it), and the count of bytes read from it.
fn lazy(head: &'static [u8], fill: u8, len: u64, tail: &'static [u8]) -> (impl Read, Rc<Cell<u64>>) {
    let read = Rc::new(Cell::new(0));
    let inner = head.chain(io::repeat(fill).take(len)).chain(tail);
    (Counting { inner, read: read.clone() }, read)
}

/// Everything a format's reader yields for a lazily made file, and the bytes it read.
fn read_lazy(format: Format, src: (impl Read, Rc<Cell<u64>>)) -> (Vec<Result<Payment, ParseError>>, u64) {
    let (src, read) = src;
    let items = open_as(format, ctx("big"), BufReader::with_capacity(64 << 10, src)).collect();
    (items, read.get())
}

const GB: u64 = 1 << 30;

/// Far more than any bound, and too much to buffer in a test: reading it whole would fail the test
/// by time or memory.
const HUGE: u64 = 4 * GB;

fn last_error(items: &[Result<Payment, ParseError>]) -> &ParseError {
    match items.last() {
        Some(Err(e)) => e,
        _ => panic!("expected an error at the end, got {} items", items.len()),
    }
}

/// The bytes read before a refusal: the bound, plus one buffer of read-ahead at most.
fn bounded(read: u64) -> bool {
    read <= (Limits::default().field_bytes + Limits::default().line_bytes) as u64 + (256 << 10)
}

// ---------------------------------------------------------------------------------------- MT940

const MT940_HEAD: &[u8] =
    b":20:A\r\n:25:NL91ABNA0417164300\r\n:28C:1/1\r\n:60F:C260301EUR100,00\r\n:61:260301C1,00NTRFNONREF\r\n:86:";

#[test]
fn mt940_a_4_gib_86_field_is_refused_after_a_bounded_read() {
    let (items, read) = read_lazy(Format::Mt940, lazy(MT940_HEAD, b'A', HUGE, b"\r\n-\r\n"));
    let e = last_error(&items);
    let ParseError::Limit { location, what, .. } = e else { panic!("{e}") };
    assert_eq!(location, &Location::Line { number: 6 });
    assert!(what.contains(":86:"), "{what}");
    assert!(bounded(read), "read {read} bytes");
}

#[test]
fn mt940_a_4_gib_86_field_in_short_lines_is_refused_after_a_bounded_read() {
    // The same text wrapped every 64 bytes: each line is fine, the field is not.
    let line: Vec<u8> =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZ".iter().cycle().take(62).copied().chain(*b"\r\n").collect();
    let read = Rc::new(Cell::new(0));
    let inner = MT940_HEAD.chain(Cycle(line, 0).take(HUGE));
    let src = BufReader::new(Counting { inner, read: read.clone() });
    let items: Vec<_> = open_as(Format::Mt940, ctx("big"), src).collect();
    let e = last_error(&items);
    assert!(matches!(e, ParseError::Limit { what, .. } if what.contains("length of field :86:")), "{e}");
    assert!(bounded(read.get()), "read {} bytes", read.get());
}

/// `bytes` over and over.
struct Cycle(Vec<u8>, usize);

impl Read for Cycle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        for b in buf.iter_mut() {
            *b = self.0[self.1];
            self.1 = (self.1 + 1) % self.0.len();
        }
        Ok(buf.len())
    }
}

#[test]
fn mt940_a_nul_in_an_amount_is_refused_through_open() {
    let f = b":20:A\n:25:B\n:28C:1\n:60F:C260301EUR1,\n:61:260301C1\x0000,NTRFX\n:62F:C260301EUR1001,\n-";
    let items: Vec<_> = open_as(Format::Mt940, ctx("nul.sta"), &f[..]).collect();
    assert_eq!(items.len(), 1, "no payment: the amount is not read as 1000");
    assert!(
        last_error(&items).to_string().contains("field :61: text: control character 0x00"),
        "{}",
        last_error(&items)
    );
}

// ----------------------------------------------------------------------------------- India JSON

const ALERT_HEAD: &[u8] =
    br#"{"GenericCorporateAlertRequest":[{"User Reference Number":"632512345678","Transaction Amount":"10","Value Date":"21-11-2026","Remitter Name":""#;

#[test]
fn india_json_a_4_gib_string_is_refused_after_a_bounded_read() {
    let (items, read) = read_lazy(Format::IndiaJson, lazy(ALERT_HEAD, b'A', HUGE, b"\"}]}"));
    let e = last_error(&items);
    let ParseError::Limit { location: Location::Element { path, offset }, what, limit, .. } = e else {
        panic!("{e}")
    };
    assert_eq!(path, "GenericCorporateAlertRequest[0].Remitter Name");
    assert_eq!(*offset, ALERT_HEAD.len() as u64 - 1, "where the string starts");
    assert!(what.contains("string"), "{what}");
    assert_eq!(limit, &format!("{} bytes", Limits::default().field_bytes));
    assert!(bounded(read), "read {read} bytes");
}

#[test]
fn india_json_a_4_gib_member_name_or_number_is_refused_after_a_bounded_read() {
    let head = br#"{"GenericCorporateAlertRequest":[{""#;
    let (items, read) = read_lazy(Format::IndiaJson, lazy(head, b'N', HUGE, b"\":1}]}"));
    assert!(matches!(last_error(&items), ParseError::Limit { .. }), "{}", last_error(&items));
    assert!(bounded(read), "read {read} bytes");
    let head = br#"{"GenericCorporateAlertRequest":[{"Transaction Amount":1"#;
    let (items, read) = read_lazy(Format::IndiaJson, lazy(head, b'0', HUGE, b"}]}"));
    let e = last_error(&items);
    assert!(matches!(e, ParseError::Limit { what, .. } if what.contains("number")), "{e}");
    assert!(bounded(read), "read {read} bytes");
}

#[test]
fn india_json_nesting_is_bounded() {
    let head = br#"{"GenericCorporateAlertRequest":[{"Extra":"#;
    let (items, read) = read_lazy(Format::IndiaJson, lazy(head, b'[', HUGE, b""));
    let e = last_error(&items);
    assert!(
        matches!(e, ParseError::Limit { what, limit, .. } if what.contains("depth") && limit == "64 levels"),
        "{e}"
    );
    assert!(read < 1 << 20, "read {read} bytes");
}

fn alert(fields: &str) -> Vec<u8> {
    format!(
        r#"{{"GenericCorporateAlertRequest":[{{"User Reference Number":"632512345678","Amount":"5","Value Date":"21-11-2026"{fields}}}]}}"#
    )
    .into_bytes()
}

#[test]
fn india_json_escaped_control_characters_are_an_error_of_the_field() {
    for (fields, field) in [
        (r#","Remitter Name":"Ravi\u0000Kumar""#, "Remitter Name"),
        (r#","Narration":"INV\u001b[2J42""#, "Narration"),
    ] {
        let items: Vec<_> = open_as(Format::IndiaJson, ctx("a.json"), &alert(fields)[..]).collect();
        let e = last_error(&items);
        let ParseError::Field { field: f, problem, location: Location::Element { path, .. }, .. } = e else {
            panic!("{e}")
        };
        assert_eq!(f, field);
        assert_eq!(path, &format!("GenericCorporateAlertRequest[0].{field}"));
        assert!(problem.contains("control character 0x"), "{problem}");
        assert_eq!(items.len(), 1, "nothing read as a payment");
    }
    // A tab in free text is text.
    let tab = alert(r#","Remitter Name":"Ravi\tKumar""#);
    let p = open_as(Format::IndiaJson, ctx("a.json"), &tab[..]).next().unwrap().unwrap();
    assert_eq!(p.payer_name.as_deref(), Some("Ravi\tKumar"));
}

#[test]
fn india_json_errors_quote_at_most_what_shown_gives() {
    // A member name just under the bound, in a document cut short after it.
    let name = "N".repeat(Limits::default().field_bytes - 10);
    let f = format!(r#"{{"GenericCorporateAlertRequest":[{{"{name}":[1,2"#);
    let items: Vec<_> = open_as(Format::IndiaJson, ctx("a.json"), f.as_bytes()).collect();
    let e = last_error(&items).to_string();
    assert!(e.len() < 400, "{} bytes: {}", e.len(), &e[..400]);
}

#[test]
fn india_json_two_amounts_near_the_maximum_do_not_panic() {
    let max = "79228162514264337593543950335";
    let one = |utr: &str| {
        format!(r#"{{"User Reference Number":"{utr}","Transaction Amount":{max},"Value Date":"21-11-2026"}}"#)
    };
    let f =
        format!(r#"{{"GenericCorporateAlertRequest":[{},{}]}}"#, one("632512345678"), one("632512345679"));
    let _ = open_as(Format::IndiaJson, ctx("a.json"), f.as_bytes()).count();
}

// -------------------------------------------------------------------------------- JSON profiles

fn push_alert_profile() -> Profile {
    let text = include_str!("../../../profiles/in-push-alert.toml");
    Profile::from_toml("in-push-alert.toml", text).unwrap()
}

#[test]
fn json_profile_a_4_gib_string_is_refused_after_a_bounded_read() {
    let head = br#"{"GenericCorporateAlertRequest":[{"User Reference Number":"632512345678","Narration":""#;
    let (src, read) = lazy(head, b'A', HUGE, b"\"}]}");
    let items: Vec<_> = push_alert_profile().open(ctx("big"), BufReader::new(src)).collect();
    let e = last_error(&items);
    assert!(matches!(e, ParseError::Limit { what, .. } if what.contains("string")), "{e}");
    assert!(bounded(read.get()), "read {} bytes", read.get());
}

#[test]
fn json_profile_escaped_control_characters_are_an_error_of_the_field() {
    let f = br#"{"GenericCorporateAlertRequest":[{"User Reference Number":"HDFCN26325099001","Transaction Amount":"5.00","Value Date":"2026-11-21","Virtual Account":"AMEX0100012345","Remitter":{"Name":"Priya\u0000V"}}]}"#;
    let items: Vec<_> = push_alert_profile().open(ctx("p.json"), &f[..]).collect();
    let e = last_error(&items);
    let ParseError::Field { problem, location: Location::Element { path, .. }, .. } = e else {
        panic!("{e}")
    };
    assert!(path.ends_with("Remitter.Name"), "{path}");
    assert!(problem.contains("control character 0x00"), "{problem}");
}

// -------------------------------------------------------------------------- fixed-width profile

const FIXED: &str = include_str!("data/hostile-fixed.toml");

fn fixed_record(amount: &str, n: usize, name: &str) -> String {
    format!("{amount:>024}20260316{:<12}{name:<26}\n", format!("T{n}"))
}

#[test]
fn fixed_width_control_characters_are_an_error_of_the_field() {
    let profile = Profile::from_toml("t.toml", FIXED).unwrap();
    for name in ["Tremblay\0Jean", "Tremblay\x1b[31mJ"] {
        let f = fixed_record("100", 1, name);
        let items: Vec<_> = profile.open(ctx("f.txt"), f.as_bytes()).collect();
        let e = last_error(&items);
        let ParseError::Field { field, problem, .. } = e else { panic!("{e}") };
        assert!(field.starts_with("payer_name"), "{field}");
        assert!(problem.contains("control character 0x") && problem.contains("character 9"), "{problem}");
    }
}

#[test]
fn fixed_width_a_sum_past_decimal_refuses_the_file_naming_the_amount_field() {
    // 24-digit amounts (the most a profile amount may have): their sum passes Decimal after
    // 79,229 records; `+=` panicked there ("Addition overflowed").
    let max = "9".repeat(24);
    let mut f = String::new();
    for n in 0..80_000 {
        f.push_str(&fixed_record(&max, n, "X"));
    }
    let profile = Profile::from_toml("t.toml", FIXED).unwrap();
    let items: Vec<_> = profile.open(ctx("f.txt"), f.as_bytes()).collect();
    let e = last_error(&items);
    let ParseError::Field { field, problem, location, .. } = e else { panic!("{e}") };
    assert!(field.starts_with("amount"), "{field}");
    assert!(problem.contains("overflows"), "{problem}");
    assert_eq!(location, &Location::Record { number: 79_229, offset: 79_228 * 71 });
}

/// Issue 17: a fixed-width file framed by lines ended records at LF only, so a CR-only file
/// (old Mac exports) was one long record and refused; now LF, CRLF and CR read the same.
#[test]
fn fixed_width_lines_read_the_same_with_lf_crlf_or_cr() {
    let profile = Profile::from_toml("t.toml", FIXED).unwrap();
    let lf: String = (1..=3).map(|n| fixed_record(&format!("{n}00"), n, "Tremblay Jean")).collect();
    let read = |text: String| -> Vec<(String, String)> {
        profile
            .open(ctx("f.txt"), text.as_bytes())
            .map(|p| p.map(|p| (p.bank_ref, p.amount.amount().to_string())).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    };
    let want = read(lf.clone());
    assert_eq!(want.len(), 3);
    assert_eq!(read(lf.replace('\n', "\r\n")), want, "CRLF");
    assert_eq!(read(lf.replace('\n', "\r")), want, "CR alone");
}

// ---------------------------------------------------------------------------------------- CPA-005

#[test]
fn cpa005_a_nul_inside_a_payer_name_is_refused_through_open() {
    let sample = include_bytes!("../../../samples/ca/cpa005-rbc-20260315.txt");
    let mut f = sample.to_vec();
    // The first credit's originator long name (segment positions 111-140) in the C record,
    // after the routing line and the A header.
    let nl: Vec<usize> = f.iter().enumerate().filter(|(_, &b)| b == b'\n').map(|(i, _)| i).collect();
    let at = nl[1] + 1 + 24 + 110 + 3;
    assert!(f[at - 1].is_ascii_alphabetic() && f[at + 1].is_ascii_alphabetic(), "inside the name");
    f[at] = 0;
    let items: Vec<_> = open_as(Format::Cpa005, ctx("c.txt"), &f[..]).collect();
    let e = items.iter().find_map(|i| i.as_ref().err()).expect("refused");
    let ParseError::Field { field, problem, .. } = e else { panic!("{e}") };
    assert!(field.starts_with("segment 1 originator's long name"), "{field}");
    assert!(problem.contains("control character 0x00"), "{problem}");
}
