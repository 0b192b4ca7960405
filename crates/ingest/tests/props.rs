//! Property tests: every reader of `ingest` takes arbitrary bytes or text
//! (multi-byte characters, combining marks, NUL, emoji at every position,
//! broken archives) and answers with a value or a typed error, never a
//! panic.

use std::collections::HashMap;

use domain::skills::{SkillLabel, SkillMatcher};
use ingest::inserjeunes::{quadrant, read_outcomes};
use ingest::lheo::{level_from_lheo, parse_lheo, pathway_from_lheo, ParseOptions};
use ingest::postings::read_postings;
use ingest::sheet::{
    formations_from_table, members_from_table, members_to_table, read_table, write_table,
    SheetFormat, Table, FORMATION_COLUMNS, MEMBER_COLUMNS,
};
use ingest::tension::{basin_code, read_components, read_published};
use proptest::prelude::*;

const NASTY: &[char] = &[
    '\0', '\t', '\n', '\r', '\u{1}', 'é', '\u{301}', '😀', '\u{200d}', '＝', '\'', '"', ';', ',',
    '=', '+', '-', '@', ' ', '<', '>', '&', '[', ']', '{', '}', ':', '0', '9', 'A', 'J',
    '\u{feff}',
];

fn any_char() -> impl Strategy<Value = char> {
    prop_oneof![
        2 => any::<char>(),
        3 => proptest::sample::select(NASTY),
        1 => proptest::char::range('a', 'z'),
    ]
}

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any_char(), 0..max).prop_map(|v| v.into_iter().collect())
}

/// A CSV-like text: a known header, then lines of arbitrary cells.
fn csv_like(header: &'static str) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::collection::vec(text(8), 0..6), 0..5).prop_map(
        move |rows| {
            let mut out = String::from(header);
            for r in rows {
                out.push('\n');
                out.push_str(&r.join(";"));
            }
            out
        },
    )
}

/// A valid export with some bytes changed or the tail cut off.
fn damaged(format: SheetFormat) -> impl Strategy<Value = Vec<u8>> {
    let table = members_to_table(&[]);
    let mut base = Vec::new();
    write_table(&table, format, &mut base).unwrap();
    let len = base.len();
    (
        proptest::collection::vec((0..len, any::<u8>()), 0..8),
        0..=len,
    )
        .prop_map(move |(edits, cut)| {
            let mut b = base.clone();
            for (at, v) in edits {
                b[at] = v;
            }
            b.truncate(cut.max(4));
            b
        })
}

const LHEO_VALID: &str = include_str!("fixtures/lheo/valide-2.3.xml");

fn matcher() -> SkillMatcher {
    SkillMatcher::new(&[SkillLabel {
        code_ogr: 1,
        label: "soins d'hygiène".into(),
    }])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn csv_sheets_never_panic(s in text(80), c in csv_like("nom;type;siret;uai;code_insee;code_postal;date_adhesion")) {
        for input in [&s, &c] {
            let _ = SheetFormat::detect("x.csv", input.as_bytes());
            if let Ok(t) = read_table(input.as_bytes(), SheetFormat::Csv) {
                let _ = members_from_table(&t);
                let _ = formations_from_table(&t);
            }
        }
    }

    #[test]
    fn tables_never_panic_the_row_checks(cells in proptest::collection::vec(proptest::collection::vec(text(10), 0..16), 0..4)) {
        for set in [MEMBER_COLUMNS, FORMATION_COLUMNS] {
            let headers = set.iter().map(|c| c.name.to_owned()).collect();
            let t = Table::new(headers, cells.clone());
            let _ = members_from_table(&t);
            let _ = formations_from_table(&t);
        }
    }

    #[test]
    fn workbooks_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), xlsx in damaged(SheetFormat::Xlsx), ods in damaged(SheetFormat::Ods)) {
        let mut zipped = b"PK\x03\x04".to_vec();
        zipped.extend_from_slice(&bytes);
        for input in [&bytes, &zipped, &xlsx, &ods] {
            let _ = SheetFormat::detect("x.xlsx", input);
            for format in [SheetFormat::Xlsx, SheetFormat::Ods, SheetFormat::Csv] {
                let _ = read_table(input, format);
            }
        }
    }

    #[test]
    fn lheo_never_panics(s in text(120), inside in text(40), cut in 0usize..6000) {
        let _ = parse_lheo(s.as_bytes(), &ParseOptions::default());
        // Arbitrary text in a real file: in a value, as an element, cut short.
        let valued = LHEO_VALID.replacen("BTS SIO", &inside, 1);
        let tagged = LHEO_VALID.replacen("<certifiante>", &format!("<{inside}>"), 1);
        let cut = &LHEO_VALID.as_bytes()[..cut.min(LHEO_VALID.len())];
        for input in [valued.as_bytes(), tagged.as_bytes(), cut] {
            let _ = parse_lheo(input, &ParseOptions::default());
            let _ = parse_lheo(input, &ParseOptions { skip_invalid: true, known_communes: None });
        }
        let _ = level_from_lheo(&inside);
        let _ = pathway_from_lheo(&[&inside], &[&s]);
    }

    #[test]
    fn postings_never_panic(s in text(120), title in text(20), date in text(12), threads in 1usize..4) {
        let m = matcher();
        let _ = read_postings(s.as_bytes(), &m, threads);
        let line = serde_json::json!({
            "id": title, "intitule": title, "dateCreation": date, "romeCode": title,
            "lieuTravail": {"commune": title, "codePostal": date},
            "competences": [{"code": title, "libelle": title}],
            "description": s,
        })
        .to_string();
        let _ = read_postings(line.as_bytes(), &m, threads);
        let _ = read_postings(format!("[{line},{line}]").as_bytes(), &m, threads);
        let _ = read_postings(format!("{line}\n{s}").as_bytes(), &m, threads);
    }

    #[test]
    fn tension_and_outcome_files_never_panic(
        s in text(80),
        components in csv_like("code_rome,territory_type,territory_code,period,offers,jobseekers_a,outflow_rate,difficult_share"),
        published in csv_like("code_rome;territory_type;territory_code;period;indicator;value;level"),
        outcomes in csv_like("millesime;region;code_region;libelle;MEF;FORMATION_DIPLOME;nb_annee_term;nb_sortants;taux_emploi_6_mois;taux_emploi_12_mois;taux_poursuite_etudes"),
        period in text(8),
    ) {
        let faps: HashMap<String, Vec<String>> = HashMap::new();
        for input in [&s, &components, &published, &outcomes, &components.replace(';', ",")] {
            let _ = read_components("f.csv", input.as_bytes());
            let _ = read_published("f.csv", input.as_bytes(), Some(&period), &faps);
            let _ = read_published("f.csv", input.as_bytes(), None, &faps);
            let _ = read_outcomes("f-2022_2023-é.csv", input.as_bytes(), None);
            let _ = read_outcomes("f.csv", input.as_bytes(), Some(&period));
        }
        let _ = basin_code(&s);
        let _ = quadrant(Some(25), Some(f64::NAN), Some(0.5), 0.4, 0.3);
    }
}
