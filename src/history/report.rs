//! Checking recorded history files and summing up: one line per history and a total, as
//! `check-history` prints them and `tests/linearizability.rs` asserts them.

use super::ledger_model::{check_history, explain};
use super::record::HistoryFile;
use super::search::Verdict;

/// Model steps per history before the search gives up (a recorded e2e history takes thousands).
pub const DEFAULT_BUDGET: u64 = 20_000_000;

/// What checking some files found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// One line per history: `linearizable …`, `NOT LINEARIZABLE …` (with the story), `GAVE UP …`
    /// (the search budget ran out) or `UNCHECKABLE …`.
    pub lines: Vec<String>,
    pub histories: usize,
    pub calls: usize,
    /// Calls whose outcome was never seen (pending forever).
    pub pending: usize,
    /// Histories not linearizable, given up on, or not checkable.
    pub failed: usize,
}

impl Summary {
    /// `N histories, M calls (P never answered): L linearizable, F not`.
    pub fn total(&self) -> String {
        format!(
            "{} histories, {} calls ({} never answered): {} linearizable, {} not",
            self.histories,
            self.calls,
            self.pending,
            self.histories - self.failed,
            self.failed
        )
    }
}

/// Checks every history of `file` (named `name` in the lines), `budget` model steps each.
pub fn check_file(name: &str, file: &HistoryFile, budget: u64, summary: &mut Summary) {
    for h in &file.histories {
        summary.histories += 1;
        summary.calls += h.ops.len();
        let unanswered = h.ops.len() - h.completed();
        summary.pending += unanswered;
        let line = match check_history(h, budget) {
            Ok(Verdict::Linearizable { explored, .. }) => format!(
                "linearizable      {name} {}: {} calls ({unanswered} never answered), {explored} model steps",
                h.sku,
                h.ops.len()
            ),
            Ok(Verdict::GaveUp { explored }) => {
                summary.failed += 1;
                format!("GAVE UP           {name} {}: no verdict within {explored} model steps (the budget)", h.sku)
            }
            Ok(v) => {
                summary.failed += 1;
                format!("NOT LINEARIZABLE  {name} {}: {}", h.sku, explain(h, &v))
            }
            Err(e) => {
                summary.failed += 1;
                format!("UNCHECKABLE       {name} {}: {e}", h.sku)
            }
        };
        summary.lines.push(line);
    }
}

/// Reads and checks the files at `paths`; `Err` names a file that cannot be read as a history file.
pub fn check_paths(paths: &[String], budget: u64) -> Result<Summary, String> {
    let mut summary = Summary::default();
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        let file: HistoryFile = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
        check_file(path, &file, budget, &mut summary);
    }
    Ok(summary)
}
