//! Hostile files, generated here rather than committed: each must be
//! refused with a message naming the limit or the line, never abort the
//! process or eat its memory, and exports must never carry a formula.

use std::io::{Cursor, Write};

use domain::network::chrono_free::Date;
use domain::network::MemberInput;
use domain::skills::{SkillLabel, SkillMatcher};
use domain::{MemberKind, PublicationStatus};
use ingest::lheo::{parse_lheo, ParseOptions};
use ingest::postings::read_postings;
use ingest::sheet::{
    members_from_table, members_to_table, read_table, write_table, SheetError, SheetFormat,
};
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

const LHEO_VALID: &str = include_str!("fixtures/lheo/valide-2.3.xml");

/// Writes a ZIP archive of `(name, content)` entries, deflated.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, content) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(content).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Feuil1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;

/// A minimal XLSX workbook whose only sheet is `sheet_data` after `head`.
fn xlsx(head: &str, sheet_data: &str) -> Vec<u8> {
    let sheet = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{head}<sheetData>{sheet_data}</sheetData></worksheet>"#
    );
    zip_of(&[
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("_rels/.rels", RELS.as_bytes()),
        ("xl/workbook.xml", WORKBOOK.as_bytes()),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
    ])
}

fn inline(cell: &str, text: &str) -> String {
    format!(r#"<c r="{cell}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

#[test]
fn the_hand_made_workbook_is_readable() {
    let data = format!(
        r#"<row r="1">{}{}</row><row r="2">{}{}</row>"#,
        inline("A1", "nom"),
        inline("B1", "type"),
        inline("A2", "Lycée"),
        inline("B2", "lycee")
    );
    let t = read_table(&xlsx("", &data), SheetFormat::Xlsx).unwrap();
    assert_eq!(t.headers, ["nom", "type"]);
    assert_eq!(t.rows[0].cells, ["Lycée", "lycee"]);
}

#[test]
fn a_huge_declared_dimension_is_refused_before_reading() {
    let data = format!(r#"<row r="1">{}</row>"#, inline("A1", "nom"));
    let bytes = xlsx(r#"<dimension ref="A1:XFD1048576"/>"#, &data);
    assert!(bytes.len() < 8 * 1024);
    let e = read_table(&bytes, SheetFormat::Xlsx).unwrap_err();
    assert!(matches!(e, SheetError::Limit(_)), "{e:?}");
    assert!(e.to_string().contains("A1:XFD1048576"), "{e}");
    assert!(e.to_string().contains("5 000 000 cellules"), "{e}");
}

#[test]
fn far_apart_cells_do_not_allocate_the_rectangle_between_them() {
    // A1 and XFD1048576: 17 billion cells as a rectangle, two as cells.
    let data = format!(
        r#"<row r="1">{}</row><row r="1048576">{}</row>"#,
        inline("A1", "nom"),
        inline("XFD1048576", "x")
    );
    let t = read_table(&xlsx("", &data), SheetFormat::Xlsx).unwrap();
    assert_eq!(t.headers, ["nom"]);
    assert_eq!(t.rows.len(), 1);
    assert_eq!(t.rows[0].line, 1_048_576);
}

#[test]
fn a_declared_shared_string_count_is_bounded() {
    let sst = r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4000000000" uniqueCount="4000000000"><si><t>nom</t></si></sst>"#;
    let sheet = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>"#;
    let bytes = zip_of(&[
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("_rels/.rels", RELS.as_bytes()),
        ("xl/workbook.xml", WORKBOOK.as_bytes()),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes()),
        ("xl/sharedStrings.xml", sst.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
    ]);
    let e = read_table(&bytes, SheetFormat::Xlsx).unwrap_err();
    assert!(matches!(e, SheetError::Limit(_)), "{e:?}");
}

#[test]
fn a_compression_bomb_cell_is_refused() {
    // 40 MB of one letter deflate to about 40 KB: a ratio of 1 000.
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, content) in [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", RELS),
        ("xl/workbook.xml", WORKBOOK),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>"#).unwrap();
    let chunk = vec![b'A'; 1 << 20];
    for _ in 0..40 {
        zip.write_all(&chunk).unwrap();
    }
    zip.write_all(b"</t></is></c></row></sheetData></worksheet>")
        .unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    assert!(bytes.len() < 1 << 20, "{}", bytes.len());
    let e = read_table(&bytes, SheetFormat::Xlsx).unwrap_err();
    assert!(matches!(e, SheetError::Limit(_)), "{e:?}");
    assert!(e.to_string().contains("compressé"), "{e}");
}

#[test]
fn an_ods_with_repeated_cells_to_the_edge_is_refused() {
    let content = r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="F"><table:table-row table:number-rows-repeated="1048576"><table:table-cell table:number-columns-repeated="16384" office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#;
    let bytes = zip_of(&[
        (
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet".as_slice(),
        ),
        ("content.xml", content.as_bytes()),
    ]);
    let e = read_table(&bytes, SheetFormat::Ods).unwrap_err();
    assert!(matches!(e, SheetError::Limit(_)), "{e:?}");
}

#[test]
fn a_cell_longer_than_excel_allows_is_refused() {
    let long = "é".repeat(40_000);
    let csv = format!("nom;type\n{long};lycee\n");
    let e = read_table(csv.as_bytes(), SheetFormat::Csv).unwrap_err();
    assert!(
        e.to_string().contains("ligne 2, colonne 1 (« nom »)"),
        "{e}"
    );
    assert!(e.to_string().contains("32 767"), "{e}");
}

#[test]
fn deeply_nested_lheo_is_refused_without_overflowing_the_stack() {
    let depth = 30_000;
    let nested = format!(
        "<objectif-formation>{}{}</objectif-formation>",
        "<b>".repeat(depth),
        "</b>".repeat(depth)
    );
    let start = LHEO_VALID.find("<objectif-formation>").unwrap();
    let end = LHEO_VALID.find("</objectif-formation>").unwrap() + "</objectif-formation>".len();
    let file = format!("{}{nested}{}", &LHEO_VALID[..start], &LHEO_VALID[end..]);
    assert!(file.len() > 200_000);
    let e = parse_lheo(file.as_bytes(), &ParseOptions::default()).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("64 niveaux"), "{text}");
}

#[test]
fn two_lheo_offers_with_one_numero_are_refused_naming_both_lines() {
    let start = LHEO_VALID.find("    <formation numero=\"F1\">").unwrap();
    let end = LHEO_VALID.find("</formation>").unwrap() + "</formation>\n".len();
    let offer = &LHEO_VALID[start..end];
    let file = format!("{}{offer}{}", &LHEO_VALID[..end], &LHEO_VALID[end..]);
    let first = LHEO_VALID[..start].lines().count() + 1;
    let second = first + offer.lines().count();
    let e = parse_lheo(file.as_bytes(), &ParseOptions::default()).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains(&format!(
            "« F1 » en double : déjà présente ligne {first} (et ici ligne {second})"
        )),
        "{text}"
    );
}

#[test]
fn empty_postings_files_are_refused_like_empty_csv() {
    let matcher = SkillMatcher::new(&[SkillLabel {
        code_ogr: 1,
        label: "soins".into(),
    }]);
    for empty in ["", "  \n\n", "[]", " [ \n ] ", "\u{feff}"] {
        let e = read_postings(empty.as_bytes(), &matcher, 2).unwrap_err();
        assert!(e[0].message.contains("aucune offre"), "{empty:?}: {e:?}");
    }
    assert!(read_table(b"", SheetFormat::Csv).is_err());
}

#[test]
fn a_posting_line_over_the_limit_is_refused() {
    let matcher = SkillMatcher::new(&[]);
    let big = format!(
        r#"{{"id":"1","intitule":"x","dateCreation":"2024-01-01","description":"{}"}}"#,
        "a".repeat(2 << 20)
    );
    let e = read_postings(big.as_bytes(), &matcher, 1).unwrap_err();
    assert!(e[0].message.contains("limite"), "{e:?}");
    let e = read_postings(format!("[{big}]").as_bytes(), &matcher, 1).unwrap_err();
    assert!(e[0].message.contains("limite"), "{e:?}");
}

fn member(name: &str) -> MemberInput {
    MemberInput {
        name: name.into(),
        kind: MemberKind::Employer,
        siret: None,
        uai: None,
        code_insee: None,
        address: Some("-2+3".into()),
        postcode: None,
        website: None,
        description: Some("@SUM(A1)".into()),
        joined_on: Date::new(2020, 1, 1),
        left_on: None,
        status: PublicationStatus::Draft,
        invented: false,
    }
}

#[test]
fn formulas_are_neutralised_in_exports_and_restored_on_import() {
    let members: Vec<MemberInput> = [
        "=HYPERLINK(\"http://x\")",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1)",
        "'=déjà cité",
        "-2.5",
    ]
    .into_iter()
    .map(member)
    .collect();
    let table = members_to_table(&members);
    for format in [SheetFormat::Csv, SheetFormat::Xlsx, SheetFormat::Ods] {
        let mut out = Vec::new();
        write_table(&table, format, &mut out).unwrap();
        if format == SheetFormat::Csv {
            let text = String::from_utf8(out.clone()).unwrap();
            for line in text.lines().skip(1) {
                let first = line.trim_start_matches('\u{feff}').trim_start_matches('"');
                assert!(
                    !first.starts_with(['=', '+', '@']) && !first.starts_with("-2+"),
                    "{line}"
                );
            }
            assert!(text.contains("'=HYPERLINK"), "{text}");
            assert!(
                text.contains(";-2.5;") || text.contains("\n-2.5;"),
                "{text}"
            );
        }
        let back = read_table(&out, format).unwrap();
        let imported: Vec<MemberInput> = members_from_table(&back)
            .unwrap_or_else(|e| panic!("{format:?}: {e:?}"))
            .into_iter()
            .map(|(_, m)| m)
            .collect();
        assert_eq!(imported, members, "{format:?}");
    }
}

#[test]
fn a_members_csv_cut_short_is_refused() {
    let table = members_to_table(&[member("Lycée A"), member("Lycée B"), member("Lycée C")]);
    let mut out = Vec::new();
    write_table(&table, SheetFormat::Csv, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    // Cut in the middle of the last line, 60 % of the way through it.
    let last = text.trim_end().rfind('\n').unwrap();
    let cut = last + (text.len() - last) * 6 / 10;
    let cut = (cut..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap();
    let e = read_table(&text.as_bytes()[..cut], SheetFormat::Csv).unwrap_err();
    assert!(matches!(e, SheetError::Malformed(_)), "{e:?}");
    assert!(e.to_string().contains("ligne 4 :"), "{e}");
}

#[test]
fn a_nul_in_a_cell_is_refused_with_line_and_column() {
    let e = read_table(b"nom;type\nLyc\0e;lycee\n", SheetFormat::Csv).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("ligne 2, colonne 1 (« nom »)"), "{text}");
    assert!(text.contains("U+0000"), "{text}");
    let data = format!(
        r#"<row r="1">{}{}</row><row r="3">{}{}</row>"#,
        inline("A1", "nom"),
        inline("B1", "type"),
        inline("A3", "x"),
        inline("B3", "a&#1;b")
    );
    let e = read_table(&xlsx("", &data), SheetFormat::Xlsx).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("ligne 3, colonne B (« type »)"), "{text}");
}
