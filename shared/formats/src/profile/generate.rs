//! Big synthetic files in the layouts of shipped profiles, for benchmarks: the same seed always
//! writes the same bytes. `remit generate --format profile:profiles/<name>.toml` picks the
//! generator by the profile's name.

use std::io::{self, Write};

use crate::synth::Rng;

use super::Profile;

/// Profiles that have a generator.
pub const GENERATED: [&str; 2] = ["ca-billpay-remittance", "in-ecollect-mis-a"];

/// Writes `payments` records in the layout of `profile`, if it is one of `GENERATED`.
pub fn write(profile: &Profile, w: &mut impl Write, payments: u64, seed: u64) -> io::Result<()> {
    match profile.name() {
        "ca-billpay-remittance" => write_billpay(w, payments, seed),
        "in-ecollect-mis-a" => write_mis_a(w, payments, seed),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("no generator for profile {other:?} (generators: {})", GENERATED.join(", ")),
        )),
    }
}

/// Card accounts of `samples/accounts.csv` with holders, and other payers.
const CA_PAYERS: [(&str, &str); 8] = [
    ("372601815908301", "Jean Tremblay"),
    ("346613186091396", "Marie-Ève Côté"),
    ("349960308246284", "François Bélanger"),
    ("349378657975439", "Lévesque Construction Ltée"),
    ("371449635398431", "Hélène Lefèbvre"),
    ("378282246310005", "Benoît Gagné"),
    ("378734493671000", "Zoë Côté-Ouellet"),
    ("349482199351818", "Gagnon Holdings Inc."),
];

const CHANNELS: [&str; 5] = ["INT", "TEL", "MOB", "ATM", "BRN"];

/// Lays `text` into `line` at 1-based inclusive `start..=end`, left-aligned.
fn put(line: &mut [u8], start: usize, end: usize, text: &[u8]) {
    let n = text.len().min(end + 1 - start);
    line[start - 1..start - 1 + n].copy_from_slice(&text[..n]);
}

