//! The study's Markdown tables and plots (docs/oversell.md holds one run's).

use std::fmt::Write;

use super::channel::{Channel, ALL, MARKETPLACES};
use super::study::{Results, ABLATION_BATCH_MIN};
use super::svg::{plot, Axis, Series};
use super::tally::{figures, Estimate, Figures, Tally};

fn est(e: Estimate) -> String {
    format!("{:.2} ± {:.2}", e.mean, e.ci95)
}

/// Oversold orders and orders over every run.
fn pooled(runs: &[Tally], c: Option<Channel>) -> (u64, u64) {
    runs.iter()
        .map(|t| match c {
            Some(c) => t.get(c),
            None => t.total(),
        })
        .fold((0, 0), |(o, n), k| (o + k.oversold_orders, n + k.orders))
}

fn of(runs: &[Tally], c: Option<Channel>) -> Figures {
    figures(runs, |t| match c {
        Some(c) => t.get(c),
        None => t.total(),
    })
}

/// Pooled oversold orders per 10,000 orders.
fn rate(p: (u64, u64)) -> f64 {
    p.0 as f64 * 10_000.0 / p.1.max(1) as f64
}

/// `batch ÷ stockedge` of pooled (oversold, orders); when StockEdge oversold none, at least
/// batch ÷ the rule of three's 95 % bound (3 / orders).
fn ratio(batch: (u64, u64), stockedge: (u64, u64)) -> String {
    if stockedge.0 > 0 {
        format!("{:.1}×", rate(batch) / rate(stockedge))
    } else if batch.0 > 0 {
        let bound = 30_000.0 / stockedge.1.max(1) as f64;
        format!("≥ {:.0}× (StockEdge < {bound:.3} per 10,000)", rate(batch) / bound)
    } else {
        "— (neither oversold)".to_string()
    }
}

/// The ablation table: what was removed → StockEdge's oversells on the channels that apply
/// within seconds → batch every 5 minutes (as modelled, and with the same removed where run) ÷
/// StockEdge.
fn ablation_table(s: &mut String, r: &Results) {
    let label = format!("batch {ABLATION_BATCH_MIN} min");
    let Some((_, modelled)) = r.strategies.iter().find(|(l, _)| *l == label) else { return };
    let _ = writeln!(
        s,
        "\nWhat bounds the window on the channels that apply within seconds. Each row takes one cause out of the \
         model and runs StockEdge on the same {} seeds (pooled oversold / orders, and per 10,000); it is compared \
         with batch every {ABLATION_BATCH_MIN} minutes as modelled (the table above, {} seeds: the target's \
         yardstick) and, where the removal changes the world batch sync sells in too, with batch every \
         {ABLATION_BATCH_MIN} minutes with the same removed ({} seeds):\n",
        r.ablation_seeds, r.seeds, r.seeds
    );
    let _ = writeln!(
        s,
        "| removed | shopify: StockEdge | batch {ABLATION_BATCH_MIN} min ÷ StockEdge (as modelled; same removed) | \
         woocommerce: StockEdge | batch {ABLATION_BATCH_MIN} min ÷ StockEdge (as modelled; same removed) | all \
         marketplaces: StockEdge per 10,000 |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for a in &r.ablations {
        let mut cells = Vec::new();
        for c in [Channel::Shopify, Channel::WooCommerce] {
            let se = pooled(&a.stockedge, Some(c));
            cells.push(format!("{} / {} ({:.3})", se.0, se.1, rate(se)));
            let same = a.batch.as_ref().map_or("—".to_string(), |b| ratio(pooled(b, Some(c)), se));
            cells.push(format!("{}; {same}", ratio(pooled(modelled, Some(c)), se)));
        }
        let all =
            MARKETPLACES.iter().map(|c| pooled(&a.stockedge, Some(*c))).fold((0, 0), |x, y| (x.0 + y.0, x.1 + y.1));
        let _ = writeln!(s, "| {} | {} | {:.2} |", a.removed, cells.join(" | "), rate(all));
    }
}

