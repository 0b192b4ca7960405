//! LHÉO import and export, on the real example files and on broken fixtures.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use domain::network::chrono_free::Date;
use domain::{CodeRome, Level, Modality, Pathway};
use ingest::lheo::{
    parse_lheo, parse_lheo_reader, write_lheo_23, ExportOffer, LheoAddress, LheoExportError,
    LheoFormat, LheoImport, LheoRefused, ParseOptions, QualityNote,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lheo")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn import(name: &str) -> LheoImport {
    parse_lheo(&read(name), &ParseOptions::default())
        .unwrap_or_else(|e| panic!("{name} should import: {e}"))
}

fn refused(name: &str) -> LheoRefused {
    match parse_lheo(&read(name), &ParseOptions::default()) {
        Ok(i) => panic!("{name} should be refused, got {} offers", i.offers.len()),
        Err(e) => e,
    }
}

fn date(s: &str) -> Option<Date> {
    Some(Date::parse(s).expect("test date"))
}

fn notes_for<'a>(quality: &'a [QualityNote], field: &str) -> Vec<&'a QualityNote> {
    quality.iter().filter(|n| n.field == field).collect()
}

#[test]
fn every_real_example_imports_with_its_format() {
    let expected = [
        ("exemple-bts-onisep.xml", LheoFormat::V2_2),
        ("exemple-conseiller-insertion.xml", LheoFormat::V1_3),
        ("exemple-leger.xml", LheoFormat::Leger),
        ("exemple-photographe.xml", LheoFormat::V1_3),
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let (_, format) = expected
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("unexpected example {name}"));
        let result = import(&format!("examples/{name}"));
        assert_eq!(result.format, *format, "{name}");
        assert_eq!(result.offers.len(), 1, "{name}");
        assert!(result.rejected.is_empty(), "{name}");
        seen += 1;
    }
    assert_eq!(seen, expected.len());
}

#[test]
fn onisep_2_2_export_is_read_in_full() {
    let r = import("examples/exemple-bts-onisep.xml");
    let o = &r.offers[0];
    assert_eq!(o.line, 4);
    assert_eq!(o.numero.as_deref(), Some("9436_18706"));
    assert_eq!(o.key(), "9436_18706");
    assert_eq!(o.intitule, "BTS négociation et relation client");
    assert!(o
        .objectif
        .as_deref()
        .unwrap()
        .starts_with("<p>A la fois vendeur"));
    assert!(o.resultats_attendus.is_some() && o.contenu.is_some());
    assert_eq!(o.certifiante, Some(true));
    assert_eq!(o.certifications.len(), 1);
    assert_eq!(o.certifications[0].rncp.as_deref(), Some("474"));
    assert_eq!(o.certifications[0].certifinfo.as_deref(), Some("19004"));
    assert_eq!(o.formacodes, ["34582", "34076"]);
    assert_eq!(o.nsf_codes, ["312"]);
    let rome: Vec<&str> = o.rome_codes.iter().map(CodeRome::as_str).collect();
    assert_eq!(rome, ["D1402", "D1403", "D1408"]);
    assert_eq!(o.niveau_entree, None, "0 = information non communiquée");
    assert_eq!(
        o.niveau_sortie,
        Level::new(5),
        "niveau III (BTS) = niveau 5"
    );
    assert_eq!(o.provider.siret.as_deref(), Some("19290076900014"));
    assert_eq!(o.provider.name, "Lycée Kerneuzec");
    assert_eq!(o.provider.raison_sociale, None, "« - » means not given");
    assert_eq!(o.provider.address.code_insee.as_deref(), Some("29233"));
    assert_eq!(o.provider.address.postcode.as_deref(), Some("29391"));
    assert_eq!(o.provider.website.as_deref(), Some("lyceedekerneuzec.fr"));
    assert_eq!(o.actions.len(), 1);
    let a = &o.actions[0];
    assert_eq!(a.line, 32);
    assert_eq!(a.modality, Some(Modality::OnSite));
    assert_eq!(
        a.pathway,
        Pathway::School,
        "public 81061 = formation initiale"
    );
    assert!(!a.is_apprenticeship());
    assert_eq!(a.sites.len(), 1);
    assert_eq!(a.sites[0].code_insee.as_deref(), Some("29233"));
    assert_eq!(a.sites[0].postcode.as_deref(), Some("29391"));
    assert_eq!(a.sites[0].city.as_deref(), Some("QUIMPERLÉ"));
    assert_eq!(a.duree_indicative.as_deref(), Some("2 ans"));
    assert_eq!(a.nombre_heures_total, None);
    assert_eq!(a.sessions.len(), 1);
    assert_eq!(a.sessions[0].start, date("2015-09-01"));
    assert_eq!(a.sessions[0].end, date("2017-08-31"));
    assert!(r.quality.is_empty(), "{:?}", r.quality);
}

