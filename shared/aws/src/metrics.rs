//! CloudWatch metrics in Embedded Metric Format: counts gathered during an invocation, printed
//! at its end as JSON documents on stdout, which CloudWatch Logs turns into metrics (no API
//! call, no extra latency). One document per market: an EMF document carries one value per
//! dimension set, and the market is a dimension.
//!
//! Shape (EMF specification): `_aws.Timestamp` (epoch milliseconds) and `_aws.CloudWatchMetrics`
//! (one directive: `Namespace`, `Dimensions` as sets of member names, `Metrics` as names and
//! units); dimension values and metric values are top-level members of the same document.

use std::collections::BTreeMap;
use std::io::{self, Write};

use chrono::{DateTime, Utc};
use remit_domain::ingest::FileReport;
use remit_domain::ports::{AlertKind, CountKind, FileStatus, MarketCounts};
use remit_domain::research::sweeper::SweepReport;
use remit_domain::Market;
use serde::Serialize;

/// The namespace the product's metrics live in.
pub const NAMESPACE: &str = "Remit";
/// The `Market` value for counts no market owns (a file quarantined before any payment was read).
pub const NO_MARKET: &str = "none";
/// Dimension sets: per market (alarms per ops team), and per market and function.
const DIMENSIONS: [&[&str]; 2] = [&["Market"], &["Market", "Function"]];

/// A count the functions publish.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    PaymentsApplied,
    PaymentsQueued,
    PaymentsReversed,
    PaymentsDuplicate,
    PaymentsRejected,
    FilesCompleted,
    FilesQuarantined,
    SlaBreaches,
    SlaWarnings,
}

impl Metric {
    /// The metric's name in CloudWatch.
    pub const fn name(self) -> &'static str {
        match self {
            Metric::PaymentsApplied => "PaymentsApplied",
            Metric::PaymentsQueued => "PaymentsQueued",
            Metric::PaymentsReversed => "PaymentsReversed",
            Metric::PaymentsDuplicate => "PaymentsDuplicate",
            Metric::PaymentsRejected => "PaymentsRejected",
            Metric::FilesCompleted => "FilesCompleted",
            Metric::FilesQuarantined => "FilesQuarantined",
            Metric::SlaBreaches => "SlaBreaches",
            Metric::SlaWarnings => "SlaWarnings",
        }
    }
}

/// Counts per market for one invocation, printed as EMF documents by `emit`.
#[derive(Clone, Debug)]
pub struct Metrics {
    namespace: String,
    function: String,
    counts: BTreeMap<&'static str, BTreeMap<Metric, u64>>,
}

impl Metrics {
    /// Counts for `function` (the `Function` dimension: `ingest`, `sla-sweeper`...) in `Remit`.
    pub fn new(function: impl Into<String>) -> Self {
        Self { namespace: NAMESPACE.to_string(), function: function.into(), counts: BTreeMap::new() }
    }

    /// Another namespace (a stage's own, say).
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Adds `n` to a metric of `market` (`None`: `NO_MARKET`). Adding 0 still publishes the
    /// metric, so alarms see a zero rather than missing data.
    pub fn add(&mut self, market: Option<Market>, metric: Metric, n: u64) -> &mut Self {
        let market = market.map_or(NO_MARKET, |m| m.code());
        *self.counts.entry(market).or_default().entry(metric).or_default() += n;
        self
    }

    /// Counts one ingested file: its payments by outcome, and the file as completed or
    /// quarantined, under the file's market.
    pub fn record_file(&mut self, report: &FileReport) -> &mut Self {
        let s = &report.summary;
        let market = s.market;
        let quarantined = report.status == FileStatus::Quarantined;
        self.add(market, Metric::PaymentsApplied, s.applied)
            .add(market, Metric::PaymentsQueued, s.queued)
            .add(market, Metric::PaymentsReversed, s.reversed)
            .add(market, Metric::PaymentsDuplicate, s.duplicates)
            .add(market, Metric::PaymentsRejected, s.rejected)
            .add(market, Metric::FilesCompleted, u64::from(report.status == FileStatus::Completed))
            .add(market, Metric::FilesQuarantined, u64::from(quarantined))
    }

    /// Counts one sweep's alerts raised, per market; every market gets its (maybe zero) counts.
    pub fn record_sweep(&mut self, report: &SweepReport) -> &mut Self {
        for market in Market::ALL {
            self.add(Some(market), Metric::SlaBreaches, 0).add(Some(market), Metric::SlaWarnings, 0);
        }
        for alert in &report.alerts {
            let metric = match alert.kind {
                AlertKind::Breach => Metric::SlaBreaches,
                AlertKind::Warning => Metric::SlaWarnings,
            };
            self.add(Some(alert.market), metric, 1);
        }
        self
    }

