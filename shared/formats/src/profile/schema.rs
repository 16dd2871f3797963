//! The profile file as written: TOML mapped onto these structs with serde. Unknown keys are
//! refused (`deny_unknown_fields`) so a typo never silently drops a field; `plan::compile`
//! then checks what serde cannot and names the TOML key at fault.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A whole profile file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileDoc {
    /// What the source is and how its bytes are encoded.
    pub profile: ProfileMeta,
    /// Fixed-width framing; required when `profile.layout = "fixed-width"`.
    pub fixed_width: Option<FixedWidthDoc>,
    /// CSV dialect; used when `profile.layout = "csv"`.
    pub csv: Option<CsvDoc>,
    /// Where the records are in a JSON document; required when `profile.layout = "json"`.
    pub json: Option<JsonDoc>,
    /// The header record (fixed-width only): fields that apply to the whole file.
    pub header: Option<RecordDoc>,
    /// The detail record: one payment each.
    pub detail: RecordDoc,
    /// The trailer record (fixed-width only): control totals.
    pub trailer: Option<TrailerDoc>,
    /// India virtual-account pattern: client code prefix plus payer code.
    pub virtual_account: Option<VirtualAccountDoc>,
}

/// The `[profile]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileMeta {
    /// Short identifier, e.g. `ca-billpay-remittance`.
    pub name: String,
    /// One line for people.
    #[serde(default)]
    pub description: String,
    /// `CA`, `IN` or `EU`.
    pub market: String,
    /// `fixed-width`, `csv` or `json`.
    pub layout: Layout,
    /// Character encoding of the file.
    #[serde(default)]
    pub encoding: EncodingName,
    /// ISO 4217 currency when the file has no currency field.
    pub currency: String,
    /// The sending bank or biller, part of each payment's key; a `source_bank` header field wins.
    pub source_bank: String,
    /// `bank-reference` (default: the `bank_ref`/`utr` field is unique per source bank) or
    /// `file-position` (the bank reuses references).
    #[serde(default)]
    pub key: KeyDoc,
}

/// The three layout families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    FixedWidth,
    Csv,
    Json,
}

/// Declared encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EncodingName {
    #[default]
    #[serde(rename = "utf-8", alias = "utf8")]
    Utf8,
    #[serde(rename = "windows-1252", alias = "cp1252")]
    Windows1252,
    #[serde(rename = "iso-8859-1", alias = "latin1", alias = "latin-1")]
    Iso88591,
    /// EBCDIC code page 037 (IBM US/Canada).
    #[serde(rename = "cp037", alias = "ebcdic-cp037", alias = "ibm037")]
    Cp037,
}

/// What a payment's identity is built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyDoc {
    #[default]
    BankReference,
    FilePosition,
}

/// `[fixed_width]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedWidthDoc {
    /// Bytes per record. Longer lines are refused; shorter ones are padded with spaces.
    pub record_length: u32,
    /// `lines` (default: records end at LF or CRLF) or `fixed` (back to back, no line breaks).
    #[serde(default)]
    pub framing: Framing,
    /// Where the record type code sits; absent means every record is a detail record.
    pub record_type: Option<Span>,
}

/// How fixed-width records are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framing {
    #[default]
    Lines,
    Fixed,
}

/// A 1-based inclusive byte range.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

/// `[csv]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvDoc {
    /// One ASCII character; `,` by default.
    #[serde(default = "comma")]
    pub delimiter: String,
    /// Whether the first row (after `skip_lines`) names the columns; true by default.
    #[serde(default = "yes")]
    pub header: bool,
    /// Title lines before the header row.
    #[serde(default)]
    pub skip_lines: u32,
    /// First-column values that mark a control-total row (its amount column is the total).
    #[serde(default)]
    pub total_row: Vec<String>,
}

fn comma() -> String {
    ",".into()
}

fn yes() -> bool {
    true
}

/// `[json]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonDoc {
    /// Dotted member path from the top-level object to the array of records; empty when the
    /// document itself is the array.
    #[serde(default)]
    pub records: String,
}

/// `[header]` or `[detail]`: a record type and its fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordDoc {
    /// Record type code(s) at `fixed_width.record_type`.
    #[serde(default)]
    pub code: Option<String>,
    /// Fields by name; well-known names feed the payment (see `profiles/README.md`), any
    /// other name is kept as a named reference.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldDoc>,
}

/// `[trailer]`: a record type with control totals.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrailerDoc {
    pub code: Option<String>,
    /// What `control_count` counts: `details` (default) or `records` (header and trailer too).
    #[serde(default)]
    pub count: CountDoc,
    #[serde(default)]
    pub fields: BTreeMap<String, FieldDoc>,
}

/// What the trailer's record count covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CountDoc {
    #[default]
    Details,
    Records,
}

/// One field: where it is (positions, column or path) and how to read it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDoc {
    /// Fixed-width: first byte, 1-based.
    pub start: Option<u32>,
    /// Fixed-width: last byte, inclusive.
    pub end: Option<u32>,
    /// CSV: header name (matched ignoring case, spaces and punctuation).
    pub column: Option<String>,
    /// CSV: other header names for the same column.
    #[serde(default)]
    pub synonyms: Vec<String>,
    /// CSV: 1-based column number (when there is no header, or to pin a column).
    pub index: Option<u32>,
    /// JSON: dotted member path inside a record.
    pub path: Option<String>,
    /// `text` (default), `amount`, `date`, `integer` or `direction`.
    #[serde(rename = "type", default)]
    pub kind: FieldKind,
    /// Text: `both` (default), `left`, `right` or `none`.
    #[serde(default)]
    pub trim: Trim,
    /// Amount: digits only, the last N are decimals (`000001234` with 2 = 12.34).
    pub implied_decimals: Option<u32>,
    /// Amount: decimal separator, `.` (default) or `,`.
    pub decimal: Option<String>,
    /// Amount: digit grouping allowed, `any` (default), `western`, `lakh` or `none`.
    #[serde(default)]
    pub grouping: Grouping,
    /// Date: one pattern (`YYYYMMDD`, `DDMMYY`, `0YYDDD`, `DD-MM-YYYY`, `DD-Mon-YYYY`...).
    pub format: Option<String>,
    /// Date: several accepted patterns, tried in order.
    #[serde(default)]
    pub formats: Vec<String>,
    /// Direction: values meaning credit (default `C`, `CR`, `CREDIT`).
    #[serde(default)]
    pub credit: Vec<String>,
    /// Direction: values meaning debit (default `D`, `DR`, `DEBIT`).
    #[serde(default)]
    pub debit: Vec<String>,
    /// Whether an empty value is an error; by default only the amount, date and bank reference
    /// are required.
    pub required: Option<bool>,
}

/// How field text is trimmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trim {
    #[default]
    Both,
    Left,
    Right,
    None,
}

/// The field kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldKind {
    #[default]
    Text,
    Amount,
    Date,
    Integer,
    Direction,
}

/// Digit grouping in amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grouping {
    #[default]
    Any,
    Western,
    Lakh,
    None,
}

/// `[virtual_account]`: how the bank builds virtual account numbers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VirtualAccountDoc {
    /// The client code every virtual account starts with, e.g. `AMEX01`.
    pub client_code: String,
    /// Length of the payer code after it, when fixed.
    pub payer_code_length: Option<u32>,
}
