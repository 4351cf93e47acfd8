//! The inbound apply planner: a channel, the rows loaded for a batch of events and the events in;
//! the effects that apply them, and what to report, out. No I/O, no clock (`now` is passed in):
//! the edge loads, calls [`plan`], and carries out the [`Effect`]s in order, stopping at the
//! first that fails. Every effect is idempotent on its own, so an order applied twice —
//! redelivered, or both delivered and polled — counts once.
//!
//! Loading takes two steps: [`lookups`] names the listings to read (by identity or SKU), then
//! [`needs`] names, given those listings, the SKUs whose bundle definitions and current stock
//! state the plan needs.
//!
//! # What an order does
//! - Sale → the order desk sells the mapped lines (channel id, order id), each under the
//!   platform's line id, so two lines of one SKU stay two lines. Lines map to SKUs through the
//!   channel's listings (`LineIdentity::lookup_keys`, most exact first). Bundle SKUs sell their
//!   components (line id `<line id>/<component>`). The ledger location is `settings.location`.
//! - A line that maps to no listing is recorded (`unmatched_lines`) and nothing is applied for it.
//! - Cancel → the order desk cancels the whole order (a cancellation that arrives first leaves a
//!   tombstone: the late sale is ignored).
//! - Restock (Shopify `refunds/create`): a `return` (or `legacy_restock`) line puts the units back
//!   on the shelf — an adjustment `+qty`, reason `restock`, once per refund line (its
//!   Idempotency-Key in the SKU ledger is `inbound-restock:{channel}:{order}:{refund line}:{sku}`).
//!   A `cancel` line is deferred: the order desk cannot release one line of an order, and Shopify
//!   sends `orders/cancelled` for the order as well, whose cancellation releases the units once.
//! - Drift (Shopify `inventory_levels/update` for a listed item at the listing's location): equal
//!   to what StockEdge last pushed (the push's echo) or to what it would list now → nothing.
//!   Otherwise it is recorded, and with `on_drift` [`OnDrift::PushBack`] StockEdge's own number
//!   is pushed back (compare-and-set from the reported level). The ledger never takes the
//!   platform's number. A listing whose stored rule is out of bounds is refused, never clamped.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::channel::{InboundChannel, OnDrift};
use super::drift::{self, DriftVerdict};
use super::event::{
    EventKind, Ignored, InboundEvent, InboundLine, InboundOutcome, LineIdentity, LookupKey, PlatformIds, RestockType,
};
use crate::api::idempotency::fingerprint;
use crate::api::order_call::{OrderAction, OrderCall};
use crate::api::requests::Line;
use crate::api::sku_call::{SkuAction, SkuCall};
use crate::catalog::model::{ChannelKind, External};
use crate::catalog::{Bundle, StoredRule};
use crate::fault::StoreError;
use crate::stock::limits::MAX_LINES;
use crate::stock::{Cause, Command, Location, OrderKey, Sku, Token};
use crate::sync::shopify::{self as shopify_push, ShopifyIdentity};
use crate::sync::StockChanged;
use crate::time::Millis;

/// Restock adjustments' Idempotency-Key prefix in the SKU ledgers.
pub const RESTOCK_KEY: &str = "inbound-restock";

/// What the planner knows of the delivery or poll that brought the events.
#[derive(Clone, Copy, Debug)]
pub struct Arrival<'a> {
    pub kind: ChannelKind,
    /// The platform's topic (`poll` for the order-feed poll).
    pub topic: &'a str,
    pub dedupe_key: Option<&'a str>,
    pub now: Millis,
}

/// A listing of the channel, as loaded (with what StockEdge last pushed to it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    pub sku: String,
    pub identity: String,
    /// The stored `external` JSON.
    pub external: String,
    pub rule: StoredRule,
    /// `listing_sync.last_quantity`.
    pub last_pushed: Option<i64>,
}

/// The listings to load: those of the channel with one of these identities or SKUs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lookups {
    pub identities: Vec<String>,
    pub skus: Vec<String>,
}

/// What the plan needs beyond the listings: bundle definitions of the mapped SKUs, and the
/// current stock state of SKUs with a drift report to judge.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    pub bundles_of: Vec<Sku>,
    pub states_of: Vec<Sku>,
}

