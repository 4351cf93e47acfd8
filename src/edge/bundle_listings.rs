//! Bundles in the channel sync: when a component changes, every bundle made of it gets an event
//! of its own (`sync::bundle_event`: available from the components' current states, version the
//! sum of theirs), so the bundle's listings follow its components like any SKU's.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::join_all;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Env, Result};

use crate::stock::Sku;
use crate::sync::bundle_event::bundle_event;
use crate::sync::StockChanged;
use crate::time::Millis;

use super::clock::now;

/// Bound parameters per `IN (…)` list (D1 binds at most 100).
const IN_CHUNK: usize = 90;
/// Ledger reads in flight at once.
const FAN_OUT: usize = 32;

#[derive(Deserialize)]
struct BundleRow {
    bundle_sku: String,
}

/// The events of the bundles that have a component among `events`' SKUs, and per bundle its
/// components that are in the batch (a failed push of the bundle retries their messages).
pub async fn events_for(
    env: &Env,
    db: &D1Database,
    events: &[StockChanged],
) -> Result<(Vec<StockChanged>, BTreeMap<Sku, Vec<Sku>>)> {
    let changed: Vec<String> = events.iter().map(|e| e.sku.to_string()).collect::<BTreeSet<_>>().into_iter().collect();
    let mut bundle_skus = BTreeSet::new();
    for chunk in changed.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT DISTINCT bundle_sku FROM bundle_components WHERE component_sku IN ({})",
            vec!["?"; chunk.len()].join(", ")
        );
        let params: Vec<JsValue> = chunk.iter().map(|s| JsValue::from(s.as_str())).collect();
        for r in db.prepare(sql).bind(&params)?.all().await?.results::<BundleRow>()? {
            if let Ok(s) = Sku::parse(&r.bundle_sku) {
                bundle_skus.insert(s);
            }
        }
    }
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
            match state? {
                Ok(Some(s)) => {
                    states.insert(sku.clone(), s);
                }
                Ok(None) => {}
                Err(why) => return Err(worker::Error::RustError(why)),
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
pub async fn current(env: &Env, sku: &Sku, t: Millis) -> Result<std::result::Result<Option<StockChanged>, String>> {
    let bundles = super::catalog_reads::bundles(env, std::slice::from_ref(sku)).await?;
    let Some(bundle) = bundles.get(sku) else { return Ok(Ok(None)) };
    let mut states = BTreeMap::new();
    for c in &bundle.components {
        match super::repush::ledger_state(env, &c.sku, t).await? {
            Ok(Some(s)) => {
                states.insert(c.sku.clone(), s);
            }
            Ok(None) => {}
            Err(why) => return Ok(Err(why)),
        }
    }
    Ok(Ok(Some(bundle_event(bundle, &states, crate::stock::Op::Set, t))))
}
