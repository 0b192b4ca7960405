//! Imports of the observatory's sources: published tension files (shipped
//! or given) and job postings, streamed, all or nothing.

use domain::skills::{SkillLabel, SkillMatcher};
use ingest::tension::Published;
use serde::Serialize;
use store::PostingWrite;

use crate::audit::Event;
use crate::imports::ImportError;
use crate::policy::Actor;
use crate::{App, AppError};

/// What `import tension` did.
#[derive(Debug, Clone, Serialize)]
pub struct TensionImport {
    /// What the file was recognised as.
    pub kind: String,
    /// Rows stored (0 when unchanged).
    pub rows: usize,
    /// The same file was already imported: nothing written.
    pub unchanged: bool,
    /// Rows left out, with their line.
    pub notes: Vec<String>,
}

/// What `import postings` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PostingsReport {
    /// Postings read from the file.
    pub read: usize,
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Postings of the file that repeat an offer already known under
    /// another id (another source): stored, left out of the aggregates.
    pub duplicates: usize,
    /// Postings whose commune could not be placed (counted under no zone).
    pub unplaced: usize,
}

/// FNV-1a 64 of a file, to tell a re-import of the same bytes.
fn checksum(bytes: &[u8], extra: &str) -> String {
    domain::checksum::Fnv1a64::default()
        .update(bytes)
        .update(b"\x1f")
        .update(extra.as_bytes())
        .text()
}

impl App {
    /// Imports one published tension file (see `ingest::tension::read_published`
    /// for the formats), as a whole or not at all; re-importing the same
    /// file changes nothing.
    pub async fn import_tension(
        &self,
        file: &str,
        bytes: &[u8],
        period: Option<&str>,
    ) -> Result<TensionImport, ImportError> {
        let faps = self.store.fap_romes().await?;
        let published = ingest::tension::read_published(file, bytes, period, &faps)
            .map_err(|problems| ImportError::refused(file, &problems))?;
        let base = std::path::Path::new(file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.to_owned());
        // The data and the audit entry commit together (the observatory's
        // cache is keyed by the last audit entry).
        let name = match period {
            Some(p) => format!("{base}@{p}"),
            None => base.clone(),
        };
        let sum = checksum(bytes, period.unwrap_or(""));
        let stored_sum = match &published {
            Published::Values { .. } => self.store.tension_source_checksum(&name).await?,
            _ => None,
        };
        let mut tx = self.store.begin().await?;
        let (kind, rows, notes, unchanged) = match published {
            Published::BasinCommunes(rows) => {
                tx.replace_basin_communes(&rows).await?;
                (
                    "communes des bassins d'emploi".to_owned(),
                    rows.len(),
                    Vec::new(),
                    false,
                )
            }
            Published::FapRomes(rows) => {
                tx.replace_fap_romes(&rows).await?;
                (
                    "table DARES FAP → ROME".to_owned(),
                    rows.len(),
                    Vec::new(),
                    false,
                )
            }
            Published::Values { kind, rows, notes } => {
                if stored_sum.as_deref() == Some(&sum) {
                    (kind.to_owned(), 0, notes, true)
                } else {
                    tx.replace_tension_source(&name, kind, &base, &sum, &rows)
                        .await?;
                    (kind.to_owned(), rows.len(), notes, false)
                }
            }
        };
        let event = Event::new("import.tension").detail(serde_json::json!({
            "file": base, "kind": kind, "rows": rows, "unchanged": unchanged,
        }));
        self.audit_in(&mut tx, &Actor::operator(), event).await?;
        tx.commit().await?;
        Ok(TensionImport {
            kind,
            rows,
            unchanged,
            notes: notes.iter().map(ToString::to_string).collect(),
        })
    }

