//! Accounts, grants (roles per campus), sessions, API tokens and sign-in
//! throttling. Secrets arrive here already hashed: this module never sees a
//! password, a session identifier or a token in clear. Timestamps are given
//! by the caller (RFC 3339 UTC text), so that tests control time.

use serde::Serialize;

use crate::{on_pool, Result, Store, StoreError};

/// An account.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    /// Argon2id PHC string. Never serialised.
    #[serde(skip)]
    pub password_hash: String,
    pub disabled: bool,
    /// TOTP shared secret (base32). Never serialised.
    #[serde(skip)]
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    #[serde(skip)]
    pub totp_last_step: Option<i64>,
    pub created_at: String,
}

/// A role held by an account, with the slug and name of its campus and the
/// name of its member organisation.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct GrantRow {
    pub id: i64,
    pub user_id: i64,
    pub role: String,
    pub campus_id: Option<i64>,
    pub campus_slug: Option<String>,
    pub member_id: Option<i64>,
    pub member_name: Option<String>,
}

/// A signed-in browser session (the identifier itself is only hashed here).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuthSessionRow {
    #[serde(skip)]
    pub id_hash: String,
    pub user_id: i64,
    #[serde(skip)]
    pub csrf_token: String,
    /// `ok`, or `totp` / `enrol` while the second factor is awaited.
    pub stage: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub ip_prefix: Option<String>,
    pub user_agent: Option<String>,
}

/// An API token (hash only).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub can_write: bool,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A new grant.
#[derive(Debug, Clone)]
pub struct GrantInput {
    pub role: domain::accounts::Role,
    pub campus_id: Option<i64>,
    pub member_id: Option<i64>,
}

const USER_SELECT: &str =
    "SELECT id, email, display_name, password_hash, disabled, totp_secret, totp_enabled, \
    totp_last_step, created_at FROM users";

fn unique_to_conflict(e: sqlx::Error, what: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(what.into()),
        _ => StoreError::Db(e),
    }
}

