//! Pushing a SKU's current state to one listing again, outside the ordinary flow of changes:
//! when the listing is created or its rule or identity changes (`PUT /v1/channels/{c}/listings/{sku}`)
//! and when a platform reports drift that StockEdge corrects (`inbound_apply.rs`).
//!
//! The sync consumer pushes a listing only versions newer than the one it last accepted
//! (`listing_sync.last_version`). So the listing's record is set back to the version before the
//! SKU's current one, and the current state is announced on the `stock-changes` queue: that
//! listing takes it (its rule decides the quantity; Shopify's compare-and-set starts from the
//! level recorded), and every other listing of the SKU, already at that version, ignores it.

use std::collections::BTreeMap;

use futures::future::join_all;
use worker::{D1Database, Env};

use crate::api::sku_call::{SkuAction, SkuAnswer, SkuRefusal};
use crate::fault::{Fault, ObjectError};
use crate::stock::{Sku, Token};
use crate::sync::bundle_event::{current_states, ledgers_for};
use crate::sync::StockChanged;
use crate::time::Millis;

use super::limits::FAN_OUT;
use super::sku_object::QUEUE;
use super::{sku_client, store};

/// What a listing of `sku` shows now, as a (re-)announcement: a bundle's state from its
/// components (a bundle has no ledger of its own), any other SKU's from its ledger
/// ([`ledger_state`]). `None`: nothing to push yet.
pub async fn current(env: &Env, sku: &Sku, at: Millis) -> Result<Option<StockChanged>, Fault> {
    Ok(current_all(env, std::slice::from_ref(sku), at).await?.remove(sku))
}

/// [`current`] for each of `skus`, read together: the bundles among them in one catalogue read,
/// then every ledger needed once, [`FAN_OUT`] at a time (`sync::bundle_event::current_states`
/// puts them together). A SKU with nothing to push yet is absent.
pub async fn current_all(env: &Env, skus: &[Sku], at: Millis) -> Result<BTreeMap<Sku, StockChanged>, Fault> {
    let bundles = super::catalog_reads::bundles(env, skus).await?;
    let ledgers = ledger_states(env, &ledgers_for(skus, &bundles), at).await?;
    Ok(current_states(skus, &bundles, &ledgers, at))
}

/// The ledger states of `skus` ([`ledger_state`]), [`FAN_OUT`] at a time; a SKU never stocked
/// is absent.
pub async fn ledger_states(env: &Env, skus: &[Sku], at: Millis) -> Result<BTreeMap<Sku, StockChanged>, Fault> {
    let mut out = BTreeMap::new();
    for chunk in skus.chunks(FAN_OUT) {
        for (sku, state) in chunk.iter().zip(join_all(chunk.iter().map(|s| ledger_state(env, s, at))).await) {
            if let Some(s) = state? {
                out.insert(sku.clone(), s);
            }
        }
    }
    Ok(out)
}

/// The SKU's ledger state as a (re-)announcement: cause `set`, no alert (the change that
/// oversold, if any, raised it). `None` for a SKU never stocked (version 0: nothing to push).
pub async fn ledger_state(env: &Env, sku: &Sku, at: Millis) -> Result<Option<StockChanged>, Fault> {
    match sku_client::ask(env, sku, SkuAction::Get).await? {
        Ok(SkuAnswer::State(v)) => Ok((v.version > 0)
            .then(|| StockChanged::current(sku.clone(), v.version, v.available, v.on_hand, v.oversold, at))),
        Err(SkuRefusal::NeverStocked { .. }) => Ok(None),
        other => {
            Err(ObjectError::OutOfContract { class: "SKU", detail: format!("ledger {sku} answered {other:?}") }.into())
        }
    }
}

/// Makes `channel`'s listing of `state.sku` take `state` again. `seen` is the level the
/// platform is known to hold, when known (drift): the compare-and-set starts from it.
pub async fn to_listing(
    env: &Env,
    db: &D1Database,
    channel: &Token,
    state: &StockChanged,
    seen: Option<i64>,
    t: Millis,
) -> Result<(), Fault> {
    store::sync_state::rewind(db, channel, state, seen, t).await?;
    env.queue(QUEUE)?.send(state).await?;
    Ok(())
}
