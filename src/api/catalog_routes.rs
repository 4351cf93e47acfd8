//! Routes of the catalogue (products, locations, channels, listings), resolved under
//! `/v1/products`, `/v1/locations` and `/v1/channels`. All need the admin role.
//!
//! Like `routes::resolve`, each arm lists the methods its path takes with `only("METHOD", …)`:
//! another method is `405` with `Allow`, an unknown path `404`, a malformed id in the path `422`.

use super::problem::{FieldError, Kind, Problem};
use super::requests::{sku_in_path, token_in_path};
use crate::stock::{Location, Sku, Token};

/// A catalogue route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CatalogRoute {
    ListProducts,
    GetProduct(Sku),
    PutProduct(Sku),
    DeleteProduct(Sku),
    ListLocations,
    GetLocation(Location),
    PutLocation(Location),
    DeleteLocation(Location),
    ListChannels,
    GetChannel(Token),
    PutChannel(Token),
    DeleteChannel(Token),
    ListListings(Token),
    GetListing(Token, Sku),
    PutListing(Token, Sku),
    DeleteListing(Token, Sku),
    /// `GET /v1/channels/{c}/listings/{sku}/advice`: the buffer advisor's answer for the listing.
    ListingAdvice(Token, Sku),
}

fn location_in_path(raw: &str) -> Result<Location, Problem> {
    Location::parse(raw).map_err(|e| Problem::invalid(vec![FieldError::new("location", e.to_string())]))
}

/// Both path ids, or one problem naming every faulty one.
fn both<A, B>(a: Result<A, Problem>, b: Result<B, Problem>) -> Result<(A, B), Problem> {
    let errors = |p: Problem| -> Vec<FieldError> {
        p.extra
            .get("errors")
            .and_then(|e| e.as_array())
            .map(|a| {
                a.iter().filter_map(|e| Some(FieldError::new(e["field"].as_str()?, e["message"].as_str()?))).collect()
            })
            .unwrap_or_default()
    };
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(p), Ok(_)) | (Ok(_), Err(p)) => Err(p),
        (Err(p), Err(q)) => {
            let mut all = errors(p);
            all.extend(errors(q));
            Err(Problem::invalid(all))
        }
    }
}

/// One method of a path and the route it resolves to.
fn only(method: &'static str, route: Result<CatalogRoute, Problem>) -> (&'static str, Result<CatalogRoute, Problem>) {
    (method, route)
}

