//! The ERP stock polls: the cron trigger (one call from `inbound_poll::scheduled`) and
//! `POST /v1/erp/polls/run` read each enabled connection's stock changed since its watermark
//! and apply it through the same path as `POST /v1/erp/snapshots` (`erp::apply_lines`), so the
//! decision of what a figure does to on hand is `erp::decide`'s, whatever brought it.
//!
//! Per connection and run (decisions in `crate::erp::connectors`, D1 in `store::erp`):
//! 1. Take the connection's lease in D1 `erp_polls` (runs may overlap; one polls a connection at
//!    a time) and read its state: the watermark and an unfinished stretch with its cursor.
//! 2. Read at most `PAGES_PER_RUN` pages. Each page's rows are mapped (item code → SKU,
//!    warehouse code → location; unmapped rows are recorded in `erp_unmapped`) and applied as
//!    snapshot lines as of the moment the page was read. The state is saved after every page,
//!    so a run that stops (a refusal, the budget) is continued by the next from that page.
//! 3. Release the lease and record the run.
//!
//! Calls are authenticated per connector (SAP B1: a Service Layer session kept per isolate, a
//! new login when it answers 401; Odoo: the API key as a bearer token; NetSuite: an OAuth 2.0
//! access token cached per isolate, `erp_netsuite`), throttling (`429`, `503` with
//! `Retry-After`, NetSuite's `CONCURRENCY_LIMIT_EXCEEDED`) waited out up to
//! `MAX_RETRY_AFTER_SECONDS`, transient failures tried again [`ATTEMPTS`] times.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};
use worker::{D1Database, Env, Response};

use crate::api::sku_call::SkuAnswer;
use crate::erp::connection::{Connection, Vendor};
use crate::erp::connectors::netsuite::{self, suiteql};
use crate::erp::connectors::odoo;
use crate::erp::connectors::poll::{Stretch, PAGES_PER_RUN};
use crate::erp::connectors::sap_b1::{self, Credentials, ItemsPage, Session};
use crate::erp::connectors::{classify, Answer, CallFailure};
use crate::erp::{AsOf, Seen};
use crate::fault::{Fault, StoreError};
use crate::stock::Token;
use crate::sync::{HttpRequest, HttpResponse};

use super::clock::now;
use super::erp_netsuite::NetsuiteClient;
use super::limits::CALL_TIMEOUT;
use super::store::{self, erp as rows};
use super::{http, platform_http, secrets};

/// Tries of one call (transport failures, 5xx, throttling).
pub const ATTEMPTS: u32 = 4;

thread_local! {
    /// SAP B1 sessions by connection id, kept across requests in this isolate (a login per run
    /// would open a session per cron tick; the Service Layer limits them).
    static SAP_SESSIONS: RefCell<BTreeMap<String, Session>> = const { RefCell::new(BTreeMap::new()) };
}

/// Polls every enabled connection (or only `only`) once; one JSON summary per connection.
pub async fn run(env: &Env, only: Option<&Token>) -> Result<Vec<Value>, Fault> {
    let db = store::db(env)?;
    let mut out = Vec::new();
    for c in rows::connections(&db).await? {
        // The webhook ERP pushes its snapshots: nothing to poll.
        let Some(vendor) = c.kind.vendor() else { continue };
        if only.is_some_and(|o| o != &c.id) || (!c.enabled && only.is_none()) {
            continue;
        }
        out.push(poll(env, &db, &c, vendor).await?);
    }
    Ok(out)
}

/// What one connection's run did.
#[derive(Default)]
struct Run {
    pages: usize,
    rows: usize,
    applied: usize,
    unmapped: usize,
    refused: usize,
    finished: bool,
    error: Option<String>,
}

async fn poll(env: &Env, db: &D1Database, c: &Connection, vendor: Vendor) -> Result<Value, StoreError> {
    let t = now();
    if !rows::lease(db, &c.id, t).await? {
        return Ok(json!({ "connection": c.id, "kind": c.kind, "result": "busy" }));
    }
    let mut run = Run::default();
    if let Err(why) = read_stretch(env, db, c, vendor, &mut run).await? {
        run.error = Some(why);
    }
    rows::finish(db, &c.id, run.error.as_deref(), run.rows, run.applied, now()).await?;
    Ok(json!({
        "connection": c.id, "kind": c.kind, "result": if run.error.is_some() { "error" } else { "ok" },
        "pages": run.pages, "rows": run.rows, "applied": run.applied, "unmapped": run.unmapped,
        "refused": run.refused, "finished": run.finished, "error": run.error,
    }))
}

