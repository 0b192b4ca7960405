//! Storage of Passerelle: one API over two backends, SQLite (embedded, the
//! default) and PostgreSQL (shared by several servers), chosen from the URL
//! scheme. Both backends run the same SQL text — `$1` placeholders are
//! understood by both — and have their own migrations with the same names.
//! The contract test suite (`tests/contract.rs`) runs on both.
//!
//! Invariants kept here:
//! - SQLite runs in WAL mode with a `busy_timeout` and foreign keys on, and
//!   every write transaction starts with `BEGIN IMMEDIATE`, so that concurrent
//!   writers wait for the lock instead of failing on upgrade.
//! - Every write of data that the search index holds appends to `change_log`
//!   in the same transaction.
//! - Every query is parameterised; no value is ever spliced into SQL text.

mod accounts;
mod audit;
pub mod backup;
mod bulk;
mod catalogue;
mod changelog;
mod lookup;
mod mail;
mod multirow;
mod network;
mod observatory;
mod outcomes;
mod privacy;
mod reference;
mod rows;
mod survey;
#[cfg(feature = "testing")]
pub mod testing;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{PgConnection, SqliteConnection};

pub use accounts::*;
pub use audit::*;
pub use bulk::FormationWrite;
pub use catalogue::Visibility;
pub use changelog::ChangeRow;
pub use mail::*;
pub use network::*;
pub use observatory::*;
pub use outcomes::*;
pub use privacy::*;
pub use reference::*;
pub use rows::*;
pub use survey::*;

/// What can go wrong in the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no backend we know: refused rather than guessed.
    #[error("unknown database URL scheme in {0:?}: use sqlite://PATH or postgres://…")]
    UnknownScheme(String),
    /// The database answered with an error.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A unique key was already taken.
    #[error("already exists: {0}")]
    Conflict(String),
    /// The referenced row does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A file operation failed (the message says which).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Result of storage operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// The time rows are stamped with, as RFC 3339 text: the system clock
    /// unless the application gives its own ([`Store::with_clock`]).
    now: Clock,
}

/// A source of the current time as RFC 3339 UTC text.
pub type Clock = std::sync::Arc<dyn Fn() -> String + Send + Sync>;

/// Runs the same body on whichever pool the store holds. The body is
/// compiled once per backend, so the SQL is shared and the types checked for
/// both.
macro_rules! on_pool {
    ($store:expr, |$p:ident| $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($p) => $body,
            $crate::Pool::Postgres($p) => $body,
        }
    };
}

/// Same as `on_pool!` for an open transaction.
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match &mut $tx.conn {
            $crate::TxConn::Sqlite(t) => {
                let $c: &mut sqlx::SqliteConnection = &mut *t;
                $body
            }
            $crate::TxConn::Postgres(t) => {
                let $c: &mut sqlx::PgConnection = &mut *t;
                $body
            }
        }
    };
}
pub(crate) use {on_pool, on_tx};

/// An open write transaction on either backend, with the time its rows are
/// stamped with (read from the store's clock when it began: one write, one
/// time).
pub struct Tx {
    conn: TxConn,
    now: String,
}

/// The connection of a transaction, per backend.
pub(crate) enum TxConn {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    /// The time this transaction stamps its rows with.
    pub fn now(&self) -> &str {
        &self.now
    }

