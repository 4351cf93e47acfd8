//! Import jobs: `POST /v1/imports` answers `202` for a file too large to apply within its
//! request (`crate::import::jobs` decides which, and cuts it into chunks by SKU), the
//! `import-jobs` queue applies it chunk by chunk, and `GET /v1/imports/{id}` reports progress
//! and, page by page, the per-row report.
//!
//! - Submit: the job and its chunks are stored in D1 (`import_jobs`, `import_job_chunks`), the
//!   chunk of rows without a SKU is reported at once, and one message per other chunk is sent.
//!   The job id is the import id: derived from the Idempotency-Key when one is sent, so posting
//!   the same file with the same key answers the same job (`202`, nothing submitted twice).
//! - Each message: the chunk is planned against the ledgers' current levels and applied
//!   (`imports::apply_rows`), every ledger call carrying the Idempotency-Key `import:{job id}`
//!   with the job's fingerprint — a chunk run again after a failure (queue retry) replays each
//!   ledger's first answer instead of applying twice. Its report and summary are stored, and the
//!   job is `done` when every chunk is. A chunk begun [`MAX_CHUNK_ATTEMPTS`] times without
//!   finishing is reported as errors (`the chunk could not be applied`) so the job still ends.
//! - Choice: rows of a chunk that ran again after a partial failure may be reported
//!   `unchanged` where the first attempt applied them (the ledger replays; the report is
//!   computed from the levels as they are now).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use worker::{console_error, D1Database, Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder, Response};

use crate::api::{FieldError, Kind, Problem};
use crate::fault::Fault;
use crate::import::{jobs, plan_rows, RowOutcome, RowReport, Status, Summary};
use crate::time::Millis;

use super::clock::now;
use super::limits::{
    IMPORT_RETRY_DELAY_S as RETRY_DELAY_S, MAX_CHUNK_ATTEMPTS, MAX_PAGE_ROWS, QUEUE_SEND_BATCH as SEND_BATCH,
};
use super::store::imports::{self as stored, Job};
use super::{http, store};

/// The queue binding of the job chunks (wrangler.toml).
const QUEUE: &str = "IMPORT_JOBS";
/// The queue's name, as a consumer batch reports it.
pub const QUEUE_NAME: &str = "import-jobs";

/// One queue message: a chunk to apply.
#[derive(Serialize, Deserialize)]
struct ChunkMessage {
    job: String,
    n: i64,
}

/// Stores the job and sends its chunks; answers `202` with the job's status (or, for a job that
/// exists already — the same Idempotency-Key — its status as it is).
pub async fn submit(env: &Env, job: Job, outcomes: Vec<RowOutcome>) -> Result<Response, Fault> {
    let db = store::db(env)?;
    if stored::exists(&db, &job.id).await? {
        return answer(&db, &job.id, 202, None).await;
    }
    let rows_total = outcomes.len();
    let skus_total = {
        let mut s: Vec<_> = outcomes
            .iter()
            .filter_map(|o| if let RowOutcome::Stock { sku, .. } = o { Some(sku.clone()) } else { None })
            .collect();
        s.sort_unstable();
        s.dedup();
        s.len()
    };
    let chunks = jobs::chunks(outcomes);
    stored::submit(&db, &job, &chunks, (rows_total, skus_total), now()).await?;
    // Chunk 0, the rows without a SKU: reported without touching a ledger.
    let first = chunks.first().cloned().unwrap_or_default();
    let plan = plan_rows(first, job.mode, |_, _| None);
    stored::finish_chunk(&db, &job.id, 0, &plan.rows, &plan.summary, now()).await?;
    let queue = env.queue(QUEUE)?;
    let messages: Vec<ChunkMessage> =
        (1..chunks.len() as i64).map(|n| ChunkMessage { job: job.id.clone(), n }).collect();
    for batch in messages.chunks(SEND_BATCH) {
        let batch: Vec<&ChunkMessage> = batch.iter().collect();
        queue.send_batch(batch).await?;
    }
    answer(&db, &job.id, 202, None).await
}

/// The `import-jobs` consumer: applies each message's chunk.
pub async fn consume<T>(batch: &MessageBatch<T>, env: &Env) -> Result<(), Fault> {
    let db = store::db(env)?;
    for m in batch.raw_iter() {
        let text = worker::js_sys::JSON::stringify(&m.body()).ok().and_then(|s| s.as_string()).unwrap_or_default();
        let msg: ChunkMessage = match serde_json::from_str(&text) {
            Ok(msg) => msg,
            Err(e) => {
                console_error!("import-jobs: not a chunk message ({e}); dropped");
                m.ack();
                continue;
            }
        };
        match apply_chunk(env, &db, &msg).await {
            Ok(()) => m.ack(),
            Err(e) => {
                console_error!("import job {} chunk {}: {e}; retried", msg.job, msg.n);
                m.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(RETRY_DELAY_S).build());
            }
        }
    }
    Ok(())
}

