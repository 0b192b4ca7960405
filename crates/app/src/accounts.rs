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

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use domain::accounts::{check_password, normalize_email, Role};
use domain::network::FieldError;
use sha2::{Digest, Sha256};
use store::GrantInput;

use crate::audit::Event;
use crate::config::PasswordCost;
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

/// A readable generated password: 20 characters from an alphabet without
/// look-alikes (about 115 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(24);
    let mut buf = [0u8; 1];
    while out.len() < 20 {
        OsRng.fill_bytes(&mut buf);
        // Rejection sampling keeps every character equally likely.
        let limit = 256 - 256 % ALPHABET.len();
        if usize::from(buf[0]) < limit {
            out.push(char::from(ALPHABET[usize::from(buf[0]) % ALPHABET.len()]));
        }
    }
    out
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

fn argon2(cost: PasswordCost) -> Result<Argon2<'static>, AppError> {
    let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
        .map_err(|e| AppError::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password off the async runtime.
async fn hash_password(cost: PasswordCost, password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2(cost)?
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("argon2: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

/// Verifies a password against a PHC string off the async runtime; the
/// parameters are read from the hash itself.
async fn verify_password(hash: String, password: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))
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

fn text(t: chrono::DateTime<chrono::Utc>) -> String {
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

    /// Hashes a password with the configured cost (off the runtime).
    pub(crate) async fn hash(&self, password: String) -> Result<String, AppError> {
        hash_password(self.config.password_cost, password).await
    }

    /// Verifies a password against a stored hash (off the runtime).
    pub(crate) async fn verify(&self, hash: String, password: String) -> Result<bool, AppError> {
        verify_password(hash, password).await
    }

    /// The list of common passwords, for other use cases of this crate.
    pub(crate) fn common_password_list(&self) -> Result<Arc<HashSet<String>>, AppError> {
        self.common_passwords()
    }

    /// The list of common passwords shipped in `data/`, read once.
    fn common_passwords(&self) -> Result<Arc<HashSet<String>>, AppError> {
        if let Some(set) = self.common_passwords.get() {
            return Ok(set.clone());
        }
        let path = self.config.data_dir.join("common-passwords.txt.gz");
        let file = std::fs::File::open(&path)
            .map_err(|e| AppError::Internal(format!("{}: {e}", path.display())))?;
        let mut textual = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(file), &mut textual)
            .map_err(|e| AppError::Internal(format!("{}: {e}", path.display())))?;
        let set: HashSet<String> = textual
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_lowercase)
            .collect();
        Ok(self.common_passwords.get_or_init(|| Arc::new(set)).clone())
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

    /// A hash of a random password with the configured cost, made once: what
    /// sign-ins for unknown addresses verify against.
    async fn dummy_hash(&self) -> Result<String, AppError> {
        if let Some(h) = self.dummy_hash.get() {
            return Ok(h.clone());
        }
        let h = hash_password(self.config.password_cost, generate_password()).await?;
        Ok(self.dummy_hash.get_or_init(|| h).clone())
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
