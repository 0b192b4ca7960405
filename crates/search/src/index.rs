//! [`SearchIndex`]: opening, writing with a change-log position, searching.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tantivy::directory::MmapDirectory;
use tantivy::indexer::{LogMergePolicy, NoMergePolicy};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query as TantivyQuery,
    TermQuery,
};
use tantivy::schema::{IndexRecordOption, Schema};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, Searcher, Term};

use crate::analyzer::{self, FRENCH};
use crate::cache::{self, ResultCache};
use crate::collector::{PageCollector, SegmentCache};
use crate::schema::{self, Audience, Fields, SCHEMA_VERSION};
use crate::{
    DocKind, Document, Error, Facet, Query, Result, Results, FUZZY_MAX_DOC_FREQ, FUZZY_MIN_CHARS,
    MAX_QUERY_TERMS, MAX_WINDOW,
};

/// Total memory the writer may use before flushing a segment. Shared by its
/// threads; tantivy wants at least 15 MB per thread.
const WRITER_BUDGET: usize = 50_000_000;
const WRITER_MIN_PER_THREAD: usize = 15_000_000;

/// Boost of an exact term in the title relative to the body.
const TITLE_BOOST: f32 = 3.0;
/// Constant score of a term within one edit, in the title and in the body.
/// Kept below any BM25 score of an exact match in practice, so exact matches
/// rank first, and title over body as for exact terms.
const FUZZY_TITLE_SCORE: f32 = 0.6;
const FUZZY_BODY_SCORE: f32 = 0.2;

/// A filter passed by at least 1/`DENSE_FILTER_RATIO` of the documents is
/// checked per match of a text query instead of intersected.
const DENSE_FILTER_RATIO: u64 = 8;

/// Prefix of the commit payload; the rest is `v<schema> seq=<n> complete=<bool>`.
const PAYLOAD_PREFIX: &str = "passerelle-search";

/// What the last commit recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Payload {
    version: u32,
    seq: i64,
    /// False while the index holds only incremental changes, no full rebuild.
    complete: bool,
}

impl Payload {
    fn encode(self) -> String {
        format!(
            "{PAYLOAD_PREFIX} v{} seq={} complete={}",
            self.version, self.seq, self.complete
        )
    }

    fn decode(text: &str) -> Option<Payload> {
        let mut parts = text.split(' ');
        if parts.next()? != PAYLOAD_PREFIX {
            return None;
        }
        let version = parts.next()?.strip_prefix('v')?.parse().ok()?;
        let seq = parts.next()?.strip_prefix("seq=")?.parse().ok()?;
        let complete = parts.next()?.strip_prefix("complete=")?.parse().ok()?;
        Some(Payload {
            version,
            seq,
            complete,
        })
    }
}

/// The full-text index. `Send + Sync`: share it behind an `Arc`; searches run
/// concurrently, writes are serialised on an internal lock.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    analyzer: TextAnalyzer,
    /// Created on the first write, so servers that only search never pay for
    /// the writer's threads and memory arena.
    writer: Mutex<Option<IndexWriter>>,
    last_seq: AtomicI64,
    needs_rebuild: AtomicBool,
    cache: Mutex<ResultCache>,
    segments: SegmentCache,
}

impl SearchIndex {
    /// Opens the index stored in `dir`, creating the directory and the index
    /// when missing. An index written with another schema version, or that
    /// tantivy cannot open, is wiped and recreated empty: check
    /// [`needs_rebuild`](Self::needs_rebuild) and rebuild it from the store.
    ///
    /// Only files that belong to a tantivy index are removed when wiping.
    pub fn open(dir: &Path) -> Result<SearchIndex> {
        fs::create_dir_all(dir)?;
        let (schema, fields) = schema::build();
        let directory = MmapDirectory::open(dir)?;
        let existing = if Index::exists(&directory).map_err(tantivy::TantivyError::from)? {
            match open_compatible(directory.clone(), &schema) {
                Ok(Some(index)) => Some(index),
                Ok(None) => {
                    tracing::info!(dir = %dir.display(), "search index schema changed, recreating it");
                    None
                }
                Err(error) => {
                    tracing::warn!(dir = %dir.display(), %error, "search index unreadable, recreating it");
                    None
                }
            }
        } else {
            None
        };
        let index = match existing {
            Some(index) => index,
            None => {
                wipe(dir)?;
                Index::create(MmapDirectory::open(dir)?, schema, IndexSettings::default())?
            }
        };
        SearchIndex::from_index(index, fields)
    }

