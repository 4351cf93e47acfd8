//! A fixed-size set of operation indices: the operations a search has linearized.

/// Operations `0..len` as bits; compared and hashed by value (part of the search's memo key).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Bits(Vec<u64>);

impl Bits {
    /// The empty set over `len` operations.
    pub fn new(len: usize) -> Bits {
        Bits(vec![0; len.div_ceil(64)])
    }

    pub fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    pub fn remove(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }

    pub fn contains(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::Bits;

    #[test]
    fn insert_remove_and_equality_by_value() {
        let mut a = Bits::new(130);
        a.insert(0);
        a.insert(129);
        assert!(a.contains(129) && a.contains(0) && !a.contains(64));
        let mut b = Bits::new(130);
        b.insert(129);
        assert_ne!(a, b);
        a.remove(0);
        assert_eq!(a, b);
    }
}
