//! Who may change on hand at a location an ERP masters (issue 13 point 4): the connections that
//! map a warehouse to the location decide, by their `local_adjustments` setting, whether a local
//! change (`PUT …/stock`, `POST …/adjustments`) is refused, forwarded to the ERP as an adjustment
//! request, or applied (no enabled connection masters the location).

use serde::Serialize;

use super::connection::LocalAdjustments;
use crate::stock::{Location, Sku, Token};

/// What happens to a local change of on hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalChange {
    /// No enabled ERP connection masters the location: the ledger applies it.
    Apply,
    /// Refused (`409 erp-is-master`), naming the connection.
    Refuse { connection: Token },
    /// Recorded as an adjustment request for the connection's ERP; on hand is not changed here
    /// (the ERP's next figure is).
    Forward { connection: Token },
}

/// The decision for a location mastered by `masters` (each enabled connection mapping a
/// warehouse to it, with its setting). Refusing wins over forwarding: a location two ERPs master
/// with different settings is refused (the merchant must settle which ERP rules it).
pub fn local_change(masters: &[(Token, LocalAdjustments)]) -> LocalChange {
    if let Some((c, _)) = masters.iter().find(|(_, m)| *m == LocalAdjustments::Refuse) {
        return LocalChange::Refuse { connection: c.clone() };
    }
    match masters.first() {
        Some((c, _)) => LocalChange::Forward { connection: c.clone() },
        None => LocalChange::Apply,
    }
}

/// The change an adjustment request asks the ERP to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Requested {
    /// Set on hand to this count (a cycle count).
    Set { on_hand: i64 },
    /// Move on hand by this many units.
    Adjust { delta: i64 },
}

/// A local change forwarded to the ERP.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AdjustmentRequest {
    pub connection: Token,
    pub sku: Sku,
    pub location: Location,
    #[serde(flatten)]
    pub change: Requested,
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(s: &str) -> Token {
        Token::parse(s).expect("token")
    }

    #[test]
    fn refusal_wins_then_forwarding_then_the_ledger() {
        assert_eq!(local_change(&[]), LocalChange::Apply);
        assert_eq!(
            local_change(&[(tok("odoo"), LocalAdjustments::Forward)]),
            LocalChange::Forward { connection: tok("odoo") }
        );
        assert_eq!(
            local_change(&[(tok("odoo"), LocalAdjustments::Forward), (tok("sap"), LocalAdjustments::Refuse)]),
            LocalChange::Refuse { connection: tok("sap") }
        );
    }

    #[test]
    fn a_request_names_its_change() {
        let r = AdjustmentRequest {
            connection: tok("sap"),
            sku: Sku::parse("TEE-1").expect("sku"),
            location: Location::main(),
            change: Requested::Adjust { delta: -2 },
            reason: Some("damaged".into()),
        };
        assert_eq!(
            serde_json::to_value(&r).expect("json"),
            serde_json::json!({"connection":"sap","sku":"TEE-1","location":"main","op":"adjust","delta":-2,"reason":"damaged"})
        );
    }
}
