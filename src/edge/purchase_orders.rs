//! `POST /v1/edi/850?channel=<wholesale channel>`: a trading partner's X12 850 purchase orders
//! become sales on the wholesale channel, answered with an 855 (or a 997 rejecting a malformed
//! group, nothing applied). What is read, decided and written is `inbound::x12_read`, `po850`,
//! `purchase_orders` and `x12_ack`; this authenticates the partner, applies the sale through
//! the inbound planner and the order desk, and keeps each order's ACKs so a repeat is answered
//! as the first.

use std::collections::BTreeMap;

use worker::{Env, Request, Response};

use crate::api::order_call::{OrderRefusal, SkuLine};
use crate::api::requests::token_in_path;
use crate::api::{FieldError, Kind, Problem};
use crate::catalog::model::ChannelKind;
use crate::fault::Fault;
use crate::inbound::apply::{lookups, needs, plan, Arrival, Effect, Loaded};
use crate::inbound::po850::{purchase_order, PurchaseOrder};
use crate::inbound::purchase_orders::{
    acknowledge, inbound_partners, sale_event, InboundPartner, Presented, MAX_EDI_BODY_BYTES,
};
use crate::inbound::x12_ack::{acknowledgment, answer_envelope, functional_ack, Ack, Acknowledged, Control};
use crate::inbound::x12_read::{read, GroupHeader, Interchange, InterchangeHeader, ReadError};
use crate::inbound::x12_reject::Rejection;
use crate::inbound::InboundChannel;
use crate::stock::Sku;
use crate::sync::x12::Envelope;
use crate::time::Millis;

use super::clock::now;
use super::store::inbound as rows;
use super::{http, order_client, repush, secrets, store};

const EDI_TYPE: &str = "application/edi-x12";

fn unauthorized() -> Result<Response, Fault> {
    let mut r = http::problem(&Problem::new(
        Kind::Unauthorized,
        "the credentials are no trading partner's of this channel (settings.partners.<id>.inbound_secret)",
    ))?;
    r.headers_mut().set("www-authenticate", "Basic realm=\"edi\"")?;
    Ok(r)
}

fn invalid(field: &str, message: impl Into<String>) -> Result<Response, Fault> {
    Ok(http::problem(&Problem::invalid(vec![FieldError::new(field, message)]))?)
}

/// Our envelope for answers to `header`/`group`, from `conn`'s `sender_id` (default `STOCKEDGE`).
fn envelope(conn: &InboundChannel, header: &InterchangeHeader, group: &GroupHeader) -> Envelope {
    answer_envelope(conn.setting("sender_id").unwrap_or("STOCKEDGE"), header, group)
}

async fn control(env: &Env, conn: &InboundChannel) -> Result<Control, Fault> {
    let n = store::sync_state::next_interchange(&store::db(env)?, &conn.id).await?;
    Ok(Control { interchange: n, group: n })
}

fn edi(text: String) -> Result<Response, Fault> {
    Ok(http::text(200, text, EDI_TYPE)?)
}

async fn reject(
    env: &Env,
    conn: &InboundChannel,
    ours: &Envelope,
    group: &GroupHeader,
    received: usize,
    r: &Rejection,
) -> Result<Response, Fault> {
    worker::console_warn!("channel {}: 850 rejected: {}", conn.id, r.message);
    let text = functional_ack(ours, control(env, conn).await?, group, received, r, now())
        .map_err(|e| Fault::Runtime(format!("997: {e}")))?;
    edi(text)
}

/// The partner whose secret the request's credentials are.
fn partner(env: &Env, req: &Request, conn: &InboundChannel) -> Option<InboundPartner> {
    let presented = Presented::of(&req.headers().get("authorization").ok().flatten()?)?;
    inbound_partners(&conn.settings)
        .into_iter()
        .find(|p| secrets::read(env, Some(&p.secret)).is_ok_and(|s| presented.matches(&s)))
}

