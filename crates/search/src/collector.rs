//! One collector computing a page of hits, the exact total and the facet
//! counts in a single pass over the matching documents.
//!
//! Tantivy's `TopDocs` cannot sort by a string column, and running `Count`,
//! `TopDocs` and several facet collectors side by side would read each
//! document once per collector. Here every segment keeps term ordinals only
//! (title, facet values): strings are looked up once, at merge time, for the
//! page actually returned and the facet values actually counted.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Cardinality, StrColumn};
use tantivy::index::SegmentId;
use tantivy::query::Weight;
use tantivy::{DocId, Score, Searcher, SegmentOrdinal, SegmentReader};

use crate::schema::{facet_field_name, ID, TITLE_SORT};
use crate::{Facet, Hit};

/// Documents handed to the columns at once.
const BLOCK: usize = tantivy::COLLECT_BLOCK_BUFFER_LEN;

/// Facets with few values are counted in this many interleaved histograms:
/// a block of documents repeats the same value often, and independent
/// counters avoid waiting on the previous increment of the same cell.
const LANES: usize = 4;
/// Above this many values, repeats are rare and a single histogram stays
/// smaller in cache.
const LANES_MAX_TERMS: usize = 256;

/// Collects `offset..offset + limit` of the matches, ordered by score (when
/// `by_score`) then title, plus the total and the facet counts.
pub(crate) struct PageCollector<'a> {
    pub by_score: bool,
    pub offset: usize,
    pub limit: usize,
    pub facets: &'a [Facet],
    pub facet_limit: usize,
    pub facet_values: &'a FacetValues,
}

/// The merged answer.
pub(crate) struct Page {
    pub hits: Vec<Hit>,
    pub total: usize,
    pub facets: Vec<(Facet, Vec<(String, u64)>)>,
}

/// The values of each facet column of each live segment, decoded once.
/// Segments never change, so an entry stays valid as long as its segment is
/// searched; entries of merged-away segments are pruned on new generations.
#[derive(Default)]
pub(crate) struct FacetValues {
    inner: Mutex<FacetValuesInner>,
}

#[derive(Default)]
struct FacetValuesInner {
    generation: u64,
    values: HashMap<(SegmentId, Facet), Arc<[String]>>,
}

impl FacetValues {
    /// Drops the entries of segments `searcher` no longer has.
    pub fn prune(&self, searcher: &Searcher) {
        let generation = searcher.generation().generation_id();
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.generation == generation {
            return;
        }
        inner.generation = generation;
        let live: Vec<SegmentId> = searcher
            .segment_readers()
            .iter()
            .map(SegmentReader::segment_id)
            .collect();
        inner
            .values
            .retain(|(segment, _), _| live.contains(segment));
    }

