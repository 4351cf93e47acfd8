//! What a quantity in the file means: a target (`set`) or a change (`adjust`).

use serde::{Deserialize, Serialize};
use std::fmt;

use super::error::ImportError;

/// `mode=` of `POST /v1/imports`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Each quantity is the new level; 0..=[`MAX_ON_HAND`](crate::stock::limits::MAX_ON_HAND).
    /// Several rows for one SKU and location: the last one wins.
    #[default]
    Set,
    /// Each quantity is a signed change, |Δ| ≤ [`MAX_ADJUST_DELTA`](crate::stock::limits::MAX_ADJUST_DELTA).
    /// Several rows for one SKU and location add up.
    Adjust,
}

impl Mode {
    /// Parses the query value (`set` or `adjust`, case-insensitive).
    pub fn from_query(s: &str) -> Result<Mode, ImportError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "set" => Ok(Mode::Set),
            "adjust" => Ok(Mode::Adjust),
            _ => Err(ImportError::UnknownMode { given: s.to_owned() }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Set => "set",
            Mode::Adjust => "adjust",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_query_values() {
        assert_eq!(Mode::from_query("SET"), Ok(Mode::Set));
        assert_eq!(Mode::from_query(" adjust "), Ok(Mode::Adjust));
        assert!(Mode::from_query("add").is_err());
        assert_eq!(Mode::default(), Mode::Set);
    }
}
