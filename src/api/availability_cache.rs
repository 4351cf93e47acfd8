//! Availability near the customer, decided without I/O: what a cached availability entry holds,
//! whether it is fresh enough to answer from, the `ETag` of an answer and whether a client's
//! `If-None-Match` matches it, the `Cache-Control` an answer carries, whether a hold can be
//! refused at the edge (sold-out shedding) and what the cache learns from each write. The shell
//! (`edge/availability_cache.rs`) only gets, puts and deletes the entries this module describes.
//!
//! The contract (docs/api.md, Availability):
//! - every fact in an entry carries the time it was **observed**: the shell's clock *before* it
//!   sent the call whose answer the fact comes from. The object produced that answer at that time
//!   or later, so "observed at" never overstates how recent a fact is;
//! - a fact is fresh while `now − observed_at < bound` (the configured staleness bound); only
//!   fresh facts answer a read or refuse a hold. So an answer from the cache, and a refusal at the
//!   edge, is never older than the bound — whatever order the cache writes landed in, and whether
//!   or not they landed at all (a failed cache write only costs a trip to the object);
//! - a hold is refused at the edge only when the ledger, in the state the fresh facts describe,
//!   would refuse it too, and then with the very problem the object path answers. It never
//!   answers `201`; a restock reaches it within the bound.

use std::collections::BTreeMap;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::availability::Item;
use super::cart_call::{CartAction, CartAnswer, CartCall, CartRefusal, CartReply};
use super::idempotency::Keyed;
use super::order_call::{OrderAction, OrderCall, OrderRefusal, OrderReply};
use super::sku_call::{SkuAnswer, SkuRefusal, SkuReplyKeyed};
use super::views::{AvailabilityItem, SkuView};
use crate::cart::{CartError, Part, ShortLine};
use crate::stock::Sku;
use crate::time::Millis;

/// The `[vars]` entry (wrangler.toml) that sets the staleness bound, in milliseconds.
pub const STALENESS_VAR: &str = "AVAILABILITY_MAX_STALENESS_MS";
/// The staleness bound when [`STALENESS_VAR`] is not set (ms).
pub const DEFAULT_MAX_STALENESS_MS: i64 = 1_000;
// The default bound is at most a second (the contract of docs/api.md).
const _: () = assert!(DEFAULT_MAX_STALENESS_MS <= 1_000 && DEFAULT_MAX_STALENESS_MS <= MAX_MAX_STALENESS_MS);
/// The largest staleness bound [`STALENESS_VAR`] may set (ms).
pub const MAX_MAX_STALENESS_MS: i64 = 60_000;
/// The origin of the cache keys: a host that is never fetched, only named.
pub const KEY_ORIGIN: &str = "https://availability.stockedge.internal/v1/";
/// The tag of an answer is this many hex digits of a SHA-256.
const ETAG_HEX_DIGITS: usize = 32;

/// Everything but the characters a SKU may hold besides `/`, which is encoded too, so that a
/// key names exactly one SKU.
const KEY_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// How fresh a read must be: `consistency=strong` goes to the objects; the default answers from
/// facts younger than the staleness bound.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Consistency {
    #[default]
    Bounded,
    Strong,
}

impl Consistency {
    /// The query values, as docs/api.md lists them.
    pub const VALUES: [&'static str; 2] = ["bounded", "strong"];

    pub fn from_query(v: &str) -> Option<Consistency> {
        match v {
            "bounded" => Some(Consistency::Bounded),
            "strong" => Some(Consistency::Strong),
            _ => None,
        }
    }
}

/// [`STALENESS_VAR`] holds something other than a bound.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{STALENESS_VAR} must be a whole number of milliseconds from 0 to {MAX_MAX_STALENESS_MS}, not {0:?}")]
pub struct StalenessError(pub String);

/// The staleness bound: how old a cached fact may be and still answer (ms). 0 turns the cache
/// off (every fact is stale at once) without changing any answer's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Staleness(i64);

impl Default for Staleness {
    fn default() -> Self {
        Staleness(DEFAULT_MAX_STALENESS_MS)
    }
}

impl Staleness {
    /// The one validation of [`STALENESS_VAR`]: absent → the default; otherwise an integer in
    /// `0..=MAX_MAX_STALENESS_MS`.
    pub fn parse(raw: Option<&str>) -> Result<Staleness, StalenessError> {
        let Some(raw) = raw else { return Ok(Staleness::default()) };
        match raw.trim().parse::<i64>() {
            Ok(ms) if (0..=MAX_MAX_STALENESS_MS).contains(&ms) => Ok(Staleness(ms)),
            _ => Err(StalenessError(raw.to_owned())),
        }
    }

    pub fn ms(self) -> i64 {
        self.0
    }

    /// Whether a fact observed at `at` may answer at `now`. A fact from the future (another
    /// machine's clock ahead of this one) is not trusted.
    pub fn is_fresh(self, at: Millis, now: Millis) -> bool {
        let age = now.0.saturating_sub(at.0);
        (0..self.0).contains(&age)
    }

    /// Whole seconds a client may keep an answer built from facts observed no earlier than
    /// `oldest`, so that its copy never outlives the bound: what is left of the oldest fact's
    /// freshness, rounded down (usually 0 with the default 1 s bound — the client then
    /// revalidates with `If-None-Match`).
    pub fn client_max_age_s(self, oldest: Millis, now: Millis) -> i64 {
        let age = now.0.saturating_sub(oldest.0).max(0);
        (self.0 - age).max(0) / 1_000
    }

