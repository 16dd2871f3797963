//! Structure-aware fuzz inputs: the fuzzer's bytes are read as a sequence of choices (which
//! value from which pool, how many records, which line end), and each format's writer builds a
//! near-valid file from them: the right records in the right order, control totals that add
//! up, but fields drawn from the hostile cases of issue 17 (amounts near `Decimal::MAX`, fields
//! past the length limits, CR-only line ends, NUL and escape characters, deep nesting, many
//! attributes, gzip of two members). Random bytes rarely get past a reader's first record;
//! these get to the totals, the balances and the limits.
//!
//! The first byte picks a theme, so that a seed can aim at one case (`fuzz/make_seeds.py`
//! writes one seed per theme). Plain `std` plus the readers' own dependencies, so that
//! `shared/formats/tests/fuzz_structured.rs` can include this file and replay the committed
//! seeds under `cargo test`.

use std::io::Write;
use std::str::FromStr;

use remit_formats::{Format, SourceContext};
use rust_decimal::Decimal;

/// The choices in a fuzz input, read from the front; an input that runs out reads as zeros.
pub struct Choices<'a> {
    data: &'a [u8],
    at: usize,
    theme: Theme,
}

/// What a file aims at (the input's first byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    /// Everyday values: the file should read.
    Plain,
    /// Amounts near `Decimal::MAX`, too many digits, above any real payment.
    BigAmounts,
    /// Fields and lines past the 64 KiB limits.
    LongFields,
    /// CR-only, LF, CRLF and mixed line ends.
    LineEnds,
    /// NUL, escape, DEL and C1 characters in text fields.
    Controls,
    /// Deep nesting, many attributes, blank-line runs, records out of place.
    Structure,
    /// Gzip, gzip of two members, gzip of gzip.
    Wrapped,
    /// Every pool at once.
    Anything,
}

const THEMES: [Theme; 8] = [
    Theme::Plain,
    Theme::BigAmounts,
    Theme::LongFields,
    Theme::LineEnds,
    Theme::Controls,
    Theme::Structure,
    Theme::Wrapped,
    Theme::Anything,
];

impl<'a> Choices<'a> {
    /// Reads `data`: its first byte is the theme.
    pub fn new(data: &'a [u8]) -> Self {
        let theme = THEMES[usize::from(data.first().copied().unwrap_or(0)) % THEMES.len()];
        Self { data, at: 1, theme }
    }

    /// The theme the input aims at.
    pub fn theme(&self) -> Theme {
        self.theme
    }

    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    /// A number in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        match n {
            0 | 1 => 0,
            2..=256 => usize::from(self.byte()) % n,
            _ => (usize::from(self.byte()) << 8 | usize::from(self.byte())) % n,
        }
    }

    /// True with probability `k` in 256.
    fn chance(&mut self, k: u8) -> bool {
        self.byte() < k
    }

    fn pick<T: Copy>(&mut self, pool: &[T]) -> T {
        pool[self.below(pool.len())]
    }

    /// An odd value where a usual one stands (a wrong currency, a zero amount): rare in plain
    /// files, now and then in the others.
    fn odd(&mut self) -> bool {
        self.chance(if self.theme == Theme::Plain { 2 } else { 24 })
    }

    /// True when the theme is `t` or anything goes; otherwise now and then (1 in 16).
    fn aims(&mut self, t: Theme) -> bool {
        self.theme == t || self.theme == Theme::Anything || self.chance(16)
    }
}

/// Amounts a payment should carry.
const AMOUNTS: [&str; 8] = ["1.00", "150.00", "45000.00", "0.01", "9999999.99", "225", "1500.5", "123456.78"];

/// Amounts of issue 17: `Decimal::MAX`, the largest two-decimal amount, a 28-digit amount whose
/// decimals do not fit, one above `limits.max_payment`, more digits than a decimal holds, and
/// shapes a reader should refuse.
const BIG_AMOUNTS: [&str; 14] = [
    "79228162514264337593543950335",
    "792281625142643375935439503.35",
    "1234567890123456789012345678",
    "10000000000.01",
    "99999999999999999999999999999999",
    "0.0000000000000000000000000000001",
    "1e30",
    "-5.00",
    "0",
    "00000000000000000000000000000001.00",
    ".5",
    "5.",
    "1.005",
    "NaN",
];

