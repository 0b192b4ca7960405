//! The observatory (issue #4): importing published tension indicators and
//! job postings, and putting them next to a campus' own formations — the
//! ranked list of métiers in difficulty on the campus' perimeter and the
//! program-gap analysis. Every rule is written in `docs/OBSERVATORY.md`.
//!
//! The unit is the ROME v3 fiche (`code_rome_parent` of ROME 4.0): the one
//! the tension files, Certif Info and RNCP use. Aggregates are computed at
//! import; a page only reads them and joins a few hundred rows.

use std::collections::{BTreeMap, HashMap, HashSet};

use domain::skills::{SkillLabel, SkillMatcher};
use ingest::tension::{Published, INDICATORS};
use serde::Serialize;
use store::{PostingWrite, Visibility};

use crate::audit::Event;
use crate::imports::ImportError;
use crate::policy::{authorize, Action, Actor, Resource};
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
        let published =
            ingest::tension::read_published(file, bytes, period, &faps).map_err(|problems| {
                ImportError::Refused {
                    file: file.to_owned(),
                    problems,
                }
            })?;
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
            notes,
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
}

/// Synthetic postings the demonstration imports.
pub const DEMO_POSTINGS: usize = 4_000;

/// Seed of the demonstration's postings (ids `SYN3cd…`), other than the
/// command's default, so that the two sets do not share ids.
pub const DEMO_SEED: u64 = 973;

impl App {
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
}

/// One dimension of tension for a métier on the perimeter.
#[derive(Debug, Clone, Serialize)]
pub struct Dimension {
    pub code: String,
    pub label: String,
    /// Level 1–5, offers-weighted mean over the perimeter's bassins, rounded.
    pub level: Option<u8>,
}

/// A métier of the campus' sector on its perimeter.
#[derive(Debug, Clone, Serialize)]
pub struct MetierLine {
    /// ROME v3 fiche.
    pub code_rome: String,
    pub label: String,
    /// Whether the fiche is in the sector's ROME domains (the others are
    /// shown because the campus trains for them).
    pub in_sector: bool,
    /// Level of the main indicator (1–5) on the latest period, if published.
    pub level: Option<u8>,
    /// Period of that level.
    pub period: Option<String>,
    /// The explanatory dimensions, in the order of `INDICATORS`.
    pub dimensions: Vec<Dimension>,
    /// Level of the main indicator per period, oldest first.
    pub trend: Vec<(String, u8)>,
    /// Level of the main indicator in each territory of the perimeter
    /// (bassins, or the narrowest type published), for the map.
    pub places: Vec<(String, u8)>,
    /// Offers registered (published average) summed over the perimeter.
    pub offers: Option<f64>,
    /// Job seekers A, B, C summed over the perimeter.
    pub jobseekers: Option<f64>,
    /// Share of recruitment projects judged difficult, national (BMO).
    pub bmo_difficult_pct: Option<f64>,
    /// That share per edition, oldest first.
    pub bmo_trend: Vec<(String, f64)>,
    /// Duncan index of offers against job seekers over the perimeter's
    /// bassins (0: same spread, 1: never in the same bassin), computed here.
    pub geographic_mismatch: Option<f64>,
    /// BMO projects on the perimeter's bassins, when published.
    pub bmo_projects: Option<f64>,
    /// Planned hires of the campus' latest survey (hidden from those who
    /// may not see a suppressed cell).
    pub survey_planned: Option<i64>,
    /// Postings of the last 12 months of data on the perimeter.
    pub postings: i64,
    /// Positions of those postings.
    pub positions: i64,
    /// Places of the campus' formations leading to the métier (split).
    pub supply: f64,
    /// Demand per the rule of `docs/OBSERVATORY.md`, and its source.
    pub demand: Option<f64>,
    pub demand_source: &'static str,
    /// Demand − supply.
    pub gap: Option<f64>,
    /// Demand ÷ supply.
    pub ratio: Option<f64>,
    /// Most asked skills in the perimeter's postings.
    pub top_skills: Vec<(i64, String, i64)>,
    /// Asked skills that the blocs of the campus' certifications do not cover.
    pub uncovered_skills: Vec<(i64, String, i64)>,
    /// The campus' formations leading to it: id, title, places.
    pub formations: Vec<(i64, String, Option<i64>)>,
}

/// The campus observatory.
#[derive(Debug, Clone, Serialize)]
pub struct Observatory {
    pub campus_slug: String,
    pub campus_name: String,
    /// ROME domains of the sector.
    pub domains: Vec<String>,
    /// Whether they are the filière's defaults (else the campus' own).
    pub domains_are_defaults: bool,
    /// Perimeter: communes, zones d'emploi, départements, bassins d'emploi.
    pub communes: usize,
    pub employment_areas: Vec<String>,
    pub departements: Vec<String>,
    pub basins: Vec<String>,
    /// The bassin of each commune of the perimeter (for the map).
    pub commune_basins: Vec<(String, String)>,
    /// Imported tension sources.
    pub sources: Vec<store::TensionSourceRow>,
    /// Months of postings counted (the last 12 of the data).
    pub posting_months: Vec<String>,
    /// Whether postings counted include generated ones.
    pub synthetic_postings: bool,
    /// Métiers, most in difficulty first.
    pub metiers: Vec<MetierLine>,
    /// Graduate outcomes of the campus' formations (InserJeunes).
    pub outcomes: Vec<FormationOutcome>,
    /// What the page must say about thin or missing data.
    pub warnings: Vec<String>,
}

