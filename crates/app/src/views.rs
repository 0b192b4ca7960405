//! Read use cases: what the pages and the API show, already filtered by the
//! policy. Templates and JSON serialisers only format these.

use std::sync::Arc;

use serde::Serialize;

use search::{DocKind, Facet, Query};
use store::{
    BlocRow, CampusRow, CertificationRow, ContactRow, DatasetRow, FormationRow, MemberRow,
    MobilityRow, NoteRow, OccupationRef, OccupationRow, RncpFicheRow, SessionRow, SkillRow,
    TitleRow, Visibility,
};

use crate::policy::{allows, Action, Actor, Resource};
use crate::{App, AppError};

/// Results per page in listings.
pub const PER_PAGE: usize = 20;

/// One page of search results with facet counts.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: usize,
    /// 1-based page number.
    pub page: usize,
    pub pages: usize,
    pub facets: Vec<FacetView>,
    /// True when no result matched every word and close matches are shown.
    pub relaxed: bool,
}

/// Counts of one facet, ready to show.
#[derive(Debug, Clone, Serialize)]
pub struct FacetView {
    /// Query parameter name (`niveau`, `voie`…).
    pub param: &'static str,
    pub label: &'static str,
    pub values: Vec<FacetValue>,
}

/// One value of a facet.
#[derive(Debug, Clone, Serialize)]
pub struct FacetValue {
    pub value: String,
    pub label: String,
    pub count: u64,
    pub selected: bool,
}

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

/// Parameters of a member search.
#[derive(Debug, Clone, Default)]
pub struct MemberQuery {
    pub q: String,
    pub page: usize,
    /// Member kinds (stored codes).
    pub kind: Vec<String>,
    pub departement: Vec<String>,
    /// Restrict to one campus (slug).
    pub campus: Option<String>,
}

/// Query parameter name and French label of each facet.
pub fn facet_names(f: Facet) -> (&'static str, &'static str) {
    match f {
        Facet::Level => ("niveau", "Niveau"),
        Facet::Pathway => ("voie", "Voie"),
        Facet::Modality => ("modalite", "Modalité"),
        Facet::Departement => ("departement", "Département"),
        Facet::Provider => ("organisme", "Organisme"),
        Facet::Kind => ("type", "Type"),
    }
}

fn facet_value_label(f: Facet, v: &str, departements: &[(String, String)]) -> String {
    match f {
        Facet::Level => v
            .parse()
            .ok()
            .and_then(domain::Level::new)
            .map(|l| l.label().to_owned())
            .unwrap_or_else(|| v.to_owned()),
        Facet::Pathway => domain::Pathway::parse(v).map_or(v.to_owned(), |p| p.label().to_owned()),
        Facet::Modality => {
            domain::Modality::parse(v).map_or(v.to_owned(), |p| p.label().to_owned())
        }
        Facet::Kind => domain::MemberKind::parse(v).map_or(v.to_owned(), |p| p.label().to_owned()),
        Facet::Departement => departements
            .iter()
            .find(|(c, _)| c == v)
            .map_or(v.to_owned(), |(c, n)| format!("{n} ({c})")),
        Facet::Provider => v.to_owned(),
    }
}

/// The campus page.
#[derive(Debug, Clone, Serialize)]
pub struct CampusView {
    pub campus: CampusRow,
    pub sector_label: String,
    pub territories: Vec<(String, String, String)>,
    pub support: Option<MemberRow>,
    pub member_count: i64,
    pub formation_count: i64,
}

/// A member's page.
#[derive(Debug, Clone, Serialize)]
pub struct MemberView {
    pub member: MemberRow,
    pub kind_label: String,
    pub campus: CampusRow,
    pub formations: Vec<FormationRow>,
    /// Empty unless the actor may see personal data.
    pub contacts: Vec<ContactRow>,
    pub private: bool,
    /// Whether the actor may edit it.
    pub editable: bool,
    /// Whether the actor manages its campus (invitations).
    pub manageable: bool,
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

/// The rows of a page of hits, read from the payloads the indexer stored
/// with them (the search path then makes no database round trip). `None`
/// when a payload is missing or unreadable, e.g. written by an older
/// version: the caller reads the rows from the store instead. Rows are as
/// fresh as the index, which follows the change log within seconds.
fn hydrate<T: serde::de::DeserializeOwned>(res: &search::Results) -> Option<Vec<T>> {
    res.hits
        .iter()
        .map(|h| serde_json::from_str(&h.payload).ok())
        .collect()
}

fn pages(total: usize) -> usize {
    total.div_ceil(PER_PAGE).max(1)
}

impl App {
    /// Every campus.
    pub async fn campuses(&self) -> Result<Vec<CampusRow>, AppError> {
        Ok(self.store.campuses().await?)
    }

    /// The campus page.
    pub async fn campus_view(&self, slug: &str) -> Result<CampusView, AppError> {
        let campus = self.campus(slug).await?;
        let territories = self.store.campus_territories(campus.id).await?;
        let support = match campus.support_member_id {
            Some(id) => self.store.member(id).await?,
            None => None,
        };
        let (member_count, formation_count) = self.store.campus_counts(campus.id).await?;
        Ok(CampusView {
            sector_label: domain::Sector::parse(&campus.sector)
                .map_or(campus.sector.clone(), |s| s.label().to_owned()),
            campus,
            territories,
            support,
            member_count,
            formation_count,
        })
    }