/// Names and references as banks write them.
const TEXTS: [&str; 8] = [
    "Priya Venkataraman",
    "Côté Marie-Ève",
    "3782 822463 10005",
    "RF06AMX4412001",
    "AMEX CARD PAYMENT NOV 2026",
    "Sophie Müller",
    "INV-20261121",
    "",
];

/// Characters a text field must not carry silently.
const CONTROLS: [&str; 9] =
    ["\0", "\u{1b}[31m", "\r", "\n", "\t", "\u{7f}", "\u{85}", "\u{1b}]0;x\u{7}", "\u{0}\u{0}"];

/// Lengths around the field and line limits (64 KiB).
const LONG: [usize; 5] = [100, 4096, 65_535, 65_537, 70_000];

/// An amount: everyday, or (as the theme aims) one of issue 17's, now and then with a
/// control character or padded to a long run of digits.
fn amount(c: &mut Choices) -> String {
    if c.aims(Theme::BigAmounts) {
        return c.pick(&BIG_AMOUNTS).to_string();
    }
    if c.aims(Theme::Controls) && c.chance(64) {
        let a = c.pick(&AMOUNTS);
        let at = c.below(a.len() + 1);
        return format!("{}{}{}", &a[..at], c.pick(&CONTROLS), &a[at..]);
    }
    if c.aims(Theme::LongFields) && c.chance(32) {
        return "9".repeat(c.pick(&LONG));
    }
    c.pick(&AMOUNTS).to_string()
}

/// A text field: a bank's, or with control characters, or long.
fn text(c: &mut Choices) -> String {
    let base = c.pick(&TEXTS);
    if c.aims(Theme::Controls) && c.chance(128) {
        let at =
            base.char_indices().map(|(i, _)| i).nth(c.below(base.chars().count() + 1)).unwrap_or(base.len());
        return format!("{}{}{}", &base[..at], c.pick(&CONTROLS), &base[at..]);
    }
    if c.aims(Theme::LongFields) && c.chance(64) {
        let n = c.pick(&LONG);
        return base.chars().chain(std::iter::repeat('x')).take(n.max(base.len())).collect();
    }
    base.to_string()
}

/// The line end of the file (or, mixed, of each line).
struct Ends {
    fixed: Option<&'static str>,
}

impl Ends {
    fn new(c: &mut Choices, usual: &'static str) -> Self {
        if !c.aims(Theme::LineEnds) {
            return Self { fixed: Some(usual) };
        }
        match c.below(5) {
            0 => Self { fixed: Some("\r") },
            1 => Self { fixed: Some("\n") },
            2 => Self { fixed: Some("\r\n") },
            3 => Self { fixed: Some("") },
            _ => Self { fixed: None },
        }
    }

    fn get(&self, c: &mut Choices) -> &'static str {
        self.fixed.unwrap_or_else(|| c.pick(&["\r", "\n", "\r\n"]))
    }
}

/// The exact sum of the amounts that parse, or None when one does not or the sum overflows.
fn sum(amounts: &[String]) -> Option<Decimal> {
    amounts.iter().try_fold(Decimal::ZERO, |acc, a| acc.checked_add(Decimal::from_str(a).ok()?))
}

/// A total as a trailer writes it: the true sum, or (now and then) another amount.
fn total(c: &mut Choices, amounts: &[String]) -> String {
    match sum(amounts) {
        Some(s) if !c.odd() => s.to_string(),
        _ => amount(c),
    }
}

// India e-collect CSV --------------------------------------------------------------------------

const CSV_HEADER: &str =
    "\u{feff}Sr No,UTR No,Virtual Account No,Remitter Name,Remitter A/c No,Remitter IFSC,\
Amount (INR),Txn Date,Mode,Narration";

