//! Hostile files through the command line: each import is refused with exit
//! code 2 and a message naming the file and the limit or the line, never a
//! crash (exit 101, SIGABRT) or a generic failure (exit 1). The files are
//! generated here.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn run(url: &str, work: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_passerelle"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("PASSERELLE_DATA", root().join("data"))
        .current_dir(work)
        .output()
        .expect("run passerelle")
}

/// Runs an import that must be refused; returns its standard error.
fn refused(url: &str, work: &Path, args: &[&str]) -> String {
    let out = run(url, work, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?} should be refused with 2:\n{}\n{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

fn xlsx_with(sheet: &str, extra: Option<(&str, &[u8])>) -> Vec<u8> {
    const TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#;
    const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    const BOOK: &str = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="F" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    const BOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, content) in [
        ("[Content_Types].xml", TYPES.as_bytes()),
        ("_rels/.rels", RELS.as_bytes()),
        ("xl/workbook.xml", BOOK.as_bytes()),
        ("xl/_rels/workbook.xml.rels", BOOK_RELS.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
    ]
    .into_iter()
    .chain(extra)
    {
        zip.start_file(name, options).unwrap();
        zip.write_all(content).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn hostile_files_are_refused_with_exit_code_2() {
    let url = store::testing::sqlite_url("hostile");
    let work = std::env::temp_dir().join(format!("passerelle-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let out = run(&url, &work, &["demo", "--no-serve"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let write = |name: &str, bytes: &[u8]| {
        let p = work.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    };

    // XLSX declaring the whole sheet as its dimension (8 KB).
    let dimension = write(
        "dimension.xlsx",
        &xlsx_with(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData/></worksheet>"#,
            None,
        ),
    );
    let err = refused(
        &url,
        &work,
        &["import", "membres", &dimension, "--campus", "demo"],
    );
    assert!(err.contains("dimension.xlsx"), "{err}");
    assert!(err.contains("limite de 5 000 000 cellules"), "{err}");

    // One 40 MB cell zipped into about 40 KB.
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>"#,
    );
    sheet.push_str(&"A".repeat(40 << 20));
    sheet.push_str("</t></is></c></row></sheetData></worksheet>");
    let bomb = write("bombe.xlsx", &xlsx_with(&sheet, None));
    drop(sheet);
    let err = refused(
        &url,
        &work,
        &["import", "membres", &bomb, "--campus", "demo"],
    );
    assert!(err.contains("bombe.xlsx"), "{err}");
    assert!(err.contains("limite de 200 fois"), "{err}");

    // A members CSV cut in its last line, and one with a NUL.
    let cut = write("coupe.csv", b"nom;type;siret\nLycee A;lycee;\nLycee B;ly");
    let err = refused(
        &url,
        &work,
        &["import", "membres", &cut, "--campus", "demo"],
    );
    assert!(err.contains("coupe.csv"), "{err}");
    assert!(err.contains("ligne 3 : 2 champ(s) au lieu de 3"), "{err}");
    let nul = write("nul.csv", b"nom;type\nLyc\0ee;lycee\n");
    let err = refused(
        &url,
        &work,
        &["import", "membres", &nul, "--campus", "demo"],
    );
    assert!(err.contains("nul.csv"), "{err}");
    assert!(err.contains("U+0000"), "{err}");

    // LHÉO with 30,000 nested elements (a stack overflow before).
    let valid =
        std::fs::read_to_string(root().join("crates/ingest/tests/fixtures/lheo/valide-2.3.xml"))
            .unwrap();
    let nested = format!(
        "<objectif-formation>{}{}</objectif-formation>",
        "<b>".repeat(30_000),
        "</b>".repeat(30_000)
    );
    let start = valid.find("<objectif-formation>").unwrap();
    let end = valid.find("</objectif-formation>").unwrap() + "</objectif-formation>".len();
    let deep = write(
        "profond.xml",
        format!("{}{nested}{}", &valid[..start], &valid[end..]).as_bytes(),
    );
    let err = refused(&url, &work, &["import", "lheo", &deep, "--campus", "demo"]);
    assert!(err.contains("profond.xml"), "{err}");
    assert!(err.contains("64 niveaux"), "{err}");

    // LHÉO with one numero twice.
    let start = valid.find("    <formation numero=\"F1\">").unwrap();
    let end = valid.find("</formation>").unwrap() + "</formation>\n".len();
    let twice = write(
        "double.xml",
        format!("{}{}{}", &valid[..end], &valid[start..end], &valid[end..]).as_bytes(),
    );
    let err = refused(&url, &work, &["import", "lheo", &twice, "--campus", "demo"]);
    assert!(err.contains("double.xml"), "{err}");
    assert!(err.contains("« F1 » en double"), "{err}");

    // Empty postings files.
    for (name, content) in [("vide.json", ""), ("tableau-vide.json", "[]")] {
        let empty = write(name, content.as_bytes());
        let err = refused(&url, &work, &["import", "postings", &empty]);
        assert!(err.contains(name), "{err}");
        assert!(err.contains("aucune offre"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&work);
}
