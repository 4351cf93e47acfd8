//! Bundles in the channel sync: when a component changes, every bundle made of it gets an event
//! of its own (`sync::bundle_event`: available from the components' current states, version the
//! sum of theirs), so the bundle's listings follow its components like any SKU's.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::join_all;
use worker::{D1Database, Env};

use crate::fault::Fault;
use crate::stock::Sku;
use crate::sync::bundle_event::bundle_event;
use crate::sync::StockChanged;
use crate::time::Millis;

use super::clock::now;
use super::limits::FAN_OUT;
use super::store;

/// The events of the bundles that have a component among `events`' SKUs, and per bundle its
/// components that are in the batch (a failed push of the bundle retries their messages).
pub async fn events_for(
    env: &Env,
    db: &D1Database,
    events: &[StockChanged],
) -> Result<(Vec<StockChanged>, BTreeMap<Sku, Vec<Sku>>), Fault> {
    let changed: Vec<Sku> = events.iter().map(|e| e.sku.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let bundle_skus = store::catalog::bundles_containing(db, &changed).await?;
    if bundle_skus.is_empty() {
        return Ok((Vec::new(), BTreeMap::new()));
    }
    let bundles = super::catalog_reads::bundles(env, &bundle_skus.into_iter().collect::<Vec<_>>()).await?;
    let components: Vec<Sku> = bundles
        .values()
        .flat_map(|b| b.components.iter().map(|c| c.sku.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let t = now();
    let mut states: BTreeMap<Sku, StockChanged> = BTreeMap::new();
    for chunk in components.chunks(FAN_OUT) {
        for (sku, state) in
            chunk.iter().zip(join_all(chunk.iter().map(|s| super::repush::ledger_state(env, s, t))).await)
        {
            if let Some(s) = state? {
                states.insert(sku.clone(), s);
            }
        }
    }
    let mut out = Vec::with_capacity(bundles.len());
    let mut members = BTreeMap::new();
    for b in bundles.values() {
        let in_batch: Vec<&StockChanged> =
            events.iter().filter(|e| b.components.iter().any(|c| c.sku == e.sku)).collect();
        let Some(newest) = in_batch.iter().max_by_key(|e| e.at) else { continue };
        out.push(bundle_event(b, &states, newest.cause, newest.at));
        members.insert(
            b.sku.clone(),
            in_batch.iter().map(|e| e.sku.clone()).collect::<BTreeSet<_>>().into_iter().collect(),
        );
    }
    Ok((out, members))
}

/// A bundle SKU's current state as an event (`None` when `sku` is not a bundle), for a listing
/// of the bundle created, changed or drifting (`repush::current`).
pub async fn current(env: &Env, sku: &Sku, t: Millis) -> Result<Option<StockChanged>, Fault> {
    let bundles = super::catalog_reads::bundles(env, std::slice::from_ref(sku)).await?;
    let Some(bundle) = bundles.get(sku) else { return Ok(None) };
    let mut states = BTreeMap::new();
    for c in &bundle.components {
        if let Some(s) = super::repush::ledger_state(env, &c.sku, t).await? {
            states.insert(c.sku.clone(), s);
        }
    }
    Ok(Some(bundle_event(bundle, &states, crate::stock::Op::Set, t)))
}
