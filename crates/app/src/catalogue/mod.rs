//! The catalogue: formations and their sessions, ROME fiches and
//! certifications as the campus' offer shows them. Reading is here; editing
//! in `edit`, spreadsheets in `sheet`, LHÉO in `lheo`.

mod edit;
mod lheo;
mod sheet;

pub use edit::{rome_links_from, FormationForm};

use serde::Serialize;

use search::{DocKind, Facet, Query};
use store::{
    BlocRow, CampusRow, CertificationRow, FormationRow, MobilityRow, NoteRow, OccupationRef,
    OccupationRow, RncpFicheRow, SessionRow, SkillRow, TitleRow,
};

use crate::listing::{hydrate, pages, Page, PER_PAGE};
use crate::policy::{allows, Action, Actor, Resource};
use crate::{App, AppError};

/// Parameters of a catalogue search.
#[derive(Debug, Clone, Default)]
pub struct CatalogueQuery {
    pub q: String,
    pub page: usize,
    pub level: Vec<String>,
    pub pathway: Vec<String>,
    pub modality: Vec<String>,
    pub departement: Vec<String>,
    pub provider: Vec<String>,
    /// Restrict to one campus (slug).
    pub campus: Option<String>,
}

/// A formation's page.
#[derive(Debug, Clone, Serialize)]
pub struct FormationView {
    pub formation: FormationRow,
    pub campus: CampusRow,
    pub pathway_label: String,
    pub modality_label: String,
    pub level_label: Option<String>,
    pub sessions: Vec<SessionRow>,
    pub occupations: Vec<OccupationRef>,
    /// Data-quality notes, for campus staff only.
    pub notes: Vec<NoteRow>,
    pub private: bool,
    /// Whether the actor may edit it.
    pub editable: bool,
    /// InserJeunes outcomes of its certification in its région, latest first.
    pub outcomes: Vec<store::OutcomeRow>,
    /// InserJeunes outcomes of its provider as an establishment.
    pub establishment_outcomes: Vec<store::EstablishmentOutcomeRow>,
}

/// A ROME fiche's page.
#[derive(Debug, Clone, Serialize)]
pub struct OccupationView {
    pub occupation: OccupationRow,
    pub titles: Vec<TitleRow>,
    pub competences: Vec<SkillRow>,
    pub savoirs: Vec<SkillRow>,
    pub mobilities: Vec<MobilityRow>,
    pub certifications: Vec<CertificationRow>,
    pub formations: Vec<FormationRow>,
}

/// A certification's page.
#[derive(Debug, Clone, Serialize)]
pub struct CertificationView {
    pub certification: CertificationRow,
    pub occupations: Vec<OccupationRef>,
    pub rncp: Option<RncpFicheRow>,
    pub blocs: Vec<BlocRow>,
    pub certifiers: Vec<String>,
    pub formations: Vec<FormationRow>,
}

impl App {
    /// A formation's page; drafts are hidden from visitors.
    pub async fn formation_view(&self, actor: &Actor, id: i64) -> Result<FormationView, AppError> {
        let not_found = || AppError::NotFound(format!("formation {id}"));
        let formation = self.store.formation(id).await?.ok_or_else(not_found)?;
        let private = allows(
            actor,
            Action::ReadPrivate,
            Resource::Formation {
                campus_id: formation.campus_id,
                provider_id: formation.provider_id,
            },
        );
        if !private && !domain::visibility::formation_is_public(&formation.status) {
            return Err(not_found());
        }
        let campus = self
            .store
            .campuses()
            .await?
            .into_iter()
            .find(|c| c.id == formation.campus_id)
            .ok_or_else(not_found)?;
        let (formation_campus, formation_provider) = (formation.campus_id, formation.provider_id);
        let (outcomes, establishment_outcomes) = self.formation_outcomes(&formation).await?;
        Ok(FormationView {
            outcomes,
            establishment_outcomes,
            pathway_label: domain::Pathway::parse(&formation.pathway)
                .map_or(formation.pathway.clone(), |p| p.label().to_owned()),
            modality_label: domain::Modality::parse(&formation.modality)
                .map_or(formation.modality.clone(), |p| p.label().to_owned()),
            level_label: formation
                .level
                .and_then(|l| u8::try_from(l).ok())
                .and_then(domain::Level::new)
                .map(|l| l.label().to_owned()),
            sessions: self.store.sessions(id).await?,
            occupations: self.store.formation_romes(id).await?,
            notes: if private {
                self.store.formation_notes(id).await?
            } else {
                Vec::new()
            },
            formation,
            campus,
            private,
            editable: allows(
                actor,
                Action::Write,
                Resource::Formation {
                    campus_id: formation_campus,
                    provider_id: formation_provider,
                },
            ),
        })
    }

