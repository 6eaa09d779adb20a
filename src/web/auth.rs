//! Admin credentials: argon2id password hashing, generated passwords, creating or resetting an
//! organization's admin (`outflow orgs add-admin`, `outflow demo`, an accepted invitation), and
//! the sign-in check with its throttle.
//!
//! **Throttle.** Failures are counted per email and client address over a window: after a few
//! each further attempt waits a growing delay before the password is even checked, and past a
//! limit attempts are refused with 429 until the window has moved on. A looser limit per email
//! across all addresses stops guessing spread over many addresses. The counters live in the
//! database, so every `outflow serve` process on it shares them.

use crate::audit;
use crate::domain::role::Role;
use crate::store::admin::{self as admin_store, AdminUser};
use crate::store::{Store, StoreError};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use rand::Rng;
use std::sync::OnceLock;
use std::time::Duration;

/// Failures per email and address after which attempts are delayed.
pub const FREE_FAILURES: i64 = 3;
/// Failures per email and address after which attempts are refused (429).
pub const MAX_FAILURES: i64 = 10;
/// Failures per email from all addresses after which attempts are refused.
pub const MAX_FAILURES_PER_EMAIL: i64 = 50;
/// The window failures are counted over.
pub const WINDOW_MINUTES: i64 = 15;
/// Longest delay before a throttled attempt is checked.
const MAX_DELAY: Duration = Duration::from_secs(8);

/// Why a credential operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The input is unusable (the message says why).
    #[error("{0}")]
    Invalid(String),
    /// Hashing failed (never shows the password).
    #[error("password hashing failed")]
    Hash,
}

/// Hashes a password with argon2id (OWASP's parameters, the crate default) and a random salt.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| AuthError::Hash)
}

/// Whether `password` matches the PHC string `hash` (constant-time inside argon2).
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// A hash of no one's password, checked when the email is unknown so that an unknown email
/// takes as long to refuse as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password(&generate_password()).unwrap_or_default())
}

/// A fresh password: 24 characters from an alphabet without look-alikes (≈ 137 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..24)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Emails are compared trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Creates the admin `email` of `org` with a generated password and the role `admin`, or —
/// when that admin exists — gives them a new one (and ends their sessions), keeping their
/// role. Returns the password, which is stored only as its hash. An email that is already the
/// admin of another organization is refused.
pub async fn add_admin(store: &Store, org: &str, email: &str) -> Result<String, AuthError> {
    add_admin_with_role(store, org, email, None).await
}

/// A checked, normalized email address.
pub fn checked_email(email: &str) -> Result<String, AuthError> {
    let email = normalize_email(email);
    if email.len() < 3 || !email.contains('@') || email.chars().any(char::is_whitespace) {
        return Err(AuthError::Invalid(format!(
            "`{email}` is not an email address"
        )));
    }
    Ok(email)
}

/// The refusal for an email that already signs in to another organization.
fn other_org(email: &str, org: &str) -> AuthError {
    AuthError::Invalid(format!(
        "`{email}` is already the admin of organization `{org}`; one email signs in to one organization"
    ))
}

/// As [`add_admin`], with a role: a new admin gets `role` (default `admin`); an existing one
/// gets it when it is given (`outflow orgs add-admin --role`), audited as a role change.
pub async fn add_admin_with_role(
    store: &Store,
    org: &str,
    email: &str,
    role: Option<Role>,
) -> Result<String, AuthError> {
    let email = checked_email(email)?;
    let password = generate_password();
    let hash = hash_blocking(password.clone()).await?;
    let now = Utc::now();
    match admin_store::admin_by_email(store, &email).await? {
        Some(existing) if existing.org_id == org => {
            admin_store::set_password(store, &existing.id, &hash, now).await?;
            if let Some(role) = role.filter(|r| *r != existing.role) {
                let details = serde_json::json!({
                    "email": email, "from": existing.role.as_str(), "to": role.as_str()
                });
                let batch = audit::event(
                    org,
                    audit::events::ADMIN_ROLE_CHANGED,
                    &audit::Actor::cli(),
                    Some(&existing.id),
                    details,
                );
                admin_store::set_role(store, org, &existing.id, role, now, &batch).await?;
            }
        }
        Some(existing) => return Err(other_org(&email, &existing.org_id)),
        None => {
            let admin = AdminUser {
                id: new_admin_id(),
                org_id: org.to_string(),
                email,
                password_hash: hash,
                role: role.unwrap_or(Role::Admin),
            };
            admin_store::insert_admin(store, &admin, now).await?;
        }
    }
    Ok(password)
}

fn new_admin_id() -> String {
    format!("adm_{}", uuid::Uuid::now_v7().simple())
}