/// Reads the connection's stretch as far as the budget goes. The outer `Err` is D1's; the inner
/// one stops the run with its reason.
async fn read_stretch(
    env: &Env,
    db: &D1Database,
    c: &Connection,
    vendor: Vendor,
    run: &mut Run,
) -> Result<Result<(), String>, StoreError> {
    let secret = match secrets::read(env, c.credentials_secret.as_deref()) {
        Ok(s) => s,
        Err(why) => return Ok(Err(format!("the connection's credentials secret: {why}"))),
    };
    let mut source = match vendor {
        Vendor::SapB1 => match Credentials::parse(&secret) {
            Ok(creds) => Source::Sap(SapClient { base: &c.base_url, id: c.id.as_str(), creds }),
            Err(why) => return Ok(Err(format!("the connection's credentials secret: {why}"))),
        },
        Vendor::Odoo => Source::Odoo { base: &c.base_url, key: secret, database: c.setting("database") },
        Vendor::Netsuite => match netsuite::auth::Credentials::parse(&secret) {
            Ok(creds) => Source::Netsuite(NetsuiteClient::new(&c.base_url, creds)),
            Err(why) => return Ok(Err(format!("the connection's credentials secret: {why}"))),
        },
    };
    let mut state = rows::poll_state(db, &c.id).await?;
    let mut stretch = state.stretch(now());
    let mappings = rows::mappings(db, &c.id).await?;
    let page_size = match vendor {
        Vendor::Netsuite => suiteql::page_size(c.setting_int("page_size")),
        Vendor::SapB1 | Vendor::Odoo => sap_b1::page_size(c.setting_int("page_size")),
    };
    for _ in 0..PAGES_PER_RUN {
        let page_at = now();
        let page = match source.page(&stretch, page_size).await {
            Ok(p) => p,
            Err(why) => return Ok(Err(why)),
        };
        run.pages += 1;
        run.rows += page.rows.len();
        let snapshot = Token::parse(&format!("{}:{}", c.id, page_at.0)).unwrap_or_else(|_| c.id.clone());
        // Orders StockEdge sends the ERP are not yet delivered by this connector (docs/erp.md):
        // the ERP has none of StockEdge's documents.
        let mapped = mappings.lines(page.rows, &snapshot, AsOf { at: Some(page_at), sequence: None }, &Seen::default());
        run.unmapped += mapped.unmapped.len();
        rows::record_unmapped(db, &c.id, &mapped.unmapped, page_at).await?;
        let results = match super::erp::apply_lines(env, mapped.lines).await {
            Ok(results) => results,
            Err(e) => return Ok(Err(format!("applying a page: {e}"))),
        };
        for r in &results {
            match r.result {
                Ok(SkuAnswer::Applied(_)) => run.applied += 1,
                _ => run.refused += 1,
            }
        }
        state.advance(&stretch, page.next.clone());
        rows::save_state(db, &c.id, &state).await?;
        match page.next {
            Some(next) => stretch.cursor = Some(next),
            None => {
                run.finished = true;
                return Ok(Ok(()));
            }
        }
    }
    Ok(Ok(()))
}

/// Where a connection's stock pages come from.
enum Source<'a> {
    Sap(SapClient<'a>),
    Odoo { base: &'a str, key: String, database: Option<&'a str> },
    Netsuite(NetsuiteClient<'a>),
}

impl Source<'_> {
    /// The page of `stretch` its cursor names.
    async fn page(&mut self, stretch: &Stretch, page_size: u32) -> Result<ItemsPage, String> {
        match self {
            Source::Sap(sap) => {
                let resp = sap.call(|s| sap_b1::items(s, stretch.since, stretch.cursor.as_deref(), page_size)).await?;
                sap_b1::read_items(&resp)
            }
            Source::Odoo { base, key, database } => {
                let offset = stretch.cursor.as_deref().and_then(|c| c.parse::<u64>().ok()).unwrap_or(0);
                let req = odoo::quants(key, *database, stretch.since, offset, page_size);
                let resp = send_retrying(base, &req).await?;
                if classify(&resp, now()) == Answer::Reauthenticate {
                    return Err("Odoo refused the API key (401)".into());
                }
                odoo::read_quants(&resp, offset, page_size)
            }
            Source::Netsuite(ns) => {
                let offset = stretch.cursor.as_deref().and_then(|c| c.parse::<u64>().ok()).unwrap_or(0);
                let resp = ns.call(|token| suiteql::balances(token, offset, page_size)).await?;
                suiteql::read_balances(&resp, offset, page_size)
            }
        }
    }
}

/// A SAP B1 Service Layer caller: logs in when it has no session or the session expired. Also
/// the order delivery's (`erp_orders`).
pub(super) struct SapClient<'a> {
    pub(super) base: &'a str,
    pub(super) id: &'a str,
    pub(super) creds: Credentials,
}

