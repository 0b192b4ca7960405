//! Reading the shipped files: gzip members, CSV tables and JSON arrays, with
//! errors that name the file, the line and the field.

use std::io::{self, Read};
use std::path::Path;

use csv::StringRecord;
use domain::refdata::QualityIssue;
use flate2::read::GzDecoder;
use serde::Deserialize;

use super::RefError;

/// FNV-1a, 64 bits. Chosen because it is fully specified (the result is the
/// same on every machine, compiler and run, unlike `DefaultHasher`) and fast
/// enough for a few megabytes of compressed input.
#[derive(Debug, Clone)]
pub(crate) struct Checksum(u64);

impl Checksum {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    pub(crate) fn new() -> Self {
        Self(Self::OFFSET)
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(Self::PRIME);
        }
        self.0 = h;
    }

    /// `fnv1a64:` followed by 16 hex digits.
    pub(crate) fn finish(&self) -> String {
        format!("fnv1a64:{:016x}", self.0)
    }
}

/// One compressed file of a data set, read whole (they are a few megabytes at
/// most) and checked to be gzip.
pub(crate) struct GzFile {
    /// Path relative to the data directory, as shown in messages.
    pub(crate) name: String,
    bytes: Vec<u8>,
}

impl GzFile {
    /// Reads `dir/name` and adds its name and bytes to `sum`, so that a
    /// renamed or changed file changes the data set checksum.
    pub(crate) fn open(dir: &Path, name: &str, sum: &mut Checksum) -> Result<Self, RefError> {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                RefError::MissingFile {
                    file: name.to_owned(),
                    dir: dir.to_path_buf(),
                }
            } else {
                RefError::Io {
                    file: name.to_owned(),
                    source: e,
                }
            }
        })?;
        // The two magic bytes of RFC 1952; anything else is not gzip at all,
        // which deserves a different message than a damaged gzip file.
        if bytes.len() < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b {
            return Err(RefError::NotGzip {
                file: name.to_owned(),
            });
        }
        sum.update(name.as_bytes());
        sum.update(&[0]);
        sum.update(&(bytes.len() as u64).to_le_bytes());
        sum.update(&bytes);
        Ok(Self {
            name: name.to_owned(),
            bytes,
        })
    }

    /// The decompressed stream, which fails past
    /// [`crate::limits::MAX_UNCOMPRESSED_BYTES`] instead of ending there.
    fn reader(&self) -> Limited<GzDecoder<&[u8]>> {
        Limited {
            inner: GzDecoder::new(&self.bytes[..]),
            left: crate::limits::MAX_UNCOMPRESSED_BYTES,
        }
    }

    /// The whole decompressed content, for the JSON files that are parsed in
    /// place.
    pub(crate) fn decompress(&self) -> Result<Vec<u8>, RefError> {
        // The gzip trailer holds the uncompressed size modulo 2^32; it is only
        // a capacity hint, capped so a damaged trailer cannot ask for a huge
        // allocation.
        let n = self.bytes.len();
        let hint = if n >= 8 {
            let t: [u8; 4] = self.bytes[n - 4..].try_into().unwrap_or([0; 4]);
            (u32::from_le_bytes(t) as usize).min(n.saturating_mul(64))
        } else {
            0
        };
        let mut out = Vec::with_capacity(hint);
        // The reader fails past the limit: a gzip bomb is refused.
        self.reader()
            .read_to_end(&mut out)
            .map_err(|e| gzip_error(&self.name, &e, None))?;
        Ok(out)
    }
}

/// A reader that fails once more than `left` bytes have come through, so
/// that a gzip bomb is an error rather than a silently cut file.
pub(crate) struct Limited<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            io::Error::other(format!(
                "plus de {} Mo une fois décompressé (limite de taille décompressée)",
                crate::limits::MAX_UNCOMPRESSED_BYTES / (1024 * 1024)
            ))
        })?;
        Ok(n)
    }
}

/// Turns a decompression failure into a message that says whether the file
/// was cut short or damaged, and how far reading got.
fn gzip_error(file: &str, e: &io::Error, after_line: Option<u64>) -> RefError {
    let place = match after_line {
        Some(l) => format!(" après la ligne {l}"),
        None => String::new(),
    };
    let reason = if e.kind() == io::ErrorKind::UnexpectedEof {
        format!("fin de fichier inattendue{place} : le fichier est tronqué")
    } else {
        format!("données corrompues{place} : {e}")
    };
    RefError::CorruptGzip {
        file: file.to_owned(),
        reason,
    }
}

/// A CSV table read record by record straight from the gzip stream, reusing
/// one record buffer so that rows cost no allocation unless kept.
pub(crate) struct Table<'a> {
    file: &'a str,
    reader: csv::Reader<Limited<GzDecoder<&'a [u8]>>>,
    header: Vec<String>,
    record: StringRecord,
}

