//! `CartCoordinator`: one Durable Object per reservation id. It records each step before touching
//! any SKU ledger, drives the step through [`crate::cart::coordinator`], and finishes an
//! interrupted step from its alarm. A keyed commit, release or extend keeps its first answer
//! (and, until answered, the time it was first asked), so a repeat applies nothing again.

use futures::lock::Mutex;
use serde::Deserialize;
use worker::*;

use crate::api::cart_call::{CartAction, CartAnswer, CartCall, CartRefusal, CartReply, CartResult};
use crate::api::idempotency::{judge, Keyed, Recorded, Verdict};
use crate::api::order_call::OrderCall;
use crate::api::requests::direct;
use crate::cart::coordinator::{self, Start, RESUME_DELAY_MS};
use crate::cart::registration::{self, Owed};
use crate::cart::{CartError, CartStore, End, Phase, Reservation, SaveError};
use crate::stock::{HoldId, OrderKey, Token};
use crate::time::Millis;

use super::clock::now;
use super::order_client;
use super::rpc::{self, corrupt};
use super::sku_client::StubPort;

const CLASS: &str = "CartCoordinator";

#[derive(Deserialize)]
struct BodyRow {
    body: String,
}

#[durable_object]
pub struct CartCoordinator {
    state: State,
    env: Env,
    /// One step at a time per cart: concurrent identical requests wait and then see its result.
    lock: Mutex<()>,
    /// Whether this instance already made sure its tables exist (once, not on every call).
    schema_ready: std::cell::Cell<bool>,
}

/// The cart's record in the object's SQLite storage.
struct SqlCart {
    sql: SqlStorage,
}

impl CartStore for SqlCart {
    fn save(&self, r: &Reservation) -> std::result::Result<(), SaveError> {
        let body = serde_json::to_string(r).map_err(|e| SaveError(e.to_string()))?;
        self.sql
            .exec("INSERT OR REPLACE INTO cart (k, body) VALUES ('cart', ?)", vec![body.into()])
            .map(|_| ())
            .map_err(|e| SaveError(e.to_string()))
    }

    /// The alarm is set before each step (see `drive`), so there is nothing to do here.
    fn resume_at(&self, _at: Option<Millis>) {}
}

/// Whether a reply is final, to be kept for the key's repeats: not a step left to finish.
fn is_final(result: &CartResult) -> bool {
    !matches!(result, Err(CartRefusal::Cart(CartError::Unavailable(_) | CartError::NotSaved(_))))
}

impl CartCoordinator {
    fn sql(&self) -> Result<SqlStorage> {
        let sql = self.state.storage().sql();
        if !self.schema_ready.get() {
            sql.exec("CREATE TABLE IF NOT EXISTS cart (k TEXT PRIMARY KEY, body TEXT NOT NULL)", None)?;
            sql.exec("CREATE TABLE IF NOT EXISTS keys (k TEXT PRIMARY KEY, body TEXT NOT NULL)", None)?;
            self.schema_ready.set(true);
        }
        Ok(sql)
    }

    fn load(&self) -> Result<Option<Reservation>> {
        let rows = self.sql()?.exec("SELECT body FROM cart WHERE k = 'cart'", None)?.to_array::<BodyRow>()?;
        rows.first().map(|r| serde_json::from_str(&r.body).map_err(corrupt)).transpose()
    }

    fn recorded(&self, key: &str) -> Result<Option<Recorded<CartResult>>> {
        let rows = self.sql()?.exec("SELECT body FROM keys WHERE k = ?", vec![key.into()])?.to_array::<BodyRow>()?;
        rows.first().map(|r| serde_json::from_str(&r.body).map_err(corrupt)).transpose()
    }

    fn record(&self, key: &str, rec: &Recorded<CartResult>) -> Result<()> {
        let body = serde_json::to_string(rec)?;
        self.sql()?.exec("INSERT OR REPLACE INTO keys (k, body) VALUES (?, ?)", vec![key.into(), body.into()])?;
        Ok(())
    }

    /// Arms the resume alarm before a step touches any SKU.
    async fn arm(&self) -> Result<()> {
        self.arm_at(Millis(now().0 + RESUME_DELAY_MS)).await
    }

    async fn arm_at(&self, at: Millis) -> Result<()> {
        self.state.storage().set_alarm(ScheduledTime::new(js_sys::Date::new(&(at.0 as f64).into()))).await
    }

