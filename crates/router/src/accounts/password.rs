//! Passwords: argon2id with OWASP's parameters (19 MiB of memory, 2 passes, 1 lane, a 16-byte
//! random salt, a 32-byte hash), stored as a PHC string so the parameters travel with each
//! hash. Hashing runs on the blocking pool: it takes tens of milliseconds on purpose.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Memory in KiB, passes, lanes: OWASP's first argon2id choice.
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const PASSES: u32 = 2;
pub const LANES: u32 = 1;
pub const MIN_CHARS: usize = 12;
/// Longer input is refused before hashing (a megabyte password is an attack, not a password).
pub const MAX_BYTES: usize = 1024;

fn argon2() -> Argon2<'static> {
    // the constants above are within argon2's limits: `Params::new` cannot fail on them
    let params = Params::new(MEMORY_KIB, PASSES, LANES, Some(32)).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Why a new password is not accepted.
pub fn weakness(password: &str) -> Option<String> {
    if password.len() > MAX_BYTES {
        Some(format!("a password is at most {MAX_BYTES} bytes"))
    } else if password.chars().count() < MIN_CHARS {
        Some(format!("a password has at least {MIN_CHARS} characters"))
    } else {
        None
    }
}

pub async fn hash(password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Whether `password` is the one of `phc`. A malformed stored hash verifies nothing.
pub async fn verify(password: String, phc: String) -> bool {
    if password.len() > MAX_BYTES {
        return false;
    }
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc)
            .map(|parsed| {
                argon2()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash nobody's password matches, verified against when the name is unknown so that the
/// answer takes as long as for a real account.
pub async fn dummy_hash() -> String {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_init(|| async {
            hash(hex::encode(crate::accounts::random_bytes::<16>()))
                .await
                .unwrap_or_default()
        })
        .await
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn argon2id_with_the_stated_parameters() {
        let phc = hash("correct horse battery".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery".into(), phc.clone()).await);
        assert!(!verify("correct horse batterY".into(), phc.clone()).await);
        assert!(!verify("x".repeat(MAX_BYTES + 1), phc).await);
        assert!(!verify("anything".into(), "not a hash".into()).await);
    }

    #[test]
    fn weak_passwords_are_named() {
        assert!(weakness("short").unwrap().contains("12 characters"));
        assert!(weakness(&"a".repeat(2000)).unwrap().contains("1024 bytes"));
        assert_eq!(weakness("long enough pass"), None);
    }
}
