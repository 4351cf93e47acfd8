//! From rows to a per-row report and per-SKU batches: the dry run and the work list.
//!
//! [`plan`] reads every outcome (at most [`MAX_SYNC_IMPORT_ROWS`]), asks `current(sku, location)`
//! once per distinct pair, and decides for each row:
//!
//! | status | when |
//! |---|---|
//! | `applied` | the row changes the level (in a dry run: would change it); `before` → `after` |
//! | `unchanged` | `set` to the level it already has, or `adjust` by 0 |
//! | `skipped` | the reader skipped it (reason kept), the SKU is not tracked, or — `set` only — a later row for the same SKU and location supersedes it (`superseded_by` = that line) |
//! | `error` | the reader refused it, or applying it would leave on-hand outside 0..=[`MAX_ON_HAND`] |
//!
//! Duplicates of one (SKU, location): in `set` mode the last row that can be applied wins and the
//! earlier ones are reported superseded; in `adjust` mode they add up in file order, each row
//! reporting the running level before and after it, and a row that would take the running level
//! below zero is an error (the rows around it still count).
//!
//! `current` returns the level the file's quantities are about (on hand, or available when the
//! reader's [`Basis`](super::Basis) is `Available`); `None` means StockEdge has no level for that
//! SKU there yet (computed as 0, reported as `before: null`; `set` to 0 still creates it).
//!
//! Batches: the net changes grouped by SKU, in order of first appearance, at most
//! [`MAX_BATCH_CHANGES`] locations per batch, so the edge sends one Durable Object call per batch.
//! Each change carries `before` (for a compare-and-set check), `after` and `delta`
//! (`after − before`, what to apply for an `Available` basis). A SKU whose rows state a
//! backorder policy gets a batch even when no quantity changes (`changes` empty) — the plan does
//! not know the current policy and the ledger ignores a policy equal to its own. In `adjust`
//! mode rows that cancel out (+3 then −3) leave no change in any batch.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

use crate::stock::limits::MAX_ON_HAND;
use crate::stock::{Location, Sku};

use super::error::ImportError;
use super::limits::{MAX_BATCH_CHANGES, MAX_SYNC_IMPORT_ROWS};
use super::mode::Mode;
use super::policy::BackorderPolicy;
use super::row::RowOutcome;

/// What happens to one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Applied,
    Unchanged,
    Skipped,
    Error,
}

/// The report line of one data row (serialises as the per-row report of `POST /v1/imports`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowReport {
    pub line: u64,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<Sku>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The file's number: the target (`set`) or the change (`adjust`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
    /// Level before this row (`None`: no level yet, or not computed for this status).
    pub before: Option<i64>,
    /// Level after this row, for `applied` and `unchanged`.
    pub after: Option<i64>,
    /// Header name of the cell at fault, for errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Skip reason or error message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// For a `set` row replaced by a later one: that row's line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<u64>,
}

/// The net change of one (SKU, location).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub location: Location,
    /// `current(sku, location)` as read by the plan.
    pub before: Option<i64>,
    pub after: i64,
    /// `after − before` (before `None` counts as 0).
    pub delta: i64,
    /// The rows that produced it.
    pub lines: Vec<u64>,
}

/// The work of one Durable Object call: changes of one SKU.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub sku: Sku,
    pub changes: Vec<Change>,
    /// The last backorder policy the file states for the SKU (first batch of the SKU only).
    pub backorder: Option<BackorderPolicy>,
}

/// Counts per status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub rows: usize,
    pub applied: usize,
    pub unchanged: usize,
    pub skipped: usize,
    /// Of `skipped`: rows superseded by a later row (`set`).
    pub superseded: usize,
    pub errors: usize,
    /// Distinct (SKU, location) pairs changed.
    pub changes: usize,
    pub batches: usize,
}

/// The outcome of planning an import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub mode: Mode,
    pub summary: Summary,
    pub rows: Vec<RowReport>,
    pub batches: Vec<Batch>,
}

type Key = (Sku, Location);

/// Per (SKU, location) state while planning.
struct Pair {
    before: Option<i64>,
    running: i64,
    lines: Vec<u64>,
}

/// Plans an import: see the module documentation.
///
/// Stops with [`ImportError::TooManyRows`] as soon as a row beyond [`MAX_SYNC_IMPORT_ROWS`]
/// arrives (without reading the rest), and with the reader's error if it fails.
pub fn plan<I, F>(rows: I, mode: Mode, current: F) -> Result<Plan, ImportError>
where
    I: IntoIterator<Item = Result<RowOutcome, ImportError>>,
    F: FnMut(&Sku, &Location) -> Option<i64>,
{
    let mut outcomes = Vec::new();
    for row in rows {
        let row = row?;
        if outcomes.len() == MAX_SYNC_IMPORT_ROWS {
            return Err(ImportError::TooManyRows { max: MAX_SYNC_IMPORT_ROWS });
        }
        outcomes.push(row);
    }
    Ok(plan_rows(outcomes, mode, current))
}

fn report(line: u64, status: Status) -> RowReport {
    RowReport {
        line,
        status,
        sku: None,
        location: None,
        quantity: None,
        before: None,
        after: None,
        column: None,
        message: None,
        superseded_by: None,
    }
}

/// Why a level cannot be reached, if it cannot.
fn out_of_range(after: i64) -> Option<String> {
    if after < 0 {
        Some(format!("on-hand would become {after}, below zero"))
    } else if after > MAX_ON_HAND {
        Some(format!("on-hand would become {after}, above {MAX_ON_HAND}"))
    } else {
        None
    }
}

