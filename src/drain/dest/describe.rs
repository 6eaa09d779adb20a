//! How a destination appears in what people read: API answers, stored delivery errors and
//! status reasons, logs and emails.
//!
//! - [`display`] — a destination URL as `scheme://host[:port]`. Never the path, query or
//!   userinfo: webhook URLs often carry their credential there (Slack's
//!   `/services/T…/B…/<secret>`, `?token=…`), and whoever can read a drain is not
//!   necessarily whoever may post to its receiver.
//! - [`Redactor`] — cuts credentials, and every form of a destination URL's secret parts, out
//!   of free text a receiver sent back (some echo the request line or the URL).
//! - [`hide_url_paths`] — every `http(s)://…` URL in a text cut to its [`display`] form:
//!   applied when stored error texts are read, so rows written before destinations showed
//!   themselves this way (or text a destination quoted from elsewhere) show no path either.
//! - [`http_message`] — "HTTP 403 from https://host: <first bytes of the body>".
//! - [`DeliveryError::request`] — one sentence for a request that got no response
//!   ("connection refused at host:port", "TLS error with host:port: …", "timed out after
//!   5 s …", "could not resolve host `…`") instead of the client's raw error chain.

use super::DeliveryError;
use crate::drain::ssrf;
use std::error::Error as StdError;
use std::time::Duration;

/// Most characters of a response body quoted in a message.
pub const QUOTE_CHARS: usize = 200;

/// Path segments and query values at least this long are treated as possible tokens and
/// redacted wherever they appear (shorter ones are words like `hooks` or `v1`).
const TOKEN_MIN_CHARS: usize = 8;

/// `url` as it may be shown: `scheme://host`, with the port when the URL names one.
pub fn display(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// `host:port` of `url`, the port made explicit (the scheme's default when absent).
pub fn host_port(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// `text` with every `http://` or `https://` URL in it shown as [`display`] shows it.
/// Punctuation that ends a sentence (`.`, `,`, `:`, `)` …) is kept after the URL.
pub fn hide_url_paths(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = ["http://", "https://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        out.push_str(&rest[..at]);
        let run_len = rest[at..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .unwrap_or(rest.len() - at);
        let run = &rest[at..at + run_len];
        let url_part = run.trim_end_matches(['.', ',', ';', ':', ')', ']', '}', '!', '?']);
        match url::Url::parse(url_part) {
            Ok(url) if url.host_str().is_some() => {
                out.push_str(&display(&url));
                out.push_str(&run[url_part.len()..]);
            }
            _ => out.push_str(run),
        }
        rest = &rest[at + run_len..];
    }
    out.push_str(rest);
    out
}

/// Removes secrets from free text before it is stored, logged or answered.
#[derive(Clone, Default)]
pub struct Redactor(Vec<String>);

/// Never prints what it redacts.
impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} values)", self.0.len())
    }
}

impl Redactor {
    /// Redacts each of `secrets` (empty ones are ignored).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Redactor {
        let mut r = Redactor::default();
        r.extend(secrets);
        r
    }

    fn extend(&mut self, secrets: impl IntoIterator<Item = String>) {
        self.0
            .extend(secrets.into_iter().filter(|s| !s.trim().is_empty()));
        // Longest first, so a whole URL is cut before its path would leave the host dangling
        // next to `[redacted]` twice.
        self.0
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        self.0.dedup();
    }

    /// Also redacts what of `url` may be secret: userinfo, path, query and fragment — whole,
    /// percent-decoded, and their token-like pieces — and the URL itself. Scheme, host and
    /// port stay readable.
    pub fn with_url(mut self, url: &url::Url) -> Redactor {
        let mut parts = vec![url.as_str().to_string()];
        let tail = &url[url::Position::BeforePath..];
        if tail != "/" {
            parts.push(tail.to_string());
            parts.push(tail.trim_start_matches('/').to_string());
        }
        let path = url.path();
        if path != "/" {
            parts.push(path.to_string());
            parts.push(path.trim_start_matches('/').to_string());
        }
        parts.extend(url.query().map(str::to_string));
        // Receivers may echo the path decoded.
        let decoded: Vec<String> = parts
            .iter()
            .filter_map(|p| percent_decode(p).ok())
            .collect();
        parts.extend(decoded);
        parts.extend(url.fragment().map(str::to_string));
        parts.extend(url.password().map(str::to_string));
        let pieces = url
            .path_segments()
            .into_iter()
            .flatten()
            .map(str::to_string)
            .chain(url.query_pairs().map(|(_, v)| v.into_owned()))
            .flat_map(|p| {
                let decoded = percent_decode(&p).ok();
                std::iter::once(p).chain(decoded)
            })
            .filter(|p| p.chars().count() >= TOKEN_MIN_CHARS);
        parts.extend(pieces.collect::<Vec<_>>());
        // Shorter parts (`/in`, `x=1`) are no credential, and cutting them would garble
        // ordinary words.
        self.extend(parts.into_iter().filter(|p| p.chars().count() >= 4));
        self
    }

    /// `text` with every secret replaced by `[redacted]`.
    pub fn scrub(&self, text: &str) -> String {
        self.0
            .iter()
            .fold(text.to_string(), |t, s| t.replace(s.as_str(), "[redacted]"))
    }

    /// `e` with its message scrubbed.
    pub fn error(&self, mut e: DeliveryError) -> DeliveryError {
        e.message = self.scrub(&e.message);
        e
    }
}

