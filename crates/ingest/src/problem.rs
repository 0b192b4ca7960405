//! A problem found in a file, typed: which file, which line, which field,
//! and why (in French: it is shown to the person who sent the file). The
//! readers of tension files, InserJeunes and the BCN report these; the
//! older readers have their own typed problems (`lheo::Problem`,
//! `sheet::CellError`, `postings::PostingProblem`) with the same parts.

use std::borrow::Borrow;
use std::fmt;

use serde::Serialize;

/// What is wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file as named by whoever gave it (empty for a problem with a
    /// command-line option).
    pub file: String,
    /// 1-based line, when the problem is on one.
    pub line: Option<usize>,
    /// Column or field, when the problem is in one.
    pub field: Option<String>,
    /// What is wrong and, where possible, what is expected.
    pub reason: String,
}

impl Problem {
    /// A problem with the file as a whole.
    pub fn file(file: &str, reason: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line: None,
            field: None,
            reason: reason.into(),
        }
    }

    /// A problem on one line.
    pub fn line(file: &str, line: impl Borrow<usize>, reason: impl Into<String>) -> Self {
        Self {
            line: Some(*line.borrow()),
            ..Self::file(file, reason)
        }
    }

    /// A problem in one field of one line.
    pub fn field(
        file: &str,
        line: impl Borrow<usize>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            field: Some(field.into()),
            ..Self::line(file, line, reason)
        }
    }

    /// A problem with what was asked rather than with a file (an option).
    pub fn request(reason: impl Into<String>) -> Self {
        Self::file("", reason)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut place = self.file.clone();
        if let Some(line) = self.line {
            place = format!("{place}, ligne {line}");
        }
        if let Some(field) = &self.field {
            place = format!("{place}, {field}");
        }
        if place.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{place} : {}", self.reason)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_where_then_why() {
        assert_eq!(Problem::file("a.csv", "vide").to_string(), "a.csv : vide");
        assert_eq!(
            Problem::line("a.csv", 3usize, "illisible").to_string(),
            "a.csv, ligne 3 : illisible"
        );
        assert_eq!(
            Problem::field("a.csv", 4usize, "ROME", "« X » invalide").to_string(),
            "a.csv, ligne 4, ROME : « X » invalide"
        );
        assert_eq!(
            Problem::request("--period : attendu AAAA").to_string(),
            "--period : attendu AAAA"
        );
    }
}
