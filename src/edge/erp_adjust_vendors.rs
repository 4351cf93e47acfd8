//! Forwarded adjustment requests applied in Odoo, SAP Business One and NetSuite (docs/erp.md
//! "Adjustment requests to the ERP"): one attempt looks the request's tagged posting up, reads the
//! ERP's figure when there is none, and posts what `erp::adjustment_send` decides — the posting
//! sent once (`erp_poll::send_once`; a lost answer is resolved by the next attempt's look-up).
//! Sessions, tokens, tries and `Retry-After` are the stock polls' and order delivery's
//! (`erp_poll`, `erp_netsuite`).

use crate::erp::adjustment_send::{self, Found, Next};
use crate::erp::connection::{Connection, ErpKind};
use crate::erp::connectors::netsuite::auth::Credentials as NetsuiteCredentials;
use crate::erp::connectors::netsuite::inventory_adjustment::{self as ns, Adjustment, Books};
use crate::erp::connectors::netsuite::Created;
use crate::erp::connectors::sap_b1::Credentials;
use crate::erp::connectors::sap_b1_adjust::{self as sap, Collection};
use crate::erp::connectors::webhook::{AdjustmentEvent, Receipt};
use crate::erp::connectors::{classify, odoo_adjust as odoo, Answer, CallFailure};
use crate::erp::master::Requested;

use crate::sync::{HttpRequest, HttpResponse};

use super::clock::now;
use super::erp_netsuite::{NetsuiteClient, Sending};
use super::erp_poll::{send_once, send_retrying, SapClient};

/// Applies request `e` in `conn`'s ERP (Odoo, SAP B1 or NetSuite): received, already applied, or
/// why not.
pub(super) async fn send(secret: &str, conn: &Connection, e: &AdjustmentEvent) -> Result<Receipt, CallFailure> {
    let (Some(item), Some(warehouse)) = (e.item_code.as_deref(), e.warehouse.as_deref()) else {
        return Err(CallFailure::Refused(format!(
            "SKU {} or location {} has no code in ERP connection {} (map it with PUT /v1/erp/connections/{}/mappings, \
             then forward the change again)",
            e.sku, e.location, conn.id, conn.id
        )));
    };
    let tag = adjustment_send::tag(e.id);
    match conn.kind {
        ErpKind::Odoo => {
            let product = odoo::id_of(item, "item").map_err(CallFailure::Refused)?;
            let location = odoo::id_of(warehouse, "warehouse").map_err(CallFailure::Refused)?;
            let o = Odoo { base: &conn.base_url, key: secret, database: conn.setting("database") };
            o.send(e, product, location, &tag).await
        }
        ErpKind::SapB1 => {
            let creds = Credentials::parse(secret).map_err(CallFailure::Refused)?;
            let sap = SapClient { base: &conn.base_url, id: conn.id.as_str(), creds };
            send_sap(&sap, e, item, warehouse, &tag).await
        }
        ErpKind::Netsuite => {
            let books = Books::of(conn).map_err(CallFailure::Refused)?;
            let creds = NetsuiteCredentials::parse(secret).map_err(CallFailure::Refused)?;
            send_netsuite(&NetsuiteClient::new(&conn.base_url, creds), e, &books, item, warehouse, &tag).await
        }
        ErpKind::Webhook => {
            Err(CallFailure::Refused(format!("requests to a {} connection are not applied here", conn.kind.as_str())))
        }
    }
}

/// What a vendor's unreadable answer is: worth another attempt.
fn unreadable(why: String) -> CallFailure {
    CallFailure::Unavailable(why)
}

struct Odoo<'a> {
    base: &'a str,
    key: &'a str,
    database: Option<&'a str>,
}

impl Odoo<'_> {
    /// A call that may be repeated; a refused key (401) is a refusal (an API key is not renewed).
    async fn call(&self, req: &HttpRequest) -> Result<HttpResponse, CallFailure> {
        let resp = send_retrying(self.base, req).await?;
        if classify(&resp, now()) == Answer::Reauthenticate {
            return Err(CallFailure::Refused("Odoo refused the API key (401)".into()));
        }
        Ok(resp)
    }

    async fn send(&self, e: &AdjustmentEvent, product: i64, location: i64, tag: &str) -> Result<Receipt, CallFailure> {
        let moved = self.call(&odoo::find_move(self.key, self.database, tag)).await?;
        let found = if odoo::read_moved(&moved).map_err(unreadable)? {
            None
        } else {
            let resp = self.call(&odoo::find_quant(self.key, self.database, product, location)).await?;
            Some(odoo::read_quant(&resp).map_err(unreadable)?)
        };
        let state = match &found {
            None => Found::Posted,
            Some(q) => Found::NotPosted { current: q.map_or(0.0, |q| q.quantity) },
        };
        let target = match adjustment_send::odoo(e.change, state) {
            Next::AlreadyApplied => return Ok(Receipt::AlreadyHad),
            Next::Nothing => return Ok(Receipt::Received),
            Next::Send(t) => t,
        };
        // Counting is repeatable (a count set twice is one count); only the apply moves stock.
        let quant = match found.flatten() {
            Some(q) => {
                self.call(&odoo::count(self.key, self.database, q.id, target)).await?;
                q.id
            }
            None => {
                let resp = self.call(&odoo::create_counted(self.key, self.database, product, location, target)).await?;
                odoo::read_created(&resp).map_err(unreadable)?
            }
        };
        let resp = send_once(self.base, &odoo::apply(self.key, self.database, quant, tag)).await?;
        match classify(&resp, now()) {
            Answer::Ok => odoo::read_applied(&resp).map(|()| Receipt::Received).map_err(CallFailure::Refused),
            Answer::Refused(why) => Err(CallFailure::Refused(why)),
            Answer::Reauthenticate => Err(CallFailure::Refused("Odoo refused the API key (401)".into())),
            Answer::Wait(_) | Answer::Retry(_) => {
                Err(CallFailure::Unavailable(format!("action_apply_inventory answered {}", resp.status)))
            }
        }
    }
}

