//! Certif Info (Réseau des Carif-Oref): certifications with their level,
//! Formacode, NSF, RNCP and RS codes and up to five ROME codes.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::NaiveDate;
use domain::refdata::{Certification, CertificationRome, DatasetInfo, QualityIssue};

use super::source::{non_empty, Checksum, GzFile, Table};
use super::{check_rome, RefError};

const CERTIF_INFO: &str = "certifinfo/certif_info.csv.gz";

/// The Certif Info data set.
#[derive(Debug, Clone)]
pub struct Certifications {
    /// Provenance (`certifinfo`); `published_on` is the latest `Date_MaJ`.
    pub info: DatasetInfo,
    /// One per `Code_Diplome`. `code_rncp` and `code_rs` carry their prefix
    /// (`RNCP38381`, `RS5723`) so that they match the RNCP data set;
    /// `certifier` is the `certificateur`, or else the `valideur`; `active`
    /// is false for entries marked erroneous or archived.
    pub certifications: Vec<Certification>,
    /// Certification ↔ ROME code, for codes known to ROME 4.0 only.
    pub certification_romes: Vec<CertificationRome>,
    /// ROME codes refused (malformed, truncated, pseudo-codes ending in `00`,
    /// unknown to ROME 4.0) and other values left out.
    pub issues: Vec<QualityIssue>,
}

/// Certif Info states that mean the entry is no longer valid: 2 erroneous,
/// 3 archived (0 published, 4 preparatory course, 11 habilitation are live).
const INACTIVE_STATES: [&str; 2] = ["2", "3"];

/// Loads `certifinfo/certif_info.csv.gz` from the data directory, keeping the
/// ROME links whose code is in `known_rome_codes`.
pub fn load_certifinfo(
    dir: &Path,
    known_rome_codes: &HashSet<String>,
) -> Result<Certifications, RefError> {
    let mut sum = Checksum::new();
    let file = GzFile::open(dir, CERTIF_INFO, &mut sum)?;
    let (mut t, cols) = Table::open(
        &file,
        b';',
        [
            "Code_Diplome",
            "Libelle_Diplome",
            "Libelle_Type_Diplome",
            "Code_Niveau_Europeen",
            "Date_MaJ",
            "Code_FormaCode",
            "Libelle_FormaCode",
            "Code_Nsf",
            "Code_RNCP",
            "Code_RS",
            "Code_Scolarité",
            "valideur",
            "certificateur",
            "Etat",
            "Code_Rome_1",
            "Code_Rome_2",
            "Code_Rome_3",
            "Code_Rome_4",
            "Code_Rome_5",
        ],
    )?;
    let [c_code, c_label, c_type, c_level, c_date, c_fcode, c_flabel, c_nsf, c_rncp, c_rs, c_cfd, c_valideur, c_certificateur, c_state, rome @ ..] =
        cols;

    let mut certifications: Vec<Certification> = Vec::with_capacity(10_000);
    let mut first: HashMap<i64, (u64, usize)> = HashMap::with_capacity(10_000);
    let mut links: Vec<CertificationRome> = Vec::with_capacity(18_000);
    let mut seen_rome: HashSet<(i64, String)> = HashSet::with_capacity(18_000);
    let mut issues = Vec::new();
    let mut latest = String::new();

    while t.next()? {
        let code = t.int(c_code)?;
        let updated_on = match t.get(c_date) {
            "" => None,
            d => Some(
                NaiveDate::parse_from_str(d, "%d/%m/%Y")
                    .map_err(|_| t.invalid(c_date, "une date jj/mm/aaaa"))?
                    .format("%Y-%m-%d")
                    .to_string(),
            ),
        };
        if let Some(d) = &updated_on {
            if *d > latest {
                latest.clone_from(d);
            }
        }
        let code_rncp = prefixed(&t, c_rncp, "RNCP", &mut issues);
        let code_rs = prefixed(&t, c_rs, "RS", &mut issues);
        let certifier = non_empty(t.get(c_certificateur)).or_else(|| non_empty(t.get(c_valideur)));
        let row = Certification {
            code,
            label: t.get(c_label).to_owned(),
            type_label: non_empty(t.get(c_type)),
            level: t.opt_int(c_level)?,
            formacode: non_empty(t.get(c_fcode)),
            formacode_label: non_empty(t.get(c_flabel)),
            nsf: non_empty(t.get(c_nsf)),
            code_rncp,
            code_rs,
            cfd: non_empty(t.get(c_cfd)),
            certifier,
            active: !INACTIVE_STATES.contains(&t.get(c_state)),
            updated_on,
        };

        match first.get(&code) {
            None => {
                first.insert(code, (t.line(), certifications.len()));
                certifications.push(row);
            }
            Some(&(first_line, i)) => {
                // The export repeats a certification once per ONISEP or RS
                // code; repeated rows must agree on everything else.
                let kept = &mut certifications[i];
                let same = Certification {
                    code_rs: kept.code_rs.clone(),
                    ..row.clone()
                };
                if *kept != same {
                    return Err(t.duplicate(c_code, first_line));
                }
                match (&kept.code_rs, row.code_rs) {
                    (None, rs) => kept.code_rs = rs,
                    (Some(a), Some(b)) if *a != b => issues.push(t.issue(
                        c_rs,
                        format!("la certification {code} a plusieurs codes RS ; {a} est gardé, {b} est laissé de côté"),
                    )),
                    _ => {}
                }
            }
        }

        for &c in &rome {
            let value = t.get(c);
            if value.is_empty() || !seen_rome.insert((code, value.to_owned())) {
                continue;
            }
            match check_rome(value, known_rome_codes) {
                Ok(code_rome) => links.push(CertificationRome {
                    certification_code: code,
                    code_rome,
                }),
                Err(why) => {
                    issues.push(t.issue(c, format!("certification {code} : {why} ; lien non créé")))
                }
            }
        }
    }

    Ok(Certifications {
        info: DatasetInfo {
            name: "certifinfo".to_owned(),
            title: "Certif Info — certifications, Formacode, NSF, RNCP, RS et ROME".to_owned(),
            version: format!("export open data, mise à jour la plus récente {latest}"),
            published_on: latest,
            source: "Réseau des Carif-Oref (Intercariforef), Certif Info open data, via github.com/mission-apprentissage/tjp-pilotage 1871b54 (server/static/files/certif_info.csv)"
                .to_owned(),
            licence: "Licence Ouverte / Etalab 2.0".to_owned(),
            checksum: sum.finish(),
        },
        certifications,
        certification_romes: links,
        issues,
    })
}

/// Certif Info writes RNCP and RS numbers bare (`38381`); the project writes
/// them with their prefix (`RNCP38381`). A value that is not a number, with
/// or without the prefix, is reported and left out.
fn prefixed(
    t: &Table<'_>,
    col: usize,
    prefix: &str,
    issues: &mut Vec<QualityIssue>,
) -> Option<String> {
    let value = t.get(col);
    if value.is_empty() {
        return None;
    }
    let digits = value.strip_prefix(prefix).unwrap_or(value);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        Some(format!("{prefix}{digits}"))
    } else {
        issues.push(t.issue(
            col,
            format!("« {value} » n'est pas un numéro {prefix} ; laissé de côté"),
        ));
        None
    }
}
