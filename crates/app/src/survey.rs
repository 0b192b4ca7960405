//! The campus needs survey (a campus-level BMO): the campus team opens a
//! campaign with dates; member employers answer per ROME métier (planned
//! hires, of which difficult and seasonal, apprenticeship and tutoring
//! capacity, a comment); the team sees who has not answered yet; results
//! are aggregated per métier × département with small-cell suppression
//! (`domain::survey`): observers and exports never see a suppressed cell.

use domain::network::FieldError;
use domain::survey::{answers_survey, tabulate, Answer, AnswerInput, Cell};
use serde::Serialize;
use store::{AnswerRow, CampaignRow, MemberRow};

use crate::audit::Event;
use crate::policy::{allows, authorize, Action, Actor, Resource};
use crate::{App, AppError};

/// What the results page shows.
#[derive(Debug, Clone, Serialize)]
pub struct SurveyResults {
    pub campaign: CampaignRow,
    /// Cells; a suppressed one has its figures zeroed unless the actor
    /// manages the campus.
    pub cells: Vec<Cell>,
    /// Whether the actor sees suppressed cells' figures (campus managers).
    pub sees_confidential: bool,
    /// Employers of the campus that have not answered (managers only).
    pub reminders: Vec<MemberRow>,
    /// Whether the campaign takes answers today.
    pub open: bool,
}

fn date(field: &str, value: &str) -> Result<String, FieldError> {
    chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| FieldError::new(field, "Date attendue au format AAAA-MM-JJ."))
}

