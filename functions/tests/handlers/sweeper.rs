//! The SLA sweeper on scheduled events.

use std::sync::Arc;

use chrono::Duration;
use remit_domain::ports::CountKind;
use remit_domain::ports::ResearchQueue;
use remit_domain::research::sweeper::MemorySink;
use remit_domain::Market;
use remit_functions::metrics::MemoryMetrics;
use remit_functions::settings::ChunkOrder;
use remit_functions::sweeper::{SweeperApp, SweeperEvent};

use crate::support::{clock_at, cpa005, deadline, now, s3_event, Env};

fn scheduled(id: &str) -> SweeperEvent {
    serde_json::from_value(serde_json::json!({
        "version": "0", "id": id, "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-04-20T15:00:00Z", "region": "ca-central-1",
        "resources": ["arn:aws:events:ca-central-1:123456789012:rule/remit-dev-sla-sweep"], "detail": {}
    }))
    .unwrap()
}

/// A store with open research items (a mixed file ingested at `now()`), swept a month later.
fn sweeper() -> (Env, SweeperApp<remit_store_sqlite::SqliteStore>, Arc<MemorySink>, Arc<MemoryMetrics>) {
    let env = Env::new(1000, ChunkOrder::Sequential);
    env.objects.drop_file("ca/cpa005/mixed.txt", &cpa005(30));
    env.app.ingest_event(&s3_event("ca/cpa005/mixed.txt", None, "01"), deadline()).unwrap();
    let sink = Arc::new(MemorySink::default());
    let metrics = Arc::new(MemoryMetrics::default());
    let app = SweeperApp {
        store: env.store.clone(),
        alerts: sink.clone(),
        metrics: metrics.clone(),
        clock: clock_at(now() + Duration::days(30)),
    };
    (env, app, sink, metrics)
}

#[test]
fn a_scheduled_event_delivered_twice_raises_each_breach_once() {
    let (env, app, sink, metrics) = sweeper();
    let open = env.store.open_items(Market::CA, 100).unwrap().len() as u64;
    assert!(open > 0);
    let later = deadline() + Duration::days(30);

    let event = scheduled("53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa");
    let first = app.handle(&event, later).unwrap();
    assert_eq!(first.breaches, open, "{first:?}");
    assert_eq!(sink.alerts().len() as u64, open);
    let breaches: Vec<_> =
        metrics.emitted().into_iter().filter(|(_, k, _)| *k == CountKind::Alerts).collect();
    assert_eq!(breaches.len(), 3, "one line per market, zeros included");
    assert_eq!(metrics.totals()[&Market::CA].breaches, open);

    // EventBridge delivers the same event again: the saved answer, nothing raised or counted.
    assert_eq!(app.handle(&event, later).unwrap(), first);
    assert_eq!(sink.alerts().len() as u64, open);
    assert_eq!(metrics.emitted().len(), 3);

    // The next sweep finds nothing left to raise.
    let next = app.handle(&scheduled("7e5a1ad2-0e55-4c2f-9d4b-0c3f1f1d6a11"), later).unwrap();
    assert_eq!((next.breaches, next.warnings), (0, 0));
    assert_eq!(sink.alerts().len() as u64, open);
}

#[test]
fn the_daily_digest_is_published_once_a_day() {
    let (_env, app, sink, _) = sweeper();
    let digest: SweeperEvent = serde_json::from_value(serde_json::json!({"action": "digest"})).unwrap();
    let later = deadline() + Duration::days(30);
    let first = app.handle(&digest, later).unwrap();
    assert_eq!(first.digests, Market::ALL.to_vec());
    assert_eq!(app.handle(&digest, later).unwrap(), first);
    assert_eq!(sink.notices().len(), 3, "one digest per market, once");
    assert!(first.key.starts_with("digest:2026-04-19"), "{}", first.key);
}
