//! Names of Worker secrets (channel credentials, webhook keys, API tokens): the catalogue stores
//! a secret's *name*, never its value. One grammar and one error type for every lookup.

use thiserror::Error;

pub use super::model::is_secret_name;

/// Why a secret could not be had.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SecretError {
    /// No secret is named (the channel or setting names none).
    #[error("no secret is named")]
    Unnamed,
    /// The name is not a secret name (`A-Z`, `0-9`, `_`, starting with a letter, ≤ 64).
    #[error("{0:?} is not a secret name")]
    BadName(String),
    /// No secret (nor, in local development, var) of that name is set.
    #[error("the secret {0} is not set")]
    Missing(String),
    /// The secret is set but empty.
    #[error("the secret {0} is empty")]
    Empty(String),
}

/// Checks a secret's name before it is looked up.
pub fn checked_name(name: Option<&str>) -> Result<&str, SecretError> {
    match name {
        None => Err(SecretError::Unnamed),
        Some(n) if !is_secret_name(n) => Err(SecretError::BadName(n.to_owned())),
        Some(n) => Ok(n),
    }
}

/// Checks a value found under `name`.
pub fn checked_value(name: &str, value: Option<String>) -> Result<String, SecretError> {
    match value {
        None => Err(SecretError::Missing(name.to_owned())),
        Some(v) if v.is_empty() => Err(SecretError::Empty(name.to_owned())),
        Some(v) => Ok(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_are_checked() {
        assert_eq!(checked_name(None), Err(SecretError::Unnamed));
        assert_eq!(checked_name(Some("shop_token")), Err(SecretError::BadName("shop_token".into())));
        assert_eq!(checked_name(Some("SHOP_TOKEN")), Ok("SHOP_TOKEN"));
        assert_eq!(checked_value("A", None), Err(SecretError::Missing("A".into())));
        assert_eq!(checked_value("A", Some(String::new())), Err(SecretError::Empty("A".into())));
        assert_eq!(checked_value("A", Some("x".into())), Ok("x".into()));
    }
}
