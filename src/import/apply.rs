//! What an import batch does to one SKU ledger: the commands it becomes.

use super::format::Basis;
use super::mode::Mode;
use super::plan::Batch;
use super::policy::BackorderPolicy;
use crate::stock::limits::MAX_BACKORDER_LIMIT;
use crate::stock::{Cause, Command};

/// The backorder allowance an imported policy stands for: `deny` is none; `continue`/`yes`/
/// `notify` have no limit on the platforms, which StockEdge caps at [`MAX_BACKORDER_LIMIT`].
pub fn backorder_limit(policy: BackorderPolicy) -> i64 {
    match policy {
        BackorderPolicy::Deny => 0,
        BackorderPolicy::Allow | BackorderPolicy::Notify => MAX_BACKORDER_LIMIT,
    }
}

/// The ledger commands for `batch`, journaled under `import_id`.
///
/// Files whose numbers are on-hand counts, in `set` mode, set on_hand (journaled as a cycle
/// count). Everything else moves on_hand by the planned delta: in `adjust` mode because that is
/// what was asked, and for files whose numbers are *available* counts (Shopify product CSV,
/// WooCommerce) because moving on_hand by Δ moves available by Δ without touching holds or
/// committed orders.
pub fn commands(batch: &Batch, basis: Basis, mode: Mode, import_id: &str) -> Vec<Command> {
    let reason = match mode {
        Mode::Set => "cycle_count",
        Mode::Adjust => "import",
    };
    let cause = Cause { import_id: Some(import_id.to_owned()), reason: Some(reason.to_owned()), ..Cause::default() };
    let mut out: Vec<Command> = batch
        .changes
        .iter()
        .filter_map(|c| match (basis, mode) {
            (Basis::OnHand, Mode::Set) => Some(Command::Set {
                location: c.location.clone(),
                on_hand: c.after,
                expected_version: None,
                cause: cause.clone(),
            }),
            _ if c.delta == 0 => None,
            _ => Some(Command::Adjust { location: c.location.clone(), delta: c.delta, cause: cause.clone() }),
        })
        .collect();
    if let Some(policy) = batch.backorder {
        out.push(Command::Policy { backorder_limit: backorder_limit(policy) });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::plan::Change;
    use crate::stock::{Location, Sku};

    fn batch(delta: i64, after: i64, backorder: Option<BackorderPolicy>) -> Batch {
        Batch {
            sku: Sku::parse("A").expect("sku"),
            changes: vec![Change {
                location: Location::main(),
                before: Some(after - delta),
                after,
                delta,
                lines: vec![2],
            }],
            backorder,
        }
    }

    #[test]
    fn on_hand_files_set_and_available_files_adjust() {
        let set = commands(&batch(3, 10, None), Basis::OnHand, Mode::Set, "imp-1");
        assert!(
            matches!(&set[0], Command::Set { on_hand: 10, cause, .. } if cause.import_id.as_deref() == Some("imp-1"))
        );
        let avail = commands(&batch(3, 10, Some(BackorderPolicy::Deny)), Basis::Available, Mode::Set, "imp-1");
        assert!(matches!(avail[0], Command::Adjust { delta: 3, .. }));
        assert!(matches!(avail[1], Command::Policy { backorder_limit: 0 }));
        assert!(commands(&batch(0, 7, None), Basis::Available, Mode::Set, "i").is_empty());
    }
}
