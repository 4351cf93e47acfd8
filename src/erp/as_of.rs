//! The point in the ERP's history a snapshot figure is as of.

use serde::{Deserialize, Serialize};

use crate::time::Millis;

/// The ERP's timestamp of the figure (its clock, ms since the epoch), its document sequence
/// (a number the ERP raises with every stock document: SAP B1's `DocEntry` of the last
/// inventory posting, a NetSuite transaction id watermark, an Odoo `stock.move` id), or both.
/// At least one is present (checked where a line is read, `api`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsOf {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
}

/// How a snapshot's as-of point stands to the one already applied at its location.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Succession {
    /// Strictly later: the snapshot is applied.
    Newer,
    /// The same point or an earlier one: the snapshot is ignored.
    NotNewer,
    /// The two share no field (one names only a sequence, the other only a timestamp).
    Incomparable,
}

/// `sequence 12`, `at 2026-12-06T10:00:00.000Z`, both joined by `and`, or `nothing`: how a
/// refusal names what it compared.
impl std::fmt::Display for AsOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.sequence, self.at) {
            (Some(s), Some(t)) => write!(f, "sequence {s} and at {}", t.to_rfc3339()),
            (Some(s), None) => write!(f, "sequence {s}"),
            (None, Some(t)) => write!(f, "at {}", t.to_rfc3339()),
            (None, None) => write!(f, "nothing"),
        }
    }
}

impl AsOf {
    pub fn is_empty(&self) -> bool {
        self.at.is_none() && self.sequence.is_none()
    }

    /// Compares `self` with `applied`: by document sequence when both have one (the ERP's own
    /// order of postings, immune to clock skew), else by timestamp when both have one.
    pub fn succeeds(&self, applied: &AsOf) -> Succession {
        let newer = match (self.sequence, applied.sequence, self.at, applied.at) {
            (Some(a), Some(b), _, _) => a > b,
            (_, _, Some(a), Some(b)) => a > b,
            _ => return Succession::Incomparable,
        };
        if newer {
            Succession::Newer
        } else {
            Succession::NotNewer
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(n: u64) -> AsOf {
        AsOf { at: None, sequence: Some(n) }
    }
    fn at(t: i64) -> AsOf {
        AsOf { at: Some(Millis(t)), sequence: None }
    }

    #[test]
    fn sequence_wins_over_timestamp() {
        let a = AsOf { at: Some(Millis(1)), sequence: Some(9) };
        let b = AsOf { at: Some(Millis(5)), sequence: Some(8) };
        assert_eq!(a.succeeds(&b), Succession::Newer);
        assert_eq!(b.succeeds(&a), Succession::NotNewer);
    }

    #[test]
    fn equal_points_are_not_newer() {
        assert_eq!(seq(3).succeeds(&seq(3)), Succession::NotNewer);
        assert_eq!(at(3).succeeds(&at(3)), Succession::NotNewer);
        assert_eq!(at(4).succeeds(&at(3)), Succession::Newer);
    }

    #[test]
    fn disjoint_points_are_incomparable() {
        assert_eq!(seq(3).succeeds(&at(3)), Succession::Incomparable);
        assert!(AsOf::default().is_empty());
    }
}
