//! `audit`: verifying the audit log and anchoring its head.

use std::process::ExitCode;

use app::Config;
use clap::Subcommand;

use super::{app_error, open_for_audit};

#[derive(Subcommand)]
pub(crate) enum AuditCommand {
    /// Check the audit log's chain and its signed head: exit 0 when they hold
    /// (printing the head to anchor), 1 naming the first broken entry.
    Verify {
        /// A head noted earlier with `passerelle audit head`: also check that
        /// its entry is still in the chain (no rollback below it).
        #[arg(long, value_name = "SEQ:MAC")]
        head: Option<app::audit::HeadAnchor>,
    },
    /// Print the audit log's signed head, SEQ:MAC, to keep outside the
    /// database (a log, a ticket, an e-mail) for `audit verify --head`.
    Head,
}

/// `audit verify` and `audit head`.
pub(crate) async fn run(config: Config, c: AuditCommand) -> anyhow::Result<ExitCode> {
    match c {
        AuditCommand::Verify { head } => verify(config, head).await,
        AuditCommand::Head => head(config).await,
    }
}

async fn verify(config: Config, head: Option<app::audit::HeadAnchor>) -> anyhow::Result<ExitCode> {
    let app = open_for_audit(config).await?;
    let v = app
        .verify_audit_with(head.as_ref())
        .await
        .map_err(app_error)?;
    match v.broken {
        None => {
            println!(
                "Journal d'audit intègre : {} entrées vérifiées (clé {}).",
                v.entries,
                app.config.audit_key.fingerprint()
            );
            if let Some(h) = &head {
                println!("La tête ancrée n° {} est toujours dans la chaîne.", h.seq);
            }
            if let Some(h) = &v.head {
                println!("Tête signée : {h}");
            }
        }
        Some((seq, why)) => {
            eprintln!(
                "Journal d'audit altéré : entrée n° {seq} — {why} ({} entrées intègres avant elle).",
                v.entries
            );
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn head(config: Config) -> anyhow::Result<ExitCode> {
    let app = open_for_audit(config).await?;
    match app.audit_head().await.map_err(app_error)? {
        Ok(h) => {
            println!("{h}");
            eprintln!(
                "Tête du journal d'audit (entrée n° {}, clé {}) : à garder hors de la base ; \
                 `passerelle audit verify --head {h}` vérifiera qu'elle est toujours dans la chaîne.",
                h.seq,
                app.config.audit_key.fingerprint()
            );
        }
        Err(why) => {
            eprintln!(
                "Tête du journal d'audit inutilisable : {why}. Lancez `passerelle audit verify`."
            );
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}