    /// Saves `r`, arms the alarm, runs `step`, and records the answer of a creation. What the
    /// step could not save or arm is a typed [`CartError::NotSaved`]: the step is left for the
    /// alarm or a retry.
    async fn drive<F>(&self, r: &mut Reservation, step: F) -> std::result::Result<(), CartError>
    where
        F: for<'a> FnOnce(
            &'a StubPort<'a>,
            &'a SqlCart,
            &'a mut Reservation,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = std::result::Result<(), CartError>> + 'a>,
        >,
    {
        let not_saved = |e: Error| CartError::NotSaved(SaveError(e.to_string()));
        let store = SqlCart { sql: self.sql().map_err(not_saved)? };
        store.save(r)?;
        self.arm().await.map_err(not_saved)?;
        let port = StubPort { env: &self.env };
        let result = step(&port, &store, r).await;
        if coordinator::record_answer(r, &result, now()) {
            store.save(r)?;
        }
        if !r.in_transition() {
            self.state.storage().delete_alarm().await.map_err(not_saved)?;
        }
        result
    }

    /// Creates `new` (or replays, resumes or refuses, as its record under the same id says).
    /// `keyed`: the id came from an Idempotency-Key, so another request under it reuses the key.
    async fn create(&self, new: Reservation, keyed: bool, t: Millis) -> Result<CartReply> {
        let id = new.id.clone();
        let (mut r, result) = match coordinator::start_create(self.load()?, new) {
            Start::Conflict if keyed => return Ok(Keyed::KeyReused),
            Start::Conflict => return Ok(Keyed::Answered(Err(CartRefusal::Conflict { id }))),
            Start::Replay(existing) => {
                let first = existing.answer.clone().map(|a| a.map(CartAnswer::Created).map_err(CartRefusal::Cart));
                return Ok(match first {
                    Some(first) => Keyed::Replayed(first),
                    None => Keyed::Answered(Ok(CartAnswer::Current(existing.shown(t)))),
                });
            }
            Start::Resume(mut r) => {
                let res = self.drive(&mut r, |p, s, r| Box::pin(coordinator::resume(p, s, r, t))).await;
                (r, res)
            }
            Start::Fresh(mut r) => {
                let res = self.drive(&mut r, |p, s, r| Box::pin(coordinator::create(p, s, r, t))).await;
                (r, res)
            }
        };
        // The first answer as recorded, or (not final: a SKU unreachable) the refusal as it is.
        Ok(Keyed::Answered(match (r.answer.take(), result) {
            (Some(first), _) => first.map(CartAnswer::Created).map_err(CartRefusal::Cart),
            (None, result) => result.map(|()| CartAnswer::Created(r.shown(now()))).map_err(CartRefusal::Cart),
        }))
    }

    /// The order desk registration the cart owes (`cart::registration::Owed`: its committed
    /// lines, so that cancelling or fulfilling the order reaches these ledgers), as stored in row
    /// `owed`. A row `registration` (one call, written before `Owed`) is owed under `hold`.
    fn owed(&self, hold: &HoldId) -> Result<Owed> {
        let read = |k: &str| -> Result<Option<String>> {
            let rows = self.sql()?.exec("SELECT body FROM cart WHERE k = ?", vec![k.into()])?.to_array::<BodyRow>()?;
            Ok(rows.into_iter().next().map(|r| r.body))
        };
        let mut owed: Owed =
            read("owed")?.map(|b| serde_json::from_str(&b).map_err(corrupt)).transpose()?.unwrap_or_default();
        if let Some(body) = read("registration")? {
            owed.owe_call(hold.clone(), serde_json::from_str::<OrderCall>(&body).map_err(corrupt)?);
        }
        Ok(owed)
    }

    /// Writes what the cart owes (row `owed`, none when nothing is), in one turn with no await.
    fn keep_owed(&self, owed: &Owed) -> Result<()> {
        let sql = self.sql()?;
        sql.exec("DELETE FROM cart WHERE k = 'registration'", None)?;
        if owed.is_empty() {
            sql.exec("DELETE FROM cart WHERE k = 'owed'", None)?;
        } else {
            let body = serde_json::to_string(owed)?;
            sql.exec("INSERT OR REPLACE INTO cart (k, body) VALUES ('owed', ?)", vec![body.into()])?;
        }
        Ok(())
    }

    /// Owes the registration of committed cart `r` (`registration` answers which, if any).
    fn owe(&self, r: &Reservation, registration: Option<OrderCall>) -> Result<()> {
        let Some(call) = registration else { return Ok(()) };
        let mut owed = self.owed(&r.hold_id())?;
        if owed.owe_call(r.hold_id(), call) {
            self.keep_owed(&owed)?;
        }
        Ok(())
    }

