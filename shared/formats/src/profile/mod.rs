//! Bank profiles: a declarative TOML file describes a bank's layout (fixed-width positions,
//! CSV columns or JSON paths, field types, encoding, control totals, which field is what), so
//! onboarding a bank is writing a file, not code. A profile is compiled once into a `Plan`;
//! the readers (`FixedWidthReader`, `CsvProfileReader`, `JsonProfileReader`) stream canonical
//! `Payment`s with it. See `profiles/README.md` for the schema.

mod build;
mod csv;
pub mod encoding;
mod fixed;
pub mod generate;
mod json;
pub mod plan;
pub mod routing;
pub mod schema;
#[cfg(test)]
mod tests;
mod values;

use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

pub use self::csv::CsvProfileReader;
pub use self::fixed::FixedWidthReader;
pub use self::json::JsonProfileReader;
pub use self::plan::Plan;
pub use self::routing::{Route, Routing};
pub use self::schema::Layout;
use crate::{PaymentStream, SourceContext};

/// Why a profile file was refused; always names the file and the TOML key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be read.
    #[error("{file}: cannot read profile: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, or a key serde does not accept (unknown, wrong type, missing).
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    /// A key whose value is wrong (found by validation after parsing).
    #[error("{key}: {problem}")]
    Invalid { key: String, problem: String },
    /// `Invalid`, with the profile file named.
    #[error("{file}: {key}: {problem}")]
    InFile { file: String, key: String, problem: String },
}

/// A checked, compiled profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Where it was loaded from (or the name given to `from_toml`).
    pub file: String,
    /// The compiled plan the readers use.
    pub plan: Arc<Plan>,
}

impl Profile {
    /// Parses and compiles profile text; `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Self, ProfileError> {
        let doc: schema::ProfileDoc = toml::from_str(text).map_err(|e| ProfileError::Syntax {
            file: file.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let plan = plan::compile(&doc).map_err(|e| match e {
            ProfileError::Invalid { key, problem } => {
                ProfileError::InFile { file: file.to_string(), key, problem }
            }
            other => other,
        })?;
        Ok(Self { file: file.to_string(), plan: Arc::new(plan) })
    }

    /// Reads and compiles a profile file.
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| ProfileError::Io { file: file.clone(), source })?;
        Self::from_toml(&file, &text)
    }

    /// The profile's name.
    pub fn name(&self) -> &str {
        &self.plan.name
    }

    /// A streaming reader of a file in this profile's layout.
    pub fn open<'a, R: BufRead + 'a>(&self, ctx: SourceContext, reader: R) -> PaymentStream<'a> {
        let plan = self.plan.clone();
        match plan.layout {
            Layout::FixedWidth => Box::new(FixedWidthReader::new(reader, ctx, plan)),
            Layout::Csv => Box::new(CsvProfileReader::new(reader, ctx, plan)),
            Layout::Json => Box::new(JsonProfileReader::new(reader, ctx, plan)),
        }
    }

    /// A few lines for people: layout, encoding, records and fields.
    pub fn summary(&self) -> String {
        let p = &self.plan;
        let mut s = String::new();
        let layout = match p.layout {
            Layout::FixedWidth => {
                let f = p.fixed.as_ref();
                format!(
                    "fixed-width, {} bytes per record, {} framing",
                    f.map_or(0, |f| f.record_length),
                    format!("{:?}", f.map(|f| f.framing).unwrap_or_default()).to_lowercase()
                )
            }
            Layout::Csv => {
                let c = p.csv.as_ref();
                format!(
                    "CSV, delimiter {:?}, {}",
                    c.map_or(',', |c| char::from(c.delimiter)),
                    if c.is_some_and(|c| c.header) { "header row" } else { "no header row" }
                )
            }
            Layout::Json => format!("JSON, records at {:?}", p.json_records.join(".")),
        };
        let _ = writeln!(s, "profile {} ({})", p.name, self.file);
        if !p.description.is_empty() {
            let _ = writeln!(s, "  {}", p.description);
        }
        let _ = writeln!(
            s,
            "  market {}, {layout}, encoding {}, currency {}, source bank {}",
            p.market,
            p.encoding.name(),
            p.currency.code(),
            p.source_bank
        );
        for (what, rec) in
            [("header", p.header.as_ref()), ("detail", Some(&p.detail)), ("trailer", p.trailer.as_ref())]
        {
            let Some(rec) = rec else { continue };
            let code =
                if rec.code_text.is_empty() { String::new() } else { format!(" type {:?}", rec.code_text) };
            let fields: Vec<&str> = rec.fields.iter().map(|f| f.label.as_str()).collect();
            let _ = writeln!(s, "  {what}{code}: {}", fields.join(", "));
        }
        s
    }
}
