//! Spreadsheet import and export: tables from CSV, XLSX and ODS, member and
//! formation sheets with every error reported at its line and column.

use std::path::{Path, PathBuf};

use domain::network::chrono_free::Date;
use domain::network::{FormationInput, MemberInput};
use domain::{Level, MemberKind, Modality, Pathway, PublicationStatus, Siret, Uai};
use ingest::sheet::{
    format_cell_errors, formations_from_table, formations_to_table, members_from_table,
    members_to_table, read_table, read_table_file, write_table, CellError, FormationExport,
    ProviderRef, Row, SheetError, SheetFormat, Table, FORMATION_COLUMNS, MEMBER_COLUMNS,
};

/// SIRET of INSEE's head office, public.
const INSEE_SIRET: &str = "12002701600050";
/// Invented SIRETs with valid keys.
const SIRET_A: &str = "12345678200010";
const SIRET_B: &str = "98765432400019";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sheet")
        .join(name)
}

fn csv(text: &str) -> Table {
    read_table(text.as_bytes(), SheetFormat::Csv).expect("readable CSV")
}

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| (*s).to_owned()).collect()
}

fn lines(table: &Table) -> Vec<usize> {
    table.rows.iter().map(|r| r.line).collect()
}

/// The errors as `line column` pairs, to check where they are.
fn places(errs: &[CellError]) -> Vec<(usize, &str)> {
    errs.iter().map(|e| (e.line, e.column.as_str())).collect()
}

fn member_errors(text: &str) -> Vec<CellError> {
    members_from_table(&csv(text)).expect_err("the file has errors")
}

// ---------------------------------------------------------------- tables

#[test]
fn csv_with_semicolons_and_bom() {
    let t = read_table(
        "\u{feff}nom;type;siret\r\nLycée A;lycee;\r\nINSEE;collectivite;120 027 016 00050\r\n"
            .as_bytes(),
        SheetFormat::Csv,
    )
    .unwrap();
    assert_eq!(t.header_line, 1);
    assert_eq!(t.headers, ["nom", "type", "siret"]);
    assert_eq!(lines(&t), [2, 3]);
    assert_eq!(t.rows[0].cells, ["Lycée A", "lycee", ""]);
    assert_eq!(t.rows[1].cells[2], "120 027 016 00050");
}

#[test]
fn csv_with_commas_keeps_semicolons_in_cells() {
    let t = csv("nom,description\nA,un; deux\n\"B, C\",trois\n");
    assert_eq!(t.headers, ["nom", "description"]);
    assert_eq!(t.rows[0].cells, ["A", "un; deux"]);
    assert_eq!(t.rows[1].cells, ["B, C", "trois"]);
}

#[test]
fn quoted_newlines_keep_line_numbers() {
    let t = csv("nom;type;description\nA;lycee;\"première ligne\nseconde ligne\ntroisième\"\nB;cfa;x\n\nC;cfa;\"\"\"cité\"\"\"\n");
    assert_eq!(
        t.rows[0].cells[2],
        "première ligne\nseconde ligne\ntroisième"
    );
    // B starts on line 5 of the file, after the three lines of A; the
    // blank line 6 is skipped and C keeps its line 7.
    assert_eq!(lines(&t), [2, 5, 7]);
    assert_eq!(t.rows[2].cells[2], "\"cité\"");
    let errs = member_errors("nom;type;description\nA;lycee;\"x\ny\"\nB;inconnu;z\n");
    assert_eq!(places(&errs), [(4, "type")]);
}

#[test]
fn blank_rows_and_short_rows() {
    let t = csv("nom;type;siret\nA;lycee;\n;;\n  ; ;\n\n");
    assert_eq!(lines(&t), [2]);
    assert_eq!(t.rows[0].cells, ["A", "lycee", ""]);
    // In CSV a short row is a truncated line, not blank cells.
    let err = read_table(b"nom;type;siret\nA;lycee\n", SheetFormat::Csv).unwrap_err();
    assert!(
        err.to_string()
            .contains("ligne 2 : 2 champ(s) au lieu de 3"),
        "{err}"
    );
}

