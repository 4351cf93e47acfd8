//! Checks recorded histories for linearizability against the SKU ledger (`stockedge::history`):
//!
//! ```sh
//! cargo run --bin check-history -- target/linearizability/history-*.json
//! ```
//!
//! Each file is a `HistoryFile` (`src/history/record.rs`), as `tests/e2e/lib/history.mjs` writes
//! it. Prints one line per history (calls, calls never answered, model steps) and a total; exits 1
//! when a history is not linearizable (with the longest order found and the call that could not
//! follow it), or the search gave up, and 2 when a file cannot be read. Option: `--budget N`
//! (model steps per history, default 20,000,000).

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(cli::run(std::env::args().skip(1).collect()));
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use stockedge::history::ledger_model::explain;
    use stockedge::history::{check_history, HistoryFile, Verdict};

    const DEFAULT_BUDGET: u64 = 20_000_000;

    pub fn run(args: Vec<String>) -> i32 {
        let mut budget = DEFAULT_BUDGET;
        let mut files = Vec::new();
        let mut args = args.into_iter();
        while let Some(a) = args.next() {
            if a == "--budget" {
                match args.next().and_then(|n| n.parse().ok()) {
                    Some(n) => budget = n,
                    None => return usage("--budget takes a number of model steps"),
                }
            } else {
                files.push(a);
            }
        }
        if files.is_empty() {
            return usage("no history file given");
        }
        let (mut histories, mut calls, mut pending, mut failed) = (0usize, 0usize, 0usize, 0usize);
        for file in &files {
            let parsed = std::fs::read_to_string(file)
                .map_err(|e| e.to_string())
                .and_then(|text| serde_json::from_str::<HistoryFile>(&text).map_err(|e| e.to_string()));
            let f = match parsed {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("check-history: {file}: {e}");
                    return 2;
                }
            };
            for h in &f.histories {
                histories += 1;
                calls += h.ops.len();
                let unanswered = h.ops.len() - h.completed();
                pending += unanswered;
                match check_history(h, budget) {
                    Ok(Verdict::Linearizable { explored, .. }) => println!(
                        "linearizable      {file} {}: {} calls ({unanswered} never answered), {explored} model steps",
                        h.sku,
                        h.ops.len()
                    ),
                    Ok(v) => {
                        failed += 1;
                        println!("NOT LINEARIZABLE  {file} {}: {}", h.sku, explain(h, &v));
                    }
                    Err(e) => {
                        failed += 1;
                        println!("UNCHECKABLE       {file} {}: {e}", h.sku);
                    }
                }
            }
        }
        println!(
            "{histories} histories, {calls} calls ({pending} never answered): {} linearizable, {failed} not",
            histories - failed
        );
        i32::from(failed > 0)
    }

    fn usage(why: &str) -> i32 {
        eprintln!("check-history: {why}\nusage: check-history [--budget STEPS] FILE.json...");
        2
    }
}
