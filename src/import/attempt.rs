//! One attempt at an import job's chunk ([`jobs`](super::jobs)): what it does, given the plan the
//! job keeps for the chunk, and the chunk's report from its ledgers' answers.
//!
//! A chunk is planned once. Its first attempt reads the ledgers, plans, and keeps the plan with
//! the chunk *before* any ledger call; every later attempt sends the kept plan's calls again
//! under the job's Idempotency-Key, so a ledger that applied its batch replays its first answer
//! and one that did not applies it now. The report is the kept plan marked with each batch's
//! answer ([`report`]): every row is reported as its first application answered, however often
//! the chunk runs. (Planning again would read levels the first attempt already moved: an
//! `adjust` row that took a level to 0 would be an error the second time, and a merchant
//! importing the "failed" row again would apply it twice.)
//!
//! A chunk begun [`MAX_CHUNK_ATTEMPTS`](super::limits::MAX_CHUNK_ATTEMPTS) times is given up so
//! that its job ends. Without a kept plan no ledger was called: [`jobs::give_up`] reports its
//! rows to apply as errors. With one, each batch's ledger is asked only for the answer it kept
//! to the job's key ([`BatchAnswer::of`] a `SkuAction::Recall`): the rows of batches a ledger
//! applied are reported applied, and only those of batches no ledger applied are errors to
//! import again.

use std::collections::BTreeMap;

use super::jobs;
use super::plan::{Plan, Status};
use crate::api::sku_call::{SkuAnswer, SkuReplyKeyed};
use crate::stock::Sku;

/// What an attempt at a chunk does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// No plan kept: read the levels, plan, keep the plan, then send its calls.
    Plan,
    /// The kept plan: send its calls (again).
    Apply(Plan),
    /// Given up before any plan was kept (so before any ledger call): `jobs::give_up`.
    GiveUp,
    /// Given up with a plan kept: ask each batch's ledger for its kept answer (`Recall`) and
    /// [`report`] them.
    Recall(Plan),
}

/// The attempt at a chunk begun `attempts` times before this one, with the plan kept for it.
pub fn attempt(attempts: i64, kept: Option<Plan>) -> Attempt {
    match (jobs::exhausted(attempts), kept) {
        (false, None) => Attempt::Plan,
        (false, Some(plan)) => Attempt::Apply(plan),
        (true, None) => Attempt::GiveUp,
        (true, Some(plan)) => Attempt::Recall(plan),
    }
}

/// What a batch's ledger answered (or, recalled, had answered) to the job's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchAnswer {
    /// The batch applied (now, or the first time: a replay).
    Applied,
    /// The ledger refused it (why); nothing of it applied.
    Refused(String),
    /// The ledger keeps no answer to the key: the batch never reached it.
    NotApplied,
}

/// The message of a row whose key was used with a different request.
const KEY_REUSED: &str = "this Idempotency-Key was used with a different request";

impl BatchAnswer {
    /// The answer of a ledger's reply to an `Apply` or a `Recall` under the job's key.
    pub fn of(reply: SkuReplyKeyed) -> BatchAnswer {
        match reply.reply() {
            Some(Ok(SkuAnswer::NotKept)) => BatchAnswer::NotApplied,
            Some(Ok(_)) => BatchAnswer::Applied,
            Some(Err(refused)) => BatchAnswer::Refused(refused.to_string()),
            None => BatchAnswer::Refused(KEY_REUSED.to_owned()),
        }
    }
}

