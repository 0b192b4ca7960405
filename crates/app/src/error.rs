//! The one application error, with a stable code for the API and a French
//! message safe to show. Internal details are logged, never shown.

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

impl AppError {
    /// Stable machine-readable code, part of the API contract.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "not_found",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::TooManyRequests => "too_many_requests",
            AppError::Invalid(_) => "invalid",
            AppError::Conflict(_) => "conflict",
            AppError::Store(store::StoreError::NotFound(_)) => "not_found",
            AppError::Store(_) | AppError::Search(_) | AppError::Internal(_) => "internal",
        }
    }

    /// Whether the details must stay in the logs.
    pub fn is_internal(&self) -> bool {
        self.code() == "internal"
    }
}
