//! Readers of the files Passerelle imports: LHÉO offers, spreadsheets, reference data,
//! tension indicators and job postings.
mod csv_read;
pub mod inserjeunes;
pub mod lheo;
pub mod limits;
pub mod postings;
mod problem;
pub mod referentiels;
pub mod sheet;
pub mod tension;

pub use problem::Problem;
