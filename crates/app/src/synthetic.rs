//! Synthetic job postings (`passerelle demo postings --count N`): no real
//! postings can be shipped, so a seeded generator writes offers in the
//! France Travail « offres d'emploi v2 » format from the reference data —
//! ROME 4.0 appellations and their compétences and savoirs, real communes
//! chosen in proportion to their population. Every offer says it is
//! synthetic: its id starts with `SYN`, it carries `"synthetique": true`,
//! its employer is « Employeur fictif n° … » and its contact is invented
//! (the importer drops it anyway). About 3 % of the offers are published a
//! second time through a partner, with another id, to exercise the
//! deduplication.

use std::io::Write;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::{App, AppError};

/// Appellations and skills (code, label) of a fiche.
type FicheParts = (Vec<String>, Vec<(i64, String)>);

/// What the generator draws from.
pub struct GeneratorData {
    /// ROME 4.0 fiche, its appellations and its skills (code, label).
    #[allow(clippy::type_complexity)]
    occupations: Vec<(String, Vec<String>, Vec<(i64, String)>)>,
    /// Communes and the cumulative population up to each.
    communes: Vec<store::GeneratorCommune>,
    cumulative: Vec<u64>,
    /// Indexes of the communes in the focus départements.
    focus: Vec<usize>,
    /// Indexes of the occupations in the focus ROME domains.
    focus_occupations: Vec<usize>,
}

const CONTRACTS: [(&str, &str, u32); 5] = [
    ("CDI", "Contrat à durée indéterminée", 45),
    ("CDD", "Contrat à durée déterminée", 30),
    ("MIS", "Mission intérimaire", 15),
    ("SAI", "Contrat travail saisonnier", 5),
    ("LIB", "Profession libérale", 5),
];

const OPENINGS: [&str; 4] = [
    "Dans le cadre de son développement, notre structure recrute",
    "Nous recherchons pour renforcer notre équipe",
    "Poste à pourvoir rapidement :",
    "Rejoignez une équipe engagée en tant que",
];

impl App {
    /// Reads what the generator needs; `focus_departements` and
    /// `focus_domains` receive half of the offers (the demo campus' territory
    /// and sector), the rest follows the population.
    pub async fn generator_data(
        &self,
        focus_departements: &[String],
        focus_domains: &[&str],
    ) -> Result<GeneratorData, AppError> {
        let titles = self.store.titles(None).await?;
        let mut by_rome: std::collections::BTreeMap<String, FicheParts> = Default::default();
        for t in titles {
            by_rome.entry(t.code_rome).or_default().0.push(t.label);
        }
        for (rome, code, label) in self.store.occupation_skill_labels().await? {
            if let Some(e) = by_rome.get_mut(&rome) {
                e.1.push((code, label));
            }
        }
        let occupations: Vec<_> = by_rome
            .into_iter()
            .filter(|(_, (t, s))| !t.is_empty() && !s.is_empty())
            .map(|(r, (t, s))| (r, t, s))
            .collect();
        let communes = self.store.generator_communes().await?;
        if occupations.is_empty() || communes.is_empty() {
            return Err(AppError::Internal(
                "référentiels absents : lancez d'abord `passerelle import referentiels`".into(),
            ));
        }
        let mut total = 0u64;
        let cumulative = communes
            .iter()
            .map(|c| {
                total += c.population.unwrap_or(0).max(0) as u64;
                total
            })
            .collect();
        let focus = communes
            .iter()
            .enumerate()
            .filter(|(_, c)| focus_departements.contains(&c.departement_code))
            .map(|(i, _)| i)
            .collect();
        let focus_occupations = occupations
            .iter()
            .enumerate()
            .filter(|(_, (r, _, _))| {
                !focus_domains.is_empty() && domain::in_rome_domains(r, focus_domains)
            })
            .map(|(i, _)| i)
            .collect();
        Ok(GeneratorData {
            occupations,
            communes,
            cumulative,
            focus,
            focus_occupations,
        })
    }
}

