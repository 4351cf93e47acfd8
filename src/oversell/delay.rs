//! Delay distributions in milliseconds, sampled by inverse transform from a uniform number so the
//! pure code never holds a generator: the measured propagation (commit → platform received, from
//! `bench/propagation.mjs`) and the documented ranges of what the platforms do themselves.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// A delay distribution.
#[derive(Clone, Debug, PartialEq)]
pub enum Delay {
    /// Uniform between `lo_ms` and `hi_ms` (documented ranges, docs/oversell.md).
    Uniform { lo_ms: u64, hi_ms: u64 },
    /// The empirical distribution of measured samples (sorted ascending, at least one).
    Measured(Vec<u64>),
}

impl Delay {
    /// No delay at all (the storefront, holding through StockEdge).
    pub const NONE: Delay = Delay::uniform(0, 0);

    /// Uniform between `lo_ms` and `hi_ms` (a documented range).
    pub const fn uniform(lo_ms: u64, hi_ms: u64) -> Delay {
        Delay::Uniform { lo_ms, hi_ms }
    }

    /// The delay at uniform `u` in `[0, 1)`: its inverse distribution function.
    pub fn at(&self, u: f64) -> u64 {
        let u = u.clamp(0.0, 1.0);
        match self {
            Delay::Uniform { lo_ms, hi_ms } => lo_ms + ((hi_ms.saturating_sub(*lo_ms)) as f64 * u) as u64,
            Delay::Measured(samples) => {
                let i = ((samples.len() as f64 * u) as usize).min(samples.len().saturating_sub(1));
                samples.get(i).copied().unwrap_or(0)
            }
        }
    }

    /// The `p`-quantile (`p` in `[0, 1]`): the smallest delay with at least `p` of the mass at
    /// or below it (nearest rank for measured samples).
    pub fn quantile(&self, p: f64) -> u64 {
        match self {
            Delay::Uniform { .. } => self.at(p),
            Delay::Measured(samples) => {
                let rank = (p.clamp(0.0, 1.0) * samples.len() as f64).ceil() as usize;
                samples.get(rank.saturating_sub(1)).copied().unwrap_or(0)
            }
        }
    }
}

/// The summary of one channel's measured propagation, as `docs/oversell/propagation.json` holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub n: usize,
    pub p50_ms: u64,
    pub p90_ms: u64,
    pub p99_ms: u64,
    pub max_ms: u64,
}

/// One channel's measurements: the summary and every sample (commit → simulator received, ms).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelPropagation {
    #[serde(flatten)]
    pub summary: Summary,
    pub samples_ms: Vec<u64>,
}

/// `docs/oversell/propagation.json`: what `bench/propagation.mjs` measured, per channel kind
/// (`shopify`, `woocommerce`, `amazon`, `ebay`, `wholesale`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Propagation {
    /// When it was measured (RFC 3339) and on what, as the bench wrote it.
    pub measured_at: String,
    pub note: String,
    pub channels: BTreeMap<String, ChannelPropagation>,
}

/// The measured file, as the repository holds it (the model's input and the advisor's).
pub const MEASURED: &str = include_str!("../../docs/oversell/propagation.json");

/// [`MEASURED`], parsed once per process (an isolate, on the Worker); the parse error as text if
/// the committed file does not parse (a unit test keeps it parsing).
pub fn measured() -> Result<&'static Propagation, &'static str> {
    static PARSED: LazyLock<Result<Propagation, String>> =
        LazyLock::new(|| Propagation::parse(MEASURED).map_err(|e| e.to_string()));
    PARSED.as_ref().map_err(String::as_str)
}

impl Propagation {
    /// Parses the bench's file.
    pub fn parse(text: &str) -> Result<Propagation, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The measured distribution for channel kind `kind`; `None` when it was not measured or
    /// holds no sample.
    pub fn of(&self, kind: &str) -> Option<Delay> {
        let c = self.channels.get(kind)?;
        let mut s = c.samples_ms.clone();
        if s.is_empty() {
            return None;
        }
        s.sort_unstable();
        Some(Delay::Measured(s))
    }
}

/// The summary of `samples` (sorted or not), as the bench computes it.
pub fn summarize(samples: &[u64]) -> Summary {
    let mut s = samples.to_vec();
    s.sort_unstable();
    let d = Delay::Measured(s.clone());
    Summary {
        n: s.len(),
        p50_ms: d.quantile(0.5),
        p90_ms: d.quantile(0.9),
        p99_ms: d.quantile(0.99),
        max_ms: s.last().copied().unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measured_quantiles_are_nearest_rank() {
        let d = Delay::Measured((1..=100).collect());
        assert_eq!(d.quantile(0.5), 50);
        assert_eq!(d.quantile(0.99), 99);
        assert_eq!(d.quantile(1.0), 100);
        assert_eq!(d.at(0.0), 1);
        assert_eq!(d.at(0.999), 100);
    }

    #[test]
    fn uniform_spans_its_range() {
        let d = Delay::Uniform { lo_ms: 1_000, hi_ms: 3_000 };
        assert_eq!(d.at(0.0), 1_000);
        assert_eq!(d.at(0.5), 2_000);
        assert_eq!(d.quantile(0.99), 2_980);
    }

    #[test]
    fn the_committed_measurements_parse_and_cover_every_marketplace() {
        let p = measured().expect("docs/oversell/propagation.json parses");
        for kind in ["shopify", "woocommerce", "amazon", "ebay", "wholesale"] {
            let d = p.of(kind).unwrap_or_else(|| panic!("{kind} measured"));
            assert!(d.quantile(0.5) <= d.quantile(0.99), "{kind}");
        }
    }

    #[test]
    fn the_committed_summaries_are_those_of_their_samples() {
        for (kind, c) in &measured().expect("parses").channels {
            assert_eq!(summarize(&c.samples_ms), c.summary, "{kind}");
        }
        assert_eq!(summarize(&[30, 10, 20]), Summary { n: 3, p50_ms: 20, p90_ms: 30, p99_ms: 30, max_ms: 30 });
    }
}
