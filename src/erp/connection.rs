//! An ERP connection: which ERP (its kind), where it answers, the Worker secret holding its
//! credentials, its settings, and who may change on hand at the locations it masters
//! (docs/erp.md, "Connections").

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::stock::Token;

/// The ERPs StockEdge connects to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErpKind {
    /// SAP Business One Service Layer (OData, session cookies).
    SapB1,
    /// Odoo JSON-2 (`/json/2/<model>/<method>`, bearer API key).
    Odoo,
    /// NetSuite SuiteTalk REST (SuiteQL, OAuth 2.0 client credentials).
    Netsuite,
    /// Any other ERP through StockEdge's signed webhook (`erp::connectors::webhook`): StockEdge
    /// POSTs its orders and adjustment requests to the connection's URL; the ERP pushes its
    /// snapshots (nothing is polled).
    Webhook,
}

/// The ERPs StockEdge has a connector for: polled for stock (`edge::erp_poll`) and sent sales
/// orders through their own APIs (`edge::erp_orders`' `Client`). Every [`ErpKind`] but the webhook
/// ERP, which is sent signed documents and pushes its snapshots ([`ErpKind::vendor`] is `None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vendor {
    SapB1,
    Odoo,
    Netsuite,
}

impl ErpKind {
    pub const ALL: [ErpKind; 4] = [ErpKind::SapB1, ErpKind::Odoo, ErpKind::Netsuite, ErpKind::Webhook];

    /// The connector of this kind; `None` for the webhook ERP.
    pub fn vendor(self) -> Option<Vendor> {
        match self {
            ErpKind::SapB1 => Some(Vendor::SapB1),
            ErpKind::Odoo => Some(Vendor::Odoo),
            ErpKind::Netsuite => Some(Vendor::Netsuite),
            ErpKind::Webhook => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErpKind::SapB1 => "sap_b1",
            ErpKind::Odoo => "odoo",
            ErpKind::Netsuite => "netsuite",
            ErpKind::Webhook => "webhook",
        }
    }

    /// Whether StockEdge polls the ERP's stock (the webhook ERP pushes its snapshots instead).
    pub fn polls_stock(self) -> bool {
        self.vendor().is_some()
    }

    pub fn parse(s: &str) -> Option<ErpKind> {
        ErpKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What happens to a local change of on hand (`PUT …/stock`, adjustments, imports) at a
/// location the connection masters (issue 13 point 4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalAdjustments {
    /// Refused with `409` problem type `erp-is-master`: the ERP's figure is the only one.
    #[default]
    Refuse,
    /// Recorded as an adjustment request for the ERP (applied locally only by the ERP's next
    /// snapshot).
    Forward,
}

impl LocalAdjustments {
    pub fn as_str(self) -> &'static str {
        match self {
            LocalAdjustments::Refuse => "refuse",
            LocalAdjustments::Forward => "forward",
        }
    }

    pub fn parse(s: &str) -> Option<LocalAdjustments> {
        [LocalAdjustments::Refuse, LocalAdjustments::Forward].into_iter().find(|k| k.as_str() == s)
    }
}

/// One ERP connection as stored (D1 `erp_connections`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    pub id: Token,
    pub kind: ErpKind,
    /// The ERP's base URL (`https://b1.example.com:50000`, `https://odoo.example.com`,
    /// `https://<account>.suitetalk.api.netsuite.com`), no trailing `/`.
    pub base_url: String,
    /// The Worker secret holding the credentials (their shape per kind: docs/erp.md).
    pub credentials_secret: Option<String>,
    /// Kind-specific settings (docs/erp.md), a JSON object.
    pub settings: Map<String, Value>,
    pub local_adjustments: LocalAdjustments,
    pub enabled: bool,
}

impl Connection {
    /// A string setting.
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings.get(name).and_then(Value::as_str)
    }

    /// An integer setting.
    pub fn setting_int(&self, name: &str) -> Option<i64> {
        self.settings.get(name).and_then(Value::as_i64)
    }

    /// Whether StockEdge's orders go to this ERP (`settings.orders`, validated by
    /// [`settings_faults`]; absent: they do).
    pub fn orders(&self) -> Orders {
        self.setting("orders").and_then(Orders::parse).unwrap_or_default()
    }
}

/// Whether StockEdge's order changes go to the connection's ERP (`settings.orders`; docs/erp.md
/// "Stock only").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Orders {
    /// Every order change at a location the connection masters is delivered (the default).
    #[default]
    Deliver,
    /// Stock only: the connection's stock is polled, none of StockEdge's orders is delivered.
    Off,
}

