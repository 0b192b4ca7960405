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
}
