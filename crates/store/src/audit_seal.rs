//! The audit chain's seal: every decision's hash, and the chain's head, HMAC-SHA-256'd with a
//! key that is never in the database (the station keeps it in the OS keyring, `from_id` with
//! it: the first decision sealed). The SHA-256 chain alone is recomputable by anyone holding
//! the file; the seals are not, so an inserted row, a rewritten head or a fully recomputed
//! chain no longer verifies. What the seal cannot see — a whole older copy of the database put
//! back — the router's witnessed heads do.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The station's audit key and the first decision it seals.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditSeal {
    key: [u8; 32],
    from_id: i64,
}

impl fmt::Debug for AuditSeal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditSeal")
            .field("key", &"[redacted]")
            .field("from_id", &self.from_id)
            .finish()
    }
}

const TEXT_PREFIX: &str = "audit-seal-v1";

impl AuditSeal {
    pub fn new(key: [u8; 32], from_id: i64) -> Self {
        Self { key, from_id }
    }

    /// The first decision this key seals (decisions before it were written unsealed).
    pub fn from_id(&self) -> i64 {
        self.from_id
    }

    /// As kept in the keyring: `audit-seal-v1:<from_id>:<64 hex>`.
    pub fn to_secret_text(&self) -> String {
        format!("{TEXT_PREFIX}:{}:{}", self.from_id, hex::encode(self.key))
    }

    pub fn from_secret_text(text: &str) -> Result<Self, String> {
        let mut parts = text.trim().split(':');
        let (Some(TEXT_PREFIX), Some(from), Some(key), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("the keyring's audit key is not in the expected form".into());
        };
        let from_id = from
            .parse::<i64>()
            .map_err(|_| "the keyring's audit key names no first decision".to_string())?;
        let bytes = hex::decode(key).map_err(|_| "the keyring's audit key is not hex")?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "the keyring's audit key is not 32 bytes".to_string())?;
        Ok(Self { key, from_id })
    }

    fn mac(&self, parts: &[&str]) -> String {
        // HMAC takes a key of any length: a 32-byte one cannot fail
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        for part in parts {
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part.as_bytes());
        }
        hex::encode(mac.finalize().into_bytes())
    }

    /// The seal of the decision whose chain hash is `hash`.
    pub fn row(&self, hash: &str) -> String {
        self.mac(&["decision", hash])
    }

    /// The seal of the chain's head.
    pub fn head(&self, decisions: u64, last_id: i64, last_hash: &str) -> String {
        self.mac(&[
            "head",
            &decisions.to_string(),
            &last_id.to_string(),
            last_hash,
        ])
    }

    /// Whether decision `id` must carry this key's seal.
    pub fn covers(&self, id: i64) -> bool {
        id >= self.from_id
    }
}

/// What is wrong with a decision's seal, if anything (`None` when the key does not cover it
/// or its seal matches).
pub(crate) fn row_problem(seal: &AuditSeal, row: &crate::DecisionRow) -> Option<String> {
    if !seal.covers(row.id) {
        return None;
    }
    match &row.seal {
        Some(found) if *found == seal.row(&row.hash) => None,
        Some(_) => Some(
            "its seal does not match its hash: the row was changed and its hash recomputed without the station's audit key".into(),
        ),
        None => Some(format!(
            "it carries no seal though the chain is sealed from decision {}: it was inserted by someone without the station's audit key, or written while the keyring was unavailable",
            seal.from_id
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_round_trips_through_its_keyring_text_and_never_shows_in_debug() {
        let seal = AuditSeal::new([7; 32], 42);
        let text = seal.to_secret_text();
        assert_eq!(AuditSeal::from_secret_text(&text), Ok(seal.clone()));
        assert!(!format!("{seal:?}").contains("0707"));
        for bad in [
            "",
            "audit-seal-v1:x:00",
            "audit-seal-v1:1:zz",
            "audit-seal-v1:1:0011",
            "other:1:00",
        ] {
            assert!(AuditSeal::from_secret_text(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_seal_depends_on_the_key_and_on_every_part() {
        let a = AuditSeal::new([1; 32], 1);
        let b = AuditSeal::new([2; 32], 1);
        assert_ne!(a.row("h"), b.row("h"));
        assert_ne!(a.row("h"), a.row("i"));
        assert_ne!(a.head(1, 1, "h"), a.head(2, 1, "h"));
        assert_ne!(a.head(1, 1, "h"), a.head(1, 2, "h"));
        assert_eq!(a.row("h").len(), 64);
    }
}
