//! Checks an XLSX or ODS archive before calamine opens it, because calamine
//! believes what the archive declares: every entry is decompressed here
//! through a [`Read::take`] limit (declared sizes are not trusted), the
//! total and the compression ratio are bounded, and the counts that make
//! calamine allocate (an XLSX sheet's declared dimension, the shared
//! strings' declared count, an ODS sheet's repeated rows and columns) are
//! bounded too. All limits are in [`crate::limits`].

use std::io::{self, BufReader, Cursor, Read};

use quick_xml::events::{BytesStart, Event};

use super::{SheetError, SheetFormat};
use crate::limits::{
    thousands, MAX_CELLS, MAX_COMPRESSION_RATIO, MAX_UNCOMPRESSED_BYTES, MAX_ZIP_ENTRIES,
    RATIO_FLOOR_BYTES,
};

fn limit(message: String) -> SheetError {
    SheetError::Limit(message)
}

fn broken(e: impl std::fmt::Display) -> SheetError {
    SheetError::Workbook(e.to_string())
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// Checks the archive of a workbook; `Ok` means calamine may open it.
pub(super) fn check(bytes: &[u8], format: SheetFormat) -> Result<(), SheetError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(broken)?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(limit(format!(
            "l'archive contient {} fichiers, plus que la limite de {}",
            thousands(archive.len() as u64),
            thousands(MAX_ZIP_ENTRIES as u64)
        )));
    }
    let total_limit = || {
        limit(format!(
            "l'archive décompressée dépasse la limite de {} Mo",
            MAX_UNCOMPRESSED_BYTES / (1024 * 1024)
        ))
    };
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(broken)?;
        let name = entry.name().map_err(broken)?.into_owned();
        let (declared, compressed) = (entry.size(), entry.compressed_size());
        if declared > MAX_UNCOMPRESSED_BYTES.saturating_sub(total) {
            return Err(total_limit());
        }
        check_ratio(&name, declared, compressed)?;
        // Never more than what is left of the budget, whatever is declared.
        let budget = MAX_UNCOMPRESSED_BYTES - total;
        let mut reader = Counting {
            inner: entry.take(budget + 1),
            count: 0,
        };
        let scanned = match (format, name.as_str()) {
            (SheetFormat::Xlsx, "xl/sharedStrings.xml") => {
                scan(&mut reader, |e| declared_strings(&name, e))
            }
            (SheetFormat::Xlsx, n) if n.starts_with("xl/worksheets/") && n.ends_with(".xml") => {
                scan(&mut reader, |e| declared_dimension(&name, e))
            }
            (SheetFormat::Ods, "content.xml") => scan_ods(&mut reader),
            _ => Ok(()),
        };
        // What the scan left unread is read here, to measure the real size.
        let drained = io::copy(&mut reader, &mut io::sink());
        if reader.count > budget {
            return Err(total_limit());
        }
        scanned?;
        drained.map_err(|e| broken(format!("{name} : {e}")))?;
        check_ratio(&name, reader.count, compressed)?;
        total += reader.count;
    }
    Ok(())
}

fn check_ratio(name: &str, size: u64, compressed: u64) -> Result<(), SheetError> {
    if size > RATIO_FLOOR_BYTES && size / compressed.max(1) > MAX_COMPRESSION_RATIO {
        return Err(limit(format!(
            "{name} est compressé {} fois, plus que la limite de {} fois (bombe de décompression ?)",
            thousands(size / compressed.max(1)),
            MAX_COMPRESSION_RATIO
        )));
    }
    Ok(())
}

/// What a scan wants after an element start: go on or stop reading.
enum Next {
    Continue,
    Stop,
}

/// Reads XML elements from `reader` and calls `each` on every start (or
/// empty) element until it says stop or the document ends. A malformed
/// document is left for calamine to report.
fn scan<R: Read>(
    reader: R,
    mut each: impl FnMut(&BytesStart<'_>) -> Result<Next, SheetError>,
) -> Result<(), SheetError> {
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(reader));
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                if let Next::Stop = each(&e)? {
                    return Ok(());
                }
            }
            Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(_) => {}
        }
    }
}

fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
}

/// `<sst uniqueCount="…">`: calamine reserves that many strings.
fn declared_strings(name: &str, e: &BytesStart<'_>) -> Result<Next, SheetError> {
    if e.local_name().as_ref() != b"sst" {
        return Ok(Next::Continue);
    }
    for key in [&b"uniqueCount"[..], b"count"] {
        if let Some(n) = attr(e, key) {
            if n.trim()
                .parse::<u64>()
                .map_or(true, |n| n > MAX_CELLS as u64)
            {
                return Err(limit(format!(
                    "{name} annonce {n} textes, plus que la limite de {} cellules",
                    thousands(MAX_CELLS as u64)
                )));
            }
        }
    }
    Ok(Next::Stop)
}