#[test]
fn onisep_rewritten_to_2_3_passes_the_strict_2_3_rules() {
    let text = String::from_utf8(read("examples/exemple-bts-onisep.xml")).unwrap();
    let text = text.replace("http://www.lheo.org/2.2", "http://lheo.gouv.fr/2.3");
    let r = parse_lheo(text.as_bytes(), &ParseOptions::default()).unwrap();
    assert_eq!(r.format, LheoFormat::V2_3);
    assert_eq!(r.offers[0].numero.as_deref(), Some("9436_18706"));
}

#[test]
fn lheo_1_3_examples_are_read_with_their_old_codes_noted() {
    let r = import("examples/exemple-conseiller-insertion.xml");
    let o = &r.offers[0];
    assert_eq!(o.line, 7);
    assert_eq!(o.numero, None);
    assert_eq!(
        o.intitule,
        "Titre professionnel conseiller(ère) en insertion professionnelle"
    );
    assert_eq!(o.certifiante, Some(true));
    assert_eq!(o.certifications[0].rncp.as_deref(), Some("403"));
    assert_eq!(o.certifications[0].certifinfo.as_deref(), Some("25051"));
    assert_eq!(o.formacodes, ["44569"]);
    assert!(o.rome_codes.is_empty());
    assert_eq!(o.invalid_rome_codes, ["23221"]);
    assert_eq!(o.niveau_entree, Level::new(4), "niveau IV");
    assert_eq!(o.niveau_sortie, Level::new(5), "niveau III");
    assert_eq!(o.provider.siret.as_deref(), Some("30059912300183"));
    assert_eq!(o.provider.name, "AFPA Rillieux");
    assert_eq!(o.provider.address.code_insee.as_deref(), Some("69286"));
    let a = &o.actions[0];
    assert_eq!(
        a.modality,
        Some(Modality::Hybrid),
        "FOAD 1 = formation mixte"
    );
    assert_eq!(a.pathway, Pathway::Continuing);
    assert_eq!(a.sites[0].code_insee.as_deref(), Some("69286"));
    assert_eq!(a.sites[0].postcode.as_deref(), Some("69144"));
    assert_eq!(a.nombre_heures_total, Some(1260));
    assert_eq!(a.duree_indicative.as_deref(), Some("9 mois"));
    assert_eq!(a.sessions[0].start, date("2008-04-14"));
    assert_eq!(a.sessions[0].end, date("2008-08-01"));
    assert!(o.key().starts_with("content:"));
    let rome = notes_for(&r.quality, "code-ROME");
    assert_eq!(rome.len(), 1);
    assert_eq!(rome[0].line, 17);
    assert!(rome[0].message.contains("ROME v2"), "{}", rome[0].message);
    assert_eq!(r.quality.len(), 1, "{:?}", r.quality);

    let r = import("examples/exemple-photographe.xml");
    let o = &r.offers[0];
    assert_eq!(o.intitule, "CAP photographe");
    assert_eq!(o.certifications[0].rncp, None);
    assert_eq!(o.certifications[0].certifinfo.as_deref(), Some("52747"));
    assert_eq!(o.niveau_entree, None, "1 = sans niveau spécifique");
    let a = &o.actions[0];
    assert_eq!(
        a.pathway,
        Pathway::Apprenticeship,
        "modalite-alternance: Apprentissage"
    );
    assert_eq!(a.modality, Some(Modality::OnSite));
    assert_eq!(a.nombre_heures_total, Some(320));
    assert_eq!(a.sites[0].code_insee.as_deref(), Some("69380"));
    // The documentation's SIRET has a wrong Luhn key, on both bodies.
    let sirets: Vec<(u64, &str)> = r
        .quality
        .iter()
        .filter(|n| n.field.ends_with("SIRET"))
        .map(|n| (n.line, n.field.as_str()))
        .collect();
    assert_eq!(
        sirets,
        [
            (202, "organisme-formation-responsable/SIRET"),
            (264, "organisme-formateur/SIRET")
        ]
    );
}

