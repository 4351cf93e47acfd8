//! The structured request log: one JSON line per request the Worker answers (or only per failed
//! one, or none: [`RequestLogMode`]), decided here without `worker` types (the fetch entry in
//! `edge` only reads the clock and the `cf-ray` header, draws random bytes when it must, and
//! prints the line).
//!
//! A line is a JSON object of exactly these fields:
//!
//! ```json
//! {"event":"request","request_id":"8f1c2a3b4c5d6e7f-LHR","method":"PUT","route":"PutStock",
//!  "status":200,"duration_ms":12,"sku":"TEE-BLK-M"}
//! ```
//!
//! - `request_id`: the `cf-ray` header when it has the form Cloudflare gives it (16 lowercase hex
//!   digits, optionally `-` and a 3-letter data-centre code), else 32 random hex digits the shell
//!   draws ([`RequestId::generated`]).
//! - `method`: one of the HTTP methods, `OTHER` for anything else.
//! - `route`: the name of the resolved [`Route`] variant (`Catalog.PutListing` for a catalogue
//!   route), `Unrouted` when the path resolved to no route; never the raw path.
//! - `status`: the HTTP status answered; `duration_ms`: from the request's arrival to its
//!   answer, as the shell's clock reads it (on Workers the clock advances only across I/O).
//! - `sku`: only for routes that name one SKU, the validated SKU.
//!
//! What is never in a line, by construction: any header but a well-formed `cf-ray` (so no
//! `Authorization` bearer token, cookie or signature), the path or query string, and the body.
//! Route names are `&'static str` and the only request-derived strings are the SKU (validated by
//! `Sku::parse`) and the `cf-ray` value (validated by its form).

use serde::Serialize;

use super::catalog_routes::CatalogRoute;
use super::routes::Route;
use crate::stock::Sku;
use crate::time::Millis;

/// The value of `event` in every request line: what `wrangler tail` or a log search filters on.
pub const REQUEST_EVENT: &str = "request";

/// Hex digits of a Cloudflare ray id (before the optional `-COLO`).
const RAY_HEX_DIGITS: usize = 16;
/// Letters of the data-centre code after a ray id's `-`.
const RAY_COLO_LETTERS: usize = 3;
/// Random bytes of a generated request id (twice as many hex digits).
pub const GENERATED_ID_BYTES: usize = 16;

