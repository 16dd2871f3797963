//! Lambda logs: `tracing` events as one line each on stdout, JSON or text as the function's log
//! settings say, every line passed through `mask_card_numbers` before it is written.
//!
//! Masking happens on the formatted line (`MaskingWriter`), so no field, span or error message
//! can carry a card number out, whatever its type. A 13-19 digit Luhn-valid number logged as a
//! JSON *number* field would come out as `***...1234`, no longer valid JSON: log such values as
//! text (`%value`), as the domain's masking types do.

use std::io::{self, Write};

use remit_domain::mask_card_numbers;
use tracing::{Metadata, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// The line format: Lambda's `AWS_LAMBDA_LOG_FORMAT` (`JSON` or `Text`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line with `timestamp` (RFC 3339) and `level`, which Lambda reads to
    /// filter by level, the message and fields at the top level.
    Json,
    /// Plain lines without a timestamp: CloudWatch stamps each line itself.
    Text,
}

/// What `init_lambda_logging` sets up, from the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSettings {
    pub format: LogFormat,
    /// An `EnvFilter` directive (`info`, `remit_domain=debug,warn`).
    pub filter: String,
}

impl LogSettings {
    /// From the process environment (see `from_vars`).
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Format from `AWS_LAMBDA_LOG_FORMAT` (JSON unless `Text`); level from
    /// `AWS_LAMBDA_LOG_LEVEL` (Lambda's `FATAL` is `error`), else directives from `RUST_LOG`,
    /// else `info`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let format = match var("AWS_LAMBDA_LOG_FORMAT") {
            Some(f) if f.trim().eq_ignore_ascii_case("text") => LogFormat::Text,
            _ => LogFormat::Json,
        };
        let lambda_level = var("AWS_LAMBDA_LOG_LEVEL").map(|l| l.trim().to_ascii_lowercase());
        let filter = match lambda_level.as_deref() {
            Some("fatal") => "error".to_string(),
            Some(l @ ("trace" | "debug" | "info" | "warn" | "error")) => l.to_string(),
            _ => var("RUST_LOG").filter(|f| !f.trim().is_empty()).unwrap_or_else(|| "info".to_string()),
        };
        Self { format, filter }
    }
}

/// The subscriber `init_lambda_logging` installs, writing to `writer` (tests pass a buffer).
/// A filter that does not parse falls back to `info` rather than losing the logs.
pub fn subscriber<W>(settings: &LogSettings, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&settings.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_env_filter(filter)
        .with_writer(MaskingWriter::new(writer));
    match settings.format {
        LogFormat::Json => Box::new(
            builder.json().flatten_event(true).with_current_span(true).with_span_list(false).finish(),
        ),
        LogFormat::Text => Box::new(builder.without_time().with_target(false).finish()),
    }
}

/// Installs the Lambda subscriber on stdout, settings from the environment. False when a
/// global subscriber was already set (a second call, or a test harness): that one stays.
pub fn init_lambda_logging() -> bool {
    subscriber(&LogSettings::from_env(), io::stdout).try_init().is_ok()
}

/// A `MakeWriter` that masks card numbers in each formatted event before `W` sees it.
#[derive(Clone, Debug)]
pub struct MaskingWriter<W> {
    inner: W,
}

impl<W> MaskingWriter<W> {
    /// Masks what `inner`'s writers receive.
    pub fn new(inner: W) -> Self {
        Self { inner }
    }
}

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for MaskingWriter<W> {
    type Writer = MaskedEvent<W::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        MaskedEvent::new(self.inner.make_writer())
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        MaskedEvent::new(self.inner.make_writer_for(meta))
    }
}

/// One event's output, held until the event is written whole (on flush or drop), so a card
/// number split across writes is still seen and masked.
pub struct MaskedEvent<W: Write> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: Write> MaskedEvent<W> {
    fn new(inner: W) -> Self {
        Self { inner, buf: Vec::new() }
    }

    /// Writes what is held, masked, in one `write_all` (one line stays one line on stdout).
    fn emit(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let masked = mask_card_numbers(&String::from_utf8_lossy(&self.buf));
        self.buf.clear();
        self.inner.write_all(masked.as_bytes())
    }
}

impl<W: Write> Write for MaskedEvent<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.emit()?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for MaskedEvent<W> {
    fn drop(&mut self) {
        // Nowhere to report a failed log write; the event is lost either way.
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn log_with(settings: &LogSettings, f: impl FnOnce()) -> String {
        let out = Captured::default();
        tracing::subscriber::with_default(subscriber(settings, out.clone()), f);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        text
    }

    fn settings(format: LogFormat, filter: &str) -> LogSettings {
        LogSettings { format, filter: filter.into() }
    }

    #[test]
    fn json_lines_are_masked_and_carry_level_and_timestamp() {
        let out = log_with(&settings(LogFormat::Json, "info"), || {
            let span = tracing::info_span!("ingest", key = "ca/378282246310005.txt");
            let _in = span.enter();
            tracing::info!(card = "378282246310005", amount = 12, "payer wrote 3782 822463 10005");
            tracing::debug!("filtered out");
        });
        assert!(!out.contains("378282246310005") && !out.contains("822463"), "{out}");
        assert_eq!(out.lines().count(), 1, "{out}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["message"], "payer wrote ***********0005");
        assert_eq!(v["card"], "***********0005");
        assert_eq!(v["amount"], 12);
        assert_eq!(v["span"]["key"], "ca/***********0005.txt");
        let ts = v["timestamp"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(ts).is_ok(), "{ts}");
    }

    #[test]
    fn text_lines_are_masked_without_timestamp_or_colours() {
        let out = log_with(&settings(LogFormat::Text, "warn"), || {
            tracing::warn!(error = %"bad reference 378282246310005", "file quarantined");
            tracing::info!("filtered out");
        });
        assert_eq!(out.trim(), "WARN file quarantined error=bad reference ***********0005", "{out:?}");
    }

    #[test]
    fn settings_follow_lambda_then_rust_log() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        assert_eq!(LogSettings::from_vars(vars(&[])), settings(LogFormat::Json, "info"));
        assert_eq!(
            LogSettings::from_vars(vars(&[("AWS_LAMBDA_LOG_FORMAT", "Text"), ("RUST_LOG", "remit=debug")])),
            settings(LogFormat::Text, "remit=debug")
        );
        assert_eq!(
            LogSettings::from_vars(vars(&[("AWS_LAMBDA_LOG_LEVEL", "FATAL"), ("RUST_LOG", "trace")])),
            settings(LogFormat::Json, "error")
        );
        assert_eq!(LogSettings::from_vars(vars(&[("AWS_LAMBDA_LOG_LEVEL", "DEBUG")])).filter, "debug");
        // A bad filter still logs, at info.
        let out = log_with(&settings(LogFormat::Text, "=!nonsense[["), || tracing::info!("kept"));
        assert!(out.contains("kept"), "{out}");
    }
}
