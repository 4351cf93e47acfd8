//! What a location under an ERP keeps: the snapshot last applied there and the documents the ERP
//! had not seen when it was taken (or that StockEdge recorded since).

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

use super::as_of::AsOf;
use super::basis::Figure;
use super::document::Pending;
use super::limits::MAX_PENDING_DOCUMENTS;
use crate::stock::Token;
use crate::time::Millis;

/// The snapshot last applied at a location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub snapshot: Token,
    pub as_of: AsOf,
    pub figure: Figure,
    /// When StockEdge applied it.
    pub at: Millis,
}

/// One location's ERP state. A location is under an ERP from its first applied snapshot on; only
/// then does it keep pending documents (the orders before it are taken as the ERP's already).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Track {
    pub applied: Option<Applied>,
    /// Oldest first, at most [`MAX_PENDING_DOCUMENTS`].
    #[serde(default)]
    pub pending: VecDeque<Pending>,
}

impl Track {
    /// Keeps `p` until a snapshot shows the ERP had it; the oldest goes past the limit.
    pub fn record(&mut self, p: Pending) {
        self.pending.push_back(p);
        while self.pending.len() > MAX_PENDING_DOCUMENTS {
            self.pending.pop_front();
        }
    }
}
