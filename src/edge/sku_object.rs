//! `SkuLedger`: one Durable Object per SKU (`id_from_name(sku)`), SQLite-backed.
//!
//! It loads the ledger once, answers each call synchronously from memory, and writes what the
//! core reports as changed in the same turn — no `await` between reading state and writing the
//! decision, so the object's input gate serialises every check-and-change. Hold expiry runs from
//! the object's alarm, set to the earliest hold deadline.

use std::cell::RefCell;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use worker::*;

use crate::allot::{lender, AllotHome, HotPolicy, LenderCall};
use crate::api::allot_call::{AllotAction, AllotAnswer, AllotCall, AllotReply};
use crate::api::idempotency::{judge, Keyed, Recorded, Verdict};
use crate::api::sku_call::{
    apply, availability, journal_page, state, SkuAction, SkuAnswer, SkuCall, SkuReplyKeyed, SkuResult,
};
use crate::stock::limits::IDEMPOTENCY_RETENTION_MS;
use crate::stock::storage::{self, BodyRow, SqlValue};
use crate::stock::{oversold_alert, Changes, Entry, Ledger, Sku, Totals};
use crate::sync::StockChanged;

use super::allotment_object::BINDING as ALLOT_BINDING;
use super::clock::now;
use super::limits::{CLEANUP_EVERY_MS, OUTBOX_RETRY_MS, QUEUE_SEND_BATCH as OUTBOX_BATCH};
use super::rpc::{self, corrupt};

/// This class's name in typed call errors.
const CLASS: &str = "SkuLedger";

/// The queue every committed change is announced on and the sync consumer reads (wrangler.toml).
pub(super) const QUEUE: &str = "STOCK_CHANGES";

#[derive(Deserialize)]
struct OutboxRow {
    version: i64,
    body: String,
}

#[durable_object]
pub struct SkuLedger {
    state: State,
    env: Env,
    /// This object's SKU, learned from the first call and kept in `meta`.
    sku: RefCell<Option<Sku>>,
    ledger: RefCell<Option<Ledger>>,
    /// The alarm time last set, to avoid re-setting it on every call.
    alarm_at: RefCell<Option<i64>>,
    /// The hot policy once read (`Some(None)`: read, not hot).
    hot: RefCell<Option<Option<HotPolicy>>>,
}

fn decode<T: DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(corrupt)
}

fn encode<T: Serialize>(v: &T) -> Result<String> {
    Ok(serde_json::to_string(v)?)
}

