//! The audit log's chain. Each entry's seal covers the previous entry's seal
//! and every field of the entry except the personal ones (who, by name, and
//! from which address), which it covers through `personal_hash` only:
//! clearing them for retention or erasure keeps the chain verifiable, while
//! changing any other field, removing an entry or inserting one breaks it.
//!
//! Two versions of the seal live in one chain. [`V1`] is an unkeyed SHA-256:
//! entries written before the server had a key, still verifiable, but anyone
//! with write access to the database could recompute them. [`V2`] is an
//! HMAC-SHA256 keyed with the server's secret ([`AuditKey`]): without the key
//! nobody can forge one, and since it covers `prev_hash`, rewriting the v1
//! entries before it breaks the link. A chain never goes back from v2 to v1.
//!
//! Removing the *last* entries leaves a shorter chain that still links, so
//! the end is pinned by a signed [`Head`]: `(seq, hash)` of the last entry
//! and a MAC over them with its own label, updated with every append. An
//! attacker without the key cannot sign a new head; they can only put back
//! an older head they kept, which an anchored head (a head copied outside
//! the database, see [`anchor_matches`]) reveals.

use hmac::{Hmac, Mac};
use sha2::digest::Update;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// `prev_hash` of the first entry, and `hash` of the head of an empty log.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Unkeyed SHA-256 seal (entries written before the key existed).
pub const V1: i32 = 1;
/// HMAC-SHA256 seal with the server's [`AuditKey`].
pub const V2: i32 = 2;

/// The server's secret for the audit chain: 32 bytes. Never printed: its
/// `Debug` shows only a [`fingerprint`](AuditKey::fingerprint).
#[derive(Clone, PartialEq, Eq)]
pub struct AuditKey([u8; AuditKey::LEN]);

impl AuditKey {
    /// Length of a key in bytes.
    pub const LEN: usize = 32;

    /// A key from its bytes (which must come from a CSPRNG).
    pub fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes)
    }

    /// A key written as 64 hexadecimal digits (surrounding white space
    /// ignored), as in the key file.
    pub fn from_hex(text: &str) -> Option<Self> {
        let text = text.trim().as_bytes();
        if text.len() != 2 * Self::LEN {
            return None;
        }
        let mut bytes = [0u8; Self::LEN];
        for (b, pair) in bytes.iter_mut().zip(text.chunks(2)) {
            let digit = |c: u8| (c as char).to_digit(16);
            *b = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
        }
        Some(Self(bytes))
    }

    /// The key as 64 hexadecimal digits: for writing the key file only.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// A short public identifier of the key (16 hex digits of a MAC of a
    /// fixed label), so that operators can check that servers share one key
    /// without showing it.
    pub fn fingerprint(&self) -> String {
        let mut m = self.mac();
        Mac::update(&mut m, b"passerelle-audit-key-fingerprint");
        hex(&m.finalize().into_bytes()[..8])
    }

    fn mac(&self) -> HmacSha256 {
        <HmacSha256 as Mac>::new_from_slice(&self.0).expect("HMAC takes keys of any length")
    }
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey(empreinte {})", self.fingerprint())
    }
}

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

/// Compares two seals without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Feeds a field, length-prefixed so that no two sequences of fields give
/// the same bytes; `None` differs from every string.
fn feed(h: &mut impl Update, field: Option<&str>) {
    match field {
        None => h.update(b"-;"),
        Some(s) => {
            h.update(format!("{}:", s.len()).as_bytes());
            h.update(s.as_bytes());
            h.update(b";");
        }
    }
}

/// Feeds the chained fields of an entry.
fn feed_entry(h: &mut impl Update, e: &Chained<'_>) {
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
        feed(h, field);
    }
}

/// The unkeyed (v1) hash of an entry.
pub fn entry_hash(e: &Chained<'_>) -> String {
    let mut h = Sha256::new();
    Update::update(&mut h, b"passerelle-audit-v1;");
    feed_entry(&mut h, e);
    hex(&h.finalize())
}

/// The keyed (v2) seal of an entry: HMAC-SHA256 with the server's key.
pub fn entry_mac(key: &AuditKey, e: &Chained<'_>) -> String {
    let mut m = key.mac();
    Update::update(&mut m, b"passerelle-audit-v2;");
    feed_entry(&mut m, e);
    hex(&m.finalize().into_bytes())
}

/// The seal of an entry in a given version; `None` for an unknown version.
pub fn seal(version: i32, key: &AuditKey, e: &Chained<'_>) -> Option<String> {
    match version {
        V1 => Some(entry_hash(e)),
        V2 => Some(entry_mac(key, e)),
        _ => None,
    }
}

