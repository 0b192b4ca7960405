//! Territories: régions, académies, départements, zones d'emploi and
//! communes of France, overseas départements (971–976) included.
//!
//! The collectivités d'outre-mer (Saint-Pierre-et-Miquelon, Saint-Barthélemy,
//! Saint-Martin, Wallis-et-Futuna, Polynésie française, Nouvelle-Calédonie,
//! TAAF, Clipperton; `zone: "com"` in the COG files) are left out: they are
//! neither régions nor départements, INSEE defines no zone d'emploi there and
//! the postcode file has no coordinates for most of their communes.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use domain::refdata::{
    Academie, Commune, DatasetInfo, Departement, EmploymentArea, QualityIssue, Region,
};
use serde::Deserialize;

use super::source::{check_utf8, json_array, Checksum, GzFile, Table};
use super::RefError;

const REGIONS: &str = "territoires/regions.json.gz";
const DEPARTEMENTS: &str = "territoires/departements.json.gz";
const COMMUNES: &str = "territoires/communes.json.gz";
const ACADEMIES: &str = "territoires/departements_academies_regions.csv.gz";
const ZE_LIST: &str = "territoires/insee_ze2020_liste_2022.csv.gz";
const ZE_COMPOSITION: &str = "territoires/insee_ze2020_composition_communale_2022.csv.gz";
const LAPOSTE: &str = "territoires/laposte_hexasmal_2019.csv.gz";

/// The territories data set.
#[derive(Debug, Clone)]
pub struct Territories {
    /// Provenance (`territoires`).
    pub info: DatasetInfo,
    /// The 18 régions (13 metropolitan, 5 overseas).
    pub regions: Vec<Region>,
    /// The académies that serve at least one of the départements.
    pub academies: Vec<Academie>,
    /// The 101 départements.
    pub departements: Vec<Departement>,
    /// The zones d'emploi 2020.
    pub employment_areas: Vec<EmploymentArea>,
    /// The current communes (`commune-actuelle` of the COG), in code order.
    ///
    /// Coordinates come from the La Poste file, whose rows for one commune
    /// all carry the same point, so the first row is taken. Communes absent
    /// from it (Paris, Lyon and Marseille are listed by arrondissement
    /// municipal; communes created since 2019 by their former communes) get
    /// the mean of their arrondissements' or former communes' points. The
    /// zone d'emploi is the INSEE one, or, for a commune created after 2022,
    /// that of its former communes.
    pub communes: Vec<Commune>,
    /// Communes left without coordinates or zone d'emploi, and other
    /// inconsistencies between the files.
    pub issues: Vec<QualityIssue>,
}

#[derive(Deserialize)]
struct RawArea<'a> {
    code: &'a str,
    #[serde(borrow)]
    nom: Cow<'a, str>,
    #[serde(default, borrow)]
    region: Option<&'a str>,
    #[serde(default, borrow)]
    zone: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCommune<'a> {
    code: &'a str,
    #[serde(borrow)]
    nom: Cow<'a, str>,
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(default, borrow)]
    departement: Option<&'a str>,
    #[serde(default, borrow)]
    region: Option<&'a str>,
    #[serde(default, borrow)]
    zone: Option<&'a str>,
    #[serde(default, borrow)]
    chef_lieu: Option<&'a str>,
    #[serde(default, borrow)]
    commune: Option<&'a str>,
    #[serde(default, borrow)]
    anciens_codes: Vec<&'a str>,
    #[serde(default, borrow)]
    codes_postaux: Vec<&'a str>,
    #[serde(default)]
    population: Option<i64>,
}

fn is_com(zone: Option<&str>) -> bool {
    zone == Some("com")
}

