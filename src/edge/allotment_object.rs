//! `SkuAllotment`: one Durable Object per allotment of a hot SKU (`allot::home` names it),
//! SQLite-backed. It loads its [`Allotment`] once, runs each step of the core synchronously and
//! writes what changed in the same turn, before it sends anything to the SKU; the SKU's answer is
//! handed back to the core in a later turn. One hold request at a time (a lock), so that holds
//! arriving while a block is being borrowed wait for it instead of borrowing blocks of their own.
//! The alarm expires holds, reports the blocks to the SKU at most once per
//! `REPORT_INTERVAL_MS`, and sends again the commits whose answers were lost and the order desk
//! registrations no desk acknowledged.

use std::cell::RefCell;

use futures::lock::Mutex;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use worker::*;

use crate::allot::allotment::{AllotHold, Meta};
use crate::allot::{Allotment, Commit, LenderCall, LenderReply, Reserve};
use crate::api::allot_call::{self, AllotAction, AllotAnswer, AllotCall, AllotReply};
use crate::api::cart_call::{CartAnswer, CartRefusal};
use crate::api::idempotency::{judge, Keyed, Recorded, Verdict};
use crate::api::sku_call::{SkuAction, SkuAnswer};
use crate::cart::{CartError, Shown};
use crate::stock::limits::HOLD_RETENTION_MS;
use crate::stock::{Sku, Token};
use crate::time::Millis;

use super::clock::now;
use super::rpc::{self, corrupt};
use super::{order_client, sku_client};

/// The Durable Object namespace binding of the allotments (wrangler.toml).
pub const BINDING: &str = "SKU_ALLOTMENT";
const CLASS: &str = "SkuAllotment";

const SCHEMA: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS holds (id TEXT PRIMARY KEY, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, at INTEGER NOT NULL, body TEXT NOT NULL)",
];

#[derive(Deserialize)]
struct BodyRow {
    body: String,
}

fn decode<T: DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(corrupt)
}

fn encode<T: Serialize>(v: &T) -> Result<String> {
    Ok(serde_json::to_string(v)?)
}

#[durable_object]
pub struct SkuAllotment {
    state: State,
    env: Env,
    /// `None` until loaded; `Some(None)`: loaded, never used.
    mem: RefCell<Option<Option<Allotment>>>,
    lock: Mutex<()>,
    alarm_at: RefCell<Option<i64>>,
}

impl SkuAllotment {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn load(&self) -> Result<Option<Allotment>> {
        let sql = self.sql();
        for stmt in SCHEMA {
            sql.exec(stmt, None)?;
        }
        let meta = sql.exec("SELECT body FROM meta WHERE k = 'allotment'", None)?.to_array::<BodyRow>()?;
        let Some(meta) = meta.first() else { return Ok(None) };
        let meta: Meta = decode(&meta.body)?;
        let rows = sql.exec("SELECT body FROM holds", None)?.to_array::<BodyRow>()?;
        let holds = rows.iter().map(|r| decode::<AllotHold>(&r.body)).collect::<Result<Vec<_>>>()?;
        Ok(Some(Allotment::restore(meta, holds)))
    }

    /// Writes what the core changed, in the same turn as the change.
    fn persist(&self, a: &mut Allotment) -> Result<()> {
        let changes = a.take_changes();
        let sql = self.sql();
        if changes.meta {
            sql.exec("INSERT OR REPLACE INTO meta (k, body) VALUES ('allotment', ?)", vec![encode(&a.meta)?.into()])?;
        }
        for id in changes.holds {
            match a.holds.get(&id) {
                Some(h) => sql.exec(
                    "INSERT OR REPLACE INTO holds (id, body) VALUES (?, ?)",
                    vec![id.as_str().into(), encode(h)?.into()],
                )?,
                None => sql.exec("DELETE FROM holds WHERE id = ?", vec![id.as_str().into()])?,
            };
        }
        Ok(())
    }

    /// Runs `f` on the allotment (created by `create` if it has none yet) and persists.
    fn with<T>(&self, create: Option<(&Sku, u32)>, f: impl FnOnce(&mut Allotment) -> T) -> Result<Option<T>> {
        let mut slot = self.mem.borrow_mut();
        if slot.is_none() {
            *slot = Some(self.load()?);
        }
        let loaded = slot.get_or_insert(None);
        if loaded.is_none() {
            if let Some((sku, index)) = create {
                let mut b = [0u8; 4];
                getrandom::fill(&mut b).map_err(|e| Error::RustError(e.to_string()))?;
                *loaded = Some(Allotment::new(sku.clone(), index, hex::encode(b)));
            }
        }
        let Some(a) = loaded.as_mut() else { return Ok(None) };
        let out = f(a);
        if let Err(e) = self.persist(a) {
            *slot = None;
            return Err(e);
        }
        Ok(Some(out))
    }

