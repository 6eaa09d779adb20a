//! Object storage — Amazon S3 and S3-compatible stores (MinIO, R2, …), Google Cloud Storage
//! and Azure Blob Storage, all through `object_store`: each batch becomes one object, and a
//! small manifest per batch records its seq, positions, size and SHA-256. The three providers
//! share everything but the client: key layout, encodings, manifests, metadata, idempotency,
//! error classification and the SSRF-guarded transport.
//!
//! - `keys` — the key layout (a function of the batch, so a retry overwrites itself);
//! - `encode` — gzip NDJSON, the JSON envelope, or Parquet (the export's writer);
//! - `manifest` — the per-batch manifest;
//! - `errors` — which object_store failures are permanent, which transient;
//! - `transport` — object_store's requests through the SSRF-guarded client;
//! - `gcs`, `azure` — the GCS and Azure Blob clients (this file builds the S3 one).
//!
//! Every batch object carries user metadata: its records' schema name
//! (`x-amz-meta-outflow-schema`, [`SCHEMA_METADATA`]; `x-goog-meta-…` on GCS, `x-ms-meta-…`
//! on Azure, where names are identifiers: `x-ms-meta-outflow_schema`, …) and its place in the
//! drain's sequence (`…-outflow-batch-seq`, `…-batch-prev` unless it is the first,
//! `…-batch-sequence`; see `batch::Chain`).
//!
//! Delivering a batch is two writes: the object, then its manifest. If the manifest write
//! fails the batch fails, and the retry writes the same object (same key, same bytes) again
//! before trying the manifest anew; nothing is ever read back.
//!
//! The credentials need `s3:PutObject` on the prefix to deliver; the preflight check also
//! needs `s3:GetObject` (it reads its probe back: `outflow verify` reads objects and
//! manifests) and `s3:DeleteObject` to remove its probe. `outflow verify` lists the manifests,
//! which needs `s3:ListBucket`. (GCS: `storage.objects.create/get/delete/list`; Azure: a key,
//! or a SAS with read, write, delete and list.)

mod azure;
mod encode;
mod errors;
mod gcs;
mod keys;
mod manifest;
mod transport;

pub use keys::{manifest_folder, manifest_key, object_key, probe_key};
pub use manifest::BatchManifest;

use super::config::S3Format;
use super::{Delivered, DeliveryError, DestContext, Destination, DestinationConfig, SecretPayload};
use crate::domain::schema;
use crate::drain::batch::Batch;
use crate::drain::ssrf;
use errors::{Redactor, classify};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, Attributes, ObjectStore, ObjectStoreExt, PutOptions, PutPayload, RetryConfig,
};
use sha2::{Digest, Sha256};

/// Most records in one batch (one object).
pub const MAX_RECORDS: usize = 5000;

const DEFAULT_REGION: &str = "us-east-1";
/// User metadata naming a batch object's record schema (`credit_logs@1`, see
/// `domain::schema`): `x-amz-meta-outflow-schema` on the wire.
pub const SCHEMA_METADATA: &str = "outflow-schema";
/// User metadata of a batch object's seq (`x-amz-meta-outflow-batch-seq`).
pub const SEQ_METADATA: &str = "outflow-batch-seq";
/// User metadata of the previous batch's key (absent on the first batch).
pub const PREV_METADATA: &str = "outflow-batch-prev";
/// User metadata of the batch's sequence space (`live`, `replay:{id}`, `test`).
pub const SEQUENCE_METADATA: &str = "outflow-batch-sequence";

/// A configured bucket (or Azure container), ready to deliver.
pub struct S3Destination {
    store: Box<dyn ObjectStore>,
    /// `S3`, `GCS` or `Azure Blob`, for messages.
    provider: &'static str,
    bucket: String,
    prefix: String,
    format: S3Format,
    /// The custom endpoint, when there is one (AWS otherwise).
    endpoint: Option<url::Url>,
    allow_private: bool,
    redact: Redactor,
}

/// Names the bucket, never the credentials.
impl std::fmt::Debug for S3Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Destination")
            .field("provider", &self.provider)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("format", &self.format)
            .field("endpoint", &self.endpoint.as_ref().map(|u| u.as_str()))
            .finish_non_exhaustive()
    }
}

fn check_bucket(bucket: &str) -> Result<(), String> {
    // S3's naming rules, loosened where S3-compatible stores are laxer (case, underscores).
    let ok = (1..=255).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{bucket}` is not a valid bucket name (letters, digits, `.`, `-`, `_`)"
        ))
    }
}

fn check_region(region: &str) -> Result<(), String> {
    // The region becomes part of the AWS host name (`s3.{region}.amazonaws.com`).
    let ok = (1..=64).contains(&region.len())
        && region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{region}` is not a valid region (letters, digits, `-`, `_`)"
        ))
    }
}

