//! The demonstration campus: a *Services à la personne, bien-être* campus in
//! French Guiana, modelled on the CMQ 2SBE whose support establishment is a
//! lycée in Saint-Laurent-du-Maroni. Members and formations come from the
//! spreadsheets in `data/demo/`, imported through the same importer as a
//! campus' own files. Lycées and CFA carry their real UAI; every SIRET,
//! capacity and contact is invented and marked so; no real person appears.

use domain::network::chrono_free::Date;
use domain::network::SessionInput;
use store::{CampusInput, ContactInput, Visibility};

use crate::accounts::NewAccount;
use crate::imports::ImportError;
use crate::policy::{Actor, Grant};
use crate::{App, AppError};

/// Slug of the demonstration campus.
pub const DEMO_SLUG: &str = "demo";

/// Slug of the second, small demonstration campus, which shows that
/// campuses are isolated from each other.
pub const DEMO_B_SLUG: &str = "demo-b";

/// An account of the demonstration, with the password generated for it.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    /// Sign-in address.
    pub email: String,
    /// What the account shows.
    pub role_label: String,
    /// Generated at creation, printed once, never stored in clear.
    pub password: String,
}

/// UAI of the support establishment (Lycée Bertène Juminer).
const SUPPORT_UAI: &str = "9730235T";

impl App {
    /// Creates the demonstration campuses (`demo`, and the small `demo-b`)
    /// unless they exist; returns whether the main one was created.
    pub async fn seed_demo(&self) -> Result<bool, ImportError> {
        self.seed_demo_b().await?;
        if self.store.campus_by_slug(DEMO_SLUG).await?.is_some() {
            return Ok(false);
        }
        let campus = CampusInput {
            slug: DEMO_SLUG.into(),
            name: "Campus des métiers et des qualifications Services à la personne et bien-être de Guyane (démonstration)".into(),
            sector: domain::Sector::PersonalServices,
            theme: Some("Santé, social et bien-être en Guyane".into()),
            description: Some(
                "Campus de démonstration inspiré du CMQ 2SBE : il réunit lycées, université, CFA, organismes de formation, \
                 établissements de santé et médico-sociaux, employeurs et acteurs de l'emploi autour des métiers du soin, \
                 de l'accompagnement et du bien-être. Les identifiants SIRET, capacités et contacts sont inventés."
                    .into(),
            ),
            label_start: Some("2019-09-01".into()),
            label_end: Some("2029-08-31".into()),
            time_zone: "America/Cayenne".into(),
            website: None,
            territories: vec![("departement".into(), "973".into())],
        };
        let (campus_row, mut tx) = self.seed_campus(&campus, "demo", "").await?;
        if let Some(id) = tx
            .find_member(campus_row.id, None, Some(SUPPORT_UAI), None)
            .await?
        {
            tx.set_support_member(campus_row.id, id).await?;
        }
        // Sessions for the next school year, so that formation pages show them.
        let start = Date::parse("2027-09-01").expect("valid date");
        let end = Date::parse("2028-06-30").expect("valid date");
        for f in self
            .store
            .formations(campus_row.id, Visibility::All, None)
            .await?
        {
            let input = domain::network::FormationInput {
                title: f.title.clone(),
                certification_code: f.certification_code,
                level: f
                    .level
                    .and_then(|l| u8::try_from(l).ok())
                    .and_then(domain::Level::new),
                pathway: domain::Pathway::parse(&f.pathway).unwrap_or(domain::Pathway::Continuing),
                modality: domain::Modality::parse(&f.modality).unwrap_or(domain::Modality::OnSite),
                provider_id: f.provider_id,
                site_code_insee: f.site_code_insee.clone(),
                capacity: f.capacity,
                duration_hours: f.duration_hours,
                description: f.description.clone(),
                status: domain::PublicationStatus::parse(&f.status)
                    .unwrap_or(domain::PublicationStatus::Draft),
                rome_codes: Vec::new(),
                external_key: Some(f.external_key.clone()),
                invented: f.invented,
            };
            let links = self.rome_links(&mut tx, &input).await?;
            tx.upsert_formation(
                campus_row.id,
                &f.external_key,
                &input,
                &links,
                Some(&[SessionInput {
                    starts_on: start,
                    ends_on: Some(end),
                    places: f.capacity,
                }]),
                None,
            )
            .await?;
        }
        tx.commit().await?;
        self.catch_up_index().await?;
        Ok(true)
    }

    /// The second campus: four invented organisations of a water campus in
    /// Occitanie, one of them and one formation as drafts.
    async fn seed_demo_b(&self) -> Result<(), ImportError> {
        if self.store.campus_by_slug(DEMO_B_SLUG).await?.is_some() {
            return Ok(());
        }
        let campus = CampusInput {
            slug: DEMO_B_SLUG.into(),
            name: "Campus des métiers et des qualifications de l'eau en Occitanie (démonstration B)".into(),
            sector: domain::Sector::Energy,
            theme: Some("Eau, assainissement et environnement".into()),
            description: Some(
                "Second campus de démonstration, entièrement fictif : il montre que les données d'un campus \
                 (brouillons, contacts, apprenants) ne sont jamais visibles depuis un autre."
                    .into(),
            ),
            label_start: Some("2022-09-01".into()),
            label_end: Some("2027-08-31".into()),
            time_zone: "Europe/Paris".into(),
            website: None,
            territories: vec![
                ("departement".into(), "34".into()),
                ("departement".into(), "30".into()),
                ("departement".into(), "11".into()),
            ],
        };
        let (_, tx) = self.seed_campus(&campus, "demo-b", "b").await?;
        tx.commit().await?;
        self.catch_up_index().await?;
        Ok(())
    }

