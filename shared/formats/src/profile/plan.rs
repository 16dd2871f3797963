//! A profile compiled once into a plan: byte ranges, column names or paths per field, parsed
//! date patterns and amount rules, and a table from role to field, so readers do no lookups
//! by name per record.

use std::sync::Arc;

use remit_domain::model::money::{self, Currency};
use remit_domain::{KeyBasis, Market};

use super::encoding::Encoding;
use super::schema::{
    CountDoc, FieldDoc, FieldKind, Framing, Grouping, KeyDoc, Layout, ProfileDoc, RecordDoc, Span, Trim,
};
use super::values::{AmountRule, DatePattern};
use super::ProfileError;

/// What a field feeds in the payment (or the file's control totals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Amount,
    ValueDate,
    BookingDate,
    BankRef,
    Utr,
    PayerName,
    PayerAccount,
    PayerInstitution,
    PayerTransit,
    PayerIfsc,
    AccountReference,
    VirtualAccount,
    PayerCode,
    Narration,
    Direction,
    Currency,
    SourceBank,
    FileDate,
    ControlCount,
    ControlTotal,
    /// Any other name: kept as a named reference (`references.other`).
    Other,
}

impl Role {
    /// Number of roles (for role-indexed tables).
    pub const COUNT: usize = Role::Other as usize + 1;

    /// The role of a field name.
    pub fn of(name: &str) -> Role {
        match name {
            "amount" => Role::Amount,
            "value_date" => Role::ValueDate,
            "booking_date" => Role::BookingDate,
            "bank_ref" => Role::BankRef,
            "utr" => Role::Utr,
            "payer_name" => Role::PayerName,
            "payer_account" => Role::PayerAccount,
            "payer_institution" => Role::PayerInstitution,
            "payer_transit" => Role::PayerTransit,
            "payer_ifsc" => Role::PayerIfsc,
            "account_reference" => Role::AccountReference,
            "virtual_account" => Role::VirtualAccount,
            "payer_code" => Role::PayerCode,
            "narration" => Role::Narration,
            "direction" => Role::Direction,
            "currency" => Role::Currency,
            "source_bank" => Role::SourceBank,
            "file_date" => Role::FileDate,
            "control_count" => Role::ControlCount,
            "control_total" => Role::ControlTotal,
            _ => Role::Other,
        }
    }
}

/// How a field's text is interpreted.
#[derive(Debug, Clone)]
pub enum Kind {
    Text,
    Amount(AmountRule),
    Date(Vec<DatePattern>),
    Integer,
    Direction { credit: Vec<String>, debit: Vec<String> },
}

/// Where a field is.
#[derive(Debug, Clone)]
pub enum Loc {
    /// 0-based byte range, end exclusive.
    Bytes { start: usize, end: usize },
    /// CSV: a 0-based column, or header names (normalised) to look for.
    Column { index: Option<usize>, names: Vec<String> },
    /// JSON: dotted member path inside a record.
    Path(String),
}

/// One compiled field.
#[derive(Debug, Clone)]
pub struct FieldPlan {
    pub name: String,
    /// The name as a reference key: common names are static, so payments do not allocate them.
    pub key: std::borrow::Cow<'static, str>,
    pub role: Role,
    pub loc: Loc,
    pub kind: Kind,
    pub trim: Trim,
    pub required: bool,
    /// How errors name it: `amount (cols 31-42)`.
    pub label: String,
}

/// A record type's fields and where each role is.
#[derive(Debug, Clone, Default)]
pub struct RecordPlan {
    /// Record type code, in the file's encoding.
    pub code: Option<Vec<u8>>,
    /// The code as written in the profile.
    pub code_text: String,
    pub fields: Vec<FieldPlan>,
    /// Index into `fields` by `Role`.
    pub by_role: [Option<usize>; Role::COUNT],
}

impl RecordPlan {
    /// The field playing a role, if the record has one.
    pub fn field(&self, role: Role) -> Option<usize> {
        self.by_role[role as usize]
    }
}

/// Fixed-width framing, compiled.
#[derive(Debug, Clone)]
pub struct FixedPlan {
    pub record_length: usize,
    pub framing: Framing,
    pub record_type: Option<(usize, usize)>,
    pub count: CountDoc,
}

