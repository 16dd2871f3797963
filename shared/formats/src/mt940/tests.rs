//! Unit tests for the MT940 reader: one per quirk seen in real files, plus no-panic properties.

use super::field::{
    cp1252, decode_into, entry_date, field_start, find_byte, is_trailer, parse_amount, parse_details,
    parse_statement_line, sepa_value, Details, Mark,
};
use super::*;
use chrono::NaiveDate;
use remit_domain::model::money::exact_add;
use rust_decimal_macros::dec;

fn read(bytes: &[u8]) -> Vec<Result<Payment, ParseError>> {
    crate::test_support::read(crate::Format::Mt940, "t.sta", bytes)
}

fn ok(bytes: &[u8]) -> Vec<Payment> {
    crate::test_support::read_ok(crate::Format::Mt940, "t.sta", bytes)
}

fn err(bytes: &[u8]) -> ParseError {
    let items = read(bytes);
    match items.last() {
        Some(Err(_)) => items.into_iter().last().and_then(Result::err).unwrap(),
        _ => panic!("expected an error, got {} payments", items.len()),
    }
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn other<'a>(p: &'a Payment, key: &str) -> Option<&'a str> {
    p.references.other.iter().find(|(k, _)| k == key).map(|(_, v)| v.expose())
}

/// A statement around `body` (its `:61:`/`:86:` lines), opening 100,00 and closing `close`.
fn statement(body: &str, close: &str) -> Vec<u8> {
    format!(":20:REF1\r\n:25:NL91ABNA0417164300\r\n:28C:7/1\r\n:60F:C260301EUR100,00\r\n{body}:62F:{close}\r\n-\r\n")
        .into_bytes()
}

const SAMPLE: &[u8] = include_bytes!("../../../../samples/eu/mt940-abn-two-statements.sta");

#[test]
fn project_sample_reads_with_every_quirk() {
    let p = ok(SAMPLE);
    assert_eq!(p.len(), 5);
    let sophie = &p[0];
    assert_eq!(sophie.payer_name.as_deref(), Some("Sophie Müller"), "ISO-8859-1 decoded");
    assert!(sophie.references.remittance[0].expose().contains("3466 712768 42680"), "sub-fields joined");
    assert_eq!(sophie.references.end_to_end_id.as_ref().map(|r| r.expose()), Some("SM-2026-03"));
    assert!(matches!(sophie.payer_account, Some(PayerAccount::Iban(_))));
    assert_eq!(other(sophie, "gvc"), Some("166"));
    assert_eq!(sophie.bank_ref, "BK2603020001");
    assert_eq!(&*sophie.source_bank, "NL91ABNA0417164300");
    assert_eq!(sophie.amount, Money::parse("820", Currency::EUR).unwrap());
    assert_eq!(p[1].amount.amount(), dec!(150.50), "300,5-style amount");
    assert_eq!(other(&p[1], "customer_ref"), Some("PAY-LR-0302"));
    assert_eq!(p[2].direction, Direction::Debit);
    let free = p[3].references.remittance[0].expose();
    assert!(free.contains("ZAHLUNG:\tDANKE SCHÖN\n:VIELE GRÜSSE UM 10:30"), "{free}");
    assert_eq!(other(&p[3], "statement"), Some("AMEXEU260303A/00062/1"));
    assert!(p[4].reversal && p[4].direction == Direction::Debit, "RC takes money out");
    assert_eq!(p[4].bank_ref, p[1].bank_ref, "a reversal carries the original's bank reference");
    assert!(p.iter().all(|p| p.format == SourceFormat::Mt940 && p.market == Market::EU));
}

#[test]
fn marks_and_funds_codes() {
    let body = ":61:260301C1,00NTRFNONREF\r\n:61:260301DR2,00NTRFNONREF\r\n\
                :61:260301RC3,00NTRFNONREF\r\n:61:260301RDR4,00NTRFNONREF\r\n";
    let p = ok(&statement(body, "C260301EUR100,00"));
    let got: Vec<_> = p.iter().map(|p| (p.direction, p.reversal, p.amount.amount())).collect();
    assert_eq!(
        got,
        vec![
            (Direction::Credit, false, dec!(1.00)),
            (Direction::Debit, false, dec!(2.00)),
            (Direction::Debit, true, dec!(3.00)),
            (Direction::Credit, true, dec!(4.00)),
        ]
    );
    assert_eq!(parse_statement_line("260301CN5,NTRF", None).unwrap().funds_code, Some(b'N'));
}

