//! Large imports as jobs: which files are too big to apply within their request, and how their
//! rows are cut into chunks that can each be planned and applied on their own.
//!
//! A file becomes a job when it has more than [`MAX_SYNC_IMPORT_ROWS`] rows or touches more than
//! [`MAX_SYNC_IMPORT_SKUS`] SKUs. Its rows are split by SKU: every row of a SKU lands in the same
//! chunk (the plan's per-(SKU, location) diff, duplicate and supersede rules only ever look at
//! rows of one SKU, so planning chunk by chunk gives the report planning the whole file would),
//! and a chunk holds at most [`JOB_CHUNK_SKUS`] SKUs and about [`JOB_CHUNK_ROWS`] rows. Rows
//! without a SKU (skipped, unreadable) form chunk 0, reported without touching any ledger.
//! A job's summary is the sum of its chunks' summaries ([`add`]).

use std::collections::BTreeMap;

use super::limits::{
    JOB_CHUNK_ROWS, JOB_CHUNK_SKUS, JOB_STALL_MS, MAX_CHUNK_ATTEMPTS, MAX_SYNC_IMPORT_ROWS, MAX_SYNC_IMPORT_SKUS,
};
use super::mode::Mode;
use super::plan::{plan_rows, Plan, Status, Summary};
use super::row::RowOutcome;
use crate::stock::Sku;
use crate::time::Millis;

fn sku_of(o: &RowOutcome) -> Option<&Sku> {
    match o {
        RowOutcome::Stock { sku, .. } => Some(sku),
        _ => None,
    }
}

/// How many distinct SKUs the rows touch.
pub fn distinct_skus(outcomes: &[RowOutcome]) -> usize {
    let mut skus: Vec<&Sku> = outcomes.iter().filter_map(sku_of).collect();
    skus.sort_unstable();
    skus.dedup();
    skus.len()
}

/// Whether the rows are too many, or touch too many SKUs, to be applied within one request.
pub fn needs_job(outcomes: &[RowOutcome]) -> bool {
    outcomes.len() > MAX_SYNC_IMPORT_ROWS || distinct_skus(outcomes) > MAX_SYNC_IMPORT_SKUS
}

/// Whether a chunk begun `attempts` times is given up on ([`give_up`]) rather than applied.
pub fn exhausted(attempts: i64) -> bool {
    attempts >= MAX_CHUNK_ATTEMPTS
}

/// An unfinished job last moved (a chunk begun or finished, or its chunks sent again) before
/// this instant, seen at `now`, is stalled: its unfinished chunks are sent again. A chunk that
/// finishes first makes its extra message a no-op, and every ledger call of a job replays its
/// first answer, so sending a chunk twice never applies it twice.
pub fn stalled_before(now: Millis) -> Millis {
    Millis(now.0.saturating_sub(JOB_STALL_MS))
}

/// The message of a row of a chunk given up on that no ledger applied.
pub fn given_up() -> String {
    format!("the chunk could not be applied after {MAX_CHUNK_ATTEMPTS} attempts; import these rows again")
}

/// The report of a chunk given up on before it was planned (so before any ledger call): its rows that would have applied (or left a level
/// unchanged) are errors, so that the job ends and says which rows to import again.
pub fn give_up(outcomes: Vec<RowOutcome>, mode: Mode) -> Plan {
    let mut plan = plan_rows(outcomes, mode, |_, _| None);
    for r in plan.rows.iter_mut().filter(|r| r.status == Status::Applied || r.status == Status::Unchanged) {
        r.status = Status::Error;
        r.message = Some(given_up());
        r.after = None;
    }
    plan.summary.applied = 0;
    plan.summary.unchanged = 0;
    plan.summary.changes = 0;
    plan.summary.errors = plan.rows.iter().filter(|r| r.status == Status::Error).count();
    plan
}

/// The chunks of a job: chunk 0 holds the rows without a SKU (possibly none), the others the
/// rows of at most [`JOB_CHUNK_SKUS`] SKUs each, SKUs in file order of first appearance, rows
/// in file order within each chunk.
pub fn chunks(outcomes: Vec<RowOutcome>) -> Vec<Vec<RowOutcome>> {
    let mut no_sku = Vec::new();
    let mut order: Vec<Sku> = Vec::new();
    let mut by_sku: BTreeMap<Sku, Vec<RowOutcome>> = BTreeMap::new();
    for o in outcomes {
        match sku_of(&o).cloned() {
            Some(sku) => {
                let rows = by_sku.entry(sku.clone()).or_default();
                if rows.is_empty() {
                    order.push(sku);
                }
                rows.push(o);
            }
            None => no_sku.push(o),
        }
    }
    let mut out = vec![no_sku];
    let mut current: Vec<RowOutcome> = Vec::new();
    let mut skus_in_current = 0;
    for sku in order {
        let rows = by_sku.remove(&sku).unwrap_or_default();
        if skus_in_current > 0 && (skus_in_current == JOB_CHUNK_SKUS || current.len() + rows.len() > JOB_CHUNK_ROWS) {
            out.push(std::mem::take(&mut current));
            skus_in_current = 0;
        }
        current.extend(rows);
        skus_in_current += 1;
    }
    if !current.is_empty() {
        out.push(current);
    }
    for chunk in &mut out {
        chunk.sort_by_key(RowOutcome::line);
    }
    out
}

