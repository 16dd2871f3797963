//! One error type for every reader: it always names the file, where in it, and what was wrong,
//! so a bank can be told exactly why its file was refused.

use remit_domain::text::shown::one_line;
use std::fmt;

/// Where in a file a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A fixed-width record: 1-based record number and byte offset.
    Record { number: u64, offset: u64 },
    /// A text line (CSV, MT940): 1-based line number.
    Line { number: u64 },
    /// An XML or JSON element: its path and the byte offset reached.
    Element { path: String, offset: u64 },
    /// The file as a whole (trailer totals, missing sections, unknown format).
    File,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Record { number, offset } => write!(f, "record {number} (byte {offset})"),
            Location::Line { number } => write!(f, "line {number}"),
            Location::Element { path, offset } => write!(f, "element {path} (byte {offset})"),
            Location::File => f.write_str("file"),
        }
    }
}

/// Why a file (or a record of it) could not be read. Messages never carry unmasked card numbers:
/// readers pass offending values through `remit_domain::mask_card_numbers`. The file name is
/// printed with its control characters escaped (`one_line`): a name holding a newline cannot
/// forge a line of whatever prints the message.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// A field's value is wrong.
    #[error("{}: {location}: field {field}: {problem}", one_line(.file))]
    Field { file: String, location: Location, field: String, problem: String },
    /// The file's structure is wrong (record order, missing trailer, totals that disagree).
    #[error("{}: {location}: {problem}", one_line(.file))]
    Structure { file: String, location: Location, problem: String },
    /// The bytes could not be read.
    #[error("{}: read failed: {source}", one_line(.file))]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The file's source failed under the reader (a read that broke off, a timeout): not the
    /// content's fault, so the file is not quarantined and a retry reads it again.
    #[error("{}: the source failed while reading: {detail}", one_line(.file))]
    Source { file: String, detail: String },
    /// No reader recognises the content.
    #[error("{}: format not recognised: {reason}", one_line(.file))]
    UnknownFormat { file: String, reason: String },
    /// The file goes past one of the reader's bounds (`crate::Limits`): refused while reading,
    /// before it can cost unbounded memory or time.
    #[error("{}: {location}: {what} exceeds the limit of {limit}", one_line(.file))]
    Limit { file: String, location: Location, what: String, limit: String },
}

impl ParseError {
    /// A field-level error; the value in `problem` should already be masked.
    pub fn field(
        file: &str,
        location: Location,
        field: impl Into<String>,
        problem: impl Into<String>,
    ) -> Self {
        ParseError::Field {
            file: file.to_string(),
            location,
            field: field.into(),
            problem: remit_domain::mask_card_numbers(&problem.into()),
        }
    }

    /// A structural error.
    pub fn structure(file: &str, location: Location, problem: impl Into<String>) -> Self {
        ParseError::Structure {
            file: file.to_string(),
            location,
            problem: remit_domain::mask_card_numbers(&problem.into()),
        }
    }

    /// A bound exceeded: `what` names it ("line length", "XML depth"...), `limit` its value.
    pub fn limit(file: &str, location: Location, what: impl Into<String>, limit: impl fmt::Display) -> Self {
        ParseError::Limit { file: file.to_string(), location, what: what.into(), limit: limit.to_string() }
    }

    /// An I/O error while reading a file.
    pub fn io(file: &str, source: std::io::Error) -> Self {
        if remit_domain::ingest::is_source_failure(&source) {
            return ParseError::Source { file: file.to_string(), detail: source.to_string() };
        }
        ParseError::Io { file: file.to_string(), source }
    }
}

impl remit_domain::ingest::ReadFailure for ParseError {
    fn source_failed(&self) -> bool {
        matches!(self, ParseError::Source { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17: the file name was printed raw, so a name holding a newline forged a line.
    #[test]
    fn the_file_name_is_printed_on_one_line() {
        let e = ParseError::structure("in/a.csv\nfile b.csv: completed\u{1b}[31m", Location::File, "empty");
        assert_eq!(e.to_string(), "in/a.csv\\nfile b.csv: completed\\u{1b}[31m: file: empty");
    }
}
