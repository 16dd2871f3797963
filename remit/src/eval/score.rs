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
    /// Sent to research: the accounts the matcher considered, best first (issue 16), by number.
    pub candidates: Vec<String>,
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
    /// Returns and reversals that must undo a posting (`reversed` labels), those that did not,
    /// and reversals of a posting no label says to undo, or of another account's.
    pub must_reverse: u64,
    pub must_reverse_missed: u64,
    pub reversed_wrongly: u64,
    /// Sent to research although the payer's account is ours and the payment names it (a
    /// number, virtual account, RF reference or typo of one), and of those how many listed that
    /// account among their candidates, and first (what the analyst's workbench offers).
    pub research_named: u64,
    pub research_named_listed: u64,
    pub research_named_first: u64,
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
        self.must_reverse += o.must_reverse;
        self.must_reverse_missed += o.must_reverse_missed;
        self.reversed_wrongly += o.reversed_wrongly;
        self.research_named += o.research_named;
        self.research_named_listed += o.research_named_listed;
        self.research_named_first += o.research_named_first;
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
    /// Whether PAD debits in files under our originator ids were collections in this run
    /// (`own.CA.collect_debits`): which expectation of the PAD labels applies.
    pub collect_debits: bool,
    /// Per market, the share of `name_balance_unique` payments applied to their account (the
    /// gate wants at least `NAME_BALANCE_MIN_RATE`).
    pub name_balance_unique_rate: BTreeMap<String, f64>,
    /// Per corporate (`Label::payer_group`): its first file's clean payments and its next file's,
    /// each with how many were applied to their card.
    pub after_resolution: BTreeMap<String, FirstAndNext>,
    /// Research items the runner resolved as an analyst between files, and the ones it could not
    /// (each with the reason).
    pub resolutions: u64,
    pub resolution_refusals: Vec<String>,
    /// Aliases learned for our own name or account (`own_identity_keys`): must be none.
    pub own_identity_aliases: u64,
    /// SHA-256 of every decision in the order made (file, market, bank reference, outcome,
    /// account): two runs decided alike exactly when their digests are equal (a refactoring
    /// of the ingest path must not move it).
    pub decision_digest: String,
    /// The same workload again with `own.CA.collect_debits` on, when this run had it off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collect_debits_run: Option<Box<Report>>,
}

/// A corporate's files before and after an analyst's resolution taught alias memory the payer.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct FirstAndNext {
    pub market: String,
    pub first_payments: u64,
    pub first_applied: u64,
    pub next_payments: u64,
    pub next_applied: u64,
}

/// The share of `name_balance_unique` payments a market must apply.
pub const NAME_BALANCE_MIN_RATE: f64 = 0.8;