/// Everything loaded for a batch of events.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    pub listings: Vec<Listing>,
    pub bundles: BTreeMap<Sku, Bundle>,
    /// Current states of [`Needs::states_of`]; a SKU never stocked is absent.
    pub states: BTreeMap<Sku, StockChanged>,
}

/// One sold line for the order desk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SoldLine {
    pub sku: Sku,
    pub qty: i64,
    pub location: Location,
    /// The platform's line id (as a token): the desk and the ledger apply each once.
    pub line_id: Token,
}

/// The order desk's call that records a planned sale ([`Effect::Sell`]): every line with its
/// platform line id, by which the desk applies each once (so no idempotency key is needed).
pub fn sell_call(order: &OrderKey, lines: &[SoldLine]) -> OrderCall {
    let lines = lines
        .iter()
        .map(|l| Line {
            sku: l.sku.clone(),
            qty: l.qty,
            location: l.location.clone(),
            line_id: Some(l.line_id.clone()),
        })
        .collect();
    OrderCall { order: order.clone(), action: OrderAction::Sell { lines }, idempotency: None }
}

/// Which kind of line went unmatched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnmatchedKind {
    Sale,
    Restock,
}

impl UnmatchedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UnmatchedKind::Sale => "sale",
            UnmatchedKind::Restock => "restock",
        }
    }
}

/// A line no listing maps to (recorded once per channel, order, line and kind).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnmatchedLine {
    pub channel: Token,
    pub order_id: String,
    pub line_id: String,
    pub kind: UnmatchedKind,
    pub identity: LineIdentity,
    pub qty: i64,
    pub received_at: Millis,
}

/// Units put back on the shelf of one SKU, applied once under `key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restock {
    pub sku: Sku,
    pub location: Location,
    pub qty: i64,
    pub cause: Cause,
    /// The Idempotency-Key in the SKU ledger.
    pub key: String,
}

impl Restock {
    pub fn command(&self) -> Command {
        Command::Adjust { location: self.location.clone(), delta: self.qty, cause: self.cause.clone() }
    }

    /// What the ledger's Idempotency-Key record fingerprints (route [`RESTOCK_KEY`]).
    pub fn fingerprint_body(&self) -> String {
        format!("{} {} {}", self.sku, self.location, self.qty)
    }

    /// The SKU ledger's call that applies the restock once: under its Idempotency-Key,
    /// fingerprinted as a `POST` to [`RESTOCK_KEY`] of [`Restock::fingerprint_body`].
    pub fn call(&self) -> SkuCall {
        let fp = fingerprint("POST", RESTOCK_KEY, self.fingerprint_body().as_bytes());
        let action = SkuAction::Apply { commands: vec![self.command()] };
        SkuCall { sku: self.sku.clone(), action, idempotency: Some((self.key.clone(), fp)) }
    }
}

/// A drift report to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriftRecord {
    pub channel: Token,
    pub sku: Sku,
    pub line_id: String,
    pub reported: i64,
    pub last_pushed: Option<i64>,
    /// What StockEdge lists now.
    pub listed: i64,
    pub action: OnDrift,
    pub dedupe_key: Option<String>,
    pub occurred_at: Millis,
    pub received_at: Millis,
}

/// One thing to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    RecordUnmatched(Vec<UnmatchedLine>),
    /// `OrderAction::Sell` at the order's desk (at most `MAX_LINES` lines per effect).
    Sell {
        order: OrderKey,
        lines: Vec<SoldLine>,
    },
    /// `OrderAction::Cancel` of the whole order.
    Cancel {
        order: OrderKey,
        reason: String,
    },
    Restock(Restock),
    RecordDrift(DriftRecord),
    /// Make the channel's listing of `state.sku` take `state` again, compare-and-set from `seen`.
    PushBack {
        state: StockChanged,
        seen: i64,
    },
}

/// What applying came to, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub sold_lines: usize,
    pub cancelled_orders: usize,
    pub restocked_lines: usize,
    pub deferred_restock_lines: usize,
    pub unmatched_lines: usize,
    pub drift_recorded: usize,
    pub drift_pushed_back: usize,
}