/// The route of `method` among a path's `routes` (`HEAD` reads as `GET`), else `405`.
fn pick<const N: usize>(
    method: &str,
    routes: [(&'static str, Result<CatalogRoute, Problem>); N],
) -> Result<CatalogRoute, Problem> {
    let want = if method == "HEAD" { "GET" } else { method };
    let allow = routes.iter().map(|(m, _)| *m).collect::<Vec<_>>().join(", ");
    match routes.into_iter().find(|(m, _)| *m == want) {
        Some((_, route)) => route,
        None => Err(Problem::new(Kind::MethodNotAllowed, format!("this path takes {allow}")).with("allow", allow)),
    }
}

/// Resolves `method` and the percent-decoded path segments after `/v1/` (e.g.
/// `["products", "A-1"]`).
pub fn resolve(method: &str, segs: &[&str]) -> Result<CatalogRoute, Problem> {
    use CatalogRoute as R;
    let m = method;
    match segs {
        ["products"] => pick(m, [only("GET", Ok(R::ListProducts))]),
        ["products", sku] => {
            let sku = sku_in_path(sku);
            pick(
                m,
                [
                    only("GET", sku.clone().map(R::GetProduct)),
                    only("PUT", sku.clone().map(R::PutProduct)),
                    only("DELETE", sku.map(R::DeleteProduct)),
                ],
            )
        }
        ["locations"] => pick(m, [only("GET", Ok(R::ListLocations))]),
        ["locations", location] => {
            let location = location_in_path(location);
            pick(
                m,
                [
                    only("GET", location.clone().map(R::GetLocation)),
                    only("PUT", location.clone().map(R::PutLocation)),
                    only("DELETE", location.map(R::DeleteLocation)),
                ],
            )
        }
        ["channels"] => pick(m, [only("GET", Ok(R::ListChannels))]),
        ["channels", channel] => {
            let channel = token_in_path("channel", channel);
            pick(
                m,
                [
                    only("GET", channel.clone().map(R::GetChannel)),
                    only("PUT", channel.clone().map(R::PutChannel)),
                    only("DELETE", channel.map(R::DeleteChannel)),
                ],
            )
        }
        ["channels", channel, "listings"] => {
            pick(m, [only("GET", token_in_path("channel", channel).map(R::ListListings))])
        }
        ["channels", channel, "listings", sku] => {
            let ids = both(token_in_path("channel", channel), sku_in_path(sku));
            pick(
                m,
                [
                    only("GET", ids.clone().map(|(c, s)| R::GetListing(c, s))),
                    only("PUT", ids.clone().map(|(c, s)| R::PutListing(c, s))),
                    only("DELETE", ids.map(|(c, s)| R::DeleteListing(c, s))),
                ],
            )
        }
        ["channels", channel, "listings", sku, "advice"] => {
            let ids = both(token_in_path("channel", channel), sku_in_path(sku));
            pick(m, [only("GET", ids.map(|(c, s)| R::ListingAdvice(c, s)))])
        }
        _ => Err(Problem::new(Kind::NotFound, format!("no route /v1/{}", segs.join("/")))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::routes::{self, Route};

    fn sku(s: &str) -> Sku {
        Sku::parse(s).expect("sku")
    }
    fn token(s: &str) -> Token {
        Token::parse(s).expect("token")
    }

    #[test]
    fn resolves_every_catalogue_route() {
        let c = |m: &str, p: &str| {
            routes::resolve(m, p).map(|r| match r {
                Route::Catalog(c) => c,
                other => panic!("not a catalogue route: {other:?}"),
            })
        };
        assert_eq!(c("GET", "/v1/products"), Ok(CatalogRoute::ListProducts));
        assert_eq!(c("PUT", "/v1/products/A%2FB"), Ok(CatalogRoute::PutProduct(sku("A/B"))));
        assert_eq!(c("HEAD", "/v1/products/A"), Ok(CatalogRoute::GetProduct(sku("A"))));
        assert_eq!(
            c("DELETE", "/v1/locations/east"),
            Ok(CatalogRoute::DeleteLocation(Location::parse("east").expect("loc")))
        );
        assert_eq!(c("GET", "/v1/channels/"), Ok(CatalogRoute::ListChannels));
        assert_eq!(c("PUT", "/v1/channels/shop-1"), Ok(CatalogRoute::PutChannel(token("shop-1"))));
        assert_eq!(c("GET", "/v1/channels/shop-1/listings"), Ok(CatalogRoute::ListListings(token("shop-1"))));
        assert_eq!(
            c("GET", "/v1/channels/shop-1/listings/A%2FB/advice"),
            Ok(CatalogRoute::ListingAdvice(token("shop-1"), sku("A/B")))
        );
        assert_eq!(c("POST", "/v1/channels/shop-1/listings/A/advice").map_err(|p| p.kind), Err(Kind::MethodNotAllowed));
        assert_eq!(
            c("DELETE", "/v1/channels/shop-1/listings/A"),
            Ok(CatalogRoute::DeleteListing(token("shop-1"), sku("A")))
        );
        assert_eq!(
            routes::resolve("GET", "/v1/products").map(|r| crate::access::need(&r)),
            Ok(crate::access::Need::Read)
        );
    }

    #[test]
    fn wrong_methods_unknown_paths_and_bad_ids() {
        let p = resolve("POST", &["products", "A"]).expect_err("405");
        assert_eq!(p.kind, Kind::MethodNotAllowed);
        assert_eq!(p.extra["allow"], "GET, PUT, DELETE");
        assert_eq!(resolve("PUT", &["products"]).expect_err("405").extra["allow"], "GET");
        assert_eq!(resolve("GET", &["products", "A", "B"]).map_err(|p| p.kind), Err(Kind::NotFound));
        assert_eq!(resolve("GET", &["channels", "c", "nope"]).map_err(|p| p.kind), Err(Kind::NotFound));
        assert_eq!(resolve("GET", &["locations", "Main"]).map_err(|p| p.kind), Err(Kind::ValidationFailed));
        let both = resolve("PUT", &["channels", "bad channel", "listings", "bad sku"]).expect_err("422");
        let fields: Vec<&str> =
            both.extra["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
        assert_eq!(fields, ["channel", "sku"]);
        assert_eq!(
            resolve("POST", &["products", "bad sku"]).map_err(|p| p.kind),
            Err(Kind::MethodNotAllowed),
            "method first"
        );
    }
}