    /// A ROME fiche's page.
    pub async fn occupation_view(&self, code: &str) -> Result<OccupationView, AppError> {
        let code = code.to_ascii_uppercase();
        let occupation = self
            .store
            .occupation(&code)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("fiche ROME {code}")))?;
        let (competences, savoirs) = self
            .store
            .occupation_skills(&code)
            .await?
            .into_iter()
            .partition(|s| s.kind == "competence");
        Ok(OccupationView {
            titles: self.store.titles(Some(&code)).await?,
            mobilities: self.store.mobilities(&code).await?,
            certifications: self
                .store
                .certifications_for_rome(&occupation.code_rome_parent)
                .await?,
            formations: self.store.formations_for_rome(&code).await?,
            competences,
            savoirs,
            occupation,
        })
    }

    /// A certification's page.
    pub async fn certification_view(&self, code: i64) -> Result<CertificationView, AppError> {
        let certification = self
            .store
            .certification(code)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("certification {code}")))?;
        let (rncp, blocs, certifiers) = match &certification.code_rncp {
            Some(n) => {
                let key = if n.starts_with("RNCP") {
                    n.clone()
                } else {
                    format!("RNCP{n}")
                };
                (
                    self.store.rncp_fiche(&key).await?,
                    self.store.rncp_blocs(&key).await?,
                    self.store.rncp_certifiers(&key).await?,
                )
            }
            None => (None, Vec::new(), Vec::new()),
        };
        Ok(CertificationView {
            occupations: self.store.certification_occupations(code).await?,
            formations: self.store.formations_for_certification(code).await?,
            certification,
            rncp,
            blocs,
            certifiers,
        })
    }

    /// Searches the catalogue of formations with facets.
    pub async fn search_formations(
        &self,
        actor: &Actor,
        cq: &CatalogueQuery,
    ) -> Result<Page<FormationRow>, AppError> {
        let page = cq.page.max(1);
        let mut q = Query::new(DocKind::Formation, cq.q.clone());
        q.campus = cq.campus.clone();
        q.include_private = self.sees_campus_drafts(actor, cq.campus.as_deref()).await?;
        q.offset = (page - 1) * PER_PAGE;
        q.limit = PER_PAGE;
        q.facets = vec![
            Facet::Level,
            Facet::Pathway,
            Facet::Modality,
            Facet::Departement,
            Facet::Provider,
        ];
        let selected: Vec<(Facet, &Vec<String>)> = vec![
            (Facet::Level, &cq.level),
            (Facet::Pathway, &cq.pathway),
            (Facet::Modality, &cq.modality),
            (Facet::Departement, &cq.departement),
            (Facet::Provider, &cq.provider),
        ];
        for (f, values) in &selected {
            for v in values.iter() {
                if !v.is_empty() {
                    q.filters.push((*f, v.clone()));
                }
            }
        }
        let res = self.index.search(&q)?;
        let items = match hydrate(&res) {
            Some(items) => items,
            None => {
                let ids: Vec<i64> = res.hits.iter().filter_map(|h| h.id.parse().ok()).collect();
                self.store.formations_by_ids(&ids).await?
            }
        };
        let facets = self.facet_views(&res, &selected).await?;
        Ok(Page {
            items,
            total: res.total,
            page,
            pages: pages(res.total),
            facets,
            relaxed: res.relaxed,
        })
    }

    /// Searches the ROME fiches (with their appellations).
    pub async fn search_occupations(
        &self,
        text: &str,
        page: usize,
    ) -> Result<Page<OccupationRow>, AppError> {
        let page = page.max(1);
        let mut q = Query::new(DocKind::Occupation, text);
        q.offset = (page - 1) * PER_PAGE;
        q.limit = PER_PAGE;
        let res = self.index.search(&q)?;
        let items = match hydrate(&res) {
            Some(items) => items,
            None => {
                let codes: Vec<String> = res.hits.iter().map(|h| h.id.clone()).collect();
                self.store.occupations_by_codes(&codes).await?
            }
        };
        Ok(Page {
            items,
            total: res.total,
            page,
            pages: pages(res.total),
            facets: Vec::new(),
            relaxed: res.relaxed,
        })
    }
}
