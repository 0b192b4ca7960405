//! LHÉO 2.3 catalogues: importing a provider's offers (all or nothing, or
//! skipping the invalid ones, reported) and exporting the published
//! formations.

use std::collections::{HashMap, HashSet};

use domain::network::{FormationInput, MemberInput, SessionInput};
use domain::{MemberKind, Modality, PublicationStatus, Siret};
use ingest::lheo::{self, LheoOffer, ParseOptions};
use store::{FormationWrite, Tx, Upsert, Visibility};

use crate::audit::Event;
use crate::imports::{import_event, ImportError, ImportReport, IMPORT_CACHE_MIB, WRITE_SLICE};
use crate::policy::Actor;
use crate::App;

impl App {
    /// Imports a LHÉO file into a campus. A file that is not well-formed or
    /// breaks the schema's structure is refused as a whole; with
    /// `skip_invalid`, broken offers are left out and reported instead.
    pub async fn import_lheo(
        &self,
        file: &str,
        bytes: &[u8],
        campus_slug: &str,
        skip_invalid: bool,
    ) -> Result<ImportReport, ImportError> {
        let campus = self.campus(campus_slug).await?;
        let communes: HashSet<String> = self.store.commune_codes().await?.into_iter().collect();
        let known = |c: &str| communes.contains(c);
        let opts = ParseOptions {
            skip_invalid,
            known_communes: Some(&known),
        };
        let parsed = lheo::parse_lheo(bytes, &opts).map_err(|e| ImportError::Refused {
            file: file.to_owned(),
            problems: e
                .problems
                .iter()
                .map(|p| format!("{file}:{}: {}", p.line, p.message))
                .collect(),
        })?;
        let rome_codes: HashSet<String> = self.store.rome_codes().await?.into_iter().collect();
        let mut report = ImportReport {
            rejected: parsed
                .rejected
                .iter()
                .map(|r| {
                    format!(
                        "{file}:{}: offre {} rejetée : {}",
                        r.line,
                        r.numero.as_deref().unwrap_or("sans numéro"),
                        r.reasons
                            .iter()
                            .map(|p| p.message.as_str())
                            .collect::<Vec<_>>()
                            .join(" ; ")
                    )
                })
                .collect(),
            ..Default::default()
        };
        // Everything an offer is checked against is read once, so that a
        // file of 200,000 offers costs no look-up query per offer.
        let levels = self.certification_levels().await?;
        let cert_romes = self.store.certification_rome_map().await?;
        let mut providers =
            ProviderIndex::new(&self.store.members(campus.id, false).await?, &communes);
        let mut offers: Vec<&LheoOffer> = parsed.offers.iter().collect();
        offers.sort_by_key(|o| o.line);
        // Quality notes in line order, walked once beside the offers.
        let mut quality: Vec<&lheo::QualityNote> = parsed.quality.iter().collect();
        quality.sort_by_key(|q| q.line);
        let mut next_note = 0;
        let mut tx = self.store.begin().await?;
        tx.bulk_cache(Some(IMPORT_CACHE_MIB)).await?;
        let mut inputs: Vec<LheoAction> = Vec::new();
        for (i, offer) in offers.iter().enumerate() {
            let next_line = offers.get(i + 1).map_or(u64::MAX, |o| o.line);
            while quality.get(next_note).is_some_and(|q| q.line < offer.line) {
                next_note += 1;
            }
            let mut notes: Vec<(String, String)> = Vec::new();
            while let Some(q) = quality.get(next_note).filter(|q| q.line < next_line) {
                notes.push((q.field.clone(), q.message.clone()));
                next_note += 1;
            }
            for (field, message) in &notes {
                report.quality.push(format!(
                    "{file}: offre « {} » : {field} : {message}",
                    offer.intitule
                ));
            }
            let provider_id = self
                .lheo_provider(
                    &mut tx,
                    campus.id,
                    offer,
                    &mut report,
                    &mut notes,
                    &mut providers,
                )
                .await?;
            let certification_code = lheo_certification(offer, &levels, &mut notes);
            let level = match offer.niveau_sortie {
                Some(l) => Some(l),
                None => certification_code
                    .and_then(|c| levels.get(&c).copied().flatten())
                    .and_then(|l| u8::try_from(l).ok())
                    .and_then(domain::Level::new),
            };
            let description = [
                offer.objectif.as_deref(),
                offer.contenu.as_deref(),
                offer.resultats_attendus.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("\n\n");
            let several = offer.actions.len() > 1;
            for (a_idx, action) in offer.actions.iter().enumerate() {
                // One Passerelle formation per LHÉO action: the action is what
                // has a place, a modality and sessions.
                let key = if several {
                    format!(
                        "{}/{}",
                        offer.key(),
                        action
                            .numero
                            .clone()
                            .unwrap_or_else(|| (a_idx + 1).to_string())
                    )
                } else {
                    offer.key()
                };
                let site = action
                    .sites
                    .iter()
                    .filter_map(|s| s.code_insee.clone())
                    .find(|c| communes.contains(c));
                let rome: Vec<String> = offer
                    .rome_codes
                    .iter()
                    .map(|c| c.as_str().to_owned())
                    .filter(|c| rome_codes.contains(c))
                    .collect();
                let input = FormationInput {
                    title: offer.intitule.clone(),
                    certification_code,
                    level,
                    pathway: action.pathway,
                    modality: action.modality.unwrap_or(Modality::OnSite),
                    provider_id,
                    site_code_insee: site,
                    capacity: action.capacity().map(i64::from),
                    duration_hours: action.nombre_heures_total.filter(|h| *h > 0).map(i64::from),
                    description: (!description.is_empty()).then_some(description.clone()),
                    status: PublicationStatus::Published,
                    rome_codes: rome,
                    external_key: Some(key.clone()),
                    invented: false,
                };
                let sessions: Vec<SessionInput> = action
                    .sessions
                    .iter()
                    .filter_map(|s| {
                        Some(SessionInput {
                            starts_on: s.start?,
                            ends_on: s.end.filter(|e| Some(*e) >= s.start),
                            places: s.places.map(i64::from),
                        })
                    })
                    .collect();
                inputs.push((key, input, sessions, notes.clone()));
            }
            // Written in batches, in file order, with the same outcomes as
            // one upsert per action.
            if inputs.len() >= WRITE_SLICE || i + 1 == offers.len() {
                let writes: Vec<FormationWrite<'_>> = inputs
                    .iter()
                    .map(|(key, input, sessions, notes)| {
                        let derived = input
                            .certification_code
                            .and_then(|c| cert_romes.get(&c))
                            .map_or(&[][..], Vec::as_slice);
                        FormationWrite {
                            key: key.clone(),
                            input,
                            rome: super::rome_links_from(input, derived),
                            sessions: Some(sessions.clone()),
                            notes: Some(notes.clone()),
                        }
                    })
                    .collect();
                for u in tx.upsert_formations(campus.id, &writes).await? {
                    report.count(u);
                }
                inputs.clear();
            }
        }
        self.audit_in(
            &mut tx,
            &Actor::operator(),
            import_event("import.lheo", campus.id, file, &report),
        )
        .await?;
        tx.bulk_cache(None).await?;
        tx.commit().await?;
        self.catch_up_index().await?;
        Ok(report)
    }

    /// The member providing an offer: found by SIRET, UAI or name, or
    /// recorded as an outside organisation that can later join.
    async fn lheo_provider(
        &self,
        tx: &mut Tx,
        campus_id: i64,
        offer: &LheoOffer,
        report: &mut ImportReport,
        notes: &mut Vec<(String, String)>,
        providers: &mut ProviderIndex<'_>,
    ) -> Result<i64, ImportError> {
        let p = &offer.provider;
        let siret = p.siret.as_deref().and_then(|s| Siret::parse(s).ok());
        if p.siret.is_some() && siret.is_none() {
            notes.push((
                "organisme".into(),
                format!(
                    "SIRET « {} » invalide : l'organisme est enregistré sans SIRET",
                    p.siret.as_deref().unwrap_or_default()
                ),
            ));
        }
        let name = p
            .raison_sociale
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| p.name.clone());
        let siret_s = siret.as_ref().map(|s| s.as_str().to_owned());
        if let Some(id) = providers.find(siret_s.as_deref(), p.uai.as_deref(), &name) {
            return Ok(id);
        }
        let code_insee = p
            .address
            .code_insee
            .clone()
            .filter(|c| domain::CodeInsee::parse(c).is_ok());
        let code_insee = match code_insee {
            Some(c) if providers.communes.contains(&c) => Some(c),
            _ => None,
        };
        let input = MemberInput {
            name: name.clone(),
            kind: MemberKind::Outside,
            siret: siret_s,
            uai: p.uai.clone().filter(|u| domain::Uai::parse(u).is_ok()),
            code_insee,
            address: None,
            postcode: p.address.postcode.clone(),
            website: p.website.clone().filter(|w| w.starts_with("http")),
            description: Some("Organisme rencontré dans un import LHÉO ; il peut être invité à rejoindre le campus.".into()),
            joined_on: None,
            left_on: None,
            status: PublicationStatus::Draft,
            invented: false,
        };
        let u = tx.upsert_member(campus_id, &input).await?;
        providers.record(u, &input);
        if matches!(u, Upsert::Created(_)) {
            report.outside_created.push(name);
        }
        Ok(u.id())
    }

