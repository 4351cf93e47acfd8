//! `GET /v1/channels/{c}/listings/{sku}/advice`: reads the SKU's listings with their channels'
//! kinds (one D1 statement, `db::sku_listings`: the listing asked about and its channel's kind) and the newest entries of the SKU's journal (its
//! ledger, `SkuAction::JournalTail`), and answers what `api::listing_advice` makes of them.

use worker::{Env, Response};

use crate::api::catalog_bodies::not_found;
use crate::api::listing_advice::{advice, advice_query, Read, JOURNAL_TAIL};
use crate::api::sku_call::{render, SkuAction, SkuAnswer};
use crate::catalog::model::Entity;
use crate::db::sku_listings::{read, SkuListingRow};
use crate::fault::{Fault, ObjectError};
use crate::stock::{Sku, Token};

use super::clock::now;
use super::{http, sku_client, store};

pub async fn serve(env: &Env, channel: &Token, sku: &Sku, query: &[(String, String)]) -> Result<Response, Fault> {
    let q = match advice_query(query) {
        Ok(q) => q,
        Err(p) => return Ok(http::problem(&p)?),
    };
    let rows: Vec<SkuListingRow> = store::read(&store::db(env)?, read(sku)).await?;
    let Some(listing) = rows.iter().find(|r| r.channel == channel.as_str()) else {
        return Ok(http::problem(&not_found(Entity::Listing, &format!("{sku} on channel {channel}")))?);
    };
    let page = match sku_client::ask(env, sku, SkuAction::JournalTail { limit: JOURNAL_TAIL }).await? {
        Ok(SkuAnswer::Journal(page)) => page,
        Err(refusal) => return Ok(http::reply(&render(Err(refusal)))?),
        Ok(_) => {
            return Err(ObjectError::OutOfContract {
                class: sku_client::BINDING,
                detail: "a journal tail answered with something else".into(),
            }
            .into())
        }
    };
    let r = Read { channel, sku, kind: &listing.kind, buffer: listing.buffer, entries: &page.entries, now: now() };
    match advice(&r, &q) {
        Ok(v) => Ok(http::json(200, &v)?),
        Err(p) => Ok(http::problem(&p)?),
    }
}
