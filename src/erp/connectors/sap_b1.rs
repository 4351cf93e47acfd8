//! SAP Business One Service Layer (OData over HTTPS), requests and answers as values
//! (docs/erp.md, "SAP Business One"):
//! - `POST /b1s/v1/Login` `{"CompanyDB","UserName","Password"}` answers `SessionId` and the
//!   cookies `B1SESSION` and `ROUTEID` (the load balancer's node), both sent on every later call;
//!   a session times out after `SessionTimeout` minutes idle (30 by default) and the Service Layer
//!   then answers `401`: log in again.
//! - `GET /b1s/v1/Items?$select=ItemCode,ItemWarehouseInfoCollection&$filter=UpdateDate ge '…'`
//!   pages with `odata.nextLink` (`@odata.nextLink` on the OData v4 endpoint), a link relative to
//!   `/b1s/v1/` that carries `$skip`; the page size is asked with `Prefer: odata.maxpagesize=N`.
//!   Each item's warehouse rows carry `WarehouseCode`, `InStock`, `Committed`, `Ordered`.
//! - `POST /b1s/v1/Orders` `{"CardCode","DocDueDate","NumAtCard","DocumentLines":[{"ItemCode",
//!   "Quantity","WarehouseCode"}]}` answers `201` with the document (`DocEntry`, `DocNum`);
//!   `GET /b1s/v1/Orders?$filter=NumAtCard eq '…'` finds one already created (a retry after a
//!   lost answer); `POST /b1s/v1/Orders(<DocEntry>)/Cancel` cancels it.

use serde::Deserialize;
use serde_json::{json, Value};

use super::order::ErpOrder;
use crate::erp::connector;
use crate::erp::mapping::ErpRow;
use crate::sync::http::encode_component;
use crate::sync::{HttpRequest, HttpResponse, Method};
use crate::time::Millis;

/// The Service Layer's root.
pub const ROOT: &str = "/b1s/v1";
/// Items per page asked of the Service Layer (`Prefer: odata.maxpagesize`) unless the
/// connection's `settings.page_size` says otherwise (1 to [`MAX_PAGE_SIZE`]).
pub const PAGE_SIZE: u32 = 100;
pub const MAX_PAGE_SIZE: u32 = 1_000;

/// The page size of a connection's `settings.page_size`, else [`PAGE_SIZE`].
pub fn page_size(setting: Option<i64>) -> u32 {
    setting.and_then(|n| u32::try_from(n).ok()).filter(|n| (1..=MAX_PAGE_SIZE).contains(n)).unwrap_or(PAGE_SIZE)
}
/// The longest `NumAtCard` (the customer reference field) SAP B1 stores.
pub const MAX_NUM_AT_CARD: usize = 100;

/// The credentials secret: `{"CompanyDB": "...", "UserName": "...", "Password": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Credentials {
    #[serde(rename = "CompanyDB")]
    pub company_db: String,
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "Password")]
    pub password: String,
}

impl Credentials {
    pub fn parse(secret: &str) -> Result<Credentials, String> {
        serde_json::from_str(secret).map_err(|e| format!("not {{\"CompanyDB\",\"UserName\",\"Password\"}}: {e}"))
    }
}

/// A logged-in session: the `Cookie` header every call carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub cookie: String,
}

pub fn login(c: &Credentials) -> HttpRequest {
    let body = json!({ "CompanyDB": c.company_db, "UserName": c.user_name, "Password": c.password });
    HttpRequest::new(Method::Post, format!("{ROOT}/Login"))
        .header("Content-Type", "application/json")
        .body(body.to_string())
}

/// The value of cookie `name` in `Set-Cookie` text (several cookies may be folded into one
/// header, `, `-separated, as the Workers runtime reads them).
fn cookie(set_cookie: &str, name: &str) -> Option<String> {
    let at = set_cookie.match_indices(&format!("{name}=")).find(|(i, _)| {
        *i == 0 || set_cookie[..*i].trim_end().ends_with(',') || set_cookie[..*i].trim_end().ends_with(';')
    })?;
    let rest = &set_cookie[at.0 + name.len() + 1..];
    let end = rest.find([';', ',']).unwrap_or(rest.len());
    Some(rest[..end].trim().to_owned()).filter(|v| !v.is_empty())
}

