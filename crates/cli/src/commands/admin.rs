//! `admin`: accounts, API tokens and the mail outbox.

use anyhow::bail;
use app::Config;
use clap::Subcommand;

use super::{app_error, open};

#[derive(Subcommand)]
pub(crate) enum AdminCommand {
    /// Create an account and print its generated password (shown once).
    CreateUser {
        /// E-mail address, the sign-in identifier.
        #[arg(long)]
        email: String,
        /// network_admin, campus_manager, member_editor, observer or learner.
        #[arg(long)]
        role: String,
        /// Campus of the role (every role but network_admin).
        #[arg(long)]
        campus: Option<String>,
        /// Member organisation id (member_editor).
        #[arg(long)]
        member: Option<i64>,
        /// Name shown in the interface (default: the address).
        #[arg(long)]
        name: Option<String>,
    },
    /// Print the mail waiting in the outbox (reset links, invitations), newest first.
    Outbox {
        /// How many mails to show.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Send the mail waiting in the outbox now, through PASSERELLE_SMTP_URL (`serve` does it every 10 s).
    SendMail,
    /// Create an API token for an account and print it (shown once).
    CreateToken {
        /// E-mail address of the account.
        #[arg(long)]
        email: String,
        /// Allow writes (default: read-only).
        #[arg(long)]
        write: bool,
        /// Name of the token, to recognise it in the account page.
        #[arg(long, default_value = "ligne de commande")]
        name: String,
    },
}

pub(crate) async fn admin(config: Config, c: AdminCommand) -> anyhow::Result<()> {
    let app = open(config).await?;
    match c {
        AdminCommand::CreateUser {
            email,
            role,
            campus,
            member,
            name,
        } => {
            let Some(role) = domain::accounts::Role::from_name(&role) else {
                bail!("rôle inconnu « {role} » : network_admin, campus_manager, member_editor, observer ou learner");
            };
            let campus_id = match &campus {
                Some(slug) => Some(app.campus(slug).await?.id),
                None => None,
            };
            let account = app::accounts::NewAccount {
                display_name: name.unwrap_or_else(|| email.clone()),
                email,
                password: None,
                grants: vec![app::policy::Grant {
                    role,
                    campus_id,
                    member_id: member,
                }],
            };
            let (id, password) = app
                .create_account(&app::Actor::operator(), &account)
                .await
                .map_err(app_error)?;
            println!("Compte {id} créé. Mot de passe (affiché cette fois seulement) :");
            println!("{}", password.unwrap_or_default());
        }
        AdminCommand::Outbox { limit } => {
            for m in app
                .outbox(&app::Actor::operator(), limit)
                .await
                .map_err(app_error)?
            {
                println!(
                    "--- n° {} — {} — à : {} — {}\nObjet : {}\n\n{}",
                    m.id,
                    m.created_at,
                    m.to_address,
                    if m.sent_at.is_some() {
                        "envoyé"
                    } else {
                        "en attente"
                    },
                    m.subject,
                    m.body
                );
            }
        }
        AdminCommand::SendMail => {
            if app.config.smtp.is_none() {
                bail!("PASSERELLE_SMTP_URL n'est pas défini : le courrier reste dans la file d'attente");
            }
            let sent = app.send_outbox().await.map_err(app_error)?;
            println!("{sent} message(s) envoyé(s).");
        }
        AdminCommand::CreateToken { email, write, name } => {
            let token = app
                .create_token_for(&email, &name, write)
                .await
                .map_err(app_error)?;
            println!("{token}");
        }
    }
    Ok(())
}
