//! The audit log (append-only, chained with keyed seals; see
//! `domain::audit`). Entries are appended inside the transaction of the
//! change they record, so that a change and its entry are stored together or
//! not at all, and the signed head (`audit_head`) moves in that same
//! transaction. Appends are serialised — SQLite by its write lock (`BEGIN
//! IMMEDIATE`), PostgreSQL by a transaction-scoped advisory lock — so that
//! the chain never forks.

use domain::audit::{
    entry_mac, head_mac, head_signed, personal_hash, AuditKey, Chained, Head, GENESIS, V2,
};
use serde::Serialize;

use crate::{on_pool, on_tx, Result, Store, Tx};

/// Key of the PostgreSQL advisory lock that serialises appends.
pub(crate) const APPEND_LOCK: i64 = 0x7061_7373_6175_6469; // "passaudi"

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
    /// How `hash` was computed: `domain::audit::V1` (unkeyed SHA-256, entries
    /// written before the key) or `V2` (HMAC-SHA256 with the key).
    pub chain_version: i32,
}

/// The signed end of the chain (see `domain::audit::Head`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: String,
    pub mac: String,
}

impl AuditHead {
    /// As `domain::audit` checks it.
    pub fn as_head(&self) -> Head<'_> {
        Head {
            seq: self.seq,
            hash: &self.hash,
            mac: &self.mac,
        }
    }
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
    entity, entity_id, detail, personal_hash, prev_hash, hash, chain_version FROM audit_log";

impl Tx {
    /// Takes the append lock (PostgreSQL; SQLite's write transaction already
    /// holds its database lock).
    pub(crate) async fn lock_audit(&mut self) -> Result<()> {
        if let crate::TxConn::Postgres(t) = &mut self.conn {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(APPEND_LOCK)
                .execute(&mut **t)
                .await?;
        }
        Ok(())
    }

    /// The last entry: number, seal and version.
    async fn last_audit(&mut self) -> Result<Option<(i64, String, i32)>> {
        Ok(on_tx!(self, |c| {
            sqlx::query_as(
                "SELECT seq, hash, chain_version FROM audit_log ORDER BY seq DESC LIMIT 1",
            )
            .fetch_optional(&mut *c)
            .await?
        }))
    }

    async fn head_audit(&mut self) -> Result<Option<AuditHead>> {
        Ok(on_tx!(self, |c| {
            sqlx::query_as("SELECT seq, hash, mac FROM audit_head WHERE id = 1")
                .fetch_optional(&mut *c)
                .await?
        }))
    }

    async fn insert_head(&mut self, key: &AuditKey, seq: i64, hash: &str) -> Result<()> {
        let mac = head_mac(key, seq, hash);
        on_tx!(self, |c| {
            sqlx::query("INSERT INTO audit_head (id, seq, hash, mac) VALUES (1, $1, $2, $3)")
                .bind(seq)
                .bind(hash)
                .bind(&mac)
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }

    /// Appends an entry at the end of the chain, sealed with `key`, and moves
    /// the signed head to it; returns its number.
    ///
    /// Where the log and its head disagree, the append leaves the evidence
    /// in place rather than covering it: after a signed head above the last
    /// entry (the end was cut), the entry takes the number after the head,
    /// so the gap stays; with entries beyond the head, or a head that is
    /// missing or not signed with this key, the entry follows the last one
    /// and the head is left as it is, for `verify` to report.
    pub async fn append_audit(&mut self, e: &AuditInput, key: &AuditKey) -> Result<i64> {
        self.lock_audit().await?;
        let last = self.last_audit().await?;
        let head = self.head_audit().await?;
        let signed = head.as_ref().filter(|h| head_signed(key, &h.as_head()));
        let last_seq = last.as_ref().map_or(0, |l| l.0);
        enum Move {
            Head,
            First,
            Leave,
        }
        let (seq, prev, moves) = match (signed, &last) {
            (Some(h), _) if last_seq <= h.seq => (h.seq + 1, h.hash.clone(), Move::Head),
            (Some(_), Some((s, hash, _))) => (s + 1, hash.clone(), Move::Leave),
            // The first keyed entry of a log that had no head yet.
            (None, None) if head.is_none() => (1, GENESIS.to_owned(), Move::First),
            (None, Some((s, hash, v))) if head.is_none() && *v < V2 => {
                (s + 1, hash.clone(), Move::First)
            }
            (_, Some((s, hash, _))) => (s + 1, hash.clone(), Move::Leave),
            (_, None) => (1, GENESIS.to_owned(), Move::Leave),
        };
        let personal = personal_hash(&e.salt, e.actor_label.as_deref(), e.ip_prefix.as_deref());
        let hash = entry_mac(
            key,
            &Chained {
                seq,
                at: &e.at,
                actor_user_id: e.actor_user_id,
                action: &e.action,
                campus_id: e.campus_id,
                entity: e.entity.as_deref(),
                entity_id: e.entity_id.as_deref(),
                detail: e.detail.as_deref(),
                personal_hash: &personal,
                prev_hash: &prev,
            },
        );
        on_tx!(self, |c| {
            sqlx::query(
                "INSERT INTO audit_log (seq, at, actor_user_id, actor_label, ip_prefix, personal_salt, action, campus_id, \
                 entity, entity_id, detail, personal_hash, prev_hash, hash, chain_version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
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
            .bind(&prev)
            .bind(&hash)
            .bind(V2)
            .execute(&mut *c)
            .await?;
        });
        match moves {
            Move::Head => {
                let mac = head_mac(key, seq, &hash);
                on_tx!(self, |c| {
                    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2, mac = $3 WHERE id = 1")
                        .bind(seq)
                        .bind(&hash)
                        .bind(&mac)
                        .execute(&mut *c)
                        .await?;
                });
            }
            Move::First => self.insert_head(key, seq, &hash).await?,
            Move::Leave => {}
        }
        Ok(seq)
    }
}

impl Store {
    /// Appends an entry in a transaction of its own (sign-ins and other
    /// events that change no campus data).
    pub async fn append_audit(&self, e: &AuditInput, key: &AuditKey) -> Result<i64> {
        let mut tx = self.begin().await?;
        let seq = tx.append_audit(e, key).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Signs the head of a log that has none yet and holds no keyed entry:
    /// an empty log, or one written before the key (its unkeyed entries are
    /// pinned from then on). Returns whether it did. A log with keyed entries
    /// and no head has lost it: that is left for `verify` to report, never
    /// covered by a new signature.
    pub async fn seal_audit_head(&self, key: &AuditKey) -> Result<bool> {
        let mut tx = self.begin().await?;
        tx.lock_audit().await?;
        if tx.head_audit().await?.is_some() {
            return Ok(false);
        }
        let sealed = match tx.last_audit().await? {
            None => {
                tx.insert_head(key, 0, GENESIS).await?;
                true
            }
            Some((seq, hash, version)) if version < V2 => {
                tx.insert_head(key, seq, &hash).await?;
                true
            }
            Some(_) => false,
        };
        tx.commit().await?;
        Ok(sealed)
    }

    /// The signed head, if any.
    pub async fn audit_head(&self) -> Result<Option<AuditHead>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT seq, hash, mac FROM audit_head WHERE id = 1"
        )
        .fetch_optional(p)
        .await?))
    }

    /// The last entry, if any.
    pub async fn audit_last(&self) -> Result<Option<AuditRow>> {
        let sql = format!("{AUDIT_SELECT} ORDER BY seq DESC LIMIT 1");
        Ok(on_pool!(self, |p| sqlx::query_as(&sql)
            .fetch_optional(p)
            .await?))
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
