//! `POST /v1/inbound/unmatched/{id}/map`: carries out what `api::unmatched_map` decides. Reads
//! the line with its channel; a line answered before answers that answer again. Otherwise finds
//! what the channel already lists for it, creates the listing when there is none (and pushes it
//! the SKU's state, as a catalogue PUT does), applies the line as the webhook would have
//! (`inbound::apply::plan_mapped`: the order desk sells each line id once, a restock is applied
//! once under its key), and keeps the answer — the first kept wins, so concurrent repeats all
//! answer it. A refusal of the order desk or a ledger is answered as such and nothing is kept:
//! a retry maps the line again through the listing now there.

use worker::{console_warn, D1Database, Env, Response};

use crate::api::catalog_bodies::not_found;
use crate::api::idempotency::Keyed;
use crate::api::order_call::{self, SkuLine};
use crate::api::reply::HttpReply;
use crate::api::sku_call::{self, SkuAnswer};
use crate::api::unmatched_map::{answer, event_of, identity_conflict, target, Existing, MapRequest, Target};
use crate::api::{Kind, Problem};
use crate::catalog::model::{Entity, Listing, Stamps};
use crate::db::unmatched_map::{self as sql, AnswerRow, MapLineRow};
use crate::fault::{Constraint, Fault, ObjectError, StoreError};
use crate::inbound::apply::{lookups, mapped_sku, plan_mapped, Arrival, Effect, Loaded};
use crate::inbound::InboundChannel;
use crate::stock::Sku;
use crate::time::Millis;

use super::clock::now;
use super::store::{self, listings, rows};
use super::{availability_cache, catalog_reads, http, order_client, repush, sku_client};

/// Maps line `id` as `req` asks, or answers the answer kept for it.
pub async fn map(env: &Env, id: i64, req: MapRequest) -> Result<Response, Fault> {
    let db = store::db(env)?;
    let Some(row) = store::read_first::<MapLineRow>(&db, sql::line(id)).await? else {
        let p = Problem::new(Kind::NotFound, format!("no unmatched line {id}")).with("resource", "unmatched line");
        return Ok(http::problem(&p)?);
    };
    if let Some(kept) = row.mapped_answer {
        return Ok(http::raw_json(200, kept)?);
    }
    let (Some(ch), Some(kind)) =
        (row.channel(), row.channel_kind.as_deref().and_then(crate::catalog::model::ChannelKind::parse))
    else {
        return Ok(http::problem(&not_found(Entity::Channel, &row.line.channel))?);
    };
    let line = row.line;
    let (event, identity) = event_of(&line, kind, &ch.account)?;
    let t = now();

    // What the channel lists now: the listing the line's keys find, and the SKU's own listing.
    let found = store::inbound::listings(&db, &ch.id, &lookups(std::slice::from_ref(&event))).await?;
    let (_, listed) = listings::get(&db, &ch.id, &req.sku).await?;
    let existing = Existing {
        maps_line_to: event.lines.first().and_then(|l| mapped_sku(l, &found)),
        sku_listed_as: listed.as_ref().map(|r| r.identity.clone()),
    };
    let record = match target((&ch.id, kind, &ch.settings), &identity, &req, &existing) {
        Err(p) => return Ok(http::problem(&p)?),
        Ok(Target::Listed) => match listed {
            Some(r) => r.listing(kind)?,
            None => {
                return Ok(http::problem(&not_found(Entity::Listing, &format!("{} on channel {}", req.sku, ch.id)))?)
            }
        },
        Ok(Target::Create(external)) => {
            let listing = Listing { channel: ch.id.clone(), sku: req.sku.clone(), external, rule: Default::default() };
            match create(env, &db, &listing, t).await? {
                Some(problem) => return Ok(http::problem(&problem)?),
                None => (listing, Stamps::written(None, t)),
            }
        }
    };
    let listing_json = record.0.to_json(record.1);

    let skus = match apply(env, &ch, kind, &event, &req.sku, t).await? {
        Ok(skus) => skus,
        Err(refused) => return Ok(http::reply(&refused)?),
    };
    let body = answer(&line, listing_json, &skus).to_string();
    let res = store::batch_of(&db, sql::keep_answer(id, &req.sku, &body, t)).await?;
    let kept =
        res.get(1).map(rows::<AnswerRow>).transpose()?.and_then(|r| r.into_iter().next()).and_then(|r| r.mapped_answer);
    Ok(http::raw_json(200, kept.unwrap_or(body))?)
}

/// Writes the new listing and pushes it the SKU's state; a problem when its identity is taken
/// meanwhile (the unique index).
async fn create(env: &Env, db: &D1Database, listing: &Listing, t: Millis) -> Result<Option<Problem>, Fault> {
    let write = listings::write(db, listing, Stamps::written(None, t))?;
    match store::batch(db, vec![write]).await {
        Ok(_) => {}
        Err(StoreError::Constraint { constraint: Constraint::Unique, .. }) => {
            let identity = listing.identity();
            let other = listings::sku_for_identity(db, &listing.channel, &identity).await?;
            return Ok(Some(identity_conflict(&listing.channel, &identity, other.as_ref())));
        }
        Err(e) => return Err(e.into()),
    }
    let pushed = match repush::current(env, &listing.sku, t).await {
        Ok(Some(state)) => repush::to_listing(env, db, &listing.channel, &state, None, t).await,
        Ok(None) => Ok(()),
        Err(why) => Err(why),
    };
    if let Err(why) = pushed {
        console_warn!(
            "listing {}/{} written; its first push waits for the next change: {why}",
            listing.channel,
            listing.sku
        );
    }
    Ok(None)
}

/// Applies the line as `sku`'s: the ledgers' answers, or the refusal to answer with.
async fn apply(
    env: &Env,
    ch: &InboundChannel,
    kind: crate::catalog::model::ChannelKind,
    event: &crate::inbound::InboundEvent,
    sku: &Sku,
    t: Millis,
) -> Result<Result<Vec<SkuLine>, HttpReply>, Fault> {
    let loaded = Loaded { bundles: catalog_reads::bundles(env, std::slice::from_ref(sku)).await?, ..Loaded::default() };
    let at = Arrival { kind, topic: "map", dedupe_key: None, now: t };
    let plan = plan_mapped(ch, &at, std::slice::from_ref(event), sku, &loaded);
    let mut skus = Vec::new();
    for effect in &plan.effects {
        match effect {
            Effect::Sell { order, lines } => {
                let call = crate::inbound::apply::sell_call(order, lines);
                let reply = order_client::call(env, &call).await?;
                availability_cache::after_order(env, &call, &reply, t).await;
                match reply.reply().ok_or_else(|| out_of_contract("OrderDesk"))? {
                    Ok(state) => skus.extend(state.skus),
                    Err(refusal) => return Ok(Err(order_call::render(Err(refusal)))),
                }
            }
            Effect::Restock(r) => match sku_client::call(env, &r.call()).await? {
                Keyed::Answered(Ok(SkuAnswer::Applied(a))) | Keyed::Replayed(Ok(SkuAnswer::Applied(a))) => {
                    skus.push(SkuLine::applied(&r.sku, &a));
                }
                other => return Ok(Err(sku_call::render_keyed(other))),
            },
            Effect::Cancel { .. } | Effect::RecordUnmatched(_) | Effect::RecordDrift(_) | Effect::PushBack { .. } => {}
        }
    }
    Ok(Ok(skus))
}

fn out_of_contract(class: &'static str) -> ObjectError {
    ObjectError::OutOfContract { class, detail: "a key verdict to an unkeyed call".into() }
}
