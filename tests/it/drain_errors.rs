//! What Outflow says when a drain's destination fails, end to end on both backends: a secret
//! in the destination URL's path (Slack-style webhooks) never appears in a status reason,
//! a delivery record, a test result, a drain listing, a log line or the failure email; a
//! failed preflight says what failed in one sentence; and a secret whose URL is a private
//! address is refused when it is stored, unless the operator allows private destinations.

use crate::both_backends;
use crate::drain_support::Ctx;
use crate::helpers::*;
use crate::http_receiver::{Receiver, Reply};
use serde_json::{Value, json};

/// The credential part of a Slack-style webhook URL.
const PATH_SECRET: &str = "XoxbPathSecret0123456789";

fn webhook_path() -> String {
    format!("/services/T000/B000/{PATH_SECRET}")
}

/// Private destinations allowed (the receiver is on 127.0.0.1), fast retries and cycles.
fn fast(c: &mut outflow::config::Config) {
    c.drains.allow_private_destinations = true;
    c.drains.retry_base_ms = 20;
    c.drains.cycle_backoff_seconds = 0;
    c.drains.attempts_per_cycle = 2;
    c.drains.lease_seconds = 3;
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Ctx {
    async fn secret(&self, url: &str) -> String {
        let s = self
            .ok(
                reqwest::Method::POST,
                "/v1/secrets",
                Some(json!({"name": "webhook", "kind": "http", "url": url})),
                201,
            )
            .await;
        s["id"].as_str().unwrap().to_string()
    }

    fn drain_body(secret: &str) -> Value {
        json!({
            "name": "runs to webhook", "data_type": "workflows",
            "fields": ["run_id", "credit_cost"],
            "destination": {"type": "http", "format": "json"}, "secret_id": secret,
        })
    }
}

/// A process-wide tracing subscriber that records every event at INFO and above, so a test
/// can read what the app logged (the app's tasks run on other threads, which a thread-local
/// subscriber would not see).
mod capture {
    use std::fmt::Write as _;
    use std::sync::{Mutex, OnceLock};
    use tracing::field::{Field, Visit};
    use tracing_subscriber::Layer;
    use tracing_subscriber::filter::LevelFilter;
    use tracing_subscriber::layer::{Context, SubscriberExt as _};

    static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());
    static INSTALLED: OnceLock<bool> = OnceLock::new();

    struct Line(String);

    impl Visit for Line {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    struct Capture;

    impl<S: tracing::Subscriber> Layer<S> for Capture {
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            let meta = event.metadata();
            let mut line = Line(format!("{} {}", meta.level(), meta.target()));
            event.record(&mut line);
            LINES.lock().unwrap().push(line.0);
        }
    }

    /// Installs the subscriber once; false when another one was installed first (a run
    /// with `TEST_OUTFLOW_LOG`), and the log assertions are then skipped.
    pub fn install() -> bool {
        *INSTALLED.get_or_init(|| {
            let subscriber =
                tracing_subscriber::registry().with(Capture.with_filter(LevelFilter::INFO));
            tracing::subscriber::set_global_default(subscriber).is_ok()
        })
    }

    /// Every line recorded so far.
    pub fn lines() -> Vec<String> {
        LINES.lock().unwrap().clone()
    }
}