/// The id a request is logged under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// The request's `cf-ray` header as its id, when it has a ray id's form; `None` otherwise
    /// (absent, or anything else a client put there).
    pub fn from_cf_ray(header: Option<&str>) -> Option<RequestId> {
        let ray = header?.trim();
        let (hex, colo) = match ray.split_once('-') {
            Some((hex, colo)) => (hex, Some(colo)),
            None => (ray, None),
        };
        let hex_ok =
            hex.len() == RAY_HEX_DIGITS && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let colo_ok = colo.is_none_or(|c| c.len() == RAY_COLO_LETTERS && c.bytes().all(|b| b.is_ascii_uppercase()));
        (hex_ok && colo_ok).then(|| RequestId(ray.to_owned()))
    }

    /// An id from `random` bytes the shell drew, for a request without a usable `cf-ray`.
    pub fn generated(random: [u8; GENERATED_ID_BYTES]) -> RequestId {
        RequestId(hex::encode(random))
    }

    /// The id of a request whose `cf-ray` header is `cf_ray`: the ray id when well-formed, else
    /// one generated from the bytes `random` draws (called only then).
    pub fn of(cf_ray: Option<&str>, random: impl FnOnce() -> [u8; GENERATED_ID_BYTES]) -> RequestId {
        RequestId::from_cf_ray(cf_ray).unwrap_or_else(|| RequestId::generated(random()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a log line says about the route: its name and the SKU it names, if one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteLabel {
    pub name: &'static str,
    pub sku: Option<Sku>,
}

/// The name of a request whose path resolved to no route (404, 405, a malformed id in the path).
pub const UNROUTED: &str = "Unrouted";

impl RouteLabel {
    /// The label of `route`, or of no route (`None`: the path did not resolve).
    pub fn of(route: Option<&Route>) -> RouteLabel {
        let Some(route) = route else {
            return RouteLabel { name: UNROUTED, sku: None };
        };
        let (name, sku) = match route {
            Route::Health => ("Health", None),
            Route::OpenApi => ("OpenApi", None),
            Route::ProblemPage(_) => ("ProblemPage", None),
            Route::Availability => ("Availability", None),
            Route::GetSku(s) => ("GetSku", Some(s)),
            Route::PutStock(s) => ("PutStock", Some(s)),
            Route::Adjust(s) => ("Adjust", Some(s)),
            Route::Journal(s) => ("Journal", Some(s)),
            Route::SkuPolicy(s) => ("SkuPolicy", Some(s)),
            Route::GetSkuPolicy(s) => ("GetSkuPolicy", Some(s)),
            Route::CreateReservation => ("CreateReservation", None),
            Route::GetReservation(_) => ("GetReservation", None),
            Route::CommitReservation(_) => ("CommitReservation", None),
            Route::ReleaseReservation(_) => ("ReleaseReservation", None),
            Route::ExtendReservation(_) => ("ExtendReservation", None),
            Route::Sales => ("Sales", None),
            Route::CancelSale { .. } => ("CancelSale", None),
            Route::Fulfilments => ("Fulfilments", None),
            Route::Import => ("Import", None),
            Route::ImportJob(_) => ("ImportJob", None),
            Route::Export => ("Export", None),
            Route::ImportMappings(m) => (super::import_mappings::label(m), None),
            Route::SyncStatus => ("SyncStatus", None),
            Route::SyncFailures => ("SyncFailures", None),
            Route::RetryFailure(_) => ("RetryFailure", None),
            Route::Catalog(c) => catalog(c),
            Route::Webhook(_) => ("Webhook", None),
            Route::EbayChallenge => ("EbayChallenge", None),
            Route::Unmatched => ("Unmatched", None),
            Route::Drift => ("Drift", None),
            Route::Polls => ("Polls", None),
            Route::RunPolls => ("RunPolls", None),
            Route::Alerts => ("Alerts", None),
            Route::AcknowledgeAlert(_) => ("AcknowledgeAlert", None),
            Route::Metrics => ("Metrics", None),
            Route::RunReconciliation => ("RunReconciliation", None),
            Route::Reconciliation => ("Reconciliation", None),
            Route::RepairReconciliation => ("RepairReconciliation", None),
            Route::ErpSnapshots => ("ErpSnapshots", None),
            Route::Overview => ("Overview", None),
            Route::SkuListings(s) => ("SkuListings", Some(s)),
            Route::MapUnmatched(_) => ("MapUnmatched", None),
            Route::RetryChannelFailures => ("RetryChannelFailures", None),
            Route::PreviewListings => ("PreviewListings", None),
            Route::AlertDestinations => ("AlertDestinations", None),
            Route::PutAlertDestination(_) => ("PutAlertDestination", None),
            Route::DeleteAlertDestination(_) => ("DeleteAlertDestination", None),
            Route::SkuAlerting(s) => ("SkuAlerting", Some(s)),
            Route::Edi850 => ("Edi850", None),
            Route::Erp(r) => (r.name(), None),
            Route::ErpSignedSnapshots(_) => ("ErpSignedSnapshots", None),
        };
        RouteLabel { name, sku: sku.cloned() }
    }
}

fn catalog(route: &CatalogRoute) -> (&'static str, Option<&Sku>) {
    use CatalogRoute as C;
    match route {
        C::ListProducts => ("Catalog.ListProducts", None),
        C::GetProduct(s) => ("Catalog.GetProduct", Some(s)),
        C::PutProduct(s) => ("Catalog.PutProduct", Some(s)),
        C::DeleteProduct(s) => ("Catalog.DeleteProduct", Some(s)),
        C::ListLocations => ("Catalog.ListLocations", None),
        C::GetLocation(_) => ("Catalog.GetLocation", None),
        C::PutLocation(_) => ("Catalog.PutLocation", None),
        C::DeleteLocation(_) => ("Catalog.DeleteLocation", None),
        C::ListChannels => ("Catalog.ListChannels", None),
        C::GetChannel(_) => ("Catalog.GetChannel", None),
        C::PutChannel(_) => ("Catalog.PutChannel", None),
        C::DeleteChannel(_) => ("Catalog.DeleteChannel", None),
        C::ListListings(_) => ("Catalog.ListListings", None),
        C::GetListing(_, s) => ("Catalog.GetListing", Some(s)),
        C::PutListing(_, s) => ("Catalog.PutListing", Some(s)),
        C::DeleteListing(_, s) => ("Catalog.DeleteListing", Some(s)),
        C::ListingAdvice(_, s) => ("Catalog.ListingAdvice", Some(s)),
    }
}

/// The methods a line names as themselves; any other is `OTHER`.
const METHODS: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"];

/// The Worker variable that chooses which requests get a line.
pub const REQUEST_LOG_VAR: &str = "REQUEST_LOG";

/// Which requests get a line (`REQUEST_LOG`): `all` (the default), `errors` (answers of 400 and
/// above), or `off` (Cloudflare's own invocation log, which `wrangler tail` and Workers Logs show
/// for every request, is then the only record). Under `wrangler dev` a line costs about 1.2 ms
/// of the runtime's CPU and more of wrangler's, which prints it (BENCHMARKS.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RequestLogMode {
    #[default]
    All,
    Errors,
    Off,
}

impl RequestLogMode {
    /// The mode a `REQUEST_LOG` value names; `None` for anything else (the shell then keeps
    /// `All` and says so once: a typo must not silence the log).
    pub fn parse(value: &str) -> Option<RequestLogMode> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "all" => Some(RequestLogMode::All),
            "errors" => Some(RequestLogMode::Errors),
            "off" => Some(RequestLogMode::Off),
            _ => None,
        }
    }

    /// Whether an answer with `status` gets a line.
    pub fn logs(self, status: u16) -> bool {
        match self {
            RequestLogMode::All => true,
            RequestLogMode::Errors => status >= 400,
            RequestLogMode::Off => false,
        }
    }
}