    /// Writes the published formations of a campus (or of all campuses) as
    /// LHÉO 2.3; returns the XML and the offers that could not be written.
    pub async fn export_lheo(
        &self,
        campus_slug: Option<&str>,
    ) -> Result<(Vec<u8>, Vec<String>), ImportError> {
        let campuses = match campus_slug {
            Some(s) => vec![self.campus(s).await?],
            None => self.store.campuses().await?,
        };
        for c in &campuses {
            let mut event = Event::new("export.lheo");
            event.campus_id = Some(c.id);
            self.audit(&Actor::operator(), event).await?;
        }
        let mut offers = Vec::new();
        for campus in campuses {
            for f in self
                .store
                .formations(campus.id, Visibility::Public, None)
                .await?
            {
                let provider = self.store.member(f.provider_id).await?;
                let site = match &f.site_code_insee {
                    Some(c) => self.store.commune(c).await?,
                    None => None,
                };
                let provider_commune = match provider.as_ref().and_then(|p| p.code_insee.clone()) {
                    Some(c) => self.store.commune(&c).await?,
                    None => None,
                };
                let address = |c: &Option<store::CommuneRow>| {
                    c.as_ref().map(|c| lheo::LheoAddress {
                        code_insee: Some(c.code_insee.clone()),
                        postcode: c.postcodes.split(' ').next().map(str::to_owned),
                        city: Some(c.name.clone()),
                    })
                };
                let sessions = self
                    .store
                    .sessions(f.id)
                    .await?
                    .into_iter()
                    .map(|s| lheo::LheoSession {
                        numero: None,
                        start: domain::network::chrono_free::Date::parse(&s.starts_on),
                        end: s
                            .ends_on
                            .as_deref()
                            .and_then(domain::network::chrono_free::Date::parse),
                        places: s.places.and_then(|p| u32::try_from(p).ok()),
                    })
                    .collect();
                let certification = match f.certification_code {
                    Some(c) => self.store.certification(c).await?,
                    None => None,
                };
                offers.push(lheo::ExportOffer {
                    key: format!("passerelle-{}-{}", campus.slug, f.external_key),
                    intitule: f.title.clone(),
                    objectif: f.description.clone(),
                    contenu: None,
                    resultats: None,
                    certifications: certification
                        .map(|c| {
                            vec![lheo::LheoCertification {
                                rncp: c.code_rncp.clone(),
                                certifinfo: Some(c.code.to_string()),
                            }]
                        })
                        .unwrap_or_default(),
                    rome_codes: self
                        .store
                        .formation_romes(f.id)
                        .await?
                        .into_iter()
                        .filter_map(|o| domain::CodeRome::parse(&o.code_rome).ok())
                        .collect(),
                    formacodes: Vec::new(),
                    level: f
                        .level
                        .and_then(|l| u8::try_from(l).ok())
                        .and_then(domain::Level::new),
                    provider: lheo::ExportProvider {
                        siret: provider
                            .as_ref()
                            .and_then(|p| p.siret.clone())
                            .unwrap_or_default(),
                        name: f.provider_name.clone(),
                        address: address(&provider_commune).unwrap_or_default(),
                        website: provider.as_ref().and_then(|p| p.website.clone()),
                    },
                    actions: vec![lheo::ExportAction {
                        numero: None,
                        pathway: domain::Pathway::parse(&f.pathway)
                            .unwrap_or(domain::Pathway::Continuing),
                        modality: Modality::parse(&f.modality).unwrap_or(Modality::OnSite),
                        site: address(&site),
                        duration_hours: f.duration_hours.and_then(|h| u32::try_from(h).ok()),
                        sessions,
                    }],
                });
            }
        }
        let mut out = Vec::new();
        let report = lheo::write_lheo_23(&offers, &mut out)
            .map_err(|e| ImportError::Failed(e.to_string()))?;
        let skipped = report
            .skipped
            .iter()
            .map(|s| format!("{} : {}", s.key, s.reason))
            .collect();
        Ok((out, skipped))
    }

