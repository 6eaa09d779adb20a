//! The Add Drain wizard's backfill start, gzip and stored-secret choices, and a drain's Edit
//! page (issue 16 item 3), over HTTP as a browser without JavaScript uses them, on both
//! backends: what is stored afterwards is read back from the store.

use crate::admin_pages::Browser;
use crate::both_backends;
use crate::http_receiver::{Receiver, Reply};
use chrono::{TimeZone, Utc};
use outflow::drain::dest::DestinationConfig;
use serde_json::{Value, json};

const DE: &str = "/settings/organization/data_export";

fn config(c: &mut outflow::config::Config) {
    c.drains.allow_private_destinations = true;
    c.drains.retry_base_ms = 20;
    c.drains.cycle_backoff_seconds = 0;
    c.drains.attempts_per_cycle = 1;
    c.exports.workers = 0;
}

async fn api(b: &Browser, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
    let (_, key) = b.app.org_key("acme", "drains").await;
    let r = crate::helpers::call(&b.app, method, path, &key, Some(body)).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A stored `http` secret pointing at the receiver.
async fn http_secret(b: &Browser, rx: &Receiver, name: &str) -> String {
    let (status, s) = api(
        b,
        reqwest::Method::POST,
        "/v1/secrets",
        json!({"name": name, "kind": "http", "url": format!("{}/hook", rx.url),
            "authorization": "Bearer stored-token"}),
    )
    .await;
    assert_eq!(status, 201, "{s}");
    s["id"].as_str().unwrap().to_string()
}

async fn drains(b: &Browser) -> Vec<outflow::drain::model::Drain> {
    outflow::drain::repo::list(&b.app.store, "acme")
        .await
        .unwrap()
}

async fn secret_count(b: &Browser) -> usize {
    outflow::drain::secrets::list(&b.app.store, "acme")
        .await
        .unwrap()
        .len()
}

both_backends!(
    the_wizard_backfills_gzips_and_uses_a_stored_secret,
    |backend| async move {
        let b = Browser::signed_in_with(backend, config).await;
        let rx = Receiver::start().await;
        let secret = http_secret(&b, &rx, "receiver").await;

        // The destination step offers the stored secret, never its contents.
        let page = b
            .submit_text(
                &format!("{DE}/drains/new"),
                &[
                    ("step", "destination"),
                    ("data_type", "workflows"),
                    ("field_preset", "minimal"),
                ],
            )
            .await
            .1;
        assert!(page.contains(&format!("value=\"{secret}\"")), "{page}");
        assert!(page.contains("name=\"start_ts\"") && page.contains("name=\"gzip\""));
        assert!(!page.contains("stored-token"));

        let form = |secret_id: &str| {
            vec![
                ("step", "create".to_string()),
                ("data_type", "workflows".to_string()),
                ("field_preset", "minimal".to_string()),
                ("name", "Backfilled runs".to_string()),
                ("dest_type", "http".to_string()),
                ("http_format", "ndjson".to_string()),
                ("gzip", "on".to_string()),
                ("secret_mode", "existing".to_string()),
                ("secret_id", secret_id.to_string()),
                ("start_from", "from".to_string()),
                ("start_ts", "2026-03-01T00:00".to_string()),
            ]
        };
        // No secret chosen: the step says what to do, nothing is stored.
        let pairs = form("");
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, html) = b.submit_text(&format!("{DE}/drains/new"), &refs).await;
        assert_eq!(status, 400);
        assert!(html.contains("Choose a stored secret"), "{html}");
        assert!(drains(&b).await.is_empty());

        let pairs = form(&secret);
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, html) = b.submit_text(&format!("{DE}/drains/new"), &refs).await;
        assert_eq!(status, 303, "{html}");
        let d = drains(&b).await.pop().unwrap();
        assert_eq!(d.secret_id, secret, "the stored secret, not a new one");
        assert_eq!(secret_count(&b).await, 1);
        // Wall-clock time in the organization's zone (Europe/Berlin, CET in March).
        assert_eq!(
            d.start_ts,
            Some(Utc.with_ymd_and_hms(2026, 2, 28, 23, 0, 0).unwrap())
        );
        assert!(
            matches!(d.destination, DestinationConfig::Http { gzip: true, .. }),
            "{:?}",
            d.destination
        );
        // The preflight went to the stored secret's endpoint with its header.
        let probe = rx.requests().pop().unwrap();
        assert_eq!(probe.header("authorization"), "Bearer stored-token");

        // A backfill without its start is not taken for "from now".
        let mut pairs = form(&secret);
        pairs.last_mut().unwrap().1 = " ".into();
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, html) = b.submit_text(&format!("{DE}/drains/new"), &refs).await;
        assert_eq!(status, 400);
        assert!(html.contains("Backfill from: choose"), "{html}");
        assert_eq!(drains(&b).await.len(), 1);

        // A start that is not a time names the accepted forms.
        let mut pairs = form(&secret);
        pairs.last_mut().unwrap().1 = "first of March".into();
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, html) = b.submit_text(&format!("{DE}/drains/new"), &refs).await;
        assert_eq!(status, 400);
        assert!(
            html.contains("start_ts") && html.contains("YYYY-MM-DD"),
            "{html}"
        );
        assert_eq!(drains(&b).await.len(), 1);
    }
);

