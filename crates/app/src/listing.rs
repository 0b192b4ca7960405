//! What the searches of every area share: pages of results with facet
//! counts, labels of facet values, rows read back from the index, and
//! whether the actor sees a campus' drafts.

use serde::Serialize;

use search::Facet;

use crate::policy::{allows, Action, Actor, Resource};
use crate::{App, AppError};

/// Results per page in listings.
pub const PER_PAGE: usize = 20;

/// One page of search results with facet counts.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: usize,
    /// 1-based page number.
    pub page: usize,
    pub pages: usize,
    pub facets: Vec<FacetView>,
    /// True when no result matched every word and close matches are shown.
    pub relaxed: bool,
}

/// Counts of one facet, ready to show.
#[derive(Debug, Clone, Serialize)]
pub struct FacetView {
    /// Query parameter name (`niveau`, `voie`…).
    pub param: &'static str,
    pub label: &'static str,
    pub values: Vec<FacetValue>,
}

/// One value of a facet.
#[derive(Debug, Clone, Serialize)]
pub struct FacetValue {
    pub value: String,
    pub label: String,
    pub count: u64,
    pub selected: bool,
}

/// Query parameter name and French label of each facet.
pub fn facet_names(f: Facet) -> (&'static str, &'static str) {
    match f {
        Facet::Level => ("niveau", "Niveau"),
        Facet::Pathway => ("voie", "Voie"),
        Facet::Modality => ("modalite", "Modalité"),
        Facet::Departement => ("departement", "Département"),
        Facet::Provider => ("organisme", "Organisme"),
        Facet::Kind => ("type", "Type"),
    }
}

pub(crate) fn facet_value_label(f: Facet, v: &str, departements: &[(String, String)]) -> String {
    match f {
        Facet::Level => v
            .parse()
            .ok()
            .and_then(domain::Level::new)
            .map(|l| l.label().to_owned())
            .unwrap_or_else(|| v.to_owned()),
        Facet::Pathway => domain::Pathway::parse(v).map_or(v.to_owned(), |p| p.label().to_owned()),
        Facet::Modality => {
            domain::Modality::parse(v).map_or(v.to_owned(), |p| p.label().to_owned())
        }
        Facet::Kind => domain::MemberKind::parse(v).map_or(v.to_owned(), |p| p.label().to_owned()),
        Facet::Departement => departements
            .iter()
            .find(|(c, _)| c == v)
            .map_or(v.to_owned(), |(c, n)| format!("{n} ({c})")),
        Facet::Provider => v.to_owned(),
    }
}

/// The rows of a page of hits, read from the payloads the indexer stored
/// with them (the search path then makes no database round trip). `None`
/// when a payload is missing or unreadable, e.g. written by an older
/// version: the caller reads the rows from the store instead. Rows are as
/// fresh as the index, which follows the change log within seconds.
pub(crate) fn hydrate<T: serde::de::DeserializeOwned>(res: &search::Results) -> Option<Vec<T>> {
    res.hits
        .iter()
        .map(|h| serde_json::from_str(&h.payload).ok())
        .collect()
}

pub(crate) fn pages(total: usize) -> usize {
    total.div_ceil(PER_PAGE).max(1)
}

impl App {
    /// Whether a search restricted to campus `slug` includes its drafts and
    /// private organisations: only for those who may read the whole campus'
    /// private data. Searches across campuses only ever show public data.
    pub(crate) async fn sees_campus_drafts(
        &self,
        actor: &Actor,
        slug: Option<&str>,
    ) -> Result<bool, AppError> {
        let Some(slug) = slug else {
            return Ok(false);
        };
        if actor.is_visitor() {
            return Ok(false);
        }
        let campus = self.campus(slug).await?;
        Ok(allows(
            actor,
            Action::ReadPrivate,
            Resource::Campus(campus.id),
        ))
    }

    /// Facet counts ready to show, with the chosen values ticked.
    pub(crate) async fn facet_views(
        &self,
        res: &search::Results,
        selected: &[(Facet, &Vec<String>)],
    ) -> Result<Vec<FacetView>, AppError> {
        let departements = self.departement_names().await?;
        Ok(res
            .facets
            .iter()
            .map(|(f, counts)| {
                let (param, label) = facet_names(*f);
                let chosen = selected
                    .iter()
                    .find(|(sf, _)| sf == f)
                    .map(|(_, v)| (*v).clone())
                    .unwrap_or_default();
                let mut values: Vec<FacetValue> = counts
                    .iter()
                    .map(|(v, n)| FacetValue {
                        label: facet_value_label(*f, v, &departements),
                        selected: chosen.contains(v),
                        value: v.clone(),
                        count: *n,
                    })
                    .collect();
                if *f == Facet::Level {
                    values.sort_by(|a, b| a.value.cmp(&b.value));
                }
                FacetView {
                    param,
                    label,
                    values,
                }
            })
            .collect())
    }
}
