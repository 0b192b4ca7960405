//! The mail outbox, password reset links, invitations and join requests.
//! Links are random secrets of which only the SHA-256 is stored.

use serde::Serialize;

use crate::{on_pool, on_tx, Result, Store, Tx};

/// A mail waiting in (or sent from) the outbox.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MailRow {
    pub id: i64,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// An invitation to become the editor of a member organisation.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct InvitationRow {
    pub campus_id: i64,
    pub member_id: i64,
    pub email: String,
    pub created_at: String,
    pub expires_at: String,
    pub accepted_at: Option<String>,
}

/// A request of an organisation to join a campus.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct JoinRequestRow {
    pub id: i64,
    pub campus_id: i64,
    pub name: String,
    pub kind: String,
    pub siret: Option<String>,
    pub uai: Option<String>,
    pub code_insee: Option<String>,
    pub contact_email: Option<String>,
    pub message: Option<String>,
    pub created_at: String,
    pub decided_at: Option<String>,
    pub decision: Option<String>,
    pub member_id: Option<i64>,
}

/// What an organisation says of itself when asking to join.
#[derive(Debug, Clone, Default)]
pub struct JoinRequestInput {
    pub name: String,
    pub kind: String,
    pub siret: Option<String>,
    pub uai: Option<String>,
    pub code_insee: Option<String>,
    pub contact_email: String,
    pub message: Option<String>,
}

