//! TOTP as RFC 6238 and the common authenticator apps have it: HMAC-SHA-1, 6 digits, 30-second
//! steps, one step of skew either way, 160-bit secrets; each step accepted once (§5.2: the
//! caller keeps the last step used and passes it in).

use totp_rs::{Algorithm, Builder, Totp};

pub const DIGITS: u8 = 6;
pub const STEP_SECONDS: u64 = 30;
pub const SKEW_STEPS: u16 = 1;
/// 160 bits, as RFC 4226 §4 recommends.
pub const SECRET_BYTES: usize = 20;
/// How far a code from a wrong clock is still recognized (to say so): 10 minutes each way.
const CLOCK_HINT_STEPS: i64 = 20;
pub const ISSUER: &str = "Review Station";

/// What a typed code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right for this step (or one step either way); the step to remember.
    Accepted(u64),
    /// Right, but for a step already used.
    Reused,
    /// Right for a time this many seconds away: the authenticator's clock is off.
    Skewed(i64),
    Wrong,
}

pub fn new_secret() -> Vec<u8> {
    use rand::RngCore;
    let mut secret = vec![0; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret
}

fn totp(secret: &[u8], account: &str) -> Totp {
    // the account name may not hold ':' in an otpauth label
    let label: String = account.chars().filter(|c| *c != ':').collect();
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(SKEW_STEPS)
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret.to_vec())
        .with_issuer(Some(ISSUER))
        .with_account_name(label)
        // compliant values (checked by `build` in the tests): no length or digit check here
        // can fail for a 20-byte secret and 6 digits
        .build_noncompliant()
}

/// The `otpauth://totp/…` URL an authenticator app scans.
pub fn otpauth_url(secret: &[u8], account: &str) -> String {
    totp(secret, account).to_url().unwrap_or_default()
}

/// Checks `code` at `now` (Unix seconds) for an account whose last accepted step is
/// `last_step`.
pub fn check(secret: &[u8], code: &str, now: u64, last_step: Option<u64>) -> CodeCheck {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return CodeCheck::Wrong;
    }
    let totp = totp(secret, "");
    if let Some(step) = totp.check(&code, now) {
        return if last_step.is_some_and(|last| step <= last) {
            CodeCheck::Reused
        } else {
            CodeCheck::Accepted(step)
        };
    }
    let origin = i64::try_from(now / STEP_SECONDS).unwrap_or(i64::MAX);
    for offset in (-CLOCK_HINT_STEPS..=CLOCK_HINT_STEPS).filter(|o| o.abs() > 1) {
        let Ok(step) = u64::try_from(origin + offset) else {
            continue;
        };
        if totp.generate(step * STEP_SECONDS).to_string() == code {
            return CodeCheck::Skewed(offset * STEP_SECONDS as i64);
        }
    }
    CodeCheck::Wrong
}

/// The code for `now` (tests and the end-to-end driver's twin).
pub fn code_at(secret: &[u8], now: u64) -> String {
    totp(secret, "").generate(now).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows: the seed "12345678901234567890", 8 digits.
    #[test]
    fn rfc_6238_appendix_b_vectors() {
        let rfc = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(8)
            .with_skew(0)
            .with_step_duration(30)
            .with_secret(b"12345678901234567890".to_vec())
            .build()
            .unwrap();
        for (time, expected) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(rfc.generate(time).to_string(), expected, "T = {time}");
        }
    }

    #[test]
    fn the_settings_are_rfc_compliant() {
        let secret = new_secret();
        assert_eq!(secret.len() * 8, 160);
        Builder::new()
            .with_digits(DIGITS)
            .with_skew(SKEW_STEPS)
            .with_step_duration(STEP_SECONDS)
            .with_secret(secret.clone())
            .with_issuer(Some(ISSUER))
            .with_account_name("ana")
            .build()
            .unwrap();
        let url = otpauth_url(&secret, "ana");
        assert!(
            url.starts_with("otpauth://totp/Review%20Station:ana?"),
            "{url}"
        );
        assert!(url.contains("secret="), "{url}");
    }

    #[test]
    fn a_step_is_accepted_once_and_one_step_of_skew_either_way() {
        let secret = new_secret();
        let now = 1_800_000_015;
        let code = code_at(&secret, now);
        let CodeCheck::Accepted(step) = check(&secret, &code, now, None) else {
            panic!("the current code is refused");
        };
        assert_eq!(step, now / 30);
        assert_eq!(check(&secret, &code, now, Some(step)), CodeCheck::Reused);
        // the previous step's code, typed just after the step changed
        assert!(matches!(
            check(&secret, &code_at(&secret, now - 30), now, None),
            CodeCheck::Accepted(s) if s == step - 1
        ));
        // an older step than one already used is refused too
        assert_eq!(
            check(&secret, &code_at(&secret, now - 30), now, Some(step)),
            CodeCheck::Reused
        );
        assert!(matches!(
            check(&secret, &format!(" {} ", &code), now + 30, None),
            CodeCheck::Accepted(_)
        ));
    }

    #[test]
    fn a_clock_off_by_minutes_is_told_apart_from_a_wrong_code() {
        let secret = new_secret();
        let now = 1_800_000_000;
        assert_eq!(
            check(&secret, &code_at(&secret, now - 180), now, None),
            CodeCheck::Skewed(-180)
        );
        assert_eq!(
            check(&secret, &code_at(&secret, now + 300), now, None),
            CodeCheck::Skewed(300)
        );
        assert_eq!(
            check(&secret, &code_at(&secret, now + 3600), now, None),
            CodeCheck::Wrong
        );
        for junk in ["", "12345", "1234567", "abcdef", "12 34 5x"] {
            assert_eq!(
                check(&secret, junk, now, None),
                CodeCheck::Wrong,
                "{junk:?}"
            );
        }
    }
}
