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

impl ErpKind {
    pub const ALL: [ErpKind; 4] = [ErpKind::SapB1, ErpKind::Odoo, ErpKind::Netsuite, ErpKind::Webhook];

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
        !matches!(self, ErpKind::Webhook)
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
        assert_eq!(LocalAdjustments::parse("forward"), Some(LocalAdjustments::Forward));
        assert_eq!(LocalAdjustments::parse("allow"), None);
        assert_eq!(LocalAdjustments::default(), LocalAdjustments::Refuse);
    }
}