impl Orders {
    pub fn as_str(self) -> &'static str {
        match self {
            Orders::Deliver => "deliver",
            Orders::Off => "off",
        }
    }

    pub fn parse(s: &str) -> Option<Orders> {
        [Orders::Deliver, Orders::Off].into_iter().find(|o| o.as_str() == s)
    }
}

/// A setting a connection cannot be stored with: its field (`settings.<name>`) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingFault {
    pub field: String,
    pub reason: String,
}

/// The setting naming the ERP customer a kind books StockEdge's orders to, and how it is given:
/// SAP B1's business partner (`card_code`, text), Odoo's partner (`partner_id`, the record id),
/// NetSuite's customer (`customer_id`, its internal id as text or a number).
/// A kind's customer setting: its name, whether a value is one, and why it is required.
type CustomerSetting = (&'static str, fn(&Value) -> bool, &'static str);

/// `None` for the webhook ERP, whose receiver books orders as it sees fit.
fn customer_setting(kind: ErpKind) -> Option<CustomerSetting> {
    Some(match kind {
        ErpKind::Webhook => return None,
        ErpKind::SapB1 => (
            "card_code",
            |v| v.as_str().is_some_and(|s| !s.is_empty()),
            "is required for sap_b1 when orders are delivered: the business partner (CardCode) orders are booked to",
        ),
        ErpKind::Odoo => (
            "partner_id",
            |v| v.as_i64().is_some_and(|n| n > 0),
            "is required for odoo when orders are delivered: the res.partner id (a positive integer) orders are \
             booked to",
        ),
        ErpKind::Netsuite => (
            "customer_id",
            |v| v.as_str().is_some_and(|s| !s.is_empty()) || v.as_i64().is_some_and(|n| n > 0),
            "is required for netsuite when orders are delivered: the customer's internal id sales orders are \
             booked to",
        ),
    })
}

