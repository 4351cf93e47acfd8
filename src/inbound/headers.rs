//! The request headers a delivery came with, as the edge hands them over.

/// Request headers, looked up case-insensitively (HTTP/2 lowercases names; Shopify's delivery
/// page says to "treat header names as case-insensitive").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, String)>,
}

impl Headers {
    pub fn new() -> Headers {
        Headers::default()
    }

    /// From `(name, value)` pairs, e.g. `worker::Headers::entries()`.
    pub fn from_pairs<I, K, V>(pairs: I) -> Headers
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut h = Headers::new();
        for (k, v) in pairs {
            h.insert(k.as_ref(), v.as_ref());
        }
        h
    }

    /// Adds a header (a builder for tests and simulators).
    pub fn with(mut self, name: &str, value: &str) -> Headers {
        self.insert(name, value);
        self
    }

    pub fn insert(&mut self, name: &str, value: &str) {
        self.entries.push((name.to_ascii_lowercase(), value.to_string()));
    }

    /// The first value of `name`, trimmed; `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }
}
