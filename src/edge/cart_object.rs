//! `CartCoordinator`: one Durable Object per reservation id. It records each step before touching
//! any SKU ledger, drives the step through [`crate::cart::coordinator`], and finishes an
//! interrupted step from its alarm.

use std::cell::RefCell;

use futures::lock::Mutex;
use serde::Deserialize;
use worker::*;

use crate::api::cart_call::{answer, CartAction, CartCall};
use crate::api::order_call::{OrderAction, OrderCall};
use crate::api::sku_call::Answer;
use crate::api::views::ReservationView;
use crate::api::{Kind, Problem};
use crate::cart::coordinator::{self, Start, RESUME_DELAY_MS};
use crate::cart::{CartStore, End, Phase, Reservation};
use crate::orders::BookLine;
use crate::stock::order::hold_line_id;
use crate::stock::{OrderKey, Token};
use crate::time::Millis;

use super::clock::now;
use super::http;
use super::order_client;
use super::sku_client::StubPort;

#[derive(Deserialize)]
struct BodyRow {
    body: String,
}

/// The recorded answer to a creation, replayed; a 201 shows the reservation as it is now.
fn replay(r: &Reservation, now: Millis) -> Answer {
    match &r.answer {
        Some((201, _)) => {
            let mut view = serde_json::to_value(ReservationView::of(r, now)).unwrap_or_default();
            if let Some(m) = view.as_object_mut() {
                m.insert("replayed".into(), true.into());
            }
            Answer { status: 201, body: view }
        }
        Some((status, body)) => Answer { status: *status, body: serde_json::from_str(body).unwrap_or_default() },
        None => Answer::ok(ReservationView::of(r, now)),
    }
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

struct SqlCart<'a> {
    sql: SqlStorage,
    failed: &'a RefCell<Option<String>>,
}

