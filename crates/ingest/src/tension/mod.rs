//! Reading tension files: the components of the indicator
//! (`components`), and the files France Travail, DARES and La Bonne Boîte
//! publish (`read_published`, recognised from their header), with the CSV
//! helpers the InserJeunes reader shares.

mod components;
#[cfg(test)]
mod tests;

pub use components::{read_components, COLUMNS};
pub use domain::tension::TensionValue;

use crate::Problem;

/// The indicator codes Passerelle knows, with their French labels. The
/// first nine are France Travail's dimensions of tension (TENSION being the
/// main indicator); the others are counts the sources publish beside them.
pub const INDICATORS: [(&str, &str); 15] = [
    ("TENSION", "Indicateur de tension"),
    ("PERSPECTIVE", "Perspectives de recrutement"),
    ("INT_EMB", "Intensité d'embauches"),
    ("MAIN_OEUVRE", "Manque de main-d'œuvre disponible"),
    ("DUR_EMPL", "Emplois non durables"),
    ("COND_TRAVAIL", "Conditions de travail contraignantes"),
    ("MISMATCH_GEO", "Inadéquation géographique"),
    ("SPECIF_FORM_EMPL", "Lien formation-emploi"),
    ("ATTR_SALARIALE", "Attractivité salariale"),
    ("OFFRES", "Offres d'emploi enregistrées"),
    ("DEFM_ABC", "Demandeurs d'emploi (catégories A, B, C)"),
    (
        "BMO_DIFFICILE_PCT",
        "Projets de recrutement jugés difficiles (%)",
    ),
    ("BMO_PROJETS", "Projets de recrutement (BMO)"),
    ("BMO_DIFFICILES", "Projets jugés difficiles (BMO)"),
    ("BMO_SAISONNIERS", "Projets saisonniers (BMO)"),
];

/// Territory types, from the widest.
pub const TERRITORY_TYPES: [&str; 5] =
    ["national", "region", "departement", "zone_emploi", "bassin"];

/// What a published file holds, recognised from its header.
#[derive(Debug, Clone, PartialEq)]
pub enum Published {
    /// Indicator values, with the file kind's title.
    Values {
        /// Which publication the file is (shown in the import summary).
        kind: &'static str,
        /// The values.
        rows: Vec<TensionValue>,
        /// Rows left out, with their line and why (not blocking).
        notes: Vec<Problem>,
    },
    /// Commune → bassin d'emploi.
    BasinCommunes(Vec<(String, String)>),
    /// FAP-2009 → ROME v3 (the DARES table).
    FapRomes(Vec<(String, String)>),
}

/// Header of the France Travail statistics table, Passerelle's documented layout.
pub const STATS_COLUMNS: [&str; 7] = [
    "code_rome",
    "territory_type",
    "territory_code",
    "period",
    "indicator",
    "value",
    "level",
];