fn csv_field(c: &mut Choices, value: &str) -> String {
    let needs = value.contains([',', '"', '\n', '\r']);
    if needs || c.chance(64) {
        // Now and then a quote left open: near-valid.
        if c.odd() {
            return format!("\"{value}");
        }
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// An India e-collect MIS CSV: header, rows, a Total row that adds up.
pub fn india_csv(c: &mut Choices) -> Vec<u8> {
    let ends = Ends::new(c, "\n");
    let mut out = String::from(CSV_HEADER);
    out.push_str(ends.get(c));
    let rows = c.below(12);
    let mut amounts = Vec::new();
    for n in 1..=rows {
        if c.aims(Theme::Structure) && c.chance(32) {
            let blank = c.below(20_000);
            for _ in 0..blank {
                out.push_str(ends.get(c));
            }
        }
        let a = amount(c);
        let utr = if c.odd() { text(c) } else { format!("HDFCN2632501{n:04}") };
        let fields = [
            n.to_string(),
            utr,
            c.pick(&["AMEX0100012345", "AMEX0100067890", "", "AMEX01"]).to_string(),
            text(c),
            c.pick(&["50100234567890", "000401234567", ""]).to_string(),
            if c.odd() { "BAD" } else { c.pick(&["HDFC0001234", "SBIN0004567"]) }.to_string(),
            a.clone(),
            if c.odd() { c.pick(&["31-02-2026", "21/11/2026", ""]) } else { "21-11-2026" }.to_string(),
            if c.odd() { "" } else { c.pick(&["NEFT", "RTGS", "IMPS", "UPI"]) }.to_string(),
            text(c),
        ];
        let columns = if c.aims(Theme::Structure) && c.chance(16) { c.below(12) } else { fields.len() };
        let line: Vec<String> = fields.iter().take(columns).map(|f| csv_field(c, f)).collect();
        out.push_str(&line.join(","));
        out.push_str(ends.get(c));
        amounts.push(a);
    }
    if !c.odd() {
        let t = total(c, &amounts);
        out.push_str(&format!("Total,,,,,,{},,,", csv_field(c, &t)));
        out.push_str(ends.get(c));
    }
    out.into_bytes()
}

// India e-collect JSON -------------------------------------------------------------------------

/// `text` as a JSON string: escaped, or (controls theme) with raw control characters.
fn json_string(c: &mut Choices, value: &str) -> String {
    if c.aims(Theme::Controls) && c.chance(32) {
        return format!("\"{value}\"");
    }
    serde_json_like(value)
}

fn serde_json_like(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 2);
    s.push('"');
    for ch in value.chars() {
        match ch {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c if (c as u32) < 0x20 => s.push_str(&format!("\\u{:04x}", c as u32)),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

fn nested(c: &mut Choices) -> String {
    let depth = c.pick(&[10, 63, 65, 1000, 20_000]);
    let (open, close) = if c.chance(128) { ("[", "]") } else { ("{\"a\":", "}") };
    format!("{}1{}", open.repeat(depth), close.repeat(depth))
}

/// An India e-collect alerts JSON: an array of alerts with amounts as strings or numbers.
pub fn india_json(c: &mut Choices) -> Vec<u8> {
    let ends = Ends::new(c, "\n");
    let nl = ends.get(c);
    let alerts = c.below(8);
    let mut items = Vec::new();
    for n in 0..alerts {
        let a = amount(c);
        let amount_value =
            if c.chance(96) && Decimal::from_str(&a).is_ok() { a } else { serde_json_like(&a) };
        let account = c.pick(&["AMEX0100012345", "AMEX0100067890", ""]);
        let name = text(c);
        let reference = if c.odd() { text(c) } else { format!("HDFCN2632505{n:04}") };
        let mut fields = vec![
            format!("\"Alert Sequence No\": \"{:012}\"", 104571 + n),
            format!("\"Virtual Account\": {}", serde_json_like(account)),
            "\"Account Number\": \"000405099999\"".to_string(),
            format!("\"Debit Credit\": \"{}\"", if c.odd() { "X" } else { c.pick(&["C", "D"]) }),
            format!("\"Mnemonic Code\": \"{}\"", c.pick(&["NEFT", "RTGS", "UPI"])),
            format!("\"{}\": {amount_value}", c.pick(&["Transaction Amount", "Amount"])),
            format!("\"Value Date\": \"{}\"", if c.odd() { "x" } else { "21-11-2026 10:42:17" }),
            format!("\"Remitter Name\": {}", json_string(c, &name)),
            format!("\"User Reference Number\": {}", json_string(c, &reference)),
            "\"Currency\": \"INR\"".to_string(),
        ];
        if c.aims(Theme::Structure) && c.chance(64) {
            match c.below(3) {
                0 => fields.push(format!("\"x\": {}", nested(c))),
                1 => fields.extend((0..c.below(3000)).map(|k| format!("\"k{k}\": {k}"))),
                _ => fields.push(format!("\"{}\": 1", "k".repeat(c.pick(&LONG)))),
            }
        }
        items.push(format!("{{{}}}", fields.join(&format!(",{nl} "))));
    }
    let mut out =
        format!("{{\"GenericCorporateAlertRequest\": [{nl}{}{nl}]}}", items.join(&format!(",{nl}")));
    if c.aims(Theme::Structure) && c.chance(16) {
        let mut cut = c.below(out.len() + 1);
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out.push_str(nl);
    out.into_bytes()
}

// MT940 ----------------------------------------------------------------------------------------

/// An amount as MT940 writes it: comma for the decimal point.
fn swift(a: &str) -> String {
    a.replacen('.', ",", 1)
}

/// An MT940 file: statements whose closing balance is the opening plus the lines.
pub fn mt940(c: &mut Choices) -> Vec<u8> {
    let ends = Ends::new(c, "\r\n");
    let mut out = String::new();
    let statements = 1 + c.below(3);
    for s in 0..statements {
        let blocks = c.chance(128);
        if blocks {
            out.push_str("{1:F01ABNANL2AXXXX0000000000}{2:O940ABNANL2AXXXXN}{4:");
            out.push_str(ends.get(c));
        }
        let line = |c: &mut Choices, out: &mut String, text: &str| {
            out.push_str(text);
            out.push_str(ends.get(c));
        };
        line(c, &mut out, &format!(":20:STMT{s}"));
        line(c, &mut out, ":25:NL91ABNA0417164300");
        line(c, &mut out, &format!(":28C:{:05}/1", s + 1));
        let opening =
            if c.aims(Theme::BigAmounts) && c.chance(64) { amount(c) } else { "1000.00".to_string() };
        line(c, &mut out, &format!(":60F:C260302EUR{}", swift(&opening)));
        let mut moves = vec![opening];
        for n in 0..c.below(6) {
            let a = amount(c);
            let mark = if c.odd() { "X" } else { c.pick(&["C", "D", "RC", "RD"]) };
            line(c, &mut out, &format!(":61:2603020302{mark}{}NTRFNONREF//BK{s}{n:04}", swift(&a)));
            if mark == "C" || mark == "RD" {
                moves.push(a);
            } else {
                moves.push(format!("-{a}"));
            }
            let info = text(c);
            if c.aims(Theme::LongFields) && c.chance(64) {
                // A long :86: as continuation lines of 65 characters, or one long line.
                let long = "X".repeat(c.pick(&LONG));
                if c.chance(128) {
                    line(c, &mut out, ":86:166?20");
                    for chunk in long.as_bytes().chunks(65) {
                        line(c, &mut out, std::str::from_utf8(chunk).unwrap_or(""));
                    }
                } else {
                    line(c, &mut out, &format!(":86:{long}"));
                }
            } else {
                let name = text(c);
                line(c, &mut out, &format!(":86:166?20{info}?32{name}"));
            }
        }
        let closing = match sum(&moves) {
            Some(t) if !c.odd() => {
                let (mark, t) = if t < Decimal::ZERO { ("D", -t) } else { ("C", t) };
                format!("{mark}260302EUR{}", swift(&format!("{:.2}", t)))
            }
            _ => format!("C260302EUR{}", swift(&amount(c))),
        };
        line(c, &mut out, &format!(":62F:{closing}"));
        out.push('-');
        if blocks {
            out.push('}');
        }
        out.push_str(ends.get(c));
    }
    latin1(&out, c)
}

/// The text as Latin-1 bytes (as MT940 files come), or as UTF-8 now and then.
fn latin1(text: &str, c: &mut Choices) -> Vec<u8> {
    if c.chance(64) {
        return text.as_bytes().to_vec();
    }
    text.chars().map(|ch| if (ch as u32) < 256 { ch as u32 as u8 } else { b'?' }).collect()
}

// camt.054 -------------------------------------------------------------------------------------

/// `value` as XML text: escaped, or (controls theme) with raw controls or character references
/// to them.
fn xml_text(c: &mut Choices, value: &str) -> String {
    let escaped = value.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    if c.aims(Theme::Controls) && c.chance(48) {
        return format!("{escaped}{}", c.pick(&["&#0;", "&#27;", "&#x1b;", "&#xD;", "\u{0}", "\u{1b}"]));
    }
    escaped
}

/// A camt.054 notification: entries with their transactions, batch totals that add up.
pub fn camt054(c: &mut Choices) -> Vec<u8> {
    let ends = Ends::new(c, "\n");
    let nl = ends.get(c);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    x.push_str(nl);
    x.push_str("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08\"><BkToCstmrDbtCdtNtfctn>");
    x.push_str(nl);
    x.push_str("<GrpHdr><MsgId>CBK-1</MsgId><CreDtTm>2026-11-23T09:15:00+01:00</CreDtTm></GrpHdr>");
    x.push_str(nl);
    x.push_str("<Ntfctn><Id>N1</Id><Acct><Id><IBAN>DE62370400440532013777</IBAN></Id><Ccy>EUR</Ccy></Acct>");
    x.push_str(nl);
    for n in 0..c.below(6) {
        let ccy = if c.odd() { c.pick(&["JPY", "XXX", "eur", ""]) } else { "EUR" };
        let txs: Vec<String> = (0..1 + c.below(3)).map(|_| amount(c)).collect();
        let entry_amount = if txs.len() > 1 { total(c, &txs) } else { txs[0].clone() };
        let attrs = if c.aims(Theme::Structure) && c.chance(48) {
            match c.below(3) {
                0 => (0..c.pick(&[31, 33, 2000])).map(|k| format!(" a{k}=\"{k}\"")).collect(),
                1 => " Ccy=\"EUR\"".repeat(1 + c.below(50)),
                _ => format!(" {}=\"1\"", "a".repeat(c.pick(&LONG))),
            }
        } else {
            String::new()
        };
        let ind = if c.odd() { "XXXX" } else { c.pick(&["CRDT", "DBIT"]) };
        x.push_str(&format!(
            "<Ntry><Amt Ccy=\"{ccy}\"{attrs}>{}</Amt><CdtDbtInd>{ind}</CdtDbtInd>",
            xml_text(c, &entry_amount)
        ));
        if c.chance(64) {
            x.push_str(&format!(
                "<RvslInd>{}</RvslInd>",
                if c.odd() { "x" } else { c.pick(&["true", "false"]) }
            ));
        }
        x.push_str(&format!(
            "<Sts><Cd>{}</Cd></Sts><BookgDt><Dt>2026-11-23</Dt></BookgDt><ValDt><Dt>2026-11-22</Dt></ValDt>\
             <AcctSvcrRef>REF{n}</AcctSvcrRef>{nl}<NtryDtls>",
            c.pick(&["BOOK", "BOOK", "PDNG"])
        ));
        if txs.len() > 1 && c.chance(128) {
            x.push_str(&format!(
                "<Btch><NbOfTxs>{}</NbOfTxs><TtlAmt Ccy=\"{ccy}\">{}</TtlAmt></Btch>",
                txs.len(),
                xml_text(c, &entry_amount)
            ));
        }
        for (k, a) in txs.iter().enumerate() {
            let name = text(c);
            let info = text(c);
            let deep = if c.aims(Theme::Structure) && c.chance(48) {
                let d = c.pick(&[63, 65, 1000, 5000]);
                if c.chance(16) {
                    format!("<{}/>", "T".repeat(c.pick(&LONG)))
                } else {
                    format!("{}{}", "<X>".repeat(d), "</X>".repeat(d))
                }
            } else {
                String::new()
            };
            x.push_str(&format!(
                "<TxDtls><Refs><EndToEndId>E2E-{n}-{k}</EndToEndId></Refs><Amt Ccy=\"{ccy}\">{}</Amt>\
                 <CdtDbtInd>{ind}</CdtDbtInd><RltdPties><Dbtr><Pty><Nm>{}</Nm></Pty></Dbtr></RltdPties>\
                 <RmtInf><Ustrd>{}</Ustrd>{deep}</RmtInf></TxDtls>{nl}",
                xml_text(c, a),
                xml_text(c, &name),
                xml_text(c, &info)
            ));
        }
        x.push_str("</NtryDtls></Ntry>");
        x.push_str(nl);
    }
    x.push_str("</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>");
    x.push_str(nl);
    if c.aims(Theme::Structure) && c.chance(16) {
        let cut = c.below(x.len() + 1);
        return x.as_bytes()[..cut].to_vec();
    }
    x.into_bytes()
}

// CPA-005 --------------------------------------------------------------------------------------

const RECORD_LEN: usize = 1464;
const SEGMENT_LEN: usize = 240;
const FIRST_SEGMENT: usize = 24;

fn put(rec: &mut [u8], at: usize, text: &[u8]) {
    let end = (at + text.len()).min(rec.len());
    if at < end {
        rec[at..end].copy_from_slice(&text[..end - at]);
    }
}

fn put_num(rec: &mut [u8], at: usize, width: usize, mut value: u64) {
    for i in (at..at + width).rev() {
        rec[i] = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// A CPA-005 file: header, credit and debit records of up to six segments, a trailer whose
/// counts and totals add up.
pub fn cpa005(c: &mut Choices) -> Vec<u8> {
    let ends = Ends::new(c, "\r\n");
    let mut out = Vec::new();
    let mut number = 1u64;
    let mut rec = vec![b' '; RECORD_LEN];
    rec[0] = b'A';
    put_num(&mut rec, 1, 9, number);
    put(&mut rec, 10, b"0003012345");
    put(&mut rec, 20, b"0042");
    put(&mut rec, 24, b"026074");
    put(&mut rec, 30, b"00310");
    put(&mut rec, 55, b"CAD");
    out.extend_from_slice(&rec[..58]);
    out.extend_from_slice(ends.get(c).as_bytes());
    let (mut credits, mut credit_cents, mut debits, mut debit_cents) = (0u64, 0u64, 0u64, 0u64);
    for _ in 0..c.below(5) {
        number += 1;
        rec.fill(b' ');
        let kind =
            if c.aims(Theme::Structure) && c.chance(32) { c.pick(b"CDEFIJAZX") } else { c.pick(b"CCD") };
        rec[0] = kind;
        put_num(&mut rec, 1, 9, number);
        put(&mut rec, 10, b"0003012345");
        put(&mut rec, 20, b"0042");
        let segments = 1 + c.below(6);
        for s in 0..segments {
            let seg = FIRST_SEGMENT + s * SEGMENT_LEN;
            let cents = if c.odd() { c.pick(&[0, 9_999_999_999]) } else { 1 + c.below(10_000_000) as u64 };
            put(&mut rec, seg, b"450");
            if c.aims(Theme::BigAmounts) && c.chance(32) {
                put(
                    &mut rec,
                    seg + 3,
                    c.pick(&[b"0000\x0012345" as &[u8], b"   1234567", b"12345678901", b"-000012345"]),
                );
            } else {
                put_num(&mut rec, seg + 3, 10, cents);
            }
            put(&mut rec, seg + 13, b"026070");
            put(&mut rec, seg + 19, b"000300011");
            put(&mut rec, seg + 28, b"1000017");
            put(&mut rec, seg + 40, b"000300011");
            put_num(&mut rec, seg + 49, 13, number * 10 + s as u64);
            let name = text(c);
            put(&mut rec, seg + 65, &name.as_bytes()[..name.len().min(15)]);
            put(&mut rec, seg + 80, b"AMERICAN EXPRESS CANADA");
            put(&mut rec, seg + 110, &name.as_bytes()[..name.len().min(30)]);
            let reference = text(c);
            put(&mut rec, seg + 150, &reference.as_bytes()[..reference.len().min(19)]);
            match kind {
                b'C' => {
                    credits += 1;
                    credit_cents += cents;
                }
                b'D' => {
                    debits += 1;
                    debit_cents += cents;
                }
                _ => {}
            }
        }
        let len = if c.aims(Theme::Structure) && c.chance(16) {
            c.below(RECORD_LEN)
        } else {
            FIRST_SEGMENT + segments * SEGMENT_LEN
        };
        out.extend_from_slice(&rec[..len]);
        out.extend_from_slice(ends.get(c).as_bytes());
    }
    if !(c.aims(Theme::Structure) && c.chance(32)) {
        number += 1;
        rec.fill(b' ');
        rec[0] = b'Z';
        put_num(&mut rec, 1, 9, number);
        put(&mut rec, 10, b"0003012345");
        put(&mut rec, 20, b"0042");
        let off = u64::from(c.odd());
        put_num(&mut rec, 24, 14, debit_cents + off);
        put_num(&mut rec, 38, 8, debits);
        put_num(&mut rec, 46, 14, credit_cents);
        put_num(&mut rec, 60, 8, credits);
        rec[68..112].fill(b'0');
        out.extend_from_slice(&rec);
        out.extend_from_slice(ends.get(c).as_bytes());
    }
    out
}

// Wrapping and reading -------------------------------------------------------------------------

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// The file as it arrives: plain, or (wrapped theme) gzipped, in two members, or twice.
fn wrap(c: &mut Choices, file: Vec<u8>) -> (Vec<u8>, bool) {
    if !(c.theme() == Theme::Wrapped || (c.theme() == Theme::Anything && c.chance(64))) {
        return (file, false);
    }
    let wrapped = match c.below(3) {
        0 => gzip(&file),
        1 => {
            let cut = c.below(file.len() + 1);
            let mut two = gzip(&file[..cut]);
            two.extend(gzip(&file[cut..]));
            two
        }
        _ => gzip(&gzip(&file)),
    };
    (wrapped, true)
}

/// The native formats a structured target writes.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    Cpa005,
    Camt054,
    Mt940,
    IndiaCsv,
    IndiaJson,
}

impl Target {
    /// The target's name: `fuzz/fuzz_targets/structured_<name>.rs`, `fuzz/corpus/structured_<name>`.
    pub const ALL: [(Target, &'static str); 5] = [
        (Target::Cpa005, "cpa005"),
        (Target::Camt054, "camt054"),
        (Target::Mt940, "mt940"),
        (Target::IndiaCsv, "india_csv"),
        (Target::IndiaJson, "india_json"),
    ];

    fn format(self) -> Format {
        match self {
            Target::Cpa005 => Format::Cpa005,
            Target::Camt054 => Format::Camt054,
            Target::Mt940 => Format::Mt940,
            Target::IndiaCsv => Format::IndiaCsv,
            Target::IndiaJson => Format::IndiaJson,
        }
    }
}

/// The file `data` describes for `target`, and whether it is wrapped (gzip).
pub fn file(target: Target, data: &[u8]) -> (Vec<u8>, bool) {
    let c = &mut Choices::new(data);
    let file = match target {
        Target::Cpa005 => cpa005(c),
        Target::Camt054 => camt054(c),
        Target::Mt940 => mt940(c),
        Target::IndiaCsv => india_csv(c),
        Target::IndiaJson => india_json(c),
    };
    wrap(c, file)
}

/// Builds the file `data` describes and reads it to the end as the validation pass would: with
/// the format's reader, or through detection when it is wrapped. Any panic is a bug.
pub fn run(target: Target, data: &[u8]) {
    let (file, wrapped) = file(target, data);
    let ctx =
        SourceContext { file_id: remit_domain::FileId::of_bytes(&file), file_name: "structured".into() };
    if wrapped {
        if let Ok((_, stream)) = remit_formats::open(ctx, &file[..]) {
            stream.for_each(drop);
        }
    } else {
        remit_formats::open_as(target.format(), ctx, &file[..]).for_each(drop);
    }
}
