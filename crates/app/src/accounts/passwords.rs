//! Passwords: Argon2id hashing and verification off the async runtime, the
//! shipped list of common passwords, generated passwords, and the dummy
//! hash that sign-ins for unknown addresses verify against.

use std::collections::HashSet;
use std::sync::Arc;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::config::PasswordCost;
use crate::{App, AppError};

fn argon2(cost: PasswordCost) -> Result<Argon2<'static>, AppError> {
    let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
        .map_err(|e| AppError::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password off the async runtime.
pub(super) async fn hash_password(
    cost: PasswordCost,
    password: String,
) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2(cost)?
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("argon2: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

/// Verifies a password against a PHC string off the async runtime; the
/// parameters are read from the hash itself.
pub(super) async fn verify_password(hash: String, password: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))
}

/// A readable generated password: 20 characters from an alphabet without
/// look-alikes (about 115 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(24);
    let mut buf = [0u8; 1];
    while out.len() < 20 {
        OsRng.fill_bytes(&mut buf);
        // Rejection sampling keeps every character equally likely.
        let limit = 256 - 256 % ALPHABET.len();
        if usize::from(buf[0]) < limit {
            out.push(char::from(ALPHABET[usize::from(buf[0]) % ALPHABET.len()]));
        }
    }
    out
}

impl App {
    /// Hashes a password with the configured cost (off the runtime).
    pub(crate) async fn hash(&self, password: String) -> Result<String, AppError> {
        hash_password(self.config.password_cost, password).await
    }

    /// Verifies a password against a stored hash (off the runtime).
    pub(crate) async fn verify(&self, hash: String, password: String) -> Result<bool, AppError> {
        verify_password(hash, password).await
    }

    /// The list of common passwords shipped in `data/`, read once.
    pub(super) fn common_passwords(&self) -> Result<Arc<HashSet<String>>, AppError> {
        if let Some(set) = self.common_passwords.get() {
            return Ok(set.clone());
        }
        let path = self.config.data_dir.join("common-passwords.txt.gz");
        let file = std::fs::File::open(&path)
            .map_err(|e| AppError::Internal(format!("{}: {e}", path.display())))?;
        let mut textual = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(file), &mut textual)
            .map_err(|e| AppError::Internal(format!("{}: {e}", path.display())))?;
        let set: HashSet<String> = textual
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_lowercase)
            .collect();
        Ok(self.common_passwords.get_or_init(|| Arc::new(set)).clone())
    }

    /// A hash of a random password with the configured cost, made once: what
    /// sign-ins for unknown addresses verify against.
    pub(super) async fn dummy_hash(&self) -> Result<String, AppError> {
        if let Some(h) = self.dummy_hash.get() {
            return Ok(h.clone());
        }
        let h = hash_password(self.config.password_cost, generate_password()).await?;
        Ok(self.dummy_hash.get_or_init(|| h).clone())
    }
}
