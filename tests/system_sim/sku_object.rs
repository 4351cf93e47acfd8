//! One SKU ledger object as `edge::sku_object` runs it, minus workerd: the pure handlers
//! (`api::sku_call`, `cart::single`) over an in-memory [`Ledger`], what each call persists (the
//! ledger's planned rows, the journal, the outbox event, Idempotency-Key records, single-SKU
//! reservation records and order desk registrations, all in one synchronous turn), the durable
//! alarm and the in-memory [`OutboxPump`]. A restart drops the memory (ledger, pump, cached alarm
//! time); what was persisted is loaded again on the next call.

use std::collections::BTreeMap;

use stockedge::allot::hotness::HoldMeter;
use stockedge::allot::{AutoRule, Hotness, LenderCall, LenderReply};
use stockedge::api::cart_call::CartAction;
use stockedge::api::idempotency::{forget_before, judge, Keyed, Recorded, Verdict};
use stockedge::api::order_call::OrderCall;
use stockedge::api::sku_call::{self, SkuAction, SkuAnswer, SkuReplyKeyed, SkuResult};
use stockedge::cart::{single, Reservation};
use stockedge::stock::alarm::{moves_earlier, Known};
use stockedge::stock::limits::HOLD_RETENTION_MS;
use stockedge::stock::outbox::{Batch, OutboxPump, Settled};
use stockedge::stock::{oversold_alert, storage, Entry, Ledger, Levels, Location, Sku, Token};
use stockedge::sync::StockChanged;
use stockedge::time::Millis;

use crate::rows::Rows;

/// `edge::limits::CLEANUP_EVERY_MS`: the alarm that prunes when no hold has a deadline.
pub const CLEANUP_EVERY_MS: i64 = 24 * 3_600_000;
/// `edge::limits::OUTBOX_RETRY_MS`.
pub const OUTBOX_RETRY_MS: i64 = 5_000;
/// `edge::limits::REGISTRATION_RETRY_MS`.
pub const REGISTRATION_RETRY_MS: i64 = 5_000;
/// `edge::limits::QUEUE_SEND_BATCH`.
pub const OUTBOX_BATCH: usize = 100;

/// What survives a restart.
#[derive(Default)]
pub struct Stored {
    pub rows: Rows,
    /// The journal, in `seq` order.
    pub journal: Vec<Entry>,
    pub outbox: BTreeMap<u64, StockChanged>,
    pub idempotency: BTreeMap<String, Recorded<SkuResult>>,
    pub reservations: BTreeMap<Token, Reservation>,
    pub registrations: BTreeMap<Token, OrderCall>,
    /// The durable alarm.
    pub alarm: Option<Millis>,
    /// The SKU's hotness (`meta` rows `hot` and `hot_auto`).
    pub hotness: Hotness,
}

/// What lives in the isolate's memory.
#[derive(Default)]
struct Memory {
    ledger: Option<Ledger>,
    pump: OutboxPump,
    alarm_at: Known,
    registering: bool,
    /// Single-SKU holds counted for automatic hotness.
    meter: HoldMeter,
}

pub struct SkuObject {
    pub sku: Sku,
    pub stored: Stored,
    mem: Memory,
    /// The levels the journal replays to, kept as entries are appended (checked every step).
    pub replayed: BTreeMap<Location, Levels>,
    /// What a load of the rows reads, once read for a check.
    cold: Option<Ledger>,
    /// The deployment's automatic hotness rule (off unless a seed sets one).
    pub auto_rule: AutoRule,
    /// Times automatic hotness turned on, and times an ended one was forgotten.
    pub auto_on: u64,
    pub auto_ended: u64,
}

impl SkuObject {
    pub fn new(sku: Sku) -> SkuObject {
        SkuObject {
            sku,
            stored: Stored::default(),
            mem: Memory::default(),
            replayed: BTreeMap::new(),
            cold: None,
            auto_rule: AutoRule::at(None),
            auto_on: 0,
            auto_ended: 0,
        }
    }

    /// The isolate is evicted: everything not persisted is gone.
    pub fn restart(&mut self) {
        self.mem = Memory::default();
        self.cold = None;
    }