    /// Creates an empty index in memory, for tests and one-shot tools.
    pub fn in_memory() -> Result<SearchIndex> {
        let (schema, fields) = schema::build();
        SearchIndex::from_index(Index::create_in_ram(schema), fields)
    }

    fn from_index(index: Index, fields: Fields) -> Result<SearchIndex> {
        let analyzer = analyzer::french();
        index.tokenizers().register(FRENCH, analyzer.clone());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let payload = index
            .load_metas()?
            .payload
            .as_deref()
            .and_then(Payload::decode);
        let (seq, complete) = match payload {
            Some(p) if p.version == SCHEMA_VERSION => (p.seq, p.complete),
            _ => (0, false),
        };
        Ok(SearchIndex {
            index,
            reader,
            fields,
            analyzer,
            writer: Mutex::new(None),
            last_seq: AtomicI64::new(seq),
            needs_rebuild: AtomicBool::new(!complete),
            cache: Mutex::new(ResultCache::new(cache::DEFAULT_CAPACITY)),
            segments: SegmentCache::default(),
        })
    }

    /// Change-log sequence number recorded by the last commit, `0` for a new
    /// index. Apply changes with a greater sequence number to catch up.
    pub fn last_seq(&self) -> i64 {
        self.last_seq.load(Ordering::SeqCst)
    }

    /// True until a [`rebuild`](Self::rebuild) has been committed in this
    /// index: it is new, was wiped, or only ever received incremental changes.
    pub fn needs_rebuild(&self) -> bool {
        self.needs_rebuild.load(Ordering::SeqCst)
    }

    /// Replaces the whole content with `docs` in one commit recording `seq`,
    /// then merges the index into one segment for the fastest searches.
    /// Searches keep seeing the previous content until the commit. Returns the
    /// number of documents indexed.
    pub fn rebuild(&self, docs: impl Iterator<Item = Document>, seq: i64) -> Result<usize> {
        self.rebuild_from(docs.map(Ok), seq)
    }

    /// Like [`rebuild`](Self::rebuild), from a source that can fail (documents
    /// streamed from a database): the first `Err` rolls everything back and
    /// the index keeps its previous content.
    pub fn rebuild_from(
        &self,
        docs: impl Iterator<Item = std::result::Result<Document, String>>,
        seq: i64,
    ) -> Result<usize> {
        let mut guard = self.writer()?;
        let writer = writer_of(&mut guard, &self.index)?;
        // Background merges would race with the final merge of everything.
        writer.set_merge_policy(Box::new(NoMergePolicy));
        let result = (|| {
            writer.delete_all_documents()?;
            let mut count = 0;
            for doc in docs {
                writer.add_document(self.fields.to_tantivy(&doc.map_err(Error::Source)?))?;
                count += 1;
            }
            self.commit(writer, seq, true)?;
            Ok(count)
        })();
        let count = match result {
            Ok(count) => count,
            Err(error) => {
                rollback(writer);
                writer.set_merge_policy(Box::new(LogMergePolicy::default()));
                return Err(error);
            }
        };
        self.needs_rebuild.store(false, Ordering::SeqCst);
        let segments = self.index.searchable_segment_ids()?;
        if segments.len() > 1 {
            // A failed merge leaves a correct, merely slower, index.
            if let Err(error) = writer.merge(&segments).wait() {
                tracing::warn!(%error, "cannot merge the rebuilt search index");
            }
            self.reader.reload()?;
        }
        writer.set_merge_policy(Box::new(LogMergePolicy::default()));
        // The writer's indexing arena is the bulk of a rebuild's memory.
        drop(guard.take());
        tracing::info!(count, seq, "search index rebuilt");
        Ok(count)
    }

    /// Drops the writer, its threads and its memory arena (tens of MB) until
    /// the next write; servers call it when they have caught up. Waits for
    /// the writer's pending merges.
    pub fn release_writer(&self) -> Result<()> {
        // The slot stays locked until the old writer has finished merging
        // and released tantivy's directory lock: a new writer created in
        // between would fail with `LockBusy`.
        let mut slot = self.writer()?;
        if let Some(writer) = slot.take() {
            writer.wait_merging_threads()?;
        }
        Ok(())
    }

