//! Who may call what: caller roles and the tokens that prove them (with rotation), the per-route
//! permission table, browser origins (CORS) and rate-limit keys. Pure decisions; `edge::auth`
//! and `edge::guard` read the Worker's secrets and bindings and carry them out.
//! The threat model these serve is `docs/security.md`.

pub mod authorize;
pub mod cors;
pub mod keyring;
pub mod permissions;
pub mod rate;
pub mod roles;

pub use keyring::{Credential, Keyring, Slot};
pub use permissions::need;
pub use roles::{Need, Role};