both_backends!(
    the_edit_page_saves_settings_keeps_hidden_ones_and_preflights_new_credentials,
    |backend| async move {
        let b = Browser::signed_in_with(backend, config).await;
        b.app.put_org("other").await;
        let rx = Receiver::start().await;
        let secret = http_secret(&b, &rx, "receiver").await;
        // Created through the API with settings the page does not show.
        let (status, d) = api(
            &b,
            reqwest::Method::POST,
            "/v1/drains",
            json!({"name": "runs", "data_type": "workflows", "field_preset": "minimal",
                "hide_child_runs": true,
                "destination": {"type": "http", "max_body_bytes": 65536}, "secret_id": secret}),
        )
        .await;
        assert_eq!(status, 201, "{d}");
        let id = d["id"].as_str().unwrap().to_string();
        let edit = format!("{DE}/drains/{id}/edit");

        // The page is prefilled from the drain and linked from its detail page.
        assert!(b.page(&format!("{DE}/drains/{id}")).await.contains(&edit));
        let page = b.page(&edit).await;
        assert!(page.contains("value=\"runs\""), "{page}");
        assert!(page.contains("value=\"keep\" checked"), "{page}");

        let base = |name: &str| {
            vec![
                ("name", name.to_string()),
                ("dest_type", "http".to_string()),
                ("http_format", "json".to_string()),
                ("gzip", "on".to_string()),
                ("field_preset", "custom".to_string()),
                ("fields", "run_id".to_string()),
                ("fields", "run_status".to_string()),
                ("secret_mode", "keep".to_string()),
            ]
        };
        let post = |pairs: Vec<(&'static str, String)>| {
            let b = &b;
            let edit = edit.clone();
            async move {
                let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                b.submit_text(&edit, &refs).await
            }
        };

        let (status, html) = post(base("Runs, renamed")).await;
        assert_eq!(status, 303, "{html}");
        let d = drains(&b).await.pop().unwrap();
        assert_eq!(d.name, "Runs, renamed");
        assert!(d.scope.fields.contains(&"run_status".to_string()));
        assert!(
            d.scope.hide_child_runs,
            "a setting the page does not show is kept"
        );
        assert_eq!(
            d.destination,
            DestinationConfig::Http {
                format: outflow::drain::dest::config::HttpFormat::Json,
                otlp_encoding: Default::default(),
                gzip: true,
                max_body_bytes: 65536,
            }
        );
        assert_eq!(d.secret_id, secret);

        // New credentials whose endpoint refuses the preflight: nothing changes, and the new
        // secret is removed again.
        rx.reply_next(vec![Reply::status(403)]);
        let mut pairs = base("Should not stick");
        pairs.retain(|(k, _)| *k != "secret_mode");
        pairs.push(("secret_mode", "new".into()));
        pairs.push(("url", format!("{}/other", rx.url)));
        pairs.push(("authorization", "Bearer new-token".into()));
        let (status, html) = post(pairs.clone()).await;
        assert_eq!(status, 400);
        assert!(html.contains("preflight"), "{html}");
        assert!(
            !html.contains("new-token"),
            "credentials are not rendered back"
        );
        let d = drains(&b).await.pop().unwrap();
        assert_eq!(
            (d.name.as_str(), d.secret_id.as_str()),
            ("Runs, renamed", secret.as_str())
        );
        assert_eq!(secret_count(&b).await, 1);

        // Accepted the second time: a new secret replaces the old one on the drain.
        let (status, html) = post(pairs).await;
        assert_eq!(status, 303, "{html}");
        let d = drains(&b).await.pop().unwrap();
        assert_ne!(d.secret_id, secret);
        assert_eq!(secret_count(&b).await, 2);
        let probe = rx.requests().pop().unwrap();
        assert_eq!(probe.header("authorization"), "Bearer new-token");

        // A bad field names the problem and stores nothing.
        let mut pairs = base("Runs, renamed");
        pairs.retain(|(k, _)| *k != "fields");
        pairs.push(("fields", "no_such_field".into()));
        let (status, html) = post(pairs).await;
        assert_eq!(status, 400);
        assert!(html.contains("no_such_field"), "{html}");

        // Another organization's drain is not found, to show or to save.
        let (_, key) = b.app.org_key("other", "drains").await;
        let r = b
            .app
            .client
            .post(format!("{}/v1/secrets", b.app.url))
            .bearer_auth(&key)
            .json(&json!({"name": "x", "kind": "http", "url": format!("{}/hook", rx.url)}))
            .send()
            .await
            .unwrap();
        let s: Value = r.json().await.unwrap();
        let r = b
            .app
            .client
            .post(format!("{}/v1/drains", b.app.url))
            .bearer_auth(&key)
            .json(
                &json!({"name": "theirs", "data_type": "workflows", "field_preset": "minimal",
                "destination": {"type": "http"}, "secret_id": s["id"]}),
            )
            .send()
            .await
            .unwrap();
        let theirs: Value = r.json().await.unwrap();
        let theirs = format!("{DE}/drains/{}/edit", theirs["id"].as_str().unwrap());
        assert_eq!(b.get(&theirs).await.status(), 404);
        let (status, _) = b.submit_text(&theirs, &[("name", "mine now")]).await;
        assert_eq!(status, 404);
    }
);
