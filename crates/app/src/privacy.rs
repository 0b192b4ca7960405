//! Personal data (GDPR): learners' self-registration with consent (and a
//! parent's consent under 15), what is held about a person (shown, and
//! downloaded as JSON or CSV), rectification, erasure, the register of
//! requests, and retention (`passerelle purge`, run daily by `serve`).

use chrono::{Datelike, Duration, NaiveDate};
use domain::accounts::{check_password, normalize_email, Role};
use domain::network::FieldError;
use serde::Serialize;
use serde_json::json;
use store::{ConsentInput, GrantInput, ProfileRow};

use crate::accounts::{ip_prefix, ClientInfo};
use crate::audit::Event;
use crate::policy::{authorize, Action, Actor, Resource};
use crate::{App, AppError};

/// Purpose of the consent every learner gives at registration.
pub const PURPOSE_ACCOUNT: &str = "compte-apprenant";

/// Below this age a parent must consent too (French law: 15, article 45 of
/// the loi Informatique et Libertés).
pub const DIGITAL_MAJORITY: i32 = 15;

/// The statuses a learner can declare.
pub const LEARNER_STATUSES: [(&str, &str); 7] = [
    ("eleve", "Élève"),
    ("apprenti", "Apprenti·e"),
    ("etudiant", "Étudiant·e"),
    ("demandeur_emploi", "Demandeur·se d'emploi"),
    ("salarie", "Salarié·e (reconversion, VAE)"),
    ("decrocheur", "Sans formation ni emploi"),
    ("autre", "Autre"),
];

/// A learner's self-registration.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub campus_slug: String,
    pub status: String,
    /// `AAAA-MM-JJ`, to tell whether a parent must consent.
    pub birth_date: String,
    pub code_insee: String,
    /// The person accepts the processing described in the privacy notice.
    pub consent: bool,
    pub parent_name: String,
    pub parent_email: String,
    pub parent_consent: bool,
}

/// A learner's profile as edited.
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    pub display_name: String,
    pub status: String,
    pub level: String,
    pub code_insee: String,
    pub interests: String,
}

/// What `purge` did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PurgeReport {
    /// Audit entries whose personal fields were cleared.
    pub audit_entries_cleared: u64,
    /// Expired sessions removed.
    pub sessions_removed: u64,
    /// Old throttle counters removed.
    pub throttle_removed: u64,
    /// Inactive learner accounts erased.
    pub learners_erased: usize,
}

