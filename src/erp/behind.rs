//! The alert a location raises when its ERP falls behind: its unconfirmed order documents reached
//! `erp::limits::MAX_PENDING_DOCUMENTS` (`erp::Track::is_full`). Order changes are still recorded
//! (a marketplace sale already happened); new holds there are refused until the ERP catches up.
//! Raised once, by the change that reached the limit; carried on its event
//! (`sync::StockChanged::erp_behind`) and recorded by the queue consumer in D1 `alerts`
//! (kind `erp_behind`, subject the SKU).

use serde::{Deserialize, Serialize};

use crate::stock::Location;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErpBehindAlert {
    pub location: Location,
    /// The location's unconfirmed documents when the alert was raised.
    pub pending: usize,
}
