//! A small cache of complete answers, valid for one searcher generation.
//!
//! Listing pages (no text, a few filters, facet counts) scan every document
//! of a kind and are also the most repeated requests; between two commits
//! their answer cannot change. Like Elasticsearch's request cache, entries
//! are dropped as soon as a commit makes a new generation visible.

use std::collections::{HashMap, VecDeque};

use crate::{Query, Results};

/// Default number of cached answers; a few kilobytes each.
pub(crate) const DEFAULT_CAPACITY: usize = 1024;

pub(crate) struct ResultCache {
    generation: u64,
    capacity: usize,
    entries: HashMap<Query, Results>,
    /// Insertion order, for first-in first-out eviction: popular queries come
    /// back right after eviction anyway, and no bookkeeping on hits keeps the
    /// lock short.
    order: VecDeque<Query>,
}

impl ResultCache {
    pub fn new(capacity: usize) -> ResultCache {
        ResultCache {
            generation: 0,
            capacity,
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
        self.evict();
    }

    pub fn get(&self, generation: u64, query: &Query) -> Option<Results> {
        if generation != self.generation {
            return None;
        }
        self.entries.get(query).cloned()
    }

    pub fn put(&mut self, generation: u64, query: &Query, results: &Results) {
        if generation < self.generation || self.capacity == 0 {
            // Computed on a searcher older than what the cache now holds.
            return;
        }
        if generation > self.generation {
            self.generation = generation;
            self.entries.clear();
            self.order.clear();
        }
        if self
            .entries
            .insert(query.clone(), results.clone())
            .is_none()
        {
            self.order.push_back(query.clone());
        }
        self.evict();
    }

    fn evict(&mut self) {
        while self.entries.len() > self.capacity {
            match self.order.pop_front() {
                Some(oldest) => {
                    self.entries.remove(&oldest);
                }
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DocKind;

    fn results(total: usize) -> Results {
        Results {
            total,
            ..Results::default()
        }
    }

    #[test]
    fn answers_only_within_a_generation() {
        let mut cache = ResultCache::new(2);
        let q = Query::new(DocKind::Formation, "");
        cache.put(1, &q, &results(3));
        assert_eq!(cache.get(1, &q).map(|r| r.total), Some(3));
        assert!(cache.get(2, &q).is_none());
        cache.put(2, &q, &results(4));
        cache.put(1, &q, &results(5));
        assert_eq!(cache.get(2, &q).map(|r| r.total), Some(4));
    }

    #[test]
    fn evicts_the_oldest() {
        let mut cache = ResultCache::new(2);
        let queries: Vec<Query> = ["a", "b", "c"]
            .iter()
            .map(|t| Query::new(DocKind::Formation, *t))
            .collect();
        for q in &queries {
            cache.put(1, q, &results(1));
        }
        assert!(cache.get(1, &queries[0]).is_none());
        assert!(cache.get(1, &queries[2]).is_some());
        cache.set_capacity(0);
        assert!(cache.get(1, &queries[2]).is_none());
    }
}