#[test]
fn lheo_leger_summary_is_one_offer_with_one_action() {
    let r = import("examples/exemple-leger.xml");
    let o = &r.offers[0];
    assert_eq!(o.line, 4);
    assert_eq!(o.numero, None);
    assert_eq!(
        o.url.as_deref(),
        Some("http://formation.prao.org/echanges/lheo2008/7075.xml")
    );
    assert_eq!(
        o.intitule,
        "Titre professionnel conseiller(ère) en insertion professionnelle"
    );
    assert_eq!(o.provider.name, "AFPA Rillieux");
    assert_eq!(o.provider.siret.as_deref(), Some("30059912300183"));
    assert_eq!(o.certifications[0].rncp.as_deref(), Some("403"));
    assert_eq!(o.niveau_entree, Level::new(4));
    let a = &o.actions[0];
    assert_eq!(a.sites[0].code_insee.as_deref(), Some("69286"));
    assert_eq!(a.sites[0].postcode.as_deref(), Some("69144"));
    assert_eq!(a.sites[0].city.as_deref(), Some("Rillieux-la-Pape"));
    assert_eq!(a.modality, Some(Modality::Hybrid));
    assert_eq!(a.nombre_heures_total, Some(1260));
    assert_eq!(a.sessions[0].start, date("2008-04-14"));
    // Same offer as the 1.3 example: same content key.
    let full = import("examples/exemple-conseiller-insertion.xml");
    assert_eq!(o.key(), full.offers[0].key());
}

#[test]
fn valid_2_3_fixture_reads_sessions_places_and_sentinels() {
    let r = import("valide-2.3.xml");
    assert_eq!(r.format, LheoFormat::V2_3);
    assert!(r.quality.is_empty(), "{:?}", r.quality);
    let [f1, f2] = &r.offers[..] else {
        panic!("two offers expected")
    };
    assert_eq!(
        f1.objectif.as_deref(),
        Some("Former des techniciens & techniciennes « réseaux »")
    );
    assert_eq!(f1.niveau_entree, Level::new(4));
    assert_eq!(f1.niveau_sortie, Level::new(5));
    let a = &f1.actions[0];
    assert_eq!(a.numero.as_deref(), Some("F1-A1"));
    assert_eq!(a.pathway, Pathway::Apprenticeship, "public 82027");
    assert_eq!(a.modality, Some(Modality::Hybrid));
    assert_eq!(a.capacity(), Some(24));
    assert_eq!(a.sessions[0].places, Some(24));
    assert_eq!(
        a.sessions[1].start,
        date("2026-09-01"),
        "day 00 = unknown day"
    );
    assert_eq!(a.sessions[1].end, None, "99999999 = open-ended");
    assert_eq!(f2.numero, None);
    assert!(f2.key().starts_with("content:"));
    assert_eq!(f2.objectif, None, "« - » means not given");
    assert_eq!(f2.actions[0].modality, Some(Modality::Distance));
    assert_eq!(f2.actions[0].pathway, Pathway::Continuing);
    assert_eq!(f2.actions[0].sessions[0].start, None, "00000000 = unknown");
    assert_eq!(f2.actions[0].sessions[0].end, None);
    // Reading the same bytes twice gives the same keys (idempotent import).
    let again = import("valide-2.3.xml");
    let keys = |i: &LheoImport| i.offers.iter().map(|o| o.key()).collect::<Vec<_>>();
    assert_eq!(keys(&r), keys(&again));
    // The streaming entry point gives the same result.
    let streamed = parse_lheo_reader(
        std::io::BufReader::with_capacity(7, &read("valide-2.3.xml")[..]),
        &ParseOptions::default(),
    )
    .unwrap();
    assert_eq!(streamed, r);
}