async fn apply_chunk(env: &Env, db: &D1Database, msg: &ChunkMessage) -> Result<(), Fault> {
    let Some(job) = stored::job(db, &msg.job).await? else { return Ok(()) };
    let Some(chunk) = stored::chunk(db, &msg.job, msg.n).await? else { return Ok(()) };
    if chunk.finished {
        return Ok(());
    }
    stored::begin_chunk(db, &msg.job, msg.n, now()).await?;
    let mode = job.mode()?;
    if chunk.attempts >= MAX_CHUNK_ATTEMPTS {
        // Give up on this chunk: its rows are reported as errors so that the job ends.
        let mut plan = plan_rows(chunk.outcomes, mode, |_, _| None);
        for r in plan.rows.iter_mut().filter(|r| r.status == Status::Applied || r.status == Status::Unchanged) {
            r.status = Status::Error;
            r.message = Some(format!(
                "the chunk could not be applied after {MAX_CHUNK_ATTEMPTS} attempts; import these rows again"
            ));
            r.after = None;
        }
        plan.summary.applied = 0;
        plan.summary.unchanged = 0;
        plan.summary.changes = 0;
        plan.summary.errors = plan.rows.iter().filter(|r| r.status == Status::Error).count();
        return Ok(stored::finish_chunk(db, &msg.job, msg.n, &plan.rows, &plan.summary, now()).await?);
    }
    let key = (format!("import:{}", job.id), job.fingerprint.clone());
    let plan =
        super::imports::apply_rows(env, chunk.outcomes, job.basis()?, mode, job.dry_run(), &job.id, Some(&key)).await?;
    Ok(stored::finish_chunk(db, &msg.job, msg.n, &plan.rows, &plan.summary, now()).await?)
}

/// The job's status; with `page` (`after` line, `limit` rows) the report rows of finished
/// chunks, in line order.
async fn answer(db: &D1Database, id: &str, status: u16, page: Option<(u64, usize)>) -> Result<Response, Fault> {
    let Some(job) = stored::job(db, id).await? else {
        let p = Problem::new(Kind::NotFound, format!("no import job {id}")).with("resource", "import");
        return Ok(http::problem(&p)?);
    };
    let summary = stored::summaries(db, id).await?.iter().fold(Summary::default(), jobs::add);
    let mut body = json!({
        "import_id": job.id,
        "status": job.status,
        "format": job.format,
        "basis": job.basis()?,
        "mode": job.mode()?,
        "dry_run": job.dry_run(),
        "progress": {"chunks": job.chunks_total, "chunks_done": job.chunks_done, "rows": job.rows_total, "skus": job.skus_total},
        "summary": summary,
        "location_mappings": job.location_mappings()?,
        "created_at": Millis(job.created_at).to_rfc3339(),
        "finished_at": job.finished_at.map(|t| Millis(t).to_rfc3339()),
        "poll": format!("/v1/imports/{}", job.id),
    });
    if let Some((after, limit)) = page {
        let mut rows: Vec<RowReport> = stored::report_rows(db, id, after).await?;
        rows.sort_by_key(|r| r.line);
        let more = rows.len() > limit;
        rows.truncate(limit);
        if more {
            if let Some(last) = rows.last() {
                body["next"] = json!(last.line);
            }
        }
        body["rows"] = serde_json::to_value(&rows).unwrap_or(Value::Null);
    }
    Ok(http::json(status, &body)?)
}

/// `GET /v1/imports/{id}?after=&limit=`: the job's progress and summary, and a page of its
/// per-row report (rows of finished chunks with `line > after`, at most `limit`, default 1000).
pub async fn status(env: &Env, id: &str, query: &[(String, String)]) -> Result<Response, Fault> {
    let mut errors = Vec::new();
    let mut after = 0_u64;
    let mut limit = 1_000_usize;
    for (k, v) in query {
        match k.as_str() {
            "after" => match v.parse::<u64>() {
                Ok(n) => after = n,
                Err(_) => {
                    errors.push(FieldError::new("after", "must be a line number, 0 or more (the previous page's next)"))
                }
            },
            "limit" => match v.parse::<usize>() {
                Ok(n) if (1..=MAX_PAGE_ROWS).contains(&n) => limit = n,
                _ => errors.push(FieldError::new("limit", format!("must be a whole number from 1 to {MAX_PAGE_ROWS}"))),
            },
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Ok(http::problem(&Problem::invalid(errors))?);
    }
    answer(&store::db(env)?, id, 200, Some((after, limit))).await
}