impl Tally {
    pub fn add(&mut self, o: &Tally) {
        self.sold_lines += o.sold_lines;
        self.cancelled_orders += o.cancelled_orders;
        self.restocked_lines += o.restocked_lines;
        self.deferred_restock_lines += o.deferred_restock_lines;
        self.unmatched_lines += o.unmatched_lines;
        self.drift_recorded += o.drift_recorded;
        self.drift_pushed_back += o.drift_pushed_back;
    }
}

/// The effects of a batch of events, what they count for once all are done, and notes to log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub effects: Vec<Effect>,
    pub tally: Tally,
    pub notes: Vec<String>,
}

/// What a delivery (or a polled order) did, for the answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The channel it was applied for.
    pub channel: Token,
    pub tally: Tally,
    pub ignored: Option<Ignored>,
    /// Why a signed delivery could not be used.
    pub unusable: Option<String>,
}

impl Report {
    pub fn new(channel: &Token) -> Report {
        Report { channel: channel.clone(), tally: Tally::default(), ignored: None, unusable: None }
    }

    /// The report of an outcome that applies nothing by itself (a ping, an ignored delivery).
    pub fn settled(channel: &Token, outcome: &InboundOutcome) -> Report {
        match outcome {
            InboundOutcome::Ignored { ignored } => Report { ignored: Some(ignored.clone()), ..Report::new(channel) },
            _ => Report::new(channel),
        }
    }

    pub fn unusable(channel: &Token, why: impl Into<String>) -> Report {
        Report { unusable: Some(why.into()), ..Report::new(channel) }
    }

    /// The answer's `result` (also the delivery's recorded outcome).
    pub fn result(&self) -> &'static str {
        if self.unusable.is_some() {
            "unusable"
        } else if self.ignored.is_some() {
            "ignored"
        } else {
            "applied"
        }
    }

    /// The webhook's answer body.
    pub fn answer(&self, topic: &str) -> serde_json::Value {
        let mut v = serde_json::to_value(self.tally).unwrap_or_default();
        v["result"] = self.result().into();
        v["channel"] = self.channel.as_str().into();
        v["topic"] = topic.into();
        if let Some(i) = &self.ignored {
            v["ignored"] = serde_json::to_value(i).unwrap_or_default();
        }
        if let Some(u) = &self.unusable {
            v["detail"] = u.as_str().into();
        }
        v
    }
}

/// A platform id as a [`Token`]; one that is not (too long, other characters) is replaced by a
/// digest of itself, the same every time.
pub fn token_of(s: &str) -> Token {
    Token::parse(s).unwrap_or_else(|_| {
        let h = hex::encode(Sha256::digest(s.as_bytes()));
        Token::parse(&format!("h:{}", &h[..40])).unwrap_or_else(|_| unreachable!("a hex digest is a token"))
    })
}

fn order_key(ch: &InboundChannel, e: &InboundEvent) -> Option<OrderKey> {
    e.order_id.as_deref().map(|o| OrderKey { channel: ch.id.clone(), order_id: token_of(o) })
}

/// Lines whose SKU the plan maps: sale lines, and restock lines that are not deferred.
fn mapped_lines(events: &[InboundEvent]) -> impl Iterator<Item = &InboundLine> {
    events.iter().flat_map(|e| {
        let lines: &[InboundLine] = match e.kind {
            EventKind::Sale | EventKind::Restock => &e.lines,
            EventKind::Cancel | EventKind::Drift => &[],
        };
        lines.iter().filter(|l| l.restock != Some(RestockType::Cancel))
    })
}

/// The inventory item of a drift line (only those are judged).
fn drift_item(line: &InboundLine) -> Option<(i64, Option<i64>)> {
    match &line.identity.ids {
        PlatformIds::Shopify { inventory_item_id: Some(item), location_id, .. } => Some((*item, *location_id)),
        _ => None,
    }
}

fn drift_lines(events: &[InboundEvent]) -> impl Iterator<Item = &InboundLine> {
    events.iter().filter(|e| e.kind == EventKind::Drift).flat_map(|e| e.lines.iter())
}

