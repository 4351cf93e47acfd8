//! `OrderDesk`: one Durable Object per order (channel, order id). It keeps the order's book,
//! writes the SKU commands a request turns into before sending any, and re-sends them from its
//! alarm until every ledger confirmed (each command is idempotent).

use std::collections::BTreeMap;

use futures::future::join_all;
use futures::lock::Mutex;
use worker::*;

use crate::api::idempotency::{judge, Keyed, Recorded, Verdict};
use crate::api::order_call::{
    book_name, OrderAction, OrderCall, OrderRefusal, OrderReply, OrderResult, OrderState, SkuLine,
};
use crate::api::sku_call::{Applied, SkuAction, SkuAnswer, SkuRefusal};
use crate::cart::coordinator::RESUME_DELAY_MS;
use crate::orders::{check_on_hand, storage, Book, Plan};
use crate::stock::{LedgerError, Location, OrderKey, Sku};

use super::clock::now;
use super::rpc::{self, corrupt};
use super::{object_sql, sku_client};

const CLASS: &str = "OrderDesk";

/// What sending a plan came to.
enum Sent {
    /// Every ledger answered: its part applied, or its refusal.
    Confirmed(Vec<std::result::Result<Applied, LedgerError>>),
    /// A ledger could not be reached (or answered out of contract): the plan stays pending for
    /// the alarm.
    Pending(String),
}

#[durable_object]
pub struct OrderDesk {
    state: State,
    env: Env,
    lock: Mutex<()>,
    /// Whether this instance already made sure its tables exist (once, not on every call).
    schema_ready: std::cell::Cell<bool>,
}

impl OrderDesk {
    fn sql(&self) -> Result<SqlStorage> {
        let sql = self.state.storage().sql();
        if !self.schema_ready.get() {
            for table in storage::SCHEMA {
                sql.exec(table, None)?;
            }
            self.schema_ready.set(true);
        }
        Ok(sql)
    }

    fn load(&self) -> Result<Option<Book>> {
        storage::book(&object_sql::rows(&self.sql()?, storage::READ_BOOK, Vec::new())?).map_err(corrupt)
    }

    fn save(&self, b: &Book) -> Result<()> {
        object_sql::exec(&self.sql()?, [storage::save(b).map_err(corrupt)?])
    }

    fn recorded(&self, key: &str) -> Result<Option<Recorded<OrderResult>>> {
        let rows = object_sql::rows(&self.sql()?, storage::READ_RECORDED, vec![key.into()])?;
        storage::recorded(&rows).map_err(corrupt)
    }

    /// Sends a plan to its ledgers in parallel.
    async fn send(&self, plan: &Plan) -> Sent {
        let asks = plan
            .iter()
            .map(|(sku, commands)| sku_client::ask(&self.env, sku, SkuAction::Apply { commands: commands.clone() }));
        let mut parts = Vec::with_capacity(plan.len());
        for ((sku, _), reply) in plan.iter().zip(join_all(asks).await) {
            match reply {
                Ok(Ok(SkuAnswer::Applied(a))) => parts.push(Ok(a)),
                Ok(Err(SkuRefusal::Ledger { error, .. })) => parts.push(Err(error)),
                Ok(other) => return Sent::Pending(format!("ledger {sku} answered {other:?}")),
                Err(e) => return Sent::Pending(e.to_string()),
            }
        }
        Sent::Confirmed(parts)
    }

    /// Records `plan` as pending, sends it, and clears it once every ledger answered.
    async fn run(&self, book: &mut Book, plan: Plan) -> Result<Sent> {
        book.pending = Some(plan.clone());
        self.save(book)?;
        let at = now().0 + RESUME_DELAY_MS;
        self.state.storage().set_alarm(ScheduledTime::new(js_sys::Date::new(&(at as f64).into()))).await?;
        let sent = self.send(&plan).await;
        if let Sent::Confirmed(parts) = &sent {
            // A part a ledger refused (a fulfilment racing another order's) is taken back.
            let refused: Vec<Sku> =
                plan.iter().zip(parts).filter(|(_, p)| p.is_err()).map(|((sku, _), _)| sku.clone()).collect();
            book.confirmed(&plan, &refused);
            self.save(book)?;
            self.state.storage().delete_alarm().await?;
        }
        Ok(sent)
    }

    async fn call(&self, call: OrderCall) -> Result<OrderReply> {
        let _guard = self.lock.lock().await;
        let t = now();
        if let Some((key, fp)) = &call.idempotency {
            match judge(self.recorded(key)?.as_ref(), fp) {
                Verdict::Replay(first) => return Ok(Keyed::Replayed(first.clone())),
                Verdict::Reused => return Ok(Keyed::KeyReused),
                Verdict::Fresh | Verdict::Resume { .. } => {}
            }
        }
        let mut book = self.load()?.unwrap_or_else(|| Book::new(call.order.clone()));
        if let Some(plan) = book.pending.clone() {
            if let Sent::Pending(why) = self.run(&mut book, plan).await? {
                return Ok(Keyed::Answered(Err(OrderRefusal::Unavailable(why))));
            }
        }
        let result = self.apply(&mut book, &call.order, call.action).await?;
        if let (Some((key, fp)), false) = (call.idempotency, matches!(result, Err(OrderRefusal::Unavailable(_)))) {
            let rec = Recorded { fingerprint: fp, at: t, reply: Some(result.clone()) };
            object_sql::exec(&self.sql()?, [storage::record(&key, t, &rec).map_err(corrupt)?])?;
        }
        Ok(Keyed::Answered(result))
    }

