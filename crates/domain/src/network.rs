//! Validated inputs for the network and the training offer: what an import,
//! a form or the API must provide to create or update a member, a formation
//! or a session. Validation collects every problem with the field it concerns
//! so that a person can fix them all at once.

use serde::{Deserialize, Serialize};

use crate::ids::{CodeInsee, CodeRome, Siret, Uai};
use crate::model::{Level, MemberKind, Modality, Pathway, PublicationStatus};

/// A problem with one field of an input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Name of the field (column name in a spreadsheet, key in JSON).
    pub field: String,
    /// What is wrong, in French.
    pub message: String,
}

impl FieldError {
    /// Builds an error for `field`.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Checks one free text field with [`crate::text::check_text`]: the error
/// names the field and the place of the control character.
pub fn check_text_field(field: &str, value: &str) -> Result<(), FieldError> {
    crate::text::check_text(value).map_err(|e| FieldError::new(field, e.to_string()))
}

/// Pushes an error for each of `fields` (name, value) holding a control
/// character.
fn check_texts<'a>(
    errors: &mut Vec<FieldError>,
    fields: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) {
    for (field, value) in fields {
        if let Some(Err(e)) = value.map(|v| check_text_field(field, v)) {
            errors.push(e);
        }
    }
}

/// A member organisation as typed by a person or read from a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberInput {
    pub name: String,
    pub kind: MemberKind,
    pub siret: Option<String>,
    pub uai: Option<String>,
    pub code_insee: Option<String>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
    pub joined_on: Option<chrono_free::Date>,
    pub left_on: Option<chrono_free::Date>,
    pub status: PublicationStatus,
    /// True when identifiers or figures were made up for the demonstration.
    #[serde(default)]
    pub invented: bool,
}

