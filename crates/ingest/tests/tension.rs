//! The published tension files shipped in `data/observatoire/` (real files,
//! compressed), a real BMO sample, and broken copies refused with their line.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use ingest::tension::{read_published, Published};

fn shipped(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/observatoire")
        .join(format!("{name}.gz"));
    let gz = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn dares() -> HashMap<String, Vec<String>> {
    let Published::FapRomes(pairs) = read_published(
        "dares.csv",
        &shipped("dares_Rome-V3_vers_Fap-2009_Table.csv"),
        None,
        &HashMap::new(),
    )
    .unwrap() else {
        panic!("the DARES table is recognised")
    };
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (f, r) in pairs {
        map.entry(f).or_default().push(r);
    }
    map
}

#[test]
fn bassin_indicators_of_the_real_file() {
    let bytes = shipped("mobiville_cities-tension-utf8.csv");
    let Published::Values { rows, notes, .. } =
        read_published("m.csv", &bytes, None, &HashMap::new()).unwrap()
    else {
        panic!("values expected")
    };
    assert!(notes.is_empty(), "{notes:?}");
    let tension: Vec<_> = rows.iter().filter(|r| r.indicator == "TENSION").collect();
    assert_eq!(tension.len(), 27_135, "one main level per row of the file");
    // A row read by hand: 2021;A1203;0301;105,7777778;376,5;2;4;1;3;4;4;3
    let find = |ind: &str| {
        rows.iter()
            .find(|r| r.code_rome == "A1203" && r.territory_code == "0301" && r.indicator == ind)
            .unwrap_or_else(|| panic!("{ind}"))
    };
    assert_eq!(find("TENSION").level, Some(2));
    assert_eq!(find("INT_EMB").level, Some(4));
    assert_eq!(find("SPECIF_FORM_EMPL").level, Some(3));
    assert!((find("OFFRES").value.unwrap() - 105.7777778).abs() < 1e-9);
    assert_eq!(find("DEFM_ABC").value, Some(376.5));
    // Guyane's three bassins are there, thinly.
    let guyane: std::collections::BTreeSet<&str> = tension
        .iter()
        .filter(|r| r.territory_code.starts_with("030"))
        .map(|r| r.territory_code.as_str())
        .collect();
    assert_eq!(
        guyane.into_iter().collect::<Vec<_>>(),
        ["0301", "0302", "0303"]
    );
}

#[test]
fn crosswalks_of_the_real_files() {
    let Published::BasinCommunes(rows) = read_published(
        "b.csv",
        &shipped("labonneboite_lbb-pse_bassin-emploi_code-insee.csv"),
        None,
        &HashMap::new(),
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(rows.len(), 38_283);
    // The file writes 301; the indicator files 0301.
    assert!(rows.contains(&("97311".to_owned(), "0302".to_owned())));
    let map = dares();
    assert_eq!(
        map["A0Z41"],
        ["A1403", "A1407", "A1408", "A1409", "A1410", "A1411"]
    );
    assert!(map.len() > 200, "{}", map.len());
}

#[test]
fn bmo_files_go_through_the_dares_table() {
    let map = dares();
    let bytes = shipped("labonneboite_metiers_tension_2019.csv");
    let Published::Values { rows, .. } =
        read_published("bmo.csv", &bytes, Some("2019"), &map).unwrap()
    else {
        panic!()
    };
    // I1606 is reached from several families (qualified G0B40 at 78.10 %,
    // unqualified ones…): the mean of the shares of the families the DARES
    // table links to it, recomputed here from the raw file.
    let text = String::from_utf8(bytes.clone()).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let shares: Vec<f64> = reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| {
            map.get(&r[0])
                .is_some_and(|romes| romes.iter().any(|x| x == "I1606"))
        })
        .map(|r| (r[0].to_owned(), r[2].parse::<f64>().unwrap()))
        .collect::<std::collections::BTreeMap<String, f64>>()
        .into_values()
        .collect();
    assert!(shares.len() >= 2 && shares.contains(&78.1), "{shares:?}");
    let i1606 = rows.iter().find(|r| r.code_rome == "I1606").unwrap();
    let mean = shares.iter().sum::<f64>() / shares.len() as f64;
    assert!(
        (i1606.value.unwrap() - mean).abs() < 1e-9,
        "{:?} vs {mean}",
        i1606.value
    );
    assert!(rows
        .iter()
        .all(|r| r.territory_type == "national" && r.period == "2019"));
    let sample = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/tension/bobemploi_testdata_bmo_sample.csv"),
    )
    .unwrap();
    let Published::Values { rows, .. } =
        read_published("sample.csv", &sample, Some("2019"), &map).unwrap()
    else {
        panic!()
    };
    assert!(rows
        .iter()
        .any(|r| r.territory_code == "0202" && r.indicator == "BMO_PROJETS"));
    // Without the edition, refused.
    let err = read_published("sample.csv", &sample, None, &map).unwrap_err();
    assert!(err[0].reason.contains("--period"), "{err:?}");
}

#[test]
fn broken_copies_are_refused_with_their_line() {
    let bytes = shipped("mobiville_cities-tension-utf8.csv");
    let text = String::from_utf8(bytes).unwrap();
    let mut lines: Vec<String> = text.lines().take(50).map(str::to_owned).collect();
    lines[9] = lines[9].replacen(";5;", ";7;", 1);
    lines[19] = "2021;XX;0203;1;1;1;1;1;1;1;1;1".into();
    let broken = lines.join("\n");
    let err = read_published("m.csv", broken.as_bytes(), None, &HashMap::new()).unwrap_err();
    assert_eq!(err.len(), 2, "{err:?}");
    assert_eq!(err[0].line, Some(10), "{err:?}");
    assert_eq!(
        (err[1].line, err[1].field.as_deref()),
        (Some(20), Some("ROME")),
        "{err:?}"
    );
    let no_column = text
        .lines()
        .take(3)
        .collect::<Vec<_>>()
        .join("\n")
        .replace("ind_dur_empl_d", "autre");
    let err = read_published("m.csv", no_column.as_bytes(), None, &HashMap::new()).unwrap_err();
    assert!(
        err[0].reason.contains("colonne « ind_dur_empl_d » absente"),
        "{err:?}"
    );
    let latin1 = b"annee;ROME;cbassin\n2021;A1101;\xe9\n";
    assert!(
        read_published("m.csv", latin1, None, &HashMap::new()).unwrap_err()[0]
            .reason
            .contains("UTF-8")
    );
}