/// CSV dialect, compiled.
#[derive(Debug, Clone)]
pub struct CsvPlan {
    pub delimiter: u8,
    pub header: bool,
    pub skip_lines: u32,
    /// Lower-case first-column markers of a total row.
    pub total_row: Vec<String>,
}

/// A profile ready to read files: everything checked, nothing left to look up by name.
#[derive(Debug, Clone)]
pub struct Plan {
    pub name: String,
    pub description: String,
    pub market: Market,
    pub layout: Layout,
    pub encoding: Encoding,
    pub currency: Currency,
    pub source_bank: Arc<str>,
    pub key_basis: KeyBasis,
    pub fixed: Option<FixedPlan>,
    pub csv: Option<CsvPlan>,
    /// JSON: member path to the records array (empty = the document is the array).
    pub json_records: Vec<String>,
    pub header: Option<RecordPlan>,
    pub detail: RecordPlan,
    pub trailer: Option<RecordPlan>,
    /// Virtual account client code and payer code length.
    pub virtual_account: Option<(String, Option<usize>)>,
}

/// Lower-case letters and digits only: "Remitter A/c No." and "remitter a/c no" are one name.
pub fn normalise(name: &str) -> String {
    name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

fn err(key: impl Into<String>, problem: impl Into<String>) -> ProfileError {
    ProfileError::Invalid { key: key.into(), problem: problem.into() }
}

fn span(key: &str, s: &Span, record_length: usize) -> Result<(usize, usize), ProfileError> {
    if s.start == 0 || s.end < s.start {
        return Err(err(key, format!("start {} and end {} must satisfy 1 <= start <= end", s.start, s.end)));
    }
    if s.end as usize > record_length {
        return Err(err(key, format!("end {} is past record_length {record_length}", s.end)));
    }
    Ok((s.start as usize - 1, s.end as usize))
}

/// Compiles one field; `section` is its TOML table (`detail.fields.amount`).
fn field(
    doc: &ProfileDoc,
    section: &str,
    name: &str,
    f: &FieldDoc,
    record_length: Option<usize>,
) -> Result<FieldPlan, ProfileError> {
    let key = format!("{section}.{name}");
    let role = Role::of(name);
    let layout = doc.profile.layout;
    let has_pos = f.start.is_some() || f.end.is_some();
    let has_col = f.column.is_some() || f.index.is_some() || !f.synonyms.is_empty();
    let (loc, label) = match layout {
        Layout::FixedWidth => {
            if has_col || f.path.is_some() {
                return Err(err(&key, "a fixed-width field has start and end, not column, index or path"));
            }
            let (Some(start), Some(end)) = (f.start, f.end) else {
                return Err(err(&key, "needs start and end (1-based, inclusive byte positions)"));
            };
            let (s, e) = span(&key, &Span { start, end }, record_length.unwrap_or(usize::MAX))?;
            (Loc::Bytes { start: s, end: e }, format!("{name} (cols {start}-{end})"))
        }
        Layout::Csv => {
            if has_pos || f.path.is_some() {
                return Err(err(
                    &key,
                    "a CSV field has column (with synonyms) or index, not start/end or path",
                ));
            }
            let header = doc.csv.as_ref().is_none_or(|c| c.header);
            let index = match f.index {
                Some(0) => return Err(err(format!("{key}.index"), "columns are numbered from 1")),
                Some(i) => Some(i as usize - 1),
                None => None,
            };
            let mut names: Vec<String> =
                f.column.iter().chain(f.synonyms.iter()).map(|n| normalise(n)).collect();
            names.dedup();
            if index.is_none() && (names.is_empty() || !header) {
                return Err(err(
                    &key,
                    if header {
                        "needs column (a header name) or index (1-based)"
                    } else {
                        "needs index: csv.header is false"
                    },
                ));
            }
            if names.iter().any(String::is_empty) {
                return Err(err(format!("{key}.column"), "a header name needs letters or digits"));
            }
            let label = match (&f.column, index) {
                (Some(c), _) => format!("{name} (column {c:?})"),
                (None, Some(i)) => format!("{name} (column {})", i + 1),
                (None, None) => name.to_string(),
            };
            (Loc::Column { index, names }, label)
        }
        Layout::Json => {
            if has_pos || has_col {
                return Err(err(&key, "a JSON field has path, not start/end, column or index"));
            }
            let Some(path) = f.path.clone().filter(|p| !p.trim().is_empty()) else {
                return Err(err(&key, "needs path (dotted member names inside a record)"));
            };
            let label = format!("{name} (path {path})");
            (Loc::Path(path), label)
        }
    };
    let kind_ok = |wanted: &[FieldKind]| -> Result<(), ProfileError> {
        if wanted.contains(&f.kind) {
            Ok(())
        } else {
            Err(err(
                format!("{key}.type"),
                format!("the {name} field must have type {wanted:?}").to_lowercase(),
            ))
        }
    };
    match role {
        Role::Amount | Role::ControlTotal => kind_ok(&[FieldKind::Amount])?,
        Role::ValueDate | Role::BookingDate | Role::FileDate => kind_ok(&[FieldKind::Date])?,
        Role::ControlCount => kind_ok(&[FieldKind::Integer])?,
        Role::Direction => kind_ok(&[FieldKind::Direction])?,
        Role::Other => {}
        _ => kind_ok(&[FieldKind::Text])?,
    }
    let is_amount = f.kind == FieldKind::Amount;
    if !is_amount && (f.implied_decimals.is_some() || f.decimal.is_some() || f.grouping != Grouping::Any) {
        return Err(err(&key, "implied_decimals, decimal and grouping are for type = \"amount\""));
    }
    if f.kind != FieldKind::Date && (f.format.is_some() || !f.formats.is_empty()) {
        return Err(err(&key, "format and formats are for type = \"date\""));
    }
    if f.kind != FieldKind::Direction && (!f.credit.is_empty() || !f.debit.is_empty()) {
        return Err(err(&key, "credit and debit are for type = \"direction\""));
    }
    let kind = match f.kind {
        FieldKind::Text => Kind::Text,
        FieldKind::Integer => Kind::Integer,
        FieldKind::Amount => {
            let decimal = match f.decimal.as_deref() {
                None | Some(".") => b'.',
                Some(",") => b',',
                Some(other) => {
                    return Err(err(format!("{key}.decimal"), format!("{other:?} must be \".\" or \",\"")))
                }
            };
            if let Some(n) = f.implied_decimals {
                if n > 6 {
                    return Err(err(format!("{key}.implied_decimals"), "at most 6"));
                }
                if f.decimal.is_some() || f.grouping != Grouping::Any {
                    return Err(err(&key, "implied_decimals means digits only: no decimal or grouping"));
                }
            }
            Kind::Amount(AmountRule { implied: f.implied_decimals, decimal, grouping: f.grouping })
        }
        FieldKind::Date => {
            let texts: Vec<&String> = f.format.iter().chain(f.formats.iter()).collect();
            if texts.is_empty() {
                return Err(err(
                    &key,
                    "a date needs format (e.g. \"DDMMYY\", \"0YYDDD\", \"DD-MM-YYYY\") or formats",
                ));
            }
            let patterns = texts
                .iter()
                .map(|t| DatePattern::compile(t))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| err(format!("{key}.format"), e))?;
            Kind::Date(patterns)
        }
        FieldKind::Direction => {
            let up = |v: &[String], d: &[&str]| -> Vec<String> {
                if v.is_empty() {
                    d.iter().map(|s| s.to_string()).collect()
                } else {
                    v.iter().map(|s| s.trim().to_ascii_uppercase()).collect()
                }
            };
            Kind::Direction {
                credit: up(&f.credit, &["C", "CR", "CREDIT"]),
                debit: up(&f.debit, &["D", "DR", "DEBIT"]),
            }
        }
    };
    let required = f.required.unwrap_or(matches!(
        role,
        Role::Amount | Role::ValueDate | Role::BankRef | Role::Utr | Role::ControlCount | Role::ControlTotal
    ));
    const STATIC_KEYS: [&str; 10] = [
        "mode",
        "channel",
        "alert_sequence",
        "trace",
        "item_trace",
        "sundry",
        "customer_ref",
        "tx_id",
        "branch",
        "remarks",
    ];
    let key = match STATIC_KEYS.iter().find(|k| **k == name) {
        Some(k) => std::borrow::Cow::Borrowed(*k),
        None => std::borrow::Cow::Owned(name.to_string()),
    };
    Ok(FieldPlan { name: name.to_string(), key, role, loc, kind, trim: f.trim, required, label })
}

