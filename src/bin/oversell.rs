//! The oversell model's command (docs/oversell.md):
//!
//! ```sh
//! cargo run --release --bin oversell -- --seeds 200 --out docs/oversell --doc docs/oversell.md
//! ```
//!
//! Runs the study (`stockedge::oversell::study`) on seeds `1..=N` with the propagation measured
//! in `docs/oversell/propagation.json`, writes `results.md` and the two plots into `--out`, and,
//! with `--doc`, replaces the section between `<!-- oversell:start -->` and
//! `<!-- oversell:end -->` of that file with the tables.
//! Options: `--seeds N` (200), `--ablation-seeds N` (1000: the ablations run StockEdge on this
//! many seeds, at least `--seeds`), `--skus N` (50), `--days N` (14), `--out DIR` (docs/oversell),
//! `--doc FILE` (none).

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    if let Err(e) = cli::run(std::env::args().skip(1).collect()) {
        eprintln!("oversell: {e}");
        std::process::exit(2);
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::fs;
    use std::path::PathBuf;

    use stockedge::oversell::delay::{Propagation, MEASURED};
    use stockedge::oversell::report;
    use stockedge::oversell::scenario::Market;
    use stockedge::oversell::study::Study;

    const START: &str = "<!-- oversell:start -->";
    const END: &str = "<!-- oversell:end -->";

    fn number(v: Option<&String>, name: &str) -> Result<u64, String> {
        v.ok_or(format!("{name} needs a value"))?.parse::<u64>().map_err(|_| format!("{name}: not a whole number"))
    }

    pub fn run(args: Vec<String>) -> Result<(), String> {
        let (mut seeds, mut skus, mut days, mut ablation_seeds) = (200u64, 50u64, 14u64, 1_000u64);
        let mut out = PathBuf::from("docs/oversell");
        let mut doc: Option<PathBuf> = None;
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--seeds" => seeds = number(it.next(), a)?,
                "--ablation-seeds" => ablation_seeds = number(it.next(), a)?,
                "--skus" => skus = number(it.next(), a)?,
                "--days" => days = number(it.next(), a)?,
                "--out" => out = PathBuf::from(it.next().ok_or("--out needs a directory")?),
                "--doc" => doc = Some(PathBuf::from(it.next().ok_or("--doc needs a file")?)),
                other => return Err(format!("unknown option {other}")),
            }
        }
        if seeds == 0 || skus == 0 || days == 0 {
            return Err("--seeds, --skus and --days must be at least 1".into());
        }
        let measured = Propagation::parse(MEASURED).map_err(|e| format!("propagation.json: {e}"))?;
        let market = Market { skus: skus as usize, days: u32::try_from(days).map_err(|_| "--days too large")? };
        let results = Study { first_seed: 1, seeds, market, measured, ablation_seeds }.run();
        let tables = report::markdown(&results);
        fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        let write = |name: &str, text: &str| {
            let p = out.join(name);
            fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))
        };
        write("results.md", &tables)?;
        write("oversell-vs-interval.svg", &report::interval_plot(&results))?;
        write("oversell-vs-buffer.svg", &report::buffer_plot(&results))?;
        if let Some(doc) = doc {
            let md = fs::read_to_string(&doc).map_err(|e| format!("{}: {e}", doc.display()))?;
            let block = format!("{START}\n{tables}{END}");
            let next = match (md.find(START), md.find(END)) {
                (Some(a), Some(b)) if b > a => format!("{}{block}{}", &md[..a], &md[b + END.len()..]),
                _ => format!("{md}\n{block}\n"),
            };
            fs::write(&doc, next).map_err(|e| format!("{}: {e}", doc.display()))?;
        }
        print!("{tables}");
        Ok(())
    }
}
