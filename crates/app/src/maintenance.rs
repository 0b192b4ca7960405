//! Database maintenance for the command line: migrations, backups and
//! restores, which run before (or instead of) opening the application.

use std::path::Path;

use crate::AppError;

pub use store::DatasetOutcome;

/// Applies the migrations this binary knows to the database at `url`.
pub async fn migrate(url: &str) -> Result<(), AppError> {
    store::Store::connect(url).await?.migrate().await?;
    Ok(())
}

/// Writes a consistent copy of the database at `url` to `file` (SQLite:
/// `VACUUM INTO`; PostgreSQL: `pg_dump`), after bringing its schema up to
/// date.
pub async fn backup(url: &str, file: &Path) -> Result<(), AppError> {
    let store = store::Store::connect(url).await?;
    store.migrate().await?;
    store.backup_to(url, file).await?;
    Ok(())
}

/// Replaces the database at `url` by the backup `file`, verified first
/// (see `store::backup`); on SQLite the local search index, which
/// describes the replaced data, is removed too.
pub async fn restore(url: &str, file: &Path) -> Result<(), AppError> {
    store::backup::restore(url, file).await?;
    let index = crate::Config::default_index_dir(url);
    if store::backup::sqlite_path(url).is_some() && index.exists() {
        std::fs::remove_dir_all(&index).map_err(|e| {
            AppError::Internal(format!("suppression de l'index {} : {e}", index.display()))
        })?;
    }
    Ok(())
}

/// The database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    store::redact(url)
}
