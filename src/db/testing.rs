//! Checks shared by the table modules' tests.

use serde::de::DeserializeOwned;

use super::limits::MAX_PARAMS;
use super::Query;

/// The number of parameters `sql` expects: the highest `?N`, or the count of bare `?`s.
pub fn expected_params(sql: &str) -> usize {
    let bytes = sql.as_bytes();
    let (mut bare, mut numbered) = (0, 0);
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'?' {
            let digits: String = sql[i + 1..].chars().take_while(char::is_ascii_digit).collect();
            match digits.parse::<usize>() {
                Ok(n) => numbered = numbered.max(n),
                Err(_) => bare += 1,
            }
            i += 1 + digits.len();
        } else {
            i += 1;
        }
    }
    assert!(bare == 0 || numbered == 0, "mixed ? and ?N in {sql}");
    bare.max(numbered)
}

/// Asserts that every statement binds exactly the parameters its SQL names, within D1's limit.
pub fn assert_bound(queries: &[Query]) {
    for q in queries {
        assert_eq!(expected_params(&q.sql), q.args.len(), "parameters of {}", q.sql);
        assert!(q.args.len() <= MAX_PARAMS, "{} parameters in {}", q.args.len(), q.sql);
    }
}

/// Rows as D1 would answer them, from JSON objects.
pub fn rows<T: DeserializeOwned>(json: serde_json::Value) -> Vec<T> {
    serde_json::from_value(json).expect("test rows decode")
}

#[test]
fn expected_params_reads_both_styles() {
    assert_eq!(expected_params("SELECT 1 WHERE a = ?1 AND b = ?2 OR c = ?1"), 2);
    assert_eq!(expected_params("INSERT INTO t VALUES (?, ?, ?)"), 3);
    assert_eq!(expected_params("SELECT 1"), 0);
}