/// Roles each record type may hold (besides `Other`).
fn allowed(section: &str, role: Role) -> bool {
    match section {
        "header" => matches!(role, Role::SourceBank | Role::FileDate | Role::Currency | Role::Other),
        "trailer" => matches!(role, Role::ControlCount | Role::ControlTotal | Role::Other),
        _ => !matches!(role, Role::FileDate | Role::ControlCount | Role::ControlTotal | Role::SourceBank),
    }
}

fn record(
    doc: &ProfileDoc,
    section: &str,
    code: Option<&String>,
    fields: &std::collections::BTreeMap<String, FieldDoc>,
    encoding: &Encoding,
    fixed: Option<&FixedPlan>,
) -> Result<RecordPlan, ProfileError> {
    let mut plan = RecordPlan::default();
    match (fixed.and_then(|f| f.record_type), code) {
        (Some((s, e)), Some(c)) => {
            if c.len() != e - s || !c.is_ascii() {
                return Err(err(
                    format!("{section}.code"),
                    format!("{c:?} must be {} ASCII characters, the width of fixed_width.record_type", e - s),
                ));
            }
            plan.code = Some(c.bytes().map(|b| encoding.encode_ascii(b)).collect());
            plan.code_text = c.clone();
        }
        (Some(_), None) => {
            return Err(err(
                format!("{section}.code"),
                "missing: fixed_width.record_type says records have a type code",
            ))
        }
        (None, Some(_)) => {
            return Err(err(format!("{section}.code"), "needs fixed_width.record_type (where the code is)"))
        }
        (None, None) => {}
    }
    for (name, f) in fields {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(err(format!("{section}.fields.{name}"), "field names are lower_snake_case"));
        }
        let fp = field(doc, &format!("{section}.fields"), name, f, fixed.map(|f| f.record_length))?;
        if !allowed(section, fp.role) {
            return Err(err(
                format!("{section}.fields.{name}"),
                format!("{name} does not belong in the {section} record"),
            ));
        }
        if fp.role != Role::Other {
            plan.by_role[fp.role as usize] = Some(plan.fields.len());
        }
        plan.fields.push(fp);
    }
    Ok(plan)
}

