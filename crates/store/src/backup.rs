//! Backups: a consistent copy of the whole database in one file, and its
//! restoration. SQLite: `VACUUM INTO` (a transactionally consistent copy,
//! compacted) and an atomic file replacement. PostgreSQL: `pg_dump` of the
//! database's schema in its custom format (one snapshot, so consistent) and
//! `pg_restore --clean` in a single transaction. Backup files hold personal
//! data: they are created readable by their owner only.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{on_pool, Backend, Result, Store, StoreError};

/// The first bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

fn failed(what: impl Into<String>) -> StoreError {
    StoreError::Io(std::io::Error::other(what.into()))
}

/// The file of an SQLite URL.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (path != ":memory:").then(|| PathBuf::from(path))
}

/// Splits the password out of a PostgreSQL URL, so that it goes to the
/// child process in `PGPASSWORD` rather than on its command line.
fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, password)) => (
                format!("{scheme}://{user}@{host}{tail}"),
                Some(percent_decode(password)),
            ),
            None => (url.to_owned(), None),
        },
        None => (url.to_owned(), None),
    }
}

/// Decodes `%XX` escapes (URL userinfo); invalid escapes stay as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' {
            if let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            ) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(unix)]
fn owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn owner_only(_: &Path) -> std::io::Result<()> {
    Ok(())
}

