//! API tokens: created by their owner (or the operator), listed, revoked,
//! and resolved to the actor a request acts as.

use domain::accounts::normalize_email;
use domain::network::FieldError;

use super::{random_secret, secret_hash, text, TOKEN_PREFIX};
use crate::audit::Event;
use crate::policy::{authorize, Action, Actor, Resource};
use crate::{App, AppError};

impl App {
    /// Creates an API token for the actor's own account, limited to that
    /// person's rights and, unless `write`, to reading. The token is
    /// returned once; only its hash is kept.
    pub async fn create_token(
        &self,
        actor: &Actor,
        name: &str,
        write: bool,
    ) -> Result<(i64, String), AppError> {
        let user_id = actor.user_id().ok_or(AppError::Unauthorized)?;
        authorize(actor, Action::Write, Resource::Account(user_id))?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(AppError::Invalid(vec![FieldError::new(
                "nom",
                "donnez un nom au jeton (80 caractères au plus), pour le reconnaître",
            )]));
        }
        domain::network::check_text_field("nom", name).map_err(|e| AppError::Invalid(vec![e]))?;
        let token = format!("{TOKEN_PREFIX}{}", random_secret(32));
        let id = self
            .store
            .create_token(user_id, name, &secret_hash(&token), write, &self.now_text())
            .await?;
        tracing::info!(user_id, token_id = id, write, "API token created");
        let mut event = Event::new("token.create").detail(serde_json::json!({ "write": write }));
        event.entity = Some("api_token".into());
        event.entity_id = Some(id.to_string());
        self.audit(actor, event).await?;
        Ok((id, token))
    }

    /// Creates a token for the account with this e-mail (command line).
    pub async fn create_token_for(
        &self,
        email: &str,
        name: &str,
        write: bool,
    ) -> Result<String, AppError> {
        let email = normalize_email(email).map_err(|e| AppError::Invalid(vec![e]))?;
        let user = self
            .store
            .user_by_email(&email)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("compte {email}")))?;
        let actor = self
            .actor_of(user.id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("compte {email}")))?;
        Ok(self.create_token(&actor, name, write).await?.1)
    }

    /// The tokens of the actor's own account.
    pub async fn my_tokens(&self, actor: &Actor) -> Result<Vec<store::TokenRow>, AppError> {
        let user_id = actor.user_id().ok_or(AppError::Unauthorized)?;
        authorize(actor, Action::ReadPrivate, Resource::Account(user_id))?;
        Ok(self.store.tokens(user_id).await?)
    }

    /// Revokes one of the actor's own tokens.
    pub async fn revoke_my_token(&self, actor: &Actor, id: i64) -> Result<bool, AppError> {
        let user_id = actor.user_id().ok_or(AppError::Unauthorized)?;
        authorize(actor, Action::Write, Resource::Account(user_id))?;
        let done = self
            .store
            .revoke_token(user_id, id, &self.now_text())
            .await?;
        if done {
            tracing::info!(user_id, token_id = id, "API token revoked");
            let mut event = Event::new("token.revoke");
            event.entity = Some("api_token".into());
            event.entity_id = Some(id.to_string());
            self.audit(actor, event).await?;
        }
        Ok(done)
    }

    /// The actor behind a bearer token; `None` for an unknown, revoked or
    /// malformed token or a disabled account.
    pub async fn token_actor(&self, token: &str) -> Result<Option<Actor>, AppError> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 100 {
            return Ok(None);
        }
        let Some(row) = self.store.token_by_hash(&secret_hash(token)).await? else {
            return Ok(None);
        };
        let Some(mut actor) = self.actor_of(row.user_id).await? else {
            return Ok(None);
        };
        actor.read_only = !row.can_write;
        let now = self.now();
        let stale = row
            .last_used_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .is_none_or(|t| now - t.to_utc() >= chrono::Duration::seconds(60));
        if stale {
            self.store.touch_token(row.id, &text(now)).await?;
        }
        Ok(Some(actor))
    }
}
