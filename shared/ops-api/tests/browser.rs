//! The ops console in a real browser: headless Debian chromium, driven through chromedriver
//! (WebDriver, `fantoccini`), against the router served on a loopback socket over an in-memory
//! SQLite store seeded by the real pipeline. A person's flows: sign in with a token, claim and
//! resolve an item through the forms, read the audit trail, switch to French, meet a 403, and
//! request a write-off that a lead approves. A screenshot lands in `target/browser/console.png`.
//!
//! The analyst's workbench (issue 16): an item no reference identifies, found by searching the
//! payer's name and resolved with the keyboard, then the team view; a Canada analyst's search
//! reaching no India account. Screenshots of the item, the search and the team view, in English
//! and in French, land in `target/browser/workbench-*.png`.
//!
//! chromium and chromedriver come from Debian (`scripts/test` installs them); the test fails,
//! never skips, when they are missing. `REMIT_CHROMIUM` and `REMIT_CHROMEDRIVER` name other ones.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::error::{CmdError, ErrorStatus};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use remit_domain::model::money::Currency;
use remit_domain::ports::AccountDirectory;
use remit_domain::ports::{AliasMemory, ItemStatus, Ledger, PaymentLog, PaymentState, QueueOps};
use remit_domain::ports::{AuditAction, QueueFilter};
use remit_domain::research::queue::{self, Action, QueuePolicy};
use remit_domain::{
    AccountNumber, Direction, FileId, KeyBasis, Market, Money, Payment, Provenance, ReasonCode, RefText,
    References, SourceFormat,
};
use remit_ops_api::{router, AppState, Caller, Role, Tokens};
use remit_store_sqlite::{SqliteStore, Table};
use serde_json::json;
use tempfile::TempDir;

const CA: &str = "ca-analyst-token-0001";
const CA_LEAD: &str = "ca-lead-token-000001";
const IN: &str = "in-analyst-token-0001";

/// Marie-Ève Côté's CAD card, active, in the sample directory.
const CAD_CARD: &str = "346613186091396";

/// Jean Tremblay's CAD card in the sample directory: statement balance 1250.00.
const TREMBLAY_CARD: &str = "372601815908301";

/// Another Jean Tremblay's CAD card, added by the seed: a namesake, so that the name alone
/// identifies nobody (statement balance 87.30).
const NAMESAKE_CARD: &str = "371449635398431";

/// How long any one wait for the page may take before the test gives up: generous, since a
/// loaded CI machine may be slow; a passing run waits well under a second per step.
const WAIT: Duration = Duration::from_secs(30);

const INSTALL_HINT: &str = "run scripts/test, which installs Debian's chromium and chromium-driver \
                            (or set REMIT_CHROMIUM and REMIT_CHROMEDRIVER)";

// ---- the served app ----

struct Seeded {
    store: Arc<SqliteStore>,
    /// `http://127.0.0.1:PORT`, the router served on it.
    base: String,
    /// A CA item queued with Marie-Ève Côté's card as its candidate (confidence too low).
    candidate_item: String,
    /// A CA item whose account is closed: one to write off.
    closed_item: String,
    /// A CA item with no reference at all, from "JEAN TREMBLAY" for 1250.00 CAD: two active
    /// accounts have that name, so the matcher names no candidate.
    name_item: String,
}

