//! The SLA sweeper (issue 6): each alert raised once, even when sweeps overlap. The generic
//! checks run inside the store conformance suite; the race runs on two SQLite connections.

use std::collections::BTreeSet;

use chrono::Duration;
use remit_domain::ports::{AlertKind, Store};
use remit_domain::research::queue::{self, Action, QueuePolicy};
use remit_domain::research::sweeper::{self, AlertError, AlertSink, MemorySink, Notice};
use remit_domain::Market;

use crate::fixtures::CARD_A;
use crate::store_conformance::{act, now, queued};

/// Runs the sweeper checks against stores made by `new_store` (called by the conformance suite).
pub fn run_all<S: Store>(new_store: &impl Fn() -> S) {
    a_sweep_past_every_deadline_alerts_on_every_open_item_once(&new_store());
    a_warning_then_a_breach_are_two_alerts(&new_store());
    a_sink_failure_is_reported_and_not_repeated(&new_store());
    the_digest_counts_open_items_by_age_state_and_reason(&new_store());
}

fn a_sweep_past_every_deadline_alerts_on_every_open_item_once<S: Store>(s: &S) {
    for (i, h) in [2, 4, 8].into_iter().enumerate() {
        queued(s, &format!("SW{i}"), &format!("RQ-CA-sw{i}"), h);
    }
    let closed = queued(s, "SWX", "RQ-CA-swx", 1);
    queue::claim(s, &closed.id, "ann", now(), &QueuePolicy::default()).unwrap();
    act(s, &closed.id, "ann", &Action::Return("not ours".into()), now()).unwrap();

    let sink = MemorySink::default();
    let later = now() + Duration::days(30);
    let r = sweeper::sweep(s, &sink, later);
    assert!(r.ok(), "{:?}", r.failed);
    assert_eq!((r.breaches, r.warnings), (3, 0), "one alert per open item: the breach");
    let alerts = sink.alerts();
    let ids: Vec<&str> = alerts.iter().map(|a| a.item.as_str()).collect();
    assert_eq!(ids, ["RQ-CA-sw0", "RQ-CA-sw1", "RQ-CA-sw2"], "earliest due first");
    assert!(alerts.iter().all(|a| a.kind == AlertKind::Breach && a.market == Market::CA));
    let a = &alerts[0];
    assert_eq!(
        (a.amount.as_str(), a.currency.as_str(), a.reason_code.as_str()),
        ("1.00", "CAD", "no-reference")
    );
    assert_eq!(a.due_at, now() + Duration::hours(2));
    let json = serde_json::to_string(&sink.notices()).unwrap();
    assert!(!json.contains(CARD_A), "card numbers masked: {json}");
    assert!(json.contains("0005"), "the candidate's last digits stay: {json}");

    let again = MemorySink::default();
    let r = sweeper::sweep(s, &again, later + Duration::hours(1));
    assert_eq!((r.breaches, r.warnings, r.failed.len()), (0, 0, 0));
    assert!(again.notices().is_empty(), "a second sweep raises nothing new");
}

fn a_warning_then_a_breach_are_two_alerts<S: Store>(s: &S) {
    // Warning at +3h (75% of 4h), due at +4h.
    let it = queued(s, "WB", "RQ-CA-wb", 4);
    let sink = MemorySink::default();
    let at = |m: i64| now() + Duration::minutes(m);
    assert_eq!(sweeper::sweep(s, &sink, at(170)).alerts.len(), 0, "before the warning");
    let r = sweeper::sweep(s, &sink, at(180));
    assert_eq!((r.warnings, r.breaches), (1, 0));
    assert_eq!(sweeper::sweep(s, &sink, at(200)).alerts.len(), 0, "warned once");
    let r = sweeper::sweep(s, &sink, at(240));
    assert_eq!((r.warnings, r.breaches), (0, 1));
    assert_eq!(sweeper::sweep(s, &sink, at(600)).alerts.len(), 0, "breached once");
    let kinds: Vec<(String, AlertKind)> = sink.alerts().into_iter().map(|a| (a.item, a.kind)).collect();
    assert_eq!(kinds, [(it.id.clone(), AlertKind::Warning), (it.id, AlertKind::Breach)]);
}

struct Broken;

impl AlertSink for Broken {
    fn publish(&self, _: &Notice) -> Result<(), AlertError> {
        Err(AlertError("topic unreachable".into()))
    }
}