impl SkuLedger {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn load(&self) -> Result<Ledger> {
        let sql = self.sql();
        for stmt in storage::SCHEMA.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            sql.exec(stmt, None)?;
        }
        let meta = sql.exec(storage::READ_META, None)?.to_array::<BodyRow>()?;
        let levels = sql.exec(storage::READ_LEVELS, None)?.to_array()?;
        let holds = sql.exec(storage::READ_HOLDS, None)?.to_array()?;
        let orders = sql.exec(storage::READ_ORDERS, None)?.to_array()?;
        Ok(Ledger::restore(storage::snapshot(meta.first(), &levels, &holds, &orders).map_err(corrupt)?))
    }

    /// Writes what changed (`storage::plan`). Called with no `await` after the decision, so the
    /// writes commit atomically with it (the object's implicit transaction). `before` is the
    /// SKU's totals before the call: when `oversold` grew, the outbox event carries the alert.
    fn persist(&self, ledger: &Ledger, before: &Totals, changes: Changes) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        // The transactional outbox: the event that announces this change is written with it,
        // and with it the oversold alert the change raised, if any.
        let event = match (changes.entries.last(), self.sku.borrow().as_ref()) {
            (Some(last), Some(sku)) => {
                let after = ledger.totals();
                let alert = oversold_alert(before, &after, &changes.entries);
                let e = StockChanged::from_totals(sku.clone(), ledger.version(), &after, last.op, last.at, alert);
                Some(encode(&e)?)
            }
            _ => None,
        };
        let sql = self.sql();
        for s in storage::plan(ledger, &changes, event).map_err(corrupt)? {
            let args = s.args.into_iter().map(|v| match v {
                SqlValue::Int(n) => SqlStorageValue::from(n),
                SqlValue::Text(t) => SqlStorageValue::from(t),
            });
            sql.exec(s.sql, args.collect::<Vec<_>>())?;
        }
        Ok(())
    }

    /// Runs `f` on the loaded ledger and persists its changes, all synchronously.
    fn with_ledger<T>(&self, f: impl FnOnce(&mut Ledger) -> T) -> Result<T> {
        let mut slot = self.ledger.borrow_mut();
        if slot.is_none() {
            *slot = Some(self.load()?);
        }
        let ledger = slot.get_or_insert_with(Ledger::new);
        let before = ledger.totals();
        let out = f(ledger);
        let changes = ledger.take_changes();
        if let Err(e) = self.persist(ledger, &before, changes) {
            // Memory may now be ahead of storage: drop it and reload on the next call.
            *slot = None;
            return Err(e);
        }
        Ok(out)
    }

    fn recorded(&self, key: &str) -> Result<Option<Recorded<SkuResult>>> {
        let rows =
            self.sql().exec("SELECT body FROM idempotency WHERE key = ?", vec![key.into()])?.to_array::<BodyRow>()?;
        rows.first().map(|r| decode(&r.body)).transpose()
    }

    /// Answers one call. A keyed call is judged against the key's record first: a replay gives
    /// the recorded reply again, a reused key is refused, and a fresh reply is recorded in the
    /// same synchronous turn as the change it answers.
    fn call(&self, call: SkuCall) -> Result<SkuReplyKeyed> {
        let t = now();
        let SkuCall { sku, action, idempotency } = call;
        self.learn_sku(&sku)?;
        if let Some((key, fingerprint)) = &idempotency {
            self.with_ledger(|_| ())?; // ensure the schema exists
            match judge(self.recorded(key)?.as_ref(), fingerprint) {
                Verdict::Replay(reply) => return Ok(Keyed::Replayed(reply.clone())),
                Verdict::Reused => return Ok(Keyed::KeyReused),
                Verdict::Fresh | Verdict::Resume { .. } => {}
            }
        }
        let reply = match action {
            SkuAction::Get => self.with_ledger(|l| state(l, &sku, t))?,
            SkuAction::Availability => self.with_ledger(|l| availability(l, &sku, t))?,
            SkuAction::Apply { commands } => self.with_ledger(|l| apply(l, &sku, commands, t))?,
            SkuAction::Journal { after, limit } => self.journal(&sku, after, limit)?,
            SkuAction::Lender { call } => self.lender(call, t)?,
        };
        if let Some((key, fingerprint)) = idempotency {
            // Refusals are recorded too, so a retry sees the same answer (docs/api.md).
            let rec = Recorded { fingerprint, at: t, reply: Some(reply.clone()) };
            self.sql().exec(
                "INSERT OR REPLACE INTO idempotency (key, at, body) VALUES (?, ?, ?)",
                vec![key.into(), t.0.into(), encode(&rec)?.into()],
            )?;
        }
        Ok(Keyed::Answered(reply))
    }

    fn journal(&self, sku: &Sku, after: u64, limit: usize) -> Result<SkuResult> {
        self.with_ledger(|_| ())?;
        let rows = self
            .sql()
            .exec(
                "SELECT body FROM journal WHERE seq > ? ORDER BY seq LIMIT ?",
                vec![(after as i64).into(), (limit as i64 + 1).into()],
            )?
            .to_array::<BodyRow>()?;
        let entries = rows.iter().map(|r| decode::<Entry>(&r.body)).collect::<Result<Vec<_>>>()?;
        Ok(journal_page(sku, &entries, limit))
    }

    /// Remembers this object's SKU (in memory and in `meta`), for outbox events and alarms.
    fn learn_sku(&self, sku: &Sku) -> Result<()> {
        if self.sku.borrow().is_some() {
            return Ok(());
        }
        self.with_ledger(|_| ())?; // the schema
        self.sql().exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('sku', ?)", vec![sku.as_str().into()])?;
        *self.sku.borrow_mut() = Some(sku.clone());
        Ok(())
    }

    /// The SKU recorded in `meta`, after a restart.
    fn recall_sku(&self) -> Result<()> {
        if self.sku.borrow().is_some() {
            return Ok(());
        }
        self.with_ledger(|_| ())?;
        let rows = self.sql().exec("SELECT v AS body FROM meta WHERE k = 'sku'", None)?.to_array::<BodyRow>()?;
        *self.sku.borrow_mut() = rows.first().and_then(|r| Sku::parse(&r.body).ok());
        Ok(())
    }

    /// Sends unsent outbox events to the queue, oldest first, and forgets the sent ones.
    /// Consumers are idempotent on (sku, version), so a repeat after a lost acknowledgement is
    /// harmless. Returns whether events are still waiting.
    async fn flush(&self) -> Result<bool> {
        let rows = self
            .sql()
            .exec("SELECT version, body FROM outbox ORDER BY version LIMIT ?", vec![(OUTBOX_BATCH as i64).into()])?
            .to_array::<OutboxRow>()?;
        let Some(last) = rows.last().map(|r| r.version) else { return Ok(false) };
        let events: Vec<StockChanged> = rows.iter().filter_map(|r| serde_json::from_str(&r.body).ok()).collect();
        self.env.queue(QUEUE)?.send_batch(events).await?;
        self.sql().exec("DELETE FROM outbox WHERE version <= ?", vec![last.into()])?;
        Ok(rows.len() == OUTBOX_BATCH)
    }

    /// Flushes the outbox; on failure, leaves it for the alarm.
    async fn flush_or_retry(&self) -> Result<()> {
        match self.flush().await {
            Ok(false) => Ok(()),
            Ok(true) | Err(_) => {
                let at = now().0 + OUTBOX_RETRY_MS;
                if matches!(*self.alarm_at.borrow(), Some(c) if c <= at) {
                    return Ok(());
                }
                self.state.storage().set_alarm(ScheduledTime::new(js_sys::Date::new(&(at as f64).into()))).await?;
                *self.alarm_at.borrow_mut() = Some(at);
                Ok(())
            }
        }
    }

    /// Points the alarm at the earliest hold deadline, or a day ahead for the clean-up of
    /// idempotency records and old holds.
    async fn schedule(&self) -> Result<()> {
        let next = self.ledger.borrow().as_ref().and_then(|l| l.next_deadline()).map(|m| m.0);
        let want = next.unwrap_or(now().0 + CLEANUP_EVERY_MS);
        if matches!(*self.alarm_at.borrow(), Some(c) if c <= want) {
            return Ok(());
        }
        self.state.storage().set_alarm(ScheduledTime::new(js_sys::Date::new(&(want as f64).into()))).await?;
        *self.alarm_at.borrow_mut() = Some(want);
        Ok(())
    }
}