#[test]
fn latin1_is_refused_with_its_line() {
    // « Lycée » in Windows-1252 / Latin-1: é is the single byte 0xE9.
    let bytes = b"nom;type\nA;lycee\nLyc\xe9e B;lycee\n";
    let err = read_table(bytes, SheetFormat::Csv).unwrap_err();
    assert!(
        matches!(err, SheetError::NotUtf8 { line: 3, .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("ligne 3"), "{message}");
    assert!(message.contains("UTF-8"), "{message}");
    assert!(message.contains("enregistrez"), "{message}");
}

#[test]
fn utf16_is_refused() {
    let err = read_table(b"\xff\xfen\x00o\x00m\x00", SheetFormat::Csv).unwrap_err();
    assert!(err.to_string().contains("UTF-16"), "{err}");
}

#[test]
fn empty_files_say_so() {
    for text in ["", "\n\n", "\u{feff}"] {
        let err = read_table(text.as_bytes(), SheetFormat::Csv).unwrap_err();
        assert!(matches!(err, SheetError::NoHeader), "{err:?}");
    }
}

#[test]
fn formats_are_detected_from_content_then_name() {
    let xlsx = std::fs::read(fixture("members.xlsx")).unwrap();
    let ods = std::fs::read(fixture("members.ods")).unwrap();
    assert_eq!(
        SheetFormat::detect("membres.xlsx", &xlsx).unwrap(),
        SheetFormat::Xlsx
    );
    assert_eq!(
        SheetFormat::detect("renamed.csv", &ods).unwrap(),
        SheetFormat::Ods
    );
    assert_eq!(
        SheetFormat::detect("export", &xlsx).unwrap(),
        SheetFormat::Xlsx
    );
    assert_eq!(
        SheetFormat::detect("membres.txt", b"nom;type").unwrap(),
        SheetFormat::Csv
    );
    assert!(SheetFormat::detect("faux.xlsx", b"nom;type").is_err());
    let xls = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0];
    let err = SheetFormat::detect("vieux.xls", &xls).unwrap_err();
    assert!(err.to_string().contains(".xlsx"), "{err}");
}

/// A table with what usually breaks on the way: leading zeros, long
/// identifiers, accents, line breaks, spaces, something that looks like a
/// formula, empty cells.
fn tricky_table() -> Table {
    Table::new(
        strings(&["nom", "code_insee", "siret", "description", "vide"]),
        vec![
            strings(&[
                "Lycée d'Hôtellerie",
                "01053",
                INSEE_SIRET,
                "ligne 1\nligne 2",
                "",
            ]),
            strings(&["« Œuvre »", "2A004", "", "  deux  espaces ", "=1+1"]),
            strings(&["C", "97311", "0001", "\ttabulation", "x"]),
        ],
    )
}

fn round_trip(table: &Table, format: SheetFormat) -> Table {
    let mut out = Vec::new();
    write_table(table, format, &mut out).unwrap();
    assert_eq!(SheetFormat::detect("sans-extension", &out).unwrap(), format);
    read_table(&out, format).unwrap()
}

#[test]
fn xlsx_written_then_read_is_the_same_table() {
    let t = tricky_table();
    assert_eq!(round_trip(&t, SheetFormat::Xlsx), t);
}

#[test]
fn ods_written_then_read_is_the_same_table() {
    let t = tricky_table();
    assert_eq!(round_trip(&t, SheetFormat::Ods), t);
}

#[test]
fn csv_written_then_read_is_the_same_table() {
    let t = tricky_table();
    let mut out = Vec::new();
    write_table(&t, SheetFormat::Csv, &mut out).unwrap();
    assert!(
        out.starts_with(b"\xEF\xBB\xBFnom;code_insee;"),
        "BOM and `;` for Excel"
    );
    let back = read_table(&out, SheetFormat::Csv).unwrap();
    assert_eq!(back.headers, t.headers);
    let cells = |t: &Table| t.rows.iter().map(|r| r.cells.clone()).collect::<Vec<_>>();
    assert_eq!(cells(&back), cells(&t));
    // The first row holds a line break, so the next one starts a line later.
    assert_eq!(lines(&back), [2, 4, 5]);
}

#[test]
fn xlsx_fixture_is_read() {
    let t = read_table_file(&fixture("members.xlsx")).unwrap();
    assert_eq!(
        t.headers,
        [
            "Nom",
            "Type",
            "SIRET",
            "UAI",
            "Code INSEE",
            "Date d'adhésion",
            "Inventé"
        ]
    );
    // Styled empty rows 4 and 5 are left out; the second sheet is ignored.
    assert_eq!(lines(&t), [2, 3]);
    assert_eq!(
        t.rows[0].cells,
        [
            "Lycée Melkior-Garré",
            "lycee",
            "",
            "9730235T",
            "97311",
            "2019-09-01",
            "non"
        ]
    );
    assert_eq!(
        t.rows[1].cells,
        [
            "INSEE",
            "Collectivité, administration",
            INSEE_SIRET,
            "",
            "1053",
            "01/09/2020",
            "oui"
        ]
    );

    let members = members_from_table(&t).unwrap();
    assert_eq!(members[0].0, 2);
    let lycee = &members[0].1;
    assert_eq!(lycee.kind, MemberKind::Lycee);
    assert_eq!(lycee.joined_on, Date::new(2019, 9, 1));
    assert!(!lycee.invented);
    let insee = &members[1].1;
    assert_eq!(insee.kind, MemberKind::Public);
    assert_eq!(insee.siret.as_deref(), Some(INSEE_SIRET));
    assert_eq!(
        insee.code_insee.as_deref(),
        Some("01053"),
        "leading zero restored"
    );
    assert_eq!(insee.joined_on, Date::new(2020, 9, 1));
    assert!(insee.invented);
    assert_eq!(insee.status, PublicationStatus::Draft, "draft unless told");
}

#[test]
fn ods_fixture_is_read() {
    let t = read_table_file(&fixture("members.ods")).unwrap();
    // The sheet starts with an empty row: lines are those LibreOffice shows.
    assert_eq!(t.header_line, 2);
    assert_eq!(
        t.headers,
        [
            "nom",
            "type",
            "uai",
            "code_insee",
            "date_adhesion",
            "description"
        ]
    );
    assert_eq!(lines(&t), [3, 4]);
    assert_eq!(
        t.rows[0].cells,
        [
            "Lycée Melkior-Garré",
            "Lycée",
            "9730235T",
            "97311",
            "2019-09-01",
            "Santé  et social\nCayenne"
        ]
    );
    assert_eq!(
        t.rows[1].cells,
        ["CFA régional", "cfa", "", "", "2021-01-15", ""]
    );

    let members = members_from_table(&t).unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(
        members[0].1.kind,
        MemberKind::Lycee,
        "label accepted for the type"
    );
    assert_eq!(members[1].0, 4);
    assert_eq!(members[1].1.joined_on, Date::new(2021, 1, 15));
}

#[test]
fn csv_fixture_is_read_from_disk() {
    let t = read_table_file(&fixture("members.csv")).unwrap();
    let members = members_from_table(&t).unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(
        members[1].1.description.as_deref(),
        Some("Plateau technique\n« santé »")
    );
}

// ---------------------------------------------------------------- members

#[test]
fn headers_match_whatever_their_case_and_accents() {
    let t = csv("NOM;Type;Date d'adhésion;Site Web;INVENTÉ\nA;lycee;01/09/2020;https://a.fr;oui\n");
    let m = members_from_table(&t).unwrap();
    assert_eq!(m[0].1.joined_on, Date::new(2020, 9, 1));
    assert_eq!(m[0].1.website.as_deref(), Some("https://a.fr"));
    assert!(m[0].1.invented);
}

#[test]
fn wrong_columns_are_named() {
    let errs = member_errors("nom;couleur;siret;Siret\nA;bleu;;\n");
    let messages = format_cell_errors("membres.csv", &errs);
    assert_eq!(errs.len(), 3, "{messages}");
    assert_eq!(errs[0].column, "couleur");
    assert!(errs[0].message.contains("inconnue"), "{messages}");
    assert!(
        errs[0].message.contains("date_adhesion"),
        "lists the known columns: {messages}"
    );
    assert_eq!(errs[1].column, "Siret");
    assert!(
        errs[1].message.contains("en double (colonnes C et D)"),
        "{messages}"
    );
    assert_eq!(errs[2].column, "type");
    assert!(
        errs[2].message.contains("obligatoire absente"),
        "{messages}"
    );
    assert!(errs.iter().all(|e| e.line == 1));
}

#[test]
fn duplicate_siret_names_both_lines() {
    let errs = member_errors(&format!(
        "nom;type;siret;uai\nA;employeur;{SIRET_A};\nB;employeur;{SIRET_B};\nC;lycee;;0750001U\nD;employeur;{};0750001u\n",
        "123 456 782 00010"
    ));
    let messages = format_cell_errors("membres.csv", &errs);
    assert_eq!(places(&errs), [(5, "siret"), (5, "uai")], "{messages}");
    assert!(errs[0].message.contains("ligne 2"), "{messages}");
    assert!(errs[0].message.contains("ligne 5"), "{messages}");
    assert!(errs[1].message.contains("ligne 4"), "{messages}");
}

#[test]
fn every_invalid_cell_is_reported_with_its_row_and_column() {
    let errs = member_errors(
        "nom;type;siret;uai;code_insee;code_postal;site_web;date_adhesion;date_sortie;statut;invente\n\
         A;lycee;12002701600051;;;;;;;;\n\
         B;lycee;;9730235A;;;;;;;\n\
         C;lycee;;;973;;;;;;\n\
         D;lycee;;;;;;31/02/2020;;;\n\
         ;fusée;ABC;97302;97311;973;www.x.fr;2021-01-01;2020-01-01;visible;peut-être\n\
         F;cfa;;;;;;;;;\n",
    );
    let messages = format_cell_errors("membres.csv", &errs);
    assert_eq!(
        places(&errs),
        [
            (2, "siret"),
            (3, "uai"),
            (4, "code_insee"),
            (5, "date_adhesion"),
            (6, "nom"),
            (6, "type"),
            (6, "siret"),
            (6, "uai"),
            (6, "code_postal"),
            (6, "site_web"),
            (6, "date_sortie"),
            (6, "statut"),
            (6, "invente"),
        ],
        "{messages}"
    );
    assert!(errs[0].message.contains("Luhn"), "{messages}");
    assert!(
        errs[1].message.contains("lettre attendue est T"),
        "{messages}"
    );
    assert_eq!(errs[3].value, "31/02/2020");
    assert!(
        errs[5].message.contains("lycee"),
        "lists the accepted types: {messages}"
    );
    assert!(messages.starts_with(
        "membres.csv:2: siret « 12002701600051 »: la clé de contrôle du SIRET est fausse"
    ));
    assert!(
        messages.contains("membres.csv:4: code_insee « 973 »: "),
        "{messages}"
    );
    assert!(
        messages.contains("membres.csv:6: date_sortie « 2020-01-01 »: "),
        "{messages}"
    );
    assert_eq!(messages.lines().count(), errs.len());
}

#[test]
fn cells_without_a_header_are_reported() {
    let errs = member_errors("nom;;type;\nA;;lycee;\nB;perdu;lycee;encore\n");
    assert_eq!(
        places(&errs),
        [
            (3, "colonne B (sans en-tête)"),
            (3, "colonne D (sans en-tête)")
        ]
    );
}

fn sample_members() -> Vec<MemberInput> {
    vec![
        MemberInput {
            name: "Lycée Melkior-Garré".into(),
            kind: MemberKind::Lycee,
            siret: None,
            uai: Some("9730235T".into()),
            code_insee: Some("97302".into()),
            address: Some("Route de Montabo".into()),
            postcode: Some("97300".into()),
            website: Some("https://example.org/lycee".into()),
            description: Some("Bac pro ASSP; CAP AEPE\nPlateau « santé »".into()),
            joined_on: Date::new(2019, 9, 1),
            left_on: None,
            status: PublicationStatus::Published,
            invented: false,
        },
        MemberInput {
            name: "Employeur, fictif".into(),
            kind: MemberKind::Employer,
            siret: Some(SIRET_A.into()),
            uai: None,
            code_insee: Some("01053".into()),
            address: None,
            postcode: Some("01000".into()),
            website: None,
            description: None,
            joined_on: Date::new(2020, 1, 31),
            left_on: Date::new(2024, 12, 31),
            status: PublicationStatus::Draft,
            invented: true,
        },
    ]
}

#[test]
fn members_export_reimports_unchanged() {
    let members = sample_members();
    let table = members_to_table(&members);
    assert_eq!(
        table.headers,
        MEMBER_COLUMNS.iter().map(|c| c.name).collect::<Vec<_>>()
    );
    for format in [SheetFormat::Csv, SheetFormat::Xlsx, SheetFormat::Ods] {
        let mut out = Vec::new();
        write_table(&table, format, &mut out).unwrap();
        let back = read_table(&out, format).unwrap();
        let imported = members_from_table(&back)
            .unwrap_or_else(|e| panic!("{format:?}: {}", format_cell_errors("export", &e)));
        let imported: Vec<_> = imported.into_iter().map(|(_, m)| m).collect();
        assert_eq!(imported, members, "{format:?}");
        assert_eq!(members_to_table(&imported), table, "{format:?}");
    }
}

#[test]
fn identifiers_are_normalised_on_import() {
    let m = members_from_table(&csv(
        "nom;type;siret;uai;code_insee\nA;employeur;120 027 016 00050;9730235t;2a004\n",
    ))
    .unwrap();
    let m = &m[0].1;
    assert_eq!(m.siret.as_deref(), Some(INSEE_SIRET));
    assert_eq!(m.uai.as_deref(), Some("9730235T"));
    assert_eq!(m.code_insee.as_deref(), Some("2A004"));
}

// ---------------------------------------------------------------- formations

const FORMATION_HEADER: &str = "cle;intitule;certifinfo;niveau;voie;modalite;fournisseur_siret;fournisseur_uai;fournisseur;code_insee_lieu;capacite;duree_heures;codes_rome\n";

#[test]
fn formation_providers_by_siret_uai_or_name() {
    let t = csv(&format!(
        "{FORMATION_HEADER}\
         F1;BTS SP3S;100123;5;scolaire;;{INSEE_SIRET};9730235T;Lycée;97302;24;1200;K1201 k1205\n\
         F2;CAP AEPE;;Niveau 3;apprentissage;hybride;;9730235t;;97311;12;;\n\
         F3;Titre ADVF;;;continue;à distance;;;Greta de Guyane;;;400;K1302,K1304\n"
    ));
    let rows = formations_from_table(&t).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].line, 2);
    assert_eq!(
        rows[0].provider,
        ProviderRef::Siret(Siret::parse(INSEE_SIRET).unwrap())
    );
    assert_eq!(rows[0].provider_name.as_deref(), Some("Lycée"));
    assert_eq!(
        rows[1].provider,
        ProviderRef::Uai(Uai::parse("9730235T").unwrap())
    );
    assert_eq!(
        rows[2].provider,
        ProviderRef::Name("Greta de Guyane".into())
    );
    let f = &rows[0].input;
    assert_eq!(f.provider_id, 0, "left to the caller");
    assert_eq!(f.external_key.as_deref(), Some("F1"));
    assert_eq!(f.certification_code, Some(100123));
    assert_eq!(f.level, Level::new(5));
    assert_eq!(f.pathway, Pathway::School);
    assert_eq!(f.modality, Modality::OnSite, "présentiel unless told");
    assert_eq!(f.capacity, Some(24));
    assert_eq!(f.duration_hours, Some(1200));
    assert_eq!(f.rome_codes, ["K1201", "K1205"]);
    assert_eq!(rows[1].input.level, Level::new(3));
    assert_eq!(rows[1].input.modality, Modality::Hybrid);
    assert_eq!(rows[2].input.modality, Modality::Distance);
    assert_eq!(rows[2].input.rome_codes, ["K1302", "K1304"]);
}

