//! Graduate outcomes (InserJeunes): importing the published files and the
//! BCN nomenclatures, and the outcomes of a campus' formations. Rates are
//! recomputed from the published counts (docs/OBSERVATORY.md):
//!
//! - employment at 6 / 12 months = in employment ÷ leavers (`nb_sortant`);
//! - further study = continuing ÷ students in their final year;
//! - favourable outcome = (continuing + in employment at 6 months) ÷ final year.
//!
//! The quadrant compares a formation's employment at 6 months and further
//! study with the means of its région, millésime, voie and RNCP level
//! (ratios of summed counts, every formation of the group counted), and is
//! not given under 20 leavers.

use std::collections::HashMap;

use ingest::inserjeunes::{quadrant, OutcomeFile};
use serde::Serialize;
use store::{EstablishmentOutcomeRow, OutcomeRow};

use crate::audit::Event;
use crate::imports::ImportError;
use crate::policy::Actor;
use crate::{App, AppError};

/// The InserJeunes and BCN files shipped in `data/inserjeunes/`, in the
/// order they must be read (nomenclatures first).
pub const SHIPPED_OUTCOMES: [&str; 6] = [
    "bcn_nNiveauFormationDiplome_.csv",
    "bcn_nFormationDiplome_.csv",
    "bcn_nMef.csv",
    "orion_ij_region_data.csv",
    "depp-2022-etablissements-2022_2023-pro.csv",
    "depp-2022-etablissements-2022_2023-apprentissage.csv",
];

/// What `import inserjeunes` did with one file.
#[derive(Debug, Clone, Serialize)]
pub struct OutcomeImport {
    pub kind: &'static str,
    pub rows: usize,
    pub unchanged: bool,
    /// Rows kept without a label (code unknown to the BCN tables).
    pub unlabelled: usize,
}

fn rate(num: Option<i64>, den: Option<i64>) -> Option<f64> {
    match (num, den) {
        (Some(n), Some(d)) if d > 0 => Some(n as f64 * 100.0 / d as f64),
        _ => None,
    }
}

fn checksum(bytes: &[u8]) -> String {
    domain::checksum::Fnv1a64::default().update(bytes).text()
}

/// Computes rates, labels and quadrants of région outcomes.
pub fn region_rows(
    rows: &[ingest::inserjeunes::RegionOutcome],
    mefs: &HashMap<String, String>,
    formations: &HashMap<String, store::BcnFormationRow>,
) -> Vec<OutcomeRow> {
    let mut out: Vec<OutcomeRow> = rows
        .iter()
        .map(|r| {
            let cfd = r
                .cfd
                .clone()
                .or_else(|| r.mefstat11.as_ref().and_then(|m| mefs.get(m).cloned()));
            let bcn = cfd.as_ref().and_then(|c| formations.get(c));
            let further = rate(r.further_study, r.final_year);
            let favourable = match (r.further_study, r.employed_6m) {
                (Some(f), Some(e)) => rate(Some(f + e), r.final_year),
                _ => None,
            };
            OutcomeRow {
                millesime: r.millesime.clone(),
                region_code: r.region_code.clone(),
                voie: r.voie.clone(),
                formation_key: r
                    .mefstat11
                    .clone()
                    .or_else(|| r.cfd.clone())
                    .unwrap_or_default(),
                cfd,
                mefstat11: r.mefstat11.clone(),
                label: bcn.map(|b| b.label.clone()),
                rncp_level: bcn.and_then(|b| b.rncp_level),
                final_year: r.final_year,
                leavers: r.leavers,
                employed_6m: r.employed_6m,
                employed_12m: r.employed_12m,
                further_study: r.further_study,
                rate_employed_6m: rate(r.employed_6m, r.leavers),
                rate_employed_12m: rate(r.employed_12m, r.leavers),
                rate_further_study: further,
                rate_favourable: favourable,
                quadrant: None,
            }
        })
        .collect();
    // Means per group, as ratios of summed counts.
    #[derive(Default)]
    struct Sums {
        employed: i64,
        leavers: i64,
        further: i64,
        final_year: i64,
    }
    let mut groups: HashMap<(String, String, String, i64), Sums> = HashMap::new();
    for r in &out {
        let Some(level) = r.rncp_level else { continue };
        let s = groups
            .entry((
                r.millesime.clone(),
                r.region_code.clone(),
                r.voie.clone(),
                level,
            ))
            .or_default();
        if let (Some(e), Some(l)) = (r.employed_6m, r.leavers) {
            s.employed += e;
            s.leavers += l;
        }
        if let (Some(f), Some(t)) = (r.further_study, r.final_year) {
            s.further += f;
            s.final_year += t;
        }
    }
    for r in &mut out {
        let Some(level) = r.rncp_level else { continue };
        let s = &groups[&(
            r.millesime.clone(),
            r.region_code.clone(),
            r.voie.clone(),
            level,
        )];
        if s.leavers > 0 && s.final_year > 0 {
            let me = s.employed as f64 * 100.0 / s.leavers as f64;
            let mf = s.further as f64 * 100.0 / s.final_year as f64;
            r.quadrant = quadrant(r.leavers, r.rate_employed_6m, r.rate_further_study, me, mf)
                .map(str::to_owned);
        }
    }
    out
}