// --- flash-sale allotments (`allot`): the hot policy, lending, and recalls before a sale -----
impl SkuLedger {
    /// The SKU's hot policy, kept in `meta` under `hot` (absent: not hot).
    fn hot_policy(&self) -> Result<Option<HotPolicy>> {
        if let Some(p) = *self.hot.borrow() {
            return Ok(p);
        }
        self.with_ledger(|_| ())?; // the schema
        let rows = self.sql().exec("SELECT v AS body FROM meta WHERE k = 'hot'", None)?.to_array::<BodyRow>()?;
        let p = rows.first().map(|r| decode::<HotPolicy>(&r.body)).transpose()?;
        *self.hot.borrow_mut() = Some(p);
        Ok(p)
    }

    /// Answers a lender call; a new policy is stored in the same turn as its answer.
    fn lender(&self, call: LenderCall, t: crate::time::Millis) -> Result<SkuResult> {
        let mut policy = self.hot_policy()?;
        if let LenderCall::SetPolicy { policy: new } = &call {
            match new {
                Some(p) => {
                    self.sql().exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('hot', ?)", vec![encode(p)?.into()])?
                }
                None => self.sql().exec("DELETE FROM meta WHERE k = 'hot'", None)?,
            };
            *self.hot.borrow_mut() = Some(*new);
            policy = *new;
        }
        let reply = self.with_ledger(|l| lender::serve(l, policy.as_ref(), call, t))?;
        Ok(Ok(SkuAnswer::Lender(reply)))
    }

    /// Before a sale: asks blocks back, one at a time, until the sale is covered by free units
    /// (`lender::recalls`). Each answer is applied in its own turn. An allotment that cannot be
    /// reached gives nothing; the sale is then recorded, oversold if it must be.
    async fn recall_blocks(&self, sku: &Sku, commands: &[crate::stock::Command]) -> Result<()> {
        let mut asked = std::collections::BTreeSet::new();
        loop {
            let next =
                self.with_ledger(|l| lender::recalls(l, commands))?.into_iter().find(|r| !asked.contains(&r.lend));
            let Some(r) = next else { return Ok(()) };
            asked.insert(r.lend.clone());
            let home = AllotHome::of(sku, r.allotment);
            let call = AllotCall {
                id: r.lend.clone(),
                action: AllotAction::Recall { lend: r.lend, want: r.want },
                idempotency: None,
            };
            let reply: std::result::Result<AllotReply, _> =
                rpc::call(&self.env, ALLOT_BINDING, &home.object, &call).await;
            if let Ok(Keyed::Answered(AllotAnswer::Report(report))) = reply {
                let policy = self.hot_policy()?;
                let t = now();
                self.with_ledger(|l| {
                    lender::serve(l, policy.as_ref(), LenderCall::Report { reports: vec![report] }, t)
                })?;
            }
        }
    }
}
// --- end of flash-sale allotments ------------------------------------------------------------

impl DurableObject for SkuLedger {
    fn new(state: State, env: Env) -> Self {
        SkuLedger {
            state,
            env,
            sku: RefCell::new(None),
            ledger: RefCell::new(None),
            alarm_at: RefCell::new(None),
            hot: RefCell::new(None),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        rpc::serve(req, CLASS, |call: SkuCall| async move {
            if let SkuAction::Apply { commands } = &call.action {
                self.learn_sku(&call.sku)?;
                self.recall_blocks(&call.sku, commands).await?;
            }
            let reply = self.call(call)?;
            self.schedule().await?;
            self.flush_or_retry().await?;
            Ok(reply)
        })
        .await
    }

    async fn alarm(&self) -> Result<Response> {
        *self.alarm_at.borrow_mut() = None;
        self.recall_sku()?;
        let t = now();
        self.with_ledger(|l| {
            l.expire_due(t);
            l.prune(t);
        })?;
        self.sql().exec("DELETE FROM idempotency WHERE at < ?", vec![(t.0 - IDEMPOTENCY_RETENTION_MS).into()])?;
        self.schedule().await?;
        self.flush_or_retry().await?;
        Response::ok("ok")
    }
}
