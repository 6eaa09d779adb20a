//! Destination credentials, encrypted at rest.
//!
//! A secret's payload ([`SecretPayload`]: URL, authorization header and signing secrets;
//! AWS keys; a Datadog API key) is sealed with XChaCha20-Poly1305 under the deployment's
//! master key (`[drains] master_key`, else generated once into `{data_dir}/master.key`). The
//! random 192-bit nonce makes nonce reuse a non-issue, and the associated data binds each
//! ciphertext to its organization and secret id, so a sealed value copied onto another row
//! does not open. Payloads are never returned by the API and never logged; only the id, name,
//! kind and creation time are shown.

use super::dest::SecretPayload;
use crate::config::Config;
use crate::domain::FieldType;
use crate::store::named::{Columns, NamedRow, col, expr};
use crate::store::{RecordBatch, Store, StoreError, Value};
use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

const NONCE_LEN: usize = 24;

/// Seals and opens secret payloads under the master key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Arc<XChaCha20Poly1305>,
}

/// A secret could not be opened.
#[derive(Debug, thiserror::Error)]
#[error(
    "secret `{0}` cannot be decrypted: the master key differs from the one it was sealed with, or the stored value was altered"
)]
pub struct OpenError(pub String);

impl SecretBox {
    /// The configured master key, or the one in `{data_dir}/master.key` (created if absent).
    pub fn load(config: &Config) -> anyhow::Result<SecretBox> {
        let hex_key = match &config.drains.master_key {
            Some(k) => k.expose().trim().to_string(),
            None => {
                let path = config.data_dir.join("master.key");
                match std::fs::read_to_string(&path) {
                    Ok(s) if !s.trim().is_empty() => s.trim().to_string(),
                    _ => {
                        std::fs::create_dir_all(&config.data_dir)?;
                        let mut key = [0u8; 32];
                        rand::rng().fill_bytes(&mut key);
                        let hex_key = hex::encode(key);
                        crate::auth::keys::write_private_file(&path, &hex_key)
                            .with_context(|| format!("cannot write {}", path.display()))?;
                        hex_key
                    }
                }
            }
        };
        let key = hex::decode(&hex_key)
            .ok()
            .filter(|k| k.len() == 32)
            .context("the drains master key must be 64 hex characters (32 bytes)")?;
        Ok(SecretBox::from_key(&key))
    }

    /// A box over a raw 32-byte key.
    pub fn from_key(key: &[u8]) -> SecretBox {
        SecretBox {
            cipher: Arc::new(XChaCha20Poly1305::new_from_slice(key).expect("32-byte key")),
        }
    }

    /// `base64(nonce ‖ ciphertext)` of the payload, bound to `org` and `id`.
    pub fn seal(&self, org: &str, id: &str, payload: &SecretPayload) -> String {
        let plain = serde_json::to_vec(payload).expect("payload serializes");
        self.seal_bytes(org, id, &plain)
    }

    /// Opens what [`seal`](Self::seal) produced for the same `org` and `id`.
    pub fn open(&self, org: &str, id: &str, sealed: &str) -> Result<SecretPayload, OpenError> {
        let plain = self.open_bytes(org, id, sealed)?;
        serde_json::from_slice(&plain).map_err(|_| OpenError(id.to_string()))
    }

    /// Seals a plain string (an SSO client secret), bound to `org` and `id` the same way.
    pub fn seal_text(&self, org: &str, id: &str, text: &str) -> String {
        self.seal_bytes(org, id, text.as_bytes())
    }

    /// Opens what [`seal_text`](Self::seal_text) produced for the same `org` and `id`.
    pub fn open_text(&self, org: &str, id: &str, sealed: &str) -> Result<String, OpenError> {
        let plain = self.open_bytes(org, id, sealed)?;
        String::from_utf8(plain).map_err(|_| OpenError(id.to_string()))
    }

    fn seal_bytes(&self, org: &str, id: &str, plain: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let aad = aad(org, id);
        let ct = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: aad.as_bytes(),
                },
            )
            .expect("encryption cannot fail for in-memory buffers");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        B64.encode(out)
    }

    fn open_bytes(&self, org: &str, id: &str, sealed: &str) -> Result<Vec<u8>, OpenError> {
        let fail = || OpenError(id.to_string());
        let raw = B64.decode(sealed).map_err(|_| fail())?;
        if raw.len() < NONCE_LEN {
            return Err(fail());
        }
        let (nonce, ct) = raw.split_at(NONCE_LEN);
        let aad = aad(org, id);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| fail())
    }
}

fn aad(org: &str, id: &str) -> String {
    format!("outflow-secret\0{org}\0{id}")
}

