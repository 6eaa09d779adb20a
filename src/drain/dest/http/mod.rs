//! The custom HTTP endpoint destination (docs/spec.md §5): POSTs each batch as a JSON envelope,
//! NDJSON or OTLP/HTTP logs (see `otlp` for that mapping), signed, optionally gzipped.
//!
//! - `encode` — bodies, and the split of a batch under `max_body_bytes`;
//! - `otlp` — the OTLP logs mapping and partial-success responses;
//! - `sign` — `X-Outflow-Signature` and the Standard Webhooks signature.
//!
//! Every request carries `Content-Type`, `X-Outflow-Drain-Id`, `X-Outflow-Data-Type` and
//! `X-Outflow-Schema` (the records' schema, `credit_logs@1`; see `domain::schema`), the
//! batch's place in its sequence — `X-Outflow-Batch-Seq`, `X-Outflow-Batch-Prev` (absent on
//! the first batch) and `X-Outflow-Batch-Space` (`live`, `replay:{id}`, `test`; see
//! `batch::Chain`; a split batch's parts share them) — none of these on preflight probes,
//! which carry no batch; `Authorization` when set, and with signing
//! secrets `X-Outflow-Signature` and `webhook-signature`; always `webhook-id` and
//! `webhook-timestamp`. `webhook-id` is the batch key — or `{key}-{n}` for part `n` of a batch
//! split under the byte cap — so it is the same on every retry and a receiver can drop
//! duplicates; a failed part fails the delivery and the whole batch is sent again, parts that
//! had arrived included. `webhook-timestamp` is the time of sending, so a retry carries a
//! fresh one (receivers reject stale timestamps). Signatures cover the exact bytes sent: the
//! compressed body when gzip is on.
//!
//! Secrets stay out of errors and `Debug`: the URL is shown as `scheme://host[:port]` only
//! (webhook URLs carry their token in the path or the query; see [`describe`]), header values
//! are never echoed, and a response body quoted in an error has the authorization value and
//! the URL's secret parts cut out (some receivers echo requests).

mod encode;
mod otlp;
mod sign;

use super::config::{HttpFormat, OtlpEncoding};
use super::describe::{self, Redactor, quote};
use super::{
    Delivered, DeliveryError, DestContext, Destination, DestinationConfig, SecretPayload,
    parse_retry_after, status_is_transient,
};
use crate::domain::{DataType, schema};
use crate::drain::batch::{Batch, Chain};
use crate::drain::ssrf;
use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderValue};
use std::io::Write as _;

/// Most records one request batch may hold.
const MAX_RECORDS: usize = 1000;
/// Most response-body bytes read: enough for any partial-success answer or error page head.
const RESPONSE_READ_LIMIT: usize = 64 * 1024;

/// A custom HTTP endpoint, ready to deliver.
pub struct HttpDestination {
    client: reqwest::Client,
    url: url::Url,
    /// `scheme://host[:port]` of `url`: what messages may show.
    shown_url: String,
    /// The client's request timeout, for messages.
    timeout: std::time::Duration,
    authorization: Option<HeaderValue>,
    /// The authorization value and its credential part, and the URL's secret parts: cut out
    /// of every message.
    redact: Redactor,
    signer: sign::Signer,
    format: HttpFormat,
    otlp_encoding: OtlpEncoding,
    gzip: bool,
    max_body_bytes: usize,
}

/// Never prints the authorization, the secrets, or the URL's query and userinfo.
impl std::fmt::Debug for HttpDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpDestination")
            .field("url", &self.shown_url)
            .field("format", &self.format)
            .field("otlp_encoding", &self.otlp_encoding)
            .field("gzip", &self.gzip)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("authorization", &self.authorization.as_ref().map(|_| "…"))
            .field("signing_secrets", &self.signer.len())
            .finish()
    }
}

