//! `IdempotencyKeys`: one Durable Object per Idempotency-Key, remembering the fingerprint of the
//! request the key was first used with (24 h). A key reused for another request is refused
//! before anything is applied. The resource's own object keeps and replays the first answer
//! where there is one (stock, sales, reservations); for the routes whose effects no object
//! replays by itself (imports, alert acknowledgements, sync retries, poll runs) the registry
//! keeps the first answer itself ([`keeping`]).

use std::future::Future;

use worker::*;

use crate::api::idempotency::{judge, kept, start, Recorded, Verdict};
pub use crate::api::key_registry::ClaimVerdict;
use crate::api::key_registry::{
    self as registry, Answer, Beginning, Begun, Head, KeyCall, KeyReply, FORGET, READ_CLAIM, READ_LEASE, READ_PARTS,
    SCHEMA,
};
use crate::api::{Kind, Problem};
use crate::fault::{Fault, ObjectError};
use crate::stock::limits::IDEMPOTENCY_LEASE_MS;

use super::clock::now;
use super::rpc::{self, corrupt};
use super::{http, object_sql};

pub const BINDING: &str = "IDEMPOTENCY_KEYS";
const CLASS: &str = "IdempotencyKeys";

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

#[durable_object]
pub struct IdempotencyKeys {
    state: State,
}

impl IdempotencyKeys {
    fn sql(&self) -> Result<SqlStorage> {
        let sql = self.state.storage().sql();
        for table in SCHEMA {
            sql.exec(table, None)?;
        }
        Ok(sql)
    }

    /// The claim row: the first request's fingerprint and, once answered, its answer's head.
    fn recorded(sql: &SqlStorage) -> Result<Option<Recorded<Head>>> {
        registry::recorded(&object_sql::rows(sql, READ_CLAIM, Vec::new())?).map_err(corrupt)
    }

    async fn answer(&self, call: KeyCall) -> Result<KeyReply> {
        match call {
            KeyCall::Claim { fingerprint } => Ok(KeyReply::Claim(self.claim(fingerprint).await?)),
            KeyCall::Begin { fingerprint } => Ok(KeyReply::Begin(self.begin(&fingerprint)?)),
            KeyCall::Keep { fingerprint, answer } => {
                let sql = self.sql()?;
                let plan = registry::keep(Self::recorded(&sql)?, &fingerprint, answer).map_err(corrupt)?;
                object_sql::exec(&sql, plan)?;
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
        object_sql::exec(&sql, [registry::claim(fingerprint, t).map_err(corrupt)?])?;
        let forget_at = crate::api::idempotency::forget_at(t).0 as f64;
        self.state.storage().set_alarm(ScheduledTime::new(js_sys::Date::new(&forget_at.into()))).await?;
        Ok(ClaimVerdict::Claimed)
    }

    /// Judges a request whose answer the registry keeps; on `Go`, takes the lease.
    fn begin(&self, fingerprint: &str) -> Result<Begun> {
        let sql = self.sql()?;
        let recorded = Self::recorded(&sql)?;
        let started = registry::lease(&object_sql::rows(&sql, READ_LEASE, Vec::new())?).map_err(corrupt)?;
        let t = now();
        match registry::begin(start(recorded.as_ref(), fingerprint, started, t, IDEMPOTENCY_LEASE_MS), t) {
            Beginning::Answer(verdict) => Ok(verdict),
            Beginning::Go(lease) => {
                object_sql::exec(&sql, [lease])?;
                Ok(Begun::Go)
            }
            Beginning::Replay(head) => {
                registry::replay(head, object_sql::rows(&sql, READ_PARTS, Vec::new())?).map_err(corrupt)
            }
        }
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
        for table in FORGET {
            sql.exec(table, None)?;
        }
        Response::ok("forgotten")
    }
}
