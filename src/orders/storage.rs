//! How an order desk (`OrderDesk`, one Durable Object per order) keeps its book and its
//! Idempotency-Key records in its SQLite storage, as a pure plan like `stock::storage`: the
//! schema, the reads, the rows decoded, and the statements that write. The shell
//! (`edge::order_object`) only runs them.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Book;
use crate::stock::storage::{BodyRow, CorruptRow, SqlValue, Statement};
use crate::time::Millis;

/// The tables, created when missing (one statement each).
pub const SCHEMA: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS book (k TEXT PRIMARY KEY, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, at INTEGER NOT NULL, body TEXT NOT NULL)",
];
/// The book ([`BodyRow`]).
pub const READ_BOOK: &str = "SELECT body FROM book WHERE k = 'book'";
/// The record of one Idempotency-Key, bound as the one parameter ([`BodyRow`]).
pub const READ_RECORDED: &str = "SELECT body FROM idempotency WHERE key = ?";

fn decode<T: DeserializeOwned>(rows: &[BodyRow]) -> Result<Option<T>, CorruptRow> {
    rows.first().map(|r| serde_json::from_str(&r.body).map_err(|e| CorruptRow(e.to_string()))).transpose()
}

fn encode<T: Serialize>(v: &T) -> Result<String, CorruptRow> {
    serde_json::to_string(v).map_err(|e| CorruptRow(e.to_string()))
}

/// The book, read back (`None` for an order never seen).
pub fn book(rows: &[BodyRow]) -> Result<Option<Book>, CorruptRow> {
    decode(rows)
}

/// The write of the book.
pub fn save(book: &Book) -> Result<Statement, CorruptRow> {
    Ok(Statement { sql: "INSERT OR REPLACE INTO book (k, body) VALUES ('book', ?)", args: vec![encode(book)?.into()] })
}

/// A key's record, read back.
pub fn recorded<T: DeserializeOwned>(rows: &[BodyRow]) -> Result<Option<T>, CorruptRow> {
    decode(rows)
}

/// The write of the key `key`'s record `rec`, made at `at`.
pub fn record<T: Serialize>(key: &str, at: Millis, rec: &T) -> Result<Statement, CorruptRow> {
    Ok(Statement {
        sql: "INSERT OR REPLACE INTO idempotency (key, at, body) VALUES (?, ?, ?)",
        args: vec![key.into(), SqlValue::Int(at.0), encode(rec)?.into()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::{OrderKey, Token};

    fn order() -> OrderKey {
        OrderKey { channel: Token::parse("shop").expect("token"), order_id: Token::parse("1001").expect("token") }
    }

    #[test]
    fn a_saved_book_reads_back_as_it_was() {
        let b = Book::new(order());
        let s = save(&b).expect("save");
        let SqlValue::Text(body) = &s.args[0] else { panic!("book bound as text") };
        assert_eq!(book(&[BodyRow { body: body.clone() }]), Ok(Some(b)));
        assert_eq!(book(&[]), Ok(None), "an order never seen");
    }

    #[test]
    fn a_book_or_record_that_does_not_decode_is_corrupt() {
        assert!(book(&[BodyRow { body: "{\"order\":1}".into() }]).is_err());
        assert!(recorded::<Vec<u8>>(&[BodyRow { body: "nope".into() }]).is_err());
    }

    #[test]
    fn a_record_is_written_under_its_key_and_time() {
        let s = record("k1", Millis(7), &vec![1, 2]).expect("record");
        assert_eq!(s.args, vec![SqlValue::from("k1"), SqlValue::Int(7), SqlValue::from("[1,2]")]);
        assert_eq!(recorded::<Vec<u8>>(&[BodyRow { body: "[1,2]".into() }]), Ok(Some(vec![1, 2])));
    }
}