/// A custom endpoint of `provider`, checked like every destination URL: no credentials, no
/// query, and through the SSRF guard (https, or http to a private address only when the
/// operator allows private destinations).
fn parse_endpoint(provider: &str, endpoint: &str, allow_private: bool) -> Result<url::Url, String> {
    let url = url::Url::parse(endpoint.trim())
        .map_err(|e| format!("the {provider} endpoint is not a valid URL: {e}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "the {provider} endpoint may not carry credentials; they belong in the secret"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "the {provider} endpoint may not have a query or a fragment"
        ));
    }
    ssrf::check_url(&url, allow_private).map_err(|e| format!("the {provider} endpoint: {e}"))?;
    Ok(url)
}

/// The optional endpoint of a configuration, parsed and checked.
fn optional_endpoint(
    provider: &str,
    endpoint: &Option<String>,
    allow_private: bool,
) -> Result<Option<url::Url>, String> {
    endpoint
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .map(|e| parse_endpoint(provider, e, allow_private))
        .transpose()
}

/// Destinations do not retry; the engine owns the retry policy.
fn no_retries(ctx: &DestContext) -> RetryConfig {
    RetryConfig {
        max_retries: 0,
        retry_timeout: ctx.request_timeout,
        ..RetryConfig::default()
    }
}

/// Builds the destination of an S3, GCS or Azure Blob configuration: validates bucket,
/// prefix and endpoint (which must pass the SSRF guard), and configures object_store with the
/// secret's credentials — never those of the machine Outflow runs on.
pub fn build(
    config: &DestinationConfig,
    secret: &SecretPayload,
    ctx: &DestContext,
) -> Result<S3Destination, String> {
    match config {
        DestinationConfig::Gcs { .. } => gcs::build(config, secret, ctx),
        DestinationConfig::AzureBlob { .. } => azure::build(config, secret, ctx),
        _ => build_s3(config, secret, ctx),
    }
}

