//! Checks recorded histories for linearizability against the SKU ledger (`stockedge::history`):
//!
//! ```sh
//! cargo run --bin check-history -- target/linearizability/<file>.json
//! ```
//!
//! Each file is a `HistoryFile` (`src/history/record.rs`), as `tests/e2e/lib/history.mjs` writes
//! it. Prints one line per history (calls, calls never answered, model steps) and a total; exits 1
//! when a history is not linearizable (with the longest order found and the call that could not
//! follow it), or the search gave up, and 2 when a file cannot be read. Option: `--budget N`
//! (model steps per history, default [`DEFAULT_BUDGET`](stockedge::history::report::DEFAULT_BUDGET)).
//! The end-to-end test runs the same check through `cargo test` (`tests/linearizability.rs`), whose
//! build `cargo test` has already made.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(cli::run(std::env::args().skip(1).collect()));
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use stockedge::history::check_paths;
    use stockedge::history::report::DEFAULT_BUDGET;

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
        match check_paths(&files, budget) {
            Ok(summary) => {
                for line in &summary.lines {
                    println!("{line}");
                }
                println!("{}", summary.total());
                i32::from(summary.failed > 0)
            }
            Err(e) => {
                eprintln!("check-history: {e}");
                2
            }
        }
    }

    fn usage(why: &str) -> i32 {
        eprintln!("check-history: {why}\nusage: check-history [--budget STEPS] FILE.json...");
        2
    }
}
