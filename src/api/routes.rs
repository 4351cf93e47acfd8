//! The route table: which paths exist and which methods they take. What each route needs of its
//! caller is the permission table, `access::permissions`.

use super::import_mappings::MappingRoute;
use super::problem::{Kind, Problem};
use super::requests::{sku_in_path, token_in_path};
use crate::catalog::model::ChannelKind;
use crate::channels::WebhookVerify;
use crate::stock::{Sku, Token};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Health,
    OpenApi,
    ProblemPage(Kind),
    Availability,
    GetSku(Sku),
    PutStock(Sku),
    Adjust(Sku),
    Journal(Sku),
    /// `PUT /v1/skus/{sku}/policy`: make a SKU hot (flash-sale allotments) or ordinary.
    SkuPolicy(Sku),
    /// `GET /v1/skus/{sku}/policy`: whether a SKU is hot, by whose decision, and how it lends.
    GetSkuPolicy(Sku),
    CreateReservation,
    GetReservation(Token),
    CommitReservation(Token),
    ReleaseReservation(Token),
    ExtendReservation(Token),
    Sales,
    CancelSale {
        channel: Token,
        order_id: Token,
    },
    Fulfilments,
    /// `POST /v1/imports`: a stock file.
    Import,
    /// `GET /v1/imports/{id}`: an import job's progress and report.
    ImportJob(Token),
    /// `GET /v1/exports`: current stock as a file.
    Export,
    /// `/v1/import-mappings[/{name}]`: saved column mappings (admin).
    ImportMappings(MappingRoute),
    /// `GET /v1/sync/status`: per listing, what it last received and what is pending.
    SyncStatus,
    /// `GET /v1/sync/failures`: pushes that failed for good.
    SyncFailures,
    /// `POST /v1/sync/failures/{id}/retry`.
    RetryFailure(i64),
    /// Products, locations, channels and listings (admin).
    Catalog(super::catalog_routes::CatalogRoute),
    /// `POST /v1/webhooks/{shopify|woocommerce|amazon|ebay}`: a platform-signed delivery (no
    /// bearer token; the signature is checked instead).
    Webhook(ChannelKind),
    /// `GET /v1/webhooks/ebay?challenge_code=`: eBay's endpoint validation (public).
    EbayChallenge,
    /// `GET /v1/inbound/unmatched`: inbound order lines that map to no listing.
    Unmatched,
    /// `GET /v1/inbound/drift`: levels a platform reported that StockEdge did not push.
    Drift,
    /// `GET /v1/inbound/polls`: where each channel's order-feed poll stands.
    Polls,
    /// `POST /v1/inbound/polls/run`: poll the order feeds now.
    RunPolls,
    /// `GET /v1/alerts`: alerts raised by changes that oversold a SKU, oldest first.
    Alerts,
    /// `POST /v1/alerts/{id}/acknowledge`.
    AcknowledgeAlert(i64),
    /// `GET /v1/metrics`: the isolate's counters, Prometheus text (admin).
    Metrics,
    /// `POST /v1/reconciliation/run`: read every listing's live quantity from its channel now.
    RunReconciliation,
    /// `GET /v1/reconciliation`: the latest read of each listing, drift included.
    Reconciliation,
    /// `POST /v1/reconciliation/repair`: push the intended quantity to a channel's drifted listings.
    RepairReconciliation,
    /// `POST /v1/erp/snapshots`: apply an ERP's stock snapshot (docs/erp.md).
    ErpSnapshots,
    /// `GET /v1/overview`: what needs attention, counted, and each channel's sync health.
    Overview,
    /// `GET /v1/skus/{sku}/listings`: the SKU's listings with intended and last pushed quantities.
    SkuListings(Sku),
    /// `POST /v1/inbound/unmatched/{id}/map`: list the SKU under the line's identity, apply the
    /// line once.
    MapUnmatched(i64),
    /// `POST /v1/sync/failures/retry?channel=`: retry every open failure of a channel.
    RetryChannelFailures,
    /// `POST /v1/listings/preview`: what a channel's listings would show under a proposed rule.
    PreviewListings,
    /// `GET /v1/alert-destinations`: where alert messages go.
    AlertDestinations,
    /// `PUT /v1/alert-destinations/{id}`: create or replace one.
    PutAlertDestination(Token),
    /// `DELETE /v1/alert-destinations/{id}`.
    DeleteAlertDestination(Token),
    /// `PUT /v1/skus/{sku}/alerting`: the SKU's low-stock threshold.
    SkuAlerting(Sku),
    /// `POST /v1/edi/850?channel=`: a trading partner's X12 850 purchase orders (no bearer
    /// token: the partner's own credentials are checked instead).
    Edi850,
    /// ERP connections, mappings, unmapped rows and stock polls (`erp_routes`).
    Erp(super::erp_routes::ErpRoute),
    /// `POST /v1/erp/connections/{id}/snapshots`: a webhook ERP's snapshot, signed with its
    /// connection's secret (no bearer token: the signature is checked instead).
    ErpSignedSnapshots(Token),
}

