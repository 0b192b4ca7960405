//! The audit log's hash chain. Each entry's hash covers the previous entry's
//! hash and every field of the entry except the personal ones (who, by name,
//! and from which address), which it covers through `personal_hash` only:
//! clearing them for retention or erasure keeps the chain verifiable, while
//! changing any other field, removing an entry or inserting one breaks it.

use sha2::{Digest, Sha256};

/// `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chained fields of one entry.
#[derive(Debug, Clone, Copy)]
pub struct Chained<'a> {
    /// Position in the log, from 1, without gaps.
    pub seq: i64,
    /// RFC 3339 UTC.
    pub at: &'a str,
    /// Account of the actor; `None` for visitors and the system.
    pub actor_user_id: Option<i64>,
    /// What happened (`sign_in`, `member.update`, `export.membres`…).
    pub action: &'a str,
    /// Campus concerned, if any.
    pub campus_id: Option<i64>,
    /// Kind of object concerned.
    pub entity: Option<&'a str>,
    /// Its id.
    pub entity_id: Option<&'a str>,
    /// Non-personal detail (counts, fields changed), JSON.
    pub detail: Option<&'a str>,
    /// See [`personal_hash`].
    pub personal_hash: &'a str,
    /// Hash of the previous entry ([`GENESIS`] for the first).
    pub prev_hash: &'a str,
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Feeds a field, length-prefixed so that no two sequences of fields give
/// the same bytes; `None` differs from every string.
fn feed(h: &mut Sha256, field: Option<&str>) {
    match field {
        None => h.update(b"-;"),
        Some(s) => {
            h.update(format!("{}:", s.len()).as_bytes());
            h.update(s.as_bytes());
            h.update(b";");
        }
    }
}

/// The hash of an entry.
pub fn entry_hash(e: &Chained<'_>) -> String {
    let mut h = Sha256::new();
    h.update(b"passerelle-audit-v1;");
    let seq = e.seq.to_string();
    let user = e.actor_user_id.map(|u| u.to_string());
    let campus = e.campus_id.map(|c| c.to_string());
    for field in [
        Some(e.prev_hash),
        Some(seq.as_str()),
        Some(e.at),
        user.as_deref(),
        Some(e.action),
        campus.as_deref(),
        e.entity,
        e.entity_id,
        e.detail,
        Some(e.personal_hash),
    ] {
        feed(&mut h, field);
    }
    hex(&h.finalize())
}

/// The hash of the personal fields of an entry, salted with a random value
/// kept beside them and cleared with them.
pub fn personal_hash(salt: &str, actor_label: Option<&str>, ip_prefix: Option<&str>) -> String {
    let mut h = Sha256::new();
    h.update(b"passerelle-audit-personal-v1;");
    for field in [Some(salt), actor_label, ip_prefix] {
        feed(&mut h, field);
    }
    hex(&h.finalize())
}

/// What is wrong with an entry of a stored chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The sequence jumps: entries were removed or inserted.
    Gap { expected: i64 },
    /// The entry does not follow the previous one.
    Link,
    /// A chained field was changed.
    Hash,
    /// A personal field was changed (while still present).
    Personal,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Gap { expected } => {
                write!(f, "entrée manquante ou ajoutée (attendu n° {expected})")
            }
            Break::Link => f.write_str("ne suit pas l'entrée précédente (prev_hash)"),
            Break::Hash => f.write_str("contenu modifié (hash)"),
            Break::Personal => f.write_str("données personnelles modifiées (personal_hash)"),
        }
    }
}

/// Checks one stored entry against the hash of the one before it.
/// `personal` holds the salt and personal fields when they have not been
/// cleared.
pub fn check(
    e: &Chained<'_>,
    stored_hash: &str,
    previous: Option<(i64, &str)>,
    personal: Option<(&str, Option<&str>, Option<&str>)>,
) -> Result<(), Break> {
    let (expected_seq, expected_prev) = match previous {
        None => (1, GENESIS),
        Some((seq, hash)) => (seq.saturating_add(1), hash),
    };
    if e.seq != expected_seq {
        return Err(Break::Gap {
            expected: expected_seq,
        });
    }
    if e.prev_hash != expected_prev {
        return Err(Break::Link);
    }
    if entry_hash(e) != stored_hash {
        return Err(Break::Hash);
    }
    if let Some((salt, label, ip)) = personal {
        if personal_hash(salt, label, ip) != e.personal_hash {
            return Err(Break::Personal);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry<'a>(
        seq: i64,
        prev: &'a str,
        personal: &'a str,
        detail: Option<&'a str>,
    ) -> Chained<'a> {
        Chained {
            seq,
            at: "2026-12-01T10:00:00Z",
            actor_user_id: Some(3),
            action: "member.update",
            campus_id: Some(1),
            entity: Some("member"),
            entity_id: Some("12"),
            detail,
            personal_hash: personal,
            prev_hash: prev,
        }
    }

    #[test]
    fn a_chain_verifies_and_any_change_breaks_it() {
        let p1 = personal_hash("salt1", Some("camille@example.org"), Some("203.0.113.0/24"));
        let e1 = entry(1, GENESIS, &p1, Some("{}"));
        let h1 = entry_hash(&e1);
        let p2 = personal_hash("salt2", None, None);
        let e2 = entry(2, &h1, &p2, None);
        let h2 = entry_hash(&e2);
        let personal1 = Some(("salt1", Some("camille@example.org"), Some("203.0.113.0/24")));
        assert_eq!(check(&e1, &h1, None, personal1), Ok(()));
        assert_eq!(check(&e2, &h2, Some((1, &h1)), None), Ok(()));
        // Erasing the personal fields (and the salt) keeps the chain.
        assert_eq!(check(&e1, &h1, None, None), Ok(()));
        // Changing a chained field, a personal field, the order or the count does not.
        let changed = Chained {
            action: "member.delete",
            ..e1
        };
        assert_eq!(check(&changed, &h1, None, None), Err(Break::Hash));
        let renamed = Some((
            "salt1",
            Some("dominique@example.org"),
            Some("203.0.113.0/24"),
        ));
        assert_eq!(check(&e1, &h1, None, renamed), Err(Break::Personal));
        assert_eq!(check(&e2, &h2, None, None), Err(Break::Gap { expected: 1 }));
        assert_eq!(check(&e2, &h2, Some((1, GENESIS)), None), Err(Break::Link));
    }

    #[test]
    fn fields_cannot_be_shifted_into_each_other() {
        let a = Chained {
            entity: Some("ab"),
            entity_id: Some("c"),
            ..entry(1, GENESIS, "p", None)
        };
        let b = Chained {
            entity: Some("a"),
            entity_id: Some("bc"),
            ..entry(1, GENESIS, "p", None)
        };
        assert_ne!(entry_hash(&a), entry_hash(&b));
        let none = Chained {
            detail: None,
            ..entry(1, GENESIS, "p", None)
        };
        let empty = Chained {
            detail: Some(""),
            ..entry(1, GENESIS, "p", None)
        };
        assert_ne!(entry_hash(&none), entry_hash(&empty));
    }
}