    fn get(&self, segment: SegmentId, facet: Facet, column: &StrColumn) -> Arc<[String]> {
        let key = (segment, facet);
        if let Some(values) = self.lock().values.get(&key) {
            return values.clone();
        }
        // Decoded outside the lock; two searches may both decode it once.
        let mut values = Vec::with_capacity(column.num_terms());
        match column.dictionary().stream() {
            Ok(mut stream) => {
                while stream.advance() {
                    values.push(String::from_utf8_lossy(stream.key()).into_owned());
                }
            }
            Err(error) => tracing::warn!(%error, "cannot read facet values"),
        }
        let values: Arc<[String]> = values.into();
        self.lock().values.insert(key, values.clone());
        values
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FacetValuesInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A candidate hit inside a segment. Ordered best first: the greatest is the
/// worst, so the top of a max-heap is the one to evict.
#[derive(Clone, Copy)]
struct Candidate {
    score: Score,
    /// Ordinal of the folded title in the segment's dictionary, which sorts
    /// like the string; `u64::MAX` when missing.
    title_ord: u64,
    doc: DocId,
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then(self.title_ord.cmp(&other.title_ord))
            .then(self.doc.cmp(&other.doc))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

/// What one segment contributes: ordinals, resolved at merge time.
pub(crate) struct SegmentFruit {
    segment_ord: SegmentOrdinal,
    segment_id: SegmentId,
    count: u64,
    candidates: Vec<Candidate>,
    titles: Option<StrColumn>,
    ids: Option<StrColumn>,
    /// Per requested facet, the column and the count of each term ordinal.
    facets: Vec<(Option<StrColumn>, Vec<u32>)>,
}

/// Counts the values of one facet column, a block of documents at a time so
/// that the column is read with one dynamic call per block, not per value.
struct FacetCounter {
    column: Option<StrColumn>,
    /// `lanes` interleaved histograms: `counts[ord * lanes + lane]`.
    counts: Vec<u32>,
    lanes: usize,
    /// Scratch buffers reused across blocks.
    rows: Vec<u32>,
    row_docs: Vec<DocId>,
    ords: Vec<u64>,
}

impl FacetCounter {
    fn new(column: Option<StrColumn>) -> FacetCounter {
        let terms = column.as_ref().map_or(0, |c| c.num_terms());
        let lanes = if terms <= LANES_MAX_TERMS { LANES } else { 1 };
        FacetCounter {
            counts: vec![0; terms * lanes],
            lanes,
            column,
            rows: Vec::new(),
            row_docs: Vec::new(),
            ords: Vec::new(),
        }
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        let Some(column) = &self.column else { return };
        let ords = column.ords();
        let rows: &[u32] = match ords.get_cardinality() {
            // Every document has exactly one value: row id = doc id.
            Cardinality::Full => docs,
            _ => {
                self.rows.clear();
                self.row_docs.clear();
                ords.row_ids_for_docs(docs, &mut self.row_docs, &mut self.rows);
                &self.rows
            }
        };
        self.ords.resize(rows.len(), 0);
        ords.values.get_vals(rows, &mut self.ords);
        let counts = &mut self.counts[..];
        if self.lanes == 1 {
            for &ord in &self.ords {
                counts[ord as usize] += 1;
            }
        } else {
            for (lane, &ord) in self.ords.iter().enumerate() {
                counts[ord as usize * LANES + lane % LANES] += 1;
            }
        }
    }

    fn harvest(self) -> (Option<StrColumn>, Vec<u32>) {
        let totals = self
            .counts
            .chunks_exact(self.lanes)
            .map(|lanes| lanes.iter().sum())
            .collect();
        (self.column, totals)
    }
}

/// Per-segment state of [`PageCollector`].
pub(crate) struct PageSegmentCollector {
    segment_ord: SegmentOrdinal,
    segment_id: SegmentId,
    window: usize,
    ids: Option<StrColumn>,
    titles: Option<StrColumn>,
    heap: BinaryHeap<Candidate>,
    count: u64,
    facets: Vec<FacetCounter>,
    /// Scratch buffer of title ordinals for a block.
    block_titles: Vec<Option<u64>>,
}

impl Collector for PageCollector<'_> {
    type Fruit = Page;
    type Child = PageSegmentCollector;

    fn for_segment(
        &self,
        segment_ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<PageSegmentCollector> {
        let fast = reader.fast_fields();
        let facets = self
            .facets
            .iter()
            .map(|facet| Ok(FacetCounter::new(fast.str(&facet_field_name(*facet))?)))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let window = self.offset + self.limit;
        Ok(PageSegmentCollector {
            segment_ord,
            segment_id: reader.segment_id(),
            window,
            ids: fast.str(ID)?,
            titles: fast.str(TITLE_SORT)?,
            heap: BinaryHeap::with_capacity(window.min(1024) + 1),
            count: 0,
            facets,
            block_titles: Vec::with_capacity(BLOCK),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.by_score
    }

    /// Feeds the segment collector blocks of live documents. Tantivy's
    /// default calls `collect` once per document whenever scores are needed
    /// or documents were deleted; blocks keep column reads batched.
    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment_ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFruit> {
        let mut segment = self.for_segment(segment_ord, reader)?;
        let alive = reader.alive_bitset();
        let is_alive = |doc: DocId| alive.is_none_or(|a| a.is_alive(doc));
        if self.by_score {
            let mut docs = Vec::with_capacity(BLOCK);
            let mut scores = Vec::with_capacity(BLOCK);
            weight.for_each(reader, &mut |doc, score| {
                if is_alive(doc) {
                    docs.push(doc);
                    scores.push(score);
                    if docs.len() == BLOCK {
                        segment.collect_scored(&docs, &scores);
                        docs.clear();
                        scores.clear();
                    }
                }
            })?;
            segment.collect_scored(&docs, &scores);
        } else {
            let mut live = Vec::with_capacity(BLOCK);
            weight.for_each_no_score(reader, &mut |docs| {
                if alive.is_none() {
                    segment.collect_by_title(docs);
                } else {
                    live.clear();
                    live.extend(docs.iter().copied().filter(|&d| is_alive(d)));
                    segment.collect_by_title(&live);
                }
            })?;
        }
        Ok(segment.harvest())
    }

    fn merge_fruits(&self, mut fruits: Vec<SegmentFruit>) -> tantivy::Result<Page> {
        let total = fruits.iter().map(|f| f.count).sum::<u64>() as usize;
        let facets = self
            .facets
            .iter()
            .enumerate()
            .map(|(i, facet)| (*facet, self.merge_facet(*facet, i, &mut fruits)))
            .collect();
        Ok(Page {
            hits: self.merge_hits(&fruits),
            total,
            facets,
        })
    }
}

/// A candidate of any segment, ready to be ranked across segments.
struct Ranked {
    score: Score,
    title: Option<String>,
    title_ord: u64,
    fruit: usize,
    segment_ord: SegmentOrdinal,
    doc: DocId,
}

impl PageCollector<'_> {
    fn merge_hits(&self, fruits: &[SegmentFruit]) -> Vec<Hit> {
        let contributing = fruits.iter().filter(|f| !f.candidates.is_empty()).count();
        let mut ranked: Vec<Ranked> = Vec::new();
        for (index, fruit) in fruits.iter().enumerate() {
            // Ordinals compare only within one segment; across segments the
            // titles themselves are needed.
            let titles = match (&fruit.titles, contributing > 1) {
                (Some(column), true) => {
                    let ords: Vec<u64> = fruit.candidates.iter().map(|c| c.title_ord).collect();
                    resolve(column, &ords).into_iter().map(Some).collect()
                }
                _ => vec![None; fruit.candidates.len()],
            };
            ranked.extend(
                fruit
                    .candidates
                    .iter()
                    .zip(titles)
                    .map(|(c, title)| Ranked {
                        score: c.score,
                        title,
                        title_ord: c.title_ord,
                        fruit: index,
                        segment_ord: fruit.segment_ord,
                        doc: c.doc,
                    }),
            );
        }
        ranked.sort_unstable_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| match (&a.title, &b.title) {
                    (Some(x), Some(y)) => x.cmp(y),
                    _ => a.title_ord.cmp(&b.title_ord),
                })
                .then(a.segment_ord.cmp(&b.segment_ord))
                .then(a.doc.cmp(&b.doc))
        });
        let page: Vec<Ranked> = ranked
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect();
        // Ids are read for the returned page only, segment by segment.
        let mut ids = vec![String::new(); page.len()];
        for (index, fruit) in fruits.iter().enumerate() {
            let Some(column) = &fruit.ids else { continue };
            let positions: Vec<usize> = (0..page.len())
                .filter(|&i| page[i].fruit == index)
                .collect();
            let ords: Vec<u64> = positions
                .iter()
                .map(|&i| column.ords().first(page[i].doc).unwrap_or(u64::MAX))
                .collect();
            for (position, id) in positions.into_iter().zip(resolve(column, &ords)) {
                ids[position] = id;
            }
        }
        page.into_iter()
            .zip(ids)
            .map(|(r, id)| Hit { id, score: r.score })
            .collect()
    }

    /// Sums the counts of one facet over segments, most frequent first.
    fn merge_facet(
        &self,
        facet: Facet,
        i: usize,
        fruits: &mut [SegmentFruit],
    ) -> Vec<(String, u64)> {
        let mut per_segment = Vec::new();
        for fruit in fruits.iter_mut() {
            let (column, counts) = std::mem::take(&mut fruit.facets[i]);
            if let Some(column) = column {
                if counts.iter().any(|&c| c > 0) {
                    let values = self.facet_values.get(fruit.segment_id, facet, &column);
                    per_segment.push((values, counts));
                }
            }
        }
        let mut merged: Vec<(&str, u64)> = if per_segment.len() == 1 {
            let (values, counts) = &per_segment[0];
            counts
                .iter()
                .zip(values.iter())
                .filter(|(&c, _)| c > 0)
                .map(|(&c, v)| (v.as_str(), u64::from(c)))
                .collect()
        } else {
            let mut sums: HashMap<&str, u64> = HashMap::new();
            for (values, counts) in &per_segment {
                for (&count, value) in counts.iter().zip(values.iter()) {
                    if count > 0 {
                        *sums.entry(value.as_str()).or_default() += u64::from(count);
                    }
                }
            }
            sums.into_iter().collect()
        };
        merged.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        merged.truncate(self.facet_limit);
        merged.into_iter().map(|(v, c)| (v.to_owned(), c)).collect()
    }
}

/// Looks up the strings of term ordinals in any order, with repeats, in one
/// sequential walk of the dictionary. Unknown ordinals give empty strings.
fn resolve(column: &StrColumn, ords: &[u64]) -> Vec<String> {
    let mut unique: Vec<u64> = ords.iter().copied().filter(|&o| o != u64::MAX).collect();
    unique.sort_unstable();
    unique.dedup();
    let mut strings = Vec::with_capacity(unique.len());
    let walked = column
        .dictionary()
        .sorted_ords_to_term_cb(unique.iter().copied(), |bytes| {
            strings.push(String::from_utf8_lossy(bytes).into_owned());
            Ok(())
        });
    if let Err(error) = walked {
        tracing::warn!(%error, "cannot read a string column");
    }
    ords.iter()
        .map(|ord| {
            unique
                .binary_search(ord)
                .ok()
                .and_then(|i| strings.get(i).cloned())
                .unwrap_or_default()
        })
        .collect()
}

impl PageSegmentCollector {
    fn title_ord(&self, doc: DocId) -> u64 {
        self.titles
            .as_ref()
            .and_then(|t| t.ords().first(doc))
            .unwrap_or(u64::MAX)
    }

