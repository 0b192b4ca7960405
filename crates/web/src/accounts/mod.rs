//! Accounts in HTTP: signing in and out, the second factor, one's own
//! account page (`pages`), and who a token belongs to (`api`). Sessions and
//! the request's actor are read by `auth`.

pub(crate) mod api;
mod pages;

pub(crate) use pages::routes;