/// The listings the events' lines may map to.
pub fn lookups(events: &[InboundEvent]) -> Lookups {
    let mut identities = BTreeSet::new();
    let mut skus = BTreeSet::new();
    for k in mapped_lines(events).flat_map(|l| l.identity.lookup_keys()) {
        match k {
            LookupKey::Identity(i) => identities.insert(i),
            LookupKey::Sku(s) => skus.insert(s),
            // Resolving a variant needs Shopify's Admin API; such lines stay unmatched.
            LookupKey::ShopifyVariant(_) => false,
        };
    }
    identities.extend(drift_lines(events).filter_map(drift_item).map(|(item, _)| shopify_push::identity_key(item)));
    Lookups { identities: identities.into_iter().collect(), skus: skus.into_iter().collect() }
}

/// The loaded listings, indexed.
struct Index<'a> {
    by_identity: BTreeMap<&'a str, &'a Listing>,
    skus: BTreeSet<&'a str>,
    /// An operator's mapping: every sale and restock line is this SKU's ([`plan_mapped`]).
    mapped_to: Option<&'a Sku>,
}

impl<'a> Index<'a> {
    fn of(listings: &'a [Listing]) -> Index<'a> {
        Index {
            by_identity: listings.iter().map(|l| (l.identity.as_str(), l)).collect(),
            skus: listings.iter().map(|l| l.sku.as_str()).collect(),
            mapped_to: None,
        }
    }

    /// The SKU of the listing the line's first look-up key finds.
    fn sku_of(&self, line: &InboundLine) -> Option<Sku> {
        if let Some(sku) = self.mapped_to {
            return Some(sku.clone());
        }
        line.identity
            .lookup_keys()
            .iter()
            .find_map(|k| match k {
                LookupKey::Identity(i) => self.by_identity.get(i.as_str()).map(|l| l.sku.clone()),
                LookupKey::Sku(s) => self.skus.contains(s.as_str()).then(|| s.clone()),
                LookupKey::ShopifyVariant(_) => None,
            })
            .and_then(|s| Sku::parse(&s).ok())
    }
}

/// The SKU of the listing among `listings` that `line`'s first look-up key finds, as [`plan`]
/// maps it; `None`: the line is unmatched.
pub fn mapped_sku(line: &InboundLine, listings: &[Listing]) -> Option<Sku> {
    Index::of(listings).sku_of(line)
}

/// A drift report that is not StockEdge's own echo, for a listed item at the listing's location.
struct Suspect<'a> {
    line: &'a InboundLine,
    listing: &'a Listing,
    sku: Sku,
    reported: i64,
    last_pushed: Option<i64>,
}

fn suspects<'a>(events: &'a [InboundEvent], index: &Index<'a>) -> Vec<Suspect<'a>> {
    let mut out = Vec::new();
    for line in drift_lines(events) {
        let Some((item, location_id)) = drift_item(line) else { continue };
        // A level of an item StockEdge does not list, or at another location: not its business.
        let Some(listing) = index.by_identity.get(shopify_push::identity_key(item).as_str()).copied() else { continue };
        let listed_at = serde_json::from_str(&listing.external).ok().and_then(|v| {
            let stored = External::from_stored(ChannelKind::Shopify, &v)?;
            ShopifyIdentity::of(&stored).map(|i| i.location_id)
        });
        if location_id.zip(listed_at).is_some_and(|(reported, listed)| reported != listed) {
            continue;
        }
        let Ok(sku) = Sku::parse(&listing.sku) else { continue };
        if let DriftVerdict::Drift { reported, last_pushed } = drift::check(line.qty, listing.last_pushed) {
            out.push(Suspect { line, listing, sku, reported, last_pushed });
        }
    }
    out
}

/// What to load beyond the listings.
pub fn needs(events: &[InboundEvent], listings: &[Listing]) -> Needs {
    let index = Index::of(listings);
    let bundles: BTreeSet<Sku> = mapped_lines(events).filter_map(|l| index.sku_of(l)).collect();
    let states: BTreeSet<Sku> = suspects(events, &index).into_iter().map(|s| s.sku).collect();
    Needs { bundles_of: bundles.into_iter().collect(), states_of: states.into_iter().collect() }
}