    /// The skills matcher over every ROME compétence and savoir label.
    pub async fn skill_matcher(&self) -> Result<SkillMatcher, AppError> {
        let labels: Vec<SkillLabel> = self
            .store
            .skill_labels()
            .await?
            .into_iter()
            .map(|(code_ogr, label)| SkillLabel { code_ogr, label })
            .collect();
        tokio::task::spawn_blocking(move || SkillMatcher::new(&labels))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))
    }

    /// Imports a file of job postings (JSON array or JSON lines), all or
    /// nothing, idempotent on the offers' ids; the aggregates are rebuilt in
    /// the same transaction. See [`App::import_postings_from`].
    pub async fn import_postings(
        &self,
        file: &str,
        bytes: Vec<u8>,
    ) -> Result<PostingsReport, ImportError> {
        self.import_postings_from(file, std::io::Cursor::new(bytes))
            .await
    }

    /// Imports a file of job postings read from disk as it goes (see
    /// [`App::import_postings_from`]).
    pub async fn import_postings_file(
        &self,
        file: &str,
        path: &std::path::Path,
    ) -> Result<PostingsReport, ImportError> {
        let f = std::fs::File::open(path)
            .map_err(|e| ImportError::Failed(format!("{} : {e}", path.display())))?;
        self.import_postings_from(file, f).await
    }

    /// Imports job postings streamed from `reader`: JSON lines are parsed in
    /// batches of 16 MB (on every core) while the previous batch is written,
    /// all in one transaction, so that memory stays bounded whatever the
    /// file's size; a JSON array is read whole. A file with a bad posting is
    /// refused as a whole (up to 20 problems listed, with their lines).
    /// Each offer's holder is the smallest id among the postings with its
    /// fingerprint (stored or in the file, the file's version winning),
    /// computed by the database at the end, so a re-import changes nothing.
    pub async fn import_postings_from<R: std::io::Read + Send + 'static>(
        &self,
        file: &str,
        reader: R,
    ) -> Result<PostingsReport, ImportError> {
        let matcher = std::sync::Arc::new(self.skill_matcher().await?);
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let (places, by_postcode) = self.store.commune_places().await?;
        // Two parsed batches wait at most while one is written.
        let (sender, mut batches) = tokio::sync::mpsc::channel::<PostingsBatch>(2);
        let parser = tokio::task::spawn_blocking(move || {
            read_posting_batches(reader, &matcher, threads, &sender)
        });
        let mut tx = self.store.begin().await?;
        tx.bulk_cache(Some(POSTINGS_CACHE_MIB)).await?;
        tx.begin_postings_import().await?;
        let mut report = PostingsReport::default();
        let mut problems: Vec<ingest::postings::PostingProblem> = Vec::new();
        let mut written = 0u64;
        let empty = (String::new(), String::new());
        while let Some(batch) = batches.recv().await {
            let postings = match batch {
                Ok(p) => p,
                Err(p) => {
                    problems.extend(p);
                    if problems.len() >= POSTINGS_MAX_PROBLEMS {
                        break;
                    }
                    continue;
                }
            };
            report.read += postings.len();
            if !problems.is_empty() {
                // Refused already: read on for its other problems only.
                continue;
            }
            let writes: Vec<PostingWrite<'_>> = postings
                .iter()
                .map(|p| {
                    let code_insee = p
                        .code_insee
                        .as_deref()
                        .filter(|c| places.contains_key(*c))
                        .or_else(|| {
                            p.postcode
                                .as_deref()
                                .and_then(|pc| by_postcode.get(pc))
                                .map(String::as_str)
                        });
                    let (ze, dep) = code_insee.and_then(|c| places.get(c)).unwrap_or(&empty);
                    PostingWrite {
                        posting: p,
                        code_insee,
                        employment_area_code: ze,
                        departement_code: dep,
                        duplicate_of: None,
                    }
                })
                .collect();
            let flags = tx.stage_postings(&writes).await?;
            for (w, was_written) in writes.iter().zip(flags) {
                if was_written {
                    written += 1;
                    if w.code_insee.is_none() {
                        report.unplaced += 1;
                    }
                }
            }
        }
        drop(batches);
        parser
            .await
            .map_err(|e| ImportError::Failed(e.to_string()))?
            .map_err(|e| ImportError::Failed(format!("{file} : {e}")))?;
        if !problems.is_empty() {
            tx.rollback().await?;
            problems.sort_by_key(|p| p.line);
            problems.truncate(POSTINGS_MAX_PROBLEMS);
            return Err(ImportError::Refused {
                file: file.to_owned(),
                problems: problems
                    .into_iter()
                    .map(|p| format!("{file}, ligne {} : {}", p.line, p.message))
                    .collect(),
            });
        }
        let counts = tx.finish_postings_import(written).await?;
        report.new = counts.new as usize;
        report.updated = counts.updated as usize;
        report.unchanged = counts.unchanged as usize;
        report.duplicates = counts.duplicates as usize;
        if counts.rows_written > 0 {
            tx.refresh_posting_aggregates().await?;
        }
        let event = Event::new("import.postings").detail(serde_json::json!({
            "file": file, "read": report.read, "new": report.new, "updated": report.updated,
            "unchanged": report.unchanged, "duplicates": report.duplicates,
        }));
        self.audit_in(&mut tx, &Actor::operator(), event).await?;
        tx.bulk_cache(None).await?;
        tx.commit().await?;
        Ok(report)
    }
}

/// Bytes of JSON lines parsed and written per batch of a postings import:
/// what bounds its memory, whatever the file's size.
const POSTINGS_BATCH_BYTES: usize = 16 << 20;

/// SQLite page cache (MiB) of a postings import: a million postings dirty
/// several hundred MB, more than the memory the import may take, so the
/// cache holds the hot index pages and the rest is spilled to the WAL.
const POSTINGS_CACHE_MIB: u32 = 64;

/// Most problems listed before a refused postings file stops being read.
const POSTINGS_MAX_PROBLEMS: usize = 20;

/// One parsed batch of a postings file, or its problems (lines counted from
/// the start of the file).
type PostingsBatch = Result<Vec<ingest::postings::Posting>, Vec<ingest::postings::PostingProblem>>;

