//! MT940 as banks write it (issue 13), from the SWIFT MT940 field definitions: `:20:`
//! Transaction Reference Number, `:25:` Account Identification, `:28C:` Statement Number,
//! `:60F:` Opening Balance, `:61:` Statement Line (subfield 1 "Value Date" YYMMDD, subfield 2
//! "Entry Date" MMDD, optional), `:86:` Information to Account Owner (6*65x), `:62F:` Closing
//! Balance, and the block 4 trailer `-`. A dialect of a well-formed statement keeps the file;
//! only a statement that does not add up is refused, and the reason names the rule.

use remit_domain::Payment;
use remit_formats::{open_as, Format, ParseError, SourceContext};

fn read(text: &str) -> Vec<Result<Payment, ParseError>> {
    let ctx =
        SourceContext { file_id: remit_domain::FileId::of_bytes(b"bank.sta"), file_name: "bank.sta".into() };
    open_as(Format::Mt940, ctx, text.as_bytes()).collect()
}

fn payments(text: &str) -> Vec<Payment> {
    read(text).into_iter().collect::<Result<_, _>>().unwrap_or_else(|e| panic!("{e}"))
}

/// One statement: opening 100,00, a credit of 25,00 with its `:86:` text, closing as given.
fn statement(details: &str, closing: &str, trailer: &str) -> String {
    format!(
        ":20:STMT20261120\r\n:25:NL91ABNA0417164300\r\n:28C:00321/1\r\n:60F:C261119EUR100,00\r\n\
         :61:2611201120C25,00NTRFNONREF//BANKREF001\r\n:86:{details}\r\n:62F:C261120EUR{closing}\r\n{trailer}\r\n"
    )
}

/// Issue 13: the message trailer written as a space then `-` was refused.
#[test]
fn a_trailer_with_whitespace_around_it_ends_the_message() {
    for trailer in [" -", "-  ", "\t-", " -}"] {
        let two =
            format!("{}{}", statement("CARD ENDING 1004", "125,00", trailer), statement("X", "125,00", "-"));
        assert_eq!(payments(&two).len(), 2, "{trailer:?}");
    }
}

/// Issue 13 (a Dutch bank): a line holding only `-` inside the `:86:` text, followed by the
/// statement's own `:62F:`, was read as the trailer and the statement refused as unclosed.
#[test]
fn a_lone_dash_inside_the_information_field_is_text() {
    let ps = payments(&statement("/REMI/CARD ENDING 1004\r\n-\r\n/EREF/NOTPROVIDED", "125,00", "-"));
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0].amount.amount().to_string(), "25.00");
    // A dash that really ends an unclosed statement still refuses it.
    let cut = ":20:S\r\n:25:A\r\n:28C:1\r\n:60F:C261119EUR100,00\r\n:61:2611201120C25,00NTRFNONREF\r\n-\r\n";
    let e = read(cut).pop().unwrap().unwrap_err().to_string();
    assert!(e.contains("without a closing balance"), "{e}");
}

/// A balance chain that breaks says which rule: `:60F:` + the `:61:` lines = `:62F:`.
#[test]
fn a_broken_balance_chain_names_the_rule_and_the_figures() {
    let e = read(&statement("X", "126,00", "-")).pop().unwrap().unwrap_err().to_string();
    assert!(e.contains("balance chain broken (opening balance :60F: + the :61: lines must equal the closing balance :62F:)"), "{e}");
    assert!(e.contains("makes 125.00") && e.contains(":62F: says 126.00"), "{e}");
}

/// `:61:` subfield 1, Value Date: "YYMMDD". Some banks print 30 February (wolph's corpus keeps
/// three such files, and reads them as the month's last day): the line is read as the last day
/// of its month with a warning; a month no calendar has, as the entry date (subfield 2), else
/// the opening balance's date.
#[test]
fn a_value_date_no_calendar_has_is_read_with_a_warning() {
    let with_line = |line: &str| payments(&statement("X", "125,00", "-").replace(":61:2611201120C", line));
    let ps = with_line(":61:2602300301C");
    assert_eq!(ps[0].value_date.to_string(), "2026-02-28");
    let w = &ps[0].warnings[0];
    assert!(
        w.contains(
            "value date \"260230\" is not a calendar date: read as 2026-02-28, the last day of its month"
        ),
        "{w}"
    );
    let ps = with_line(":61:2613010301C");
    assert_eq!(ps[0].value_date.to_string(), "2026-03-01", "the entry date");
    let ps = with_line(":61:261301C");
    assert_eq!(ps[0].value_date.to_string(), "2026-11-19", "the :60F: date");
    assert!(ps[0].warnings[0].contains("the opening balance date (:60F:)"), "{:?}", ps[0].warnings);
}
