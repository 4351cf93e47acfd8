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
use worker::{console_error, D1Database, Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder, Response, Result};

use crate::api::{FieldError, Kind, Problem};
use crate::import::{jobs, plan_rows, Basis, Format, Mode, RowOutcome, RowReport, Status, Summary};
use crate::time::Millis;

use super::clock::now;
use super::http;

const DB: &str = "CATALOG";
/// The queue binding of the job chunks (wrangler.toml).
const QUEUE: &str = "IMPORT_JOBS";
/// The queue's name, as a consumer batch reports it.
pub const QUEUE_NAME: &str = "import-jobs";
/// Times a chunk is begun before it is reported as failed.
const MAX_CHUNK_ATTEMPTS: i64 = 6;
/// Seconds before a failed chunk is tried again (6 attempts span about a minute and a half).
const RETRY_DELAY_S: u32 = 15;
/// Messages per `sendBatch` (Queues accepts at most 100).
const SEND_BATCH: usize = 100;
/// Report rows per `GET /v1/imports/{id}` page.
const MAX_PAGE_ROWS: usize = 5_000;

/// A job's settings, as submitted.
pub struct Job {
    pub id: String,
    pub format: Format,
    pub basis: Basis,
    pub mode: Mode,
    pub dry_run: bool,
    pub fingerprint: String,
    pub location_mappings: Value,
}

/// One queue message: a chunk to apply.
#[derive(Serialize, Deserialize)]
struct ChunkMessage {
    job: String,
    n: i64,
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| worker::Error::RustError(e.to_string()))
}

fn from_json<T: for<'de> Deserialize<'de>>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| worker::Error::RustError(e.to_string()))
}

