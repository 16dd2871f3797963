//! Who paid, by the standard's definitions of a segment's fields. Positions 20-40 and 81-110 are
//! the payee's for a credit (who receives the money) and the payor's for a debit (whose account
//! is debited); the originator, whose file it is, has its names at 66-80 and 111-140 and its
//! account for returns at 170-190. So a client's credit file paying our cards has *us* in 20-40
//! and 81-110, and its payer is the originator; a debit's payer is its payor.

use remit_domain::PayerAccount;

use super::record::{is_blank, opt_text, segment, text, Field};

/// The two parties a segment names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Party {
    /// The file's originator: long name 111-140 (short name 66-80 when it is blank), institution
    /// id and account no. for returns 170-190.
    Originator,
    /// The payee of a credit, or the payor of a debit: name 81-110, institution id and account no.
    /// 20-40.
    PayeeOrPayor,
}

/// What a segment says about the party that paid, and about the other one.
#[derive(Debug, Default)]
pub(super) struct Payer {
    pub name: Option<String>,
    pub account: Option<PayerAccount>,
    /// The payer's institution id field, when it is not `0` + institution + transit; the account
    /// is then kept verbatim as `PayerAccount::Other`.
    pub odd_institution: Option<(Field, String)>,
    /// The other party's fields as named references (`payee_name`, `payee_account` or
    /// `originator_long_name`), so that nothing read is lost.
    pub other_party: Vec<(&'static str, String)>,
}

/// Reads the payer's fields of `seg`, `payer` being the party that paid.
pub(super) fn read(payer: Party, seg: &[u8]) -> Payer {
    use segment::{
        ACCOUNT, INSTITUTION, ORIGINATOR_LONG_NAME, PAYEE_PAYOR_NAME, RETURN_ACCOUNT, RETURN_INSTITUTION,
        SHORT_NAME,
    };
    let mut other_party = Vec::new();
    match payer {
        Party::Originator => {
            let name = opt_text(ORIGINATOR_LONG_NAME.of(seg)).or_else(|| opt_text(SHORT_NAME.of(seg)));
            let (account, odd_institution) = account(RETURN_INSTITUTION, RETURN_ACCOUNT, seg);
            if let Some(payee) = opt_text(PAYEE_PAYOR_NAME.of(seg)) {
                other_party.push(("payee_name", payee));
            }
            if let Some(payee) = account_reference(INSTITUTION.of(seg), ACCOUNT.of(seg)) {
                other_party.push(("payee_account", payee));
            }
            Payer { name, account, odd_institution, other_party }
        }
        Party::PayeeOrPayor => {
            let name = opt_text(PAYEE_PAYOR_NAME.of(seg));
            let (account, odd_institution) = account(INSTITUTION, ACCOUNT, seg);
            if let Some(originator) = opt_text(ORIGINATOR_LONG_NAME.of(seg)) {
                other_party.push(("originator_long_name", originator));
            }
            Payer { name, account, odd_institution, other_party }
        }
    }
}

/// An institution id (`0` + 3-digit institution + 5-digit transit) and account no.: `None` when
/// both are blank, `Other` verbatim (with the institution field and its text) when the id is not
/// nine digits.
fn account(
    institution: Field,
    account: Field,
    seg: &[u8],
) -> (Option<PayerAccount>, Option<(Field, String)>) {
    let inst = institution.of(seg);
    let number = text(account.of(seg)).into_owned();
    if is_blank(inst) && number.is_empty() {
        return (None, None);
    }
    if inst.len() == 9 && inst.iter().all(u8::is_ascii_digit) {
        let canadian = PayerAccount::Canadian {
            institution: String::from_utf8_lossy(&inst[1..4]).into_owned(),
            transit: String::from_utf8_lossy(&inst[4..9]).into_owned(),
            account: number,
        };
        return (Some(canadian), None);
    }
    let inst = text(inst).into_owned();
    let verbatim = format!("{inst} {number}").trim().to_string();
    (Some(PayerAccount::Other(verbatim)), Some((institution, inst)))
}

/// The other party's institution and account as a reference text, `003-00011/1234567`. A slash,
/// not a dash, before the account: the matcher reads every reference as free text, and
/// institution, transit and a 7-digit account dashed together make 15 digits, the shape of a card.
fn account_reference(inst: &[u8], number: &[u8]) -> Option<String> {
    let number = text(number);
    let inst_text = if inst.len() == 9 && inst.iter().all(u8::is_ascii_digit) {
        format!("{}-{}", String::from_utf8_lossy(&inst[1..4]), String::from_utf8_lossy(&inst[4..9]))
    } else {
        text(inst).into_owned()
    };
    match (inst_text.is_empty(), number.is_empty()) {
        (true, true) => None,
        (false, true) => Some(inst_text),
        (true, false) => Some(number.into_owned()),
        (false, false) => Some(format!("{inst_text}/{number}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpa005::record::SEGMENT_LEN;

    fn seg(fields: &[(usize, &[u8])]) -> Vec<u8> {
        let mut s = vec![b' '; SEGMENT_LEN];
        for (from, text) in fields {
            s[from - 1..from - 1 + text.len()].copy_from_slice(text);
        }
        s
    }

    #[test]
    fn originator_short_name_when_the_long_name_is_blank_and_no_account_for_returns() {
        let s = seg(&[(66, b"GAGNON HLDGS"), (81, b"AMERICAN EXPRESS CANADA")]);
        let p = read(Party::Originator, &s);
        assert_eq!(p.name.as_deref(), Some("GAGNON HLDGS"));
        assert_eq!(p.account, None);
        assert!(p.odd_institution.is_none(), "blank: no account, no warning");
        assert_eq!(p.other_party, [("payee_name", "AMERICAN EXPRESS CANADA".to_string())]);
    }

    #[test]
    fn an_institution_id_that_is_not_nine_digits_is_kept_verbatim() {
        let s = seg(&[(170, b"0003-0001"), (179, b"1234567")]);
        let p = read(Party::Originator, &s);
        assert_eq!(p.account, Some(PayerAccount::Other("0003-0001 1234567".into())));
        let (field, inst) = p.odd_institution.unwrap();
        assert_eq!((field.from, field.to, inst.as_str()), (170, 178, "0003-0001"));
    }

    #[test]
    fn the_other_partys_account_cannot_read_as_fifteen_digits() {
        assert_eq!(account_reference(b"024100011", b"1234567").as_deref(), Some("241-00011/1234567"));
        assert_eq!(account_reference(b"         ", b"1234567").as_deref(), Some("1234567"));
        assert_eq!(account_reference(b"         ", b"            "), None);
    }
}
