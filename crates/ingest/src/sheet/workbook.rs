//! XLSX and ODS reading through calamine, XLSX writing through
//! rust_xlsxwriter.

use std::io::Cursor;

use calamine::{Data, DataRef, Ods, Range, Reader, Xlsx};
use rust_xlsxwriter::{Format, Workbook};

use super::{archive, assemble, SheetError, SheetFormat, Table};
use crate::limits::{thousands, MAX_CELLS};

/// Name of the sheet written in exports.
pub(super) const SHEET_NAME: &str = "Données";

/// Reads the first sheet of an XLSX workbook, cell by cell: calamine's
/// `Range` would allocate the whole rectangle between the first and the
/// last cell, which one cell at `XFD1048576` makes 17 billion cells wide.
pub(super) fn read_xlsx(bytes: &[u8]) -> Result<Table, SheetError> {
    archive::check(bytes, SheetFormat::Xlsx)?;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(workbook_error)?;
    let Some(name) = book.sheet_names().first().cloned() else {
        return Err(SheetError::NoHeader);
    };
    let mut reader = book.worksheet_cells_reader(&name).map_err(workbook_error)?;
    let mut cells: Vec<(u32, u32, String)> = Vec::new();
    while let Some(cell) = reader.next_cell().map_err(workbook_error)? {
        let text = cell_ref_text(cell.get_value());
        if text.is_empty() {
            continue;
        }
        if cells.len() >= MAX_CELLS {
            return Err(too_many_cells());
        }
        let (row, col) = cell.get_position();
        cells.push((row, col, text));
    }
    drop(reader);
    // Rows in order, each as wide as its last cell from the first used column.
    cells.sort_by_key(|&(r, c, _)| (r, c));
    let first_col = cells.iter().map(|&(_, c, _)| c).min().unwrap_or(0);
    let mut area = 0u64;
    let mut raw: Vec<(usize, Vec<String>)> = Vec::new();
    for (row, col, text) in cells {
        let line = row as usize + 1;
        if raw.last().is_none_or(|(l, _)| *l != line) {
            raw.push((line, Vec::new()));
        }
        let Some((_, row_cells)) = raw.last_mut() else {
            continue;
        };
        let at = (col - first_col) as usize;
        if at >= row_cells.len() {
            area += (at + 1 - row_cells.len()) as u64;
            if area > MAX_CELLS as u64 {
                return Err(too_many_cells());
            }
            row_cells.resize(at + 1, String::new());
        }
        row_cells[at] = text;
    }
    assemble(raw)
}

fn too_many_cells() -> SheetError {
    SheetError::Limit(format!(
        "la feuille a plus de {} cellules",
        thousands(MAX_CELLS as u64)
    ))
}

/// Reads the first sheet of an ODS workbook.
pub(super) fn read_ods(bytes: &[u8]) -> Result<Table, SheetError> {
    archive::check(bytes, SheetFormat::Ods)?;
    let mut book: Ods<_> = Ods::new(Cursor::new(bytes)).map_err(workbook_error)?;
    let range = first_sheet(&mut book)?;
    from_range(&range)
}

fn workbook_error(e: impl std::fmt::Display) -> SheetError {
    SheetError::Workbook(e.to_string())
}

fn first_sheet<R, RS>(book: &mut R) -> Result<Range<Data>, SheetError>
where
    R: Reader<RS>,
    R::Error: std::fmt::Display,
    RS: std::io::Read + std::io::Seek,
{
    match book.worksheet_range_at(0) {
        Some(range) => range.map_err(workbook_error),
        None => Err(SheetError::NoHeader),
    }
}

fn from_range(range: &Range<Data>) -> Result<Table, SheetError> {
    let (h, w) = range.get_size();
    if (h as u64).saturating_mul(w as u64) > MAX_CELLS as u64 {
        return Err(too_many_cells());
    }
    // The range starts at the first used cell, not at A1: add its offset so
    // that lines are the row numbers the spreadsheet shows.
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    let raw = range.rows().enumerate().map(|(i, cells)| {
        (
            first_row + i + 1,
            cells.iter().map(cell_text).collect::<Vec<_>>(),
        )
    });
    assemble(raw)
}

/// [`cell_text`] for the borrowed cells of the XLSX cell reader.
fn cell_ref_text(cell: &DataRef<'_>) -> String {
    match cell {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Int(i) => cell_text(&Data::Int(*i)),
        DataRef::Float(f) => cell_text(&Data::Float(*f)),
        DataRef::Bool(b) => cell_text(&Data::Bool(*b)),
        DataRef::DateTime(d) => cell_text(&Data::DateTime(*d)),
        DataRef::DateTimeIso(s) => cell_text(&Data::DateTimeIso(s.clone())),
        DataRef::DurationIso(s) => cell_text(&Data::DurationIso(s.clone())),
        DataRef::Error(e) => cell_text(&Data::Error(e.clone())),
    }
}

/// Turns a cell into the text a person would type to get it.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => if *b { "oui" } else { "non" }.to_owned(),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
            if dt.as_f64() < 1.0 {
                // A time of day alone: Excel stores it as a fraction of day 0.
                format!("{h:02}:{mi:02}:{s:02}")
            } else if (h, mi, s) == (0, 0, 0) {
                format!("{y:04}-{mo:02}-{d:02}")
            } else {
                format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
            }
        }
        Data::DateTime(dt) => number_text(dt.as_f64()),
        Data::DateTimeIso(s) => s
            .strip_suffix("T00:00:00")
            .unwrap_or(s)
            .replacen('T', " ", 1),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
    }
}

/// Writes whole numbers without a fractional part: a SIRET or a capacity
/// typed as a number in a spreadsheet is stored as a float.
fn number_text(f: f64) -> String {
    // 2^53: beyond it floats no longer hold every integer.
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

/// Writes a table as an XLSX workbook with one sheet.
pub(super) fn write_xlsx(table: &Table) -> Result<Vec<u8>, SheetError> {
    let err = |e: rust_xlsxwriter::XlsxError| SheetError::Write(e.to_string());
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(SHEET_NAME).map_err(err)?;
    let bold = Format::new().set_bold();
    for (c, h) in table.headers.iter().enumerate() {
        sheet
            .write_string_with_format(0, col(c)?, h, &bold)
            .map_err(err)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = u32::try_from(r + 1)
            .map_err(|_| SheetError::Write("trop de lignes pour un classeur".into()))?;
        for (c, v) in row.cells.iter().enumerate() {
            if !v.is_empty() {
                // Always text: a SIRET written as a number would show in
                // scientific notation and a code INSEE would lose its zero.
                sheet.write_string(r, col(c)?, v).map_err(err)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(err)?;
    sheet.set_autofit_max_width(300);
    sheet.autofit();
    book.save_to_buffer().map_err(err)
}

fn col(c: usize) -> Result<u16, SheetError> {
    u16::try_from(c).map_err(|_| SheetError::Write("trop de colonnes pour un classeur".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_typed() {
        assert_eq!(number_text(12.0), "12");
        assert_eq!(number_text(12002701600050.0), "12002701600050");
        assert_eq!(number_text(-3.0), "-3");
        assert_eq!(number_text(0.25), "0.25");
    }
}