impl Store {
    /// Creates an account with its grants in one transaction; `Conflict` when
    /// the e-mail address is taken.
    pub async fn create_user(
        &self,
        email: &str,
        display_name: &str,
        password_hash: &str,
        grants: &[GrantInput],
        now: &str,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let id = tx
            .insert_user(email, display_name, password_hash, grants, now)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The account with this (normalised) e-mail address.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRow>> {
        let sql = format!("{USER_SELECT} WHERE email = $1");
        Ok(on_pool!(self, |p| sqlx::query_as(&sql)
            .bind(email)
            .fetch_optional(p)
            .await?))
    }

    /// One account.
    pub async fn user(&self, id: i64) -> Result<Option<UserRow>> {
        let sql = format!("{USER_SELECT} WHERE id = $1");
        Ok(on_pool!(self, |p| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(p)
            .await?))
    }

    /// Every account, by e-mail.
    pub async fn users(&self) -> Result<Vec<UserRow>> {
        let sql = format!("{USER_SELECT} ORDER BY email");
        Ok(on_pool!(self, |p| sqlx::query_as(&sql)
            .fetch_all(p)
            .await?))
    }

    /// Replaces the password hash and ends every session of the account.
    pub async fn set_password_hash(&self, user_id: i64, hash: &str, now: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        crate::on_tx!(&mut tx, |c| {
            sqlx::query(
                "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3",
            )
            .bind(hash)
            .bind(now)
            .bind(user_id)
            .execute(&mut *c)
            .await?;
            sqlx::query("DELETE FROM auth_sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *c)
                .await?;
        });
        tx.commit().await
    }

    /// Disables or re-enables an account; disabling ends its sessions and
    /// revokes nothing else (its tokens stop working while it is disabled).
    pub async fn set_user_disabled(&self, user_id: i64, disabled: bool) -> Result<()> {
        let mut tx = self.begin().await?;
        crate::on_tx!(&mut tx, |c| {
            sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
                .bind(disabled)
                .bind(user_id)
                .execute(&mut *c)
                .await?;
            if disabled {
                sqlx::query("DELETE FROM auth_sessions WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *c)
                    .await?;
            }
        });
        tx.commit().await
    }

    /// The grants of an account, network-wide first.
    pub async fn grants(&self, user_id: i64) -> Result<Vec<GrantRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT g.id, g.user_id, g.role, g.campus_id, c.slug AS campus_slug, g.member_id, m.name AS member_name \
             FROM grants g LEFT JOIN campuses c ON c.id = g.campus_id LEFT JOIN members m ON m.id = g.member_id \
             WHERE g.user_id = $1 ORDER BY g.campus_id IS NOT NULL, c.slug, g.role, g.member_id"
        )
        .bind(user_id)
        .fetch_all(p)
        .await?
        }))
    }

    /// Records a new session.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf_token: &str,
        stage: &str,
        now: &str,
        ip_prefix: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query(
                "INSERT INTO auth_sessions (id_hash, user_id, csrf_token, stage, created_at, last_seen_at, ip_prefix, user_agent) \
                 VALUES ($1, $2, $3, $4, $5, $5, $6, $7)",
            )
            .bind(id_hash)
            .bind(user_id)
            .bind(csrf_token)
            .bind(stage)
            .bind(now)
            .bind(ip_prefix)
            .bind(user_agent)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// A session by the hash of its identifier.
    pub async fn session(&self, id_hash: &str) -> Result<Option<AuthSessionRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id_hash, user_id, csrf_token, stage, created_at, last_seen_at, ip_prefix, user_agent \
             FROM auth_sessions WHERE id_hash = $1"
        )
        .bind(id_hash)
        .fetch_optional(p)
        .await?
        }))
    }

    /// The sessions of an account, latest first.
    pub async fn user_sessions(&self, user_id: i64) -> Result<Vec<AuthSessionRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id_hash, user_id, csrf_token, stage, created_at, last_seen_at, ip_prefix, user_agent \
             FROM auth_sessions WHERE user_id = $1 ORDER BY last_seen_at DESC, created_at DESC"
        )
        .bind(user_id)
        .fetch_all(p)
        .await?
        }))
    }

    /// Marks a session as used now.
    pub async fn touch_session(&self, id_hash: &str, now: &str) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query("UPDATE auth_sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(now)
                .bind(id_hash)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// Ends one session; `user_id` guards against ending someone else's.
    pub async fn delete_session(&self, id_hash: &str, user_id: i64) -> Result<bool> {
        let n = on_pool!(self, |p| sqlx::query(
            "DELETE FROM auth_sessions WHERE id_hash = $1 AND user_id = $2"
        )
        .bind(id_hash)
        .bind(user_id)
        .execute(p)
        .await?
        .rows_affected());
        Ok(n > 0)
    }

    /// Removes the sessions idle since before `idle_before` or created before
    /// `created_before`.
    pub async fn delete_expired_sessions(
        &self,
        idle_before: &str,
        created_before: &str,
    ) -> Result<u64> {
        Ok(on_pool!(self, |p| sqlx::query(
            "DELETE FROM auth_sessions WHERE last_seen_at < $1 OR created_at < $2"
        )
        .bind(idle_before)
        .bind(created_before)
        .execute(p)
        .await?
        .rows_affected()))
    }

    /// Sets (or clears) an account's TOTP secret and whether it is
    /// confirmed.
    pub async fn set_totp(&self, user_id: i64, secret: Option<&str>, enabled: bool) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query("UPDATE users SET totp_secret = $1, totp_enabled = $2, totp_last_step = NULL WHERE id = $3")
                .bind(secret)
                .bind(enabled)
                .bind(user_id)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// Records the time step of an accepted code, only if later than the
    /// last one; false when it is not (a replayed code). One statement, so
    /// two servers cannot both accept the same code.
    pub async fn use_totp_step(&self, user_id: i64, step: i64) -> Result<bool> {
        let n = on_pool!(self, |p| {
            sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)"
        )
        .bind(step)
        .bind(user_id)
        .execute(p)
        .await?
        .rows_affected()
        });
        Ok(n == 1)
    }

    /// Records an API token (its hash).
    pub async fn create_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        can_write: bool,
        now: &str,
    ) -> Result<i64> {
        Ok(on_pool!(self, |p| {
            sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, token_hash, can_write, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id"
        )
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(can_write)
        .bind(now)
        .fetch_one(p)
        .await?
        }))
    }

    /// The live (not revoked) token with this hash.
    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, user_id, name, can_write, created_at, last_used_at, revoked_at FROM api_tokens \
             WHERE token_hash = $1 AND revoked_at IS NULL"
        )
        .bind(token_hash)
        .fetch_optional(p)
        .await?
        }))
    }

    /// The tokens of an account, revoked ones included.
    pub async fn tokens(&self, user_id: i64) -> Result<Vec<TokenRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, user_id, name, can_write, created_at, last_used_at, revoked_at FROM api_tokens \
             WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
        )
        .bind(user_id)
        .fetch_all(p)
        .await?
        }))
    }

    /// Notes a token's use (at most the caller's resolution: the app calls it
    /// once a minute per token at most).
    pub async fn touch_token(&self, id: i64, now: &str) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// Revokes a token of an account; false when it has none by that id.
    pub async fn revoke_token(&self, user_id: i64, id: i64, now: &str) -> Result<bool> {
        let n = on_pool!(self, |p| {
            sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL"
        )
        .bind(now)
        .bind(id)
        .bind(user_id)
        .execute(p)
        .await?
        .rows_affected()
        });
        Ok(n > 0)
    }

    /// Failed sign-ins recorded under `key` in the window that started at or
    /// after `window_from`; older windows count as zero.
    pub async fn throttle_failures(&self, key: &str, window_from: &str) -> Result<i64> {
        let n: Option<i64> = on_pool!(self, |p| sqlx::query_scalar(
            "SELECT failures FROM auth_throttle WHERE key = $1 AND window_start >= $2"
        )
        .bind(key)
        .bind(window_from)
        .fetch_optional(p)
        .await?);
        Ok(n.unwrap_or(0))
    }

    /// Counts one failure under `key`, starting a new window at `now` when the
    /// current one began before `window_from`. One statement, so that
    /// concurrent servers never lose a count.
    pub async fn record_failure(&self, key: &str, now: &str, window_from: &str) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query(
                "INSERT INTO auth_throttle (key, failures, window_start) VALUES ($1, 1, $2) \
                 ON CONFLICT (key) DO UPDATE SET \
                 failures = CASE WHEN auth_throttle.window_start < $3 THEN 1 ELSE auth_throttle.failures + 1 END, \
                 window_start = CASE WHEN auth_throttle.window_start < $3 THEN $2 ELSE auth_throttle.window_start END",
            )
            .bind(key)
            .bind(now)
            .bind(window_from)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// Forgets the failures under `key` (after a successful sign-in).
    pub async fn clear_failures(&self, key: &str) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query("DELETE FROM auth_throttle WHERE key = $1")
                .bind(key)
                .execute(p)
                .await?;
        });
        Ok(())
    }
}

