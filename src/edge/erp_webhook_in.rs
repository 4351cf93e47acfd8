//! `POST /v1/erp/connections/{id}/snapshots`: a webhook ERP's snapshot (docs/erp.md "Webhook
//! ERP", docs/api.md). No bearer token: the body is authenticated by the connection's signature
//! (`erp::connectors::webhook_in`) before anything else is done with it — before its
//! Idempotency-Key is claimed or its content read. Then it is the body and the answer of
//! `POST /v1/erp/snapshots` (`edge::erp::apply`), once every line is at a location the connection
//! masters (`api::erp_snapshots::only_mastered`: else `422`, nothing applied). A line may name the
//! ERP's own codes instead (`item`, `warehouse`: `api::erp_snapshot_codes`), mapped through the
//! connection's mappings first (an unmapped code `422`, nothing applied).
//!
//! Answers: a body over `MAX_JSON_BODY_BYTES` `413`; a missing, malformed or wrong signature, a
//! timestamp out of the window, a connection whose secret cannot be read, and an id that names no
//! enabled webhook connection (none, another kind, disabled) `401` (`unauthorized`, one answer for
//! all, the body checked either way — `webhook_in::verify_connection` — so an unauthenticated
//! caller cannot probe which connection ids exist: the reason is logged, never told).

use worker::{console_warn, Env, Request, Response};

use crate::api::erp_snapshot_codes::{into_stockedge_terms, names_codes};
use crate::api::erp_snapshots::{only_mastered, snapshot_body, snapshot_object};
use crate::api::{Kind, Problem};
use crate::erp::connection::ErpKind;
use crate::erp::connectors::webhook_in;
use crate::fault::{Fault, StoreError};
use crate::inbound::headers::Headers;
use crate::stock::limits::MAX_JSON_BODY_BYTES;
use crate::stock::Token;

use super::clock::now;
use super::handlers::{query_pairs, signed_body, signed_write};
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
    let conn = found.filter(|c| c.kind == ErpKind::Webhook && c.enabled);
    let bytes = match signed_body(&mut req, MAX_JSON_BODY_BYTES).await? {
        Ok(b) => b,
        Err(p) => return answer(&p),
    };
    let headers = Headers::from_pairs(req.headers().entries());
    let secret = match &conn {
        None => {
            console_warn!("erp connection {id}: a signed snapshot for no enabled webhook connection of that id");
            None
        }
        Some(c) => match secrets::read(env, c.credentials_secret.as_deref()) {
            Ok(secret) => Some(secret),
            Err(why) => {
                console_warn!("erp connection {id}: its signing secret cannot be read: {why}");
                None
            }
        },
    };
    let verified = webhook_in::verify_connection(&headers, &bytes, secret.as_deref().map(str::as_bytes), now());
    if let Err(why) = verified {
        console_warn!("erp connection {id}: snapshot refused: {why}");
        // One answer, byte for byte, whatever the reason (the id included: it is not echoed).
        let detail = "the request is not signed with the ERP connection's secret (X-StockEdge-Signature)";
        return answer(&Problem::new(Kind::Unauthorized, detail));
    }
    let w = match signed_write(&req, env, bytes).await? {
        Ok(w) => w,
        Err(p) => return answer(&p),
    };
    // Lines in the ERP's own codes (`item`, `warehouse`) are mapped through the connection's
    // mappings, read only when some line names a code. Every fault of the body is answered
    // together with the Idempotency-Key's (`validated`).
    let request = match snapshot_body(&query_pairs(&req)?, &w.bytes) {
        Ok(mut body) if names_codes(&body) => {
            into_stockedge_terms(&mut body, &rows::mappings(&db, &id).await?, &id).and_then(|()| snapshot_object(&body))
        }
        Ok(body) => snapshot_object(&body),
        Err(p) => Err(p),
    };
    let request = match w.validated(request) {
        Ok(r) => r,
        Err(p) => return answer(&p),
    };
    if let Err(p) = only_mastered(&request, &id, &rows::mastered(&db, &id).await?) {
        return answer(&p);
    }
    key_registry::keeping(env, w.idem.as_ref(), super::erp::apply(env, request)).await
}
