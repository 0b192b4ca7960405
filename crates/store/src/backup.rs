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
pub async fn restore(url: &str, file: &Path) -> Result<()> {
    let bytes_head = {
        use std::io::Read;
        let mut head = [0u8; 16];
        let mut f = std::fs::File::open(file)?;
        let n = f.read(&mut head)?;
        head[..n].to_vec()
    };
    if let Some(db) = sqlite_path(url) {
        if bytes_head != SQLITE_MAGIC {
            return Err(failed(format!(
                "{} n'est pas une sauvegarde SQLite de Passerelle",
                file.display()
            )));
        }
        // Copy beside the database, then rename over it: the database is
        // never half-written.
        let staged = db.with_extension("db.restoring");
        std::fs::copy(file, &staged)?;
        owner_only(&staged)?;
        for suffix in ["-wal", "-shm"] {
            let side = PathBuf::from(format!("{}{suffix}", db.display()));
            if side.exists() {
                std::fs::remove_file(side)?;
            }
        }
        std::fs::rename(&staged, &db)?;
        return Ok(());
    }
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(StoreError::UnknownScheme(crate::redact(url)));
    }
    if !bytes_head.starts_with(b"PGDMP") {
        return Err(failed(format!(
            "{} n'est pas une sauvegarde PostgreSQL (format pg_dump custom)",
            file.display()
        )));
    }
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
    tokio::task::spawn_blocking(move || run(cmd, "pg_restore"))
        .await
        .map_err(|e| failed(e.to_string()))?
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
