//! What the forms of every area share: the submitted values and their
//! problems (`Fields`), `<select>` choices, reading dates and vocabularies
//! (also for the API), and showing a refused form again.

use std::collections::HashMap;

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use app::AppError;
use domain::network::chrono_free::Date;
use domain::network::FieldError;

use crate::error::WebError;
use crate::pages::render;

/// What a form shows: the values (as typed or as stored) and the problems.
#[derive(Default)]
pub(crate) struct Fields {
    pub(crate) values: HashMap<String, String>,
    pub(crate) errors: Vec<FieldError>,
}

impl Fields {
    pub(crate) fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self {
            values: pairs.into_iter().collect(),
            errors: Vec::new(),
        }
    }

    pub(crate) fn set(&mut self, name: &str, value: Option<impl ToString>) {
        self.values.insert(
            name.to_owned(),
            value.map(|v| v.to_string()).unwrap_or_default(),
        );
    }

    /// The value of a field, for `value="…"` (askama escapes it).
    pub(crate) fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    pub(crate) fn opt(&self, name: &str) -> Option<String> {
        Some(self.value(name).trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// Whether a checkbox sent « oui ».
    pub(crate) fn checked(&self, name: &str) -> bool {
        self.value(name) == "oui"
    }

    /// The problem with a field, if any.
    pub(crate) fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }

    pub(crate) fn number(&mut self, name: &str) -> Option<i64> {
        let v = self.opt(name)?;
        match v.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                self.errors.push(FieldError::new(
                    name,
                    format!("nombre entier attendu, « {v} » saisi"),
                ));
                None
            }
        }
    }
}

/// A page showing a form: its templates call `value(name)` and
/// `error(name)` on the page itself.
pub(crate) trait FormPage {
    /// The form's values and problems.
    fn fields(&self) -> &Fields;

    /// The value of a field, for `value="…"`.
    fn value(&self, name: &str) -> &str {
        self.fields().value(name)
    }

    /// The problem with a field, if any.
    fn error(&self, name: &str) -> Option<&str> {
        self.fields().error(name)
    }
}

/// How many rows of a repeated group (`{field}_N`) a form uses: up to the
/// last one with a value or an error, so that one empty row follows them.
pub(crate) fn rows_in_use(f: &Fields, field: &str, max: usize) -> usize {
    (0..max)
        .filter(|i| {
            let name = format!("{field}_{i}");
            !f.value(&name).is_empty() || f.error(&name).is_some()
        })
        .max()
        .map_or(0, |i| i + 1)
}

/// The publication statuses, for a `<select>`.
pub(crate) fn publication_statuses() -> Vec<Choice> {
    choices(
        domain::PublicationStatus::ALL,
        domain::PublicationStatus::code,
        domain::PublicationStatus::label,
    )
}

/// One choice of a `<select>`.
pub(crate) struct Choice {
    pub(crate) code: &'static str,
    pub(crate) label: &'static str,
}

pub(crate) fn choices<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            code: code(*v),
            label: label(*v),
        })
        .collect()
}

/// A `<select>` choice with an owned code (member ids).
pub(crate) struct OwnedChoice {
    pub(crate) code: String,
    pub(crate) label: String,
}

/// Shows the form again with its problems (422), or passes other errors on.
pub(crate) fn refused<T: Template>(
    page: impl FnOnce(Vec<FieldError>) -> T,
    e: AppError,
) -> Result<Response, WebError> {
    match e {
        AppError::Invalid(errors) => {
            let mut res = render(&page(errors), true)?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        e => Err(e.into()),
    }
}

/// A date field (`AAAA-MM-JJ`), the problem added to `errors`.
pub(crate) fn parse_date(
    field: &str,
    v: &Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<Date> {
    let s = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    let d = Date::parse(s);
    if d.is_none() {
        errors.push(FieldError::new(
            field,
            format!("date invalide « {s} », attendu AAAA-MM-JJ"),
        ));
    }
    d
}

/// A field of a closed vocabulary (`default` when empty), the problem added
/// to `errors`.
pub(crate) fn parse_vocab<T>(
    field: &str,
    v: Option<&str>,
    default: T,
    parse: fn(&str) -> Option<T>,
    errors: &mut Vec<FieldError>,
) -> T {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => default,
        Some(s) => parse(s).unwrap_or_else(|| {
            errors.push(FieldError::new(field, format!("valeur inconnue « {s} »")));
            default
        }),
    }
}