fn run(mut cmd: Command, what: &str) -> Result<()> {
    let out = cmd
        .output()
        .map_err(|e| failed(format!("{what} : impossible de lancer la commande ({e})")))?;
    if !out.status.success() {
        return Err(failed(format!(
            "{what} a échoué : {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

impl Store {
    /// Writes a consistent copy of the whole database to `file`, which must
    /// not exist. `url` is the database's URL (PostgreSQL backups call
    /// `pg_dump` with it).
    pub async fn backup_to(&self, url: &str, file: &Path) -> Result<()> {
        if file.exists() {
            return Err(StoreError::Conflict(format!(
                "{} existe déjà",
                file.display()
            )));
        }
        match self.backend() {
            Backend::Sqlite => {
                let target = file.to_string_lossy().into_owned();
                on_pool!(self, |p| {
                    sqlx::query("VACUUM INTO $1")
                        .bind(&target)
                        .execute(p)
                        .await?;
                });
            }
            Backend::Postgres => {
                let schema: String =
                    on_pool!(self, |p| sqlx::query_scalar("SELECT current_schema()")
                        .fetch_one(p)
                        .await?);
                let (url, password) = split_password(url);
                let mut cmd = Command::new("pg_dump");
                cmd.arg("--format=custom")
                    .arg("--no-owner")
                    .arg("--no-privileges")
                    .arg(format!("--schema={schema}"))
                    .arg(format!("--file={}", file.display()))
                    .arg(format!("--dbname={url}"));
                if let Some(p) = password {
                    cmd.env("PGPASSWORD", p);
                }
                let file = file.to_path_buf();
                tokio::task::spawn_blocking(move || run(cmd, "pg_dump").map(|_| file))
                    .await
                    .map_err(|e| failed(e.to_string()))??;
            }
        }
        owner_only(file)?;
        Ok(())
    }
}

/// Replaces the database of `url` by the backup in `file`. Servers using the
/// database must be stopped first (SQLite) or expect their data to change
/// under them (PostgreSQL: run `passerelle reindex` on each afterwards).
///
/// Nothing is touched until the backup is verified whole (docs/RELIABILITY.md):
/// SQLite checks a staged copy (`PRAGMA integrity_check`, the migrations it
/// records against this binary's), keeps the live database until the copy
/// replaced it atomically and opened, and puts it back otherwise;
/// PostgreSQL reads the dump's table of contents first and restores in one
/// transaction.
pub async fn restore(url: &str, file: &Path) -> Result<()> {
    let head = read_head(file)?;
    if let Some(db) = sqlite_path(url) {
        if head != SQLITE_MAGIC {
            return Err(failed(format!(
                "{} n'est pas une sauvegarde SQLite de Passerelle (en-tête inconnu)",
                file.display()
            )));
        }
        return restore_sqlite(&db, file).await;
    }
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(StoreError::UnknownScheme(crate::redact(url)));
    }
    if !head.starts_with(b"PGDMP") {
        return Err(failed(format!(
            "{} n'est pas une sauvegarde PostgreSQL (format pg_dump custom)",
            file.display()
        )));
    }
    // The table of contents must read before anything is dropped.
    let mut list = Command::new("pg_restore");
    list.arg("--list").arg(file);
    let shown = file.display().to_string();
    tokio::task::spawn_blocking(move || {
        run(
            list,
            &format!("la lecture de la sauvegarde {shown} (pg_restore --list)"),
        )
    })
    .await
    .map_err(|e| failed(e.to_string()))??;
    let (url, password) = split_password(url);
    let mut cmd = Command::new("pg_restore");
    cmd.arg("--clean")
        .arg("--if-exists")
        .arg("--no-owner")
        .arg("--no-privileges")
        .arg("--single-transaction")
        .arg("--exit-on-error")
        .arg(format!("--dbname={url}"))
        .arg(file);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    tokio::task::spawn_blocking(move || {
        run(
            cmd,
            "la restauration (pg_restore, en une transaction : la base n'a pas changé)",
        )
    })
    .await
    .map_err(|e| failed(e.to_string()))?
}

/// The first 16 bytes of `file`.
fn read_head(file: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut head = [0u8; 16];
    let mut f = std::fs::File::open(file).map_err(|e| {
        failed(format!(
            "impossible d'ouvrir la sauvegarde {} : {e}",
            file.display()
        ))
    })?;
    let n = f.read(&mut head).map_err(|e| {
        failed(format!(
            "impossible de lire la sauvegarde {} : {e}",
            file.display()
        ))
    })?;
    Ok(head[..n].to_vec())
}

/// A file beside `db` with `suffix` added to its name.
fn beside(db: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", db.display()))
}

async fn restore_sqlite(db: &Path, file: &Path) -> Result<()> {
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            failed(format!(
                "impossible de créer le répertoire de la base {} : {e}",
                dir.display()
            ))
        })?;
    }
    // 1. A staged copy beside the database (same file system, so that the
    //    final rename is atomic), verified before anything else is touched.
    let staged = beside(db, ".restoring");
    let _ = std::fs::remove_file(&staged);
    std::fs::copy(file, &staged).map_err(|e| {
        failed(format!(
            "impossible de copier la sauvegarde {} vers {} : {e}",
            file.display(),
            staged.display()
        ))
    })?;
    let verified = async {
        owner_only(&staged)?;
        verify_sqlite(&staged, file).await
    }
    .await;
    if let Err(e) = verified {
        remove_sqlite_files(&staged);
        return Err(e);
    }
    // 2. The live database, whole in its main file (its WAL folded in), is
    //    kept under a second name until the new one has opened.
    let previous = beside(db, ".previous");
    remove_sqlite_files(&previous);
    let had_live = db.exists();
    if had_live {
        if let Err(e) = checkpoint(db).await {
            remove_sqlite_files(&staged);
            return Err(failed(format!(
                "la base actuelle {} ne peut pas être mise de côté ({e}) : rien n'a été changé",
                db.display()
            )));
        }
        if let Err(e) =
            std::fs::hard_link(db, &previous).or_else(|_| std::fs::copy(db, &previous).map(|_| ()))
        {
            remove_sqlite_files(&staged);
            return Err(failed(format!(
                "impossible de garder la base actuelle sous {} ({e}) : rien n'a été changé",
                previous.display()
            )));
        }
    }
    // 3. The atomic switch: at every instant the database file is either
    //    the old one or the new one.
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(beside(db, side));
    }
    if let Err(e) = std::fs::rename(&staged, db) {
        remove_sqlite_files(&staged);
        let _ = std::fs::remove_file(&previous);
        return Err(failed(format!(
            "impossible de remplacer {} ({e}) : la base actuelle est intacte",
            db.display()
        )));
    }
    // 4. The new database must open; otherwise the old one goes back.
    if let Err(e) = open_check(db).await {
        if had_live {
            for side in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(beside(db, side));
            }
            std::fs::rename(&previous, db).map_err(|e2| {
                failed(format!(
                    "la base restaurée ne s'ouvre pas ({e}) et l'ancienne n'a pas pu être remise ({e2}) : \
                     elle est conservée sous {}",
                    previous.display()
                ))
            })?;
        }
        return Err(failed(format!(
            "la base restaurée ne s'ouvre pas ({e}) : l'ancienne a été remise en place"
        )));
    }
    remove_sqlite_files(&previous);
    Ok(())
}

