//! The S3 destination's HTTP transport: object_store's requests go out through the guarded
//! client every destination uses ([`ssrf::client`]) instead of object_store's own.
//!
//! object_store's built-in client follows redirects and honours the system proxy, both of
//! which step around the SSRF guard (a `307` to an IP literal never meets a resolver). The
//! guarded client follows no redirects, ignores proxies and vets every resolved address at
//! connect time, so an S3 endpoint gets the same protection as an HTTP destination — not just
//! the check-then-connect of [`ssrf::check_host_resolves`].
//!
//! Bodies are buffered: the destination only reads manifests, which are small.

use crate::drain::dest::{DeliveryError, DestContext};
use crate::drain::ssrf;
use object_store::ClientOptions;
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest, HttpResponse,
    HttpResponseBody, HttpService,
};

/// Hands object_store a client built on [`ssrf::client`].
#[derive(Debug)]
pub struct GuardedConnector {
    client: reqwest::Client,
    allow_private: bool,
    timeout: std::time::Duration,
}

impl GuardedConnector {
    /// A connector with the context's timeout and private-address policy.
    pub fn new(ctx: &DestContext) -> GuardedConnector {
        GuardedConnector {
            client: ssrf::client(ctx.allow_private, ctx.request_timeout),
            allow_private: ctx.allow_private,
            timeout: ctx.request_timeout,
        }
    }
}

impl HttpConnector for GuardedConnector {
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        Ok(HttpClient::new(GuardedService {
            client: self.client.clone(),
            allow_private: self.allow_private,
            timeout: self.timeout,
        }))
    }
}

#[derive(Debug)]
struct GuardedService {
    client: reqwest::Client,
    allow_private: bool,
    timeout: std::time::Duration,
}

#[async_trait::async_trait]
impl HttpService for GuardedService {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let (parts, body) = req.into_parts();
        let url = url::Url::parse(&parts.uri.to_string())
            .map_err(|e| HttpError::new(HttpErrorKind::Unknown, e))?;
        // IP-literal hosts never reach the resolver; the endpoint was checked when the
        // destination was built, this keeps every request honest all the same.
        ssrf::check_url(&url, self.allow_private)
            .map_err(|m| HttpError::new(HttpErrorKind::Connect, ssrf::Refused(m)))?;
        let mut request = reqwest::Request::new(parts.method, url.clone());
        *request.headers_mut() = parts.headers;
        *request.body_mut() = Some(match body.as_bytes() {
            Some(bytes) => reqwest::Body::from(bytes.clone()),
            None => reqwest::Body::wrap(body),
        });
        let response = self
            .client
            .execute(request)
            .await
            .map_err(|e| self.no_answer(e, &url))?;
        let status = response.status();
        let version = response.version();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(http_error)?;
        let mut out = HttpResponse::new(HttpResponseBody::from(bytes));
        *out.status_mut() = status;
        *out.version_mut() = version;
        *out.headers_mut() = headers;
        Ok(out)
    }
}

/// A request that got no response, said in one sentence (see [`DeliveryError::request`]):
/// object_store's own chain ends in the HTTP client's raw causes.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct NoAnswer(String);

impl GuardedService {
    fn no_answer(&self, e: reqwest::Error, url: &url::Url) -> HttpError {
        let said = DeliveryError::request(&e, url, self.timeout);
        if said.permanent {
            // The SSRF guard's refusal: its type in the chain is what makes it permanent.
            return http_error(e);
        }
        HttpError::new(kind(&e), NoAnswer(said.message))
    }
}

fn kind(e: &reqwest::Error) -> HttpErrorKind {
    if e.is_timeout() {
        HttpErrorKind::Timeout
    } else if e.is_connect() {
        HttpErrorKind::Connect
    } else if e.is_request() || e.is_body() {
        HttpErrorKind::Request
    } else if e.is_decode() {
        HttpErrorKind::Decode
    } else {
        HttpErrorKind::Unknown
    }
}

fn http_error(e: reqwest::Error) -> HttpError {
    HttpError::new(kind(&e), e.without_url())
}
