//! JSON parsing that refuses an object naming the same member twice, at any depth.
//!
//! `serde_json` keeps the last of two members with the same name; a proxy or firewall that reads
//! the first one would see a different request from the one applied. Parsing goes through
//! `serde_json`'s own deserializer (its grammar, escapes and nesting limit) with a visitor that
//! builds the [`Value`] and tracks the names of each object as it is read.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A member name met twice in one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateMember {
    /// The member's name, unescaped.
    pub name: String,
    /// The JSON pointer (RFC 6901) of the object holding it; `""` is the whole document.
    pub pointer: String,
}

/// Why a body is not a JSON document with unique member names.
#[derive(Debug)]
pub enum StrictJsonError {
    /// Well-formed so far, but an object names a member twice.
    Duplicate(DuplicateMember),
    /// Not JSON: the parser's own message.
    Syntax(serde_json::Error),
}

/// Parses `text` as one JSON document whose objects name each member at most once.
pub fn parse(text: &[u8]) -> Result<Value, StrictJsonError> {
    let found = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(text);
    let parsed = Node { pointer: String::new(), found: &found }.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match (parsed, found.into_inner()) {
        (_, Some(duplicate)) => Err(StrictJsonError::Duplicate(duplicate)),
        (Ok(value), None) => Ok(value),
        (Err(e), None) => Err(StrictJsonError::Syntax(e)),
    }
}

/// One value at `pointer`; a duplicate found inside it is recorded in `found` (the parser's own
/// error then only stops the parse, its text is not read).
struct Node<'f> {
    pointer: String,
    found: &'f RefCell<Option<DuplicateMember>>,
}

impl Node<'_> {
    fn child(&self, token: &str) -> Self {
        let escaped = token.replace('~', "~0").replace('/', "~1");
        Node { pointer: format!("{}/{escaped}", self.pointer), found: self.found }
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child(&items.len().to_string()))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if members.contains_key(&name) {
                let message = format!("duplicate member {name:?}");
                *self.found.borrow_mut() = Some(DuplicateMember { name, pointer: self.pointer });
                return Err(de::Error::custom(message));
            }
            let value = map.next_value_seed(self.child(&name))?;
            members.insert(name, value);
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn duplicate(text: &str) -> Option<DuplicateMember> {
        match parse(text.as_bytes()) {
            Err(StrictJsonError::Duplicate(d)) => Some(d),
            _ => None,
        }
    }

    fn dup(name: &str, pointer: &str) -> Option<DuplicateMember> {
        Some(DuplicateMember { name: name.into(), pointer: pointer.into() })
    }

    #[test]
    fn reads_what_serde_json_reads() {
        let text = r#"{"a":[1,-2,3.5,true,null,"x\u00e9",{"b":{}}],"c":18446744073709551615,"d":-9223372036854775808}"#;
        let strict = parse(text.as_bytes()).expect("valid");
        assert_eq!(strict, serde_json::from_str::<Value>(text).expect("valid"));
        assert_eq!(strict["a"][6], json!({"b": {}}));
    }

    #[test]
    fn a_repeated_member_is_found_at_any_depth() {
        assert_eq!(duplicate(r#"{"on_hand":5,"on_hand":50}"#), dup("on_hand", ""));
        assert_eq!(duplicate(r#"{"lines":[{"sku":"E1","qty":-1,"qty":1}]}"#), dup("qty", "/lines/0"));
        assert_eq!(duplicate(r#"{"a":{"b/c":[0,{"~":{"x":1,"x":2}}]}}"#), dup("x", "/a/b~1c/1/~0"));
    }

    #[test]
    fn names_are_compared_unescaped() {
        assert_eq!(duplicate(r#"{"qty":1,"q\u0074y":2}"#), dup("qty", ""));
    }

    #[test]
    fn the_same_name_in_sibling_objects_is_fine() {
        assert!(parse(br#"{"lines":[{"sku":"A","qty":1},{"sku":"B","qty":2}],"sku":"C"}"#).is_ok());
    }

    #[test]
    fn a_duplicate_before_a_syntax_error_is_reported_as_the_duplicate() {
        assert_eq!(duplicate(r#"{"a":1,"a":2,"#), dup("a", ""));
    }

    #[test]
    fn syntax_errors_and_trailing_text_are_syntax_errors() {
        for bad in ["{on_hand: 1", "{} {}", "[1,]", "{\"a\":1}x"] {
            assert!(matches!(parse(bad.as_bytes()), Err(StrictJsonError::Syntax(_))), "{bad}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(parse(deep.as_bytes()), Err(StrictJsonError::Syntax(_))));
    }
}
