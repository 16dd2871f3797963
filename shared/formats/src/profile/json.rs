//! JSON documents read with a profile: a pull parser walks to the records array (a dotted
//! member path) and reads one record object at a time, picking fields by dotted path. Strings,
//! names, numbers and nesting are bounded while they are read (`guard`).

use std::io::{BufRead, Read};
use std::sync::Arc;

use remit_domain::{Payment, Provenance};
use struson::reader::{JsonReader, JsonStreamReader, ReaderError, ValueType};

use super::build::{self, extract, FileState};
use super::encoding::Encoding;
use super::plan::{Loc, Plan};
use super::schema::EncodingName;
use crate::{Limits, Location, ParseError, SourceContext};

use crate::json_guard::{control_in, describe, limit_error, Guarded};

/// Deepest nesting inside a record that is searched for fields.
const MAX_DEPTH: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    Array,
    Single,
    Trailer,
}

/// Streams payments from a JSON document with a compiled profile, record by record.
pub struct JsonProfileReader<R: BufRead> {
    raw: Option<R>,
    json: Option<JsonStreamReader<Guarded<R>>>,
    ctx: SourceContext,
    plan: Arc<Plan>,
    phase: Phase,
    count: u64,
    slots: Vec<String>,
    file: FileState,
    done: bool,
}

fn json_error<G: Read>(file: &str, json: &JsonStreamReader<G>, e: ReaderError) -> ParseError {
    if let Some(limit) = limit_error(file, "$".into(), &e) {
        return limit;
    }
    let e = match e {
        ReaderError::IoError { error, .. } if error.kind() != std::io::ErrorKind::InvalidData => {
            return ParseError::io(file, error);
        }
        other => other,
    };
    let offset = json.current_position(false).data_pos.unwrap_or(0);
    ParseError::structure(
        file,
        Location::Element { path: "$".into(), offset },
        format!("invalid JSON: {}", describe(&e)),
    )
}

/// Reads a scalar as text borrowed from the parser (numbers in their exact textual form).
fn scalar<G: Read>(json: &mut JsonStreamReader<G>, kind: ValueType) -> Result<Option<&str>, ReaderError> {
    Ok(match kind {
        ValueType::String => Some(json.next_str()?),
        ValueType::Number => Some(json.next_number_as_str()?),
        ValueType::Boolean => Some(if json.next_bool()? { "true" } else { "false" }),
        _ => {
            json.skip_value()?;
            None
        }
    })
}

/// Walks one object's members, filling the slots of fields whose path matches.
fn walk<G: Read>(
    json: &mut JsonStreamReader<G>,
    plan: &Plan,
    slots: &mut [String],
    prefix: &mut String,
    depth: usize,
) -> Result<(), ReaderError> {
    json.begin_object()?;
    while json.has_next()? {
        let len = prefix.len();
        if !prefix.is_empty() {
            prefix.push('.');
        }
        prefix.push_str(json.next_name()?);
        match json.peek()? {
            ValueType::Object if depth < MAX_DEPTH => walk(json, plan, slots, prefix, depth + 1)?,
            ValueType::Object | ValueType::Array | ValueType::Null => json.skip_value()?,
            kind => {
                let wanted = |f: &super::plan::FieldPlan| matches!(&f.loc, Loc::Path(p) if p == prefix);
                if !plan.detail.fields.iter().any(wanted) {
                    // Not a field of the profile: skipped unread.
                    json.skip_value()?;
                } else if let Some(v) = scalar(json, kind)? {
                    let utf8 = Encoding::of(EncodingName::Utf8);
                    for (i, f) in plan.detail.fields.iter().enumerate() {
                        if wanted(f) {
                            // Valid UTF-8 already: extract only trims.
                            let _ = extract(&utf8, f, v.as_bytes(), b' ', &mut slots[i]);
                        }
                    }
                }
            }
        }
        prefix.truncate(len);
    }
    json.end_object()
}

impl<R: BufRead> JsonProfileReader<R> {
    /// Nothing is read until the first `next()`, so construction cannot fail.
    pub fn new(reader: R, ctx: SourceContext, plan: Arc<Plan>) -> Self {
        let n = plan.detail.fields.len();
        Self {
            raw: Some(reader),
            json: None,
            ctx,
            file: FileState::new(&plan),
            plan,
            phase: Phase::Start,
            count: 0,
            slots: vec![String::new(); n],
            done: false,
        }
    }

    fn records_path(&self) -> String {
        if self.plan.json_records.is_empty() {
            "$".into()
        } else {
            self.plan.json_records.join(".")
        }
    }

