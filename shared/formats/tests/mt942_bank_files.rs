//! MT942 interim transaction reports (issue 13), written from the SWIFT MT942 field
//! definitions, not from our reader:
//!
//! - `:20:` Transaction Reference Number, 16x, mandatory;
//! - `:25a:` Account Identification, 35x (or option P with the BIC), mandatory;
//! - `:28C:` Statement Number/Sequence Number, 5n[/5n], mandatory;
//! - `:34F:` Debit/(Debit and Credit) Floor Limit Indicator, 3!a[1!a]15d, mandatory, and a
//!   second `:34F:` Credit Floor Limit Indicator, optional;
//! - `:13D:` Date/Time Indication, 6!n4!n1!x4!n, mandatory;
//! - repeated, optional: `:61:` Statement Line (as in MT940: subfield 1 Value Date 6!n,
//!   subfield 2 Entry Date [4!n], subfield 3 Debit/Credit Mark 2a, subfield 5 Amount 15d,
//!   subfield 6 Transaction Type 1!a3!c, subfield 7 Reference for the Account Owner 16x,
//!   subfield 8 `//` Reference of the Account Servicing Institution [16x]) and `:86:`
//!   Information to Account Owner;
//! - `:90D:` Number and Sum of Entries (debits), 5n3!a15d, optional;
//! - `:90C:` Number and Sum of Entries (credits), 5n3!a15d, optional.
//!
//! There is no opening or closing balance: the report's control totals are `:90D:`/`:90C:`.

use remit_domain::{Payment, SourceFormat};
use remit_formats::{detect, open_as, Format, ParseError, SourceContext};

fn read(name: &str, text: &str) -> Vec<Result<Payment, ParseError>> {
    let ctx =
        SourceContext { file_id: remit_domain::FileId::of_bytes(text.as_bytes()), file_name: name.into() };
    open_as(Format::Mt942, ctx, text.as_bytes()).collect()
}

fn payments(name: &str, text: &str) -> Vec<Payment> {
    read(name, text).into_iter().collect::<Result<_, _>>().unwrap_or_else(|e| panic!("{e}"))
}

