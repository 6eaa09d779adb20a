//! The admin pages' tables (`migrations/*/0004_admin.sql`, `0010_admin_roles.sql`): admin users
//! and their roles, sessions, invitations and failed sign-ins. SQL with `?` placeholders through
//! the shared [`Store`], like every other table.

use crate::domain::FieldType;
use crate::domain::role::Role;
use crate::store::{RecordBatch, Store, StoreError, Value};
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
    /// What the admin may do.
    pub role: Role,
}

/// Never prints the hash.
impl std::fmt::Debug for AdminUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminUser")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .field("email", &self.email)
            .field("role", &self.role)
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
    /// The admin's role (read with the session, so a role change applies at the next request).
    pub role: Role,
    /// The address the session was started from.
    pub source_ip: Option<String>,
    /// The browser that started it.
    pub user_agent: Option<String>,
}

/// A stored role; an unreadable one (the CHECK constraint forbids it) is the least powerful.
fn role_of(v: &Value) -> Role {
    v.as_text()
        .and_then(|t| Role::parse(t).ok())
        .unwrap_or(Role::Viewer)
}

const ADMIN_COLUMNS: &str = "id, org_id, email, password_hash, role";

fn admin_row(r: &[Value]) -> AdminUser {
    let text = |i: usize| r[i].as_text().unwrap_or_default().to_string();
    AdminUser {
        id: text(0),
        org_id: text(1),
        email: text(2),
        password_hash: text(3),
        role: role_of(&r[4]),
    }
}

/// The admin with this (lower-cased) email.
pub async fn admin_by_email(store: &Store, email: &str) -> Result<Option<AdminUser>, StoreError> {
    let rows = store
        .query(
            &format!("SELECT {ADMIN_COLUMNS} FROM admin_users WHERE email = ?"),
            &[email.into()],
            &[FieldType::Text; 5],
        )
        .await?;
    Ok(rows.first().map(|r| admin_row(r)))
}

/// The admin `id` of `org` (another organization's admin is `None`).
pub async fn admin_in_org(
    store: &Store,
    org: &str,
    id: &str,
) -> Result<Option<AdminUser>, StoreError> {
    let rows = store
        .query(
            &format!("SELECT {ADMIN_COLUMNS} FROM admin_users WHERE org_id = ? AND id = ?"),
            &[org.into(), id.into()],
            &[FieldType::Text; 5],
        )
        .await?;
    Ok(rows.first().map(|r| admin_row(r)))
}

/// The admins of `org`, by email.
pub async fn list_admins(store: &Store, org: &str) -> Result<Vec<AdminUser>, StoreError> {
    let rows = store
        .query(
            &format!("SELECT {ADMIN_COLUMNS} FROM admin_users WHERE org_id = ? ORDER BY email"),
            &[org.into()],
            &[FieldType::Text; 5],
        )
        .await?;
    Ok(rows.iter().map(|r| admin_row(r)).collect())
}

/// Changes an admin's role, storing `audit` in the same transaction.
pub async fn set_role(
    store: &Store,
    org: &str,
    id: &str,
    role: Role,
    now: DateTime<Utc>,
    audit: &RecordBatch,
) -> Result<(), StoreError> {
    store
        .execute_with_records(
            "UPDATE admin_users SET role = ?, updated_at = ? WHERE org_id = ? AND id = ?",
            &[role.as_str().into(), now.into(), org.into(), id.into()],
            audit,
        )
        .await
}

/// Removes an admin of `org` and ends their sessions; `audit` is stored with the removal.
pub async fn delete_admin(
    store: &Store,
    org: &str,
    id: &str,
    audit: &RecordBatch,
) -> Result<(), StoreError> {
    store
        .execute(
            "DELETE FROM admin_sessions WHERE org_id = ? AND user_id = ?",
            &[org.into(), id.into()],
        )
        .await?;
    store
        .execute_with_records(
            "DELETE FROM admin_users WHERE org_id = ? AND id = ?",
            &[org.into(), id.into()],
            audit,
        )
        .await
}

