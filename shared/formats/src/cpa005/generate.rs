//! Synthetic CPA-005 files for benchmarks and load tests: valid, deterministic per seed, and
//! fast enough to write hundreds of megabytes (one reused record buffer, no allocation per row).

use crate::synth::Rng;
use std::io::{self, BufWriter, Write};

use super::record::{FIRST_SEGMENT, RECORD_LEN, SEGMENTS, SEGMENT_LEN};

/// Originator id written in the header and repeated in every detail record.
pub const ORIGINATOR: &[u8; 10] = b"0003012345";
const FILE_NUMBER: &[u8; 4] = b"0042";

/// Our own names, institution id and account: the payee of every credit (20-40, 81-110) and the
/// originator of every debit (66-80, 111-140, account for returns 170-190).
const OUR_LONG_NAME: &[u8] = b"AMERICAN EXPRESS CANADA";
const OUR_SHORT_NAME: &[u8] = b"AMEX CANADA";
const OUR_INSTITUTION: &[u8; 9] = b"000300011";
const OUR_ACCOUNT: &[u8; 7] = b"1000017";

/// Canadian card accounts from `samples/accounts.csv`, as payers type them (with spaces).
const AMEX_REFS: [&[u8]; 5] = [
    b"3726 018159 08301",
    b"3466 131860 91396",
    b"3499 603082 46284",
    b"3494 821993 51818",
    b"3493 786579 75439",
];

/// Payer names; the accented ones are encoded to Windows-1252 as Canadian banks send them.
const NAMES: [&str; 12] = [
    "Tremblay Jean",
    "Côté Marie-Ève",
    "Bélanger François",
    "Gagnon Holdings Inc.",
    "Lévesque Construction Ltée",
    "Roy Sylvie",
    "Gauthier Hélène",
    "Morin Stéphane",
    "BOUCHARD PIERRE",
    "Ouellet Gaétan",
    "Wong Michael",
    "Singh Harpreet",
];

/// Canadian institution numbers (BMO, BNS, RBC, TD, NBC, CIBC, Desjardins).
const INSTITUTIONS: [&[u8; 3]; 7] = [b"001", b"002", b"003", b"004", b"006", b"010", b"815"];

/// Writes `value` as exactly `out.len()` zero-padded decimal digits (truncating high digits).
fn put_num(out: &mut [u8], mut value: u64) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

fn put(out: &mut [u8], at: usize, text: &[u8]) {
    let end = (at + text.len()).min(out.len());
    out[at..end].copy_from_slice(&text[..end - at]);
}

