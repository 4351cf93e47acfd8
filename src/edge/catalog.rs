//! Catalogue routes over D1. (Filled in with the catalogue.)

use worker::{Env, Request, Response, Result};

use crate::api::catalog_routes::CatalogRoute;

pub async fn handle(route: CatalogRoute, _req: Request, _body: &[u8], _env: &Env) -> Result<Response> {
    match route {}
}
