//! What can go wrong in the shell, typed: a failure keeps its type from where it happens (a D1
//! statement, a Durable Object call, the runtime) until `api::problem::from_fault` maps it to
//! HTTP, once. Pure: the edge converts `worker` errors into these at the boundary.

use thiserror::Error;

/// Which integrity rule a D1 write broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Constraint {
    /// `UNIQUE` or `PRIMARY KEY`: the row exists already.
    Unique,
    /// `FOREIGN KEY`: a row it names does not exist (or still names it).
    ForeignKey,
    /// `CHECK` or `NOT NULL`.
    Check,
    /// A trigger's `RAISE(ABORT, …)`; the message is the trigger's own.
    Trigger,
}

/// A D1 failure, classified once where the statement ran ([`StoreError::classify`]).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum StoreError {
    /// A table the Worker needs does not exist: the D1 migrations were not applied.
    #[error("the catalogue schema is missing (no table {table}): apply the D1 migrations")]
    SchemaMissing { table: String },
    /// The write broke an integrity rule; nothing was written.
    #[error("the write broke a {constraint:?} constraint: {detail}")]
    Constraint { constraint: Constraint, detail: String },
    /// D1 could not be reached or gave up (overloaded, reset, timed out); retrying may work.
    #[error("the catalogue database could not be reached: {0}")]
    Transient(String),
    /// D1 refused the statement itself (an SQL error: a column or parameter the schema does not
    /// have, a syntax error, too many bound values, a value too big): sending it again fails
    /// again, so it is a bug or a schema mismatch, never a reason to retry.
    #[error("the catalogue database refused a statement: {0}")]
    Rejected(String),
    /// A stored row does not decode into what the code expects.
    #[error("a stored row is corrupt: {0}")]
    Corrupt(String),
}

/// What SQLite says of a statement it refuses (rather than of a database it could not reach).
const REJECTED: [&str; 9] = [
    "SQLITE_ERROR",
    "SQLITE_RANGE",
    "SQLITE_TOOBIG",
    "SQLITE_MISMATCH",
    "SQLITE_AUTH",
    "no such column",
    "syntax error",
    "too many SQL variables",
    "datatype mismatch",
];

impl StoreError {
    /// Classifies a D1 error message (SQLite's text, as D1 relays it). The one place that reads
    /// D1's error text; everything after works with the variant. Text this does not recognise
    /// is [`StoreError::Transient`]: D1's own failures (network, overload, resets) carry no
    /// SQLite code, while a statement SQLite refused always does.
    pub fn classify(message: &str) -> StoreError {
        let detail = message.trim().to_owned();
        if let Some(rest) = message.split("no such table:").nth(1) {
            let table: String =
                rest.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.').collect();
            return StoreError::SchemaMissing { table };
        }
        let constraint = if message.contains("UNIQUE constraint failed") || message.contains("PRIMARY KEY constraint") {
            Some(Constraint::Unique)
        } else if message.contains("FOREIGN KEY constraint failed") {
            Some(Constraint::ForeignKey)
        } else if message.contains("CHECK constraint failed") || message.contains("NOT NULL constraint failed") {
            Some(Constraint::Check)
        } else if message.contains("SQLITE_CONSTRAINT") {
            Some(Constraint::Trigger)
        } else {
            None
        };
        match constraint {
            Some(constraint) => StoreError::Constraint { constraint, detail },
            None if REJECTED.iter().any(|m| message.contains(m)) => StoreError::Rejected(detail),
            None => StoreError::Transient(detail),
        }
    }
}

/// Why a Durable Object call did not produce a typed reply.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ObjectError {
    /// The object could not be reached, or the runtime failed the call (overloaded, reset).
    #[error("the {class} object could not be reached: {detail}")]
    Unreachable { class: &'static str, detail: String },
    /// The object answered something that is not its reply type (a version skew or a bug).
    #[error("the {class} object answered out of contract: {detail}")]
    OutOfContract { class: &'static str, detail: String },
}

/// Everything the shell can fail with while serving a request, apart from the domain's own
/// refusals (which are answers, not faults).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum Fault {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Object(#[from] ObjectError),
    /// The runtime refused an operation the shell needed (reading a body, a queue send, a
    /// binding missing from the configuration).
    #[error("the runtime failed: {0}")]
    Runtime(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tables_name_the_table() {
        let e = StoreError::classify("D1_ERROR: no such table: listings: SQLITE_ERROR");
        assert_eq!(e, StoreError::SchemaMissing { table: "listings".into() });
    }

    #[test]
    fn constraints_are_told_apart() {
        let kind = |m: &str| match StoreError::classify(m) {
            StoreError::Constraint { constraint, .. } => Some(constraint),
            _ => None,
        };
        assert_eq!(
            kind("D1_ERROR: UNIQUE constraint failed: channels.id: SQLITE_CONSTRAINT"),
            Some(Constraint::Unique)
        );
        assert_eq!(kind("FOREIGN KEY constraint failed: SQLITE_CONSTRAINT"), Some(Constraint::ForeignKey));
        assert_eq!(kind("CHECK constraint failed: qty > 0: SQLITE_CONSTRAINT"), Some(Constraint::Check));
        assert_eq!(kind("nested bundle: SQLITE_CONSTRAINT"), Some(Constraint::Trigger));
        assert_eq!(kind("Network connection lost."), None);
    }

    #[test]
    fn a_statement_sqlite_refuses_is_rejected_not_retried() {
        for m in [
            "D1_ERROR: no such column: listings.colour: SQLITE_ERROR",
            "D1_ERROR: near \"SELEC\": syntax error: SQLITE_ERROR",
            "D1_ERROR: too many SQL variables: SQLITE_ERROR",
            "D1_ERROR: string or blob too big: SQLITE_TOOBIG",
            "D1_ERROR: column index out of range: SQLITE_RANGE",
        ] {
            assert!(matches!(StoreError::classify(m), StoreError::Rejected(_)), "{m}");
        }
    }

    #[test]
    fn anything_else_is_transient() {
        for m in [
            "D1 DB is overloaded. Requests queued for too long.",
            "D1_ERROR: Network connection lost.",
            "D1 DB storage operation exceeded timeout which caused object to be reset.",
        ] {
            assert!(matches!(StoreError::classify(m), StoreError::Transient(_)), "{m}");
        }
    }
}
