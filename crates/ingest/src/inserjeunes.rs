//! Reading InserJeunes (graduate outcomes) and the BCN nomenclatures that
//! name its codes. The kind of file is recognised from its header:
//!
//! - BCN `N_FORMATION_DIPLOME` (CFD → label, level), `N_NIVEAU_FORMATION_DIPLOME`
//!   (level → RNCP qualification level), `N_MEF` (MEFSTAT11 → CFD);
//! - InserJeunes per formation × région (`millesime;code_region_ij;code_region;voie;cfd;mefstat11;…`):
//!   `code_region` is the INSEE région code and is the one kept;
//!   `code_region_ij` is InserJeunes' own numbering (Guyane: 03 vs 08);
//! - InserJeunes per establishment (DEPP, lycées professionnels or CFA).
//!
//! All or nothing: a file with a missing column or a malformed value is
//! refused with the line and the field.

use crate::Problem;

/// A BCN formation diplôme.
#[derive(Debug, Clone, PartialEq)]
pub struct BcnFormation {
    pub cfd: String,
    pub label: String,
    pub short_label: String,
    pub level_code: String,
}

/// Outcomes of one formation in one région, as published (counts).
#[derive(Debug, Clone, PartialEq)]
pub struct RegionOutcome {
    pub line: usize,
    pub millesime: String,
    pub region_code: String,
    pub voie: String,
    pub cfd: Option<String>,
    pub mefstat11: Option<String>,
    pub final_year: Option<i64>,
    pub leavers: Option<i64>,
    pub employed_6m: Option<i64>,
    pub employed_12m: Option<i64>,
    pub further_study: Option<i64>,
}

/// Outcomes of one establishment, as published (rates in %).
#[derive(Debug, Clone, PartialEq)]
pub struct EstablishmentOutcome {
    pub millesime: String,
    pub uai: String,
    /// `pro` (lycée professionnel) or `apprentissage` (CFA).
    pub voie: String,
    /// `ensemble`, `dont apprentis` (apprentices of a lycée) or empty.
    pub subset: String,
    pub label: String,
    pub region_name: String,
    pub rate_further_study: Option<f64>,
    pub rate_employed_6m: Option<f64>,
    pub rate_expected: Option<f64>,
    pub value_added: Option<f64>,
}

/// What a file holds.
#[derive(Debug, Clone, PartialEq)]
pub enum OutcomeFile {
    Formations(Vec<BcnFormation>),
    /// Level code → RNCP qualification level (`None` for levels outside it).
    Levels(Vec<(String, Option<i64>)>),
    /// MEFSTAT11 → CFD.
    Mefs(Vec<(String, String)>),
    Regions(Vec<RegionOutcome>),
    Establishments(Vec<EstablishmentOutcome>),
}

