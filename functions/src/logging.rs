//! Structured JSON logs for the Lambda functions, card numbers masked in every line. The
//! functions' own setup until `remit_aws::logs::init_lambda_logging` provides the shared one;
//! the binaries call only `init`.

use std::io::Write;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// JSON lines on stdout (CloudWatch Logs), level from `RUST_LOG` or Lambda's
/// `AWS_LAMBDA_LOG_LEVEL` (default `info`), each line passed through `mask_card_numbers`.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").unwrap_or_else(|_| "info".into()).to_lowercase();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(false)
        .with_writer(MaskedStdout)
        .try_init();
}

/// Makes a line writer over stdout that masks card numbers.
#[derive(Clone, Copy, Debug, Default)]
pub struct MaskedStdout;

impl<'a> MakeWriter<'a> for MaskedStdout {
    type Writer = MaskedLine<std::io::Stdout>;

    fn make_writer(&'a self) -> Self::Writer {
        MaskedLine::new(std::io::stdout())
    }
}

/// Collects one log line and writes it masked, at once, when dropped.
pub struct MaskedLine<W: Write> {
    out: W,
    line: Vec<u8>,
}

impl<W: Write> MaskedLine<W> {
    /// A line writer over `out`.
    pub fn new(out: W) -> Self {
        Self { out, line: Vec::new() }
    }
}

impl<W: Write> Write for MaskedLine<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.line.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.line);
        let masked = remit_domain::mask_card_numbers(&text);
        self.line.clear();
        self.out.write_all(masked.as_bytes())?;
        self.out.flush()
    }
}

impl<W: Write> Drop for MaskedLine<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_number_in_a_log_line_is_masked() {
        let mut out = Vec::new();
        {
            let mut w = MaskedLine::new(&mut out);
            w.write_all(br#"{"message":"ref 3782 822463 10005 paid"}"#).unwrap();
            w.write_all(b"\n").unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("822463"), "{text}");
        assert!(text.ends_with('\n'));
    }
}
