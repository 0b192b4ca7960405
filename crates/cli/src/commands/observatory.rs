//! `analyse` and the observatory's imports (tension files, postings).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use app::imports::ImportError;
use app::{App, Config};
use clap::{Subcommand, ValueEnum};

use super::{app_error, campus_slug, import_error, open, refused};

#[derive(Subcommand)]
pub(crate) enum AnalyseCommand {
    /// The tension indicator per métier × territory × period (docs/OBSERVATORY.md).
    Tension {
        /// Compute from this CSV of components alone (the database is not read):
        /// code_rome,territory_type,territory_code,period,offers,jobseekers_a,outflow_rate,difficult_share
        #[arg(long)]
        components: Option<PathBuf>,
        /// Reference period of the standardisation, FIRST..LAST (years, inclusive).
        #[arg(long)]
        reference: Option<String>,
        /// Campus whose data to use (without --components).
        #[arg(long)]
        campus: Option<String>,
        /// Tension period to show (YYYY; default: the latest).
        #[arg(long)]
        period: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: AnalyseFormat,
    },
    /// Demand against the campus' supply per métier (docs/OBSERVATORY.md).
    Gap {
        #[arg(long)]
        campus: Option<String>,
        #[arg(long)]
        period: Option<String>,
        /// What if the campus opened PLACES places of certification CODE: CODE=PLACES.
        #[arg(long)]
        what_if: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: AnalyseFormat,
    },
    /// Skills most asked in the postings per métier, and those the campus' certifications do not cover.
    Skills {
        #[arg(long)]
        campus: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: AnalyseFormat,
    },
    /// Graduate outcomes (InserJeunes) of the campus' formations, with their quadrant.
    Outcomes {
        #[arg(long)]
        campus: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: AnalyseFormat,
    },
    /// Benchmark helper: time the counting step and the skills matching on a postings file,
    /// and write the commune → zone d'emploi table for the DuckDB baseline.
    #[command(hide = true)]
    BenchPostings {
        file: PathBuf,
        /// Where to write commune,zone (CSV).
        #[arg(long)]
        areas_out: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum AnalyseFormat {
    Table,
    Csv,
    Json,
}

/// A value with six decimals, without the « -0.000000 » of rounding noise.
pub(crate) fn six_decimals(v: f64) -> String {
    format!("{:.6}", (v * 1e6).round() / 1e6 + 0.0)
}

/// Parses `FIRST..LAST`.
pub(crate) fn year_range(text: &str) -> anyhow::Result<std::ops::RangeInclusive<i32>> {
    let (a, b) = text.split_once("..").with_context(|| {
        format!("--reference « {text} » : attendu PREMIÈRE..DERNIÈRE, par exemple 2019..2021")
    })?;
    let (a, b): (i32, i32) = (
        a.trim()
            .parse()
            .with_context(|| format!("--reference : année « {a} » invalide"))?,
        b.trim()
            .parse()
            .with_context(|| format!("--reference : année « {b} » invalide"))?,
    );
    if b < a {
        bail!("--reference : {b} précède {a}");
    }
    Ok(a..=b)
}

pub(crate) fn analyse_tension(
    file: PathBuf,
    reference: Option<String>,
    format: AnalyseFormat,
) -> anyhow::Result<ExitCode> {
    let reference = year_range(
        reference
            .as_deref()
            .context("--reference PREMIÈRE..DERNIÈRE est obligatoire avec --components")?,
    )?;
    let name = file.display().to_string();
    let bytes = std::fs::read(&file).with_context(|| format!("lecture de {name}"))?;
    let computed = match app::observatory::compute_tension(&name, &bytes, &reference) {
        Ok(c) => c,
        Err(ImportError::Refused { problems, .. }) => {
            for p in problems {
                eprintln!("{p}");
            }
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(import_error(e)),
    };
    let out = computed.rows;
    // One line per left-out row, the reading problem first when there is one.
    for (line, reason) in &computed.left_out {
        eprintln!("{name}, ligne {line} : ligne non calculable — {reason}");
    }
    if let AnalyseFormat::Json = format {
        let stdout = std::io::stdout();
        let mut w = stdout.lock();
        serde_json::to_writer_pretty(&mut w, &out)?;
        writeln!(w)?;
    } else {
        let text = |v: String| serde_json::Value::String(v);
        let rows: Vec<Vec<serde_json::Value>> = out
            .iter()
            .map(|r| {
                vec![
                    text(r.code_rome.clone()),
                    text(r.territory_type.clone()),
                    text(r.territory_code.clone()),
                    text(r.period.to_string()),
                    text(six_decimals(r.c1)),
                    text(six_decimals(r.z_c1)),
                    text(six_decimals(r.z_c2)),
                    text(six_decimals(r.z_c3)),
                    text(six_decimals(r.indicator)),
                    text(r.level.to_string()),
                ]
            })
            .collect();
        print_records(
            &[
                "code_rome",
                "territory_type",
                "territory_code",
                "period",
                "c1",
                "z_c1",
                "z_c2",
                "z_c3",
                "indicator",
                "level",
            ],
            &rows,
            format,
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints records as a table (tab-separated), CSV or JSON (an array of
/// objects with the same keys).
pub(crate) fn print_records(
    columns: &[&'static str],
    rows: &[Vec<serde_json::Value>],
    format: AnalyseFormat,
) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    match format {
        AnalyseFormat::Json => {
            let objects: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .iter()
                .map(|r| {
                    columns
                        .iter()
                        .map(|c| (*c).to_owned())
                        .zip(r.iter().cloned())
                        .collect()
                })
                .collect();
            serde_json::to_writer_pretty(&mut w, &objects)?;
            writeln!(w)?;
        }
        AnalyseFormat::Csv | AnalyseFormat::Table => {
            let delimiter = if matches!(format, AnalyseFormat::Csv) {
                b','
            } else {
                b'\t'
            };
            let mut csv = csv::WriterBuilder::new()
                .delimiter(delimiter)
                .from_writer(w);
            csv.write_record(columns)?;
            for r in rows {
                csv.write_record(r.iter().map(|v| match v {
                    serde_json::Value::Null => String::new(),
                    // Labels come from files and people: never a formula.
                    serde_json::Value::String(s) => domain::text::spreadsheet_safe(s).into_owned(),
                    serde_json::Value::Number(n) => match n.as_f64() {
                        Some(f) if n.is_f64() => format!("{:.2}", f),
                        _ => n.to_string(),
                    },
                    other => other.to_string(),
                }))?;
            }
            csv.flush()?;
        }
    }
    Ok(())
}

/// Prints one table of the observatory, its warnings on standard error.
pub(crate) fn print_observatory(
    o: &app::observatory::Observatory,
    kind: app::observatory::TableKind,
    format: AnalyseFormat,
) -> anyhow::Result<()> {
    for w in &o.warnings {
        eprintln!("{w}");
    }
    let (columns, rows) = o.records(kind);
    print_records(&columns, &rows, format)
}

/// `analyse tension|gap|skills|outcomes` on a campus' data (or on published
/// components), `analyse bench-postings`.
pub(crate) async fn analyse(url: Option<String>, c: AnalyseCommand) -> anyhow::Result<ExitCode> {
    // Recomputing from published components needs no database.
    if let AnalyseCommand::Tension {
        components: Some(file),
        reference,
        format,
        ..
    } = c
    {
        return analyse_tension(file, reference, format);
    }
    let config = crate::settings::config(url, false)?;
    if let AnalyseCommand::BenchPostings { file, areas_out } = c {
        return bench_postings(config, &file, &areas_out).await;
    }
    let app = open(config).await?;
    let operator = app::Actor::operator();
    match c {
        AnalyseCommand::Tension {
            campus,
            period,
            format,
            reference,
            ..
        } => {
            if reference.is_some() {
                bail!("--reference ne s'emploie qu'avec --components FILE");
            }
            let slug = campus_slug(&app, campus).await?;
            let o = app
                .observatory_for(&operator, &slug, None, period.as_deref(), false)
                .await
                .map_err(app_error)?;
            print_observatory(&o, app::observatory::TableKind::Tension, format)?;
        }
        AnalyseCommand::Gap {
            campus,
            period,
            what_if,
            format,
        } => {
            let slug = campus_slug(&app, campus).await?;
            let what_if = match what_if {
                None => None,
                Some(text) => Some(app::observatory::WhatIf::parse(&text).with_context(|| {
                    format!("--what-if « {text} » : attendu CODE_CERTIFICATION=PLACES, par exemple 12345=15")
                })?),
            };
            let o = app
                .observatory_for(&operator, &slug, what_if, period.as_deref(), false)
                .await
                .map_err(app_error)?;
            print_observatory(&o, app::observatory::TableKind::Gap, format)?;
        }
        AnalyseCommand::Skills { campus, format } => {
            let slug = campus_slug(&app, campus).await?;
            let o = app
                .observatory_for(&operator, &slug, None, None, false)
                .await
                .map_err(app_error)?;
            print_observatory(&o, app::observatory::TableKind::Skills, format)?;
        }
        AnalyseCommand::Outcomes { campus, format } => {
            let slug = campus_slug(&app, campus).await?;
            let o = app
                .observatory_for(&operator, &slug, None, None, false)
                .await
                .map_err(app_error)?;
            print_observatory(&o, app::observatory::TableKind::Outcomes, format)?;
        }
        AnalyseCommand::BenchPostings { .. } => unreachable!("handled above"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Times the counting step (parse and count per ROME × zone d'emploi ×
/// month, on every core) and the skills matching alone (one core), and
/// writes the commune → zone table the DuckDB baseline joins with.
pub(crate) async fn bench_postings(
    config: Config,
    file: &Path,
    areas_out: &Path,
) -> anyhow::Result<ExitCode> {
    let app = open(config).await?;
    let zones = app.commune_zones().await?;
    let mut out = csv::Writer::from_path(areas_out)?;
    out.write_record(["commune", "zone"])?;
    for (code, ze) in &zones {
        out.write_record([code, ze])?;
    }
    out.flush()?;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let area = |c: &str| zones.get(c).map(String::as_str);
    // Timed as DuckDB is (bench/observatory.sh): from the file on disk to the
    // counted groups, median of five runs; the groups' checksum (FNV-1a 64 of
    // "rome\tzone\tmonth\tcount", summed) is recomputed there from DuckDB's.
    let mut runs = Vec::new();
    let mut counts = Default::default();
    for _ in 0..5 {
        let started = Instant::now();
        let bytes =
            std::fs::read(file).with_context(|| format!("lecture de {}", file.display()))?;
        counts = app::observatory::count_by_rome_area_month(&bytes, &area, threads);
        runs.push(started.elapsed().as_secs_f64());
    }
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    let count_s = sorted[sorted.len() / 2];
    let fnv = |t: String| domain::checksum::fnv1a_64(t.as_bytes());
    let checksum = counts.iter().fold(0u64, |acc, ((r, z, m), n)| {
        acc.wrapping_add(fnv(format!("{r}\t{z}\t{m}\t{n}")))
    });
    let bytes = std::fs::read(file).with_context(|| format!("lecture de {}", file.display()))?;
    let mb = bytes.len() as f64 / 1e6;
    let total: u64 = counts.values().sum();
    let runs: Vec<String> = runs.iter().map(|r| format!("{r:.3}")).collect();
    println!(
        "count_seconds={count_s:.3} runs={} groups={} postings={total} mb={mb:.1} threads={threads} checksum={checksum:016x}",
        runs.join(","),
        counts.len()
    );
    // Skills matching alone: the descriptions and titles, one core.
    let matcher = app.skill_matcher().await.map_err(app_error)?;
    let texts: Vec<String> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| serde_json::from_slice::<serde_json::Value>(l).ok())
        .map(|v| {
            format!(
                "{} {}",
                v["intitule"].as_str().unwrap_or(""),
                v["description"].as_str().unwrap_or("")
            )
        })
        .collect();
    let text_mb = texts.iter().map(String::len).sum::<usize>() as f64 / 1e6;
    let mut scratch = domain::skills::MatchScratch::default();
    let mut found = Vec::new();
    let started = Instant::now();
    let mut hits = 0usize;
    for t in &texts {
        found.clear();
        matcher.find(&[t], &mut scratch, &mut found);
        hits += found.len();
    }
    let match_s = started.elapsed().as_secs_f64();
    println!(
        "match_seconds={match_s:.3} text_mb={text_mb:.1} match_mb_per_s={:.1} labels={} hits={hits}",
        text_mb / match_s.max(1e-9),
        matcher.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// `import tension`: one published file, or the shipped ones.
pub(crate) async fn import_tension(
    app: &App,
    file: Option<PathBuf>,
    period: Option<String>,
) -> anyhow::Result<ExitCode> {
    let results = match file {
        Some(file) => {
            let name = file.display().to_string();
            app.import_tension(&name, &super::read(&file)?, period.as_deref())
                .await
                .map(|r| vec![(name, r)])
        }
        None => app.import_shipped_tension().await,
    };
    super::finish_files(results, |r| super::FileOutcome {
        kind: &r.kind,
        unchanged: r.unchanged,
        summary: format!(
            "{} ligne(s) importée(s), {} ligne(s) ignorée(s).",
            r.rows,
            r.notes.len()
        ),
        notes: &r.notes,
    })
}

/// `import postings`: streamed from the disk (the file is never held
/// whole), with its throughput.
pub(crate) async fn import_postings(app: &App, file: &Path) -> anyhow::Result<ExitCode> {
    let name = file.display().to_string();
    let size = std::fs::metadata(file)
        .with_context(|| format!("lecture de {name}"))?
        .len();
    let started = Instant::now();
    match app.import_postings_file(&name, file).await {
        Ok(r) => {
            let s = started.elapsed().as_secs_f64();
            println!(
                "Import terminé : {} offre(s) lue(s) — {} nouvelle(s), {} mise(s) à jour, {} inchangée(s) ; \
                 {} doublon(s) d'une offre déjà connue sous un autre identifiant ; {} sans commune reconnue.",
                r.read, r.new, r.updated, r.unchanged, r.duplicates, r.unplaced
            );
            println!(
                "{:.1} s, {:.0} offres/s, {:.1} Mo/s.",
                s,
                r.read as f64 / s.max(1e-9),
                size as f64 / 1e6 / s.max(1e-9)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(ImportError::Refused { file, problems }) => Ok(refused(&file, &problems)),
        Err(e) => Err(import_error(e)),
    }
}
