//! The authorization policy: the one place that decides who may do what on
//! which campus' data (role × resource × action × campus). Use cases call
//! [`authorize`] (or [`allows`] to choose what a listing shows); handlers in
//! `web` never decide on their own.

use std::sync::Arc;

use domain::accounts::Role;

use crate::AppError;

/// A role held on a campus (or network-wide for the network admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// The campus it is held on; `None` only for the network admin.
    pub campus_id: Option<i64>,
    /// For member editors: the organisation they edit.
    pub member_id: Option<i64>,
}

/// A signed-in person (or the operator at the command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Account id; `0` for the command-line operator.
    pub user_id: i64,
    /// Normalised e-mail address.
    pub email: String,
    /// Name shown in the interface.
    pub display_name: String,
    /// Every role the person holds.
    pub grants: Vec<Grant>,
}

/// Who is asking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// `None` for a visitor.
    pub principal: Option<Arc<Principal>>,
    /// Set for a read-only API token: every write is refused, whatever the
    /// person's roles.
    pub read_only: bool,
    /// Where the request comes from (truncated address), for the audit log;
    /// decides nothing.
    pub origin: Option<String>,
}

impl Actor {
    /// Anyone, not signed in.
    pub fn visitor() -> Self {
        Self::default()
    }

    /// The person at the command line of the server: they hold the database
    /// itself, so the CLI acts as a network admin.
    pub fn operator() -> Self {
        Self::person(Principal {
            user_id: 0,
            email: "operateur@localhost".into(),
            display_name: "Opérateur (ligne de commande)".into(),
            grants: vec![Grant {
                role: Role::NetworkAdmin,
                campus_id: None,
                member_id: None,
            }],
        })
    }

    /// A signed-in person with every right their grants give.
    pub fn person(principal: Principal) -> Self {
        Self {
            principal: Some(Arc::new(principal)),
            read_only: false,
            origin: None,
        }
    }

    /// Whether nobody is signed in.
    pub fn is_visitor(&self) -> bool {
        self.principal.is_none()
    }

    /// The account id, if any.
    pub fn user_id(&self) -> Option<i64> {
        self.principal.as_ref().map(|p| p.user_id)
    }

    fn holds(&self, role: Role, campus_id: i64) -> bool {
        self.grants()
            .any(|g| g.role == role && g.campus_id == Some(campus_id))
    }

    fn edits(&self, campus_id: i64, member_id: i64) -> bool {
        self.grants().any(|g| {
            g.role == Role::MemberEditor
                && g.campus_id == Some(campus_id)
                && g.member_id == Some(member_id)
        })
    }

    fn is_network_admin(&self) -> bool {
        self.grants().any(|g| g.role == Role::NetworkAdmin)
    }

    fn grants(&self) -> impl Iterator<Item = &Grant> {
        self.principal.iter().flat_map(|p| p.grants.iter())
    }
}

/// What is being accessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// Published data and reference data.
    Public,
    /// A campus as a whole: its members list, drafts, contacts, settings.
    Campus(i64),
    /// One member organisation of a campus.
    Member { campus_id: i64, member_id: i64 },
    /// One formation of a campus, offered by `provider_id`.
    Formation { campus_id: i64, provider_id: i64 },
    /// The whole deployment: campuses, reference data, every account.
    Network,
    /// A person's own account (profile, sessions, tokens).
    Account(i64),
}

/// What the actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read published data (formations, public member cards, reference data).
    ReadPublic,
    /// Read aggregates and dashboards, never personal data.
    ReadAggregate,
    /// Read unpublished data, contacts and data-quality notes.
    ReadPrivate,
    /// Create, update or delete data.
    Write,
    /// Settings, invitations, roles and the audit log.
    Manage,
}

impl Action {
    fn writes(self) -> bool {
        matches!(self, Action::Write | Action::Manage)
    }
}

