//! Keeps this server's search index in step with the database. Writes append
//! to the change log in their transaction; every server applies the log from
//! the sequence number its index recorded, so several servers sharing one
//! PostgreSQL converge on the same results. Reference data imports log a
//! `reference` change, which triggers a full rebuild.

use std::collections::HashMap;
use std::time::Duration;

use search::{DocKind, Document, Facet};
use store::{FormationRow, MemberRow};

use crate::{App, AppError};

/// Formations are read from the database in pages of this size.
const PAGE: i64 = 5_000;

/// Above this many pending changes a follower rebuilds its index instead of
/// applying them: after a 200,000-row import a rebuild took 31 s against
/// 82 s incrementally (BENCHMARKS.md), and it streams, so memory stays flat.
const REBUILD_ABOVE: i64 = 20_000;

impl App {
    /// Rebuilds the whole index from the database. Documents are streamed
    /// from the store to the index writer through a small channel, so memory
    /// stays bounded whatever the size of the catalogue.
    pub async fn rebuild_index(&self) -> Result<usize, AppError> {
        let _writer = self.index_gate.lock().await;
        self.rebuild_index_locked().await
    }

    /// `rebuild_index` for a caller that holds the index gate.
    async fn rebuild_index_locked(&self) -> Result<usize, AppError> {
        // A rebuild follows a change of reference data: labels may have changed.
        self.set_cached_departements(None);
        let seq = self.store.last_change().await?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Document, String>>(256);
        let index = self.index.clone();
        let writer = tokio::task::spawn_blocking(move || {
            index.rebuild_from(std::iter::from_fn(|| rx.blocking_recv()), seq)
        });
        if let Err(e) = self.stream_documents(&tx).await {
            // The writer sees the error, rolls back and keeps the old index.
            let _ = tx.send(Err(e.to_string())).await;
        }
        drop(tx);
        let n = writer
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
        tracing::info!(documents = n, seq, "search index rebuilt");
        Ok(n)
    }

    /// Applies the changes logged since the index's last commit, or rebuilds
    /// when the index is new, a reference data set changed, or so many
    /// changes are pending that a rebuild is cheaper than applying them one
    /// by one (a large import).
    pub async fn catch_up_index(&self) -> Result<(), AppError> {
        if !self.config.follow_index {
            return Ok(());
        }
        let _writer = self.index_gate.lock().await;
        self.catch_up_index_locked().await
    }

    /// Brings the index up to a write that just committed, so that the
    /// writer finds it in the next search. The write is already stored:
    /// an index failure is logged and left to the background follower,
    /// never returned, so a saved write is never answered with an error.
    /// Concurrent writers queue on the gate and the first catch-up covers
    /// all the writes committed before it, so the others return at once.
    pub async fn index_after_write(&self) {
        if !self.config.follow_index {
            return;
        }
        let target = match self.store.last_change().await {
            Ok(seq) => seq,
            Err(error) => {
                tracing::warn!(%error, "cannot read the change log after a write; the follower will index it");
                return;
            }
        };
        let _writer = self.index_gate.lock().await;
        if self.index.last_seq() >= target && !self.index.needs_rebuild() {
            return;
        }
        if let Err(error) = self.catch_up_index_locked().await {
            tracing::warn!(%error, "search index not updated after a write; the follower will retry");
        }
    }

    /// `catch_up_index` for a caller that holds the index gate.
    async fn catch_up_index_locked(&self) -> Result<(), AppError> {
        let last_change = self.store.last_change().await?;
        // An index ahead of the change log belongs to another database (or
        // to this one before a restore): rebuild rather than trust it.
        if self.index.needs_rebuild()
            || self.index.last_seq() > last_change
            || last_change - self.index.last_seq() > REBUILD_ABOVE
        {
            self.rebuild_index_locked().await?;
            return Ok(());
        }
        let mut applied = false;
        loop {
            let since = self.index.last_seq();
            let changes = self.store.changes_since(since, 1_000).await?;
            let Some(last) = changes.last().map(|c| c.seq) else {
                break;
            };
            if changes.iter().any(|c| c.entity == "reference") {
                self.rebuild_index_locked().await?;
                return Ok(());
            }
            let mut upserts = Vec::new();
            let mut deletes = Vec::new();
            let campus_slugs = self.campus_slugs().await?;
            let mut formation_ids: Vec<i64> = Vec::new();
            for c in &changes {
                let Ok(id) = c.entity_id.parse::<i64>() else {
                    continue;
                };
                match c.entity.as_str() {
                    "formation" => formation_ids.push(id),
                    "member" => match self.store.member(id).await? {
                        Some(m) => {
                            // A provider's name and status show in its formations.
                            for f in self
                                .store
                                .formations(m.campus_id, store::Visibility::All, Some(id))
                                .await?
                            {
                                formation_ids.push(f.id);
                            }
                            upserts.push(member_doc(&m, &campus_slugs));
                        }
                        None => deletes.push((DocKind::Member, id.to_string())),
                    },
                    _ => {}
                }
            }
            formation_ids.sort_unstable();
            formation_ids.dedup();
            let romes = self.rome_labels_for(&formation_ids).await?;
            for chunk in formation_ids.chunks(500) {
                let found = self.store.formations_by_ids(chunk).await?;
                for id in chunk {
                    match found.iter().find(|f| f.id == *id) {
                        Some(f) => upserts.push(formation_doc(f, &campus_slugs, &romes)),
                        None => deletes.push((DocKind::Formation, id.to_string())),
                    }
                }
            }
            let index = self.index.clone();
            tokio::task::spawn_blocking(move || index.apply(upserts, deletes, last))
                .await
                .map_err(|e| AppError::Internal(e.to_string()))??;
            applied = true;
        }
        if applied {
            // Idle servers should not keep the writer's arena.
            let index = self.index.clone();
            tokio::task::spawn_blocking(move || index.release_writer())
                .await
                .map_err(|e| AppError::Internal(e.to_string()))??;
        }
        Ok(())
    }

