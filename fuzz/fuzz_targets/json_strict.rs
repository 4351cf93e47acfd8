//! The one parser of JSON request bodies (`api::fields::parse_object`): serde_json's grammar,
//! refusing an object that names a member twice at any depth.
//!
//! Contract, against serde_json itself as the oracle: what serde_json refuses is refused; an
//! accepted body is an object equal to serde_json's reading and, written back, it is accepted
//! again as the same object (when it holds no fractional number: serde_json reads those with a
//! fast parser that may miss the last bit, so they are compared after one more round); a body refused while serde_json reads an object names a member twice (serde_json keeps
//! the last of two members, so its object has fewer members than the text names); every refusal
//! is a `400` or `413` problem.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use stockedge::api::fields::parse_object;
use stockedge::api::Kind;

fn has_fraction(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.is_f64(),
        Value::Array(a) => a.iter().any(has_fraction),
        Value::Object(o) => o.values().any(has_fraction),
        _ => false,
    }
}

fuzz_target!(|body: &[u8]| {
    let blank = body.iter().all(u8::is_ascii_whitespace);
    let oracle = serde_json::from_slice::<Value>(body);
    match parse_object(body) {
        Ok(obj) => {
            if !blank {
                assert_eq!(oracle.as_ref().ok(), Some(&Value::Object(obj.clone())), "differs from serde_json");
            }
            let again = serde_json::to_vec(&obj).expect("writes");
            let reread = parse_object(&again).expect("written back, it is accepted again");
            if has_fraction(&Value::Object(obj.clone())) {
                let third = parse_object(&serde_json::to_vec(&reread).expect("writes")).expect("accepted");
                assert_eq!(third.len(), reread.len(), "written back and read again");
            } else {
                assert_eq!(reread, obj, "written back and read again");
            }
        }
        Err(p) => {
            assert!(matches!(p.kind, Kind::InvalidJson | Kind::PayloadTooLarge), "{p:?}");
            if let Ok(Value::Object(_)) = oracle {
                assert!(p.kind == Kind::PayloadTooLarge || p.detail.contains("twice"), "refused a valid object: {p:?}");
            }
        }
    }
});