    /// Commits the transaction.
    pub async fn commit(self) -> Result<()> {
        match self.conn {
            TxConn::Sqlite(t) => t.commit().await?,
            TxConn::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Sizes SQLite's page cache for a write of national size (`Some(n)`:
    /// up to `n` MiB for this connection, allocated only as pages are used)
    /// or back to SQLite's default (`None`: 2 MB, what every connection of
    /// this store has otherwise). A transaction that dirties more pages
    /// than the cache holds spills them to the WAL one page write at a time,
    /// over and over as the same index pages are touched again: with 2 MB,
    /// or even 64 MB for 200,000 members, an import was dominated by those
    /// writes and grew faster than its file. Call it with `None` before
    /// committing: the pages the transaction dirtied are then freed as they
    /// are written.
    ///
    /// On PostgreSQL, whose cache is the server's, `Some` makes the rest of
    /// the transaction plan every statement for its parameters
    /// (`plan_cache_mode = force_custom_plan`): the generic plan PostgreSQL
    /// settles on after five executions of a prepared look-up is made while
    /// the table is still small (a sequential scan), and kept while the
    /// import grows it to 200,000 rows, which made each chunk's look-up
    /// slower than the last.
    pub async fn bulk_cache(&mut self, mib: Option<u32>) -> Result<()> {
        match &mut self.conn {
            TxConn::Sqlite(t) => {
                let kib = mib.map_or(2_000, |m| i64::from(m) * 1024);
                // A number formatted from an integer, not a value spliced in.
                sqlx::query(&format!("PRAGMA cache_size = -{kib}"))
                    .execute(&mut **t)
                    .await?;
            }
            TxConn::Postgres(t) => {
                let mode = if mib.is_some() {
                    "force_custom_plan"
                } else {
                    "auto"
                };
                sqlx::query(&format!("SET LOCAL plan_cache_mode = {mode}"))
                    .execute(&mut **t)
                    .await?;
            }
        }
        Ok(())
    }

    /// Rolls back explicitly (dropping does the same).
    pub async fn rollback(self) -> Result<()> {
        match self.conn {
            TxConn::Sqlite(t) => t.rollback().await?,
            TxConn::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }
}

/// Unused helpers keep the connection types nameable in macros.
#[allow(dead_code)]
fn _assert_conn(_: &mut SqliteConnection, _: &mut PgConnection) {}

impl Store {
    /// Connects to `sqlite://PATH` (created with its directory when missing)
    /// or `postgres://…`; any other scheme is refused.
    pub async fn connect(url: &str) -> Result<Self> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or(path);
            let in_memory = path == ":memory:";
            if !in_memory {
                if let Some(dir) = std::path::Path::new(path).parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir).map_err(|e| {
                            std::io::Error::new(
                                e.kind(),
                                format!(
                                    "cannot create the database directory {}: {e}",
                                    dir.display()
                                ),
                            )
                        })?;
                    }
                }
            }
            let opts = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
                .create_if_missing(true)
                .journal_mode(if in_memory {
                    SqliteJournalMode::Memory
                } else {
                    SqliteJournalMode::Wal
                })
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                // An in-memory database exists once per connection.
                .max_connections(if in_memory { 1 } else { 8 })
                .connect_with(opts)
                .await?;
            Ok(Self {
                pool: Pool::Sqlite(pool),
                now: std::sync::Arc::new(now_text),
            })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            Ok(Self {
                pool: Pool::Postgres(pool),
                now: std::sync::Arc::new(now_text),
            })
        } else {
            Err(StoreError::UnknownScheme(redact(url)))
        }
    }

    /// The same store, stamping rows with `clock` (the application's, so
    /// that tests with a manual clock see their own time in every row).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.now = clock;
        self
    }

    /// The current time of this store's clock.
    pub(crate) fn now(&self) -> String {
        (self.now)()
    }

    /// Which backend this store runs on.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the backend's pending migrations.
    pub async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Pool::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on SQLite).
    pub async fn begin(&self) -> Result<Tx> {
        let conn = match &self.pool {
            Pool::Sqlite(p) => TxConn::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => TxConn::Postgres(p.begin().await?),
        };
        Ok(Tx {
            conn,
            now: self.now(),
        })
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query("SELECT 1").execute(p).await?;
        });
        Ok(())
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        on_pool!(self, |p| p.close().await)
    }
}

/// Hides the password of a database URL before it is shown or logged.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}://{}:***@{}", &url[..s], user, &url[at + 1..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Current time in UTC as RFC 3339 text, the format of every timestamp
/// column: the clock of a store the application has not given its own.
#[allow(clippy::disallowed_methods)]
pub fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }
}
