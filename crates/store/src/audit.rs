//! The audit log (append-only, hash-chained; see `domain::audit`). Entries
//! are appended inside the transaction of the change they record, so that a
//! change and its entry are stored together or not at all. Appends are
//! serialised — SQLite by its write lock (`BEGIN IMMEDIATE`), PostgreSQL by
//! a transaction-scoped advisory lock — so that the chain never forks.

use domain::audit::{entry_hash, personal_hash, Chained, GENESIS};
use serde::Serialize;

use crate::{on_pool, on_tx, Result, Store, Tx};

/// Key of the PostgreSQL advisory lock that serialises appends.
const APPEND_LOCK: i64 = 0x7061_7373_6175_6469; // "passaudi"

/// A new entry; the store numbers and chains it.
#[derive(Debug, Clone, Default)]
pub struct AuditInput {
    pub at: String,
    pub actor_user_id: Option<i64>,
    /// E-mail or name of the actor (personal, erasable).
    pub actor_label: Option<String>,
    /// Truncated address (personal, erasable).
    pub ip_prefix: Option<String>,
    pub action: String,
    pub campus_id: Option<i64>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// Non-personal detail, JSON.
    pub detail: Option<String>,
    /// Random salt of the personal hash (randomness comes from the caller).
    pub salt: String,
}

/// A stored entry.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor_user_id: Option<i64>,
    pub actor_label: Option<String>,
    pub ip_prefix: Option<String>,
    #[serde(skip)]
    pub personal_salt: Option<String>,
    pub action: String,
    pub campus_id: Option<i64>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub detail: Option<String>,
    pub personal_hash: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRow {
    /// The chained fields, for verification.
    pub fn chained(&self) -> Chained<'_> {
        Chained {
            seq: self.seq,
            at: &self.at,
            actor_user_id: self.actor_user_id,
            action: &self.action,
            campus_id: self.campus_id,
            entity: self.entity.as_deref(),
            entity_id: self.entity_id.as_deref(),
            detail: self.detail.as_deref(),
            personal_hash: &self.personal_hash,
            prev_hash: &self.prev_hash,
        }
    }
}

const AUDIT_SELECT: &str =
    "SELECT seq, at, actor_user_id, actor_label, ip_prefix, personal_salt, action, campus_id, \
    entity, entity_id, detail, personal_hash, prev_hash, hash FROM audit_log";

impl Tx {
    /// Appends an entry at the end of the chain; returns its number.
    pub async fn append_audit(&mut self, e: &AuditInput) -> Result<i64> {
        if let Tx::Postgres(t) = self {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(APPEND_LOCK)
                .execute(&mut **t)
                .await?;
        }
        let last: Option<(i64, String)> = on_tx!(self, |c| {
            sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *c)
                .await?
        });
        let (seq, prev) = match &last {
            Some((s, h)) => (s + 1, h.as_str()),
            None => (1, GENESIS),
        };
        let personal = personal_hash(&e.salt, e.actor_label.as_deref(), e.ip_prefix.as_deref());
        let hash = entry_hash(&Chained {
            seq,
            at: &e.at,
            actor_user_id: e.actor_user_id,
            action: &e.action,
            campus_id: e.campus_id,
            entity: e.entity.as_deref(),
            entity_id: e.entity_id.as_deref(),
            detail: e.detail.as_deref(),
            personal_hash: &personal,
            prev_hash: prev,
        });
        on_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO audit_log (seq, at, actor_user_id, actor_label, ip_prefix, personal_salt, action, campus_id, \
                 entity, entity_id, detail, personal_hash, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(seq)
            .bind(&e.at)
            .bind(e.actor_user_id)
            .bind(&e.actor_label)
            .bind(&e.ip_prefix)
            .bind(&e.salt)
            .bind(&e.action)
            .bind(e.campus_id)
            .bind(&e.entity)
            .bind(&e.entity_id)
            .bind(&e.detail)
            .bind(&personal)
            .bind(prev)
            .bind(&hash)
            .execute(&mut *c)
            .await?;
        });
        Ok(seq)
    }
}

impl Store {
    /// Appends an entry in a transaction of its own (sign-ins and other
    /// events that change no campus data).
    pub async fn append_audit(&self, e: &AuditInput) -> Result<i64> {
        let mut tx = self.begin().await?;
        let seq = tx.append_audit(e).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Entries after `after_seq`, in order, at most `limit` (verification
    /// reads the log by pages).
    pub async fn audit_after(&self, after_seq: i64, limit: i64) -> Result<Vec<AuditRow>> {
        let sql = format!("{AUDIT_SELECT} WHERE seq > $1 ORDER BY seq LIMIT $2");
        Ok(on_pool!(self, |p| sqlx::query_as(&sql)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(p)
            .await?))
    }

    /// The latest entries of one campus, newest first.
    pub async fn audit_of_campus(&self, campus_id: i64, limit: i64) -> Result<Vec<AuditRow>> {
        let sql = format!("{AUDIT_SELECT} WHERE campus_id = $1 ORDER BY seq DESC LIMIT $2");
        Ok(on_pool!(self, |p| sqlx::query_as(&sql)
            .bind(campus_id)
            .bind(limit)
            .fetch_all(p)
            .await?))
    }

    /// Clears the personal fields (and their salt) of the entries of an
    /// account: erasure. The chain still verifies.
    pub async fn erase_audit_personal_of(&self, user_id: i64) -> Result<u64> {
        Ok(on_pool!(self, |p| sqlx::query(
            "UPDATE audit_log SET actor_label = NULL, ip_prefix = NULL, personal_salt = NULL \
             WHERE actor_user_id = $1 AND personal_salt IS NOT NULL"
        )
        .bind(user_id)
        .execute(p)
        .await?
        .rows_affected()))
    }

    /// Clears the personal fields of entries older than `before`: retention.
    pub async fn purge_audit_personal_before(&self, before: &str) -> Result<u64> {
        Ok(on_pool!(self, |p| sqlx::query(
            "UPDATE audit_log SET actor_label = NULL, ip_prefix = NULL, personal_salt = NULL \
             WHERE at < $1 AND personal_salt IS NOT NULL"
        )
        .bind(before)
        .execute(p)
        .await?
        .rows_affected()))
    }
}
