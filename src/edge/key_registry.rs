//! `IdempotencyKeys`: one Durable Object per Idempotency-Key, remembering the fingerprint of the
//! request the key was first used with (24 h). A key reused for another request is refused
//! before anything is applied. The resource's own object keeps and replays the first answer
//! where there is one (stock, sales, reservations); for the routes whose effects no object
//! replays by itself (imports, alert acknowledgements, sync retries, poll runs) the registry
//! keeps the first answer itself ([`keeping`]).

use std::future::Future;

use serde::{Deserialize, Serialize};
use worker::*;

use crate::api::idempotency::{judge, kept, start, Recorded, Start, Verdict};
use crate::api::{Kind, Problem};
use crate::fault::{Fault, ObjectError};
use crate::stock::limits::{IDEMPOTENCY_LEASE_MS, IDEMPOTENCY_RETENTION_MS};
use crate::time::Millis;

use super::clock::now;
use super::http;
use super::rpc::{self, corrupt};

pub const BINDING: &str = "IDEMPOTENCY_KEYS";
const CLASS: &str = "IdempotencyKeys";

/// A call to a key's registry.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KeyCall {
    /// A request's claim on its key (every keyed write).
    Claim { fingerprint: String },
    /// A request whose answer the registry keeps is about to be carried out.
    Begin { fingerprint: String },
    /// The request's answer to keep, or `None` (it only said to retry): ends its lease.
    Keep { fingerprint: String, answer: Option<Answer> },
}

/// The registry's reply to a call.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KeyReply {
    Claim(ClaimVerdict),
    Begin(Begun),
    Kept,
}

/// An HTTP answer as kept for replay: status, content type and body, byte for byte.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Answer {
    status: u16,
    content_type: String,
    body: String,
}

/// What the claim row records once answered: the answer's head; its body is kept in parts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Head {
    status: u16,
    content_type: String,
    parts: u32,
}

/// The registry's verdict on a request whose answer it keeps.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Begun {
    Go,
    Busy,
    Replay(Answer),
    Reused,
}

/// The largest piece of a kept body stored in one row (a row holds at most 2 MB).
const PART_BYTES: usize = 1 << 20;

/// The registry's verdict on a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimVerdict {
    /// The key is new, or was used with this same request: go on.
    Claimed,
    /// The key was used with another request: refuse (`idempotency-key-reused`).
    Reused,
}

#[derive(Deserialize)]
struct BodyRow {
    body: String,
}

#[derive(Deserialize)]
struct PartRow {
    text: String,
}

/// Claims `key` for the request with `fingerprint`.
pub async fn claim(env: &Env, key: &str, fingerprint: &str) -> std::result::Result<ClaimVerdict, ObjectError> {
    match rpc::call(env, BINDING, key, &KeyCall::Claim { fingerprint: fingerprint.to_owned() }).await? {
        KeyReply::Claim(v) => Ok(v),
        _ => Err(ObjectError::OutOfContract { class: BINDING, detail: "not a claim verdict".into() }),
    }
}

/// Answers a request whose effects no object replays by itself. Without a key, `carry_out`
/// answers. With one, a repeat of an answered request gets the kept answer again (with
/// `Idempotent-Replayed: true`) and nothing is carried out; the same request still being carried
/// out is `503 unavailable` (retry); otherwise `carry_out` answers and its answer is kept for
/// the key's 24 h unless it only says to retry (`api::idempotency::kept`).
pub async fn keeping<F>(
    env: &Env,
    idem: Option<&(String, String)>,
    carry_out: F,
) -> std::result::Result<Response, Fault>
where
    F: Future<Output = std::result::Result<Response, Fault>>,
{
    let Some((key, fingerprint)) = idem else { return carry_out.await };
    let begun = match rpc::call(env, BINDING, key, &KeyCall::Begin { fingerprint: fingerprint.clone() }).await? {
        KeyReply::Begin(b) => b,
        _ => return Err(ObjectError::OutOfContract { class: BINDING, detail: "not a begin verdict".into() }.into()),
    };
    match begun {
        Begun::Go => {}
        Begun::Replay(a) => return Ok(http::replayed(http::text(a.status, a.body, &a.content_type)?)?),
        Begun::Reused => return Ok(http::problem(&crate::api::problem::key_reused())?),
        Begun::Busy => {
            let why = "a request with this Idempotency-Key is being carried out; retry it in a moment";
            return Ok(http::problem(&Problem::new(Kind::Unavailable, why))?);
        }
    }
    let mut answered = carry_out.await;
    let answer = match &mut answered {
        Ok(resp) if kept(resp.status_code()) => {
            let content_type = resp.headers().get("content-type")?.unwrap_or_default();
            Some(Answer { status: resp.status_code(), content_type, body: resp.text().await? })
        }
        _ => None,
    };
    let keep = KeyCall::Keep { fingerprint: fingerprint.clone(), answer };
    rpc::call::<_, KeyReply>(env, BINDING, key, &keep).await?;
    answered
}

