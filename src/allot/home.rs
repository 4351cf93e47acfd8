//! Where an allotment lives and how its reservation ids name it.
//!
//! Allotment `k` of a SKU is the object named `hot.<k>.<h>` where `<h>` is the first 12 hex
//! digits of SHA-256 of the SKU; its reservation ids are `hot.<k>.<h>.<16 hex>`, so a read,
//! commit, release or extend of one goes straight to its object. Client-chosen reservation ids
//! may not start with `hot.` (`api::requests`), so the two never meet.

use sha2::{Digest, Sha256};

use crate::stock::{Sku, Token};

/// The prefix of every allotment object name and reservation id.
pub const PREFIX: &str = "hot.";
/// Hex digits of the SKU hash in names; of the random part of ids.
const SKU_HASH_HEX: usize = 12;
const RANDOM_HEX: usize = 16;

/// One allotment: its index and object name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllotHome {
    pub index: u32,
    pub object: String,
}

fn sku_hash(sku: &Sku) -> String {
    hex::encode(Sha256::digest(sku.as_str().as_bytes()))[..SKU_HASH_HEX].to_owned()
}

impl AllotHome {
    /// Allotment `index` of `sku`.
    pub fn of(sku: &Sku, index: u32) -> AllotHome {
        AllotHome { index, object: format!("{PREFIX}{index}.{}", sku_hash(sku)) }
    }

    /// The allotment a reservation id names, if it names one.
    pub fn parse(id: &str) -> Option<AllotHome> {
        let rest = id.strip_prefix(PREFIX)?;
        let mut parts = rest.split('.');
        let (index, hash, random) = (parts.next()?, parts.next()?, parts.next()?);
        let hex =
            |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if parts.next().is_some() || !hex(hash, SKU_HASH_HEX) || !hex(random, RANDOM_HEX) {
            return None;
        }
        let index: u32 = index.parse().ok().filter(|_| !index.starts_with('+'))?;
        Some(AllotHome { index, object: format!("{PREFIX}{index}.{hash}") })
    }

    /// A reservation id of this allotment from 8 random bytes.
    pub fn reservation_id(&self, random: [u8; RANDOM_HEX / 2]) -> Token {
        let id = format!("{}.{}", self.object, hex::encode(random));
        Token::parse(&id).unwrap_or_else(|_| unreachable!("hex and dots form a token"))
    }
}

/// Which of `k` allotments serves `caller` (stable: the same caller always lands on the same
/// allotment, so its repeats and its reads meet its holds).
pub fn pick(caller: &str, k: u32) -> u32 {
    let d = Sha256::digest(caller.as_bytes());
    let n = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
    n % k.max(1)
}

/// Whether a client-chosen reservation id would look like an allotment's.
pub fn is_reserved_prefix(id: &str) -> bool {
    id.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_their_allotment() {
        let sku = Sku::parse("TEE/RED.M").expect("sku");
        let home = AllotHome::of(&sku, 3);
        let id = home.reservation_id([7; 8]);
        assert_eq!(AllotHome::parse(id.as_str()), Some(home.clone()));
        assert_ne!(AllotHome::of(&sku, 2), home);
        for bad in ["hot.3", "hot.x.abcdefabcdef.0707070707070707", "res_1", "hot.1.abc.0707070707070707"] {
            assert_eq!(AllotHome::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_caller_always_lands_on_the_same_allotment_and_all_are_used() {
        assert_eq!(pick("ref-1", 4), pick("ref-1", 4));
        let used: std::collections::BTreeSet<u32> = (0..200).map(|i| pick(&format!("c{i}"), 4)).collect();
        assert_eq!(used.len(), 4);
    }
}
