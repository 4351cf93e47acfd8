//! Import jobs: `POST /v1/imports` answers `202` for a file too large to apply within its
//! request (`crate::import::jobs` decides which, and cuts it into chunks by SKU), the
//! `import-jobs` queue applies it chunk by chunk, and `GET /v1/imports/{id}` reports progress
//! and, page by page, the per-row report.
//!
//! - Submit: the job and its chunks are stored in D1 (`import_jobs`, `import_job_chunks`), the
//!   chunk of rows without a SKU is reported at once, and one message per other chunk is sent.
//!   The job id is the import id: derived from the Idempotency-Key when one is sent, so posting
//!   the same file with the same key answers the same job (`202`, nothing submitted twice).
//! - Each message: a chunk is planned once (`import::attempt`). Its first attempt plans it against
//!   the ledgers' current levels (`imports::plan_now`) and keeps the plan with the chunk
//!   (`import_job_chunks.plan`) before any ledger call; that attempt and every later one apply the
//!   kept plan (`imports::apply_plan`), every ledger call carrying the Idempotency-Key
//!   `import:{job id}` with the job's fingerprint — a chunk run again after a failure (queue
//!   retry) replays each ledger's first answer instead of applying twice, and its report is the
//!   kept plan with those answers: each row as its first application answered. Its report and
//!   summary are stored, and the job is `done` when every chunk is. A chunk begun
//!   `import::limits::MAX_CHUNK_ATTEMPTS` times without finishing is given up so the job still
//!   ends: its rows are errors (`the chunk could not be applied`) but for those of batches a
//!   ledger applied, which each ledger's kept answer tells (`imports::recall_plan`).
//! - Resuming: a job whose chunk messages were lost (a send that failed after the job was
//!   stored, an invocation that died between the two, a queue that dropped them) would never
//!   end. Posting the same file again with the same key re-sends the unfinished chunks of the
//!   job it finds, and the cron ([`resume_stalled`]) re-sends those of every job that has not
//!   moved for `import::limits::JOB_STALL_MS`. A chunk sent twice is applied once: a finished
//!   chunk's message is a no-op, and the ledgers replay their first answer to the job's key.

use serde::{Deserialize, Serialize};
use worker::{console_error, D1Database, Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder, Response};

use crate::api::import_views::{job_status, no_job, report_page, ReportPage};
use crate::fault::Fault;
use crate::import::attempt::{self, Attempt};
use crate::import::limits::JOB_RESUME_BATCH;
use crate::import::{jobs, plan_rows, RowOutcome};

use super::clock::now;
use super::imports::{apply_plan, plan_now, recall_plan};
use super::limits::{IMPORT_RETRY_DELAY_S as RETRY_DELAY_S, QUEUE_SEND_BATCH as SEND_BATCH};
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
        // Asked again (the first answer was not kept: it failed, or the request was cut off): its
        // chunks may never have been sent.
        resend(env, &db, &job.id).await?;
        return answer(&db, &job.id, 202, None).await;
    }
    let (rows_total, skus_total) = (outcomes.len(), jobs::distinct_skus(&outcomes));
    let chunks = jobs::chunks(outcomes);
    stored::submit(&db, &job, &chunks, (rows_total, skus_total), now()).await?;
    // Chunk 0, the rows without a SKU: reported without touching a ledger.
    let first = chunks.first().cloned().unwrap_or_default();
    let plan = plan_rows(first, job.mode, |_, _| None);
    stored::finish_chunk(&db, &job.id, 0, &plan.rows, &plan.summary, now()).await?;
    send(env, &job.id, 1..chunks.len() as i64).await?;
    answer(&db, &job.id, 202, None).await
}

/// Sends one message per chunk number.
async fn send(env: &Env, job: &str, chunks: impl IntoIterator<Item = i64>) -> Result<(), Fault> {
    let queue = env.queue(QUEUE)?;
    let messages: Vec<ChunkMessage> = chunks.into_iter().map(|n| ChunkMessage { job: job.to_owned(), n }).collect();
    for batch in messages.chunks(SEND_BATCH) {
        let batch: Vec<&ChunkMessage> = batch.iter().collect();
        queue.send_batch(batch).await?;
    }
    Ok(())
}

/// Sends the job's unfinished chunks again and records that it moved; answers how many.
async fn resend(env: &Env, db: &D1Database, job: &str) -> Result<usize, Fault> {
    let chunks = stored::unfinished(db, job).await?;
    if !chunks.is_empty() {
        send(env, job, chunks.iter().copied()).await?;
        stored::moved(db, job, now()).await?;
    }
    Ok(chunks.len())
}

/// The cron's part: the unfinished chunks of every job that has not moved for
/// `import::limits::JOB_STALL_MS` are sent again (at most `JOB_RESUME_BATCH` jobs per run).
/// Answers `(jobs, chunks)` resumed.
pub async fn resume_stalled(env: &Env) -> Result<(usize, usize), Fault> {
    let db = store::db(env)?;
    let stalled = stored::stalled(&db, jobs::stalled_before(now()), JOB_RESUME_BATCH).await?;
    let mut chunks = 0;
    for job in &stalled {
        chunks += resend(env, &db, job).await?;
    }
    Ok((stalled.len(), chunks))
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
    let (basis, mode) = (job.basis()?, job.mode()?);
    let key = (format!("import:{}", job.id), job.fingerprint.clone());
    let plan = match attempt::attempt(chunk.attempts, chunk.plan) {
        Attempt::Plan => {
            let plan = plan_now(env, chunk.outcomes, basis, mode).await?;
            if job.dry_run() {
                plan
            } else {
                // Kept before any ledger call: a re-run applies this plan, never a new one. The
                // plan applied is the one kept (a delivery running the chunk at the same time may
                // have kept its own first).
                stored::keep_plan(db, &msg.job, msg.n, &plan).await?;
                let kept = stored::chunk(db, &msg.job, msg.n).await?.and_then(|c| c.plan).unwrap_or(plan);
                apply_plan(env, kept, basis, mode, &job.id, Some(&key)).await?
            }
        }
        Attempt::Apply(plan) => apply_plan(env, plan, basis, mode, &job.id, Some(&key)).await?,
        // Given up: its rows are reported as errors so that the job ends, but for those of
        // batches a ledger applied.
        Attempt::GiveUp => jobs::give_up(chunk.outcomes, mode),
        Attempt::Recall(plan) => recall_plan(env, plan, basis, mode, &job.id, &key).await?,
    };
    Ok(stored::finish_chunk(db, &msg.job, msg.n, &plan.rows, &plan.summary, now()).await?)
}

/// The job's status; with `page` the report rows of finished chunks, in line order.
async fn answer(db: &D1Database, id: &str, status: u16, page: Option<ReportPage>) -> Result<Response, Fault> {
    let Some(job) = stored::job(db, id).await? else { return Ok(http::problem(&no_job(id))?) };
    let summaries = stored::summaries(db, id).await?;
    let report = match page {
        Some(p) => Some((stored::report_rows(db, id, p.after).await?, p)),
        None => None,
    };
    Ok(http::json(status, &job_status(&job, &summaries, report)?)?)
}

/// `GET /v1/imports/{id}?after=&limit=`: the job's progress and summary, and a page of its
/// per-row report (rows of finished chunks with `line > after`, at most `limit`, default 1000).
pub async fn status(env: &Env, id: &str, query: &[(String, String)]) -> Result<Response, Fault> {
    match report_page(query) {
        Ok(page) => answer(&store::db(env)?, id, 200, Some(page)).await,
        Err(p) => Ok(http::problem(&p)?),
    }
}