    /// Applies changes in one commit recording `seq`: `deletes` first, then
    /// each upsert replaces any document with the same kind and id. A document
    /// both deleted and upserted in the same call is therefore kept.
    pub fn apply(
        &self,
        upserts: Vec<Document>,
        deletes: Vec<(DocKind, String)>,
        seq: i64,
    ) -> Result<()> {
        if upserts.is_empty() && deletes.is_empty() && seq == self.last_seq() {
            return Ok(());
        }
        let mut guard = self.writer()?;
        let writer = writer_of(&mut guard, &self.index)?;
        let result = (|| {
            for (kind, id) in &deletes {
                writer.delete_term(self.key_term(*kind, id));
            }
            for doc in &upserts {
                writer.delete_term(self.key_term(doc.kind, &doc.id));
                writer.add_document(self.fields.to_tantivy(doc))?;
            }
            self.commit(writer, seq, !self.needs_rebuild())
        })();
        if result.is_err() {
            rollback(writer);
        }
        result
    }

    /// Runs a query; see the crate documentation for the matching rules.
    /// Answers are cached until the next commit.
    pub fn search(&self, q: &Query) -> Result<Results> {
        if q.offset.saturating_add(q.limit) > MAX_WINDOW {
            return Err(Error::InvalidQuery(format!(
                "offset + limit must not exceed {MAX_WINDOW}"
            )));
        }
        let searcher = self.reader.searcher();
        let generation = searcher.generation().generation_id();
        if let Some(results) = self.cache().get(generation, q) {
            return Ok(results);
        }
        // Facet counts do not depend on the page: turning pages of a
        // listing reuses them and only collects the new page.
        let counts_key = Query {
            offset: 0,
            limit: 0,
            ..q.clone()
        };
        let counts = if q.facets.is_empty() {
            None
        } else {
            self.cache().get(generation, &counts_key)
        };
        let results = match &counts {
            Some(counts) => {
                let page_only = Query {
                    facets: Vec::new(),
                    ..q.clone()
                };
                Results {
                    facets: counts.facets.clone(),
                    ..self.run(&searcher, &page_only)?
                }
            }
            None => self.run(&searcher, q)?,
        };
        let mut cache = self.cache();
        cache.put(generation, q, &results);
        if counts.is_none() && !q.facets.is_empty() && counts_key != *q {
            let counts = Results {
                hits: Vec::new(),
                ..results.clone()
            };
            cache.put(generation, &counts_key, &counts);
        }
        Ok(results)
    }

    /// Sets how many answers the cache keeps (default 1024); `0` disables it,
    /// which benchmarks of the raw search use.
    pub fn set_cache_capacity(&self, entries: usize) {
        self.cache().set_capacity(entries);
    }

