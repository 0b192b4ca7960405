//! Spreadsheets kept by campuses: reading and writing plain tables in CSV,
//! XLSX and ODS, and turning them into validated members and formations.
//!
//! Reading is in two steps so that each can be tested and reused on its own:
//! [`read_table`] turns a file into a [`Table`] of strings that remembers the
//! line each row came from, then [`members_from_table`] or
//! [`formations_from_table`] check every cell against the domain rules and
//! collect every problem of the file at once, each with its line and column.
//! Nothing here touches a database: the caller decides what to store.
//!
//! Exports go the other way ([`members_to_table`], [`formations_to_table`],
//! then [`write_table`]) with the same columns, so that an exported file can
//! be edited and imported again.

#![warn(missing_docs)]

mod archive;
mod columns;
mod csv_io;
mod formations;
mod members;
mod ods_write;
mod workbook;

use std::io::Write;
use std::path::Path;

use domain::text::{spreadsheet_safe, spreadsheet_unescape};

use crate::csv_read::check_cell;
use crate::limits::{thousands, MAX_CELLS};

pub use columns::{format_cell_errors, CellError, Column, FORMATION_COLUMNS, MEMBER_COLUMNS};
pub use formations::{
    formations_from_table, formations_to_table, FormationExport, FormationRow, ProviderRef,
};
pub use members::{members_from_table, members_to_table};

/// A sheet read from a file: a header row and data rows of text cells.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    /// Line of the header row as the user sees it (1 unless the sheet starts
    /// with blank rows).
    pub header_line: usize,
    /// Header cells, trimmed, trailing empty ones removed.
    pub headers: Vec<String>,
    /// Data rows in file order; fully blank rows are left out.
    pub rows: Vec<Row>,
}

impl Table {
    /// Builds a table whose header is on line 1 and whose rows follow it
    /// without gaps, as an export produces.
    pub fn new(headers: Vec<String>, cells: Vec<Vec<String>>) -> Self {
        let rows = cells
            .into_iter()
            .enumerate()
            .map(|(i, cells)| Row { line: i + 2, cells })
            .collect();
        Self {
            header_line: 1,
            headers,
            rows,
        }
    }
}

/// One data row of a [`Table`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line (CSV) or row number (XLSX, ODS) where the row starts, as
    /// the user sees it in a text editor or spreadsheet; the header is line 1.
    pub line: usize,
    /// Cells, at least as many as headers (short rows are padded with empty
    /// strings); more only when cells were filled beyond the last header.
    pub cells: Vec<String>,
}

/// A spreadsheet file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SheetFormat {
    /// Comma- or semicolon-separated values, UTF-8.
    Csv,
    /// Office Open XML workbook (Excel).
    Xlsx,
    /// OpenDocument spreadsheet (LibreOffice).
    Ods,
}

/// ZIP local file header signature, shared by XLSX and ODS.
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// Compound File Binary signature of legacy `.xls` files.
const CFB_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
/// Media type ODS stores, uncompressed, as its first ZIP entry.
const ODS_MEDIA_TYPE: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";

impl SheetFormat {
    /// The format named by a file extension (`csv`, `xlsx`, `ods`, any case).
    pub fn from_extension(ext: &str) -> Option<Self> {
        match ext.to_ascii_lowercase().as_str() {
            "csv" | "txt" => Some(Self::Csv),
            "xlsx" | "xlsm" => Some(Self::Xlsx),
            "ods" => Some(Self::Ods),
            _ => None,
        }
    }

    /// Detects the format from the content first, because people rename
    /// files, and from the name's extension second.
    pub fn detect(file_name: &str, bytes: &[u8]) -> Result<Self, SheetError> {
        if bytes.starts_with(CFB_MAGIC) {
            return Err(SheetError::Unsupported(
                "ancien format Excel (.xls) : enregistrez le fichier au format .xlsx, .ods ou CSV UTF-8"
                    .into(),
            ));
        }
        let ext = Path::new(file_name)
            .extension()
            .and_then(|e| e.to_str())
            .and_then(Self::from_extension);
        if bytes.starts_with(ZIP_MAGIC) {
            // ODS must store its media type uncompressed right after the
            // first local header; looking at the first bytes is enough.
            let head = &bytes[..bytes.len().min(256)];
            if head
                .windows(ODS_MEDIA_TYPE.len())
                .any(|w| w == ODS_MEDIA_TYPE)
            {
                return Ok(Self::Ods);
            }
            return Ok(if ext == Some(Self::Ods) {
                Self::Ods
            } else {
                Self::Xlsx
            });
        }
        match ext {
            Some(Self::Xlsx) | Some(Self::Ods) => {
                Err(SheetError::Unsupported(format!(
                "{file_name} n'est pas un classeur {} valide (le fichier n'est pas une archive)",
                if ext == Some(Self::Ods) { "ODS" } else { "XLSX" }
            )))
            }
            _ => Ok(Self::Csv),
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Ods => "ods",
        }
    }

