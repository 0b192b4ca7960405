//! Unit tests of the tension readers.

use super::*;

#[test]
fn reads_rows_in_any_column_order_with_decimal_commas() {
    let csv = "period,code_rome,territory_type,territory_code,offers,jobseekers_a,outflow_rate,difficult_share\n\
               2020,J1501,ze,0303,12,10,\"0,25\",0.5\n\
               2021,J1501,ze,0303,x,10,0.3,\n";
    let (rows, notes) = read_components("t.csv", csv.as_bytes()).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].outflow_rate, Some(0.25));
    assert_eq!(rows[1].offers, None);
    assert_eq!(rows[1].difficult_share, None);
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].line, 3);
    assert!(notes[0].reason.contains("offers"));
}

#[test]
fn refuses_missing_columns_bad_periods_and_other_encodings() {
    let err = read_components("t.csv", b"code_rome,period\nJ1501,2020\n").unwrap_err();
    assert!(
        err.iter()
            .any(|e| e.line == Some(1) && e.reason.contains("« offers » absente")),
        "{err:?}"
    );
    let csv = format!("{}\nJ1501,ze,0303,20,1,1,0.1,0.2\n", COLUMNS.join(","));
    let err = read_components("t.csv", csv.as_bytes()).unwrap_err();
    assert!(
        err[0].line == Some(2) && err[0].reason.contains("AAAA"),
        "{err:?}"
    );
    assert!(read_components("t.csv", b"\xff\xfe").is_err());
}

#[test]
fn reads_the_bassin_indicators_with_their_levels() {
    let csv = "annee;ROME;cbassin;oee;defm_abc;ind_tension_d;ind_int_emb_d;ind_main_oeuvre_d;ind_dur_empl_d;ind_cond_travail_d;ind_mismatch_geo_d;ind_specif_form_empl_d\n\
               2021;J1501;301;16,5;28,25;5;5;1;5;4;;5\n";
    let Published::Values { rows, .. } =
        read_published("m.csv", csv.as_bytes(), None, &Default::default()).unwrap()
    else {
        panic!("values expected")
    };
    assert_eq!(rows.len(), 8, "two counts and six levels (one empty)");
    assert!(rows
        .iter()
        .all(|r| r.territory_code == "0301" && r.territory_type == "bassin"));
    let offers = rows.iter().find(|r| r.indicator == "OFFRES").unwrap();
    assert_eq!(offers.value, Some(16.5));
    let t = rows.iter().find(|r| r.indicator == "TENSION").unwrap();
    assert_eq!(t.level, Some(5));
    let bad = csv.replace(";5;5;1;5;4;;5", ";5;9;1;5;4;;5");
    let err = read_published("m.csv", bad.as_bytes(), None, &Default::default()).unwrap_err();
    assert_eq!(
        (err[0].line, err[0].field.as_deref()),
        (Some(2), Some("ind_int_emb_d")),
        "{err:?}"
    );
    assert_eq!(
        err[0].to_string(),
        "m.csv, ligne 2, ind_int_emb_d : « 9 » n'est pas un niveau de 1 à 5"
    );
}

#[test]
fn maps_bmo_families_through_the_dares_table() {
    let dares = "FAP,Familles professionnelles,PCS,Professions,ROME,Qualification,Libellé\n\
                 , FAP-2009,, PCS 2003,,,ROME version 3\n\
                 A,Agriculture,,,,,\n\
                 A0Z41,Éleveurs salariés,691b,Ouvriers,A1403,,Aide\n\
                 ,,,,A1407,,Élevage bovin\n";
    let Published::FapRomes(map) =
        read_published("d.csv", dares.as_bytes(), None, &Default::default()).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        map,
        [
            ("A0Z41".to_owned(), "A1403".to_owned()),
            ("A0Z41".into(), "A1407".into())
        ]
    );
    let mut faps = std::collections::HashMap::new();
    faps.insert(
        "A0Z41".to_owned(),
        vec!["A1403".to_owned(), "A1407".to_owned()],
    );
    let bmo = "fap_code,fap,tension_pct,rome_code,rome_label\nA0Z41,Éleveurs,61.9,A1403,X\nZZZ99,Autre,10,B1101,Y\n";
    assert!(
        read_published("b.csv", bmo.as_bytes(), None, &faps).unwrap_err()[0]
            .reason
            .contains("--period")
    );
    let Published::Values { rows, notes, .. } =
        read_published("b.csv", bmo.as_bytes(), Some("2020"), &faps).unwrap()
    else {
        panic!()
    };
    let codes: Vec<&str> = rows.iter().map(|r| r.code_rome.as_str()).collect();
    assert_eq!(codes, ["A1403", "A1407", "B1101"]);
    assert_eq!(notes.len(), 1, "{notes:?}");
    let sample = "CATCHMENT_AREA_CODE,FAP_CODE,NB_RECRUT_PROJECTS,NB_DIFF_RECRUT_PROJECTS,NB_SEASON_RECRUT_PROJECTS\n0202,A0Z41,40,10,\n";
    let Published::Values { rows, .. } =
        read_published("s.csv", sample.as_bytes(), Some("2019"), &faps).unwrap()
    else {
        panic!()
    };
    let projects: Vec<f64> = rows
        .iter()
        .filter(|r| r.indicator == "BMO_PROJETS")
        .filter_map(|r| r.value)
        .collect();
    assert_eq!(projects, [20.0, 20.0], "split evenly over the two fiches");
}

#[test]
fn reads_the_statistics_table_and_refuses_unknown_files() {
    let csv = "code_rome,territory_type,territory_code,period,indicator,value,level\n\
               J1501,departement,973,2024,INT_EMB,\"0,42\",4\n\
               J1501,bassin,301,2024,TENSION,,3\n";
    let Published::Values { rows, .. } =
        read_published("s.csv", csv.as_bytes(), None, &Default::default()).unwrap()
    else {
        panic!()
    };
    assert_eq!(rows[0].value, Some(0.42));
    assert_eq!(rows[1].territory_code, "0301");
    let bad = csv
        .replace("TENSION,", "FOO,")
        .replace("departement", "canton");
    let err = read_published("s.csv", bad.as_bytes(), None, &Default::default()).unwrap_err();
    assert_eq!(err.len(), 2, "{err:?}");
    assert!(
        (
            err[0].line,
            err[0].field.as_deref(),
            err[1].line,
            err[1].field.as_deref()
        ) == (Some(2), Some("territory_type"), Some(3), Some("indicator")),
        "{err:?}"
    );
    let err = read_published("x.csv", b"a,b\n1,2\n", None, &Default::default()).unwrap_err();
    assert!(err[0].reason.contains("format non reconnu"));
}
