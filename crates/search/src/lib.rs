//! Full-text index of Passerelle: formations, occupations (ROME métiers with
//! their appellations), members and certifications, searched in French.
//!
//! # Overview
//!
//! ```text
//! SearchIndex::open(dir) / SearchIndex::in_memory()
//!   .needs_rebuild() -> bool         true until a full rebuild has been committed
//!   .last_seq() -> i64               change-log position of the last commit (0 when new)
//!   .rebuild(docs, seq) -> usize     replace everything, one commit, records `seq`
//!   .apply(upserts, deletes, seq)    one commit, records `seq`
//!   .search(&Query) -> Results       hits, exact total, facet counts
//!   .set_cache_capacity(n)           answers cached until the next commit (default 1024)
//! ```
//!
//! Each server keeps its own index and follows the change log kept in the
//! database. The sequence number of the last applied change is written in the
//! tantivy commit payload, atomically with the documents it covers, so after a
//! crash or a restart the caller resumes from [`SearchIndex::last_seq`]
//! without missing or double-applying anything. Merges keep the payload. The
//! payload also records the schema version, and whether a full rebuild was
//! ever committed ([`SearchIndex::needs_rebuild`]).
//!
//! # Text matching
//!
//! Titles and bodies go through one French analyzer: words split on
//! punctuation, elided particles (`l'`, `d'`, `qu'`, `jusqu'`…) dropped, lower
//! case, ascii folding, a short stop list (`de`, `la`, `pour`…) and the snowball
//! French stemmer. The query text goes through the same analyzer, so searches
//! are accent-insensitive both ways and singular/plural-insensitive.
//!
//! Every query term becomes a clause matching the exact term in the title
//! (boost 3) or the body (boost 1), scored with BM25. Terms of at least
//! [`FUZZY_MIN_CHARS`] characters, without digits, and found in fewer than
//! [`FUZZY_MAX_DOC_FREQ`] documents also match any term at Levenshtein
//! distance 1 (a transposition counts as one edit) with a small constant
//! score, so one typo is forgiven while exact matches always rank first.
//! Codes such as `M1805` are never fuzzed: a neighbouring code is a
//! different thing, not a typo.
//!
//! All terms must match (AND). When that finds nothing and the query has
//! several terms, the search is run again requiring any term (OR), ranked by
//! score so documents matching more terms come first, and
//! [`Results::relaxed`] tells the caller so that it can say « no result for
//! all words, showing close matches ». A text with no meaningful term (empty,
//! or only stop words) matches every document of the kind, sorted by title.
//! Hits with a text query are sorted by score, ties broken by title.
//!
//! # Filters, facets and visibility
//!
//! Filters are exact values. Values of one facet are OR-ed (`Departement` 973
//! or 971), different facets are AND-ed. Facet counts are computed over the
//! matched set, after filters and visibility rules, in the same pass as the
//! hits, from columnar (fast) fields.
//!
//! A private document (`public == false`) is returned only when the query sets
//! `include_private` *and* names the campus that owns it; `campus: Some(..)`
//! also restricts the results to that campus' documents.
//!
//! # Performance
//!
//! Every query computes an exact total and facet counts, so it visits every
//! matching document; no top-k pruning applies. What keeps that cheap:
//!
//! - kind and audience are one indexed *scope* term per document and
//!   audience (`formation/public`, `formation/campus/<slug>`…), so a query
//!   starts from one posting list instead of intersecting three;
//! - in text queries, filters that most documents pass (the public scope, a
//!   common level) are tested per match against a cached per-segment bitset
//!   rather than intersected; narrow ones stay in the query, where they lead;
//! - a single collector counts the total, the facets and the page in one
//!   pass, reading columns a block of documents at a time; each facet column
//!   holds one string per document, the *set* of its values, so that every
//!   column has the fastest one-value-per-document layout even for
//!   multi-valued facets;
//! - queries without text pick their page by walking a cached per-segment
//!   title order instead of reading every matched title;
//! - ids are read from the document store for the returned page only;
//! - whole answers are cached until the next commit, like Elasticsearch's
//!   request cache: listing pages, the heaviest requests, are also the most
//!   repeated ones. Followers that batch the change log (one commit per few
//!   seconds) keep that cache effective.
//!
//! `examples/bulk.rs` indexes synthetic formations and measures all this.

#![warn(missing_docs)]

mod analyzer;
mod cache;
mod collector;
mod index;
mod schema;

use serde::{Deserialize, Serialize};

pub use index::SearchIndex;

/// Query terms shorter than this (in characters, after stemming) must match
/// exactly: one edit on a short word makes another word.
pub const FUZZY_MIN_CHARS: usize = 5;

/// Query terms found in at least this many documents match exactly only.
/// A frequent term is almost surely spelled as meant, and its neighbours at
/// one edit are other words (`soudeur`, `sondeur`); skipping them also
/// spares scanning their postings for the most common words. Typos are rare
/// terms, so they keep their tolerance.
pub const FUZZY_MAX_DOC_FREQ: u64 = 1_000;

/// Largest `offset + limit` a query may ask for; deeper pages cost memory and
/// nobody reads them.
pub const MAX_WINDOW: usize = 10_000;

/// Distinct query terms beyond this many are ignored: a pasted paragraph
/// must not cost a clause per word.
pub const MAX_QUERY_TERMS: usize = 16;