    /// True when nothing was counted: `emit` would print nothing.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The EMF documents, one per market with counts, stamped `at`.
    pub fn documents(&self, at: DateTime<Utc>) -> Vec<String> {
        self.counts
            .iter()
            .map(|(market, counts)| {
                let doc = Document {
                    aws: Aws {
                        timestamp: at.timestamp_millis(),
                        cloud_watch_metrics: [Directive {
                            namespace: &self.namespace,
                            dimensions: DIMENSIONS,
                            metrics: counts
                                .keys()
                                .map(|m| Definition { name: m.name(), unit: "Count" })
                                .collect(),
                        }],
                    },
                    function: &self.function,
                    market,
                    values: counts.iter().map(|(m, n)| (m.name(), *n)).collect(),
                };
                // Plain strings and integers: serialising cannot fail.
                serde_json::to_string(&doc).unwrap_or_default()
            })
            .collect()
    }

    /// Writes the documents stamped `at`, one line each (one `write_all` per line).
    pub fn write_to(&self, out: &mut impl Write, at: DateTime<Utc>) -> io::Result<()> {
        for doc in self.documents(at) {
            out.write_all(format!("{doc}\n").as_bytes())?;
        }
        out.flush()
    }

    /// Prints the documents on stdout, stamped now: call once at the end of an invocation.
    pub fn emit(&self) -> io::Result<()> {
        self.write_to(&mut io::stdout(), Utc::now())
    }
}