impl crate::Tx {
    /// Inserts an account with its grants inside a larger transaction.
    pub async fn insert_user(
        &mut self,
        email: &str,
        display_name: &str,
        password_hash: &str,
        grants: &[GrantInput],
        now: &str,
    ) -> Result<i64> {
        let id: i64 = crate::on_tx!(self, |c| {
            sqlx::query_scalar(
                "INSERT INTO users (email, display_name, password_hash, disabled, created_at, password_changed_at) \
                 VALUES ($1, $2, $3, FALSE, $4, $4) RETURNING id",
            )
            .bind(email)
            .bind(display_name)
            .bind(password_hash)
            .bind(now)
            .fetch_one(&mut *c)
            .await
            .map_err(|e| unique_to_conflict(e, email))?
        });
        for g in grants {
            crate::on_tx!(self, |c| {
                sqlx::query(
                    "INSERT INTO grants (user_id, role, campus_id, member_id, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(g.role.as_str())
                .bind(g.campus_id)
                .bind(g.member_id)
                .bind(now)
                .execute(&mut *c)
                .await
                .map_err(|e| unique_to_conflict(e, "rôle déjà attribué"))?;
            });
        }
        Ok(id)
    }

    /// Changes an account's display name.
    pub async fn set_display_name(&mut self, user_id: i64, name: &str) -> Result<()> {
        crate::on_tx!(self, |c| {
            sqlx::query("UPDATE users SET display_name = $1 WHERE id = $2")
                .bind(name)
                .bind(user_id)
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }
}

impl Store {
    /// Accounts holding a role on a campus (or every account), by e-mail.
    pub async fn users_of(&self, campus_id: Option<i64>) -> Result<Vec<UserRow>> {
        let sql = format!(
            "{USER_SELECT} WHERE $1 = 0 OR id IN (SELECT user_id FROM grants WHERE campus_id = $1) ORDER BY email"
        );
        Ok(on_pool!(self, |p| sqlx::query_as(&sql)
            .bind(campus_id.unwrap_or(0))
            .fetch_all(p)
            .await?))
    }

    /// One grant.
    pub async fn grant(&self, id: i64) -> Result<Option<GrantRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT g.id, g.user_id, g.role, g.campus_id, c.slug AS campus_slug, g.member_id, m.name AS member_name \
             FROM grants g LEFT JOIN campuses c ON c.id = g.campus_id LEFT JOIN members m ON m.id = g.member_id \
             WHERE g.id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await?
        }))
    }
}

impl crate::Tx {
    /// Removes a grant.
    pub async fn delete_grant(&mut self, id: i64) -> Result<()> {
        crate::on_tx!(self, |c| {
            sqlx::query("DELETE FROM grants WHERE id = $1")
                .bind(id)
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }
}
