//! The observatory (issue #4): importing published tension indicators and
//! job postings, and putting them next to a campus' own formations — the
//! ranked list of métiers in difficulty on the campus' perimeter and the
//! program-gap analysis. Every rule is written in `docs/OBSERVATORY.md`.
//!
//! The unit is the ROME v3 fiche (`code_rome_parent` of ROME 4.0): the one
//! the tension files, Certif Info and RNCP use. Aggregates are computed at
//! import; a page only reads them and joins a few hundred rows.

//!
//! Layout: `imports` (tension files, postings), `build` (one view from the
//! data, with the rules of `domain::observatory`), `cache` (views reused
//! while the data hold), `tables` (typed and text tables, exports), `demo`
//! (the demonstration's data). This module holds the view types and the
//! use cases that pages, API and command line call.

mod build;
mod cache;
mod demo;
mod imports;
mod tables;

use std::collections::HashMap;

use serde::Serialize;
use store::Visibility;

use crate::audit::Event;
use crate::policy::{authorize, Action, Actor, Resource};
use crate::{App, AppError};

pub(crate) use cache::{ObservatoryCache, ObservatoryKey};
pub use demo::{DEMO_POSTINGS, DEMO_SEED};
pub use imports::{
    compute_tension, count_by_rome_area_month, ComputedTension, PostingsReport, TensionImport,
    SHIPPED_TENSION,
};
pub use tables::TableKind;

/// One dimension of tension for a métier on the perimeter.
#[derive(Debug, Clone, Serialize)]
pub struct Dimension {
    pub code: String,
    pub label: String,
    /// Level 1–5, offers-weighted mean over the perimeter's bassins, rounded.
    pub level: Option<u8>,
}

/// A métier of the campus' sector on its perimeter.
#[derive(Debug, Clone, Serialize)]
pub struct MetierLine {
    /// ROME v3 fiche.
    pub code_rome: String,
    pub label: String,
    /// Whether the fiche is in the sector's ROME domains (the others are
    /// shown because the campus trains for them).
    pub in_sector: bool,
    /// Level of the main indicator (1–5) on the latest period, if published.
    pub level: Option<u8>,
    /// Period of that level.
    pub period: Option<String>,
    /// The explanatory dimensions, in the order of `INDICATORS`.
    pub dimensions: Vec<Dimension>,
    /// Level of the main indicator per period, oldest first.
    pub trend: Vec<(String, u8)>,
    /// Level of the main indicator in each territory of the perimeter
    /// (bassins, or the narrowest type published), for the map.
    pub places: Vec<(String, u8)>,
    /// Offers registered (published average) summed over the perimeter.
    pub offers: Option<f64>,
    /// Job seekers A, B, C summed over the perimeter.
    pub jobseekers: Option<f64>,
    /// Share of recruitment projects judged difficult, national (BMO).
    pub bmo_difficult_pct: Option<f64>,
    /// That share per edition, oldest first.
    pub bmo_trend: Vec<(String, f64)>,
    /// Duncan index of offers against job seekers over the perimeter's
    /// bassins (0: same spread, 1: never in the same bassin), computed here.
    pub geographic_mismatch: Option<f64>,
    /// BMO projects on the perimeter's bassins, when published.
    pub bmo_projects: Option<f64>,
    /// Planned hires of the campus' latest survey (hidden from those who
    /// may not see a suppressed cell).
    pub survey_planned: Option<i64>,
    /// Postings of the last 12 months of data on the perimeter.
    pub postings: i64,
    /// Positions of those postings.
    pub positions: i64,
    /// Places of the campus' formations leading to the métier (split).
    pub supply: f64,
    /// Demand per the rule of `docs/OBSERVATORY.md`, and its source.
    pub demand: Option<f64>,
    pub demand_source: &'static str,
    /// Demand − supply.
    pub gap: Option<f64>,
    /// Demand ÷ supply.
    pub ratio: Option<f64>,
    /// Most asked skills in the perimeter's postings.
    pub top_skills: Vec<(i64, String, i64)>,
    /// Asked skills that the blocs of the campus' certifications do not cover.
    pub uncovered_skills: Vec<(i64, String, i64)>,
    /// The campus' formations leading to it: id, title, places.
    pub formations: Vec<(i64, String, Option<i64>)>,
}

