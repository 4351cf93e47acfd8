//! Forwarded adjustment requests as NetSuite inventory adjustments (REST record
//! `inventoryAdjustment`), built and read without I/O (docs/erp.md "Adjustment requests to the
//! ERP"; the decision is `erp::adjustment_send::delta`, SAP B1's):
//!
//! - `GET /services/rest/record/v1/inventoryAdjustment/eid:<externalId>` finds the adjustment an
//!   earlier attempt posted (its answer lost): `200` found, `404` none ([`read_found`]).
//! - `POST /services/rest/query/v1/suiteql` (`Prefer: transient`) `SELECT SUM(quantityonhand) …
//!   FROM inventorybalance WHERE item = <id> AND location = <id>` — the on hand a count is
//!   computed from ([`on_hand`], [`read_on_hand`]).
//! - `POST /services/rest/record/v1/inventoryAdjustment` `{"externalId", "account": {"id"},
//!   "subsidiary"?: {"id"}, "adjLocation": {"id"}, "memo", "inventory": {"items": [{"item": {"id"},
//!   "location": {"id"}, "adjustQtyBy"}]}}` answers `204` with the new record's URL in
//!   `Location`; an `externalId` already taken is refused `400` `DUP_RCRD` — an earlier create
//!   went through: received ([`read_create`] answers [`Created::Exists`]).
//!
//! The `externalId` is [`external_id`]: NetSuite's external ids in REST URLs (`eid:`) take letters,
//! digits, `_` and `-` only, so it is not the tag other ERPs carry (which has spaces); the memo
//! carries that tag.

use serde_json::{json, Map, Value};

use super::auth::bearer;
use super::suiteql::SUITEQL_PATH;
use super::{answered, number, read_created, Created};
use crate::erp::connection::Connection;
use crate::erp::connectors::CallFailure;
use crate::sync::{HttpRequest, HttpResponse, Method};
use crate::time::Millis;

pub const INVENTORY_ADJUSTMENT_PATH: &str = "/services/rest/record/v1/inventoryAdjustment";
/// The connection setting naming the adjustment account (its internal id): the account
/// NetSuite books the adjustment's value to. Required for a `forward` NetSuite connection.
pub const ACCOUNT_SETTING: &str = "adjustment_account";
/// The connection setting naming the subsidiary (its internal id) the adjustment is booked in:
/// optional (a OneWorld account whose account is shared by several subsidiaries needs it).
pub const SUBSIDIARY_SETTING: &str = "adjustment_subsidiary";
/// The longest memo StockEdge sends.
pub const MAX_MEMO: usize = 250;

/// The `externalId` of request `id`'s adjustment.
pub fn external_id(id: i64) -> String {
    format!("stockedge-adjustment-request-{id}")
}

/// An internal id setting, given as text or as a positive number (`None` when absent or empty).
pub fn id_setting(settings: &Map<String, Value>, name: &str) -> Option<String> {
    match settings.get(name)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) if n.as_i64().is_some_and(|n| n > 0) => Some(n.to_string()),
        _ => None,
    }
}

/// Where a connection's adjustments are booked: its [`ACCOUNT_SETTING`] and
/// [`SUBSIDIARY_SETTING`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Books {
    pub account: String,
    pub subsidiary: Option<String>,
}

impl Books {
    /// `conn`'s settings; a connection without an account is refused (the request is `dead`,
    /// saying which setting to add).
    pub fn of(conn: &Connection) -> Result<Books, String> {
        let account = id_setting(&conn.settings, ACCOUNT_SETTING).ok_or_else(|| {
            format!(
                "settings.{ACCOUNT_SETTING} (the internal id of the NetSuite account inventory adjustments are \
                 booked to) is not set on ERP connection {}: set it, then forward the change again",
                conn.id
            )
        })?;
        Ok(Books { account, subsidiary: id_setting(&conn.settings, SUBSIDIARY_SETTING) })
    }
}

/// One adjustment: `delta` units of `item` at `location` (internal ids).
#[derive(Clone, Debug, PartialEq)]
pub struct Adjustment<'a> {
    pub external_id: &'a str,
    pub books: &'a Books,
    pub item: &'a str,
    pub location: &'a str,
    pub delta: f64,
    pub memo: &'a str,
}

/// Finds the adjustment whose `externalId` is `external_id`.
pub fn find(token: &str, external_id: &str) -> HttpRequest {
    HttpRequest::new(Method::Get, format!("{INVENTORY_ADJUSTMENT_PATH}/eid:{external_id}"))
        .header("Authorization", bearer(token))
        .header("Accept", "application/json")
}

/// Whether [`find`] found it (`404`: no such record). A `401` or throttling is the caller's
/// (it renews the token or waits) and answered as unavailable here; another 4xx is a refusal.
pub fn read_found(resp: &HttpResponse, now: Millis) -> Result<bool, CallFailure> {
    if resp.status == 404 {
        return Ok(false);
    }
    answered(resp, now, "inventoryAdjustment lookup")?;
    Ok(true)
}