    /// The `max-age` of a stored entry: as long as the bound (whole seconds, at least 1) so the
    /// platform keeps it while it can answer and evicts it soon after. Freshness itself is
    /// decided by [`Staleness::is_fresh`], never by the platform's expiry.
    pub fn entry_max_age_s(self) -> i64 {
        ((self.0 + 999) / 1_000).max(1)
    }
}

/// The `Cache-Control` of an availability answer. Bounded reads are `private` (the answer is
/// for the bearer of the token: no shared cache or CDN may keep it) with the `max-age` of
/// [`Staleness::client_max_age_s`]; strong reads are `no-store`.
pub fn cache_control(consistency: Consistency, bound: Staleness, oldest: Option<Millis>, now: Millis) -> String {
    match consistency {
        Consistency::Strong => "no-store".to_owned(),
        Consistency::Bounded => {
            format!("private, max-age={}", bound.client_max_age_s(oldest.unwrap_or(now), now))
        }
    }
}

/// A value and when it was observed (see the module's contract).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed<T> {
    pub value: T,
    pub at: Millis,
}

/// One SKU's cache entry: its ledger's availability item and what holds at each location could
/// take, as learned from the objects' refusals (`available` there plus the backorder room).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Observed<AvailabilityItem>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub holdable: BTreeMap<String, Observed<i64>>,
}

impl Entry {
    /// The item, if fresh at `now`.
    pub fn fresh_item(&self, bound: Staleness, now: Millis) -> Option<&Observed<AvailabilityItem>> {
        self.item.as_ref().filter(|i| bound.is_fresh(i.at, now))
    }

    /// The entry after the ledger was seen at `item` (observed at `at`): the item replaces the
    /// one kept unless that one is fresh and of a later ledger version (answers may land out of
    /// order); the hold facts observed before it are superseded and dropped.
    pub fn with_item(mut self, item: AvailabilityItem, at: Millis, bound: Staleness, now: Millis) -> Entry {
        let keep_old = self.fresh_item(bound, now).is_some_and(|old| old.value.version > item.version);
        if !keep_old {
            self.holdable.retain(|_, f| f.at > at);
            self.item = Some(Observed { value: item, at });
        }
        self
    }

    /// The entry after a hold at `location` was refused, the ledger saying it could give
    /// `available` there (observed at `at`). A fact observed later for that location is kept.
    pub fn with_short(mut self, location: &str, available: i64, at: Millis) -> Entry {
        match self.holdable.get(location) {
            Some(f) if f.at > at => {}
            _ => {
                self.holdable.insert(location.to_owned(), Observed { value: available, at });
            }
        }
        self
    }

    /// Whether nothing in the entry could answer anything at `now` (it may as well be deleted).
    pub fn is_spent(&self, bound: Staleness, now: Millis) -> bool {
        self.fresh_item(bound, now).is_none() && !self.holdable.values().any(|f| bound.is_fresh(f.at, now))
    }
}

/// The cache key of a SKU's entry (the SKU percent-encoded, `/` included).
pub fn cache_key(sku: &Sku) -> String {
    format!("{KEY_ORIGIN}{}", utf8_percent_encode(sku.as_str(), KEY_SET))
}

/// The availability item a SKU's state shows (the same numbers the ledger's own availability
/// answer gives: `sellable` = available + what is left of the backorder allowance).
pub fn item_of_view(v: &SkuView) -> AvailabilityItem {
    let room = (v.backorder_limit - v.backordered - v.oversold).max(0);
    AvailabilityItem { sku: v.sku.clone(), available: v.available, sellable: v.available + room, version: v.version }
}

/// The SKUs a bounded read looks up in the shared cache (the Cache API): those whose item the
/// isolate's memory (`local`, `api::local_facts`) does not hold fresh. The rest are answered
/// from memory without a Cache API call; the freshness rule is the same for both tiers.
pub fn shared_lookups(skus: &[Sku], local: &BTreeMap<Sku, Entry>, bound: Staleness, now: Millis) -> Vec<Sku> {
    skus.iter().filter(|s| local.get(*s).and_then(|e| e.fresh_item(bound, now)).is_none()).cloned().collect()
}

/// Where the items of an availability read came from, for the counters: the isolate's memory,
/// the shared cache, or the objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ItemSources {
    pub memory: u64,
    pub cache: u64,
    pub object: u64,
}

impl ItemSources {
    /// The sources of `plan`'s items, `looked_up` being the SKUs asked of the shared cache.
    pub fn of(plan: &ReadPlan, looked_up: &[Sku]) -> ItemSources {
        let cache = plan.hits.keys().filter(|s| looked_up.contains(s)).count() as u64;
        ItemSources { memory: plan.hits.len() as u64 - cache, cache, object: plan.misses.len() as u64 }
    }
}

/// A bounded read planned from the entries found: the ledgers answered from fresh items and the
/// SKUs to ask their objects for. A strong read asks for every SKU.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadPlan {
    pub hits: BTreeMap<Sku, Observed<AvailabilityItem>>,
    pub misses: Vec<Sku>,
}

pub fn plan_read(
    skus: &[Sku],
    entries: &BTreeMap<Sku, Entry>,
    consistency: Consistency,
    bound: Staleness,
    now: Millis,
) -> ReadPlan {
    let mut plan = ReadPlan::default();
    for sku in skus {
        let hit = match consistency {
            Consistency::Strong => None,
            Consistency::Bounded => entries.get(sku).and_then(|e| e.fresh_item(bound, now)),
        };
        match hit {
            Some(h) => {
                plan.hits.insert(sku.clone(), h.clone());
            }
            None => plan.misses.push(sku.clone()),
        }
    }
    plan
}