/// Lays a number right-aligned with leading zeros.
fn put_num(line: &mut [u8], start: usize, end: usize, mut v: u64) {
    for i in (start - 1..end).rev() {
        line[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// The `ca-billpay-remittance` layout: windows-1252, CRLF, 120-byte records.
pub fn write_billpay(w: &mut impl Write, payments: u64, seed: u64) -> io::Result<()> {
    let mut rng = Rng::new(seed);
    let payers: Vec<(&str, Vec<u8>)> = CA_PAYERS
        .iter()
        .map(|(acct, name)| (*acct, encoding_rs::WINDOWS_1252.encode(name).0.into_owned()))
        .collect();
    let mut line = [b' '; 122];
    line[120] = b'\r';
    line[121] = b'\n';
    put(&mut line, 1, 1, b"1");
    put(&mut line, 2, 11, b"AMEXCA0001");
    put(&mut line, 12, 19, b"20260316");
    put(&mut line, 20, 23, b"0042");
    put(&mut line, 24, 26, b"CAD");
    put(&mut line, 27, 56, b"AMERICAN EXPRESS CANADA");
    w.write_all(&line)?;
    let mut total: u64 = 0;
    for i in 0..payments {
        line[..120].fill(b' ');
        let (acct, name) = &payers[rng.below(payers.len() as u64) as usize];
        let cents = 100 + rng.below(500_000);
        total += cents;
        put(&mut line, 1, 1, b"5");
        put(&mut line, 2, 20, acct.as_bytes());
        put_num(&mut line, 21, 32, cents);
        put(&mut line, 33, 40, b"20260316");
        put(&mut line, 41, 43, b"TD2");
        put_num(&mut line, 44, 55, i + 1);
        put(&mut line, 56, 90, name);
        put(&mut line, 91, 93, rng.pick(&CHANNELS).as_bytes());
        w.write_all(&line)?;
    }
    line[..120].fill(b' ');
    put(&mut line, 1, 1, b"9");
    put_num(&mut line, 2, 9, payments);
    put_num(&mut line, 10, 23, total);
    w.write_all(&line)
}

const IN_PAYERS: [(&str, &str, &str, &str); 6] = [
    ("00012345", "Priya Venkataraman", "50100234567890", "HDFC0001234"),
    ("00067890", "Rajesh Kumar Sharma", "000401234567", "ICIC0000456"),
    ("00024680", "Ananya Iyer", "20012345678", "SBIN0004567"),
    ("00013579", "Mohammed Farhan Qureshi", "30987654321", "SBIN0004567"),
    ("00099999", "Suresh Reddy", "917010012345678", "UTIB0000123"),
    ("00011111", "Kavita Deshpande", "1811239999", "KKBK0000789"),
];

/// Writes paise as rupees with Indian lakh grouping: `1,23,456.78`.
fn lakh(out: &mut Vec<u8>, paise: u64) {
    let rupees = (paise / 100).to_string();
    let b = rupees.as_bytes();
    let head = if b.len() > 3 { b.len() - 3 } else { 0 };
    let lead = head % 2;
    for (i, &c) in b[..head].iter().enumerate() {
        if i > 0 && (i + 2 - lead) % 2 == 0 {
            out.push(b',');
        }
        out.push(c);
    }
    if head > 0 {
        out.push(b',');
    }
    out.extend_from_slice(&b[head..]);
    out.extend_from_slice(format!(".{:02}", paise % 100).as_bytes());
}

/// The `in-ecollect-mis-a` layout: BOM, CRLF, lakh amounts, DD/MM/YYYY, a Total row.
pub fn write_mis_a(w: &mut impl Write, payments: u64, seed: u64) -> io::Result<()> {
    let mut rng = Rng::new(seed);
    w.write_all(b"\xEF\xBB\xBF")?;
    w.write_all(
        b"Sr No,UTR No,Virtual Account No,Remitter Name,Remitter A/c No,Remitter IFSC,Credit Amount,Value Date,Mode,Narration\r\n",
    )?;
    let mut total: u64 = 0;
    let mut row = Vec::with_capacity(256);
    for i in 0..payments {
        row.clear();
        let (code, name, acct, ifsc) = rng.pick(&IN_PAYERS);
        let paise = 100 + rng.below(50_000_000);
        total += paise;
        let (utr, mode) = if i % 3 == 0 {
            (format!("{}N26325{:06}", &ifsc[..4], i % 1_000_000), "NEFT")
        } else {
            (format!("63{:010}", i), "IMPS")
        };
        write!(row, "{},{utr},AMEX01{code},{name},{acct},{ifsc},\"", i + 1)?;
        lakh(&mut row, paise);
        write!(row, "\",21/11/2026,{mode},AMEX CARD PAYMENT\r\n")?;
        w.write_all(&row)?;
    }
    row.clear();
    row.extend_from_slice(b"Total,,,,,,\"");
    lakh(&mut row, total);
    row.extend_from_slice(b"\",,,\r\n");
    w.write_all(&row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lakh_grouping() {
        let s = |p| {
            let mut v = Vec::new();
            lakh(&mut v, p);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(s(5), "0.05");
        assert_eq!(s(99_999), "999.99");
        assert_eq!(s(123_456), "1,234.56");
        assert_eq!(s(12_345_678), "1,23,456.78");
        assert_eq!(s(1_234_567_890), "1,23,45,678.90");
        assert_eq!(s(123_456_789_012), "1,23,45,67,890.12");
    }

    #[test]
    fn generated_files_read_back_with_their_profiles() {
        for (name, text) in [
            ("ca-billpay-remittance", include_str!("../../../../profiles/ca-billpay-remittance.toml")),
            ("in-ecollect-mis-a", include_str!("../../../../profiles/in-ecollect-mis-a.toml")),
        ] {
            let profile = Profile::from_toml(name, text).unwrap();
            let mut bytes = Vec::new();
            write(&profile, &mut bytes, 2_000, 7).unwrap();
            let ctx = crate::test_support::ctx(name);
            let ps: Vec<_> = profile.open(ctx, bytes.as_slice()).collect::<Result<_, _>>().unwrap();
            let n = ps.len();
            assert_eq!(n, 2_000, "{name}");
        }
    }
}