fn percent_decode(s: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
}

/// At most [`QUOTE_CHARS`] characters of `body`, whitespace collapsed.
pub fn quote(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match collapsed.char_indices().nth(QUOTE_CHARS) {
        Some((cut, _)) => format!("{}…", &collapsed[..cut]),
        None => collapsed,
    }
}

/// "HTTP 403 from https://host: <first bytes of the body>" (no colon part for an empty
/// body). `from` is a [`display`] form; the caller scrubs the result.
pub fn http_message(status: u16, from: &str, body: &[u8]) -> String {
    let quoted = quote(body);
    if quoted.is_empty() {
        format!("HTTP {status} from {from}")
    } else {
        format!("HTTP {status} from {from}: {quoted}")
    }
}

/// `5 s`, `0.3 s`.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Every cause of `err`, outermost first, including what an `io::Error` wraps (its
/// `source()` skips the wrapped error itself, which is where rustls puts TLS failures).
fn causes<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = vec![];
    let mut cur = Some(err);
    let wrapped = |e: &'a (dyn StdError + 'static)| {
        e.downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn StdError + 'static))
    };
    while let Some(e) = cur {
        out.push(e);
        // io::Errors nest (hyper-util wraps tokio-rustls's, which wraps rustls's).
        let mut inner = wrapped(e);
        while let Some(i) = inner {
            out.push(i);
            inner = wrapped(i);
        }
        cur = e.source();
    }
    out
}

/// What went wrong with a request that got no response.
enum NoAnswer {
    /// The SSRF guard refused the address; its own text says why.
    Refused(String),
    /// One sentence: what failed, where.
    Failed(String),
}

fn no_answer(err: &(dyn StdError + 'static), url: &url::Url, timeout: Duration) -> NoAnswer {
    let at = host_port(url);
    let chain = causes(err);
    if let Some(r) = chain.iter().find_map(|e| e.downcast_ref::<ssrf::Refused>()) {
        return NoAnswer::Refused(r.0.clone());
    }
    let timed_out = || {
        format!(
            "timed out after {} waiting for {}",
            seconds(timeout),
            display(url)
        )
    };
    if chain.iter().any(|e| {
        e.downcast_ref::<reqwest::Error>()
            .is_some_and(|r| r.is_timeout())
    }) {
        return NoAnswer::Failed(timed_out());
    }
    for e in &chain {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return NoAnswer::Failed(format!("TLS error with {at}: {tls}"));
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            match io.kind() {
                K::ConnectionRefused => {
                    return NoAnswer::Failed(format!("connection refused at {at}"));
                }
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => {
                    return NoAnswer::Failed(format!(
                        "the connection to {at} was reset before an answer arrived"
                    ));
                }
                K::TimedOut => return NoAnswer::Failed(timed_out()),
                K::HostUnreachable | K::NetworkUnreachable => {
                    return NoAnswer::Failed(format!("{at} is unreachable (no route)"));
                }
                _ => {}
            }
        }
    }
    let texts: Vec<String> = chain.iter().map(|e| e.to_string()).collect();
    let host = url.host_str().unwrap_or_default();
    if texts.iter().any(|t| t == "dns error") {
        return NoAnswer::Failed(format!("could not resolve host `{host}`"));
    }
    if texts.iter().any(|t| t.contains("timed out")) {
        return NoAnswer::Failed(timed_out());
    }
    if texts
        .iter()
        .any(|t| t.contains("connection closed before message completed"))
    {
        return NoAnswer::Failed(format!(
            "{at} closed the connection before an answer arrived"
        ));
    }
    // Something rarer: the innermost cause is the most specific.
    let detail = texts.last().cloned().unwrap_or_default();
    NoAnswer::Failed(format!("could not reach {}: {detail}", display(url)))
}

