//! Writing the network: a member (from the API or its form, with its
//! contacts) and a campus, after the policy and the domain rules agreed.

use domain::network::{FieldError, MemberInput};
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
        self.index_after_write().await;
        Ok(result)
    }
}

/// A member with its contacts, as its edit form starts from.
#[derive(Debug, Clone)]
pub struct MemberForm {
    pub member: store::MemberRow,
    pub contacts: Vec<store::ContactRow>,
}

/// A contact as typed in a member's form; an all-empty row is ignored.
#[derive(Debug, Clone, Default)]
pub struct ContactForm {
    pub name: String,
    pub role: String,
    pub email: String,
    pub phone: String,
}

/// Checks contact rows (errors name `contact_nom_N`, `contact_email_N`,
/// `contact_tel_N`) and keeps the `invented` mark of unchanged rows.
fn contact_inputs(
    rows: &[ContactForm],
    existing: &[store::ContactRow],
    errors: &mut Vec<FieldError>,
) -> Vec<store::ContactInput> {
    let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let mut out = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let (name, role, email, phone) = (opt(&r.name), opt(&r.role), opt(&r.email), opt(&r.phone));
        if name.is_none() && role.is_none() && email.is_none() && phone.is_none() {
            continue;
        }
        if name.is_none() {
            errors.push(FieldError::new(
                &format!("contact_nom_{i}"),
                "le nom du contact est obligatoire",
            ));
        }
        let email = match email {
            Some(e) => match domain::accounts::normalize_email(&e) {
                Ok(e) => Some(e),
                Err(_) => {
                    errors.push(FieldError::new(
                        &format!("contact_email_{i}"),
                        "adresse e-mail invalide",
                    ));
                    None
                }
            },
            None => None,
        };
        if let Some(p) = &phone {
            let digits = p.chars().filter(char::is_ascii_digit).count();
            if !(8..=15).contains(&digits)
                || p.chars()
                    .any(|c| !(c.is_ascii_digit() || " +.-()".contains(c)))
            {
                errors.push(FieldError::new(
                    &format!("contact_tel_{i}"),
                    "numéro de téléphone invalide (chiffres, espaces, + . - ( ) ; 8 à 15 chiffres)",
                ));
            }
        }
        let name = name.unwrap_or_default();
        let invented = existing
            .iter()
            .any(|c| c.invented && c.name == name && c.email == email);
        out.push(store::ContactInput {
            name,
            role,
            email,
            phone,
            invented,
        });
    }
    out
}

/// A campus as typed in its edit form.
#[derive(Debug, Clone, Default)]
pub struct CampusForm {
    pub name: String,
    pub sector: String,
    pub theme: String,
    pub description: String,
    pub label_start: String,
    pub label_end: String,
    pub time_zone: String,
    pub website: String,
    /// Id of the support member, empty for none.
    pub support_member: String,
    /// Perimeter as `kind:code` words: `departement:973 commune:97311 zone_emploi:0303`.
    pub territories: String,
}

impl App {
    /// The member to edit, with its contacts, if the actor may edit it (else
    /// `NotFound` for what they may not even see, `Forbidden` for what they
    /// may only read).
    pub async fn member_for_edit(&self, actor: &Actor, id: i64) -> Result<MemberForm, AppError> {
        let not_found = || AppError::NotFound(format!("membre {id}"));
        let member = self.store.member(id).await?.ok_or_else(not_found)?;
        let resource = Resource::Member {
            campus_id: member.campus_id,
            member_id: id,
        };
        if !crate::policy::allows(actor, Action::ReadPrivate, resource)
            && !domain::visibility::member_is_public(&member.status, &member.kind)
        {
            return Err(not_found());
        }
        authorize(actor, Action::Write, resource)?;
        Ok(MemberForm {
            contacts: self.store.contacts(id).await?,
            member,
        })
    }