both_backends!(
    a_secret_in_the_url_path_appears_nowhere,
    |backend| async move {
        let logging = capture::install();
        let ctx = Ctx::new(backend, fast).await;
        let r = ctx
            .app
            .put_entity(
                "acme",
                "members",
                "adm",
                json!({"email": "admin@acme.example",
                "name": "Ada Admin", "role": "admin", "joined_at": "2025-01-01T00:00:00Z"}),
            )
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let rx = Receiver::start().await;
        let secret = ctx.secret(&format!("{}{}", rx.url, webhook_path())).await;
        let d = ctx
            .ok(
                reqwest::Method::POST,
                "/v1/drains",
                Some(Ctx::drain_body(&secret)),
                201,
            )
            .await;
        let id = d["id"].as_str().unwrap().to_string();

        // A receiver that echoes the request line: its answer is quoted, the path cut out.
        rx.reply_next(vec![Reply::status(403).body(format!(
            "no_service: POST {} is not a known webhook",
            webhook_path()
        ))]);
        let t = ctx
            .ok(
                reqwest::Method::POST,
                &format!("/v1/drains/{id}/test"),
                None,
                200,
            )
            .await;
        let error = t["error"].as_str().unwrap();
        assert!(
            error.starts_with(&format!("HTTP 403 from {}: no_service: POST ", rx.url)),
            "{t}"
        );
        assert!(!t.to_string().contains(PATH_SECRET), "{t}");

        // The webhook goes away: connection refused, with the same secret path.
        let port = closed_port();
        let gone = format!("http://127.0.0.1:{port}{}", webhook_path());
        ctx.ok(
            reqwest::Method::PUT,
            &format!("/v1/secrets/{secret}"),
            Some(json!({"name": "webhook", "kind": "http", "url": gone})),
            200,
        )
        .await;
        let refused = format!("connection refused at 127.0.0.1:{port}");
        let t = ctx
            .ok(
                reqwest::Method::POST,
                &format!("/v1/drains/{id}/test"),
                None,
                200,
            )
            .await;
        assert_eq!(t["error"], json!(refused), "{t}");

        // A cycle already running when the secret changed may deliver one more batch with
        // the old credentials (they apply "at the next cycle"); the record after it meets the
        // dead endpoint.
        ctx.app
            .ingest_ok("workflows", &json!([run_record("acme", "r-1")]))
            .await;
        let mut d = ctx
            .wait_drain(&id, |d| {
                d["status"] == "error" || d["records_delivered"] == 1
            })
            .await;
        if d["status"] != "error" {
            ctx.app
                .ingest_ok("workflows", &json!([run_record("acme", "r-2")]))
                .await;
            d = ctx.wait_drain(&id, |d| d["status"] == "error").await;
        }
        assert_eq!(d["status_reason"], json!(refused), "{d}");

        let mut shown = vec![d.to_string()];
        for path in [
            format!("/v1/drains/{id}/deliveries"),
            "/v1/drains".to_string(),
            "/data-drains?organization_id=acme".to_string(),
        ] {
            let (status, text) = ctx.call(reqwest::Method::GET, &path, None).await;
            assert_eq!(status, 200, "{path}: {text}");
            shown.push(text);
        }
        assert!(shown[1].contains(&refused), "{}", shown[1]);
        assert!(shown[3].contains(&refused), "{}", shown[3]);
        let email = ctx.email_naming(&id).await;
        assert!(email.contains(&refused), "{email}");
        shown.push(email);
        if logging {
            let lines = capture::lines();
            assert!(
                lines.iter().any(|l| l.contains(&id)
                    && l.contains("delivery failed")
                    && l.contains(&refused)),
                "no WARN line for the failed delivery"
            );
            shown.extend(lines);
        }
        for text in &shown {
            assert!(!text.contains(PATH_SECRET), "the URL path leaked: {text}");
            assert!(
                !text.contains("/services/T000"),
                "the URL path leaked: {text}"
            );
        }
    }
);

both_backends!(preflight_errors_say_what_failed, |backend| async move {
    let ctx = Ctx::new(backend, fast).await;

    let port = closed_port();
    let secret = ctx
        .secret(&format!("http://127.0.0.1:{port}{}", webhook_path()))
        .await;
    let (status, text) = ctx
        .call(
            reqwest::Method::POST,
            "/v1/drains",
            Some(Ctx::drain_body(&secret)),
        )
        .await;
    assert_eq!(status, 422, "{text}");
    let msg = serde_json::from_str::<Value>(&text).unwrap()["message"].clone();
    assert_eq!(
        msg,
        json!(format!(
            "preflight check failed: connection refused at 127.0.0.1:{port}"
        ))
    );

    // The reference route says the same.
    let (status, text) = ctx
        .call(
            reqwest::Method::POST,
            "/data-drains",
            Some(
                json!({"organization_id": "acme", "name": "x", "drain_type": "custom_endpoint",
                "data_type": "workflows", "destination_config": {"format": "json"},
                "export_fields": ["run_id"], "secret_id": secret}),
            ),
        )
        .await;
    assert_eq!(status, 422, "{text}");
    assert!(
        text.contains(&format!("connection refused at 127.0.0.1:{port}")),
        "{text}"
    );

    // An HTTP error quotes the start of the receiver's answer.
    let rx = Receiver::start().await;
    rx.set_default(Reply::status(403).body("invalid_token: this webhook was revoked"));
    let secret = ctx.secret(&format!("{}{}", rx.url, webhook_path())).await;
    let (status, text) = ctx
        .call(
            reqwest::Method::POST,
            "/v1/drains",
            Some(Ctx::drain_body(&secret)),
        )
        .await;
    assert_eq!(status, 422, "{text}");
    let msg = serde_json::from_str::<Value>(&text).unwrap()["message"].clone();
    assert_eq!(
        msg,
        json!(format!(
            "preflight check failed: HTTP 403 from {}: invalid_token: this webhook was revoked",
            rx.url
        ))
    );
    let list = ctx.ok(reqwest::Method::GET, "/v1/drains", None, 200).await;
    assert_eq!(list["items"], json!([]), "nothing was created");
});

