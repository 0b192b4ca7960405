//! The main indicator of labour-market tension per ROME métier × territory
//! × period, recomputed from its components as DARES and France Travail
//! publish it (see `docs/OBSERVATORY.md` for the formulas and sources):
//!
//! - C1 = offers flow ÷ category-A job-seekers flow;
//! - C2 = job seekers' outflow rate;
//! - C3 = share of recruitment projects judged difficult;
//! - each component standardised, z = (x − μ) / σ, with μ and σ (population,
//!   ddof 0) over every computable row of the reference period at the same
//!   territory type, the same μ and σ serving rows outside that period;
//! - T = 0.3·z(C1) + 0.2·z(C2) + 0.5·z(C3), not standardised again;
//! - level 1 if T < −0.565, 2 if < −0.26, 3 if < 0.13, 4 if < 0.51, else 5.
//!
//! A row with a missing value or no category-A job seekers, or whose
//! territory type has a component with σ = 0 (or no reference rows at
//! all), is uncomputable: it is reported with its line, never turned into a
//! number.

use std::collections::HashMap;
use std::ops::RangeInclusive;

use serde::Serialize;

/// Weights of z(C1), z(C2), z(C3) in the indicator.
pub const WEIGHTS: [f64; 3] = [0.3, 0.2, 0.5];

/// Upper bounds (exclusive) of levels 1 to 4; level 5 above.
pub const CUTS: [f64; 4] = [-0.565, -0.26, 0.13, 0.51];

/// One input row: the components of one métier × territory × period.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentRow {
    /// Line in the source file, for reports.
    pub line: usize,
    pub code_rome: String,
    pub territory_type: String,
    pub territory_code: String,
    pub period: i32,
    pub offers: Option<f64>,
    pub jobseekers_a: Option<f64>,
    pub outflow_rate: Option<f64>,
    pub difficult_share: Option<f64>,
}

/// One computed indicator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorRow {
    pub code_rome: String,
    pub territory_type: String,
    pub territory_code: String,
    pub period: i32,
    pub c1: f64,
    pub z_c1: f64,
    pub z_c2: f64,
    pub z_c3: f64,
    pub indicator: f64,
    pub level: u8,
}

/// A row left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uncomputable {
    pub line: usize,
    pub reason: String,
}

/// One published value of an indicator.
#[derive(Debug, Clone, PartialEq)]
pub struct TensionValue {
    /// ROME fiche (v3 code, as the publishers use).
    pub code_rome: String,
    /// `national`, `region`, `departement`, `zone_emploi` or `bassin`.
    pub territory_type: String,
    /// Code of the territory (`FR` for national; bassins on four digits).
    pub territory_code: String,
    /// Period, `YYYY` (or `YYYY-MM` when a source is monthly).
    pub period: String,
    /// Indicator code (see [`INDICATORS`]).
    pub indicator: String,
    /// The value when the source gives one.
    pub value: Option<f64>,
    /// The 1–5 level when the source gives one.
    pub level: Option<i64>,
}

/// The level (1 to 5) of an indicator value.
pub fn level(t: f64) -> u8 {
    CUTS.iter()
        .position(|cut| t < *cut)
        .map_or(5, |i| u8::try_from(i + 1).unwrap_or(5))
}

/// Mean and population standard deviation (ddof 0).
pub fn mean_sd(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    Some((mean, var.sqrt()))
}

/// Mean and standard deviation of C1, C2, C3 over a reference.
type Spread = [(f64, f64); 3];

/// The components of a row, or why it has none.
fn components(r: &ComponentRow) -> Result<[f64; 3], String> {
    let field = |v: Option<f64>, name: &str| v.ok_or_else(|| format!("{name} : valeur manquante"));
    let offers = field(r.offers, "offers")?;
    let jobseekers = field(r.jobseekers_a, "jobseekers_a")?;
    let outflow = field(r.outflow_rate, "outflow_rate")?;
    let difficult = field(r.difficult_share, "difficult_share")?;
    if jobseekers == 0.0 {
        return Err(
            "jobseekers_a : aucun demandeur d'emploi de catégorie A, C1 n'est pas défini".into(),
        );
    }
    Ok([offers / jobseekers, outflow, difficult])
}