/// The outcomes of one formation of the campus: the latest millésime of its
/// certification in its région, one line per voie.
#[derive(Debug, Clone, Serialize)]
pub struct FormationOutcome {
    pub formation_id: i64,
    pub title: String,
    pub outcome: store::OutcomeRow,
}

/// What an observatory view depends on besides the data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ObservatoryKey {
    campus_id: i64,
    what_if: Option<(i64, i64)>,
    period: Option<String>,
    manager: bool,
}

/// Computed observatory views, each with the data version it was computed
/// at; a view is reused while the version holds. Per server: another
/// server's writes change the version too, since it is read from the
/// database.
#[derive(Default)]
pub(crate) struct ObservatoryCache(std::sync::Mutex<HashMap<ObservatoryKey, CachedView>>);

/// A view and the data version it was computed at.
type CachedView = ((i64, i64), std::sync::Arc<Observatory>);

/// Views kept at most (what-ifs multiply them).
const CACHED_VIEWS: usize = 256;

impl ObservatoryCache {
    fn get(
        &self,
        key: &ObservatoryKey,
        version: (i64, i64),
    ) -> Option<std::sync::Arc<Observatory>> {
        let map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(key)
            .filter(|(v, _)| *v == version)
            .map(|(_, o)| o.clone())
    }

    fn put(&self, key: ObservatoryKey, version: (i64, i64), o: std::sync::Arc<Observatory>) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= CACHED_VIEWS {
            map.retain(|_, (v, _)| *v == version);
            if map.len() >= CACHED_VIEWS {
                map.clear();
            }
        }
        map.insert(key, (version, o));
    }
}

/// « Open N places of certification C » for the what-if of the gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WhatIf {
    pub certification_code: i64,
    pub places: i64,
}

impl WhatIf {
    /// Reads `CODE=PLACES`.
    pub fn parse(text: &str) -> Option<Self> {
        let (code, places) = text.split_once('=')?;
        Some(Self {
            certification_code: code.trim().parse().ok()?,
            places: places
                .trim()
                .parse()
                .ok()
                .filter(|p: &i64| (1..=MAX_WHAT_IF_PLACES).contains(p))?,
        })
    }
}

/// Most places a what-if may add: more than any real formation opens, and
/// a bound on the keys of the view cache.
pub const MAX_WHAT_IF_PLACES: i64 = 10_000;

/// The tables of the observatory, for the CLI, the exports and the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// Métiers in difficulty with their dimensions.
    Tension,
    /// Demand against supply.
    Gap,
    /// Skills asked, covered or not by the campus' certifications.
    Skills,
    /// Graduate outcomes of the campus' formations.
    Outcomes,
}

impl TableKind {
    /// From its name in URLs and file names.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "tension" => Some(Self::Tension),
            "ecart" | "gap" => Some(Self::Gap),
            "competences" | "skills" => Some(Self::Skills),
            "devenir" | "outcomes" => Some(Self::Outcomes),
            _ => None,
        }
    }

    /// Its name in URLs and file names.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tension => "tension",
            Self::Gap => "ecart",
            Self::Skills => "competences",
            Self::Outcomes => "devenir",
        }
    }
}

/// Rounds to two decimals.
fn two(v: f64) -> serde_json::Value {
    serde_json::json!((v * 100.0).round() / 100.0)
}

fn opt_two(v: Option<f64>) -> serde_json::Value {
    v.map_or(serde_json::Value::Null, two)
}