    /// The media type to send over HTTP.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Ods => "application/vnd.oasis.opendocument.spreadsheet",
        }
    }
}

/// Why a file could not be read or written as a table. Messages are in
/// French because they are shown to users as they are.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    /// The file could not be opened or written.
    #[error("{path} : {source}")]
    Io {
        /// The file concerned.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A CSV file in another encoding than UTF-8 (often Windows-1252 from
    /// Excel's plain « CSV » choice).
    #[error(
        "ligne {line} : le fichier n'est pas encodé en UTF-8{hint} ; enregistrez-le au format « CSV UTF-8 » (Excel) ou avec le jeu de caractères Unicode (UTF-8) (LibreOffice)"
    )]
    NotUtf8 {
        /// Line of the first byte that is not UTF-8.
        line: usize,
        /// What the encoding probably is, if recognisable.
        hint: &'static str,
    },
    /// A CSV syntax error, such as a quote never closed.
    #[error("ligne {line} : CSV mal formé : {message}")]
    Csv {
        /// Line where the problem was found.
        line: usize,
        /// What the parser said.
        message: String,
    },
    /// An XLSX or ODS file that could not be read.
    #[error("classeur illisible : {0}")]
    Workbook(String),
    /// The file or its first sheet has no header row.
    #[error("le fichier est vide : la première ligne doit donner les noms des colonnes")]
    NoHeader,
    /// Problems that make a CSV file unreadable (a row with another number
    /// of fields than the header, a quote never closed…), each with its line.
    #[error("CSV mal formé :\n{}", .0.join("\n"))]
    Malformed(Vec<String>),
    /// A cell that cannot be imported (control character, too long).
    #[error("ligne {line}, colonne {column} : {message}")]
    Cell {
        /// Line or row number.
        line: usize,
        /// Column letter or number, and header.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// The file goes beyond one of the limits of [`crate::limits`].
    #[error("fichier refusé, limite dépassée : {0}")]
    Limit(String),
    /// A format or a feature that is not handled.
    #[error("format non pris en charge : {0}")]
    Unsupported(String),
    /// Writing a workbook failed.
    #[error("écriture du classeur impossible : {0}")]
    Write(String),
}

/// Reads the first sheet of a file held in memory.
///
/// Cells become strings: integers without `.0`, dates as `YYYY-MM-DD`,
/// booleans as `oui`/`non`. Header cells are trimmed; data cells are kept as
/// they are. Blank rows are skipped but the line numbers of the other rows
/// stay those of the file.
pub fn read_table(bytes: &[u8], format: SheetFormat) -> Result<Table, SheetError> {
    match format {
        SheetFormat::Csv => csv_io::read(bytes),
        SheetFormat::Xlsx => workbook::read_xlsx(bytes),
        SheetFormat::Ods => workbook::read_ods(bytes),
    }
}