/// The session of a successful login: `B1SESSION` from its cookie (else the body's
/// `SessionId`) and `ROUTEID` when the Service Layer runs behind its load balancer.
pub fn read_login(resp: &HttpResponse) -> Result<Session, String> {
    if !resp.is_success() {
        return Err(format!("login refused: {} {}", resp.status, resp.body.chars().take(200).collect::<String>()));
    }
    let set_cookie: Vec<&str> =
        resp.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie")).map(|(_, v)| v.as_str()).collect();
    let all = set_cookie.join(", ");
    let session = cookie(&all, "B1SESSION")
        .or_else(|| resp.json().and_then(|b| b.get("SessionId").and_then(Value::as_str).map(str::to_owned)))
        .ok_or("login answered without B1SESSION")?;
    let mut header = format!("B1SESSION={session}");
    if let Some(route) = cookie(&all, "ROUTEID") {
        header.push_str(&format!("; ROUTEID={route}"));
    }
    Ok(Session { cookie: header })
}

/// The first page of items changed since `since` (all items when `None`), or the page `cursor`
/// (a next link) names.
pub fn items(
    session: &Session,
    since: Option<Millis>,
    cursor: Option<&str>,
    page_size: u32,
) -> Result<HttpRequest, String> {
    let path = match cursor {
        Some(link) => next_path(link)?,
        None => {
            let mut p = format!("{ROOT}/Items?$select=ItemCode,ItemWarehouseInfoCollection&$orderby=ItemCode");
            if let Some(t) = since {
                p.push_str(&format!("&$filter={}", encode_component(&format!("UpdateDate ge '{}'", t.date()))));
            }
            p
        }
    };
    Ok(HttpRequest::new(Method::Get, path)
        .header("Cookie", session.cookie.as_str())
        .header("Prefer", format!("odata.maxpagesize={page_size}")))
}

/// The path of a next link: relative to the root (`Items?…&$skip=100`), or absolute on the same
/// root. A link to another host is refused (the session cookie must not leave the ERP).
fn next_path(link: &str) -> Result<String, String> {
    if link.contains("://") {
        return Err(format!("next link {link:?} is absolute"));
    }
    Ok(match link.strip_prefix('/') {
        Some(_) if link.starts_with(ROOT) => link.to_owned(),
        Some(_) => return Err(format!("next link {link:?} is outside {ROOT}")),
        None => format!("{ROOT}/{link}"),
    })
}

/// One page of items: each warehouse row as an [`ErpRow`] (available = `InStock − Committed`,
/// `connector::sap_b1`; fractional quantities are rounded down), and the next link if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemsPage {
    pub rows: Vec<ErpRow>,
    pub next: Option<String>,
}

#[derive(Deserialize)]
struct WarehouseRow {
    #[serde(rename = "WarehouseCode")]
    warehouse: String,
    #[serde(rename = "InStock", default)]
    in_stock: f64,
    #[serde(rename = "Committed", default)]
    committed: f64,
}

#[derive(Deserialize)]
struct Item {
    #[serde(rename = "ItemCode")]
    code: String,
    #[serde(rename = "ItemWarehouseInfoCollection", default)]
    warehouses: Vec<WarehouseRow>,
}

#[derive(Deserialize)]
struct Page {
    value: Vec<Item>,
    #[serde(rename = "odata.nextLink", default)]
    next_v3: Option<String>,
    #[serde(rename = "@odata.nextLink", default)]
    next_v4: Option<String>,
}

pub fn read_items(resp: &HttpResponse) -> Result<ItemsPage, String> {
    let page: Page = serde_json::from_str(&resp.body).map_err(|e| format!("Items page unreadable: {e}"))?;
    let rows = page
        .value
        .into_iter()
        .flat_map(|item| {
            item.warehouses.into_iter().map(move |w| ErpRow {
                item: item.code.clone(),
                warehouse: w.warehouse,
                figure: connector::sap_b1(w.in_stock.floor() as i64, w.committed.ceil() as i64),
            })
        })
        .collect();
    Ok(ItemsPage { rows, next: page.next_v3.or(page.next_v4).filter(|l| !l.is_empty()) })
}

/// `'` doubled, as OData string literals want.
pub(super) fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Finds the order already created under `reference` (a retry after a lost answer).
pub fn find_order(session: &Session, reference: &str) -> HttpRequest {
    let filter = encode_component(&format!("NumAtCard eq {}", literal(reference)));
    HttpRequest::new(Method::Get, format!("{ROOT}/Orders?$select=DocEntry,DocNum,Cancelled&$filter={filter}"))
        .header("Cookie", session.cookie.as_str())
}