/// Reads one file; `file` names it in messages and gives the millésime of
/// the establishment files (`…2022_2023…`) when `millesime` is not given.
pub fn read_outcomes(
    file: &str,
    bytes: &[u8],
    millesime: Option<&str>,
) -> Result<OutcomeFile, Vec<Problem>> {
    let (headers, records) = crate::tension::read_csv(file, bytes, Some(b';'))?;
    let mut errors = Vec::new();
    let has = |c: &str| headers.iter().any(|h| h == c);
    let cols = |needed: &[&str]| crate::tension::columns(file, &headers, needed);

    if has("FORMATION_DIPLOME") && has("LIBELLE_LONG_200") && !has("MEF") {
        let idx = cols(&[
            "FORMATION_DIPLOME",
            "NIVEAU_FORMATION_DIPLOME",
            "LIBELLE_COURT",
            "LIBELLE_LONG_200",
        ])?;
        let mut out = Vec::with_capacity(records.len());
        for (line, r) in &records {
            let get = |k: usize| r.get(idx[k]).unwrap_or("").trim();
            if get(0).len() != 8 {
                errors.push(Problem::field(
                    file,
                    line,
                    "FORMATION_DIPLOME",
                    format!("« {} » n'est pas un code à 8 caractères", get(0)),
                ));
                continue;
            }
            out.push(BcnFormation {
                cfd: get(0).to_owned(),
                level_code: get(1).to_owned(),
                short_label: get(2).to_owned(),
                label: get(3).to_owned(),
            });
        }
        return finish(errors, OutcomeFile::Formations(out));
    }
    if has("NIVEAU_FORMATION_DIPLOME") && has("NIVEAU_QUALIFICATION_RNCP") {
        let idx = cols(&["NIVEAU_FORMATION_DIPLOME", "NIVEAU_QUALIFICATION_RNCP"])?;
        let out = records
            .iter()
            .map(|(_, r)| {
                let level = r
                    .get(idx[1])
                    .unwrap_or("")
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|l| (1..=8).contains(l));
                (r.get(idx[0]).unwrap_or("").trim().to_owned(), level)
            })
            .collect();
        return Ok(OutcomeFile::Levels(out));
    }
    if has("MEF") && has("MEF_STAT_11") && has("FORMATION_DIPLOME") {
        let idx = cols(&["MEF_STAT_11", "FORMATION_DIPLOME"])?;
        let mut out: Vec<(String, String)> = Vec::with_capacity(records.len());
        let mut seen = std::collections::HashSet::new();
        for (_, r) in &records {
            let (m, c) = (
                r.get(idx[0]).unwrap_or("").trim(),
                r.get(idx[1]).unwrap_or("").trim(),
            );
            if m.is_empty() || c.is_empty() {
                continue;
            }
            // Several MEF share a MEFSTAT11, and a few of them name the old
            // and the new code of a renewed diploma: the first row is kept.
            if seen.insert(m.to_owned()) {
                out.push((m.to_owned(), c.to_owned()));
            }
        }
        return finish(errors, OutcomeFile::Mefs(out));
    }
    if has("code_region_ij") && has("nb_sortant") {
        let idx = cols(&[
            "millesime",
            "code_region",
            "voie",
            "cfd",
            "mefstat11",
            "nb_annee_term",
            "nb_sortant",
            "nb_en_emploi_6_mois",
            "nb_en_emploi_12_mois",
            "nb_poursuite_etudes",
        ])?;
        let mut out = Vec::with_capacity(records.len());
        for (line, r) in &records {
            let get = |k: usize| r.get(idx[k]).unwrap_or("").trim();
            let mut count = |k: usize| -> Option<i64> {
                let v = get(k);
                if v.is_empty() {
                    return None;
                }
                match v.parse::<i64>() {
                    Ok(n) if n >= 0 => Some(n),
                    _ => {
                        errors.push(Problem::field(
                            file,
                            line,
                            format!("colonne {}", idx[k] + 1),
                            format!("« {v} » n'est pas un effectif"),
                        ));
                        None
                    }
                }
            };
            let (final_year, leavers, e6, e12, fs) =
                (count(5), count(6), count(7), count(8), count(9));
            let m = get(0);
            let valid_millesime = m.len() == 9
                && m.as_bytes()[4] == b'_'
                && m[..4].parse::<u16>().is_ok()
                && m[5..].parse::<u16>().is_ok();
            if !valid_millesime {
                errors.push(Problem::field(
                    file,
                    line,
                    "millesime",
                    format!("« {m} » : attendu AAAA_AAAA"),
                ));
                continue;
            }
            let region = get(1);
            if region.len() != 2 || !region.bytes().all(|b| b.is_ascii_digit()) {
                errors.push(Problem::field(
                    file,
                    line,
                    "code_region",
                    format!("« {region} » n'est pas un code de région INSEE"),
                ));
                continue;
            }
            let voie = get(2);
            if !matches!(voie, "scolaire" | "apprentissage") {
                errors.push(Problem::field(
                    file,
                    line,
                    "voie",
                    format!("« {voie} » : attendu scolaire ou apprentissage"),
                ));
                continue;
            }
            let opt = |v: &str| (!v.is_empty()).then(|| v.to_owned());
            let (cfd, mef) = (opt(get(3)), opt(get(4)));
            if cfd.is_none() && mef.is_none() {
                errors.push(Problem::line(file, line, "ni cfd ni mefstat11"));
                continue;
            }
            out.push(RegionOutcome {
                line: *line,
                millesime: m.to_owned(),
                region_code: region.to_owned(),
                voie: voie.to_owned(),
                cfd,
                mefstat11: mef,
                final_year,
                leavers,
                employed_6m: e6,
                employed_12m: e12,
                further_study: fs,
            });
        }
        return finish(errors, OutcomeFile::Regions(out));
    }
    if has("n°UAI de l'établissement") {
        let millesime = match millesime {
            Some(m) => m.to_owned(),
            None => millesime_in_name(file).ok_or_else(|| {
                vec![Problem::file(file, "le millésime n'est ni dans le nom du fichier (AAAA_AAAA) ni donné par --period")]
            })?,
        };
        let apprentices_col = headers.iter().position(|h| h == "Dont apprentis en EPLE");
        let voie = if apprentices_col.is_some() {
            "pro"
        } else {
            "apprentissage"
        };
        let idx = cols(&[
            "n°UAI de l'établissement",
            "Libellé de l'établissement",
            "Région",
            "Taux de poursuite d'études",
            "Taux",
            "Taux attendu",
            "Valeur ajoutée",
        ])?;
        let mut out = Vec::with_capacity(records.len());
        for (line, r) in &records {
            let get = |k: usize| r.get(idx[k]).unwrap_or("").trim();
            let mut rate = |k: usize| -> Option<f64> {
                let v = get(k);
                // « nd »: not available (too few leavers), as DEPP writes it.
                if v.is_empty() || v.eq_ignore_ascii_case("nd") {
                    return None;
                }
                match v.replace(',', ".").parse::<f64>() {
                    Ok(x) if x.is_finite() => Some(x),
                    _ => {
                        errors.push(Problem::field(
                            file,
                            line,
                            headers[idx[k]].as_str(),
                            format!("« {v} » n'est pas un taux"),
                        ));
                        None
                    }
                }
            };
            let (fs, emp, expected, va) = (rate(3), rate(4), rate(5), rate(6));
            if domain::Uai::parse(get(0)).is_err() {
                errors.push(Problem::field(
                    file,
                    line,
                    "UAI",
                    format!("« {} » n'est pas un UAI", get(0)),
                ));
                continue;
            }
            out.push(EstablishmentOutcome {
                millesime: millesime.clone(),
                uai: get(0).to_owned(),
                voie: voie.to_owned(),
                subset: apprentices_col
                    .map(|c| r.get(c).unwrap_or("").trim().to_owned())
                    .unwrap_or_default(),
                label: get(1).to_owned(),
                region_name: get(2).to_owned(),
                rate_further_study: fs,
                rate_employed_6m: emp,
                rate_expected: expected,
                value_added: va,
            });
        }
        return finish(errors, OutcomeFile::Establishments(out));
    }
    Err(vec![Problem::line(file, 1usize, format!("format non reconnu (en-tête : {}). Formats acceptés : InserJeunes par région \
         (millesime;code_region_ij;code_region;…), InserJeunes par établissement (DEPP), BCN N_FORMATION_DIPLOME, \
         N_NIVEAU_FORMATION_DIPLOME, N_MEF",
        headers.iter().take(6).cloned().collect::<Vec<_>>().join(";")))])
}