#[test]
fn amounts_with_comma_decimals() {
    assert_eq!(parse_amount(b"300,", "a").unwrap(), (dec!(300), 4));
    assert_eq!(parse_amount(b"300,5NTRF", "a").unwrap().0, dec!(300.5));
    assert_eq!(parse_amount(b"0000012,34", "a").unwrap().0, dec!(12.34));
    assert!(parse_amount(b"300", "a").is_err());
    assert!(parse_amount(b",", "a").is_err());
    // Knab leaves the comma out of whole :61: amounts.
    assert_eq!(parse_statement_line("1407290729C500NTRFX", None).unwrap().amount, dec!(500));
}

#[test]
fn entry_date_year_wraps() {
    assert_eq!(entry_date(d(2026, 12, 31), 1, 2), Some(d(2027, 1, 2)));
    assert_eq!(entry_date(d(2027, 1, 2), 12, 31), Some(d(2026, 12, 31)));
    assert_eq!(entry_date(d(2026, 3, 1), 3, 2), Some(d(2026, 3, 2)));
    let l = parse_statement_line("2612310102C1,00NTRFNONREF", None).unwrap();
    assert_eq!(l.entry_date, Some(d(2027, 1, 2)));
    // ASN Bank writes four spaces instead of an entry date.
    let l = parse_statement_line("200101    D65,00NOVBNL47INGB9999999999", None).unwrap();
    assert_eq!((l.entry_date, l.mark), (None, Mark::Debit));
}

#[test]
fn references_and_supplementary_details() {
    let l = parse_statement_line("2603010301CR1,00NTRFMYREF123//BANK 77\nSUPPL TEXT", None).unwrap();
    assert_eq!(l.tx_type, "NTRF");
    assert_eq!(l.customer_ref, "MYREF123");
    assert_eq!(l.bank_ref.as_deref(), Some("BANK 77"));
    assert_eq!(l.supplementary, "SUPPL TEXT");
    let l = parse_statement_line("260301C1,00NTRFNONREF", None).unwrap();
    assert!(l.customer_ref.is_empty() && l.bank_ref.is_none());
    // Sparkassen break the line between mark and amount.
    assert_eq!(parse_statement_line("1811261126CR\n30,00N062NONREF", None).unwrap().amount, dec!(30));
}

#[test]
fn bank_ref_falls_back_to_customer_ref_then_statement_position() {
    let body = ":61:260301C1,00NTRFCUST1\r\n:61:260301C1,00NTRFNONREF\r\n";
    let p = ok(&statement(body, "C260301EUR102,00"));
    assert_eq!(p[0].bank_ref, "CUST1");
    assert_eq!(p[1].bank_ref, "REF1/2");
    assert_eq!(p[0].key_basis, KeyBasis::StatementLine);
    assert_ne!(p[0].key(), p[1].key());
}

/// A bank that sends a statement again (new `:20:` transmission reference, LF line ends, in a
/// file of its own) sends the same lines: same keys. Another statement number is another day.
#[test]
fn a_re_sent_statement_keeps_its_keys() {
    let body = ":61:260301C1,00NTRFNONREF\r\n:61:260301C1,00NTRFNONREF\r\n";
    let first = ok(&statement(body, "C260301EUR102,00"));
    let again = String::from_utf8(statement(body, "C260301EUR102,00"))
        .unwrap()
        .replace(":20:REF1", ":20:RESENT-0002")
        .replace("\r\n", "\n");
    let again = crate::test_support::read_ok(crate::Format::Mt940, "other.sta", again.as_bytes());
    let keys = |p: &[Payment]| p.iter().map(|p| p.key().as_str().to_string()).collect::<Vec<_>>();
    assert_eq!(keys(&first), keys(&again));
    assert_ne!(first[0].key(), first[1].key(), "two identical lines are two payments");
    let next_day =
        String::from_utf8(statement(body, "C260301EUR102,00")).unwrap().replace(":28C:7/1", ":28C:8/1");
    let next_day = ok(next_day.as_bytes());
    assert_ne!(keys(&first), keys(&next_day));
}

