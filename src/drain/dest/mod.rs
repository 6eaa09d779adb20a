//! Destinations. Each lives in its own folder and implements [`Destination`]: deliver a
//! batch (the same batch again on retry, which must be harmless — same idempotency key, same
//! object key), and run a preflight check that proves the destination reachable and writable.
//!
//! Destinations do not retry: they classify each failure as transient or permanent (and pass
//! on `Retry-After`), and the engine applies the failure policy.

pub mod config;
pub mod datadog;
pub mod describe;
pub mod http;
pub mod s3;

pub use config::{DestinationConfig, SecretPayload};

use super::batch::Batch;
use std::time::Duration;

/// What a successful delivery did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delivered {
    /// HTTP status of the last request (S3: 200).
    pub status: Option<u16>,
    /// Bytes sent on the wire (after compression), all requests together.
    pub bytes: u64,
    /// Requests made (a batch over a byte cap is split).
    pub requests: u32,
    /// Records the receiver accepted but reported as rejected (OTLP partial success): they
    /// are not retried, per the OTLP specification.
    pub rejected: u64,
    /// A remark worth recording with the delivery (partial-success message, truncations).
    pub note: Option<String>,
    /// Object key written (S3).
    pub object_key: Option<String>,
    /// Hex SHA-256 of the object written (S3).
    pub sha256: Option<String>,
}

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    /// Whether retrying cannot help (bad credentials, a refused payload, a bad URL).
    pub permanent: bool,
    /// HTTP status when there was a response.
    pub status: Option<u16>,
    /// What happened, for people. Never contains a secret, and shows a destination only as
    /// `scheme://host[:port]` (see [`describe`]).
    pub message: String,
    /// The receiver's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
}

impl DeliveryError {
    /// A failure worth retrying (timeouts, connection errors, 408, 429, 5xx).
    pub fn transient(status: Option<u16>, message: impl Into<String>) -> Self {
        DeliveryError {
            permanent: false,
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A failure retrying cannot fix.
    pub fn permanent(status: Option<u16>, message: impl Into<String>) -> Self {
        DeliveryError {
            permanent: true,
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// With the receiver's `Retry-After`.
    pub fn with_retry_after(mut self, after: Option<Duration>) -> Self {
        self.retry_after = after;
        self
    }

    /// "HTTP 500: …" — the status once, then the message; any URL in it shown as
    /// `scheme://host[:port]` (destinations already say it so; this holds for every message).
    /// What status reasons, test results and preflight refusals show.
    pub fn describe(&self) -> String {
        let text = match self.status {
            Some(s) if !self.message.contains(&s.to_string()) => {
                format!("HTTP {s}: {}", self.message)
            }
            _ => self.message.clone(),
        };
        describe::hide_url_paths(&text)
    }
}

/// The usual HTTP classification: 408, 429 and 5xx are transient, other 4xx permanent.
pub fn status_is_transient(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
}

/// Parses `Retry-After` as delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// A destination ready to deliver.
#[async_trait::async_trait]
pub trait Destination: Send + Sync {
    /// Delivers one batch. Called again with the same batch when a delivery is retried.
    async fn deliver(&self, batch: &Batch) -> Result<Delivered, DeliveryError>;

    /// Proves the destination reachable and writable without delivering records (HTTP: a
    /// signed probe; S3: write and delete a probe object; Datadog: validate the key).
    async fn preflight(&self, drain_id: &str) -> Result<(), DeliveryError>;

    /// Most records one batch may hold for this destination.
    fn max_records(&self) -> usize;
}

/// What building a destination needs besides its configuration and credentials.
#[derive(Debug, Clone)]
pub struct DestContext {
    /// Whether destinations may resolve to private, loopback or link-local addresses.
    pub allow_private: bool,
    /// Timeout of one request.
    pub request_timeout: Duration,
}

/// Builds the destination of `config` with the credentials of `secret`.
pub fn build(
    config: &DestinationConfig,
    secret: &SecretPayload,
    ctx: &DestContext,
) -> Result<Box<dyn Destination>, String> {
    if config.secret_kind() != secret.kind() {
        return Err(format!(
            "a `{}` destination needs a secret of kind `{}`, but the secret is of kind `{}`",
            config.kind(),
            config.secret_kind(),
            secret.kind()
        ));
    }
    Ok(match config {
        DestinationConfig::Http { .. } => Box::new(http::build(config, secret, ctx)?),
        DestinationConfig::S3 { .. }
        | DestinationConfig::Gcs { .. }
        | DestinationConfig::AzureBlob { .. } => Box::new(s3::build(config, secret, ctx)?),
        DestinationConfig::Datadog { .. } => Box::new(datadog::build(config, secret, ctx)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_and_retry_after() {
        assert!(status_is_transient(429) && status_is_transient(503) && status_is_transient(408));
        assert!(!status_is_transient(401) && !status_is_transient(413));
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
