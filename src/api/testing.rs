//! Test helpers shared by the API modules' tests: a query as the router hands it over, and the
//! fields a `validation-failed` problem names.

use serde_json::Value;

use super::problem::Problem;

/// Query pairs as the router passes them (`?k=v&…`, in order).
pub fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// The `field` of each error a problem lists, in order (`""` for an error naming none).
pub fn fields(p: &Problem) -> Vec<String> {
    let errors = p.extra.get("errors").and_then(Value::as_array).cloned().unwrap_or_default();
    errors.iter().map(|e| e.get("field").and_then(Value::as_str).unwrap_or_default().to_owned()).collect()
}