/// The campus observatory.
#[derive(Debug, Clone, Serialize)]
pub struct Observatory {
    pub campus_slug: String,
    pub campus_name: String,
    /// ROME domains of the sector.
    pub domains: Vec<String>,
    /// Whether they are the filière's defaults (else the campus' own).
    pub domains_are_defaults: bool,
    /// Perimeter: communes, zones d'emploi, départements, bassins d'emploi.
    pub communes: usize,
    pub employment_areas: Vec<String>,
    pub departements: Vec<String>,
    pub basins: Vec<String>,
    /// The bassin of each commune of the perimeter (for the map).
    pub commune_basins: Vec<(String, String)>,
    /// Imported tension sources.
    pub sources: Vec<store::TensionSourceRow>,
    /// Months of postings counted (the last 12 of the data).
    pub posting_months: Vec<String>,
    /// Whether postings counted include generated ones.
    pub synthetic_postings: bool,
    /// Métiers, most in difficulty first.
    pub metiers: Vec<MetierLine>,
    /// Graduate outcomes of the campus' formations (InserJeunes).
    pub outcomes: Vec<FormationOutcome>,
    /// What the page must say about thin or missing data.
    pub warnings: Vec<String>,
}

/// The outcomes of one formation of the campus: the latest millésime of its
/// certification in its région, one line per voie.
#[derive(Debug, Clone, Serialize)]
pub struct FormationOutcome {
    pub formation_id: i64,
    pub title: String,
    pub outcome: store::OutcomeRow,
}

/// « Open N places of certification C » for the what-if of the gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WhatIf {
    pub certification_code: i64,
    pub places: i64,
}

impl WhatIf {
    /// Reads `CODE=PLACES`.
    pub fn parse(text: &str) -> Option<Self> {
        let (code, places) = text.split_once('=')?;
        Some(Self {
            certification_code: code.trim().parse().ok()?,
            places: places
                .trim()
                .parse()
                .ok()
                .filter(|p: &i64| (1..=MAX_WHAT_IF_PLACES).contains(p))?,
        })
    }
}

/// Most places a what-if may add: more than any real formation opens, and
/// a bound on the keys of the view cache.
pub const MAX_WHAT_IF_PLACES: i64 = 10_000;

impl App {
    /// The observatory of a campus; `what_if` adds places to its supply,
    /// `period` chooses the tension period shown (default: the latest).
    pub async fn observatory(
        &self,
        actor: &Actor,
        campus_slug: &str,
        what_if: Option<WhatIf>,
        period: Option<&str>,
    ) -> Result<Observatory, AppError> {
        self.observatory_for(actor, campus_slug, what_if, period, true)
            .await
    }

    /// The certifications the campus' formations prepare, (code, label)
    /// by code: the choices of the observatory's « what if » form.
    pub async fn what_if_certifications(
        &self,
        actor: &Actor,
        campus_slug: &str,
    ) -> Result<Vec<(i64, String)>, AppError> {
        let campus = self.campus(campus_slug).await?;
        authorize(actor, Action::ReadAggregate, Resource::Campus(campus.id))?;
        let mut certifications: Vec<(i64, String)> = self
            .store
            .formations(campus.id, Visibility::All, None)
            .await?
            .into_iter()
            .filter_map(|f| {
                Some((
                    f.certification_code?,
                    f.certification_label.unwrap_or(f.title),
                ))
            })
            .collect();
        certifications.sort();
        certifications.dedup_by_key(|c| c.0);
        Ok(certifications)
    }

    /// Commune code → zone d'emploi code, for the postings benchmark's
    /// baseline (public reference data).
    pub async fn commune_zones(&self) -> Result<HashMap<String, String>, AppError> {
        let (places, _) = self.store.commune_places().await?;
        Ok(places
            .into_iter()
            .map(|(code, (ze, _))| (code, ze))
            .collect())
    }

    /// One table of the observatory as a CSV or ODS file. Exports never
    /// carry a suppressed survey cell, whoever asks.
    pub async fn observatory_export(
        &self,
        actor: &Actor,
        campus_slug: &str,
        kind: TableKind,
        ods: bool,
    ) -> Result<(Vec<u8>, &'static str), AppError> {
        self.observatory_for(actor, campus_slug, None, None, false)
            .await?
            .export(kind, ods)
    }

