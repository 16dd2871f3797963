//! Push-alert JSON (`{"GenericCorporateAlertRequest": [ {alert}, ... ]}`), read with a pull
//! parser one alert at a time, so a file with millions of alerts reads in flat memory; strings,
//! names, numbers and nesting are bounded while they are read (`guard`).

use std::io::{BufRead, Read};

use remit_domain::{Payment, Provenance, SourceFormat};
use struson::reader::{JsonReader, JsonStreamReader, ReaderError, ValueType};

use super::fields::{build_payment, Field, RawRecord};
use crate::json_guard::{control_in, describe, limit_error, Guarded};
use crate::strip_bom;
use crate::{shown, Limits, Location, ParseError, SourceContext};

/// The member holding the alerts.
const ALERTS: &str = "GenericCorporateAlertRequest";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Looking for the alerts member in the top-level object.
    Start,
    /// Inside the alerts array.
    Array,
    /// The alerts member held one alert object, not an array.
    Single,
    /// Alerts done: the rest of the top-level object and end of input.
    Trailer,
}

/// Streams payments from a push-alert JSON file, alert by alert.
pub struct IndiaJsonReader<R: BufRead> {
    raw: Option<R>,
    json: Option<JsonStreamReader<Guarded<R>>>,
    ctx: SourceContext,
    phase: Phase,
    /// Alerts started so far; the current alert's 1-based ordinal.
    count: u64,
    fields: RawRecord,
    /// The member name each field was read from (for messages), reused between alerts.
    names: [String; Field::COUNT],
    name: String,
    done: bool,
}

/// JSON path text such as `GenericCorporateAlertRequest[3].Transaction Amount`; each member
/// name cut by `shown`, and a deep path shown by its first two and last three steps around `…`,
/// so a hostile name or nesting cannot fill a message.
fn path_text(pieces: &[struson::reader::json_path::JsonPathPiece]) -> String {
    use struson::reader::json_path::JsonPathPiece;
    const HEAD: usize = 2;
    const TAIL: usize = 3;
    let mut s = String::new();
    for (n, p) in pieces.iter().enumerate() {
        if pieces.len() > HEAD + TAIL + 1 && (HEAD..pieces.len() - TAIL).contains(&n) {
            if n == HEAD {
                s.push_str(".…");
            }
            continue;
        }
        match p {
            JsonPathPiece::ArrayItem(i) => s.push_str(&format!("[{i}]")),
            JsonPathPiece::ObjectMember(name) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(&shown(name));
            }
        }
    }
    if s.is_empty() {
        s.push('$');
    }
    s
}

/// Maps a parser error to a structural error at the parser's position, or to the bound the
/// input passed (`guard`).
fn json_error<G: Read>(file: &str, json: &JsonStreamReader<G>, e: ReaderError) -> ParseError {
    let pos = json.current_position(true);
    let path = pos.path.as_deref().map(path_text).unwrap_or_else(|| "$".into());
    if let Some(limit) = limit_error(file, path.clone(), &e) {
        return limit;
    }
    let e = match e {
        ReaderError::IoError { error, .. } if error.kind() != std::io::ErrorKind::InvalidData => {
            return ParseError::io(file, error);
        }
        other => other,
    };
    ParseError::structure(
        file,
        Location::Element { path, offset: pos.data_pos.unwrap_or(0) },
        format!("invalid JSON: {}", describe(&e)),
    )
}

/// Reads a scalar as text, borrowed from the parser: strings as they are, numbers in their
/// exact textual form (never through a float), booleans as `true`/`false`, null as absent.
fn scalar<G: Read>(json: &mut JsonStreamReader<G>) -> Result<Result<Option<&str>, ValueType>, ReaderError> {
    Ok(match json.peek()? {
        ValueType::String => Ok(Some(json.next_str()?)),
        ValueType::Number => Ok(Some(json.next_number_as_str()?)),
        ValueType::Boolean => Ok(Some(if json.next_bool()? { "true" } else { "false" })),
        ValueType::Null => {
            json.next_null()?;
            Ok(None)
        }
        other => {
            json.skip_value()?;
            Err(other)
        }
    })
}