/// Bundle lines become their component lines (line id `<line id>/<component>`); other lines pass
/// unchanged, as does a bundle line that cannot be expanded (noted).
fn expand(line: SoldLine, bundles: &BTreeMap<Sku, Bundle>, notes: &mut Vec<String>) -> Vec<SoldLine> {
    let Some(b) = bundles.get(&line.sku) else { return vec![line] };
    match b.lines(line.qty, &line.location) {
        Ok(parts) => parts
            .into_iter()
            .map(|p| SoldLine {
                line_id: token_of(&format!("{}/{}", line.line_id, p.sku)),
                sku: p.sku,
                qty: p.qty,
                location: p.location,
            })
            .collect(),
        Err(e) => {
            notes.push(format!("bundle {} not expanded: {e}", line.sku));
            vec![line]
        }
    }
}

/// The effects of `events` for channel `ch`. `Err` only for a stored listing rule out of bounds
/// that a drift report needs (a corrupt row, refused).
pub fn plan(
    ch: &InboundChannel,
    at: &Arrival<'_>,
    events: &[InboundEvent],
    loaded: &Loaded,
) -> Result<Plan, StoreError> {
    let index = Index::of(&loaded.listings);
    let mut p = Plan::default();
    for e in events {
        match e.kind {
            EventKind::Sale => sale(ch, at, e, &index, loaded, &mut p),
            EventKind::Cancel => {
                if let Some(order) = order_key(ch, e) {
                    let reason = format!("{} {}", at.kind.as_str(), at.topic);
                    p.effects.push(Effect::Cancel { order, reason });
                    p.tally.cancelled_orders += 1;
                }
            }
            EventKind::Restock => restock(ch, at, e, &index, loaded, &mut p),
            EventKind::Drift => drift(ch, at, e, &index, loaded, &mut p)?,
        }
    }
    Ok(p)
}

/// The effects of `events` — lines an operator mapped to `sku` (`POST
/// /v1/inbound/unmatched/{id}/map`) — for channel `ch`: each sale or restock line is taken as
/// `sku`'s, whatever its look-up keys find, and planned exactly as [`plan`] plans a mapped line
/// (the same order desk, line ids, bundle expansion and restock keys), so the webhook's own
/// later delivery of the line counts nothing again. A mapped line is a sale or a restock:
/// cancellations and drift plan nothing here.
pub fn plan_mapped(ch: &InboundChannel, at: &Arrival<'_>, events: &[InboundEvent], sku: &Sku, loaded: &Loaded) -> Plan {
    let index = Index { mapped_to: Some(sku), ..Index::of(&loaded.listings) };
    let mut p = Plan::default();
    for e in events {
        match e.kind {
            EventKind::Sale => sale(ch, at, e, &index, loaded, &mut p),
            EventKind::Restock => restock(ch, at, e, &index, loaded, &mut p),
            EventKind::Cancel | EventKind::Drift => {}
        }
    }
    p
}

fn unmatched(
    ch: &InboundChannel,
    at: &Arrival<'_>,
    e: &InboundEvent,
    kind: UnmatchedKind,
    l: &InboundLine,
) -> UnmatchedLine {
    UnmatchedLine {
        channel: ch.id.clone(),
        order_id: e.order_id.clone().unwrap_or_default(),
        line_id: l.line_id.clone(),
        kind,
        identity: l.identity.clone(),
        qty: l.qty,
        received_at: at.now,
    }
}

fn record_unmatched(lines: Vec<UnmatchedLine>, p: &mut Plan) {
    if !lines.is_empty() {
        p.tally.unmatched_lines += lines.len();
        p.effects.push(Effect::RecordUnmatched(lines));
    }
}

