//! Validated identifiers: a value of these types is always well-formed.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::limits::{MAX_ID_LEN, MAX_LOCATION_LEN, MAX_SKU_LEN};

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("may only contain {allowed}")]
    BadChar { allowed: &'static str },
    #[error(
        "must be segments separated by single `/`, none of them `.` or `..` (no leading, trailing or doubled `/`)"
    )]
    BadSegment,
}

fn check(
    s: &str,
    max: usize,
    allowed: &'static str,
    ok: fn(char) -> bool,
    shape: fn(&str) -> Result<(), IdError>,
) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    if s.chars().count() > max {
        return Err(IdError::TooLong { max });
    }
    if !s.chars().all(ok) {
        return Err(IdError::BadChar { allowed });
    }
    shape(s)
}

/// Any string of allowed characters.
fn any_shape(_: &str) -> Result<(), IdError> {
    Ok(())
}

/// A SKU is a path of `/`-separated segments, none empty, `.` or `..`: a SKU may name a
/// hierarchy (`TEE/RED/M`) but never climb out of one, wherever it is used as a path (object
/// names, export files, URLs).
fn sku_shape(s: &str) -> Result<(), IdError> {
    if s.split('/').any(|segment| matches!(segment, "" | "." | "..")) {
        return Err(IdError::BadSegment);
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $max:expr, $allowed:expr, $ok:expr, $shape:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates `s`.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                check(s, $max, $allowed, $ok, $shape)?;
                Ok(Self(s.to_owned()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                check(&s, $max, $allowed, $ok, $shape)?;
                Ok(Self(s))
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

fn sku_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/')
}
fn location_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-')
}
fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '/' | '#' | '@')
}

id_type!(
    /// A stock-keeping unit: 1–64 of `A-Z a-z 0-9 . _ - /`, case-sensitive, in `/`-separated
    /// segments none of which is empty, `.` or `..` (so no leading, trailing or doubled `/`).
    Sku, MAX_SKU_LEN, "A-Z a-z 0-9 . _ - /", sku_char, sku_shape
);
id_type!(
    /// A stock location: 1–32 of `a-z 0-9 _ -`; `main` by default.
    Location, MAX_LOCATION_LEN, "a-z 0-9 _ -", location_char, any_shape
);
id_type!(
    /// A client-chosen identifier (reservation, order, line, channel): 1–128 of
    /// `A-Z a-z 0-9 . _ - : / # @`.
    Token, MAX_ID_LEN, "A-Z a-z 0-9 . _ - : / # @", token_char, any_shape
);

impl Location {
    /// The default location, `main`.
    pub fn main() -> Self {
        Location(String::from("main"))
    }
}

impl Default for Location {
    fn default() -> Self {
        Location::main()
    }
}

/// A hold's identifier inside a SKU ledger: the reservation id that placed it.
pub type HoldId = Token;

/// An order's identity: the channel it came from and the channel's order id.
/// Storefront orders committed from a reservation use the reservation's channel (default `direct`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OrderKey {
    pub channel: Token,
    pub order_id: Token,
}

impl OrderKey {
    /// The channel name used for orders that name none.
    pub const DIRECT: &'static str = "direct";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sku_rules() {
        assert!(Sku::parse("TSHIRT-RED/M_1.0").is_ok());
        assert_eq!(Sku::parse(""), Err(IdError::Empty));
        assert!(matches!(Sku::parse("a b"), Err(IdError::BadChar { .. })));
        assert!(Sku::parse(&"x".repeat(64)).is_ok());
        assert_eq!(Sku::parse(&"x".repeat(65)), Err(IdError::TooLong { max: 64 }));
        assert!(matches!(Sku::parse("ümlaut"), Err(IdError::BadChar { .. })));
    }

    #[test]
    fn sku_segments_never_climb() {
        for bad in [
            ".",
            "..",
            "/",
            "//",
            "/A",
            "A/",
            "A//B",
            "./A",
            "A/.",
            "../A",
            "A/..",
            "A/../B",
            "A/./B",
            "../../etc/passwd",
            "A/../../B",
            "..//..",
        ] {
            assert_eq!(Sku::parse(bad), Err(IdError::BadSegment), "{bad:?}");
            assert!(serde_json::from_str::<Sku>(&format!("{bad:?}")).is_err(), "{bad:?}");
        }
        for good in ["...", ".A", "A.", "..A", "A..", "A/...", ".hidden/x", "a.b/c..d", "TEE/RED/M", "-_.-"] {
            assert!(Sku::parse(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn tokens_keep_their_grammar() {
        assert!(Token::parse("gid://shopify/Order/1").is_ok());
        assert!(Token::parse("../x").is_ok());
    }

    #[test]
    fn location_rules() {
        assert!(Location::parse("warehouse-2").is_ok());
        assert!(matches!(Location::parse("Main"), Err(IdError::BadChar { .. })));
        assert_eq!(Location::parse(&"a".repeat(33)), Err(IdError::TooLong { max: 32 }));
    }

    #[test]
    fn deserialising_validates() {
        assert!(serde_json::from_str::<Sku>("\"ok-1\"").is_ok());
        assert!(serde_json::from_str::<Sku>("\"not ok\"").is_err());
    }
}
