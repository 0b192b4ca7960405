//! The one rule of what visitors see of campus data: a member organisation
//! when it is published and has joined the campus (an outside organisation,
//! met as a provider in an import, never), a formation when it is published.
//! Views, the search index and the store's SQL all read it from here.

use crate::{MemberKind, PublicationStatus};

/// Whether visitors see a member with this stored status and kind.
pub fn member_is_public(status: &str, kind: &str) -> bool {
    status == PublicationStatus::Published.code() && kind != MemberKind::Outside.code()
}

/// Whether visitors see a formation with this stored status.
pub fn formation_is_public(status: &str) -> bool {
    status == PublicationStatus::Published.code()
}

/// [`member_is_public`] as an SQL condition on a `members` row aliased `m`
/// (constant text: no value is spliced in).
pub const MEMBER_PUBLIC_SQL: &str = "(m.status = 'publie' AND m.kind <> 'exterieur')";

/// [`formation_is_public`] as an SQL condition on a `formations` row
/// aliased `f`.
pub const FORMATION_PUBLIC_SQL: &str = "(f.status = 'publie')";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_public_when_published_and_not_outside() {
        assert!(member_is_public("publie", "employeur"));
        assert!(!member_is_public("brouillon", "employeur"));
        assert!(!member_is_public("publie", "exterieur"));
        assert!(formation_is_public("publie"));
        assert!(!formation_is_public("brouillon"));
    }

    /// The SQL twins name the same codes as the rule, so that a renamed
    /// code cannot make the pages and the queries disagree.
    #[test]
    fn the_sql_conditions_use_the_rules_codes() {
        let published = format!("'{}'", PublicationStatus::Published.code());
        let outside = format!("'{}'", MemberKind::Outside.code());
        assert!(MEMBER_PUBLIC_SQL.contains(&format!("m.status = {published}")));
        assert!(MEMBER_PUBLIC_SQL.contains(&format!("m.kind <> {outside}")));
        assert_eq!(FORMATION_PUBLIC_SQL, format!("(f.status = {published})"));
    }
}