/// Plans rows already read (no row limit).
pub fn plan_rows<F>(outcomes: Vec<RowOutcome>, mode: Mode, mut current: F) -> Plan
where
    F: FnMut(&Sku, &Location) -> Option<i64>,
{
    // Set mode: the last row of each pair that can be applied wins.
    let mut last: HashMap<Key, u64> = HashMap::new();
    if mode == Mode::Set {
        for o in &outcomes {
            if let RowOutcome::Stock { line, sku, location, quantity: Some(q), .. } = o {
                if out_of_range(*q).is_none() {
                    last.insert((sku.clone(), location.clone()), *line);
                }
            }
        }
    }

    let mut pairs: HashMap<Key, Pair> = HashMap::new();
    let mut pair_order: Vec<Key> = Vec::new();
    let mut policies: HashMap<Sku, BackorderPolicy> = HashMap::new();
    let mut skus = SkuOrder::default();
    let mut rows = Vec::with_capacity(outcomes.len());

    for o in outcomes {
        match o {
            RowOutcome::Skipped { line, reason } => {
                rows.push(RowReport { message: Some(reason), ..report(line, Status::Skipped) });
            }
            RowOutcome::Error { line, column, message } => {
                rows.push(RowReport { column, message: Some(message), ..report(line, Status::Error) });
            }
            RowOutcome::Stock { line, sku, location, quantity, backorder, tracked: _ } => {
                let base = RowReport {
                    sku: Some(sku.clone()),
                    location: Some(location.clone()),
                    quantity,
                    ..report(line, Status::Skipped)
                };
                let Some(q) = quantity else {
                    rows.push(RowReport { message: Some(format!("{sku}: not tracked by the channel")), ..base });
                    if let Some(p) = backorder {
                        policies.insert(sku.clone(), p);
                        skus.note(&sku);
                    }
                    continue;
                };
                let key = (sku.clone(), location.clone());
                if mode == Mode::Set {
                    if let Some(msg) = out_of_range(q) {
                        rows.push(RowReport { status: Status::Error, message: Some(msg), ..base });
                        continue;
                    }
                    if let Some(&winner) = last.get(&key) {
                        if winner != line {
                            rows.push(RowReport {
                                message: Some(format!("superseded by line {winner}")),
                                superseded_by: Some(winner),
                                ..base
                            });
                            continue;
                        }
                    }
                }
                if let Some(p) = backorder {
                    policies.insert(sku.clone(), p);
                    skus.note(&sku);
                }
                if !pairs.contains_key(&key) {
                    let before = current(&sku, &location);
                    pairs.insert(key.clone(), Pair { before, running: before.unwrap_or(0), lines: Vec::new() });
                    pair_order.push(key.clone());
                }
                let Some(pair) = pairs.get_mut(&key) else { continue };
                let before_row = if pair.lines.is_empty() { pair.before } else { Some(pair.running) };
                let after = match mode {
                    Mode::Set => q,
                    Mode::Adjust => pair.running.saturating_add(q),
                };
                if let Some(msg) = out_of_range(after) {
                    rows.push(RowReport { status: Status::Error, before: before_row, message: Some(msg), ..base });
                    continue;
                }
                let unchanged = match mode {
                    Mode::Set => pair.before == Some(q),
                    Mode::Adjust => q == 0,
                };
                if unchanged {
                    rows.push(RowReport { status: Status::Unchanged, before: before_row, after: Some(after), ..base });
                    continue;
                }
                pair.running = after;
                pair.lines.push(line);
                skus.note(&sku);
                rows.push(RowReport { status: Status::Applied, before: before_row, after: Some(after), ..base });
            }
        }
    }

    // Net changes per SKU, in order of first appearance.
    let mut changes_by_sku: HashMap<Sku, Vec<Change>> = HashMap::new();
    let mut change_count = 0;
    for key in pair_order {
        let Some(pair) = pairs.remove(&key) else { continue };
        let delta = pair.running - pair.before.unwrap_or(0);
        let created = pair.before.is_none() && mode == Mode::Set;
        if pair.lines.is_empty() || (delta == 0 && !created) {
            continue;
        }
        let (sku, location) = key;
        changes_by_sku.entry(sku).or_default().push(Change {
            location,
            before: pair.before,
            after: pair.running,
            delta,
            lines: pair.lines,
        });
        change_count += 1;
    }
    let mut batches = Vec::new();
    for sku in skus.order {
        let changes = changes_by_sku.remove(&sku).unwrap_or_default();
        let mut backorder = policies.get(&sku).copied();
        if changes.is_empty() {
            if backorder.is_some() {
                batches.push(Batch { sku, changes, backorder });
            }
            continue;
        }
        let mut changes = changes.into_iter().peekable();
        while changes.peek().is_some() {
            let chunk: Vec<Change> = changes.by_ref().take(MAX_BATCH_CHANGES).collect();
            batches.push(Batch { sku: sku.clone(), changes: chunk, backorder: backorder.take() });
        }
    }

    let count = |s: Status| rows.iter().filter(|r| r.status == s).count();
    let summary = Summary {
        rows: rows.len(),
        applied: count(Status::Applied),
        unchanged: count(Status::Unchanged),
        skipped: count(Status::Skipped),
        superseded: rows.iter().filter(|r| r.superseded_by.is_some()).count(),
        errors: count(Status::Error),
        changes: change_count,
        batches: batches.len(),
    };
    Plan { mode, summary, rows, batches }
}

/// SKUs in order of first appearance.
#[derive(Default)]
struct SkuOrder {
    seen: HashSet<Sku>,
    order: Vec<Sku>,
}

impl SkuOrder {
    fn note(&mut self, sku: &Sku) {
        if self.seen.insert(sku.clone()) {
            self.order.push(sku.clone());
        }
    }
}