impl SapClient<'_> {
    fn session(&self) -> Option<Session> {
        SAP_SESSIONS.with(|s| s.borrow().get(self.id).cloned())
    }

    fn forget(&self) {
        SAP_SESSIONS.with(|s| s.borrow_mut().remove(self.id));
    }

    async fn login(&self) -> Result<Session, CallFailure> {
        let resp = send_retrying(self.base, &sap_b1::login(&self.creds)).await?;
        let session = sap_b1::read_login(&resp).map_err(CallFailure::Refused)?;
        SAP_SESSIONS.with(|s| s.borrow_mut().insert(self.id.to_owned(), session.clone()));
        Ok(session)
    }

    /// Makes the call `build` describes for a session, tried as [`send_retrying`] does; a `401`
    /// logs in again and repeats it once.
    async fn call(
        &mut self,
        build: impl Fn(&Session) -> Result<HttpRequest, String>,
    ) -> Result<HttpResponse, CallFailure> {
        self.call_with(build, false).await
    }

    /// As [`call`](Self::call); with `once`, the call is sent once ([`send_once`]: a create) —
    /// a `401` (nothing applied) is still repeated once with a new session.
    pub(super) async fn call_with(
        &self,
        build: impl Fn(&Session) -> Result<HttpRequest, String>,
        once: bool,
    ) -> Result<HttpResponse, CallFailure> {
        let send = |req: HttpRequest| async move {
            if once {
                send_once(self.base, &req).await
            } else {
                send_retrying(self.base, &req).await
            }
        };
        let session = match self.session() {
            Some(s) => s,
            None => self.login().await?,
        };
        let resp = send(build(&session).map_err(CallFailure::Refused)?).await?;
        if classify(&resp, now()) != Answer::Reauthenticate {
            return Ok(resp);
        }
        self.forget();
        let session = self.login().await?;
        let resp = send(build(&session).map_err(CallFailure::Refused)?).await?;
        match classify(&resp, now()) {
            Answer::Reauthenticate => Err(CallFailure::Refused("the ERP refused a fresh session (401)".into())),
            _ => Ok(resp),
        }
    }
}

/// One call, tried up to [`ATTEMPTS`] times: a transport failure or 5xx after 200 ms × n, a
/// throttled answer after its `Retry-After`. Answers `Ok` with a 2xx or 401 for the caller to
/// read; `Err` when every try failed or the ERP refused the call. Only for calls that may be
/// repeated (reads, logins, idempotent writes): a create is sent once ([`send_once`]).
pub async fn send_retrying(base: &str, req: &HttpRequest) -> Result<HttpResponse, CallFailure> {
    let resp = send_until_answered(base, req).await?;
    match classify(&resp, now()) {
        Answer::Refused(why) => Err(CallFailure::Refused(why)),
        _ => Ok(resp),
    }
}

/// Like [`send_retrying`], but a refusal (a 4xx other than `401` and throttling) is answered for
/// the caller to read: a NetSuite lookup's `404` says "no such record", not "refused".
pub async fn send_until_answered(base: &str, req: &HttpRequest) -> Result<HttpResponse, CallFailure> {
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        match platform_http::send(base, req, CALL_TIMEOUT).await {
            Err(why) => last = why,
            Ok(resp) => match classify(&resp, now()) {
                Answer::Ok | Answer::Reauthenticate | Answer::Refused(_) => return Ok(resp),
                Answer::Wait(s) => {
                    last = format!("throttled ({})", resp.status);
                    worker::Delay::from(Duration::from_secs(s)).await;
                    continue;
                }
                Answer::Retry(why) => last = why,
            },
        }
        worker::Delay::from(Duration::from_millis(200 * u64::from(attempt + 1))).await;
    }
    Err(CallFailure::Unavailable(format!("{ATTEMPTS} attempts failed: {last}")))
}

/// One call, sent once: a create, which must not be repeated blindly (its answer may be lost
/// after the ERP applied it; the caller looks the document up again instead). Answers `Ok`
/// with any answer for the caller to classify; `Err` on a transport failure.
pub async fn send_once(base: &str, req: &HttpRequest) -> Result<HttpResponse, CallFailure> {
    platform_http::send(base, req, CALL_TIMEOUT).await.map_err(CallFailure::Unavailable)
}

/// `POST /v1/erp/polls/run[?connection=]`.
pub async fn run_now(env: &Env, only: Option<Token>) -> Result<Response, Fault> {
    let runs = run(env, only.as_ref()).await?;
    Ok(http::json(200, &json!({ "runs": runs }))?)
}

/// `GET /v1/erp/polls`: each connection's watermark and last run.
pub async fn status(env: &Env) -> Result<Response, Fault> {
    let records = rows::poll_records(&store::db(env)?).await?;
    let items: Vec<Value> = records
        .into_iter()
        .map(|r| {
            let state: Value = serde_json::from_str(&r.state).unwrap_or(Value::Null);
            json!({
                "connection": r.connection, "state": state, "last_run_at": r.last_run_at, "last_ok_at": r.last_ok_at,
                "last_error": r.last_error, "rows_read": r.rows_read, "lines_applied": r.lines_applied,
            })
        })
        .collect();
    Ok(http::json(200, &json!({ "items": items }))?)
}