/// The faults of `settings` for a connection of `kind`: `orders` is `"deliver"` or `"off"`, a
/// connection that delivers orders names the customer they are booked to ([`customer_setting`]) —
/// without it every order would be a dead letter — and a NetSuite connection that forwards local
/// changes (`local`) names the account its inventory adjustments are booked to
/// (`settings.adjustment_account`; `settings.adjustment_subsidiary`, optional, an internal id when
/// given) — without it every forwarded request would be `dead`.
pub fn settings_faults(kind: ErpKind, local: LocalAdjustments, settings: &Map<String, Value>) -> Vec<SettingFault> {
    let mut out = Vec::new();
    let fault = |name: &str, reason: &str| SettingFault { field: format!("settings.{name}"), reason: reason.into() };
    let orders = match settings.get("orders") {
        None | Some(Value::Null) => Orders::default(),
        Some(v) => match v.as_str().and_then(Orders::parse) {
            Some(o) => o,
            None => {
                out.push(fault("orders", "must be deliver or off"));
                Orders::default()
            }
        },
    };
    if let Some((name, given, reason)) = customer_setting(kind) {
        if orders == Orders::Deliver && !settings.get(name).is_some_and(given) {
            out.push(fault(name, reason));
        }
    }
    if kind == ErpKind::Netsuite {
        use super::connectors::netsuite::inventory_adjustment::{id_setting, ACCOUNT_SETTING, SUBSIDIARY_SETTING};
        if local == LocalAdjustments::Forward && id_setting(settings, ACCOUNT_SETTING).is_none() {
            out.push(fault(
                ACCOUNT_SETTING,
                "is required for netsuite when local_adjustments is forward: the internal id of the account \
                 inventory adjustments are booked to",
            ));
        }
        if settings.get(SUBSIDIARY_SETTING).is_some_and(|v| !v.is_null())
            && id_setting(settings, SUBSIDIARY_SETTING).is_none()
        {
            out.push(fault(SUBSIDIARY_SETTING, "must be the subsidiary's internal id (text or a positive integer)"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_modes_read_back_their_names() {
        for k in ErpKind::ALL {
            assert_eq!(ErpKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).expect("json"), Value::String(k.as_str().into()));
        }
        assert_eq!(ErpKind::parse("oracle"), None);
        assert!(ErpKind::SapB1.polls_stock() && !ErpKind::Webhook.polls_stock());
        let vendors: Vec<Vendor> = ErpKind::ALL.into_iter().filter_map(ErpKind::vendor).collect();
        assert_eq!(vendors, [Vendor::SapB1, Vendor::Odoo, Vendor::Netsuite]);
        assert_eq!(LocalAdjustments::parse("forward"), Some(LocalAdjustments::Forward));
        assert_eq!(LocalAdjustments::parse("allow"), None);
        assert_eq!(LocalAdjustments::default(), LocalAdjustments::Refuse);
        assert_eq!(Orders::parse("off"), Some(Orders::Off));
        assert_eq!(Orders::parse("deliver"), Some(Orders::Deliver));
        assert_eq!(Orders::parse("none"), None);
    }

    fn settings(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("an object")
    }

    fn fields(kind: ErpKind, v: Value) -> Vec<String> {
        settings_faults(kind, LocalAdjustments::Refuse, &settings(v)).into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn a_connection_that_delivers_orders_names_its_customer() {
        use serde_json::json;
        let cases = [
            (ErpKind::SapB1, "settings.card_code", json!({"card_code": "C20000"}), json!({"card_code": 20000})),
            (ErpKind::Odoo, "settings.partner_id", json!({"partner_id": 3}), json!({"partner_id": "3"})),
            (ErpKind::Netsuite, "settings.customer_id", json!({"customer_id": "42"}), json!({"customer_id": ""})),
        ];
        for (kind, field, good, bad) in cases {
            assert_eq!(fields(kind, good.clone()), Vec::<String>::new(), "{kind:?} {good}");
            assert_eq!(fields(kind, bad.clone()), vec![field.to_owned()], "{kind:?} {bad}");
            assert_eq!(fields(kind, json!({})), vec![field.to_owned()], "{kind:?}: none given");
            assert_eq!(fields(kind, json!({"orders": "deliver"})), vec![field.to_owned()], "{kind:?}: deliver");
            assert_eq!(fields(kind, json!({"orders": "off"})), Vec::<String>::new(), "{kind:?}: stock only");
        }
        assert_eq!(fields(ErpKind::Netsuite, json!({"customer_id": 42})), Vec::<String>::new(), "a number");
        assert_eq!(fields(ErpKind::Odoo, json!({"partner_id": 0})), vec!["settings.partner_id".to_owned()]);
    }

    #[test]
    fn a_netsuite_connection_that_forwards_names_its_adjustment_account() {
        use serde_json::json;
        let faults = |local, v: Value| -> Vec<String> {
            settings_faults(ErpKind::Netsuite, local, &settings(v)).into_iter().map(|f| f.field).collect()
        };
        let fwd = LocalAdjustments::Forward;
        assert_eq!(faults(fwd, json!({"orders": "off"})), vec!["settings.adjustment_account".to_owned()]);
        assert_eq!(faults(fwd, json!({"orders": "off", "adjustment_account": "540"})), Vec::<String>::new());
        assert_eq!(faults(fwd, json!({"orders": "off", "adjustment_account": 540})), Vec::<String>::new());
        assert_eq!(faults(LocalAdjustments::Refuse, json!({"orders": "off"})), Vec::<String>::new(), "not forwarded");
        assert_eq!(
            faults(fwd, json!({"orders": "off", "adjustment_account": "540", "adjustment_subsidiary": -1})),
            vec!["settings.adjustment_subsidiary".to_owned()]
        );
        // Only NetSuite books adjustments to an account.
        let sap = settings_faults(ErpKind::SapB1, fwd, &settings(json!({"orders": "off"})));
        assert!(sap.is_empty(), "{sap:?}");
    }

    #[test]
    fn orders_is_deliver_or_off() {
        use serde_json::json;
        let faults = settings_faults(
            ErpKind::Netsuite,
            LocalAdjustments::Refuse,
            &settings(json!({"orders": "never", "customer_id": "42"})),
        );
        assert_eq!(faults.len(), 1);
        assert_eq!(faults[0].field, "settings.orders");
        assert_eq!(fields(ErpKind::Odoo, json!({"orders": null, "partner_id": 3})), Vec::<String>::new());
        let conn = |v: Value| Connection {
            id: Token::parse("ns").expect("token"),
            kind: ErpKind::Netsuite,
            base_url: "https://ns".into(),
            credentials_secret: None,
            settings: settings(v),
            local_adjustments: LocalAdjustments::Refuse,
            enabled: true,
        };
        assert_eq!(conn(json!({})).orders(), Orders::Deliver);
        assert_eq!(conn(json!({"orders": "off"})).orders(), Orders::Off);
        assert_eq!(conn(json!({"orders": "deliver"})).orders(), Orders::Deliver);
    }
}
