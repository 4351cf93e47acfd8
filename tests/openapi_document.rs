//! The served contract (`openapi.json`, `GET /v1/openapi.json`) is itself valid input by the rules
//! StockEdge applies to request bodies (whatever its size): in particular no object names a member twice (a
//! duplicate would silently hide one of two definitions from every client generator).

use stockedge::api::fields::parse_strict_object;

#[test]
fn the_openapi_document_names_no_member_twice() {
    let doc = include_bytes!("../openapi.json");
    if let Err(p) = parse_strict_object(doc) {
        panic!("openapi.json: {}", p.detail);
    }
}