impl MemberInput {
    /// Checks every field and returns all the problems found.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.name.trim().is_empty() {
            errors.push(FieldError::new("nom", "le nom est obligatoire"));
        }
        check_texts(
            &mut errors,
            [
                ("nom", Some(self.name.as_str())),
                ("adresse", self.address.as_deref()),
                ("code_postal", self.postcode.as_deref()),
                ("site_web", self.website.as_deref()),
                ("description", self.description.as_deref()),
            ],
        );
        if let Some(s) = non_empty(&self.siret) {
            if let Err(e) = Siret::parse(s) {
                errors.push(FieldError::new("siret", e.to_string()));
            }
        }
        if let Some(u) = non_empty(&self.uai) {
            if let Err(e) = Uai::parse(u) {
                errors.push(FieldError::new("uai", e.to_string()));
            }
        }
        if let Some(c) = non_empty(&self.code_insee) {
            if let Err(e) = CodeInsee::parse(c) {
                errors.push(FieldError::new("code_insee", e.to_string()));
            }
        }
        if let Some(w) = non_empty(&self.website) {
            if !(w.starts_with("https://") || w.starts_with("http://")) || w.contains(' ') {
                errors.push(FieldError::new(
                    "site_web",
                    "l'adresse du site doit commencer par https:// ou http://",
                ));
            }
        }
        if let (Some(a), Some(b)) = (self.joined_on, self.left_on) {
            if b < a {
                errors.push(FieldError::new(
                    "date_sortie",
                    "la date de sortie précède la date d'adhésion",
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// A formation (the LHÉO « formation » with its main « action »).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormationInput {
    pub title: String,
    /// Certif Info code of the certification prepared, if any.
    pub certification_code: Option<i64>,
    pub level: Option<Level>,
    pub pathway: Pathway,
    pub modality: Modality,
    /// Id of the providing member.
    pub provider_id: i64,
    pub site_code_insee: Option<String>,
    pub capacity: Option<i64>,
    pub duration_hours: Option<i64>,
    pub description: Option<String>,
    pub status: PublicationStatus,
    /// ROME codes; when empty they are derived from the certification.
    #[serde(default)]
    pub rome_codes: Vec<String>,
    /// LHÉO `numero` or another stable key from the source, for idempotent
    /// re-imports.
    pub external_key: Option<String>,
    #[serde(default)]
    pub invented: bool,
}

impl FormationInput {
    /// Checks every field and returns all the problems found.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.title.trim().is_empty() {
            errors.push(FieldError::new("intitule", "l'intitulé est obligatoire"));
        }
        check_texts(
            &mut errors,
            [
                ("intitule", Some(self.title.as_str())),
                ("description", self.description.as_deref()),
                ("cle", self.external_key.as_deref()),
            ],
        );
        if let Some(c) = non_empty(&self.site_code_insee) {
            if let Err(e) = CodeInsee::parse(c) {
                errors.push(FieldError::new("code_insee_lieu", e.to_string()));
            }
        }
        if matches!(self.capacity, Some(n) if n < 0) {
            errors.push(FieldError::new(
                "capacite",
                "la capacité ne peut pas être négative",
            ));
        }
        if matches!(self.duration_hours, Some(n) if n <= 0) {
            errors.push(FieldError::new(
                "duree_heures",
                "la durée doit être positive",
            ));
        }
        for r in &self.rome_codes {
            if let Err(e) = CodeRome::parse(r) {
                errors.push(FieldError::new("codes_rome", e.to_string()));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// A session of a formation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInput {
    pub starts_on: chrono_free::Date,
    pub ends_on: Option<chrono_free::Date>,
    pub places: Option<i64>,
}

impl SessionInput {
    /// Checks the dates and places.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if matches!(self.ends_on, Some(e) if e < self.starts_on) {
            errors.push(FieldError::new("date_fin", "la fin précède le début"));
        }
        if matches!(self.places, Some(n) if n < 0) {
            errors.push(FieldError::new(
                "places",
                "le nombre de places ne peut pas être négatif",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A calendar date without a time zone, kept here so that `domain` needs no
/// date library: `YYYY-MM-DD`, ordered, validated.
pub mod chrono_free {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::fmt;

    /// A valid Gregorian date.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct Date {
        y: i32,
        m: u8,
        d: u8,
    }

    impl Date {
        /// Builds a date, refusing impossible ones (31 April, 29 February 2023).
        pub fn new(y: i32, m: u8, d: u8) -> Option<Self> {
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let days = match m {
                1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
                4 | 6 | 9 | 11 => 30,
                2 if leap => 29,
                2 => 28,
                _ => return None,
            };
            (d >= 1 && d <= days && (1000..=9999).contains(&y)).then_some(Self { y, m, d })
        }

        /// Reads `2025-09-01`, `01/09/2025` or `20250901` (LHÉO).
        pub fn parse(input: &str) -> Option<Self> {
            let s = input.trim();
            let num = |a: &str| a.parse::<i64>().ok();
            let (y, m, d) = if let Some((a, rest)) = s.split_once('-') {
                let (b, c) = rest.split_once('-')?;
                (num(a)?, num(b)?, num(c.get(..2).unwrap_or(c))?)
            } else if let Some((a, rest)) = s.split_once('/') {
                let (b, c) = rest.split_once('/')?;
                (num(c)?, num(b)?, num(a)?)
            } else if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
                (num(&s[..4])?, num(&s[4..6])?, num(&s[6..])?)
            } else {
                return None;
            };
            Self::new(
                i32::try_from(y).ok()?,
                u8::try_from(m).ok()?,
                u8::try_from(d).ok()?,
            )
        }

        /// Year, month, day.
        pub fn ymd(self) -> (i32, u8, u8) {
            (self.y, self.m, self.d)
        }
    }

    impl fmt::Display for Date {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{:04}-{:02}-{:02}", self.y, self.m, self.d)
        }
    }

    impl Serialize for Date {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(self)
        }
    }

    impl<'de> Deserialize<'de> for Date {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let s = String::deserialize(d)?;
            Date::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("date invalide : {s}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::chrono_free::Date;
    use super::*;

    fn member() -> MemberInput {
        MemberInput {
            name: "Lycée".into(),
            kind: MemberKind::Lycee,
            siret: None,
            uai: Some("9730235T".into()),
            code_insee: Some("97311".into()),
            address: None,
            postcode: None,
            website: Some("https://example.org".into()),
            description: None,
            joined_on: Date::parse("2020-01-01"),
            left_on: None,
            status: PublicationStatus::Published,
            invented: false,
        }
    }

    #[test]
    fn control_characters_are_refused_in_free_text() {
        let m = MemberInput {
            name: "Lycée\0".into(),
            description: Some("ligne 1\nligne 2\u{7}".into()),
            ..member()
        };
        let errors = m.validate().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["nom", "description"]);
        assert!(errors[0].message.contains("U+0000"), "{errors:?}");
        assert!(errors[1].message.contains("position 16"), "{errors:?}");
    }

    #[test]
    fn member_errors_name_their_field() {
        assert!(member().validate().is_ok());
        let mut m = member();
        m.uai = Some("9730235A".into());
        m.siret = Some("123".into());
        m.website = Some("example.org".into());
        let errs = m.validate().unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["siret", "uai", "site_web"]);
    }

    #[test]
    fn dates() {
        assert_eq!(Date::parse("01/09/2025").unwrap().to_string(), "2025-09-01");
        assert_eq!(Date::parse("20250901").unwrap().to_string(), "2025-09-01");
        assert!(Date::parse("2023-02-29").is_none());
        assert!(Date::parse("2024-02-29").is_some());
        assert!(Date::parse("demain").is_none());
    }
}
