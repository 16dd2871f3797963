//! Format detection from content: a file's name can lie, its first bytes rarely do.

use serde::Serialize;

/// The formats this build reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Cpa005,
    Camt052,
    Camt053,
    Camt054,
    Mt940,
    /// SWIFT MT942 interim transaction report (read by the MT940 reader, which tells them apart
    /// per message).
    Mt942,
    IndiaCsv,
    IndiaJson,
}

/// Recognises a format from the first bytes of a file (a few KB are plenty).
pub fn detect(head: &[u8]) -> Option<Format> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
    let body = &head[start..];
    let window = &body[..body.len().min(8192)];
    if body.starts_with(b"<") {
        if contains(window, b"camt.054") || contains(window, b"BkToCstmrDbtCdtNtfctn") {
            return Some(Format::Camt054);
        }
        if contains(window, b"camt.053") || contains(window, b"BkToCstmrStmt") {
            return Some(Format::Camt053);
        }
        if contains(window, b"camt.052") || contains(window, b"BkToCstmrAcctRpt") {
            return Some(Format::Camt052);
        }
        return None;
    }
    if is_mt940(window) {
        // An interim report has a floor limit where a statement has its opening balance.
        let interim =
            contains(window, b":34F:") && !contains(window, b":60F:") && !contains(window, b":60M:");
        return Some(if interim { Format::Mt942 } else { Format::Mt940 });
    }
    if body.starts_with(b"{") || body.starts_with(b"[") {
        return contains(window, b"GenericCorporateAlertRequest").then_some(Format::IndiaJson);
    }
    if is_cpa005(body) {
        return Some(Format::Cpa005);
    }
    if looks_like_india_csv(window) {
        return Some(Format::IndiaCsv);
    }
    None
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// SWIFT MT940: a `{1:` block header, or a `:20:` transaction reference field with `:25:` or
/// `:28C:` following it (some banks put a line such as `0000` or `940` before it).
fn is_mt940(window: &[u8]) -> bool {
    if window.starts_with(b"{1:") {
        return true;
    }
    let Some(at) = window.windows(4).position(|w| w == b":20:") else {
        return false;
    };
    let line_start = at == 0 || window[at - 1] == b'\n';
    let rest = &window[at..];
    line_start && (contains(rest, b"\n:25:") || contains(rest, b"\n:28C:") || contains(rest, b"\r\n:25:"))
}

/// `A` + 9-digit record count (after an optional `$$...$$` routing line).
fn is_cpa005(body: &[u8]) -> bool {
    let mut rec = body;
    if rec.starts_with(b"$$") {
        match rec.iter().position(|&b| b == b'\n') {
            Some(nl) => rec = &rec[nl + 1..],
            None => return false,
        }
    }
    rec.len() >= 10 && rec[0] == b'A' && rec[1..10].iter().all(|b| b.is_ascii_digit())
}

/// A header line naming an amount column and a UTR/reference or virtual account column.
fn looks_like_india_csv(window: &[u8]) -> bool {
    // The header line, whichever line end the file uses (LF, CRLF or CR alone).
    let first = window.split(|&b| b == b'\n' || b == b'\r').next().unwrap_or_default();
    let line = String::from_utf8_lossy(first).to_ascii_lowercase();
    let has_amount = line.contains("amount") || line.contains("amt");
    let has_ref = line.contains("utr")
        || line.contains("virtual")
        || line.contains("reference")
        || line.contains("van");
    line.contains(',') && has_amount && has_ref
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format() {
        assert_eq!(detect(b"A000000001000000061000010231386121"), Some(Format::Cpa005));
        assert_eq!(detect(b"$$AAPACPA1464[PROD[NL$$\r\nA000000001"), Some(Format::Cpa005));
        assert_eq!(
            detect(
                b"<?xml version=\"1.0\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.02\">"
            ),
            Some(Format::Camt054)
        );
        assert_eq!(detect(b"{\"GenericCorporateAlertRequest\":[]}"), Some(Format::IndiaJson));
        assert_eq!(
            detect(b"\xEF\xBB\xBFUTR,Virtual Account,Amount (INR),Value Date\n"),
            Some(Format::IndiaCsv)
        );
        assert_eq!(
            detect(b":20:STARTUMSE\r\n:25:10020030/1234567\r\n:28C:00001/001\r\n"),
            Some(Format::Mt940)
        );
        assert_eq!(
            detect(b"{1:F01INGBNL2AXXXX0000000000}{2:I940INGBNL2AXXXXN}{4:\r\n:20:P140220000000001"),
            Some(Format::Mt940)
        );
        assert_eq!(detect(b"0000\r\n:20:INGEB\r\n:25:0001234567\r\n"), Some(Format::Mt940));
        // The header is the first line whatever ends it: with CR alone, not the whole window.
        assert_eq!(detect(b"UTR,Virtual Account,Amount\r1,2,3\r"), Some(Format::IndiaCsv));
        assert_eq!(detect(b"Date,Narration\rUTR 1 amount,reference\r"), None);
        assert_eq!(detect(b"hello"), None);
        assert_eq!(detect(b""), None);
    }
}
