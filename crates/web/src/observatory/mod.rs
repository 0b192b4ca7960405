//! The observatory in HTTP: a campus' page with its charts and exports
//! (`pages`) and its JSON (`api`).

pub(crate) mod api;
mod pages;

pub(crate) use pages::routes;
