//! Bundles and kits: a SKU made of component SKUs in fixed quantities (no nesting).

use serde::{Deserialize, Serialize};

use crate::orders::Line;
use crate::stock::limits::{MAX_LINES, MAX_LINE_QTY};
use crate::stock::{Location, Sku};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    pub sku: Sku,
    pub qty: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    pub sku: Sku,
    pub components: Vec<Component>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("a bundle needs at least one component")]
    Empty,
    #[error("at most {MAX_LINES} components")]
    TooMany,
    #[error("component {0} needs a quantity between 1 and {MAX_LINE_QTY}")]
    Qty(String),
    #[error("component {0} is listed twice")]
    Duplicate(String),
    #[error("a bundle cannot contain itself")]
    SelfReference,
    #[error("{qty} bundles need more than {MAX_LINE_QTY} of {sku}")]
    TooLarge { sku: String, qty: i64 },
}

impl Bundle {
    pub fn validate(&self) -> Result<(), BundleError> {
        if self.components.is_empty() {
            return Err(BundleError::Empty);
        }
        if self.components.len() > MAX_LINES {
            return Err(BundleError::TooMany);
        }
        for (i, c) in self.components.iter().enumerate() {
            if !(1..=MAX_LINE_QTY).contains(&c.qty) {
                return Err(BundleError::Qty(c.sku.to_string()));
            }
            if c.sku == self.sku {
                return Err(BundleError::SelfReference);
            }
            if self.components[..i].iter().any(|d| d.sku == c.sku) {
                return Err(BundleError::Duplicate(c.sku.to_string()));
            }
        }
        Ok(())
    }

    /// How many bundles the components' availability allows: the minimum over components of
    /// ⌊available / required⌋. `available_of` answers each component's availability.
    pub fn available(&self, available_of: impl Fn(&Sku) -> i64) -> i64 {
        self.components.iter().map(|c| available_of(&c.sku).max(0) / c.qty).min().unwrap_or(0)
    }

    /// The component lines that reserving or selling `qty` bundles at `location` stands for.
    pub fn lines(&self, qty: i64, location: &Location) -> Result<Vec<Line>, BundleError> {
        self.components
            .iter()
            .map(|c| {
                let n = c.qty.checked_mul(qty).filter(|n| *n <= MAX_LINE_QTY);
                n.map(|n| Line { sku: c.sku.clone(), qty: n, location: location.clone(), line_id: None })
                    .ok_or_else(|| BundleError::TooLarge { sku: c.sku.to_string(), qty })
            })
            .collect()
    }
}

/// Replaces every line of a bundle SKU by its component lines (at the line's location), so
/// that reserving or selling a bundle reserves or sells its components all or nothing.
/// A sale line's id carries over as `<line id>/<component>`. Other lines pass unchanged.
pub fn expand(lines: Vec<Line>, bundles: &std::collections::BTreeMap<Sku, Bundle>) -> Result<Vec<Line>, BundleError> {
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let Some(b) = bundles.get(&line.sku) else {
            out.push(line);
            continue;
        };
        for mut c in b.lines(line.qty, &line.location)? {
            c.line_id =
                line.line_id.as_ref().and_then(|id| crate::stock::Token::parse(&format!("{id}/{}", c.sku)).ok());
            out.push(c);
        }
    }
    if out.len() > MAX_LINES {
        return Err(BundleError::TooMany);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).expect("sku")
    }

    fn kit() -> Bundle {
        Bundle {
            sku: sku("KIT"),
            components: vec![Component { sku: sku("A"), qty: 2 }, Component { sku: sku("B"), qty: 1 }],
        }
    }

    #[test]
    fn availability_is_the_scarcest_component() {
        let avail = |s: &Sku| if s.as_str() == "A" { 7 } else { 10 };
        assert_eq!(kit().available(avail), 3);
    }

    #[test]
    fn lines_scale_by_component_quantity() {
        let lines = kit().lines(3, &Location::main()).expect("lines");
        assert_eq!(lines.iter().map(|l| (l.sku.as_str(), l.qty)).collect::<Vec<_>>(), vec![("A", 6), ("B", 3)]);
    }

    #[test]
    fn expansion_replaces_bundle_lines_only() {
        let bundles = std::collections::BTreeMap::from([(sku("KIT"), kit())]);
        let lines = vec![
            Line {
                sku: sku("KIT"),
                qty: 2,
                location: Location::main(),
                line_id: Some(crate::stock::Token::parse("7").expect("id")),
            },
            Line { sku: sku("C"), qty: 1, location: Location::main(), line_id: None },
        ];
        let out = expand(lines, &bundles).expect("expand");
        let got: Vec<(&str, i64, Option<&str>)> =
            out.iter().map(|l| (l.sku.as_str(), l.qty, l.line_id.as_ref().map(|t| t.as_str()))).collect();
        assert_eq!(got, vec![("A", 4, Some("7/A")), ("B", 2, Some("7/B")), ("C", 1, None)]);
    }

    #[test]
    fn validation() {
        let mut b = kit();
        b.components.push(Component { sku: sku("A"), qty: 1 });
        assert_eq!(b.validate(), Err(BundleError::Duplicate("A".into())));
        let selfish = Bundle { sku: sku("A"), components: vec![Component { sku: sku("A"), qty: 1 }] };
        assert_eq!(selfish.validate(), Err(BundleError::SelfReference));
    }

    proptest! {
        #[test]
        fn reserving_the_reported_availability_always_fits(a in 0i64..500, b in 0i64..500, qa in 1i64..5, qb in 1i64..5) {
            let bundle = Bundle { sku: sku("K"), components: vec![Component { sku: sku("A"), qty: qa }, Component { sku: sku("B"), qty: qb }] };
            let avail = |s: &Sku| if s.as_str() == "A" { a } else { b };
            let n = bundle.available(avail);
            prop_assert!(n * qa <= a && n * qb <= b);
            prop_assert!((n + 1) * qa > a || (n + 1) * qb > b, "and one more would not");
        }
    }
}
