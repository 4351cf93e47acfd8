//! Which `Content-Type` a JSON-only write accepts, decided once.
//!
//! The routes that change stock, holds, orders and the catalogue read their body as JSON and nothing else
//! ([`takes_json_only`]). A body labelled as something else (`text/plain`, `text/csv`, a form,
//! `multipart/form-data`…) is refused with `415 unsupported-media-type` before it is read, so a
//! file meant for `POST /v1/imports` or a browser form can never be read as a stock write. No
//! `Content-Type` at all is accepted (a client that sends none means the documented JSON), as are
//! `application/json` and any `application/<name>+json`, with or without parameters
//! (`; charset=utf-8`), in any letter case.

use super::catalog_routes::CatalogRoute;
use super::problem::{Kind, Problem};
use super::routes::Route;

/// Whether `route` reads its body as JSON only (the ledger, reservation, order and catalogue
/// writes). Routes that also take CSV (imports, ERP snapshots), platform deliveries (webhooks,
/// X12) and reads are not listed: they decide their own formats.
pub fn takes_json_only(route: &Route) -> bool {
    matches!(
        route,
        Route::PutStock(_)
            | Route::Adjust(_)
            | Route::SkuPolicy(_)
            | Route::CreateReservation
            | Route::CommitReservation(_)
            | Route::ExtendReservation(_)
            | Route::Sales
            | Route::CancelSale { .. }
            | Route::Fulfilments
            | Route::Catalog(
                CatalogRoute::PutProduct(_)
                    | CatalogRoute::PutLocation(_)
                    | CatalogRoute::PutChannel(_)
                    | CatalogRoute::PutListing(..)
            )
    )
}

/// Checks a JSON-only write's `Content-Type` header value (`None` when absent).
pub fn json_body(content_type: Option<&str>) -> Result<(), Problem> {
    let Some(raw) = content_type else { return Ok(()) };
    let essence = raw.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let json = essence == "application/json"
        || essence.strip_prefix("application/").is_some_and(|sub| sub.len() > "+json".len() && sub.ends_with("+json"));
    if json {
        Ok(())
    } else {
        Err(Problem::new(
            Kind::UnsupportedMediaType,
            format!("this endpoint takes application/json; the body was sent as {:?}", raw.trim()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_no_label_are_accepted() {
        for ct in [
            None,
            Some("application/json"),
            Some("Application/JSON; charset=utf-8"),
            Some(" application/merge-patch+json "),
        ] {
            assert_eq!(json_body(ct), Ok(()), "{ct:?}");
        }
    }

    #[test]
    fn every_other_label_is_415() {
        for ct in [
            "text/plain",
            "text/csv",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonp",
            "application/+json",
            "text/json",
            "",
            "json",
        ] {
            let p = json_body(Some(ct)).expect_err(ct);
            assert_eq!(p.kind, Kind::UnsupportedMediaType, "{ct}");
            assert_eq!(p.kind.status(), 415);
        }
    }

    #[test]
    fn only_json_writes_are_checked() {
        let sku = || crate::stock::Sku::parse("A").expect("a SKU");
        assert!(takes_json_only(&Route::PutStock(sku())));
        assert!(takes_json_only(&Route::CreateReservation));
        assert!(takes_json_only(&Route::Catalog(CatalogRoute::PutProduct(sku()))));
        assert!(!takes_json_only(&Route::Import), "imports take CSV");
        assert!(!takes_json_only(&Route::ErpSnapshots), "ERP snapshots take CSV too");
        assert!(!takes_json_only(&Route::Catalog(CatalogRoute::DeleteProduct(sku()))));
    }
}