    fn count_block(&mut self, docs: &[DocId]) {
        self.count += docs.len() as u64;
        for facet in &mut self.facets {
            facet.collect_block(docs);
        }
    }

    /// Collects scored documents: the title is read only for documents
    /// whose score can enter the page.
    fn collect_scored(&mut self, docs: &[DocId], scores: &[Score]) {
        self.count_block(docs);
        if self.window == 0 {
            return;
        }
        for (&doc, &score) in docs.iter().zip(scores) {
            if self.heap.len() == self.window
                && self.heap.peek().is_some_and(|worst| score < worst.score)
            {
                continue;
            }
            let candidate = Candidate {
                score,
                title_ord: self.title_ord(doc),
                doc,
            };
            self.offer(candidate);
        }
    }

    /// Collects unscored documents, ordered by title.
    fn collect_by_title(&mut self, docs: &[DocId]) {
        self.count_block(docs);
        if self.window == 0 || docs.is_empty() {
            return;
        }
        let mut titles = std::mem::take(&mut self.block_titles);
        titles.clear();
        titles.resize(docs.len(), None);
        if let Some(column) = &self.titles {
            column.ords().first_vals(docs, &mut titles);
        }
        for (&doc, title) in docs.iter().zip(&titles) {
            self.offer(Candidate {
                score: 0.0,
                title_ord: title.unwrap_or(u64::MAX),
                doc,
            });
        }
        self.block_titles = titles;
    }

    #[inline]
    fn offer(&mut self, candidate: Candidate) {
        if self.heap.len() < self.window {
            self.heap.push(candidate);
        } else if let Some(mut worst) = self.heap.peek_mut() {
            if candidate < *worst {
                *worst = candidate;
            }
        }
    }
}

impl SegmentCollector for PageSegmentCollector {
    type Fruit = SegmentFruit;

    /// Only reached if tantivy bypasses [`PageCollector::collect_segment`].
    fn collect(&mut self, doc: DocId, score: Score) {
        self.collect_scored(&[doc], &[score]);
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        self.collect_by_title(docs);
    }

    fn harvest(self) -> SegmentFruit {
        SegmentFruit {
            segment_ord: self.segment_ord,
            segment_id: self.segment_id,
            count: self.count,
            candidates: self.heap.into_vec(),
            titles: self.titles,
            ids: self.ids,
            facets: self.facets.into_iter().map(FacetCounter::harvest).collect(),
        }
    }
}
