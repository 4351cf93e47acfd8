//! Turning a channel's free-text location name into a StockEdge [`Location`], and reporting it.
//!
//! Shopify's inventory CSV names locations as the merchant typed them (`Main Warehouse`,
//! `Pop-up Store #2`). StockEdge locations are 1–32 of `a-z 0-9 _ -`. The mapping:
//! 1. trim, lowercase;
//! 2. replace every run of characters outside `a-z 0-9 _ -` (spaces, punctuation, accented or
//!    non-Latin letters) by one `-`, and merge it with `-` next to it;
//! 3. drop `-` at both ends, keep the first 32 characters, drop a trailing `-` again.
//!
//! `Main Warehouse` → `main-warehouse`, `Pop-up Store #2` → `pop-up-store-2`,
//! `Lager München` → `lager-m-nchen`. A name with nothing left (`東京`) is a row error. Each
//! distinct name is reported once with what it became and the first line it appeared on, so the
//! merchant can check the mapping; two names that became the same location are listed by
//! [`LocationMap::collisions`].

use serde::Serialize;
use std::collections::BTreeMap;

use crate::stock::limits::MAX_LOCATION_LEN;
use crate::stock::Location;

use super::limits::MAX_LOCATIONS_PER_FILE;
use super::row::quote;

/// One location name met in the file and the location it maps to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LocationMapping {
    /// The name as written in the file (trimmed).
    pub name: String,
    pub location: Location,
    /// The first line that used the name.
    pub first_line: u64,
}

/// Maps one name. `Err` is the row message.
pub fn location_from_name(name: &str) -> Result<Location, String> {
    let mut out = String::with_capacity(name.len().min(64));
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        let keep = c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
        if keep {
            out.push(c);
        } else if !out.ends_with('-') {
            // '-' itself and every character StockEdge does not allow become one '-'.
            out.push('-');
        }
    }
    let trimmed: String = out.trim_matches('-').chars().take(MAX_LOCATION_LEN).collect();
    let trimmed = trimmed.trim_end_matches('-');
    Location::parse(trimmed).map_err(|_| {
        format!(
            "location {} has no letters or digits StockEdge can use (a-z 0-9 _ -); rename it, or import a plain CSV with a location column",
            quote(name)
        )
    })
}

/// The names met so far in one file.
#[derive(Clone, Debug, Default)]
pub struct LocationMap {
    by_name: BTreeMap<String, Location>,
    mappings: Vec<LocationMapping>,
}

impl LocationMap {
    /// The location for `name`, remembering the mapping the first time.
    pub fn map(&mut self, name: &str, line: u64) -> Result<Location, String> {
        let name = name.trim();
        if let Some(loc) = self.by_name.get(name) {
            return Ok(loc.clone());
        }
        if self.by_name.len() >= MAX_LOCATIONS_PER_FILE {
            return Err(format!("more than {MAX_LOCATIONS_PER_FILE} distinct location names in one file"));
        }
        let loc = location_from_name(name)?;
        self.by_name.insert(name.to_owned(), loc.clone());
        self.mappings.push(LocationMapping { name: name.to_owned(), location: loc.clone(), first_line: line });
        Ok(loc)
    }

    /// Every name met, in order of first appearance.
    pub fn mappings(&self) -> &[LocationMapping] {
        &self.mappings
    }

    /// Locations that more than one name mapped to, with those names.
    pub fn collisions(&self) -> Vec<(Location, Vec<String>)> {
        let mut by_loc: BTreeMap<&Location, Vec<String>> = BTreeMap::new();
        for m in &self.mappings {
            by_loc.entry(&m.location).or_default().push(m.name.clone());
        }
        by_loc.into_iter().filter(|(_, names)| names.len() > 1).map(|(l, n)| (l.clone(), n)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(s: &str) -> String {
        location_from_name(s).map(|l| l.as_str().to_owned()).unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn names_become_locations() {
        assert_eq!(map("Main Warehouse"), "main-warehouse");
        assert_eq!(map("Pop-up Store #2"), "pop-up-store-2");
        assert_eq!(map("  Shop (NYC)  "), "shop-nyc");
        assert_eq!(map("A - B"), "a-b");
        assert_eq!(map("snake_case"), "snake_case");
        assert_eq!(map("Lager München"), "lager-m-nchen");
        assert_eq!(map("main"), "main");
        let long = map("The Very Long Name Of A Distribution Centre In The North");
        assert!(long.len() <= 32 && !long.ends_with('-'), "{long}");
        assert!(map("東京").starts_with("ERR"));
        assert!(map("").starts_with("ERR"));
    }

    #[test]
    fn map_reports_each_name_once_and_collisions() {
        let mut m = LocationMap::default();
        assert_eq!(m.map("Main Warehouse", 2).unwrap().as_str(), "main-warehouse");
        m.map("Main Warehouse", 3).unwrap();
        m.map("main-warehouse", 9).unwrap();
        assert_eq!(m.mappings().len(), 2);
        assert_eq!(m.mappings()[0].first_line, 2);
        let c = m.collisions();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].1, vec!["Main Warehouse".to_owned(), "main-warehouse".to_owned()]);
    }
}
