//! The one strict CSV reader behind every CSV import (spreadsheets,
//! tension files, InserJeunes): a record with another number of fields than
//! the header, a quoted field left open at the end of the file (both signs
//! of a truncated file), a cell longer than [`MAX_CELL_CHARS`], more than
//! [`MAX_CELLS`] cells, or a control character in a cell are refused, each
//! with its line (and column).

use std::fmt;

use crate::limits::{thousands, MAX_CELLS, MAX_CELL_CHARS};

/// A problem that makes a CSV file unreadable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CsvFault {
    /// A record has fewer or more fields than the header.
    FieldCount {
        line: usize,
        found: usize,
        expected: usize,
    },
    /// A quoted field opened on `line` is never closed.
    OpenQuote { line: usize },
    /// A problem with one cell.
    Cell {
        line: usize,
        column: String,
        message: String,
    },
    /// Too many cells in the file: reading stopped there.
    TooManyCells { line: usize },
    /// What the CSV parser itself refused.
    Syntax { line: usize, message: String },
}

impl CsvFault {
    /// The line concerned.
    pub(crate) fn line(&self) -> usize {
        match self {
            CsvFault::FieldCount { line, .. }
            | CsvFault::OpenQuote { line }
            | CsvFault::Cell { line, .. }
            | CsvFault::TooManyCells { line }
            | CsvFault::Syntax { line, .. } => *line,
        }
    }
}

impl CsvFault {
    /// The fault as a problem of `file`.
    pub(crate) fn problem(&self, file: &str) -> crate::Problem {
        let text = self.to_string();
        // The reason is what follows the place Display writes.
        let reason = |place: &str| text.strip_prefix(place).unwrap_or(&text).to_owned();
        match self {
            CsvFault::Cell { line, column, .. } => crate::Problem::field(
                file,
                line,
                format!("colonne {column}"),
                reason(&format!("ligne {line}, colonne {column} : ")),
            ),
            _ => {
                let line = self.line();
                crate::Problem::line(file, line, reason(&format!("ligne {line} : ")))
            }
        }
    }
}

impl fmt::Display for CsvFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CsvFault::FieldCount {
                line,
                found,
                expected,
            } => write!(
                f,
                "ligne {line} : {found} champ(s) au lieu de {expected} comme l'en-tête (ligne incomplète, séparateur en trop ou fichier tronqué)"
            ),
            CsvFault::OpenQuote { line } => write!(
                f,
                "ligne {line} : guillemet ouvert jamais refermé avant la fin du fichier (fichier tronqué ?)"
            ),
            CsvFault::Cell {
                line,
                column,
                message,
            } => write!(f, "ligne {line}, colonne {column} : {message}"),
            CsvFault::TooManyCells { line } => write!(
                f,
                "ligne {line} : plus de {} cellules (limite par fichier), lecture arrêtée",
                thousands(MAX_CELLS as u64)
            ),
            CsvFault::Syntax { line, message } => {
                write!(f, "ligne {line} : CSV mal formé : {message}")
            }
        }
    }
}

/// Checks one cell: length and control characters. `column` names it.
pub(crate) fn check_cell(
    value: &str,
    column: impl FnOnce() -> String,
) -> Result<(), (String, String)> {
    // Characters are never fewer than bytes / 4: count only when needed.
    if value.len() > MAX_CELL_CHARS {
        let chars = value.chars().count();
        if chars > MAX_CELL_CHARS {
            return Err((
                column(),
                format!(
                    "cellule de {} caractères, plus que la limite de {} caractères par cellule",
                    thousands(chars as u64),
                    thousands(MAX_CELL_CHARS as u64)
                ),
            ));
        }
    }
    domain::text::check_text(value).map_err(|e| (column(), e.to_string()))
}

/// Reads `text` (UTF-8, byte order mark removed) with `delimiter`. The first
/// record with a non-blank field is the header; every other record must
/// have as many fields, except blank ones, which callers skip. Returns every
/// record, header included, with the line where it starts (as a text
/// editor counts), or every problem found (at most 100).
pub(crate) fn read(
    text: &str,
    delimiter: u8,
) -> Result<Vec<(usize, csv::StringRecord)>, Vec<CsvFault>> {
    const MAX_FAULTS: usize = 100;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    let mut faults = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter::new(text);
    let mut header: Option<csv::StringRecord> = None;
    let mut cells = 0usize;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {
                let byte = record.position().map_or(0, |p| p.byte() as usize);
                let line = lines.line_at(byte);
                cells = cells.saturating_add(record.len());
                if cells > MAX_CELLS {
                    faults.push(CsvFault::TooManyCells { line });
                    break;
                }
                let blank = record.iter().all(|f| f.trim().is_empty());
                if let Some(h) = &header {
                    if !blank && record.len() != h.len() {
                        faults.push(CsvFault::FieldCount {
                            line,
                            found: record.len(),
                            expected: h.len(),
                        });
                    }
                } else if !blank {
                    header = Some(record.clone());
                }
                for (i, field) in record.iter().enumerate() {
                    if let Err((column, message)) =
                        check_cell(field, || column_name(header.as_ref(), i))
                    {
                        faults.push(CsvFault::Cell {
                            line,
                            column,
                            message,
                        });
                    }
                }
                records.push((line, record.clone()));
            }
            Ok(false) => break,
            Err(e) => {
                let byte = e.position().map_or(0, |p| p.byte() as usize);
                faults.push(CsvFault::Syntax {
                    line: lines.line_at(byte),
                    message: e.to_string(),
                });
                break;
            }
        }
        if faults.len() >= MAX_FAULTS {
            break;
        }
    }
    if faults.len() < MAX_FAULTS {
        if let Some(line) = open_quote_line(text.as_bytes(), delimiter) {
            faults.push(CsvFault::OpenQuote { line });
        }
    }
    if faults.is_empty() {
        Ok(records)
    } else {
        faults.sort_by_key(CsvFault::line);
        Err(faults)
    }
}