#[test]
fn formation_errors_have_row_and_column() {
    let t = csv(&format!(
        "{FORMATION_HEADER}\
         F1;BTS;;9;scolaire;;12002701600051;;;97302;;;\n\
         F2;CAP;abc;3;;;;9730235A;;97 311;-1;0;K1200\n\
         F1;Titre;;;continue;en ligne;;;;;douze;;\n"
    ));
    let errs = formations_from_table(&t).unwrap_err();
    let messages = format_cell_errors("formations.csv", &errs);
    assert_eq!(
        places(&errs),
        [
            (2, "niveau"),
            (2, "fournisseur_siret"),
            (3, "certifinfo"),
            (3, "voie"),
            (3, "fournisseur_uai"),
            (3, "code_insee_lieu"),
            (3, "capacite"),
            (3, "duree_heures"),
            (3, "codes_rome"),
            (4, "cle"),
            (4, "modalite"),
            (4, "fournisseur"),
            (4, "capacite"),
        ],
        "{messages}"
    );
    assert!(
        messages.contains("formations.csv:2: niveau « 9 »: niveau inconnu"),
        "{messages}"
    );
    assert!(
        errs[9].message.contains("ligne 2") && errs[9].message.contains("ligne 4"),
        "{messages}"
    );
    assert!(errs[11].message.contains("SIRET, UAI ou nom"), "{messages}");
}