impl<R: BufRead> IndiaJsonReader<R> {
    /// Nothing is read until the first `next()`, so construction cannot fail.
    pub fn new(reader: R, ctx: SourceContext) -> Self {
        Self {
            raw: Some(reader),
            json: None,
            ctx,
            phase: Phase::Start,
            count: 0,
            fields: RawRecord::default(),
            names: Default::default(),
            name: String::new(),
            done: false,
        }
    }

    /// Reads one alert object into a payment.
    fn alert(&mut self, path_prefix: &str) -> Result<Payment, ParseError> {
        let file = &*self.ctx.file_name;
        let Some(json) = self.json.as_mut() else {
            return Err(ParseError::structure(file, Location::File, "reader already finished"));
        };
        self.count += 1;
        let offset = json.current_position(false).data_pos.unwrap_or(0);
        let at = |field: &str| Location::Element {
            path: if field.is_empty() { path_prefix.to_string() } else { format!("{path_prefix}.{field}") },
            offset,
        };
        let kind = json.peek().map_err(|e| json_error(file, json, e))?;
        if kind != ValueType::Object {
            return Err(ParseError::structure(
                file,
                at(""),
                format!("an alert must be a JSON object, found {kind}"),
            ));
        }
        json.begin_object().map_err(|e| json_error(file, json, e))?;
        self.fields.clear();
        let mut ranks = [usize::MAX; Field::COUNT];
        while json.has_next().map_err(|e| json_error(file, json, e))? {
            // Names and values are borrowed from the parser: nothing is allocated per member.
            let name = match json.next_name() {
                Ok(n) => n,
                Err(e) => return Err(json_error(file, json, e)),
            };
            let Some((field, rank)) = Field::for_name(name) else {
                json.skip_value().map_err(|e| json_error(file, json, e))?;
                continue;
            };
            self.name.clear();
            self.name.push_str(name);
            let value = match scalar(json) {
                Ok(v) => v,
                Err(e) => return Err(json_error(file, json, e)),
            };
            match value {
                Err(kind) => {
                    return Err(ParseError::field(
                        file,
                        at(&self.name),
                        self.name.clone(),
                        format!("expected text or a number, found {kind}"),
                    ))
                }
                Ok(Some(value)) if rank < ranks[field as usize] && !value.trim().is_empty() => {
                    if let Some((char_at, byte)) = control_in(value) {
                        return Err(ParseError::field(
                            file,
                            at(&self.name),
                            self.name.clone(),
                            format!(
                                "control character 0x{byte:02X} at character {} of the value",
                                char_at + 1
                            ),
                        ));
                    }
                    ranks[field as usize] = rank;
                    self.fields.set(field, value);
                    let kept = &mut self.names[field as usize];
                    kept.clear();
                    kept.push_str(&self.name);
                }
                Ok(_) => {}
            }
        }
        json.end_object().map_err(|e| json_error(file, json, e))?;
        let source = Provenance {
            file_id: self.ctx.file_id,
            file: self.ctx.file_name.clone(),
            record: self.count,
            offset,
            position: 0,
        };
        build_payment(&self.fields, SourceFormat::IndiaJson, source).map_err(|p| {
            let i = p.field as usize;
            let name =
                if ranks[i] == usize::MAX { p.field.label().to_string() } else { self.names[i].clone() };
            ParseError::field(file, at(&name), name, p.problem)
        })
    }