/// What the API shows of a secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecretInfo {
    /// Secret id (`sec_…`), referenced by drains as `secret_id`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `http`, `aws` or `datadog`.
    pub kind: String,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// The columns of a secret's description (never its sealed contents), as `info` reads them.
const INFO: Columns = Columns(&[
    col("id", FieldType::Text),
    col("name", FieldType::Text),
    col("kind", FieldType::Text),
    col("created_at", FieldType::Timestamp),
]);

/// A secret's description from a row of [`INFO`]; every column is NOT NULL, so a NULL is an
/// error rather than an empty name.
fn info(mut r: NamedRow) -> Result<SecretInfo, StoreError> {
    Ok(SecretInfo {
        id: r.text("id")?,
        name: r.text("name")?,
        kind: r.text("kind")?,
        created_at: r.ts("created_at")?,
    })
}

/// A single text column read back by name (`sealed`, a drain's `id`).
const SEALED: Columns = Columns(&[col("sealed", FieldType::Text)]);
const DRAIN_ID: Columns = Columns(&[col("id", FieldType::Text)]);
const ORG_ID: Columns = Columns(&[col("org_id", FieldType::Text)]);

/// A new secret id.
pub fn new_id() -> String {
    format!("sec_{}", uuid::Uuid::now_v7().simple())
}

/// Stores a sealed secret with its audit record.
pub async fn insert(
    store: &Store,
    org: &str,
    info: &SecretInfo,
    sealed: &str,
    audit: &RecordBatch,
) -> Result<(), StoreError> {
    store
        .execute_with_records(
            "INSERT INTO secrets (id, org_id, name, kind, sealed, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            &[
                info.id.as_str().into(),
                org.into(),
                info.name.as_str().into(),
                info.kind.as_str().into(),
                sealed.into(),
                Value::Timestamp(info.created_at),
            ],
            audit,
        )
        .await
}

/// The organization's secrets, newest first.
pub async fn list(store: &Store, org: &str) -> Result<Vec<SecretInfo>, StoreError> {
    store
        .query_named(
            "SELECT {columns} FROM secrets WHERE org_id = ? ORDER BY created_at DESC, id DESC",
            &[org.into()],
            INFO,
            "secret",
        )
        .await?
        .into_iter()
        .map(info)
        .collect()
}

/// One secret's description.
pub async fn get(store: &Store, org: &str, id: &str) -> Result<Option<SecretInfo>, StoreError> {
    store
        .query_named(
            "SELECT {columns} FROM secrets WHERE org_id = ? AND id = ?",
            &[org.into(), id.into()],
            INFO,
            "secret",
        )
        .await?
        .into_iter()
        .next()
        .map(info)
        .transpose()
}

/// One secret's sealed payload.
pub async fn sealed(store: &Store, org: &str, id: &str) -> Result<Option<String>, StoreError> {
    store
        .query_named(
            "SELECT {columns} FROM secrets WHERE org_id = ? AND id = ?",
            &[org.into(), id.into()],
            SEALED,
            "secret",
        )
        .await?
        .into_iter()
        .next()
        .map(|mut r| r.text("sealed"))
        .transpose()
}

/// Replaces a secret's name and sealed contents (same kind), with its audit record, and
/// marks the drains that use it as changed so their nodes rebuild the destination. False
/// when there is no such secret.
pub async fn replace(
    store: &Store,
    org: &str,
    info: &SecretInfo,
    sealed: &str,
    now: DateTime<Utc>,
    audit: &RecordBatch,
) -> Result<bool, StoreError> {
    let changed = store
        .execute_fenced_with_records(&[
            (
                "UPDATE secrets SET name = ?, sealed = ? WHERE org_id = ? AND id = ? AND kind = ?"
                    .into(),
                vec![
                    info.name.as_str().into(),
                    sealed.into(),
                    org.into(),
                    info.id.as_str().into(),
                    info.kind.as_str().into(),
                ],
            ),
            (
                "UPDATE drains SET updated_at = ? WHERE org_id = ? AND secret_id = ?".into(),
                vec![Value::Timestamp(now), org.into(), info.id.as_str().into()],
            ),
        ], audit)
        .await?;
    if changed {
        store.settings_changed();
    }
    Ok(changed)
}

/// Ids of the drains that use a secret.
pub async fn users(store: &Store, org: &str, id: &str) -> Result<Vec<String>, StoreError> {
    store
        .query_named(
            "SELECT {columns} FROM drains WHERE org_id = ? AND secret_id = ? ORDER BY id",
            &[org.into(), id.into()],
            DRAIN_ID,
            "drain using a secret",
        )
        .await?
        .into_iter()
        .map(|mut r| r.text("id"))
        .collect()
}

