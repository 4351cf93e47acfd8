//! `SkuLedger`: one Durable Object per SKU (`id_from_name(sku)`), SQLite-backed.
//!
//! It loads the ledger once, answers each call synchronously from memory, and writes what the
//! core reports as changed in the same turn — no `await` between reading state and writing the
//! decision, so the object's input gate serialises every check-and-change. Hold expiry runs from
//! the object's alarm, set to the earliest hold deadline.
//!
//! It also keeps the single-SKU reservations of its SKU (`cart::single`): the step, the ledger's
//! changes, the record and — for a commit — the order desk registration are written in one
//! synchronous turn; the registration is then carried out before the commit is answered, and
//! again from the alarm until the desk confirms it (so a crash between the commit and the
//! registration only delays it). And it keeps whether its SKU is a bundle (`meta.bundle`, told
//! by the catalogue), refusing a hold or an availability read of a bundle with its components.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use worker::*;

use crate::allot::hotness::{Changed, HoldMeter};
use crate::allot::{lender, AllotHome, AutoRule, Hotness, LenderCall};
use crate::api::allot_call::{AllotAction, AllotAnswer, AllotCall, AllotReply};
use crate::api::cart_call::CartAction;
use crate::api::idempotency::{judge, Keyed, Recorded, Verdict};
use crate::api::order_call::OrderCall;
use crate::api::sku_call::{
    self, apply, availability, journal_page, state, SkuAction, SkuAnswer, SkuCall, SkuRefusal, SkuReplyKeyed, SkuResult,
};
use crate::cart::registration::Delivery;
use crate::cart::{single, Reservation};
use crate::catalog::Component;
use crate::stock::alarm::{moves_earlier, Known};
use crate::stock::limits::HOLD_RETENTION_MS;
use crate::stock::outbox::{resend_at, OutboxPump, Settled};
use crate::stock::storage::{self, BodyRow, KeyedRow, SqlValue, Statement};
use crate::stock::{oversold_alert, Changes, Entry, Ledger, Sku, Token, Totals};
use crate::sync::StockChanged;
use crate::time::Millis;

use super::allotment_object::BINDING as ALLOT_BINDING;
use super::clock::now;
use super::limits::{
    CLEANUP_EVERY_MS, OUTBOX_RETRY_MS, QUEUE_SEND_BATCH as OUTBOX_BATCH, REGISTRATION_BATCH, REGISTRATION_RETRY_MS,
};
use super::metrics;
use super::order_client;
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
    /// The alarm time last set, to avoid re-setting it on every call (shared with outbox sends);
    /// read back from storage once per isolate (`stock::alarm`).
    alarm_at: Rc<RefCell<Known>>,
    /// Which outbox send is in flight (one at a time).
    outbox: Rc<RefCell<OutboxPump>>,
    /// The SKU's bundle components (`None`: not a bundle), loaded with the ledger.
    bundle: RefCell<Option<Vec<Component>>>,
    /// Whether the last call wrote an order desk registration to carry out.
    registering: Cell<bool>,
    /// The SKU's hotness once read (`allot::hotness`).
    hotness: RefCell<Option<Hotness>>,
    /// Single-SKU holds counted for automatic hotness (memory only).
    meter: RefCell<HoldMeter>,
    /// When automatic hotness turns on (the deployment's `HOT_AUTO_HOLDS_PER_SECOND`).
    auto_rule: AutoRule,
}

/// The deployment setting of automatic hotness (wrangler.toml `[vars]`, docs/api.md).
const AUTO_SETTING: &str = "HOT_AUTO_HOLDS_PER_SECOND";

