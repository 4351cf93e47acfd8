//! Bundles in the channel sync: when a component changes, every bundle made of it gets an event
//! of its own (`sync::bundle_event`: available from the components' current states, version the
//! sum of theirs), so the bundle's listings follow its components like any SKU's.

use std::collections::{BTreeMap, BTreeSet};

use worker::Env;

use crate::fault::Fault;
use crate::stock::Sku;
use crate::sync::bundle_event::bundle_event;
use crate::sync::StockChanged;

use super::clock::now;

/// The events of the bundles that have a component among `events`' SKUs, and per bundle its
/// components that are in the batch (a failed push of the bundle retries their messages).
/// `bundle_skus` are the bundles that have a component among them (read by the consumer with its
/// other reads: `super::store::catalog::ContainingRead`).
pub async fn events_for(
    env: &Env,
    events: &[StockChanged],
    bundle_skus: BTreeSet<Sku>,
) -> Result<(Vec<StockChanged>, BTreeMap<Sku, Vec<Sku>>), Fault> {
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
    let states = super::repush::ledger_states(env, &components, now()).await?;
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
