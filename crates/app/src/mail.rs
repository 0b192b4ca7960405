//! What goes by mail: password reset links, invitations of member editors,
//! and the join requests that lead to them. Mail is queued in the outbox
//! table in the same transaction as what it announces; with no SMTP server
//! configured it stays there (`passerelle admin outbox` shows it). Links
//! carry a random secret of which only the hash is stored; logs never show
//! them.

use chrono::Duration;
use domain::accounts::{check_password, normalize_email, Role};
use domain::network::{FieldError, MemberInput};
use store::{GrantInput, JoinRequestInput};

use crate::accounts::{ip_prefix, random_secret, secret_hash, ClientInfo};
use crate::audit::Event;
use crate::policy::{authorize, Action, Actor, Resource};
use crate::{App, AppError};

/// How long a reset link works.
const RESET_VALIDITY_MINUTES: i64 = 60;
/// How long an invitation works.
const INVITATION_VALIDITY_DAYS: i64 = 14;

/// What the invitation page shows before it is accepted.
#[derive(Debug, Clone)]
pub struct InvitationView {
    pub campus_name: String,
    pub member_name: String,
    pub email: String,
    /// Whether an account already uses the invited address (then the person
    /// signs in with it to accept).
    pub account_exists: bool,
}

impl App {
    fn stamp(&self, d: chrono::DateTime<chrono::Utc>) -> String {
        d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    /// Counts one attempt under `key` and refuses beyond `limit` per hour.
    async fn limit(&self, key: &str, limit: i64) -> Result<(), AppError> {
        let now = self.now();
        let from = self.stamp(now - Duration::hours(1));
        if self.store.throttle_failures(key, &from).await? >= limit {
            return Err(AppError::TooManyRequests);
        }
        self.store
            .record_failure(key, &self.stamp(now), &from)
            .await?;
        Ok(())
    }

    /// Sends a reset link to the address if an account uses it. The answer is
    /// the same either way, so that nobody learns who has an account.
    pub async fn request_password_reset(
        &self,
        email: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        if let Some(ip) = client.ip {
            self.limit(
                &format!("reset:ip:{}", ip_prefix(ip)),
                self.config.throttle.per_address,
            )
            .await?;
        }
        let Ok(email) = normalize_email(email) else {
            return Ok(());
        };
        self.limit(&format!("reset:account:{email}"), 3).await?;
        let Some(user) = self.store.user_by_email(&email).await? else {
            return Ok(());
        };
        if user.disabled {
            return Ok(());
        }
        let token = random_secret(32);
        let now = self.now();
        let link = format!("{}/reinitialisation?jeton={token}", self.config.public_url);
        let body = format!(
            "Bonjour,\n\nPour choisir un nouveau mot de passe Passerelle, ouvrez ce lien dans l'heure :\n{link}\n\n\
             Il ne sert qu'une fois. Si vous n'avez rien demandé, ignorez ce message : votre mot de passe ne change pas.\n"
        );
        let mut tx = self.store.begin().await?;
        tx.add_password_reset(
            &secret_hash(&token),
            user.id,
            &self.stamp(now),
            &self.stamp(now + Duration::minutes(RESET_VALIDITY_MINUTES)),
        )
        .await?;
        let mail = tx
            .queue_mail(
                &email,
                "Passerelle : nouveau mot de passe",
                &body,
                &self.stamp(now),
            )
            .await?;
        let mut actor = Actor::visitor();
        actor.origin = client.ip.map(ip_prefix);
        let mut event = Event::new("password.reset_requested");
        event.entity = Some("user".into());
        event.entity_id = Some(user.id.to_string());
        self.audit_in(&mut tx, &actor, event).await?;
        tx.commit().await?;
        tracing::info!(
            user_id = user.id,
            mail_id = mail,
            "password reset link queued in the outbox"
        );
        Ok(())
    }

    /// Sets a new password with a reset link, which then stops working; every
    /// session of the account ends.
    pub async fn reset_password(&self, token: &str, password: &str) -> Result<(), AppError> {
        check_password(password, "", &*self.common_password_list()?)
            .map_err(|e| AppError::Invalid(vec![e]))?;
        let mut tx = self.store.begin().await?;
        let user_id = tx
            .use_password_reset(&secret_hash(token), &self.stamp(self.now()))
            .await?
            .ok_or_else(|| {
                AppError::Invalid(vec![FieldError::new(
                    "jeton",
                    "ce lien a expiré ou a déjà servi : demandez-en un nouveau",
                )])
            })?;
        let mut event = Event::new("password.reset");
        event.entity = Some("user".into());
        event.entity_id = Some(user_id.to_string());
        self.audit_in(&mut tx, &Actor::visitor(), event).await?;
        tx.commit().await?;
        let hash = self.hash(password.to_owned()).await?;
        self.store
            .set_password_hash(user_id, &hash, &self.stamp(self.now()))
            .await?;
        Ok(())
    }

    /// Invites someone by e-mail to edit a member organisation (campus
    /// managers of its campus).
    pub async fn invite_editor(
        &self,
        actor: &Actor,
        member_id: i64,
        email: &str,
    ) -> Result<(), AppError> {
        let member = self
            .store
            .member(member_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("membre {member_id}")))?;
        authorize(actor, Action::Manage, Resource::Campus(member.campus_id))?;
        let email = normalize_email(email).map_err(|e| AppError::Invalid(vec![e]))?;
        let mut tx = self.store.begin().await?;
        self.queue_invitation(
            &mut tx,
            actor,
            member.campus_id,
            member_id,
            &member.name,
            &email,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn queue_invitation(
        &self,
        tx: &mut store::Tx,
        actor: &Actor,
        campus_id: i64,
        member_id: i64,
        member_name: &str,
        email: &str,
    ) -> Result<(), AppError> {
        let token = random_secret(32);
        let now = self.now();
        tx.add_invitation(
            &secret_hash(&token),
            campus_id,
            member_id,
            email,
            actor.user_id().filter(|id| *id > 0),
            &self.stamp(now),
            &self.stamp(now + Duration::days(INVITATION_VALIDITY_DAYS)),
        )
        .await?;
        let link = format!("{}/invitation?jeton={token}", self.config.public_url);
        let body = format!(
            "Bonjour,\n\nVous êtes invité·e à tenir à jour la fiche de « {member_name} » sur Passerelle, \
             le système d'information de votre campus des métiers et des qualifications.\n\
             Ouvrez ce lien (valable {INVITATION_VALIDITY_DAYS} jours) pour accepter :\n{link}\n"
        );
        tx.queue_mail(email, "Passerelle : invitation", &body, &self.stamp(now))
            .await?;
        self.audit_in(
            tx,
            actor,
            Event::new("invitation.create").on(campus_id, "member", member_id),
        )
        .await?;
        Ok(())
    }

    /// What an invitation link offers, without using it.
    pub async fn invitation(&self, token: &str) -> Result<InvitationView, AppError> {
        let expired = || AppError::NotFound("invitation expirée ou déjà acceptée".into());
        let inv = self
            .store
            .invitation(&secret_hash(token))
            .await?
            .ok_or_else(expired)?;
        if inv.accepted_at.is_some() || inv.expires_at <= self.stamp(self.now()) {
            return Err(expired());
        }
        let member = self
            .store
            .member(inv.member_id)
            .await?
            .ok_or_else(expired)?;
        let campus = self
            .store
            .campuses()
            .await?
            .into_iter()
            .find(|c| c.id == inv.campus_id)
            .ok_or_else(expired)?;
        Ok(InvitationView {
            campus_name: campus.name,
            member_name: member.name,
            account_exists: self.store.user_by_email(&inv.email).await?.is_some(),
            email: inv.email,
        })
    }

    /// Accepts an invitation: the signed-in person with the invited address
    /// gets the role, or a new account is created for it with `name` and
    /// `password`. Returns the account id.
    pub async fn accept_invitation(
        &self,
        token: &str,
        actor: &Actor,
        name: &str,
        password: &str,
    ) -> Result<i64, AppError> {
        let view = self.invitation(token).await?;
        let existing = self.store.user_by_email(&view.email).await?;
        match (&existing, actor.principal.as_ref()) {
            (Some(u), Some(p)) if p.user_id == u.id => {}
            (Some(_), _) => {
                return Err(AppError::Invalid(vec![FieldError::new(
                    "email",
                    format!(
                        "connectez-vous d'abord avec le compte {} pour accepter",
                        view.email
                    ),
                )]))
            }
            (None, _) => {
                let mut errors = Vec::new();
                if name.trim().is_empty() {
                    errors.push(FieldError::new("nom", "indiquez votre nom"));
                }
                if let Err(e) =
                    check_password(password, &view.email, &*self.common_password_list()?)
                {
                    errors.push(e);
                }
                if !errors.is_empty() {
                    return Err(AppError::Invalid(errors));
                }
            }
        }
        let hash = match existing {
            Some(_) => None,
            None => Some(self.hash(password.to_owned()).await?),
        };
        let now = self.stamp(self.now());
        let mut tx = self.store.begin().await?;
        let inv = tx
            .accept_invitation(&secret_hash(token), &now)
            .await?
            .ok_or_else(|| AppError::NotFound("invitation expirée ou déjà acceptée".into()))?;
        let grant = GrantInput {
            role: Role::MemberEditor,
            campus_id: Some(inv.campus_id),
            member_id: Some(inv.member_id),
        };
        let user_id = match (existing, hash) {
            (Some(u), _) => {
                tx.add_grant(u.id, &grant, &now).await?;
                u.id
            }
            (None, Some(hash)) => {
                tx.insert_user(&inv.email, name.trim(), &hash, &[grant], &now)
                    .await?
            }
            (None, None) => unreachable!("hashed above"),
        };
        let mut event = Event::new("invitation.accept").on(inv.campus_id, "member", inv.member_id);
        event.detail = Some(serde_json::json!({ "user_id": user_id }));
        self.audit_in(&mut tx, actor, event).await?;
        tx.commit().await?;
        Ok(user_id)
    }

    /// The latest mail of the outbox, newest first (network admins and the
    /// operator at the command line).
    pub async fn outbox(&self, actor: &Actor, limit: i64) -> Result<Vec<store::MailRow>, AppError> {
        authorize(actor, Action::Manage, Resource::Network)?;
        Ok(self.store.outbox(limit.clamp(1, 10_000)).await?)
    }

    /// An organisation asks to join a campus (anyone may ask; limited per
    /// address). Its identifiers are checked like a member's.
    pub async fn request_join(
        &self,
        slug: &str,
        r: &JoinRequestInput,
        client: &ClientInfo,
    ) -> Result<i64, AppError> {
        let campus = self.campus(slug).await?;
        let kind = domain::MemberKind::parse(&r.kind);
        let mut errors = MemberInput {
            name: r.name.clone(),
            kind: kind.unwrap_or(domain::MemberKind::Employer),
            siret: r.siret.clone(),
            uai: r.uai.clone(),
            code_insee: r.code_insee.clone(),
            address: None,
            postcode: None,
            website: None,
            description: None,
            joined_on: None,
            left_on: None,
            status: domain::PublicationStatus::Draft,
            invented: false,
        }
        .validate()
        .err()
        .unwrap_or_default();
        if kind.is_none() {
            errors.push(FieldError::new("type", "choisissez le type d'organisation"));
        }
        let email = normalize_email(&r.contact_email)
            .map_err(|e| errors.push(e))
            .ok();
        if let Some(message) = r.message.as_deref() {
            if message.chars().count() > 2_000 {
                errors.push(FieldError::new("message", "2 000 caractères au plus"));
            }
            if let Err(e) = domain::network::check_text_field("message", message) {
                errors.push(e);
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        if let Some(ip) = client.ip {
            self.limit(
                &format!("join:ip:{}", ip_prefix(ip)),
                self.config.throttle.signups_per_address,
            )
            .await?;
        }
        let mut input = r.clone();
        input.contact_email = email.expect("validated");
        let mut tx = self.store.begin().await?;
        let id = tx
            .add_join_request(campus.id, &input, &self.stamp(self.now()))
            .await?;
        let mut actor = Actor::visitor();
        actor.origin = client.ip.map(ip_prefix);
        self.audit_in(
            &mut tx,
            &actor,
            Event::new("join.request").on(campus.id, "join_request", id),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The join requests of a campus (its managers).
    pub async fn join_requests(
        &self,
        actor: &Actor,
        slug: &str,
    ) -> Result<Vec<store::JoinRequestRow>, AppError> {
        let campus = self.campus(slug).await?;
        authorize(actor, Action::Manage, Resource::Campus(campus.id))?;
        Ok(self.store.join_requests(campus.id).await?)
    }

    /// Accepts (the organisation becomes a draft member and its contact is
    /// invited to edit it) or refuses a join request.
    pub async fn decide_join(&self, actor: &Actor, id: i64, accept: bool) -> Result<(), AppError> {
        let req = self
            .store
            .join_request(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("demande {id}")))?;
        authorize(actor, Action::Manage, Resource::Campus(req.campus_id))?;
        if req.decision.is_some() {
            return Err(AppError::Conflict("demande déjà traitée".into()));
        }
        let now = self.stamp(self.now());
        let mut tx = self.store.begin().await?;
        let member_id = if accept {
            let input = MemberInput {
                name: req.name.clone(),
                kind: domain::MemberKind::parse(&req.kind).unwrap_or(domain::MemberKind::Employer),
                siret: req.siret.clone(),
                uai: req.uai.clone(),
                code_insee: req.code_insee.clone(),
                address: None,
                postcode: None,
                website: None,
                description: None,
                joined_on: domain::network::chrono_free::Date::parse(&now[..10]),
                left_on: None,
                status: domain::PublicationStatus::Draft,
                invented: false,
            };
            let member = tx.upsert_member(req.campus_id, &input).await?.id();
            if let Some(email) = &req.contact_email {
                self.queue_invitation(&mut tx, actor, req.campus_id, member, &req.name, email)
                    .await?;
            }
            Some(member)
        } else {
            None
        };
        let decision = if accept { "acceptee" } else { "refusee" };
        if !tx
            .decide_join_request(id, decision, member_id, &now)
            .await?
        {
            return Err(AppError::Conflict("demande déjà traitée".into()));
        }
        self.audit_in(
            &mut tx,
            actor,
            Event::new(format!("join.{decision}")).on(req.campus_id, "join_request", id),
        )
        .await?;
        tx.commit().await?;
        if accept {
            self.index_after_write().await;
        }
        Ok(())
    }
}

impl App {
    /// Sends the mail waiting in the outbox through the configured SMTP
    /// server, oldest first; stops at the first failure (the rest waits for
    /// the next round). Returns how many were sent; `0` without SMTP or when
    /// another server holds the job's lock.
    pub async fn send_outbox(&self) -> Result<usize, AppError> {
        use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
        let Some(smtp) = &self.config.smtp else {
            return Ok(0);
        };
        let now = self.now();
        if !self
            .store
            .try_lock_job(
                "mail",
                &self.stamp(now),
                &self.stamp(now + Duration::minutes(5)),
            )
            .await?
        {
            return Ok(0);
        }
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp.url)
            .map_err(|e| AppError::Internal(format!("SMTP settings: {e}")))?
            .build();
        let from = smtp
            .from
            .parse()
            .map_err(|e| AppError::Internal(format!("sender address: {e}")))?;
        let mut sent = 0;
        for mail in self.store.unsent_mail(50).await? {
            let to = match mail.to_address.parse() {
                Ok(to) => to,
                Err(e) => {
                    tracing::warn!(mail_id = mail.id, error = %e, "undeliverable address left in the outbox");
                    continue;
                }
            };
            let message = Message::builder()
                .from(Clone::clone(&from))
                .to(to)
                .subject(mail.subject.clone())
                .header(lettre::message::header::ContentType::TEXT_PLAIN)
                .body(mail.body.clone())
                .map_err(|e| AppError::Internal(format!("mail {}: {e}", mail.id)))?;
            match transport.send(message).await {
                Ok(_) => {
                    self.store
                        .mark_mail_sent(mail.id, &self.stamp(self.now()))
                        .await?;
                    sent += 1;
                }
                Err(e) => {
                    // The body holds secret links: only the id is logged.
                    tracing::warn!(mail_id = mail.id, error = %e, "SMTP server refused or unreachable");
                    break;
                }
            }
        }
        self.store
            .finish_job("mail", &self.stamp(self.now()))
            .await?;
        Ok(sent)
    }

    /// Sends the outbox every 10 seconds in the background (when SMTP is
    /// configured).
    pub fn spawn_mail_sender(&self) {
        if self.config.smtp.is_none() {
            return;
        }
        let app = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
            loop {
                tick.tick().await;
                if let Err(e) = app.send_outbox().await {
                    tracing::warn!(error = %e, "mail sender failed");
                }
            }
        });
    }
}
