//! Accounts, sign-in, sessions and API tokens.
//!
//! - Passwords are hashed with Argon2id off the async runtime
//!   (`spawn_blocking`); a sign-in for an unknown address still verifies a
//!   dummy hash, so that timing does not tell which addresses have accounts.
//! - Session identifiers and API tokens are 256-bit random values from the
//!   operating system; only their SHA-256 is stored, so a copy of the
//!   database does not let anyone in.
//! - Failed sign-ins are counted in the database per account and per
//!   address prefix, so that the limits hold across servers.
//!
//! Layout: creating accounts and reading one's own here; `passwords`,
//! `sessions` (sign-in, second factor, sign-out) and `tokens` (API tokens).

mod passwords;
mod sessions;
mod tokens;

pub use passwords::generate_password;
use passwords::hash_password;

use std::net::IpAddr;

use std::collections::HashSet;
use std::sync::Arc;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use domain::accounts::{check_password, normalize_email, Role};
use domain::network::FieldError;
use sha2::{Digest, Sha256};
use store::GrantInput;

use crate::audit::Event;
use crate::policy::{authorize, Action, Actor, Grant, Principal, Resource};
use crate::{App, AppError};

/// Name of the session cookie. The `__Host-` prefix makes browsers refuse
/// it unless it is `Secure`, has `Path=/` and no `Domain`: no subdomain and
/// no plain-HTTP page can plant or read it.
pub const SESSION_COOKIE: &str = "__Host-passerelle";

/// Prefix of API tokens, so that a leaked one is recognisable (secret
/// scanners) and never confused with a session identifier.
pub const TOKEN_PREFIX: &str = "psl_";

/// What a successful sign-in gives the browser.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Value of the session cookie (the only copy of the identifier).
    pub cookie: String,
    /// The session's CSRF token, for forms.
    pub csrf: String,
    /// Who signed in.
    pub actor: Actor,
    /// Whether the second factor is still awaited.
    pub stage: Stage,
}

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Signed in.
    Ok,
    /// Password checked; the TOTP code is awaited.
    Totp,
    /// Password checked; the role requires a second factor the account does
    /// not have yet: it must enrol now.
    Enrol,
}

impl Stage {
    fn code(self) -> &'static str {
        match self {
            Stage::Ok => "ok",
            Stage::Totp => "totp",
            Stage::Enrol => "enrol",
        }
    }

    fn parse(code: &str) -> Stage {
        match code {
            "ok" => Stage::Ok,
            "totp" => Stage::Totp,
            // Unknown stages grant nothing.
            _ => Stage::Enrol,
        }
    }
}

/// A live session found from its cookie.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    /// The person and their rights; a visitor while the second factor is
    /// awaited.
    pub actor: Actor,
    /// The account, even while the second factor is awaited.
    pub user_id: i64,
    /// Where the session stands.
    pub stage: Stage,
    /// The session's CSRF token, checked on every state-changing request.
    pub csrf: String,
    /// SHA-256 of the identifier, which names the session in lists.
    pub id_hash: String,
}

/// Where a request comes from, for throttling and the session list.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// The peer address, if known.
    pub ip: Option<IpAddr>,
    /// The `User-Agent` header, shortened.
    pub user_agent: Option<String>,
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// E-mail address, as typed.
    pub email: String,
    /// Name shown in the interface.
    pub display_name: String,
    /// `None` generates a password, returned once.
    pub password: Option<String>,
    /// Roles to grant.
    pub grants: Vec<Grant>,
}

/// Random bytes from the operating system, base64url without padding.
pub fn random_secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 of a secret, in hexadecimal: how sessions and tokens are stored.
pub fn secret_hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The address prefix a client is counted and shown under: IPv4 /24, IPv6
/// /48. The full address is personal data that nothing here needs.
pub fn ip_prefix(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => ip_prefix(IpAddr::V4(v4)),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
            }
        },
    }
}

fn grants_of(rows: &[store::GrantRow]) -> Vec<Grant> {
    rows.iter()
        .filter_map(|g| {
            Some(Grant {
                role: Role::parse(&g.role)?,
                campus_id: g.campus_id,
                member_id: g.member_id,
            })
        })
        .collect()
}