fn age_on(birth: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl App {
    fn text_now(&self) -> String {
        self.now()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    /// One month after `at`, the legal deadline to answer a request.
    fn due_in_a_month(&self) -> String {
        let today = self.now().date_naive();
        today
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(today)
            .to_string()
    }

    /// Checks a profile's fields; shared by registration and rectification.
    async fn check_profile(
        &self,
        status: &str,
        code_insee: Option<&str>,
        errors: &mut Vec<FieldError>,
    ) -> Result<(), AppError> {
        if !LEARNER_STATUSES.iter().any(|(c, _)| *c == status) {
            errors.push(FieldError::new("statut", "choisissez votre situation"));
        }
        if let Some(code) = code_insee {
            if domain::CodeInsee::parse(code).is_err() || self.store.commune(code).await?.is_none()
            {
                errors.push(FieldError::new(
                    "code_insee",
                    format!("la commune {code} n'existe pas dans le code officiel géographique"),
                ));
            }
        }
        Ok(())
    }

    /// Registers a learner on a campus, with their consent (and a parent's
    /// under 15). Account, profile, consents and the audit entry are stored
    /// together or not at all. Limited per address like sign-ins.
    pub async fn register_learner(
        &self,
        r: &Registration,
        client: &ClientInfo,
    ) -> Result<i64, AppError> {
        let now = self.now();
        let window_from =
            (now - Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let address_key = client.ip.map(|ip| format!("signup:{}", ip_prefix(ip)));
        if let Some(k) = &address_key {
            if self.store.throttle_failures(k, &window_from).await?
                >= self.config.throttle.signups_per_address
            {
                return Err(AppError::TooManyRequests);
            }
        }
        let mut errors = Vec::new();
        let email = normalize_email(&r.email).map_err(|e| errors.push(e)).ok();
        let name = r.display_name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            errors.push(FieldError::new(
                "nom",
                "indiquez votre nom ou un pseudonyme (120 caractères au plus)",
            ));
        }
        if let Err(e) = domain::network::check_text_field("nom", name) {
            errors.push(e);
        }
        if let Err(e) = check_password(
            &r.password,
            email.as_deref().unwrap_or(""),
            &*self.common_password_list()?,
        ) {
            errors.push(e);
        }
        let campus = self.store.campus_by_slug(&r.campus_slug).await?;
        if campus.is_none() {
            errors.push(FieldError::new("campus", "choisissez un campus"));
        }
        self.check_profile(&r.status, opt(&r.code_insee).as_deref(), &mut errors)
            .await?;
        let birth = match opt(&r.birth_date) {
            None => {
                errors.push(FieldError::new(
                    "date_naissance",
                    "la date de naissance est obligatoire (AAAA-MM-JJ)",
                ));
                None
            }
            Some(d) => match NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
                Ok(b) if b < now.date_naive() => Some(b),
                _ => {
                    errors.push(FieldError::new(
                        "date_naissance",
                        format!("date invalide « {d} », attendu AAAA-MM-JJ"),
                    ));
                    None
                }
            },
        };
        if !r.consent {
            errors.push(FieldError::new(
                "consentement",
                "votre accord est nécessaire pour créer le compte (voir la politique de confidentialité)",
            ));
        }
        let minor = birth.is_some_and(|b| age_on(b, now.date_naive()) < DIGITAL_MAJORITY);
        let mut parent = None;
        if minor {
            let parent_email = normalize_email(&r.parent_email);
            if r.parent_name.trim().is_empty() {
                errors.push(FieldError::new(
                    "parent_nom",
                    "moins de 15 ans : le nom d'un parent est obligatoire",
                ));
            }
            if parent_email.is_err() {
                errors.push(FieldError::new(
                    "parent_email",
                    "moins de 15 ans : l'adresse e-mail d'un parent est obligatoire",
                ));
            }
            if !r.parent_consent {
                errors.push(FieldError::new(
                    "parent_consentement",
                    "moins de 15 ans : l'accord d'un parent est obligatoire",
                ));
            }
            parent = parent_email
                .ok()
                .map(|e| (r.parent_name.trim().to_owned(), e));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let (email, campus) = (email.expect("validated"), campus.expect("validated"));
        if let Some(k) = &address_key {
            // Counted before the (slow) hashing, successful or not.
            self.store
                .record_failure(k, &self.text_now(), &window_from)
                .await?;
        }
        let hash = self.hash(r.password.clone()).await?;
        let now_text = self.text_now();
        let mut tx = self.store.begin().await?;
        let grant = GrantInput {
            role: Role::Learner,
            campus_id: Some(campus.id),
            member_id: None,
        };
        let id = tx
            .insert_user(&email, name, &hash, &[grant], &now_text)
            .await
            .map_err(crate::accounts::email_taken)?;
        tx.save_profile(&ProfileRow {
            user_id: id,
            campus_id: campus.id,
            status: r.status.clone(),
            level: None,
            code_insee: opt(&r.code_insee),
            interests: None,
            birth_date: birth.map(|b| b.to_string()),
            updated_at: now_text.clone(),
        })
        .await?;
        tx.add_consent(
            id,
            &ConsentInput {
                purpose: PURPOSE_ACCOUNT.into(),
                parent_name: parent.as_ref().map(|p| p.0.clone()),
                parent_email: parent.as_ref().map(|p| p.1.clone()),
            },
            &now_text,
        )
        .await?;
        let mut actor = Actor::person(crate::policy::Principal {
            user_id: id,
            email: email.clone(),
            display_name: name.to_owned(),
            grants: Vec::new(),
        });
        actor.origin = client.ip.map(ip_prefix);
        let mut event = Event::new("account.register").detail(json!({ "parental_consent": minor }));
        event.campus_id = Some(campus.id);
        event.entity = Some("user".into());
        event.entity_id = Some(id.to_string());
        self.audit_in(&mut tx, &actor, event).await?;
        tx.commit().await?;
        tracing::info!(user_id = id, "learner registered");
        Ok(id)
    }

    /// Everything held about the actor, as one JSON document. Downloading it
    /// is an access request, recorded (and answered at once) in the register.
    pub async fn my_data(&self, actor: &Actor) -> Result<serde_json::Value, AppError> {
        let user = self.own_account(actor, Action::ReadPrivate).await?;
        let user_id = user.id;
        let grants = self.store.grants(user_id).await?;
        let profile = self.store.profile(user_id).await?;
        let consents = self.store.consents(user_id).await?;
        let sessions = self.store.user_sessions(user_id).await?;
        let tokens = self.store.tokens(user_id).await?;
        let as_contact: Vec<_> = self
            .store
            .contacts_by_email(&user.email)
            .await?
            .into_iter()
            .map(|(organisation, name, role, phone)| {
                json!({ "organisation": organisation, "nom": name, "fonction": role, "telephone": phone })
            })
            .collect();
        let audit: Vec<_> = self
            .store
            .audit_after(0, 1_000_000)
            .await?
            .into_iter()
            .filter(|e| e.actor_user_id == Some(user_id))
            .map(|e| json!({ "date": e.at, "operation": e.action, "depuis": e.ip_prefix }))
            .collect();
        let now = self.text_now();
        let mut tx = self.store.begin().await?;
        tx.add_privacy_request(
            Some(user_id),
            "acces",
            &now,
            &self.due_in_a_month(),
            Some(&now),
            "en ligne",
        )
        .await?;
        self.audit_in(&mut tx, actor, Event::new("privacy.access"))
            .await?;
        tx.commit().await?;
        Ok(json!({
            "genere_le": now,
            "responsable": "le réseau des campus qui héberge ce service (voir /confidentialite)",
            "compte": user,
            "roles": grants,
            "profil": profile,
            "consentements": consents,
            "sessions": sessions,
            "jetons_api": tokens,
            "contact_des_organisations": as_contact,
            "journal": audit,
        }))
    }

    /// The actor's own learner profile, if they have one.
    pub async fn my_profile(&self, actor: &Actor) -> Result<Option<store::ProfileRow>, AppError> {
        let user_id = actor.user_id().ok_or(AppError::Unauthorized)?;
        authorize(actor, Action::ReadPrivate, Resource::Account(user_id))?;
        Ok(self.store.profile(user_id).await?)
    }

    /// Updates the actor's name and, for learners, their profile.
    pub async fn update_profile(&self, actor: &Actor, p: &ProfileInput) -> Result<(), AppError> {
        let user_id = actor.user_id().ok_or(AppError::Unauthorized)?;
        authorize(actor, Action::Write, Resource::Account(user_id))?;
        let mut errors = Vec::new();
        let name = p.display_name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            errors.push(FieldError::new(
                "nom",
                "indiquez votre nom ou un pseudonyme (120 caractères au plus)",
            ));
        }
        if let Err(e) = domain::network::check_text_field("nom", name) {
            errors.push(e);
        }
        let existing = self.store.profile(user_id).await?;
        let level = match opt(&p.level) {
            None => None,
            Some(l) => match l.parse::<i64>() {
                Ok(n) if (0..=8).contains(&n) => Some(n),
                _ => {
                    errors.push(FieldError::new("niveau", "niveau de 0 (aucun diplôme) à 8"));
                    None
                }
            },
        };
        let interests: Vec<String> = p
            .interests
            .split([' ', ',', ';'])
            .filter(|c| !c.trim().is_empty())
            .map(|c| c.trim().to_ascii_uppercase())
            .collect();
        for code in &interests {
            if self.store.occupation(code).await?.is_none() {
                errors.push(FieldError::new(
                    "interets",
                    format!("métier ROME inconnu « {code} » (exemple : J1501)"),
                ));
            }
        }
        if existing.is_some() {
            self.check_profile(&p.status, opt(&p.code_insee).as_deref(), &mut errors)
                .await?;
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let now = self.text_now();
        let mut tx = self.store.begin().await?;
        tx.set_display_name(user_id, name).await?;
        if let Some(existing) = existing {
            tx.save_profile(&ProfileRow {
                status: p.status.clone(),
                level,
                code_insee: opt(&p.code_insee),
                interests: Some(interests.join(" ")).filter(|s| !s.is_empty()),
                updated_at: now.clone(),
                ..existing
            })
            .await?;
        }
        tx.add_privacy_request(
            Some(user_id),
            "rectification",
            &now,
            &self.due_in_a_month(),
            Some(&now),
            "en ligne",
        )
        .await?;
        self.audit_in(&mut tx, actor, Event::new("privacy.rectification"))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Erases the actor's own account after checking their password. The
    /// audit log keeps its entries, without their personal fields.
    pub async fn erase_my_account(&self, actor: &Actor, password: &str) -> Result<(), AppError> {
        let user = self.own_account(actor, Action::Write).await?;
        let user_id = user.id;
        if !self
            .verify(user.password_hash.clone(), password.to_owned())
            .await?
        {
            return Err(AppError::Invalid(vec![FieldError::new(
                "mot_de_passe",
                "mot de passe incorrect : le compte n'a pas été supprimé",
            )]));
        }
        self.erase(user_id, "en ligne").await
    }

    /// Erases an account and records the request.
    async fn erase(&self, user_id: i64, channel: &str) -> Result<(), AppError> {
        let now = self.text_now();
        let mut tx = self.store.begin().await?;
        tx.add_privacy_request(
            Some(user_id),
            "effacement",
            &now,
            &self.due_in_a_month(),
            Some(&now),
            channel,
        )
        .await?;
        // The entry names the account by id only: it is erased just below.
        let mut event = Event::new("privacy.erasure");
        event.entity = Some("user".into());
        event.entity_id = Some(user_id.to_string());
        self.audit_in(&mut tx, &Actor::visitor(), event).await?;
        tx.erase_account(user_id).await?;
        tx.commit().await?;
        tracing::info!(user_id, "account erased");
        Ok(())
    }

    /// The register of requests about personal data (network admins).
    pub async fn privacy_register(
        &self,
        actor: &Actor,
    ) -> Result<Vec<store::PrivacyRequestRow>, AppError> {
        authorize(actor, Action::Manage, Resource::Network)?;
        Ok(self.store.privacy_requests().await?)
    }

    /// Applies the retention periods of the configuration: clears the
    /// personal fields of old audit entries, removes expired sessions and old
    /// throttle counters, and erases learner accounts inactive for too long.
    /// Takes a lock in the database so that one server runs it at a time;
    /// returns `None` when another holds it.
    pub async fn purge(&self) -> Result<Option<PurgeReport>, AppError> {
        let now = self.now();
        let t =
            |d: chrono::DateTime<chrono::Utc>| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        if !self
            .store
            .try_lock_job("purge", &t(now), &t(now + Duration::hours(1)))
            .await?
        {
            return Ok(None);
        }
        let r = &self.config.retention;
        let mut report = PurgeReport {
            audit_entries_cleared: self
                .store
                .purge_audit_personal_before(&t(now - r.audit_personal))
                .await?,
            sessions_removed: self
                .store
                .delete_expired_sessions(
                    &t(now - self.config.sessions.idle),
                    &t(now - self.config.sessions.absolute),
                )
                .await?,
            throttle_removed: self
                .store
                .purge_throttle_before(&t(now - r.throttle))
                .await?,
            learners_erased: 0,
        };
        for id in self
            .store
            .inactive_learners(&t(now - r.inactive_learner))
            .await?
        {
            self.erase(id, "durée de conservation").await?;
            report.learners_erased += 1;
        }
        self.audit(
            &Actor::operator(),
            Event::new("purge").detail(serde_json::to_value(&report).unwrap_or_default()),
        )
        .await?;
        self.store.finish_job("purge", &t(self.now())).await?;
        Ok(Some(report))
    }

    /// Runs `purge` once a day in the background (every server tries; the
    /// database lock lets one of them do it).
    pub fn spawn_daily_purge(&self) {
        let app = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(24 * 3600));
            loop {
                tick.tick().await;
                match app.purge().await {
                    Ok(Some(report)) => tracing::info!(?report, "retention purge done"),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "retention purge failed"),
                }
            }
        });
    }
}

