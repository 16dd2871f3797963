//! Joins the pipeline's decisions to the labels and counts what matters: applied, applied to
//! the right account, misapplied, ambiguous cases applied, duplicates posted, payments lost.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use super::workload::scenario;
use super::{Expected, Label};

/// One decision the pipeline reported, reduced to what scoring needs. `account` holds the
/// digits for comparison with the labels; it is never printed.
#[derive(Clone, Debug)]
pub struct Observed {
    pub file: String,
    pub market: String,
    pub bank_ref: String,
    /// `applied`, `research`, `duplicate`, `rejected` or `reversed`.
    pub outcome: String,
    pub account: Option<String>,
}

/// Counts for one group of labels (a market, a scenario, or both).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Counts {
    pub payments: u64,
    pub applied: u64,
    /// Applied to the true account where applying was allowed (`apply` or `either`).
    pub applied_correctly: u64,
    /// Applied to an account that is not the payer's (or when no account is the payer's).
    pub misapplied: u64,
    /// Applied although the references point to two or more accounts.
    pub ambiguous_applied: u64,
    /// Applied to the true account although the label says research (closed or blocked
    /// account, wrong currency, a typo whose name disagrees...): a blocker ignored.
    pub blocked_applied: u64,
    /// Sent to research or rejected.
    pub research: u64,
    /// Postings beyond the first for one payment (a re-delivered item posted again).
    pub duplicates_posted: u64,
    /// Payments with no applied, research or rejected decision at all.
    pub lost: u64,
    /// Deliveries after the first (re-sent files, retried alerts), and how many of them the
    /// pipeline recognised as duplicates.
    pub redeliveries: u64,
    pub redeliveries_recognised: u64,
    /// Labels that must be applied (`apply`).
    pub must_apply: u64,
    /// `apply` labels that were not applied to their account.
    pub must_apply_missed: u64,
    /// One-typo or transposed numbers whose name agrees, and how many of them were applied.
    pub typo_name_agrees: u64,
    pub typo_name_agrees_applied: u64,
    pub straight_through_rate: f64,
    pub misapplication_rate: f64,
    pub typo_name_agrees_applied_rate: Option<f64>,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.payments += o.payments;
        self.applied += o.applied;
        self.applied_correctly += o.applied_correctly;
        self.misapplied += o.misapplied;
        self.ambiguous_applied += o.ambiguous_applied;
        self.blocked_applied += o.blocked_applied;
        self.research += o.research;
        self.duplicates_posted += o.duplicates_posted;
        self.lost += o.lost;
        self.redeliveries += o.redeliveries;
        self.redeliveries_recognised += o.redeliveries_recognised;
        self.must_apply += o.must_apply;
        self.must_apply_missed += o.must_apply_missed;
        self.typo_name_agrees += o.typo_name_agrees;
        self.typo_name_agrees_applied += o.typo_name_agrees_applied;
        self.rates();
    }

    fn rates(&mut self) {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        self.straight_through_rate = ratio(self.applied, self.payments);
        self.misapplication_rate = ratio(self.misapplied, self.applied);
        self.typo_name_agrees_applied_rate =
            (self.typo_name_agrees > 0).then(|| ratio(self.typo_name_agrees_applied, self.typo_name_agrees));
    }
}

/// The score of one run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub overall: Counts,
    pub by_market: BTreeMap<String, Counts>,
    pub by_scenario: BTreeMap<String, Counts>,
    /// Keyed `MARKET/scenario`.
    pub by_market_scenario: BTreeMap<String, Counts>,
    /// Decisions that no label accounts for (a generator or reader defect).
    pub unlabelled_decisions: u64,
    /// Files the pipeline refused, with the reason.
    pub quarantined: Vec<String>,
    /// Why the run fails its gate; empty when it passes.
    pub failures: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Scores one label against the decisions made for it.