    fn sku(&self) -> Option<Sku> {
        self.mem.borrow().as_ref().and_then(|m| m.as_ref()).map(|a| a.meta.sku.clone())
    }

    /// Sends a lender call to the SKU; `None` if it could not be reached or answered otherwise.
    async fn ask_sku(&self, sku: &Sku, call: LenderCall) -> Option<LenderReply> {
        match sku_client::ask(&self.env, sku, SkuAction::Lender { call }).await {
            Ok(Ok(SkuAnswer::Lender(r))) => Some(r),
            Ok(other) => {
                console_warn!("allotment of {sku}: the SKU answered {other:?}");
                None
            }
            Err(e) => {
                console_warn!("allotment of {sku}: {e}");
                None
            }
        }
    }

    /// Sends the order desk registrations the core owes (`cart::registration::Owed`, stored
    /// with the commit that owed them) — only hold `only`'s when given — so that the orders can
    /// be fulfilled and cancelled like any other, and takes how each desk took its own: one whose
    /// desk was unreached stays owed, and the alarm sends it again.
    async fn register_owed(&self, only: Option<&Token>) -> Result<()> {
        let owed = self.with(None, |a| a.owed_registrations())?.unwrap_or_default();
        for (id, call) in owed.into_iter().filter(|(id, _)| only.is_none_or(|o| o == id)) {
            let delivery = order_client::register(&self.env, &format!("allotment hold {id}"), &call).await;
            self.with(None, |a| a.registered(&id, &delivery))?;
        }
        Ok(())
    }

    async fn act(&self, id: Token, action: AllotAction) -> Result<AllotAnswer> {
        let t = now();
        let current = |r: Result<Shown, CartError>| -> AllotAnswer {
            AllotAnswer::Cart(r.map(CartAnswer::Current).map_err(CartRefusal::Cart))
        };
        Ok(match action {
            AllotAction::Create { sku, index, request } => {
                let _one = self.lock.lock().await;
                let first = self.with(Some((&sku, index)), |a| a.reserve(&request, t))?;
                let answer = match first {
                    Some(Reserve::Borrow(call)) => {
                        let reply = self.ask_sku(&sku, call).await;
                        self.with(None, |a| a.reserve_after(&request, reply, now()))?
                    }
                    other => other,
                };
                match answer {
                    Some(Reserve::Held(shown)) => allot_call::created(shown),
                    Some(Reserve::Refused(e)) => AllotAnswer::Cart(Err(CartRefusal::Cart(e))),
                    Some(Reserve::NotHot) => AllotAnswer::NotHot,
                    Some(Reserve::Borrow(_)) | None => allot_call::not_found(&id),
                }
            }
            AllotAction::Get => match self.with(None, |a| a.get(&id, t))?.flatten() {
                Some(shown) => current(Ok(shown)),
                None => allot_call::not_found(&id),
            },
            AllotAction::Release => match self.with(None, |a| a.release(&id, t))?.flatten() {
                Some(r) => current(r),
                None => allot_call::not_found(&id),
            },
            AllotAction::Extend { ttl_seconds } => {
                match self.with(None, |a| a.extend(&id, ttl_seconds, t))?.flatten() {
                    Some(r) => current(r),
                    None => allot_call::not_found(&id),
                }
            }
            AllotAction::Commit { order_id } => {
                let step = self.with(None, |a| a.commit(&id, order_id, t))?.flatten();
                match step {
                    None => allot_call::not_found(&id),
                    Some(Commit::Done(r)) => current(r),
                    Some(Commit::Send(call)) => {
                        let Some(sku) = self.sku() else { return Ok(allot_call::not_found(&id)) };
                        let reply = self.ask_sku(&sku, call).await;
                        let r = self.with(None, |a| a.committed(&id, reply, now()))?;
                        let r = r.unwrap_or(Err(CartError::NotHeld(crate::cart::Status::Rejected)));
                        if r.is_ok() {
                            // The commit went through: a registration that cannot be recorded
                            // stays owed (stored with the commit) and the alarm sends it again.
                            if let Err(e) = self.register_owed(Some(&id)).await {
                                console_warn!("allotment hold {id}: registration left for the alarm: {e}");
                            }
                        }
                        current(r)
                    }
                }
            }
            AllotAction::Recall { lend, want } => {
                let report = self.with(None, |a| a.recall(&lend, want, t))?;
                AllotAnswer::Report(report.unwrap_or(crate::stock::Report { lend, returned: 0, held: 0 }))
            }
        })
    }

