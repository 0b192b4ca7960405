//! Accounts: roles, e-mail addresses and the password policy. Pure rules;
//! hashing, storage and sessions live in `app` and `store`.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::network::FieldError;

/// Shortest password accepted (ASVS 5.0 §6.2: at least 12 characters, no
/// composition rules).
pub const PASSWORD_MIN_CHARS: usize = 12;
/// Longest password accepted: long passphrases are welcome, but a bound keeps
/// the hashing cost of a request bounded.
pub const PASSWORD_MAX_CHARS: usize = 128;

/// A role a person holds; every role but the network admin's is held on one
/// campus (see `../shared/DESIGN.md` §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The national or regional network: creates campuses, sees everything.
    NetworkAdmin,
    /// The campus' operational team: everything inside the campus.
    CampusManager,
    /// Staff of one member organisation: edits that organisation and its
    /// formations.
    MemberEditor,
    /// Région, rectorat, funders: aggregates and public data, never
    /// personal data.
    Observer,
    /// A registered pupil, apprentice, student, job seeker or employee.
    Learner,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 5] = [
        Role::NetworkAdmin,
        Role::CampusManager,
        Role::MemberEditor,
        Role::Observer,
        Role::Learner,
    ];

    /// Stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::NetworkAdmin => "network_admin",
            Role::CampusManager => "campus_manager",
            Role::MemberEditor => "member_editor",
            Role::Observer => "observer",
            Role::Learner => "learner",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == code)
    }

    /// Parses a role as people type it at the command line: the stored code,
    /// with dashes or spaces instead of underscores, in any case, or a
    /// short form (`admin`, `manager`, `editor`).
    pub fn from_name(name: &str) -> Option<Role> {
        let code = name.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Role::parse(&code).or(match code.as_str() {
            "admin" => Some(Role::NetworkAdmin),
            "manager" => Some(Role::CampusManager),
            "editor" => Some(Role::MemberEditor),
            _ => None,
        })
    }

    /// French label.
    pub fn label(self) -> &'static str {
        match self {
            Role::NetworkAdmin => "Administration du réseau",
            Role::CampusManager => "Équipe du campus",
            Role::MemberEditor => "Rédaction d'un membre",
            Role::Observer => "Observation",
            Role::Learner => "Apprenant·e",
        }
    }

    /// Whether a grant of this role names a campus (all but network admin).
    pub fn needs_campus(self) -> bool {
        self != Role::NetworkAdmin
    }

    /// Whether a grant of this role names a member organisation.
    pub fn needs_member(self) -> bool {
        self == Role::MemberEditor
    }

    /// Whether holders must use a second factor (TOTP).
    pub fn requires_second_factor(self) -> bool {
        matches!(self, Role::NetworkAdmin | Role::CampusManager)
    }
}

/// Normalises an e-mail address for use as a sign-in identifier: trimmed
/// and lower-cased; refuses what cannot be an address.
pub fn normalize_email(raw: &str) -> Result<String, FieldError> {
    let email = raw.trim().to_lowercase();
    let invalid = || {
        FieldError::new(
            "email",
            "adresse e-mail invalide (exemple : prenom.nom@exemple.fr)",
        )
    };
    if email.is_empty() {
        return Err(FieldError::new("email", "l'adresse e-mail est obligatoire"));
    }
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let (local, host) = email.rsplit_once('@').ok_or_else(invalid)?;
    if local.is_empty()
        || local.contains('@')
        || host.len() < 3
        || !host.contains('.')
        || host.starts_with('.')
        || host.ends_with('.')
        || host.contains("..")
    {
        return Err(invalid());
    }
    Ok(email)
}

/// Checks a new password: 12 to 128 characters (counted as Unicode scalar
/// values, so accents and emoji count once), not in the list of common
/// passwords (`common` holds lower-cased entries), and not the e-mail
/// address itself. No composition rules, as ASVS and NIST SP 800-63B advise.
pub fn check_password(
    password: &str,
    email: &str,
    common: &HashSet<String>,
) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Err(FieldError::new(
            "mot_de_passe",
            format!("le mot de passe doit compter au moins {PASSWORD_MIN_CHARS} caractères ({chars} saisis)"),
        ));
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err(FieldError::new(
            "mot_de_passe",
            format!("le mot de passe ne doit pas dépasser {PASSWORD_MAX_CHARS} caractères"),
        ));
    }
    let lower = password.to_lowercase();
    if common.contains(&lower) {
        return Err(FieldError::new(
            "mot_de_passe",
            "ce mot de passe fait partie des mots de passe les plus courants : choisissez-en un autre",
        ));
    }
    if !email.is_empty() && lower.trim() == email.trim().to_lowercase() {
        return Err(FieldError::new(
            "mot_de_passe",
            "le mot de passe ne doit pas être l'adresse e-mail",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn common() -> HashSet<String> {
        ["motdepasse123", "passwordpassword"]
            .into_iter()
            .map(String::from)
            .collect()
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Role::from_name("Campus-Manager"), Some(Role::CampusManager));
        assert_eq!(Role::from_name("member editor"), Some(Role::MemberEditor));
        assert_eq!(Role::from_name("admin"), Some(Role::NetworkAdmin));
        assert_eq!(Role::from_name("roi"), None);
        assert!(!Role::NetworkAdmin.needs_campus());
        assert!(Role::MemberEditor.needs_member());
        assert!(Role::CampusManager.requires_second_factor());
        assert!(!Role::Learner.requires_second_factor());
    }

    #[test]
    fn emails_are_normalised_or_refused() {
        assert_eq!(
            normalize_email("  Camille.Durand@Exemple.FR ").unwrap(),
            "camille.durand@exemple.fr"
        );
        for bad in [
            "",
            "camille",
            "camille@",
            "@exemple.fr",
            "a b@exemple.fr",
            "a@exemple",
            "a@.fr",
            "a@exemple..fr",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn password_length_counts_characters_not_bytes() {
        // 12 characters, 24 bytes: accepted.
        assert!(check_password("éééééééééééé", "", &common()).is_ok());
        let short = check_password("ééééééééééé", "", &common()).unwrap_err();
        assert!(short.message.contains("11 saisis"), "{}", short.message);
        assert!(check_password(&"a".repeat(128), "", &common()).is_ok());
        assert!(check_password(&"a".repeat(129), "", &common()).is_err());
    }

    #[test]
    fn common_passwords_and_the_email_are_refused_whatever_the_case() {
        assert!(check_password("MotDePasse123", "", &common()).is_err());
        assert!(check_password("camille@exemple.fr", "Camille@Exemple.fr", &common()).is_err());
        // No composition rules: a long lower-case passphrase is fine.
        assert!(check_password("cheval correct agrafe pile", "", &common()).is_ok());
    }
}
