//! A platform's listing identity, declared: the members of a listing's `external` object (name,
//! grammar, required or not) and how its mapping key is made. Reading an identity from a request
//! body, checking a stored one and writing its JSON are generic over this declaration (see
//! [`crate::catalog::model::External`]), so a new platform declares its identity in its registry
//! entry and writes no reader, no stored shape and no JSON of its own.

use serde_json::{Map, Value};

use crate::catalog::model::{External, FieldFault, MAX_PLATFORM_ID};
use crate::stock::{Sku, Token};

/// Makes the mapping key of an identity of the platform's shape (read or stored through the
/// platform's [`Identity`], so its required members are there); `sku` is the listed SKU, for
/// platforms whose identity may fall back to it (wholesale partners without item codes). The key
/// is unique per channel (D1 index `listings_by_identity`): inbound lines are mapped to SKUs by
/// building the same key from what the platform sends.
pub type KeyFn = fn(&External, &Sku) -> String;

/// A platform's listing identity.
#[derive(Clone, Copy)]
pub struct Identity {
    /// The members of `external`, in the order faults are reported and JSON is written.
    pub fields: &'static [IdentityField],
    pub key: KeyFn,
}

impl Identity {
    /// The members' names, comma-separated (for messages).
    pub fn names(&self) -> String {
        self.fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
    }

    pub fn field(&self, name: &str) -> Option<&'static IdentityField> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// One member of a listing's `external` identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdentityField {
    pub name: &'static str,
    pub required: bool,
    pub grammar: Grammar,
}

impl IdentityField {
    pub const fn required(name: &'static str, grammar: Grammar) -> IdentityField {
        IdentityField { name, required: true, grammar }
    }

    pub const fn optional(name: &'static str, grammar: Grammar) -> IdentityField {
        IdentityField { name, required: false, grammar }
    }
}

/// What a member's value may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grammar {
    /// A platform id: an integer 1..=[`MAX_PLATFORM_ID`] (a JSON number).
    Id,
    /// A platform id given as a number, a string of 1-16 digits, or `<prefix><digits>` (Shopify's
    /// `gid://shopify/Location/<id>`); kept and answered as a number.
    IdOrPrefixed(&'static str),
    /// A non-empty string of at most `max` characters from `chars`.
    Text { max: usize, chars: Chars },
    /// An identifier with [`Token`]'s grammar.
    Token,
    /// A non-empty array of at most `max_items` distinct codes, each 1..=`max_len` characters
    /// from `chars`; `noun` and `example` name them in messages (`marketplace id`, `ATVPDKIKX0DER`).
    Codes { noun: &'static str, example: &'static str, max_items: usize, max_len: usize, chars: Chars },
}

/// The characters a text member may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chars {
    /// Anything printable, without leading or trailing whitespace.
    Plain,
    /// A-Z a-z 0-9.
    Alnum,
    /// A-Z 0-9.
    UpperAlnum,
    /// A-Z a-z 0-9 - _.
    Word,
}

impl Chars {
    pub fn allows(self, s: &str) -> bool {
        match self {
            Chars::Plain => !s.chars().any(char::is_control) && s.trim() == s,
            Chars::Alnum => s.chars().all(|c| c.is_ascii_alphanumeric()),
            Chars::UpperAlnum => s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
            Chars::Word => s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        }
    }

    fn set(self) -> &'static str {
        match self {
            Chars::Plain => "printable characters",
            Chars::Alnum => "A-Z a-z 0-9",
            Chars::UpperAlnum => "A-Z 0-9",
            Chars::Word => "A-Z a-z 0-9 - _",
        }
    }

    fn rule(self) -> String {
        match self {
            Chars::Plain => "may not contain control characters or start or end with spaces".to_owned(),
            _ => format!("may only contain {}", self.set()),
        }
    }
}

/// A member's value, typed by its [`Grammar`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldValue {
    Int(i64),
    Text(String),
    List(Vec<String>),
}

impl FieldValue {
    pub fn to_json(&self) -> Value {
        match self {
            FieldValue::Int(n) => Value::from(*n),
            FieldValue::Text(s) => Value::from(s.as_str()),
            FieldValue::List(l) => Value::from(l.clone()),
        }
    }

