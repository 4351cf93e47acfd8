//! A forwarded adjustment request applied in a vendor ERP exactly once (docs/erp.md "Adjustment
//! requests to the ERP"): what one delivery attempt sends, from what the ERP shows at that moment.
//!
//! Each request's posting carries a tag naming it ([`tag`]): Odoo the inventory move's name (the
//! `inventory_name` context of `action_apply_inventory`), SAP Business One the goods receipt's or
//! issue's `JournalMemo`, NetSuite the inventory adjustment's `externalId` (its own spelling,
//! `netsuite::inventory_adjustment::external_id`: REST external ids take no spaces). An attempt
//! first looks the tag up. Found, the request was applied (an earlier attempt whose answer was
//! lost): it is received, nothing is sent again. Not found, nothing of it was applied — the
//! posting is one transaction in each ERP — so the figure to send is computed from the ERP's
//! current one: Odoo the quant's counted quantity (on hand + delta, or the count), SAP B1 and
//! NetSuite the signed quantity to post ([`delta`]: the delta, or the count less the on hand).
//! The posting itself is sent once per attempt: a lost answer is resolved by the next attempt's
//! look-up, never by sending it again blindly.
//!
//! Why not store the figure on the request before the first call: with the look-up it adds
//! nothing to exactly-once (a posting that went through is found), and a figure computed at the
//! first attempt would be stale at a later one — a count retried after the ERP shipped units in
//! between would bring back units that left the shelf.

use super::master::Requested;

/// Longest tag: SAP B1's `JournalMemo` holds 50 characters.
pub const MAX_TAG: usize = 50;

/// The tag naming request `id`'s posting in the ERP.
pub fn tag(id: i64) -> String {
    format!("StockEdge adjustment request {id}")
}

/// What the ERP shows of a request when an attempt starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Found {
    /// A posting tagged with the request exists: it was applied.
    Posted,
    /// None: the ERP's current figure at the warehouse (Odoo the quant's `quantity`, 0 when there
    /// is no quant; SAP B1 the warehouse's `InStock`, 0 without a row; NetSuite the location's
    /// `quantityonhand`, 0 without a balance).
    NotPosted { current: f64 },
}

/// What the attempt does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Next {
    /// Applied already: received, nothing sent.
    AlreadyApplied,
    /// The ERP's figure is what the request asks: received, nothing to post.
    Nothing,
    /// Post this: Odoo ([`odoo`]) the quant's counted quantity (`inventory_quantity`, then
    /// applied); SAP B1 and NetSuite ([`delta`]) the units to add (`> 0`) or take out (`< 0`).
    Send(f64),
}

/// Odoo: the counted quantity to apply to the quant.
pub fn odoo(change: Requested, found: Found) -> Next {
    let Found::NotPosted { current } = found else { return Next::AlreadyApplied };
    let target = match change {
        Requested::Set { on_hand } => on_hand as f64,
        Requested::Adjust { delta } => current + delta as f64,
    };
    if target == current {
        Next::Nothing
    } else {
        Next::Send(target)
    }
}