    fn step(&mut self) -> Result<Option<Payment>, ParseError> {
        if self.json.is_none() {
            let Some(mut raw) = self.raw.take() else { return Ok(None) };
            strip_bom(&mut raw).map_err(|e| ParseError::io(&self.ctx.file_name, e))?;
            self.json = Some(JsonStreamReader::new(Guarded::new(raw, &Limits::default())));
        }
        loop {
            let file = &*self.ctx.file_name;
            let Some(json) = self.json.as_mut() else { return Ok(None) };
            match self.phase {
                Phase::Start => {
                    if json.peek().map_err(|e| json_error(file, json, e))? != ValueType::Object {
                        return Err(ParseError::structure(
                            file,
                            Location::Element { path: "$".into(), offset: 0 },
                            format!("expected a JSON object with a {ALERTS} array"),
                        ));
                    }
                    json.begin_object().map_err(|e| json_error(file, json, e))?;
                    loop {
                        if !json.has_next().map_err(|e| json_error(file, json, e))? {
                            return Err(ParseError::structure(
                                file,
                                Location::File,
                                format!("no {ALERTS} member in the JSON object"),
                            ));
                        }
                        let name = json.next_name_owned().map_err(|e| json_error(file, json, e))?;
                        if name != ALERTS {
                            json.skip_value().map_err(|e| json_error(file, json, e))?;
                            continue;
                        }
                        match json.peek().map_err(|e| json_error(file, json, e))? {
                            ValueType::Array => {
                                json.begin_array().map_err(|e| json_error(file, json, e))?;
                                self.phase = Phase::Array;
                            }
                            ValueType::Object => self.phase = Phase::Single,
                            other => {
                                let offset = json.current_position(false).data_pos.unwrap_or(0);
                                return Err(ParseError::structure(
                                    file,
                                    Location::Element { path: ALERTS.into(), offset },
                                    format!("expected an array of alerts, found {other}"),
                                ));
                            }
                        }
                        break;
                    }
                }
                Phase::Array => {
                    if json.has_next().map_err(|e| json_error(file, json, e))? {
                        let prefix = format!("{ALERTS}[{}]", self.count);
                        return self.alert(&prefix).map(Some);
                    }
                    json.end_array().map_err(|e| json_error(file, json, e))?;
                    self.phase = Phase::Trailer;
                }
                Phase::Single => {
                    self.phase = Phase::Trailer;
                    return self.alert(ALERTS).map(Some);
                }
                Phase::Trailer => {
                    while json.has_next().map_err(|e| json_error(file, json, e))? {
                        json.skip_name().map_err(|e| json_error(file, json, e))?;
                        json.skip_value().map_err(|e| json_error(file, json, e))?;
                    }
                    json.end_object().map_err(|e| json_error(file, json, e))?;
                    let offset = json.current_position(false).data_pos.unwrap_or(0);
                    if let Some(json) = self.json.take() {
                        json.consume_trailing_whitespace().map_err(|e| {
                            ParseError::structure(
                                file,
                                Location::Element { path: "$".into(), offset },
                                format!("content after the JSON object: {e}"),
                            )
                        })?;
                    }
                    return Ok(None);
                }
            }
        }
    }
}

