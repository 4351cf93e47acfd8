//! Imports as jobs (`import::jobs`): an `adjust` file (the mode a repeat would double) cut into
//! chunks, one message per chunk on the `import-jobs` queue (redelivered, duplicated), each chunk
//! run as `edge::import_jobs` runs it (`import::attempt`): planned once against the ledgers'
//! current levels (`import::plan_rows`), the plan kept in D1 before any ledger call, the kept
//! plan applied under the job's Idempotency-Key in every ledger, then the report recorded in D1.
//! Either D1 write may fail, so the chunk runs again: the ledgers replay their first answers and
//! the report is the kept plan with them. A chunk begun too often is given up: the ledgers are
//! asked for their kept answers (`Recall`).

use std::collections::BTreeMap;

use stockedge::api::idempotency::Keyed;
use stockedge::api::sku_call::{SkuAction, SkuAnswer};
use stockedge::import::attempt::{self, Attempt, BatchAnswer};
use stockedge::import::format::Basis;
use stockedge::import::{apply, jobs, plan_rows, Mode, Plan, RowOutcome, RowReport};
use stockedge::stock::{Location, Sku};

use crate::queue::{Ack, Queue};
use crate::world::{loc, sku, World, LOCS, SKUS};

/// `edge::limits::IMPORT_RETRY_DELAY_S`.
pub const RETRY_DELAY_S: u32 = 15;

#[derive(Clone, Debug)]
pub struct Chunk {
    pub outcomes: Vec<RowOutcome>,
    pub attempts: i64,
    /// The plan its first attempt kept (D1 `import_job_chunks.plan`).
    pub kept: Option<Plan>,
    /// Its per-row report, once the chunk finished.
    pub report: Option<Vec<RowReport>>,
    pub given_up: bool,
}

#[derive(Clone, Debug)]
pub struct Job {
    pub id: String,
    pub fingerprint: String,
    pub chunks: Vec<Chunk>,
}

pub struct Imports {
    pub jobs: Vec<Job>,
    pub queue: Queue<(usize, usize)>,
}

impl Default for Imports {
    fn default() -> Imports {
        Imports { jobs: Vec::new(), queue: Queue::new(10, 1) }
    }
}

impl World {
    /// A merchant posts a file of adjustments large enough to be a job.
    pub fn import_submit(&self) {
        let outcomes = self.random_file();
        self.import_file(outcomes);
    }

    fn random_file(&self) -> Vec<RowOutcome> {
        let mut outcomes = Vec::new();
        for (i, s) in SKUS.iter().enumerate() {
            if self.chance(300) {
                continue;
            }
            let l = LOCS[self.below(LOCS.len() as u64) as usize];
            outcomes.push(RowOutcome::Stock {
                line: 2 + i as u64,
                sku: sku(s),
                location: loc(l),
                quantity: Some(self.range(-2, 6)),
                backorder: None,
                tracked: true,
            });
        }
        outcomes
    }

    /// A merchant posts `outcomes` (an `adjust` file) as a job; answers its number.
    pub fn import_file(&self, outcomes: Vec<RowOutcome>) -> usize {
        let chunks: Vec<Chunk> = jobs::chunks(outcomes)
            .into_iter()
            .map(|outcomes| Chunk { outcomes, attempts: 0, kept: None, report: None, given_up: false })
            .collect();
        let now = self.now();
        let mut im = self.imports.borrow_mut();
        let n = im.jobs.len();
        let id = format!("imp-{n}");
        self.log(|| {
            format!("import {id} submitted: {:?}", chunks.iter().map(|c| c.outcomes.len()).collect::<Vec<_>>())
        });
        let count = chunks.len();
        im.jobs.push(Job { fingerprint: format!("fp-{n}"), id, chunks });
        // Chunk 0 (rows without a SKU) is reported at submission.
        let first = im.jobs[n].chunks[0].outcomes.clone();
        im.jobs[n].chunks[0].report = Some(plan_rows(first, Mode::Adjust, |_, _| None).rows);
        for c in 1..count {
            im.queue.send((n, c), now);
        }
        self.stats.borrow_mut().imports += 1;
        n
    }

    /// One delivery of the `import-jobs` queue.
    pub fn deliver_import(&self) {
        let now = self.now();
        let dup = self.f().duplicate;
        let batch = self.imports.borrow_mut().queue.take(now, &mut self.rng.borrow_mut(), dup);
        for m in batch {
            let ack = if self.apply_chunk(m.body.0, m.body.1) { Ack::Ack } else { Ack::Retry(RETRY_DELAY_S) };
            self.imports.borrow_mut().queue.settle(m, ack, now);
        }
    }