/// Stores a new admin.
pub async fn insert_admin(
    store: &Store,
    a: &AdminUser,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store
        .execute(
            "INSERT INTO admin_users (id, org_id, email, password_hash, role, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            &[
                a.id.as_str().into(),
                a.org_id.as_str().into(),
                a.email.as_str().into(),
                a.password_hash.as_str().into(),
                a.role.as_str().into(),
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
            "INSERT INTO admin_sessions (token_hash, org_id, user_id, csrf_token, created_at, \
             expires_at, source_ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                s.token_hash.as_str().into(),
                s.org_id.as_str().into(),
                s.user_id.as_str().into(),
                s.csrf_token.as_str().into(),
                now.into(),
                s.expires_at.into(),
                Value::opt_text(s.source_ip.clone()),
                Value::opt_text(s.user_agent.clone()),
            ],
        )
        .await
        .map(|_| ())
}

const SESSION_COLUMNS: &str = "s.token_hash, s.org_id, s.user_id, u.email, s.csrf_token, \
    s.expires_at, u.role, s.source_ip, s.user_agent, s.created_at";
const SESSION_TYPES: [FieldType; 10] = [
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Timestamp,
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Timestamp,
];

fn session_row(r: &[Value]) -> SessionRow {
    let text = |i: usize| r[i].as_text().unwrap_or_default().to_string();
    let opt = |i: usize| r[i].as_text().map(str::to_string);
    SessionRow {
        token_hash: text(0),
        org_id: text(1),
        user_id: text(2),
        email: text(3),
        csrf_token: text(4),
        expires_at: r[5].as_timestamp().unwrap_or_default(),
        role: role_of(&r[6]),
        source_ip: opt(7),
        user_agent: opt(8),
    }
}

/// The unexpired session whose token hashes to `token_hash`.
pub async fn session(
    store: &Store,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<SessionRow>, StoreError> {
    let rows = store
        .query(
            &format!(
                "SELECT {SESSION_COLUMNS} FROM admin_sessions s JOIN admin_users u ON u.id = s.user_id \
                 WHERE s.token_hash = ? AND s.expires_at > ?"
            ),
            &[token_hash.into(), now.into()],
            &SESSION_TYPES,
        )
        .await?;
    Ok(rows.first().map(|r| session_row(r)))
}

/// The unexpired sessions of `org`'s admins with when each started, newest first.
pub async fn list_sessions(
    store: &Store,
    org: &str,
    now: DateTime<Utc>,
) -> Result<Vec<(SessionRow, DateTime<Utc>)>, StoreError> {
    let rows = store
        .query(
            &format!(
                "SELECT {SESSION_COLUMNS} FROM admin_sessions s JOIN admin_users u ON u.id = s.user_id \
                 WHERE s.org_id = ? AND s.expires_at > ? ORDER BY s.created_at DESC, u.email"
            ),
            &[org.into(), now.into()],
            &SESSION_TYPES,
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (session_row(r), r[9].as_timestamp().unwrap_or_default()))
        .collect())
}