/// The JSON of `my_data` as CSV rows `section;champ;valeur`, for people who
/// open it in a spreadsheet.
pub fn data_as_csv(data: &serde_json::Value) -> String {
    fn walk(prefix: &str, v: &serde_json::Value, rows: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    walk(
                        &if prefix.is_empty() {
                            k.clone()
                        } else {
                            format!("{prefix}.{k}")
                        },
                        x,
                        rows,
                    );
                }
            }
            serde_json::Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(&format!("{prefix}[{i}]"), x, rows);
                }
            }
            serde_json::Value::Null => rows.push((prefix.to_owned(), String::new())),
            serde_json::Value::String(s) => rows.push((prefix.to_owned(), s.clone())),
            other => rows.push((prefix.to_owned(), other.to_string())),
        }
    }
    let mut rows = Vec::new();
    walk("", data, &mut rows);
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    let _ = w.write_record(["champ", "valeur"]);
    // Free text typed by people (names, comments) must not run as a
    // formula when the file is opened in a spreadsheet.
    for (k, v) in rows {
        let _ = w.write_record([
            domain::text::spreadsheet_safe(&k).as_bytes(),
            domain::text::spreadsheet_safe(&v).as_bytes(),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_counts_birthdays() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(age_on(d("2011-12-02"), d("2026-12-01")), 14);
        assert_eq!(age_on(d("2011-12-01"), d("2026-12-01")), 15);
    }

    #[test]
    fn csv_of_personal_data_never_carries_a_formula() {
        let csv = data_as_csv(&json!({
            "compte": { "nom": "=HYPERLINK(\"http://evil.example\")", "ville": "+cmd|' /C calc'!A0" },
            "contacts": [{ "role": "@SUM(A1)" }, { "role": "-2+3" }]
        }));
        for line in csv.lines().skip(1) {
            let value = line.split_once(';').unwrap().1.trim_matches('"');
            assert!(
                !value.starts_with(['=', '+', '@', '-']),
                "a formula left as is: {line}"
            );
        }
    }

    #[test]
    fn csv_flattens_nested_data() {
        let csv = data_as_csv(
            &json!({ "compte": { "email": "a@example.org" }, "roles": [{ "role": "learner" }] }),
        );
        assert!(csv.contains("compte.email;a@example.org"));
        assert!(csv.contains("roles[0].role;learner"));
    }
}

/// The legal pages a network admin may rewrite.
pub const LEGAL_PAGES: [(&str, &str); 3] = [
    ("confidentialite", "Politique de confidentialité"),
    ("mentions-legales", "Mentions légales"),
    ("accessibilite", "Déclaration d'accessibilité"),
];

/// A block of a legal page's text: `## ` starts a heading, `- ` a list
/// item, anything else a paragraph; blocks are separated by blank lines.
/// Plain text only: nothing the admin types becomes markup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Heading(String),
    Paragraph(String),
    List(Vec<String>),
}