    fn recorded(&self, key: &str) -> Result<Option<Recorded<AllotAnswer>>> {
        let rows =
            self.sql().exec("SELECT body FROM idempotency WHERE key = ?", vec![key.into()])?.to_array::<BodyRow>()?;
        rows.first().map(|r| decode(&r.body)).transpose()
    }

    /// Answers one call; a keyed commit, release or extend gives its first answer again.
    async fn call(&self, call: AllotCall) -> Result<AllotReply> {
        let AllotCall { id, action, idempotency } = call;
        if let Some((key, fingerprint)) = &idempotency {
            self.with(None, |_| ())?; // the schema
            match judge(self.recorded(key)?.as_ref(), fingerprint) {
                Verdict::Replay(reply) => return Ok(Keyed::Replayed(reply.clone())),
                Verdict::Reused => return Ok(Keyed::KeyReused),
                Verdict::Fresh | Verdict::Resume { .. } => {}
            }
        }
        let answer = self.act(id, action).await?;
        if let Some((key, fingerprint)) = idempotency {
            if is_final(&answer) {
                let rec = Recorded { fingerprint, at: now(), reply: Some(answer.clone()) };
                self.sql().exec(
                    "INSERT OR REPLACE INTO idempotency (key, at, body) VALUES (?, ?, ?)",
                    vec![key.into(), now().0.into(), encode(&rec)?.into()],
                )?;
            }
        }
        Ok(Keyed::Answered(answer))
    }

    /// Points the alarm at the next hold deadline, report or lease end.
    async fn schedule(&self) -> Result<()> {
        let next = self.mem.borrow().as_ref().and_then(|m| m.as_ref()).and_then(|a| a.wake_at(now()));
        let Some(want) = next.map(|m| m.0) else { return Ok(()) };
        if matches!(*self.alarm_at.borrow(), Some(c) if c <= want && c > now().0) {
            return Ok(());
        }
        self.state.storage().set_alarm(ScheduledTime::new(js_sys::Date::new(&(want as f64).into()))).await?;
        *self.alarm_at.borrow_mut() = Some(want);
        Ok(())
    }
}

/// Whether an answer is final, to be kept for the key's repeats (not a failure to reach the SKU).
fn is_final(answer: &AllotAnswer) -> bool {
    !matches!(answer, AllotAnswer::Cart(Err(CartRefusal::Cart(CartError::Unavailable(_)))))
}

impl DurableObject for SkuAllotment {
    fn new(state: State, env: Env) -> Self {
        SkuAllotment { state, env, mem: RefCell::new(None), lock: Mutex::new(()), alarm_at: RefCell::new(None) }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        rpc::serve(req, CLASS, |call: AllotCall| async move {
            let reply = self.call(call).await?;
            self.schedule().await?;
            Ok(reply)
        })
        .await
    }

    async fn alarm(&self) -> Result<Response> {
        *self.alarm_at.borrow_mut() = None;
        let t = now();
        let due = self.with(None, |a| {
            a.expire_due(t);
            a.prune(Millis(t.0 - HOLD_RETENTION_MS));
            let reports = a.meta.report_due.is_some_and(|at| at <= t).then(|| a.reports(t));
            (a.meta.sku.clone(), reports, a.pending_commits())
        })?;
        self.sql()
            .exec("DELETE FROM idempotency WHERE at < ?", vec![crate::api::idempotency::forget_before(t).0.into()])?;
        if let Some((sku, reports, commits)) = due {
            if let Some(reports) = reports {
                self.ask_sku(&sku, LenderCall::Report { reports }).await;
            }
            for call in commits {
                let LenderCall::Commit { hold, .. } = &call else { continue };
                let hold = hold.clone();
                let reply = self.ask_sku(&sku, call).await;
                self.with(None, |a| a.committed(&hold, reply, now()))?;
            }
            self.register_owed(None).await?;
        }
        self.schedule().await?;
        Response::ok("ok")
    }
}
