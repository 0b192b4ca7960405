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
use tantivy::schema::document::Value;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{
    DocAddress, DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader, TantivyDocument,
    Term, TERMINATED,
};

use crate::schema::{facet_set_field_name, Fields, SET_SEPARATOR, TITLE_SORT};
use crate::{Facet, Hit, Results};

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
    pub segments: &'a SegmentCache,
    /// Reads the stored id and title of hits.
    pub searcher: &'a Searcher,
    pub fields: &'a Fields,
    /// Filters checked here rather than in the query: a collected document
    /// holds one term of each group (see [`SegmentCache::term_bits`]).
    pub required: Vec<Vec<Term>>,
}

/// The merged answer.
pub(crate) struct Page {
    pub hits: Vec<Hit>,
    pub total: usize,
    pub facets: Vec<(Facet, Vec<(String, u64)>)>,
}

impl Page {
    pub fn into_results(self, relaxed: bool) -> Results {
        Results {
            hits: self.hits,
            total: self.total,
            facets: self.facets,
            relaxed,
        }
    }
}

/// Per-segment structures derived once from the columns: the decoded value
/// sets of each facet and the documents in title order. Segments never
/// change, so an entry stays valid as long as its segment is searched;
/// entries of merged-away segments are pruned on new generations.
#[derive(Default)]
pub(crate) struct SegmentCache {
    inner: Mutex<SegmentCacheInner>,
}

#[derive(Default)]
struct SegmentCacheInner {
    generation: u64,
    values: HashMap<(SegmentId, Facet), Arc<FacetSets>>,
    title_orders: HashMap<SegmentId, Arc<[DocId]>>,
    term_bits: HashMap<(SegmentId, Term), Arc<[u64]>>,
}

/// The decoded dictionary of one facet set column.
struct FacetSets {
    /// Values of each set, by term ordinal.
    sets: Vec<Vec<String>>,
    /// True when no set holds more than one value, so that counts per set
    /// are already counts per value.
    singletons: bool,
}

impl SegmentCache {
    /// Drops the entries of segments `searcher` no longer has.
    pub fn prune(&self, searcher: &Searcher) {
        let generation = searcher.generation().generation_id();
        let mut inner = self.lock();
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
        inner
            .title_orders
            .retain(|segment, _| live.contains(segment));
        inner
            .term_bits
            .retain(|(segment, _), _| live.contains(segment));
    }

    /// The documents of a segment holding `term`, as a bitset. Used for
    /// filters most documents pass: testing a bit per matched document is
    /// much cheaper than intersecting their long posting lists. Only such
    /// dense terms are cached, a few per segment.
    fn term_bits(&self, reader: &SegmentReader, term: &Term) -> tantivy::Result<Arc<[u64]>> {
        let key = (reader.segment_id(), term.clone());
        if let Some(bits) = self.lock().term_bits.get(&key) {
            return Ok(bits.clone());
        }
        let mut bits = vec![0u64; reader.max_doc() as usize / 64 + 1];
        let postings = reader
            .inverted_index(term.field())?
            .read_postings(term, IndexRecordOption::Basic)?;
        if let Some(mut postings) = postings {
            let mut doc = postings.doc();
            while doc != TERMINATED {
                bits[doc as usize / 64] |= 1 << (doc % 64);
                doc = postings.advance();
            }
        }
        let bits: Arc<[u64]> = bits.into();
        self.lock().term_bits.insert(key, bits.clone());
        Ok(bits)
    }

    /// The documents of a segment sorted by title (then doc id), documents
    /// without a title last. Listing pages then find their first documents
    /// by walking this order instead of reading every matched title.
    fn title_order(&self, reader: &SegmentReader, column: &StrColumn) -> Arc<[DocId]> {
        let segment = reader.segment_id();
        if let Some(order) = self.lock().title_orders.get(&segment) {
            return order.clone();
        }
        let ords = column.ords();
        let mut keyed: Vec<(u64, DocId)> = (0..reader.max_doc())
            .map(|doc| (ords.first(doc).unwrap_or(u64::MAX), doc))
            .collect();
        keyed.sort_unstable();
        let order: Arc<[DocId]> = keyed.into_iter().map(|(_, doc)| doc).collect();
        self.lock().title_orders.insert(segment, order.clone());
        order
    }

