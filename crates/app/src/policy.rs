//! The authorization policy: the one place that decides who may do what
//! on which campus' data. Accounts and roles come with a later issue; for
//! now there are visitors and the holder of the configured admin token.

use crate::AppError;

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// Anyone, not signed in.
    Visitor,
    /// The holder of the admin token (network admin).
    Admin,
}

/// What they want to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read published data (formations, public member cards, reference data).
    ReadPublic,
    /// Read unpublished data, contacts and data-quality notes of a campus.
    ReadPrivate,
    /// Create, update or delete campus data.
    Write,
}

/// Decides an access; `Ok` means allowed.
pub fn authorize(actor: Actor, action: Action) -> Result<(), AppError> {
    match (actor, action) {
        (_, Action::ReadPublic) => Ok(()),
        (Actor::Admin, _) => Ok(()),
        (Actor::Visitor, Action::Write) => Err(AppError::Unauthorized),
        (Actor::Visitor, Action::ReadPrivate) => Err(AppError::Forbidden),
    }
}

/// Whether the actor may see private data; used to choose what a listing
/// shows rather than to refuse it.
pub fn sees_private(actor: Actor) -> bool {
    authorize(actor, Action::ReadPrivate).is_ok()
}

/// Checks a bearer token against the configured one in constant time.
pub fn actor_for_token(configured: Option<&str>, given: Option<&str>) -> Actor {
    match (configured, given) {
        (Some(c), Some(g)) if !c.is_empty() && constant_time_eq(c.as_bytes(), g.as_bytes()) => {
            Actor::Admin
        }
        _ => Actor::Visitor,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix() {
        use Action::*;
        use Actor::*;
        let expect = [
            (Visitor, ReadPublic, true),
            (Visitor, ReadPrivate, false),
            (Visitor, Write, false),
            (Admin, ReadPublic, true),
            (Admin, ReadPrivate, true),
            (Admin, Write, true),
        ];
        for (actor, action, allowed) in expect {
            assert_eq!(
                authorize(actor, action).is_ok(),
                allowed,
                "{actor:?} {action:?}"
            );
        }
    }

    #[test]
    fn tokens() {
        assert_eq!(
            actor_for_token(Some("s3cret"), Some("s3cret")),
            Actor::Admin
        );
        assert_eq!(
            actor_for_token(Some("s3cret"), Some("s3cre")),
            Actor::Visitor
        );
        assert_eq!(actor_for_token(None, Some("")), Actor::Visitor);
        assert_eq!(actor_for_token(Some(""), Some("")), Actor::Visitor);
    }
}