    fn cache(&self) -> MutexGuard<'_, ResultCache> {
        // The cache is consistent after any panic: at worst an entry is missing.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn run(&self, searcher: &Searcher, q: &Query) -> Result<Results> {
        self.segments.prune(searcher);
        let mut terms = analyzer::terms(&mut self.analyzer.clone(), &q.text);
        terms.truncate(MAX_QUERY_TERMS);
        // Each group is a filter: a document must hold one of its terms.
        let mut groups = vec![vec![self.scope_term(q)]];
        for facet in Facet::ALL {
            let field = self.fields.facet(facet);
            let values: Vec<Term> = q
                .filters
                .iter()
                .filter(|(f, _)| *f == facet)
                .map(|(_, v)| Term::from_field_text(field, v))
                .collect();
            if !values.is_empty() {
                groups.push(values);
            }
        }
        let mut collector = PageCollector {
            by_score: false,
            offset: q.offset,
            limit: q.limit,
            facets: &q.facets,
            facet_limit: q.facet_limit,
            segments: &self.segments,
            required: Vec::new(),
            searcher,
            fields: &self.fields,
        };
        if terms.is_empty() {
            // The filters' posting lists drive the listing.
            let query = restricted(None, groups);
            let page = searcher.search(query.as_ref(), &collector)?;
            return Ok(page.into_results(false));
        }
        collector.by_score = true;
        // A filter most documents pass (the public scope, a common level) is
        // cheaper to check per match than to intersect; a narrow one (a
        // campus, a département) is best left in the query, where it leads.
        let mut in_query = Vec::new();
        for group in groups {
            let mut matching = 0;
            for term in &group {
                matching += searcher.doc_freq(term)?;
            }
            if matching * DENSE_FILTER_RATIO >= searcher.num_docs() {
                collector.required.push(group);
            } else {
                in_query.push(group);
            }
        }
        let words = terms
            .iter()
            .map(|t| self.word(searcher, t))
            .collect::<Result<Vec<_>>>()?;
        let all_words =
            BooleanQuery::new(words.iter().map(|w| (Occur::Must, w.box_clone())).collect());
        let query = restricted(Some(Box::new(all_words)), in_query.clone());
        let page = searcher.search(query.as_ref(), &collector)?;
        if page.total > 0 || terms.len() == 1 {
            return Ok(page.into_results(false));
        }
        let any_word = BooleanQuery::new(words.into_iter().map(|w| (Occur::Should, w)).collect());
        let query = restricted(Some(Box::new(any_word)), in_query);
        let page = searcher.search(query.as_ref(), &collector)?;
        let relaxed = page.total > 0;
        Ok(page.into_results(relaxed))
    }

    /// The term selecting the documents of `q`'s kind that its audience may
    /// see.
    fn scope_term(&self, q: &Query) -> Term {
        let audience = match (&q.campus, q.include_private) {
            (None, _) => Audience::Public,
            (Some(campus), false) => Audience::PublicOf(campus),
            (Some(campus), true) => Audience::AllOf(campus),
        };
        Term::from_field_text(self.fields.scope, &schema::scope_term(q.kind, audience))
    }

    /// Matches one analysed query term: exact in title or body, scored with
    /// BM25, or within one edit with a constant score when the term is a
    /// plausible typo (see [`FUZZY_MAX_DOC_FREQ`]).
    fn word(&self, searcher: &Searcher, term: &str) -> Result<Box<dyn TantivyQuery>> {
        let title = Term::from_field_text(self.fields.title, term);
        let body = Term::from_field_text(self.fields.body, term);
        let fuzzy = is_fuzzable(term)
            && searcher.doc_freq(&title)? + searcher.doc_freq(&body)? < FUZZY_MAX_DOC_FREQ;
        let mut clauses: Vec<(Occur, Box<dyn TantivyQuery>)> = vec![
            (
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(TermQuery::new(title.clone(), IndexRecordOption::WithFreqs)),
                    TITLE_BOOST,
                )),
            ),
            (
                Occur::Should,
                Box::new(TermQuery::new(body.clone(), IndexRecordOption::WithFreqs)),
            ),
        ];
        if fuzzy {
            // The automaton also matches the exact term; that is harmless,
            // it only adds the same small constant to every match.
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(FuzzyTermQuery::new(title, 1, true)),
                    FUZZY_TITLE_SCORE,
                )),
            ));
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(FuzzyTermQuery::new(body, 1, true)),
                    FUZZY_BODY_SCORE,
                )),
            ));
        }
        Ok(Box::new(BooleanQuery::new(clauses)))
    }

    fn key_term(&self, kind: DocKind, id: &str) -> Term {
        Term::from_field_text(self.fields.key, &schema::key(kind, id))
    }

    /// Locks the writer slot. A panic during a previous write leaves
    /// uncommitted operations behind: they are rolled back, not committed
    /// with the next batch.
    fn writer(&self) -> Result<MutexGuard<'_, Option<IndexWriter>>> {
        match self.writer.lock() {
            Ok(guard) => Ok(guard),
            Err(poisoned) => {
                let mut guard = poisoned.into_inner();
                self.writer.clear_poison();
                if let Some(writer) = guard.as_mut() {
                    rollback(writer);
                }
                Ok(guard)
            }
        }
    }

    /// Commits with the payload, then makes the commit visible to searches.
    fn commit(&self, writer: &mut IndexWriter, seq: i64, complete: bool) -> Result<()> {
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(
            &Payload {
                version: SCHEMA_VERSION,
                seq,
                complete,
            }
            .encode(),
        );
        prepared.commit()?;
        self.last_seq.store(seq, Ordering::SeqCst);
        self.reader.reload()?;
        Ok(())
    }
}

