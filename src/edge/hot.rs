//! Reservations of hot SKUs: which go to an allotment, and the policy route.
//!
//! A single-line hold at `main` of a hot SKU without a client-chosen id goes to allotment
//! `allot::home::pick(caller, K)`, where the caller is the reservation's `reference`, else its
//! Idempotency-Key, else a random value (so a client that names itself always meets the same
//! allotment). Its id names the allotment, so reads, commits, releases and extends of it go
//! straight there ([`route`]). What the Worker knows of a SKU's policy it learned from the SKU's
//! object and keeps in isolate memory for `HOT_CACHE_TTL_MS`: a stale "hot" is safe (the
//! allotment is refused blocks and answers not hot; the hold then goes to the SKU as usual), and
//! a stale "not hot" holds at the SKU, which lends only what is free.

use std::cell::RefCell;
use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use worker::{Env, Response};

use crate::allot::allotment::HoldRequest;
use crate::allot::limits::HOT_CACHE_TTL_MS;
use crate::allot::{home, AllotHome, HotPolicy, LenderCall, LenderReply};
use crate::api::allot_call::{self, AllotAction, AllotAnswer, AllotCall, AllotReply, PolicyView};
use crate::api::cart_call;
use crate::api::idempotency::Keyed;
use crate::api::reply::HttpReply;
use crate::api::requests;
use crate::api::sku_call::{self, SkuAction, SkuAnswer, SkuCall};
use crate::cart::Part;
use crate::fault::{Fault, ObjectError};
use crate::stock::{Location, Sku, Token};

use super::allotment_object::BINDING;
use super::clock::now;
use super::handlers::Write;
use super::{http, sku_client};

thread_local! {
    /// SKU → (policy, known until), per isolate.
    static POLICIES: RefCell<BTreeMap<Sku, (Option<HotPolicy>, i64)>> = const { RefCell::new(BTreeMap::new()) };
}

fn remember(sku: &Sku, policy: Option<HotPolicy>) {
    let until = now().0 + HOT_CACHE_TTL_MS;
    POLICIES.with(|p| p.borrow_mut().insert(sku.clone(), (policy, until)));
}

fn forget(sku: &Sku) {
    POLICIES.with(|p| p.borrow_mut().remove(sku));
}

/// The SKU's hot policy, from isolate memory or its object.
async fn policy(env: &Env, sku: &Sku) -> Result<Option<HotPolicy>, Fault> {
    let t = now().0;
    if let Some((p, until)) = POLICIES.with(|p| p.borrow().get(sku).copied()) {
        if until > t {
            return Ok(p);
        }
    }
    let p = match sku_client::ask(env, sku, SkuAction::Lender { call: LenderCall::Policy }).await? {
        Ok(SkuAnswer::Lender(LenderReply::Policy { policy, .. })) => policy,
        _ => None,
    };
    remember(sku, p);
    Ok(p)
}

async fn call(env: &Env, home: &AllotHome, call: &AllotCall) -> Result<AllotReply, Fault> {
    Ok(rpc_call(env, home, call).await?)
}

async fn rpc_call(env: &Env, home: &AllotHome, call: &AllotCall) -> Result<AllotReply, ObjectError> {
    super::rpc::call(env, BINDING, &home.object, call).await
}

fn render(reply: AllotReply, id: &Token) -> Result<Response, Fault> {
    let cart = allot_call::as_cart(reply).unwrap_or(Keyed::Answered(match allot_call::not_found(id) {
        AllotAnswer::Cart(r) => r,
        _ => Err(crate::api::cart_call::CartRefusal::NotFound { id: id.clone() }),
    }));
    Ok(http::reply(&cart_call::render_keyed(cart))?)
}

/// What a creation asks besides its lines (`api::requests::CreateReservation`).
pub(super) struct Creation<'a> {
    pub id: &'a Option<Token>,
    pub ttl_seconds: i64,
    pub channel: &'a Option<Token>,
    pub reference: &'a Option<String>,
}