impl GeneratorData {
    /// Writes `count` offers as JSON lines, the same for the same seed.
    /// Creation dates fall in the 12 months before `until` (`YYYY-MM`).
    pub fn write(
        &self,
        out: &mut dyn Write,
        count: usize,
        seed: u64,
        until: (i32, u32),
    ) -> std::io::Result<()> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut line = Vec::with_capacity(4096);
        let mut previous: Option<serde_json::Value> = None;
        let mut n = 0usize;
        while n < count {
            // A second publication of the previous offer through a partner.
            if let Some(mut again) = previous.take().filter(|_| rng.gen_ratio(3, 100)) {
                again["id"] = json!(format!("SYN{seed:x}P{n:08}"));
                again["origineOffre"] =
                    json!({"origine": "2", "urlOrigine": "https://partenaire.example.org/offre"});
                line.clear();
                serde_json::to_writer(&mut line, &again)?;
                line.push(b'\n');
                out.write_all(&line)?;
                n += 1;
                continue;
            }
            let offer = self.offer(&mut rng, seed, n, until);
            line.clear();
            serde_json::to_writer(&mut line, &offer)?;
            line.push(b'\n');
            out.write_all(&line)?;
            previous = Some(offer);
            n += 1;
        }
        Ok(())
    }

    fn commune(&self, rng: &mut StdRng) -> &store::GeneratorCommune {
        if !self.focus.is_empty() && rng.gen_bool(0.5) {
            return &self.communes[self.focus[rng.gen_range(0..self.focus.len())]];
        }
        let total = *self.cumulative.last().unwrap_or(&0);
        if total == 0 {
            return &self.communes[rng.gen_range(0..self.communes.len())];
        }
        let x = rng.gen_range(0..total);
        let i = self.cumulative.partition_point(|c| *c <= x);
        &self.communes[i.min(self.communes.len() - 1)]
    }

    fn offer(&self, rng: &mut StdRng, seed: u64, n: usize, until: (i32, u32)) -> serde_json::Value {
        let oi = if !self.focus_occupations.is_empty() && rng.gen_bool(0.5) {
            self.focus_occupations[rng.gen_range(0..self.focus_occupations.len())]
        } else {
            rng.gen_range(0..self.occupations.len())
        };
        let (rome, titles, skills) = &self.occupations[oi];
        let title = &titles[rng.gen_range(0..titles.len())];
        let commune = self.commune(rng);
        let postcode = commune
            .postcodes
            .split([' ', ',', ';'])
            .next()
            .unwrap_or("");
        // Up to six skills of the fiche: some coded, the rest in the text.
        let k = rng
            .gen_range(2..=6.min(skills.len()).max(2))
            .min(skills.len());
        let picked: Vec<&(i64, String)> = (0..k)
            .map(|_| &skills[rng.gen_range(0..skills.len())])
            .collect();
        let coded = rng.gen_range(0..=picked.len().min(3));
        let competences: Vec<serde_json::Value> = picked[..coded]
            .iter()
            .map(|(code, label)| {
                if rng.gen_ratio(1, 10) {
                    json!({"libelle": label, "exigence": "S"})
                } else {
                    json!({"code": code.to_string(), "libelle": label, "exigence": if rng.gen_bool(0.5) { "E" } else { "S" }})
                }
            })
            .collect();
        let mut description = format!(
            "{} un(e) {}.",
            OPENINGS[rng.gen_range(0..OPENINGS.len())],
            title.to_lowercase()
        );
        for (_, label) in &picked[coded..] {
            description.push_str(" Vous savez : ");
            description.push_str(&label.to_lowercase());
            description.push('.');
        }
        description.push_str(" Poste basé à ");
        description.push_str(&commune.name);
        description.push_str(". Offre synthétique générée par Passerelle pour la démonstration.");
        let months_back = rng.gen_range(0..12u32);
        let (mut y, mut m) = until;
        for _ in 0..months_back {
            if m == 1 {
                y -= 1;
                m = 12;
            } else {
                m -= 1;
            }
        }
        let day = rng.gen_range(1..=28);
        let created = format!(
            "{y:04}-{m:02}-{day:02}T{:02}:{:02}:00.000Z",
            rng.gen_range(6..19),
            rng.gen_range(0..60)
        );
        let weights: u32 = CONTRACTS.iter().map(|c| c.2).sum();
        let mut pick = rng.gen_range(0..weights);
        let contract = CONTRACTS
            .iter()
            .find(|c| {
                if pick < c.2 {
                    true
                } else {
                    pick -= c.2;
                    false
                }
            })
            .unwrap_or(&CONTRACTS[0]);
        let experience = ["D", "S", "E"][rng.gen_range(0..3)];
        json!({
            "id": format!("SYN{seed:x}N{n:08}"),
            "synthetique": true,
            "intitule": title,
            "description": description,
            "dateCreation": created,
            "dateActualisation": created,
            "lieuTravail": {
                "libelle": format!("{} - {}", commune.departement_code, commune.name),
                "latitude": commune.latitude,
                "longitude": commune.longitude,
                "codePostal": postcode,
                "commune": commune.code_insee,
            },
            "romeCode": rome,
            "appellationlibelle": title,
            "entreprise": {"nom": format!("Employeur fictif n° {}", rng.gen_range(1..50_000)), "entrepriseAdaptee": false},
            "typeContrat": contract.0,
            "typeContratLibelle": contract.1,
            "natureContrat": "Contrat travail",
            "experienceExige": experience,
            "experienceLibelle": match experience { "D" => "Débutant accepté", "S" => "Expérience souhaitée", _ => "Expérience exigée" },
            "competences": competences,
            "salaire": {"libelle": "Selon profil"},
            "dureeTravailLibelleConverti": if rng.gen_bool(0.8) { "Temps plein" } else { "Temps partiel" },
            "alternance": rng.gen_ratio(1, 10),
            "contact": {"nom": "Service recrutement (fictif)", "courriel": "recrutement@example.org"},
            "nombrePostes": if rng.gen_ratio(1, 8) { rng.gen_range(2..5) } else { 1 },
            "accessibleTH": rng.gen_bool(0.3),
            "origineOffre": {"origine": "1"},
            "offresManqueCandidats": rng.gen_ratio(1, 5),
        })
    }
}