impl CartStore for SqlCart<'_> {
    fn save(&self, r: &Reservation) {
        let res = serde_json::to_string(r).map_err(|e| e.to_string()).and_then(|body| {
            self.sql
                .exec("INSERT OR REPLACE INTO cart (k, body) VALUES ('cart', ?)", vec![body.into()])
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
        if let Err(e) = res {
            *self.failed.borrow_mut() = Some(e);
        }
    }

    /// The alarm is set before each step (see `drive`), so there is nothing to do here.
    fn resume_at(&self, _at: Option<Millis>) {}
}

impl CartCoordinator {
    fn sql(&self) -> Result<SqlStorage> {
        let sql = self.state.storage().sql();
        if !self.schema_ready.get() {
            sql.exec("CREATE TABLE IF NOT EXISTS cart (k TEXT PRIMARY KEY, body TEXT NOT NULL)", None)?;
            self.schema_ready.set(true);
        }
        Ok(sql)
    }

    fn load(&self) -> Result<Option<Reservation>> {
        let rows = self.sql()?.exec("SELECT body FROM cart WHERE k = 'cart'", None)?.to_array::<BodyRow>()?;
        match rows.first() {
            Some(r) => serde_json::from_str(&r.body).map(Some).map_err(|e| Error::RustError(e.to_string())),
            None => Ok(None),
        }
    }

    /// Arms the resume alarm before a step touches any SKU.
    async fn arm(&self) -> Result<()> {
        let at = now().0 + RESUME_DELAY_MS;
        self.state.storage().set_alarm(ScheduledTime::new(js_sys::Date::new(&(at as f64).into()))).await
    }

    fn store<'a>(&self, failed: &'a RefCell<Option<String>>) -> Result<SqlCart<'a>> {
        Ok(SqlCart { sql: self.sql()?, failed })
    }

    async fn create(&self, id: Token, action: CartAction) -> Result<Answer> {
        let CartAction::Create { parts, ttl_seconds, channel, reference, fingerprint, keyed } = action else {
            return Err(Error::RustError("not a create".into()));
        };
        let t = now();
        let new = Reservation {
            id: id.clone(),
            parts,
            expires_at: t.plus_seconds(ttl_seconds),
            phase: Phase::Creating,
            channel,
            reference,
            created_at: t,
            fingerprint,
            answer: None,
            attempt: 0,
        };
        match coordinator::start_create(self.load()?, new) {
            Start::Conflict => {
                let p = if keyed {
                    Problem::new(Kind::IdempotencyKeyReused, "this Idempotency-Key was used with a different request")
                } else {
                    Problem::new(Kind::ReservationConflict, format!("reservation {id} exists with other lines"))
                };
                Ok(Answer::problem(&p))
            }
            Start::Replay(existing) => Ok(replay(&existing, t)),
            Start::Resume(mut r) => self.drive(&mut r, 201, |p, s, r| Box::pin(coordinator::resume(p, s, r, t))).await,
            Start::Fresh(mut r) => self.drive(&mut r, 201, |p, s, r| Box::pin(coordinator::create(p, s, r, t))).await,
        }
    }

    /// Saves `r`, arms the alarm, runs `step`, and records the answer of a creation.
    async fn drive<F>(&self, r: &mut Reservation, ok_status: u16, step: F) -> Result<Answer>
    where
        F: for<'a> FnOnce(
            &'a StubPort<'a>,
            &'a SqlCart<'a>,
            &'a mut Reservation,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = std::result::Result<(), crate::cart::CartError>> + 'a>,
        >,
    {
        let failed = RefCell::new(None);
        let store = self.store(&failed)?;
        store.save(r);
        self.arm().await?;
        let port = StubPort { env: &self.env };
        let result = step(&port, &store, r).await;
        if let Some(e) = failed.borrow().as_ref() {
            return Err(Error::RustError(format!("cart not saved: {e}")));
        }
        let a = answer(r, result.clone(), ok_status, now());
        if r.answer.is_none() && coordinator::is_final_answer(r, &result) {
            // The creation's answer, kept for its retries — whoever finished it (the request or
            // the alarm).
            let first = answer(r, result, 201, now());
            r.answer = Some((first.status, first.body.to_string()));
            store.save(r);
        }
        if !r.in_transition() {
            self.state.storage().delete_alarm().await?;
        }
        Ok(a)
    }

    /// Registers a committed cart's lines with its order desk, so that cancelling or fulfilling
    /// the order reaches these ledgers. Repeats are harmless; a failure is logged and healed by
    /// the client's retry of the commit (which registers again).
    async fn register(&self, r: &Reservation, order: OrderKey) {
        let lines = r
            .parts
            .iter()
            .flat_map(|p| {
                p.lines.iter().filter_map(|(loc, qty)| {
                    hold_line_id(&r.hold_id(), loc).ok().map(|line_id| BookLine {
                        sku: p.sku.clone(),
                        line_id,
                        location: loc.clone(),
                        qty: *qty,
                    })
                })
            })
            .collect();
        let call = OrderCall { order, action: OrderAction::Attach { lines }, idempotency: None };
        match order_client::call(&self.env, &call).await {
            Ok(a) if a.status == 200 => {}
            Ok(a) => console_warn!("cart {}: order desk answered {}", r.id, a.status),
            Err(e) => console_warn!("cart {}: order desk unreachable: {e}", r.id),
        }
    }

    async fn call(&self, call: CartCall) -> Result<Answer> {
        let _guard = self.lock.lock().await;
        let t = now();
        if let CartAction::Create { .. } = call.action {
            return self.create(call.id, call.action).await;
        }
        let Some(mut r) = self.load()? else {
            return Ok(Answer::problem(&Problem::new(
                Kind::ReservationNotFound,
                format!("no reservation {}", call.id),
            )));
        };
        if matches!(r.phase, Phase::Ended { outcome: End::Rejected }) {
            return Ok(Answer::problem(&Problem::new(
                Kind::ReservationNotFound,
                format!("reservation {} was refused", call.id),
            )));
        }
        match call.action {
            CartAction::Get => Ok(Answer::ok(ReservationView::of(&r, t))),
            CartAction::Commit { order_id } => {
                let order = OrderKey {
                    channel: r.channel.clone().unwrap_or_else(crate::api::requests::direct),
                    order_id: order_id.unwrap_or_else(|| r.id.clone()),
                };
                let key = order.clone();
                let a = self.drive(&mut r, 200, |p, s, r| Box::pin(coordinator::commit(p, s, r, order, t))).await?;
                if a.status == 200 {
                    self.register(&r, key).await;
                }
                Ok(a)
            }
            CartAction::Release => self.drive(&mut r, 200, |p, s, r| Box::pin(coordinator::release(p, s, r, t))).await,
            CartAction::Extend { ttl_seconds } => {
                let at = t.plus_seconds(ttl_seconds);
                self.drive(&mut r, 200, |p, s, r| Box::pin(coordinator::extend(p, s, r, at, t))).await
            }
            CartAction::Create { .. } => Err(Error::RustError("unreachable".into())),
        }
    }
}

impl DurableObject for CartCoordinator {
    fn new(state: State, env: Env) -> Self {
        CartCoordinator { state, env, lock: Mutex::new(()), schema_ready: std::cell::Cell::new(false) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let call: CartCall = match super::rpc::read(&mut req).await {
            Ok(c) => c,
            Err(answer) => return answer,
        };
        let a = self.call(call).await?;
        http::answer(&a)
    }

    async fn alarm(&self) -> Result<Response> {
        let _guard = self.lock.lock().await;
        let Some(mut r) = self.load()? else { return Response::ok("empty") };
        if r.in_transition() {
            let t = now();
            self.drive(&mut r, 200, |p, s, r| Box::pin(coordinator::resume(p, s, r, t))).await?;
        }
        Response::ok("ok")
    }
}
