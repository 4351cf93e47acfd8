//! One line of a reservation, sale or fulfilment: a quantity of a SKU at a location, with the
//! channel's line id when it names one. `api::requests` parses request bodies into it.

use serde::{Deserialize, Serialize};

use crate::stock::{Location, Sku, Token};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub sku: Sku,
    pub qty: i64,
    pub location: Location,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_id: Option<Token>,
}
