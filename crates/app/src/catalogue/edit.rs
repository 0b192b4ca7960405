//! Writing the catalogue: a formation (from the API or its form, with its
//! sessions and métiers), after the policy and the domain rules agreed.

use domain::network::{FieldError, FormationInput, SessionInput};
use store::Upsert;

use crate::policy::{authorize, Action, Actor, Resource};
use crate::{App, AppError};

impl App {
    /// Creates or updates a formation of a campus, keyed on its external key
    /// (`key`); ROME links are derived from the certification when none are
    /// given.
    pub async fn save_formation(
        &self,
        actor: &Actor,
        slug: &str,
        key: &str,
        input: &FormationInput,
        sessions: &[SessionInput],
    ) -> Result<Upsert, AppError> {
        let campus = self.campus(slug).await?;
        authorize(
            actor,
            Action::Write,
            Resource::Formation {
                campus_id: campus.id,
                provider_id: input.provider_id,
            },
        )?;
        let mut errors = input.validate().err().unwrap_or_default();
        for s in sessions {
            errors.extend(s.validate().err().unwrap_or_default());
        }
        if key.trim().is_empty() {
            errors.push(FieldError::new("cle", "la clé est obligatoire"));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        self.check_commune("code_insee_lieu", input.site_code_insee.as_deref())
            .await?;
        self.store
            .member_in_campus(input.provider_id, campus.id)
            .await
            .map_err(|_| {
                AppError::Invalid(vec![FieldError::new(
                    "fournisseur",
                    format!(
                        "l'organisme {} n'est pas membre de ce campus",
                        input.provider_id
                    ),
                )])
            })?;
        if let Some(code) = input.certification_code {
            if self.store.certification(code).await?.is_none() {
                return Err(AppError::Invalid(vec![FieldError::new(
                    "certifinfo",
                    format!("la certification {code} n'existe pas dans Certif Info"),
                )]));
            }
        }
        let mut tx = self.store.begin().await?;
        // Moving a formation away from a provider needs that provider's
        // right too.
        if let Some(previous) = tx.formation_provider(campus.id, key.trim()).await? {
            authorize(
                actor,
                Action::Write,
                Resource::Formation {
                    campus_id: campus.id,
                    provider_id: previous,
                },
            )?;
        }
        let rome = self.rome_links(&mut tx, input).await?;
        let result = tx
            .upsert_formation(
                campus.id,
                key.trim(),
                input,
                &rome,
                Some(sessions),
                Some(&[]),
            )
            .await?;
        self.audit_upsert(&mut tx, actor, campus.id, "formation", result)
            .await?;
        tx.commit().await?;
        self.index_after_write().await;
        Ok(result)
    }

    /// ROME links of a formation: the ones given, else those of its
    /// certification (marked as derived).
    pub async fn rome_links(
        &self,
        tx: &mut store::Tx,
        input: &FormationInput,
    ) -> Result<Vec<(String, bool)>, AppError> {
        let derived = match (input.rome_codes.is_empty(), input.certification_code) {
            (true, Some(code)) => tx.certification_romes(code).await?,
            _ => Vec::new(),
        };
        Ok(rome_links_from(input, &derived))
    }
}

/// ROME links of a formation as (code, derived): the codes chosen by hand
/// when there are any, else `certification_romes` (the certification's).
pub fn rome_links_from(
    input: &FormationInput,
    certification_romes: &[String],
) -> Vec<(String, bool)> {
    if input.rome_codes.is_empty() {
        certification_romes
            .iter()
            .map(|c| (c.clone(), true))
            .collect()
    } else {
        input
            .rome_codes
            .iter()
            .map(|c| (c.trim().to_ascii_uppercase(), false))
            .collect()
    }
}

/// What an edit form starts from.
#[derive(Debug, Clone)]
pub struct FormationForm {
    /// The formation as stored.
    pub formation: store::FormationRow,
    /// ROME codes chosen by hand (empty: derived from the certification).
    pub manual_romes: Vec<String>,
    /// Its sessions, by start date.
    pub sessions: Vec<store::SessionRow>,
}

impl App {
    /// The formation to edit, if the actor may edit it.
    pub async fn formation_for_edit(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<FormationForm, AppError> {
        let not_found = || AppError::NotFound(format!("formation {id}"));
        let formation = self.store.formation(id).await?.ok_or_else(not_found)?;
        let resource = Resource::Formation {
            campus_id: formation.campus_id,
            provider_id: formation.provider_id,
        };
        if !crate::policy::allows(actor, Action::ReadPrivate, resource)
            && !domain::visibility::formation_is_public(&formation.status)
        {
            return Err(not_found());
        }
        authorize(actor, Action::Write, resource)?;
        Ok(FormationForm {
            manual_romes: self.store.formation_manual_romes(id).await?,
            sessions: self.store.sessions(id).await?,
            formation,
        })
    }

    /// Updates a formation by id from its edit form; its provider, key and
    /// sessions stay as they are.
    pub async fn update_formation(
        &self,
        actor: &Actor,
        id: i64,
        input: &FormationInput,
        sessions: Option<&[SessionInput]>,
    ) -> Result<Upsert, AppError> {
        let form = self.formation_for_edit(actor, id).await?;
        let f = form.formation;
        let campus = self
            .store
            .campuses()
            .await?
            .into_iter()
            .find(|c| c.id == f.campus_id)
            .ok_or_else(|| AppError::NotFound(format!("formation {id}")))?;
        let mut input = input.clone();
        input.provider_id = f.provider_id;
        input.external_key = Some(f.external_key.clone());
        input.invented = f.invented;
        if let Some(sessions) = sessions {
            return self
                .save_formation(actor, &campus.slug, &f.external_key, &input, sessions)
                .await;
        }
        // Without sessions in the form, they stay as they are.
        let sessions: Vec<SessionInput> = form
            .sessions
            .into_iter()
            .filter_map(|s| {
                Some(SessionInput {
                    starts_on: domain::network::chrono_free::Date::parse(&s.starts_on)?,
                    ends_on: s
                        .ends_on
                        .as_deref()
                        .and_then(domain::network::chrono_free::Date::parse),
                    places: s.places,
                })
            })
            .collect();
        self.save_formation(actor, &campus.slug, &f.external_key, &input, &sessions)
            .await
    }
}
