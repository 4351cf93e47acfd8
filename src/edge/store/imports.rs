//! Runs `db::imports`: import jobs, their chunks, reports and summaries.

use worker::D1Database;

pub use crate::db::imports::{Chunk, Job, JobRow};
use crate::db::imports::{ChunkNo, JobId};

use super::{batch_of, read, read_first, StoreResult};
use crate::db::imports::{self as sql, Finished};
use crate::db::Exists;
use crate::import::{Plan, RowOutcome, RowReport, Summary};
use crate::time::Millis;

/// Whether the job `id` exists.
pub async fn exists(db: &D1Database, id: &str) -> StoreResult<bool> {
    Ok(read_first::<Exists>(db, sql::exists(id)).await?.is_some())
}

/// Stores the job (`queued`) and its chunks in one batch; `rows` and `skus` are its totals. A
/// job that exists already is left as it is.
pub async fn submit(
    db: &D1Database,
    job: &Job,
    chunks: &[Vec<RowOutcome>],
    totals: (usize, usize),
    now: Millis,
) -> StoreResult<()> {
    batch_of(db, sql::submit(job, chunks, totals, now)?).await.map(drop)
}

/// Stores a chunk's report and summary (once), then the job's progress (`done` once every chunk
/// is).
pub async fn finish_chunk(
    db: &D1Database,
    job: &str,
    n: i64,
    rows: &[RowReport],
    summary: &Summary,
    now: Millis,
) -> StoreResult<()> {
    batch_of(db, sql::finish_chunk(job, n, rows, summary, now)?).await.map(drop)
}

/// The job `id`.
pub async fn job(db: &D1Database, id: &str) -> StoreResult<Option<JobRow>> {
    read_first(db, sql::job(id)).await
}

/// Chunk `n` of the job `job`.
pub async fn chunk(db: &D1Database, job: &str, n: i64) -> StoreResult<Option<Chunk>> {
    read_first(db, sql::chunk(job, n)).await?.map(sql::chunk_of).transpose()
}

/// Keeps chunk `n`'s plan (`import::attempt`), unless it has one.
pub async fn keep_plan(db: &D1Database, job: &str, n: i64, plan: &Plan) -> StoreResult<()> {
    batch_of(db, [sql::keep_plan(job, n, plan)?]).await.map(drop)
}

/// Counts an attempt at chunk `n` and marks the job `running`.
pub async fn begin_chunk(db: &D1Database, job: &str, n: i64, now: Millis) -> StoreResult<()> {
    batch_of(db, sql::begin_chunk(job, n, now)).await.map(drop)
}

/// The summaries of the job's finished chunks.
pub async fn summaries(db: &D1Database, job: &str) -> StoreResult<Vec<Summary>> {
    sql::summaries_of(read(db, sql::finished(job, Finished::Summary)).await?)
}

/// The report rows of the job's finished chunks with line numbers above `after`, unordered.
pub async fn report_rows(db: &D1Database, job: &str, after: u64) -> StoreResult<Vec<RowReport>> {
    sql::report_rows_of(read(db, sql::finished(job, Finished::Report)).await?, after)
}

/// At most `limit` unfinished jobs that have not moved since `before`, the longest still first.
pub async fn stalled(db: &D1Database, before: Millis, limit: usize) -> StoreResult<Vec<String>> {
    Ok(read::<JobId>(db, sql::stalled(before, limit)).await?.into_iter().map(|j| j.id).collect())
}

/// The numbers of the job's chunks that have no report yet.
pub async fn unfinished(db: &D1Database, job: &str) -> StoreResult<Vec<i64>> {
    Ok(read::<ChunkNo>(db, sql::unfinished(job)).await?.into_iter().map(|c| c.n).collect())
}

/// Records that the job's unfinished chunks were sent again at `now`.
pub async fn moved(db: &D1Database, job: &str, now: Millis) -> StoreResult<()> {
    batch_of(db, [sql::moved(job, now)]).await.map(drop)
}
