//! Statistical confidentiality of the campus needs survey: a cell (métier ×
//! territory) is not shown to observers or in exports when it has fewer than
//! [`MIN_RESPONDENTS`] respondents, or when one respondent accounts for more
//! than [`DOMINANCE_SHARE`] of its total — either would let a reader infer
//! one employer's answer.

/// Fewest respondents a published cell has.
pub const MIN_RESPONDENTS: usize = 3;

/// Largest share of a cell's total that one respondent may hold.
pub const DOMINANCE_SHARE: f64 = 0.85;

/// Why a cell is suppressed, if it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suppression {
    /// Fewer than three respondents.
    TooFewRespondents,
    /// One respondent holds more than 85 % of the total.
    Dominated,
}

/// Decides whether a cell may be shown, from each respondent's value (for
/// example planned hires).
pub fn suppression(values: &[f64]) -> Option<Suppression> {
    if values.len() < MIN_RESPONDENTS {
        return Some(Suppression::TooFewRespondents);
    }
    let total: f64 = values.iter().sum();
    let largest = values.iter().copied().fold(0.0, f64::max);
    if total > 0.0 && largest / total > DOMINANCE_SHARE {
        return Some(Suppression::Dominated);
    }
    None
}

/// Whether a member of this kind answers the needs survey (it hires).
pub fn answers_survey(kind: crate::MemberKind) -> bool {
    use crate::MemberKind::*;
    matches!(kind, Employer | Hospital | SocialCare)
}

/// One employer's answer for one métier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerInput {
    pub code_rome: String,
    pub code_insee: Option<String>,
    pub planned: i64,
    pub difficult: i64,
    pub seasonal: i64,
    pub apprentices: i64,
    pub tutors: i64,
    pub comment: Option<String>,
}

/// Largest count accepted in one answer (a typo guard, not a rule of the survey).
pub const MAX_COUNT: i64 = 100_000;

impl AnswerInput {
    /// Checks the answer; each problem names its field.
    pub fn validate(&self) -> Vec<crate::network::FieldError> {
        use crate::network::FieldError;
        let mut errors = Vec::new();
        if crate::CodeRome::parse(&self.code_rome).is_err() {
            errors.push(FieldError::new(
                "code_rome",
                "Code ROME attendu, par exemple J1501.",
            ));
        }
        for (field, v) in [
            ("recrutements", self.planned),
            ("difficiles", self.difficult),
            ("saisonniers", self.seasonal),
            ("apprentis", self.apprentices),
            ("tuteurs", self.tutors),
        ] {
            if !(0..=MAX_COUNT).contains(&v) {
                errors.push(FieldError::new(
                    field,
                    format!("Nombre entier de 0 à {MAX_COUNT} attendu."),
                ));
            }
        }
        if self.difficult > self.planned {
            errors.push(FieldError::new("difficiles", "Les recrutements difficiles font partie des recrutements prévus : pas plus qu'eux."));
        }
        if self.seasonal > self.planned {
            errors.push(FieldError::new("saisonniers", "Les recrutements saisonniers font partie des recrutements prévus : pas plus qu'eux."));
        }
        if self
            .comment
            .as_deref()
            .is_some_and(|c| c.chars().count() > 2000)
        {
            errors.push(FieldError::new("commentaire", "2 000 caractères au plus."));
        }
        if let Some(Err(e)) = self
            .comment
            .as_deref()
            .map(|c| crate::network::check_text_field("commentaire", c))
        {
            errors.push(e);
        }
        errors
    }
}

/// One respondent's answer, placed in a territory, for aggregation.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub respondent: i64,
    pub territory: String,
    pub code_rome: String,
    pub planned: i64,
    pub difficult: i64,
    pub seasonal: i64,
    pub apprentices: i64,
    pub tutors: i64,
}

/// A métier × territory cell of the results.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Cell {
    pub code_rome: String,
    pub territory: String,
    pub respondents: usize,
    pub planned: i64,
    pub difficult: i64,
    pub seasonal: i64,
    pub apprentices: i64,
    pub tutors: i64,
    /// Why the cell is hidden from observers and exports, if it is.
    pub suppressed: Option<&'static str>,
}

