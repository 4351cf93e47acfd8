//! The JSON request bodies of docs/api.md: stock, adjustments, reservations (create, commit,
//! extend), hot-SKU policies, sales, cancellations, fulfilments, the catalogue's products,
//! locations, channels and listings, and ERP snapshots.
//!
//! Input: one byte choosing the body's route, then the body. Contract: a refused body is a
//! `400`, `413` or `422` problem (a `422` names at least one field); an accepted request written
//! back as JSON re-validates to the same value (what the API accepted is what it would accept
//! again: nothing was lost, defaulted differently or clamped on the way).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use stockedge::api::{catalog_bodies, erp_snapshots, requests, Problem};
use stockedge::catalog::model::ChannelKind;
use stockedge::stock::{Location, Sku, Token};

fn refused(p: &Problem) {
    let status = p.status();
    assert!(matches!(status, 400 | 413 | 422), "a bad body answered {status}: {p:?}");
    if status == 422 {
        let errors = p.extra.get("errors").and_then(Value::as_array).expect("a 422 lists its errors");
        assert!(!errors.is_empty(), "a 422 without errors");
    }
}

/// `parse(body)`: accepted → `parse(again(value))` is the same value; refused → [`refused`].
fn round_trip<T: PartialEq + std::fmt::Debug>(
    body: &[u8],
    parse: impl Fn(&[u8]) -> Result<T, Problem>,
    again: impl Fn(&T) -> Value,
) {
    match parse(body) {
        Ok(v) => {
            let written = again(&v).to_string();
            match parse(written.as_bytes()) {
                Ok(back) => assert_eq!(back, v, "re-validating {written}"),
                Err(p) => panic!("{written} was refused on the way back: {p:?}"),
            }
        }
        Err(p) => refused(&p),
    }
}

fn as_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("a request serialises")
}

fn just<T>(r: Result<T, Problem>) {
    if let Err(p) = r {
        refused(&p);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    let sku = Sku::parse("TEE/RED-M").expect("sku");
    let id = Token::parse("web").expect("token");
    match which % 14 {
        0 => round_trip(body, requests::set_stock, as_json),
        1 => round_trip(body, requests::adjustment, as_json),
        2 => round_trip(body, requests::create_reservation, as_json),
        3 => round_trip(body, requests::hot_policy, |p| match p {
            None => json!({"hot": false}),
            Some(p) => {
                json!({"hot": true, "allotments": p.allotments, "block": p.block, "lease_seconds": p.lease_seconds})
            }
        }),
        4 => round_trip(body, requests::commit, |o| json!({ "order_id": o })),
        5 => round_trip(body, requests::extend, |t| json!({ "ttl_seconds": t })),
        6 => round_trip(body, requests::sale, as_json),
        7 => round_trip(body, requests::cancel, |r| json!({ "reason": r })),
        8 => round_trip(body, requests::fulfilment, as_json),
        9 => just(catalog_bodies::product(&sku, body)),
        10 => just(catalog_bodies::location(&Location::main(), body)),
        11 => just(catalog_bodies::channel(&id, body)),
        12 => {
            let kinds: Vec<ChannelKind> = ChannelKind::all().collect();
            just(catalog_bodies::listing(kinds[usize::from(which / 14) % kinds.len()], &id, &sku, body))
        }
        _ => just(erp_snapshots::snapshot_request(body)),
    }
});
