//! The Google Cloud Storage client of the object-store destination: object_store's GCS store,
//! authenticated with the secret's service-account key (never the host's application default
//! credentials), its requests — token exchanges included — through the guarded transport.
//!
//! The GCS base URL is always set here, from the configuration's `endpoint` or the public
//! `https://storage.googleapis.com`, so a `gcs_base_url` inside a key file cannot send traffic
//! around the endpoint check. An emulator's key is `{"disable_oauth": true, …}`, which
//! object_store's own tests use too: it skips the OAuth exchange.

use super::{S3Destination, keys, no_retries, optional_endpoint, transport};
use crate::drain::dest::describe::Redactor;
use crate::drain::dest::{DestContext, DestinationConfig, SecretPayload};
use object_store::gcp::GoogleCloudStorageBuilder;

/// Where GCS is when no endpoint is configured.
const DEFAULT_BASE_URL: &str = "https://storage.googleapis.com";

/// GCS bucket names: 3 to 222 characters, lowercase letters, digits, `-`, `_` and `.`.
fn check_bucket(bucket: &str) -> Result<(), String> {
    let ok = (3..=222).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{bucket}` is not a valid GCS bucket name (3 to 222 lowercase letters, digits, `-`, `_`, `.`)"
        ))
    }
}

/// The key file's fields object_store needs, checked here so the message names the field
/// (and never quotes the key).
fn check_key(json: &str) -> Result<Vec<String>, String> {
    let value: serde_json::Value = serde_json::from_str(json.trim()).map_err(|_| {
        "the GCP secret's service_account_json is not valid JSON (paste the key file as downloaded)"
            .to_string()
    })?;
    let Some(obj) = value.as_object() else {
        return Err("the GCP secret's service_account_json must be a JSON object".into());
    };
    let text = |k: &str| obj.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    let no_oauth = obj.get("disable_oauth").and_then(|v| v.as_bool()) == Some(true);
    if !no_oauth {
        for field in ["client_email", "private_key", "private_key_id"] {
            if text(field).trim().is_empty() {
                return Err(format!(
                    "the GCP secret's service_account_json has no `{field}` (paste the service account's key file as downloaded)"
                ));
            }
        }
    }
    Ok(vec![
        text("private_key").to_string(),
        text("private_key_id").to_string(),
    ])
}

/// Builds the GCS destination of `config` (a `gcs` destination) with `secret` (kind `gcp`).
pub fn build(
    config: &DestinationConfig,
    secret: &SecretPayload,
    ctx: &DestContext,
) -> Result<S3Destination, String> {
    let DestinationConfig::Gcs {
        bucket,
        prefix,
        endpoint,
        format,
    } = config
    else {
        return Err("not a GCS destination".into());
    };
    let SecretPayload::Gcp {
        service_account_json,
    } = secret
    else {
        return Err("a GCS destination needs a secret of kind `gcp`".into());
    };
    check_bucket(bucket)?;
    let prefix = keys::normalize_prefix(prefix)?;
    let endpoint = optional_endpoint("GCS", endpoint, ctx.allow_private)?;
    let secrets = check_key(service_account_json)?;
    let redact = Redactor::new(secrets.into_iter().chain([service_account_json.clone()]));
    let base_url = endpoint.as_ref().map_or(DEFAULT_BASE_URL.to_string(), |u| {
        u.as_str().trim_end_matches('/').to_string()
    });
    // `new`, not `from_env`: a customer's drain must never pick up the host's identity.
    let store = GoogleCloudStorageBuilder::new()
        .with_bucket_name(bucket)
        .with_service_account_key(service_account_json.trim())
        .with_base_url(&base_url)
        .with_http_connector(transport::GuardedConnector::new(ctx))
        .with_retry(no_retries(ctx))
        .build()
        .map_err(|e| redact.scrub(&format!("cannot configure the GCS bucket `{bucket}`: {e}")))?;
    Ok(S3Destination {
        store: Box::new(store),
        provider: "GCS",
        bucket: bucket.clone(),
        prefix,
        format: *format,
        endpoint,
        allow_private: ctx.allow_private,
        redact,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drain::dest::config::S3Format;
    use std::time::Duration;

    fn ctx(allow_private: bool) -> DestContext {
        DestContext {
            allow_private,
            request_timeout: Duration::from_secs(5),
        }
    }

    fn config(bucket: &str, endpoint: Option<&str>) -> DestinationConfig {
        DestinationConfig::Gcs {
            bucket: bucket.into(),
            prefix: "drains".into(),
            endpoint: endpoint.map(Into::into),
            format: S3Format::Parquet,
        }
    }

    fn secret(json: &str) -> SecretPayload {
        SecretPayload::Gcp {
            service_account_json: json.into(),
        }
    }

    #[test]
    fn build_checks_bucket_key_and_endpoint_and_never_shows_the_key() {
        let emulator = r#"{"disable_oauth": true, "client_email": "", "private_key": "", "private_key_id": ""}"#;
        let d = build(
            &config("usage-bucket", Some("http://127.0.0.1:4443")),
            &secret(emulator),
            &ctx(true),
        )
        .unwrap();
        assert!(format!("{d:?}").contains("GCS"));

        let err = build(
            &config("usage-bucket", Some("http://127.0.0.1:4443")),
            &secret(emulator),
            &ctx(false),
        )
        .unwrap_err();
        assert!(err.contains("allow_private_destinations"), "{err}");

        let err = build(&config("Bad Bucket", None), &secret(emulator), &ctx(false)).unwrap_err();
        assert!(err.contains("not a valid GCS bucket name"), "{err}");

        let err = build(
            &config("b-1", None),
            &secret("{\"private_key\": \"-----BEGIN SECRET-----\"}"),
            &ctx(false),
        )
        .unwrap_err();
        assert!(err.contains("client_email"), "{err}");
        assert!(!err.contains("BEGIN SECRET"), "{err}");

        let err = build(&config("b-1", None), &secret("not json"), &ctx(false)).unwrap_err();
        assert!(err.contains("not valid JSON"), "{err}");
    }
}