impl Report {
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.collect_debits_run.as_ref().is_none_or(|r| r.passed())
    }

    /// Works out `failures` from the counts and the runner's checks (call again after setting
    /// `resolutions`, `resolution_refusals` or `own_identity_aliases`).
    pub fn settle_gates(&mut self) {
        let o = &self.overall;
        let mut failures = Vec::new();
        for (n, what) in [
            (o.misapplied, "misapplied"),
            (o.ambiguous_applied, "ambiguous case(s) applied"),
            (o.blocked_applied, "applied despite a blocker"),
            (o.duplicates_posted, "duplicate(s) posted"),
            (o.lost, "lost"),
            (o.reversed_wrongly, "reversal(s) of the wrong posting or of none to undo"),
        ] {
            if n > 0 {
                failures.push(format!("{n} {what}"));
            }
        }
        if !self.quarantined.is_empty() {
            failures.push(format!("{} file(s) quarantined", self.quarantined.len()));
        }
        for (market, rate) in &self.name_balance_unique_rate {
            if *rate < NAME_BALANCE_MIN_RATE {
                failures.push(format!(
                    "{market}: name + balance with a unique holder name applied {} (< {})",
                    pct(*rate),
                    pct(NAME_BALANCE_MIN_RATE)
                ));
            }
        }
        for (group, f) in &self.after_resolution {
            if f.next_applied < f.first_applied || f.next_payments != f.first_payments {
                failures.push(format!(
                    "{group}: after the analyst's resolution its next file applied {} of {}, its first {} of {}",
                    f.next_applied, f.next_payments, f.first_applied, f.first_payments
                ));
            }
        }
        let (named, listed) = (self.overall.research_named, self.overall.research_named_listed);
        if listed < named {
            // Issue 16: the analyst's workbench offers the matcher's candidates; a payment that
            // names its account must offer that account.
            failures.push(format!(
                "{} research payment(s) naming the payer's account without it among the candidates",
                named - listed
            ));
        }
        if !self.resolution_refusals.is_empty() {
            failures.push(format!("{} resolution(s) refused", self.resolution_refusals.len()));
        }
        if self.own_identity_aliases > 0 {
            failures
                .push(format!("{} alias(es) learned for our own name or account", self.own_identity_aliases));
        }
        if self.collect_debits {
            let pad = |s: &str| self.by_scenario.get(s).cloned().unwrap_or_default();
            let (collected, returned) = (pad(scenario::PAD_COLLECTION), pad(scenario::PAD_RETURN));
            if collected.must_apply_missed > 0 {
                failures.push(format!(
                    "{} of {} PAD collection(s) not applied with collect_debits on",
                    collected.must_apply_missed, collected.must_apply
                ));
            }
            if returned.must_reverse_missed > 0 {
                failures.push(format!(
                    "{} of {} PAD return(s) not reversed with collect_debits on",
                    returned.must_reverse_missed, returned.must_reverse
                ));
            }
        }
        self.failures = failures;
    }
}

/// Scores one label against the decisions made for it.
fn score_one(label: &Label, decisions: &[&Observed], collecting: bool) -> Counts {
    let mut c = Counts { payments: 1, ..Counts::default() };
    let expected = label.expected_in(collecting);
    let typo = scenario::TYPO_AGREEING.contains(&label.scenario.as_str());
    c.typo_name_agrees = u64::from(typo);
    c.must_apply = u64::from(expected == Expected::Apply);
    c.must_reverse = u64::from(expected == Expected::Reversed);
    c.redeliveries = label.deliveries.len().saturating_sub(1) as u64;
    c.redeliveries_recognised = decisions.iter().filter(|d| d.outcome == "duplicate").count() as u64;
    let postings: Vec<&&Observed> = decisions.iter().filter(|d| d.outcome == "applied").collect();
    let handled = decisions
        .iter()
        .any(|d| matches!(d.outcome.as_str(), "applied" | "research" | "rejected" | "reversed"));
    if !handled {
        c.lost = 1;
        c.must_apply_missed = c.must_apply;
        c.must_reverse_missed = c.must_reverse;
        c.rates();
        return c;
    }
    let reversal = decisions.iter().find(|d| d.outcome == "reversed");
    match reversal {
        Some(r) if expected == Expected::Reversed && r.account.is_some() && r.account == label.account => {}
        Some(_) => {
            c.reversed_wrongly = 1;
            c.must_reverse_missed = c.must_reverse;
        }
        None => c.must_reverse_missed = c.must_reverse,
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
            } else if right && expected == Expected::Research {
                c.blocked_applied = 1;
            }
            if right && matches!(expected, Expected::Apply | Expected::Either) && !label.ambiguous {
                c.applied_correctly = 1;
                c.typo_name_agrees_applied = u64::from(typo);
            } else {
                c.must_apply_missed = c.must_apply;
            }
        }
        None if reversal.is_some() => c.must_apply_missed = c.must_apply,
        None => {
            c.research = 1;
            c.must_apply_missed = c.must_apply;
            let research = decisions.iter().find(|d| d.outcome == "research");
            if let (Some(d), Some(account)) = (research, label.account.as_ref()) {
                if scenario::NAMES_THE_ACCOUNT.contains(&label.scenario.as_str()) {
                    c.research_named = 1;
                    c.research_named_listed = u64::from(d.candidates.contains(account));
                    c.research_named_first = u64::from(d.candidates.first() == Some(account));
                }
            }
        }
    }
    c.rates();
    c
}

