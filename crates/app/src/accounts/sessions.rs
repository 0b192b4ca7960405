//! Signing in and out: throttled password checks, the second factor,
//! browser sessions and the person's list of them.

use std::sync::Arc;

use domain::accounts::normalize_email;
use domain::network::FieldError;

use super::passwords::verify_password;
use super::{
    ip_prefix, random_secret, secret_hash, text, ClientInfo, CurrentSession, SignedIn, Stage,
};
use crate::audit::Event;
use crate::policy::{authorize, Action, Actor, Principal, Resource};
use crate::{App, AppError};

impl App {
    /// Signs a person in with e-mail and password, and opens a new session
    /// (a new identifier every time: a session fixed before sign-in is never
    /// reused). Failures say nothing of which part was wrong.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<SignedIn, AppError> {
        let refused = || {
            AppError::Invalid(vec![FieldError::new(
                "email",
                "adresse e-mail ou mot de passe incorrect",
            )])
        };
        let email = normalize_email(email).map_err(|_| refused())?;
        let now = self.now();
        let window_from = text(now - self.config.throttle.window);
        let account_key = format!("account:{email}");
        let address_key = client.ip.map(|ip| format!("ip:{}", ip_prefix(ip)));
        let too_many = self
            .store
            .throttle_failures(&account_key, &window_from)
            .await?
            >= self.config.throttle.per_account
            || match &address_key {
                Some(k) => {
                    self.store.throttle_failures(k, &window_from).await?
                        >= self.config.throttle.per_address
                }
                None => false,
            };
        if too_many {
            tracing::warn!("sign-in throttled");
            return Err(AppError::TooManyRequests);
        }
        let user = self.store.user_by_email(&email).await?;
        // Same work whether or not the account exists.
        let hash = match &user {
            Some(u) => u.password_hash.clone(),
            None => self.dummy_hash().await?,
        };
        let ok = verify_password(hash, password.to_owned()).await? && password.len() <= 1024;
        let user = match user {
            Some(u) if ok && !u.disabled => u,
            _ => {
                let now_text = text(now);
                self.store
                    .record_failure(&account_key, &now_text, &window_from)
                    .await?;
                if let Some(k) = &address_key {
                    self.store
                        .record_failure(k, &now_text, &window_from)
                        .await?;
                }
                tracing::info!("failed sign-in");
                // Who tried is personal data (erasable); the account, if any, is kept.
                let attempted = Actor {
                    principal: Some(Arc::new(Principal {
                        user_id: user.as_ref().map_or(0, |u| u.id),
                        email: email.clone(),
                        display_name: String::new(),
                        grants: Vec::new(),
                    })),
                    read_only: true,
                    origin: client.ip.map(ip_prefix),
                };
                self.audit(&attempted, Event::new("sign_in.failed")).await?;
                return Err(refused());
            }
        };
        self.store.clear_failures(&account_key).await?;
        let actor = self.actor_of(user.id).await?.ok_or_else(refused)?;
        let needs_second_factor = self.config.require_totp
            && actor
                .principal
                .iter()
                .flat_map(|p| p.grants.iter())
                .any(|g| g.role.requires_second_factor());
        let stage = if user.totp_enabled {
            Stage::Totp
        } else if needs_second_factor {
            if user.totp_secret.is_none() {
                self.store
                    .set_totp(user.id, Some(&crate::totp::new_secret()), false)
                    .await?;
            }
            Stage::Enrol
        } else {
            Stage::Ok
        };
        let signed_in = self.open_session(&actor, user.id, stage, client).await?;
        tracing::info!(user_id = user.id, stage = stage.code(), "signed in");
        let mut audited = actor;
        audited.origin = client.ip.map(ip_prefix);
        let action = if stage == Stage::Ok {
            "sign_in"
        } else {
            "sign_in.password"
        };
        self.audit(&audited, Event::new(action)).await?;
        Ok(signed_in)
    }

    /// Opens a session with a fresh identifier and CSRF token.
    async fn open_session(
        &self,
        actor: &Actor,
        user_id: i64,
        stage: Stage,
        client: &ClientInfo,
    ) -> Result<SignedIn, AppError> {
        let cookie = random_secret(32);
        let csrf = random_secret(32);
        let prefix = client.ip.map(ip_prefix);
        self.store
            .create_session(
                &secret_hash(&cookie),
                user_id,
                &csrf,
                stage.code(),
                &self.now_text(),
                prefix.as_deref(),
                client.user_agent.as_deref(),
            )
            .await?;
        Ok(SignedIn {
            cookie,
            csrf,
            actor: actor.clone(),
            stage,
        })
    }

    /// What the second-factor page shows: the address, and while enrolling
    /// the secret and its `otpauth://` address.
    pub async fn second_factor_setup(
        &self,
        session: &CurrentSession,
    ) -> Result<(String, Option<(String, String)>), AppError> {
        let user = self
            .store
            .user(session.user_id)
            .await?
            .ok_or(AppError::Unauthorized)?;
        let setup = match (session.stage, &user.totp_secret) {
            (Stage::Enrol, Some(secret)) => Some((
                secret.clone(),
                crate::totp::otpauth_url(secret, &user.email),
            )),
            _ => None,
        };
        Ok((user.email, setup))
    }

    /// Checks the TOTP code of a session awaiting it (enrolling confirms the
    /// secret), then replaces the session by a signed-in one with a new
    /// identifier. A wrong code counts as a failed sign-in.
    pub async fn complete_second_factor(
        &self,
        session: &CurrentSession,
        code: &str,
        client: &ClientInfo,
    ) -> Result<SignedIn, AppError> {
        if session.stage == Stage::Ok {
            return Err(AppError::Forbidden);
        }
        let user = self
            .store
            .user(session.user_id)
            .await?
            .ok_or(AppError::Unauthorized)?;
        let refused = || {
            AppError::Invalid(vec![FieldError::new(
                "code",
                "code incorrect ou déjà utilisé : saisissez le code à 6 chiffres affiché par votre application",
            )])
        };
        let now = self.now();
        let window_from = text(now - self.config.throttle.window);
        let account_key = format!("account:{}", user.email);
        if self
            .store
            .throttle_failures(&account_key, &window_from)
            .await?
            >= self.config.throttle.per_account
        {
            return Err(AppError::TooManyRequests);
        }
        let unix = u64::try_from(now.timestamp()).unwrap_or(0);
        let step = user
            .totp_secret
            .as_deref()
            .and_then(|secret| crate::totp::matching_step(secret, code, unix));
        let accepted = match step {
            Some(step) => self.store.use_totp_step(user.id, step).await?,
            None => false,
        };
        let actor = self
            .actor_of(user.id)
            .await?
            .ok_or(AppError::Unauthorized)?;
        let mut audited = actor.clone();
        audited.origin = client.ip.map(ip_prefix);
        if !accepted {
            self.store
                .record_failure(&account_key, &text(now), &window_from)
                .await?;
            self.audit(
                &audited,
                Event::new("sign_in.failed").detail(serde_json::json!({ "second_factor": true })),
            )
            .await?;
            return Err(refused());
        }
        if session.stage == Stage::Enrol {
            self.store
                .set_totp(user.id, user.totp_secret.as_deref(), true)
                .await?;
            // set_totp forgets the last step: record this one again.
            if let Some(step) = step {
                self.store.use_totp_step(user.id, step).await?;
            }
            self.audit(&audited, Event::new("totp.enable")).await?;
        }
        self.store.delete_session(&session.id_hash, user.id).await?;
        self.store.clear_failures(&account_key).await?;
        let signed_in = self
            .open_session(&actor, user.id, Stage::Ok, client)
            .await?;
        self.audit(&audited, Event::new("sign_in")).await?;
        Ok(signed_in)
    }

    /// Starts an optional enrolment from the account page: a new secret,
    /// not yet confirmed. Returns the secret and its `otpauth://` address,
    /// or `None` when the second factor is already on.
    pub async fn start_totp(&self, actor: &Actor) -> Result<Option<(String, String)>, AppError> {
        let user = self.own_account(actor, Action::Write).await?;
        let user_id = user.id;
        if user.totp_enabled {
            return Ok(None);
        }
        let secret = match user.totp_secret {
            Some(s) => s,
            None => {
                let s = crate::totp::new_secret();
                self.store.set_totp(user_id, Some(&s), false).await?;
                s
            }
        };
        let url = crate::totp::otpauth_url(&secret, &user.email);
        Ok(Some((secret, url)))
    }

    /// Confirms an optional enrolment with a first code.
    pub async fn confirm_totp(&self, actor: &Actor, code: &str) -> Result<(), AppError> {
        let user = self.own_account(actor, Action::Write).await?;
        let user_id = user.id;
        let unix = u64::try_from(self.now().timestamp()).unwrap_or(0);
        let step = user
            .totp_secret
            .as_deref()
            .and_then(|secret| crate::totp::matching_step(secret, code, unix))
            .ok_or_else(|| {
                AppError::Invalid(vec![FieldError::new(
                    "code",
                    "code incorrect : saisissez le code à 6 chiffres affiché par votre application",
                )])
            })?;
        self.store
            .set_totp(user_id, user.totp_secret.as_deref(), true)
            .await?;
        self.store.use_totp_step(user_id, step).await?;
        self.audit(actor, Event::new("totp.enable")).await?;
        Ok(())
    }

    /// Whether the actor's account has the second factor on.
    pub async fn totp_enabled(&self, actor: &Actor) -> Result<bool, AppError> {
        let user_id = actor.user_id().ok_or(AppError::Unauthorized)?;
        Ok(self
            .store
            .user(user_id)
            .await?
            .is_some_and(|u| u.totp_enabled))
    }

    /// The live session of a cookie, if any: unknown, idle or too old
    /// sessions are ended and give `None`, as do disabled accounts.
    pub async fn session(&self, cookie: &str) -> Result<Option<CurrentSession>, AppError> {
        if cookie.is_empty() || cookie.len() > 100 {
            return Ok(None);
        }
        let id_hash = secret_hash(cookie);
        let Some(row) = self.store.session(&id_hash).await? else {
            return Ok(None);
        };
        let now = self.now();
        let parse = |t: &str| {
            chrono::DateTime::parse_from_rfc3339(t)
                .ok()
                .map(|t| t.to_utc())
        };
        let expired = match (parse(&row.created_at), parse(&row.last_seen_at)) {
            (Some(created), Some(seen)) => {
                now - seen > self.config.sessions.idle
                    || now - created > self.config.sessions.absolute
            }
            _ => true,
        };
        if expired {
            self.store.delete_session(&id_hash, row.user_id).await?;
            return Ok(None);
        }
        let Some(actor) = self.actor_of(row.user_id).await? else {
            self.store.delete_session(&id_hash, row.user_id).await?;
            return Ok(None);
        };
        let stage = Stage::parse(&row.stage);
        // A session awaiting its second factor grants no right at all.
        let actor = if stage == Stage::Ok {
            actor
        } else {
            Actor::visitor()
        };
        // One write a minute at most per session keeps reads cheap.
        if parse(&row.last_seen_at).is_some_and(|seen| now - seen >= chrono::Duration::seconds(60))
        {
            self.store.touch_session(&id_hash, &text(now)).await?;
        }
        Ok(Some(CurrentSession {
            actor,
            user_id: row.user_id,
            stage,
            csrf: row.csrf_token,
            id_hash,
        }))
    }

    /// Ends the session of a cookie.
    pub async fn sign_out(&self, session: &CurrentSession) -> Result<(), AppError> {
        let user_id = session.user_id;
        self.store.delete_session(&session.id_hash, user_id).await?;
        tracing::info!(user_id, "signed out");
        self.audit(&session.actor, Event::new("sign_out")).await?;
        Ok(())
    }

    /// The sessions of the actor's own account.
    pub async fn my_sessions(&self, actor: &Actor) -> Result<Vec<store::AuthSessionRow>, AppError> {
        let user_id = actor.user_id().ok_or(AppError::Unauthorized)?;
        authorize(actor, Action::ReadPrivate, Resource::Account(user_id))?;
        Ok(self.store.user_sessions(user_id).await?)
    }

    /// Ends one of the actor's own sessions, named by its hash.
    pub async fn end_my_session(&self, actor: &Actor, id_hash: &str) -> Result<bool, AppError> {
        let user_id = actor.user_id().ok_or(AppError::Unauthorized)?;
        authorize(actor, Action::Write, Resource::Account(user_id))?;
        Ok(self.store.delete_session(id_hash, user_id).await?)
    }
}
