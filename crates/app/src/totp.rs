//! The TOTP second factor (RFC 6238): 6 digits, 30-second steps, SHA-1 —
//! what authenticator applications support — with one step of tolerance
//! on either side for clock drift. Each step is accepted once per account
//! (`store::Store::use_totp_step`), so an observed code cannot be replayed.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds per step.
const STEP: u64 = 30;

/// A new random secret (160 bits, as RFC 4226 recommends), base32.
pub fn new_secret() -> String {
    let mut raw = [0u8; 20];
    OsRng.fill_bytes(&mut raw);
    match Secret::Raw(raw.to_vec()).to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => unreachable!("to_encoded encodes"),
    }
}

fn totp(secret: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, 6, 0, STEP, bytes).ok()
}

/// The code of `secret` at `unix` seconds (tests and the enrolment page).
pub fn code_at(secret: &str, unix: u64) -> Option<String> {
    Some(totp(secret)?.generate(unix))
}

/// The time step whose code `code` is, within one step of `unix`.
pub fn matching_step(secret: &str, code: &str, unix: u64) -> Option<i64> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret)?;
    let now = unix / STEP;
    (now.saturating_sub(1)..=now + 1).find_map(|step| {
        let expected = t.generate(step * STEP);
        let same = expected
            .bytes()
            .zip(code.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
        same.then(|| i64::try_from(step).ok()).flatten()
    })
}

/// The `otpauth://` address authenticator applications read (as a QR code or
/// typed in).
pub fn otpauth_url(secret: &str, email: &str) -> String {
    let account: String = email
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'_' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("otpauth://totp/Passerelle:{account}?secret={secret}&issuer=Passerelle&algorithm=SHA1&digits=6&period=30")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); the
        // last six are what a 6-digit code shows.
        let secret = match Secret::Raw(b"12345678901234567890".to_vec()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => unreachable!(),
        };
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
        assert_eq!(code_at(&secret, 1_111_111_109).unwrap(), "081804");
    }

    #[test]
    fn one_step_of_drift_is_tolerated() {
        let s = new_secret();
        let t = 1_800_000_000;
        let code = code_at(&s, t).unwrap();
        assert_eq!(matching_step(&s, &code, t), Some((t / 30) as i64));
        assert!(matching_step(&s, &code, t + 30).is_some());
        assert!(matching_step(&s, &code, t + 90).is_none());
        assert!(matching_step(&s, "12345", t).is_none());
        assert!(otpauth_url(&s, "a.b@example.org").contains("Passerelle:a.b%40example.org?secret="));
    }
}