/// An order [`find_order`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    pub doc_entry: i64,
    /// `Cancelled` is `tYES`.
    pub cancelled: bool,
}

/// The order [`find_order`] found, `None` when there is none.
pub fn read_found(resp: &HttpResponse) -> Result<Option<Found>, String> {
    let v = resp.json().ok_or("Orders lookup unreadable")?;
    let rows = v.get("value").and_then(Value::as_array).ok_or("Orders lookup without value")?;
    Ok(rows.first().and_then(|r| {
        let doc_entry = r.get("DocEntry").and_then(Value::as_i64)?;
        Some(Found { doc_entry, cancelled: r.get("Cancelled").and_then(Value::as_str) == Some("tYES") })
    }))
}

/// Creates `order` for business partner `card_code`.
pub fn create_order(session: &Session, card_code: &str, order: &ErpOrder) -> Result<HttpRequest, String> {
    if order.reference.chars().count() > MAX_NUM_AT_CARD {
        return Err(format!("order reference longer than {MAX_NUM_AT_CARD} characters (NumAtCard)"));
    }
    let lines: Vec<Value> = order
        .lines
        .iter()
        .map(|l| json!({ "ItemCode": l.item, "Quantity": l.quantity, "WarehouseCode": l.warehouse }))
        .collect();
    let body = json!({
        "CardCode": card_code,
        "DocDueDate": order.due,
        "NumAtCard": order.reference,
        "DocumentLines": lines,
    });
    Ok(HttpRequest::new(Method::Post, format!("{ROOT}/Orders"))
        .header("Cookie", session.cookie.as_str())
        .header("Content-Type", "application/json")
        .body(body.to_string()))
}

/// The `DocEntry` of a created order.
pub fn read_created(resp: &HttpResponse) -> Result<i64, String> {
    resp.json()
        .and_then(|v| v.get("DocEntry").and_then(Value::as_i64))
        .ok_or_else(|| "order created without DocEntry".into())
}

