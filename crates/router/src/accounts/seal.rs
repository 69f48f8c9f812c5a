//! The key that seals TOTP secrets at rest: 32 bytes from the environment (never the config
//! file or the ledger), XChaCha20-Poly1305 with a random 24-byte nonce per secret. A ledger
//! copied without the key holds no usable TOTP secret.

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, OsRng};
use chacha20poly1305::{AeadCore, XChaCha20Poly1305, XNonce};

/// The environment variable holding the sealing key: 64 hex digits.
pub const SECRET_KEY_ENV: &str = "REVIEW_ROUTER_SECRET_KEY";

#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

/// Why the sealing key cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error(
        "{SECRET_KEY_ENV} must be 64 hex digits (32 bytes); make one with `openssl rand -hex 32`"
    )]
    BadKey,
    #[error(
        "a sealed secret does not open with this key (the key changed, or the row was altered)"
    )]
    Open,
}

impl Sealer {
    /// From `REVIEW_ROUTER_SECRET_KEY`: `Ok(None)` when it is not set (accounts are off).
    pub fn from_env() -> Result<Option<Self>, SealError> {
        match std::env::var(SECRET_KEY_ENV) {
            Ok(hex_key) if !hex_key.trim().is_empty() => Self::from_hex(hex_key.trim()).map(Some),
            _ => Ok(None),
        }
    }

    pub fn from_hex(hex_key: &str) -> Result<Self, SealError> {
        let bytes = hex::decode(hex_key).map_err(|_| SealError::BadKey)?;
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| SealError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SealError::BadKey);
        }
        Ok(Self { cipher })
    }

    /// Seals `plain`, bound to `context` (the account id: a sealed secret moved to another
    /// row does not open).
    pub fn seal(&self, plain: &[u8], context: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = chacha20poly1305::aead::Payload {
            msg: plain,
            aad: context.as_bytes(),
        };
        // encryption into a Vec fails only when the buffer cannot grow: not a case to handle
        let sealed = self.cipher.encrypt(&nonce, payload).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        base64::engine::general_purpose::STANDARD.encode(out)
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, SealError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| SealError::Open)?;
        if bytes.len() < 24 + 16 {
            return Err(SealError::Open);
        }
        let (nonce, body) = bytes.split_at(24);
        let payload = chacha20poly1305::aead::Payload {
            msg: body,
            aad: context.as_bytes(),
        };
        self.cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| SealError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_row() {
        let sealer = Sealer::from_hex(KEY).unwrap();
        let sealed = sealer.seal(b"twenty bytes secret!", "7");
        assert!(!sealed.contains("twenty"));
        assert_eq!(sealer.open(&sealed, "7").unwrap(), b"twenty bytes secret!");
        assert_eq!(sealer.open(&sealed, "8"), Err(SealError::Open));
        let other = Sealer::from_hex(&KEY.replace("00", "ff")).unwrap();
        assert_eq!(other.open(&sealed, "7"), Err(SealError::Open));
        // each seal has its own nonce
        assert_ne!(sealer.seal(b"x", "7"), sealer.seal(b"x", "7"));
    }

    #[test]
    fn a_short_or_non_hex_key_is_refused() {
        assert_eq!(Sealer::from_hex("abcd").err(), Some(SealError::BadKey));
        assert_eq!(
            Sealer::from_hex(&"zz".repeat(32)).err(),
            Some(SealError::BadKey)
        );
    }
}