/// Writes a valid CPA-005 file holding `payments` payment segments (C and D records, six
/// segments each, the last one short), CRLF line ends, with a Z trailer that adds up. Parties
/// stand where the standard puts them: a credit's payer is its originator (names 66-80 and
/// 111-140, account for returns 170-190) and we are its payee (20-40, 81-110); a debit's payer
/// is its payor (20-40, 81-110) and we are its originator.
pub fn write(w: &mut impl Write, payments: u64, seed: u64) -> io::Result<()> {
    if payments > 99_999_999 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a CPA-005 trailer counts at most 99,999,999 payments",
        ));
    }
    let names: Vec<Vec<u8>> =
        NAMES.iter().map(|n| encoding_rs::WINDOWS_1252.encode(n).0.into_owned()).collect();
    let mut rng = Rng::new(seed);
    let mut w = BufWriter::with_capacity(1 << 17, w);
    let mut rec = [b' '; RECORD_LEN + 2];

    // Dates: one year from 2026, segment dates within the week before the file's creation.
    let year = 26 + (seed % 3);
    let creation_day = 8 + rng.below(350);

    let mut record_no: u64 = 1;
    rec[..RECORD_LEN].fill(b' ');
    rec[0] = b'A';
    put_num(&mut rec[1..10], record_no);
    put(&mut rec, 10, ORIGINATOR);
    put(&mut rec, 20, FILE_NUMBER);
    put_num(&mut rec[24..27], year);
    put_num(&mut rec[27..30], creation_day);
    put(&mut rec, 30, b"00310");
    put(&mut rec, 55, b"CAD");
    put(&mut rec, 58, b"\r\n");
    w.write_all(&rec[..60])?;

    let (mut credit_count, mut credit_cents, mut debit_count, mut debit_cents) = (0u64, 0u64, 0u64, 0u64);
    let mut written = 0u64;
    while written < payments {
        let in_record = (payments - written).min(SEGMENTS as u64) as usize;
        let credit = rng.below(10) < 8;
        record_no += 1;
        rec[..RECORD_LEN].fill(b' ');
        rec[0] = if credit { b'C' } else { b'D' };
        put_num(&mut rec[1..10], record_no);
        put(&mut rec, 10, ORIGINATOR);
        put(&mut rec, 20, FILE_NUMBER);
        for s in 0..in_record {
            let seg = &mut rec[FIRST_SEGMENT + s * SEGMENT_LEN..FIRST_SEGMENT + (s + 1) * SEGMENT_LEN];
            // Mostly everyday amounts, now and then a large one.
            let amount =
                if rng.below(20) == 0 { 100_000 + rng.below(2_000_000) } else { 500 + rng.below(99_500) };
            put(seg, 0, b"450");
            put_num(&mut seg[3..13], amount);
            seg[13] = b'0';
            put_num(&mut seg[14..16], year);
            put_num(&mut seg[16..19], creation_day - rng.below(7));
            // The payer's institution id (`0` + institution + transit) and account.
            let mut inst = [b'0'; 9];
            inst[1..4].copy_from_slice(INSTITUTIONS[rng.below(INSTITUTIONS.len() as u64) as usize]);
            put_num(&mut inst[4..9], rng.below(100_000));
            let mut account = [b'0'; 7];
            put_num(&mut account, rng.below(10_000_000));
            let name = &names[rng.below(names.len() as u64) as usize];
            // Item trace: 0 + institution + transit of the originator's bank + sequence, unique.
            put(seg, 40, b"000300011");
            put_num(&mut seg[49..62], (seed % 1000) * 10_000_000_000 + written + s as u64);
            put(seg, 62, b"000");
            if credit {
                put(seg, 19, OUR_INSTITUTION);
                put(seg, 28, OUR_ACCOUNT);
                put(seg, 65, &name[..name.len().min(15)]);
                put(seg, 80, OUR_LONG_NAME);
                put(seg, 110, name);
                put(seg, 169, &inst);
                put(seg, 178, &account);
            } else {
                put(seg, 19, &inst);
                put(seg, 28, &account);
                put(seg, 65, OUR_SHORT_NAME);
                put(seg, 80, name);
                put(seg, 110, OUR_LONG_NAME);
                put(seg, 140, ORIGINATOR);
                put(seg, 169, OUR_INSTITUTION);
                put(seg, 178, OUR_ACCOUNT);
            }
            match rng.below(10) {
                0 => put(seg, 150, AMEX_REFS[rng.below(AMEX_REFS.len() as u64) as usize]),
                1..=5 => {
                    seg[150] = b'3';
                    seg[151] = b'7';
                    put_num(&mut seg[152..165], rng.next() % 10_000_000_000_000);
                }
                6..=8 => {
                    put(seg, 150, b"INV-");
                    put_num(&mut seg[154..162], rng.below(100_000_000));
                }
                _ => {}
            }
            if rng.below(4) == 0 {
                put(seg, 190, b"PAIEMENT CARTE");
            }
            if credit {
                credit_count += 1;
                credit_cents += amount;
            } else {
                debit_count += 1;
                debit_cents += amount;
            }
        }
        let len = FIRST_SEGMENT + in_record * SEGMENT_LEN;
        put(&mut rec, len, b"\r\n");
        w.write_all(&rec[..len + 2])?;
        written += in_record as u64;
    }

    record_no += 1;
    rec[..RECORD_LEN].fill(b' ');
    rec[0] = b'Z';
    put_num(&mut rec[1..10], record_no);
    put(&mut rec, 10, ORIGINATOR);
    put(&mut rec, 20, FILE_NUMBER);
    put_num(&mut rec[24..38], debit_cents);
    put_num(&mut rec[38..46], debit_count);
    put_num(&mut rec[46..60], credit_cents);
    put_num(&mut rec[60..68], credit_count);
    rec[68..112].fill(b'0');
    put(&mut rec, RECORD_LEN, b"\r\n");
    w.write_all(&rec)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use remit_domain::Direction;

    fn read_all(bytes: &[u8]) -> Vec<remit_domain::Payment> {
        crate::test_support::read_ok(crate::Format::Cpa005, "gen.txt", bytes)
    }

    #[test]
    fn generated_files_read_back() {
        for n in [0u64, 1, 6, 7, 13, 500] {
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
        write(&mut a, 300, 7).unwrap();
        write(&mut b, 300, 7).unwrap();
        assert_eq!(a, b);
        let payments = read_all(&a);
        assert!(payments.iter().any(|p| p.direction == Direction::Debit));
        assert!(payments.iter().any(|p| p.direction == Direction::Credit));
        assert!(payments.iter().any(|p| p
            .references
            .cross_reference
            .as_ref()
            .is_some_and(|r| r.expose() == "3726 018159 08301")));
        assert!(payments.iter().any(|p| p.payer_name.as_deref() == Some("Côté Marie-Ève")));
        for p in &payments {
            let name = p.payer_name.as_deref().unwrap_or_default();
            assert!(NAMES.contains(&name), "the payer, never us: {name:?}");
            assert!(matches!(p.payer_account, Some(remit_domain::PayerAccount::Canadian { .. })));
        }
        let credit = payments.iter().find(|p| p.direction == Direction::Credit).unwrap();
        assert!(credit
            .references
            .other
            .iter()
            .any(|(k, v)| k == "payee_name" && v.expose() == "AMERICAN EXPRESS CANADA"));
        let keys: std::collections::HashSet<_> = payments.iter().map(|p| p.key()).collect();
        assert_eq!(keys.len(), payments.len(), "item trace numbers are unique");
    }
}
