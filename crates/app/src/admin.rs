//! Managing accounts: who holds which role, granting and removing roles,
//! disabling accounts. Campus managers manage the roles on their campus;
//! network admins manage everything, and alone disable accounts.

use domain::accounts::Role;
use domain::network::FieldError;
use store::GrantInput;

use crate::audit::Event;
use crate::policy::{authorize, Action, Actor, Resource};
use crate::{App, AppError};

/// An account with its roles, as the management pages list it.
#[derive(Debug, Clone)]
pub struct AccountLine {
    pub user: store::UserRow,
    pub grants: Vec<store::GrantRow>,
}

impl App {
    /// The accounts holding a role on campus `slug`, or every account for
    /// `None` (network admins).
    pub async fn accounts(
        &self,
        actor: &Actor,
        slug: Option<&str>,
    ) -> Result<Vec<AccountLine>, AppError> {
        let campus_id = match slug {
            Some(s) => {
                let c = self.campus(s).await?;
                authorize(actor, Action::Manage, Resource::Campus(c.id))?;
                Some(c.id)
            }
            None => {
                authorize(actor, Action::Manage, Resource::Network)?;
                None
            }
        };
        let mut out = Vec::new();
        for user in self.store.users_of(campus_id).await? {
            let grants = self
                .store
                .grants(user.id)
                .await?
                .into_iter()
                .filter(|g| campus_id.is_none() || g.campus_id == campus_id)
                .collect();
            out.push(AccountLine { user, grants });
        }
        Ok(out)
    }

    /// Grants a role on a campus to the account with this e-mail. Managers
    /// grant roles on their own campus (not network admin).
    pub async fn grant_role(
        &self,
        actor: &Actor,
        slug: &str,
        email: &str,
        role: &str,
        member_id: Option<i64>,
    ) -> Result<(), AppError> {
        let campus = self.campus(slug).await?;
        authorize(actor, Action::Manage, Resource::Campus(campus.id))?;
        let mut errors = Vec::new();
        let role = Role::parse(role).filter(|r| r.needs_campus());
        if role.is_none() {
            errors.push(FieldError::new("role", "choisissez un rôle de campus"));
        }
        let user = match domain::accounts::normalize_email(email) {
            Ok(e) => self.store.user_by_email(&e).await?,
            Err(_) => None,
        };
        if user.is_none() {
            errors.push(FieldError::new(
                "email",
                "aucun compte n'utilise cette adresse : invitez la personne depuis la fiche du membre",
            ));
        }
        if role == Some(Role::MemberEditor) {
            match member_id {
                Some(m) if self.store.member_in_campus(m, campus.id).await.is_ok() => {}
                _ => errors.push(FieldError::new(
                    "membre",
                    "un rôle de rédaction porte sur un membre du campus",
                )),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let (user, role) = (user.expect("checked"), role.expect("checked"));
        let member_id = if role == Role::MemberEditor {
            member_id
        } else {
            None
        };
        let now = self
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut tx = self.store.begin().await?;
        tx.add_grant(
            user.id,
            &GrantInput {
                role,
                campus_id: Some(campus.id),
                member_id,
            },
            &now,
        )
        .await?;
        let mut event = Event::new("grant.add")
            .detail(serde_json::json!({ "role": role.as_str(), "member_id": member_id }));
        event.campus_id = Some(campus.id);
        event.entity = Some("user".into());
        event.entity_id = Some(user.id.to_string());
        self.audit_in(&mut tx, actor, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a role: managers of its campus, or network admins. Takes
    /// effect on the holder's next request.
    /// Returns the slug of the grant's campus (`None` for a network role),
    /// so that the page can go back to where the role was listed.
    pub async fn revoke_grant(
        &self,
        actor: &Actor,
        grant_id: i64,
    ) -> Result<Option<String>, AppError> {
        let grant = self
            .store
            .grant(grant_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("rôle {grant_id}")))?;
        let resource = match grant.campus_id {
            Some(c) => Resource::Campus(c),
            None => Resource::Network,
        };
        authorize(actor, Action::Manage, resource)?;
        if actor.user_id() == Some(grant.user_id)
            && Role::parse(&grant.role).is_some_and(|r| !r.needs_campus())
        {
            return Err(AppError::Invalid(vec![FieldError::new(
                "role",
                "vous ne pouvez pas retirer votre propre rôle d'administration du réseau",
            )]));
        }
        let mut tx = self.store.begin().await?;
        tx.delete_grant(grant_id).await?;
        let mut event = Event::new("grant.remove")
            .detail(serde_json::json!({ "role": grant.role, "member_id": grant.member_id }));
        event.campus_id = grant.campus_id;
        event.entity = Some("user".into());
        event.entity_id = Some(grant.user_id.to_string());
        self.audit_in(&mut tx, actor, event).await?;
        tx.commit().await?;
        Ok(grant.campus_slug)
    }

    /// Disables or re-enables an account (network admins); disabling ends
    /// its sessions at once and stops its tokens.
    pub async fn set_account_disabled(
        &self,
        actor: &Actor,
        user_id: i64,
        disabled: bool,
    ) -> Result<(), AppError> {
        authorize(actor, Action::Manage, Resource::Network)?;
        if actor.user_id() == Some(user_id) {
            return Err(AppError::Invalid(vec![FieldError::new(
                "compte",
                "vous ne pouvez pas désactiver votre propre compte",
            )]));
        }
        self.store
            .user(user_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("compte {user_id}")))?;
        self.store.set_user_disabled(user_id, disabled).await?;
        let mut event = Event::new(if disabled {
            "account.disable"
        } else {
            "account.enable"
        });
        event.entity = Some("user".into());
        event.entity_id = Some(user_id.to_string());
        self.audit(actor, event).await?;
        Ok(())
    }
}
