//! Reading a JSON object field by field, collecting every fault with its field path, so that a
//! bad request is answered once with all that is wrong with it.
//!
//! [`parse_object`] is the one parser of JSON request bodies (stock, reservations, sales,
//! fulfilments and the catalogue all go through it).

mod unique_members;

use serde_json::{Map, Value};

use super::problem::{FieldError, Kind, Problem};
use crate::stock::limits::MAX_JSON_BODY_BYTES;
use crate::stock::IdError;
use unique_members::{DuplicateMember, StrictJsonError};

/// Parses a request body that must be a JSON object (an empty or all-blank body reads as `{}`).
///
/// Refused with `400 invalid-json`: text that is not JSON, a document that is not an object, and
/// an object (at any depth) naming a member twice — `detail` names the member and the JSON
/// pointer of its object. A body over [`MAX_JSON_BODY_BYTES`] is `413 payload-too-large`.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, Problem> {
    if body.len() > MAX_JSON_BODY_BYTES {
        return Err(Problem::new(
            Kind::PayloadTooLarge,
            format!("the body has {} bytes; at most {MAX_JSON_BODY_BYTES} are accepted", body.len()),
        ));
    }
    parse_strict_object(body)
}

/// [`parse_object`] without its size limit, for documents StockEdge itself ships (the OpenAPI
/// document's test); request bodies always go through [`parse_object`].
pub fn parse_strict_object(body: &[u8]) -> Result<Map<String, Value>, Problem> {
    let text = if body.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { body };
    match unique_members::parse(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Problem::new(Kind::InvalidJson, "the body must be a JSON object")),
        Err(StrictJsonError::Duplicate(DuplicateMember { name, pointer })) => Err(Problem::new(
            Kind::InvalidJson,
            format!(
                "the body names member {name:?} twice in the object at JSON pointer {pointer:?}; name each member once"
            ),
        )),
        Err(StrictJsonError::Syntax(e)) => {
            Err(Problem::new(Kind::InvalidJson, format!("the body is not valid JSON: {e}")))
        }
    }
}

/// The validated value, or `422` with every fault (a value missing without a fault recorded:
/// `body` "is incomplete").
pub fn finish<T>(errors: Vec<FieldError>, value: Option<T>) -> Result<T, Problem> {
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ => Err(Problem::invalid(if errors.is_empty() {
            vec![FieldError::new("body", "is incomplete")]
        } else {
            errors
        })),
    }
}

/// Reads `obj` with `read` through a [`Fields`] cursor, then [`finish`]es.
pub fn with_object<T>(obj: &Map<String, Value>, read: impl FnOnce(&mut Fields<'_>) -> Option<T>) -> Result<T, Problem> {
    let mut errors = Vec::new();
    let value = read(&mut Fields::new(obj, "", &mut errors));
    finish(errors, value)
}

/// [`parse_object`] then [`with_object`]: the usual way a JSON request body is validated.
pub fn with_fields<T>(body: &[u8], read: impl FnOnce(&mut Fields<'_>) -> Option<T>) -> Result<T, Problem> {
    with_object(&parse_object(body)?, read)
}

/// A cursor over one JSON object that records faults under `prefix`.
pub struct Fields<'a> {
    obj: &'a Map<String, Value>,
    prefix: String,
    pub errors: &'a mut Vec<FieldError>,
}

impl<'a> Fields<'a> {
    pub fn new(obj: &'a Map<String, Value>, prefix: &str, errors: &'a mut Vec<FieldError>) -> Self {
        Fields { obj, prefix: prefix.to_owned(), errors }
    }

    fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    pub fn fault(&mut self, name: &str, message: impl Into<String>) {
        let path = self.path(name);
        self.errors.push(FieldError::new(path, message));
    }

    /// The object this cursor reads.
    pub fn object(&self) -> &'a Map<String, Value> {
        self.obj
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.obj.get(name).filter(|v| !v.is_null())
    }

    /// An optional boolean.
    pub fn bool_opt(&mut self, name: &str) -> Option<bool> {
        let v = self.get(name)?;
        v.as_bool().or_else(|| {
            self.fault(name, "must be true or false");
            None
        })
    }

    /// An optional integer within `range`.
    pub fn int_opt(&mut self, name: &str, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
        let v = self.get(name)?;
        match v.as_i64() {
            Some(n) if range.contains(&n) => Some(n),
            Some(_) => {
                self.fault(name, format!("must be between {} and {}", range.start(), range.end()));
                None
            }
            None => {
                self.fault(name, "must be an integer");
                None
            }
        }
    }

    /// A required integer within `range`.
    pub fn int(&mut self, name: &str, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
        if self.get(name).is_none() {
            self.fault(name, "is required");
            return None;
        }
        self.int_opt(name, range)
    }

    /// An optional string parsed by `parse` (an identifier type's validator).
    pub fn id_opt<T>(&mut self, name: &str, parse: fn(&str) -> Result<T, IdError>) -> Option<T> {
        let v = self.get(name)?;
        match v.as_str() {
            Some(s) => match parse(s) {
                Ok(t) => Some(t),
                Err(e) => {
                    self.fault(name, e.to_string());
                    None
                }
            },
            None => {
                self.fault(name, "must be a string");
                None
            }
        }
    }

    pub fn id<T>(&mut self, name: &str, parse: fn(&str) -> Result<T, IdError>) -> Option<T> {
        if self.get(name).is_none() {
            self.fault(name, "is required");
            return None;
        }
        self.id_opt(name, parse)
    }

    /// An optional free-text string of at most `max` characters.
    pub fn text_opt(&mut self, name: &str, max: usize) -> Option<String> {
        let v = self.get(name)?;
        match v.as_str() {
            Some(s) if s.chars().count() <= max => Some(s.to_owned()),
            Some(_) => {
                self.fault(name, format!("must be at most {max} characters"));
                None
            }
            None => {
                self.fault(name, "must be a string");
                None
            }
        }
    }

    /// A required non-empty array of objects of at most `max` items.
    pub fn objects(&mut self, name: &str, max: usize) -> Vec<&'a Map<String, Value>> {
        let Some(v) = self.get(name) else {
            self.fault(name, "is required");
            return Vec::new();
        };
        let Some(items) = v.as_array() else {
            self.fault(name, "must be an array");
            return Vec::new();
        };
        if items.is_empty() {
            self.fault(name, "must not be empty");
            return Vec::new();
        }
        if items.len() > max {
            self.fault(name, format!("must have at most {max} items"));
            return Vec::new();
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item.as_object() {
                Some(o) => out.push(o),
                None => self.fault(&format!("{name}[{i}]"), "must be an object"),
            }
        }
        out
    }

    /// A nested cursor for `name[index]`.
    pub fn nested<'b>(&'b mut self, obj: &'b Map<String, Value>, name: &str, index: usize) -> Fields<'b> {
        let prefix = self.path(&format!("{name}[{index}]"));
        Fields { obj, prefix, errors: self.errors }
    }
}
