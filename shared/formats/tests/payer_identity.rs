//! Who paid, per format and record kind: one test per row of the table "Who paid: payer identity
//! per format" in `shared/formats/README.md`. Every input is built here from the format's own
//! field definitions (positions, elements, sub-fields, columns), never with the crate's
//! generators, so a reader that takes the wrong party's fields fails here.

use remit_domain::{Direction, FileId, PayerAccount, Payment};
use remit_formats::{open_as, Format, SourceContext};

fn ctx(name: &str) -> SourceContext {
    SourceContext { file_id: FileId::of_bytes(name.as_bytes()), file_name: name.into() }
}

fn read(format: Format, bytes: &[u8]) -> Vec<Payment> {
    open_as(format, ctx("payer-identity"), bytes).collect::<Result<_, _>>().unwrap_or_else(|e| panic!("{e}"))
}

fn other<'a>(p: &'a Payment, key: &str) -> Option<&'a str> {
    p.references.other.iter().find(|(k, _)| k == key).map(|(_, v)| v.expose())
}

fn canadian(institution: &str, transit: &str, account: &str) -> Option<PayerAccount> {
    Some(PayerAccount::Canadian {
        institution: institution.into(),
        transit: transit.into(),
        account: account.into(),
    })
}

// ---- CPA Standard 005 --------------------------------------------------------------------

/// Writes `text` at 1-based position `from`, as the standard numbers positions.
fn put(record: &mut [u8], from: usize, text: &[u8]) {
    record[from - 1..from - 1 + text.len()].copy_from_slice(text);
}

/// One 240-byte segment, field by field as the standard defines it (positions from the
/// segment's start).
#[derive(Default)]
struct Segment<'a> {
    amount: &'a [u8],
    trace: &'a [u8],
    institution: &'a [u8],
    account: &'a [u8],
    short_name: &'a [u8],
    payee_payor_name: &'a [u8],
    long_name: &'a [u8],
    cross_reference: &'a [u8],
    return_institution: &'a [u8],
    return_account: &'a [u8],
    original_trace: &'a [u8],
}

impl Segment<'_> {
    fn bytes(&self) -> Vec<u8> {
        let mut s = vec![b' '; 240];
        put(&mut s, 1, b"450"); // 1-3 transaction type
        put(&mut s, 4, self.amount); // 4-13 amount, in cents
        put(&mut s, 14, b"026073"); // 14-19 date funds to be available, 0YYDDD
        put(&mut s, 20, self.institution); // 20-28 institution id of the payee (credit) / payor (debit)
        put(&mut s, 29, self.account); // 29-40 payee's (credit) / payor's (debit) account no.
        put(&mut s, 41, self.trace); // 41-62 item trace no.
        put(&mut s, 63, b"000"); // 63-65 stored transaction type
        put(&mut s, 66, self.short_name); // 66-80 originator's short name
        put(&mut s, 81, self.payee_payor_name); // 81-110 payee name (credit) / payor name (debit)
        put(&mut s, 111, self.long_name); // 111-140 originator's long name
        put(&mut s, 151, self.cross_reference); // 151-169 originator's cross-reference no.
        put(&mut s, 170, self.return_institution); // 170-178 institution id for returns
        put(&mut s, 179, self.return_account); // 179-190 account no. for returns
        put(&mut s, 206, self.original_trace); // 206-227 original item's trace no. (E, F, I, J)
        s
    }
}