/// Loads `territoires/` from the data directory.
pub fn load_territories(dir: &Path) -> Result<Territories, RefError> {
    let mut sum = Checksum::new();
    let files = [
        REGIONS,
        DEPARTEMENTS,
        COMMUNES,
        ACADEMIES,
        ZE_LIST,
        ZE_COMPOSITION,
        LAPOSTE,
    ]
    .map(|name| GzFile::open(dir, name, &mut sum));
    let [regions_f, departements_f, communes_f, academies_f, ze_list_f, ze_comp_f, laposte_f] =
        files;
    let (regions_f, departements_f, communes_f) = (regions_f?, departements_f?, communes_f?);
    let (academies_f, ze_list_f, ze_comp_f, laposte_f) =
        (academies_f?, ze_list_f?, ze_comp_f?, laposte_f?);

    let mut issues = Vec::new();
    let regions = read_regions(&regions_f)?;
    let region_codes: HashSet<&str> = regions.iter().map(|r| r.code.as_str()).collect();
    let mut departements = read_departements(&departements_f, &region_codes)?;
    let academies = read_academies(&academies_f, &mut departements, &region_codes, &mut issues)?;
    let employment_areas = read_ze_list(&ze_list_f)?;
    let ze_codes: HashSet<&str> = employment_areas.iter().map(|z| z.code.as_str()).collect();
    let ze_of = read_ze_composition(&ze_comp_f, &ze_codes, &mut issues)?;
    let points = read_laposte(&laposte_f)?;
    let communes = read_communes(
        &communes_f,
        &departements,
        &region_codes,
        &ze_of,
        &points,
        &mut issues,
    )?;

    Ok(Territories {
        info: DatasetInfo {
            name: "territoires".to_owned(),
            title: "Territoires : régions, académies, départements, zones d'emploi, communes"
                .to_owned(),
            version: "COG (@etalab/decoupage-administratif 6.0.0) ; zones d'emploi 2020 au 1er janvier 2022 ; La Poste 2019"
                .to_owned(),
            published_on: "2026-03-09".to_owned(),
            source: "INSEE COG via npm @etalab/decoupage-administratif 6.0.0 ; INSEE zones d'emploi 2020 (github.com/cynthia-francis/Project-LabourMarketTensions 4fa752d) ; académies (github.com/mission-apprentissage/tjp-pilotage 1871b54) ; La Poste, base officielle des codes postaux (github.com/StartupsPoleEmploi/labonneboite 7f4c797)"
                .to_owned(),
            licence: "Licence Ouverte / Etalab 2.0 (INSEE, Éducation nationale) ; La Poste : licence du jeu publié sur data.gouv.fr (voir data/SOURCES.md)"
                .to_owned(),
            checksum: sum.finish(),
        },
        regions,
        academies,
        departements,
        employment_areas,
        communes,
        issues,
    })
}

fn read_regions(file: &GzFile) -> Result<Vec<Region>, RefError> {
    let bytes = file.decompress()?;
    let text = check_utf8(&file.name, &bytes)?;
    let mut out = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    json_array(&file.name, text, |r: RawArea<'_>, line| {
        if is_com(r.zone) {
            return Ok(());
        }
        if let Some(&first_line) = seen.get(r.code) {
            return Err(json_duplicate(&file.name, line, r.code, first_line));
        }
        seen.insert(r.code.to_owned(), line);
        out.push(Region {
            code: r.code.to_owned(),
            name: r.nom.into_owned(),
        });
        Ok(())
    })?;
    Ok(out)
}

fn read_departements(file: &GzFile, regions: &HashSet<&str>) -> Result<Vec<Departement>, RefError> {
    let bytes = file.decompress()?;
    let text = check_utf8(&file.name, &bytes)?;
    let mut out = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    json_array(&file.name, text, |d: RawArea<'_>, line| {
        if is_com(d.zone) {
            return Ok(());
        }
        if let Some(&first_line) = seen.get(d.code) {
            return Err(json_duplicate(&file.name, line, d.code, first_line));
        }
        let region = d.region.unwrap_or("");
        if !regions.contains(region) {
            return Err(RefError::UnknownReference {
                file: file.name.clone(),
                line,
                field: "region".to_owned(),
                value: region.to_owned(),
                what: "région",
            });
        }
        seen.insert(d.code.to_owned(), line);
        out.push(Departement {
            code: d.code.to_owned(),
            name: d.nom.into_owned(),
            region_code: region.to_owned(),
            academie_code: None,
        });
        Ok(())
    })?;
    Ok(out)
}