    /// The level of every certification, by code, read once per import.
    pub(super) async fn certification_levels(
        &self,
    ) -> Result<HashMap<i64, Option<i64>>, ImportError> {
        Ok(self
            .store
            .all_certifications()
            .await?
            .into_iter()
            .map(|c| (c.code, c.level))
            .collect())
    }
}

/// One LHÉO action as a formation: key, input, sessions, notes.
type LheoAction = (
    String,
    FormationInput,
    Vec<SessionInput>,
    Vec<(String, String)>,
);

/// The Certif Info code of an offer, when it exists in the reference data
/// (`levels`: every certification's code and level).
fn lheo_certification(
    offer: &LheoOffer,
    levels: &HashMap<i64, Option<i64>>,
    notes: &mut Vec<(String, String)>,
) -> Option<i64> {
    for c in &offer.certifications {
        if let Some(code) = c
            .certifinfo
            .as_deref()
            .and_then(|s| s.trim().parse::<i64>().ok())
        {
            if levels.contains_key(&code) {
                return Some(code);
            }
            notes.push((
                "code-CERTIFINFO".into(),
                format!("la certification {code} est inconnue de Certif Info"),
            ));
        }
    }
    None
}

/// The members of a campus by SIRET, UAI and name, read once for an import
/// and kept up to date with the members it writes: the look-ups of
/// `Tx::find_member` without a query per offer.
struct ProviderIndex<'a> {
    /// The communes of the reference data, for the new members' address.
    communes: &'a HashSet<String>,
    by_siret: HashMap<String, i64>,
    by_uai: HashMap<String, i64>,
    by_name: HashMap<String, i64>,
}