/// Builds the HTTP destination of `config` with the URL and credentials of `secret`.
pub fn build(
    config: &DestinationConfig,
    secret: &SecretPayload,
    ctx: &DestContext,
) -> Result<HttpDestination, String> {
    let DestinationConfig::Http {
        format,
        otlp_encoding,
        gzip,
        max_body_bytes,
    } = config
    else {
        return Err(format!("not an HTTP destination: `{}`", config.kind()));
    };
    let SecretPayload::Http {
        url,
        authorization,
        signing_secrets,
    } = secret
    else {
        return Err(format!(
            "an HTTP destination needs a secret of kind `http`, not `{}`",
            secret.kind()
        ));
    };
    // url's parse errors describe the problem without quoting the input.
    let url = url::Url::parse(url.trim())
        .map_err(|e| format!("the destination URL is not a valid URL: {e}"))?;
    ssrf::check_url(&url, ctx.allow_private)?;
    if *max_body_bytes == 0 {
        return Err("max_body_bytes must be at least 1".into());
    }
    let (authorization, redact) = match authorization.as_deref().filter(|a| !a.is_empty()) {
        None => (None, vec![]),
        Some(a) => {
            let mut value = HeaderValue::from_str(a).map_err(|_| {
                "the authorization value is not a valid HTTP header value (control characters \
                 or non-ASCII text)"
                    .to_string()
            })?;
            value.set_sensitive(true);
            let mut redact = vec![a.to_owned()];
            // `Bearer abc`: the credential alone may be echoed too.
            if let Some((_, credential)) = a.split_once(' ')
                && credential.trim().len() >= 4
            {
                redact.push(credential.trim().to_owned());
            }
            (Some(value), redact)
        }
    };
    Ok(HttpDestination {
        client: ssrf::client(ctx.allow_private, ctx.request_timeout),
        shown_url: describe::display(&url),
        redact: Redactor::new(redact).with_url(&url),
        url,
        timeout: ctx.request_timeout,
        authorization,
        signer: sign::Signer::new(signing_secrets)?,
        format: *format,
        otlp_encoding: *otlp_encoding,
        gzip: *gzip,
        max_body_bytes: *max_body_bytes,
    })
}

/// What a 2xx answer carried.
struct Answer {
    status: u16,
    wire_bytes: u64,
    content_type: Option<String>,
    body: Vec<u8>,
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4 + 64),
        flate2::Compression::default(),
    );
    enc.write_all(body).expect("writing to memory succeeds");
    enc.finish().expect("writing to memory succeeds")
}

fn unix_now_nanos() -> u64 {
    otlp::unix_nanos(chrono::Utc::now())
}

/// Reads at most [`RESPONSE_READ_LIMIT`] bytes; a body cut short is still worth quoting.
async fn read_limited(mut resp: reqwest::Response) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        let room = RESPONSE_READ_LIMIT - out.len();
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= RESPONSE_READ_LIMIT {
            break;
        }
    }
    out
}

impl HttpDestination {
    /// POSTs one JSON event (a scheduled export's completion) signed like a batch, under
    /// `webhook_id`; `sender_id` goes in `X-Outflow-Drain-Id`. The answer's status.
    pub async fn post_event(
        &self,
        sender_id: &str,
        webhook_id: &str,
        body: Vec<u8>,
    ) -> Result<u16, DeliveryError> {
        Ok(self
            .send(sender_id, None, webhook_id, body, false)
            .await?
            .status)
    }