/// Computes the indicator of every computable row; the others are listed
/// with their line, in input order.
pub fn compute(
    rows: &[ComponentRow],
    reference: &RangeInclusive<i32>,
) -> (Vec<IndicatorRow>, Vec<Uncomputable>) {
    let mut uncomputable = Vec::new();
    let mut valid = Vec::new();
    for r in rows {
        match components(r) {
            Ok(c) => valid.push((r, c)),
            Err(reason) => uncomputable.push(Uncomputable {
                line: r.line,
                reason,
            }),
        }
    }
    // μ and σ of each component per territory type, over the reference period.
    let mut by_type: HashMap<&str, [Vec<f64>; 3]> = HashMap::new();
    for (r, c) in &valid {
        if reference.contains(&r.period) {
            let entry = by_type.entry(r.territory_type.as_str()).or_default();
            for (k, v) in c.iter().enumerate() {
                entry[k].push(*v);
            }
        }
    }
    let stats: HashMap<&str, Result<Spread, String>> = by_type
        .iter()
        .map(|(t, values)| {
            let mut out = [(0.0, 0.0); 3];
            for k in 0..3 {
                let (mean, sd) = mean_sd(&values[k]).expect("non-empty");
                if sd == 0.0 {
                    return (*t, Err(format!("C{} : écart type nul sur la période de référence pour le type de territoire « {t} »", k + 1)));
                }
                out[k] = (mean, sd);
            }
            (*t, Ok(out))
        })
        .collect();
    let mut computed = Vec::new();
    for (r, c) in valid {
        let s = match stats.get(r.territory_type.as_str()) {
            Some(Ok(s)) => s,
            Some(Err(reason)) => {
                uncomputable.push(Uncomputable {
                    line: r.line,
                    reason: reason.clone(),
                });
                continue;
            }
            None => {
                uncomputable.push(Uncomputable {
                    line: r.line,
                    reason: format!(
                        "aucune ligne calculable de la période de référence pour le type de territoire « {} »",
                        r.territory_type
                    ),
                });
                continue;
            }
        };
        let z: Vec<f64> = (0..3).map(|k| (c[k] - s[k].0) / s[k].1).collect();
        let indicator = (0..3).map(|k| WEIGHTS[k] * z[k]).sum::<f64>();
        computed.push(IndicatorRow {
            code_rome: r.code_rome.clone(),
            territory_type: r.territory_type.clone(),
            territory_code: r.territory_code.clone(),
            period: r.period,
            c1: c[0],
            z_c1: z[0],
            z_c2: z[1],
            z_c3: z[2],
            indicator,
            level: level(indicator),
        });
    }
    uncomputable.sort_by_key(|u| u.line);
    (computed, uncomputable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(line: usize, ty: &str, period: i32, v: [Option<f64>; 4]) -> ComponentRow {
        ComponentRow {
            line,
            code_rome: "J1501".into(),
            territory_type: ty.into(),
            territory_code: format!("T{line}"),
            period,
            offers: v[0],
            jobseekers_a: v[1],
            outflow_rate: v[2],
            difficult_share: v[3],
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn hand_computed_case() {
        // Reference 2020: C1 = 1 and 3 (μ 2, σ 1), C2 = 0.2 and 0.4 (μ 0.3,
        // σ 0.1), C3 = 0.5 and 0.7 (μ 0.6, σ 0.1).
        let rows = vec![
            row(
                2,
                "ze",
                2020,
                [Some(10.0), Some(10.0), Some(0.2), Some(0.5)],
            ),
            row(
                3,
                "ze",
                2020,
                [Some(30.0), Some(10.0), Some(0.4), Some(0.7)],
            ),
            // Outside the reference period, standardised with its μ and σ:
            // z = (0, 0, 0.5), T = 0.25, level 4.
            row(
                4,
                "ze",
                2021,
                [Some(20.0), Some(10.0), Some(0.3), Some(0.65)],
            ),
            row(
                5,
                "ze",
                2021,
                [Some(20.0), Some(0.0), Some(0.3), Some(0.65)],
            ),
            row(6, "ze", 2021, [Some(20.0), Some(10.0), Some(0.3), None]),
            // No reference rows for this type.
            row(
                7,
                "departement",
                2021,
                [Some(20.0), Some(10.0), Some(0.3), Some(0.6)],
            ),
        ];
        let (out, bad) = compute(&rows, &(2020..=2020));
        assert_eq!(out.len(), 3);
        assert!(close(out[0].z_c1, -1.0) && close(out[0].z_c2, -1.0) && close(out[0].z_c3, -1.0));
        assert!(close(out[0].indicator, -1.0));
        assert_eq!(out[0].level, 1);
        assert!(close(out[1].indicator, 1.0));
        assert_eq!(out[1].level, 5);
        assert!(close(out[2].c1, 2.0) && close(out[2].z_c1, 0.0) && close(out[2].z_c3, 0.5));
        assert!(close(out[2].indicator, 0.25));
        assert_eq!(out[2].level, 4);
        let lines: Vec<usize> = bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![5, 6, 7]);
        assert!(bad[0].reason.contains("jobseekers_a"));
        assert!(bad[1].reason.contains("difficult_share"));
    }

    #[test]
    fn zero_spread_makes_rows_uncomputable() {
        let rows = vec![
            row(
                2,
                "ze",
                2020,
                [Some(10.0), Some(10.0), Some(0.2), Some(0.5)],
            ),
            row(
                3,
                "ze",
                2020,
                [Some(30.0), Some(10.0), Some(0.2), Some(0.7)],
            ),
        ];
        let (out, bad) = compute(&rows, &(2020..=2020));
        assert!(out.is_empty());
        assert_eq!(bad.len(), 2);
        assert!(bad[0].reason.contains("C2"));
    }

    #[test]
    fn cut_points() {
        assert_eq!(level(-0.566), 1);
        assert_eq!(level(-0.565), 2);
        assert_eq!(level(-0.26), 3);
        assert_eq!(level(0.129), 3);
        assert_eq!(level(0.13), 4);
        assert_eq!(level(0.509), 4);
        assert_eq!(level(0.51), 5);
        assert_eq!(level(9.0), 5);
    }

    /// A small deterministic generator, so the properties run on varied data
    /// without a dependency.
    fn sample(seed: u64, n: usize) -> Vec<ComponentRow> {
        let mut x = seed;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 10_000) as f64 / 10_000.0
        };
        (0..n)
            .map(|i| {
                row(
                    i + 2,
                    if i % 2 == 0 { "ze" } else { "departement" },
                    2019 + (i % 3) as i32,
                    [
                        Some(1.0 + 100.0 * next()),
                        Some(1.0 + 100.0 * next()),
                        Some(next()),
                        Some(next()),
                    ],
                )
            })
            .collect()
    }

    #[test]
    fn reference_rows_are_standardised_per_territory_type() {
        for seed in 1..20 {
            let rows = sample(seed, 60);
            let (out, bad) = compute(&rows, &(2019..=2020));
            assert!(bad.is_empty());
            for ty in ["ze", "departement"] {
                let reference: Vec<&IndicatorRow> = out
                    .iter()
                    .filter(|r| r.territory_type == ty && r.period <= 2020)
                    .collect();
                for z in [
                    reference.iter().map(|r| r.z_c1).collect::<Vec<_>>(),
                    reference.iter().map(|r| r.z_c2).collect(),
                    reference.iter().map(|r| r.z_c3).collect(),
                ] {
                    let (m, sd) = mean_sd(&z).unwrap();
                    assert!(
                        m.abs() < 1e-9 && (sd - 1.0).abs() < 1e-9,
                        "seed {seed} {ty}: {m} {sd}"
                    );
                }
            }
            for r in &out {
                let t = 0.3 * r.z_c1 + 0.2 * r.z_c2 + 0.5 * r.z_c3;
                assert!(close(r.indicator, t) && r.level == level(t));
            }
        }
    }

    #[test]
    fn more_difficulty_never_lowers_the_indicator() {
        for seed in 1..20 {
            let mut rows = sample(seed, 30);
            let (before, _) = compute(&rows, &(2019..=2021));
            // Raising one row's share of difficult projects outside the
            // reference period moves only that row, and upwards.
            rows.push(ComponentRow {
                line: 99,
                period: 2022,
                ..rows[0].clone()
            });
            let (a, _) = compute(&rows, &(2019..=2021));
            rows.last_mut().unwrap().difficult_share = Some(rows[0].difficult_share.unwrap() + 0.1);
            let (b, _) = compute(&rows, &(2019..=2021));
            assert!(b.last().unwrap().indicator > a.last().unwrap().indicator);
            assert!(b.last().unwrap().level >= a.last().unwrap().level);
            assert_eq!(&b[..before.len()], &before[..]);
        }
    }
}