/// The hash of the personal fields of an entry, salted with a random value
/// kept beside them and cleared with them.
pub fn personal_hash(salt: &str, actor_label: Option<&str>, ip_prefix: Option<&str>) -> String {
    let mut h = Sha256::new();
    Update::update(&mut h, b"passerelle-audit-personal-v1;");
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
    /// A chained field of an unkeyed (v1) entry was changed.
    Hash,
    /// A keyed (v2) entry was changed, or sealed with another key.
    Mac,
    /// An unkeyed entry after a keyed one: entries were rewritten without
    /// the key.
    Downgrade,
    /// A seal version this program does not know.
    Version(i32),
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
            Break::Mac => {
                f.write_str("contenu modifié, ou scellé avec une autre clé que celle-ci (HMAC)")
            }
            Break::Downgrade => {
                f.write_str("entrée non signée après des entrées signées (réécrite sans la clé)")
            }
            Break::Version(v) => write!(f, "version de scellement inconnue ({v})"),
            Break::Personal => f.write_str("données personnelles modifiées (personal_hash)"),
        }
    }
}

/// The entry before the one being checked.
#[derive(Debug, Clone, Copy)]
pub struct Previous<'a> {
    pub seq: i64,
    pub hash: &'a str,
    pub version: i32,
}

/// Checks one stored entry, sealed in `version`, against the one before it.
/// `personal` holds the salt and personal fields when they have not been
/// cleared.
pub fn check(
    key: &AuditKey,
    e: &Chained<'_>,
    version: i32,
    stored_hash: &str,
    previous: Option<Previous<'_>>,
    personal: Option<(&str, Option<&str>, Option<&str>)>,
) -> Result<(), Break> {
    let (expected_seq, expected_prev, previous_version) = match previous {
        None => (1, GENESIS, V1),
        Some(p) => (p.seq.saturating_add(1), p.hash, p.version),
    };
    if e.seq != expected_seq {
        return Err(Break::Gap {
            expected: expected_seq,
        });
    }
    if e.prev_hash != expected_prev {
        return Err(Break::Link);
    }
    let Some(expected) = seal(version, key, e) else {
        return Err(Break::Version(version));
    };
    if version < previous_version {
        return Err(Break::Downgrade);
    }
    if !same(&expected, stored_hash) {
        return Err(if version == V1 {
            Break::Hash
        } else {
            Break::Mac
        });
    }
    if let Some((salt, label, ip)) = personal {
        if personal_hash(salt, label, ip) != e.personal_hash {
            return Err(Break::Personal);
        }
    }
    Ok(())
}

/// The end of the chain as last written: the last entry's number and seal,
/// and a MAC over them that only the key holder can make.
#[derive(Debug, Clone, Copy)]
pub struct Head<'a> {
    pub seq: i64,
    pub hash: &'a str,
    pub mac: &'a str,
}

/// The MAC of a head: the last entry's number and seal, under a label of its
/// own so that no entry's seal can serve as a head's.
pub fn head_mac(key: &AuditKey, seq: i64, hash: &str) -> String {
    let mut m = key.mac();
    Update::update(&mut m, b"passerelle-audit-head-v2;");
    feed(&mut m, Some(&seq.to_string()));
    feed(&mut m, Some(hash));
    hex(&m.finalize().into_bytes())
}

/// Whether a head was signed with this key.
pub fn head_signed(key: &AuditKey, head: &Head<'_>) -> bool {
    same(&head_mac(key, head.seq, head.hash), head.mac)
}

/// What is wrong with the end of a stored chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadBreak {
    /// No head is stored (it is written at the first start with a key).
    Missing,
    /// The head's MAC does not verify: another key, or a forged head.
    Mac,
    /// The chain ends before the head: its last entries were removed.
    Cut { last: i64, head: i64 },
    /// The chain goes on after the head: entries were added without the key.
    Beyond { last: i64, head: i64 },
    /// The last entry is not the one the head names.
    Diverged { seq: i64 },
}

impl std::fmt::Display for HeadBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeadBreak::Missing => f.write_str("tête du journal absente (supprimée)"),
            HeadBreak::Mac => f.write_str(
                "tête du journal : signature invalide (clé différente de celle qui a signé le journal, ou tête falsifiée)",
            ),
            HeadBreak::Cut { last, head } => write!(
                f,
                "fin du journal coupée : la tête signée annonce l'entrée n° {head}, la dernière présente est la n° {last}"
            ),
            HeadBreak::Beyond { last, head } => write!(
                f,
                "entrées ajoutées après la tête signée (n° {head}) jusqu'au n° {last}"
            ),
            HeadBreak::Diverged { seq } => {
                write!(f, "l'entrée n° {seq} n'est pas celle que nomme la tête signée")
            }
        }
    }
}