impl App {
    /// Imports one InserJeunes or BCN file, as a whole or not at all;
    /// re-importing the same file changes nothing.
    pub async fn import_inserjeunes(
        &self,
        file: &str,
        bytes: &[u8],
        millesime: Option<&str>,
    ) -> Result<OutcomeImport, ImportError> {
        let parsed = ingest::inserjeunes::read_outcomes(file, bytes, millesime)
            .map_err(|problems| ImportError::refused(file, &problems))?;
        let name = std::path::Path::new(file)
            .file_name()
            .map_or_else(|| file.to_owned(), |n| n.to_string_lossy().into_owned());
        let sum = checksum(bytes);
        let kind = match &parsed {
            OutcomeFile::Formations(_) => "BCN : formations diplômes",
            OutcomeFile::Levels(_) => "BCN : niveaux",
            OutcomeFile::Mefs(_) => "BCN : modules élémentaires de formation",
            OutcomeFile::Regions(_) => "InserJeunes par formation et région",
            OutcomeFile::Establishments(_) => "InserJeunes par établissement",
        };
        if self.store.outcome_source_checksum(&name).await?.as_deref() == Some(&sum) {
            return Ok(OutcomeImport {
                kind,
                rows: 0,
                unchanged: true,
                unlabelled: 0,
            });
        }
        // The data and the audit entry commit together (the observatory's
        // cache is keyed by the last audit entry).
        let bcn = match &parsed {
            OutcomeFile::Regions(_) => Some(self.store.bcn_maps().await?),
            _ => None,
        };
        let mut tx = self.store.begin().await?;
        let (rows, unlabelled) = match parsed {
            OutcomeFile::Formations(f) => {
                let rows: Vec<(String, String, String, String)> = f
                    .into_iter()
                    .map(|b| (b.cfd, b.label, b.short_label, b.level_code))
                    .collect();
                tx.replace_bcn(&name, &sum, &rows, &[], &[]).await?;
                (rows.len(), 0)
            }
            OutcomeFile::Levels(l) => {
                tx.replace_bcn(&name, &sum, &[], &l, &[]).await?;
                (l.len(), 0)
            }
            OutcomeFile::Mefs(m) => {
                tx.replace_bcn(&name, &sum, &[], &[], &m).await?;
                (m.len(), 0)
            }
            OutcomeFile::Regions(r) => {
                let (mefs, formations) = bcn.unwrap_or_default();
                let rows = region_rows(&r, &mefs, &formations);
                let unlabelled = rows.iter().filter(|r| r.label.is_none()).count();
                tx.replace_region_outcomes(&name, &sum, &rows).await?;
                (rows.len(), unlabelled)
            }
            OutcomeFile::Establishments(e) => {
                let rows: Vec<EstablishmentOutcomeRow> = e
                    .into_iter()
                    .map(|e| EstablishmentOutcomeRow {
                        millesime: e.millesime,
                        uai: e.uai,
                        voie: e.voie,
                        subset: e.subset,
                        label: e.label,
                        region_name: e.region_name,
                        rate_further_study: e.rate_further_study,
                        rate_employed_6m: e.rate_employed_6m,
                        rate_expected: e.rate_expected,
                        value_added: e.value_added,
                    })
                    .collect();
                tx.replace_establishment_outcomes(&name, &sum, &rows)
                    .await?;
                (rows.len(), 0)
            }
        };
        let event = Event::new("import.inserjeunes").detail(serde_json::json!({
            "file": name, "kind": kind, "rows": rows,
        }));
        self.audit_in(&mut tx, &Actor::operator(), event).await?;
        tx.commit().await?;
        Ok(OutcomeImport {
            kind,
            rows,
            unchanged: false,
            unlabelled,
        })
    }