/// Scores a run without PAD collections (the shipped configuration).
pub fn score(labels: &[Label], observed: &[Observed], quarantined: Vec<String>) -> Report {
    score_run(labels, observed, quarantined, false)
}

/// Scores a run. Decisions join labels on market and bank reference; `collecting` says whether
/// the run collected PAD debits (`own.CA.collect_debits`).
pub fn score_run(
    labels: &[Label],
    observed: &[Observed],
    quarantined: Vec<String>,
    collecting: bool,
) -> Report {
    let mut by_key: HashMap<(&str, &str), Vec<&Observed>> = HashMap::new();
    for o in observed {
        by_key.entry((o.market.as_str(), o.bank_ref.as_str())).or_default().push(o);
    }
    let mut report = Report {
        quarantined,
        collect_debits: collecting,
        decision_digest: decision_digest(observed),
        ..Report::default()
    };
    let mut joined = 0usize;
    for label in labels {
        let decisions = by_key.get(&(label.market.as_str(), label.bank_ref.as_str()));
        joined += decisions.map_or(0, Vec::len);
        let c = score_one(label, decisions.map_or(&[][..], |v| v.as_slice()), collecting);
        if let Some(group) = &label.payer_group {
            let f = report.after_resolution.entry(group.clone()).or_default();
            f.market = label.market.clone();
            match label.scenario.as_str() {
                scenario::CORPORATE_MANY_CARDS => {
                    f.first_payments += 1;
                    f.first_applied += c.applied_correctly;
                }
                scenario::AFTER_RESOLUTION => {
                    f.next_payments += 1;
                    f.next_applied += c.applied_correctly;
                }
                _ => {}
            }
        }
        report.overall.add(&c);
        report.by_market.entry(label.market.clone()).or_default().add(&c);
        report.by_scenario.entry(label.scenario.clone()).or_default().add(&c);
        report.by_market_scenario.entry(format!("{}/{}", label.market, label.scenario)).or_default().add(&c);
    }
    report.unlabelled_decisions = (observed.len() - joined.min(observed.len())) as u64;
    for (key, c) in &report.by_market_scenario {
        if let Some(market) = key.strip_suffix(&format!("/{}", scenario::NAME_BALANCE_UNIQUE)) {
            let rate = if c.payments == 0 { 0.0 } else { c.applied_correctly as f64 / c.payments as f64 };
            report.name_balance_unique_rate.insert(market.to_string(), rate);
        }
    }
    report.settle_gates();
    report
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn table(title: &str, rows: &[(String, &Counts)]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{title:<34} {:>6} {:>7} {:>7} {:>6} {:>6} {:>6} {:>7} {:>6} {:>5} {:>5} {:>6} {:>7} {:>7} {:>7}",
        "paymts",
        "applied",
        "correct",
        "misapp",
        "ambig",
        "blockd",
        "resrch",
        "revrsd",
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
            "{name:<34} {:>6} {:>7} {:>7} {:>6} {:>6} {:>6} {:>7} {:>6} {:>5} {:>5} {:>6} {:>7} {:>7} {:>7}",
            c.payments,
            c.applied,
            c.applied_correctly,
            c.misapplied,
            c.ambiguous_applied,
            c.blocked_applied,
            c.research,
            c.must_reverse - c.must_reverse_missed,
            c.duplicates_posted,
            c.lost,
            c.must_apply_missed + c.must_reverse_missed,
            pct(c.straight_through_rate),
            pct(c.misapplication_rate),
            c.typo_name_agrees_applied_rate.map(pct).unwrap_or_else(|| "-".into()),
        );
    }
    s
}