/// A file of one detail record of logical record type `kind` holding `segment`, between an A
/// header and a Z trailer whose totals count it where the standard does: C and I with the
/// credits (47-68), D and J with the debits (25-46), E at 69-90, F at 91-112.
fn cpa005_file(kind: u8, segment: &Segment) -> Vec<u8> {
    let mut a = vec![b' '; 1464];
    put(&mut a, 1, b"A"); // 1 logical record type
    put(&mut a, 2, b"000000001"); // 2-10 logical record count
    put(&mut a, 11, b"0002654321"); // 11-20 originator's id
    put(&mut a, 21, b"0007"); // 21-24 file creation no.
    put(&mut a, 25, b"026074"); // 25-30 creation date, 0YYDDD
    put(&mut a, 31, b"00310"); // 31-35 destination data centre
    put(&mut a, 56, b"CAD"); // 56-58 currency code

    let mut d = vec![b' '; 1464];
    put(&mut d, 1, &[kind]); // 1 logical record type
    put(&mut d, 2, b"000000002"); // 2-10 logical record count
    put(&mut d, 11, b"00026543210007"); // 11-24 originator's id + file creation no.
    put(&mut d, 25, &segment.bytes()); // 25-264 first segment

    let mut z = vec![b' '; 1464];
    put(&mut z, 1, b"Z"); // 1 logical record type
    put(&mut z, 2, b"000000003"); // 2-10 logical record count, A and Z included
    put(&mut z, 11, b"00026543210007"); // 11-24 originator's id + file creation no.
    put(&mut z, 25, &[b'0'; 88]); // 25-112 every total zero, then this record's
    let total = match kind {
        b'D' | b'J' => 25, // 25-38 total value of debits, 39-46 their number
        b'C' | b'I' => 47, // 47-60 total value of credits, 61-68 their number
        b'E' => 69,        // 69-82 total value of credit reversals, 83-90 their number
        _ => 91,           // 91-104 total value of debit reversals, 105-112 their number
    };
    put(&mut z, total + 4, segment.amount); // the 14-digit value, right-aligned
    put(&mut z, total + 21, b"1"); // the 8-digit number, right-aligned

    [a, d, z].join(&b"\r\n"[..])
}

/// A client's credit paying our card: we are the payee (81-110, 20-40); the client is the
/// originator (111-140, 66-80) with its account for returns at 170-190.
fn client_credit<'a>() -> Segment<'a> {
    Segment {
        amount: b"0000150000",
        trace: b"0002000120000000000001",
        institution: b"000100012",
        account: b"5550001",
        short_name: b"GAGNON HLDGS",
        payee_payor_name: b"AMERICAN EXPRESS CANADA",
        long_name: b"GAGNON HOLDINGS INC",
        cross_reference: b"349482199351818",
        return_institution: b"000300011",
        return_account: b"1234567",
        ..Segment::default()
    }
}

/// A pre-authorized debit we originate: the cardmember is the payor (81-110, 20-40); we are the
/// originator (111-140, 66-80, our account for returns at 170-190).
fn our_pad<'a>() -> Segment<'a> {
    Segment {
        amount: b"0000004217",
        trace: b"0001000120000000000002",
        institution: b"081530012",
        account: b"0423178",
        short_name: b"AMEX CANADA",
        payee_payor_name: b"TREMBLAY JEAN",
        long_name: b"AMERICAN EXPRESS CANADA",
        cross_reference: b"372601815908301",
        return_institution: b"000100012",
        return_account: b"5550001",
        ..Segment::default()
    }
}

/// The payer of a credit-family segment is the originator, and we (the payee) are kept aside.
fn assert_originator_paid(p: &Payment, kind: &str) {
    assert_eq!(p.payer_name.as_deref(), Some("GAGNON HOLDINGS INC"), "{kind}");
    assert_eq!(p.payer_account, canadian("003", "00011", "1234567"), "{kind}");
    assert_eq!(other(p, "record_type"), Some(kind));
    assert_eq!(other(p, "originator_short_name"), Some("GAGNON HLDGS"));
    assert_eq!(other(p, "payee_name"), Some("AMERICAN EXPRESS CANADA"));
    assert_eq!(other(p, "payee_account"), Some("001-00012/5550001"));
    assert_eq!(p.references.cross_reference.as_ref().map(|r| r.expose()), Some("349482199351818"));
    assert!(p.warnings.iter().all(|w| !w.contains("institution")), "{:?}", p.warnings);
}