/// Checks the stored head against the last entry of the chain (`None` for
/// an empty log, whose head is `(0, GENESIS)`).
pub fn check_head(
    key: &AuditKey,
    head: Option<&Head<'_>>,
    last: Option<(i64, &str)>,
) -> Result<(), HeadBreak> {
    let head = head.ok_or(HeadBreak::Missing)?;
    if !head_signed(key, head) {
        return Err(HeadBreak::Mac);
    }
    let (last_seq, last_hash) = last.unwrap_or((0, GENESIS));
    if last_seq < head.seq {
        return Err(HeadBreak::Cut {
            last: last_seq,
            head: head.seq,
        });
    }
    if last_seq > head.seq {
        return Err(HeadBreak::Beyond {
            last: last_seq,
            head: head.seq,
        });
    }
    if !same(last_hash, head.hash) {
        return Err(HeadBreak::Diverged { seq: last_seq });
    }
    Ok(())
}

/// Whether an anchored head — `(seq, mac)` copied outside the database at
/// some point — names the entry `seq` of the chain as it is now, whose seal
/// is `hash_at_seq` (`GENESIS` for 0). A chain rolled back below `seq`, or
/// rewritten up to it, no longer matches.
pub fn anchor_matches(key: &AuditKey, seq: i64, mac: &str, hash_at_seq: &str) -> bool {
    same(&head_mac(key, seq, hash_at_seq), &mac.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> AuditKey {
        AuditKey::from_bytes([byte; AuditKey::LEN])
    }

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

    fn after(seq: i64, hash: &str, version: i32) -> Option<Previous<'_>> {
        Some(Previous { seq, hash, version })
    }

    #[test]
    fn a_v1_chain_verifies_and_any_change_breaks_it() {
        let k = key(1);
        let p1 = personal_hash("salt1", Some("camille@example.org"), Some("203.0.113.0/24"));
        let e1 = entry(1, GENESIS, &p1, Some("{}"));
        let h1 = entry_hash(&e1);
        let p2 = personal_hash("salt2", None, None);
        let e2 = entry(2, &h1, &p2, None);
        let h2 = entry_hash(&e2);
        let personal1 = Some(("salt1", Some("camille@example.org"), Some("203.0.113.0/24")));
        assert_eq!(check(&k, &e1, V1, &h1, None, personal1), Ok(()));
        assert_eq!(check(&k, &e2, V1, &h2, after(1, &h1, V1), None), Ok(()));
        // Unkeyed entries verify whatever the key.
        assert_eq!(
            check(&key(2), &e2, V1, &h2, after(1, &h1, V1), None),
            Ok(())
        );
        // Erasing the personal fields (and the salt) keeps the chain.
        assert_eq!(check(&k, &e1, V1, &h1, None, None), Ok(()));
        // Changing a chained field, a personal field, the order or the count does not.
        let changed = Chained {
            action: "member.delete",
            ..e1
        };
        assert_eq!(check(&k, &changed, V1, &h1, None, None), Err(Break::Hash));
        let renamed = Some((
            "salt1",
            Some("dominique@example.org"),
            Some("203.0.113.0/24"),
        ));
        assert_eq!(check(&k, &e1, V1, &h1, None, renamed), Err(Break::Personal));
        assert_eq!(
            check(&k, &e2, V1, &h2, None, None),
            Err(Break::Gap { expected: 1 })
        );
        assert_eq!(
            check(&k, &e2, V1, &h2, after(1, GENESIS, V1), None),
            Err(Break::Link)
        );
    }

    #[test]
    fn keyed_entries_need_the_key_and_cover_the_unkeyed_ones_before() {
        let k = key(1);
        let e1 = entry(1, GENESIS, "p", None);
        let h1 = entry_hash(&e1);
        let e2 = entry(2, &h1, "p", Some("{\"n\":1}"));
        let m2 = entry_mac(&k, &e2);
        assert_eq!(check(&k, &e2, V2, &m2, after(1, &h1, V1), None), Ok(()));
        // Another key gives another seal, and does not verify.
        assert_ne!(entry_mac(&key(2), &e2), m2);
        assert_eq!(
            check(&key(2), &e2, V2, &m2, after(1, &h1, V1), None),
            Err(Break::Mac)
        );
        // Nor does a keyed seal pass for an unkeyed one, or the reverse.
        assert_ne!(entry_hash(&e2), m2);
        assert_eq!(
            check(&k, &e2, V1, &m2, after(1, &h1, V1), None),
            Err(Break::Hash)
        );
        // Without the key, a changed entry cannot be resealed: recomputing
        // it as an unkeyed entry after a keyed one is refused, and rewriting
        // the unkeyed entry before it breaks the link its MAC covers.
        let e3 = entry(3, &m2, "p", None);
        let forged = entry_hash(&e3);
        assert_eq!(
            check(&k, &e3, V1, &forged, after(2, &m2, V2), None),
            Err(Break::Downgrade)
        );
        let e1b = entry(1, GENESIS, "p", Some("{}"));
        let h1b = entry_hash(&e1b);
        assert_eq!(check(&k, &e1b, V1, &h1b, None, None), Ok(()));
        assert_eq!(
            check(&k, &e2, V2, &m2, after(1, &h1b, V1), None),
            Err(Break::Link)
        );
        let e2b = entry(2, &h1b, "p", Some("{\"n\":1}"));
        assert_eq!(
            check(&k, &e2b, V2, &m2, after(1, &h1b, V1), None),
            Err(Break::Mac)
        );
        assert_eq!(
            check(&k, &e2, 9, &m2, after(1, &h1, V1), None),
            Err(Break::Version(9))
        );
    }

    #[test]
    fn the_head_pins_the_end_of_the_chain() {
        let k = key(1);
        let e1 = entry(1, GENESIS, "p", None);
        let m1 = entry_mac(&k, &e1);
        let e2 = entry(2, &m1, "p", None);
        let m2 = entry_mac(&k, &e2);
        let mac2 = head_mac(&k, 2, &m2);
        let head = Head {
            seq: 2,
            hash: &m2,
            mac: &mac2,
        };
        assert_eq!(check_head(&k, Some(&head), Some((2, &m2))), Ok(()));
        // The last entry removed: the chain still links, the head says it is cut.
        assert_eq!(
            check_head(&k, Some(&head), Some((1, &m1))),
            Err(HeadBreak::Cut { last: 1, head: 2 })
        );
        assert_eq!(
            check_head(&k, Some(&head), None),
            Err(HeadBreak::Cut { last: 0, head: 2 })
        );
        assert_eq!(
            check_head(&k, Some(&head), Some((3, "x"))),
            Err(HeadBreak::Beyond { last: 3, head: 2 })
        );
        assert_eq!(
            check_head(&k, Some(&head), Some((2, &m1))),
            Err(HeadBreak::Diverged { seq: 2 })
        );
        // A head moved back without the key: the entry seal is not a head MAC.
        let moved = Head {
            seq: 1,
            hash: &m1,
            mac: &m1,
        };
        assert_eq!(
            check_head(&k, Some(&moved), Some((1, &m1))),
            Err(HeadBreak::Mac)
        );
        assert_eq!(
            check_head(&key(2), Some(&head), Some((2, &m2))),
            Err(HeadBreak::Mac)
        );
        assert_eq!(check_head(&k, None, None), Err(HeadBreak::Missing));
        // An empty log's head.
        let empty = head_mac(&k, 0, GENESIS);
        let h0 = Head {
            seq: 0,
            hash: GENESIS,
            mac: &empty,
        };
        assert_eq!(check_head(&k, Some(&h0), None), Ok(()));
        // But an older head kept by an attacker passes on a rolled-back
        // chain: only an anchored head shows the rollback.
        let mac1 = head_mac(&k, 1, &m1);
        let old = Head {
            seq: 1,
            hash: &m1,
            mac: &mac1,
        };
        assert_eq!(check_head(&k, Some(&old), Some((1, &m1))), Ok(()));
        assert!(anchor_matches(&k, 2, &mac2, &m2));
        assert!(anchor_matches(&k, 2, &mac2.to_uppercase(), &m2));
        assert!(!anchor_matches(&k, 2, &mac2, &m1));
        assert!(!anchor_matches(&key(2), 2, &mac2, &m2));
    }

    #[test]
    fn keys_read_from_hex_and_never_print() {
        let k = key(0xab);
        let text = format!("{}\n", k.to_hex());
        assert_eq!(AuditKey::from_hex(&text), Some(k.clone()));
        assert_eq!(AuditKey::from_hex("abcd"), None);
        assert_eq!(AuditKey::from_hex(&"zz".repeat(32)), None);
        let debug = format!("{k:?}");
        assert!(
            !debug.contains(&k.to_hex()) && !debug.contains("abab"),
            "{debug}"
        );
        assert!(debug.contains(&k.fingerprint()));
        assert_ne!(k.fingerprint(), key(1).fingerprint());
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
        assert_ne!(entry_mac(&key(1), &a), entry_mac(&key(1), &b));
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
