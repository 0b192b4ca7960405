//! The catalogue in HTTP: formations and their sessions, ROME fiches,
//! certifications — pages (`pages`), browser editing (`edit`) and the JSON
//! API (`api`).

pub(crate) mod api;
mod edit;
mod pages;

pub(crate) use pages::catalogue_query;

/// The catalogue's pages and forms.
pub(crate) fn routes(r: crate::Routes) -> crate::Routes {
    edit::routes(pages::routes(r))
}
