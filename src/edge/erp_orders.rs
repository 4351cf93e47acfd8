//! Orders to the ERP, the shell (docs/erp.md "Orders to the ERP"): the `stock-changes` consumer
//! hands it the batch's events; for each order change at a location an ERP connection masters it
//! delivers the document `erp::delivery` plans, then confirms it to the SKU's ledger
//! (`Command::ErpReceived`), so later snapshots count it as seen.
//!
//! Exactly once: a document is looked up by its reference before it is created, and a create is
//! sent once (`erp_poll::send_once`): when its answer is lost or failed, the next try looks the
//! reference up again before creating anything. What is known of each document (created,
//! cancelled, its ERP id) is kept in D1 `erp_deliveries`, so a repeated message asks nothing of
//! the ERP; a delivery holds its document's row under a lease (`db::erp_deliveries::claim`), so
//! two consumers never deliver one document at once (the second retries its message later). Failures follow `sync::RetryPolicy` (a 429's `Retry-After` is waited out within the
//! call, `erp_poll::send_retrying`; a delivery that still fails is retried with the message after
//! the policy's back-off); a refusal (4xx), an unmapped item or the last attempt records a dead
//! letter with the other sync failures (`sync_failures`, channel `erp:<connection>`), which
//! `POST /v1/sync/failures/{id}/retry` sends again.

use std::collections::BTreeMap;

use worker::{console_error, D1Database, Env};

use crate::api::sku_call::SkuAction;
use crate::db::erp_deliveries::{self as sql, AdditionRow, DeliveryRow, Record};
use crate::db::erp_routes::Routes;
use crate::erp::connection::{Connection, ErpKind, Vendor};
use crate::erp::connectors::netsuite::auth::Credentials as NetsuiteCredentials;
use crate::erp::connectors::netsuite::sales_order::{self, Created};
use crate::erp::connectors::odoo_orders;
use crate::erp::connectors::order::ErpOrder;
use crate::erp::connectors::sap_b1::{self, Credentials};
use crate::erp::connectors::webhook::{self, EventType, OrderEvent, Receipt};
use crate::erp::connectors::{classify, Answer, CallFailure};
use crate::erp::delivery::{self, Call, Delivery, Known, Step, Unmapped};
use crate::fault::Fault;
use crate::stock::{Command, Location, Sku, Token};
use crate::sync::retry::retry_later;
use crate::sync::{FailureKind, FailureRecord, HttpRequest, RetryPolicy, StockChanged};
use crate::time::Millis;

use super::clock::now;
use super::erp_netsuite::{NetsuiteClient, Sending};
use super::erp_poll::{send_once, send_retrying, send_until_answered, SapClient, ATTEMPTS};
use super::store;
use super::{secrets, sku_client};

/// What the batch's deliveries ask of its messages.
#[derive(Default)]
pub struct Outcome {
    /// Per SKU whose message must be retried, the delay in seconds.
    pub retry: BTreeMap<Sku, u32>,
    /// Deliveries that failed for good: recorded with the sync failures.
    pub failures: Vec<FailureRecord>,
}

/// The `sync_failures.channel` of a connection's failed deliveries.
pub fn failure_channel(connection: &Token) -> Token {
    Token::parse(&format!("erp:{connection}")).unwrap_or_else(|_| connection.clone())
}

