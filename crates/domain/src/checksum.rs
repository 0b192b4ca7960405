//! FNV-1a 64: the cheap, non-cryptographic hash that tells a re-import of
//! the same bytes (stored as `fnv1a64:<hex>` beside an imported file) and
//! checks that two benchmarks counted the same groups. Never a security
//! measure: the audit chain uses HMAC-SHA256.

/// An FNV-1a 64 hash being computed.
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a64(u64);

impl Default for Fnv1a64 {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a64 {
    /// Adds bytes to the hash.
    pub fn update(&mut self, bytes: &[u8]) -> &mut Self {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self
    }

    /// The hash of everything added.
    pub fn finish(&self) -> u64 {
        self.0
    }

    /// The hash as stored with an imported file: `fnv1a64:` and 16 hex digits.
    pub fn text(&self) -> String {
        format!("fnv1a64:{:016x}", self.0)
    }
}

/// FNV-1a 64 of `bytes`.
pub fn fnv1a_64(bytes: &[u8]) -> u64 {
    Fnv1a64::default().update(bytes).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // Reference values of the FNV-1a 64 specification.
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn updates_compose() {
        let mut h = Fnv1a64::default();
        h.update(b"foo").update(b"bar");
        assert_eq!(h.finish(), fnv1a_64(b"foobar"));
        assert_eq!(h.text(), "fnv1a64:85944171f73967e8");
    }
}
