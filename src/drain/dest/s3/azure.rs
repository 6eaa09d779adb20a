//! The Azure Blob Storage client of the object-store destination: object_store's Azure store
//! with the secret's shared key or SAS token (never a managed identity or the Azure CLI of
//! the host), its requests through the guarded transport.
//!
//! The account URL is `https://{account}.blob.core.windows.net`, or the configuration's
//! `endpoint` — Azurite's path-style `http://127.0.0.1:10000/devstoreaccount1` included, which
//! object_store addresses as `{endpoint}/{container}/{blob}`.

use super::{S3Destination, keys, no_retries, optional_endpoint, transport};
use crate::drain::dest::describe::Redactor;
use crate::drain::dest::{DestContext, DestinationConfig, SecretPayload};
use object_store::azure::MicrosoftAzureBuilder;

/// Storage account names: 3 to 24 lowercase letters and digits (they become a host name).
fn check_account(account: &str) -> Result<(), String> {
    let ok = (3..=24).contains(&account.len())
        && account
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{account}` is not a valid Azure storage account name (3 to 24 lowercase letters and digits)"
        ))
    }
}

/// Container names: 3 to 63 lowercase letters, digits and single `-` between them.
fn check_container(container: &str) -> Result<(), String> {
    let ok = (3..=63).contains(&container.len())
        && container
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !container.starts_with('-')
        && !container.ends_with('-')
        && !container.contains("--");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{container}` is not a valid Azure container name (3 to 63 lowercase letters, digits and single `-` between them)"
        ))
    }
}

/// The SAS token's query pairs (`sv=…&sig=…`, a leading `?` allowed).
fn sas_pairs(token: &str) -> Result<Vec<(String, String)>, String> {
    let token = token.trim().trim_start_matches('?');
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(token.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if !pairs.iter().any(|(k, _)| k == "sig") {
        return Err(
            "the Azure secret's sas_token has no `sig` parameter (paste the token as `sv=…&sig=…`)"
                .into(),
        );
    }
    Ok(pairs)
}

/// Builds the Azure Blob destination of `config` (an `azure_blob` destination) with `secret`
/// (kind `azure`).
pub fn build(
    config: &DestinationConfig,
    secret: &SecretPayload,
    ctx: &DestContext,
) -> Result<S3Destination, String> {
    let DestinationConfig::AzureBlob {
        account,
        container,
        prefix,
        endpoint,
        format,
    } = config
    else {
        return Err("not an Azure Blob destination".into());
    };
    let SecretPayload::Azure {
        access_key,
        sas_token,
    } = secret
    else {
        return Err("an Azure Blob destination needs a secret of kind `azure`".into());
    };
    check_account(account)?;
    check_container(container)?;
    let prefix = keys::normalize_prefix(prefix)?;
    let endpoint = optional_endpoint("Azure Blob", endpoint, ctx.allow_private)?;
    let key = access_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty());
    let sas = sas_token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let redact = Redactor::new(key.into_iter().chain(sas).map(str::to_string));

    // `new`, not `from_env`: a customer's drain must never pick up the host's identity.
    let mut builder = MicrosoftAzureBuilder::new()
        .with_account(account)
        .with_container_name(container)
        .with_http_connector(transport::GuardedConnector::new(ctx))
        .with_retry(no_retries(ctx));
    builder = match (key, sas) {
        (Some(key), None) => builder.with_access_key(key),
        (None, Some(sas)) => builder.with_sas_authorization(sas_pairs(sas)?),
        (Some(_), Some(_)) => {
            return Err("the Azure secret holds both access_key and sas_token; give one".into());
        }
        (None, None) => {
            return Err("the Azure secret needs an access_key or a sas_token".into());
        }
    };
    if let Some(url) = &endpoint {
        builder = builder
            .with_endpoint(url.as_str().trim_end_matches('/').to_string())
            .with_allow_http(url.scheme() == "http");
    }
    let store = builder.build().map_err(|e| {
        redact.scrub(&format!(
            "cannot configure the Azure container `{container}`: {e}"
        ))
    })?;
    Ok(S3Destination {
        store: Box::new(store),
        provider: "Azure Blob",
        bucket: container.clone(),
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

    fn ctx() -> DestContext {
        DestContext {
            allow_private: false,
            request_timeout: Duration::from_secs(5),
        }
    }

    fn config(account: &str, container: &str) -> DestinationConfig {
        DestinationConfig::AzureBlob {
            account: account.into(),
            container: container.into(),
            prefix: String::new(),
            endpoint: None,
            format: S3Format::Ndjson,
        }
    }

    fn key(k: Option<&str>, sas: Option<&str>) -> SecretPayload {
        SecretPayload::Azure {
            access_key: k.map(Into::into),
            sas_token: sas.map(Into::into),
        }
    }

    #[test]
    fn build_checks_names_and_credentials() {
        let good_key = Some("c2VjcmV0LWtleS12YWx1ZQ==");
        build(&config("acme01", "usage"), &key(good_key, None), &ctx()).unwrap();
        build(
            &config("acme01", "usage"),
            &key(None, Some("?sv=2022-11-02&sp=rwdl&sig=abc%3D")),
            &ctx(),
        )
        .unwrap();
        let err = build(&config("Acme", "usage"), &key(good_key, None), &ctx()).unwrap_err();
        assert!(err.contains("storage account name"), "{err}");
        let err = build(&config("acme01", "a--b"), &key(good_key, None), &ctx()).unwrap_err();
        assert!(err.contains("container name"), "{err}");
        let err = build(&config("acme01", "usage"), &key(None, None), &ctx()).unwrap_err();
        assert!(err.contains("access_key or a sas_token"), "{err}");
        let err = build(
            &config("acme01", "usage"),
            &key(None, Some("sv=1&sp=r")),
            &ctx(),
        )
        .unwrap_err();
        assert!(err.contains("`sig`"), "{err}");
        let err = build(
            &config("acme01", "usage"),
            &key(Some("not base64 key!!"), None),
            &ctx(),
        )
        .unwrap_err();
        assert!(!err.contains("not base64 key!!"), "{err}");
    }
}
