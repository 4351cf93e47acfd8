//! A SKU's hot policy: whether its holds go to allotments, how many, and how they borrow.

use serde::{Deserialize, Serialize};

use super::limits::{MAX_ALLOTMENTS, MAX_BLOCK, MAX_LEASE_SECONDS, MIN_LEASE_SECONDS};

/// How a hot SKU lends: `allotments` holders (K), blocks of `block` units, leases of
/// `lease_seconds`. A SKU without a policy is not hot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotPolicy {
    pub allotments: u32,
    pub block: i64,
    pub lease_seconds: i64,
}

/// A field of a policy out of its bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyFault {
    pub field: &'static str,
    pub message: String,
}

impl HotPolicy {
    /// Checks every bound; all faults at once.
    pub fn check(&self) -> Result<(), Vec<PolicyFault>> {
        let mut faults = Vec::new();
        if !(1..=MAX_ALLOTMENTS).contains(&self.allotments) {
            faults.push(PolicyFault { field: "allotments", message: format!("must be 1..={MAX_ALLOTMENTS}") });
        }
        if !(1..=MAX_BLOCK).contains(&self.block) {
            faults.push(PolicyFault { field: "block", message: format!("must be 1..={MAX_BLOCK}") });
        }
        if !(MIN_LEASE_SECONDS..=MAX_LEASE_SECONDS).contains(&self.lease_seconds) {
            faults.push(PolicyFault {
                field: "lease_seconds",
                message: format!("must be {MIN_LEASE_SECONDS}..={MAX_LEASE_SECONDS}"),
            });
        }
        if faults.is_empty() {
            Ok(())
        } else {
            Err(faults)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_checked_together() {
        assert!(HotPolicy { allotments: 4, block: 10, lease_seconds: 60 }.check().is_ok());
        let bad = HotPolicy { allotments: 0, block: 0, lease_seconds: 1 }.check().expect_err("faults");
        let fields: Vec<_> = bad.iter().map(|f| f.field).collect();
        assert_eq!(fields, ["allotments", "block", "lease_seconds"]);
    }
}