#[test]
fn not_well_formed_xml_is_refused_with_the_line() {
    let e = refused("mal-forme.xml");
    assert_eq!(e.problems.len(), 1, "{e}");
    let p = &e.problems[0];
    assert_eq!(p.line, 7, "{p}");
    assert!(p.message.starts_with("XML mal formé"), "{p}");
    assert!(p.message.contains("intitule-formation"), "{p}");
    assert!(p.message.contains("ligne 6"), "{p}");
    // skip_invalid does not rescue a file that is not XML.
    let opts = ParseOptions {
        skip_invalid: true,
        ..ParseOptions::default()
    };
    assert!(parse_lheo(&read("mal-forme.xml"), &opts).is_err());
}

#[test]
fn truncated_file_reports_the_elements_left_open() {
    let text = "<lheo xmlns=\"http://lheo.gouv.fr/2.3\">\n<offres>\n<formation numero=\"T\">\n";
    let e = parse_lheo(text.as_bytes(), &ParseOptions::default()).unwrap_err();
    let lines: Vec<u64> = e.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [1, 2, 3], "{e}");
    assert!(
        e.problems[2]
            .message
            .contains("<formation> ouvert ligne 3 n'est jamais fermé"),
        "{e}"
    );
}

#[test]
fn unknown_root_or_namespace_is_refused() {
    let e = parse_lheo(b"<catalogue/>", &ParseOptions::default()).unwrap_err();
    assert!(
        e.problems[0]
            .message
            .contains("élément racine <catalogue> inconnu"),
        "{e}"
    );
    let e = parse_lheo(
        b"<?xml version=\"1.0\"?>\n<lheo xmlns=\"http://example.org/lheo\"><offres/></lheo>",
        &ParseOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.problems[0].line, 2);
    assert!(
        e.problems[0]
            .message
            .contains("espace de noms « http://example.org/lheo » inconnu"),
        "{e}"
    );
    let e = parse_lheo(b"", &ParseOptions::default()).unwrap_err();
    assert!(
        e.problems[0].message.contains("aucun élément racine"),
        "{e}"
    );
}

#[test]
fn formation_without_title_is_refused_with_line_and_reason() {
    let e = refused("sans-intitule.xml");
    assert_eq!(e.problems.len(), 1, "{e}");
    assert_eq!(e.problems[0].line, 4);
    assert_eq!(
        e.problems[0].message,
        "<formation> : élément obligatoire <intitule-formation> absent"
    );
}

#[test]
fn every_problem_of_every_broken_offer_is_listed() {
    let e = refused("deux-offres-cassees.xml");
    let got: Vec<(u64, &str)> = e
        .problems
        .iter()
        .map(|p| (p.line, p.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (4, "<formation> : élément obligatoire <intitule-formation> absent"),
            (
                112,
                "élément <intitule-formation> mal placé dans <formation> : il doit précéder <objectif-formation>"
            ),
            (124, "<action> : élément obligatoire <session> absent"),
            (132, "<lieu-de-formation> : élément obligatoire <coordonnees> absent"),
            (
                137,
                "<organisme-formation-responsable> : élément obligatoire <SIRET-organisme-formation> absent"
            ),
        ]
    );
}

#[test]
fn skip_invalid_keeps_the_good_offers_and_lists_the_rejected_ones() {
    let opts = ParseOptions {
        skip_invalid: true,
        ..ParseOptions::default()
    };
    let r = parse_lheo(&read("deux-offres-cassees.xml"), &opts).unwrap();
    assert_eq!(r.offers.len(), 1);
    assert_eq!(r.offers[0].numero.as_deref(), Some("OK1"));
    assert_eq!(r.offers[0].line, 56);
    let rejected: Vec<(u64, Option<&str>, usize)> = r
        .rejected
        .iter()
        .map(|x| (x.line, x.numero.as_deref(), x.reasons.len()))
        .collect();
    assert_eq!(rejected, [(4, Some("B1"), 1), (109, Some("B3"), 4)]);
    assert_eq!(r.rejected[1].reasons[1].line, 124);
}

