//! SQL of `sso_configs` (one row per organization, the secret sealed) and `sso_logins` (sign-ins
//! in progress, used once), through the shared [`Store`].

use super::SsoConfig;
use crate::domain::FieldType;
use crate::domain::role::Role;
use crate::store::{RecordBatch, Store, StoreError, Value};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

const COLUMNS: &str = "org_id, issuer, client_id, allowed_domains, role_claim, role_map, \
                       default_role, require_sso, break_glass_email, updated_at";
const TYPES: [FieldType; 10] = [
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Text,
    FieldType::Boolean,
    FieldType::Text,
    FieldType::Timestamp,
];

fn row(r: &[Value]) -> SsoConfig {
    let text = |i: usize| r[i].as_text().unwrap_or_default().to_string();
    let opt = |i: usize| r[i].as_text().map(str::to_string);
    SsoConfig {
        org_id: text(0),
        issuer: text(1),
        client_id: text(2),
        allowed_domains: serde_json::from_str(&text(3)).unwrap_or_default(),
        role_claim: opt(4),
        role_map: serde_json::from_str::<BTreeMap<String, String>>(&text(5))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, r)| Role::parse(&r).ok().map(|r| (k, r)))
            .collect(),
        default_role: Role::parse(&text(6)).unwrap_or(Role::Viewer),
        require_sso: matches!(r[7], Value::Bool(true) | Value::Integer(1)),
        break_glass_email: opt(8),
        updated_at: r[9].as_timestamp().unwrap_or_default(),
    }
}

/// The organization's settings.
pub async fn get(store: &Store, org: &str) -> Result<Option<SsoConfig>, StoreError> {
    let rows = store
        .query(
            &format!("SELECT {COLUMNS} FROM sso_configs WHERE org_id = ?"),
            &[org.into()],
            &TYPES,
        )
        .await?;
    Ok(rows.first().map(|r| row(r)))
}

/// Every organization's settings.
pub async fn all(store: &Store) -> Result<Vec<SsoConfig>, StoreError> {
    let rows = store
        .query(
            &format!("SELECT {COLUMNS} FROM sso_configs ORDER BY org_id"),
            &[],
            &TYPES,
        )
        .await?;
    Ok(rows.iter().map(|r| row(r)).collect())
}

/// The sealed client secret.
pub async fn sealed_secret(store: &Store, org: &str) -> Result<Option<String>, StoreError> {
    let rows = store
        .query(
            "SELECT client_secret_sealed FROM sso_configs WHERE org_id = ?",
            &[org.into()],
            &[FieldType::Text],
        )
        .await?;
    Ok(rows
        .first()
        .and_then(|r| r[0].as_text().map(str::to_string)))
}

/// Creates or replaces the settings, with their audit record.
pub async fn put(
    store: &Store,
    c: &SsoConfig,
    sealed: &str,
    audit: &RecordBatch,
) -> Result<(), StoreError> {
    let json = |v: serde_json::Value| Value::Text(v.to_string());
    let role_map: serde_json::Map<String, serde_json::Value> = c
        .role_map
        .iter()
        .map(|(k, r)| (k.clone(), r.as_str().into()))
        .collect();
    store
        .execute_with_records(
            "INSERT INTO sso_configs (org_id, issuer, client_id, client_secret_sealed, \
             allowed_domains, role_claim, role_map, default_role, require_sso, break_glass_email, \
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (org_id) DO UPDATE SET issuer = excluded.issuer, \
             client_id = excluded.client_id, client_secret_sealed = excluded.client_secret_sealed, \
             allowed_domains = excluded.allowed_domains, role_claim = excluded.role_claim, \
             role_map = excluded.role_map, default_role = excluded.default_role, \
             require_sso = excluded.require_sso, break_glass_email = excluded.break_glass_email, \
             updated_at = excluded.updated_at",
            &[
                c.org_id.as_str().into(),
                c.issuer.as_str().into(),
                c.client_id.as_str().into(),
                sealed.into(),
                json(serde_json::json!(c.allowed_domains)),
                c.role_claim.clone().map_or(Value::Null, Value::Text),
                json(serde_json::Value::Object(role_map)),
                c.default_role.as_str().into(),
                c.require_sso.into(),
                c.break_glass_email.clone().map_or(Value::Null, Value::Text),
                c.updated_at.into(),
                c.updated_at.into(),
            ],
            audit,
        )
        .await
}

/// Deletes the settings; whether there were any.
pub async fn delete(store: &Store, org: &str, audit: &RecordBatch) -> Result<bool, StoreError> {
    if get(store, org).await?.is_none() {
        return Ok(false);
    }
    store
        .execute_with_records(
            "DELETE FROM sso_configs WHERE org_id = ?",
            &[org.into()],
            audit,
        )
        .await?;
    Ok(true)
}

/// A sign-in in progress.
pub struct Login {
    /// Organization.
    pub org_id: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier.
    pub pkce_verifier: String,
    /// Where to go after signing in.
    pub next_path: String,
}

/// Stores a started sign-in under the SHA-256 of its state (and drops expired ones).
pub async fn insert_login(
    store: &Store,
    state_hash: &str,
    l: &Login,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store
        .execute("DELETE FROM sso_logins WHERE expires_at < ?", &[now.into()])
        .await?;
    store
        .execute(
            "INSERT INTO sso_logins (state_hash, org_id, nonce, pkce_verifier, next_path, \
             expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            &[
                state_hash.into(),
                l.org_id.as_str().into(),
                l.nonce.as_str().into(),
                l.pkce_verifier.as_str().into(),
                l.next_path.as_str().into(),
                expires_at.into(),
            ],
        )
        .await
        .map(|_| ())
}

/// Takes (reads and deletes) the unexpired sign-in of this state; only the call that deleted
/// it gets it, so a state works once.
pub async fn take_login(
    store: &Store,
    state_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Login>, StoreError> {
    let rows = store
        .query_write(
            "SELECT org_id, nonce, pkce_verifier, next_path FROM sso_logins \
             WHERE state_hash = ? AND expires_at > ?",
            &[state_hash.into(), now.into()],
            &[FieldType::Text; 4],
        )
        .await?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let n = store
        .execute(
            "DELETE FROM sso_logins WHERE state_hash = ?",
            &[state_hash.into()],
        )
        .await?;
    let text = |i: usize| r[i].as_text().unwrap_or_default().to_string();
    Ok((n == 1).then(|| Login {
        org_id: text(0),
        nonce: text(1),
        pkce_verifier: text(2),
        next_path: text(3),
    }))
}
