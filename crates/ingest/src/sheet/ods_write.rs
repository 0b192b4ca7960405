//! ODS writing. Many public bodies in France work with LibreOffice, so
//! exports are offered in its native format too. An ODS file is a ZIP
//! archive whose first entry, `mimetype`, is stored uncompressed; the few
//! records of that archive are written here directly, with `flate2` for the
//! compression and the CRC, rather than pulling in a ZIP library.

use std::io::Write;

use flate2::write::DeflateEncoder;
use flate2::{Compression, Crc};

use super::workbook::SHEET_NAME;
use super::{SheetError, Table};

const MIMETYPE: &str = "application/vnd.oasis.opendocument.spreadsheet";

const MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"#;

const CONTENT_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" office:version="1.2">
<office:automatic-styles><style:style style:name="bold" style:family="table-cell"><style:text-properties fo:font-weight="bold"/></style:style></office:automatic-styles>
<office:body><office:spreadsheet>"#;

const CONTENT_TAIL: &str = "</office:spreadsheet></office:body></office:document-content>\n";

/// Writes a table as an ODS workbook with one sheet, a bold header and every
/// cell as text.
pub(super) fn write(table: &Table) -> Result<Vec<u8>, SheetError> {
    let mut content = String::from(CONTENT_HEAD);
    content.push_str(&format!("<table:table table:name=\"{SHEET_NAME}\">"));
    push_row(&mut content, &table.headers, true);
    for row in &table.rows {
        push_row(&mut content, &row.cells, false);
    }
    content.push_str("</table:table>");
    content.push_str(CONTENT_TAIL);

    let mut zip = ZipWriter::default();
    zip.add("mimetype", MIMETYPE.as_bytes(), false)?;
    zip.add("content.xml", content.as_bytes(), true)?;
    zip.add("META-INF/manifest.xml", MANIFEST.as_bytes(), true)?;
    Ok(zip.finish())
}

fn push_row(out: &mut String, cells: &[String], header: bool) {
    out.push_str("<table:table-row>");
    for cell in cells {
        if cell.is_empty() {
            out.push_str("<table:table-cell/>");
            continue;
        }
        out.push_str("<table:table-cell office:value-type=\"string\"");
        if header {
            out.push_str(" table:style-name=\"bold\"");
        }
        out.push('>');
        for line in cell.split('\n') {
            out.push_str("<text:p>");
            push_text(out, line.strip_suffix('\r').unwrap_or(line));
            out.push_str("</text:p>");
        }
        out.push_str("</table:table-cell>");
    }
    out.push_str("</table:table-row>\n");
}

/// Writes paragraph text. ODF collapses runs of spaces and drops those at
/// the ends of a paragraph, so every space that follows another one or sits
/// at an end is written as `<text:s/>` to come back exactly as it was.
fn push_text(out: &mut String, line: &str) {
    let mut previous_space = true;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' if previous_space || chars.peek().is_none() => out.push_str("<text:s/>"),
            ' ' => out.push(' '),
            '\t' => out.push_str("<text:tab/>"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Control characters are not allowed in XML 1.0.
            c if c.is_control() => {}
            c => out.push(c),
        }
        previous_space = c == ' ';
    }
}

/// The few ZIP records an ODS file needs: local headers, a central
/// directory, an end record. No ZIP64: a spreadsheet export stays far below
/// 4 GiB.
#[derive(Default)]
struct ZipWriter {
    data: Vec<u8>,
    central: Vec<u8>,
    entries: u16,
}

/// 1980-01-01 00:00, the ZIP epoch: a fixed date keeps exports reproducible.
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (1 << 5) | 1;

impl ZipWriter {
    fn add(&mut self, name: &str, content: &[u8], compress: bool) -> Result<(), SheetError> {
        let too_big = || SheetError::Write("fichier trop volumineux pour une archive ODS".into());
        let mut crc = Crc::new();
        crc.update(content);
        let (method, stored) = if compress {
            let mut enc = DeflateEncoder::new(Vec::new(), Compression::default());
            enc.write_all(content)
                .map_err(|e| SheetError::Write(e.to_string()))?;
            let compressed = enc.finish().map_err(|e| SheetError::Write(e.to_string()))?;
            (8u16, compressed)
        } else {
            (0u16, content.to_vec())
        };
        let offset = u32::try_from(self.data.len()).map_err(|_| too_big())?;
        let size = u32::try_from(content.len()).map_err(|_| too_big())?;
        let csize = u32::try_from(stored.len()).map_err(|_| too_big())?;
        let name_len = u16::try_from(name.len()).map_err(|_| too_big())?;

        let common = |buf: &mut Vec<u8>| {
            put16(buf, 20); // version needed: 2.0
            put16(buf, 0); // flags
            put16(buf, method);
            put16(buf, DOS_TIME);
            put16(buf, DOS_DATE);
            put32(buf, crc.sum());
            put32(buf, csize);
            put32(buf, size);
            put16(buf, name_len);
            put16(buf, 0); // extra field length
        };

        put32(&mut self.data, 0x0403_4b50);
        common(&mut self.data);
        self.data.extend_from_slice(name.as_bytes());
        self.data.extend_from_slice(&stored);

        put32(&mut self.central, 0x0201_4b50);
        put16(&mut self.central, 20); // version made by
        common(&mut self.central);
        put16(&mut self.central, 0); // comment length
        put16(&mut self.central, 0); // disk number
        put16(&mut self.central, 0); // internal attributes
        put32(&mut self.central, 0); // external attributes
        put32(&mut self.central, offset);
        self.central.extend_from_slice(name.as_bytes());
        self.entries += 1;
        Ok(())
    }

    fn finish(mut self) -> Vec<u8> {
        let offset = self.data.len() as u32;
        let size = self.central.len() as u32;
        self.data.extend_from_slice(&self.central);
        put32(&mut self.data, 0x0605_4b50);
        put16(&mut self.data, 0); // this disk
        put16(&mut self.data, 0); // disk of the central directory
        put16(&mut self.data, self.entries);
        put16(&mut self.data, self.entries);
        put32(&mut self.data, size);
        put32(&mut self.data, offset);
        put16(&mut self.data, 0); // comment length
        self.data
    }
}

fn put16(buf: &mut Vec<u8>, v: u16) {
    buf.extend_from_slice(&v.to_le_bytes());
}

fn put32(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_survive() {
        let mut s = String::new();
        push_text(&mut s, " a  b<c ");
        assert_eq!(s, "<text:s/>a <text:s/>b&lt;c<text:s/>");
    }
}