fn score_one(label: &Label, decisions: &[&Observed]) -> Counts {
    let mut c = Counts { payments: 1, ..Counts::default() };
    let typo = scenario::TYPO_AGREEING.contains(&label.scenario.as_str());
    c.typo_name_agrees = u64::from(typo);
    c.must_apply = u64::from(label.expected == Expected::Apply);
    c.redeliveries = label.deliveries.len().saturating_sub(1) as u64;
    c.redeliveries_recognised = decisions.iter().filter(|d| d.outcome == "duplicate").count() as u64;
    let postings: Vec<&&Observed> = decisions.iter().filter(|d| d.outcome == "applied").collect();
    let handled = decisions.iter().any(|d| matches!(d.outcome.as_str(), "applied" | "research" | "rejected"));
    if !handled {
        c.lost = 1;
        c.must_apply_missed = c.must_apply;
        c.rates();
        return c;
    }
    c.duplicates_posted = postings.len().saturating_sub(1) as u64;
    match postings.first() {
        Some(first) => {
            c.applied = 1;
            let right = first.account.is_some() && first.account == label.account;
            if !right {
                c.misapplied = 1;
            }
            if label.ambiguous {
                c.ambiguous_applied = 1;
            } else if right && label.expected == Expected::Research {
                c.blocked_applied = 1;
            }
            if right && label.expected != Expected::Research && !label.ambiguous {
                c.applied_correctly = 1;
                c.typo_name_agrees_applied = u64::from(typo);
            } else {
                c.must_apply_missed = c.must_apply;
            }
        }
        None => {
            c.research = 1;
            c.must_apply_missed = c.must_apply;
        }
    }
    c.rates();
    c
}

/// Scores a run. Decisions join labels on market and bank reference.
pub fn score(labels: &[Label], observed: &[Observed], quarantined: Vec<String>) -> Report {
    let mut by_key: HashMap<(&str, &str), Vec<&Observed>> = HashMap::new();
    for o in observed {
        by_key.entry((o.market.as_str(), o.bank_ref.as_str())).or_default().push(o);
    }
    let mut report = Report { quarantined, ..Report::default() };
    let mut joined = 0usize;
    for label in labels {
        let decisions = by_key.get(&(label.market.as_str(), label.bank_ref.as_str()));
        joined += decisions.map_or(0, Vec::len);
        let c = score_one(label, decisions.map_or(&[][..], |v| v.as_slice()));
        report.overall.add(&c);
        report.by_market.entry(label.market.clone()).or_default().add(&c);
        report.by_scenario.entry(label.scenario.clone()).or_default().add(&c);
        report.by_market_scenario.entry(format!("{}/{}", label.market, label.scenario)).or_default().add(&c);
    }
    report.unlabelled_decisions = (observed.len() - joined.min(observed.len())) as u64;
    let o = &report.overall;
    let mut failures = Vec::new();
    for (n, what) in [
        (o.misapplied, "misapplied"),
        (o.ambiguous_applied, "ambiguous case(s) applied"),
        (o.blocked_applied, "applied despite a blocker"),
        (o.duplicates_posted, "duplicate(s) posted"),
        (o.lost, "lost"),
    ] {
        if n > 0 {
            failures.push(format!("{n} {what}"));
        }
    }
    if !report.quarantined.is_empty() {
        failures.push(format!("{} file(s) quarantined", report.quarantined.len()));
    }
    report.failures = failures;
    report
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn table(title: &str, rows: &[(String, &Counts)]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{title:<34} {:>6} {:>7} {:>7} {:>6} {:>6} {:>6} {:>7} {:>5} {:>5} {:>6} {:>7} {:>7} {:>7}",
        "paymts",
        "applied",
        "correct",
        "misapp",
        "ambig",
        "blockd",
        "resrch",
        "dupl",
        "lost",
        "missed",
        "STP",
        "misapp%",
        "typo-ok"
    );
    for (name, c) in rows {
        let _ = writeln!(
            s,
            "{name:<34} {:>6} {:>7} {:>7} {:>6} {:>6} {:>6} {:>7} {:>5} {:>5} {:>6} {:>7} {:>7} {:>7}",
            c.payments,
            c.applied,
            c.applied_correctly,
            c.misapplied,
            c.ambiguous_applied,
            c.blocked_applied,
            c.research,
            c.duplicates_posted,
            c.lost,
            c.must_apply_missed,
            pct(c.straight_through_rate),
            pct(c.misapplication_rate),
            c.typo_name_agrees_applied_rate.map(pct).unwrap_or_else(|| "-".into()),
        );
    }
    s
}

