//! The campus needs survey: campaigns and the answers of member employers.

use domain::survey::AnswerInput;

use crate::{on_pool, Result, Store};

/// A survey campaign.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct CampaignRow {
    pub id: i64,
    pub campus_id: i64,
    pub title: String,
    pub opens_on: String,
    pub closes_on: String,
    pub created_at: String,
    /// Members that answered at least one métier.
    pub respondents: i64,
}

/// One stored answer, with the member's département (its territory).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct AnswerRow {
    pub member_id: i64,
    pub member_name: String,
    pub departement_code: Option<String>,
    pub code_rome: String,
    pub code_insee: Option<String>,
    pub planned: i64,
    pub difficult: i64,
    pub seasonal: i64,
    pub apprentices: i64,
    pub tutors: i64,
    pub comment: Option<String>,
    pub answered_at: String,
}

const CAMPAIGN_SELECT: &str = "SELECT c.id, c.campus_id, c.title, c.opens_on, c.closes_on, c.created_at, \
     (SELECT COUNT(DISTINCT a.member_id) FROM survey_answers a WHERE a.campaign_id = c.id) AS respondents \
     FROM survey_campaigns c";

impl Store {
    /// Creates a campaign.
    pub async fn create_campaign(
        &self,
        campus_id: i64,
        title: &str,
        opens_on: &str,
        closes_on: &str,
    ) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
                "INSERT INTO survey_campaigns (campus_id, title, opens_on, closes_on, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(campus_id)
            .bind(title)
            .bind(opens_on)
            .bind(closes_on)
            .bind(self.now())
            .fetch_one(p)
            .await?
        });
        Ok(id)
    }

    /// The campaigns of a campus, newest first.
    pub async fn campaigns(&self, campus_id: i64) -> Result<Vec<CampaignRow>> {
        let sql =
            format!("{CAMPAIGN_SELECT} WHERE c.campus_id = $1 ORDER BY c.opens_on DESC, c.id DESC");
        Ok(on_pool!(self, |p| sqlx::query_as(&sql)
            .bind(campus_id)
            .fetch_all(p)
            .await?))
    }

    /// One campaign.
    pub async fn campaign(&self, id: i64) -> Result<Option<CampaignRow>> {
        let sql = format!("{CAMPAIGN_SELECT} WHERE c.id = $1");
        Ok(on_pool!(self, |p| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(p)
            .await?))
    }

    /// Records a member's answer for one métier (replacing a previous one).
    pub async fn save_answer(
        &self,
        campaign_id: i64,
        member_id: i64,
        a: &AnswerInput,
    ) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query(
                "INSERT INTO survey_answers (campaign_id, member_id, code_rome, code_insee, planned, difficult, seasonal, \
                 apprentices, tutors, comment, answered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (campaign_id, member_id, code_rome) DO UPDATE SET code_insee = excluded.code_insee, \
                 planned = excluded.planned, difficult = excluded.difficult, seasonal = excluded.seasonal, \
                 apprentices = excluded.apprentices, tutors = excluded.tutors, comment = excluded.comment, \
                 answered_at = excluded.answered_at",
            )
            .bind(campaign_id)
            .bind(member_id)
            .bind(&a.code_rome)
            .bind(&a.code_insee)
            .bind(a.planned)
            .bind(a.difficult)
            .bind(a.seasonal)
            .bind(a.apprentices)
            .bind(a.tutors)
            .bind(&a.comment)
            .bind(self.now())
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// Every answer of a campaign (or of one member), by métier.
    pub async fn answers(
        &self,
        campaign_id: i64,
        member_id: Option<i64>,
    ) -> Result<Vec<AnswerRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT a.member_id, m.name AS member_name, c.departement_code, a.code_rome, a.code_insee, a.planned, \
                 a.difficult, a.seasonal, a.apprentices, a.tutors, a.comment, a.answered_at \
                 FROM survey_answers a JOIN members m ON m.id = a.member_id \
                 LEFT JOIN communes c ON c.code_insee = COALESCE(a.code_insee, m.code_insee) \
                 WHERE a.campaign_id = $1 AND ($2 = 0 OR a.member_id = $2) ORDER BY a.code_rome, a.member_id",
            )
            .bind(campaign_id)
            .bind(member_id.unwrap_or(0))
            .fetch_all(p)
            .await?
        }))
    }
}

impl Store {
    /// A campus' own ROME domains (empty: its filière's defaults apply).
    pub async fn campus_rome_domains(&self, campus_id: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT domain FROM campus_rome_domains WHERE campus_id = $1 ORDER BY domain",
            )
            .bind(campus_id)
            .fetch_all(p)
            .await?
        });
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Replaces a campus' ROME domains (empty: back to the defaults).
    pub async fn set_campus_rome_domains(&self, campus_id: i64, domains: &[String]) -> Result<()> {
        let mut tx = self.begin().await?;
        crate::on_tx!(&mut tx, |c| {
            sqlx::query("DELETE FROM campus_rome_domains WHERE campus_id = $1")
                .bind(campus_id)
                .execute(&mut *c)
                .await?;
            for d in domains {
                sqlx::query("INSERT INTO campus_rome_domains (campus_id, domain) VALUES ($1, $2)")
                    .bind(campus_id)
                    .bind(d)
                    .execute(&mut *c)
                    .await?;
            }
        });
        tx.commit().await
    }

    /// Whether a ROME grand domain (one letter) or domain (letter and two digits) exists.
    pub async fn rome_domain_exists(&self, code: &str) -> Result<bool> {
        let row: Option<(String,)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT code FROM grands_domaines WHERE code = $1 UNION SELECT code FROM domaines WHERE code = $1")
                .bind(code)
                .fetch_optional(p)
                .await?
        });
        Ok(row.is_some())
    }
}
