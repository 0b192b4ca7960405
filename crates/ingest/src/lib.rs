//! placeholder
pub mod lheo;
pub mod referentiels;
pub mod sheet;
pub mod tension;
