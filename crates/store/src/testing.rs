//! Helpers for tests that run on both backends: a fresh SQLite file, and a
//! fresh schema in the PostgreSQL test database when it answers. A missing
//! PostgreSQL skips with a visible message on a developer's machine and
//! fails when `CI=true`.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::{on_pool, Backend, Result, Store};

/// Base URL of the PostgreSQL test database.
pub fn pg_base_url() -> String {
    std::env::var("PASSERELLE_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn unique(name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    // Test schema names carry their creation time.
    #[allow(clippy::disallowed_methods)]
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    // The creation time comes first after the prefix so that old schemas can
    // be recognised and dropped by later runs.
    format!(
        "t{secs}_{}_{}_{clean}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A URL to a new, empty SQLite database in the temp directory.
pub fn sqlite_url(name: &str) -> String {
    let dir = std::env::temp_dir().join("passerelle-tests");
    std::fs::create_dir_all(&dir).expect("temp dir");
    format!(
        "sqlite://{}",
        dir.join(format!("{}.db", unique(name))).display()
    )
}

/// A URL to a new, empty schema of the PostgreSQL test database, or `None`
/// (after saying so) when PostgreSQL does not answer outside CI.
pub async fn postgres_url(name: &str) -> Option<String> {
    use sqlx::Connection;
    let base = pg_base_url();
    let conn = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        sqlx::PgConnection::connect(&base),
    )
    .await;
    let mut conn = match conn {
        Ok(Ok(c)) => c,
        other => {
            let why = match other {
                Ok(Err(e)) => e.to_string(),
                _ => "timeout".to_owned(),
            };
            let msg = format!("PostgreSQL unavailable at {} ({why})", crate::redact(&base));
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{msg}: required when CI=true");
            }
            eprintln!("SKIPPED on PostgreSQL: {msg}");
            return None;
        }
    };
    drop_stale_schemas(&mut conn).await;
    let schema = unique(name);
    // The schema name is made of [a-z0-9_] only, built above.
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await
        .expect("create test schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options=-c%20search_path%3D{schema}"))
}

/// Both backends' URLs for a test: SQLite always, PostgreSQL when available.
pub async fn backend_urls(name: &str) -> Vec<String> {
    let mut urls = vec![sqlite_url(name)];
    if let Some(pg) = postgres_url(name).await {
        urls.push(pg);
    }
    urls
}

/// Drops test schemas more than an hour old, so that repeated runs on one
/// machine do not pile up data.
async fn drop_stale_schemas(conn: &mut sqlx::PgConnection) {
    // Test schemas older than an hour are dropped.
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT nspname::text FROM pg_namespace WHERE nspname ~ '^t[0-9]+_[0-9]+_[0-9]+_[a-z0-9_]+$'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    for (name,) in names {
        let secs: u64 = name[1..]
            .split('_')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(u64::MAX);
        if secs.saturating_add(3600) < now {
            // The name matched the strict pattern above.
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .execute(&mut *conn)
                .await;
        }
    }
}

/// For tests only: runs one statement as the application would, so that
/// tests can check the append-only triggers refuse it.
pub async fn execute_as_application(store: &Store, sql: &str) -> Result<()> {
    on_pool!(store, |p| {
        sqlx::query(sql).execute(p).await?;
    });
    Ok(())
}

/// For tests of tamper detection only: runs one statement with the
/// append-only triggers of `audit_log` and `audit_head` out of the way, as an
/// attacker with database access could, then puts them back.
pub async fn tamper_audit(store: &Store, sql: &str) -> Result<()> {
    match store.backend() {
        Backend::Sqlite => on_pool!(store, |p| {
            let mut c = p.acquire().await?;
            let triggers: Vec<(String, String)> = sqlx::query_as(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' \
                 AND tbl_name IN ('audit_log', 'audit_head')",
            )
            .fetch_all(&mut *c)
            .await?;
            for (name, _) in &triggers {
                // Names read from the schema just above.
                sqlx::query(&format!("DROP TRIGGER \"{name}\""))
                    .execute(&mut *c)
                    .await?;
            }
            let done = sqlx::query(sql).execute(&mut *c).await;
            for (_, create) in &triggers {
                sqlx::query(create).execute(&mut *c).await?;
            }
            done?;
        }),
        Backend::Postgres => on_pool!(store, |p| {
            let mut c = p.acquire().await?;
            for table in ["audit_log", "audit_head"] {
                sqlx::query(&format!("ALTER TABLE {table} DISABLE TRIGGER USER"))
                    .execute(&mut *c)
                    .await?;
            }
            let done = sqlx::query(sql).execute(&mut *c).await;
            for table in ["audit_log", "audit_head"] {
                sqlx::query(&format!("ALTER TABLE {table} ENABLE TRIGGER USER"))
                    .execute(&mut *c)
                    .await?;
            }
            done?;
        }),
    }
    Ok(())
}

/// Tables and their columns as the migrations left them (SQLite's internal
/// tables and sqlx's bookkeeping left out), to compare the two backends.
pub async fn schema_columns(
    store: &Store,
) -> Result<std::collections::BTreeMap<String, std::collections::BTreeSet<String>>> {
    let rows: Vec<(String, String)> = match store.backend() {
        Backend::Sqlite => on_pool!(store, |p| {
            sqlx::query_as(
                "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
            )
            .fetch_all(p)
            .await?
        }),
        Backend::Postgres => on_pool!(store, |p| {
            sqlx::query_as(
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%'",
            )
            .fetch_all(p)
            .await?
        }),
    };
    let mut out: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    for (table, column) in rows {
        out.entry(table).or_default().insert(column);
    }
    Ok(out)
}