/// The tables: strategies, the buffer sweep, the advised buffers.
pub fn markdown(r: &Results) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} seeds × {} SKUs × {} days; mean ± 95 % confidence half-width over seeds; no buffers unless stated.\n",
        r.seeds, r.market_skus, r.market_days
    );
    let _ = writeln!(s, "Oversold orders per 10,000 orders, per channel that sold them, and in all:\n");
    let head: Vec<&str> = ALL.iter().map(|c| c.name()).collect();
    let _ = writeln!(s, "| strategy | {} | all | units oversold / run | lost units / run |", head.join(" | "));
    let _ = writeln!(s, "|---|{}---|---|---|", "---|".repeat(ALL.len()));
    for (label, runs) in &r.strategies {
        let cells: Vec<String> = ALL.iter().map(|c| est(of(runs, Some(*c)).per_10k)).collect();
        let all = of(runs, None);
        let _ = writeln!(
            s,
            "| {label} | {} | {} | {} | {} |",
            cells.join(" | "),
            est(all.per_10k),
            est(all.oversold_units),
            est(all.lost_units)
        );
    }
    if let (Some((_, se)), Some((_, b5))) =
        (r.strategies.first(), r.strategies.iter().find(|(l, _)| l == "batch 5 min"))
    {
        let _ = writeln!(
            s,
            "\nPooled over every seed: oversold orders / orders, and batch every 5 minutes ÷ StockEdge. When \
             StockEdge oversold none, its rate is bounded above by the rule of three (95 %: 3 / orders) and the \
             ratio is at least batch ÷ that bound.\n"
        );
        let _ = writeln!(s, "| channel | StockEdge | batch 5 min | batch 5 min ÷ StockEdge |");
        let _ = writeln!(s, "|---|---|---|---|");
        let cs: Vec<Option<Channel>> = MARKETPLACES.iter().map(|c| Some(*c)).chain([None]).collect();
        for c in cs {
            let (a, b) = (pooled(b5, c), pooled(se, c));
            let ratio = ratio(a, b);
            let name = c.map(|c| c.name()).unwrap_or("all");
            let _ = writeln!(s, "| {name} | {} / {} | {} / {} | {ratio} |", b.0, b.1, a.0, a.1);
        }
    }
    ablation_table(&mut s, r);
    let _ = writeln!(s, "\nStockEdge with the same buffer on every marketplace listing (oversold per 10,000; withheld = units held back over all listings):\n");
    let _ = writeln!(
        s,
        "| buffer | {} | all | withheld units | lost units / run |",
        MARKETPLACES.map(|c| c.name()).join(" | ")
    );
    let _ = writeln!(s, "|---|{}---|---|---|", "---|".repeat(MARKETPLACES.len()));
    for (b, runs) in &r.sweep {
        let cells: Vec<String> = MARKETPLACES.iter().map(|c| est(of(runs, Some(*c)).per_10k)).collect();
        let all = of(runs, None);
        let withheld = runs.first().map(|t| t.withheld_units).unwrap_or(0);
        let _ = writeln!(
            s,
            "| {b} | {} | {} | {withheld} | {} |",
            cells.join(" | "),
            est(all.per_10k),
            est(all.lost_units)
        );
    }
    let _ = writeln!(
        s,
        "\nStockEdge with the advisor's buffer per listing (targets: an oversell on a listing on at most one day in \
         1,000, and at most 1 oversold order per 10,000 of its orders; compound Poisson over the observed order \
         sizes). Withheld: units the channel's {} listings hold back, per run:\n",
        r.market_skus
    );
    let _ = writeln!(
        s,
        "| channel | advised buffer (mean / max over listings, seed 1) | withheld units / run | oversold per 10,000 | \
         pooled oversold / orders | units oversold / run | lost units / run |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for (c, (name, mean, max)) in MARKETPLACES.iter().zip(&r.advised_buffers) {
        let f = of(&r.advised, Some(*c));
        let (o, n) = pooled(&r.advised, Some(*c));
        let _ = writeln!(
            s,
            "| {name} | {mean:.2} / {max} | {} | {} | {o} / {n} | {} | {} |",
            est(f.withheld_units),
            est(f.per_10k),
            est(f.oversold_units),
            est(f.lost_units)
        );
    }
    let all = of(&r.advised, None);
    let (o, n) = pooled(&r.advised, None);
    let _ = writeln!(
        s,
        "| all | | {} | {} | {o} / {n} | {} | {} |",
        est(all.withheld_units),
        est(all.per_10k),
        est(all.oversold_units),
        est(all.lost_units)
    );
    s
}

/// Oversold per 10,000 against the sync interval (log), per marketplace, StockEdge's point at
/// the left edge.
pub fn interval_plot(r: &Results) -> String {
    let batches: Vec<(f64, &Vec<Tally>)> = r
        .strategies
        .iter()
        .filter_map(|(l, runs)| l.strip_prefix("batch ")?.strip_suffix(" min")?.parse::<f64>().ok().map(|m| (m, runs)))
        .collect();
    let se = r.strategies.first().map(|(_, t)| t.as_slice()).unwrap_or(&[]);
    let floor = 0.01;
    let mut series: Vec<Series> = MARKETPLACES
        .iter()
        .map(|c| Series {
            name: c.name().to_string(),
            points: batches.iter().map(|(m, runs)| (*m, of(runs, Some(*c)).per_10k.mean.max(floor))).collect(),
        })
        .collect();
    for c in MARKETPLACES {
        series.push(Series {
            name: format!("StockEdge: {}", c.name()),
            points: vec![(0.01, of(se, Some(c)).per_10k.mean.max(floor))],
        });
    }
    let ymax = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(1.0, f64::max) * 1.5;
    plot(
        "Oversold orders per 10,000 vs sync interval (StockEdge at left edge)",
        Axis { label: "sync interval, minutes (log)", min: 0.01, max: 60.0, log: true },
        Axis { label: "oversold per 10,000 orders (log; 0 shown at 0.01)", min: floor, max: ymax, log: true },
        &series,
    )
}

/// Oversold per 10,000 against the buffer on every listing, per marketplace (StockEdge).
pub fn buffer_plot(r: &Results) -> String {
    let floor = 0.01;
    let series: Vec<Series> = MARKETPLACES
        .iter()
        .map(|c| Series {
            name: c.name().to_string(),
            points: r.sweep.iter().map(|(b, runs)| (*b as f64, of(runs, Some(*c)).per_10k.mean.max(floor))).collect(),
        })
        .collect();
    let ymax = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(1.0, f64::max) * 1.5;
    let xmax = r.sweep.last().map(|(b, _)| *b as f64).unwrap_or(1.0).max(1.0);
    plot(
        "StockEdge: oversold orders per 10,000 vs buffer per listing",
        Axis { label: "buffer (units held back on every listing)", min: 0.0, max: xmax, log: false },
        Axis { label: "oversold per 10,000 orders (log; 0 shown at 0.01)", min: floor, max: ymax, log: true },
        &series,
    )
}
