//! Hostile camt.053 / camt.054 files (issue 17): sums that overflow, amounts no `Money` can
//! keep, markup built to make the parser quadratic or unbounded, control characters, and
//! fields long enough that quoting them whole would flood a message. Each is refused with a
//! clear error, never a panic, a hang or a silent change.

use remit_domain::{FileId, Payment};
use remit_formats::{open_as, Format, ParseError, SourceContext};

fn ctx() -> SourceContext {
    SourceContext { file_id: FileId::of_bytes(b"hostile.xml"), file_name: "hostile.xml".into() }
}

fn read(xml: impl AsRef<[u8]>) -> Vec<Result<Payment, ParseError>> {
    open_as(Format::Camt054, ctx(), xml.as_ref()).collect()
}

fn payments(xml: impl AsRef<[u8]>) -> Vec<Payment> {
    read(xml).into_iter().collect::<Result<_, _>>().unwrap_or_else(|e| panic!("{e}"))
}

/// The error that ends the stream.
fn error(xml: impl AsRef<[u8]>) -> ParseError {
    let results = read(xml);
    match results.last() {
        Some(Err(_)) => results.into_iter().last().and_then(Result::err).unwrap(),
        _ => panic!("expected an error, got {} payments", results.len()),
    }
}

fn doc(entries: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>M1</MsgId></GrpHdr>
<Ntfctn><Id>N1</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
{entries}
</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"#
    )
}

/// A booked entry of `amt` in `ccy` holding `details`.
fn ntry(ccy: &str, amt: &str, details: &str) -> String {
    format!(
        r#"<Ntry><Amt Ccy="{ccy}">{amt}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<ValDt><Dt>2026-11-20</Dt></ValDt><AcctSvcrRef>ASR</AcctSvcrRef>{details}</Ntry>"#
    )
}