/// Creates the writer on first use.
fn writer_of<'a>(slot: &'a mut Option<IndexWriter>, index: &Index) -> Result<&'a mut IndexWriter> {
    if slot.is_none() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = cores.clamp(1, WRITER_BUDGET / WRITER_MIN_PER_THREAD);
        *slot = Some(index.writer_with_num_threads(threads, WRITER_BUDGET)?);
    }
    Ok(slot.as_mut().expect("writer just created"))
}

fn rollback(writer: &mut IndexWriter) {
    if let Err(error) = writer.rollback() {
        tracing::error!(%error, "cannot roll back the search index writer");
    }
}

/// Opens the index in `directory` when its schema and payload version are
/// the current ones.
fn open_compatible(directory: MmapDirectory, schema: &Schema) -> Result<Option<Index>> {
    let index = Index::open(directory)?;
    if index.schema() != *schema {
        return Ok(None);
    }
    let payload = index.load_metas()?.payload;
    match payload.as_deref().map(Payload::decode) {
        // Created but never committed: same schema, nothing to lose.
        None => Ok(Some(index)),
        Some(Some(p)) if p.version == SCHEMA_VERSION => Ok(Some(index)),
        Some(_) => Ok(None),
    }
}

/// Removes the files of a tantivy index from `dir`, and nothing else: the
/// metadata files, lock files and segment files named after a 32-hex uuid.
fn wipe(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let stem = name.split('.').next().unwrap_or("");
        let is_segment = stem.len() == 32 && stem.bytes().all(|b| b.is_ascii_hexdigit());
        let is_meta = matches!(
            name,
            "meta.json" | ".managed.json" | ".tantivy-meta.lock" | ".tantivy-writer.lock"
        );
        if (is_segment || is_meta) && entry.file_type()?.is_file() {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Combines `matching` with filter groups (a document must hold one term of
/// each group). Filters score zero so that they do not disturb relevance.
fn restricted(
    matching: Option<Box<dyn TantivyQuery>>,
    groups: Vec<Vec<Term>>,
) -> Box<dyn TantivyQuery> {
    let mut filters: Vec<Box<dyn TantivyQuery>> = groups
        .into_iter()
        .map(|mut group| -> Box<dyn TantivyQuery> {
            if group.len() == 1 {
                raw_term(group.pop().expect("one term"))
            } else {
                Box::new(BooleanQuery::new(
                    group
                        .into_iter()
                        .map(|t| (Occur::Should, raw_term(t)))
                        .collect(),
                ))
            }
        })
        .collect();
    let matching = match matching {
        None if filters.len() == 1 => return filters.pop().expect("one filter"),
        Some(matching) if filters.is_empty() => return matching,
        matching => matching,
    };
    let mut clauses: Vec<(Occur, Box<dyn TantivyQuery>)> = Vec::with_capacity(filters.len() + 1);
    clauses.extend(matching.map(|m| (Occur::Must, m)));
    clauses.extend(filters.into_iter().map(|f| {
        (
            Occur::Must,
            Box::new(ConstScoreQuery::new(f, 0.0)) as Box<dyn TantivyQuery>,
        )
    }));
    Box::new(BooleanQuery::new(clauses))
}

fn raw_term(term: Term) -> Box<dyn TantivyQuery> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

/// Whether a query term may also match within one edit: long enough for a
/// typo to be likely rather than another word, and not a code.
fn is_fuzzable(term: &str) -> bool {
    term.chars().count() >= FUZZY_MIN_CHARS && !term.chars().any(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips() {
        let p = Payload {
            version: 3,
            seq: -1,
            complete: true,
        };
        assert_eq!(Payload::decode(&p.encode()), Some(p));
        assert_eq!(Payload::decode("Segments Merge: [abc]"), None);
    }

    #[test]
    fn fuzzes_only_long_words() {
        assert!(is_fuzzable("auxiliair"));
        assert!(!is_fuzzable("bts"));
        assert!(!is_fuzzable("m1805"));
    }
}
