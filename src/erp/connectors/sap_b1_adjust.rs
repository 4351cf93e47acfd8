//! SAP Business One Service Layer inventory postings as values, for forwarded adjustment requests
//! (docs/erp.md "Adjustment requests to the ERP"; the decision is `erp::adjustment_send`):
//! - `GET /b1s/v1/InventoryGenEntries?$select=DocEntry&$filter=JournalMemo eq '<tag>'` (and
//!   `InventoryGenExits`) — a goods receipt or issue carrying the request's tag: found, the request
//!   was applied.
//! - `GET /b1s/v1/Items('<code>')?$select=ItemCode,ItemWarehouseInfoCollection` — the warehouse's
//!   `InStock`, for a count.
//! - `POST /b1s/v1/InventoryGenEntries` (units in) or `InventoryGenExits` (units out)
//!   `{"JournalMemo": tag, "Comments", "DocumentLines":[{"ItemCode","Quantity","WarehouseCode"}]}`
//!   answers `201` with the document (`DocEntry`). `JournalMemo` holds 50 characters, `Comments`
//!   254.
//!
//! Every call carries the session cookie (`sap_b1::Session`).

use serde_json::{json, Value};

use super::sap_b1::{literal, Session, ROOT};
use crate::sync::http::encode_component;
use crate::sync::{HttpRequest, HttpResponse, Method};

/// The longest `Comments` SAP B1 stores.
pub const MAX_COMMENTS: usize = 254;

/// Where a posting goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Collection {
    /// Goods receipts: units in.
    Entries,
    /// Goods issues: units out.
    Exits,
}

impl Collection {
    pub const BOTH: [Collection; 2] = [Collection::Entries, Collection::Exits];

    /// The collection a signed quantity is posted to.
    pub fn of(delta: f64) -> Collection {
        if delta > 0.0 {
            Collection::Entries
        } else {
            Collection::Exits
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Collection::Entries => "InventoryGenEntries",
            Collection::Exits => "InventoryGenExits",
        }
    }
}

/// Looks up the posting in `collection` tagged `tag`.
pub fn find_posting(session: &Session, collection: Collection, tag: &str) -> HttpRequest {
    let filter = encode_component(&format!("JournalMemo eq {}", literal(tag)));
    HttpRequest::new(Method::Get, format!("{ROOT}/{}?$select=DocEntry&$filter={filter}", collection.name()))
        .header("Cookie", session.cookie.as_str())
}

/// Whether [`find_posting`] found one.
pub fn read_posting(resp: &HttpResponse) -> Result<bool, String> {
    let v = resp.json().ok_or("posting lookup unreadable")?;
    let rows = v.get("value").and_then(Value::as_array).ok_or("posting lookup without value")?;
    Ok(!rows.is_empty())
}

/// Reads item `code`'s warehouse rows.
pub fn item(session: &Session, code: &str) -> HttpRequest {
    HttpRequest::new(
        Method::Get,
        format!("{ROOT}/Items({})?$select=ItemCode,ItemWarehouseInfoCollection", encode_component(&literal(code))),
    )
    .header("Cookie", session.cookie.as_str())
}

/// `InStock` at `warehouse` in an [`item`] answer (0 without a row for it).
pub fn read_in_stock(resp: &HttpResponse, warehouse: &str) -> Result<f64, String> {
    let v = resp.json().ok_or("item unreadable")?;
    let rows = v.get("ItemWarehouseInfoCollection").and_then(Value::as_array).ok_or("item without warehouse rows")?;
    Ok(rows
        .iter()
        .find(|r| r.get("WarehouseCode").and_then(Value::as_str) == Some(warehouse))
        .and_then(|r| r.get("InStock").and_then(Value::as_f64))
        .unwrap_or(0.0))
}

/// Receives (`delta > 0`) or issues `|delta|` units of `item` at `warehouse`, tagged `tag`.
pub fn post(session: &Session, delta: f64, item: &str, warehouse: &str, tag: &str, comments: &str) -> HttpRequest {
    let body = json!({
        "JournalMemo": tag,
        "Comments": comments.chars().take(MAX_COMMENTS).collect::<String>(),
        "DocumentLines": [{ "ItemCode": item, "Quantity": delta.abs(), "WarehouseCode": warehouse }],
    });
    HttpRequest::new(Method::Post, format!("{ROOT}/{}", Collection::of(delta).name()))
        .header("Cookie", session.cookie.as_str())
        .header("Content-Type", "application/json")
        .body(body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session { cookie: "B1SESSION=abc".into() }
    }

    #[test]
    fn postings_are_looked_up_by_their_tag() {
        let q = find_posting(&session(), Collection::Exits, "StockEdge adjustment request 4");
        assert_eq!(
            q.path,
            "/b1s/v1/InventoryGenExits?$select=DocEntry&$filter=JournalMemo%20eq%20%27StockEdge%20adjustment%20request%204%27"
        );
        assert_eq!(q.header_value("cookie"), Some("B1SESSION=abc"));
        assert_eq!(read_posting(&HttpResponse::new(200, r#"{"value":[{"DocEntry":7}]}"#)), Ok(true));
        assert_eq!(read_posting(&HttpResponse::new(200, r#"{"value":[]}"#)), Ok(false));
        assert!(read_posting(&HttpResponse::new(200, "{}")).is_err());
    }

    #[test]
    fn in_stock_is_read_per_warehouse() {
        assert_eq!(
            item(&session(), "A'1").path,
            "/b1s/v1/Items(%27A%27%271%27)?$select=ItemCode,ItemWarehouseInfoCollection"
        );
        let body = r#"{"ItemCode":"A1","ItemWarehouseInfoCollection":[
            {"WarehouseCode":"01","InStock":12.0,"Committed":3.0},{"WarehouseCode":"02","InStock":4.5}]}"#;
        let resp = HttpResponse::new(200, body);
        assert_eq!(
            (read_in_stock(&resp, "01"), read_in_stock(&resp, "02"), read_in_stock(&resp, "03")),
            (Ok(12.0), Ok(4.5), Ok(0.0))
        );
        assert!(read_in_stock(&HttpResponse::new(200, "{}"), "01").is_err());
    }

    #[test]
    fn units_in_are_receipts_and_units_out_are_issues() {
        let r = post(&session(), 5.0, "A1", "01", "StockEdge adjustment request 4", "recount");
        assert_eq!(r.path, "/b1s/v1/InventoryGenEntries");
        assert_eq!(
            serde_json::from_str::<Value>(&r.body).expect("json"),
            json!({"JournalMemo":"StockEdge adjustment request 4","Comments":"recount",
                   "DocumentLines":[{"ItemCode":"A1","Quantity":5.0,"WarehouseCode":"01"}]})
        );
        let out = post(&session(), -2.0, "A1", "01", "t", &"x".repeat(300));
        assert_eq!(out.path, "/b1s/v1/InventoryGenExits");
        let v: Value = serde_json::from_str(&out.body).expect("json");
        assert_eq!(v["DocumentLines"][0]["Quantity"], json!(2.0));
        assert_eq!(v["Comments"].as_str().map(str::len), Some(MAX_COMMENTS));
    }
}