/// Splits a legal page's text into blocks.
pub fn blocks(text: &str) -> Vec<Block> {
    text.replace("\r\n", "\n")
        .split("\n\n")
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(|b| {
            if let Some(h) = b.strip_prefix("## ") {
                Block::Heading(h.trim().to_owned())
            } else if b.lines().all(|l| l.trim_start().starts_with("- ")) {
                Block::List(
                    b.lines()
                        .map(|l| l.trim_start()[2..].trim().to_owned())
                        .collect(),
                )
            } else {
                Block::Paragraph(b.split_whitespace().collect::<Vec<_>>().join(" "))
            }
        })
        .collect()
}

impl App {
    /// The edited text of a legal page, if the network admin rewrote it.
    pub async fn legal_page(&self, slug: &str) -> Result<Option<Vec<Block>>, AppError> {
        Ok(self.store.legal_page(slug).await?.map(|t| blocks(&t)))
    }

    /// The raw text of a legal page, for its edit form (network admins).
    pub async fn legal_page_text(
        &self,
        actor: &Actor,
        slug: &str,
    ) -> Result<Option<String>, AppError> {
        authorize(actor, Action::Manage, Resource::Network)?;
        if !LEGAL_PAGES.iter().any(|(s, _)| *s == slug) {
            return Err(AppError::NotFound(format!("page {slug}")));
        }
        Ok(self.store.legal_page(slug).await?)
    }