fn json_duplicate(file: &str, line: u64, key: &str, first_line: u64) -> RefError {
    RefError::DuplicateKey {
        file: file.to_owned(),
        line,
        field: "code".to_owned(),
        key: key.to_owned(),
        first_line,
    }
}

/// The académie file writes département codes on three characters (`001`,
/// `02A`, `971`); the COG writes `01`, `2A`, `971`.
fn cog_departement(code: &str) -> &str {
    match code.strip_prefix('0') {
        Some(rest) if code.len() == 3 => rest,
        _ => code,
    }
}

/// Reads the académie of each département and returns the académies that
/// serve at least one of them; the file also lists académies of the
/// collectivités d'outre-mer and non-territorial codes, which are not kept.
fn read_academies(
    file: &GzFile,
    departements: &mut [Departement],
    regions: &HashSet<&str>,
    issues: &mut Vec<QualityIssue>,
) -> Result<Vec<Academie>, RefError> {
    let (mut t, [c_acad, c_region, c_dep, c_label]) = Table::open(
        file,
        b';',
        [
            "codeAcademie",
            "codeRegion",
            "codeDepartement",
            "libelleAcademie",
        ],
    )?;
    let index: HashMap<String, usize> = departements
        .iter()
        .enumerate()
        .map(|(i, d)| (d.code.clone(), i))
        .collect();
    let mut first_line_of_dep: HashMap<usize, u64> = HashMap::new();
    let mut academies: Vec<Academie> = Vec::new();
    let mut academie_index: HashMap<String, usize> = HashMap::new();
    while t.next()? {
        let dep = cog_departement(t.get(c_dep));
        let Some(&di) = index.get(dep) else {
            continue;
        };
        let code = t.get(c_acad);
        if code.is_empty() {
            return Err(t.invalid(c_acad, "un code d'académie"));
        }
        if let Some(&first_line) = first_line_of_dep.get(&di) {
            if departements[di].academie_code.as_deref() != Some(code) {
                return Err(t.duplicate(c_dep, first_line));
            }
            continue;
        }
        first_line_of_dep.insert(di, t.line());
        let dep_region = departements[di].region_code.clone();
        let row_region = t.get(c_region);
        if row_region != dep_region {
            issues.push(t.issue(
                c_region,
                format!(
                    "le département {dep} est en région {dep_region} selon le COG, {row_region} ici ; la région du COG est gardée"
                ),
            ));
        }
        departements[di].academie_code = Some(code.to_owned());
        // An académie lies within one région; when the file gives no real
        // région for it, the département's is the right one.
        let region = if regions.contains(row_region) {
            row_region.to_owned()
        } else {
            dep_region
        };
        match academie_index.get(code) {
            Some(&ai) => {
                if academies[ai].region_code != region {
                    issues.push(t.issue(
                        c_region,
                        format!(
                            "l'académie {code} est rattachée à la région {} et à la région {region} ; la première est gardée",
                            academies[ai].region_code
                        ),
                    ));
                }
            }
            None => {
                academie_index.insert(code.to_owned(), academies.len());
                academies.push(Academie {
                    code: code.to_owned(),
                    name: t.get(c_label).to_owned(),
                    region_code: region,
                });
            }
        }
    }
    for d in departements.iter().filter(|d| d.academie_code.is_none()) {
        issues.push(QualityIssue {
            file: file.name.clone(),
            line: 0,
            field: "codeDepartement".to_owned(),
            message: format!("le département {} ({}) n'a pas d'académie", d.code, d.name),
        });
    }
    academies.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(academies)
}

