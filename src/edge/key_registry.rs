//! `IdempotencyKeys`: one Durable Object per Idempotency-Key, remembering the fingerprint of the
//! request the key was first used with (24 h). A key reused for another request is refused
//! before anything is applied; the resource's own object keeps and replays the first answer.

use serde::{Deserialize, Serialize};
use worker::*;

use crate::api::idempotency::{judge, Recorded, Verdict};
use crate::fault::ObjectError;
use crate::stock::limits::IDEMPOTENCY_RETENTION_MS;

use super::clock::now;
use super::rpc::{self, corrupt};

pub const BINDING: &str = "IDEMPOTENCY_KEYS";
const CLASS: &str = "IdempotencyKeys";

/// A request's claim on its key.
#[derive(Serialize, Deserialize)]
struct Claim {
    fingerprint: String,
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

#[derive(Deserialize)]
struct BodyRow {
    body: String,
}

/// Claims `key` for the request with `fingerprint`.
pub async fn claim(env: &Env, key: &str, fingerprint: &str) -> std::result::Result<ClaimVerdict, ObjectError> {
    rpc::call(env, BINDING, key, &Claim { fingerprint: fingerprint.to_owned() }).await
}

#[durable_object]
pub struct IdempotencyKeys {
    state: State,
}

impl IdempotencyKeys {
    async fn judge(&self, claim: Claim) -> Result<ClaimVerdict> {
        let sql = self.state.storage().sql();
        sql.exec("CREATE TABLE IF NOT EXISTS claim (k TEXT PRIMARY KEY, body TEXT NOT NULL)", None)?;
        let rows = sql.exec("SELECT body FROM claim WHERE k = 'claim'", None)?.to_array::<BodyRow>()?;
        let existing: Option<Recorded<()>> =
            rows.first().map(|r| serde_json::from_str(&r.body).map_err(corrupt)).transpose()?;
        match judge(existing.as_ref(), &claim.fingerprint) {
            Verdict::Reused => return Ok(ClaimVerdict::Reused),
            Verdict::Replay(_) | Verdict::Resume { .. } => return Ok(ClaimVerdict::Claimed),
            Verdict::Fresh => {}
        }
        let t = now();
        let rec: Recorded<()> = Recorded { fingerprint: claim.fingerprint, at: t, reply: None };
        sql.exec(
            "INSERT OR REPLACE INTO claim (k, body) VALUES ('claim', ?)",
            vec![serde_json::to_string(&rec)?.into()],
        )?;
        let forget_at = (t.0 + IDEMPOTENCY_RETENTION_MS) as f64;
        self.state.storage().set_alarm(ScheduledTime::new(js_sys::Date::new(&forget_at.into()))).await?;
        Ok(ClaimVerdict::Claimed)
    }
}

impl DurableObject for IdempotencyKeys {
    fn new(state: State, _env: Env) -> Self {
        IdempotencyKeys { state }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        rpc::serve(req, CLASS, |claim: Claim| self.judge(claim)).await
    }

    async fn alarm(&self) -> Result<Response> {
        self.state.storage().sql().exec("DELETE FROM claim", None)?;
        Response::ok("forgotten")
    }
}