/// The strong `ETag` of an answer: a digest of its items — each SKU with its ledger version and
/// the numbers shown — so that two answers share a tag exactly when their bodies are equal.
pub fn etag(items: &[Item]) -> String {
    let mut h = Sha256::new();
    for i in items {
        // Field by field, each terminated, so that no two lists write the same bytes.
        h.update(i.sku.as_bytes());
        h.update([0]);
        h.update(format!("{}:{}:{}:{}:{:?}", i.version, i.available, i.sellable, i.bundle, i.listed).as_bytes());
        h.update([0]);
    }
    let hex = hex::encode(h.finalize());
    format!("\"{}\"", &hex[..ETAG_HEX_DIGITS])
}

/// The opaque part of an entity tag (`"x"` or `W/"x"`), or `None` if `raw` is not one.
fn opaque(raw: &str) -> Option<&str> {
    let t = raw.trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    let inner = t.strip_prefix('"')?.strip_suffix('"')?;
    // etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3)
    inner.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80).then_some(inner)
}

/// Whether `If-None-Match` (its header values, joined by commas) matches `current` (RFC 9110
/// §13.1.2): `*` matches any current answer; otherwise the weak comparison — `W/"x"` matches
/// `"x"`. Members that are not entity tags are ignored; a header with none matches nothing.
pub fn none_match(header: &str, current: &str) -> bool {
    let Some(current) = opaque(current) else { return false };
    if header.trim() == "*" {
        return true;
    }
    // Commas may occur inside a tag's quotes (etagc allows them): split outside quotes only.
    let mut members = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in header.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                members.push(&header[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    members.push(&header[start..]);
    members.into_iter().filter_map(opaque).any(|tag| tag == current)
}

/// What a cart's line would meet at one SKU's ledger, from the fresh facts alone.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PartVerdict {
    /// The ledger refuses it, reporting this line.
    Short(ShortLine),
    /// The ledger holds it.
    Fits,
    /// The facts do not say.
    Unknown,
}

fn part_verdict(part: &Part, entry: Option<&Entry>, bound: Staleness, now: Millis) -> PartVerdict {
    let Some(entry) = entry else { return PartVerdict::Unknown };
    let Some((first_location, first_qty)) = part.lines.first() else { return PartVerdict::Unknown };
    let short = |location: String, requested: i64, available: i64| {
        PartVerdict::Short(ShortLine { sku: part.sku.to_string(), location, requested, available })
    };
    // Nothing sellable anywhere: no location has a unit and no backorder room is left, so any
    // hold grows the shortfall past the allowance; the ledger names the first location of the
    // hold (locations in order, as the plan orders them) with 0 available.
    if entry.fresh_item(bound, now).is_some_and(|i| i.value.sellable <= 0) {
        return short(first_location.to_string(), *first_qty, 0);
    }
    // One location, whose holdable units a refusal told: the ledger holds exactly up to them
    // (units there plus the backorder room). Several locations can add up past the room even
    // when each fits, so they are not judged.
    if let [(location, qty)] = part.lines.as_slice() {
        let key = location.to_string();
        if let Some(f) = entry.holdable.get(&key).filter(|f| bound.is_fresh(f.at, now)) {
            return if *qty > f.value { short(key, *qty, f.value) } else { PartVerdict::Fits };
        }
    }
    PartVerdict::Unknown
}

/// Sold-out shedding: the refusal to answer at the edge, without calling any object, for a
/// cart with parts `parts` — the same [`CartError::Short`], lines in the same order, as the
/// objects would answer in the state the fresh facts describe. Only when every part is judged
/// (short, or sure to fit) and at least one is short; otherwise `None` (ask the objects).
///
/// `named` is whether the request names its reservation (an `id` or an `Idempotency-Key`): such
/// a request is never shed, since its repeats must answer what its first answer was, which the
/// reservation's coordinator keeps.
pub fn shed(
    named: bool,
    parts: &[Part],
    entries: &BTreeMap<Sku, Entry>,
    bound: Staleness,
    now: Millis,
) -> Option<CartError> {
    if named || parts.is_empty() {
        return None;
    }
    let mut short = Vec::new();
    for part in parts {
        match part_verdict(part, entries.get(&part.sku), bound, now) {
            PartVerdict::Short(line) => short.push(line),
            PartVerdict::Fits => {}
            PartVerdict::Unknown => return None,
        }
    }
    (!short.is_empty()).then_some(CartError::Short(short))
}

/// What the cache learns from a write's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Learned {
    /// The ledger is now at this item.
    Item(Sku, AvailabilityItem),
    /// A hold at `location` was refused: the ledger could give `available` there.
    Short { sku: Sku, location: String, available: i64 },
    /// The SKU changed in a way the answer does not show: forget what is cached.
    Changed(Sku),
}

/// The SKUs `skus` changed in a way the answer does not show (each once, in order).
pub fn changed(skus: impl IntoIterator<Item = Sku>) -> Vec<Learned> {
    let mut skus: Vec<Sku> = skus.into_iter().collect();
    skus.sort();
    skus.dedup();
    skus.into_iter().map(Learned::Changed).collect()
}

