//! The network in HTTP: campuses, member organisations and their contacts,
//! a campus' journal — pages (`pages`), browser editing (`edit`) and the
//! JSON API (`api`).

pub(crate) mod api;
mod edit;
mod pages;

pub(crate) use pages::member_query;

/// The network's pages and forms.
pub(crate) fn routes(r: crate::Routes) -> crate::Routes {
    edit::routes(pages::routes(r))
}