fn tx(ccy: &str, amt: &str, inner: &str) -> String {
    format!(r#"<TxDtls><Amt Ccy="{ccy}">{amt}</Amt>{inner}</TxDtls>"#)
}

fn with_name(name: &str) -> String {
    let d = format!(
        "<NtryDtls>{}</NtryDtls>",
        tx("EUR", "1", &format!("<RltdPties><Dbtr><Nm>{name}</Nm></Dbtr></RltdPties>"))
    );
    doc(&ntry("EUR", "1", &d))
}

fn is_limit(e: &ParseError, what: &str) -> bool {
    matches!(e, ParseError::Limit { what: w, .. } if w.contains(what))
}

const DECIMAL_MAX: &str = "79228162514264337593543950335";

// Case 1: sums and amounts.

#[test]
fn booked_totals_that_overflow_refuse_the_file_naming_the_amount() {
    let xml = doc(&format!("{}{}", ntry("JPY", DECIMAL_MAX, ""), ntry("JPY", DECIMAL_MAX, "")));
    let e = error(xml);
    assert!(matches!(&e, ParseError::Field { field, .. } if field == "Amt"), "{e}");
    assert!(e.to_string().contains("Ntry[2]/Amt") && e.to_string().contains("control total"), "{e}");
}

#[test]
fn batch_sums_that_overflow_refuse_the_file() {
    let d = format!("<NtryDtls>{}{}</NtryDtls>", tx("JPY", DECIMAL_MAX, ""), tx("JPY", DECIMAL_MAX, ""));
    let e = error(doc(&ntry("JPY", "1", &d)));
    assert!(matches!(&e, ParseError::Field { field, .. } if field == "Amt"), "{e}");
    assert!(e.to_string().contains("TxDtls"), "{e}");
}

#[test]
fn opening_balance_plus_entries_that_overflow_refuse_the_statement() {
    let bal = |cd: &str, amt: &str| {
        format!(
            r#"<Bal><Tp><CdOrPrtry><Cd>{cd}</Cd></CdOrPrtry></Tp><Amt Ccy="JPY">{amt}</Amt><CdtDbtInd>CRDT</CdtDbtInd></Bal>"#
        )
    };
    let xml = format!(
        r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<Stmt><Id>S1</Id>{}{}{}</Stmt></BkToCstmrStmt></Document>"#,
        bal("OPBD", DECIMAL_MAX),
        bal("CLBD", DECIMAL_MAX),
        ntry("JPY", "1", "")
    );
    let results: Vec<_> = open_as(Format::Camt053, ctx(), xml.as_bytes()).collect();
    let e = results.into_iter().find_map(Result::err).expect("refused");
    assert!(e.to_string().contains("control total cannot be computed"), "{e}");
}

/// An amount refused because the currency cannot keep it exactly, by the reader's check or by
/// `Money`'s (whichever sees it first).
fn amount_refused(e: &ParseError) -> bool {
    let t = e.to_string();
    t.contains("more decimals") || t.contains("more digits than an amount")
}

#[test]
fn amounts_no_money_of_the_currency_can_keep_are_refused() {
    // 79 octillion EUR has no room left for cents.
    let e = error(doc(&ntry("EUR", DECIMAL_MAX, "")));
    assert!(matches!(&e, ParseError::Field { field, .. } if field == "Amt"), "{e}");
    assert!(e.to_string().contains("too large to keep the 2 decimals"), "{e}");
    // 30 digits: parsing would round the last decimal away.
    let e = error(doc(&ntry("EUR", "123456789012345678901234567.891", "")));
    assert!(amount_refused(&e), "{e}");
    // Decimals beyond the minor units, short or long.
    assert!(amount_refused(&error(doc(&ntry("EUR", "1.001", "")))));
    // 37 characters: rust_decimal would round it to 2.00.
    let e = error(doc(&ntry("EUR", &format!("1.{}", "9".repeat(35)), "")));
    assert!(amount_refused(&e), "{e}");
    let e = error(doc(&ntry("EUR", &format!("1.{}", "9".repeat(60)), "")));
    assert!(e.to_string().contains("longer than 40 characters"), "{e}");
    // Not xs:decimal, though rust_decimal would read them.
    for bad in ["1_000", "1e3", ".", "+", "1.2.3", "0x10"] {
        let e = error(doc(&ntry("EUR", bad, "")));
        assert!(e.to_string().contains("is not a decimal number"), "{bad}: {e}");
    }
    // 60,000 leading zeros overflowed the parser's stack in a test thread (an abort, not a panic).
    let e = error(doc(&ntry("EUR", &format!("{}1", "0".repeat(60_000)), "")));
    assert!(matches!(&e, ParseError::Field { .. }), "{e}");
    assert_eq!(payments(doc(&ntry("EUR", "+0001.50", "")))[0].amount.to_string(), "1.50 EUR");
    // The largest amounts that fit are kept exactly.
    let p = payments(doc(&ntry("EUR", "1234567890123456789012345.67", "")));
    assert_eq!(p[0].amount.to_string(), "1234567890123456789012345.67 EUR");
    let p = payments(doc(&ntry("JPY", DECIMAL_MAX, "")));
    assert_eq!(p[0].amount.to_string(), format!("{DECIMAL_MAX} JPY"));
}

// Case 2: markup that made the reader quadratic or unbounded.

#[test]
fn many_attributes_are_refused_without_the_quadratic_duplicate_check() {
    let attrs: String = (0..40).map(|i| format!(" a{i}=\"\"")).collect();
    let e = error(doc(&ntry("EUR", "1", &format!("<AddtlNtryInf{attrs}>x</AddtlNtryInf>"))));
    assert!(is_limit(&e, "attributes on one XML element"), "{e}");
    // On an amount, whose attributes are read: 33 is past the bound.
    let attrs: String = (0..33).map(|i| format!(" a{i}=\"\"")).collect();
    let e =
        error(doc(&ntry("EUR", "1", "").replace("<Amt Ccy=\"EUR\">", &format!("<Amt Ccy=\"EUR\"{attrs}>"))));
    assert!(is_limit(&e, "attributes"), "{e}");
    // 100,000 of them (39 s in quick-xml's duplicate check) are refused at once as a tag too long.
    let attrs: String = (0..100_000).map(|i| format!(" a{i}=\"\"")).collect();
    let e =
        error(doc(&ntry("EUR", "1", "").replace("<Amt Ccy=\"EUR\">", &format!("<Amt Ccy=\"EUR\"{attrs}>"))));
    assert!(is_limit(&e, "XML tag length"), "{e}");
}

#[test]
fn a_few_attributes_still_read() {
    let attrs: String = (0..10).map(|i| format!(" a{i}=\"\"")).collect();
    let xml = doc(&ntry("EUR", "1", "").replace("<Amt Ccy=\"EUR\">", &format!("<Amt{attrs} Ccy=\"EUR\">")));
    assert_eq!(payments(xml)[0].amount.to_string(), "1.00 EUR");
    let dup = doc(&ntry("EUR", "1", "").replace("<Amt Ccy=\"EUR\">", "<Amt Ccy=\"EUR\" Ccy=\"USD\">"));
    assert!(error(dup).to_string().contains("malformed XML attribute"));
}

#[test]
fn long_tags_and_deep_nesting_are_refused() {
    let long = format!("<AddtlNtryInf note=\"{}\">x</AddtlNtryInf>", "n".repeat(20_000));
    let e = error(doc(&ntry("EUR", "1", &long)));
    assert!(is_limit(&e, "XML tag length"), "{e}");
    // A tag that never closes, 10 MB long.
    let open = format!("{}<AddtlNtryInf note=\"{}", ntry("EUR", "1", ""), "n".repeat(10 << 20));
    let e = error(doc(&open));
    assert!(is_limit(&e, "XML tag length"), "{e}");
    let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
    let e = error(doc(&ntry("EUR", "1", &deep)));
    assert!(is_limit(&e, "XML element depth"), "{e}");
    let fine = format!("{}{}", "<a>".repeat(40), "</a>".repeat(40));
    assert_eq!(payments(doc(&ntry("EUR", "1", &fine))).len(), 1);
}

#[test]
fn long_text_without_markup_is_refused_not_rescanned() {
    // 20 MB without a `<`: the window used to search all of it again on every refill.
    let e = error(with_name(&"x".repeat(20 << 20)));
    assert!(is_limit(&e, "XML text length"), "{e}");
    // Text longer than a field inside one window, in an element not read, is refused too.
    let e = error(doc(&ntry("EUR", "1", &format!("<AddtlNtryInf>{}</AddtlNtryInf>", "y".repeat(100_000)))));
    assert!(is_limit(&e, "XML text length"), "{e}");
    // Split by comments, a read field still counts whole.
    let piece = "z".repeat(40_000);
    let e = error(with_name(&format!("{piece}<!-- -->{piece}")));
    assert!(is_limit(&e, "XML text length"), "{e}");
    // A comment that never ends.
    let e = error(doc(&format!("{}<!-- {}", ntry("EUR", "1", ""), "c<".repeat(1 << 20))));
    assert!(is_limit(&e, "comment"), "{e}");
    // Just under the bound reads.
    let name = "w".repeat(60_000);
    assert_eq!(payments(with_name(&name))[0].payer_name.as_deref(), Some(name.as_str()));
}

#[test]
fn control_characters_in_text_are_a_field_error() {
    for name in ["A\u{1}B", "A&#1;B", "\u{b}Smith", "Smith\u{1b}[31m", "&#x1F;X"] {
        let e = error(with_name(name));
        assert!(matches!(&e, ParseError::Field { field, .. } if field == "Nm"), "{name:?}: {e}");
        assert!(e.to_string().contains("control character U+"), "{e}");
    }
    // Tab, CR and LF are XML whitespace: kept inside, trimmed at the ends.
    let p = payments(with_name("\tA\tB\r\nC "));
    assert_eq!(p[0].payer_name.as_deref(), Some("A\tB\r\nC"));
}

// Case 6: errors quote at most what `shown` gives.

#[test]
fn errors_never_quote_a_whole_field() {
    let big = "X".repeat(60_000);
    let digits = "9".repeat(60_000);
    let name = "N".repeat(10_000);
    let cases = [
        doc(&ntry("EUR", "1", "").replace("<CdtDbtInd>CRDT", &format!("<CdtDbtInd>{big}"))),
        doc(&ntry("EUR", &digits, "")),
        doc(&ntry("EUR", &format!("0{}", "0".repeat(60_000)), "")),
        doc(&ntry("EUR", "1", "")
            .replace("<Amt Ccy=\"EUR\">", &format!("<Amt Ccy=\"{}\">", "Q".repeat(10_000)))),
        doc(&ntry("EUR", "1", &format!("<{name}></{name}x>"))),
        with_name(&format!("&{};", "e".repeat(10_000))),
        doc(&ntry("EUR", "1", "").replace("<Amt Ccy=\"EUR\">", "<Amt>").replace(">1<", &format!(">{big}<"))),
    ];
    for xml in cases {
        let e = error(&xml).to_string();
        assert!(e.len() < 500, "{} bytes: {}", e.len(), &e[..e.len().min(300)]);
        assert!(e.contains('…'), "the value is cut, and says so: {e}");
    }
}

#[test]
fn warnings_never_quote_a_whole_field() {
    // A date no calendar has is a warning of the record (issue 13), quoted cut.
    let xml = doc(&ntry("EUR", "1", "").replace("<Dt>2026-11-20", &format!("<Dt>{}", "X".repeat(60_000))))
        .replace("<MsgId>M1</MsgId>", "<MsgId>M1</MsgId><CreDtTm>2026-11-20T08:00:00</CreDtTm>");
    let w = payments(&xml)[0].warnings.join("\n");
    assert!(w.len() < 500 && w.contains('…') && w.contains("not a calendar date"), "{w}");

    let big = "7".repeat(60_000);
    let d = format!(
        "<NtryDtls><Btch><NbOfTxs>{big}</NbOfTxs></Btch>{}</NtryDtls>",
        tx(
            "EUR",
            "1",
            &format!(
                "<RltdPties><DbtrAcct><Id><IBAN>DE{big}</IBAN></Id></DbtrAcct></RltdPties>\
                 <RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>RF{big}</Ref></CdtrRefInf></Strd></RmtInf>"
            )
        )
    );
    let p = payments(doc(&ntry("EUR", "1", &d).replace("BOOK", &big)));
    assert!(p[0].warnings.len() >= 4, "{:?}", p[0].warnings);
    for w in &p[0].warnings {
        assert!(w.len() < 300, "{} bytes: {}", w.len(), &w[..300]);
    }
}

#[test]
fn end_tag_errors_name_both_tags_cut() {
    let name = "N".repeat(10_000);
    let e = error(doc(&ntry("EUR", "1", &format!("<{name}></{name}x>")))).to_string();
    assert!(e.contains("expected `</NNNN") && e.contains("…>`, but `</NNNN"), "{e}");
    assert!(e.len() < 500, "{e}");
    let e = error(doc(&ntry("EUR", "1", "<AddtlNtryInf></Other>"))).to_string();
    assert!(e.contains("expected `</AddtlNtryInf>`, but `</Other>` was found"), "{e}");
}