/// After a call to a SKU's object: a write (stock set, adjustment) forgets the SKU — the next
/// read asks the object, so that concurrent writes, whose answers may reach the cache in any
/// order, never leave an older state stored after a newer one; a read (`GET /v1/skus/{sku}`)
/// stores the state it answered. A replayed first answer is not news, and a refusal changed
/// nothing.
pub fn after_sku(reply: &SkuReplyKeyed) -> Vec<Learned> {
    let state = match reply {
        Keyed::Answered(Ok(SkuAnswer::Applied(a))) => {
            return Sku::parse(&a.state.sku).map(|sku| vec![Learned::Changed(sku)]).unwrap_or_default()
        }
        Keyed::Answered(Ok(SkuAnswer::State(s))) => s,
        Keyed::Answered(Ok(SkuAnswer::Availability(i))) => {
            return Sku::parse(&i.sku).map(|sku| vec![Learned::Item(sku, i.clone())]).unwrap_or_default()
        }
        // Reservations kept by a ledger are learned from as a cart's reply (`after_cart`); a
        // bundle definition's answer, a bundle's refusal and a recall that found nothing carry
        // no levels.
        Keyed::Answered(
            Ok(
                SkuAnswer::Journal(_)
                | SkuAnswer::Reservation(_)
                | SkuAnswer::Bundle { .. }
                | SkuAnswer::Lender(_)
                | SkuAnswer::NotKept,
            )
            | Err(
                SkuRefusal::NeverStocked { .. }
                | SkuRefusal::Ledger { .. }
                | SkuRefusal::Reservation(_)
                | SkuRefusal::Bundle { .. },
            ),
        )
        | Keyed::Replayed(_)
        | Keyed::KeyReused => return Vec::new(),
    };
    Sku::parse(&state.sku).map(|sku| vec![Learned::Item(sku, item_of_view(state))]).unwrap_or_default()
}

/// After a call to a reservation's coordinator. Its answers show no levels, so the SKUs a step
/// changed are forgotten; a refused creation teaches what the short lines could take (and
/// forgets the other SKUs, held and released meanwhile). Reads and replays teach nothing.
pub fn after_cart(call: &CartCall, reply: &CartReply) -> Vec<Learned> {
    let Keyed::Answered(result) = reply else { return Vec::new() };
    let parts_skus = |parts: &[Part]| parts.iter().map(|p| p.sku.clone()).collect::<Vec<_>>();
    match (&call.action, result) {
        (CartAction::Get, _) => Vec::new(),
        (_, Ok(CartAnswer::Created(s) | CartAnswer::Current(s))) => changed(parts_skus(&s.parts)),
        (CartAction::Create { parts, .. }, Err(CartRefusal::Cart(CartError::Short(lines)))) => {
            refused_hold(parts, lines)
        }
        (CartAction::Create { parts, .. }, Err(_)) => changed(parts_skus(parts)),
        (_, Err(_)) => Vec::new(),
    }
}

/// What a hold of `parts` refused with the short `lines` teaches, whichever path refused it (a
/// coordinator, or a SKU object holding a single-SKU reservation itself): what each short line
/// could take, and that the other SKUs changed (held and released meanwhile).
pub fn refused_hold(parts: &[Part], lines: &[ShortLine]) -> Vec<Learned> {
    let mut out = Vec::new();
    for l in lines {
        if let Ok(sku) = Sku::parse(&l.sku) {
            out.push(Learned::Short { sku, location: l.location.clone(), available: l.available });
        }
    }
    let short: Vec<&str> = lines.iter().map(|l| l.sku.as_str()).collect();
    out.extend(changed(parts.iter().map(|p| p.sku.clone()).filter(|s| !short.contains(&s.as_str()))));
    out
}

/// After a call to an order's desk (sales, cancellations, fulfilments): every SKU the request
/// or the answer names is forgotten (the answer shows `available` but not `sellable`).
pub fn after_order(call: &OrderCall, reply: &OrderReply) -> Vec<Learned> {
    let Keyed::Answered(result) = reply else { return Vec::new() };
    let mut skus: Vec<Sku> = match &call.action {
        OrderAction::Sell { lines } | OrderAction::Fulfil { lines } => lines.iter().map(|l| l.sku.clone()).collect(),
        OrderAction::Cancel { .. } => Vec::new(),
        OrderAction::Attach { lines } => lines.iter().map(|l| l.sku.clone()).collect(),
    };
    match result {
        Ok(state) => skus.extend(state.skus.iter().map(|l| l.sku.clone())),
        Err(OrderRefusal::Ledger { sku, applied_skus, .. }) => {
            skus.push(sku.clone());
            skus.extend(applied_skus.iter().cloned());
        }
        Err(OrderRefusal::Book(_) | OrderRefusal::Unavailable(_)) => {}
    }
    changed(skus)
}

/// The entry to keep after learning `learned` about its SKU at `at` (`existing` is what the cache
/// held, if read); `None` means delete the entry.
pub fn entry_after(
    existing: Option<Entry>,
    learned: &Learned,
    at: Millis,
    bound: Staleness,
    now: Millis,
) -> Option<Entry> {
    match learned {
        Learned::Changed(_) => None,
        Learned::Item(_, item) => Some(existing.unwrap_or_default().with_item(item.clone(), at, bound, now)),
        Learned::Short { location, available, .. } => {
            Some(existing.unwrap_or_default().with_short(location, *available, at))
        }
    }
}

