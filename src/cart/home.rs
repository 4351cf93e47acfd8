//! Where a reservation lives, read from its id alone, so that every call after the creation goes
//! straight to the object that keeps it (no lookup).
//!
//! - `rsk_<20 lowercase hex>_<SKU>`: a single-SKU reservation kept by that SKU's ledger object
//!   (`SkuLedger`, named by the SKU). The SKU is written with `/` as `:` (a SKU never contains
//!   `:`), so the id is one URL path segment. The hex is random, or derived from the
//!   Idempotency-Key. At most 4 + 20 + 1 + 64 = 89 characters, so its order line ids
//!   (`res:<id>@<location>`) stay within a [`Token`].
//! - anything else: a cart coordinator (`CartCoordinator`, named by the id) — carts of several
//!   SKUs, bundles, and every id a client chose (a client `id` may not start with `rsk_`).
//!
//! An id with the ledger prefix that does not parse names no home: it is answered
//! `404 reservation-not-found` without calling any object.

use crate::stock::{Sku, Token};

/// The prefix of ids of reservations kept by a SKU ledger.
pub const LEDGER_PREFIX: &str = "rsk_";
/// Hex digits of the random (or key-derived) part of a ledger-kept reservation id.
pub const LEDGER_ID_HEX: usize = 20;

/// The object that keeps a reservation. New homes (flash-sale allotments) add a variant here and
/// a prefix in [`home`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Home {
    /// A `CartCoordinator` named by the id.
    Coordinator,
    /// The `SkuLedger` of this SKU.
    Ledger { sku: Sku },
    /// A forged or malformed id: no object keeps it.
    Nowhere,
}

/// Where the reservation `id` lives.
pub fn home(id: &Token) -> Home {
    let Some(rest) = id.as_str().strip_prefix(LEDGER_PREFIX) else { return Home::Coordinator };
    let (Some(hex), Some(sku)) = (rest.get(..LEDGER_ID_HEX), rest.get(LEDGER_ID_HEX..)) else { return Home::Nowhere };
    let is_hex = hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    match sku.strip_prefix('_') {
        Some(sku) if is_hex && !sku.contains('/') => {
            Sku::parse(&sku.replace(':', "/")).map_or(Home::Nowhere, |sku| Home::Ledger { sku })
        }
        _ => Home::Nowhere,
    }
}

/// The id of a reservation of `sku` kept by its ledger; `hex` gives the first [`LEDGER_ID_HEX`]
/// hex digits (a random value, or a hash of the Idempotency-Key). `None` if `hex` is too short
/// or not lowercase hex.
pub fn ledger_id(sku: &Sku, hex: &str) -> Option<Token> {
    let hex = hex.get(..LEDGER_ID_HEX)?;
    if !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    Token::parse(&format!("{LEDGER_PREFIX}{hex}_{}", sku.as_str().replace('/', ":"))).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::order::hold_line_id;
    use crate::stock::Location;
    use proptest::prelude::*;

    fn token(s: &str) -> Token {
        Token::parse(s).expect("token")
    }

    #[test]
    fn a_ledger_id_names_its_sku_and_other_ids_a_coordinator() {
        let sku = Sku::parse("TEE/RED_M.1").expect("sku");
        let id = ledger_id(&sku, "0123456789abcdef0123ffff").expect("id");
        assert_eq!(id.as_str(), "rsk_0123456789abcdef0123_TEE:RED_M.1");
        assert_eq!(home(&id), Home::Ledger { sku });
        assert_eq!(home(&token("res_0123")), Home::Coordinator);
        assert_eq!(home(&token("my-cart-1")), Home::Coordinator);
    }

    #[test]
    fn forged_or_malformed_ledger_ids_have_no_home() {
        for bad in [
            "rsk_",
            "rsk_0123",
            "rsk_0123456789abcdef0123",
            "rsk_0123456789abcdef0123_",
            "rsk_0123456789abcdef0123X",
            "rsk_0123456789ABCDEF0123_A",
            "rsk_0123456789abcdefg123_A",
            "rsk_0123456789abcdef0123_A/B",
            "rsk_0123456789abcdef0123_::",
            "rsk_0123456789abcdef0123_a@b",
            "rsk_0123456789abcdef0123_..",
        ] {
            assert_eq!(home(&token(bad)), Home::Nowhere, "{bad}");
        }
        assert_eq!(ledger_id(&Sku::parse("A").expect("sku"), "0123"), None);
        assert_eq!(ledger_id(&Sku::parse("A").expect("sku"), "0123456789abcdef012G"), None);
    }

    proptest! {
        #[test]
        fn every_sku_round_trips_and_its_order_lines_fit(
            sku in "[A-Za-z0-9._-]{1,20}(/[A-Za-z0-9._-]{1,20}){0,2}",
            hex in "[0-9a-f]{20}",
        ) {
            prop_assume!(Sku::parse(&sku).is_ok());
            let sku = Sku::parse(&sku).expect("sku");
            let id = ledger_id(&sku, &hex).expect("id");
            prop_assert_eq!(home(&id), Home::Ledger { sku });
            prop_assert!(hold_line_id(&id, &Location::parse(&"l".repeat(32)).expect("loc")).is_ok());
        }
    }

    #[test]
    fn the_longest_id_still_fits_its_order_line_ids() {
        let sku = Sku::parse(&"S".repeat(64)).expect("sku");
        let id = ledger_id(&sku, &"f".repeat(20)).expect("id");
        assert!(hold_line_id(&id, &Location::parse(&"l".repeat(32)).expect("loc")).is_ok());
    }
}