fn a_sink_failure_is_reported_and_not_repeated<S: Store>(s: &S) {
    queued(s, "BR", "RQ-CA-br", 1);
    let r = sweeper::sweep(s, &Broken, now() + Duration::hours(2));
    assert_eq!(r.breaches, 0);
    assert_eq!(r.failed.len(), 1, "{:?}", r.failed);
    assert!(r.failed[0].contains("RQ-CA-br") && r.failed[0].contains("not delivered"), "{:?}", r.failed);
    // Marked before publishing: at most once (the report says which one was lost).
    let sink = MemorySink::default();
    assert_eq!(sweeper::sweep(s, &sink, now() + Duration::hours(3)).alerts.len(), 0);
}

fn the_digest_counts_open_items_by_age_state_and_reason<S: Store>(s: &S) {
    queued(s, "D1", "RQ-CA-d1", 2);
    queued(s, "D2", "RQ-CA-d2", 8);
    queued(s, "D3", "RQ-CA-d3", 100);
    let at = now() + Duration::hours(7);
    let d = sweeper::digest(s, Market::CA, at).unwrap();
    assert_eq!((d.open_items, d.breached, d.warning, d.on_track), (3, 1, 1, 1));
    assert_eq!(d.ageing[0].items, 3, "all created today");
    assert_eq!(d.top_reasons[0].reason_code, "no-reference");
    assert_eq!(d.top_reasons[0].items, 3);
    assert_eq!(d.open_amounts.get("CAD").map(|a| a.to_string()).as_deref(), Some("3.00"));
    assert_eq!(d.oldest_breaches.len(), 1);
    let text = d.text();
    assert!(text.contains("open items: 3") && text.contains("breached 1"), "{text}");
    let sink = MemorySink::default();
    let all = sweeper::publish_digests(s, &sink, &Market::ALL, at).unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(sink.notices().len(), 3);
    assert!(sink.alerts().is_empty(), "digests are not SLA alerts");
    assert_eq!(all[1].open_items, 0, "India's queue is empty");
}

/// Two sweeps at once, each with its own store from `open` on the data `setup` writes (two
/// processes, or two scheduled Lambdas overlapping): every breach alert is raised once between
/// them, `rounds` times over `per_round` new items.
fn two_sweeps_at_once_raise_each_alert_once<S: Store>(
    setup: &S,
    open: impl Fn() -> S + Sync,
    rounds: i64,
    per_round: i64,
) {
    let mut expected = BTreeSet::new();
    for round in 0..rounds {
        for i in 0..per_round {
            let id = format!("RQ-CA-r{round}-{i:02}");
            queued(setup, &format!("R{round}-{i}"), &id, 1 + round * 10 + i % 3);
            expected.insert(id);
        }
        let at = now() + Duration::hours(round * 10 + 5);
        let barrier = std::sync::Barrier::new(2);
        let raised: Vec<Vec<String>> = std::thread::scope(|sc| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    let (open, barrier) = (&open, &barrier);
                    sc.spawn(move || {
                        let s = open();
                        let sink = MemorySink::default();
                        barrier.wait();
                        let r = sweeper::sweep(&s, &sink, at);
                        assert!(r.ok(), "{:?}", r.failed);
                        sink.alerts().into_iter().map(|a| a.item).collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let all: Vec<&String> = raised.iter().flatten().collect();
        let distinct: BTreeSet<&String> = all.iter().copied().collect();
        assert_eq!(all.len(), distinct.len(), "round {round}: an alert raised twice");
        assert_eq!(all.len() as i64, per_round, "round {round}: every breach raised: {raised:?}");
    }
    let r = sweeper::sweep(setup, &MemorySink::default(), now() + Duration::days(60));
    assert_eq!(r.alerts.len(), 0, "nothing left to raise");
    assert_eq!(expected.len() as i64, rounds * per_round);
}

mod sqlite {
    use remit_store_sqlite::SqliteStore;

    /// Two sweeps at once, each on its own connection to one file.
    #[test]
    fn two_sweeps_at_once_raise_each_alert_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sweep.sqlite");
        let setup = SqliteStore::open(&path).unwrap();
        super::two_sweeps_at_once_raise_each_alert_once(&setup, || SqliteStore::open(&path).unwrap(), 4, 30);
    }
}

mod dynamodb {
    use crate::store_conformance::dynamodb::{fresh_names, store_on};

    /// Two sweeps at once, each with its own store on the same tables.
    #[test]
    fn two_sweeps_at_once_raise_each_alert_once() {
        let names = fresh_names();
        let setup = store_on(&names);
        setup.create_tables().unwrap();
        super::two_sweeps_at_once_raise_each_alert_once(&setup, || store_on(&names), 4, 30);
    }
}