/// The plan's report once its batches answered (`answers`, by SKU; a SKU without an answer sent
/// no call, or has nothing to apply): the applied rows of a refused batch are errors with the
/// refusal, those of a batch never applied errors to import again; the counts follow.
pub fn report(mut plan: Plan, answers: &BTreeMap<Sku, BatchAnswer>) -> Plan {
    let answer = |sku: &Option<Sku>| sku.as_ref().and_then(|s| answers.get(s));
    for row in plan.rows.iter_mut().filter(|r| r.status == Status::Applied) {
        let message = match answer(&row.sku) {
            None | Some(BatchAnswer::Applied) => continue,
            Some(BatchAnswer::Refused(why)) => why.clone(),
            Some(BatchAnswer::NotApplied) => {
                row.after = None;
                jobs::given_up()
            }
        };
        row.status = Status::Error;
        row.message = Some(message);
    }
    let lost: usize = plan
        .batches
        .iter()
        .filter(|b| !matches!(answers.get(&b.sku), None | Some(BatchAnswer::Applied)))
        .map(|b| b.changes.len())
        .sum();
    let count = |s: Status| plan.rows.iter().filter(|r| r.status == s).count();
    plan.summary.applied = count(Status::Applied);
    plan.summary.errors = count(Status::Error);
    plan.summary.changes = plan.summary.changes.saturating_sub(lost);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::idempotency::Keyed;
    use crate::api::sku_call::SkuRefusal;
    use crate::import::limits::MAX_CHUNK_ATTEMPTS;
    use crate::import::{plan_rows, Mode, RowOutcome};
    use crate::stock::{LedgerError, Location};

    fn sku(s: &str) -> Sku {
        Sku::parse(s).expect("sku")
    }

    fn stock(line: u64, s: &str, qty: i64) -> RowOutcome {
        RowOutcome::Stock {
            line,
            sku: sku(s),
            location: Location::main(),
            quantity: Some(qty),
            backorder: None,
            tracked: true,
        }
    }

    fn statuses(plan: &Plan) -> Vec<Status> {
        plan.rows.iter().map(|r| r.status).collect()
    }

    /// A chunk of three SKUs at level 2: A −2 (to 0), B +1, C −2 (to 0).
    fn planned() -> Plan {
        plan_rows(vec![stock(2, "A", -2), stock(3, "B", 1), stock(4, "C", -2)], Mode::Adjust, |_, _| Some(2))
    }

    #[test]
    fn a_chunk_is_planned_once_and_its_kept_plan_is_applied_on_every_later_attempt() {
        let plan = planned();
        assert_eq!(attempt(0, None), Attempt::Plan);
        assert_eq!(attempt(1, Some(plan.clone())), Attempt::Apply(plan.clone()), "a re-run does not plan again");
        assert_eq!(attempt(MAX_CHUNK_ATTEMPTS - 1, Some(plan.clone())), Attempt::Apply(plan.clone()));
        assert_eq!(attempt(MAX_CHUNK_ATTEMPTS, None), Attempt::GiveUp);
        assert_eq!(attempt(MAX_CHUNK_ATTEMPTS, Some(plan.clone())), Attempt::Recall(plan));
    }

    #[test]
    fn a_re_run_reports_every_row_as_its_first_application_answered() {
        // The first attempt applied A and B and lost C's call; the re-run's replays and C's
        // application answer as the first time.
        let plan = planned();
        let answers = BTreeMap::from([
            (sku("A"), BatchAnswer::Applied),
            (sku("B"), BatchAnswer::Applied),
            (sku("C"), BatchAnswer::Applied),
        ]);
        let report = report(plan.clone(), &answers);
        assert_eq!(report, plan, "the kept plan, unchanged");
        assert_eq!(statuses(&report), vec![Status::Applied; 3]);
        assert_eq!((report.rows[0].before, report.rows[0].after), (Some(2), Some(0)), "A as first applied");
        // Planning the chunk again against the levels its first attempt moved (the bug) calls A
        // and C errors, though both applied.
        let again = plan_rows(vec![stock(2, "A", -2), stock(3, "B", 1), stock(4, "C", -2)], Mode::Adjust, |s, _| {
            Some(if s.as_str() == "B" { 3 } else { 0 })
        });
        assert_eq!(statuses(&again), vec![Status::Error, Status::Applied, Status::Error]);
    }

    #[test]
    fn refused_and_never_applied_batches_make_their_applied_rows_errors() {
        let answers = BTreeMap::from([
            (sku("A"), BatchAnswer::Refused("A: below zero".into())),
            (sku("B"), BatchAnswer::Applied),
            (sku("C"), BatchAnswer::NotApplied),
        ]);
        let r = report(planned(), &answers);
        assert_eq!(statuses(&r), vec![Status::Error, Status::Applied, Status::Error]);
        assert_eq!(r.rows[0].message.as_deref(), Some("A: below zero"));
        assert!(r.rows[2].message.as_deref().is_some_and(|m| m.contains("import these rows again")));
        assert_eq!((r.rows[0].after, r.rows[2].after), (Some(0), None), "only a row never applied loses its after");
        assert_eq!((r.summary.applied, r.summary.errors, r.summary.changes), (1, 2, 1));
        assert_eq!(r.summary.rows, 3);
    }

    #[test]
    fn a_refused_batch_turns_only_its_applied_rows_into_errors() {
        let plan = plan_rows(vec![stock(2, "A", 5), stock(3, "B", 4), stock(4, "B", 4)], Mode::Set, |_, _| None);
        assert_eq!(statuses(&plan), vec![Status::Applied, Status::Skipped, Status::Applied], "B's first is superseded");
        let r = report(plan, &BTreeMap::from([(sku("B"), BatchAnswer::Refused("over the limit".into()))]));
        assert_eq!(statuses(&r), vec![Status::Applied, Status::Skipped, Status::Error]);
        assert_eq!(r.rows[2].message.as_deref(), Some("over the limit"));
        assert_eq!((r.summary.applied, r.summary.errors, r.summary.skipped), (1, 1, 1));
    }

    #[test]
    fn ledger_replies_become_batch_answers() {
        let state = || SkuAnswer::State(crate::api::views::SkuView::of(&sku("A"), &crate::stock::Ledger::new()));
        assert_eq!(BatchAnswer::of(Keyed::Answered(Ok(state()))), BatchAnswer::Applied);
        assert_eq!(BatchAnswer::of(Keyed::Replayed(Ok(state()))), BatchAnswer::Applied, "a replay applied once");
        assert_eq!(BatchAnswer::of(Keyed::Answered(Ok(SkuAnswer::NotKept))), BatchAnswer::NotApplied);
        let refusal = SkuRefusal::Ledger { sku: sku("A"), error: LedgerError::HoldNotFound };
        let why = refusal.to_string();
        assert_eq!(BatchAnswer::of(Keyed::Replayed(Err(refusal))), BatchAnswer::Refused(why));
        assert_eq!(BatchAnswer::of(Keyed::KeyReused), BatchAnswer::Refused(KEY_REUSED.into()));
    }
}