/// Delivers the order changes of `events` (the batch's messages, bundle events excluded), oldest
/// version first per SKU, where `routes` (read with the consumer's other reads, in its one D1
/// batch) sends them. D1 failures are returned (the batch is retried); an ERP's are not.
pub async fn deliver(env: &Env, db: &D1Database, events: &[StockChanged], routes: &Routes) -> Result<Outcome, Fault> {
    let mut out = Outcome::default();
    let mut ordered: Vec<&StockChanged> = events.iter().filter(|e| !e.orders.is_empty()).collect();
    if ordered.is_empty() {
        return Ok(out);
    }
    ordered.sort_by(|a, b| (&a.sku, a.version).cmp(&(&b.sku, b.version)));
    let policy = RetryPolicy::default();
    for e in ordered {
        let route = |l: &Location| routes.route(&e.sku, l);
        let (deliveries, unmapped) = delivery::plan(&e.sku, &e.orders, route);
        for u in unmapped {
            out.failures.push(unmapped_failure(e, &u));
        }
        for d in deliveries {
            let Some(conn) = routes.connection(&d.connection) else { continue };
            Deliverer { env, db, conn, event: e, policy: &policy, out: &mut out }.order(&d).await?;
        }
    }
    Ok(out)
}

/// What one event's deliveries to one connection need, and where their outcomes go.
struct Deliverer<'a> {
    env: &'a Env,
    db: &'a D1Database,
    conn: &'a Connection,
    event: &'a StockChanged,
    policy: &'a RetryPolicy,
    out: &'a mut Outcome,
}

/// A document's row, its lease taken: what is known of the document, its failed attempts, and
/// when the change whose sale it belongs to was recorded (`None`: no sale has reached it).
struct Claimed {
    known: Known,
    attempts: u32,
    sale_by: Option<Millis>,
}

impl Deliverer<'_> {
    /// Delivers `d` to the order's document and, when its sale adds units to an order whose
    /// document another change's sale made, as an addition (`delivery::split_addition`); a
    /// cancellation cancels the order's additions too. Each document is delivered under its own
    /// row's lease.
    async fn order(&mut self, d: &Delivery) -> Result<(), Fault> {
        let Some(row) = self.claim(d).await? else { return Ok(()) };
        let (order_part, addition) = delivery::split_addition(d, &row.known, row.sale_by);
        let cancels = order_part.steps.contains(&Step::Cancel);
        if order_part.steps.is_empty() {
            // Nothing for the order's document this time: its lease is given back, its row unchanged.
            store::execute(self.db, sql::release(&d.connection, &d.reference)).await?;
        } else {
            // The confirmation waits for the addition when there is one (it covers its units too).
            let confirm_now = addition.is_none();
            if !self.document(&order_part, row, confirm_now).await? {
                return Ok(());
            }
        }
        if let Some(a) = addition {
            let Some(row) = self.claim(&a).await? else { return Ok(()) };
            if !self.document(&a, row, true).await? {
                return Ok(());
            }
        }
        if cancels {
            let additions = sql::additions(&d.connection, &d.sku, &d.reference);
            for r in store::read::<AdditionRow>(self.db, additions).await? {
                let a = Delivery { reference: r.reference, steps: vec![Step::Cancel], ..d.clone() };
                if let Some(row) = self.claim(&a).await? {
                    self.document(&a, row, true).await?;
                }
            }
        }
        Ok(())
    }

    /// Takes the lease on `d`'s document row: `None` (and `d`'s message retried) when another
    /// consumer holds it — that one delivers the document; this message will find what it did.
    async fn claim(&mut self, d: &Delivery) -> Result<Option<Claimed>, Fault> {
        let claim = sql::claim(&d.connection, &d.reference, &d.sku, d.since, now());
        let Some(row) = store::read_first::<DeliveryRow>(self.db, claim).await? else {
            retry_later(&mut self.out.retry, &d.sku, 1);
            return Ok(None);
        };
        let sale_by = row.sale_change_at();
        let (known, attempts) = sql::known_of(Some(row))?;
        Ok(Some(Claimed { known, attempts, sale_by }))
    }

    /// Carries out `d` on its claimed document, records the outcome (and, when `d` carries a
    /// sale, that the document is that change's) and gives the lease back; on success confirms it
    /// to the SKU's ledger when `confirm_after`. Answers whether it succeeded (a failure is retried
    /// with the message or recorded as a dead letter).
    async fn document(&mut self, d: &Delivery, row: Claimed, confirm_after: bool) -> Result<bool, Fault> {
        let (known, result) = run(self.env, self.conn, d, row.known).await;
        let t = now();
        let decision = match &result {
            Ok(()) => None,
            Err(f) => Some(self.policy.decide(&f.outcome(), row.attempts + 1)),
        };
        let (attempts, error, delivered_at) = match (&result, &decision) {
            (Ok(()), _) => (0, None, Some(t)),
            (Err(f), Some(crate::sync::Decision::Retry { .. })) => (row.attempts + 1, Some(f.to_string()), None),
            (Err(f), _) => (0, Some(f.to_string()), None),
        };
        let record = Record {
            connection: &d.connection,
            reference: &d.reference,
            sku: &d.sku,
            known: &known,
            attempts,
            error: error.as_deref(),
            first_change_at: d.since,
            sale_change_at: d.steps.iter().any(|s| matches!(s, Step::Create { .. })).then_some(d.since),
            delivered_at,
            now: t,
        };
        store::execute(self.db, sql::save(&record)).await?;
        match decision {
            None => {
                if confirm_after {
                    if let Err(why) = confirm(self.env, d, t).await {
                        console_error!("erp delivery {} confirmed but not told to {}: {why}", d.reference, d.sku);
                        retry_later(&mut self.out.retry, &d.sku, 1);
                    }
                }
                Ok(true)
            }
            Some(retry @ crate::sync::Decision::Retry { .. }) => {
                // Capped at the queue's longest delay: a day-long Retry-After from an ERP
                // would otherwise be a delay the Queues API refuses.
                retry_later(&mut self.out.retry, &d.sku, retry.delay_seconds().unwrap_or(1).max(1));
                Ok(false)
            }
            Some(crate::sync::Decision::DeadLetter { reason }) => {
                self.out.failures.push(FailureRecord {
                    channel: Some(failure_channel(&d.connection)),
                    event: self.event.clone(),
                    reason: format!("ERP order {}: {reason}", d.reference),
                    kind: Some(FailureKind::Rejected),
                    at: t,
                });
                Ok(false)
            }
            Some(crate::sync::Decision::Done) => Ok(true),
        }
    }
}

