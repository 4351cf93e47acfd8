//! Live reconciliation, the shell: the cron (every run, [`LISTINGS_PER_CRON_RUN`] listings from a
//! cursor) and `POST /v1/reconciliation/run` read each listing's live quantity from its channel;
//! `GET /v1/reconciliation` lists the latest reads; `POST /v1/reconciliation/repair` pushes the
//! intended quantity to a channel's drifted listings. Every decision is the core's
//! (`crate::reconcile`: the platform's read, the intended quantity, the verdict); this loads the
//! listings with their sync records and the SKUs' current states, performs the reads with the
//! channel's credentials, records them (`store::reconcile`) and repairs through the push path
//! (`repush::to_listing`: the listing's record is set back and the SKU's current state queued,
//! as for drift a webhook reports, so versions stay monotonic).
//!
//! Per channel: its credential is had once (the secret, or an access token minted from it); a
//! read the platform refuses for credentials or throttles stops the channel's run (`error`), and
//! nothing is recorded for the listings not read; a listing that cannot be read (gone, an
//! unreadable answer, no answer) is recorded `unreadable` with the reason.

use std::collections::BTreeMap;

use worker::{console_error, console_log, D1Database, Env, Response};

use crate::api::reconciliation as views;
use crate::catalog::model::ChannelKind;
use crate::channels::platform;
use crate::db::channels::ChannelRow;
use crate::db::reconcile::{mark_repaired, record, record_drift};
use crate::db::Query;
use crate::fault::Fault;
use crate::inbound::InboundChannel;
use crate::reconcile::limits::{LISTINGS_PER_CRON_RUN, MAX_LISTINGS_PER_REQUEST, MAX_REPAIRS_PER_REQUEST};
use crate::reconcile::{decide, intended, InFlight, Read, ReadError, RunReport, Verdict};
use crate::stock::{Sku, Token};
use crate::sync::channel_push::pacing_key;
use crate::sync::connection::{self, Access};
use crate::sync::{Bearer, TokenSource};
use crate::time::Millis;

use super::clock::now;
use super::limits::CALL_TIMEOUT;
use super::store;
use super::store::reconcile::{self as rows, ReadRecord, ReconcileListingRow};
use super::{http, repush, secrets, tokens};

/// The cron's share of a scheduled run: the next listings after the cursor. Never fails the
/// scheduled event (the order-feed poll shares it); a failure is logged and the next run tries
/// again from the same cursor.
pub async fn scheduled(env: &Env) {
    match cron_pass(env).await {
        Ok(runs) => console_log!("reconciliation: {}", serde_json::to_string(&runs).unwrap_or_default()),
        Err(e) => console_error!("reconciliation failed: {e}"),
    }
}

async fn cron_pass(env: &Env) -> Result<Vec<RunReport>, Fault> {
    let db = store::db(env)?;
    let after = rows::cursor(&db).await?;
    let pass = reconcile(env, &db, None, after.as_ref().map(|(c, s)| (c, s)), LISTINGS_PER_CRON_RUN).await?;
    // A pass that read fewer listings than it could has reached the end: the next starts over.
    let next = if pass.more { pass.last.as_ref().map(|(c, s)| (c, s)) } else { None };
    rows::save_cursor(&db, next, now()).await?;
    Ok(pass.runs)
}

/// `POST /v1/reconciliation/run[?channel=]`: reads every listing (of every enabled channel, or of
/// one) now, up to [`MAX_LISTINGS_PER_REQUEST`].
pub async fn run_now(query: &[(String, String)], env: &Env) -> Result<Response, Fault> {
    let scope = match views::scope(query, false, false) {
        Ok(s) => s,
        Err(problem) => return Ok(http::problem(&problem)?),
    };
    let db = store::db(env)?;
    let pass = reconcile(env, &db, scope.channel.as_ref(), None, MAX_LISTINGS_PER_REQUEST).await?;
    Ok(http::json(200, &views::runs(&pass.runs, pass.more))?)
}

/// `GET /v1/reconciliation?channel=&sku=&drifted=&after=&limit=`: the latest read of each
/// listing, by id.
pub async fn list(query: &[(String, String)], env: &Env) -> Result<Response, Fault> {
    let q = match views::list_query(query) {
        Ok(q) => q,
        Err(problem) => return Ok(http::problem(&problem)?),
    };
    let p = q.page;
    let filters = (p.channel.as_ref(), p.sku.as_ref());
    let found = rows::page(&store::db(env)?, p.after, filters, q.drifted, p.limit + 1).await?;
    Ok(http::json(200, &views::page(found, p.limit))?)
}

