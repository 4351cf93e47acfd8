//! `OrderDesk`: one Durable Object per order (channel, order id). It keeps the order's book,
//! writes the SKU commands a request turns into before sending any, and re-sends them from its
//! alarm until every ledger confirmed (each command is idempotent).

use futures::future::join_all;
use futures::lock::Mutex;
use serde::Deserialize;
use worker::*;

use crate::api::idempotency::{judge, Recorded, Verdict};
use crate::api::order_call::{book_problem, order_answer, sku_result, OrderAction, OrderCall};
use crate::api::sku_call::{Answer, SkuAction, SkuCall};
use crate::api::{Kind, Problem};
use crate::cart::coordinator::RESUME_DELAY_MS;
use crate::orders::{Book, Plan};
use crate::stock::{Command, OrderKey};

use super::clock::now;
use super::{http, sku_client};

#[derive(Deserialize)]
struct BodyRow {
    body: String,
}

#[durable_object]
pub struct OrderDesk {
    state: State,
    env: Env,
    lock: Mutex<()>,
    /// Whether this instance already made sure its tables exist (once, not on every call).
    schema_ready: std::cell::Cell<bool>,
}

fn err(e: impl std::fmt::Display) -> Error {
    Error::RustError(e.to_string())
}

impl OrderDesk {
    fn sql(&self) -> Result<SqlStorage> {
        let sql = self.state.storage().sql();
        if !self.schema_ready.get() {
            sql.exec("CREATE TABLE IF NOT EXISTS book (k TEXT PRIMARY KEY, body TEXT NOT NULL)", None)?;
            sql.exec("CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, at INTEGER NOT NULL, body TEXT NOT NULL)", None)?;
            self.schema_ready.set(true);
        }
        Ok(sql)
    }

    fn load(&self) -> Result<Option<Book>> {
        let rows = self.sql()?.exec("SELECT body FROM book WHERE k = 'book'", None)?.to_array::<BodyRow>()?;
        rows.first().map(|r| serde_json::from_str(&r.body).map_err(err)).transpose()
    }

    fn save(&self, b: &Book) -> Result<()> {
        let body = serde_json::to_string(b).map_err(err)?;
        self.sql()?.exec("INSERT OR REPLACE INTO book (k, body) VALUES ('book', ?)", vec![body.into()])?;
        Ok(())
    }

    /// Sends a plan to its ledgers in parallel. `Ok` with every ledger's answer, or `Err` with
    /// the first that could not be reached (the plan stays pending for the alarm).
    async fn send(&self, plan: &Plan) -> Result<std::result::Result<Vec<Answer>, String>> {
        let calls: Vec<SkuCall> = plan
            .iter()
            .map(|(sku, commands)| SkuCall {
                sku: sku.clone(),
                action: SkuAction::Apply { commands: commands.clone() },
                idempotency: None,
            })
            .collect();
        let mut answers = Vec::with_capacity(calls.len());
        for a in join_all(calls.iter().map(|c| sku_client::call(&self.env, c))).await {
            match a {
                Ok(a) if a.status < 500 => answers.push(a),
                Ok(a) => return Ok(Err(format!("ledger answered {}", a.status))),
                Err(e) => return Ok(Err(e.to_string())),
            }
        }
        Ok(Ok(answers))
    }

    /// Records `plan` as pending, sends it, and clears it once every ledger answered.
    async fn run(&self, book: &mut Book, plan: Plan) -> Result<std::result::Result<Vec<Answer>, String>> {
        book.pending = Some(plan.clone());
        self.save(book)?;
        let at = now().0 + RESUME_DELAY_MS;
        self.state.storage().set_alarm(ScheduledTime::new(js_sys::Date::new(&(at as f64).into()))).await?;
        let sent = self.send(&plan).await?;
        if sent.is_ok() {
            book.pending = None;
            self.save(book)?;
            self.state.storage().delete_alarm().await?;
        }
        Ok(sent)
    }

    async fn call(&self, call: OrderCall) -> Result<Answer> {
        let _guard = self.lock.lock().await;
        let t = now();
        let sql = self.sql()?;
        if let Some((key, fp)) = &call.idempotency {
            let rows = sql
                .exec("SELECT body FROM idempotency WHERE key = ?", vec![key.as_str().into()])?
                .to_array::<BodyRow>()?;
            let existing: Option<Recorded> =
                rows.first().map(|r| serde_json::from_str(&r.body).map_err(err)).transpose()?;
            match judge(existing.as_ref(), fp) {
                Verdict::Replay(r) => {
                    return Ok(Answer { status: r.status, body: serde_json::from_str(&r.body).map_err(err)? })
                }
                Verdict::Reused => {
                    return Ok(Answer::problem(&Problem::new(
                        Kind::IdempotencyKeyReused,
                        "this Idempotency-Key was used with a different request",
                    )))
                }
                Verdict::Fresh => {}
            }
        }
        let mut book = self.load()?.unwrap_or_else(|| Book::new(call.order.clone()));
        if let Some(plan) = book.pending.clone() {
            if let Err(why) = self.run(&mut book, plan).await? {
                return Ok(unavailable(&why));
            }
        }
        let answer = self.apply(&mut book, &call.order, call.action).await?;
        if let (Some((key, fp)), false) = (&call.idempotency, answer.status >= 500) {
            let rec = Recorded { fingerprint: fp.clone(), status: answer.status, body: answer.body.to_string(), at: t };
            sql.exec(
                "INSERT OR REPLACE INTO idempotency (key, at, body) VALUES (?, ?, ?)",
                vec![key.as_str().into(), t.0.into(), serde_json::to_string(&rec).map_err(err)?.into()],
            )?;
        }
        Ok(answer)
    }