/// Geographic mismatch of a métier over the sub-areas of a territory, as
/// the Duncan dissimilarity index ½·Σ|oᵢ/O − dᵢ/D| between the offers `o`
/// and the job seekers `d` of each sub-area: 0 when both are spread alike,
/// 1 when no sub-area has both. `None` when either total is zero (the
/// shares are undefined) or the lists differ in length.
pub fn duncan_index(offers: &[f64], seekers: &[f64]) -> Option<f64> {
    if offers.len() != seekers.len()
        || offers
            .iter()
            .chain(seekers)
            .any(|v| *v < 0.0 || !v.is_finite())
    {
        return None;
    }
    let (o, d): (f64, f64) = (offers.iter().sum(), seekers.iter().sum());
    if o == 0.0 || d == 0.0 {
        return None;
    }
    Some(
        offers
            .iter()
            .zip(seekers)
            .map(|(oi, di)| (oi / o - di / d).abs())
            .sum::<f64>()
            / 2.0,
    )
}

#[cfg(test)]
mod duncan_tests {
    use super::duncan_index;

    #[test]
    fn hand_computed_and_bounds() {
        // Offers 30/70 against seekers 60/40: ½(|0.3−0.6| + |0.7−0.4|) = 0.3.
        assert!((duncan_index(&[30.0, 70.0], &[60.0, 40.0]).unwrap() - 0.3).abs() < 1e-12);
        assert_eq!(
            duncan_index(&[5.0, 5.0], &[1.0, 1.0]),
            Some(0.0),
            "spread alike"
        );
        assert_eq!(
            duncan_index(&[10.0, 0.0], &[0.0, 3.0]),
            Some(1.0),
            "fully apart"
        );
        assert_eq!(duncan_index(&[0.0, 0.0], &[1.0, 1.0]), None);
        assert_eq!(duncan_index(&[1.0], &[1.0, 2.0]), None);
        // Scaling either side changes nothing: only shares count.
        let a = duncan_index(&[3.0, 1.0, 6.0], &[2.0, 2.0, 1.0]).unwrap();
        let b = duncan_index(&[30.0, 10.0, 60.0], &[4.0, 4.0, 2.0]).unwrap();
        assert!((a - b).abs() < 1e-12 && (0.0..=1.0).contains(&a));
    }
}
