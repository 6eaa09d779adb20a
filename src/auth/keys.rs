//! Key secrets: generation, hashing, creation of organization keys, the ingest key file.
//!
//! Secrets are 256 random bits, so a single SHA-256 is a sound way to store them: there is
//! nothing to brute-force, and lookups by hash stay one indexed query.

use crate::audit::{self, Actor};
use crate::store::{NewOrgKey, OrgKey, Scope, Store, StoreError};
use chrono::Utc;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Prefix of organization key secrets.
pub const ORG_KEY_PREFIX: &str = "ofk_";
/// Prefix of generated ingest keys.
pub const INGEST_KEY_PREFIX: &str = "ofi_";

/// A fresh secret: `prefix` + 64 hex digits.
pub fn generate_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// Hex SHA-256 of a secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Creates an organization key and its audit record; returns the key and its secret (shown
/// once, never stored).
pub async fn create_org_key(
    store: &Store,
    org: &str,
    name: &str,
    scopes: Vec<Scope>,
    actor: &Actor,
) -> Result<(OrgKey, String), StoreError> {
    let secret = generate_secret(ORG_KEY_PREFIX);
    let new = NewOrgKey {
        id: format!("key_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]),
        org_id: org.to_string(),
        name: name.to_string(),
        prefix: secret[..ORG_KEY_PREFIX.len() + 8].to_string(),
        secret_hash: hash_secret(&secret),
        scopes,
        created_at: Utc::now(),
    };
    let audit = audit::event(
        org,
        audit::events::ORG_KEY_CREATED,
        actor,
        Some(&new.id),
        serde_json::json!({"key_id": new.id, "name": new.name, "scopes": Scope::join(&new.scopes)}),
    );
    store.create_org_key(&new, &audit).await?;
    let key = OrgKey {
        id: new.id,
        org_id: new.org_id,
        name: new.name,
        prefix: new.prefix,
        scopes: new.scopes,
        created_at: new.created_at,
        revoked_at: None,
    };
    Ok((key, secret))
}

/// Reads `{data_dir}/ingest.key`, creating it (mode 0600) with a fresh key when absent.
pub fn load_or_create_ingest_key(data_dir: &Path) -> std::io::Result<String> {
    let path = data_dir.join("ingest.key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let key = existing.trim().to_string();
        if !key.is_empty() {
            return Ok(key);
        }
    }
    std::fs::create_dir_all(data_dir)?;
    let key = generate_secret(INGEST_KEY_PREFIX);
    write_private_file(&path, &key)?;
    Ok(key)
}

/// Writes a secret file readable by its owner only.
#[cfg(unix)]
pub fn write_private_file(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(content.as_bytes())
}

/// Writes a secret file (no POSIX permissions on this platform).
#[cfg(not(unix))]
pub fn write_private_file(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_random_and_hash_stably() {
        let a = generate_secret(ORG_KEY_PREFIX);
        let b = generate_secret(ORG_KEY_PREFIX);
        assert!(a.starts_with("ofk_") && a.len() == 68);
        assert_ne!(a, b);
        assert_eq!(hash_secret(&a), hash_secret(&a));
        assert_ne!(hash_secret(&a), hash_secret(&b));
    }

    #[test]
    fn ingest_key_is_generated_once() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_ingest_key(dir.path()).unwrap();
        let second = load_or_create_ingest_key(dir.path()).unwrap();
        assert_eq!(first, second);
        assert!(first.starts_with("ofi_"));
    }
}
