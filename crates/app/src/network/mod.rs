//! The network: campuses and their member organisations. Reading
//! (`campus_view`, `member_view`, the directory search) is here; editing in
//! `edit`, spreadsheets in `sheet`.

mod edit;
mod sheet;

pub use edit::{CampusForm, ContactForm, MemberForm};

use serde::Serialize;

use search::{DocKind, Facet, Query};
use store::{CampusRow, ContactRow, FormationRow, MemberRow, Visibility};

use crate::listing::{hydrate, pages, Page, PER_PAGE};
use crate::policy::{allows, Action, Actor, Resource};
use crate::{App, AppError};

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
        if !private && !domain::visibility::member_is_public(&member.status, &member.kind) {
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