pub async fn receive(mut req: Request, env: &Env) -> Result<Response, Fault> {
    let channel = req.url()?.query_pairs().find(|(k, _)| k == "channel").map(|(_, v)| v.into_owned());
    let channel = match token_in_path("channel", channel.as_deref().unwrap_or_default()) {
        Ok(c) => c,
        Err(p) => return Ok(http::problem(&p)?),
    };
    let db = store::db(env)?;
    let row = store::channels::get(&db, &channel).await?;
    let Some(row) = row.filter(|r| r.kind == ChannelKind::Wholesale.as_str()) else {
        return Ok(http::problem(&Problem::new(Kind::NotFound, format!("no wholesale channel {channel}")))?);
    };
    let Some(conn) =
        InboundChannel::of(&row.channel, row.account.clone(), row.credentials_secret.clone(), &row.settings)
    else {
        return Ok(http::problem(&Problem::new(Kind::NotFound, format!("no wholesale channel {channel}")))?);
    };
    let Some(partner) = partner(env, &req, &conn) else { return unauthorized() };
    if req.headers().get("content-length").ok().flatten().and_then(|l| l.trim().parse::<usize>().ok()).unwrap_or(0)
        > MAX_EDI_BODY_BYTES
    {
        return Ok(http::problem(&too_large())?);
    }
    let bytes = req.bytes().await?;
    if bytes.len() > MAX_EDI_BODY_BYTES {
        return Ok(http::problem(&too_large())?);
    }
    let Ok(text) = String::from_utf8(bytes) else { return invalid("body", "the interchange is not ASCII/UTF-8 text") };
    let x = match read(&text) {
        Ok(x) => x,
        Err(ReadError::Unreadable(why)) => return invalid("body", why),
        Err(ReadError::Rejected(r)) => {
            let ours = envelope(&conn, &r.header, &r.group);
            if let Err(p) = check_sender(&partner, &r.header.sender_id) {
                return Ok(http::problem(&p)?);
            }
            return reject(env, &conn, &ours, &r.group, r.received, &r.rejection).await;
        }
    };
    if let Err(p) = check_sender(&partner, &x.header.sender_id) {
        return Ok(http::problem(&p)?);
    }
    let ours = envelope(&conn, &x.header, &x.group);
    let orders = match orders(&x) {
        Ok(o) => o,
        Err(r) => return reject(env, &conn, &ours, &x.group, x.sets.len(), &r).await,
    };
    let t = now();
    let mut acked = Vec::with_capacity(orders.len());
    for po in &orders {
        match apply(env, &db, &conn, &partner, po, t).await? {
            Ok(acks) => acked.push(acks),
            Err(p) => return Ok(http::problem(&p)?),
        }
    }
    let answered: Vec<Acknowledged<'_>> =
        orders.iter().zip(acked).map(|(order, acks)| Acknowledged { order, acks }).collect();
    let text = acknowledgment(&ours, control(env, &conn).await?, &answered, t)
        .map_err(|e| Fault::Runtime(format!("855: {e}")))?;
    edi(text)
}

fn too_large() -> Problem {
    Problem::new(Kind::PayloadTooLarge, format!("an interchange is at most {MAX_EDI_BODY_BYTES} bytes"))
}

/// The 850's ISA06 must be the authenticated partner's X12 id.
fn check_sender(partner: &InboundPartner, isa06: &str) -> Result<(), Problem> {
    if partner.x12_id == isa06 {
        return Ok(());
    }
    Err(Problem::new(
        Kind::Forbidden,
        format!(
            "the interchange's sender (ISA06 {isa06:?}) is not the authenticated partner {} ({:?})",
            partner.partner_id, partner.x12_id
        ),
    ))
}

/// Every purchase order of the interchange, or the first set's rejection (nothing is applied).
fn orders(x: &Interchange) -> Result<Vec<PurchaseOrder>, Rejection> {
    x.sets.iter().map(purchase_order).collect()
}

/// Applies one purchase order once and answers its ACKs (the first answer for a repeat); a
/// desk that could not complete the sale now is `503` (send it again).
async fn apply(
    env: &Env,
    db: &worker::D1Database,
    conn: &InboundChannel,
    partner: &InboundPartner,
    po: &PurchaseOrder,
    t: Millis,
) -> Result<Result<Vec<Vec<Ack>>, Problem>, Fault> {
    if let Some(acks) = store::purchase_orders::acks(db, conn.id.as_str(), &po.number).await? {
        return Ok(Ok(acks));
    }
    let events = vec![sale_event(po, &partner.partner_id, &conn.account, t)];
    let listings = rows::listings(db, &conn.id, &lookups(&events)).await?;
    let wanted = needs(&events, &listings);
    let mut loaded = Loaded { listings, ..Loaded::default() };
    if !wanted.bundles_of.is_empty() {
        loaded.bundles = super::catalog_reads::bundles(env, &wanted.bundles_of).await?;
    }
    if !wanted.states_of.is_empty() {
        loaded.states = repush::current_all(env, &wanted.states_of, t).await?;
    }
    let at = Arrival { kind: ChannelKind::Wholesale, topic: "850", dedupe_key: None, now: t };
    let planned = plan(conn, &at, &events, &loaded)?;
    let mut desk: BTreeMap<Sku, SkuLine> = BTreeMap::new();
    for effect in &planned.effects {
        match effect {
            Effect::RecordUnmatched(lines) => rows::record_unmatched(db, lines).await?,
            Effect::Sell { order, lines } => {
                let call = crate::inbound::apply::sell_call(order, lines);
                match order_client::call(env, &call).await?.reply() {
                    Some(Ok(state)) => desk.extend(state.skus.into_iter().map(|s| (s.sku.clone(), s))),
                    Some(Err(OrderRefusal::Unavailable(why))) => {
                        return Ok(Err(Problem::new(
                            Kind::Unavailable,
                            format!("the sale of {} could not be completed now ({why}); send the 850 again", po.number),
                        )))
                    }
                    // The desk refused the order (or a ledger its part: `applied_skus` names what
                    // did apply): answer its problem and keep no ACK, so the partner is never told a
                    // line was accepted that the ledger does not hold.
                    Some(Err(refusal)) => return Ok(Err(refusal.problem())),
                    None => {
                        return Ok(Err(Problem::new(
                            Kind::IdempotencyKeyReused,
                            format!("the order desk holds PO {} with other lines; nothing was applied", po.number),
                        )))
                    }
                }
            }
            other => worker::console_warn!("channel {}: PO {}: unexpected effect {other:?}", conn.id, po.number),
        }
    }
    let acks = acknowledge(po, &planned.effects, &desk);
    store::purchase_orders::keep(db, conn.id.as_str(), &po.number, &partner.partner_id, &acks, t).await?;
    Ok(Ok(acks))
}
