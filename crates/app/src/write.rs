//! Write use cases of the API: create or update members and formations of a
//! campus, after the policy and the domain validations agreed.

use domain::network::{FieldError, FormationInput, MemberInput, SessionInput};
use store::Upsert;

use crate::policy::{authorize, Action, Actor, Resource};
use crate::{App, AppError};

impl App {
    /// Creates or updates a member of a campus (keyed on SIRET, UAI, name).
    pub async fn save_member(
        &self,
        actor: &Actor,
        slug: &str,
        input: &MemberInput,
    ) -> Result<Upsert, AppError> {
        let campus = self.campus(slug).await?;
        input.validate().map_err(AppError::Invalid)?;
        self.check_commune("code_insee", input.code_insee.as_deref())
            .await?;
        let mut tx = self.store.begin().await?;
        // Updating a member is its editors' right; adding one, the campus'.
        let existing = tx.existing_member(campus.id, input).await?;
        let resource = match existing {
            Some(member_id) => Resource::Member {
                campus_id: campus.id,
                member_id,
            },
            None => Resource::Campus(campus.id),
        };
        authorize(actor, Action::Write, resource)?;
        let result = tx.upsert_member(campus.id, input).await?;
        self.audit_upsert(&mut tx, actor, campus.id, "member", result)
            .await?;
        tx.commit().await?;
        self.catch_up_index().await?;
        Ok(result)
    }

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
        self.catch_up_index().await?;
        Ok(result)
    }

    /// Records a create or update in the audit log (nothing for an upsert
    /// that changed nothing).
    async fn audit_upsert(
        &self,
        tx: &mut store::Tx,
        actor: &Actor,
        campus_id: i64,
        entity: &str,
        result: Upsert,
    ) -> Result<(), AppError> {
        let verb = match result {
            Upsert::Created(_) => "create",
            Upsert::Updated(_) => "update",
            Upsert::Unchanged(_) => return Ok(()),
        };
        self.audit_in(
            tx,
            actor,
            crate::audit::Event::new(format!("{entity}.{verb}")).on(campus_id, entity, result.id()),
        )
        .await
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

    async fn check_commune(&self, field: &str, code: Option<&str>) -> Result<(), AppError> {
        let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
            return Ok(());
        };
        if self.store.commune(code).await?.is_none() {
            return Err(AppError::Invalid(vec![FieldError::new(
                field,
                format!(
                    "la commune {code} n'existe pas dans le code officiel géographique en vigueur"
                ),
            )]));
        }
        Ok(())
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
}

impl App {
    /// The member to edit, if the actor may edit it (else `NotFound` for what
    /// they may not even see, `Forbidden` for what they may only read).
    pub async fn member_for_edit(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<store::MemberRow, AppError> {
        let not_found = || AppError::NotFound(format!("membre {id}"));
        let member = self.store.member(id).await?.ok_or_else(not_found)?;
        let resource = Resource::Member {
            campus_id: member.campus_id,
            member_id: id,
        };
        if !crate::policy::allows(actor, Action::ReadPrivate, resource)
            && (member.status != "publie" || member.kind == "exterieur")
        {
            return Err(not_found());
        }
        authorize(actor, Action::Write, resource)?;
        Ok(member)
    }

    /// Updates a member by id from its edit form.
    pub async fn update_member(
        &self,
        actor: &Actor,
        id: i64,
        input: &MemberInput,
    ) -> Result<Upsert, AppError> {
        let member = self.member_for_edit(actor, id).await?;
        input.validate().map_err(AppError::Invalid)?;
        self.check_commune("code_insee", input.code_insee.as_deref())
            .await?;
        let mut tx = self.store.begin().await?;
        let result = tx.update_member(id, input).await.map_err(|e| match e {
            store::StoreError::Conflict(m) => AppError::Invalid(vec![FieldError::new("siret", m)]),
            e => e.into(),
        })?;
        self.audit_upsert(&mut tx, actor, member.campus_id, "member", result)
            .await?;
        tx.commit().await?;
        self.catch_up_index().await?;
        Ok(result)
    }

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
            && formation.status != "publie"
        {
            return Err(not_found());
        }
        authorize(actor, Action::Write, resource)?;
        Ok(FormationForm {
            manual_romes: self.store.formation_manual_romes(id).await?,
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
        let sessions: Vec<SessionInput> = self
            .store
            .sessions(id)
            .await?
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