fn read_ze_list(file: &GzFile) -> Result<Vec<EmploymentArea>, RefError> {
    let (mut t, [c_code, c_name]) = Table::open(file, b',', ["ZE2020", "LIBZE2020"])?;
    let mut out: Vec<EmploymentArea> = Vec::new();
    let mut seen: HashMap<String, (u64, usize)> = HashMap::new();
    while t.next()? {
        let code = t.get(c_code);
        if code.len() != 4 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(t.invalid(c_code, "un code de zone d'emploi à 4 caractères"));
        }
        if let Some(&(first_line, i)) = seen.get(code) {
            if out[i].name != t.get(c_name) {
                return Err(t.duplicate(c_code, first_line));
            }
            continue;
        }
        seen.insert(code.to_owned(), (t.line(), out.len()));
        out.push(EmploymentArea {
            code: code.to_owned(),
            name: t.get(c_name).to_owned(),
        });
    }
    Ok(out)
}

/// Commune code → zone d'emploi code and the line it was read from.
type ZoneOf = HashMap<String, (String, u64)>;

fn read_ze_composition(
    file: &GzFile,
    zones: &HashSet<&str>,
    issues: &mut Vec<QualityIssue>,
) -> Result<ZoneOf, RefError> {
    let (mut t, [c_commune, c_ze]) = Table::open(file, b',', ["CODGEO", "ZE2020"])?;
    let mut out: ZoneOf = HashMap::with_capacity(40_000);
    while t.next()? {
        let commune = t.get(c_commune);
        let ze = t.get(c_ze);
        if let Some((previous, first_line)) = out.get(commune) {
            if previous != ze {
                return Err(t.duplicate(c_commune, *first_line));
            }
            continue;
        }
        if !zones.contains(ze) {
            issues.push(t.issue(
                c_ze,
                format!(
                    "zone d'emploi « {ze} » de la commune {commune} absente de la liste des zones"
                ),
            ));
            continue;
        }
        out.insert(commune.to_owned(), (ze.to_owned(), t.line()));
    }
    Ok(out)
}

/// Commune code → (latitude, longitude), from the first row of the commune.
fn read_laposte(file: &GzFile) -> Result<HashMap<String, (f64, f64)>, RefError> {
    let (mut t, [c_commune, c_gps]) =
        Table::open(file, b';', ["Code_commune_INSEE", "coordonnees_gps"])?;
    let mut out: HashMap<String, (f64, f64)> = HashMap::with_capacity(40_000);
    while t.next()? {
        let gps = t.get(c_gps);
        if gps.is_empty() {
            continue;
        }
        let point = gps.split_once(',').and_then(|(lat, lon)| {
            let lat: f64 = lat.trim().parse().ok()?;
            let lon: f64 = lon.trim().parse().ok()?;
            ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
        });
        let Some(point) = point else {
            return Err(t.invalid(c_gps, "une position « latitude, longitude » en degrés"));
        };
        let commune = t.get(c_commune);
        if !out.contains_key(commune) {
            out.insert(commune.to_owned(), point);
        }
    }
    Ok(out)
}

struct Pending {
    commune: Commune,
    line: u64,
}