/// One request's log record. Build it with [`RequestLog::new`]; print [`RequestLog::line`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequestLog {
    pub event: &'static str,
    pub request_id: String,
    pub method: &'static str,
    pub route: &'static str,
    pub status: u16,
    pub duration_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
}

impl RequestLog {
    /// The record of a request with `method`, routed as `label`, answered `status`; it arrived at
    /// `started` and was answered at `finished` (a clock that went backwards counts as 0 ms).
    pub fn new(
        id: RequestId,
        method: &str,
        label: RouteLabel,
        status: u16,
        started: Millis,
        finished: Millis,
    ) -> RequestLog {
        let method = METHODS.iter().copied().find(|m| m.eq_ignore_ascii_case(method)).unwrap_or("OTHER");
        RequestLog {
            event: REQUEST_EVENT,
            request_id: id.0,
            method,
            route: label.name,
            status,
            duration_ms: finished.0.saturating_sub(started.0).max(0),
            sku: label.sku.map(|s| s.as_str().to_owned()),
        }
    }

    /// The record as one line of JSON (no newline inside). Serialising strings and integers
    /// cannot fail; were it to, the line would be empty rather than the request unanswered.
    pub fn line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::routes::resolve;

    #[test]
    fn the_mode_chooses_which_answers_get_a_line() {
        assert_eq!(RequestLogMode::parse(""), Some(RequestLogMode::All));
        assert_eq!(RequestLogMode::parse(" Errors "), Some(RequestLogMode::Errors));
        assert_eq!(RequestLogMode::parse("OFF"), Some(RequestLogMode::Off));
        assert_eq!(RequestLogMode::parse("none"), None);
        assert!(RequestLogMode::All.logs(200));
        assert!(
            !RequestLogMode::Errors.logs(399) && RequestLogMode::Errors.logs(400) && RequestLogMode::Errors.logs(503)
        );
        assert!(!RequestLogMode::Off.logs(500));
    }

    const TOKEN: &str = "s3cret-admin-token-0123";
    const SECRET: &str = "whsec_ffffffffffffffff";

    fn label(method: &str, path: &str) -> RouteLabel {
        RouteLabel::of(resolve(method, path).ok().as_ref())
    }

    fn record(method: &str, path: &str, cf_ray: Option<&str>, status: u16) -> RequestLog {
        let id = RequestId::of(cf_ray, || [7; GENERATED_ID_BYTES]);
        RequestLog::new(id, method, label(method, path), status, Millis(1_000), Millis(1_042))
    }

    #[test]
    fn a_line_has_exactly_the_contract_fields() {
        let r = record("PUT", "/v1/skus/TEE-BLK-M/stock", Some("8f1c2a3b4c5d6e7f-LHR"), 200);
        let v: serde_json::Value = serde_json::from_str(&r.line()).expect("json");
        assert_eq!(
            v,
            serde_json::json!({"event": "request", "request_id": "8f1c2a3b4c5d6e7f-LHR", "method": "PUT",
                "route": "PutStock", "status": 200, "duration_ms": 42, "sku": "TEE-BLK-M"})
        );
        assert!(!r.line().contains('\n'));
    }

