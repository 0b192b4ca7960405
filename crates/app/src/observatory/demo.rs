//! The demonstration's observatory: shipped tension files and outcomes,
//! synthetic postings and a survey answered by fictitious employers.

use crate::imports::ImportError;
use crate::{App, AppError};

/// Synthetic postings the demonstration imports.
pub const DEMO_POSTINGS: usize = 4_000;

/// Seed of the demonstration's postings (ids `SYN3cd…`), other than the
/// command's default, so that the two sets do not share ids.
pub const DEMO_SEED: u64 = 973;

impl App {
    /// The demonstration's observatory: the shipped tension files and
    /// synthetic postings, half of them in the demo campus' territory and
    /// sector. Does nothing for what is already there.
    pub async fn seed_demo_observatory(&self) -> Result<(), ImportError> {
        if self.store.tension_sources().await?.is_empty() {
            self.import_shipped_tension().await?;
        }
        if self
            .store
            .outcome_source_checksum(crate::outcomes::SHIPPED_OUTCOMES[3])
            .await?
            .is_none()
        {
            self.import_shipped_outcomes().await?;
        }
        let campus = self.campus(crate::demo::DEMO_SLUG).await?;
        if self.store.campaigns(campus.id).await?.is_empty() {
            self.seed_demo_survey(campus.id).await?;
        }
        if self.store.posting_totals().await?.postings == 0 {
            let deps: Vec<String> = self
                .store
                .campus_territories(campus.id)
                .await?
                .into_iter()
                .filter(|t| t.0 == "departement")
                .map(|t| t.1)
                .collect();
            let domains = domain::Sector::parse(&campus.sector)
                .map(|s| s.default_rome_domains())
                .unwrap_or(&[]);
            let data = self.generator_data(&deps, domains).await?;
            let mut buf = Vec::new();
            data.write(&mut buf, DEMO_POSTINGS, DEMO_SEED, (2026, 11))
                .map_err(|e| ImportError::Failed(e.to_string()))?;
            self.import_postings("offres synthétiques de démonstration", buf)
                .await?;
        }
        Ok(())
    }

    /// A survey campaign of the demo, answered by its five fictitious
    /// employers only (no figure is put in a real organisation's mouth);
    /// two of its cells fall under the suppression rule, to show it.
    async fn seed_demo_survey(&self, campus_id: i64) -> Result<(), AppError> {
        let id = self
            .store
            .create_campaign(
                campus_id,
                "Besoins de recrutement 2027 (démonstration)",
                "2026-11-01",
                "2027-01-31",
            )
            .await?;
        let members = self.store.members(campus_id, false).await?;
        let find = |prefix: &str| {
            members
                .iter()
                .find(|m| m.name.starts_with(prefix))
                .map(|m| m.id)
        };
        let answers: [(&str, &str, i64, i64, i64); 12] = [
            ("EHPAD Les Palétuviers", "J1501", 6, 4, 2),
            ("Institut médico-éducatif du Maroni", "J1501", 2, 1, 1),
            ("Aide à domicile de l'Ouest", "J1501", 3, 2, 1),
            ("Aide à domicile de l'Ouest", "K1302", 12, 9, 3),
            ("EHPAD Les Palétuviers", "K1302", 2, 1, 0),
            ("Multi-accueil Les Ti-Moun", "K1303", 4, 2, 2),
            ("Aide à domicile de l'Ouest", "K1303", 1, 1, 0),
            ("Institut médico-éducatif du Maroni", "K1303", 1, 0, 1),
            ("Institut de beauté Amazonie", "D1208", 3, 2, 2),
            ("Institut médico-éducatif du Maroni", "K1207", 5, 4, 1),
            ("Multi-accueil Les Ti-Moun", "K1207", 1, 1, 0),
            ("EHPAD Les Palétuviers", "K1207", 1, 1, 0),
        ];
        for (who, rome, planned, difficult, apprentices) in answers {
            let Some(member) = find(who) else { continue };
            let a = domain::survey::AnswerInput {
                code_rome: rome.into(),
                code_insee: None,
                planned,
                difficult,
                seasonal: 0,
                apprentices,
                tutors: apprentices,
                comment: Some("Réponse fictive de démonstration.".into()),
            };
            self.store.save_answer(id, member, &a).await?;
        }
        Ok(())
    }
}