/// Reads a published tension file. `period` is required for the BMO files,
/// which do not carry their edition; `fap_romes` maps FAP codes to ROME
/// fiches (the DARES table, imported first). `Err` names every line at fault.
pub fn read_published(
    file: &str,
    bytes: &[u8],
    period: Option<&str>,
    fap_romes: &std::collections::HashMap<String, Vec<String>>,
) -> Result<Published, Vec<Problem>> {
    let (headers, records) = read_csv(file, bytes, None)?;
    let has = |c: &str| headers.iter().any(|h| h == c);
    let pos = |c: &str| headers.iter().position(|h| h == c);
    let mut errors = Vec::new();
    let need_period = |what: &str| -> Result<String, Vec<Problem>> {
        match period {
            Some(p) if is_period(p) => Ok(p.to_owned()),
            Some(p) => Err(vec![Problem::request(format!(
                "--period « {p} » : attendu AAAA"
            ))]),
            None => Err(vec![Problem::file(
                file,
                format!("{what} ne dit pas son édition : précisez --period AAAA"),
            )]),
        }
    };
    let number = |raw: &str| -> Option<f64> {
        let t = raw.trim().trim_end_matches('%').trim();
        if t.is_empty() {
            return None;
        }
        t.replace(',', ".")
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
    };

    if has("cbassin") && has("ind_tension_d") {
        // Mobiville / France Travail: levels 1–5 per bassin d'emploi.
        let cols = [
            "annee",
            "ROME",
            "cbassin",
            "oee",
            "defm_abc",
            "ind_tension_d",
            "ind_int_emb_d",
            "ind_main_oeuvre_d",
            "ind_dur_empl_d",
            "ind_cond_travail_d",
            "ind_mismatch_geo_d",
            "ind_specif_form_empl_d",
        ];
        let idx = columns(file, &headers, &cols)?;
        let level_codes = [
            "TENSION",
            "INT_EMB",
            "MAIN_OEUVRE",
            "DUR_EMPL",
            "COND_TRAVAIL",
            "MISMATCH_GEO",
            "SPECIF_FORM_EMPL",
        ];
        let mut rows = Vec::with_capacity(records.len() * 9);
        let mut notes = Vec::new();
        for (line, r) in &records {
            let get = |k: usize| r.get(idx[k]).unwrap_or("").trim();
            let (year, rome, basin) = (get(0), get(1), get(2));
            if !is_period(year) {
                errors.push(Problem::field(
                    file,
                    line,
                    "annee",
                    format!("« {year} » n'est pas une année"),
                ));
                continue;
            }
            if domain::CodeRome::parse(rome).is_err() {
                errors.push(Problem::field(
                    file,
                    line,
                    "ROME",
                    format!("« {rome} » n'est pas un code ROME"),
                ));
                continue;
            }
            let Some(basin) = basin_code(basin) else {
                errors.push(Problem::field(
                    file,
                    line,
                    "cbassin",
                    format!("« {basin} » n'est pas un code de bassin"),
                ));
                continue;
            };
            let mut push = |indicator: &str, value: Option<f64>, level: Option<i64>| {
                rows.push(TensionValue {
                    code_rome: rome.to_owned(),
                    territory_type: "bassin".into(),
                    territory_code: basin.clone(),
                    period: year.to_owned(),
                    indicator: indicator.into(),
                    value,
                    level,
                })
            };
            for (k, name) in [(3, "OFFRES"), (4, "DEFM_ABC")] {
                match number(get(k)) {
                    Some(v) => push(name, Some(v), None),
                    None if get(k).is_empty() => {}
                    None => notes.push(Problem::field(
                        file,
                        line,
                        cols[k],
                        format!("« {} » n'est pas un nombre", get(k)),
                    )),
                }
            }
            for (j, code) in level_codes.iter().enumerate() {
                let raw = get(5 + j);
                if raw.is_empty() {
                    continue;
                }
                match raw.parse::<i64>() {
                    Ok(l) if (1..=5).contains(&l) => push(code, None, Some(l)),
                    _ => errors.push(Problem::field(
                        file,
                        line,
                        cols[5 + j],
                        format!("« {raw} » n'est pas un niveau de 1 à 5"),
                    )),
                }
            }
        }
        return done(errors, || Published::Values {
            kind: "indicateurs de tension par bassin d'emploi (France Travail)",
            rows,
            notes,
        });
    }
    if has("code_insee") && has("code_bassin_emploi") {
        let idx = columns(file, &headers, &["code_insee", "code_bassin_emploi"])?;
        let mut out = Vec::with_capacity(records.len());
        for (line, r) in &records {
            let (c, b) = (
                r.get(idx[0]).unwrap_or("").trim(),
                r.get(idx[1]).unwrap_or("").trim(),
            );
            match (domain::CodeInsee::parse(c).is_ok(), basin_code(b)) {
                (true, Some(b)) => out.push((c.to_owned(), b)),
                _ => errors.push(Problem::line(
                    file,
                    line,
                    format!("commune « {c} » ou bassin « {b} » invalide"),
                )),
            }
        }
        return done(errors, || Published::BasinCommunes(out));
    }
    if headers.first().map(String::as_str) == Some("FAP") && has("ROME") {
        let rome_col = pos("ROME").expect("checked");
        let mut fap = String::new();
        let mut out = Vec::new();
        for (line, r) in &records {
            let f = r.get(0).unwrap_or("").trim();
            if f.len() == 5 {
                fap = f.to_owned();
            } else if !f.is_empty() {
                // A family or domain heading (`A`, `A0Z`): no FAP code of its own.
                fap.clear();
            }
            let rome = r.get(rome_col).unwrap_or("").trim();
            if rome.is_empty() {
                continue;
            }
            if fap.is_empty() || domain::CodeRome::parse(rome).is_err() {
                errors.push(Problem::line(
                    file,
                    line,
                    format!("ROME « {rome} » sans famille FAP valide"),
                ));
                continue;
            }
            out.push((fap.clone(), rome.to_owned()));
        }
        out.sort();
        out.dedup();
        return done(errors, || Published::FapRomes(out));
    }
    if has("fap_code") && has("tension_pct") {
        // BMO « difficultés à recruter » per FAP, national.
        let period = need_period("le fichier BMO par FAP")?;
        let idx = columns(file, &headers, &["fap_code", "tension_pct"])?;
        let rome_col = pos("rome_code");
        // A fiche reached from several families (qualified and unqualified
        // workers, say) takes the mean of their shares.
        let mut shares: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
        // The file repeats a family on one row per ROME of its own mapping.
        let mut families = std::collections::HashSet::new();
        let mut notes = Vec::new();
        for (line, r) in &records {
            let fap = r.get(idx[0]).unwrap_or("").trim();
            let raw = r.get(idx[1]).unwrap_or("").trim();
            let Some(pct) = number(raw).filter(|v| (0.0..=100.0).contains(v)) else {
                errors.push(Problem::field(
                    file,
                    line,
                    "tension_pct",
                    format!("« {raw} » n'est pas un pourcentage"),
                ));
                continue;
            };
            if fap_romes.contains_key(fap) && !families.insert(fap.to_owned()) {
                continue;
            }
            let romes: Vec<String> = match fap_romes.get(fap) {
                Some(r) => r.clone(),
                None => match rome_col.map(|c| r.get(c).unwrap_or("").trim()) {
                    Some(code) if domain::CodeRome::parse(code).is_ok() => {
                        notes.push(Problem::line(file, line, format!("FAP « {fap} » absente de la table DARES, ROME {code} du fichier retenu")));
                        vec![code.to_owned()]
                    }
                    _ => {
                        notes.push(Problem::line(file, line, format!("FAP « {fap} » absente de la table DARES (importez-la d'abord) : ligne ignorée")));
                        continue;
                    }
                },
            };
            for rome in romes {
                shares.entry(rome).or_default().push(pct);
            }
        }
        let rows = shares
            .into_iter()
            .map(|(code_rome, v)| TensionValue {
                code_rome,
                territory_type: "national".into(),
                territory_code: "FR".into(),
                period: period.clone(),
                indicator: "BMO_DIFFICILE_PCT".into(),
                value: Some(v.iter().sum::<f64>() / v.len() as f64),
                level: None,
            })
            .collect();
        return done(errors, || Published::Values {
            kind: "difficultés de recrutement BMO par métier (France Travail)",
            rows,
            notes,
        });
    }
    if has("CATCHMENT_AREA_CODE") && has("NB_RECRUT_PROJECTS") {
        // BMO per bassin × FAP: counts split evenly over the FAP's ROME fiches.
        let period = need_period("le fichier BMO par bassin")?;
        let cols = [
            "CATCHMENT_AREA_CODE",
            "FAP_CODE",
            "NB_RECRUT_PROJECTS",
            "NB_DIFF_RECRUT_PROJECTS",
            "NB_SEASON_RECRUT_PROJECTS",
        ];
        let idx = columns(file, &headers, &cols)?;
        let mut sums: std::collections::BTreeMap<(String, String, &str), f64> = Default::default();
        let mut notes = Vec::new();
        for (line, r) in &records {
            let get = |k: usize| r.get(idx[k]).unwrap_or("").trim();
            let Some(basin) = basin_code(get(0)) else {
                errors.push(Problem::field(
                    file,
                    line,
                    "CATCHMENT_AREA_CODE",
                    format!("« {} » invalide", get(0)),
                ));
                continue;
            };
            let Some(romes) = fap_romes.get(get(1)) else {
                notes.push(Problem::line(
                    file,
                    line,
                    format!(
                        "FAP « {} » absente de la table DARES : ligne ignorée",
                        get(1)
                    ),
                ));
                continue;
            };
            for (k, name) in [
                (2, "BMO_PROJETS"),
                (3, "BMO_DIFFICILES"),
                (4, "BMO_SAISONNIERS"),
            ] {
                let Some(v) = number(get(k)) else { continue };
                for rome in romes {
                    *sums.entry((rome.clone(), basin.clone(), name)).or_default() +=
                        v / romes.len() as f64;
                }
            }
        }
        let rows = sums
            .into_iter()
            .map(|((code_rome, basin, name), v)| TensionValue {
                code_rome,
                territory_type: "bassin".into(),
                territory_code: basin,
                period: period.clone(),
                indicator: name.into(),
                value: Some(v),
                level: None,
            })
            .collect();
        return done(errors, || Published::Values {
            kind: "besoins en main-d'œuvre (BMO) par bassin",
            rows,
            notes,
        });
    }
    if STATS_COLUMNS.iter().all(|c| has(c)) {
        let idx = columns(file, &headers, &STATS_COLUMNS)?;
        let mut rows = Vec::with_capacity(records.len());
        for (line, r) in &records {
            let get = |k: usize| r.get(idx[k]).unwrap_or("").trim();
            let mut bad =
                |field: &str, why: String| errors.push(Problem::field(file, line, field, why));
            if domain::CodeRome::parse(get(0)).is_err() {
                bad(
                    "code_rome",
                    format!("« {} » n'est pas un code ROME", get(0)),
                );
                continue;
            }
            if !TERRITORY_TYPES.contains(&get(1)) {
                bad(
                    "territory_type",
                    format!("« {} » : attendu {}", get(1), TERRITORY_TYPES.join(", ")),
                );
                continue;
            }
            if get(2).is_empty() {
                bad("territory_code", "vide".into());
                continue;
            }
            if !is_period(get(3)) && !is_month(get(3)) {
                bad(
                    "period",
                    format!("« {} » : attendu AAAA ou AAAA-MM", get(3)),
                );
                continue;
            }
            if !INDICATORS.iter().any(|(c, _)| *c == get(4)) {
                bad(
                    "indicator",
                    format!(
                        "« {} » inconnu (attendu : {})",
                        get(4),
                        INDICATORS
                            .iter()
                            .map(|(c, _)| *c)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                continue;
            }
            let value = number(get(5));
            if value.is_none() && !get(5).is_empty() {
                bad("value", format!("« {} » n'est pas un nombre", get(5)));
                continue;
            }
            let level = match get(6) {
                "" => None,
                l => match l.parse::<i64>() {
                    Ok(l) if (1..=5).contains(&l) => Some(l),
                    _ => {
                        bad("level", format!("« {l} » : attendu un niveau de 1 à 5"));
                        continue;
                    }
                },
            };
            if value.is_none() && level.is_none() {
                bad("value", "ni valeur ni niveau".into());
                continue;
            }
            let territory_code = if get(1) == "bassin" {
                basin_code(get(2)).unwrap_or_else(|| get(2).to_owned())
            } else {
                get(2).to_owned()
            };
            rows.push(TensionValue {
                code_rome: get(0).to_owned(),
                territory_type: get(1).to_owned(),
                territory_code,
                period: get(3).to_owned(),
                indicator: get(4).to_owned(),
                value,
                level,
            });
        }
        return done(errors, || Published::Values {
            kind: "statistiques du marché du travail (France Travail)",
            rows,
            notes: Vec::new(),
        });
    }
    Err(vec![Problem::line(file, 1usize, format!("format non reconnu (en-tête : {}). Formats acceptés : indicateurs par bassin (annee;ROME;cbassin;…), \
         BMO par FAP (fap_code,tension_pct,…), BMO par bassin (CATCHMENT_AREA_CODE,…), table DARES FAP → ROME, \
         communes → bassins (code_insee,code_bassin_emploi), statistiques ({})",
        headers.join(","),
        STATS_COLUMNS.join(",")))])
}

fn done(errors: Vec<Problem>, ok: impl FnOnce() -> Published) -> Result<Published, Vec<Problem>> {
    if errors.is_empty() {
        Ok(ok())
    } else {
        Err(errors)
    }
}

/// A CSV record with its line in the file.
pub(crate) type Line = (usize, csv::StringRecord);

/// A CSV file's trimmed header and its records with their line, the
/// delimiter (`;` or `,`) taken from the header unless given. A file that
/// is not UTF-8 or has an unreadable record is refused, every line named.
pub(crate) fn read_csv(
    file: &str,
    bytes: &[u8],
    delimiter: Option<u8>,
) -> Result<(Vec<String>, Vec<Line>), Vec<Problem>> {
    let text =
        std::str::from_utf8(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)).map_err(|e| {
            vec![Problem::file(
                file,
                format!("le fichier n'est pas en UTF-8 ({e})"),
            )]
        })?;
    let delimiter = delimiter.unwrap_or_else(|| {
        if text.lines().next().unwrap_or("").contains(';') {
            b';'
        } else {
            b','
        }
    });
    // Strict: a record with another number of fields than the header or a
    // quote left open (a truncated file), a control character or an
    // oversized cell are refused with their line.
    let mut records = crate::csv_read::read(text, delimiter)
        .map_err(|faults| faults.iter().map(|f| f.problem(file)).collect::<Vec<_>>())?
        .into_iter()
        .filter(|(_, r)| r.iter().any(|f| !f.trim().is_empty()));
    let headers: Vec<String> = match records.next() {
        Some((_, h)) => h.iter().map(|h| h.trim().to_owned()).collect(),
        None => return Err(vec![Problem::file(file, "le fichier est vide")]),
    };
    Ok((headers, records.collect()))
}

/// Positions of the needed columns, or the list of those missing.
pub(crate) fn columns(
    file: &str,
    headers: &[String],
    needed: &[&str],
) -> Result<Vec<usize>, Vec<Problem>> {
    let mut out = Vec::with_capacity(needed.len());
    let mut missing = Vec::new();
    for c in needed {
        match headers.iter().position(|h| h == c) {
            Some(i) => out.push(i),
            None => missing.push(Problem::line(
                file,
                1usize,
                format!("colonne « {c} » absente"),
            )),
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(missing)
    }
}

fn is_period(p: &str) -> bool {
    p.len() == 4 && p.bytes().all(|b| b.is_ascii_digit())
}

fn is_month(p: &str) -> bool {
    // ASCII first: `p[..4]` would cut a multi-byte character.
    p.len() == 7
        && p.is_ascii()
        && is_period(&p[..4])
        && p.as_bytes()[4] == b'-'
        && matches!(p[5..].parse::<u8>(), Ok(1..=12))
}

/// Bassin codes on four digits: the commune table drops the leading zero
/// (`301`) that the indicator files keep (`0301`).
pub fn basin_code(raw: &str) -> Option<String> {
    let t = raw.trim();
    (!t.is_empty() && t.len() <= 4 && t.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{t:0>4}"))
}