/// `POST /v1/reconciliation/repair?channel=[&sku=]`: queues the intended quantity for each of the
/// channel's drifted listings (flagged or not), compare-and-set from the live value read.
pub async fn repair(query: &[(String, String)], env: &Env) -> Result<Response, Fault> {
    let scope = match views::scope(query, true, true) {
        Ok(s) => s,
        Err(problem) => return Ok(http::problem(&problem)?),
    };
    let Some(channel) = scope.channel else { return Ok(http::json(200, &views::repaired(0))?) };
    let db = store::db(env)?;
    let t = now();
    let drifted = rows::drifted(&db, &channel, scope.sku.as_ref(), MAX_REPAIRS_PER_REQUEST).await?;
    let drifted: Vec<(Sku, Option<i64>)> =
        drifted.into_iter().filter_map(|r| Some((Sku::parse(&r.sku).ok()?, r.live))).collect();
    let skus: Vec<Sku> = drifted.iter().map(|(sku, _)| sku.clone()).collect();
    let states = repush::current_all(env, &skus, t).await?;
    let mut marks = Vec::new();
    for (sku, live) in &drifted {
        let Some(state) = states.get(sku) else { continue };
        repush::to_listing(env, &db, &channel, state, *live, t).await?;
        marks.push(mark_repaired(&channel, sku, t));
    }
    let repaired = marks.len();
    rows::record(&db, marks).await?;
    Ok(http::json(200, &views::repaired(repaired))?)
}

/// What a pass over listings came to.
struct Pass {
    runs: Vec<RunReport>,
    /// The last listing the pass took.
    last: Option<(Token, Sku)>,
    /// Whether listings remain after it.
    more: bool,
}

/// Reads up to `limit` listings after `after` (of `only`, or of every enabled channel), channel
/// by channel.
async fn reconcile(
    env: &Env,
    db: &D1Database,
    only: Option<&Token>,
    after: Option<(&Token, &Sku)>,
    limit: usize,
) -> Result<Pass, Fault> {
    let channels: BTreeMap<String, ChannelRow> =
        rows::channels(db, only).await?.into_iter().map(|c| (c.channel.clone(), c)).collect();
    let mut listings = rows::listings(db, only, after, limit + 1).await?;
    let more = listings.len() > limit;
    listings.truncate(limit);
    let last = listings.last().and_then(|r| Some((Token::parse(&r.listing.channel).ok()?, r.listing.sku().ok()?)));
    let mut by_channel: BTreeMap<String, Vec<ReconcileListingRow>> = BTreeMap::new();
    for l in listings {
        by_channel.entry(l.listing.channel.clone()).or_default().push(l);
    }
    let mut runs = Vec::new();
    for (id, listings) in by_channel {
        let Some(row) = channels.get(&id) else { continue };
        let (Ok(kind), Some(conn)) = (
            row.kind(),
            InboundChannel::of(&row.channel, row.account.clone(), row.credentials_secret.clone(), &row.settings),
        ) else {
            continue;
        };
        runs.push(reconcile_channel(env, db, &conn, kind, &listings).await?);
    }
    Ok(Pass { runs, last, more })
}

/// The credential a channel's reads carry, and where a minted token came from (to forget it when
/// the platform refuses it).
struct Credential {
    value: String,
    minted: Option<(TokenSource, Bearer)>,
}

async fn credential(env: &Env, conn: &InboundChannel, kind: ChannelKind, t: Millis) -> Result<Credential, String> {
    let secret = secrets::read(env, conn.credentials_secret.as_deref());
    let access = connection::access(kind, secret.as_deref(), &conn.account, &conn.settings)
        .map_err(|e| format!("the channel's credentials: {e}"))?;
    match access {
        Access::Secret(Some(value)) => Ok(Credential { value, minted: None }),
        Access::Secret(None) => Err("the channel names no credentials secret".into()),
        Access::Token(source) => {
            let bearer = tokens::bearer(&source, t, CALL_TIMEOUT).await.map_err(|e| format!("access token: {e}"))?;
            Ok(Credential { value: bearer.token.clone(), minted: Some((source, bearer)) })
        }
    }
}