    /// Imports the files shipped in `data/inserjeunes/`.
    pub async fn import_shipped_outcomes(
        &self,
    ) -> Result<Vec<(String, OutcomeImport)>, ImportError> {
        let mut out = Vec::new();
        for name in SHIPPED_OUTCOMES {
            let bytes = self.read_shipped("inserjeunes", name)?;
            out.push((
                name.to_owned(),
                self.import_inserjeunes(name, &bytes, None).await?,
            ));
        }
        Ok(out)
    }

    /// Outcomes of a formation: those of its certification's CFD in the
    /// région of its site (or of its campus' perimeter), latest first, and
    /// those of its provider as an establishment.
    pub async fn formation_outcomes(
        &self,
        formation: &store::FormationRow,
    ) -> Result<(Vec<OutcomeRow>, Vec<EstablishmentOutcomeRow>), AppError> {
        let cfd = match formation.certification_code {
            Some(code) => self.store.certification(code).await?.and_then(|c| c.cfd),
            None => None,
        };
        let region = match &formation.site_code_insee {
            Some(c) => self.store.commune(c).await?.map(|c| c.region_code),
            None => None,
        };
        let region = match region {
            Some(r) => Some(r),
            None => self
                .store
                .perimeter_communes(formation.campus_id)
                .await?
                .first()
                .map(|c| c.region_code.clone()),
        };
        let regional = match (cfd, region) {
            (Some(cfd), Some(region)) => self.store.outcomes_for(&[cfd], &region).await?,
            _ => Vec::new(),
        };
        let uai = self
            .store
            .member(formation.provider_id)
            .await?
            .and_then(|m| m.uai);
        let establishment = match uai {
            Some(u) => self.store.establishment_outcomes(&[u]).await?,
            None => Vec::new(),
        };
        Ok((regional, establishment))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ingest::inserjeunes::RegionOutcome;

    fn row(key: &str, leavers: i64, employed: i64, final_year: i64, further: i64) -> RegionOutcome {
        RegionOutcome {
            line: 2,
            millesime: "2021_2022".into(),
            region_code: "03".into(),
            voie: "scolaire".into(),
            cfd: None,
            mefstat11: Some(key.into()),
            final_year: Some(final_year),
            leavers: Some(leavers),
            employed_6m: Some(employed),
            employed_12m: None,
            further_study: Some(further),
        }
    }

    #[test]
    fn rates_means_and_quadrants_by_hand() {
        let mefs: HashMap<String, String> = [
            ("A".into(), "500".into()),
            ("B".into(), "501".into()),
            ("C".into(), "502".into()),
        ]
        .into();
        let f = |cfd: &str| store::BcnFormationRow {
            cfd: cfd.into(),
            label: format!("CAP {cfd}"),
            rncp_level: Some(3),
        };
        let formations: HashMap<String, store::BcnFormationRow> = [
            ("500".into(), f("500")),
            ("501".into(), f("501")),
            ("502".into(), f("502")),
        ]
        .into();
        // A: 40 leavers, 30 employed (75 %), 50 in final year, 10 continuing (20 %).
        // B: 40 leavers, 10 employed (25 %), 80 in final year, 40 continuing (50 %).
        // C: 10 leavers: not placed.
        // Means: employment 45/90 = 50 %, further study 55/150 = 36.7 %.
        let out = region_rows(
            &[
                row("A", 40, 30, 50, 10),
                row("B", 40, 10, 80, 40),
                row("C", 10, 5, 20, 5),
            ],
            &mefs,
            &formations,
        );
        assert_eq!(out[0].rate_employed_6m, Some(75.0));
        assert_eq!(out[0].rate_further_study, Some(20.0));
        assert_eq!(out[0].rate_favourable, Some(80.0));
        assert_eq!(out[0].quadrant.as_deref(), Some("Q2"));
        assert_eq!(out[1].quadrant.as_deref(), Some("Q3"));
        assert_eq!(out[2].quadrant, None, "under 20 leavers");
        assert_eq!(out[0].cfd.as_deref(), Some("500"));
        assert_eq!(out[0].label.as_deref(), Some("CAP 500"));
    }
}
