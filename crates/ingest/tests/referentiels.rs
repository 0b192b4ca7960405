//! The reference data shipped in `data/`: real facts from the real files, and
//! broken copies that must be refused with a message naming file and line.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use flate2::write::GzEncoder;
use flate2::Compression;
use ingest::referentiels::{
    load_all, load_certifinfo, load_rncp, load_rome, load_territories, RefError, Referentiels,
};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

/// The real data sets, parsed once for all the tests of this file.
fn shipped() -> &'static Referentiels {
    static DATA: OnceLock<Referentiels> = OnceLock::new();
    DATA.get_or_init(|| load_all(&data_dir()).expect("the shipped data load"))
}

#[test]
fn guyane_commune_has_its_departement_region_point_and_zone() {
    let t = &shipped().territories;
    let c = t
        .communes
        .iter()
        .find(|c| c.code_insee == "97311")
        .expect("97311 present");
    assert_eq!(c.name, "Saint-Laurent-du-Maroni");
    assert_eq!(c.departement_code, "973");
    assert_eq!(c.region_code, "03");
    let (lat, lon) = (c.latitude.unwrap(), c.longitude.unwrap());
    assert!(
        (2.0..6.0).contains(&lat) && (-55.0..-51.0).contains(&lon),
        "{lat} {lon}"
    );
    assert!(c.employment_area_code.is_some());
    assert!(c.postcodes.contains(&"97320".to_owned()));
}

#[test]
fn paris_lyon_marseille_get_the_mean_of_their_arrondissements() {
    let t = &shipped().territories;
    for (code, lat, lon) in [
        ("75056", 48.86, 2.34),
        ("69123", 45.76, 4.84),
        ("13055", 43.30, 5.40),
    ] {
        let c = t.communes.iter().find(|c| c.code_insee == code).unwrap();
        let (la, lo) = (c.latitude.unwrap(), c.longitude.unwrap());
        assert!(
            (la - lat).abs() < 0.1 && (lo - lon).abs() < 0.1,
            "{code}: {la} {lo}"
        );
        assert!(c.employment_area_code.is_some(), "{code}");
    }
    let paris = t.communes.iter().find(|c| c.code_insee == "75056").unwrap();
    assert!(paris.postcodes.len() >= 20);
    assert!(paris.population.unwrap() > 2_000_000);
}

#[test]
fn territory_counts_are_plausible_and_consistent() {
    let t = &shipped().territories;
    assert_eq!(t.regions.len(), 18);
    assert_eq!(t.departements.len(), 101);
    assert!(
        (28..=32).contains(&t.academies.len()),
        "{}",
        t.academies.len()
    );
    assert!((280..=320).contains(&t.employment_areas.len()));
    assert!(
        (34_800..35_100).contains(&t.communes.len()),
        "{}",
        t.communes.len()
    );
    assert_eq!(t.info.name, "territoires");
    assert!(t.info.checksum.starts_with("fnv1a64:"));

    // Every département has its académie; overseas ones included.
    let guyane = t.departements.iter().find(|d| d.code == "973").unwrap();
    assert_eq!(guyane.region_code, "03");
    assert_eq!(guyane.academie_code.as_deref(), Some("33"));
    let ain = t.departements.iter().find(|d| d.code == "01").unwrap();
    assert_eq!(ain.academie_code.as_deref(), Some("10"));
    let corse = t.departements.iter().find(|d| d.code == "2A").unwrap();
    assert_eq!(corse.academie_code.as_deref(), Some("27"));
    assert!(t.departements.iter().all(|d| d.academie_code.is_some()));
    let lyon = t.academies.iter().find(|a| a.code == "10").unwrap();
    assert_eq!(
        (lyon.name.as_str(), lyon.region_code.as_str()),
        ("Lyon", "84")
    );

    // Nearly every commune is placed; the few that are not are listed.
    let placed = t.communes.iter().filter(|c| c.latitude.is_some()).count();
    assert!(t.communes.len() - placed < 50, "{placed}");
    let zoned = t
        .communes
        .iter()
        .filter(|c| c.employment_area_code.is_some())
        .count();
    assert!(t.communes.len() - zoned < 50, "{zoned}");
    let unplaced: Vec<_> = t.communes.iter().filter(|c| c.latitude.is_none()).collect();
    for c in unplaced {
        assert!(
            t.issues.iter().any(|i| i.message.contains(&c.code_insee)),
            "{} missing from the issues",
            c.code_insee
        );
    }
    let regions: HashSet<_> = t.regions.iter().map(|r| r.code.as_str()).collect();
    let deps: HashSet<_> = t.departements.iter().map(|d| d.code.as_str()).collect();
    let zones: HashSet<_> = t.employment_areas.iter().map(|z| z.code.as_str()).collect();
    for c in &t.communes {
        assert!(deps.contains(c.departement_code.as_str()));
        assert!(regions.contains(c.region_code.as_str()));
        if let Some(z) = &c.employment_area_code {
            assert!(zones.contains(z.as_str()));
        }
    }
}