/// An internal id as SuiteQL reads it: digits only (the id is put in the query's text).
fn internal_id(code: &str, what: &str) -> Result<u64, String> {
    code.parse::<u64>().map_err(|_| format!("NetSuite {what} code {code:?} is not an internal id (digits)"))
}

/// The on hand of `item` at `location` (their internal ids) summed over bins, lots and statuses.
pub fn on_hand_query(item: &str, location: &str) -> Result<String, String> {
    let item = internal_id(item, "item")?;
    let location = internal_id(location, "warehouse")?;
    Ok(format!(
        "SELECT SUM(quantityonhand) AS quantityonhand FROM inventorybalance WHERE item = {item} AND location = \
         {location}"
    ))
}

/// Reads [`on_hand_query`] (`Err`: a code that is not an internal id, refused before any call).
pub fn on_hand(token: &str, item: &str, location: &str) -> Result<HttpRequest, String> {
    Ok(HttpRequest::new(Method::Post, format!("{SUITEQL_PATH}?limit=1&offset=0"))
        .header("Authorization", bearer(token))
        .header("Prefer", "transient")
        .header("Content-Type", "application/json")
        .body(json!({ "q": on_hand_query(item, location)? }).to_string()))
}

/// The on hand [`on_hand`] answered: 0 when NetSuite has no balance there (no row, or the sum
/// absent or `null`).
pub fn read_on_hand(resp: &HttpResponse) -> Result<f64, String> {
    let page: Value = serde_json::from_str(&resp.body).map_err(|e| format!("SuiteQL answer unreadable: {e}"))?;
    let items = page.get("items").and_then(Value::as_array).ok_or("SuiteQL answer without items")?;
    Ok(items.first().and_then(|r| number(r.get("quantityonhand"))).unwrap_or(0.0))
}

/// Posts `a`.
pub fn create(token: &str, a: &Adjustment<'_>) -> HttpRequest {
    let mut body = json!({
        "externalId": a.external_id,
        "account": { "id": a.books.account },
        "adjLocation": { "id": a.location },
        "memo": a.memo.chars().take(MAX_MEMO).collect::<String>(),
        "inventory": { "items": [{
            "item": { "id": a.item },
            "location": { "id": a.location },
            "adjustQtyBy": a.delta,
        }] },
    });
    if let (Some(s), Some(obj)) = (&a.books.subsidiary, body.as_object_mut()) {
        obj.insert("subsidiary".into(), json!({ "id": s }));
    }
    HttpRequest::new(Method::Post, INVENTORY_ADJUSTMENT_PATH)
        .header("Authorization", bearer(token))
        .header("Content-Type", "application/json")
        .body(body.to_string())
}