impl Observatory {
    /// One table as columns and typed cells (numbers stay numbers in JSON).
    pub fn records(&self, kind: TableKind) -> (Vec<&'static str>, Vec<Vec<serde_json::Value>>) {
        use serde_json::json;
        match kind {
            TableKind::Tension => {
                let mut columns = vec![
                    "rank",
                    "code_rome",
                    "label",
                    "in_sector",
                    "period",
                    "level",
                    "offers",
                    "jobseekers",
                    "bmo_difficult_pct",
                    "geo_mismatch_duncan",
                    "postings",
                ];
                columns.extend(DIMENSION_COLUMNS);
                let rows = self
                    .metiers
                    .iter()
                    .enumerate()
                    .map(|(i, m)| {
                        let mut r = vec![
                            json!(i + 1),
                            json!(m.code_rome),
                            json!(m.label),
                            json!(m.in_sector),
                            json!(m.period),
                            json!(m.level),
                            opt_two(m.offers),
                            opt_two(m.jobseekers),
                            opt_two(m.bmo_difficult_pct),
                            opt_two(m.geographic_mismatch),
                            json!(m.postings),
                        ];
                        r.extend(m.dimensions.iter().map(|d| json!(d.level)));
                        r
                    })
                    .collect();
                (columns, rows)
            }
            TableKind::Gap => (
                vec![
                    "code_rome",
                    "label",
                    "level",
                    "survey_planned",
                    "bmo_projects",
                    "postings",
                    "positions",
                    "demand",
                    "demand_source",
                    "supply",
                    "gap",
                    "ratio",
                ],
                self.metiers
                    .iter()
                    .map(|m| {
                        vec![
                            json!(m.code_rome),
                            json!(m.label),
                            json!(m.level),
                            json!(m.survey_planned),
                            opt_two(m.bmo_projects),
                            json!(m.postings),
                            json!(m.positions),
                            opt_two(m.demand),
                            json!(m.demand_source),
                            two(m.supply),
                            opt_two(m.gap),
                            opt_two(m.ratio),
                        ]
                    })
                    .collect(),
            ),
            TableKind::Outcomes => (
                vec![
                    "formation_id",
                    "formation",
                    "cfd",
                    "millesime",
                    "region",
                    "voie",
                    "rncp_level",
                    "leavers",
                    "employment_6m_pct",
                    "employment_12m_pct",
                    "further_study_pct",
                    "favourable_pct",
                    "quadrant",
                ],
                self.outcomes
                    .iter()
                    .map(|f| {
                        let o = &f.outcome;
                        vec![
                            json!(f.formation_id),
                            json!(f.title),
                            json!(o.cfd),
                            json!(o.millesime),
                            json!(o.region_code),
                            json!(o.voie),
                            json!(o.rncp_level),
                            json!(o.leavers),
                            opt_two(o.rate_employed_6m),
                            opt_two(o.rate_employed_12m),
                            opt_two(o.rate_further_study),
                            opt_two(o.rate_favourable),
                            json!(o.quadrant),
                        ]
                    })
                    .collect(),
            ),
            TableKind::Skills => {
                let mut rows = Vec::new();
                for m in &self.metiers {
                    for (code, label, n) in &m.top_skills {
                        let covered = !m.uncovered_skills.iter().any(|u| u.0 == *code);
                        rows.push(vec![
                            json!(m.code_rome),
                            json!(m.label),
                            json!(code),
                            json!(label),
                            json!(n),
                            json!(covered),
                        ]);
                    }
                }
                (
                    vec![
                        "code_rome",
                        "label",
                        "code_ogr",
                        "skill",
                        "postings",
                        "covered",
                    ],
                    rows,
                )
            }
        }
    }

    /// One table as a CSV (`;`, UTF-8 with BOM) or ODS file, with its media type.
    fn export(&self, kind: TableKind, ods: bool) -> Result<(Vec<u8>, &'static str), AppError> {
        let (headers, cells) = self.text_table(kind);
        let table = ingest::sheet::Table::new(headers, cells);
        let format = if ods {
            ingest::sheet::SheetFormat::Ods
        } else {
            ingest::sheet::SheetFormat::Csv
        };
        let mut bytes = Vec::new();
        ingest::sheet::write_table(&table, format, &mut bytes)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok((bytes, format.media_type()))
    }

    /// One table as text cells, for CSV and ODS exports.
    pub fn text_table(&self, kind: TableKind) -> (Vec<String>, Vec<Vec<String>>) {
        let (columns, rows) = self.records(kind);
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Bool(true) => "oui".into(),
            serde_json::Value::Bool(false) => "non".into(),
            other => other.to_string(),
        };
        (
            columns.into_iter().map(str::to_owned).collect(),
            rows.iter().map(|r| r.iter().map(text).collect()).collect(),
        )
    }
}

/// Column names of the dimensions, in the order of `INDICATORS[1..9]`.
const DIMENSION_COLUMNS: [&str; 8] = [
    "perspective",
    "int_emb",
    "main_oeuvre",
    "dur_empl",
    "cond_travail",
    "mismatch_geo",
    "specif_form_empl",
    "attr_salariale",
];

/// The rounded mean of levels weighted by `w` (equal weights when all zero).
fn weighted_level(levels: &[(i64, f64)]) -> Option<u8> {
    if levels.is_empty() {
        return None;
    }
    let total: f64 = levels.iter().map(|(_, w)| w).sum();
    let mean = if total > 0.0 {
        levels.iter().map(|(l, w)| *l as f64 * w).sum::<f64>() / total
    } else {
        levels.iter().map(|(l, _)| *l as f64).sum::<f64>() / levels.len() as f64
    };
    Some(mean.round().clamp(1.0, 5.0) as u8)
}