fn finish(errors: Vec<Problem>, ok: OutcomeFile) -> Result<OutcomeFile, Vec<Problem>> {
    if errors.is_empty() {
        Ok(ok)
    } else {
        Err(errors)
    }
}

/// `2022_2023` in `depp-2022-etablissements-2022_2023-pro.csv`.
fn millesime_in_name(file: &str) -> Option<String> {
    let b = file.as_bytes();
    (0..b.len().saturating_sub(8)).find_map(|i| {
        let w = &b[i..i + 9];
        (w[..4].iter().all(u8::is_ascii_digit)
            && w[4] == b'_'
            && w[5..].iter().all(u8::is_ascii_digit))
        .then(|| file[i..i + 9].to_owned())
    })
}

/// The quadrant of a formation against the regional means of its level:
/// `Q1` employment and further study at or above both means, `Q2`
/// employment above and further study below, `Q3` employment below and
/// further study above, `Q4` both below. Not placed (`None`) under 20
/// leavers or without both rates.
pub fn quadrant(
    leavers: Option<i64>,
    employment: Option<f64>,
    further_study: Option<f64>,
    mean_employment: f64,
    mean_further_study: f64,
) -> Option<&'static str> {
    if leavers.unwrap_or(0) < 20 {
        return None;
    }
    let (e, f) = (employment?, further_study?);
    Some(match (e >= mean_employment, f >= mean_further_study) {
        (true, true) => "Q1",
        (true, false) => "Q2",
        (false, true) => "Q3",
        (false, false) => "Q4",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_region_file_with_the_insee_region_code() {
        let csv = "id;millesime;code_region_ij;code_region;voie;cfd;mefstat11;nb_annee_term;nb_en_emploi_12_mois;nb_en_emploi_18_mois;nb_en_emploi_24_mois;nb_en_emploi_6_mois;nb_poursuite_etudes;nb_sortant;taux_emploi_12_mois\n\
                   x;2021_2022;08;03;scolaire;;32221022710;44;13;14;15;15;18;26;50\n";
        let OutcomeFile::Regions(rows) = read_outcomes("ij.csv", csv.as_bytes(), None).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            rows[0].region_code, "03",
            "Guyane by its INSEE code, not 08"
        );
        assert_eq!(
            (rows[0].leavers, rows[0].employed_6m, rows[0].further_study),
            (Some(26), Some(15), Some(18))
        );
        let bad = csv
            .replace(";03;scolaire", ";3;scolaire")
            .replace(";44;", ";-4;");
        let err = read_outcomes("ij.csv", bad.as_bytes(), None).unwrap_err();
        assert!(
            err.iter()
                .any(|e| e.line == Some(2) && e.reason.contains("effectif")),
            "{err:?}"
        );
        assert!(
            err.iter()
                .any(|e| e.field.as_deref() == Some("code_region")),
            "{err:?}"
        );
    }

    #[test]
    fn quadrants_and_the_twenty_leavers_rule() {
        assert_eq!(
            quadrant(Some(30), Some(60.0), Some(40.0), 50.0, 30.0),
            Some("Q1")
        );
        assert_eq!(
            quadrant(Some(30), Some(60.0), Some(20.0), 50.0, 30.0),
            Some("Q2")
        );
        assert_eq!(
            quadrant(Some(30), Some(40.0), Some(40.0), 50.0, 30.0),
            Some("Q3")
        );
        assert_eq!(
            quadrant(Some(30), Some(40.0), Some(20.0), 50.0, 30.0),
            Some("Q4")
        );
        assert_eq!(quadrant(Some(19), Some(90.0), Some(90.0), 50.0, 30.0), None);
        assert_eq!(quadrant(Some(30), None, Some(90.0), 50.0, 30.0), None);
        // On the mean counts as at or above.
        assert_eq!(
            quadrant(Some(20), Some(50.0), Some(30.0), 50.0, 30.0),
            Some("Q1")
        );
    }

    #[test]
    fn millesime_from_the_file_name() {
        assert_eq!(
            millesime_in_name("depp-2022-etablissements-2022_2023-pro.csv").as_deref(),
            Some("2022_2023")
        );
        assert_eq!(millesime_in_name("etabs.csv"), None);
    }
}