impl Tx {
    /// Grants a role to an existing account (nothing if it holds it already).
    pub async fn add_grant(
        &mut self,
        user_id: i64,
        g: &crate::GrantInput,
        now: &str,
    ) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO grants (user_id, role, campus_id, member_id, created_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(user_id)
            .bind(g.role.as_str())
            .bind(g.campus_id)
            .bind(g.member_id)
            .bind(now)
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Queues a mail.
    pub async fn queue_mail(
        &mut self,
        to: &str,
        subject: &str,
        body: &str,
        now: &str,
    ) -> Result<i64> {
        Ok(on_tx!(self, |c| {
            sqlx::query_scalar(
            "INSERT INTO outbox (to_address, subject, body, created_at) VALUES ($1, $2, $3, $4) RETURNING id"
        )
        .bind(to)
        .bind(subject)
        .bind(body)
        .bind(now)
        .fetch_one(&mut *c)
        .await?
        }))
    }

    /// Records a reset link (its hash).
    pub async fn add_password_reset(
        &mut self,
        token_hash: &str,
        user_id: i64,
        now: &str,
        expires_at: &str,
    ) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query("INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                .bind(token_hash)
                .bind(user_id)
                .bind(now)
                .bind(expires_at)
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }

    /// Uses a reset link: the account it opens, if it is unused and not
    /// expired. One statement, so a link works once even under races.
    pub async fn use_password_reset(&mut self, token_hash: &str, now: &str) -> Result<Option<i64>> {
        Ok(on_tx!(self, |c| {
            sqlx::query_scalar(
            "UPDATE password_resets SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING user_id"
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?
        }))
    }

    /// Records an invitation (its hash).
    #[allow(clippy::too_many_arguments)]
    pub async fn add_invitation(
        &mut self,
        token_hash: &str,
        campus_id: i64,
        member_id: i64,
        email: &str,
        invited_by: Option<i64>,
        now: &str,
        expires_at: &str,
    ) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO invitations (token_hash, campus_id, member_id, email, invited_by, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(token_hash)
            .bind(campus_id)
            .bind(member_id)
            .bind(email)
            .bind(invited_by)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Accepts an invitation: what it grants, if unused and not expired.
    pub async fn accept_invitation(
        &mut self,
        token_hash: &str,
        now: &str,
    ) -> Result<Option<InvitationRow>> {
        Ok(on_tx!(self, |c| {
            sqlx::query_as(
            "UPDATE invitations SET accepted_at = $2 WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2 \
             RETURNING campus_id, member_id, email, created_at, expires_at, accepted_at"
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?
        }))
    }

    /// Records a join request.
    pub async fn add_join_request(
        &mut self,
        campus_id: i64,
        r: &JoinRequestInput,
        now: &str,
    ) -> Result<i64> {
        Ok(on_tx!(self, |c| {
            sqlx::query_scalar(
            "INSERT INTO join_requests (campus_id, name, kind, siret, uai, code_insee, contact_email, message, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"
        )
        .bind(campus_id)
        .bind(&r.name)
        .bind(&r.kind)
        .bind(&r.siret)
        .bind(&r.uai)
        .bind(&r.code_insee)
        .bind(&r.contact_email)
        .bind(&r.message)
        .bind(now)
        .fetch_one(&mut *c)
        .await?
        }))
    }

    /// Decides a pending join request; false when it was already decided.
    /// The contact address, personal data, is cleared with the decision.
    pub async fn decide_join_request(
        &mut self,
        id: i64,
        decision: &str,
        member_id: Option<i64>,
        now: &str,
    ) -> Result<bool> {
        let n = on_tx!(self, |c| {
            sqlx::query(
            "UPDATE join_requests SET decision = $2, decided_at = $3, member_id = $4, contact_email = NULL \
             WHERE id = $1 AND decision IS NULL"
        )
        .bind(id)
        .bind(decision)
        .bind(now)
        .bind(member_id)
        .execute(&mut *c)
        .await?
        .rows_affected()
        });
        Ok(n == 1)
    }
}

impl Store {
    /// The outbox, newest first.
    pub async fn outbox(&self, limit: i64) -> Result<Vec<MailRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, to_address, subject, body, created_at, sent_at FROM outbox ORDER BY id DESC LIMIT $1"
        )
        .bind(limit)
        .fetch_all(p)
        .await?
        }))
    }

    /// The join requests of a campus, pending first.
    pub async fn join_requests(&self, campus_id: i64) -> Result<Vec<JoinRequestRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, campus_id, name, kind, siret, uai, code_insee, contact_email, message, created_at, decided_at, \
             decision, member_id FROM join_requests WHERE campus_id = $1 ORDER BY decision IS NOT NULL, id"
        )
        .bind(campus_id)
        .fetch_all(p)
        .await?
        }))
    }

    /// An invitation by the hash of its link, accepted or not.
    pub async fn invitation(&self, token_hash: &str) -> Result<Option<InvitationRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT campus_id, member_id, email, created_at, expires_at, accepted_at FROM invitations WHERE token_hash = $1"
        )
        .bind(token_hash)
        .fetch_optional(p)
        .await?
        }))
    }

    /// One join request.
    pub async fn join_request(&self, id: i64) -> Result<Option<JoinRequestRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, campus_id, name, kind, siret, uai, code_insee, contact_email, message, created_at, decided_at, \
             decision, member_id FROM join_requests WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await?
        }))
    }
}

impl Store {
    /// The edited text of a legal page, if any.
    pub async fn legal_page(&self, slug: &str) -> Result<Option<String>> {
        Ok(on_pool!(self, |p| sqlx::query_scalar(
            "SELECT body FROM legal_pages WHERE slug = $1"
        )
        .bind(slug)
        .fetch_optional(p)
        .await?))
    }
}

impl Tx {
    /// Stores the text of a legal page.
    pub async fn set_legal_page(&mut self, slug: &str, body: &str, now: &str) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO legal_pages (slug, body, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (slug) DO UPDATE SET body = $2, updated_at = $3",
            )
            .bind(slug)
            .bind(body)
            .bind(now)
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }
}

impl Store {
    /// Mail not sent yet, oldest first.
    pub async fn unsent_mail(&self, limit: i64) -> Result<Vec<MailRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, to_address, subject, body, created_at, sent_at FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1"
        )
        .bind(limit)
        .fetch_all(p)
        .await?
        }))
    }

    /// Marks a mail sent.
    pub async fn mark_mail_sent(&self, id: i64, now: &str) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query("UPDATE outbox SET sent_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(p)
                .await?;
        });
        Ok(())
    }
}