/// The person's report: per market, per scenario, per market and scenario, then the gate.
/// The digest of `observed` decisions (see `Report::decision_digest`).
fn decision_digest(observed: &[Observed]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for o in observed {
        let account = o.account.as_deref().unwrap_or("-");
        h.update(format!("{}\t{}\t{}\t{}\t{account}\n", o.file, o.market, o.bank_ref, o.outcome).as_bytes());
    }
    hex::encode(h.finalize())
}

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
    let _ = writeln!(s, "decision digest {}", report.decision_digest);
    let _ = writeln!(
        s,
        "research candidates: the payer's account listed for {} of {} research payments that name it, first for {}",
        o.research_named_listed, o.research_named, o.research_named_first
    );
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
    s.push_str(&checks(report));
    if let Some(second) = &report.collect_debits_run {
        s.push_str(
            "\n== the same workload with own.CA.collect_debits = true (PAD collections and returns) ==\n",
        );
        let mut rows: Vec<(String, &Counts)> = vec![("all".into(), &second.overall)];
        rows.extend(second.by_market.iter().map(|(k, v)| (k.clone(), v)));
        s.push_str(&table("market", &rows));
        let pad: Vec<(String, &Counts)> = second
            .by_market_scenario
            .iter()
            .filter(|(k, _)| k.contains("/pad_"))
            .map(|(k, v)| (k.clone(), v))
            .collect();
        s.push_str(&table("market/scenario", &pad));
        s.push_str(&checks(second));
    }
    s
}

