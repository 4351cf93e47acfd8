//! Runs `db::erp_routes`: where a batch's order changes go, read as groups of the queue
//! consumer's one D1 batch (`super::batch_groups`).

use worker::D1Result;

use super::{rows, StoreResult};
use crate::db::erp_routes::{self as sql, ItemRow, MasterRow, Routes};
use crate::db::groups::{Answered, Group, Groups};
use crate::stock::{Location, Sku};

/// The two reads of [`Routes`] as groups of a larger batch.
pub struct RoutesRead {
    masters: Group,
    items: Group,
}

impl RoutesRead {
    /// `locations`: where the batch's order changes happened; `skus`: their SKUs.
    pub fn add(groups: &mut Groups, locations: &[Location], skus: &[Sku]) -> RoutesRead {
        RoutesRead { masters: groups.add(sql::masters(locations)), items: groups.add(sql::items(skus)) }
    }

    pub fn decode(self, answered: &mut Answered<D1Result>) -> StoreResult<Routes> {
        let mut masters: Vec<MasterRow> = Vec::new();
        for r in answered.take(self.masters) {
            masters.extend(rows(&r)?);
        }
        let mut items: Vec<ItemRow> = Vec::new();
        for r in answered.take(self.items) {
            items.extend(rows(&r)?);
        }
        Routes::of(masters, items)
    }
}