    /// Creates a demonstration campus from the sheets of `data/{dir}/`
    /// (members, then formations, through the same importers as a campus'
    /// own files) and gives each member a fictitious contact; returns the
    /// campus and the open transaction for the caller to finish.
    async fn seed_campus(
        &self,
        campus: &CampusInput,
        dir: &str,
        tag: &str,
    ) -> Result<(store::CampusRow, store::Tx), ImportError> {
        let path = self.config.data_dir.join(dir);
        let read = |name: &str| {
            std::fs::read(path.join(name))
                .map_err(|e| ImportError::Failed(format!("{}: {e}", path.join(name).display())))
        };
        let mut tx = self.store.begin().await?;
        tx.upsert_campus(campus).await?;
        tx.commit().await?;
        let sheet = |name: &str| format!("data/{dir}/{name}");
        self.import_members_sheet(&sheet("members.csv"), &read("members.csv")?, &campus.slug)
            .await?;
        self.import_formations_sheet(
            &sheet("formations.csv"),
            &read("formations.csv")?,
            &campus.slug,
        )
        .await?;
        let campus_row = self.campus(&campus.slug).await?;
        let mut tx = self.store.begin().await?;
        for (i, m) in self
            .store
            .members(campus_row.id, false)
            .await?
            .iter()
            .enumerate()
        {
            // Fictitious contacts: a role, a made-up name, an example.org address.
            let n = format!("{}{}", tag.to_uppercase(), i + 1);
            let mail = if tag.is_empty() {
                format!("contact{}", i + 1)
            } else {
                format!("contact-{tag}{}", i + 1)
            };
            tx.replace_contacts(
                m.id,
                &[ContactInput {
                    name: format!("Contact fictif {n}"),
                    role: Some("Référent·e campus".into()),
                    email: Some(format!("{mail}@example.org")),
                    phone: None,
                    invented: true,
                }],
            )
            .await?;
        }
        Ok((campus_row, tx))
    }

    /// Creates one account per role on the demonstration campuses, unless
    /// accounts exist already; returns those created with their generated
    /// passwords (printed once by `passerelle demo`, never fixed in code).
    pub async fn seed_demo_accounts(&self) -> Result<Vec<DemoAccount>, AppError> {
        if !self.store.users().await?.is_empty() {
            return Ok(Vec::new());
        }
        let a = self.campus(DEMO_SLUG).await?;
        let b = self.campus(DEMO_B_SLUG).await?;
        let member_of = |campus_id: i64, name: &'static str| async move {
            let members = self.store.members(campus_id, false).await?;
            members
                .into_iter()
                .find(|m| m.name == name)
                .map(|m| m.id)
                .ok_or_else(|| AppError::NotFound(format!("membre de démonstration {name}")))
        };
        let editor_a = member_of(a.id, "Lycée polyvalent Bertène Juminer").await?;
        let editor_b = member_of(b.id, "CFA des métiers de l'eau (fictif)").await?;
        let grant = |role, campus_id: Option<i64>, member_id: Option<i64>| Grant {
            role,
            campus_id,
            member_id,
        };
        use domain::accounts::Role::*;
        let accounts = [
            (
                "admin.reseau@example.org",
                "Administration du réseau (démo)",
                grant(NetworkAdmin, None, None),
            ),
            (
                "equipe.demo@example.org",
                "Équipe du campus demo (démo)",
                grant(CampusManager, Some(a.id), None),
            ),
            (
                "redaction.demo@example.org",
                "Rédaction Lycée Bertène Juminer (démo)",
                grant(MemberEditor, Some(a.id), Some(editor_a)),
            ),
            (
                "observation.demo@example.org",
                "Observation Région (démo)",
                grant(Observer, Some(a.id), None),
            ),
            (
                "apprenant.demo@example.org",
                "Apprenant·e fictif·ve (démo)",
                grant(Learner, Some(a.id), None),
            ),
            (
                "equipe.demo-b@example.org",
                "Équipe du campus demo-b (démo)",
                grant(CampusManager, Some(b.id), None),
            ),
            (
                "redaction.demo-b@example.org",
                "Rédaction CFA de l'eau (démo)",
                grant(MemberEditor, Some(b.id), Some(editor_b)),
            ),
            (
                "apprenant.demo-b@example.org",
                "Apprenant·e fictif·ve B (démo)",
                grant(Learner, Some(b.id), None),
            ),
        ];
        let mut created = Vec::new();
        for (email, name, g) in accounts {
            let (_, password) = self
                .create_account(
                    &Actor::operator(),
                    &NewAccount {
                        email: email.into(),
                        display_name: name.into(),
                        password: None,
                        grants: vec![g],
                    },
                )
                .await?;
            created.push(DemoAccount {
                email: email.into(),
                role_label: g.role.label().into(),
                password: password.unwrap_or_default(),
            });
        }
        Ok(created)
    }
}