/// SAP Business One and NetSuite: the signed quantity to post (SAP B1 a goods receipt or issue of
/// it, NetSuite an inventory adjustment's `adjustQtyBy`) — the delta, or the count less the ERP's
/// on hand (SAP B1 `InStock`, NetSuite `quantityonhand`).
pub fn delta(change: Requested, found: Found) -> Next {
    let Found::NotPosted { current } = found else { return Next::AlreadyApplied };
    let delta = match change {
        Requested::Set { on_hand } => on_hand as f64 - current,
        Requested::Adjust { delta } => delta as f64,
    };
    if delta == 0.0 {
        Next::Nothing
    } else {
        Next::Send(delta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADJUST: Requested = Requested::Adjust { delta: -2 };
    const SET: Requested = Requested::Set { on_hand: 40 };

    #[test]
    fn odoo_counts_on_hand_plus_delta_or_the_count() {
        assert_eq!(odoo(ADJUST, Found::NotPosted { current: 10.0 }), Next::Send(8.0));
        assert_eq!(odoo(ADJUST, Found::NotPosted { current: 0.0 }), Next::Send(-2.0));
        assert_eq!(odoo(SET, Found::NotPosted { current: 10.5 }), Next::Send(40.0));
        assert_eq!(odoo(SET, Found::NotPosted { current: 40.0 }), Next::Nothing);
        assert_eq!(odoo(Requested::Adjust { delta: 0 }, Found::NotPosted { current: 3.0 }), Next::Nothing);
    }

    #[test]
    fn sap_b1_and_netsuite_post_the_delta_or_the_count_less_on_hand() {
        assert_eq!(delta(ADJUST, Found::NotPosted { current: 10.0 }), Next::Send(-2.0));
        assert_eq!(delta(Requested::Adjust { delta: 5 }, Found::NotPosted { current: 0.0 }), Next::Send(5.0));
        assert_eq!(delta(SET, Found::NotPosted { current: 45.0 }), Next::Send(-5.0));
        assert_eq!(delta(SET, Found::NotPosted { current: 30.0 }), Next::Send(10.0));
        assert_eq!(delta(SET, Found::NotPosted { current: 40.0 }), Next::Nothing);
    }

    type Vendor = (fn(Requested, Found) -> Next, bool);
    const ODOO: Vendor = (odoo, true);
    /// SAP B1 and NetSuite: sent a delta.
    const DELTA: Vendor = (delta, false);

    /// An ERP as the vendors keep it: a figure and the tags of the postings applied; a posting
    /// moves the figure and records its tag in one step, and its answer may be lost.
    struct Erp {
        figure: f64,
        tags: Vec<String>,
    }

    impl Erp {
        fn found(&self, id: i64) -> Found {
            if self.tags.contains(&tag(id)) {
                Found::Posted
            } else {
                Found::NotPosted { current: self.figure }
            }
        }

        /// One attempt of request `id` (`counts`: the vendor is sent a count, else a delta);
        /// `lose` drops the posting's answer after it was applied.
        /// `true` when the attempt knows the request was received.
        fn attempt(&mut self, id: i64, change: Requested, (vendor, counts): Vendor, lose: bool) -> bool {
            match (vendor(change, self.found(id)), counts) {
                (Next::AlreadyApplied | Next::Nothing, _) => return true,
                (Next::Send(target), true) => self.figure = target,
                (Next::Send(delta), false) => self.figure += delta,
            }
            self.tags.push(tag(id));
            !lose
        }
    }

    #[test]
    fn a_retry_after_a_lost_answer_applies_nothing_twice() {
        for vendor in [ODOO, DELTA] {
            for (change, expected) in [(ADJUST, 8.0), (SET, 40.0), (Requested::Adjust { delta: 3 }, 13.0)] {
                let mut erp = Erp { figure: 10.0, tags: Vec::new() };
                assert!(!erp.attempt(7, change, vendor, true), "the answer was lost");
                assert_eq!(erp.figure, expected);
                // The ERP moves on between the attempts (a delivery ships 1 unit).
                erp.figure -= 1.0;
                assert!(erp.attempt(7, change, vendor, false), "the retry finds the posting");
                assert_eq!(erp.figure, expected - 1.0, "{change:?} applied once; the shipment kept");
                assert_eq!(erp.tags, vec![tag(7)]);
            }
        }
    }

    #[test]
    fn a_retry_after_a_failure_that_applied_nothing_computes_from_the_figure_it_finds() {
        // The first attempt failed before posting; the ERP shipped 1 unit since: a count still
        // ends at the count, an adjustment moves the figure by its delta once.
        let mut erp = Erp { figure: 9.0, tags: Vec::new() };
        assert!(erp.attempt(8, SET, DELTA, false));
        assert_eq!(erp.figure, 40.0);
        let mut erp = Erp { figure: 9.0, tags: Vec::new() };
        assert!(erp.attempt(9, ADJUST, ODOO, false));
        assert_eq!(erp.figure, 7.0);
    }

    #[test]
    fn tags_fit_sap_b1_journal_memo() {
        assert_eq!(tag(42), "StockEdge adjustment request 42");
        assert!(tag(i64::MAX).chars().count() <= MAX_TAG);
    }
}