/// Cancels the order `doc_entry`.
pub fn cancel_order(session: &Session, doc_entry: i64) -> HttpRequest {
    HttpRequest::new(Method::Post, format!("{ROOT}/Orders({doc_entry})/Cancel"))
        .header("Cookie", session.cookie.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erp::connectors::order::ErpOrderLine;
    use crate::erp::{Basis, Figure};

    fn session() -> Session {
        Session { cookie: "B1SESSION=abc; ROUTEID=.node1".into() }
    }

    #[test]
    fn login_body_and_cookies() {
        let c = Credentials::parse(r#"{"CompanyDB":"SBODEMOUS","UserName":"manager","Password":"p"}"#).expect("creds");
        let req = login(&c);
        assert_eq!(req.path, "/b1s/v1/Login");
        assert_eq!(
            serde_json::from_str::<Value>(&req.body).expect("json"),
            json!({"CompanyDB":"SBODEMOUS","UserName":"manager","Password":"p"})
        );
        let resp = HttpResponse::new(200, r#"{"SessionId":"abc","Version":"1000190","SessionTimeout":30}"#)
            .header("Set-Cookie", "B1SESSION=abc; path=/b1s/v1; Secure; HttpOnly, ROUTEID=.node1; path=/b1s");
        assert_eq!(read_login(&resp).expect("session"), session());
        let body_only = HttpResponse::new(200, r#"{"SessionId":"xyz","SessionTimeout":30}"#);
        assert_eq!(read_login(&body_only).expect("session").cookie, "B1SESSION=xyz");
        assert!(read_login(&HttpResponse::new(401, r#"{"error":{"code":-304}}"#)).is_err());
        assert!(Credentials::parse("manager:p").is_err());
    }

    #[test]
    fn items_requests_filter_by_date_and_follow_next_links() {
        let first = items(&session(), Some(Millis(1_796_558_400_000)), None, PAGE_SIZE).expect("req");
        assert_eq!(
            first.path,
            "/b1s/v1/Items?$select=ItemCode,ItemWarehouseInfoCollection&$orderby=ItemCode&$filter=UpdateDate%20ge%20%272026-12-06%27"
        );
        assert_eq!(first.header_value("cookie"), Some("B1SESSION=abc; ROUTEID=.node1"));
        assert_eq!(first.header_value("prefer"), Some("odata.maxpagesize=100"));
        let all = items(&session(), None, None, 7).expect("req");
        assert!(!all.path.contains("$filter"));
        assert_eq!(all.header_value("prefer"), Some("odata.maxpagesize=7"));
        assert_eq!((page_size(Some(20)), page_size(Some(0)), page_size(None)), (20, PAGE_SIZE, PAGE_SIZE));
        let next = items(&session(), None, Some("Items?$select=ItemCode&$skip=100"), PAGE_SIZE).expect("req");
        assert_eq!(next.path, "/b1s/v1/Items?$select=ItemCode&$skip=100");
        assert!(items(&session(), None, Some("https://evil.example/b1s/v1/Items"), PAGE_SIZE).is_err());
        assert!(items(&session(), None, Some("/other/Items"), PAGE_SIZE).is_err());
    }

    #[test]
    fn items_page_becomes_rows_after_commitments() {
        let body = r#"{"odata.metadata":"$metadata#Items","value":[
            {"ItemCode":"A100","ItemWarehouseInfoCollection":[
                {"WarehouseCode":"01","InStock":10.0,"Committed":3.0,"Ordered":50.0},
                {"WarehouseCode":"02","InStock":2.5,"Committed":0.0,"Ordered":0.0}]},
            {"ItemCode":"B200","ItemWarehouseInfoCollection":[]}],
            "odata.nextLink":"Items?$select=ItemCode,ItemWarehouseInfoCollection&$skip=100"}"#;
        let page = read_items(&HttpResponse::new(200, body)).expect("page");
        let avail = |q| Figure { basis: Basis::Available, quantity: q };
        assert_eq!(
            page.rows,
            vec![
                ErpRow { item: "A100".into(), warehouse: "01".into(), figure: avail(7) },
                ErpRow { item: "A100".into(), warehouse: "02".into(), figure: avail(2) },
            ]
        );
        assert_eq!(page.next.as_deref(), Some("Items?$select=ItemCode,ItemWarehouseInfoCollection&$skip=100"));
        let v4 = read_items(&HttpResponse::new(200, r#"{"value":[],"@odata.nextLink":"Items?$skip=5"}"#)).expect("p");
        assert_eq!(v4.next.as_deref(), Some("Items?$skip=5"));
        assert!(read_items(&HttpResponse::new(200, "<html>")).is_err());
    }

    #[test]
    fn orders_are_found_by_reference_before_being_created() {
        let q = find_order(&session(), "web/O'1");
        assert_eq!(
            q.path,
            "/b1s/v1/Orders?$select=DocEntry,DocNum,Cancelled&$filter=NumAtCard%20eq%20%27web%2FO%27%271%27"
        );
        let found = |doc_entry, cancelled| Ok(Some(Found { doc_entry, cancelled }));
        assert_eq!(read_found(&HttpResponse::new(200, r#"{"value":[{"DocEntry":42,"DocNum":7}]}"#)), found(42, false));
        let gone = r#"{"value":[{"DocEntry":42,"DocNum":7,"Cancelled":"tYES"}]}"#;
        assert_eq!(read_found(&HttpResponse::new(200, gone)), found(42, true));
        assert_eq!(read_found(&HttpResponse::new(200, r#"{"value":[]}"#)), Ok(None));
        let order = ErpOrder {
            reference: "web/1001".into(),
            due: "2026-12-06".into(),
            lines: vec![ErpOrderLine { item: "A100".into(), warehouse: "01".into(), quantity: 2 }],
        };
        let req = create_order(&session(), "C20000", &order).expect("req");
        assert_eq!(req.path, "/b1s/v1/Orders");
        assert_eq!(
            serde_json::from_str::<Value>(&req.body).expect("json"),
            json!({"CardCode":"C20000","DocDueDate":"2026-12-06","NumAtCard":"web/1001",
                   "DocumentLines":[{"ItemCode":"A100","Quantity":2,"WarehouseCode":"01"}]})
        );
        assert_eq!(read_created(&HttpResponse::new(201, r#"{"DocEntry":43,"DocNum":8}"#)), Ok(43));
        let long = ErpOrder { reference: "x".repeat(101), ..order };
        assert!(create_order(&session(), "C20000", &long).is_err());
        assert_eq!(cancel_order(&session(), 43).path, "/b1s/v1/Orders(43)/Cancel");
    }
}