/// Path segments arrive percent-encoded (a SKU may contain `/`, sent as `%2F`).
fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

fn method_not_allowed(allow: &str) -> Problem {
    Problem::new(Kind::MethodNotAllowed, format!("this path takes {allow}")).with("allow", allow)
}

/// A numeric id in a path (sync failures, alerts): a positive integer, else `422` naming `id`.
fn positive_id(raw: &str) -> Result<i64, Problem> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| Problem::invalid(vec![super::problem::FieldError::new("id", "must be a positive integer")]))
}

/// Whether `path` is one of the public pages (no token needed, whatever the method), or a
/// webhook path (platform-signed: the signature is checked instead of a token).
pub fn is_public(path: &str) -> bool {
    let p = path.trim_end_matches('/');
    p == "/healthz"
        || p == "/v1/openapi.json"
        || p.starts_with("/problems/")
        || p.starts_with("/v1/webhooks/")
        || p == "/v1/edi/850"
        || is_signed_snapshot_path(p)
}

/// `/v1/erp/connections/{id}/snapshots`: a webhook ERP's signed snapshots.
fn is_signed_snapshot_path(p: &str) -> bool {
    p.strip_prefix("/v1/erp/connections/")
        .and_then(|rest| rest.strip_suffix("/snapshots"))
        .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// Resolves `method path` to a route, or to the problem to answer with.
pub fn resolve(method: &str, path: &str) -> Result<Route, Problem> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let m = method;
    let only = |want: &str, route: Result<Route, Problem>| -> Result<Route, Problem> {
        if m == want || (want == "GET" && m == "HEAD") {
            route
        } else {
            Err(method_not_allowed(want))
        }
    };
    match segs.as_slice() {
        ["healthz"] => only("GET", Ok(Route::Health)),
        ["v1", "openapi.json"] => only("GET", Ok(Route::OpenApi)),
        ["problems", slug] => match Kind::from_slug(slug) {
            Some(k) => only("GET", Ok(Route::ProblemPage(k))),
            None => Err(Problem::new(Kind::NotFound, format!("no problem type {slug:?}"))),
        },
        ["v1", "availability"] => only("GET", Ok(Route::Availability)),
        ["v1", "skus", sku] => only("GET", sku_in_path(&decode(sku)).map(Route::GetSku)),
        ["v1", "skus", sku, "stock"] => only("PUT", sku_in_path(&decode(sku)).map(Route::PutStock)),
        ["v1", "skus", sku, "adjustments"] => only("POST", sku_in_path(&decode(sku)).map(Route::Adjust)),
        ["v1", "skus", sku, "journal"] => only("GET", sku_in_path(&decode(sku)).map(Route::Journal)),
        ["v1", "skus", sku, "policy"] => {
            let sku = sku_in_path(&decode(sku));
            match m {
                "PUT" => only("PUT", sku.map(Route::SkuPolicy)),
                "GET" | "HEAD" => only("GET", sku.map(Route::GetSkuPolicy)),
                _ => Err(method_not_allowed("GET, PUT")),
            }
        }
        ["v1", "skus", sku, "listings"] => only("GET", sku_in_path(&decode(sku)).map(Route::SkuListings)),
        ["v1", "overview"] => only("GET", Ok(Route::Overview)),
        ["v1", "listings", "preview"] => only("POST", Ok(Route::PreviewListings)),
        ["v1", "skus", sku, "alerting"] => only("PUT", sku_in_path(&decode(sku)).map(Route::SkuAlerting)),
        ["v1", "reservations"] => only("POST", Ok(Route::CreateReservation)),
        ["v1", "reservations", id] => only("GET", token_in_path("id", &decode(id)).map(Route::GetReservation)),
        ["v1", "reservations", id, action] => {
            let id = token_in_path("id", &decode(id));
            match *action {
                "commit" => only("POST", id.map(Route::CommitReservation)),
                "release" => only("POST", id.map(Route::ReleaseReservation)),
                "extend" => only("POST", id.map(Route::ExtendReservation)),
                _ => Err(Problem::new(Kind::NotFound, format!("no route {path}"))),
            }
        }
        ["v1", "sales"] => only("POST", Ok(Route::Sales)),
        ["v1", "sales", channel, order_id, "cancel"] => only("POST", {
            match (token_in_path("channel", &decode(channel)), token_in_path("order_id", &decode(order_id))) {
                (Ok(channel), Ok(order_id)) => Ok(Route::CancelSale { channel, order_id }),
                (Err(p), _) | (_, Err(p)) => Err(p),
            }
        }),
        ["v1", "fulfilments"] => only("POST", Ok(Route::Fulfilments)),
        ["v1", "imports"] => only("POST", Ok(Route::Import)),
        ["v1", "imports", id] => only("GET", token_in_path("id", &decode(id)).map(Route::ImportJob)),
        ["v1", "exports"] => only("GET", Ok(Route::Export)),
        // Saved column mappings.
        ["v1", "import-mappings"] => only("GET", Ok(Route::ImportMappings(MappingRoute::List))),
        ["v1", "import-mappings", name] => {
            let name = token_in_path("name", &decode(name));
            match m {
                "PUT" => only("PUT", name.map(|n| Route::ImportMappings(MappingRoute::Put(n)))),
                "DELETE" => only("DELETE", name.map(|n| Route::ImportMappings(MappingRoute::Delete(n)))),
                "GET" | "HEAD" => only("GET", name.map(|n| Route::ImportMappings(MappingRoute::Get(n)))),
                _ => Err(method_not_allowed("GET, PUT, DELETE")),
            }
        }
        ["v1", "sync", "status"] => only("GET", Ok(Route::SyncStatus)),
        ["v1", "sync", "failures"] => only("GET", Ok(Route::SyncFailures)),
        ["v1", "sync", "failures", "retry"] => only("POST", Ok(Route::RetryChannelFailures)),
        ["v1", "sync", "failures", id, "retry"] => only("POST", positive_id(id).map(Route::RetryFailure)),
        ["v1", "webhooks", route] => match crate::channels::by_webhook_route(route) {
            // eBay validates the endpoint with a GET (`challenge_code`) and POSTs notifications.
            Some((_, w)) if matches!(w.verify, WebhookVerify::EbayKeys) && (m == "GET" || m == "HEAD") => {
                only("GET", Ok(Route::EbayChallenge))
            }
            Some((_, w)) if matches!(w.verify, WebhookVerify::EbayKeys) && m != "POST" => {
                Err(method_not_allowed("GET, POST"))
            }
            Some((kind, _)) => only("POST", Ok(Route::Webhook(kind))),
            None => Err(Problem::new(Kind::NotFound, format!("no route {path}"))),
        },
        // Wholesale purchase orders (X12 850).
        ["v1", "edi", "850"] => only("POST", Ok(Route::Edi850)),
        ["v1", "inbound", "unmatched"] => only("GET", Ok(Route::Unmatched)),
        ["v1", "inbound", "unmatched", id, "map"] => only("POST", positive_id(id).map(Route::MapUnmatched)),
        ["v1", "inbound", "drift"] => only("GET", Ok(Route::Drift)),
        ["v1", "inbound", "polls"] => only("GET", Ok(Route::Polls)),
        ["v1", "inbound", "polls", "run"] => only("POST", Ok(Route::RunPolls)),
        ["v1", "alerts"] => only("GET", Ok(Route::Alerts)),
        ["v1", "reconciliation"] => only("GET", Ok(Route::Reconciliation)),
        ["v1", "reconciliation", "run"] => only("POST", Ok(Route::RunReconciliation)),
        ["v1", "reconciliation", "repair"] => only("POST", Ok(Route::RepairReconciliation)),
        ["v1", "metrics"] => only("GET", Ok(Route::Metrics)),
        ["v1", "erp", "snapshots"] => only("POST", Ok(Route::ErpSnapshots)),
        ["v1", "erp", "connections", id, "snapshots"] => {
            only("POST", token_in_path("id", &decode(id)).map(Route::ErpSignedSnapshots))
        }
        ["v1", "erp", rest @ ..] => {
            let decoded: Vec<String> = rest.iter().map(|s| decode(s)).collect();
            let refs: Vec<&str> = decoded.iter().map(String::as_str).collect();
            match super::erp_routes::resolve(m, &refs) {
                Some(route) => route.map(Route::Erp),
                None => Err(Problem::new(Kind::NotFound, format!("no route {path}"))),
            }
        }
        ["v1", "alerts", id, "acknowledge"] => only("POST", positive_id(id).map(Route::AcknowledgeAlert)),
        ["v1", "alert-destinations"] => only("GET", Ok(Route::AlertDestinations)),
        ["v1", "alert-destinations", id] => {
            let id = token_in_path("id", &decode(id));
            match m {
                "PUT" => only("PUT", id.map(Route::PutAlertDestination)),
                "DELETE" => only("DELETE", id.map(Route::DeleteAlertDestination)),
                _ => Err(method_not_allowed("PUT, DELETE")),
            }
        }
        ["v1", "products" | "locations" | "channels", ..] => {
            let decoded: Vec<String> = segs[1..].iter().map(|s| decode(s)).collect();
            let refs: Vec<&str> = decoded.iter().map(String::as_str).collect();
            super::catalog_routes::resolve(m, &refs).map(Route::Catalog)
        }
        _ => Err(Problem::new(Kind::NotFound, format!("no route {path}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{need, Need};

    #[test]
    fn resolves_routes_and_roles() {
        assert_eq!(resolve("GET", "/healthz"), Ok(Route::Health));
        let r = resolve("PUT", "/v1/skus/TEE-1/stock").expect("route");
        assert_eq!(need(&r), Need::Admin);
        assert_eq!(resolve("POST", "/v1/reservations").map(|r| need(&r)), Ok(Need::Storefront));
    }

    #[test]
    fn percent_encoded_sku_with_slash() {
        assert_eq!(resolve("GET", "/v1/skus/A%2FB"), Ok(Route::GetSku(Sku::parse("A/B").expect("sku"))));
    }

    #[test]
    fn unknown_paths_wrong_methods_and_bad_skus() {
        assert_eq!(resolve("GET", "/nope").map_err(|p| p.kind), Err(Kind::NotFound));
        assert_eq!(resolve("DELETE", "/v1/reservations").map_err(|p| p.kind), Err(Kind::MethodNotAllowed));
        assert_eq!(resolve("GET", "/v1/skus/bad%20sku").map_err(|p| p.kind), Err(Kind::ValidationFailed));
    }

    #[test]
    fn webhooks_are_public_and_post_only() {
        for (name, kind) in [
            ("shopify", ChannelKind::Shopify),
            ("woocommerce", ChannelKind::Woocommerce),
            ("amazon", ChannelKind::Amazon),
            ("ebay", ChannelKind::Ebay),
        ] {
            let path = format!("/v1/webhooks/{name}");
            let r = resolve("POST", &path).expect("route");
            assert_eq!(r, Route::Webhook(kind));
            assert_eq!(need(&r), Need::Public);
            assert!(is_public(&path));
            if kind != ChannelKind::Ebay {
                assert_eq!(resolve("GET", &path).map_err(|p| p.kind), Err(Kind::MethodNotAllowed));
            }
        }
        // eBay validates the endpoint with a GET carrying `challenge_code`.
        assert_eq!(resolve("GET", "/v1/webhooks/ebay").map(|r| need(&r)), Ok(Need::Public));
        assert_eq!(resolve("PUT", "/v1/webhooks/ebay").map_err(|p| p.kind), Err(Kind::MethodNotAllowed));
        for (m, path) in [("GET", "/v1/inbound/drift"), ("GET", "/v1/inbound/polls"), ("POST", "/v1/inbound/polls/run")]
        {
            assert_eq!(
                resolve(m, path).map(|r| need(&r)),
                Ok(if m == "GET" { Need::Read } else { Need::Admin }),
                "{m} {path}"
            );
            assert!(!is_public(path));
        }
        assert_eq!(resolve("GET", "/v1/inbound/polls/run").map_err(|p| p.kind), Err(Kind::MethodNotAllowed));
        assert_eq!(resolve("POST", "/v1/webhooks/etsy").map_err(|p| p.kind), Err(Kind::NotFound));
        assert_eq!(resolve("GET", "/v1/inbound/unmatched").map(|r| need(&r)), Ok(Need::Read));
        assert!(!is_public("/v1/inbound/unmatched"));
    }

    #[test]
    fn signed_erp_snapshots_are_public_and_post_only() {
        let path = "/v1/erp/connections/hook/snapshots";
        let r = resolve("POST", path).expect("route");
        assert_eq!(r, Route::ErpSignedSnapshots(Token::parse("hook").expect("token")));
        assert_eq!(need(&r), Need::Public);
        assert!(is_public(path));
        assert_eq!(resolve("GET", path).map_err(|p| p.kind), Err(Kind::MethodNotAllowed));
        assert_eq!(
            resolve("POST", "/v1/erp/connections/a%20b/snapshots").map_err(|p| p.kind),
            Err(Kind::ValidationFailed)
        );
        assert_eq!(resolve("POST", "/v1/erp/snapshots").map(|r| need(&r)), Ok(Need::Admin));
        for other in ["/v1/erp/connections/hook", "/v1/erp/connections/hook/mappings", "/v1/erp/connections//snapshots"]
        {
            assert!(!is_public(other), "{other}");
        }
    }

    #[test]
    fn edi_850_is_public_and_post_only() {
        assert_eq!(resolve("POST", "/v1/edi/850").map(|r| need(&r)), Ok(Need::Public));
        assert!(is_public("/v1/edi/850"));
        assert_eq!(resolve("GET", "/v1/edi/850").map_err(|p| p.kind), Err(Kind::MethodNotAllowed));
        assert!(!is_public("/v1/edi/846"));
    }

    #[test]
    fn import_mappings_are_admin_routes() {
        assert_eq!(resolve("GET", "/v1/import-mappings"), Ok(Route::ImportMappings(MappingRoute::List)));
        let put = resolve("PUT", "/v1/import-mappings/erp").expect("route");
        assert!(matches!(put, Route::ImportMappings(MappingRoute::Put(_))));
        assert_eq!(need(&put), Need::Admin);
        assert!(matches!(
            resolve("DELETE", "/v1/import-mappings/erp"),
            Ok(Route::ImportMappings(MappingRoute::Delete(_)))
        ));
        assert!(matches!(resolve("HEAD", "/v1/import-mappings/erp"), Ok(Route::ImportMappings(MappingRoute::Get(_)))));
        assert_eq!(resolve("POST", "/v1/import-mappings/erp").map_err(|p| p.kind), Err(Kind::MethodNotAllowed));
        assert_eq!(resolve("PUT", "/v1/import-mappings").map_err(|p| p.kind), Err(Kind::MethodNotAllowed));
        assert_eq!(resolve("PUT", "/v1/import-mappings/bad%20name").map_err(|p| p.kind), Err(Kind::ValidationFailed));
    }

    #[test]
    fn alerts_are_admin_routes() {
        assert_eq!(resolve("GET", "/v1/alerts"), Ok(Route::Alerts));
        assert_eq!(resolve("GET", "/v1/alerts/").map(|r| need(&r)), Ok(Need::Read));
        assert_eq!(resolve("POST", "/v1/alerts").map_err(|p| p.kind), Err(Kind::MethodNotAllowed));
        let ack = resolve("POST", "/v1/alerts/42/acknowledge");
        assert_eq!(ack, Ok(Route::AcknowledgeAlert(42)));
        assert_eq!(ack.map(|r| need(&r)), Ok(Need::Admin));
        assert_eq!(resolve("GET", "/v1/alerts/42/acknowledge").map_err(|p| p.kind), Err(Kind::MethodNotAllowed));
        for bad in ["0", "-1", "x", "1.5"] {
            let path = format!("/v1/alerts/{bad}/acknowledge");
            assert_eq!(resolve("POST", &path).map_err(|p| p.kind), Err(Kind::ValidationFailed), "{path}");
        }
        assert_eq!(resolve("POST", "/v1/alerts/1/close").map_err(|p| p.kind), Err(Kind::NotFound));
        assert!(!is_public("/v1/alerts"));
    }

    #[test]
    fn operator_routes_are_admin_and_take_one_method() {
        let cases = [
            ("GET", "/v1/overview", Route::Overview),
            ("GET", "/v1/skus/A%2FB/listings", Route::SkuListings(Sku::parse("A/B").expect("sku"))),
            ("POST", "/v1/inbound/unmatched/7/map", Route::MapUnmatched(7)),
            ("POST", "/v1/sync/failures/retry", Route::RetryChannelFailures),
            ("POST", "/v1/listings/preview", Route::PreviewListings),
        ];
        for (m, path, route) in cases {
            assert_eq!(resolve(m, path), Ok(route.clone()), "{m} {path}");
            assert_eq!(need(&route), if m == "GET" { Need::Read } else { Need::Admin });
            let other = if m == "GET" { "POST" } else { "GET" };
            assert_eq!(resolve(other, path).map_err(|p| p.kind), Err(Kind::MethodNotAllowed), "{other} {path}");
            assert!(!is_public(path));
        }
        assert_eq!(resolve("POST", "/v1/inbound/unmatched/0/map").map_err(|p| p.kind), Err(Kind::ValidationFailed));
        assert_eq!(resolve("POST", "/v1/sync/failures/12/retry"), Ok(Route::RetryFailure(12)));
    }

    #[test]
    fn alert_destinations_and_sku_alerting_are_admin_routes() {
        assert_eq!(resolve("GET", "/v1/alert-destinations"), Ok(Route::AlertDestinations));
        let ops = Token::parse("ops").expect("id");
        assert_eq!(resolve("PUT", "/v1/alert-destinations/ops"), Ok(Route::PutAlertDestination(ops.clone())));
        assert_eq!(resolve("DELETE", "/v1/alert-destinations/ops"), Ok(Route::DeleteAlertDestination(ops)));
        assert_eq!(resolve("GET", "/v1/alert-destinations/ops").map_err(|p| p.kind), Err(Kind::MethodNotAllowed));
        assert_eq!(resolve("PUT", "/v1/alert-destinations/a%20b").map_err(|p| p.kind), Err(Kind::ValidationFailed));
        let r = resolve("PUT", "/v1/skus/A%2FB/alerting").expect("route");
        assert_eq!(r, Route::SkuAlerting(Sku::parse("A/B").expect("sku")));
        assert_eq!(need(&r), Need::Admin);
        assert_eq!(resolve("GET", "/v1/skus/A/alerting").map_err(|p| p.kind), Err(Kind::MethodNotAllowed));
    }
}
