//! The observatory's tables: typed records for the API, text cells for the
//! command line, CSV and ODS exports.

use super::Observatory;
use crate::AppError;

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
    pub(super) fn export(
        &self,
        kind: TableKind,
        ods: bool,
    ) -> Result<(Vec<u8>, &'static str), AppError> {
        let (headers, cells) = self.text_table(kind);
        let table = ingest::sheet::Table::new(headers, cells);
        let format = if ods {
            crate::imports::SheetFormat::Ods
        } else {
            crate::imports::SheetFormat::Csv
        };
        let bytes = crate::imports::table_bytes(&table, format)?;
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