pub(super) fn text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl App {
    /// The current time, from the configured clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.config.clock.now()
    }

    fn now_text(&self) -> String {
        text(self.now())
    }

    /// The list of common passwords, for other use cases of this crate.
    pub(crate) fn common_password_list(&self) -> Result<Arc<HashSet<String>>, AppError> {
        self.common_passwords()
    }

    /// Creates an account; returns its id and the generated password when
    /// none was given. Only a network admin, or a campus manager for roles
    /// on their own campus, may create accounts.
    pub async fn create_account(
        &self,
        actor: &Actor,
        account: &NewAccount,
    ) -> Result<(i64, Option<String>), AppError> {
        for g in &account.grants {
            let resource = match g.campus_id {
                Some(c) => Resource::Campus(c),
                None => Resource::Network,
            };
            authorize(actor, Action::Manage, resource)?;
        }
        if account.grants.is_empty() {
            authorize(actor, Action::Manage, Resource::Network)?;
        }
        let mut errors = Vec::new();
        let email = normalize_email(&account.email)
            .map_err(|e| errors.push(e))
            .ok();
        let display_name = account.display_name.trim();
        if display_name.is_empty() || display_name.chars().count() > 120 {
            errors.push(FieldError::new(
                "nom",
                "le nom affiché est obligatoire (120 caractères au plus)",
            ));
        }
        if let Err(e) = domain::network::check_text_field("nom", display_name) {
            errors.push(e);
        }
        let (password, generated) = match &account.password {
            Some(p) => (p.clone(), None),
            None => {
                let p = generate_password();
                (p.clone(), Some(p))
            }
        };
        if let Err(e) = check_password(
            &password,
            email.as_deref().unwrap_or(""),
            &*self.common_passwords()?,
        ) {
            errors.push(e);
        }
        for g in &account.grants {
            if g.role.needs_campus() != g.campus_id.is_some()
                || g.role.needs_member() != g.member_id.is_some()
            {
                errors.push(FieldError::new(
                    "role",
                    format!(
                        "le rôle {} demande {}",
                        g.role.label(),
                        if g.role.needs_member() {
                            "un campus et un membre"
                        } else if g.role.needs_campus() {
                            "un campus"
                        } else {
                            "aucun campus"
                        }
                    ),
                ));
            }
            if let (Some(c), Some(m)) = (g.campus_id, g.member_id) {
                if self.store.member_in_campus(m, c).await.is_err() {
                    errors.push(FieldError::new(
                        "membre",
                        format!("le membre {m} n'appartient pas à ce campus"),
                    ));
                }
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let email = email.expect("validated");
        let hash = hash_password(self.config.password_cost, password).await?;
        let grants: Vec<GrantInput> = account
            .grants
            .iter()
            .map(|g| GrantInput {
                role: g.role,
                campus_id: g.campus_id,
                member_id: g.member_id,
            })
            .collect();
        let id = self
            .store
            .create_user(&email, display_name, &hash, &grants, &self.now_text())
            .await
            .map_err(crate::accounts::email_taken)?;
        tracing::info!(user_id = id, "account created");
        for g in &account.grants {
            let mut event = Event::new("account.create")
                .detail(serde_json::json!({ "role": g.role.as_str(), "member_id": g.member_id }));
            event.campus_id = g.campus_id;
            event.entity = Some("user".into());
            event.entity_id = Some(id.to_string());
            self.audit(actor, event).await?;
        }
        if account.grants.is_empty() {
            let mut event = Event::new("account.create");
            event.entity = Some("user".into());
            event.entity_id = Some(id.to_string());
            self.audit(actor, event).await?;
        }
        Ok((id, generated))
    }

    /// Builds the actor of an account from its current grants; `None` when
    /// the account is missing or disabled.
    async fn actor_of(&self, user_id: i64) -> Result<Option<Actor>, AppError> {
        let Some(user) = self.store.user(user_id).await? else {
            return Ok(None);
        };
        if user.disabled {
            return Ok(None);
        }
        let grants = grants_of(&self.store.grants(user_id).await?);
        Ok(Some(Actor::person(Principal {
            user_id,
            email: user.email,
            display_name: user.display_name,
            grants,
        })))
    }

    /// The actor's own account, after the policy allowed `action` on it.
    pub(crate) async fn own_account(
        &self,
        actor: &Actor,
        action: Action,
    ) -> Result<store::UserRow, AppError> {
        let user_id = actor.user_id().ok_or(AppError::Unauthorized)?;
        authorize(actor, action, Resource::Account(user_id))?;
        self.store
            .user(user_id)
            .await?
            .ok_or(AppError::Unauthorized)
    }
}

/// A new account's insert refused by the unique address: said on the
/// address field, as every other problem of the form.
pub(crate) fn email_taken(e: store::StoreError) -> AppError {
    match e {
        store::StoreError::Conflict(_) => AppError::Invalid(vec![FieldError::new(
            "email",
            "un compte existe déjà avec cette adresse",
        )]),
        e => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_url_safe() {
        let a = random_secret(32);
        let b = random_secret(32);
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "32 bytes in base64url without padding");
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(secret_hash("x").len(), 64);
        assert_eq!(
            secret_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn generated_passwords_pass_the_policy() {
        let p = generate_password();
        assert_eq!(p.chars().count(), 20);
        assert!(check_password(&p, "", &HashSet::new()).is_ok());
        assert_ne!(p, generate_password());
    }

    #[test]
    fn addresses_are_truncated() {
        assert_eq!(ip_prefix("203.0.113.77".parse().unwrap()), "203.0.113.0/24");
        assert_eq!(
            ip_prefix("2001:db8:abcd:12::1".parse().unwrap()),
            "2001:db8:abcd::/48"
        );
        assert_eq!(
            ip_prefix("::ffff:192.0.2.9".parse().unwrap()),
            "192.0.2.0/24"
        );
    }
}
