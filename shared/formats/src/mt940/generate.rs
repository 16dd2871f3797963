//! Synthetic MT940 files for benchmarks and load tests: valid (every statement's balance chain
//! adds up), deterministic per seed, and written through one reused line buffer so hundreds of
//! megabytes take seconds.

use std::io::{self, BufWriter, Write};

use chrono::{Datelike, Duration, NaiveDate};

use crate::synth::Rng;

/// EU card accounts from `samples/accounts.csv` as payers write them, and their RF references.
const CARDS: [&[u8]; 5] = [
    b"3466 712768 42680",
    b"3765 632122 33079",
    b"344402685995287",
    b"3478-666617-60310",
    b"3472 159010 92813",
];
const RF_REFS: [&[u8]; 5] =
    [b"RF06AMX4412001", b"RF76AMX4412002", b"RF49AMX4412003", b"RF22AMX4412004", b"RF92AMX4412005"];

/// Payer names; accented ones are written in Windows-1252, as many German and Dutch banks do.
const NAMES: [&str; 8] = [
    "Sophie Müller",
    "Luca Rossi",
    "Anne-Sophie Dubois",
    "Jan de Vries",
    "Ewa Kowalska",
    "Jürgen Weiß GmbH",
    "Françoise Lefèvre",
    "Bäckerei Schäfer KG",
];

/// Valid IBANs (the registry examples) for `?31`.
const IBANS: [&[u8]; 6] = [
    b"DE89370400440532013000",
    b"NL91ABNA0417164300",
    b"FR1420041010050500013M02606",
    b"IT60X0542811101000000123456",
    b"BE68539007547034",
    b"PL61109010140000071219812874",
];
const BICS: [&[u8]; 4] = [b"COBADEFFXXX", b"ABNANL2A", b"BNPAFRPP", b"DEUTDEFF"];