/// The person's report: per market, per scenario, per market and scenario, then the gate.
pub fn render(report: &Report) -> String {
    let mut s = String::new();
    let mut rows: Vec<(String, &Counts)> = vec![("all".into(), &report.overall)];
    rows.extend(report.by_market.iter().map(|(k, v)| (k.clone(), v)));
    s.push_str(&table("market", &rows));
    s.push('\n');
    let rows: Vec<(String, &Counts)> = report.by_scenario.iter().map(|(k, v)| (k.clone(), v)).collect();
    s.push_str(&table("scenario", &rows));
    s.push('\n');
    let rows: Vec<(String, &Counts)> =
        report.by_market_scenario.iter().map(|(k, v)| (k.clone(), v)).collect();
    s.push_str(&table("market/scenario", &rows));
    s.push('\n');
    let o = &report.overall;
    let _ = writeln!(
        s,
        "straight-through {} ({} of {}); misapplication rate {} ({} of {} applied); typo with agreeing name applied {}",
        pct(o.straight_through_rate),
        o.applied,
        o.payments,
        pct(o.misapplication_rate),
        o.misapplied,
        o.applied,
        o.typo_name_agrees_applied_rate.map(pct).unwrap_or_else(|| "-".into()),
    );
    let _ = writeln!(
        s,
        "must-apply labels applied: {} of {}; re-deliveries recognised as duplicates: {} of {}; unlabelled decisions: {}",
        o.must_apply - o.must_apply_missed,
        o.must_apply,
        o.redeliveries_recognised,
        o.redeliveries,
        report.unlabelled_decisions
    );
    for q in &report.quarantined {
        let _ = writeln!(s, "quarantined: {}", remit_domain::mask_card_numbers(q));
    }
    if report.passed() {
        s.push_str("gate: PASS (no misapplied, ambiguous applied, blocked applied, duplicate posted or lost payment)\n");
    } else {
        let _ = writeln!(s, "gate: FAIL: {}", report.failures.join(", "));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(id: &str, scen: &str, account: Option<&str>, expected: Expected, ambiguous: bool) -> Label {
        Label {
            id: id.into(),
            market: "CA".into(),
            scenario: scen.into(),
            file: "f".into(),
            deliveries: vec!["f".into()],
            bank_ref: id.into(),
            account: account.map(str::to_string),
            expected,
            ambiguous,
            amount: "1.00".into(),
            currency: "CAD".into(),
        }
    }

    fn obs(r: &str, outcome: &str, account: Option<&str>) -> Observed {
        Observed {
            file: "f".into(),
            market: "CA".into(),
            bank_ref: r.into(),
            outcome: outcome.into(),
            account: account.map(str::to_string),
        }
    }

    #[test]
    fn typo_rate_counts_only_correct_applications() {
        let labels = [
            label("1", scenario::TYPO_NAME_AGREES, Some("A"), Expected::Either, false),
            label("2", scenario::TRANSPOSITION, Some("A"), Expected::Either, false),
            label("3", scenario::TYPO_NAME_AGREES, Some("A"), Expected::Either, false),
        ];
        let r = score(
            &labels,
            &[obs("1", "applied", Some("A")), obs("2", "research", None), obs("3", "applied", Some("B"))],
            vec![],
        );
        assert_eq!(r.overall.typo_name_agrees, 3);
        assert_eq!(r.overall.typo_name_agrees_applied, 1);
        assert_eq!(r.overall.misapplied, 1);
        assert!(!r.passed());
    }
}
