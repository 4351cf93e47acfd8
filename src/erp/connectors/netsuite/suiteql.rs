//! Stock from NetSuite as SuiteQL (`POST /services/rest/query/v1/suiteql?limit=N&offset=M`,
//! header `Prefer: transient`, body `{"q": "<query>"}`) over the `inventorybalance` table.
//!
//! The answer: `{"links": [{"rel": "next", "href": "…?limit=N&offset=M"}, …], "count",
//! "hasMore", "items": [{"links": [], "<column>": …}], "offset", "totalResults"}` — columns come
//! back lower-case and mostly as text. `limit` is 1 to 1,000.
//!
//! `inventorybalance` has one row per item, location, bin, lot/serial number and status; the
//! query sums them per item and location. The item and warehouse codes are NetSuite's internal
//! ids of the item and the location, as text. The table has no modification date, so every
//! stretch reads every balance (the poll's watermark records when the last full read began;
//! re-reading is harmless, docs/erp.md).

use serde_json::{json, Value};

use super::auth::bearer;
use super::number;
use crate::erp::connector;
use crate::erp::connectors::sap_b1::ItemsPage;
use crate::erp::mapping::ErpRow;
use crate::sync::{HttpRequest, HttpResponse, Method};

pub const SUITEQL_PATH: &str = "/services/rest/query/v1/suiteql";
/// Rows per page unless the connection's `settings.page_size` says otherwise (1 to
/// [`MAX_PAGE_SIZE`], NetSuite's own maximum).
pub const PAGE_SIZE: u32 = 1_000;
pub const MAX_PAGE_SIZE: u32 = 1_000;

/// The balances of every item at every location, summed over bins, lots and statuses, in a
/// stable order (paging needs one).
pub const BALANCES_QUERY: &str = "SELECT item, location, SUM(quantityonhand) AS quantityonhand, \
SUM(quantityavailable) AS quantityavailable FROM inventorybalance GROUP BY item, location ORDER BY item, location";

/// The page size of a connection's `settings.page_size`, else [`PAGE_SIZE`].
pub fn page_size(setting: Option<i64>) -> u32 {
    setting.and_then(|n| u32::try_from(n).ok()).filter(|n| (1..=MAX_PAGE_SIZE).contains(n)).unwrap_or(PAGE_SIZE)
}

/// The page of balances at `offset`.
pub fn balances(token: &str, offset: u64, limit: u32) -> HttpRequest {
    HttpRequest::new(Method::Post, format!("{SUITEQL_PATH}?limit={limit}&offset={offset}"))
        .header("Authorization", bearer(token))
        .header("Prefer", "transient")
        .header("Content-Type", "application/json")
        .body(json!({ "q": BALANCES_QUERY }).to_string())
}

/// The `offset` of the answer's `next` link, when it has one.
fn next_offset(page: &Value) -> Option<u64> {
    let links = page.get("links")?.as_array()?;
    let href = links.iter().find(|l| l.get("rel").and_then(Value::as_str) == Some("next"))?.get("href")?.as_str()?;
    let query = href.split_once('?')?.1;
    query.split('&').find_map(|p| p.strip_prefix("offset=")).and_then(|o| o.parse().ok())
}