#[test]
fn rome_has_its_fiches_titles_skills_and_texts() {
    let r = &shipped().rome;
    assert_eq!(r.info.version, "v460");
    assert_eq!(r.occupations.len(), 1_584);
    assert_eq!(r.grands_domaines.len(), 14);
    assert!((100..=120).contains(&r.domaines.len()));
    let parents: HashSet<_> = r
        .occupations
        .iter()
        .map(|o| o.code_rome_parent.as_str())
        .collect();
    assert_eq!(parents.len(), 532);

    let nurse = r
        .occupations
        .iter()
        .find(|o| o.code_rome == "J1506")
        .unwrap();
    assert_eq!(nurse.code_rome_parent, "J1506");
    assert!(nurse.emploi_reglemente || !nurse.label.is_empty());
    assert!(nurse.definition.as_deref().unwrap().contains("infirmier"));
    // Doubled apostrophes of the export are undone.
    let access = nurse.access.as_deref().unwrap();
    assert!(access.contains("Diplôme d'Etat"), "{access}");
    assert!(!access.contains("''"));
    let titles = r.titles.iter().filter(|t| t.code_rome == "J1506").count();
    assert!(titles >= 5, "{titles}");

    assert!((13_000..14_000).contains(&r.titles.len()));
    assert!((33_000..34_000).contains(&r.skills.len()));
    assert!((90_000..91_000).contains(&r.occupation_skills.len()));
    assert!(r.occupation_skills.iter().any(|s| s.core));
    assert!(r.other_item_links > 10_000);
    assert!((14_000..15_000).contains(&r.mobilities.len()));
    assert_eq!(r.interests.len(), 30);
    assert_eq!(r.occupation_interests.len(), 4_444);
    assert!(r.occupations.iter().all(|o| o.definition.is_some()));
    assert!(
        r.issues.is_empty(),
        "{:?}",
        &r.issues[..r.issues.len().min(5)]
    );
}

#[test]
fn certif_info_reports_pseudo_rome_codes_and_keeps_real_links() {
    let c = &shipped().certifications;
    assert!((9_800..10_000).contains(&c.certifications.len()));
    let known: HashSet<_> = shipped()
        .rome
        .occupations
        .iter()
        .map(|o| o.code_rome.as_str())
        .collect();
    assert!(c
        .certification_romes
        .iter()
        .all(|l| known.contains(l.code_rome.as_str())));
    assert!(c.certification_romes.len() > 17_000);
    let pseudo = c
        .issues
        .iter()
        .filter(|i| i.field.starts_with("Code_Rome_") && i.message.contains("pseudo-code"))
        .count();
    assert!(pseudo > 50, "{pseudo}");
    assert!(c
        .issues
        .iter()
        .all(|i| i.line > 1 && i.file == "certifinfo/certif_info.csv.gz"));
    assert!(c.certifications.iter().any(|x| x
        .code_rncp
        .as_deref()
        .is_some_and(|r| r.starts_with("RNCP3"))));
    assert!(
        c.info.published_on.starts_with("2024-"),
        "{}",
        c.info.published_on
    );
    let actuary = c.certifications.iter().find(|x| x.code == 1879).unwrap();
    assert_eq!(actuary.label, "DU actuaire");
    assert_eq!(actuary.updated_on.as_deref(), Some("2020-07-29"));
}

#[test]
fn rncp_links_fiches_to_rome_and_refuses_truncated_codes() {
    let r = &shipped().rncp;
    assert!((17_000..17_500).contains(&r.fiches.len()));
    let f = r.fiches.iter().find(|f| f.code_rncp == "RNCP1000").unwrap();
    assert_eq!(f.level, Some(4));
    assert_eq!(f.valid_until.as_deref(), Some("2016-08-31"));
    assert!(!f.active);
    assert!(r.romes.len() > 40_000);
    assert!(r
        .romes
        .iter()
        .any(|l| l.code_rncp == "RNCP34001" && l.code_rome == "A1101"));
    // `H12` and the like are truncated codes: reported, not linked.
    assert!(r
        .issues
        .iter()
        .any(|i| i.field == "Rome" && i.message.contains("H12")));
    assert!(r.nsf.len() > 20_000 && r.blocs.len() > 16_000 && r.certifiers.len() > 30_000);
    assert!(r.certifiers.iter().any(|c| c.siret.is_some()));
}