/// Holds `parts` in an allotment if the SKU is hot and the request fits one (see the module);
/// `None`: hold as usual.
pub(super) async fn create(
    env: &Env,
    parts: &[Part],
    c: &Creation<'_>,
    idem: Option<&(String, String)>,
) -> Option<Result<Response, Fault>> {
    let [part] = parts else { return None };
    let [(location, qty)] = part.lines.as_slice() else { return None };
    if c.id.is_some() || *location != Location::main() {
        return None;
    }
    let p = match policy(env, &part.sku).await {
        Ok(Some(p)) => p,
        Ok(None) => return None,
        Err(e) => return Some(Err(e)),
    };
    let mut random = [0u8; 8];
    let caller = match (c.reference, idem) {
        (_, Some((key, _))) => {
            random.copy_from_slice(&Sha256::digest(key.as_bytes())[..8]);
            c.reference.clone().unwrap_or_else(|| key.clone())
        }
        (reference, None) => {
            if let Err(e) = getrandom::fill(&mut random) {
                return Some(Err(Fault::Runtime(e.to_string())));
            }
            reference.clone().unwrap_or_else(|| hex::encode(random))
        }
    };
    let home = AllotHome::of(&part.sku, home::pick(&caller, p.allotments));
    let id = home.reservation_id(random);
    let request = HoldRequest {
        id: id.clone(),
        qty: *qty,
        ttl_seconds: c.ttl_seconds,
        channel: c.channel.clone(),
        reference: c.reference.clone(),
        block: p.block,
    };
    let action = AllotAction::Create { sku: part.sku.clone(), index: home.index, request };
    let reply = match call(env, &home, &AllotCall { id: id.clone(), action, idempotency: None }).await {
        Ok(r) => r,
        Err(e) => return Some(Err(e)),
    };
    if reply == Keyed::Answered(AllotAnswer::NotHot) {
        forget(&part.sku);
        return None;
    }
    Some(render(reply, &id))
}

/// Carries out `action` on reservation `id` if an allotment holds it; `None`: not an
/// allotment's id.
pub(super) async fn route(
    env: &Env,
    id: &Token,
    action: AllotAction,
    idempotency: Option<(String, String)>,
) -> Option<Result<Response, Fault>> {
    let home = AllotHome::parse(id.as_str())?;
    Some(match call(env, &home, &AllotCall { id: id.clone(), action, idempotency }).await {
        Ok(reply) => render(reply, id),
        Err(e) => Err(e),
    })
}

/// `PUT /v1/skus/{sku}/policy` (admin): makes the SKU hot or ordinary; answers the policy.
pub(super) async fn set_policy(env: &Env, sku: Sku, w: &Write) -> Result<Response, Fault> {
    let policy = match w.validated(requests::hot_policy(&w.bytes)) {
        Ok(p) => p,
        Err(problem) => return Ok(http::problem(&problem)?),
    };
    let action = SkuAction::Lender { call: LenderCall::SetPolicy { policy } };
    let reply = sku_client::call(env, &SkuCall { sku: sku.clone(), action, idempotency: w.idem.clone() }).await?;
    remember(&sku, policy);
    Ok(http::reply(&HttpReply::keyed(reply, |r| policy_reply(&sku, r)))?)
}

/// The answer to a policy route: the SKU object's policy as [`PolicyView`], or its refusal.
fn policy_reply(sku: &Sku, r: sku_call::SkuResult) -> HttpReply {
    match r {
        Ok(SkuAnswer::Lender(LenderReply::Policy { policy, automatic })) => {
            PolicyView::of(sku, policy.as_ref(), automatic.as_ref()).render()
        }
        other => sku_call::render(other),
    }
}

/// `GET /v1/skus/{sku}/policy` (read): the policy in force, and whether an operator or automatic
/// hotness set it. What the Worker learns here it keeps like any policy it asked for.
pub(super) async fn policy_view(env: &Env, sku: Sku) -> Result<Response, Fault> {
    let call = SkuCall { sku: sku.clone(), action: SkuAction::Lender { call: LenderCall::Policy }, idempotency: None };
    let reply = sku_client::call(env, &call).await?;
    if let Keyed::Answered(Ok(SkuAnswer::Lender(LenderReply::Policy { policy, .. }))) = &reply {
        remember(&sku, *policy);
    }
    Ok(http::reply(&HttpReply::keyed(reply, |r| policy_reply(&sku, r)))?)
}