/// Removes an SQLite file and its journal files, if there.
fn remove_sqlite_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(beside(path, suffix));
    }
}

fn sqlite_options(path: &Path) -> sqlx::sqlite::SqliteConnectOptions {
    sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(10))
}

/// Checks a staged copy: a whole, consistent SQLite file holding a
/// Passerelle database whose migrations this binary knows.
async fn verify_sqlite(staged: &Path, shown: &Path) -> Result<()> {
    use sqlx::Connection;
    let damaged = |e: &dyn std::fmt::Display| {
        failed(format!(
            "la sauvegarde {} est endommagée ou incomplète ({e}) : rien n'a été changé",
            shown.display()
        ))
    };
    let mut conn = sqlx::SqliteConnection::connect_with(&sqlite_options(staged))
        .await
        .map_err(|e| damaged(&e))?;
    let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .map_err(|e| damaged(&e))?;
    if problems.iter().any(|p| p != "ok") {
        let first: Vec<&str> = problems.iter().take(3).map(String::as_str).collect();
        let _ = conn.close().await;
        return Err(damaged(&format!("integrity_check : {}", first.join(" ; "))));
    }
    let applied: Result<Vec<(i64, bool, Vec<u8>)>, _> =
        sqlx::query_as("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await;
    let _ = conn.close().await;
    let applied = applied.map_err(|_| {
        failed(format!(
            "{} n'est pas une sauvegarde de Passerelle (aucune version de schéma) : rien n'a été changé",
            shown.display()
        ))
    })?;
    let known = sqlx::migrate!("./migrations/sqlite");
    for (version, success, checksum) in &applied {
        if !success {
            return Err(failed(format!(
                "la sauvegarde {} a été faite pendant une migration inachevée ({version}) : rien n'a été changé",
                shown.display()
            )));
        }
        match known.iter().find(|m| m.version == *version) {
            None => {
                return Err(failed(format!(
                    "la sauvegarde {} vient d'une version plus récente de Passerelle (schéma {version} inconnu) : \
                     rien n'a été changé",
                    shown.display()
                )))
            }
            Some(m) if m.checksum.as_ref() != checksum.as_slice() => {
                return Err(failed(format!(
                    "la sauvegarde {} n'a pas le schéma de Passerelle (migration {version} différente) : \
                     rien n'a été changé",
                    shown.display()
                )))
            }
            Some(_) => {}
        }
    }
    if applied.is_empty() {
        return Err(failed(format!(
            "{} est une base vide, pas une sauvegarde de Passerelle : rien n'a été changé",
            shown.display()
        )));
    }
    Ok(())
}

/// Folds the WAL of the live database into its main file, so that the
/// file alone is the whole database.
async fn checkpoint(db: &Path) -> Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect_with(&sqlite_options(db)).await?;
    let result = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await;
    conn.close().await?;
    result?;
    Ok(())
}

/// Opens the restored database the way the server will, and reads it.
async fn open_check(db: &Path) -> Result<()> {
    let store = Store::connect(&format!("sqlite://{}", db.display())).await?;
    let checked = async {
        store.migrate().await?;
        store.ping().await
    }
    .await;
    store.close().await;
    checked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_leave_the_command_line() {
        assert_eq!(
            split_password("postgres://app:s3cr%40t@db.example:5432/passerelle?sslmode=require"),
            (
                "postgres://app@db.example:5432/passerelle?sslmode=require".to_owned(),
                Some("s3cr@t".to_owned())
            )
        );
        assert_eq!(
            split_password("postgres://postgres@127.0.0.1:5432/test"),
            ("postgres://postgres@127.0.0.1:5432/test".to_owned(), None)
        );
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(
            sqlite_path("sqlite://./d/p.db?mode=rwc"),
            Some(PathBuf::from("./d/p.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
    }
}
