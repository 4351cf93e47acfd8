//! The plots, as hand-written SVG: lines of points over a linear or logarithmic axis.

use std::fmt::Write;

/// An axis.
#[derive(Clone, Copy, Debug)]
pub struct Axis {
    pub label: &'static str,
    pub min: f64,
    pub max: f64,
    pub log: bool,
}

impl Axis {
    /// Where `v` falls, from 0 to 1 (clamped to the axis).
    fn at(&self, v: f64) -> f64 {
        let v = v.clamp(self.min, self.max);
        if self.log {
            (v.ln() - self.min.ln()) / (self.max.ln() - self.min.ln())
        } else {
            (v - self.min) / (self.max - self.min)
        }
    }

    /// The tick values: decades on a log axis, else five steps.
    fn ticks(&self) -> Vec<f64> {
        if self.log {
            let mut t = Vec::new();
            let mut v = 10f64.powf(self.min.log10().floor());
            while v <= self.max * 1.0001 {
                for m in [1.0, 2.0, 5.0] {
                    let x = v * m;
                    if x >= self.min * 0.9999 && x <= self.max * 1.0001 {
                        t.push(x);
                    }
                }
                v *= 10.0;
            }
            t
        } else {
            (0..=5).map(|i| self.min + (self.max - self.min) * i as f64 / 5.0).collect()
        }
    }
}

/// A named line of points (drawn with markers), or a single marked point when it has one.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

const COLOURS: [&str; 7] = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#000000"];
const W: f64 = 720.0;
const H: f64 = 440.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 190.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;

fn fmt_tick(v: f64) -> String {
    if v >= 1.0 || v == 0.0 {
        format!("{}", (v * 100.0).round() / 100.0)
    } else {
        format!("{v}")
    }
}

/// The plot as an SVG document.
pub fn plot(title: &str, x: Axis, y: Axis, series: &[Series]) -> String {
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let px = |v: f64| LEFT + x.at(v) * pw;
    let py = |v: f64| TOP + (1.0 - y.at(v)) * ph;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">
<rect width="{W}" height="{H}" fill="white"/>
<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>
<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>
"##,
        LEFT + pw / 2.0,
        escape(title)
    );
    for t in x.ticks() {
        let _ = writeln!(
            s,
            r##"<line x1="{0:.1}" y1="{TOP}" x2="{0:.1}" y2="{1}" stroke="#ddd"/><text x="{0:.1}" y="{2}" text-anchor="middle">{3}</text>"##,
            px(t),
            TOP + ph,
            TOP + ph + 16.0,
            fmt_tick(t)
        );
    }
    for t in y.ticks() {
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{0:.1}" x2="{1}" y2="{0:.1}" stroke="#ddd"/><text x="{2}" y="{3:.1}" text-anchor="end">{4}</text>"##,
            py(t),
            LEFT + pw,
            LEFT - 6.0,
            py(t) + 4.0,
            fmt_tick(t)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text><text transform="translate(18,{}) rotate(-90)" text-anchor="middle">{}</text>"#,
        LEFT + pw / 2.0,
        H - 14.0,
        escape(x.label),
        TOP + ph / 2.0,
        escape(y.label)
    );
    for (i, line) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let pts: Vec<String> = line.points.iter().map(|(a, b)| format!("{:.1},{:.1}", px(*a), py(*b))).collect();
        if pts.len() > 1 {
            let _ =
                writeln!(s, r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#, pts.join(" "));
        }
        for (a, b) in &line.points {
            let _ = writeln!(s, r#"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{colour}"/>"#, px(*a), py(*b));
        }
        let ly = TOP + 14.0 + 18.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{}" y="{}" width="12" height="12" fill="{colour}"/><text x="{}" y="{}">{}</text>"#,
            LEFT + pw + 12.0,
            ly - 10.0,
            LEFT + pw + 30.0,
            ly,
            escape(&line.name)
        );
    }
    s.push_str("</svg>\n");
    s
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plot_draws_each_series_and_its_legend() {
        let x = Axis { label: "minutes", min: 0.1, max: 100.0, log: true };
        let y = Axis { label: "per 10,000", min: 0.0, max: 10.0, log: false };
        let s = plot("t <1>", x, y, &[Series { name: "a".into(), points: vec![(1.0, 1.0), (10.0, 5.0)] }]);
        assert!(s.starts_with("<svg") && s.ends_with("</svg>\n"));
        assert_eq!(s.matches("<polyline").count(), 1);
        assert_eq!(s.matches("<circle").count(), 2);
        assert!(s.contains("t &lt;1&gt;"));
        assert!(x.ticks().contains(&1.0) && x.ticks().contains(&10.0));
    }
}