/// Stores the job and sends its chunks; answers `202` with the job's status (or, for a job that
/// exists already — the same Idempotency-Key — its status as it is).
pub async fn submit(env: &Env, job: Job, outcomes: Vec<RowOutcome>) -> Result<Response> {
    let db = env.d1(DB)?;
    if exists(&db, &job.id).await? {
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
    let t = now();
    let mut stmts = vec![db
        .prepare(
            "INSERT OR IGNORE INTO import_jobs (id, status, format, basis, mode, dry_run, fingerprint, location_mappings, \
             chunks_total, rows_total, skus_total, created_at, updated_at) VALUES (?1, 'queued', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
        )
        .bind(&[
            job.id.as_str().into(),
            job.format.as_str().into(),
            to_json(&job.basis)?.into(),
            to_json(&job.mode)?.into(),
            job.dry_run.into(),
            job.fingerprint.as_str().into(),
            job.location_mappings.to_string().into(),
            (chunks.len() as f64).into(),
            (rows_total as f64).into(),
            (skus_total as f64).into(),
            (t.0 as f64).into(),
        ])?];
    for (n, chunk) in chunks.iter().enumerate() {
        stmts.push(
            db.prepare("INSERT OR IGNORE INTO import_job_chunks (job_id, n, outcomes) VALUES (?1, ?2, ?3)").bind(&[
                job.id.as_str().into(),
                (n as f64).into(),
                to_json(chunk)?.into(),
            ])?,
        );
    }
    db.batch(stmts).await?;
    // Chunk 0, the rows without a SKU: reported without touching a ledger.
    let first = chunks.first().cloned().unwrap_or_default();
    let plan = plan_rows(first, job.mode, |_, _| None);
    finish_chunk(&db, &job.id, 0, &plan.rows, &plan.summary).await?;
    let queue = env.queue(QUEUE)?;
    let messages: Vec<ChunkMessage> =
        (1..chunks.len() as i64).map(|n| ChunkMessage { job: job.id.clone(), n }).collect();
    for batch in messages.chunks(SEND_BATCH) {
        let batch: Vec<&ChunkMessage> = batch.iter().collect();
        queue.send_batch(batch).await?;
    }
    answer(&db, &job.id, 202, None).await
}

#[derive(Deserialize)]
struct Exists {
    #[allow(dead_code)]
    n: i64,
}

async fn exists(db: &D1Database, id: &str) -> Result<bool> {
    Ok(db
        .prepare("SELECT 1 AS n FROM import_jobs WHERE id = ?1")
        .bind(&[id.into()])?
        .first::<Exists>(None)
        .await?
        .is_some())
}

/// Stores a chunk's report and summary (once), then the job's progress.
async fn finish_chunk(db: &D1Database, job: &str, n: i64, rows: &[RowReport], summary: &Summary) -> Result<()> {
    let t = now();
    db.batch(vec![
        db.prepare("UPDATE import_job_chunks SET report = ?1, summary = ?2, done_at = ?3 WHERE job_id = ?4 AND n = ?5 AND report IS NULL")
            .bind(&[to_json(&rows)?.into(), to_json(summary)?.into(), (t.0 as f64).into(), job.into(), (n as f64).into()])?,
        db.prepare(
            "UPDATE import_jobs SET chunks_done = (SELECT COUNT(*) FROM import_job_chunks WHERE job_id = ?1 AND report IS NOT NULL), \
             updated_at = ?2 WHERE id = ?1",
        )
        .bind(&[job.into(), (t.0 as f64).into()])?,
        db.prepare(
            "UPDATE import_jobs SET status = CASE WHEN chunks_done >= chunks_total THEN 'done' ELSE 'running' END, \
             finished_at = CASE WHEN chunks_done >= chunks_total THEN ?2 ELSE NULL END WHERE id = ?1 AND status != 'done'",
        )
        .bind(&[job.into(), (t.0 as f64).into()])?,
    ])
    .await?;
    Ok(())
}

#[derive(Deserialize)]
struct JobRow {
    id: String,
    status: String,
    format: String,
    basis: String,
    mode: String,
    dry_run: i64,
    fingerprint: String,
    location_mappings: String,
    chunks_total: i64,
    chunks_done: i64,
    rows_total: i64,
    skus_total: i64,
    created_at: i64,
    finished_at: Option<i64>,
}

#[derive(Deserialize)]
struct ChunkRow {
    outcomes: String,
    report: Option<String>,
    attempts: i64,
}

async fn job_row(db: &D1Database, id: &str) -> Result<Option<JobRow>> {
    db.prepare(
        "SELECT id, status, format, basis, mode, dry_run, fingerprint, location_mappings, chunks_total, chunks_done, \
         rows_total, skus_total, created_at, finished_at FROM import_jobs WHERE id = ?1",
    )
    .bind(&[id.into()])?
    .first(None)
    .await
}

/// The `import-jobs` consumer: applies each message's chunk.
pub async fn consume<T>(batch: &MessageBatch<T>, env: &Env) -> Result<()> {
    let db = env.d1(DB)?;
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

async fn apply_chunk(env: &Env, db: &D1Database, msg: &ChunkMessage) -> Result<()> {
    let Some(job) = job_row(db, &msg.job).await? else { return Ok(()) };
    let chunk: Option<ChunkRow> = db
        .prepare("SELECT outcomes, report, attempts FROM import_job_chunks WHERE job_id = ?1 AND n = ?2")
        .bind(&[msg.job.as_str().into(), (msg.n as f64).into()])?
        .first(None)
        .await?;
    let Some(chunk) = chunk else { return Ok(()) };
    if chunk.report.is_some() {
        return Ok(());
    }
    db.prepare("UPDATE import_job_chunks SET attempts = attempts + 1 WHERE job_id = ?1 AND n = ?2")
        .bind(&[msg.job.as_str().into(), (msg.n as f64).into()])?
        .run()
        .await?;
    db.prepare("UPDATE import_jobs SET status = 'running', updated_at = ?2 WHERE id = ?1 AND status = 'queued'")
        .bind(&[msg.job.as_str().into(), (now().0 as f64).into()])?
        .run()
        .await?;
    let outcomes: Vec<RowOutcome> = from_json(&chunk.outcomes)?;
    let mode: Mode = from_json(&job.mode)?;
    if chunk.attempts >= MAX_CHUNK_ATTEMPTS {
        // Give up on this chunk: its rows are reported as errors so that the job ends.
        let mut plan = plan_rows(outcomes, mode, |_, _| None);
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
        return finish_chunk(db, &msg.job, msg.n, &plan.rows, &plan.summary).await;
    }
    let basis: Basis = from_json(&job.basis)?;
    let key = (format!("import:{}", job.id), job.fingerprint.clone());
    let plan = super::imports::apply_rows(env, outcomes, basis, mode, job.dry_run != 0, &job.id, Some(&key)).await?;
    finish_chunk(db, &msg.job, msg.n, &plan.rows, &plan.summary).await
}

/// The job's status; with `page` (`after` line, `limit` rows) the report rows of finished
/// chunks, in line order.
async fn answer(db: &D1Database, id: &str, status: u16, page: Option<(u64, usize)>) -> Result<Response> {
    let Some(job) = job_row(db, id).await? else {
        return http::problem(&Problem::new(Kind::NotFound, format!("no import job {id}")).with("resource", "import"));
    };
    #[derive(Deserialize)]
    struct Done {
        summary: Option<String>,
    }
    let summaries: Vec<Done> = db
        .prepare("SELECT summary FROM import_job_chunks WHERE job_id = ?1 AND summary IS NOT NULL")
        .bind(&[id.into()])?
        .all()
        .await?
        .results()?;
    let mut summary = Summary::default();
    for s in summaries.iter().filter_map(|d| d.summary.as_deref()) {
        summary = jobs::add(summary, &from_json(s)?);
    }
    let mut body = json!({
        "import_id": job.id,
        "status": job.status,
        "format": job.format,
        "basis": serde_json::from_str::<Value>(&job.basis).unwrap_or(Value::Null),
        "mode": serde_json::from_str::<Value>(&job.mode).unwrap_or(Value::Null),
        "dry_run": job.dry_run != 0,
        "progress": {"chunks": job.chunks_total, "chunks_done": job.chunks_done, "rows": job.rows_total, "skus": job.skus_total},
        "summary": summary,
        "location_mappings": serde_json::from_str::<Value>(&job.location_mappings).unwrap_or(Value::Null),
        "created_at": Millis(job.created_at).to_rfc3339(),
        "finished_at": job.finished_at.map(|t| Millis(t).to_rfc3339()),
        "poll": format!("/v1/imports/{}", job.id),
    });
    if let Some((after, limit)) = page {
        #[derive(Deserialize)]
        struct Report {
            report: Option<String>,
        }
        let reports: Vec<Report> = db
            .prepare("SELECT report FROM import_job_chunks WHERE job_id = ?1 AND report IS NOT NULL")
            .bind(&[id.into()])?
            .all()
            .await?
            .results()?;
        let mut rows: Vec<RowReport> = Vec::new();
        for r in reports.iter().filter_map(|r| r.report.as_deref()) {
            rows.extend(from_json::<Vec<RowReport>>(r)?.into_iter().filter(|row| row.line > after));
        }
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
    http::json(status, &body)
}

/// `GET /v1/imports/{id}?after=&limit=`: the job's progress and summary, and a page of its
/// per-row report (rows of finished chunks with `line > after`, at most `limit`, default 1000).
pub async fn status(env: &Env, id: &str, query: &[(String, String)]) -> Result<Response> {
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
        return http::problem(&Problem::invalid(errors));
    }
    let db = env.d1(DB)?;
    answer(&db, id, 200, Some((after, limit))).await
}
