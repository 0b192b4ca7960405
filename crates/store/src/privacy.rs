//! Learners' profiles, consents, the register of GDPR requests, erasure,
//! retention and the lock of background jobs.

use serde::Serialize;

use crate::{on_pool, on_tx, Result, Store, Tx};

/// A learner's profile.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, PartialEq, Eq)]
pub struct ProfileRow {
    pub user_id: i64,
    pub campus_id: i64,
    pub status: String,
    pub level: Option<i64>,
    pub code_insee: Option<String>,
    pub interests: Option<String>,
    pub birth_date: Option<String>,
    pub updated_at: String,
}

/// A consent.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ConsentRow {
    pub id: i64,
    pub user_id: i64,
    pub purpose: String,
    pub given_at: String,
    pub withdrawn_at: Option<String>,
    pub parent_name: Option<String>,
    pub parent_email: Option<String>,
    pub parent_given_at: Option<String>,
}

/// A request about personal data.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PrivacyRequestRow {
    pub id: i64,
    pub user_id: Option<i64>,
    pub kind: String,
    pub received_at: String,
    pub due_on: String,
    pub completed_at: Option<String>,
    pub channel: String,
}

/// A new consent.
#[derive(Debug, Clone)]
pub struct ConsentInput {
    pub purpose: String,
    pub parent_name: Option<String>,
    pub parent_email: Option<String>,
}

