//! Tantivy schema of the index and conversion of [`Document`]s.
//!
//! Nothing is stored in the document store: ids, sort keys and facet values
//! are columnar (fast) fields, which are read without decompressing blocks
//! and keep the index small.

use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, STRING,
};
use tantivy::TantivyDocument;

use crate::analyzer::FRENCH;
use crate::{DocKind, Document, Facet};

/// Version of the schema and of the analysis chain. Bump it whenever either
/// changes: an index written with another version is wiped and rebuilt.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// Handles on the fields of the schema.
#[derive(Clone)]
pub(crate) struct Fields {
    /// `kind:id`, the unique key used to delete a document.
    pub key: Field,
    /// Kind and visibility in one term per audience, see [`scope_terms`]:
    /// every query then starts from a single posting list instead of
    /// intersecting kind, visibility and campus.
    pub scope: Field,
    /// Fast-only: read back for hits.
    pub id: Field,
    pub title: Field,
    pub body: Field,
    /// Fast-only: folded lower-case title, the sort key of match-all queries.
    pub title_sort: Field,
    /// One indexed + fast raw field per facet, in [`Facet::ALL`] order.
    pub facets: [Field; 6],
}

/// Name of the columnar field holding `facet`'s values.
pub(crate) fn facet_field_name(facet: Facet) -> String {
    format!("facet_{}", facet.as_str())
}

pub(crate) const ID: &str = "id";
pub(crate) const TITLE_SORT: &str = "title_sort";

/// Builds the schema and its field handles.
pub(crate) fn build() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    // Frequencies without positions: no phrase queries are offered, and
    // positions would roughly double the postings.
    let french = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(FRENCH)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let key = builder.add_text_field("key", STRING);
    let scope = builder.add_text_field("scope", STRING);
    let id = builder.add_text_field(ID, FAST);
    let title = builder.add_text_field("title", french.clone());
    let body = builder.add_text_field("body", french);
    let title_sort = builder.add_text_field(TITLE_SORT, FAST);
    let facets =
        Facet::ALL.map(|facet| builder.add_text_field(&facet_field_name(facet), STRING | FAST));
    let fields = Fields {
        key,
        scope,
        id,
        title,
        body,
        title_sort,
        facets,
    };
    (builder.build(), fields)
}

impl Fields {
    /// Field of `facet`.
    pub fn facet(&self, facet: Facet) -> Field {
        self.facets[facet as usize]
    }

    /// Converts a document for the writer.
    pub fn to_tantivy(&self, doc: &Document) -> TantivyDocument {
        let mut out = TantivyDocument::default();
        out.add_text(self.key, key(doc.kind, &doc.id));
        for scope in scope_terms(doc) {
            out.add_text(self.scope, scope);
        }
        out.add_text(self.id, &doc.id);
        out.add_text(self.title, &doc.title);
        out.add_text(self.body, &doc.body);
        out.add_text(self.title_sort, domain::text::fold(&doc.title));
        for (facet, value) in &doc.facets {
            out.add_text(self.facet(*facet), value);
        }
        out
    }
}

/// Unique key of a document.
pub(crate) fn key(kind: DocKind, id: &str) -> String {
    format!("{}:{id}", kind.as_str())
}

/// Who may see a document, as the queries ask for it.
pub(crate) enum Audience<'a> {
    /// Public documents of every campus and reference data.
    Public,
    /// Public documents of one campus.
    PublicOf(&'a str),
    /// All documents of one campus, private ones included.
    AllOf(&'a str),
}

/// The scope term a query of `kind` for `audience` matches.
pub(crate) fn scope_term(kind: DocKind, audience: Audience<'_>) -> String {
    let kind = kind.as_str();
    match audience {
        Audience::Public => format!("{kind}/public"),
        Audience::PublicOf(campus) => format!("{kind}/public/{campus}"),
        Audience::AllOf(campus) => format!("{kind}/campus/{campus}"),
    }
}

/// Every scope term under which `doc` must be found.
fn scope_terms(doc: &Document) -> Vec<String> {
    let mut terms = Vec::with_capacity(3);
    if doc.public {
        terms.push(scope_term(doc.kind, Audience::Public));
    }
    if let Some(campus) = &doc.campus {
        terms.push(scope_term(doc.kind, Audience::AllOf(campus)));
        if doc.public {
            terms.push(scope_term(doc.kind, Audience::PublicOf(campus)));
        }
    }
    terms
}
