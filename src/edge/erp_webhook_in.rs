//! `POST /v1/erp/connections/{id}/snapshots`: a webhook ERP's snapshot (docs/erp.md "Webhook
//! ERP", docs/api.md). No bearer token: the body is authenticated by the connection's signature
//! (`erp::connectors::webhook_in`) before anything else is done with it — before its
//! Idempotency-Key is claimed or its content read. Then it is the body and the answer of
//! `POST /v1/erp/snapshots` (`edge::erp::apply`), once every line is at a location the connection
//! masters (`api::erp_snapshots::only_mastered`: else `422`, nothing applied).
//!
//! Answers: an unknown connection, one of another kind or a disabled one `404`; a body over
//! `MAX_JSON_BODY_BYTES` `413`; a missing, malformed or wrong signature, a timestamp out of the
//! window, or a connection whose secret cannot be read `401` (`unauthorized`, one answer for all:
//! the reason is logged, never told).

use worker::{console_warn, Env, Request, Response};

use crate::api::erp_snapshots::only_mastered;
use crate::api::{Kind, Problem};
use crate::erp::connection::ErpKind;
use crate::erp::connectors::webhook_in;
use crate::fault::{Fault, StoreError};
use crate::inbound::error::AuthError;
use crate::inbound::headers::Headers;
use crate::stock::limits::MAX_JSON_BODY_BYTES;
use crate::stock::Token;

use super::clock::now;
use super::handlers::{query_pairs, signed_body, signed_write, snapshot_request};
use super::store::{self, erp as rows};
use super::{http, key_registry, secrets};

fn answer(p: &Problem) -> Result<Response, Fault> {
    Ok(http::problem(p)?)
}

pub async fn receive(id: Token, mut req: Request, env: &Env) -> Result<Response, Fault> {
    let db = store::db(env)?;
    let found = match rows::connection(&db, &id).await {
        Ok(c) => c,
        Err(StoreError::SchemaMissing { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let Some(conn) = found.filter(|c| c.kind == ErpKind::Webhook && c.enabled) else {
        let detail = format!("no enabled ERP connection {id} of kind webhook");
        return answer(&Problem::new(Kind::NotFound, detail).with("resource", "erp_connection"));
    };
    let bytes = match signed_body(&mut req, MAX_JSON_BODY_BYTES).await? {
        Ok(b) => b,
        Err(p) => return answer(&p),
    };
    let headers = Headers::from_pairs(req.headers().entries());
    let verified = match secrets::read(env, conn.credentials_secret.as_deref()) {
        Ok(secret) => webhook_in::verify(&headers, &bytes, secret.as_bytes(), now()),
        Err(why) => {
            console_warn!("erp connection {id}: its signing secret cannot be read: {why}");
            Err(AuthError::NoSecret)
        }
    };
    if let Err(why) = verified {
        console_warn!("erp connection {id}: snapshot refused: {why}");
        let detail = format!("the request is not signed with ERP connection {id}'s secret (X-StockEdge-Signature)");
        return answer(&Problem::new(Kind::Unauthorized, detail));
    }
    let w = match signed_write(&req, env, bytes).await? {
        Ok(w) => w,
        Err(p) => return answer(&p),
    };
    let request = match snapshot_request(&w, &query_pairs(&req)?) {
        Ok(r) => r,
        Err(p) => return answer(&p),
    };
    if let Err(p) = only_mastered(&request, &id, &rows::mastered(&db, &id).await?) {
        return answer(&p);
    }
    key_registry::keeping(env, w.idem.as_ref(), super::erp::apply(env, request)).await
}