impl<'a> Table<'a> {
    /// Opens a table and finds the columns it needs by name, so that a column
    /// moved by the publisher is still found, and a missing one is reported
    /// with the expected and found headers.
    pub(crate) fn open<const N: usize>(
        file: &'a GzFile,
        delimiter: u8,
        columns: [&str; N],
    ) -> Result<(Self, [usize; N]), RefError> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .buffer_capacity(1 << 16)
            .from_reader(file.reader());
        let header_record = reader
            .headers()
            .map_err(|e| csv_error(&file.name, &[], e, 0))?;
        // A UTF-8 byte order mark is not part of the first column's name.
        let header: Vec<String> = header_record
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let h = if i == 0 {
                    h.trim_start_matches('\u{feff}')
                } else {
                    h
                };
                h.trim().to_owned()
            })
            .collect();
        if header.iter().all(String::is_empty) {
            return Err(RefError::Header {
                file: file.name.clone(),
                missing: columns.join(", "),
                expected: columns.join(", "),
                found: "(fichier vide)".to_owned(),
            });
        }
        let mut idx = [0usize; N];
        let mut missing = Vec::new();
        for (slot, col) in idx.iter_mut().zip(columns) {
            match header.iter().position(|h| h == col) {
                Some(i) => *slot = i,
                None => missing.push(col),
            }
        }
        if !missing.is_empty() {
            let found: Vec<&str> = header
                .iter()
                .map(String::as_str)
                .filter(|h| !h.is_empty())
                .collect();
            return Err(RefError::Header {
                file: file.name.clone(),
                missing: missing.join(", "),
                expected: columns.join(", "),
                found: found.join(", "),
            });
        }
        let table = Self {
            file: &file.name,
            reader,
            header,
            record: StringRecord::new(),
        };
        Ok((table, idx))
    }

    /// Advances to the next record; `false` at the end of the file.
    pub(crate) fn next(&mut self) -> Result<bool, RefError> {
        let last = self.line();
        self.reader
            .read_record(&mut self.record)
            .map_err(|e| csv_error(self.file, &self.header, e, last))
    }

    /// Field `i` of the current record, without surrounding spaces.
    pub(crate) fn get(&self, i: usize) -> &str {
        self.record.get(i).unwrap_or("").trim()
    }

    /// Line where the current record starts (the header is line 1).
    pub(crate) fn line(&self) -> u64 {
        self.record.position().map_or(1, csv::Position::line)
    }

    /// File name as shown in messages.
    pub(crate) fn file(&self) -> &'a str {
        self.file
    }

    /// Name of column `i` as the header writes it.
    pub(crate) fn column_name(&self, i: usize) -> String {
        self.header
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("#{}", i + 1))
    }

    /// Error for a value of column `i` that cannot be read as `expected`.
    pub(crate) fn invalid(&self, i: usize, expected: &'static str) -> RefError {
        RefError::InvalidValue {
            file: self.file.to_owned(),
            line: self.line(),
            field: self.column_name(i),
            value: self.get(i).to_owned(),
            expected,
        }
    }

    /// Error for a key of column `i` already seen on `first_line`.
    pub(crate) fn duplicate(&self, i: usize, first_line: u64) -> RefError {
        RefError::DuplicateKey {
            file: self.file.to_owned(),
            line: self.line(),
            field: self.column_name(i),
            key: self.get(i).to_owned(),
            first_line,
        }
    }

    /// A non-blocking problem about column `i` of the current record.
    pub(crate) fn issue(&self, i: usize, message: String) -> QualityIssue {
        QualityIssue {
            file: self.file.to_owned(),
            line: self.line(),
            field: self.column_name(i),
            message,
        }
    }

    /// Parses column `i` as an integer, or says where it is not one.
    pub(crate) fn int(&self, i: usize) -> Result<i64, RefError> {
        self.get(i)
            .parse()
            .map_err(|_| self.invalid(i, "un nombre entier"))
    }

    /// Like [`Table::int`], an empty field giving `None`.
    pub(crate) fn opt_int(&self, i: usize) -> Result<Option<i64>, RefError> {
        if self.get(i).is_empty() {
            Ok(None)
        } else {
            self.int(i).map(Some)
        }
    }
}

fn csv_error(file: &str, header: &[String], e: csv::Error, last_line: u64) -> RefError {
    let line = e.position().map_or(last_line + 1, csv::Position::line);
    match e.kind() {
        csv::ErrorKind::Io(io) => gzip_error(file, io, Some(last_line)),
        csv::ErrorKind::Utf8 { err, .. } => RefError::NotUtf8 {
            file: file.to_owned(),
            line,
            field: Some(
                header
                    .get(err.field())
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", err.field() + 1)),
            ),
        },
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => RefError::FieldCount {
            file: file.to_owned(),
            line,
            expected: *expected_len,
            found: *len,
        },
        _ => RefError::Csv {
            file: file.to_owned(),
            line,
            reason: e.to_string(),
        },
    }
}

/// Checks that a whole buffer is UTF-8 before handing it to the JSON parser,
/// whose own message would not say "encoding".
pub(crate) fn check_utf8<'b>(file: &str, bytes: &'b [u8]) -> Result<&'b str, RefError> {
    std::str::from_utf8(bytes).map_err(|e| RefError::NotUtf8 {
        file: file.to_owned(),
        line: count_lines(&bytes[..e.valid_up_to()]) + 1,
        field: None,
    })
}

