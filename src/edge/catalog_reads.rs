//! What the stock paths read from the catalogue: bundle definitions (to expand bundle lines and
//! compute bundle availability) and listing rules (to answer availability per channel).

use std::collections::BTreeMap;

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{Env, Result};

use crate::catalog::{Bundle, Component, ListingRule};
use crate::stock::{Sku, Token};

/// SKUs per `IN (…)` list: D1 takes at most 100 bound parameters per statement.
const IN_CHUNK: usize = 90;

#[derive(Deserialize)]
struct ComponentRow {
    bundle_sku: String,
    component_sku: String,
    qty: i64,
}

#[derive(Deserialize)]
struct RuleRow {
    sku: String,
    buffer: i64,
    percent: i64,
    max_listed: Option<i64>,
    zero_at_or_below: Option<i64>,
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// The bundles among `skus`, with their components.
pub async fn bundles(env: &Env, skus: &[Sku]) -> Result<BTreeMap<Sku, Bundle>> {
    let db = env.d1("CATALOG")?;
    let mut out: BTreeMap<Sku, Bundle> = BTreeMap::new();
    for chunk in skus.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT bundle_sku, component_sku, qty FROM bundle_components WHERE bundle_sku IN ({}) ORDER BY bundle_sku, position",
            placeholders(chunk.len())
        );
        let params: Vec<JsValue> = chunk.iter().map(|s| JsValue::from(s.as_str())).collect();
        let rows: Vec<ComponentRow> = db.prepare(sql).bind(&params)?.all().await?.results()?;
        for r in rows {
            let (Ok(bundle), Ok(component)) = (Sku::parse(&r.bundle_sku), Sku::parse(&r.component_sku)) else {
                continue;
            };
            out.entry(bundle.clone())
                .or_insert_with(|| Bundle { sku: bundle, components: Vec::new() })
                .components
                .push(Component { sku: component, qty: r.qty });
        }
    }
    Ok(out)
}

/// The listing rules of `channel` for those of `skus` it lists; unlisted SKUs are absent.
pub async fn listing_rules(env: &Env, channel: &Token, skus: &[Sku]) -> Result<BTreeMap<Sku, ListingRule>> {
    let db = env.d1("CATALOG")?;
    let mut out = BTreeMap::new();
    for chunk in skus.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT sku, buffer, percent, max_listed, zero_at_or_below FROM listings WHERE channel = ? AND sku IN ({})",
            placeholders(chunk.len())
        );
        let mut params: Vec<JsValue> = vec![JsValue::from(channel.as_str())];
        params.extend(chunk.iter().map(|s| JsValue::from(s.as_str())));
        let rows: Vec<RuleRow> = db.prepare(sql).bind(&params)?.all().await?.results()?;
        for r in rows {
            let Ok(sku) = Sku::parse(&r.sku) else { continue };
            let rule = ListingRule {
                buffer: r.buffer,
                percent: r.percent.clamp(0, 100) as u8,
                max_listed: r.max_listed,
                zero_at_or_below: r.zero_at_or_below,
            };
            out.insert(sku, rule);
        }
    }
    Ok(out)
}
