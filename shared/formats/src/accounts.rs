//! The accounts directory CSV: one card account per row, read as a stream. The card numbers
//! it carries are hashed under the directory's `CardKey` as each row is read: what leaves the
//! reader is a token and the last four digits (issue 15), never the number.

use std::io::Read;
use std::str::FromStr;

use remit_domain::model::money::currency;
use remit_domain::{Account, AccountNumber, AccountStatus, CardKey, CreditorReference, Market};

use crate::{Location, ParseError};

/// The optional last column: how the card platform names the account (else the card's token).
pub const ACCOUNT_ID: &str = "account_id";

/// The header every directory file must start with, in this order (then `ACCOUNT_ID`, optional).
pub const HEADER: [&str; 10] = [
    "account_number",
    "market",
    "currency",
    "holder_name",
    "status",
    "statement_balance",
    "minimum_due",
    "virtual_account",
    "creditor_reference",
    "control_account",
];

/// Streams accounts from a directory CSV, each card tokenised under `key`; the first bad row
/// ends the stream with its error.
pub fn read_accounts<R: Read>(
    file: &str,
    reader: R,
    key: &CardKey,
) -> Result<impl Iterator<Item = Result<Account, ParseError>>, ParseError> {
    let mut csv = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_reader(reader);
    let headers = csv.headers().map_err(|e| csv_error(file, e))?.clone();
    let found: Vec<String> = headers.iter().map(|h| h.trim_start_matches('\u{feff}').to_string()).collect();
    let with_id = found.len() == HEADER.len() + 1 && found.last().is_some_and(|h| h == ACCOUNT_ID);
    if found[..found.len().min(HEADER.len())] != HEADER || (found.len() != HEADER.len() && !with_id) {
        return Err(ParseError::structure(
            file,
            Location::Line { number: 1 },
            format!(
                "header must be {} (then {ACCOUNT_ID}, optional), found {}",
                HEADER.join(","),
                crate::shown(&found.join(","))
            ),
        ));
    }
    let key = key.clone();
    let file = file.to_string();
    let mut done = false;
    Ok(csv.into_records().filter_map(move |row| {
        if done {
            return None;
        }
        let result = row.map_err(|e| csv_error(&file, e)).and_then(|r| parse_row(&file, &r, &key));
        done = result.is_err();
        Some(result)
    }))
}

fn csv_error(file: &str, e: csv::Error) -> ParseError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    ParseError::structure(file, Location::Line { number: line }, e.to_string())
}

fn parse_row(file: &str, r: &csv::StringRecord, key: &CardKey) -> Result<Account, ParseError> {
    let line = r.position().map(|p| p.line()).unwrap_or(0);
    let loc = || Location::Line { number: line };
    let field = |i: usize| r.get(i).unwrap_or("").trim();
    let bad = |i: usize, problem: String| ParseError::field(file, loc(), HEADER[i], problem);
    let optional = |i: usize| Some(field(i)).filter(|s| !s.is_empty()).map(str::to_string);
    let decimal = |i: usize| {
        remit_domain::model::money::parse_decimal(field(i))
            .map_err(|_| bad(i, format!("{:?} is not a decimal amount", crate::shown(field(i)))))
    };
    let number = AccountNumber::from_str(field(0)).map_err(|e| bad(0, e.to_string()))?;
    let market = Market::from_str(field(1)).map_err(|e| bad(1, e))?;
    let card = key.card(&number);
    let account_id = match r.get(HEADER.len()).map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) if remit_domain::mask_card_numbers(id) != id => {
            return Err(ParseError::field(
                file,
                loc(),
                ACCOUNT_ID,
                "is card-shaped: the card platform's account id must not be a card number",
            ))
        }
        Some(id) => Some(id.to_string()),
        None => None,
    };
    Ok(Account {
        card,
        last_five: Some(key.last_five_of(market, &number)),
        account_id,
        market,
        currency: currency(field(2)).map_err(|e| bad(2, e.to_string()))?,
        holder_name: field(3).to_string(),
        status: AccountStatus::from_str(field(4)).map_err(|e| bad(4, e))?,
        statement_balance: decimal(5)?,
        minimum_due: decimal(6)?,
        current_balance: decimal(5)?,
        virtual_account: optional(7),
        creditor_reference: optional(8)
            .map(|s| CreditorReference::from_str(&s).map_err(|e| bad(8, e.to_string())))
            .transpose()?,
        control_account: optional(9)
            .map(|s| AccountNumber::from_str(&s).map(|n| key.card(&n)).map_err(|e| bad(9, e.to_string())))
            .transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    const HEAD: &str = "account_number,market,currency,holder_name,status,statement_balance,minimum_due,virtual_account,creditor_reference,control_account\n";

    #[test]
    fn reads_rows() {
        let text = format!("{HEAD}378282246310005,CA,CAD,Jean Tremblay,active,100.00,10.00,,,\n");
        let accounts: Vec<_> =
            read_accounts("a.csv", text.as_bytes(), &CardKey::ephemeral()).unwrap().collect();
        let a = accounts[0].as_ref().unwrap();
        assert_eq!(a.holder_name, "Jean Tremblay");
        assert_eq!(a.current_balance, Decimal::new(10000, 2));
        assert_eq!(a.card.masked(), "***********0005");
        assert_eq!(
            (a.account_id.as_deref(), a.posting_id()),
            (None, a.card.stored()),
            "no column: the token"
        );
    }

    #[test]
    fn an_account_id_column_names_the_account_for_posting() {
        let text = format!(
            "{}{},{ACCOUNT_ID}\n378282246310005,CA,CAD,Jean Tremblay,active,100.00,10.00,,,,ACC-000123\n\
             371449635398431,CA,CAD,Marie Côté,active,1,1,,,,\n",
            "",
            HEAD.trim_end()
        );
        let accounts: Vec<_> = read_accounts("a.csv", text.as_bytes(), &CardKey::ephemeral())
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(accounts[0].posting_id(), "ACC-000123");
        assert_eq!(accounts[1].posting_id(), accounts[1].card.stored(), "empty: the token");
        let leaked = format!(
            "{}{},{ACCOUNT_ID}\n378282246310005,CA,CAD,X,active,1,1,,,,371449635398431\n",
            "",
            HEAD.trim_end()
        );
        let e = read_accounts("a.csv", leaked.as_bytes(), &CardKey::ephemeral())
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err();
        assert!(e.to_string().contains("account_id") && !e.to_string().contains("371449635398431"), "{e}");
    }

    #[test]
    fn bad_number_names_line_and_field_without_leaking() {
        let text = format!("{HEAD}378282246310006,CA,CAD,X,active,1,1,,,\n");
        let err = read_accounts("a.csv", text.as_bytes(), &CardKey::ephemeral())
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("a.csv") && msg.contains("line 2") && msg.contains("account_number"), "{msg}");
        assert!(!msg.contains("378282246310006"), "{msg}");
    }

    #[test]
    fn wrong_header() {
        assert!(read_accounts("a.csv", "a,b\n1,2\n".as_bytes(), &CardKey::ephemeral()).is_err());
    }
}