impl Tx {
    /// Creates or replaces a learner's profile.
    pub async fn save_profile(&mut self, p: &ProfileRow) -> Result<()> {
        on_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO learner_profiles (user_id, campus_id, status, level, code_insee, interests, birth_date, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (user_id) DO UPDATE SET campus_id = $2, status = $3, level = $4, code_insee = $5, \
                 interests = $6, birth_date = $7, updated_at = $8",
            )
            .bind(p.user_id)
            .bind(p.campus_id)
            .bind(&p.status)
            .bind(p.level)
            .bind(&p.code_insee)
            .bind(&p.interests)
            .bind(&p.birth_date)
            .bind(&p.updated_at)
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Records a consent given now.
    pub async fn add_consent(
        &mut self,
        user_id: i64,
        consent: &ConsentInput,
        now: &str,
    ) -> Result<()> {
        let parent_at = consent.parent_name.as_ref().map(|_| now.to_owned());
        on_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO consents (user_id, purpose, given_at, parent_name, parent_email, parent_given_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(user_id)
            .bind(&consent.purpose)
            .bind(now)
            .bind(&consent.parent_name)
            .bind(&consent.parent_email)
            .bind(&parent_at)
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Records a request about personal data.
    pub async fn add_privacy_request(
        &mut self,
        user_id: Option<i64>,
        kind: &str,
        received_at: &str,
        due_on: &str,
        completed_at: Option<&str>,
        channel: &str,
    ) -> Result<i64> {
        Ok(on_tx!(self, |c| {
            sqlx::query_scalar(
            "INSERT INTO privacy_requests (user_id, kind, received_at, due_on, completed_at, channel) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"
        )
        .bind(user_id)
        .bind(kind)
        .bind(received_at)
        .bind(due_on)
        .bind(completed_at)
        .bind(channel)
        .fetch_one(&mut *c)
        .await?
        }))
    }

    /// Erases an account: profile, consents' parent details, sessions,
    /// tokens and grants removed; the account row kept, anonymised, so that
    /// aggregates and the audit log still count it.
    pub async fn erase_account(&mut self, user_id: i64) -> Result<()> {
        on_tx!(self, |c| {
            for sql in [
                "DELETE FROM learner_profiles WHERE user_id = $1",
                "DELETE FROM auth_sessions WHERE user_id = $1",
                "DELETE FROM api_tokens WHERE user_id = $1",
                "DELETE FROM grants WHERE user_id = $1",
                "DELETE FROM auth_throttle WHERE key IN (SELECT 'account:' || email FROM users WHERE id = $1)",
                // The person may also be the contact of member organisations.
                "DELETE FROM contacts WHERE email = (SELECT email FROM users WHERE id = $1)",
                "UPDATE consents SET parent_name = NULL, parent_email = NULL WHERE user_id = $1",
                "UPDATE audit_log SET actor_label = NULL, ip_prefix = NULL, personal_salt = NULL \
                 WHERE actor_user_id = $1 AND personal_salt IS NOT NULL",
                "UPDATE users SET email = 'efface-' || CAST(id AS TEXT) || '@invalid', display_name = 'Compte supprimé', \
                 password_hash = '!', disabled = TRUE, totp_secret = NULL, totp_enabled = FALSE WHERE id = $1",
            ] {
                sqlx::query(sql).bind(user_id).execute(&mut *c).await?;
            }
        });
        Ok(())
    }
}

impl Store {
    /// The contact entries of member organisations that carry this e-mail
    /// address, with the organisation's name: what campuses hold about a
    /// person as a contact.
    pub async fn contacts_by_email(
        &self,
        email: &str,
    ) -> Result<Vec<(String, String, Option<String>, Option<String>)>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT m.name, c.name, c.role, c.phone FROM contacts c JOIN members m ON m.id = c.member_id \
             WHERE c.email = $1 ORDER BY m.name"
        )
        .bind(email)
        .fetch_all(p)
        .await?
        }))
    }

    /// A learner's profile.
    pub async fn profile(&self, user_id: i64) -> Result<Option<ProfileRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT user_id, campus_id, status, level, code_insee, interests, birth_date, updated_at \
             FROM learner_profiles WHERE user_id = $1"
        )
        .bind(user_id)
        .fetch_optional(p)
        .await?
        }))
    }

    /// The consents of an account.
    pub async fn consents(&self, user_id: i64) -> Result<Vec<ConsentRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, user_id, purpose, given_at, withdrawn_at, parent_name, parent_email, parent_given_at \
             FROM consents WHERE user_id = $1 ORDER BY given_at, id"
        )
        .bind(user_id)
        .fetch_all(p)
        .await?
        }))
    }

    /// Withdraws the live consents of an account for a purpose.
    pub async fn withdraw_consent(&self, user_id: i64, purpose: &str, now: &str) -> Result<u64> {
        Ok(on_pool!(self, |p| {
            sqlx::query(
            "UPDATE consents SET withdrawn_at = $1 WHERE user_id = $2 AND purpose = $3 AND withdrawn_at IS NULL"
        )
        .bind(now)
        .bind(user_id)
        .bind(purpose)
        .execute(p)
        .await?
        .rows_affected()
        }))
    }

    /// The register of requests, oldest open first.
    pub async fn privacy_requests(&self) -> Result<Vec<PrivacyRequestRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, user_id, kind, received_at, due_on, completed_at, channel FROM privacy_requests \
             ORDER BY completed_at IS NOT NULL, due_on, id"
        )
        .fetch_all(p)
        .await?
        }))
    }

    /// Learner accounts with no session since `before` (and created
    /// before it): candidates for erasure at the end of their retention.
    pub async fn inactive_learners(&self, before: &str) -> Result<Vec<i64>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_scalar(
            "SELECT u.id FROM users u WHERE u.disabled = FALSE AND u.created_at < $1 \
             AND EXISTS (SELECT 1 FROM grants g WHERE g.user_id = u.id AND g.role = 'learner') \
             AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.user_id = u.id AND g.role <> 'learner') \
             AND NOT EXISTS (SELECT 1 FROM auth_sessions s WHERE s.user_id = u.id AND s.last_seen_at >= $1) \
             AND NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.actor_user_id = u.id AND a.at >= $1)"
        )
        .bind(before)
        .fetch_all(p)
        .await?
        }))
    }

    /// Removes sign-in throttle counters whose window started before
    /// `before`.
    pub async fn purge_throttle_before(&self, before: &str) -> Result<u64> {
        Ok(on_pool!(self, |p| sqlx::query(
            "DELETE FROM auth_throttle WHERE window_start < $1"
        )
        .bind(before)
        .execute(p)
        .await?
        .rows_affected()))
    }

    /// Takes the lock of job `name` until `until`, unless another server
    /// holds it; one statement, so two servers never both get it.
    pub async fn try_lock_job(&self, name: &str, now: &str, until: &str) -> Result<bool> {
        let n = on_pool!(self, |p| sqlx::query(
            "INSERT INTO job_locks (name, locked_until) VALUES ($1, $3) \
             ON CONFLICT (name) DO UPDATE SET locked_until = $3 WHERE job_locks.locked_until < $2"
        )
        .bind(name)
        .bind(now)
        .bind(until)
        .execute(p)
        .await?
        .rows_affected());
        Ok(n == 1)
    }

    /// Marks job `name` done at `now` and releases its lock.
    pub async fn finish_job(&self, name: &str, now: &str) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query("UPDATE job_locks SET locked_until = $2, last_run_at = $2 WHERE name = $1")
                .bind(name)
                .bind(now)
                .execute(p)
                .await?;
        });
        Ok(())
    }
}