    fn get(&self, segment: SegmentId, facet: Facet, column: &StrColumn) -> Arc<FacetSets> {
        let key = (segment, facet);
        if let Some(values) = self.lock().values.get(&key) {
            return values.clone();
        }
        // Decoded outside the lock; two searches may both decode it once.
        let mut sets = Vec::with_capacity(column.num_terms());
        match column.dictionary().stream() {
            Ok(mut stream) => {
                while stream.advance() {
                    let set = String::from_utf8_lossy(stream.key());
                    sets.push(
                        set.split(SET_SEPARATOR)
                            .filter(|v| !v.is_empty())
                            .map(str::to_owned)
                            .collect::<Vec<_>>(),
                    );
                }
            }
            Err(error) => tracing::warn!(%error, "cannot read facet values"),
        }
        let singletons = sets.iter().all(|set| set.len() <= 1);
        let values = Arc::new(FacetSets { sets, singletons });
        self.lock().values.insert(key, values.clone());
        values
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SegmentCacheInner> {
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
    titles: Option<StrColumn>,
    heap: BinaryHeap<Candidate>,
    count: u64,
    facets: Vec<FacetCounter>,
    /// Without scores: the segment's documents in title order, and the
    /// matched documents as a bitset to pick from that order at harvest.
    title_order: Option<Arc<[DocId]>>,
    matched: Vec<u64>,
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
            .map(|facet| Ok(FacetCounter::new(fast.str(&facet_set_field_name(*facet))?)))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let window = self.offset + self.limit;
        let titles = fast.str(TITLE_SORT)?;
        let title_order = match &titles {
            Some(column) if !self.by_score && window > 0 => {
                Some(self.segments.title_order(reader, column))
            }
            _ => None,
        };
        let matched = match title_order {
            Some(_) => vec![0; reader.max_doc() as usize / 64 + 1],
            None => Vec::new(),
        };
        Ok(PageSegmentCollector {
            segment_ord,
            segment_id: reader.segment_id(),
            window,
            titles,
            heap: BinaryHeap::with_capacity(window.min(1024) + 1),
            count: 0,
            facets,
            title_order,
            matched,
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
        let required = self
            .required
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(|term| self.segments.term_bits(reader, term))
                    .collect::<tantivy::Result<Vec<_>>>()
            })
            .collect::<tantivy::Result<Vec<_>>>()?;
        let alive = reader.alive_bitset();
        let has = |bits: &Arc<[u64]>, doc: DocId| bits[doc as usize / 64] & (1 << (doc % 64)) != 0;
        let is_alive = |doc: DocId| {
            alive.is_none_or(|a| a.is_alive(doc))
                && required
                    .iter()
                    .all(|group| group.iter().any(|bits| has(bits, doc)))
        };
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
                if alive.is_none() && required.is_empty() {
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
            hits: self.merge_hits(&fruits)?,
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
    segment_ord: SegmentOrdinal,
    doc: DocId,
}

impl PageCollector<'_> {
    fn merge_hits(&self, fruits: &[SegmentFruit]) -> tantivy::Result<Vec<Hit>> {
        let contributing = fruits.iter().filter(|f| !f.candidates.is_empty()).count();
        let mut ranked: Vec<Ranked> = Vec::new();
        for fruit in fruits {
            for c in &fruit.candidates {
                // Ordinals compare only within one segment; across segments
                // the titles themselves are needed.
                let title = if contributing > 1 {
                    Some(self.stored(fruit.segment_ord, c.doc, self.fields.title_sort)?)
                } else {
                    None
                };
                ranked.push(Ranked {
                    score: c.score,
                    title,
                    title_ord: c.title_ord,
                    segment_ord: fruit.segment_ord,
                    doc: c.doc,
                });
            }
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
        // Ids are read for the returned page only.
        ranked
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .map(|r| {
                let document: TantivyDocument =
                    self.searcher.doc(DocAddress::new(r.segment_ord, r.doc))?;
                let text = |field| {
                    document
                        .get_first(field)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_owned()
                };
                Ok(Hit {
                    id: text(self.fields.id),
                    score: r.score,
                    payload: text(self.fields.payload),
                })
            })
            .collect()
    }

    /// Reads a stored text field. The document store (lz4 blocks, with a
    /// block cache) is used rather than string columns, whose zstd blocks
    /// cost a decompression context per lookup.
    fn stored(
        &self,
        segment_ord: SegmentOrdinal,
        doc: DocId,
        field: Field,
    ) -> tantivy::Result<String> {
        let document: TantivyDocument = self.searcher.doc(DocAddress::new(segment_ord, doc))?;
        Ok(document
            .get_first(field)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned())
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
                    let values = self.segments.get(fruit.segment_id, facet, &column);
                    per_segment.push((values, counts));
                }
            }
        }
        let mut merged: Vec<(&str, u64)> = match per_segment.as_slice() {
            [(sets, counts)] if sets.singletons => counts
                .iter()
                .zip(&sets.sets)
                .filter(|(&count, set)| count > 0 && !set.is_empty())
                .map(|(&count, set)| (set[0].as_str(), u64::from(count)))
                .collect(),
            _ => {
                let mut sums: HashMap<&str, u64> = HashMap::new();
                for (sets, counts) in &per_segment {
                    for (&count, set) in counts.iter().zip(&sets.sets) {
                        if count > 0 {
                            for value in set {
                                *sums.entry(value.as_str()).or_default() += u64::from(count);
                            }
                        }
                    }
                }
                sums.into_iter().collect()
            }
        };
        let order = |a: &(&str, u64), b: &(&str, u64)| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0));
        // Facets such as providers have thousands of values: select the
        // wanted ones in linear time, then sort only those.
        if self.facet_limit == 0 {
            return Vec::new();
        }
        if merged.len() > self.facet_limit {
            merged.select_nth_unstable_by(self.facet_limit - 1, order);
            merged.truncate(self.facet_limit);
        }
        merged.sort_unstable_by(order);
        merged.into_iter().map(|(v, c)| (v.to_owned(), c)).collect()
    }
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

    /// Collects unscored documents, ordered by title: they are only marked
    /// here, the page is picked at harvest by walking the title order.
    fn collect_by_title(&mut self, docs: &[DocId]) {
        self.count_block(docs);
        if self.title_order.is_none() {
            // No title column or no page wanted: order by doc id is as good.
            for &doc in docs {
                self.offer(Candidate {
                    score: 0.0,
                    title_ord: u64::MAX,
                    doc,
                });
            }
            return;
        }
        for &doc in docs {
            self.matched[doc as usize / 64] |= 1 << (doc % 64);
        }
    }

    /// Moves the first `window` matched documents in title order to the heap.
    fn pick_by_title(&mut self) {
        let Some(order) = self.title_order.take() else {
            return;
        };
        if self.count == 0 {
            return;
        }
        if (self.count as usize).saturating_mul(32) < order.len() {
            // Few matches: reading their titles beats walking the order.
            let matched = std::mem::take(&mut self.matched);
            for (word_index, &word) in matched.iter().enumerate() {
                let mut bits = word;
                while bits != 0 {
                    let doc = (word_index * 64) as DocId + bits.trailing_zeros();
                    bits &= bits - 1;
                    let title_ord = self.title_ord(doc);
                    self.offer(Candidate {
                        score: 0.0,
                        title_ord,
                        doc,
                    });
                }
            }
            return;
        }
        let wanted = self.window.min(self.count as usize);
        for &doc in order.iter() {
            if self.matched[doc as usize / 64] & (1 << (doc % 64)) != 0 {
                let title_ord = self.title_ord(doc);
                self.heap.push(Candidate {
                    score: 0.0,
                    title_ord,
                    doc,
                });
                if self.heap.len() == wanted {
                    break;
                }
            }
        }
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

    fn harvest(mut self) -> SegmentFruit {
        self.pick_by_title();
        SegmentFruit {
            segment_ord: self.segment_ord,
            segment_id: self.segment_id,
            count: self.count,
            candidates: self.heap.into_vec(),
            facets: self.facets.into_iter().map(FacetCounter::harvest).collect(),
        }
    }
}
