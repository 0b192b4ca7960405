//! Types and rules of Passerelle: French identifiers, codes, enumerations and
//! text normalisation. This crate does no I/O and knows nothing of storage or
//! HTTP, so every rule here is testable on its own.

pub mod accounts;
pub mod audit;
pub mod checksum;
pub mod ids;
pub mod model;
pub mod network;
pub mod observatory;
pub mod postings;
pub mod refdata;
pub mod skills;
pub mod survey;
pub mod tension;
pub mod text;
pub mod visibility;

pub use ids::{CodeInsee, CodeRome, IdError, Siret, Uai};
pub use model::*;