    /// Whether the import consumer's next D1 write fails (forced, else by chance).
    fn import_write_fails(&self) -> bool {
        let forced = self.forced.borrow_mut().import_writes.pop_front();
        forced.unwrap_or_else(|| self.chance(self.f().import_fail))
    }

    /// One delivery of chunk `n` of job `job`, as `edge::import_jobs::apply_chunk`; answers
    /// whether the message is acknowledged.
    fn apply_chunk(&self, job: usize, n: usize) -> bool {
        let (chunk, id, fp) = {
            let im = self.imports.borrow();
            let j = &im.jobs[job];
            (j.chunks[n].clone(), j.id.clone(), j.fingerprint.clone())
        };
        if chunk.report.is_some() {
            return true;
        }
        self.imports.borrow_mut().jobs[job].chunks[n].attempts += 1;
        let key = (format!("import:{id}"), fp);
        let plan = match attempt::attempt(chunk.attempts, chunk.kept) {
            Attempt::Plan => {
                let Some(plan) = self.plan_now(&chunk.outcomes) else { return false };
                if self.import_write_fails() {
                    self.log(|| format!("import {id} chunk {n}: D1 write of the plan failed"));
                    return false;
                }
                self.imports.borrow_mut().jobs[job].chunks[n].kept = Some(plan.clone());
                let Some(plan) = self.send_batches(plan, &id, &key, false) else { return false };
                plan
            }
            Attempt::Apply(plan) => {
                let Some(plan) = self.send_batches(plan, &id, &key, false) else { return false };
                plan
            }
            Attempt::GiveUp => {
                self.log(|| format!("import {id} chunk {n} given up before it was planned"));
                self.imports.borrow_mut().jobs[job].chunks[n].given_up = true;
                jobs::give_up(chunk.outcomes, Mode::Adjust)
            }
            Attempt::Recall(plan) => {
                self.log(|| format!("import {id} chunk {n} given up: recalling its ledgers' answers"));
                self.imports.borrow_mut().jobs[job].chunks[n].given_up = true;
                let Some(plan) = self.send_batches(plan, &id, &key, true) else { return false };
                plan
            }
        };
        if self.import_write_fails() {
            self.log(|| format!("import {id} chunk {n}: D1 write of the report failed after applying"));
            return false;
        }
        self.log(|| {
            let statuses: Vec<_> = plan.rows.iter().map(|r| (r.line, r.status)).collect();
            format!("import {id} chunk {n} reported {statuses:?}")
        });
        self.imports.borrow_mut().jobs[job].chunks[n].report = Some(plan.rows);
        true
    }

    /// `imports::plan_now`: the chunk planned against the ledgers' levels now (`None`: a read
    /// went unanswered).
    fn plan_now(&self, outcomes: &[RowOutcome]) -> Option<Plan> {
        let mut levels: BTreeMap<(Sku, Location), i64> = BTreeMap::new();
        let skus: Vec<Sku> = outcomes
            .iter()
            .filter_map(|o| match o {
                RowOutcome::Stock { sku, .. } => Some(sku.clone()),
                _ => None,
            })
            .collect();
        for s in &skus {
            if let Keyed::Answered(Ok(SkuAnswer::State(v))) = self.sku_call(s, SkuAction::Get, None)? {
                for l in v.locations {
                    levels.insert((s.clone(), loc(&l.location)), l.on_hand);
                }
            }
        }
        Some(plan_rows(outcomes.to_vec(), Mode::Adjust, |s, l| levels.get(&(s.clone(), l.clone())).copied()))
    }

    /// `imports::apply_plan` (or, `recall`, `imports::recall_plan`): each batch's call under the
    /// job's key, and the plan's report from the answers (`None`: a call went unanswered).
    fn send_batches(&self, plan: Plan, id: &str, key: &(String, String), recall: bool) -> Option<Plan> {
        let mut answers = BTreeMap::new();
        let mut unanswered = false;
        for b in &plan.batches {
            let commands = apply::commands(b, Basis::OnHand, Mode::Adjust, id);
            if commands.is_empty() {
                continue;
            }
            let action = if recall { SkuAction::Recall } else { SkuAction::Apply { commands } };
            match self.sku_call(&b.sku, action, Some(key.clone())) {
                None => unanswered = true,
                Some(reply) => {
                    answers.insert(b.sku.clone(), BatchAnswer::of(reply));
                }
            }
        }
        (!unanswered).then(|| attempt::report(plan, &answers))
    }
}