/// The deployment's automatic hotness rule; a setting it cannot read is logged and the default
/// is used, so a typo never leaves a flash sale without allotments.
fn auto_rule(env: &Env) -> AutoRule {
    let setting = env.var(AUTO_SETTING).ok().map(|v| v.to_string());
    AutoRule::from_setting(setting.as_deref()).unwrap_or_else(|e| {
        console_error!("{AUTO_SETTING} {e}; the default applies");
        AutoRule::default()
    })
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
        let bundle = sql.exec(storage::READ_BUNDLE, None)?.to_array::<BodyRow>()?;
        *self.bundle.borrow_mut() = bundle.first().map(|r| decode(&r.body)).transpose()?;
        let erp = sql.exec(storage::READ_ERP, None)?.to_array()?;
        let erp_documents = sql.exec(storage::READ_ERP_PENDING, None)?.to_array()?;
        let mut snapshot = storage::snapshot(meta.first(), &levels, &holds, &orders).map_err(corrupt)?;
        let erp = storage::erp_tracks(&erp, &erp_documents).map_err(corrupt)?;
        // Rows of the former layout (documents inside the watermark row) become one row each.
        for s in erp.migrate {
            self.exec(s)?;
        }
        snapshot.erp = erp.tracks;
        Ok(Ledger::restore(snapshot))
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
                let e = StockChanged::from_totals(sku.clone(), ledger.version(), &after, last.op, last.at, alert)
                    .with_journal(&changes.entries)
                    .with_erp_behind(changes.erp_behind.clone());
                Some(encode(&e)?)
            }
            _ => None,
        };
        for s in storage::plan(ledger, &changes, event).map_err(corrupt)? {
            self.exec(s)?;
        }
        Ok(())
    }

    /// Runs one statement of a storage plan.
    fn exec(&self, s: Statement) -> Result<()> {
        let args = s.args.into_iter().map(|v| match v {
            SqlValue::Int(n) => SqlStorageValue::from(n),
            SqlValue::Text(t) => SqlStorageValue::from(t),
        });
        self.sql().exec(s.sql, args.collect::<Vec<_>>())?;
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
            SkuAction::Availability => {
                self.with_ledger(|_| ())?; // the bundle definition is loaded with the ledger
                let bundle = self.bundle.borrow().clone();
                self.with_ledger(|l| availability(l, &sku, bundle.as_deref(), t))?
            }
            SkuAction::Apply { commands } => self.with_ledger(|l| apply(l, &sku, commands, t))?,
            SkuAction::Journal { after, limit } => self.journal(&sku, after, limit)?,
            SkuAction::JournalTail { limit } => self.journal_tail(&sku, limit)?,
            SkuAction::SetBundle { components } => self.set_bundle(components)?,
            SkuAction::Reservation { id, call } => match self.reservation(&sku, id, call, t)? {
                Keyed::Answered(reply) => reply,
                // A creation's replay or reused key (creations carry their key in their id).
                other => return Ok(other),
            },
            SkuAction::Lender { call } => self.lender(call, t)?,
            // The key has no answer kept (a kept one was replayed above): nothing to record.
            SkuAction::Recall => return Ok(Keyed::Answered(Ok(SkuAnswer::NotKept))),
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

    /// A step of the single-SKU reservation `id` (`cart::single`): decided on the ledger and the
    /// record, and written — ledger changes, record, order desk registration — in this turn.
    fn reservation(&self, sku: &Sku, id: Token, call: CartAction, t: Millis) -> Result<SkuReplyKeyed> {
        self.with_ledger(|_| ())?; // the schema and the bundle definition
        if matches!(call, CartAction::Create { .. }) {
            if let Some(components) = self.bundle.borrow().clone() {
                return Ok(Keyed::Answered(Err(SkuRefusal::Bundle { sku: sku.clone(), components })));
            }
        }
        let rows = self.sql().exec(storage::READ_RESERVATION, vec![id.as_str().into()])?.to_array::<BodyRow>()?;
        let existing: Option<Reservation> = rows.first().map(|r| decode(&r.body)).transpose()?;
        let key = id.clone();
        let creating = matches!(call, CartAction::Create { .. });
        let step = self.with_ledger(|l| match call {
            CartAction::Create { parts, ttl_seconds, channel, reference, fingerprint, keyed } => {
                let new = Reservation::creating(id, parts, ttl_seconds, channel, reference, fingerprint, t);
                single::create(l, sku, existing, new, keyed, t)
            }
            other => single::act(l, existing, id, other, t),
        })?;
        if let Some(r) = &step.save {
            self.exec(storage::reservation_write(&r.id, r.expires_at, encode(r)?))?;
        }
        if let Some(call) = &step.register {
            self.exec(storage::registration_write(&key, encode(call)?))?;
            self.registering.set(true);
        }
        if creating {
            self.count_hold(t)?;
        }
        Ok(sku_call::from_cart(step.reply))
    }

    /// Records whether this SKU is a bundle, and of what.
    fn set_bundle(&self, components: Option<Vec<Component>>) -> Result<SkuResult> {
        self.with_ledger(|_| ())?;
        let components = components.filter(|c| !c.is_empty());
        self.exec(storage::bundle_write(components.as_ref().map(encode).transpose()?))?;
        *self.bundle.borrow_mut() = components.clone();
        Ok(Ok(SkuAnswer::Bundle { components }))
    }

    /// Carries out the order desk registrations of committed reservations not yet confirmed;
    /// what could not reach its desk is tried again from the alarm. A desk's refusal is logged
    /// and dropped (retrying cannot change it).
    async fn register_pending(&self) -> Result<()> {
        let limit = vec![(REGISTRATION_BATCH as i64).into()];
        let rows = self.sql().exec(storage::READ_REGISTRATIONS, limit)?.to_array::<KeyedRow>()?;
        let mut unreached = false;
        for row in rows {
            let call: OrderCall = decode(&row.body)?;
            let who = format!("reservation {}", row.id);
            if order_client::register(&self.env, &who, &call).await == Delivery::Unreached {
                unreached = true;
                continue;
            }
            self.sql().exec(storage::DELETE_REGISTRATION, vec![row.id.into()])?;
        }
        if unreached {
            self.wake_by(now().0 + REGISTRATION_RETRY_MS).await?;
        }
        Ok(())
    }

    /// Makes sure the alarm fires no later than `at`.
    async fn wake_by(&self, at: i64) -> Result<()> {
        wake_by(&self.state.storage(), &self.alarm_at, at).await
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

    /// The newest `limit` entries, oldest first.
    fn journal_tail(&self, sku: &Sku, limit: usize) -> Result<SkuResult> {
        self.with_ledger(|_| ())?;
        let rows = self
            .sql()
            .exec("SELECT body FROM journal ORDER BY seq DESC LIMIT ?", vec![(limit as i64).into()])?
            .to_array::<BodyRow>()?;
        let mut entries = rows.iter().map(|r| decode::<Entry>(&r.body)).collect::<Result<Vec<_>>>()?;
        entries.reverse();
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

    /// What an outbox send needs, owned, so that it can go on after the call that started it
    /// has answered.
    fn outbox_sender(&self) -> OutboxSender {
        OutboxSender {
            sql: self.sql(),
            storage: self.state.storage(),
            env: self.env.clone(),
            pump: self.outbox.clone(),
            alarm_at: self.alarm_at.clone(),
        }
    }

    /// Starts sending the unsent outbox without waiting for the queue: the call's answer goes
    /// out as soon as its writes are stored. A send already in flight sends these rows after its
    /// own (`stock::outbox`), so this starts nothing then.
    fn flush_in_background(&self) {
        if self.outbox.borrow().busy(now()) {
            return;
        }
        let sender = self.outbox_sender();
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(e) = sender.flush_or_retry().await {
                console_error!("outbox: could not set the retry alarm ({e})");
            }
        });
    }

    /// Points the alarm at the earliest hold deadline, or a day ahead for the clean-up of
    /// idempotency records and old holds.
    async fn schedule(&self) -> Result<()> {
        let next = self.ledger.borrow().as_ref().and_then(|l| l.next_deadline()).map(|m| m.0);
        let want = next.unwrap_or(now().0 + CLEANUP_EVERY_MS);
        self.wake_by(want).await
    }
}

