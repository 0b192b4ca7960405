//! Reference data (territories, ROME 4.0, Certif Info, RNCP): loading the
//! shipped files, what is loaded, and the checks other areas make against
//! it (a commune exists, the names of the départements).

use std::path::Path;
use std::sync::Arc;

use domain::network::FieldError;
use ingest::referentiels;
use store::{DatasetOutcome, DatasetRow, RefTables};

use crate::imports::{DatasetReport, ImportError};
use crate::{App, AppError};

impl App {
    /// Imports the reference data shipped in `dir`, one transaction per data
    /// set, skipping those whose files did not change. `step` is told what is
    /// being done (for a progress bar).
    pub async fn import_referentiels(
        &self,
        dir: &Path,
        step: &(dyn Fn(&str) + Sync),
    ) -> Result<Vec<DatasetReport>, ImportError> {
        step("lecture des fichiers");
        let dir2 = dir.to_path_buf();
        let r = tokio::task::spawn_blocking(move || referentiels::load_all(&dir2))
            .await
            .map_err(|e| ImportError::Failed(e.to_string()))?
            .map_err(|e| ImportError::Refused {
                file: e.file().to_owned(),
                problems: vec![e.to_string()],
            })?;
        let t = &r.territories;
        let ro = &r.rome;
        let c = &r.certifications;
        let n = &r.rncp;
        let sets: Vec<(
            &domain::refdata::DatasetInfo,
            RefTables<'_>,
            &Vec<domain::refdata::QualityIssue>,
        )> = vec![
            (
                &t.info,
                RefTables::Territories {
                    regions: &t.regions,
                    academies: &t.academies,
                    departements: &t.departements,
                    employment_areas: &t.employment_areas,
                    communes: &t.communes,
                },
                &t.issues,
            ),
            (
                &ro.info,
                RefTables::Rome {
                    grands_domaines: &ro.grands_domaines,
                    domaines: &ro.domaines,
                    occupations: &ro.occupations,
                    titles: &ro.titles,
                    skills: &ro.skills,
                    occupation_skills: &ro.occupation_skills,
                    mobilities: &ro.mobilities,
                    interests: &ro.interests,
                    occupation_interests: &ro.occupation_interests,
                },
                &ro.issues,
            ),
            (
                &c.info,
                RefTables::CertifInfo {
                    certifications: &c.certifications,
                    romes: &c.certification_romes,
                },
                &c.issues,
            ),
            (
                &n.info,
                RefTables::Rncp {
                    fiches: &n.fiches,
                    romes: &n.romes,
                    nsf: &n.nsf,
                    blocs: &n.blocs,
                    certifiers: &n.certifiers,
                },
                &n.issues,
            ),
        ];
        let mut reports = Vec::new();
        for (info, tables, issues) in sets {
            step(&info.title);
            let outcome = self.store.replace_dataset(info, &tables, issues).await?;
            reports.push(DatasetReport {
                name: info.name.clone(),
                title: info.title.clone(),
                version: info.version.clone(),
                outcome,
                counts: tables.counts(),
                issues: issues.clone(),
            });
        }
        if reports
            .iter()
            .any(|r| r.outcome != DatasetOutcome::Unchanged)
        {
            step("index de recherche");
            let mut tx = self.store.begin().await?;
            tx.log_change("reference", "*").await?;
            tx.commit().await?;
            self.catch_up_index().await?;
        }
        Ok(reports)
    }

    /// Provenance of every reference data set.
    pub async fn datasets(&self) -> Result<Vec<DatasetRow>, AppError> {
        Ok(self.store.datasets().await?)
    }

    /// Département codes and names, cached (see `App::departements`).
    pub(crate) async fn departement_names(&self) -> Result<Arc<Vec<(String, String)>>, AppError> {
        if let Some(d) = self.cached_departements() {
            return Ok(d);
        }
        let names: Arc<Vec<(String, String)>> = Arc::new(
            self.store
                .departements()
                .await?
                .into_iter()
                .map(|d| (d.code, d.name))
                .collect(),
        );
        self.set_cached_departements(Some(names.clone()));
        Ok(names)
    }

    pub(crate) async fn check_commune(
        &self,
        field: &str,
        code: Option<&str>,
    ) -> Result<(), AppError> {
        let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
            return Ok(());
        };
        if self.store.commune(code).await?.is_none() {
            return Err(AppError::Invalid(vec![FieldError::new(
                field,
                format!(
                    "la commune {code} n'existe pas dans le code officiel géographique en vigueur"
                ),
            )]));
        }
        Ok(())
    }
}