#[test]
fn checksums_are_stable_across_loads() {
    let again = load_rome(&data_dir()).unwrap();
    assert_eq!(again.info.checksum, shipped().rome.info.checksum);
    let known = again.known_codes();
    assert_eq!(
        load_rncp(&data_dir(), &known).unwrap().info.checksum,
        shipped().rncp.info.checksum
    );
    let t = load_territories(&data_dir()).unwrap();
    assert_eq!(t.info.checksum, shipped().territories.info.checksum);
    let all: HashSet<_> = [
        &shipped().territories.info.checksum,
        &shipped().rome.info.checksum,
        &shipped().certifications.info.checksum,
        &shipped().rncp.info.checksum,
    ]
    .into_iter()
    .collect();
    assert_eq!(all.len(), 4);
}

// ---- Broken files -------------------------------------------------------

/// A fresh directory holding `files` (relative name → raw content, gzipped
/// unless the name does not end in `.gz`).
fn fixture(test: &str, files: &[(&str, Vec<u8>)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "passerelle-referentiels-{}-{test}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    for (name, content) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let bytes = if name.ends_with(".gz") {
            gz(content)
        } else {
            content.clone()
        };
        std::fs::write(path, bytes).unwrap();
    }
    dir
}

fn gz(content: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(content).unwrap();
    e.finish().unwrap()
}

const CERTIF_HEADER: &str = "Code_Diplome;Libelle_Diplome;Libelle_Type_Diplome;Code_Niveau_Europeen;Date_MaJ;Code_FormaCode;Libelle_FormaCode;Code_Rome_1;Code_Rome_2;Code_Rome_3;Code_Rome_4;Code_Rome_5;Code_Nsf;Code_RNCP;Code_RS;Code_Scolarité;valideur;certificateur;Etat\n";

fn certif(rows: &str) -> Vec<u8> {
    format!("{CERTIF_HEADER}{rows}").into_bytes()
}

/// One Certif Info row: code and label, the named columns set, the others
/// empty, `Etat` 0.
fn crow(code: &str, label: &str, set: &[(&str, &str)]) -> String {
    let fields: Vec<String> = CERTIF_HEADER
        .trim_end()
        .split(';')
        .map(|col| match col {
            "Code_Diplome" => code.to_owned(),
            "Libelle_Diplome" => label.to_owned(),
            "Etat" => "0".to_owned(),
            _ => set
                .iter()
                .find(|(c, _)| *c == col)
                .map(|(_, v)| (*v).to_owned())
                .unwrap_or_default(),
        })
        .collect();
    let mut line = fields.join(";");
    line.push('\n');
    line
}

fn known() -> HashSet<String> {
    ["J1506", "A1101"].map(String::from).into_iter().collect()
}

fn err_of(dir: &Path) -> RefError {
    load_certifinfo(dir, &known()).expect_err("must be refused")
}

#[test]
fn tiny_certif_info_file_loads_and_flags_bad_rome_codes() {
    let nurse = crow(
        "1",
        "Infirmier",
        &[
            ("Code_Niveau_Europeen", "6"),
            ("Date_MaJ", "01/02/2024"),
            ("Code_Rome_1", "J1506"),
            ("Code_Rome_2", "J1500"),
            ("Code_Rome_3", "J15"),
            ("Code_Rome_4", "X9999"),
            ("Code_Rome_5", "Z1234"),
            ("Code_RNCP", "8940"),
            ("certificateur", "Ministère"),
        ],
    );
    let dir = fixture(
        "ok",
        &[("certifinfo/certif_info.csv.gz", certif(&nurse.repeat(2)))],
    );
    let c = load_certifinfo(&dir, &known()).unwrap();
    assert_eq!(c.certifications.len(), 1, "identical rows are merged");
    let cert = &c.certifications[0];
    assert_eq!(cert.code_rncp.as_deref(), Some("RNCP8940"));
    assert_eq!(cert.level, Some(6));
    assert_eq!(cert.updated_on.as_deref(), Some("2024-02-01"));
    assert_eq!(c.certification_romes.len(), 1);
    // J1500 pseudo-code, J15 truncated, X9999 malformed (letter past N), Z1234 too.
    let fields: Vec<_> = c
        .issues
        .iter()
        .map(|i| (i.line, i.field.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            (2, "Code_Rome_2"),
            (2, "Code_Rome_3"),
            (2, "Code_Rome_4"),
            (2, "Code_Rome_5")
        ]
    );
    assert!(c.issues[0].message.contains("pseudo-code"));
    let unknown = load_certifinfo(&dir, &["A1101".to_owned()].into_iter().collect()).unwrap();
    assert!(unknown
        .issues
        .iter()
        .any(|i| i.message.contains("inconnu de ROME 4.0")));
    assert!(unknown.certification_romes.is_empty());
}