/// What refers to a secret from outside the drains: a schedule's delivery destination
/// (`deliver.destination.secret_id`), a budget's alert endpoint (`notify.secret_id`) or the
/// organization's notification endpoint, as `"schedule {id}"` / `"budget {id}"` / `"the
/// organization's notifications"`. Read from the stored JSON rather than through the
/// schedule and budget modules, which sit above drains in the module graph.
pub async fn other_users(store: &Store, org: &str, id: &str) -> Result<Vec<String>, StoreError> {
    let mut users = Vec::new();
    const SCHEDULE: Columns = Columns(&[
        col("id", FieldType::Text),
        expr("deliver", "config", FieldType::Json),
    ]);
    const BUDGET: Columns = Columns(&[
        col("id", FieldType::Text),
        expr("notify", "config", FieldType::Json),
    ]);
    for (kind, table, columns, path) in [
        (
            "schedule",
            "export_schedules",
            SCHEDULE,
            &["destination", "secret_id"][..],
        ),
        ("budget", "budgets", BUDGET, &["secret_id"][..]),
    ] {
        let rows = store
            .query_named(
                &format!("SELECT {{columns}} FROM {table} WHERE org_id = ? ORDER BY id"),
                &[org.into()],
                columns,
                "secret user",
            )
            .await?;
        for mut r in rows {
            let config = r.json("config")?;
            let used = path
                .iter()
                .try_fold(&config, |v, key| v.get(key))
                .and_then(|v| v.as_str())
                == Some(id);
            if used {
                users.push(format!("{kind} {}", r.text("id")?));
            }
        }
    }
    let notifications = store
        .query_named(
            "SELECT {columns} FROM notification_settings WHERE org_id = ? AND secret_id = ?",
            &[org.into(), id.into()],
            ORG_ID,
            "secret user",
        )
        .await?;
    if !notifications.is_empty() {
        users.push("the organization's notifications".to_string());
    }
    Ok(users)
}

/// Deletes a secret no drain uses, with its audit record; false when there is none.
pub async fn delete(
    store: &Store,
    org: &str,
    id: &str,
    audit: &RecordBatch,
) -> Result<bool, StoreError> {
    store
        .execute_fenced_with_records(
            &[(
                "DELETE FROM secrets WHERE org_id = ? AND id = ? \
                 AND NOT EXISTS (SELECT 1 FROM drains WHERE secret_id = ?)"
                    .into(),
                vec![org.into(), id.into(), id.into()],
            )],
            audit,
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> SecretPayload {
        SecretPayload::Datadog {
            api_key: "dd-key-123".into(),
        }
    }

    #[test]
    fn seal_open_round_trip_and_binding() {
        let b = SecretBox::from_key(&[7u8; 32]);
        let sealed = b.seal("acme", "sec_1", &payload());
        assert!(!sealed.contains("dd-key-123"));
        assert_eq!(b.open("acme", "sec_1", &sealed).unwrap(), payload());
        // Bound to its row: another org or id does not open it.
        assert!(b.open("other", "sec_1", &sealed).is_err());
        assert!(b.open("acme", "sec_2", &sealed).is_err());
        // Another master key does not open it, and the error names no secret material.
        let err = SecretBox::from_key(&[8u8; 32])
            .open("acme", "sec_1", &sealed)
            .unwrap_err();
        assert!(err.to_string().contains("sec_1") && !err.to_string().contains("dd-key"));
        // Two seals of the same payload differ (fresh nonces).
        assert_ne!(sealed, b.seal("acme", "sec_1", &payload()));
    }

    #[test]
    fn tampering_is_detected() {
        let b = SecretBox::from_key(&[7u8; 32]);
        let sealed = b.seal("acme", "sec_1", &payload());
        let mut raw = B64.decode(&sealed).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        assert!(b.open("acme", "sec_1", &B64.encode(raw)).is_err());
    }

    #[test]
    fn a_secret_row_reads_by_name_and_a_null_name_is_corrupt() {
        let at = Utc::now();
        let row = |name: Value| {
            let values = vec![
                Value::Text("sec_1".into()),
                name,
                Value::Text("http".into()),
                Value::Timestamp(at),
            ];
            INFO.rows(vec![values], "secret").pop().unwrap()
        };
        let i = info(row(Value::Text("hook".into()))).unwrap();
        assert_eq!(
            (
                i.id.as_str(),
                i.name.as_str(),
                i.kind.as_str(),
                i.created_at
            ),
            ("sec_1", "hook", "http", at)
        );
        assert!(
            matches!(info(row(Value::Null)), Err(StoreError::Corrupt(m)) if m == "secret name: missing")
        );
    }
}