/// The sample accounts, the RBC (CA) and India MIS sample files through the real pipeline, and
/// one CA payment the matcher queues with a candidate; then the router on a loopback port.
/// `policy` sets the queue's rules (a four-eyes limit, say).
async fn serve_with(policy: QueuePolicy) -> Seeded {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples");
    remit::local::import_accounts(&*store, &samples.join("accounts.csv")).unwrap();
    for f in ["ca/cpa005-rbc-20260315.txt", "in/india_ecollect_mis_20261121.csv"] {
        remit::local::ingest_path(&*store, &samples.join(f), Utc::now(), &Default::default(), |_| {})
            .unwrap();
    }
    // "ENDING 91396" and a name that only partly agrees: the matcher finds the card but queues
    // it, below the CA threshold, for a person to confirm.
    let payment = Payment {
        market: Market::CA,
        format: SourceFormat::Cpa005,
        source_bank: "0000000610".into(),
        bank_ref: "BROWSER-0001".into(),
        key_basis: KeyBasis::BankReference,
        amount: Money::from_minor(12000, Currency::CAD),
        direction: Direction::Credit,
        reversal: false,
        value_date: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        booking_date: None,
        payer_name: Some("MARIE COTE".into()),
        payer_account: None,
        references: References {
            cross_reference: Some(RefText::new("ENDING 91396")),
            ..References::default()
        },
        source: Provenance {
            file_id: FileId::of_bytes(b"browser test"),
            file: "browser-test.txt".into(),
            record: 1,
            offset: 0,
            position: 1,
        },
        warnings: Vec::new(),
    };
    let done =
        remit_domain::ingest::process_payment(&*store, &payment, Utc::now(), &Default::default()).unwrap();
    let candidate_item = done.queue_item.expect("the payment is queued, not applied");
    let queued = store.item(&candidate_item).unwrap().unwrap();
    assert_eq!(
        queued.candidate,
        Some(store.card_key().card(&CAD_CARD.parse::<AccountNumber>().unwrap())),
        "{queued:?}"
    );
    assert_eq!(store.list(Market::IN, &QueueFilter::default(), 1).unwrap().len(), 1, "an IN item");

    // A namesake of Jean Tremblay, then a payment from that name with no reference at all, for
    // the statement balance of the sample directory's Jean Tremblay.
    let namesake = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        namesake.path(),
        format!(
            "account_number,market,currency,holder_name,status,statement_balance,minimum_due,\
             virtual_account,creditor_reference,control_account\n\
             {NAMESAKE_CARD},CA,CAD,Jean Tremblay,active,87.30,10.00,,,\n"
        ),
    )
    .unwrap();
    assert_eq!(remit::local::import_accounts(&*store, namesake.path()).unwrap(), 1);
    let by_name = Payment {
        bank_ref: "BROWSER-0002".into(),
        amount: Money::from_minor(125000, Currency::CAD),
        payer_name: Some("JEAN TREMBLAY".into()),
        references: References::default(),
        source: Provenance { record: 2, position: 2, ..payment.source.clone() },
        ..payment.clone()
    };
    let done =
        remit_domain::ingest::process_payment(&*store, &by_name, Utc::now(), &Default::default()).unwrap();
    let name_item = done.queue_item.expect("a name its namesakes share is queued");
    let queued = store.item(&name_item).unwrap().unwrap();
    // No best candidate: the namesakes are listed, unscored, for the analyst to tell apart.
    assert_eq!((queued.candidate, queued.candidates.len()), (None, 2), "{queued:?}");
    assert!(queued.candidates.iter().all(|c| c.confidence == 0.0), "{queued:?}");
    let closed = QueueFilter { reason: Some(ReasonCode::AccountClosed), ..QueueFilter::default() };
    let closed_item = store.list(Market::CA, &closed, 1).unwrap().remove(0).id;

    let caller =
        |analyst: &str, role, market| Caller { analyst: analyst.into(), role, markets: vec![market] };
    let mut tokens = Tokens::new();
    tokens.insert(CA, caller("amelie.ca", Role::Analyst, Market::CA));
    tokens.insert(CA_LEAD, caller("chloe.lead", Role::Lead, Market::CA));
    tokens.insert(IN, caller("priya.in", Role::Analyst, Market::IN));
    let app = router(AppState::new(store.clone(), tokens).with_policy(policy));
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Seeded { store, base, candidate_item, closed_item, name_item }
}

// ---- chromedriver and chromium ----

/// `env` if set, else `name` on PATH, else `fallback`; fails the test when none is a file.
fn binary(env: &str, name: &str, fallback: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "{env}={} is not a file: {INSTALL_HINT}", p.display());
        return p;
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path.into_iter().chain([PathBuf::from(fallback)]).find(|p| p.is_file()).unwrap_or_else(|| {
        panic!("{name} not found ({env} unset, not on PATH, no {fallback}): {INSTALL_HINT}")
    })
}

/// chromedriver on a free loopback port, in its own process group: dropping it kills the
/// group, so the chromium it started goes too, even when the test panics half-way.
struct Driver {
    child: Child,
    url: String,
    log: PathBuf,
    /// chromium's profile and the driver's log; removed after the processes are gone.
    dir: TempDir,
}

