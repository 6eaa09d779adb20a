//! Datadog Logs: each record becomes one log entry sent to the site's HTTP logs intake (v2),
//! gzip-compressed, in as few requests as the intake's limits allow.
//!
//! - `sites` — every Datadog site and its hosts;
//! - `limits` — the intake's documented limits, with their source;
//! - `encode` — entries, truncation of oversized records, splitting into requests.
//!
//! A batch larger than one request is sent as several, in order. When a later request fails
//! the batch fails; the parts already accepted are remembered (`progress`), so its retry sends
//! only the remaining ones. Datadog has no idempotency key: after a restart the retry sends
//! every part again, so delivery to Datadog is at-least-once, like every destination on the
//! wire.
//!
//! Responses: 200 and 202 are success; 400, 401, 403 and 413 are permanent; 408, 429 and 5xx
//! transient (with `Retry-After` passed on); a connection failure is transient, an address the
//! SSRF guard refuses permanent.

mod encode;
pub mod limits;
mod progress;
pub mod sites;

pub use encode::EntrySettings;

use super::describe::Redactor;
use super::{
    Delivered, DeliveryError, DestContext, Destination, DestinationConfig, SecretPayload,
    parse_retry_after, status_is_transient,
};
use crate::drain::batch::Batch;
use crate::drain::ssrf;
use flate2::Compression;
use flate2::write::GzEncoder;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use std::io::Write;
use std::time::Duration;

/// Tag keys the drain sets itself; a drain's extra tags may not claim them. `schema` (added
/// later) is not among them: drains stored with a `schema:…` tag of their own keep working,
/// and Datadog tags may repeat a key.
const RESERVED_TAG_KEYS: [&str; 4] = ["drain_id", "drain_name", "data_type", "truncated"];

/// A configured Datadog destination, ready to deliver.
pub struct DatadogDestination {
    client: reqwest::Client,
    site: &'static sites::Site,
    intake: url::Url,
    validate: url::Url,
    /// Whether `intake` is a configured override (it is then checked by the SSRF guard).
    custom_intake: bool,
    allow_private: bool,
    /// The client's request timeout, for messages.
    timeout: Duration,
    api_key: HeaderValue,
    /// The API key and a custom intake URL's secret parts: cut out of every message.
    redact: Redactor,
    settings: EntrySettings,
    /// Parts of split batches the intake accepted, so a retry skips them.
    progress: progress::Progress,
}

/// Names the site and intake, never the API key.
impl std::fmt::Debug for DatadogDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatadogDestination")
            .field("site", &self.site.site)
            .field("intake", &super::describe::display(&self.intake))
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn check_attribute(what: &str, value: &Option<String>) -> Result<Option<String>, String> {
    let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > limits::MAX_ATTRIBUTE_LEN || v.chars().any(char::is_control) {
        return Err(format!(
            "the Datadog {what} must be at most {} characters, without control characters",
            limits::MAX_ATTRIBUTE_LEN
        ));
    }
    Ok(Some(v.to_string()))
}

fn check_tags(tags: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(tags.len());
    for t in tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        if t.chars().count() > limits::MAX_TAG_LEN
            || t.chars()
                .any(|c| c == ',' || c.is_whitespace() || c.is_control())
        {
            return Err(format!(
                "the Datadog tag `{t}` must be at most {} characters, without commas or spaces",
                limits::MAX_TAG_LEN
            ));
        }
        let key = t.split(':').next().unwrap_or(t);
        if RESERVED_TAG_KEYS.contains(&key) {
            return Err(format!(
                "the Datadog tag `{t}` uses the key `{key}`, which the drain sets itself"
            ));
        }
        out.push(t.to_string());
    }
    Ok(out)
}

fn parse_intake(value: &str, allow_private: bool) -> Result<url::Url, String> {
    let url = url::Url::parse(value.trim())
        .map_err(|e| format!("the Datadog intake URL is not a valid URL: {e}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the Datadog intake URL may not carry credentials".into());
    }
    ssrf::check_url(&url, allow_private).map_err(|e| format!("the Datadog intake URL: {e}"))?;
    Ok(url)
}