    /// Rewrites a legal page (network admins).
    pub async fn set_legal_page(
        &self,
        actor: &Actor,
        slug: &str,
        body: &str,
    ) -> Result<(), AppError> {
        self.legal_page_text(actor, slug).await?;
        if body.trim().chars().count() < 20 {
            return Err(AppError::Invalid(vec![FieldError::new(
                "texte",
                "le texte est trop court pour une page légale",
            )]));
        }
        domain::network::check_text_field("texte", body).map_err(|e| AppError::Invalid(vec![e]))?;
        let mut tx = self.store.begin().await?;
        tx.set_legal_page(slug, body.trim(), &self.text_now())
            .await?;
        let mut event = Event::new("legal_page.update");
        event.entity = Some("legal_page".into());
        event.entity_id = Some(slug.to_owned());
        self.audit_in(&mut tx, actor, event).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod legal_tests {
    use super::*;

    #[test]
    fn text_becomes_blocks_without_markup() {
        let b = blocks("## Éditeur\n\nLe réseau <b>fictif</b>,\nà Cayenne.\n\n- un\n- deux");
        assert_eq!(
            b,
            vec![
                Block::Heading("Éditeur".into()),
                Block::Paragraph("Le réseau <b>fictif</b>, à Cayenne.".into()),
                Block::List(vec!["un".into(), "deux".into()]),
            ]
        );
    }
}