    async fn apply(&self, book: &mut Book, order: &OrderKey, action: OrderAction) -> Result<OrderResult> {
        let plan = match action {
            OrderAction::Attach { lines } => {
                // Lines attached to an order cancelled first are cancelled in their ledgers.
                let plan = book.attach(lines);
                if plan.is_empty() {
                    self.save(book)?;
                    return Ok(Ok(OrderState::of(order, book.cancelled, Vec::new())));
                }
                plan
            }
            OrderAction::Sell { lines } if book.cancelled => {
                // Cancelled before the sale arrived: nothing is committed; report the SKUs as they are.
                let reads = lines.iter().map(|l| sku_client::ask(&self.env, &l.sku, SkuAction::Availability));
                let mut skus = Vec::with_capacity(lines.len());
                for (l, reply) in lines.iter().zip(join_all(reads).await) {
                    match reply {
                        Ok(Ok(SkuAnswer::Availability(item))) => skus.push(SkuLine::after_cancel(&l.sku, &item)),
                        Ok(other) => {
                            return Ok(Err(OrderRefusal::Unavailable(format!("ledger {} answered {other:?}", l.sku))))
                        }
                        Err(e) => return Ok(Err(OrderRefusal::Unavailable(e.to_string()))),
                    }
                }
                return Ok(Ok(OrderState::of(order, true, skus)));
            }
            OrderAction::Sell { lines } => book.sell(&lines),
            OrderAction::Cancel { reason } => book.cancel(reason),
            OrderAction::Fulfil { lines } => match book.fulfil(&lines) {
                Ok(plan) => {
                    if let Some(refusal) = self.not_on_hand(&plan).await {
                        return Ok(Err(refusal));
                    }
                    plan
                }
                Err(e) => return Ok(Err(OrderRefusal::Book(e))),
            },
        };
        let parts = match self.run(book, plan.clone()).await? {
            Sent::Confirmed(parts) => parts,
            Sent::Pending(why) => return Ok(Err(OrderRefusal::Unavailable(why))),
        };
        if let Some((sku, error)) =
            plan.iter().zip(&parts).find_map(|((sku, _), p)| p.as_ref().err().map(|e| (sku.clone(), e.clone())))
        {
            // A ledger refused its part (a fulfilment racing another order's): `run` took that
            // part back in the book; say which SKUs did apply.
            let applied_skus =
                plan.iter().zip(&parts).filter(|(_, p)| p.is_ok()).map(|((sku, _), _)| sku.clone()).collect();
            return Ok(Err(OrderRefusal::Ledger { sku, error, applied_skus }));
        }
        let skus =
            plan.iter().zip(&parts).filter_map(|((sku, _), p)| p.as_ref().ok().map(|a| SkuLine::applied(sku, a)));
        Ok(Ok(OrderState::of(order, book.cancelled, skus.collect())))
    }

    /// Reads the ledgers a fulfilment plan touches and refuses it (`not-on-hand`) if one of them
    /// has fewer units on hand than the plan ships, so that the usual refusal ships nothing.
    async fn not_on_hand(&self, plan: &Plan) -> Option<OrderRefusal> {
        let reads = plan.iter().map(|(sku, _)| sku_client::ask(&self.env, sku, SkuAction::Get));
        let mut on_hand: BTreeMap<(Sku, Location), i64> = BTreeMap::new();
        for ((sku, _), reply) in plan.iter().zip(join_all(reads).await) {
            match reply {
                Ok(Ok(SkuAnswer::State(v))) => {
                    for l in v.locations {
                        if let Ok(loc) = Location::parse(&l.location) {
                            on_hand.insert((sku.clone(), loc), l.on_hand);
                        }
                    }
                }
                Ok(_) => {}
                Err(e) => return Some(OrderRefusal::Unavailable(e.to_string())),
            }
        }
        let have = |sku: &Sku, loc: &Location| on_hand.get(&(sku.clone(), loc.clone())).copied().unwrap_or(0);
        check_on_hand(plan, have).err().map(OrderRefusal::Book)
    }
}

impl DurableObject for OrderDesk {
    fn new(state: State, env: Env) -> Self {
        OrderDesk { state, env, lock: Mutex::new(()), schema_ready: std::cell::Cell::new(false) }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        rpc::serve(req, CLASS, |call: OrderCall| self.call(call)).await
    }

    async fn alarm(&self) -> Result<Response> {
        let _guard = self.lock.lock().await;
        if let Some(mut book) = self.load()? {
            if let Some(plan) = book.pending.clone() {
                if let Sent::Pending(why) = self.run(&mut book, plan).await? {
                    // Leave the alarm armed by `run`: it fires again.
                    console_warn!("order {} still pending: {why}", book_name(&book.order));
                }
            }
        }
        Response::ok("ok")
    }
}