impl App {
    /// The observatory of a campus; `what_if` adds places to its supply,
    /// `period` chooses the tension period shown (default: the latest).
    pub async fn observatory(
        &self,
        actor: &Actor,
        campus_slug: &str,
        what_if: Option<WhatIf>,
        period: Option<&str>,
    ) -> Result<Observatory, AppError> {
        self.observatory_for(actor, campus_slug, what_if, period, true)
            .await
    }

    /// The certifications the campus' formations prepare, (code, label)
    /// by code: the choices of the observatory's « what if » form.
    pub async fn what_if_certifications(
        &self,
        actor: &Actor,
        campus_slug: &str,
    ) -> Result<Vec<(i64, String)>, AppError> {
        let campus = self.campus(campus_slug).await?;
        authorize(actor, Action::ReadAggregate, Resource::Campus(campus.id))?;
        let mut certifications: Vec<(i64, String)> = self
            .store
            .formations(campus.id, Visibility::All, None)
            .await?
            .into_iter()
            .filter_map(|f| {
                Some((
                    f.certification_code?,
                    f.certification_label.unwrap_or(f.title),
                ))
            })
            .collect();
        certifications.sort();
        certifications.dedup_by_key(|c| c.0);
        Ok(certifications)
    }

    /// Commune code → zone d'emploi code, for the postings benchmark's
    /// baseline (public reference data).
    pub async fn commune_zones(&self) -> Result<HashMap<String, String>, AppError> {
        let (places, _) = self.store.commune_places().await?;
        Ok(places
            .into_iter()
            .map(|(code, (ze, _))| (code, ze))
            .collect())
    }

    /// One table of the observatory as a CSV or ODS file. Exports never
    /// carry a suppressed survey cell, whoever asks.
    pub async fn observatory_export(
        &self,
        actor: &Actor,
        campus_slug: &str,
        kind: TableKind,
        ods: bool,
    ) -> Result<(Vec<u8>, &'static str), AppError> {
        self.observatory_for(actor, campus_slug, None, None, false)
            .await?
            .export(kind, ods)
    }

    /// The observatory; `confidential`: whether a campus manager sees
    /// suppressed survey cells (on pages; never in exports or at the
    /// command line, whose output is an export).
    pub async fn observatory_for(
        &self,
        actor: &Actor,
        campus_slug: &str,
        what_if: Option<WhatIf>,
        period: Option<&str>,
        confidential: bool,
    ) -> Result<Observatory, AppError> {
        let campus = self.campus(campus_slug).await?;
        authorize(actor, Action::ReadAggregate, Resource::Campus(campus.id))?;
        let manager = confidential
            && crate::policy::allows(actor, Action::Manage, Resource::Campus(campus.id));
        // Parameters are checked against what exists before anything is
        // computed: each new combination would cost a whole build.
        if let Some(w) = what_if {
            let places_ok = (1..=MAX_WHAT_IF_PLACES).contains(&w.places);
            let known = self
                .store
                .formations(campus.id, store::Visibility::All, None)
                .await?
                .iter()
                .any(|f| f.certification_code == Some(w.certification_code));
            if !places_ok || !known {
                return Err(AppError::Invalid(vec![domain::network::FieldError::new(
                    if known { "places" } else { "certification" },
                    if known {
                        format!("le nombre de places doit aller de 1 à {MAX_WHAT_IF_PLACES}")
                    } else {
                        "aucune formation du campus ne prépare cette certification".to_owned()
                    },
                )]));
            }
        }
        if let Some(p) = period {
            let base = Box::pin(self.observatory_for(actor, campus_slug, None, None, confidential))
                .await?;
            let known = base
                .metiers
                .iter()
                .any(|m| m.trend.iter().any(|(q, _)| q == p));
            if !known {
                return Err(AppError::Invalid(vec![domain::network::FieldError::new(
                    "periode",
                    "aucun indicateur de tension n'est publié pour cette période",
                )]));
            }
        }
        // Every write the observatory depends on is audited (imports, edits,
        // survey answers, settings): the log's last entry versions the view.
        let version = self.store.data_version().await?;
        let key = ObservatoryKey {
            campus_id: campus.id,
            what_if: what_if.map(|w| (w.certification_code, w.places)),
            period: period.map(str::to_owned),
            manager,
        };
        if let Some(hit) = self.observatory_cache.get(&key, version) {
            return Ok((*hit).clone());
        }
        // One uncached view is computed at a time on this server (a build
        // takes seconds of CPU): requests for others wait, and find the
        // view in the cache if it was the same one.
        let _build = self
            .observatory_builds
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        if let Some(hit) = self.observatory_cache.get(&key, version) {
            return Ok((*hit).clone());
        }
        let o = self
            .build_observatory(campus, what_if, period, manager)
            .await?;
        self.observatory_cache
            .put(key, version, std::sync::Arc::new(o.clone()));
        Ok(o)
    }