fn read_communes(
    file: &GzFile,
    departements: &[Departement],
    regions: &HashSet<&str>,
    ze_of: &ZoneOf,
    points: &HashMap<String, (f64, f64)>,
    issues: &mut Vec<QualityIssue>,
) -> Result<Vec<Commune>, RefError> {
    let bytes = file.decompress()?;
    let text = check_utf8(&file.name, &bytes)?;
    let dep_codes: HashSet<&str> = departements.iter().map(|d| d.code.as_str()).collect();
    let mut pending: Vec<Pending> = Vec::with_capacity(35_000);
    let mut seen: HashMap<&str, u64> = HashMap::with_capacity(35_000);
    // Current commune → the codes it was made of (communes déléguées and
    // associées, former communes) or is divided into (arrondissements
    // municipaux), whose points and zones can stand in for its own.
    let mut parts: HashMap<&str, Vec<&str>> = HashMap::new();
    let unknown =
        |line: u64, field: &str, value: &str, what: &'static str| RefError::UnknownReference {
            file: file.name.clone(),
            line,
            field: field.to_owned(),
            value: value.to_owned(),
            what,
        };
    json_array(&file.name, text, |c: RawCommune<'_>, line| {
        match c.kind {
            "commune-actuelle" => {}
            "commune-deleguee" | "commune-associee" => {
                if let Some(parent) = c.chef_lieu {
                    if parent != c.code {
                        parts.entry(parent).or_default().push(c.code);
                    }
                }
                return Ok(());
            }
            "arrondissement-municipal" => {
                if let Some(parent) = c.commune {
                    parts.entry(parent).or_default().push(c.code);
                }
                return Ok(());
            }
            _ => return Ok(()),
        }
        if is_com(c.zone) {
            return Ok(());
        }
        if let Some(&first_line) = seen.get(c.code) {
            return Err(json_duplicate(&file.name, line, c.code, first_line));
        }
        seen.insert(c.code, line);
        let dep = c.departement.unwrap_or("");
        if !dep_codes.contains(dep) {
            return Err(unknown(line, "departement", dep, "département"));
        }
        let region = c.region.unwrap_or("");
        if !regions.contains(region) {
            return Err(unknown(line, "region", region, "région"));
        }
        if !c.anciens_codes.is_empty() {
            parts
                .entry(c.code)
                .or_default()
                .extend(c.anciens_codes.iter().filter(|&&a| a != c.code));
        }
        pending.push(Pending {
            commune: Commune {
                code_insee: c.code.to_owned(),
                name: c.nom.into_owned(),
                departement_code: dep.to_owned(),
                region_code: region.to_owned(),
                employment_area_code: None,
                postcodes: c.codes_postaux.iter().map(|p| (*p).to_owned()).collect(),
                latitude: None,
                longitude: None,
                population: c.population,
            },
            line,
        });
        Ok(())
    })?;

    let mut out = Vec::with_capacity(pending.len());
    for Pending { mut commune, line } in pending {
        let code = commune.code_insee.as_str();
        let own_parts = parts.get(code).map(Vec::as_slice).unwrap_or(&[]);
        let point = points.get(code).copied().or_else(|| {
            let found: Vec<(f64, f64)> = own_parts
                .iter()
                .filter_map(|p| points.get(*p))
                .copied()
                .collect();
            (!found.is_empty()).then(|| {
                let n = found.len() as f64;
                let lat = found.iter().map(|p| p.0).sum::<f64>() / n;
                let lon = found.iter().map(|p| p.1).sum::<f64>() / n;
                (lat, lon)
            })
        });
        match point {
            Some((lat, lon)) => {
                commune.latitude = Some(lat);
                commune.longitude = Some(lon);
            }
            None => issues.push(QualityIssue {
                file: file.name.clone(),
                line,
                field: "code".to_owned(),
                message: format!(
                    "commune {code} ({}) sans coordonnées : absente du fichier La Poste 2019{}",
                    commune.name,
                    also_parts(own_parts.len())
                ),
            }),
        }
        let ze = ze_of
            .get(code)
            .or_else(|| own_parts.iter().find_map(|p| ze_of.get(*p)));
        match ze {
            Some((ze, _)) => commune.employment_area_code = Some(ze.clone()),
            None => issues.push(QualityIssue {
                file: file.name.clone(),
                line,
                field: "code".to_owned(),
                message: format!(
                    "commune {code} ({}) sans zone d'emploi : absente de la composition communale 2022 des zones d'emploi{}",
                    commune.name,
                    also_parts(own_parts.len())
                ),
            }),
        }
        out.push(commune);
    }
    Ok(out)
}

/// End of a message about a commune missing from a file, saying whether the
/// communes it was made of were looked for too.
fn also_parts(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => ", comme la commune dont elle est issue".to_owned(),
        n => format!(", comme les {n} communes dont elle est issue"),
    }
}