impl App {
    /// Opens a campaign (campus managers).
    pub async fn create_campaign(
        &self,
        actor: &Actor,
        slug: &str,
        title: &str,
        opens_on: &str,
        closes_on: &str,
    ) -> Result<i64, AppError> {
        let campus = self.campus(slug).await?;
        authorize(actor, Action::Manage, Resource::Campus(campus.id))?;
        let mut errors = Vec::new();
        if title.trim().is_empty() || title.chars().count() > 200 {
            errors.push(FieldError::new(
                "titre",
                "Titre obligatoire, 200 caractères au plus.",
            ));
        }
        if let Err(e) = domain::network::check_text_field("titre", title) {
            errors.push(e);
        }
        let opens = date("ouverture", opens_on).map_err(|e| errors.push(e)).ok();
        let closes = date("cloture", closes_on).map_err(|e| errors.push(e)).ok();
        if let (Some(o), Some(c)) = (&opens, &closes) {
            if c < o {
                errors.push(FieldError::new("cloture", "La clôture suit l'ouverture."));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let (opens, closes) = (opens.unwrap_or_default(), closes.unwrap_or_default());
        let id = self
            .store
            .create_campaign(campus.id, title.trim(), &opens, &closes)
            .await?;
        let mut event = Event::new("survey.create").on(campus.id, "campagne", id);
        event.campus_id = Some(campus.id);
        self.audit(actor, event).await?;
        Ok(id)
    }

    /// The campaigns of a campus (team and observers).
    pub async fn campaigns(&self, actor: &Actor, slug: &str) -> Result<Vec<CampaignRow>, AppError> {
        let campus = self.campus(slug).await?;
        authorize(actor, Action::ReadAggregate, Resource::Campus(campus.id))?;
        Ok(self.store.campaigns(campus.id).await?)
    }

    /// One campaign of a campus, for whoever may read the campus'
    /// campaigns or answer it for one of its members.
    pub async fn answerable_campaign(
        &self,
        actor: &Actor,
        slug: &str,
        id: i64,
    ) -> Result<CampaignRow, AppError> {
        let (campus, campaign) = self.campaign_of(slug, id).await?;
        if !allows(actor, Action::ReadAggregate, Resource::Campus(campus.id)) {
            // The same test as `survey_respondents`: writes for a member.
            self.survey_respondents(actor, slug, id).await?;
        }
        Ok(campaign)
    }

    async fn campaign_of(
        &self,
        slug: &str,
        id: i64,
    ) -> Result<(store::CampusRow, CampaignRow), AppError> {
        let campus = self.campus(slug).await?;
        let campaign = self
            .store
            .campaign(id)
            .await?
            .filter(|c| c.campus_id == campus.id)
            .ok_or_else(|| AppError::NotFound(format!("campagne {id}")))?;
        Ok((campus, campaign))
    }

    /// Aggregated results of a campaign, suppressed for observers.
    pub async fn survey_results(
        &self,
        actor: &Actor,
        slug: &str,
        id: i64,
    ) -> Result<SurveyResults, AppError> {
        let (campus, campaign) = self.campaign_of(slug, id).await?;
        authorize(actor, Action::ReadAggregate, Resource::Campus(campus.id))?;
        let manager = allows(actor, Action::Manage, Resource::Campus(campus.id));
        let answers = self.store.answers(campaign.id, None).await?;
        // Primary and complementary suppression together: what an observer
        // sees here and the campus-wide totals of the observatory never let
        // a hidden cell be computed by subtraction.
        let mut cells = tabulate(&to_answers(&answers)).cells;
        if !manager {
            for c in cells.iter_mut().filter(|c| c.suppressed.is_some()) {
                hide(c);
            }
        }
        let reminders = if manager {
            let answered: std::collections::HashSet<i64> =
                answers.iter().map(|a| a.member_id).collect();
            self.store
                .members(campus.id, false)
                .await?
                .into_iter()
                .filter(|m| domain::visibility::member_is_public(&m.status, &m.kind))
                .filter(|m| domain::MemberKind::parse(&m.kind).is_some_and(answers_survey))
                .filter(|m| !answered.contains(&m.id))
                .collect()
        } else {
            Vec::new()
        };
        let t = self.now().format("%Y-%m-%d").to_string();
        Ok(SurveyResults {
            open: campaign.opens_on <= t && t <= campaign.closes_on,
            campaign,
            cells,
            sees_confidential: manager,
            reminders,
        })
    }

    /// The results as an export: suppressed cells are left out, for everyone.
    pub async fn survey_export(
        &self,
        actor: &Actor,
        slug: &str,
        id: i64,
    ) -> Result<Vec<u8>, AppError> {
        let r = self.survey_results(actor, slug, id).await?;
        let headers = [
            "code_rome",
            "departement",
            "repondants",
            "recrutements_prevus",
            "dont_difficiles",
            "dont_saisonniers",
            "places_apprentissage",
            "tuteurs",
        ]
        .map(str::to_owned)
        .to_vec();
        let cells = r
            .cells
            .iter()
            .filter(|c| c.suppressed.is_none())
            .map(|c| {
                vec![
                    c.code_rome.clone(),
                    c.territory.clone(),
                    c.respondents.to_string(),
                    c.planned.to_string(),
                    c.difficult.to_string(),
                    c.seasonal.to_string(),
                    c.apprentices.to_string(),
                    c.tutors.to_string(),
                ]
            })
            .collect();
        crate::imports::table_bytes(
            &ingest::sheet::Table::new(headers, cells),
            crate::imports::SheetFormat::Csv,
        )
    }

    /// The members the actor may answer for in this campaign: their own
    /// employer organisations (member editors), every employer (managers).
    pub async fn survey_respondents(
        &self,
        actor: &Actor,
        slug: &str,
        id: i64,
    ) -> Result<Vec<MemberRow>, AppError> {
        let (campus, _) = self.campaign_of(slug, id).await?;
        let writable: Vec<MemberRow> = self
            .store
            .members(campus.id, false)
            .await?
            .into_iter()
            .filter(|m| {
                allows(
                    actor,
                    Action::Write,
                    Resource::Member {
                        campus_id: campus.id,
                        member_id: m.id,
                    },
                )
            })
            .collect();
        // Someone who writes for no member of the campus has no business here.
        if writable.is_empty() {
            authorize(actor, Action::Write, Resource::Campus(campus.id))?;
        }
        Ok(writable
            .into_iter()
            .filter(|m| domain::MemberKind::parse(&m.kind).is_some_and(answers_survey))
            .collect())
    }

    /// A member's answers in a campaign.
    pub async fn member_answers(
        &self,
        actor: &Actor,
        slug: &str,
        id: i64,
        member_id: i64,
    ) -> Result<Vec<AnswerRow>, AppError> {
        let (campus, campaign) = self.campaign_of(slug, id).await?;
        authorize(
            actor,
            Action::ReadPrivate,
            Resource::Member {
                campus_id: campus.id,
                member_id,
            },
        )?;
        Ok(self.store.answers(campaign.id, Some(member_id)).await?)
    }

    /// Records one answer of a member employer while the campaign is open.
    pub async fn answer_survey(
        &self,
        actor: &Actor,
        slug: &str,
        id: i64,
        member_id: i64,
        answer: &AnswerInput,
    ) -> Result<(), AppError> {
        let (campus, campaign) = self.campaign_of(slug, id).await?;
        let member = self.store.member_in_campus(member_id, campus.id).await?;
        authorize(
            actor,
            Action::Write,
            Resource::Member {
                campus_id: campus.id,
                member_id,
            },
        )?;
        if !domain::MemberKind::parse(&member.kind).is_some_and(answers_survey) {
            return Err(AppError::Invalid(vec![FieldError::new(
                "membre",
                "Seuls les employeurs, établissements de santé et médico-sociaux répondent à l'enquête.",
            )]));
        }
        let t = self.now().format("%Y-%m-%d").to_string();
        if t < campaign.opens_on || t > campaign.closes_on {
            return Err(AppError::Invalid(vec![FieldError::new(
                "campagne",
                format!(
                    "La campagne est ouverte du {} au {} : réponse impossible aujourd'hui.",
                    campaign.opens_on, campaign.closes_on
                ),
            )]));
        }
        let mut errors = answer.validate();
        if errors.is_empty() && self.store.occupation(&answer.code_rome).await?.is_none() {
            errors.push(FieldError::new(
                "code_rome",
                "Ce code ROME n'existe pas dans le ROME 4.0.",
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        self.store
            .save_answer(campaign.id, member_id, answer)
            .await?;
        let mut event = Event::new("survey.answer").on(campus.id, "campagne", campaign.id);
        event.campus_id = Some(campus.id);
        self.audit(actor, event).await?;
        Ok(())
    }

    /// Planned hires per métier in the latest campaign with answers, for
    /// the gap: `(planned, suppressed)`.
    pub(crate) async fn survey_demand(
        &self,
        campus_id: i64,
    ) -> Result<std::collections::HashMap<String, (i64, bool)>, AppError> {
        let mut out = std::collections::HashMap::new();
        for c in self.store.campaigns(campus_id).await? {
            if c.respondents == 0 {
                continue;
            }
            let answers = self.store.answers(c.id, None).await?;
            // The gap is campus-wide: the per-métier totals, suppressed
            // jointly with the cells per département (see `tabulate`).
            for cell in tabulate(&to_answers(&answers)).totals {
                out.insert(
                    cell.code_rome.clone(),
                    (cell.planned, cell.suppressed.is_some()),
                );
            }
            break;
        }
        Ok(out)
    }
}

fn to_answers(rows: &[AnswerRow]) -> Vec<Answer> {
    rows.iter()
        .map(|a| Answer {
            respondent: a.member_id,
            territory: a.departement_code.clone().unwrap_or_default(),
            code_rome: a.code_rome.clone(),
            planned: a.planned,
            difficult: a.difficult,
            seasonal: a.seasonal,
            apprentices: a.apprentices,
            tutors: a.tutors,
        })
        .collect()
}

/// Zeroes a suppressed cell's figures (its existence and reason stay).
fn hide(c: &mut Cell) {
    c.planned = 0;
    c.difficult = 0;
    c.seasonal = 0;
    c.apprentices = 0;
    c.tutors = 0;
    c.respondents = 0;
}