impl DeliveryError {
    /// A request to `url` that got no response, as one sentence: transient, or permanent
    /// when the SSRF guard refused the address (retrying cannot help until the operator or
    /// the DNS record changes). `timeout` is the client's request timeout.
    pub fn request(err: &reqwest::Error, url: &url::Url, timeout: Duration) -> DeliveryError {
        match no_answer(err, url, timeout) {
            NoAnswer::Refused(why) => DeliveryError::permanent(None, why),
            NoAnswer::Failed(what) => DeliveryError::transient(None, what),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn display_keeps_scheme_host_and_port_only() {
        let u = url("https://u:p@hooks.slack.com/services/T000/B000/XXXXSECRETXXXX?x=1#f");
        assert_eq!(display(&u), "https://hooks.slack.com");
        assert_eq!(host_port(&u), "hooks.slack.com:443");
        let u = url("http://127.0.0.1:8080/a/b");
        assert_eq!(display(&u), "http://127.0.0.1:8080");
        assert_eq!(host_port(&u), "127.0.0.1:8080");
        assert_eq!(display(&url("http://[::1]:9/x")), "http://[::1]:9");
    }

    #[test]
    fn redactor_cuts_every_form_of_the_url_secrets() {
        let u = url(
            "https://user:pw123456@h.example:8443/services/T0/B0/s3cr3tPath%21?token=tok_abcdef#frag",
        );
        let r = Redactor::new(["Bearer abc".to_string(), String::new()]).with_url(&u);
        for text in [
            u.as_str(),
            "POST /services/T0/B0/s3cr3tPath%21?token=tok_abcdef HTTP/1.1",
            "no webhook at services/T0/B0/s3cr3tPath!",
            "unknown token s3cr3tPath%21",
            "token=tok_abcdef rejected",
            "tok_abcdef",
            "auth Bearer abc",
        ] {
            let s = r.scrub(text);
            for secret in ["s3cr3tPath", "tok_abcdef", "pw123456", "Bearer abc"] {
                assert!(!s.contains(secret), "{text} → {s}");
            }
        }
        assert_eq!(
            r.scrub("connection refused at h.example:8443"),
            "connection refused at h.example:8443"
        );
        assert!(!format!("{r:?}").contains("s3cr3t"));
        // A root URL leaves ordinary text alone.
        let r = Redactor::default().with_url(&url("https://h.example/"));
        assert_eq!(r.scrub("a / b at https"), "a / b at https");
    }

    #[test]
    fn stored_texts_show_urls_without_paths() {
        assert_eq!(
            hide_url_paths(
                "could not reach http://127.0.0.1:9/services/T0/B0/s3cr3t: error (see \
                 https://u:pw@docs.example/x?token=t). Also `https://h.example/a`, http:// alone"
            ),
            "could not reach http://127.0.0.1:9: error (see https://docs.example). Also \
             `https://h.example`, http:// alone"
        );
        assert_eq!(hide_url_paths("no URL here"), "no URL here");
        assert_eq!(
            hide_url_paths("ends https://h.example/p"),
            "ends https://h.example"
        );
    }

    #[test]
    fn http_messages_quote_the_start_of_the_body() {
        assert_eq!(
            http_message(403, "https://h", b"  invalid_token \n more"),
            "HTTP 403 from https://h: invalid_token more"
        );
        assert_eq!(
            http_message(500, "https://h", b""),
            "HTTP 500 from https://h"
        );
        let long = "word ".repeat(100);
        let q = quote(long.as_bytes());
        assert_eq!(q.chars().count(), QUOTE_CHARS + 1);
        assert!(q.ends_with('…'));
    }

    #[test]
    fn seconds_read_naturally() {
        assert_eq!(seconds(Duration::from_secs(30)), "30 s");
        assert_eq!(seconds(Duration::from_millis(300)), "0.3 s");
    }

    #[tokio::test]
    async fn request_failures_become_sentences() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let target = url(&format!("http://{closed}/services/T0/B0/SECRET"));
        let client = reqwest::Client::new();
        let err = client.get(target.clone()).send().await.unwrap_err();
        let e = DeliveryError::request(&err, &target, Duration::from_secs(5));
        assert_eq!(e.message, format!("connection refused at {closed}"));
        assert!(!e.permanent);

        // A plain-HTTP listener answering a TLS handshake: a TLS error naming host and port.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt as _;
            while let Ok((mut s, _)) = listener.accept().await {
                let _ = s
                    .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        let target = url(&format!("https://{addr}/x"));
        let err = client.get(target.clone()).send().await.unwrap_err();
        let e = DeliveryError::request(&err, &target, Duration::from_secs(5));
        assert!(
            e.message.starts_with(&format!("TLS error with {addr}: ")),
            "{}",
            e.message
        );

        let target = url("http://no-such-host.invalid/x");
        let err = client.get(target.clone()).send().await.unwrap_err();
        let e = DeliveryError::request(&err, &target, Duration::from_secs(5));
        assert_eq!(e.message, "could not resolve host `no-such-host.invalid`");
    }
}
