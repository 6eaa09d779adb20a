//! The audit log viewer (issue 16 item 4): the organization's audit events searched by event
//! type, actor and time, 50 a page; the organization's privacy setting masks actors (and turns
//! the actor search off); **Export CSV** goes through the normal export path.

use crate::both_backends;
use crate::helpers::*;
use crate::roles::session_for;
use outflow::domain::DataType;
use outflow::domain::role::Role;
use serde_json::json;

const PAGE: &str = "/settings/organization/audit_log";

fn rows(html: &str) -> usize {
    html.matches("<tr data-event=").count()
}

async fn seeded(app: &TestApp) {
    app.put_org("acme").await;
    app.put_org("other").await;
    let mut events: Vec<_> = (0..55)
        .map(|i| {
            json!({"org_id": "acme", "event_id": format!("e-{i}"),
                   "timestamp": format!("2026-03-06T10:00:{i:02}Z"),
                   "event_type": "user_sign_in", "user_id": "u1", "source_ip": "10.0.0.1"})
        })
        .collect();
    events.push(
        json!({"org_id": "acme", "event_id": "e-cred", "timestamp": "2026-03-07T10:00:00Z",
                       "event_type": "credential_insertion", "user_id": "u2"}),
    );
    events.push(
        json!({"org_id": "other", "event_id": "o-1", "timestamp": "2026-03-07T10:00:00Z",
                       "event_type": "credential_insertion", "user_id": "mallory"}),
    );
    app.ingest_ok("audit_logs", &json!(events)).await;
    // One of Outflow's own events (actor `cli`).
    app.org_key("acme", "usage_export").await;
    // The tailing read waits for PostgreSQL's visibility; the page reads the table directly.
    let stored = read_all(&app.store, DataType::AuditLogs, "acme").await;
    assert_eq!(stored.len(), 57);
}

both_backends!(the_audit_log_is_searched_and_paged, |backend| async move {
    let app = spawn_app(backend).await;
    seeded(&app).await;
    let who = session_for(&app, "acme", "viewer@acme.example", Role::Viewer).await;
    let page = |q: &'static str| {
        let who = &who;
        async move {
            let r = who.get(&format!("{PAGE}{q}")).await;
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, html) = page("").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("57 events"), "{html}");
    assert_eq!(rows(&html), 50);
    assert!(!html.contains("mallory"), "only this organization's events");
    assert!(
        !html.contains("Export CSV"),
        "a viewer may not request exports"
    );
    assert!(html.contains("page=2"), "a link to the older page");
    let (_, older) = page("?page=2").await;
    assert_eq!(rows(&older), 7);

    let (_, cred) = page("?event_type=credential_insertion").await;
    assert!(
        cred.contains("1 event<") || cred.contains("1 event\n"),
        "{cred}"
    );
    assert_eq!(rows(&cred), 1);
    assert!(cred.contains(">u2<"));
    let (_, by_actor) = page("?actor=U2").await;
    assert_eq!(rows(&by_actor), 1, "actor search ignores case");
    let (_, cli) = page("?actor=cli").await;
    assert_eq!(rows(&cli), 1);
    assert!(cli.contains("outflow_key_created"));
    // Days are read in the organization's zone (Europe/Berlin), `to` inclusive.
    let (_, day) = page("?from=2026-03-07&to=2026-03-07").await;
    assert_eq!(rows(&day), 1);
    assert!(day.contains("credential_insertion"));
    let (_, both) = page("?from=2026-03-06&to=2026-03-07&event_type=user_sign_in&page=2").await;
    assert_eq!(rows(&both), 5, "filters and paging together");
    assert!(
        both.contains("event_type=user_sign_in"),
        "pager links keep the filter"
    );
    let (status, bad) = page("?from=March").await;
    assert_eq!(status, 400);
    assert!(bad.contains("YYYY-MM-DD"), "{bad}");
});

both_backends!(actors_follow_the_privacy_setting, |backend| async move {
    let app = spawn_app(backend).await;
    seeded(&app).await;
    let r = app
        .client
        .put(format!("{}/v1/orgs/acme", app.url))
        .bearer_auth(INGEST_KEY)
        .json(&json!({"name": "Org acme", "privacy": "pseudonymized"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let who = session_for(&app, "acme", "admin@acme.example", Role::Admin).await;
    let html = who
        .get(&format!("{PAGE}?event_type=credential_insertion"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(rows(&html), 1);
    assert!(!html.contains(">u2<") && html.contains(">anon_"), "{html}");
    // Searching the stored id would reveal what the page masks: the actor search is off.
    let html = who
        .get(&format!("{PAGE}?actor=u2"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("57 events"), "{html}");
    assert!(html.contains("Off while user fields are pseudonymized"));
});

both_backends!(
    export_csv_goes_through_the_export_path,
    |backend| async move {
        let app = spawn_app_with(backend, |c| c.exports.workers = 0).await;
        seeded(&app).await;
        let who = session_for(&app, "acme", "ana@acme.example", Role::Analyst).await;
        let html = who
            .get(&format!(
                "{PAGE}?event_type=user_sign_in&from=2026-03-06&to=2026-03-06"
            ))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("Export CSV"));
        let r = who
            .post(
                &format!("{PAGE}/export"),
                &[
                    ("event_type", "user_sign_in"),
                    ("from", "2026-03-06"),
                    ("to", "2026-03-06"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        let location = r.headers()["location"].to_str().unwrap().to_string();
        let id = location
            .strip_prefix("/settings/organization/data_export/exports/")
            .and_then(|rest| rest.split('?').next())
            .unwrap_or_else(|| panic!("{location}"))
            .to_string();
        assert_eq!(who.get(&location).await.status(), 200);
        assert!(app.exports.run_next().await.unwrap().is_some());
        let job = app.exports.get("acme", &id).await.unwrap().unwrap();
        assert_eq!(job.state.as_str(), "COMPLETED", "{:?}", job.error);
        assert_eq!(job.spec.data_type, DataType::AuditLogs);
        assert_eq!(job.requested_by, "admin:ana@acme.example");
        let url = app.exports.download_url(&job).unwrap();
        let csv = app
            .client
            .get(&url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(csv.lines().count(), 1 + 55, "{csv}");
        assert!(!csv.contains("credential_insertion"));

        // A bad event type is named, as the API names it.
        let r = who
            .post(
                &format!("{PAGE}/export"),
                &[("event_type", "no_such_event")],
            )
            .await;
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("no_such_event"));
        // A viewer may not.
        let viewer = session_for(&app, "acme", "vi@acme.example", Role::Viewer).await;
        let r = viewer.post(&format!("{PAGE}/export"), &[]).await;
        assert_eq!(r.status(), 403);
    }
);