/// The payer of a debit-family segment is the payor, and we (the originator) are kept aside.
fn assert_payor_paid(p: &Payment, kind: &str) {
    assert_eq!(p.payer_name.as_deref(), Some("TREMBLAY JEAN"), "{kind}");
    assert_eq!(p.payer_account, canadian("815", "30012", "0423178"), "{kind}");
    assert_eq!(other(p, "record_type"), Some(kind));
    assert_eq!(other(p, "originator_long_name"), Some("AMERICAN EXPRESS CANADA"));
    assert_eq!(other(p, "payee_name"), None);
}

#[test]
fn payer_identity_cpa005_credit() {
    let p = read(Format::Cpa005, &cpa005_file(b'C', &client_credit()));
    assert_eq!((p[0].direction, p[0].reversal), (Direction::Credit, false));
    assert_originator_paid(&p[0], "C");

    // The long name blank: the short name names the payer; no account for returns, no account
    // and no warning.
    let bare = Segment { long_name: b"", return_institution: b"", return_account: b"", ..client_credit() };
    let p = read(Format::Cpa005, &cpa005_file(b'C', &bare));
    assert_eq!(p[0].payer_name.as_deref(), Some("GAGNON HLDGS"));
    assert_eq!(p[0].payer_account, None);
    assert!(p[0].warnings.is_empty(), "{:?}", p[0].warnings);
}

#[test]
fn payer_identity_cpa005_debit() {
    let p = read(Format::Cpa005, &cpa005_file(b'D', &our_pad()));
    assert_eq!(p[0].direction, Direction::Debit);
    assert_payor_paid(&p[0], "D");
}

#[test]
fn payer_identity_cpa005_credit_reversal() {
    let e = Segment { original_trace: b"0002000120000000000001", ..client_credit() };
    let p = read(Format::Cpa005, &cpa005_file(b'E', &e));
    assert!(p[0].reversal);
    assert_originator_paid(&p[0], "E");
}

#[test]
fn payer_identity_cpa005_debit_reversal() {
    let f = Segment { original_trace: b"0001000120000000000002", ..our_pad() };
    let p = read(Format::Cpa005, &cpa005_file(b'F', &f));
    assert!(p[0].reversal);
    assert_payor_paid(&p[0], "F");
}

#[test]
fn payer_identity_cpa005_returned_credit() {
    let i = Segment { original_trace: b"0002000120000000000001", ..client_credit() };
    let p = read(Format::Cpa005, &cpa005_file(b'I', &i));
    assert_eq!((p[0].direction, p[0].reversal), (Direction::Debit, true));
    assert_originator_paid(&p[0], "I");
}

#[test]
fn payer_identity_cpa005_returned_debit() {
    let j = Segment { original_trace: b"0001000120000000000002", ..our_pad() };
    let p = read(Format::Cpa005, &cpa005_file(b'J', &j));
    assert_eq!((p[0].direction, p[0].reversal), (Direction::Credit, true));
    assert_payor_paid(&p[0], "J");
}

// ---- ISO 20022 camt.054 ------------------------------------------------------------------

/// Our account, the notification's `Acct`.
const OUR_IBAN: &str = "DE89370400440532013000";
const THEIR_IBAN: &str = "FR1420041010050500013M02606";