impl Driver {
    fn start() -> Driver {
        let exe = binary("REMIT_CHROMEDRIVER", "chromedriver", "/usr/bin/chromedriver");
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("chromedriver.log");
        // Bind-and-release finds a free port; chromedriver takes it a moment later.
        let port = StdListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port();
        let child = Command::new(&exe)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(File::create(dir.path().join("chromedriver.out")).unwrap())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}: {INSTALL_HINT}", exe.display()));
        let driver = Driver { child, url: format!("http://127.0.0.1:{port}"), log, dir };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let start = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(start.elapsed() < WAIT, "chromedriver did not listen on {addr}: {}", driver.log_tail());
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    /// The end of chromedriver's log, for failure messages.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!(
            "chromedriver log ({}):\n{}",
            self.log.display(),
            lines[lines.len().saturating_sub(30)..].join("\n")
        )
    }

    /// A headless chromium session with a fresh profile.
    async fn browser(&self) -> Client {
        let chromium = binary("REMIT_CHROMIUM", "chromium", "/usr/bin/chromium");
        let profile = tempfile::tempdir_in(self.dir.path()).unwrap();
        // Without the network flags Chromium keeps calling home (updates, sync, QUIC probes),
        // which this machine's closed network refuses, slowly.
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,1000",
        ]
        .map(String::from)
        .into_iter()
        .chain([format!("--user-data-dir={}", profile.keep().display())])
        .collect::<Vec<_>>();
        let caps = json!({ "goog:chromeOptions": { "binary": chromium, "args": args } });
        let serde_json::Value::Object(caps) = caps else { unreachable!() };
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| {
                panic!("no chromium session ({}): {e}\n{}", chromium.display(), self.log_tail())
            })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the group this process started (process_group(0) made its id the
        // group's); no memory is involved.
        unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

// ---- the page ----

/// A person at the console (one browser session).
struct Page {
    c: Client,
}

impl Page {
    async fn open(driver: &Driver, base: &str) -> Page {
        let page = Page { c: driver.browser().await };
        page.c.goto(&format!("{base}/")).await.unwrap();
        // The page's language follows the browser's; the flows below read English.
        page.click("button.lang[data-lang='en']").await;
        page.wait("html[lang='en']").await;
        page
    }

    /// The first element `css` finds, once there is one.
    async fn wait(&self, css: &str) -> Element {
        self.c
            .wait()
            .at_most(WAIT)
            .every(Duration::from_millis(50))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
    }

    /// Clicks `css` once it is there; again if the page re-rendered it in between.
    async fn click(&self, css: &str) {
        for _ in 0..3 {
            match self.wait(css).await.click().await {
                Ok(()) => return,
                Err(CmdError::Standard(w)) if w.error == ErrorStatus::StaleElementReference => continue,
                Err(e) => panic!("clicking {css}: {e}"),
            }
        }
        panic!("{css} kept being re-rendered");
    }

    /// Types `text` into the input `#{input}` and submits its form with the form's button.
    async fn submit(&self, input: &str, text: &str) {
        self.wait(&format!("#{input}")).await.send_keys(text).await.unwrap();
        self.click(&format!("form:has(#{input}) button[type='submit']")).await;
    }

    async fn sign_in(&self, token: &str) {
        self.submit("token", token).await;
        self.wait("#logout:not([hidden])").await;
    }

    async fn sign_out(&self) {
        self.click("#logout").await;
        self.wait("#login:not([hidden])").await;
    }

    /// Opens an item from the queue and waits until its detail shows `status`.
    async fn select(&self, id: &str, status: &str) {
        self.click(&format!("#items tr.item[data-id='{id}']")).await;
        self.detail(id, status).await;
    }

    /// Waits until the detail shows item `id` in `status`.
    async fn detail(&self, id: &str, status: &str) {
        self.wait(&format!("#detail-body:not([hidden])[data-id='{id}'][data-status='{status}']")).await;
    }

    async fn text(&self, css: &str) -> String {
        self.wait(css).await.text().await.unwrap()
    }

    /// The audit trail table: (actor, action) per row, as the page shows it.
    async fn audit_rows(&self) -> Vec<(String, String)> {
        let mut rows = Vec::new();
        for tr in self.c.find_all(Locator::Css("#audit tr[data-action]")).await.unwrap() {
            let cells = tr.find_all(Locator::Css("td")).await.unwrap();
            rows.push((cells[2].text().await.unwrap(), tr.attr("data-action").await.unwrap().unwrap()));
        }
        rows
    }

    /// A PNG of the whole page (the window grown to its height for the shot) in
    /// `<target dir>/browser/console.png`; returns the path.
    async fn screenshot(&self) -> PathBuf {
        self.shoot("console", None).await
    }

    /// A PNG of the element `css` (the whole page if `None`), the window grown to the page's
    /// height for the shot, in `<target dir>/browser/{name}.png`; returns the path.
    async fn shoot(&self, name: &str, css: Option<&str>) -> PathBuf {
        let dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
            .join("browser");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.canonicalize().unwrap().join(format!("{name}.png"));
        // WebDriver shoots the viewport only: grow the window (outer size, so plus the
        // browser's own frame) to the page's height, then give the page its size back.
        let (w, h) = self.c.get_window_size().await.unwrap();
        let size = "return [window.innerHeight, document.documentElement.scrollHeight]";
        let v = self.c.execute(size, vec![]).await.unwrap();
        let (inner, page) = (v[0].as_u64().unwrap() as u32, v[1].as_u64().unwrap() as u32);
        self.c.set_window_size(w as u32, h as u32 - inner + page).await.unwrap();
        let png = match css {
            None => self.c.screenshot().await.unwrap(),
            Some(css) => self.wait(css).await.screenshot().await.unwrap(),
        };
        std::fs::write(&path, png).unwrap();
        self.c.set_window_size(w as u32, h as u32).await.unwrap();
        path
    }

    /// Presses one key, as a person does, wherever the page has its focus.
    async fn press(&self, key: char) {
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.c.perform_actions(keys).await.unwrap();
    }

    /// The id of the element holding the focus.
    async fn focused(&self) -> String {
        let v = self.c.execute("return document.activeElement.id", vec![]).await.unwrap();
        v.as_str().unwrap_or_default().to_string()
    }

    async fn close(self) {
        self.c.close().await.unwrap();
    }
}

/// The seeded app served, chromedriver, and the console open in a browser. Keep the driver
/// bound to the end of the test: dropping it ends chromium.
async fn start() -> (Seeded, Page, Driver) {
    start_with(QueuePolicy::default()).await
}

/// `start` with the queue rules of `policy`.
async fn start_with(policy: QueuePolicy) -> (Seeded, Page, Driver) {
    let app = serve_with(policy).await;
    let driver = Driver::start();
    let page = Page::open(&driver, &app.base).await;
    (app, page, driver)
}

fn pairs(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

/// The store's audit trail of `id`: (actor, action) per entry.
fn stored_audit(store: &SqliteStore, id: &str) -> Vec<(String, String)> {
    store.audit_trail(id).unwrap().into_iter().map(|e| (e.actor, e.action.as_str().to_string())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_claims_and_resolves_an_item_through_the_console() {
    let (app, page, _driver) = start().await;
    let id = app.candidate_item.as_str();
    let card = app.store.card_key().card(&CAD_CARD.parse::<AccountNumber>().unwrap());
    let ledger_before = app.store.count(Table::Ledger).unwrap();
    let posted_before = app.store.posted_total(&card).unwrap();

    page.sign_in(CA).await;
    assert_eq!(page.text("#whoami").await, "amelie.ca (analyst)");
    page.wait("#tabs button[data-market='CA'][aria-selected='true']").await;
    page.select(id, "open").await;
    // The candidate shows masked, as the API sends it.
    assert_eq!(page.text("#candidate dd .mono").await, "***********1396");

    page.click("#act-claim").await;
    page.wait("#audit tr[data-action='claim']").await;
    page.submit("account", CAD_CARD).await;
    page.detail(id, "resolved").await;
    page.wait("#audit tr[data-action='resolve']").await;
    assert_eq!(page.text("#message.info").await, "Done: resolve.");
    let trail = pairs(&[("amelie.ca", "claim"), ("amelie.ca", "resolve")]);
    assert_eq!(page.audit_rows().await, trail);
    // The account typed is not kept in the form, and no page text holds it unmasked.
    assert_eq!(page.wait("#account").await.prop("value").await.unwrap().as_deref(), Some(""));
    assert!(!page.c.source().await.unwrap().contains(CAD_CARD));
    let shot = page.screenshot().await;
    println!("console screenshot: {}", shot.display());

    // The store: posted once to the card, the item closed, alias memory taught, both audited.
    let item = app.store.item(id).unwrap().unwrap();
    assert_eq!(item.status, ItemStatus::Resolved);
    assert_eq!(item.disposition.as_ref().and_then(|d| d.account.as_ref()), Some(&card));
    assert_eq!(app.store.count(Table::Ledger).unwrap(), ledger_before + 1);
    assert_eq!(app.store.posted_total(&card).unwrap(), posted_before + rust_decimal::Decimal::new(12000, 2));
    assert_applied_and_taught(&app.store, id, &card, "amelie.ca", &trail);
    let actions: Vec<AuditAction> = app.store.audit_trail(id).unwrap().iter().map(|e| e.action).collect();
    assert_eq!(actions, [AuditAction::Claim, AuditAction::Resolve]);

    // India's queue, linked by address: the API's 403 shows in the banner and in the queue.
    page.c.goto(&format!("{}/#queue=IN", app.base)).await.unwrap();
    page.wait("#items tr[data-error='403']").await;
    assert_eq!(page.text("#items tr[data-error='403']").await, "You may not read the IN queue.");
    let banner = page.text("#message.error:not([hidden])").await;
    assert!(banner.starts_with("Error 403 (forbidden):") && banner.contains("amelie.ca"), "{banner}");
    // The same call from the page, with its own token (403), and with India's (200: the
    // queue is there, the refusal is the scoping).
    let call = "const token = arguments[0] || sessionStorage.getItem('remit.console.token');
                return fetch('/api/queues/IN/items', { headers: { Authorization: 'Bearer ' + token } })
                  .then((r) => r.status);";
    assert_eq!(page.c.execute(call, vec![json!(null)]).await.unwrap(), json!(403));
    assert_eq!(page.c.execute(call, vec![json!(IN)]).await.unwrap(), json!(200));

    // French: labels, the refusal and the audit trail's actions translated.
    page.click("button.lang[data-lang='fr']").await;
    page.wait("html[lang='fr']").await;
    assert_eq!(page.text("#queue-title").await, "File d'attente");
    assert_eq!(page.text("#items tr[data-error='403']").await, "Vous n'avez pas accès à la file IN.");
    page.click("#tabs button[data-market='CA']").await;
    page.wait("#tabs button[data-market='CA'][aria-selected='true']").await;
    assert_eq!(page.c.current_url().await.unwrap().fragment(), Some("queue=CA"));
    assert!(!page.wait("#message").await.is_displayed().await.unwrap(), "another queue, no old refusal");
    page.wait("#status").await.select_by_value("resolved").await.unwrap();
    page.select(id, "resolved").await;
    assert_eq!(page.text("#detail h3[data-i18n='audit']").await, "Piste d'audit");
    assert_eq!(page.text("#audit tr[data-action='resolve'] td:nth-child(4)").await, "résolution");

    // The daily control report of the market opened, in French: every file reconciles.
    page.wait("#report-lines tr[data-reconciles]").await;
    assert!(page.text("#report-summary").await.contains("tous les fichiers concordent"));
    let lines = page.c.find_all(Locator::Css("#report-lines tr[data-reconciles]")).await.unwrap();
    assert!(!lines.is_empty());
    for l in lines {
        assert_eq!(l.attr("data-reconciles").await.unwrap().as_deref(), Some("true"));
    }
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_requests_a_write_off_and_a_lead_approves_it_through_the_console() {
    let (app, page, _driver) = start().await;
    let id = app.closed_item.as_str();

    page.sign_in(CA).await;
    page.select(id, "open").await;
    page.click("#act-claim").await;
    page.wait("#audit tr[data-action='claim']").await;
    page.submit("write-off-reason", "account closed, payer unreachable").await;
    page.detail(id, "write-off-pending").await;
    // The analyst waits for a lead: no decision buttons for them.
    assert!(page.wait("#write-off-waiting").await.is_displayed().await.unwrap());
    assert!(!page.wait("#lead-actions").await.is_displayed().await.unwrap());
    page.sign_out().await;

    page.sign_in(CA_LEAD).await;
    assert_eq!(page.text("#whoami").await, "chloe.lead (lead)");
    page.select(id, "write-off-pending").await;
    assert!(page.wait("#lead-actions").await.is_displayed().await.unwrap());
    page.click("#act-approve").await;
    page.detail(id, "written-off").await;
    page.wait("#audit tr[data-action='approve-write-off']").await;
    let trail = pairs(&[
        ("amelie.ca", "claim"),
        ("amelie.ca", "request-write-off"),
        ("chloe.lead", "approve-write-off"),
    ]);
    assert_eq!(page.audit_rows().await, trail);
    page.close().await;

    let item = app.store.item(id).unwrap().unwrap();
    assert_eq!(item.status, ItemStatus::WrittenOff);
    let d = item.disposition.unwrap();
    assert_eq!((d.by.as_str(), d.approved_by.as_deref()), ("amelie.ca", Some("chloe.lead")));
    assert_eq!(d.reason.as_deref(), Some("account closed, payer unreachable"));
    assert_eq!(stored_audit(&app.store, id), trail);
}

/// Issue 15: above the market's four-eyes limit an analyst's resolve waits; the lead approves it
/// in the console, and only then is the payment posted and the payer learned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolve_above_the_limit_waits_for_a_lead_in_the_console() {
    let mut policy = QueuePolicy::default();
    policy.second_person_above.ca = rust_decimal::Decimal::new(100, 0); // the item is 120.00 CAD
    let (app, page, _driver) = start_with(policy).await;
    let id = app.candidate_item.as_str();
    let card = app.store.card_key().card(&CAD_CARD.parse::<AccountNumber>().unwrap());
    let posted_before = app.store.posted_total(&card).unwrap();

    page.sign_in(CA).await;
    page.select(id, "open").await;
    page.click("#act-claim").await;
    page.wait("#audit tr[data-action='claim']").await;
    page.submit("account", CAD_CARD).await;
    page.detail(id, "resolve-pending").await;
    assert!(page.wait("#resolve-waiting").await.is_displayed().await.unwrap());
    assert!(!page.wait("#resolve-lead-actions").await.is_displayed().await.unwrap());
    assert_eq!(app.store.posted_total(&card).unwrap(), posted_before, "nothing posted yet");
    page.sign_out().await;

    page.sign_in(CA_LEAD).await;
    page.select(id, "resolve-pending").await;
    assert!(page.wait("#resolve-lead-actions").await.is_displayed().await.unwrap());
    page.click("#act-approve-resolve").await;
    page.detail(id, "resolved").await;
    page.wait("#audit tr[data-action='approve-resolve']").await;
    let trail =
        pairs(&[("amelie.ca", "claim"), ("amelie.ca", "request-resolve"), ("chloe.lead", "approve-resolve")]);
    assert_eq!(page.audit_rows().await, trail);
    page.close().await;

    assert_eq!(app.store.posted_total(&card).unwrap(), posted_before + rust_decimal::Decimal::new(12000, 2));
    let item = app.store.item(id).unwrap().unwrap();
    let d = item.disposition.unwrap();
    assert_eq!((d.by.as_str(), d.approved_by.as_deref()), ("amelie.ca", Some("chloe.lead")));
    for identity in &item.payer_identities {
        assert!(app
            .store
            .aliases_for(identity)
            .unwrap()
            .iter()
            .any(|a| a.account == card && a.learned_by == "amelie.ca"));
    }
    assert_eq!(stored_audit(&app.store, id), trail);
}

/// Issue 15: the item view shows every action and the latest 50 notes; the older ones are a
/// click away, read page by page from the audit route.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_notes_are_a_click_away_and_never_hide_an_action() {
    let (app, page, _driver) = start().await;
    let id = app.closed_item.as_str();
    let policy = QueuePolicy::default();
    queue::claim(&*app.store, id, "amelie.ca", Utc::now(), &policy).unwrap();
    for (i, who) in ["dana.vp", "erin.vp"].iter().cycle().take(55).enumerate() {
        let note = Action::Note(format!("note {i}"));
        queue::act(&*app.store, id, who, &note, Utc::now(), &policy).unwrap();
    }

    page.sign_in(CA).await;
    page.select(id, "open").await;
    let more = page.text("#notes-more:not([hidden])").await;
    assert!(more.starts_with("The latest 50 of 55 notes"), "{more}");
    let rows = page.audit_rows().await;
    assert_eq!(rows.len(), 51, "the claim and the latest 50 notes");
    assert_eq!(rows[0], ("amelie.ca".to_string(), "claim".to_string()));
    page.click("#load-trail").await;
    page.wait("#audit tr[data-action]:nth-child(56)").await;
    assert!(!page.wait("#notes-more").await.is_displayed().await.unwrap());
    assert_eq!(page.audit_rows().await, stored_audit(&app.store, id));
    page.close().await;
}

/// The store after an analyst's resolve of item `id` to `card`: the payment applied, every payer
/// identity of the item taught that card by `analyst`, and the stored audit trail as the page
/// showed it (`trail`).
fn assert_applied_and_taught(
    store: &SqliteStore,
    id: &str,
    card: &remit_domain::CardRef,
    analyst: &str,
    trail: &[(String, String)],
) {
    let item = store.item(id).unwrap().unwrap();
    assert_eq!(store.payment_state(&item.payment_key).unwrap(), Some(PaymentState::Applied));
    assert!(!item.payer_identities.is_empty());
    for identity in &item.payer_identities {
        let learned = store.aliases_for(identity).unwrap();
        assert!(
            learned.iter().any(|a| a.account == *card && a.learned_by == analyst && a.resolution == id),
            "{identity}: {learned:?}"
        );
    }
    assert_eq!(stored_audit(store, id), trail);
}

/// The card as the console shows it: masked, last four only.
fn masked(card: &str) -> String {
    format!("{}{}", "*".repeat(card.len() - 4), &card[card.len() - 4..])
}

/// Issue 16: an item no reference identifies (the payer's name is two accounts' name), found by
/// searching the payer's name and resolved with the keyboard: select with the result's number,
/// confirm with Enter. The posting, the alias learned and the audit entry show in the page and
/// are in the store; the team view then counts the resolve for the analyst. Screenshots of the
/// item, the search and the team view, in English and in French.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_finds_the_account_by_name_and_resolves_it_with_the_keyboard() {
    let (app, page, _driver) = start().await;
    let id = app.name_item.as_str();
    let card = app.store.card_key().card(&TREMBLAY_CARD.parse::<AccountNumber>().unwrap());
    let posted_before = app.store.posted_total(&card).unwrap();
    let mut shots = Vec::new();

    page.sign_in(CA).await;
    // The keys are shown on the page.
    let legend = page.text("#keys").await;
    for key in ["c", "n", "1", "9", "Enter", "a", "/", "t", "Esc"] {
        assert!(legend.contains(key), "{key} not in the legend: {legend}");
    }
    assert!(legend.contains("a number selects, Enter confirms"), "{legend}");
    page.select(id, "open").await;
    // No reference and a shared name: the two namesakes are listed, neither scored; the
    // analyst tells them apart by searching.
    assert_eq!(page.c.find_all(Locator::Css("#candidates tr")).await.unwrap().len(), 2);

    // `c` claims the item open.
    page.press('c').await;
    page.wait("#audit tr[data-action='claim']").await;
    shots.push(page.shoot("workbench-item-en", Some("main")).await);

    // `/` goes to the search box; the payer's name, Enter.
    page.press('/').await;
    assert_eq!(page.focused().await, "search-text");
    let payer = app.store.item(id).unwrap().unwrap().payer_name.expect("the payer's name");
    page.wait("#search-text").await.send_keys(&format!("{payer}{}", Key::Enter)).await.unwrap();
    page.wait("#search-results tr[data-rank]").await;
    let summary = page.text("#search-summary").await;
    assert!(summary.starts_with("2 result(s) in CA"), "{summary}");
    // Both namesakes, masked, each with its statement balance: the right one is the one whose
    // balance the payment pays.
    let mut rank = None;
    for tr in page.c.find_all(Locator::Css("#search-results tr[data-rank]")).await.unwrap() {
        let shown = tr.find(Locator::Css("td.card")).await.unwrap().text().await.unwrap();
        let balance = tr.find(Locator::Css("td.balance")).await.unwrap().text().await.unwrap();
        let holder = tr.find(Locator::Css("td.holder")).await.unwrap().text().await.unwrap();
        assert_eq!(holder, "Jean Tremblay");
        if shown == masked(TREMBLAY_CARD) {
            assert!(balance.contains("1,250.00"), "{balance}");
            rank = tr.attr("data-rank").await.unwrap();
        } else {
            assert_eq!(shown, masked(NAMESAKE_CARD));
            assert!(balance.contains("87.30"), "{balance}");
        }
    }
    let rank = rank.expect("the right card among the results");
    let source = page.c.source().await.unwrap();
    assert!(!source.contains(TREMBLAY_CARD) && !source.contains(NAMESAKE_CARD), "a card number in the page");

    // The result's number selects it: nothing is posted on one key.
    page.press(rank.chars().next().unwrap()).await;
    page.wait(&format!("#search-results tr.picked[data-rank='{rank}']")).await;
    let prompt = page.text("#pick:not([hidden]) #pick-text").await;
    assert!(prompt.contains(&masked(TREMBLAY_CARD)) && prompt.contains("1,250.00"), "{prompt}");
    shots.push(page.shoot("workbench-search-en", Some("#workbench")).await);
    assert_eq!(app.store.item(id).unwrap().unwrap().status, ItemStatus::Open, "selected, not resolved");
    assert_eq!(app.store.posted_total(&card).unwrap(), posted_before);

    // Enter confirms.
    page.press(Key::Enter.into()).await;
    page.detail(id, "resolved").await;
    page.wait("#audit tr[data-action='resolve']").await;
    assert_eq!(page.text("#message.info").await, "Done: resolve.");
    let posting = page.text("#posting[data-posted='true']").await;
    assert!(posting.contains(&masked(TREMBLAY_CARD)) && posting.contains("1,250.00"), "{posting}");
    let alias = page.text("#aliases li.alias[data-learned-by='amelie.ca']").await;
    assert!(alias.contains(&masked(TREMBLAY_CARD)) && alias.contains(id), "{alias}");
    let trail = pairs(&[("amelie.ca", "claim"), ("amelie.ca", "resolve")]);
    assert_eq!(page.audit_rows().await, trail);
    assert!(page.wait("#pick").await.attr("hidden").await.unwrap().is_some());
    shots.push(page.shoot("workbench-item-resolved-en", Some("main")).await);

    // The store: the payment posted once to that card, the payer learned, the resolve audited.
    let item = app.store.item(id).unwrap().unwrap();
    assert_eq!(item.status, ItemStatus::Resolved);
    assert_eq!(item.disposition.as_ref().and_then(|d| d.account.as_ref()), Some(&card));
    let entry = app.store.entry(&item.payment_key).unwrap().expect("a ledger entry for the payment");
    assert_eq!(entry.account, card);
    assert_eq!(entry.amount, Money::from_minor(125000, Currency::CAD));
    assert_eq!(app.store.posted_total(&card).unwrap(), posted_before + rust_decimal::Decimal::new(125000, 2));
    assert_applied_and_taught(&app.store, id, &card, "amelie.ca", &trail);

    // `t`: the team view counts the resolve for the analyst.
    page.press('t').await;
    let closed = "#team .team-market[data-market='CA'] .team-closed tr[data-analyst='amelie.ca']";
    assert_eq!(page.text(&format!("{closed} td.resolved")).await, "1");
    assert!(page.wait("#team").await.is_displayed().await.unwrap());
    assert!(!page.wait("#workbench").await.is_displayed().await.unwrap());
    shots.push(page.shoot("workbench-team-en", Some("#team")).await);

    // French: the team view, then (`t` again) the item and the search.
    page.click("button.lang[data-lang='fr']").await;
    page.wait("html[lang='fr']").await;
    assert_eq!(
        page.text("#team .team-market[data-market='CA'] .team-closed h3").await,
        "Clos aujourd'hui, par analyste"
    );
    assert_eq!(page.text(&format!("{closed} td.resolved")).await, "1");
    shots.push(page.shoot("workbench-team-fr", Some("#team")).await);
    page.press('t').await;
    page.wait("#workbench").await;
    assert!(page.wait("#workbench").await.is_displayed().await.unwrap());
    let posting = page.text("#posting").await;
    assert!(posting.starts_with("Imputé") && posting.contains(&masked(TREMBLAY_CARD)), "{posting}");
    assert!(page.text("#aliases li.alias").await.starts_with("Alias appris"));
    assert_eq!(page.text("#audit tr[data-action='resolve'] td:nth-child(4)").await, "résolution");
    shots.push(page.shoot("workbench-item-fr", Some("main")).await);
    assert!(page.text("#search-summary").await.starts_with("2 résultat(s) dans CA"));
    assert_eq!(page.text("#workbench h3[data-i18n='search_title']").await, "Recherche dans le répertoire");
    shots.push(page.shoot("workbench-search-fr", Some("#workbench")).await);
    for shot in &shots {
        println!("workbench screenshot: {}", shot.display());
    }
    page.close().await;
}

/// Issue 16: a Canada analyst's search reaches Canada's directory only. Searching an India
/// holder's name finds no account; India's directory, asked directly, is 403 (and answers
/// India's analyst: the refusal is the scoping).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canada_analyst_cannot_search_india_accounts() {
    let (_app, page, _driver) = start().await;
    let india = "Priya Venkataraman";

    page.sign_in(CA).await;
    // The search offers the markets the analyst reads: Canada only.
    let markets = page.c.find_all(Locator::Css("#search-market option")).await.unwrap();
    let mut offered = Vec::new();
    for m in markets {
        offered.push(m.attr("value").await.unwrap().unwrap_or_default());
    }
    assert_eq!(offered, ["CA"]);
    page.submit("search-text", india).await;
    page.wait("#search-summary:not(:empty)").await;
    assert!(page.text("#search-summary").await.starts_with("0 result(s) in CA"));
    assert_eq!(page.text("#search-results tr").await, "No account in CA answers this search.");
    assert!(page.c.find_all(Locator::Css("#search-results tr[data-rank]")).await.unwrap().is_empty());
    assert!(!page.text("#workbench").await.contains(india));

    // India's directory named by hand in the page: the API refuses, the page says so.
    let force = "const s = document.getElementById('search-market');
                 s.append(new Option('IN', 'IN')); s.value = 'IN';";
    page.c.execute(force, vec![]).await.unwrap();
    page.click("form:has(#search-text) button[type='submit']").await;
    assert_eq!(
        page.text("#search-results tr[data-error='403']").await,
        "You may not search the IN directory."
    );
    let banner = page.text("#message.error:not([hidden])").await;
    assert!(banner.starts_with("Error 403 (forbidden):") && banner.contains("amelie.ca"), "{banner}");
    assert!(!page.text("#workbench").await.contains(india));

    // The API itself, with the page's token (403) and with India's (India's holder found).
    let call = "const token = arguments[0] || sessionStorage.getItem('remit.console.token');
                return fetch('/api/search/IN?q=' + encodeURIComponent(arguments[1]),
                             { headers: { Authorization: 'Bearer ' + token } })
                  .then((r) => r.json().then((body) => [r.status, body]));";
    let v = page.c.execute(call, vec![json!(null), json!(india)]).await.unwrap();
    assert_eq!(v[0], json!(403), "{v}");
    assert!(v[1]["results"].is_null(), "{v}");
    let v = page.c.execute(call, vec![json!(IN), json!(india)]).await.unwrap();
    assert_eq!(v[0], json!(200), "{v}");
    assert_eq!(v[1]["results"][0]["holder_name"], json!(india), "{v}");
    page.close().await;
}

/// Issue 16: the ranked candidates of an item, each with its account's figures; their Resolve
/// buttons wait for the analyst's claim, then one click resolves to the candidate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_is_resolved_in_one_click_once_the_item_is_claimed() {
    let (app, page, _driver) = start().await;
    let id = app.candidate_item.as_str();
    let card = app.store.card_key().card(&CAD_CARD.parse::<AccountNumber>().unwrap());

    page.sign_in(CA).await;
    page.select(id, "open").await;
    let row = "#candidates tr[data-rank='1']";
    assert_eq!(page.text(&format!("{row} td:nth-child(2)")).await, masked(CAD_CARD));
    assert_eq!(page.text(&format!("{row} td:nth-child(3)")).await, "Marie-Ève Côté");
    assert!(page.text(&format!("{row} td.balance")).await.contains("310.45"));
    assert!(!page.text(&format!("{row} td:nth-child(10)")).await.is_empty(), "why it was not applied");
    // Not claimed: no resolve, by click or by key.
    assert!(!page.wait(&format!("{row} button.resolve-to")).await.is_enabled().await.unwrap());
    page.press('1').await;
    assert!(page.text("#message.error:not([hidden])").await.starts_with("Claim the item first"));
    page.click("#act-claim").await;
    page.wait(&format!("{row} button.resolve-to:enabled")).await;
    let shot = page.shoot("workbench-candidates-en", Some("#workbench")).await;
    println!("workbench screenshot: {}", shot.display());
    page.click(&format!("{row} button.resolve-to")).await;
    page.detail(id, "resolved").await;
    assert!(page.text("#posting[data-posted='true']").await.contains(&masked(CAD_CARD)));
    page.close().await;

    let item = app.store.item(id).unwrap().unwrap();
    assert_eq!(item.disposition.as_ref().and_then(|d| d.account.as_ref()), Some(&card));
    assert_eq!(stored_audit(&app.store, id), pairs(&[("amelie.ca", "claim"), ("amelie.ca", "resolve")]));
}