    /// A campus by slug, or `NotFound`.
    pub async fn campus(&self, slug: &str) -> Result<CampusRow, AppError> {
        self.store
            .campus_by_slug(slug)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("campus {slug}")))
    }

    /// Members of a campus as the actor may see them (published only, but
    /// for the campus' team), and whether private ones are included.
    pub async fn campus_members(
        &self,
        actor: &Actor,
        slug: &str,
    ) -> Result<(CampusRow, Vec<MemberRow>, bool), AppError> {
        let campus = self.campus(slug).await?;
        let private = allows(actor, Action::ReadPrivate, Resource::Campus(campus.id));
        let members = self.store.members(campus.id, !private).await?;
        Ok((campus, members, private))
    }

    /// A member's page; unpublished members and outside organisations are
    /// hidden from visitors (as if they did not exist).
    pub async fn member_view(&self, actor: &Actor, id: i64) -> Result<MemberView, AppError> {
        let not_found = || AppError::NotFound(format!("membre {id}"));
        let member = self.store.member(id).await?.ok_or_else(not_found)?;
        let private = allows(
            actor,
            Action::ReadPrivate,
            Resource::Member {
                campus_id: member.campus_id,
                member_id: member.id,
            },
        );
        if !private && (member.status != "publie" || member.kind == "exterieur") {
            return Err(not_found());
        }
        let campus = self
            .store
            .campuses()
            .await?
            .into_iter()
            .find(|c| c.id == member.campus_id)
            .ok_or_else(not_found)?;
        let visibility = if private {
            Visibility::All
        } else {
            Visibility::Public
        };
        let formations = self
            .store
            .formations(member.campus_id, visibility, Some(member.id))
            .await?;
        let contacts = if private {
            self.store.contacts(member.id).await?
        } else {
            Vec::new()
        };
        let member_campus = member.campus_id;
        let manageable = allows(actor, Action::Manage, Resource::Campus(member_campus));
        Ok(MemberView {
            manageable,
            kind_label: domain::MemberKind::parse(&member.kind)
                .map_or(member.kind.clone(), |k| k.label().to_owned()),
            member,
            campus,
            formations,
            contacts,
            private,
            editable: allows(
                actor,
                Action::Write,
                Resource::Member {
                    campus_id: member_campus,
                    member_id: id,
                },
            ),
        })
    }

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
        if !private && formation.status != "publie" {
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

    /// Provenance of every reference data set.
    pub async fn datasets(&self) -> Result<Vec<DatasetRow>, AppError> {
        Ok(self.store.datasets().await?)
    }

    /// Département codes and names, cached (see `App::departements`).
    async fn departement_names(&self) -> Result<Arc<Vec<(String, String)>>, AppError> {
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

    /// Whether a search restricted to campus `slug` includes its drafts and
    /// private organisations: only for those who may read the whole campus'
    /// private data. Searches across campuses only ever show public data.
    async fn sees_campus_drafts(
        &self,
        actor: &Actor,
        slug: Option<&str>,
    ) -> Result<bool, AppError> {
        let Some(slug) = slug else {
            return Ok(false);
        };
        if actor.is_visitor() {
            return Ok(false);
        }
        let campus = self.campus(slug).await?;
        Ok(allows(
            actor,
            Action::ReadPrivate,
            Resource::Campus(campus.id),
        ))
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

    /// Facet counts ready to show, with the chosen values ticked.
    async fn facet_views(
        &self,
        res: &search::Results,
        selected: &[(Facet, &Vec<String>)],
    ) -> Result<Vec<FacetView>, AppError> {
        let departements = self.departement_names().await?;
        Ok(res
            .facets
            .iter()
            .map(|(f, counts)| {
                let (param, label) = facet_names(*f);
                let chosen = selected
                    .iter()
                    .find(|(sf, _)| sf == f)
                    .map(|(_, v)| (*v).clone())
                    .unwrap_or_default();
                let mut values: Vec<FacetValue> = counts
                    .iter()
                    .map(|(v, n)| FacetValue {
                        label: facet_value_label(*f, v, &departements),
                        selected: chosen.contains(v),
                        value: v.clone(),
                        count: *n,
                    })
                    .collect();
                if *f == Facet::Level {
                    values.sort_by(|a, b| a.value.cmp(&b.value));
                }
                FacetView {
                    param,
                    label,
                    values,
                }
            })
            .collect())
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

    /// Searches member organisations, published ones for visitors, with
    /// facets by kind and département.
    pub async fn search_members(
        &self,
        actor: &Actor,
        mq: &MemberQuery,
    ) -> Result<Page<MemberRow>, AppError> {
        let page = mq.page.max(1);
        let mut q = Query::new(DocKind::Member, mq.q.clone());
        q.include_private = self.sees_campus_drafts(actor, mq.campus.as_deref()).await?;
        q.campus = mq.campus.clone();
        q.offset = (page - 1) * PER_PAGE;
        q.limit = PER_PAGE;
        q.facets = vec![Facet::Kind, Facet::Departement];
        let selected: Vec<(Facet, &Vec<String>)> = vec![
            (Facet::Kind, &mq.kind),
            (Facet::Departement, &mq.departement),
        ];
        for (f, values) in &selected {
            for v in values.iter().filter(|v| !v.is_empty()) {
                q.filters.push((*f, v.clone()));
            }
        }
        let res = self.index.search(&q)?;
        let items = match hydrate(&res) {
            Some(items) => items,
            None => {
                let ids: Vec<i64> = res.hits.iter().filter_map(|h| h.id.parse().ok()).collect();
                self.store.members_by_ids(&ids).await?
            }
        };
        Ok(Page {
            items,
            total: res.total,
            page,
            pages: pages(res.total),
            facets: self.facet_views(&res, &selected).await?,
            relaxed: res.relaxed,
        })
    }
}