// --- flash-sale allotments (`allot`): the hot policy, lending, and recalls before a sale -----
impl SkuLedger {
    /// The SKU's hotness: the operator's policy in `meta` under `hot`, automatic hotness under
    /// `hot_auto` (absent: none).
    fn hotness(&self) -> Result<Hotness> {
        if let Some(h) = *self.hotness.borrow() {
            return Ok(h);
        }
        self.with_ledger(|_| ())?; // the schema
        let rows = self
            .sql()
            .exec("SELECT k AS id, v AS body FROM meta WHERE k IN ('hot', 'hot_auto')", None)?
            .to_array::<KeyedRow>()?;
        let row = |k: &str| rows.iter().find(|r| r.id == k).map(|r| r.body.as_str());
        let h = Hotness {
            operator: row("hot").map(decode).transpose()?,
            automatic: row("hot_auto").map(decode).transpose()?,
        };
        *self.hotness.borrow_mut() = Some(h);
        Ok(h)
    }

    /// Writes the rows of `h` that `changed` names, and keeps `h` as the SKU's hotness.
    fn store_hotness(&self, h: Hotness, changed: Changed) -> Result<()> {
        let write = |k: &str, body: Option<String>| -> Result<()> {
            match body {
                Some(b) => {
                    self.sql().exec("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)", vec![k.into(), b.into()])?
                }
                None => self.sql().exec("DELETE FROM meta WHERE k = ?", vec![k.into()])?,
            };
            Ok(())
        };
        if changed.operator {
            write("hot", h.operator.as_ref().map(encode).transpose()?)?;
        }
        if changed.automatic {
            write("hot_auto", h.automatic.as_ref().map(encode).transpose()?)?;
        }
        *self.hotness.borrow_mut() = Some(h);
        Ok(())
    }

