//! RNCP tables (France Compétences export of early 2021, as reshaped by
//! Mission apprentissage, v1.4): fiches, ROME codes, NSF codes, blocs de
//! compétences and certifiers.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::NaiveDate;
use domain::refdata::{
    DatasetInfo, QualityIssue, RncpBloc, RncpCertifier, RncpFiche, RncpNsf, RncpRome,
};
use domain::Siret;

use super::source::{clean_text, non_empty, Checksum, GzFile, Table};
use super::{check_rome, RefError};

const INFO: &str = "rncp/rncp_info.v1.4.csv.gz";
const ROME: &str = "rncp/rncp_rome.v1.4.csv.gz";
const NSF: &str = "rncp/rncp_nsf.v1.4.csv.gz";
const BLOCS: &str = "rncp/rncp_blocs_competences.v1.4.csv.gz";
const CERTIFIERS: &str = "rncp/rncp_certificateurs.v1.4.csv.gz";

/// The RNCP data set.
#[derive(Debug, Clone)]
pub struct Rncp {
    /// Provenance (`rncp`, version `v1.4`).
    pub info: DatasetInfo,
    /// One per `CodeRNCP`; `level` from `NiveauEurope` (`niveau4` → 4),
    /// `valid_until` as `YYYY-MM-DD`.
    pub fiches: Vec<RncpFiche>,
    /// Fiche ↔ ROME v3 code, for codes known to ROME 4.0 only.
    pub romes: Vec<RncpRome>,
    /// Fiche ↔ NSF code.
    pub nsf: Vec<RncpNsf>,
    /// Blocs de compétences.
    pub blocs: Vec<RncpBloc>,
    /// Certifiers, with their SIRET when it is a valid one.
    pub certifiers: Vec<RncpCertifier>,
    /// ROME codes refused and other values left out.
    pub issues: Vec<QualityIssue>,
}

/// Loads `rncp/` from the data directory, keeping the ROME links whose code
/// is in `known_rome_codes`.
pub fn load_rncp(dir: &Path, known_rome_codes: &HashSet<String>) -> Result<Rncp, RefError> {
    let mut sum = Checksum::new();
    let info_f = GzFile::open(dir, INFO, &mut sum)?;
    let rome_f = GzFile::open(dir, ROME, &mut sum)?;
    let nsf_f = GzFile::open(dir, NSF, &mut sum)?;
    let blocs_f = GzFile::open(dir, BLOCS, &mut sum)?;
    let certifiers_f = GzFile::open(dir, CERTIFIERS, &mut sum)?;

    let mut issues = Vec::new();
    let fiches = read_fiches(&info_f)?;
    let known: HashMap<&str, usize> = fiches
        .iter()
        .enumerate()
        .map(|(i, f)| (f.code_rncp.as_str(), i))
        .collect();
    let romes = read_romes(&rome_f, &known, known_rome_codes, &mut issues)?;
    let nsf = read_nsf(&nsf_f, &known, &mut issues)?;
    let blocs = read_blocs(&blocs_f, &known, &mut issues)?;
    let certifiers = read_certifiers(&certifiers_f, &known, &mut issues)?;

    Ok(Rncp {
        info: DatasetInfo {
            name: "rncp".to_owned(),
            title: "RNCP — Répertoire national des certifications professionnelles".to_owned(),
            version: "v1.4".to_owned(),
            published_on: "2021-02-01".to_owned(),
            source: "France Compétences, export RNCP (début 2021) remis en tables par Mission apprentissage, via github.com/mission-apprentissage/tables-correspondances 394baba^ (server/src/jobs/rncpImporter/assets)"
                .to_owned(),
            licence: "Licence Ouverte / Etalab 2.0".to_owned(),
            checksum: sum.finish(),
        },
        fiches,
        romes,
        nsf,
        blocs,
        certifiers,
        issues,
    })
}