/// Decides an access; `Ok` means allowed. A visitor asking for anything but
/// public data gets `Unauthorized` (sign in), a signed-in person without the
/// right `Forbidden`.
pub fn authorize(actor: &Actor, action: Action, resource: Resource) -> Result<(), AppError> {
    if action == Action::ReadPublic {
        return Ok(());
    }
    if actor.is_visitor() {
        return Err(AppError::Unauthorized);
    }
    if actor.read_only && action.writes() {
        return Err(AppError::Forbidden);
    }
    if decide(actor, action, resource) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Whether the actor may write anything at all: signed in, and not through
/// a read-only token. The API asks before reading a request body, so that a
/// missing or read-only token gets 401 / 403 rather than a validation
/// error; the use case then decides on the precise resource.
pub fn may_write(actor: &Actor) -> Result<(), AppError> {
    if actor.is_visitor() {
        Err(AppError::Unauthorized)
    } else if actor.read_only {
        Err(AppError::Forbidden)
    } else {
        Ok(())
    }
}

/// Whether [`authorize`] allows; used to choose what a page shows rather
/// than to refuse it.
pub fn allows(actor: &Actor, action: Action, resource: Resource) -> bool {
    authorize(actor, action, resource).is_ok()
}

/// The rules, for a signed-in actor and anything but public reads.
fn decide(actor: &Actor, action: Action, resource: Resource) -> bool {
    if actor.is_network_admin() {
        return true;
    }
    use Action::*;
    use Resource::*;
    match (action, resource) {
        (_, Public) => false,
        (_, Network) => false,
        (ReadPrivate | Write | Manage | ReadAggregate, Account(user_id)) => {
            actor.user_id() == Some(user_id)
        }
        (
            ReadAggregate,
            Campus(c) | Member { campus_id: c, .. } | Formation { campus_id: c, .. },
        ) => actor.holds(Role::CampusManager, c) || actor.holds(Role::Observer, c),
        (ReadPrivate | Write | Manage, Campus(c)) => actor.holds(Role::CampusManager, c),
        (
            ReadPrivate | Write,
            Member {
                campus_id,
                member_id,
            },
        ) => actor.holds(Role::CampusManager, campus_id) || actor.edits(campus_id, member_id),
        (
            ReadPrivate | Write,
            Formation {
                campus_id,
                provider_id,
            },
        ) => actor.holds(Role::CampusManager, campus_id) || actor.edits(campus_id, provider_id),
        (Manage, Member { campus_id, .. } | Formation { campus_id, .. }) => {
            actor.holds(Role::CampusManager, campus_id)
        }
        (ReadPublic, _) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(grants: &[(Role, Option<i64>, Option<i64>)]) -> Actor {
        Actor::person(Principal {
            user_id: 7,
            email: "x@exemple.fr".into(),
            display_name: "X".into(),
            grants: grants
                .iter()
                .map(|&(role, campus_id, member_id)| Grant {
                    role,
                    campus_id,
                    member_id,
                })
                .collect(),
        })
    }

    #[test]
    fn roles_on_two_campuses() {
        use Action::*;
        use Resource::*;
        let a_member = Member {
            campus_id: 1,
            member_id: 10,
        };
        let a_other_member = Member {
            campus_id: 1,
            member_id: 11,
        };
        let b_member = Member {
            campus_id: 2,
            member_id: 20,
        };
        let a_formation = Formation {
            campus_id: 1,
            provider_id: 10,
        };
        let visitor = Actor::visitor();
        let manager_a = actor(&[(Role::CampusManager, Some(1), None)]);
        let editor_a = actor(&[(Role::MemberEditor, Some(1), Some(10))]);
        let observer_a = actor(&[(Role::Observer, Some(1), None)]);
        let learner_a = actor(&[(Role::Learner, Some(1), None)]);
        let admin = actor(&[(Role::NetworkAdmin, None, None)]);
        let mut manager_a_read_only = manager_a.clone();
        manager_a_read_only.read_only = true;
        let cases: Vec<(&Actor, Action, Resource, bool)> = vec![
            (&visitor, ReadPublic, Public, true),
            (&visitor, ReadPrivate, Campus(1), false),
            (&visitor, Write, a_member, false),
            (&manager_a, ReadPrivate, Campus(1), true),
            (&manager_a, Write, a_member, true),
            (&manager_a, Manage, Campus(1), true),
            (&manager_a, ReadPrivate, Campus(2), false),
            (&manager_a, Write, b_member, false),
            (&manager_a, Manage, Network, false),
            (&manager_a_read_only, ReadPrivate, Campus(1), true),
            (&manager_a_read_only, Write, a_member, false),
            (&editor_a, Write, a_member, true),
            (&editor_a, Write, a_formation, true),
            (&editor_a, Write, a_other_member, false),
            (&editor_a, ReadPrivate, Campus(1), false),
            (&editor_a, Write, Campus(1), false),
            (&editor_a, Write, b_member, false),
            (&observer_a, ReadAggregate, Campus(1), true),
            (&observer_a, ReadAggregate, Campus(2), false),
            (&observer_a, ReadPrivate, Campus(1), false),
            (&observer_a, ReadPrivate, a_member, false),
            (&learner_a, ReadPrivate, Campus(1), false),
            (&learner_a, ReadAggregate, Campus(1), false),
            (&learner_a, Write, Account(7), true),
            (&learner_a, Write, Account(8), false),
            (&admin, Manage, Network, true),
            (&admin, Write, b_member, true),
        ];
        for (who, action, resource, allowed) in cases {
            assert_eq!(
                allows(who, action, resource),
                allowed,
                "{who:?} {action:?} {resource:?}"
            );
        }
        assert!(matches!(
            authorize(&visitor, Write, a_member),
            Err(AppError::Unauthorized)
        ));
        assert!(matches!(
            authorize(&editor_a, Write, b_member),
            Err(AppError::Forbidden)
        ));
    }
}
