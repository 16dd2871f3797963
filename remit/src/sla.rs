//! `remit sla sweep|digest`: the SLA sweeper and the leadership digest on the local store, with
//! the local alert adapters: a JSON-lines file (one notice per line, appended) and, when a URL is
//! given, a webhook that receives each notice as one JSON `POST`. SNS is the Lambda adapter.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use chrono::{DateTime, Utc};
use remit_domain::research::sweeper::{self, AlertError, AlertSink, Notice};
use remit_domain::{mask_card_numbers, Market};

use crate::commands::open_store;

/// Alerts file used when none is given: `alerts.jsonl` in the data directory.
pub fn default_alerts_file(data_dir: &Path) -> PathBuf {
    data_dir.join("alerts.jsonl")
}

/// The local alert adapter: appends each notice as one JSON line (one `write` per line, the
/// file opened in append mode, so two sweeps writing at once do not interleave lines).
#[derive(Clone, Debug)]
pub struct JsonLinesSink {
    path: PathBuf,
}

impl JsonLinesSink {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl AlertSink for JsonLinesSink {
    fn publish(&self, notice: &Notice) -> Result<(), AlertError> {
        let fail = |e: &dyn std::fmt::Display| AlertError(format!("{}: {e}", self.path.display()));
        let mut line = serde_json::to_string(notice).map_err(|e| fail(&e))?;
        // Every field is masked when built; mask again so no path can leak a card number.
        line = mask_card_numbers(&line);
        line.push('\n');
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
        }
        let mut f = OpenOptions::new().create(true).append(true).open(&self.path).map_err(|e| fail(&e))?;
        f.write_all(line.as_bytes()).map_err(|e| fail(&e))?;
        Ok(())
    }
}

/// The webhook adapter: `POST`s each notice as JSON (card numbers masked) and counts any answer
/// but 2xx, or no answer within the timeout, as a failed delivery the sweep reports.
#[derive(Clone, Debug)]
pub struct WebhookSink {
    url: String,
    agent: ureq::Agent,
}

impl WebhookSink {
    /// How long one delivery may take: a sweep must not hang on a dead endpoint.
    pub const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

    pub fn new(url: impl Into<String>) -> Self {
        let config = ureq::Agent::config_builder().timeout_global(Some(Self::TIMEOUT)).build();
        Self { url: url.into(), agent: config.into() }
    }
}

impl AlertSink for WebhookSink {
    fn publish(&self, notice: &Notice) -> Result<(), AlertError> {
        let body = serde_json::to_string(notice).map_err(|e| AlertError(format!("webhook: {e}")))?;
        let body = mask_card_numbers(&body);
        self.agent
            .post(&self.url)
            .header("content-type", "application/json")
            .send(body.as_bytes())
            .map(|_| ())
            // The URL may carry a secret (a token in its path): name the failure, not the URL.
            .map_err(|e| AlertError(format!("webhook: {e}")))
    }
}

/// Where the CLI publishes: always the JSON-lines file (the local record), and the webhook too
/// when one is configured. A notice counts as delivered only when every adapter took it.
#[derive(Clone, Debug)]
pub struct LocalAlerts {
    pub file: JsonLinesSink,
    pub webhook: Option<WebhookSink>,
}

impl LocalAlerts {
    /// The file (default `alerts.jsonl` in the data directory) and the optional webhook.
    pub fn new(data_dir: &Path, file: Option<&Path>, webhook: Option<&str>) -> Self {
        let file =
            JsonLinesSink::new(file.map(Path::to_path_buf).unwrap_or_else(|| default_alerts_file(data_dir)));
        Self { file, webhook: webhook.map(WebhookSink::new) }
    }
}

impl AlertSink for LocalAlerts {
    fn publish(&self, notice: &Notice) -> Result<(), AlertError> {
        self.file.publish(notice)?;
        match &self.webhook {
            Some(w) => w.publish(notice),
            None => Ok(()),
        }
    }
}

/// `remit sla sweep`: raises the warnings and breaches due at `now` into the alerts file.
/// Exit code 1 when an alert could not be delivered or a market could not be swept.
pub fn sweep(
    data_dir: &Path,
    now: Option<DateTime<Utc>>,
    sink: &LocalAlerts,
    json: bool,
    out: &mut impl Write,
) -> Result<ExitCode> {
    let store = open_store(data_dir)?;
    let now = now.unwrap_or_else(Utc::now);
    let report = sweeper::sweep(&store, sink, now);
    if json {
        serde_json::to_writer(&mut *out, &report)?;
        out.write_all(b"\n")?;
    } else {
        for a in &report.alerts {
            writeln!(out, "{}", a.text())?;
        }
        writeln!(
            out,
            "SLA sweep at {}: {} breach(es), {} warning(s) raised; {} already raised by another sweep; alerts in {}",
            now.to_rfc3339(),
            report.breaches,
            report.warnings,
            report.already_claimed,
            sink.file.path().display()
        )?;
        for f in &report.failed {
            writeln!(out, "FAILED: {}", mask_card_numbers(f))?;
        }
    }
    out.flush()?;
    Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `remit sla digest`: each market's (or one market's) digest, printed and published to the
/// alerts file unless `dry_run`.
pub fn digest(
    data_dir: &Path,
    market: Option<Market>,
    now: Option<DateTime<Utc>>,
    sink: &LocalAlerts,
    json: bool,
    dry_run: bool,
    out: &mut impl Write,
) -> Result<ExitCode> {
    let store = open_store(data_dir)?;
    let now = now.unwrap_or_else(Utc::now);
    let markets: Vec<Market> = market.map(|m| vec![m]).unwrap_or_else(|| Market::ALL.to_vec());
    let digests = if dry_run {
        markets.iter().map(|&m| sweeper::digest(&store, m, now)).collect::<Result<Vec<_>, _>>()?
    } else {
        sweeper::publish_digests(&store, sink, &markets, now)?
    };
    for d in &digests {
        if json {
            let line = mask_card_numbers(&serde_json::to_string(d)?);
            writeln!(out, "{line}")?;
        } else {
            write!(out, "{}", d.text())?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use remit_domain::ports::AlertKind;
    use remit_domain::research::sweeper::SlaAlert;

    #[test]
    fn the_file_sink_appends_one_masked_line_per_notice() {
        let dir = tempfile::tempdir().unwrap();
        let sink = JsonLinesSink::new(dir.path().join("sub/alerts.jsonl"));
        let alert = SlaAlert {
            kind: AlertKind::Breach,
            market: Market::CA,
            item: "RQ-CA-1".into(),
            reason_code: "no-reference".into(),
            reason: "payer wrote 3782 822463 10005".into(),
            amount: "1.00".into(),
            currency: "CAD".into(),
            warn_at: Utc::now(),
            due_at: Utc::now(),
            status: "open".into(),
            bank_ref: "B1".into(),
            payer: None,
            candidate: None,
            raised_at: Utc::now(),
        };
        sink.publish(&Notice::SlaAlert(alert.clone())).unwrap();
        sink.publish(&Notice::SlaAlert(alert)).unwrap();
        let text = std::fs::read_to_string(sink.path()).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(!text.contains("822463"), "{text}");
        let v: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!((v["type"].as_str(), v["kind"].as_str()), (Some("sla-alert"), Some("breach")));
    }
}