/// `text` cut into pieces of at most [`PART_BYTES`], at character boundaries.
fn parts(text: &str) -> Vec<&str> {
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

#[durable_object]
pub struct IdempotencyKeys {
    state: State,
}

impl IdempotencyKeys {
    fn sql(&self) -> Result<SqlStorage> {
        let sql = self.state.storage().sql();
        sql.exec("CREATE TABLE IF NOT EXISTS claim (k TEXT PRIMARY KEY, body TEXT NOT NULL)", None)?;
        sql.exec("CREATE TABLE IF NOT EXISTS answer_part (n INTEGER PRIMARY KEY, text TEXT NOT NULL)", None)?;
        Ok(sql)
    }

    /// The claim row: the first request's fingerprint and, once answered, its answer's head.
    fn recorded(sql: &SqlStorage) -> Result<Option<Recorded<Head>>> {
        let rows = sql.exec("SELECT body FROM claim WHERE k = 'claim'", None)?.to_array::<BodyRow>()?;
        rows.first().map(|r| serde_json::from_str(&r.body).map_err(corrupt)).transpose()
    }

    fn set(sql: &SqlStorage, k: &str, body: String) -> Result<()> {
        sql.exec("INSERT OR REPLACE INTO claim (k, body) VALUES (?, ?)", vec![k.into(), body.into()])?;
        Ok(())
    }

    async fn answer(&self, call: KeyCall) -> Result<KeyReply> {
        match call {
            KeyCall::Claim { fingerprint } => Ok(KeyReply::Claim(self.claim(fingerprint).await?)),
            KeyCall::Begin { fingerprint } => Ok(KeyReply::Begin(self.begin(&fingerprint)?)),
            KeyCall::Keep { fingerprint, answer } => {
                self.keep(&fingerprint, answer)?;
                Ok(KeyReply::Kept)
            }
        }
    }

    async fn claim(&self, fingerprint: String) -> Result<ClaimVerdict> {
        let sql = self.sql()?;
        match judge(Self::recorded(&sql)?.as_ref(), &fingerprint) {
            Verdict::Reused => return Ok(ClaimVerdict::Reused),
            Verdict::Replay(_) | Verdict::Resume { .. } => return Ok(ClaimVerdict::Claimed),
            Verdict::Fresh => {}
        }
        let t = now();
        let rec: Recorded<Head> = Recorded { fingerprint, at: t, reply: None };
        Self::set(&sql, "claim", serde_json::to_string(&rec)?)?;
        let forget_at = (t.0 + IDEMPOTENCY_RETENTION_MS) as f64;
        self.state.storage().set_alarm(ScheduledTime::new(js_sys::Date::new(&forget_at.into()))).await?;
        Ok(ClaimVerdict::Claimed)
    }

    /// Judges a request whose answer the registry keeps; on `Go`, takes the lease.
    fn begin(&self, fingerprint: &str) -> Result<Begun> {
        let sql = self.sql()?;
        let recorded = Self::recorded(&sql)?;
        let leases = sql.exec("SELECT body FROM claim WHERE k = 'lease'", None)?.to_array::<BodyRow>()?;
        let started = leases.first().map(|r| r.body.parse::<i64>().map(Millis).map_err(corrupt)).transpose()?;
        let t = now();
        Ok(match start(recorded.as_ref(), fingerprint, started, t, IDEMPOTENCY_LEASE_MS) {
            Start::Reused => Begun::Reused,
            Start::Busy => Begun::Busy,
            Start::Replay(head) => {
                let rows = sql.exec("SELECT text FROM answer_part ORDER BY n", None)?.to_array::<PartRow>()?;
                if rows.len() != head.parts as usize {
                    return Err(corrupt(format!("{} of {} parts of the kept answer", rows.len(), head.parts)));
                }
                let body = rows.into_iter().map(|r| r.text).collect();
                Begun::Replay(Answer { status: head.status, content_type: head.content_type.clone(), body })
            }
            Start::Go => {
                Self::set(&sql, "lease", t.0.to_string())?;
                Begun::Go
            }
        })
    }

    /// Keeps the answer to the request the key was claimed for (if there is one to keep), and
    /// ends its lease.
    fn keep(&self, fingerprint: &str, answer: Option<Answer>) -> Result<()> {
        let sql = self.sql()?;
        let Some(mut rec) = Self::recorded(&sql)? else { return Ok(()) };
        if rec.fingerprint != fingerprint || rec.reply.is_some() {
            return Ok(());
        }
        let Some(answer) = answer else {
            sql.exec("DELETE FROM claim WHERE k = 'lease'", None)?;
            return Ok(());
        };
        let pieces = parts(&answer.body);
        sql.exec("DELETE FROM answer_part", None)?;
        for (n, text) in pieces.iter().enumerate() {
            sql.exec("INSERT INTO answer_part (n, text) VALUES (?, ?)", vec![(n as i64).into(), (*text).into()])?;
        }
        rec.reply = Some(Head { status: answer.status, content_type: answer.content_type, parts: pieces.len() as u32 });
        Self::set(&sql, "claim", serde_json::to_string(&rec)?)?;
        sql.exec("DELETE FROM claim WHERE k = 'lease'", None)?;
        Ok(())
    }
}

impl DurableObject for IdempotencyKeys {
    fn new(state: State, _env: Env) -> Self {
        IdempotencyKeys { state }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        rpc::serve(req, CLASS, |call: KeyCall| self.answer(call)).await
    }

    async fn alarm(&self) -> Result<Response> {
        let sql = self.sql()?;
        sql.exec("DELETE FROM claim", None)?;
        sql.exec("DELETE FROM answer_part", None)?;
        Response::ok("forgotten")
    }
}
