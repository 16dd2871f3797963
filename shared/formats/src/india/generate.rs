//! Deterministic synthetic e-collect files for benchmarks and load tests: the same seed always
//! gives the same bytes, and no random-number crate is needed.

use crate::synth::Rng;
use std::io::{self, Write};

/// Virtual accounts of `samples/accounts.csv` with their holders, so some rows match.
const KNOWN: [(&str, &str); 4] = [
    ("AMEX0100012345", "Priya Venkataraman"),
    ("AMEX0100067890", "Rajesh Kumar Sharma"),
    ("AMEX0100024680", "Ananya Iyer"),
    ("AMEX0100013579", "Mohammed Farhan Qureshi"),
];

const NAMES: [&str; 12] = [
    "Priya Venkataraman",
    "Rajesh Kumar Sharma",
    "Ananya Iyer",
    "Mohammed Farhan Qureshi",
    "Suresh Reddy",
    "Kavita Deshpande",
    "Arjun Nair",
    "Lakshmi Subramanian",
    "Vikram Singh Rathore",
    "Deepa Chatterjee",
    "Harpreet Kaur Gill",
    "Sanjay Patil",
];

const BANKS: [(&str, &str); 6] = [
    ("HDFC", "HDFC0001234"),
    ("ICIC", "ICIC0000456"),
    ("SBIN", "SBIN0004567"),
    ("UTIB", "UTIB0000123"),
    ("KKBK", "KKBK0000789"),
    ("PUNB", "PUNB0123400"),
];

const NARRATIONS: [&str; 5] =
    ["AMEX CARD PAYMENT", "Card bill Nov 2026", "PAYMENT TO AMERICAN EXPRESS", "Credit card dues", ""];

const MODES: [&str; 4] = ["NEFT", "RTGS", "IMPS", "UPI"];

/// One synthetic credit.
struct Row {
    va: String,
    name: &'static str,
    account: u64,
    ifsc: &'static str,
    paise: u64,
    day: u64,
    mode: &'static str,
    utr: String,
    narration: &'static str,
}

fn row(rng: &mut Rng, i: u64) -> Row {
    let (va, name) = if rng.below(4) == 0 {
        let (va, name) = KNOWN[rng.below(4) as usize];
        (va.to_string(), name)
    } else {
        (format!("AMEX01{:08}", rng.below(100_000_000)), *rng.pick(&NAMES))
    };
    let mode = MODES[(i % 4) as usize];
    let n = i / 4;
    let (bank, ifsc) = BANKS[rng.below(BANKS.len() as u64) as usize];
    let day = 1 + i % 28;
    let utr = match mode {
        // Sequences are unique per mode for the first million rows of each mode.
        "NEFT" => format!("{bank}N26{:03}{:06}", 304 + day, n % 1_000_000),
        "RTGS" => format!("{bank}R5202611{day:02}{:08}", n % 100_000_000),
        "IMPS" => format!("6{:03}{:08}", 304 + day, n % 100_000_000),
        _ => format!("5{:03}{:08}", 304 + day, n % 100_000_000),
    };
    let paise = if mode == "RTGS" {
        // RTGS starts at 2 lakh rupees; amounts are in paise.
        20_000_000 + rng.below(500_000_000)
    } else {
        10_000 + rng.below(20_000_000)
    };
    Row {
        va,
        name,
        account: 10_000_000_000 + rng.below(90_000_000_000_000),
        ifsc,
        paise,
        day,
        mode,
        utr,
        narration: rng.pick::<&str>(&NARRATIONS),
    }
}

/// Writes paise as rupees with Indian lakh grouping: `1,23,456.78`.
fn push_lakh(buf: &mut Vec<u8>, paise: u64) {
    let rupees = (paise / 100).to_string();
    let b = rupees.as_bytes();
    if b.len() <= 3 {
        buf.extend_from_slice(b);
    } else {
        let (head, last3) = b.split_at(b.len() - 3);
        let first = head.len() % 2;
        if first == 1 {
            buf.push(head[0]);
            buf.push(b',');
        }
        for pair in head[first..].chunks(2) {
            buf.extend_from_slice(pair);
            buf.push(b',');
        }
        buf.extend_from_slice(last3);
    }
    let p = paise % 100;
    buf.extend_from_slice(&[b'.', b'0' + (p / 10) as u8, b'0' + (p % 10) as u8]);
}

const FLUSH_AT: usize = 256 * 1024;

