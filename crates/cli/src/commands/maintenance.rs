//! `migrate`, `reindex`, `backup`, `restore`, `purge`: the database and the
//! search index as a whole.

use std::path::Path;

use anyhow::Context;
use app::Config;

use super::{app_error, open};

/// Applies the migrations.
pub(crate) async fn migrate(config: Config) -> anyhow::Result<()> {
    app::maintenance::migrate(&config.database_url).await?;
    println!("Migrations appliquées.");
    Ok(())
}

/// Rebuilds this server's search index from the database.
pub(crate) async fn reindex(config: Config) -> anyhow::Result<()> {
    let app = open(config).await?;
    let n = app.rebuild_index().await?;
    println!("Index de recherche reconstruit : {n} documents.");
    Ok(())
}

/// Writes a consistent copy of the database, and audits it.
pub(crate) async fn backup(config: Config, file: &Path) -> anyhow::Result<()> {
    app::maintenance::backup(&config.database_url, file)
        .await
        .with_context(|| format!("sauvegarde vers {}", file.display()))?;
    let app = open(config).await?;
    app.audit(&app::Actor::operator(), app::audit::Event::new("backup"))
        .await
        .map_err(app_error)?;
    println!(
        "Sauvegarde écrite : {} (données personnelles : à protéger).",
        file.display()
    );
    Ok(())
}

/// Replaces the database by a backup, and audits it.
pub(crate) async fn restore(config: Config, file: &Path) -> anyhow::Result<()> {
    app::maintenance::restore(&config.database_url, file)
        .await
        .with_context(|| format!("restauration depuis {}", file.display()))?;
    let app = open(config).await?;
    app.audit(&app::Actor::operator(), app::audit::Event::new("restore"))
        .await
        .map_err(app_error)?;
    println!(
        "Base restaurée depuis {}. Avec PostgreSQL, lancez `passerelle reindex` sur chaque serveur.",
        file.display()
    );
    Ok(())
}

/// Applies the retention periods now.
pub(crate) async fn purge(config: Config) -> anyhow::Result<()> {
    let app = open(config).await?;
    match app.purge().await.map_err(app_error)? {
        Some(r) => println!(
            "Purge faite : {} entrées du journal anonymisées, {} sessions expirées supprimées, \
             {} compteurs de tentatives supprimés, {} comptes d'apprenants inactifs effacés.",
            r.audit_entries_cleared, r.sessions_removed, r.throttle_removed, r.learners_erased
        ),
        None => println!("Une purge est déjà en cours sur un autre serveur : rien à faire."),
    }
    Ok(())
}
