//! What the imports of every area share: their error, their report, their
//! audit entry, reading a spreadsheet and refusing its cells. Each file is
//! imported in one transaction: refused as a whole, or stored as a whole.

use ingest::sheet::{self, CellError, Table};
use store::{DatasetOutcome, Upsert};

use crate::audit::Event;
use crate::AppError;

/// What happened to one reference data set.
#[derive(Debug, Clone)]
pub struct DatasetReport {
    pub name: String,
    pub title: String,
    pub version: String,
    pub outcome: DatasetOutcome,
    pub counts: Vec<(&'static str, usize)>,
    /// Data-quality issues found in the files (codes left out of links…).
    pub issues: Vec<domain::refdata::QualityIssue>,
}

/// Why an import was refused, with every problem found.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read or parsed; nothing was stored.
    #[error("{file} refusé :\n{}", problems.join("\n"))]
    Refused { file: String, problems: Vec<String> },
    /// Something else failed; nothing was stored.
    #[error("{0}")]
    Failed(String),
}

/// The spreadsheet formats of imports and exports.
pub use ingest::sheet::SheetFormat;

/// A table written as a file of `format` (CSV: `;`, UTF-8 with BOM; XLSX;
/// ODS), cells that look like formulas escaped.
pub(crate) fn table_bytes(table: &Table, format: SheetFormat) -> Result<Vec<u8>, AppError> {
    let mut out = Vec::new();
    sheet::write_table(table, format, &mut out).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(out)
}

impl ImportError {
    /// A file refused for the typed problems its reader found.
    pub(crate) fn refused(file: &str, problems: &[ingest::Problem]) -> Self {
        Self::Refused {
            file: file.to_owned(),
            problems: problems.iter().map(ToString::to_string).collect(),
        }
    }
}

impl From<AppError> for ImportError {
    fn from(e: AppError) -> Self {
        ImportError::Failed(match e {
            AppError::Store(s) => s.to_string(),
            AppError::Search(s) => s.to_string(),
            other => other.to_string(),
        })
    }
}

impl From<store::StoreError> for ImportError {
    fn from(e: store::StoreError) -> Self {
        ImportError::Failed(e.to_string())
    }
}

/// Counts of what an import of campus data did.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Outside organisations created for providers that are not members.
    pub outside_created: Vec<String>,
    /// Offers rejected under `--skip-invalid`, with line and reasons.
    pub rejected: Vec<String>,
    /// Data-quality problems that did not block the import.
    pub quality: Vec<String>,
}

impl ImportReport {
    pub(crate) fn count(&mut self, u: Upsert) {
        match u {
            Upsert::Created(_) => self.created += 1,
            Upsert::Updated(_) => self.updated += 1,
            Upsert::Unchanged(_) => self.unchanged += 1,
        }
    }

    /// True when the import wrote nothing.
    pub fn changed_nothing(&self) -> bool {
        self.created == 0 && self.updated == 0 && self.outside_created.is_empty()
    }
}

/// The audit entry of an import: the file and what it did (no personal
/// data: contacts are not counted by name).
pub(crate) fn import_event(
    action: &str,
    campus_id: i64,
    file: &str,
    report: &ImportReport,
) -> Event {
    let mut event = Event::new(action).detail(serde_json::json!({
        "file": file,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": report.rejected.len(),
    }));
    event.campus_id = Some(campus_id);
    event
}

/// Reads a spreadsheet (CSV, XLSX, ODS), one problem per line when refused.
pub(crate) fn read_sheet(file: &str, bytes: &[u8]) -> Result<Table, ImportError> {
    // One problem per line: a malformed CSV lists every bad row.
    let refused = |e: sheet::SheetError| ImportError::Refused {
        file: file.to_owned(),
        problems: e
            .to_string()
            .lines()
            .map(|l| format!("{file}: {l}"))
            .collect(),
    };
    let format = SheetFormat::detect(file, bytes).map_err(refused)?;
    sheet::read_table(bytes, format).map_err(refused)
}

pub(crate) fn refused_cells(file: &str, errors: &[CellError]) -> ImportError {
    ImportError::Refused {
        file: file.to_owned(),
        problems: sheet::format_cell_errors(file, errors)
            .lines()
            .map(str::to_owned)
            .collect(),
    }
}

/// SQLite page cache (MiB) of a campus-data import: enough to hold the pages
/// that 200,000 formations or members dirty (about 110 MB), so that they
/// are written once, at commit, not spilled to the WAL again and again.
pub(crate) const IMPORT_CACHE_MIB: u32 = 256;

/// Formations of an import prepared and written at a time (the store
/// writes them in chunks of 1,000 statements' worth).
pub(crate) const WRITE_SLICE: usize = 5_000;