fn count_lines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Reads a top-level JSON array element by element and calls `each` with
/// every element and the line it starts on. Parsing one element at a time is
/// what gives each entry its line number, which the JSON parser does not
/// expose for values inside an array.
pub(crate) fn json_array<'de, T, F>(file: &str, text: &'de str, each: F) -> Result<(), RefError>
where
    T: Deserialize<'de>,
    F: FnMut(T, u64) -> Result<(), RefError>,
{
    json_array_bounded(file, text, usize::MAX, each)
}

/// [`json_array`], refusing an element longer than `max_bytes`.
pub(crate) fn json_array_bounded<'de, T, F>(
    file: &str,
    text: &'de str,
    max_bytes: usize,
    mut each: F,
) -> Result<(), RefError>
where
    T: Deserialize<'de>,
    F: FnMut(T, u64) -> Result<(), RefError>,
{
    let bytes = text.as_bytes();
    let mut pos = 0usize;
    let mut line = 1u64;
    let mut counted = 0usize;
    let mut line_at = |p: usize| {
        line += count_lines(&bytes[counted..p]);
        counted = p;
        line
    };
    let syntax = |line: u64, reason: &str| RefError::Json {
        file: file.to_owned(),
        line,
        column: 0,
        reason: reason.to_owned(),
    };
    pos = skip_ws(bytes, pos);
    if bytes.get(pos) != Some(&b'[') {
        return Err(syntax(line_at(pos), "un tableau JSON `[` est attendu"));
    }
    pos = skip_ws(bytes, pos + 1);
    if bytes.get(pos) == Some(&b']') {
        return Ok(());
    }
    loop {
        let start = line_at(pos);
        let mut stream = serde_json::Deserializer::from_str(&text[pos..]).into_iter::<T>();
        match stream.next() {
            Some(Ok(_)) if stream.byte_offset() > max_bytes => {
                return Err(syntax(
                    start,
                    &format!(
                        "élément de {} octets, plus que la limite de {} octets par élément",
                        crate::limits::thousands(stream.byte_offset() as u64),
                        crate::limits::thousands(max_bytes as u64)
                    ),
                ))
            }
            Some(Ok(value)) => each(value, start)?,
            Some(Err(e)) => {
                return Err(RefError::Json {
                    file: file.to_owned(),
                    line: start + e.line() as u64 - 1,
                    column: e.column() as u64,
                    reason: e.to_string(),
                })
            }
            None => return Err(syntax(start, "fin de fichier dans le tableau JSON")),
        }
        pos = skip_ws(bytes, pos + stream.byte_offset());
        match bytes.get(pos) {
            Some(b',') => pos = skip_ws(bytes, pos + 1),
            Some(b']') => break,
            _ => return Err(syntax(line_at(pos), "`,` ou `]` attendu après un élément")),
        }
    }
    if skip_ws(bytes, pos + 1) != bytes.len() {
        return Err(syntax(
            line_at(pos + 1),
            "texte après la fin du tableau JSON",
        ));
    }
    Ok(())
}

fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\t' | b'\n' | b'\r') {
        pos += 1;
    }
    pos
}

/// Undoes the doubled apostrophes (`d''engins`) some exports carry, a
/// leftover of SQL quoting in the publisher's pipeline.
pub(crate) fn clean_text(s: &str) -> String {
    let s = s.trim();
    if s.contains("''") {
        s.replace("''", "'")
    } else {
        s.to_owned()
    }
}

/// `Some(owned)` for a non-empty field.
pub(crate) fn non_empty(s: &str) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        // Published test vectors of FNV-1a 64.
        let mut c = Checksum::new();
        assert_eq!(c.finish(), "fnv1a64:cbf29ce484222325");
        c.update(b"a");
        assert_eq!(c.finish(), "fnv1a64:af63dc4c8601ec8c");
        let mut c = Checksum::new();
        c.update(b"foobar");
        assert_eq!(c.finish(), "fnv1a64:85944171f73967e8");
    }

    #[test]
    fn json_array_gives_each_element_its_line() {
        let text = "[\n{\"a\":1},\n\n {\"a\":2}\n]\n";
        let mut seen = Vec::new();
        json_array("t.json", text, |v: serde_json::Value, line| {
            seen.push((v["a"].as_i64().unwrap(), line));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, vec![(1, 2), (2, 4)]);
    }

    #[test]
    fn json_array_reports_the_line_of_a_syntax_error() {
        let text = "[\n{\"a\":1},\n{\"a\":}\n]";
        let err = json_array("t.json", text, |_: serde_json::Value, _| Ok(())).unwrap_err();
        match err {
            RefError::Json { line, .. } => assert_eq!(line, 3),
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn doubled_apostrophes_are_undone() {
        assert_eq!(clean_text(" Conduite d''engins "), "Conduite d'engins");
    }
}