/// The runner's checks and the gate line of one run.
fn checks(report: &Report) -> String {
    let mut s = String::new();
    if !report.name_balance_unique_rate.is_empty() {
        let rates: Vec<String> = report
            .name_balance_unique_rate
            .iter()
            .map(|(m, r)| {
                let c = &report.by_market_scenario[&format!("{m}/{}", scenario::NAME_BALANCE_UNIQUE)];
                format!("{m} {} ({} of {})", pct(*r), c.applied_correctly, c.payments)
            })
            .collect();
        let shared = report.by_scenario.get(scenario::NAME_BALANCE_SHARED).cloned().unwrap_or_default();
        let _ = writeln!(
            s,
            "no reference, name + statement balance or minimum due: unique holder name applied {} (gate >= {}); \
             shared holder name applied {} of {}",
            rates.join(", "),
            pct(NAME_BALANCE_MIN_RATE),
            shared.applied,
            shared.payments
        );
    }
    for (group, f) in &report.after_resolution {
        let _ = writeln!(
            s,
            "{group}: first file applied {} of {}; after the analyst's resolution, next file applied {} of {}",
            f.first_applied, f.first_payments, f.next_applied, f.next_payments
        );
    }
    let _ = writeln!(
        s,
        "research items resolved by the runner between files: {}; refused: {}; aliases learned for our own \
         name or account: {}",
        report.resolutions,
        report.resolution_refusals.len(),
        report.own_identity_aliases
    );
    for r in &report.resolution_refusals {
        let _ = writeln!(s, "resolution refused: {}", remit_domain::mask_card_numbers(r));
    }
    for q in &report.quarantined {
        let _ = writeln!(s, "quarantined: {}", remit_domain::mask_card_numbers(q));
    }
    if report.failures.is_empty() {
        s.push_str(
            "gate: PASS (no misapplied, ambiguous applied, blocked applied, duplicate posted, lost or wrongly \
             reversed payment; name + balance rates, next files after resolutions, own identities)\n",
        );
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
            candidates: Vec::new(),
            expected,
            ambiguous,
            amount: "1.00".into(),
            currency: "CAD".into(),
            payer_group: None,
            resolve: false,
            expected_collecting: None,
        }
    }

    fn obs(r: &str, outcome: &str, account: Option<&str>) -> Observed {
        Observed {
            file: "f".into(),
            market: "CA".into(),
            bank_ref: r.into(),
            outcome: outcome.into(),
            account: account.map(str::to_string),
            candidates: Vec::new(),
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

    #[test]
    fn pad_labels_expect_research_unless_collecting_then_apply_and_reverse() {
        let mut collection = label("D1", scenario::PAD_COLLECTION, Some("A"), Expected::Research, false);
        collection.expected_collecting = Some(Expected::Apply);
        let mut ret = label("J1", scenario::PAD_RETURN, Some("A"), Expected::Research, false);
        ret.expected_collecting = Some(Expected::Reversed);
        let labels = [collection, ret];

        let off = score(&labels, &[obs("D1", "research", None), obs("J1", "research", None)], vec![]);
        assert!(off.passed(), "{:?}", off.failures);
        let on = [obs("D1", "applied", Some("A")), obs("J1", "reversed", Some("A"))];
        let on = score_run(&labels, &on, vec![], true);
        assert!(on.passed(), "{:?}", on.failures);
        assert_eq!((on.overall.must_reverse, on.overall.must_reverse_missed), (1, 0));

        // Collected while off: a blocker ignored. Not collected, or the wrong posting reversed,
        // while on: the gate fails.
        let wrong = score(&labels, &[obs("D1", "applied", Some("A")), obs("J1", "research", None)], vec![]);
        assert_eq!(wrong.overall.blocked_applied, 1);
        let missed =
            score_run(&labels, &[obs("D1", "research", None), obs("J1", "research", None)], vec![], true);
        assert_eq!(missed.failures.len(), 2, "{:?}", missed.failures);
        let other = score_run(
            &labels,
            &[obs("D1", "applied", Some("A")), obs("J1", "reversed", Some("B"))],
            vec![],
            true,
        );
        assert_eq!(other.overall.reversed_wrongly, 1);
        assert!(!other.passed());
    }

    #[test]
    fn a_corporates_next_file_must_apply_as_many_as_its_first() {
        let corp = |id: &str, scen: &str, account: &str| {
            let mut l = label(id, scen, Some(account), Expected::Apply, false);
            l.payer_group = Some("CA/corporate-1".into());
            l
        };
        let labels = [
            corp("1", scenario::CORPORATE_MANY_CARDS, "A"),
            corp("2", scenario::CORPORATE_MANY_CARDS, "B"),
            corp("3", scenario::AFTER_RESOLUTION, "A"),
            corp("4", scenario::AFTER_RESOLUTION, "B"),
        ];
        let first = [obs("1", "applied", Some("A")), obs("2", "applied", Some("B"))];
        let fine = [&first[..], &[obs("3", "applied", Some("A")), obs("4", "applied", Some("B"))]].concat();
        let r = score(&labels, &fine, vec![]);
        assert!(r.passed(), "{:?}", r.failures);
        assert_eq!(r.after_resolution["CA/corporate-1"].next_applied, 2);
        // The learned card wins over the payment's own reference: research, or worse.
        let worse = [&first[..], &[obs("3", "applied", Some("A")), obs("4", "research", None)]].concat();
        let r = score(&labels, &worse, vec![]);
        assert!(r.failures.iter().any(|f| f.contains("CA/corporate-1")), "{:?}", r.failures);
    }

    #[test]
    fn name_balance_rate_own_identity_aliases_and_refused_resolutions_fail_the_gate() {
        let labels: Vec<Label> = (0..5)
            .map(|i| label(&i.to_string(), scenario::NAME_BALANCE_UNIQUE, Some("A"), Expected::Either, false))
            .collect();
        let mut seen: Vec<Observed> = (0..4).map(|i| obs(&i.to_string(), "applied", Some("A"))).collect();
        seen.push(obs("4", "research", None));
        let mut r = score(&labels, &seen, vec![]);
        assert_eq!(r.name_balance_unique_rate["CA"], 0.8);
        assert!(r.passed(), "80% is enough: {:?}", r.failures);
        seen[3] = obs("3", "research", None);
        let mut r2 = score(&labels, &seen, vec![]);
        assert!(!r2.passed());
        r2.failures.clear();
        r.own_identity_aliases = 1;
        r.settle_gates();
        assert!(!r.passed());
        r.own_identity_aliases = 0;
        r.resolution_refusals.push("CA-000001: claimed by another analyst".into());
        r.settle_gates();
        assert!(!r.passed());
    }
}