#[test]
fn formation_sheet_needs_a_provider_column() {
    let errs = formations_from_table(&csv("intitule;voie\nBTS;scolaire\n")).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert!(errs[0].column.contains("fournisseur_uai"), "{:?}", errs[0]);
}

#[test]
fn formations_export_reimports_unchanged() {
    let exports = vec![
        FormationExport {
            formation: FormationInput {
                title: "BTS Services et prestations des secteurs sanitaire et social".into(),
                certification_code: Some(100123),
                level: Level::new(5),
                pathway: Pathway::Apprenticeship,
                modality: Modality::Hybrid,
                provider_id: 0,
                site_code_insee: Some("97302".into()),
                capacity: Some(24),
                duration_hours: Some(1350),
                description: Some("Deux ans; stage\nen établissement".into()),
                status: PublicationStatus::Published,
                rome_codes: vec!["K1201".into(), "K1205".into()],
                external_key: Some("F-001".into()),
                invented: false,
            },
            provider_siret: None,
            provider_uai: Some("9730235T".into()),
            provider_name: "Lycée Melkior-Garré".into(),
        },
        FormationExport {
            formation: FormationInput {
                title: "Titre ADVF".into(),
                certification_code: None,
                level: None,
                pathway: Pathway::Continuing,
                modality: Modality::OnSite,
                provider_id: 0,
                site_code_insee: None,
                capacity: None,
                duration_hours: None,
                description: None,
                status: PublicationStatus::Draft,
                rome_codes: vec![],
                external_key: None,
                invented: true,
            },
            provider_siret: Some(SIRET_B.into()),
            provider_uai: None,
            provider_name: "Organisme fictif".into(),
        },
    ];
    let table = formations_to_table(&exports);
    assert_eq!(
        table.headers,
        FORMATION_COLUMNS.iter().map(|c| c.name).collect::<Vec<_>>()
    );
    for format in [SheetFormat::Csv, SheetFormat::Xlsx, SheetFormat::Ods] {
        let mut out = Vec::new();
        write_table(&table, format, &mut out).unwrap();
        let rows = formations_from_table(&read_table(&out, format).unwrap())
            .unwrap_or_else(|e| panic!("{format:?}: {}", format_cell_errors("export", &e)));
        assert_eq!(
            rows[0].provider,
            ProviderRef::Uai(Uai::parse("9730235T").unwrap())
        );
        assert_eq!(
            rows[1].provider,
            ProviderRef::Siret(Siret::parse(SIRET_B).unwrap())
        );
        let again: Vec<_> = rows
            .iter()
            .zip(&exports)
            .map(|(r, e)| {
                assert_eq!(r.input, e.formation, "{format:?}");
                FormationExport {
                    formation: r.input.clone(),
                    provider_siret: e.provider_siret.clone(),
                    provider_uai: e.provider_uai.clone(),
                    provider_name: r.provider_name.clone().unwrap_or_default(),
                }
            })
            .collect();
        assert_eq!(formations_to_table(&again), table, "{format:?}");
    }
}

#[test]
fn table_rows_remember_their_lines() {
    let t = Table::new(strings(&["a"]), vec![strings(&["1"]), strings(&["2"])]);
    assert_eq!(
        t.rows,
        [
            Row {
                line: 2,
                cells: strings(&["1"])
            },
            Row {
                line: 3,
                cells: strings(&["2"])
            }
        ]
    );
}
