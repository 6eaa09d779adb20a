//! Destination settings as stored with a drain (nothing secret), and destination credentials
//! as stored — encrypted — in a secret. The drain names its secret by `secret_id`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How an HTTP destination encodes a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, ToSchema)]
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

/// Read by name, so that `parquet` — an object-store format — is refused with where it
/// belongs rather than serde's bare "unknown variant".
impl<'de> Deserialize<'de> for HttpFormat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        match name.as_str() {
            "json" => Ok(HttpFormat::Json),
            "ndjson" => Ok(HttpFormat::Ndjson),
            "otlp" => Ok(HttpFormat::Otlp),
            "parquet" => Err(serde::de::Error::custom(
                "format `parquet` is for object-store destinations (s3, gcs, azure_blob); an http destination takes json, ndjson or otlp",
            )),
            other => Err(serde::de::Error::custom(format!(
                "unknown format `{other}`; allowed: json, ndjson, otlp"
            ))),
        }
    }
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

/// How object-store batch objects are written (S3, GCS and Azure Blob alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum S3Format {
    /// `….ndjson.gz`: one record per line, gzip.
    #[default]
    Ndjson,
    /// `….json`: the JSON envelope.
    Json,
    /// `….parquet`: typed columns, the export's Parquet schema, one file per batch.
    Parquet,
}

impl S3Format {
    /// The name used in requests: `ndjson`, `json`, `parquet`.
    pub fn as_str(self) -> &'static str {
        match self {
            S3Format::Ndjson => "ndjson",
            S3Format::Json => "json",
            S3Format::Parquet => "parquet",
        }
    }
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
    /// A Google Cloud Storage bucket; the service-account key lives in the secret (kind
    /// `gcp`). Same key layout, manifests and metadata as S3.
    Gcs {
        /// Bucket name.
        bucket: String,
        /// Key prefix (no leading or trailing slash needed).
        #[serde(default)]
        prefix: String,
        /// Endpoint override (`https://storage.googleapis.com` when absent): a proxy or an
        /// emulator. The SSRF guard applies.
        #[serde(default)]
        endpoint: Option<String>,
        /// Object format.
        #[serde(default)]
        format: S3Format,
    },
    /// An Azure Blob Storage container; the access key or SAS token lives in the secret
    /// (kind `azure`). Same key layout, manifests and metadata as S3.
    AzureBlob {
        /// Storage account name (not secret: it is the endpoint's host name).
        account: String,
        /// Container name.
        container: String,
        /// Blob name prefix (no leading or trailing slash needed).
        #[serde(default)]
        prefix: String,
        /// Account endpoint override (`https://{account}.blob.core.windows.net` when absent),
        /// e.g. Azurite's `http://127.0.0.1:10000/devstoreaccount1`. The SSRF guard applies.
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
    /// `http`, `s3`, `gcs`, `azure_blob` or `datadog`.
    pub fn kind(&self) -> &'static str {
        match self {
            DestinationConfig::Http { .. } => "http",
            DestinationConfig::S3 { .. } => "s3",
            DestinationConfig::Gcs { .. } => "gcs",
            DestinationConfig::AzureBlob { .. } => "azure_blob",
            DestinationConfig::Datadog { .. } => "datadog",
        }
    }

    /// The object format of an object-store destination (S3, GCS, Azure Blob).
    pub fn object_format(&self) -> Option<S3Format> {
        match self {
            DestinationConfig::S3 { format, .. }
            | DestinationConfig::Gcs { format, .. }
            | DestinationConfig::AzureBlob { format, .. } => Some(*format),
            DestinationConfig::Http { .. } | DestinationConfig::Datadog { .. } => None,
        }
    }

    /// The custom endpoint of an object-store destination, if any.
    pub fn object_endpoint(&self) -> Option<&str> {
        match self {
            DestinationConfig::S3 { endpoint, .. }
            | DestinationConfig::Gcs { endpoint, .. }
            | DestinationConfig::AzureBlob { endpoint, .. } => endpoint.as_deref(),
            DestinationConfig::Http { .. } | DestinationConfig::Datadog { .. } => None,
        }
    }

    /// The secret kind this destination needs.
    pub fn secret_kind(&self) -> &'static str {
        match self {
            DestinationConfig::Http { .. } => "http",
            DestinationConfig::S3 { .. } => "aws",
            DestinationConfig::Gcs { .. } => "gcp",
            DestinationConfig::AzureBlob { .. } => "azure",
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
    /// A Google Cloud service account, for GCS.
    Gcp {
        /// The service account's JSON key file, as downloaded (`type`, `client_email`,
        /// `private_key`, …). An emulator takes `"disable_oauth": true` instead of a key.
        service_account_json: String,
    },
    /// Azure Blob Storage credentials: a shared access key, or a SAS token.
    Azure {
        /// The storage account's access key (base64).
        #[serde(default)]
        access_key: Option<String>,
        /// A SAS token (`sv=…&sig=…`, with or without a leading `?`) instead of a key.
        #[serde(default)]
        sas_token: Option<String>,
    },
    /// A Datadog API key.
    Datadog {
        /// The API key.
        api_key: String,
    },
}

impl SecretPayload {
    /// `http`, `aws`, `gcp`, `azure` or `datadog`.
    pub fn kind(&self) -> &'static str {
        match self {
            SecretPayload::Http { .. } => "http",
            SecretPayload::Aws { .. } => "aws",
            SecretPayload::Gcp { .. } => "gcp",
            SecretPayload::Azure { .. } => "azure",
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