    /// Counts a single-SKU hold this object took, for automatic hotness; stored in this turn.
    fn count_hold(&self, t: crate::time::Millis) -> Result<()> {
        let mut h = self.hotness()?;
        let changed = self.with_ledger(|l| h.held(&mut self.meter.borrow_mut(), &self.auto_rule, l, t))?;
        if changed.any() {
            self.store_hotness(h, changed)?;
        }
        Ok(())
    }

    /// Answers a lender call under the SKU's hotness; what it changed is stored in the same turn
    /// as its answer.
    fn lender(&self, call: LenderCall, t: crate::time::Millis) -> Result<SkuResult> {
        let mut h = self.hotness()?;
        let (reply, changed) = self.with_ledger(|l| h.serve(l, call, t))?;
        if changed.any() {
            self.store_hotness(h, changed)?;
        }
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
                // A report's answer is always `Reported`: nothing to look at.
                let _reported = self.lender(LenderCall::Report { reports: vec![report] }, now())?;
            }
        }
    }
}
// --- end of flash-sale allotments ------------------------------------------------------------

impl DurableObject for SkuLedger {
    fn new(state: State, env: Env) -> Self {
        let auto_rule = auto_rule(&env);
        SkuLedger {
            state,
            env,
            sku: RefCell::new(None),
            ledger: RefCell::new(None),
            alarm_at: Rc::new(RefCell::new(Known::Unknown)),
            outbox: Rc::new(RefCell::new(OutboxPump::new())),
            bundle: RefCell::new(None),
            registering: Cell::new(false),
            auto_rule,
            hotness: RefCell::new(None),
            meter: RefCell::new(HoldMeter::default()),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        rpc::serve(req, CLASS, |call: SkuCall| async move {
            if let SkuAction::Apply { commands } = &call.action {
                self.learn_sku(&call.sku)?;
                self.recall_blocks(&call.sku, commands).await?;
            }
            let reply = self.call(call)?;
            if self.registering.replace(false) {
                self.register_pending().await?;
            }
            self.schedule().await?;
            self.flush_in_background();
            Ok(reply)
        })
        .await
    }

    async fn alarm(&self) -> Result<Response> {
        *self.alarm_at.borrow_mut() = Known::Set(None);
        self.recall_sku()?;
        let t = now();
        self.with_ledger(|l| {
            l.expire_due(t);
            l.prune(t);
        })?;
        self.sql()
            .exec("DELETE FROM idempotency WHERE at < ?", vec![crate::api::idempotency::forget_before(t).0.into()])?;
        self.sql().exec(storage::PRUNE_RESERVATIONS, vec![(t.0 - HOLD_RETENTION_MS).into()])?;
        self.register_pending().await?;
        self.schedule().await?;
        self.outbox_sender().flush_or_retry().await?;
        Response::ok("ok")
    }
}

/// Sends one SKU object's outbox (see `stock::outbox` for who sends what).
struct OutboxSender {
    sql: SqlStorage,
    storage: Storage,
    env: Env,
    pump: Rc<RefCell<OutboxPump>>,
    alarm_at: Rc<RefCell<Known>>,
}

impl OutboxSender {
    /// Sends unsent outbox events to the queue, oldest first, a batch at a time, and forgets the
    /// sent ones — unless a send is already in flight, whose sender sends them after its own
    /// batch. Consumers are idempotent on (sku, version), so the rare repeat (a send that outlived
    /// its lease) is harmless. A failed send leaves its rows for the retry.
    async fn flush(&self) -> Result<()> {
        loop {
            if self.pump.borrow().busy(now()) {
                return Ok(());
            }
            let rows = self
                .sql
                .exec("SELECT version, body FROM outbox ORDER BY version LIMIT ?", vec![(OUTBOX_BATCH as i64).into()])?
                .to_array::<OutboxRow>()?;
            let versions: Vec<u64> = rows.iter().filter_map(|r| u64::try_from(r.version).ok()).collect();
            let Some(batch) = self.pump.borrow_mut().next(&versions, now()) else { return Ok(()) };
            let events: Vec<StockChanged> = rows.iter().filter_map(|r| serde_json::from_str(&r.body).ok()).collect();
            let count = events.len();
            // Should this isolate die awaiting the queue, the alarm sends the rows again.
            self.wake_by(resend_at(now()).0).await?;
            let sent = self.send(events).await;
            metrics::outbox_send(count, sent.is_ok());
            if let Err(e) = sent {
                self.pump.borrow_mut().failed(batch);
                return Err(e);
            }
            let settled = self.pump.borrow_mut().sent(batch);
            match settled {
                Settled::Delete { through } => self.forget(through)?,
                Settled::DeleteStale { through } => return self.forget(through),
            }
        }
    }

