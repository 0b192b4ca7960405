//! Members as spreadsheets: import (all or nothing, idempotent) and export.

use domain::network::MemberInput;
use domain::{MemberKind, PublicationStatus};
use ingest::sheet::{self, CellError};

use std::collections::HashSet;

use crate::audit::Event;
use crate::imports::{
    import_event, read_sheet, refused_cells, table_bytes, ImportError, ImportReport, SheetFormat,
    IMPORT_CACHE_MIB, WRITE_SLICE,
};
use crate::policy::Actor;
use crate::App;

impl App {
    /// Imports members from a spreadsheet into a campus.
    pub async fn import_members_sheet(
        &self,
        file: &str,
        bytes: &[u8],
        campus_slug: &str,
    ) -> Result<ImportReport, ImportError> {
        let campus = self.campus(campus_slug).await?;
        let table = read_sheet(file, bytes)?;
        let rows = sheet::members_from_table(&table).map_err(|e| refused_cells(file, &e))?;
        drop(table);
        let communes: HashSet<String> = self.store.commune_codes().await?.into_iter().collect();
        let unknown: Vec<CellError> = rows
            .iter()
            .filter_map(|(line, m)| {
                let c = m.code_insee.as_deref()?;
                (!communes.contains(c)).then(|| CellError {
                    line: *line,
                    column: "code_insee".into(),
                    value: c.to_owned(),
                    message: "commune inconnue du code officiel géographique en vigueur".into(),
                })
            })
            .collect();
        if !unknown.is_empty() {
            return Err(refused_cells(file, &unknown));
        }
        let mut report = ImportReport::default();
        let members: Vec<MemberInput> = rows.into_iter().map(|(_, m)| m).collect();
        let mut tx = self.store.begin().await?;
        tx.bulk_cache(Some(IMPORT_CACHE_MIB)).await?;
        for slice in members.chunks(WRITE_SLICE) {
            for u in tx.upsert_members(campus.id, slice).await? {
                report.count(u);
            }
        }
        self.audit_in(
            &mut tx,
            &Actor::operator(),
            import_event("import.membres", campus.id, file, &report),
        )
        .await?;
        tx.bulk_cache(None).await?;
        tx.commit().await?;
        self.catch_up_index().await?;
        Ok(report)
    }

    /// Members of a campus as a spreadsheet file (the export is audited).
    pub async fn members_file(
        &self,
        campus_slug: &str,
        format: SheetFormat,
    ) -> Result<Vec<u8>, ImportError> {
        let campus = self.campus(campus_slug).await?;
        let mut event = Event::new("export.membres");
        event.campus_id = Some(campus.id);
        self.audit(&Actor::operator(), event).await?;
        let members = self.store.members(campus.id, false).await?;
        let inputs: Vec<MemberInput> = members.iter().map(member_input).collect();
        Ok(table_bytes(&sheet::members_to_table(&inputs), format)?)
    }
}

fn member_input(m: &store::MemberRow) -> MemberInput {
    use domain::network::chrono_free::Date;
    MemberInput {
        name: m.name.clone(),
        kind: MemberKind::parse(&m.kind).unwrap_or(MemberKind::Outside),
        siret: m.siret.clone(),
        uai: m.uai.clone(),
        code_insee: m.code_insee.clone(),
        address: m.address.clone(),
        postcode: m.postcode.clone(),
        website: m.website.clone(),
        description: m.description.clone(),
        joined_on: m.joined_on.as_deref().and_then(Date::parse),
        left_on: m.left_on.as_deref().and_then(Date::parse),
        status: PublicationStatus::parse(&m.status).unwrap_or(PublicationStatus::Draft),
        invented: m.invented,
    }
}