/// `a + b`, count by count.
pub fn add(a: Summary, b: &Summary) -> Summary {
    Summary {
        rows: a.rows + b.rows,
        applied: a.applied + b.applied,
        unchanged: a.unchanged + b.unchanged,
        skipped: a.skipped + b.skipped,
        superseded: a.superseded + b.superseded,
        errors: a.errors + b.errors,
        changes: a.changes + b.changes,
        batches: a.batches + b.batches,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{plan_rows, Mode};
    use crate::stock::Location;

    fn stock(line: u64, sku: &str, loc: &str, qty: i64) -> RowOutcome {
        RowOutcome::Stock {
            line,
            sku: Sku::parse(sku).expect("sku"),
            location: Location::parse(loc).expect("loc"),
            quantity: Some(qty),
            backorder: None,
            tracked: true,
        }
    }

    #[test]
    fn a_chunk_given_up_on_reports_its_stock_rows_as_errors_and_keeps_the_rest() {
        assert!(!exhausted(MAX_CHUNK_ATTEMPTS - 1) && exhausted(MAX_CHUNK_ATTEMPTS));
        let rows = vec![
            stock(2, "A", "main", 5),
            RowOutcome::Skipped { line: 3, reason: "image row".into() },
            stock(4, "B", "main", 1),
        ];
        let plan = give_up(rows, Mode::Set);
        let statuses: Vec<Status> = plan.rows.iter().map(|r| r.status).collect();
        assert_eq!(statuses, vec![Status::Error, Status::Skipped, Status::Error]);
        assert!(plan.rows[0].message.as_deref().is_some_and(|m| m.contains("import these rows again")));
        assert_eq!(plan.rows[0].after, None);
        assert_eq!((plan.summary.applied, plan.summary.unchanged, plan.summary.changes), (0, 0, 0));
        assert_eq!((plan.summary.errors, plan.summary.skipped), (2, 1));
        assert_eq!(distinct_skus(&[stock(2, "A", "main", 1), stock(3, "A", "x", 1), stock(4, "B", "main", 1)]), 2);
    }

    #[test]
    fn a_job_is_stalled_only_once_nothing_moved_for_the_stall_bound() {
        assert_eq!(stalled_before(Millis(100_000)), Millis(100_000 - JOB_STALL_MS));
        assert_eq!(stalled_before(Millis(0)).0, -JOB_STALL_MS, "no overflow near the epoch");
    }

    #[test]
    fn small_files_are_applied_in_their_request() {
        let rows: Vec<RowOutcome> =
            (0..MAX_SYNC_IMPORT_SKUS as u64).map(|i| stock(i + 2, &format!("S{i}"), "main", 1)).collect();
        assert!(!needs_job(&rows));
        let mut more = rows.clone();
        more.push(stock(99_999, "ONE-MORE", "main", 1));
        assert!(needs_job(&more), "one SKU over the limit");
        let same_sku: Vec<RowOutcome> =
            (0..=MAX_SYNC_IMPORT_ROWS as u64).map(|i| stock(i + 2, "A", "main", 1)).collect();
        assert!(needs_job(&same_sku), "one row over the limit");
    }

    #[test]
    fn a_skus_rows_stay_together_and_chunks_respect_their_bounds() {
        let mut rows = vec![RowOutcome::Skipped { line: 2, reason: "image row".into() }];
        let mut line = 3;
        for i in 0..600 {
            for loc in ["main", "east"] {
                rows.push(stock(line, &format!("S{i}"), loc, 1));
                line += 1;
            }
        }
        // A later row of the first SKU, far down the file.
        rows.push(stock(line, "S0", "west", 5));
        let chunks = chunks(rows.clone());
        assert_eq!(chunks[0].len(), 1, "rows without a SKU form chunk 0");
        assert_eq!(chunks.iter().map(Vec::len).sum::<usize>(), rows.len(), "every row once");
        let mut seen = std::collections::BTreeSet::new();
        for c in &chunks[1..] {
            let skus: std::collections::BTreeSet<&Sku> = c.iter().filter_map(sku_of).collect();
            assert!(skus.len() <= JOB_CHUNK_SKUS && c.len() <= JOB_CHUNK_ROWS);
            for s in skus {
                assert!(seen.insert(s.clone()), "{s} in two chunks");
            }
            assert!(c.windows(2).all(|w| w[0].line() < w[1].line()), "file order within a chunk");
        }
        assert_eq!(chunks[1].iter().filter(|o| sku_of(o).is_some_and(|s| s.as_str() == "S0")).count(), 3);
    }

    #[test]
    fn planning_chunk_by_chunk_reports_what_planning_the_file_would() {
        let mut rows = Vec::new();
        for i in 0..700u64 {
            rows.push(stock(2 * i + 2, &format!("S{}", i % 300), "main", i as i64));
            rows.push(RowOutcome::Error {
                line: 2 * i + 3,
                column: Some("Stock".into()),
                message: "not a number".into(),
            });
        }
        let current = |_: &Sku, _: &Location| Some(3);
        let whole = plan_rows(rows.clone(), Mode::Set, current);
        let mut summary = Summary::default();
        let mut reports = Vec::new();
        for c in chunks(rows) {
            let p = plan_rows(c, Mode::Set, current);
            summary = add(summary, &p.summary);
            reports.extend(p.rows);
        }
        reports.sort_by_key(|r| r.line);
        assert_eq!(summary, whole.summary);
        assert_eq!(reports, whole.rows);
    }
}