/// Writes a bank MIS CSV (BOM, CRLF, lakh-grouped quoted amounts, `Total` row) of `payments`
/// rows.
pub fn write_csv(w: &mut impl Write, payments: u64, seed: u64) -> io::Result<()> {
    let mut rng = Rng::new(seed);
    let mut buf = Vec::with_capacity(FLUSH_AT + 1024);
    buf.extend_from_slice(b"\xEF\xBB\xBFSr No,UTR No,Virtual Account No,Remitter Name,Remitter A/c No,Remitter IFSC,Amount (INR),Txn Date,Mode,Narration\r\n");
    let mut total: u128 = 0;
    for i in 0..payments {
        let r = row(&mut rng, i);
        total += u128::from(r.paise);
        write!(buf, "{},{},{},{},{},{},\"", i + 1, r.utr, r.va, r.name, r.account, r.ifsc)?;
        push_lakh(&mut buf, r.paise);
        write!(buf, "\",{:02}-11-2026,{},{}\r\n", r.day, r.mode, r.narration)?;
        if buf.len() >= FLUSH_AT {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    if payments > 0 {
        buf.extend_from_slice(b"Total,,,,,,\"");
        push_lakh(&mut buf, u64::try_from(total).unwrap_or(u64::MAX));
        buf.extend_from_slice(b"\",,,\r\n");
    }
    w.write_all(&buf)?;
    w.flush()
}

/// Writes a push-alert JSON file of `payments` alerts; amounts alternate between JSON strings
/// and JSON numbers, as banks send both.
pub fn write_json(w: &mut impl Write, payments: u64, seed: u64) -> io::Result<()> {
    let mut rng = Rng::new(seed);
    let mut buf = Vec::with_capacity(FLUSH_AT + 1024);
    buf.extend_from_slice(b"{\"GenericCorporateAlertRequest\":[\n");
    for i in 0..payments {
        let r = row(&mut rng, i);
        if i > 0 {
            buf.extend_from_slice(b",\n");
        }
        write!(
            buf,
            "{{\"Alert Sequence No\":\"{:012}\",\"Virtual Account\":\"{}\",\"Account Number\":\"000405099999\",\"Debit Credit\":\"C\",\"Mnemonic Code\":\"{}\",\"Transaction Amount\":",
            i + 1,
            r.va,
            r.mode
        )?;
        let (rupees, p) = (r.paise / 100, r.paise % 100);
        if i % 2 == 0 {
            write!(buf, "\"{rupees}.{p:02}\"")?;
        } else {
            write!(buf, "{rupees}.{p:02}")?;
        }
        write!(
            buf,
            ",\"Transaction Description\":\"{}\",\"Value Date\":\"2026-11-{:02} 10:{:02}:00\",\"Remitter Name\":\"{}\",\"Remitter Account\":\"{}\",\"Remitter IFSC\":\"{}\",\"User Reference Number\":\"{}\",\"Currency\":\"INR\"}}",
            r.narration,
            r.day,
            i % 60,
            r.name,
            r.account,
            r.ifsc,
            r.utr
        )?;
        if buf.len() >= FLUSH_AT {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    buf.extend_from_slice(b"\n]}\n");
    w.write_all(&buf)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::india::{IndiaCsvReader, IndiaJsonReader};
    use crate::SourceContext;

    fn ctx() -> SourceContext {
        crate::test_support::ctx("gen")
    }

    #[test]
    fn lakh_grouping() {
        let mut b = Vec::new();
        for (p, s) in [
            (5, "0.05"),
            (12_345_678, "1,23,456.78"),
            (1_234_567_890, "1,23,45,678.90"),
            (99_900, "999.00"),
            (100_000, "1,000.00"),
        ] {
            b.clear();
            push_lakh(&mut b, p);
            assert_eq!(String::from_utf8_lossy(&b), s);
        }
    }

    #[test]
    fn generated_files_read_back() {
        let mut csv = Vec::new();
        write_csv(&mut csv, 500, 7).unwrap();
        let read: Vec<_> = IndiaCsvReader::new(&csv[..], ctx()).collect::<Result<_, _>>().unwrap();
        assert_eq!(read.len(), 500);
        assert!(read
            .iter()
            .any(|p| p.references.virtual_account.as_ref().map(|v| v.expose()) == Some("AMEX0100012345")));

        let mut json = Vec::new();
        write_json(&mut json, 500, 7).unwrap();
        let read: Vec<_> = IndiaJsonReader::new(&json[..], ctx()).collect::<Result<_, _>>().unwrap();
        assert_eq!(read.len(), 500);
        let mut again = Vec::new();
        write_json(&mut again, 500, 7).unwrap();
        assert_eq!(json, again, "deterministic");
    }
}
