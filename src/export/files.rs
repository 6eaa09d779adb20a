//! Export and report files: stored through `object_store` (a local directory by default, any
//! S3-compatible store when configured) and handed out through signed URLs.
//!
//! A signed URL is `{public_url}/v1/downloads/{key}?expires={unix}&signature={hex}` where the
//! signature is HMAC-SHA256 under the deployment's signing key of `"{key}\n{expires}"`. It
//! grants exactly that object until that second: changing the key, the expiry or the
//! signature makes it invalid, and verification compares in constant time. Keys are
//! `exports/{org}/{job}/{file}` and `reports/{org}/{id}/{file}`, so a download also tells
//! which organization it belongs to (for its audit record).

use crate::config::{Config, StorageKind};
use anyhow::Context;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use rand::RngCore;
use sha2::Sha256;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Capacity of the upload buffer: beyond it uploads go multipart, part by part.
const UPLOAD_BUFFER: usize = 8 * 1024 * 1024;

/// The file store and URL signer of a deployment.
#[derive(Clone)]
pub struct Files {
    store: Arc<dyn ObjectStore>,
    prefix: Option<String>,
    signing_key: Arc<Vec<u8>>,
    public_url: Arc<String>,
    describe: Arc<String>,
    /// The directory of a local store (where multipart pieces are files; see `remove_pieces`).
    local_root: Option<Arc<PathBuf>>,
}

/// Why a signed URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The URL's time is up.
    #[error("this download link has expired; request a new one")]
    Expired,
    /// Key, expiry or signature were altered (or the link is from another deployment).
    #[error("this download link is invalid")]
    Invalid,
}

impl Files {
    /// Opens the configured store. `public_url` is the base of signed links.
    pub fn open(config: &Config, public_url: &str) -> anyhow::Result<Files> {
        let storage = &config.storage;
        let mut local_root = None;
        let (store, describe): (Arc<dyn ObjectStore>, String) = match storage.kind {
            StorageKind::Local => {
                let dir = storage
                    .path
                    .clone()
                    .unwrap_or_else(|| config.data_dir.join("files"));
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create file directory {}", dir.display()))?;
                let fs = LocalFileSystem::new_with_prefix(&dir)
                    .with_context(|| format!("cannot open file directory {}", dir.display()))?;
                local_root = Some(Arc::new(dir.clone()));
                (Arc::new(fs), format!("local directory {}", dir.display()))
            }
            StorageKind::S3 => {
                let bucket = storage.bucket.clone().context(
                    "storage.kind = \"s3\" needs storage.bucket (OUTFLOW_STORAGE__BUCKET)",
                )?;
                let mut b = AmazonS3Builder::from_env()
                    .with_bucket_name(&bucket)
                    .with_region(storage.region.as_deref().unwrap_or("us-east-1"))
                    .with_allow_http(storage.allow_http);
                if let Some(endpoint) = &storage.endpoint {
                    // Path-style addressing: what MinIO-like servers on one host expect.
                    b = b
                        .with_endpoint(endpoint)
                        .with_virtual_hosted_style_request(false);
                }
                if let Some(id) = &storage.access_key_id {
                    b = b.with_access_key_id(id);
                }
                if let Some(secret) = &storage.secret_access_key {
                    b = b.with_secret_access_key(secret.expose());
                }
                let s3 = b
                    .build()
                    .with_context(|| format!("cannot configure S3 bucket `{bucket}`"))?;
                let at = storage.endpoint.as_deref().unwrap_or("AWS");
                (Arc::new(s3), format!("S3 bucket {bucket} at {at}"))
            }
        };
        let signing_key = match &config.signing_key {
            Some(k) => k.expose().as_bytes().to_vec(),
            None => load_or_create_signing_key(&config.data_dir)?,
        };
        Ok(Files {
            store,
            prefix: storage
                .prefix
                .clone()
                .map(|p| p.trim_matches('/').to_string())
                .filter(|p| !p.is_empty()),
            signing_key: Arc::new(signing_key),
            public_url: Arc::new(public_url.trim_end_matches('/').to_string()),
            describe: Arc::new(describe),
            local_root,
        })
    }

    /// Where files go, for the startup log.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// The object store itself.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The object path of a key (the configured prefix applied).
    pub fn path(&self, key: &str) -> ObjectPath {
        match &self.prefix {
            Some(p) => ObjectPath::from(format!("{p}/{key}")),
            None => ObjectPath::from(key),
        }
    }

    /// A writer that uploads to `key` (multipart beyond 8 MiB); `shutdown` completes it.
    pub fn writer(&self, key: &str) -> BufWriter {
        BufWriter::with_capacity(self.store.clone(), self.path(key), UPLOAD_BUFFER)
    }

    /// Stores a small file in one request.
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> object_store::Result<()> {
        self.store
            .put(&self.path(key), bytes.into())
            .await
            .map(|_| ())
    }

    /// Opens a file for download.
    pub async fn get(&self, key: &str) -> object_store::Result<object_store::GetResult> {
        self.store.get(&self.path(key)).await
    }

    /// Deletes a file; a missing file is not an error.
    pub async fn delete(&self, key: &str) -> object_store::Result<()> {
        match self.store.delete(&self.path(key)).await {
            Err(object_store::Error::NotFound { .. }) => Ok(()),
            other => other,
        }
    }

