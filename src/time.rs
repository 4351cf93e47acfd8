//! Time as the core sees it: milliseconds since the Unix epoch, passed in by the shell.

use serde::{Deserialize, Serialize};

/// A point in time, in milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Millis(pub i64);

impl Millis {
    /// `self` plus `seconds` whole seconds (saturating).
    pub fn plus_seconds(self, seconds: i64) -> Millis {
        Millis(self.0.saturating_add(seconds.saturating_mul(1000)))
    }

    /// RFC 3339 in UTC with millisecond precision, e.g. `2026-11-29T22:56:48.000Z`.
    pub fn to_rfc3339(self) -> String {
        match chrono::DateTime::from_timestamp_millis(self.0) {
            Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            None => String::from("invalid-time"),
        }
    }

    /// The UTC date, `YYYY-MM-DD` (an ERP's date fields: SAP B1's `UpdateDate` filter, an order's
    /// due date).
    pub fn date(self) -> String {
        self.to_rfc3339().chars().take(10).collect()
    }

    /// Parses an RFC 3339 timestamp; `None` when it is not one.
    pub fn parse_rfc3339(s: &str) -> Option<Millis> {
        chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| Millis(t.timestamp_millis()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        let t = Millis(1_795_993_008_123);
        let s = t.to_rfc3339();
        assert_eq!(s, "2026-11-29T22:56:48.123Z");
        assert_eq!(Millis::parse_rfc3339(&s), Some(t));
        assert_eq!(Millis::parse_rfc3339("yesterday"), None);
        assert_eq!(t.date(), "2026-11-29");
        assert_eq!(Millis(0).date(), "1970-01-01");
    }
}
