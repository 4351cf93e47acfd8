//! The permission table: what every route of the router (`api::routes::Route`) needs of its
//! caller. The one place access is decided; the match is exhaustive, so a new route does not
//! compile without an entry, and a test checks the table against the OpenAPI document's
//! per-operation `security` (docs/security.md prints the same table).

use super::roles::Need;
use crate::api::catalog_routes::CatalogRoute as C;
use crate::api::erp_routes::ErpRoute as E;
use crate::api::import_mappings::MappingRoute as M;
use crate::api::routes::Route;

/// What `route` needs of its caller.
pub fn need(route: &Route) -> Need {
    match route {
        Route::Health
        | Route::OpenApi
        | Route::ProblemPage(_)
        | Route::Webhook(_)
        | Route::EbayChallenge
        | Route::Edi850
        | Route::ErpSignedSnapshots(_) => Need::Public,

        Route::Availability | Route::GetReservation(_) => Need::StorefrontOrRead,

        Route::CreateReservation
        | Route::CommitReservation(_)
        | Route::ReleaseReservation(_)
        | Route::ExtendReservation(_) => Need::Storefront,

        Route::GetSku(_)
        | Route::GetSkuPolicy(_)
        | Route::Journal(_)
        | Route::ImportJob(_)
        | Route::Export
        | Route::SyncStatus
        | Route::SyncFailures
        | Route::Unmatched
        | Route::Drift
        | Route::Polls
        | Route::Alerts
        | Route::Metrics
        | Route::Reconciliation
        | Route::Overview
        | Route::SkuListings(_)
        | Route::AlertDestinations
        | Route::ImportMappings(M::List | M::Get(_))
        | Route::Catalog(
            C::ListProducts
            | C::GetProduct(_)
            | C::ListLocations
            | C::GetLocation(_)
            | C::ListChannels
            | C::GetChannel(_)
            | C::ListListings(_)
            | C::GetListing(..)
            | C::ListingAdvice(..),
        )
        | Route::Erp(
            E::ListConnections
            | E::GetConnection(_)
            | E::GetMappings(_)
            | E::Unmapped
            | E::Polls
            | E::AdjustmentRequests,
        ) => Need::Read,

        Route::PutStock(_)
        | Route::Adjust(_)
        | Route::SkuPolicy(_)
        | Route::Sales
        | Route::CancelSale { .. }
        | Route::Fulfilments
        | Route::Import
        | Route::ImportMappings(M::Put(_) | M::Delete(_))
        | Route::RetryFailure(_)
        | Route::Catalog(
            C::PutProduct(_)
            | C::DeleteProduct(_)
            | C::PutLocation(_)
            | C::DeleteLocation(_)
            | C::PutChannel(_)
            | C::DeleteChannel(_)
            | C::PutListing(..)
            | C::DeleteListing(..),
        )
        | Route::Erp(E::PutConnection(_) | E::DeleteConnection(_) | E::PutMappings(_) | E::RunPolls)
        | Route::RunPolls
        | Route::AcknowledgeAlert(_)
        | Route::RunReconciliation
        | Route::RepairReconciliation
        | Route::ErpSnapshots
        | Route::MapUnmatched(_)
        | Route::RetryChannelFailures
        | Route::PreviewListings
        | Route::PutAlertDestination(_)
        | Route::DeleteAlertDestination(_)
        | Route::SkuAlerting(_) => Need::Admin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::roles::Role;
    use crate::api::routes::resolve;
    use serde_json::Value;

    /// A concrete path for an OpenAPI path template: every `{param}` gets a valid sample value.
    fn sample(template: &str) -> String {
        template
            .split('/')
            .map(|seg| match seg {
                "{id}" => "7",
                "{slug}" => "not-found",
                s if s.starts_with('{') => "x1",
                s => s,
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Security schemes that are no role's token: a route they guard is public to the token
    /// check and verifies its own credentials (the webhook ERP's signature).
    const SIGNATURE_SCHEMES: [&str; 1] = ["erpWebhookSignature"];

    /// The roles an operation's `security` lists (`storefrontToken`, `operatorToken`,
    /// `adminToken`); an empty list, or only a signature scheme, means public.
    fn documented_roles(op: &Value, global: &Value) -> Vec<Role> {
        let security = op.get("security").unwrap_or(global);
        let mut roles: Vec<Role> = security
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|req| req.as_object())
            .flat_map(|req| req.keys())
            .filter(|scheme| !SIGNATURE_SCHEMES.contains(&scheme.as_str()))
            .map(|scheme| {
                Role::ALL
                    .into_iter()
                    .find(|r| format!("{}Token", r.name()) == *scheme)
                    .unwrap_or_else(|| panic!("unknown security scheme {scheme}"))
            })
            .collect();
        roles.sort();
        roles
    }

    /// Every operation of the contract resolves to a route, and what the table says it needs is
    /// what the OpenAPI document says it accepts. Operator tokens are never admitted to a change.
    #[test]
    fn every_documented_operation_has_the_documented_permission() {
        let doc: Value = serde_json::from_str(include_str!("../../openapi.json")).expect("openapi.json");
        let global = doc.get("security").cloned().unwrap_or(Value::Null);
        let mut checked = 0;
        for (template, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                    continue;
                }
                let m = method.to_uppercase();
                let path = sample(template);
                let route = resolve(&m, &path).unwrap_or_else(|p| panic!("{m} {path} does not resolve: {p:?}"));
                let need = need(&route);
                let mut want: Vec<Role> = need.roles().to_vec();
                want.sort();
                assert_eq!(documented_roles(op, &global), want, "{m} {template}: table says {need:?}");
                // A description's "Role: …" sentence names the same roles.
                if let Some(rest) = op.get("description").and_then(Value::as_str).and_then(|d| d.strip_prefix("Role: "))
                {
                    let stated = rest.split('.').next().unwrap_or_default();
                    for r in Role::ALL {
                        assert_eq!(stated.contains(r.name()), need.admits(r), "{m} {template}: \"Role: {stated}\"");
                    }
                }
                if m != "GET" {
                    assert!(!need.admits(Role::Operator) || need == Need::Public, "{m} {template} admits the operator");
                }
                checked += 1;
            }
        }
        assert!(checked >= 79, "only {checked} operations checked");
    }

    #[test]
    fn samples_from_each_need() {
        let cases = [
            ("GET", "/healthz", Need::Public),
            ("POST", "/v1/webhooks/shopify", Need::Public),
            ("GET", "/v1/availability", Need::StorefrontOrRead),
            ("POST", "/v1/reservations", Need::Storefront),
            ("GET", "/v1/skus/A", Need::Read),
            ("HEAD", "/v1/channels/web/listings/A", Need::Read),
            ("PUT", "/v1/skus/A/stock", Need::Admin),
            ("DELETE", "/v1/import-mappings/erp", Need::Admin),
            ("POST", "/v1/erp/polls/run", Need::Admin),
            ("POST", "/v1/erp/connections/hook/snapshots", Need::Public),
        ];
        for (m, path, want) in cases {
            assert_eq!(resolve(m, path).map(|r| need(&r)), Ok(want), "{m} {path}");
        }
    }
}