    fn content_type(&self) -> &'static str {
        match (self.format, self.otlp_encoding) {
            (HttpFormat::Json, _) => "application/json",
            (HttpFormat::Ndjson, _) => "application/x-ndjson",
            (HttpFormat::Otlp, OtlpEncoding::Protobuf) => "application/x-protobuf",
            (HttpFormat::Otlp, OtlpEncoding::Json) => "application/json",
        }
    }

    /// The headers of one request whose wire body is `wire`.
    fn headers(
        &self,
        drain_id: &str,
        about: Option<(DataType, &Chain)>,
        webhook_id: &str,
        timestamp: i64,
        wire: &[u8],
    ) -> Result<HeaderMap, DeliveryError> {
        let value = |name: &str, v: &str| {
            HeaderValue::from_str(v).map_err(|_| {
                DeliveryError::permanent(None, format!("the {name} is not a valid header value"))
            })
        };
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type()));
        if self.gzip {
            h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        h.insert("x-outflow-drain-id", value("drain id", drain_id)?);
        if let Some((dt, chain)) = about {
            h.insert("x-outflow-data-type", HeaderValue::from_static(dt.as_str()));
            h.insert("x-outflow-schema", value("schema name", &schema::name(dt))?);
            h.insert("x-outflow-batch-seq", HeaderValue::from(chain.seq));
            if let Some(prev) = &chain.prev {
                h.insert("x-outflow-batch-prev", value("previous batch key", prev)?);
            }
            h.insert(
                "x-outflow-batch-space",
                value("sequence space", &chain.space)?,
            );
        }
        if let Some(auth) = &self.authorization {
            h.insert(AUTHORIZATION, auth.clone());
        }
        h.insert("webhook-id", value("batch key", webhook_id)?);
        h.insert("webhook-timestamp", HeaderValue::from(timestamp));
        if let Some(sig) = self.signer.outflow_signature(wire) {
            h.insert("x-outflow-signature", value("signature", &sig)?);
        }
        if let Some(sig) = self.signer.webhook_signature(webhook_id, timestamp, wire) {
            h.insert("webhook-signature", value("signature", &sig)?);
        }
        Ok(h)
    }

    /// POSTs one body; `Ok` on 2xx. Every error's message is scrubbed.
    async fn send(
        &self,
        drain_id: &str,
        about: Option<(DataType, &Chain)>,
        webhook_id: &str,
        body: Vec<u8>,
        preflight: bool,
    ) -> Result<Answer, DeliveryError> {
        self.send_unscrubbed(drain_id, about, webhook_id, body, preflight)
            .await
            .map_err(|e| self.redact.error(e))
    }

    async fn send_unscrubbed(
        &self,
        drain_id: &str,
        about: Option<(DataType, &Chain)>,
        webhook_id: &str,
        body: Vec<u8>,
        preflight: bool,
    ) -> Result<Answer, DeliveryError> {
        let wire = if self.gzip { gzip(&body) } else { body };
        let wire_bytes = wire.len() as u64;
        let timestamp = chrono::Utc::now().timestamp();
        let mut headers = self.headers(drain_id, about, webhook_id, timestamp, &wire)?;
        if preflight {
            headers.insert("x-outflow-preflight", HeaderValue::from_static("1"));
        }
        let sent = self
            .client
            .post(self.url.clone())
            .headers(headers)
            .body(wire)
            .send()
            .await;
        let resp = sent.map_err(|e| DeliveryError::request(&e, &self.url, self.timeout))?;
        let status = resp.status().as_u16();
        let header = |name| {
            resp.headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header(CONTENT_TYPE);
        let retry_after = header(reqwest::header::RETRY_AFTER)
            .as_deref()
            .and_then(parse_retry_after);
        let location = header(reqwest::header::LOCATION);
        let body = read_limited(resp).await;
        if (200..300).contains(&status) {
            return Ok(Answer {
                status,
                wire_bytes,
                content_type,
                body,
            });
        }
        let mut message = describe::http_message(status, &self.shown_url, &body);
        if (300..400).contains(&status) {
            message.push_str(" (a redirect");
            if let Some(to) = location.as_deref().and_then(|l| self.url.join(l).ok()) {
                message.push_str(" to ");
                message.push_str(&describe::display(&to));
            }
            message.push_str("; redirects are not followed, so use the final URL)");
        }
        Err(if status_is_transient(status) {
            DeliveryError::transient(Some(status), message).with_retry_after(retry_after)
        } else {
            DeliveryError::permanent(Some(status), message)
        })
    }

    /// `(rejected, note)` from an OTLP answer.
    fn partial_success(&self, answer: &Answer) -> Option<(u64, String)> {
        if self.format != HttpFormat::Otlp {
            return None;
        }
        let (rejected, message) = otlp::partial_success(
            self.otlp_encoding,
            answer.content_type.as_deref(),
            &answer.body,
        )?;
        let message = self.redact.scrub(&quote(message.as_bytes()));
        let note = match (rejected, message.is_empty()) {
            (0, _) => format!("the receiver warned: {message}"),
            (n, true) => format!("the receiver rejected {n} records"),
            (n, false) => format!("the receiver rejected {n} records: {message}"),
        };
        Some((rejected as u64, note))
    }
}

