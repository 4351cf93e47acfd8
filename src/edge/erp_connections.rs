//! `/v1/erp/connections…` and `/v1/erp/unmapped`: ERP connections and their item and warehouse
//! mappings as the operator edits them (validation in `api::erp_connections`, D1 in
//! `store::erp`), and the rows a poll could not map.

use serde_json::json;
use worker::{Env, Response};

use crate::api::erp_connections::{connection, connection_view, mapping_change, mappings_view};
use crate::api::erp_routes::ErpRoute;
use crate::api::{FieldError, Kind, Problem};
use crate::fault::Fault;
use crate::stock::Token;

use super::handlers::Write;
use super::store::{self, erp as rows};
use super::{clock, http, key_registry};

fn not_found(id: &Token) -> Result<Response, Fault> {
    Ok(http::problem(
        &Problem::new(Kind::NotFound, format!("no ERP connection {id}")).with("resource", "erp_connection"),
    )?)
}

fn no_content() -> Result<Response, Fault> {
    Ok(Response::empty()?.with_status(204))
}

/// Answers an ERP route.
pub async fn handle(route: ErpRoute, query: &[(String, String)], w: &Write, env: &Env) -> Result<Response, Fault> {
    let db = store::db(env)?;
    match route {
        ErpRoute::ListConnections => {
            let items: Vec<_> = rows::connections(&db).await?.iter().map(connection_view).collect();
            Ok(http::json(200, &json!({ "items": items }))?)
        }
        ErpRoute::GetConnection(id) => match rows::connection(&db, &id).await? {
            Some(c) => Ok(http::json(200, &connection_view(&c))?),
            None => not_found(&id),
        },
        ErpRoute::PutConnection(id) => {
            let c = match w.validated(connection(id, &w.bytes)) {
                Ok(c) => c,
                Err(p) => return Ok(http::problem(&p)?),
            };
            key_registry::keeping(env, w.idem.as_ref(), async {
                rows::put_connection(&db, &c, clock::now()).await?;
                Ok(http::json(200, &connection_view(&c))?)
            })
            .await
        }
        ErpRoute::DeleteConnection(id) => match rows::delete_connection(&db, &id, clock::now()).await? {
            true => no_content(),
            false => not_found(&id),
        },
        ErpRoute::GetMappings(id) => match rows::connection(&db, &id).await? {
            Some(_) => Ok(http::json(200, &mappings_view(&id, &rows::mappings(&db, &id).await?))?),
            None => not_found(&id),
        },
        ErpRoute::PutMappings(id) => {
            let change = match w.validated(mapping_change(&w.bytes)) {
                Ok(c) => c,
                Err(p) => return Ok(http::problem(&p)?),
            };
            if rows::connection(&db, &id).await?.is_none() {
                return not_found(&id);
            }
            key_registry::keeping(env, w.idem.as_ref(), async {
                rows::change_mappings(&db, &id, &change.items, &change.warehouses).await?;
                Ok(http::json(200, &mappings_view(&id, &rows::mappings(&db, &id).await?))?)
            })
            .await
        }
        ErpRoute::Unmapped => {
            let only = match connection_query(query) {
                Ok(c) => c,
                Err(p) => return Ok(http::problem(&p)?),
            };
            let items = rows::unmapped(&db, only.as_ref()).await?;
            Ok(http::json(200, &json!({ "items": items }))?)
        }
        ErpRoute::Polls => super::erp_poll::status(env).await,
        ErpRoute::AdjustmentRequests => {
            let only = match connection_query(query) {
                Ok(c) => c,
                Err(p) => return Ok(http::problem(&p)?),
            };
            let items = rows::adjustment_requests(&db, only.as_ref()).await?;
            Ok(http::json(200, &json!({ "items": items }))?)
        }
        ErpRoute::RunPolls => {
            let only = match connection_query(query) {
                Ok(c) => c,
                Err(p) => return Ok(http::problem(&p)?),
            };
            if let Err(p) = w.validated(Ok(())) {
                return Ok(http::problem(&p)?);
            }
            key_registry::keeping(env, w.idem.as_ref(), super::erp_poll::run_now(env, only)).await
        }
    }
}

/// `?connection=<id>`, optional.
fn connection_query(query: &[(String, String)]) -> Result<Option<Token>, Problem> {
    match query.iter().find(|(k, _)| k == "connection") {
        None => Ok(None),
        Some((_, v)) => {
            Token::parse(v).map(Some).map_err(|e| Problem::invalid(vec![FieldError::new("connection", e.to_string())]))
        }
    }
}
