//! The one lookup of Worker secrets by name (a plain var in local development, `.dev.vars`).
//! Names and values are checked by `catalog::secret`; values are never logged.

use worker::Env;

use crate::catalog::secret::{checked_name, checked_value, SecretError};

/// The value of the secret `name` names.
pub fn read(env: &Env, name: Option<&str>) -> Result<String, SecretError> {
    let name = checked_name(name)?;
    let value = env.secret(name).ok().map(|s| s.to_string()).or_else(|| env.var(name).ok().map(|v| v.to_string()));
    checked_value(name, value)
}