/// Checks a parsed profile and compiles it.
pub fn compile(doc: &ProfileDoc) -> Result<Plan, ProfileError> {
    let p = &doc.profile;
    if p.name.trim().is_empty() {
        return Err(err("profile.name", "must not be empty"));
    }
    let market: Market = p.market.parse().map_err(|e: String| err("profile.market", e))?;
    let currency = money::currency(&p.currency).map_err(|e| err("profile.currency", e.to_string()))?;
    if p.source_bank.trim().is_empty() {
        return Err(err("profile.source_bank", "must not be empty"));
    }
    let encoding = Encoding::of(p.encoding);
    let only = |present: bool, key: &str, layout: &str| -> Result<(), ProfileError> {
        if present {
            Err(err(key, format!("only for profile.layout = \"{layout}\"")))
        } else {
            Ok(())
        }
    };
    if p.layout != Layout::FixedWidth {
        only(doc.fixed_width.is_some(), "fixed_width", "fixed-width")?;
        only(doc.header.is_some(), "header", "fixed-width")?;
        only(doc.trailer.is_some(), "trailer", "fixed-width")?;
    }
    if p.layout != Layout::Csv {
        only(doc.csv.is_some(), "csv", "csv")?;
    }
    if p.layout != Layout::Json {
        only(doc.json.is_some(), "json", "json")?;
    }
    if p.layout != Layout::FixedWidth && p.encoding == super::schema::EncodingName::Cp037 {
        return Err(err("profile.encoding", "cp037 (EBCDIC) is for fixed-width layouts"));
    }
    let fixed = match (p.layout, &doc.fixed_width) {
        (Layout::FixedWidth, None) => {
            return Err(err("fixed_width", "missing: a fixed-width profile needs [fixed_width]"))
        }
        (Layout::FixedWidth, Some(fw)) => {
            let len = fw.record_length as usize;
            if !(1..=65_536).contains(&len) {
                return Err(err("fixed_width.record_length", "must be between 1 and 65536"));
            }
            let record_type =
                fw.record_type.as_ref().map(|s| span("fixed_width.record_type", s, len)).transpose()?;
            if record_type.is_none() && (doc.header.is_some() || doc.trailer.is_some()) {
                return Err(err(
                    "fixed_width.record_type",
                    "missing: header and trailer records need a type code",
                ));
            }
            Some(FixedPlan {
                record_length: len,
                framing: fw.framing,
                record_type,
                count: doc.trailer.as_ref().map(|t| t.count).unwrap_or_default(),
            })
        }
        _ => None,
    };
    let csv = match p.layout {
        Layout::Csv => {
            let c = doc.csv.clone().unwrap_or(super::schema::CsvDoc {
                delimiter: ",".into(),
                header: true,
                skip_lines: 0,
                total_row: Vec::new(),
            });
            let d = c.delimiter.as_bytes();
            if d.len() != 1 || d[0] == b'"' || d[0] == b'\n' || d[0] == b'\r' {
                return Err(err(
                    "csv.delimiter",
                    format!("{:?} must be one ASCII character (not a quote)", c.delimiter),
                ));
            }
            Some(CsvPlan {
                delimiter: d[0],
                header: c.header,
                skip_lines: c.skip_lines,
                total_row: c.total_row.iter().map(|s| s.trim().to_lowercase()).collect(),
            })
        }
        _ => None,
    };
    let json_records = match (&doc.json, p.layout) {
        (Some(j), _) => j.records.split('.').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        (None, Layout::Json) => {
            return Err(err("json", "missing: a JSON profile needs [json] records = \"...\""))
        }
        _ => Vec::new(),
    };
    let header = doc
        .header
        .as_ref()
        .map(|h: &RecordDoc| record(doc, "header", h.code.as_ref(), &h.fields, &encoding, fixed.as_ref()))
        .transpose()?;
    let detail =
        record(doc, "detail", doc.detail.code.as_ref(), &doc.detail.fields, &encoding, fixed.as_ref())?;
    let trailer = doc
        .trailer
        .as_ref()
        .map(|t| record(doc, "trailer", t.code.as_ref(), &t.fields, &encoding, fixed.as_ref()))
        .transpose()?;
    let codes: Vec<&[u8]> = [header.as_ref(), Some(&detail), trailer.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(|r| r.code.as_deref())
        .collect();
    for (i, c) in codes.iter().enumerate() {
        if codes[..i].contains(c) {
            return Err(err("detail.code", "header, detail and trailer need different codes"));
        }
    }
    if detail.field(Role::Amount).is_none() {
        return Err(err("detail.fields.amount", "missing: every profile needs the amount field"));
    }
    let file_date = header.as_ref().and_then(|h| h.field(Role::FileDate)).is_some();
    if detail.field(Role::ValueDate).is_none() && !file_date {
        return Err(err(
            "detail.fields.value_date",
            "missing: needs value_date (or header.fields.file_date)",
        ));
    }
    let key_basis = match p.key {
        KeyDoc::BankReference => KeyBasis::BankReference,
        KeyDoc::FilePosition => KeyBasis::FilePosition,
    };
    if key_basis == KeyBasis::BankReference
        && detail.field(Role::BankRef).is_none()
        && detail.field(Role::Utr).is_none()
    {
        return Err(err(
            "detail.fields.bank_ref",
            "missing: payments are keyed by bank reference (add bank_ref or utr, or set profile.key = \"file-position\")",
        ));
    }
    if let Some(t) = &trailer {
        if t.field(Role::ControlCount).is_none() && t.field(Role::ControlTotal).is_none() {
            return Err(err(
                "trailer.fields",
                "a trailer needs control_count or control_total (or leave [trailer] out)",
            ));
        }
    }
    let virtual_account = match &doc.virtual_account {
        Some(v) => {
            if v.client_code.trim().is_empty() {
                return Err(err("virtual_account.client_code", "must not be empty"));
            }
            Some((v.client_code.trim().to_string(), v.payer_code_length.map(|n| n as usize)))
        }
        None => None,
    };
    Ok(Plan {
        name: p.name.clone(),
        description: p.description.clone(),
        market,
        layout: p.layout,
        encoding,
        currency,
        source_bank: p.source_bank.trim().into(),
        key_basis,
        fixed,
        csv,
        json_records,
        header,
        detail,
        trailer,
        virtual_account,
    })
}
