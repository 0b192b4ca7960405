//! The application's error policy.
//!
//! - **Where each error type lives.** `store::StoreError` (database and
//!   backup failures, and the `NotFound` / `Conflict` the store itself can
//!   tell), `search::Error` (the index), and the parsers' typed problems in
//!   `ingest` (file, line, column, message) stay in their crates. `app`
//!   turns them into [`AppError`] for use cases and into
//!   [`crate::imports::ImportError`] for imports, keeping the source error
//!   (`#[from]`), never flattening it into a string, except where an
//!   import's message is the source's own text.
//! - **What reaches a person.** Each variant has one stable [`ErrorCode`]
//!   (the API's `error` field, the HTTP status chosen by `web::error`) and a
//!   French message safe to show. Invalid input lists every problem with its
//!   field; an import refusal lists every problem with its line. A page
//!   shows the same message as the API.
//! - **What is logged.** Internal errors (`Store`, `Search`, `Internal`) are
//!   shown as « erreur interne » and logged with their whole source chain by
//!   `web::error`; expected refusals (404, 403, 422, 409, 429) are not
//!   logged as errors. Secrets and personal data never go into a message.
//! - **Settings** are parsed once, at start (the command line's `config`), and a
//!   malformed value is an error that names the variable, never ignored.

use domain::network::FieldError;

/// What a use case can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The thing asked for does not exist (or may not be seen).
    #[error("introuvable : {0}")]
    NotFound(String),
    /// No credentials were given for an action that needs them.
    #[error("authentification requise")]
    Unauthorized,
    /// The credentials do not allow this action.
    #[error("action non autorisée")]
    Forbidden,
    /// Too many attempts (sign-in throttling, rate limits); try later.
    #[error("trop de tentatives : réessayez dans quelques minutes")]
    TooManyRequests,
    /// The input is invalid; every problem is listed with its field.
    #[error("données invalides")]
    Invalid(Vec<FieldError>),
    /// A unique key is already taken.
    #[error("conflit : {0}")]
    Conflict(String),
    /// Storage failed.
    #[error("erreur de base de données")]
    Store(#[from] store::StoreError),
    /// The search index failed.
    #[error("erreur du moteur de recherche")]
    Search(#[from] search::Error),
    /// Anything else unexpected.
    #[error("erreur interne")]
    Internal(String),
}

/// The stable codes of errors, shared by the API (`error` field) and the
/// pages (HTTP status); part of the API contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    NotFound,
    Unauthorized,
    Forbidden,
    TooManyRequests,
    Invalid,
    Conflict,
    Internal,
}

impl ErrorCode {
    /// The code as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not_found",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::Invalid => "invalid",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Internal => "internal",
        }
    }
}

impl AppError {
    /// Stable machine-readable code, part of the API contract.
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::NotFound(_) => ErrorCode::NotFound,
            AppError::Unauthorized => ErrorCode::Unauthorized,
            AppError::Forbidden => ErrorCode::Forbidden,
            AppError::TooManyRequests => ErrorCode::TooManyRequests,
            AppError::Invalid(_) => ErrorCode::Invalid,
            AppError::Conflict(_) => ErrorCode::Conflict,
            AppError::Store(store::StoreError::NotFound(_)) => ErrorCode::NotFound,
            AppError::Store(_) | AppError::Search(_) | AppError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Whether the details must stay in the logs.
    pub fn is_internal(&self) -> bool {
        self.code() == ErrorCode::Internal
    }
}