    /// Sends what the cart owes ([`Self::owe`]), if anything: forgotten once the desk answered,
    /// else the alarm comes back for it (`Owed::retry_at`).
    async fn register_owed(&self, hold: &HoldId) -> Result<()> {
        let mut owed = self.owed(hold)?;
        if owed.is_empty() {
            return Ok(());
        }
        for (id, call) in owed.due() {
            let delivery = order_client::register(&self.env, &format!("cart {id}"), &call).await;
            owed.sent(&id, &delivery);
        }
        self.keep_owed(&owed)?;
        if let Some(at) = owed.retry_at(now(), RESUME_DELAY_MS) {
            self.arm_at(at).await?;
        }
        Ok(())
    }

    /// Carries out a step other than a creation. `asked` is when the request was first asked (an
    /// extension's new deadline counts from it).
    async fn act(&self, id: Token, action: CartAction, asked: Millis) -> Result<CartResult> {
        let t = now();
        let Some(mut r) = self.load()? else { return Ok(Err(CartRefusal::NotFound { id })) };
        if matches!(r.phase, Phase::Ended { outcome: End::Rejected }) {
            return Ok(Err(CartRefusal::Rejected { id }));
        }
        let current = |r: &Reservation| CartAnswer::Current(r.shown(now()));
        let result = match action {
            CartAction::Get | CartAction::Create { .. } => return Ok(Ok(current(&r))),
            CartAction::Commit { order_id } => {
                let order = OrderKey {
                    channel: r.channel.clone().unwrap_or_else(direct),
                    order_id: order_id.unwrap_or_else(|| r.id.clone()),
                };
                let key = order.clone();
                let res = self.drive(&mut r, |p, s, r| Box::pin(coordinator::commit(p, s, r, order, t))).await;
                if res.is_ok() {
                    // Owed before it is sent. A failure to record it or to arm the alarm for it
                    // fails the request, so that its client retries (a repeated commit answers
                    // the same and owes it again); an unreached desk is the alarm's.
                    self.owe(&r, registration::attach(&r.hold_id(), &r.parts, key))?;
                    self.register_owed(&r.hold_id()).await?;
                }
                res
            }
            CartAction::Release => self.drive(&mut r, |p, s, r| Box::pin(coordinator::release(p, s, r, t))).await,
            CartAction::Extend { ttl_seconds } => {
                let at = asked.plus_seconds(ttl_seconds);
                self.drive(&mut r, |p, s, r| Box::pin(coordinator::extend(p, s, r, at, t))).await
            }
        };
        Ok(result.map(|()| current(&r)).map_err(CartRefusal::Cart))
    }

    async fn call(&self, call: CartCall) -> Result<CartReply> {
        let _guard = self.lock.lock().await;
        let t = now();
        let CartCall { id, action, idempotency } = call;
        if let CartAction::Create { parts, ttl_seconds, channel, reference, fingerprint, keyed } = action {
            let new = Reservation::creating(id, parts, ttl_seconds, channel, reference, fingerprint, t);
            return self.create(new, keyed, t).await;
        }
        let Some((key, fingerprint)) = idempotency else { return Ok(Keyed::Answered(self.act(id, action, t).await?)) };
        let asked = match judge(self.recorded(&key)?.as_ref(), &fingerprint) {
            Verdict::Replay(first) => return Ok(Keyed::Replayed(first.clone())),
            Verdict::Reused => return Ok(Keyed::KeyReused),
            Verdict::Resume { at } => at,
            Verdict::Fresh => {
                self.record(&key, &Recorded { fingerprint: fingerprint.clone(), at: t, reply: None })?;
                t
            }
        };
        let result = self.act(id, action, asked).await?;
        if is_final(&result) {
            self.record(&key, &Recorded { fingerprint, at: asked, reply: Some(result.clone()) })?;
        }
        Ok(Keyed::Answered(result))
    }
}

impl DurableObject for CartCoordinator {
    fn new(state: State, env: Env) -> Self {
        CartCoordinator { state, env, lock: Mutex::new(()), schema_ready: std::cell::Cell::new(false) }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        rpc::serve(req, CLASS, |call: CartCall| self.call(call)).await
    }

    async fn alarm(&self) -> Result<Response> {
        let _guard = self.lock.lock().await;
        let Some(mut r) = self.load()? else { return Response::ok("empty") };
        if r.in_transition() {
            let t = now();
            let before = r.phase.clone();
            if let Err(e) = self.drive(&mut r, |p, s, r| Box::pin(coordinator::resume(p, s, r, t))).await {
                console_warn!("cart {}: resume left pending: {e:?}", r.id);
            }
            // A commit the alarm finished is registered by nobody else: keep it until the desk answers.
            self.owe(&r, registration::owed(&before, &r))?;
        }
        self.register_owed(&r.hold_id()).await?;
        Response::ok("ok")
    }
}
