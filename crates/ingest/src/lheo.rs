//! LHÉO, the French exchange format for training offers: import and export,
//! without any database.
//!
//! # Import
//!
//! [`parse_lheo`] (a byte slice) and [`parse_lheo_reader`] (any `BufRead`)
//! stream the file with quick-xml and keep one offer in memory at a time.
//! They read four dialects, told apart by the root and its namespace (see
//! [`LheoFormat`]): LHÉO 1.3 (`http://www.lheo.org/1.3.0`), 2.2
//! (`http://www.lheo.org/2.2`), 2.3 (`http://lheo.gouv.fr/2.3`) and the
//! offer summaries `lheo-leger` / `lheo-index`. Every offer becomes an
//! [`LheoOffer`] with the line where it starts.
//!
//! Problems come at two levels:
//!
//! * **structural** — XML that is not well-formed (with the line of the
//!   error), an unknown root or namespace, an element the schema requires
//!   that is missing (a formation without `intitule-formation` or without
//!   `action`, an action without `session`, a `lieu-de-formation` without
//!   `coordonnees`…), an element out of place. The file is refused with
//!   [`LheoRefused`] listing every problem; with
//!   [`ParseOptions::skip_invalid`] broken offers are rejected one by one
//!   instead, except that XML that is not well-formed always refuses the
//!   file. The rules per dialect are documented in the `structure` module
//!   and summarised in the crate's report;
//! * **data quality** — the offer is kept and a [`QualityNote`] says what is
//!   doubtful: a SIRET whose Luhn key is wrong, a commune code that is
//!   malformed or not in the current official list
//!   ([`ParseOptions::known_communes`]), a ROME code that is not a ROME 3/4
//!   code (old five-digit ROME v2 codes), a missing or malformed postcode, an
//!   invalid date, a session ending before it starts.
//!
//! Levels are mapped to the European scale by [`level_from_lheo`], the voie
//! by [`pathway_from_lheo`]. Re-imports are idempotent through
//! [`LheoOffer::key`].
//!
//! # Export
//!
//! [`write_lheo_23`] writes [`ExportOffer`]s as LHÉO 2.3 that validates
//! against the official schema; what it fills in for the elements
//! Passerelle does not store is documented on the `export` module.

mod export;
mod extract;
mod lines;
mod model;
mod reader;
mod structure;
mod tree;

use std::io::BufRead;

pub use export::{
    write_lheo_23, ExportAction, ExportOffer, ExportProvider, ExportReport, LheoExportError,
    SkippedOffer,
};
pub use extract::{level_from_lheo, pathway_from_lheo};
pub use model::{
    LheoAction, LheoAddress, LheoCertification, LheoFormat, LheoImport, LheoOffer, LheoProvider,
    LheoRefused, LheoSession, ParseOptions, Problem, QualityNote, Rejection,
};

/// Namespace of LHÉO 1.3.
pub const NS_1_3: &str = "http://www.lheo.org/1.3.0";
/// Namespace of LHÉO 2.2.
pub const NS_2_2: &str = "http://www.lheo.org/2.2";
/// Namespace of LHÉO 2.3, the one the export writes.
pub const NS_2_3: &str = "http://lheo.gouv.fr/2.3";

/// Reads an LHÉO file held in memory. See the module documentation for the
/// dialects and the two levels of problems.
pub fn parse_lheo(input: &[u8], opts: &ParseOptions<'_>) -> Result<LheoImport, LheoRefused> {
    reader::parse(input, opts)
}

/// Reads an LHÉO file from a buffered reader (a `BufReader<File>`, a
/// decompressor…) without loading it whole. An I/O error is reported as a
/// problem that refuses the file.
pub fn parse_lheo_reader<R: BufRead>(
    input: R,
    opts: &ParseOptions<'_>,
) -> Result<LheoImport, LheoRefused> {
    reader::parse(input, opts)
}