    /// The observatory; `confidential`: whether a campus manager sees
    /// suppressed survey cells (on pages; never in exports or at the
    /// command line, whose output is an export).
    pub async fn observatory_for(
        &self,
        actor: &Actor,
        campus_slug: &str,
        what_if: Option<WhatIf>,
        period: Option<&str>,
        confidential: bool,
    ) -> Result<Observatory, AppError> {
        let campus = self.campus(campus_slug).await?;
        authorize(actor, Action::ReadAggregate, Resource::Campus(campus.id))?;
        let manager = confidential
            && crate::policy::allows(actor, Action::Manage, Resource::Campus(campus.id));
        // Parameters are checked against what exists before anything is
        // computed: each new combination would cost a whole build.
        if let Some(w) = what_if {
            let places_ok = (1..=MAX_WHAT_IF_PLACES).contains(&w.places);
            let known = self
                .store
                .formations(campus.id, store::Visibility::All, None)
                .await?
                .iter()
                .any(|f| f.certification_code == Some(w.certification_code));
            if !places_ok || !known {
                return Err(AppError::Invalid(vec![domain::network::FieldError::new(
                    if known { "places" } else { "certification" },
                    if known {
                        format!("le nombre de places doit aller de 1 à {MAX_WHAT_IF_PLACES}")
                    } else {
                        "aucune formation du campus ne prépare cette certification".to_owned()
                    },
                )]));
            }
        }
        if let Some(p) = period {
            let base = Box::pin(self.observatory_for(actor, campus_slug, None, None, confidential))
                .await?;
            let known = base
                .metiers
                .iter()
                .any(|m| m.trend.iter().any(|(q, _)| q == p));
            if !known {
                return Err(AppError::Invalid(vec![domain::network::FieldError::new(
                    "periode",
                    "aucun indicateur de tension n'est publié pour cette période",
                )]));
            }
        }
        // Every write the observatory depends on is audited (imports, edits,
        // survey answers, settings): the log's last entry versions the view.
        let version = self.store.data_version().await?;
        let key = ObservatoryKey {
            campus_id: campus.id,
            what_if: what_if.map(|w| (w.certification_code, w.places)),
            period: period.map(str::to_owned),
            manager,
        };
        if let Some(hit) = self.observatory_cache.get(&key, version) {
            return Ok((*hit).clone());
        }
        // One uncached view is computed at a time on this server (a build
        // takes seconds of CPU): requests for others wait, and find the
        // view in the cache if it was the same one.
        let _build = self
            .observatory_builds
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        if let Some(hit) = self.observatory_cache.get(&key, version) {
            return Ok((*hit).clone());
        }
        let o = self
            .build_observatory(campus, what_if, period, manager)
            .await?;
        self.observatory_cache
            .put(key, version, std::sync::Arc::new(o.clone()));
        Ok(o)
    }

    /// Sets the campus' own sector → ROME domains mapping from words such
    /// as `J K13 D12` (campus managers); an empty text restores the
    /// filière's defaults.
    pub async fn set_sector_domains(
        &self,
        actor: &Actor,
        slug: &str,
        text: &str,
    ) -> Result<(), AppError> {
        let campus = self.campus(slug).await?;
        authorize(actor, Action::Manage, Resource::Campus(campus.id))?;
        let mut domains: Vec<String> = text
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .filter(|w| !w.is_empty())
            .map(|w| w.trim().to_uppercase())
            .collect();
        domains.sort();
        domains.dedup();
        let mut unknown = Vec::new();
        for d in &domains {
            if !self.store.rome_domain_exists(d).await? {
                unknown.push(d.clone());
            }
        }
        if !unknown.is_empty() {
            return Err(AppError::Invalid(vec![domain::network::FieldError::new(
                "domaines",
                format!(
                    "{} : ni grand domaine (une lettre, par exemple J) ni domaine professionnel (par exemple K13) du ROME 4.0",
                    unknown.join(", ")
                ),
            )]));
        }
        self.store
            .set_campus_rome_domains(campus.id, &domains)
            .await?;
        let mut event =
            Event::new("campus.sector_domains").detail(serde_json::json!({ "domains": domains }));
        event.campus_id = Some(campus.id);
        self.audit(actor, event).await?;
        Ok(())
    }
}
