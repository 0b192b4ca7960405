//! XLSX and ODS reading through calamine, XLSX writing through
//! rust_xlsxwriter.

use std::io::Cursor;

use calamine::{Data, Ods, Range, Reader, Xlsx};
use rust_xlsxwriter::{Format, Workbook};

use super::{assemble, SheetError, Table};

/// Name of the sheet written in exports.
pub(super) const SHEET_NAME: &str = "Données";

/// Reads the first sheet of an XLSX workbook.
pub(super) fn read_xlsx(bytes: &[u8]) -> Result<Table, SheetError> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(workbook_error)?;
    let range = first_sheet(&mut book)?;
    from_range(&range)
}

/// Reads the first sheet of an ODS workbook.
pub(super) fn read_ods(bytes: &[u8]) -> Result<Table, SheetError> {
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