/// An EMF document: the metadata, then the dimension and metric values it names.
#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "_aws")]
    aws: Aws<'a>,
    #[serde(rename = "Function")]
    function: &'a str,
    #[serde(rename = "Market")]
    market: &'a str,
    #[serde(flatten)]
    values: BTreeMap<&'static str, u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Aws<'a> {
    timestamp: i64,
    #[serde(rename = "CloudWatchMetrics")]
    cloud_watch_metrics: [Directive<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Directive<'a> {
    namespace: &'a str,
    dimensions: [&'static [&'static str]; 2],
    metrics: Vec<Definition>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Definition {
    name: &'static str,
    unit: &'static str,
}

/// The CloudWatch metrics `kind` reports of `counts`, with their values.
pub fn metrics_of(counts: &MarketCounts, kind: CountKind) -> Vec<(Metric, u64)> {
    match kind {
        CountKind::Payments => vec![
            (Metric::PaymentsApplied, counts.applied),
            (Metric::PaymentsQueued, counts.queued),
            (Metric::PaymentsRejected, counts.rejected),
            (Metric::PaymentsDuplicate, counts.duplicates),
            (Metric::PaymentsReversed, counts.reversed),
        ],
        CountKind::Alerts => {
            vec![(Metric::SlaWarnings, counts.warnings), (Metric::SlaBreaches, counts.breaches)]
        }
    }
}

/// The domain's `Metrics` port as CloudWatch EMF lines on stdout, where Lambda's log stream
/// picks them up.
#[derive(Clone, Debug)]
pub struct EmfStdout {
    function: &'static str,
}

impl EmfStdout {
    /// Metrics of `function` (the `Function` dimension: `ingest`, `sla-sweeper`...).
    pub fn new(function: &'static str) -> Self {
        Self { function }
    }

    /// The EMF documents (one line each) for one market's counts at `at`.
    pub fn documents(
        &self,
        market: Market,
        kind: CountKind,
        counts: &MarketCounts,
        at: DateTime<Utc>,
    ) -> Vec<String> {
        self.gather(market, kind, counts).documents(at)
    }

    fn gather(&self, market: Market, kind: CountKind, counts: &MarketCounts) -> Metrics {
        let mut m = Metrics::new(self.function);
        for (metric, n) in metrics_of(counts, kind) {
            m.add(Some(market), metric, n);
        }
        m
    }
}

impl remit_domain::ports::Metrics for EmfStdout {
    fn emit(&self, market: Market, kind: CountKind, counts: &MarketCounts) {
        if let Err(e) = self.gather(market, kind, counts).emit() {
            tracing::warn!(error = %e, "metrics line not written");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use remit_domain::ports::FileSummary;
    use remit_domain::FileId;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0).unwrap()
    }

    #[test]
    fn one_document_per_market_in_the_emf_shape() {
        let mut m = Metrics::new("ingest");
        m.add(Some(Market::CA), Metric::PaymentsApplied, 3).add(Some(Market::CA), Metric::PaymentsQueued, 1);
        m.add(Some(Market::CA), Metric::PaymentsApplied, 2);
        m.add(None, Metric::FilesQuarantined, 1);
        let docs = m.documents(at());
        assert_eq!(
            docs,
            [
                concat!(
                    r#"{"_aws":{"Timestamp":1773576000000,"CloudWatchMetrics":[{"Namespace":"Remit","#,
                    r#""Dimensions":[["Market"],["Market","Function"]],"#,
                    r#""Metrics":[{"Name":"PaymentsApplied","Unit":"Count"},{"Name":"PaymentsQueued","Unit":"Count"}]}]},"#,
                    r#""Function":"ingest","Market":"CA","PaymentsApplied":5,"PaymentsQueued":1}"#
                ),
                concat!(
                    r#"{"_aws":{"Timestamp":1773576000000,"CloudWatchMetrics":[{"Namespace":"Remit","#,
                    r#""Dimensions":[["Market"],["Market","Function"]],"#,
                    r#""Metrics":[{"Name":"FilesQuarantined","Unit":"Count"}]}]},"#,
                    r#""Function":"ingest","Market":"none","FilesQuarantined":1}"#
                ),
            ]
        );
        let mut out = Vec::new();
        m.write_to(&mut out, at()).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), format!("{}\n{}\n", docs[0], docs[1]));
    }

    #[test]
    fn every_member_a_directive_names_is_present() {
        let mut m = Metrics::new("sla-sweeper").with_namespace("Remit/dev");
        m.record_sweep(&SweepReport::default());
        let docs = m.documents(at());
        assert_eq!(docs.len(), 3, "every market, zeros included");
        for doc in docs {
            let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
            let directive = &v["_aws"]["CloudWatchMetrics"][0];
            assert_eq!(directive["Namespace"], "Remit/dev");
            for set in directive["Dimensions"].as_array().unwrap() {
                for name in set.as_array().unwrap() {
                    assert!(v[name.as_str().unwrap()].is_string(), "dimension {name} in {doc}");
                }
            }
            for metric in directive["Metrics"].as_array().unwrap() {
                assert_eq!(v[metric["Name"].as_str().unwrap()], 0, "{doc}");
            }
        }
    }

    #[test]
    fn a_file_report_counts_its_outcomes() {
        let report = FileReport {
            file: "ca/x.txt".into(),
            file_id: FileId::of_bytes(b"x"),
            status: FileStatus::Completed,
            seen_before: false,
            reason: None,
            summary: FileSummary {
                payments: 6,
                applied: 3,
                queued: 1,
                duplicates: 1,
                rejected: 1,
                market: Some(Market::IN),
                ..FileSummary::default()
            },
        };
        let mut m = Metrics::new("ingest");
        m.record_file(&report);
        let v: serde_json::Value = serde_json::from_str(&m.documents(at())[0]).unwrap();
        assert_eq!(v["Market"], "IN");
        let counts: Vec<u64> = ["PaymentsApplied", "PaymentsQueued", "PaymentsDuplicate", "PaymentsRejected"]
            .iter()
            .map(|k| v[k].as_u64().unwrap())
            .collect();
        assert_eq!(counts, [3, 1, 1, 1]);
        assert_eq!((v["FilesCompleted"].as_u64(), v["FilesQuarantined"].as_u64()), (Some(1), Some(0)));
    }

    #[test]
    fn an_emf_line_declares_each_metric_under_the_market_dimension() {
        let counts = MarketCounts { breaches: 3, warnings: 1, ..Default::default() };
        let at = DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z").unwrap().with_timezone(&Utc);
        let docs = EmfStdout::new("sla-sweeper").documents(Market::CA, CountKind::Alerts, &counts, at);
        assert_eq!(docs.len(), 1);
        let doc: serde_json::Value = serde_json::from_str(&docs[0]).unwrap();
        let cw = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], "Remit");
        assert_eq!(cw["Dimensions"][0], serde_json::json!(["Market"]));
        let names: Vec<&str> =
            cw["Metrics"].as_array().unwrap().iter().map(|m| m["Name"].as_str().unwrap()).collect();
        assert_eq!(names, ["SlaBreaches", "SlaWarnings"]);
        assert_eq!((doc["Market"].as_str(), doc["SlaBreaches"].as_u64()), (Some("CA"), Some(3)));
        assert_eq!(doc["Function"], "sla-sweeper");
        assert_eq!(doc["_aws"]["Timestamp"], at.timestamp_millis());
    }
}
