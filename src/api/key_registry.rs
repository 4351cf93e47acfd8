//! The Idempotency-Key registry (`IdempotencyKeys`, one Durable Object per key) without the
//! runtime: the calls and replies between the Worker and a key's object, and how the object
//! keeps a key in its SQLite storage — the claim row (`claim.k = 'claim'`: the first request's
//! fingerprint and, once answered, the answer's head), the lease row (`k = 'lease'`: when the
//! request being carried out began) and the kept body in parts (`answer_part`). The shell
//! (`edge::key_registry`) runs the statements these functions return.

use serde::{Deserialize, Serialize};

use super::idempotency::{Recorded, Start};
use crate::stock::storage::{CorruptRow, SqlValue, Statement};
use crate::time::Millis;

/// A call to a key's registry.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyCall {
    /// A request's claim on its key (every keyed write).
    Claim { fingerprint: String },
    /// A request whose answer the registry keeps is about to be carried out.
    Begin { fingerprint: String },
    /// The request's answer to keep, or `None` (it only said to retry): ends its lease.
    Keep { fingerprint: String, answer: Option<Answer> },
}

/// The registry's reply to a call.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyReply {
    Claim(ClaimVerdict),
    Begin(Begun),
    Kept,
}

/// An HTTP answer as kept for replay: status, content type and body, byte for byte.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// What the claim row records once answered: the answer's head; its body is kept in parts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub status: u16,
    pub content_type: String,
    pub parts: u32,
}

/// The registry's verdict on a request whose answer it keeps.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Begun {
    Go,
    Busy,
    Replay(Answer),
    Reused,
}

/// The registry's verdict on a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimVerdict {
    /// The key is new, or was used with this same request: go on.
    Claimed,
    /// The key was used with another request: refuse (`idempotency-key-reused`).
    Reused,
}

/// The largest piece of a kept body stored in one row (a row holds at most 2 MB).
pub const PART_BYTES: usize = 1 << 20;

/// `text` cut into pieces of at most [`PART_BYTES`], at character boundaries.
pub fn parts(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = rest.len().min(PART_BYTES);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (part, tail) = rest.split_at(end);
        out.push(part);
        rest = tail;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Storage

/// The tables, created when missing (one statement each).
pub const SCHEMA: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS claim (k TEXT PRIMARY KEY, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS answer_part (n INTEGER PRIMARY KEY, text TEXT NOT NULL)",
];
/// The claim row ([`BodyRow`]).
pub const READ_CLAIM: &str = "SELECT body FROM claim WHERE k = 'claim'";
/// The lease row ([`BodyRow`]): when the request being carried out began, in ms.
pub const READ_LEASE: &str = "SELECT body FROM claim WHERE k = 'lease'";
/// The kept body's parts, in order ([`PartRow`]s).
pub const READ_PARTS: &str = "SELECT text FROM answer_part ORDER BY n";
/// Everything the key kept, forgotten once its retention is over.
pub const FORGET: [&str; 2] = ["DELETE FROM claim", "DELETE FROM answer_part"];

/// A `claim` row's body.
#[derive(Debug, Deserialize)]
pub struct BodyRow {
    pub body: String,
}

/// A piece of a kept body.
#[derive(Debug, Deserialize)]
pub struct PartRow {
    pub text: String,
}

const SET: &str = "INSERT OR REPLACE INTO claim (k, body) VALUES (?, ?)";
const END_LEASE: &str = "DELETE FROM claim WHERE k = 'lease'";

fn statement(sql: &'static str, args: Vec<SqlValue>) -> Statement {
    Statement { sql, args }
}

/// The claim row, read back.
pub fn recorded(rows: &[BodyRow]) -> Result<Option<Recorded<Head>>, CorruptRow> {
    rows.first().map(|r| serde_json::from_str(&r.body).map_err(|e| CorruptRow(e.to_string()))).transpose()
}

/// When the lease row says the request being carried out began.
pub fn lease(rows: &[BodyRow]) -> Result<Option<Millis>, CorruptRow> {
    rows.first().map(|r| r.body.parse::<i64>().map(Millis).map_err(|e| CorruptRow(e.to_string()))).transpose()
}

/// The write of a fresh claim by the request with `fingerprint` at `t`.
pub fn claim(fingerprint: String, t: Millis) -> Result<Statement, CorruptRow> {
    let rec: Recorded<Head> = Recorded { fingerprint, at: t, reply: None };
    Ok(statement(SET, vec!["claim".into(), encode(&rec)?.into()]))
}

fn encode<T: Serialize>(v: &T) -> Result<String, CorruptRow> {
    serde_json::to_string(v).map_err(|e| CorruptRow(e.to_string()))
}

/// What [`begin`] asks the shell to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Beginning {
    /// Answer this verdict.
    Answer(Begun),
    /// Take the lease (run the statement), then answer [`Begun::Go`].
    Go(Statement),
    /// Read the kept body's parts ([`READ_PARTS`]) and answer [`replay`] of them.
    Replay(Head),
}

/// The verdict of `idempotency::start` for a request whose answer the registry keeps, as what
/// the shell does next.
pub fn begin(start: Start<'_, Head>, t: Millis) -> Beginning {
    match start {
        Start::Reused => Beginning::Answer(Begun::Reused),
        Start::Busy => Beginning::Answer(Begun::Busy),
        Start::Replay(head) => Beginning::Replay(head.clone()),
        Start::Go => Beginning::Go(statement(SET, vec!["lease".into(), t.0.to_string().into()])),
    }
}

/// The kept answer of `head` from its body's parts; parts missing are a corrupt store.
pub fn replay(head: Head, parts: Vec<PartRow>) -> Result<Begun, CorruptRow> {
    if parts.len() != head.parts as usize {
        return Err(CorruptRow(format!("{} of {} parts of the kept answer", parts.len(), head.parts)));
    }
    let body = parts.into_iter().map(|r| r.text).collect();
    Ok(Begun::Replay(Answer { status: head.status, content_type: head.content_type, body }))
}

/// The statements that keep `answer` for the request with `fingerprint` and end its lease; none
/// when the key was not claimed by that request or its answer is kept already. Without an
/// answer (the request only said to retry), only the lease ends.
pub fn keep(
    recorded: Option<Recorded<Head>>,
    fingerprint: &str,
    answer: Option<Answer>,
) -> Result<Vec<Statement>, CorruptRow> {
    let Some(mut rec) = recorded else { return Ok(Vec::new()) };
    if rec.fingerprint != fingerprint || rec.reply.is_some() {
        return Ok(Vec::new());
    }
    let Some(answer) = answer else { return Ok(vec![statement(END_LEASE, Vec::new())]) };
    let pieces = parts(&answer.body);
    let mut out = vec![statement("DELETE FROM answer_part", Vec::new())];
    for (n, text) in pieces.iter().enumerate() {
        out.push(statement(
            "INSERT INTO answer_part (n, text) VALUES (?, ?)",
            vec![SqlValue::from(n as u64), (*text).into()],
        ));
    }
    let parts = u32::try_from(pieces.len()).map_err(|e| CorruptRow(e.to_string()))?;
    rec.reply = Some(Head { status: answer.status, content_type: answer.content_type, parts });
    out.push(statement(SET, vec!["claim".into(), encode(&rec)?.into()]));
    out.push(statement(END_LEASE, Vec::new()));
    Ok(out)
}

#[cfg(test)]
#[path = "key_registry_tests.rs"]
mod tests;