async fn send_sap(
    sap: &SapClient<'_>,
    e: &AdjustmentEvent,
    item: &str,
    warehouse: &str,
    tag: &str,
) -> Result<Receipt, CallFailure> {
    let mut posted = false;
    for c in Collection::BOTH {
        let resp = sap.call_with(|s| Ok(sap::find_posting(s, c, tag)), false).await?;
        posted |= sap::read_posting(&resp).map_err(unreadable)?;
    }
    let found = match (posted, e.change) {
        (true, _) => Found::Posted,
        // An adjustment's delta does not depend on the figure.
        (false, Requested::Adjust { .. }) => Found::NotPosted { current: 0.0 },
        (false, Requested::Set { .. }) => {
            let resp = sap.call_with(|s| Ok(sap::item(s, item)), false).await?;
            Found::NotPosted { current: sap::read_in_stock(&resp, warehouse).map_err(unreadable)? }
        }
    };
    let delta = match adjustment_send::delta(e.change, found) {
        Next::AlreadyApplied => return Ok(Receipt::AlreadyHad),
        Next::Nothing => return Ok(Receipt::Received),
        Next::Send(d) => d,
    };
    let resp = sap.call_with(|s| Ok(sap::post(s, delta, item, warehouse, tag, &memo(e, tag))), true).await?;
    match classify(&resp, now()) {
        Answer::Ok => Ok(Receipt::Received),
        Answer::Refused(why) => Err(CallFailure::Refused(why)),
        Answer::Wait(_) | Answer::Retry(_) | Answer::Reauthenticate => {
            Err(CallFailure::Unavailable(format!("{} answered {}", Collection::of(delta).name(), resp.status)))
        }
    }
}

/// The request's tag, and its reason when it has one (SAP B1's `Comments`, NetSuite's `memo`).
fn memo(e: &AdjustmentEvent, tag: &str) -> String {
    match &e.reason {
        Some(r) => format!("{tag}: {r}"),
        None => tag.to_owned(),
    }
}

/// NetSuite: the adjustment under the request's `externalId` looked up (`eid:`); none, the units
/// to post decided (a count from `quantityonhand` now) and the adjustment created once. A create
/// refused because the `externalId` is taken went through earlier: already applied.
async fn send_netsuite(
    ns_client: &NetsuiteClient<'_>,
    e: &AdjustmentEvent,
    books: &Books,
    item: &str,
    location: &str,
    tag: &str,
) -> Result<Receipt, CallFailure> {
    let external_id = ns::external_id(e.id);
    let resp = ns_client.call_as(|t| Ok(ns::find(t, &external_id)), Sending::UntilAnswered).await?;
    let found = match (ns::read_found(&resp, now())?, e.change) {
        (true, _) => Found::Posted,
        // An adjustment's delta does not depend on the figure.
        (false, Requested::Adjust { .. }) => Found::NotPosted { current: 0.0 },
        (false, Requested::Set { .. }) => {
            let resp = ns_client.call_as(|t| ns::on_hand(t, item, location), Sending::Retrying).await?;
            Found::NotPosted { current: ns::read_on_hand(&resp).map_err(unreadable)? }
        }
    };
    let delta = match adjustment_send::delta(e.change, found) {
        Next::AlreadyApplied => return Ok(Receipt::AlreadyHad),
        Next::Nothing => return Ok(Receipt::Received),
        Next::Send(d) => d,
    };
    let memo = memo(e, tag);
    let adjustment = Adjustment { external_id: &external_id, books, item, location, delta, memo: &memo };
    let resp = ns_client.call_as(|t| Ok(ns::create(t, &adjustment)), Sending::Once).await?;
    match ns::read_create(&resp, now())? {
        Created::Id(_) => Ok(Receipt::Received),
        Created::Exists => Ok(Receipt::AlreadyHad),
    }
}