fn build_s3(
    config: &DestinationConfig,
    secret: &SecretPayload,
    ctx: &DestContext,
) -> Result<S3Destination, String> {
    let DestinationConfig::S3 {
        bucket,
        prefix,
        region,
        endpoint,
        format,
    } = config
    else {
        return Err("not an S3 destination".into());
    };
    let SecretPayload::Aws {
        access_key_id,
        secret_access_key,
        session_token,
    } = secret
    else {
        return Err("an S3 destination needs a secret of kind `aws`".into());
    };
    if access_key_id.trim().is_empty() || secret_access_key.is_empty() {
        return Err("the S3 secret needs an access key id and a secret access key".into());
    }
    check_bucket(bucket)?;
    let prefix = keys::normalize_prefix(prefix)?;
    let region = region
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or(DEFAULT_REGION);
    check_region(region)?;
    let endpoint = optional_endpoint("S3", endpoint, ctx.allow_private)?;

    let redact = Redactor::new(
        [access_key_id.clone(), secret_access_key.clone()]
            .into_iter()
            .chain(session_token.clone()),
    );
    // `new`, not `from_env`: a customer's drain must never pick up the host's AWS identity.
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(region)
        .with_access_key_id(access_key_id.trim())
        .with_secret_access_key(secret_access_key)
        .with_http_connector(transport::GuardedConnector::new(ctx))
        .with_retry(no_retries(ctx));
    if let Some(token) = session_token.as_deref().filter(|t| !t.is_empty()) {
        builder = builder.with_token(token);
    }
    builder = match &endpoint {
        // Path-style addressing: what MinIO-like servers on one host expect.
        Some(url) => builder
            .with_endpoint(url.as_str().trim_end_matches('/'))
            .with_allow_http(url.scheme() == "http")
            .with_virtual_hosted_style_request(false),
        // AWS prefers virtual-hosted style, but a dotted bucket name breaks its TLS
        // certificate (`*.s3.amazonaws.com` covers one label), so those stay path-style.
        None => builder.with_virtual_hosted_style_request(!bucket.contains('.')),
    };
    let store = builder
        .build()
        .map_err(|e| redact.scrub(&format!("cannot configure the S3 bucket `{bucket}`: {e}")))?;
    Ok(S3Destination {
        store: Box::new(store),
        provider: "S3",
        bucket: bucket.clone(),
        prefix,
        format: *format,
        endpoint,
        allow_private: ctx.allow_private,
        redact,
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The user metadata of a batch object: its schema and its place in the sequence.
fn object_metadata(batch: &Batch) -> Vec<(&'static str, String)> {
    let mut m = vec![
        (SCHEMA_METADATA, schema::name(batch.data_type)),
        (SEQ_METADATA, batch.chain.seq.to_string()),
        (SEQUENCE_METADATA, batch.chain.space.clone()),
    ];
    if let Some(prev) = &batch.chain.prev {
        m.push((PREV_METADATA, prev.clone()));
    }
    m
}

impl S3Destination {
    /// `rest` under the destination's prefix (a scheduled export's object key).
    pub fn key_under_prefix(&self, rest: &str) -> String {
        if self.prefix.is_empty() {
            rest.to_string()
        } else {
            format!("{}/{rest}", self.prefix)
        }
    }

    /// Puts one whole object at `key` (overwriting it) with user `metadata`
    /// (`x-amz-meta-{name}` on the wire): a scheduled export's file, with its SHA-256.
    pub async fn put_object(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &'static str,
        metadata: &[(&'static str, String)],
    ) -> Result<(), DeliveryError> {
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, content_type.into());
        for (name, value) in metadata {
            attributes.insert(
                Attribute::Metadata(self.metadata_name(name).into()),
                value.clone().into(),
            );
        }
        let opts = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        self.store
            .put_opts(&self.path(key)?, PutPayload::from(bytes), opts)
            .await
            .map(|_| ())
            .map_err(|e| classify("upload", &e, &self.redact))
    }

    /// The objects under `{prefix}/{data_type}` whose key `wanted` keeps, key and bytes: what
    /// the customer's bucket holds of a drain, for `outflow verify` (needs `s3:ListBucket` and
    /// `s3:GetObject`). Only the kept objects are downloaded.
    pub async fn read_all(
        &self,
        data_type: &str,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<Vec<(String, Vec<u8>)>, DeliveryError> {
        use futures::TryStreamExt;
        let under = keys::join(&self.prefix, data_type);
        let prefix = ObjectPath::from(under.as_str());
        let step = format!("listing the objects under `{under}`");
        let metas: Vec<object_store::ObjectMeta> = self
            .store
            .list(Some(&prefix))
            .try_collect()
            .await
            .map_err(|e| classify(&step, &e, &self.redact))?;
        let mut out = Vec::with_capacity(metas.len());
        for m in metas {
            let key = m.location.to_string();
            if !wanted(&key) {
                continue;
            }
            let step = format!("reading the object `{key}`");
            let got = self
                .store
                .get(&m.location)
                .await
                .map_err(|e| classify(&step, &e, &self.redact))?;
            let bytes = got
                .bytes()
                .await
                .map_err(|e| classify(&step, &e, &self.redact))?;
            out.push((key, bytes.to_vec()));
        }
        Ok(out)
    }

    /// A metadata name as the provider accepts it: Azure wants C# identifiers, so
    /// `outflow-batch-seq` is `outflow_batch_seq` there (`x-ms-meta-outflow_batch_seq`).
    fn metadata_name(&self, name: &str) -> String {
        if self.provider == "Azure Blob" {
            name.replace('-', "_")
        } else {
            name.to_string()
        }
    }

    fn path(&self, key: &str) -> Result<ObjectPath, DeliveryError> {
        ObjectPath::parse(key)
            .map_err(|e| DeliveryError::permanent(None, format!("`{key}` is not a valid key: {e}")))
    }

    async fn put(
        &self,
        step: &str,
        key: &str,
        bytes: Vec<u8>,
        content_type: &'static str,
        metadata: Vec<(&'static str, String)>,
    ) -> Result<(), DeliveryError> {
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, content_type.into());
        for (name, value) in metadata {
            // S3 sends each as `x-amz-meta-{name}`, GCS `x-goog-meta-`, Azure `x-ms-meta-`.
            attributes.insert(
                Attribute::Metadata(self.metadata_name(name).into()),
                value.into(),
            );
        }
        let opts = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        self.store
            .put_opts(&self.path(key)?, PutPayload::from(bytes), opts)
            .await
            .map(|_| ())
            .map_err(|e| classify(step, &e, &self.redact))
    }
}

#[async_trait::async_trait]
impl Destination for S3Destination {
    async fn deliver(&self, batch: &Batch) -> Result<Delivered, DeliveryError> {
        let Some(key) = keys::object_key(&self.prefix, batch, self.format) else {
            return Ok(Delivered {
                note: Some("the batch has no records; nothing was written".into()),
                ..Delivered::default()
            });
        };
        let object = encode::encode(batch, self.format)
            .map_err(|e| DeliveryError::permanent(None, format!("encoding the batch: {e}")))?;
        let object_len = object.bytes.len() as u64;
        let sha256 = sha256_hex(&object.bytes);
        self.put(
            &format!("writing the object `{key}`"),
            &key,
            object.bytes,
            object.content_type,
            object_metadata(batch),
        )
        .await?;

        let manifest_key = keys::manifest_key(&self.prefix, batch);
        let manifest = BatchManifest {
            drain_id: batch.drain_id.clone(),
            data_type: batch.data_type.as_str().into(),
            sequence: batch.chain.space.clone(),
            seq: batch.chain.seq,
            prev: batch.chain.prev.clone(),
            batch_key: batch.key.clone(),
            key: key.clone(),
            first_pos: batch.first_pos,
            last_pos: batch.last_pos,
            records: batch.records.len() as u64,
            bytes: object_len,
            sha256: sha256.clone(),
        };
        let manifest_bytes = manifest.to_bytes();
        let manifest_len = manifest_bytes.len() as u64;
        self.put(
            &format!("writing the manifest `{manifest_key}`"),
            &manifest_key,
            manifest_bytes,
            "application/json",
            vec![],
        )
        .await?;

        Ok(Delivered {
            status: Some(200),
            bytes: object_len + manifest_len,
            requests: 2,
            rejected: 0,
            note: None,
            object_key: Some(key),
            sha256: Some(sha256),
        })
    }

    async fn preflight(&self, drain_id: &str) -> Result<(), DeliveryError> {
        if let Some(endpoint) = &self.endpoint {
            ssrf::check_host_resolves(endpoint, self.allow_private)
                .await
                .map_err(|e| {
                    DeliveryError::permanent(None, format!("the {} endpoint: {e}", self.provider))
                })?;
        }
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let probe = keys::probe_key(&self.prefix, drain_id, &nonce);
        let content = format!("Outflow preflight check of drain {drain_id}; safe to delete.\n");
        self.put(
            &format!("preflight: writing the probe object `{probe}`"),
            &probe,
            content.clone().into_bytes(),
            "text/plain",
            vec![],
        )
        .await?;

        // `outflow verify` reads objects and manifests back: prove that works too.
        let read = async {
            let step = format!("preflight: reading the probe object `{probe}` back");
            let got = self
                .store
                .get(&self.path(&probe)?)
                .await
                .map_err(|e| classify(&step, &e, &self.redact))?;
            got.bytes()
                .await
                .map_err(|e| classify(&step, &e, &self.redact))?;
            Ok::<(), DeliveryError>(())
        }
        .await;

        let step = format!("preflight: deleting the probe object `{probe}`");
        let deleted = match self.store.delete(&self.path(&probe)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(classify(&step, &e, &self.redact)),
        };
        read.and(deleted)
    }

    fn max_records(&self) -> usize {
        MAX_RECORDS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ctx() -> DestContext {
        DestContext {
            allow_private: false,
            request_timeout: Duration::from_secs(5),
        }
    }

    fn config(bucket: &str, endpoint: Option<&str>) -> DestinationConfig {
        DestinationConfig::S3 {
            bucket: bucket.into(),
            prefix: "/drains/".into(),
            region: None,
            endpoint: endpoint.map(Into::into),
            format: S3Format::Ndjson,
        }
    }

    fn secret() -> SecretPayload {
        SecretPayload::Aws {
            access_key_id: "AKIAEXAMPLE".into(),
            secret_access_key: "very-secret-value".into(),
            session_token: Some("session-token-value".into()),
        }
    }

    #[test]
    fn build_checks_its_inputs_and_never_shows_credentials() {
        let d = build(&config("usage-bucket", None), &secret(), &ctx()).unwrap();
        let debug = format!("{d:?}");
        assert!(
            debug.contains("usage-bucket") && debug.contains("drains"),
            "{debug}"
        );
        for s in ["AKIAEXAMPLE", "very-secret-value", "session-token-value"] {
            assert!(!debug.contains(s), "{debug}");
        }
        assert_eq!(d.max_records(), MAX_RECORDS);

        let err = build(
            &config("b", Some("http://169.254.169.254/")),
            &secret(),
            &ctx(),
        )
        .unwrap_err();
        assert!(err.contains("allow_private_destinations"), "{err}");
        assert!(
            build(
                &config("b", Some("https://user:pw@minio.example/")),
                &secret(),
                &ctx()
            )
            .unwrap_err()
            .contains("credentials")
        );
        assert!(build(&config("b/../c", None), &secret(), &ctx()).is_err());
        let no_keys = SecretPayload::Aws {
            access_key_id: " ".into(),
            secret_access_key: "x".into(),
            session_token: None,
        };
        assert!(build(&config("b", None), &no_keys, &ctx()).is_err());
        let wrong_region = DestinationConfig::S3 {
            bucket: "b".into(),
            prefix: String::new(),
            region: Some("us-east-1.evil.example/".into()),
            endpoint: None,
            format: S3Format::Json,
        };
        assert!(build(&wrong_region, &secret(), &ctx()).is_err());
    }
}