#[async_trait::async_trait]
impl Destination for HttpDestination {
    async fn deliver(&self, batch: &Batch) -> Result<Delivered, DeliveryError> {
        let body = encode::prepare(self.format, self.otlp_encoding, batch, unix_now_nanos());
        let chunks = body
            .chunks(self.max_body_bytes)
            .map_err(|m| DeliveryError::permanent(None, m))?;
        // An empty batch has no parts and sends nothing: there is nothing to acknowledge.
        let parts = chunks.len();
        let mut delivered = Delivered::default();
        let mut notes = vec![];
        for (n, range) in chunks.into_iter().enumerate() {
            let webhook_id = if parts == 1 {
                batch.key.clone()
            } else {
                format!("{}-{}", batch.key, n + 1)
            };
            let answer = self
                .send(
                    &batch.drain_id,
                    Some((batch.data_type, &batch.chain)),
                    &webhook_id,
                    body.bytes(range),
                    false,
                )
                .await
                .map_err(|mut e| {
                    if parts > 1 {
                        e.message = format!("part {} of {parts}: {}", n + 1, e.message);
                    }
                    e
                })?;
            delivered.status = Some(answer.status);
            delivered.bytes += answer.wire_bytes;
            delivered.requests += 1;
            if let Some((rejected, note)) = self.partial_success(&answer) {
                delivered.rejected += rejected;
                notes.push(if parts > 1 {
                    format!("part {} of {parts}: {note}", n + 1)
                } else {
                    note
                });
            }
        }
        if !notes.is_empty() {
            delivered.note = Some(notes.join("; "));
        }
        Ok(delivered)
    }

    async fn preflight(&self, drain_id: &str) -> Result<(), DeliveryError> {
        let body = match self.format {
            HttpFormat::Json | HttpFormat::Ndjson => {
                let mut probe = serde_json::to_vec(&serde_json::json!({
                    "source": "outflow",
                    "type": "outflow.preflight",
                    "drain_id": drain_id,
                }))
                .expect("JSON values serialize");
                if self.format == HttpFormat::Ndjson {
                    probe.push(b'\n');
                }
                probe
            }
            HttpFormat::Otlp => otlp::empty_request(self.otlp_encoding),
        };
        let id = format!("preflight-{}", uuid::Uuid::new_v4());
        self.send(drain_id, None, &id, body, true).await.map(|_| ())
    }

