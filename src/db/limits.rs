//! What D1 allows per statement and per batch, and how the store splits work to stay inside it.

/// Bound parameters per `IN (…)` list: D1 takes at most 100 per statement, leaving room for the
/// statement's other parameters.
pub const IN_CHUNK: usize = 90;
/// Bound parameters D1 takes in one statement.
pub const MAX_PARAMS: usize = 100;
/// Products upserted per statement (4 bound parameters each; D1 binds at most 100).
pub const UPSERT_ROWS: usize = 20;
/// Statements per D1 batch when upserting imported products.
pub const UPSERT_STATEMENTS: usize = 50;
