//! InserJeunes and the BCN tables shipped in `data/inserjeunes/` (real
//! files, compressed), and broken copies refused with their line.

use std::io::Read;
use std::path::Path;

use ingest::inserjeunes::{read_outcomes, OutcomeFile};

fn shipped(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/inserjeunes")
        .join(format!("{name}.gz"));
    let gz = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn region_file_keeps_the_insee_code_and_its_counts() {
    let bytes = shipped("orion_ij_region_data.csv");
    let OutcomeFile::Regions(rows) = read_outcomes("ij.csv", &bytes, None).unwrap() else {
        panic!()
    };
    assert_eq!(rows.len(), 40_322);
    let guyane: Vec<_> = rows.iter().filter(|r| r.region_code == "03").collect();
    assert_eq!(
        guyane.len(),
        746,
        "Guyane's rows, found by code_region 03 (code_region_ij is 08)"
    );
    // The published rates are the counts' ratios: recompute a few.
    let text = String::from_utf8(bytes).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
            .unwrap()
    };
    let (c_e6, c_out, c_t6) = (
        col("nb_en_emploi_6_mois"),
        col("nb_sortant"),
        col("taux_emploi_6_mois"),
    );
    let mut checked = 0;
    for r in reader.records().take(2000) {
        let r = r.unwrap();
        let (Ok(e), Ok(n), Ok(t)) = (
            r[c_e6].parse::<f64>(),
            r[c_out].parse::<f64>(),
            r[c_t6].parse::<f64>(),
        ) else {
            continue;
        };
        if n > 0.0 {
            assert!(((e * 100.0 / n) - t).abs() <= 0.5 + 1e-9, "{e}/{n} vs {t}");
            checked += 1;
        }
    }
    assert!(checked > 500, "{checked}");
}

#[test]
fn bcn_tables_and_establishments() {
    let OutcomeFile::Formations(f) =
        read_outcomes("f.csv", &shipped("bcn_nFormationDiplome_.csv"), None).unwrap()
    else {
        panic!()
    };
    assert!(
        f.iter().any(|f| f.cfd == "50033205"),
        "CAP accompagnant éducatif petite enfance"
    );
    let OutcomeFile::Levels(l) =
        read_outcomes("n.csv", &shipped("bcn_nNiveauFormationDiplome_.csv"), None).unwrap()
    else {
        panic!()
    };
    assert!(
        l.iter()
            .any(|(code, level)| code == "500" && *level == Some(3)),
        "CAP is level 3"
    );
    let OutcomeFile::Mefs(m) = read_outcomes("m.csv", &shipped("bcn_nMef.csv"), None).unwrap()
    else {
        panic!()
    };
    assert!(m.len() > 5_000);
    let bytes = shipped("depp-2022-etablissements-2022_2023-pro.csv");
    let OutcomeFile::Establishments(e) =
        read_outcomes("depp-2022-etablissements-2022_2023-pro.csv", &bytes, None).unwrap()
    else {
        panic!()
    };
    assert!(e
        .iter()
        .all(|e| e.millesime == "2022_2023" && e.voie == "pro"));
    assert!(
        e.iter().any(|e| e.rate_employed_6m.is_none()),
        "« nd » is kept as missing"
    );
    // Without a millésime in the name or given, refused.
    let err = read_outcomes("etabs.csv", &bytes, None).unwrap_err();
    assert!(err[0].reason.contains("millésime") && err[0].line.is_none());
}

#[test]
fn broken_copies_are_refused_with_their_line() {
    let text = String::from_utf8(shipped("orion_ij_region_data.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().take(30).map(str::to_owned).collect();
    lines[4] = lines[4].replacen(";scolaire;", ";alternance;", 1);
    let err = read_outcomes("ij.csv", lines.join("\n").as_bytes(), None).unwrap_err();
    assert_eq!(err.len(), 1, "{err:?}");
    assert_eq!(
        (err[0].line, err[0].field.as_deref()),
        (Some(5), Some("voie")),
        "{err:?}"
    );
    let err = read_outcomes("x.csv", b"a;b\n1;2\n", None).unwrap_err();
    assert!(err[0].reason.contains("format non reconnu"));
}
