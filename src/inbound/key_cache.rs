//! A pure cache of eBay public keys by key id: it holds what the edge fetched and tells it when
//! to fetch. No clock and no I/O: `now` is passed in.

use super::limits::{EBAY_KEY_CACHE_CAPACITY, EBAY_KEY_TTL_MS};
use crate::time::Millis;

/// What the cache has for a key id.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup<'a, K> {
    /// Fetched less than [`EBAY_KEY_TTL_MS`] ago: use it, fetch nothing.
    Fresh(&'a K),
    /// Older: fetch it again. If the fetch fails, this key may still be used (eBay's keys are
    /// public and rotate rarely; refusing every delivery while eBay's key endpoint is down would
    /// lose them).
    Stale(&'a K),
    /// Never fetched (or evicted): fetch it.
    Missing,
}

impl<K> Lookup<'_, K> {
    /// Whether the edge should fetch the key now.
    pub fn needs_fetch(&self) -> bool {
        !matches!(self, Lookup::Fresh(_))
    }
}

#[derive(Clone, Debug)]
struct Entry<K> {
    kid: String,
    key: K,
    fetched_at: Millis,
}

/// Keys by id with the time they were fetched; at most [`EBAY_KEY_CACHE_CAPACITY`] (the entry
/// fetched longest ago is dropped first).
#[derive(Clone, Debug)]
pub struct KeyCache<K> {
    entries: Vec<Entry<K>>,
    capacity: usize,
}

impl<K> Default for KeyCache<K> {
    fn default() -> Self {
        KeyCache::new()
    }
}

impl<K> KeyCache<K> {
    pub fn new() -> KeyCache<K> {
        KeyCache::with_capacity(EBAY_KEY_CACHE_CAPACITY)
    }

    pub fn with_capacity(capacity: usize) -> KeyCache<K> {
        KeyCache { entries: Vec::new(), capacity: capacity.max(1) }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a key fetched at `fetched_at` is still fresh at `now`. A fetch time in the future
    /// (a clock that went back) counts as fresh only within the TTL of it.
    pub fn is_fresh(fetched_at: Millis, now: Millis) -> bool {
        now.0.saturating_sub(fetched_at.0).abs() < EBAY_KEY_TTL_MS
    }

    pub fn lookup(&self, kid: &str, now: Millis) -> Lookup<'_, K> {
        match self.entries.iter().find(|e| e.kid == kid) {
            Some(e) if Self::is_fresh(e.fetched_at, now) => Lookup::Fresh(&e.key),
            Some(e) => Lookup::Stale(&e.key),
            None => Lookup::Missing,
        }
    }

    /// Whether the edge should fetch `kid` at `now`.
    pub fn needs_fetch(&self, kid: &str, now: Millis) -> bool {
        self.lookup(kid, now).needs_fetch()
    }

    /// Records a key fetched at `now` (replacing an older one for the same id).
    pub fn insert(&mut self, kid: &str, key: K, now: Millis) {
        self.entries.retain(|e| e.kid != kid);
        while self.entries.len() >= self.capacity {
            let oldest = self.entries.iter().enumerate().min_by_key(|(_, e)| e.fetched_at).map(|(i, _)| i).unwrap_or(0);
            self.entries.remove(oldest);
        }
        self.entries.push(Entry { kid: kid.to_string(), key, fetched_at: now });
    }

    /// Forgets `kid` (e.g. after eBay answered 404 for it).
    pub fn remove(&mut self, kid: &str) {
        self.entries.retain(|e| e.kid != kid);
    }
}
