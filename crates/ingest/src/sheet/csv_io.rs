//! CSV reading and writing. French spreadsheets export with `;` because `,`
//! is the decimal separator, while most tools use `,`: the separator is taken
//! from the header line.

use super::{assemble, SheetError, Table};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads a CSV file held in memory.
pub(super) fn read(bytes: &[u8]) -> Result<Table, SheetError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(SheetError::NotUtf8 {
            line: 1,
            hint: " (il est en UTF-16, « texte Unicode »)",
        });
    }
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    // Check the encoding of the whole file first so that the message names
    // the line of the first bad byte, whatever the CSV structure around it.
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let before = &bytes[..e.valid_up_to()];
        SheetError::NotUtf8 {
            line: before.iter().filter(|&&b| b == b'\n').count() + 1,
            hint: if e.error_len().is_some() {
                " (probablement Windows-1252 ou Latin-1)"
            } else {
                " (il se termine au milieu d'un caractère)"
            },
        }
    })?;
    // Strict: a row with another number of fields than the header, or a
    // quote never closed, is refused with its line (a truncated file).
    let records = crate::csv_read::read(text, detect_delimiter(text)).map_err(|faults| {
        SheetError::Malformed(faults.iter().map(ToString::to_string).collect())
    })?;
    assemble(
        records
            .into_iter()
            .map(|(line, record)| (line, record.iter().map(str::to_owned).collect())),
    )
}

/// Picks the separator that occurs most often outside quotes on the first
/// line; `;` wins ties because French Excel writes it.
fn detect_delimiter(text: &str) -> u8 {
    let mut counts = [(b';', 0usize), (b',', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in text.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                if let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
                    c.1 += 1;
                }
            }
            _ => {}
        }
    }
    // `max_by_key` keeps the last maximum, so scan in reverse to prefer `;`.
    counts
        .iter()
        .rev()
        .max_by_key(|(_, n)| *n)
        .map_or(b';', |(d, _)| *d)
}

/// Writes a table as CSV with `;`, a BOM and CRLF line ends, which French
/// Excel opens directly with the right columns and accents.
pub(super) fn write(table: &Table) -> Result<Vec<u8>, SheetError> {
    let mut out = BOM.to_vec();
    {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .flexible(true)
            .from_writer(&mut out);
        let err = |e: csv::Error| SheetError::Write(e.to_string());
        writer.write_record(&table.headers).map_err(err)?;
        for row in &table.rows {
            writer.write_record(&row.cells).map_err(err)?;
        }
        writer
            .flush()
            .map_err(|e| SheetError::Write(e.to_string()))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_follows_the_header() {
        assert_eq!(detect_delimiter("a;b;c\n1,5;2;3"), b';');
        assert_eq!(detect_delimiter("a,b,c\n1;2;3"), b',');
        assert_eq!(detect_delimiter("\"a;b\",c\n"), b',');
        assert_eq!(detect_delimiter("a\tb\n"), b'\t');
        assert_eq!(detect_delimiter("seule\n"), b';');
    }

    #[test]
    fn lines_survive_crlf_and_blank_lines() {
        let text = "a;b\r\nc;d\r\n\r\ne;\"f\r\ng\"\r\nh;i";
        let t = read(text.as_bytes()).unwrap();
        let lines: Vec<_> = t.rows.iter().map(|r| r.line).collect();
        assert_eq!(t.header_line, 1);
        assert_eq!(lines, [2, 4, 6]);
    }

    #[test]
    fn truncated_rows_and_open_quotes_are_refused() {
        let e = read(b"nom;type;siret\nA;lycee;\nB;ly").unwrap_err();
        assert!(
            e.to_string().contains("ligne 3 : 2 champ(s) au lieu de 3"),
            "{e}"
        );
        let e = read(b"nom;type\nA;\"lyc").unwrap_err();
        assert!(e.to_string().contains("ligne 2 : guillemet ouvert"), "{e}");
        // Trailing separators that keep the count are fine.
        assert!(read(b"nom;type;\nA;lycee;\n").is_ok());
    }
}