#[test]
fn details_subfields_and_continuations() {
    let det = parse_details(
        "166?00GUTSCHRIFT?20EREF+E2E1?21 SVWZ+Rechnung\n 42?31DE1450880\n0500194785000?32KARL?33 KAUFMANN",
    );
    assert_eq!(det.gvc(), Some("166"));
    assert_eq!(det.joined(20..=29), "EREF+E2E1 SVWZ+Rechnung 42");
    assert_eq!(det.get(31), Some("DE14508800500194785000"));
    assert_eq!(det.joined(32..=33), "KARL KAUFMANN");
    assert!(parse_details("GPSEOUL SPOEDBETALING\tX").subfields.is_empty());
    assert_eq!(sepa_value("EREF+E2E1 SVWZ+Rechnung", "EREF+"), Some("E2E1"));
}

#[test]
fn field_starts_and_trailers() {
    assert!(field_start(b":20:X").is_some());
    assert_eq!(field_start(b":28C:1").map(|(t, n)| (t.as_str().to_string(), n)), Some(("28C".into(), 5)));
    assert!(field_start(b":NS:22X").is_some());
    assert!(field_start(b":940:").is_none());
    assert!(field_start(b":VIELE GRUESSE").is_none());
    assert!(field_start(b"ZAHLUNG: 10:30").is_none());
    for t in [&b"-"[..], b"-}", b"-}{5:}", b"-XXX", b"-\x03", b"- "] {
        assert!(is_trailer(t), "{t:?}");
    }
    assert!(!is_trailer(b"-hr gjlm paulissen"));
}

#[test]
fn envelopes_header_lines_and_no_final_line_break() {
    let mut f = b"0000 01INGBNL2AXXXX00001\r\n940 00\r\n:940:\r\n{1:F01X}{2:O940X}{4:\r\n".to_vec();
    f.extend_from_slice(&statement(":61:260301C1,00NTRFNONREF\r\n:86:X\r\n", "C260301EUR101,00"));
    f.truncate(f.len() - 2);
    f.push(b'}');
    assert_eq!(ok(&f).len(), 1);
    // No trailer at all, no final line break.
    let g = b":20:A\n:25:B\n:28C:1\n:60F:C260301EUR1,\n:61:260301C1,NTRFX\n:62F:C260301EUR2,";
    assert_eq!(ok(g).len(), 1);
}

#[test]
fn many_statements_and_intermediate_balances() {
    let mut f = statement(":61:260301C1,00NTRFNONREF\r\n", "C260301EUR101,00");
    f.extend_from_slice(
        b":20:REF2\r\n:25:X\r\n:28C:8/1\r\n:60M:D260302EUR5,\r\n:61:260302C5,NTRFA\r\n:62M:C260302EUR0,\r\n",
    );
    let p = ok(&f);
    assert_eq!(p.len(), 2);
    assert_eq!(&*p[1].source_bank, "X");
}

#[test]
fn broken_balance_chain_names_statement_and_both_figures() {
    let e = err(&statement(":61:260301C1,00NTRFNONREF\r\n", "C260301EUR100,00"));
    let msg = e.to_string();
    assert!(matches!(e, ParseError::Structure { location: Location::Line { number: 6 }, .. }), "{msg}");
    for part in [":20:REF1", ":28C:7/1", "101.00", "100.00"] {
        assert!(msg.contains(part), "{msg}");
    }
}

