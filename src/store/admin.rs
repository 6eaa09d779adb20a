//! The admin pages' tables (`migrations/*/0004_admin.sql`): admin users, sessions and failed
//! sign-ins. SQL with `?` placeholders through the shared [`Store`], like every other table.

use crate::domain::FieldType;
use crate::store::{Store, StoreError, Value};
use chrono::{DateTime, Utc};

/// An organization admin as stored.
#[derive(Clone)]
pub struct AdminUser {
    /// Id (`adm_…`).
    pub id: String,
    /// The organization the admin manages.
    pub org_id: String,
    /// Lower-cased email, the sign-in name.
    pub email: String,
    /// PHC string of the argon2id hash.
    pub password_hash: String,
}

/// Never prints the hash.
impl std::fmt::Debug for AdminUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminUser")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// A live session, joined with its admin.
#[derive(Clone)]
pub struct SessionRow {
    /// SHA-256 of the cookie's token.
    pub token_hash: String,
    /// Organization.
    pub org_id: String,
    /// Admin id.
    pub user_id: String,
    /// Admin email.
    pub email: String,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// When it stops being valid.
    pub expires_at: DateTime<Utc>,
}

/// The admin with this (lower-cased) email.
pub async fn admin_by_email(store: &Store, email: &str) -> Result<Option<AdminUser>, StoreError> {
    let rows = store
        .query(
            "SELECT id, org_id, email, password_hash FROM admin_users WHERE email = ?",
            &[email.into()],
            &[FieldType::Text; 4],
        )
        .await?;
    Ok(rows.into_iter().next().map(|r| {
        let text = |i: usize| r[i].as_text().unwrap_or_default().to_string();
        AdminUser {
            id: text(0),
            org_id: text(1),
            email: text(2),
            password_hash: text(3),
        }
    }))
}

/// Stores a new admin.
pub async fn insert_admin(
    store: &Store,
    a: &AdminUser,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store
        .execute(
            "INSERT INTO admin_users (id, org_id, email, password_hash, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
            &[
                a.id.as_str().into(),
                a.org_id.as_str().into(),
                a.email.as_str().into(),
                a.password_hash.as_str().into(),
                now.into(),
                now.into(),
            ],
        )
        .await
        .map(|_| ())
}

/// Replaces an admin's password hash and ends every session of theirs: whoever knew the old
/// password is signed out.
pub async fn set_password(
    store: &Store,
    user_id: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store
        .execute(
            "UPDATE admin_users SET password_hash = ?, updated_at = ? WHERE id = ?",
            &[password_hash.into(), now.into(), user_id.into()],
        )
        .await?;
    store
        .execute(
            "DELETE FROM admin_sessions WHERE user_id = ?",
            &[user_id.into()],
        )
        .await
        .map(|_| ())
}

/// Stores a new session.
pub async fn insert_session(
    store: &Store,
    s: &SessionRow,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    // Expired sessions are swept here, the one place sessions are written.
    store
        .execute(
            "DELETE FROM admin_sessions WHERE expires_at < ?",
            &[now.into()],
        )
        .await?;
    store
        .execute(
            "INSERT INTO admin_sessions (token_hash, org_id, user_id, csrf_token, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
            &[
                s.token_hash.as_str().into(),
                s.org_id.as_str().into(),
                s.user_id.as_str().into(),
                s.csrf_token.as_str().into(),
                now.into(),
                s.expires_at.into(),
            ],
        )
        .await
        .map(|_| ())
}

/// The unexpired session whose token hashes to `token_hash`.
pub async fn session(
    store: &Store,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<SessionRow>, StoreError> {
    let rows = store
        .query(
            "SELECT s.token_hash, s.org_id, s.user_id, u.email, s.csrf_token, s.expires_at \
             FROM admin_sessions s JOIN admin_users u ON u.id = s.user_id \
             WHERE s.token_hash = ? AND s.expires_at > ?",
            &[token_hash.into(), now.into()],
            &[
                FieldType::Text,
                FieldType::Text,
                FieldType::Text,
                FieldType::Text,
                FieldType::Text,
                FieldType::Timestamp,
            ],
        )
        .await?;
    Ok(rows.into_iter().next().map(|r| {
        let text = |i: usize| r[i].as_text().unwrap_or_default().to_string();
        SessionRow {
            token_hash: text(0),
            org_id: text(1),
            user_id: text(2),
            email: text(3),
            csrf_token: text(4),
            expires_at: r[5].as_timestamp().unwrap_or_default(),
        }
    }))
}

/// Ends a session.
pub async fn delete_session(store: &Store, token_hash: &str) -> Result<(), StoreError> {
    store
        .execute(
            "DELETE FROM admin_sessions WHERE token_hash = ?",
            &[token_hash.into()],
        )
        .await
        .map(|_| ())
}

/// Failed sign-ins since `since`: for this email from this address, and for this email from
/// anywhere.
pub async fn failures_since(
    store: &Store,
    email: &str,
    ip: &str,
    since: DateTime<Utc>,
) -> Result<(i64, i64), StoreError> {
    let rows = store
        .query(
            "SELECT COALESCE(SUM(CASE WHEN source_ip = ? THEN 1 ELSE 0 END), 0), COUNT(*) \
             FROM admin_sign_in_failures WHERE email = ? AND failed_at > ?",
            &[ip.into(), email.into(), since.into()],
            &[FieldType::Integer, FieldType::Integer],
        )
        .await?;
    let row = rows.into_iter().next().unwrap_or_default();
    let n = |i: usize| row.get(i).and_then(Value::as_i64).unwrap_or_default();
    Ok((n(0), n(1)))
}

/// Records a failed sign-in, and forgets failures older than `forget_before`.
pub async fn record_failure(
    store: &Store,
    email: &str,
    ip: &str,
    now: DateTime<Utc>,
    forget_before: DateTime<Utc>,
) -> Result<(), StoreError> {
    store
        .execute(
            "DELETE FROM admin_sign_in_failures WHERE failed_at < ?",
            &[forget_before.into()],
        )
        .await?;
    store
        .execute(
            "INSERT INTO admin_sign_in_failures (email, source_ip, failed_at) VALUES (?, ?, ?)",
            &[email.into(), ip.into(), now.into()],
        )
        .await
        .map(|_| ())
}

/// Forgets the failures of this email from this address (after a successful sign-in).
pub async fn clear_failures(store: &Store, email: &str, ip: &str) -> Result<(), StoreError> {
    store
        .execute(
            "DELETE FROM admin_sign_in_failures WHERE email = ? AND source_ip = ?",
            &[email.into(), ip.into()],
        )
        .await
        .map(|_| ())
}