    /// Updates a member by id from its edit form, and its contacts when
    /// given (they replace the previous ones).
    pub async fn update_member(
        &self,
        actor: &Actor,
        id: i64,
        input: &MemberInput,
        contacts: Option<&[ContactForm]>,
    ) -> Result<Upsert, AppError> {
        let form = self.member_for_edit(actor, id).await?;
        let mut errors = input.validate().err().unwrap_or_default();
        let contacts = contacts.map(|rows| contact_inputs(rows, &form.contacts, &mut errors));
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        self.check_commune("code_insee", input.code_insee.as_deref())
            .await?;
        let mut tx = self.store.begin().await?;
        let result = tx.update_member(id, input).await.map_err(|e| match e {
            store::StoreError::Conflict(m) => AppError::Invalid(vec![FieldError::new("siret", m)]),
            e => e.into(),
        })?;
        self.audit_upsert(&mut tx, actor, form.member.campus_id, "member", result)
            .await?;
        if let Some(contacts) = contacts {
            let before: Vec<_> = form
                .contacts
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        c.role.clone(),
                        c.email.clone(),
                        c.phone.clone(),
                    )
                })
                .collect();
            let after: Vec<_> = contacts
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        c.role.clone(),
                        c.email.clone(),
                        c.phone.clone(),
                    )
                })
                .collect();
            if before != after {
                tx.replace_contacts(id, &contacts).await?;
                // Who the contacts are is personal data: the entry counts them.
                self.audit_in(
                    &mut tx,
                    actor,
                    crate::audit::Event::new("member.contacts")
                        .on(form.member.campus_id, "member", id)
                        .detail(serde_json::json!({ "contacts": contacts.len() })),
                )
                .await?;
            }
        }
        tx.commit().await?;
        self.index_after_write().await;
        Ok(result)
    }

    /// The campus to edit with its perimeter and members (its managers).
    pub async fn campus_for_edit(
        &self,
        actor: &Actor,
        slug: &str,
    ) -> Result<
        (
            store::CampusRow,
            Vec<(String, String, String)>,
            Vec<store::MemberRow>,
        ),
        AppError,
    > {
        let campus = self.campus(slug).await?;
        authorize(actor, Action::Manage, Resource::Campus(campus.id))?;
        let territories = self.store.campus_territories(campus.id).await?;
        let members = self.store.members(campus.id, false).await?;
        Ok((campus, territories, members))
    }

    /// Updates a campus from its edit form (its managers).
    pub async fn update_campus(
        &self,
        actor: &Actor,
        slug: &str,
        f: &CampusForm,
    ) -> Result<(), AppError> {
        let (campus, _, members) = self.campus_for_edit(actor, slug).await?;
        let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let mut errors = Vec::new();
        if f.name.trim().is_empty() {
            errors.push(FieldError::new("nom", "le nom du campus est obligatoire"));
        }
        let sector = domain::Sector::parse(&f.sector);
        if sector.is_none() {
            errors.push(FieldError::new(
                "filiere",
                "choisissez l'une des 12 filières nationales",
            ));
        }
        let date = |field: &str, v: &str, errors: &mut Vec<FieldError>| match opt(v) {
            None => None,
            Some(d) => match domain::network::chrono_free::Date::parse(&d) {
                Some(x) => Some(x.to_string()),
                None => {
                    errors.push(FieldError::new(
                        field,
                        format!("date invalide « {d} », attendu AAAA-MM-JJ"),
                    ));
                    None
                }
            },
        };
        let label_start = date("label_debut", &f.label_start, &mut errors);
        let label_end = date("label_fin", &f.label_end, &mut errors);
        if let (Some(a), Some(b)) = (&label_start, &label_end) {
            if b < a {
                errors.push(FieldError::new(
                    "label_fin",
                    "la fin du label précède son début",
                ));
            }
        }
        let tz = f.time_zone.trim();
        let tz_ok = tz == "UTC"
            || (tz.split('/').count() >= 2
                && tz.split('/').all(|p| {
                    !p.is_empty()
                        && p.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "_-+".contains(c))
                }));
        if !tz_ok {
            errors.push(FieldError::new(
                "fuseau",
                "fuseau horaire IANA attendu, par exemple America/Cayenne",
            ));
        }
        if let Some(w) = opt(&f.website) {
            if !(w.starts_with("https://") || w.starts_with("http://")) || w.contains(' ') {
                errors.push(FieldError::new(
                    "site_web",
                    "l'adresse du site doit commencer par https:// ou http://",
                ));
            }
        }
        let support = match opt(&f.support_member) {
            None => None,
            Some(s) => match s
                .parse::<i64>()
                .ok()
                .filter(|id| members.iter().any(|m| m.id == *id))
            {
                Some(id) => Some(id),
                None => {
                    errors.push(FieldError::new(
                        "support",
                        "l'établissement support doit être un membre du campus",
                    ));
                    None
                }
            },
        };
        let departements = self.store.departements().await?;
        let mut territories = Vec::new();
        for word in f.territories.split_whitespace() {
            let Some((kind, code)) = word.split_once(':') else {
                errors.push(FieldError::new(
                    "perimetre",
                    format!("« {word} » : attendu type:code, par exemple departement:973"),
                ));
                continue;
            };
            let known = match kind {
                "departement" => departements.iter().any(|d| d.code == code),
                "commune" => self.store.commune(code).await?.is_some(),
                "zone_emploi" => code.len() == 4 && code.chars().all(|c| c.is_ascii_digit()),
                _ => {
                    errors.push(FieldError::new(
                        "perimetre",
                        format!("« {kind} » : les types sont departement, zone_emploi et commune"),
                    ));
                    continue;
                }
            };
            if known {
                territories.push((kind.to_owned(), code.to_owned()));
            } else {
                errors.push(FieldError::new(
                    "perimetre",
                    format!("{kind} {code} inconnu"),
                ));
            }
        }
        if territories.is_empty() && !errors.iter().any(|e| e.field == "perimetre") {
            errors.push(FieldError::new(
                "perimetre",
                "le périmètre compte au moins un territoire",
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let input = store::CampusInput {
            slug: campus.slug.clone(),
            name: f.name.trim().to_owned(),
            sector: sector.expect("validated"),
            theme: opt(&f.theme),
            description: opt(&f.description),
            label_start,
            label_end,
            time_zone: tz.to_owned(),
            website: opt(&f.website),
            territories,
        };
        let mut tx = self.store.begin().await?;
        tx.upsert_campus(&input).await?;
        if let Some(id) = support {
            tx.set_support_member(campus.id, id).await?;
        }
        self.audit_in(
            &mut tx,
            actor,
            crate::audit::Event::new("campus.update").on(campus.id, "campus", campus.id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