impl Learned {
    pub fn sku(&self) -> &Sku {
        match self {
            Learned::Item(s, _) | Learned::Changed(s) | Learned::Short { sku: s, .. } => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::problem::from_cart;
    use crate::api::sku_call::{self, Applied};
    use crate::cart::{Shown, Status};
    use crate::stock::{Cause, Command, Effect, HoldId, Ledger, LedgerError, Location, Token};

    const BOUND: Staleness = Staleness(1_000);

    fn sku(s: &str) -> Sku {
        Sku::parse(s).expect("sku")
    }

    fn loc(s: &str) -> Location {
        Location::parse(s).expect("location")
    }

    fn item(s: &str, available: i64, sellable: i64, version: u64) -> AvailabilityItem {
        AvailabilityItem { sku: s.into(), available, sellable, version }
    }

    fn with_item(s: &str, sellable: i64, version: u64, at: i64) -> Entry {
        Entry::default().with_item(item(s, sellable, sellable, version), Millis(at), BOUND, Millis(at))
    }

    fn part(s: &str, lines: &[(&str, i64)]) -> Part {
        Part { sku: sku(s), lines: lines.iter().map(|(l, q)| (loc(l), *q)).collect() }
    }

    #[test]
    fn memory_answers_what_it_holds_fresh_and_the_shared_cache_the_rest() {
        let local = BTreeMap::from([
            (sku("FRESH"), with_item("FRESH", 3, 7, 1_000)),
            (sku("OLD"), with_item("OLD", 3, 7, 0)),
            // Refusal facts only, no item: not an answer to a read.
            (sku("FACTS"), Entry::default()),
        ]);
        let skus = [sku("FRESH"), sku("OLD"), sku("FACTS"), sku("NONE")];
        let ask = shared_lookups(&skus, &local, BOUND, Millis(1_500));
        assert_eq!(ask, vec![sku("OLD"), sku("FACTS"), sku("NONE")]);
        // The shared cache holds NONE fresh; OLD and FACTS go to their objects.
        let mut entries = local.clone();
        entries.insert(sku("NONE"), with_item("NONE", 1, 2, 1_200));
        let plan = plan_read(&skus, &entries, Consistency::Bounded, BOUND, Millis(1_500));
        assert_eq!(plan.misses, vec![sku("OLD"), sku("FACTS")]);
        assert_eq!(ItemSources::of(&plan, &ask), ItemSources { memory: 1, cache: 1, object: 2 });
        // Past the bound, memory answers nothing either.
        assert_eq!(shared_lookups(&skus, &local, BOUND, Millis(2_000)).len(), 4);
        // A strong read: every SKU from its object.
        let strong = plan_read(&skus, &entries, Consistency::Strong, BOUND, Millis(1_500));
        assert_eq!(ItemSources::of(&strong, &[]), ItemSources { memory: 0, cache: 0, object: 4 });
    }

    #[test]
    fn the_bound_is_validated_once_with_a_default() {
        assert_eq!(Staleness::parse(None), Ok(Staleness(DEFAULT_MAX_STALENESS_MS)));
        assert_eq!(Staleness::parse(Some("250")), Ok(Staleness(250)));
        assert_eq!(Staleness::parse(Some("0")), Ok(Staleness(0)));
        for bad in ["-1", "1.5", "", "1s", "60001"] {
            let e = Staleness::parse(Some(bad)).expect_err(bad);
            assert!(e.to_string().contains(STALENESS_VAR), "{e}");
        }
    }

    #[test]
    fn a_fact_is_fresh_only_within_the_bound_and_never_from_the_future() {
        assert!(BOUND.is_fresh(Millis(10_000), Millis(10_000)));
        assert!(BOUND.is_fresh(Millis(10_000), Millis(10_999)));
        assert!(!BOUND.is_fresh(Millis(10_000), Millis(11_000)));
        assert!(!BOUND.is_fresh(Millis(10_001), Millis(10_000)), "a clock ahead of ours is not trusted");
        assert!(!Staleness(0).is_fresh(Millis(5), Millis(5)), "a bound of 0 turns the cache off");
    }

    #[test]
    fn a_client_may_keep_an_answer_only_for_what_is_left_of_the_bound() {
        let b = Staleness(3_500);
        assert_eq!(b.client_max_age_s(Millis(1_000), Millis(1_000)), 3);
        assert_eq!(b.client_max_age_s(Millis(1_000), Millis(2_600)), 1);
        assert_eq!(b.client_max_age_s(Millis(1_000), Millis(9_000)), 0);
        assert_eq!(cache_control(Consistency::Bounded, BOUND, Some(Millis(0)), Millis(0)), "private, max-age=1");
        assert_eq!(cache_control(Consistency::Bounded, BOUND, Some(Millis(0)), Millis(1)), "private, max-age=0");
        assert_eq!(cache_control(Consistency::Strong, BOUND, None, Millis(0)), "no-store");
        assert_eq!((Staleness(0).entry_max_age_s(), Staleness(1_001).entry_max_age_s()), (1, 2));
    }

    #[test]
    fn keys_name_one_sku_each() {
        assert_eq!(cache_key(&sku("TEE-1")), "https://availability.stockedge.internal/v1/TEE-1");
        assert_eq!(cache_key(&sku("A/B")), "https://availability.stockedge.internal/v1/A%2FB");
        assert_ne!(cache_key(&sku("A/B")), cache_key(&sku("A-B")));
        assert_eq!(cache_key(&sku("a.b_c")), "https://availability.stockedge.internal/v1/a.b_c");
    }

    #[test]
    fn the_item_of_a_state_is_the_ledgers_own_availability_item() {
        let s = sku("A");
        let mut l = Ledger::new();
        let cmds = vec![
            Command::Set { location: loc("main"), on_hand: 3, expected_version: None, cause: Cause::default() },
            Command::Policy { backorder_limit: 4 },
            Command::Reserve {
                hold: HoldId::parse("h1").expect("hold"),
                lines: vec![(loc("main"), 5)],
                expires_at: Millis(60_000),
                channel: None,
                reference: None,
            },
        ];
        for c in cmds {
            l.apply(c, Millis(1)).expect("applies");
            let view = SkuView::of(&s, &l);
            assert_eq!(item_of_view(&view), AvailabilityItem::of(&s, &l));
        }
        assert_eq!(item_of_view(&SkuView::of(&s, &l)).sellable, 2, "0 available, 2 of the 4 backorder units left");
    }

    #[test]
    fn reads_answer_from_fresh_items_and_ask_for_the_rest() {
        let entries = BTreeMap::from([
            (sku("A"), with_item("A", 4, 7, 1_000)),
            (sku("B"), with_item("B", 4, 2, 0)),
            (sku("C"), Entry::default().with_short("main", 0, Millis(1_000))),
        ]);
        let skus = [sku("A"), sku("B"), sku("C"), sku("D")];
        let p = plan_read(&skus, &entries, Consistency::Bounded, BOUND, Millis(1_500));
        assert_eq!(p.hits.keys().collect::<Vec<_>>(), vec![&sku("A")]);
        assert_eq!(p.misses, vec![sku("B"), sku("C"), sku("D")], "stale, no item, absent");
        let p = plan_read(&skus, &entries, Consistency::Strong, BOUND, Millis(1_500));
        assert_eq!((p.hits.len(), p.misses.len()), (0, 4), "strong asks every object");
    }

    #[test]
    fn a_later_version_is_kept_against_an_answer_that_lands_late() {
        let newer = with_item("A", 0, 9, 1_000);
        let kept = newer.clone().with_item(item("A", 5, 5, 8), Millis(1_100), BOUND, Millis(1_200));
        assert_eq!(kept.item.as_ref().map(|i| i.value.version), Some(9));
        // Once the later one is stale, any fresh answer replaces it.
        let replaced = newer.with_item(item("A", 5, 5, 8), Millis(2_100), BOUND, Millis(2_200));
        assert_eq!(replaced.item.as_ref().map(|i| (i.value.version, i.at)), Some((8, Millis(2_100))));
    }

    #[test]
    fn an_item_supersedes_the_hold_facts_observed_before_it() {
        let e = Entry::default().with_short("main", 0, Millis(100)).with_short("east", 1, Millis(300));
        let e = e.with_item(item("A", 5, 5, 3), Millis(200), BOUND, Millis(350));
        assert_eq!(e.holdable.keys().collect::<Vec<_>>(), vec!["east"]);
        let e = e.with_short("east", 4, Millis(250));
        assert_eq!(e.holdable["east"], Observed { value: 1, at: Millis(300) }, "an older refusal does not win");
        assert!(!e.is_spent(BOUND, Millis(1_250)) && e.is_spent(BOUND, Millis(1_300)));
    }

    fn tags(items: &[Item]) -> String {
        etag(items)
    }

    fn shown(s: &str, available: i64, version: u64) -> Item {
        Item { sku: s.into(), available, sellable: available, version, bundle: false, listed: None }
    }

    #[test]
    fn the_etag_changes_with_any_sku_version_or_number() {
        let base = vec![shown("A", 1, 1), shown("B", 2, 2)];
        let t = tags(&base);
        assert!(t.starts_with('"') && t.ends_with('"') && t.len() == ETAG_HEX_DIGITS + 2);
        assert_eq!(t, tags(&base.clone()));
        assert_ne!(t, tags(&[shown("A", 1, 1), shown("B", 2, 3)]), "a version");
        assert_ne!(t, tags(&[shown("B", 2, 2), shown("A", 1, 1)]), "the order");
        assert_ne!(t, tags(&[shown("A", 1, 1), shown("B", 1, 2)]), "a number (a listing rule)");
        assert_ne!(tags(&[shown("AB", 1, 1)]), tags(&[shown("A", 1, 1), shown("B", 1, 1)]));
        let mut listed = base.clone();
        listed[0].listed = Some(false);
        assert_ne!(t, tags(&listed));
    }

    #[test]
    fn if_none_match_follows_rfc_9110() {
        let cur = "\"abc\"";
        assert!(none_match("\"abc\"", cur));
        assert!(none_match("W/\"abc\"", cur), "weak comparison");
        assert!(none_match("\"x\", W/\"abc\"", cur), "a list");
        assert!(none_match("  \"x\" ,\"abc\"  ", cur), "spaces around members");
        assert!(none_match("*", cur));
        assert!(!none_match("\"abd\"", cur));
        assert!(!none_match("abc", cur), "an unquoted tag is not a tag");
        assert!(!none_match("\"a,b\", \"c\"", cur), "a comma inside quotes does not split");
        assert!(none_match("\"a,b\", \"abc\"", cur));
        assert!(none_match("\"a,b\"", "\"a,b\""));
        assert!(!none_match("", cur));
        assert!(!none_match("\"ab\"c\"", cur), "a quote inside a tag makes it no tag");
    }

    #[test]
    fn a_sold_out_sku_is_shed_with_the_ledgers_own_line() {
        let entries = BTreeMap::from([(sku("A"), with_item("A", 0, 5, 1_000))]);
        let parts = [part("A", &[("east", 2), ("main", 1)])];
        let e = shed(false, &parts, &entries, BOUND, Millis(1_100)).expect("shed");
        let CartError::Short(lines) = &e else { panic!("short") };
        assert_eq!(lines, &vec![ShortLine { sku: "A".into(), location: "east".into(), requested: 2, available: 0 }]);
        assert_eq!(shed(false, &parts, &entries, BOUND, Millis(2_000)), None, "after the bound: ask the object");
        assert_eq!(shed(true, &parts, &entries, BOUND, Millis(1_100)), None, "a named request is never shed");
    }

    /// The decision against the ledger itself: in the state the facts were taken from, the shed
    /// problem is byte for byte the one the ledger's refusal renders to, and no hold is shed that
    /// the ledger would have placed.
    #[test]
    fn shedding_agrees_with_the_ledger_it_learned_from() {
        let s = sku("A");
        for (on_hand, limit, qty, at_east) in
            [(0, 0, 1, false), (2, 0, 3, false), (2, 1, 4, false), (2, 1, 4, true), (0, 2, 3, false)]
        {
            let mut l = Ledger::new();
            let location = if at_east { loc("east") } else { loc("main") };
            let set = Command::Set { location: loc("main"), on_hand, expected_version: None, cause: Cause::default() };
            l.apply(set, Millis(1)).expect("set");
            l.apply(Command::Policy { backorder_limit: limit }, Millis(1)).expect("policy");
            let reserve = |qty: i64| Command::Reserve {
                hold: HoldId::parse("h").expect("hold"),
                lines: vec![(location.clone(), qty)],
                expires_at: Millis(60_000),
                channel: None,
                reference: None,
            };
            // What the object path answers: the ledger's refusal, through the cart's short line.
            let refused = l.clone().apply(reserve(qty), Millis(2)).expect_err("short");
            let LedgerError::InsufficientStock { location: at, requested, available } = refused.clone() else {
                panic!("insufficient")
            };
            let object_line = ShortLine { sku: "A".into(), location: at.to_string(), requested, available };
            let object_body = from_cart(&CartError::Short(vec![object_line])).to_json();
            // The edge learned that refusal, or the item, and sheds the same request.
            let learned = Learned::Short { sku: s.clone(), location: at.to_string(), available };
            let from_refusal = entry_after(None, &learned, Millis(2), BOUND, Millis(2));
            let from_item = Entry::default().with_item(AvailabilityItem::of(&s, &l), Millis(2), BOUND, Millis(2));
            let parts = [Part { sku: s.clone(), lines: vec![(location.clone(), qty)] }];
            let shed_from = |entry: Entry| shed(false, &parts, &BTreeMap::from([(s.clone(), entry)]), BOUND, Millis(3));
            // A recorded refusal always sheds the same request, with the same body.
            let e = shed_from(from_refusal.expect("an entry")).expect("shed from the refusal");
            assert_eq!(from_cart(&e).to_json(), object_body);
            // An item sheds it when nothing is sellable, with the same body; otherwise it asks.
            let sellable = from_item.item.as_ref().map(|i| i.value.sellable);
            match shed_from(from_item.clone()) {
                Some(e) => assert_eq!((from_cart(&e).to_json(), sellable), (object_body, Some(0))),
                None => assert!(sellable > Some(0)),
            }
            // A hold the ledger places is never shed from what it taught.
            let entries =
                BTreeMap::from([(s.clone(), Entry::default().with_short(&at.to_string(), available, Millis(2)))]);
            let fits = [Part { sku: s.clone(), lines: vec![(location.clone(), available)] }];
            if available > 0 {
                assert!(l.clone().apply(reserve(available), Millis(2)).is_ok());
                assert_eq!(shed(false, &fits, &entries, BOUND, Millis(3)), None);
            }
        }
    }

    #[test]
    fn a_cart_is_shed_only_when_every_part_is_judged() {
        let entries = BTreeMap::from([
            (sku("A"), with_item("A", 0, 5, 1_000)),
            (sku("B"), Entry::default().with_short("main", 3, Millis(1_000))),
            (sku("C"), with_item("C", 9, 5, 1_000)),
        ]);
        let now = Millis(1_100);
        let a = part("A", &[("main", 1)]);
        // A short and B sure to fit: the objects would name A alone.
        let Some(CartError::Short(lines)) = shed(false, &[a.clone(), part("B", &[("main", 3)])], &entries, BOUND, now)
        else {
            panic!("shed")
        };
        assert_eq!(lines.iter().map(|l| l.sku.as_str()).collect::<Vec<_>>(), vec!["A"]);
        // Both short: both named, in SKU order.
        let Some(CartError::Short(lines)) = shed(false, &[a.clone(), part("B", &[("main", 4)])], &entries, BOUND, now)
        else {
            panic!("shed")
        };
        assert_eq!(lines[1], ShortLine { sku: "B".into(), location: "main".into(), requested: 4, available: 3 });
        // C has units but no per-location fact: its line could be short too, so ask.
        assert_eq!(shed(false, &[a.clone(), part("C", &[("main", 1)])], &entries, BOUND, now), None);
        // Two locations of B: each may fit while together they do not.
        assert_eq!(shed(false, &[a.clone(), part("B", &[("east", 1), ("main", 1)])], &entries, BOUND, now), None);
        // Nothing short: ask (the objects hold it).
        assert_eq!(shed(false, &[part("B", &[("main", 2)])], &entries, BOUND, now), None);
        assert_eq!(shed(false, &[part("Z", &[("main", 2)])], &entries, BOUND, now), None);
    }

    fn reply_of_state(view: SkuView) -> SkuReplyKeyed {
        Keyed::Answered(Ok(SkuAnswer::Applied(Applied { state: view, effect: Effect::Applied })))
    }

    #[test]
    fn a_stock_write_forgets_the_sku_and_a_state_read_stores_it() {
        let s = sku("A");
        let mut l = Ledger::new();
        let r = sku_call::apply(
            &mut l,
            &s,
            vec![Command::Set { location: loc("main"), on_hand: 4, expected_version: None, cause: Cause::default() }],
            Millis(1),
        );
        let Ok(SkuAnswer::Applied(a)) = r.clone() else { panic!("applied") };
        assert_eq!(after_sku(&reply_of_state(a.state.clone())), vec![Learned::Changed(s.clone())]);
        let read = Keyed::Answered(Ok(SkuAnswer::State(a.state.clone())));
        assert_eq!(after_sku(&read), vec![Learned::Item(s.clone(), AvailabilityItem::of(&s, &l))]);
        assert_eq!(after_sku(&Keyed::Replayed(r)), vec![]);
        let refused = Keyed::Answered(Err(SkuRefusal::Ledger { sku: s.clone(), error: LedgerError::HoldConflict }));
        assert_eq!(after_sku(&refused), vec![]);
    }

    fn cart_shown(skus: &[&str]) -> Shown {
        Shown {
            id: Token::parse("r1").expect("id"),
            status: Status::Held,
            expires_at: Millis(1_000),
            parts: skus.iter().map(|s| part(s, &[("main", 1)])).collect(),
            channel: None,
            reference: None,
            order: None,
        }
    }

    fn create(skus: &[&str]) -> CartCall {
        CartCall {
            id: Token::parse("r1").expect("id"),
            action: CartAction::Create {
                parts: skus.iter().map(|s| part(s, &[("main", 1)])).collect(),
                ttl_seconds: 60,
                channel: None,
                reference: None,
                fingerprint: "f".into(),
                keyed: false,
            },
            idempotency: None,
        }
    }

    #[test]
    fn cart_steps_forget_what_they_changed_and_refusals_teach_the_short_lines() {
        let held = Keyed::Answered(Ok(CartAnswer::Created(cart_shown(&["A", "B"]))));
        assert_eq!(
            after_cart(&create(&["A", "B"]), &held),
            vec![Learned::Changed(sku("A")), Learned::Changed(sku("B"))]
        );
        let replay = Keyed::Replayed(Ok(CartAnswer::Created(cart_shown(&["A"]))));
        assert_eq!(after_cart(&create(&["A"]), &replay), vec![]);
        let get = CartCall { action: CartAction::Get, ..create(&["A"]) };
        assert_eq!(after_cart(&get, &Keyed::Answered(Ok(CartAnswer::Current(cart_shown(&["A"]))))), vec![]);
        let release = CartCall { action: CartAction::Release, ..create(&[]) };
        let released = Keyed::Answered(Ok(CartAnswer::Current(cart_shown(&["C"]))));
        assert_eq!(after_cart(&release, &released), vec![Learned::Changed(sku("C"))]);
        let short = ShortLine { sku: "B".into(), location: "main".into(), requested: 2, available: 0 };
        let refused = Keyed::Answered(Err(CartRefusal::Cart(CartError::Short(vec![short]))));
        assert_eq!(
            after_cart(&create(&["A", "B"]), &refused),
            vec![Learned::Short { sku: sku("B"), location: "main".into(), available: 0 }, Learned::Changed(sku("A"))]
        );
        let unreachable = Keyed::Answered(Err(CartRefusal::Cart(CartError::Unavailable("x".into()))));
        assert_eq!(after_cart(&create(&["A"]), &unreachable), vec![Learned::Changed(sku("A"))]);
    }

    #[test]
    fn orders_forget_every_sku_they_name() {
        let line = |s: &str| crate::orders::Line { sku: sku(s), qty: 1, location: loc("main"), line_id: None };
        let order = crate::stock::OrderKey {
            channel: Token::parse("web").expect("c"),
            order_id: Token::parse("1").expect("o"),
        };
        let call = OrderCall {
            order: order.clone(),
            action: OrderAction::Sell { lines: vec![line("B"), line("A")] },
            idempotency: None,
        };
        let state = super::super::order_call::OrderState::of(&order, false, vec![]);
        assert_eq!(
            after_order(&call, &Keyed::Answered(Ok(state.clone()))),
            vec![Learned::Changed(sku("A")), Learned::Changed(sku("B"))]
        );
        assert_eq!(after_order(&call, &Keyed::Replayed(Ok(state))), vec![]);
        let cancel = OrderCall { order, action: OrderAction::Cancel { reason: None }, idempotency: None };
        let refused = Keyed::Answered(Err(OrderRefusal::Ledger {
            sku: sku("C"),
            error: LedgerError::OrderCancelled,
            applied_skus: vec![sku("D")],
        }));
        assert_eq!(after_order(&cancel, &refused), vec![Learned::Changed(sku("C")), Learned::Changed(sku("D"))]);
    }

    #[test]
    fn entries_travel_as_json_and_changes_delete_them() {
        let e = with_item("A", 2, 3, 10).with_short("main", 0, Millis(11));
        let back: Entry = serde_json::from_str(&serde_json::to_string(&e).expect("encode")).expect("decode");
        assert_eq!(back, e);
        assert_eq!(entry_after(Some(e), &Learned::Changed(sku("A")), Millis(12), BOUND, Millis(12)), None);
    }
}