fn valid_rncp(code: &str) -> bool {
    code.strip_prefix("RNCP")
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

fn read_fiches(file: &GzFile) -> Result<Vec<RncpFiche>, RefError> {
    let (mut t, [c_code, c_label, c_until, c_active, c_level, c_type, c_type_label]) = Table::open(
        file,
        b';',
        [
            "CodeRNCP",
            "intituleDiplome",
            "date_fin_validite_enregistrement",
            "ActiveInactive",
            "NiveauEurope",
            "CodeTypeCertif",
            "TypeCertif",
        ],
    )?;
    let mut out: Vec<RncpFiche> = Vec::with_capacity(17_500);
    let mut first: HashMap<String, (u64, usize)> = HashMap::with_capacity(17_500);
    while t.next()? {
        let code = t.get(c_code);
        if !valid_rncp(code) {
            return Err(t.invalid(c_code, "un code RNCP (RNCP suivi de chiffres)"));
        }
        let active = match t.get(c_active) {
            "ACTIVE" => true,
            "INACTIVE" => false,
            _ => return Err(t.invalid(c_active, "ACTIVE ou INACTIVE")),
        };
        let level = match t.get(c_level) {
            "" => None,
            l => Some(
                l.strip_prefix("niveau")
                    .and_then(|n| n.parse::<i64>().ok())
                    .ok_or_else(|| t.invalid(c_level, "un niveau de la forme niveau4"))?,
            ),
        };
        // The export writes dates the American way, with two-digit years
        // (`8/31/16`); every one of them is in this century.
        let valid_until = match t.get(c_until) {
            "" => None,
            d => Some(
                NaiveDate::parse_from_str(d, "%m/%d/%y")
                    .map_err(|_| t.invalid(c_until, "une date mois/jour/année (8/31/16)"))?
                    .format("%Y-%m-%d")
                    .to_string(),
            ),
        };
        let fiche = RncpFiche {
            code_rncp: code.to_owned(),
            label: clean_text(t.get(c_label)),
            active,
            level,
            type_code: non_empty(t.get(c_type)),
            type_label: non_empty(t.get(c_type_label)),
            valid_until,
        };
        match first.get(code) {
            // Rows are repeated once per former or next fiche, columns this
            // project does not keep; the kept columns must agree.
            Some(&(first_line, i)) => {
                if out[i] != fiche {
                    return Err(t.duplicate(c_code, first_line));
                }
            }
            None => {
                first.insert(code.to_owned(), (t.line(), out.len()));
                out.push(fiche);
            }
        }
    }
    Ok(out)
}

/// Fiche code → its index, which keys the per-fiche lists used to drop
/// repeated link rows without allocating a key for each row.
type Fiches<'a> = HashMap<&'a str, usize>;

/// The fiche of a link row, or an issue when the fiche is unknown.
fn fiche_of<'t>(
    t: &'t Table<'_>,
    col: usize,
    known: &Fiches<'_>,
    issues: &mut Vec<QualityIssue>,
) -> Option<(usize, &'t str)> {
    let code = t.get(col);
    match known.get(code) {
        Some(&i) => Some((i, code)),
        None => {
            issues.push(t.issue(
                col,
                format!("fiche RNCP inconnue « {code} » ; ligne laissée de côté"),
            ));
            None
        }
    }
}

fn read_romes(
    file: &GzFile,
    known: &Fiches<'_>,
    rome_codes: &HashSet<String>,
    issues: &mut Vec<QualityIssue>,
) -> Result<Vec<RncpRome>, RefError> {
    let (mut t, [c_code, c_rome]) = Table::open(file, b';', ["CodeRNCP", "Rome"])?;
    let mut out: Vec<RncpRome> = Vec::with_capacity(45_000);
    let mut per_fiche: Vec<Vec<usize>> = vec![Vec::new(); known.len()];
    while t.next()? {
        let Some((fi, code)) = fiche_of(&t, c_code, known, issues) else {
            continue;
        };
        let value = t.get(c_rome);
        if value.is_empty() || per_fiche[fi].iter().any(|&k| out[k].code_rome == value) {
            continue;
        }
        match check_rome(value, rome_codes) {
            Ok(code_rome) => {
                per_fiche[fi].push(out.len());
                out.push(RncpRome {
                    code_rncp: code.to_owned(),
                    code_rome,
                });
            }
            Err(why) => {
                issues.push(t.issue(c_rome, format!("fiche {code} : {why} ; lien non créé")))
            }
        }
    }
    Ok(out)
}