    fn record(&mut self, path: String) -> Result<Payment, ParseError> {
        let file = self.ctx.file_name.clone();
        let Some(json) = self.json.as_mut() else {
            return Err(ParseError::structure(&file, Location::File, "reader already finished"));
        };
        self.count += 1;
        let offset = json.current_position(false).data_pos.unwrap_or(0);
        let kind = json.peek().map_err(|e| json_error(&file, json, e))?;
        if kind != ValueType::Object {
            return Err(ParseError::structure(
                &file,
                Location::Element { path, offset },
                format!("a record must be a JSON object, found {kind}"),
            ));
        }
        for s in &mut self.slots {
            s.clear();
        }
        let mut prefix = String::new();
        if let Err(e) = walk(json, &self.plan, &mut self.slots, &mut prefix, 0) {
            return Err(json_error(&file, json, e));
        }
        // JSON lets a control character in only escaped (`\u0000`); a text field keeps none.
        for (i, slot) in self.slots.iter().enumerate() {
            if let Some((at, byte)) = control_in(slot) {
                let field = &self.plan.detail.fields[i];
                let member = match &field.loc {
                    Loc::Path(p) => p.as_str(),
                    _ => "",
                };
                return Err(ParseError::field(
                    &file,
                    Location::Element { path: format!("{path}.{member}"), offset },
                    field.label.clone(),
                    format!("control character 0x{byte:02X} at character {} of the value", at + 1),
                ));
            }
        }
        let source = Provenance {
            file_id: self.ctx.file_id,
            file: file.clone(),
            record: self.count,
            offset,
            position: 0,
        };
        build::build(&self.plan, &self.slots, &self.file, source).map_err(|f| {
            let field = &self.plan.detail.fields[f.field];
            let member = match &field.loc {
                Loc::Path(p) => p.as_str(),
                _ => "",
            };
            ParseError::field(
                &file,
                Location::Element { path: format!("{path}.{member}"), offset },
                field.label.clone(),
                f.problem,
            )
        })
    }

    fn step(&mut self) -> Result<Option<Payment>, ParseError> {
        if self.json.is_none() {
            let Some(mut raw) = self.raw.take() else { return Ok(None) };
            crate::strip_bom(&mut raw).map_err(|e| ParseError::io(&self.ctx.file_name, e))?;
            self.json = Some(JsonStreamReader::new(Guarded::new(raw, &Limits::default())));
        }
        let file = self.ctx.file_name.clone();
        loop {
            let records_path = self.records_path();
            let Some(json) = self.json.as_mut() else { return Ok(None) };
            let e = |json: &JsonStreamReader<Guarded<R>>, e| json_error(&file, json, e);
            match self.phase {
                Phase::Start => {
                    for (depth, member) in self.plan.json_records.iter().enumerate() {
                        if json.peek().map_err(|x| e(json, x))? != ValueType::Object {
                            return Err(ParseError::structure(
                                &file,
                                Location::Element {
                                    path: self.plan.json_records[..depth].join("."),
                                    offset: 0,
                                },
                                format!("expected a JSON object holding {member:?} (json.records)"),
                            ));
                        }
                        json.begin_object().map_err(|x| e(json, x))?;
                        loop {
                            if !json.has_next().map_err(|x| e(json, x))? {
                                return Err(ParseError::structure(
                                    &file,
                                    Location::File,
                                    format!("no {member:?} member (json.records = {records_path:?})"),
                                ));
                            }
                            let found = match json.next_name() {
                                Ok(name) => name == member.as_str(),
                                Err(x) => return Err(e(json, x)),
                            };
                            if found {
                                break;
                            }
                            json.skip_value().map_err(|x| e(json, x))?;
                        }
                    }
                    match json.peek().map_err(|x| e(json, x))? {
                        ValueType::Array => {
                            json.begin_array().map_err(|x| e(json, x))?;
                            self.phase = Phase::Array;
                        }
                        ValueType::Object if !self.plan.json_records.is_empty() => self.phase = Phase::Single,
                        other => {
                            return Err(ParseError::structure(
                                &file,
                                Location::Element { path: records_path, offset: 0 },
                                format!("expected an array of records, found {other}"),
                            ))
                        }
                    }
                }
                Phase::Array => {
                    if json.has_next().map_err(|x| e(json, x))? {
                        let path = format!("{records_path}[{}]", self.count);
                        return self.record(path).map(Some);
                    }
                    json.end_array().map_err(|x| e(json, x))?;
                    self.phase = Phase::Trailer;
                }
                Phase::Single => {
                    self.phase = Phase::Trailer;
                    return self.record(records_path).map(Some);
                }
                Phase::Trailer => {
                    for _ in 0..self.plan.json_records.len() {
                        while json.has_next().map_err(|x| e(json, x))? {
                            json.skip_name().map_err(|x| e(json, x))?;
                            json.skip_value().map_err(|x| e(json, x))?;
                        }
                        json.end_object().map_err(|x| e(json, x))?;
                    }
                    let offset = json.current_position(false).data_pos.unwrap_or(0);
                    if let Some(json) = self.json.take() {
                        json.consume_trailing_whitespace().map_err(|x| {
                            ParseError::structure(
                                &file,
                                Location::Element { path: "$".into(), offset },
                                format!("content after the JSON document: {x}"),
                            )
                        })?;
                    }
                    return Ok(None);
                }
            }
        }
    }
}

impl<R: BufRead> Iterator for JsonProfileReader<R> {
    type Item = Result<Payment, ParseError>;

    /// Any error ends the file: the whole file is quarantined upstream.
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let step = self.step();
        crate::end_at_first_error(&mut self.done, step)
    }
}