/// Ends a session of `org` (by its token's hash); whether there was one. `audit` is stored
/// with it.
pub async fn revoke_session(
    store: &Store,
    org: &str,
    token_hash: &str,
    audit: &RecordBatch,
) -> Result<bool, StoreError> {
    let found = store
        .query(
            "SELECT token_hash FROM admin_sessions WHERE org_id = ? AND token_hash = ?",
            &[org.into(), token_hash.into()],
            &[FieldType::Text],
        )
        .await?;
    if found.is_empty() {
        return Ok(false);
    }
    store
        .execute_with_records(
            "DELETE FROM admin_sessions WHERE org_id = ? AND token_hash = ?",
            &[org.into(), token_hash.into()],
            audit,
        )
        .await?;
    Ok(true)
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

/// A pending invitation.
#[derive(Debug, Clone)]
pub struct Invite {
    /// Id (`inv_…`), shown in the Admins page.
    pub id: String,
    /// SHA-256 of the link's token.
    pub token_hash: String,
    /// The organization invited to.
    pub org_id: String,
    /// The invited (lower-cased) email.
    pub email: String,
    /// The role the admin gets.
    pub role: Role,
    /// Email of the admin who invited.
    pub invited_by: String,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

const INVITE_COLUMNS: &str = "id, token_hash, org_id, email, role, invited_by, expires_at";
const INVITE_TYPES: [FieldType; 7] = [
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Timestamp,
];

fn invite_row(r: &[Value]) -> Invite {
    let text = |i: usize| r[i].as_text().unwrap_or_default().to_string();
    Invite {
        id: text(0),
        token_hash: text(1),
        org_id: text(2),
        email: text(3),
        role: role_of(&r[4]),
        invited_by: text(5),
        expires_at: r[6].as_timestamp().unwrap_or_default(),
    }
}

/// Stores an invitation (replacing a pending one for the same email of the organization, so
/// only the newest link works) with its `audit` record.
pub async fn insert_invite(
    store: &Store,
    i: &Invite,
    now: DateTime<Utc>,
    audit: &RecordBatch,
) -> Result<(), StoreError> {
    store
        .execute(
            "DELETE FROM admin_invites WHERE (org_id = ? AND email = ?) OR expires_at < ?",
            &[
                i.org_id.as_str().into(),
                i.email.as_str().into(),
                now.into(),
            ],
        )
        .await?;
    store
        .execute_with_records(
            "INSERT INTO admin_invites (id, token_hash, org_id, email, role, invited_by, \
             created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                i.id.as_str().into(),
                i.token_hash.as_str().into(),
                i.org_id.as_str().into(),
                i.email.as_str().into(),
                i.role.as_str().into(),
                i.invited_by.as_str().into(),
                now.into(),
                i.expires_at.into(),
            ],
            audit,
        )
        .await
}

/// The unexpired invitation whose token hashes to `token_hash`.
pub async fn invite_by_token(
    store: &Store,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Invite>, StoreError> {
    let rows = store
        .query(
            &format!(
                "SELECT {INVITE_COLUMNS} FROM admin_invites WHERE token_hash = ? AND expires_at > ?"
            ),
            &[token_hash.into(), now.into()],
            &INVITE_TYPES,
        )
        .await?;
    Ok(rows.first().map(|r| invite_row(r)))
}

/// The unexpired invitations of `org`, by email.
pub async fn list_invites(
    store: &Store,
    org: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Invite>, StoreError> {
    let rows = store
        .query(
            &format!(
                "SELECT {INVITE_COLUMNS} FROM admin_invites WHERE org_id = ? AND expires_at > ? \
                 ORDER BY email"
            ),
            &[org.into(), now.into()],
            &INVITE_TYPES,
        )
        .await?;
    Ok(rows.iter().map(|r| invite_row(r)).collect())
}

/// Deletes invitation `id` of `org` with its `audit` record; whether there was one.
pub async fn delete_invite(
    store: &Store,
    org: &str,
    id: &str,
    audit: &RecordBatch,
) -> Result<bool, StoreError> {
    let found = store
        .query(
            "SELECT id FROM admin_invites WHERE org_id = ? AND id = ?",
            &[org.into(), id.into()],
            &[FieldType::Text],
        )
        .await?;
    if found.is_empty() {
        return Ok(false);
    }
    store
        .execute_with_records(
            "DELETE FROM admin_invites WHERE org_id = ? AND id = ?",
            &[org.into(), id.into()],
            audit,
        )
        .await?;
    Ok(true)
}

/// Uses an invitation: deletes it, and answers whether this call was the one that did (a link
/// used twice at once creates one admin).
pub async fn consume_invite(store: &Store, token_hash: &str) -> Result<bool, StoreError> {
    let n = store
        .execute(
            "DELETE FROM admin_invites WHERE token_hash = ?",
            &[token_hash.into()],
        )
        .await?;
    Ok(n == 1)
}