fn unmapped_failure(e: &StockChanged, u: &Unmapped) -> FailureRecord {
    FailureRecord {
        channel: Some(failure_channel(&u.connection)),
        event: e.clone(),
        reason: format!(
            "ERP order {}: SKU {} has no item code in ERP connection {} (map it with PUT /v1/erp/connections/{}/mappings, \
             then retry)",
            delivery::reference(&u.order, &u.sku),
            u.sku,
            u.connection,
            u.connection
        ),
        kind: Some(FailureKind::UnknownListing),
        at: now(),
    }
}

/// Tells the SKU's ledger the ERP has the order's documents recorded up to `d.through`.
async fn confirm(env: &Env, d: &Delivery, at: Millis) -> Result<(), Fault> {
    let command =
        Command::ErpReceived { order: d.order.clone(), through: d.through, at, locations: d.delivered_locations() };
    sku_client::ask(env, &d.sku, SkuAction::Apply { commands: vec![command] }).await?.map_err(|r| {
        Fault::from(crate::fault::ObjectError::OutOfContract {
            class: sku_client::BINDING,
            detail: format!("ErpReceived refused: {r:?}"),
        })
    })?;
    Ok(())
}

/// Carries out `d`'s steps from `known`; answers what is known after them (what succeeded is
/// kept even when a later step failed) and whether all succeeded.
async fn run(env: &Env, conn: &Connection, d: &Delivery, mut known: Known) -> (Known, Result<(), CallFailure>) {
    let Some(vendor) = conn.kind.vendor() else {
        return match connection_secret(env, conn) {
            Ok(secret) => run_webhook(&conn.base_url, &secret, conn.kind, d, known).await,
            Err(f) => (known, Err(f)),
        };
    };
    let client = match Client::of(env, conn, vendor) {
        Ok(c) => c,
        Err(f) => return (known, Err(f)),
    };
    for step in &d.steps {
        let document = match delivery::call(&known, step, delivery::fulfilments(conn.kind)) {
            Call::Nothing => None,
            // Only the webhook ERP is told of shipments (above).
            Call::Fulfil { .. } | Call::NotYet => None,
            Call::FindOrCreate { lines } => {
                let order = ErpOrder { reference: d.reference.clone(), due: d.since.date(), lines };
                match client.find_or_create(&order).await {
                    Ok(doc) => Some(doc),
                    Err(f) => return (known, Err(f)),
                }
            }
            Call::FindAndCancel => match client.find(&d.reference).await {
                Ok(None) => None,
                Ok(Some(found)) => match client.cancel(&d.reference, &found).await {
                    Ok(()) => Some(found.id),
                    Err(f) => return (known, Err(f)),
                },
                Err(f) => return (known, Err(f)),
            },
            Call::Cancel { document } => {
                let found = Document { id: document, cancelled: false, open_lines: Vec::new() };
                match client.cancel(&d.reference, &found).await {
                    Ok(()) => None,
                    Err(f) => return (known, Err(f)),
                }
            }
        };
        known = delivery::after(known, step, document);
    }
    (known, Ok(()))
}