fn sale(ch: &InboundChannel, at: &Arrival<'_>, e: &InboundEvent, index: &Index<'_>, loaded: &Loaded, p: &mut Plan) {
    let Some(order) = order_key(ch, e) else { return };
    let location = ch.location();
    let mut lines = Vec::new();
    let mut missing = Vec::new();
    for l in &e.lines {
        match index.sku_of(l) {
            Some(sku) => {
                lines.push(SoldLine { sku, qty: l.qty, location: location.clone(), line_id: token_of(&l.line_id) })
            }
            None => missing.push(unmatched(ch, at, e, UnmatchedKind::Sale, l)),
        }
    }
    record_unmatched(missing, p);
    if lines.is_empty() {
        return;
    }
    p.tally.sold_lines += lines.len();
    let parts: Vec<SoldLine> = lines.into_iter().flat_map(|l| expand(l, &loaded.bundles, &mut p.notes)).collect();
    for chunk in parts.chunks(MAX_LINES) {
        p.effects.push(Effect::Sell { order: order.clone(), lines: chunk.to_vec() });
    }
}

fn restock(ch: &InboundChannel, at: &Arrival<'_>, e: &InboundEvent, index: &Index<'_>, loaded: &Loaded, p: &mut Plan) {
    let Some(order) = order_key(ch, e) else { return };
    let location = ch.location();
    let mut missing = Vec::new();
    let mut restocks = Vec::new();
    for l in &e.lines {
        if l.restock == Some(RestockType::Cancel) {
            // Released by the order's cancellation (see the module docs).
            p.tally.deferred_restock_lines += 1;
            continue;
        }
        let Some(sku) = index.sku_of(l) else {
            missing.push(unmatched(ch, at, e, UnmatchedKind::Restock, l));
            continue;
        };
        let line_id = token_of(&l.line_id);
        let cause = Cause {
            reason: Some("restock".into()),
            channel: Some(order.channel.to_string()),
            order_id: Some(order.order_id.to_string()),
            line_id: Some(l.line_id.clone()),
            reference: at.dedupe_key.map(str::to_owned),
            ..Cause::default()
        };
        let line = SoldLine { sku, qty: l.qty, location: location.clone(), line_id: line_id.clone() };
        restocks.extend(expand(line, &loaded.bundles, &mut p.notes).into_iter().map(|part| {
            Effect::Restock(Restock {
                key: format!("{RESTOCK_KEY}:{}:{}:{line_id}:{}", order.channel, order.order_id, part.sku),
                sku: part.sku,
                location: part.location,
                qty: part.qty,
                cause: cause.clone(),
            })
        }));
        p.tally.restocked_lines += 1;
    }
    record_unmatched(missing, p);
    p.effects.extend(restocks);
}

fn drift(
    ch: &InboundChannel,
    at: &Arrival<'_>,
    e: &InboundEvent,
    index: &Index<'_>,
    loaded: &Loaded,
    p: &mut Plan,
) -> Result<(), StoreError> {
    for s in suspects(std::slice::from_ref(e), index) {
        // The SKU's current state (a SKU never stocked: all 0, version 0), to compare with and,
        // if this is drift, to push back.
        let state = loaded
            .states
            .get(&s.sku)
            .cloned()
            .unwrap_or_else(|| StockChanged::current(s.sku.clone(), 0, 0, 0, 0, at.now));
        let rule = s
            .listing
            .rule
            .rule()
            .map_err(|e| StoreError::Corrupt(format!("listing {} of channel {}: {e}", s.listing.sku, ch.id)))?;
        let listed = rule.listed(state.sellable());
        if s.reported == listed {
            // What StockEdge lists now (a push not yet recorded, or the platform's own sale
            // matching StockEdge's): nothing to correct.
            continue;
        }
        let action = ch.on_drift();
        p.effects.push(Effect::RecordDrift(DriftRecord {
            channel: ch.id.clone(),
            sku: s.sku,
            line_id: s.line.line_id.clone(),
            reported: s.reported,
            last_pushed: s.last_pushed,
            listed,
            action,
            dedupe_key: at.dedupe_key.map(str::to_owned),
            occurred_at: e.occurred_at,
            received_at: at.now,
        }));
        p.tally.drift_recorded += 1;
        if action == OnDrift::PushBack {
            // A compare-and-set from the platform's actual level. (When a newer push is already in
            // flight, the listing's record is past this version and that push corrects the level.)
            p.effects.push(Effect::PushBack { state, seen: s.reported });
            p.tally.drift_pushed_back += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