impl<'a> ProviderIndex<'a> {
    fn new(members: &[store::MemberRow], communes: &'a HashSet<String>) -> Self {
        let mut index = Self {
            communes,
            by_siret: HashMap::new(),
            by_uai: HashMap::new(),
            by_name: HashMap::new(),
        };
        for m in members {
            index.add(m.id, m.siret.as_deref(), m.uai.as_deref(), &m.name);
        }
        index
    }

    fn add(&mut self, id: i64, siret: Option<&str>, uai: Option<&str>, name: &str) {
        if let Some(s) = siret {
            self.by_siret.insert(s.to_owned(), id);
        }
        if let Some(u) = uai {
            self.by_uai.insert(u.to_owned(), id);
        }
        // The first id of a name wins, as in `Tx::find_member`.
        let e = self.by_name.entry(name.to_owned()).or_insert(id);
        *e = (*e).min(id);
    }

    /// By SIRET, then UAI, then (with neither) exact name.
    fn find(&self, siret: Option<&str>, uai: Option<&str>, name: &str) -> Option<i64> {
        let mut found = siret
            .filter(|s| !s.is_empty())
            .and_then(|s| self.by_siret.get(s));
        if found.is_none() {
            found = uai
                .filter(|u| !u.is_empty())
                .and_then(|u| self.by_uai.get(&u.to_ascii_uppercase()));
        }
        if found.is_none() && siret.is_none() && uai.is_none() {
            found = self.by_name.get(name.trim());
        }
        found.copied()
    }

    /// Takes in a member just written from `input`, as the store keeps it.
    fn record(&mut self, u: Upsert, input: &MemberInput) {
        let id = u.id();
        if matches!(u, Upsert::Updated(_)) {
            // Its identifiers may have changed: forget the old ones.
            self.by_siret.retain(|_, v| *v != id);
            self.by_uai.retain(|_, v| *v != id);
            self.by_name.retain(|_, v| *v != id);
        }
        let trim = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let siret = trim(&input.siret).map(|s| s.replace(' ', ""));
        let uai = trim(&input.uai).map(|u| u.to_ascii_uppercase());
        self.add(id, siret.as_deref(), uai.as_deref(), input.name.trim());
    }
}