/// A camt.054.001.08 notification of one entry, `CdtDbtInd` `dir` and `RvslInd` `reversal`,
/// with one `TxDtls` whose `RltdPties` are `debtor` and `creditor` (`Nm`, ultimate `Nm`, IBAN).
fn camt(dir: &str, reversal: bool, debtor: [&str; 3], creditor: [&str; 3]) -> Vec<u8> {
    let [d_nm, ud_nm, d_iban] = debtor;
    let [c_nm, uc_nm, c_iban] = creditor;
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn>
<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-20T10:00:00</CreDtTm></GrpHdr>
<Ntfctn><Id>N1</Id><Acct><Id><IBAN>{OUR_IBAN}</IBAN></Id></Acct>
<Ntry><Amt Ccy="EUR">80.00</Amt><CdtDbtInd>{dir}</CdtDbtInd><RvslInd>{reversal}</RvslInd>
<Sts><Cd>BOOK</Cd></Sts><ValDt><Dt>2026-11-20</Dt></ValDt><AcctSvcrRef>ASR1</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><EndToEndId>E2E-1</EndToEndId></Refs><Amt Ccy="EUR">80.00</Amt>
<RltdPties>
<Dbtr><Pty><Nm>{d_nm}</Nm></Pty></Dbtr><DbtrAcct><Id><IBAN>{d_iban}</IBAN></Id></DbtrAcct>
<UltmtDbtr><Pty><Nm>{ud_nm}</Nm></Pty></UltmtDbtr>
<Cdtr><Pty><Nm>{c_nm}</Nm></Pty></Cdtr><CdtrAcct><Id><IBAN>{c_iban}</IBAN></Id></CdtrAcct>
<UltmtCdtr><Pty><Nm>{uc_nm}</Nm></Pty></UltmtCdtr>
</RltdPties><RmtInf><Ustrd>AMEX 3765 632122 33079</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"#
    )
    .into_bytes()
}

const US: [&str; 3] = ["American Express Europe S.A.", "American Express Group", OUR_IBAN];
const THEM: [&str; 3] = ["Rossi Costruzioni S.r.l.", "Luca Rossi", THEIR_IBAN];

/// CRDT credits our account: the debtor paid (`Dbtr`, `UltmtDbtr`, `DbtrAcct`); the creditor is us.
#[test]
fn payer_identity_camt_crdt() {
    let p = read(Format::Camt054, &camt("CRDT", false, THEM, US));
    assert_eq!(p[0].payer_name.as_deref(), Some("Rossi Costruzioni S.r.l."));
    assert_eq!(p[0].payer_account.as_ref().map(ToString::to_string).as_deref(), Some(THEIR_IBAN));
    assert_eq!(other(&p[0], "ultimate_debtor"), Some("Luca Rossi"));
    assert_eq!(other(&p[0], "creditor_name"), Some("American Express Europe S.A."));
    assert_eq!(other(&p[0], "creditor_ultimate"), Some("American Express Group"));
    assert_eq!(other(&p[0], "creditor_account"), Some(OUR_IBAN));
}

/// DBIT debits our account (a refund we pay out): the counterparty is the creditor; the debtor
/// is us and never payer evidence.
#[test]
fn payer_identity_camt_dbit() {
    let p = read(Format::Camt054, &camt("DBIT", false, US, THEM));
    assert_eq!(p[0].direction, Direction::Debit);
    assert_eq!(p[0].payer_name.as_deref(), Some("Rossi Costruzioni S.r.l."));
    assert_eq!(p[0].payer_account.as_ref().map(ToString::to_string).as_deref(), Some(THEIR_IBAN));
    assert_eq!(other(&p[0], "ultimate_creditor"), Some("Luca Rossi"));
    assert_eq!(other(&p[0], "ultimate_debtor"), None, "our ultimate debtor is not the payer's");
    assert_eq!(other(&p[0], "debtor_name"), Some("American Express Europe S.A."));
    assert_eq!(other(&p[0], "debtor_ultimate"), Some("American Express Group"));
    assert_eq!(other(&p[0], "debtor_account"), Some(OUR_IBAN));
}

/// A reversal is read by its CdtDbtInd, which already gives the way the reversal moves the
/// money: a recalled credit (DBIT, RvslInd) goes back to its creditor; a returned debit (CRDT,
/// RvslInd) comes back from its debtor.
#[test]
fn payer_identity_camt_reversal() {
    let p = read(Format::Camt054, &camt("DBIT", true, US, THEM));
    assert!(p[0].reversal && p[0].direction == Direction::Debit);
    assert_eq!(p[0].payer_name.as_deref(), Some("Rossi Costruzioni S.r.l."));
    assert_eq!(p[0].payer_account.as_ref().map(ToString::to_string).as_deref(), Some(THEIR_IBAN));
    assert_eq!(other(&p[0], "debtor_name"), Some("American Express Europe S.A."));

    let p = read(Format::Camt054, &camt("CRDT", true, THEM, US));
    assert!(p[0].reversal && p[0].direction == Direction::Credit);
    assert_eq!(p[0].payer_name.as_deref(), Some("Rossi Costruzioni S.r.l."));
    assert_eq!(other(&p[0], "creditor_name"), Some("American Express Europe S.A."));
}

