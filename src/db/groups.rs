//! Several reads sent to D1 as one batch (one round trip instead of one per read), and the batch's
//! results handed back to each read. A read is a group of [`Query`]s (a long `IN` list is several
//! statements, `super::in_chunks`); D1 answers one result per statement, in order.

use super::{corrupt, Query, StoreResult};

/// Reads gathered for one batch, in the order they were added.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Groups {
    queries: Vec<Query>,
    lengths: Vec<usize>,
}

/// Which group a read is in [`Groups`], to take its results back out of [`Answered`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group(usize);

impl Groups {
    pub fn new() -> Groups {
        Groups::default()
    }

    /// Adds a read (its statements, possibly none) and answers the handle of its results.
    pub fn add(&mut self, read: Vec<Query>) -> Group {
        self.lengths.push(read.len());
        self.queries.extend(read);
        Group(self.lengths.len() - 1)
    }

    /// Every statement, in order: what the batch sends.
    pub fn into_parts(self) -> (Vec<Query>, Vec<usize>) {
        (self.queries, self.lengths)
    }
}

/// A batch's results, split back per group.
#[derive(Debug)]
pub struct Answered<R> {
    groups: Vec<Vec<R>>,
}

impl<R> Answered<R> {
    /// Splits `results` (one per statement) by the groups' `lengths`. A count that does not add
    /// up is [`super::StoreError::Corrupt`]: D1 answered something other than what was asked.
    pub fn split(results: Vec<R>, lengths: &[usize]) -> StoreResult<Answered<R>> {
        let asked: usize = lengths.iter().sum();
        if results.len() != asked {
            return Err(corrupt(format!("a batch of {asked} statements answered {} results", results.len())));
        }
        let mut rest = results.into_iter();
        let groups = lengths.iter().map(|n| rest.by_ref().take(*n).collect()).collect();
        Ok(Answered { groups })
    }

    /// The results of `group`'s statements (taken: a second take of the same group is empty).
    pub fn take(&mut self, group: Group) -> Vec<R> {
        self.groups.get_mut(group.0).map(std::mem::take).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Query {
        Query::new(s, vec![])
    }

    #[test]
    fn results_go_back_to_the_read_that_asked() {
        let mut g = Groups::new();
        let a = g.add(vec![q("a1"), q("a2")]);
        let empty = g.add(vec![]);
        let b = g.add(vec![q("b1")]);
        let (queries, lengths) = g.into_parts();
        assert_eq!(queries, vec![q("a1"), q("a2"), q("b1")]);
        let mut answered = Answered::split(vec!["ra1", "ra2", "rb1"], &lengths).expect("counts add up");
        assert_eq!(answered.take(b), vec!["rb1"]);
        assert_eq!(answered.take(empty), Vec::<&str>::new());
        assert_eq!(answered.take(a), vec!["ra1", "ra2"]);
        assert_eq!(answered.take(a), Vec::<&str>::new(), "taken once");
    }

    #[test]
    fn a_short_or_long_answer_is_corrupt() {
        let mut g = Groups::new();
        g.add(vec![q("a"), q("b")]);
        let (_, lengths) = g.into_parts();
        assert!(Answered::split(vec![1], &lengths).is_err());
        assert!(Answered::split(vec![1, 2, 3], &lengths).is_err());
    }
}
