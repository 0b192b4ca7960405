//! The HTTP face of Passerelle, through its router, on both backends: one
//! test binary, a module per area. Each scenario runs on a fresh
//! demonstration of its own (`support::demo`), once on SQLite and once on
//! PostgreSQL, so that a failure names one behaviour on one backend.

mod admin;
mod audit;
mod editing;
mod headers;
mod mail;
mod matrix;
mod privacy;
mod sessions;
mod site;
mod support;
mod survey;
mod tokens;
