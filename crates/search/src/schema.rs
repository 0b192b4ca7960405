//! Tantivy schema of the index and conversion of [`Document`]s.
//!
//! Sort keys and facet values are columnar (fast) fields, read for every
//! matched document. Only the id and the title sort key are stored, read for
//! the few documents of a returned page.

use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, STORED, STRING,
};
use tantivy::TantivyDocument;

use crate::analyzer::FRENCH;
use crate::{DocKind, Document, Facet};

/// Version of the schema and of the analysis chain. Bump it whenever either
/// changes: an index written with another version is wiped and rebuilt.
pub(crate) const SCHEMA_VERSION: u32 = 2;

/// Handles on the fields of the schema.
#[derive(Clone)]
pub(crate) struct Fields {
    /// `kind:id`, the unique key used to delete a document.
    pub key: Field,
    /// Kind and visibility in one term per audience, see [`scope_terms`]:
    /// every query then starts from a single posting list instead of
    /// intersecting kind, visibility and campus.
    pub scope: Field,
    /// Stored only: read back for the hits of the returned page.
    pub id: Field,
    pub title: Field,
    pub body: Field,
    /// Folded lower-case title, the sort key of queries without text: fast
    /// for sorting within a segment, stored for comparing across segments.
    pub title_sort: Field,
    /// Stored only: the caller's row for result lists (`Document::payload`).
    pub payload: Field,
    /// One indexed raw field per facet, in [`Facet::ALL`] order, for filters.
    pub facets: [Field; 6],
    /// One fast-only field per facet holding the document's *set* of values
    /// as a single string (see [`facet_set`]), for counting.
    pub facet_sets: [Field; 6],
}

/// Name of the indexed field holding `facet`'s values.
fn facet_field_name(facet: Facet) -> String {
    format!("facet_{}", facet.as_str())
}

/// Name of the columnar field holding `facet`'s value sets.
pub(crate) fn facet_set_field_name(facet: Facet) -> String {
    format!("facet_{}_set", facet.as_str())
}

/// Separates the values of a facet set; a control character no facet value
/// contains.
pub(crate) const SET_SEPARATOR: char = '\u{1f}';

/// Encodes the values of one facet of a document as one string: sorted,
/// without duplicates, joined by [`SET_SEPARATOR`], empty when there is none.
///
/// Every document then has exactly one value in every facet column, the
/// case columnar storage reads fastest, even for multi-valued facets such as
/// modalities or documents without a value; counts per value are recovered
/// from the counts per set when merging.
fn facet_set(doc: &Document, facet: Facet) -> String {
    let mut values: Vec<&str> = doc
        .facets
        .iter()
        .filter(|(f, _)| *f == facet)
        .map(|(_, v)| v.as_str())
        .collect();
    values.sort_unstable();
    values.dedup();
    let mut out = String::new();
    for (i, value) in values.into_iter().enumerate() {
        if i > 0 {
            out.push(SET_SEPARATOR);
        }
        out.extend(value.chars().filter(|&c| c != SET_SEPARATOR));
    }
    out
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
    let id = builder.add_text_field(ID, STORED);
    let title = builder.add_text_field("title", french.clone());
    let body = builder.add_text_field("body", french);
    let title_sort = builder.add_text_field(TITLE_SORT, FAST | STORED);
    // Stored only: results are hydrated from it (see `Document::payload`).
    let payload = builder.add_text_field("payload", STORED);
    let facets = Facet::ALL.map(|facet| builder.add_text_field(&facet_field_name(facet), STRING));
    let facet_sets =
        Facet::ALL.map(|facet| builder.add_text_field(&facet_set_field_name(facet), FAST));
    let fields = Fields {
        key,
        scope,
        id,
        title,
        body,
        title_sort,
        payload,
        facets,
        facet_sets,
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
        if !doc.payload.is_empty() {
            out.add_text(self.payload, &doc.payload);
        }
        for (facet, value) in &doc.facets {
            out.add_text(self.facet(*facet), value);
        }
        for facet in Facet::ALL {
            out.add_text(self.facet_sets[facet as usize], facet_set(doc, facet));
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

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::columnar::Cardinality;

    #[test]
    fn facet_sets_are_sorted_unique_and_always_present() {
        let mut doc = Document {
            kind: DocKind::Formation,
            id: "1".into(),
            title: "T".into(),
            body: String::new(),
            facets: vec![
                (Facet::Modality, "hybride".into()),
                (Facet::Modality, "distanciel".into()),
                (Facet::Modality, "hybride".into()),
            ],
            campus: None,
            public: true,
            payload: String::new(),
        };
        assert_eq!(facet_set(&doc, Facet::Modality), "distanciel\u{1f}hybride");
        assert_eq!(facet_set(&doc, Facet::Level), "");

        // Documents without a value still have one (empty) set, so that the
        // columns stay in their fastest, one-value-per-document layout.
        let (schema, fields) = build();
        let index = tantivy::Index::create_in_ram(schema);
        index
            .tokenizers()
            .register(crate::analyzer::FRENCH, crate::analyzer::french());
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        writer.add_document(fields.to_tantivy(&doc)).unwrap();
        doc.facets.clear();
        writer.add_document(fields.to_tantivy(&doc)).unwrap();
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let fast = searcher.segment_reader(0).fast_fields();
        for facet in Facet::ALL {
            let column = fast.str(&facet_set_field_name(facet)).unwrap().unwrap();
            assert_eq!(
                column.ords().get_cardinality(),
                Cardinality::Full,
                "{facet:?}"
            );
        }
        let title = fast.str(TITLE_SORT).unwrap().unwrap();
        assert_eq!(title.ords().get_cardinality(), Cardinality::Full);
    }
}
