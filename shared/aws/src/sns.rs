//! SNS: the alert port (`remit_domain::research::sweeper::AlertSink`) on a topic. Each notice is
//! one message: its JSON (card numbers masked) as the body, a short subject for e-mail
//! subscribers, and `type`, `market` and `kind` message attributes for subscription filter policies.

use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;
use remit_domain::mask_card_numbers;
use remit_domain::research::sweeper::{AlertError, AlertSink, Notice};
use tokio::runtime::Handle;

use crate::sdk_message;

/// SNS refuses longer subjects.
const SUBJECT_MAX: usize = 100;

/// Publishes notices to one SNS topic. `publish` (the port) blocks on the runtime: call it from
/// `spawn_blocking` or a plain thread, never from inside an async task; async code awaits
/// `publish_async`.
#[derive(Clone, Debug)]
pub struct SnsAlerts {
    client: Client,
    topic_arn: String,
    handle: Handle,
}

impl SnsAlerts {
    /// Alerts to `topic_arn` through `client` (`crate::sns_client`), on the runtime of `handle`.
    pub fn new(client: Client, topic_arn: impl Into<String>, handle: Handle) -> Self {
        Self { client, topic_arn: topic_arn.into(), handle }
    }

    /// The topic notices go to.
    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }

    /// Publishes one notice. A refusal (throttling, permissions, a missing topic) is an
    /// `AlertError` naming the topic, for the sweep to report.
    pub async fn publish_async(&self, notice: &Notice) -> Result<(), AlertError> {
        let fail = |e: &dyn std::fmt::Display| AlertError(format!("SNS topic {}: {e}", self.topic_arn));
        let body = serde_json::to_string(notice).map_err(|e| fail(&e))?;
        let mut publish = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(mask_card_numbers(&body))
            .subject(subject(notice));
        for (name, value) in attributes(notice) {
            let value = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| fail(&e))?;
            publish = publish.message_attributes(name, value);
        }
        publish.send().await.map_err(|e| fail(&sdk_message(&e)))?;
        Ok(())
    }
}

impl AlertSink for SnsAlerts {
    fn publish(&self, notice: &Notice) -> Result<(), AlertError> {
        self.handle.block_on(self.publish_async(notice))
    }
}

/// The subject line: what, which market, which item. SNS takes printable ASCII only, at most
/// 100 characters; anything else becomes `?`.
pub fn subject(notice: &Notice) -> String {
    let text = match notice {
        Notice::SlaAlert(a) => format!("SLA {} {} {} ({})", a.kind.as_str(), a.market, a.item, a.reason_code),
        Notice::Digest(d) => format!(
            "Research queue digest {}: {}{} open, {} breached, {} warning",
            d.market,
            d.open_items,
            if d.truncated { "+" } else { "" },
            d.breached,
            d.warning
        ),
    };
    mask_card_numbers(&text)
        .chars()
        .map(|c| if c == ' ' || c.is_ascii_graphic() { c } else { '?' })
        .take(SUBJECT_MAX)
        .collect()
}

/// The message attributes subscribers filter on: `type` (`sla-alert`, `digest`), `market`
/// (`CA`, `IN`, `EU`) and `kind` (`warning`, `breach`, `digest`).
pub fn attributes(notice: &Notice) -> [(&'static str, String); 3] {
    let (type_, kind, market) = match notice {
        Notice::SlaAlert(a) => ("sla-alert", a.kind.as_str(), a.market),
        Notice::Digest(d) => ("digest", "digest", d.market),
    };
    [("type", type_.to_string()), ("market", market.code().to_string()), ("kind", kind.to_string())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use remit_domain::research::sweeper::SlaAlert;

    /// A breach whose reason and reference quote an Amex number, as a payer might write them
    /// (shared with the emulator tests).
    fn breach() -> SlaAlert {
        serde_json::from_str(include_str!("../tests/fixtures/breach.json")).unwrap()
    }

    #[test]
    fn subjects_are_short_ascii_and_masked() {
        let mut a = breach();
        assert_eq!(subject(&Notice::SlaAlert(a.clone())), "SLA breach CA RQ-CA-000042 (no-reference)");
        a.item = format!("RQ-CA-é378282246310005{}", "9".repeat(200));
        let s = subject(&Notice::SlaAlert(a));
        assert_eq!(s.len(), SUBJECT_MAX);
        assert!(s.is_ascii() && s.contains("RQ-CA-?"), "{s}");
    }

    #[test]
    fn attributes_name_type_market_and_kind() {
        let names = attributes(&Notice::SlaAlert(breach()));
        assert_eq!(
            names.map(|(k, v)| format!("{k}={v}")),
            ["type=sla-alert", "market=CA", "kind=breach"].map(String::from)
        );
    }
}
