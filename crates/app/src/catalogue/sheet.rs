//! Formations as spreadsheets: import (all or nothing, idempotent) and
//! export.

use std::collections::{HashMap, HashSet};

use domain::network::FormationInput;
use domain::{Modality, PublicationStatus};
use ingest::sheet::{self, CellError, ProviderRef};
use store::{FormationWrite, Visibility};

use crate::audit::Event;
use crate::imports::{
    import_event, read_sheet, refused_cells, table_bytes, ImportError, ImportReport, SheetFormat,
    IMPORT_CACHE_MIB, WRITE_SLICE,
};
use crate::policy::Actor;
use crate::App;

impl App {
    /// Imports formations from a spreadsheet into a campus; providers must
    /// be members of the campus.
    pub async fn import_formations_sheet(
        &self,
        file: &str,
        bytes: &[u8],
        campus_slug: &str,
    ) -> Result<ImportReport, ImportError> {
        let started = std::time::Instant::now();
        let campus = self.campus(campus_slug).await?;
        let table = read_sheet(file, bytes)?;
        let rows = sheet::formations_from_table(&table).map_err(|e| refused_cells(file, &e))?;
        drop(table);
        tracing::debug!(elapsed = ?started.elapsed(), rows = rows.len(), "formations read");
        // Everything a row is checked against is read once, so that a file
        // of 200,000 rows costs no look-up query per row.
        let communes: HashSet<String> = self.store.commune_codes().await?.into_iter().collect();
        let levels = self.certification_levels().await?;
        let romes = self.store.certification_rome_map().await?;
        let members = self.store.members(campus.id, false).await?;
        let mut by_siret = HashMap::new();
        let mut by_uai = HashMap::new();
        let mut by_name = HashMap::new();
        for m in &members {
            if let Some(s) = &m.siret {
                by_siret.insert(s.clone(), m.id);
            }
            if let Some(u) = &m.uai {
                by_uai.insert(u.clone(), m.id);
            }
            // Members come sorted by name; the first id of a name wins, as in
            // `Tx::find_member`.
            by_name
                .entry(m.name.clone())
                .and_modify(|id: &mut i64| *id = (*id).min(m.id))
                .or_insert(m.id);
        }
        let mut errors = Vec::new();
        let mut resolved = Vec::with_capacity(rows.len());
        for row in rows {
            let (found, value) = match &row.provider {
                ProviderRef::Siret(s) => (by_siret.get(s.as_str()), s.as_str().to_owned()),
                ProviderRef::Uai(u) => (by_uai.get(u.as_str()), u.as_str().to_owned()),
                ProviderRef::Name(n) => (by_name.get(n.trim()), n.clone()),
            };
            let Some(&provider_id) = found else {
                errors.push(CellError {
                    line: row.line,
                    column: "fournisseur".into(),
                    value,
                    message: "cet organisme n'est pas membre du campus".into(),
                });
                continue;
            };
            if let Some(c) = row.input.site_code_insee.as_deref() {
                if !communes.contains(c) {
                    errors.push(CellError {
                        line: row.line,
                        column: "code_insee_lieu".into(),
                        value: c.to_owned(),
                        message: "commune inconnue du code officiel géographique en vigueur".into(),
                    });
                }
            }
            let mut input = row.input;
            input.provider_id = provider_id;
            if let Some(code) = input.certification_code {
                match levels.get(&code) {
                    None => errors.push(CellError {
                        line: row.line,
                        column: "certifinfo".into(),
                        value: code.to_string(),
                        message: "certification inconnue de Certif Info".into(),
                    }),
                    Some(level) if input.level.is_none() => {
                        input.level = level
                            .and_then(|l| u8::try_from(l).ok())
                            .and_then(domain::Level::new);
                    }
                    Some(_) => {}
                }
            }
            resolved.push((row.line, input));
        }
        if !errors.is_empty() {
            return Err(refused_cells(file, &errors));
        }
        tracing::debug!(elapsed = ?started.elapsed(), "formations checked");
        let mut report = ImportReport::default();
        let mut tx = self.store.begin().await?;
        tx.bulk_cache(Some(IMPORT_CACHE_MIB)).await?;
        // Written in slices, in file order, with the same outcomes as one
        // upsert per row.
        for slice in resolved.chunks(WRITE_SLICE) {
            let writes: Vec<FormationWrite<'_>> = slice
                .iter()
                .map(|(line, input)| {
                    let derived = input
                        .certification_code
                        .and_then(|c| romes.get(&c))
                        .map_or(&[][..], Vec::as_slice);
                    FormationWrite {
                        key: input
                            .external_key
                            .clone()
                            .unwrap_or_else(|| format!("ligne-{line}")),
                        input,
                        rome: super::rome_links_from(input, derived),
                        sessions: None,
                        notes: None,
                    }
                })
                .collect();
            for u in tx.upsert_formations(campus.id, &writes).await? {
                report.count(u);
            }
        }
        self.audit_in(
            &mut tx,
            &Actor::operator(),
            import_event("import.formations", campus.id, file, &report),
        )
        .await?;
        tx.bulk_cache(None).await?;
        tracing::debug!(elapsed = ?started.elapsed(), "formations written");
        tx.commit().await?;
        tracing::debug!(elapsed = ?started.elapsed(), "formations committed");
        self.catch_up_index().await?;
        Ok(report)
    }

    /// Formations of a campus as a spreadsheet file (the export is audited).
    pub async fn formations_file(
        &self,
        campus_slug: &str,
        format: SheetFormat,
    ) -> Result<Vec<u8>, ImportError> {
        let campus = self.campus(campus_slug).await?;
        let mut event = Event::new("export.formations");
        event.campus_id = Some(campus.id);
        self.audit(&Actor::operator(), event).await?;
        let mut rows = Vec::new();
        for f in self
            .store
            .formations(campus.id, Visibility::All, None)
            .await?
        {
            let provider = self.store.member(f.provider_id).await?;
            let romes = self.store.formation_manual_romes(f.id).await?;
            rows.push(sheet::FormationExport {
                formation: FormationInput {
                    title: f.title.clone(),
                    certification_code: f.certification_code,
                    level: f
                        .level
                        .and_then(|l| u8::try_from(l).ok())
                        .and_then(domain::Level::new),
                    pathway: domain::Pathway::parse(&f.pathway)
                        .unwrap_or(domain::Pathway::Continuing),
                    modality: Modality::parse(&f.modality).unwrap_or(Modality::OnSite),
                    provider_id: f.provider_id,
                    site_code_insee: f.site_code_insee.clone(),
                    capacity: f.capacity,
                    duration_hours: f.duration_hours,
                    description: f.description.clone(),
                    status: PublicationStatus::parse(&f.status).unwrap_or(PublicationStatus::Draft),
                    rome_codes: romes,
                    external_key: Some(f.external_key.clone()),
                    invented: f.invented,
                },
                provider_siret: provider.as_ref().and_then(|p| p.siret.clone()),
                provider_uai: provider.as_ref().and_then(|p| p.uai.clone()),
                provider_name: f.provider_name.clone(),
            });
        }
        Ok(table_bytes(&sheet::formations_to_table(&rows), format)?)
    }
}