    #[test]
    fn routes_are_named_by_variant_and_only_sku_routes_carry_a_sku() {
        let cases = [
            ("GET", "/healthz", "Health", None),
            ("GET", "/v1/skus/A%2FB/journal", "Journal", Some("A/B")),
            ("POST", "/v1/reservations/res_0123/commit", "CommitReservation", None),
            ("PUT", "/v1/channels/shop-1/listings/MUG-01", "Catalog.PutListing", Some("MUG-01")),
            ("GET", "/v1/channels/shop-1", "Catalog.GetChannel", None),
            ("POST", "/v1/sales/amazon/113-1/cancel", "CancelSale", None),
            ("GET", "/nope", UNROUTED, None),
            ("DELETE", "/v1/reservations", UNROUTED, None),
        ];
        for (method, path, name, sku) in cases {
            let l = label(method, path);
            assert_eq!(l.name, name, "{method} {path}");
            assert_eq!(l.sku.as_ref().map(Sku::as_str), sku, "{method} {path}");
        }
    }

    #[test]
    fn a_record_never_contains_the_bearer_token_or_a_secret_it_was_given() {
        // Every input the record takes carries the token or the secret: the cf-ray header (a
        // client may put anything there; only a ray id's form is trusted), the method and the
        // path (segments that are not a SKU, the query string).
        let bearer = format!("Bearer {TOKEN}");
        let rays = [Some(TOKEN), Some(SECRET), Some(bearer.as_str()), None];
        let paths = [
            format!("/v1/reservations/{TOKEN}"),
            format!("/v1/reservations/{SECRET}/commit"),
            format!("/v1/sales/{SECRET}/{TOKEN}/cancel"),
            format!("/v1/availability?sku=A&token={TOKEN}&secret={SECRET}"),
            format!("/v1/webhooks/ebay?challenge_code={SECRET}"),
            format!("/v1/channels/{SECRET}/listings"),
            format!("/v1/imports/{TOKEN}"),
            format!("/{TOKEN}"),
        ];
        for path in &paths {
            for method in ["GET", "POST", TOKEN, bearer.as_str()] {
                for ray in rays {
                    let line = record(method, path, ray, 200).line();
                    assert!(!line.contains(TOKEN), "{line}");
                    assert!(!line.contains(SECRET), "{line}");
                    assert!(!line.contains("Bearer"), "{line}");
                }
            }
        }
    }

    #[test]
    fn request_id_is_a_well_formed_cf_ray_else_generated() {
        let generated = RequestId::generated([0xab; GENERATED_ID_BYTES]);
        assert_eq!(generated.as_str(), "ab".repeat(GENERATED_ID_BYTES));
        for ray in ["8f1c2a3b4c5d6e7f-LHR", "8f1c2a3b4c5d6e7f", " 8f1c2a3b4c5d6e7f-AMS "] {
            let id = RequestId::of(Some(ray), || unreachable!("a well-formed ray id draws no random bytes"));
            assert_eq!(id.as_str(), ray.trim());
        }
        for bad in
            ["", "8F1C2A3B4C5D6E7F", "8f1c2a3b4c5d6e7-LHR", "8f1c2a3b4c5d6e7f-lhr", "8f1c2a3b4c5d6e7f-LHR-X", "x"]
        {
            assert_eq!(RequestId::of(Some(bad), || [0xab; GENERATED_ID_BYTES]), generated, "{bad:?}");
        }
        assert_eq!(RequestId::of(None, || [0xab; GENERATED_ID_BYTES]), generated);
    }

    #[test]
    fn unknown_methods_and_backwards_clocks_are_bounded() {
        let l = RequestLog::new(
            RequestId::generated([0; GENERATED_ID_BYTES]),
            "BREW",
            RouteLabel::of(None),
            404,
            Millis(5_000),
            Millis(4_000),
        );
        assert_eq!((l.method, l.duration_ms, l.route), ("OTHER", 0, UNROUTED));
        assert_eq!(
            RequestLog::new(RequestId::generated([0; 16]), "get", RouteLabel::of(None), 200, Millis(0), Millis(0))
                .method,
            "GET"
        );
    }
}
