//! CPR pseudonymisation: HMAC-SHA256 under a key from the environment, as hex.
//!
//! The same CPR gives the same id in every extract, so sources join; without the key
//! nobody can go back. The key is held only while the HMAC is keyed (`SecretBox`,
//! zeroed after) and never appears in logs.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;

/// The key the embedded default uses when `MAALTAL_PSEUDONYM_KEY` is unset. Public on
/// purpose: it protects nothing, and maaltal warns whenever it is used.
pub const DEMO_KEY: &str = "maaltal-demo-key-not-for-real-data";

/// Turns CPR numbers into stable pseudonyms.
pub struct Pseudonymizer {
    /// HMAC keyed once (only the key's derived pads are kept, never the key); cloned
    /// for each id, since keying hashes two blocks.
    keyed: Hmac<Sha256>,
    /// True when the public demo key is in use.
    pub is_demo: bool,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pseudonymizer")
            .field("keyed", &"[hidden]")
            .field("is_demo", &self.is_demo)
            .finish()
    }
}

impl Pseudonymizer {
    /// A pseudonymiser with the given key bytes.
    ///
    /// # Panics
    /// Never: HMAC accepts keys of any length.
    #[must_use]
    pub fn new(key: Vec<u8>, is_demo: bool) -> Self {
        let key = SecretBox::new(Box::new(key));
        let keyed =
            Hmac::<Sha256>::new_from_slice(key.expose_secret()).expect("HMAC takes any key length");
        Self { keyed, is_demo }
    }

    /// The pseudonym of a (validated, 10-digit) CPR number: 64 hex characters.
    #[must_use]
    pub fn id(&self, cpr: &str) -> String {
        let mut mac = self.keyed.clone();
        mac.update(cpr.as_bytes());
        let mut hex = [0u8; 64];
        // A 32-byte digest always fits 64 hex digits, which are ASCII.
        let _ = hex::encode_to_slice(mac.finalize().into_bytes(), &mut hex);
        String::from_utf8_lossy(&hex).into_owned()
    }
}

/// Is this a CPR number in the form the extracts use (ten digits)?
#[must_use]
pub fn is_cpr(s: &str) -> bool {
    s.len() == 10 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_cpr_same_id_other_key_other_id() {
        let a = Pseudonymizer::new(b"k1".to_vec(), false);
        let b = Pseudonymizer::new(b"k2".to_vec(), false);
        assert_eq!(a.id("0101801234"), a.id("0101801234"));
        assert_ne!(a.id("0101801234"), b.id("0101801234"));
        assert_eq!(a.id("0101801234").len(), 64);
        assert!(!a.id("0101801234").contains("0101801234"));
    }
}
