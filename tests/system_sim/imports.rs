//! Imports as jobs (`import::jobs`): an `adjust` file (the mode a repeat would double) cut into
//! chunks, one message per chunk on the `import-jobs` queue (redelivered, duplicated), each chunk
//! read against the ledgers' current levels, planned (`import::plan_rows`) and applied under the
//! job's Idempotency-Key in every ledger, then recorded in D1 (a write that may fail, so the chunk
//! runs again and the ledgers replay their first answers), as `edge::import_jobs` does.

use std::collections::BTreeMap;

use stockedge::api::idempotency::Keyed;
use stockedge::api::sku_call::{SkuAction, SkuAnswer};
use stockedge::import::format::Basis;
use stockedge::import::{apply, jobs, plan_rows, Mode, RowOutcome};
use stockedge::stock::{Location, Sku};

use crate::queue::{Ack, Queue};
use crate::world::{loc, sku, World, LOCS, SKUS};

/// `edge::limits::IMPORT_RETRY_DELAY_S`.
pub const RETRY_DELAY_S: u32 = 15;

#[derive(Clone, Debug)]
pub struct Chunk {
    pub outcomes: Vec<RowOutcome>,
    pub attempts: i64,
    /// The units each SKU's batch reported applied, once the chunk finished.
    pub applied: Option<BTreeMap<(Sku, Location), i64>>,
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
        let chunks: Vec<Chunk> = jobs::chunks(outcomes)
            .into_iter()
            .map(|outcomes| Chunk { outcomes, attempts: 0, applied: None, given_up: false })
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
        im.jobs[n].chunks[0].applied = Some(BTreeMap::new());
        for c in 1..count {
            im.queue.send((n, c), now);
        }
        self.stats.borrow_mut().imports += 1;
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

    fn apply_chunk(&self, job: usize, n: usize) -> bool {
        let (chunk, id, fp) = {
            let im = self.imports.borrow();
            let j = &im.jobs[job];
            (j.chunks[n].clone(), j.id.clone(), j.fingerprint.clone())
        };
        if chunk.applied.is_some() {
            return true;
        }
        self.imports.borrow_mut().jobs[job].chunks[n].attempts += 1;
        if jobs::exhausted(chunk.attempts) {
            self.log(|| format!("import {id} chunk {n} given up"));
            let c = &mut self.imports.borrow_mut().jobs[job].chunks[n];
            c.applied = Some(BTreeMap::new());
            c.given_up = true;
            return true;
        }
        // The levels now, for the per-row plan.
        let mut levels: BTreeMap<(Sku, Location), i64> = BTreeMap::new();
        let skus: Vec<Sku> = chunk
            .outcomes
            .iter()
            .filter_map(|o| match o {
                RowOutcome::Stock { sku, .. } => Some(sku.clone()),
                _ => None,
            })
            .collect();
        for s in &skus {
            match self.sku_call(s, SkuAction::Get, None) {
                None => return false,
                Some(Keyed::Answered(Ok(SkuAnswer::State(v)))) => {
                    for l in v.locations {
                        levels.insert((s.clone(), loc(&l.location)), l.on_hand);
                    }
                }
                Some(_) => {}
            }
        }
        let mut plan =
            plan_rows(chunk.outcomes.clone(), Mode::Adjust, |s, l| levels.get(&(s.clone(), l.clone())).copied());
        let key = (format!("import:{id}"), fp);
        let mut refused = BTreeMap::new();
        let mut unreachable = false;
        for b in &plan.batches {
            let commands = apply::commands(b, Basis::OnHand, Mode::Adjust, &id);
            if commands.is_empty() {
                continue;
            }
            match self.sku_call(&b.sku, SkuAction::Apply { commands }, Some(key.clone())) {
                None => unreachable = true,
                Some(Keyed::Answered(Ok(_)) | Keyed::Replayed(Ok(_))) => {}
                Some(Keyed::Answered(Err(e)) | Keyed::Replayed(Err(e))) => {
                    refused.insert(b.sku.clone(), e.to_string());
                }
                Some(Keyed::KeyReused) => {
                    refused.insert(b.sku.clone(), "key reused".into());
                }
            }
        }
        if unreachable {
            return false;
        }
        plan.refuse(&refused);
        if self.chance(self.f().import_fail) {
            self.log(|| format!("import {id} chunk {n}: D1 write failed after applying"));
            return false;
        }
        let mut applied = BTreeMap::new();
        for b in plan.batches.iter().filter(|b| !refused.contains_key(&b.sku)) {
            for c in &b.changes {
                *applied.entry((b.sku.clone(), c.location.clone())).or_insert(0) += c.delta;
            }
        }
        self.log(|| format!("import {id} chunk {n} applied {applied:?}"));
        self.imports.borrow_mut().jobs[job].chunks[n].applied = Some(applied);
        true
    }
}
