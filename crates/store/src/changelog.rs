//! The change log: one entry per write of data the search index holds,
//! appended in the write's own transaction and numbered in commit order, so
//! that every server's index follows it (`app::indexer`).

use serde::Serialize;

use crate::{on_pool, on_tx, Result, Store, Tx};

/// One entry of the change log.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ChangeRow {
    pub seq: i64,
    pub entity: String,
    pub entity_id: String,
}

impl Tx {
    /// Makes the change log's numbers follow commit order. Followers read
    /// the log from the last number they applied: on PostgreSQL two
    /// transactions may draw numbers 10 and 11 and commit 11 first, and a
    /// follower that read 11 would never see 10. Writers therefore take the
    /// append lock (the audit log's, which every audited write takes anyway)
    /// before drawing a number, and hold it until commit. SQLite's write
    /// transaction already holds the database lock.
    pub(crate) async fn order_changes(&mut self) -> Result<()> {
        self.lock_audit().await
    }

    /// Appends to the change log, so that every server's index follows.
    pub async fn log_change(&mut self, entity: &str, entity_id: &str) -> Result<()> {
        self.order_changes().await?;
        let now = self.now.clone();
        on_tx!(self, |c| {
            sqlx::query("INSERT INTO change_log (entity, entity_id, at) VALUES ($1, $2, $3)")
                .bind(entity)
                .bind(entity_id)
                .bind(&now)
                .execute(&mut *c)
                .await?;
        });
        Ok(())
    }
}

impl Store {
    /// Changes after `seq`, oldest first.
    pub async fn changes_since(&self, seq: i64, limit: i64) -> Result<Vec<ChangeRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as("SELECT seq, entity, entity_id FROM change_log WHERE seq > $1 ORDER BY seq LIMIT $2")
                .bind(seq)
                .bind(limit)
                .fetch_all(p)
                .await?
        }))
    }

    /// Highest sequence number of the change log (0 when empty).
    pub async fn last_change(&self) -> Result<i64> {
        let (n,): (Option<i64>,) = on_pool!(self, |p| {
            sqlx::query_as("SELECT MAX(seq) FROM change_log")
                .fetch_one(p)
                .await?
        });
        Ok(n.unwrap_or(0))
    }
}

/// Appends one change-log entry per id to `$c`, in multi-row statements.
/// The caller has taken `Tx::order_changes` first.
macro_rules! log_changes {
    ($c:expr, $entity:expr, $ids:expr, $at:expr) => {{
        let mut rows =
            $crate::multirow::Rows::new("INSERT INTO change_log (entity, entity_id, at)", 3, "");
        for id in $ids.iter() {
            rows.row()
                .text(Some($entity))
                .owned(Some(id.to_string()))
                .text(Some($at));
        }
        $crate::multirow::Bulk::write_rows(&mut *$c, &rows).await?;
    }};
}
pub(crate) use log_changes;