/// A page of balances as rows (`quantityavailable` on the available basis, else
/// `quantityonhand` on the on-hand basis: `connector::netsuite`; fractions rounded down), and
/// the next offset while `hasMore`: the `next` link's, else `offset + limit`. A next offset that
/// does not move forward is refused (it would read the same page forever).
pub fn read_balances(resp: &HttpResponse, offset: u64, limit: u32) -> Result<ItemsPage, String> {
    let page: Value = serde_json::from_str(&resp.body).map_err(|e| format!("SuiteQL answer unreadable: {e}"))?;
    let items = page.get("items").and_then(Value::as_array).ok_or("SuiteQL answer without items")?;
    let mut rows = Vec::with_capacity(items.len());
    for r in items {
        let code = |k: &str| match r.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let (Some(item), Some(warehouse)) = (code("item"), code("location")) else {
            return Err("a balance without item or location".into());
        };
        let on_hand = number(r.get("quantityonhand")).map_or(0, |q| q.floor() as i64);
        let available = number(r.get("quantityavailable")).map(|q| q.floor() as i64);
        rows.push(ErpRow { item, warehouse, figure: connector::netsuite(on_hand, available) });
    }
    let next = match page.get("hasMore").and_then(Value::as_bool) {
        Some(true) => {
            let next = next_offset(&page).unwrap_or(offset.saturating_add(u64::from(limit)));
            if next <= offset {
                return Err(format!("SuiteQL next offset {next} does not move past {offset}"));
            }
            Some(next.to_string())
        }
        _ => None,
    };
    Ok(ItemsPage { rows, next })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erp::{Basis, Figure};

    #[test]
    fn balances_are_asked_transient_and_paged() {
        let req = balances("tok", 2_000, 1_000);
        assert_eq!(req.path, "/services/rest/query/v1/suiteql?limit=1000&offset=2000");
        assert_eq!(req.header_value("authorization"), Some("Bearer tok"));
        assert_eq!(req.header_value("prefer"), Some("transient"));
        let body: Value = serde_json::from_str(&req.body).expect("json");
        assert_eq!(body["q"], BALANCES_QUERY);
        assert!(BALANCES_QUERY.contains("FROM inventorybalance GROUP BY item, location ORDER BY item, location"));
        assert_eq!((page_size(Some(50)), page_size(Some(5_000)), page_size(None)), (50, PAGE_SIZE, PAGE_SIZE));
    }

    #[test]
    fn a_page_becomes_rows_and_the_next_offset() {
        let body = r#"{"links":[{"rel":"previous","href":"https://1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql?limit=2&offset=0"},
            {"rel":"next","href":"https://1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql?limit=2&offset=4"},
            {"rel":"self","href":"https://1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql?limit=2&offset=2"}],
            "count":2,"hasMore":true,"offset":2,"totalResults":5,"items":[
            {"links":[],"item":"101","location":"1","quantityonhand":"10","quantityavailable":"7.5"},
            {"links":[],"item":"102","location":"2","quantityonhand":"4"}]}"#;
        let page = read_balances(&HttpResponse::new(200, body), 2, 2).expect("page");
        assert_eq!(
            page.rows,
            vec![
                ErpRow {
                    item: "101".into(),
                    warehouse: "1".into(),
                    figure: Figure { basis: Basis::Available, quantity: 7 }
                },
                ErpRow {
                    item: "102".into(),
                    warehouse: "2".into(),
                    figure: Figure { basis: Basis::OnHand, quantity: 4 }
                },
            ]
        );
        assert_eq!(page.next.as_deref(), Some("4"));
    }

    #[test]
    fn the_last_page_ends_and_bad_pages_are_refused() {
        let last = r#"{"links":[],"count":1,"hasMore":false,"offset":4,"totalResults":5,"items":[{"item":7,"location":3,"quantityonhand":1,"quantityavailable":1}]}"#;
        let page = read_balances(&HttpResponse::new(200, last), 4, 2).expect("page");
        assert_eq!(page.next, None);
        assert_eq!((page.rows[0].item.as_str(), page.rows[0].warehouse.as_str()), ("7", "3"));
        let no_link = r#"{"hasMore":true,"items":[]}"#;
        assert_eq!(read_balances(&HttpResponse::new(200, no_link), 4, 2).expect("page").next.as_deref(), Some("6"));
        let backwards = r#"{"hasMore":true,"items":[],"links":[{"rel":"next","href":"x?limit=2&offset=0"}]}"#;
        assert!(read_balances(&HttpResponse::new(200, backwards), 4, 2).is_err());
        assert!(read_balances(&HttpResponse::new(200, r#"{"items":[{"item":"1"}]}"#), 0, 2).is_err());
        assert!(read_balances(&HttpResponse::new(200, "<html>"), 0, 2).is_err());
    }
}