fn refusal(text: &str) -> String {
    match read("r.sta", text).pop() {
        Some(Err(e)) => e.to_string(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

const ACCOUNT: &str = "NL91ABNA0417164300";

/// An interim report at `time` (YYMMDDhhmm) holding `lines` (each a `:61:` text and its
/// `:86:`), with `:90C:` as given (`None`: the optional field left out).
fn mt942(time: &str, lines: &[(&str, &str)], credits: Option<&str>) -> String {
    let mut s = format!(
        ":20:INTRA{time}\r\n:25:{ACCOUNT}\r\n:28C:00047/1\r\n:34F:EURD0,\r\n:34F:EURC0,\r\n:13D:{time}+0100\r\n"
    );
    for (line, info) in lines {
        s.push_str(&format!(":61:{line}\r\n:86:{info}\r\n"));
    }
    if let Some(c) = credits {
        s.push_str(&format!(":90C:{c}\r\n"));
    }
    s.push_str("-\r\n");
    s
}

/// The day's MT940 statement for the same account: opening 1000,00.
fn mt940(lines: &[(&str, &str)], closing: &str) -> String {
    let mut s = format!(":20:STMT261120\r\n:25:{ACCOUNT}\r\n:28C:00047/1\r\n:60F:C261119EUR1000,00\r\n");
    for (line, info) in lines {
        s.push_str(&format!(":61:{line}\r\n:86:{info}\r\n"));
    }
    s.push_str(&format!(":62F:C261120EUR{closing}\r\n-\r\n"));
    s
}

const FIRST: (&str, &str) =
    ("2611201120C250,00NTRFNONREF//BK26112000017", "?20CARD ENDING 1004?32MUELLER SOPHIE");
const SECOND: (&str, &str) =
    ("2611201120C80,50NTRFINV-77//BK26112000018", "?20RF18539007547034?32DUPONT AIME");
const THIRD: (&str, &str) = ("2611201120C19,99NTRFNONREF//BK26112000031", "?20CARD ENDING 2002?32ROSSI LUCA");

#[test]
fn routing_tells_an_interim_report_from_a_statement() {
    let report = mt942("2611201100", &[FIRST], None);
    assert_eq!(detect(report.as_bytes()), Some(Format::Mt942));
    assert_eq!(detect(mt940(&[FIRST], "1250,00").as_bytes()), Some(Format::Mt940));
}

/// Booked credits of an interim report are payments, of format MT942, dated by their line.
#[test]
fn the_booked_lines_of_an_interim_report_are_payments() {
    let ps = payments("intra.sta", &mt942("2611201100", &[FIRST, SECOND], Some("2EUR330,50")));
    assert_eq!(ps.len(), 2);
    assert!(ps.iter().all(|p| p.format == SourceFormat::Mt942 && &*p.source_bank == ACCOUNT));
    assert_eq!(ps[0].amount.amount().to_string(), "250.00");
    assert_eq!(ps[1].amount.amount().to_string(), "80.50");
    assert_eq!(ps[0].value_date.to_string(), "2026-11-20");
    assert_eq!(ps[0].payer_name.as_deref(), Some("MUELLER SOPHIE"));
    assert!(ps.iter().all(|p| p.warnings.is_empty()), "{:?}", ps[0].warnings);
}

/// The evening statement repeats the intraday lines: each has the key it had in the report,
/// whatever the statement's number, reference or the line's place in it.
#[test]
fn a_line_has_the_same_key_in_the_interim_report_and_the_statement() {
    let morning = payments("am.sta", &mt942("2611201100", &[FIRST], None));
    let afternoon = payments("pm.sta", &mt942("2611201500", &[SECOND], Some("1EUR80,50")));
    let statement = payments("eod.sta", &mt940(&[THIRD, SECOND, FIRST], "1350,49"));
    assert_eq!(statement.len(), 3);
    assert_eq!(statement[2].key(), morning[0].key());
    assert_eq!(statement[1].key(), afternoon[0].key());
    assert!(statement[0].key() != morning[0].key() && statement[0].key() != afternoon[0].key());
    // The statement's line also carries the key it had before lines were keyed by reference.
    assert!(statement[2].earlier_key().is_some_and(|k| k != statement[2].key()));
    assert!(morning[0].earlier_key().is_none());
}

/// Subfield 8 is optional: an interim line without the bank's reference cannot be recognised
/// in the statement, so it is read but goes to a person rather than post twice.
#[test]
fn an_interim_line_without_the_banks_reference_goes_to_a_person() {
    let bare = ("2611201120C42,00NTRFNONREF", "?20CARD ENDING 1004");
    let ps = payments("intra.sta", &mt942("2611201100", &[bare], None));
    assert_eq!(ps.len(), 1);
    assert!(
        ps[0].warnings.iter().any(|w| w.contains("without the bank's reference")),
        "{:?}",
        ps[0].warnings
    );
    // A statement line without it keeps its place-based key and no warning.
    let st = payments("eod.sta", &mt940(&[bare], "1042,00"));
    assert!(st[0].warnings.is_empty() && st[0].earlier_key().is_none());
}

/// Two lines with the same bank reference, date, mark and amount (a bank that reuses its
/// references): the first keeps the reference key, the repeat is keyed by its place, and from
/// an interim report goes to a person.
#[test]
fn a_repeated_bank_reference_is_keyed_by_place() {
    let ps = payments("intra.sta", &mt942("2611201100", &[FIRST, FIRST], Some("2EUR500,00")));
    assert_ne!(ps[0].key(), ps[1].key());
    assert!(ps[0].warnings.is_empty());
    assert!(
        ps[1].warnings.iter().any(|w| w.contains("of an earlier line of the report")),
        "{:?}",
        ps[1].warnings
    );
    let st = payments("eod.sta", &mt940(&[FIRST, FIRST], "1500,00"));
    assert_eq!(st[0].key(), ps[0].key());
    assert_ne!(st[1].key(), st[0].key());
    assert!(st[1].warnings.is_empty());
}

/// `:90C:`/`:90D:` are the report's control totals: a report that disagrees with its lines is
/// refused, and the reason names the rule and both figures.
#[test]
fn a_report_whose_number_and_sum_of_entries_disagree_is_refused() {
    let e = refusal(&mt942("2611201100", &[FIRST, SECOND], Some("2EUR330,00")));
    assert!(e.contains("number and sum of credit entries disagree"), "{e}");
    assert!(e.contains(":90C: says 2 totalling 330.00 EUR, the lines are 2 totalling 330.50 EUR"), "{e}");
    let e = refusal(&mt942("2611201100", &[FIRST], Some("2EUR250,00")));
    assert!(e.contains("says 2 totalling"), "{e}");
    // Debits are counted apart from credits; an absent :90D: checks nothing.
    let debit = ("2611201120D5,00NMSCNONREF//BK26112000020", "FEE");
    let ps = payments("d.sta", &mt942("2611201100", &[FIRST, debit], Some("1EUR250,00")));
    assert_eq!(ps.len(), 2);
    let mut with_debits = mt942("2611201100", &[FIRST, debit], Some("1EUR250,00"));
    with_debits = with_debits.replace(":90C:", ":90D:1EUR5,\r\n:90C:");
    assert_eq!(payments("d.sta", &with_debits).len(), 2);
    let e = refusal(&with_debits.replace(":90D:1EUR5,", ":90D:1EUR6,"));
    assert!(e.contains("number and sum of debit entries disagree"), "{e}");
}

/// An MT942 has no balances; a message with both a floor limit and an opening balance is
/// neither type and is refused as broken structure.
#[test]
fn a_report_with_a_balance_is_refused() {
    let mixed = mt942("2611201100", &[FIRST], None).replace(":13D:", ":60F:C261119EUR1000,00\r\n:13D:");
    assert!(refusal(&mixed).contains("neither an MT940 statement nor an MT942 report"));
    let closed = mt942("2611201100", &[FIRST], None).replace("-\r\n", ":62F:C261120EUR1250,00\r\n-\r\n");
    assert!(refusal(&closed).contains("an MT942 has none"));
}

/// Subfield 1, Value Date "6!n": a date no calendar has (30 February) is read as the last day
/// of its month with a warning, as in MT940; with no entry date either, the report's `:13D:`
/// date stands in.
#[test]
fn a_calendar_impossible_value_date_is_a_warning_of_the_line() {
    let feb = ("260230C250,00NTRFNONREF//BK26022800001", "X");
    let p = payments("f.sta", &mt942("2602281100", &[feb], None));
    assert_eq!(p[0].value_date.to_string(), "2026-02-28");
    assert!(p[0].warnings.iter().any(|w| w.contains("not a calendar date")), "{:?}", p[0].warnings);
}