    /// Computes the observatory (see [`App::observatory_for`]); `manager`:
    /// whether suppressed survey cells are used.
    async fn build_observatory(
        &self,
        campus: store::CampusRow,
        what_if: Option<WhatIf>,
        period: Option<&str>,
        manager: bool,
    ) -> Result<Observatory, AppError> {
        let own = self.store.campus_rome_domains(campus.id).await?;
        let domains_are_defaults = own.is_empty();
        let domains: Vec<String> = if own.is_empty() {
            domain::Sector::parse(&campus.sector)
                .map(|s| {
                    s.default_rome_domains()
                        .iter()
                        .map(|d| (*d).to_owned())
                        .collect()
                })
                .unwrap_or_default()
        } else {
            own
        };
        let domain_refs: Vec<&str> = domains.iter().map(String::as_str).collect();

        let communes = self.store.perimeter_communes(campus.id).await?;
        let codes: Vec<String> = communes.iter().map(|c| c.code_insee.clone()).collect();
        let mut areas: Vec<String> = communes
            .iter()
            .filter_map(|c| c.employment_area_code.clone())
            .collect();
        areas.sort();
        areas.dedup();
        let mut deps: Vec<String> = communes
            .iter()
            .map(|c| c.departement_code.clone())
            .collect();
        deps.sort();
        deps.dedup();
        let mut regions: Vec<String> = communes.iter().map(|c| c.region_code.clone()).collect();
        regions.sort();
        regions.dedup();
        let commune_basins = self.store.commune_basins(&codes).await?;
        let mut basins: Vec<String> = commune_basins.iter().map(|(_, b)| b.clone()).collect();
        basins.sort();
        basins.dedup();

        let mut places: Vec<(String, String)> = Vec::new();
        places.extend(basins.iter().map(|b| ("bassin".to_owned(), b.clone())));
        places.extend(areas.iter().map(|a| ("zone_emploi".to_owned(), a.clone())));
        places.extend(deps.iter().map(|d| ("departement".to_owned(), d.clone())));
        places.extend(regions.iter().map(|r| ("region".to_owned(), r.clone())));
        let values = self.store.tension_values_in(&places).await?;

        // Labels of the v3 fiches, and which fiches belong to the sector.
        let mut labels: HashMap<String, String> = HashMap::new();
        for (code, parent, label) in self.store.rome_parents().await? {
            if code == parent {
                labels.insert(code, label);
            } else {
                labels.entry(parent).or_insert(label);
            }
        }
        let in_sector = |code: &str| domain::in_rome_domains(code, &domain_refs);

        // Local values (not national), per métier: the latest period's.
        #[derive(Default)]
        struct Acc {
            periods: BTreeMap<String, Vec<(i64, f64)>>,
            /// (period, territory) → level of the main indicator.
            places: BTreeMap<(String, String), u8>,
            dims: BTreeMap<(String, String), Vec<(i64, f64)>>,
            offers: BTreeMap<String, f64>,
            seekers: BTreeMap<String, f64>,
            /// (period, bassin) → (offers, job seekers), for the Duncan index.
            spread: BTreeMap<(String, String), (Option<f64>, Option<f64>)>,
            bmo_pct: BTreeMap<String, f64>,
            bmo_projects: BTreeMap<String, f64>,
        }
        let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
        // Offers per (métier, place, period), the weight of its levels.
        let mut weight: HashMap<(&str, &str, &str, &str), f64> = HashMap::new();
        for v in &values {
            if v.indicator == "OFFRES" {
                if let Some(x) = v.value {
                    weight.insert(
                        (
                            &v.code_rome,
                            &v.territory_type,
                            &v.territory_code,
                            &v.period,
                        ),
                        x,
                    );
                }
            }
        }
        // The narrowest territory type that has data is used, so that a
        // bassin value and its département's are not mixed.
        let narrowest = ["bassin", "zone_emploi", "departement", "region"]
            .into_iter()
            .find(|t| {
                values
                    .iter()
                    .any(|v| v.territory_type == *t && v.level.is_some())
            });
        for v in &values {
            if !in_sector(&v.code_rome) {
                continue;
            }
            let a = acc.entry(v.code_rome.clone()).or_default();
            let w = weight
                .get(&(
                    v.code_rome.as_str(),
                    v.territory_type.as_str(),
                    v.territory_code.as_str(),
                    v.period.as_str(),
                ))
                .copied()
                .unwrap_or(0.0);
            match (v.indicator.as_str(), v.territory_type.as_str()) {
                ("BMO_DIFFICILE_PCT", "national") => {
                    if let Some(x) = v.value {
                        a.bmo_pct.insert(v.period.clone(), x);
                    }
                }
                (_, "national") => {}
                ("OFFRES", t) => {
                    *a.offers.entry(v.period.clone()).or_default() += v.value.unwrap_or(0.0);
                    if t == "bassin" {
                        a.spread
                            .entry((v.period.clone(), v.territory_code.clone()))
                            .or_default()
                            .0 = v.value;
                    }
                }
                ("DEFM_ABC", t) => {
                    *a.seekers.entry(v.period.clone()).or_default() += v.value.unwrap_or(0.0);
                    if t == "bassin" {
                        a.spread
                            .entry((v.period.clone(), v.territory_code.clone()))
                            .or_default()
                            .1 = v.value;
                    }
                }
                ("BMO_PROJETS", "bassin") => {
                    *a.bmo_projects.entry(v.period.clone()).or_default() += v.value.unwrap_or(0.0)
                }
                (ind, t) if Some(t) == narrowest => {
                    if let Some(l) = v.level {
                        if ind == "TENSION" {
                            a.periods.entry(v.period.clone()).or_default().push((l, w));
                            a.places.insert(
                                (v.period.clone(), v.territory_code.clone()),
                                u8::try_from(l).unwrap_or(0),
                            );
                        } else {
                            a.dims
                                .entry((v.period.clone(), ind.to_owned()))
                                .or_default()
                                .push((l, w));
                        }
                    }
                }
                _ => {}
            }
        }

        // Postings of the last 12 months of data on the perimeter.
        let demand_rows = self.store.posting_demand_in(&areas, &deps).await?;
        let mut months: Vec<String> = demand_rows.iter().map(|r| r.month.clone()).collect();
        months.sort();
        months.dedup();
        let recent: HashSet<String> = months.iter().rev().take(12).cloned().collect();
        let mut posting_months: Vec<String> = recent.iter().cloned().collect();
        posting_months.sort();
        let mut postings: HashMap<String, (i64, i64)> = HashMap::new();
        let mut synthetic = false;
        for r in demand_rows.iter().filter(|r| recent.contains(&r.month)) {
            let e = postings.entry(r.code_rome.clone()).or_default();
            e.0 += r.postings;
            e.1 += r.positions;
            synthetic |= r.synthetic > 0;
        }
        let skills = self.store.skill_demand_in(&deps).await?;
        let mut skills_by_rome: BTreeMap<String, BTreeMap<i64, (String, i64)>> = BTreeMap::new();
        for s in skills {
            let e = skills_by_rome
                .entry(s.code_rome)
                .or_default()
                .entry(s.code_ogr)
                .or_insert((s.label, 0));
            e.1 += s.postings;
        }

        // Supply: places of the campus' formations, split over their métiers.
        let formations = self
            .store
            .formations(campus.id, Visibility::All, None)
            .await?;
        let mut supply: HashMap<String, f64> = HashMap::new();
        let mut leading: HashMap<String, Vec<(i64, String, Option<i64>)>> = HashMap::new();
        let mut blocs_by_rome: HashMap<String, String> = HashMap::new();
        for f in &formations {
            let romes: Vec<String> = self
                .store
                .formation_romes(f.id)
                .await?
                .into_iter()
                .map(|o| o.code_rome)
                .collect();
            let blocs = self.certification_blocs_text(f.certification_code).await?;
            for r in &romes {
                *supply.entry(r.clone()).or_default() +=
                    f.capacity.unwrap_or(0) as f64 / romes.len() as f64;
                leading
                    .entry(r.clone())
                    .or_default()
                    .push((f.id, f.title.clone(), f.capacity));
                let b = blocs_by_rome.entry(r.clone()).or_default();
                b.push_str(&blocs);
            }
        }
        if let Some(w) = what_if {
            let romes = self
                .store
                .certification_occupations(w.certification_code)
                .await?;
            if romes.is_empty() {
                return Err(AppError::NotFound(format!(
                    "certification {} ou ses métiers",
                    w.certification_code
                )));
            }
            for r in &romes {
                *supply.entry(r.code_rome.clone()).or_default() +=
                    w.places as f64 / romes.len() as f64;
            }
        }

        let survey = self.survey_demand(campus.id).await?;
        let mut codes: Vec<String> = acc.keys().cloned().collect();
        codes.extend(survey.keys().cloned());
        codes.extend(postings.keys().filter(|c| in_sector(c)).cloned());
        codes.extend(leading.keys().cloned());
        // The métiers the campus trains for, and those of a what-if, even
        // outside the sector.
        codes.extend(supply.keys().cloned());
        codes.sort();
        codes.dedup();
        let empty = Acc::default();
        let mut metiers: Vec<MetierLine> = codes
            .into_iter()
            .map(|code| {
                let a = acc.get(&code).unwrap_or(&empty);
                let latest = match period {
                    Some(p) => a.periods.contains_key(p).then(|| p.to_owned()),
                    None => a.periods.keys().next_back().cloned(),
                };
                let level = latest.as_ref().and_then(|p| weighted_level(&a.periods[p]));
                let place_levels = latest
                    .as_ref()
                    .map(|p| {
                        a.places
                            .iter()
                            .filter(|((period, _), _)| period == p)
                            .map(|((_, t), l)| (t.clone(), *l))
                            .collect()
                    })
                    .unwrap_or_default();
                let trend = a
                    .periods
                    .iter()
                    .filter_map(|(p, l)| weighted_level(l).map(|l| (p.clone(), l)))
                    .collect();
                let dimensions = INDICATORS[1..9]
                    .iter()
                    .map(|(c, label)| Dimension {
                        code: (*c).to_owned(),
                        label: (*label).to_owned(),
                        level: latest
                            .as_ref()
                            .and_then(|p| a.dims.get(&(p.clone(), (*c).to_owned())))
                            .and_then(|l| weighted_level(l)),
                    })
                    .collect();
                let pick = |m: &BTreeMap<String, f64>| match &latest {
                    Some(p) => m.get(p).copied(),
                    None => m.values().next_back().copied(),
                };
                let (n_postings, n_positions) = postings.get(&code).copied().unwrap_or((0, 0));
                let bmo_projects = a.bmo_projects.values().next_back().copied();
                let places = supply.get(&code).copied().unwrap_or(0.0);
                // Demand rule (docs/OBSERVATORY.md): the campus survey where
                // it has answers for the métier, BMO projects otherwise,
                // else the positions of the postings as a signal; never two
                // of them added. A suppressed survey cell is not used for
                // those who may not see it.
                let survey_planned = survey
                    .get(&code)
                    .filter(|(_, suppressed)| manager || !suppressed)
                    .map(|(p, _)| *p);
                let (demand, demand_source) = match (survey_planned, bmo_projects) {
                    (Some(s), _) => (Some(s as f64), "enquête du campus"),
                    (None, Some(p)) => (Some(p), "BMO"),
                    (None, None) if n_positions > 0 => {
                        (Some(n_positions as f64), "offres (signal)")
                    }
                    (None, None) => (None, "aucune"),
                };
                let asked: Vec<(i64, String, i64)> = {
                    let mut v: Vec<(i64, String, i64)> = skills_by_rome
                        .get(&code)
                        .map(|m| m.iter().map(|(k, (l, n))| (*k, l.clone(), *n)).collect())
                        .unwrap_or_default();
                    v.sort_by(|x, y| y.2.cmp(&x.2).then(x.0.cmp(&y.0)));
                    v.truncate(10);
                    v
                };
                let blocs = blocs_by_rome.get(&code).map(String::as_str).unwrap_or(" ");
                let uncovered = asked
                    .iter()
                    .filter(|(_, label, _)| !covers(blocs, label))
                    .cloned()
                    .collect();
                MetierLine {
                    label: labels.get(&code).cloned().unwrap_or_else(|| code.clone()),
                    in_sector: in_sector(&code),
                    level,
                    period: latest.clone(),
                    dimensions,
                    trend,
                    places: place_levels,
                    offers: pick(&a.offers),
                    jobseekers: pick(&a.seekers),
                    bmo_difficult_pct: a.bmo_pct.values().next_back().copied(),
                    bmo_trend: a.bmo_pct.iter().map(|(p, v)| (p.clone(), *v)).collect(),
                    geographic_mismatch: latest.as_ref().and_then(|p| {
                        // Over the perimeter's bassins with both figures.
                        let (offers, seekers): (Vec<f64>, Vec<f64>) = a
                            .spread
                            .iter()
                            .filter(|((period, _), _)| period == p)
                            .filter_map(|(_, (o, s))| Some(((*o)?, (*s)?)))
                            .unzip();
                        (offers.len() >= 2)
                            .then(|| domain::tension::duncan_index(&offers, &seekers))
                            .flatten()
                    }),
                    bmo_projects,
                    survey_planned,
                    postings: n_postings,
                    positions: n_positions,
                    supply: places,
                    demand,
                    demand_source,
                    gap: demand.map(|d| d - places),
                    ratio: demand.filter(|_| places > 0.0).map(|d| d / places),
                    top_skills: asked,
                    uncovered_skills: uncovered,
                    formations: leading.remove(&code).unwrap_or_default(),
                    code_rome: code,
                }
            })
            .collect();
        metiers.sort_by(|a, b| {
            b.level
                .cmp(&a.level)
                .then(b.offers.unwrap_or(0.0).total_cmp(&a.offers.unwrap_or(0.0)))
                .then(b.positions.cmp(&a.positions))
                .then(a.code_rome.cmp(&b.code_rome))
        });

        let mut outcomes = Vec::new();
        for f in &formations {
            let (regional, _) = self.formation_outcomes(f).await?;
            let Some(latest) = regional.first().map(|r| r.millesime.clone()) else {
                continue;
            };
            // One line per voie: the code with the most leavers.
            let mut best: BTreeMap<String, store::OutcomeRow> = BTreeMap::new();
            for r in regional.into_iter().filter(|r| r.millesime == latest) {
                let keep = best
                    .get(&r.voie)
                    .is_none_or(|b| r.leavers.unwrap_or(0) > b.leavers.unwrap_or(0));
                if keep {
                    best.insert(r.voie.clone(), r);
                }
            }
            outcomes.extend(best.into_values().map(|outcome| FormationOutcome {
                formation_id: f.id,
                title: f.title.clone(),
                outcome,
            }));
        }
        let mut warnings = Vec::new();
        if values.is_empty() {
            warnings.push("Aucun indicateur de tension n'est importé pour ce territoire (passerelle import tension).".to_owned());
        } else {
            let sector: Vec<&MetierLine> = metiers.iter().filter(|m| m.in_sector).collect();
            let without = sector.iter().filter(|m| m.level.is_none()).count();
            if without > 0 {
                warnings.push(format!(
                    "Les indicateurs de tension publiés sont partiels sur ce territoire : {without} des {} métiers du secteur \
                     affichés n'ont pas de niveau (la source publiée ne couvre pas toutes les paires métier × bassin). \
                     Ils ne sont pas estimés : seules leurs autres données sont montrées.",
                    sector.len()
                ));
            }
        }
        if synthetic {
            warnings.push("Les offres d'emploi comptées sont synthétiques (générées pour la démonstration), pas de vraies offres.".to_owned());
        }
        Ok(Observatory {
            campus_slug: campus.slug,
            campus_name: campus.name,
            domains,
            domains_are_defaults,
            communes: communes.len(),
            employment_areas: areas,
            departements: deps,
            basins,
            commune_basins,
            sources: self.store.tension_sources().await?,
            posting_months,
            synthetic_postings: synthetic,
            metiers,
            outcomes,
            warnings,
        })
    }