/// `d`'s steps to the webhook ERP: one signed POST per step, keyed so that a retry is a repeat
/// the ERP recognises (`erp::connectors::webhook`); the reference stands for the document.
async fn run_webhook(
    url: &str,
    secret: &str,
    kind: ErpKind,
    d: &Delivery,
    mut known: Known,
) -> (Known, Result<(), CallFailure>) {
    for step in &d.steps {
        let (event, lines, at) = match delivery::call(&known, step, delivery::fulfilments(kind)) {
            Call::Nothing => {
                known = delivery::after(known, step, None);
                continue;
            }
            Call::FindOrCreate { lines } => (EventType::OrderCreated, lines, d.since),
            Call::FindAndCancel | Call::Cancel { .. } => (EventType::OrderCancelled, Vec::new(), d.through),
            Call::Fulfil { lines, at } => (EventType::OrderFulfilled, lines, at),
            Call::NotYet => {
                return (
                    known,
                    Err(CallFailure::Unavailable(format!(
                        "{}: a shipment waits for the order's sale to reach the ERP",
                        d.reference
                    ))),
                )
            }
        };
        let e =
            OrderEvent { kind: event, reference: &d.reference, order: &d.order, lines: webhook::lines(d, &lines), at };
        let req = webhook::request(&e.body(), &e.idempotency_key(), secret.as_bytes(), now());
        if let Err(f) = send_webhook(url, &req).await {
            return (known, Err(f));
        }
        known = delivery::after(known, step, Some(d.reference.clone()));
    }
    (known, Ok(()))
}

/// The webhook connection's signing key (a missing secret is a refusal: a dead letter naming it).
pub(super) fn connection_secret(env: &Env, conn: &Connection) -> Result<String, CallFailure> {
    secrets::read(env, conn.credentials_secret.as_deref())
        .map_err(|why| CallFailure::Refused(format!("the connection's credentials secret: {why}")))
}

/// Sends one webhook document (`Retry-After` waited out, 5xx and transport failures repeated, as
/// every ERP call) and reads the answer (`409`: the ERP had it).
pub(super) async fn send_webhook(url: &str, req: &HttpRequest) -> Result<Receipt, CallFailure> {
    let resp = send_until_answered(url, req).await?;
    webhook::read(&resp)
}

/// The Odoo sales order under `reference`, if any (a refused key is a refusal).
async fn odoo_found(
    base: &str,
    key: &str,
    database: Option<&str>,
    reference: &str,
) -> Result<Option<odoo_orders::Found>, CallFailure> {
    let resp = send_retrying(base, &odoo_orders::find(key, database, reference)).await?;
    if classify(&resp, now()) == Answer::Reauthenticate {
        return Err(CallFailure::Refused("Odoo refused the API key (401)".into()));
    }
    odoo_orders::read_found(&resp).map_err(CallFailure::Unavailable)
}