#[test]
fn data_quality_issues_are_listed_with_their_line() {
    let known: HashSet<String> = ["97302", "29233"].map(String::from).into();
    let is_known = |c: &str| known.contains(c);
    let opts = ParseOptions {
        known_communes: Some(&is_known),
        ..ParseOptions::default()
    };
    let r = parse_lheo(&read("qualite.xml"), &opts).unwrap();
    assert_eq!(r.format, LheoFormat::V2_2);
    assert_eq!(r.offers.len(), 1, "quality issues keep the offer");
    let o = &r.offers[0];
    assert_eq!(o.invalid_rome_codes, ["43111"]);
    assert_eq!(o.rome_codes.len(), 1);
    let got: Vec<(u64, &str)> = r
        .quality
        .iter()
        .map(|n| (n.line, n.field.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (6, "code-ROME"),
            (37, "lieu-de-formation/codepostal"),
            (40, "lieu-de-formation/code-INSEE-commune"),
            (52, "organisme-formation-responsable/SIRET"),
            (
                61,
                "organisme-formation-responsable/adresse/code-INSEE-commune"
            ),
        ],
        "{:#?}",
        r.quality
    );
    assert!(r.quality.iter().all(|n| n.numero.as_deref() == Some("Q1")));
    assert!(r.quality[0].message.contains("ancien code ROME v2"));
    assert!(r.quality[1].message.contains("code postal absent"));
    assert!(r.quality[2].message.contains("97399") && r.quality[2].message.contains("périmé"));
    assert!(
        r.quality[3].message.contains("Luhn"),
        "{}",
        r.quality[3].message
    );
    assert!(r.quality[4].message.contains("9730"));
    // Without the list of communes, only the shape is checked.
    let r = parse_lheo(&read("qualite.xml"), &ParseOptions::default()).unwrap();
    assert_eq!(r.quality.len(), 4);
}

/// Runs `xmllint --schema lheo-2.3.xsd` on a file, or says why it cannot.
fn xmllint(file: &Path) -> Result<std::process::Output, String> {
    // The schema shipped with the project's data, or the shared copy.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let schema = [
        std::env::var("LHEO_XSD").ok().map(PathBuf::from),
        Some(root.join("data/lheo/lheo-2.3.xsd")),
        Some(root.join("../shared/data/lheo/lheo-2.3.xsd")),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.exists())
    .ok_or("lheo-2.3.xsd not found (set LHEO_XSD)")?;
    Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(file)
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "xmllint not found".to_owned(),
            _ => format!("xmllint: {e}"),
        })
}

fn exported_offers() -> Vec<ExportOffer> {
    let mut offers: Vec<ExportOffer> = import("valide-2.3.xml")
        .offers
        .iter()
        .map(ExportOffer::from)
        .collect();
    offers.extend(
        import("examples/exemple-bts-onisep.xml")
            .offers
            .iter()
            .map(ExportOffer::from),
    );
    // Characters that need escaping, and a session with places only.
    offers[0].intitule = "BTS <SIO> & « réseaux » \"cyber\"".into();
    offers[0].actions[0].sessions[1].places = Some(12);
    // The second offer has no site: its enrolment address comes from the
    // provider, which LHÉO 2.3 then requires.
    offers[1].provider.address = LheoAddress {
        code_insee: Some("97304".into()),
        postcode: Some("97310".into()),
        city: Some("Kourou".into()),
    };
    offers
}

#[test]
fn export_validates_against_the_lheo_2_3_schema() {
    let mut xml = Vec::new();
    let report = write_lheo_23(&exported_offers(), &mut xml).unwrap();
    assert_eq!(report.written, 3);
    assert!(report.skipped.is_empty());
    let path =
        std::env::temp_dir().join(format!("passerelle-lheo-export-{}.xml", std::process::id()));
    std::fs::write(&path, &xml).unwrap();
    let out = match xmllint(&path) {
        Ok(out) => out,
        Err(why) => {
            std::fs::remove_file(&path).ok();
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{why} and CI=true: install libxml2-utils");
            }
            eprintln!("SKIPPED: {why}, the LHÉO export was not validated against the XSD");
            return;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "xmllint refused the export:\n{stderr}"
    );
    assert!(stderr.contains("validates"), "{stderr}");
    std::fs::remove_file(&path).ok();
}