/// Default number of values returned per facet, see [`Query::facet_limit`].
pub const DEFAULT_FACET_LIMIT: usize = 100;

/// Errors of the search index.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Tantivy failed (I/O, corrupted segment, lock held by another process…).
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The index directory could not be opened.
    #[error("cannot open the search index directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    /// Reading or cleaning the index directory failed.
    #[error("search index i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The query asks for something the index refuses to compute.
    #[error("invalid search query: {0}")]
    InvalidQuery(String),
    /// The documents given to a rebuild could not be read.
    #[error("cannot read the documents to index: {0}")]
    Source(String),
}

/// Result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The kind of an indexed document; every query targets exactly one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// A training offer (formation).
    Formation,
    /// A ROME métier; its appellations go in the body.
    Occupation,
    /// A member organisation of a campus.
    Member,
    /// A certification (RNCP, RS, diplôme).
    Certification,
}

impl DocKind {
    /// All kinds, in declaration order.
    pub const ALL: [DocKind; 4] = [
        DocKind::Formation,
        DocKind::Occupation,
        DocKind::Member,
        DocKind::Certification,
    ];

    /// Stable lower-case name, as stored in the index.
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Formation => "formation",
            DocKind::Occupation => "occupation",
            DocKind::Member => "member",
            DocKind::Certification => "certification",
        }
    }
}

/// A facet: a field with exact values that can be filtered on and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Facet {
    /// Certification level (niveau 3 to 8).
    Level,
    /// Voie: scolaire, apprentissage, continue, VAE.
    Pathway,
    /// Présentiel, distanciel, hybride.
    Modality,
    /// Département code (`973`, `2A`…).
    Departement,
    /// Provider (organisation) of a formation.
    Provider,
    /// Kind of a member organisation.
    Kind,
}

impl Facet {
    /// All facets, in declaration order.
    pub const ALL: [Facet; 6] = [
        Facet::Level,
        Facet::Pathway,
        Facet::Modality,
        Facet::Departement,
        Facet::Provider,
        Facet::Kind,
    ];

    /// Stable lower-case name, as used in URLs and in the index schema.
    pub fn as_str(self) -> &'static str {
        match self {
            Facet::Level => "level",
            Facet::Pathway => "pathway",
            Facet::Modality => "modality",
            Facet::Departement => "departement",
            Facet::Provider => "provider",
            Facet::Kind => "kind",
        }
    }

    /// Parses the name returned by [`Facet::as_str`].
    pub fn parse(name: &str) -> Option<Facet> {
        Facet::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// A document to index. `(kind, id)` identifies it: upserting the same pair
/// replaces the previous version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Kind of the document.
    pub kind: DocKind,
    /// Identifier, unique within the kind, returned in [`Hit::id`].
    pub id: String,
    /// Title: matches here weigh three times more, and it is the sort key of
    /// queries without text.
    pub title: String,
    /// Extra searchable text: appellations, description, provider, commune…
    pub body: String,
    /// Facet values; a facet may have several values (e.g. two modalities).
    pub facets: Vec<(Facet, String)>,
    /// Slug of the campus owning the document, `None` for reference data.
    pub campus: Option<String>,
    /// Whether visitors may find it.
    pub public: bool,
    /// Opaque text stored with the document and returned in [`Hit::payload`],
    /// not searched. Callers keep there what a result list shows, so that a
    /// page of hits needs no second lookup in the database.
    pub payload: String,
}

/// A search request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Query {
    /// Kind of documents searched.
    pub kind: DocKind,
    /// Text typed by the user; empty means every document of the kind.
    pub text: String,
    /// Exact facet filters: OR within a facet, AND across facets.
    pub filters: Vec<(Facet, String)>,
    /// Restrict to this campus' documents when set.
    pub campus: Option<String>,
    /// Also return private documents; only effective together with `campus`.
    pub include_private: bool,
    /// Number of hits skipped (pagination).
    pub offset: usize,
    /// Number of hits returned; `0` computes only the total and facets.
    pub limit: usize,
    /// Facets whose value counts are computed, in this order.
    pub facets: Vec<Facet>,
    /// Maximum number of values per facet (the most frequent first).
    pub facet_limit: usize,
}

impl Query {
    /// A query for `kind` and `text` with no filter, public documents only,
    /// first 20 hits, no facet counts.
    pub fn new(kind: DocKind, text: impl Into<String>) -> Query {
        Query {
            kind,
            text: text.into(),
            filters: Vec::new(),
            campus: None,
            include_private: false,
            offset: 0,
            limit: 20,
            facets: Vec::new(),
            facet_limit: DEFAULT_FACET_LIMIT,
        }
    }
}

/// One matching document.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// [`Document::id`] of the match.
    pub id: String,
    /// Relevance; `0` for queries without text, which are sorted by title.
    pub score: f32,
    /// [`Document::payload`] of the match, as indexed.
    pub payload: String,
}

/// Answer to a [`Query`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Results {
    /// The requested page of hits.
    pub hits: Vec<Hit>,
    /// Exact number of matching documents.
    pub total: usize,
    /// Value counts of the requested facets, in the requested order; values
    /// sorted by decreasing count, then by value.
    pub facets: Vec<(Facet, Vec<(String, u64)>)>,
    /// True when no document matched all the words and the hits match only
    /// some of them (see the crate documentation).
    pub relaxed: bool,
}