fn read_nsf(
    file: &GzFile,
    known: &Fiches<'_>,
    issues: &mut Vec<QualityIssue>,
) -> Result<Vec<RncpNsf>, RefError> {
    let (mut t, [c_code, c_nsf, c_label]) =
        Table::open(file, b';', ["CodeRNCP", "code", "Libelle"])?;
    let mut out: Vec<RncpNsf> = Vec::with_capacity(26_000);
    let mut per_fiche: Vec<Vec<usize>> = vec![Vec::new(); known.len()];
    while t.next()? {
        let Some((fi, code)) = fiche_of(&t, c_code, known, issues) else {
            continue;
        };
        let nsf = t.get(c_nsf);
        if nsf.is_empty() {
            continue;
        }
        if !per_fiche[fi].iter().any(|&k| out[k].nsf_code == nsf) {
            per_fiche[fi].push(out.len());
            out.push(RncpNsf {
                code_rncp: code.to_owned(),
                nsf_code: nsf.to_owned(),
                label: clean_text(t.get(c_label)),
            });
        }
    }
    Ok(out)
}

fn read_blocs(
    file: &GzFile,
    known: &Fiches<'_>,
    issues: &mut Vec<QualityIssue>,
) -> Result<Vec<RncpBloc>, RefError> {
    let (mut t, [c_code, c_bloc, c_label]) =
        Table::open(file, b';', ["CodeRNCP", "numero_bloc", "intitule"])?;
    let mut out: Vec<RncpBloc> = Vec::with_capacity(16_500);
    let mut per_fiche: Vec<Vec<usize>> = vec![Vec::new(); known.len()];
    while t.next()? {
        let Some((fi, code)) = fiche_of(&t, c_code, known, issues) else {
            continue;
        };
        let bloc = t.get(c_bloc);
        if bloc.is_empty() {
            issues.push(t.issue(
                c_bloc,
                format!("bloc sans numéro pour la fiche {code} ; laissé de côté"),
            ));
            continue;
        }
        let label = clean_text(t.get(c_label));
        match per_fiche[fi].iter().find(|&&k| out[k].code_bloc == bloc) {
            Some(&i) => {
                if out[i].label != label {
                    issues.push(t.issue(
                        c_bloc,
                        format!(
                            "bloc {bloc} en double avec un autre intitulé ; le premier est gardé"
                        ),
                    ));
                }
            }
            None => {
                per_fiche[fi].push(out.len());
                out.push(RncpBloc {
                    code_rncp: code.to_owned(),
                    code_bloc: bloc.to_owned(),
                    label,
                });
            }
        }
    }
    Ok(out)
}

/// Rows with neither name nor SIRET say only that the fiche has no certifier
/// on record; they are skipped without an issue.
fn read_certifiers(
    file: &GzFile,
    known: &Fiches<'_>,
    issues: &mut Vec<QualityIssue>,
) -> Result<Vec<RncpCertifier>, RefError> {
    let (mut t, [c_code, c_name, c_siret]) =
        Table::open(file, b';', ["CodeRNCP", "Certificateur", "siret_organisme"])?;
    let mut out: Vec<RncpCertifier> = Vec::with_capacity(36_000);
    let mut per_fiche: Vec<Vec<usize>> = vec![Vec::new(); known.len()];
    while t.next()? {
        let Some((fi, code)) = fiche_of(&t, c_code, known, issues) else {
            continue;
        };
        let name = clean_text(t.get(c_name));
        let raw_siret = t.get(c_siret);
        if name.is_empty() {
            if !raw_siret.is_empty() {
                issues.push(t.issue(
                    c_name,
                    format!("certificateur sans nom (SIRET {raw_siret}) ; laissé de côté"),
                ));
            }
            continue;
        }
        let siret = match raw_siret {
            "" => None,
            s => match Siret::parse(s) {
                Ok(siret) => Some(siret.as_str().to_owned()),
                Err(e) => {
                    issues.push(t.issue(c_siret, format!("SIRET de {name} refusé : {e}")));
                    None
                }
            },
        };
        match per_fiche[fi].iter().find(|&&k| out[k].name == name) {
            Some(&i) => {
                if out[i].siret.is_none() {
                    out[i].siret = siret;
                }
            }
            None => {
                per_fiche[fi].push(out.len());
                out.push(RncpCertifier {
                    code_rncp: code.to_owned(),
                    name,
                    siret,
                });
            }
        }
    }
    Ok(out)
}