/// Builds the destination: the site must be a Datadog site (the error lists them), an intake
/// override must pass the SSRF guard, and tags must be well-formed.
pub fn build(
    config: &DestinationConfig,
    secret: &SecretPayload,
    ctx: &DestContext,
) -> Result<DatadogDestination, String> {
    let DestinationConfig::Datadog {
        site,
        service,
        source,
        tags,
        intake_url,
    } = config
    else {
        return Err("not a Datadog destination".into());
    };
    let SecretPayload::Datadog { api_key } = secret else {
        return Err("a Datadog destination needs a secret of kind `datadog`".into());
    };
    let site = sites::lookup(site)?;
    let api_key = api_key.trim();
    if api_key.is_empty() {
        return Err("the Datadog secret has an empty API key".into());
    }
    let mut api_key = HeaderValue::from_str(api_key)
        .map_err(|_| "the Datadog API key holds characters a header cannot carry".to_string())?;
    api_key.set_sensitive(true);

    let custom = intake_url.as_deref().filter(|u| !u.trim().is_empty());
    let (intake, validate) = match custom {
        Some(u) => {
            let intake = parse_intake(u, ctx.allow_private)?;
            let mut validate = intake.clone();
            validate.set_path("/api/v1/validate");
            validate.set_query(None);
            validate.set_fragment(None);
            (intake, validate)
        }
        None => (
            url::Url::parse(&format!("https://{}/api/v2/logs", site.logs_intake))
                .expect("site hosts are valid"),
            url::Url::parse(&format!("https://{}/api/v1/validate", site.api_host()))
                .expect("site hosts are valid"),
        ),
    };
    let mut redact = Redactor::new(api_key.to_str().ok().map(str::to_string));
    if custom.is_some() {
        redact = redact.with_url(&intake);
    }
    Ok(DatadogDestination {
        client: ssrf::client(ctx.allow_private, ctx.request_timeout),
        site,
        redact,
        timeout: ctx.request_timeout,
        intake,
        validate,
        custom_intake: custom.is_some(),
        allow_private: ctx.allow_private,
        api_key,
        settings: EntrySettings {
            source: check_attribute("source", source)?,
            service: check_attribute("service", service)?,
            tags: check_tags(tags)?,
        },
        progress: progress::Progress::default(),
    })
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::default());
    gz.write_all(body).expect("writing to memory");
    gz.finish().expect("writing to memory")
}

/// A failed request without a response, as one sentence after `what`: refused by the SSRF
/// guard (permanent) or not reachable (transient).
fn connection_error(
    what: &str,
    e: &reqwest::Error,
    url: &url::Url,
    timeout: Duration,
) -> DeliveryError {
    let mut e = DeliveryError::request(e, url, timeout);
    e.message = format!("{what}: {}", e.message);
    e
}

/// The start of a response body, for an error message.
async fn body_excerpt(response: reqwest::Response) -> String {
    let text = response.text().await.unwrap_or_default();
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {}", text.chars().take(300).collect::<String>())
    }
}

impl DatadogDestination {
    fn scrub(&self, e: DeliveryError) -> DeliveryError {
        self.redact.error(e)
    }

    /// Sends one compressed body; `Ok` is the success status.
    async fn send(&self, gz: Vec<u8>) -> Result<u16, DeliveryError> {
        let response = self
            .client
            .post(self.intake.clone())
            .header("DD-API-KEY", self.api_key.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(CONTENT_ENCODING, "gzip")
            .body(gz)
            .send()
            .await
            .map_err(|e| {
                connection_error("the Datadog logs intake", &e, &self.intake, self.timeout)
            })?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            return Ok(status);
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let excerpt = body_excerpt(response).await;
        let e = match status {
            400 => DeliveryError::permanent(
                Some(400),
                format!("Datadog refused the payload (HTTP 400){excerpt}"),
            ),
            401 => DeliveryError::permanent(
                Some(401),
                "Datadog answered 401: the API key is missing or malformed",
            ),
            403 => DeliveryError::permanent(
                Some(403),
                "Datadog rejected the API key (HTTP 403); check the key and that it belongs to \
                 the configured site",
            ),
            413 => DeliveryError::permanent(
                Some(413),
                format!("Datadog found the request too large (HTTP 413){excerpt}"),
            ),
            s if status_is_transient(s) => DeliveryError::transient(
                Some(s),
                format!("the Datadog logs intake answered HTTP {s}{excerpt}"),
            )
            .with_retry_after(retry_after),
            s => DeliveryError::permanent(
                Some(s),
                format!("the Datadog logs intake answered HTTP {s}{excerpt}"),
            ),
        };
        Err(e)
    }
}

#[async_trait::async_trait]
impl Destination for DatadogDestination {
    async fn deliver(&self, batch: &Batch) -> Result<Delivered, DeliveryError> {
        let encoded = encode::encode(batch, &self.settings);
        let total = encoded.bodies.len();
        let mut delivered = Delivered::default();
        let mut skipped = 0;
        for (i, body) in encoded.bodies.iter().enumerate() {
            let part = progress::digest(body);
            if self.progress.accepted(&batch.key, &part) {
                skipped += 1;
                continue;
            }
            let gz = gzip(body);
            let len = gz.len() as u64;
            let status = self.send(gz).await.map_err(|mut e| {
                if i > 0 {
                    e.message = format!(
                        "request {} of {total} failed, after {i} accepted (a retry sends only \
                         the remaining ones): {}",
                        i + 1,
                        e.message
                    );
                }
                self.scrub(e)
            })?;
            self.progress.accept(&batch.key, part);
            delivered.status = Some(status);
            delivered.bytes += len;
            delivered.requests += 1;
        }
        self.progress.done(&batch.key);
        let truncated = match (encoded.truncated, total) {
            (0, 0) => Some("the batch has no records; nothing was sent".into()),
            (0, _) => None,
            (n, _) => Some(format!(
                "{n} record(s) exceeded Datadog's {} byte log limit; their message was \
                 truncated and the entry marked `outflow_truncated` and `truncated:true`",
                limits::MAX_LOG_BYTES
            )),
        };
        let resumed = (skipped > 0).then(|| {
            format!(
                "{skipped} of {total} request(s) were accepted by an earlier try and not sent again"
            )
        });
        delivered.note = match (truncated, resumed) {
            (Some(t), Some(r)) => Some(format!("{t}; {r}")),
            (t, r) => t.or(r),
        };
        Ok(delivered)
    }