    async fn send(&self, events: Vec<StockChanged>) -> Result<()> {
        self.env.queue(QUEUE)?.send_batch(events).await
    }

    /// An alarm no later than `at` (the object's `wake_by`).
    async fn wake_by(&self, at: i64) -> Result<()> {
        wake_by(&self.storage, &self.alarm_at, at).await
    }

    /// Deletes the sent rows, up to `through`.
    fn forget(&self, through: u64) -> Result<()> {
        let through = i64::try_from(through).unwrap_or(i64::MAX);
        self.sql.exec("DELETE FROM outbox WHERE version <= ?", vec![through.into()])?;
        Ok(())
    }

    /// Flushes the outbox; on failure, leaves it for the alarm.
    async fn flush_or_retry(&self) -> Result<()> {
        if let Err(e) = self.flush().await {
            console_error!("outbox: send failed ({e}); retried in {OUTBOX_RETRY_MS} ms");
            self.wake_by(now().0 + OUTBOX_RETRY_MS).await?;
        }
        Ok(())
    }
}

/// Sets the object's alarm to `at` unless one at or before it is set (`stock::alarm`): the time
/// set is cached in `cache`, read back from storage once per isolate.
async fn wake_by(storage: &Storage, cache: &RefCell<Known>, at: i64) -> Result<()> {
    let current = match *cache.borrow() {
        Known::Set(c) => Some(c),
        Known::Unknown => None,
    };
    let current = match current {
        Some(c) => c,
        None => {
            let stored = storage.get_alarm().await?;
            *cache.borrow_mut() = Known::Set(stored);
            stored
        }
    };
    if !moves_earlier(current, at) {
        return Ok(());
    }
    storage.set_alarm(ScheduledTime::new(js_sys::Date::new(&(at as f64).into()))).await?;
    *cache.borrow_mut() = Known::Set(Some(at));
    Ok(())
}