#[test]
fn bad_amount_is_a_field_error_on_its_line() {
    let e = err(&statement(":61:260301C12.50NTRFNONREF\r\n", "C260301EUR100,00"));
    match e {
        ParseError::Field { location, field, problem, .. } => {
            assert_eq!(location, Location::Line { number: 5 });
            assert_eq!(field, ":61: amount");
            assert!(problem.contains("12.50") && problem.contains("no decimal comma"), "{problem}");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn structure_errors() {
    assert!(err(b":60F:C260301EUR1,\n").to_string().contains("outside a statement"));
    assert!(err(b"hello\n").to_string().contains("no MT940 statement"));
    let open = b":20:A\n:25:B\n:60F:C260301EUR1,\n:20:B\n";
    assert!(err(open).to_string().contains("no closing balance"));
    let neither = b":20:A\n:25:B\n:28C:1\n:61:260301C1,NTRFX\n";
    assert!(err(neither).to_string().contains("no MT942 report either"));
    // A value date no calendar has is an oddity of the line (issue 13): read with a warning.
    let bad_date = statement(":61:260230C1,00NTRFNONREF\r\n", "C260301EUR101,00");
    let p = ok(&bad_date);
    assert!(p[0].warnings[0].contains("value date \"260230\" is not a calendar date"), "{:?}", p[0].warnings);
    let too_precise = statement(":61:260301C1,001NTRFNONREF\r\n", "C260301EUR101,001");
    assert!(err(&too_precise).to_string().contains("decimals"));
}

#[test]
fn invalid_payer_iban_is_kept_with_a_warning() {
    let body = ":61:260301C1,00NTRFNONREF\r\n:86:166?20X?31DE00370400440532013000?32A\r\n";
    let p = ok(&statement(body, "C260301EUR101,00"));
    assert!(matches!(&p[0].payer_account, Some(PayerAccount::Other(s)) if s == "DE00370400440532013000"));
    assert_eq!(p[0].warnings.len(), 1);
    let body = ":61:260301C1,00NTRFNONREF\r\n:86:166?20X?310175526300\r\n";
    let p = ok(&statement(body, "C260301EUR101,00"));
    assert!(p[0].warnings.is_empty(), "a domestic account number is not an IBAN");
}

#[test]
fn cp1252_and_utf8_lines_mix() {
    // Each line is UTF-8 when it is valid UTF-8, Windows-1252 otherwise.
    let mut f = statement("", "C260301EUR102,00");
    let at = f.windows(5).position(|w| w == b":62F:").unwrap();
    let body = b":61:260301C1,00NTRFNONREF\r\n:86:166?32M\xfcller \x80\r\n\
                :61:260301C1,00NTRFNONREF\r\n:86:166?32M\xc3\xbcller\r\n";
    f.splice(at..at, body.iter().copied());
    let p = ok(&f);
    assert_eq!(p[0].payer_name.as_deref(), Some("Müller €"));
    assert_eq!(p[1].payer_name.as_deref(), Some("Müller"));
}

/// The decoder without its ASCII fast path and byte table: the reference behaviour. A C0
/// control other than tab, or DEL, is refused at its first position.
fn decode_reference(bytes: &[u8]) -> Result<String, (usize, u8)> {
    if let Some(at) = bytes.iter().position(|&b| b < 0x20 && b != b'\t' || b == 0x7f) {
        return Err((at, bytes[at]));
    }
    Ok(match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
    })
}

fn try_decode(bytes: &[u8]) -> Result<String, (usize, u8)> {
    let mut out = String::from("kept");
    match decode_into(bytes, &mut out) {
        Ok(()) => Ok(out["kept".len()..].to_string()),
        Err(c) => {
            assert_eq!(out, "kept", "nothing appended on error");
            Err((c.at, c.byte))
        }
    }
}

fn decode(bytes: &[u8]) -> String {
    try_decode(bytes).unwrap_or_else(|e| panic!("{e:?}"))
}

#[test]
fn cp1252_table_matches_encoding_rs() {
    for b in 0..=255u8 {
        let byte = [b];
        let (s, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&byte);
        assert_eq!(s.chars().collect::<Vec<_>>(), vec![cp1252(b)], "byte {b:#04x}");
    }
}

#[test]
fn decoding_utf8_latin1_and_controls() {
    assert_eq!(decode(b"SVWZ+Rechnung 42\tX"), "SVWZ+Rechnung 42\tX");
    assert_eq!(decode("Müller €".as_bytes()), "Müller €");
    assert_eq!(decode(b"M\xfcller \x80 \x9f"), "Müller € Ÿ");
    // An unassigned cp1252 byte is kept as its C1 control (a cp852 letter, maybe), not dropped.
    assert_eq!(decode(b"Fran\xe7oise\x81 L"), "Françoise\u{81} L");
    assert_eq!(decode("A\u{85}B".as_bytes()), "A\u{85}B");
    // A C0 control or DEL is refused where it stands, never deleted.
    assert_eq!(try_decode(b"Fran\xe7oise\x01\x81 L"), Err((9, 0x01)));
    assert_eq!(try_decode(b"A\x7fB\x02"), Err((1, 0x7f)));
    assert_eq!(try_decode("A\u{85}B\x00".as_bytes()), Err((4, 0)));
    assert_eq!(try_decode(b"100\x1b,00"), Err((3, 0x1b)));
    for text in [&b""[..], b"plain", b"\xef\xbb\xbfX", b"\xc3", b"caf\xc3\xa9 \xe9", b"a\x00"] {
        assert_eq!(try_decode(text), decode_reference(text));
    }
}

#[test]
fn amounts_from_bytes() {
    let amount = |s: &str| parse_amount(s.as_bytes(), "amount");
    assert_eq!(amount("300,"), Ok((dec!(300), 4)));
    assert_eq!(amount("0,5"), Ok((dec!(0.5), 3)));
    assert_eq!(amount("1234567,89"), Ok((dec!(1234567.89), 10)));
    assert_eq!(amount("0000012,34NTRF"), Ok((dec!(12.34), 10)));
    assert_eq!(amount(",5"), Ok((dec!(0.5), 2)));
    assert!(amount("300").is_err());
    assert!(amount(",").is_err());
    assert!(amount("1234567890123456789,").is_err());
}

#[test]
fn details_are_reusable_and_keywords_found() {
    let mut d = Details::default();
    d.parse("166?20EREF+A?32NAME");
    d.parse("?00TEXT?31X");
    assert_eq!(d.gvc(), None);
    assert_eq!(d.get(32), None);
    assert_eq!(d.get(31), Some("X"));
    assert_eq!(d.joined(0..=99), "TEXTX");
    d.parse("free text");
    assert!(d.subfields.is_empty());
    assert_eq!(sepa_value("E EREEREF+X1 SVWZ+Y", "EREF+"), Some("X1"));
    assert_eq!(sepa_value("EREF", "EREF+"), None);
    assert_eq!(sepa_value("xEREF+ \u{e9}KREF+Z", "EREF+"), Some("\u{e9}"));
    assert_eq!(sepa_value("EREF+", "EREF+"), None);
    assert_eq!(find_byte(b"0123456789abcdef?", b'?'), Some(16));
    assert_eq!(find_byte(b"\x80\xff?", b'?'), Some(2));
    assert_eq!(find_byte(b"", b'?'), None);
    // Sub-fields wrapped mid-code and over several lines.
    d.parse("?2\n0EREF+A\n?21B?3\n2NAME\n");
    assert_eq!(d.joined(20..=21), "EREF+AB");
    assert_eq!(d.get(32), Some("NAME"));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn valid_file() -> Vec<u8> {
        let mut v = Vec::new();
        super::super::generate::write(&mut v, 30, 3).unwrap();
        v.extend_from_slice(SAMPLE);
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn lines_split_across_small_buffers_read_the_same(capacity in 1usize..40, ending in 0usize..3) {
            let lf = valid_file();
            // LF, CRLF and CR-only line ends read the same records, whatever the buffer size.
            let end: &[u8] = [&b"\n"[..], b"\r\n", b"\r"][ending];
            let mut bytes = Vec::with_capacity(lf.len() * 2);
            for &b in &lf {
                if b == b'\n' { bytes.extend_from_slice(end) } else { bytes.push(b) }
            }
            let ctx = crate::test_support::ctx("t.sta");
            let small = std::io::BufReader::with_capacity(capacity, &bytes[..]);
            let items: Vec<_> = Mt940Reader::new(small, ctx).collect();
            let strip = |items: &[Result<Payment, ParseError>]| {
                items.iter().map(|i| i.as_ref().map(|p| (p.key(), p.amount, p.references.clone())).map_err(|e| e.to_string())).collect::<Vec<_>>()
            };
            prop_assert_eq!(format!("{items:?}"), format!("{:?}", read(&bytes)));
            prop_assert_eq!(strip(&items), strip(&read(&lf)));
        }

        #[test]
        fn find_byte_matches_a_byte_loop(hay in proptest::collection::vec(any::<u8>(), 0..100), needle in any::<u8>()) {
            prop_assert_eq!(find_byte(&hay, needle), hay.iter().position(|&b| b == needle));
            let dense: Vec<u8> = hay.iter().map(|b| b % 4).collect();
            prop_assert_eq!(find_byte(&dense, needle % 4), dense.iter().position(|&b| b == needle % 4));
        }

        #[test]
        fn decoding_matches_the_reference(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(try_decode(&bytes), decode_reference(&bytes));
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4000)) {
            let _ = read(&bytes);
            let mut with_header = b":20:A\n:25:B\n:28C:1\n:60F:C260301EUR1,\n:61:".to_vec();
            with_header.extend_from_slice(&bytes);
            let _ = read(&with_header);
        }

        #[test]
        fn mutations_of_a_valid_file_never_panic(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..20),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut bytes = valid_file();
            for (at, b) in edits {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            if truncate {
                let n = cut.index(bytes.len());
                bytes.truncate(n);
            }
            let items = read(&bytes);
            // Any error ends the stream.
            if let Some(i) = items.iter().position(Result::is_err) {
                prop_assert_eq!(i, items.len() - 1);
            }
        }
    }
}

#[test]
fn offsets_point_at_the_start_of_the_61_line() {
    let text = b":20:REF\r\n:25:NL91ABNA0417164300\r\n:28C:1/1\r\n:60F:C260302EUR0,\r\n:61:2603020302C10,NTRFNONREF\r\n:86:first\r\n:61:2603020302C5,NTRFNONREF\r\n:86:second\r\n:62F:C260302EUR15,\r\n-";
    let ctx =
        crate::SourceContext { file_id: remit_domain::FileId::of_bytes(text), file_name: "o.sta".into() };
    let p: Vec<_> = super::Mt940Reader::new(&text[..], ctx).map(Result::unwrap).collect();
    for pay in &p {
        let at = pay.source.offset as usize;
        assert!(text[at..].starts_with(b":61:"), "offset {at} points at {:?}", &text[at..at + 8]);
    }
}

/// Issue 17: hostile input is refused by name, never altered, never unbounded.
mod hostile {
    use super::*;

    fn field_error(e: &ParseError) -> (&Location, &str, &str) {
        match e {
            ParseError::Field { location, field, problem, .. } => (location, field, problem),
            other => panic!("expected a field error: {other}"),
        }
    }

    #[test]
    fn a_nul_inside_a_61_amount_is_an_error_of_the_field_not_a_clean_amount() {
        let e = err(&statement(":61:260301C1\x0000,00NTRFNONREF\r\n", "C260301EUR1100,00"));
        let (location, field, problem) = field_error(&e);
        assert_eq!((location, field), (&Location::Line { number: 5 }, ":61: text"));
        assert!(problem.contains("control character 0x00 at column 13"), "{problem}");
        // Before: the NUL was deleted and 1000,00 was read as a clean amount.
        assert!(!e.to_string().contains("1000"), "{e}");
    }

    #[test]
    fn escape_and_other_c0_controls_in_free_text_are_errors_tabs_are_not() {
        let body = ":61:260301C1,00NTRFNONREF\r\n:86:166?20PAY\r\n?32M\x1b[31mLLER\r\n";
        let e = err(&statement(body, "C260301EUR101,00"));
        let (location, field, problem) = field_error(&e);
        assert_eq!((location, field), (&Location::Line { number: 7 }, ":86: text"));
        assert!(problem.contains("0x1B at column 5"), "{problem}");
        let tab = ":61:260301C1,00NTRFNONREF\r\n:86:166?20PAY\tX?32NAME\r\n";
        assert!(ok(&statement(tab, "C260301EUR101,00"))[0].references.remittance[0].expose().contains('\t'));
    }

    #[test]
    fn framing_bytes_around_lines_are_not_text() {
        // SOH before the first field, ETX after the trailer, NUL padding lines (mBank, DOS tools).
        let mut f = b"\x01\r\n".to_vec();
        f.extend_from_slice(&statement(
            ":61:260301C1,00NTRFNONREF\r\n\x00\x00\r\n:86:X\r\n",
            "C260301EUR101,00",
        ));
        f.extend_from_slice(b"\x03\r\n\x1a");
        assert_eq!(ok(&f).len(), 1);
    }

    #[test]
    fn cr_only_line_ends_read_like_lf() {
        let lf = statement(":61:260301C1,00NTRFNONREF\n:86:X\n", "C260301EUR101,00");
        let lf: Vec<u8> = String::from_utf8(lf).unwrap().replace("\r\n", "\n").into_bytes();
        let cr: Vec<u8> = lf.iter().map(|&b| if b == b'\n' { b'\r' } else { b }).collect();
        let (a, b) = (ok(&lf), ok(&cr));
        assert_eq!(a.len(), 1);
        assert_eq!(format!("{:?}", a[0].references), format!("{:?}", b[0].references));
    }

    #[test]
    fn a_line_longer_than_the_limit_is_refused_naming_line_and_field() {
        let limit = Limits::default().line_bytes;
        let body = format!(":61:260301C1,00NTRFNONREF\r\n:86:{}\r\n", "A".repeat(limit));
        let e = err(&statement(&body, "C260301EUR101,00"));
        let ParseError::Limit { location, what, limit: l, .. } = &e else { panic!("{e}") };
        assert_eq!(location, &Location::Line { number: 6 });
        assert!(what.contains("line length in field :86:"), "{what}");
        assert_eq!(l, &format!("{limit} bytes"));
        // One byte less is a line the reader takes.
        let body = format!(":61:260301C1,00NTRFNONREF\r\n:86:{}\r\n", "A".repeat(limit - 4));
        assert_eq!(ok(&statement(&body, "C260301EUR101,00")).len(), 1);
        // A continuation line names the field it continues.
        let body = format!(":61:260301C1,00NTRFNONREF\r\n:86:X\r\n{}\r\n", "A".repeat(limit + 1));
        let e = err(&statement(&body, "C260301EUR101,00"));
        assert!(e.to_string().contains("line 7: line length in field :86: (continued)"), "{e}");
    }

    #[test]
    fn a_field_longer_than_the_limit_with_its_continuation_lines_is_refused() {
        let limit = Limits::default().field_bytes;
        let line = "B".repeat(1000);
        let lines = limit / 1000 + 1;
        let body = format!(":61:260301C1,00NTRFNONREF\r\n:86:X\r\n{}", format!("{line}\r\n").repeat(lines));
        let e = err(&statement(&body, "C260301EUR101,00"));
        let ParseError::Limit { location, what, .. } = &e else { panic!("{e}") };
        assert_eq!(location, &Location::Line { number: 6 + lines as u64 });
        assert!(what.contains("length of field :86: (from line 6"), "{what}");
    }

    #[test]
    fn a_limit_is_met_without_buffering_the_whole_line() {
        // 8 MiB on one line, read through a 4 KiB buffer: refused once the bound is passed.
        struct Endless(u64);
        impl std::io::Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = buf.len().min(self.0 as usize);
                buf[..n].fill(b'7');
                self.0 -= n as u64;
                Ok(n)
            }
        }
        let head = &b":20:A\n:25:B\n:28C:1\n:60F:C260301EUR1,\n:61:260301C1,00NTRFX\n:86:"[..];
        let src = std::io::BufReader::with_capacity(4096, std::io::Read::chain(head, Endless(8 << 20)));
        let mut r = Mt940Reader::new(src, crate::test_support::ctx("big.sta"));
        let e = r.next().unwrap().unwrap_err();
        assert!(matches!(e, ParseError::Limit { .. }), "{e}");
        assert!(r.raw.capacity() <= Limits::default().line_bytes + 4096, "{}", r.raw.capacity());
    }

    #[test]
    fn a_running_sum_that_would_overflow_refuses_the_file_naming_the_field() {
        let f = statement(":61:260301C1,00NTRFNONREF\r\n", "C260301EUR101,00");
        let mut r = Mt940Reader::new(&f[..], crate::test_support::ctx("t.sta"));
        // Read up to the opening balance, then put the running sum at the edge of Decimal.
        while r.statement.as_ref().is_none_or(|s| s.opening.is_none()) || r.field.is_some() {
            assert!(r.read_line().unwrap());
            r.line();
            if r.field.as_ref().is_some_and(|f| f.tag.as_str() == "61") {
                break;
            }
        }
        r.statement.as_mut().unwrap().sum = Decimal::MAX;
        let e = r.find_map(Result::err).expect("refused");
        let (location, field, problem) = field_error(&e);
        assert_eq!((location, field), (&Location::Line { number: 5 }, ":61: amount"));
        assert!(problem.contains("exact decimal arithmetic"), "{problem}");
    }

    #[test]
    fn sums_are_exact_or_refused_never_rounded() {
        assert_eq!(exact_add(dec!(1.50), dec!(2)), Some(dec!(3.50)));
        assert_eq!(exact_add(dec!(0.00), Decimal::ZERO), Some(dec!(0.00)));
        assert_eq!(exact_add(Decimal::MAX, Decimal::ONE), None);
        assert_eq!(exact_add(Decimal::MIN, -Decimal::ONE), None);
        // rust_decimal would round this to 999999999999999999.0000000000.
        assert_eq!(exact_add(Decimal::new(1, 17), Decimal::new(999_999_999_999_999_999, 0)), None);
        // Trailing zeros may go when nothing is lost: 5e26 + 5e26 in cents no longer fits, in tenths it does.
        let big = Decimal::from_i128_with_scale(50_000_000_000_000_000_000_000_000_000, 2);
        assert_eq!(
            exact_add(big, big),
            Some(Decimal::from_i128_with_scale(10_000_000_000_000_000_000_000_000_000, 1))
        );
        let odd = Decimal::from_i128_with_scale(50_000_000_000_000_000_000_000_000_001, 2);
        assert_eq!(exact_add(odd, big), None, "the cent cannot be kept");
        let zeros = Decimal::from_i128_with_scale(0, 28);
        assert_eq!(exact_add(Decimal::MAX, zeros), Some(Decimal::MAX));
    }

    #[test]
    fn balances_must_keep_their_currencys_decimals() {
        let f = b":20:A\n:25:B\n:28C:1\n:60F:C260301EUR0,00000000000000001\n:61:260301C1,NTRFX\n:62F:C260301EUR1,\n-";
        let e = err(f);
        let (location, field, problem) = field_error(&e);
        assert_eq!((location, field), (&Location::Line { number: 4 }, ":60F: amount"));
        assert!(problem.contains("more decimals than EUR allows"), "{problem}");
    }

    #[test]
    fn two_amounts_near_the_maximum_do_not_panic() {
        let body = ":61:260301C999999999999999999,NTRFA\r\n:61:260301C999999999999999999,NTRFB\r\n";
        let f =
            format!(":20:A\n:25:B\n:28C:1\n:60F:C260301JPY999999999999999999,\n{body}:62F:C260301JPY1,\n-");
        let items = read(f.as_bytes());
        assert_eq!(items.iter().filter(|i| i.is_ok()).count(), 2);
        assert!(items.last().unwrap().as_ref().unwrap_err().to_string().contains("balance chain broken"));
    }

    #[test]
    fn errors_quote_at_most_what_shown_gives() {
        let junk = "9".repeat(60_000);
        for f in [
            format!(":20:A\n:25:B\n:28C:1\n:60F:C260301EUR1,00{junk}\n"),
            format!(":20:A\n:25:B\n:28C:1\n:60F:C260301{junk}\n"),
            format!(":20:{junk}\n:25:B\n:28C:1\n:60F:C260301EUR1,\n:62F:C260301EUR2,\n-"),
        ] {
            let e = err(f.as_bytes()).to_string();
            assert!(e.len() < 400, "{} bytes: {}", e.len(), &e[..400.min(e.len())]);
        }
    }
}