/// Shortest password an invited admin may choose.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Creates the admin an invitation names, with the password they chose.
pub async fn create_invited(
    store: &Store,
    org: &str,
    email: &str,
    role: Role,
    password: &str,
) -> Result<AdminUser, AuthError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AuthError::Invalid(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    let email = checked_email(email)?;
    if let Some(existing) = admin_store::admin_by_email(store, &email).await? {
        return Err(if existing.org_id == org {
            AuthError::Invalid(format!(
                "`{email}` is already an admin of this organization; sign in instead"
            ))
        } else {
            other_org(&email, &existing.org_id)
        });
    }
    let admin = AdminUser {
        id: new_admin_id(),
        org_id: org.to_string(),
        email,
        password_hash: hash_blocking(password.to_string()).await?,
        role,
    };
    admin_store::insert_admin(store, &admin, Utc::now()).await?;
    Ok(admin)
}

/// Keeps `password` when it still signs `email` in to `org`; otherwise sets a new one and
/// returns it (what `outflow demo` prints on every run). The demo's admin is an owner, so the
/// demo shows every page.
pub async fn ensure_admin_password(
    store: &Store,
    org: &str,
    email: &str,
    password: Option<&str>,
) -> Result<String, AuthError> {
    if let Some(pw) = password
        && let Some(admin) = admin_store::admin_by_email(store, &normalize_email(email)).await?
        && admin.org_id == org
        && verify_blocking(pw.to_string(), admin.password_hash).await
    {
        return Ok(pw.to_string());
    }
    add_admin_with_role(store, org, email, Some(Role::Owner)).await
}

async fn hash_blocking(password: String) -> Result<String, AuthError> {
    // Argon2 is deliberately slow: keep it off the async workers.
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| AuthError::Hash)?
}

async fn verify_blocking(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

/// What a sign-in attempt came to.
#[derive(Debug)]
pub enum SignIn {
    /// The password matched.
    Ok(AdminUser),
    /// Unknown email or wrong password (indistinguishable to the caller); the admin when the
    /// email is known, for the audit record.
    Refused(Option<AdminUser>),
    /// Too many failures; retry after this many seconds.
    Throttled(u64, Option<AdminUser>),
}

/// The delay before checking an attempt after `failures` recent failures.
pub fn delay_for(failures: i64) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::ZERO;
    }
    let steps = (failures - FREE_FAILURES).min(10) as u32;
    (Duration::from_millis(500) * 2u32.pow(steps)).min(MAX_DELAY)
}

/// Checks `email` / `password` from `ip`, applying the throttle and recording the outcome in
/// the failure counters.
pub async fn sign_in(
    store: &Store,
    email: &str,
    password: &str,
    ip: &str,
    now: DateTime<Utc>,
) -> Result<SignIn, AuthError> {
    let email = normalize_email(email);
    let since = now - ChronoDuration::minutes(WINDOW_MINUTES);
    let (from_here, from_anywhere) = admin_store::failures_since(store, &email, ip, since).await?;
    let admin = admin_store::admin_by_email(store, &email).await?;
    if from_here >= MAX_FAILURES || from_anywhere >= MAX_FAILURES_PER_EMAIL {
        return Ok(SignIn::Throttled((WINDOW_MINUTES * 60) as u64, admin));
    }
    tokio::time::sleep(delay_for(from_here)).await;
    let hash = admin
        .as_ref()
        .map_or_else(|| decoy_hash().to_string(), |a| a.password_hash.clone());
    let ok = verify_blocking(password.to_string(), hash).await && admin.is_some();
    match admin {
        Some(a) if ok => {
            admin_store::clear_failures(store, &email, ip).await?;
            Ok(SignIn::Ok(a))
        }
        other => {
            admin_store::record_failure(store, &email, ip, now, since).await?;
            Ok(SignIn::Refused(other))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let pw = generate_password();
        assert_eq!(pw.len(), 24);
        assert_ne!(pw, generate_password());
        let hash = hash_password(&pw).unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains(&pw));
        assert!(verify_password(&pw, &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password(&pw, "not a hash"));
    }

    #[test]
    fn delay_grows_after_the_free_failures_and_is_capped() {
        assert_eq!(delay_for(0), Duration::ZERO);
        assert_eq!(delay_for(FREE_FAILURES - 1), Duration::ZERO);
        assert_eq!(delay_for(FREE_FAILURES), Duration::from_millis(500));
        assert_eq!(delay_for(FREE_FAILURES + 1), Duration::from_secs(1));
        assert_eq!(delay_for(1000), MAX_DELAY);
    }

    #[test]
    fn emails_are_normalized() {
        assert_eq!(normalize_email("  Ada@Example.COM "), "ada@example.com");
    }
}