/// Column `i` (from 0) as people see it: its number and header.
fn column_name(header: Option<&csv::StringRecord>, i: usize) -> String {
    match header.and_then(|h| h.get(i)).map(str::trim) {
        Some(h) if !h.is_empty() => format!("{} (« {h} »)", i + 1),
        _ => (i + 1).to_string(),
    }
}

/// Where a quoted field that is never closed starts, if one is: the csv
/// crate silently ends such a field at the end of the file, which hides a
/// truncation. Follows the csv crate's rules: a quote opens a field only at
/// its start, and `""` inside a quoted field is a quote.
pub(crate) fn open_quote_line(bytes: &[u8], delimiter: u8) -> Option<usize> {
    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    let mut line = 1;
    let mut opened = 0;
    for &b in bytes {
        let end_of_field = b == delimiter || b == b'\n' || b == b'\r';
        state = match state {
            State::FieldStart if b == b'"' => {
                opened = line;
                State::Quoted
            }
            State::FieldStart | State::Unquoted if end_of_field => State::FieldStart,
            State::FieldStart | State::Unquoted => State::Unquoted,
            State::Quoted if b == b'"' => State::QuoteInQuoted,
            State::Quoted => State::Quoted,
            State::QuoteInQuoted if b == b'"' => State::Quoted,
            State::QuoteInQuoted if end_of_field => State::FieldStart,
            State::QuoteInQuoted => State::Unquoted,
        };
        if b == b'\n' {
            line += 1;
        }
    }
    (state == State::Quoted).then_some(opened)
}

/// Turns the byte offsets of records into the line numbers a text editor
/// shows. The csv crate's own `Position::line` cannot be used: a record's
/// position is taken before the terminator of the previous line when it is
/// CRLF, and before the blank lines the reader skips, and those are not
/// counted. Offsets are right, so lines are counted here from them.
pub(crate) struct LineCounter<'a> {
    bytes: &'a [u8],
    counted_to: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            bytes: text.as_bytes(),
            counted_to: 0,
            line: 1,
        }
    }

    /// Line of the first character at or after `byte` that is not a line
    /// terminator. Offsets must not decrease between calls, which holds for
    /// records read in order.
    pub(crate) fn line_at(&mut self, byte: usize) -> usize {
        let mut start = byte.min(self.bytes.len());
        while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start > self.counted_to {
            let newlines = self.bytes[self.counted_to..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.line += newlines;
            self.counted_to = start;
        }
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_records_are_refused_with_their_line() {
        let faults = read("a;b;c\n1;2;3\n4;5\n6;7;8;9\n\n;;\n", b';').unwrap_err();
        assert_eq!(
            faults,
            [
                CsvFault::FieldCount {
                    line: 3,
                    found: 2,
                    expected: 3
                },
                CsvFault::FieldCount {
                    line: 4,
                    found: 4,
                    expected: 3
                }
            ]
        );
        assert!(faults[0].to_string().contains("2 champ(s) au lieu de 3"));
    }

    #[test]
    fn a_quote_left_open_is_a_truncation() {
        assert_eq!(open_quote_line(b"a;b\n1;\"x\n\"\"y", b';'), Some(2));
        assert_eq!(open_quote_line(b"a;b\n1;\"x\n\"\"y\"", b';'), None);
        assert_eq!(open_quote_line(b"a;b\n1;x\"y\n", b';'), None);
        assert_eq!(open_quote_line(b"a;b\n\"x\"y;\"z\"\r\n", b';'), None);
        let faults = read("a;b\n1;\"x\ny", b';').unwrap_err();
        assert_eq!(faults, [CsvFault::OpenQuote { line: 2 }]);
    }

    #[test]
    fn control_characters_and_long_cells_are_refused() {
        let long = "x".repeat(MAX_CELL_CHARS + 1);
        let text = format!("nom;b\nab\0;c\nd;{long}\n");
        let faults = read(&text, b';').unwrap_err();
        assert_eq!(faults.len(), 2);
        assert!(
            faults[0]
                .to_string()
                .starts_with("ligne 2, colonne 1 (« nom ») : caractère de contrôle"),
            "{}",
            faults[0]
        );
        assert!(faults[1].to_string().contains("32 767"), "{}", faults[1]);
    }
}