/// Reads `reader` in batches of whole lines, parses each on `threads`
/// threads and sends it; a JSON array (not cut at lines) is read whole.
/// Stops early when the receiver is gone.
fn read_posting_batches<R: std::io::Read>(
    mut reader: R,
    matcher: &SkillMatcher,
    threads: usize,
    out: &tokio::sync::mpsc::Sender<PostingsBatch>,
) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(POSTINGS_BATCH_BYTES + (1 << 20));
    let mut block = vec![0u8; 1 << 20];
    let mut eof = false;
    let mut first = true;
    // Number of the first line of `buf`.
    let mut line = 1usize;
    loop {
        while buf.len() < POSTINGS_BATCH_BYTES && !eof {
            let n = reader.read(&mut block)?;
            if n == 0 {
                eof = true;
            }
            buf.extend_from_slice(&block[..n]);
        }
        if first {
            first = false;
            let text = buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&buf);
            if text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
                reader.read_to_end(&mut buf)?;
                let _ = out.blocking_send(ingest::postings::read_postings(&buf, matcher, threads));
                return Ok(());
            }
        }
        let cut = if eof {
            buf.len()
        } else {
            match buf.iter().rposition(|b| *b == b'\n') {
                Some(p) => p + 1,
                // A line longer than a batch: read on.
                None => {
                    buf.reserve(POSTINGS_BATCH_BYTES);
                    let n = reader.read(&mut block)?;
                    if n == 0 {
                        eof = true;
                    }
                    buf.extend_from_slice(&block[..n]);
                    continue;
                }
            }
        };
        let chunk = &buf[..cut];
        let parsed = ingest::postings::read_postings(chunk, matcher, threads).map_err(|mut p| {
            for x in &mut p {
                x.line += line - 1;
            }
            p
        });
        if out.blocking_send(parsed).is_err() {
            return Ok(());
        }
        line += chunk.iter().filter(|b| **b == b'\n').count();
        buf.drain(..cut);
        if eof && buf.is_empty() {
            return Ok(());
        }
    }
}

/// The published tension files shipped in `data/observatoire/`, crosswalks
/// first, with the edition of those that do not carry it.
pub const SHIPPED_TENSION: [(&str, Option<&str>); 5] = [
    ("labonneboite_lbb-pse_bassin-emploi_code-insee.csv", None),
    ("dares_Rome-V3_vers_Fap-2009_Table.csv", None),
    ("mobiville_cities-tension-utf8.csv", None),
    ("labonneboite_metiers_tension_2019.csv", Some("2019")),
    ("labonneboite_metiers_tension.csv", Some("2020")),
];

impl App {
    /// A file shipped compressed in `data/DIR/NAME.gz`, decompressed.
    pub(crate) fn read_shipped(&self, dir: &str, name: &str) -> Result<Vec<u8>, ImportError> {
        let path = self.config.data_dir.join(dir).join(format!("{name}.gz"));
        let gz = std::fs::read(&path)
            .map_err(|e| ImportError::Failed(format!("{} : {e}", path.display())))?;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz.as_slice()), &mut bytes)
            .map_err(|e| {
                ImportError::Failed(format!("{} : gzip illisible : {e}", path.display()))
            })?;
        Ok(bytes)
    }

    /// Imports the tension files shipped in `data/observatoire/`.
    pub async fn import_shipped_tension(
        &self,
    ) -> Result<Vec<(String, TensionImport)>, ImportError> {
        let mut out = Vec::new();
        for (name, period) in SHIPPED_TENSION {
            let bytes = self.read_shipped("observatoire", name)?;
            let r = self.import_tension(name, &bytes, period).await?;
            out.push((name.to_owned(), r));
        }
        Ok(out)
    }
}

/// The tension indicator recomputed from a file of its components (see
/// `domain::tension`), with the rows left out and why.
#[derive(Debug, Clone)]
pub struct ComputedTension {
    /// One indicator per computable row.
    pub rows: Vec<domain::tension::IndicatorRow>,
    /// (line, reason) of each row left out, the reading problem first.
    pub left_out: Vec<(usize, String)>,
}

/// Recomputes the tension indicator from a CSV of its components, μ and σ
/// taken over the `reference` years; no database involved. A file that
/// cannot be read is refused with every problem.
pub fn compute_tension(
    file: &str,
    bytes: &[u8],
    reference: &std::ops::RangeInclusive<i32>,
) -> Result<ComputedTension, ImportError> {
    let (rows, notes) = ingest::tension::read_components(file, bytes)
        .map_err(|problems| ImportError::refused(file, &problems))?;
    let (out, uncomputable) = domain::tension::compute(&rows, reference);
    let mut reported = std::collections::BTreeMap::new();
    for u in notes.into_iter().chain(uncomputable) {
        reported.entry(u.line).or_insert(u.reason);
    }
    Ok(ComputedTension {
        rows: out,
        left_out: reported.into_iter().collect(),
    })
}

/// Counts postings per ROME × zone d'emploi × month straight from a JSON
/// lines file on `threads` threads: the counting step alone, which the
/// postings benchmark compares with DuckDB.
pub use ingest::postings::count_by_rome_area_month;