    async fn preflight(&self, _drain_id: &str) -> Result<(), DeliveryError> {
        if self.custom_intake {
            ssrf::check_host_resolves(&self.intake, self.allow_private)
                .await
                .map_err(|e| {
                    DeliveryError::permanent(None, format!("the Datadog intake URL: {e}"))
                })?;
        }
        let response = self
            .client
            .get(self.validate.clone())
            .header("DD-API-KEY", self.api_key.clone())
            .send()
            .await
            .map_err(|e| {
                self.scrub(connection_error(
                    "the Datadog API",
                    &e,
                    &self.validate,
                    self.timeout,
                ))
            })?;
        let status = response.status().as_u16();
        let e = match status {
            200..=299 => return Ok(()),
            403 => DeliveryError::permanent(
                Some(403),
                format!(
                    "Datadog rejected the API key (site {}); check the key and the site",
                    self.site.site
                ),
            ),
            s if status_is_transient(s) => DeliveryError::transient(
                Some(s),
                format!("validating the Datadog API key answered HTTP {s}"),
            ),
            s => DeliveryError::permanent(
                Some(s),
                format!("validating the Datadog API key answered HTTP {s}"),
            ),
        };
        Err(self.scrub(e))
    }

    fn max_records(&self) -> usize {
        limits::MAX_RECORDS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ctx(allow_private: bool) -> DestContext {
        DestContext {
            allow_private,
            request_timeout: Duration::from_secs(5),
        }
    }

    fn config(site: &str, tags: &[&str], intake_url: Option<&str>) -> DestinationConfig {
        DestinationConfig::Datadog {
            site: site.into(),
            service: None,
            source: Some("billing".into()),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            intake_url: intake_url.map(Into::into),
        }
    }

    fn key() -> SecretPayload {
        SecretPayload::Datadog {
            api_key: "dd-secret-api-key".into(),
        }
    }

    #[test]
    fn build_picks_the_sites_hosts_and_hides_the_key() {
        let d = build(
            &config("datadoghq.eu", &["env:prod"], None),
            &key(),
            &ctx(false),
        )
        .unwrap();
        assert_eq!(
            d.intake.as_str(),
            "https://http-intake.logs.datadoghq.eu/api/v2/logs"
        );
        assert_eq!(
            d.validate.as_str(),
            "https://api.datadoghq.eu/api/v1/validate"
        );
        assert!(!format!("{d:?}").contains("dd-secret-api-key"));
        assert_eq!(d.max_records(), 1000);

        let d = build(
            &config("US1", &[], Some("https://proxy.example/dd/api/v2/logs?x=1")),
            &key(),
            &ctx(false),
        )
        .unwrap();
        assert_eq!(d.validate.as_str(), "https://proxy.example/api/v1/validate");
    }

    #[test]
    fn build_refuses_bad_settings() {
        let err = build(&config("datadoghq.org", &[], None), &key(), &ctx(false)).unwrap_err();
        assert!(
            err.contains("us5.datadoghq.com") && err.contains("ddog-gov.com"),
            "{err}"
        );
        let err = build(&config("US1", &["a,b"], None), &key(), &ctx(false)).unwrap_err();
        assert!(err.contains("commas"), "{err}");
        let err = build(&config("US1", &["drain_id:x"], None), &key(), &ctx(false)).unwrap_err();
        assert!(err.contains("sets itself"), "{err}");
        assert!(build(&config("US1", &["schema:v2"], None), &key(), &ctx(false)).is_ok());
        let local = Some("http://127.0.0.1:9/api/v2/logs");
        let err = build(&config("US1", &[], local), &key(), &ctx(false)).unwrap_err();
        assert!(err.contains("allow_private_destinations"), "{err}");
        assert!(build(&config("US1", &[], local), &key(), &ctx(true)).is_ok());
        let empty = SecretPayload::Datadog {
            api_key: " ".into(),
        };
        assert!(build(&config("US1", &[], None), &empty, &ctx(false)).is_err());
    }
}