/// Sums answers per métier × territory and applies the suppression rule to
/// each cell on the respondents' planned hires.
pub fn aggregate(answers: &[Answer]) -> Vec<Cell> {
    let mut cells: std::collections::BTreeMap<
        (String, String),
        (Cell, std::collections::BTreeMap<i64, f64>),
    > = Default::default();
    for a in answers {
        let (cell, per) = cells
            .entry((a.code_rome.clone(), a.territory.clone()))
            .or_insert_with(|| {
                (
                    Cell {
                        code_rome: a.code_rome.clone(),
                        territory: a.territory.clone(),
                        respondents: 0,
                        planned: 0,
                        difficult: 0,
                        seasonal: 0,
                        apprentices: 0,
                        tutors: 0,
                        suppressed: None,
                    },
                    Default::default(),
                )
            });
        cell.planned = cell.planned.saturating_add(a.planned);
        cell.difficult = cell.difficult.saturating_add(a.difficult);
        cell.seasonal = cell.seasonal.saturating_add(a.seasonal);
        cell.apprentices = cell.apprentices.saturating_add(a.apprentices);
        cell.tutors = cell.tutors.saturating_add(a.tutors);
        *per.entry(a.respondent).or_default() += a.planned as f64;
    }
    cells
        .into_values()
        .map(|(mut cell, per)| {
            let values: Vec<f64> = per.into_values().collect();
            cell.respondents = values.len();
            cell.suppressed = suppression(&values).map(|s| match s {
                Suppression::TooFewRespondents => "moins de 3 répondants",
                Suppression::Dominated => "un répondant pèse plus de 85 %",
            });
            cell
        })
        .collect()
}

/// Why a cell is hidden when it is confidential only through another one.
pub const SECONDARY: &str = "masquée pour protéger une autre case";

/// The results of one campaign as they may be shown: the cells per métier
/// × territory and, per métier, the campus-wide total (territory `""`).
#[derive(Debug, Clone, PartialEq)]
pub struct Tabulation {
    pub cells: Vec<Cell>,
    pub totals: Vec<Cell>,
}

/// Aggregates a campaign into its cells and per-métier totals and applies
/// complementary (secondary) suppression, as statistical offices do: a
/// reader who sees a total and all but one of its cells would get the last
/// one by subtraction, so a second cell (the smallest visible one, which
/// costs the least information) is hidden too, or the total when there is
/// none. Planned hires are the only figure with a margin (the observatory's
/// campus-wide demand), and a remainder of zero would give every hidden
/// cell (all zero, since counts are not negative): that is protected too.
/// After this, no hidden value can be derived from the visible ones.
pub fn tabulate(answers: &[Answer]) -> Tabulation {
    let mut cells = aggregate(answers);
    let whole: Vec<Answer> = answers
        .iter()
        .map(|a| Answer {
            territory: String::new(),
            ..a.clone()
        })
        .collect();
    let mut totals = aggregate(&whole);
    for total in &mut totals {
        let members: Vec<usize> = (0..cells.len())
            .filter(|&i| cells[i].code_rome == total.code_rome)
            .collect();
        loop {
            let hidden = members
                .iter()
                .filter(|&&i| cells[i].suppressed.is_some())
                .count();
            let visible = || members.iter().filter(|&&i| cells[i].suppressed.is_none());
            let exposed = if total.suppressed.is_some() {
                // Two unknowns at least (the total and a hidden cell), unless
                // no cell is hidden: then the total is their sum.
                hidden == 0
            } else {
                let remainder = total.planned - visible().map(|&i| cells[i].planned).sum::<i64>();
                hidden == 1 || (hidden > 1 && remainder == 0)
            };
            if !exposed {
                break;
            }
            let smallest = visible().copied().min_by(|&a, &b| {
                (cells[a].planned, &cells[a].territory)
                    .cmp(&(cells[b].planned, &cells[b].territory))
            });
            match smallest {
                Some(i) if hidden > 0 || total.suppressed.is_some() => {
                    cells[i].suppressed = Some(SECONDARY)
                }
                _ if total.suppressed.is_none() => total.suppressed = Some(SECONDARY),
                // The total is hidden and so is every cell: nothing is exposed.
                _ => break,
            }
        }
    }
    Tabulation { cells, totals }
}

