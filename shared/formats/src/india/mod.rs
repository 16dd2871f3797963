//! India e-collect (virtual account) files: bank MIS CSVs and push-alert JSON. No national
//! standard exists, so both readers map bank-specific names onto one set of fields
//! (`fields`) and share its amount, date and reference rules.

mod csv;
mod fields;
pub mod generate;
mod json;

pub use self::csv::IndiaCsvReader;
pub use self::json::IndiaJsonReader;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SourceContext;
    use proptest::prelude::*;

    const CSV: &[u8] = include_bytes!("../../../../samples/in/india_ecollect_mis_20261121.csv");
    const JSON: &[u8] = include_bytes!("../../../../samples/in/india_ecollect_alerts_20261121.json");

    fn ctx() -> SourceContext {
        crate::test_support::ctx("fuzz")
    }

    /// Drains both readers; they must end (errors end them) without panicking.
    fn drain(bytes: &[u8]) {
        let csv = IndiaCsvReader::new(bytes, ctx()).take(100_000).count();
        let json = IndiaJsonReader::new(bytes, ctx()).take(100_000).count();
        assert!(csv < 100_000 && json < 100_000);
    }

    /// Applies byte edits (overwrite, insert, delete) to a valid file.
    fn mutate(base: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
        let mut v = base.to_vec();
        for &(pos, byte, op) in edits {
            if v.is_empty() {
                v.push(byte);
                continue;
            }
            let i = pos % v.len();
            match op % 3 {
                0 => v[i] = byte,
                1 => v.insert(i, byte),
                _ => {
                    v.remove(i);
                }
            }
        }
        v
    }

    #[test]
    fn samples_are_detected_and_read_through_open() {
        for (bytes, format, count) in [(CSV, crate::Format::IndiaCsv, 7), (JSON, crate::Format::IndiaJson, 4)]
        {
            let (found, stream) = crate::open(ctx(), bytes).unwrap();
            assert_eq!(found, format);
            assert_eq!(stream.map(Result::unwrap).count(), count);
        }
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            drain(&bytes);
        }

        #[test]
        fn mutated_valid_files_never_panic(
            edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..12),
            cut in any::<usize>(),
        ) {
            for base in [CSV, JSON] {
                let m = mutate(base, &edits);
                drain(&m);
                drain(&m[..cut % (m.len() + 1)]);
            }
        }

        #[test]
        fn csv_like_text_never_panics(s in "[A-Za-z0-9,\"\\r\\n ./:-₹]{0,300}") {
            let mut f = b"UTR,Amount,Date,IFSC,Type,Ccy\r\n".to_vec();
            f.extend_from_slice(s.as_bytes());
            drain(&f);
        }
    }
}