    /// Follows the change log in the background.
    pub fn spawn_index_follower(&self, every: Duration) {
        let app = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(e) = app.catch_up_index().await {
                    tracing::warn!(error = %e, "search index follower failed");
                }
            }
        });
    }

    async fn campus_slugs(&self) -> Result<HashMap<i64, String>, AppError> {
        Ok(self
            .store
            .campuses()
            .await?
            .into_iter()
            .map(|c| (c.id, c.slug))
            .collect())
    }

    async fn rome_labels_for(&self, ids: &[i64]) -> Result<HashMap<i64, String>, AppError> {
        let mut out = HashMap::new();
        for id in ids {
            let labels: Vec<String> = self
                .store
                .formation_romes(*id)
                .await?
                .into_iter()
                .map(|o| o.label)
                .collect();
            out.insert(*id, labels.join(" "));
        }
        Ok(out)
    }

    /// Sends every document of the index to `tx`, formations page by page.
    async fn stream_documents(
        &self,
        tx: &tokio::sync::mpsc::Sender<Result<Document, String>>,
    ) -> Result<(), AppError> {
        // The writer only stops early after an error of its own.
        let send = |doc: Document| async move {
            tx.send(Ok(doc))
                .await
                .map_err(|_| AppError::Internal("search index writer stopped".into()))
        };
        let slugs = self.campus_slugs().await?;
        let mut titles: HashMap<String, Vec<String>> = HashMap::new();
        for t in self.store.titles(None).await? {
            titles.entry(t.code_rome).or_default().push(t.label);
        }
        for o in self.store.all_occupations().await? {
            let mut body = titles.remove(&o.code_rome).unwrap_or_default().join(" ; ");
            body.push(' ');
            body.push_str(&o.code_rome);
            send(Document {
                kind: DocKind::Occupation,
                id: o.code_rome.clone(),
                title: o.label.clone(),
                body,
                facets: vec![],
                campus: None,
                public: true,
                payload: payload(&o),
            })
            .await?;
        }
        drop(titles);
        for c in self.store.all_certifications().await? {
            let mut facets = Vec::new();
            if let Some(l) = c.level {
                facets.push((Facet::Level, l.to_string()));
            }
            send(Document {
                kind: DocKind::Certification,
                id: c.code.to_string(),
                title: c.label.clone(),
                body: [
                    c.type_label.as_deref(),
                    c.formacode_label.as_deref(),
                    c.code_rncp.as_deref(),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
                facets,
                campus: None,
                public: c.active,
                payload: String::new(),
            })
            .await?;
        }
        for m in self.store.all_members().await? {
            send(member_doc(&m, &slugs)).await?;
        }
        let mut after = 0;
        loop {
            let page = self.store.all_formations(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            let romes = self
                .store
                .formation_rome_labels_between(after, last.id)
                .await?;
            after = last.id;
            for f in &page {
                send(formation_doc(f, &slugs, &romes)).await?;
            }
        }
        Ok(())
    }
}

fn member_doc(m: &MemberRow, slugs: &HashMap<i64, String>) -> Document {
    let mut facets = vec![(Facet::Kind, m.kind.clone())];
    if let Some(d) = &m.departement_code {
        facets.push((Facet::Departement, d.clone()));
    }
    Document {
        kind: DocKind::Member,
        id: m.id.to_string(),
        title: m.name.clone(),
        body: [m.commune_name.as_deref(), m.description.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
        facets,
        campus: slugs.get(&m.campus_id).cloned(),
        public: domain::visibility::member_is_public(&m.status, &m.kind),
        payload: payload(m),
    }
}

fn formation_doc(
    f: &FormationRow,
    slugs: &HashMap<i64, String>,
    romes: &HashMap<i64, String>,
) -> Document {
    let mut facets = vec![
        (Facet::Pathway, f.pathway.clone()),
        (Facet::Modality, f.modality.clone()),
        (Facet::Provider, f.provider_name.clone()),
    ];
    if let Some(l) = f.level {
        facets.push((Facet::Level, l.to_string()));
    }
    if let Some(d) = &f.departement_code {
        facets.push((Facet::Departement, d.clone()));
    }
    let body = [
        f.certification_label.as_deref(),
        Some(f.provider_name.as_str()),
        f.site_name.as_deref(),
        romes.get(&f.id).map(String::as_str),
        f.description.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    Document {
        kind: DocKind::Formation,
        id: f.id.to_string(),
        title: f.title.clone(),
        body,
        facets,
        campus: slugs.get(&f.campus_id).cloned(),
        // A published formation of an outside provider stays visible: the
        // provider's page is what stays private.
        public: domain::visibility::formation_is_public(&f.status),
        payload: payload(f),
    }
}

/// The row a result list shows, stored with its document (see
/// `App::hydrate`).
fn payload(row: &impl serde::Serialize) -> String {
    serde_json::to_string(row).unwrap_or_default()
}
