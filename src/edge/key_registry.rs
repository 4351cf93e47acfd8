//! `IdempotencyKeys`: one Durable Object per Idempotency-Key, remembering the fingerprint of the
//! request the key was first used with (24 h). A key reused for another request is refused
//! before anything is applied; the resource's own object keeps and replays the first answer.

use serde::{Deserialize, Serialize};
use worker::*;

use crate::api::idempotency::{judge, Recorded, Verdict};
use crate::api::sku_call::Answer;
use crate::api::{Kind, Problem};
use crate::stock::limits::IDEMPOTENCY_RETENTION_MS;

use super::clock::now;
use super::http;

pub const BINDING: &str = "IDEMPOTENCY_KEYS";

#[derive(Serialize, Deserialize)]
struct Claim {
    fingerprint: String,
}

#[derive(Deserialize)]
struct BodyRow {
    body: String,
}

/// Claims `key` for the request with `fingerprint`: `Ok` if the key is new or was used with
/// the same request, the `idempotency-key-reused` problem otherwise.
pub async fn claim(env: &Env, key: &str, fingerprint: &str) -> Result<std::result::Result<(), Problem>> {
    let a = super::rpc::call(env, BINDING, key, &Claim { fingerprint: fingerprint.to_owned() }).await?;
    if a.status == 200 {
        return Ok(Ok(()));
    }
    Ok(Err(Problem::new(Kind::IdempotencyKeyReused, "this Idempotency-Key was used with a different request")))
}

#[durable_object]
pub struct IdempotencyKeys {
    state: State,
}

impl DurableObject for IdempotencyKeys {
    fn new(state: State, _env: Env) -> Self {
        IdempotencyKeys { state }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let claim: Claim = match super::rpc::read(&mut req).await {
            Ok(c) => c,
            Err(answer) => return answer,
        };
        let sql = self.state.storage().sql();
        sql.exec("CREATE TABLE IF NOT EXISTS claim (k TEXT PRIMARY KEY, body TEXT NOT NULL)", None)?;
        let rows = sql.exec("SELECT body FROM claim WHERE k = 'claim'", None)?.to_array::<BodyRow>()?;
        let existing: Option<Recorded> = rows.first().and_then(|r| serde_json::from_str(&r.body).ok());
        let fresh = match judge(existing.as_ref(), &claim.fingerprint) {
            Verdict::Reused => {
                let p =
                    Problem::new(Kind::IdempotencyKeyReused, "this Idempotency-Key was used with a different request");
                return http::answer(&Answer::problem(&p));
            }
            Verdict::Replay(_) => false,
            Verdict::Fresh => true,
        };
        if fresh {
            let t = now();
            let rec = Recorded { fingerprint: claim.fingerprint, status: 0, body: String::new(), at: t };
            let body = serde_json::to_string(&rec).map_err(|e| Error::RustError(e.to_string()))?;
            sql.exec("INSERT OR REPLACE INTO claim (k, body) VALUES ('claim', ?)", vec![body.into()])?;
            let forget_at = (t.0 + IDEMPOTENCY_RETENTION_MS) as f64;
            self.state.storage().set_alarm(ScheduledTime::new(js_sys::Date::new(&forget_at.into()))).await?;
        }
        http::json(200, &serde_json::json!({ "claimed": true }))
    }

    async fn alarm(&self) -> Result<Response> {
        self.state.storage().sql().exec("DELETE FROM claim", None)?;
        Response::ok("forgotten")
    }
}