// ---- SWIFT MT940 -------------------------------------------------------------------------

/// A statement of our account with one `:61:` line of mark `mark` and a structured `:86:` whose
/// `?30` (BIC / bank code), `?31` (account / IBAN) and `?32`-`?33` (name) name the other party of
/// the line: the ordering party (Auftraggeber) of a credit, the payee (Zahlungsempfänger) of a
/// debit, the original's of a reversal.
fn mt940(mark: &str, opening: &str, closing: &str) -> Vec<u8> {
    format!(
        ":20:STMT1\r\n:25:{OUR_IBAN}\r\n:28C:7/1\r\n:60F:C260301EUR{opening}\r\n\
         :61:2603020302{mark}80,00NTRFNONREF//BK1\r\n\
         :86:166?00SEPA GUTSCHRIFT?20EREF+E2E-1?21SVWZ+AMEX 3765 632122 33079\r\n\
         ?30BNPAFRPP?31{THEIR_IBAN}?32ROSSI COSTRUZIONI S.R.\r\n?33L.\r\n\
         :62F:C260302EUR{closing}\r\n-\r\n"
    )
    .into_bytes()
}

fn assert_other_party_paid(p: &Payment) {
    assert_eq!(p.payer_name.as_deref(), Some("ROSSI COSTRUZIONI S.R.L."), "?32 and ?33 joined");
    assert_eq!(p.payer_account.as_ref().map(ToString::to_string).as_deref(), Some(THEIR_IBAN));
    assert_eq!(other(p, "payer_bank"), Some("BNPAFRPP"));
    assert_eq!(p.references.end_to_end_id.as_ref().map(|r| r.expose()), Some("E2E-1"));
}

#[test]
fn payer_identity_mt940_credit() {
    let p = read(Format::Mt940, &mt940("C", "100,00", "180,00"));
    assert_eq!((p[0].direction, p[0].reversal), (Direction::Credit, false));
    assert_other_party_paid(&p[0]);
}

#[test]
fn payer_identity_mt940_debit() {
    let p = read(Format::Mt940, &mt940("D", "100,00", "20,00"));
    assert_eq!((p[0].direction, p[0].reversal), (Direction::Debit, false));
    assert_other_party_paid(&p[0]);
}

#[test]
fn payer_identity_mt940_reversal_of_credit() {
    let p = read(Format::Mt940, &mt940("RC", "100,00", "20,00"));
    assert_eq!((p[0].direction, p[0].reversal), (Direction::Debit, true));
    assert_other_party_paid(&p[0]);
}

#[test]
fn payer_identity_mt940_reversal_of_debit() {
    let p = read(Format::Mt940, &mt940("RD", "100,00", "180,00"));
    assert_eq!((p[0].direction, p[0].reversal), (Direction::Credit, true));
    assert_other_party_paid(&p[0]);
}

// ---- India e-collect ---------------------------------------------------------------------

/// The remitter is the payer; the beneficiary (our collection account, named by its virtual
/// account) is not read as a party.
fn assert_remitter_paid(p: &Payment) {
    assert_eq!(p.payer_name.as_deref(), Some("Priya Venkataraman"));
    assert_eq!(
        p.payer_account.as_ref().map(ToString::to_string).as_deref(),
        Some("50100234567890@HDFC0001234")
    );
    assert_eq!(p.references.virtual_account.as_ref().map(|r| r.expose()), Some("AMEX0100012345"));
    assert_eq!(p.references.utr.as_ref().map(ToString::to_string).as_deref(), Some("HDFCN26325012345"));
    let texts: Vec<&str> = p.references.texts().map(|t| t.expose()).collect();
    assert!(texts.iter().all(|t| !t.contains("AMERICAN EXPRESS")), "the beneficiary is us: {texts:?}");
}