impl<R: BufRead> Iterator for IndiaJsonReader<R> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use remit_domain::{Direction, UtrClass};
    use rust_decimal_macros::dec;

    const SAMPLE: &[u8] = include_bytes!("../../../../samples/in/india_ecollect_alerts_20261121.json");

    fn read(bytes: &[u8]) -> Vec<Result<Payment, ParseError>> {
        crate::test_support::read(crate::Format::IndiaJson, "alerts.json", bytes)
    }

    #[test]
    fn reads_the_sample_and_a_redelivered_alert_has_the_same_key() {
        let ps: Vec<Payment> = read(SAMPLE).into_iter().collect::<Result<_, _>>().unwrap();
        assert_eq!(ps.len(), 4);
        assert_eq!(ps[0].key(), ps[3].key(), "retry of the same UTR is the same payment");
        assert_ne!(ps[0].key(), ps[1].key());
        assert_eq!((ps[0].source.record, ps[3].source.record), (1, 4));
        assert!(ps[1].source.offset > ps[0].source.offset);
        assert_eq!(ps[1].amount.amount(), dec!(275000.50));
        assert_eq!(ps[1].references.utr.as_ref().unwrap().class(), UtrClass::Rtgs);
        assert_eq!(ps[2].amount.amount(), dec!(2500.00), "\"Amount\" is a synonym");
        assert_eq!(ps[2].references.utr.as_ref().unwrap().class(), UtrClass::ImpsUpi);
        assert_eq!(ps[0].references.other[1].1.expose(), "000000104571");
        assert!(ps.iter().all(|p| p.direction == Direction::Credit && p.format == SourceFormat::IndiaJson));
    }

    #[test]
    fn numeric_amounts_keep_their_exact_decimal_text() {
        let f = br#"{"GenericCorporateAlertRequest":[{"User Reference Number":"632512345678","Transaction Amount":12345678901234.25,"Value Date":"2026-11-21","Extra":{"nested":[1,2,{"a":null}]}}],"trailer":1}"#;
        let ps: Vec<Payment> = read(f).into_iter().collect::<Result<_, _>>().unwrap();
        assert_eq!(ps[0].amount.amount(), dec!(12345678901234.25));
    }

    #[test]
    fn a_single_alert_object_is_read_too() {
        let f = br#"{"GenericCorporateAlertRequest":{"User Reference Number":"632512345678","Amount":"1","Value Date":"21-11-2026"}}"#;
        assert_eq!(read(f).into_iter().filter(Result::is_ok).count(), 1);
    }

    #[test]
    fn a_deep_path_is_shown_by_its_ends() {
        use struson::reader::json_path::JsonPathPiece::{ArrayItem, ObjectMember};
        let mut pieces = vec![ObjectMember("GenericCorporateAlertRequest".into()), ArrayItem(0)];
        pieces.extend((0..60).map(|_| ObjectMember("x".repeat(1000))));
        pieces.push(ObjectMember("Amount".into()));
        let text = path_text(&pieces);
        assert!(text.starts_with("GenericCorporateAlertRequest[0].…") && text.ends_with(".Amount"), "{text}");
        assert!(text.len() < 400, "{} bytes", text.len());
        assert_eq!(path_text(&pieces[..2]), "GenericCorporateAlertRequest[0]");
    }

    #[test]
    fn field_errors_carry_the_json_path() {
        let f = br#"{"GenericCorporateAlertRequest":[
            {"User Reference Number":"632512345678","Transaction Amount":"10","Value Date":"21-11-2026"},
            {"User Reference Number":"632512345679","Transaction Amount":"10.001","Value Date":"21-11-2026"},
            {"User Reference Number":"632512345670","Transaction Amount":"10","Value Date":"21-11-2026"}]}"#;
        let r = read(f);
        assert_eq!(r.len(), 2, "the error ends the file");
        let e = r[1].as_ref().unwrap_err();
        let ParseError::Field { location: Location::Element { path, offset }, field, problem, .. } = e else {
            panic!("{e}")
        };
        assert_eq!(path, "GenericCorporateAlertRequest[1].Transaction Amount");
        assert_eq!(field, "Transaction Amount");
        assert!(*offset > 0 && problem.contains("10.001"), "{problem}");
    }

    #[test]
    fn invalid_ifsc_is_a_warning() {
        let f = br#"{"GenericCorporateAlertRequest":[{"User Reference Number":"632512345678","Amount":5,"Value Date":"21-11-2026","Remitter IFSC":"SBIN4567","Remitter Account":"123"}]}"#;
        let p = read(f).remove(0).unwrap();
        assert!(p.warnings[0].contains("SBIN4567"));
    }

    #[test]
    fn broken_json_is_a_structure_error() {
        for f in [
            &br#"{"GenericCorporateAlertRequest":[{"User Reference Number":"632512345678","Amount":5,"Value Date":"21-11-2026"},"#[..],
            br#"{"GenericCorporateAlertRequest":5}"#,
            br#"{"other":[]}"#,
            br#"[]"#,
            br#"{"GenericCorporateAlertRequest":[]} x"#,
            b"",
        ] {
            let r = read(f);
            assert!(r.last().is_some_and(|x| x.is_err()), "{}", String::from_utf8_lossy(f));
        }
        assert!(read(b"\xEF\xBB\xBF{\"GenericCorporateAlertRequest\":[]}").is_empty());
    }
}