/// What [`create`] answered: created, or [`Created::Exists`] (the `externalId` is taken: an
/// earlier attempt's adjustment went through).
pub fn read_create(resp: &HttpResponse, now: Millis) -> Result<Created, CallFailure> {
    read_created(resp, now, "inventoryAdjustment")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erp::connection::{ErpKind, LocalAdjustments};
    use crate::stock::Token;

    fn books() -> Books {
        Books { account: "540".into(), subsidiary: None }
    }

    #[test]
    fn external_ids_fit_netsuites_eid_alphabet() {
        let id = external_id(i64::MAX);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{id}");
        assert_eq!(external_id(42), "stockedge-adjustment-request-42");
        let q = find("tok", &external_id(42));
        assert_eq!(q.path, "/services/rest/record/v1/inventoryAdjustment/eid:stockedge-adjustment-request-42");
        assert_eq!(q.header_value("authorization"), Some("Bearer tok"));
    }

    #[test]
    fn a_lookup_reads_found_absent_or_why_not() {
        let t = Millis(0);
        assert_eq!(read_found(&HttpResponse::new(200, r#"{"id":"901","externalId":"x"}"#), t), Ok(true));
        let absent = r#"{"status":404,"o:errorDetails":[{"o:errorCode":"NONEXISTENT_ID"}]}"#;
        assert_eq!(read_found(&HttpResponse::new(404, absent), t), Ok(false));
        assert!(matches!(read_found(&HttpResponse::new(401, ""), t), Err(CallFailure::Unavailable(_))));
        assert!(matches!(read_found(&HttpResponse::new(503, ""), t), Err(CallFailure::Unavailable(_))));
        let limited = r#"{"o:errorDetails":[{"o:errorCode":"CONCURRENCY_LIMIT_EXCEEDED"}]}"#;
        assert!(matches!(read_found(&HttpResponse::new(429, limited), t), Err(CallFailure::Unavailable(_))));
        assert!(matches!(read_found(&HttpResponse::new(400, limited), t), Err(CallFailure::Unavailable(_))));
        assert!(matches!(read_found(&HttpResponse::new(403, ""), t), Err(CallFailure::Refused(_))));
    }

    #[test]
    fn on_hand_is_read_per_item_and_location_by_internal_id() {
        let req = on_hand("tok", "101", "7").expect("query");
        assert_eq!(req.path, "/services/rest/query/v1/suiteql?limit=1&offset=0");
        assert_eq!(req.header_value("prefer"), Some("transient"));
        let body: Value = serde_json::from_str(&req.body).expect("json");
        assert_eq!(
            body["q"],
            "SELECT SUM(quantityonhand) AS quantityonhand FROM inventorybalance WHERE item = 101 AND location = 7"
        );
        // A code is put in the query's text: only digits are.
        assert!(on_hand("tok", "101 OR 1=1", "7").is_err());
        assert!(on_hand("tok", "101", "A1").is_err());
        let row = |q: &str| HttpResponse::new(200, format!(r#"{{"count":1,"hasMore":false,"items":[{q}]}}"#));
        assert_eq!(read_on_hand(&row(r#"{"links":[],"quantityonhand":"12.5"}"#)), Ok(12.5));
        assert_eq!(read_on_hand(&row(r#"{"links":[]}"#)), Ok(0.0), "no balance: the sum is absent");
        assert_eq!(read_on_hand(&HttpResponse::new(200, r#"{"items":[]}"#)), Ok(0.0));
        assert!(read_on_hand(&HttpResponse::new(200, "{}")).is_err());
        assert!(read_on_hand(&HttpResponse::new(200, "<html>")).is_err());
    }

    #[test]
    fn an_adjustment_carries_its_external_id_account_location_and_delta() {
        let b = books();
        let a = Adjustment {
            external_id: "stockedge-adjustment-request-4",
            books: &b,
            item: "101",
            location: "1",
            delta: -2.0,
            memo: "StockEdge adjustment request 4: damaged",
        };
        let req = create("tok", &a);
        assert_eq!(req.path, INVENTORY_ADJUSTMENT_PATH);
        assert_eq!(
            serde_json::from_str::<Value>(&req.body).expect("json"),
            json!({"externalId":"stockedge-adjustment-request-4","account":{"id":"540"},"adjLocation":{"id":"1"},
                   "memo":"StockEdge adjustment request 4: damaged",
                   "inventory":{"items":[{"item":{"id":"101"},"location":{"id":"1"},"adjustQtyBy":-2.0}]}})
        );
        let with = Books { subsidiary: Some("3".into()), ..books() };
        let long = "m".repeat(MAX_MEMO + 10);
        let v: Value =
            serde_json::from_str(&create("tok", &Adjustment { books: &with, memo: &long, ..a }).body).expect("json");
        assert_eq!(v["subsidiary"], json!({"id":"3"}));
        assert_eq!(v["memo"].as_str().map(str::len), Some(MAX_MEMO));
    }

    #[test]
    fn a_create_answers_created_taken_or_why_not() {
        let t = Millis(0);
        let created = HttpResponse::new(204, "")
            .header("Location", "https://1.suitetalk.api.netsuite.com/services/rest/record/v1/inventoryAdjustment/901");
        assert_eq!(read_create(&created, t), Ok(Created::Id("901".into())));
        let dup =
            r#"{"status":400,"o:errorDetails":[{"detail":"This record already exists.","o:errorCode":"DUP_RCRD"}]}"#;
        assert_eq!(read_create(&HttpResponse::new(400, dup), t), Ok(Created::Exists));
        let limited = r#"{"o:errorDetails":[{"o:errorCode":"CONCURRENCY_LIMIT_EXCEEDED"}]}"#;
        assert!(matches!(read_create(&HttpResponse::new(429, limited), t), Err(CallFailure::Unavailable(_))));
        assert!(matches!(read_create(&HttpResponse::new(401, ""), t), Err(CallFailure::Unavailable(_))));
        assert!(matches!(read_create(&HttpResponse::new(204, ""), t), Err(CallFailure::Unavailable(_))));
        let bad = r#"{"o:errorDetails":[{"detail":"Invalid account reference key 9.","o:errorCode":"USER_ERROR"}]}"#;
        assert!(
            matches!(read_create(&HttpResponse::new(400, bad), t), Err(CallFailure::Refused(why)) if why.contains("account"))
        );
    }

    #[test]
    fn books_are_read_from_the_connection_settings() {
        let conn = |v: Value| Connection {
            id: Token::parse("ns").expect("token"),
            kind: ErpKind::Netsuite,
            base_url: "https://ns".into(),
            credentials_secret: None,
            settings: v.as_object().cloned().expect("object"),
            local_adjustments: LocalAdjustments::Forward,
            enabled: true,
        };
        assert_eq!(Books::of(&conn(json!({"adjustment_account": "540"}))), Ok(books()));
        assert_eq!(
            Books::of(&conn(json!({"adjustment_account": 540, "adjustment_subsidiary": 3}))),
            Ok(Books { account: "540".into(), subsidiary: Some("3".into()) })
        );
        for bad in [json!({}), json!({"adjustment_account": ""}), json!({"adjustment_account": 0})] {
            let why = Books::of(&conn(bad)).expect_err("no account");
            assert!(why.contains("settings.adjustment_account") && why.contains("ns"), "{why}");
        }
    }
}