#[test]
fn missing_file_is_named() {
    let dir = fixture("missing", &[("certifinfo/other.txt", b"x".to_vec())]);
    let e = err_of(&dir);
    assert!(matches!(e, RefError::MissingFile { .. }), "{e}");
    assert!(
        e.to_string().contains("certifinfo/certif_info.csv.gz"),
        "{e}"
    );
}

#[test]
fn plain_csv_named_gz_is_not_gzip() {
    let dir = fixture("notgz", &[("certifinfo/certif_info.csv", Vec::new())]);
    std::fs::write(dir.join("certifinfo/certif_info.csv.gz"), certif("")).unwrap();
    let e = err_of(&dir);
    assert!(matches!(e, RefError::NotGzip { .. }), "{e}");
    assert!(e.to_string().contains("gzip"), "{e}");
}

#[test]
fn truncated_gzip_is_refused_with_how_far_it_got() {
    let mut rows = String::new();
    for i in 1..=2000 {
        rows.push_str(&crow(
            &i.to_string(),
            &format!("Titre {i}"),
            &[("Code_Rome_1", "J1506")],
        ));
    }
    let full = gz(&certif(&rows));
    let dir = fixture("truncated", &[]);
    std::fs::create_dir_all(dir.join("certifinfo")).unwrap();
    std::fs::write(
        dir.join("certifinfo/certif_info.csv.gz"),
        &full[..full.len() / 2],
    )
    .unwrap();
    let e = err_of(&dir);
    let msg = e.to_string();
    assert!(matches!(e, RefError::CorruptGzip { .. }), "{msg}");
    assert!(
        msg.contains("certifinfo/certif_info.csv.gz")
            && msg.contains("tronqué")
            && msg.contains("après la ligne"),
        "{msg}"
    );
}