#[test]
fn payer_identity_india_csv() {
    let csv = "UTR No,Virtual Account No,Beneficiary Name,Remitter Name,Remitter A/c No,Remitter IFSC,\
               Credit Amount,Value Date,Mode\r\n\
               HDFCN26325012345,AMEX0100012345,AMERICAN EXPRESS BANKING CORP,Priya Venkataraman,\
               50100234567890,HDFC0001234,\"45,000.00\",21/11/2026,NEFT\r\n";
    let p = read(Format::IndiaCsv, csv.as_bytes());
    assert_remitter_paid(&p[0]);
}

#[test]
fn payer_identity_india_json() {
    let json = r#"{"GenericCorporateAlertRequest": [{
        "User Reference Number": "HDFCN26325012345", "Virtual Account": "AMEX0100012345",
        "Beneficiary Name": "AMERICAN EXPRESS BANKING CORP", "Remitter Name": "Priya Venkataraman",
        "Remitter Account": "50100234567890", "Remitter IFSC": "HDFC0001234",
        "Transaction Amount": "45000.00", "Value Date": "2026-11-21", "Mode": "NEFT"}]}"#;
    let p = read(Format::IndiaJson, json.as_bytes());
    assert_remitter_paid(&p[0]);
}

// ---- Bank profiles -----------------------------------------------------------------------

/// Only the fields a profile names `payer_*` make the payer, in detail records only; a header
/// field (here the biller: us) never does, and another party's detail field is a reference.
#[test]
fn payer_identity_profile() {
    let profile = r#"
[profile]
name = "payer-roles"
market = "CA"
layout = "fixed-width"
currency = "CAD"
source_bank = "TEST"

[fixed_width]
record_length = 80
framing = "lines"
record_type = { start = 1, end = 1 }

[header]
code = "H"
fields.file_date   = { start = 2, end = 9, type = "date", format = "YYYYMMDD" }
fields.biller_name = { start = 10, end = 39 }

[detail]
code = "D"
fields.amount            = { start = 2, end = 11, type = "amount", implied_decimals = 2 }
fields.bank_ref          = { start = 12, end = 21 }
fields.payer_name        = { start = 22, end = 41 }
fields.payer_institution = { start = 42, end = 44 }
fields.payer_transit     = { start = 45, end = 49 }
fields.payer_account     = { start = 50, end = 61 }
fields.payee_name        = { start = 62, end = 80 }
"#;
    let profile = remit_formats::profile::Profile::from_toml("payer-roles.toml", profile).unwrap();
    let mut h = vec![b' '; 80];
    put(&mut h, 1, b"H");
    put(&mut h, 2, b"20260316");
    put(&mut h, 10, b"AMERICAN EXPRESS CANADA");
    let mut d = vec![b' '; 80];
    put(&mut d, 1, b"D");
    put(&mut d, 2, b"0000150000");
    put(&mut d, 12, b"TR00000001");
    put(&mut d, 22, b"GAGNON HOLDINGS INC");
    put(&mut d, 42, b"003");
    put(&mut d, 45, b"00011");
    put(&mut d, 50, b"1234567");
    put(&mut d, 62, b"AMEX CANADA");
    let bytes = [h, d].join(&b"\r\n"[..]);
    let p: Vec<Payment> = profile
        .open(ctx("payer-roles"), &bytes[..])
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p[0].payer_name.as_deref(), Some("GAGNON HOLDINGS INC"));
    assert_eq!(p[0].payer_account, canadian("003", "00011", "1234567"));
    assert_eq!(other(&p[0], "payee_name"), Some("AMEX CANADA"));
    assert!(
        p[0].references.texts().all(|t| t.expose() != "AMERICAN EXPRESS CANADA"),
        "the header's biller is not read"
    );
}