/// A document as the ERP has it.
struct Document {
    id: String,
    cancelled: bool,
    /// The lines a cancellation closes, when the look-up that found it listed them (NetSuite);
    /// empty otherwise.
    open_lines: Vec<u64>,
}

/// An ERP's order calls.
enum Client<'a> {
    Sap { sap: SapClient<'a>, card_code: String },
    Odoo { base: &'a str, key: String, database: Option<&'a str>, partner: i64, warehouse: Option<i64> },
    Netsuite { ns: NetsuiteClient<'a>, customer: String },
}

impl<'a> Client<'a> {
    fn of(env: &Env, conn: &'a Connection, vendor: Vendor) -> Result<Client<'a>, CallFailure> {
        let secret = connection_secret(env, conn)?;
        match vendor {
            Vendor::SapB1 => {
                let creds = Credentials::parse(&secret).map_err(CallFailure::Refused)?;
                let card_code = conn
                    .setting("card_code")
                    .ok_or_else(|| CallFailure::Refused("settings.card_code is not set".into()))?
                    .to_owned();
                Ok(Client::Sap { sap: SapClient { base: &conn.base_url, id: conn.id.as_str(), creds }, card_code })
            }
            Vendor::Odoo => {
                let partner = conn
                    .setting_int("partner_id")
                    .ok_or_else(|| CallFailure::Refused("settings.partner_id (the Odoo customer) is not set".into()))?;
                Ok(Client::Odoo {
                    base: &conn.base_url,
                    key: secret,
                    database: conn.setting("database"),
                    partner,
                    warehouse: conn.setting_int("warehouse_id"),
                })
            }
            Vendor::Netsuite => {
                let creds = NetsuiteCredentials::parse(&secret).map_err(CallFailure::Refused)?;
                let customer = match (conn.setting("customer_id"), conn.setting_int("customer_id")) {
                    (Some(id), _) => id.to_owned(),
                    (None, Some(id)) => id.to_string(),
                    (None, None) => {
                        return Err(CallFailure::Refused(
                            "settings.customer_id (the NetSuite customer's internal id) is not set".into(),
                        ))
                    }
                };
                Ok(Client::Netsuite { ns: NetsuiteClient::new(&conn.base_url, creds), customer })
            }
        }
    }

    /// The document under `reference`, if the ERP has one.
    async fn find(&self, reference: &str) -> Result<Option<Document>, CallFailure> {
        match self {
            Client::Sap { sap, .. } => {
                let resp = sap.call_with(|s| Ok(sap_b1::find_order(s, reference)), false).await?;
                let found = sap_b1::read_found(&resp).map_err(CallFailure::Unavailable)?;
                Ok(found.map(|f| Document {
                    id: f.doc_entry.to_string(),
                    cancelled: f.cancelled,
                    open_lines: Vec::new(),
                }))
            }
            Client::Odoo { base, key, database, .. } => {
                let found = odoo_found(base, key, *database, reference).await?;
                Ok(found.map(|f| Document {
                    id: f.id.to_string(),
                    cancelled: f.state == odoo_orders::State::Cancelled,
                    open_lines: Vec::new(),
                }))
            }
            Client::Netsuite { ns, .. } => {
                let resp = ns.call_as(|t| Ok(sales_order::find_order(t, reference)), Sending::UntilAnswered).await?;
                let found = sales_order::read_found(&resp, now())?;
                Ok(found.map(|f| Document { id: f.id, cancelled: f.cancelled, open_lines: f.open_lines }))
            }
        }
    }

    /// The document of `order`: found by its reference, else created (sent once: after a lost
    /// or failed answer it is looked up again before any other create).
    async fn find_or_create(&self, order: &ErpOrder) -> Result<String, CallFailure> {
        let mut last = String::new();
        for _ in 0..ATTEMPTS {
            if let Some(found) = self.find(&order.reference).await? {
                self.confirm(&order.reference, &found.id).await?;
                return Ok(found.id);
            }
            match self.create_once(order).await {
                Ok(Some(id)) => {
                    self.confirm(&order.reference, &id).await?;
                    return Ok(id);
                }
                // The ERP has one already (an earlier create whose answer was lost): found next.
                Ok(None) => last = format!("{} exists already", order.reference),
                Err(CallFailure::Refused(why)) => return Err(CallFailure::Refused(why)),
                Err(CallFailure::Unavailable(why)) => last = why,
            }
        }
        Err(CallFailure::Unavailable(format!(
            "create of {} not confirmed after {ATTEMPTS} tries: {last}",
            order.reference
        )))
    }

    /// Sends the create of `order` once: the new document's id, or `None` when the ERP says one
    /// exists under its reference already (look it up).
    async fn create_once(&self, order: &ErpOrder) -> Result<Option<String>, CallFailure> {
        match self {
            Client::Sap { sap, card_code } => {
                let resp = sap.call_with(|s| sap_b1::create_order(s, card_code, order), true).await?;
                match classify(&resp, now()) {
                    Answer::Ok => {
                        sap_b1::read_created(&resp).map(|n| Some(n.to_string())).map_err(CallFailure::Unavailable)
                    }
                    Answer::Refused(why) => Err(CallFailure::Refused(why)),
                    Answer::Wait(_) | Answer::Retry(_) | Answer::Reauthenticate => {
                        Err(CallFailure::Unavailable(format!("create answered {}", resp.status)))
                    }
                }
            }
            Client::Odoo { base, key, database, partner, warehouse } => {
                let req =
                    odoo_orders::create(key, *database, *partner, *warehouse, order).map_err(CallFailure::Refused)?;
                let resp = send_once(base, &req).await?;
                match classify(&resp, now()) {
                    Answer::Ok => {
                        odoo_orders::read_created(&resp).map(|n| Some(n.to_string())).map_err(CallFailure::Unavailable)
                    }
                    Answer::Refused(why) => Err(CallFailure::Refused(why)),
                    Answer::Reauthenticate => Err(CallFailure::Refused("Odoo refused the API key (401)".into())),
                    Answer::Wait(_) | Answer::Retry(_) => {
                        Err(CallFailure::Unavailable(format!("create answered {}", resp.status)))
                    }
                }
            }
            Client::Netsuite { ns, customer } => {
                let resp = ns.call_as(|t| sales_order::create_order(t, customer, order), Sending::Once).await?;
                match sales_order::read_create(&resp, now())? {
                    Created::Id(id) => Ok(Some(id)),
                    Created::Exists => Ok(None),
                }
            }
        }
    }

    /// Confirms the document `id` (Odoo: a quotation becomes a sales order and reserves its
    /// units); SAP B1's orders are open once created. A confirmation whose answer was lost or
    /// refused is checked by looking the document up again.
    async fn confirm(&self, reference: &str, id: &str) -> Result<(), CallFailure> {
        let Client::Odoo { base, key, database, .. } = self else { return Ok(()) };
        let n = id.parse::<i64>().map_err(|_| CallFailure::Refused(format!("sale.order id {id:?}")))?;
        let mut last = String::new();
        for _ in 0..ATTEMPTS {
            if let Some(f) = odoo_found(base, key, *database, reference).await? {
                if f.state != odoo_orders::State::Draft {
                    return Ok(());
                }
            }
            match send_retrying(base, &odoo_orders::confirm(key, *database, n)).await {
                Ok(resp) if classify(&resp, now()) == Answer::Ok => return Ok(()),
                Ok(resp) if classify(&resp, now()) == Answer::Reauthenticate => {
                    return Err(CallFailure::Refused("Odoo refused the API key (401)".into()))
                }
                Ok(resp) => last = format!("action_confirm answered {}", resp.status),
                Err(f) => last = f.to_string(),
            }
        }
        Err(CallFailure::Unavailable(format!("confirmation of {reference} not seen after {ATTEMPTS} tries: {last}")))
    }

    /// Cancels `doc` (found under `reference`) unless it is cancelled; a cancel whose answer was
    /// lost or refused is checked by looking the document up again.
    async fn cancel(&self, reference: &str, doc: &Document) -> Result<(), CallFailure> {
        if doc.cancelled {
            return Ok(());
        }
        let mut last = String::new();
        for _ in 0..ATTEMPTS {
            let sent = match self {
                Client::Sap { sap, .. } => {
                    let entry =
                        doc.id.parse::<i64>().map_err(|_| CallFailure::Refused(format!("DocEntry {:?}", doc.id)))?;
                    sap.call_with(|s| Ok(sap_b1::cancel_order(s, entry)), true).await
                }
                Client::Odoo { base, key, database, .. } => {
                    let n = doc
                        .id
                        .parse::<i64>()
                        .map_err(|_| CallFailure::Refused(format!("sale.order id {:?}", doc.id)))?;
                    send_retrying(base, &odoo_orders::cancel(key, *database, n)).await
                }
                // Closes the order's lines: see `netsuite_close`.
                Client::Netsuite { ns, .. } => return netsuite_close(ns, reference, doc).await,
            };
            match sent.map(|r| classify(&r, now())) {
                Ok(Answer::Ok) => return Ok(()),
                Ok(other) => last = format!("{other:?}"),
                Err(f) => last = f.to_string(),
            }
            match self.find(reference).await? {
                Some(d) if d.cancelled => return Ok(()),
                Some(_) => {}
                None => return Err(CallFailure::Refused(format!("{reference} is no longer in the ERP"))),
            }
        }
        Err(CallFailure::Unavailable(format!("cancel of {reference} not confirmed after {ATTEMPTS} tries: {last}")))
    }
}

/// Cancels the NetSuite sales order under `reference` by closing its open lines (docs/erp.md
/// "NetSuite"): `doc`'s lines when the look-up that found it listed them, else looked up with its
/// lines; done when the look-up finds it cancelled or closed, or the close is answered. A close
/// whose answer was lost is looked up and sent again (closing a closed line changes nothing); one
/// NetSuite refuses is a refusal (a dead letter).
async fn netsuite_close(ns: &NetsuiteClient<'_>, reference: &str, doc: &Document) -> Result<(), CallFailure> {
    let mut known = (!doc.open_lines.is_empty()).then(|| (doc.id.clone(), doc.open_lines.clone()));
    let mut last = String::new();
    for _ in 0..ATTEMPTS {
        let (id, lines) = match known.take() {
            Some(k) => k,
            None => {
                let resp = ns.call_as(|t| Ok(sales_order::find_order(t, reference)), Sending::UntilAnswered).await?;
                match sales_order::read_found(&resp, now())? {
                    None => return Err(CallFailure::Refused(format!("{reference} is no longer in the ERP"))),
                    Some(f) if f.cancelled => return Ok(()),
                    Some(f) if f.open_lines.is_empty() => {
                        let why = format!("sales order {} was answered without its lines", f.id);
                        return Err(CallFailure::Unavailable(why));
                    }
                    Some(f) => (f.id, f.open_lines),
                }
            }
        };
        let closed = ns
            .call_as(|t| Ok(sales_order::close_lines(t, &id, &lines)), Sending::UntilAnswered)
            .await
            .and_then(|resp| sales_order::read_close(&resp, now()));
        match closed {
            Ok(()) => return Ok(()),
            Err(CallFailure::Refused(why)) => return Err(CallFailure::Refused(why)),
            Err(CallFailure::Unavailable(why)) => last = why,
        }
    }
    Err(CallFailure::Unavailable(format!("close of {reference} not confirmed after {ATTEMPTS} tries: {last}")))
}