    async fn apply(&self, book: &mut Book, order: &OrderKey, action: OrderAction) -> Result<Answer> {
        let plan = match action {
            OrderAction::Attach { lines } => {
                book.attach(lines);
                self.save(book)?;
                return Ok(order_answer(order, book.cancelled, Vec::new()));
            }
            OrderAction::Sell { lines } if book.cancelled => {
                // Cancelled before the sale arrived: nothing is committed; report the SKUs as they are.
                let calls: Vec<SkuCall> = lines
                    .iter()
                    .map(|l| SkuCall { sku: l.sku.clone(), action: SkuAction::Availability, idempotency: None })
                    .collect();
                let mut skus = Vec::new();
                for (c, a) in calls.iter().zip(join_all(calls.iter().map(|c| sku_client::call(&self.env, c))).await) {
                    skus.push(sku_result(&c.sku, &a?, Some("order_already_cancelled")));
                }
                return Ok(order_answer(order, true, skus));
            }
            OrderAction::Sell { lines } => book.sell(&lines),
            OrderAction::Cancel { reason } => book.cancel(reason),
            OrderAction::Fulfil { lines } => match book.fulfil(&lines) {
                Ok(plan) => {
                    if let Some(short) = self.not_on_hand(&plan).await? {
                        return Ok(short);
                    }
                    plan
                }
                Err(e) => return Ok(Answer::problem(&book_problem(&e))),
            },
        };
        let answers = match self.run(book, plan.clone()).await? {
            Ok(a) => a,
            Err(why) => return Ok(unavailable(&why)),
        };
        if let Some(refused) = answers.iter().find(|a| a.is_problem()).cloned() {
            // A ledger refused its part (a fulfilment racing another order's): take that part
            // back in the book and say which SKUs did apply.
            let mut applied = Vec::new();
            for ((sku, commands), a) in plan.iter().zip(&answers) {
                if a.is_problem() {
                    book.unship(sku, commands);
                } else {
                    applied.push(sku.to_string());
                }
            }
            self.save(book)?;
            let mut body = refused.body;
            if let Some(m) = body.as_object_mut() {
                m.insert("applied_skus".into(), applied.into());
            }
            return Ok(Answer { status: refused.status, body });
        }
        let skus = plan.iter().zip(&answers).map(|((sku, _), a)| sku_result(sku, a, None)).collect();
        Ok(order_answer(order, book.cancelled, skus))
    }
}

impl OrderDesk {
    /// Reads the ledgers a fulfilment plan touches and answers `not-on-hand` if one of them has
    /// fewer units on hand than the plan ships, so that the usual refusal ships nothing at all.
    async fn not_on_hand(&self, plan: &Plan) -> Result<Option<Answer>> {
        let calls: Vec<SkuCall> = plan
            .iter()
            .map(|(sku, _)| SkuCall { sku: sku.clone(), action: SkuAction::Get, idempotency: None })
            .collect();
        let answers = join_all(calls.iter().map(|c| sku_client::call(&self.env, c))).await;
        for ((sku, commands), a) in plan.iter().zip(answers) {
            let a = a?;
            for c in commands {
                let Command::Fulfil { location, qty, .. } = c else { continue };
                let on_hand = a.body["locations"]
                    .as_array()
                    .and_then(|ls| ls.iter().find(|l| l["location"] == location.as_str()))
                    .and_then(|l| l["on_hand"].as_i64())
                    .unwrap_or(0);
                if on_hand < *qty {
                    let p = Problem::new(
                        Kind::NotOnHand,
                        format!("{sku}: {qty} to ship from {location}, {on_hand} on hand"),
                    );
                    return Ok(Some(Answer::problem(&p)));
                }
            }
        }
        Ok(None)
    }
}

fn unavailable(why: &str) -> Answer {
    Answer::problem(&Problem::new(
        Kind::Unavailable,
        format!("a SKU ledger could not be reached ({why}); the order will be completed — retry to see the result"),
    ))
}

impl DurableObject for OrderDesk {
    fn new(state: State, env: Env) -> Self {
        OrderDesk { state, env, lock: Mutex::new(()), schema_ready: std::cell::Cell::new(false) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let call: OrderCall = match super::rpc::read(&mut req).await {
            Ok(c) => c,
            Err(answer) => return answer,
        };
        let a = self.call(call).await?;
        http::answer(&a)
    }

    async fn alarm(&self) -> Result<Response> {
        let _guard = self.lock.lock().await;
        if let Some(mut book) = self.load()? {
            if let Some(plan) = book.pending.clone() {
                if let Err(why) = self.run(&mut book, plan).await? {
                    // Leave the alarm armed by `run`: it fires again.
                    console_warn!("order {} still pending: {why}", crate::api::order_call::book_name(&book.order));
                }
            }
        }
        Response::ok("ok")
    }
}