    /// Sets the campus' own sector → ROME domains mapping from words such
    /// as `J K13 D12` (campus managers); an empty text restores the
    /// filière's defaults.
    pub async fn set_sector_domains(
        &self,
        actor: &Actor,
        slug: &str,
        text: &str,
    ) -> Result<(), AppError> {
        let campus = self.campus(slug).await?;
        authorize(actor, Action::Manage, Resource::Campus(campus.id))?;
        let mut domains: Vec<String> = text
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .filter(|w| !w.is_empty())
            .map(|w| w.trim().to_uppercase())
            .collect();
        domains.sort();
        domains.dedup();
        let mut unknown = Vec::new();
        for d in &domains {
            if !self.store.rome_domain_exists(d).await? {
                unknown.push(d.clone());
            }
        }
        if !unknown.is_empty() {
            return Err(AppError::Invalid(vec![domain::network::FieldError::new(
                "domaines",
                format!(
                    "{} : ni grand domaine (une lettre, par exemple J) ni domaine professionnel (par exemple K13) du ROME 4.0",
                    unknown.join(", ")
                ),
            )]));
        }
        self.store
            .set_campus_rome_domains(campus.id, &domains)
            .await?;
        let mut event =
            Event::new("campus.sector_domains").detail(serde_json::json!({ "domains": domains }));
        event.campus_id = Some(campus.id);
        self.audit(actor, event).await?;
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

    /// The normalised labels of the blocs de compétences of a certification
    /// (through its RNCP fiche), or a single space.
    async fn certification_blocs_text(&self, code: Option<i64>) -> Result<String, AppError> {
        let mut text = String::from(" ");
        let Some(code) = code else { return Ok(text) };
        let Some(cert) = self.store.certification(code).await? else {
            return Ok(text);
        };
        if let Some(rncp) = cert.code_rncp.as_deref() {
            for b in self.store.rncp_blocs(rncp).await? {
                domain::skills::normalise_into(&b.label, &mut text);
            }
        }
        Ok(text)
    }
}

/// Whether the blocs' text covers a skill: at least 60 % of the skill's
/// significant words (four letters or more) appear in it
/// (`docs/OBSERVATORY.md`).
fn covers(blocs: &str, skill: &str) -> bool {
    let words: Vec<String> = domain::skills::normalise(skill)
        .split(' ')
        .filter(|w| w.len() >= 4)
        .map(|w| format!(" {w} "))
        .collect();
    if words.is_empty() {
        return false;
    }
    let present = words.iter().filter(|w| blocs.contains(w.as_str())).count();
    present * 10 >= words.len() * 6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_levels_round_and_fall_back_to_equal_weights() {
        assert_eq!(weighted_level(&[]), None);
        assert_eq!(weighted_level(&[(5, 30.0), (1, 10.0)]), Some(4));
        assert_eq!(
            weighted_level(&[(5, 0.0), (2, 0.0)]),
            Some(4),
            "3.5 rounds up"
        );
        assert_eq!(weighted_level(&[(1, 0.0), (2, 0.0)]), Some(2));
    }

    #[test]
    fn coverage_needs_most_significant_words() {
        let blocs = domain::skills::normalise("Réaliser des soins d'hygiène et de confort");
        assert!(covers(&blocs, "Soins d'hygiène, de confort"));
        assert!(!covers(&blocs, "Gestes d'urgence et de secours"));
        assert!(!covers(&blocs, "de la"));
    }
}