    /// The ledger as loaded (for checks): the in-memory one, else what a load reads (kept until
    /// the next load, which is what that load would read: nothing writes the rows meanwhile).
    pub fn ledger_view(&mut self) -> &Ledger {
        if self.mem.ledger.is_none() && self.cold.is_none() {
            self.cold = Some(self.stored.rows.load());
        }
        match &self.mem.ledger {
            Some(l) => l,
            None => self.cold.get_or_insert_with(Ledger::new),
        }
    }

    /// `with_ledger`: loads if needed, runs `f`, persists what changed (with its outbox event).
    pub fn with_ledger<T>(&mut self, f: impl FnOnce(&mut Ledger) -> T) -> T {
        let cold = self.cold.take();
        let ledger = self.mem.ledger.get_or_insert_with(|| cold.unwrap_or_else(|| self.stored.rows.load()));
        let before = ledger.totals();
        let out = f(ledger);
        let changes = ledger.take_changes();
        if changes.is_empty() {
            return out;
        }
        let event = changes.entries.last().map(|last| {
            let after = ledger.totals();
            let alert = oversold_alert(&before, &after, &changes.entries);
            StockChanged::from_totals(self.sku.clone(), ledger.version(), &after, last.op, last.at, alert)
                .with_journal(&changes.entries)
        });
        for s in storage::plan(ledger, &changes, None).expect("plan") {
            self.stored.rows.exec(&s);
        }
        if let Some(e) = event {
            self.stored.outbox.insert(e.version, e);
        }
        for e in &changes.entries {
            e.deltas.apply_to(self.replayed.entry(e.location.clone()).or_default());
        }
        self.stored.journal.extend(changes.entries);
        out
    }

    /// `SkuLedger::call`: one call, Idempotency-Key first.
    pub fn call(&mut self, action: SkuAction, idempotency: Option<(String, String)>, t: Millis) -> SkuReplyKeyed {
        if let Some((key, fp)) = &idempotency {
            match judge(self.stored.idempotency.get(key), fp) {
                Verdict::Replay(reply) => return Keyed::Replayed(reply.clone()),
                Verdict::Reused => return Keyed::KeyReused,
                Verdict::Fresh | Verdict::Resume { .. } => {}
            }
        }
        let sku = self.sku.clone();
        let reply = match action {
            SkuAction::Get => self.with_ledger(|l| sku_call::state(l, &sku, t)),
            SkuAction::Availability => self.with_ledger(|l| sku_call::availability(l, &sku, None, t)),
            SkuAction::Apply { commands } => self.with_ledger(|l| sku_call::apply(l, &sku, commands, t)),
            SkuAction::Reservation { id, call } => match self.reservation(id, call, t) {
                Keyed::Answered(reply) => reply,
                other => return other,
            },
            // The key has no answer kept (a kept one was replayed above): nothing to record.
            SkuAction::Recall => return Keyed::Answered(Ok(SkuAnswer::NotKept)),
            SkuAction::Lender { call } => Ok(SkuAnswer::Lender(self.lender(call, t))),
            other => panic!("the simulation does not send {other:?}"),
        };
        if let Some((key, fingerprint)) = idempotency {
            self.stored.idempotency.insert(key, Recorded { fingerprint, at: t, reply: Some(reply.clone()) });
        }
        Keyed::Answered(reply)
    }

    /// `SkuLedger::lender`: a lender call under the SKU's hotness, what it changed stored in the
    /// same turn as its answer.
    pub fn lender(&mut self, call: LenderCall, t: Millis) -> LenderReply {
        let mut h = self.stored.hotness;
        let reply = self.with_ledger(|l| h.serve(l, call, t).0);
        self.stored.hotness = h;
        reply
    }