/// `<dimension ref="A1:XFD1048576"/>`: the area a sheet declares.
fn declared_dimension(name: &str, e: &BytesStart<'_>) -> Result<Next, SheetError> {
    match e.local_name().as_ref() {
        b"sheetData" => Ok(Next::Stop),
        b"dimension" => {
            let Some(r) = attr(e, b"ref") else {
                return Ok(Next::Continue);
            };
            let area = match r.split_once(':') {
                Some((a, b)) => match (cell_ref(a), cell_ref(b)) {
                    (Some((r1, c1)), Some((r2, c2))) => {
                        (r1.abs_diff(r2) + 1).saturating_mul(c1.abs_diff(c2) + 1)
                    }
                    _ => 1,
                },
                None => 1,
            };
            if area > MAX_CELLS as u64 {
                return Err(limit(format!(
                    "{name} déclare la plage {r}, soit {} cellules, plus que la limite de {} cellules",
                    thousands(area),
                    thousands(MAX_CELLS as u64)
                )));
            }
            Ok(Next::Stop)
        }
        _ => Ok(Next::Continue),
    }
}

/// `B12` → (12, 2); `None` for anything else.
fn cell_ref(s: &str) -> Option<(u64, u64)> {
    let s = s.trim().trim_start_matches('$');
    let letters = s.bytes().take_while(u8::is_ascii_alphabetic).count();
    if letters == 0 || letters > 3 {
        return None;
    }
    let (col, row) = s.split_at(letters);
    let col = col.bytes().fold(0u64, |n, b| {
        n * 26 + u64::from(b.to_ascii_uppercase() - b'A' + 1)
    });
    let row: u64 = row.trim_start_matches('$').parse().ok()?;
    Some((row, col))
}

/// Bounds the area calamine builds from an ODS sheet, where one element
/// may stand for many rows (`table:number-rows-repeated`) or cells
/// (`table:number-columns-repeated`). Repeated empty cells at the end of a
/// row and empty rows at the end of a sheet, which LibreOffice writes to
/// the sheet's edge, cost nothing and are not counted.
fn scan_ods<R: Read>(reader: R) -> Result<(), SheetError> {
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(reader));
    let mut buf = Vec::new();
    let repeat = |e: &BytesStart<'_>, key: &[u8]| {
        attr(e, key).map_or(1, |v| v.trim().parse::<u64>().unwrap_or(1))
    };
    // Per sheet: rows up to the last non-empty one, widest non-empty row.
    let (mut rows_before, mut rows_used, mut width) = (0u64, 0u64, 0u64);
    // Per row: repeat, position after the last cell, after the last non-empty one.
    let (mut row_repeat, mut col, mut used) = (1u64, 0u64, 0u64);
    let mut in_row = false;
    let check = |rows: u64, width: u64| {
        let area = rows.saturating_mul(width);
        if area > MAX_CELLS as u64 {
            Err(limit(format!(
                "content.xml : la feuille s'étend sur {} cellules (lignes et colonnes répétées comprises), plus que la limite de {} cellules",
                thousands(area),
                thousands(MAX_CELLS as u64)
            )))
        } else {
            Ok(())
        }
    };
    loop {
        buf.clear();
        let (e, empty) = match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => (e, false),
            Ok(Event::Empty(e)) => (e, true),
            Ok(Event::End(e)) => {
                if e.name().as_ref() == b"table:table-row" && in_row {
                    in_row = false;
                    end_row(
                        &mut rows_before,
                        &mut rows_used,
                        &mut width,
                        row_repeat,
                        used,
                    );
                    check(rows_used, width)?;
                } else if e.name().as_ref() == b"table:table" {
                    (rows_before, rows_used, width) = (0, 0, 0);
                }
                continue;
            }
            Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(_) => continue,
        };
        match e.name().as_ref() {
            b"table:table-row" => {
                (row_repeat, col, used) = (repeat(&e, b"table:number-rows-repeated"), 0, 0);
                if empty {
                    end_row(&mut rows_before, &mut rows_used, &mut width, row_repeat, 0);
                } else {
                    in_row = true;
                }
            }
            b"table:table-cell" | b"table:covered-table-cell" if in_row => {
                col = col.saturating_add(repeat(&e, b"table:number-columns-repeated"));
                if !empty || attr(&e, b"office:value-type").is_some() {
                    used = col;
                }
                check(rows_used.max(1), used.max(width))?;
            }
            _ => {}
        }
    }
}

/// Adds a finished row to the sheet's extent.
fn end_row(rows_before: &mut u64, rows_used: &mut u64, width: &mut u64, repeat: u64, used: u64) {
    *rows_before = rows_before.saturating_add(repeat);
    if used > 0 {
        *rows_used = *rows_before;
        *width = (*width).max(used);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references() {
        assert_eq!(cell_ref("A1"), Some((1, 1)));
        assert_eq!(cell_ref("XFD1048576"), Some((1_048_576, 16_384)));
        assert_eq!(cell_ref("$B$2"), Some((2, 2)));
        assert_eq!(cell_ref("é1"), None);
        assert_eq!(cell_ref("ABCD1"), None);
    }

    #[test]
    fn repeated_ods_cells_count_only_up_to_the_last_value() {
        let edge = r#"<office:body><table:table><table:table-row><table:table-cell office:value-type="string"><text:p>a</text:p></table:table-cell><table:table-cell table:number-columns-repeated="16383"/></table:table-row><table:table-row table:number-rows-repeated="1048575"><table:table-cell table:number-columns-repeated="16384"/></table:table-row></table:table></office:body>"#;
        assert!(scan_ods(edge.as_bytes()).is_ok());
        let bomb = r#"<table:table><table:table-row table:number-rows-repeated="1048576"><table:table-cell table:number-columns-repeated="16384" office:value-type="float"/></table:table-row></table:table>"#;
        let e = scan_ods(bomb.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("5 000 000"), "{e}");
    }
}