/// Writes `value` in decimal.
fn put_u64(out: &mut Vec<u8>, value: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = value;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Writes exactly `width` zero-padded digits.
fn put_fixed(out: &mut Vec<u8>, value: u64, width: usize) {
    let mut v = value;
    let start = out.len();
    out.resize(start + width, b'0');
    for b in out[start..].iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Cents as an MT940 amount: `1234,56`, and the short forms `300,` and `300,5` when they fit.
fn put_amount(out: &mut Vec<u8>, cents: u64) {
    put_u64(out, cents / 100);
    out.push(b',');
    let c = cents % 100;
    if c == 0 {
        return;
    }
    if c.is_multiple_of(10) {
        out.push(b'0' + (c / 10) as u8);
    } else {
        put_fixed(out, c, 2);
    }
}

fn put_date(out: &mut Vec<u8>, d: NaiveDate) {
    put_fixed(out, (d.year() % 100) as u64, 2);
    put_fixed(out, d.month() as u64, 2);
    put_fixed(out, d.day() as u64, 2);
}

fn put_balance(out: &mut Vec<u8>, tag: &[u8], date: NaiveDate, cents: i64) {
    out.extend_from_slice(tag);
    out.push(if cents < 0 { b'D' } else { b'C' });
    put_date(out, date);
    out.extend_from_slice(b"EUR");
    put_amount(out, cents.unsigned_abs());
    out.extend_from_slice(b"\r\n");
}

/// Writes `:86:` content wrapped at 65 characters a line, as banks do.
fn put_wrapped(out: &mut Vec<u8>, details: &[u8]) {
    out.extend_from_slice(b":86:");
    for (i, chunk) in details.chunks(65).enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends `?NN` sub-fields holding `text` cut into 27-character pieces from code `first` on.
fn put_purpose(d: &mut Vec<u8>, text: &[u8], first: u64) {
    for (i, piece) in text.chunks(27).take(10).enumerate() {
        d.push(b'?');
        put_fixed(d, first + i as u64, 2);
        d.extend_from_slice(piece);
    }
}

/// Writes a valid MT940 file holding `payments` `:61:` lines in statements of 10 to 40 lines
/// (about 50 to 200 physical lines each), CRLF line ends, some messages in SWIFT envelopes.
pub fn write(w: &mut impl Write, payments: u64, seed: u64) -> io::Result<()> {
    let names: Vec<Vec<u8>> =
        NAMES.iter().map(|n| encoding_rs::WINDOWS_1252.encode(n).0.into_owned()).collect();
    let mut rng = Rng::new(seed);
    let mut w = BufWriter::with_capacity(1 << 17, w);
    let mut out: Vec<u8> = Vec::with_capacity(1 << 14);
    let mut d: Vec<u8> = Vec::with_capacity(512);
    let mut text: Vec<u8> = Vec::with_capacity(256);
    let base = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default();
    let mut balance: i64 = 1_000_000 + rng.below(50_000_000) as i64;
    let mut written = 0u64;
    let mut statement = 0u64;
    while written < payments || statement == 0 {
        statement += 1;
        let n = (payments - written).min(10 + rng.below(31));
        let date = base + Duration::days((statement % 360) as i64);
        let envelope = rng.below(3) == 0;
        out.clear();
        if envelope {
            out.extend_from_slice(b"{1:F01AMEXNL2AXXXX0000000000}{2:I940AMEXNL2AXXXXN}{4:\r\n");
        }
        out.extend_from_slice(b":20:STMT");
        put_fixed(&mut out, statement, 8);
        out.extend_from_slice(b"\r\n:25:NL91ABNA0417164300\r\n:28C:");
        put_u64(&mut out, statement % 100_000);
        out.extend_from_slice(b"/1\r\n");
        put_balance(&mut out, b":60F:", date, balance);
        for i in 0..n {
            let seq = written + i;
            let roll = rng.below(100);
            let cents =
                if rng.below(20) == 0 { 100_000 + rng.below(5_000_000) } else { 500 + rng.below(200_000) };
            let mark: &[u8] = match roll {
                0 => b"RC",
                1..=12 => b"D",
                _ => b"C",
            };
            balance += if mark == b"C" { cents as i64 } else { -(cents as i64) };
            out.extend_from_slice(b":61:");
            put_date(&mut out, date);
            let entry = date + Duration::days(rng.below(2) as i64);
            put_fixed(&mut out, entry.month() as u64, 2);
            put_fixed(&mut out, entry.day() as u64, 2);
            out.extend_from_slice(mark);
            if rng.below(2) == 0 {
                out.push(b'R'); // funds code: third letter of EUR
            }
            put_amount(&mut out, cents);
            out.extend_from_slice(if mark == b"D" { b"NDDT" } else { b"NTRF" });
            if rng.below(3) == 0 {
                out.extend_from_slice(b"NONREF");
            } else {
                out.extend_from_slice(b"E2E");
                put_fixed(&mut out, seq % 10_000_000_000, 10);
            }
            if rng.below(4) != 0 {
                out.extend_from_slice(b"//B");
                put_fixed(&mut out, seed % 1000, 3);
                put_fixed(&mut out, seq, 12);
            }
            out.extend_from_slice(b"\r\n");

            // :86: with German-style sub-fields, or free text now and then.
            text.clear();
            match rng.below(10) {
                0..=2 => {
                    text.extend_from_slice(b"AMEX CARD ");
                    text.extend_from_slice(rng.pick::<&[u8]>(&CARDS));
                }
                3..=4 => text.extend_from_slice(rng.pick::<&[u8]>(&RF_REFS)),
                5..=6 => {
                    text.extend_from_slice(b"KARTE 37");
                    put_fixed(&mut text, rng.next() % 10_000_000_000_000, 13);
                }
                7..=8 => {
                    text.extend_from_slice(b"INVOICE ");
                    put_fixed(&mut text, rng.below(100_000_000), 8);
                }
                _ => text.extend_from_slice(b"DANKE"),
            }
            d.clear();
            if rng.below(8) == 0 {
                d.extend_from_slice(b"ZAHLUNG ");
                d.extend_from_slice(&text);
                d.extend_from_slice(b" \tVOM ");
                put_date(&mut d, date);
                d.extend_from_slice(b" UM 10:32");
            } else {
                d.extend_from_slice(if mark == b"D" { b"105" } else { b"166" });
                d.extend_from_slice(b"?00SEPA-GUTSCHRIFT?109310");
                let mut purpose = Vec::with_capacity(text.len() + 40);
                purpose.extend_from_slice(b"EREF+E2E");
                put_fixed(&mut purpose, seq % 10_000_000_000, 10);
                purpose.extend_from_slice(b" SVWZ+");
                purpose.extend_from_slice(&text);
                put_purpose(&mut d, &purpose, 20);
                d.extend_from_slice(b"?30");
                d.extend_from_slice(rng.pick::<&[u8]>(&BICS));
                d.extend_from_slice(b"?31");
                d.extend_from_slice(rng.pick::<&[u8]>(&IBANS));
                let name = rng.pick(&names);
                d.extend_from_slice(b"?32");
                d.extend_from_slice(&name[..name.len().min(27)]);
                if name.len() > 27 {
                    d.extend_from_slice(b"?33");
                    d.extend_from_slice(&name[27..]);
                }
            }
            put_wrapped(&mut out, &d);
        }
        written += n;
        put_balance(&mut out, b":62F:", date, balance);
        put_balance(&mut out, b":64:", date, balance);
        out.extend_from_slice(if envelope { b"-}\r\n" } else { b"-\r\n" });
        w.write_all(&out)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use remit_domain::Direction;

    fn read_all(bytes: &[u8]) -> Vec<remit_domain::Payment> {
        crate::test_support::read_ok(crate::Format::Mt940, "gen.sta", bytes)
    }

    #[test]
    fn generated_files_read_back() {
        for n in [0u64, 1, 7, 41, 500] {
            let mut out = Vec::new();
            write(&mut out, n, n + 1).unwrap();
            let payments = read_all(&out);
            assert_eq!(payments.len() as u64, n);
            assert!(payments.iter().all(|p| p.amount.is_positive()));
        }
    }

    #[test]
    fn deterministic_mixed_and_references_cards() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        write(&mut a, 400, 7).unwrap();
        write(&mut b, 400, 7).unwrap();
        assert_eq!(a, b);
        let payments = read_all(&a);
        assert!(payments.iter().any(|p| p.direction == Direction::Debit && !p.reversal));
        assert!(payments.iter().any(|p| p.reversal));
        assert!(payments.iter().any(|p| p.payer_name.as_deref() == Some("Sophie Müller")));
        assert!(payments.iter().any(|p| p
            .references
            .remittance
            .iter()
            .any(|r| r.expose().contains("3466 712768 42680"))));
        assert!(payments.iter().any(|p| p
            .references
            .remittance
            .iter()
            .any(|r| r.expose() == "RF76AMX4412002")
            || p.references.remittance.iter().any(|r| r.expose().contains("RF76AMX4412002"))));
        assert!(payments.iter().any(|p| p.references.end_to_end_id.is_some()));
        let keys: std::collections::HashSet<_> = payments.iter().map(|p| p.key()).collect();
        assert_eq!(keys.len(), payments.len());
    }
}