both_backends!(
    private_secret_urls_are_refused_unless_allowed,
    |backend| async move {
        let ctx = Ctx::new(backend, |_| {}).await;
        for url in [
            "http://127.0.0.1:9000/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/hook",
            "http://localhost:9000/hook",
        ] {
            let (status, text) = ctx
                .call(
                    reqwest::Method::POST,
                    "/v1/secrets",
                    Some(json!({"name": "x", "kind": "http", "url": url})),
                )
                .await;
            assert_eq!(status, 422, "{url}: {text}");
            assert!(
                text.contains("url: ") && text.contains("allow_private_destinations"),
                "{url}: {text}"
            );
        }
        let listed = ctx.ok(reqwest::Method::GET, "/v1/secrets", None, 200).await;
        assert_eq!(listed["items"], json!([]), "nothing was stored");

        // Replacing a stored secret's URL is checked the same way, and keeps the old one.
        let id = ctx.secret("https://93.184.215.14/services/T0/B0/x").await;
        let (status, text) = ctx
            .call(
                reqwest::Method::PUT,
                &format!("/v1/secrets/{id}"),
                Some(json!({"name": "renamed", "kind": "http", "url": "http://10.0.0.8/hook"})),
            )
            .await;
        assert_eq!(status, 422, "{text}");
        assert!(text.contains("allow_private_destinations"), "{text}");
        let s = ctx
            .ok(
                reqwest::Method::GET,
                &format!("/v1/secrets/{id}"),
                None,
                200,
            )
            .await;
        assert_eq!(s["name"], "webhook");

        // With private destinations allowed, the same URLs are stored.
        let open = Ctx::new(backend, fast).await;
        open.secret("http://127.0.0.1:9000/hook").await;
    }
);

both_backends!(
    reasons_stored_before_the_fix_show_no_path,
    |backend| async move {
        let ctx = Ctx::new(backend, fast).await;
        let rx = Receiver::start().await;
        let secret = ctx.secret(&format!("{}{}", rx.url, webhook_path())).await;
        let d = ctx
            .ok(
                reqwest::Method::POST,
                "/v1/drains",
                Some(Ctx::drain_body(&secret)),
                201,
            )
            .await;
        let id = d["id"].as_str().unwrap().to_string();
        // What an older version stored: the full URL in the reason and a delivery error.
        let old = format!(
            "could not reach http://127.0.0.1:9{}: connection refused",
            webhook_path()
        );
        let store = &ctx.app.store;
        let n = store
            .execute(
                "UPDATE drains SET status = 'error', status_reason = ? WHERE id = ?",
                &[old.as_str().into(), id.as_str().into()],
            )
            .await
            .unwrap();
        assert_eq!(n, 1);
        ctx.ok(
            reqwest::Method::POST,
            &format!("/v1/drains/{id}/test"),
            None,
            200,
        )
        .await;
        let n = store
            .execute(
                "UPDATE drain_deliveries SET error = ?, note = ? WHERE drain_id = ?",
                &[old.as_str().into(), old.as_str().into(), id.as_str().into()],
            )
            .await
            .unwrap();
        assert_eq!(n, 1);
        let shown = "could not reach http://127.0.0.1:9: connection refused";
        let d = ctx
            .ok(reqwest::Method::GET, &format!("/v1/drains/{id}"), None, 200)
            .await;
        assert_eq!(d["status_reason"], json!(shown), "{d}");
        for path in [
            format!("/v1/drains/{id}/deliveries"),
            "/data-drains?organization_id=acme".to_string(),
        ] {
            let (status, text) = ctx.call(reqwest::Method::GET, &path, None).await;
            assert_eq!(status, 200, "{path}: {text}");
            assert!(!text.contains(PATH_SECRET), "{path}: {text}");
        }
    }
);
