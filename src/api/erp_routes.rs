//! Routes of ERP connections, resolved under `/v1/erp/` (all admin; `POST /v1/erp/snapshots`
//! stays in `routes`). Each path lists the methods it takes: another is `405` with `Allow`, an
//! unknown path `404`, a malformed id in the path `422`.

use super::problem::{Kind, Problem};
use super::requests::token_in_path;
use crate::stock::Token;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErpRoute {
    /// `GET /v1/erp/connections`.
    ListConnections,
    /// `GET /v1/erp/connections/{id}`.
    GetConnection(Token),
    /// `PUT /v1/erp/connections/{id}`.
    PutConnection(Token),
    /// `DELETE /v1/erp/connections/{id}`.
    DeleteConnection(Token),
    /// `GET /v1/erp/connections/{id}/mappings`.
    GetMappings(Token),
    /// `PUT /v1/erp/connections/{id}/mappings`: set or remove item and warehouse mappings.
    PutMappings(Token),
    /// `GET /v1/erp/unmapped[?connection=]`: rows whose item or warehouse is not mapped.
    Unmapped,
    /// `GET /v1/erp/polls`: where each connection's stock poll stands.
    Polls,
    /// `GET /v1/erp/adjustment-requests[?connection=]`: local changes forwarded to the ERP.
    AdjustmentRequests,
    /// `POST /v1/erp/polls/run[?connection=]`: poll the ERPs' stock now.
    RunPolls,
}

impl ErpRoute {
    /// The route's name in request logs.
    pub fn name(&self) -> &'static str {
        match self {
            ErpRoute::ListConnections => "Erp.ListConnections",
            ErpRoute::GetConnection(_) => "Erp.GetConnection",
            ErpRoute::PutConnection(_) => "Erp.PutConnection",
            ErpRoute::DeleteConnection(_) => "Erp.DeleteConnection",
            ErpRoute::GetMappings(_) => "Erp.GetMappings",
            ErpRoute::PutMappings(_) => "Erp.PutMappings",
            ErpRoute::Unmapped => "Erp.Unmapped",
            ErpRoute::Polls => "Erp.Polls",
            ErpRoute::AdjustmentRequests => "Erp.AdjustmentRequests",
            ErpRoute::RunPolls => "Erp.RunPolls",
        }
    }
}

/// One method of a path and the route it resolves to.
fn only(method: &'static str, route: Result<ErpRoute, Problem>) -> (&'static str, Result<ErpRoute, Problem>) {
    (method, route)
}

fn pick<const N: usize>(
    method: &str,
    routes: [(&'static str, Result<ErpRoute, Problem>); N],
) -> Result<ErpRoute, Problem> {
    let want = if method == "HEAD" { "GET" } else { method };
    let allow = routes.iter().map(|(m, _)| *m).collect::<Vec<_>>().join(", ");
    match routes.into_iter().find(|(m, _)| *m == want) {
        Some((_, route)) => route,
        None => Err(Problem::new(Kind::MethodNotAllowed, format!("this path takes {allow}")).with("allow", allow)),
    }
}

/// Resolves `method` and the percent-decoded segments after `/v1/erp/`; `None` for a path that
/// is not one of these routes.
pub fn resolve(method: &str, segs: &[&str]) -> Option<Result<ErpRoute, Problem>> {
    use ErpRoute as R;
    let m = method;
    Some(match segs {
        ["connections"] => pick(m, [only("GET", Ok(R::ListConnections))]),
        ["connections", id] => {
            let id = token_in_path("id", id);
            pick(
                m,
                [
                    only("GET", id.clone().map(R::GetConnection)),
                    only("PUT", id.clone().map(R::PutConnection)),
                    only("DELETE", id.map(R::DeleteConnection)),
                ],
            )
        }
        ["connections", id, "mappings"] => {
            let id = token_in_path("id", id);
            pick(m, [only("GET", id.clone().map(R::GetMappings)), only("PUT", id.map(R::PutMappings))])
        }
        ["unmapped"] => pick(m, [only("GET", Ok(R::Unmapped))]),
        ["polls"] => pick(m, [only("GET", Ok(R::Polls))]),
        ["adjustment-requests"] => pick(m, [only("GET", Ok(R::AdjustmentRequests))]),
        ["polls", "run"] => pick(m, [only("POST", Ok(R::RunPolls))]),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erp_paths_and_methods() {
        let id = Token::parse("sap").expect("token");
        assert_eq!(resolve("PUT", &["connections", "sap"]), Some(Ok(ErpRoute::PutConnection(id.clone()))));
        assert_eq!(resolve("GET", &["connections", "sap", "mappings"]), Some(Ok(ErpRoute::GetMappings(id))));
        assert_eq!(resolve("POST", &["polls", "run"]), Some(Ok(ErpRoute::RunPolls)));
        let wrong = resolve("GET", &["polls", "run"]).expect("path").map_err(|p| p.kind);
        assert_eq!(wrong, Err(Kind::MethodNotAllowed));
        let bad = resolve("GET", &["connections", "bad id"]).expect("path").map_err(|p| p.kind);
        assert_eq!(bad, Err(Kind::ValidationFailed));
        assert_eq!(resolve("GET", &["snapshots"]), None);
    }
}
