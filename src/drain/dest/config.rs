//! Destination settings as stored with a drain (nothing secret), and destination credentials
//! as stored — encrypted — in a secret. The drain names its secret by `secret_id`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How an HTTP destination encodes a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HttpFormat {
    /// `{source, drain_id, drain_name, data_type, records:[…]}`.
    #[default]
    Json,
    /// One JSON record per line.
    Ndjson,
    /// OTLP/HTTP logs.
    Otlp,
}

/// OTLP/HTTP body encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OtlpEncoding {
    /// `application/x-protobuf`.
    #[default]
    Protobuf,
    /// `application/json` (OTLP JSON mapping).
    Json,
}

/// How S3 objects are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum S3Format {
    /// `….ndjson.gz`: one record per line, gzip.
    #[default]
    Ndjson,
    /// `….json`: the JSON envelope.
    Json,
}

/// Where a drain delivers, without credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DestinationConfig {
    /// A custom HTTP endpoint; URL, authorization header and signing secrets live in the
    /// secret (kind `http`).
    Http {
        /// Body format.
        #[serde(default)]
        format: HttpFormat,
        /// OTLP encoding (format `otlp` only).
        #[serde(default)]
        otlp_encoding: OtlpEncoding,
        /// Gzip the body (`Content-Encoding: gzip`).
        #[serde(default)]
        gzip: bool,
        /// Most bytes of one request body before compression; a larger batch is split.
        #[serde(default = "default_max_body_bytes")]
        max_body_bytes: usize,
    },
    /// An S3 or S3-compatible bucket; keys live in the secret (kind `aws`).
    S3 {
        /// Bucket name.
        bucket: String,
        /// Key prefix (no leading or trailing slash needed).
        #[serde(default)]
        prefix: String,
        /// Region (`us-east-1` when absent).
        #[serde(default)]
        region: Option<String>,
        /// Endpoint for S3-compatible services (MinIO, R2, …).
        #[serde(default)]
        endpoint: Option<String>,
        /// Object format.
        #[serde(default)]
        format: S3Format,
    },
    /// Datadog Logs intake v2; the API key lives in the secret (kind `datadog`).
    Datadog {
        /// Datadog site, e.g. `datadoghq.com`, `datadoghq.eu`.
        site: String,
        /// `service` attribute (default `outflow.{data_type}`).
        #[serde(default)]
        service: Option<String>,
        /// `ddsource` attribute (default `outflow`).
        #[serde(default)]
        source: Option<String>,
        /// Extra tags, `key:value`; the drain adds `drain_id` and `drain_name`.
        #[serde(default)]
        tags: Vec<String>,
        /// Intake URL override (a proxy, or a local receiver in tests); the SSRF guard still
        /// applies.
        #[serde(default)]
        intake_url: Option<String>,
    },
}

/// Default byte cap of one HTTP request body (uncompressed).
pub const DEFAULT_MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

fn default_max_body_bytes() -> usize {
    DEFAULT_MAX_BODY_BYTES
}

impl DestinationConfig {
    /// `http`, `s3` or `datadog`.
    pub fn kind(&self) -> &'static str {
        match self {
            DestinationConfig::Http { .. } => "http",
            DestinationConfig::S3 { .. } => "s3",
            DestinationConfig::Datadog { .. } => "datadog",
        }
    }

    /// The secret kind this destination needs.
    pub fn secret_kind(&self) -> &'static str {
        match self {
            DestinationConfig::Http { .. } => "http",
            DestinationConfig::S3 { .. } => "aws",
            DestinationConfig::Datadog { .. } => "datadog",
        }
    }
}

/// Destination credentials, as held (encrypted) in a secret.
#[derive(Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SecretPayload {
    /// A custom HTTP endpoint.
    Http {
        /// Endpoint URL (`https://…`, or `http://…`).
        url: String,
        /// `Authorization` header value sent with every request.
        #[serde(default)]
        authorization: Option<String>,
        /// Signing secrets, newest first; every one signs (`webhook-signature` carries one
        /// `v1,…` per secret) so receivers can rotate. `X-Outflow-Signature` uses the first.
        #[serde(default)]
        signing_secrets: Vec<String>,
    },
    /// AWS (or S3-compatible) keys.
    Aws {
        /// Access key id.
        access_key_id: String,
        /// Secret access key.
        secret_access_key: String,
        /// Session token, for temporary credentials.
        #[serde(default)]
        session_token: Option<String>,
    },
    /// A Datadog API key.
    Datadog {
        /// The API key.
        api_key: String,
    },
}

impl SecretPayload {
    /// `http`, `aws` or `datadog`.
    pub fn kind(&self) -> &'static str {
        match self {
            SecretPayload::Http { .. } => "http",
            SecretPayload::Aws { .. } => "aws",
            SecretPayload::Datadog { .. } => "datadog",
        }
    }
}

/// Never prints a credential.
impl std::fmt::Debug for SecretPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretPayload::{}(…)", self.kind())
    }
}