/// Reads a file from disk, detecting its format with [`SheetFormat::detect`].
pub fn read_table_file(path: &Path) -> Result<Table, SheetError> {
    let bytes = std::fs::read(path).map_err(|source| SheetError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let format = SheetFormat::detect(&path.to_string_lossy(), &bytes)?;
    read_table(&bytes, format)
}

/// Writes a table: CSV separated by `;` with a UTF-8 byte order mark (what
/// French Excel expects to open it directly), or a workbook with a bold,
/// frozen header row. Every cell is written as text so that identifiers
/// keep their leading zeros and the file reads back unchanged.
///
/// Every cell goes through [`domain::text::spreadsheet_safe`], so that a
/// value like `=HYPERLINK(…)` is shown as text and never run as a formula by
/// the spreadsheet that opens the file; [`read_table`] undoes it.
pub fn write_table(
    table: &Table,
    format: SheetFormat,
    out: &mut dyn Write,
) -> Result<(), SheetError> {
    let safe = |cells: &[String]| -> Vec<String> {
        cells
            .iter()
            .map(|c| spreadsheet_safe(c).into_owned())
            .collect()
    };
    let table = &Table {
        header_line: table.header_line,
        headers: safe(&table.headers),
        rows: table
            .rows
            .iter()
            .map(|r| Row {
                line: r.line,
                cells: safe(&r.cells),
            })
            .collect(),
    };
    let bytes = match format {
        SheetFormat::Csv => csv_io::write(table)?,
        SheetFormat::Xlsx => workbook::write_xlsx(table)?,
        SheetFormat::Ods => ods_write::write(table)?,
    };
    out.write_all(&bytes).map_err(|source| SheetError::Io {
        path: "sortie".into(),
        source,
    })
}

/// Drops the blank cells at the end of a row.
fn trim_trailing_blank(cells: &mut Vec<String>) {
    while cells.last().is_some_and(|c| c.trim().is_empty()) {
        cells.pop();
    }
}

/// Checks every cell of the raw rows and undoes the export's formula
/// escaping ([`domain::text::spreadsheet_unescape`]): a control character
/// or a cell longer than [`crate::limits::MAX_CELL_CHARS`] is refused with its
/// line and column, and so is a table of more than
/// [`crate::limits::MAX_CELLS`] cells.
fn checked_rows(
    raw: impl IntoIterator<Item = (usize, Vec<String>)>,
) -> impl Iterator<Item = Result<(usize, Vec<String>), SheetError>> {
    let mut count = 0usize;
    let mut headers: Option<Vec<String>> = None;
    raw.into_iter().map(move |(line, mut cells)| {
        count = count.saturating_add(cells.len());
        if count > MAX_CELLS {
            return Err(SheetError::Limit(format!(
                "plus de {} cellules (ligne {line})",
                thousands(MAX_CELLS as u64)
            )));
        }
        for (i, cell) in cells.iter_mut().enumerate() {
            check_cell(cell, || {
                let header = headers
                    .as_ref()
                    .and_then(|h| h.get(i))
                    .map(|h| h.trim())
                    .filter(|h| !h.is_empty());
                match header {
                    Some(h) => format!("{} (« {h} »)", columns::column_letter(i)),
                    None => columns::column_letter(i),
                }
            })
            .map_err(|(column, message)| SheetError::Cell {
                line,
                column,
                message,
            })?;
            let unescaped = spreadsheet_unescape(cell);
            if unescaped.len() != cell.len() {
                *cell = unescaped.to_owned();
            }
        }
        if headers.is_none() && cells.iter().any(|c| !c.trim().is_empty()) {
            headers = Some(cells.clone());
        }
        Ok((line, cells))
    })
}

/// Assembles a table from raw rows `(line, cells)`: the first non-blank row
/// is the header, blank rows are dropped, short rows are padded. Cells are
/// checked and unescaped by [`checked_rows`].
fn assemble(raw: impl IntoIterator<Item = (usize, Vec<String>)>) -> Result<Table, SheetError> {
    let mut raw = checked_rows(raw).filter(|r| {
        r.as_ref().map_or(true, |(_, cells)| {
            cells.iter().any(|c| !c.trim().is_empty())
        })
    });
    let (header_line, mut headers) = raw.next().ok_or(SheetError::NoHeader)??;
    for h in &mut headers {
        *h = h.trim().to_owned();
    }
    trim_trailing_blank(&mut headers);
    let width = headers.len();
    let rows = raw
        .map(|r| {
            let (line, mut cells) = r?;
            if cells.len() > width {
                // Keep extra cells only if something is written in them, so
                // that the import can point at them.
                let mut extra = cells.split_off(width);
                trim_trailing_blank(&mut extra);
                cells.extend(extra);
            }
            if cells.len() < width {
                cells.resize(width, String::new());
            }
            Ok(Row { line, cells })
        })
        .collect::<Result<_, SheetError>>()?;
    Ok(Table {
        header_line,
        headers,
        rows,
    })
}