    fn reservation(&mut self, id: Token, call: CartAction, t: Millis) -> SkuReplyKeyed {
        let existing = self.stored.reservations.get(&id).cloned();
        let sku = self.sku.clone();
        let key = id.clone();
        let creating = matches!(call, CartAction::Create { .. });
        let step = self.with_ledger(|l| match call {
            CartAction::Create { parts, ttl_seconds, channel, reference, fingerprint, keyed } => {
                let new = Reservation::creating(id, parts, ttl_seconds, channel, reference, fingerprint, t);
                single::create(l, &sku, existing, new, keyed, t)
            }
            other => single::act(l, existing, id, other, t),
        });
        if let Some(r) = &step.save {
            self.stored.reservations.insert(r.id.clone(), r.clone());
        }
        if let Some(call) = step.register {
            self.stored.registrations.insert(key, call);
            self.mem.registering = true;
        }
        if creating {
            // `SkuLedger::count_hold`: automatic hotness, stored in this turn.
            let (mut h, rule) = (self.stored.hotness, self.auto_rule);
            let mut meter = self.mem.meter;
            let was = h.automatic;
            let changed = self.with_ledger(|l| h.held(&mut meter, &rule, l, t));
            self.mem.meter = meter;
            if changed.automatic {
                self.auto_ended += u64::from(was.is_some());
                self.auto_on += u64::from(h.automatic.is_some());
            }
            self.stored.hotness = h;
        }
        sku_call::from_cart(step.reply)
    }

    /// After a fetch: whether registrations are to be carried out now (`registering`).
    pub fn take_registering(&mut self) -> bool {
        std::mem::take(&mut self.mem.registering)
    }

    /// Registrations still to carry out (`READ_REGISTRATIONS`).
    pub fn registrations(&self) -> Vec<(Token, OrderCall)> {
        self.stored.registrations.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// The desk confirmed a registration.
    pub fn registered(&mut self, id: &Token) {
        self.stored.registrations.remove(id);
    }

    /// `wake_by`: an alarm no later than `at` (`stock::alarm`; the cached time read back from
    /// the durable alarm once per isolate).
    pub fn wake_by(&mut self, at: Millis) {
        let current = match self.mem.alarm_at {
            Known::Set(c) => c,
            Known::Unknown => self.stored.alarm.map(|a| a.0),
        };
        self.mem.alarm_at = Known::Set(current);
        if !moves_earlier(current, at.0) {
            return;
        }
        self.stored.alarm = Some(at);
        self.mem.alarm_at = Known::Set(Some(at.0));
    }

    /// `schedule`: the alarm at the next deadline, or the cleanup.
    pub fn schedule(&mut self, now: Millis) {
        let next = self.mem.ledger.as_ref().and_then(Ledger::next_deadline);
        let want = next.unwrap_or(Millis(now.0 + CLEANUP_EVERY_MS));
        self.wake_by(want);
    }

    /// The alarm's own work before registrations and the outbox: expire, prune, forget old keys
    /// and reservation records.
    pub fn alarm_work(&mut self, t: Millis) {
        self.stored.alarm = None;
        self.mem.alarm_at = Known::Set(None);
        self.with_ledger(|l| {
            l.expire_due(t);
            l.prune(t);
        });
        let cutoff = forget_before(t);
        self.stored.idempotency.retain(|_, r| r.at.0 >= cutoff.0);
        let keep = t.0 - HOLD_RETENTION_MS;
        self.stored.reservations.retain(|_, r| r.expires_at.0 >= keep);
    }

    /// The next outbox batch to send (`flush`): its ticket and events, marked in flight.
    pub fn outbox_next(&mut self, now: Millis) -> Option<(Batch, Vec<StockChanged>)> {
        let rows: Vec<(u64, StockChanged)> =
            self.stored.outbox.iter().take(OUTBOX_BATCH).map(|(v, e)| (*v, e.clone())).collect();
        let versions: Vec<u64> = rows.iter().map(|(v, _)| *v).collect();
        let batch = self.mem.pump.next(&versions, now)?;
        Some((batch, rows.into_iter().map(|(_, e)| e).collect()))
    }

    /// The queue took the batch: whether the sender keeps the turn.
    pub fn outbox_sent(&mut self, batch: Batch) -> bool {
        let (through, keep) = match self.mem.pump.sent(batch) {
            Settled::Delete { through } => (through, true),
            Settled::DeleteStale { through } => (through, false),
        };
        self.stored.outbox.retain(|v, _| *v > through);
        keep
    }

    /// The queue refused the batch: the retry alarm (`flush_or_retry`).
    pub fn outbox_failed(&mut self, batch: Batch, now: Millis) {
        self.mem.pump.failed(batch);
        self.wake_by(Millis(now.0 + OUTBOX_RETRY_MS));
    }

    /// A single-SKU reservation record (for checks).
    pub fn reservation_record(&self, id: &Token) -> Option<&Reservation> {
        self.stored.reservations.get(id)
    }
}