    /// Removes the multipart pieces of `key` that an upload killed mid-way left behind (an
    /// aborted or dropped upload removes its own). On a local store a piece is the staged file
    /// `{file}#{n}` next to the file; `object_store` neither lists nor deletes those, so they
    /// are found in the directory itself. On S3 a killed upload is an incomplete multipart
    /// upload, invisible as an object: the bucket's `AbortIncompleteMultipartUpload`
    /// lifecycle rule removes those. Returns how many pieces went.
    pub async fn remove_pieces(&self, key: &str) -> std::io::Result<usize> {
        let Some(root) = &self.local_root else {
            return Ok(0);
        };
        let path = self.path(key);
        let mut file = root.to_path_buf();
        file.extend(path.parts().map(|p| p.as_ref().to_string()));
        let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
            return Ok(0);
        };
        let prefix = format!("{}#", name.to_string_lossy());
        let mut entries = match tokio::fs::read_dir(dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut removed = 0;
        while let Some(entry) = entries.next_entry().await? {
            let entry_name = entry.file_name();
            let is_piece = entry_name
                .to_str()
                .and_then(|n| n.strip_prefix(&prefix))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if is_piece {
                match tokio::fs::remove_file(entry.path()).await {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(removed)
    }

    /// The public base URL of the server (no trailing slash), for links sent by email.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// A URL that downloads `key` until `expires`.
    pub fn signed_url(&self, key: &str, expires: DateTime<Utc>) -> String {
        let exp = expires.timestamp();
        format!(
            "{}/v1/downloads/{key}?expires={exp}&signature={}",
            self.public_url,
            hex::encode(self.mac(key, exp))
        )
    }

    /// Checks a signed URL's parts at `now`.
    pub fn verify(
        &self,
        key: &str,
        expires: i64,
        signature: &str,
        now: DateTime<Utc>,
    ) -> Result<(), SignatureError> {
        let given = hex::decode(signature).map_err(|_| SignatureError::Invalid)?;
        let mut mac = self.hmac();
        mac.update(payload(key, expires).as_bytes());
        // verify_slice compares in constant time.
        mac.verify_slice(&given)
            .map_err(|_| SignatureError::Invalid)?;
        if now.timestamp() > expires {
            return Err(SignatureError::Expired);
        }
        Ok(())
    }

    fn hmac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(&self.signing_key)
            .expect("HMAC accepts keys of any length")
    }

    fn mac(&self, key: &str, expires: i64) -> Vec<u8> {
        let mut mac = self.hmac();
        mac.update(payload(key, expires).as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

fn payload(key: &str, expires: i64) -> String {
    format!("{key}\n{expires}")
}

/// The object key of an export's file.
pub fn export_key(org: &str, job: &str, file_name: &str) -> String {
    format!("exports/{org}/{job}/{file_name}")
}

/// The object key of a usage report's file.
pub fn report_key(org: &str, id: &str, file_name: &str) -> String {
    format!("reports/{org}/{id}/{file_name}")
}

/// The organization a file key belongs to.
pub fn org_of_key(key: &str) -> Option<&str> {
    let mut parts = key.split('/');
    match (parts.next(), parts.next()) {
        (Some("exports" | "reports"), Some(org)) if !org.is_empty() => Some(org),
        _ => None,
    }
}

fn load_or_create_signing_key(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join("signing.key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let key = existing.trim();
        if key.len() >= 32 {
            return Ok(key.as_bytes().to_vec());
        }
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let key = hex::encode(raw);
    crate::auth::keys::write_private_file(&path, &key)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(key.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path) -> Files {
        let config = Config {
            data_dir: dir.to_path_buf(),
            ..Config::default()
        };
        Files::open(&config, "http://outflow.test/").expect("opens")
    }

    fn parts(url: &str) -> (String, i64, String) {
        let rest = url
            .strip_prefix("http://outflow.test/v1/downloads/")
            .unwrap();
        let (key, query) = rest.split_once('?').unwrap();
        let mut exp = 0;
        let mut sig = String::new();
        for kv in query.split('&') {
            match kv.split_once('=').unwrap() {
                ("expires", v) => exp = v.parse().unwrap(),
                ("signature", v) => sig = v.to_string(),
                _ => {}
            }
        }
        (key.to_string(), exp, sig)
    }

    #[test]
    fn signed_urls_expire_and_resist_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let f = files(dir.path());
        let now = Utc::now();
        let url = f.signed_url(
            "exports/acme/exp_1/a.csv",
            now + chrono::Duration::minutes(5),
        );
        let (key, exp, sig) = parts(&url);
        assert_eq!(f.verify(&key, exp, &sig, now), Ok(()));
        assert_eq!(
            f.verify(&key, exp, &sig, now + chrono::Duration::minutes(6)),
            Err(SignatureError::Expired)
        );
        assert_eq!(
            f.verify("exports/other/exp_1/a.csv", exp, &sig, now),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            f.verify(&key, exp + 3600, &sig, now),
            Err(SignatureError::Invalid)
        );
        let mut bad = sig.clone();
        bad.replace_range(0..1, if sig.starts_with('0') { "1" } else { "0" });
        assert_eq!(f.verify(&key, exp, &bad, now), Err(SignatureError::Invalid));
        assert_eq!(f.verify(&key, exp, "zz", now), Err(SignatureError::Invalid));
        // The key persists: a second open of the same data directory accepts the URL.
        assert_eq!(files(dir.path()).verify(&key, exp, &sig, now), Ok(()));
    }

    #[test]
    fn keys_name_their_organization() {
        assert_eq!(
            org_of_key(&export_key("acme", "exp_1", "f.csv")),
            Some("acme")
        );
        assert_eq!(org_of_key(&report_key("acme", "r1", "f.csv")), Some("acme"));
        assert_eq!(org_of_key("other/acme/x"), None);
    }
}