    /// A stored value of `grammar`'s type (its shape only: it passed the grammar when written).
    fn stored(grammar: Grammar, v: &Value) -> Option<FieldValue> {
        match grammar {
            Grammar::Id | Grammar::IdOrPrefixed(_) => v.as_i64().map(FieldValue::Int),
            Grammar::Text { .. } | Grammar::Token => v.as_str().map(|s| FieldValue::Text(s.to_owned())),
            Grammar::Codes { .. } => v
                .as_array()?
                .iter()
                .map(|x| x.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(FieldValue::List),
        }
    }
}

/// The members of an identity, in declaration order; absent optional members are left out.
pub type Members = Vec<(&'static str, FieldValue)>;

/// Reads an `external` object of a `kind` listing against its declaration: every member not
/// declared, and every declared member that breaks its grammar, is a fault (field names relative
/// to `external`, unknown members first, then in declaration order).
pub fn read(kind: &str, identity: &Identity, obj: &Map<String, Value>) -> Result<Members, Vec<FieldFault>> {
    let mut faults = Vec::new();
    for k in obj.keys() {
        if identity.field(k).is_none() {
            faults.push(FieldFault::new(
                k.as_str(),
                format!("is not a field of a {kind} listing (it has {})", identity.names()),
            ));
        }
    }
    let mut members = Vec::new();
    for f in identity.fields {
        match obj.get(f.name).filter(|v| !v.is_null()) {
            None if f.required => faults.push(FieldFault::new(f.name, "is required")),
            None => {}
            Some(v) => match value(f.name, f.grammar, v) {
                Ok(v) => members.push((f.name, v)),
                Err(mut e) => faults.append(&mut e),
            },
        }
    }
    if faults.is_empty() {
        Ok(members)
    } else {
        Err(faults)
    }
}

/// Reads a stored identity (written from its members' JSON): `None` unless it is an object with
/// only declared members, every required one present, each of its grammar's type.
pub fn stored(identity: &Identity, v: &Value) -> Option<Members> {
    let obj = v.as_object()?;
    if obj.keys().any(|k| identity.field(k).is_none()) {
        return None;
    }
    let mut members = Vec::new();
    for f in identity.fields {
        match obj.get(f.name).filter(|v| !v.is_null()) {
            None if f.required => return None,
            None => {}
            Some(v) => members.push((f.name, FieldValue::stored(f.grammar, v)?)),
        }
    }
    Some(members)
}

/// The JSON object of an identity's members.
pub fn to_json(members: &Members) -> Value {
    Value::Object(members.iter().map(|(k, v)| ((*k).to_owned(), v.to_json())).collect())
}

/// One present member's value, or its faults.
fn value(name: &str, grammar: Grammar, v: &Value) -> Result<FieldValue, Vec<FieldFault>> {
    let fault = |message: String| vec![FieldFault::new(name, message)];
    match grammar {
        Grammar::Id => match v.as_i64() {
            Some(n) if (1..=MAX_PLATFORM_ID).contains(&n) => Ok(FieldValue::Int(n)),
            Some(_) => Err(fault(format!("must be between 1 and {MAX_PLATFORM_ID}"))),
            None => Err(fault("must be an integer".into())),
        },
        Grammar::IdOrPrefixed(prefix) => {
            let parsed = match v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => {
                    let digits = s.strip_prefix(prefix).unwrap_or(s);
                    let ok = !digits.is_empty() && digits.len() <= 16 && digits.bytes().all(|b| b.is_ascii_digit());
                    ok.then(|| digits.parse::<i64>().ok()).flatten()
                }
                _ => None,
            };
            match parsed {
                Some(n) if (1..=MAX_PLATFORM_ID).contains(&n) => Ok(FieldValue::Int(n)),
                _ => Err(fault(format!("must be a positive integer id or a {prefix}<id> string"))),
            }
        }
        Grammar::Text { max, chars } => match v.as_str() {
            Some("") => Err(fault("must not be empty".into())),
            Some(s) if s.chars().count() > max => Err(fault(format!("must be at most {max} characters"))),
            Some(s) if !chars.allows(s) => Err(fault(chars.rule())),
            Some(s) => Ok(FieldValue::Text(s.to_owned())),
            None => Err(fault("must be a string".into())),
        },
        Grammar::Token => match v.as_str() {
            Some(s) => Token::parse(s).map(|t| FieldValue::Text(t.to_string())).map_err(|e| fault(e.to_string())),
            None => Err(fault("must be a string".into())),
        },
        Grammar::Codes { noun, example, max_items, max_len, chars } => {
            let items = match v.as_array() {
                Some(a) if a.is_empty() => return Err(fault("must not be empty".into())),
                Some(a) if a.len() > max_items => return Err(fault(format!("must have at most {max_items} items"))),
                Some(a) => a,
                None => return Err(fault(format!("must be an array of {noun}s"))),
            };
            let mut codes: Vec<String> = Vec::new();
            let mut faults = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let at = format!("{name}[{i}]");
                match item.as_str() {
                    Some(s) if !s.is_empty() && s.len() <= max_len && chars.allows(s) => {
                        if codes.iter().any(|c| c == s) {
                            faults.push(FieldFault::new(at, format!("{s} is listed twice")));
                        } else {
                            codes.push(s.to_owned());
                        }
                    }
                    _ => faults.push(FieldFault::new(
                        at,
                        format!("must be a {noun}: 1-{max_len} of {} (e.g. {example})", chars.set()),
                    )),
                }
            }
            if faults.is_empty() {
                Ok(FieldValue::List(codes))
            } else {
                Err(faults)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(_: &External, _: &Sku) -> String {
        String::new()
    }

    const ITEM: Identity = Identity {
        fields: &[
            IdentityField::required("item", Grammar::IdOrPrefixed("gid://x/Item/")),
            IdentityField::optional(
                "codes",
                Grammar::Codes { noun: "code", example: "AB1", max_items: 3, max_len: 4, chars: Chars::UpperAlnum },
            ),
            IdentityField::optional("partner", Grammar::Token),
        ],
        key,
    };

    fn faults(v: Value) -> Vec<(String, String)> {
        let obj = v.as_object().cloned().unwrap_or_default();
        read("x", &ITEM, &obj).expect_err("faults").into_iter().map(|f| (f.field, f.message)).collect()
    }

    #[test]
    fn prefixed_ids_take_numbers_digit_strings_and_the_prefix_only() {
        let obj = |v: Value| json!({ "item": v }).as_object().cloned().unwrap_or_default();
        for ok in [json!(7), json!("7"), json!("gid://x/Item/7")] {
            assert_eq!(read("x", &ITEM, &obj(ok.clone())), Ok(vec![("item", FieldValue::Int(7))]), "{ok}");
        }
        for bad in [json!(0), json!("gid://y/Item/7"), json!("1".repeat(17)), json!(1.5), json!(true), json!("")] {
            assert_eq!(
                faults(json!({ "item": bad })),
                [("item".to_owned(), "must be a positive integer id or a gid://x/Item/<id> string".to_owned())],
            );
        }
    }

    #[test]
    fn codes_name_each_bad_or_repeated_item_and_tokens_keep_their_grammar() {
        let f = faults(json!({"item": 1, "codes": ["AB1", "ab", "AB1"], "partner": "a b"}));
        let fields: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(fields, ["codes[1]", "codes[2]", "partner"]);
        assert_eq!(faults(json!({"item": 1, "codes": ["TOOLONG"]}))[0].0, "codes[0]");
        assert_eq!(f[0].1, "must be a code: 1-4 of A-Z 0-9 (e.g. AB1)");
        assert_eq!(f[1].1, "AB1 is listed twice");
        assert_eq!(faults(json!({"item": 1, "codes": []}))[0].1, "must not be empty");
        assert_eq!(faults(json!({"item": 1, "codes": ["A", "B", "C", "D"]}))[0].1, "must have at most 3 items");
        assert_eq!(faults(json!({"item": 1, "codes": "A"}))[0].1, "must be an array of codes");
        assert_eq!(faults(json!({}))[0], ("item".to_owned(), "is required".to_owned()));
    }

    #[test]
    fn stored_shapes_need_every_required_member_of_its_type_and_nothing_else() {
        assert_eq!(stored(&ITEM, &json!({"item": 1, "codes": ["A"]})).map(|m| m.len()), Some(2));
        assert_eq!(stored(&ITEM, &json!({"item": null})), None, "a required member stored as null");
        assert_eq!(stored(&ITEM, &json!({"item": "1"})), None, "a member of another type");
        assert_eq!(stored(&ITEM, &json!({"item": 1, "codes": [1]})), None, "a list of another type");
        assert_eq!(stored(&ITEM, &json!({"item": 1, "other": 2})), None, "an undeclared member");
        assert_eq!(stored(&ITEM, &json!([1])), None);
        let m = stored(&ITEM, &json!({"partner": "p", "item": 3})).expect("stored");
        assert_eq!(to_json(&m), json!({"item": 3, "partner": "p"}));
    }
}