#[test]
fn export_then_import_gives_the_same_offers() {
    let offers = exported_offers();
    let mut xml = Vec::new();
    write_lheo_23(&offers, &mut xml).unwrap();
    let back = parse_lheo(&xml, &ParseOptions::default()).unwrap();
    assert_eq!(back.format, LheoFormat::V2_3);
    assert!(back.rejected.is_empty());
    assert!(back.quality.is_empty(), "{:?}", back.quality);
    let again: Vec<ExportOffer> = back.offers.iter().map(ExportOffer::from).collect();
    assert_eq!(again, offers);
    // The numero written is the key, so the key survives the trip.
    assert!(back.offers[1]
        .numero
        .as_deref()
        .unwrap()
        .starts_with("content:"));
    assert_eq!(back.offers[1].key(), offers[1].key);
}

#[test]
fn offers_that_cannot_be_written_validly_are_skipped() {
    let mut offers = exported_offers();
    offers[0].provider.siret.clear();
    offers[1].actions.clear();
    let mut xml = Vec::new();
    let report = write_lheo_23(&offers, &mut xml).unwrap();
    assert_eq!(report.written, 1);
    let skipped: Vec<&str> = report.skipped.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(skipped, [offers[0].key.as_str(), offers[1].key.as_str()]);
    let mut nothing = Vec::new();
    let err = write_lheo_23(&offers[..2], &mut nothing).unwrap_err();
    assert!(matches!(err, LheoExportError::NothingToExport { ref skipped } if skipped.len() == 2));
    assert!(
        nothing.is_empty(),
        "nothing is written when no offer can be"
    );
}

#[test]
fn latin1_files_and_dtd_only_namespaces_are_read() {
    let text = String::from_utf8(read("valide-2.3.xml")).unwrap();
    let latin1: Vec<u8> = text
        .replace("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"")
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("Latin-1 character"))
        .collect();
    let r = parse_lheo(&latin1, &ParseOptions::default()).unwrap();
    assert_eq!(r.offers, import("valide-2.3.xml").offers);
    // The same bytes declared as UTF-8 are refused.
    let mut mislabelled = latin1.clone();
    let decl = b"ISO-8859-1";
    let at = mislabelled
        .windows(decl.len())
        .position(|w| w == decl)
        .unwrap();
    mislabelled.splice(at..at + decl.len(), b"UTF-8".iter().copied());
    let e = parse_lheo(&mislabelled, &ParseOptions::default()).unwrap_err();
    assert!(e.problems[0].message.contains("UTF-8"), "{e}");

    // A file validated by DTD may leave the namespace to the DTD.
    let text = String::from_utf8(read("examples/exemple-bts-onisep.xml"))
        .unwrap()
        .replace(
            "<lheo xmlns=\"http://www.lheo.org/2.2\">",
            "<!DOCTYPE lheo SYSTEM \"http://www.lheo.org/2.2/lheo.dtd\">\n<lheo>",
        );
    let r = parse_lheo(text.as_bytes(), &ParseOptions::default()).unwrap();
    assert_eq!(r.format, LheoFormat::V2_2);
    assert_eq!(r.offers[0].numero.as_deref(), Some("9436_18706"));
    let e = parse_lheo(b"<lheo><offres/></lheo>", &ParseOptions::default()).unwrap_err();
    assert!(e.problems[0].message.contains("sans espace de noms"), "{e}");
}

#[test]
fn undeclared_entities_are_not_well_formed() {
    let text = String::from_utf8(read("valide-2.3.xml"))
        .unwrap()
        .replace("BTS SIO</resultats", "BTS SIO &eacute;</resultats");
    let e = parse_lheo(text.as_bytes(), &ParseOptions::default()).unwrap_err();
    assert_eq!(e.problems.len(), 1, "{e}");
    assert_eq!(e.problems[0].line, 12, "{e}");
    assert!(e.problems[0].message.starts_with("XML mal formé"), "{e}");
}