#[test]
fn latin1_bytes_are_refused_with_line_and_field() {
    let mut content = certif(&crow("1", "Infirmier", &[]));
    // "Électricien" in Latin-1 on line 3.
    content.extend_from_slice(
        crow("2", "#lectricien", &[])
            .replace('#', "\u{1}")
            .as_bytes(),
    );
    let at = content.iter().rposition(|&b| b == 1).unwrap();
    content[at] = 0xC9;
    let dir = fixture("latin1", &[("certifinfo/certif_info.csv.gz", content)]);
    let e = err_of(&dir);
    assert!(matches!(e, RefError::NotUtf8 { line: 3, .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("ligne 3") && msg.contains("Libelle_Diplome") && msg.contains("UTF-8"),
        "{msg}"
    );
}

#[test]
fn wrong_columns_say_what_was_expected_and_found() {
    let dir = fixture(
        "columns",
        &[(
            "certifinfo/certif_info.csv.gz",
            b"Code;Titre\n1;Infirmier\n".to_vec(),
        )],
    );
    let e = err_of(&dir);
    let msg = e.to_string();
    assert!(matches!(e, RefError::Header { .. }), "{msg}");
    assert!(
        msg.contains("Code_Diplome") && msg.contains("trouvées : Code, Titre"),
        "{msg}"
    );
    assert_eq!(e.line(), Some(1));
}

#[test]
fn wrong_field_count_names_the_line() {
    let dir = fixture(
        "fields",
        &[(
            "certifinfo/certif_info.csv.gz",
            certif(&format!("{}2;Court;;\n", crow("1", "Infirmier", &[]))),
        )],
    );
    let e = err_of(&dir);
    assert!(
        matches!(
            e,
            RefError::FieldCount {
                line: 3,
                expected: 19,
                found: 4,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn duplicate_key_with_other_content_is_refused() {
    let dir = fixture(
        "dupcert",
        &[(
            "certifinfo/certif_info.csv.gz",
            certif(&format!(
                "{}{}",
                crow("7", "Infirmier", &[]),
                crow("7", "Cuisinier", &[])
            )),
        )],
    );
    let e = err_of(&dir);
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            RefError::DuplicateKey {
                line: 3,
                first_line: 2,
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.contains("Code_Diplome") && msg.contains("« 7 »"),
        "{msg}"
    );
}

#[test]
fn unparsable_number_is_refused() {
    let dir = fixture(
        "number",
        &[(
            "certifinfo/certif_info.csv.gz",
            certif(&crow("1", "Infirmier", &[("Code_Niveau_Europeen", "six")])),
        )],
    );
    let e = err_of(&dir);
    let msg = e.to_string();
    assert!(matches!(e, RefError::InvalidValue { line: 2, .. }), "{msg}");
    assert!(
        msg.contains("Code_Niveau_Europeen") && msg.contains("« six »"),
        "{msg}"
    );
}

/// A minimal but complete ROME directory, with `code_rome` rows supplied by
/// the test.
fn rome_files(code_rome_rows: &str) -> Vec<(&'static str, Vec<u8>)> {
    let f = |name: &'static str, text: String| (name, text.into_bytes());
    vec![
        f("rome4/unix_grand_domaine_v460_utf8.csv.gz", "\"code_grand_domaine\",\"libelle_grand_domaine\"\n\"J\",\"Santé\"\n".into()),
        f("rome4/unix_domaine_professionnel_v460_utf8.csv.gz", "\"code_domaine_professionnel\",\"libelle_domaine_professionnel\"\n\"J15\",\"Soins paramédicaux\"\n".into()),
        f(
            "rome4/unix_referentiel_code_rome_v460_utf8.csv.gz",
            format!("\"code_rome\",\"code_fiche_metier\",\"code_ogr\",\"libelle_rome\",\"transition_eco\",\"transition_num\",\"transition_demo\",\"emploi_reglemente\",\"emploi_cadre\",\"code_rome_parent\"\n{code_rome_rows}"),
        ),
        f("rome4/unix_texte_v460_utf8.csv.gz", "\"code_rome\",\"code_compo_bloc\",\"libelle_type_texte\",\"position_phrase\",\"libelle_texte\"\n\"J1506\",\"3\",\"definition\",\"2\",\"Réalise des soins\"\n\"J1506\",\"3\",\"definition\",\"1\",\"Soigne l''enfant.\"\n".into()),
        f("rome4/unix_referentiel_appellation_v460_utf8.csv.gz", "\"code_ogr\",\"libelle_appellation_long\",\"libelle_appellation_court\",\"code_rome\"\n\"38\",\"Infirmier / Infirmière\",\"Infirmier(ère)\",\"J1506\"\n".into()),
        f("rome4/unix_referentiel_competence_v460_utf8.csv.gz", "\"code_ogr\",\"nature\",\"libelle_competence\",\"cat_comp\"\n\"100\",\"Compétence\",\"Poser une perfusion\",\"Savoir-faire\"\n".into()),
        f("rome4/unix_referentiel_savoir_v460_utf8.csv.gz", "\"code_ogr_savoir\",\"libelle_savoir\",\"categorie_savoir\"\n\"200\",\"Anatomie\",\"Domaines d'expertise\"\n".into()),
        f("rome4/unix_coherence_item_v460_utf8.csv.gz", "\"code_rome\",\"code_ogr\",\"coeur_metier\"\n\"J1506\",\"100\",\"Principale\"\n\"J1506\",\"200\",\"\"\n\"J1506\",\"999\",\"\"\n".into()),
        f("rome4/unix_rubrique_mobilite_v460_utf8.csv.gz", "\"code_rome\",\"code_rome_cible\",\"numero_ordre\"\n\"J1506\",\"J1507\",\"1\"\n".into()),
        f("rome4/unix_centre_interet_v460_utf8.csv.gz", "\"code_centre_interet\",\"libelle_centre_interet\",\"definition_centre_interet\"\n\"1\",\"Soigner\",\"\"\n".into()),
        f("rome4/unix_arborescence_centre_interet_v460_utf8.csv.gz", "\"code_centre_interet\",\"code_rome\",\"principal\"\n\"1\",\"J1506\",\"oui\"\n".into()),
    ]
}

const NURSE: &str = "\"J1506\",\"1\",\"38\",\"Infirmier / Infirmière en soins généraux\",\"\",\"\",\"\",\"O\",\"N\",\"J1506\"\n";

#[test]
fn tiny_rome_directory_loads() {
    let dir = fixture("rome-ok", &rome_files(NURSE));
    let r = load_rome(&dir).unwrap();
    assert_eq!(r.occupations.len(), 1);
    let o = &r.occupations[0];
    assert!(o.emploi_reglemente && !o.emploi_cadre);
    assert_eq!(
        o.definition.as_deref(),
        Some("Soigne l'enfant.\nRéalise des soins")
    );
    assert_eq!(r.occupation_skills.len(), 2);
    assert_eq!(r.other_item_links, 1);
    // The mobility towards an unknown fiche is reported, not kept.
    assert!(r.mobilities.is_empty());
    assert_eq!(r.issues.len(), 1);
    assert_eq!(
        (r.issues[0].line, r.issues[0].field.as_str()),
        (2, "code_rome_cible")
    );
}

#[test]
fn same_code_rome_twice_is_refused() {
    let dir = fixture("rome-dup", &rome_files(&format!("{NURSE}{NURSE}")));
    let e = load_rome(&dir).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            RefError::DuplicateKey {
                line: 3,
                first_line: 2,
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.contains("unix_referentiel_code_rome_v460_utf8.csv.gz") && msg.contains("J1506"),
        "{msg}"
    );
}

#[test]
fn duplicate_commune_in_json_names_its_line() {
    let regions = br#"[{"code":"03","nom":"Guyane","zone":"drom"}]"#.to_vec();
    let deps = br#"[{"code":"973","region":"03","nom":"Guyane","zone":"drom"}]"#.to_vec();
    let communes = "[\n{\"code\":\"97311\",\"nom\":\"Saint-Laurent-du-Maroni\",\"type\":\"commune-actuelle\",\"departement\":\"973\",\"region\":\"03\",\"zone\":\"drom\"},\n{\"code\":\"97311\",\"nom\":\"Saint-Laurent-du-Maroni\",\"type\":\"commune-actuelle\",\"departement\":\"973\",\"region\":\"03\",\"zone\":\"drom\"}\n]\n";
    let dir = fixture(
        "communes-dup",
        &[
            ("territoires/regions.json.gz", regions),
            ("territoires/departements.json.gz", deps),
            ("territoires/communes.json.gz", communes.as_bytes().to_vec()),
            (
                "territoires/departements_academies_regions.csv.gz",
                "\u{feff}libelleRegion;codeAcademie;codeRegion;codeDepartement;libelleAcademie;libelleDepartement\nGuyane;33;03;973;Guyane;Guyane\n".as_bytes().to_vec(),
            ),
            ("territoires/insee_ze2020_liste_2022.csv.gz", b"ZE2020,LIBZE2020,NB_COM\n0302,Saint-Laurent,8\n".to_vec()),
            ("territoires/insee_ze2020_composition_communale_2022.csv.gz", b"CODGEO,ZE2020\n97311,0302\n".to_vec()),
            (
                "territoires/laposte_hexasmal_2019.csv.gz",
                b"Code_commune_INSEE;Nom_commune;Code_postal;Libelle_acheminement;Ligne_5;coordonnees_gps\r\n97311;ST LAURENT;97320;ST LAURENT;;5.5, -54.0\r\n".to_vec(),
            ),
        ],
    );
    let e = load_territories(&dir).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            RefError::DuplicateKey {
                line: 3,
                first_line: 2,
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.contains("territoires/communes.json.gz") && msg.contains("97311"),
        "{msg}"
    );
}

/// The default ROME domains of the 12 filières exist in the shipped ROME 4.0.
#[test]
fn default_sector_domains_exist_in_rome() {
    use std::io::Read;
    let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/rome4"));
    let mut text = String::new();
    for name in [
        "unix_domaine_professionnel_v460_utf8.csv.gz",
        "unix_grand_domaine_v460_utf8.csv.gz",
    ] {
        let file = std::fs::File::open(path.join(name)).unwrap();
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut text)
            .unwrap();
    }
    for s in domain::Sector::ALL {
        for d in s.default_rome_domains() {
            assert!(
                text.contains(&format!("\"{d}\",")),
                "{s:?}: domain {d} is not in ROME 4.0"
            );
        }
    }
}