/// Whether some hidden planned-hires value of `t` can be computed from what
/// is visible: the check that [`tabulate`] must pass, for tests.
pub fn derivable(t: &Tabulation) -> bool {
    t.totals.iter().any(|total| {
        let row: Vec<&Cell> = t
            .cells
            .iter()
            .filter(|c| c.code_rome == total.code_rome)
            .collect();
        let hidden = row.iter().filter(|c| c.suppressed.is_some()).count();
        match total.suppressed {
            Some(_) => hidden == 0,
            None => {
                let visible: i64 = row
                    .iter()
                    .filter(|c| c.suppressed.is_none())
                    .map(|c| c.planned)
                    .sum();
                hidden == 1 || (hidden > 1 && total.planned == visible)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_and_their_bounds() {
        assert_eq!(suppression(&[]), Some(Suppression::TooFewRespondents));
        assert_eq!(
            suppression(&[4.0, 4.0]),
            Some(Suppression::TooFewRespondents)
        );
        assert_eq!(suppression(&[4.0, 4.0, 4.0]), None);
        // 17 of 20 is exactly 85 %: shown; 18 of 20 (90 %): suppressed.
        assert_eq!(suppression(&[17.0, 2.0, 1.0]), None);
        assert_eq!(suppression(&[18.0, 1.0, 1.0]), Some(Suppression::Dominated));
        assert_eq!(
            suppression(&[0.0, 0.0, 0.0]),
            None,
            "three respondents, nothing planned"
        );
    }

    fn answer(respondent: i64, rome: &str, planned: i64) -> Answer {
        Answer {
            respondent,
            territory: "973".into(),
            code_rome: rome.into(),
            planned,
            difficult: planned / 2,
            seasonal: 0,
            apprentices: 1,
            tutors: 1,
        }
    }

    #[test]
    fn cells_are_summed_and_suppressed_by_hand() {
        let cells = aggregate(&[
            answer(1, "J1501", 4),
            answer(2, "J1501", 3),
            answer(3, "J1501", 3),
            answer(1, "K1302", 2),
            answer(2, "K1302", 3),
            answer(1, "D1208", 1),
            answer(2, "D1208", 1),
            answer(3, "D1208", 20),
        ]);
        let by = |r: &str| cells.iter().find(|c| c.code_rome == r).unwrap();
        let j = by("J1501");
        assert_eq!(
            (j.respondents, j.planned, j.difficult, j.apprentices),
            (3, 10, 4, 3)
        );
        assert_eq!(j.suppressed, None);
        assert_eq!(by("K1302").suppressed, Some("moins de 3 répondants"));
        // 20 of 22 is 91 %.
        assert_eq!(
            by("D1208").suppressed,
            Some("un répondant pèse plus de 85 %")
        );
    }

    #[test]
    fn a_lone_hidden_cell_gets_a_complement() {
        let at = |respondent, territory: &str, planned| Answer {
            territory: territory.into(),
            ..answer(respondent, "J1501", planned)
        };
        // Guyane: 3 respondents (shown); Martinique: 2 (hidden); Guadeloupe:
        // 4 (shown). Total of 9 respondents: shown. Without a complement,
        // Martinique = total − Guyane − Guadeloupe.
        let t = tabulate(&[
            at(1, "973", 5),
            at(2, "973", 4),
            at(3, "973", 6),
            at(4, "972", 2),
            at(5, "972", 1),
            at(6, "971", 3),
            at(7, "971", 3),
            at(8, "971", 2),
            at(9, "971", 3),
        ]);
        let by = |d: &str| t.cells.iter().find(|c| c.territory == d).unwrap();
        assert_eq!(by("972").suppressed, Some("moins de 3 répondants"));
        assert_eq!(
            by("971").suppressed,
            Some(SECONDARY),
            "the smallest visible cell"
        );
        assert_eq!(by("973").suppressed, None);
        assert_eq!(t.totals[0].suppressed, None);
        assert!(!derivable(&t));
        // One territory only: the total itself is hidden.
        let t = tabulate(&[at(1, "973", 5), at(2, "973", 4)]);
        assert!(t.totals[0].suppressed.is_some() && !derivable(&t));
    }

    #[test]
    fn answers_are_checked_field_by_field() {
        let ok = AnswerInput {
            code_rome: "J1501".into(),
            code_insee: None,
            planned: 5,
            difficult: 2,
            seasonal: 1,
            apprentices: 1,
            tutors: 2,
            comment: None,
        };
        assert!(ok.validate().is_empty());
        let bad = AnswerInput {
            code_rome: "J15".into(),
            difficult: 9,
            tutors: -1,
            ..ok
        };
        let fields: Vec<String> = bad.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["code_rome", "tuteurs", "difficiles"]);
    }
}
