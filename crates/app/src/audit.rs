//! Recording and verifying the audit log (see `domain::audit` for the
//! chain, `store::audit` for storage). What is recorded: sign-ins and failed
//! sign-ins, sign-outs, accounts and roles created, tokens created and
//! revoked, every create / update of campus data through the API and the
//! forms, every import (one entry per file, with its counts) and every
//! export.

use domain::audit::{check, Break};
use store::{AuditInput, AuditRow, Tx};

use crate::accounts::random_secret;
use crate::policy::{authorize, Action, Actor, Resource};
use crate::{App, AppError};

/// What an entry is about.
#[derive(Debug, Clone, Default)]
pub struct Event {
    /// `sign_in`, `member.create`, `export.membres`…
    pub action: String,
    /// Campus concerned.
    pub campus_id: Option<i64>,
    /// Kind of object.
    pub entity: Option<String>,
    /// Its id.
    pub entity_id: Option<String>,
    /// Non-personal detail, JSON.
    pub detail: Option<serde_json::Value>,
}

impl Event {
    /// An event with only its action.
    pub fn new(action: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            ..Self::default()
        }
    }

    /// About one object of a campus.
    pub fn on(mut self, campus_id: i64, entity: &str, entity_id: impl ToString) -> Self {
        self.campus_id = Some(campus_id);
        self.entity = Some(entity.to_owned());
        self.entity_id = Some(entity_id.to_string());
        self
    }

    /// With a detail.
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// The result of `passerelle audit verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Entries checked.
    pub entries: i64,
    /// The first broken entry and why, if any.
    pub broken: Option<(i64, String)>,
}

impl App {
    fn audit_input(&self, actor: &Actor, event: Event) -> AuditInput {
        AuditInput {
            at: self
                .now()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            actor_user_id: actor.user_id().filter(|id| *id > 0),
            actor_label: actor.principal.as_ref().map(|p| p.email.clone()),
            ip_prefix: actor.origin.clone(),
            action: event.action,
            campus_id: event.campus_id,
            entity: event.entity,
            entity_id: event.entity_id,
            detail: event.detail.map(|d| d.to_string()),
            salt: random_secret(16),
        }
    }

    /// Records an event in its own transaction.
    pub async fn audit(&self, actor: &Actor, event: Event) -> Result<(), AppError> {
        self.store
            .append_audit(&self.audit_input(actor, event))
            .await?;
        Ok(())
    }

    /// Records an event inside `tx`, with the change it describes.
    pub async fn audit_in(&self, tx: &mut Tx, actor: &Actor, event: Event) -> Result<(), AppError> {
        tx.append_audit(&self.audit_input(actor, event)).await?;
        Ok(())
    }

    /// Walks the whole chain; stops at the first broken entry.
    pub async fn verify_audit(&self) -> Result<Verification, AppError> {
        let mut previous: Option<(i64, String)> = None;
        let mut entries = 0;
        loop {
            let after = previous.as_ref().map_or(0, |p| p.0);
            let page = self.store.audit_after(after, 5_000).await?;
            if page.is_empty() {
                break;
            }
            for row in &page {
                // A gap at the very start shows as `seq` ≠ 1.
                let prev = previous.as_ref().map(|(s, h)| (*s, h.as_str()));
                let personal = row
                    .personal_salt
                    .as_deref()
                    .map(|salt| (salt, row.actor_label.as_deref(), row.ip_prefix.as_deref()));
                let personal = match personal {
                    Some(p) => Some(p),
                    // Personal fields without their salt were not cleared by
                    // the application, which clears all three together.
                    None if row.actor_label.is_some() || row.ip_prefix.is_some() => {
                        return Ok(Verification {
                            entries,
                            broken: Some((row.seq, Break::Personal.to_string())),
                        });
                    }
                    None => None,
                };
                if let Err(b) = check(&row.chained(), &row.hash, prev, personal) {
                    return Ok(Verification {
                        entries,
                        broken: Some((row.seq, b.to_string())),
                    });
                }
                entries += 1;
                previous = Some((row.seq, row.hash.clone()));
            }
        }
        Ok(Verification {
            entries,
            broken: None,
        })
    }

    /// The latest entries of a campus, for its managers.
    pub async fn campus_audit(&self, actor: &Actor, slug: &str) -> Result<Vec<AuditRow>, AppError> {
        let campus = self.campus(slug).await?;
        authorize(actor, Action::Manage, Resource::Campus(campus.id))?;
        Ok(self.store.audit_of_campus(campus.id, 500).await?)
    }
}