/// One channel's run over `listings`.
async fn reconcile_channel(
    env: &Env,
    db: &D1Database,
    conn: &InboundChannel,
    kind: ChannelKind,
    listings: &[ReconcileListingRow],
) -> Result<RunReport, Fault> {
    let mut report = RunReport::new(conn.id.clone(), kind);
    let Some(read) = platform(kind).read else {
        report.skipped = Some(format!("{} listings cannot be read back (the platform has no read)", kind.as_str()));
        return Ok(report);
    };
    let t = now();
    let cred = match credential(env, conn, kind, t).await {
        Ok(c) => c,
        Err(why) => {
            report.error = Some(why);
            return Ok(report);
        }
    };
    let skus: Vec<Sku> = listings.iter().filter_map(|l| l.listing.sku().ok()).collect();
    let states = repush::current_all(env, &skus, t).await?;
    let base = connection::base_url(kind, &conn.account, &conn.settings);
    let mut writes: Vec<Query> = Vec::new();
    for l in listings {
        let Ok(sku) = l.listing.sku() else { continue };
        let at = now();
        let base_record = ReadRecord {
            channel: conn.id.clone(),
            sku: sku.clone(),
            external: l.listing.external.clone(),
            intended: None,
            live: None,
            verdict: None,
            error: None,
            read_at: at,
            repaired_at: None,
        };
        let listed = l.listing.external(kind).map_err(|e| e.to_string()).and_then(|external| {
            Ok((external, l.listing.stored_rule().rule().map_err(|e| format!("stored rule: {e}"))?))
        });
        let (external, rule) = match listed {
            Ok(listed) => listed,
            Err(why) => {
                report.failed(&ReadError::NotReadable(why.clone()));
                writes.push(record(&ReadRecord { error: Some(why), ..base_record }));
                continue;
            }
        };
        let state = states.get(&sku);
        let want = intended(&rule, state);
        let live = match read_live(&read, &cred.value, conn, kind, &base, &external, at).await {
            Ok(live) => live,
            Err(e) if e.stops_channel() => {
                if let (ReadError::Credentials(_), Some((source, bearer))) = (&e, &cred.minted) {
                    // A refused kept token: the next run mints a new one.
                    tokens::forget(source, &bearer.token);
                }
                report.failed(&e);
                break;
            }
            Err(e) => {
                report.failed(&e);
                writes.push(record(&ReadRecord { intended: Some(want), error: Some(e.to_string()), ..base_record }));
                continue;
            }
        };
        let flight = InFlight {
            current_version: state.map_or(0, |s| s.version),
            last_version: l.last_version.and_then(|v| u64::try_from(v).ok()),
            pending_version: l.pending_version.and_then(|v| u64::try_from(v).ok()),
        };
        let mut verdict = decide(want, live, flight, conn.on_drift());
        let mut repaired_at = None;
        if verdict == Verdict::Repair {
            match state {
                Some(s) => {
                    // Queued like drift a webhook reports: compare-and-set from the live value.
                    repush::to_listing(env, db, &conn.id, s, Some(live), at).await?;
                    repaired_at = Some(at);
                }
                // A SKU never stocked has no state to push: the drift is only reported.
                None => verdict = Verdict::Flag,
            }
        }
        report.count(verdict, repaired_at.is_some());
        let r =
            ReadRecord { intended: Some(want), live: Some(live), verdict: Some(verdict), repaired_at, ..base_record };
        if verdict.is_drift() {
            writes.push(record_drift(&r, &l.listing.identity, l.listing.last_quantity));
        }
        writes.push(record(&r));
    }
    rows::record(db, writes).await?;
    Ok(report)
}

/// One listing's live quantity.
async fn read_live(
    read: &Read,
    credential: &str,
    conn: &InboundChannel,
    kind: ChannelKind,
    base: &str,
    external: &crate::catalog::model::External,
    at: Millis,
) -> Result<i64, ReadError> {
    let req = (read.request)(credential, &conn.settings, external, at)?;
    if let Some(fresh) = read.pacing {
        super::sync_consumer::pace(&pacing_key(kind, &conn.account), fresh(now())).await;
    }
    let resp = super::platform_http::send(base, &req, CALL_TIMEOUT).await.map_err(ReadError::Unavailable)?;
    (read.answer)(&resp, now())
}