    fn max_records(&self) -> usize {
        MAX_RECORDS
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

    fn config(format: HttpFormat, gzip: bool) -> DestinationConfig {
        DestinationConfig::Http {
            format,
            otlp_encoding: OtlpEncoding::Protobuf,
            gzip,
            max_body_bytes: 1 << 20,
        }
    }

    fn secret(url: &str, authorization: Option<&str>, secrets: &[&str]) -> SecretPayload {
        SecretPayload::Http {
            url: url.into(),
            authorization: authorization.map(str::to_owned),
            signing_secrets: secrets.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn header_set() {
        let d = build(
            &config(HttpFormat::Ndjson, true),
            &secret(
                "http://127.0.0.1:9/in",
                Some("Bearer tok_123456"),
                &["a", "b"],
            ),
            &ctx(true),
        )
        .unwrap();
        let h = d
            .headers(
                "drn_1",
                Some((
                    DataType::AuditLogs,
                    &Chain::live(3, Some("drn_1-1-2".into())),
                )),
                "key-1",
                1_700_000_000,
                b"body",
            )
            .unwrap();
        let mut names: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "authorization",
                "content-encoding",
                "content-type",
                "webhook-id",
                "webhook-signature",
                "webhook-timestamp",
                "x-outflow-batch-prev",
                "x-outflow-batch-seq",
                "x-outflow-batch-space",
                "x-outflow-data-type",
                "x-outflow-drain-id",
                "x-outflow-schema",
                "x-outflow-signature",
            ]
        );
        assert_eq!(h["x-outflow-schema"], "audit_logs@1");
        assert_eq!(h["x-outflow-batch-seq"], "3");
        assert_eq!(h["x-outflow-batch-prev"], "drn_1-1-2");
        assert_eq!(h["x-outflow-batch-space"], "live");
        assert_eq!(h["content-type"], "application/x-ndjson");
        assert_eq!(h["content-encoding"], "gzip");
        assert_eq!(h["x-outflow-data-type"], "audit_logs");
        assert_eq!(h["webhook-id"], "key-1");
        assert_eq!(h["webhook-timestamp"], "1700000000");
        assert!(h["authorization"].is_sensitive());
        let sigs = h["webhook-signature"].to_str().unwrap();
        assert_eq!(sigs.split(' ').count(), 2);
        assert_eq!(h["x-outflow-signature"].len(), 64);

        // Without secrets, authorization or gzip, and without a data type (preflight).
        let d = build(
            &config(HttpFormat::Json, false),
            &secret("http://127.0.0.1:9/in", None, &[]),
            &ctx(true),
        )
        .unwrap();
        let h = d.headers("drn_1", None, "key-1", 1, b"{}").unwrap();
        let mut names: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "content-type",
                "webhook-id",
                "webhook-timestamp",
                "x-outflow-drain-id"
            ]
        );
        assert_eq!(h["content-type"], "application/json");
    }

    #[test]
    fn content_types() {
        for (format, encoding, expected) in [
            (HttpFormat::Json, OtlpEncoding::Protobuf, "application/json"),
            (
                HttpFormat::Ndjson,
                OtlpEncoding::Json,
                "application/x-ndjson",
            ),
            (
                HttpFormat::Otlp,
                OtlpEncoding::Protobuf,
                "application/x-protobuf",
            ),
            (HttpFormat::Otlp, OtlpEncoding::Json, "application/json"),
        ] {
            let cfg = DestinationConfig::Http {
                format,
                otlp_encoding: encoding,
                gzip: false,
                max_body_bytes: 10,
            };
            let d = build(
                &cfg,
                &secret("https://example.com/", None, &[]),
                &ctx(false),
            )
            .unwrap();
            assert_eq!(d.content_type(), expected);
        }
    }

    #[test]
    fn build_errors_keep_secrets_out() {
        let cfg = config(HttpFormat::Json, false);
        let url = "https://user:pa55word@hooks.example.com/in?token=s3cr3t-token#frag";
        let d = build(
            &cfg,
            &secret(url, Some("Bearer abcdefgh"), &["whsec_c2VjcmV0"]),
            &ctx(false),
        )
        .unwrap();
        let debug = format!("{d:?}");
        for secret in ["pa55word", "s3cr3t-token", "abcdefgh", "c2VjcmV0", "user"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        assert!(
            debug.contains("https://hooks.example.com") && !debug.contains("/in"),
            "{debug}"
        );

        let err = build(&cfg, &secret("not a url s3cr3t", None, &[]), &ctx(false)).unwrap_err();
        assert!(!err.contains("s3cr3t"), "{err}");
        let err = build(
            &cfg,
            &secret("https://x.example/", Some("Bearer a\nb-s3cr3t"), &[]),
            &ctx(false),
        )
        .unwrap_err();
        assert!(
            err.contains("authorization") && !err.contains("s3cr3t"),
            "{err}"
        );
        let err = build(
            &cfg,
            &secret("https://x.example/", None, &["ok", "whsec_!!s3cr3t"]),
            &ctx(false),
        )
        .unwrap_err();
        assert!(
            err.contains("signing secret 2") && !err.contains("s3cr3t"),
            "{err}"
        );
        let err = build(
            &cfg,
            &secret("http://10.0.0.8/hook", None, &[]),
            &ctx(false),
        )
        .unwrap_err();
        assert!(err.contains("allow_private_destinations"), "{err}");
        let err = build(&cfg, &secret("ftp://x.example/", None, &[]), &ctx(false)).unwrap_err();
        assert!(err.contains("`http` or `https`"), "{err}");
        let zero = DestinationConfig::Http {
            format: HttpFormat::Json,
            otlp_encoding: OtlpEncoding::Protobuf,
            gzip: false,
            max_body_bytes: 0,
        };
        assert!(build(&zero, &secret("https://x.example/", None, &[]), &ctx(false)).is_err());
        let wrong = SecretPayload::Datadog {
            api_key: "dd-s3cr3t".into(),
        };
        let err = build(&cfg, &wrong, &ctx(false)).unwrap_err();
        assert!(!err.contains("s3cr3t"), "{err}");
    }

    #[test]
    fn quotes_are_redacted_and_urls_shown_without_path() {
        assert_eq!(quote(b"  a \n\t b "), "a b");
        let d = build(
            &config(HttpFormat::Json, false),
            &secret(
                "https://u:p@h.example:8443/services/T0/B0/hook_s3cr3t?x=1#f",
                Some("Bearer tok_secret_value"),
                &[],
            ),
            &ctx(false),
        )
        .unwrap();
        assert_eq!(d.shown_url, "https://h.example:8443");
        let text = d.redact.scrub(
            "got Authorization: Bearer tok_secret_value and tok_secret_value for \
             POST /services/T0/B0/hook_s3cr3t",
        );
        assert!(
            !text.contains("tok_secret_value") && !text.contains("hook_s3cr3t"),
            "{text}"
        );
    }

    #[test]
    fn gzip_round_trips() {
        use std::io::Read as _;
        let z = gzip(b"hello hello hello");
        let mut out = String::new();
        flate2::read::GzDecoder::new(&z[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "hello hello hello");
    }
}
