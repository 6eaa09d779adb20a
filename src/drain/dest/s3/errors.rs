//! How object_store failures become [`DeliveryError`]s: which are permanent (credentials,
//! permissions, a missing bucket, a refused address, a redirect from the wrong region) and
//! which transient (connection errors, timeouts, 408, 429, 5xx), with a message that says
//! which step failed and carries S3's error code — never a credential.

use crate::drain::dest::{DeliveryError, status_is_transient};
use crate::drain::ssrf;
use std::error::Error as _;

/// Removes the destination's credentials from any text before it leaves the destination.
/// S3 error bodies can echo the access key id (`SignatureDoesNotMatch`).
pub use crate::drain::dest::describe::Redactor;

/// Display of the error and of each of its sources, outermost first.
fn chain(err: &object_store::Error) -> Vec<String> {
    let mut out = vec![err.to_string()];
    let mut source = err.source();
    while let Some(e) = source {
        out.push(e.to_string());
        source = e.source();
    }
    out
}

fn refusal(err: &object_store::Error) -> Option<String> {
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<ssrf::Refused>() {
            return Some(refused.0.clone());
        }
        source = e.source();
    }
    None
}

/// The HTTP status object_store quotes in its message ("…status code: 503 …"), for the
/// statuses it has no error variant for.
fn quoted_status(text: &str) -> Option<u16> {
    let at = text.find("status code: ")? + "status code: ".len();
    text.get(at..at + 3)?.parse().ok()
}

fn xml_element<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = text.find(&open)? + open.len();
    let len = text[start..].find(&format!("</{name}>"))?;
    Some(text[start..start + len].trim()).filter(|s| !s.is_empty())
}

/// `" (HTTP 403 AccessDenied: Access Denied)"` from S3's XML error, as far as it is there.
fn detail(status: u16, text: &str) -> String {
    let code = xml_element(text, "Code");
    let message = xml_element(text, "Message").map(|m| m.chars().take(300).collect::<String>());
    match (code, message) {
        (Some(c), Some(m)) => format!(" (HTTP {status} {c}: {m})"),
        (Some(c), None) => format!(" (HTTP {status} {c})"),
        _ => format!(" (HTTP {status})"),
    }
}

/// Classifies the failure of `step` (e.g. "writing the object `…`").
pub fn classify(step: &str, err: &object_store::Error, redact: &Redactor) -> DeliveryError {
    use object_store::Error as E;
    let texts = chain(err);
    let all = texts.join(" | ");
    let e = if let Some(refused) = refusal(err) {
        DeliveryError::permanent(None, format!("{step} failed: {refused}"))
    } else {
        match err {
            E::PermissionDenied { .. } => DeliveryError::permanent(
                Some(403),
                format!(
                    "{step} was refused{}: the credentials are wrong or lack permission",
                    detail(403, &all)
                ),
            ),
            E::Unauthenticated { .. } => DeliveryError::permanent(
                Some(401),
                format!(
                    "{step} was refused{}: the credentials were not accepted",
                    detail(401, &all)
                ),
            ),
            E::NotFound { .. } => DeliveryError::permanent(
                Some(404),
                format!("{step} failed{}: does the bucket exist?", detail(404, &all)),
            ),
            E::Precondition { .. } | E::AlreadyExists { .. } | E::NotModified { .. } => {
                let status = quoted_status(&all);
                DeliveryError::permanent(status, format!("{step} failed: {}", texts[0]))
            }
            E::InvalidPath { .. }
            | E::NotSupported { .. }
            | E::NotImplemented { .. }
            | E::UnknownConfigurationKey { .. } => {
                DeliveryError::permanent(None, format!("{step} failed: {}", texts[0]))
            }
            _ => match quoted_status(&all) {
                Some(status) if (300..400).contains(&status) => DeliveryError::permanent(
                    Some(status),
                    format!(
                        "{step} failed: the endpoint answered with a redirect (HTTP {status}); \
                         check the bucket's region and the endpoint"
                    ),
                ),
                Some(status) if status_is_transient(status) => DeliveryError::transient(
                    Some(status),
                    format!("{step} failed{}", detail(status, &all)),
                ),
                Some(status) => DeliveryError::permanent(
                    Some(status),
                    format!("{step} failed{}", detail(status, &all)),
                ),
                None if all.contains("redirect without LOCATION") => DeliveryError::permanent(
                    None,
                    format!(
                        "{step} failed: the endpoint answered with a redirect; check the \
                         bucket's region"
                    ),
                ),
                // No response at all: connection refused or reset, DNS, a timeout.
                None => DeliveryError::transient(
                    None,
                    format!("{step} failed: {}", texts.last().expect("never empty")),
                ),
            },
        }
    };
    DeliveryError {
        message: redact.scrub(&e.message),
        ..e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redactor_and_parsing() {
        let r = Redactor::new(["AKIA123".to_string(), String::new()]);
        assert_eq!(r.scrub("key AKIA123 here"), "key [redacted] here");
        assert_eq!(
            quoted_status("Server returned non-2xx status code: 503 Slow"),
            Some(503)
        );
        assert_eq!(quoted_status("nothing"), None);
        let body = "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
        assert_eq!(detail(403, body), " (HTTP 403 AccessDenied: Access Denied)");
        assert_eq!(detail(500, "plain"), " (HTTP 500)");
    }

    fn generic(text: &str) -> object_store::Error {
        object_store::Error::Generic {
            store: "S3",
            source: text.to_string().into(),
        }
    }

    #[test]
    fn failures_are_classified() {
        let r = Redactor::new(["AKIA123".to_string()]);
        // s3s-fs creates missing buckets on write, so this one is only checked here.
        let missing = object_store::Error::NotFound {
            path: "k".into(),
            source: "Server returned non-2xx status code: 404 Not Found: \
                     <Error><Code>NoSuchBucket</Code></Error>"
                .into(),
        };
        let e = classify("writing the object `k`", &missing, &r);
        assert!(e.permanent && e.status == Some(404), "{e:?}");
        assert!(e.message.contains("NoSuchBucket"), "{}", e.message);

        let slow = generic(
            "Error performing PUT http://h/b/k in 3ms - Server returned non-2xx status code: \
             503 Service Unavailable: <Error><Code>SlowDown</Code><Message>Reduce your \
             request rate for AKIA123</Message></Error>",
        );
        let e = classify("writing the object `k`", &slow, &r);
        assert!(!e.permanent && e.status == Some(503), "{e:?}");
        assert_eq!(
            e.message,
            "writing the object `k` failed (HTTP 503 SlowDown: Reduce your request rate for \
             [redacted])"
        );

        let bad = generic("Server returned non-2xx status code: 400 Bad Request: <Error/>");
        assert!(classify("s", &bad, &r).permanent);
        let moved = generic("Server returned non-2xx status code: 301 Moved Permanently: ");
        let e = classify("s", &moved, &r);
        assert!(e.permanent && e.message.contains("region"), "{e:?}");
        let down = generic("HTTP error: error sending request");
        let e = classify("s", &down, &r);
        assert!(!e.permanent && e.status.is_none(), "{e:?}");
    }
}
